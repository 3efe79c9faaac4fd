// SPDX-License-Identifier: 0BSD
/**
 * ioq: the owner's side of the queue: creation, requests, pops, directory
 * handles and teardown.  Everything here runs on the owner's thread except
 * ioq_wait(), ioq_stop_waits() and ioq_cancel(), which only touch atomics and
 * the `ready` ring.
 */

#define _GNU_SOURCE
#include "ioq.h"
#include "canon.h"
#include "chan.h"
#include "dir.h"
#include "dirtab.h"
#include "queue.h"
#include "uring.h"
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

/** The largest depth ioq_create() accepts. */
#define IOQ_MAX_DEPTH 65536
/** The most threads ioq_create() accepts. */
#define IOQ_MAX_THREADS 1024

/** Where an entry is in its life (ioq_ent::state). */
enum ioq_ent_state {
	/** On the free stack. */
	IOQ_ENT_FREE,
	/** Requested, not yet popped. */
	IOQ_ENT_QUEUED,
	/** Popped, not yet released. */
	IOQ_ENT_POPPED,
};

/** Free an entry's path if it lives on the heap. */
static void ioq_free_path(struct ioq_ent *ent) {
	if (ent->path && ent->path != ent->inline_path) {
		free(ent->path);
	}
	ent->path = NULL;
	ent->path_len = 0;
}

/** Settle the owner's bookkeeping for a completion it just took. */
static void ioq_settle(struct ioq *q, struct ioq_ent *ent) {
	--q->inflight;
	ent->state = IOQ_ENT_POPPED;

	if (ent->at) {
		// Pinned directories cannot have been closed, so this is valid
		struct ioq_dir *at = dirtab_get(&q->dirs, ent->at);
		if (at) {
			--at->pins;
		}
	}

	if (ent->op == IOQ_OPENDIR && ent->result == 0) {
		ent->dirp->state = DIR_OPEN;
	} else if (ent->op == IOQ_OPENDIR || ent->op == IOQ_CLOSEDIR) {
		// A failed open left nothing open; a close is done: retire the handle
		dirtab_remove(&q->dirs, ent->dir);
		free(ent->dirp);
		ent->dirp = NULL;
	}
}

void ioq_stop_waits(struct ioq *q) {
	atomic_store(&q->waits_stopped, true);
	atomic_fetch_add(&q->wake_gen, 1);
	chan_wake_all(q->ready);
}

void ioq_cancel(struct ioq *q) {
	if (!atomic_exchange(&q->cancelled, true)) {
		atomic_fetch_add(&q->wake_gen, 1);
		chan_wake_all(q->ready);
	}
}

void ioq_destroy(struct ioq *q) {
	if (!q) {
		return;
	}

	if (q->pending && q->ready) {
		ioq_cancel(q);
		ioq_submit(q);
		worker_stop(q);
	}
	worker_free(q);
#if IOQ_WITH_URING
	uring_teardown(q);
#endif

	// Completions nobody popped
	if (q->ready) {
		struct ioq_ent *ent;
		while ((ent = chan_take(q->ready, &q->ready_cur, false))) {
			ioq_settle(q, ent);
		}
	}

	// Every directory still open, popped or not
	for (uint32_t i = 1; i < q->dirs.len; ++i) {
		struct ioq_dir *d = dirtab_at(&q->dirs, i);
		if (d) {
			dir_close(d);
			free(d);
		}
	}
	dirtab_destroy(&q->dirs);

	if (q->ents) {
		// Only entries ever handed out can hold a path (and the rest may
		// never have been touched: no need to fault their pages in)
		for (uint32_t i = 0; i < q->touched; ++i) {
			ioq_free_path(&q->ents[i]);
		}
	}
	chan_destroy(q->ready);
	chan_destroy(q->pending);
	free(q->free_ents);
	if (q->ents) {
		munmap(q->ents, q->depth * sizeof(struct ioq_ent));
	}
	free(q);
}

/**
 * Make this library impossible to unload.  Worker threads run its code until
 * their queue is destroyed, and a host that exits with a queue still busy
 * (Deno does, with a script that returns mid-walk) unloads its libraries
 * first: the workers then crash the process.  RTLD_NODELETE on a second
 * reference keeps the code mapped until the process is gone.
 */
static void ioq_pin_library(void) {
	static atomic_bool pinned;
	if (atomic_exchange(&pinned, true)) {
		return;
	}
	Dl_info info;
	if (dladdr((void *)ioq_create, &info) && info.dli_fname) {
		// RTLD_NOLOAD: take a reference on the copy already loaded
		dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
	}
}

