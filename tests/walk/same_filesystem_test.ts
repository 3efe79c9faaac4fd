/**
 * walk({ sameFilesystem: true }), on a tmpfs mounted inside a temporary
 * tree (root only: elsewhere the test is ignored, with the reason): a
 * directory on another file system than the root's is yielded and not
 * entered, whether it is reached by name or through a followed link (with
 * `stat` or without, walk() and walkSync() alike); files there are yielded
 * as usual.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import { type WalkOptions, walkSync } from "../../mod.ts";
import { makeTree, testBackends } from "../helpers.ts";
import { runsSync } from "../child.ts";
import { expectRows, ioqWalk, key, ORDERS, ROOT_NAME as R, type Row } from "./support.ts";

/** Mounts a small tmpfs on `dir`. */
function mount(dir: string): boolean {
  return runsSync("mount", ["-t", "tmpfs", "-o", "size=4m,mode=0755", "ioq-test", dir]);
}

/** Unmounts what is mounted on `dir` (lazily, if it is busy). */
function unmount(dir: string): void {
  if (!runsSync("umount", [dir])) runsSync("umount", ["-l", dir]);
}

/** Why no tmpfs can be mounted here, if none can (tried once, on a scratch directory). */
function mountSkip(): string | undefined {
  if (Deno.uid() !== 0) return "not root: no tmpfs can be mounted";
  const probe = Deno.makeTempDirSync({ prefix: "ioq-mount-probe-" });
  try {
    if (!mount(probe)) return "mount -t tmpfs failed here";
    unmount(probe);
    return undefined;
  } finally {
    Deno.removeSync(probe);
  }
}

const skip = mountSkip();

/**
 * root/a/f, and root/mnt: a tmpfs holding x/y, z and back -> ../a; links
 * on the root's file system to-a -> a, to-mnt -> mnt, to-x -> mnt/x and
 * to-z -> mnt/z.
 */
async function mountedTree(): Promise<{ root: string; dispose(): Promise<void> }> {
  const root = await makeTree(["a/", "a/f", "mnt/"]);
  if (!mount(`${root}/mnt`)) throw new Error(`mounting a tmpfs on ${root}/mnt failed`);
  Deno.mkdirSync(`${root}/mnt/x`);
  Deno.writeTextFileSync(`${root}/mnt/x/y`, "");
  Deno.writeTextFileSync(`${root}/mnt/z`, "");
  Deno.symlinkSync("../a", `${root}/mnt/back`);
  for (const [link, target] of [["to-a", "a"], ["to-mnt", "mnt"], ["to-x", "mnt/x"]]) {
    Deno.symlinkSync(target, `${root}/${link}`);
  }
  Deno.symlinkSync("mnt/z", `${root}/to-z`);
  assertEquals(
    Deno.statSync(`${root}/mnt`).dev !== Deno.statSync(root).dev,
    true,
    "the tmpfs is another device",
  );
  return {
    root,
    async dispose() {
      unmount(`${root}/mnt`);
      await Deno.remove(root, { recursive: true });
    },
  };
}

/** The entries every walk of the tree gives that does not follow links. */
const LINKS: Row[] = [
  [1, "--l", "to-a", "to-a"],
  [1, "--l", "to-mnt", "to-mnt"],
  [1, "--l", "to-x", "to-x"],
  [1, "--l", "to-z", "to-z"],
];
const OWN: Row[] = [[0, "-d-", "", R], [1, "-d-", "a", "a"], [2, "f--", "a/f", "f"]];
const MOUNTED: Row[] = [
  [2, "-d-", "mnt/x", "x"],
  [3, "f--", "mnt/x/y", "y"],
  [2, "f--", "mnt/z", "z"],
  [2, "--l", "mnt/back", "back"],
];

