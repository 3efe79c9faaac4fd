// SPDX-License-Identifier: 0BSD
/**
 * uring: the io_uring backend.
 *
 * Each worker owns one ring (created by ioq_create(), disabled when the
 * kernel allows, and enabled by its worker so the worker is the ring's only
 * issuer); rings 2..N attach to the first one's io-wq pool.  A worker loops:
 *
 *  1. fill:   take requests from `pending` into SQEs, blocking only when it
 *             owns nothing in the ring; ops the ring cannot do run inline;
 *  2. submit: io_uring_enter, waiting for a completion only when everything
 *             is already submitted;
 *  3. reap:   finish every visible CQE (an OPENDIR's getdents64 fill runs
 *             here, on the worker) and hand results to `ready`.
 *
 * Failures: an op the ring answers with EINVAL, EOPNOTSUPP or ENOSYS is
 * retried synchronously and done synchronously from then on (by every
 * worker).  Submit errors are retried a bounded number of times; after that
 * the worker neutralises what it had queued, runs it synchronously, and works
 * without the ring.
 */

#define _GNU_SOURCE
#include "dir.h"
#include "inject.h"
#include "queue.h"
#include "uring.h"
#include "wserve.h"
#include "stat.h"
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <time.h>
#include <unistd.h>

/** A worker's io_uring state. */
struct uring_state {
	/** The worker. */
	struct ioq_worker *worker;
	/** The queue. */
	struct ioq *q;
	/** The worker's ring. */
	struct io_uring *ring;
	/** The worker's getdents64 scratch buffer. */
	char *scratch;
	/** The worker's position in `pending`. */
	struct chan_cursor cur;
	/** Finished entries not yet handed over. */
	struct worker_done done;
	/** Entries in SQEs or in flight, not yet finished. */
	unsigned owned;
	/** Whether the stop sentinel arrived. */
	bool stop;
	/** Whether the ring failed: everything now runs synchronously. */
	bool broken;
};

/** Ring setup flags to try, best first.  Only -EINVAL means "unsupported". */
static const unsigned uring_flag_sets[] = {
	IORING_SETUP_SUBMIT_ALL | IORING_SETUP_R_DISABLED | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
	IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN,
	IORING_SETUP_SUBMIT_ALL,
	0,
};

/** Create a worker's ring.  @return 0 or a negative errno value. */
static int uring_init_ring(struct ioq_worker *w, unsigned flags, int wq_fd) {
	struct io_uring_params params = {0};
	params.flags = flags;
	if (wq_fd >= 0) {
		params.flags |= IORING_SETUP_ATTACH_WQ;
		params.wq_fd = (uint32_t)wq_fd;
	}
	int ret = io_uring_queue_init_params(URING_ENTRIES, &w->ring, &params);
	if (ret == 0) {
		w->has_ring = true;
		w->ring_disabled = flags & IORING_SETUP_R_DISABLED;
	}
	return ret;
}

/** Find which ioq ops the kernel's ring supports.  @return URING_OP bits. */
static unsigned uring_probe_ops(struct io_uring *ring) {
	struct io_uring_probe *probe = io_uring_get_probe_ring(ring);
	if (!probe) {
		return 0;
	}
	unsigned ops = 0;
	if (io_uring_opcode_supported(probe, IORING_OP_CLOSE)) {
		ops |= URING_OP(IOQ_CLOSE) | URING_OP(IOQ_CLOSEDIR);
	}
	if (io_uring_opcode_supported(probe, IORING_OP_OPENAT)) {
		ops |= URING_OP(IOQ_OPENDIR);
	}
	if (io_uring_opcode_supported(probe, IORING_OP_STATX)) {
		ops |= URING_OP(IOQ_STAT);
	}
	io_uring_free_probe(probe);
	return ops;
}

void uring_teardown(struct ioq *q) {
	for (uint32_t i = 0; i < q->nthreads; ++i) {
		struct ioq_worker *w = &q->workers[i];
		if (w->has_ring) {
			io_uring_queue_exit(&w->ring);
			w->has_ring = false;
		}
	}
}

