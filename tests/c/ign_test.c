// SPDX-License-Identifier: 0BSD
/**
 * ign_test: ignore files (csrc/ign.c).
 *
 *  1. A table of one-file cases for every rule of git's syntax (each
 *     expectation is what git 2.39's check-ignore answers), and how the
 *     frames stack lists (.ignore, .gitignore, info/exclude, repositories).
 *  2. Malformed files: huge lines, NUL bytes, stray bytes, unclosed
 *     brackets, random bytes, an oversized file.
 *  3. The greedy matcher against a naive backtracking one, on random
 *     patterns and paths; the seed is $IOQ_TEST_SEED, or random; it is
 *     printed.
 *  4. The work of a match stays within O(path x pattern) on patterns that
 *     make a backtracking matcher exponential (counted in steps, not time).
 *  5. Threads share compiled lists; the test hook answers a described tree.
 */

#define _GNU_SOURCE
#include "ign.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "rng.h"

/** The checks that passed. */
static long passed;

/** Compile a file or fail. */
static struct ign_list *parse(const char *text, size_t len) {
	struct ign_list *l;
	int ret = ign_parse((const uint8_t *)text, len, &l);
	if (ret != 0) {
		fail("ign_parse('%s') gave %s", show_bytes(text, len), strerrorname_np(-ret));
	}
	return l;
}

/** Compile a file given as a C string. */
static struct ign_list *parse_str(const char *text) {
	return parse(text, strlen(text));
}

/** The verdicts, shortened for the table. */
enum {
	N = IGN_NONE,
	I = IGN_IGNORED,
	R = IGN_INCLUDED,
};

/** A case of the table: one ignore file, one path. */
struct file_case {
	/** The file (may hold NUL bytes). */
	const char *text;
	/** Its length. */
	size_t len;
	/** The path, relative to the file's directory. */
	const char *path;
	/** Whether the path is a directory. */
	bool dir;
	/** The verdict. */
	int want;
	/** The deciding line, unless the verdict is N. */
	uint32_t line;
};

/** A case whose file is a string literal (NUL bytes included). */
#define C(text, path, dir, want, line) {text, sizeof(text) - 1, path, dir, want, line}

