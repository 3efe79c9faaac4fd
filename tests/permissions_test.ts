/**
 * Deno's read permission, honoured by the native walks and the queue
 * (lib/permissions.ts).  Children run with scoped flags (`--allow-read=T`
 * with `--deny-read=T/sub`, and `--no-prompt`; tests/fixtures/
 * permissions_child.ts) and what `walk()`, `glob()` and their sync forms
 * yield, report and throw is compared with a walk built on Deno's own
 * calls under the same flags; `IoQueue` refuses requests at once; the CLI
 * reports what it may not read; and with read access granted everywhere,
 * nothing is checked (one permission query).
 *
 * The tree: `T/a/{f,b/g}`, `T/sub/{s,deep/d}` (denied), `T/ok/in -> T/a`,
 * `T/ok/out -> O` (outside the granted tree), `T/ok/den -> T/sub`, and
 * `O/x/y`.
 *
 * @module
 */

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { fromFileUrl } from "@std/path";
import { spy } from "@std/testing/mock";
import { glob, globSync, IoQueue, walk, walkSync } from "../mod.ts";
import { main } from "../cli.ts";
import { LOCAL_LIBRARY } from "../lib/ffi.ts";
import { describe, fixture, REPO, run, runJson } from "./child.ts";

/** An error as compared: class, message, path. */
type Reported = [string, string, string];

/** What one walk gave (see permissions_child.ts). */
interface Outcome {
  entries: string[];
  errors: Reported[];
  thrown: [string, string] | null;
}

/** A walk job's result: the run with onError, and the one without. */
interface Walked {
  reported: Outcome;
  thrown: Outcome;
}

/** The trees, made once: T (granted, T/sub denied) and O (outside). */
const BASE = Deno.realPathSync(await Deno.makeTempDir({ prefix: "ioq-perms-" }));
const T = `${BASE}/t`;
const O = `${BASE}/o`;
for (const d of ["a/b", "sub/deep", "ok"]) await Deno.mkdir(`${T}/${d}`, { recursive: true });
await Deno.mkdir(`${O}/x/y`, { recursive: true });
for (const f of ["a/f", "a/b/g", "sub/s", "sub/deep/d"]) await Deno.writeTextFile(`${T}/${f}`, "");
await Deno.symlink(`${T}/a`, `${T}/ok/in`);
await Deno.symlink(O, `${T}/ok/out`);
await Deno.symlink(`${T}/sub`, `${T}/ok/den`);

/** The library, which the children must be able to read. */
const LIBRARY = fromFileUrl(LOCAL_LIBRARY);

/** `--allow-read=T` (and the library), `--deny-read=T/sub`. */
const SCOPED = [`--allow-read=${T},${LIBRARY}`, `--deny-read=${T}/sub`];

/** Deno's message for a path the program may not read. */
function refusal(path: string): string {
  return `Requires read access to "${path}", run again with the --allow-read flag`;
}

/** Runs jobs in one child with read flags; their results, in order. */
function child<T>(flags: string[], jobs: object[], prompt = false): Promise<T[]> {
  return runJson<T[]>([
    Deno.execPath(),
    "run",
    "--quiet",
    ...(prompt ? [] : ["--no-prompt"]),
    "--allow-ffi",
    "--allow-env",
    ...flags,
    fixture("permissions_child.ts"),
    JSON.stringify(jobs),
  ]);
}

/** Errors in a stable order. */
function sorted(errors: Reported[]): Reported[] {
  return [...errors].sort((a, b) => a.join("\0") < b.join("\0") ? -1 : 1);
}

/**
 * Holds a walk to the reference: the same entries and errors with
 * onError; without it, one of those errors thrown (the reference's own
 * when it has just one), after entries the reference yields too.
 */
function assertSame(got: Walked, want: Walked, what: string): void {
  assertEquals(got.reported.entries.toSorted(), want.reported.entries.toSorted(), what);
  assertEquals(sorted(got.reported.errors), sorted(want.reported.errors), `${what}: errors`);
  const errors = want.reported.errors.map(([name, message]) => `${name}: ${message}`);
  if (errors.length === 0) {
    assertEquals(got.thrown.thrown, null, `${what}: nothing thrown`);
    assertEquals(got.thrown.entries.toSorted(), want.reported.entries.toSorted(), what);
    return;
  }
  assert(got.thrown.thrown, `${what}: an error thrown without onError`);
  if (errors.length === 1) assertEquals(got.thrown.thrown, want.thrown.thrown, what);
  assert(errors.includes(got.thrown.thrown.join(": ")), `${what}: ${got.thrown.thrown}`);
  const seen = new Set(want.reported.entries);
  for (const path of got.thrown.entries) assert(seen.has(path), `${what}: ${path} yielded`);
}

