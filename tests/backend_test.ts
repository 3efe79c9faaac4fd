/**
 * Backend selection: "auto" falls back to threads when the kernel refuses a
 * ring, "io_uring" then fails with the kernel's code.  The refusal is
 * simulated through the C injection hook (EPERM, ENOSYS) and made real: a
 * seccomp filter that refuses the io_uring system calls (a C fixture built
 * here), and `kernel.io_uring_disabled = 2` (root only, and only with
 * IOQ_TEST_SYSCTL=1: the switch is machine-wide; restored at once, and on
 * SIGINT or SIGTERM).
 * Each time a whole walk on the fallback queue must give what the threads
 * backend gives.
 *
 * @module
 */

import { assert, assertEquals, assertMatch, assertThrows } from "@std/assert";
import { type IoqError, IoQueue } from "../mod.ts";
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
      assertEquals(q.backend, "threads");
      assertEquals(injected("ringSetup"), 1, "the refusal was injected");
      const root = await makeTree(["inside/"]);
      try {
        q.opendir(root, 1);
        const [c] = await q.pop();
        assert(c.op === "opendir" && c.dir);
        assertEquals(c.dir.readAll().map((e) => e.name), ["inside"]);
        c.dir.close();
      } finally {
        await Deno.remove(root, { recursive: true });
      }
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
      assertEquals(q.backend, "threads");
      const want = await walkKeys(root, { queue: { backend: "threads" } });
      assert(want.length > 120);
      for (const order of ["bfs", "dfs"] as const) {
        assertEquals(await walkKeys(root, { order, queue: q }), want, order);
        assertEquals(
          await walkKeys(root, { order, followSymlinks: true, queue: q }),
          await walkKeys(root, { order, followSymlinks: true, queue: { backend: "threads" } }),
          `${order}, following links`,
        );
      }
      assertEquals(q.capacity, q.depth);
    } finally {
      inject("ringSetup", 0, 0);
      await Deno.remove(root, { recursive: true });
    }
  });

  Deno.test(`"io_uring" throws ${code} when ring setup fails`, () => {
    inject("ringSetup", errno, 1);
    try {
      const e = assertThrows(() => new IoQueue({ backend: "io_uring" }));
      assert(e instanceof Class, `${(e as Error).constructor.name}`);
      assertEquals((e as IoqError).code, code);
      assertMatch(e.message, /create IoQueue \(backend io_uring\)/);
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
    assertEquals(q.backend, "io_uring");
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
  assertEquals(got.created, null, "the auto queue was created");
  assertEquals(got.backend, "threads", `"auto" falls back to threads`);
  assert(got.uring, `"io_uring" throws`);
  assertEquals(got.uring.name, name);
  assertEquals(got.uring.code, code);
  assertMatch(got.uring.message, /create IoQueue \(backend io_uring\)/);
  const want = await walkKeys(root, { queue: { backend: "threads" } });
  for (const order of ["bfs", "dfs"]) {
    assertEquals(got.walks[order].errors, [], order);
    assertEquals(got.walks[order].thrown, null, order);
    assertEquals(got.walks[order].entries, want, `${order}: the same entries as threads`);
  }
  assert(got.idle, "nothing left in flight");
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

/**
 * Why io_uring_disabled cannot be flipped here, if it cannot.  The switch is
 * machine-wide (every process's io_uring is off while it is on), so this is
 * opt-in: IOQ_TEST_SYSCTL=1, as CI sets it.
 */
function sysctlSkip(): string | undefined {
  if (Deno.env.get("IOQ_TEST_SYSCTL") !== "1") {
    return "it turns io_uring off for the whole machine for a moment: IOQ_TEST_SYSCTL=1 runs it";
  }
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

/** The exit status of a process ended by each signal this file handles, as a shell shows it. */
const INTERRUPTS = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * Runs `fn` with kernel.io_uring_disabled set to 2, and sets it back to 0
 * when `fn` ends, throws, or the run is interrupted (SIGINT, SIGTERM: then
 * the process exits, as the signal would have ended it).
 */
async function withUringDisabled<T>(fn: () => Promise<T>): Promise<T> {
  const restore = () => Deno.writeTextFileSync(SYSCTL, "0");
  const handlers = Object.entries(INTERRUPTS).map(([signal, status]) => {
    const handler = () => {
      restore();
      console.error(`${signal}: kernel.io_uring_disabled set back to 0`);
      Deno.exit(status);
    };
    Deno.addSignalListener(signal as Deno.Signal, handler);
    return () => Deno.removeSignalListener(signal as Deno.Signal, handler);
  });
  try {
    Deno.writeTextFileSync(SYSCTL, "2");
    return await fn();
  } finally {
    restore();
    for (const remove of handlers) remove();
  }
}

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
      assertEquals(await nextLine(), "waiting");
      const start = performance.now();
      try {
        await withUringDisabled(async () => {
          await writer.write(new TextEncoder().encode("go\n"));
          assertEquals(await nextLine(), "created");
        });
      } finally {
        disabledMs = performance.now() - start;
      }
      await writer.close();
      const got = JSON.parse(await nextLine()) as ChildWalk;
      const status = await child.status;
      assert(status.success, `the child failed: ${await stderr}`);
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
    assertEquals(Deno.readTextFileSync(SYSCTL).trim(), "0", "io_uring_disabled restored");
  },
});
