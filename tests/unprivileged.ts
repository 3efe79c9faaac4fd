/**
 * Children that run as another user (`nobody`), for the tests of EACCES.
 *
 * The checkout may lie where that user cannot enter (a clone under a
 * `mktemp -d` directory, or in /root), so a child never runs from it: a
 * `Sandbox` copies what the child runs (the module graph of its entry
 * points, as `deno info` lists it, the native library, and the Deno
 * executable when it is out of reach too) into a temporary directory anyone
 * can read, with a Deno cache the child may write, and the trees to walk go
 * there too.  Where no user can be switched
 * to, or no such directory can be made, the tests that need one are
 * ignored, with the reason printed.
 *
 * @module
 */

import { toFileUrl } from "@std/path";
import { type ChildResult, REPO, run, runsSync } from "./child.ts";

/** setpriv's arguments that make the rest of the command line run as nobody. */
const AS_NOBODY = ["--reuid=nobody", "--regid=nogroup", "--clear-groups"];

/** Whether "/" and every directory down to `dir` (absolute) may be searched by other users. */
function searchableByOthers(dir: string): boolean {
  const names = dir.split("/").filter((name) => name !== "");
  for (let i = 0; i <= names.length; i++) {
    const mode = Deno.statSync(`/${names.slice(0, i).join("/")}`).mode ?? 0;
    if ((mode & 0o001) === 0) return false;
  }
  return true;
}

/** The first temporary folder other users can reach, if there is one. */
function findBase(): string | undefined {
  const candidates = [Deno.env.get("TMPDIR"), "/tmp", "/var/tmp", "/dev/shm"];
  for (const dir of candidates) {
    if (!dir?.startsWith("/")) continue;
    try {
      if (Deno.statSync(dir).isDirectory && searchableByOthers(dir)) return dir;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Whether other users may run the file at `path` (and reach it). */
function runnableByOthers(path: string): boolean {
  try {
    const mode = Deno.statSync(path).mode ?? 0;
    return (mode & 0o001) !== 0 && searchableByOthers(path.slice(0, path.lastIndexOf("/")) || "/");
  } catch {
    return false;
  }
}

/** How a command is made to run as nobody (empty when this process is not root). */
function findDrop(): { prefix: string[] } | { skip: string } {
  if (Deno.uid() !== 0) return { prefix: [] };
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":")) {
    const setpriv = `${dir}/setpriv`;
    try {
      if (!Deno.statSync(setpriv).isFile) continue;
    } catch {
      continue;
    }
    if (runsSync(setpriv, [...AS_NOBODY, "true"])) return { prefix: [setpriv, ...AS_NOBODY] };
    return { skip: `${setpriv} cannot switch to nobody:nogroup here` };
  }
  return { skip: "running as root without setpriv: no way to drop privileges" };
}

const drop = findDrop();
const base = findBase();

/**
 * Why tests that need an unprivileged child cannot run here, if they
 * cannot (for `ignore`, and for the note printed about them).
 */
export const UNPRIVILEGED_SKIP: string | undefined = "skip" in drop
  ? drop.skip
  : base === undefined
  ? "no temporary folder that other users can reach (TMPDIR, /tmp, /var/tmp, /dev/shm)"
  : undefined;

/** The paths, relative to the repository, of every local module `entries` import. */
async function moduleGraph(entries: string[]): Promise<string[]> {
  const r = await run([Deno.execPath(), "info", "--json", ...entries], { cwd: REPO });
  if (r.code !== 0) throw new Error(`deno info ${entries.join(" ")} failed: ${r.stderr}`);
  const { modules } = JSON.parse(r.stdout) as { modules: { specifier: string }[] };
  const prefix = toFileUrl(REPO).href;
  return modules
    .map((m) => m.specifier)
    .filter((s) => s.startsWith(prefix))
    .map((s) => decodeURIComponent(s.slice(prefix.length)));
}

/**
 * A world-readable copy of what an unprivileged child runs, laid out as the
 * repository is, with a cache the child may write.  Remove it with
 * `await using` or `dispose()`.
 */
export class Sandbox implements AsyncDisposable {
  /** The copy's root: everything under it is readable (and searchable) by anyone. */
  readonly root: string;
  /** The Deno executable the child runs: this one, or a copy in the sandbox. */
  #deno: string = Deno.execPath();

  private constructor(root: string) {
    this.root = root;
  }

  /**
   * Copies the module graph of `entries` (paths relative to the
   * repository) and this architecture's native/lib/<arch>/libioq.so into a
   * new sandbox.
   *
   * @throws {Error} When this machine cannot run unprivileged children
   *   (`UNPRIVILEGED_SKIP`): register such tests with `ignore`.
   */
  static async create(entries: string[]): Promise<Sandbox> {
    if (UNPRIVILEGED_SKIP) throw new Error(`no unprivileged child: ${UNPRIVILEGED_SKIP}`);
    const root = await Deno.makeTempDir({ dir: base, prefix: "ioq-unprivileged-" });
    const sandbox = new Sandbox(root);
    try {
      const files = [...await moduleGraph(entries), `native/lib/${Deno.build.arch}/libioq.so`];
      for (const file of files) {
        await Deno.mkdir(sandbox.path(file.slice(0, file.lastIndexOf("/") + 1)), {
          recursive: true,
        });
        await Deno.copyFile(`${REPO}${file}`, sandbox.path(file));
      }
      await Deno.mkdir(sandbox.path(".cache"));
      // Deno itself, when it lies where nobody can reach it (under /root, say)
      if (!runnableByOthers(Deno.execPath())) {
        await Deno.mkdir(sandbox.path(".bin"));
        await Deno.copyFile(Deno.execPath(), sandbox.path(".bin/deno"));
        sandbox.#deno = sandbox.path(".bin/deno");
      }
      const chmod = await run(["chmod", "-R", "a+rX", root]);
      if (chmod.code !== 0) throw new Error(`chmod -R a+rX ${root}: ${chmod.stderr}`);
      await Deno.chmod(sandbox.path(".cache"), 0o777);
    } catch (error) {
      await sandbox.dispose();
      throw error;
    }
    return sandbox;
  }

  /** A path inside the sandbox, for a path relative to the repository. */
  path(relative: string): string {
    return `${this.root}/${relative}`;
  }

  /** `deno run` of a copied script, with these permission flags, as a command line. */
  deno(script: string, permissions: string[], args: string[] = []): string[] {
    return [
      this.#deno,
      "run",
      "--no-config",
      "--quiet",
      ...permissions,
      this.path(script),
      ...args,
    ];
  }

  /** Runs a command as nobody, in the sandbox, with its cache as DENO_DIR and HOME. */
  runAsNobody(cmd: string[], timeoutMs = 60_000): Promise<ChildResult> {
    if ("skip" in drop) throw new Error(drop.skip);
    const cache = this.path(".cache");
    return run([...drop.prefix, ...cmd], {
      cwd: this.root,
      env: { DENO_DIR: cache, HOME: cache },
      timeoutMs,
    });
  }

  /** Removes the sandbox and everything in it. */
  async dispose(): Promise<void> {
    await Deno.remove(this.root, { recursive: true });
  }

  /** Removes the sandbox (`await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
