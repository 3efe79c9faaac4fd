/**
 * The CLI as a user who cannot read everything, against GNU find as the
 * same user: unreadable and unsearchable directories reported (one line
 * each, status 1) while the walk goes on, and -readable, -writable and
 * -executable as access(2) answers them.
 *
 * The tests run as root; the walks run as `nobody` in a child (setpriv),
 * from a copy of the module in a world-readable directory (a checkout under
 * a 0700 home is not readable by nobody).
 *
 * @module
 */

import { assertEquals } from "@std/assert";
import { assertSameErrors, run, sortedRecords } from "./cli/run.ts";
import { Sandbox, UNPRIVILEGED_SKIP } from "./unprivileged.ts";

const AS_NOBODY = ["--reuid=nobody", "--regid=nogroup", "--clear-groups"];

/** A tree with directories and files nobody can and cannot read, search or write. */
async function makeAccessTree(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "ioq-cli-access-" });
  const script = `
    set -e
    cd "$1"
    mkdir ok locked xonly ronly after mine
    touch ok/f locked/secret xonly/known ronly/a after/g
    mkdir ronly/sub locked/inner
    touch f600 f644 f755 f666 f711 mine/own600 mine/own700
    chmod 600 f600; chmod 644 f644; chmod 755 f755; chmod 666 f666; chmod 711 f711
    ln -s f600 link600; ln -s f644 link644; ln -s nowhere dangling
    chown -R nobody:nogroup mine; chmod 600 mine/own600; chmod 700 mine/own700
    chmod 000 locked; chmod 111 xonly; chmod 644 ronly; chmod 755 . ok after
  `;
  const { code, stderr } = await new Deno.Command("sh", { args: ["-c", script, "sh", root] })
    .output();
  if (code !== 0) throw new Error(new TextDecoder().decode(stderr));
  return root;
}

Deno.test({
  name: "walk as nobody reports what it cannot read and goes on, as find does",
  ignore: UNPRIVILEGED_SKIP !== undefined,
  async fn(t) {
    // The CLI, copied where nobody can read it (see tests/unprivileged.ts)
    await using sandbox = await Sandbox.create(["cli.ts"]);
    const root = await makeAccessTree();
    const cache = sandbox.path(".cache");
    // Both start in "/": the test's own directory (the checkout) may be closed to nobody, and
    // find then reports that it cannot return to it
    const walk = (args: string[]) =>
      run("setpriv", [
        ...AS_NOBODY,
        "env",
        `DENO_DIR=${cache}`,
        `HOME=${cache}`,
        ...sandbox.deno("cli.ts", ["--allow-ffi", "--allow-read", "--allow-env"], args),
      ], { cwd: "/" });
    const find = (args: string[]) => run("setpriv", [...AS_NOBODY, "find", ...args], { cwd: "/" });
    try {
      for (
        const args of [
          [root],
          [root, "-print0"],
          [root, "-type", "f"],
          [root, "-name", "*"],
          [root, "-depth"],
          ["-L", root],
          [root, "-size", "-1"],
          [root, "-empty"],
          [root, "-readable"],
          [root, "-writable"],
          [root, "-executable"],
          [root, "!", "-readable", "-o", "-print"],
          [root, "-name", "ronly", "-prune", "-o", "-print"],
          [root, "-name", "locked", "-prune", "-o", "-type", "f", "-print"],
          [root, "-printf", "%p %m %u\\n"],
          [`${root}/locked`],
          [`${root}/locked`, "-maxdepth", "0"],
          [`${root}/xonly/known`],
          [`${root}/ronly`],
        ]
      ) {
        const what = args.join(" ").replaceAll(root, "R");
        await t.step(what, async () => {
          const [ours, theirs] = await Promise.all([walk(args), find(args)]);
          const end = args.includes("-print0") ? 0 : 0x0a;
          assertEquals(sortedRecords(ours.stdout, end), sortedRecords(theirs.stdout, end), what);
          assertEquals(ours.code, theirs.code, `${what}: exit status (stderr: ${ours.stderr})`);
          assertSameErrors(ours.stderr, theirs.stderr, what);
        });
      }
    } finally {
      await run("chmod", ["-R", "u+rwx", root]);
      await Deno.remove(root, { recursive: true });
    }
  },
});
