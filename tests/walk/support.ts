/**
 * What the walk tests share: running `walk()` to its end, comparing it with
 * the real `@std/fs` `walk` (tests/std_walk.ts), checking the order of a
 * walk, and the trees most tests walk.
 *
 * Where ioq documents a departure from `@std/fs` (a broken link is yielded
 * as a symlink when following links, a link back to an ancestor is an
 * `ELOOP` error, `canonicalize` applies at every depth, errors can go to
 * `onError`), std cannot be the reference: those tests state the expected
 * entries themselves.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import { fromFileUrl, normalize } from "@std/path";
import { walk, type WalkEntry, type WalkOptions } from "../../mod.ts";
import { type Backend, fastTempDir, makeTree } from "../helpers.ts";
import { bytes, createRaw, mkdirRaw, mkFifo, mkSocket } from "../libc.ts";
import { stdWalkAll, type StdWalkEntry, type StdWalkOptions } from "../std_walk.ts";

export type { Backend };

/** A walk order. */
export type Order = "bfs" | "dfs";

/** Both orders: every walk test runs in each. */
export const ORDERS: Order[] = ["bfs", "dfs"];

/** An entry's type flags: f (file), d (directory), l (symlink), or "-" for each that it is not. */
export function flags(e: Deno.DirEntry): string {
  return `${e.isFile ? "f" : "-"}${e.isDirectory ? "d" : "-"}${e.isSymlink ? "l" : "-"}`;
}

/** An entry as compared: depth, type flags, path and name. */
export function key(e: WalkEntry): string {
  return `${e.depth} ${flags(e)} ${JSON.stringify(e.path)} ${JSON.stringify(e.name)}`;
}

/** The sorted keys of some entries (a multiset: duplicates stay). */
export function keys(entries: WalkEntry[]): string[] {
  return entries.map(key).sort();
}

/** An error as compared: its class and the path it was reported for. */
export function errorKey(error: Error, path: string): string {
  return `${error.name} ${JSON.stringify(path)}`;
}

/** The errno name of an error, if it has one. */
export function code(error: unknown): string | undefined {
  return (error as { code?: string }).code;
}

/** Options as text, for messages (RegExps included). */
export function describeOptions(options: WalkOptions): string {
  return JSON.stringify(options, (_k, v) => v instanceof RegExp ? String(v) : v);
}

/** What one walk() produced. */
export interface Walked {
  entries: WalkEntry[];
  /** Errors reported to onError, as errorKey()s, in order. */
  errors: string[];
  /** The same errors, with their paths. */
  reported: [Error, string][];
}

/** More entries than any small test tree has: a walk past it is endless. */
const ENDLESS = 10_000;

/**
 * Runs walk() to the end.  With `collect`, errors go to an onError that
 * records them; without, they throw (or go to `options.onError`).
 */
export async function ioqWalk(
  root: string | URL,
  options: WalkOptions,
  collect = false,
): Promise<Walked> {
  const out: Walked = { entries: [], errors: [], reported: [] };
  const onError = collect
    ? (error: Error, path: string) => {
      out.errors.push(errorKey(error, path));
      out.reported.push([error, path]);
    }
    : options.onError;
  for await (const entry of walk(root, { ...options, onError })) {
    out.entries.push(entry);
    if (out.entries.length > ENDLESS) throw new Error(`endless walk: over ${ENDLESS} entries`);
  }
  return out;
}

/**
 * The depth of a path std's walk yields below `root` (std gives none): its
 * number of names below the normalized root.  Only for walks whose paths go
 * through the root, that is not canonicalized through links.
 */
function stdDepth(path: string, root: string): number {
  const normal = normalize(root);
  if (path === normal) return 0;
  const base = normal === "/" ? "/" : normal.replace(/\/$/, "");
  const below = base === "." ? path : path.slice(base === "/" ? 1 : base.length + 1);
  return below.split("/").length;
}

/** The options of walk() that std's walk has. */
function stdOptions(options: WalkOptions): StdWalkOptions {
  const {
    order: _order,
    queue: _queue,
    signal: _signal,
    stat: _stat,
    onError: _onError,
    sameFilesystem: _sameFilesystem,
    ...rest
  } = options;
  return rest;
}

/** Whether a walk's paths show each entry's depth (they do unless canonicalized through links). */
function pathsShowDepth(options: WalkOptions): boolean {
  return !options.followSymlinks || options.canonicalize === false;
}

/**
 * The sorted keys of what std's walk yields for `root` (which must not
 * throw): with depths where the paths show them, else without (to compare
 * with `keys(entries, false)`).
 */
export async function stdKeys(root: string | URL, options: WalkOptions = {}): Promise<string[]> {
  const { entries, thrown } = await stdWalkAll(root, stdOptions(options));
  if (thrown) {
    throw new Error(`@std/fs walk threw for ${describeOptions(options)}: ${thrown}: no reference`);
  }
  const rootPath = typeof root === "string" ? root : fromFileUrl(root);
  const depth = pathsShowDepth(options);
  return entries.map((e: StdWalkEntry) => {
    const flagged = `${flags(e)} ${JSON.stringify(e.path)} ${JSON.stringify(e.name)}`;
    return depth ? `${stdDepth(e.path, rootPath)} ${flagged}` : flagged;
  }).sort();
}

