// SPDX-License-Identifier: 0BSD
/** fdlimit: how many more descriptors this process may open. */

#define _GNU_SOURCE
#include "ioq.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

/** Count this process's open descriptors.  @return The count, or -errno. */
static int fdlimit_count_open(void) {
	DIR *dir = opendir("/proc/self/fd");
	if (!dir) {
		return -errno;
	}
	int count = 0;
	struct dirent *de;
	while ((de = readdir(dir))) {
		if (de->d_name[0] != '.') {
			++count;
		}
	}
	closedir(dir);
	// opendir() itself held one of them
	return count - 1;
}

int32_t ioq_fd_headroom(void) {
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		return -errno;
	}
	int open = fdlimit_count_open();
	if (open < 0) {
		return open;
	}
	rlim_t limit = rl.rlim_cur;
	if (limit == RLIM_INFINITY || limit > INT32_MAX) {
		limit = INT32_MAX;
	}
	long room = (long)limit - open;
	return room > 0 ? (int32_t)room : 0;
}

int32_t ioq_fd_reserve(uint32_t n) {
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		return -errno;
	}
	int open = fdlimit_count_open();
	if (open < 0) {
		return open;
	}

	// New descriptors take the lowest free numbers: make the table hold
	// open + n of them (within the limit) by taking the highest one now
	long target = (long)open + n;
	if (rl.rlim_cur != RLIM_INFINITY && target > (long)rl.rlim_cur - 1) {
		target = (long)rl.rlim_cur - 1;
	}
	if (target <= open) {
		return 0;
	}
	int base = openat(AT_FDCWD, "/", O_PATH | O_CLOEXEC);
	if (base < 0) {
		return -errno;
	}
	int fd = fcntl(base, F_DUPFD_CLOEXEC, (int)target);
	int ret = fd < 0 ? -errno : 0;
	if (fd >= 0) {
		close(fd);
	}
	close(base);
	return ret;
}
