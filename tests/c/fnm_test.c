// SPDX-License-Identifier: 0BSD
/**
 * fnm_test: glob matching (csrc/fnm.c).
 *
 *  1. A table of cases for both dialects: every POSIX class, UTF-8, stray
 *     bytes, escapes, odd brackets, groups, and the patterns glob() rejects.
 *  2. find's dialect against glibc's fnmatch(3) in C.UTF-8 (flags 0,
 *     FNM_CASEFOLD, FNM_PERIOD), on random patterns and names, in three
 *     families that keep out the inputs where glibc departs from find's
 *     rules (see fnm.c): characters up to U+00FF with ranges; characters
 *     above it, with no `-` in patterns (glibc's C.UTF-8 has collation values
 *     only up to U+00FF, so its ranges never match beyond); a stray byte
 *     with ASCII only (glibc matches a string that is not UTF-8 byte by
 *     byte).  glibc also retries a name byte by byte when it does not match
 *     by characters, which the comparison allows for, and no more.  The
 *     seed is $IOQ_TEST_SEED, or random; it is printed.
 *  3. The non-ASCII classes against glibc's iswctype() for every assigned
 *     code point (upper and lower excepted: see fnm.c).
 *  4. The work of a match stays within its bound on pathological patterns
 *     (counted in steps, not time), and threads share a compiled pattern.
 */

#define _GNU_SOURCE
#include "fnm.h"
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>
#include "harness.h"
#include "rng.h"

/** The checks that passed. */
static long passed;

/** Compile a pattern or fail. */
static struct fnm *compile(const char *pattern, size_t len, uint32_t flags) {
	struct fnm *f;
	struct fnm_error err;
	int ret = fnm_compile((const uint8_t *)pattern, len, flags, &f, &err);
	if (ret != 0) {
		fail("fnm_compile('%s', %#x) gave %s (%s at byte %zu)", show_bytes(pattern, len), flags, strerrorname_np(-ret), ret == -EINVAL ? err.msg : "", err.pos);
	}
	return f;
}

/** Check one match. */
static void expect(const char *pattern, const char *name, uint32_t flags, bool want) {
	struct fnm *f = compile(pattern, strlen(pattern), flags);
	bool got = fnm_match(f, (const uint8_t *)name, strlen(name));
	if (got != want) {
		fail("'%s' against '%s' (flags %#x): %s, expected %s", show_bytes(pattern, strlen(pattern)), show_bytes(name, strlen(name)), flags, got ? "match" : "no match", want ? "match" : "no match");
	}
	fnm_free(f);
	++passed;
}

enum {
	ICASE = FNM_ICASE,
	DOT = FNM_EXPLICIT_DOT,
	GLOB = FNM_GLOB,
	EXT = FNM_GLOB | FNM_EXTGLOB,
};

/** A case of the table. */
struct match_case {
	const char *pattern;
	const char *name;
	uint32_t flags;
	bool want;
};

