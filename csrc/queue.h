// SPDX-License-Identifier: 0BSD
/**
 * queue: the private state of an ioq, shared by the modules that implement
 * it (ioq.c: the owner's API; worker.c: threads; uring.c: io_uring; exec.c:
 * running one request).
 */

#ifndef IOQ_QUEUE_H
#define IOQ_QUEUE_H

#include "chan.h"
#include "dirtab.h"
#include "ioq.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#if IOQ_WITH_URING
#  include <liburing.h>
#endif

/** A worker thread. */
struct ioq_worker {
	/** The thread. */
	pthread_t thread;
	/** The queue it serves. */
	struct ioq *queue;
	/** Its number, 0-based. */
	uint32_t id;
	/** Its getdents64 scratch buffer (DIR_BUF_SIZE bytes), or NULL. */
	char *scratch;
#if IOQ_WITH_URING
	/** Whether `ring` was set up (and must be torn down). */
	bool has_ring;
	/** Whether the ring was created disabled and must be enabled by the worker. */
	bool ring_disabled;
	/** This worker's ring. */
	struct io_uring ring;
#endif
};

struct ioq {
	/** The most entries in use at once. */
	uint32_t depth;
	/** The backend in use (enum ioq_backend, never AUTO). */
	int32_t backend;

	/** Set by ioq_cancel(). */
	atomic_bool cancelled;
	/** Set by ioq_stop_waits(). */
	atomic_bool waits_stopped;
	/** Moves whenever waiters must wake up early. */
	atomic_uint wake_gen;
	/** Threads inside ioq_wait() (workers flush results at once for them). */
	atomic_uint waiters;

	/** The entry arena: `depth` entries. */
	struct ioq_ent *ents;
	/** Indices of free entries (a stack). */
	uint32_t *free_ents;
	/** How many entries are free. */
	uint32_t nfree;
	/** Requests made and not yet popped. */
	uint32_t inflight;
	/** One past the highest entry index ever handed out. */
	uint32_t touched;

	/** Requests: owner -> workers. */
	struct chan *pending;
	/** Requests batched on the owner's thread, not yet pushed. */
	struct ioq_ent *batch[CHAN_BATCH];
	/** How many are in `batch`. */
	uint32_t nbatch;

	/** Completions: workers -> owner. */
	struct chan *ready;
	/** The owner's read position in `ready` (always holding a claim). */
	struct chan_cursor ready_cur;
	/** ready_cur.ticket, published for ioq_wait() on other threads. */
	atomic_size_t ready_ticket;

	/** Directory handles. */
	struct dirtab dirs;

	/** The walk the workers are lent to, or NULL. */
	struct ioq_walk *walk;

	/** io_uring opcodes usable here (bit per enum ioq_op), or 0. */
	atomic_uint uring_ops;

	/** Worker threads started. */
	uint32_t nworkers;
	/** Worker threads requested. */
	uint32_t nthreads;
	/** The workers. */
	struct ioq_worker workers[];
};

/**
 * Lend a worker to the queue's walk: queue an IOQ_WALK request.
 * @return The entry's index, or as ioq_nop().
 */
int32_t ioq_lend(struct ioq *q);

/**
 * Take back lent workers: wait until their IOQ_WALK requests complete (the
 * walk must be over or cancelled), and release them.  Nothing else is in
 * flight while a walk holds the queue.
 */
void ioq_reclaim(struct ioq *q);

/** The sentinel that tells a worker to stop (pushed by ioq_destroy()). */
extern struct ioq_ent worker_stop_mark;

/** Completions a worker has finished but not yet pushed to `ready`. */
struct worker_done {
	/** The entries. */
	struct ioq_ent *ents[CHAN_BATCH];
	/** How many. */
	size_t n;
	/** When the first of them finished (CLOCK_MONOTONIC ns), while someone waits. */
	int64_t since;
};

/**
 * Start the worker threads, with every signal blocked in them.
 * @return 0 or a negative errno value (some workers may have started).
 */
int worker_start(struct ioq *q);

/** Stop and join every started worker. */
void worker_stop(struct ioq *q);

/** Free the workers' buffers (after worker_stop()). */
void worker_free(struct ioq *q);

/** Record a finished entry; pushes the batch when full or when someone waits. */
void worker_finish(struct ioq *q, struct worker_done *done, struct ioq_ent *ent);

/** Pass the stop sentinel on to the next worker (a worker does this as it exits). */
void worker_replay_stop(struct ioq *q);

/** Push whatever finished entries are held. */
void worker_flush(struct ioq *q, struct worker_done *done);

/**
 * Complete an entry with -EINTR if the queue is cancelled and the op is not
 * a close.  @return Whether it did.
 */
bool exec_cancelled(struct ioq *q, struct ioq_ent *ent);

/**
 * Run an entry's operation synchronously and set its result.
 * @param scratch
 *         The worker's DIR_BUF_SIZE scratch buffer.
 */
void exec_run(struct ioq_ent *ent, char *scratch);

/**
 * Finish an OPENDIR whose openat() returned `fd` (>= 0) elsewhere (io_uring):
 * fill the buffer, honour cancellation and IOQ_OPENDIR_STAT.
 */
void exec_opendir_done(struct ioq *q, struct ioq_ent *ent, int fd, char *scratch);


#endif // IOQ_QUEUE_H
