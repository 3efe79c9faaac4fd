/**
 * Random trees with odd names, and random patterns and options to glob
 * them with, for the comparison with `@std/fs` `expandGlob`.
 *
 * std is the reference only where it is defined and consistent: the trees
 * and patterns keep out of its way (see `RandomTreeOptions`), and what ioq
 * does there instead is tested with stated expectations.
 *
 * @module
 */

import type { GlobOptions } from "../../mod.ts";
import { bytes, createRaw } from "../libc.ts";

/** Names for random trees: glob syntax, spaces, case, dots, non-ASCII. */
// deno-fmt-ignore
export const NAMES = [
  "a", "b", "ab", "abc", "ABC", "Abc", "a.txt", "b.ts", "c.md", "A.TXT", ".hidden", ".d",
  "sp ace", " lead", "trail ", "a[b]c", "[x]", "[!x]", "{a,b}", "a,b", "*", "?", "!neg", "@at",
  "+plus", "(p)", "a|b", "@(x)", "é", "É", "ünï", "日本", "x.d", "back\\slash", "a]", "#h",
  "-", "...", "a b.txt", "q?", "caret^", "$d", "tab\tx", "new\nline", "x+y", "k(a|b)",
];

/**
 * Names of files that are not UTF-8: each bad byte is one character to
 * `fnm` and one U+FFFD to std (a lone continuation byte, 0xfe, 0xff, a lead
 * byte before ASCII), so std's lossy names match the same globs.
 */
export const RAW_NAMES: Uint8Array[] = [
  bytes("bad-", [0xff]),
  bytes([0xfe], ".txt"),
  bytes("x", [0x80], "y"),
  bytes([0xc3], "(a"),
];

/** What a random tree may hold besides files and directories with UTF-8 names. */
export interface RandomTreeOptions {
  /**
   * Symlinks, and where.  "any": links to files and directories anywhere,
   * broken ones, and links to their own ancestors (not to be followed: std
   * throws on a broken link and recurses forever in a loop).  "follow":
   * links std can follow: to directories that are neither ancestors nor
   * hold links, and to files of their own outside the tree (std shows a
   * file link at its target's path, named as the link: with the target in
   * a listing too, that path would be two entries, and std keeps whichever
   * it listed last).  "top": as "follow", every link at the tree's top (the
   * only level where std honours `canonicalize: false`).  "none": no links.
   */
  links: "any" | "follow" | "top" | "none";
  /**
   * Files whose names are not UTF-8 (RAW_NAMES).  Never directories nor
   * links: std stats those by their lossy (U+FFFD) path, which does not
   * exist, and throws.
   */
  raw: boolean;
}

/** A random tree: where it is, and what each directory holds. */
export interface RandomTree {
  /** The directory the tree sits in (it also holds the links' targets outside the tree). */
  base: string;
  /** The tree's root: `${base}/root`. */
  root: string;
  /** Each directory's entries (UTF-8 names only), by relative path ("" for the root). */
  dirs: Map<string, { name: string; dir: boolean }[]>;
}

/**
 * Builds a random tree of files, directories and (per `options`) links,
 * up to three levels, in a new temporary directory.
 */
export async function randomTree(
  rand: () => number,
  options: RandomTreeOptions,
): Promise<RandomTree> {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
  const base = await Deno.makeTempDir({ prefix: "ioq-glob-" });
  const root = `${base}/root`;
  const tree: RandomTree = { base, root, dirs: new Map([["", []]]) };
  await Deno.mkdir(root);
  for (const d of ["out/sub", "files"]) await Deno.mkdir(`${base}/${d}`, { recursive: true });
  for (const f of ["out/o.txt", "out/sub/deep.md"]) await Deno.writeTextFile(`${base}/${f}`, "");
  const grow = async (dir: string, depth: number) => {
    for (let n = 2 + Math.floor(rand() * 5); n > 0; n--) {
      const path = fresh(tree, dir, pick(NAMES), depth < 3 && rand() < 0.35);
      if (path === undefined) continue;
      if (tree.dirs.has(path)) {
        await Deno.mkdir(`${root}/${path}`);
        await grow(path, depth + 1);
      } else {
        await Deno.writeTextFile(`${root}/${path}`, "");
      }
    }
  };
  await grow("", 1);
  if (options.raw) {
    for (const dir of tree.dirs.keys()) {
      if (rand() < 0.3) createRaw(bytes(root, dir ? `/${dir}/` : "/", pick(RAW_NAMES)));
    }
  }
  await addLinks(rand, tree, options.links);
  return tree;
}

/**
 * Records a new entry `name` in `dir` (a directory when `isDir`), unless
 * the name is taken there.  @returns Its relative path, or undefined.
 */
function fresh(tree: RandomTree, dir: string, name: string, isDir: boolean): string | undefined {
  const entries = tree.dirs.get(dir)!;
  if (entries.some((e) => e.name === name)) return undefined;
  entries.push({ name, dir: isDir });
  const path = dir ? `${dir}/${name}` : name;
  if (isDir) tree.dirs.set(path, []);
  return path;
}