/** find's dialect. */
static const struct match_case find_cases[] = {
	// Stars, leading dots, literal pieces
	{"*", "abc", 0, true},
	{"*", ".hidden", 0, true},
	{"*", ".hidden", DOT, false},
	{".*", ".hidden", DOT, true},
	{"?x", ".x", DOT, false},
	{"[.]x", ".x", DOT, false},
	{"\\.x", ".x", DOT, true},
	{"a*", "a.b", DOT, true},
	{"*.c", "main.c", 0, true},
	{"*.c", "main.h", 0, false},
	{"*.c", ".c", 0, true},
	{"*.c", "c", 0, false},
	{"lib*", "libfoo", 0, true},
	{"lib*", "li", 0, false},
	{"a*b", "ab", 0, true},
	{"a*b", "a", 0, false},
	{"a*b*c", "abc", 0, true},
	{"a*b*c", "acb", 0, false},
	{"*mid*", "xmidy", 0, true},
	{"*mid*", "xmdy", 0, false},
	{"*aab", "aaab", 0, true},
	{"*a*a*b", "aaab", 0, true},
	{"name", "name", 0, true},
	{"name", "names", 0, false},
	{"", "", 0, true},
	{"", "a", 0, false},
	// Characters: UTF-8 sequences, stray bytes
	{"?", "\xc3\xa9", 0, true},
	{"??", "\xc3\xa9", 0, false},
	{"?", "\xf0\x9f\x98\x80", 0, true},
	{"?", "\xff", 0, true},
	{"???", "a\xff" "b", 0, true},
	{"??", "\xc3\xa9\xff", 0, true},
	{"?", "\xc3", 0, true},
	{"\xc3*", "\xc3\xa9", 0, false},
	{"*\xa9", "\xc3\xa9", 0, false},
	{"*\xff", "ab\xff", 0, true},
	{"\xe2\x82*", "\xe2\x82\xac", 0, false},
	{"[\xff]", "\xff", 0, true},
	{"[!a]", "\xff", 0, true},
	// Escapes
	{"\\*", "*", 0, true},
	{"\\*", "a", 0, false},
	{"\\a", "a", 0, true},
	{"a\\", "a\\", 0, false},
	{"\\", "\\", 0, false},
	{"\\\\", "\\", 0, true},
	{"\\[a]", "[a]", 0, true},
	{"[\\]]", "]", 0, true},
	{"[\\!]", "!", 0, true},
	{"[a\\-z]", "-", 0, true},
	{"[a\\-z]", "m", 0, false},
	{"*\\", "a\\", 0, false},
	// Brackets
	{"[abc]", "b", 0, true},
	{"[abc]", "d", 0, false},
	{"[!abc]", "d", 0, true},
	{"[!abc]", "a", 0, false},
	{"[^abc]", "a", 0, false},
	{"[^abc]", "z", 0, true},
	{"[]a]", "]", 0, true},
	{"[!]a]", "]", 0, false},
	{"[!]a]", "b", 0, true},
	{"[a-c]", "b", 0, true},
	{"[a-c]", "d", 0, false},
	{"[z-a]", "m", 0, false},
	{"[z-a]", "z", 0, false},
	{"[a-]", "-", 0, true},
	{"[-a]", "-", 0, true},
	{"[a-c-e]", "-", 0, true},
	{"[a-c-e]", "d", 0, false},
	{"[%--]", "+", 0, true},
	{"[]-a]", "^", 0, true},
	{"[\xce\xb1-\xcf\x89]", "\xce\xb2", 0, true},
	{"[a-\xc3\xbf]", "\xc3\xa9", 0, true},
	{"[\xc3\xa9]", "\xc3\xa9", 0, true},
	{"[\xc3\xa9]", "\xc3", 0, false},
	{"[/]", "/", 0, true},
	// Unterminated brackets are literal, as far as glibc goes
	{"[a", "[a", 0, true},
	{"[a", "a", 0, false},
	{"[", "[", 0, true},
	{"[[", "[[", 0, true},
	{"[!", "[!", 0, true},
	{"[]", "[]", 0, true},
	{"[]", "]", 0, false},
	{"[a-z", "[a-z", 0, true},
	{"[a-", "[a-", 0, false},
	{"[\\", "[\\", 0, false},
	{"[\\]", "[]", 0, true},
	{"*[ab", "x[ab", 0, true},
	// Every class
	{"[[:alpha:]]", "a", 0, true},
	{"[[:alpha:]]", "1", 0, false},
	{"[[:alpha:]]", "\xc3\xa9", 0, true},
	{"[[:alpha:]]", "\xe4\xb8\xad", 0, true},
	{"[[:alpha:]]", "\xe2\x82\xac", 0, false},
	{"[[:digit:]]", "5", 0, true},
	{"[[:digit:]]", "a", 0, false},
	{"[[:digit:]]", "\xd9\xa1", 0, false},
	{"[[:alnum:]]", "z", 0, true},
	{"[[:alnum:]]", "9", 0, true},
	{"[[:alnum:]]", "_", 0, false},
	{"[[:upper:]]", "A", 0, true},
	{"[[:upper:]]", "a", 0, false},
	{"[[:upper:]]", "\xc3\x89", 0, true},
	{"[[:upper:]]", "\xc3\xa9", 0, false},
	{"[[:lower:]]", "a", 0, true},
	{"[[:lower:]]", "A", 0, false},
	{"[[:lower:]]", "\xc3\xa9", 0, true},
	{"[[:lower:]]", "\xc3\x9f", 0, true},
	{"[[:space:]]", " ", 0, true},
	{"[[:space:]]", "\t", 0, true},
	{"[[:space:]]", "\v", 0, true},
	{"[[:space:]]", "a", 0, false},
	{"[[:space:]]", "\xe3\x80\x80", 0, true},
	{"[[:space:]]", "\xc2\xa0", 0, false},
	{"[[:blank:]]", "\t", 0, true},
	{"[[:blank:]]", "\n", 0, false},
	{"[[:blank:]]", "\xe2\x80\x83", 0, true},
	{"[[:punct:]]", "!", 0, true},
	{"[[:punct:]]", "_", 0, true},
	{"[[:punct:]]", "`", 0, true},
	{"[[:punct:]]", "a", 0, false},
	{"[[:punct:]]", "\xe2\x82\xac", 0, true},
	{"[[:punct:]]", "\xc3\xa9", 0, false},
	{"[[:xdigit:]]", "f", 0, true},
	{"[[:xdigit:]]", "F", 0, true},
	{"[[:xdigit:]]", "g", 0, false},
	{"[[:cntrl:]]", "\x01", 0, true},
	{"[[:cntrl:]]", "\x7f", 0, true},
	{"[[:cntrl:]]", "a", 0, false},
	{"[[:cntrl:]]", "\xc2\x85", 0, true},
	{"[[:graph:]]", "a", 0, true},
	{"[[:graph:]]", " ", 0, false},
	{"[[:graph:]]", "\xc3\xa9", 0, true},
	{"[[:print:]]", " ", 0, true},
	{"[[:print:]]", "\x01", 0, false},
	{"[[:print:]]", "\xc3\xa9", 0, true},
	{"[[:print:]]", "\xe2\x80\xa8", 0, false},
	{"[[:print:]]", "\xff", 0, false},
	{"*[![:print:]]*", "ok\xff", 0, true},
	{"*[![:print:]]*", "caf\xc3\xa9", 0, false},
	{"[[:alpha:][:digit:]]", "5", 0, true},
	{"[![:alpha:]]", "5", 0, true},
	// Odd classes, equivalence classes, collating symbols
	{"[[:foo:]]", "f", 0, false},
	{"[[:foo:]]", "[", 0, false},
	{"[a[:foo:]]", "a", 0, true},
	{"[[:foo:]a]", "a", 0, false},
	{"[[:ALPHA:]]", ":]", 0, true},
	{"[[:alpha]", "a", 0, true},
	{"[[:alpha:]", "a", 0, false},
	{"[[=a=]]", "a", 0, true},
	{"[[=a=]b]", "b", 0, true},
	{"[a[=b]", "a", 0, false},
	{"[a[=b]", "b", 0, true},
	{"[a[=b]", "=", 0, true},
	{"[[.a.]]", "a", 0, true},
	{"[[.-.]]", "-", 0, true},
	{"[[.ab.]]", "a", 0, false},
	{"[[.a.]-c]", "b", 0, true},
	{"[[.a.]-]", "a", 0, false},
	{"[[.a.]-]", "-", 0, true},
	{"[xa-[:alpha:]]", "x", 0, true},
	{"[xa-[:alpha:]]", ":]", 0, true},
	{"[xa-[:alpha:]]", "x]", 0, false},
	// -path: `/` is an ordinary character
	{"*/foo", "a/b/foo", 0, true},
	{"a?b", "a/b", 0, true},
	{"./*/*.c", "./src/main.c", 0, true},
	// Case folding
	{"\xc3\x89T\xc3\x89", "\xc3\xa9t\xc3\xa9", ICASE, true},
	{"*.C", "x.c", ICASE, true},
	{"*.c", "X.C", ICASE, true},
	{"[A-Z]", "m", ICASE, true},
	{"[a-z]", "M", ICASE, true},
	{"[Z-a]", "_", ICASE, false},
	{"[Z-a]", "_", 0, true},
	{"[[.A.]-Z]", "a", ICASE, true},
	{"\xcf\x83", "\xcf\x82", ICASE, true},
	{"\xce\xa3", "\xcf\x82", ICASE, true},
	{"k", "\xe2\x84\xaa", ICASE, false},
	{"s", "\xc5\xbf", ICASE, false},
	{"\xc3\x9f", "\xe1\xba\x9e", ICASE, true},
	{"Stra\xc3\x9f" "e", "STRASSE", ICASE, false},
	{"[[:upper:]]", "a", ICASE, false},
	{"[[=A=]]", "a", ICASE, false},
	{"[!A]", "a", ICASE, false},
	{"*\xc3\x89*", "x\xc3\xa9y", ICASE, true},
	{"\xd0\x96", "\xd0\xb6", ICASE, true},
	{"\xf0\x90\x90\x80", "\xf0\x90\x90\xa8", ICASE, true},
};

