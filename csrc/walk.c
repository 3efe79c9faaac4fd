// SPDX-License-Identifier: 0BSD
/**
 * walk: the traversal engine's API and its workers' loop.
 *
 * The engine's parts, each in its own file:
 *
 *  - walk.c (this file): making a walk from a configuration, lending it the
 *    queue's workers, the owner's calls, and tearing it down;
 *  - wsched.c: the order (the emission list), the work still to do (the
 *    to-do queue), the hand-out of directories to workers, emission, gates;
 *  - wread.c: reading one directory on a worker;
 *  - wfd.c: the descriptor limit and the cache of open anchors;
 *  - wout.c: records, chunks and batches;
 *  - wnode.c: directory nodes and their paths;
 *  - wmatch.c: name globs and path suffixes.
 *
 * Threads
 * =======
 *
 * A walk takes every worker of its queue: it queues one IOQ_WALK request
 * per worker, and a worker that picks one up runs walk_serve() until the
 * walk is over, then completes the request.  The owner's thread only takes
 * finished batches (ioq_walk_next(), waiting with ioq_walk_wait() on another
 * thread), answers gates, and gives batches back.  Destroying the walk
 * cancels it and pops the IOQ_WALK completions, so the queue is idle and
 * usable again afterwards.
 *
 * One lock (the walk's) guards the scheduler, the nodes' counts and the
 * descriptor cache; it is held for bookkeeping only, never across a
 * syscall that touches the file system.  The batches have their own lock
 * (wout.c), so the owner never waits behind a worker's bookkeeping.
 */

#define _GNU_SOURCE
#include "walk.h"
#include "queue.h"
#include "wfd.h"
#include "wmatch.h"
#include "wout.h"
#include "wread.h"
#include "wsched.h"
#include "wserve.h"
#include "wstate.h"
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/** The most directories a worker takes at once, without and with a ring. */
#define WALK_TAKE 4
#define WALK_TAKE_RING 16

/** Bytes of a spec item's header: kind, flags, zero, length. */
#define WALK_ITEM_HEADER 8

bool walk_serve(struct ioq_worker *worker, struct io_uring *ring) {
	struct ioq_walk *w = worker->queue->walk;
	if (!w) {
		return false;
	}
	pthread_mutex_lock(&w->lock);
	bool late = w->finished;
	pthread_mutex_unlock(&w->lock);
	if (!late) {
		walk_count(w, IOQ_WALK_COUNT_WORKERS, 1);
	}
	struct wreader r;
	if (wreader_init(&r, w, worker->scratch, ring) != 0) {
		// Other workers may still serve; this one cannot
		wreader_free(&r);
		return false;
	}
	// A worker with a ring opens a batch of directories with one submit
	uint32_t max = ring ? WALK_TAKE_RING : WALK_TAKE;
	struct wjob jobs[WALK_TAKE_RING];
	int fds[WALK_TAKE_RING];
	uint32_t n;
	while ((n = wsched_take(w, jobs, max)) > 0) {
		wread_open_all(&r, jobs, n, fds);
		for (uint32_t i = 0; i < n; ++i) {
			struct wresult res;
			wread_node(&r, &jobs[i], fds[i], &res);
			wsched_done(w, &jobs[i], &res);
		}
	}
	bool broken = r.ring.broken;
	wreader_free(&r);
	return broken;
}

/** Copy an item's bytes (with a NUL after them).  @return The copy, or NULL. */
static uint8_t *walk_copy(const uint8_t *bytes, uint32_t len) {
	uint8_t *copy = malloc((size_t)len + 1);
	if (copy) {
		memcpy(copy, bytes, len);
		copy[len] = 0;
	}
	return copy;
}

_Static_assert(IOQ_WALK_ITEM_CASEFOLD == WGLOB_CASEFOLD, "glob item flags are wglob flags");
_Static_assert(IOQ_WALK_ITEM_EXTGLOB == WGLOB_EXTGLOB, "glob item flags are wglob flags");
_Static_assert(IOQ_WALK_ITEM_GLOBSTAR == WGLOB_GLOBSTAR, "glob item flags are wglob flags");
_Static_assert(IOQ_WALK_ITEM_DIRS == WGLOB_DIRS, "glob item flags are wglob flags");

