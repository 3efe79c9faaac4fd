/**
 * `sort: true`: each directory's entries come in byte order of their names,
 * so every walk of a tree yields the same sequence.  The expected sequence
 * is computed here from the tree the test made (its names as bytes, not as
 * a listing decodes them):
 *
 *  - `order: "dfs"` is find's pre-order: a directory, then each entry in
 *    byte order, each subdirectory's subtree right after its own entry;
 *  - `order: "bfs"` (and glob(), which walks breadth-first) is a queue:
 *    the root, then each directory's entries in byte order, directories
 *    read in the order they were yielded.
 *
 * The trees (seeded; `IOQ_TEST_SEED` repeats one) have names that are not
 * UTF-8, names differing only by case, bytes above 0x7f, `.`-prefixed
 * names, and one directory too big for a single getdents call.  Checked for
 * walk(), walkSync(), glob("**"), globSync("**"), with and without stat,
 * on both backends, and the CLI's `-s` (whose order tests/cli_order_test.ts
 * compares with GNU find on its fixed tree) on the same trees.
 *
 * @module
 */

import { assertEquals } from "@std/assert";
import { glob, globSync, walk, type WalkEntry, type WalkOptions, walkSync } from "../../mod.ts";
import { type Backend, random, testBackends, testSeed } from "../helpers.ts";
import { bytes, createRaw, mkdirRaw } from "../libc.ts";
import { records, walkCli } from "../cli/run.ts";
import { ORDERS } from "./support.ts";

/** A name in a tree, as bytes, with its entries when it is a directory. */
interface Node {
  name: Uint8Array;
  children?: Node[];
}

/** Names that sort in ways text comparison would not: case, bytes above 0x7f, not UTF-8, dots. */
const NAMES: (string | number[])[] = [
  "a",
  "A",
  "b",
  "B",
  "ab",
  "aB",
  "a b",
  "a-b",
  "a.b",
  "a_b",
  ".a",
  ".A",
  "..x",
  "~",
  "Z",
  "z",
  "0",
  "10",
  "9",
  "é",
  "e\u0301",
  "\u00ff",
  "\u{1f600}",
  [0xff],
  [0x61, 0xff],
  [0x61, 0x80, 0x62],
  [0xc3, 0x28],
  [0xfe, 0x41],
  [0x7f],
];

/** The bytes of a name from NAMES. */
function nameBytes(name: string | number[]): Uint8Array {
  return bytes(typeof name === "string" ? name : name);
}

/** Orders byte strings. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** A random tree below a root directory (seeded); one directory holds `wide` files. */
function randomTree(next: () => number, wide: number): Node {
  const grow = (depth: number): Node[] => {
    const out: Node[] = [];
    const used = new Set<string>();
    for (let n = 3 + Math.floor(next() * 8); n > 0; n--) {
      const name = nameBytes(NAMES[Math.floor(next() * NAMES.length)]);
      const key = name.join();
      if (used.has(key)) continue;
      used.add(key);
      const isDir = depth < 3 && next() < 0.35;
      out.push(isDir ? { name, children: grow(depth + 1) } : { name });
    }
    return out;
  };
  const children = grow(0);
  // Long names, so that the listing takes more than one getdents call
  const many: Node[] = Array.from({ length: wide }, (_, i) => ({
    name: bytes(`${String(Math.floor(next() * 1e9)).padStart(9, "0")}-${i}-${"x".repeat(40)}`),
  }));
  children.push({ name: bytes("wide"), children: many });
  return { name: new Uint8Array(), children };
}

/** Makes a tree's nodes below `dir` (bytes). */
function writeNodes(dir: Uint8Array, nodes: Node[]): void {
  for (const node of nodes) {
    const path = bytes(dir, "/", node.name);
    if (node.children) {
      mkdirRaw(path);
      writeNodes(path, node.children);
    } else createRaw(path);
  }
}

