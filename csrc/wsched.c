// SPDX-License-Identifier: 0BSD
/** wsched: the emission list, the to-do queue, emission and gates. */

#include "wsched.h"
#include "wfd.h"
#include "wnode.h"
#include "wout.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/** The most directories read ahead of emission. */
#define WSCHED_WINDOW 4096
/** The most bytes of records read ahead of emission. */
#define WSCHED_WINDOW_BYTES (8u << 20)
/** The most nodes one emission run detaches at once. */
#define WSCHED_RUN 64

/** wnode::marks: handed out for reading (counted in `outstanding` until emitted). */
#define WNODE_TAKEN 0x08
/** wnode::marks: its own record is out (depth-first, before its entries are read). */
#define WNODE_SELF_OUT 0x10

/** Grow the to-do ring.  @return 0 or -ENOMEM. */
static int wdeque_grow(struct wdeque *d) {
	uint32_t cap = d->cap ? d->cap * 2 : 256;
	struct wnode **slots = malloc(cap * sizeof(*slots));
	if (!slots) {
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < d->len; ++i) {
		slots[i] = d->slots[(d->head + i) & (d->cap - 1)];
	}
	free(d->slots);
	d->slots = slots;
	d->cap = cap;
	d->head = 0;
	return 0;
}

/** Add at the back.  @return 0 or -ENOMEM. */
static int wdeque_push_back(struct wdeque *d, struct wnode *n) {
	if (d->len == d->cap && wdeque_grow(d) != 0) {
		return -ENOMEM;
	}
	d->slots[(d->head + d->len++) & (d->cap - 1)] = n;
	return 0;
}

/** Add at the front.  @return 0 or -ENOMEM. */
static int wdeque_push_front(struct wdeque *d, struct wnode *n) {
	if (d->len == d->cap && wdeque_grow(d) != 0) {
		return -ENOMEM;
	}
	d->head = (d->head - 1) & (d->cap - 1);
	d->slots[d->head] = n;
	++d->len;
	return 0;
}

/** Take from the front, or NULL. */
static struct wnode *wdeque_pop(struct wdeque *d) {
	if (d->len == 0) {
		return NULL;
	}
	struct wnode *n = d->slots[d->head];
	d->head = (d->head + 1) & (d->cap - 1);
	--d->len;
	return n;
}

int wsched_init(struct ioq_walk *w) {
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->work, NULL);
	struct wnode *root = wnode_new(NULL, NULL, 0, WNODE_ROOT);
	if (!root) {
		return -ENOMEM;
	}
	w->head = w->tail = root;
	w->root_node = root;
	if (w->cfg.order == IOQ_WALK_POST) {
		// The root's own record comes last
		struct wnode *end = wnode_new(root, NULL, 0, WNODE_END);
		if (!end) {
			return -ENOMEM;
		}
		end->state = WNODE_READ;
		root->next = w->tail = end;
	}
	wnode_ref(root);
	if (wdeque_push_back(&w->todo, root) != 0) {
		return -ENOMEM;
	}
	return 0;
}

void wsched_destroy(struct ioq_walk *w) {
	// The to-do queue and the gates hold references; the list holds one
	// per node: drop them all, which frees every node
	struct wnode *n;
	while ((n = wdeque_pop(&w->todo))) {
		wnode_unref(w, n);
	}
	for (uint32_t i = 0; i < w->ngated; ++i) {
		wnode_unref(w, w->gated[i]);
	}
	for (uint32_t i = 0; i < w->nasked; ++i) {
		if (w->asked[i]) {
			wnode_unref(w, w->asked[i]);
		}
	}
	while ((n = w->head)) {
		w->head = n->next;
		if (n->kids) {
			// Breadth-first subdirectories not yet in the list
			n->kids_tail->next = w->head;
			w->head = n->kids;
			n->kids = n->kids_tail = NULL;
		}
		wnode_unref(w, n);
	}
	free(w->todo.slots);
	free(w->gated);
	free(w->asked);
	free(w->free_ids);
	pthread_cond_destroy(&w->work);
	pthread_mutex_destroy(&w->lock);
}

