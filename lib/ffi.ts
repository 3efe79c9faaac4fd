/**
 * The native library: its symbol table and how it is found and loaded.  No
 * other file knows a C signature.
 *
 * The library is found through, in order: the `IOQ_LIBRARY` environment
 * variable (a path), then the local build `native/lib/libioq.so` made by
 * `deno task build`.  It is loaded on first use, so importing the module
 * needs no permission.
 *
 * @module
 */

/** The C API of csrc/ioq.h.  C types are noted where the FFI type hides them. */
const SYMBOLS = {
  /** struct ioq *ioq_create(u32 depth, u32 threads, i32 backend, i32 *err) */
  ioq_create: { parameters: ["u32", "u32", "i32", "buffer"], result: "pointer" },
  ioq_stop_waits: { parameters: ["pointer"], result: "void" },
  ioq_cancel: { parameters: ["pointer"], result: "void" },
  ioq_destroy: { parameters: ["pointer"], result: "void" },
  ioq_backend: { parameters: ["pointer"], result: "i32" },
  ioq_depth: { parameters: ["pointer"], result: "u32" },
  ioq_threads: { parameters: ["pointer"], result: "u32" },
  ioq_capacity: { parameters: ["pointer"], result: "u32" },
  ioq_inflight: { parameters: ["pointer"], result: "u32" },
  /** struct ioq_ent *ioq_entries(struct ioq *) */
  ioq_entries: { parameters: ["pointer"], result: "pointer" },
  ioq_nop: { parameters: ["pointer", "f64"], result: "i32" },
  ioq_close: { parameters: ["pointer", "i32", "f64"], result: "i32" },
  /** (q, u32 at, const u8 *path, u32 len, u32 flags, f64 tag) */
  ioq_opendir: {
    parameters: ["pointer", "u32", "buffer", "u32", "u32", "f64"],
    result: "i32",
  },
  ioq_closedir: { parameters: ["pointer", "u32", "f64"], result: "i32" },
  /** (q, u32 at, const u8 *path, u32 len, u32 flags, f64 tag) */
  ioq_stat: {
    parameters: ["pointer", "u32", "buffer", "u32", "u32", "f64"],
    result: "i32",
  },
  ioq_submit: { parameters: ["pointer"], result: "i32" },
  /** (q, u32 *out, u32 max) */
  ioq_trypop: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  /** (q, u32 *out, u32 max, i32 timeout_us): blocks the calling thread */
  ioq_pop: { parameters: ["pointer", "buffer", "u32", "i32"], result: "i32" },
  ioq_epoch: { parameters: ["pointer"], result: "u32" },
  /** ioq_wait(q, i32 timeout_us, u32 epoch) on Deno's blocking pool */
  ioq_wait_async: {
    name: "ioq_wait",
    parameters: ["pointer", "i32", "u32"],
    result: "i32",
    nonblocking: true,
  },
  /** (q, const u32 *idx, u32 n) */
  ioq_release: { parameters: ["pointer", "buffer", "u32"], result: "void" },
  /** (q, u32 dir, u8 *names, u32 cap, u32 *meta, u32 max) */
  ioq_dir_read: {
    parameters: ["pointer", "u32", "buffer", "u32", "buffer", "u32"],
    result: "i32",
  },
  /** (q, u32 dir, const u8 *prefix, u32 plen, u32 end, u8 *out, u32 cap, u32 *meta, u32 max) */
  ioq_dir_read_paths: {
    parameters: ["pointer", "u32", "buffer", "u32", "u32", "buffer", "u32", "buffer", "u32"],
    result: "i32",
  },
  ioq_dir_fd: { parameters: ["pointer", "u32"], result: "i32" },
  ioq_dir_close: { parameters: ["pointer", "u32"], result: "i32" },
  /** (u32 *out, u32 max) */
  ioq_layout: { parameters: ["buffer", "u32"], result: "i32" },
  ioq_features: { parameters: [], result: "i32" },
  ioq_fd_headroom: { parameters: [], result: "i32" },
  /** (i32 point, i32 err, i32 count) */
  ioq_test_inject: { parameters: ["i32", "i32", "i32"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The bound functions. */
export type Symbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** The loaded library, once loaded. */
let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

/** Where the local build puts the library. */
export const LOCAL_LIBRARY: URL = new URL("../native/lib/libioq.so", import.meta.url);

/** Reads an environment variable, treating a denied permission as unset. */
function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** Finds the library file, or throws saying how to get one. */
function locate(): string | URL {
  if (Deno.build.os !== "linux") {
    throw new Error(
      `Cannot load ioq: it supports Linux only (io_uring, getdents64, statx), not ${Deno.build.os}`,
    );
  }
  const fromEnv = env("IOQ_LIBRARY");
  if (fromEnv) return fromEnv;
  if (LOCAL_LIBRARY.protocol === "file:") {
    try {
      Deno.statSync(LOCAL_LIBRARY);
      return LOCAL_LIBRARY;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  throw new Error(
    "Cannot load ioq: native/lib/libioq.so is missing; run `deno task build` in the ioq " +
      "checkout, or set IOQ_LIBRARY to the library's path",
  );
}

/**
 * The native symbols, loading the library on first use.
 *
 * @throws {Error} When the library cannot be found or loaded.
 */
export function ffi(): Symbols {
  lib ??= Deno.dlopen(locate(), SYMBOLS);
  return lib.symbols;
}
