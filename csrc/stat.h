// SPDX-License-Identifier: 0BSD
/**
 * stat: statx() with an fstatat() fallback for kernels or sandboxes that
 * refuse statx.
 */

#ifndef IOQ_STAT_H
#define IOQ_STAT_H

#include <linux/stat.h>

/** The fields every ioq stat asks for. */
#define STAT_MASK (STATX_BASIC_STATS | STATX_BTIME)

/**
 * stat a path synchronously.
 *
 * @param atfd
 *         The directory `path` is relative to, or AT_FDCWD.
 * @param path
 *         The path; "" with AT_EMPTY_PATH in `atflags` stats atfd itself.
 * @param atflags
 *         AT_* flags (AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH).
 * @return 0 or a negative errno value.
 */
int stat_path(int atfd, const char *path, int atflags, struct statx *out);

/**
 * Note that statx() answered ENOSYS or EPERM (through any route), so later
 * calls go straight to fstatat().
 */
void stat_disable_statx(void);

/** @return Whether statx() is still believed to work. */
int stat_has_statx(void);

#endif // IOQ_STAT_H
