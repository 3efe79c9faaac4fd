/**
 * git, as the tests that compare ignore rules with it run it: with its
 * environment cleared (HOME and XDG_CONFIG_HOME in a temporary directory of
 * this process, GIT_CONFIG_NOSYSTEM=1, LC_ALL=C), so that no user or system
 * configuration (core.excludesFile) takes part.
 *
 * @module
 */

/** The temporary HOME these tests give git (and fd), removed when the process ends. */
export const GIT_HOME: string = Deno.makeTempDirSync({ prefix: "ioq-git-home-" });
globalThis.addEventListener("unload", () => Deno.removeSync(GIT_HOME, { recursive: true }));

/**
 * Runs git in `cwd` with a cleared environment.
 *
 * @param options.input Written to its standard input.
 * @param options.ok Exit codes besides 0 that are not failures (`check-ignore` exits with 1 when
 *   nothing is ignored).
 * @returns Its standard output.
 * @throws {Error} When it fails, with its standard error.
 */
export async function git(
  cwd: string,
  args: string[],
  options: { input?: Uint8Array; ok?: number[] } = {},
): Promise<Uint8Array> {
  const { input, ok = [] } = options;
  const child = new Deno.Command("git", {
    args,
    cwd,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: GIT_HOME,
      XDG_CONFIG_HOME: `${GIT_HOME}/.config`,
      GIT_CONFIG_NOSYSTEM: "1",
      LC_ALL: "C",
    },
    stdin: input ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (input) {
    const writer = child.stdin.getWriter();
    await writer.write(input);
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  if (code !== 0 && !ok.includes(code)) {
    throw new Error(
      `git ${args.join(" ")} in ${cwd} failed (${code}): ${new TextDecoder().decode(stderr)}`,
    );
  }
  return stdout;
}
