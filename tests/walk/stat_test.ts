/**
 * walk({ stat: true }): the same entries as without it, each with its lstat
 * (its target's stat for followed links and the root), fetched through the
 * queue; and no stat unless asked.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import type { WalkOptions } from "../../mod.ts";
import { testBackends } from "../helpers.ts";
import { describeOptions, ioqWalk, keys, mixedTree, ORDERS } from "./support.ts";

testBackends(
  "walk({ stat: true }) gives every entry its lstat (stat when followed)",
  async (backend, t) => {
    const root = await mixedTree();
    Deno.writeTextFileSync(`${root}/a/sized.txt`, "12345");
    try {
      for (const order of ORDERS) {
        for (
          const options of [
            {},
            { maxDepth: 1 },
            { followSymlinks: true },
            { followSymlinks: true, canonicalize: false },
            { exts: ["txt"], followSymlinks: true },
          ] as WalkOptions[]
        ) {
          await t.step(`${order} ${describeOptions(options)}`, async () => {
            const opts = { ...options, order, queue: { backend } };
            const got = await ioqWalk(root, { ...opts, stat: true });
            const plain = await ioqWalk(root, opts);
            assertEquals(
              keys(got.entries),
              keys(plain.entries),
              "the same entries as without stat",
            );
            for (const e of got.entries) {
              assert(e.stat, `${e.path} has a stat`);
              let want: Deno.FileInfo;
              if (e.depth === 0 || options.followSymlinks) {
                try {
                  want = Deno.statSync(e.path);
                } catch {
                  want = Deno.lstatSync(e.path); // a broken link: not followed
                }
              } else {
                want = Deno.lstatSync(e.path);
              }
              for (
                const field of ["ino", "dev", "size", "mode", "isFile", "isDirectory"] as const
              ) {
                assertEquals(e.stat[field], want[field], `${e.path}: ${field}`);
              }
              assertEquals(e.stat.isSymlink, want.isSymlink, `${e.path}: isSymlink`);
            }
            const sized = got.entries.find((e) => e.path === `${root}/a/sized.txt`);
            // (a/sized.txt is at depth 2)
            assertEquals(sized?.stat?.size, options.maxDepth === 1 ? undefined : 5);
          });
        }
        await t.step(`${order}: no stat unless asked`, async () => {
          const { entries } = await ioqWalk(root, { order, queue: { backend } });
          assert(entries.every((e) => e.stat === undefined));
        });
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);
