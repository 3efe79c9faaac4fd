/**
 * walk() stopped early: `break`, `return()`, an exception in the loop, an
 * `AbortSignal` (before the walk, midway, and while it waits for its stat
 * and follow rounds), on a queue of its own or of the caller's; 1,000
 * walks stopped at random points; and 200 walks with stat or follow rounds
 * (walk() and walkSync()) aborted at random points, in the loop or from a
 * timer.  Each must release every descriptor, throw the signal's reason,
 * and leave a caller's queue idle and usable.
 *
 * @module
 */

import { assert, assertEquals, assertRejects, assertStrictEquals } from "@std/assert";
import { IoQueue, walk, type WalkEntry, walkSync } from "../../mod.ts";
import { makeTree, openFds, random, testBackends, testSeed } from "../helpers.ts";
import { stdWalkAll } from "../std_walk.ts";
import { ioqWalk, keys, type Order, ORDERS, stdKeys } from "./support.ts";

/** A tree of 10 directories of 50 files, and a nested directory each. */
function wideTree(): Promise<string> {
  const paths: string[] = [];
  for (let d = 0; d < 10; d++) {
    paths.push(`d${d}/n/`, `d${d}/n/leaf`);
    for (let f = 0; f < 50; f++) paths.push(`d${d}/f${f}`);
  }
  return makeTree(paths);
}

