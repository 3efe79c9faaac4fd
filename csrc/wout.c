// SPDX-License-Identifier: 0BSD
/** wout: building records, emitting chunks into batches, and the owner's side of batches. */

#define _GNU_SOURCE
#include "wout.h"
#include "utf8.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/** Batches a walk cycles through. */
#define WOUT_BATCHES 4
/** Text bytes a batch starts with (it grows for a path that does not fit). */
#define WOUT_TEXT_CAP (256 * 1024)
/** Publish a batch once this much text is used. */
#define WOUT_TEXT_FILL (128 * 1024)
/** Records per batch, without and with stats. */
#define WOUT_RECS 4096
#define WOUT_RECS_STAT 1024
/**
 * A batch that has waited this long (ns) is published early when the owner
 * is waiting: soon enough when directories are slow to read (a cold cache),
 * rarely enough that a fast walk still hands over big batches (each handover
 * costs the owner's thread tens of microseconds in a Deno wait: at 0.2 ms a
 * warm walk gave batches of 190 records, at 1 ms a fourth as many handovers).
 */
#ifndef WOUT_AGE_NS
#define WOUT_AGE_NS 1000000
#endif

/** The monotonic clock in nanoseconds. */
static int64_t wout_now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void wbuild_init(struct wbuild *b, bool with_stats, uint8_t terminator) {
	memset(b, 0, sizeof(*b));
	b->with_stats = with_stats;
	b->terminator = terminator;
}

void wbuild_free(struct wbuild *b) {
	free(b->recs);
	free(b->stats);
	wbytes_free(&b->text);
	wbytes_free(&b->apart);
	memset(b, 0, sizeof(*b));
}

/** Room for one more record.  @return The record, zeroed, or NULL. */
static struct ioq_walk_rec *wbuild_next(struct wbuild *b) {
	if (b->count == b->cap) {
		uint32_t cap = b->cap ? b->cap * 2 : 64;
		struct ioq_walk_rec *recs = realloc(b->recs, cap * sizeof(*recs));
		if (!recs) {
			return NULL;
		}
		b->recs = recs;
		if (b->with_stats) {
			struct statx *stats = realloc(b->stats, cap * sizeof(*stats));
			if (!stats) {
				return NULL;
			}
			b->stats = stats;
		}
		b->cap = cap;
	}
	struct ioq_walk_rec *rec = &b->recs[b->count];
	memset(rec, 0, sizeof(*rec));
	return rec;
}

struct ioq_walk_rec *wbuild_add(struct wbuild *b, bool apart, const uint8_t *prefix, uint32_t plen, uint32_t prefix16, bool prefix_utf8, const char *name, uint32_t nlen) {
	struct ioq_walk_rec *rec = wbuild_next(b);
	struct wbytes *text = apart ? &b->apart : &b->text;
	if (!rec || wbytes_reserve(text, (size_t)plen + nlen + 1) != 0) {
		return NULL;
	}
	rec->off = (uint32_t)text->len;
	rec->len = plen + nlen;
	rec->name = plen;
	if (plen) {
		memcpy(text->data + text->len, prefix, plen);
	}
	memcpy(text->data + text->len + plen, name, nlen);
	text->data[text->len + plen + nlen] = b->terminator;
	text->len += (size_t)plen + nlen + 1;

	bool valid = prefix_utf8;
	uint32_t name16 = utf8_len16((const uint8_t *)name, nlen, &valid);
	if (!valid) {
		rec->flags |= IOQ_WALK_REC_NOT_UTF8;
	}
	if (apart) {
		rec->flags |= IOQ_WALK_REC_APART;
	} else {
		rec->off16 = b->front16;
		rec->len16 = prefix16 + name16;
		rec->name16 = prefix16;
		b->front16 += rec->len16 + 1;
	}
	++b->count;
	return rec;
}

struct ioq_walk_rec *wbuild_add_path(struct wbuild *b, bool apart, const uint8_t *path, uint32_t len, uint32_t name_off) {
	bool valid = true;
	uint32_t prefix16 = utf8_len16(path, name_off, &valid);
	return wbuild_add(b, apart, path, name_off, prefix16, valid, (const char *)path + name_off, len - name_off);
}