/** Keys without the depth (for canonicalized walks, whose paths do not show it). */
function keysWithoutDepth(entries: WalkEntry[]): string[] {
  return entries.map((e) => key(e).slice(key(e).indexOf(" ") + 1)).sort();
}

/**
 * Walks `root` with walk() (on `backend`, in `order`) and with `@std/fs`
 * `walk`, and checks they yield the same entries.  std must be defined
 * there: no error on the way (walk() gets no onError either).
 */
export async function expectStd(
  root: string | URL,
  options: WalkOptions,
  backend: Backend,
  order: Order,
): Promise<Walked> {
  const got = await ioqWalk(root, { ...options, order, queue: { backend } });
  const want = await stdKeys(root, options);
  const label = `walk(${JSON.stringify(String(root))}, ${describeOptions(options)}) ${order}`;
  assertEquals(
    pathsShowDepth(options) ? keys(got.entries) : keysWithoutDepth(got.entries),
    want,
    label,
  );
  return got;
}

/** An expected entry: depth, flags, path relative to the tree's root ("" for it), and name. */
export type Row = [number, string, string, string];

/** The name a row gives for an entry named after the tree's root directory. */
export const ROOT_NAME = "<root>";

/**
 * Checks a walk's entries against rows, as a multiset: paths relative to
 * `base` (the tree's root), names equal to `base`'s own given as ROOT_NAME.
 */
export function expectRows(entries: WalkEntry[], base: string, rows: Row[], label = ""): void {
  const baseName = base.slice(base.lastIndexOf("/") + 1);
  const got = entries.map((e): Row => {
    assert(e.path === base || e.path.startsWith(`${base}/`), `${label}: ${e.path} is outside`);
    const path = e.path === base ? "" : e.path.slice(base.length + 1);
    return [e.depth, flags(e), path, e.name === baseName ? ROOT_NAME : e.name];
  });
  const order = (a: Row, b: Row) => JSON.stringify(a) < JSON.stringify(b) ? -1 : 1;
  assertEquals(got.sort(order), [...rows].sort(order), label);
}

/** The parent of a path as walk() builds paths ("" for a child of "."). */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash <= 0 ? (slash === 0 ? "/" : "") : path.slice(0, slash);
}

/**
 * Checks the order of a walk without followed links: the root first, every
 * entry after its directory, and (dfs) each directory's subtree contiguous.
 */
export function checkOrder(entries: WalkEntry[], order: Order, label = ""): void {
  if (entries.length === 0) return;
  const index = new Map<string, number>();
  entries.forEach((e, i) => index.set(e.path.replace(/\/$/, ""), i));
  if (entries.some((e) => e.depth === 0)) assertEquals(entries[0].depth, 0, `${label}: root first`);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (e.depth < 2) continue;
    const parent = index.get(parentOf(e.path));
    if (parent !== undefined) assert(parent < i, `${label}: ${e.path} after its directory`);
  }
  if (order !== "dfs") return;
  for (const d of entries) {
    if (!d.isDirectory || d.depth === 0) continue;
    const prefix = `${d.path}/`;
    const inside: number[] = [];
    entries.forEach((e, i) => {
      if (e.path.startsWith(prefix)) inside.push(i);
    });
    if (inside.length === 0) continue;
    assertEquals(
      inside[inside.length - 1] - inside[0] + 1,
      inside.length,
      `${label}: dfs walks ${d.path}'s subtree in one piece`,
    );
  }
}

/** The entry with a path, or a failed assertion. */
export function find(entries: WalkEntry[], path: string): WalkEntry {
  const entry = entries.find((e) => e.path === path);
  assert(entry, `${path} was yielded`);
  return entry;
}

/** Runs `fn` with the current directory set to `dir`, restoring it after. */
export async function withCwd<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const cwd = Deno.cwd();
  Deno.chdir(dir);
  try {
    return await fn();
  } finally {
    Deno.chdir(cwd);
  }
}

/** Removes a tree with `rm -rf` (deep trees defeat Deno.remove). */
export async function rmrf(path: string): Promise<void> {
  const out = await new Deno.Command("rm", { args: ["-rf", path] }).output();
  if (!out.success) throw new Error(`rm -rf ${path}: ${new TextDecoder().decode(out.stderr)}`);
}

/** What a mixed tree holds besides its files, directories and good links. */
export interface MixedTreeOptions {
  /**
   * Broken links (to nothing, through a file, into a missing directory):
   * followed, std throws on them (default true).
   */
  broken?: boolean;
  /**
   * Links below the first level (a/b/l-rel, h/l-abs): std canonicalizes those
   * even with `canonicalize: false` (default true).
   */
  deep?: boolean;
}

/**
 * A tree with a bit of everything: nested and empty directories, files with
 * and without extensions, symlinks to files and directories (relative,
 * absolute, chained), broken links, FIFOs and a socket.
 */
