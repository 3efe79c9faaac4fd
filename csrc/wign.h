// SPDX-License-Identifier: 0BSD
/**
 * wign: a walk's ignore files (IOQ_WALK_GITIGNORE), on ign.h.
 *
 * Each directory read gets a frame of its own ignore files (`.ignore`
 * always; `.gitignore` inside a repository; a repository root's
 * `.git/info/exclude`), chained to its parent's; a walk that starts inside
 * a repository first makes the frames of the directories from the
 * repository's root down to its own root.  Entries are matched by their
 * absolute path (the root's canonical path, then the names below it): an
 * ignored entry is neither reported nor entered, and a repository's `.git`
 * is left out, as git lists nothing in it.
 */

#ifndef IOQ_WIGN_H
#define IOQ_WIGN_H

#include "ign.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** A directory's ignore state. */
struct wign {
	/** Its frame (ign.h), chained to its parent's. */
	struct ign_frame frame;
	/** The lists it owns: .ignore, .gitignore, info/exclude. */
	struct ign_list *lists[3];
	/** Whether it lies in a repository (it is one's root, or below one). */
	bool in_repo;
};

/** The walk's ignore state: the root's absolute path, and the frames above it. */
struct wign_top {
	/** The root's canonical path. */
	uint8_t *abs;
	/** Its length. */
	size_t abs_len;
	/** Frames of the directories from the repository's root down to the root's parent. */
	struct wign *above;
	/** How many. */
	uint32_t nabove;
};

/** A file that could not be read, for an error record. */
struct wign_error {
	/** Its name relative to the directory (".gitignore", ".git/info/exclude", ...). */
	const char *name;
	/** The negative errno value. */
	int err;
};

/**
 * Make the walk's top state from the root's open descriptor: its canonical
 * path, the repository above it (if any), and those directories' frames.
 * Files above the root that cannot be read count as empty.
 * @return 0 or a negative errno value (-ENOMEM; the root's path unknown).
 */
int wign_top_init(struct wign_top *top, int root_fd);

/** Free the top state. */
void wign_top_free(struct wign_top *top);

/**
 * Make a directory's state from its listing: read its ignore files (at
 * most IGN_MAX_FILE bytes each, never through a symlink).
 *
 * @param parent
 *         The parent's state, or NULL for the walk's root.
 * @param has_ignore, has_gitignore, has_git
 *         What the listing holds.
 * @param base
 *         Where paths below this directory start in the match path.
 * @param errors, nerrors
 *         Receive (up to 3) files that could not be read.
 * @return The state, or NULL when out of memory.
 */
struct wign *wign_dir(const struct wign_top *top, const struct wign *parent, int dfd, bool has_ignore, bool has_gitignore, bool has_git, size_t base, struct wign_error *errors, uint32_t *nerrors);

/** Free a directory's state.  Accepts NULL. */
void wign_free(struct wign *ign);

/**
 * Whether an entry is ignored.
 * @param path, len
 *         Its match path (wign_top::abs, '/', the names below the root).
 */
bool wign_ignored(const struct wign *dir, const uint8_t *path, size_t len, bool is_dir);

#endif // IOQ_WIGN_H
