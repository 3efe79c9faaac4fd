// SPDX-License-Identifier: 0BSD
/**
 * walkdrive: running a walk through walk.h, and judging what it gives.
 *
 *  - the driver: runs a walk on an idle queue, answers gates, holds and
 *    gives back batches, cancels or destroys it when asked (on its thread
 *    or another), checks every batch as it comes (offsets, terminators,
 *    UTF-16 offsets, flags, names, depths, stats) and copies the records;
 *    the process holds as many descriptors afterwards as before;
 *  - the comparisons: as sets, as sequences, a part of a whole, and the
 *    promises of each order.
 *
 * Header-only, like harness.h.
 */

#ifndef IOQ_TEST_WALKDRIVE_H
#define IOQ_TEST_WALKDRIVE_H

#include "walkcheck.h"

/*
 * The driver.
 */

/** How the driver runs a walk. */
struct drive {
	/** Its own random choices (batches held, gate buffers, answer splits). */
	uint64_t seed;
	/** Cancel (ioq_walk_cancel()) once this many batches were taken (0: at once); -1: never. */
	int32_t cancel_after;
	/** Another thread cancels after this many microseconds; -1: never. */
	int32_t cancel_delay_us;
	/** Destroy the walk, without cancelling, once this many batches were taken; -1: never. */
	int32_t destroy_after;
	/** Keep every batch taken until the walk stops (it stalls: only for cancellations). */
	bool hold_all;
	/** The other thread cancels only once the owner holds every batch and waits (then after the delay). */
	bool cancel_when_stalled;
	/** Stop at the first gate question (destroyed with gates unanswered). */
	bool no_answers;
	/** Take every gate question at once and answer in one call, in order (else at random: a few or many, in one call or two, in either order). */
	bool one_answer;
	/** Answer a gate only once its directory's record has been taken, as a program deciding on the record does (the spec must report every directory). */
	bool answer_at_record;
	/** Give nothing back before destroying (after a cancellation or a stop). */
	bool keep_at_end;
	/** Another thread waits in ioq_walk_wait(); the owner only polls; ioq_walk_stop_waits() ends it. */
	bool waiter_thread;
	/** Another thread opens and closes descriptors meanwhile: the caller counts them. */
	bool no_fd_check;
};

/** A drive with nothing special. */
static inline struct drive drive_plain(uint64_t seed) {
	struct drive d = {.seed = seed, .cancel_after = -1, .cancel_delay_us = -1, .destroy_after = -1};
	return d;
}

/** What a walk gave. */
struct got {
	/** Every record, in order. */
	struct recs recs;
	/** The gated directories asked about (path, depth). */
	struct recs asked;
	/** The front text of every batch, in order: the printable stream. */
	struct bytes stream;
	/** Batches taken. */
	uint32_t batches;
	/** The walk ended (IOQ_WALK_END), or was cancelled (-EINTR seen). */
	bool ended, cancelled;
	/** The owner held every batch and waited when the walk was cancelled. */
	bool stalled;
	/** Error records seen, by op. */
	uint32_t errors[8];
	/** The counters, read before destroying. */
	double counters[IOQ_WALK_COUNTERS];
};

/** Free what a walk gave. */
static inline void got_free(struct got *g) {
	recs_free(&g->recs);
	recs_free(&g->asked);
	bytes_free(&g->stream);
}

/** A thread that cancels a walk after a delay (counted from the owner's stall, if asked). */
struct canceller {
	pthread_t thread;
	struct ioq_walk *w;
	int32_t delay_us;
	atomic_bool *requested;
	bool when_stalled;
	atomic_bool *stalled;
	/** Set by the owner once it stopped taking batches. */
	atomic_bool over;
};

/** The canceller's thread: wait (for the stall, if asked, then the delay), cancel. */
static inline void *canceller_main(void *arg) {
	struct canceller *c = arg;
	int64_t give_up = now_ns() + 20LL * 1000000000;
	while (c->when_stalled && !atomic_load(c->stalled) && !atomic_load(&c->over) && now_ns() < give_up) {
		sleep_us(200);
	}
	sleep_us(c->delay_us);
	atomic_store(c->requested, true);
	ioq_walk_cancel(c->w);
	return NULL;
}

/** A thread that waits on a walk for the owner, until ioq_walk_stop_waits(). */
struct waiter {
	pthread_t thread;
	struct ioq_walk *w;
	uint32_t wakes;
	int32_t last;
};

