/**
 * `gitignore: true`, end to end, against git itself: on random repositories
 * (seeded; `IOQ_TEST_SEED` repeats one), the files that `walk()`,
 * `walkSync()`, `glob("**")`, `globSync("**")` and the CLI's `-gitignore`
 * yield are exactly those `git ls-files --others --exclude-standard` lists:
 * untracked (nothing is committed) and not ignored.
 *
 * The repositories have `.gitignore` files at several levels with negated
 * (`!`), anchored (`/x`), directory-only (`x/`) and `**` rules, each
 * repository's `.git/info/exclude`, nested repositories (git lists one as
 * `dir/` and applies none of the outer rules inside: its own listing is
 * asked for), symlinks and names with spaces.  Directories are not
 * compared: git lists files only.
 *
 * What the library does with `.git`: with `gitignore`, a repository's
 * `.git` (directory or file) is left out and never opened, as git lists
 * nothing of it; without `gitignore` it is walked like any directory.
 *
 * Also: a walk that starts below a repository's root applies the rules
 * above it (compared with git run there); an ignored directory (and `.git`)
 * is never opened (the engine's count of directories opened equals the
 * number of directories yielded); `.ignore` files outside any repository
 * act as `.gitignore` files would inside one; an unreadable `.gitignore`
 * is reported to onError (its path, EACCES) and the walk goes on.
 *
 * git runs with its environment cleared (HOME and XDG_CONFIG_HOME in a
 * temporary directory, GIT_CONFIG_NOSYSTEM=1), so no user or system
 * configuration (core.excludesFile) interferes.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import { glob, globSync, walk, type WalkEntry, walkSync } from "../../mod.ts";
import { plan } from "../../lib/walk_options.ts";
import { type Backend, random, testBackends, testSeed } from "../helpers.ts";
import { records, walkCli } from "../cli/run.ts";
import { engineOpens } from "../glob/support.ts";
import { Sandbox, UNPRIVILEGED_SKIP } from "../unprivileged.ts";
import { git } from "../git.ts";

/**
 * What git lists under `dir` (relative to it), untracked and not ignored,
 * with the listing of each nested repository (which git gives as `dir/`).
 */
async function gitFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  const listed = new TextDecoder().decode(
    await git(dir, ["ls-files", "-z", "--others", "--exclude-standard"]),
  );
  for (const path of listed.split("\0").filter((p) => p !== "")) {
    if (path.endsWith("/")) out.push(...await gitFiles(`${dir}/${path}`, prefix + path));
    else out.push(prefix + path);
  }
  return out.sort();
}

/** Names the trees use: spaces inside and at the end, a dot, UTF-8. */
const DIRS = ["a", "b", "build", "src", "a b", "lib", "x.d", "é", "deep"];
const FILES = [
  "a",
  "b",
  "x.log",
  "keep.log",
  "main.c",
  "x.o",
  "read me.txt",
  "a b",
  "trail ",
  "é.c",
];

/** A random tree: its directories, files, symlinks and repositories (paths below the top). */
interface Tree {
  dirs: string[];
  files: string[];
  links: string[];
  /** Nested repositories' roots (the top is always one, unless `bare`). */
  repos: string[];
  /** Ignore files: path, contents. */
  rules: Map<string, string>;
}

/** A random rule aimed at the paths below `dir` (relative to it). */
function randomRule(next: () => number, below: string[]): string {
  const pick = <T>(list: T[]): T => list[Math.floor(next() * list.length)];
  const target = below.length && next() < 0.8 ? pick(below) : pick([...DIRS, ...FILES]);
  const parts = target.split("/");
  const name = parts[parts.length - 1];
  // Trailing spaces need escaping to count
  const esc = (s: string) => s.replace(/ $/, "\\ ");
  const forms = [
    () => esc(name),
    () => "/" + esc(target),
    () => esc(name) + "/",
    () => "**/" + esc(name),
    () => esc(parts[0]) + "/**",
    () => parts.length > 1 ? `${esc(parts[0])}/**/${esc(name)}` : `**/${esc(name)}/**`,
    () => "*" + (name.includes(".") ? name.slice(name.lastIndexOf(".")) : ""),
    () => "*.log",
    () => esc(target),
  ];
  const rule = pick(forms)();
  return next() < 0.3 ? "!" + rule : rule;
}

