/**
 * Reliability: faults, descriptors, exits and memory.
 *
 * - Per-op fallback: an op the ring answers with EINVAL, EOPNOTSUPP or
 *   ENOSYS (injected: IOQ_INJECT_URING_*) is retried synchronously, gives
 *   the right result, and is done synchronously from then on (the injection
 *   point stops firing), for that queue.
 * - Submit errors: io_uring_enter failing forever never hangs a walk.
 * - Descriptors: walks under `ulimit -n 32` and 64 give every entry; with
 *   almost none free, errors carry EMFILE and their path; 1,000 walks
 *   stopped at random points (break, return, abort, cancel or close of the
 *   caller's queue) leave /proc/self/fd as it was and nothing in flight.
 * - Exit: a script that leaves a walk or a pop unfinished exits at once.
 * - Memory: 200 queue create/close cycles and 200 walks per backend keep
 *   RSS, the V8 heap and the descriptors flat.
 *
 * Figures are printed as they are measured (`deno test` shows them).
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import { type Completion, IoQueue, walk, type WalkOptions } from "../mod.ts";
import {
  type Backend,
  BACKENDS,
  inject,
  injected,
  makeTree,
  openFds,
  random,
  testBackends,
  testSeed,
} from "./helpers.ts";
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

/** The open descriptors of this process, by number, with what they point at. */
function fdTable(): Map<string, string> {
  const table = new Map<string, string>();
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      table.set(e.name, Deno.readLinkSync(`/proc/self/fd/${e.name}`));
    } catch {
      // the listing's own descriptor
    }
  }
  return table;
}

/** Pops until nothing is in flight. */
async function drain(q: IoQueue): Promise<Completion[]> {
  const out: Completion[] = [];
  while (q.inFlight > 0) out.push(...await q.pop());
  return out;
}

