/**
 * glob()'s errors on bad input: an invalid pattern or exclude names itself
 * and the index where it goes wrong, too many patterns for one walk name the
 * limit, and none of them leaves anything open.
 *
 * @module
 */

import { assertEquals, assertThrows } from "@std/assert";
import { globSync } from "../../mod.ts";
import { makeTree, openFds } from "../helpers.ts";
import { ioqGlob } from "./support.ts";

/** Runs glob() to its end, and returns the error it threw. */
async function globError(pattern: string | string[], options = {}): Promise<Error> {
  try {
    await ioqGlob(pattern, options);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`glob(${JSON.stringify(pattern)}) did not throw`);
}

Deno.test("glob() names an invalid pattern and the index where it goes wrong", async () => {
  const root = await makeTree(["a/", "a/b"]);
  const before = openFds();
  try {
    const cases: [string | string[], object, RegExp][] = [
      [
        "[z-a]",
        {},
        /^Cannot glob: "\[z-a\]" is invalid at index 1 \("z-a\]"\): range out of order/,
      ],
      [
        ["a/*", "a/x[b-a]y/*"],
        {},
        /^Cannot glob: "a\/x\[b-a\]y\/\*" is invalid at index 4 \("b-a\]y\/\*"\): range out of order/,
      ],
      [
        "*",
        { exclude: ["[c-a]"] },
        /^Cannot glob: exclude pattern "\[c-a\]", resolved to ".*\/\[c-a\]", is invalid at index \d+ \("c-a\]"\)/,
      ],
    ];
    for (const [pattern, options, message] of cases) {
      for (const run of ["glob", "globSync"]) {
        const error = run === "glob"
          ? await globError(pattern, { root, ...options })
          : assertThrows(() => globSync(pattern, { root, ...options }).next()) as Error;
        assertEquals(error.name, "SyntaxError", `${run} ${pattern}: ${error.message}`);
        assertEquals(message.test(error.message), true, `${run}: ${error.message}`);
      }
    }
    assertEquals(openFds(), before, "nothing left open");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("glob() refuses more patterns than one walk holds with a RangeError naming the limit", async () => {
  const root = await makeTree(["a/", "a/b"]);
  const before = openFds();
  try {
    // Excludes that share their path down to the root fit by the dozen
    const few = Array.from({ length: 20 }, (_, i) => `skip${i}`);
    assertEquals((await ioqGlob("**", { root, exclude: few })).length, 3);
    const many = Array.from({ length: 100 }, (_, i) => `skip${i}/x*`);
    const error = await globError("**", { root, exclude: many });
    assertEquals(error.name, "RangeError", error.message);
    assertEquals(
      /1 pattern\(s\) and 100 exclude\(s\) need more than the engine's 64 positions/.test(
        error.message,
      ),
      true,
      error.message,
    );
    assertEquals(openFds(), before, "nothing left open");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
