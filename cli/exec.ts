/**
 * `-exec`, `-execdir`, `-ok`, `-okdir`: running commands on entries, one at
 * a time (`;`) or in batches (`+`), and the byte-exact process runner they
 * and the other fallbacks share.
 *
 * Deno passes arguments as strings, so a path that is not valid UTF-8 cannot
 * be an argument as it is; such commands run through `/bin/sh`, which
 * rebuilds every argument from octal escapes (`printf`) and then `exec`s the
 * command, so the bytes arrive unchanged.
 *
 * @module
 */

import type { FindEntry } from "./entry.ts";
import type { EvalContext, Primary } from "./expr.ts";
import { reasonOf } from "./output.ts";
import { baseName, trimSlashes } from "./bytes.ts";

const encoder = new TextEncoder();
const strict = new TextDecoder("utf-8", { fatal: true });

/** The most bytes of arguments one batch of `+` passes (find's default). */
const ARG_MAX = 128 * 1024;

/** Bytes as a string when they are UTF-8; undefined when not. */
function utf8(bytes: Uint8Array): string | undefined {
  try {
    return strict.decode(bytes);
  } catch {
    return undefined;
  }
}

/** A string that makes `printf` print exactly these bytes (every byte an octal escape). */
function octal(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += `\\${b.toString(8).padStart(3, "0")}`;
  return out;
}

/** What a command did. */
export interface RunResult {
  /** Its exit status (128 + n for a signal); undefined when it could not be started. */
  code?: number;
  /** Why it could not be started. */
  error?: string;
  /** Its output and error output, when captured. */
  stdout?: Uint8Array;
  stderr?: Uint8Array;
}

/**
 * Runs `argv` (bytes) in `cwd` (bytes; default: the current directory),
 * waiting for it.  Standard descriptors are inherited, or with `capture`
 * stdin is /dev/null and stdout and stderr are captured.
 */
export function runBytes(argv: Uint8Array[], cwd?: Uint8Array, capture = false): RunResult {
  const args = argv.map(utf8);
  const dir = cwd === undefined ? undefined : utf8(cwd);
  let command: string;
  let rest: string[];
  let where: string | undefined;
  if (args.every((a) => a !== undefined) && (cwd === undefined || dir !== undefined)) {
    command = args[0]!;
    rest = args.slice(1) as string[];
    where = dir;
  } else {
    // Through sh, which can carry any bytes: printf rebuilds each argument
    // (an "x" keeps a trailing newline from being eaten by $(...))
    let script = "set --\n";
    if (cwd !== undefined) {
      script += `d=$(printf '${octal(cwd)}x') && cd -- "\${d%x}" || exit 127\n`;
    }
    for (const a of argv) script += `a=$(printf '${octal(a)}x') && set -- "$@" "\${a%x}"\n`;
    script += 'exec "$@"\n';
    command = "/bin/sh";
    rest = ["-c", script, "sh"];
  }
  try {
    const out = new Deno.Command(command, {
      args: rest,
      cwd: where,
      stdin: capture ? "null" : "inherit",
      stdout: capture ? "piped" : "inherit",
      stderr: capture ? "piped" : "inherit",
    }).outputSync();
    const code = out.signal ? 128 + signalNumber(out.signal) : out.code;
    return capture ? { code, stdout: out.stdout, stderr: out.stderr } : { code };
  } catch (error) {
    return { error: reasonOf(error) };
  }
}

/** A signal's number, for an exit status of 128 + n. */
function signalNumber(signal: string): number {
  const numbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9 };
  return numbers[signal] ?? 15;
}

/** -exec and its kin, as parsed: which, the command and its arguments, and whether batched. */
export interface ExecSpec {
  name: "-exec" | "-execdir" | "-ok" | "-okdir";
  /** The command and its arguments, `{}` in them standing for the path. */
  argv: string[];
  /** `+`: many paths per command, at the end of the arguments. */
  batch: boolean;
}

