/**
 * The CLI against find(1): the same paths (sorted, byte for byte) for the
 * same predicates, on both backends and both orders; exit statuses.
 *
 * @module
 */

import assert from "node:assert/strict";
import { BACKENDS, makeTree } from "./helpers.ts";
import { bytes, createRaw, mkSocket } from "./libc.ts";

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
  assert.equal(start, out.length, "output ends with a NUL");
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
  await new Deno.Command("mkfifo", { args: [`${root}/fifo`] }).output();
  mkSocket(`${root}/socket`);
  createRaw(bytes(root, "/bad-", [0xff], "-file"));
  Deno.mkdirSync(new TextDecoder().decode(bytes(root, "/tmpdir")));
  // A directory whose name is not UTF-8, with a file inside
  const rawDir = bytes(root, "/dir-", [0xc3, 0x28]);
  await new Deno.Command("sh", {
    args: [
      "-c",
      'mkdir "$(printf "$1/dir-\\303(")" && touch "$(printf "$1/dir-\\303(/inside")"',
      "sh",
      root,
    ],
  }).output();
  void rawDir;
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
                  assert.deepEqual(records(ours.stdout), records(theirs.stdout));
                  assert.equal(ours.code, theirs.code, `exit status (stderr: ${ours.stderr})`);
                  assert.equal(ours.stderr === "", theirs.stderr === "", "errors reported alike");
                },
              );
            }
          }
          await t.step("root '.' from the cwd", async () => {
            const ours = await walkCli(["-backend", backend, "-print0"], root);
            const theirs = await run("find", [".", "-print0"], root);
            assert.deepEqual(records(ours.stdout), records(theirs.stdout));
          });
          await t.step("several roots, one missing", async () => {
            const args = [`${root}/a`, `${root}/missing`, `${root}/empty`];
            const ours = await walkCli([...args, "-backend", backend, "-print0"]);
            const theirs = await run("find", [...args, "-print0"]);
            assert.deepEqual(records(ours.stdout), records(theirs.stdout));
            assert.equal(ours.code, 1);
            assert.match(ours.stderr, /missing'?: No such file or directory/);
          });
          await t.step("-count", async () => {
            const ours = await walkCli([root, "-backend", backend, "-count"]);
            const theirs = await run("find", [root, "-print0"]);
            assert.equal(
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
      assert.equal(code, 0);
      const lines = new TextDecoder().decode(stdout).split("\n");
      assert.equal(lines.pop(), "", "the last line ends with a newline");
      assert.equal(lines[0], root, "the root comes first");
      const seen = new Set<string>();
      for (const line of lines) {
        if (line !== root) {
          assert.ok(seen.has(line.slice(0, line.lastIndexOf("/"))), `${line} after its parent`);
        }
        seen.add(line);
      }
      assert.equal(lines.length, 7);
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
    assert.equal(code, 2, args.join(" "));
    assert.equal(stdout.length, 0);
    assert.match(stderr, /Usage: walk/);
  }
});

Deno.test({
  name: "walk CLI reports an unreadable directory, goes on, and exits with 1 (as nobody)",
  ignore: !(await run("sh", ["-c", "command -v setpriv"]).then((r) => r.code === 0)),
  async fn() {
    const root = await makeTree(["ok/", "ok/f", "locked/", "locked/secret", "after/", "after/g"]);
    const denoDir = await Deno.makeTempDir({ prefix: "ioq-deno-dir-" });
    try {
      await Deno.chmod(root, 0o755);
      for (const d of ["ok", "after"]) await Deno.chmod(`${root}/${d}`, 0o755);
      await Deno.chmod(`${root}/locked`, 0o000);
      await Deno.chmod(denoDir, 0o777);
      const asNobody = ["--reuid=nobody", "--regid=nogroup", "--clear-groups"];
      const ours = await run("setpriv", [
        ...asNobody,
        "env",
        `DENO_DIR=${denoDir}`,
        Deno.execPath(),
        "run",
        "--allow-ffi",
        "--allow-read",
        "--allow-env",
        CLI,
        root,
        "-print0",
      ]);
      const theirs = await run("setpriv", [...asNobody, "find", root, "-print0"]);
      assert.equal(theirs.code, 1, "find as nobody cannot read it either");
      assert.deepEqual(records(ours.stdout), records(theirs.stdout));
      assert.equal(ours.code, 1);
      assert.equal(ours.stderr.trim(), `walk: '${root}/locked': Permission denied`);
    } finally {
      await Deno.chmod(`${root}/locked`, 0o755);
      await Deno.remove(root, { recursive: true });
      await Deno.remove(denoDir, { recursive: true });
    }
  },
});
