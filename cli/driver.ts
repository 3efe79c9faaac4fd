/**
 * The walk behind the CLI: the one module that knows how entries are found.
 *
 * The CLI gives a `WalkPlan` (roots, symlink rule, depths, order, what each
 * entry needs fetched, and the `FastPlan` when the expression is simple
 * enough for the walk to evaluate) and a `DriveTarget` (cli/entry.ts); the
 * driver calls `target.visit()` for every entry at or below `minDepth`, in
 * walk order, and `target.error()` for every error that is not an entry,
 * and honours the verdicts (`PRUNE`, `QUIT`).
 *
 * It runs the C engine (lib/engine.ts) with find's rules: the symlink rule,
 * depths, `-xdev`, the order (breadth-first, depth-first, post-order for
 * `-depth`, sorted for `-s`) and statx of every entry when the expression
 * needs metadata are all the engine's.  With a fast plan, `-name` and
 * `-type` are matched in C and the engine's batches go to stdout as they
 * are: no JavaScript per entry.  Otherwise each record becomes a
 * `FindEntry` over the batch's bytes.  When the expression can `-prune`,
 * every directory is a gate the engine holds until its entry has been
 * visited.  With scoped read access (lib/permissions.ts), each root is
 * checked before it is walked and each directory before it is entered
 * (gates again), as `walk()` checks them.
 *
 * @module
 */

import { dirKey, parentKey, rootNameStart } from "./bytes.ts";
import { Extras } from "./driver_extras.ts";
import {
  type DriveTarget,
  DT,
  type FastPlan,
  type FindEntry,
  type FindError,
  findError,
  type FindStat,
  PRUNE,
  QUIT,
  type Verdict,
  type WalkPlan,
} from "./entry.ts";
import { type BatchView, Engine, type EngineItem, type Gate } from "../lib/engine.ts";
import { errnoName, errnoText } from "../lib/errors.ts";
import { LAYOUT, WALK, WALK_LAYOUT } from "../lib/layout.ts";
import { readScope, type WalkGuard } from "../lib/permissions.ts";
import { IoQueue, queueCore } from "../lib/queue.ts";

/**
 * Walks every root of the plan.
 *
 * @returns How many entries the fast plan matched (0 without one).
 * @throws Errors that end the walk (a queue that cannot be made, a refused
 *   backend); errors about paths go to `target.error()`.
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

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Words per record. */
const WORDS = WALK_LAYOUT.REC_SIZE / 4;

/** 2^32, to join two 32-bit halves. */
const HI = 0x1_0000_0000;

/** glibc's makedev(). */
function makedev(major: number, minor: number): number {
  return ((major & 0xfffff000) * 0x1_0000_0000) + ((major & 0xfff) << 8) +
    ((minor & 0xffffff00) * 0x1000) + (minor & 0xff);
}

/** The statx at byte `at` of a batch's stats as a FindStat (times to the nanosecond). */
function statxAt(v: DataView, at: number): FindStat {
  const u64 = (o: number) => v.getUint32(at + o, true) + v.getUint32(at + o + 4, true) * HI;
  const sec = (o: number) => v.getUint32(at + o, true) + v.getInt32(at + o + 4, true) * HI;
  const nsec = (o: number) => v.getUint32(at + o + LAYOUT.TS_NSEC, true);
  return {
    dev: makedev(
      v.getUint32(at + LAYOUT.STX_DEV_MAJOR, true),
      v.getUint32(at + LAYOUT.STX_DEV_MINOR, true),
    ),
    ino: u64(LAYOUT.STX_INO),
    mode: v.getUint16(at + LAYOUT.STX_MODE, true),
    nlink: v.getUint32(at + LAYOUT.STX_NLINK, true),
    uid: v.getUint32(at + LAYOUT.STX_UID, true),
    gid: v.getUint32(at + LAYOUT.STX_GID, true),
    rdev: makedev(
      v.getUint32(at + LAYOUT.STX_RDEV_MAJOR, true),
      v.getUint32(at + LAYOUT.STX_RDEV_MINOR, true),
    ),
    size: u64(LAYOUT.STX_SIZE),
    blocks: u64(LAYOUT.STX_BLOCKS),
    blksize: v.getUint32(at + LAYOUT.STX_BLKSIZE, true),
    atimeSec: sec(LAYOUT.STX_ATIME),
    atimeNsec: nsec(LAYOUT.STX_ATIME),
    mtimeSec: sec(LAYOUT.STX_MTIME),
    mtimeNsec: nsec(LAYOUT.STX_MTIME),
    ctimeSec: sec(LAYOUT.STX_CTIME),
    ctimeNsec: nsec(LAYOUT.STX_CTIME),
  };
}

