/**
 * A generated git repository for the ignore-aware listing (issue 10): a
 * source tree with nested `.gitignore` files, a big ignored build
 * directory, `node_modules` directories at the top and in each package,
 * ignored `dist/` and `coverage/` directories, `.git/info/exclude`.  Made
 * once into bench/.cache/gitrepo-v<version>-s<seed>/root and reused while
 * the `manifest.json` beside it matches.
 *
 * The plan knows which files git lists (`git ls-files --others --cached
 * --exclude-standard`): the manifest's `listed`, every tool's expected
 * count.  The rules exercise anchoring (`/build/` at the top only, a
 * `build/` below `src` is listed), directory-only patterns, a negation
 * (`*.log`, `!keep.log`) that cannot re-include a file below an ignored
 * directory (`debug.log/keep.log`), nested ignore files that apply below
 * their directory only (`*.tmp`), `**` patterns and `.git/info/exclude`.
 * Some of the listed files are committed, the packages' are not.
 *
 * ```sh
 * deno run --allow-read --allow-write --allow-run bench/gitrepo.ts [--force]
 * ```
 *
 * @module
 */

import { int } from "./format.ts";
import { Rng } from "./tree_plan.ts";
import { CACHE, exists, output, progress } from "./util.ts";

/** The repository's size. */
export interface RepoParams {
  seed: number;
  /** Directories below src. */
  srcDirs: number;
  /** Files in build/ (ignored). */
  buildFiles: number;
  /** Packages under packages/, and modules in each node_modules. */
  packages: number;
  modules: number;
}

export const REPO_PARAMS: RepoParams = {
  seed: 1,
  srcDirs: 2_000,
  buildFiles: 60_000,
  packages: 12,
  modules: 60,
};

/** Bumped when the plan changes, so a cached repository is made again. */
const REPO_VERSION = 1;

/** The top .gitignore. */
const TOP_IGNORE = `# build output, dependencies, logs
/build/
node_modules/
*.o
*.log
!keep.log
.cache/
`;
/** .git/info/exclude. */
const EXCLUDE = "*.swp\n";
/** A .gitignore in some directories below src: applies below them only. */
const LOCAL_IGNORE = "generated/\n*.tmp\n";
/** Each package's .gitignore. */
const PACKAGE_IGNORE = "dist/\n/coverage/\n";
/** docs/.gitignore. */
const DOCS_IGNORE = "**/*.draft\n";

/** What to create: directories (each with its parents), files with their text, what git lists. */
interface RepoPlan {
  dirs: Set<string>;
  files: Map<string, string>;
  /** Files git lists. */
  listed: number;
  /** Paths to commit (git add skips what is ignored below them). */
  commit: string[];
}

/** The repository's manifest. */
export interface RepoManifest {
  generator: string;
  version: number;
  params: RepoParams;
  complete: boolean;
  dirs: number;
  files: number;
  /** Files `git ls-files --others --cached --exclude-standard` lists. */
  listed: number;
  /** Of those, committed. */
  committed?: number;
  generated: string;
  seconds?: number;
}

/** A generated repository. */
export interface GitRepo {
  root: string;
  manifest: RepoManifest;
}

