/**
 * IoQueue: every op on both backends, errors, cancellation, closing.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Completion, type Dir, IoQueue } from "../mod.ts";
import { drain, inject, makeTree, openFds, testBackends } from "./helpers.ts";
import { bytes, createRaw, fdOpen, mkdirRaw, mkSocket, openFd, touchAll } from "./libc.ts";

/** The single completion of a queue that has one request in flight. */
async function one(q: IoQueue): Promise<Completion> {
  const all = await drain(q);
  assert.equal(all.length, 1, `expected one completion, got ${all.length}`);
  return all[0];
}

/** Opens a directory through the queue and returns it (throws its error). */
async function openDir(q: IoQueue, path: string | URL | Uint8Array, at?: Dir): Promise<Dir> {
  q.opendir(path, 0, { at });
  const c = await one(q);
  assert.equal(c.op, "opendir");
  if (c.op !== "opendir" || !c.dir) throw c.error;
  return c.dir;
}

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
  assert.equal(q.backend, backend);
  assert.equal(q.depth, 100);
  assert.equal(q.threads, 2);
  assert.equal(q.capacity, 100);
  assert.equal(q.inFlight, 0);
});

testBackends("nop() completes every tag; a full queue throws EAGAIN", async (backend) => {
  using q = new IoQueue({ backend, depth: 64 });
  for (let i = 0; i < 64; i++) q.nop(i + 0.5);
  assert.equal(q.capacity, 0);
  assert.throws(() => q.nop(99), (e: Error & { code?: string }) => {
    assert.ok(e instanceof Deno.errors.WouldBlock);
    assert.equal(e.code, "EAGAIN");
    return true;
  });
  const done = await drain(q);
  assert.deepEqual(
    done.map((c) => c.tag).sort((a, b) => a - b),
    [...Array(64).keys()].map((i) => i + 0.5),
  );
  assert.ok(done.every((c) => c.op === "nop" && c.error === undefined));
  assert.equal(q.capacity, 64);
});

testBackends("pop() returns [] when nothing is in flight", async (backend) => {
  using q = new IoQueue({ backend });
  assert.deepEqual(await q.pop(), []);
  assert.deepEqual(q.tryPop(), []);
});