static const struct file_case file_cases[] = {
	// Blank lines, comments, line numbers, line ends, the byte-order mark
	C("", "a", false, N, 0),
	C("\n\n\n", "a", false, N, 0),
	C("#a\n", "#a", false, N, 0),
	C("# a", "# a", false, N, 0),
	C("\\#a\n", "#a", false, I, 1),
	C(" #a\n", " #a", false, I, 1),
	C("a\n#b\n\nb\n", "b", false, I, 4),
	C("a", "a", false, I, 1),
	C("x\na", "a", false, I, 2),
	C("a\r\n", "a", false, I, 1),
	C("a\r", "a", false, I, 1),
	C("a\r\r\n", "a\r", false, I, 1),
	C("a\rb\n", "a\rb", false, I, 1),
	C("\r\n", "\r", false, N, 0),
	C("\xef\xbb\xbf" "a\n", "a", false, I, 1),
	C("\xef\xbb\xbf" "#a\n", "#a", false, N, 0),
	C("x\n\xef\xbb\xbf" "a\n", "\xef\xbb\xbf" "a", false, I, 2),
	// Trailing spaces, escaped or not; tabs and leading spaces stay
	C("a  \n", "a", false, I, 1),
	C("a  \n", "a  ", false, N, 0),
	C("a\\ \n", "a ", false, I, 1),
	C("a\\  \n", "a ", false, I, 1),
	C("a \\ \n", "a  ", false, I, 1),
	C("a \\ \n", "a", false, N, 0),
	C("a\t\n", "a\t", false, I, 1),
	C("a\t\n", "a", false, N, 0),
	C(" a\n", " a", false, I, 1),
	C(" a\n", "a", false, N, 0),
	C("   \n", " ", false, N, 0),
	C("   \n", "a", false, N, 0),
	// A line ends at its first NUL
	C("a\0b\n", "a", false, I, 1),
	C("a \0b\n", "a", false, I, 1),
	C("\0a\n", "a", false, N, 0),
	C("x\n\0\na\n", "a", false, I, 3),
	// Negation; the last matching rule decides
	C("!a\n", "a", false, R, 1),
	C("a\n!a\n", "a", false, R, 2),
	C("!a\na\n", "a", false, I, 2),
	C("*.c\n!x.c\n", "x.c", false, R, 2),
	C("*.c\n!x.c\n", "y.c", false, I, 1),
	C("\\!a\n", "!a", false, I, 1),
	C("\\!a\n", "a", false, N, 0),
	C("!\\!a\n", "!a", false, R, 1),
	C("!!a\n", "!a", false, R, 1),
	C("!\n", "!", false, N, 0),
	C("\\!\n", "!", false, I, 1),
	// No slash: the last component, at any depth
	C("a\n", "a", false, I, 1),
	C("a\n", "x/a", false, I, 1),
	C("a\n", "x/y/a", true, I, 1),
	C("a\n", "a/x", false, N, 0),
	// A leading or middle slash anchors to the file's directory
	C("/a\n", "a", false, I, 1),
	C("/a\n", "x/a", false, N, 0),
	C("x/a\n", "x/a", false, I, 1),
	C("x/a\n", "y/x/a", false, N, 0),
	C("/x/a\n", "x/a", false, I, 1),
	C("x/*\n", "x/a", false, I, 1),
	C("x/*\n", "x/a/b", false, N, 0),
	C("x/*\n", "y/x/a", false, N, 0),
	C("*/a\n", "x/a", false, I, 1),
	C("*/a\n", "x/y/a", false, N, 0),
	C("*/a\n", "a", false, N, 0),
	C("/\n", "a", true, N, 0),
	C("//\n", "a", true, N, 0),
	C("a//\n", "a", true, N, 0),
	// A trailing slash: directories only
	C("x/\n", "x", true, I, 1),
	C("x/\n", "x", false, N, 0),
	C("x/\n", "y/x", true, I, 1),
	C("/x/\n", "y/x", true, N, 0),
	C("x/a/\n", "x/a", true, I, 1),
	C("x/a/\n", "x/a", false, N, 0),
	C("x/\n!x\n", "x", true, R, 2),
	C("x\n!x/\n", "x", false, I, 1),
	// `**`
	C("**/a\n", "a", false, I, 1),
	C("**/a\n", "x/a", false, I, 1),
	C("**/a\n", "x/y/a", false, I, 1),
	C("**/a\n", "xa", false, N, 0),
	C("**/x/a\n", "y/x/a", false, I, 1),
	C("**/x/a\n", "x/a", false, I, 1),
	C("**/x/a\n", "x/y/a", false, N, 0),
	C("a/**\n", "a/b", false, I, 1),
	C("a/**\n", "a/b/c", false, I, 1),
	C("a/**\n", "a", true, N, 0),
	C("a/**/b\n", "a/b", false, I, 1),
	C("a/**/b\n", "a/x/b", false, I, 1),
	C("a/**/b\n", "a/x/y/b", false, I, 1),
	C("a/**/b\n", "a/xb", false, N, 0),
	C("a/**/b\n", "ab", false, N, 0),
	C("a/***/b\n", "a/x/y/b", false, I, 1),
	C("a/**/\n", "a/b", true, I, 1),
	C("a/**/\n", "a/b", false, N, 0),
	C("a/**\\/b\n", "a/x/b", false, I, 1),
	C("a/**\\/b\n", "a/b", false, N, 0),
	C("**\n", "a", false, I, 1),
	C("/**\n", "a/b", false, I, 1),
	C("**/**/a\n", "a", false, I, 1),
	C("**/**/a\n", "x/y/z/a", false, I, 1),
	// Elsewhere `**` is `*`
	C("/a**b\n", "axyb", false, I, 1),
	C("/a**b\n", "ax/yb", false, N, 0),
	C("x/*b**\n", "x/cbd", false, I, 1),
	C("x/*b**\n", "x/cb/d", false, N, 0),
	// ... except right after the literal part of an anchored pattern, as in git
	C("a**/b\n", "ax/b", false, I, 1),
	C("a**/b\n", "ax/y/b", false, I, 1),
	C("x/a**/b\n", "x/a/b", false, I, 1),
	C("x/a**/b\n", "x/ac/d/b", false, I, 1),
	C("x/b**\n", "x/bc/d", false, I, 1),
	C("x/b**\n", "x/b", false, I, 1),
	// `*` and `?` stop at `/`; characters are bytes
	C("*\n", "a", false, I, 1),
	C("a*\n", "abc", false, I, 1),
	C("*.c\n", ".c", false, I, 1),
	C("*.c\n", "c", false, N, 0),
	C("a*b*c\n", "abbc", false, I, 1),
	C("a*b*c\n", "acb", false, N, 0),
	C("a?c\n", "abc", false, I, 1),
	C("a?c\n", "ac", false, N, 0),
	C("/a?c\n", "a/c", false, N, 0),
	C("/a*c\n", "a/c", false, N, 0),
	C("/a*c\n", "abc", false, I, 1),
	C("?\n", "\xc3\xa9", false, N, 0),
	C("??\n", "\xc3\xa9", false, I, 1),
	C("\xc3?\n", "\xc3\xa9", false, I, 1),
	C("*\xa9\n", "\xc3\xa9", false, I, 1),
	C("?\n", "\xff", false, I, 1),
	// Sets
	C("[ab]\n", "b", false, I, 1),
	C("[ab]\n", "c", false, N, 0),
	C("[!ab]\n", "c", false, I, 1),
	C("[!ab]\n", "a", false, N, 0),
	C("[^ab]\n", "c", false, I, 1),
	C("[^ab]\n", "b", false, N, 0),
	C("[]a]\n", "]", false, I, 1),
	C("[!]a]\n", "]", false, N, 0),
	C("[!]a]\n", "b", false, I, 1),
	C("[a-c]\n", "b", false, I, 1),
	C("[a-c]\n", "d", false, N, 0),
	C("[c-a]\n", "b", false, N, 0),
	C("[c-a]\n", "c", false, I, 1),
	C("[c-a]\n", "a", false, N, 0),
	C("[a-]\n", "-", false, I, 1),
	C("[-a]\n", "-", false, I, 1),
	C("[!-a]\n", "-", false, N, 0),
	C("[a-c-e]\n", "-", false, I, 1),
	C("[a-c-e]\n", "d", false, N, 0),
	C("[\\]]\n", "]", false, I, 1),
	C("[\\\\]\n", "\\", false, I, 1),
	C("[a\\-c]\n", "-", false, I, 1),
	C("[a\\-c]\n", "b", false, N, 0),
	C("[a-\\c]\n", "b", false, I, 1),
	C("[\\a-c]\n", "b", false, I, 1),
	C("/x[/]y\n", "x/y", false, N, 0),
	C("/x[!a]y\n", "x/y", false, N, 0),
	C("[\x80-\xff]\n", "\xc3", false, I, 1),
	C("[\x80-\xff]\n", "a", false, N, 0),
	C("[\xc3\xa9]\n", "\xc3\xa9", false, N, 0),
	C("[\xc3\xa9]\n", "\xa9", false, I, 1),
	C("[[:alpha]]\n", "a]", false, I, 1),
	C("[[:alpha]]\n", ":]", false, I, 1),
	C("[[:alpha]]\n", "[]", false, I, 1),
	C("[[:alpha]]\n", "x]", false, N, 0),
	C("[a[:digit:]]\n", "5", false, I, 1),
	C("[[:digit:]-z]\n", "-", false, I, 1),
	// Every class (ASCII; git's space has no \v nor \f)
	C("[[:alnum:]]\n", "a", false, I, 1),
	C("[[:alnum:]]\n", "_", false, N, 0),
	C("[[:alpha:]]\n", "Z", false, I, 1),
	C("[[:alpha:]]\n", "1", false, N, 0),
	C("[[:alpha:]]\n", "\xc3", false, N, 0),
	C("[[:blank:]]\n", "\t", false, I, 1),
	C("[[:blank:]]\n", "\n", false, N, 0),
	C("[[:cntrl:]]\n", "\x01", false, I, 1),
	C("[[:cntrl:]]\n", "\x7f", false, I, 1),
	C("[[:cntrl:]]\n", "a", false, N, 0),
	C("[[:digit:]]\n", "7", false, I, 1),
	C("[[:digit:]]\n", "a", false, N, 0),
	C("[[:graph:]]\n", "!", false, I, 1),
	C("[[:graph:]]\n", " ", false, N, 0),
	C("[[:lower:]]\n", "q", false, I, 1),
	C("[[:lower:]]\n", "Q", false, N, 0),
	C("[[:print:]]\n", " ", false, I, 1),
	C("[[:print:]]\n", "\x7f", false, N, 0),
	C("[[:punct:]]\n", "~", false, I, 1),
	C("[[:punct:]]\n", "a", false, N, 0),
	C("[[:space:]]\n", "\r", false, I, 1),
	C("[[:space:]]\n", "\n", false, I, 1),
	C("[[:space:]]\n", "\x0b", false, N, 0),
	C("[[:space:]]\n", "\x0c", false, N, 0),
	C("[[:upper:]]\n", "Q", false, I, 1),
	C("[[:upper:]]\n", "q", false, N, 0),
	C("[[:xdigit:]]\n", "f", false, I, 1),
	C("[[:xdigit:]]\n", "g", false, N, 0),
	C("[![:alpha:]]\n", "1", false, I, 1),
	C("[![:alpha:]]\n", "\xc3", false, I, 1),
	// Patterns that match nothing: unclosed sets, unknown classes, a trailing `\`
	C("[ab\n", "[ab", false, N, 0),
	C("[ab\n", "a", false, N, 0),
	C("a[\n", "a[", false, N, 0),
	C("[\n", "[", false, N, 0),
	C("[]\n", "[]", false, N, 0),
	C("[!]\n", "[!]", false, N, 0),
	C("[[:nope:]]\n", "a", false, N, 0),
	C("[[:nope:]]\n", "[", false, N, 0),
	C("[[::]]\n", ":", false, N, 0),
	C("[[:alpha:]\n", "a", false, N, 0),
	C("[a\\\n", "a", false, N, 0),
	C("[\\\n", "[\\", false, N, 0),
	C("a\\\n", "a\\", false, N, 0),
	C("\\\n", "\\", false, N, 0),
	C("a\\\\\n", "a\\", false, I, 1),
	C("[ab\na\n", "a", false, I, 2),
	C("x/\\\n", "x", true, N, 0),
	// Escapes
	C("\\*\n", "*", false, I, 1),
	C("\\*\n", "a", false, N, 0),
	C("\\?\n", "?", false, I, 1),
	C("\\?\n", "a", false, N, 0),
	C("\\a\n", "a", false, I, 1),
	C("\\[a]\n", "[a]", false, I, 1),
	C("\\[a]\n", "a", false, N, 0),
	C("a\\/b\n", "a/b", false, I, 1),
	C("a\\/b\n", "x/a/b", false, N, 0),
	// Stray bytes
	C("\xff\xfe\n", "\xff\xfe", false, I, 1),
	C("*\xff\n", "a\xff", false, I, 1),
	C("\xff/\n", "x/\xff", true, I, 1),
};