/** Read the spec's items into the walk.  @return 0 or a negative errno value. */
static int walk_parse(struct ioq_walk *w, const uint8_t *spec, uint32_t len) {
	bool has_root = false;
	uint32_t pos = 0;
	while (pos < len) {
		if (len - pos < WALK_ITEM_HEADER) {
			return -EINVAL;
		}
		uint8_t kind = spec[pos];
		uint8_t flags = spec[pos + 1];
		uint32_t n;
		memcpy(&n, spec + pos + 4, sizeof(n));
		pos += WALK_ITEM_HEADER;
		if (n > len - pos) {
			return -EINVAL;
		}
		const uint8_t *bytes = spec + pos;
		pos += (n + 3) & ~3u;
		if (pos > len) {
			pos = len;
		}

		int ret = 0;
		switch (kind) {
		case IOQ_WALK_ITEM_ROOT:
			if (has_root || memchr(bytes, 0, n)) {
				return -EINVAL;
			}
			has_root = true;
			w->root = (char *)walk_copy(bytes, n);
			w->root_len = n;
			ret = w->root ? 0 : -ENOMEM;
			break;
		case IOQ_WALK_ITEM_ROOT_SHOWN:
			free(w->root_shown);
			w->root_shown = walk_copy(bytes, n);
			w->root_shown_len = n;
			ret = w->root_shown ? 0 : -ENOMEM;
			break;
		case IOQ_WALK_ITEM_ROOT_PREFIX:
			free(w->root_prefix);
			w->root_prefix = walk_copy(bytes, n);
			w->root_prefix_len = n;
			ret = w->root_prefix ? 0 : -ENOMEM;
			break;
		case IOQ_WALK_ITEM_NAME:
			ret = wmatch_add_glob(&w->names, bytes, n, flags);
			break;
		case IOQ_WALK_ITEM_PRUNE:
			ret = wmatch_add_glob(&w->prunes, bytes, n, flags);
			break;
		case IOQ_WALK_ITEM_EXT:
			ret = wmatch_add_suffix(&w->exts, bytes, n);
			break;
		case IOQ_WALK_ITEM_GLOB:
		case IOQ_WALK_ITEM_EXCLUDE:
			if (!w->glob && !(w->glob = wglob_new())) {
				return -ENOMEM;
			}
			// (IOQ_WALK_ITEM_* glob flags are WGLOB_* flags, see the assertions)
			ret = wglob_add(w->glob, bytes, n, flags, kind == IOQ_WALK_ITEM_EXCLUDE);
			break;
		case IOQ_WALK_ITEM_BASE:
			free(w->base);
			w->base = walk_copy(bytes, n);
			w->base_len = n;
			ret = w->base ? 0 : -ENOMEM;
			break;
		default:
			return -EINVAL;
		}
		if (ret != 0) {
			return ret;
		}
	}
	if (!has_root) {
		return -EINVAL;
	}

	// Defaults: the root shown as opened; its entries under it and a slash
	if (!w->root_shown) {
		w->root_shown = walk_copy((const uint8_t *)w->root, w->root_len);
		w->root_shown_len = w->root_len;
		if (!w->root_shown) {
			return -ENOMEM;
		}
	}
	if (!w->root_prefix) {
		uint32_t n = w->root_shown_len;
		bool slash = n == 0 || w->root_shown[n - 1] != '/';
		w->root_prefix = malloc((size_t)n + 2);
		if (!w->root_prefix) {
			return -ENOMEM;
		}
		memcpy(w->root_prefix, w->root_shown, n);
		if (slash) {
			w->root_prefix[n++] = '/';
		}
		w->root_prefix[n] = 0;
		w->root_prefix_len = n;
	}
	return 0;
}

