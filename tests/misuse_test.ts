/**
 * Misuse from TypeScript, in a child process (tests/fixtures/misuse_child.ts)
 * so that a crash fails the test instead of killing the runner: use after
 * close, closing twice, foreign and closed directories, bad options, bad
 * descriptors and paths, concurrent pops, pops during pops, cancel twice,
 * closing or cancelling a walk's queue from inside its loop.  Each must give
 * a RangeError, a TypeError or an error with a code, or a documented benign
 * result, and never a crash.
 *
 * @module
 */

import { assert, assertEquals, assertMatch, assertNotMatch } from "@std/assert";
import { makeTree, testBackends } from "./helpers.ts";
import { denoRun, describe, fixture, run } from "./child.ts";

/** What the child reports for one case. */
interface Outcome {
  case: string;
  threw?: { name: string; code?: string; message: string; type: string };
  value?: unknown;
}

/** An expected error: its class (by name) and errno code, if any. */
type Thrown = { type?: "RangeError" | "TypeError"; name: string; code?: string };

const range: Thrown = { type: "RangeError", name: "RangeError" };
const type: Thrown = { type: "TypeError", name: "TypeError" };
const closed: Thrown = { name: "BadResource" };

/** What each case must give: an error, or a check of its value. */
const EXPECT: Record<string, Thrown | ((value: unknown, root: string) => void)> = {
  "new IoQueue(depth 0)": range,
  "new IoQueue(depth -1)": range,
  "new IoQueue(depth 2^31)": range,
  "new IoQueue(depth 65537)": range,
  "new IoQueue(depth 1.5)": range,
  "new IoQueue(depth NaN)": range,
  "new IoQueue(depth '8')": range,
  "new IoQueue(threads 0)": range,
  "new IoQueue(threads 10000)": range,
  "new IoQueue(threads 2.5)": range,
  "new IoQueue(threads Infinity)": range,
  "new IoQueue(backend 'fast')": type,
  "every call after close()": (value) => {
    const { settings, ...calls } = value as Record<string, string>;
    assertEquals(calls, {
      nop: "BadResource",
      opendir: "BadResource",
      stat: "BadResource",
      "close(fd)": "BadResource",
      tryPop: "BadResource",
      pop: "BadResource",
      cancel: "BadResource",
      capacity: "BadResource",
      inFlight: "BadResource",
      walk: "BadResource",
    });
    // close() again and dispose are no-ops; the settings stay readable
    assertMatch(settings, /^true 4096 (io_uring|threads)$/);
  },
  "pop() after close()": closed,
  "closedir() twice": closed,
  "closedir() after dir.close()": closed,
  // Idempotent; the queued closedir still completes
  "dir.close() twice, and after closedir()": (value) => assertEquals(value, [true, true, 1]),
  "dir.fd after dir.close()": closed,
  "dir.fd after its queue closed": closed,
  "dir.realPath() after dir.close()": closed,
  "dir.realPath() after its queue closed": closed,
  "dir.realPath() of a missing name": { name: "NotFound", code: "ENOENT" },
  "dir.realPath() of a name with a NUL byte": type,
  "reading a Dir after its queue closed": closed,
  "iterating a Dir after its queue closed": closed,
  "readBatch() after dir.close()": closed,
  "a Dir of another queue as 'at'": type,
  "a Dir of another queue to closedir()": type,
  "an object that is no Dir to closedir()": type,
  "closedir() while a request relative to it is in flight": { name: "Busy", code: "EBUSY" },
  "dir.close() while a request relative to it is in flight": { name: "Busy", code: "EBUSY" },
  "readPaths() with an end byte of 256": range,
  "readPaths() with a 64 KiB prefix": range,
  "close(-1, tag)": range,
  "close(1.5, tag)": range,
  "close(NaN, tag)": range,
  "close(2147483648, tag)": range,
  "close(Infinity, tag)": range,
  // Accepted (a non-negative integer), and completes with EBADF
  "close() of a descriptor that is not open": (value) =>
    assertEquals(value, ["close", "BadResource", "EBADF"]),
  "opendir(a string with a NUL byte)": type,
  "stat(a string with a NUL byte)": type,
  "opendir(bytes with a NUL byte)": type,
  "stat(bytes with a NUL byte)": type,
  "opendir(a number)": type,
  "stat(a number)": type,
  "opendir(an http: URL)": type,
  "stat(an http: URL)": type,
  "walk() of a path with a NUL byte": type,
  "opendir('')": { name: "NotFound", code: "ENOENT" },
  "opendir() of a path over PATH_MAX": { name: "Error", code: "ENAMETOOLONG" },
  "nop() with a string tag": type,
  // Concurrent pops share one wait: every completion once, none lost
  "concurrent pop() calls": (value) =>
    assertEquals(value, { count: 500, distinct: 500, capacity: 512 }),
  "tryPop() during a pending pop()": (value) =>
    assertEquals(value, { count: 20, distinct: 20, inFlight: 0 }),
  // The pending pop() resolves with [] (documented)
  "close() during a pending pop()": (value) => assertEquals(value, []),
  "cancel() twice": (value) => assertEquals(value, { completions: 1, capacity: 4096 }),
  "a request after cancel()": { name: "Interrupted", code: "EINTR" },
  // The walk ends with BadResource at its next request; nothing leaks
  "close() of the walk's queue from inside the loop": (value) => {
    const v = value as { n: number; thrown: string; closed: boolean; leaked: number };
    assertEquals(v.thrown, "BadResource");
    assert(v.n >= 3, `${v.n} entries`);
    assertEquals([v.closed, v.leaked], [true, 0]);
  },
  "close() of the walk's queue, then break": (value) =>
    assertEquals(value, { n: 3, closed: true, leaked: 0 }),
  "cancel() of the walk's queue from inside the loop": (value) =>
    assertEquals(value, { thrown: "Interrupted EINTR", idle: true, leaked: 0 }),
};