/** Option sets each walk is compared under (skip patterns as sources). */
const OPTIONS = [
  {},
  { order: "dfs" },
  { followSymlinks: true },
  { followSymlinks: true, canonicalize: false },
  { followSymlinks: true, canonicalize: false, order: "dfs" },
  { maxDepth: 1 },
  { skip: ["sub$"] },
  { followSymlinks: true, skip: ["/ok/out$"] },
];

Deno.test("walk() and walkSync() yield, report and throw what a Deno.readDirSync walk does", async () => {
  const jobs = OPTIONS.flatMap((options) => [
    { kind: "walk", root: T, options },
    { kind: "reference", root: T, options },
  ]);
  jobs.push(
    { kind: "walkSync", root: T, options: { followSymlinks: true } },
    { kind: "reference", root: T, options: { followSymlinks: true } },
  );
  const results = await child<Walked>(SCOPED, jobs);
  for (let i = 0; i < jobs.length; i += 2) {
    assertSame(results[i], results[i + 1], `${jobs[i].kind} ${JSON.stringify(jobs[i].options)}`);
  }
  // What the comparison stands on: the denied directory and the links out
  const [plain, followed, unresolved] = [results[0], results[4], results[6]];
  assertEquals(plain.reported.errors, [["NotCapable", refusal(`${T}/sub`), `${T}/sub`]]);
  assert(plain.reported.entries.includes(`${T}/sub`), "the denied directory is listed");
  assertEquals(sorted(followed.reported.errors), [
    ["NotCapable", refusal(O), O],
    ["NotCapable", refusal(`${T}/sub`), `${T}/sub`],
    ["NotCapable", refusal(`${T}/sub`), `${T}/sub`],
  ]);
  assertEquals(sorted(unresolved.reported.errors), [
    ["NotCapable", refusal(O), `${T}/ok/out`],
    ["NotCapable", refusal(`${T}/sub`), `${T}/ok/den`],
    ["NotCapable", refusal(`${T}/sub`), `${T}/sub`],
  ]);
  // A directory reached through a link is checked where it is (T/a, granted)
  assert(unresolved.reported.entries.includes(`${T}/ok/in/b/g`));
  assert(!followed.reported.entries.some((p) => p.startsWith(O)), "nothing of O");
});

Deno.test("walk(), glob() and the reference refuse a root outside the granted paths", async () => {
  const jobs = [
    { kind: "walk", root: O },
    { kind: "reference", root: O },
    { kind: "walk", root: `${T}/sub/deep` },
    { kind: "reference", root: `${T}/sub/deep` },
    { kind: "walk", root: `${T}/ok/out`, options: { maxDepth: 0 } },
    { kind: "walkSync", root: `${O}/x` },
    { kind: "glob", root: `${O}/*` },
    { kind: "globSync", root: [`${T}/sub/*`] },
  ];
  const [walkO, refO, walkDeep, refDeep, viaLink, syncX, globO, globSub] = await child<Walked>(
    SCOPED,
    jobs,
  );
  assertSame(walkO, refO, "walk(O)");
  assertSame(walkDeep, refDeep, "walk(T/sub/deep)");
  assertEquals(walkO.reported, {
    entries: [],
    errors: [["NotCapable", refusal(O), O]],
    thrown: null,
  });
  assertEquals(walkO.thrown.thrown, ["NotCapable", refusal(O)]);
  // The root is checked as given, as Deno checks paths: T/ok/out is under T
  assertEquals(viaLink.reported, { entries: [`${T}/ok/out`], errors: [], thrown: null });
  assertEquals(syncX.thrown.thrown, ["NotCapable", refusal(`${O}/x`)]);
  assertEquals(globO.reported.errors, [["NotCapable", refusal(O), O]]);
  assertEquals(globO.thrown.thrown, ["NotCapable", refusal(O)]);
  assertEquals(globSub.thrown.thrown, ["NotCapable", refusal(`${T}/sub`)]);
});

