/**
 * The walk behind the CLI: the one module that knows how entries are found.
 *
 * The CLI gives a `WalkPlan` (roots, symlink rule, depths, order, what each
 * entry needs fetched, and the `FastPlan` when the expression is simple
 * enough to be evaluated without it) and a `DriveTarget` (cli/entry.ts);
 * the driver calls `target.visit()` for every entry at or below `minDepth`,
 * in walk order, and `target.error()` for every error that is not an
 * entry, and honours the verdicts (`PRUNE`, `QUIT`).  With a fast plan (and
 * no -s or -depth), it writes or counts the matching paths itself.
 *
 * This implementation sits on the library's walker (`walkLikeFind`) and
 * does what the walker does not do natively here, in TypeScript:
 * - `-depth`: the walk goes depth-first, and each directory is held until
 *   its subtree is over (a stack of the directories being walked);
 * - `-s`: each starting point's tree is gathered, then visited depth-first
 *   with every directory's entries sorted by bytes (memory: the whole tree);
 * - `-prune`: the walk still reads pruned directories; what is below them
 *   is dropped, errors included;
 * - `-H`: a starting point that is a link to a directory is walked through
 *   the link;
 * - entries' extras (`xstat`, `followed`, `empty`) through a queue of its
 *   own, one entry at a time, and link targets with readlink(2) from
 *   JavaScript (readlink(1) for paths that are not UTF-8): driver_extras.ts;
 * - the fast plan only when its types are f, d or l (the walker's entries
 *   tell no others apart without a stat);
 * - times come to the millisecond (the walker's `Deno.FileInfo`).
 *
 * @module
 */

import { compareBytes, dirKey, keyOf, parentKey, rootNameStart } from "./bytes.ts";
import { Extras } from "./driver_extras.ts";
import {
  type DriveTarget,
  DT,
  type FastPlan,
  type FindEntry,
  type FindError,
  findError,
  findStat,
  modeType,
  PRUNE,
  QUIT,
  type WalkPlan,
} from "./entry.ts";
import { walkLikeFind } from "../lib/walk.ts";
import type { PathSink, WalkEntry } from "../lib/walker.ts";
import type { DirBatch } from "../lib/dir.ts";

/**
 * Walks every root of the plan.
 *
 * @returns How many entries the fast plan matched (0 without one).
 * @throws Errors that end the walk (a queue that cannot be made, a refused
 *   backend); errors about paths go to `target.visit()`.
 */
export async function drive(plan: WalkPlan, target: DriveTarget): Promise<number> {
  const driver = new Driver(plan, target);
  try {
    for (const root of plan.roots) {
      await driver.walkRoot(root);
      if (driver.quit) break;
    }
  } finally {
    await driver.close();
  }
  return driver.matched;
}

/** Thrown from a sink callback to end the walk. */
const STOP = Symbol("stop");

const encoder = new TextEncoder();
const strict = new TextDecoder("utf-8", { fatal: true });

/** A root as walked. */
interface Root {
  /** The path handed to the walker (`root/` for a followed -H link to a directory). */
  walkPath: string;
  /** The root's bytes as shown. */
  bytes: Uint8Array;
  /** The walker follows links. */
  follow: boolean;
  /** The root itself was reached through a link (for -xtype's other rule). */
  followedRoot: boolean;
  /** The root's entry was seen. */
  seen: boolean;
}

/** A directory held for -depth until its subtree is over. */
interface Frame {
  dir: FindEntry;
  /** Its key (see bytes.ts). */
  key: string;
  /** Its subdirectories the walker will read, in the order it reads them. */
  kids: FindEntry[];
  next: number;
}

/** A node of a gathered tree (-s). */
interface TreeNode {
  entry: FindEntry;
  children: TreeNode[];
  /** Errors about this directory or about entries in it that are not entries (loops). */
  reports: [Uint8Array, FindError][];
}

