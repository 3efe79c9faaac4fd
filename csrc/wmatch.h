// SPDX-License-Identifier: 0BSD
/**
 * wmatch: the walk's filters on names and paths: lists of globs (find's
 * -name rules, fnm.h) and of suffixes (@std/fs walk's `exts`).
 */

#ifndef IOQ_WMATCH_H
#define IOQ_WMATCH_H

#include "wstate.h"

/**
 * Add a glob to a list.
 * @param flags
 *         IOQ_WALK_ITEM_* flags (IOQ_WALK_ITEM_CASEFOLD).
 * @return 0, -ENOMEM, or -EINVAL for a glob with a NUL byte or one
 *         fnm_compile() refuses.
 */
int wmatch_add_glob(struct wglobs *g, const uint8_t *pat, uint32_t len, uint8_t flags);

/** Free a glob list. */
void wmatch_free_globs(struct wglobs *g);

/** @return Whether a list is empty or a name matches one of its globs. */
bool wmatch_globs(const struct wglobs *g, const char *name, uint32_t len);

/** @return Whether a name matches one of a list's globs (false for an empty list). */
bool wmatch_globs_any(const struct wglobs *g, const char *name, uint32_t len);

/** Add a suffix to a list.  @return 0 or -ENOMEM. */
int wmatch_add_suffix(struct wsuffixes *s, const uint8_t *bytes, uint32_t len);

/** Free a suffix list. */
void wmatch_free_suffixes(struct wsuffixes *s);

/** @return Whether a list is empty or a path ends with one of its suffixes. */
bool wmatch_suffixes(const struct wsuffixes *s, const uint8_t *path, uint32_t len);

/** As wmatch_suffixes(), for a path given in two pieces (a prefix and a name). */
bool wmatch_suffixes2(const struct wsuffixes *s, const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen);

#endif // IOQ_WMATCH_H
