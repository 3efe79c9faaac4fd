// SPDX-License-Identifier: 0BSD
/**
 * wsched: the order of a walk and the hand-out of its work.
 *
 * Two structures, both under the walk's lock:
 *
 *  - the emission list: every directory not yet emitted, in the order its
 *    records go out.  Breadth-first appends a directory's subdirectories at
 *    the end; depth-first inserts them right after it, each followed by a
 *    run node holding the entries listed after it (so each subdirectory's
 *    subtree comes right after its own entry, as in find), and in
 *    post-order an end marker before the run, which emits the directory's
 *    own record once its subtree is out.  A directory's records are emitted
 *    when it reaches the head of the list and has been read;
 *
 *  - the to-do queue: directories to read, the likeliest to be emitted
 *    next first (breadth-first: oldest first; depth-first: the newest
 *    subdirectories first, in listing order).  Workers take from it while
 *    the window (directories read ahead and not yet emitted) has room; the
 *    head of the list is always given out, so the window never stalls the
 *    walk.
 *
 * Emission is done by one worker at a time, whichever finds the head read:
 * it detaches a run of read nodes, copies them out without the lock, and
 * frees them.  Gated directories wait in their own list for the owner's
 * answer (ioq_walk_asked(), ioq_walk_decide()).
 */

#ifndef IOQ_WSCHED_H
#define IOQ_WSCHED_H

#include "wstate.h"

/** A node handed out to a worker. */
struct wjob {
	/** The node to read (a reference). */
	struct wnode *node;
	/** The ancestor to open it relative to (pinned), or NULL. */
	struct wnode *anchor;
	/** wfds::closed when it was handed out. */
	unsigned closed;
};

/** What reading a node gave. */
struct wresult {
	/** Its records, or NULL. */
	struct wchunk *chunk;
	/** Its subdirectories to enter, in listing order (each carries the worker's reference). */
	struct wnode **kids;
	/** How many. */
	uint32_t nkids;
	/** Which of them are gated (same indices), or NULL for none. */
	const bool *gated;
	/** Post-order: the end marker of each kid (same indices), or NULL. */
	struct wnode **ends;
	/**
	 * Depth-first: the records listed after each kid (same indices; an
	 * entry may be NULL), emitted after its subtree; `chunk` then holds
	 * what was listed before the first.  NULL breadth-first.
	 */
	struct wchunk **runs;
	/** Its open descriptor, or -1. */
	int fd;
	/** Device and inode of the directory, when `fd` was stat'ed. */
	bool has_id;
	uint64_t dev, ino;
	/** Opening failed for lack of descriptors: hand it out again later. */
	bool retry;
};

/**
 * Put the root in the list and the to-do queue.
 * @return 0 or -ENOMEM.
 */
int wsched_init(struct ioq_walk *w);

/** Free every node left (the workers are gone). */
void wsched_destroy(struct ioq_walk *w);

/**
 * Take nodes to read (at most `max`, fewer when other workers would go
 * without), waiting for one; emit what is ready on the way.
 * @return How many were taken (0: the walk is over or cancelled).
 */
uint32_t wsched_take(struct ioq_walk *w, struct wjob *jobs, uint32_t max);

/** Hand back a node that was read (job and result are consumed). */
void wsched_done(struct ioq_walk *w, struct wjob *job, struct wresult *res);

/** Wake every worker (cancellation, the end). */
void wsched_wake_all(struct ioq_walk *w);

/** See ioq_walk_asked(). */
int32_t wsched_asked(struct ioq_walk *w, uint8_t *text, uint32_t cap, uint32_t *meta, uint32_t max);

/** See ioq_walk_decide(). */
int32_t wsched_decide(struct ioq_walk *w, const uint32_t *ids, const uint8_t *enter, uint32_t n);

#endif // IOQ_WSCHED_H