int uring_setup(struct ioq *q) {
	int ret = inject_error(IOQ_INJECT_RING_SETUP);
	if (ret != 0) {
		return ret;
	}

	struct ioq_worker *first = &q->workers[0];
	unsigned flags = 0;
	ret = -EINVAL;
	for (size_t i = 0; i < sizeof(uring_flag_sets) / sizeof(uring_flag_sets[0]); ++i) {
		flags = uring_flag_sets[i];
		ret = uring_init_ring(first, flags, -1);
		if (ret != -EINVAL) {
			break;
		}
	}
	if (ret != 0) {
		return ret;
	}

	for (uint32_t i = 1; i < q->nthreads; ++i) {
		ret = uring_init_ring(&q->workers[i], flags, first->ring.ring_fd);
		if (ret != 0) {
			goto fail;
		}
	}

	unsigned ops = uring_probe_ops(&first->ring);
	if (ops == 0) {
		ret = -ENOTSUP;
		goto fail;
	}
	atomic_store_explicit(&q->uring_ops, ops, memory_order_relaxed);

	// Keep io-wq to as many bounded workers as we have threads, as bfs does:
	// more only fight over two cores when the cache is warm
	unsigned limits[2] = {q->nthreads, 0};
	io_uring_register_iowq_max_workers(&first->ring, limits);
	return 0;

fail:
	uring_teardown(q);
	return ret;
}

bool uring_unsupported(int res) {
	return res == -EINVAL || res == -EOPNOTSUPP || res == -ENOSYS;
}

/** Run an entry synchronously on this worker and finish it. */
static void uring_run_sync(struct uring_state *st, struct ioq_ent *ent) {
	ent->injected = 0;
	if (ent->op == IOQ_CLOSEDIR && ent->dirp->fd < 0 && ent->fd >= 0) {
		// Its descriptor was detached for the ring: close that
		ent->result = close(ent->fd) == 0 ? 0 : -errno;
	} else {
		exec_run(ent, st->scratch);
	}
	worker_finish(st->q, &st->done, ent);
}