/** Plans the repository (paths relative to its root). */
function planRepo(p: RepoParams): RepoPlan {
  const rng = new Rng(p.seed, 0x617);
  const plan: RepoPlan = { dirs: new Set(), files: new Map(), listed: 0, commit: [] };
  const dir = (path: string) => {
    for (
      let p = path;
      p !== "" && !plan.dirs.has(p);
      p = p.slice(0, Math.max(0, p.lastIndexOf("/")))
    ) {
      plan.dirs.add(p);
    }
  };
  const file = (path: string, listed: boolean, text = "") => {
    plan.files.set(path, text);
    if (listed) plan.listed++;
  };
  const words = ["core", "util", "net", "io", "parse", "view", "model", "test", "api", "cache"];
  const name = () => `${rng.pick(words)}${rng.int(100)}`;

  file(".gitignore", true, TOP_IGNORE);
  file(".editorconfig", true, "root = true\n");
  file(".env.example", true);
  file("README.md", true);
  plan.commit.push(".gitignore", ".editorconfig", ".env.example", "README.md", "src", "docs");

  // src: breadth first up to srcDirs directories; `local`: below a LOCAL_IGNORE
  const queue: { path: string; depth: number; local: boolean }[] = [
    { path: "src", depth: 0, local: false },
  ];
  let made = 0;
  for (let head = 0; head < queue.length; head++) {
    const { path, depth, local } = queue[head];
    dir(path);
    const hasIgnore = head > 0 && rng.int(8) === 0;
    const below = local || hasIgnore;
    if (hasIgnore) {
      file(`${path}/.gitignore`, true, LOCAL_IGNORE);
      dir(`${path}/generated`);
      for (let i = 0; i < 20; i++) file(`${path}/generated/${name()}_${i}.c`, false);
    }
    for (let i = 0, n = 3 + rng.int(12); i < n; i++) {
      const ext = rng.pick(["c", "h", "ts", "js", "json", "md", "o", "log", "swp", "tmp"]);
      file(
        `${path}/${name()}_${i}.${ext}`,
        !["o", "log", "swp"].includes(ext) &&
          !(ext === "tmp" && below),
      );
    }
    if (rng.int(10) === 0) file(`${path}/keep.log`, true);
    if (rng.int(10) === 0) file(`${path}/.eslintrc.json`, true);
    if (rng.int(40) === 0) {
      // Not the top's /build/: listed
      dir(`${path}/build`);
      for (let i = 0; i < 5; i++) file(`${path}/build/out_${i}.txt`, true);
    }
    if (rng.int(40) === 0) {
      // A directory *.log names: nothing below it, not even keep.log
      dir(`${path}/debug.log`);
      file(`${path}/debug.log/keep.log`, false);
      file(`${path}/debug.log/trace.txt`, false);
    }
    const subdirs = depth < 8 ? rng.int(7) : 0;
    for (let i = 0; i < subdirs && made < p.srcDirs; i++, made++) {
      queue.push({ path: `${path}/${name()}_d${i}`, depth: depth + 1, local: below });
    }
  }

  // build/: the big ignored directory
  for (let i = 0, n = 0; n < p.buildFiles; i++) {
    const d = `build/obj/d${i}`;
    dir(d);
    for (let j = 0; j < 50 && n < p.buildFiles; j++, n++) file(`${d}/${name()}_${j}.o`, false);
  }
  dir(".cache");
  for (let i = 0; i < 300; i++) file(`.cache/entry_${i}`, false);

  // node_modules/ at the top and in each package: ignored everywhere
  const modules = (at: string, count: number) => {
    const top = at ? `${at}/node_modules` : "node_modules";
    dir(top);
    for (let m = 0; m < count; m++) {
      const mod = `${top}/${name()}-${m}`;
      dir(`${mod}/lib`);
      file(`${mod}/package.json`, false, "{}\n");
      file(`${mod}/index.js`, false);
      for (let i = 0; i < 15; i++) file(`${mod}/lib/${name()}_${i}.js`, false);
      if (m % 3 === 0) {
        dir(`${mod}/node_modules/dep`);
        file(`${mod}/node_modules/dep/index.js`, false);
      }
    }
  };
  modules("", p.modules * 4);
  for (let k = 0; k < p.packages; k++) {
    const pkg = `packages/pkg-${k}`;
    dir(pkg);
    file(`${pkg}/package.json`, true, "{}\n");
    file(`${pkg}/.gitignore`, true, PACKAGE_IGNORE);
    file(`${pkg}/.eslintrc.json`, true);
    for (let d = 0; d < 3; d++) {
      dir(`${pkg}/src/m${d}`);
      for (let i = 0; i < 10; i++) file(`${pkg}/src/m${d}/${name()}_${i}.ts`, true);
    }
    dir(`${pkg}/dist`);
    for (let i = 0; i < 150; i++) file(`${pkg}/dist/${name()}_${i}.js`, false);
    dir(`${pkg}/coverage`);
    for (let i = 0; i < 50; i++) file(`${pkg}/coverage/${name()}_${i}.json`, false);
    // Anchored to the package: a coverage/ deeper down is listed
    dir(`${pkg}/src/m0/coverage`);
    file(`${pkg}/src/m0/coverage/index.ts`, true);
    modules(pkg, p.modules);
  }

  // docs: drafts ignored at any depth below docs
  file("docs/.gitignore", true, DOCS_IGNORE);
  for (const d of ["docs", "docs/guide", "docs/guide/advanced"]) {
    dir(d);
    for (let i = 0; i < 30; i++) file(`${d}/${name()}_${i}.md`, true);
    for (let i = 0; i < 5; i++) file(`${d}/${name()}_${i}.draft`, false);
  }
  return plan;
}

