// SPDX-License-Identifier: 0BSD
/**
 * ign: ignore files (`.gitignore`, `.git/info/exclude`, `.ignore`), with
 * git's rules.
 *
 * One file's bytes compile to a rule list (ign_parse()), once; a list is
 * read-only from then on, so any number of threads may match against it at
 * once, and matching never allocates.  A list answers for a path relative to
 * its file's directory (ign_list_match()).  The walk evaluates lists the way
 * git and fd stack them through frames (struct ign_frame): one per directory
 * it opened, pointing at its parent's, holding that directory's lists.
 *
 * The syntax is git's (2.39, dir.c and wildmatch.c), byte for byte:
 *
 *  - Lines end at `\n`; a `\r` before it is dropped; a UTF-8 byte-order
 *    mark at the start of the file is skipped.  An empty line, or one that
 *    starts with `#`, holds no rule.  A line ends at its first NUL byte, as
 *    git reads it as a C string.  Trailing spaces are dropped, unless
 *    escaped (`\ `); tabs are kept, and so are leading spaces.
 *  - `!` first negates the rule (a path it matches is re-included); `\!`
 *    and `\#` stand for a leading `!` or `#`.
 *  - A trailing `/` makes the rule match directories only (and is not part
 *    of the pattern).  A pattern with no other `/` matches the path's last
 *    component at any depth; one with a `/` at its start or in its middle
 *    matches the whole path relative to the file's directory (a leading `/`
 *    only anchors).
 *  - `*` matches any bytes but `/`; `?` one byte but `/`; `[...]` one byte
 *    but `/` in a set: ranges of byte values (a range's start is a member
 *    even when its end is below it: `[c-a]` is `c`), `!` or `^` to negate,
 *    `]` first as a member, `\` escapes, and the classes alnum, alpha,
 *    blank, cntrl, digit, graph, lower, print, punct, space, upper, xdigit
 *    (ASCII; space is tab, newline, carriage return and space).  `\c` is
 *    `c`.
 *  - `**` between slashes (or at the pattern's start or end) matches across
 *    directories: `**` then `/` matches zero or more leading directories,
 *    and a final `**` after a `/` everything inside.  Elsewhere `**` is `*`.
 *  - Characters are bytes: `?` matches one byte, so it does not match a
 *    two-byte UTF-8 character such as `é` (`??` does); sets hold bytes.
 *  - A pattern with an unclosed `[`, an unknown class (`[[:nope:]]`) or a
 *    trailing lone `\` matches nothing.
 *
 * One of git's implementation details shows, and is kept: a pattern with a
 * `/` has its leading literal part (up to its first `*`, `?`, `[` or `\`)
 * compared on its own, so a `**` right after it counts as the start of a
 * pattern (`a**` then `/b` matches `ax/y/b` in git, as here).  Ignore files
 * of over IGN_MAX_FILE bytes are refused, as git 2.46 and later refuse them.
 *
 * What git does that this module leaves to its caller: reading the files
 * (git opens `.gitignore` with O_NOFOLLOW), and not matching paths inside an
 * ignored directory (git's rule: nothing inside an excluded directory can be
 * re-included, so the walk never opens one).  core.ignoreCase and the global
 * core.excludesFile are not supported.
 *
 * A walk uses it so:
 *
 *  - When it has read a directory, it looks among the entries for `.ignore`,
 *    `.gitignore` (inside a repository only) and `.git` (of any type: the
 *    directory is then a repository's root, whose `.git/info/exclude` it
 *    reads); it reads those files (at most IGN_MAX_FILE bytes; one it cannot
 *    read is an error record, and counts as empty), compiles each with
 *    ign_parse(), and keeps the lists and a frame in the directory's node.
 *  - It asks ign_match() about each entry, through the node's frame, with
 *    the entry's path as the frames' bases describe it and the entry's own
 *    type (a symlink is not a directory); it drops an IGN_IGNORED entry, and
 *    does not open it.
 *  - A walk that starts inside a repository makes the frames of the
 *    directories from the repository's root down to its own root first.
 */

#ifndef IOQ_IGN_H
#define IOQ_IGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** The largest ignore file ign_parse() takes, in bytes (git's limit). */
#define IGN_MAX_FILE ((size_t)100 << 20)

/** A verdict on a path. */
enum ign_verdict {
	/** No rule matches the path. */
	IGN_NONE = 0,
	/** The rule that decides (the last one matching) ignores the path. */
	IGN_IGNORED = 1,
	/** The rule that decides is a negation (`!`): the path is re-included. */
	IGN_INCLUDED = 2,
};

/** The rules of one ignore file (opaque). */
struct ign_list;

/**
 * Compile an ignore file.
 *
 * @param text, len
 *         The file's bytes (any bytes; nothing is an error: git reads every
 *         line as some pattern).
 * @param[out] out
 *         Receives the list, to free with ign_free(), or NULL when the file
 *         holds no rule that can match (blank lines and comments only): NULL
 *         is an empty list to every function here.
 * @return
 *         0; -EFBIG for a file of over IGN_MAX_FILE bytes; -ENOMEM.  On
 *         error *out is NULL.
 */
int ign_parse(const uint8_t *text, size_t len, struct ign_list **out);

/** Free a list.  Accepts NULL. */
void ign_free(struct ign_list *list);

