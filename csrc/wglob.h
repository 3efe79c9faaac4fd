// SPDX-License-Identifier: 0BSD
/**
 * wglob: glob patterns that steer a walk.
 *
 * Each pattern is a list of path segments below the walk's root, compiled
 * into positions of one small automaton shared by every pattern (at most
 * WGLOB_MAX positions in all): a literal name, a glob of one name (fnm.h's
 * glob dialect), `**`, or the end.  Patterns that begin alike share the
 * positions of their common first segments (exclude patterns, absolute,
 * share their path down to the root that way).  A directory carries the set of
 * positions it stands at (a bit set); an entry's set follows from its
 * directory's and its name.  An entry is a match when its set holds an end;
 * a directory is entered only when its set holds a position that can still
 * go further: so a directory no pattern can match below is never opened.
 * Exclude patterns (absolute) run the same way, on a set of their own, and
 * an excluded entry is neither a match nor entered.
 *
 * `**` follows @std/fs expandGlob: it stands for the directory it is
 * applied to and everything below it (with globstar), or for the directory
 * and its entries (without); applied to anything but a directory (a file,
 * a symlink not followed), it stands for nothing.
 */

#ifndef IOQ_WGLOB_H
#define IOQ_WGLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** The most positions of all patterns together. */
#define WGLOB_MAX 64

/** A set of positions. */
typedef uint64_t wglob_set;

/** Pattern flags (the spec item's flags, see walk.h). */
/** Case-insensitive. */
#define WGLOB_CASEFOLD 0x01
/** Extended globs (`?(a|b)` and kin). */
#define WGLOB_EXTGLOB 0x02
/** `**` crosses directories. */
#define WGLOB_GLOBSTAR 0x04
/** Only directories match (the pattern ended with a slash). */
#define WGLOB_DIRS 0x08

/** The compiled patterns (opaque). */
struct wglob;

/**
 * Make an empty set of patterns.
 * @return It, or NULL when out of memory.
 */
struct wglob *wglob_new(void);

/** Free patterns.  Accepts NULL. */
void wglob_free(struct wglob *g);

/**
 * Add a pattern.
 * @param pat, len
 *         Segments separated by slashes, relative to the walk's root
 *         (include) or absolute (exclude).
 * @param flags
 *         WGLOB_* flags.
 * @param exclude
 *         Whether it excludes.
 * @return 0; -ENOSPC past WGLOB_MAX positions (a position per segment not
 *         shared with a pattern added before, one for the end, and one more
 *         for an include pattern ending in `**`); -EINVAL for a segment fnm
 *         refuses; -ENOMEM.  On error nothing was added.
 */
int wglob_add(struct wglob *g, const uint8_t *pat, uint32_t len, uint8_t flags, bool exclude);

/** @return Whether any include pattern was added. */
bool wglob_active(const struct wglob *g);

/**
 * The sets of the walk's root: the include patterns' starts, and the
 * exclude patterns advanced through the root's absolute path.  (Also the
 * exclude set of an entry shown at its canonical path, `abs`.)
 */
void wglob_root(const struct wglob *g, const uint8_t *abs, size_t len, wglob_set *inc, wglob_set *exc);

/**
 * The sets of an entry named `name` in a directory whose sets are `inc`
 * and `exc`.
 */
void wglob_step(const struct wglob *g, wglob_set inc, wglob_set exc, const uint8_t *name, size_t len, wglob_set *inc_out, wglob_set *exc_out);

/** @return Whether sets make a match (excluded ones never do); `dir`: the entry is a directory. */
bool wglob_matches(const struct wglob *g, wglob_set inc, wglob_set exc, bool dir);

/** @return Whether a directory with these sets is to be entered. */
bool wglob_enters(const struct wglob *g, wglob_set inc, wglob_set exc);

/**
 * The names a directory with this set can have matches or entries among,
 * when they are all literal (no listing needed: each is looked up).
 * @param names
 *         Receives up to `max` NUL-terminated names.
 * @return How many; -1 when some position is not literal (the directory
 *         must be listed).
 */
int wglob_literals(const struct wglob *g, wglob_set inc, const char **names, int max);

/**
 * Check one segment of a pattern as wglob_add() compiles it (exported for
 * glob(), which names the pattern and the place in it that is wrong).
 * @param flags
 *         WGLOB_* flags.
 * @param[out] pos
 *         For -EINVAL: the byte offset in the segment where it goes wrong.
 * @param[out] msg, cap
 *         For -EINVAL: what is wrong, NUL-terminated, cut to `cap` bytes.
 * @return 0; -EINVAL for a segment fnm refuses; -ENOMEM.
 */
int32_t ioq_glob_check(const uint8_t *seg, uint32_t len, uint32_t flags, uint32_t *pos, char *msg, uint32_t cap);

#endif // IOQ_WGLOB_H