Deno.test("glob() and globSync() enter no directory the program may not read", async () => {
  const jobs = [
    { kind: "glob", root: `${T}/**` },
    { kind: "reference", root: T },
    { kind: "globSync", root: `${T}/**`, options: { followSymlinks: true } },
    { kind: "reference", root: T, options: { followSymlinks: true } },
    { kind: "glob", root: [`${T}/a/*`, `${T}/sub/*`] },
  ];
  const [all, ref, followed, refFollowed, two] = await child<Walked>(SCOPED, jobs);
  assertSame(all, ref, "glob(T/**)");
  // (glob yields each path once: T/a, again through T/ok/in, is yielded once)
  const once = (o: Outcome) => ({ ...o, entries: [...new Set(o.entries)] });
  assertSame(
    followed,
    { reported: once(refFollowed.reported), thrown: refFollowed.thrown },
    "globSync(T/**, followSymlinks)",
  );
  assertEquals(two.reported.entries.toSorted(), [`${T}/a/b`, `${T}/a/f`]);
  assertEquals(two.reported.errors, [["NotCapable", refusal(`${T}/sub`), `${T}/sub`]]);
});

Deno.test("IoQueue refuses to open or stat what the program may not read, at once", async () => {
  const [direct, relative] = await child<Record<string, string>>(SCOPED, [
    { kind: "queue", root: [`${T}/sub`, `${T}/sub/deep`, O, `${T}/a`] },
    { kind: "queue", root: ["sub", "a", O, "../o"], at: T },
  ]);
  const thrown = (path: string) => `thrown NotCapable: ${refusal(path)}`;
  assertEquals(direct, {
    [`opendir ${T}/sub`]: thrown(`${T}/sub`),
    [`stat ${T}/sub`]: thrown(`${T}/sub`),
    [`opendir ${T}/sub/deep`]: thrown(`${T}/sub/deep`),
    [`stat ${T}/sub/deep`]: thrown(`${T}/sub/deep`),
    [`opendir ${O}`]: thrown(O),
    [`stat ${O}`]: thrown(O),
    [`opendir ${T}/a`]: "ok",
    [`stat ${T}/a`]: "ok",
    inFlight: "0",
  });
  // Relative to a directory: checked joined to it
  assertEquals(relative, {
    "opendir sub": thrown(`${T}/sub`),
    "stat sub": thrown(`${T}/sub`),
    "opendir a": "ok",
    "stat a": "ok",
    [`opendir ${O}`]: thrown(O),
    [`stat ${O}`]: thrown(O),
    "opendir ../o": thrown(O),
    "stat ../o": thrown(O),
    inFlight: "0",
  });
});

Deno.test("a walk of a tree readable as a whole queries the permission twice, whatever its size", async () => {
  const [whole, followed, below] = await child<
    { entries: string[]; errors: string[]; queries: number }
  >(
    [`--allow-read=${T},${LIBRARY}`],
    [
      { kind: "queries", root: T },
      { kind: "queries", root: T, options: { followSymlinks: true } },
      { kind: "queries", root: `${T}/a` },
    ],
  );
  // One query for the program's read access, one for the root: no directory is asked about
  assertEquals([whole.queries, whole.entries.length, whole.errors], [2, 13, []]);
  assertEquals([below.queries, below.entries.length], [2, 4]);
  // Following links, only where they lead out of T is asked about (O: refused)
  assertEquals([followed.queries, followed.errors], [3, [O]]);
  assert(!followed.entries.some((p) => p.startsWith(O)), "nothing of O");
});

Deno.test("without --no-prompt and without a terminal, walk() fails as Deno's calls do", async () => {
  const jobs = [
    { kind: "walk", root: T, options: { followSymlinks: true } },
    { kind: "reference", root: T, options: { followSymlinks: true } },
  ];
  const [got, want] = await child<Walked>(SCOPED, jobs, true);
  assertSame(got, want, "walk(T) with prompts allowed");
  assertEquals(got.reported.errors.length, 3);
});

/** Runs the CLI in a child under the scoped flags. */
async function cli(args: string[]) {
  const r = await run([
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-prompt",
    "--allow-ffi",
    "--allow-env",
    ...SCOPED,
    `${REPO}cli.ts`,
    ...args,
  ]);
  assert(!r.timedOut && !r.signal, describe(r));
  return { code: r.code, out: r.stdout.split("\n").filter((l) => l), err: r.stderr };
}