struct ioq *ioq_create(uint32_t depth, uint32_t nthreads, int32_t backend, int32_t *err) {
	struct ioq *q = NULL;
	int ret = 0;

	ioq_pin_library();

	if (depth < 1 || depth > IOQ_MAX_DEPTH || nthreads < 1 || nthreads > IOQ_MAX_THREADS
	    || backend < IOQ_BACKEND_AUTO || backend > IOQ_BACKEND_THREADS) {
		ret = -EINVAL;
		goto fail;
	}
#if !IOQ_WITH_URING
	if (backend == IOQ_BACKEND_URING) {
		ret = -ENOTSUP;
		goto fail;
	}
#endif

	q = calloc(1, sizeof(*q) + nthreads * sizeof(struct ioq_worker));
	if (!q) {
		ret = -ENOMEM;
		goto fail;
	}
	q->depth = depth;
	q->nthreads = nthreads;
	q->backend = IOQ_BACKEND_THREADS;
	atomic_init(&q->cancelled, false);
	atomic_init(&q->waits_stopped, false);
	atomic_init(&q->wake_gen, 0);
	atomic_init(&q->waiters, 0);
	atomic_init(&q->uring_ops, 0);
	dirtab_init(&q->dirs);

	// Fresh anonymous pages for the arena: zero without being touched, so a
	// deep queue costs nothing until its entries are used (ioq_request()
	// sets the rest)
	q->ents = mmap(NULL, depth * sizeof(struct ioq_ent), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q->ents == MAP_FAILED) {
		q->ents = NULL;
	}
	q->free_ents = malloc(depth * sizeof(uint32_t));
	if (!q->ents || !q->free_ents) {
		ret = -ENOMEM;
		goto fail;
	}
	for (uint32_t i = 0; i < depth; ++i) {
		// Hand out low indices first
		q->free_ents[i] = depth - 1 - i;
	}
	q->nfree = depth;

	q->pending = chan_create(depth + 1, nthreads);
	q->ready = chan_create(depth, 1);
	if (!q->pending || !q->ready) {
		ret = -ENOMEM;
		goto fail;
	}
	chan_claim(q->ready, &q->ready_cur);
	atomic_init(&q->ready_ticket, q->ready_cur.ticket);

	for (uint32_t i = 0; i < nthreads; ++i) {
		q->workers[i].queue = q;
		q->workers[i].id = i;
	}

#if IOQ_WITH_URING
	if (backend != IOQ_BACKEND_THREADS) {
		ret = uring_setup(q);
		if (ret == 0) {
			q->backend = IOQ_BACKEND_URING;
		} else if (backend == IOQ_BACKEND_URING) {
			goto fail;
		}
	}
#endif

	ret = worker_start(q);
	if (ret != 0) {
		goto fail;
	}

	*err = 0;
	return q;

fail:
	ioq_destroy(q);
	*err = ret;
	return NULL;
}

int32_t ioq_backend(const struct ioq *q) {
	return q->backend;
}

uint32_t ioq_depth(const struct ioq *q) {
	return q->depth;
}

uint32_t ioq_threads(const struct ioq *q) {
	return q->nthreads;
}

uint32_t ioq_capacity(const struct ioq *q) {
	return q->nfree;
}

uint32_t ioq_inflight(const struct ioq *q) {
	return q->inflight;
}

struct ioq_ent *ioq_entries(struct ioq *q) {
	return q->ents;
}

/** Take a free entry for a request.  @return 0, -EINTR or -EAGAIN. */
static int ioq_request(struct ioq *q, enum ioq_op op, double tag, struct ioq_ent **out) {
	if (q->walk && op != IOQ_WALK) {
		// The workers are lent to a walk
		return -EBUSY;
	}
	bool closing = op == IOQ_CLOSE || op == IOQ_CLOSEDIR;
	if (!closing && atomic_load_explicit(&q->cancelled, memory_order_relaxed)) {
		return -EINTR;
	}
	if (q->nfree == 0) {
		return -EAGAIN;
	}

	uint32_t index = q->free_ents[--q->nfree];
	struct ioq_ent *ent = &q->ents[index];
	ent->index = index;
	if (index >= q->touched) {
		q->touched = index + 1;
	}
	ent->op = op;
	ent->result = 0;
	ent->tag = tag;
	ent->dir = 0;
	ent->at = 0;
	ent->fd = -1;
	ent->flags = 0;
	ent->dirp = NULL;
	*out = ent;
	return 0;
}

