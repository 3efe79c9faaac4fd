/**
 * The C ABI as numbers: struct ioq_ent offsets, statx offsets, op codes and
 * flags.  This is the one place that knows them; tests/layout_test.ts holds
 * it to `ioq_layout()` in csrc/layout.c, word for word.
 *
 * @module
 */

/** Offsets and constants, in the order of `enum ioq_layout_word` (csrc/ioq.h). */
export const LAYOUT = {
  /** sizeof(struct ioq_ent). */
  ENT_SIZE: 512,
  /** ioq_ent.op (i32). */
  OP: 0,
  /** ioq_ent.result (i32). */
  RESULT: 4,
  /** ioq_ent.tag (f64). */
  TAG: 8,
  /** ioq_ent.dir (u32). */
  DIR: 16,
  /** ioq_ent.at (u32). */
  AT: 20,
  /** ioq_ent.fd (i32). */
  FD: 24,
  /** ioq_ent.flags (u32). */
  FLAGS: 28,
  /** ioq_ent.path_len (u32). */
  PATH_LEN: 32,
  /** ioq_ent.index (u32). */
  INDEX: 36,
  /** ioq_ent.path (pointer). */
  PATH: 40,
  /** ioq_ent.stx (struct statx). */
  STX: 64,
  /** statx.stx_mask (u32), relative to STX. */
  STX_MASK: 0,
  /** statx.stx_blksize (u32). */
  STX_BLKSIZE: 4,
  /** statx.stx_nlink (u32). */
  STX_NLINK: 16,
  /** statx.stx_uid (u32). */
  STX_UID: 20,
  /** statx.stx_gid (u32). */
  STX_GID: 24,
  /** statx.stx_mode (u16). */
  STX_MODE: 28,
  /** statx.stx_ino (u64). */
  STX_INO: 32,
  /** statx.stx_size (u64). */
  STX_SIZE: 40,
  /** statx.stx_blocks (u64). */
  STX_BLOCKS: 48,
  /** statx.stx_atime (statx_timestamp: i64 tv_sec, u32 tv_nsec). */
  STX_ATIME: 64,
  /** statx.stx_btime. */
  STX_BTIME: 80,
  /** statx.stx_ctime. */
  STX_CTIME: 96,
  /** statx.stx_mtime. */
  STX_MTIME: 112,
  /** statx.stx_rdev_major (u32). */
  STX_RDEV_MAJOR: 128,
  /** statx.stx_rdev_minor (u32). */
  STX_RDEV_MINOR: 132,
  /** statx.stx_dev_major (u32). */
  STX_DEV_MAJOR: 136,
  /** statx.stx_dev_minor (u32). */
  STX_DEV_MINOR: 140,
  /** statx_timestamp.tv_nsec, relative to a timestamp. */
  TS_NSEC: 8,
  /** STATX_BTIME: stx_mask bit saying the birth time is valid. */
  STATX_BTIME: 0x800,
  /** IOQ_NOP. */
  OP_NOP: 0,
  /** IOQ_CLOSE. */
  OP_CLOSE: 1,
  /** IOQ_OPENDIR. */
  OP_OPENDIR: 2,
  /** IOQ_CLOSEDIR. */
  OP_CLOSEDIR: 3,
  /** IOQ_STAT. */
  OP_STAT: 4,
  /** IOQ_STAT_NOFOLLOW. */
  STAT_NOFOLLOW: 0x1,
  /** IOQ_OPENDIR_STAT. */
  OPENDIR_STAT: 0x2,
  /** IOQ_HANDLE_INDEX_BITS. */
  HANDLE_INDEX_BITS: 20,
  /** IOQ_INLINE_PATH. */
  INLINE_PATH: 192,
  /** IOQ_DIR_END: meta[0] flag of a directory read that reached the end. */
  DIR_END: 0x80000000,
} as const;

/** enum ioq_backend. */
export const BACKEND = { auto: 0, io_uring: 1, threads: 2 } as const;

/** enum ioq_inject_point (test hook). */
export const INJECT = {
  ringSetup: 0,
  submit: 1,
  stall: 2,
  uringClose: 3,
  uringOpendir: 4,
  uringClosedir: 5,
  uringStat: 6,
} as const;

/** Bits of ioq_features(). */
export const FEATURE_URING = 0x1;

/** Layout of the `meta` words ioq_dir_read() writes for each entry. */
export const META = {
  /** DT_* type in bits 0-7. */
  TYPE_MASK: 0xff,
  /** Set when the name is not valid UTF-8. */
  NOT_UTF8: 0x100,
  /** The name's byte length starts at this bit. */
  LEN_SHIFT: 16,
} as const;

/** d_type values of getdents64 (DT_* in <dirent.h>). */
export const DT = {
  UNKNOWN: 0,
  FIFO: 1,
  CHR: 2,
  DIR: 4,
  BLK: 6,
  REG: 8,
  LNK: 10,
  SOCK: 12,
} as const;
