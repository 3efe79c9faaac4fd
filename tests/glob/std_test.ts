/**
 * glob() and globSync() against the real `@std/fs` `expandGlob` and
 * `expandGlobSync` (tests/std_walk.ts says which copy): the patterns and
 * options of std's own tests on a copy of their test data, then random
 * patterns and options on random trees with odd names (seeded from
 * $IOQ_TEST_SEED, printed), on both backends.  Each comparison asks for the
 * same set of paths, each once, with equal names and type flags.
 *
 * Where std cannot be the reference, the random trees and patterns keep
 * away, and the cases below state what ioq does instead:
 *
 *  - Names that are not UTF-8: std sees U+FFFD for each bad sequence and
 *    cannot stat or enter such a path; only files are made, with bad bytes
 *    that are one U+FFFD each (generate.ts, RAW_NAMES).  A truncated
 *    multi-byte sequence is one U+FFFD to std but a character per byte to
 *    ioq's matcher, so `?` counts differ: not generated.
 *  - Followed links: std throws on a broken link and recurses forever in a
 *    loop, so trees whose links are followed have neither.
 *  - `canonicalize: false`: std canonicalizes anyway in every segment that
 *    is not `**`, and below the first level of a `**`; those random cases
 *    are limited to `fixed/**` with links at the top.
 *
 * @module
 */

import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { type GlobOptions, globSync } from "../../mod.ts";
import { random, testBackends, testSeed } from "../helpers.ts";
import { MODES, randomCase, randomTree } from "./generate.ts";
import { expectStdGlob, ioqGlob, stdTestdata } from "./support.ts";

/** std's test cases: pattern, options, and the paths std's tests expect (relative to root). */
const STD_CASES: [string, GlobOptions, string[]][] = [
  ["*", {}, ["a[b]c", "abc", "abcdef", "abcdefghi", "link", "subdir"]],
  ["*", { exclude: ["abc"] }, ["a[b]c", "abcdef", "abcdefghi", "link", "subdir"]],
  ["nonexistent", {}, []],
  ["*/", {}, ["a[b]c", "subdir"]],
  ["subdir/../*", {}, ["a[b]c", "abc", "abcdef", "abcdefghi", "link", "subdir"]],
  ["abc?(def|ghi)", { extended: true }, ["abc", "abcdef"]],
  ["abc*(def|ghi)", { extended: true }, ["abc", "abcdef", "abcdefghi"]],
  ["abc+(def|ghi)", { extended: true }, ["abcdef", "abcdefghi"]],
  ["abc@(def)", { extended: true }, ["abcdef"]],
  ["abc@(def|ghi)", { extended: true }, ["abcdef"]],
  ["abc{def}", { extended: true }, ["abcdef"]],
  ["abc{def,ghi}", { extended: true }, ["abcdef"]],
  ["abc!(def|ghi)", { extended: true }, ["abc"]],
  ["**/abc", {}, ["abc", "subdir/abc"]],
  ["subdir/**/..", { globstar: true }, ["."]],
  ["**", { globstar: false }, [".", "a[b]c", "abc", "abcdef", "abcdefghi", "link", "subdir"]],
  ["subdir", { includeDirs: false }, []],
  ["**/abc", { followSymlinks: true }, ["abc", "subdir/abc"]],
  ["**/abc", { followSymlinks: true, canonicalize: false }, ["abc", "link/abc", "subdir/abc"]],
  ["a\\[b\\]c", {}, ["a[b]c"]],
  ["a\\[b\\]c/fo[o]", {}, ["a[b]c/foo"]],
];

testBackends("glob() passes @std/fs expandGlob's own test cases", async (backend, t) => {
  const root = await stdTestdata();
  try {
    for (const [pattern, options, paths] of STD_CASES) {
      await t.step(`${pattern} ${JSON.stringify(options)}`, async () => {
        // std's tests set extended: false unless they test it
        const o = { root, extended: false, ...options };
        const got = await expectStdGlob(pattern, o, backend);
        const relative = got.map((e) => e.path === root ? "." : e.path.slice(root.length + 1));
        assertEquals(relative.sort(), paths);
      });
    }
    await t.step("root is not a glob", async () => {
      const got = await expectStdGlob("*", { root: `${root}/a[b]c` }, backend);
      assertEquals(got.map((e) => e.name), ["foo"]);
    });
    await t.step("root through a link, followed", async () => {
      const got = await expectStdGlob("*", { root: `${root}/link`, followSymlinks: true }, backend);
      assertEquals(got.map((e) => e.name), ["abc"]);
    });
    await t.step("root from the cwd, relative patterns and absolute ones", async () => {
      for (const pattern of ["*", "./*/", `${root}/*`, `${root}/**/abc`, "link/*", "../*"]) {
        await expectStdGlob(pattern, {}, backend, `${root}/subdir`);
        await expectStdGlob(pattern, { root: ".." }, backend, `${root}/subdir`);
      }
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** std's test data for the tests with scoped read access (their permissions name it). */
const SCOPED = await stdTestdata();
globalThis.addEventListener("unload", () => Deno.removeSync(SCOPED, { recursive: true }));

Deno.test({
  name: "glob() needs read access to its root only, as @std/fs expandGlob",
  permissions: { read: [SCOPED], ffi: true, env: true },
  async fn() {
    const want = [`${SCOPED}/abc`];
    assertEquals((await ioqGlob("abc", { root: SCOPED })).map((e) => e.path), want);
    assertEquals((await ioqGlob(`${SCOPED}/abc`)).map((e) => e.path), want);
    assertEquals(Array.from(globSync("abc", { root: SCOPED }), (e) => e.path), want);
  },
});

Deno.test({
  name: "glob() without read access throws NotCapable, as @std/fs expandGlob",
  permissions: { read: false, ffi: true, env: true },
  async fn() {
    await assertRejects(() => ioqGlob("*", { root: SCOPED }), Deno.errors.NotCapable);
    assertThrows(() => Array.from(globSync("*", { root: SCOPED })), Deno.errors.NotCapable);
  },
});

/** Random trees per mode, and patterns per tree. */
const TREES = 6;
const PATTERNS = 12;

testBackends(
  "glob() matches @std/fs expandGlob on random trees and patterns",
  async (backend, t) => {
    const seed = testSeed(`glob() vs @std/fs expandGlob [${backend}]`);
    const rand = random(seed);
    for (const mode of MODES) {
      await t.step(mode.name, async () => {
        for (let i = 0; i < TREES; i++) {
          const tree = await randomTree(rand, mode.tree);
          try {
            for (let j = 0; j < PATTERNS; j++) {
              const { pattern, options, cwd } = randomCase(rand, tree, mode);
              await expectStdGlob(pattern, options, backend, cwd);
            }
            // Several patterns in one walk: what std gives for any of them
            const { options, cwd } = randomCase(rand, tree, mode);
            const patterns = [0, 1, 2].map(() => randomCase(rand, tree, mode).pattern);
            await expectStdGlob(patterns, options, backend, cwd);
          } finally {
            await Deno.remove(tree.base, { recursive: true });
          }
        }
      });
    }
  },
);
