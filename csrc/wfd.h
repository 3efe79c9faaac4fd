// SPDX-License-Identifier: 0BSD
/**
 * wfd: the walk's descriptors.  Every descriptor the walk holds counts
 * against a limit: a directory being read, and directories kept open as
 * anchors, so that their subdirectories open relative to them (short paths,
 * no limit on depth).  Anchors nobody uses at the moment are evictable;
 * when the limit is reached the cache closes one (the one needed last: in a
 * breadth-first walk the newest, otherwise the oldest).  The root's
 * descriptor is kept as long as any other can go, so opens rarely depend on
 * the current directory: only with almost no descriptor to spare do they
 * start from it, through the root's path.  Everything here
 * runs under the walk's lock; descriptors are closed after unlocking.
 */

#ifndef IOQ_WFD_H
#define IOQ_WFD_H

#include "wstate.h"

/** Descriptors to close once the lock is released. */
struct wclose {
	/** The walk they belong to (set by the first added). */
	struct ioq_walk *w;
	/** The descriptors. */
	int fds[16];
	/** How many. */
	uint32_t n;
};

/** Set the limit: the configuration's, or a share of the process's headroom. */
void wfd_init(struct ioq_walk *w);

/**
 * Reserve a descriptor for an open, closing an evictable anchor if the
 * limit is reached.
 * @param force
 *         Reserve even past the limit (when nothing else would ever free
 *         one: no directory is being read).
 * @return Whether one was reserved.
 */
bool wfd_reserve(struct ioq_walk *w, struct wclose *cl, bool force);

/** Give back a reservation or a descriptor the caller closed (or never got). */
void wfd_release(struct ioq_walk *w);

/** @return Whether closing a descriptor the walk holds would free one (an anchor, the root). */
bool wfd_can_free(const struct ioq_walk *w);

/**
 * Lower the limit after the process ran out of descriptors (EMFILE): to
 * what the walk holds now, less one, but never below 1.
 */
void wfd_shrink(struct ioq_walk *w);

/**
 * The nearest ancestor of `n` with an open descriptor, pinned (not evicted)
 * until wfd_unpin(); or NULL when none has one.
 */
struct wnode *wfd_anchor(struct ioq_walk *w, struct wnode *n);

/** Unpin an anchor; it becomes evictable, or is closed if nothing more needs it. */
void wfd_unpin(struct ioq_walk *w, struct wnode *a, struct wclose *cl);

/**
 * A directory was read: keep its descriptor as an anchor while some of its
 * subdirectories are still to be opened, else close it.
 */
void wfd_keep(struct ioq_walk *w, struct wnode *n, int fd, struct wclose *cl);

/** One of a directory's subdirectories no longer needs it (opened, or not to be). */
void wfd_settled(struct ioq_walk *w, struct wnode *dir, struct wclose *cl);

/** Close a node's descriptor now (the node is going away). */
void wfd_drop(struct ioq_walk *w, struct wnode *n);

/** Close what was collected.  Without the lock. */
void wclose_run(struct wclose *cl);

#endif // IOQ_WFD_H
