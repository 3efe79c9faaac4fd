/**
 * Running the CLI and GNU find on the same command line, and comparing what
 * they did: stdout byte for byte (as sorted records, or as they come),
 * the exit status, and stderr loosely (one line per error, each naming its
 * path).
 *
 * @module
 */

import { assertEquals } from "@std/assert";

/** The CLI's entry point. */
export const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/** Every permission the CLI may need. */
export const CLI_FLAGS = [
  "--allow-ffi",
  "--allow-read",
  "--allow-env",
  "--allow-run",
  "--allow-write",
];

/** The environment both run in. */
export const ENV = { LC_ALL: "C.UTF-8", TZ: "UTC" };

/** What a process did. */
export interface Ran {
  code: number;
  stdout: Uint8Array;
  stderr: string;
}

/** Runs a command with the shared environment. */
export async function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; stdin?: Uint8Array; env?: Record<string, string> } = {},
): Promise<Ran> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: options.cwd,
    env: { ...ENV, ...options.env },
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(options.stdin);
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  return { code, stdout, stderr: new TextDecoder().decode(stderr) };
}

/** Runs the CLI. */
export function walkCli(
  args: string[],
  options: { cwd?: string; stdin?: Uint8Array; env?: Record<string, string> } = {},
): Promise<Ran> {
  return run(Deno.execPath(), ["run", ...CLI_FLAGS, CLI, ...args], options);
}

/** Runs GNU find. */
export function find(
  args: string[],
  options: { cwd?: string; stdin?: Uint8Array } = {},
): Promise<Ran> {
  return run("find", args, options);
}

/** Splits output into records ending in `end` (a last record without it kept as is). */
export function records(out: Uint8Array, end = 0x0a): Uint8Array[] {
  const recs: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < out.length; i++) {
    if (out[i] === end) {
      recs.push(out.subarray(start, i + 1));
      start = i + 1;
    }
  }
  if (start < out.length) recs.push(out.subarray(start));
  return recs;
}

/** Records as printable strings (JSON-escaped bytes), for readable failures. */
export function show(recs: Uint8Array[]): string[] {
  return recs.map((r) =>
    Array.from(
      r,
      (b) =>
        b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`,
    ).join("")
  );
}

/** The records, sorted bytewise. */
export function sortedRecords(out: Uint8Array, end = 0x0a): string[] {
  return show(records(out, end)).sort();
}

/** Paths of find's error lines (between ‘ and ’), plain ones only. */
function errorPaths(stderr: string): string[] {
  const paths: string[] = [];
  for (const line of stderr.split("\n")) {
    const m = line.match(/‘([^’]*)’/);
    if (m) paths.push(m[1]);
  }
  return paths;
}

/**
 * Compares stderr loosely: as many lines, and each path find complains
 * about named in one of ours.
 */
export function assertSameErrors(ours: string, theirs: string, what: string): void {
  const lines = (s: string) => s.split("\n").filter((l) => l !== "");
  assertEquals(
    lines(ours).length,
    lines(theirs).length,
    `${what}: error lines\n--- ours:\n${ours}--- find:\n${theirs}`,
  );
  for (const path of errorPaths(theirs)) {
    if (!/^[\x20-\x7e]*$/.test(path) || path.includes("\\")) continue;
    const named = lines(ours).some((l) => l.includes(`'${path}'`));
    if (!named) throw new Error(`${what}: no error names '${path}'\n--- ours:\n${ours}`);
  }
  for (const line of lines(ours)) {
    if (!line.startsWith("walk: ")) throw new Error(`${what}: not a walk: line: ${line}`);
  }
}

/**
 * Runs a command line through both and compares: stdout as sorted records
 * (or exactly, with `exact`), exit status, errors.
 */
export async function compareWithFind(
  args: string[],
  options: { cwd?: string; exact?: boolean; end?: number; ours?: string[] } = {},
): Promise<void> {
  const what = args.join(" ");
  const end = options.end ?? (args.includes("-print0") ? 0 : 0x0a);
  const [ours, theirs] = await Promise.all([
    walkCli(options.ours ?? args, { cwd: options.cwd }),
    find(args, { cwd: options.cwd }),
  ]);
  if (options.exact) {
    assertEquals(show(records(ours.stdout, end)), show(records(theirs.stdout, end)), what);
  } else {
    assertEquals(sortedRecords(ours.stdout, end), sortedRecords(theirs.stdout, end), what);
  }
  assertEquals(ours.code, theirs.code, `${what}: exit status (stderr: ${ours.stderr})`);
  assertSameErrors(ours.stderr, theirs.stderr, what);
}