/** The waiter's thread: wait again and again; only -ECANCELED ends it. */
static inline void *waiter_main(void *arg) {
	struct waiter *wt = arg;
	while (true) {
		int32_t r = ioq_walk_wait(wt->w, 200000);
		wt->last = r;
		if (r == -ECANCELED) {
			return NULL;
		}
		if (r != 0 && r != 1) {
			fail("ioq_walk_wait() on another thread = %d", r);
		}
		if (r == 1) {
			++wt->wakes;
			sleep_us(50);
		}
	}
}

/** A hash of a batch's records and text, to see that nobody writes a batch the owner holds. */
static inline uint64_t batch_hash(const struct ioq_walk_batch *b) {
	uint64_t h = 0x84222325cbf29ce4ULL;
	const uint8_t *parts[3] = {(const uint8_t *)b->recs, b->text, b->text + b->cap - b->back};
	size_t lens[3] = {b->count * sizeof(*b->recs), b->front, b->back};
	for (int p = 0; p < 3; ++p) {
		for (size_t i = 0; i < lens[p]; ++i) {
			h = (h ^ parts[p][i]) * 0x100000001b3ULL;
		}
	}
	return h ^ b->count ^ ((uint64_t)b->flags << 40);
}

/**
 * Check a batch as the ABI describes it and copy its records into `g`:
 * front paths one after another, each with its terminator; paths kept
 * apart within the back; UTF-16 offsets as a TextDecoder would give over
 * the front text; names, flags, ops; stats where asked.
 */
