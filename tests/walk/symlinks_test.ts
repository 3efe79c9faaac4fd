/**
 * walk() and symlinks: loops (links to an ancestor, to themselves, to each
 * other), broken links, links to directories, followed or not, canonical
 * or as found; and a file system without d_type.
 *
 * Not following links, walk() is compared with `@std/fs` `walk`.
 * Following them, ioq departs from std where std has no answer (std throws
 * on a broken link and loops until the path is too long on a link to an
 * ancestor): the expected entries and errors are spelled out here, as
 * lib/walk.ts documents them.
 *
 * @module
 */

import { assert, assertEquals, assertRejects } from "@std/assert";
import type { WalkOptions } from "../../mod.ts";
import { inject, injected, testBackends } from "../helpers.ts";
import {
  checkOrder,
  code,
  describeOptions,
  expectRows,
  expectStd,
  find,
  flags,
  ioqWalk,
  keys,
  loopTree,
  mixedTree,
  ORDERS,
  ROOT_NAME as R,
  type Row,
  type Walked,
} from "./support.ts";

/** Each error of a walk as [class, code, path relative to `base`], sorted. */
function errorRows(got: Walked, base: string): [string, string | undefined, string][] {
  return got.reported
    .map(([e, path]): [string, string | undefined, string] => [
      e.name,
      code(e),
      path.slice(base.length + 1),
    ])
    .sort();
}

/** An ELOOP error at a path relative to the tree's root. */
const loop = (path: string): [string, string, string] => ["FilesystemLoop", "ELOOP", path];

/** The loop tree's root and first level, as every following walk yields them. */
const TOP: Row[] = [
  [0, "-d-", "", R],
  [1, "-d-", "a", "a"],
  [1, "-d-", "d", "d"],
  // x -> x, p <-> q: broken links, yielded as such
  [1, "--l", "x", "x"],
  [1, "--l", "p", "p"],
  [1, "--l", "q", "q"],
];

/** What following walks of loopTree() give: [case, options, entries, ELOOP paths]. */
const LOOP_CASES: [string, WalkOptions, Row[], string[]][] = [
  [
    "canonical",
    { followSymlinks: true },
    [
      ...TOP,
      [2, "f--", "a/f", "f"],
      [2, "f--", "d/g", "g"],
      // d/to-a, as a/ (its canonical path): a/up and a/self loop again inside
      [2, "-d-", "a", "a"],
      [3, "f--", "a/f", "f"],
    ],
    ["a/self", "a/self", "a/up", "a/up"],
  ],
  [
    "as found",
    { followSymlinks: true, canonicalize: false },
    [
      ...TOP,
      [2, "f--", "a/f", "f"],
      [2, "f--", "d/g", "g"],
      [2, "-d-", "d/to-a", "to-a"],
      [3, "f--", "d/to-a/f", "f"],
    ],
    ["a/self", "a/up", "d/to-a/self", "d/to-a/up"],
  ],
  // A loop the walk does not go into (at the last depth, or skipped) is no
  // error: @std/fs yields (or skips) the link like any directory, and so
  // does walk()
  ["canonical, maxDepth 1", { followSymlinks: true, maxDepth: 1 }, TOP, []],
  ["as found, maxDepth 1", { followSymlinks: true, canonicalize: false, maxDepth: 1 }, TOP, []],
  [
    "canonical, maxDepth 2",
    { followSymlinks: true, maxDepth: 2 },
    [
      ...TOP,
      [2, "f--", "a/f", "f"],
      [2, "f--", "d/g", "g"],
      [2, "-d-", "", R], // a/up
      [2, "-d-", "a", "a"], // a/self
      [2, "-d-", "a", "a"], // d/to-a
    ],
    [],
  ],
  [
    "as found, maxDepth 2",
    { followSymlinks: true, canonicalize: false, maxDepth: 2 },
    [
      ...TOP,
      [2, "f--", "a/f", "f"],
      [2, "f--", "d/g", "g"],
      [2, "-d-", "a/up", "up"],
      [2, "-d-", "a/self", "self"],
      [2, "-d-", "d/to-a", "to-a"],
    ],
    [],
  ],
  [
    // Links at depth 2 would go on into their target: loops again
    "canonical, maxDepth 3",
    { followSymlinks: true, maxDepth: 3 },
    [
      ...TOP,
      [2, "f--", "a/f", "f"],
      [2, "f--", "d/g", "g"],
      [2, "-d-", "a", "a"], // d/to-a
      [3, "f--", "a/f", "f"],
      [3, "-d-", "", R], // d/to-a/up
      [3, "-d-", "a", "a"], // d/to-a/self
    ],
    ["a/self", "a/up"],
  ],
  [
    "as found, maxDepth 3",
    { followSymlinks: true, canonicalize: false, maxDepth: 3 },
    [
      ...TOP,
      [2, "f--", "a/f", "f"],
      [2, "f--", "d/g", "g"],
      [2, "-d-", "d/to-a", "to-a"],
      [3, "f--", "d/to-a/f", "f"],
      [3, "-d-", "d/to-a/up", "up"],
      [3, "-d-", "d/to-a/self", "self"],
    ],
    ["a/self", "a/up"],
  ],
  [
    // (canonical paths of the loops are those of real directories: skipping
    // them by path skips those too)
    "as found, the loops skipped",
    { followSymlinks: true, canonicalize: false, skip: [/\/(up|self)$/] },
    [
      ...TOP,
      [2, "f--", "a/f", "f"],
      [2, "f--", "d/g", "g"],
      [2, "-d-", "d/to-a", "to-a"],
      [3, "f--", "d/to-a/f", "f"],
    ],
    [],
  ],
];

