/**
 * The CLI's actions that change things or talk to the user, against GNU
 * find: -delete (on two copies of the same tree, compared after), -ok
 * (answers on stdin), and commands run in directories whose names are not
 * UTF-8.
 *
 * @module
 */

import { assertEquals } from "@std/assert";
import { assertSameErrors, find, sortedRecords, walkCli } from "./cli/run.ts";
import { makeFindTree } from "./cli/tree.ts";

/** What is left of a tree: its paths, relative, sorted. */
async function listing(root: string): Promise<string[]> {
  return sortedRecords((await find(["."], { cwd: root })).stdout);
}

Deno.test("walk -delete deletes what find deletes, and fails where find fails", async (t) => {
  for (
    const expr of [
      ["-name", "*.txt", "-delete"],
      ["-path", "./deep/*", "-delete", "-print"],
      ["-name", "a", "-delete"],
      ["-type", "l", "-delete"],
      ["-name", "*-*", "-delete"],
      ["-delete"],
    ]
  ) {
    await t.step(expr.join(" "), async () => {
      const [mine, theirs] = await Promise.all([makeFindTree(), makeFindTree()]);
      try {
        const ours = await walkCli([".", ...expr], { cwd: mine.root });
        const found = await find([".", ...expr], { cwd: theirs.root });
        const what = expr.join(" ");
        assertEquals(sortedRecords(ours.stdout), sortedRecords(found.stdout), what);
        assertEquals(ours.code, found.code, `${what}: exit status (stderr: ${ours.stderr})`);
        assertSameErrors(ours.stderr, found.stderr, what);
        assertEquals(await listing(mine.root), await listing(theirs.root), `${what}: what is left`);
      } finally {
        await Deno.remove(mine.root, { recursive: true });
        await Deno.remove(theirs.root, { recursive: true });
      }
    });
  }
});

Deno.test("walk -ok asks on stderr and runs the command on yes, as find does", async () => {
  const tree = await makeFindTree();
  try {
    for (const answer of ["y\n", "yes please\n", "n\n", "", "  Y\n"]) {
      for (const ok of ["-ok", "-okdir"]) {
        const args = [".", "-name", "s1", ok, "echo", "got", "{}", ";", "-print"];
        const stdin = new TextEncoder().encode(answer);
        const [ours, theirs] = await Promise.all([
          walkCli(args, { cwd: tree.root, stdin }),
          find(args, { cwd: tree.root, stdin }),
        ]);
        const what = `${ok} ${JSON.stringify(answer)}`;
        assertEquals(ours.stdout, theirs.stdout, what);
        assertEquals(ours.stderr, theirs.stderr, what);
        assertEquals(ours.code, theirs.code, what);
      }
    }
  } finally {
    await Deno.remove(tree.root, { recursive: true });
  }
});

Deno.test("walk runs commands on paths and in directories that are not UTF-8", async () => {
  const tree = await makeFindTree();
  try {
    for (
      const args of [
        [".", "-name", "inside-*", "-execdir", "pwd", ";"],
        [".", "-name", "inside-*", "-execdir", "printf", "[%s]\\n", "{}", "+"],
        [".", "-path", "./dir-*", "-exec", "printf", "<%s>\\n", "{}", ";"],
        [".", "-name", "s1", "-exec", "no-such-command-here", "{}", ";"],
        [".", "-name", "s1", "-exec", "no-such-command-here", "{}", "+"],
      ]
    ) {
      const [ours, theirs] = await Promise.all([
        walkCli(args, { cwd: tree.root }),
        find(args, { cwd: tree.root }),
      ]);
      const what = args.join(" ");
      assertEquals(sortedRecords(ours.stdout), sortedRecords(theirs.stdout), what);
      assertEquals(ours.code, theirs.code, `${what}: exit status (stderr: ${ours.stderr})`);
      assertEquals(ours.stderr === "", theirs.stderr === "", `${what}: ${ours.stderr}`);
    }
  } finally {
    await Deno.remove(tree.root, { recursive: true });
  }
});