/** Check one case of the table. */
static void check_file_case(const struct file_case *c) {
	set_context("file '%s', path '%s'%s", show_bytes(c->text, c->len), show_bytes(c->path, strlen(c->path)), c->dir ? " (dir)" : "");
	struct ign_list *l = parse(c->text, c->len);
	uint32_t line = 0;
	enum ign_verdict got = ign_list_match(l, (const uint8_t *)c->path, strlen(c->path), c->dir, &line);
	if ((int)got != c->want || (got != IGN_NONE && line != c->line)) {
		fail("verdict %d (line %u), expected %d (line %u)", got, line, c->want, c->line);
	}
	ign_free(l);
	++passed;
}

/** The lists of the frames test. */
struct frame_lists {
	struct ign_list *top_ignore, *top_git, *top_exclude;
	struct ign_list *sub_ignore, *sub_git;
	struct ign_list *nested_git, *nested_exclude;
};

/** Check one verdict through frames, and which list and line gave it. */
static void expect_frame(const struct ign_frame *f, const char *path, bool dir, int want, const struct ign_list *list, uint32_t line) {
	set_context("frames, path '%s'", path);
	struct ign_hit hit = {0};
	enum ign_verdict got = ign_match(f, (const uint8_t *)path, strlen(path), dir, &hit);
	if ((int)got != want) {
		fail("verdict %d, expected %d", got, want);
	}
	if (got != IGN_NONE && (hit.list != list || hit.line != line)) {
		fail("decided by list %p line %u, expected %p line %u", (const void *)hit.list, hit.line, (const void *)list, line);
	}
	++passed;
}

