/**
 * walk() and walkSync() against the real `@std/fs` `walk` and `walkSync`
 * (tests/std_walk.ts says which copy), over the cross product of the
 * options std's own tests use (maxDepth, includeFiles, includeDirs,
 * includeSymlinks, followSymlinks, canonicalize, exts, match, skip), on
 * random trees with odd names: spaces, newlines, glob and RegExp
 * characters, quotes, unicode (composed and not), leading dots and dashes,
 * 255-byte names, FIFOs and sockets, links to files and directories (in the
 * tree and out of it, relative and absolute, chained), dangling links, links
 * through a file, and links that loop.
 *
 * The trees and the patterns come from a seed ($IOQ_TEST_SEED, printed).
 * Entries are compared by path, name and type flags: in std's order where
 * both define one (walk()'s "dfs" is std's order), else as multisets.
 *
 * What std cannot be the reference for is left out, and said: names that
 * are not UTF-8 (std's entries cannot hold them; names_test.ts covers them);
 * when following links, loops back to an ancestor (std never ends),
 * `canonicalize: false` below the first level (std canonicalizes there),
 * and dangling or looping links (std throws on them: walk() is compared
 * with what std yielded until it threw).
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import { join, relative } from "@std/path";
import type { WalkEntry as StdEntry } from "@std/fs/walk";
import { IoQueue, walk, type WalkEntry, type WalkOptions, walkSync } from "../../mod.ts";
import { makeTree, random, testBackends, testSeed } from "../helpers.ts";
import { mkFifo, mkSocket } from "../libc.ts";
import { stdWalk, stdWalkSync } from "../std_walk.ts";
import { describeOptions, flags, withCwd } from "./support.ts";

console.error(
  "NOTE: the differential trees hold no name that is not UTF-8: @std/fs walk cannot " +
    "represent one (names_test.ts tests them)",
);

/** A seeded source of choices. */
class Dice {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = random(seed);
  }
  /** A number in [0, n). */
  int(n: number): number {
    return Math.floor(this.#next() * n);
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return this.#next() < p;
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)];
  }
}

// ---------------------------------------------------------------------------
// Trees

/** Stems of names: what shells, globs, RegExps, path joins and decoders trip on. */
const STEMS = [
  "plain",
  "with space",
  " lead",
  "trail ",
  "new\nline",
  "tab\tin",
  "cr\r",
  "[set]",
  "star*",
  "q?mark",
  "{a,b}",
  "!bang",
  "@(x|y)",
  "+(z)",
  "(paren)",
  "a|b",
  "^caret$",
  "#hash",
  "%41",
  "%",
  "$HOME",
  "back\\slash",
  "'sq'",
  '"dq"',
  "é-composed",
  "e\u0301-decomposed",
  "日本語",
  "emoji-🎉",
  "Ωmega",
  "\u200bzero-width",
  "nb\u00a0sp",
  ".hidden",
  "..dots",
  "...",
  "-dash",
  "--",
  "x",
  "y",
  "xy",
  "a.b.c",
  "trailing.",
  "ü".repeat(120) + "x", // 241 bytes: with an extension and a suffix, up to 255
];

/** Extensions names get (exts filters on them; directories and links have them too). */
const EXTS = ["", "", "", ".ts", ".rs", ".txt", ".rs.ts", ".ts.bak", ".TS"];

/** The kinds of links a tree may hold. */
type LinkKind =
  | "file"
  | "dir"
  | "outside"
  | "chain"
  | "dangling"
  | "through-file"
  | "self"
  | "mutual"
  | "ancestor";

/** Kinds of links std can follow without throwing or walking forever. */
const FOLLOWABLE: LinkKind[] = ["file", "dir", "outside", "chain"];

