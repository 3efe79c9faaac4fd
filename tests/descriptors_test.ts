/**
 * Descriptors: walks under `ulimit -n 32` and 64 give every entry; with
 * exactly 0 to 3 descriptors free, each backend gives the one outcome
 * described below (EMFILE with its op and path, or every entry), with and
 * without onError, walk() and walkSync() alike; 1,000 walks stopped at random points (break, return,
 * abort, cancel or close of the caller's queue) leave /proc/self/fd as it
 * was and nothing in flight.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import { IoQueue, walk } from "../mod.ts";
import {
  type Backend,
  BACKENDS,
  makeTree,
  openFds,
  random,
  testBackends,
  testSeed,
} from "./helpers.ts";
import { denoRun, fixture, runJson, walkKeys } from "./child.ts";
import { fdTable } from "./fds.ts";

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

/** What tests/fixtures/scarce_child.ts prints: walk()'s outcome, walkSync()'s, leaks. */
interface Scarce {
  entries: string[];
  errors: Reported[];
  thrown: Reported | null;
  sync: { entries: string[]; errors: Reported[]; thrown: Reported | null };
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
 * needs one to be loaded, an io_uring queue one for each of its two rings
 * (the child asks for two workers),
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
                  // walkSync(), run after walk() with as few descriptors, gives the same
                  const { sync, ...rest } = got;
                  assertEquals(
                    { ...sync, entries: sync.entries.sort() },
                    { entries: [...rest.entries].sort(), errors: rest.errors, thrown: rest.thrown },
                    `walkSync(): ${label}`,
                  );
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
