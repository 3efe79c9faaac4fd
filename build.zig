//! Builds libioq.so (and, on request, the C tests and benchmarks).
//!
//!   zig build                       the shared library -> <prefix>/lib/libioq.so
//!                                   (build.ts runs it once per published
//!                                   target, -Dtarget=<arch>-linux-gnu.2.17,
//!                                   into native/lib/<arch>/)
//!   zig build test-c -Dsanitize=thread
//!                                   build and run the C tests under a sanitizer,
//!                                   and (unless -Dgcc-asan=false) again built
//!                                   by gcc under ASan+UBSan: a second lane, as
//!                                   zig's clang has no ASan runtime (skipped
//!                                   with a note without gcc, unless
//!                                   IOQ_STRICT_TESTS=1 or -Dgcc-asan=true)
//!   zig build bench-c               build and run the ring benchmark
//!   zig build bench-fnm             build and run the glob matcher's benchmark
//!   zig build bench-walk            build bench/floor.c, engine.c, rusage.c
//!                                   into <prefix>/bin (deno task bench runs them)
//!
//! liburing comes from the system (Debian's liburing-dev), linked statically:
//! /usr/lib/<arch>-linux-gnu/liburing.a for the target's architecture, and the
//! headers of /usr/include (the same for every architecture).  For aarch64 on
//! an x86_64 machine that is Debian's multiarch package:
//!
//!   dpkg --add-architecture arm64 && apt-get update && apt-get install liburing-dev:arm64
//!
//! Chosen over building liburing with zig from `apt-get source liburing` or
//! from sources on npm: it is the same Debian source package and version as
//! the x86_64 archive (2.3-3 on Debian 12), built by Debian's own aarch64
//! toolchain, installed beside the x86_64 one (Multi-Arch: same), with no
//! deb-src entry to add and no configure step to redo in build.zig (npm has
//! no liburing sources).  The same install brings the aarch64 C library that
//! qemu runs the aarch64 Deno on (tests/aarch64/).  Its archive needs only
//! calloc, free, memset and the stack protector's two symbols, all in glibc
//! 2.17 for aarch64 (tests/package_test.ts checks the linked library).

const std = @import("std");
const builtin = @import("builtin");

/// Where liburing may be found.
const UringMode = enum { auto, on, off };

/// Sanitizers for the C tests.
const Sanitizer = enum { none, thread, address };

/// The library's C sources.
const lib_sources = [_][]const u8{
    "canon.c",
    "chan.c",
    "dir.c",
    "dirtab.c",
    "exec.c",
    "fdlimit.c",
    "fnm.c",
    "ign.c",
    "inject.c",
    "ioq.c",
    "layout.c",
    "stat.c",
    "utf8.c",
    "walk.c",
    "wfd.c",
    "wglob.c",
    "wign.c",
    "wmatch.c",
    "wnode.c",
    "worker.c",
    "wout.c",
    "wread.c",
    "wring.c",
    "wsched.c",
};

/// Sources compiled only with liburing.
const uring_sources = [_][]const u8{"uring.c"};

/// The C test programs in tests/c/, each run by `zig build test-c`.
const c_tests = [_][]const u8{ "canon_test", "chan_stress", "fnm_test", "ign_test", "ioq_stress", "walk_stress", "walk_race" };

/// Warnings every C file is held to.
const warn_flags = [_][]const u8{ "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter" };

/// The liburing paths for the target, if both header and archive exist.
const Uring = struct {
    include: []const u8,
    archive: []const u8,
};

fn findUring(b: *std.Build, target: std.Build.ResolvedTarget) ?Uring {
    const archive = uringArchive(b, target);
    const header = "/usr/include/liburing.h";
    std.fs.accessAbsolute(header, .{}) catch return null;
    std.fs.accessAbsolute(archive, .{}) catch return null;
    return .{ .include = "/usr/include", .archive = archive };
}

/// Where Debian's liburing-dev for the target's architecture puts its archive.
fn uringArchive(b: *std.Build, target: std.Build.ResolvedTarget) []const u8 {
    return b.fmt("/usr/lib/{s}-linux-gnu/liburing.a", .{@tagName(target.result.cpu.arch)});
}

/// How Debian installs liburing for the target's architecture.
fn uringInstall(target: std.Build.ResolvedTarget) []const u8 {
    if (target.result.cpu.arch == builtin.cpu.arch) return "apt-get install liburing-dev";
    return switch (target.result.cpu.arch) {
        .aarch64 => "dpkg --add-architecture arm64 && apt-get update && apt-get install liburing-dev:arm64",
        .x86_64 => "dpkg --add-architecture amd64 && apt-get update && apt-get install liburing-dev:amd64",
        else => "Debian's liburing-dev for the target's architecture",
    };
}

