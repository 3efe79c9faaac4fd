/**
 * A reference walker for the tests: `@std/fs` `walk` (fs/walk.ts of @std/fs
 * 1.0.x) rewritten here, since JSR cannot be reached, with ioq's documented
 * departures from it.  Deliberately simple: recursive, one `Deno.readDir` at
 * a time, paths made with std's `join` (which normalizes), the root's entry
 * from `Deno.stat`.
 *
 * Where ioq documents a different behaviour (lib/walk.ts), this walker does
 * what ioq documents:
 *
 * - A broken link (one whose `stat` fails with ENOENT, ENOTDIR or ELOOP) is
 *   yielded as a symlink when following links; std throws `NotFound`.
 * - A followed link to a directory that is the current directory or one of
 *   its ancestors (same dev and ino) is reported as `FilesystemLoop` (code
 *   ELOOP), neither yielded nor descended, when the walk would descend into
 *   it (std loops until the path is too long); at the last depth, or when
 *   skipped, it is treated as std treats it.
 * - Errors go to `onError` when given, and the walk goes on.
 * - `canonicalize` applies at every depth.  std 1.0.x does not pass it on to
 *   its recursive calls, so below the root's own entries std canonicalizes
 *   anyway: a std bug that ioq does not copy.
 *
 * It also records each entry's depth (the root is 0), which std lacks.
 *
 * @module
 */

import type { WalkOptions } from "../mod.ts";
import {
  stdBasename,
  stdInclude,
  stdJoin,
  stdNormalize,
  stdToPathString,
  type StdWalkEntry,
  type StdWalkOptions,
} from "./std_fs.ts";

/** The options the reference understands (those of std, plus onError). */
export type ReferenceOptions = StdWalkOptions & Pick<WalkOptions, "onError">;

/** An entry of the reference walk: std's `WalkEntry` plus the depth. */
export interface ReferenceEntry extends StdWalkEntry {
  depth: number;
}

/** Whether a followed stat's error means a broken link (as ioq treats it). */
function isBroken(error: unknown): boolean {
  return error instanceof Deno.errors.NotFound ||
    error instanceof Deno.errors.NotADirectory ||
    error instanceof Deno.errors.FilesystemLoop;
}

/** Options with defaults. */
type Resolved = Required<Omit<ReferenceOptions, "exts" | "match" | "skip" | "onError">> & {
  exts?: string[];
  match?: RegExp[];
  skip?: RegExp[];
  report: (error: Error, path: string) => void;
};

/** An identity of a directory on the current path, for loop detection. */
interface Identity {
  dev: number;
  ino: number | null;
}

/**
 * Walks `root` as `@std/fs` `walk` does (with ioq's documented departures),
 * and returns every entry.
 *
 * @throws The first error when no `onError` is given, after yielding what
 *   came before (those entries are lost, as with std: callers that need them
 *   pass `onError`).
 */
export async function referenceWalk(
  root: string | URL,
  options: ReferenceOptions = {},
): Promise<ReferenceEntry[]> {
  const out: ReferenceEntry[] = [];
  for await (const entry of referenceIterate(root, options)) out.push(entry);
  return out;
}

/** The reference walk as an async iterator (std's shape). */
export async function* referenceIterate(
  root: string | URL,
  options: ReferenceOptions = {},
): AsyncGenerator<ReferenceEntry> {
  const {
    maxDepth = Infinity,
    includeFiles = true,
    includeDirs = true,
    includeSymlinks = true,
    followSymlinks = false,
    canonicalize = true,
    match,
    skip,
    onError,
  } = options;
  const exts = options.exts?.map((ext) => ext.startsWith(".") ? ext : `.${ext}`);
  const report = (error: Error, path: string) => {
    if (onError) onError(error, path);
    else throw error;
  };
  const cfg: Resolved = {
    maxDepth,
    includeFiles,
    includeDirs,
    includeSymlinks,
    followSymlinks,
    canonicalize,
    exts,
    match,
    skip,
    report,
  };
  yield* walkDir(stdToPathString(root), 0, cfg, []);
}

/** One level of std's recursion: `root` at `depth`, below the directories `chain`. */
async function* walkDir(
  root: string,
  depth: number,
  cfg: Resolved,
  chain: Identity[],
): AsyncGenerator<ReferenceEntry> {
  const { exts, match, skip } = cfg;
  if (cfg.maxDepth - depth < 0) return;
  // std's createWalkEntry(): normalize, basename, Deno.stat
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(root);
  } catch (error) {
    // std stats the root only to yield it; ioq always stats it, and reports
    cfg.report(error as Error, stdNormalize(root));
    return;
  }
  if (cfg.includeDirs && stdInclude(root, exts, match, skip)) {
    const path = stdNormalize(root);
    yield {
      path,
      name: stdBasename(path),
      isFile: info.isFile,
      isDirectory: info.isDirectory,
      isSymlink: info.isSymlink,
      depth,
    };
  }
  if (cfg.maxDepth - depth < 1 || !stdInclude(root, undefined, undefined, skip)) return;

  const here = [...chain, { dev: info.dev, ino: info.ino }];
  const entries: Deno.DirEntry[] = [];
  try {
    for await (const entry of Deno.readDir(root)) entries.push(entry);
  } catch (error) {
    cfg.report(error as Error, stdNormalize(root));
    return;
  }
  for (const entry of entries) {
    let path = stdJoin(root, entry.name);
    let { isSymlink, isDirectory } = entry;
    if (isSymlink) {
      if (!cfg.followSymlinks) {
        if (cfg.includeSymlinks && stdInclude(path, exts, match, skip)) {
          yield { path, ...entry, depth: depth + 1 };
        }
        continue;
      }
      let target: Deno.FileInfo;
      try {
        target = await Deno.stat(path);
      } catch (error) {
        if (!isBroken(error)) {
          cfg.report(error as Error, path);
          continue;
        }
        // ioq: a broken link is yielded as a symlink
        if (cfg.includeSymlinks && stdInclude(path, exts, match, skip)) {
          yield { path, ...entry, depth: depth + 1 };
        }
        continue;
      }
      const realPath = await Deno.realPath(path);
      const shown = cfg.canonicalize ? realPath : path;
      // ioq: a link back to an ancestor that the walk would go into is an
      // error, not a walk without end (at the last depth or skipped, std
      // ends there, and so does ioq)
      const descend = cfg.maxDepth - (depth + 1) >= 1 &&
        stdInclude(shown, undefined, undefined, skip);
      if (
        descend && target.isDirectory &&
        here.some((id) => id.dev === target.dev && id.ino === target.ino)
      ) {
        const loop = new Deno.errors.FilesystemLoop(`File system loop: '${path}'`);
        (loop as Error & { code: string }).code = "ELOOP";
        cfg.report(loop, path);
        continue;
      }
      path = shown;
      ({ isSymlink, isDirectory } = await Deno.lstat(realPath));
    }
    if (isSymlink || isDirectory) {
      yield* walkDir(path, depth + 1, cfg, here);
    } else if (cfg.includeFiles && stdInclude(path, exts, match, skip)) {
      yield { path, ...entry, depth: depth + 1 };
    }
  }
}
