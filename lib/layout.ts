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
  /** EINTR: the C functions return it negated. */
  EINTR: 4,
  /** EAGAIN: the C functions return it negated. */
  EAGAIN: 11,
  /** EBUSY: the C functions return it negated. */
  EBUSY: 16,
  /** EINVAL: the C functions return it negated. */
  EINVAL: 22,
  /** ERANGE: the C functions return it negated. */
  ERANGE: 34,
  /** ELOOP: the C functions return it negated. */
  ELOOP: 40,
  /** ENOENT: the C functions return it negated. */
  ENOENT: 2,
} as const;

/**
 * The walk engine's ABI (csrc/walk.h): struct ioq_walk_rec and struct
 * ioq_walk_batch offsets, sizes and return codes, in the order of `enum
 * ioq_walk_layout_word`; tests/layout_test.ts holds it to `ioq_walk_layout()`.
 */
export const WALK_LAYOUT = {
  /** sizeof(struct ioq_walk_config). */
  CONFIG_SIZE: 32,
  /** sizeof(struct ioq_walk_rec). */
  REC_SIZE: 40,
  /** ioq_walk_rec.off (u32): byte offset of the path in the batch text. */
  REC_OFF: 0,
  /** ioq_walk_rec.len (u32). */
  REC_LEN: 4,
  /** ioq_walk_rec.name (u32): byte offset of the name in the path. */
  REC_NAME: 8,
  /** ioq_walk_rec.off16 (u32). */
  REC_OFF16: 12,
  /** ioq_walk_rec.len16 (u32). */
  REC_LEN16: 16,
  /** ioq_walk_rec.name16 (u32). */
  REC_NAME16: 20,
  /** ioq_walk_rec.depth (u32). */
  REC_DEPTH: 24,
  /** ioq_walk_rec.err (i32). */
  REC_ERR: 28,
  /** ioq_walk_rec.type (u8). */
  REC_TYPE: 32,
  /** ioq_walk_rec.flags (u8). */
  REC_FLAGS: 33,
  /** ioq_walk_rec.op (u8). */
  REC_OP: 34,
  /** ioq_walk_rec.aux (u32). */
  REC_AUX: 36,
  /** sizeof(struct ioq_walk_batch). */
  BATCH_SIZE: 64,
  /** ioq_walk_batch.recs (pointer). */
  BATCH_RECS: 0,
  /** ioq_walk_batch.text (pointer). */
  BATCH_TEXT: 8,
  /** ioq_walk_batch.stats (pointer). */
  BATCH_STATS: 16,
  /** ioq_walk_batch.count (u32). */
  BATCH_COUNT: 24,
  /** ioq_walk_batch.front (u32). */
  BATCH_FRONT: 28,
  /** ioq_walk_batch.back (u32). */
  BATCH_BACK: 32,
  /** ioq_walk_batch.front16 (u32). */
  BATCH_FRONT16: 36,
  /** ioq_walk_batch.reported (u32). */
  BATCH_REPORTED: 40,
  /** ioq_walk_batch.flags (u32). */
  BATCH_FLAGS: 44,
  /** ioq_walk_batch.gen (u32). */
  BATCH_GEN: 48,
  /** ioq_walk_batch.cap (u32). */
  BATCH_CAP: 52,
  /** ioq_walk_batch.rec_cap (u32). */
  BATCH_REC_CAP: 56,
  /** sizeof(struct statx). */
  STATX_SIZE: 256,
  /** IOQ_WALK_END: ioq_walk_next() when the walk is over. */
  END: 0x10000,
  /** IOQ_WALK_ASK: ioq_walk_next() when gates wait for answers. */
  ASK: 0x10001,
  /** IOQ_WALK_NO_MAX: no depth limit. */
  NO_MAX: 0xffffffff,
  /** WGLOB_MAX: the positions the patterns and excludes of one walk share (csrc/wglob.h). */
  GLOB_POSITIONS: 64,
} as const;

/** The walk engine's constants that are not layout: flags, orders, items (csrc/walk.h). */
export const WALK = {
  /** ioq_walk_config flags. */
  STAT: 0x1,
  XDEV: 0x2,
  SORT: 0x4,
  GATE: 0x8,
  STD: 0x10,
  CANON: 0x20,
  GITIGNORE: 0x40,
  /** enum ioq_walk_order. */
  BFS: 0,
  DFS: 1,
  POST: 2,
  /** enum ioq_walk_follow. */
  FOLLOW_NEVER: 0,
  FOLLOW_ROOT: 1,
  FOLLOW_ALWAYS: 2,
  /** enum ioq_walk_item. */
  ITEM_ROOT: 1,
  ITEM_ROOT_SHOWN: 2,
  ITEM_ROOT_PREFIX: 3,
  ITEM_NAME: 4,
  ITEM_PRUNE: 5,
  ITEM_EXT: 6,
  ITEM_GLOB: 7,
  ITEM_EXCLUDE: 8,
  ITEM_BASE: 9,
  /** Item flags: case-insensitive glob; (glob patterns) extended globs, `**` across directories, directories only. */
  ITEM_CASEFOLD: 0x1,
  ITEM_EXTGLOB: 0x2,
  ITEM_GLOBSTAR: 0x4,
  ITEM_DIRS: 0x8,
  /** Record flags. */
  REC_ERROR: 0x01,
  REC_APART: 0x02,
  REC_NOT_UTF8: 0x04,
  REC_ROOT: 0x08,
  REC_MOUNT: 0x10,
  REC_FOLLOWED: 0x20,
  REC_STAT: 0x40,
  REC_NAME_APART: 0x80,
  /** Batch flag: the last batch. */
  BATCH_LAST: 0x1,
  /** enum ioq_walk_op, for error records. */
  OP_OPENDIR: 1,
  OP_READDIR: 2,
  OP_STAT: 3,
  OP_REALPATH: 4,
  OP_LOOP: 5,
  OP_IGNORE: 6,
} as const;

/** enum ioq_walk_counter: ioq_walk_counters() words, in order. */
export const WALK_COUNTERS = [
  "opens",
  "reads",
  "stats",
  "records",
  "batches",
  "peakFds",
  "evictions",
  "reopens",
  "sleeps",
  "workers",
] as const;

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
  dtUnknown: 7,
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