static inline void batch_take(const struct wspec *s, const struct ioq_walk_batch *b, const struct bytes *prefix, struct got *g) {
	uint8_t term = (uint8_t)s->cfg.terminator;
	if (b->count > b->rec_cap || (uint64_t)b->front + b->back > b->cap) {
		fail("batch: %u records (room %u), %u + %u bytes of text (room %u)", b->count, b->rec_cap, b->front, b->back, b->cap);
	}
	if ((s->cfg.flags & IOQ_WALK_STAT) ? !b->stats : false) {
		fail("batch without stats for a walk that stats");
	}
	uint32_t *at16 = wc_alloc(((size_t)b->front + 1) * sizeof(*at16));
	utf16_map(b->text, b->front, at16);
	if (b->front16 != at16[b->front]) {
		fail("batch: front16 %u, the front text decodes to %u UTF-16 units", b->front16, at16[b->front]);
	}
	bytes_add(&g->stream, b->text, b->front);

	uint32_t front = 0, reported = 0;
	for (uint32_t i = 0; i < b->count; ++i) {
		const struct ioq_walk_rec *x = &b->recs[i];
		const uint8_t *path = b->text + x->off;
		bool apart = x->flags & IOQ_WALK_REC_APART;
		bool error = x->flags & IOQ_WALK_REC_ERROR;
		if ((uint64_t)x->off + x->len + 1 > b->cap) {
			fail("record %u: path at %u, %u bytes, past the text (%u)", i, x->off, x->len, b->cap);
		}
		if (apart != error) {
			fail("record %u (%s): flags 0x%x: an error is kept apart, and only an error", i, show_bytes((const char *)path, x->len), x->flags);
		}
		if (x->flags & ~(uint32_t)(IOQ_WALK_REC_ERROR | IOQ_WALK_REC_APART | IOQ_WALK_REC_NOT_UTF8 | IOQ_WALK_REC_ROOT | IOQ_WALK_REC_FOLLOWED | IOQ_WALK_REC_STAT)) {
			fail("record %u (%s): flags 0x%x: a flag this walk cannot give", i, show_bytes((const char *)path, x->len), x->flags);
		}
		if (x->pad != 0 || (x->aux != 0 && x->op != IOQ_WALK_OP_LOOP)) {
			fail("record %u (%s): pad %u, aux %u", i, show_bytes((const char *)path, x->len), x->pad, x->aux);
		}
		if (apart) {
			if (x->off < b->cap - b->back) {
				fail("record %u (%s): kept apart at %u, below the back text (%u)", i, show_bytes((const char *)path, x->len), x->off, b->cap - b->back);
			}
		} else {
			++reported;
			if (x->off != front) {
				fail("record %u (%s): at %u, the front text was at %u", i, show_bytes((const char *)path, x->len), x->off, front);
			}
			front += x->len + 1;
			if (front > b->front) {
				fail("record %u: past the front text (%u)", i, b->front);
			}
			uint32_t o16 = at16[x->off], e16 = at16[x->off + x->len], n16 = x->name <= x->len ? at16[x->off + x->name] : UINT32_MAX;
			if (x->off16 != o16 || x->len16 != e16 - o16 || x->name16 != n16 - o16) {
				fail("record %u (%s): off16 %u len16 %u name16 %u, decoding gives %u %u %u", i, show_bytes((const char *)path, x->len), x->off16, x->len16, x->name16, o16, e16 - o16, n16 - o16);
			}
		}
		if (path[x->len] != term) {
			fail("record %u (%s): followed by byte %u, not the terminator %u", i, show_bytes((const char *)path, x->len), path[x->len], term);
		}
		if (memchr(path, 0, x->len)) {
			fail("record %u: a NUL inside the path", i);
		}
		bool valid;
		utf16_len(path, x->len, &valid);
		if (valid == !!(x->flags & IOQ_WALK_REC_NOT_UTF8)) {
			fail("record %u (%s): NOT_UTF8 is %d, the path is %svalid UTF-8", i, show_bytes((const char *)path, x->len), !!(x->flags & IOQ_WALK_REC_NOT_UTF8), valid ? "" : "not ");
		}
		if (error ? (x->err <= 0 || x->op < IOQ_WALK_OP_OPENDIR || x->op > IOQ_WALK_OP_LOOP) : (x->err != 0 || x->op != 0)) {
			fail("record %u (%s): flags 0x%x, err %d, op %u", i, show_bytes((const char *)path, x->len), x->flags, x->err, x->op);
		}
		if (x->type > DT_WHT) {
			fail("record %u (%s): type %u", i, show_bytes((const char *)path, x->len), x->type);
		}
		if (!!(x->flags & IOQ_WALK_REC_STAT) != (!error && (s->cfg.flags & IOQ_WALK_STAT))) {
			fail("record %u (%s): flags 0x%x: a stat comes with every entry of a walk that stats, and only then", i, show_bytes((const char *)path, x->len), x->flags);
		}

		// The name and the depth, from the path
		uint32_t name;
		if (x->flags & IOQ_WALK_REC_ROOT) {
			name = root_name_off((const char *)path, x->len, NULL);
			if (x->depth != 0) {
				fail("record %u (%s): the root at depth %u", i, show_bytes((const char *)path, x->len), x->depth);
			}
		} else {
			name = x->len;
			while (name > 0 && path[name - 1] != '/') {
				--name;
			}
			if (x->len < prefix->len || memcmp(path, prefix->data, prefix->len) != 0) {
				fail("record %u (%s): not under the root's prefix %s", i, show_bytes((const char *)path, x->len), show_bytes(prefix->data, prefix->len));
			}
			uint32_t depth = 1;
			for (uint32_t k = (uint32_t)prefix->len; k < x->len; ++k) {
				depth += path[k] == '/';
			}
			if (x->depth != depth || name == x->len) {
				fail("record %u (%s): depth %u, the path says %u", i, show_bytes((const char *)path, x->len), x->depth, depth);
			}
		}
		if (x->name != name) {
			fail("record %u (%s): name at %u, expected %u", i, show_bytes((const char *)path, x->len), x->name, name);
		}

		struct rec r;
		memset(&r, 0, sizeof(r));
		r.path = wc_dup(path, x->len);
		r.len = x->len;
		r.name = x->name;
		r.depth = x->depth;
		r.err = x->err;
		r.type = x->type;
		r.flags = x->flags;
		r.op = x->op;
		r.aux = x->aux;
		if (x->flags & IOQ_WALK_REC_STAT) {
			r.ino = b->stats[i].stx_ino;
			r.mode = b->stats[i].stx_mode;
			if (IFTODT(r.mode) != x->type) {
				// Even when the name was replaced between the listing and
				// the stat: the record's type is then the stat's
				fail("record %u (%s): type %u, its stat's mode 0%o", i, show_bytes((const char *)path, x->len), x->type, r.mode);
			}
		}
		if (error) {
			++g->errors[x->op & 7];
		}
		recs_push(&g->recs, r);
	}
	if (front != b->front || reported != b->reported) {
		fail("batch: front %u (records say %u), reported %u (records say %u)", b->front, front, b->reported, reported);
	}
	free(at16);
}

