// SPDX-License-Identifier: 0BSD
/**
 * wnode: the directories of a walk.  A node holds its name in its parent and
 * a reference to the parent, so a path is made by climbing; references are
 * counted under the walk's lock.
 */

#ifndef IOQ_WNODE_H
#define IOQ_WNODE_H

#include "wstate.h"
#include <stddef.h>

/** A growable byte buffer. */
struct wbytes {
	/** The bytes. */
	uint8_t *data;
	/** How many are used. */
	size_t len;
	/** How many fit. */
	size_t cap;
};

/** Make room for `more` bytes.  @return 0 or -ENOMEM. */
int wbytes_reserve(struct wbytes *b, size_t more);

/** Append bytes (room must have been reserved, or it is reserved now).  @return 0 or -ENOMEM. */
int wbytes_append(struct wbytes *b, const void *data, size_t len);

/** Free a buffer's bytes. */
void wbytes_free(struct wbytes *b);

/**
 * Make a node (one reference, the caller's).
 * @param parent
 *         Its directory, which gains a reference; NULL for the root.
 * @return The node, or NULL when out of memory.
 */
struct wnode *wnode_new(struct wnode *parent, const char *name, size_t len, enum wnode_kind kind);

/** Take a reference.  Under the walk's lock. */
void wnode_ref(struct wnode *n);

/**
 * Drop a reference.  Under the walk's lock.  A node with none left is freed,
 * with its chunks, and drops its parent's reference; its descriptor, if it
 * still has one, is left in *close_fd for the caller to close after
 * unlocking (at most one per call: a node's descriptor is released before
 * its last reference by the walk's own rules, so this is a safety net).
 */
void wnode_unref(struct ioq_walk *w, struct wnode *n);

/**
 * Write the path prefix of a directory's entries (its path and a slash)
 * into `out` (replacing what is there).
 * @return 0 or -ENOMEM.
 */
int wnode_prefix(const struct ioq_walk *w, const struct wnode *n, struct wbytes *out);

/**
 * Write the path of `n` relative to its ancestor `at` into `out`
 * (replacing what is there), NUL-terminated; `at` may be NULL for the path
 * from the root's parent, i.e. starting with the root as opened.
 * @return 0 or -ENOMEM.
 */
int wnode_relpath(const struct ioq_walk *w, const struct wnode *n, const struct wnode *at, struct wbytes *out);

#endif // IOQ_WNODE_H
