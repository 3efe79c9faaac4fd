/**
 * walk()'s errors below the root: a directory removed while the walk runs
 * (reported with its path, the rest walked), and directories an
 * unprivileged user may not read or search (EACCES, as `nobody`, in a
 * child run from a copy it can read: tests/unprivileged.ts), where
 * `stat: true` still yields what a directory lists but cannot be stat'ed,
 * each entry right after its error.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import { IoQueue, walk } from "../../mod.ts";
import { makeTree, testBackends } from "../helpers.ts";
import { Sandbox, UNPRIVILEGED_SKIP } from "../unprivileged.ts";
import { code, keys, ORDERS, stdKeys, type Walked } from "./support.ts";

/**
 * A `skip` pattern that skips nothing, but removes `victim` when the walk
 * asks whether to enter it: after the victim was listed (and its entry is
 * on its way), before it is opened, whatever the walk read ahead.
 */
class RemoveWhenAsked extends RegExp {
  #removed = false;

  constructor(readonly victim: string) {
    super("(?!)");
  }

  override test(path: string): boolean {
    // (asked again when its entry is yielded: it is gone by then)
    if (path === this.victim && !this.#removed) {
      this.#removed = true;
      Deno.removeSync(this.victim, { recursive: true });
    }
    return false;
  }
}

testBackends("walk() reports a directory removed mid-walk and goes on", async (backend, t) => {
  for (const order of ORDERS) {
    for (const [label, depth] of [["default queue", 4096], ["queue of depth 8", 8]] as const) {
      await t.step(`${order}: ${label}`, async () => {
        const paths: string[] = [];
        for (let d = 0; d < 40; d++) {
          for (let s = 0; s < 5; s++) paths.push(`d${d}/s${s}/`, `d${d}/s${s}/f`);
        }
        const root = await makeTree(paths);
        try {
          await using q = new IoQueue({ backend, depth });
          const victim = `${root}/d39`;
          const got: Walked = { entries: [], errors: [], reported: [] };
          for await (
            const e of walk(root, {
              order,
              queue: q,
              skip: [new RemoveWhenAsked(victim)],
              onError: (error, path) => got.reported.push([error, path]),
            })
          ) {
            got.entries.push(e);
          }
          assertEquals(got.reported.length, 1, got.reported.map(String).join(", "));
          const [error, path] = got.reported[0];
          assertEquals(path, victim);
          assert(error instanceof Deno.errors.NotFound, String(error));
          assertEquals(code(error), "ENOENT");
          // Everything else, and the victim itself (listed before it went)
          const want = await stdKeys(root);
          want.push(`1 -d- ${JSON.stringify(victim)} "d39"`);
          assertEquals(keys(got.entries), want.sort());
          assertEquals(q.capacity, q.depth);
        } finally {
          await Deno.remove(root, { recursive: true });
        }
      });
    }
  }
});

/** Why io_uring cannot be tested as an unprivileged user here, if it cannot. */
function uringUnprivileged(): string | undefined {
  try {
    const disabled = Deno.readTextFileSync("/proc/sys/kernel/io_uring_disabled").trim();
    if (disabled !== "0") return `kernel.io_uring_disabled is ${disabled}`;
  } catch {
    // an older kernel: no such switch
  }
  return undefined;
}

/** What eacces_child.ts tells of one walk. */
interface Account {
  events: (
    | { entry: string; isDirectory: boolean; stat: boolean }
    | { error: { name: string; code: string; op: string; path: string } }
  )[];
  thrown: { name: string; code: string; op: string; path: string } | null;
}

testBackends(
  "walk() reports EACCES and walks the rest, as an unprivileged user; stat: true yields what it cannot stat",
  async (backend) => {
    await using sandbox = await Sandbox.create(["tests/fixtures/eacces_child.ts"]);
    const root = sandbox.path("tree");
    for (const d of ["a", "b", "locked/sub", "rdonly/sub"]) {
      await Deno.mkdir(`${root}/${d}`, { recursive: true, mode: 0o755 });
    }
    for (const f of ["a/f", "b/g", "locked/secret", "rdonly/file"]) {
      await Deno.writeTextFile(`${root}/${f}`, "");
    }
    await Deno.symlink("file", `${root}/rdonly/lnk`);
    for (const d of ["", "/a", "/b", "/locked/sub", "/rdonly/sub"]) {
      await Deno.chmod(`${root}${d}`, 0o755);
    }
    await Deno.chmod(`${root}/locked`, 0o000);
    // Readable, not searchable: its names can be listed, not stat'ed nor opened
    await Deno.chmod(`${root}/rdonly`, 0o444);

    const r = await sandbox.runAsNobody(
      sandbox.deno("tests/fixtures/eacces_child.ts", ["-A"], [root, backend]),
    );
    assertEquals(r.code, 0, `the child failed: ${r.stderr}`);
    const result: Record<string, Account> = JSON.parse(r.stdout);

    const unstatable = [`${root}/rdonly/file`, `${root}/rdonly/lnk`, `${root}/rdonly/sub`];
    const want = [
      [root, true],
      [`${root}/a`, true],
      [`${root}/a/f`, false],
      [`${root}/b`, true],
      [`${root}/b/g`, false],
      [`${root}/locked`, true],
      [`${root}/rdonly`, true],
      [`${root}/rdonly/file`, false],
      [`${root}/rdonly/lnk`, false],
      [`${root}/rdonly/sub`, true],
    ].sort();
    const denied = (op: string, path: string) => ({
      name: "PermissionDenied",
      code: "EACCES",
      op,
      path,
    });
    const byPath = (a: { path: string }, b: { path: string }) => a.path < b.path ? -1 : 1;
    assertEquals(Object.keys(result).length, 8);
    for (const [label, { events, thrown }] of Object.entries(result)) {
      const stat = label.includes("stat");
      const entries = events.flatMap((e) => "entry" in e ? [e] : []);
      const errors = events.flatMap((e) => "error" in e ? [e.error] : []);
      assertEquals(
        entries.map((e) => [e.entry, e.isDirectory]).sort(),
        want,
        `${label}: everything listed is yielded`,
      );
      assertEquals(
        [...errors].sort(byPath),
        stat
          ? [denied("opendir", `${root}/locked`), ...unstatable.map((p) => denied("stat", p))]
          : [denied("opendir", `${root}/locked`), denied("opendir", `${root}/rdonly/sub`)],
        `${label}: errors`,
      );
      for (const e of entries) {
        assertEquals(e.stat, stat && !unstatable.includes(e.entry), `${label}: ${e.entry}'s stat`);
      }
      if (stat) {
        // Each stat error comes right before its entry
        for (const path of unstatable) {
          const at = events.findIndex((e) => "error" in e && e.error.path === path);
          assertEquals(events[at + 1], {
            entry: path,
            isDirectory: path.endsWith("sub"),
            stat: false,
          });
        }
      }
      // Without onError, the first error is thrown
      const first = events.find((e) => "error" in e);
      assertEquals(thrown, first && "error" in first ? first.error : null, `${label}: thrown`);
    }
  },
  (backend) => UNPRIVILEGED_SKIP ?? (backend === "io_uring" ? uringUnprivileged() : undefined),
);
