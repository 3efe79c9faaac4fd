// SPDX-License-Identifier: 0BSD
/** wfd: the descriptor limit and the cache of open anchors. */

#include "wfd.h"
#include <unistd.h>

/** Descriptors left to the rest of the process. */
#define WFD_SLACK 16
/** The most descriptors a walk holds on its own accord. */
#define WFD_MAX 4096

void wfd_init(struct ioq_walk *w) {
	uint32_t limit = w->cfg.fd_limit;
	if (limit == 0) {
		int32_t room = ioq_fd_headroom();
		if (room < 0) {
			// Unknown: the usual soft limit is 1024
			room = 256;
		}
		limit = room > WFD_SLACK ? (uint32_t)room - WFD_SLACK : 1;
		if (limit > WFD_MAX) {
			limit = WFD_MAX;
		}
	}
	w->fds.limit = limit ? limit : 1;
}

/** Add a descriptor to close later (or now, when the list is full).  Under the lock. */
static void wclose_add(struct ioq_walk *w, struct wclose *cl, int fd) {
	if (cl->n < sizeof(cl->fds) / sizeof(cl->fds[0])) {
		cl->w = w;
		cl->fds[cl->n++] = fd;
		atomic_fetch_add_explicit(&w->fds.closing, 1, memory_order_relaxed);
	} else {
		close(fd);
		atomic_fetch_add_explicit(&w->fds.closed, 1, memory_order_release);
	}
}

void wclose_run(struct wclose *cl) {
	for (uint32_t i = 0; i < cl->n; ++i) {
		close(cl->fds[i]);
	}
	if (cl->n > 0) {
		// Closed before counted: a reader that sees the count can have the descriptor
		atomic_fetch_add_explicit(&cl->w->fds.closed, cl->n, memory_order_release);
		atomic_fetch_sub_explicit(&cl->w->fds.closing, cl->n, memory_order_release);
	}
	cl->n = 0;
}

/** Take a node out of the evictable list. */
static void wfd_unlist(struct ioq_walk *w, struct wnode *n) {
	if (!(n->marks & WNODE_CACHED)) {
		return;
	}
	if (n->lru_prev) {
		n->lru_prev->lru_next = n->lru_next;
	} else {
		w->fds.lru_head = n->lru_next;
	}
	if (n->lru_next) {
		n->lru_next->lru_prev = n->lru_prev;
	} else {
		w->fds.lru_tail = n->lru_prev;
	}
	n->lru_prev = n->lru_next = NULL;
	n->marks &= ~WNODE_CACHED;
	--w->fds.cached;
}

/** Put a node at the new end of the evictable list (the root stays out: it is never evicted). */
static void wfd_list(struct ioq_walk *w, struct wnode *n) {
	if (n->kind == WNODE_ROOT) {
		return;
	}
	n->lru_next = NULL;
	n->lru_prev = w->fds.lru_tail;
	if (w->fds.lru_tail) {
		w->fds.lru_tail->lru_next = n;
	} else {
		w->fds.lru_head = n;
	}
	w->fds.lru_tail = n;
	n->marks |= WNODE_CACHED;
	++w->fds.cached;
}

/** Close a node's descriptor (collected in cl). */
static void wfd_close(struct ioq_walk *w, struct wnode *n, struct wclose *cl) {
	wfd_unlist(w, n);
	wclose_add(w, cl, n->fd);
	n->fd = -1;
	--w->fds.held;
}

bool wfd_reserve(struct ioq_walk *w, struct wclose *cl, bool force) {
	struct wfds *f = &w->fds;
	if (f->held >= f->limit) {
		// Breadth-first reads children in the order their parents were
		// read, so the newest anchor is needed last; depth-first, the oldest.
		// The root goes last of all: then opens start from the current
		// directory, through the root's path
		struct wnode *victim = w->cfg.order == IOQ_WALK_BFS ? f->lru_tail : f->lru_head;
		struct wnode *root = w->root_node;
		if (!victim && root && root->fd >= 0 && root->pins == 0) {
			victim = root;
		}
		if (victim) {
			wfd_close(w, victim, cl);
			walk_count(w, IOQ_WALK_COUNT_EVICTIONS, 1);
		} else if (!force) {
			return false;
		}
	}
	++f->held;
	if (f->held > f->peak) {
		f->peak = f->held;
		atomic_store_explicit(&w->counters[IOQ_WALK_COUNT_PEAK_FDS], f->peak, memory_order_relaxed);
	}
	return true;
}

void wfd_release(struct ioq_walk *w) {
	--w->fds.held;
}

bool wfd_can_free(const struct ioq_walk *w) {
	const struct wnode *root = w->root_node;
	return w->fds.cached > 0 || (root && root->fd >= 0 && root->pins == 0);
}

void wfd_shrink(struct ioq_walk *w) {
	struct wfds *f = &w->fds;
	uint32_t limit = f->held > 1 ? f->held - 1 : 1;
	if (limit < f->limit) {
		f->limit = limit;
	}
}

struct wnode *wfd_anchor(struct ioq_walk *w, struct wnode *n) {
	for (struct wnode *a = n->parent; a; a = a->parent) {
		if (a->fd >= 0) {
			wfd_unlist(w, a);
			++a->pins;
			return a;
		}
	}
	return NULL;
}

/** Whether an open anchor can still serve: a subdirectory of it is still to be opened. */
static bool wfd_useful(const struct wnode *n) {
	return n->unopened > 0 || n->kind == WNODE_ROOT;
}

void wfd_unpin(struct ioq_walk *w, struct wnode *a, struct wclose *cl) {
	if (!a || --a->pins > 0) {
		return;
	}
	if (wfd_useful(a)) {
		wfd_list(w, a);
	} else {
		wfd_close(w, a, cl);
	}
}

void wfd_keep(struct ioq_walk *w, struct wnode *n, int fd, struct wclose *cl) {
	n->fd = fd;
	if (wfd_useful(n)) {
		wfd_list(w, n);
	} else {
		wfd_close(w, n, cl);
	}
}

void wfd_settled(struct ioq_walk *w, struct wnode *dir, struct wclose *cl) {
	--dir->unopened;
	if (dir->fd >= 0 && dir->pins == 0 && !wfd_useful(dir)) {
		wfd_close(w, dir, cl);
	}
}

void wfd_drop(struct ioq_walk *w, struct wnode *n) {
	wfd_unlist(w, n);
	close(n->fd);
	n->fd = -1;
	--w->fds.held;
}