/** glob()'s dialect. */
static const struct match_case glob_cases[] = {
	{"*.ts", "a.ts", GLOB, true},
	{"*", ".hidden", GLOB, true},
	{"*", ".hidden", GLOB | DOT, false},
	{"*", "a/b", GLOB, false},
	{"?", "\n", GLOB, false},
	{"?", "\xe2\x80\xa8", GLOB, false},
	{"*", "a\nb", GLOB, true},
	{"?", "\xf0\x9f\x98\x80", GLOB, true},
	{"?", "\xff", GLOB, true},
	{"", "", GLOB, false},
	// Brackets, JavaScript's way
	{"[!]", "\n", GLOB, true},
	{"[]a]", "a]", GLOB, false},
	{"[]a]", "]", GLOB, false},
	{"[\\^a]", "b", GLOB, true},
	{"[\\^a]", "a", GLOB, false},
	{"[^a]", "^", GLOB, true},
	{"[^a]", "b", GLOB, false},
	{"[!a]", "b", GLOB, true},
	{"[!a]", "a", GLOB, false},
	{"[a-c]", "b", GLOB, true},
	{"[a-]", "-", GLOB, true},
	{"[a-c-e]", "-", GLOB, true},
	{"[\\]]", "]", GLOB, true},
	{"[\\d]", "d", GLOB, true},
	{"[\\d]", "1", GLOB, false},
	{"[[]", "[", GLOB, true},
	// Classes: globToRegExp's text, ASCII but for space
	{"[[:alpha:]]", "a", GLOB, true},
	{"[[:alpha:]]", "\xc3\xa9", GLOB, false},
	{"[[:space:]]", "\xc2\xa0", GLOB, true},
	{"[[:space:]]", "\v", GLOB, true},
	{"[[:punct:]]", "`", GLOB, false},
	{"[[:punct:]]", "\xe2\x80\x98", GLOB, true},
	{"[[:punct:]]", "\\", GLOB, true},
	{"[[:punct:]]", "-", GLOB, true},
	{"[[:word:]]", "_", GLOB, true},
	{"[[:ascii:]]", "\x7f", GLOB, true},
	{"[[:ascii:]]", "\xc2\x80", GLOB, false},
	{"[[:cntrl:]]", "\x1f", GLOB, true},
	{"[[:xdigit:]]", "E", GLOB, true},
	{"[[:foo:]]", "f", GLOB, false},
	{"[[:blank:]-z]", "m", GLOB, true},
	{"[[:digit:]-a]", "-", GLOB, true},
	{"[[:alpha:]", "[[:alpha:]", GLOB, true},
	// Escapes and literal fallbacks
	{"\\*", "*", GLOB, true},
	{"\\d", "d", GLOB, true},
	{"a\\", "a\\", GLOB, true},
	{"[abc", "[abc", GLOB, true},
	{"{a,b", "{a,b", GLOB, true},
	{"@(a", "@(a", EXT, true},
	{"[z-a", "[z-a", GLOB, true},
	{"{[z-a]", "{[z-a]", GLOB, true},
	{"**", "abc", GLOB, true},
	{"a**", "abc", GLOB, true},
	{"**(a)", "x(a)", EXT, true},
	// Braces and extended globs
	{"{a,b}.c", "b.c", GLOB, true},
	{"{a,b}.c", "c.c", GLOB, false},
	{"{a,{b,c}d}", "cd", GLOB, true},
	{"{a|b}", "a|b", GLOB, true},
	{"{,x}y", "y", GLOB, true},
	{"@(a|b)", "b", EXT, true},
	{"@(a|b)", "@(a|b)", GLOB, true},
	{"@(a,b)", "a,b", EXT, true},
	{"+(ab)", "ababab", EXT, true},
	{"+(ab)", "", EXT, false},
	{"*(a|b)c", "c", EXT, true},
	{"*(a|b)c", "abbac", EXT, true},
	{"?(a)b", "ab", EXT, true},
	{"?(a)b", "b", EXT, true},
	{"?(a)b", "aab", EXT, false},
	{"*(a|)", "aa", EXT, true},
	{"!(a)b", "xb", EXT, true},
	{"!(a)b", "ab", EXT, false},
	{"!(foo)", "foo", EXT, false},
	{"!(foo)", "bar", EXT, true},
	{"!(foo)", "foobar", EXT, false},
	{"!(foo).js", "foobar.js", EXT, false},
	{"!(foo).js", "bar.js", EXT, true},
	{"*.!(js)", "a.ts", EXT, true},
	{"*.!(js)", "a.js", EXT, false},
	{"@(a|+(b|c))d", "bcbd", EXT, true},
	{"*(@(a|b)x)", "axbx", EXT, true},
	{"*(@(a|b)x)", "axb", EXT, false},
	{"!(!(a))", "a", EXT, true},
	{"!(!(a))", "b", EXT, false},
	{"!(a|b)", "c", EXT, true},
	{"!(a|b)", "bc", EXT, false},
	{"{a,@(b|c)}", "c", EXT, true},
	{"@({a,b})", "b", EXT, true},
	{"@(a)", ".a", EXT | DOT, false},
	{"@(.a)", ".a", EXT | DOT, true},
	{"*(a)", "", EXT, true},
	{"x*(a)", "x", EXT, true},
	// Groups read characters backwards: UTF-8 and stray bytes split alike
	{"@(?)", "\xff", EXT, true},
	{"@(?" "?)", "\xc3\xa9", EXT, false},
	{"+(?)", "\xc3\xa9\xff", EXT, true},
	{"@(?|?" "?)", "\xc3\xa9\xa9", EXT, true},
	{"@(??" "?)", "\xc3\xa9\xa9", EXT, false},
	{"*(\xc3\xa9)x", "\xc3\xa9\xc3\xa9x", EXT, true},
	{"!(\xc3\xa9)*", "\xc3\xa9\xa9", EXT, false},
	{"!(\xc3\xa9)*", "\xa9\xc3\xa9", EXT, true},
	{"@(?)?", "\xe2\x82\xc3\xa9", EXT, false},
	{"@(?" "?)?", "\xe2\x82\xc3\xa9", EXT, true},
	{"@(*)", ".a", EXT | DOT, false},
	{"@(.*)", ".a", EXT | DOT, true},
	{"!(x)", ".a", EXT | DOT, false},
	// Case folding: classes are ranges, folded like any range
	{"[A-Z]", "m", GLOB | ICASE, true},
	{"[[:upper:]]", "a", GLOB | ICASE, true},
	{"[Z-a]", "z", GLOB | ICASE, true},
	{"[!A]", "a", GLOB | ICASE, false},
	{"\xc3\x89", "\xc3\xa9", GLOB | ICASE, true},
	{"[\xc3\x80-\xc3\x89]", "\xc3\xa7", GLOB | ICASE, true},
	{"[\xc4\x80-\xc4\x82]", "\xc4\x83", GLOB | ICASE, true},
	{"[\xc4\x80-\xc4\x82]", "\xc4\x84", GLOB | ICASE, false},
	{"@(A|b)", "a", EXT | ICASE, true},
	{"{A,b}", "B", GLOB | ICASE, true},
};