/** [case, options, root below the tree's ("" for it), rows with sameFilesystem, rows without]. */
const CASES: [string, WalkOptions, string, Row[], Row[]][] = [
  [
    "not following",
    {},
    "",
    [...OWN, [1, "-d-", "mnt", "mnt"], ...LINKS],
    [...OWN, [1, "-d-", "mnt", "mnt"], ...MOUNTED, ...LINKS],
  ],
  [
    "stat",
    { stat: true },
    "",
    [...OWN, [1, "-d-", "mnt", "mnt"], ...LINKS],
    [...OWN, [1, "-d-", "mnt", "mnt"], ...MOUNTED, ...LINKS],
  ],
  [
    // Followed links are canonical: to-mnt and to-x are yielded at their
    // targets, not entered
    "following",
    { followSymlinks: true },
    "",
    [
      ...OWN,
      [1, "-d-", "mnt", "mnt"],
      [1, "-d-", "a", "a"], // to-a
      [2, "f--", "a/f", "f"],
      [1, "-d-", "mnt", "mnt"], // to-mnt
      [1, "-d-", "mnt/x", "x"], // to-x
      [1, "--l", "mnt/z", "to-z"],
    ],
    [
      ...OWN,
      [1, "-d-", "mnt", "mnt"],
      [2, "-d-", "mnt/x", "x"],
      [3, "f--", "mnt/x/y", "y"],
      [2, "f--", "mnt/z", "z"],
      [2, "-d-", "a", "a"], // mnt/back
      [3, "f--", "a/f", "f"],
      [1, "-d-", "a", "a"], // to-a
      [2, "f--", "a/f", "f"],
      [1, "-d-", "mnt", "mnt"], // to-mnt
      [2, "-d-", "mnt/x", "x"],
      [3, "f--", "mnt/x/y", "y"],
      [2, "f--", "mnt/z", "z"],
      [2, "-d-", "a", "a"], // to-mnt/back
      [3, "f--", "a/f", "f"],
      [1, "-d-", "mnt/x", "x"], // to-x
      [2, "f--", "mnt/x/y", "y"],
      [1, "--l", "mnt/z", "to-z"],
    ],
  ],
  [
    "following as found",
    { followSymlinks: true, canonicalize: false },
    "",
    [
      ...OWN,
      [1, "-d-", "mnt", "mnt"],
      [1, "-d-", "to-a", "to-a"],
      [2, "f--", "to-a/f", "f"],
      [1, "-d-", "to-mnt", "to-mnt"],
      [1, "-d-", "to-x", "to-x"],
      [1, "--l", "to-z", "to-z"],
    ],
    [
      ...OWN,
      [1, "-d-", "mnt", "mnt"],
      [2, "-d-", "mnt/x", "x"],
      [3, "f--", "mnt/x/y", "y"],
      [2, "f--", "mnt/z", "z"],
      [2, "-d-", "mnt/back", "back"],
      [3, "f--", "mnt/back/f", "f"],
      [1, "-d-", "to-a", "to-a"],
      [2, "f--", "to-a/f", "f"],
      [1, "-d-", "to-mnt", "to-mnt"],
      [2, "-d-", "to-mnt/x", "x"],
      [3, "f--", "to-mnt/x/y", "y"],
      [2, "f--", "to-mnt/z", "z"],
      [2, "-d-", "to-mnt/back", "back"],
      [3, "f--", "to-mnt/back/f", "f"],
      [1, "-d-", "to-x", "to-x"],
      [2, "f--", "to-x/y", "y"],
      [1, "--l", "to-z", "to-z"],
    ],
  ],
  [
    // From the tmpfs, the root's own file system is the other one
    "from the mount, following",
    { followSymlinks: true },
    "mnt",
    [
      [0, "-d-", "mnt", "mnt"],
      [1, "-d-", "mnt/x", "x"],
      [2, "f--", "mnt/x/y", "y"],
      [1, "f--", "mnt/z", "z"],
      [1, "-d-", "a", "a"], // back
    ],
    [
      [0, "-d-", "mnt", "mnt"],
      [1, "-d-", "mnt/x", "x"],
      [2, "f--", "mnt/x/y", "y"],
      [1, "f--", "mnt/z", "z"],
      [1, "-d-", "a", "a"], // back
      [2, "f--", "a/f", "f"],
    ],
  ],
];

// With stat: the same entries (the device checked is the one the stat saw)
const following = CASES.find(([name]) => name === "following")!;
CASES.push([
  "following, stat",
  { followSymlinks: true, stat: true },
  "",
  following[3],
  following[4],
]);

testBackends(
  "walk({ sameFilesystem: true }) yields directories on other file systems without entering them",
  async (backend, t) => {
    const tree = await mountedTree();
    const { root } = tree;
    try {
      for (const order of ORDERS) {
        for (const [name, options, below, same, all] of CASES) {
          await t.step(`${order}: ${name}`, async () => {
            const from = below ? `${root}/${below}` : root;
            const opts = { ...options, order, queue: { backend } };
            const got = await ioqWalk(from, { ...opts, sameFilesystem: true }, true);
            assertEquals(got.errors, []);
            expectRows(got.entries, root, same, `${name}, sameFilesystem`);
            const sync = [...walkSync(from, { ...opts, sameFilesystem: true })];
            assertEquals(
              sync.map(key),
              got.entries.map(key),
              `${name}, sameFilesystem: walkSync()`,
            );
            if (options.stat) assert(got.entries.every((e) => e.stat), `${name}: stats`);
            const without = await ioqWalk(from, opts, true);
            assertEquals(without.errors, []);
            expectRows(without.entries, root, all, name);
          });
        }
      }
    } finally {
      await tree.dispose();
    }
  },
  () => skip,
);