/** One use: walks the roots of a plan. */
class Driver {
  readonly #plan: WalkPlan;
  readonly #target: DriveTarget;
  /** Set by a QUIT verdict. */
  quit = false;
  /** Fast-path matches. */
  matched = 0;
  /** Keys of directories pruned, and of every directory below one seen since. */
  readonly #pruned = new Set<string>();
  /** What the walker's entries lack, fetched one at a time. */
  readonly #fetch: Extras;
  /** Entries made from errors, to visit before the walker's next entry. */
  #pending: FindEntry[] = [];
  /** Listings read again to learn the types of entries that could not be stat'ed, by directory. */
  readonly #listed = new Map<string, Map<string, number>>();
  /** -depth's stack. */
  #frames: Frame[] = [];
  /** -s's tree of the current root, and its directories by key. */
  #tree: TreeNode | undefined;
  #dirs = new Map<string, TreeNode>();

  constructor(plan: WalkPlan, target: DriveTarget) {
    this.#plan = plan;
    this.#target = target;
    this.#fetch = new Extras(plan.backend, (path, error) => this.#report(path, error));
  }

  /** Whether the fast path applies (its types must be exact from listings alone). */
  get #fast(): FastPlan | undefined {
    const p = this.#plan;
    const fast = p.fast;
    if (!fast || p.postOrder || p.sorted || p.needs.types) return undefined;
    const exact = (1 << DT.REG) | (1 << DT.DIR) | (1 << DT.LNK);
    return fast.types === undefined || (fast.types & ~exact) === 0 ? fast : undefined;
  }

  /** Walks one root. */
  async walkRoot(root: string): Promise<void> {
    const plan = this.#plan;
    if (root === "") {
      this.#report(new Uint8Array(), {
        errno: 2,
        code: "ENOENT",
        message: "No such file or directory",
      });
      return;
    }
    const info = this.#rootInfo(root);
    const needs = plan.needs;
    const fast = this.#fast;
    const stat = needs.stat || needs.types;
    const extras = needs.xstat || needs.empty || needs.followed;
    const ordered = plan.postOrder || plan.sorted;
    const sink = fast
      ? this.#fastSink(fast, info)
      : !stat && !extras && !ordered
      ? this.#sink(info)
      : undefined;
    const walker = walkLikeFind(info.walkPath, {
      maxDepth: plan.maxDepth,
      followSymlinks: info.follow,
      order: ordered ? "dfs" : plan.order,
      sameFilesystem: plan.sameFilesystem,
      stat,
      onError: (error, path) => this.#onError(error, path, info),
      queue: {
        backend: plan.backend,
        ...(plan.threads === undefined ? {} : { threads: plan.threads }),
      },
    }, sink);
    this.#pruned.clear();
    try {
      for await (const w of walker) {
        await this.#flushPending(fast, info);
        const e = this.#entry(w, info);
        if (fast) this.#fastVisit(fast, e);
        else await this.#handle(e, info);
        if (this.quit) break;
      }
      await this.#flushPending(fast, info);
    } catch (error) {
      if (error !== STOP) throw error;
    }
    if (plan.postOrder && !plan.sorted) await this.#unwind(undefined);
    if (plan.sorted) await this.#visitTree();
  }

  /** Visits the entries made from errors (see #onError), in the order they came. */
  async #flushPending(fast: FastPlan | undefined, info: Root): Promise<void> {
    while (this.#pending.length > 0 && !this.quit) {
      const e = this.#pending.shift()!;
      if (fast) this.#fastVisit(fast, e);
      else await this.#handle(e, info);
    }
  }

  /** Closes what the walk opened. */
  async close(): Promise<void> {
    await this.#fetch.close();
  }

  /** How a root is walked under the plan's symlink rule. */
  #rootInfo(root: string): Root {
    const follow = this.#plan.follow;
    const info: Root = {
      walkPath: root,
      bytes: encoder.encode(root),
      follow: follow === "L",
      followedRoot: follow !== "P",
      seen: false,
    };
    if (follow !== "H") return info;
    // -H: follow the root only; through a link to a directory, walk "root/"
    try {
      if (!Deno.lstatSync(root).isSymlink) return info;
      const target = Deno.statSync(root);
      if (target.isDirectory) info.walkPath = root.endsWith("/") ? root : `${root}/`;
      else info.follow = true;
    } catch {
      info.followedRoot = false;
    }
    return info;
  }

  /** A walker entry as a FindEntry. */
  #entry(w: WalkEntry, info: Root): FindEntry {
    let path: Uint8Array;
    if (w.depth === 0) {
      info.seen = true;
      path = info.bytes;
    } else {
      path = w.pathBytes ?? encoder.encode(w.path);
    }
    const stat = w.stat ? findStat(w.stat) : undefined;
    const type = stat
      ? modeType(stat.mode)
      : w.isDirectory
      ? DT.DIR
      : w.isFile
      ? DT.REG
      : w.isSymlink
      ? DT.LNK
      : DT.UNKNOWN;
    return {
      path,
      nameStart: w.depth === 0 ? rootNameStart(path) : path.lastIndexOf(0x2f) + 1,
      rootLength: info.bytes.length,
      depth: w.depth,
      type,
      stat,
    };
  }

  /** An error from the walker: reported, or for a dangling -L root, the link itself. */
  #onError(error: Error, path: string, info: Root): void {
    const code = (error as { code?: string }).code ?? "EIO";
    const bytes = encoder.encode(path);
    if (!info.seen && path === info.walkPath) {
      info.seen = true;
      if (info.follow && (code === "ENOENT" || code === "ENOTDIR")) {
        // find -L shows a starting point that leads nowhere as the link it is
        try {
          const lstat = Deno.lstatSync(info.walkPath);
          if (lstat.isSymlink) {
            const needs = this.#plan.needs;
            this.#pending.push({
              path: info.bytes,
              nameStart: rootNameStart(info.bytes),
              rootLength: info.bytes.length,
              depth: 0,
              type: DT.LNK,
              stat: needs.stat || needs.types ? findStat(lstat) : undefined,
            });
            return;
          }
        } catch {
          // Report the first error
        }
      }
      this.#report(info.bytes, findError(error));
      return;
    }
    if (this.#plan.ignoreRace && code === "ENOENT") return;
    const nameStart = bytes.lastIndexOf(0x2f) + 1;
    if (
      this.#pruned.size > 0 &&
      (this.#pruned.has(dirKey(bytes, 0, bytes.length)) ||
        this.#pruned.has(parentKey(bytes, 0, nameStart)))
    ) {
      // A pruned directory (the walk had already asked for it), or what is in one
      return;
    }
    if ((error as { op?: string }).op === "stat" && code !== "ELOOP") {
      // Listed but not stat'ed: still an entry, as in find, whose tests that
      // need its stat report this and are false (a link that loops is only
      // an error)
      this.#pending.push({
        path: bytes,
        nameStart,
        rootLength: info.bytes.length,
        depth: depthOf(bytes, info.bytes.length),
        type: this.#listedType(bytes, nameStart),
        error: findError(error),
      });
      return;
    }
    if (this.#plan.sorted) {
      const node = this.#dirs.get(dirKey(bytes, 0, bytes.length)) ??
        this.#dirs.get(parentKey(bytes, 0, nameStart));
      node?.reports.push([bytes, findError(error)]);
      return;
    }
    this.#report(bytes, findError(error));
  }

  /** Reports an error through the target. */
  #report(path: Uint8Array, error: FindError): void {
    this.#target.error(path, error);
  }

  /**
   * The type the listing gave an entry that could not be stat'ed (its
   * directory read again, once): find knows it from readdir.
   */
  #listedType(path: Uint8Array, nameStart: number): number {
    const key = parentKey(path, 0, nameStart);
    let types = this.#listed.get(key);
    if (!types) {
      types = new Map();
      this.#listed.set(key, types);
      try {
        for (const d of Deno.readDirSync(strict.decode(path.subarray(0, nameStart)))) {
          types.set(
            d.name,
            d.isDirectory ? DT.DIR : d.isFile ? DT.REG : d.isSymlink ? DT.LNK : DT.UNKNOWN,
          );
        }
      } catch {
        // Unknown
      }
    }
    try {
      return types.get(strict.decode(path.subarray(nameStart))) ?? DT.UNKNOWN;
    } catch {
      return DT.UNKNOWN;
    }
  }

  /** An entry in the general path: by order, to the target. */
  async #handle(e: FindEntry, info: Root): Promise<void> {
    const plan = this.#plan;
    if (plan.sorted) {
      this.#gather(e);
      return;
    }
    if (plan.postOrder) {
      await this.#postOrder(e);
      return;
    }
    if (
      this.#pruned.size > 0 && e.depth > 0 && this.#pruned.has(parentKey(e.path, 0, e.nameStart))
    ) {
      if (e.type === DT.DIR) this.#pruned.add(dirKey(e.path, 0, e.path.length));
      return;
    }
    await this.#visit(e, info);
  }

  /** Fills an entry's extras and visits it (if deep enough); records the verdict. */
  async #visit(e: FindEntry, info?: Root): Promise<void> {
    if (e.depth < this.#plan.minDepth) return;
    // (an entry that could not be stat'ed is not gone into, as in find)
    if (!e.error) await this.#extras(e, info);
    const verdict = this.#target.visit(e);
    if (verdict === QUIT) this.quit = true;
    else if (verdict === PRUNE) this.#pruned.add(dirKey(e.path, 0, e.path.length));
  }

  /** -depth: visits e now, or holds it (a directory to be read) until its subtree is over. */
  async #postOrder(e: FindEntry): Promise<void> {
    const copy = { ...e, path: e.path.slice() };
    if (copy.depth > 0) await this.#unwind(parentKey(copy.path, 0, copy.nameStart));
    if (this.quit) return;
    if (copy.type === DT.DIR && copy.depth < this.#plan.maxDepth) {
      if (copy.depth === 0) this.#frames.push(frame(copy));
      else this.#frames[this.#frames.length - 1]?.kids.push(copy);
      return;
    }
    await this.#visit(copy);
  }

  /**
   * Visits the held directories whose subtrees are over, up to the frame of
   * `parent` (the key of the directory being read now: the walk is depth-first, and
   * reads a directory's subdirectories in the order it listed them).  With
   * no key, visits them all.
   */
  async #unwind(parent: string | undefined): Promise<void> {
    while (this.#frames.length > 0 && !this.quit) {
      const top = this.#frames[this.#frames.length - 1];
      if (parent !== undefined && top.key === parent) return;
      if (top.next < top.kids.length) {
        const kid = top.kids[top.next++];
        if (parent !== undefined && dirKey(kid.path, 0, kid.path.length) === parent) {
          this.#frames.push(frame(kid));
          return;
        }
        // Read with nothing in it (or unreadable): over
        await this.#visit(kid);
        continue;
      }
      this.#frames.pop();
      await this.#visit(top.dir);
    }
  }

  /** -s: adds an entry to the current root's tree. */
  #gather(e: FindEntry): void {
    const node: TreeNode = { entry: { ...e, path: e.path.slice() }, children: [], reports: [] };
    if (e.depth === 0) {
      this.#tree = node;
      this.#dirs.clear();
    } else {
      this.#dirs.get(parentKey(node.entry.path, 0, e.nameStart))?.children.push(node);
    }
    if (e.type === DT.DIR) this.#dirs.set(dirKey(node.entry.path, 0, e.path.length), node);
  }

  /** -s: visits the gathered tree depth-first, sorted, pre- or post-order. */
  async #visitTree(): Promise<void> {
    const tree = this.#tree;
    this.#tree = undefined;
    this.#dirs.clear();
    if (!tree) return;
    const post = this.#plan.postOrder;
    const walk = async (node: TreeNode): Promise<void> => {
      if (!post) {
        const before = this.#pruned.size;
        await this.#visit(node.entry);
        if (this.#pruned.size > before || this.quit) return;
      }
      for (const [path, error] of node.reports) this.#report(path, error);
      node.children.sort((a, b) => compareBytes(a.entry.path, b.entry.path));
      for (const child of node.children) {
        if (this.quit) return;
        await walk(child);
      }
      if (post && !this.quit) await this.#visit(node.entry);
    };
    await walk(tree);
    this.#pruned.clear();
  }

  /** Fills what the plan needs beyond the walker's entry: xstat, emptiness, link target. */
  async #extras(e: FindEntry, info?: Root): Promise<void> {
    const needs = this.#plan.needs;
    const x = this.#fetch;
    if (needs.linkTarget && e.type === DT.LNK) e.linkTarget = x.readLink(e);
    if (needs.xstat) {
      const followed = this.#plan.follow === "L" ||
        (e.depth === 0 && (info?.followedRoot ?? false));
      if (followed) e.xstat = await x.stat(e.path, false);
      else if (e.type === DT.LNK) e.xstat = await x.stat(e.path, true);
      else if (e.stat) e.xstat = e.stat;
    }
    if (needs.empty && e.type === DT.DIR) e.empty = await x.isEmpty(e);
    if (needs.followed) {
      // As faccessat() sees it: through links; nothing when that fails
      const s = e.stat && e.type !== DT.LNK ? e.stat : await x.stat(e.path, true);
      e.followed = "errno" in s ? undefined : s;
    }
  }

  /**
   * The sink for the general path without stats: each listed entry visited
   * as it comes, no WalkEntry made.
   */
  #sink(info: Root): PathSink {
    const entry: FindEntry = {
      path: new Uint8Array(),
      nameStart: 0,
      rootLength: info.bytes.length,
      depth: 0,
      type: DT.UNKNOWN,
    };
    const plan = this.#plan;
    return {
      end: 0x0a,
      paths: (batch: DirBatch, depth: number) => {
        const records = batch.records;
        const prefix = batch.prefixLength;
        // The whole batch is under a pruned directory: so are its subdirectories
        if (this.#pruned.size > 0 && this.#pruned.has(parentKey(records, 0, prefix))) {
          for (let i = 0; i < batch.count; i++) {
            if (batch.type(i) !== DT.DIR) continue;
            const start = batch.offset(i);
            this.#pruned.add(keyOf(records, start, start + prefix + batch.nameLength(i)));
          }
          return;
        }
        if (depth < plan.minDepth) return;
        entry.depth = depth;
        entry.nameStart = prefix;
        for (let i = 0; i < batch.count; i++) {
          const start = batch.offset(i);
          const end = start + prefix + batch.nameLength(i);
          entry.path = records.subarray(start, end);
          entry.type = batch.type(i);
          entry.linkTarget = plan.needs.linkTarget && entry.type === DT.LNK
            ? this.#fetch.readLink(entry)
            : undefined;
          const verdict = this.#target.visit(entry);
          if (verdict === QUIT) {
            this.quit = true;
            throw STOP;
          }
          if (verdict === PRUNE) this.#pruned.add(keyOf(records, start, end));
        }
      },
    };
  }

  /** The sink for the fast path: listings matched, and written or counted, in bulk. */
  #fastSink(fast: FastPlan, _info: Root): PathSink {
    const plan = this.#plan;
    const out = this.#target.out;
    const all = fast.names.length === 0 && fast.types === undefined;
    return {
      end: fast.action === "print0" ? 0 : 0x0a,
      paths: (batch: DirBatch, depth: number) => {
        if (depth < plan.minDepth) return;
        if (all) {
          this.matched += batch.count;
          if (fast.action !== "count") out.bytes(batch.records);
          return;
        }
        const records = batch.records;
        const prefix = batch.prefixLength;
        for (let i = 0; i < batch.count; i++) {
          if (fast.types !== undefined && ((1 << batch.type(i)) & fast.types) === 0) continue;
          const start = batch.offset(i);
          const end = start + prefix + batch.nameLength(i);
          if (!fast.names.every((g) => g.matches(records, start + prefix, end))) continue;
          this.matched++;
          if (fast.action !== "count") out.bytes(records.subarray(start, end + 1));
        }
      },
    };
  }

  /** The fast path for an entry that came through the walker's iterator. */
  #fastVisit(fast: FastPlan, e: FindEntry): void {
    if (e.depth < this.#plan.minDepth) return;
    if (fast.types !== undefined && ((1 << e.type) & fast.types) === 0) return;
    let end = e.path.length;
    if (e.depth === 0) { while (end > e.nameStart + 1 && e.path[end - 1] === 0x2f) end--; }
    if (!fast.names.every((g) => g.matches(e.path, e.nameStart, end))) return;
    this.matched++;
    if (fast.action === "count") return;
    this.#target.out.bytes(e.path);
    this.#target.out.byte(fast.action === "print0" ? 0 : 0x0a);
  }
}

/** A -depth frame for a directory. */
function frame(dir: FindEntry): Frame {
  return { dir, key: dirKey(dir.path, 0, dir.path.length), kids: [], next: 0 };
}

/** The depth of a path below its root (the components after the root's bytes). */
function depthOf(path: Uint8Array, rootLength: number): number {
  let depth = 0;
  for (let i = rootLength; i < path.length; i++) {
    if (path[i] !== 0x2f && (i === rootLength || path[i - 1] === 0x2f)) depth++;
  }
  return Math.max(depth, 1);
}