/** Gates asked about whose directory's record has not come yet (drive::answer_at_record). */
struct pending {
	uint32_t *ids;
	uint8_t *enter;
	/** The directories' paths (owned). */
	char **paths;
	uint32_t *lens;
	uint32_t n, cap;
};

/** Answer the pending gates whose directory is among records [from, g->recs.n). */
static inline void pending_settle(struct ioq_walk *w, struct pending *p, const struct got *g, size_t from) {
	for (uint32_t i = 0; i < p->n;) {
		bool seen = false;
		for (size_t j = from; j < g->recs.n && !seen; ++j) {
			const struct rec *r = &g->recs.v[j];
			seen = r->len == p->lens[i] && memcmp(r->path, p->paths[i], r->len) == 0;
		}
		if (!seen) {
			++i;
			continue;
		}
		int32_t ret = ioq_walk_decide(w, &p->ids[i], &p->enter[i], 1);
		if (ret != 0) {
			fail("ioq_walk_decide() at the record of %s = %d", show_bytes(p->paths[i], p->lens[i]), ret);
		}
		free(p->paths[i]);
		--p->n;
		p->ids[i] = p->ids[p->n];
		p->enter[i] = p->enter[p->n];
		p->paths[i] = p->paths[p->n];
		p->lens[i] = p->lens[p->n];
	}
}

/** Hold a gate until its directory's record comes. */
static inline void pending_push(struct pending *p, uint32_t id, uint8_t enter, const char *path, uint32_t len) {
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 16;
		p->ids = wc_realloc(p->ids, p->cap * sizeof(*p->ids));
		p->enter = wc_realloc(p->enter, p->cap);
		p->paths = wc_realloc(p->paths, p->cap * sizeof(*p->paths));
		p->lens = wc_realloc(p->lens, p->cap * sizeof(*p->lens));
	}
	p->ids[p->n] = id;
	p->enter[p->n] = enter;
	p->paths[p->n] = wc_dup(path, len);
	p->lens[p->n] = len;
	++p->n;
}

/** Free what is held (gates left unanswered die with the walk). */
static inline void pending_free(struct pending *p) {
	for (uint32_t i = 0; i < p->n; ++i) {
		free(p->paths[i]);
	}
	free(p->ids);
	free(p->enter);
	free(p->paths);
	free(p->lens);
	memset(p, 0, sizeof(*p));
}

/**
 * Answer the gated directories the walk asks about, now, or (with `p`)
 * once their records have come (those that have come are answered now).
 */