/** A pattern that fnm_compile() rejects. */
struct error_case {
	const char *pattern;
	uint32_t flags;
	/** The byte offset of the problem. */
	size_t pos;
};

static const struct error_case error_cases[] = {
	{"[z-a]", GLOB, 1},
	{"x[b-a]", GLOB, 2},
	{"[a-[:alpha:]]", GLOB, 1},
	{"[[:punct:]-z]", GLOB, 1},
	{"[+-[:punct:]]", GLOB, 1},
	{"{a,[z-a]}", GLOB, 4},
	{"@([z-a])", EXT, 3},
	{"[\xc3\xa9-a]", GLOB, 1},
	{"[a-b][d-c]", GLOB, 6},
};

/** Check the table. */
static void test_table(void) {
	for (size_t i = 0; i < sizeof(find_cases) / sizeof(find_cases[0]); ++i) {
		const struct match_case *c = &find_cases[i];
		set_context("find case %zu", i);
		expect(c->pattern, c->name, c->flags, c->want);
	}
	for (size_t i = 0; i < sizeof(glob_cases) / sizeof(glob_cases[0]); ++i) {
		const struct match_case *c = &glob_cases[i];
		set_context("glob case %zu", i);
		expect(c->pattern, c->name, c->flags, c->want);
	}

	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); ++i) {
		const struct error_case *c = &error_cases[i];
		set_context("error case %zu", i);
		struct fnm *f = (struct fnm *)1;
		struct fnm_error err = {0};
		int ret = fnm_compile((const uint8_t *)c->pattern, strlen(c->pattern), c->flags, &f, &err);
		if (ret != -EINVAL || f != NULL || err.pos != c->pos || !err.msg || !strstr(err.msg, "out of order")) {
			fail("'%s': %d, at %zu (%s), expected -EINVAL at %zu", c->pattern, ret, err.pos, err.msg ? err.msg : "no message", c->pos);
		}
		// find's dialect rejects nothing
		fnm_free(compile(c->pattern, strlen(c->pattern), 0));
		passed += 2;
	}

	set_context("flags");
	struct fnm *f;
	struct fnm_error err;
	if (fnm_compile((const uint8_t *)"a", 1, 1u << 20, &f, &err) != -EINVAL || f || !strstr(err.msg, "flag")) {
		fail("an unknown flag was accepted");
	}
	if (fnm_compile((const uint8_t *)"a", 1, FNM_EXTGLOB, &f, NULL) != -EINVAL || f) {
		fail("FNM_EXTGLOB without FNM_GLOB was accepted");
	}
	passed += 2;

	// NUL is a character of the pattern
	set_context("NUL");
	f = compile("a\0*", 3, 0);
	if (fnm_match(f, (const uint8_t *)"a", 1) || !fnm_match(f, (const uint8_t *)"a\0b", 3)) {
		fail("a NUL in a pattern is not matched as a character");
	}
	fnm_free(f);
	++passed;
	printf("ok   table: %zu find cases, %zu glob cases, %zu rejected patterns\n", sizeof(find_cases) / sizeof(find_cases[0]), sizeof(glob_cases) / sizeof(glob_cases[0]), sizeof(error_cases) / sizeof(error_cases[0]));
}