/** A random tree from `next`; without repositories when `bare`. */
function randomTree(next: () => number, bare = false): Tree {
  const pick = <T>(list: T[]): T => list[Math.floor(next() * list.length)];
  const tree: Tree = { dirs: [], files: [], links: [], repos: [], rules: new Map() };
  const grow = (dir: string, depth: number) => {
    const used = new Set<string>();
    for (let n = 2 + Math.floor(next() * 4); n > 0; n--) {
      const isDir = depth < 3 && next() < 0.45 - depth * 0.1;
      const name = isDir ? pick(DIRS) : next() < 0.08 ? "ln" : pick(FILES);
      if (used.has(name)) continue;
      used.add(name);
      const path = dir ? `${dir}/${name}` : name;
      if (isDir) {
        tree.dirs.push(path);
        if (!bare && next() < 0.15) tree.repos.push(path);
        grow(path, depth + 1);
      } else if (name === "ln") tree.links.push(path);
      else tree.files.push(path);
    }
  };
  grow("", 0);
  const all = [...tree.dirs, ...tree.files, ...tree.links];
  const name = bare ? ".ignore" : ".gitignore";
  for (const dir of ["", ...tree.dirs]) {
    if (dir !== "" && next() < 0.5) continue;
    const below = all.filter((p) => dir === "" || p.startsWith(dir + "/"))
      .map((p) => dir ? p.slice(dir.length + 1) : p);
    const lines = Array.from({ length: 1 + Math.floor(next() * 5) }, () => randomRule(next, below));
    tree.rules.set(dir ? `${dir}/${name}` : name, lines.join("\n") + "\n");
    if (!bare && (dir === "" || tree.repos.includes(dir)) && next() < 0.5) {
      tree.rules.set(`${dir ? dir + "/" : ""}.git/info/exclude`, randomRule(next, below) + "\n");
    }
  }
  return tree;
}

/** Writes a tree into `root` (repositories made with git init first). */
async function writeTree(root: string, tree: Tree, bare = false): Promise<void> {
  for (const d of tree.dirs) await Deno.mkdir(`${root}/${d}`);
  for (const f of tree.files) await Deno.writeTextFile(`${root}/${f}`, "");
  for (const l of tree.links) await Deno.symlink(l.includes("/") ? ".." : ".", `${root}/${l}`);
  if (!bare) {
    for (const repo of ["", ...tree.repos]) await git(`${root}/${repo}`, ["init", "-q"]);
  }
  for (const [path, text] of tree.rules) await Deno.writeTextFile(`${root}/${path}`, text);
}

/** The paths below `root` of the non-directories among entries, sorted. */
function files(root: string, entries: Iterable<WalkEntry>): string[] {
  return [...entries].filter((e) => !e.isDirectory).map((e) => e.path.slice(root.length + 1))
    .sort();
}

/** The non-directories a walk of `root` yields, each way: walk, walkSync, glob, globSync. */
async function ways(root: string, backend: Backend): Promise<[string, string[]][]> {
  const options = { gitignore: true, queue: { backend } };
  const globOptions = { ...options, root };
  return [
    ["walk", files(root, await Array.fromAsync(walk(root, options)))],
    ["walkSync", files(root, walkSync(root, options))],
    ["glob", files(root, await Array.fromAsync(glob("**", globOptions)))],
    ["globSync", files(root, globSync("**", globOptions))],
  ];
}

/**
 * One repository with every feature at once, whatever the seed: rules at
 * three levels, negation, anchoring, directory-only rules, `**`, the
 * exclude file, a nested repository and names with spaces.
 */