static inline void drive_answer(struct ioq_walk *w, const struct wspec *s, bool one, struct rng *rng, struct got *g, struct pending *p) {
	// Room for a few paths or many, for one directory or many
	uint32_t cap = one ? 1u << 16 : 16u << rng_below(rng, 8);
	uint32_t max = 3 * (one ? 256 : 1 + (uint32_t)rng_below(rng, 24));
	uint8_t *text = wc_alloc(cap);
	uint32_t *meta = wc_alloc(max * sizeof(*meta));
	int32_t n;
	while ((n = ioq_walk_asked(w, text, cap, meta, max)) == -EINVAL) {
		// Not even one path fits: a bigger buffer
		if (cap >= (1u << 24)) {
			fail("ioq_walk_asked() = -EINVAL with %u bytes of room", cap);
		}
		cap *= 4;
		text = wc_realloc(text, cap);
	}
	if (n <= 0) {
		fail("ioq_walk_asked() = %d after IOQ_WALK_ASK", n);
	}
	if ((uint32_t)n * 3 > max) {
		fail("ioq_walk_asked() = %d with room for %u", n, max / 3);
	}
	// Asked again before the answers: only directories not asked about yet
	// (each is asked about once), with ids of their own
	uint8_t *text2 = wc_alloc(cap);
	uint32_t *meta2 = wc_alloc(max * sizeof(*meta2));
	int32_t again = ioq_walk_asked(w, text2, cap, meta2, max);
	if (again < 0 && again != -EINVAL) {
		fail("ioq_walk_asked() before the answers = %d", again);
	}
	for (int32_t j = 0; j < again; ++j) {
		for (int32_t i = 0; i < n; ++i) {
			if (meta2[3 * j] == meta[3 * i]) {
				fail("ioq_walk_asked() gave id %u again before it was answered", meta[3 * i]);
			}
		}
	}
	if (again > 0) {
		// Answered with the others: one list of both
		uint32_t used = 0;
		for (int32_t i = 0; i < n; ++i) {
			used += meta[3 * i + 1] + 1;
		}
		uint32_t used2 = 0;
		for (int32_t j = 0; j < again; ++j) {
			used2 += meta2[3 * j + 1] + 1;
		}
		text = wc_realloc(text, used + used2);
		memcpy(text + used, text2, used2);
		cap = used + used2;
		meta = wc_realloc(meta, (size_t)(n + again) * 3 * sizeof(*meta));
		memcpy(meta + 3 * n, meta2, (size_t)again * 3 * sizeof(*meta));
		n += again;
	}
	free(text2);
	free(meta2);
	uint32_t *ids = wc_alloc((size_t)n * sizeof(*ids));
	uint8_t *enter = wc_alloc((size_t)n);
	uint32_t pos = 0;
	for (int32_t i = 0; i < n; ++i) {
		uint32_t len = meta[3 * i + 1];
		if ((uint64_t)pos + len + 1 > cap || text[pos + len] != (uint8_t)s->cfg.terminator) {
			fail("ioq_walk_asked(): path %d (%u bytes at %u) not followed by the terminator", i, len, pos);
		}
		struct rec r;
		memset(&r, 0, sizeof(r));
		r.path = wc_dup(text + pos, len);
		r.len = len;
		r.depth = meta[3 * i + 2];
		ids[i] = meta[3 * i];
		enter[i] = gate_enters(s, r.path, r.len);
		recs_push(&g->asked, r);
		if (p) {
			pending_push(p, ids[i], enter[i], r.path, r.len);
		}
		pos += len + 1;
	}
	if (p) {
		pending_settle(w, p, g, 0);
		free(ids);
		free(enter);
		free(text);
		free(meta);
		return;
	}
	// The answers in one call or in two, in either order
	uint32_t split = one ? (uint32_t)n : (uint32_t)rng_below(rng, (uint64_t)n + 1);
	bool swap = !one && rng_below(rng, 2);
	uint32_t from[2] = {swap ? split : 0, swap ? 0 : split};
	uint32_t count[2] = {swap ? (uint32_t)n - split : split, swap ? split : (uint32_t)n - split};
	for (int k = 0; k < 2; ++k) {
		if (count[k] == 0) {
			continue;
		}
		int32_t r = ioq_walk_decide(w, ids + from[k], enter + from[k], count[k]);
		if (r != 0) {
			fail("ioq_walk_decide() = %d", r);
		}
	}
	// An id answered already is refused
	int32_t r = ioq_walk_decide(w, ids, enter, 1);
	if (r != -EINVAL) {
		fail("ioq_walk_decide() of an answered id = %d, expected -EINVAL", r);
	}
	free(ids);
	free(enter);
	free(text);
	free(meta);
}

/**
 * Run a walk on an idle queue as `d` says, checking every batch, into `g`;
 * the process holds as many descriptors afterwards as before.
 */
