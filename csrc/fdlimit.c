// SPDX-License-Identifier: 0BSD
/** fdlimit: how many more descriptors this process may open. */

#define _GNU_SOURCE
#include "ioq.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

/**
 * Count this process's open descriptors that take a number below `limit`:
 * one above it (inherited from a parent with a higher limit) takes none of
 * the numbers open() can still hand out.
 * @return The count, or -errno.  With no descriptor left to read the table,
 *         EMFILE: the caller knows the answer.
 */
static int fdlimit_count_below(long limit) {
	DIR *dir = opendir("/proc/self/fd");
	if (!dir) {
		return -errno;
	}
	int self = dirfd(dir);
	int count = 0;
	struct dirent *de;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.') {
			continue;
		}
		long fd = strtol(de->d_name, NULL, 10);
		if (fd != self && fd < limit) {
			++count;
		}
	}
	closedir(dir);
	return count;
}

/**
 * The soft descriptor limit (RLIM_INFINITY and anything past INT32_MAX read
 * as INT32_MAX) and how many of the numbers below it are taken.
 * @return 0 or a negative errno value.
 */
static int fdlimit_usage(long *limit, long *open) {
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		return -errno;
	}
	*limit = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > INT32_MAX ? INT32_MAX : (long)rl.rlim_cur;
	int count = fdlimit_count_below(*limit);
	if (count == -EMFILE) {
		// Not even one to read /proc/self/fd with: every number is taken
		count = (int)*limit;
	}
	if (count < 0) {
		return count;
	}
	*open = count;
	return 0;
}

int32_t ioq_fd_headroom(void) {
	long limit, open;
	int ret = fdlimit_usage(&limit, &open);
	if (ret != 0) {
		return ret;
	}
	long room = limit - open;
	return room > 0 ? (int32_t)room : 0;
}

int32_t ioq_fd_reserve(uint32_t n) {
	long limit, open;
	int ret = fdlimit_usage(&limit, &open);
	if (ret != 0) {
		return ret;
	}

	// New descriptors take the lowest free numbers: make the table hold
	// open + n of them (within the limit) by taking the highest one now
	long target = open + (long)n;
	if (target > limit - 1) {
		target = limit - 1;
	}
	if (target <= open) {
		return 0;
	}
	int base = openat(AT_FDCWD, "/", O_PATH | O_CLOEXEC);
	if (base < 0) {
		return -errno;
	}
	int fd = fcntl(base, F_DUPFD_CLOEXEC, (int)target);
	ret = fd < 0 ? -errno : 0;
	if (fd >= 0) {
		close(fd);
	}
	close(base);
	return ret;
}