const HAND: Tree = {
  dirs: [
    "a",
    "a/b",
    "a/b/build",
    "build",
    "my dir",
    "n",
    "n/sub",
    "gen",
    "gen/x",
    "docs",
    "docs/d",
  ],
  files: [
    "x.log",
    "keep.log",
    "my file.log",
    "trail ",
    "secret.txt",
    "a/x.log",
    "a/y.log",
    "a/local",
    "a/b/local",
    "a/b/build/o",
    "build/o",
    "my dir/keep.log",
    "my dir/a b",
    "n/x.log",
    "n/y.o",
    "n/sub/z.o",
    "gen/x/deep",
    "docs/d/e.bak",
    "docs/e.bak",
  ],
  links: ["ln"],
  repos: ["n"],
  rules: new Map([
    [".gitignore", "*.log\n!keep.log\nbuild/\ngen/\ndocs/**/*.bak\ntrail\\ \n"],
    ["a/.gitignore", "!x.log\n/local\n"],
    ["a/b/.gitignore", "!/build/\n"],
    [".git/info/exclude", "secret*\nln/\n"],
    ["n/.gitignore", "**/*.o\n"],
  ]),
};

testBackends("gitignore: a repository with every kind of rule", async (backend) => {
  const root = await Deno.makeTempDir({ prefix: "ioq-gitignore-" });
  try {
    await writeTree(root, HAND);
    // Written out, so that the case cannot lose what it tests unnoticed
    const want = [
      ".gitignore",
      "a/.gitignore",
      "a/b/.gitignore",
      "a/b/build/o",
      "a/b/local",
      "a/x.log",
      "keep.log",
      "ln",
      "my dir/a b",
      "my dir/keep.log",
      "n/.gitignore",
      "n/x.log",
    ];
    assertEquals(await gitFiles(root), want, "git");
    for (const [way, got] of await ways(root, backend)) assertEquals(got, want, way);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** Random repositories per test: enough to hit every rule form, nested repositories too. */
const ROUNDS = 20;

testBackends(
  "gitignore: walk, walkSync, glob and globSync yield what git lists",
  async (backend) => {
    const next = random(testSeed(`gitignore [${backend}]`));
    let compared = 0, nested = 0, skippedDirs = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const tree = randomTree(next);
      const root = await Deno.makeTempDir({ prefix: "ioq-gitignore-" });
      try {
        await writeTree(root, tree);
        const want = await gitFiles(root);
        const what = `round ${round}, rules ${JSON.stringify([...tree.rules])}`;
        for (const [way, got] of await ways(root, backend)) {
          assertEquals(
            got,
            want,
            `${way}: ${what}`,
          );
        }

        // Every directory yielded was opened, and no other (an ignored one, .git)
        const yielded = await Array.fromAsync(walk(root, { gitignore: true }));
        const dirs = yielded.filter((e) => e.isDirectory);
        assertEquals(await engineOpens([plan(root, { gitignore: true })]), dirs.length, what);
        assert(!yielded.some((e) => e.path.split("/").includes(".git")), `.git yielded: ${what}`);
        // Without gitignore, .git is walked like any directory
        const plain = await Array.fromAsync(walk(root, { includeFiles: false }));
        assert(plain.some((e) => e.path === `${root}/.git/info`), `.git not walked: ${what}`);
        skippedDirs += tree.dirs.length + 1 - dirs.length;

        // A walk from below the root applies the rules above it, as git does there
        for (const dir of dirs.filter((e) => e.depth > 0).slice(0, 2)) {
          assertEquals(
            files(dir.path, await Array.fromAsync(walk(dir.path, { gitignore: true }))),
            await gitFiles(dir.path),
            `from ${dir.path}: ${what}`,
          );
        }
        compared += want.length;
        nested += want.filter((p) => tree.repos.some((r) => p.startsWith(r + "/"))).length;
      } finally {
        await Deno.remove(root, { recursive: true });
      }
    }
    console.log(`  ${compared} files agree (${nested} in nested repositories)`);
    assert(compared > ROUNDS && skippedDirs > 0, "the random rules matched too rarely");
  },
);

testBackends("gitignore: the CLI's -gitignore prints what git lists", async (backend) => {
  const next = random(testSeed(`gitignore CLI [${backend}]`));
  for (let round = 0; round < ROUNDS / 3; round++) {
    const tree = randomTree(next);
    const root = await Deno.makeTempDir({ prefix: "ioq-gitignore-" });
    try {
      await writeTree(root, tree);
      const r = await walkCli([
        root,
        "-backend",
        backend,
        "-gitignore",
        "!",
        "-type",
        "d",
        "-print0",
      ]);
      assertEquals(r.code, 0, r.stderr);
      const got = records(r.stdout, 0).map((p) => new TextDecoder().decode(p.subarray(0, -1)));
      assertEquals(got.map((p) => p.slice(root.length + 1)).sort(), await gitFiles(root));
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  }
});

testBackends(
  ".ignore files outside a repository act as .gitignore files in one",
  async (backend) => {
    const next = random(testSeed(`.ignore [${backend}]`));
    for (let round = 0; round < ROUNDS / 2; round++) {
      const tree = randomTree(next, true);
      const root = await Deno.makeTempDir({ prefix: "ioq-ignore-" });
      try {
        await writeTree(root, tree, true);
        const got = await ways(root, backend);
        // The same rules as .gitignore files, in a repository, for git
        for (const path of tree.rules.keys()) {
          await Deno.rename(
            `${root}/${path}`,
            `${root}/${path.replace(/\.ignore$/, ".gitignore")}`,
          );
        }
        await git(root, ["init", "-q"]);
        const want = (await gitFiles(root)).map((p) =>
          p.replace(/(^|\/)\.gitignore$/, "$1.ignore")
        );
        const what = `round ${round}, rules ${JSON.stringify([...tree.rules])}`;
        for (const [way, paths] of got) assertEquals(paths, want.sort(), `${way}: ${what}`);
      } finally {
        await Deno.remove(root, { recursive: true });
      }
    }
  },
);

/** What tests/fixtures/gitignore_child.ts prints. */
interface ChildAccount {
  paths: string[];
  errors: { name: string; code: string; op: string; path: string }[];
}

testBackends(
  "gitignore: an unreadable .gitignore is reported (path, EACCES) and the walk goes on",
  async (backend) => {
    await using sandbox = await Sandbox.create(["tests/fixtures/gitignore_child.ts"]);
    const root = sandbox.path("tree");
    for (const d of ["", "/locked", "/open"]) await Deno.mkdir(`${root}${d}`, { mode: 0o755 });
    for (const f of ["a.log", "b.txt", "locked/c.log", "locked/d.txt", "open/e.log"]) {
      await Deno.writeTextFile(`${root}/${f}`, "");
    }
    await git(root, ["init", "-q"]);
    await Deno.writeTextFile(`${root}/.gitignore`, "*.txt\n");
    await Deno.writeTextFile(`${root}/locked/.gitignore`, "*.log\n");
    await Deno.writeTextFile(`${root}/open/.gitignore`, "*.log\n");
    await new Deno.Command("chmod", { args: ["-R", "a+rX", root] }).output();
    await Deno.chmod(`${root}/locked/.gitignore`, 0o000);

    const r = await sandbox.runAsNobody(
      sandbox.deno("tests/fixtures/gitignore_child.ts", ["-A"], [root, backend]),
    );
    assertEquals(r.code, 0, `the child failed: ${r.stderr}`);
    const result: Record<string, ChildAccount> = JSON.parse(r.stdout);
    // The unreadable file counts as empty: locked/c.log is kept, the rules above still apply
    const want = [".gitignore", "a.log", "locked", "locked/.gitignore", "locked/c.log", "open"]
      .map((p) => `${root}/${p}`).concat(`${root}/open/.gitignore`, root).sort();
    for (const [way, account] of Object.entries(result)) {
      const path = `${root}/locked/.gitignore`;
      assertEquals(account.errors, [
        { name: "PermissionDenied", code: "EACCES", op: "read ignore file", path },
      ], way);
      assertEquals([...account.paths].sort(), want, way);
    }
  },
  () => UNPRIVILEGED_SKIP,
);