/**
 * Following from a/: a/up leads to the root's parent, which is no ancestor
 * of the walk's root: it is walked, a/ again inside it, and then the loops
 * close.  [case, options, entries, ELOOP paths], relative to the tree's root.
 */
const ABOVE_CASES: [string, WalkOptions, Row[], string[]][] = [
  [
    "canonical",
    { followSymlinks: true },
    [
      [0, "-d-", "a", "a"],
      [1, "f--", "a/f", "f"],
      [1, "-d-", "", R],
      [2, "-d-", "a", "a"],
      [2, "-d-", "d", "d"],
      [2, "--l", "x", "x"],
      [2, "--l", "p", "p"],
      [2, "--l", "q", "q"],
      [3, "f--", "a/f", "f"],
      [3, "f--", "d/g", "g"],
    ],
    ["a/self", "a/self", "a/up", "d/to-a"],
  ],
  [
    "as found",
    { followSymlinks: true, canonicalize: false },
    [
      [0, "-d-", "a", "a"],
      [1, "f--", "a/f", "f"],
      [1, "-d-", "a/up", "up"],
      [2, "-d-", "a/up/a", "a"],
      [2, "-d-", "a/up/d", "d"],
      [2, "--l", "a/up/x", "x"],
      [2, "--l", "a/up/p", "p"],
      [2, "--l", "a/up/q", "q"],
      [3, "f--", "a/up/a/f", "f"],
      [3, "f--", "a/up/d/g", "g"],
    ],
    ["a/self", "a/up/a/self", "a/up/a/up", "a/up/d/to-a"],
  ],
];