static inline void walk_drive(struct ioq *q, const struct wspec *s, const struct drive *d, struct got *g) {
	memset(g, 0, sizeof(*g));
	struct rng rng;
	rng_seed(&rng, d->seed);
	struct bytes blob = {0}, sroot = {0}, prefix = {0};
	spec_blob(s, &blob);
	spec_shown(s, &sroot, &prefix);
	int fds = count_fds();

	int32_t err = 1;
	struct ioq_walk *w = ioq_walk_create(q, &s->cfg, (const uint8_t *)blob.data, (uint32_t)blob.len, &err);
	if (!w || err != 0) {
		fail("ioq_walk_create: %s", strerror(-err));
	}
	// While it runs, the queue is the walk's
	int32_t busy = ioq_nop(q, 1);
	if (busy != -EBUSY) {
		fail("ioq_nop() during a walk = %d, expected -EBUSY", busy);
	}
	err = 1;
	if (ioq_walk_create(q, &s->cfg, (const uint8_t *)blob.data, (uint32_t)blob.len, &err) || err != -EBUSY) {
		fail("a second ioq_walk_create() on the queue: err %d, expected -EBUSY", err);
	}

	atomic_bool requested = false;
	if (d->cancel_after == 0) {
		atomic_store(&requested, true);
		ioq_walk_cancel(w);
	}
	atomic_bool stalled = false;
	struct canceller canceller = {.w = w, .delay_us = d->cancel_delay_us, .requested = &requested, .when_stalled = d->cancel_when_stalled, .stalled = &stalled};
	if (d->cancel_delay_us >= 0) {
		start_thread(&canceller.thread, canceller_main, &canceller);
	}
	struct waiter waiter = {.w = w};
	if (d->waiter_thread) {
		start_thread(&waiter.thread, waiter_main, &waiter);
	}

	uint32_t nb = ioq_walk_batch_count(w);
	struct ioq_walk_batch *batches = ioq_walk_batches(w);
	if (nb < 2 || !batches) {
		fail("ioq_walk_batch_count() = %u", nb);
	}
	uint32_t *held = wc_alloc(nb * sizeof(*held));
	uint64_t *hashes = wc_alloc(nb * sizeof(*hashes));
	uint32_t nheld = 0;
	bool last = false, ready = false;
	struct pending pending = {0};
	/** Waits in a row that timed out while gates were held. */
	uint32_t idle_waits = 0;
	while (true) {
		if (d->destroy_after >= 0 && g->batches >= (uint32_t)d->destroy_after) {
			break;
		}
		int32_t r = ioq_walk_next(w);
		if (r == IOQ_WALK_NONE) {
			if (ready) {
				fail("ioq_walk_next() = IOQ_WALK_NONE after ioq_walk_wait() said something was ready");
			}
			if (d->waiter_thread) {
				sleep_us(30);
				continue;
			}
			if (nheld == nb) {
				atomic_store(&stalled, true);
			}
			int32_t wr = ioq_walk_wait(w, WC_WAIT_US);
			if (wr != 0 && wr != 1) {
				fail("ioq_walk_wait() = %d", wr);
			}
			ready = wr == 1;
			if (wr == 0 && pending.n > 0 && ++idle_waits == 15) {
				fail("gates answered at their records: no batch for %u s, %u gates held (first %s)", 15 * WC_WAIT_US / 1000000, pending.n, show_bytes(pending.paths[0], pending.lens[0]));
			}
			continue;
		}
		ready = false;
		if (r == -EINTR) {
			if (!atomic_load(&requested)) {
				fail("ioq_walk_next() = -EINTR, but nobody cancelled");
			}
			if (ioq_walk_next(w) != -EINTR || ioq_walk_wait(w, 0) != 1) {
				fail("after a cancellation, ioq_walk_next() must keep saying -EINTR and ioq_walk_wait() 1");
			}
			g->cancelled = true;
			g->stalled = atomic_load(&stalled);
			break;
		}
		if (r == IOQ_WALK_END) {
			if (!last) {
				fail("IOQ_WALK_END before a batch marked IOQ_WALK_BATCH_LAST");
			}
			if (ioq_walk_next(w) != IOQ_WALK_END && !atomic_load(&requested)) {
				fail("ioq_walk_next() after IOQ_WALK_END must say it again");
			}
			g->ended = true;
			break;
		}
		if (r == IOQ_WALK_ASK) {
			if (!(s->cfg.flags & IOQ_WALK_GATE)) {
				fail("IOQ_WALK_ASK from a walk without gates");
			}
			if (d->no_answers) {
				break;
			}
			drive_answer(w, s, d->one_answer, &rng, g, d->answer_at_record ? &pending : NULL);
			continue;
		}
		if (r < 0 || (uint32_t)r >= nb) {
			fail("ioq_walk_next() = %d (%u batches)", r, nb);
		}
		if (last) {
			fail("a batch after the one marked IOQ_WALK_BATCH_LAST");
		}
		for (uint32_t i = 0; i < nheld; ++i) {
			if (held[i] == (uint32_t)r) {
				fail("ioq_walk_next() gave batch %d, which the owner still holds", r);
			}
		}
		struct ioq_walk_batch *b = &batches[r];
		size_t before = g->recs.n;
		batch_take(s, b, &prefix, g);
		pending_settle(w, &pending, g, before);
		idle_waits = 0;
		last = b->flags & IOQ_WALK_BATCH_LAST;
		++g->batches;
		hashes[nheld] = batch_hash(b);
		held[nheld++] = (uint32_t)r;

		// Give back all but a few (all of them would stall the walk), oldest first
		uint32_t keep = d->hold_all ? nb : (uint32_t)rng_below(&rng, nb);
		while (nheld > keep) {
			if (batch_hash(&batches[held[0]]) != hashes[0]) {
				fail("batch %u changed while the owner held it", held[0]);
			}
			ioq_walk_release(w, held[0]);
			if (rng_below(&rng, 8) == 0) {
				// Released twice: ignored
				ioq_walk_release(w, held[0]);
			}
			--nheld;
			memmove(held, held + 1, nheld * sizeof(*held));
			memmove(hashes, hashes + 1, nheld * sizeof(*hashes));
		}
		if (d->cancel_after >= 0 && g->batches == (uint32_t)d->cancel_after) {
			atomic_store(&requested, true);
			ioq_walk_cancel(w);
		}
	}
	for (uint32_t i = 0; i < nheld; ++i) {
		if (batch_hash(&batches[held[i]]) != hashes[i]) {
			fail("batch %u changed while the owner held it", held[i]);
		}
	}
	if (!d->keep_at_end) {
		for (uint32_t i = 0; i < nheld; ++i) {
			ioq_walk_release(w, held[i]);
		}
	}
	if (d->cancel_delay_us >= 0) {
		atomic_store(&canceller.over, true);
		pthread_join(canceller.thread, NULL);
	}
	if (d->waiter_thread) {
		ioq_walk_stop_waits(w);
		pthread_join(waiter.thread, NULL);
		if (waiter.last != -ECANCELED) {
			fail("the waiting thread left with %d, expected -ECANCELED", waiter.last);
		}
	}
	// Read while workers may still run (cancelled): the counters are atomic
	ioq_walk_counters(w, g->counters, IOQ_WALK_COUNTERS);
	if (g->ended && !atomic_load(&requested)) {
		if (g->counters[IOQ_WALK_COUNT_RECORDS] != (double)g->recs.n || g->counters[IOQ_WALK_COUNT_BATCHES] != (double)g->batches) {
			fail("counters: %.0f records in %.0f batches, the owner took %zu in %u", g->counters[IOQ_WALK_COUNT_RECORDS], g->counters[IOQ_WALK_COUNT_BATCHES], g->recs.n, g->batches);
		}
	}
	ioq_walk_destroy(w);
	int after = count_fds();
	if (after != fds && !d->no_fd_check) {
		fail("%d descriptors open before the walk, %d after ioq_walk_destroy()", fds, after);
	}
	pending_free(&pending);
	free(held);
	free(hashes);
	bytes_free(&blob);
	bytes_free(&sroot);
	bytes_free(&prefix);
}

