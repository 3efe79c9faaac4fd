// SPDX-License-Identifier: 0BSD
/** canon: canonical paths of files, past PATH_MAX and without /proc. */

#define _GNU_SOURCE
#include "canon.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/** Symlinks followed before a lookup gives up with ELOOP (as the kernel does). */
#define CANON_MAX_LINKS 40

/**
 * A path under construction, built backwards from the end of a buffer, so
 * that each parent is prepended as the climb finds it.
 */
struct canon_buf {
	/** The buffer. */
	char *base;
	/** Where the path starts: base + cap while it is empty. */
	size_t start;
};

/** Prepend "/" and a name.  @return 0 or -ERANGE. */
static int canon_prepend(struct canon_buf *buf, const char *name, size_t len) {
	if (buf->start < len + 1) {
		return -ERANGE;
	}
	buf->start -= len + 1;
	buf->base[buf->start] = '/';
	memcpy(buf->base + buf->start + 1, name, len);
	return 0;
}

/** Whether an entry of a directory `parent` is the directory `want`. */
static bool canon_is(int parent, const char *name, const struct stat *want) {
	struct stat st;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		return false;
	}
	return st.st_dev == want->st_dev && st.st_ino == want->st_ino;
}

/**
 * Find a directory's name in its parent and prepend it.
 *
 * The inode a directory lists may not be the one stat() reports (a mount
 * point lists the directory underneath; some union file systems remap
 * inodes), so every candidate is checked with fstatat(), and when no listed
 * inode matches, a second pass checks every subdirectory.
 *
 * @return 0 or a negative errno value (-ENOENT if it is not there).
 */
static int canon_find(int parent, const struct stat *child, struct canon_buf *buf) {
	int ret = -ENOENT;
	int fd = openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	DIR *dir = fdopendir(fd);
	if (!dir) {
		ret = -errno;
		close(fd);
		return ret;
	}
	for (int pass = 0; pass < 2 && ret == -ENOENT; ++pass) {
		rewinddir(dir);
		struct dirent *de;
		while ((errno = 0, de = readdir(dir))) {
			const char *name = de->d_name;
			if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
				continue;
			}
			bool candidate = pass == 0
				? de->d_ino == child->st_ino
				: de->d_type == DT_DIR || de->d_type == DT_UNKNOWN;
			if (candidate && canon_is(parent, name, child)) {
				ret = canon_prepend(buf, name, strlen(name));
				break;
			}
		}
		if (!de && errno != 0) {
			ret = -errno;
		}
	}
	closedir(dir);
	return ret;
}

/**
 * Prepend the absolute path of the directory `dirfd` (not closed), found
 * by climbing through ".." to the root.
 *
 * @return 0 or a negative errno value.
 */
static int canon_climb(int dirfd, struct canon_buf *buf) {
	int ret = 0;
	int fd = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	size_t end = buf->start;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		goto fail;
	}
	for (;;) {
		int parent = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (parent < 0) {
			goto fail;
		}
		struct stat up;
		if (fstat(parent, &up) != 0) {
			ret = -errno;
			close(parent);
			goto done;
		}
		if (up.st_dev == st.st_dev && up.st_ino == st.st_ino) {
			// ".." of the root is the root
			close(parent);
			break;
		}
		ret = canon_find(parent, &st, buf);
		close(fd);
		fd = parent;
		st = up;
		if (ret != 0) {
			goto done;
		}
	}
	if (buf->start == end) {
		// The root itself
		ret = canon_prepend(buf, "", 0);
	}
	goto done;
fail:
	ret = -errno;
done:
	close(fd);
	return ret;
}

/**
 * Prepend the canonical path of a file that is not a directory: follow the
 * chain of links by hand to the directory that holds the file itself, then
 * climb from there.
 *
 * @return 0 or a negative errno value.
 */
static int canon_file(int atfd, const char *path, struct canon_buf *buf) {
	int ret = 0;
	char cur[PATH_MAX];
	size_t len = strlen(path);
	memcpy(cur, path, len + 1);
	int at = atfd;
	int owned = -1;
	for (int links = 0;; ++links) {
		// Split the path into the directory part and the last name
		char *slash = strrchr(cur, '/');
		const char *name = slash ? slash + 1 : cur;
		int dir;
		if (!slash) {
			dir = openat(at, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		} else if (slash == cur) {
			dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		} else {
			*slash = '\0';
			dir = openat(at, cur, O_PATH | O_DIRECTORY | O_CLOEXEC);
		}
		if (dir < 0) {
			ret = -errno;
			goto done;
		}
		if (owned >= 0) {
			close(owned);
		}
		owned = at = dir;

		struct stat st;
		if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			ret = -errno;
			goto done;
		}
		if (!S_ISLNK(st.st_mode)) {
			ret = canon_prepend(buf, name, strlen(name));
			if (ret == 0) {
				ret = canon_climb(dir, buf);
			}
			goto done;
		}
		if (links == CANON_MAX_LINKS) {
			ret = -ELOOP;
			goto done;
		}
		// The link's target replaces the path, relative to the link's directory
		char target[PATH_MAX];
		ssize_t n = readlinkat(dir, name, target, sizeof(target));
		if (n < 0) {
			ret = -errno;
			goto done;
		}
		if ((size_t)n >= sizeof(target)) {
			ret = -ENAMETOOLONG;
			goto done;
		}
		memcpy(cur, target, n);
		cur[n] = '\0';
	}
done:
	if (owned >= 0) {
		close(owned);
	}
	return ret;
}

/**
 * The canonical path without the kernel's help: climb from the file itself
 * if it is a directory, else from the directory that holds it.
 */
static long canon_slow(int atfd, const char *path, int fd, char *out, size_t cap) {
	struct stat st;
	if (fstat(fd, &st) != 0) {
		return -errno;
	}
	struct canon_buf buf = {.base = out, .start = cap};
	int ret = S_ISDIR(st.st_mode) ? canon_climb(fd, &buf) : canon_file(atfd, path, &buf);
	if (ret != 0) {
		return ret;
	}
	size_t len = cap - buf.start;
	memmove(out, out + buf.start, len);
	return (long)len;
}

long canon_path(int atfd, const char *path, char *out, size_t cap) {
	// Open the file itself, following every link
	int fd = openat(atfd, path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}

	// Ask the kernel for its name: one readlink() for the common case
	char link[32];
	char name[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, name, sizeof(name));
	long ret;
	if (n > 0 && (size_t)n < sizeof(name) && name[0] == '/') {
		if ((size_t)n > cap) {
			ret = -ERANGE;
		} else {
			memcpy(out, name, n);
			ret = n;
		}
	} else {
		// Too long for the kernel to name (ENAMETOOLONG), or no /proc
		ret = canon_slow(atfd, path, fd, out, cap);
	}
	close(fd);
	return ret;
}
