/**
 * Hostile trees: one directory of 1,000,000 entries, a chain 2,000 levels
 * deep (paths over 100 KB), names of 255 bytes (ASCII, multi-byte UTF-8,
 * invalid UTF-8) nested past PATH_MAX, and a tree changed by another process
 * while it is walked.  Nothing may crash; errors come with their path and a
 * code; every entry that existed for the whole walk and was not moved is
 * yielded exactly once.
 *
 * Trees go under /dev/shm (tmpfs) where there is one; the million entries
 * on a private tmpfs when the process may mount one (root), so that removing
 * them is one umount.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import { walk, type WalkEntry } from "../mod.ts";
import { BACKENDS, openFds, testSeed } from "./helpers.ts";
import { fixture } from "./child.ts";

const ORDERS = ["bfs", "dfs"] as const;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const libc = Deno.dlopen("libc.so.6", {
  open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  openat: { parameters: ["i32", "buffer", "i32", "i32"], result: "i32" },
  mkdirat: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  mknodat: { parameters: ["i32", "buffer", "u32", "u64"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
});

const O_RDONLY_DIRECTORY = 0o200000;
const S_IFREG = 0o100000;

/** NUL-terminated bytes. */
function cstr(path: string | Uint8Array): Uint8Array {
  const bytes = typeof path === "string" ? encoder.encode(path) : path;
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** Concatenates byte arrays and strings. */
function cat(...parts: (string | Uint8Array | number[])[]): Uint8Array {
  const arrays = parts.map((p) =>
    typeof p === "string" ? encoder.encode(p) : p instanceof Uint8Array ? p : new Uint8Array(p)
  );
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

/** Opens a directory (path from the cwd, or a name relative to `at`). */
function openDir(path: string | Uint8Array, at?: number): number {
  const fd = at === undefined
    ? libc.symbols.open(cstr(path), O_RDONLY_DIRECTORY, 0)
    : libc.symbols.openat(at, cstr(path), O_RDONLY_DIRECTORY, 0);
  if (fd < 0) throw new Error(`open ${decoder.decode(cstr(path))} failed`);
  return fd;
}

/** mkdirat, then open what it made. */
function mkdirAt(at: number, name: Uint8Array): number {
  if (libc.symbols.mkdirat(at, cstr(name), 0o755) !== 0) throw new Error("mkdirat failed");
  return openDir(name, at);
}

/** Creates an empty file relative to a directory descriptor (one mknodat). */
function touchAt(at: number, name: Uint8Array): void {
  if (libc.symbols.mknodat(at, cstr(name), S_IFREG | 0o644, 0n) !== 0) {
    throw new Error(`mknodat ${decoder.decode(name)} failed`);
  }
}

/** A place for a big tree, and how to get rid of it. */
interface Scratch {
  path: string;
  kind: string;
  dispose(): Promise<void>;
}

/** Runs a command; throws with its stderr when it fails. */
async function sh(cmd: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${decoder.decode(out.stderr)}`);
}

/**
 * With `mount`, a private tmpfs if root may mount one; else (or without) a
 * directory under /dev/shm or the temp dir.
 */
async function scratch(prefix: string, mount = false): Promise<Scratch> {
  const dir = await Deno.makeTempDir({ prefix });
  if (mount && Deno.uid() === 0) {
    try {
      await sh("mount", "-t", "tmpfs", "-o", "size=2g,mode=0755", "ioq-test", dir);
      return {
        path: dir,
        kind: "a private tmpfs",
        async dispose() {
          await sh("umount", dir).catch(() => sh("umount", "-l", dir));
          await Deno.remove(dir);
        },
      };
    } catch {
      // no mount here: an ordinary directory
    }
  }
  await Deno.remove(dir);
  let base: string | undefined;
  try {
    if (Deno.statSync("/dev/shm").isDirectory) base = "/dev/shm";
  } catch {
    // the default temp dir
  }
  const path = await Deno.makeTempDir({ dir: base, prefix });
  return {
    path,
    kind: base ? "/dev/shm" : "the temp dir",
    dispose: () => sh("rm", "-rf", path),
  };
}

/** The raw path of an entry. */
function rawPath(e: WalkEntry): Uint8Array {
  return e.pathBytes ?? encoder.encode(e.path);
}

/** Bytes as a comparable string (latin1: one char per byte). */
function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return s;
}

/** Registers one test that runs `fn` on every available backend, checking descriptors. */
function forBackends(
  name: string,
  fn: (backend: "io_uring" | "threads", t: Deno.TestContext) => Promise<void>,
  setup: () => Promise<{ value: unknown; dispose(): Promise<void> }>,
): void {
  Deno.test(name, async (t) => {
    const before = openFds();
    const { dispose } = await setup();
    try {
      for (const { backend, skip } of BACKENDS) {
        await t.step({ name: backend, ignore: skip !== undefined, fn: (t) => fn(backend, t) });
      }
    } finally {
      await dispose();
    }
    assertEquals(openFds(), before, "no descriptor left open");
  });
}

// ---------------------------------------------------------------------------
// 1,000,000 entries in one directory

{
  const N = 1_000_000;
  let root = "";
  forBackends(
    "a directory of 1,000,000 entries: each yielded exactly once",
    async (backend, t) => {
      for (const order of ORDERS) {
        await t.step(order, async () => {
          const seen = new Uint8Array(N);
          let count = 0;
          const start = performance.now();
          for await (const e of walk(root, { order, queue: { backend } })) {
            count++;
            if (e.depth === 0) continue;
            const i = Number(e.name.slice(1));
            assert(e.isFile && e.depth === 1 && e.path === `${root}/${e.name}`, e.path);
            assertEquals(seen[i], 0, `${e.name} yielded twice`);
            seen[i] = 1;
          }
          const ms = performance.now() - start;
          assertEquals(count, N + 1);
          assertEquals(seen.indexOf(0), -1, "every entry yielded");
          console.log(`1,000,000 entries, ${backend} ${order}: ${ms.toFixed(0)} ms`);
        });
      }
    },
    async () => {
      const s = await scratch("ioq-million-", true);
      root = `${s.path}/big`;
      Deno.mkdirSync(root);
      const start = performance.now();
      const fd = openDir(root);
      try {
        const name = new Uint8Array(16);
        for (let i = 0; i < N; i++) {
          const { written } = encoder.encodeInto(`e${i}`, name);
          name[written] = 0;
          touchAt(fd, name.subarray(0, written));
        }
      } finally {
        libc.symbols.close(fd);
      }
      console.log(
        `1,000,000 entries made in ${(performance.now() - start).toFixed(0)} ms on ${s.kind}`,
      );
      return { value: root, dispose: () => s.dispose() };
    },
  );
}

// ---------------------------------------------------------------------------
// A chain 2,000 levels deep

{
  const LEVELS = 2000;
  /** 51 bytes a level: the bottom is over 100 KB from the root. */
  const level = (i: number) => `level-${String(i).padStart(4, "0")}-${"x".repeat(40)}`;
  let root = "";
  let expected: string[] = [];
  forBackends(
    "a chain 2,000 levels deep (paths of 100 KB): every level once, in order",
    async (backend, t) => {
      for (const order of ORDERS) {
        for (const stat of [false, true]) {
          await t.step(`${order}${stat ? ", stat" : ""}`, async () => {
            const start = performance.now();
            const entries: WalkEntry[] = [];
            for await (const e of walk(root, { order, stat, queue: { backend } })) entries.push(e);
            const ms = performance.now() - start;
            assertEquals(entries.length, expected.length);
            entries.forEach((e, depth) => {
              assertEquals(e.depth, depth);
              assert(e.path === expected[depth], `depth ${depth}`);
              if (stat) assert(e.stat, `depth ${depth} has a stat`);
            });
            assert(entries[LEVELS + 1].isFile);
            console.log(
              `2,000 levels, ${backend} ${order}${stat ? " stat" : ""}: ${ms.toFixed(0)} ms`,
            );
          });
        }
        await t.step(`${order}, maxDepth 1000`, async () => {
          const paths: string[] = [];
          for await (const e of walk(root, { order, maxDepth: 1000, queue: { backend } })) {
            paths.push(e.path);
          }
          assertEquals(paths.length, 1001);
          assert(paths.every((p, i) => p === expected[i]));
        });
      }
    },
    async () => {
      const s = await scratch("ioq-deep-");
      root = s.path;
      expected = [root];
      let path = root;
      let fd = openDir(root);
      try {
        for (let i = 0; i < LEVELS; i++) {
          const next = mkdirAt(fd, encoder.encode(level(i)));
          libc.symbols.close(fd);
          fd = next;
          expected.push(path = `${path}/${level(i)}`);
        }
        touchAt(fd, encoder.encode("leaf"));
        expected.push(`${path}/leaf`);
      } finally {
        libc.symbols.close(fd);
      }
      assert(path.length > 100_000);
      return { value: root, dispose: () => s.dispose() };
    },
  );
}

// ---------------------------------------------------------------------------
// Names of 255 bytes, valid and invalid UTF-8, past PATH_MAX

{
  /** Five names of exactly 255 bytes. */
  const NAMES: Uint8Array[] = [
    encoder.encode("a".repeat(255)),
    encoder.encode(`${"é".repeat(127)}z`),
    encoder.encode(`${"😀".repeat(63)}xyz`),
    cat(new Array(254).fill(0xff), "b"),
    cat("ok-", new Array(126).fill(0).flatMap(() => [0xc3, 0x28])),
  ];
  for (const name of NAMES) assertEquals(name.length, 255);
  const valid = (b: Uint8Array) => {
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(b);
      return true;
    } catch {
      return false;
    }
  };
  const CHAIN = 24;
  let root = "";
  /** Raw path below the root (latin1) -> is a directory. */
  const expected = new Map<string, boolean>();
  forBackends(
    "names of 255 bytes (UTF-8 and not) in directories of such names, past PATH_MAX",
    async (backend, t) => {
      const rootBytes = encoder.encode(`${root}/`);
      for (const order of ORDERS) {
        for (const stat of [false, true]) {
          await t.step(`${order}${stat ? ", stat" : ""}`, async () => {
            const got = new Map<string, boolean>();
            for await (const e of walk(root, { order, stat, queue: { backend } })) {
              if (e.depth === 0) continue;
              const raw = rawPath(e);
              assertEquals(raw.subarray(0, rootBytes.length), rootBytes);
              const rel = latin1(raw.subarray(rootBytes.length));
              assert(!got.has(rel), `${e.path} yielded twice`);
              got.set(rel, e.isDirectory);
              // name, nameBytes and pathBytes agree with the raw bytes
              const name = raw.subarray(raw.lastIndexOf(0x2f) + 1);
              assertEquals(e.name, decoder.decode(name));
              assertEquals(e.nameBytes !== undefined, !valid(name), e.path);
              if (e.nameBytes) assertEquals(e.nameBytes, name);
              assertEquals(e.pathBytes !== undefined, !valid(raw), e.path);
              assertEquals(e.path, decoder.decode(raw));
              if (stat) assert(e.stat, `${e.path} has a stat`);
            }
            assertEquals(
              [...got].sort(),
              [...expected].sort(),
              `every entry (${expected.size}) once`,
            );
          });
        }
      }
    },
    async () => {
      const s = await scratch("ioq-names-");
      root = s.path;
      expected.clear();
      const rootFd = openDir(root);
      try {
        // Each name as a directory holding each name as a file
        for (const dir of NAMES) {
          const fd = mkdirAt(rootFd, dir);
          expected.set(latin1(dir), true);
          for (const file of NAMES) {
            touchAt(fd, file);
            expected.set(latin1(cat(dir, "/", file)), false);
          }
          libc.symbols.close(fd);
        }
        // A chain of such names, 24 levels (over 6 KB), with every name at the bottom
        let fd = mkdirAt(rootFd, encoder.encode("chain"));
        let rel: Uint8Array = encoder.encode("chain");
        expected.set(latin1(rel), true);
        for (let i = 0; i < CHAIN; i++) {
          const name = NAMES[i % NAMES.length];
          const next = mkdirAt(fd, name);
          libc.symbols.close(fd);
          fd = next;
          rel = cat(rel, "/", name);
          expected.set(latin1(rel), true);
        }
        for (const file of NAMES) {
          touchAt(fd, file);
          expected.set(latin1(cat(rel, "/", file)), false);
        }
        libc.symbols.close(fd);
        assert(rel.length > 4096 + 1024);
      } finally {
        libc.symbols.close(rootFd);
      }
      return { value: root, dispose: () => s.dispose() };
    },
  );
}

// ---------------------------------------------------------------------------
// A tree changed while it is walked

/** What the mutator did. */
interface Mutations {
  made: number;
  renamed: number;
  removed: number;
  failed: number;
  rounds: number;
}

Deno.test("a tree changed by another process while walked: stable parts exactly once, errors with paths", async (t) => {
  const STABLE = 20;
  const CHURN = 5;
  const s = await scratch("ioq-mutate-");
  const root = `${s.path}/tree`;
  /** Every path that is never touched, and how many times it was seen. */
  const stable = new Set<string>([root]);
  const add = (p: string, dir: boolean) => {
    if (dir) Deno.mkdirSync(p);
    else Deno.writeFileSync(p, new Uint8Array());
    stable.add(p);
  };
  add(root, true);
  for (let i = 0; i < STABLE; i++) {
    const top = `${root}/stable-${i}`;
    add(top, true);
    for (let j = 0; j < 5; j++) {
      add(`${top}/s${j}`, true);
      for (let k = 0; k < 10; k++) add(`${top}/s${j}/f${k}`, false);
      add(`${top}/s${j}/n`, true);
      add(`${top}/s${j}/n/leaf`, false);
    }
  }
  // The churn directories themselves stay; only what is inside them changes
  for (let i = 0; i < CHURN; i++) add(`${root}/churn-${i}`, true);
  const stopFile = `${s.path}/stop`;
  const seed = testSeed("the mutator");
  const mutator = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      fixture("mutator.ts"),
      root,
      String(CHURN),
      stopFile,
      String(seed),
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = new Response(mutator.stdout).text();
  const stderr = new Response(mutator.stderr).text();
  const totals = { walks: 0, entries: 0, churnEntries: 0, errors: 0, ms: 0 };
  try {
    // Let it make a mess before the first walk
    await new Promise((resolve) => setTimeout(resolve, 300));
    const start = performance.now();
    for (let round = 0; round < 8; round++) {
      for (const { backend, skip } of BACKENDS) {
        for (const order of ORDERS) {
          for (const stat of [false, true]) {
            await t.step({
              name: `round ${round}, ${backend} ${order}${stat ? ", stat" : ""}`,
              ignore: skip !== undefined,
              async fn() {
                const seen = new Map<string, number>();
                const errors: [Error & { code?: string }, string][] = [];
                for await (
                  const e of walk(root, {
                    order,
                    stat,
                    queue: { backend },
                    onError: (error, path) => errors.push([error, path]),
                  })
                ) {
                  seen.set(e.path, (seen.get(e.path) ?? 0) + 1);
                  assert(e.path === root || e.path.startsWith(`${root}/`), e.path);
                  if (stable.has(e.path)) assertEquals(seen.get(e.path), 1, `${e.path} twice`);
                  else {
                    assert(e.path.startsWith(`${root}/churn-`), `${e.path}: not in the tree`);
                    totals.churnEntries++;
                  }
                }
                for (const p of stable) assertEquals(seen.get(p), 1, `${p} yielded once`);
                for (const [error, path] of errors) {
                  assertEquals(typeof path, "string");
                  assert(path.startsWith(`${root}/churn-`), `an error on ${path}: ${error}`);
                  assert(
                    ["ENOENT", "ENOTDIR"].includes(error.code ?? ""),
                    `${path}: ${error.name} ${error.code}`,
                  );
                  assert(error.message.includes(path.slice(root.length)), error.message);
                }
                totals.walks++;
                totals.entries += [...seen.values()].reduce((a, b) => a + b, 0);
                totals.errors += errors.length;
              },
            });
          }
        }
      }
    }
    totals.ms = performance.now() - start;
  } finally {
    Deno.writeFileSync(stopFile, new Uint8Array());
    const timer = setTimeout(() => mutator.kill("SIGKILL"), 10_000);
    const status = await mutator.status;
    clearTimeout(timer);
    const lines = (await output).trim().split("\n");
    await stderr;
    await s.dispose();
    assert(status.success, `the mutator failed: ${lines.join(" ")}`);
    const done = JSON.parse(lines.at(-1)!) as Mutations;
    const changes = done.made + done.renamed + done.removed;
    assert(changes > 100, `the mutator made only ${changes} changes`);
    console.log(
      `${totals.walks} walks of ${stable.size} stable entries in ${totals.ms.toFixed(0)} ms ` +
        `while another process made ${done.made} trees, ${done.renamed} renames and ` +
        `${done.removed} removals (seed ${seed}): ${totals.churnEntries} changing entries ` +
        `seen, ${totals.errors} errors (ENOENT/ENOTDIR on changing paths)`,
    );
  }
});