int wbuild_name_apart(struct wbuild *b, const char *name, uint32_t len) {
	struct ioq_walk_rec *rec = &b->recs[b->count - 1];
	if (wbytes_reserve(&b->apart, (size_t)len + 1) != 0) {
		return -ENOMEM;
	}
	rec->name = (uint32_t)b->apart.len;
	rec->aux = len;
	memcpy(b->apart.data + b->apart.len, name, len);
	b->apart.data[b->apart.len + len] = b->terminator;
	b->apart.len += (size_t)len + 1;
	rec->flags |= IOQ_WALK_REC_NAME_APART;
	bool valid = true;
	utf8_len16((const uint8_t *)name, len, &valid);
	if (!valid) {
		rec->flags |= IOQ_WALK_REC_NOT_UTF8;
	}
	return 0;
}

struct statx *wbuild_stat(struct wbuild *b) {
	b->recs[b->count - 1].flags |= IOQ_WALK_REC_STAT;
	return &b->stats[b->count - 1];
}

void wbuild_drop_last(struct wbuild *b) {
	struct ioq_walk_rec *rec = &b->recs[--b->count];
	if (rec->flags & IOQ_WALK_REC_APART) {
		b->apart.len = rec->off;
	} else {
		b->text.len = rec->off;
		b->front16 = rec->off16;
	}
}

struct wchunk *wbuild_finish(struct wbuild *b, int *err) {
	*err = 0;
	if (b->count == 0) {
		b->text.len = b->apart.len = 0;
		b->front16 = 0;
		return NULL;
	}

	size_t recs = b->count * sizeof(struct ioq_walk_rec);
	size_t stats = b->with_stats ? b->count * sizeof(struct statx) : 0;
	size_t size = sizeof(struct wchunk) + stats + recs + b->text.len + b->apart.len;
	struct wchunk *c = malloc(size);
	if (!c) {
		*err = -ENOMEM;
		return NULL;
	}
	// The statx array first: it wants the strictest alignment
	char *p = (char *)(c + 1);
	c->stats = stats ? (struct statx *)p : NULL;
	p += stats;
	c->recs = (struct ioq_walk_rec *)p;
	p += recs;
	c->text = (uint8_t *)p;
	p += b->text.len;
	c->apart_text = (uint8_t *)p;

	c->count = b->count;
	c->front = (uint32_t)b->text.len;
	c->front16 = b->front16;
	c->apart = (uint32_t)b->apart.len;
	if (stats) {
		memcpy(c->stats, b->stats, stats);
	}
	memcpy(c->recs, b->recs, recs);
	if (b->text.len) {
		memcpy(c->text, b->text.data, b->text.len);
	}
	if (b->apart.len) {
		memcpy(c->apart_text, b->apart.data, b->apart.len);
	}

	b->count = 0;
	b->text.len = b->apart.len = 0;
	b->front16 = 0;
	return c;
}

uint64_t wchunk_size(const struct wchunk *c) {
	return c ? (uint64_t)c->count * sizeof(struct ioq_walk_rec) + c->front + c->apart : 0;
}

/** Allocate (or reallocate, when empty) a batch's buffers for `cap` text bytes. */
static int wout_alloc(struct ioq_walk *w, struct ioq_walk_batch *b, uint32_t cap) {
	uint8_t *text = realloc(b->text, cap);
	if (!text) {
		return -ENOMEM;
	}
	b->text = text;
	b->cap = cap;
	if (!b->recs) {
		uint32_t n = (w->cfg.flags & IOQ_WALK_STAT) ? WOUT_RECS_STAT : WOUT_RECS;
		b->recs = malloc(n * sizeof(*b->recs));
		if (!b->recs) {
			return -ENOMEM;
		}
		if (w->cfg.flags & IOQ_WALK_STAT) {
			b->stats = malloc(n * sizeof(*b->stats));
			if (!b->stats) {
				return -ENOMEM;
			}
		}
		b->rec_cap = n;
	}
	++b->gen;
	return 0;
}