/** The one completion of the one request in flight. */
async function one(q: IoQueue): Promise<Completion> {
  const done = await drain(q);
  assertEquals(done.length, 1);
  return done[0];
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
// Descriptors

/**
 * A tree that needs more directories than 32 descriptors: 40 directories of
 * nested directories, and a chain 40 deep.
 */
async function fdTree(): Promise<string> {
  const paths: string[] = [];
  for (let d = 0; d < 40; d++) paths.push(`d${d}/s/t/`, `d${d}/f`, `d${d}/s/g`, `d${d}/s/t/h`);
  let chain = "chain";
  for (let i = 0; i < 40; i++) chain += `/c${i}`;
  paths.push(`${chain}/`, `${chain}/leaf`);
  return await makeTree(paths);
}

/** What walk_child.ts prints. */
interface ChildWalk {
  backend: string | null;
  created: { name: string; code?: string; message: string } | null;
  walks: Record<string, {
    entries: string[];
    errors: { name: string; code?: string; path?: string }[];
    thrown: { name: string; message: string } | null;
  }>;
  fdsBefore: number;
  fdsAfter: number;
}

Deno.test("walks under `ulimit -n 32` and 64 give every entry, on every backend", async (t) => {
  const root = await fdTree();
  try {
    const want = await walkKeys(root, { queue: { backend: "threads" } });
    assert(want.length > 200);
    for (const limit of [32, 64]) {
      for (const { backend, skip } of [...BACKENDS, { backend: "auto", skip: undefined }]) {
        await t.step({
          name: `ulimit -n ${limit}, ${backend}`,
          ignore: skip !== undefined,
          async fn() {
            const cmd = denoRun(fixture("walk_child.ts"), [root, `--backend=${backend}`, "--own"])
              .map((a) => `'${a}'`).join(" ");
            const got = await runJson<ChildWalk>(
              ["sh", "-c", `ulimit -n ${limit} && exec ${cmd}`],
              { timeoutMs: 30_000 },
            );
            for (const order of ["bfs", "dfs"]) {
              const w = got.walks[order];
              assertEquals(w.thrown, null, `${order}: ${JSON.stringify(w.thrown)}`);
              assertEquals(w.errors, [], order);
              assertEquals(w.entries, want, `${order}: every entry`);
            }
            assertEquals(got.fdsAfter, got.fdsBefore, "no descriptor left open");
            console.log(
              `ulimit -n ${limit}, ${backend}: ${want.length} entries x 2 orders, ` +
                `${got.fdsBefore} descriptors open before (Deno's own)`,
            );
          },
        });
      }
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** What tests/fixtures/scarce_child.ts prints. */
interface Scarce {
  entries: string[];
  errors: Reported[];
  thrown: Reported | null;
  leaked: number;
}

/** An error as scarce_child.ts reports it. */
interface Reported {
  name: string;
  code?: string;
  op?: string;
  path?: string;
  message: string;
}

/** Runs scarce_child.ts under `ulimit -n 128`. */
function scarce(root: string, backend: string, free: number, flags: string[]): Promise<Scarce> {
  const cmd = denoRun(fixture("scarce_child.ts"), [root, backend, String(free), ...flags])
    .map((a) => `'${a}'`).join(" ");
  return runJson<Scarce>(["sh", "-c", `ulimit -n 128 && exec ${cmd}`], { timeoutMs: 30_000 });
}

/**
 * What a walk of a tree gives with exactly `free` descriptors: the library
 * needs one to be loaded, an io_uring queue one for each of its two rings,
 * the walk one for the root.  An error that ends the walk before the root's
 * listing is named by its op (and, for the root, its path); after it, every
 * entry (an EMFILE lowers the walk's budget and the open is retried once a
 * descriptor is free, so one is enough).
 */
function scarceOutcome(
  backend: Backend,
  free: number,
  queueFirst: boolean,
): { entries: "none" | "root" | "all"; op?: string } {
  if (!queueFirst && free === 0) return { entries: "none", op: "dlopen" };
  if (!queueFirst && backend === "io_uring" && free === 1) {
    return { entries: "none", op: "create IoQueue (backend io_uring)" };
  }
  const forTheWalk = queueFirst ? free : backend === "io_uring" ? free - 2 : free;
  return forTheWalk === 0 ? { entries: "root", op: "opendir" } : { entries: "all" };
}

for (const queueFirst of [false, true]) {
  Deno.test(
    `with 0 to 3 descriptors free and ${
      queueFirst ? "the queue made first" : "the walk making its queue"
    }: EMFILE with its op and path, or every entry`,
    async (t) => {
      const root = await fdTree();
      try {
        const keys = await walkKeys(root);
        const all: string[] = keys.map((k) => JSON.parse(k.slice(k.indexOf('"')))).sort();
        assert(all.length > 200, `${all.length} entries`);
        for (const { backend, skip } of BACKENDS) {
          for (const free of [0, 1, 2, 3]) {
            for (const onError of [true, false]) {
              await t.step({
                name: `${backend}, ${free} free, ${onError ? "onError" : "no onError"}`,
                ignore: skip !== undefined,
                async fn() {
                  const flags = [
                    ...(queueFirst ? ["--queue-first"] : []),
                    ...(onError ? [] : ["--no-on-error"]),
                  ];
                  const got = await scarce(root, backend, free, flags);
                  const want = scarceOutcome(backend, free, queueFirst);
                  const label = JSON.stringify(got);
                  assertEquals(got.leaked, 0, "no descriptor left open");
                  const entries = { none: [], root: [root], all }[want.entries];
                  assertEquals(got.entries.sort(), entries, label);
                  if (!want.op) {
                    assertEquals([got.errors, got.thrown], [[], null], label);
                    return;
                  }
                  // The error that ended the walk: reported when it is the
                  // root's open and there is an onError, else thrown
                  const reported = want.entries === "root" && onError;
                  assertEquals(got.errors.length, reported ? 1 : 0, label);
                  if (reported) assertEquals(got.thrown, null, label);
                  const error = reported ? got.errors[0] : got.thrown;
                  assert(error, label);
                  assertEquals([error.code, error.op], ["EMFILE", want.op], label);
                  if (want.entries === "root") assertEquals(error.path, root, label);
                },
              });
            }
          }
        }
      } finally {
        await Deno.remove(root, { recursive: true });
      }
    },
  );
}

testBackends(
  "1,000 walks stopped at random points (break, return, abort, cancel, close) leave nothing behind",
  async (backend) => {
    const paths: string[] = [];
    for (let d = 0; d < 4; d++) {
      paths.push(`d${d}/`, `d${d}/f`, `d${d}/s/`, `d${d}/s/g`, `d${d}/s/t/`, `d${d}/s/t/h`);
    }
    const root = await makeTree([...paths, "x", "y"]);
    const seed = testSeed(`1,000 stopped walks [${backend}]`);
    const rand = random(seed);
    const where = (i: number, how: string) => `walk ${i} (${how}, seed ${seed})`;
    const HOWS = ["break", "return", "abort", "cancel", "close"] as const;
    const EXPECTED: Record<string, string | undefined> = {
      abort: "AbortError",
      cancel: "Interrupted",
      close: "BadResource",
    };
    try {
      const total = (await walkKeys(root)).length;
      await using shared = new IoQueue({ backend, depth: 16 });
      const table = fdTable();
      const fdsBefore = openFds();
      const stats = Object.fromEntries(HOWS.map((h) => [h, { runs: 0, stopped: 0, threw: 0 }]));
      const start = performance.now();
      for (let i = 0; i < 1000; i++) {
        const how = HOWS[Math.floor(rand() * HOWS.length)];
        const order = rand() < 0.5 ? "bfs" : "dfs";
        const stopAt = Math.floor(rand() * (total + 1));
        // cancel and close end a queue: those walks get a fresh one of the caller's
        const own = how === "cancel" || how === "close"
          ? new IoQueue({ backend, depth: [1, 4, 64][Math.floor(rand() * 3)] })
          : undefined;
        const queue = own ?? (rand() < 0.5 ? shared : { backend, threads: 1 + (i % 2) });
        const controller = new AbortController();
        const it = walk(root, { order, queue, signal: controller.signal });
        let count = 0;
        let stopped = false;
        try {
          if (how === "return") {
            while (count < stopAt && !(await it.next()).done) count++;
            stopped = count === stopAt;
            await it.return!(undefined);
          } else {
            for await (const _ of it) {
              if (count++ !== stopAt) continue;
              stopped = true;
              if (how === "break") break;
              if (how === "abort") controller.abort();
              if (how === "cancel") own!.cancel();
              if (how === "close") own!.close();
            }
          }
        } catch (error) {
          stats[how].threw++;
          assertEquals((error as Error).name, EXPECTED[how], `${where(i, how)}: ${error}`);
        }
        if (stopped) stats[how].stopped++;
        stats[how].runs++;
        if (how === "abort" && stopped) {
          assertEquals(count, stopAt + 1, `${where(i, how)}: nothing yielded after the abort`);
        }
        if (own && !own.closed) {
          assertEquals(own.inFlight, 0, `${where(i, how)}: nothing in flight`);
          assertEquals(own.capacity, own.depth, `${where(i, how)}: full capacity`);
          own.close();
        }
        assertEquals(shared.inFlight, 0, where(i, how));
        assertEquals(shared.capacity, shared.depth, where(i, how));
        if (i % 100 === 99) assertEquals(openFds(), fdsBefore, `${where(i, how)}: descriptors`);
      }
      const ms = performance.now() - start;
      assertEquals(fdTable(), table, "/proc/self/fd is as it was");
      for (const h of HOWS) assert(stats[h].stopped > 50, `${h}: ${JSON.stringify(stats[h])}`);
      console.log(
        `1,000 stopped walks (${total} entries each, seed ${seed}) in ${ms.toFixed(0)} ms: ` +
          JSON.stringify(stats),
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

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
