/**
 * Reliability: faults, exits and memory (descriptors: descriptors_test.ts).
 *
 * - Per-op fallback: an op the ring answers with EINVAL, EOPNOTSUPP or
 *   ENOSYS (injected: IOQ_INJECT_URING_*) is retried synchronously, gives
 *   the right result, and is done synchronously from then on (the injection
 *   point stops firing), for that queue.
 * - Submit errors: io_uring_enter failing forever never hangs a walk.
 * - Exit: a script that leaves a walk or a pop unfinished exits at once.
 * - Memory: 200 queue create/close cycles and 200 walks per backend keep
 *   RSS, the V8 heap and the descriptors flat.
 *
 * Figures are printed as they are measured (`deno test` shows them).
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import { IoQueue, type WalkOptions } from "../mod.ts";
import { BACKENDS, inject, injected, makeTree, one, openFds } from "./helpers.ts";
import { fdOpen, openFd } from "./libc.ts";
import { denoRun, describe, fixture, run, runJson, walkKeys } from "./child.ts";

const uringSkip = BACKENDS.find((b) => b.backend === "io_uring")!.skip;

/** Fails (rejects) when a promise takes longer than `ms`: a hang fails the test. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no end after ${ms} ms (hung)`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------
// Per-op fallback

/** The errno values that mean "the ring cannot do this op". */
const UNSUPPORTED = [["EINVAL", -22], ["EOPNOTSUPP", -95], ["ENOSYS", -38]] as const;

/** Each op the ring runs, its injection point, and one checked round of it. */
const OPS = {
  stat: {
    point: "uringStat",
    async round(q: IoQueue, root: string) {
      q.stat(`${root}/a/x`, 1);
      const c = await one(q);
      assert(c.op === "stat" && c.stat && !c.error, String(c.error));
      assertEquals(c.stat.ino, Deno.statSync(`${root}/a/x`).ino);
      // An error is the synchronous call's error
      q.stat(`${root}/nope`, 2);
      const missing = await one(q);
      assertEquals((missing.error as { code?: string }).code, "ENOENT");
    },
  },
  opendir: {
    point: "uringOpendir",
    async round(q: IoQueue, root: string) {
      q.opendir(`${root}/a`, 1, { stat: true });
      const c = await one(q);
      assert(c.op === "opendir" && c.dir, String(c.error));
      assertEquals(c.stat?.ino, Deno.statSync(`${root}/a`).ino);
      assertEquals(c.dir.readAll().map((e) => e.name).sort(), ["x", "y"]);
      c.dir.close();
      q.opendir(`${root}/a/x`, 2);
      const notDir = await one(q);
      assertEquals((notDir.error as { code?: string }).code, "ENOTDIR");
    },
  },
  closedir: {
    point: "uringClosedir",
    async round(q: IoQueue, root: string) {
      const before = openFds();
      q.opendir(`${root}/a`, 1);
      const c = await one(q);
      assert(c.op === "opendir" && c.dir, String(c.error));
      const fd = c.dir.fd;
      q.closedir(c.dir, 2);
      const closed = await one(q);
      assert(closed.op === "closedir" && !closed.error, String(closed.error));
      assertEquals(fdOpen(fd), false, "the directory's descriptor is closed");
      assertEquals(openFds(), before);
    },
  },
  close: {
    point: "uringClose",
    async round(q: IoQueue) {
      const fd = openFd("/dev/null");
      q.close(fd, 1);
      const c = await one(q);
      assert(c.op === "close" && !c.error, String(c.error));
      assertEquals(fdOpen(fd), false, "the descriptor is closed");
    },
  },
} as const;

for (const [name, errno] of UNSUPPORTED) {
  Deno.test({
    name: `io_uring answering ${name}: each op is redone synchronously, right, and latched off`,
    ignore: uringSkip !== undefined,
    async fn(t) {
      const root = await makeTree(["a/", "a/x", "a/y/", "b/"]);
      try {
        for (const [op, { point, round }] of Object.entries(OPS)) {
          await t.step(op, async () => {
            inject(point, errno, -1);
            try {
              // One worker, one request at a time: the first goes to the ring
              // and is refused once; the rest never reach it
              await using q = new IoQueue({ backend: "io_uring", threads: 1, depth: 8 });
              for (let i = 0; i < 5; i++) {
                await round(q, root);
                assertEquals(injected(point), 1, `round ${i}: refused once, then synchronous`);
              }
              // Another queue probes its ring again (the point is still armed)
              await using fresh = new IoQueue({ backend: "io_uring", threads: 1, depth: 8 });
              await round(fresh, root);
              assertEquals(injected(point), 2, "a new queue tries the ring again");
              await round(fresh, root);
              assertEquals(injected(point), 2);
            } finally {
              inject(point, 0, 0);
            }
          });
        }
      } finally {
        await Deno.remove(root, { recursive: true });
      }
    },
  });
}

