/**
 * Backend selection: "auto" falls back to threads when the kernel refuses a
 * ring, "io_uring" then fails with the kernel's code.  The refusal is
 * simulated through the C injection hook (EPERM, ENOSYS) and made real: a
 * seccomp filter that refuses the io_uring system calls (a C fixture built
 * here), and `kernel.io_uring_disabled = 2` (root only, restored at once).
 * Each time a whole walk on the fallback queue must give what the threads
 * backend gives.
 *
 * @module
 */

import assert from "node:assert/strict";
import { IoQueue } from "../mod.ts";
import { BACKENDS, inject, injected, makeTree } from "./helpers.ts";
import { CC, compileFixture, denoRun, fixture, runJson, walkKeys } from "./child.ts";

const uring = BACKENDS.find((b) => b.backend === "io_uring")!;

/** A tree of 30 directories, files, nested directories and symlinks. */
async function sampleTree(): Promise<string> {
  const paths: string[] = [];
  for (let d = 0; d < 30; d++) paths.push(`d${d}/`, `d${d}/f`, `d${d}/sub/`, `d${d}/sub/g`);
  const root = await makeTree(paths);
  Deno.symlinkSync("d0", `${root}/link-dir`);
  Deno.symlinkSync("nowhere", `${root}/link-broken`);
  return root;
}

for (
  const [errno, code, Class] of [
    [-1, "EPERM", Deno.errors.PermissionDenied],
    [-38, "ENOSYS", Error],
  ] as const
) {
  Deno.test(`"auto" uses threads when ring setup fails with ${code}`, async () => {
    inject("ringSetup", errno, 1);
    try {
      using q = new IoQueue({ backend: "auto" });
      assert.equal(q.backend, "threads");
      assert.equal(injected("ringSetup"), 1, "the refusal was injected");
      q.opendir("/", 1);
      const [c] = await q.pop();
      assert.ok(c.op === "opendir" && c.dir);
      assert.ok(c.dir.readAll().some((e) => e.name === "usr"));
    } finally {
      inject("ringSetup", 0, 0);
    }
  });

  Deno.test(`"auto" walks on threads, as the threads backend does, when setup fails with ${code}`, async () => {
    const root = await sampleTree();
    inject("ringSetup", errno, 1);
    try {
      await using q = new IoQueue({ backend: "auto", depth: 64 });
      inject("ringSetup", 0, 0);
      assert.equal(q.backend, "threads");
      const want = await walkKeys(root, { queue: { backend: "threads" } });
      assert.ok(want.length > 120);
      for (const order of ["bfs", "dfs"] as const) {
        assert.deepEqual(await walkKeys(root, { order, queue: q }), want, order);
        assert.deepEqual(
          await walkKeys(root, { order, followSymlinks: true, queue: q }),
          await walkKeys(root, { order, followSymlinks: true, queue: { backend: "threads" } }),
          `${order}, following links`,
        );
      }
      assert.equal(q.capacity, q.depth);
    } finally {
      inject("ringSetup", 0, 0);
      await Deno.remove(root, { recursive: true });
    }
  });

  Deno.test(`"io_uring" throws ${code} when ring setup fails`, () => {
    inject("ringSetup", errno, 1);
    try {
      assert.throws(() => new IoQueue({ backend: "io_uring" }), (e: Error & { code?: string }) => {
        assert.ok(e instanceof Class, `${e.constructor.name}`);
        assert.equal(e.code, code);
        assert.match(e.message, /create IoQueue \(backend io_uring\)/);
        return true;
      });
    } finally {
      inject("ringSetup", 0, 0);
    }
  });
}

Deno.test({
  name: `"auto" uses io_uring where the kernel allows it`,
  ignore: uring.skip !== undefined,
  fn() {
    using q = new IoQueue();
    assert.equal(q.backend, "io_uring");
  },
});

// ---------------------------------------------------------------------------
// Real refusals, in a child process

/** What walk_child.ts prints. */
interface ChildWalk {
  backend: string | null;
  created: { name: string; code?: string } | null;
  uring: { name: string; code?: string; message: string } | null;
  walks: Record<string, { entries: string[]; errors: unknown[]; thrown: unknown }>;
  idle: boolean;
}

/** Checks a child that had io_uring refused with `code`. */
async function expectRefused(got: ChildWalk, root: string, name: string, code: string) {
  assert.equal(got.created, null, "the auto queue was created");
  assert.equal(got.backend, "threads", `"auto" falls back to threads`);
  assert.ok(got.uring, `"io_uring" throws`);
  assert.equal(got.uring.name, name);
  assert.equal(got.uring.code, code);
  assert.match(got.uring.message, /create IoQueue \(backend io_uring\)/);
  const want = await walkKeys(root, { queue: { backend: "threads" } });
  for (const order of ["bfs", "dfs"]) {
    assert.deepEqual(got.walks[order].errors, [], order);
    assert.equal(got.walks[order].thrown, null, order);
    assert.deepEqual(got.walks[order].entries, want, `${order}: the same entries as threads`);
  }
  assert.ok(got.idle, "nothing left in flight");
}