int wout_init(struct ioq_walk *w) {
	struct wout *o = &w->out;
	pthread_mutex_init(&o->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&o->cond, &attr);
	pthread_condattr_destroy(&attr);

	o->nbatches = WOUT_BATCHES;
	o->cur = -1;
	o->batches = calloc(o->nbatches, sizeof(*o->batches));
	o->ready = calloc(o->nbatches, sizeof(*o->ready));
	o->free = calloc(o->nbatches, sizeof(*o->free));
	if (!o->batches || !o->ready || !o->free) {
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < o->nbatches; ++i) {
		int ret = wout_alloc(w, &o->batches[i], WOUT_TEXT_CAP);
		if (ret != 0) {
			return ret;
		}
		o->free[o->nfree++] = o->nbatches - 1 - i;
	}
	return 0;
}

void wout_destroy(struct ioq_walk *w) {
	struct wout *o = &w->out;
	if (o->batches) {
		for (uint32_t i = 0; i < o->nbatches; ++i) {
			free(o->batches[i].recs);
			free(o->batches[i].text);
			free(o->batches[i].stats);
		}
	}
	free(o->batches);
	free(o->ready);
	free(o->free);
	pthread_cond_destroy(&o->cond);
	pthread_mutex_destroy(&o->lock);
}

/** Hand the current batch to the owner.  Under the out lock. */
static void wout_publish(struct ioq_walk *w) {
	struct wout *o = &w->out;
	if (o->cur < 0) {
		return;
	}
	uint32_t slot = (o->ready_head + o->ready_len) % o->nbatches;
	o->ready[slot] = (uint32_t)o->cur;
	++o->ready_len;
	o->cur = -1;
	walk_count(w, IOQ_WALK_COUNT_BATCHES, 1);
	if (o->waiters) {
		pthread_cond_broadcast(&o->cond);
	}
}

/** Take a free batch as the current one, waiting for one.  Under the out lock. */
static int wout_take(struct ioq_walk *w) {
	struct wout *o = &w->out;
	while (o->nfree == 0) {
		if (walk_cancelled(w)) {
			return -EINTR;
		}
		o->starved = true;
		pthread_cond_wait(&o->cond, &o->lock);
	}
	o->starved = false;
	int32_t i = (int32_t)o->free[--o->nfree];
	struct ioq_walk_batch *b = &o->batches[i];
	b->count = b->front = b->front16 = b->reported = b->flags = 0;
	b->back = 0;
	o->cur = i;
	o->cur_since = wout_now();
	return 0;
}

/**
 * Make room in the current batch for one record of `text` bytes: publish
 * it if full, take a new one, grow an empty one that is too small.
 * Under the out lock.
 */
static int wout_room(struct ioq_walk *w, uint32_t text) {
	struct wout *o = &w->out;
	for (;;) {
		if (o->cur < 0) {
			int ret = wout_take(w);
			if (ret != 0) {
				return ret;
			}
		}
		struct ioq_walk_batch *b = &o->batches[o->cur];
		if (b->count < b->rec_cap && (uint64_t)b->front + b->back + text <= b->cap) {
			return 0;
		}
		if (b->count == 0) {
			// A path longer than a whole batch: grow this one
			uint64_t cap = (uint64_t)b->cap * 2;
			while (cap < text) {
				cap *= 2;
			}
			if (cap > UINT32_MAX) {
				return -ENAMETOOLONG;
			}
			int ret = wout_alloc(w, b, (uint32_t)cap);
			if (ret != 0) {
				return ret;
			}
			continue;
		}
		wout_publish(w);
	}
}

/** Copy record `i` of a chunk into the current batch (room made). */
static void wout_copy(struct ioq_walk *w, const struct wchunk *c, uint32_t i) {
	struct ioq_walk_batch *b = &w->out.batches[w->out.cur];
	const struct ioq_walk_rec *src = &c->recs[i];
	struct ioq_walk_rec *dst = &b->recs[b->count];
	*dst = *src;
	uint32_t n = src->len + 1;
	if (src->flags & IOQ_WALK_REC_APART) {
		b->back += n;
		dst->off = b->cap - b->back;
		memcpy(b->text + dst->off, c->apart_text + src->off, n);
	} else {
		dst->off = b->front;
		dst->off16 = b->front16;
		memcpy(b->text + b->front, c->text + src->off, n);
		b->front += n;
		b->front16 += src->len16 + 1;
		++b->reported;
	}
	if (src->flags & IOQ_WALK_REC_NAME_APART) {
		uint32_t m = src->aux + 1;
		b->back += m;
		dst->name = b->cap - b->back;
		memcpy(b->text + dst->name, c->apart_text + src->name, m);
	}
	if (c->stats && (src->flags & IOQ_WALK_REC_STAT)) {
		b->stats[b->count] = c->stats[i];
	}
	++b->count;
}

