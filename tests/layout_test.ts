/**
 * lib/layout.ts against the C library's own description of its ABI.
 *
 * @module
 */

import { assertEquals } from "@std/assert";
import { ffi } from "../lib/ffi.ts";
import { LAYOUT } from "../lib/layout.ts";

Deno.test("lib/layout.ts matches ioq_layout() word for word", () => {
  const names = Object.keys(LAYOUT) as (keyof typeof LAYOUT)[];
  const out = new Uint32Array(names.length + 8);
  const count = ffi().ioq_layout(out, out.length);
  assertEquals(count, names.length, "C and TypeScript describe the same number of words");
  const c = Object.fromEntries(names.map((name, i) => [name, out[i]]));
  assertEquals(c, { ...LAYOUT });
});
