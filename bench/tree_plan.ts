/**
 * The plan of a synthetic directory tree: a pure function of its parameters
 * (entry count, seed, fanout, depth), so the same parameters always give the
 * same tree, and every generator worker can rebuild the plan by itself and
 * create its share of it.
 *
 * Shape (see `planTree`): about 10% directories, 0.2% symlinks, the rest
 * empty files.  Every directory has a log-normal "size" weight (median 1,
 * sigma 1.35), so entries per directory are heavy-tailed (median about 4,
 * p99 about 100); each new subdirectory attaches to an earlier directory
 * with weight `size × (7 / fanout)^depth` (a weighted random recursive tree:
 * with fanout 10, mean entry depth about 6).  Names are made of syllables,
 * words, version numbers and extensions (mean length about 13), with a few
 * hidden, spaced and non-ASCII names.  Symlinks: 10% dangle, 10% point at a
 * directory (half of those at an ancestor: a loop for `-L` walks), the rest
 * at files elsewhere in the tree; all targets are relative, so the tree can
 * be moved.
 *
 * @module
 */

/** Parameters of a synthetic tree. */
export interface TreeParams {
  /** Entries, the root included. */
  entries: number;
  /** PRNG seed. */
  seed: number;
  /**
   * Breadth: a directory at depth k draws new subdirectories with weight
   * `size × (7 / fanout)^k`, so a larger fanout gives a wider, shallower
   * tree (10: mean entry depth about 6, like /usr).
   */
  fanout: number;
  /** Deepest entry depth (the root is 0). */
  depth: number;
}

/** The default tree: 200,000 entries. */
export const DEFAULT_PARAMS: TreeParams = { entries: 200_000, seed: 1, fanout: 10, depth: 12 };

/** Bumped whenever the plan changes, so cached trees of an older plan are regenerated. */
export const PLAN_VERSION = 1;

/** Share of entries that are directories (root included). */
const DIR_SHARE = 0.10;
/** Share of entries that are symlinks. */
const LINK_SHARE = 0.002;

/** What a symlink points at. */
export type LinkKind = "dangling" | "ancestor" | "dir" | "file";

/** A planned symlink. */
export interface LinkPlan {
  kind: LinkKind;
  /** The relative target. */
  target: string;
}

/** A planned tree. */
export interface TreePlan {
  params: TreeParams;
  /** Directories, by id (0 is the root); parents come before children. */
  dirs: number;
  /** Parent id of each directory (-1 for the root). */
  parent: Int32Array;
  /** Depth of each directory. */
  depth: Uint8Array;
  /** Name of each directory ("" for the root). */
  dirName: string[];
  /** Relative path of each directory ("" for the root). */
  dirPath: string[];
  /** Subdirectory ids of each directory. */
  children: number[][];
  /** Empty files in each directory. */
  fileCount: Int32Array;
  /** Symlinks in each directory. */
  links: Map<number, LinkPlan[]>;
  /** Totals, the root included. */
  counts: { dirs: number; files: number; symlinks: number; total: number };
}

/** Names of the entries of one directory other than its subdirectories. */
export interface DirNames {
  files: string[];
  links: string[];
}

/** Mixes a 32-bit seed (splitmix32 finalizer). */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/** A small seeded PRNG (sfc32). */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** Seeds from one or two numbers (a seed and a stream, such as a directory id). */
  constructor(seed: number, stream = 0) {
    this.#a = mix32(seed);
    this.#b = mix32(this.#a ^ stream);
    this.#c = mix32(this.#b + 0x6d2b79f5);
    this.#d = 1;
    for (let i = 0; i < 12; i++) this.next();
  }

  /** A uniform number in [0, 1). */
  next(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One element of a list. */
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)];
  }

  /** A standard normal variate (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

/** A Fenwick tree of weights, for sampling an index with probability proportional to its weight. */
class Fenwick {
  readonly #tree: Float64Array;
  #total = 0;

  /** Room for `n` weights, all zero. */
  constructor(readonly n: number) {
    this.#tree = new Float64Array(n + 1);
  }

  /** Adds `w` to index `i`'s weight. */
  add(i: number, w: number): void {
    this.#total += w;
    for (let j = i + 1; j <= this.n; j += j & -j) this.#tree[j] += w;
  }

