// SPDX-License-Identifier: 0BSD
/**
 * canon: the canonical absolute path of a file, as bytes, however long.
 *
 * The kernel names an open file through /proc/self/fd, but only up to
 * PATH_MAX bytes and only when /proc is mounted.  Past that, a directory's
 * name is found the way getcwd() used to find it: climb through ".." and look
 * up each directory in its parent by device and inode.
 */

#ifndef IOQ_CANON_H
#define IOQ_CANON_H

#include <stddef.h>

/**
 * Resolve a path to its canonical absolute path, following every symlink.
 *
 * @param atfd
 *         The directory `path` is relative to, or AT_FDCWD.
 * @param path
 *         The path (NUL-terminated, shorter than PATH_MAX).
 * @param out
 *         Where to write the result (not NUL-terminated).
 * @param cap
 *         The size of `out`.
 * @return The length of the result, -ERANGE when it needs more than `cap`
 *         bytes, or another negative errno value.
 */
long canon_path(int atfd, const char *path, char *out, size_t cap);

#endif // IOQ_CANON_H
