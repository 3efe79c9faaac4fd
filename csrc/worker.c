// SPDX-License-Identifier: 0BSD
/** worker: the threads that run requests. */

#define _GNU_SOURCE
#include "dir.h"
#include "queue.h"
#include "uring.h"
#include "wserve.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct ioq_ent worker_stop_mark;

/** How long a parked consumer may wait for a batch to fill, in nanoseconds. */
#define WORKER_FLUSH_NS 50000

void worker_flush(struct ioq *q, struct worker_done *done) {
	if (done->n) {
		chan_push(q->ready, (void *const *)done->ents, done->n);
		done->n = 0;
	}
}

/** The monotonic clock in nanoseconds. */
static int64_t worker_now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void worker_finish(struct ioq *q, struct worker_done *done, struct ioq_ent *ent) {
	done->ents[done->n++] = ent;
	// Hand results over a cache line at a time; the loops flush what is left
	// before they sleep.  A parked consumer gets a partial batch once its
	// first result is WORKER_FLUSH_NS old: soon enough when each op is slow
	// (a cold cache), and rarely enough when they are fast.  (Flushing every
	// result at once for a parked consumer woke it once per result: 147 ms
	// instead of 121 ms for 20,000 directories with two workers.)
	if (done->n == CHAN_BATCH) {
		worker_flush(q, done);
	} else if (atomic_load_explicit(&q->waiters, memory_order_relaxed)) {
		int64_t now = worker_now();
		if (done->n == 1) {
			done->since = now;
		} else if (now - done->since >= WORKER_FLUSH_NS) {
			worker_flush(q, done);
		}
	}
}

void worker_replay_stop(struct ioq *q) {
	void *stop = &worker_stop_mark;
	chan_push(q->pending, &stop, 1);
}

/** The loop of a worker that makes plain syscalls. */
static void worker_sync_loop(struct ioq_worker *w) {
	struct ioq *q = w->queue;
	struct chan_cursor cur = {0};
	struct worker_done done = {0};

	while (true) {
		struct ioq_ent *ent = chan_take(q->pending, &cur, false);
		if (!ent) {
			// Nothing more right now: hand over results before sleeping
			worker_flush(q, &done);
			ent = chan_take(q->pending, &cur, true);
		}
		if (ent == &worker_stop_mark) {
			break;
		}
		if (ent->op == IOQ_WALK) {
			walk_serve(w, NULL);
		} else if (!exec_cancelled(q, ent)) {
			exec_run(ent, w->scratch);
		}
		worker_finish(q, &done, ent);
	}

	worker_flush(q, &done);
	worker_replay_stop(q);
}

/** Thread entry point. */
static void *worker_main(void *arg) {
	struct ioq_worker *w = arg;
	char name[16];
	snprintf(name, sizeof(name), "ioq-%u", (unsigned)w->id);
	pthread_setname_np(pthread_self(), name);

#if IOQ_WITH_URING
	if (w->has_ring) {
		uring_work(w);
		return NULL;
	}
#endif
	worker_sync_loop(w);
	return NULL;
}

int worker_start(struct ioq *q) {
	// Workers must never take the host's signals (Deno's SIGINT, SIGCHLD):
	// create them with everything blocked; they inherit the mask.
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);

	int ret = 0;
	for (uint32_t i = 0; i < q->nthreads; ++i) {
		struct ioq_worker *w = &q->workers[i];
		w->scratch = malloc(DIR_BUF_SIZE);
		if (!w->scratch) {
			ret = -ENOMEM;
			break;
		}
		int err = pthread_create(&w->thread, NULL, worker_main, w);
		if (err) {
			ret = -err;
			break;
		}
		++q->nworkers;
	}

	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

void worker_stop(struct ioq *q) {
	if (q->nworkers == 0) {
		return;
	}
	// One sentinel: each worker replays it for the next before exiting
	worker_replay_stop(q);
	for (uint32_t i = 0; i < q->nworkers; ++i) {
		pthread_join(q->workers[i].thread, NULL);
	}
	q->nworkers = 0;
}

void worker_free(struct ioq *q) {
	for (uint32_t i = 0; i < q->nthreads; ++i) {
		free(q->workers[i].scratch);
		q->workers[i].scratch = NULL;
	}
}
