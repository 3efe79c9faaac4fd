/**
 * The CLI's command line and output streams: help, version, `--`, bad
 * usage (status 2, one line, no stack trace), errors during the walk
 * (status 1), write errors on stdout, and -count.
 *
 * @module
 */

import { assert, assertEquals, assertMatch, assertNotEquals } from "@std/assert";
import { CLI, CLI_FLAGS, find, records, run, sortedRecords, walkCli } from "./cli/run.ts";
import { makeTree } from "./helpers.ts";

/** Asserts an error output is one `walk:` line per error, with no stack trace. */
function assertCleanErrors(stderr: string, lines: number, what: string): void {
  const got = stderr.split("\n").filter((l) => l !== "");
  assertEquals(got.length, lines, `${what}: ${stderr}`);
  for (const line of got) assertMatch(line, /^walk: /, what);
  assert(!/^\s+at /m.test(stderr), `${what}: a stack trace: ${stderr}`);
}

Deno.test("walk --help, -h and -help print the usage on stdout; --version the version", async () => {
  for (const flag of ["--help", "-h", "-help", ". -maxdepth 0 --help"]) {
    const { code, stdout, stderr } = await walkCli(flag.split(" "));
    assertEquals(code, 0, flag);
    assertEquals(stderr, "", flag);
    assertMatch(new TextDecoder().decode(stdout), /^Usage: walk \[-H\] \[-L\] \[-P\]/, flag);
  }
  const version = await walkCli(["--version"]);
  assertEquals(version.code, 0);
  const { version: v } = JSON.parse(
    await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
  );
  assertEquals(new TextDecoder().decode(version.stdout), `walk (ioq) ${v}\n`);
});

