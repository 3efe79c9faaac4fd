/**
 * IoQueue: every op on both backends, errors, cancellation, closing.
 * (Reading a `Dir` is tested in dir_test.ts.)
 *
 * @module
 */

import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "@std/assert";
import { type Dir, type IoqError, IoQueue } from "../mod.ts";
import { drain, inject, makeTree, one, openDir, openFds, testBackends } from "./helpers.ts";
import { bytes, createRaw, fdOpen, mkFifo, mkSocket, openFd, touchAll } from "./libc.ts";

/** Sorted "name:type" strings of a directory as Deno sees it. */
function denoListing(path: string): string[] {
  const out = [];
  for (const e of Deno.readDirSync(path)) {
    const type = e.isDirectory ? "dir" : e.isFile ? "file" : e.isSymlink ? "symlink" : "other";
    out.push(`${e.name}:${type}`);
  }
  return out.sort();
}

testBackends("IoQueue reports its configuration", (backend) => {
  using q = new IoQueue({ backend, depth: 100, threads: 2 });
  assertEquals(q.backend, backend);
  assertEquals(q.depth, 100);
  assertEquals(q.threads, 2);
  assertEquals(q.capacity, 100);
  assertEquals(q.inFlight, 0);
});

testBackends("nop() completes every tag; a full queue throws EAGAIN", async (backend) => {
  using q = new IoQueue({ backend, depth: 64 });
  for (let i = 0; i < 64; i++) q.nop(i + 0.5);
  assertEquals(q.capacity, 0);
  const full = assertThrows(() => q.nop(99), Deno.errors.WouldBlock);
  assertEquals((full as IoqError).code, "EAGAIN");
  const done = await drain(q);
  assertEquals(
    done.map((c) => c.tag).sort((a, b) => a - b),
    [...Array(64).keys()].map((i) => i + 0.5),
  );
  assert(done.every((c) => c.op === "nop" && c.error === undefined));
  assertEquals(q.capacity, 64);
});

testBackends("pop() returns [] when nothing is in flight", async (backend) => {
  using q = new IoQueue({ backend });
  assertEquals(await q.pop(), []);
  assertEquals(q.tryPop(), []);
});