/** Put an entry into an SQE.  @return false if the ring cannot do it. */
static bool uring_prep(struct uring_state *st, struct ioq_ent *ent) {
	unsigned ops = atomic_load_explicit(&st->q->uring_ops, memory_order_relaxed);
	if (st->broken || !(ops & URING_OP(ent->op))) {
		return false;
	}
	struct io_uring_sqe *sqe = io_uring_get_sqe(st->ring);
	if (!sqe) {
		return false;
	}

	switch (ent->op) {
	case IOQ_CLOSE:
		io_uring_prep_close(sqe, ent->fd);
		break;
	case IOQ_OPENDIR:
		io_uring_prep_openat(sqe, ent->fd, ent->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
		break;
	case IOQ_CLOSEDIR:
		ent->fd = dir_detach(ent->dirp);
		io_uring_prep_close(sqe, ent->fd);
		break;
	case IOQ_STAT: {
		int atflags = (ent->flags & IOQ_STAT_NOFOLLOW) ? AT_SYMLINK_NOFOLLOW : 0;
		io_uring_prep_statx(sqe, ent->fd, ent->path, atflags, STAT_MASK, &ent->stx);
		break;
	}
	default:
		io_uring_prep_nop(sqe);
		break;
	}

	// Test hook: the ring is to answer this op with an error.  It goes in as
	// a NOP, so that (as when a real kernel refuses an op) nothing was done
	// when the worker falls back to the synchronous call
	int injected = inject_uring_op(ent->op);
	if (injected < 0) {
		io_uring_prep_nop(sqe);
		ent->injected = injected;
	}
	io_uring_sqe_set_data(sqe, ent);
	++st->owned;
	return true;
}

/** Finish an entry from its CQE result. */
static void uring_complete(struct uring_state *st, struct ioq_ent *ent, int res) {
	--st->owned;
	if (ent->injected) {
		res = ent->injected;
		ent->injected = 0;
	}
	if (uring_unsupported(res) && ent->op != IOQ_NOP) {
		// This kernel's ring cannot do the op (or not on this file system):
		// do it synchronously, now and from now on
		atomic_fetch_and_explicit(&st->q->uring_ops, ~URING_OP(ent->op), memory_order_relaxed);
		uring_run_sync(st, ent);
		return;
	}

	if (ent->op == IOQ_OPENDIR && res >= 0) {
		exec_opendir_done(st->q, ent, res, st->scratch);
	} else {
		ent->result = res < 0 ? res : 0;
	}
	worker_finish(st->q, &st->done, ent);
}

/** Finish every visible CQE.  @return How many entries were finished. */
static unsigned uring_reap(struct uring_state *st) {
	unsigned total = 0;
	while (true) {
		struct io_uring_cqe *cqes[URING_ENTRIES];
		unsigned n = io_uring_peek_batch_cqe(st->ring, cqes, URING_ENTRIES);
		if (n == 0) {
			return total;
		}
		for (unsigned i = 0; i < n; ++i) {
			struct ioq_ent *ent = io_uring_cqe_get_data(cqes[i]);
			int res = cqes[i]->res;
			if (ent) {
				uring_complete(st, ent, res);
				++total;
			}
		}
		io_uring_cq_advance(st->ring, n);
	}
}

void uring_backoff(unsigned tries) {
	struct timespec ts = {0, 20000L * (tries < 50 ? tries : 50)};
	nanosleep(&ts, NULL);
}

/**
 * Give up the ring: turn every SQE not yet consumed by the kernel into a
 * NOP nobody waits for, run those entries synchronously, and collect what the
 * kernel already owns.
 */
static void uring_abandon(struct uring_state *st) {
	struct io_uring_sq *sq = &st->ring->sq;
	unsigned head = io_uring_smp_load_acquire(sq->khead);
	for (unsigned i = head; i != sq->sqe_tail; ++i) {
		struct io_uring_sqe *sqe = &sq->sqes[i & sq->ring_mask];
		struct ioq_ent *ent = (struct ioq_ent *)(uintptr_t)sqe->user_data;
		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data(sqe, NULL);
		if (ent) {
			--st->owned;
			uring_run_sync(st, ent);
		}
	}
	st->broken = true;

	// The rest completes in the kernel whatever we do; its memory must stay
	// ours until then
	for (unsigned tries = 0; st->owned > 0; ++tries) {
		if (uring_reap(st) == 0) {
			io_uring_get_events(st->ring);
			if (uring_reap(st) == 0) {
				uring_backoff(tries + 1);
			}
		}
	}
}

/** Submit what is queued; with `wait`, also wait for one completion. */
static void uring_submit(struct uring_state *st, bool wait) {
	unsigned failures = 0;
	while (true) {
		if (wait) {
			// About to sleep in the kernel: hand over finished work first
			worker_flush(st->q, &st->done);
		}

		unsigned queued = io_uring_sq_ready(st->ring);
		int ret = inject_error(IOQ_INJECT_SUBMIT);
		if (ret == 0) {
			ret = wait ? io_uring_submit_and_wait(st->ring, 1) : io_uring_submit_and_get_events(st->ring);
		}
		if (ret >= 0 && (ret > 0 || queued == 0)) {
			return;
		}

		// An error (EAGAIN, EBUSY, EINTR, ...) or nothing submitted: reap to
		// make room (progress; the caller comes back), else retry a while
		if (uring_reap(st) > 0) {
			return;
		}
		if (++failures >= URING_SUBMIT_TRIES) {
			uring_abandon(st);
			return;
		}
		uring_backoff(failures);
	}
}

/** Take requests into the ring until it is full or nothing is pending. */
static void uring_fill(struct uring_state *st) {
	struct ioq *q = st->q;
	while (!st->stop && st->owned < URING_ENTRIES) {
		struct ioq_ent *ent = chan_take(q->pending, &st->cur, false);
		if (!ent) {
			if (st->owned > 0) {
				break;
			}
			// Idle: hand over results, then sleep until work arrives
			worker_flush(q, &st->done);
			ent = chan_take(q->pending, &st->cur, true);
		}

		if (ent == &worker_stop_mark) {
			st->stop = true;
		} else if (ent->op == IOQ_WALK) {
			// Lent to a walk (the ring is idle: a walk starts on an idle queue)
			if (walk_serve(st->worker, st->broken ? NULL : st->ring)) {
				st->broken = true;
			}
			worker_finish(q, &st->done, ent);
		} else if (exec_cancelled(q, ent)) {
			worker_finish(q, &st->done, ent);
		} else if (!uring_prep(st, ent)) {
			uring_run_sync(st, ent);
		}
	}
}

void uring_work(struct ioq_worker *w) {
	struct uring_state st = {
		.worker = w,
		.q = w->queue,
		.ring = &w->ring,
		.scratch = w->scratch,
	};

	if (w->ring_disabled && io_uring_enable_rings(&w->ring) < 0) {
		st.broken = true;
	}

	while (true) {
		uring_fill(&st);
		if (st.owned == 0) {
			if (st.stop) {
				break;
			}
			continue;
		}
		// Wait in the kernel only when everything owned is already submitted
		uring_submit(&st, io_uring_sq_ready(st.ring) == 0);
		uring_reap(&st);
	}

	worker_flush(st.q, &st.done);
	worker_replay_stop(st.q);
}