/** The repository's folder under bench/.cache. */
function repoDir(p: RepoParams): string {
  return `${CACHE}/gitrepo-v${REPO_VERSION}-s${p.seed}`;
}

/** Reads a manifest, or undefined. */
function readManifest(path: string): RepoManifest | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(path));
  } catch {
    return undefined;
  }
}

/** Runs git in `root` with no user or system configuration; throws when it fails. */
async function git(root: string, args: string[]): Promise<string> {
  const out = await output("git", ["-C", root, ...args], {
    env: { GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" },
  });
  if (out.code !== 0) throw new Error(`git ${args.join(" ")}: ${out.stderr.trim()}`);
  return out.stdout;
}

/**
 * The generated repository: the cached one when its manifest matches,
 * else made again (a minute or less).
 *
 * @throws {Error} When git is missing or fails.
 */
export async function ensureGitRepo(
  params: RepoParams = REPO_PARAMS,
  options: { force?: boolean } = {},
): Promise<GitRepo> {
  const dir = repoDir(params);
  const root = `${dir}/root`;
  const manifestPath = `${dir}/manifest.json`;
  const old = readManifest(manifestPath);
  if (
    !options.force && old?.complete && old.version === REPO_VERSION &&
    JSON.stringify(old.params) === JSON.stringify(params) && exists(`${root}/.git`)
  ) {
    return { root, manifest: old };
  }
  const started = performance.now();
  if (exists(dir)) Deno.removeSync(dir, { recursive: true });
  const plan = planRepo(params);
  progress(`gitrepo: generating ${int(plan.files.size)} files in ${root}`);
  Deno.mkdirSync(root, { recursive: true });
  const manifest: RepoManifest = {
    generator: "ioq bench/gitrepo.ts",
    version: REPO_VERSION,
    params,
    complete: false,
    dirs: plan.dirs.size,
    files: plan.files.size,
    listed: plan.listed,
    generated: new Date().toISOString(),
  };
  Deno.writeTextFileSync(manifestPath, JSON.stringify(manifest, null, 2) + "\n");
  await git(root, ["init", "-q"]);
  for (const d of plan.dirs) Deno.mkdirSync(`${root}/${d}`, { recursive: true });
  const encoder = new TextEncoder();
  for (const [path, text] of plan.files) {
    Deno.writeFileSync(`${root}/${path}`, encoder.encode(text));
  }
  Deno.writeTextFileSync(`${root}/.git/info/exclude`, EXCLUDE);
  await git(root, ["add", "--", ...plan.commit]);
  const who = ["-c", "user.name=ioq bench", "-c", "user.email=bench@ioq.invalid"];
  await git(root, [...who, "commit", "-q", "-m", "generated by bench/gitrepo.ts"]);
  manifest.committed = (await git(root, ["ls-files", "--cached"])).split("\n").length - 1;
  manifest.complete = true;
  manifest.seconds = Math.round((performance.now() - started) / 100) / 10;
  Deno.writeTextFileSync(manifestPath, JSON.stringify(manifest, null, 2) + "\n");
  progress(`gitrepo: done in ${manifest.seconds} s (${int(manifest.listed)} files listed)`);
  return { root, manifest };
}

/** One line about the repository, for the report. */
export function describeRepo(m: RepoManifest): string {
  return `${int(m.dirs + m.files + 1)} entries (${int(m.dirs)} directories and ${
    int(m.files)
  } files planned, .git aside), ${int(m.listed)} files not ignored (${
    int(m.committed ?? 0)
  } committed, the others untracked); seed ${m.params.seed}`;
}

if (import.meta.main) {
  const repo = await ensureGitRepo(REPO_PARAMS, { force: Deno.args.includes("--force") });
  console.log(`${repo.root}: ${describeRepo(repo.manifest)}`);
}