void wsched_wake_all(struct ioq_walk *w) {
	pthread_mutex_lock(&w->lock);
	pthread_cond_broadcast(&w->work);
	pthread_mutex_unlock(&w->lock);
}

/** Mark the walk finished once everything is out.  Under the lock. */
static void wsched_check_end(struct ioq_walk *w) {
	if (w->head || w->finished) {
		return;
	}
	w->finished = true;
	pthread_cond_broadcast(&w->work);
	// The last batch goes out without the walk's lock (it may wait)
	pthread_mutex_unlock(&w->lock);
	wout_end(w);
	pthread_mutex_lock(&w->lock);
}

/**
 * Whether the head of the list has something to emit: all its records, or
 * (depth-first) a directory's own record while its entries are not read yet.
 * Under the lock.
 */
static bool wsched_emittable(const struct ioq_walk *w) {
	const struct wnode *h = w->head;
	if (!h) {
		return false;
	}
	if (h->state == WNODE_READ) {
		return true;
	}
	return h->kind == WNODE_DIR && w->cfg.order == IOQ_WALK_DFS && h->self && !(h->marks & WNODE_SELF_OUT);
}

/**
 * Emit read nodes from the head of the list, as long as there are some.
 * Under the lock, which is released while copying.
 */
static void wsched_emit(struct ioq_walk *w) {
	w->emitting = true;
	struct wclose cl = {0};
	while (wsched_emittable(w) && !walk_cancelled(w)) {
		if (w->head->state != WNODE_READ) {
			// Depth-first, a directory's record goes out before it is read:
			// the owner may need it to answer the directory's gate
			struct wnode *dir = w->head;
			dir->marks |= WNODE_SELF_OUT;
			pthread_mutex_unlock(&w->lock);
			wout_emit(w, dir->self);
			wout_flush(w);
			pthread_mutex_lock(&w->lock);
			continue;
		}
		struct wnode *run[WSCHED_RUN];
		/** Whether a node's own record goes first (its marks may be read under the lock only). */
		bool own_first[WSCHED_RUN];
		uint32_t n = 0;
		while (n < WSCHED_RUN && w->head && w->head->state == WNODE_READ) {
			struct wnode *x = w->head;
			// A directory's own record first, depth-first (post-order: its end marker's)
			own_first[n] = x->kind == WNODE_DIR && w->cfg.order == IOQ_WALK_DFS && !(x->marks & WNODE_SELF_OUT);
			run[n++] = x;
			w->head = x->next;
			if (!w->head) {
				w->tail = NULL;
			}
			if (x->kids) {
				// Breadth-first: its subdirectories come after all found before them
				if (w->tail) {
					w->tail->next = x->kids;
				} else {
					w->head = x->kids;
				}
				w->tail = x->kids_tail;
				x->kids = x->kids_tail = NULL;
			}
		}

		pthread_mutex_unlock(&w->lock);
		wclose_run(&cl);
		for (uint32_t i = 0; i < n; ++i) {
			struct wnode *node = run[i];
			const struct wchunk *own = own_first[i] ? node->self : NULL;
			const struct wchunk *c = node->kind == WNODE_END ? node->parent->self : node->chunk;
			if (wout_emit(w, own) != 0 || wout_emit(w, c) != 0) {
				break;
			}
		}
		wout_flush(w);
		pthread_mutex_lock(&w->lock);

		for (uint32_t i = 0; i < n; ++i) {
			struct wnode *node = run[i];
			if (node->marks & WNODE_TAKEN) {
				--w->outstanding;
			}
			w->held_bytes -= wchunk_size(node->chunk);
			free(node->chunk);
			node->chunk = NULL;
			wnode_unref(w, node);
		}
	}
	w->emitting = false;
	wsched_check_end(w);
	if (w->sleepers && w->todo.len) {
		// The window has room again
		pthread_cond_broadcast(&w->work);
	}
}

