/**
 * Shared test helpers: backends to run on, descriptor counting, temp trees,
 * seeded randomness.
 *
 * Two environment variables change what may be skipped:
 *
 * - `IOQ_STRICT_TESTS=1` (CI sets it): io_uring must work unless the kernel
 *   has none (ENOSYS): a ring refused for any other reason fails the
 *   io_uring tests instead of ignoring them.
 * - `IOQ_TEST_SEED=N`: the seed of every randomized test (printed by each).
 *
 * @module
 */

import { type Completion, type Dir, IoQueue } from "../mod.ts";
import { ffi, LOCAL_LIBRARY } from "../lib/ffi.ts";
import { INJECT } from "../lib/layout.ts";
import { openFds } from "./fds.ts";

export { openFds };

/** A backend to run a test on, and why it is skipped here, if it is. */
export interface BackendCase {
  backend: "io_uring" | "threads";
  /** Set when this machine cannot run the backend: the test is ignored, not passed. */
  skip?: string;
}

/** Whether every test must run (IOQ_STRICT_TESTS=1): nothing that could run may be ignored. */
export const STRICT: boolean = Deno.env.get("IOQ_STRICT_TESTS") === "1";

/**
 * Why the io_uring tests cannot run here, if they cannot: the kernel refuses
 * a ring.  Under IOQ_STRICT_TESTS=1 only a kernel without io_uring (ENOSYS)
 * counts; any other refusal leaves the tests to run, and fail.
 */
function uringSkip(): string | undefined {
  try {
    new IoQueue({ backend: "io_uring", depth: 1 }).close();
    return undefined;
  } catch (error) {
    const { code, message } = error as Error & { code?: string };
    if (STRICT && code !== "ENOSYS") {
      console.error(
        `NOTE: io_uring is refused (${message}): IOQ_STRICT_TESTS=1, so its tests fail`,
      );
      return undefined;
    }
    return `io_uring refused by this kernel: ${message}`;
  }
}

const uringReason = uringSkip();
if (uringReason) console.error(`NOTE: io_uring tests are ignored: ${uringReason}`);

/** Both backends; io_uring carries a skip reason where the kernel refuses a ring. */
export const BACKENDS: BackendCase[] = [
  { backend: "io_uring", skip: uringReason },
  { backend: "threads" },
];

/** A backend's name. */
export type Backend = BackendCase["backend"];

/**
 * Registers `fn` as one test per backend, checking that the process has as
 * many open descriptors after the test as before.  A backend this machine
 * cannot run is ignored (reported as such, never as passed), and so is one
 * for which `skip` gives a reason (printed once).
 */
export function testBackends(
  name: string,
  fn: (backend: Backend, t: Deno.TestContext) => Promise<void> | void,
  skip?: (backend: Backend) => string | undefined,
): void {
  for (const { backend, skip: cannot } of BACKENDS) {
    const why = cannot ?? skip?.(backend);
    if (why && !cannot) console.error(`NOTE: "${name} [${backend}]" is ignored: ${why}`);
    Deno.test({
      name: `${name} [${backend}]`,
      ignore: why !== undefined,
      async fn(t) {
        const before = openFds();
        await fn(backend, t);
        const after = openFds();
        if (after !== before) {
          throw new Error(`descriptor leak: ${before} open before the test, ${after} after`);
        }
      },
    });
  }
}

/** A tree to build: paths ending in "/" are directories, others empty files. */
export async function makeTree(paths: string[]): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "ioq-test-" });
  for (const p of paths) {
    if (p.endsWith("/")) await Deno.mkdir(`${root}/${p}`, { recursive: true });
    else await Deno.writeTextFile(`${root}/${p}`, "");
  }
  return root;
}

/** A directory on a fast file system (tmpfs when there is one) for big trees. */
export function fastTempDir(): string {
  try {
    if (Deno.statSync("/dev/shm").isDirectory) {
      return Deno.makeTempDirSync({ dir: "/dev/shm", prefix: "ioq-test-" });
    }
  } catch {
    // no /dev/shm: the default temp dir
  }
  return Deno.makeTempDirSync({ prefix: "ioq-test-" });
}

/** Pops until nothing is in flight; returns every completion. */
export async function drain(q: IoQueue): Promise<Completion[]> {
  const out = [];
  while (q.inFlight > 0) out.push(...await q.pop());
  return out;
}

/** The single completion of a queue that has one request in flight. */
export async function one(q: IoQueue): Promise<Completion> {
  const all = await drain(q);
  if (all.length !== 1) throw new Error(`expected one completion, got ${all.length}`);
  return all[0];
}

/** Opens a directory through the queue and returns it (throws its error). */
export async function openDir(
  q: IoQueue,
  path: string | URL | Uint8Array,
  at?: Dir,
): Promise<Dir> {
  q.opendir(path, 0, { at });
  const c = await one(q);
  if (c.op !== "opendir") throw new Error(`an opendir request completed as ${c.op}`);
  if (!c.dir) throw c.error;
  return c.dir;
}

/**
 * Test hook: make the next `count` passes through a C injection point fail
 * with `err` (or, for "stall", make NOPs sleep -err ms).  count 0 turns it off.
 */
export function inject(point: keyof typeof INJECT, err: number, count: number): void {
  const ret = ffi().ioq_test_inject(INJECT[point], err, count);
  if (ret !== 0) throw new Error(`ioq_test_inject(${point}) failed: ${ret}`);
}

/** The test hooks lib/ffi.ts does not bind, from the same library (dlopen shares it). */
let hooks:
  | Deno.DynamicLibrary<{
    ioq_test_injected: { parameters: ["i32"]; result: "i32" };
  }>
  | undefined;

/**
 * Test hook: how many times a C injection point has fired (failed a call,
 * stalled a NOP) since `inject()` last set it.
 */
export function injected(point: keyof typeof INJECT): number {
  ffi(); // the library the queues use, loaded first
  hooks ??= Deno.dlopen(Deno.env.get("IOQ_LIBRARY") || LOCAL_LIBRARY, {
    ioq_test_injected: { parameters: ["i32"], result: "i32" },
  });
  const ret = hooks.symbols.ioq_test_injected(INJECT[point]);
  if (ret < 0) throw new Error(`ioq_test_injected(${point}) failed: ${ret}`);
  return ret;
}

/**
 * The seed for a randomized test: `IOQ_TEST_SEED` when set, else a fresh
 * one.  Printed with `what`, so that a failure can be replayed.
 */
export function testSeed(what: string): number {
  const given = Deno.env.get("IOQ_TEST_SEED");
  if (given !== undefined && !/^\d+$/.test(given)) {
    throw new TypeError(
      `IOQ_TEST_SEED must be a non-negative integer, not ${JSON.stringify(given)}`,
    );
  }
  const seed = given !== undefined
    ? Number(given) >>> 0
    : crypto.getRandomValues(new Uint32Array(1))[0];
  console.log(`${what}: seed ${seed} (IOQ_TEST_SEED=${seed} repeats it)`);
  return seed;
}

/** A seeded generator of numbers in [0, 1) (mulberry32). */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded generator of integers from 0 to n - 1 (`random()`'s numbers, scaled). */
export function randomBelow(seed: number): (n: number) => number {
  const next = random(seed);
  return (n) => Math.floor(next() * n);
}