/** The trees, by what walks them. */
const SPECS = {
  /** Not following: every link is an entry of its own, loops included. */
  all: { kinds: [...FOLLOWABLE, "dangling", "through-file", "self", "mutual", "ancestor"] },
  /** Following, canonicalized: links at every depth. */
  deep: { kinds: FOLLOWABLE },
  /** Following as found: links in the root only (std canonicalizes deeper ones). */
  shallow: { kinds: FOLLOWABLE, top: true },
  /** Following, with links std throws on: compared up to std's throw. */
  broken: { kinds: [...FOLLOWABLE, "dangling", "through-file", "self", "mutual"], top: true },
} as const satisfies Record<string, { kinds: readonly LinkKind[]; top?: boolean }>;

type TreeName = keyof typeof SPECS;

/** A tree being made: its directories, files and links, relative to its root. */
class TreeMaker {
  readonly dirs: string[] = [""];
  readonly files: string[] = [];
  readonly links: { path: string; kind: LinkKind }[] = [];
  /** Names taken, per directory. */
  readonly #taken = new Map<string, Set<string>>();

  constructor(readonly root: string, readonly dice: Dice) {}

  /** A fresh odd name in `dir`. */
  name(dir: string): string {
    const taken = this.#taken.get(dir) ?? new Set();
    this.#taken.set(dir, taken);
    const stem = this.dice.pick(STEMS);
    const ext = this.dice.pick(EXTS);
    let name = stem + ext;
    for (let n = 2; taken.has(name); n++) name = `${stem}${n}${ext}`;
    taken.add(name);
    return name;
  }

  /** Directories, files, FIFOs and sockets below `dir`, to depth 4. */
  fill(dir: string, depth: number): void {
    const count = 2 + this.dice.int(5);
    for (let i = 0; i < count; i++) {
      const path = join(dir, this.name(dir));
      const full = join(this.root, path);
      if (depth < 4 && this.dice.chance(0.35 - depth * 0.07)) {
        Deno.mkdirSync(full);
        this.dirs.push(path);
        this.fill(path, depth + 1);
      } else if (this.dice.chance(0.04)) {
        mkFifo(full);
      } else if (this.dice.chance(0.03)) {
        mkSocket(full);
      } else {
        Deno.writeTextFileSync(full, "");
        this.files.push(path);
      }
    }
  }

  /** A link to `target` at `path`: relative or absolute, at random. */
  link(target: string, path: string, kind: LinkKind): void {
    const absolute = this.dice.chance(0.3);
    const from = join(this.root, path, "..");
    Deno.symlinkSync(absolute ? target : relative(from, target) || ".", join(this.root, path));
    this.links.push({ path, kind });
  }
}

/**
 * Makes a tree of `spec` under `base`.  Links to directories lead into
 * "targets" that hold no link, and no link lies inside a target: following
 * never loops (unless the spec asks for loops).
 */
function makeOddTree(base: string, name: TreeName, outside: string, dice: Dice): string {
  const spec: { kinds: readonly LinkKind[]; top?: boolean } = SPECS[name];
  const root = join(base, name);
  Deno.mkdirSync(root);
  const t = new TreeMaker(root, dice);
  t.fill("", 0);
  // Make sure x and y (std's match and skip patterns) and a directory exist
  for (const stem of ["x.ts", "y.rs"]) Deno.writeTextFileSync(join(root, t.name("") + stem), "");
  if (t.dirs.length === 1) {
    const dir = t.name("");
    Deno.mkdirSync(join(root, dir));
    Deno.writeTextFileSync(join(root, dir, "inside.ts"), "");
    t.dirs.push(dir);
    t.files.push(join(dir, "inside.ts"));
  }
  const targets = t.dirs.filter((d) => d !== "" && dice.chance(0.4));
  if (targets.length === 0) targets.push(t.dirs[1]);
  const inTarget = (path: string) => targets.some((d) => path === d || path.startsWith(`${d}/`));
  const homes = spec.top ? [""] : t.dirs.filter((d) => !inTarget(d));
  const linkCount = 5 + dice.int(6);
  const missing = () => !spec.kinds.every((k) => t.links.some((l) => l.kind === k));
  for (let i = 0; (i < linkCount || missing()) && i < 100; i++) {
    const kind = i < spec.kinds.length ? spec.kinds[i] : dice.pick(spec.kinds);
    const home = dice.pick(homes);
    const path = join(home, t.name(home));
    const full = (p: string) => join(root, p);
    if (kind === "file") t.link(full(dice.pick(t.files)), path, kind);
    else if (kind === "dir") t.link(full(dice.pick(targets)), path, kind);
    else if (kind === "outside") t.link(outside, path, kind);
    else if (kind === "chain") {
      const to = t.links.find((l) => ["file", "dir", "outside"].includes(l.kind));
      if (to) t.link(full(to.path), path, kind);
    } else if (kind === "dangling") t.link(full(join(home, "nowhere")), path, kind);
    else if (kind === "through-file") t.link(`${full(dice.pick(t.files))}/below`, path, kind);
    else if (kind === "self") t.link(full(path), path, kind);
    else if (kind === "ancestor") t.link(full(dice.chance(0.5) ? "" : home), path, kind);
    else if (kind === "mutual") {
      const other = join(home, t.name(home));
      t.link(full(other), path, kind);
      t.link(full(path), other, kind);
    }
  }
  return root;
}

