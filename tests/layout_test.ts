/**
 * lib/layout.ts against the C library's own description of its ABI.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ffi } from "../lib/ffi.ts";
import { LAYOUT, WALK_LAYOUT } from "../lib/layout.ts";

Deno.test("lib/layout.ts matches ioq_layout() word for word", () => {
  const names = Object.keys(LAYOUT) as (keyof typeof LAYOUT)[];
  const out = new Uint32Array(names.length + 8);
  const count = ffi().ioq_layout(out, out.length);
  assert.equal(count, names.length, "C and TypeScript describe the same number of words");
  const c = Object.fromEntries(names.map((name, i) => [name, out[i]]));
  assert.deepEqual(c, { ...LAYOUT });
});

Deno.test("lib/layout.ts WALK_LAYOUT matches ioq_walk_layout() word for word", () => {
  const names = Object.keys(WALK_LAYOUT) as (keyof typeof WALK_LAYOUT)[];
  const out = new Uint32Array(names.length + 8);
  const count = ffi().ioq_walk_layout(out, out.length);
  assert.equal(count, names.length, "C and TypeScript describe the same number of words");
  const c = Object.fromEntries(names.map((name, i) => [name, out[i]]));
  assert.deepEqual(c, { ...WALK_LAYOUT });
});
