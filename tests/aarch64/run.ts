/**
 * `deno task test:aarch64`: the aarch64 library, tested on the aarch64 Deno.
 * On an x86_64 machine that Deno runs under qemu's user-mode emulation
 * (`qemu-aarch64-static` and Debian's arm64 C library; README.md says how
 * to install them); on an aarch64 machine, natively.
 *
 * 1. Fetches Deno for aarch64 from npm (`@deno/linux-arm64-glibc`, the
 *    version this project pins, checked against its SHA-512) into
 *    .cache/aarch64/ (gitignored), once.
 * 2. Runs on it, with the aarch64 library of `deno task build`, the queue
 *    and walk tests named in SUBSET and tests/aarch64/emulated_checks.ts.
 *    Emulated JavaScript is tens of times slower, so this is a subset that
 *    covers every op, both walk orders, errors and cancellation.  Tests that
 *    start a child Deno are left out: under the emulator a child aarch64
 *    binary cannot start (the kernel runs one only through a qemu that
 *    binfmt_misc registers, which this machine's kernel lacks).
 * 3. Runs tests/package_test.ts's download test with the user's program on
 *    that Deno: the package served over HTTP, imported with a fresh
 *    DENO_DIR, the aarch64 library downloaded, checked, cached and walked.
 *
 * Every test SUBSET names must run and pass, on at least one backend.  The
 * run ends with one line, `aarch64: N passed, N failed, N ignored` (ignored:
 * the io_uring variants, where the emulator refuses the ring).
 *
 * @module
 */

const REPO = new URL("../../", import.meta.url);
const CACHE = new URL(".cache/aarch64/", REPO);

/** The aarch64 Deno: the project's Deno version, from npm. */
const DENO_PACKAGE = "@deno/linux-arm64-glibc";
const DENO_VERSION = "2.9.6";
/** The npm tarball's integrity, as the registry publishes it. */
const DENO_INTEGRITY =
  "sha512-poqhoH9B3nYloigEMPT5t8HY+wBeiuea1An5Q7fqgJzP0SYmWsoS/oUnWO/pEiA4ofzIBy1Elt/in58xKtxEoQ==";

/**
 * The tests run on the aarch64 Deno, by name: on both backends where the
 * test is registered per backend (`name [io_uring]`, `name [threads]`).
 */
const SUBSET = [
  // The queue: every op, its results and its errors
  "IoQueue reports its configuration",
  "IoQueue rejects bad options",
  "nop() completes every tag; a full queue throws EAGAIN",
  "opendir() lists a directory like Deno.readDirSync",
  "opendir() reports every entry type",
  "opendir() with stat gives the directory's own stat",
  "opendir() errors: ENOENT, ENOTDIR, with op and path",
  "Dir.readPaths() writes each entry as prefix + name + end byte",
  "stat() follows symlinks or not, and reports errors",
  "closedir() closes through the queue; the Dir is closed at once",
  "close(fd) closes a descriptor on a worker; a bad fd reports EBADF",
  // Cancellation and close of the queue
  "cancel() wakes a pending pop() before its request completes",
  "close() resolves a pending pop() with []",
  // walk(), in both orders: the reference's entries, links, raw names
  "walk() yields what @std/fs walk yields on a mixed tree",
  "walk() yields broken links as symlinks, and follows links to dirs",
  "walk() descends into non-UTF-8 directories and gives raw bytes",
  "walk({ stat: true }) gives every entry its lstat (stat when followed)",
  // walk() errors
  "walk() ends on symlink loops and reports them as ELOOP",
  "walk() reports a directory removed mid-walk and goes on",
  "walk() reports bad arguments from the first next()",
  // walk() stopped: break, return(), an exception, abort, a caller's queue
  "walk() stops cleanly on break, return() and abort",
  // tests/aarch64/emulated_checks.ts
  "io_uring is built in; where the ring is refused, auto falls back to threads",
  "cancel(): requests queued behind a busy worker end with EINTR",
];

/** tests/package_test.ts's test of the published package's download path. */
const PACKAGE_TEST = "the published package loads over HTTP with a fresh DENO_DIR";

/**
 * Its steps run on the aarch64 Deno, by the start of their names: the
 * library picked by architecture, downloaded, checked, cached and walked,
 * then found in the cache; a corrupted one refused.  (The others, about
 * permissions, the cache and packages without this architecture's library,
 * test no code that depends on the architecture, and take seconds each
 * under emulation.)
 */
const PACKAGE_STEPS = ["a corrupted library", "first run", "second run"];