/** Adds the links a random tree asks for (see `RandomTreeOptions.links`). */
async function addLinks(
  rand: () => number,
  tree: RandomTree,
  links: RandomTreeOptions["links"],
): Promise<void> {
  if (links === "none") return;
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
  const { root, base } = tree;
  const dirs = [...tree.dirs.keys()];
  const inside = (path: string, dir: string) =>
    dir === "" || path === dir || path.startsWith(`${dir}/`);
  // Followed, no link may lead to a directory holding one, nor to one of its own ancestors
  const holders: string[] = [];
  const targets: string[] = [];
  const count = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < count; i++) {
    const places = links === "top" ? [""] : dirs.filter((d) => !targets.some((t) => inside(d, t)));
    if (places.length === 0) break;
    const dir = pick(places);
    const roll = rand();
    let target: string;
    if (links === "any") {
      target = pick(["nowhere", "..", ".", `${root}/${pick(dirs)}`, `${base}/out/o.txt`]);
    } else if (roll < 0.4) {
      const ok = dirs.filter((t) =>
        t !== "" && !inside(dir, t) && !holders.some((h) => inside(h, t))
      );
      if (ok.length === 0) continue;
      target = pick(ok);
      targets.push(target);
      target = `${root}/${target}`;
    } else if (roll < 0.7) {
      target = pick([`${base}/out`, `${base}/out/sub`]);
    } else {
      target = `${base}/files/f${i}`;
      await Deno.writeTextFile(target, "");
    }
    // Recorded as a file: patterns name it, but do not aim below it
    const path = fresh(tree, dir, `${pick(NAMES)}${i}`, false);
    if (path === undefined) continue;
    holders.push(dir);
    await Deno.symlink(target, `${root}/${path}`);
  }
}

/** Escapes a name's glob characters with backslashes (as a literal segment). */
export function escapeGlob(name: string): string {
  return name.replace(/[*?{}[\]()|+@!\\]/g, (c) => `\\${c}`);
}

/** Segments that match by syntax rather than by a name of the tree. */
// deno-fmt-ignore
const WILD = [
  "*", "*", "**", "**", "?", "??", "*.txt", "*.{txt,md}", "a*", "*b*", "[ab]*", "[!a]*", "[^a]*",
  "[[:upper:]]*", "[[:alpha:]]", "[a-c]", "{a,abc,b}", "{,a}b", "?(a|b)*", "+(a|b)", "!(abc)",
  "@(a|ab|abc)", "*(a)b", "!(*.txt)", "[*]", "[?]", "\\*", "*.", ".*", "*[", "a{", "(p", "\\",
];

/** A name as a pattern segment: itself, escaped, partly wild, or in another case. */
function nameSegment(rand: () => number, name: string): string {
  const roll = rand();
  if (roll < 0.3) return name;
  if (roll < 0.55) return escapeGlob(name);
  const chars = [...name];
  const at = Math.floor(rand() * chars.length);
  if (roll < 0.65) return chars.map((c, i) => (i === at ? "?" : escapeGlob(c))).join("");
  if (roll < 0.75) return `${escapeGlob(chars.slice(0, at).join(""))}*`;
  if (roll < 0.85) return `*${escapeGlob(chars.slice(at + 1).join(""))}`;
  if (roll < 0.92) return `[${chars[at] === "]" ? "\\]" : escapeGlob(chars[at])}z]*`;
  const flipped = name === name.toUpperCase() ? name.toLowerCase() : name.toUpperCase();
  return escapeGlob(flipped);
}

/** How patterns may be drawn for a tree. */
interface PatternOptions {
  /**
   * `..` may come, and climb out of the root by one level (`**\/..`, a
   * leading `..`).  Not with links followed: `..` of a directory reached
   * through a link climbs from its target, and out of the tree the files
   * the links lead to would be listed under their own names too (see
   * `RandomTreeOptions.links`).
   */
  escape: boolean;
  /**
   * Only patterns std follows links through as found, for `canonicalize:
   * false`: a literal path (perhaps through a link) then `**` and no more.
   */
  foundOnly: boolean;
}

/**
 * A random pattern aimed at a tree: segments chosen from each level's
 * names (literal, escaped, partly wild) or from glob syntax, sometimes
 * absolute, with `..`, `.`, doubled slashes or a trailing slash.
 */