/** A family of random inputs for the comparison with glibc. */
struct family {
	/** What it holds. */
	const char *name;
	/** Pattern tokens. */
	const char *const *pattern;
	size_t npattern;
	/** Name tokens. */
	const char *const *name_tokens;
	size_t nname;
};

static const char *const latin1_pattern[] = {
	"*", "?", "[", "]", "!", "^", "-", "\\", ":", ".", "=", "a", "b", "A", "z", "/", " ",
	"\xc3\xa9", "\xc3\x89", "\xc3\x9f", "[:alpha:]", "[:upper:]", "[:lower:]", "[:punct:]", "[:digit:]",
	"[:space:]", "[:foo:]", "[=a=]", "[.a.]", "[.-.]",
};
static const char *const latin1_name[] = {
	"a", "b", "A", "z", "\xc3\xa9", "\xc3\x89", "\xc3\x9f", ".", "-", "[", "]", "!", "^", "\\", ":", "=", "/", " ", "1",
};
static const char *const wide_pattern[] = {
	"*", "?", "[", "]", "!", "^", "\\", ":", ".", "a", "B",
	"\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xd0\xb6", "\xd0\x96", "\xe4\xb8\xad", "\xe3\x80\x80",
	"[:alpha:]", "[:upper:]", "[:lower:]", "[:punct:]", "[:space:]", "[:graph:]", "[:print:]", "[=\xd0\xb6=]",
};
static const char *const wide_name[] = {
	"a", "b", "B", ".", "[", "]", "\\", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xd0\xb6", "\xd0\x96", "\xe4\xb8\xad", "\xe3\x80\x80",
};
static const char *const stray_pattern[] = {
	"*", "?", "[", "]", "!", "-", "\\", ".", "a", "b", "z", "\xff", "\x80", "[:alpha:]", "[:print:]",
};
static const char *const stray_name[] = {
	"a", "b", "z", ".", "-", "[", "]", "\xff", "\x80", "\xfe",
};

