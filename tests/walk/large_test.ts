/**
 * walk() on big trees: one directory of 100,000 entries (each yielded
 * once), a chain 300 levels deep (paths far past PATH_MAX), roots past
 * PATH_MAX (walk() and walkSync()), links followed and canonicalized past
 * PATH_MAX (with /proc and without), and deep chains walked with few
 * descriptors.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import { IoQueue, walk, type WalkOptions, walkSync } from "../../mod.ts";
import { fastTempDir, makeTree, openFds, testBackends } from "../helpers.ts";
import { touchAll } from "../libc.ts";
import { denoRun, fixture, runJson, runsSync } from "../child.ts";
import {
  checkOrder,
  deepLinkTree,
  deepName,
  expectRows,
  ioqWalk,
  key,
  makeChain,
  ORDERS,
  rawLinkTreeWithWayOut,
  rmrf,
  ROOT_NAME as R,
  type Row,
  withCwd,
} from "./support.ts";

testBackends("walk() yields each of 100,000 entries of one directory once", async (backend, t) => {
  const root = fastTempDir();
  const N = 100_000;
  try {
    touchAll(root, Array.from({ length: N }, (_, i) => `entry-${i}`));
    for (const order of ORDERS) {
      await t.step(order, async () => {
        const seen = new Uint8Array(N);
        let count = 0;
        for await (const e of walk(root, { order, queue: { backend } })) {
          count++;
          if (e.depth === 0) continue;
          assert(e.isFile && e.depth === 1);
          const i = Number(e.name.slice(6));
          assertEquals(e.path, `${root}/entry-${i}`);
          assertEquals(seen[i], 0, `${e.name} yielded twice`);
          seen[i] = 1;
        }
        assertEquals(count, N + 1);
        assert(seen.every((s) => s === 1));
      });
    }
  } finally {
    await rmrf(root);
  }
});

testBackends("walk() goes 300 levels deep, far past PATH_MAX", async (backend, t) => {
  const root = await makeTree([]);
  const LEVELS = 300;
  try {
    makeChain(root, LEVELS, deepName);
    const expected = [root];
    let path = root;
    for (let i = 0; i < LEVELS; i++) expected.push(path = `${path}/${deepName(i)}`);
    expected.push(`${path}/leaf`);
    assert(path.length > 10 * 4096);
    for (const order of ORDERS) {
      await t.step(order, async () => {
        const { entries } = await ioqWalk(root, { order, queue: { backend } });
        assertEquals(entries.map((e) => e.path), expected);
        entries.forEach((e, depth) => assertEquals(e.depth, depth));
        assert(entries[LEVELS].isDirectory && entries[LEVELS].depth === 300);
        assert(entries[LEVELS + 1].isFile && entries[LEVELS + 1].depth === 301);
        const some = await ioqWalk(root, { order, queue: { backend }, maxDepth: 150 });
        assertEquals(some.entries.map((e) => e.path), expected.slice(0, 151));
        const stats = await ioqWalk(root, { order, queue: { backend }, stat: true });
        assert(stats.entries.every((e) => e.stat), "stat works past PATH_MAX");
      });
    }
  } finally {
    await rmrf(root);
  }
});

testBackends("walk() follows links past PATH_MAX as found", async (backend, t) => {
  const { root, bottom } = deepLinkTree();
  try {
    for (const order of ORDERS) {
      await t.step(order, async () => {
        const got = await ioqWalk(
          root,
          { followSymlinks: true, canonicalize: false, order, queue: { backend } },
          true,
        );
        assertEquals(got.errors, []);
        const below = got.entries.filter((e) => e.depth > 30).map(key).sort();
        const entry = (depth: number, flags: string, path: string, name: string) =>
          `${depth} ${flags} ${JSON.stringify(`${bottom}/${path}`)} ${JSON.stringify(name)}`;
        assertEquals(
          below,
          [
            entry(31, "f--", "leaf", "leaf"),
            entry(31, "-d-", "target", "target"),
            entry(32, "f--", "target/t", "t"),
            entry(31, "-d-", "dlink", "dlink"),
            entry(32, "f--", "dlink/t", "t"),
            entry(31, "--l", "flink", "flink"),
          ].sort(),
        );
      });
    }
  } finally {
    await rmrf(root);
  }
});

/** The entries below deepLinkTree()'s bottom, as rows relative to it ([] without links followed). */
function bottomRows(follow: boolean): Row[] {
  return [
    [0, "-d-", "", R],
    [1, "f--", "leaf", "leaf"],
    [1, "-d-", "target", "target"],
    [2, "f--", "target/t", "t"],
    ...(follow
      ? [[1, "-d-", "target", "target"], [2, "f--", "target/t", "t"], [1, "--l", "leaf", "flink"]]
      : [[1, "--l", "dlink", "dlink"], [1, "--l", "flink", "flink"]]) as Row[],
  ];
}