/** Check a configuration.  @return 0 or -EINVAL. */
static int walk_check(const struct ioq_walk_config *cfg) {
	if ((cfg->flags & ~(uint32_t)IOQ_WALK_ALL_FLAGS) || cfg->order > IOQ_WALK_POST || cfg->follow > IOQ_WALK_FOLLOW_ALWAYS
	    || cfg->terminator > 0xff || cfg->min_depth > cfg->max_depth) {
		return -EINVAL;
	}
	if (cfg->order == IOQ_WALK_POST && (cfg->flags & IOQ_WALK_GATE)) {
		// A gate decides on entering before the subtree; post-order reports
		// after it: the two do not mix
		return -EINVAL;
	}
	return 0;
}

/** Free a walk's memory (its workers are back, its nodes freed). */
static void walk_free(struct ioq_walk *w) {
	free(w->root);
	free(w->root_real);
	free(w->root_shown);
	free(w->root_prefix);
	wmatch_free_globs(&w->names);
	wmatch_free_globs(&w->prunes);
	wmatch_free_suffixes(&w->exts);
	wglob_free(w->glob);
	wign_top_free(&w->ign_top);
	free(w->base);
	free(w);
}

struct ioq_walk *ioq_walk_create(struct ioq *q, const struct ioq_walk_config *cfg, const uint8_t *spec, uint32_t spec_len, int32_t *err) {
	struct ioq_walk *w = NULL;
	int ret = walk_check(cfg);
	if (ret != 0) {
		goto fail;
	}
	if (q->walk || q->inflight || q->nbatch) {
		ret = -EBUSY;
		goto fail;
	}
	if (atomic_load(&q->cancelled)) {
		ret = -EINTR;
		goto fail;
	}

	w = calloc(1, sizeof(*w));
	if (!w) {
		ret = -ENOMEM;
		goto fail;
	}
	w->q = q;
	w->cfg = *cfg;
	ret = walk_parse(w, spec, spec_len);
	if (ret != 0) {
		goto fail_free;
	}
	wfd_init(w);
	ret = wout_init(w);
	if (ret != 0) {
		goto fail_out;
	}
	ret = wsched_init(w);
	if (ret != 0) {
		goto fail_sched;
	}

	// Lend the walk every worker (as many as the queue's depth allows).
	// Each loan goes out in a push of its own: a worker claims a whole
	// pushed line of the ring (chan.c), so loans pushed together would all
	// go to the first worker to wake, which serves them one after the
	// other, and the walk would run on one thread
	q->walk = w;
	for (uint32_t i = 0; i < q->nthreads; ++i) {
		int32_t index = ioq_lend(q);
		if (index < 0) {
			if (w->nlent == 0) {
				ret = index;
				q->walk = NULL;
				goto fail_sched;
			}
			break;
		}
		// Under the lock: the workers lent so far already read it
		pthread_mutex_lock(&w->lock);
		++w->nlent;
		pthread_mutex_unlock(&w->lock);
		ioq_submit(q);
	}
	*err = 0;
	return w;

fail_sched:
	wsched_destroy(w);
fail_out:
	wout_destroy(w);
fail_free:
	walk_free(w);
fail:
	*err = ret;
	return NULL;
}

int32_t ioq_walk_next(struct ioq_walk *w) {
	if (walk_cancelled(w)) {
		return -EINTR;
	}
	// Gates first: workers may be waiting for the answers
	if (atomic_load_explicit(&w->gates_pending, memory_order_relaxed) > 0) {
		return IOQ_WALK_ASK;
	}
	struct wout *o = &w->out;
	int32_t ret = IOQ_WALK_NONE;
	pthread_mutex_lock(&o->lock);
	if (o->ready_len > 0) {
		ret = (int32_t)o->ready[o->ready_head];
		o->ready_head = (o->ready_head + 1) % o->nbatches;
		--o->ready_len;
	} else if (o->ended) {
		ret = IOQ_WALK_END;
	}
	pthread_mutex_unlock(&o->lock);
	return ret;
}