/// Add the library's sources and liburing to a compile step.
fn addIoq(b: *std.Build, step: *std.Build.Step.Compile, uring: ?Uring, extra_flags: []const []const u8) void {
    var flags = std.ArrayList([]const u8).init(b.allocator);
    flags.appendSlice(&warn_flags) catch @panic("OOM");
    flags.appendSlice(extra_flags) catch @panic("OOM");
    flags.append(if (uring != null) "-DIOQ_WITH_URING=1" else "-DIOQ_WITH_URING=0") catch @panic("OOM");

    step.addCSourceFiles(.{ .root = b.path("csrc"), .files = &lib_sources, .flags = flags.items });
    if (uring) |u| {
        step.addCSourceFiles(.{ .root = b.path("csrc"), .files = &uring_sources, .flags = flags.items });
        step.addSystemIncludePath(.{ .cwd_relative = u.include });
        step.addObjectFile(.{ .cwd_relative = u.archive });
    }
    step.addIncludePath(b.path("csrc"));
    step.linkLibC();
}

/// Make every header in `dir` an input of a command, so editing one reruns it.
fn addHeaderInputs(b: *std.Build, run: *std.Build.Step.Run, dir: []const u8) void {
    var d = b.build_root.handle.openDir(dir, .{ .iterate = true }) catch |err| {
        std.debug.print("ioq: cannot list {s}: {s}\n", .{ dir, @errorName(err) });
        std.process.exit(1);
    };
    defer d.close();
    var it = d.iterate();
    while (it.next() catch null) |entry| {
        if (entry.kind == .file and std.mem.endsWith(u8, entry.name, ".h")) {
            run.addFileInput(b.path(b.fmt("{s}/{s}", .{ dir, entry.name })));
        }
    }
}