  /** The index whose cumulative weight range holds `u × total` (u in [0, 1)). */
  sample(u: number): number {
    let target = u * this.#total;
    let pos = 0;
    for (let step = 1 << Math.floor(Math.log2(this.n)); step > 0; step >>= 1) {
      const next = pos + step;
      if (next <= this.n && this.#tree[next] <= target) {
        pos = next;
        target -= this.#tree[next];
      }
    }
    return Math.min(pos, this.n - 1);
  }
}

const SYLLABLES = (
  "ab ac al an ar ba be bi bo ca ce ch co cu da de di do el en er ex fa fi fo ga ge gi go " +
  "ha he hi id il im in io is ka ke ki la le li lo lu ma me mi mo mu na ne ni no nu ob ol " +
  "om on or pa pe pi po pro qu ra re ri ro ru sa se sh si so st su ta te th ti to tr tu " +
  "ul um un ur va ve vi vo wa we xy ya yo za ze zo"
).split(" ");
const WORDS = (
  "src lib include test tests doc docs man share bin config utils core util internal " +
  "common build dist assets icons locale fonts scripts modules plugins vendor examples " +
  "data cache index main parser server client handler types helpers README LICENSE " +
  "Makefile CHANGELOG setup module driver kernel net fs crypto sound"
).split(" ");
const EXTS = (
  ".c .h .c .h .py .js .ts .d.ts .json .md .txt .html .css .png .svg .gz .so .so.1 .o .rs " +
  ".go .rb .pl .xml .yaml .toml .mo .po .conf .pyc .1.gz .desktop .mk .cfg"
).split(" ");
const EXOTIC = ["café", "naïve", "Ünïcode", "日本語", "데이터", "résumé", "Ωmega", "emoji-🎉"];

/** A lower-case pseudo-word of 1 to 4 syllables. */
function pseudoWord(rng: Rng): string {
  let w = rng.pick(SYLLABLES);
  const n = rng.int(4);
  for (let i = 0; i < n; i++) w += rng.pick(SYLLABLES);
  return w;
}

/** A word-ish stem: real and pseudo words joined with `-` or `_`, sometimes numbered. */
function stem(rng: Rng): string {
  const r = rng.next();
  let s = r < 0.3 ? rng.pick(WORDS) : pseudoWord(rng);
  if (rng.next() < 0.45) s += rng.pick(["_", "-", "_", "-", "."]) + pseudoWord(rng);
  if (rng.next() < 0.12) s += rng.pick(["_", "-", ""]) + pseudoWord(rng);
  if (rng.next() < 0.2) {
    s += rng.pick(["-", "_", "", "."]) + String(rng.int(rng.next() < 0.7 ? 100 : 100000));
  }
  const x = rng.next();
  if (x < 0.04) s = s[0].toUpperCase() + s.slice(1);
  else if (x < 0.05) s = s.toUpperCase();
  else if (x < 0.06) s = rng.pick(EXOTIC) + "-" + s;
  else if (x < 0.07) s = s + " " + pseudoWord(rng);
  return s;
}

/** A file or symlink name. */
function fileName(rng: Rng): string {
  const r = rng.next();
  if (r < 0.02) return "." + pseudoWord(rng) + (rng.next() < 0.5 ? "rc" : "");
  if (r < 0.06) return stem(rng);
  return stem(rng) + rng.pick(EXTS);
}

/** A directory name. */
function dirName(rng: Rng): string {
  const r = rng.next();
  if (r < 0.02) return "." + pseudoWord(rng);
  if (r < 0.35) return rng.pick(WORDS) + (rng.next() < 0.3 ? "-" + pseudoWord(rng) : "");
  if (r < 0.42) return pseudoWord(rng) + "-" + rng.int(20) + "." + rng.int(10) + "." + rng.int(30);
  return stem(rng);
}

/** Adds `name` to `taken`, with a numeric suffix when it is already there; returns what was added. */
function unique(taken: Set<string>, name: string): string {
  if (!taken.has(name)) {
    taken.add(name);
    return name;
  }
  for (let i = 2;; i++) {
    const alt = `${name}~${i}`;
    if (!taken.has(alt)) {
      taken.add(alt);
      return alt;
    }
  }
}

