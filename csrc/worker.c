// SPDX-License-Identifier: 0BSD
/** worker: the threads that run requests. */

#define _GNU_SOURCE
#include "queue.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>

struct ioq_ent worker_stop_mark;

void worker_flush(struct ioq *q, struct worker_done *done) {
	if (done->n) {
		chan_push(q->ready, (void *const *)done->ents, done->n);
		done->n = 0;
	}
}

void worker_finish(struct ioq *q, struct worker_done *done, struct ioq_ent *ent) {
	done->ents[done->n++] = ent;
	// A parked consumer gets results at once; otherwise batch them
	if (done->n == CHAN_BATCH || atomic_load_explicit(&q->waiters, memory_order_relaxed)) {
		worker_flush(q, done);
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
		if (!exec_cancelled(q, ent)) {
			exec_run(ent);
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