/** One test's result, from a JUnit report. */
interface Result {
  name: string;
  status: "passed" | "failed" | "skipped";
}

/** Stops with a message and the closing line CI reads. */
function fail(message: string): never {
  console.error(`test:aarch64: ${message}`);
  console.log("aarch64: 0 passed, 1 failed, 0 ignored");
  Deno.exit(1);
}

/** Whether a command runs and succeeds. */
async function runs(cmd: string, args: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

/** The emulator to run an aarch64 binary with: none on aarch64. */
async function emulator(): Promise<string | undefined> {
  if (Deno.build.arch === "aarch64") return undefined;
  const found = [];
  for (const qemu of ["qemu-aarch64-static", "qemu-aarch64"]) {
    if (await runs(qemu, ["--version"])) found.push(qemu);
  }
  if (found.length === 0) {
    fail("qemu's user-mode emulator is missing: apt-get install qemu-user-static");
  }
  try {
    Deno.statSync("/lib/ld-linux-aarch64.so.1");
  } catch {
    fail(
      "the arm64 C library is missing: dpkg --add-architecture arm64 && apt-get update && " +
        "apt-get install libc6:arm64 (liburing-dev:arm64, which the build needs, brings it)",
    );
  }
  return found[0];
}

/** The SHA-512 of some bytes, written as npm writes a package's integrity. */
async function integrity(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-512", bytes));
  return `sha512-${btoa(String.fromCharCode(...digest))}`;
}

/** Runs a command to its end, its output shown; fails the run when it fails. */
async function must(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stderr: "inherit" }).output()
    .catch((error) => fail(`${cmd} does not run: ${error.message}`));
  if (!out.success) fail(`${cmd} ${args.join(" ")} failed`);
  return new TextDecoder().decode(out.stdout);
}

/**
 * The aarch64 Deno binary, fetched with `npm pack` when it is not there yet
 * (into a temporary folder, then renamed into place).
 */
async function aarch64Deno(): Promise<string> {
  const dir = new URL(`deno-${DENO_VERSION}/`, CACHE);
  const binary = new URL("deno", dir).pathname;
  try {
    Deno.statSync(binary);
    return binary;
  } catch {
    // not fetched yet
  }
  console.error(`test:aarch64: fetching ${DENO_PACKAGE}@${DENO_VERSION} from npm`);
  await Deno.mkdir(CACHE, { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: CACHE.pathname, prefix: ".fetch-" });
  try {
    const packed = await must("npm", [
      "pack",
      "--silent",
      `${DENO_PACKAGE}@${DENO_VERSION}`,
      "--pack-destination",
      tmp,
    ]);
    const tarball = `${tmp}/${packed.trim().split("\n").at(-1)}`;
    const got = await integrity(await Deno.readFile(tarball));
    if (got !== DENO_INTEGRITY) {
      fail(`${DENO_PACKAGE}@${DENO_VERSION} is not the tarball pinned: ${got}`);
    }
    await must("tar", ["xzf", tarball, "-C", tmp]);
    await Deno.rename(`${tmp}/package`, dir);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
  return binary;
}

/**
 * An executable that runs the aarch64 Deno (under the emulator, if any):
 * what tests/package_test.ts's IOQ_TEST_DENO takes.
 */
async function launcher(binary: string, qemu: string | undefined): Promise<string> {
  if (!qemu) return binary;
  const path = `${binary}-${qemu}`;
  await Deno.writeTextFile(path, `#!/bin/sh\nexec ${qemu} "$(dirname "$0")/deno" "$@"\n`, {
    mode: 0o755,
  });
  return path;
}

/** Unescapes XML's five entities. */
function unescapeXml(text: string): string {
  const entities: Record<string, string> = {
    "&lt;": "<",
    "&gt;": ">",
    "&quot;": '"',
    "&apos;": "'",
    "&amp;": "&",
  };
  return text.replace(/&(?:lt|gt|quot|apos|amp);/g, (e) => entities[e]);
}

/** The tests of a JUnit report (a step is named "test > step"). */
function parseJunit(xml: string): Result[] {
  const out: Result[] = [];
  for (const m of xml.matchAll(/<testcase name="([^"]*)"[^>]*>([\s\S]*?)<\/testcase>/g)) {
    const name = unescapeXml(m[1]);
    const status = /<failure|<error/.test(m[2])
      ? "failed"
      : /<skipped/.test(m[2])
      ? "skipped"
      : "passed";
    out.push({ name, status });
  }
  return out;
}