testBackends("opendir() lists a directory like Deno.readDirSync", async (backend) => {
  const root = await makeTree(["a/", "b/c/", "f1", "f2", ".hidden"]);
  Deno.symlinkSync("f1", `${root}/link`);
  try {
    using q = new IoQueue({ backend });
    using dir = await openDir(q, root);
    assertEquals(dir.path, root);
    const got = dir.readAll().map((e) => `${e.name}:${e.type}`).sort();
    assertEquals(got, denoListing(root));
    assertEquals(dir.readAll(), [], "a second read finds the end");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

testBackends("opendir() reports every entry type", async (backend) => {
  const root = await makeTree(["dir/", "file"]);
  Deno.symlinkSync("file", `${root}/symlink`);
  mkFifo(`${root}/fifo`);
  mkSocket(`${root}/socket`);
  try {
    using q = new IoQueue({ backend });
    using dir = await openDir(q, root);
    const types = Object.fromEntries(dir.readAll().map((e) => [e.name, e]));
    assertEquals(types.dir.type, "dir");
    assert(types.dir.isDirectory && !types.dir.isFile && !types.dir.isSymlink);
    assertEquals(types.file.type, "file");
    assert(types.file.isFile);
    assertEquals(types.symlink.type, "symlink");
    assert(types.symlink.isSymlink);
    assertEquals(types.fifo.type, "fifo");
    assertEquals(types.socket.type, "socket");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

testBackends("opendir() accepts URLs and raw bytes, and keeps non-UTF-8 names", async (backend) => {
  const root = await makeTree(["sub dir/", "sub dir/inside"]);
  const raw = bytes(root, "/bad-", [0xff, 0xfe], "-name");
  createRaw(raw);
  try {
    using q = new IoQueue({ backend });
    using viaUrl = await openDir(q, new URL(`file://${root}/sub%20dir`));
    assertEquals(viaUrl.readAll().map((e) => e.name), ["inside"]);

    using viaBytes = await openDir(q, bytes(root));
    const entries = viaBytes.readAll();
    const bad = entries.find((e) => e.nameBytes);
    assert(bad, "the non-UTF-8 name is listed");
    assertEquals(bad.nameBytes, bytes("bad-", [0xff, 0xfe], "-name"));
    assertEquals(bad.name, "bad-\ufffd\ufffd-name");
    assertEquals(entries.filter((e) => e.nameBytes).length, 1);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

testBackends("opendir() relative to an open directory ('at')", async (backend) => {
  const root = await makeTree(["a/b/", "a/b/leaf"]);
  try {
    using q = new IoQueue({ backend });
    using a = await openDir(q, `${root}/a`);
    using b = await openDir(q, "b", a);
    assertEquals(b.path, `${root}/a/b`);
    assertEquals(b.readAll().map((e) => e.name), ["leaf"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

testBackends("opendir() with stat gives the directory's own stat", async (backend) => {
  const root = await makeTree(["x/"]);
  try {
    using q = new IoQueue({ backend });
    q.opendir(`${root}/x`, 7, { stat: true });
    const c = await one(q);
    assert(c.op === "opendir" && c.dir && c.stat);
    c.dir.close();
    const expect = Deno.statSync(`${root}/x`);
    assert(c.stat.isDirectory);
    assertEquals(c.stat.ino, expect.ino);
    assertEquals(c.stat.dev, expect.dev);
    assertEquals(c.tag, 7);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

testBackends("opendir() errors: ENOENT, ENOTDIR, with op and path", async (backend) => {
  const root = await makeTree(["file"]);
  try {
    using q = new IoQueue({ backend });
    q.opendir(`${root}/missing`, 1);
    q.opendir(`${root}/file`, 2);
    q.opendir(`${root}/file/below`, 3);
    const byTag = new Map((await drain(q)).map((c) => [c.tag, c]));

    const missing = byTag.get(1)!.error as Error & { code: string; errno: number; op: string };
    assert(missing instanceof Deno.errors.NotFound);
    assertEquals(missing.code, "ENOENT");
    assertEquals(missing.errno, 2);
    assertEquals(missing.op, "opendir");
    assertMatch(
      missing.message,
      /No such file or directory \(os error 2\): opendir '.*\/missing'/,
    );

    for (const tag of [2, 3]) {
      const e = byTag.get(tag)!.error as Error & { code: string };
      assert(e instanceof Deno.errors.NotADirectory, `tag ${tag}: ${e}`);
      assertEquals(e.code, "ENOTDIR");
    }
    assertEquals(q.capacity, q.depth);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

testBackends("opendir() refuses a path with a NUL byte or a foreign 'at'", async (backend) => {
  using q = new IoQueue({ backend });
  using other = new IoQueue({ backend });
  assertThrows(() => q.opendir("a\0b", 1), TypeError);
  assertThrows(() => q.stat("a\0b", 1), TypeError);
  using dir = await openDir(other, "/");
  assertThrows(() => q.opendir("usr", 1, { at: dir }), TypeError);
  assertThrows(() => q.opendir("", 1), Deno.errors.NotFound);
  assertEquals(q.capacity, q.depth, "refused requests take no capacity");
});

testBackends("stat() follows symlinks or not, and reports errors", async (backend) => {
  const root = await makeTree(["dir/"]);
  Deno.writeTextFileSync(`${root}/file`, "hello");
  Deno.symlinkSync("file", `${root}/link`);
  Deno.symlinkSync("nowhere", `${root}/broken`);
  try {
    using q = new IoQueue({ backend });
    using dir = await openDir(q, root);
    q.stat(`${root}/file`, 1);
    q.stat(`${root}/link`, 2);
    q.stat(`${root}/link`, 3, { followSymlinks: false });
    q.stat("dir", 4, { at: dir });
    q.stat(`${root}/broken`, 5);
    q.stat(`${root}/broken`, 6, { followSymlinks: false });
    q.stat(`${root}/missing`, 7);
    const byTag = new Map((await drain(q)).map((c) => [c.tag, c]));
    const stat = (tag: number) => {
      const c = byTag.get(tag)!;
      assert(c.op === "stat");
      if (!c.stat) throw c.error;
      return c.stat;
    };

    const file = stat(1);
    const expect = Deno.statSync(`${root}/file`);
    assert(file.isFile);
    assertEquals(file.size, 5);
    assertEquals(file.ino, expect.ino);
    assertEquals(file.dev, expect.dev);
    assertEquals(file.mode, expect.mode);
    assertEquals(file.nlink, expect.nlink);
    assertEquals(file.uid, expect.uid);
    assertEquals(file.mtime?.getTime(), expect.mtime?.getTime());
    assert(stat(2).isFile, "followed");
    assert(stat(3).isSymlink, "not followed");
    assert(stat(4).isDirectory, "relative to 'at'");
    assert(byTag.get(5)!.error instanceof Deno.errors.NotFound, "broken link, followed");
    assert(stat(6).isSymlink, "broken link, not followed");
    const missing = byTag.get(7)!.error as Error & { code: string };
    assert(missing instanceof Deno.errors.NotFound);
    assertMatch(missing.message, /stat '.*\/missing'/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

testBackends("closedir() closes through the queue; the Dir is closed at once", async (backend) => {
  using q = new IoQueue({ backend });
  const dir = await openDir(q, "/");
  const fd = dir.fd;
  assert(fdOpen(fd));
  q.closedir(dir, 5);
  assert(dir.closed);
  assertThrows(() => dir.readBatch(), Deno.errors.BadResource);
  assertThrows(() => q.closedir(dir, 6), Deno.errors.BadResource);
  const c = await one(q);
  assertEquals(c, { op: "closedir", tag: 5 });
  assert(!fdOpen(fd), "its descriptor is closed");
  dir.close(); // idempotent
});

testBackends(
  "a directory used as 'at' cannot be closed until the request completes",
  async (backend) => {
    const root = await makeTree(["sub/"]);
    try {
      using q = new IoQueue({ backend });
      using at = await openDir(q, root);
      q.stat("sub", 1, { at });
      assertThrows(() => q.closedir(at, 2), Deno.errors.Busy);
      assertThrows(() => at.close(), Deno.errors.Busy);
      const c = await one(q);
      assert(c.op === "stat" && c.stat?.isDirectory);
      q.closedir(at, 3);
      assertEquals((await one(q)).op, "closedir");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

testBackends(
  "close(fd) closes a descriptor on a worker; a bad fd reports EBADF",
  async (backend) => {
    const root = await makeTree(["file"]);
    using q = new IoQueue({ backend });
    const fd = openFd(`${root}/file`);
    await Deno.remove(root, { recursive: true });
    assert(fdOpen(fd));
    q.close(fd, 1);
    assertEquals(await one(q), { op: "close", tag: 1 });
    assert(!fdOpen(fd));

    q.close(1_000_000, 2);
    const bad = await one(q);
    assert(bad.error instanceof Deno.errors.BadResource);
    assertEquals((bad.error as Error & { code: string }).code, "EBADF");
    assertThrows(() => q.close(-1, 3), RangeError);
    assertThrows(() => q.close(1.5, 3), RangeError);
  },
);

testBackends("cancel(): queued requests end with EINTR, closes still run", async (backend) => {
  // A directory bigger than one read, opened 400 times: the cancel finds
  // most of those opens still queued
  const root = await makeTree(["big/"]);
  touchAll(`${root}/big`, Array.from({ length: 2000 }, (_, i) => `file-${i}`));
  const before = openFds();
  const q = new IoQueue({ backend, depth: 512 });
  const dirs: Dir[] = [];
  for (let i = 0; i < 20; i++) dirs.push(await openDir(q, root));
  for (let i = 0; i < 400; i++) q.opendir(`${root}/big`, i);
  q.cancel();
  for (const d of dirs.slice(0, 10)) q.closedir(d, -1);
  const refused = assertThrows(() => q.opendir(root, 1), Deno.errors.Interrupted);
  assertEquals((refused as IoqError).code, "EINTR");
  assertThrows(() => q.nop(1), Deno.errors.Interrupted);

  const done = await drain(q);
  assertEquals(done.length, 410);
  let interrupted = 0;
  for (const c of done) {
    if (c.op === "closedir") {
      assertEquals(c.error, undefined);
    } else if (c.error) {
      assert(c.error instanceof Deno.errors.Interrupted, String(c.error));
      interrupted++;
    } else {
      assert(c.op === "opendir" && c.dir);
      c.dir.close();
    }
  }
  assert(interrupted > 0, "some requests were interrupted");
  q.close();
  assertEquals(openFds(), before);
  await Deno.remove(root, { recursive: true });
});

testBackends("cancel() wakes a pending pop() before its request completes", async (backend) => {
  using q = new IoQueue({ backend });
  inject("stall", -300, 1);
  try {
    q.nop(1);
    const pending = q.pop();
    q.cancel();
    assertEquals(await pending, []);
    assertEquals(q.inFlight, 1, "the stalled NOP was still running");
    const [done] = await drain(q);
    assertEquals(done, { op: "nop", tag: 1 }, "a running NOP is not interrupted");
  } finally {
    inject("stall", 0, 0);
  }
});

testBackends("close() resolves a pending pop() with []", async (backend) => {
  const q = new IoQueue({ backend });
  inject("stall", -200, 1);
  try {
    q.nop(1);
    const pending = q.pop();
    q.close();
    assertEquals(await pending, []);
  } finally {
    inject("stall", 0, 0);
  }
});

testBackends("close() closes every directory, popped or not", async (backend) => {
  const root = await makeTree(["a/", "b/"]);
  try {
    const before = openFds();
    const q = new IoQueue({ backend });
    const dir = await openDir(q, root);
    for (let i = 0; i < 50; i++) q.opendir(`${root}/${i % 2 ? "a" : "b"}`, i);
    q.close();
    assert(dir.closed);
    assertEquals(openFds(), before);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

testBackends(
  "every use after close() throws BadResource; close() is idempotent",
  async (backend) => {
    const q = new IoQueue({ backend });
    const dir = await openDir(q, "/");
    await q[Symbol.asyncDispose]();
    q.close();
    q[Symbol.dispose]();
    assert(q.closed);
    const calls: [string, () => unknown][] = [
      ["nop", () => q.nop(1)],
      ["opendir", () => q.opendir("/", 1)],
      ["stat", () => q.stat("/", 1)],
      ["close(fd)", () => q.close(0, 1)],
      ["closedir", () => q.closedir(dir, 1)],
      ["tryPop", () => q.tryPop()],
      ["cancel", () => q.cancel()],
      ["capacity", () => q.capacity],
      ["inFlight", () => q.inFlight],
      ["dir.readBatch", () => dir.readBatch()],
      ["dir.fd", () => dir.fd],
    ];
    for (const [name, call] of calls) {
      assertThrows(call, Deno.errors.BadResource, undefined, name);
    }
    await assertRejects(() => q.pop(), Deno.errors.BadResource);
    assert(dir.closed);
    dir.close(); // a no-op: the queue closed it
  },
);

testBackends("concurrent pop() calls share one wait and lose nothing", async (backend) => {
  using q = new IoQueue({ backend });
  for (let i = 0; i < 100; i++) q.stat("/", i);
  const results = await Promise.all([q.pop(), q.pop(), q.pop()]);
  const rest = await drain(q);
  const tags = [...results.flat(), ...rest].map((c) => c.tag).sort((a, b) => a - b);
  assertEquals(tags, [...Array(100).keys()]);
});

Deno.test("IoQueue rejects bad options", () => {
  assertThrows(() => new IoQueue({ depth: 0 }), RangeError);
  assertThrows(() => new IoQueue({ depth: 2 ** 31 }), RangeError);
  assertThrows(() => new IoQueue({ depth: 1.5 }), RangeError);
  assertThrows(() => new IoQueue({ threads: 0 }), RangeError);
  assertThrows(() => new IoQueue({ threads: 10_000 }), RangeError);
  // deno-lint-ignore no-explicit-any
  assertThrows(() => new IoQueue({ backend: "fast" as any }), TypeError);
});

Deno.test("ioq_fd_reserve() grows the descriptor table up front", async () => {
  // In a fresh process: this one's table has grown with the tests before
  const script = `
    import { ffi } from ${JSON.stringify(new URL("../lib/ffi.ts", import.meta.url).href)};
    const fdSize = () => Number(Deno.readTextFileSync("/proc/self/status").match(/FDSize:\\s+(\\d+)/)[1]);
    const before = fdSize();
    const open = [...Deno.readDirSync("/proc/self/fd")].length;
    const first = ffi().ioq_fd_reserve(before + 1000 - open);
    const after = fdSize();
    const second = ffi().ioq_fd_reserve(10);
    console.log(JSON.stringify({ before, after, first, second }));
  `;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(code, 0, new TextDecoder().decode(stderr));
  const { before, after, first, second } = JSON.parse(new TextDecoder().decode(stdout));
  assertEquals(first, 0);
  assert(after >= before + 1000, `FDSize ${before} -> ${after}`);
  assertEquals(second, 0, "a second call finds the room already there");
});
