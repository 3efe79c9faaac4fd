/**
 * Ignore files (csrc/ign.c) against git itself, through the test hook
 * `ioq_test_ign`, which answers for a described tree the way the walk will:
 * each directory above a path matched as an entry of its parent (an ignored
 * one ends the path there, with its rule), then the path, through one frame
 * per directory.
 *
 * git's answer for every path comes from `git check-ignore --no-index -v -n
 * --stdin -z`, which gives one verdict per path with the rule that decided
 * it (file and line), negations included, and applies git's rule that a
 * path inside an excluded directory is excluded (by that directory's rule),
 * whatever is below.  `git ls-files --others --ignored` and `git status
 * --ignored` would not do: they list an ignored directory once, collapsed,
 * or only the ignored files in it, and show neither the rule nor the
 * negations.  Inside a nested repository the inner repository is asked
 * (git does not apply the outer rules there), after the outer one has
 * answered for the repository's directory itself.
 *
 * git runs with its environment cleared: HOME and XDG_CONFIG_HOME in a
 * temporary directory, GIT_CONFIG_NOSYSTEM=1, so no user or system
 * configuration (core.excludesFile) interferes.
 *
 *  - Random repositories (seeded from $IOQ_TEST_SEED, or random; printed):
 *    nested directories and repositories, `.gitignore` files at any level
 *    and `.git/info/exclude`, with rules drawn from every feature, compared
 *    path by path, verdict, file and line.
 *  - Every byte in every class, and bytes against `?` and ranges.
 *  - `.ignore` files, which git does not read: hand-written cases of the
 *    precedence csrc/ign.h documents (fd's), and the same trees listed by
 *    fd itself when it is installed.
 *
 * @module
 */

import { assert, assertEquals, fail } from "@std/assert";
import { ffi, LOCAL_LIBRARY } from "../lib/ffi.ts";
import { git, GIT_HOME } from "./git.ts";
import { randomBelow, testSeed } from "./helpers.ts";
import { createRaw, mkdirRaw } from "./libc.ts";

/** The test hook, from the library the queues use (test symbols stay out of lib/ffi.ts). */
ffi();
const hook = Deno.dlopen(Deno.env.get("IOQ_LIBRARY") || LOCAL_LIBRARY, {
  ioq_test_ign: { parameters: ["buffer", "u32", "buffer", "u32"], result: "i32" },
});

/** The seed: $IOQ_TEST_SEED, or random (printed). */
const SEED = testSeed("ign_test");

/*
 * Paths and file contents are bytes; they are kept as binary strings (one
 * character per byte), which compare and index exactly.
 */

/** A binary string of a text's UTF-8 bytes. */
function utf8(text: string): string {
  return String.fromCharCode(...new TextEncoder().encode(text));
}