/** How frames stack lists: .ignore first, then .gitignore up to the repository, then its exclude. */
static void test_frames(void) {
	struct frame_lists l = {
		.top_ignore = parse_str("!*.log\n*.h\nd1\n"),
		.top_git = parse_str("*.log\n*.c\n!x\n/only\nd2/\n"),
		.top_exclude = parse_str("x\ny\n*.o\n"),
		.sub_ignore = parse_str("!d1\n"),
		.sub_git = parse_str("!*.c\n*.o\nonly\n"),
		.nested_git = parse_str("*.tmp\n"),
		.nested_exclude = parse_str("*.bak\n"),
	};
	// top (a repository) / sub / nested (a repository)
	struct ign_frame top = {.base = 0, .ignore = l.top_ignore, .gitignore = l.top_git, .exclude = l.top_exclude, .repo = true};
	struct ign_frame sub = {.parent = &top, .base = 4, .ignore = l.sub_ignore, .gitignore = l.sub_git};
	struct ign_frame nested = {.parent = &sub, .base = 11, .gitignore = l.nested_git, .exclude = l.nested_exclude, .repo = true};

	// git's order: exclude lowest, deeper .gitignore above shallower
	expect_frame(&top, "x", false, R, l.top_git, 3);
	expect_frame(&top, "y", false, I, l.top_exclude, 2);
	expect_frame(&top, "a.o", false, I, l.top_exclude, 3);
	expect_frame(&top, "a.c", false, I, l.top_git, 2);
	expect_frame(&sub, "sub/a.c", false, R, l.sub_git, 1);
	expect_frame(&sub, "sub/a.o", false, I, l.sub_git, 2);
	expect_frame(&sub, "sub/x", false, R, l.top_git, 3);
	expect_frame(&top, "only", false, I, l.top_git, 4);
	expect_frame(&sub, "sub/only", false, I, l.sub_git, 3);
	expect_frame(&sub, "sub/d2", true, I, l.top_git, 5);
	expect_frame(&sub, "sub/d2", false, N, NULL, 0);
	// .ignore before any .gitignore, also a deeper one
	expect_frame(&top, "a.log", false, R, l.top_ignore, 1);
	expect_frame(&sub, "sub/a.log", false, R, l.top_ignore, 1);
	expect_frame(&sub, "sub/a.h", false, I, l.top_ignore, 2);
	expect_frame(&sub, "sub/d1", true, R, l.sub_ignore, 1);
	expect_frame(&top, "d1", true, I, l.top_ignore, 3);
	// A repository inside: the outer .gitignore and exclude stop, .ignore goes on
	expect_frame(&nested, "sub/nested/a.c", false, N, NULL, 0);
	expect_frame(&nested, "sub/nested/a.o", false, N, NULL, 0);
	expect_frame(&nested, "sub/nested/a.tmp", false, I, l.nested_git, 1);
	expect_frame(&nested, "sub/nested/a.bak", false, I, l.nested_exclude, 1);
	expect_frame(&nested, "sub/nested/a.h", false, I, l.top_ignore, 2);
	expect_frame(&nested, "sub/nested/a.log", false, R, l.top_ignore, 1);
	expect_frame(&sub, "sub/a.bak", false, N, NULL, 0);
	// A top frame that starts inside the path; frames not below the path's end
	struct ign_frame inner = {.base = 4, .gitignore = l.top_git, .repo = true};
	expect_frame(&inner, "src/only", false, I, l.top_git, 4);
	expect_frame(&inner, "src/x/only", false, N, NULL, 0);
	expect_frame(&inner, "src", true, N, NULL, 0);
	expect_frame(&sub, "sub", true, N, NULL, 0);
	expect_frame(NULL, "a.c", false, N, NULL, 0);
	// Without a repository frame, .gitignore lists apply up to the top
	struct ign_frame bare = {.gitignore = l.top_git};
	struct ign_frame bare_sub = {.parent = &bare, .base = 2, .gitignore = l.sub_git};
	expect_frame(&bare_sub, "s/a.log", false, I, l.top_git, 1);
	expect_frame(&bare_sub, "s/a.c", false, R, l.sub_git, 1);

	ign_free(l.top_ignore);
	ign_free(l.top_git);
	ign_free(l.top_exclude);
	ign_free(l.sub_ignore);
	ign_free(l.sub_git);
	ign_free(l.nested_git);
	ign_free(l.nested_exclude);
	printf("ok   frames: .ignore, .gitignore and info/exclude stacked, repositories nested\n");
}