int32_t ioq_walk_wait(struct ioq_walk *w, int32_t timeout_us) {
	struct wout *o = &w->out;
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_us / 1000000;
	deadline.tv_nsec += (long)(timeout_us % 1000000) * 1000;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_nsec -= 1000000000L;
		++deadline.tv_sec;
	}

	int32_t ret = 0;
	pthread_mutex_lock(&o->lock);
	++o->waiters;
	while (true) {
		if (o->waits_stopped) {
			ret = -ECANCELED;
			break;
		}
		bool asking = atomic_load(&w->gates_pending) > 0;
		if (o->ready_len > 0 || o->ended || asking || walk_cancelled(w)) {
			ret = 1;
			break;
		}
		if (pthread_cond_timedwait(&o->cond, &o->lock, &deadline) == ETIMEDOUT) {
			ret = 0;
			break;
		}
	}
	--o->waiters;
	pthread_mutex_unlock(&o->lock);
	return ret;
}

void ioq_walk_release(struct ioq_walk *w, uint32_t batch) {
	struct wout *o = &w->out;
	if (batch >= o->nbatches) {
		return;
	}
	pthread_mutex_lock(&o->lock);
	// Ignore a batch already free (released twice)
	bool known = false;
	for (uint32_t i = 0; i < o->nfree; ++i) {
		known |= o->free[i] == batch;
	}
	// ... or published and not yet taken (released twice, then refilled)
	for (uint32_t i = 0; i < o->ready_len; ++i) {
		known |= o->ready[(o->ready_head + i) % o->nbatches] == batch;
	}
	if (!known && (int32_t)batch != o->cur) {
		o->free[o->nfree++] = batch;
		if (o->starved) {
			pthread_cond_broadcast(&o->cond);
		}
	}
	pthread_mutex_unlock(&o->lock);
}

struct ioq_walk_batch *ioq_walk_batches(struct ioq_walk *w) {
	return w->out.batches;
}

uint32_t ioq_walk_batch_count(const struct ioq_walk *w) {
	return w->out.nbatches;
}

int32_t ioq_walk_asked(struct ioq_walk *w, uint8_t *text, uint32_t cap, uint32_t *meta, uint32_t max) {
	return wsched_asked(w, text, cap, meta, max);
}

int32_t ioq_walk_decide(struct ioq_walk *w, const uint32_t *ids, const uint8_t *enter, uint32_t n) {
	return wsched_decide(w, ids, enter, n);
}

void ioq_walk_cancel(struct ioq_walk *w) {
	if (!atomic_exchange(&w->cancelled, true)) {
		wsched_wake_all(w);
		wout_wake(w);
	}
}

void ioq_walk_stop_waits(struct ioq_walk *w) {
	struct wout *o = &w->out;
	pthread_mutex_lock(&o->lock);
	o->waits_stopped = true;
	pthread_cond_broadcast(&o->cond);
	pthread_mutex_unlock(&o->lock);
}

void ioq_walk_destroy(struct ioq_walk *w) {
	if (!w) {
		return;
	}
	ioq_walk_cancel(w);

	// Take the workers back: their IOQ_WALK requests complete as they leave
	struct ioq *q = w->q;
	ioq_reclaim(q);
	q->walk = NULL;

	wsched_destroy(w);
	wout_destroy(w);
	walk_free(w);
}

int32_t ioq_walk_counters(const struct ioq_walk *w, double *out, uint32_t max) {
	for (uint32_t i = 0; i < max && i < IOQ_WALK_COUNTERS; ++i) {
		out[i] = (double)atomic_load_explicit(&w->counters[i], memory_order_relaxed);
	}
	return IOQ_WALK_COUNTERS;
}

