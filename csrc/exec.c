// SPDX-License-Identifier: 0BSD
/** exec: running one request on a worker thread. */

#define _GNU_SOURCE
#include "dir.h"
#include "inject.h"
#include "queue.h"
#include "stat.h"
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

bool exec_cancelled(struct ioq *q, struct ioq_ent *ent) {
	if (!atomic_load_explicit(&q->cancelled, memory_order_relaxed)) {
		return false;
	}
	// Closes always run, so no descriptor leaks, just like close() on EINTR
	if (ent->op == IOQ_CLOSE || ent->op == IOQ_CLOSEDIR) {
		return false;
	}
	ent->result = -EINTR;
	return true;
}

/** fstat an opened directory for IOQ_OPENDIR_STAT.  @return 0 or -errno. */
static int exec_stat_dir(struct ioq_ent *ent) {
	if (!(ent->flags & IOQ_OPENDIR_STAT)) {
		return 0;
	}
	return stat_path(ent->dirp->fd, "", AT_EMPTY_PATH, &ent->stx);
}

void exec_run(struct ioq_ent *ent, char *scratch) {
	int ret;
	switch (ent->op) {
	case IOQ_NOP:
		ret = inject_stall();
		break;

	case IOQ_CLOSE:
		// Linux releases the descriptor even when close() fails
		ret = close(ent->fd) == 0 ? 0 : -errno;
		break;

	case IOQ_OPENDIR:
		ret = dir_open(ent->dirp, ent->fd, ent->path, scratch);
		if (ret == 0) {
			ret = exec_stat_dir(ent);
			if (ret != 0) {
				dir_close(ent->dirp);
			}
		}
		break;

	case IOQ_CLOSEDIR:
		ret = dir_close(ent->dirp);
		break;

	case IOQ_STAT:
		ret = stat_path(ent->fd, ent->path, (ent->flags & IOQ_STAT_NOFOLLOW) ? AT_SYMLINK_NOFOLLOW : 0, &ent->stx);
		break;

	default:
		ret = -ENOSYS;
		break;
	}
	ent->result = ret;
}

void exec_opendir_done(struct ioq *q, struct ioq_ent *ent, int fd, char *scratch) {
	if (atomic_load_explicit(&q->cancelled, memory_order_relaxed)) {
		close(fd);
		ent->result = -EINTR;
		return;
	}

	int ret = dir_adopt(ent->dirp, fd, scratch);
	if (ret == 0) {
		ret = exec_stat_dir(ent);
		if (ret != 0) {
			dir_close(ent->dirp);
		}
	}
	ent->result = ret;
}