/** Whether a node can be handed out (a to-do slot may be stale). */
static bool wsched_ready(const struct wnode *n) {
	return n->state == WNODE_UNREAD;
}

/** The next node to read, with a reference, or NULL.  Under the lock. */
static struct wnode *wsched_next(struct ioq_walk *w) {
	bool room = w->outstanding < WSCHED_WINDOW && w->held_bytes < WSCHED_WINDOW_BYTES;
	if (room) {
		struct wnode *n;
		while ((n = wdeque_pop(&w->todo))) {
			if (wsched_ready(n)) {
				return n;
			}
			wnode_unref(w, n);
		}
	}
	// The head is needed for anything to move: always given out
	struct wnode *head = w->head;
	if (head && wsched_ready(head)) {
		wnode_ref(head);
		return head;
	}
	return NULL;
}

uint32_t wsched_take(struct ioq_walk *w, struct wjob *jobs, uint32_t max) {
	struct wclose cl = {0};
	uint32_t n = 0;
	/** Whether this worker handed the owner what was emitted before it slept. */
	bool flushed = false;
	pthread_mutex_lock(&w->lock);
	while (true) {
		if (walk_cancelled(w) || w->finished) {
			break;
		}
		if (!w->emitting && wsched_emittable(w)) {
			wsched_emit(w);
			// What it emitted may not be published yet
			flushed = false;
			continue;
		}

		// A fair share of what is there, so no worker waits while one holds a pile
		uint32_t share = w->nlent ? w->todo.len / w->nlent : w->todo.len;
		uint32_t want = share < 1 ? 1 : share < max ? share : max;
		while (n < want) {
			struct wnode *node = wsched_next(w);
			if (!node) {
				break;
			}
			bool nobody = w->reading == 0 && n == 0;
			if (!wfd_reserve(w, &cl, nobody)) {
				// No descriptor now: someone reading will free one
				wdeque_push_front(&w->todo, node);
				break;
			}
			node->state = WNODE_READING;
			node->marks |= WNODE_TAKEN;
			++w->outstanding;
			++w->reading;
			jobs[n].node = node;
			jobs[n].anchor = wfd_anchor(w, node);
			jobs[n].closed = atomic_load_explicit(&w->fds.closed, memory_order_acquire);
			++n;
		}
		if (n > 0) {
			break;
		}

		if (!flushed && w->reading == 0) {
			// Nobody is reading: what is emitted may be all the owner gets
			// for a while, and its answers may be what the walk waits for
			flushed = true;
			pthread_mutex_unlock(&w->lock);
			wout_publish_partial(w);
			pthread_mutex_lock(&w->lock);
			continue;
		}

		++w->sleepers;
		walk_count(w, IOQ_WALK_COUNT_SLEEPS, 1);
		pthread_cond_wait(&w->work, &w->lock);
		--w->sleepers;
	}
	pthread_mutex_unlock(&w->lock);
	wclose_run(&cl);
	return n;
}

/** Add a gated node (a reference moves in).  Under the lock. */
static void wsched_gate(struct ioq_walk *w, struct wnode *n) {
	if (w->ngated == w->gated_cap) {
		uint32_t cap = w->gated_cap ? w->gated_cap * 2 : 64;
		struct wnode **gated = realloc(w->gated, cap * sizeof(*gated));
		if (!gated) {
			// Cannot ask: enter it, as if the answer were yes
			n->state = WNODE_UNREAD;
			wdeque_push_front(&w->todo, n);
			return;
		}
		w->gated = gated;
		w->gated_cap = cap;
	}
	n->state = WNODE_GATED;
	w->gated[w->ngated++] = n;
	atomic_store_explicit(&w->gates_pending, w->ngated, memory_order_relaxed);
}

/** Link a node into the list after `prev` (NULL: at the end).  Under the lock. */
static void wsched_link(struct ioq_walk *w, struct wnode *prev, struct wnode *n) {
	if (prev) {
		n->next = prev->next;
		prev->next = n;
		if (w->tail == prev) {
			w->tail = n;
		}
	} else {
		n->next = NULL;
		if (w->tail) {
			w->tail->next = n;
		} else {
			w->head = n;
		}
		w->tail = n;
	}
}