/** The table. */
static void test_table(void) {
	for (size_t i = 0; i < sizeof(file_cases) / sizeof(file_cases[0]); ++i) {
		check_file_case(&file_cases[i]);
	}
	// No rule at all: NULL, an empty list to every function
	static const struct {
		const char *text;
		size_t len;
	} empty[] = {
#define E(text) {text, sizeof(text) - 1}
		E(""), E("\n"), E("# x\n\n#y"), E("   \n \n"), E("\0\0\0\n\0"), E("!\n/\n"), E("[\n[[:x:]]\n\\"),
#undef E
	};
	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); ++i) {
		set_context("empty file '%s'", show_bytes(empty[i].text, empty[i].len));
		struct ign_list *l = parse(empty[i].text, empty[i].len);
		if (l) {
			fail("a list, where no rule can match");
		}
		if (ign_list_match(NULL, (const uint8_t *)"a", 1, false, NULL) != IGN_NONE) {
			fail("the NULL list matched");
		}
		++passed;
	}
	// An empty path is never matched
	struct ign_list *l = parse_str("*\n**\n");
	if (ign_list_match(l, (const uint8_t *)"", 0, true, NULL) != IGN_NONE) {
		fail("the empty path matched");
	}
	ign_free(l);
	++passed;
	printf("ok   table: %zu one-file cases, %zu empty files\n", sizeof(file_cases) / sizeof(file_cases[0]), sizeof(empty) / sizeof(empty[0]));
}

/** Check a verdict on a big or odd input. */
static void expect_big(struct ign_list *l, const char *path, size_t len, bool dir, int want, uint32_t line) {
	uint32_t got_line = 0;
	enum ign_verdict got = ign_list_match(l, (const uint8_t *)path, len, dir, &got_line);
	if ((int)got != want || (got != IGN_NONE && got_line != line)) {
		fail("verdict %d (line %u), expected %d (line %u)", got, got_line, want, line);
	}
	++passed;
}

/** Malformed and oversized files. */
static void test_malformed(struct rng *rng) {
	enum { BIG = 1 << 20 };
	char *buf = malloc(BIG + 16);
	char *path = malloc(BIG + 16);
	if (!buf || !path) {
		fail("out of memory");
	}

	set_context("a 1 MiB literal line");
	memset(buf, 'a', BIG);
	memset(path, 'a', BIG);
	struct ign_list *l = parse(buf, BIG);
	expect_big(l, path, BIG, false, I, 1);
	expect_big(l, path, BIG - 1, false, N, 0);
	expect_big(l, "a", 1, false, N, 0);
	ign_free(l);

	set_context("a 1 MiB line of stars");
	memset(buf, '*', BIG);
	l = parse(buf, BIG);
	expect_big(l, path, BIG, false, I, 1);
	expect_big(l, "x/y", 3, false, I, 1);
	ign_free(l);

	set_context("a 1 MiB line of `[`");
	memset(buf, '[', BIG);
	l = parse(buf, BIG);
	if (l) {
		fail("an unclosed set made a rule");
	}

	set_context("a 1 MiB line of `a/`");
	for (size_t i = 0; i < BIG; i += 2) {
		buf[i] = 'a';
		buf[i + 1] = '/';
	}
	memcpy(path, buf, BIG);
	l = parse(buf, BIG);
	expect_big(l, path, BIG - 1, true, I, 1);
	expect_big(l, path, BIG - 1, false, N, 0);
	ign_free(l);

	set_context("a 1 MiB set of `[:` that is no class");
	buf[0] = '[';
	for (size_t i = 1; i + 2 < BIG; i += 2) {
		buf[i] = '[';
		buf[i + 1] = ':';
	}
	memcpy(buf + BIG - 3, "x]", 3);
	l = parse(buf, BIG - 1);
	expect_big(l, ":", 1, false, I, 1);
	expect_big(l, "y", 1, false, N, 0);
	ign_free(l);

	set_context("100000 lines");
	for (size_t i = 0; i < 100000; ++i) {
		buf[2 * i] = 'a';
		buf[2 * i + 1] = '\n';
	}
	l = parse(buf, 200000);
	expect_big(l, "x/a", 3, false, I, 100000);
	ign_free(l);

	set_context("1 MiB of NUL bytes");
	memset(buf, 0, BIG);
	if (parse(buf, BIG)) {
		fail("NUL bytes made a rule");
	}
	++passed;

	set_context("random bytes");
	for (int round = 0; round < 200; ++round) {
		size_t len = (size_t)rng_below(rng, 4096);
		for (size_t i = 0; i < len; ++i) {
			uint64_t r = rng_below(rng, 8);
			buf[i] = r == 0 ? '\n' : r == 1 ? "*?[]\\/!#"[rng_below(rng, 8)] : (char)rng_below(rng, 256);
		}
		l = parse(buf, len);
		for (int q = 0; q < 20; ++q) {
			size_t plen = 1 + (size_t)rng_below(rng, 64);
			for (size_t i = 0; i < plen; ++i) {
				path[i] = (char)(1 + rng_below(rng, 255));
			}
			ign_list_match(l, (const uint8_t *)path, plen, rng_below(rng, 2), NULL);
		}
		ign_free(l);
	}
	++passed;

	set_context("an oversized file");
	free(buf);
	buf = calloc(IGN_MAX_FILE + 1, 1);
	if (!buf) {
		fail("out of memory");
	}
	l = (struct ign_list *)buf;
	int ret = ign_parse((const uint8_t *)buf, IGN_MAX_FILE + 1, &l);
	if (ret != -EFBIG || l) {
		fail("ign_parse() of IGN_MAX_FILE + 1 bytes gave %d", ret);
	}
	++passed;
	free(buf);
	free(path);
	printf("ok   malformed: huge lines, NUL bytes, stray bytes, unclosed sets, random bytes, an oversized file\n");
}