/** Return an entry whose request failed before it was queued. */
static void ioq_unrequest(struct ioq *q, struct ioq_ent *ent) {
	ioq_free_path(ent);
	q->free_ents[q->nfree++] = ent->index;
}

/** Queue a prepared request (pushed in batches; see ioq_submit()). */
static void ioq_enqueue(struct ioq *q, struct ioq_ent *ent) {
	ent->state = IOQ_ENT_QUEUED;
	++q->inflight;
	q->batch[q->nbatch++] = ent;
	if (q->nbatch == CHAN_BATCH) {
		ioq_submit(q);
	}
}

/**
 * Check a path from the caller: not empty, shorter than PATH_MAX, no NUL.
 * @return 0 or a negative errno (-ENOENT, -ENAMETOOLONG, -EINVAL).
 */
static int ioq_check_path(const uint8_t *path, uint32_t len) {
	if (len == 0) {
		return -ENOENT;
	}
	if (len >= PATH_MAX) {
		return -ENAMETOOLONG;
	}
	if (memchr(path, 0, len)) {
		return -EINVAL;
	}
	return 0;
}

/** Copy a request's path into its entry.  @return 0 or a negative errno. */
static int ioq_set_path(struct ioq_ent *ent, const uint8_t *path, uint32_t len) {
	int ret = ioq_check_path(path, len);
	if (ret != 0) {
		return ret;
	}

	char *dst = len < IOQ_INLINE_PATH ? ent->inline_path : malloc(len + 1);
	if (!dst) {
		return -ENOMEM;
	}
	memcpy(dst, path, len);
	dst[len] = 0;
	ent->path = dst;
	ent->path_len = len;
	return 0;
}

/**
 * Look up a directory handle the owner may use.
 * @return The directory, or NULL with *err = -EBADF (stale, closing) or
 *         -EBUSY (still opening).
 */
static struct ioq_dir *ioq_open_dir(struct ioq *q, uint32_t handle, int *err) {
	struct ioq_dir *d = dirtab_get(&q->dirs, handle);
	if (!d || d->state == DIR_CLOSING) {
		*err = -EBADF;
		return NULL;
	}
	if (d->state == DIR_OPENING) {
		*err = -EBUSY;
		return NULL;
	}
	return d;
}

/**
 * Prepare a request on a path relative to `at`: take an entry, copy the
 * path, pin `at`.  @return 0 or a negative errno value.
 */
static int ioq_path_request(struct ioq *q, enum ioq_op op, uint32_t at, const uint8_t *path, uint32_t len, double tag, struct ioq_ent **out) {
	int ret = 0;
	struct ioq_dir *atd = NULL;
	if (at != 0) {
		atd = ioq_open_dir(q, at, &ret);
		if (!atd) {
			return ret;
		}
	}

	struct ioq_ent *ent;
	ret = ioq_request(q, op, tag, &ent);
	if (ret != 0) {
		return ret;
	}
	ret = ioq_set_path(ent, path, len);
	if (ret != 0) {
		ioq_unrequest(q, ent);
		return ret;
	}

	ent->at = at;
	ent->fd = atd ? atd->fd : AT_FDCWD;
	*out = ent;
	return 0;
}

/** Pin the directory a prepared path request is relative to. */
static void ioq_pin_at(struct ioq *q, const struct ioq_ent *ent) {
	if (ent->at) {
		++dirtab_get(&q->dirs, ent->at)->pins;
	}
}

int32_t ioq_nop(struct ioq *q, double tag) {
	struct ioq_ent *ent;
	int ret = ioq_request(q, IOQ_NOP, tag, &ent);
	if (ret != 0) {
		return ret;
	}
	ioq_enqueue(q, ent);
	return (int32_t)ent->index;
}

int32_t ioq_close(struct ioq *q, int32_t fd, double tag) {
	if (fd < 0) {
		return -EBADF;
	}
	struct ioq_ent *ent;
	int ret = ioq_request(q, IOQ_CLOSE, tag, &ent);
	if (ret != 0) {
		return ret;
	}
	ent->fd = fd;
	ioq_enqueue(q, ent);
	return (int32_t)ent->index;
}