function randomPattern(
  rand: () => number,
  tree: RandomTree,
  options: PatternOptions,
): string {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
  const segments: string[] = [];
  // The directory aimed at (undefined: unknown), and the least depth below the root it can be
  let dir: string | undefined = "";
  let level = 0;
  if (options.foundOnly) {
    const top = tree.dirs.get("")!;
    if (rand() < 0.4 && top.length > 0) segments.push(escapeGlob(pick(top).name));
    segments.push("**");
  } else {
    for (let n = 1 + Math.floor(rand() * 4); n > 0; n--) {
      const entries = dir === undefined ? [] : tree.dirs.get(dir) ?? [];
      const roll = rand();
      if (roll < 0.08 && options.escape && level >= 0) {
        segments.push("..");
        dir = dir ? dir.slice(0, Math.max(dir.lastIndexOf("/"), 0)) : undefined;
        level--;
      } else if (roll < 0.11) {
        segments.push(".");
      } else if (roll < 0.6 && entries.length > 0) {
        const e = pick(entries);
        segments.push(nameSegment(rand, e.name));
        dir = e.dir ? (dir ? `${dir}/${e.name}` : e.name) : undefined;
        level++;
      } else {
        const wild = pick(WILD);
        segments.push(wild);
        // Aim further segments at one of the directories it may match
        const subdirs = entries.filter((e) => e.dir);
        const next = wild === "**" || subdirs.length === 0 ? undefined : pick(subdirs).name;
        dir = next === undefined ? undefined : dir ? `${dir}/${next}` : next;
        if (wild !== "**") level++;
      }
    }
  }
  let pattern = segments.join(rand() < 0.05 ? "//" : "/");
  if (rand() < 0.15) pattern = `${tree.root}/${pattern}`;
  if (rand() < 0.15) pattern += "/";
  return pattern;
}

/** A kind of random tree, and how std can be the reference for globs on it. */
export interface Mode {
  name: string;
  tree: RandomTreeOptions;
  /** Options for following links. */
  follow: (rand: () => number) => GlobOptions;
  patterns: PatternOptions;
  /**
   * Whether exclude patterns are drawn.  Not with links followed and
   * canonicalized: std tests a path reached through a link against them at
   * its canonical path, ioq where it was found (glob()'s known departure,
   * tested in exclude_test.ts).
   */
  exclude: boolean;
}

/** The modes the comparison runs in. */
export const MODES: Mode[] = [
  {
    name: "links not followed",
    tree: { links: "any", raw: true },
    follow: () => ({}),
    patterns: { escape: true, foundOnly: false },
    exclude: true,
  },
  {
    name: "no links, followSymlinks either way",
    tree: { links: "none", raw: true },
    follow: (rand) => ({ followSymlinks: rand() < 0.5, canonicalize: rand() < 0.5 }),
    patterns: { escape: true, foundOnly: false },
    exclude: true,
  },
  {
    name: "links followed, canonicalized",
    tree: { links: "follow", raw: true },
    follow: () => ({ followSymlinks: true }),
    patterns: { escape: false, foundOnly: false },
    exclude: false,
  },
  {
    name: "links followed as found",
    tree: { links: "top", raw: true },
    follow: () => ({ followSymlinks: true, canonicalize: false }),
    patterns: { escape: false, foundOnly: true },
    exclude: true,
  },
];

/** A random glob of a tree: pattern, options, and the directory to run it in. */
export function randomCase(
  rand: () => number,
  tree: RandomTree,
  mode: Mode,
): { pattern: string; options: GlobOptions; cwd: string } {
  const { root, cwd } = randomPlace(rand, tree);
  const pattern = randomPattern(rand, tree, mode.patterns);
  const options: GlobOptions = {
    ...mode.follow(rand),
    includeDirs: rand() < 0.8,
    extended: rand() < 0.6,
    globstar: rand() < 0.8,
    caseInsensitive: rand() < 0.25,
  };
  // Defaults, sometimes
  for (const k of ["includeDirs", "extended", "globstar", "caseInsensitive"] as const) {
    if (rand() < 0.1) delete options[k];
  }
  if (root !== undefined) options.root = root;
  if (mode.exclude && rand() < 0.3) {
    options.exclude = Array.from(
      { length: 1 + Math.floor(rand() * 2) },
      () => randomExclude(rand, tree),
    );
  }
  return { pattern, options, cwd };
}

/** Where a glob starts: its `root` option, and the directory to run it in. */
interface Place {
  root?: string;
  cwd: string;
}

/** A random way to start at a tree's root: absolute, relative, from the cwd, untidy. */
function randomPlace(rand: () => number, tree: RandomTree): Place {
  const { base, root } = tree;
  const ways: Place[] = [
    { root, cwd: base },
    { cwd: root },
    { root: "root", cwd: base },
    { root: `${root}/`, cwd: base },
    { root: "./root/.", cwd: base },
    { root: ".", cwd: root },
  ];
  return ways[Math.floor(rand() * ways.length)];
}

/** A random exclude pattern aimed at a tree's top names. */
function randomExclude(rand: () => number, tree: RandomTree): string {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
  const top = tree.dirs.get("")!;
  const name = top.length > 0 ? nameSegment(rand, pick(top).name) : "a";
  return pick([name, `**/${name}`, `*/${name}`, "*.txt", "**/*.md", `${name}/**`, pick(WILD)]);
}