int32_t ioq_walk_layout(uint32_t *out, uint32_t max) {
	const uint32_t words[IOQ_WALK_LAYOUT_COUNT] = {
		[IOQ_WALK_LAYOUT_CONFIG_SIZE] = sizeof(struct ioq_walk_config),
		[IOQ_WALK_LAYOUT_REC_SIZE] = sizeof(struct ioq_walk_rec),
		[IOQ_WALK_LAYOUT_REC_OFF] = offsetof(struct ioq_walk_rec, off),
		[IOQ_WALK_LAYOUT_REC_LEN] = offsetof(struct ioq_walk_rec, len),
		[IOQ_WALK_LAYOUT_REC_NAME] = offsetof(struct ioq_walk_rec, name),
		[IOQ_WALK_LAYOUT_REC_OFF16] = offsetof(struct ioq_walk_rec, off16),
		[IOQ_WALK_LAYOUT_REC_LEN16] = offsetof(struct ioq_walk_rec, len16),
		[IOQ_WALK_LAYOUT_REC_NAME16] = offsetof(struct ioq_walk_rec, name16),
		[IOQ_WALK_LAYOUT_REC_DEPTH] = offsetof(struct ioq_walk_rec, depth),
		[IOQ_WALK_LAYOUT_REC_ERR] = offsetof(struct ioq_walk_rec, err),
		[IOQ_WALK_LAYOUT_REC_TYPE] = offsetof(struct ioq_walk_rec, type),
		[IOQ_WALK_LAYOUT_REC_FLAGS] = offsetof(struct ioq_walk_rec, flags),
		[IOQ_WALK_LAYOUT_REC_OP] = offsetof(struct ioq_walk_rec, op),
		[IOQ_WALK_LAYOUT_REC_AUX] = offsetof(struct ioq_walk_rec, aux),
		[IOQ_WALK_LAYOUT_BATCH_SIZE] = sizeof(struct ioq_walk_batch),
		[IOQ_WALK_LAYOUT_BATCH_RECS] = offsetof(struct ioq_walk_batch, recs),
		[IOQ_WALK_LAYOUT_BATCH_TEXT] = offsetof(struct ioq_walk_batch, text),
		[IOQ_WALK_LAYOUT_BATCH_STATS] = offsetof(struct ioq_walk_batch, stats),
		[IOQ_WALK_LAYOUT_BATCH_COUNT] = offsetof(struct ioq_walk_batch, count),
		[IOQ_WALK_LAYOUT_BATCH_FRONT] = offsetof(struct ioq_walk_batch, front),
		[IOQ_WALK_LAYOUT_BATCH_BACK] = offsetof(struct ioq_walk_batch, back),
		[IOQ_WALK_LAYOUT_BATCH_FRONT16] = offsetof(struct ioq_walk_batch, front16),
		[IOQ_WALK_LAYOUT_BATCH_REPORTED] = offsetof(struct ioq_walk_batch, reported),
		[IOQ_WALK_LAYOUT_BATCH_FLAGS] = offsetof(struct ioq_walk_batch, flags),
		[IOQ_WALK_LAYOUT_BATCH_GEN] = offsetof(struct ioq_walk_batch, gen),
		[IOQ_WALK_LAYOUT_BATCH_CAP] = offsetof(struct ioq_walk_batch, cap),
		[IOQ_WALK_LAYOUT_BATCH_REC_CAP] = offsetof(struct ioq_walk_batch, rec_cap),
		[IOQ_WALK_LAYOUT_STATX_SIZE] = sizeof(struct statx),
		[IOQ_WALK_LAYOUT_END] = IOQ_WALK_END,
		[IOQ_WALK_LAYOUT_ASK] = IOQ_WALK_ASK,
		[IOQ_WALK_LAYOUT_NO_MAX] = IOQ_WALK_NO_MAX,
		[IOQ_WALK_LAYOUT_GLOB_POSITIONS] = WGLOB_MAX,
		[IOQ_WALK_LAYOUT_STAT] = IOQ_WALK_STAT,
		[IOQ_WALK_LAYOUT_XDEV] = IOQ_WALK_XDEV,
		[IOQ_WALK_LAYOUT_SORT] = IOQ_WALK_SORT,
		[IOQ_WALK_LAYOUT_GATE] = IOQ_WALK_GATE,
		[IOQ_WALK_LAYOUT_STD] = IOQ_WALK_STD,
		[IOQ_WALK_LAYOUT_CANON] = IOQ_WALK_CANON,
		[IOQ_WALK_LAYOUT_GITIGNORE] = IOQ_WALK_GITIGNORE,
		[IOQ_WALK_LAYOUT_BFS] = IOQ_WALK_BFS,
		[IOQ_WALK_LAYOUT_DFS] = IOQ_WALK_DFS,
		[IOQ_WALK_LAYOUT_POST] = IOQ_WALK_POST,
		[IOQ_WALK_LAYOUT_FOLLOW_NEVER] = IOQ_WALK_FOLLOW_NEVER,
		[IOQ_WALK_LAYOUT_FOLLOW_ROOT] = IOQ_WALK_FOLLOW_ROOT,
		[IOQ_WALK_LAYOUT_FOLLOW_ALWAYS] = IOQ_WALK_FOLLOW_ALWAYS,
		[IOQ_WALK_LAYOUT_ITEM_ROOT] = IOQ_WALK_ITEM_ROOT,
		[IOQ_WALK_LAYOUT_ITEM_ROOT_SHOWN] = IOQ_WALK_ITEM_ROOT_SHOWN,
		[IOQ_WALK_LAYOUT_ITEM_ROOT_PREFIX] = IOQ_WALK_ITEM_ROOT_PREFIX,
		[IOQ_WALK_LAYOUT_ITEM_NAME] = IOQ_WALK_ITEM_NAME,
		[IOQ_WALK_LAYOUT_ITEM_PRUNE] = IOQ_WALK_ITEM_PRUNE,
		[IOQ_WALK_LAYOUT_ITEM_EXT] = IOQ_WALK_ITEM_EXT,
		[IOQ_WALK_LAYOUT_ITEM_GLOB] = IOQ_WALK_ITEM_GLOB,
		[IOQ_WALK_LAYOUT_ITEM_EXCLUDE] = IOQ_WALK_ITEM_EXCLUDE,
		[IOQ_WALK_LAYOUT_ITEM_BASE] = IOQ_WALK_ITEM_BASE,
		[IOQ_WALK_LAYOUT_ITEM_CASEFOLD] = IOQ_WALK_ITEM_CASEFOLD,
		[IOQ_WALK_LAYOUT_ITEM_EXTGLOB] = IOQ_WALK_ITEM_EXTGLOB,
		[IOQ_WALK_LAYOUT_ITEM_GLOBSTAR] = IOQ_WALK_ITEM_GLOBSTAR,
		[IOQ_WALK_LAYOUT_ITEM_DIRS] = IOQ_WALK_ITEM_DIRS,
		[IOQ_WALK_LAYOUT_REC_ERROR] = IOQ_WALK_REC_ERROR,
		[IOQ_WALK_LAYOUT_REC_APART] = IOQ_WALK_REC_APART,
		[IOQ_WALK_LAYOUT_REC_NOT_UTF8] = IOQ_WALK_REC_NOT_UTF8,
		[IOQ_WALK_LAYOUT_REC_ROOT] = IOQ_WALK_REC_ROOT,
		[IOQ_WALK_LAYOUT_REC_MOUNT] = IOQ_WALK_REC_MOUNT,
		[IOQ_WALK_LAYOUT_REC_FOLLOWED] = IOQ_WALK_REC_FOLLOWED,
		[IOQ_WALK_LAYOUT_REC_STAT] = IOQ_WALK_REC_STAT,
		[IOQ_WALK_LAYOUT_REC_NAME_APART] = IOQ_WALK_REC_NAME_APART,
		[IOQ_WALK_LAYOUT_BATCH_LAST] = IOQ_WALK_BATCH_LAST,
		[IOQ_WALK_LAYOUT_OP_OPENDIR] = IOQ_WALK_OP_OPENDIR,
		[IOQ_WALK_LAYOUT_OP_READDIR] = IOQ_WALK_OP_READDIR,
		[IOQ_WALK_LAYOUT_OP_STAT] = IOQ_WALK_OP_STAT,
		[IOQ_WALK_LAYOUT_OP_REALPATH] = IOQ_WALK_OP_REALPATH,
		[IOQ_WALK_LAYOUT_OP_LOOP] = IOQ_WALK_OP_LOOP,
		[IOQ_WALK_LAYOUT_OP_IGNORE] = IOQ_WALK_OP_IGNORE,
	};
	for (uint32_t i = 0; i < max && i < IOQ_WALK_LAYOUT_COUNT; ++i) {
		out[i] = words[i];
	}
	return IOQ_WALK_LAYOUT_COUNT;
}