#define FAMILY(name, p, n) {name, p, sizeof(p) / sizeof(p[0]), n, sizeof(n) / sizeof(n[0])}
static const struct family families[] = {
	FAMILY("up to U+00FF, ranges", latin1_pattern, latin1_name),
	FAMILY("beyond U+00FF, no ranges", wide_pattern, wide_name),
	FAMILY("stray bytes, ASCII", stray_pattern, stray_name),
};

/** Append a random token to a buffer. */
static size_t append(char *buf, size_t len, const char *const *tokens, size_t count, struct rng *rng) {
	const char *t = tokens[rng_below(rng, count)];
	size_t tlen = strlen(t);
	memcpy(buf + len, t, tlen);
	return len + tlen;
}

/**
 * Make a name for a pattern: random tokens, or the pattern with its
 * wildcards filled in (so that some names match).
 */
static size_t make_name(char *buf, const char *const *tokens, size_t count, const char *pattern, struct rng *rng) {
	size_t len = 0;
	if (rng_below(rng, 2) == 0) {
		size_t n = rng_below(rng, 6);
		for (size_t i = 0; i < n; ++i) {
			len = append(buf, len, tokens, count, rng);
		}
		return len;
	}
	for (const char *p = pattern; *p; ++p) {
		if (*p == '*') {
			size_t n = rng_below(rng, 3);
			for (size_t i = 0; i < n; ++i) {
				len = append(buf, len, tokens, count, rng);
			}
		} else if (*p == '?' || (*p == '[' && rng_below(rng, 2) == 0)) {
			len = append(buf, len, tokens, count, rng);
		} else if (*p != '\\' || rng_below(rng, 2) == 0) {
			buf[len++] = *p;
		}
	}
	return len;
}

/**
 * @return Whether a pattern starts with `*` followed by `?` (before any
 * other element): glibc then applies FNM_PERIOD to the character after
 * what the `?` take, as if it led the name, a bug not copied here.
 */
static bool star_then_any(const char *pattern) {
	if (pattern[0] != '*') {
		return false;
	}
	for (const char *p = pattern; *p == '*' || *p == '?'; ++p) {
		if (*p == '?') {
			return true;
		}
	}
	return false;
}

/**
 * Compare find's dialect with glibc's fnmatch() on random inputs.  glibc
 * 2.36 matches a name in C.UTF-8 character by character and, failing that,
 * byte by byte (so `??` matches `é` there, and so does find): its answer is
 * ours or the one of the C locale, and only that mix is allowed.
 */