/** The name of a test registered per backend, without the backend. */
function baseName(name: string): string {
  return name.replace(/ \[(io_uring|threads)\]$/, "");
}

/**
 * Runs `deno test` (output shown as it comes); the results of the tests
 * named and of their steps.
 */
async function denoTest(
  deno: string,
  args: string[],
  names: string[],
  env: Record<string, string> = {},
): Promise<Result[]> {
  const junit = await Deno.makeTempFile({ prefix: "ioq-aarch64-", suffix: ".xml" });
  try {
    const { code } = await new Deno.Command(deno, {
      args: ["test", "-A", `--junit-path=${junit}`, ...args],
      cwd: REPO,
      env: { NO_COLOR: "1", ...env },
      stdin: "null",
    }).spawn().status;
    const results = parseJunit(await Deno.readTextFile(junit).catch(() => ""))
      .filter((r) => names.includes(baseName(r.name.split(" > ")[0])));
    if (code !== 0 && !results.some((r) => r.status === "failed")) {
      results.push({ name: `deno test ${args.at(-1)} (exit code ${code})`, status: "failed" });
    }
    return results;
  } finally {
    await Deno.remove(junit);
  }
}

/** A regular expression that matches a text exactly. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** The test files that hold the SUBSET: the queue's, Dir's and walk()'s. */
function subsetFiles(): string[] {
  const files = ["tests/queue_test.ts", "tests/dir_test.ts"];
  for (const entry of Deno.readDirSync(new URL("tests/walk/", REPO))) {
    if (entry.name.endsWith("_test.ts")) files.push(`tests/walk/${entry.name}`);
  }
  return [...files.sort(), "tests/aarch64/emulated_checks.ts"];
}

const qemu = await emulator();
try {
  Deno.statSync(new URL("native/lib/aarch64/libioq.so", REPO));
} catch {
  fail("native/lib/aarch64/libioq.so is missing: run `deno task build`");
}
const binary = await aarch64Deno();
const deno = await launcher(binary, qemu);
const how = qemu ? `under ${qemu}` : "natively";
console.error(`test:aarch64: Deno ${DENO_VERSION} for aarch64, ${how}`);

// Its own DENO_DIR: the two Denos share no cache
const denoDir = new URL("deno_dir/", CACHE).pathname;
const started = performance.now();
const filter = `/^(${SUBSET.map(literal).join("|")})( \\[(io_uring|threads)\\])?$/`;
const results = await denoTest(
  deno,
  ["--no-check", `--filter=${filter}`, ...subsetFiles()],
  SUBSET,
  { DENO_DIR: denoDir },
);
const subsetSeconds = (performance.now() - started) / 1000;
results.push(
  ...await denoTest(
    Deno.execPath(),
    [`--filter=/^${literal(PACKAGE_TEST)}$/`, "tests/package_test.ts"],
    [PACKAGE_TEST],
    { IOQ_TEST_DENO: deno, IOQ_TEST_STEPS: `^(${PACKAGE_STEPS.map(literal).join("|")})` },
  ),
);

const tests = results.filter((r) => !r.name.includes(" > "));
const count = (status: Result["status"]) => tests.filter((r) => r.status === status).length;
const seconds = (performance.now() - started) / 1000;
console.log(
  `\ntest:aarch64: ${how}, the subset in ${subsetSeconds.toFixed(0)} s, ` +
    `the package's download path in ${(seconds - subsetSeconds).toFixed(0)} s`,
);
for (const r of tests.filter((r) => r.status === "failed")) {
  console.log(`test:aarch64: failed: ${r.name}`);
}
// A test named that neither passed nor failed did not run: renamed, or
// ignored on every backend; so with a step named
let missing = 0;
const named = [
  ...SUBSET.map((name) => ({ name, own: tests.filter((r) => baseName(r.name) === name) })),
  ...PACKAGE_STEPS.map((start) => ({
    name: `${PACKAGE_TEST} > ${start}`,
    own: results.filter((r) => r.name.startsWith(`${PACKAGE_TEST} > ${start}`)),
  })),
];
for (const { name, own } of named) {
  if (own.some((r) => r.status !== "skipped")) continue;
  console.log(`test:aarch64: did not run: ${own.length ? "ignored" : "no such test"}: ${name}`);
  missing++;
}
const failed = count("failed") + missing;
console.log(`aarch64: ${count("passed")} passed, ${failed} failed, ${count("skipped")} ignored`);
Deno.exit(failed === 0 ? 0 : 1);
