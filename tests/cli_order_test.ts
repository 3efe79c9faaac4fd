/**
 * The order the CLI visits entries in: directories before their contents
 * (or after, with -depth), and with -s exactly find's depth-first order
 * with each directory sorted, compared with GNU find's output put in that
 * order.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import { find, records, show, walkCli } from "./cli/run.ts";
import { makeFindTree } from "./cli/tree.ts";
import { makeTree } from "./helpers.ts";

/** A path's components (split at "/"), as byte strings. */
function components(path: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i === path.length || path[i] === 0x2f) {
      out.push(path.subarray(start, i));
      start = i + 1;
    }
  }
  return out;
}

/** Orders byte strings. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * Puts NUL-terminated paths in find's depth-first order with each directory
 * sorted: a directory before its contents, or after them (`post`).
 */
function findOrder(out: Uint8Array, post: boolean): string[] {
  const paths = records(out, 0).map((r) => r.subarray(0, r.length - 1));
  paths.sort((a, b) => {
    const ca = components(a);
    const cb = components(b);
    const n = Math.min(ca.length, cb.length);
    for (let i = 0; i < n; i++) {
      const d = compareBytes(ca[i], cb[i]);
      if (d !== 0) return d;
    }
    return post ? cb.length - ca.length : ca.length - cb.length;
  });
  return show(paths.map((p) => new Uint8Array([...p, 0])));
}

Deno.test("walk prints every directory before what is inside it, the root first", async () => {
  const root = await makeTree(["x/y/z/", "x/y/z/f", "x/g", "h"]);
  try {
    for (const order of [[], ["-dfs"]]) {
      const { stdout, code } = await walkCli([root, ...order]);
      assertEquals(code, 0);
      const lines = new TextDecoder().decode(stdout).split("\n");
      assertEquals(lines.pop(), "", "the last line ends with a newline");
      assertEquals(lines[0], root, "the root comes first");
      const seen = new Set<string>();
      for (const line of lines) {
        if (line !== root) {
          assert(seen.has(line.slice(0, line.lastIndexOf("/"))), `${line} after its parent`);
        }
        seen.add(line);
      }
      assertEquals(lines.length, 7);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("walk -depth prints every directory after what is inside it", async () => {
  const tree = await makeFindTree();
  const R = tree.root;
  try {
    for (
      const args of [
        [R, "-depth", "-print0"],
        [R, "-depth", "-dfs", "-print0"],
        ["-L", R, "-depth", "-print0"],
        // -delete turns -depth on (and deletes nothing here)
        [R, "-false", "-delete", "-o", "-print0"],
      ]
    ) {
      const ours = await walkCli(args);
      const theirs = await find(args.filter((a) => a !== "-dfs"));
      const what = args.join(" ");
      assertEquals(ours.code, theirs.code, what);
      const paths = records(ours.stdout, 0).map((r) => new TextDecoder().decode(r.subarray(0, -1)));
      assertEquals(
        [...paths].sort(),
        records(theirs.stdout, 0).map((r) => new TextDecoder().decode(r.subarray(0, -1))).sort(),
        what,
      );
      const at = new Map(paths.map((p, i) => [p, i]));
      for (const [p, i] of at) {
        const parent = p.slice(0, p.lastIndexOf("/"));
        if (p !== R && at.has(parent)) {
          assert(at.get(parent)! > i, `${what}: ${p} after its directory`);
        }
      }
    }
  } finally {
    await Deno.remove(R, { recursive: true });
  }
});

Deno.test("walk -s visits in find's order, each directory sorted", async () => {
  const tree = await makeFindTree();
  const R = tree.root;
  try {
    for (
      const expr of [
        [],
        ["-depth"],
        ["-maxdepth", "2"],
        ["-mindepth", "2", "-depth"],
        ["-name", "a", "-prune", "-o", "-print0"],
        ["-type", "f", "-name", "s*"],
        ["-L"],
      ]
    ) {
      const follow = expr[0] === "-L" ? ["-L"] : [];
      const rest = expr.filter((a) => a !== "-L");
      const action = rest.includes("-print0") ? [] : ["-print0"];
      const ours = await walkCli([...follow, R, "-s", ...rest, ...action]);
      const theirs = await find([...follow, R, ...rest, ...action]);
      const what = expr.join(" ");
      assertEquals(ours.code, theirs.code, what);
      assertEquals(
        show(records(ours.stdout, 0)),
        findOrder(theirs.stdout, rest.includes("-depth")),
        what,
      );
    }
    // -quit stops at the first match in that order
    const first = await walkCli([R, "-s", "-name", "s*", "-print0", "-quit"]);
    const all = await find([R, "-name", "s*", "-print0"]);
    assertEquals(show(records(first.stdout, 0)), findOrder(all.stdout, false).slice(0, 1));
  } finally {
    await Deno.remove(R, { recursive: true });
  }
});