/**
 * The verdict of one file on one path.
 *
 * @param list
 *         The file's rules (NULL: none).
 * @param path, len
 *         The path relative to the file's directory: components joined by
 *         single `/`, no leading or trailing `/` (any other bytes).  An empty
 *         path gets IGN_NONE.
 * @param is_dir
 *         Whether the path is a directory (as lstat() sees it: a symlink to
 *         one is not), for the rules that end in `/`.
 * @param[out] line
 *         Receives the deciding rule's line number (1 for the first line),
 *         when the verdict is not IGN_NONE (may be NULL).
 * @return The verdict: the last rule of the file that matches decides.
 */
enum ign_verdict ign_list_match(const struct ign_list *list, const uint8_t *path, size_t len, bool is_dir, uint32_t *line);

/**
 * ign_list_match(), also counting its work, for the tests that hold
 * matching to its bound: O(path length x pattern length) per rule.
 *
 * @param[out] steps
 *         Receives the number of steps taken: bytes compared and start
 *         positions tried, each O(1).
 */
enum ign_verdict ign_list_match_counted(const struct ign_list *list, const uint8_t *path, size_t len, bool is_dir, uint32_t *line, uint64_t *steps);

/**
 * The ignore files of one directory the walk opened, and where they sit.
 *
 * A walk keeps one frame per open directory node (it owns the lists and
 * frees them with the node), pointing at its parent directory's frame;
 * frames are read-only once made, and a node outlives its children's
 * frames.  The chain ends at the top: the walk's root, or the root of the
 * repository above it when the walk starts inside one.
 *
 * Precedence, as fd and ripgrep stack them (the first list in this order
 * that has a matching rule decides, with its last matching rule):
 *
 *  1. `.ignore` files, from the path's directory up to the top of the
 *     chain (deeper first), across repository boundaries;
 *  2. `.gitignore` files, from the path's directory up to the root of its
 *     repository (the first frame with `repo` set), deeper first;
 *  3. that repository's `.git/info/exclude`.
 *
 * So a `.ignore` rule beats any `.gitignore` rule, also a deeper one, and
 * (2, 3) is git's own order.
 */
struct ign_frame {
	/** The enclosing directory's frame, or NULL at the top. */
	const struct ign_frame *parent;
	/**
	 * Where the paths given to ign_match() continue below this directory:
	 * for the top frame the offset of the first byte matched (usually 0),
	 * for the others the offset just after the `/` that ends this
	 * directory's name.  Bytes before the top frame's base are never read.
	 */
	size_t base;
	/** The directory's `.ignore` rules, or NULL. */
	const struct ign_list *ignore;
	/**
	 * The directory's `.gitignore` rules, or NULL.  fd applies `.gitignore`
	 * files only inside a repository: outside one, leave this NULL.
	 */
	const struct ign_list *gitignore;
	/** With `repo`: the repository's `.git/info/exclude` rules, or NULL. */
	const struct ign_list *exclude;
	/**
	 * Whether this directory is a repository's root (it holds a `.git`):
	 * the `.gitignore` files of the directories above it do not apply
	 * below it.
	 */
	bool repo;
};

/** Which rule decided, for diagnostics (`git check-ignore -v`). */
struct ign_hit {
	/** The list the rule is in. */
	const struct ign_list *list;
	/** Its line number in its file (1 for the first line). */
	uint32_t line;
};

/**
 * The verdict on one entry of a directory.
 *
 * The caller vouches that no directory between the top frame and the entry
 * is ignored: a walk knows it, as it does not open an ignored directory (git
 * does not re-include anything inside an excluded directory, whatever a
 * deeper rule says; a caller that does enter one must count everything in
 * it ignored, without asking).
 *
 * @param frame
 *         The frame of the entry's directory (NULL: no rules).
 * @param path, len
 *         The entry's path, as described for ign_frame::base: the frames
 *         below the top start just after a `/` in it, and it ends with the
 *         entry's name (no trailing `/`).  A frame whose base is not below
 *         `len` is skipped.
 * @param is_dir
 *         Whether the entry is a directory, as for ign_list_match().
 * @param[out] hit
 *         Receives the deciding rule when the verdict is not IGN_NONE (may
 *         be NULL).
 * @return The verdict.  A walk skips an entry on IGN_IGNORED (and does not
 *         open it if it is a directory); IGN_INCLUDED and IGN_NONE both
 *         keep it.
 */
enum ign_verdict ign_match(const struct ign_frame *frame, const uint8_t *path, size_t len, bool is_dir, struct ign_hit *hit);

/**
 * Test hook (exported for tests/ign_test.ts): the verdicts of a walk on a
 * described tree, made the way the engine makes them.  Every directory above
 * a query is visited from the top down: each is matched as an entry of its
 * parent, and stops the query as ignored (with its rule) if it is ignored;
 * otherwise its frame is made.
 *
 * @param spec, len
 *         Records, integers little-endian, paths relative to the top:
 *          - 1, u32 path length, path, u32 content length, content: an
 *            ignore file; its path ends in `.gitignore`, `.ignore` or
 *            `.git/info/exclude` (of a repository root);
 *          - 2, u32 length, path: a repository's root (empty: the top);
 *            `.gitignore` files apply inside repositories only;
 *          - 3, u8 is_dir, u32 length, path: a query (not empty, no empty
 *            component).
 * @param[out] out, out_len
 *         Three int32 per query, in order: the verdict (enum ign_verdict),
 *         the index of the deciding file among the type-1 records (or -1),
 *         its line (or 0).  `out_len` counts int32s.
 * @return
 *         The number of queries; -EINVAL for a malformed spec or a query
 *         that does not fit `out`; ign_parse()'s errors.
 */
int32_t ioq_test_ign(const uint8_t *spec, uint32_t len, int32_t *out, uint32_t out_len);

#endif // IOQ_IGN_H
