/**
 * `walk`: a find-like command on ioq's walker.
 *
 * ```sh
 * deno task walk [ROOT...] [-type f|d|l] [-name GLOB] [-maxdepth N] [-mindepth N]
 *                [-L] [-dfs] [-j N] [-backend auto|io_uring|threads] [-print0] [-count]
 * ```
 *
 * It prints what `find ROOT` prints for the same predicates: the root first,
 * paths joined with `/`, raw bytes for names that are not UTF-8, one per line
 * (or NUL-terminated with `-print0`), breadth-first unless `-dfs`.  An
 * unreadable directory is reported on stderr and the walk goes on; the exit
 * status is then 1.  Bad arguments print the usage and exit with status 2.
 *
 * @module
 */

import type { DirBatch } from "./lib/dir.ts";
import { DT } from "./lib/layout.ts";
import { walkLikeFind } from "./lib/walk.ts";
import type { PathSink, WalkEntry } from "./lib/walker.ts";

const USAGE = `Usage: walk [ROOT...] [-type f|d|l] [-name GLOB] [-maxdepth N] [-mindepth N]
            [-L] [-dfs] [-j N] [-backend auto|io_uring|threads] [-print0] [-count]

Prints every path under each ROOT (default: .), like find(1), breadth-first.
  -type f|d|l   only files, directories or symlinks
  -name GLOB    only entries whose name matches GLOB (*, ?, [...])
  -maxdepth N   descend at most N levels below the roots
  -mindepth N   print nothing shallower than N levels
  -L            follow symbolic links
  -dfs          depth-first order
  -j N          worker threads of the I/O queue
  -backend B    the I/O queue's backend: auto (default), io_uring or threads
  -print0       end each path with a NUL byte instead of a newline
  -count        print only the number of matching entries
`;

/** Parsed command line. */
interface Args {
  roots: string[];
  type: "f" | "d" | "l" | undefined;
  name: RegExp | undefined;
  maxDepth: number;
  minDepth: number;
  follow: boolean;
  dfs: boolean;
  threads: number | undefined;
  backend: "auto" | "io_uring" | "threads";
  print0: boolean;
  count: boolean;
}

/** A command-line mistake: usage, exit status 2. */
class UsageError extends Error {}

/**
 * Translates a shell glob (fnmatch without flags) into an anchored RegExp:
 * `*`, `?`, bracket expressions (`[a-z]`, `[!x]`, `[^x]`) and `\` escapes.
 *
 * @param glob The pattern, as `-name` takes it.
 * @returns A RegExp that matches whole names.
 *
 * @example What -name matches
 * ```ts
 * import { globToRegExp } from "@ioq/ioq/cli";
 *
 * const re = globToRegExp("*.[ch]");
 * console.log(re.test("ioq.c"), re.test("ioq.h"), re.test("ioq.ts")); // true true false
 * ```
 */
export function globToRegExp(glob: string): RegExp {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") {
      out += "[\\s\\S]*";
    } else if (c === "?") {
      out += "[\\s\\S]";
    } else if (c === "\\" && i + 1 < glob.length) {
      out += escape(glob[++i]);
    } else if (c === "[") {
      const end = bracketEnd(glob, i);
      if (end < 0) {
        out += "\\[";
        continue;
      }
      let body = glob.slice(i + 1, end);
      let negate = false;
      if (body[0] === "!" || body[0] === "^") {
        negate = true;
        body = body.slice(1);
      }
      const cls = body.replace(/[\\\]^]/g, (m) => `\\${m}`);
      out += negate ? `[^${cls}]` : `[${cls}]`;
      i = end;
    } else {
      out += escape(c);
    }
  }
  return new RegExp(`^${out}$`, "u");
}