/** Builds the plan of a tree (no file system access). */
export function planTree(params: TreeParams): TreePlan {
  const { entries, seed, fanout, depth: maxDepth } = params;
  if (!Number.isInteger(entries) || entries < 1) throw new RangeError("entries must be >= 1");
  if (maxDepth < 1) throw new RangeError("depth must be >= 1");
  if (fanout < 1) throw new RangeError("fanout must be >= 1");
  const dirs = entries < 10 ? 1 : Math.max(1, Math.round(entries * DIR_SHARE));
  const symlinks = entries < 1000 ? 0 : Math.round(entries * LINK_SHARE);
  const files = entries - dirs - symlinks;

  const rng = new Rng(seed, 0x7265);
  const parent = new Int32Array(dirs).fill(-1);
  const depth = new Uint8Array(dirs);
  const size = new Float64Array(dirs);
  const children: number[][] = Array.from({ length: dirs }, () => []);
  const attach = new Fenwick(dirs);
  const lognormal = () => Math.exp(1.35 * rng.normal());
  const decay = 7 / fanout;

  // Directories: each attaches to an earlier one, weighted by size and depth
  size[0] = Math.max(lognormal(), 4);
  attach.add(0, size[0]);
  for (let d = 1; d < dirs; d++) {
    const p = attach.sample(rng.next());
    parent[d] = p;
    depth[d] = depth[p] + 1;
    size[d] = lognormal();
    children[p].push(d);
    if (depth[d] < maxDepth - 1) attach.add(d, size[d] * Math.pow(decay, depth[d]));
  }

  // Names and paths of directories, unique among siblings
  const dirName_: string[] = new Array(dirs);
  const dirPath: string[] = new Array(dirs);
  dirName_[0] = "";
  dirPath[0] = "";
  for (let d = 0; d < dirs; d++) {
    const taken = new Set<string>();
    const nameRng = new Rng(seed, 0x100000 + d);
    for (const c of children[d]) {
      dirName_[c] = unique(taken, dirName(nameRng));
      dirPath[c] = d === 0 ? dirName_[c] : `${dirPath[d]}/${dirName_[c]}`;
    }
  }

  // Files: spread over directories by size
  const cumulative = new Float64Array(dirs);
  let acc = 0;
  for (let d = 0; d < dirs; d++) cumulative[d] = acc += size[d];
  const bySize = () => {
    const target = rng.next() * acc;
    let lo = 0, hi = dirs - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] <= target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const fileCount = new Int32Array(dirs);
  for (let i = 0; i < files; i++) fileCount[bySize()]++;

  // Symlinks: placed by size; targets chosen after, once every name is known
  const linkDirs: number[] = [];
  for (let i = 0; i < symlinks; i++) linkDirs.push(bySize());
  const linkCount = new Int32Array(dirs);
  for (const d of linkDirs) linkCount[d]++;
  const plan: TreePlan = {
    params: { ...params },
    dirs,
    parent,
    depth,
    dirName: dirName_,
    dirPath,
    children,
    fileCount,
    links: new Map(),
    counts: { dirs, files, symlinks, total: entries },
  };
  for (const d of linkDirs) {
    const r = rng.next();
    let kind: LinkKind;
    let target: string;
    if (r < 0.10) {
      kind = "dangling";
      target = relative(dirPath[d], dirPath[rng.int(dirs)]) + "/missing-" + pseudoWord(rng);
    } else if (r < 0.15 && d !== 0) {
      kind = "ancestor";
      const up = 1 + rng.int(depth[d]);
      target = Array(up).fill("..").join("/");
    } else if (r < 0.20) {
      kind = "dir";
      target = relative(dirPath[d], dirPath[rng.int(dirs)]);
    } else {
      // A file: a random one, found by walking the size-weighted directories with files
      let t = bySize();
      for (let tries = 0; fileCount[t] === 0 && tries < 64; tries++) t = bySize();
      if (fileCount[t] === 0) {
        kind = "dir";
        target = relative(dirPath[d], dirPath[t]);
      } else {
        kind = "file";
        const names = dirEntryNames(plan, t, linkCount[t]);
        target = relative(dirPath[d], dirPath[t]) + "/" + rng.pick(names.files);
      }
    }
    let list = plan.links.get(d);
    if (!list) plan.links.set(d, list = []);
    list.push({ kind, target });
  }
  return plan;
}