/** The argument bytes of `{}` in a spec argument, each replaced by `path`. */
function substitute(arg: string, path: Uint8Array): Uint8Array {
  if (!arg.includes("{}")) return encoder.encode(arg);
  const parts = arg.split("{}").map((p) => encoder.encode(p));
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size + path.length * (parts.length - 1));
  let at = 0;
  parts.forEach((p, i) => {
    if (i > 0) {
      out.set(path, at);
      at += path.length;
    }
    out.set(p, at);
    at += p.length;
  });
  return out;
}

/** Where `-execdir` runs for an entry, and the name it passes (`./name`, or `/` for `/`). */
function local(e: FindEntry): { dir: Uint8Array; arg: Uint8Array } {
  const name = baseName(e);
  // "/" itself runs in "/"
  if (name[0] === 0x2f) return { dir: name, arg: name };
  const at = e.nameStart - 1;
  const dir = at < 0
    ? encoder.encode(".")
    : e.path.subarray(0, trimSlashes(e.path, at > 0 ? at : 1));
  const arg = new Uint8Array(name.length + 2);
  arg.set([0x2e, 0x2f]);
  arg.set(name, 2);
  return { dir, arg };
}

/** Asks on stderr whether to run a command; true for an answer starting with y or Y. */
function confirm(command: string, path: Uint8Array): boolean {
  const prompt = new Uint8Array([
    ...encoder.encode(`< ${command} ... `),
    ...path,
    ...encoder.encode(" > ? "),
  ]);
  Deno.stderr.writeSync(prompt);
  const line: number[] = [];
  const byte = new Uint8Array(1);
  while (true) {
    let n: number | null;
    try {
      n = Deno.stdin.readSync(byte);
    } catch {
      n = null;
    }
    if (!n || byte[0] === 0x0a) break;
    line.push(byte[0]);
  }
  const answer = String.fromCharCode(...line);
  return answer[0] === "y" || answer[0] === "Y";
}

/** The primary for one -exec, -execdir, -ok or -okdir. */
export class Exec implements Primary {
  readonly name: string;
  readonly action = true;
  readonly #spec: ExecSpec;
  /** Pending paths of a batch, and the directory they are for (-execdir). */
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #pendingDir: Uint8Array | undefined;

  constructor(spec: ExecSpec) {
    this.#spec = spec;
    this.name = spec.name;
  }

  /** See `Primary.test`. */
  test(e: FindEntry, ctx: EvalContext): boolean {
    const inDir = this.#spec.name === "-execdir" || this.#spec.name === "-okdir";
    const { dir, arg } = inDir ? local(e) : { dir: undefined, arg: e.path };
    if (this.#spec.batch) {
      if (inDir && this.#pendingDir !== undefined && !sameBytes(this.#pendingDir, dir!)) {
        this.finish(ctx);
      }
      const fixed = this.#spec.argv.reduce((n, a) => n + encoder.encode(a).length + 1, 0);
      if (this.#pending.length > 0 && fixed + this.#pendingBytes + arg.length + 1 > ARG_MAX) {
        this.finish(ctx);
      }
      this.#pending.push(arg.slice());
      this.#pendingBytes += arg.length + 1;
      this.#pendingDir = dir?.slice();
      return true;
    }
    const argv = this.#spec.argv.map((a) => substitute(a, arg));
    if (this.#spec.name === "-ok" || this.#spec.name === "-okdir") {
      ctx.out.flush();
      if (!confirm(this.#spec.argv[0], e.path)) return false;
    }
    return this.#run(argv, dir, ctx) === 0;
  }

  /** Runs the pending batch, if any. */
  finish(ctx: EvalContext): void {
    if (this.#pending.length === 0) return;
    const argv = [...this.#spec.argv.slice(0, -1).map((a) => encoder.encode(a)), ...this.#pending];
    const dir = this.#pendingDir;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#pendingDir = undefined;
    if (this.#run(argv, dir, ctx) !== 0) ctx.status = 1;
  }

  /** Runs a command line after flushing stdout; returns its status (undefined: not started). */
  #run(argv: Uint8Array[], dir: Uint8Array | undefined, ctx: EvalContext): number | undefined {
    ctx.out.flush();
    const result = runBytes(argv, dir);
    if (result.error !== undefined) {
      ctx.warn(`'${this.#spec.argv[0]}': ${result.error}`);
      return undefined;
    }
    return result.code;
  }
}

/** Whether two byte strings are equal. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