testBackends("walk() and walkSync() take a root longer than PATH_MAX", async (backend, t) => {
  const { root, bottom } = deepLinkTree();
  const relative = bottom.slice(root.length + 1);
  assert(bottom.length > 6000 && relative.length > 4096);
  /** [label, the root given, the base rows are relative to, options, rows]. */
  const cases: [string, string | URL, string, WalkOptions, Row[]][] = [
    ["absolute", bottom, bottom, {}, bottomRows(false)],
    ["trailing slash", `${bottom}/`, bottom, {}, bottomRows(false)],
    ["dots", `${bottom}/target/../.`, bottom, {}, bottomRows(false)],
    ["a file: URL", new URL(`file://${bottom}`), bottom, {}, bottomRows(false)],
    ["relative", relative, relative, {}, bottomRows(false)],
    ["stat", bottom, bottom, { stat: true }, bottomRows(false)],
    ["sameFilesystem", bottom, bottom, { sameFilesystem: true }, bottomRows(false)],
    ["followSymlinks", bottom, bottom, { followSymlinks: true }, bottomRows(true)],
    ["maxDepth 1", bottom, bottom, { maxDepth: 1 }, bottomRows(false).filter((r) => r[0] <= 1)],
    ["a link to a directory", `${bottom}/dlink`, bottom, {}, [
      [0, "-d-", "dlink", "dlink"],
      [1, "f--", "dlink/t", "t"],
    ]],
  ];
  try {
    await withCwd(root, async () => {
      for (const order of ORDERS) {
        for (const [label, from, base, options, rows] of cases) {
          await t.step(`${order}: ${label}`, async () => {
            const opts = { ...options, order, queue: { backend } };
            const got = await ioqWalk(from, opts, true);
            assertEquals(got.errors, [], label);
            expectRows(got.entries, base, rows, label);
            if (options.stat) assert(got.entries.every((e) => e.stat), "every entry has a stat");
            const sync = [...walkSync(from, opts)];
            assertEquals(sync.map(key), got.entries.map(key), `${label}: walkSync()`);
          });
        }
      }
    });
  } finally {
    await rmrf(root);
  }
});

// The canonical paths here are longer than the kernel can name through
// /proc/self/fd: Dir.realPath climbs through ".." to find them
testBackends("walk() canonicalizes links past PATH_MAX", async (backend) => {
  const { root, bottom } = deepLinkTree();
  try {
    for (const order of ORDERS) {
      const got = await ioqWalk(root, { followSymlinks: true, order, queue: { backend } }, true);
      assertEquals(got.errors, [], "every link resolved");
      const paths = got.entries.filter((e) => e.depth > 30).map((e) => e.path).sort();
      assertEquals(paths, [
        `${bottom}/leaf`,
        `${bottom}/leaf`,
        `${bottom}/target`,
        `${bottom}/target`,
        `${bottom}/target/t`,
        `${bottom}/target/t`,
      ]);
    }
  } finally {
    await rmrf(root);
  }
});

/** Runs a command with /proc unmounted (in a mount namespace of its own). */
const WITHOUT_PROC = [
  "unshare",
  "--mount",
  "--propagation",
  "private",
  "sh",
  "-c",
  'umount -l /proc && exec "$@"',
  "sh",
];
const noProcWhy = runsSync(WITHOUT_PROC[0], [...WITHOUT_PROC.slice(1), "true"])
  ? undefined
  : "cannot unmount /proc in a mount namespace here (needs unshare and root)";

// Without /proc/self/fd to name files, canonical paths are found by climbing
// through ".." from the file: the walk must not change
testBackends(
  "walk() canonicalizes the same without /proc",
  async (backend) => {
    const raw = await rawLinkTreeWithWayOut();
    const deep = deepLinkTree();
    try {
      for (const root of [raw.root, deep.root]) {
        type Out = { procMounted: boolean; entries: string[]; errors: string[] };
        const cmd = denoRun(fixture("canon_child.ts"), [root, backend]);
        const withProc = await runJson<Out>(cmd);
        const withoutProc = await runJson<Out>([...WITHOUT_PROC, ...cmd]);
        assertEquals([withProc.procMounted, withoutProc.procMounted], [true, false]);
        assertEquals(withProc.errors, []);
        assert(withProc.entries.length >= 20, `${withProc.entries.length} entries`);
        assertEquals(withoutProc, { ...withProc, procMounted: false });
      }
    } finally {
      await Deno.remove(raw.root, { recursive: true });
      await rmrf(deep.root);
    }
  },
  () => noProcWhy,
);

testBackends(
  "walk() with few descriptors reopens ancestors to reach deep directories",
  async (backend, t) => {
    // 12 chains of 30 levels of 200-byte names: evicted anchors must be
    // reopened in steps (no relative path below PATH_MAX reaches them)
    const root = fastTempDir();
    const CHAINS = 12;
    const LEVELS = 30;
    try {
      const expected: string[] = [root];
      for (let c = 0; c < CHAINS; c++) {
        const top = `chain-${c}`;
        Deno.mkdirSync(`${root}/${top}`);
        makeChain(`${root}/${top}`, LEVELS, deepName);
        let path = `${root}/${top}`;
        expected.push(path);
        for (let i = 0; i < LEVELS; i++) expected.push(path = `${path}/${deepName(i)}`);
        expected.push(`${path}/leaf`);
      }
      for (const order of ORDERS) {
        for (const depth of [4, 8, 16]) {
          await t.step(`${order}, queue depth ${depth}`, async () => {
            await using q = new IoQueue({ backend, depth });
            const before = openFds();
            const { entries } = await ioqWalk(root, { order, queue: q });
            assertEquals(entries.map((e) => e.path).sort(), expected.sort());
            checkOrder(entries, order);
            assertEquals(q.capacity, q.depth);
            assertEquals(openFds(), before, "every directory closed");
          });
        }
      }
    } finally {
      await rmrf(root);
    }
  },
);