void wsched_done(struct ioq_walk *w, struct wjob *job, struct wresult *res) {
	struct wclose cl = {0};
	struct wnode *node = job->node;
	bool bfs = w->cfg.order == IOQ_WALK_BFS;
	pthread_mutex_lock(&w->lock);
	--w->reading;

	if (res->retry) {
		// Out of descriptors: hold fewer, and read it again once one is free
		wfd_shrink(w);
		wfd_release(w);
		wfd_unpin(w, job->anchor, &cl);
		node->state = WNODE_UNREAD;
		node->marks &= ~WNODE_TAKEN;
		--w->outstanding;
		wdeque_push_front(&w->todo, node);
		pthread_cond_broadcast(&w->work);
		pthread_mutex_unlock(&w->lock);
		wclose_run(&cl);
		return;
	}

	if (node->parent && node->kind == WNODE_DIR) {
		wfd_settled(w, node->parent, &cl);
	}
	wfd_unpin(w, job->anchor, &cl);

	node->chunk = res->chunk;
	w->held_bytes += wchunk_size(res->chunk);
	if (res->has_id) {
		node->dev = res->dev;
		node->ino = res->ino;
		node->flags |= WNODE_HAS_ID;
	}
	node->unopened = res->nkids;
	if (res->fd >= 0) {
		wfd_keep(w, node, res->fd, &cl);
	} else {
		wfd_release(w);
	}

	// Into the list: after this node (depth-first), or, breadth-first, at
	// its end once this node is emitted (kept on it until then)
	struct wnode *prev = node;
	for (uint32_t i = 0; i < res->nkids; ++i) {
		struct wnode *kid = res->kids[i];
		if (bfs) {
			kid->next = NULL;
			if (node->kids_tail) {
				node->kids_tail->next = kid;
			} else {
				node->kids = kid;
			}
			node->kids_tail = kid;
			continue;
		}
		wsched_link(w, prev, kid);
		prev = kid;
		if (res->ends) {
			wsched_link(w, prev, res->ends[i]);
			prev = res->ends[i];
		}
		if (res->runs && res->runs[i]) {
			struct wnode *run = wnode_new(NULL, NULL, 0, WNODE_RUN);
			if (!run) {
				// Out of memory: these records cannot be emitted
				free(res->runs[i]);
				continue;
			}
			run->chunk = res->runs[i];
			run->state = WNODE_READ;
			w->held_bytes += wchunk_size(run->chunk);
			wsched_link(w, prev, run);
			prev = run;
		}
	}
	// Into the to-do queue (gated ones wait for an answer)
	uint32_t queued = 0;
	for (uint32_t k = 0; k < res->nkids; ++k) {
		// Depth-first: pushed to the front last to first, so the first is next
		uint32_t i = bfs ? k : res->nkids - 1 - k;
		struct wnode *kid = res->kids[i];
		wnode_ref(kid);
		if (res->gated && res->gated[i]) {
			wsched_gate(w, kid);
		} else if ((bfs ? wdeque_push_back(&w->todo, kid) : wdeque_push_front(&w->todo, kid)) == 0) {
			++queued;
		} else {
			// Out of memory: it cannot be read; emitted as it is
			kid->state = WNODE_READ;
			wfd_settled(w, node, &cl);
			wnode_unref(w, kid);
		}
	}
	node->state = WNODE_READ;
	wnode_unref(w, node);

	if (queued > 1 && w->sleepers) {
		pthread_cond_signal(&w->work);
	}
	bool asking = w->ngated > 0;
	if (!w->emitting && wsched_emittable(w)) {
		wsched_emit(w);
	}
	pthread_mutex_unlock(&w->lock);
	wclose_run(&cl);
	if (asking) {
		wout_wake(w);
	}
}

