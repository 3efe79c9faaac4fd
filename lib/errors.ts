/**
 * OS errors: turning a negative errno from C into the `Deno.errors.*` class
 * that fits, with the operation and path in the message and the errno name
 * in `code`.
 *
 * @module
 */

/**
 * An error from the OS, as ioq reports it: a `Deno.errors.*` instance where
 * one fits, with these fields.
 *
 * @example Tell a missing directory from other errors
 * ```ts
 * import { IoQueue, type IoqError } from "@ioq/ioq";
 *
 * await using q = new IoQueue();
 * q.opendir("/no/such/dir", 1);
 * const [done] = await q.pop();
 * const error = done.error as IoqError | undefined;
 * console.log(error instanceof Deno.errors.NotFound); // true
 * console.log(error?.code, error?.errno, error?.op, error?.path); // "ENOENT" 2 "opendir" "/no/such/dir"
 * ```
 */
export interface IoqError extends Error {
  /** The errno name, e.g. `"ENOENT"`. */
  code: string;
  /** The errno number (positive), e.g. 2. */
  errno: number;
  /** The operation, e.g. `"opendir"`. */
  op: string;
  /** The path involved, when there is one. */
  path?: string;
}

/** Linux errno numbers (x86_64 and arm64 agree): name and message. */
const ERRNO: Record<number, readonly [string, string]> = {
  1: ["EPERM", "Operation not permitted"],
  2: ["ENOENT", "No such file or directory"],
  3: ["ESRCH", "No such process"],
  4: ["EINTR", "Interrupted system call"],
  5: ["EIO", "Input/output error"],
  6: ["ENXIO", "No such device or address"],
  7: ["E2BIG", "Argument list too long"],
  9: ["EBADF", "Bad file descriptor"],
  11: ["EAGAIN", "Resource temporarily unavailable"],
  12: ["ENOMEM", "Cannot allocate memory"],
  13: ["EACCES", "Permission denied"],
  14: ["EFAULT", "Bad address"],
  16: ["EBUSY", "Device or resource busy"],
  17: ["EEXIST", "File exists"],
  18: ["EXDEV", "Invalid cross-device link"],
  19: ["ENODEV", "No such device"],
  20: ["ENOTDIR", "Not a directory"],
  21: ["EISDIR", "Is a directory"],
  22: ["EINVAL", "Invalid argument"],
  23: ["ENFILE", "Too many open files in system"],
  24: ["EMFILE", "Too many open files"],
  27: ["EFBIG", "File too large"],
  28: ["ENOSPC", "No space left on device"],
  30: ["EROFS", "Read-only file system"],
  34: ["ERANGE", "Numerical result out of range"],
  36: ["ENAMETOOLONG", "File name too long"],
  38: ["ENOSYS", "Function not implemented"],
  39: ["ENOTEMPTY", "Directory not empty"],
  40: ["ELOOP", "Too many levels of symbolic links"],
  61: ["ENODATA", "No data available"],
  75: ["EOVERFLOW", "Value too large for defined data type"],
  95: ["EOPNOTSUPP", "Operation not supported"],
  110: ["ETIMEDOUT", "Connection timed out"],
  116: ["ESTALE", "Stale file handle"],
  117: ["EUCLEAN", "Structure needs cleaning"],
  125: ["ECANCELED", "Operation canceled"],
};

/** The `Deno.errors` class for an errno, when one fits. */
const CLASSES: Record<number, new (message: string) => Error> = {
  1: Deno.errors.PermissionDenied,
  2: Deno.errors.NotFound,
  4: Deno.errors.Interrupted,
  9: Deno.errors.BadResource,
  11: Deno.errors.WouldBlock,
  13: Deno.errors.PermissionDenied,
  16: Deno.errors.Busy,
  17: Deno.errors.AlreadyExists,
  20: Deno.errors.NotADirectory,
  21: Deno.errors.IsADirectory,
  40: Deno.errors.FilesystemLoop,
  95: Deno.errors.NotSupported,
  110: Deno.errors.TimedOut,
};

/** @returns The errno name for a (positive) errno number, e.g. `"ENOENT"`. */
export function errnoName(errno: number): string {
  return ERRNO[errno]?.[0] ?? `E${errno}`;
}

/** @returns The text of a (positive) errno number, as strerror() gives it. */
export function errnoText(errno: number): string {
  return ERRNO[errno]?.[1] ?? "Unknown error";
}

/**
 * The errno whose text a message carries, for errors that come only as text
 * (`Deno.dlopen` reports dlerror()'s string).
 *
 * @param message E.g. `"...: cannot open shared object file: Too many open files"`.
 * @returns The errno number, or `undefined` when no known text is in it.
 */
export function errnoInMessage(message: string): number | undefined {
  for (const [n, [, text]] of Object.entries(ERRNO)) {
    if (message.includes(text)) return Number(n);
  }
  return undefined;
}

/**
 * Builds the error for a failed operation.
 *
 * @param errno The errno, positive or negative.
 * @param op The operation, e.g. `"opendir"`.
 * @param path The path involved, if any.
 * @returns A `Deno.errors.*` instance where one fits, else an `Error`, with
 *   `code`, `errno`, `op` and `path` set.  Its message reads like Deno's own:
 *   `No such file or directory (os error 2): opendir '/nope'`.
 */
export function osError(errno: number, op: string, path?: string): IoqError {
  const n = Math.abs(errno);
  const [code, text] = ERRNO[n] ?? [`E${n}`, "Unknown error"];
  const where = path === undefined ? op : `${op} '${path}'`;
  const Class = CLASSES[n] ?? Error;
  const error = new Class(`${text} (os error ${n}): ${where}`) as IoqError;
  error.code = code;
  error.errno = n;
  error.op = op;
  if (path !== undefined) error.path = path;
  return error;
}

/**
 * A value as an error message names it: a string quoted, `null`, an array,
 * "an object", "a function", else its text (`5`, `true`, `undefined`).
 */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "object") return "an object";
  if (typeof value === "function") return "a function";
  return String(value);
}

/**
 * Checks an option that must be an array of items of one kind.
 *
 * @param op What was refused, e.g. `"walk"`.
 * @param what What each item must be, e.g. `"a string"`.
 * @throws {TypeError} Naming the option when it is not an array, else the
 *   first item that is wrong, by its index.
 */
export function checkArray(
  op: string,
  name: string,
  value: unknown,
  what: string,
  isItem: (item: unknown) => boolean,
): void {
  if (!Array.isArray(value)) {
    throw new TypeError(`Cannot ${op}: ${name} must be an array, not ${describeValue(value)}`);
  }
  const bad = value.findIndex((item) => !isItem(item));
  if (bad >= 0) {
    throw new TypeError(
      `Cannot ${op}: ${name}[${bad}] must be ${what}, not ${describeValue(value[bad])}`,
    );
  }
}
