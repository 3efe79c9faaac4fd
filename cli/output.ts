/**
 * The CLI's standard output: buffered, written in large chunks, with write
 * errors turned into the two outcomes find has: a closed pipe ends the walk
 * quietly (`walk | head`), any other failure (`> /dev/full`, a closed
 * stdout) is an error the CLI reports before exiting with status 1.
 *
 * @module
 */

import { stdoutWasClosed } from "./proc.ts";

/** Writing failed for a reason other than a closed pipe; `message` is the reason. */
export class WriteError extends Error {
  /** The errno name, e.g. `"ENOSPC"`. */
  readonly code: string;

  /** Makes the error; `reason` as strerror() says it. */
  constructor(reason: string, code: string) {
    super(reason);
    this.name = "WriteError";
    this.code = code;
  }
}

/** The reader of the pipe on stdout has gone: stop, quietly. */
export class PipeClosed extends Error {
  constructor() {
    super("Broken pipe");
    this.name = "PipeClosed";
  }
}

/** How stdout is written; tests give a sink of their own. */
export interface ByteWriter {
  writeSync(bytes: Uint8Array): number;
}

const BUFFER = 256 * 1024;

/** Buffered bytes for stdout. */
export class Output {
  readonly #writer: ByteWriter;
  readonly #buf = new Uint8Array(BUFFER);
  #used = 0;
  /** Text waiting to be encoded into `#buf` (one encode for many short strings). */
  #text = "";
  /** Whether this writes to the process's stdout. */
  readonly #stdout: boolean;
  readonly #encoder = new TextEncoder();
  /** Whether anything was written (or buffered). */
  #any = false;
  /** Whether stdout was closed at start: asked at the first write, answered by finish(). */
  #closed: Promise<boolean> | undefined;

  /** Writes to `writer` (default: stdout). */
  constructor(writer?: ByteWriter) {
    this.#writer = writer ?? Deno.stdout;
    this.#stdout = writer === undefined;
  }

  /** Whether stdout is a terminal. */
  static isTerminal(): boolean {
    try {
      return Deno.stdout.isTerminal();
    } catch {
      return false;
    }
  }

  /** Appends bytes (copied: the caller may reuse its buffer). */
  bytes(bytes: Uint8Array): void {
    if (!this.#any) this.#first();
    if (this.#text.length > 0) this.#encodeText();
    if (this.#used + bytes.length > BUFFER) this.#drain();
    if (bytes.length > BUFFER) {
      this.#write(bytes);
      return;
    }
    this.#buf.set(bytes, this.#used);
    this.#used += bytes.length;
  }

  /** Appends one byte. */
  byte(b: number): void {
    if (!this.#any) this.#first();
    if (this.#text.length > 0) this.#encodeText();
    if (this.#used === BUFFER) this.#drain();
    this.#buf[this.#used++] = b;
  }

  /** Appends text, encoded as UTF-8. */
  text(text: string): void {
    if (!this.#any) this.#first();
    this.#text += text;
    if (this.#text.length >= 16 * 1024) this.#encodeText();
  }

  /** Writes out everything buffered.  @throws {WriteError} @throws {PipeClosed} */
  flush(): void {
    this.#encodeText();
    this.#drain();
  }

  /**
   * Flushes, then fails as find does at exit when output went to a stdout
   * that was closed (`>&-`: the runtime put `/dev/null` there, so the
   * writes themselves succeeded).
   *
   * @throws {WriteError} @throws {PipeClosed}
   */
  async finish(): Promise<void> {
    this.flush();
    if (this.#closed && await this.#closed) throw new WriteError("Bad file descriptor", "EBADF");
  }

  /** At the first write: starts asking whether stdout was closed (while the walk goes on). */
  #first(): void {
    this.#any = true;
    if (this.#stdout && !Output.isTerminal()) this.#closed = stdoutWasClosed().catch(() => false);
  }

  #encodeText(): void {
    const text = this.#text;
    if (text.length === 0) return;
    this.#text = "";
    const most = text.length * 3;
    if (this.#used + most > BUFFER) this.#drain();
    if (most > BUFFER) {
      this.#write(this.#encoder.encode(text));
      return;
    }
    this.#used += this.#encoder.encodeInto(text, this.#buf.subarray(this.#used)).written;
  }

  #drain(): void {
    if (this.#used === 0) return;
    const used = this.#used;
    this.#used = 0;
    this.#write(this.#buf.subarray(0, used));
  }

  /** Writes all of `bytes`.  @throws {WriteError} @throws {PipeClosed} */
  #write(bytes: Uint8Array): void {
    try {
      for (let off = 0; off < bytes.length;) off += this.#writer.writeSync(bytes.subarray(off));
    } catch (error) {
      if (error instanceof Deno.errors.BrokenPipe) throw new PipeClosed();
      const code = (error as { code?: string }).code ?? "EIO";
      throw new WriteError(reasonOf(error), code);
    }
  }
}

/** The strerror() part of an OS error's message ("No space left on device"). */
export function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const at = message.indexOf(" (os error");
  return at > 0 ? message.slice(0, at) : message;
}