/** An errno as a FindError; a loop as find words it. */
function errorOf(errno: number, op: number): FindError {
  const message = op === WALK.OP_LOOP ? "File system loop detected" : errnoText(errno);
  return { errno, code: errnoName(errno), message };
}

/** One use: walks the roots of a plan. */
class Driver {
  readonly #plan: WalkPlan;
  readonly #target: DriveTarget;
  readonly #queue: IoQueue;
  /** Set by a QUIT verdict. */
  quit = false;
  /** Fast-path matches. */
  matched = 0;
  /** What records lack (xstat, emptiness, link targets), fetched one entry at a time. */
  readonly #fetch: Extras;
  /** Keys of directories pruned, and of every directory below one seen since. */
  readonly #pruned = new Set<string>();
  /** Gates asked about and not yet answered, by directory key. */
  readonly #gates = new Map<string, Gate>();
  /** Verdicts on directories whose gate has not come yet, by key. */
  readonly #verdicts = new Map<string, boolean>();
  /** The engine of the root being walked. */
  #engine: Engine | null = null;
  /** Whether its directories are gates (the expression can -prune). */
  #gated = false;
  /** Read access, when it is scoped (looked at once). */
  readonly #reads = readScope();
  /** The read checks of the root being walked, when read access is scoped. */
  #guard: WalkGuard | null = null;