testBackends("walk() stops cleanly on break, return() and abort", async (backend, t) => {
  const root = await wideTree();
  try {
    for (const order of ORDERS) {
      const opts = { order, queue: { backend } } as const;
      await t.step(`${order}: break after N entries`, async () => {
        for (const n of [1, 2, 5, 20, 100, 400]) {
          const before = openFds();
          let count = 0;
          for await (const _ of walk(root, opts)) if (++count === n) break;
          assertEquals(count, n);
          assertEquals(openFds(), before, `break after ${n}: descriptors released`);
        }
      });
      await t.step(`${order}: return()`, async () => {
        const before = openFds();
        const it = walk(root, opts);
        for (let i = 0; i < 30; i++) assertEquals((await it.next()).done, false);
        assertEquals(await it.return!(undefined), { done: true, value: undefined });
        assertEquals(await it.next(), { done: true, value: undefined });
        assertEquals(openFds(), before);
        // return() before the first next()
        const fresh = walk(root, opts);
        await fresh.return!(undefined);
        assertEquals((await fresh.next()).done, true);
      });
      await t.step(`${order}: an exception in the loop body`, async () => {
        const before = openFds();
        const boom = new Error("boom");
        const thrown = await assertRejects(async () => {
          let n = 0;
          for await (const _ of walk(root, opts)) if (++n === 77) throw boom;
        });
        assertStrictEquals(thrown, boom);
        assertEquals(openFds(), before);
      });
      await t.step(`${order}: abort midway throws the signal's reason at once`, async () => {
        for (const at of [1, 10, 60, 300]) {
          const before = openFds();
          const controller = new AbortController();
          const reason = new Error(`stop at ${at}`);
          let count = 0;
          const thrown = await assertRejects(async () => {
            for await (const _ of walk(root, { ...opts, signal: controller.signal })) {
              if (++count === at) controller.abort(reason);
            }
          });
          assertStrictEquals(thrown, reason);
          assertEquals(count, at, "nothing yielded after the abort");
          assertEquals(openFds(), before);
        }
      });
      await t.step(`${order}: an aborted signal stops the walk before it starts`, async () => {
        const reason = new Error("already");
        const it = walk(root, { ...opts, signal: AbortSignal.abort(reason) });
        assertStrictEquals(await assertRejects(() => it.next()), reason);
        const plain = walk(root, { ...opts, signal: AbortSignal.abort() });
        assertEquals((await assertRejects(() => plain.next()) as Error).name, "AbortError");
      });
      await t.step(`${order}: a queue of the caller's stays usable`, async () => {
        await using q = new IoQueue({ backend, depth: 64 });
        const before = openFds();
        const stops: [string, (it: AsyncIterableIterator<WalkEntry>) => Promise<void>][] = [
          ["break", async (it) => {
            let n = 0;
            for await (const _ of it) if (++n === 40) break;
          }],
          ["return", async (it) => {
            for (let i = 0; i < 120; i++) await it.next();
            await it.return!(undefined);
          }],
        ];
        for (const [how, stop] of stops) {
          await stop(walk(root, { order, queue: q }));
          assertEquals(q.closed, false, `${how}: the queue is left open`);
          assertEquals(q.inFlight, 0, `${how}: nothing in flight`);
          assertEquals(q.capacity, q.depth, `${how}: full capacity`);
          assertEquals(openFds(), before, `${how}: every directory closed`);
        }
        const controller = new AbortController();
        await assertRejects(async () => {
          let n = 0;
          for await (const _ of walk(root, { order, queue: q, signal: controller.signal })) {
            if (++n === 200) controller.abort();
          }
        });
        assertEquals(q.capacity, q.depth, "abort: full capacity");
        assertEquals(openFds(), before, "abort: every directory closed");
        // The queue still works, for requests and for a whole walk
        q.opendir(root, 1);
        const [done] = await q.pop();
        assert(done.op === "opendir" && done.dir, String(done.error));
        assertEquals(done.dir.readAll().length, 10);
        done.dir.close();
        const full = await ioqWalk(root, { order, queue: q });
        assertEquals(keys(full.entries), await stdKeys(root));
        assertEquals(openFds(), before);
      });
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

testBackends("1,000 walks stopped at random points leak nothing", async (backend) => {
  const root = await makeTree(["a/b/c/", "a/b/c/1", "a/2", "d/", "d/3", "d/e/", "d/e/4", "5", "6"]);
  const seed = testSeed(`1,000 stopped walks [${backend}]`);
  const rand = random(seed);
  const message = (i: number) => `walk ${i} (seed ${seed})`;
  try {
    const total = (await stdWalkAll(root)).entries.length;
    await using shared = new IoQueue({ backend, depth: 32 });
    const before = openFds();
    for (let i = 0; i < 1000; i++) {
      const order: Order = rand() < 0.5 ? "bfs" : "dfs";
      const queue = rand() < 0.5 ? shared : { backend, threads: 1 };
      const stopAt = Math.floor(rand() * (total + 1));
      const how = Math.floor(rand() * 3);
      const controller = new AbortController();
      const it = walk(root, { order, queue, signal: controller.signal });
      let count = 0;
      try {
        if (how === 0) {
          for await (const _ of it) if (count++ === stopAt) break;
        } else if (how === 1) {
          for await (const _ of it) if (count++ === stopAt) controller.abort();
        } else {
          while (count < stopAt && !(await it.next()).done) count++;
          await it.return!(undefined);
        }
      } catch (error) {
        assertEquals(how, 1, `${message(i)}: ${error}`);
        assertEquals((error as Error).name, "AbortError", message(i));
      }
      assertEquals(shared.capacity, shared.depth, message(i));
    }
    assertEquals(openFds(), before);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/**
 * A tree whose walk waits on stat and follow rounds: the wide tree, and
 * links to its files and directories in each directory.
 */
async function linkedTree(): Promise<string> {
  const root = await wideTree();
  for (let d = 0; d < 10; d++) {
    for (let l = 0; l < 10; l++) Deno.symlinkSync(`f${l}`, `${root}/d${d}/lf${l}`);
    Deno.symlinkSync("n", `${root}/d${d}/ln`);
    Deno.symlinkSync(`../d${(d + 1) % 10}/n`, `${root}/d${d}/next`);
  }
  return root;
}

/** Walks that make rounds of stat requests (their own, or to follow links). */
const ROUNDS: [string, { stat?: boolean; followSymlinks?: boolean; canonicalize?: boolean }][] = [
  ["stat", { stat: true }],
  ["follow", { followSymlinks: true }],
  ["follow as found", { followSymlinks: true, canonicalize: false }],
  ["follow and stat", { followSymlinks: true, stat: true }],
];

testBackends(
  "walk() aborted while it waits for a stat or follow round throws the reason and cleans up",
  async (backend, t) => {
    const root = await linkedTree();
    try {
      for (const order of ORDERS) {
        for (const [name, options] of ROUNDS) {
          await t.step(`${order}: ${name}`, async () => {
            await using q = new IoQueue({ backend, depth: 64 });
            const before = openFds();
            let waiting = 0;
            for (const at of [0, 1, 2, 5, 20, 60, 200, 500]) {
              const controller = new AbortController();
              const reason = new Error(`abort after ${at}`);
              const it = walk(root, { ...options, order, queue: q, signal: controller.signal });
              for (let i = 0; i < at; i++) assertEquals((await it.next()).done, false);
              // Abort while next() runs: it is waiting for a round, or has an
              // entry at hand (then the next call throws)
              const pending = it.next();
              controller.abort(reason);
              const settled = await pending.then((r) => ({ r }), (error) => ({ error }));
              if ("error" in settled) {
                assertStrictEquals(settled.error, reason, `at ${at}`);
                waiting++;
              } else {
                assertEquals(settled.r.done, false, `at ${at}`);
                assertStrictEquals(await assertRejects(() => it.next()), reason, `at ${at}`);
              }
              assertEquals(await it.next(), { done: true, value: undefined }, `at ${at}`);
              assertEquals([q.inFlight, q.capacity], [0, q.depth], `at ${at}: the queue is idle`);
              assertEquals(openFds(), before, `at ${at}: every directory closed`);
            }
            assert(waiting > 0, "no abort came while the walk waited");
          });
        }
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

testBackends(
  "walks with stat or follow rounds aborted at random points throw the reason and leak nothing",
  async (backend) => {
    const root = await linkedTree();
    const seed = testSeed(`random aborts of stat and follow walks [${backend}]`);
    const rand = random(seed);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
    try {
      const totals = new Map<string, number>();
      for (const [name, options] of ROUNDS) {
        totals.set(name, (await ioqWalk(root, { ...options, onError: () => {} })).entries.length);
      }
      await using shared = new IoQueue({ backend, depth: 64 });
      const before = openFds();
      const hows = { loop: 0, timer: 0, timerMissed: 0 };
      for (let i = 0; i < 200; i++) {
        const [name, options] = pick(ROUNDS);
        const order = pick(ORDERS);
        const queue = rand() < 0.5 ? shared : { backend, threads: 1 + Math.floor(rand() * 2) };
        const sync = rand() < 0.3;
        // In the loop after `stopAt` entries, or (async only) from a timer while it runs
        const how = sync || rand() < 0.6 ? "loop" : "timer";
        const stopAt = Math.floor(rand() * (totals.get(name)! + 1));
        const label = `walk ${i}: ${name}, ${order}, ${sync ? "walkSync" : "walk"}, ` +
          `abort ${how === "loop" ? `after ${stopAt} entries` : "from a timer"} (seed ${seed})`;
        const controller = new AbortController();
        const reason = new Error(label);
        const opts = { ...options, order, queue, signal: controller.signal };
        let count = 0;
        let timer: ReturnType<typeof setTimeout> | undefined;
        if (how === "timer") timer = setTimeout(() => controller.abort(reason), rand() * 4);
        try {
          if (sync) {
            for (const _ of walkSync(root, opts)) if (count++ === stopAt) controller.abort(reason);
          } else {
            for await (const _ of walk(root, opts)) {
              if (how === "loop" && count === stopAt) controller.abort(reason);
              count++;
            }
          }
          // Only a timer that fired after the end may let the walk finish
          assertEquals(how === "timer" || stopAt >= totals.get(name)!, true, `${label}: ended`);
          if (how === "timer") hows.timerMissed++;
        } catch (error) {
          assertStrictEquals(error, reason, `${label}: ${error}`);
          if (how === "loop") assertEquals(count, stopAt + 1, `${label}: nothing after the abort`);
          hows[how]++;
        } finally {
          clearTimeout(timer);
        }
        assertEquals([shared.inFlight, shared.capacity], [0, shared.depth], `${label}: idle`);
      }
      assertEquals(openFds(), before, "every descriptor released");
      assert(hows.loop > 0 && hows.timer > 0, `aborts: ${JSON.stringify(hows)}`);
      console.log(`random aborts [${backend}]: ${JSON.stringify(hows)}`);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);
