/**
 * walk() on a queue of the caller's: of any depth (even 1), cancelled by
 * the caller midway, failing on a directory's error (thrown once); and in
 * dfs order deeper than its descriptor budget.  Walks that could hang the
 * event loop run in a child process.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import { IoQueue, type WalkEntry, type WalkOptions } from "../../mod.ts";
import { fastTempDir, makeTree, testBackends } from "../helpers.ts";
import { checkOrder, ioqWalk, keys, mixedTree, ORDERS, rmrf, stdKeys } from "./support.ts";

/** The module, for code run in a child process. */
const MOD = new URL("../../mod.ts", import.meta.url).href;
/** The descriptor count, for code run in a child process. */
const FDS = new URL("../fds.ts", import.meta.url).href;

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
      // Following, std throws on the tree's broken links: the reference is
      // then walk() on a queue of its own (compared with std in std_test.ts)
      const want = options.followSymlinks
        ? keys((await ioqWalk(root, options)).entries)
        : await stdKeys(root, options);
      for (const depth of [1, 2, 3, 5]) {
        for (const order of ORDERS) {
          const got = result[`${depth} ${order} ${name}`];
          assertEquals(keys(got.entries), want, `depth ${depth}, ${order}, ${name}`);
          assert(got.idle, `depth ${depth}, ${order}, ${name}: nothing left in flight`);
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
      import { openFds as fds } from ${JSON.stringify(FDS)};
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
    `) as {
      count: number;
      thrown: { name: string; code: string };
      inFlight: number;
      leaked: number;
    }[];
    for (const run of result) {
      // The next entry after cancel() is none: the walk throws at once
      assertEquals(run, {
        ...run,
        count: 5,
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
    // Two directories vanish after they were listed, when the walk asks
    // whether to enter them (a skip pattern that skips nothing removes them):
    // without onError the walk throws the first failure; an onError that
    // throws ends it too
    const result = await inChild(
      `
      import { IoQueue, walk } from ${JSON.stringify(MOD)};
      import { openFds as fds } from ${JSON.stringify(FDS)};
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
          const vanish = new RegExp("(?!)");
          vanish.test = (path) => {
            if ((path === root + "/d20" || path === root + "/d21") && Deno.statSync(root).isDirectory) {
              try {
                Deno.removeSync(path, { recursive: true });
              } catch {
                // Asked again when its entry is yielded: gone by then
              }
            }
            return false;
          };
          try {
            for await (const _ of walk(root, { order, queue: q, onError, skip: [vanish] }));
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
    ) as { how: string; thrown: unknown; inFlight: number; leaked: number }[];
    for (const run of result) {
      if (run.how === "throw") {
        const [name, code, path] = run.thrown as string[];
        assertEquals([name, code], ["NotFound", "ENOENT"], JSON.stringify(run));
        assert([`${root}/d20`, `${root}/d21`].includes(path), path);
      } else {
        assertEquals(run.thrown, "boom", JSON.stringify(run));
      }
      assertEquals(run, { ...run, inFlight: 0, leaked: 0 });
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
    const want = await stdKeys(root);
    for (const order of ORDERS) {
      for (const depth of [4, 8, 16, 32]) {
        await t.step(`${order}, queue depth ${depth}`, async () => {
          await using q = new IoQueue({ backend, depth });
          const { entries } = await ioqWalk(root, { order, queue: q });
          assertEquals(keys(entries), want);
          checkOrder(entries, order);
        });
      }
    }
  } finally {
    await rmrf(root);
  }
});
