// SPDX-License-Identifier: 0BSD
/**
 * dirtab: numeric handles for directories.
 *
 * A handle packs a table index (IOQ_HANDLE_INDEX_BITS bits) with the index's
 * generation (the other 12 bits), which moves on every reuse, so a handle kept
 * after its directory was closed is recognised as stale instead of naming a
 * stranger.  Freed indices are reused oldest first, so a stale handle can only
 * alias once its index has been reused 4,095 times, and that takes at least
 * 4,095 times as many closes as there are free indices.  Handles are never 0.
 * Owner thread only.
 */

#ifndef IOQ_DIRTAB_H
#define IOQ_DIRTAB_H

#include <stdint.h>

struct ioq_dir;

/** The handle table. */
struct dirtab {
	/** Index -> directory, NULL when free. */
	struct ioq_dir **dirs;
	/** Index -> current generation (never 0). */
	uint16_t *gens;
	/** Free indices, a circular queue of `cap` slots (oldest first). */
	uint32_t *free;
	/** Where the oldest free index is in `free`. */
	uint32_t free_head;
	/** How many indices are free. */
	uint32_t nfree;
	/** Indices handed out so far (index 0 is never used). */
	uint32_t len;
	/** Allocated length of the arrays. */
	uint32_t cap;
};

/** Initialize an empty table. */
void dirtab_init(struct dirtab *t);

/** Free the table's arrays (not the directories). */
void dirtab_destroy(struct dirtab *t);

/**
 * Give a directory a handle.
 * @return 0, -ENOMEM, or -EMFILE when every index is in use.
 */
int dirtab_add(struct dirtab *t, struct ioq_dir *d, uint32_t *handle);

/** @return The directory a handle names, or NULL if it is stale or bogus. */
struct ioq_dir *dirtab_get(const struct dirtab *t, uint32_t handle);

/** Retire a handle (it must be valid). */
void dirtab_remove(struct dirtab *t, uint32_t handle);

/** @return The directory at a raw index (for teardown), or NULL. */
struct ioq_dir *dirtab_at(const struct dirtab *t, uint32_t index);

#endif // IOQ_DIRTAB_H