int32_t ioq_opendir(struct ioq *q, uint32_t at, const uint8_t *path, uint32_t len, uint32_t flags, double tag) {
	if (flags & ~(uint32_t)IOQ_OPENDIR_STAT) {
		return -EINVAL;
	}

	struct ioq_ent *ent;
	int ret = ioq_path_request(q, IOQ_OPENDIR, at, path, len, tag, &ent);
	if (ret != 0) {
		return ret;
	}

	struct ioq_dir *d = malloc(sizeof(*d));
	if (!d) {
		ret = -ENOMEM;
		goto fail;
	}
	dir_init(d);
	d->state = DIR_OPENING;
	ret = dirtab_add(&q->dirs, d, &ent->dir);
	if (ret != 0) {
		free(d);
		goto fail;
	}

	ent->dirp = d;
	ent->flags = flags;
	ioq_pin_at(q, ent);
	ioq_enqueue(q, ent);
	return (int32_t)ent->index;

fail:
	ioq_unrequest(q, ent);
	return ret;
}

int32_t ioq_closedir(struct ioq *q, uint32_t dir, double tag) {
	int ret = 0;
	struct ioq_dir *d = ioq_open_dir(q, dir, &ret);
	if (!d) {
		return ret;
	}
	if (d->pins) {
		return -EBUSY;
	}

	struct ioq_ent *ent;
	ret = ioq_request(q, IOQ_CLOSEDIR, tag, &ent);
	if (ret != 0) {
		return ret;
	}
	ent->dir = dir;
	ent->dirp = d;
	d->state = DIR_CLOSING;
	ioq_enqueue(q, ent);
	return (int32_t)ent->index;
}

int32_t ioq_stat(struct ioq *q, uint32_t at, const uint8_t *path, uint32_t len, uint32_t flags, double tag) {
	if (flags & ~(uint32_t)IOQ_STAT_NOFOLLOW) {
		return -EINVAL;
	}

	struct ioq_ent *ent;
	int ret = ioq_path_request(q, IOQ_STAT, at, path, len, tag, &ent);
	if (ret != 0) {
		return ret;
	}
	ent->flags = flags;
	ioq_pin_at(q, ent);
	ioq_enqueue(q, ent);
	return (int32_t)ent->index;
}

int32_t ioq_submit(struct ioq *q) {
	if (q->nbatch) {
		chan_push(q->pending, (void *const *)q->batch, q->nbatch);
		q->nbatch = 0;
	}
	return 0;
}

/** ioq_trypop(), whether or not a walk holds the queue. */
static int32_t ioq_take(struct ioq *q, uint32_t *out, uint32_t max) {
	ioq_submit(q);

	size_t before = q->ready_cur.ticket;
	uint32_t n = 0;
	while (n < max) {
		struct ioq_ent *ent = chan_take(q->ready, &q->ready_cur, false);
		if (!ent) {
			break;
		}
		ioq_settle(q, ent);
		out[n++] = ent->index;
	}

	// Keep a claim, so a waiter always knows which slot comes next
	chan_claim(q->ready, &q->ready_cur);
	if (q->ready_cur.ticket != before) {
		atomic_store(&q->ready_ticket, q->ready_cur.ticket);
		if (atomic_load(&q->waiters)) {
			// A waiter may be watching a slot we just emptied: move it on
			atomic_fetch_add(&q->wake_gen, 1);
			chan_wake_all(q->ready);
		}
	}
	return (int32_t)n;
}

int32_t ioq_trypop(struct ioq *q, uint32_t *out, uint32_t max) {
	if (q->walk) {
		return -EBUSY;
	}
	return ioq_take(q, out, max);
}

uint32_t ioq_epoch(const struct ioq *q) {
	return atomic_load(&q->wake_gen);
}

int32_t ioq_wait(struct ioq *q, int32_t timeout_us, uint32_t epoch) {
	atomic_fetch_add(&q->waiters, 1);
	unsigned gen0 = epoch;
	// Sequentially consistent with ioq_trypop(): either we see its new
	// ticket, or it sees us in `waiters` and moves wake_gen past gen0
	size_t ticket = atomic_load(&q->ready_ticket);

	int32_t ret;
	if (atomic_load(&q->waits_stopped)) {
		ret = -ECANCELED;
		goto out;
	}

	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	if (timeout_us > 0) {
		deadline.tv_sec += timeout_us / 1000000;
		deadline.tv_nsec += (long)(timeout_us % 1000000) * 1000;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_nsec -= 1000000000L;
			++deadline.tv_sec;
		}
	}
	struct chan_wake wake = {.deadline = &deadline, .gen = &q->wake_gen, .gen0 = gen0};

	if (chan_await(q->ready, ticket, &wake)) {
		ret = 1;
	} else if (atomic_load(&q->wake_gen) == gen0) {
		ret = 0;
	} else if (atomic_load(&q->waits_stopped)) {
		ret = -ECANCELED;
	} else if (atomic_load(&q->cancelled)) {
		ret = -EINTR;
	} else {
		// The owner popped meanwhile: let the caller look again
		ret = 0;
	}

