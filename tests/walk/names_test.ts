/**
 * walk() and names: odd names (newlines, quotes, globs, dashes, non-ASCII)
 * compared with `@std/fs` `walk`; names that are not UTF-8, given as raw
 * bytes (`nameBytes`, `pathBytes`) and descended into; links in and into
 * such directories, followed as found and canonicalized.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import { makeTree, testBackends } from "../helpers.ts";
import { bytes, createRaw, mkdirRaw } from "../libc.ts";
import {
  checkOrder,
  expectStd,
  flags,
  ioqWalk,
  keys,
  ORDERS,
  rawLinkTree,
  rawLinkTreeWithWayOut,
  withCwd,
} from "./support.ts";

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
        const { entries } = await expectStd(root, {}, backend, order);
        checkOrder(entries, order);
        assertEquals(entries.length, 1 + ODD_NAMES.length + 3 * (ODD_NAMES.length + 4));
        assert(entries.every((e) => !e.nameBytes && !e.pathBytes), "all names are UTF-8");
        await expectStd(root, { followSymlinks: true }, backend, order);
        // The only links lead to files: followed as found, each is yielded as
        // when not followed (std would canonicalize them, below the first level)
        const found = await ioqWalk(root, {
          followSymlinks: true,
          canonicalize: false,
          order,
          queue: { backend },
        });
        assertEquals(keys(found.entries), keys(entries));
        await expectStd(root, { match: [/\n/], skip: [/\*/] }, backend, order);
        await withCwd(`${root}/-dir`, () => expectStd(".", {}, backend, order));
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
            assertEquals(entries.length, expected.length + 1);
            assertEquals(entries[0].path, root);
            for (const [rel, isDir, rawName] of expected) {
              const path = `${root}/${decoder.decode(rel)}`;
              const matching = entries.filter((e) => e.path === path);
              assertEquals(matching.length, 1, `${JSON.stringify(path)} yielded once`);
              const e = matching[0];
              assertEquals(e.isDirectory, isDir, path);
              assertEquals(e.isFile, !isDir, path);
              assertEquals(e.depth, rel.filter((b) => b === 0x2f).length + 1, path);
              const name = rel.slice(rel.lastIndexOf(0x2f) + 1);
              assertEquals(e.name, decoder.decode(name));
              if (rawName) assertEquals(e.nameBytes, name, `${path}: nameBytes`);
              else assertEquals(e.nameBytes, undefined, `${path}: no nameBytes`);
              const raw = rel.some((b) => b >= 0x80) && decoder.decode(rel).includes("\ufffd");
              if (raw) assertEquals(e.pathBytes, bytes(root, "/", rel), `${path}: pathBytes`);
              else assertEquals(e.pathBytes, undefined, `${path}: no pathBytes`);
              if (stat) {
                assert(e.stat, `${path}: stat`);
                assertEquals(e.stat.isDirectory, isDir);
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
          assertEquals(got.errors, []);
          assertEquals(
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

// canonicalize resolves each followed link as bytes, relative to the
// directory that holds it (Dir.realPath): a link inside a non-UTF-8
// directory, or into one, is neither looked up by its lossy (U+FFFD) path
// nor lost
testBackends(
  "walk() canonicalizes links in and into non-UTF-8 directories",
  async (backend) => {
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
        assertEquals(got.errors, [], "every link resolved");
        assertEquals(
          got.entries.map((e) => key([e.path, e.name, e.pathBytes, e.nameBytes])).sort(),
          want.map(key).sort(),
        );
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);
