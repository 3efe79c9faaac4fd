/**
 * glob()'s `exclude`: what std's expandGlob does with it (also compared in
 * std_test.ts), where ioq departs from it on purpose (GlobOptions.exclude
 * says so), and that an excluded directory is never opened.
 *
 * @module
 */

import { assertEquals } from "@std/assert";
import { makeTree, testBackends } from "../helpers.ts";
import { expectStdGlob, globOpens, ioqGlob, withCwd } from "./support.ts";

/** The paths of a glob below `root`, sorted. */
async function below(root: string, pattern: string, options = {}): Promise<string[]> {
  const got = await ioqGlob(pattern, { root, ...options });
  return got.map((e) => e.path === root ? "." : e.path.slice(root.length + 1)).sort();
}

testBackends("glob() excludes as @std/fs expandGlob does", async (backend, t) => {
  const root = await makeTree(["a/", "a/x.txt", "a/b/", "a/b/y.txt", "c.txt", "d/", "d/z.md"]);
  try {
    const cases: [string, string[], string[]][] = [
      // [pattern, exclude, paths left]
      ["**", ["a/**"], [".", "a", "c.txt", "d", "d/z.md"]],
      ["**", ["a"], [".", "c.txt", "d", "d/z.md"]],
      ["**", ["**/*.txt"], [".", "a", "a/b", "d", "d/z.md"]],
      ["*/*", ["*/b"], ["a/x.txt", "d/z.md"]],
      ["a/*", ["a"], []],
      ["**/*.txt", ["a/b/**", "c*"], ["a/x.txt"]],
      ["**", ["**"], ["."]],
      ["{a,d}/**", ["*/z.md", "a/b"], ["a", "a/x.txt", "d"]],
    ];
    for (const [pattern, exclude, left] of cases) {
      await t.step(`${pattern} without ${exclude.join(", ")}`, async () => {
        const queue = { backend };
        await expectStdGlob(pattern, { root, exclude, queue }, backend);
        assertEquals(await below(root, pattern, { exclude, queue }), left);
      });
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("glob() excludes a path its pattern names literally (expandGlob does not)", async () => {
  const root = await makeTree(["a/", "a/x.txt", "c.txt"]);
  try {
    assertEquals(await below(root, "c.txt", { exclude: ["*.txt"] }), []);
    assertEquals(await below(root, "a/x.txt", { exclude: ["a/*"] }), []);
    assertEquals(await below(root, "a", { exclude: ["a"] }), []);
    // What lies above the pattern's literal part is not tested, as in expandGlob
    assertEquals(await below(root, "a/x.txt", { exclude: ["a"] }), ["a/x.txt"]);
    assertEquals(await below(root, "c.txt", { exclude: ["a"] }), ["c.txt"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("glob() resolves excludes from root or the cwd, for absolute patterns too", async () => {
  const root = await makeTree(["a/", "a/x.txt", "c.txt"]);
  try {
    await withCwd(root, async () => {
      // expandGlob would resolve "c.txt" from "/" here, and leave nothing out
      const got = await ioqGlob(`${root}/*`, { exclude: ["c.txt"] });
      assertEquals(got.map((e) => e.name), ["a"]);
      const fromRoot = await ioqGlob(`${root}/*`, { root: `${root}/a`, exclude: ["../a"] });
      assertEquals(fromRoot.map((e) => e.name), ["c.txt"]);
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("glob() never opens an excluded directory", async () => {
  const paths = ["keep/", "keep/f", "keep/sub/", "keep/sub/g"];
  for (let i = 0; i < 5; i++) paths.push(`skip/d${i}/`, `skip/d${i}/deeper/`, `skip/d${i}/h`);
  const root = await makeTree(paths);
  try {
    // The root, keep and keep/sub
    assertEquals(await globOpens(["**"], { root, exclude: ["skip"] }), 3);
    assertEquals(await globOpens(["**"], { root, exclude: ["**/d*"] }), 4);
    assertEquals(await globOpens(["**"], { root, exclude: ["**/d0"] }), 12);
    // skip/d*/ are listed in skip, not opened
    assertEquals(await globOpens(["**"], { root, exclude: ["skip/d*"] }), 4);
    // skip/d* are yielded, and opened (their entries are excluded, not they)
    assertEquals(await globOpens(["**"], { root, exclude: ["skip/*/**"] }), 9);
    assertEquals(await globOpens(["**"], { root }), 14);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name: "glob() tests excludes at canonical paths, as @std/fs expandGlob",
  async fn() {
    const base = await makeTree([
      "root/",
      "root/gone/",
      "root/gone/f",
      "root/sub/",
      "out/",
      "out/g",
    ]);
    const root = `${base}/root`;
    try {
      Deno.symlinkSync(`${root}/gone`, `${root}/sub/to-gone`);
      Deno.symlinkSync(`${base}/out`, `${root}/sub/to-out`);
      const options = { root, followSymlinks: true, exclude: ["gone", "sub/**"] };
      // sub/to-gone is yielded at root/gone, which is excluded; sub/to-out at
      // out, which is not (nor what is below it)
      await expectStdGlob("sub/*", options, "threads");
      await expectStdGlob("**", options, "threads");
      assertEquals(
        (await ioqGlob("**", options)).map((e) => e.path).sort(),
        [`${base}/out`, `${base}/out/g`, root, `${root}/sub`],
      );
    } finally {
      await Deno.remove(base, { recursive: true });
    }
  },
});