Deno.test("walk rejects bad command lines with one line, status 2, where find fails too", async () => {
  const root = await makeTree(["f"]);
  try {
    for (
      const args of [
        ["-type"],
        ["-type", "x"],
        ["-type", "f,"],
        ["-type", "fd"],
        ["-maxdepth", "-1"],
        ["-maxdepth", "two"],
        ["-j", "0"],
        ["-j", "100000"],
        ["-name"],
        ["-bogus"],
        ["-backend", "fast"],
        [".", "-type", "f", "extra-root"],
        ["-type", "f", "a"],
        ["-type", "f", "a", "b"],
        ["(", "-name", "x"],
        ["-name", "x", ")"],
        ["(", ")"],
        ["!"],
        ["-a"],
        ["-name", "x", "-o"],
        ["-printf", "%"],
        ["-printf", "%{"],
        ["-size", "10q"],
        ["-size", ""],
        ["-perm", "999"],
        ["-perm", "+644"],
        ["-user", "no-such-user-here"],
        ["-group", ""],
        ["-newer", "/no/such/reference"],
        ["-mtime", "x"],
        ["-mmin", "--"],
        ["-links", "+x"],
        ["-exec", "echo"],
        ["-exec", ";"],
        ["-exec", "echo", "{}", "{}", "+"],
        ["-delete", "-prune"],
      ]
    ) {
      const what = args.join(" ");
      const [ours, theirs] = await Promise.all([
        walkCli(args, { cwd: root }),
        find(args, { cwd: root }),
      ]);
      assertEquals(ours.code, 2, `${what}: ${ours.stderr}`);
      assertEquals(ours.stdout.length, 0, what);
      assertCleanErrors(ours.stderr, 1, what);
      assertNotEquals(theirs.code, 0, `find accepts ${what}`);
    }
    // What find has and walk does not: said so, the same way
    for (const args of [["-regex", "x"], ["-fprint", "x"], ["-newerBt", "x"], ["-D", "tree"]]) {
      const ours = await walkCli(args, { cwd: root });
      assertEquals(ours.code, 2, args.join(" "));
      assertCleanErrors(ours.stderr, 1, args.join(" "));
      assertMatch(ours.stderr, /not supported/);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("walk reports errors during the walk as find does: one line each, status 1", async () => {
  const root = await makeTree(["a/", "a/f"]);
  try {
    for (const args of [[""], ["", `${root}/a`], [`${root}/missing`, `${root}/a`]]) {
      const [ours, theirs] = await Promise.all([walkCli(args), find(args)]);
      const what = JSON.stringify(args);
      assertEquals(ours.code, 1, what);
      assertEquals(theirs.code, 1, what);
      assertEquals(sortedRecords(ours.stdout), sortedRecords(theirs.stdout), what);
      assertCleanErrors(ours.stderr, 1, what);
    }
    const empty = await walkCli([""]);
    assertEquals(empty.stderr, "walk: '': No such file or directory\n");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("walk takes -- before the starting points, as find does", async () => {
  const root = await makeTree(["a/", "a/f"]);
  try {
    for (const args of [["--", root], ["-L", "--", root, "-name", "f"], ["-P", "--"]]) {
      const [ours, theirs] = await Promise.all([
        walkCli(args, { cwd: root }),
        find(args, { cwd: root }),
      ]);
      assertEquals(ours.code, 0, args.join(" "));
      assertEquals(sortedRecords(ours.stdout), sortedRecords(theirs.stdout), args.join(" "));
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** Runs the CLI with stdout redirected by the shell (`>&-`, `> /dev/full`, `| head`). */
function walkRedirected(args: string[], redirect: string) {
  const command = [Deno.execPath(), "run", ...CLI_FLAGS, CLI, ...args]
    .map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  return run("sh", ["-c", `${command} ${redirect}; echo "status $?" >&2`]);
}

Deno.test("walk reports write errors on stdout and exits with 1, as find does", async () => {
  const root = await makeTree(["a/", "a/f", "b"]);
  try {
    for (const redirect of ["> /dev/full", ">&-"]) {
      for (
        const args of [[root], [root, "-print0"], [root, "-printf", "%p %s\\n"], [root, "-count"]]
      ) {
        const { stdout, stderr } = await walkRedirected(args, redirect);
        const what = `${args.join(" ")} ${redirect}`;
        assertEquals(stdout.length, 0, what);
        const reason = redirect === ">&-" ? "Bad file descriptor" : "No space left on device";
        assertEquals(stderr, `walk: write error: ${reason}\nstatus 1\n`, what);
        const theirs = await run("sh", [
          "-c",
          `find ${args.map((a) => `'${a}'`).join(" ")} ${redirect}; echo "status $?" >&2`,
        ]);
        if (!args.includes("-count")) assertMatch(theirs.stderr, /write error[^]*status 1\n$/);
      }
    }
    // Nothing to write: nothing to fail, as with find
    const quiet = await walkRedirected([root, "-name", "nothing-matches"], ">&-");
    assertEquals(quiet.stderr, "status 0\n");
    // A reader that goes away is not an error
    const head = await run("sh", [
      "-c",
      `${Deno.execPath()} run ${
        CLI_FLAGS.join(" ")
      } ${CLI} /usr -maxdepth 4 | head -1 >/dev/null; echo "status \${PIPESTATUS:-}" >&2`,
    ]);
    assert(!head.stderr.includes("walk:"), head.stderr);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("walk -count prints how many entries the expression is true for", async () => {
  const root = await makeTree(["a/", "a/f.txt", "a/g", "b.txt", "empty/"]);
  try {
    for (
      const expr of [[], ["-name", "*.txt"], ["-type", "d"], ["-size", "0"], ["-mindepth", "1"]]
    ) {
      const ours = await walkCli([root, ...expr, "-count"]);
      const theirs = await find([root, ...expr, "-print0"]);
      assertEquals(ours.code, 0);
      assertEquals(
        new TextDecoder().decode(ours.stdout),
        `${records(theirs.stdout, 0).length}\n`,
        expr.join(" "),
      );
    }
    // With an action: printed and counted
    const both = await walkCli([root, "-name", "*.txt", "-print", "-count"]);
    const lines = new TextDecoder().decode(both.stdout).split("\n");
    assertEquals(lines.slice(-2), ["2", ""]);
    assertEquals(lines.slice(0, -2).sort(), [`${root}/a/f.txt`, `${root}/b.txt`]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