// ---------------------------------------------------------------------------
// Options

/** Patterns for match and skip: std's own ([/x/, /y/]) and some on odd names. */
const PATTERNS: RegExp[][] = [
  [/x/, /y/],
  [/x/, /y/],
  [/\[|\*|\?/],
  [/\n|\t/],
  [/\/\.[^/]*$/],
  [/é|日本|🎉/u],
  [/\.ts$/, /\s/],
];

/** The values each option takes (undefined: left out, std's default). */
const DIMENSIONS = {
  maxDepth: [undefined, 0, 1, 3],
  includeFiles: [undefined, false],
  includeDirs: [undefined, false],
  includeSymlinks: [undefined, false],
  followSymlinks: [undefined, true],
  canonicalize: [undefined, false],
  exts: [undefined, [".rs", ".ts"], ["rs", "ts"]],
  match: [undefined, "some"],
  skip: [undefined, "some"],
} as const;

/** Every combination of the dimensions' values, with patterns chosen by the dice. */
function optionProduct(dice: Dice): WalkOptions[] {
  let product: Record<string, unknown>[] = [{}];
  for (const [name, values] of Object.entries(DIMENSIONS)) {
    product = product.flatMap((options) =>
      (values as readonly unknown[]).map((value) => {
        if (value === undefined) return options;
        return { ...options, [name]: value === "some" ? dice.pick(PATTERNS) : value };
      })
    );
  }
  return product as WalkOptions[];
}

/** The tree a walk with these options is compared on in full. */
function treeFor(options: WalkOptions): TreeName {
  if (!options.followSymlinks) return "all";
  return options.canonicalize === false ? "shallow" : "deep";
}

// ---------------------------------------------------------------------------
// Comparing

/** An entry as compared: path, name and type flags. */
function view(e: StdEntry | WalkEntry): string {
  return `${flags(e)} ${JSON.stringify(e.path)} ${JSON.stringify(e.name)}`;
}

/** What a walk gave: its entries' views, and what it threw or reported. */
interface Run {
  views: string[];
  error: Error | undefined;
}

async function runAsync(entries: AsyncIterable<StdEntry | WalkEntry>): Promise<Run> {
  const views: string[] = [];
  try {
    for await (const e of entries) views.push(view(e));
  } catch (error) {
    return { views, error: error as Error };
  }
  return { views, error: undefined };
}

function runSync(entries: Iterable<StdEntry | WalkEntry>): Run {
  const views: string[] = [];
  try {
    for (const e of entries) views.push(view(e));
  } catch (error) {
    return { views, error: error as Error };
  }
  return { views, error: undefined };
}

/** The errors std may throw on a tree with broken links, when following them. */
const STD_BROKEN = ["NotFound", "FilesystemLoop", "NotADirectory"];

/**
 * Compares walk() and walkSync() in both orders with std's walk and walkSync
 * for one root and options.  `prefixOnly`: std may throw on a broken link;
 * walk() must then give what std gave until then.
 */
async function compare(
  root: string | URL,
  options: WalkOptions,
  queue: IoQueue,
  prefixOnly: boolean,
  label: string,
): Promise<boolean> {
  const std = await runAsync(stdWalk(root, options));
  const stdSync = runSync(stdWalkSync(root, options));
  assertEquals(
    [stdSync.views, String(stdSync.error)],
    [std.views, String(std.error)],
    `${label}: std's walk and walkSync disagree`,
  );
  if (std.error) {
    assert(prefixOnly && STD_BROKEN.includes(std.error.name), `${label}: std threw ${std.error}`);
  }
  const reported: string[] = [];
  const onError = (error: Error, path: string) => reported.push(`${error.name} ${path}`);
  for (const order of ["dfs", "bfs"] as const) {
    const opts = { ...options, order, queue, onError };
    const ours = [await runAsync(walk(root, opts)), runSync(walkSync(root, opts))];
    for (const [i, got] of ours.entries()) {
      const what = `${label} ${order} ${i ? "walkSync()" : "walk()"}`;
      assertEquals(got.error, undefined, what);
      assertEquals(reported, [], `${what}: errors reported`);
      if (order === "dfs" && !std.error) {
        assertEquals(got.views, std.views, `${what}: in std's order`);
      } else if (order === "dfs") {
        assertEquals(got.views.slice(0, std.views.length), std.views, `${what}: until std threw`);
      } else if (!std.error) {
        assertEquals([...got.views].sort(), [...std.views].sort(), `${what}: as a multiset`);
      } else {
        const left = [...got.views];
        for (const v of std.views) {
          const at = left.indexOf(v);
          assert(at >= 0, `${what}: ${v}, yielded by std before it threw, is missing`);
          left.splice(at, 1);
        }
      }
    }
  }
  return std.error !== undefined;
}

/** The ways a root is given (relative to the trees' parent, the working directory). */
function rootForms(name: string, base: string): (string | URL)[] {
  return [
    name,
    `./${name}/`,
    join(base, name),
    `${join(base, name)}/`,
    new URL(`file://${base}/${name}`),
  ];
}

testBackends(
  "walk() and walkSync() match @std/fs walk and walkSync over the product of std's options on odd trees",
  async (backend) => {
    const seed = testSeed(`differential walks [${backend}]`);
    const dice = new Dice(seed);
    const base = await makeTree([]);
    try {
      const outside = join(base, "outside dir");
      Deno.mkdirSync(join(outside, "sub [x]"), { recursive: true });
      for (const f of ["o.ts", "y\nz.rs", "sub [x]/deep.ts"]) {
        Deno.writeTextFileSync(join(outside, f), "");
      }
      const trees = Object.fromEntries(
        (Object.keys(SPECS) as TreeName[]).map((name) => [
          name,
          makeOddTree(base, name, outside, dice),
        ]),
      ) as Record<TreeName, string>;
      await using queue = new IoQueue({ backend });
      const product = optionProduct(dice);
      let brokenThrows = 0;
      await withCwd(base, async () => {
        for (const options of product) {
          const name = treeFor(options);
          const root = dice.pick(rootForms(name, base));
          const label = `seed ${seed}: ${String(root)} ${describeOptions(options)}`;
          await compare(root, options, queue, false, label);
          if (options.followSymlinks) {
            const broken = dice.pick(rootForms("broken", base));
            if (await compare(broken, options, queue, true, `${label} (broken links)`)) {
              brokenThrows++;
            }
          }
        }
      });
      // The broken tree's comparisons must not all be empty prefixes
      assert(brokenThrows > 0, "std never threw on the broken tree");
      console.log(
        `differential [${backend}]: ${product.length} option sets, 4 trees ` +
          `(${Object.values(trees).map((t) => t.slice(base.length + 1)).join(", ")}), ` +
          `std threw on broken links in ${brokenThrows} walks`,
      );
    } finally {
      await Deno.remove(base, { recursive: true });
    }
  },
);
