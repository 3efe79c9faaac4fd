/**
 * Shared test helpers: backends to run on, descriptor counting, temp trees.
 *
 * @module
 */

import { IoQueue } from "../mod.ts";
import { ffi, LOCAL_LIBRARY } from "../lib/ffi.ts";
import { INJECT } from "../lib/layout.ts";

/** A backend to run a test on, and why it is skipped here, if it is. */
export interface BackendCase {
  backend: "io_uring" | "threads";
  /** Set when this machine cannot run the backend: the test is ignored, not passed. */
  skip?: string;
}

/** Whether io_uring works here; the reason when it does not. */
function uringSkip(): string | undefined {
  try {
    new IoQueue({ backend: "io_uring", depth: 1 }).close();
    return undefined;
  } catch (error) {
    return `io_uring refused by this kernel: ${(error as Error).message}`;
  }
}

const uringReason = uringSkip();
if (uringReason) console.error(`NOTE: io_uring tests are ignored: ${uringReason}`);

/** Both backends; io_uring carries a skip reason where the kernel refuses a ring. */
export const BACKENDS: BackendCase[] = [
  { backend: "io_uring", skip: uringReason },
  { backend: "threads" },
];

/**
 * Registers `fn` as one test per backend, checking that the process has as
 * many open descriptors after the test as before.
 */
export function testBackends(
  name: string,
  fn: (backend: "io_uring" | "threads", t: Deno.TestContext) => Promise<void> | void,
): void {
  for (const { backend, skip } of BACKENDS) {
    Deno.test({
      name: `${name} [${backend}]`,
      ignore: skip !== undefined,
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

/** The number of open descriptors of this process. */
export function openFds(): number {
  let n = 0;
  for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
  return n;
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

/** Pops until nothing is in flight; returns every completion. */
export async function drain(q: IoQueue): Promise<import("../mod.ts").Completion[]> {
  const out = [];
  while (q.inFlight > 0) out.push(...await q.pop());
  return out;
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