  constructor(plan: WalkPlan, target: DriveTarget) {
    this.#plan = plan;
    this.#target = target;
    this.#queue = new IoQueue({
      backend: plan.backend,
      ...(plan.threads === undefined ? {} : { threads: plan.threads }),
    });
    this.#fetch = new Extras(plan.backend, (path, error) => target.error(path, error));
  }

  /** Closes what the walk opened. */
  async close(): Promise<void> {
    try {
      await this.#engine?.close();
    } finally {
      await this.#queue[Symbol.asyncDispose]();
      await this.#fetch.close();
    }
  }

  /** The fast plan, when the walk can evaluate the expression by itself. */
  get #fast(): FastPlan | undefined {
    return this.#plan.needs.stat ? undefined : this.#plan.fast;
  }

  /** The engine's configuration for the plan. */
  #config(fast: FastPlan | undefined) {
    const plan = this.#plan;
    let flags = 0;
    if (plan.needs.stat) flags |= WALK.STAT;
    if (plan.sameFilesystem) flags |= WALK.XDEV;
    if (plan.sorted) flags |= WALK.SORT;
    if (plan.gitignore) flags |= WALK.GITIGNORE;
    if (plan.prune && !plan.postOrder && !fast) flags |= WALK.GATE;
    const order = plan.postOrder
      ? WALK.POST
      : plan.sorted || plan.order === "dfs"
      ? WALK.DFS
      : WALK.BFS;
    return {
      flags,
      order,
      follow: plan.follow === "L"
        ? WALK.FOLLOW_ALWAYS
        : plan.follow === "H"
        ? WALK.FOLLOW_ROOT
        : WALK.FOLLOW_NEVER,
      minDepth: plan.minDepth,
      maxDepth: Math.min(plan.maxDepth, WALK_LAYOUT.NO_MAX - 1),
      types: fast?.types ?? 0xffff,
      terminator: fast?.action === "print0" ? 0 : 0x0a,
      fdLimit: 0,
    };
  }

  /** Walks one root. */
  async walkRoot(root: string): Promise<void> {
    const fast = this.#fast;
    const items: EngineItem[] = [{ kind: WALK.ITEM_ROOT, bytes: encoder.encode(root) }];
    // The first -name/-iname is matched in C; more (rare) below, on the records
    const first = fast?.names[0];
    if (first) {
      items.push({
        kind: WALK.ITEM_NAME,
        flags: first.caseless ? WALK.ITEM_CASEFOLD : 0,
        bytes: encoder.encode(first.source),
      });
    }
    this.#pruned.clear();
    this.#gates.clear();
    this.#verdicts.clear();
    if (!this.#checkRoot(root)) return;
    const config = this.#config(fast);
    this.#gated = (config.flags & WALK.GATE) !== 0;
    // (post-order here: nothing below the root is entered, see #checkRoot())
    if (this.#guard?.gates && !this.#plan.postOrder) config.flags |= WALK.GATE;
    const engine = this.#engine = new Engine(queueCore(this.#queue), config, items);
    const rootLength = encoder.encode(root).length;
    try {
      while (!this.quit) {
        const event = engine.next();
        if (event.kind === "batch") {
          try {
            if (fast) this.#fastBatch(fast, event.batch);
            else await this.#batch(event.batch, rootLength);
          } finally {
            engine.release(event.batch);
          }
        } else if (event.kind === "ask") {
          this.#ask(engine.asked());
        } else if (event.kind === "end") {
          break;
        } else {
          // The CLI has nothing else to run meanwhile: a blocking wait costs
          // the thread a few microseconds, an off-thread one tens
          engine.waitSync();
        }
      }
    } finally {
      this.#engine = null;
      await engine.close();
    }
  }

  /**
   * Checks the root's read permission, and that the directories below it
   * can be checked; reports it when not.
   *
   * @returns Whether to walk it.
   */
  #checkRoot(root: string): boolean {
    const guard = this.#guard =
      this.#reads?.walk(root, { follow: this.#plan.follow === "L", canonical: false }) ?? null;
    let error = guard?.refused;
    // (the engine cannot hold a directory at a gate and report it after its contents)
    if (!error && guard?.gates && this.#plan.postOrder && this.#plan.maxDepth > 1) {
      error = new Deno.errors.NotCapable(
        "Cannot check read access below it in a post-order walk (-depth, -delete) when part " +
          "of it may not be read or -L follows links; run again with the --allow-read flag",
      );
    }
    if (!error) return true;
    this.#target.error(encoder.encode(root), findError(error));
    return false;
  }

  /** Whether the gated directory may be entered; reported when it may not be read. */
  #mayEnter(gate: Gate): boolean {
    const error = this.#guard?.enter(decoder.decode(gate.path));
    if (!error) return true;
    this.#target.error(gate.path, findError(error));
    return false;
  }

  /** The fast path: a batch written (or counted) as it is; its errors reported. */
  #fastBatch(fast: FastPlan, b: BatchView): void {
    if (fast.names.length > 1) {
      this.#fastFiltered(fast, b);
    } else {
      this.matched += b.reported;
      if (fast.action !== "count" && b.front > 0) {
        this.#target.out.bytes(b.text.subarray(0, b.front));
      }
    }
    if (b.count !== b.reported) {
      for (let i = 0; i < b.count; i++) {
        if (b.bytes[i * WALK_LAYOUT.REC_SIZE + WALK_LAYOUT.REC_FLAGS] & WALK.REC_ERROR) {
          this.#error(b, i);
        }
      }
    }
  }

  /** The fast path with several name patterns: the first was matched in C, the rest here. */
  #fastFiltered(fast: FastPlan, b: BatchView): void {
    const { words, bytes, text } = b;
    for (let i = 0; i < b.count; i++) {
      const w = i * WORDS;
      if (bytes[i * WALK_LAYOUT.REC_SIZE + WALK_LAYOUT.REC_FLAGS] & WALK.REC_ERROR) continue;
      const off = words[w];
      const end = off + words[w + 1];
      const nameStart = off + words[w + 2];
      if (!fast.names.every((g) => g.matches(text, nameStart, end))) continue;
      this.matched++;
      if (fast.action !== "count") this.#target.out.bytes(text.subarray(off, end + 1));
    }
  }

  /** Reports an error record that is not an entry. */
  #error(b: BatchView, i: number): void {
    const w = i * WORDS;
    const errno = b.ints[w + 7];
    const flags = b.bytes[i * WALK_LAYOUT.REC_SIZE + WALK_LAYOUT.REC_FLAGS];
    if (this.#plan.ignoreRace && errno === LAYOUT.ENOENT && !(flags & WALK.REC_ROOT)) return;
    const off = b.words[w];
    const path = b.text.subarray(off, off + b.words[w + 1]);
    const op = b.bytes[i * WALK_LAYOUT.REC_SIZE + WALK_LAYOUT.REC_OP];
    if (this.#pruned.size > 0 && this.#underPruned(path, b.words[w + 2], true)) return;
    this.#target.error(path, errorOf(errno, op));
  }

  /** Whether a path is in a pruned directory (or, for a directory's own error, is one). */
  #underPruned(path: Uint8Array, nameStart: number, self: boolean): boolean {
    return this.#pruned.has(parentKey(path, 0, nameStart)) ||
      (self && this.#pruned.has(dirKey(path, 0, path.length)));
  }

  /** The general path: each record visited as a FindEntry. */
  async #batch(b: BatchView, rootLength: number): Promise<void> {
    const { words, bytes, text } = b;
    const plan = this.#plan;
    for (let i = 0; i < b.count && !this.quit; i++) {
      const w = i * WORDS;
      const flags = bytes[i * WALK_LAYOUT.REC_SIZE + WALK_LAYOUT.REC_FLAGS];
      const op = bytes[i * WALK_LAYOUT.REC_SIZE + WALK_LAYOUT.REC_OP];
      const root = (flags & WALK.REC_ROOT) !== 0;
      // A listed entry that could not be stat'ed is still an entry, as in
      // find, whose tests that need the stat report the error
      // (but a link that loops on itself is only an error, as in find -L)
      const unstated = (flags & WALK.REC_ERROR) && op === WALK.OP_STAT && !root &&
        b.ints[w + 7] !== LAYOUT.ELOOP;
      if ((flags & WALK.REC_ERROR) && !unstated) {
        this.#error(b, i);
        continue;
      }
      const off = words[w];
      const path = text.subarray(off, off + words[w + 1]);
      const entry: FindEntry = {
        path,
        nameStart: words[w + 2],
        rootLength,
        depth: words[w + 6],
        type: bytes[i * WALK_LAYOUT.REC_SIZE + WALK_LAYOUT.REC_TYPE],
      };
      if (root) entry.nameStart = rootNameStart(path);
      if (unstated) {
        if (plan.ignoreRace && b.ints[w + 7] === LAYOUT.ENOENT) continue;
        entry.error = errorOf(b.ints[w + 7], op);
      } else if ((flags & WALK.REC_STAT) && b.stats) {
        entry.stat = statxAt(b.stats, i * WALK_LAYOUT.STATX_SIZE);
      }
      if (
        this.#pruned.size > 0 && entry.depth > 0 && this.#underPruned(path, entry.nameStart, false)
      ) {
        // Below a pruned directory (its listing was read before the verdict)
        if (entry.type === DT.DIR) this.#prune(dirKey(path, 0, path.length));
        continue;
      }
      if (!entry.error) await this.#extras(entry, (flags & WALK.REC_FOLLOWED) !== 0);
      this.#verdict(entry, this.#target.visit(entry));
    }
  }

  /** Acts on a verdict: stop the walk, or tell a directory's gate. */
  #verdict(e: FindEntry, verdict: Verdict): void {
    if (verdict === QUIT) {
      this.quit = true;
      this.#engine?.cancel();
      return;
    }
    if (e.type !== DT.DIR) return;
    const key = dirKey(e.path, 0, e.path.length);
    if (verdict === PRUNE) this.#pruned.add(key);
    this.#answer(key, verdict !== PRUNE);
  }

  /** A directory is pruned: remember it, and keep the walk out of it. */
  #prune(key: string): void {
    this.#pruned.add(key);
    this.#answer(key, false);
  }

  /** Answers a directory's gate, now if it has come, else when it comes. */
  #answer(key: string, enter: boolean): void {
    if (!this.#gated) return;
    const gate = this.#gates.get(key);
    if (gate === undefined) {
      this.#verdicts.set(key, enter);
      return;
    }
    this.#gates.delete(key);
    this.#engine?.decide([gate.id], [enter && this.#mayEnter(gate)]);
  }

  /**
   * Gates the engine asks about: answered at once when the verdict is known
   * (or there is none to wait for: gates only for read checks).
   */
  #ask(gates: Gate[]): void {
    const ids: number[] = [];
    const enter: boolean[] = [];
    for (const g of gates) {
      if (!this.#gated || g.depth < this.#plan.minDepth) {
        // No verdict to wait for (gated for read checks, or above -mindepth)
        ids.push(g.id);
        enter.push(this.#mayEnter(g));
        continue;
      }
      const key = dirKey(g.path, 0, g.path.length);
      const known = this.#verdicts.get(key);
      if (known !== undefined) {
        this.#verdicts.delete(key);
        ids.push(g.id);
        enter.push(known && this.#mayEnter(g));
      } else if (this.#pruned.has(parentKey(g.path, 0, g.path.lastIndexOf(0x2f) + 1))) {
        this.#pruned.add(key);
        ids.push(g.id);
        enter.push(false);
      } else {
        this.#gates.set(key, g);
      }
    }
    this.#engine?.decide(ids, enter);
  }

  /** Fills what the plan needs beyond the record: xstat, emptiness, link target. */
  async #extras(e: FindEntry, followed: boolean): Promise<void> {
    const needs = this.#plan.needs;
    if (!needs.linkTarget && !needs.xstat && !needs.empty && !needs.followed) return;
    // (the fetches need a path of their own: the batch's bytes are only lent)
    const x = this.#fetch;
    const copy = { ...e, path: e.path.slice() };
    if (needs.linkTarget && e.type === DT.LNK) e.linkTarget = x.readLink(copy);
    if (needs.xstat) {
      const other = this.#plan.follow === "L" || (e.depth === 0 && this.#plan.follow === "H");
      if (other && followed) e.xstat = await x.stat(copy.path, false);
      else if (e.type === DT.LNK) e.xstat = await x.stat(copy.path, true);
      else if (e.stat) e.xstat = e.stat;
    }
    if (needs.empty && e.type === DT.DIR) e.empty = await x.isEmpty(copy);
    if (needs.followed) {
      // As faccessat() sees it: through links; nothing when that fails
      const s = e.stat && e.type !== DT.LNK ? e.stat : await x.stat(copy.path, true);
      e.followed = "errno" in s ? undefined : s;
    }
  }
}
