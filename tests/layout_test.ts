/**
 * lib/layout.ts against the C library's own description of its ABI.
 *
 * @module
 */

import { assertEquals } from "@std/assert";
import { ffi } from "../lib/ffi.ts";
import { LAYOUT, WALK, WALK_LAYOUT } from "../lib/layout.ts";

Deno.test("lib/layout.ts matches ioq_layout() word for word", () => {
  const names = Object.keys(LAYOUT) as (keyof typeof LAYOUT)[];
  const out = new Uint32Array(names.length + 8);
  const count = ffi().ioq_layout(out, out.length);
  assertEquals(count, names.length, "C and TypeScript describe the same number of words");
  const c = Object.fromEntries(names.map((name, i) => [name, out[i]]));
  assertEquals(c, { ...LAYOUT });
});

Deno.test("lib/layout.ts WALK_LAYOUT and WALK match ioq_walk_layout() word for word", () => {
  const ts: Record<string, number> = { ...WALK_LAYOUT, ...WALK };
  const names = Object.keys(ts);
  assertEquals(names.length, Object.keys(WALK_LAYOUT).length + Object.keys(WALK).length);
  const out = new Uint32Array(names.length + 8);
  const count = ffi().ioq_walk_layout(out, out.length);
  assertEquals(count, names.length, "C and TypeScript describe the same number of words");
  const c = Object.fromEntries(names.map((name, i) => [name, out[i]]));
  assertEquals(c, ts);
});