out:
	atomic_fetch_sub(&q->waiters, 1);
	return ret;
}

int32_t ioq_pop(struct ioq *q, uint32_t *out, uint32_t max, int32_t timeout_us) {
	int32_t n = ioq_trypop(q, out, max);
	if (n != 0 || q->inflight == 0 || timeout_us <= 0) {
		return n;
	}
	int32_t ret = ioq_wait(q, timeout_us, ioq_epoch(q));
	if (ret < 0) {
		return ret;
	}
	return ioq_trypop(q, out, max);
}

int32_t ioq_lend(struct ioq *q) {
	struct ioq_ent *ent;
	int ret = ioq_request(q, IOQ_WALK, 0, &ent);
	if (ret != 0) {
		return ret;
	}
	ioq_enqueue(q, ent);
	return (int32_t)ent->index;
}

void ioq_reclaim(struct ioq *q) {
	ioq_submit(q);
	while (q->inflight > 0) {
		uint32_t done[64];
		int32_t got = ioq_take(q, done, 64);
		if (got > 0) {
			ioq_release(q, done, (uint32_t)got);
		} else {
			// The workers leave a cancelled walk promptly
			ioq_wait(q, 10000, ioq_epoch(q));
		}
	}
}

void ioq_release(struct ioq *q, const uint32_t *idx, uint32_t n) {
	for (uint32_t i = 0; i < n; ++i) {
		if (idx[i] >= q->depth) {
			continue;
		}
		struct ioq_ent *ent = &q->ents[idx[i]];
		if (ent->state != IOQ_ENT_POPPED) {
			// Never popped, or released twice: ignore rather than corrupt
			continue;
		}
		ioq_free_path(ent);
		ent->state = IOQ_ENT_FREE;
		q->free_ents[q->nfree++] = ent->index;
	}
}

int32_t ioq_dir_read(struct ioq *q, uint32_t dir, uint8_t *names, uint32_t cap, uint32_t *meta, uint32_t max) {
	return ioq_dir_read_paths(q, dir, NULL, 0, 0, names, cap, meta, max);
}

int32_t ioq_dir_read_paths(struct ioq *q, uint32_t dir, const uint8_t *prefix, uint32_t plen, uint32_t end, uint8_t *out, uint32_t cap, uint32_t *meta, uint32_t max) {
	int ret = 0;
	struct ioq_dir *d = ioq_open_dir(q, dir, &ret);
	if (!d) {
		return ret;
	}
	if (end > 0xff) {
		return -EINVAL;
	}
	return dir_read(d, prefix, plen, (uint8_t)end, out, cap, meta, max);
}

int32_t ioq_dir_fd(struct ioq *q, uint32_t dir) {
	int ret = 0;
	struct ioq_dir *d = ioq_open_dir(q, dir, &ret);
	return d ? d->fd : ret;
}

int32_t ioq_realpath(struct ioq *q, uint32_t at, const uint8_t *path, uint32_t len, uint8_t *out, uint32_t cap) {
	int ret = 0;
	int atfd = AT_FDCWD;
	if (at != 0) {
		struct ioq_dir *d = ioq_open_dir(q, at, &ret);
		if (!d) {
			return ret;
		}
		atfd = d->fd;
	}
	ret = ioq_check_path(path, len);
	if (ret != 0) {
		return ret;
	}
	char name[PATH_MAX];
	memcpy(name, path, len);
	name[len] = 0;

	long n = canon_path(atfd, name, (char *)out, cap);
	return n > INT32_MAX ? -ERANGE : (int32_t)n;
}

int32_t ioq_dir_close(struct ioq *q, uint32_t dir) {
	int ret = 0;
	struct ioq_dir *d = ioq_open_dir(q, dir, &ret);
	if (!d) {
		return ret;
	}
	if (d->pins) {
		return -EBUSY;
	}
	ret = dir_close(d);
	dirtab_remove(&q->dirs, dir);
	free(d);
	return ret;
}