Deno.test({
  name: "io_uring refusing every op: walks give what the threads backend gives",
  ignore: uringSkip !== undefined,
  async fn() {
    const paths: string[] = [];
    for (let d = 0; d < 40; d++) paths.push(`d${d}/`, `d${d}/f`, `d${d}/s/`, `d${d}/s/g`);
    const root = await makeTree(paths);
    const points = Object.values(OPS).map((o) => o.point);
    try {
      for (const [name, errno] of UNSUPPORTED) {
        for (const order of ["bfs", "dfs"] as const) {
          const options: WalkOptions = { order, stat: true, followSymlinks: true };
          const want = await walkKeys(root, { ...options, queue: { backend: "threads" } });
          for (const point of points) inject(point, errno, -1);
          try {
            await using q = new IoQueue({ backend: "io_uring", depth: 64 });
            const got = await within(20_000, "walk", walkKeys(root, { ...options, queue: q }));
            assertEquals(got, want, `${name} ${order}`);
            assertEquals(q.capacity, q.depth);
            const refused = Object.fromEntries(points.map((p) => [p, injected(p)]));
            // Opens and stats went to the ring, and few of them (before the latch)
            assert(refused.uringOpendir >= 1 && refused.uringStat >= 1, JSON.stringify(refused));
            for (const n of Object.values(refused)) assert(n <= 2 * 64, JSON.stringify(refused));
          } finally {
            for (const point of points) inject(point, 0, 0);
          }
        }
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

// ---------------------------------------------------------------------------
// Submit errors

Deno.test({
  name: "io_uring submit failing forever: walks still give every entry, in bounded time",
  ignore: uringSkip !== undefined,
  async fn() {
    const paths: string[] = [];
    for (let d = 0; d < 40; d++) {
      for (let s = 0; s < 5; s++) paths.push(`d${d}/s${s}/`, `d${d}/s${s}/f`);
    }
    const root = await makeTree(paths);
    try {
      const want = await walkKeys(root, { queue: { backend: "threads" } });
      for (
        const [label, errno, count] of [
          ["EBUSY forever", -16, -1],
          ["EAGAIN forever", -11, -1],
          ["EINTR, 40 times", -4, 40],
        ] as const
      ) {
        inject("submit", errno, count);
        try {
          const start = performance.now();
          for (const order of ["bfs", "dfs"] as const) {
            for (const threads of [1, 2]) {
              await using q = new IoQueue({ backend: "io_uring", depth: 64, threads });
              const got = await within(
                20_000,
                `${label} ${order}`,
                walkKeys(root, { order, stat: true, queue: q }),
              );
              assertEquals(got, want, `${label}, ${order}, ${threads} threads`);
              assertEquals(q.inFlight, 0);
              assertEquals(q.capacity, q.depth);
            }
          }
          const ms = performance.now() - start;
          const failures = injected("submit");
          assert(failures > 0, "the submit failures were injected");
          console.log(
            `submit ${label}: 4 walks of ${want.length} entries in ${ms.toFixed(0)} ms, ` +
              `${failures} submits failed`,
          );
          assert(ms < 20_000);
        } finally {
          inject("submit", 0, 0);
        }
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

// ---------------------------------------------------------------------------
// Exit

/** Scenarios of tests/fixtures/exit_child.ts. */
const EXITS = [
  "walk-one",
  "walk-some-dfs",
  "walk-caller-queue",
  "pop-in-flight",
  "pop-stalled",
  "close-during-pop",
];
const EXIT_RUNS = 3;

/** Runs every exit scenario EXIT_RUNS times: how long each took to exit, and how. */
async function exits(root: string): Promise<{ scenario: string; ms: number; r: string }[]> {
  const out = [];
  for (const scenario of EXITS) {
    for (let i = 0; i < EXIT_RUNS; i++) {
      const r = await run(denoRun(fixture("exit_child.ts"), [scenario, root]), {
        timeoutMs: 10_000,
      });
      const ended = Date.now();
      const started = /^started (\d+)$/m.exec(r.stdout);
      assert(started, `${scenario}: ${describe(r)}`);
      out.push({
        scenario,
        ms: ended - Number(started[1]),
        r: r.code === 0 && !r.signal ? "ok" : describe(r),
      });
    }
  }
  return out;
}

/** A tree big enough that a walk still has work in flight after its first entries. */
async function exitTree(): Promise<string> {
  const paths: string[] = [];
  for (let d = 0; d < 200; d++) paths.push(`d${d}/s/`, `d${d}/f`);
  return await makeTree(paths);
}

Deno.test("a script that leaves a walk or a pop unfinished exits within a second", async () => {
  const root = await exitTree();
  try {
    const got = await exits(root);
    for (const { scenario, ms } of got) assert(ms < 1000, `${scenario}: ${ms} ms to exit`);
    const crashed = got.filter((g) => g.r !== "ok");
    console.log(
      `exit after "started": max ${Math.max(...got.map((g) => g.ms))} ms over ${got.length} ` +
        `runs; ${crashed.length} did not exit 0 (see the next test)`,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  // Deno unloads the library (dlclose) at exit while a queue's worker threads
  // (and a thread waiting in ioq_wait for a pop) may still run its code;
  // ioq_create() pins the library (RTLD_NODELETE) so that cannot crash the
  // process (it died of SIGSEGV, status 139, about half the time).
  name: "a script that leaves a walk or a pop unfinished exits with status 0",
  async fn() {
    const root = await exitTree();
    try {
      const got = await exits(root);
      assertEquals(got.filter((g) => g.r !== "ok"), []);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

// ---------------------------------------------------------------------------
// Memory

Deno.test("200 queue create/close cycles and 200 walks keep RSS, heap and descriptors flat", async () => {
  const root = await makeTree(["a/b/", "a/b/1", "a/2", "c/", "c/3", "d/e/", "d/e/4", "5"]);
  try {
    const got = await runJson<{
      gc: boolean;
      out: Record<
        string,
        { rss: number[]; anon: number[]; heap: number[]; fds: number[]; ms: number }
      >;
    }>(
      [
        Deno.execPath(),
        "run",
        "-A",
        "--quiet",
        "--v8-flags=--expose-gc",
        fixture("memory_child.ts"),
        root,
        "200",
        "40",
      ],
      { timeoutMs: 120_000 },
    );
    assert(got.gc, "the child could force garbage collections");
    const lines = [];
    const growth = (xs: number[]) => xs.at(-1)! - xs[0];
    const signed = (n: number) => `${n >= 0 ? "+" : ""}${n}`;
    for (const [name, s] of Object.entries(got.out)) {
      if (uringSkip && name.startsWith("io_uring")) continue;
      const anon = growth(s.anon);
      const heap = growth(s.heap);
      lines.push(
        `${name}: VmRSS ${s.rss[0]} -> ${s.rss.at(-1)} KiB (${signed(growth(s.rss))}), ` +
          `RssAnon ${signed(anon)} KiB (peak +${Math.max(...s.anon) - s.anon[0]}), ` +
          `V8 heap ${signed(heap)} KiB, descriptors ${signed(growth(s.fds))}, ` +
          `${s.ms.toFixed(0)} ms`,
      );
      assert(s.fds.every((n) => n === s.fds[0]), `${name}: descriptors ${s.fds}`);
      // Anonymous memory moves with V8's and malloc's caches and Deno's
      // thread pool (one more blocking thread is +2 MiB): a generous bound.
      // (In C, 5,000 create/destroy cycles stay flat after the first 1,000.)
      assert(anon < 24 * 1024, `${name}: RssAnon grew by ${anon} KiB: ${s.anon}`);
      assert(heap < 1024, `${name}: the V8 heap grew by ${heap} KiB: ${s.heap}`);
    }
    console.log(`after 40 cycles of warm-up, 200 cycles each:\n${lines.join("\n")}`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