/*
 * Comparisons.
 */

/** Sort a copy of a list's records (sharing their paths). */
static inline struct rec *recs_sorted(const struct recs *l) {
	struct rec *v = wc_alloc((l->n ? l->n : 1) * sizeof(*v));
	if (l->n) {
		memcpy(v, l->v, l->n * sizeof(*v));
	}
	qsort(v, l->n, sizeof(*v), rec_cmp);
	return v;
}

/** Fail on the first difference between two sorted arrays of records. */
static inline void recs_diff(const char *what, const struct rec *got, size_t ngot, const struct rec *want, size_t nwant, bool seq) {
	size_t i = 0, j = 0;
	while (i < ngot || j < nwant) {
		if (i < ngot && j < nwant && rec_same(&got[i], &want[j])) {
			++i;
			++j;
			continue;
		}
		int c = i == ngot ? 1 : j == nwant ? -1 : rec_cmp(&got[i], &want[j]);
		if (seq || c == 0) {
			fail("%s: record %zu is %s, expected %s (%zu records, %zu expected)", what, i, i < ngot ? rec_text(&got[i]) : "missing", j < nwant ? rec_text(&want[j]) : "none", ngot, nwant);
		}
		if (c < 0) {
			fail("%s: an extra record %s (%zu records, %zu expected)", what, rec_text(&got[i]), ngot, nwant);
		}
		fail("%s: a missing record %s (%zu records, %zu expected)", what, rec_text(&want[j]), ngot, nwant);
	}
}

/** The same records, in any order. */
static inline void recs_same_set(const char *what, const struct recs *got, const struct recs *want) {
	struct rec *a = recs_sorted(got), *b = recs_sorted(want);
	recs_diff(what, a, got->n, b, want->n, false);
	free(a);
	free(b);
}