/** The relative path from directory `from` to `to` (both relative to the root). */
export function relative(from: string, to: string): string {
  const a = from === "" ? [] : from.split("/");
  const b = to === "" ? [] : to.split("/");
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  const parts = [...Array(a.length - common).fill(".."), ...b.slice(common)];
  return parts.length === 0 ? "." : parts.join("/");
}

/**
 * The names of a directory's files and symlinks, generated from its own
 * PRNG stream (so any worker can rebuild them), unique against its
 * subdirectories and each other.
 */
export function dirEntryNames(plan: TreePlan, d: number, links?: number): DirNames {
  const rng = new Rng(plan.params.seed, 0x40000000 + d);
  const taken = new Set<string>();
  for (const c of plan.children[d]) taken.add(plan.dirName[c]);
  const files: string[] = new Array(plan.fileCount[d]);
  for (let i = 0; i < files.length; i++) files[i] = unique(taken, fileName(rng));
  const n = links ?? plan.links.get(d)?.length ?? 0;
  const linkNames: string[] = new Array(n);
  for (let i = 0; i < n; i++) linkNames[i] = unique(taken, fileName(rng));
  return { files, links: linkNames };
}

/** Statistics of a planned tree, for reports. */
export interface TreeStats {
  dirs: number;
  files: number;
  symlinks: number;
  total: number;
  danglingLinks: number;
  dirLinks: number;
  ancestorLinks: number;
  maxDepth: number;
  meanDepth: number;
  entriesPerDir: { median: number; p99: number; max: number };
  meanNameLength: number;
  /** A hash (cyrb53, hex) of every relative path in plan order: equal hashes mean equal trees. */
  listHash: string;
}

/** Computes the statistics of a plan (generates every name once). */
export function planStats(plan: TreePlan): TreeStats {
  let h1 = 0xdeadbeef ^ plan.params.seed, h2 = 0x41c6ce57 ^ plan.params.seed;
  const feed = (s: string) => {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 2654435761);
      h2 = Math.imul(h2 ^ c, 1597334677);
    }
    h1 = Math.imul(h1 ^ 10, 2654435761);
  };
  let depthSum = 0, maxDepth = 0, nameSum = 0, named = 0;
  const perDir = new Int32Array(plan.dirs);
  for (let d = 0; d < plan.dirs; d++) {
    const names = dirEntryNames(plan, d);
    const path = plan.dirPath[d];
    feed(path);
    if (d !== 0) {
      nameSum += plan.dirName[d].length;
      named++;
    }
    depthSum += plan.depth[d];
    maxDepth = Math.max(maxDepth, plan.depth[d]);
    const childDepth = plan.depth[d] + 1;
    const n = names.files.length + names.links.length;
    if (n > 0) maxDepth = Math.max(maxDepth, childDepth);
    depthSum += n * childDepth;
    perDir[d] = plan.children[d].length + n;
    for (const name of names.files) {
      feed(path ? `${path}/${name}` : name);
      nameSum += name.length;
    }
    const links = plan.links.get(d) ?? [];
    names.links.forEach((name, i) => {
      feed(`${path ? `${path}/${name}` : name} -> ${links[i].target}`);
      nameSum += name.length;
    });
    named += n;
  }
  perDir.sort();
  const q = (p: number) => perDir[Math.min(perDir.length - 1, Math.floor(p * perDir.length))];
  const kinds = { dangling: 0, ancestor: 0, dir: 0, file: 0 };
  for (const list of plan.links.values()) for (const l of list) kinds[l.kind]++;
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  const hex = (x: number) => (x >>> 0).toString(16).padStart(8, "0");
  return {
    ...plan.counts,
    danglingLinks: kinds.dangling,
    dirLinks: kinds.dir + kinds.ancestor,
    ancestorLinks: kinds.ancestor,
    maxDepth,
    meanDepth: depthSum / plan.counts.total,
    entriesPerDir: { median: q(0.5), p99: q(0.99), max: perDir[perDir.length - 1] },
    meanNameLength: named ? nameSum / named : 0,
    listHash: hex(h2) + hex(h1),
  };
}
