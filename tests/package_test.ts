/**
 * The published package, for real: the file set `deno publish` would upload,
 * served over HTTP on 127.0.0.1 and imported from a fresh process with a
 * fresh DENO_DIR, as a JSR user gets it (lib/ffi.ts's remote path: download,
 * SHA-256 check against native/manifest.ts, cache, dlopen).  And the
 * published libraries' portability: no glibc symbol version newer than the
 * target each was built for, nothing exported but `ioq_*`.
 *
 * The user's program runs on this Deno, or on the one `IOQ_TEST_DENO` names
 * (`deno task test:aarch64` names the aarch64 Deno, run under qemu): the
 * library it downloads is the one for that Deno's architecture.
 *
 * Needs `deno task build` first (`deno task test` runs it).
 *
 * @module
 */

import { assert, assertEquals, assertMatch, assertNotEquals, fail } from "@std/assert";
import { ffi, type Manifest, type ManifestLibrary } from "../lib/ffi.ts";

const ROOT = new URL("..", import.meta.url);
const MANIFEST = new URL("native/manifest.ts", ROOT);

/** The architectures the package carries a library for. */
const PUBLISHED_ARCHES = ["x86_64", "aarch64"];

/** The Deno that runs the user's program. */
const USER_DENO = Deno.env.get("IOQ_TEST_DENO") || Deno.execPath();

/**
 * The steps of the download test to run, when `IOQ_TEST_STEPS` (a regular
 * expression) picks some: the others are ignored.  `deno task test:aarch64`
 * picks the download path's, which take seconds each under emulation.
 */
const STEPS = Deno.env.get("IOQ_TEST_STEPS");