export async function mixedTree(options: MixedTreeOptions = {}): Promise<string> {
  const { broken = true, deep = true } = options;
  const root = await makeTree([
    "a/b/c/",
    "a/b/c/deep.txt",
    "a/b/file.md",
    "a/empty/",
    "a/x.txt",
    "a/y.ts",
    "e/",
    "f.txt",
    "g.ts",
    "h/j/",
    "h/i.txt",
    "h/j/k.txt",
    "space dir/",
    "space dir/k l.txt",
    "txt/",
    "txt/inner.md",
    "dir.txt/",
    "dir.txt/z.txt",
    "bb.txt",
    ".hidden",
    "noext",
  ]);
  const link = (target: string, path: string) => Deno.symlinkSync(target, `${root}/${path}`);
  link("f.txt", "l-file");
  link("g.ts", "l-file.txt");
  link("a/b", "l-dir");
  link("l-dir", "l-chain");
  if (broken) {
    link("nowhere", "l-broken");
    link("f.txt/below", "l-notdir");
    link("missing/deeper", "h/l-broken-dir");
  }
  if (deep) {
    link("../x.txt", "a/b/l-rel");
    link(`${root}/a/b/c`, "h/l-abs");
  }
  mkFifo(`${root}/pipe`);
  mkFifo(`${root}/a/pipe2`);
  mkSocket(`${root}/sock`);
  return root;
}

/**
 * A tree of loops: a/up -> .. and a/self -> . (links to ancestors), x -> x
 * (itself), p <-> q (each other), and d/to-a -> ../a (a link into a, which
 * holds the loops).
 */
export async function loopTree(): Promise<string> {
  const root = await makeTree(["a/", "a/f", "d/", "d/g"]);
  Deno.symlinkSync("..", `${root}/a/up`);
  Deno.symlinkSync(".", `${root}/a/self`);
  Deno.symlinkSync("x", `${root}/x`);
  Deno.symlinkSync("q", `${root}/p`);
  Deno.symlinkSync("p", `${root}/q`);
  Deno.symlinkSync("../a", `${root}/d/to-a`);
  return root;
}

/** Runs a shell script with the tree's root as $1; fails with its stderr. */
async function inTree(root: string, script: string): Promise<void> {
  const out = await new Deno.Command("bash", { args: ["-c", script, "bash", root] }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
}

/**
 * A tree where links lead in and into a non-UTF-8 directory: bad\xfe/ holds
 * inner.txt, link -> inner.txt, sub/leaf and dlink -> sub; to-bad -> bad\xfe.
 */
export async function rawLinkTree(): Promise<{ root: string; bad: Uint8Array }> {
  const root = await makeTree([]);
  const bad = bytes("bad-", [0xfe]);
  mkdirRaw(bytes(root, "/", bad));
  createRaw(bytes(root, "/", bad, "/inner.txt"));
  mkdirRaw(bytes(root, "/", bad, "/sub"));
  createRaw(bytes(root, "/", bad, "/sub/leaf"));
  await inTree(
    root,
    `cd "$1" && ln -s inner.txt $'bad-\\xfe/link' && ln -s sub $'bad-\\xfe/dlink' && ` +
      `ln -s $'bad-\\xfe' to-bad`,
  );
  return { root, bad };
}

/** rawLinkTree(), plus a link out of the bad directory to a UTF-8 one, and one back. */
export async function rawLinkTreeWithWayOut(): Promise<{ root: string; bad: Uint8Array }> {
  const tree = await rawLinkTree();
  await inTree(
    tree.root,
    `cd "$1" && mkdir good && touch good/g && ` +
      `ln -s ../good $'bad-\\xfe/up' && ln -s $'../bad-\\xfe/sub' good/$'s-\\xfd'`,
  );
  return tree;
}

/** A level's name in the deep trees: 200 bytes. */
export const deepName = (i: number): string => `${String(i).padStart(3, "0")}-${"x".repeat(196)}`;

/**
 * Builds `levels` nested directories (named by `name`) under `parent`, and a
 * file `leaf` at the bottom, one relative mkdir at a time (the full path is
 * too long for one call); then runs `bottom` there, if given.
 */
export function makeChain(
  parent: string,
  levels: number,
  name: (i: number) => string,
  bottom?: () => void,
): void {
  const cwd = Deno.cwd();
  Deno.chdir(parent);
  try {
    for (let i = 0; i < levels; i++) {
      Deno.mkdirSync(name(i));
      Deno.chdir(name(i));
    }
    Deno.writeFileSync("leaf", new Uint8Array());
    bottom?.();
  } finally {
    Deno.chdir(cwd);
  }
}

/** A chain 30 levels deep (over 6,000 bytes) ending in links to a file and a directory. */
export function deepLinkTree(): { root: string; bottom: string } {
  const root = fastTempDir();
  makeChain(root, 30, deepName, () => {
    Deno.mkdirSync("target");
    Deno.writeFileSync("target/t", new Uint8Array());
    Deno.symlinkSync("target", "dlink");
    Deno.symlinkSync("leaf", "flink");
  });
  return { root, bottom: [root, ...Array.from({ length: 30 }, (_, i) => deepName(i))].join("/") };
}
