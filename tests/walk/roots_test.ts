/**
 * walk()'s roots: '.', relative roots, trailing and doubled slashes, dots,
 * `file:` URLs, a symlink to a directory, a file, '/', a missing root; and
 * bad arguments, reported from the first `next()`.
 *
 * @module
 */

import { assert, assertEquals, assertRejects } from "@std/assert";
import { walk, type WalkOptions } from "../../mod.ts";
import { testBackends } from "../helpers.ts";
import { stdWalkAll } from "../std_walk.ts";
import {
  checkOrder,
  code,
  describeOptions,
  errorKey,
  expectStd,
  ioqWalk,
  mixedTree,
  type Order,
  ORDERS,
  withCwd,
} from "./support.ts";

testBackends(
  "walk() roots: '.', trailing slash, URL, relative, a link, a file",
  async (backend, t) => {
    const root = await mixedTree();
    try {
      for (const order of ORDERS) {
        await t.step(`${order}: '.' and relative roots`, async () => {
          await withCwd(root, async () => {
            for (const r of [".", "./", "a", "a/", "./a", "a/../a", "a//b/../b/", "h/./j"]) {
              const { entries } = await expectStd(r, {}, backend, order);
              checkOrder(entries, order, r);
            }
            const dot = await ioqWalk(".", { order, queue: { backend } });
            assertEquals([dot.entries[0].path, dot.entries[0].name], [".", "."]);
            assert(dot.entries.some((e) => e.path === "a/b/c/deep.txt"), "join('.', x) is x");
            // @std/fs filters the root as given, not normalized
            await expectStd("a/../a", { skip: [/\.\./] }, backend, order);
            await expectStd("a/../a", { match: [/\.\./] }, backend, order);
          });
          await withCwd(`${root}/h`, async () => {
            await expectStd("../a", {}, backend, order);
            await expectStd("..", { maxDepth: 2 }, backend, order);
          });
        });
        await t.step(`${order}: trailing slash, doubled slashes, dots`, async () => {
          for (const r of [`${root}/`, `${root}//a//`, `${root}/a/./b/..`, `${root}/h/j/../`]) {
            await expectStd(r, {}, backend, order);
          }
          const { entries } = await ioqWalk(`${root}/`, { order, queue: { backend } });
          assertEquals(entries[0].path, `${root}/`);
          assertEquals(entries[0].name, root.slice(root.lastIndexOf("/") + 1));
          assert(entries.some((e) => e.path === `${root}/a/x.txt`));
        });
        await t.step(`${order}: file: URLs`, async () => {
          for (const url of [`file://${root}`, `file://${root}/space dir`, `file://${root}/a/`]) {
            const { entries } = await expectStd(new URL(url), {}, backend, order);
            assert(!entries[0].path.includes("%"), "percent escapes decoded");
          }
        });
        await t.step(`${order}: a root that is a symlink to a directory`, async () => {
          for (const follow of [false, true]) {
            const { entries } = await expectStd(
              `${root}/l-dir`,
              { followSymlinks: follow },
              backend,
              order,
            );
            const first = entries[0];
            assertEquals(
              [first.path, first.name, first.isDirectory, first.isSymlink],
              [`${root}/l-dir`, "l-dir", true, false],
            );
            assert(entries.some((e) => e.path === `${root}/l-dir/c/deep.txt`), "not resolved");
          }
          await expectStd(`${root}/l-chain/`, {}, backend, order);
        });
        await t.step(`${order}: a file as the root`, async () => {
          // std yields the file, then throws from listing it; walk() yields
          // it and reports the error (or throws it)
          const std = await stdWalkAll(`${root}/f.txt`);
          assert(std.thrown instanceof Deno.errors.NotADirectory, String(std.thrown));
          const got = await ioqWalk(`${root}/f.txt`, { order, queue: { backend } }, true);
          assertEquals(got.entries.map((e) => [e.path, e.name, e.isFile, e.isDirectory]), [
            [`${root}/f.txt`, "f.txt", true, false],
          ]);
          assertEquals(
            std.entries.map((e) => [e.path, e.name, e.isFile, e.isDirectory]),
            [[`${root}/f.txt`, "f.txt", true, false]],
          );
          assertEquals(got.entries[0].depth, 0);
          assertEquals(got.errors, [errorKey(new Deno.errors.NotADirectory(""), `${root}/f.txt`)]);
          await assertRejects(
            () => ioqWalk(`${root}/f.txt`, { order, queue: { backend } }),
            Deno.errors.NotADirectory,
          );
        });
        await t.step(`${order}: '/' to depth 1`, async () => {
          await expectStd("/", { maxDepth: 1 }, backend, order);
          const { entries } = await ioqWalk("/", { maxDepth: 1, order, queue: { backend } });
          assertEquals([entries[0].path, entries[0].name, entries[0].depth], ["/", "/", 0]);
          const names = [...Deno.readDirSync("/")].map((e) => e.name);
          assertEquals(
            entries.slice(1).map((e) => [e.path, e.depth]).sort(),
            names.map((name) => [`/${name}`, 1]).sort(),
          );
        });
        await t.step(`${order}: a missing root`, async () => {
          const missing = `${root}/missing`;
          for (const options of [{}, { includeDirs: false }, { maxDepth: 0 }]) {
            const e = await assertRejects(
              () => ioqWalk(missing, { ...options, order, queue: { backend } }),
              Deno.errors.NotFound,
            );
            assertEquals(code(e), "ENOENT");
            const got = await ioqWalk(missing, { ...options, order, queue: { backend } }, true);
            assertEquals(got.entries, []);
            assertEquals(got.errors, [`NotFound ${JSON.stringify(missing)}`], "reported once");
          }
          await withCwd(root, async () => {
            const got = await ioqWalk("nope/../nope/", { order, queue: { backend } }, true);
            assertEquals(got.errors, [`NotFound "nope/"`], "reported at the normalized path");
          });
        });
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

testBackends("walk() reports bad arguments from the first next()", async (backend) => {
  const queue = { backend };
  const cases: [string | URL, WalkOptions][] = [
    [".", { maxDepth: NaN, queue }],
    [".", { order: "sideways" as Order, queue }],
    // deno-lint-ignore no-explicit-any
    [".", { onError: "loudly" as any, queue }],
    [new URL("https://example.com/"), { queue }],
  ];
  for (const [root, options] of cases) {
    const it = walk(root, options);
    await assertRejects(() => it.next(), TypeError, undefined, describeOptions(options));
  }
});
