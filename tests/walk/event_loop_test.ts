/**
 * walk() leaves the event loop free: a 1 ms timer keeps firing while a tree
 * of 100,000 files is walked.
 *
 * @module
 */

import { assert } from "@std/assert";
import { walk } from "../../mod.ts";
import { fastTempDir, testBackends } from "../helpers.ts";
import { touchAll } from "../libc.ts";
import { ORDERS, rmrf } from "./support.ts";

testBackends("walk() leaves the event loop free: a 1 ms timer keeps firing", async (backend, t) => {
  // 100 directories of 1,000 files
  const root = fastTempDir();
  try {
    for (let d = 0; d < 100; d++) {
      Deno.mkdirSync(`${root}/d${d}`);
      touchAll(`${root}/d${d}`, Array.from({ length: 1000 }, (_, i) => `f${i}`));
    }
    for (const order of ORDERS) {
      await t.step(order, async () => {
        let ticks = 0;
        const timer = setInterval(() => ticks++, 1);
        const start = performance.now();
        let count = 0;
        try {
          for await (const _ of walk(root, { order, queue: { backend } })) count++;
        } finally {
          clearInterval(timer);
        }
        const ms = performance.now() - start;
        assert(count === 100 * 1001 + 1, `walked ${count} entries`);
        // Generous: at least one tick per 50 ms of walking (and one at all:
        // a walk that blocked the loop throughout would give none)
        assert(
          ticks >= Math.max(1, Math.floor(ms / 50)),
          `the timer fired ${ticks} times in ${ms.toFixed(0)} ms of walking ${count} entries`,
        );
      });
    }
  } finally {
    await rmrf(root);
  }
});
