// SPDX-License-Identifier: 0BSD
/**
 * wout: records and batches.  A worker builds a directory's records in a
 * wbuild (growable, its own), which becomes a chunk (one allocation, exact
 * size) when the directory is read; chunks are emitted in the walk's order
 * into batches, which the owner takes, reads and gives back.
 */

#ifndef IOQ_WOUT_H
#define IOQ_WOUT_H

#include "wnode.h"
#include "wstate.h"

/** Records being built by one worker. */
struct wbuild {
	/** The records. */
	struct ioq_walk_rec *recs;
	/** Their stats (when the walk stats). */
	struct statx *stats;
	/** How many records, and the room. */
	uint32_t count, cap;
	/** Front and apart text. */
	struct wbytes text, apart;
	/** UTF-16 code units of the front text. */
	uint32_t front16;
	/** Whether records carry stats. */
	bool with_stats;
	/** The byte after each path. */
	uint8_t terminator;
};

/** Set up a builder. */
void wbuild_init(struct wbuild *b, bool with_stats, uint8_t terminator);

/** Free a builder's memory. */
void wbuild_free(struct wbuild *b);

/**
 * Add a record whose path is `prefix` then `name`, in the front text (or
 * apart, for an error).  The caller fills type, depth, flags, err and op.
 *
 * @param prefix16, prefix_utf8
 *         The prefix's UTF-16 length and validity (computed once per directory).
 * @return The record (valid until the next add), or NULL when out of memory.
 */
struct ioq_walk_rec *wbuild_add(struct wbuild *b, bool apart, const uint8_t *prefix, uint32_t plen, uint32_t prefix16, bool prefix_utf8, const char *name, uint32_t nlen);

/**
 * Add a record whose whole path is given, its name starting at `name_off`.
 * @return The record, or NULL when out of memory.
 */
struct ioq_walk_rec *wbuild_add_path(struct wbuild *b, bool apart, const uint8_t *path, uint32_t len, uint32_t name_off);

/**
 * Give the last record a name that is not the end of its path (stored
 * apart; the record's `name` then counts in the apart text).
 * @return 0 or -ENOMEM.
 */
int wbuild_name_apart(struct wbuild *b, const char *name, uint32_t len);

/** @return The stat slot of the last record (when the walk stats). */
struct statx *wbuild_stat(struct wbuild *b);

/** Drop the last record (after a later failure made it moot). */
void wbuild_drop_last(struct wbuild *b);

/**
 * Make a chunk of the records built, and empty the builder.
 * @return The chunk, NULL when nothing was built, or NULL with *err = -ENOMEM.
 */
struct wchunk *wbuild_finish(struct wbuild *b, int *err);

/** @return The bytes a chunk holds (for the walk's memory bound). */
uint64_t wchunk_size(const struct wchunk *c);

/**
 * Set up the batches.
 * @return 0 or -ENOMEM.
 */
int wout_init(struct ioq_walk *w);

/** Free the batches. */
void wout_destroy(struct ioq_walk *w);

/**
 * Emit a chunk into the current batch, publishing full batches; waits for
 * a free batch when the owner holds them all.  Called by the one emitting
 * worker, without the walk's lock.
 * @return 0, or -EINTR when the walk was cancelled meanwhile.
 */
int wout_emit(struct ioq_walk *w, const struct wchunk *c);

/**
 * After an emission run: publish the current batch if it is full enough,
 * or if the owner waits and it has waited long enough.
 */
void wout_flush(struct ioq_walk *w);

/**
 * Publish the current batch if it holds anything: the walk cannot go on
 * until the owner sees it (say, gated directories wait for answers about
 * the records in it).
 */
void wout_publish_partial(struct ioq_walk *w);

/** Publish the last batch (possibly empty): the walk is over. */
void wout_end(struct ioq_walk *w);

/** Wake the owner's wait (gates to ask about, cancellation). */
void wout_wake(struct ioq_walk *w);

#endif // IOQ_WOUT_H