/** A tree for the child: "sub" with files, a few more directories. */
function misuseTree(): Promise<string> {
  return makeTree(["sub/", "sub/a", "sub/b", "sub/c", "d1/", "d1/x", "d2/", "f"]);
}

testBackends(
  "misuse gives RangeError, TypeError or a coded error, never a crash",
  async (backend) => {
    const root = await misuseTree();
    try {
      const r = await run(denoRun(fixture("misuse_child.ts"), [backend, root]), {
        timeoutMs: 60_000,
      });
      const lines = r.stdout.trimEnd().split("\n");
      const outcomes = lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Outcome);
      const last = outcomes.at(-1)?.case ?? "(none)";
      assert(
        r.code === 0 && !r.signal && lines.at(-1) === "done",
        `crashed or failed after case "${last}": ${describe(r)}`,
      );
      const seen = new Set<string>();
      for (const o of outcomes) {
        const want = EXPECT[o.case];
        assert(want, `no expectation for case "${o.case}"`);
        seen.add(o.case);
        if (typeof want === "function") {
          assert(!o.threw, `${o.case}: threw ${JSON.stringify(o.threw)}`);
          want(o.value, root);
          continue;
        }
        assert(
          o.threw,
          `${o.case}: should throw ${want.name}, gave ${JSON.stringify(o.value)}`,
        );
        assertEquals(o.threw.name, want.name, `${o.case}: ${o.threw.message}`);
        if (want.type) assertEquals(o.threw.type, want.type, o.case);
        assertEquals(o.threw.code, want.code, `${o.case}: code`);
        // Every error says what was refused
        assertMatch(o.threw.message, /^Cannot |\(os error \d+\)/, o.case);
      }
      assertEquals([...seen].sort(), Object.keys(EXPECT).sort(), "every case ran");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

Deno.test({
  // Two walks at once on one queue of the caller's used to take each
  // other's completions (an internal TypeError, then a return() that spun
  // forever); a walk now refuses a queue another walk is using.
  name: "two walks at once on one queue: a clear error or both complete",
  async fn() {
    const paths: string[] = [];
    for (let d = 0; d < 20; d++) paths.push(`d${d}/`, `d${d}/f`, `d${d}/s/`, `d${d}/s/g`);
    const root = await makeTree(paths);
    try {
      const r = await run([
        Deno.execPath(),
        "eval",
        "--ext=ts",
        `
        import { IoQueue, walk } from ${JSON.stringify(new URL("../mod.ts", import.meta.url).href)};
        const q = new IoQueue({ depth: 64 });
        const a = walk(${JSON.stringify(root)}, { queue: q });
        const b = walk(${JSON.stringify(root)}, { queue: q });
        const counts = [0, 0];
        let thrown = null;
        try {
          for (;;) {
            const [x, y] = [await a.next(), await b.next()];
            if (!x.done) counts[0]++;
            if (!y.done) counts[1]++;
            if (x.done && y.done) break;
          }
        } catch (error) {
          thrown = { name: error.name, message: error.message };
        }
        for (const it of [a, b]) {
          try { await it.return(); } catch (error) { thrown ??= { name: error.name, message: error.message }; }
        }
        console.log(JSON.stringify({ counts, thrown, idle: q.inFlight === 0 }));
        q.close();
        `,
      ], { timeoutMs: 10_000 });
      assertEquals(r.code, 0, describe(r));
      const got = JSON.parse(r.stdout) as {
        counts: number[];
        thrown: { name: string; message: string } | null;
      };
      if (got.thrown) {
        assertNotMatch(got.thrown.message, /Cannot read properties/, "an internal error");
        assertMatch(got.thrown.message, /^Cannot walk/, got.thrown.message);
      } else {
        assertEquals(got.counts, [81, 81]);
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
