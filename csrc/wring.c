// SPDX-License-Identifier: 0BSD
/** wring: batches of opens and stats for the walk, on the ring or not. */

#define _GNU_SOURCE
#include "wring.h"
#include "inject.h"
#include "queue.h"
#include "stat.h"
#include "uring.h"
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#if IOQ_WITH_URING
#  include <liburing.h>
#endif

/** Run one op synchronously. */
static void wring_sync(struct wring_op *op) {
	if (op->kind == WRING_OPEN) {
		int fd = openat(op->dfd, op->path, op->flags);
		op->res = fd < 0 ? -errno : fd;
	} else {
		op->res = stat_path(op->dfd, op->path, op->flags, op->stx);
	}
}

#if IOQ_WITH_URING

/** The ioq op a walk op counts as, for the ring's support bits and the tests' injection points. */
static int wring_ioq_op(const struct wring_op *op) {
	return op->kind == WRING_OPEN ? IOQ_OPENDIR : IOQ_STAT;
}

/** Finish an op from its completion. */
static void wring_complete(struct wring *r, struct wring_op *op, int res) {
	if (op->injected) {
		res = op->injected;
		op->injected = 0;
	}
	if (uring_unsupported(res)) {
		// The ring cannot do this op here: synchronously, now and from now on
		atomic_fetch_and_explicit(&r->q->uring_ops, ~URING_OP(wring_ioq_op(op)), memory_order_relaxed);
		wring_sync(op);
		return;
	}
	op->res = res;
}

/** Reap every visible completion.  @return How many ops finished. */
static unsigned wring_reap(struct wring *r) {
	unsigned total = 0;
	struct io_uring_cqe *cqes[WRING_MAX];
	unsigned n;
	while ((n = io_uring_peek_batch_cqe(r->ring, cqes, WRING_MAX)) > 0) {
		for (unsigned i = 0; i < n; ++i) {
			struct wring_op *op = io_uring_cqe_get_data(cqes[i]);
			if (op) {
				wring_complete(r, op, cqes[i]->res);
				++total;
			}
		}
		io_uring_cq_advance(r->ring, n);
	}
	return total;
}

/**
 * Give up the ring: SQEs the kernel has not taken become NOPs nobody waits
 * for, and their ops run synchronously; what the kernel took completes.
 */
static void wring_abandon(struct wring *r, unsigned *owned) {
	struct io_uring_sq *sq = &r->ring->sq;
	unsigned head = io_uring_smp_load_acquire(sq->khead);
	for (unsigned i = head; i != sq->sqe_tail; ++i) {
		struct io_uring_sqe *sqe = &sq->sqes[i & sq->ring_mask];
		struct wring_op *op = (struct wring_op *)(uintptr_t)sqe->user_data;
		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data(sqe, NULL);
		if (op) {
			--*owned;
			op->injected = 0;
			wring_sync(op);
		}
	}
	r->broken = true;
	for (unsigned tries = 0; *owned > 0; ++tries) {
		unsigned got = wring_reap(r);
		if (got == 0) {
			io_uring_get_events(r->ring);
			got = wring_reap(r);
			if (got == 0) {
				uring_backoff(tries + 1);
			}
		}
		*owned -= got;
	}
}

void wring_run(struct wring *r, struct wring_op *ops, uint32_t n) {
	if (!r->ring || r->broken) {
		for (uint32_t i = 0; i < n; ++i) {
			wring_sync(&ops[i]);
		}
		return;
	}

	unsigned supported = atomic_load_explicit(&r->q->uring_ops, memory_order_relaxed);
	unsigned owned = 0;
	for (uint32_t i = 0; i < n; ++i) {
		struct wring_op *op = &ops[i];
		op->injected = 0;
		struct io_uring_sqe *sqe = NULL;
		if (supported & URING_OP(wring_ioq_op(op))) {
			sqe = io_uring_get_sqe(r->ring);
		}
		if (!sqe) {
			wring_sync(op);
			continue;
		}
		if (op->kind == WRING_OPEN) {
			io_uring_prep_openat(sqe, op->dfd, op->path, op->flags, 0);
		} else {
			io_uring_prep_statx(sqe, op->dfd, op->path, op->flags, STAT_MASK, op->stx);
		}
		// Test hook: the ring is to refuse this op (it goes in as a NOP)
		int injected = inject_uring_op(wring_ioq_op(op));
		if (injected < 0) {
			io_uring_prep_nop(sqe);
			op->injected = injected;
		}
		io_uring_sqe_set_data(sqe, op);
		++owned;
	}

	unsigned failures = 0;
	while (owned > 0) {
		int ret;
		if (io_uring_sq_ready(r->ring) > 0) {
			ret = inject_error(IOQ_INJECT_SUBMIT);
			if (ret == 0) {
				ret = io_uring_submit_and_wait(r->ring, 1);
			}
			if (ret < 0) {
				// Not submitted: reap what is there, retry a while, then give up
				owned -= wring_reap(r);
				if (++failures >= URING_SUBMIT_TRIES) {
					wring_abandon(r, &owned);
					break;
				}
				uring_backoff(failures);
				continue;
			}
		} else {
			// Everything is in the kernel: wait for it
			struct io_uring_cqe *cqe;
			io_uring_wait_cqe(r->ring, &cqe);
		}
		owned -= wring_reap(r);
	}
}

#else // !IOQ_WITH_URING

void wring_run(struct wring *r, struct wring_op *ops, uint32_t n) {
	(void)r;
	for (uint32_t i = 0; i < n; ++i) {
		wring_sync(&ops[i]);
	}
}

#endif // IOQ_WITH_URING
