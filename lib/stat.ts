/**
 * Reading a `struct statx` out of C memory into a `Deno.FileInfo`.
 *
 * @module
 */

import { LAYOUT } from "./layout.ts";

/** File type bits of st_mode. */
const S_IFMT = 0o170000;

/** 2^32, for joining two 32-bit halves. */
const HI = 0x1_0000_0000;

/** Reads a u64 as a number (exact below 2^53). */
function u64(view: DataView, at: number): number {
  return view.getUint32(at, true) + view.getUint32(at + 4, true) * HI;
}

/** Reads a statx_timestamp as a Date. */
function time(view: DataView, at: number): Date {
  const sec = view.getUint32(at, true) + view.getInt32(at + 4, true) * HI;
  const nsec = view.getUint32(at + LAYOUT.TS_NSEC, true);
  return new Date(sec * 1000 + Math.floor(nsec / 1e6));
}

/** glibc's makedev(): a dev_t from major and minor numbers. */
function makedev(major: number, minor: number): number {
  return (
    ((major & 0xfffff000) * 0x1_0000_0000) + ((major & 0xfff) << 8) +
    ((minor & 0xffffff00) * 0x1000) + (minor & 0xff)
  );
}

/**
 * Converts the `struct statx` at byte offset `at` of `view`.
 *
 * @returns The same shape `Deno.lstat()` gives; `birthtime` is null when the
 *   file system does not report it.
 */
export function readStat(view: DataView, at: number): Deno.FileInfo {
  const mode = view.getUint16(at + LAYOUT.STX_MODE, true);
  const type = mode & S_IFMT;
  const mask = view.getUint32(at + LAYOUT.STX_MASK, true);
  return {
    isFile: type === 0o100000,
    isDirectory: type === 0o040000,
    isSymlink: type === 0o120000,
    size: u64(view, at + LAYOUT.STX_SIZE),
    mtime: time(view, at + LAYOUT.STX_MTIME),
    atime: time(view, at + LAYOUT.STX_ATIME),
    birthtime: mask & LAYOUT.STATX_BTIME ? time(view, at + LAYOUT.STX_BTIME) : null,
    ctime: time(view, at + LAYOUT.STX_CTIME),
    dev: makedev(
      view.getUint32(at + LAYOUT.STX_DEV_MAJOR, true),
      view.getUint32(at + LAYOUT.STX_DEV_MINOR, true),
    ),
    ino: u64(view, at + LAYOUT.STX_INO),
    mode,
    nlink: view.getUint32(at + LAYOUT.STX_NLINK, true),
    uid: view.getUint32(at + LAYOUT.STX_UID, true),
    gid: view.getUint32(at + LAYOUT.STX_GID, true),
    rdev: makedev(
      view.getUint32(at + LAYOUT.STX_RDEV_MAJOR, true),
      view.getUint32(at + LAYOUT.STX_RDEV_MINOR, true),
    ),
    blksize: view.getUint32(at + LAYOUT.STX_BLKSIZE, true),
    blocks: u64(view, at + LAYOUT.STX_BLOCKS),
    isBlockDevice: type === 0o060000,
    isCharDevice: type === 0o020000,
    isFifo: type === 0o010000,
    isSocket: type === 0o140000,
  };
}