/** The bytes of a binary string. */
function toBytes(bin: string): Uint8Array {
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** The binary string of bytes. */
function fromBytes(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return out;
}

/** A path with UTF-8 names, from its binary string, for Deno's and git's arguments. */
function decodePath(bin: string): string {
  return new TextDecoder("utf-8", { fatal: true }).decode(toBytes(bin));
}

/** A readable form of a binary string, for messages. */
function show(bin: string): string {
  return JSON.stringify(bin.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16)}`));
}

/**
 * What an entry of a tree is.  An absent one is asked about but not made:
 * git reads the rules of its directory all the same, and sees no directory
 * there (which is all a file is to the rules).
 */
type Kind = "dir" | "file" | "link" | "absent";

/** A tree to build and ask about. */
interface Tree {
  /** Every entry below the top but ignore files, parents first. */
  entries: Map<string, Kind>;
  /** The ignore files: path, contents. */
  files: Map<string, string>;
  /** The repositories' roots ("" for the top). */
  repos: string[];
}

/** A verdict, with the file and line that decided it, as the hook and git give them. */
interface Verdict {
  /** 0 none, 1 ignored, 2 re-included (enum ign_verdict). */
  verdict: number;
  /** The deciding ignore file's path, or "". */
  file: string;
  /** Its line, or 0. */
  line: number;
}

/** The paths a tree is asked about: every entry and every ignore file outside `.git`. */
function queries(tree: Tree): [string, boolean][] {
  const out: [string, boolean][] = [];
  for (const [path, kind] of tree.entries) out.push([path, kind === "dir"]);
  for (const path of tree.files.keys()) {
    if (!path.split("/").includes(".git")) out.push([path, false]);
  }
  return out;
}

/** The hook's verdicts on a tree's paths. */
function hookVerdicts(tree: Tree, paths: [string, boolean][]): Verdict[] {
  const parts: number[] = [];
  const u32 = (n: number) => parts.push(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24);
  const str = (s: string) => {
    u32(s.length);
    for (let i = 0; i < s.length; i++) parts.push(s.charCodeAt(i));
  };
  const files = [...tree.files];
  for (const [path, text] of files) {
    parts.push(1);
    str(path);
    str(text);
  }
  for (const repo of tree.repos) {
    parts.push(2);
    str(repo);
  }
  for (const [path, dir] of paths) {
    parts.push(3, dir ? 1 : 0);
    str(path);
  }
  const spec = new Uint8Array(parts);
  const out = new Int32Array(3 * paths.length);
  const ret = hook.symbols.ioq_test_ign(spec, spec.length, out, out.length);
  assertEquals(ret, paths.length, `ioq_test_ign() failed: ${ret}`);
  return paths.map((_, i) => ({
    verdict: out[3 * i],
    file: out[3 * i + 1] < 0 ? "" : files[out[3 * i + 1]][0],
    line: out[3 * i + 2],
  }));
}

/** Writes a tree under `root` (an ASCII path), with a git repository at each root. */
async function writeTree(root: string, tree: Tree): Promise<void> {
  const full = (path: string) => toBytes(utf8(root) + (path ? "/" + path : ""));
  for (const [path, kind] of tree.entries) {
    if (kind === "dir") mkdirRaw(full(path));
    else if (kind === "file") createRaw(full(path));
  }
  for (const repo of tree.repos) await git(root, ["init", "-q", `./${decodePath(repo)}`]);
  // Links and ignore files sit in directories with UTF-8 names
  for (const [path, kind] of tree.entries) {
    if (kind === "link") {
      Deno.symlinkSync(path.includes("/") ? "../a" : "a", `${root}/${decodePath(path)}`);
    }
  }
  for (const [path, text] of tree.files) {
    Deno.writeFileSync(`${root}/${decodePath(path)}`, toBytes(text));
  }
}

/** @return The innermost repository root that holds `path` ("" for the top). */
function repoOf(tree: Tree, path: string): string {
  let best = "";
  for (const repo of tree.repos) {
    if (repo && path.startsWith(repo + "/") && repo.length > best.length) best = repo;
  }
  return best;
}

/** git check-ignore's verdicts on paths of one repository (paths relative to it). */
async function checkIgnore(
  root: string,
  repo: string,
  paths: string[],
): Promise<Map<string, Verdict>> {
  const cwd = repo ? `${root}/${decodePath(repo)}` : root;
  const input = toBytes(paths.map((p) => p + "\0").join(""));
  const fields = fromBytes(
    await git(cwd, ["check-ignore", "--no-index", "-v", "-n", "--stdin", "-z"], { input, ok: [1] }),
  ).split("\0");
  const out = new Map<string, Verdict>();
  for (let i = 0; i + 3 < fields.length; i += 4) {
    const [source, line, pattern, path] = fields.slice(i, i + 4);
    const prefix = repo ? repo + "/" : "";
    out.set(path, {
      verdict: source === "" ? 0 : pattern.startsWith("!") ? 2 : 1,
      file: source === "" ? "" : prefix + source,
      line: source === "" ? 0 : Number(line),
    });
  }
  return out;
}

/**
 * git's verdict on every path: in its innermost repository, unless the
 * directory of a nested repository holding it is ignored by the repository
 * around it (the walk does not go in).
 */
async function gitVerdicts(
  root: string,
  tree: Tree,
  paths: [string, boolean][],
): Promise<Verdict[]> {
  const asked = new Map<string, string[]>();
  const ask = (repo: string, path: string) => {
    const list = asked.get(repo) ?? [];
    list.push(repo ? path.slice(repo.length + 1) : path);
    asked.set(repo, list);
  };
  for (const [path] of paths) ask(repoOf(tree, path), path);
  for (const repo of tree.repos) if (repo) ask(repoOf(tree, repo), repo);
  const answers = new Map<string, Map<string, Verdict>>();
  for (const [repo, list] of asked) answers.set(repo, await checkIgnore(root, repo, list));
  const answer = (path: string): Verdict => {
    const repo = repoOf(tree, path);
    const rel = repo ? path.slice(repo.length + 1) : path;
    const v = answers.get(repo)!.get(rel);
    assert(v, `git gave no answer for ${show(path)}`);
    return v;
  };
  return paths.map(([path]) => {
    // The nested repositories holding the path, outermost first
    const holders = tree.repos.filter((r) => r && path.startsWith(r + "/"))
      .sort((a, b) => a.length - b.length);
    for (const repo of holders) {
      const v = answer(repo);
      if (v.verdict === 1) return v;
    }
    return answer(path);
  });
}

/**
 * Compares the hook with git on a tree; the message shows the tree on a
 * mismatch.  @returns The verdicts, which agree.
 */
async function compareWithGit(tree: Tree, what: string): Promise<Verdict[]> {
  const root = await Deno.makeTempDir({ prefix: "ioq-ign-" });
  try {
    await writeTree(root, tree);
    const paths = queries(tree);
    const want = await gitVerdicts(root, tree, paths);
    const got = hookVerdicts(tree, paths);
    for (let i = 0; i < paths.length; i++) {
      if (JSON.stringify(got[i]) !== JSON.stringify(want[i])) {
        const files = [...tree.files].map(([p, t]) => `  ${show(p)}: ${show(t)}`).join("\n");
        fail(
          `${what}: ${show(paths[i][0])}${paths[i][1] ? " (dir)" : ""}: ` +
            `${JSON.stringify(got[i])}, git says ${JSON.stringify(want[i])}\n` +
            `repositories: ${JSON.stringify(tree.repos)}\nignore files:\n${files}`,
        );
      }
    }
    return got;
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** Directory names: UTF-8, odd for the pattern syntax. */
// deno-fmt-ignore
const DIR_NAMES = [
  "a", "b", "ab", "ba", "abc", "build", "lib", "src", "x.d", "a b", "a ", "#a", "!a", "[a]",
  "a*", "a?", "\\a", "A", "B", utf8("é"), utf8("dé"), "-", "a]", ".hid",
];

/** File names: the same, a few more (raw bytes, CR, tab, spaces at the end). */
// deno-fmt-ignore
const FILE_NAMES = [
  ...DIR_NAMES, "a.c", "b.o", "x.log", "a.txt", "A.C", "\xff", "a\xff", "a\r", "a\tb", "a  ",
  utf8("ü.c"), "keep.log", ".gitignore.bak",
];

/** Builds a random tree and ignore files, from a seed. */
function randomTree(random: (n: number) => number): Tree {
  const pick = <T>(list: readonly T[]): T => list[random(list.length)];
  const tree: Tree = { entries: new Map(), files: new Map(), repos: [""] };
  const dirs: string[] = [""];
  const grow = (dir: string, depth: number) => {
    const used = new Set<string>();
    for (let n = 2 + random(5); n > 0; n--) {
      const kind: Kind = random(depth < 2 ? 3 : 2 * depth) === 0
        ? "dir"
        : random(12) === 0
        ? "link"
        : "file";
      const name = kind === "dir"
        ? pick(DIR_NAMES)
        : kind === "link"
        ? pick(["ln", "ab", "a", "lib"])
        : pick(FILE_NAMES);
      if (used.has(name)) continue;
      used.add(name);
      const path = dir ? `${dir}/${name}` : name;
      tree.entries.set(path, kind);
      if (kind === "dir") {
        dirs.push(path);
        grow(path, depth + 1);
      }
    }
  };
  grow("", 0);
  // Nested repositories, sometimes
  for (const dir of dirs) {
    if (dir && random(8) === 0) tree.repos.push(dir);
  }
  // Ignore files: the top's, some directories', each repository's exclude
  for (const dir of dirs) {
    if (dir === "" || random(3) === 0) {
      const below = [...tree.entries.keys()]
        .filter((p) => dir === "" || p.startsWith(dir + "/"))
        .map((p) => dir ? p.slice(dir.length + 1) : p);
      tree.files.set(dir ? `${dir}/.gitignore` : ".gitignore", randomFile(random, below));
    }
  }
  for (const repo of tree.repos) {
    if (random(2) === 0) {
      const below = [...tree.entries.keys()].filter((p) => repo === "" || p.startsWith(repo + "/"))
        .map((p) => repo ? p.slice(repo.length + 1) : p);
      tree.files.set(
        repo ? `${repo}/.git/info/exclude` : ".git/info/exclude",
        randomFile(random, below),
      );
    }
  }
  return tree;
}

/** A random ignore file whose rules aim at the paths below its directory. */
function randomFile(random: (n: number) => number, below: string[]): string {
  const lines: string[] = [];
  for (let n = 1 + random(8); n > 0; n--) lines.push(randomRule(random, below));
  const eol = random(6) === 0 ? "\r\n" : "\n";
  const bom = random(15) === 0 ? "\xef\xbb\xbf" : "";
  return bom + lines.join(eol) + (random(3) === 0 ? "" : eol);
}

/** A random line: comments, blank lines, odd escapes, malformed sets, and patterns made from paths. */
function randomRule(random: (n: number) => number, below: string[]): string {
  const pick = <T>(list: readonly T[]): T => list[random(list.length)];
  const roll = random(100);
  if (roll < 3) return "#" + pick(FILE_NAMES);
  if (roll < 5) return pick(["", "   ", "\t", "\\#a", "\\!a", "!", "/", "**", "\\", "a\\"]);
  if (roll < 7) return pick(["[ab", "[[:nope:]]", "a[", "[]", "[!]", "[[:alpha:]", "[[:alpha]]"]);
  const target = below.length > 0 && random(5) !== 0 ? pick(below) : pick(FILE_NAMES);
  let comps = target.split("/");
  if (comps.length > 1 && random(3) === 0) comps = comps.slice(random(comps.length));
  comps = comps.map((c) => mutate(random, c));
  const form = random(12);
  if (form === 0) comps.unshift("**");
  else if (form === 1) comps.push("**");
  else if (form === 2 && comps.length > 1) comps.splice(1 + random(comps.length - 1), 0, "**");
  else if (form === 3) comps[random(comps.length)] = pick(["*", "**", "***", "*?", "?*"]);
  let pattern = comps.join("/");
  if (random(4) === 0) pattern = "/" + pattern;
  if (random(5) === 0) pattern += "/";
  if (random(4) === 0) pattern = "!" + pattern;
  if (random(12) === 0) pattern += "  ";
  if (random(20) === 0) pattern += "\\ ";
  return pattern;
}

/** A component of a pattern made from a name: wildcards, sets, classes, escapes. */
function mutate(random: (n: number) => number, name: string): string {
  const roll = random(20);
  if (roll === 0) return "*";
  if (roll === 1 && name.length > 1) return "*" + escape(name.slice(1 + random(name.length - 1)));
  if (roll === 2 && name.length > 1) {
    return escape(name.slice(0, 1 + random(name.length - 1))) + "*";
  }
  let out = "";
  for (const c of name) {
    const r = random(30);
    if (r === 0) out += "?";
    else if (r === 1) out += `[${c === "]" ? "\\]" : c}z]`;
    else if (r === 2) out += `[!q]`;
    else if (r === 3) out += /[a-z]/i.test(c) ? "[[:alpha:]]" : "[[:punct:]]";
    else if (r === 4) out += `[${c}-z]`;
    else if (r === 5) out += `\\${c}`;
    else if (r === 6) out += c;
    else out += escape(c);
  }
  return out;
}

/** A name's bytes as a pattern that matches them literally (mostly: git decides anyway). */
function escape(name: string): string {
  return name.replace(/[*?[\\]/g, "\\$&").replace(/^[!#]/, "\\$&");
}

Deno.test("ign: random repositories agree with git check-ignore, path by path", async () => {
  const random = randomBelow(SEED);
  let paths = 0, ignored = 0, included = 0, nested = 0;
  for (let round = 0; round < 30; round++) {
    const tree = randomTree(random);
    const verdicts = await compareWithGit(tree, `seed ${SEED}, round ${round}`);
    paths += verdicts.length;
    ignored += verdicts.filter((v) => v.verdict === 1).length;
    included += verdicts.filter((v) => v.verdict === 2).length;
    nested += queries(tree).filter(([p]) => repoOf(tree, p) !== "").length;
  }
  console.error(
    `  ${paths} paths agree (${ignored} ignored, ${included} re-included, ${nested} in nested repositories)`,
  );
  // The trees must exercise both sides
  assert(ignored > paths / 10 && included > 0, "the random rules matched too rarely");
});

/** The classes a set may name. */
// deno-fmt-ignore
const CLASSES = [
  "alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space", "upper",
  "xdigit",
];

Deno.test("ign: every byte in every class, `?` and ranges agree with git", async () => {
  const tree: Tree = { entries: new Map(), files: new Map(), repos: [""] };
  const patterns: Record<string, string> = {};
  for (const cls of CLASSES) {
    patterns[cls] = `x[[:${cls}:]]\ny[![:${cls}:]]\n`;
  }
  patterns.any = "x?\ny??\n";
  patterns.range = "x[\x80-\xff]\ny[\t-~]\n";
  for (const [dir, text] of Object.entries(patterns)) {
    tree.entries.set(dir, "dir");
    tree.files.set(`${dir}/.gitignore`, text);
    for (let b = 1; b < 256; b++) {
      if (b === 0x2f) continue;
      tree.entries.set(`${dir}/x${String.fromCharCode(b)}`, "absent");
      tree.entries.set(`${dir}/y${String.fromCharCode(b)}`, "absent");
    }
    tree.entries.set(`${dir}/x${utf8("é")}`, "absent");
    tree.entries.set(`${dir}/y${utf8("é")}`, "absent");
  }
  const verdicts = await compareWithGit(tree, "classes");
  console.error(`  ${verdicts.length} paths agree`);
});

/** A hand-written case of `.ignore` precedence: files, and the paths ignored among the tree's. */
interface PrecedenceCase {
  name: string;
  tree: Tree;
  ignored: string[];
}

/** A tree from a list of paths (a trailing `/` for directories) and ignore files. */
function handTree(paths: string[], files: Record<string, string>, repos: string[]): Tree {
  const entries = new Map<string, Kind>();
  for (const p of paths) entries.set(p.replace(/\/$/, ""), p.endsWith("/") ? "dir" : "file");
  return { entries, files: new Map(Object.entries(files)), repos };
}

/** The `.ignore` precedence csrc/ign.h documents (fd's), case by case. */
const PRECEDENCE: PrecedenceCase[] = [
  {
    name: ".ignore beats a deeper .gitignore",
    tree: handTree(["a.log", "sub/", "sub/a.log", "sub/b.log"], {
      ".ignore": "!a.log\n",
      "sub/.gitignore": "*.log\n",
    }, [""]),
    ignored: ["sub/b.log"],
  },
  {
    name: "a deeper .ignore re-includes what a .gitignore above ignores",
    tree: handTree(["keep.tmp", "sub/", "sub/keep.tmp", "sub/x.tmp"], {
      ".gitignore": "*.tmp\n",
      "sub/.ignore": "!keep.tmp\n",
    }, [""]),
    ignored: ["keep.tmp", "sub/x.tmp"],
  },
  {
    name: "in one directory, .ignore beats .gitignore",
    tree: handTree(["a", "b", "c"], { ".gitignore": "a\n!b\nc\n", ".ignore": "!a\nb\n" }, [""]),
    ignored: ["b", "c"],
  },
  {
    name: "a deeper .ignore beats a shallower one",
    tree: handTree(["x.bak", "sub/", "sub/x.bak"], {
      ".ignore": "*.bak\n",
      "sub/.ignore": "!x.bak\n",
    }, [""]),
    ignored: ["x.bak"],
  },
  {
    name: "a directory ignored by .ignore hides what a .gitignore inside re-includes",
    tree: handTree(["d/", "d/x", "d/y"], { ".ignore": "d/\n", "d/.gitignore": "!x\n" }, [""]),
    ignored: ["d", "d/x", "d/y"],
  },
  {
    name: ".ignore files reach into a nested repository; .gitignore files do not",
    tree: handTree(["n/", "n/x.c", "n/x.bak", "n/x.o", "x.c"], {
      ".ignore": "*.bak\n",
      ".gitignore": "*.c\n",
      "n/.gitignore": "*.o\n",
    }, ["", "n"]),
    ignored: ["n/x.bak", "n/x.o", "x.c"],
  },
  {
    name: "outside a repository, .ignore applies and .gitignore does not",
    tree: handTree(["a", "b"], { ".ignore": "a\n", ".gitignore": "b\n" }, []),
    ignored: ["a"],
  },
];

Deno.test("ign: .ignore files take precedence as fd's do (hand-written cases)", () => {
  for (const c of PRECEDENCE) {
    const paths = [...c.tree.entries].map(([p, kind]): [string, boolean] => [p, kind === "dir"]);
    const got = hookVerdicts(c.tree, paths).map((v, i) => [paths[i][0], v.verdict] as const)
      .filter(([, v]) => v === 1).map(([p]) => p);
    assertEquals(got.sort(), [...c.ignored].sort(), c.name);
  }
});

/** fd, if installed (Debian names it fdfind). */
const FD = ["fdfind", "fd"].find((cmd) => {
  try {
    return new Deno.Command(cmd, { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
});

Deno.test({
  name: "ign: the hand-written .ignore cases agree with fd",
  ignore: FD === undefined,
  async fn() {
    for (const c of PRECEDENCE) {
      const root = await Deno.makeTempDir({ prefix: "ioq-ign-fd-" });
      try {
        await writeTree(root, c.tree);
        const out = new Deno.Command(FD!, {
          args: [
            "--hidden",
            "--no-global-ignore-file",
            "--exclude",
            ".git",
            "--print0",
            "--base-directory",
            root,
          ],
          clearEnv: true,
          env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME: GIT_HOME },
          stdout: "piped",
          stderr: "piped",
        }).outputSync();
        assert(out.success, `${FD} failed: ${new TextDecoder().decode(out.stderr)}`);
        const listed = new Set(
          new TextDecoder().decode(out.stdout).split("\0").filter((p) => p !== "")
            .map((p) => p.replace(/^\.\//, "").replace(/\/$/, "")),
        );
        const kept = [...c.tree.entries.keys()].filter((p) => !c.ignored.includes(p));
        const ignoreFiles = [...c.tree.files.keys()];
        const fdKept = [...listed].filter((p) => !ignoreFiles.includes(p));
        assertEquals(
          fdKept.sort(),
          kept.sort(),
          `${c.name} (fd lists ${[...listed].join(", ")})`,
        );
      } finally {
        await Deno.remove(root, { recursive: true });
      }
    }
  },
});