testBackends("walk() ends on symlink loops and reports them as ELOOP", async (backend, t) => {
  const root = await loopTree();
  try {
    for (const order of ORDERS) {
      await t.step(`${order}: not following`, async () => {
        const { entries } = await expectStd(root, {}, backend, order);
        for (const l of ["a/up", "a/self", "x", "p", "q", "d/to-a"]) {
          assert(find(entries, `${root}/${l}`).isSymlink, l);
        }
        assertEquals(entries.length, 11);
      });
      for (const [name, options, rows, loops] of LOOP_CASES) {
        await t.step(`${order}: following, ${name}`, async () => {
          const got = await ioqWalk(root, { ...options, order, queue: { backend } }, true);
          expectRows(got.entries, root, rows, name);
          assertEquals(errorRows(got, root), loops.map(loop).sort(), `${name}: errors`);
        });
      }
      await t.step(`${order}: following without onError throws FilesystemLoop`, async () => {
        const e = await assertRejects(
          () => ioqWalk(root, { followSymlinks: true, order, queue: { backend } }),
          Deno.errors.FilesystemLoop,
        );
        assertEquals(code(e), "ELOOP");
      });
      for (const [name, options, rows, loops] of ABOVE_CASES) {
        await t.step(`${order}: a link above the root, ${name}`, async () => {
          const got = await ioqWalk(`${root}/a`, { ...options, order, queue: { backend } }, true);
          expectRows(got.entries, root, rows, name);
          assertEquals(errorRows(got, root), loops.map(loop).sort(), `${name}: errors`);
        });
      }
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

testBackends(
  "walk() yields broken links as symlinks, and follows links to dirs",
  async (backend, t) => {
    const root = await mixedTree();
    try {
      for (const order of ORDERS) {
        await t.step(order, async () => {
          const opts = { order, queue: { backend } } as const;
          for (const followSymlinks of [false, true]) {
            const { entries } = await ioqWalk(root, { ...opts, followSymlinks });
            for (const l of ["l-broken", "l-notdir", "h/l-broken-dir"]) {
              const e = find(entries, `${root}/${l}`);
              assertEquals([e.isFile, e.isDirectory, e.isSymlink, e.name], [
                false,
                false,
                true,
                l.slice(l.lastIndexOf("/") + 1),
              ]);
            }
            const hidden = await ioqWalk(root, { ...opts, followSymlinks, includeSymlinks: false });
            assert(!hidden.entries.some((e) => e.path.endsWith("broken")));
          }

          // Not following: links are leaves
          const plain = await ioqWalk(root, opts);
          assert(find(plain.entries, `${root}/l-dir`).isSymlink);
          assert(!plain.entries.some((e) => e.path.startsWith(`${root}/l-dir/`)));

          // Following, canonical: the target's path, a directory named after it
          const canon = await ioqWalk(root, { ...opts, followSymlinks: true });
          for (const l of ["l-file", "l-file.txt", "l-dir", "l-chain", "h/l-abs"]) {
            assert(!canon.entries.some((e) => e.path.startsWith(`${root}/${l}`)), l);
          }
          const deep = canon.entries.filter((e) => e.path === `${root}/a/b/c/deep.txt`);
          assertEquals(deep.length, 4, "a/b/c reached directly, via l-dir, l-chain and h/l-abs");
          const linkedFile = canon.entries.filter((e) => e.path === `${root}/f.txt`);
          assertEquals(linkedFile.length, 2);
          assert(linkedFile.some((e) => e.name === "l-file" && e.isSymlink && !e.isFile));
          const viaDir = canon.entries.filter((e) => e.path === `${root}/a/b` && e.depth === 1);
          assertEquals(viaDir.map((e) => [e.name, e.isDirectory, e.isSymlink]), [
            ["b", true, false],
            ["b", true, false],
          ]);

          // Following as found: the link's path, a directory named after the
          // link, at every depth (std canonicalizes below the first level)
          const found = await ioqWalk(root, { ...opts, followSymlinks: true, canonicalize: false });
          const linkDir = find(found.entries, `${root}/l-dir`);
          assertEquals([linkDir.name, linkDir.isDirectory, linkDir.isSymlink], [
            "l-dir",
            true,
            false,
          ]);
          assert(found.entries.some((e) => e.path === `${root}/l-chain/c/deep.txt`));
          assert(found.entries.some((e) => e.path === `${root}/h/l-abs/deep.txt`));
          const rel = find(found.entries, `${root}/l-dir/l-rel`);
          assertEquals([rel.name, flags(rel), rel.depth], ["l-rel", "--l", 2]);
          const lf = find(found.entries, `${root}/l-file`);
          assertEquals([lf.name, lf.isFile, lf.isSymlink], ["l-file", false, true]);
        });
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

testBackends("walk() without d_type (every entry unknown) yields the same", async (backend, t) => {
  // Some file systems leave d_type DT_UNKNOWN: the walker must lstat each
  // entry, and give what it gives where the type is known
  const mixed = await mixedTree();
  const loops = await loopTree();
  try {
    for (const order of ORDERS) {
      for (
        const options of [
          {},
          { followSymlinks: true },
          { followSymlinks: true, canonicalize: false },
          { followSymlinks: true, includeSymlinks: false },
          { maxDepth: 1, exts: ["txt"] },
        ] as WalkOptions[]
      ) {
        await t.step(`${order} ${describeOptions(options)}`, async () => {
          const opts = { ...options, order, queue: { backend } };
          for (const root of [mixed, loops]) {
            const known = await ioqWalk(root, opts, true);
            let got: Walked;
            inject("dtUnknown", -1, -1);
            try {
              got = await ioqWalk(root, opts, true);
              assert(injected("dtUnknown") > 0, "every listed type read as DT_UNKNOWN");
            } finally {
              inject("dtUnknown", 0, 0);
            }
            assertEquals(keys(got.entries), keys(known.entries));
            assertEquals(got.errors.sort(), known.errors.sort());
            if (!options.followSymlinks) checkOrder(got.entries, order);
          }
        });
      }
    }
  } finally {
    await Deno.remove(mixed, { recursive: true });
    await Deno.remove(loops, { recursive: true });
  }
});
