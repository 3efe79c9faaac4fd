// SPDX-License-Identifier: 0BSD
/**
 * fnm: matching one name against a shell glob, compiled once and matched
 * many times (find's -name, -iname and -path, names to prune, the segments of
 * a glob()).
 *
 * Two dialects:
 *
 *  - find's (the default): what GNU find 4.9 does, through glibc's
 *    fnmatch(3) without FNM_PATHNAME, in a UTF-8 locale: `*`, `?`, bracket
 *    expressions with ranges, `!` and `^` negation, `]` first in a set,
 *    classes such as `[[:alpha:]]`, `[=c=]` and `[.c.]`, backslash escapes.
 *    A leading `.` is not special and `/` is an ordinary character (find's
 *    -path matches `*` across `/`).  No pattern is an error: like find, an
 *    odd pattern matches literally (an unclosed `[`) or matches nothing
 *    (`[z-a]`, a trailing backslash, `[[:nosuch:]]`).
 *
 *  - glob()'s (FNM_GLOB): one path segment of @std/fs expandGlob, exactly as
 *    @std/path globToRegExp translates it to a regular expression: its
 *    braces `{a,b}`; its classes (ASCII, but for `[[:space:]]`, which is
 *    JavaScript's \s; `[^a]` is a set holding `^`); its escapes; its
 *    `!(a|b)`, a lookahead then `*` (so, unlike bash, `!(foo).js` does not
 *    match `foobar.js`); and its rule that a segment with an unclosed `[`,
 *    `(`, `{` or a dangling backslash matches literally.  A pattern whose
 *    regular expression would not compile (`[z-a]`) is an error.  The
 *    pattern is one segment: a `/` in it is a character that no name holds.
 *
 * Names and patterns are bytes.  A valid UTF-8 sequence is one character; a
 * byte that is not part of one is a character of its own, which only `?`,
 * `*`, a negated set or the same byte in the pattern matches.  fnm.c says
 * where each dialect departs from its model and why.
 *
 * Cost: compiling allocates; matching never does, and is polynomial: at
 * most O(name length x pattern length) steps, O(1) each (see
 * fnm_match_counted()).  Literal, `*suffix`, `prefix*` and other patterns of
 * literal pieces and stars compare bytes and nothing more (some nanoseconds
 * a name).
 *
 * Threads: a compiled pattern is never written after fnm_compile() returns;
 * any number of threads may match against it at once.
 */

#ifndef IOQ_FNM_H
#define IOQ_FNM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Flags for fnm_compile(). */
enum fnm_flags {
	/**
	 * Ignore case (find's -iname, glob()'s caseInsensitive): characters
	 * match under Unicode simple case folding, except that an ASCII
	 * character never matches a non-ASCII one (see fnm.c).
	 */
	FNM_ICASE = 1 << 0,
	/**
	 * A `.` at the start of the name matches only a literal `.` in the
	 * pattern, never `*`, `?` or a set (fnmatch(3)'s FNM_PERIOD).
	 */
	FNM_EXPLICIT_DOT = 1 << 1,
	/** The glob() dialect: a segment as @std/path globToRegExp reads it. */
	FNM_GLOB = 1 << 2,
	/**
	 * With FNM_GLOB: the extended syntax `?(a|b)`, `*(a|b)`, `+(a|b)`,
	 * `@(a|b)` and `!(a|b)`, nested (globToRegExp's `extended: true`).
	 */
	FNM_EXTGLOB = 1 << 3,
};

/** A compiled pattern (opaque). */
struct fnm;

/** Why fnm_compile() rejected a pattern. */
struct fnm_error {
	/** The byte offset in the pattern the problem starts at. */
	size_t pos;
	/** What is wrong: a static string, such as "range out of order in character class". */
	const char *msg;
};

/**
 * Compile a pattern.
 *
 * @param pattern, len
 *         The pattern bytes (any bytes; NUL is an ordinary character, which
 *         no name holds).
 * @param flags
 *         enum fnm_flags values, or 0 for find's -name.
 * @param[out] out
 *         Receives the compiled pattern, to free with fnm_free().
 * @param[out] err
 *         Filled in when -EINVAL is returned (may be NULL).
 * @return
 *         0; -EINVAL for an unknown flag, FNM_EXTGLOB without FNM_GLOB, a
 *         glob() pattern that globToRegExp cannot compile, or a pattern too
 *         large to compile (over 16 MiB; a glob() segment whose groups need
 *         more than 8192 matcher states; find brackets so tangled that they
 *         compile to 64 tests a character); or -ENOMEM.  On error *out is
 *         NULL.
 */
int fnm_compile(const uint8_t *pattern, size_t len, uint32_t flags, struct fnm **out, struct fnm_error *err);

/**
 * Match a name.
 *
 * @param name, len
 *         The name's bytes.  In find's dialect any bytes (a -path path
 *         holds `/`); in glob()'s a name holding `/` is not a segment and
 *         never matches.
 * @return Whether the whole name matches.
 */
bool fnm_match(const struct fnm *f, const uint8_t *name, size_t len);

/**
 * fnm_match(), also counting its work, for the tests that hold matching to
 * its polynomial bound.
 *
 * @param[out] steps
 *         Receives the number of steps taken: pattern elements tried, or
 *         matcher states visited; each is O(1) apart from literal pieces,
 *         O(their length).
 */
bool fnm_match_counted(const struct fnm *f, const uint8_t *name, size_t len, uint64_t *steps);

/** Free a compiled pattern.  Accepts NULL. */
void fnm_free(struct fnm *f);

/**
 * Test hook (exported for tests/fnm_test.ts): compile, match once, free.
 * @return 1 for a match, 0 for none, or fnm_compile()'s negative error.
 */
int32_t ioq_test_fnm_match(const uint8_t *pattern, uint32_t plen, uint32_t flags, const uint8_t *name, uint32_t nlen);

#endif // IOQ_FNM_H