/**
 * A naive matcher for git's patterns (WM_PATHNAME), backtracking freely:
 * p[pi..pn) against s[si..sn), `ps` being where the pattern starts (for
 * `**`).  Sets are the simple ones the random patterns use: `[ab]`, `[!ab]`.
 */
static bool naive(const char *p, size_t pi, size_t pn, size_t ps, const char *s, size_t si, size_t sn) {
	if (pi == pn) {
		return si == sn;
	}
	char c = p[pi];
	if (c == '*') {
		size_t j = pi;
		while (j < pn && p[j] == '*') {
			++j;
		}
		bool bounded = j - pi >= 2 && (pi == ps || p[pi - 1] == '/') && (j == pn || p[j] == '/');
		if (bounded && j < pn && naive(p, j + 1, pn, ps, s, si, sn)) {
			return true;
		}
		for (size_t k = si; k <= sn; ++k) {
			if (naive(p, j, pn, ps, s, k, sn)) {
				return true;
			}
			if (!bounded && k < sn && s[k] == '/') {
				return false;
			}
		}
		return false;
	}
	if (si == sn) {
		return false;
	}
	if (c == '?') {
		return s[si] != '/' && naive(p, pi + 1, pn, ps, s, si + 1, sn);
	}
	if (c == '[') {
		size_t k = pi + 1;
		bool neg = p[k] == '!';
		k += neg;
		bool in = false;
		for (; p[k] != ']'; ++k) {
			in = in || p[k] == s[si];
		}
		return in != neg && s[si] != '/' && naive(p, k + 1, pn, ps, s, si + 1, sn);
	}
	return s[si] == c && naive(p, pi + 1, pn, ps, s, si + 1, sn);
}

/** The pieces random patterns are made of. */
static const char *const pattern_atoms[] = {"a", "b", "ab", "/", "*", "*", "**", "?", "[ab]", "[!a]", "**/", "/**", "/**/"};
/** The pieces random paths are made of. */
static const char *const path_atoms[] = {"a", "b", "ab", "ba", "c"};

/** The greedy matcher agrees with the naive one on random patterns and paths. */
static void test_naive(struct rng *rng) {
	long total = 0, matched = 0;
	long rounds = HARNESS_TSAN ? 20000 : 200000;
	for (long round = 0; round < rounds; ++round) {
		char pat[128], path[128];
		size_t pl = 0, sl = 0;
		for (uint64_t n = 1 + rng_below(rng, 6); n-- > 0;) {
			const char *a = pattern_atoms[rng_below(rng, sizeof(pattern_atoms) / sizeof(pattern_atoms[0]))];
			memcpy(pat + pl, a, strlen(a));
			pl += strlen(a);
		}
		for (uint64_t n = 1 + rng_below(rng, 5); n-- > 0;) {
			if (sl) {
				path[sl++] = '/';
			}
			for (uint64_t m = 1 + rng_below(rng, 2); m-- > 0;) {
				const char *a = path_atoms[rng_below(rng, sizeof(path_atoms) / sizeof(path_atoms[0]))];
				memcpy(path + sl, a, strlen(a));
				sl += strlen(a);
			}
		}
		pat[pl] = path[sl] = '\0';
		set_context("naive: pattern '%s', path '%s'", pat, path);

		// What git makes of the line, by hand: a trailing `/` and an
		// anchoring `/` go; no `/`: the last component; the literal part
		// is compared first, the rest starts the pattern
		size_t start = 0, end = pl;
		bool dir_only = end > 0 && pat[end - 1] == '/';
		end -= dir_only;
		bool base = !memchr(pat, '/', end);
		size_t lit = 0;
		while (lit < end && !strchr("*?[\\", pat[lit])) {
			++lit;
		}
		if (!base && pat[0] == '/') {
			start = 1;
		}
		const char *s = path;
		size_t sn = sl;
		if (base) {
			const char *slash = strrchr(path, '/');
			s = slash ? slash + 1 : path;
			sn = strlen(s);
		}
		bool want;
		if (end <= start) {
			want = false;
		} else if (base) {
			// git matches the last component with the whole pattern (no `/` in either)
			want = naive(pat, 0, end, 0, s, 0, sn);
		} else {
			want = sn >= lit - start && memcmp(s, pat + start, lit - start) == 0 && naive(pat, lit, end, lit, s, lit - start, sn);
		}
		bool is_dir = rng_below(rng, 2);
		want = want && (is_dir || !dir_only);

		struct ign_list *l = parse(pat, pl);
		bool got = ign_list_match(l, (const uint8_t *)path, sl, is_dir, NULL) == IGN_IGNORED;
		if (got != want) {
			fail("%s, the naive matcher says %s", got ? "ignored" : "not ignored", want ? "ignored" : "not ignored");
		}
		ign_free(l);
		++total;
		matched += want;
	}
	passed += total;
	printf("ok   naive: %ld random cases agree (%ld ignored)\n", total, matched);
}

