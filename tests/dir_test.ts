/**
 * Dir: reading an open directory in batches (`readBatch`, `readPaths`) and
 * one entry at a time (iteration), resolving paths relative to it
 * (`realPath`), on both backends.
 *
 * @module
 */

import { assert, assertEquals, assertThrows } from "@std/assert";
import { type DirEntry, IoQueue } from "../mod.ts";
import { fastTempDir, makeTree, openDir, testBackends } from "./helpers.ts";
import { bytes, createRaw, mkdirRaw, mkFifo, mkSocket, touchAll } from "./libc.ts";

testBackends("opendir() reads a 20,000-entry directory in several batches", async (backend) => {
  const root = await Deno.makeTempDir({ prefix: "ioq-test-" });
  const long = "x".repeat(100);
  touchAll(root, Array.from({ length: 20000 }, (_, i) => `${long}-${i}`));
  try {
    using q = new IoQueue({ backend });
    using dir = await openDir(q, root);
    let batches = 0;
    let last = false;
    const names = new Set<string>();
    for (let b = dir.readBatch(); b; b = dir.readBatch()) {
      assert(!last, "no batch after one marked last");
      batches++;
      last = b.last;
      for (const name of b.names) names.add(name);
    }
    assert(batches > 1, `expected several batches, got ${batches}`);
    assertEquals(names.size, 20000);
    for (let i = 0; i < 20000; i++) assert(names.has(`${long}-${i}`));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

testBackends(
  "iterating a Dir gives each entry once with its type, across batches and breaks",
  async (backend) => {
    // Two directories of several batches each: a/ of files (and one of
    // every other kind), b/ of symlinks; on tmpfs where there is one
    const root = fastTempDir();
    Deno.mkdirSync(`${root}/a/sub`, { recursive: true });
    Deno.mkdirSync(`${root}/b`);
    const files = Array.from({ length: 3000 }, (_, i) => `file-${"x".repeat(40)}-${i}`);
    touchAll(`${root}/a`, files);
    Deno.symlinkSync("sub", `${root}/a/link`);
    mkFifo(`${root}/a/fifo`);
    mkSocket(`${root}/a/socket`);
    createRaw(bytes(root, "/a/raw-", [0xff]));
    const links = Array.from({ length: 2000 }, (_, i) => `link-${i}`);
    for (const name of links) Deno.symlinkSync("nowhere", `${root}/b/${name}`);
    try {
      using q = new IoQueue({ backend });
      const want = [
        ...files.map((name) => `${name}:file`),
        "sub:dir",
        "link:symlink",
        "fifo:fifo",
        "socket:socket",
        "raw-\ufffd:file",
      ].sort();
      const key = (e: DirEntry) => `${e.name}:${e.type}`;

      // Left twice part way (in the middle of a batch): nothing is lost or repeated
      using a = await openDir(q, `${root}/a`);
      const got: DirEntry[] = [];
      for (const stop of [100, 2500]) {
        for (const e of a) {
          got.push(e);
          if (got.length === stop) break;
        }
        assertEquals(got.length, stop);
      }
      got.push(...a);
      assertEquals(got.map(key).sort(), want);
      assertEquals([...a], [], "at the end, an iteration gives nothing");
      assertEquals(a.readAll(), []);
      for (const e of got) {
        assertEquals(
          [e.isFile, e.isDirectory, e.isSymlink],
          [e.type === "file", e.type === "dir", e.type === "symlink"],
          e.name,
        );
      }
      const raw = got.filter((e) => e.nameBytes);
      assertEquals(raw.map((e) => [e.name, e.nameBytes]), [["raw-\ufffd", bytes("raw-", [0xff])]]);

      // Two iterations of the queue's directories, step by step in turn
      using a2 = await openDir(q, `${root}/a`);
      using b = await openDir(q, `${root}/b`);
      const inB = b[Symbol.iterator]();
      const fromA: string[] = [];
      const fromB: string[] = [];
      for (const e of a2) {
        fromA.push(key(e));
        const next = inB.next();
        if (!next.done) fromB.push(key(next.value));
      }
      for (const e of b) fromB.push(key(e));
      assertEquals(fromA.sort(), want);
      assertEquals(fromB.sort(), links.map((name) => `${name}:symlink`).sort());

      // Closed: an iteration throws
      a.close();
      assertThrows(() => [...a], Deno.errors.BadResource);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

testBackends("Dir.readPaths() writes each entry as prefix + name + end byte", async (backend) => {
  const root = await makeTree(["sub/", "a.txt", "with space"]);
  createRaw(bytes(root, "/raw-", [0xfe]));
  try {
    using q = new IoQueue({ backend });
    using dir = await openDir(q, root);
    const prefix = new TextEncoder().encode("PRE/");
    const batch = dir.readPaths(prefix, 0x0a)!;
    assertEquals(batch.count, 4);
    assertEquals(batch.prefixLength, 4);
    assertEquals(batch.last, true, "a small directory is read whole when opened");
    const records: string[] = [];
    for (let i = 0; i < batch.count; i++) {
      const start = batch.offset(i);
      const record = batch.records.subarray(start, start + 4 + batch.nameLength(i) + 1);
      assertEquals(record.subarray(0, 4), prefix);
      assertEquals(record.at(-1), 0x0a);
      assertEquals(record.subarray(4, -1), batch.bytes(i));
      records.push(`${batch.name(i)}:${batch.type(i)}:${batch.isUtf8(i)}`);
    }
    assertEquals(
      batch.offset(batch.count - 1) + 4 + batch.nameLength(batch.count - 1) + 1,
      batch.records.length,
    );
    assertEquals(records.sort(), [
      "a.txt:8:true",
      "raw-\ufffd:8:false",
      "sub:4:true",
      "with space:8:true",
    ]);
    assertEquals([...batch.names].sort(), ["a.txt", "raw-\ufffd", "sub", "with space"]);
    assertEquals(dir.readPaths(prefix, 0x0a), null);
    assertThrows(() => dir.readPaths(prefix, 256), RangeError);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

testBackends(
  "dir.realPath() resolves links relative to the directory, as bytes",
  async (backend) => {
    const root = await makeTree(["a/b/", "a/b/leaf"]);
    const raw = bytes(root, "/a/bad-", [0xfe]);
    mkdirRaw(raw);
    const script =
      `cd "$1/a" && ln -s b/leaf to-leaf && ln -s ../a/b up && ln -s $'bad-\\xfe' to-bad`;
    const out = await new Deno.Command("bash", { args: ["-c", script, "bash", root] }).output();
    assert(out.success, new TextDecoder().decode(out.stderr));
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    try {
      using q = new IoQueue({ backend });
      using a = await openDir(q, `${root}/a`);
      assertEquals(text(a.realPath("to-leaf")), `${root}/a/b/leaf`);
      assertEquals(text(a.realPath("up")), `${root}/a/b`);
      assertEquals(text(a.realPath(".")), `${root}/a`);
      assertEquals(text(a.realPath("..")), root);
      assertEquals(a.realPath("to-bad"), raw);
      assertEquals(a.realPath(bytes("bad-", [0xfe])), raw);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);
