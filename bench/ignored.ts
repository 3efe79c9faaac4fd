/**
 * Ignore-aware listing (issue 10): the ioq CLI with `-gitignore` against fd
 * and `git ls-files`, whole processes through bench/rusage.c
 * (bench/whole.ts `compare`: a counting round, then alternating rounds),
 * on the repository bench/gitrepo.ts generates.
 *
 * Each lists the same set, the files git would list, one per line:
 *
 * - `ioq cli ROOT -gitignore -type f`;
 * - `fd --hidden --exclude .git --type f . ROOT`: fd honours .gitignore by
 *   default, but leaves dot files out (`--hidden` lists them, as git
 *   does), and with `--hidden` it lists .git's own files (`--exclude
 *   .git`); git lists files only (`--type f`);
 * - `git -C ROOT ls-files --others --cached --exclude-standard`: the
 *   committed files and the untracked ones no ignore file names.
 *
 * Every count must be the plan's (the manifest's `listed`).  No user
 * configuration is read: git runs with `GIT_CONFIG_GLOBAL=/dev/null` and
 * `GIT_CONFIG_NOSYSTEM=1`, fd with `HOME` and `XDG_CONFIG_HOME` an empty
 * directory (no global ignore file); the repository has no symlinks.
 *
 * @module
 */

import { describeRepo, type GitRepo } from "./gitrepo.ts";
import { CACHE, which } from "./util.ts";
import { cliCommand, compare, type Comparison, type Tool, version } from "./whole.ts";

/** The three listings, their versions, and what is missing. */
export async function ignoreTools(): Promise<
  { tools: Tool[]; versions: Record<string, string>; missing: string[] }
> {
  const tool = (t: Pick<Tool, "key" | "label" | "pre" | "post"> & Partial<Tool>): Tool => ({
    predicates: false,
    output: "lines",
    offset: 0,
    ioq: false,
    ...t,
  });
  const tools = [tool({
    key: "ioq",
    label: "ioq cli -gitignore -type f",
    pre: cliCommand(),
    post: ["-gitignore", "-type", "f"],
    ioq: true,
  })];
  const versions: Record<string, string> = {};
  const missing: string[] = [];
  const fd = which("fdfind") ?? which("fd");
  if (fd) {
    const home = `${CACHE}/empty-home`;
    Deno.mkdirSync(home, { recursive: true });
    tools.push(tool({
      key: "fd",
      label: "fd --hidden --exclude .git --type f",
      pre: [fd, "--hidden", "--exclude", ".git", "--type", "f", "."],
      post: [],
      env: { HOME: home, XDG_CONFIG_HOME: home },
    }));
  } else missing.push("fd: neither fdfind nor fd is on PATH (apt: fd-find)");
  const git = which("git");
  if (git) {
    tools.push(tool({
      key: "git",
      label: "git ls-files",
      pre: [git, "-C"],
      post: ["ls-files", "--others", "--cached", "--exclude-standard"],
      env: { GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" },
    }));
    versions.git = `${await version(git)} (${git})`;
  } else missing.push("git: not on PATH");
  return { tools, versions, missing };
}

/** The listings of the generated repository, compared. */
export interface IgnoredListing {
  comparison: Comparison;
  /** The repository, in one line. */
  about: string;
}

/** Times the listings on the repository; see the module documentation. */
export async function compareIgnored(
  repo: GitRepo,
  tools: Tool[],
  rusage: string,
  rounds: number,
  say: (message: string) => void,
): Promise<IgnoredListing> {
  const comparison = await compare("generated git repository", repo.root, tools, {
    rusage,
    rounds,
    expected: repo.manifest.listed,
    say,
  });
  return { comparison, about: describeRepo(repo.manifest) };
}
