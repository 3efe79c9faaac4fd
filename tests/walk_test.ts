/**
 * walk(): the same entries as `@std/fs` `walk` (a reference walker in
 * reference_walk.ts) on generated trees, for every option, root form and kind
 * of symlink; odd and non-UTF-8 names; a huge directory and a tree deeper than
 * PATH_MAX; errors (vanished directories, EACCES, loops); early exits; the
 * `stat` and `sameFilesystem` extras; and an event loop that stays free.
 *
 * Every walk runs on both backends (`testBackends`, which also checks that no
 * descriptor leaks) and in both orders.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DirBatch, IoQueue, walk, type WalkEntry, type WalkOptions } from "../mod.ts";
import { BACKENDS, makeTree, openFds, testBackends } from "./helpers.ts";
import { bytes, createRaw, mkdirRaw, mkSocket, touchAll } from "./libc.ts";
import { type ReferenceEntry, referenceWalk } from "./reference_walk.ts";
import { denoRun, fixture, runJson, runsSync } from "./child.ts";

type Backend = "io_uring" | "threads";
type Order = "bfs" | "dfs";
const ORDERS: Order[] = ["bfs", "dfs"];

// ---------------------------------------------------------------------------
// Helpers

/** An entry as compared: depth, type flags, path and name. */
function key(e: ReferenceEntry | WalkEntry): string {
  const flags = `${e.isFile ? "f" : "-"}${e.isDirectory ? "d" : "-"}${e.isSymlink ? "l" : "-"}`;
  return `${e.depth} ${flags} ${JSON.stringify(e.path)} ${JSON.stringify(e.name)}`;
}

/** The sorted keys of some entries (a multiset: duplicates stay). */
function keys(entries: (ReferenceEntry | WalkEntry)[]): string[] {
  return entries.map(key).sort();
}

/** An error as compared: its class and the path it was reported for. */
function errorKey(error: Error, path: string): string {
  return `${error.name} ${JSON.stringify(path)}`;
}

/** The errno name of an error, if it has one. */
function code(error: unknown): string | undefined {
  return (error as { code?: string }).code;
}

/** What one walk() produced. */
interface Walked {
  entries: WalkEntry[];
  /** Errors reported to onError, as errorKey()s, in order. */
  errors: string[];
  /** The same errors, with their paths. */
  reported: [Error, string][];
}

/** More entries than any small test tree has: a walk past it is endless. */
const ENDLESS = 10_000;

/**
 * Runs walk() to the end.  With `collect`, errors go to an onError that
 * records them; without, they throw.
 */
async function ioqWalk(
  root: string | URL,
  options: WalkOptions,
  collect = false,
  limit = ENDLESS,
): Promise<Walked> {
  const out: Walked = { entries: [], errors: [], reported: [] };
  const onError = collect
    ? (error: Error, path: string) => {
      out.errors.push(errorKey(error, path));
      out.reported.push([error, path]);
    }
    : options.onError;
  for await (const entry of walk(root, { ...options, onError })) {
    out.entries.push(entry);
    if (out.entries.length > limit) throw new Error(`endless walk: over ${limit} entries`);
  }
  return out;
}

/** Options for a reference walk that mirror walk() options. */
function referenceOptions(options: WalkOptions) {
  const { order: _order, queue: _queue, signal: _signal, stat: _stat, ...rest } = options;
  return rest;
}

/**
 * Walks `root` with walk() and with the reference, and checks they give the
 * same entries (and, with `collect`, the same errors).
 */
async function expectSame(
  root: string | URL,
  options: WalkOptions,
  backend: Backend,
  order: Order,
  collect = false,
): Promise<Walked> {
  const got = await ioqWalk(root, { ...options, order, queue: { backend } }, collect);
  const refErrors: string[] = [];
  const want = await referenceWalk(root, {
    ...referenceOptions(options),
    onError: collect ? (error, path) => refErrors.push(errorKey(error, path)) : undefined,
  });
  const label = `walk(${JSON.stringify(String(root))}, ${describe(options)}) ${order}`;
  assert.deepEqual(keys(got.entries), keys(want), label);
  assert.deepEqual([...got.errors].sort(), refErrors.sort(), `${label}: errors`);
  return got;
}

/** Options as text, for messages (RegExps included). */
function describe(options: WalkOptions): string {
  return JSON.stringify(options, (_k, v) => v instanceof RegExp ? String(v) : v);
}

/** The parent of a path as walk() builds paths ("" for a child of "."). */
function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash <= 0 ? (slash === 0 ? "/" : "") : path.slice(0, slash);
}

/**
 * Checks the order of a walk without followed links: the root first, every
 * entry after its directory, and (dfs) each directory's subtree contiguous.
 */
function checkOrder(entries: WalkEntry[], order: Order, label = ""): void {
  if (entries.length === 0) return;
  const index = new Map<string, number>();
  entries.forEach((e, i) => index.set(e.path.replace(/\/$/, ""), i));
  if (entries.some((e) => e.depth === 0)) assert.equal(entries[0].depth, 0, `${label}: root first`);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (e.depth < 2) continue;
    const parent = index.get(parentOf(e.path));
    if (parent !== undefined) assert.ok(parent < i, `${label}: ${e.path} after its directory`);
  }
  if (order !== "dfs") return;
  for (const d of entries) {
    if (!d.isDirectory || d.depth === 0) continue;
    const prefix = `${d.path}/`;
    const inside: number[] = [];
    entries.forEach((e, i) => {
      if (e.path.startsWith(prefix)) inside.push(i);
    });
    if (inside.length === 0) continue;
    assert.equal(
      inside[inside.length - 1] - inside[0] + 1,
      inside.length,
      `${label}: dfs walks ${d.path}'s subtree in one piece`,
    );
  }
}

/** Runs `fn` with the current directory set to `dir`, restoring it after. */
async function withCwd<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const cwd = Deno.cwd();
  Deno.chdir(dir);
  try {
    return await fn();
  } finally {
    Deno.chdir(cwd);
  }
}

/** Removes a tree with `rm -rf` (deep trees defeat Deno.remove). */
async function rmrf(path: string): Promise<void> {
  const out = await new Deno.Command("rm", { args: ["-rf", path] }).output();
  if (!out.success) throw new Error(`rm -rf ${path}: ${new TextDecoder().decode(out.stderr)}`);
}

/** Makes a FIFO. */
async function mkfifo(path: string): Promise<void> {
  const out = await new Deno.Command("mkfifo", { args: [path] }).output();
  if (!out.success) throw new Error(`mkfifo ${path} failed`);
}

/** A directory on a fast file system (tmpfs when there is one) for big trees. */
function fastTempDir(): string {
  try {
    if (Deno.statSync("/dev/shm").isDirectory) {
      return Deno.makeTempDirSync({ dir: "/dev/shm", prefix: "ioq-test-" });
    }
  } catch {
    // no /dev/shm: the default temp dir
  }
  return Deno.makeTempDirSync({ prefix: "ioq-test-" });
}

/**
 * A tree with a bit of everything: nested and empty directories, files with
 * and without extensions, symlinks to files and directories (relative,
 * absolute, chained), broken links, a FIFO and a socket.
 */
async function mixedTree(): Promise<string> {
  const root = await makeTree([
    "a/b/c/",
    "a/b/c/deep.txt",
    "a/b/file.md",
    "a/empty/",
    "a/x.txt",
    "a/y.ts",
    "e/",
    "f.txt",
    "g.ts",
    "h/j/",
    "h/i.txt",
    "h/j/k.txt",
    "space dir/",
    "space dir/k l.txt",
    "txt/",
    "txt/inner.md",
    "dir.txt/",
    "dir.txt/z.txt",
    "bb.txt",
    ".hidden",
    "noext",
  ]);
  const link = (target: string, path: string) => Deno.symlinkSync(target, `${root}/${path}`);
  link("f.txt", "l-file");
  link("g.ts", "l-file.txt");
  link("a/b", "l-dir");
  link("l-dir", "l-chain");
  link("nowhere", "l-broken");
  link("f.txt/below", "l-notdir");
  link("../x.txt", "a/b/l-rel");
  link(`${root}/a/b/c`, "h/l-abs");
  link("missing/deeper", "h/l-broken-dir");
  await mkfifo(`${root}/pipe`);
  await mkfifo(`${root}/a/pipe2`);
  mkSocket(`${root}/sock`);
  return root;
}

/** The entry with a path, or a failed assertion. */
function find(entries: WalkEntry[], path: string): WalkEntry {
  const entry = entries.find((e) => e.path === path);
  assert.ok(entry, `${path} was yielded`);
  return entry;
}

