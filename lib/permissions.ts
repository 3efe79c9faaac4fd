/**
 * Deno's read permission, honoured by native code: the walks and the queue
 * read through C, which Deno's sandbox does not see, so they check paths
 * here, as Deno's own file-system calls check them, before C opens them.
 *
 * One query says whether read access is granted everywhere (no path given,
 * nothing denied); then nothing is checked at all.  Otherwise each path is
 * queried, and a path that is not granted is handed to `Deno.lstatSync`,
 * which checks the permission before it does any I/O: its error
 * (`Deno.errors.NotCapable`, "Requires read access to ...") is the one
 * reported, and a prompt, where Deno would prompt, is Deno's own.
 *
 * @module
 */

/** Whether a path can be queried (Deno refuses "" and paths with NUL; C opens neither). */
function queryable(path: string): boolean {
  return path !== "" && !path.includes("\0");
}

/** What the program may read at a path: all below it too, the path (not all below it), or not it. */
type Reach = "tree" | "path" | Error;

/**
 * Read access as this program has it, when it is scoped: `readScope()`
 * makes one, or none when read access is granted everywhere.
 */
export class ReadScope {
  /**
   * What the program may read at `path`: `"tree"` (it and everything
   * below it: granted, nothing below denied), `"path"` (it, but something
   * below is denied), or Deno's error for it.
   */
  reach(path: string): Reach {
    if (!queryable(path)) return "path";
    const status = Deno.permissions.querySync({ name: "read", path });
    if (status.state === "granted") return status.partial ? "path" : "tree";
    try {
      // Checks before any I/O: throws Deno's error, or prompts as Deno's calls do
      Deno.lstatSync(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) return error;
    }
    // Granted at a prompt (whatever lstat found)
    return "path";
  }

  /**
   * Throws Deno's error when the program may not read `path`.
   *
   * @throws {Deno.errors.NotCapable} As `Deno.lstatSync(path)` would.
   */
  check(path: string): void {
    const reach = this.reach(path);
    if (reach instanceof Error) throw reach;
  }

  /** The checks of one walk from `root` (see `WalkGuard`). */
  walk(root: string, how: WalkReads): WalkGuard {
    return new WalkGuard(this, root, how);
  }
}

/**
 * The program's read access, when it is scoped (a path given to
 * `--allow-read`, or a `--deny-read`); `null` when read access is granted
 * everywhere, and nothing needs checking.  One permission query.
 */
export function readScope(): ReadScope | null {
  const status = Deno.permissions.querySync({ name: "read" });
  return status.state === "granted" && !status.partial ? null : new ReadScope();
}

/** How a walk reaches its directories, for `WalkGuard`. */
export interface WalkReads {
  /** Whether symlinks below the root are followed. */
  follow: boolean;
  /** Whether the paths of followed directories come canonical (the engine's WALK.CANON). */
  canonical: boolean;
}

/**
 * One walk's read checks: its root before anything is opened, and each
 * directory below it before the engine enters it (at its gate).
 *
 * A directory is checked at the path it is read from: the root as given
 * (Deno checks paths as given, without resolving symlinks), then the names
 * below it, with each followed symlink below the root replaced by its
 * target's canonical path.  With `canonical`, the engine gives those paths;
 * otherwise a gated directory is looked at with `Deno.lstatSync` (itself
 * permission-checked), and a symlink is resolved with `Deno.realPathSync`.
 *
 * A directory the program may read with everything below it is remembered:
 * directories below it are entered without a query.
 */
export class WalkGuard {
  readonly #scope: ReadScope;
  /** Deno's error for the root, when it may not be read. */
  readonly refused: Error | undefined;
  /**
   * Whether directories below the root need checking (gates): not when
   * the root may be read with everything below it and no symlink below
   * it is followed.
   */
  readonly gates: boolean;
  /** Directories readable with all below them. */
  readonly #trees = new Set<string>();
  /** Followed symlinks met at gates (their path as walked -> their target), without `canonical`. */
  readonly #links: Map<string, string> | null;

  constructor(scope: ReadScope, root: string, how: WalkReads) {
    this.#scope = scope;
    this.#links = how.follow && !how.canonical ? new Map() : null;
    const reach = scope.reach(root);
    if (reach instanceof Error) this.refused = reach;
    else if (reach === "tree") this.#trees.add(root);
    this.gates = how.follow || reach !== "tree";
  }

  /**
   * Deno's error for entering the gated directory at `path` (as the engine
   * gives it), or undefined when it may be entered.
   */
  enter(path: string): Error | undefined {
    const real = this.#links ? this.#resolve(path) : path;
    if (real instanceof Error) return real;
    if (this.#inTree(real)) return undefined;
    const reach = this.#scope.reach(real);
    if (reach instanceof Error) return reach;
    if (reach === "tree") this.#trees.add(real);
    return undefined;
  }

  /** Whether a path is at or below a directory readable with all below it. */
  #inTree(path: string): boolean {
    const trees = this.#trees;
    if (trees.size === 0) return false;
    let p = path;
    while (true) {
      if (trees.has(p)) return true;
      const slash = p.lastIndexOf("/");
      // A relative path is below the current directory, unless it climbs out of it
      if (slash < 0) return p !== ".." && trees.has(".");
      if (slash === 0) return p !== "/" && trees.has("/");
      p = p.slice(0, slash);
    }
  }

  /**
   * The path a gated directory is read from, through the followed links
   * above it and itself (or Deno's error for looking it up).
   */
  #resolve(path: string): string | Error {
    const links = this.#links!;
    let real = path;
    if (links.size > 0) {
      for (let end = path.lastIndexOf("/"); end > 0; end = path.lastIndexOf("/", end - 1)) {
        const target = links.get(path.slice(0, end));
        if (target !== undefined) {
          real = target + path.slice(end);
          break;
        }
      }
    }
    try {
      if (!Deno.lstatSync(path).isSymlink) return real;
      const target = Deno.realPathSync(path);
      links.set(path, target);
      return target;
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) return error;
      // Gone, or not there as named (a name Deno cannot spell): the engine reports what it finds
      return real;
    }
  }
}