/** Check that a match takes no more than `bound` steps, and gives `want`. */
static void expect_work(const char *pattern, const char *path, size_t len, bool want, uint64_t bound) {
	set_context("work: '%s' against %zu bytes", pattern, len);
	struct ign_list *l = parse(pattern, strlen(pattern));
	uint64_t steps;
	bool got = ign_list_match_counted(l, (const uint8_t *)path, len, false, NULL, &steps) == IGN_IGNORED;
	if (got != want) {
		fail("%s", got ? "ignored" : "not ignored");
	}
	if (steps > bound) {
		fail("%" PRIu64 " steps, more than %" PRIu64, steps, bound);
	}
	ign_free(l);
	++passed;
}

/** Patterns that make a backtracking matcher exponential stay within O(path x pattern) steps. */
static void test_work(void) {
	enum { LEN = 4000 };
	static char as[LEN + 1], dirs[LEN + 1];
	memset(as, 'a', LEN);
	for (size_t i = 0; i < LEN; i += 2) {
		dirs[i] = 'a';
		dirs[i + 1] = '/';
	}
	const size_t n = LEN + 1;
	// Each bound is (path + 1) x (pattern + 1) x 2
	static const char *const on_name[] = {
		"*a*a*a*a*a*a*a*b",
		"*a?*a?*a?*a?*a?*a?*b",
		"*[ab]*[ab]*[ab]*[ab]*c",
		"/**\\/**\\/**\\/**\\/x",
	};
	for (size_t i = 0; i < sizeof(on_name) / sizeof(on_name[0]); ++i) {
		expect_work(on_name[i], as, LEN, false, n * (strlen(on_name[i]) + 1) * 2);
	}
	static const char *const on_dirs[] = {
		"**/**/**/**/**/**/**/**/**/**/**/**/**/**/**/**/x",
		"a/**/a/**/a/**/a/**/a/**/a/**/a/**/b",
		"**/a*a*a*a*a*a*/**/b",
		"**/*/**/*/**/*/**/*/**/*/b",
		"/a/**/a*/**/?/**/[ab]/**/x",
		"/**\\/**\\/**\\/**\\/x",
	};
	for (size_t i = 0; i < sizeof(on_dirs) / sizeof(on_dirs[0]); ++i) {
		expect_work(on_dirs[i], dirs, LEN - 1, false, n * (strlen(on_dirs[i]) + 1) * 2);
	}
	expect_work("**/**/**/**/**/**/**/**/**/**/a", dirs, LEN - 1, true, n * 34 * 2);
	expect_work("a/**/a/**/a/**/a/**/a", dirs, LEN - 1, true, n * 22 * 2);

	// Twice the path, about twice the work: linear in the path
	set_context("work: linear");
	struct ign_list *l = parse_str("**/a*a*a*a*a*a*/**/b\n");
	uint64_t short_steps, long_steps;
	ign_list_match_counted(l, (const uint8_t *)dirs, LEN / 2 - 1, false, NULL, &short_steps);
	ign_list_match_counted(l, (const uint8_t *)dirs, LEN - 1, false, NULL, &long_steps);
	if (long_steps > short_steps * 2 + 64) {
		fail("twice the path took %" PRIu64 " steps, against %" PRIu64, long_steps, short_steps);
	}
	ign_free(l);
	++passed;
	printf("ok   work: pathological patterns within O(path x pattern) steps\n");
}

/** What each matching thread does. */
struct share {
	/** The frame the thread matches through. */
	const struct ign_frame *frame;
	/** The paths, and the verdicts of a single thread. */
	const char *const *paths;
	size_t count;
	const enum ign_verdict *want;
	/** Whether every verdict was the same. */
	bool ok;
};

/** Match every path many times. */
static void *share_thread(void *arg) {
	struct share *s = arg;
	s->ok = true;
	for (int round = 0; round < (HARNESS_TSAN ? 200 : 2000); ++round) {
		for (size_t i = 0; i < s->count; ++i) {
			if (ign_match(s->frame, (const uint8_t *)s->paths[i], strlen(s->paths[i]), false, NULL) != s->want[i]) {
				s->ok = false;
			}
		}
	}
	return NULL;
}

/** Threads match through the same frames and lists at once. */
static void test_threads(void) {
	static const char *const paths[] = {"d/a.c", "d/b.o", "d/x/y/z", "d/keep.o", "d/\xc3\xa9.log", "d/a"};
	set_context("threads");
	struct ign_list *top = parse_str("*.o\n**/z\n*.log\n");
	struct ign_list *sub = parse_str("!keep.o\n[ab].c\n");
	struct ign_frame f0 = {.gitignore = top, .repo = true};
	struct ign_frame f1 = {.parent = &f0, .base = 2, .gitignore = sub};
	enum { COUNT = sizeof(paths) / sizeof(paths[0]) };
	enum ign_verdict want[COUNT];
	for (size_t i = 0; i < COUNT; ++i) {
		want[i] = ign_match(&f1, (const uint8_t *)paths[i], strlen(paths[i]), false, NULL);
	}
	enum { THREADS = 4 };
	pthread_t threads[THREADS];
	struct share shares[THREADS];
	for (int t = 0; t < THREADS; ++t) {
		shares[t] = (struct share){.frame = &f1, .paths = paths, .count = COUNT, .want = want};
		start_thread(&threads[t], share_thread, &shares[t]);
	}
	for (int t = 0; t < THREADS; ++t) {
		pthread_join(threads[t], NULL);
		if (!shares[t].ok) {
			fail("a thread got another verdict");
		}
	}
	ign_free(top);
	ign_free(sub);
	++passed;
	printf("ok   threads: one set of frames, four threads\n");
}