/** Escapes a character for a RegExp. */
function escape(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

/** Where the bracket expression opening at `start` closes, or -1. */
function bracketEnd(glob: string, start: number): number {
  let i = start + 1;
  if (glob[i] === "!" || glob[i] === "^") i++;
  if (glob[i] === "]") i++;
  for (; i < glob.length; i++) if (glob[i] === "]") return i;
  return -1;
}

/** Reads a non-negative integer option value. */
function count(flag: string, value: string | undefined, min = 0): number {
  if (value === undefined || !/^\d+$/.test(value) || Number(value) < min) {
    throw new UsageError(`${flag} needs an integer of at least ${min}, not ${value ?? "nothing"}`);
  }
  return Number(value);
}

/** Parses the command line.  @throws {UsageError} */
function parse(argv: string[]): Args {
  const args: Args = {
    roots: [],
    type: undefined,
    name: undefined,
    maxDepth: Infinity,
    minDepth: 0,
    follow: false,
    dfs: false,
    threads: undefined,
    backend: "auto",
    print0: false,
    count: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    switch (arg) {
      case "-type": {
        const t = argv[++i];
        if (t !== "f" && t !== "d" && t !== "l") {
          throw new UsageError(`-type takes f, d or l, not ${t ?? "nothing"}`);
        }
        args.type = t;
        break;
      }
      case "-name":
        if (argv[i + 1] === undefined) throw new UsageError("-name needs a pattern");
        args.name = globToRegExp(argv[++i]);
        break;
      case "-maxdepth":
        args.maxDepth = count(arg, argv[++i]);
        break;
      case "-mindepth":
        args.minDepth = count(arg, argv[++i]);
        break;
      case "-L":
        args.follow = true;
        break;
      case "-dfs":
        args.dfs = true;
        break;
      case "-j":
        args.threads = count(arg, argv[++i], 1);
        break;
      case "-backend": {
        const b = argv[++i];
        if (b !== "auto" && b !== "io_uring" && b !== "threads") {
          throw new UsageError(`-backend takes auto, io_uring or threads, not ${b ?? "nothing"}`);
        }
        args.backend = b;
        break;
      }
      case "-print0":
        args.print0 = true;
        break;
      case "-count":
        args.count = true;
        break;
      default:
        if (arg.startsWith("-") && arg !== "-") throw new UsageError(`unknown option ${arg}`);
        if (args.roots.length > 0 && argv.slice(0, i).some((a) => a.startsWith("-") && a !== "-")) {
          throw new UsageError(`paths must come before options: ${arg}`);
        }
        args.roots.push(arg);
    }
  }
  if (args.roots.length === 0) args.roots.push(".");
  return args;
}

/**
 * Buffers output and writes it to stdout in large chunks.  Text paths are
 * joined into one string and encoded together: one encodeInto call per path
 * would cost more than the walk's own work per entry.
 */
class Output {
  /** Bytes waiting to be written. */
  readonly #buf = new Uint8Array(256 * 1024);
  /** How many. */
  #used = 0;
  /** Text waiting to be encoded into `#buf`. */
  #text = "";
  readonly #encoder = new TextEncoder();

  /** Appends a path as text and its terminator. */
  text(path: string, end: string): void {
    this.#text += path + end;
    if (this.#text.length >= 16 * 1024) this.#encodeText();
  }

  /** Appends bytes (copied: the caller may reuse its buffer). */
  bytes(bytes: Uint8Array): void {
    this.#encodeText();
    if (this.#used + bytes.length > this.#buf.length) this.#drain();
    if (bytes.length > this.#buf.length) {
      writeAll(bytes);
      return;
    }
    this.#buf.set(bytes, this.#used);
    this.#used += bytes.length;
  }

  /** Encodes the pending text into the byte buffer. */
  #encodeText(): void {
    const text = this.#text;
    if (text.length === 0) return;
    this.#text = "";
    const most = text.length * 3;
    if (this.#used + most > this.#buf.length) this.#drain();
    if (most > this.#buf.length) {
      writeAll(this.#encoder.encode(text));
      return;
    }
    this.#used += this.#encoder.encodeInto(text, this.#buf.subarray(this.#used)).written;
  }

  /** Writes the byte buffer out. */
  #drain(): void {
    if (this.#used > 0) writeAll(this.#buf.subarray(0, this.#used));
    this.#used = 0;
  }

  /** Writes out everything buffered. */
  flush(): void {
    this.#encodeText();
    this.#drain();
  }
}

/** Writes all bytes to stdout. */
function writeAll(bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length;) off += Deno.stdout.writeSync(bytes.subarray(off));
}

/** The reason part of an ioq error message ("Permission denied"). */
function reason(error: Error): string {
  const code = (error as Error & { code?: string }).code;
  if (code === "ELOOP" && error.message.startsWith("File system loop")) {
    return "File system loop detected";
  }
  const at = error.message.indexOf(" (os error");
  return at > 0 ? error.message.slice(0, at) : error.message;
}

/** Whether an entry passes -type, -name and -mindepth. */
function matches(entry: WalkEntry, args: Args): boolean {
  if (entry.depth < args.minDepth) return false;
  if (args.type === "f" && !entry.isFile) return false;
  if (args.type === "d" && !entry.isDirectory) return false;
  if (args.type === "l" && !entry.isSymlink) return false;
  if (args.name && !args.name.test(entry.name)) return false;
  return true;
}

/** Whether entry `i` of a listing passes -type and -name (-mindepth is per batch). */
function matchesListed(batch: DirBatch, i: number, args: Args): boolean {
  const dt = batch.type(i);
  if (args.type === "f" && dt !== DT.REG) return false;
  if (args.type === "d" && dt !== DT.DIR) return false;
  if (args.type === "l" && dt !== DT.LNK) return false;
  if (args.name && !args.name.test(batch.name(i))) return false;
  return true;
}

/**
 * Runs the command.
 *
 * @param argv The arguments (without the program name).
 * @returns The exit status: 0, 1 when some path could not be read, 2 for bad
 *   arguments.
 *
 * @example Count the directories under /usr/share, two levels deep
 * ```ts
 * import { main } from "@ioq/ioq/cli";
 *
 * const status = await main(["/usr/share", "-maxdepth", "2", "-type", "d", "-count"]);
 * console.log(status); // 0
 * ```
 */
export async function main(argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = parse(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`walk: ${error.message}\n\n${USAGE}`);
    return 2;
  }

  let status = 0;
  const onError = (error: Error, path: string) => {
    status = 1;
    console.error(`walk: '${path}': ${reason(error)}`);
  };
  const out = new Output();
  const end = args.print0 ? "\0" : "\n";
  let n = 0;
  // Directory listings arrive as ready-made paths, with no string per entry
  const sink: PathSink = {
    end: args.print0 ? 0 : 0x0a,
    paths(batch: DirBatch, depth: number) {
      if (depth < args.minDepth) return;
      if (!args.type && !args.name) {
        n += batch.count;
        if (!args.count) out.bytes(batch.records);
        return;
      }
      const extra = batch.prefixLength + 1;
      for (let i = 0; i < batch.count; i++) {
        if (!matchesListed(batch, i, args)) continue;
        n++;
        if (args.count) continue;
        const start = batch.offset(i);
        out.bytes(batch.records.subarray(start, start + batch.nameLength(i) + extra));
      }
    },
  };
  try {
    for (const root of args.roots) {
      const entries = walkLikeFind(root, {
        maxDepth: args.maxDepth,
        followSymlinks: args.follow,
        order: args.dfs ? "dfs" : "bfs",
        onError,
        queue: {
          backend: args.backend,
          ...(args.threads === undefined ? {} : { threads: args.threads }),
        },
      }, sink);
      for await (const entry of entries) {
        if (!matches(entry, args)) continue;
        n++;
        if (args.count) continue;
        if (entry.pathBytes) {
          out.bytes(entry.pathBytes);
          out.text("", end);
        } else {
          out.text(entry.path, end);
        }
      }
    }
    if (args.count) out.text(String(n), "\n");
    out.flush();
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) return status;
    throw error;
  }
  return status;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