/** A path below the root, as a readable string of its bytes (the root is ""). */
function show(path: Uint8Array): string {
  return Array.from(
    path,
    (b) => b > 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`,
  )
    .join("");
}

/** A node's entries in byte order. */
function sorted(node: Node): Node[] {
  return [...node.children!].sort((a, b) => compareBytes(a.name, b.name));
}

/** The expected sequence of paths below the root, the root first, in `order`. */
function expected(tree: Node, order: "bfs" | "dfs"): string[] {
  const out = [""];
  const join = (dir: Uint8Array, name: Uint8Array) => dir.length ? bytes(dir, "/", name) : name;
  if (order === "dfs") {
    const visit = (node: Node, path: Uint8Array) => {
      for (const child of sorted(node)) {
        const below = join(path, child.name);
        out.push(show(below));
        if (child.children) visit(child, below);
      }
    };
    visit(tree, new Uint8Array());
    return out;
  }
  const queue: [Node, Uint8Array][] = [[tree, new Uint8Array()]];
  while (queue.length > 0) {
    const [node, path] = queue.shift()!;
    for (const child of sorted(node)) {
      const below = join(path, child.name);
      out.push(show(below));
      if (child.children) queue.push([child, below]);
    }
  }
  return out;
}

/** The sequence of paths below `root` an iteration yields. */
function sequence(root: string, entries: Iterable<WalkEntry>): string[] {
  const prefix = new TextEncoder().encode(root).length;
  return Array.from(entries, (e) => {
    const path = e.pathBytes ?? new TextEncoder().encode(e.path);
    return show(path.subarray(Math.min(prefix + 1, path.length)));
  });
}

/** Makes a random tree in a new directory; returns its path and the tree. */
function makeRandomTree(seedName: string, wide: number): [string, Node] {
  const tree = randomTree(random(testSeed(seedName)), wide);
  const root = Deno.makeTempDirSync({ prefix: "ioq-sort-" });
  writeNodes(bytes(root), tree.children!);
  return [root, tree];
}

testBackends(
  "sort: walk and walkSync yield each directory in byte order, both orders",
  async (backend) => {
    const [root, tree] = makeRandomTree(`sort walk [${backend}]`, 600);
    try {
      for (const order of ORDERS) {
        const want = expected(tree, order);
        for (const stat of [false, true]) {
          const options: WalkOptions = { sort: true, order, stat, queue: { backend } };
          const what = JSON.stringify({ order, stat });
          assertEquals(sequence(root, await Array.fromAsync(walk(root, options))), want, what);
          assertEquals(sequence(root, walkSync(root, options)), want, `walkSync ${what}`);
          // A second run, on a queue of one thread: the same sequence
          const one = { ...options, queue: { backend, threads: 1 } };
          assertEquals(sequence(root, walkSync(root, one)), want, `walkSync, one thread, ${what}`);
        }
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

testBackends(
  "sort: glob and globSync yield each directory in byte order, breadth first",
  async (backend) => {
    const [root, tree] = makeRandomTree(`sort glob [${backend}]`, 600);
    try {
      const want = expected(tree, "bfs");
      for (const stat of [false, true]) {
        const options = { root, sort: true, stat, queue: { backend } as const };
        assertEquals(
          sequence(root, await Array.fromAsync(glob("**", options))),
          want,
          `stat ${stat}`,
        );
        assertEquals(sequence(root, globSync("**", options)), want, `globSync, stat ${stat}`);
      }
      // A pattern below the root keeps the order among what it matches
      const files = want.filter((p) => p.startsWith("wide/"));
      const sub = [...globSync("wide/*", { root, sort: true, queue: { backend } })];
      assertEquals(sequence(root, sub), files);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

/** The CLI's output (NUL-terminated paths) as paths below `root`. */
function cliSequence(root: string, out: Uint8Array): string[] {
  const prefix = new TextEncoder().encode(root).length;
  return records(out, 0).map((r) => show(r.subarray(Math.min(prefix + 1, r.length - 1), -1)));
}

testBackends(
  "sort: the CLI's -s prints the same depth-first sequence",
  async (backend: Backend) => {
    const [root, tree] = makeRandomTree(`sort CLI [${backend}]`, 300);
    try {
      const want = expected(tree, "dfs");
      // -links +0 needs each entry's stat, and is true for all
      for (const extra of [[], ["-dfs"], ["-links", "+0"]]) {
        const args = [root, "-backend", backend, "-s", ...extra, "-print0"];
        const r = await walkCli(args);
        assertEquals(r.code, 0, r.stderr);
        assertEquals(cliSequence(root, r.stdout), want, args.join(" "));
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);
