/**
 * The engine's promise to JavaScript: the main thread makes FFI calls per
 * batch of records, never per directory.  The CLI and `walkSync()` walk a
 * tree of 3,000 directories in a child that counts every synchronous FFI
 * call; each symbol's count must be bounded by the number of batches (the
 * batches given back), plus a constant for starting and ending.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import { denoRun, fixture, runJson } from "./child.ts";

/** What the child prints. */
interface Counted {
  status: number;
  cli: Record<string, number>;
  walkSync: Record<string, number>;
  entries: number;
}

/** Calls per batch a symbol may make (taking, waiting for, and giving back a batch). */
const PER_BATCH: Record<string, number> = {
  ioq_walk_next: 2,
  ioq_walk_wait: 1,
  ioq_walk_release: 1,
};

/** Calls a symbol may make once per walk (creating and ending queues and walks). */
const FIXED = 8;

Deno.test("the CLI and walkSync() make FFI calls per batch, not per directory", async () => {
  const root = await Deno.makeTempDir({ prefix: "ioq-ffi-" });
  try {
    // 3,000 directories with a file each, 30 at the top, 100 below each
    let made = 1;
    for (let i = 0; i < 30; i++) {
      for (let j = 0; j < 100; j++) {
        const dir = `${root}/d${i}/e${j}`;
        Deno.mkdirSync(dir, { recursive: true });
        Deno.writeFileSync(`${dir}/f`, new Uint8Array());
        made += 2;
      }
      made++;
    }
    const got = await runJson<Counted>(denoRun(fixture("ffi_calls_child.ts"), [root]), {
      timeoutMs: 120_000,
    });
    assertEquals(got.status, 0);
    assertEquals(got.entries, made);
    for (const run of ["cli", "walkSync"] as const) {
      const counts = got[run];
      const batches = counts.ioq_walk_release ?? 0;
      assert(batches >= 1, `${run}: no batch given back: ${JSON.stringify(counts)}`);
      for (const [name, n] of Object.entries(counts)) {
        const bound = (PER_BATCH[name] ?? 0) * batches + FIXED;
        assert(
          n <= bound,
          `${run}: ${name} called ${n} times for ${batches} batches ` +
            `(bound ${bound}; 3,031 directories): ${JSON.stringify(counts)}`,
        );
      }
      console.error(`${run}: ${batches} batches for 3,031 directories: ${JSON.stringify(counts)}`);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