/** The same records, in the same order. */
static inline void recs_same_seq(const char *what, const struct recs *got, const struct recs *want) {
	recs_diff(what, got->v, got->n, want->v, want->n, true);
}

/** Every record of `part` is one of `all` (a walk stopped early). */
static inline void recs_subset(const char *what, const struct recs *part, const struct recs *all) {
	struct rec *a = recs_sorted(part), *b = recs_sorted(all);
	size_t j = 0;
	for (size_t i = 0; i < part->n; ++i) {
		while (j < all->n && rec_cmp(&b[j], &a[i]) < 0) {
			++j;
		}
		if (j == all->n || !rec_same(&a[i], &b[j])) {
			fail("%s: record %s is not one a whole walk gives", what, rec_text(&a[i]));
		}
		++j;
	}
	free(a);
	free(b);
}

/**
 * The order's promises (walk.h): breadth-first, depths never go down; each
 * directory's record before everything below it (breadth-first), right
 * before it (depth-first), or right after (post-order); depth-first and
 * post-order, everything below a directory in one run.  An error for a directory itself (it could not be
 * opened) counts as below it.
 */
static inline void check_order(const char *what, const struct wspec *s, const struct recs *l) {
	struct rec *v = recs_sorted(l);
	uint32_t *pos = wc_alloc((l->n ? l->n : 1) * sizeof(*pos));
	uint32_t last_depth = 0;
	for (size_t i = 0; i < l->n; ++i) {
		const struct rec *r = &l->v[i];
		if (s->cfg.order == IOQ_WALK_BFS && !(r->flags & IOQ_WALK_REC_ERROR)) {
			if (r->depth < last_depth) {
				fail("%s: breadth-first, %s at depth %u after depth %u", what, rec_text(r), r->depth, last_depth);
			}
			last_depth = r->depth;
		}
	}
	for (size_t i = 0; i < l->n; ++i) {
		const struct rec *d = &l->v[i];
		if (d->type != DT_DIR || (d->flags & IOQ_WALK_REC_ERROR)) {
			continue;
		}
		bool root = d->flags & IOQ_WALK_REC_ROOT;
		// Everything below: paths starting with its path and a slash (below the root: every other record)
		size_t n = 0;
		for (size_t k = 0; k < l->n; ++k) {
			const struct rec *x = &v[k];
			bool below;
			if (root) {
				below = !(x->flags & IOQ_WALK_REC_ROOT) || ((x->flags & IOQ_WALK_REC_ERROR) && x->op != IOQ_WALK_OP_STAT);
			} else {
				below = (x->len > d->len && memcmp(x->path, d->path, d->len) == 0 && x->path[d->len] == '/') || (x->len == d->len && (x->flags & IOQ_WALK_REC_ERROR) && x->op != IOQ_WALK_OP_LOOP && x->op != IOQ_WALK_OP_STAT && memcmp(x->path, d->path, d->len) == 0);
			}
			if (below) {
				pos[n++] = x->seq;
			}
		}
		if (n == 0) {
			continue;
		}
		uint32_t lo = UINT32_MAX, hi = 0;
		for (size_t k = 0; k < n; ++k) {
			lo = pos[k] < lo ? pos[k] : lo;
			hi = pos[k] > hi ? pos[k] : hi;
		}
		if (s->cfg.order != IOQ_WALK_POST && lo < d->seq) {
			fail("%s: %s comes before its directory %s", what, rec_text(&l->v[lo]), rec_text(d));
		}
		if (s->cfg.order == IOQ_WALK_DFS && lo != d->seq + 1) {
			fail("%s: depth-first, %s is not right before what is below it (%u to %u, it at %u)", what, rec_text(d), lo, hi, d->seq);
		}
		if (s->cfg.order != IOQ_WALK_BFS && hi - lo + 1 != n) {
			fail("%s: what is below %s is not in one run (%zu records from %u to %u)", what, rec_text(d), n, lo, hi);
		}
		if (s->cfg.order == IOQ_WALK_POST && hi + 1 != d->seq) {
			fail("%s: post-order, %s is not right after what is below it (%u to %u, it at %u)", what, rec_text(d), lo, hi, d->seq);
		}
	}
	free(pos);
	free(v);
}

#endif // IOQ_TEST_WALKDRIVE_H