/** Runs a command; status and output as text. */
async function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(cmd, {
    args,
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

/** Lowercase hex SHA-256. */
async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Loads native/manifest.ts, or fails saying how to make it. */
async function manifest(): Promise<Manifest> {
  try {
    await Deno.stat(MANIFEST);
  } catch {
    fail("native/manifest.ts is missing: run `deno task build` first");
  }
  return (await import(MANIFEST.href)).MANIFEST as Manifest;
}

/** The architecture of the Deno that runs the user's program. */
async function userArch(): Promise<string> {
  if (USER_DENO === Deno.execPath()) return Deno.build.arch;
  const { code, stdout, stderr } = await run(USER_DENO, ["eval", "console.log(Deno.build.arch)"]);
  assertEquals(code, 0, `${USER_DENO} does not run:\n${stderr}`);
  return stdout.trim();
}

/** The manifest's entry for an architecture, checked against its file. */
async function libraryFor(m: Manifest, arch: string): Promise<ManifestLibrary> {
  const lib = m.libraries.find((l) => l.os === "linux" && l.arch === arch);
  assert(lib, `native/manifest.ts has no library for ${arch}: run \`deno task build\``);
  assertEquals(lib.file, `lib/${arch}/libioq.so`);
  const bytes = await Deno.readFile(new URL(`native/${lib.file}`, ROOT));
  assertEquals(bytes.length, lib.size, "native/manifest.ts is stale: run `deno task build`");
  assertEquals(
    await sha256(bytes),
    lib.sha256,
    "native/manifest.ts is stale: run `deno task build`",
  );
  return lib;
}

/** The files `deno publish` would upload, relative to the repository root. */
async function publishedFiles(): Promise<string[]> {
  const { code, stdout, stderr } = await run(
    Deno.execPath(),
    ["publish", "--dry-run", "--allow-dirty"],
    { cwd: ROOT.pathname },
  );
  assertEquals(code, 0, `deno publish --dry-run failed:\n${stdout}\n${stderr}`);
  const prefix = ROOT.href;
  const files = [...`${stdout}\n${stderr}`.matchAll(/^\s+(file:\/\/\S+) \(/gm)]
    .map((m) => m[1])
    .filter((href) => href.startsWith(prefix))
    .map((href) => decodeURIComponent(href.slice(prefix.length)));
  assert(files.length > 0, `no file list in deno publish --dry-run's output:\n${stderr}`);
  return files;
}

/** Copies the published files into `dir`. */
async function copyPackage(files: string[], dir: string): Promise<void> {
  for (const file of files) {
    const to = `${dir}/${file}`;
    await Deno.mkdir(to.slice(0, to.lastIndexOf("/")), { recursive: true });
    await Deno.copyFile(new URL(file, ROOT), to);
  }
}

/** A static file server on 127.0.0.1 that logs the paths asked for. */
function serve(dir: string) {
  const requests: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const path = decodeURIComponent(new URL(request.url).pathname);
      requests.push(path);
      if (path.includes("..")) return new Response("bad path", { status: 400 });
      try {
        const body = await Deno.readFile(`${dir}${path}`);
        const type = path.endsWith(".ts") ? "application/typescript" : "application/octet-stream";
        return new Response(body, { headers: { "content-type": type } });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    host: `127.0.0.1:${server.addr.port}`,
    requests,
    close: () => server.shutdown(),
  };
}

/**
 * The user's program: imports the package's mod.ts from a URL, walks a tree,
 * opens a queue; prints JSON with the sorted paths and the backend, or the
 * error; and whether libioq.so is mapped into the process (when
 * /proc/self/maps may be read, that is with --allow-all).
 */
const PROBE = `
const [url, tree] = Deno.args;
const out = {};
try {
  const mod = await import(url);
  const paths = [];
  for await (const entry of mod.walk(tree)) paths.push(entry.path);
  out.paths = paths.sort();
  await using q = new mod.IoQueue();
  out.backend = q.backend;
} catch (error) {
  out.error = String(error?.message ?? error);
}
try {
  out.mapped = (await Deno.readTextFile("/proc/self/maps")).includes("libioq.so");
} catch {
  out.mapped = null;
}
console.log(JSON.stringify(out));
`;

/** What the probe prints. */
interface ProbeResult {
  paths?: string[];
  backend?: string;
  error?: string;
  mapped?: boolean | null;
}

/** Every file and directory in a folder, recursively, relative to it. */
async function listAll(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function visit(rel: string): Promise<void> {
    for await (const entry of Deno.readDir(`${dir}${rel}`)) {
      out.push(`${rel}/${entry.name}`);
      if (entry.isDirectory) await visit(`${rel}/${entry.name}`);
    }
  }
  try {
    await visit("");
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return out.sort();
}

Deno.test("the published package loads over HTTP with a fresh DENO_DIR", async (t) => {
  const manifested = await manifest();
  const arch = await userArch();
  const m = { version: manifested.version, ...await libraryFor(manifested, arch) };
  const libraryPath = new URL(`native/${m.file}`, ROOT).pathname;
  const lib = await Deno.readFile(libraryPath);
  const { version } = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  assertEquals(m.version, version, "native/manifest.ts is stale: run `deno task build`");

  const tmp = await Deno.makeTempDir({ prefix: "ioq-package-" });
  const servers: { close(): Promise<void> }[] = [];
  try {
    // The package: exactly what deno publish would upload
    const files = await publishedFiles();
    for (const needed of ["mod.ts", "cli.ts", "lib/ffi.ts", "LICENSE", "README.md"]) {
      assert(files.includes(needed), `the package lacks ${needed}`);
    }
    for (const published of PUBLISHED_ARCHES) {
      const file = `native/lib/${published}/libioq.so`;
      assert(files.includes(file), `the package lacks the prebuilt library ${file}`);
      await libraryFor(manifested, published);
    }
    assert(files.includes("native/manifest.ts"), "the package lacks native/manifest.ts");
    for (const file of files) {
      // Of bench/, only the README's chart
      if (file === "bench/results/latest.svg") continue;
      assert(!/^(tests|bench|\.ci|node_modules|\.zig-cache|zig-out)\//.test(file), file);
    }
    const pkg = `${tmp}/pkg`;
    await copyPackage(files, pkg);
    // A rebuild by someone else between the check above and the copy would show here
    assertEquals(await sha256(await Deno.readFile(`${pkg}/native/${m.file}`)), m.sha256);

    // A small tree to walk
    const tree = `${tmp}/tree`;
    await Deno.mkdir(`${tree}/a/b`, { recursive: true });
    await Deno.writeTextFile(`${tree}/a/b/f.txt`, "f");
    await Deno.writeTextFile(`${tree}/x.txt`, "x");
    await Deno.symlink("a", `${tree}/link`);
    const want = ["", "/a", "/a/b", "/a/b/f.txt", "/link", "/x.txt"].map((p) => tree + p).sort();

    await Deno.writeTextFile(`${tmp}/probe.ts`, PROBE);
    const step = (name: string, fn: () => Promise<void>) =>
      t.step({ name, fn, ignore: STEPS !== undefined && !new RegExp(STEPS).test(name) });
    const cached = (denoDir: string) => `${denoDir}/ioq/${m.version}/${m.sha256}`;

    /** Runs the probe on `url`/mod.ts in a fresh process, with these flags and DENO_DIR. */
    const probe = async (
      url: string,
      denoDir: string,
      flags: string[],
      env: Record<string, string> = {},
    ): Promise<ProbeResult> => {
      const { code, stdout, stderr } = await run(
        USER_DENO,
        ["run", "--no-config", "--no-lock", ...flags, `${tmp}/probe.ts`, `${url}/mod.ts`, tree],
        { cwd: tmp, env: { DENO_DIR: denoDir, ...env } },
      );
      assertEquals(code, 0, `the probe failed:\n${stdout}\n${stderr}`);
      return JSON.parse(stdout.trim().split("\n").at(-1)!);
    };

    await step("a corrupted library: a clear error, nothing cached nor loaded", async () => {
      const bad = `${tmp}/bad`;
      await copyPackage(files, bad);
      const so = await Deno.readFile(`${bad}/native/${m.file}`);
      so[so.length >> 1] ^= 0xff;
      await Deno.writeFile(`${bad}/native/${m.file}`, so);
      const server = serve(bad);
      servers.push(server);
      const denoDir = `${tmp}/deno-bad`;
      // Every permission, so that nothing but the hash check stands in the way
      const got = await probe(server.url, denoDir, ["--allow-all"]);
      assertMatch(got.error ?? "", /SHA-256 mismatch/, JSON.stringify(got));
      assertMatch(got.error!, /neither cached nor loaded/);
      assertMatch(got.error!, /IOQ_LIBRARY/);
      assertEquals(got.mapped, false, "libioq.so was mapped into the process");
      assertEquals(await listAll(`${denoDir}/ioq`), [], "something was cached");
      assertEquals(server.requests.filter((p) => p.endsWith("/libioq.so")).length, 1);
      await server.close();
    });

    await step("a package for other architectures, or without its manifest", async () => {
      const other = `${tmp}/other`;
      await copyPackage(files, other);
      const others = manifested.libraries.filter((l) => l.arch !== arch);
      await Deno.writeTextFile(
        `${other}/native/manifest.ts`,
        `export const MANIFEST = ${JSON.stringify({ ...manifested, libraries: others })};\n`,
      );
      const carried = others.map((l) => `linux ${l.arch}`).join(" and ");
      const none = `${tmp}/none`;
      await copyPackage(files.filter((f) => !f.startsWith("native/")), none);
      for (
        const [dir, error] of [[other, `for ${carried} only, not for linux ${arch}`], [
          none,
          "does not carry its prebuilt library",
        ]]
      ) {
        const server = serve(dir);
        servers.push(server);
        const got = await probe(server.url, `${tmp}/deno-other`, ["--allow-all"]);
        assert(got.error?.includes(error), JSON.stringify(got));
        assertMatch(got.error!, /set IOQ_LIBRARY/);
        assert(!server.requests.some((p) => p.endsWith("/libioq.so")));
        await server.close();
      }
    });

    const server = serve(pkg);
    servers.push(server);
    const flags = [
      `--allow-import=${server.host}`,
      `--allow-net=${server.host}`,
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-ffi",
    ];
    const denoDir = `${tmp}/deno`;

    await step("without --allow-net: an error that names it", async () => {
      const dir = `${tmp}/deno-nonet`;
      const got = await probe(server.url, dir, flags.filter((f) => !f.startsWith("--allow-net")));
      assertMatch(got.error ?? "", new RegExp(`--allow-net=${server.host}`), JSON.stringify(got));
      assertEquals(await listAll(`${dir}/ioq`), []);
    });

    await step("without --allow-write: an error that names it", async () => {
      const dir = `${tmp}/deno-nowrite`;
      const got = await probe(server.url, dir, flags.filter((f) => f !== "--allow-write"));
      assertMatch(got.error ?? "", /--allow-write=/, JSON.stringify(got));
      assertEquals(await listAll(`${dir}/ioq`), []);
    });

    await step("IOQ_LIBRARY wins: no download, no net permission needed", async () => {
      const dir = `${tmp}/deno-env`;
      const before = server.requests.length;
      const got = await probe(
        server.url,
        dir,
        flags.filter((f) => !f.startsWith("--allow-net")),
        { IOQ_LIBRARY: libraryPath },
      );
      assertEquals(got.paths, want, JSON.stringify(got));
      assert(!server.requests.slice(before).some((p) => p.endsWith("/libioq.so")));
      assertEquals(await listAll(`${dir}/ioq`), []);
    });

    await step("first run: downloads, checks, caches and walks", async () => {
      const before = server.requests.length;
      const got = await probe(server.url, denoDir, flags);
      assertEquals(got.paths, want, JSON.stringify(got));
      assert(got.backend === "io_uring" || got.backend === "threads", got.backend);
      const fetched = server.requests.slice(before).filter((p) => p.endsWith("/libioq.so"));
      assertEquals(fetched, [`/native/${m.file}`]);
      // One file under its version and hash, no temporary left behind
      assertEquals(await listAll(`${denoDir}/ioq`), [
        `/${m.version}`,
        `/${m.version}/${m.sha256}`,
        `/${m.version}/${m.sha256}/libioq.so`,
      ]);
      assertEquals(await Deno.readFile(`${cached(denoDir)}/libioq.so`), lib);
    });

    await step("the CLI over HTTP, from the cache, with the base permissions", async () => {
      const before = server.requests.length;
      const { code, stdout, stderr } = await run(
        USER_DENO,
        [
          "run",
          "--no-config",
          "--no-lock",
          "--allow-ffi",
          "--allow-read",
          "--allow-env",
          `${server.url}/cli.ts`,
          tree,
          "-type",
          "f",
        ],
        { cwd: tmp, env: { DENO_DIR: denoDir } },
      );
      assertEquals(code, 0, stderr);
      assertEquals(stdout.trim().split("\n").sort(), [`${tree}/a/b/f.txt`, `${tree}/x.txt`]);
      assert(!server.requests.slice(before).some((p) => p.endsWith("/libioq.so")));
    });

    await step("second run with the server gone: the cache, no fetch", async () => {
      const { mtime, ino } = await Deno.stat(`${cached(denoDir)}/libioq.so`);
      await server.close();
      const got = await probe(server.url, denoDir, flags);
      assertEquals(got.paths, want, JSON.stringify(got));
      const after = await Deno.stat(`${cached(denoDir)}/libioq.so`);
      assertEquals(after.ino, ino, "the cached library was replaced");
      assertEquals(after.mtime, mtime, "the cached library was rewritten");
    });

    await step("no network, nothing cached: an error that says so", async () => {
      // Deno's module cache from the first run, without ioq's library cache
      const dir = `${tmp}/deno-offline`;
      await Deno.mkdir(dir);
      for await (const entry of Deno.readDir(denoDir)) {
        if (entry.name === "ioq") continue;
        const copy = await run("cp", ["-a", `${denoDir}/${entry.name}`, dir]);
        assertEquals(copy.code, 0, copy.stderr);
      }
      const got = await probe(server.url, dir, flags);
      assertMatch(
        got.error ?? "",
        /downloading its native library .* failed/,
        JSON.stringify(got),
      );
      assertMatch(got.error!, /check the network connection/);
      assertEquals(await listAll(`${dir}/ioq`), []);
    });

    await step("a damaged cache is replaced by a good download, renamed over it", async () => {
      const path = `${cached(denoDir)}/libioq.so`;
      await Deno.writeTextFile(path, "garbage");
      const { ino } = await Deno.stat(path);
      const again = serve(pkg);
      servers.push(again);
      const got = await probe(
        again.url,
        denoDir,
        flags.map((f) => f.replace(server.host, again.host)),
      );
      assertEquals(got.paths, want, JSON.stringify(got));
      assertEquals(again.requests.filter((p) => p.endsWith("/libioq.so")), [
        `/native/${m.file}`,
      ]);
      assertEquals(await Deno.readFile(path), lib);
      assertNotEquals((await Deno.stat(path)).ino, ino, "the damaged file was written in place");
      assertEquals(await listAll(cached(denoDir)), ["/libioq.so"]);
      await again.close();
    });
  } finally {
    for (const server of servers) await server.close().catch(() => {});
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("the published libraries need no glibc newer than their target", async (t) => {
  const m = await manifest();
  assertEquals(m.libraries.map((l) => l.arch).sort(), [...PUBLISHED_ARCHES].sort());
  for (const lib of m.libraries) {
    await t.step(lib.target, async () => {
      const path = new URL(`native/${lib.file}`, ROOT).pathname;
      const target = /-gnu\.(\d+)\.(\d+)$/.exec(lib.target);
      assert(target, `the library was not built for a fixed glibc version: ${lib.target}`);
      const max = [Number(target[1]), Number(target[2])];
      assert(max[0] === 2 && max[1] <= 17, `built for glibc ${max.join(".")}, not 2.17`);

      const out = await run("readelf", [
        "--dyn-syms",
        "--dynamic",
        "--version-info",
        "--wide",
        path,
      ]).catch(() => fail("readelf is not installed (apt-get install binutils)"));
      assertEquals(out.code, 0, out.stderr);
      const versions = [...out.stdout.matchAll(/GLIBC_(\d+)\.(\d+)(?:\.(\d+))?/g)];
      assert(versions.length > 0, "no GLIBC_ symbol version found");
      const newer = versions
        .filter((v) => Number(v[1]) > max[0] || (Number(v[1]) === max[0] && Number(v[2]) > max[1]))
        .map((v) => v[0]);
      assertEquals([...new Set(newer)], [], `symbols need glibc newer than ${max.join(".")}`);

      // Nothing but the C library: liburing is linked in, statically
      const needed = [...out.stdout.matchAll(/Shared library: \[([^\]]+)\]/g)].map((n) => n[1]);
      assert(needed.length > 0, "no NEEDED entries found");
      for (const name of needed) {
        assertMatch(name, /^(libc|libpthread|libdl|librt|libm|ld-linux[\w-]*)\.so/, name);
      }

      // Nothing exported but the C API (liburing's symbols stay private):
      // "Num: Value Size Type Bind Vis Ndx Name" rows, defined and global
      const exported = [...out.stdout.matchAll(
        /^\s*\d+: [0-9a-f]+\s+\d+ \w+\s+(?:GLOBAL|WEAK)\s+\w+\s+(\w+) (\S+)/gm,
      )].filter((row) => row[1] !== "UND").map((row) => row[2]);
      assert(exported.includes("ioq_create"), `ioq_create is not exported: ${exported}`);
      assertEquals(exported.filter((name) => !name.startsWith("ioq_")), []);
    });
  }

  // io_uring is in when liburing-dev is installed (`deno task publish` builds
  // with -During=on to make sure).  This machine's library is checked here,
  // aarch64's under emulation (`deno task test:aarch64`).
  if (await Deno.stat("/usr/include/liburing.h").then(() => true, () => false)) {
    assert(ffi().ioq_features() & 1, "liburing-dev is installed but not in the library");
  }
});