/// Build one C test with gcc under ASan+UBSan and run it as part of `step`.
fn addGccAsanTest(b: *std.Build, step: *std.Build.Step, gcc: []const u8, name: []const u8, uring: ?Uring) void {
    const cc = b.addSystemCommand(&.{gcc});
    cc.setName(b.fmt("gcc -fsanitize=address,undefined {s}", .{name}));
    cc.addArgs(&warn_flags);
    cc.addArgs(&.{ "-g", "-O1", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer" });
    cc.addArg(if (uring != null) "-DIOQ_WITH_URING=1" else "-DIOQ_WITH_URING=0");
    cc.addPrefixedDirectoryArg("-I", b.path("csrc"));
    cc.addFileArg(b.path(b.fmt("tests/c/{s}.c", .{name})));
    for (lib_sources) |src| cc.addFileArg(b.path(b.fmt("csrc/{s}", .{src})));
    if (uring) |u| {
        for (uring_sources) |src| cc.addFileArg(b.path(b.fmt("csrc/{s}", .{src})));
        cc.addArg(b.fmt("-I{s}", .{u.include}));
        cc.addArg(u.archive);
    }
    cc.addArg("-lpthread");
    // The headers it includes count for the cache too (gcc is a plain command here)
    addHeaderInputs(b, cc, "csrc");
    addHeaderInputs(b, cc, "tests/c");
    cc.addArg("-o");
    const exe = cc.addOutputFileArg(b.fmt("{s}-asan", .{name}));

    const run = std.Build.Step.Run.create(b, b.fmt("run {s} (gcc ASan+UBSan)", .{name}));
    run.addFileArg(exe);
    // Leaks are errors too; UBSan stops at the first report
    run.setEnvironmentVariable("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:halt_on_error=1");
    run.setEnvironmentVariable("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1");
    run.has_side_effects = true;
    step.dependOn(&run.step);
}

pub fn build(b: *std.Build) void {
    const target = b.standardTargetOptions(.{});
    const optimize = b.standardOptimizeOption(.{});
    const uring_mode = b.option(UringMode, "uring", "Use liburing: auto (if installed), on, off (default: auto)") orelse .auto;
    const sanitize = b.option(Sanitizer, "sanitize", "Sanitizer for test-c: none, thread, address (default: none)") orelse .none;
    // IOQ_STRICT_TESTS=1 (CI): no lane may be skipped, so the gcc lane is required
    const strict = if (b.graph.env_map.get("IOQ_STRICT_TESTS")) |v| std.mem.eql(u8, v, "1") else false;
    const gcc_asan: ?bool = b.option(bool, "gcc-asan", "test-c also builds the C tests with gcc under ASan+UBSan and runs them (default: when gcc is on PATH; always with IOQ_STRICT_TESTS=1)") orelse if (strict) true else null;

    const uring: ?Uring = switch (uring_mode) {
        .off => null,
        .auto, .on => findUring(b, target),
    };
    if (uring == null) {
        if (uring_mode == .on) {
            std.debug.print("ioq: -During=on but /usr/include/liburing.h or {s} was not found ({s})\n", .{ uringArchive(b, target), uringInstall(target) });
            std.process.exit(1);
        }
        if (uring_mode == .auto) {
            std.debug.print("ioq: {s} not found: building the thread-pool backend only (for io_uring: {s})\n", .{ uringArchive(b, target), uringInstall(target) });
        }
    }

    // The shared library
    const lib = b.addSharedLibrary(.{
        .name = "ioq",
        .target = target,
        .optimize = optimize,
        .link_libc = true,
        .pic = true,
        .strip = optimize != .Debug,
    });
    addIoq(b, lib, uring, &.{});
    lib.linkSystemLibrary("pthread");
    // dladdr/dlopen (ioq_pin_library): in libdl before glibc 2.34
    lib.linkSystemLibrary("dl");
    // Export ioq_* only, so liburing's symbols stay private
    lib.setVersionScript(b.path("csrc/exports.map"));
    b.installArtifact(lib);

    // C tests, optionally under a sanitizer
    const test_step = b.step("test-c", "Build and run the C tests");
    for (c_tests) |name| {
        const exe = b.addExecutable(.{
            .name = name,
            .target = target,
            .optimize = if (sanitize == .none) optimize else .Debug,
            .link_libc = true,
            .sanitize_thread = sanitize == .thread,
        });
        const san_flags: []const []const u8 = switch (sanitize) {
            .none => &.{},
            .thread => &.{"-fsanitize=thread"},
            .address => &.{ "-fsanitize=address,undefined", "-fno-omit-frame-pointer" },
        };
        addIoq(b, exe, uring, san_flags);
        exe.addCSourceFile(.{ .file = b.path(b.fmt("tests/c/{s}.c", .{name})), .flags = &warn_flags });
        exe.linkSystemLibrary("pthread");
        const run = b.addRunArtifact(exe);
        run.has_side_effects = true;
        test_step.dependOn(&run.step);
    }

    // The same C tests built by gcc under ASan+UBSan (any error is fatal)
    const gcc: ?[]const u8 = if (gcc_asan == false) null else b.findProgram(&.{"gcc"}, &.{}) catch null;
    if (gcc) |cc| {
        for (c_tests) |name| addGccAsanTest(b, test_step, cc, name, uring);
    } else if (gcc_asan == true) {
        std.debug.print("ioq: the gcc ASan+UBSan lane of test-c is required (-Dgcc-asan=true or IOQ_STRICT_TESTS=1) but gcc is not on PATH\n", .{});
        std.process.exit(1);
    } else if (gcc_asan == null) {
        // Say so in the test output, not in every build
        const note = b.addSystemCommand(&.{ "echo", "NOTE: gcc is not on PATH: the ASan+UBSan lane of test-c is skipped" });
        note.has_side_effects = true;
        test_step.dependOn(&note.step);
    }

    // The ring benchmark, once per claiming strategy
    const bench_step = b.step("bench-c", "Build and run bench/chan.c (line and stride claims)");
    for ([_][]const u8{ "0", "1" }) |line| {
        const exe = b.addExecutable(.{
            .name = b.fmt("chan-bench-line{s}", .{line}),
            .target = target,
            .optimize = .ReleaseFast,
            .link_libc = true,
        });
        const flags = [_][]const u8{ "-std=gnu11", "-Wall", "-Wextra", "-Werror", b.fmt("-DCHAN_LINE={s}", .{line}) };
        exe.addCSourceFiles(.{ .root = b.path("csrc"), .files = &.{"chan.c"}, .flags = &flags });
        exe.addCSourceFile(.{ .file = b.path("bench/chan.c"), .flags = &flags });
        exe.addIncludePath(b.path("csrc"));
        exe.linkSystemLibrary("pthread");
        const run = b.addRunArtifact(exe);
        run.has_side_effects = true;
        if (b.args) |args| run.addArgs(args);
        bench_step.dependOn(&run.step);
    }

    // The glob matcher's benchmark
    const fnm_step = b.step("bench-fnm", "Build and run bench/fnm.c (compiling and matching globs)");
    const fnm_exe = b.addExecutable(.{
        .name = "fnm-bench",
        .target = target,
        .optimize = .ReleaseFast,
        .link_libc = true,
    });
    fnm_exe.addCSourceFiles(.{ .root = b.path("csrc"), .files = &.{"fnm.c"}, .flags = &warn_flags });
    fnm_exe.addCSourceFile(.{ .file = b.path("bench/fnm.c"), .flags = &warn_flags });
    fnm_exe.addIncludePath(b.path("csrc"));
    const fnm_run = b.addRunArtifact(fnm_exe);
    fnm_run.has_side_effects = true;
    if (b.args) |args| fnm_run.addArgs(args);
    fnm_step.dependOn(&fnm_run.step);

    // The walk benchmark's C programs: the kernel floor, the engine in C, a
    // rusage wrapper; installed, not run (bench/run.ts runs them)
    const walk_step = b.step("bench-walk", "Build bench/floor.c, bench/engine.c and bench/rusage.c into <prefix>/bin");
    for ([_][]const u8{ "floor", "engine", "rusage" }) |name| {
        const exe = b.addExecutable(.{
            .name = b.fmt("ioq-bench-{s}", .{name}),
            .target = target,
            .optimize = .ReleaseFast,
            .link_libc = true,
        });
        if (std.mem.eql(u8, name, "engine")) addIoq(b, exe, uring, &.{});
        exe.addCSourceFile(.{ .file = b.path(b.fmt("bench/{s}.c", .{name})), .flags = &warn_flags });
        exe.linkSystemLibrary("pthread");
        walk_step.dependOn(&b.addInstallArtifact(exe, .{}).step);
    }
}