const seccompSkip = !CC
  ? "no C compiler (gcc or cc) to build the seccomp fixture"
  : Deno.build.arch !== "x86_64" && Deno.build.arch !== "aarch64"
  ? `no seccomp fixture for ${Deno.build.arch}`
  : uring.skip;
if (seccompSkip) {
  console.error(`NOTE: the seccomp io_uring refusal tests are ignored: ${seccompSkip}`);
}

for (
  const [errno, name, code] of [[1, "PermissionDenied", "EPERM"], [38, "Error", "ENOSYS"]] as const
) {
  Deno.test({
    name: `a seccomp filter refusing io_uring with ${code}: "auto" gives threads, same walk`,
    ignore: seccompSkip !== undefined,
    async fn() {
      const root = await sampleTree();
      const bin = await Deno.makeTempDir({ prefix: "ioq-seccomp-" });
      try {
        const noUring = await compileFixture("no_uring", bin);
        const got = await runJson<ChildWalk>(
          [noUring, String(errno), ...denoRun(fixture("walk_child.ts"), [root])],
          { timeoutMs: 30_000 },
        );
        await expectRefused(got, root, name, code);
      } finally {
        await Deno.remove(bin, { recursive: true });
        await Deno.remove(root, { recursive: true });
      }
    },
  });
}

const SYSCTL = "/proc/sys/kernel/io_uring_disabled";

/** Why io_uring_disabled cannot be flipped here, if it cannot. */
function sysctlSkip(): string | undefined {
  if (uring.skip) return uring.skip;
  if (Deno.uid() !== 0) return "not root: kernel.io_uring_disabled cannot be changed";
  try {
    const value = Deno.readTextFileSync(SYSCTL).trim();
    if (value !== "0") return `kernel.io_uring_disabled is ${value}, not 0`;
    Deno.writeTextFileSync(SYSCTL, "0");
  } catch (error) {
    return `${SYSCTL} cannot be written: ${(error as Error).message}`;
  }
  return undefined;
}

const sysctlReason = sysctlSkip();
if (sysctlReason) console.error(`NOTE: the io_uring_disabled test is ignored: ${sysctlReason}`);

Deno.test({
  name: `kernel.io_uring_disabled = 2: "auto" gives threads, same walk; "io_uring" throws EPERM`,
  ignore: sysctlReason !== undefined,
  async fn() {
    const root = await sampleTree();
    // The switch is process-wide and machine-wide: it is on only while the
    // child makes its queues (between its "waiting" and "created" lines)
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", fixture("walk_child.ts"), root, "--handshake"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = "";
    const nextLine = async (): Promise<string> => {
      while (!buffered.includes("\n")) {
        const { value, done } = await lines.read();
        if (done) throw new Error(`the child ended early: ${JSON.stringify(buffered)}`);
        buffered += value;
      }
      const at = buffered.indexOf("\n");
      const line = buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
      return line;
    };
    const stderr = new Response(child.stderr).text();
    const writer = child.stdin.getWriter();
    let disabledMs = 0;
    try {
      assert.equal(await nextLine(), "waiting");
      const start = performance.now();
      try {
        Deno.writeTextFileSync(SYSCTL, "2");
        await writer.write(new TextEncoder().encode("go\n"));
        assert.equal(await nextLine(), "created");
      } finally {
        Deno.writeTextFileSync(SYSCTL, "0");
        disabledMs = performance.now() - start;
      }
      await writer.close();
      const got = JSON.parse(await nextLine()) as ChildWalk;
      const status = await child.status;
      assert.ok(status.success, `the child failed: ${await stderr}`);
      await expectRefused(got, root, "PermissionDenied", "EPERM");
      console.log(`io_uring was disabled for ${disabledMs.toFixed(0)} ms`);
    } catch (error) {
      try {
        child.kill("SIGKILL");
      } catch {
        // gone
      }
      await child.status;
      throw new Error(`${(error as Error).message}; stderr: ${await stderr}`);
    } finally {
      clearTimeout(timer);
      Deno.writeTextFileSync(SYSCTL, "0");
      await Deno.remove(root, { recursive: true });
    }
    assert.equal(Deno.readTextFileSync(SYSCTL).trim(), "0", "io_uring_disabled restored");
  },
});