static void test_glibc(uint64_t seed) {
	locale_t utf8 = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0);
	locale_t bytes = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	if (!utf8 || !bytes) {
		fail("the C.UTF-8 or C locale is missing: fnmatch(3) cannot be compared with");
	}
	locale_t old = uselocale(utf8);
	struct rng rng;
	rng_seed(&rng, seed);
	static const struct {
		uint32_t ours;
		int glibc;
	} flag_sets[] = {{0, 0}, {FNM_ICASE, FNM_CASEFOLD}, {FNM_EXPLICIT_DOT, FNM_PERIOD}};
	const long patterns = HARNESS_TSAN ? 6000 : 40000;
	const int names = 8;

	for (size_t fam = 0; fam < sizeof(families) / sizeof(families[0]); ++fam) {
		const struct family *family = &families[fam];
		long matched = 0, by_bytes = 0, total = 0;
		for (long i = 0; i < patterns; ++i) {
			char pattern[128], name[256];
			size_t plen = 0;
			size_t ntokens = 1 + rng_below(&rng, 7);
			for (size_t t = 0; t < ntokens; ++t) {
				plen = append(pattern, plen, family->pattern, family->npattern, &rng);
			}
			pattern[plen] = '\0';
			uint32_t which = (uint32_t)rng_below(&rng, 3);
			if (flag_sets[which].glibc == FNM_PERIOD && star_then_any(pattern)) {
				which = 0;
			}
			int gflags = flag_sets[which].glibc;
			struct fnm *f = compile(pattern, plen, flag_sets[which].ours);
			for (int k = 0; k < names; ++k) {
				size_t nlen = make_name(name, family->name_tokens, family->nname, pattern, &rng);
				name[nlen] = '\0';
				bool got = fnm_match(f, (const uint8_t *)name, nlen);
				bool want = fnmatch(pattern, name, gflags) == 0;
				uselocale(bytes);
				bool want_bytes = fnmatch(pattern, name, gflags) == 0;
				uselocale(utf8);
				if (want != (got || want_bytes)) {
					fail("%s: '%s' against '%s' (flags %#x): %s, glibc says %s (byte by byte: %s; seed %" PRIu64 ")", family->name, show_bytes(pattern, plen), show_bytes(name, nlen), flag_sets[which].ours, got ? "match" : "no match", want ? "match" : "no match", want_bytes ? "match" : "no match", seed);
				}
				matched += got;
				by_bytes += want && !got;
				++total;
			}
			fnm_free(f);
		}
		passed += total;
		printf("ok   fnmatch(3), %s: %ld cases agree (%ld matches; %ld more that glibc matches byte by byte)\n", family->name, total, matched, by_bytes);
	}
	uselocale(old);
	freelocale(utf8);
	freelocale(bytes);
}

/** Encode a code point as UTF-8.  @return Its length. */
static size_t encode(uint32_t c, char *out) {
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	} else if (c < 0x800) {
		out[0] = (char)(0xC0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	} else if (c < 0x10000) {
		out[0] = (char)(0xE0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3F));
		out[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | c >> 18);
	out[1] = (char)(0x80 | (c >> 12 & 0x3F));
	out[2] = (char)(0x80 | (c >> 6 & 0x3F));
	out[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

/** Compare the classes beyond ASCII with glibc's, over every code point glibc assigns. */
static void test_classes(void) {
	locale_t loc = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0);
	if (!loc) {
		fail("the C.UTF-8 locale is missing: its classes cannot be compared with");
	}
	static const char *const names[] = {"alpha", "alnum", "digit", "xdigit", "space", "blank", "cntrl", "punct", "graph", "print"};
	long checked = 0;
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); ++k) {
		char pattern[32];
		int plen = snprintf(pattern, sizeof(pattern), "[[:%s:]]", names[k]);
		set_context("class %s", names[k]);
		struct fnm *f = compile(pattern, (size_t)plen, 0);
		wctype_t type = wctype_l(names[k], loc);
		for (uint32_t c = 0; c < 0x110000; ++c) {
			if (c >= 0xD800 && c < 0xE000) {
				continue;
			}
			if (!iswprint_l(c, loc) && !iswcntrl_l(c, loc) && !iswspace_l(c, loc)) {
				continue;
			}
			char buf[4];
			size_t len = encode(c, buf);
			bool want = iswctype_l(c, type, loc) != 0;
			if (fnm_match(f, (const uint8_t *)buf, len) != want) {
				fail("U+%04X: %s, glibc says %s", c, want ? "not in the class" : "in the class", want ? "it is" : "it is not");
			}
			++checked;
		}
		fnm_free(f);
	}
	freelocale(loc);
	passed += checked;
	printf("ok   classes: %ld code points agree with glibc's C.UTF-8\n", checked);
}

/** Check that a match takes no more than `bound` steps, and gives `want`. */
static void expect_work(const char *pattern, uint32_t flags, const char *name, size_t len, bool want, uint64_t bound) {
	struct fnm *f = compile(pattern, strlen(pattern), flags);
	uint64_t steps;
	bool got = fnm_match_counted(f, (const uint8_t *)name, len, &steps);
	if (got != want) {
		fail("'%s' against %zu bytes: %s", pattern, len, got ? "match" : "no match");
	}
	if (steps > bound) {
		fail("'%s' against %zu bytes took %" PRIu64 " steps, more than %" PRIu64, pattern, len, steps, bound);
	}
	fnm_free(f);
	++passed;
}

