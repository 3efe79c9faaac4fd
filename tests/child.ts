/**
 * Child processes for tests that could crash, hang or change process-wide
 * state (descriptor limits, seccomp filters): run them in a subprocess, so a
 * crash or a hang fails the test instead of killing the runner.
 *
 * @module
 */

import { fromFileUrl } from "@std/path";
import { walk, type WalkEntry, type WalkOptions } from "../mod.ts";

/** The repository root, as a path (ending in "/"). */
export const REPO: string = fromFileUrl(new URL("../", import.meta.url));

/** A test fixture script's path (tests/fixtures/NAME). */
export function fixture(name: string): string {
  return fromFileUrl(new URL(`fixtures/${name}`, import.meta.url));
}

/** How a child ended. */
export interface ChildResult {
  /** The exit code (128 + n for a signal, as a shell shows it). */
  code: number;
  /** The signal that killed it, if one did. */
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
  /** Wall-clock milliseconds from spawn to exit. */
  ms: number;
  /** Whether it was killed for running past its time limit. */
  timedOut: boolean;
}

/** Options for `run()`. */
export interface RunOptions {
  /** Kill it (SIGKILL) after this many milliseconds. */
  timeoutMs?: number;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Standard input to write (then closed). */
  stdin?: string;
  cwd?: string;
}

const decoder = new TextDecoder();

/** Runs a command to its end (or its time limit) and collects everything. */
export async function run(cmd: string[], options: RunOptions = {}): Promise<ChildResult> {
  const { timeoutMs = 60_000, env, stdin, cwd = REPO } = options;
  const start = performance.now();
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, timeoutMs);
  try {
    if (stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(stdin));
      await writer.close();
    }
    const out = await child.output();
    return {
      code: out.code,
      signal: out.signal,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
      ms: performance.now() - start,
      timedOut,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** `deno run -A script args...`, as a command line. */
export function denoRun(script: string, args: string[] = []): string[] {
  return [Deno.execPath(), "run", "-A", "--quiet", script, ...args];
}

/** A one-line account of how a child ended, for assertion messages. */
export function describe(r: ChildResult): string {
  const how = r.timedOut
    ? `was killed after ${r.ms.toFixed(0)} ms (time limit)`
    : r.signal
    ? `died of ${r.signal}`
    : `exited with ${r.code}`;
  const tail = (s: string) => s.length > 2000 ? `...${s.slice(-2000)}` : s;
  return `the child ${how} after ${r.ms.toFixed(0)} ms; stderr: ${tail(r.stderr)}; stdout: ${
    tail(r.stdout)
  }`;
}

/**
 * Runs a child that must exit 0, and parses the last line of its standard
 * output as JSON.
 *
 * @throws {Error} When it crashed, hung or failed, with its output.
 */
export async function runJson<T>(cmd: string[], options: RunOptions = {}): Promise<T> {
  const r = await run(cmd, options);
  if (r.code !== 0 || r.signal || r.timedOut) throw new Error(describe(r));
  const lines = r.stdout.trimEnd().split("\n");
  return JSON.parse(lines[lines.length - 1]) as T;
}

/** Whether a command runs and exits 0 (checked synchronously, for test registration). */
export function runsSync(cmd: string, args: string[]): boolean {
  try {
    return new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

/** The C compiler for small fixtures: gcc or cc, or undefined when there is none. */
export const CC: string | undefined = ["gcc", "cc"].find((cc) => runsSync(cc, ["--version"]));

/**
 * Compiles one C fixture (tests/fixtures/NAME.c) into `dir`.
 *
 * @returns The executable's path.
 */
export async function compileFixture(name: string, dir: string): Promise<string> {
  if (!CC) throw new Error("no C compiler (gcc or cc) on PATH");
  const exe = `${dir}/${name}`;
  const r = await run([CC, "-O2", "-Wall", "-Wextra", "-Werror", "-o", exe, fixture(`${name}.c`)]);
  if (r.code !== 0) throw new Error(`compiling ${name}.c failed: ${r.stderr}`);
  return exe;
}

/** An entry as walk_child.ts prints it: depth, type flags, path. */
export function entryKey(e: WalkEntry): string {
  const flags = `${e.isFile ? "f" : "-"}${e.isDirectory ? "d" : "-"}${e.isSymlink ? "l" : "-"}`;
  return `${e.depth} ${flags} ${JSON.stringify(e.path)}`;
}

/** Walks in this process; the sorted entry keys, as walk_child.ts gives them. */
export async function walkKeys(root: string, options: WalkOptions = {}): Promise<string[]> {
  const out: string[] = [];
  for await (const e of walk(root, options)) out.push(entryKey(e));
  return out.sort();
}