/** A seeded PRNG (mulberry32), for reproducible random early exits. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------
// 1. The reference on a mixed tree

testBackends("walk() yields what @std/fs walk yields on a mixed tree", async (backend, t) => {
  const root = await mixedTree();
  try {
    for (const order of ORDERS) {
      await t.step(order, async () => {
        const { entries } = await expectSame(root, {}, backend, order);
        checkOrder(entries, order, order);
        const rootEntry = entries[0];
        assert.deepEqual(
          { path: rootEntry.path, name: rootEntry.name, depth: rootEntry.depth },
          { path: root, name: root.slice(root.lastIndexOf("/") + 1), depth: 0 },
        );
        for (const special of ["pipe", "sock", "a/pipe2"]) {
          const e = find(entries, `${root}/${special}`);
          assert.ok(!e.isFile && !e.isDirectory && !e.isSymlink, `${special} is none of the three`);
        }
        for (const l of ["l-file", "l-dir", "l-broken", "l-notdir", "h/l-abs"]) {
          const e = find(entries, `${root}/${l}`);
          assert.ok(e.isSymlink && !e.isFile && !e.isDirectory, `${l} is a symlink`);
        }
        assert.ok(!entries.some((e) => e.path.startsWith(`${root}/l-dir/`)), "links not followed");
        assert.equal(new Set(entries.map((e) => e.path)).size, entries.length, "no duplicates");
      });
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// ---------------------------------------------------------------------------
// 2. Every option, alone and combined

/** Option sets compared with the reference (walking "." inside the mixed tree). */
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

