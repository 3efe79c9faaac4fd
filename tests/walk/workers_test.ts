/**
 * Every worker of the queue takes part in a walk.  A walk is lent to each
 * worker with a request of its own; requests pushed together land in one
 * line of the request ring, which one worker claims whole, so that worker
 * got every loan and served them one after the other: the walk ran on one
 * thread.  Here a walk is held open by its gates (left unanswered) while
 * the test waits, with a generous bound, for every worker to join it.  And
 * how many workers a walk's own queue has.
 *
 * @module
 */

import { assertEquals } from "@std/assert";
import { Engine } from "../../lib/engine.ts";
import { WALK, WALK_LAYOUT } from "../../lib/layout.ts";
import { IoQueue, queueCore } from "../../lib/queue.ts";
import { glob, walk, walkSync } from "../../mod.ts";
import { makeTree, testBackends } from "../helpers.ts";

/** How long the workers get to join, at most (a busy machine may be slow). */
const JOIN_MS = 20_000;

testBackends("every worker of the queue joins a walk", async (backend) => {
  const root = await makeTree(["a/", "a/f", "b/", "b/g", "c/"]);
  try {
    for (const threads of [2, 3, 4]) {
      await using queue = new IoQueue({ backend, threads });
      using engine = new Engine(queueCore(queue), {
        flags: WALK.GATE,
        order: WALK.BFS,
        follow: WALK.FOLLOW_NEVER,
        minDepth: 0,
        maxDepth: WALK_LAYOUT.NO_MAX,
        types: 0xffff,
        terminator: 0,
        fdLimit: 0,
      }, [{ kind: WALK.ITEM_ROOT, bytes: new TextEncoder().encode(root) }]);
      // The root's subdirectories wait for answers: the walk cannot end
      const deadline = performance.now() + JOIN_MS;
      let records = 0;
      while (engine.counters().workers < threads && performance.now() < deadline) {
        const event = engine.next();
        if (event.kind === "batch") {
          records += event.batch.count;
          engine.release(event.batch);
        } else if (event.kind === "end") {
          throw new Error("the walk ended with its gates unanswered");
        } else {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
      assertEquals(engine.counters().workers, threads, `${threads} threads: workers joined`);
      // Then it goes on and ends as any walk
      while (true) {
        const event = engine.next();
        if (event.kind === "batch") {
          records += event.batch.count;
          engine.release(event.batch);
        } else if (event.kind === "ask") {
          const gates = engine.asked();
          engine.decide(gates.map((g) => g.id), gates.map(() => true));
        } else if (event.kind === "none") {
          await engine.wait();
        } else {
          break;
        }
      }
      assertEquals(records, 6, `${threads} threads: the root and its 5 entries`);
      await engine.close();
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** The queue workers running in this process now (threads named ioq-N). */
function workerThreads(): number {
  let n = 0;
  for (const task of Deno.readDirSync("/proc/self/task")) {
    try {
      if (/^ioq-\d+$/.test(Deno.readTextFileSync(`/proc/self/task/${task.name}/comm`).trim())) n++;
    } catch {
      // The thread ended meanwhile
    }
  }
  return n;
}

/**
 * Waits (a generous bound) until exactly `count` workers run: those of a
 * closed queue take a moment to end, and a new one is counted once it has
 * started and named itself.
 */
async function workersBecome(count: number, what: string): Promise<void> {
  const deadline = performance.now() + JOIN_MS;
  while (workerThreads() !== count && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assertEquals(workerThreads(), count, what);
}

Deno.test("walk()'s own queue leaves the event loop a CPU; walkSync()'s takes every CPU", async () => {
  const root = await makeTree(["a/", "a/f"]);
  try {
    const cpus = Math.min(navigator.hardwareConcurrency || 1, 8);
    // The queues of earlier tests are closed: their workers end (none is left)
    await workersBecome(0, "no queue left open");
    for await (const _ of walk(root)) {
      await workersBecome(Math.max(1, cpus - 1), `walk(), ${cpus} CPUs`);
      break;
    }
    await workersBecome(0, "the last walk's queue closed");
    for await (const _ of glob("**", { root })) {
      await workersBecome(Math.max(1, cpus - 1), `glob(), ${cpus} CPUs`);
      break;
    }
    await workersBecome(0, "the last walk's queue closed");
    for (const _ of walkSync(root)) {
      await workersBecome(cpus, `walkSync(), ${cpus} CPUs`);
      break;
    }
    // A count given is kept
    await workersBecome(0, "the last walk's queue closed");
    for await (const _ of walk(root, { queue: { threads: 3 } })) {
      await workersBecome(3, "walk() with threads: 3");
      break;
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
