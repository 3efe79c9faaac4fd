/**
 * What walk() makes of its arguments before it walks: roots that cannot be
 * walked ("", 5,000 bytes, missing) give one OS error each, with its path,
 * through onError or thrown; options of the wrong type give a TypeError
 * naming the option from the first `next()`, before anything is opened;
 * `file:` URLs decode alike in walk(), glob() and IoQueue (`%FF` a raw
 * byte, a stray `%` itself, a host other than `localhost` refused).
 *
 * @module
 */

import { assert, assertEquals, assertInstanceOf, assertRejects, assertThrows } from "@std/assert";
import { glob, globSync, IoQueue, walk, type WalkOptions, walkSync } from "../../mod.ts";
import { makeTree, openFds, testBackends } from "../helpers.ts";
import { bytes, createRaw, mkdirRaw } from "../libc.ts";
import { stdWalkAll } from "../std_walk.ts";
import { code, ioqWalk, keys, stdKeys } from "./support.ts";

/** What walk() and walkSync() did with a root, with onError and without. */
interface RootOutcome {
  entries: string[];
  reported: { name: string; code?: string; message: string; path: string }[];
  thrown: Error | undefined;
  thrownSync: Error | undefined;
}

/** Walks `root` every way: walk() with and without onError, walkSync() without. */
async function walkRoot(root: string, options: WalkOptions): Promise<RootOutcome> {
  const out: RootOutcome = { entries: [], reported: [], thrown: undefined, thrownSync: undefined };
  const onError = (error: Error, path: string) =>
    out.reported.push({ name: error.name, code: code(error), message: error.message, path });
  for await (const e of walk(root, { ...options, onError })) out.entries.push(e.path);
  out.thrown = await assertRejects(() => ioqWalk(root, options)) as Error;
  try {
    for (const _ of walkSync(root, options));
  } catch (error) {
    out.thrownSync = error as Error;
  }
  return out;
}

