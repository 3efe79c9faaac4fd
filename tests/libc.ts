/**
 * A few libc calls for tests that need what Deno's API cannot do: raw-byte
 * file names and descriptors of our own.
 *
 * @module
 */

const libc = Deno.dlopen("libc.so.6", {
  open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  mknod: { parameters: ["buffer", "u32", "u64"], result: "i32" },
  mkdir: { parameters: ["buffer", "u32"], result: "i32" },
});

/** NUL-terminated bytes of a path. */
function cstr(path: string | Uint8Array): Uint8Array {
  const bytes = typeof path === "string" ? new TextEncoder().encode(path) : path;
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** Concatenates byte arrays. */
export function bytes(...parts: (string | Uint8Array | number[])[]): Uint8Array {
  const arrays = parts.map((p) =>
    typeof p === "string"
      ? new TextEncoder().encode(p)
      : p instanceof Uint8Array
      ? p
      : new Uint8Array(p)
  );
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

/** open(2) read-only; returns the descriptor. */
export function openFd(path: string): number {
  const fd = libc.symbols.open(cstr(path), 0, 0);
  if (fd < 0) throw new Error(`open ${path} failed`);
  return fd;
}

/** Creates an empty file whose name is raw bytes (O_CREAT|O_WRONLY). */
export function createRaw(path: Uint8Array): void {
  const fd = libc.symbols.open(cstr(path), 0o101, 0o644);
  if (fd < 0) throw new Error("creating a raw-byte file failed");
  libc.symbols.close(fd);
}

/** Creates a directory whose name is raw bytes (mode 0755). */
export function mkdirRaw(path: Uint8Array): void {
  if (libc.symbols.mkdir(cstr(path), 0o755) !== 0) {
    throw new Error("creating a raw-byte directory failed");
  }
}

/** Creates a Unix socket node (mknod S_IFSOCK). */
export function mkSocket(path: string): void {
  if (libc.symbols.mknod(cstr(path), 0o140644, 0n) !== 0) throw new Error(`mknod ${path} failed`);
}

/** Creates a FIFO (mknod S_IFIFO). */
export function mkFifo(path: string): void {
  if (libc.symbols.mknod(cstr(path), 0o010644, 0n) !== 0) throw new Error(`mknod ${path} failed`);
}

/** Whether a descriptor is open (fcntl-free: via /proc). */
export function fdOpen(fd: number): boolean {
  try {
    Deno.readLinkSync(`/proc/self/fd/${fd}`);
    return true;
  } catch {
    return false;
  }
}

/** Creates empty files `dir/name` quickly (open + close, no write). */
export function touchAll(dir: string, names: Iterable<string>): void {
  for (const name of names) {
    const fd = libc.symbols.open(cstr(`${dir}/${name}`), 0o101, 0o644);
    if (fd < 0) throw new Error(`creating ${dir}/${name} failed`);
    libc.symbols.close(fd);
  }
}