testBackends("opendir() lists a directory like Deno.readDirSync", async (backend) => {
  const root = await makeTree(["a/", "b/c/", "f1", "f2", ".hidden"]);
  Deno.symlinkSync("f1", `${root}/link`);
  try {
    using q = new IoQueue({ backend });
    using dir = await openDir(q, root);
    assert.equal(dir.path, root);
    const got = dir.readAll().map((e) => `${e.name}:${e.type}`).sort();
    assert.deepEqual(got, denoListing(root));
    assert.deepEqual(dir.readAll(), [], "a second read finds the end");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

testBackends("opendir() reports every entry type", async (backend) => {
  const root = await makeTree(["dir/", "file"]);
  Deno.symlinkSync("file", `${root}/symlink`);
  await new Deno.Command("mkfifo", { args: [`${root}/fifo`] }).output();
  mkSocket(`${root}/socket`);
  try {
    using q = new IoQueue({ backend });
    using dir = await openDir(q, root);
    const types = Object.fromEntries(dir.readAll().map((e) => [e.name, e]));
    assert.equal(types.dir.type, "dir");
    assert.ok(types.dir.isDirectory && !types.dir.isFile && !types.dir.isSymlink);
    assert.equal(types.file.type, "file");
    assert.ok(types.file.isFile);
    assert.equal(types.symlink.type, "symlink");
    assert.ok(types.symlink.isSymlink);
    assert.equal(types.fifo.type, "fifo");
    assert.equal(types.socket.type, "socket");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

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
      assert.ok(!last, "no batch after one marked last");
      batches++;
      last = b.last;
      for (const name of b.names) names.add(name);
    }
    assert.ok(batches > 1, `expected several batches, got ${batches}`);
    assert.equal(names.size, 20000);
    for (let i = 0; i < 20000; i++) assert.ok(names.has(`${long}-${i}`));
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
    assert.deepEqual(viaUrl.readAll().map((e) => e.name), ["inside"]);

    using viaBytes = await openDir(q, bytes(root));
    const entries = viaBytes.readAll();
    const bad = entries.find((e) => e.nameBytes);
    assert.ok(bad, "the non-UTF-8 name is listed");
    assert.deepEqual(bad.nameBytes, bytes("bad-", [0xff, 0xfe], "-name"));
    assert.equal(bad.name, "bad-\ufffd\ufffd-name");
    assert.equal(entries.filter((e) => e.nameBytes).length, 1);
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
    assert.equal(b.path, `${root}/a/b`);
    assert.deepEqual(b.readAll().map((e) => e.name), ["leaf"]);
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
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    try {
      using q = new IoQueue({ backend });
      using a = await openDir(q, `${root}/a`);
      assert.equal(text(a.realPath("to-leaf")), `${root}/a/b/leaf`);
      assert.equal(text(a.realPath("up")), `${root}/a/b`);
      assert.equal(text(a.realPath(".")), `${root}/a`);
      assert.equal(text(a.realPath("..")), root);
      assert.deepEqual(a.realPath("to-bad"), raw);
      assert.deepEqual(a.realPath(bytes("bad-", [0xfe])), raw);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

testBackends("opendir() with stat gives the directory's own stat", async (backend) => {
  const root = await makeTree(["x/"]);
  try {
    using q = new IoQueue({ backend });
    q.opendir(`${root}/x`, 7, { stat: true });
    const c = await one(q);
    assert.ok(c.op === "opendir" && c.dir && c.stat);
    c.dir.close();
    const expect = Deno.statSync(`${root}/x`);
    assert.ok(c.stat.isDirectory);
    assert.equal(c.stat.ino, expect.ino);
    assert.equal(c.stat.dev, expect.dev);
    assert.equal(c.tag, 7);
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
    assert.ok(missing instanceof Deno.errors.NotFound);
    assert.equal(missing.code, "ENOENT");
    assert.equal(missing.errno, 2);
    assert.equal(missing.op, "opendir");
    assert.match(
      missing.message,
      /No such file or directory \(os error 2\): opendir '.*\/missing'/,
    );

    for (const tag of [2, 3]) {
      const e = byTag.get(tag)!.error as Error & { code: string };
      assert.ok(e instanceof Deno.errors.NotADirectory, `tag ${tag}: ${e}`);
      assert.equal(e.code, "ENOTDIR");
    }
    assert.equal(q.capacity, q.depth);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

testBackends("opendir() refuses a path with a NUL byte or a foreign 'at'", async (backend) => {
  using q = new IoQueue({ backend });
  using other = new IoQueue({ backend });
  assert.throws(() => q.opendir("a\0b", 1), TypeError);
  assert.throws(() => q.stat("a\0b", 1), TypeError);
  using dir = await openDir(other, "/");
  assert.throws(() => q.opendir("usr", 1, { at: dir }), TypeError);
  assert.throws(() => q.opendir("", 1), Deno.errors.NotFound);
  assert.equal(q.capacity, q.depth, "refused requests take no capacity");
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
      assert.ok(c.op === "stat");
      if (!c.stat) throw c.error;
      return c.stat;
    };

    const file = stat(1);
    const expect = Deno.statSync(`${root}/file`);
    assert.ok(file.isFile);
    assert.equal(file.size, 5);
    assert.equal(file.ino, expect.ino);
    assert.equal(file.dev, expect.dev);
    assert.equal(file.mode, expect.mode);
    assert.equal(file.nlink, expect.nlink);
    assert.equal(file.uid, expect.uid);
    assert.equal(file.mtime?.getTime(), expect.mtime?.getTime());
    assert.ok(stat(2).isFile, "followed");
    assert.ok(stat(3).isSymlink, "not followed");
    assert.ok(stat(4).isDirectory, "relative to 'at'");
    assert.ok(byTag.get(5)!.error instanceof Deno.errors.NotFound, "broken link, followed");
    assert.ok(stat(6).isSymlink, "broken link, not followed");
    const missing = byTag.get(7)!.error as Error & { code: string };
    assert.ok(missing instanceof Deno.errors.NotFound);
    assert.match(missing.message, /stat '.*\/missing'/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

testBackends("closedir() closes through the queue; the Dir is closed at once", async (backend) => {
  using q = new IoQueue({ backend });
  const dir = await openDir(q, "/");
  const fd = dir.fd;
  assert.ok(fdOpen(fd));
  q.closedir(dir, 5);
  assert.ok(dir.closed);
  assert.throws(() => dir.readBatch(), Deno.errors.BadResource);
  assert.throws(() => q.closedir(dir, 6), Deno.errors.BadResource);
  const c = await one(q);
  assert.deepEqual(c, { op: "closedir", tag: 5 });
  assert.ok(!fdOpen(fd), "its descriptor is closed");
  dir.close(); // idempotent
});

testBackends(
  "a directory used as 'at' cannot be closed until the request completes",
  async (backend) => {
    using q = new IoQueue({ backend });
    using usr = await openDir(q, "/usr");
    q.stat("bin", 1, { at: usr });
    assert.throws(() => q.closedir(usr, 2), Deno.errors.Busy);
    assert.throws(() => usr.close(), Deno.errors.Busy);
    const c = await one(q);
    assert.ok(c.op === "stat" && c.stat?.isDirectory);
    q.closedir(usr, 3);
    assert.equal((await one(q)).op, "closedir");
  },
);

testBackends(
  "close(fd) closes a descriptor on a worker; a bad fd reports EBADF",
  async (backend) => {
    using q = new IoQueue({ backend });
    const fd = openFd("/etc/hostname");
    assert.ok(fdOpen(fd));
    q.close(fd, 1);
    assert.deepEqual(await one(q), { op: "close", tag: 1 });
    assert.ok(!fdOpen(fd));

    q.close(1_000_000, 2);
    const bad = await one(q);
    assert.ok(bad.error instanceof Deno.errors.BadResource);
    assert.equal((bad.error as Error & { code: string }).code, "EBADF");
    assert.throws(() => q.close(-1, 3), RangeError);
    assert.throws(() => q.close(1.5, 3), RangeError);
  },
);

testBackends("cancel(): queued requests end with EINTR, closes still run", async (backend) => {
  const before = openFds();
  const q = new IoQueue({ backend, depth: 512 });
  const dirs: Dir[] = [];
  for (let i = 0; i < 20; i++) dirs.push(await openDir(q, "/usr"));
  for (let i = 0; i < 400; i++) q.opendir("/usr/lib", i);
  q.cancel();
  for (const d of dirs.slice(0, 10)) q.closedir(d, -1);
  assert.throws(() => q.opendir("/", 1), (e: Error & { code?: string }) => {
    assert.ok(e instanceof Deno.errors.Interrupted);
    assert.equal(e.code, "EINTR");
    return true;
  });
  assert.throws(() => q.nop(1), Deno.errors.Interrupted);

  const done = await drain(q);
  assert.equal(done.length, 410);
  let interrupted = 0;
  for (const c of done) {
    if (c.op === "closedir") {
      assert.equal(c.error, undefined);
    } else if (c.error) {
      assert.ok(c.error instanceof Deno.errors.Interrupted, String(c.error));
      interrupted++;
    } else {
      assert.ok(c.op === "opendir" && c.dir);
      c.dir.close();
    }
  }
  assert.ok(interrupted > 0, "some requests were interrupted");
  q.close();
  assert.equal(openFds(), before);
});

testBackends("cancel() wakes a pending pop() before its request completes", async (backend) => {
  using q = new IoQueue({ backend });
  inject("stall", -300, 1);
  try {
    q.nop(1);
    const pending = q.pop();
    q.cancel();
    assert.deepEqual(await pending, []);
    assert.equal(q.inFlight, 1, "the stalled NOP was still running");
    const [done] = await drain(q);
    assert.deepEqual(done, { op: "nop", tag: 1 }, "a running NOP is not interrupted");
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
    assert.deepEqual(await pending, []);
  } finally {
    inject("stall", 0, 0);
  }
});

testBackends("close() closes every directory, popped or not", async (backend) => {
  const before = openFds();
  const q = new IoQueue({ backend });
  const dir = await openDir(q, "/usr");
  for (let i = 0; i < 50; i++) q.opendir("/usr", i);
  q.close();
  assert.ok(dir.closed);
  assert.equal(openFds(), before);
});

testBackends(
  "every use after close() throws BadResource; close() is idempotent",
  async (backend) => {
    const q = new IoQueue({ backend });
    const dir = await openDir(q, "/");
    await q[Symbol.asyncDispose]();
    q.close();
    q[Symbol.dispose]();
    assert.ok(q.closed);
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
      assert.throws(call, Deno.errors.BadResource, name);
    }
    await assert.rejects(q.pop(), Deno.errors.BadResource);
    assert.ok(dir.closed);
    dir.close(); // a no-op: the queue closed it
  },
);

testBackends("concurrent pop() calls share one wait and lose nothing", async (backend) => {
  using q = new IoQueue({ backend });
  for (let i = 0; i < 100; i++) q.stat("/", i);
  const results = await Promise.all([q.pop(), q.pop(), q.pop()]);
  const rest = await drain(q);
  const tags = [...results.flat(), ...rest].map((c) => c.tag).sort((a, b) => a - b);
  assert.deepEqual(tags, [...Array(100).keys()]);
});

Deno.test("IoQueue rejects bad options", () => {
  assert.throws(() => new IoQueue({ depth: 0 }), RangeError);
  assert.throws(() => new IoQueue({ depth: 2 ** 31 }), RangeError);
  assert.throws(() => new IoQueue({ depth: 1.5 }), RangeError);
  assert.throws(() => new IoQueue({ threads: 0 }), RangeError);
  assert.throws(() => new IoQueue({ threads: 10_000 }), RangeError);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => new IoQueue({ backend: "fast" as any }), TypeError);
});

testBackends("Dir.readPaths() writes each entry as prefix + name + end byte", async (backend) => {
  const root = await makeTree(["sub/", "a.txt", "with space"]);
  createRaw(bytes(root, "/raw-", [0xfe]));
  try {
    using q = new IoQueue({ backend });
    using dir = await openDir(q, root);
    const prefix = new TextEncoder().encode("PRE/");
    const batch = dir.readPaths(prefix, 0x0a)!;
    assert.equal(batch.count, 4);
    assert.equal(batch.prefixLength, 4);
    assert.equal(batch.last, true, "a small directory is read whole when opened");
    const records: string[] = [];
    for (let i = 0; i < batch.count; i++) {
      const start = batch.offset(i);
      const record = batch.records.subarray(start, start + 4 + batch.nameLength(i) + 1);
      assert.deepEqual(record.subarray(0, 4), prefix);
      assert.equal(record.at(-1), 0x0a);
      assert.deepEqual(record.subarray(4, -1), batch.bytes(i));
      records.push(`${batch.name(i)}:${batch.type(i)}:${batch.isUtf8(i)}`);
    }
    assert.equal(
      batch.offset(batch.count - 1) + 4 + batch.nameLength(batch.count - 1) + 1,
      batch.records.length,
    );
    assert.deepEqual(records.sort(), [
      "a.txt:8:true",
      "raw-\ufffd:8:false",
      "sub:4:true",
      "with space:8:true",
    ]);
    assert.deepEqual([...batch.names].sort(), ["a.txt", "raw-\ufffd", "sub", "with space"]);
    assert.equal(dir.readPaths(prefix, 0x0a), null);
    assert.throws(() => dir.readPaths(prefix, 256), RangeError);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
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
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const { before, after, first, second } = JSON.parse(new TextDecoder().decode(stdout));
  assert.equal(first, 0);
  assert.ok(after >= before + 1000, `FDSize ${before} -> ${after}`);
  assert.equal(second, 0, "a second call finds the room already there");
});
