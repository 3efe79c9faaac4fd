/**
 * The CLI against find(1): the same paths (sorted, byte for byte) for the
 * same predicates, on both backends and both orders; exit statuses.
 *
 * @module
 */

import { assert, assertEquals, assertMatch } from "@std/assert";
import { BACKENDS, makeTree } from "./helpers.ts";
import { bytes, createRaw, mkdirRaw, mkFifo, mkSocket } from "./libc.ts";
import { Sandbox, UNPRIVILEGED_SKIP } from "./unprivileged.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

/** Runs a command; returns status, stdout bytes and stderr text. */
async function run(cmd: string, args: string[], cwd?: string) {
  const { code, stdout, stderr } = await new Deno.Command(cmd, {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  return { code, stdout, stderr: new TextDecoder().decode(stderr) };
}

/** Runs the CLI. */
function walkCli(args: string[], cwd?: string) {
  return run(
    Deno.execPath(),
    ["run", "--allow-ffi", "--allow-read", "--allow-env", CLI, ...args],
    cwd,
  );
}

/** Splits NUL-terminated output into sorted byte strings (as hex, to compare exactly). */
function records(out: Uint8Array): string[] {
  const hex: string[] = [];
  let start = 0;
  for (let i = 0; i < out.length; i++) {
    if (out[i] === 0) {
      hex.push(Array.from(out.subarray(start, i), (b) => b.toString(16).padStart(2, "0")).join(""));
      start = i + 1;
    }
  }
  assertEquals(start, out.length, "output ends with a NUL");
  return hex.sort();
}

/** A tree with every kind of entry and awkward names. */
async function awkwardTree(): Promise<string> {
  const root = await makeTree([
    "a/b/c/",
    "a/b/c/deep.txt",
    "a/file.txt",
    "empty/",
    "with space/",
    "with space/inner file",
    "line\nbreak",
    "back\\slash",
    "star*name",
    "-dash",
    "ünïcödé/",
    "ünïcödé/ok.txt",
  ]);
  Deno.symlinkSync("a/file.txt", `${root}/link-file`);
  Deno.symlinkSync("a", `${root}/link-dir`);
  Deno.symlinkSync("nowhere", `${root}/broken`);
  Deno.symlinkSync("self", `${root}/self`);
  Deno.symlinkSync("..", `${root}/a/up`);
  mkFifo(`${root}/fifo`);
  mkSocket(`${root}/socket`);
  createRaw(bytes(root, "/bad-", [0xff], "-file"));
  Deno.mkdirSync(new TextDecoder().decode(bytes(root, "/tmpdir")));
  // A directory whose name is not UTF-8, with a file inside
  mkdirRaw(bytes(root, "/dir-", [0xc3, 0x28]));
  createRaw(bytes(root, "/dir-", [0xc3, 0x28], "/inside"));
  return root;
}

const PREDICATES = [
  [],
  ["-type", "f"],
  ["-type", "d"],
  ["-type", "l"],
  ["-name", "*.txt"],
  ["-name", "[a-c]*"],
  ["-maxdepth", "1"],
  ["-mindepth", "2"],
  ["-maxdepth", "2", "-mindepth", "1", "-type", "d"],
  ["-L"],
  ["-L", "-type", "f"],
  ["-L", "-type", "l"],
];

for (const { backend, skip } of BACKENDS) {
  for (const order of ["bfs", "dfs"]) {
    Deno.test({
      name: `walk CLI prints what find prints [${backend}, ${order}]`,
      ignore: skip !== undefined,
      async fn(t) {
        const root = await awkwardTree();
        try {
          for (const predicates of PREDICATES) {
            for (const rootArg of [root, `${root}/`]) {
              await t.step(
                `${rootArg === root ? "ROOT" : "ROOT/"} ${predicates.join(" ")}`,
                async () => {
                  const flags = [
                    ...predicates,
                    "-backend",
                    backend,
                    ...(order === "dfs" ? ["-dfs"] : []),
                  ];
                  const ours = await walkCli([rootArg, ...flags, "-print0"]);
                  // find wants -L before the paths
                  const follow = predicates[0] === "-L";
                  const rest = follow ? predicates.slice(1) : predicates;
                  const theirs = await run("find", [
                    ...(follow ? ["-L"] : []),
                    rootArg,
                    ...rest,
                    "-print0",
                  ]);
                  assertEquals(records(ours.stdout), records(theirs.stdout));
                  assertEquals(ours.code, theirs.code, `exit status (stderr: ${ours.stderr})`);
                  assertEquals(ours.stderr === "", theirs.stderr === "", "errors reported alike");
                },
              );
            }
          }
          await t.step("root '.' from the cwd", async () => {
            const ours = await walkCli(["-backend", backend, "-print0"], root);
            const theirs = await run("find", [".", "-print0"], root);
            assertEquals(records(ours.stdout), records(theirs.stdout));
          });
          await t.step("several roots, one missing", async () => {
            const args = [`${root}/a`, `${root}/missing`, `${root}/empty`];
            const ours = await walkCli([...args, "-backend", backend, "-print0"]);
            const theirs = await run("find", [...args, "-print0"]);
            assertEquals(records(ours.stdout), records(theirs.stdout));
            assertEquals(ours.code, 1);
            assertMatch(ours.stderr, /missing'?: No such file or directory/);
          });
          await t.step("-count", async () => {
            const ours = await walkCli([root, "-backend", backend, "-count"]);
            const theirs = await run("find", [root, "-print0"]);
            assertEquals(
              new TextDecoder().decode(ours.stdout),
              `${records(theirs.stdout).length}\n`,
            );
          });
        } finally {
          await Deno.remove(root, { recursive: true });
        }
      },
    });
  }
}

Deno.test("walk CLI prints every directory before what is inside it, newline-separated", async () => {
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

Deno.test("walk CLI rejects bad arguments with the usage and status 2", async () => {
  for (
    const args of [
      ["-type"],
      ["-type", "x"],
      ["-maxdepth", "-1"],
      ["-maxdepth", "two"],
      ["-j", "0"],
      ["-name"],
      ["-bogus"],
      ["-backend", "fast"],
      [".", "-type", "f", "extra-root"],
    ]
  ) {
    const { code, stdout, stderr } = await walkCli(args);
    assertEquals(code, 2, args.join(" "));
    assertEquals(stdout.length, 0);
    assertMatch(stderr, /Usage: walk/);
  }
});

if (UNPRIVILEGED_SKIP) {
  console.error(`NOTE: the CLI's EACCES test is ignored: ${UNPRIVILEGED_SKIP}`);
}

Deno.test({
  name: "walk CLI reports an unreadable directory, goes on, and exits with 1 (as nobody)",
  ignore: UNPRIVILEGED_SKIP !== undefined,
  async fn() {
    await using sandbox = await Sandbox.create(["cli.ts"]);
    const root = sandbox.path("tree");
    for (const d of ["ok", "locked", "after"]) {
      await Deno.mkdir(`${root}/${d}`, { recursive: true });
    }
    for (const f of ["ok/f", "locked/secret", "after/g"]) {
      await Deno.writeTextFile(`${root}/${f}`, "");
    }
    for (const d of ["", "/ok", "/after"]) await Deno.chmod(`${root}${d}`, 0o755);
    await Deno.chmod(`${root}/locked`, 0o000);
    const permissions = ["--allow-ffi", "--allow-read", "--allow-env"];
    const ours = await sandbox.runAsNobody(sandbox.deno("cli.ts", permissions, [root, "-print0"]));
    const theirs = await sandbox.runAsNobody(["find", root, "-print0"]);
    assertEquals(theirs.code, 1, "find as nobody cannot read it either");
    const encoder = new TextEncoder();
    assertEquals(records(encoder.encode(ours.stdout)), records(encoder.encode(theirs.stdout)));
    assertEquals(ours.code, 1, ours.stderr);
    assertEquals(ours.stderr.trim(), `walk: '${root}/locked': Permission denied`);
  },
});