testBackends("walk() options, alone and combined, match @std/fs walk", async (backend, t) => {
  const root = await mixedTree();
  try {
    await withCwd(root, async () => {
      for (const order of ORDERS) {
        for (const [name, options] of OPTION_CASES) {
          await t.step(`${order}: ${name}`, async () => {
            const { entries } = await expectSame(".", options, backend, order);
            if (!options.followSymlinks || options.canonicalize === false) {
              checkOrder(entries, order, name);
            }
          });
        }
      }
    });
    for (const order of ORDERS) {
      await t.step(`${order}: explicit checks`, async () => {
        const opts = { order, queue: { backend } };
        const none = await ioqWalk(root, { ...opts, maxDepth: -1 });
        assert.deepEqual(none.entries, [], "maxDepth -1 yields nothing");
        const zero = await ioqWalk(root, { ...opts, maxDepth: 0 });
        assert.deepEqual(zero.entries.map((e) => e.path), [root], "maxDepth 0: the root alone");
        const noDirs = await ioqWalk(root, { ...opts, includeDirs: false });
        assert.ok(noDirs.entries.every((e) => !e.isDirectory && e.depth > 0), "no directories");
        assert.ok(noDirs.entries.some((e) => e.path === `${root}/a/b/c/deep.txt`));
        const noFiles = await ioqWalk(root, { ...opts, includeFiles: false });
        assert.ok(noFiles.entries.every((e) => e.isDirectory || e.isSymlink), "no files");
        const noLinks = await ioqWalk(root, { ...opts, includeSymlinks: false });
        assert.ok(noLinks.entries.every((e) => !e.isSymlink), "no symlinks");
        const skipped = await ioqWalk(root, { ...opts, skip: [/\/a$/] });
        assert.ok(!skipped.entries.some((e) => e.path.startsWith(`${root}/a`)), "a skipped");
        assert.ok(skipped.entries.some((e) => e.path === `${root}/h/j/k.txt`));
        const rootSkipped = await ioqWalk(root, { ...opts, skip: [/ioq-test-/] });
        assert.deepEqual(rootSkipped.entries, [], "a skipped root yields nothing");
        const exts = await ioqWalk(root, { ...opts, exts: ["txt"] });
        const withDot = await ioqWalk(root, { ...opts, exts: [".txt"] });
        assert.deepEqual(keys(exts.entries), keys(withDot.entries), "exts with or without a dot");
        assert.ok(exts.entries.every((e) => e.path.endsWith(".txt")));
        assert.ok(exts.entries.some((e) => e.path === `${root}/dir.txt` && e.isDirectory));
      });
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// ---------------------------------------------------------------------------
// 3. Roots

testBackends(
  "walk() roots: '.', trailing slash, URL, relative, a link, a file",
  async (backend, t) => {
    const root = await mixedTree();
    try {
      for (const order of ORDERS) {
        await t.step(`${order}: '.' and relative roots`, async () => {
          await withCwd(root, async () => {
            for (const r of [".", "./", "a", "a/", "./a", "a/../a", "a//b/../b/", "h/./j"]) {
              const { entries } = await expectSame(r, {}, backend, order);
              checkOrder(entries, order, r);
            }
            const dot = await ioqWalk(".", { order, queue: { backend } });
            assert.deepEqual([dot.entries[0].path, dot.entries[0].name], [".", "."]);
            assert.ok(dot.entries.some((e) => e.path === "a/b/c/deep.txt"), "join('.', x) is x");
            // @std/fs filters the root as given, not normalized
            await expectSame("a/../a", { skip: [/\.\./] }, backend, order);
            await expectSame("a/../a", { match: [/\.\./] }, backend, order);
          });
          await withCwd(`${root}/h`, async () => {
            await expectSame("../a", {}, backend, order);
            await expectSame("..", { maxDepth: 2 }, backend, order);
          });
        });
        await t.step(`${order}: trailing slash, doubled slashes, dots`, async () => {
          for (const r of [`${root}/`, `${root}//a//`, `${root}/a/./b/..`, `${root}/h/j/../`]) {
            await expectSame(r, {}, backend, order);
          }
          const { entries } = await ioqWalk(`${root}/`, { order, queue: { backend } });
          assert.equal(entries[0].path, `${root}/`);
          assert.equal(entries[0].name, root.slice(root.lastIndexOf("/") + 1));
          assert.ok(entries.some((e) => e.path === `${root}/a/x.txt`));
        });
        await t.step(`${order}: file: URLs`, async () => {
          for (const url of [`file://${root}`, `file://${root}/space dir`, `file://${root}/a/`]) {
            const { entries } = await expectSame(new URL(url), {}, backend, order);
            assert.ok(!entries[0].path.includes("%"), "percent escapes decoded");
          }
        });
        await t.step(`${order}: a root that is a symlink to a directory`, async () => {
          for (const follow of [false, true]) {
            const { entries } = await expectSame(
              `${root}/l-dir`,
              { followSymlinks: follow },
              backend,
              order,
            );
            const first = entries[0];
            assert.deepEqual(
              [first.path, first.name, first.isDirectory, first.isSymlink],
              [`${root}/l-dir`, "l-dir", true, false],
            );
            assert.ok(entries.some((e) => e.path === `${root}/l-dir/c/deep.txt`), "not resolved");
          }
          await expectSame(`${root}/l-chain/`, {}, backend, order);
        });
        await t.step(`${order}: a file as the root`, async () => {
          const got = await expectSame(`${root}/f.txt`, {}, backend, order, true);
          assert.equal(got.entries.length, 1);
          assert.ok(got.entries[0].isFile);
          assert.deepEqual(got.errors, [
            errorKey(new Deno.errors.NotADirectory(""), `${root}/f.txt`),
          ]);
          await assert.rejects(
            ioqWalk(`${root}/f.txt`, { order, queue: { backend } }),
            Deno.errors.NotADirectory,
          );
        });
        await t.step(`${order}: '/' to depth 1`, async () => {
          await expectSame("/", { maxDepth: 1 }, backend, order, true);
          const { entries } = await ioqWalk("/", { maxDepth: 1, order, queue: { backend } });
          assert.deepEqual([entries[0].path, entries[0].name], ["/", "/"]);
          assert.ok(entries.some((e) => e.path === "/usr" && e.depth === 1));
        });
        await t.step(`${order}: a missing root`, async () => {
          const missing = `${root}/missing`;
          for (const options of [{}, { includeDirs: false }, { maxDepth: 0 }]) {
            await assert.rejects(
              ioqWalk(missing, { ...options, order, queue: { backend } }),
              (e: Error) => {
                assert.ok(e instanceof Deno.errors.NotFound, String(e));
                assert.equal(code(e), "ENOENT");
                return true;
              },
            );
            const got = await ioqWalk(missing, { ...options, order, queue: { backend } }, true);
            assert.deepEqual(got.entries, []);
            assert.deepEqual(got.errors, [`NotFound ${JSON.stringify(missing)}`], "reported once");
          }
          await withCwd(root, async () => {
            const got = await ioqWalk("nope/../nope/", { order, queue: { backend } }, true);
            assert.deepEqual(got.errors, [`NotFound "nope/"`], "reported at the normalized path");
          });
        });
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

// ---------------------------------------------------------------------------
// 4. Symlinks: loops, broken links, links to directories

/**
 * A tree of loops: a/up -> .. and a/self -> . (links to ancestors), x -> x
 * (itself), p <-> q (each other), and d/to-a -> ../a (a link into a, which
 * holds the loops).
 */
async function loopTree(): Promise<string> {
  const root = await makeTree(["a/", "a/f", "d/", "d/g"]);
  Deno.symlinkSync("..", `${root}/a/up`);
  Deno.symlinkSync(".", `${root}/a/self`);
  Deno.symlinkSync("x", `${root}/x`);
  Deno.symlinkSync("q", `${root}/p`);
  Deno.symlinkSync("p", `${root}/q`);
  Deno.symlinkSync("../a", `${root}/d/to-a`);
  return root;
}

testBackends("walk() ends on symlink loops and reports them as ELOOP", async (backend, t) => {
  const root = await loopTree();
  try {
    for (const order of ORDERS) {
      await t.step(`${order}: not following`, async () => {
        const { entries } = await expectSame(root, {}, backend, order, true);
        for (const l of ["a/up", "a/self", "x", "p", "q", "d/to-a"]) {
          assert.ok(find(entries, `${root}/${l}`).isSymlink, l);
        }
        assert.equal(entries.length, 11);
      });
      for (const canonicalize of [true, false]) {
        await t.step(`${order}: following, canonicalize ${canonicalize}`, async () => {
          const got = await expectSame(
            root,
            { followSymlinks: true, canonicalize },
            backend,
            order,
            true,
          );
          const via = canonicalize ? `${root}/a` : `${root}/d/to-a`;
          assert.deepEqual(
            got.reported.map(([, path]) => path).sort(),
            [`${root}/a/self`, `${root}/a/up`, `${via}/self`, `${via}/up`].sort(),
          );
          for (const [error, path] of got.reported) {
            assert.ok(error instanceof Deno.errors.FilesystemLoop, `${path}: ${error}`);
            assert.equal(code(error), "ELOOP");
          }
          // Links that cannot be resolved at all are broken links: yielded as such
          for (const l of ["x", "p", "q"]) {
            const e = find(got.entries, `${root}/${l}`);
            assert.ok(e.isSymlink && !e.isFile && !e.isDirectory, l);
          }
          // The loop links are neither yielded nor descended
          assert.ok(!got.entries.some((e) => /\/(up|self)$/.test(e.path)));
          assert.ok(got.entries.some((e) => e.path === `${via}/f`), "d/to-a was followed");
          if (canonicalize) {
            const as = got.entries.filter((e) => e.path === `${root}/a`);
            assert.deepEqual(as.map((e) => [e.name, e.isDirectory, e.isSymlink, e.depth]), [
              ["a", true, false, 1],
              ["a", true, false, 2],
            ]);
          } else {
            const to = find(got.entries, `${root}/d/to-a`);
            assert.deepEqual([to.name, to.isDirectory, to.isSymlink, to.depth], [
              "to-a",
              true,
              false,
              2,
            ]);
          }
        });
      }
      await t.step(`${order}: a loop the walk does not go into is no error`, async () => {
        // At the last depth or skipped, @std/fs yields (or skips) the link
        // like any directory and ends: so must walk(), without an error
        for (const canonicalize of [true, false]) {
          const opts = { followSymlinks: true, canonicalize, order, queue: { backend } };
          for (const maxDepth of [1, 2, 3]) {
            // (at 3, links at depth 2 go on into their target: loops again)
            await expectSame(root, { ...opts, maxDepth }, backend, order, maxDepth === 3);
          }
          if (!canonicalize) {
            // (canonical paths of the loops are those of real directories)
            const skip = [/\/(up|self)$/];
            const { entries } = await expectSame(root, { ...opts, skip }, backend, order);
            assert.ok(entries.some((e) => e.path === `${root}/d/to-a/f`));
          }
          const { entries } = await ioqWalk(root, { ...opts, maxDepth: 2 });
          const up = entries.find((e) =>
            e.depth === 2 && e.isDirectory && e.name !== "f" &&
            (canonicalize ? e.path === root : e.path === `${root}/a/up`)
          );
          assert.ok(up, "a/up yielded as a directory at the last depth");
        }
      });
      await t.step(`${order}: following without onError throws FilesystemLoop`, async () => {
        await assert.rejects(
          ioqWalk(root, { followSymlinks: true, order, queue: { backend } }),
          (e: Error) => {
            assert.ok(e instanceof Deno.errors.FilesystemLoop, String(e));
            assert.equal(code(e), "ELOOP");
            return true;
          },
        );
      });
      await t.step(`${order}: a link above the root`, async () => {
        // From a/, a/up leads to the root's parent, which is no ancestor: it
        // is walked, a/ again inside it, and then the loops close
        for (const canonicalize of [true, false]) {
          const got = await expectSame(
            `${root}/a`,
            { followSymlinks: true, canonicalize },
            backend,
            order,
            true,
          );
          assert.ok(got.reported.some(([, path]) => path === `${root}/a/self`));
          assert.ok(got.reported.every(([e]) => e instanceof Deno.errors.FilesystemLoop));
          assert.ok(got.entries.some((e) => e.path.endsWith("/d/g")));
        }
      });
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
              assert.deepEqual([e.isFile, e.isDirectory, e.isSymlink, e.name], [
                false,
                false,
                true,
                l.slice(l.lastIndexOf("/") + 1),
              ]);
            }
            const hidden = await ioqWalk(root, { ...opts, followSymlinks, includeSymlinks: false });
            assert.ok(!hidden.entries.some((e) => e.path.endsWith("broken")));
          }

          // Not following: links are leaves
          const plain = await ioqWalk(root, opts);
          assert.ok(find(plain.entries, `${root}/l-dir`).isSymlink);
          assert.ok(!plain.entries.some((e) => e.path.startsWith(`${root}/l-dir/`)));

          // Following, canonical: the target's path, a directory named after it
          const canon = await ioqWalk(root, { ...opts, followSymlinks: true });
          for (const l of ["l-file", "l-file.txt", "l-dir", "l-chain", "h/l-abs"]) {
            assert.ok(!canon.entries.some((e) => e.path.startsWith(`${root}/${l}`)), l);
          }
          const deep = canon.entries.filter((e) => e.path === `${root}/a/b/c/deep.txt`);
          assert.equal(deep.length, 4, "a/b/c reached directly, via l-dir, l-chain and h/l-abs");
          const linkedFile = canon.entries.filter((e) => e.path === `${root}/f.txt`);
          assert.equal(linkedFile.length, 2);
          assert.ok(linkedFile.some((e) => e.name === "l-file" && e.isSymlink && !e.isFile));
          const viaDir = canon.entries.filter((e) => e.path === `${root}/a/b` && e.depth === 1);
          assert.deepEqual(viaDir.map((e) => [e.name, e.isDirectory, e.isSymlink]), [
            ["b", true, false],
            ["b", true, false],
          ]);

          // Following as found: the link's path, a directory named after the link
          const found = await ioqWalk(root, { ...opts, followSymlinks: true, canonicalize: false });
          const linkDir = find(found.entries, `${root}/l-dir`);
          assert.deepEqual([linkDir.name, linkDir.isDirectory, linkDir.isSymlink], [
            "l-dir",
            true,
            false,
          ]);
          assert.ok(found.entries.some((e) => e.path === `${root}/l-chain/c/deep.txt`));
          assert.ok(found.entries.some((e) => e.path === `${root}/h/l-abs/deep.txt`));
          const lf = find(found.entries, `${root}/l-file`);
          assert.deepEqual([lf.name, lf.isFile, lf.isSymlink], ["l-file", false, true]);
        });
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

testBackends("walk() without d_type (every entry unknown) yields the same", async (backend, t) => {
  // Some file systems leave d_type DT_UNKNOWN: the walker must lstat each entry
  const mixed = await mixedTree();
  const loops = await loopTree();
  const type = Object.getOwnPropertyDescriptor(DirBatch.prototype, "type")!;
  Object.defineProperty(DirBatch.prototype, "type", { ...type, value: () => 0 });
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
        await t.step(`${order} ${describe(options)}`, async () => {
          const { entries } = await expectSame(mixed, options, backend, order);
          if (!options.followSymlinks) checkOrder(entries, order);
          await expectSame(loops, options, backend, order, true);
        });
      }
    }
  } finally {
    Object.defineProperty(DirBatch.prototype, "type", type);
    await Deno.remove(mixed, { recursive: true });
    await Deno.remove(loops, { recursive: true });
  }
});

// ---------------------------------------------------------------------------
// 5. Odd names

/** Names a shell or a naive path join would trip on. */
const ODD_NAMES = [
  "new\nline",
  "sp ace",
  " lead",
  "trail ",
  "back\\slash",
  "star*",
  "q?mark",
  'dq"uote',
  "sq'uote",
  "-dash",
  "--",
  "ünï cödé",
  "日本語",
  "emoji-😀",
  "tab\tx",
  "[br]",
  "{a,b}",
  "$HOME",
  "%41",
  "#hash",
  "...",
  "a.b.c",
  "\r",
];

testBackends("walk() handles odd names like @std/fs walk", async (backend, t) => {
  const root = await makeTree([]);
  try {
    for (const name of ODD_NAMES) Deno.writeTextFileSync(`${root}/${name}`, "");
    for (const dir of ["odd\ndir*?", "-dir", "ünï"]) {
      Deno.mkdirSync(`${root}/${dir}/日本`, { recursive: true });
      for (const name of ODD_NAMES) Deno.writeTextFileSync(`${root}/${dir}/${name}`, "");
      Deno.writeTextFileSync(`${root}/${dir}/日本/leaf\n`, "");
      Deno.symlinkSync(`../${ODD_NAMES[0]}`, `${root}/${dir}/link\\*`);
    }
    for (const order of ORDERS) {
      await t.step(order, async () => {
        const { entries } = await expectSame(root, {}, backend, order);
        checkOrder(entries, order);
        assert.equal(entries.length, 1 + ODD_NAMES.length + 3 * (ODD_NAMES.length + 4));
        assert.ok(entries.every((e) => !e.nameBytes && !e.pathBytes), "all names are UTF-8");
        await expectSame(root, { followSymlinks: true }, backend, order);
        await expectSame(root, { followSymlinks: true, canonicalize: false }, backend, order);
        await expectSame(root, { match: [/\n/], skip: [/\*/] }, backend, order);
        await withCwd(`${root}/-dir`, () => expectSame(".", {}, backend, order));
      });
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

testBackends(
  "walk() descends into non-UTF-8 directories and gives raw bytes",
  async (backend, t) => {
    const root = await makeTree(["ok.txt"]);
    const decoder = new TextDecoder();
    const badFile = bytes("bad-", [0xff], "-file");
    const badDir = bytes("bad-", [0xfe], "-dir");
    const badInBad = bytes([0xc3, 0x28], "-raw");
    createRaw(bytes(root, "/", badFile));
    mkdirRaw(bytes(root, "/", badDir));
    createRaw(bytes(root, "/", badDir, "/inner.txt"));
    createRaw(bytes(root, "/", badDir, "/", badInBad));
    mkdirRaw(bytes(root, "/", badDir, "/sub"));
    createRaw(bytes(root, "/", badDir, "/sub/leaf"));
    mkdirRaw(bytes(root, "/", badDir, "/sub/", badDir));
    createRaw(bytes(root, "/", badDir, "/sub/", badDir, "/", badFile));
    try {
      // [raw path below root, isDirectory, whether the name itself is raw]
      const expected: [Uint8Array, boolean, boolean][] = [
        [bytes("ok.txt"), false, false],
        [badFile, false, true],
        [badDir, true, true],
        [bytes(badDir, "/inner.txt"), false, false],
        [bytes(badDir, "/", badInBad), false, true],
        [bytes(badDir, "/sub"), true, false],
        [bytes(badDir, "/sub/leaf"), false, false],
        [bytes(badDir, "/sub/", badDir), true, true],
        [bytes(badDir, "/sub/", badDir, "/", badFile), false, true],
      ];
      for (const order of ORDERS) {
        for (const stat of [false, true]) {
          await t.step(`${order}${stat ? ", stat" : ""}`, async () => {
            const { entries } = await ioqWalk(root, { order, stat, queue: { backend } });
            assert.equal(entries.length, expected.length + 1);
            assert.equal(entries[0].path, root);
            for (const [rel, isDir, rawName] of expected) {
              const path = `${root}/${decoder.decode(rel)}`;
              const matching = entries.filter((e) => e.path === path);
              assert.equal(matching.length, 1, `${JSON.stringify(path)} yielded once`);
              const e = matching[0];
              assert.equal(e.isDirectory, isDir, path);
              assert.equal(e.isFile, !isDir, path);
              assert.equal(e.depth, rel.filter((b) => b === 0x2f).length + 1, path);
              const name = rel.slice(rel.lastIndexOf(0x2f) + 1);
              assert.equal(e.name, decoder.decode(name));
              if (rawName) assert.deepEqual(e.nameBytes, name, `${path}: nameBytes`);
              else assert.equal(e.nameBytes, undefined, `${path}: no nameBytes`);
              const raw = rel.some((b) => b >= 0x80) && decoder.decode(rel).includes("\ufffd");
              if (raw) assert.deepEqual(e.pathBytes, bytes(root, "/", rel), `${path}: pathBytes`);
              else assert.equal(e.pathBytes, undefined, `${path}: no pathBytes`);
              if (stat) {
                assert.ok(e.stat, `${path}: stat`);
                assert.equal(e.stat.isDirectory, isDir);
              }
            }
          });
        }
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

/**
 * A tree where links lead in and into a non-UTF-8 directory: bad\xfe/ holds
 * inner.txt, link -> inner.txt, sub/leaf and dlink -> sub; to-bad -> bad\xfe.
 */
async function rawLinkTree(): Promise<{ root: string; bad: Uint8Array }> {
  const root = await makeTree([]);
  const bad = bytes("bad-", [0xfe]);
  mkdirRaw(bytes(root, "/", bad));
  createRaw(bytes(root, "/", bad, "/inner.txt"));
  mkdirRaw(bytes(root, "/", bad, "/sub"));
  createRaw(bytes(root, "/", bad, "/sub/leaf"));
  const script =
    `cd "$1" && ln -s inner.txt $'bad-\\xfe/link' && ln -s sub $'bad-\\xfe/dlink' && ` +
    `ln -s $'bad-\\xfe' to-bad`;
  const out = await new Deno.Command("bash", { args: ["-c", script, "bash", root] }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return { root, bad };
}

testBackends(
  "walk() follows links in and into non-UTF-8 directories as found",
  async (backend, t) => {
    const { root, bad } = await rawLinkTree();
    const b = `${root}/bad-\ufffd`;
    // [path, flags, raw path (when not UTF-8)]
    const want: [string, string, Uint8Array | undefined][] = [
      [root, "-d-", undefined],
      [b, "-d-", bytes(root, "/", bad)],
      [`${b}/inner.txt`, "f--", bytes(root, "/", bad, "/inner.txt")],
      [`${b}/link`, "--l", bytes(root, "/", bad, "/link")],
      [`${b}/sub`, "-d-", bytes(root, "/", bad, "/sub")],
      [`${b}/sub/leaf`, "f--", bytes(root, "/", bad, "/sub/leaf")],
      [`${b}/dlink`, "-d-", bytes(root, "/", bad, "/dlink")],
      [`${b}/dlink/leaf`, "f--", bytes(root, "/", bad, "/dlink/leaf")],
      [`${root}/to-bad`, "-d-", undefined],
      [`${root}/to-bad/inner.txt`, "f--", undefined],
      [`${root}/to-bad/link`, "--l", undefined],
      [`${root}/to-bad/sub`, "-d-", undefined],
      [`${root}/to-bad/sub/leaf`, "f--", undefined],
      [`${root}/to-bad/dlink`, "-d-", undefined],
      [`${root}/to-bad/dlink/leaf`, "f--", undefined],
    ];
    try {
      for (const order of ORDERS) {
        await t.step(order, async () => {
          const got = await ioqWalk(
            root,
            { followSymlinks: true, canonicalize: false, order, queue: { backend } },
            true,
          );
          assert.deepEqual(got.errors, []);
          const flags = (e: WalkEntry) =>
            `${e.isFile ? "f" : "-"}${e.isDirectory ? "d" : "-"}${e.isSymlink ? "l" : "-"}`;
          assert.deepEqual(
            got.entries.map((e) => [e.path, flags(e), e.pathBytes]).sort(),
            want.sort(),
          );
        });
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

/** rawLinkTree(), plus a link out of the bad directory to a UTF-8 one, and one back. */
async function rawLinkTreeWithWayOut(): Promise<{ root: string; bad: Uint8Array }> {
  const tree = await rawLinkTree();
  const script = `cd "$1" && mkdir good && touch good/g && ` +
    `ln -s ../good $'bad-\\xfe/up' && ln -s $'../bad-\\xfe/sub' good/$'s-\\xfd'`;
  const out = await new Deno.Command("bash", { args: ["-c", script, "bash", tree.root] }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return tree;
}

for (const backend of ["io_uring", "threads"] as const) {
  Deno.test({
    // canonicalize resolves each followed link as bytes, relative to the
    // directory that holds it (Dir.realPath): a link inside a non-UTF-8
    // directory, or into one, is neither looked up by its lossy (U+FFFD)
    // path nor lost
    name: `walk() canonicalizes links in and into non-UTF-8 directories [${backend}]`,
    async fn() {
      const { root, bad } = await rawLinkTreeWithWayOut();
      const b = `${root}/bad-\ufffd`;
      const rb = (...rest: string[]) => bytes(root, "/", bad, ...rest);
      // [path, name, path bytes, name bytes]: bytes only where not UTF-8
      type Row = [string, string, Uint8Array | undefined, Uint8Array | undefined];
      // What bad-\xfe holds, reached directly or through to-bad: links
      // canonicalized, dirs named after their target
      const badTree: Row[] = [
        [b, "bad-\ufffd", rb(), bad],
        [`${b}/inner.txt`, "inner.txt", rb("/inner.txt"), undefined],
        [`${b}/inner.txt`, "link", rb("/inner.txt"), undefined],
        [`${b}/sub`, "sub", rb("/sub"), undefined],
        [`${b}/sub/leaf`, "leaf", rb("/sub/leaf"), undefined],
        [`${b}/sub`, "sub", rb("/sub"), undefined], // dlink
        [`${b}/sub/leaf`, "leaf", rb("/sub/leaf"), undefined],
        [`${root}/good`, "good", undefined, undefined], // up
        [`${root}/good/g`, "g", undefined, undefined],
        [`${b}/sub`, "sub", rb("/sub"), undefined], // up/s-\xfd
        [`${b}/sub/leaf`, "leaf", rb("/sub/leaf"), undefined],
      ];
      const want: Row[] = [
        [root, root.slice(root.lastIndexOf("/") + 1), undefined, undefined],
        ...badTree,
        ...badTree, // to-bad
        ...badTree.slice(-4), // good
      ];
      const key = (r: Row) => JSON.stringify([r[0], r[1], r[2] && [...r[2]], r[3] && [...r[3]]]);
      try {
        for (const order of ORDERS) {
          const got = await ioqWalk(
            root,
            { followSymlinks: true, order, queue: { backend } },
            true,
          );
          assert.deepEqual(got.errors, [], "every link resolved");
          assert.deepEqual(
            got.entries.map((e) => key([e.path, e.name, e.pathBytes, e.nameBytes])).sort(),
            want.map(key).sort(),
          );
        }
      } finally {
        await Deno.remove(root, { recursive: true });
      }
    },
  });
}

// ---------------------------------------------------------------------------
// 6. A huge directory

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
          assert.ok(e.isFile && e.depth === 1);
          const i = Number(e.name.slice(6));
          assert.equal(e.path, `${root}/entry-${i}`);
          assert.equal(seen[i], 0, `${e.name} yielded twice`);
          seen[i] = 1;
        }
        assert.equal(count, N + 1);
        assert.ok(seen.every((s) => s === 1));
      });
    }
  } finally {
    await rmrf(root);
  }
});

// ---------------------------------------------------------------------------
// 7. Deeper than PATH_MAX

/** A level's name in the deep tree: 200 bytes. */
const deepName = (i: number) => `${String(i).padStart(3, "0")}-${"x".repeat(196)}`;

/**
 * Builds `levels` nested directories (named by `name`) under `parent`, and a
 * file `leaf` at the bottom, one relative mkdir at a time (the full path is
 * too long for one call).
 */
function makeChain(
  parent: string,
  levels: number,
  name: (i: number) => string,
  bottom?: () => void,
): void {
  const cwd = Deno.cwd();
  Deno.chdir(parent);
  try {
    for (let i = 0; i < levels; i++) {
      Deno.mkdirSync(name(i));
      Deno.chdir(name(i));
    }
    Deno.writeFileSync("leaf", new Uint8Array());
    bottom?.();
  } finally {
    Deno.chdir(cwd);
  }
}

testBackends("walk() goes 300 levels deep, far past PATH_MAX", async (backend, t) => {
  const root = await makeTree([]);
  const LEVELS = 300;
  try {
    makeChain(root, LEVELS, deepName);
    const expected = [root];
    let path = root;
    for (let i = 0; i < LEVELS; i++) expected.push(path = `${path}/${deepName(i)}`);
    expected.push(`${path}/leaf`);
    assert.ok(path.length > 10 * 4096);
    for (const order of ORDERS) {
      await t.step(order, async () => {
        const { entries } = await ioqWalk(root, { order, queue: { backend } });
        assert.deepEqual(entries.map((e) => e.path), expected);
        entries.forEach((e, depth) => assert.equal(e.depth, depth));
        assert.ok(entries[LEVELS].isDirectory && entries[LEVELS].depth === 300);
        assert.ok(entries[LEVELS + 1].isFile && entries[LEVELS + 1].depth === 301);
        const some = await ioqWalk(root, { order, queue: { backend }, maxDepth: 150 });
        assert.deepEqual(some.entries.map((e) => e.path), expected.slice(0, 151));
        const stats = await ioqWalk(root, { order, queue: { backend }, stat: true });
        assert.ok(stats.entries.every((e) => e.stat), "stat works past PATH_MAX");
      });
    }
  } finally {
    await rmrf(root);
  }
});

/** A chain 30 levels deep (over 6,000 bytes) ending in links to a file and a directory. */
function deepLinkTree(): { root: string; bottom: string } {
  const root = fastTempDir();
  makeChain(root, 30, deepName, () => {
    Deno.mkdirSync("target");
    Deno.writeFileSync("target/t", new Uint8Array());
    Deno.symlinkSync("target", "dlink");
    Deno.symlinkSync("leaf", "flink");
  });
  return { root, bottom: [root, ...Array.from({ length: 30 }, (_, i) => deepName(i))].join("/") };
}

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
        assert.deepEqual(got.errors, []);
        const below = got.entries.filter((e) => e.depth > 30).map(key).sort();
        const entry = (depth: number, flags: string, path: string, name: string) =>
          `${depth} ${flags} ${JSON.stringify(`${bottom}/${path}`)} ${JSON.stringify(name)}`;
        assert.deepEqual(
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

for (const backend of ["io_uring", "threads"] as const) {
  Deno.test({
    // The canonical paths here are longer than the kernel can name through
    // /proc/self/fd: Dir.realPath climbs through ".." to find them
    name: `walk() canonicalizes links past PATH_MAX [${backend}]`,
    async fn() {
      const { root, bottom } = deepLinkTree();
      try {
        for (const order of ORDERS) {
          const got = await ioqWalk(
            root,
            { followSymlinks: true, order, queue: { backend } },
            true,
          );
          assert.deepEqual(got.errors, [], "every link resolved");
          const paths = got.entries.filter((e) => e.depth > 30).map((e) => e.path).sort();
          assert.deepEqual(paths, [
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
    },
  });
}

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

for (const backend of ["io_uring", "threads"] as const) {
  Deno.test({
    // Without /proc/self/fd to name files, canonical paths are found by
    // climbing through ".." from the file: the walk must not change
    name: `walk() canonicalizes the same without /proc [${backend}]${
      noProcWhy ? ` (${noProcWhy})` : ""
    }`,
    ignore: noProcWhy !== undefined,
    async fn() {
      const raw = await rawLinkTreeWithWayOut();
      const deep = deepLinkTree();
      try {
        for (const root of [raw.root, deep.root]) {
          type Out = { procMounted: boolean; entries: string[]; errors: string[] };
          const cmd = denoRun(fixture("canon_child.ts"), [root, backend]);
          const withProc = await runJson<Out>(cmd);
          const withoutProc = await runJson<Out>([...WITHOUT_PROC, ...cmd]);
          assert.deepEqual([withProc.procMounted, withoutProc.procMounted], [true, false]);
          assert.deepEqual(withProc.errors, []);
          assert.ok(withProc.entries.length >= 20, `${withProc.entries.length} entries`);
          assert.deepEqual(withoutProc, { ...withProc, procMounted: false });
        }
      } finally {
        await Deno.remove(raw.root, { recursive: true });
        await rmrf(deep.root);
      }
    },
  });
}

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
            assert.deepEqual(entries.map((e) => e.path).sort(), expected.sort());
            checkOrder(entries, order);
            assert.equal(q.capacity, q.depth);
            assert.equal(openFds(), before, "every directory closed");
          });
        }
      }
    } finally {
      await rmrf(root);
    }
  },
);

// ---------------------------------------------------------------------------
// 8. A directory removed during the walk

testBackends("walk() reports a directory removed mid-walk and goes on", async (backend, t) => {
  for (const order of ORDERS) {
    const variants: [string, number, number][] = [["early", 3, 4096], [
      "midway, small queue",
      60,
      8,
    ]];
    for (const [label, after, depth] of variants) {
      await t.step(`${order}: ${label}`, async () => {
        const paths: string[] = [];
        for (let d = 0; d < 40; d++) {
          for (let s = 0; s < 5; s++) paths.push(`d${d}/s${s}/`, `d${d}/s${s}/f`);
        }
        const root = await makeTree(paths);
        try {
          await using q = new IoQueue({ backend, depth });
          const victim = `${root}/d39`;
          const got: Walked = { entries: [], errors: [], reported: [] };
          for await (
            const e of walk(root, {
              order,
              queue: q,
              onError: (error, path) => got.reported.push([error, path]),
            })
          ) {
            got.entries.push(e);
            if (got.entries.length === after) await rmrf(victim);
          }
          assert.equal(got.reported.length, 1, got.reported.map(String).join(", "));
          const [error, path] = got.reported[0];
          assert.equal(path, victim);
          assert.ok(error instanceof Deno.errors.NotFound, String(error));
          assert.equal(code(error), "ENOENT");
          // Everything else, and the victim itself (listed before it went)
          const want = await referenceWalk(root);
          want.push({
            path: victim,
            name: "d39",
            isFile: false,
            isDirectory: true,
            isSymlink: false,
            depth: 1,
          });
          assert.deepEqual(keys(got.entries), keys(want));
          assert.equal(q.capacity, q.depth);
        } finally {
          await Deno.remove(root, { recursive: true });
        }
      });
    }
  }
});

// ---------------------------------------------------------------------------
// 9. EACCES, as an unprivileged user

/** How to run a child as an unprivileged user, or why it cannot be done here. */
function unprivileged(): { prefix: string[] } | { skip: string } {
  if (Deno.uid() !== 0) return { prefix: [] };
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":")) {
    try {
      if (Deno.statSync(`${dir}/setpriv`).isFile) {
        return {
          prefix: [`${dir}/setpriv`, "--reuid=nobody", "--regid=nogroup", "--clear-groups"],
        };
      }
    } catch {
      // not here
    }
  }
  return { skip: "running as root without setpriv: no way to drop privileges" };
}

const drop = unprivileged();
if ("skip" in drop) console.error(`NOTE: the EACCES test is ignored: ${drop.skip}`);

/** The child: walks with and without onError in both orders, prints JSON. */
const EACCES_CHILD = `
import { walk } from "./mod.ts";
const [root, backend] = Deno.args;
const out = {};
for (const order of ["bfs", "dfs"]) {
  const entries = [];
  const errors = [];
  const onError = (error, path) => errors.push({ name: error.name, code: error.code, path });
  for await (const e of walk(root, { order, onError, queue: { backend } })) {
    entries.push({ path: e.path, isDirectory: e.isDirectory, isFile: e.isFile });
  }
  let thrown = null;
  try {
    for await (const _ of walk(root, { order, queue: { backend } }));
  } catch (error) {
    thrown = { name: error.name, code: error.code, path: error.path };
  }
  out[order] = { entries, errors, thrown };
}
console.log(JSON.stringify(out));
`;

/** Why io_uring cannot be tested as an unprivileged user here, if it cannot. */
function uringUnprivileged(): string | undefined {
  try {
    const disabled = Deno.readTextFileSync("/proc/sys/kernel/io_uring_disabled").trim();
    if (disabled !== "0") return `kernel.io_uring_disabled is ${disabled}`;
  } catch {
    // an older kernel: no such switch
  }
  return undefined;
}

for (const { backend, skip } of BACKENDS) {
  const why = "skip" in drop
    ? drop.skip
    : skip ?? (backend === "io_uring" ? uringUnprivileged() : undefined);
  if (why && !("skip" in drop) && !skip) console.error(`NOTE: the EACCES test is ignored: ${why}`);
  Deno.test({
    name: `walk() reports EACCES and walks the rest, as an unprivileged user [${backend}]`,
    ignore: why !== undefined,
    async fn() {
      if ("skip" in drop) return;
      const base = await Deno.makeTempDir({ prefix: "ioq-eacces-" });
      const repo = new URL("../", import.meta.url).pathname;
      try {
        // A copy of the module anyone can read, and a cache dir anyone can write
        await Deno.chmod(base, 0o755);
        const copy = await new Deno.Command("cp", {
          args: ["-r", `${repo}mod.ts`, `${repo}lib`, base],
        }).output();
        assert.ok(copy.success);
        const lib = `native/lib/${Deno.build.arch}`;
        await Deno.mkdir(`${base}/${lib}`, { recursive: true });
        await Deno.copyFile(`${repo}${lib}/libioq.so`, `${base}/${lib}/libioq.so`);
        await Deno.writeTextFile(`${base}/child.ts`, EACCES_CHILD);
        await Deno.mkdir(`${base}/cache`, { mode: 0o777 });
        await Deno.chmod(`${base}/cache`, 0o777);
        await new Deno.Command("chmod", { args: ["-R", "a+rX", base] }).output();

        const root = `${base}/tree`;
        for (const d of ["a", "b", "locked/sub", "rdonly/sub"]) {
          await Deno.mkdir(`${root}/${d}`, { recursive: true });
        }
        for (const f of ["a/f", "b/g", "locked/secret", "rdonly/file"]) {
          await Deno.writeTextFile(`${root}/${f}`, "");
        }
        await new Deno.Command("chmod", { args: ["-R", "a+rX", root] }).output();
        await Deno.chmod(`${root}/locked`, 0o000);
        await Deno.chmod(`${root}/rdonly`, 0o444);

        const [cmd, ...args] = [...drop.prefix, Deno.execPath(), "run", "-A", "child.ts"];
        const out = await new Deno.Command(cmd, {
          args: [...args, root, backend],
          cwd: base,
          env: { DENO_DIR: `${base}/cache`, HOME: `${base}/cache`, NO_COLOR: "1" },
        }).output();
        const stderr = new TextDecoder().decode(out.stderr);
        assert.ok(out.success, `the child failed: ${stderr}`);
        const result = JSON.parse(new TextDecoder().decode(out.stdout));

        const want = [
          [root, true],
          [`${root}/a`, true],
          [`${root}/a/f`, false],
          [`${root}/b`, true],
          [`${root}/b/g`, false],
          [`${root}/locked`, true],
          [`${root}/rdonly`, true],
          [`${root}/rdonly/file`, false],
          [`${root}/rdonly/sub`, true],
        ];
        for (const order of ORDERS) {
          const { entries, errors, thrown } = result[order];
          assert.deepEqual(
            entries.map((e: WalkEntry) => [e.path, e.isDirectory]).sort(),
            want.sort(),
            `${order}: everything readable`,
          );
          assert.deepEqual(
            errors.sort((a: { path: string }, b: { path: string }) => a.path < b.path ? -1 : 1),
            [
              { name: "PermissionDenied", code: "EACCES", path: `${root}/locked` },
              { name: "PermissionDenied", code: "EACCES", path: `${root}/rdonly/sub` },
            ],
            `${order}: errors`,
          );
          assert.equal(thrown?.name, "PermissionDenied", `${order}: thrown without onError`);
          assert.equal(thrown?.code, "EACCES");
        }
      } finally {
        await Deno.chmod(`${base}/tree/locked`, 0o755).catch(() => {});
        await Deno.chmod(`${base}/tree/rdonly`, 0o755).catch(() => {});
        await Deno.remove(base, { recursive: true });
      }
    },
  });
}

// ---------------------------------------------------------------------------
// 10. Early exits

/** A tree of 10 directories of 50 files, and a nested directory each. */
function wideTree(): Promise<string> {
  const paths: string[] = [];
  for (let d = 0; d < 10; d++) {
    paths.push(`d${d}/n/`, `d${d}/n/leaf`);
    for (let f = 0; f < 50; f++) paths.push(`d${d}/f${f}`);
  }
  return makeTree(paths);
}

testBackends("walk() stops cleanly on break, return() and abort", async (backend, t) => {
  const root = await wideTree();
  try {
    for (const order of ORDERS) {
      const opts = { order, queue: { backend } } as const;
      await t.step(`${order}: break after N entries`, async () => {
        for (const n of [1, 2, 5, 20, 100, 400]) {
          const before = openFds();
          let count = 0;
          for await (const _ of walk(root, opts)) if (++count === n) break;
          assert.equal(count, n);
          assert.equal(openFds(), before, `break after ${n}: descriptors released`);
        }
      });
      await t.step(`${order}: return()`, async () => {
        const before = openFds();
        const it = walk(root, opts);
        for (let i = 0; i < 30; i++) assert.equal((await it.next()).done, false);
        assert.deepEqual(await it.return!(undefined), { done: true, value: undefined });
        assert.deepEqual(await it.next(), { done: true, value: undefined });
        assert.equal(openFds(), before);
        // return() before the first next()
        const fresh = walk(root, opts);
        await fresh.return!(undefined);
        assert.equal((await fresh.next()).done, true);
      });
      await t.step(`${order}: an exception in the loop body`, async () => {
        const before = openFds();
        const boom = new Error("boom");
        await assert.rejects(async () => {
          let n = 0;
          for await (const _ of walk(root, opts)) if (++n === 77) throw boom;
        }, (e) => e === boom);
        assert.equal(openFds(), before);
      });
      await t.step(`${order}: abort midway throws the signal's reason at once`, async () => {
        for (const at of [1, 10, 60, 300]) {
          const before = openFds();
          const controller = new AbortController();
          const reason = new Error(`stop at ${at}`);
          let count = 0;
          await assert.rejects(async () => {
            for await (const _ of walk(root, { ...opts, signal: controller.signal })) {
              if (++count === at) controller.abort(reason);
            }
          }, (e) => e === reason);
          assert.equal(count, at, "nothing yielded after the abort");
          assert.equal(openFds(), before);
        }
      });
      await t.step(`${order}: an aborted signal stops the walk before it starts`, async () => {
        const reason = new Error("already");
        const it = walk(root, { ...opts, signal: AbortSignal.abort(reason) });
        await assert.rejects(it.next(), (e) => e === reason);
        const plain = walk(root, { ...opts, signal: AbortSignal.abort() });
        await assert.rejects(plain.next(), (e: Error) => e.name === "AbortError");
      });
      await t.step(`${order}: a queue of the caller's stays usable`, async () => {
        await using q = new IoQueue({ backend, depth: 64 });
        const before = openFds();
        const stops: [string, (it: AsyncIterableIterator<WalkEntry>) => Promise<void>][] = [
          ["break", async (it) => {
            let n = 0;
            for await (const _ of it) if (++n === 40) break;
          }],
          ["return", async (it) => {
            for (let i = 0; i < 120; i++) await it.next();
            await it.return!(undefined);
          }],
        ];
        for (const [how, stop] of stops) {
          await stop(walk(root, { order, queue: q }));
          assert.equal(q.closed, false, `${how}: the queue is left open`);
          assert.equal(q.inFlight, 0, `${how}: nothing in flight`);
          assert.equal(q.capacity, q.depth, `${how}: full capacity`);
          assert.equal(openFds(), before, `${how}: every directory closed`);
        }
        const controller = new AbortController();
        await assert.rejects(async () => {
          let n = 0;
          for await (const _ of walk(root, { order, queue: q, signal: controller.signal })) {
            if (++n === 200) controller.abort();
          }
        });
        assert.equal(q.capacity, q.depth, "abort: full capacity");
        assert.equal(openFds(), before, "abort: every directory closed");
        // The queue still works, for requests and for a whole walk
        q.opendir(root, 1);
        const [done] = await q.pop();
        assert.ok(done.op === "opendir" && done.dir, String(done.error));
        assert.equal(done.dir.readAll().length, 10);
        done.dir.close();
        const full = await ioqWalk(root, { order, queue: q });
        assert.deepEqual(keys(full.entries), keys(await referenceWalk(root)));
        assert.equal(openFds(), before);
      });
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

testBackends("1,000 walks stopped at random points leak nothing", async (backend) => {
  const root = await makeTree(["a/b/c/", "a/b/c/1", "a/2", "d/", "d/3", "d/e/", "d/e/4", "5", "6"]);
  const seed = Date.now() >>> 0;
  const rand = random(seed);
  const message = (i: number) => `walk ${i} (seed ${seed})`;
  try {
    const total = (await referenceWalk(root)).length;
    await using shared = new IoQueue({ backend, depth: 32 });
    const before = openFds();
    for (let i = 0; i < 1000; i++) {
      const order: Order = rand() < 0.5 ? "bfs" : "dfs";
      const queue = rand() < 0.5 ? shared : { backend, threads: 1 };
      const stopAt = Math.floor(rand() * (total + 1));
      const how = Math.floor(rand() * 3);
      const controller = new AbortController();
      const it = walk(root, { order, queue, signal: controller.signal });
      let count = 0;
      try {
        if (how === 0) {
          for await (const _ of it) if (count++ === stopAt) break;
        } else if (how === 1) {
          for await (const _ of it) if (count++ === stopAt) controller.abort();
        } else {
          while (count < stopAt && !(await it.next()).done) count++;
          await it.return!(undefined);
        }
      } catch (error) {
        assert.equal(how, 1, `${message(i)}: ${error}`);
        assert.equal((error as Error).name, "AbortError", message(i));
      }
      assert.equal(shared.capacity, shared.depth, message(i));
    }
    assert.equal(openFds(), before);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// ---------------------------------------------------------------------------
// 10b. Small and cancelled queues of the caller's

/** The module, for code run in a child process. */
const MOD = new URL("../mod.ts", import.meta.url).href;

/**
 * Runs TypeScript in a child Deno (for walks that could hang the event loop
 * for good: a hang there is killed and reported, not a stuck test run).
 * The code prints one JSON value.
 */
async function inChild(code: string, timeoutMs = 20_000): Promise<unknown> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    signal: AbortSignal.timeout(timeoutMs),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  if (out.signal) throw new Error(`the child hung and was killed after ${timeoutMs} ms: ${stderr}`);
  if (!out.success) throw new Error(`the child failed: ${stderr}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

testBackends("walk() works on a caller's queue of any depth, even 1", async (backend) => {
  const root = await mixedTree();
  for (let i = 0; i < 60; i++) Deno.mkdirSync(`${root}/empty-${i}/inner`, { recursive: true });
  try {
    const variants: [string, WalkOptions][] = [
      ["plain", {}],
      ["stat", { stat: true }],
      ["follow", { followSymlinks: true }],
    ];
    const result = await inChild(`
      import { IoQueue, walk } from ${JSON.stringify(MOD)};
      const out: Record<string, unknown> = {};
      for (const depth of [1, 2, 3, 5]) {
        for (const order of ["bfs", "dfs"] as const) {
          for (const [name, options] of ${JSON.stringify(variants)}) {
            const q = new IoQueue({ backend: ${JSON.stringify(backend)}, depth });
            const entries = [];
            for await (const e of walk(${JSON.stringify(root)}, { ...options, order, queue: q })) {
              const { path, name, isFile, isDirectory, isSymlink, depth } = e;
              entries.push({ path, name, isFile, isDirectory, isSymlink, depth });
            }
            out[\`\${depth} \${order} \${name}\`] = { entries, idle: q.capacity === q.depth };
            q.close();
          }
        }
      }
      console.log(JSON.stringify(out));
    `) as Record<string, { entries: WalkEntry[]; idle: boolean }>;
    for (const [name, options] of variants) {
      const want = keys(await referenceWalk(root, options));
      for (const depth of [1, 2, 3, 5]) {
        for (const order of ORDERS) {
          const got = result[`${depth} ${order} ${name}`];
          assert.deepEqual(keys(got.entries), want, `depth ${depth}, ${order}, ${name}`);
          assert.ok(got.idle, `depth ${depth}, ${order}, ${name}: nothing left in flight`);
        }
      }
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

testBackends("walk() ends when the caller cancels its queue mid-walk", async (backend) => {
  const paths: string[] = [];
  for (let d = 0; d < 30; d++) {
    for (let s = 0; s < 5; s++) paths.push(`d${d}/s${s}/`, `d${d}/s${s}/f`);
  }
  const root = await makeTree(paths);
  try {
    const result = await inChild(`
      import { IoQueue, walk } from ${JSON.stringify(MOD)};
      const fds = () => [...Deno.readDirSync("/proc/self/fd")].length;
      const out = [];
      for (const order of ["bfs", "dfs"] as const) {
        const q = new IoQueue({ backend: ${JSON.stringify(backend)} });
        const before = fds();
        let count = 0;
        let thrown = null;
        try {
          for await (const _ of walk(${JSON.stringify(root)}, { order, queue: q, onError() {} })) {
            if (++count === 5) q.cancel();
          }
        } catch (error) {
          thrown = { name: error.name, code: error.code };
        }
        out.push({ order, count, thrown, inFlight: q.inFlight, leaked: fds() - before });
        q.close();
      }
      console.log(JSON.stringify(out));
    `) as { count: number; thrown: { name: string; code: string }; inFlight: number }[];
    for (const run of result) {
      // The root's listing is read; every open after it is refused
      assert.deepEqual(run, {
        ...run,
        count: 31,
        thrown: { name: "Interrupted", code: "EINTR" },
        inFlight: 0,
        leaked: 0,
      });
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

testBackends("walk() on a caller's queue throws a directory's error, once", async (backend) => {
  const paths: string[] = [];
  for (let d = 0; d < 40; d++) paths.push(`d${d}/s0/`, `d${d}/s1/`);
  const root = await makeTree(paths);
  try {
    // Two directories vanish after they were listed: without onError the
    // walk throws the first failure; an onError that throws ends it too
    const result = await inChild(
      `
      import { IoQueue, walk } from ${JSON.stringify(MOD)};
      const fds = () => [...Deno.readDirSync("/proc/self/fd")].length;
      const root = ${JSON.stringify(root)};
      const out = [];
      for (const order of ["bfs", "dfs"] as const) {
        for (const how of ["throw", "onError throws"]) {
          Deno.mkdirSync(root + "/d20/s0", { recursive: true });
          Deno.mkdirSync(root + "/d21/s0", { recursive: true });
          const q = new IoQueue({ backend: ${JSON.stringify(backend)} });
          const before = fds();
          const boom = new Error("from onError");
          const onError = how === "throw" ? undefined : () => { throw boom; };
          let thrown = null;
          try {
            let n = 0;
            for await (const _ of walk(root, { order, queue: q, onError })) {
              if (++n === 3) {
                Deno.removeSync(root + "/d20", { recursive: true });
                Deno.removeSync(root + "/d21", { recursive: true });
              }
            }
          } catch (error) {
            thrown = error === boom ? "boom" : [error.name, error.code, error.path];
          }
          out.push({ order, how, thrown, inFlight: q.inFlight, leaked: fds() - before });
          q.close();
        }
      }
      console.log(JSON.stringify(out));
    `,
      20_000,
    ) as { how: string; thrown: unknown }[];
    for (const run of result) {
      if (run.how === "throw") {
        const [name, code, path] = run.thrown as string[];
        assert.deepEqual([name, code], ["NotFound", "ENOENT"], JSON.stringify(run));
        assert.ok([`${root}/d20`, `${root}/d21`].includes(path), path);
      } else {
        assert.equal(run.thrown, "boom", JSON.stringify(run));
      }
      assert.deepEqual(run, { ...run, inFlight: 0, leaked: 0 });
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

testBackends("walk() in dfs order goes deeper than its descriptor budget", async (backend, t) => {
  // One side directory per level: dfs holds each level's sibling for later
  const root = fastTempDir();
  let path = root;
  for (let i = 0; i < 60; i++) {
    Deno.mkdirSync(`${path}/side`);
    Deno.writeTextFileSync(`${path}/side/f`, "");
    Deno.mkdirSync(path = `${path}/d${i}`);
  }
  try {
    const want = keys(await referenceWalk(root));
    for (const order of ORDERS) {
      for (const depth of [4, 8, 16, 32]) {
        await t.step(`${order}, queue depth ${depth}`, async () => {
          await using q = new IoQueue({ backend, depth });
          const { entries } = await ioqWalk(root, { order, queue: q });
          assert.deepEqual(keys(entries), want);
          checkOrder(entries, order);
        });
      }
    }
  } finally {
    await rmrf(root);
  }
});

// ---------------------------------------------------------------------------
// 11. stat

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
          await t.step(`${order} ${describe(options)}`, async () => {
            const got = await expectSame(root, { ...options, stat: true }, backend, order);
            for (const e of got.entries) {
              assert.ok(e.stat, `${e.path} has a stat`);
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
                assert.equal(e.stat[field], want[field], `${e.path}: ${field}`);
              }
              assert.equal(e.stat.isSymlink, want.isSymlink, `${e.path}: isSymlink`);
            }
            const sized = got.entries.find((e) => e.path === `${root}/a/sized.txt`);
            if (sized) assert.equal(sized.stat?.size, 5);
          });
        }
        await t.step(`${order}: no stat unless asked`, async () => {
          const { entries } = await ioqWalk(root, { order, queue: { backend } });
          assert.ok(entries.every((e) => e.stat === undefined));
        });
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

// ---------------------------------------------------------------------------
// 12. sameFilesystem

/** Mount points just below "/" on another device than "/", from mountinfo. */
function topMounts(): string[] {
  try {
    const rootDev = Deno.statSync("/").dev;
    const points = new Set<string>();
    for (const line of Deno.readTextFileSync("/proc/self/mountinfo").split("\n")) {
      const point = line.split(" ")[4];
      if (!point || !/^\/[^/]+$/.test(point)) continue;
      const decoded = point.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
      try {
        if (Deno.statSync(decoded).dev !== rootDev) points.add(decoded);
      } catch {
        // hidden or gone
      }
    }
    return [...points].sort();
  } catch {
    return [];
  }
}

const MOUNTS = topMounts();
if (MOUNTS.length === 0) {
  console.error("NOTE: the sameFilesystem test is ignored: no mount point just below /");
}

for (const { backend, skip } of BACKENDS) {
  Deno.test({
    name: `walk({ sameFilesystem: true }) yields mount points without entering them [${backend}]`,
    ignore: MOUNTS.length === 0 || skip !== undefined,
    async fn(t) {
      const before = openFds();
      const onError = () => {};
      const rootDev = Deno.statSync("/").dev;
      for (const order of ORDERS) {
        await t.step(order, async () => {
          const opts = { order, onError, maxDepth: 2, queue: { backend } } as const;
          const same = await ioqWalk("/", { ...opts, sameFilesystem: true });
          const all = await ioqWalk("/", opts);
          for (const mount of MOUNTS) {
            const e = find(same.entries, mount);
            assert.ok(e.isDirectory && e.depth === 1, mount);
            assert.ok(
              !same.entries.some((e) => e.path.startsWith(`${mount}/`)),
              `nothing below ${mount}`,
            );
          }
          assert.ok(
            MOUNTS.some((m) => all.entries.some((e) => e.path.startsWith(`${m}/`))),
            "without sameFilesystem, mounts are entered",
          );
          const below = same.entries.filter((e) => e.depth === 2);
          assert.ok(below.length > 0, "the root file system is walked");
          for (const e of below) {
            let dev: number | undefined;
            try {
              dev = Deno.statSync(parentOf(e.path)).dev;
            } catch {
              continue;
            }
            assert.equal(dev, rootDev, `${e.path} is on the root's file system`);
          }
          // Entries of the same file system are all there
          const same2 = new Set(same.entries.map(key));
          for (const e of all.entries) {
            if (MOUNTS.some((m) => e.path.startsWith(`${m}/`))) continue;
            assert.ok(same2.has(key(e)) || e.depth === 2, e.path);
          }
        });
      }
      assert.equal(openFds(), before);
    },
  });
}

// ---------------------------------------------------------------------------
// 13. The event loop

testBackends("walk() leaves the event loop free: a 1 ms timer keeps firing", async (backend, t) => {
  let root = "/usr";
  let made: string | undefined;
  try {
    if (!(await Deno.stat(root).catch(() => null))?.isDirectory) {
      // No /usr: 200 directories of 1,000 files
      made = root = fastTempDir();
      for (let d = 0; d < 200; d++) {
        Deno.mkdirSync(`${root}/d${d}`);
        touchAll(`${root}/d${d}`, Array.from({ length: 1000 }, (_, i) => `f${i}`));
      }
    }
    for (const order of ORDERS) {
      await t.step(order, async () => {
        let ticks = 0;
        const timer = setInterval(() => ticks++, 1);
        const start = performance.now();
        let count = 0;
        try {
          for await (const _ of walk(root, { order, queue: { backend }, onError: () => {} })) {
            count++;
          }
        } finally {
          clearInterval(timer);
        }
        const ms = performance.now() - start;
        assert.ok(count > 10_000, `walked ${count} entries`);
        assert.ok(
          ticks >= Math.floor(ms / 50),
          `the timer fired ${ticks} times in ${ms.toFixed(0)} ms of walking ${count} entries`,
        );
      });
    }
  } finally {
    if (made) await rmrf(made);
  }
});

// ---------------------------------------------------------------------------
// Arguments

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
    await assert.rejects(it.next(), TypeError, describe(options));
  }
});
