// SPDX-License-Identifier: 0BSD
/** stat: statx() with an fstatat() fallback. */

#define _GNU_SOURCE
#include "stat.h"
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/** Cleared once statx() is known not to work here. */
static atomic_bool stat_statx_ok = true;

void stat_disable_statx(void) {
	atomic_store_explicit(&stat_statx_ok, false, memory_order_relaxed);
}

int stat_has_statx(void) {
	return atomic_load_explicit(&stat_statx_ok, memory_order_relaxed);
}

/** Convert a timespec to a statx timestamp. */
static struct statx_timestamp stat_ts(struct timespec ts) {
	struct statx_timestamp ret = {.tv_sec = ts.tv_sec, .tv_nsec = (uint32_t)ts.tv_nsec};
	return ret;
}

/** fstatat(), reported in a struct statx (no birth time). */
static int stat_fallback(int atfd, const char *path, int atflags, struct statx *out) {
	struct stat sb;
	if (fstatat(atfd, path, &sb, atflags) != 0) {
		return -errno;
	}

	memset(out, 0, sizeof(*out));
	out->stx_mask = STATX_BASIC_STATS;
	out->stx_blksize = (uint32_t)sb.st_blksize;
	out->stx_nlink = (uint32_t)sb.st_nlink;
	out->stx_uid = sb.st_uid;
	out->stx_gid = sb.st_gid;
	out->stx_mode = (uint16_t)sb.st_mode;
	out->stx_ino = sb.st_ino;
	out->stx_size = (uint64_t)sb.st_size;
	out->stx_blocks = (uint64_t)sb.st_blocks;
	out->stx_atime = stat_ts(sb.st_atim);
	out->stx_ctime = stat_ts(sb.st_ctim);
	out->stx_mtime = stat_ts(sb.st_mtim);
	out->stx_rdev_major = major(sb.st_rdev);
	out->stx_rdev_minor = minor(sb.st_rdev);
	out->stx_dev_major = major(sb.st_dev);
	out->stx_dev_minor = minor(sb.st_dev);
	return 0;
}

int stat_path(int atfd, const char *path, int atflags, struct statx *out) {
	if (stat_has_statx()) {
		// The raw syscall: glibc's statx() wrapper appeared only in 2.28
		if (syscall(SYS_statx, atfd, path, atflags, STAT_MASK, out) == 0) {
			return 0;
		}
		int err = errno;
		if (err == ENOSYS) {
			// An old kernel
			stat_disable_statx();
		} else if (err == EPERM) {
			// A seccomp filter (old Docker/runc) refuses statx only: believe
			// that when fstatat() then works
			int ret = stat_fallback(atfd, path, atflags, out);
			if (ret == 0) {
				stat_disable_statx();
			}
			return ret;
		} else {
			return -err;
		}
	}
	return stat_fallback(atfd, path, atflags, out);
}