/** A spec being written for ioq_test_ign(). */
struct spec {
	uint8_t bytes[4096];
	size_t len;
};

/** Append a u32 and bytes to a spec. */
static void spec_string(struct spec *s, const char *str, size_t len) {
	for (int i = 0; i < 4; ++i) {
		s->bytes[s->len++] = (uint8_t)(len >> (8 * i));
	}
	memcpy(s->bytes + s->len, str, len);
	s->len += len;
}

/** Append an ignore file. */
static void spec_file(struct spec *s, const char *path, const char *text) {
	s->bytes[s->len++] = 1;
	spec_string(s, path, strlen(path));
	spec_string(s, text, strlen(text));
}

/** Append a repository root. */
static void spec_repo(struct spec *s, const char *path) {
	s->bytes[s->len++] = 2;
	spec_string(s, path, strlen(path));
}

/** Append a query. */
static void spec_query(struct spec *s, const char *path, bool dir) {
	s->bytes[s->len++] = 3;
	s->bytes[s->len++] = dir;
	spec_string(s, path, strlen(path));
}

/** The test hook: a walk's verdicts on a described tree. */
static void test_hook(void) {
	set_context("hook");
	struct spec s = {.len = 0};
	spec_repo(&s, "");
	spec_file(&s, ".gitignore", "d/\n!d/keep\n*.o\n");
	spec_file(&s, "e/.gitignore", "!*.o\n");
	spec_file(&s, ".git/info/exclude", "*.x\n");
	spec_file(&s, "e/.ignore", "*.x\n!e.x\n");
	spec_file(&s, "out/.gitignore", "*\n");
	spec_query(&s, "d", true);
	spec_query(&s, "d/keep", false);
	spec_query(&s, "a.o", false);
	spec_query(&s, "e/a.o", false);
	spec_query(&s, "e/d/keep/b.o", false);
	spec_query(&s, "a.x", false);
	spec_query(&s, "e/e.x", false);
	spec_query(&s, "e/f.x", false);
	spec_query(&s, "out/x", false);
	static const int32_t want[][3] = {
		{I, 0, 1},
		{I, 0, 1},
		{I, 0, 3},
		{R, 1, 1},
		{I, 0, 1},
		{I, 2, 1},
		{R, 3, 2},
		{I, 3, 1},
		{I, 4, 1},
	};
	enum { COUNT = sizeof(want) / sizeof(want[0]) };
	int32_t out[COUNT * 3];
	int32_t ret = ioq_test_ign(s.bytes, (uint32_t)s.len, out, COUNT * 3);
	if (ret != COUNT) {
		fail("ioq_test_ign() gave %d", ret);
	}
	for (size_t i = 0; i < COUNT; ++i) {
		if (memcmp(out + 3 * i, want[i], sizeof(want[i])) != 0) {
			fail("query %zu: %d %d %d, expected %d %d %d", i, out[3 * i], out[3 * i + 1], out[3 * i + 2], want[i][0], want[i][1], want[i][2]);
		}
	}
	++passed;

	// Without a repository, .gitignore files do not apply (fd's rule); .ignore files do
	struct spec bare = {.len = 0};
	spec_file(&bare, ".gitignore", "a\n");
	spec_file(&bare, ".ignore", "b\n");
	spec_query(&bare, "a", false);
	spec_query(&bare, "b", false);
	ret = ioq_test_ign(bare.bytes, (uint32_t)bare.len, out, 6);
	if (ret != 2 || out[0] != N || out[3] != I || out[4] != 1) {
		fail("outside a repository: %d, verdicts %d %d", ret, out[0], out[3]);
	}
	++passed;

	// Malformed specs
	static const char *const bad_queries[] = {"", "/a", "a/", "a//b"};
	for (size_t i = 0; i < sizeof(bad_queries) / sizeof(bad_queries[0]); ++i) {
		struct spec q = {.len = 0};
		spec_query(&q, bad_queries[i], false);
		if (ioq_test_ign(q.bytes, (uint32_t)q.len, out, 3) != -EINVAL) {
			fail("query '%s' was accepted", bad_queries[i]);
		}
	}
	if (ioq_test_ign(s.bytes, (uint32_t)s.len, out, COUNT * 3 - 1) != -EINVAL) {
		fail("an output too small was accepted");
	}
	if (ioq_test_ign(s.bytes, (uint32_t)s.len - 1, out, COUNT * 3) != -EINVAL) {
		fail("a truncated spec was accepted");
	}
	static const uint8_t unknown[] = {9, 0, 0, 0, 0};
	if (ioq_test_ign(unknown, sizeof(unknown), out, 3) != -EINVAL) {
		fail("an unknown record was accepted");
	}
	++passed;
	printf("ok   hook: a walk's verdicts, parents excluded, repositories\n");
}

int main(void) {
	uint64_t seed = harness_seed();
	printf("ign_test" HARNESS_LANE ": seed %" PRIu64 " (set IOQ_TEST_SEED to repeat)%s\n", seed, HARNESS_TSAN ? ", scaled down for TSan" : "");
	harness_start("ign_test", NULL, 120);
	struct rng rng;
	rng_seed(&rng, seed);
	test_table();
	test_frames();
	test_malformed(&rng);
	test_naive(&rng);
	test_work();
	test_threads();
	test_hook();
	printf("ign_test" HARNESS_LANE ": all %ld checks passed\n", passed);
	return 0;
}