Deno.test("the CLI reports what it may not read and walks the rest", async () => {
  const [ref] = await child<Walked>(SCOPED, [{ kind: "reference", root: T }]);
  const plain = await cli([T]);
  assertEquals(plain.code, 1);
  assertEquals(plain.out.toSorted(), ref.reported.entries.toSorted());
  assertEquals(plain.err, `walk: '${T}/sub': ${refusal(`${T}/sub`)}\n`);

  // Evaluated in JavaScript (-printf), with -prune's gates too
  const pruned = await cli([T, "-name", "a", "-prune", "-o", "-printf", "%p\n"]);
  assertEquals(pruned.code, 1);
  assert(!pruned.out.includes(`${T}/a/f`) && pruned.out.includes(`${T}/sub`), pruned.out.join());
  assertEquals(pruned.err, `walk: '${T}/sub': ${refusal(`${T}/sub`)}\n`);

  const outside = await cli([O, `${T}/a`]);
  assertEquals(outside.code, 1);
  assertEquals(outside.out.toSorted(), [`${T}/a`, `${T}/a/b`, `${T}/a/b/g`, `${T}/a/f`]);
  assertEquals(outside.err, `walk: '${O}': ${refusal(O)}\n`);

  // -L: links are checked where they lead
  const followed = await cli(["-L", T]);
  assertEquals(followed.code, 1);
  assert(!followed.out.some((p) => p.startsWith(`${T}/ok/out/`)), followed.out.join());
  assertEquals(followed.err.split("\n").filter((l) => l).toSorted(), [
    `walk: '${T}/ok/den': ${refusal(`${T}/sub`)}`,
    `walk: '${T}/ok/out': ${refusal(O)}`,
    `walk: '${T}/sub': ${refusal(`${T}/sub`)}`,
  ]);
});

Deno.test("the CLI walks post-order only where nothing below needs checking", async () => {
  const denied = await cli([T, "-depth"]);
  assertEquals([denied.code, denied.out], [1, []]);
  assertStringIncludes(denied.err, `walk: '${T}': Cannot check read access below it`);
  const whole = await cli([`${T}/a`, "-depth"]);
  assertEquals([whole.code, whole.err, whole.out.at(-1)], [0, "", `${T}/a`]);
  assertEquals(whole.out.toSorted(), [`${T}/a`, `${T}/a/b`, `${T}/a/b/g`, `${T}/a/f`]);
  const shallow = await cli([T, "-maxdepth", "1", "-depth", "-name", "sub"]);
  assertEquals(shallow, { code: 0, out: [`${T}/sub`], err: "" });
});

Deno.test("with read access granted everywhere, nothing is checked: one query", async () => {
  using queries = spy(Deno.permissions, "querySync");
  using lstats = spy(Deno, "lstatSync");
  using realPaths = spy(Deno, "realPathSync");
  const calls = () => [queries.calls.length, lstats.calls.length, realPaths.calls.length];
  const options = { followSymlinks: true, canonicalize: false, skip: [/\/out$/] };
  let n = 0;
  for await (const _ of walk(T, options)) n++;
  assertEquals([n, calls()], [18, [1, 0, 0]]);
  assertEquals(Array.from(walkSync(T, options)).length, 18);
  assertEquals(calls(), [2, 0, 0]);
  assertEquals(Array.from(globSync(`${T}/**`)).length, 13);
  for await (const _ of glob(`${T}/*/*`));
  assertEquals(calls(), [4, 0, 0]);
  {
    await using q = new IoQueue({ threads: 1 });
    for (let i = 0; i < 3; i++) q.stat(`${T}/sub`, i);
    q.opendir(`${T}/sub`, 3);
    for (const c of await q.pop()) if (c.op === "opendir") c.dir?.close();
    while (q.inFlight > 0) for (const c of await q.pop()) if (c.op === "opendir") c.dir?.close();
  }
  assertEquals(calls(), [5, 0, 0]);
  // The CLI (an expression that prints nothing, evaluated in JavaScript)
  assertEquals(await main([T, "-name", "none", "-printf", "%p\n"]), 0);
  assertEquals(calls(), [6, 0, 0]);
});

globalThis.addEventListener("unload", () => Deno.removeSync(BASE, { recursive: true }));