/** Pathological patterns stay within O(name x pattern) steps. */
static void test_work(void) {
	enum { N = 4000 };
	static char as[N + 1];
	memset(as, 'a', N);
	set_context("work");
	// Each bound is (name + 1) x (pattern + 1) x a small constant
	const uint64_t n1 = N + 1;
	expect_work("*a*a*a*a*a*a*a*b", 0, as, N, false, n1 * 17);
	expect_work("*a?*a?*a?*a?*a?*a?*b", 0, as, N, false, n1 * 21 * 2);
	expect_work("*?*?*?*?*?*?*?*?*?*?*x", 0, as, N, false, n1 * 23 * 2);
	expect_work("*[ab]*[ab]*[ab]*[ab]*c", 0, as, N, false, n1 * 23 * 2);
	expect_work("*a?*a?*a?*a?*a?*a?*b", GLOB, as, N, false, n1 * 21 * 2);
	// Nested repetition, the classic backtracking trap, and lookaheads
	expect_work("+(+(a|aa)|a)b", EXT, as, N, false, n1 * 13 * 6);
	expect_work("*(*(a)*(a))b", EXT, as, N, false, n1 * 12 * 6);
	expect_work("!(!(!(a)))*(a)b", EXT, as, N, false, n1 * 15 * 6);
	expect_work("+(a|aa)", EXT, as, N, true, n1 * 7 * 6);
	expect_work("{a,aa,aaa}{a,aa,aaa}*(a)", EXT, as, N, true, n1 * 24 * 6);

	// Twice the name, about twice the work: linear in the name
	struct fnm *f = compile("+(+(a|aa)|a)b", strlen("+(+(a|aa)|a)b"), EXT);
	uint64_t short_steps, long_steps;
	fnm_match_counted(f, (const uint8_t *)as, N / 2, &short_steps);
	fnm_match_counted(f, (const uint8_t *)as, N, &long_steps);
	if (long_steps > short_steps * 2 + 64) {
		fail("twice the name took %" PRIu64 " steps, against %" PRIu64, long_steps, short_steps);
	}
	fnm_free(f);
	++passed;
	printf("ok   work: pathological patterns within O(name x pattern) steps\n");
}

/** What each matching thread does. */
struct share {
	const struct fnm *f;
	/** The names and the answers of one thread. */
	const char *const *names;
	size_t count;
	const bool *want;
	/** Whether every answer was right. */
	bool ok;
};

/** Match every name many times. */
static void *share_thread(void *arg) {
	struct share *s = arg;
	s->ok = true;
	for (int round = 0; round < (HARNESS_TSAN ? 200 : 2000); ++round) {
		for (size_t i = 0; i < s->count; ++i) {
			if (fnm_match(s->f, (const uint8_t *)s->names[i], strlen(s->names[i])) != s->want[i]) {
				s->ok = false;
			}
		}
	}
	return NULL;
}

/** Threads match against one compiled pattern at once. */
static void test_threads(void) {
	static const char *const names[] = {"a.c", "b.h", "x!(y)", "abab.c", "\xc3\xa9.c", ".c", "c"};
	static const char *const patterns[] = {"*.c", "@(a|b)*(ab).[ch]", "!(a*)"};
	set_context("threads");
	for (size_t p = 0; p < sizeof(patterns) / sizeof(patterns[0]); ++p) {
		struct fnm *f = compile(patterns[p], strlen(patterns[p]), EXT);
		bool want[sizeof(names) / sizeof(names[0])];
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
			want[i] = fnm_match(f, (const uint8_t *)names[i], strlen(names[i]));
		}
		enum { THREADS = 4 };
		pthread_t threads[THREADS];
		struct share shares[THREADS];
		for (int t = 0; t < THREADS; ++t) {
			shares[t] = (struct share){.f = f, .names = names, .count = sizeof(names) / sizeof(names[0]), .want = want};
			start_thread(&threads[t], share_thread, &shares[t]);
		}
		for (int t = 0; t < THREADS; ++t) {
			pthread_join(threads[t], NULL);
			if (!shares[t].ok) {
				fail("a thread got another answer for '%s'", patterns[p]);
			}
		}
		fnm_free(f);
		++passed;
	}
	printf("ok   threads: one compiled pattern, four threads\n");
}

int main(void) {
	uint64_t seed = harness_seed();
	printf("fnm_test" HARNESS_LANE ": seed %" PRIu64 " (set IOQ_TEST_SEED to repeat)%s\n", seed, HARNESS_TSAN ? ", scaled down for TSan" : "");
	harness_start("fnm_test", NULL, 120);
	test_table();
	test_glibc(seed);
	test_classes();
	test_work();
	test_threads();
	printf("fnm_test" HARNESS_LANE ": all %ld checks passed\n", passed);
	return 0;
}