/** Write a gated node's own path (its parent's prefix and its name, or its stored prefix without the slash). */
static int wsched_gate_path(struct ioq_walk *w, struct wnode *n, struct wbytes *out) {
	if (n->prefix) {
		out->len = 0;
		uint32_t len = n->prefix_len > 1 ? n->prefix_len - 1 : n->prefix_len;
		return wbytes_append(out, n->prefix, len);
	}
	int ret = wnode_prefix(w, n->parent, out);
	if (ret == 0) {
		ret = wbytes_append(out, n->name, n->namelen);
	}
	return ret;
}

/** An id for an asked node, or -ENOMEM.  Under the lock. */
static int64_t wsched_new_id(struct ioq_walk *w) {
	if (w->nfree_ids) {
		return w->free_ids[--w->nfree_ids];
	}
	if (w->nasked == w->asked_cap) {
		uint32_t cap = w->asked_cap ? w->asked_cap * 2 : 64;
		struct wnode **asked = realloc(w->asked, cap * sizeof(*asked));
		if (!asked) {
			return -ENOMEM;
		}
		w->asked = asked;
		uint32_t *free_ids = realloc(w->free_ids, cap * sizeof(*free_ids));
		if (!free_ids) {
			return -ENOMEM;
		}
		w->free_ids = free_ids;
		w->asked_cap = cap;
	}
	return w->nasked++;
}

int32_t wsched_asked(struct ioq_walk *w, uint8_t *text, uint32_t cap, uint32_t *meta, uint32_t max) {
	if (max < 3) {
		return -EINVAL;
	}
	int32_t ret = 0;
	struct wbytes path = {0};
	pthread_mutex_lock(&w->lock);
	uint32_t used = 0, n = 0;
	while (n < w->ngated && (n + 1) * 3 <= max) {
		struct wnode *g = w->gated[n];
		int err = wsched_gate_path(w, g, &path);
		if (err != 0) {
			ret = err;
			break;
		}
		if (path.len + 1 > cap - used) {
			if (n == 0) {
				ret = -EINVAL;
			}
			break;
		}
		int64_t id = wsched_new_id(w);
		if (id < 0) {
			ret = (int32_t)id;
			break;
		}
		memcpy(text + used, path.data, path.len);
		text[used + path.len] = (uint8_t)w->cfg.terminator;
		used += (uint32_t)path.len + 1;
		meta[3 * n] = (uint32_t)id;
		meta[3 * n + 1] = (uint32_t)path.len;
		meta[3 * n + 2] = g->depth;
		w->asked[id] = g;
		++n;
	}
	if (n > 0) {
		// The rest move up for next time
		memmove(w->gated, w->gated + n, (w->ngated - n) * sizeof(*w->gated));
		w->ngated -= n;
		atomic_store_explicit(&w->gates_pending, w->ngated, memory_order_relaxed);
		ret = (int32_t)n;
	}
	pthread_mutex_unlock(&w->lock);
	wbytes_free(&path);
	return ret;
}

int32_t wsched_decide(struct ioq_walk *w, const uint32_t *ids, const uint8_t *enter, uint32_t n) {
	struct wclose cl = {0};
	int32_t ret = 0;
	pthread_mutex_lock(&w->lock);
	for (uint32_t i = 0; i < n; ++i) {
		uint32_t id = ids[i];
		if (id >= w->nasked || !w->asked[id]) {
			ret = -EINVAL;
			continue;
		}
		struct wnode *g = w->asked[id];
		w->asked[id] = NULL;
		w->free_ids[w->nfree_ids++] = id;
		if (enter[i]) {
			g->state = WNODE_UNREAD;
			if (wdeque_push_front(&w->todo, g) == 0) {
				continue;
			}
		}
		// Not entered: nothing to read, nothing more to emit for it
		g->state = WNODE_READ;
		wfd_settled(w, g->parent, &cl);
		wnode_unref(w, g);
	}
	// Workers take it from here (the owner never emits: it could wait on itself)
	pthread_cond_broadcast(&w->work);
	pthread_mutex_unlock(&w->lock);
	wclose_run(&cl);
	return ret;
}
