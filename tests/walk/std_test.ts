/**
 * walk() against the real `@std/fs` `walk` (tests/std_walk.ts says which
 * copy) on a tree with a bit of everything, for every option alone and
 * combined, on both backends and in both orders, with the order of each
 * walk checked too.
 *
 * std throws on a broken link when following links, and canonicalizes below
 * the first level even with `canonicalize: false`: walks that follow links
 * are compared on trees without broken links (and, for `canonicalize:
 * false`, without links below the first level).  What ioq does there
 * instead is tested in symlinks_test.ts.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import type { WalkOptions } from "../../mod.ts";
import { testBackends } from "../helpers.ts";
import {
  checkOrder,
  expectStd,
  find,
  ioqWalk,
  keys,
  mixedTree,
  type MixedTreeOptions,
  ORDERS,
  withCwd,
} from "./support.ts";

testBackends("walk() yields what @std/fs walk yields on a mixed tree", async (backend, t) => {
  const root = await mixedTree();
  try {
    for (const order of ORDERS) {
      await t.step(order, async () => {
        const { entries } = await expectStd(root, {}, backend, order);
        checkOrder(entries, order, order);
        const rootEntry = entries[0];
        assertEquals(
          { path: rootEntry.path, name: rootEntry.name, depth: rootEntry.depth },
          { path: root, name: root.slice(root.lastIndexOf("/") + 1), depth: 0 },
        );
        for (const special of ["pipe", "sock", "a/pipe2"]) {
          const e = find(entries, `${root}/${special}`);
          assert(!e.isFile && !e.isDirectory && !e.isSymlink, `${special} is none of the three`);
        }
        for (const l of ["l-file", "l-dir", "l-broken", "l-notdir", "h/l-abs"]) {
          const e = find(entries, `${root}/${l}`);
          assert(e.isSymlink && !e.isFile && !e.isDirectory, `${l} is a symlink`);
        }
        assert(!entries.some((e) => e.path.startsWith(`${root}/l-dir/`)), "links not followed");
        assertEquals(new Set(entries.map((e) => e.path)).size, entries.length, "no duplicates");
      });
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** Option sets compared with std (walking "." inside a mixed tree). */
const OPTION_CASES: [string, WalkOptions][] = [
  ["defaults", {}],
  ["maxDepth 0", { maxDepth: 0 }],
  ["maxDepth 1", { maxDepth: 1 }],
  ["maxDepth 2", { maxDepth: 2 }],
  ["maxDepth Infinity", { maxDepth: Infinity }],
  ["maxDepth -1", { maxDepth: -1 }],
  ["maxDepth 1.5", { maxDepth: 1.5 }],
  ["includeFiles false", { includeFiles: false }],
  ["includeDirs false", { includeDirs: false }],
  ["includeSymlinks false", { includeSymlinks: false }],
  ["followSymlinks", { followSymlinks: true }],
  ["followSymlinks, canonicalize false", { followSymlinks: true, canonicalize: false }],
  ["followSymlinks, includeSymlinks false", { followSymlinks: true, includeSymlinks: false }],
  ["followSymlinks, includeDirs false", { followSymlinks: true, includeDirs: false }],
  ["followSymlinks, includeFiles false", { followSymlinks: true, includeFiles: false }],
  ["followSymlinks, maxDepth 2", { followSymlinks: true, maxDepth: 2 }],
  ["exts txt", { exts: ["txt"] }],
  ["exts .txt", { exts: [".txt"] }],
  ["exts .md and ts", { exts: [".md", "ts"] }],
  ["exts .txt, followSymlinks", { exts: [".txt"], followSymlinks: true }],
  ["match /a\\//", { match: [/a\//] }],
  ["match two patterns", { match: [/\.txt$/, /^h/] }],
  ["match nothing", { match: [/^$/] }],
  ["skip /b/", { skip: [/b/] }],
  ["skip a directory by name", { skip: [/^a$/] }],
  ["skip the root", { skip: [/^\.$/] }],
  ["skip everything", { skip: [/./] }],
  ["skip links", { skip: [/^l-/], followSymlinks: true }],
  ["match a global RegExp", { match: [/t/g] }],
  ["skip a global RegExp", { skip: [/a/g] }],
  ["maxDepth 2, exts txt, skip /b/", { maxDepth: 2, exts: ["txt"], skip: [/b/] }],
  ["exts, match and skip", { exts: ["txt", "md"], match: [/a|h/], skip: [/deep/] }],
  [
    "follow, no canonicalize, exts, skip, maxDepth 3",
    { followSymlinks: true, canonicalize: false, exts: ["txt"], skip: [/chain/], maxDepth: 3 },
  ],
  [
    "includeDirs and includeSymlinks false, match",
    { includeDirs: false, includeSymlinks: false, match: [/k/] },
  ],
];

/** The mixed trees std can walk, by the options that need them (see the module's comment). */
const TREES: Record<"plain" | "noBroken" | "shallow", MixedTreeOptions> = {
  plain: {},
  noBroken: { broken: false },
  shallow: { broken: false, deep: false },
};

/** The tree for a walk with these options. */
function treeFor(options: WalkOptions): keyof typeof TREES {
  if (!options.followSymlinks) return "plain";
  return options.canonicalize === false ? "shallow" : "noBroken";
}

testBackends("walk() options, alone and combined, match @std/fs walk", async (backend, t) => {
  const trees = new Map<string, string>();
  try {
    for (const [name, options] of Object.entries(TREES)) trees.set(name, await mixedTree(options));
    for (const order of ORDERS) {
      for (const [name, options] of OPTION_CASES) {
        await t.step(`${order}: ${name}`, async () => {
          await withCwd(trees.get(treeFor(options))!, async () => {
            const { entries } = await expectStd(".", options, backend, order);
            if (!options.followSymlinks || options.canonicalize === false) {
              checkOrder(entries, order, name);
            }
          });
        });
      }
    }
    const root = trees.get("plain")!;
    for (const order of ORDERS) {
      await t.step(`${order}: explicit checks`, async () => {
        const opts = { order, queue: { backend } };
        const none = await ioqWalk(root, { ...opts, maxDepth: -1 });
        assertEquals(none.entries, [], "maxDepth -1 yields nothing");
        const zero = await ioqWalk(root, { ...opts, maxDepth: 0 });
        assertEquals(zero.entries.map((e) => e.path), [root], "maxDepth 0: the root alone");
        const noDirs = await ioqWalk(root, { ...opts, includeDirs: false });
        assert(noDirs.entries.every((e) => !e.isDirectory && e.depth > 0), "no directories");
        assert(noDirs.entries.some((e) => e.path === `${root}/a/b/c/deep.txt`));
        const noFiles = await ioqWalk(root, { ...opts, includeFiles: false });
        assert(noFiles.entries.every((e) => e.isDirectory || e.isSymlink), "no files");
        const noLinks = await ioqWalk(root, { ...opts, includeSymlinks: false });
        assert(noLinks.entries.every((e) => !e.isSymlink), "no symlinks");
        const skipped = await ioqWalk(root, { ...opts, skip: [/\/a$/] });
        assert(!skipped.entries.some((e) => e.path.startsWith(`${root}/a`)), "a skipped");
        assert(skipped.entries.some((e) => e.path === `${root}/h/j/k.txt`));
        const rootSkipped = await ioqWalk(root, { ...opts, skip: [/ioq-test-/] });
        assertEquals(rootSkipped.entries, [], "a skipped root yields nothing");
        const exts = await ioqWalk(root, { ...opts, exts: ["txt"] });
        const withDot = await ioqWalk(root, { ...opts, exts: [".txt"] });
        assertEquals(keys(exts.entries), keys(withDot.entries), "exts with or without a dot");
        assert(exts.entries.every((e) => e.path.endsWith(".txt")));
        assert(exts.entries.some((e) => e.path === `${root}/dir.txt` && e.isDirectory));
      });
    }
  } finally {
    for (const root of trees.values()) await Deno.remove(root, { recursive: true });
  }
});