testBackends("roots that cannot be walked: one OS error, with its path", async (backend) => {
  const base = await makeTree(["d/"]);
  try {
    const long = `${base}/${"n".repeat(4990)}`;
    const deepMissing = `${base}/d${"/missing-level".repeat(360)}`;
    const cases: [string, string, string, typeof Deno.errors.NotFound | ErrorConstructor][] = [
      // [root, the path errors name, the errno, the class]
      ["", "", "ENOENT", Deno.errors.NotFound],
      ["/nonexistent", "/nonexistent", "ENOENT", Deno.errors.NotFound],
      [long, long, "ENAMETOOLONG", Error],
      [deepMissing, deepMissing, "ENOENT", Deno.errors.NotFound],
    ];
    assert(long.length > 5000 && deepMissing.length > 5000);
    for (const [root, path, errno, Class] of cases) {
      for (const options of [{}, { stat: true }, { maxDepth: 0 }, { followSymlinks: true }]) {
        const label = `${JSON.stringify(root.slice(0, 40))} ${JSON.stringify(options)}`;
        const got = await walkRoot(root, { ...options, queue: { backend } });
        assertEquals(got.entries, [], label);
        assertEquals(got.reported.length, 1, label);
        const [reported] = got.reported;
        assertEquals([reported.path, reported.code], [path, errno], label);
        // The message names the operation and the path, as Deno's own errors do
        assert(reported.message.endsWith(`: stat '${path}'`), `${label}: ${reported.message}`);
        for (const thrown of [got.thrown, got.thrownSync]) {
          assertInstanceOf(thrown, Class, label);
          assertEquals([code(thrown), thrown.message], [errno, reported.message], label);
        }
      }
    }
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

/** Options of the wrong type, and the name the TypeError must give. */
const BAD_OPTIONS: [string, unknown][] = [
  ["signal", {}],
  ["skip", 5],
  ["exts", [5]],
  ["match", "b"],
  ["match", [{}]],
  ["skip", [5]],
  ["exts", ".ts"],
  ["maxDepth", "3"],
  ["maxDepth", NaN],
  ["includeFiles", 1],
  ["includeDirs", "yes"],
  ["includeSymlinks", null],
  ["followSymlinks", 1],
  ["canonicalize", "no"],
  ["order", "sideways"],
  ["sort", 1],
  ["stat", "true"],
  ["sameFilesystem", 0],
  ["gitignore", {}],
  ["onError", "loudly"],
  ["queue", 5],
  ["queue", [1]],
];

testBackends(
  "options are checked before anything opens: a TypeError naming the option",
  async (backend) => {
    const root = await makeTree(["a/", "a/f"]);
    try {
      // A closed queue of the caller's: any use of it would throw BadResource
      const closed = new IoQueue({ backend });
      closed.close();
      await using open = new IoQueue({ backend, depth: 8 });
      const before = openFds();
      for (const [name, value] of BAD_OPTIONS) {
        const label = `${name}: ${String(value)}`;
        for (const queue of name === "queue" ? [undefined] : [closed, open, { backend }]) {
          const reported: string[] = [];
          const options = {
            onError: (_: Error, path: string) => reported.push(path),
            queue,
            [name]: value,
          } as WalkOptions;
          // A missing root too: an error from opening it would come instead
          for (const r of [root, `${root}/missing`]) {
            const e = await assertRejects(() => walk(r, options).next(), TypeError, name, label);
            assert(e.message.startsWith("Cannot walk: "), e.message);
            assertThrows(() => walkSync(r, options).next(), TypeError, name, label);
          }
          assertEquals(reported, [], `${label}: nothing reported`);
        }
        assertEquals(
          [open.inFlight, open.capacity],
          [0, open.depth],
          `${label}: the queue untouched`,
        );
        assertEquals(openFds(), before, `${label}: nothing opened`);
      }
      assertThrows(
        () => walkSync(root, null as unknown as WalkOptions).next(),
        TypeError,
        "options",
      );
      // The item of an array that is wrong, by its index; what it is, with its article
      const items: [unknown, string][] = [
        [{ exts: [".ts", 5] }, "Cannot walk: exts[1] must be a string, not 5"],
        [{ match: [/a/, {}] }, "Cannot walk: match[1] must be a RegExp or a string, not an object"],
        [{ skip: "b" }, 'Cannot walk: skip must be an array, not "b"'],
        [{ onError: {} }, "Cannot walk: onError must be a function, not an object"],
      ];
      for (const [options, message] of items) {
        assertThrows(() => walkSync(root, options as WalkOptions).next(), TypeError, message);
      }
      // Still usable afterwards
      assertEquals(keys((await ioqWalk(root, { queue: open })).entries), await stdKeys(root));
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

testBackends("match and skip take strings as @std/fs does", async (backend) => {
  const root = await makeTree(["ab/", "ab/c", "b/", "b/d", "e"]);
  try {
    // (typed RegExp[], as @std/fs types them; it calls String.match() with them)
    const cases = [{ match: ["b"] }, { skip: ["b"] }, { match: ["^/"], skip: ["d$"] }];
    for (const options of cases as unknown as WalkOptions[]) {
      const got = await ioqWalk(root, { ...options, queue: { backend } });
      assertEquals(keys(got.entries), await stdKeys(root, options), JSON.stringify(options));
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

testBackends("file: URLs decode alike in walk(), glob() and IoQueue", async (backend) => {
  const root = await makeTree(["pct-100%/", "pct-100%/a", "%41/", "%41/b"]);
  const raw = bytes(root, "/bad-", [0xff]);
  mkdirRaw(raw);
  createRaw(bytes(raw, "/inner"));
  await using q = new IoQueue({ backend });
  const url = (path: string) => new URL(`file://${root}/${path}`);
  try {
    // A stray %: itself, as @std/fs (Deno's file URL decoding) takes it
    const stray = url("pct-100%");
    const std = await stdWalkAll(stray);
    assertEquals(std.thrown, undefined);
    assertEquals(
      keys((await ioqWalk(stray, { queue: { backend } })).entries),
      await stdKeys(stray),
    );
    assertEquals([...walkSync(stray, { queue: { backend } })].map((e) => e.path), [
      `${root}/pct-100%`,
      `${root}/pct-100%/a`,
    ]);
    assertEquals([...globSync(url("pct-100%/*"))].map((e) => e.path), [`${root}/pct-100%/a`]);
    // An escaped % names a literal one
    assertEquals(
      (await ioqWalk(url("%2541"), { queue: { backend } })).entries.map((e) => e.path),
      [`${root}/%41`, `${root}/%41/b`],
    );

    // %FF: the raw byte, in walk() and IoQueue alike
    const ff = url("bad-%FF");
    const { entries } = await ioqWalk(ff, { queue: { backend } });
    assertEquals(entries.map((e) => e.pathBytes), [raw, bytes(raw, "/inner")]);
    assertEquals(entries.map((e) => e.path), [`${root}/bad-\ufffd`, `${root}/bad-\ufffd/inner`]);
    assertEquals([...walkSync(ff, { queue: { backend } })].length, 2);
    q.opendir(ff, 1);
    q.stat(ff, 2);
    for (const done of [...await q.pop(), ...(q.inFlight ? await q.pop() : [])]) {
      if (done.op === "opendir") {
        assert(done.dir, String(done.error));
        assertEquals(done.dir.readAll().map((e) => e.name), ["inner"]);
        done.dir.close();
      } else {
        assert(done.op === "stat" && done.stat?.isDirectory, String(done.error));
      }
    }
    // A glob matches text, which cannot hold the byte: refused, not empty
    for (const pattern of [ff, url("bad-%FF/*")]) {
      await assertRejects(() => glob(pattern).next(), TypeError, "not UTF-8");
      assertThrows(() => globSync(pattern).next(), TypeError, "not UTF-8");
    }

    // localhost is the empty host; any other host is refused everywhere
    const local = new URL(`file://localhost${root}/pct-100%`);
    assertEquals((await ioqWalk(local, { queue: { backend } })).entries.length, 2);
    const remote = new URL(`file://example.com${root}/pct-100%`);
    const refusals: [string, () => unknown][] = [
      ["walk", () => ioqWalk(remote, { queue: { backend } })],
      ["walkSync", () => walkSync(remote).next()],
      ["glob", () => glob(remote).next()],
      ["globSync", () => globSync(remote).next()],
      ["opendir", () => q.opendir(remote, 3)],
      ["stat", () => q.stat(remote, 3)],
    ];
    for (const [what, call] of refusals) {
      const error = await Promise.resolve().then(call).then(() => undefined, (e) => e);
      assertInstanceOf(error, TypeError, what);
      assert(error.message.includes("example.com"), `${what}: ${error.message}`);
    }
    assertEquals(q.inFlight, 0, "nothing submitted");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
