// SPDX-License-Identifier: 0BSD
/** layout: the ABI as numbers, so a test can hold lib/layout.ts to it. */

#include "ioq.h"
#include <errno.h>
#include <stddef.h>

int32_t ioq_layout(uint32_t *out, uint32_t max) {
	const uint32_t words[IOQ_LAYOUT_COUNT] = {
		[IOQ_LAYOUT_ENT_SIZE] = sizeof(struct ioq_ent),
		[IOQ_LAYOUT_OP] = offsetof(struct ioq_ent, op),
		[IOQ_LAYOUT_RESULT] = offsetof(struct ioq_ent, result),
		[IOQ_LAYOUT_TAG] = offsetof(struct ioq_ent, tag),
		[IOQ_LAYOUT_DIR] = offsetof(struct ioq_ent, dir),
		[IOQ_LAYOUT_AT] = offsetof(struct ioq_ent, at),
		[IOQ_LAYOUT_FD] = offsetof(struct ioq_ent, fd),
		[IOQ_LAYOUT_FLAGS] = offsetof(struct ioq_ent, flags),
		[IOQ_LAYOUT_PATH_LEN] = offsetof(struct ioq_ent, path_len),
		[IOQ_LAYOUT_INDEX] = offsetof(struct ioq_ent, index),
		[IOQ_LAYOUT_PATH] = offsetof(struct ioq_ent, path),
		[IOQ_LAYOUT_STX] = offsetof(struct ioq_ent, stx),
		[IOQ_LAYOUT_STX_MASK] = offsetof(struct statx, stx_mask),
		[IOQ_LAYOUT_STX_BLKSIZE] = offsetof(struct statx, stx_blksize),
		[IOQ_LAYOUT_STX_NLINK] = offsetof(struct statx, stx_nlink),
		[IOQ_LAYOUT_STX_UID] = offsetof(struct statx, stx_uid),
		[IOQ_LAYOUT_STX_GID] = offsetof(struct statx, stx_gid),
		[IOQ_LAYOUT_STX_MODE] = offsetof(struct statx, stx_mode),
		[IOQ_LAYOUT_STX_INO] = offsetof(struct statx, stx_ino),
		[IOQ_LAYOUT_STX_SIZE] = offsetof(struct statx, stx_size),
		[IOQ_LAYOUT_STX_BLOCKS] = offsetof(struct statx, stx_blocks),
		[IOQ_LAYOUT_STX_ATIME] = offsetof(struct statx, stx_atime),
		[IOQ_LAYOUT_STX_BTIME] = offsetof(struct statx, stx_btime),
		[IOQ_LAYOUT_STX_CTIME] = offsetof(struct statx, stx_ctime),
		[IOQ_LAYOUT_STX_MTIME] = offsetof(struct statx, stx_mtime),
		[IOQ_LAYOUT_STX_RDEV_MAJOR] = offsetof(struct statx, stx_rdev_major),
		[IOQ_LAYOUT_STX_RDEV_MINOR] = offsetof(struct statx, stx_rdev_minor),
		[IOQ_LAYOUT_STX_DEV_MAJOR] = offsetof(struct statx, stx_dev_major),
		[IOQ_LAYOUT_STX_DEV_MINOR] = offsetof(struct statx, stx_dev_minor),
		[IOQ_LAYOUT_TS_NSEC] = offsetof(struct statx_timestamp, tv_nsec),
		[IOQ_LAYOUT_STATX_BTIME] = STATX_BTIME,
		[IOQ_LAYOUT_OP_NOP] = IOQ_NOP,
		[IOQ_LAYOUT_OP_CLOSE] = IOQ_CLOSE,
		[IOQ_LAYOUT_OP_OPENDIR] = IOQ_OPENDIR,
		[IOQ_LAYOUT_OP_CLOSEDIR] = IOQ_CLOSEDIR,
		[IOQ_LAYOUT_OP_STAT] = IOQ_STAT,
		[IOQ_LAYOUT_STAT_NOFOLLOW] = IOQ_STAT_NOFOLLOW,
		[IOQ_LAYOUT_OPENDIR_STAT] = IOQ_OPENDIR_STAT,
		[IOQ_LAYOUT_HANDLE_INDEX_BITS] = IOQ_HANDLE_INDEX_BITS,
		[IOQ_LAYOUT_INLINE_PATH] = IOQ_INLINE_PATH,
		[IOQ_LAYOUT_DIR_END] = IOQ_DIR_END,
		[IOQ_LAYOUT_EINTR] = EINTR,
		[IOQ_LAYOUT_EAGAIN] = EAGAIN,
		[IOQ_LAYOUT_EBUSY] = EBUSY,
		[IOQ_LAYOUT_EINVAL] = EINVAL,
		[IOQ_LAYOUT_ERANGE] = ERANGE,
		[IOQ_LAYOUT_ELOOP] = ELOOP,
		[IOQ_LAYOUT_ENOENT] = ENOENT,
	};
	for (uint32_t i = 0; i < max && i < IOQ_LAYOUT_COUNT; ++i) {
		out[i] = words[i];
	}
	return IOQ_LAYOUT_COUNT;
}

int32_t ioq_features(void) {
#if IOQ_WITH_URING
	return IOQ_FEATURE_URING;
#else
	return 0;
#endif
}
