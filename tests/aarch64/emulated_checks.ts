/**
 * Tests that `deno task test:aarch64` (tests/aarch64/run.ts) runs on the
 * aarch64 Deno beside its subset of the queue and walk tests.  The file is
 * not named `*_test.ts`, so `deno task test` leaves it out.
 *
 * - io_uring: the aarch64 library is built with it.  qemu's user mode does
 *   not implement `io_uring_setup` (ENOSYS), so under emulation the ring is
 *   refused: `backend: "io_uring"` must fail with ENOSYS, and `auto` must
 *   fall back to threads and walk the same.  Where the ring is accepted (an
 *   aarch64 machine), `auto` must use it.
 * - cancel(): requests queued behind a busy worker end with EINTR, closes
 *   still run.  The one worker is held by a stalled NOP, so the requests
 *   are still queued when the queue is cancelled, however slow the machine
 *   (queue_test.ts's cancel test counts on some of 400 opens being still
 *   queued, which emulation, where the workers outpace the emulated
 *   JavaScript, does not give).
 *
 * @module
 */

import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "@std/assert";
import { setTimeout as delay } from "node:timers/promises";
import { type Completion, type IoqError, IoQueue, walk } from "../../mod.ts";
import { ffi } from "../../lib/ffi.ts";
import { FEATURE_URING } from "../../lib/layout.ts";
import { drain, inject, injected, makeTree, openFds } from "../helpers.ts";
import { fdOpen, openFd } from "../libc.ts";

/** The tree both io_uring checks walk. */
const TREE = ["a/", "a/b/", "a/b/deep.txt", "a/x.txt", "e/", "f.txt"];

/** The paths a full walk of TREE yields, sorted. */
function treePaths(root: string): string[] {
  return [root, ...TREE.map((p) => `${root}/${p.replace(/\/$/, "")}`)].sort();
}

/** Walks a tree in both orders; the sorted paths of each walk. */
async function walkBothOrders(
  root: string,
  backend: "auto" | "io_uring",
): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const order of ["bfs", "dfs"] as const) {
    const paths = [];
    for await (const e of walk(root, { order, queue: { backend } })) paths.push(e.path);
    out[order] = paths.sort();
  }
  return out;
}

Deno.test("io_uring is built in; where the ring is refused, auto falls back to threads", async () => {
  assert(
    ffi().ioq_features() & FEATURE_URING,
    "the library was built without liburing: apt-get install liburing-dev:arm64 " +
      "(after dpkg --add-architecture arm64 && apt-get update), then deno task build",
  );
  const root = await makeTree(TREE);
  const before = openFds();
  try {
    const want = { bfs: treePaths(root), dfs: treePaths(root) };
    let refusal: IoqError | undefined;
    try {
      new IoQueue({ backend: "io_uring", depth: 8 }).close();
    } catch (error) {
      refusal = error as IoqError;
    }
    if (refusal) {
      console.error(
        `NOTE: the ring is refused here (${refusal.message}): checking that io_uring fails ` +
          "with ENOSYS, as under qemu's user mode, and that auto falls back to threads",
      );
      assertEquals(refusal.code, "ENOSYS", String(refusal));
      assertMatch(refusal.message, /create IoQueue \(backend io_uring\)/);
      {
        using q = new IoQueue();
        assertEquals(q.backend, "threads");
        q.nop(1);
        assertEquals(await q.pop(), [{ op: "nop", tag: 1 }]);
      }
      assertEquals(await walkBothOrders(root, "auto"), want);
      const error = await assertRejects(() =>
        walk(root, { queue: { backend: "io_uring" } }).next()
      );
      assertEquals((error as IoqError).code, "ENOSYS");
    } else {
      console.error("NOTE: the ring is accepted here: checking that auto uses it");
      {
        using q = new IoQueue();
        assertEquals(q.backend, "io_uring");
      }
      assertEquals(await walkBothOrders(root, "io_uring"), want);
      assertEquals(await walkBothOrders(root, "auto"), want);
    }
    assertEquals(openFds(), before, "descriptors leaked");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("cancel(): requests queued behind a busy worker end with EINTR", async () => {
  const root = await makeTree(["d/", "f.txt"]);
  const before = openFds();
  // One worker, held for 2 s by the first NOP: the rest wait behind it
  inject("stall", -2000, 1);
  try {
    const q = new IoQueue({ backend: "threads", threads: 1, depth: 16 });
    q.opendir(root, 0);
    const [opened] = await q.pop();
    assert(opened.op === "opendir" && opened.dir, String(opened.error));
    const fd = openFd(`${root}/f.txt`);

    q.nop(1);
    const pending = q.pop(); // submits the NOP
    for (let i = 0; i < 1000 && injected("stall") === 0; i++) await delay(10);
    assertEquals(injected("stall"), 1, "the worker did not start the NOP within 10 s");
    q.opendir(root, 2);
    q.stat(`${root}/d`, 3);
    q.close(fd, 4);
    q.closedir(opened.dir, 5);
    q.cancel();
    assertEquals(await pending, [], "cancel() wakes the pending pop()");
    // A request after cancel()
    assertThrows(() => q.nop(6), Deno.errors.Interrupted);

    const done = new Map<number, Completion>();
    for (const c of await drain(q)) done.set(c.tag, c);
    assertEquals([...done.keys()].sort(), [1, 2, 3, 4, 5]);
    assertEquals(done.get(1), { op: "nop", tag: 1 }, "the running NOP completes");
    for (const [tag, op] of [[2, "opendir"], [3, "stat"]] as const) {
      const c = done.get(tag)!;
      assertEquals(c.op, op);
      assert(c.error instanceof Deno.errors.Interrupted, `${op}: ${c.error}`);
      assertEquals((c.error as IoqError).code, "EINTR");
    }
    assertEquals(done.get(4), { op: "close", tag: 4 }, "a close still runs after cancel()");
    assert(!fdOpen(fd), "the descriptor was closed");
    assertEquals(done.get(5), { op: "closedir", tag: 5 }, "a closedir still runs");
    q.close();
    assertEquals(openFds(), before, "descriptors leaked");
  } finally {
    inject("stall", 0, 0);
    await Deno.remove(root, { recursive: true });
  }
});