/**
 * Copy a whole chunk into the current batch at once, when it fits and keeps
 * nothing apart (the common case).  Under the out lock.
 * @return Whether it did.
 */
static bool wout_copy_all(struct ioq_walk *w, const struct wchunk *c) {
	struct wout *o = &w->out;
	if (o->cur < 0 || c->apart) {
		return false;
	}
	struct ioq_walk_batch *b = &o->batches[o->cur];
	if (b->count + c->count > b->rec_cap || (uint64_t)b->front + b->back + c->front > b->cap) {
		return false;
	}
	struct ioq_walk_rec *dst = &b->recs[b->count];
	memcpy(dst, c->recs, c->count * sizeof(*dst));
	memcpy(b->text + b->front, c->text, c->front);
	for (uint32_t i = 0; i < c->count; ++i) {
		dst[i].off += b->front;
		dst[i].off16 += b->front16;
	}
	if (c->stats) {
		memcpy(&b->stats[b->count], c->stats, c->count * sizeof(*c->stats));
	}
	b->count += c->count;
	b->reported += c->count;
	b->front += c->front;
	b->front16 += c->front16;
	return true;
}

int wout_emit(struct ioq_walk *w, const struct wchunk *c) {
	if (!c) {
		return 0;
	}
	struct wout *o = &w->out;
	int ret = 0;
	pthread_mutex_lock(&o->lock);
	if (wout_copy_all(w, c)) {
		pthread_mutex_unlock(&o->lock);
		walk_count(w, IOQ_WALK_COUNT_RECORDS, c->count);
		return 0;
	}
	for (uint32_t i = 0; i < c->count; ++i) {
		const struct ioq_walk_rec *rec = &c->recs[i];
		uint32_t need = rec->len + 1;
		if (rec->flags & IOQ_WALK_REC_NAME_APART) {
			need += rec->aux + 1;
		}
		ret = wout_room(w, need);
		if (ret != 0) {
			break;
		}
		wout_copy(w, c, i);
	}
	pthread_mutex_unlock(&o->lock);
	walk_count(w, IOQ_WALK_COUNT_RECORDS, c->count);
	return ret;
}

void wout_flush(struct ioq_walk *w) {
	struct wout *o = &w->out;
	pthread_mutex_lock(&o->lock);
	if (o->cur >= 0) {
		struct ioq_walk_batch *b = &o->batches[o->cur];
		bool full = b->front + b->back >= WOUT_TEXT_FILL || b->count >= b->rec_cap / 2;
		bool stale = o->waiters && b->count && wout_now() - o->cur_since >= WOUT_AGE_NS;
		if (full || stale) {
			wout_publish(w);
		}
	}
	pthread_mutex_unlock(&o->lock);
}

void wout_publish_partial(struct ioq_walk *w) {
	struct wout *o = &w->out;
	pthread_mutex_lock(&o->lock);
	if (o->cur >= 0 && o->batches[o->cur].count > 0) {
		wout_publish(w);
	}
	pthread_mutex_unlock(&o->lock);
}

void wout_end(struct ioq_walk *w) {
	struct wout *o = &w->out;
	pthread_mutex_lock(&o->lock);
	if (o->cur < 0 && wout_take(w) != 0) {
		// Cancelled: nobody reads the end anyway
		o->ended = true;
		pthread_cond_broadcast(&o->cond);
		pthread_mutex_unlock(&o->lock);
		return;
	}
	o->batches[o->cur].flags |= IOQ_WALK_BATCH_LAST;
	wout_publish(w);
	o->ended = true;
	pthread_cond_broadcast(&o->cond);
	pthread_mutex_unlock(&o->lock);
}

void wout_wake(struct ioq_walk *w) {
	struct wout *o = &w->out;
	pthread_mutex_lock(&o->lock);
	pthread_cond_broadcast(&o->cond);
	pthread_mutex_unlock(&o->lock);
}
