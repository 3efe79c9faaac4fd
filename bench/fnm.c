// SPDX-License-Identifier: 0BSD
/**
 * bench/fnm: the cost of compiling a glob and of matching a name against it
 * (csrc/fnm.c), for the patterns a walk meets: -name, -iname, glob()
 * segments with braces and extended globs.
 *
 *     fnm-bench [-r runs]
 *
 * Each pattern is matched against the same mix of names (short, long,
 * dotfiles, UTF-8, a stray byte) in turn; each run times a fixed number of
 * matches.  Prints, per pattern, the time per name and the time to compile
 * of the fastest run, in CPU time of the thread: on a shared machine the
 * least disturbed run says best what the code costs.  `zig build bench-fnm`
 * builds and runs it.
 */

#include "fnm.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tool.h"

/** @return The CPU time of this thread in nanoseconds. */
static double cpu_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/** The names, as a directory might hold them. */
static const char *const names[] = {
	"main.c",
	"README.md",
	"libfoo.so.1",
	"node_modules",
	".git",
	"test_fnm.c",
	"Makefile",
	"\xc3\xa9t\xc3\xa9.txt",
	"IMG_2024_0815.JPG",
	"x",
	"a_much_longer_file_name_with_many_parts.tar.gz",
	"fnm.h",
	"bad\377byte",
	"package.json",
	"CHANGELOG",
	"index.test.ts",
};

/** A pattern and how it is compiled. */
struct bench_case {
	const char *pattern;
	uint32_t flags;
	/** What it stands for. */
	const char *what;
};

static const struct bench_case cases[] = {
	{"*.c", 0, "-name, a suffix"},
	{"lib*", 0, "-name, a prefix"},
	{"Makefile", 0, "-name, a literal"},
	{"*test*", 0, "-name, a middle piece"},
	{"*.JPG", FNM_ICASE, "-iname, a suffix"},
	{"*.[ch]", 0, "-name, a set"},
	{"[a-z]*.c", 0, "-name, a range then a suffix"},
	{"?*.t?t", 0, "-name, ? and a star"},
	{"*[![:print:]]*", 0, "-name, a class"},
	{"*.ts", FNM_GLOB | FNM_EXTGLOB, "glob(), a suffix"},
	{"*.{c,h}", FNM_GLOB | FNM_EXTGLOB, "glob(), braces"},
	{"!(*.c)", FNM_GLOB | FNM_EXTGLOB, "glob(), !(...)"},
	{"+(a|b|c)*.@(json|md)", FNM_GLOB | FNM_EXTGLOB, "glob(), groups"},
};

/** Matches per timed run, and compilations. */
#define MATCHES 2000000
#define COMPILES 100000

/** @return The least of `n` values. */
static double least(const double *values, size_t n) {
	double min = values[0];
	for (size_t i = 1; i < n; ++i) {
		min = values[i] < min ? values[i] : min;
	}
	return min;
}

int main(int argc, char **argv) {
	unsigned long long runs = 5;
	for (int i = 1; i < argc; ++i) {
		if (strcmp(argv[i], "-r") == 0 && i + 1 < argc && tool_parse(argv[i + 1], 1000, &runs) == 0) {
			++i;
		} else {
			fprintf(stderr, "usage: fnm-bench [-r runs]\n");
			return 2;
		}
	}

	enum { NNAMES = sizeof(names) / sizeof(names[0]) };
	size_t lens[NNAMES];
	for (size_t i = 0; i < NNAMES; ++i) {
		lens[i] = strlen(names[i]);
	}
	double *match_ns = calloc(runs, sizeof(*match_ns));
	double *compile_ns = calloc(runs, sizeof(*compile_ns));
	if (!match_ns || !compile_ns) {
		fprintf(stderr, "fnm-bench: out of memory\n");
		return 1;
	}

	printf("%-24s %-30s %9s %11s %7s\n", "pattern", "", "ns/name", "ns/compile", "matched");
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); ++c) {
		const struct bench_case *bc = &cases[c];
		struct fnm *f;
		struct fnm_error err;
		int ret = fnm_compile((const uint8_t *)bc->pattern, strlen(bc->pattern), bc->flags, &f, &err);
		if (ret != 0) {
			fprintf(stderr, "fnm-bench: cannot compile %s: %d\n", bc->pattern, ret);
			return 1;
		}
		size_t matched = 0;
		for (size_t i = 0; i < NNAMES; ++i) {
			matched += fnm_match(f, (const uint8_t *)names[i], lens[i]);
		}

		for (unsigned long long r = 0; r < runs; ++r) {
			// The sum keeps the matches from being optimized away
			volatile size_t sink = 0;
			double start = cpu_ns();
			for (size_t i = 0; i < MATCHES; ++i) {
				size_t k = i % NNAMES;
				sink += fnm_match(f, (const uint8_t *)names[k], lens[k]);
			}
			match_ns[r] = (cpu_ns() - start) / MATCHES;

			start = cpu_ns();
			for (size_t i = 0; i < COMPILES; ++i) {
				struct fnm *g;
				if (fnm_compile((const uint8_t *)bc->pattern, strlen(bc->pattern), bc->flags, &g, &err) != 0) {
					fprintf(stderr, "fnm-bench: cannot compile %s\n", bc->pattern);
					return 1;
				}
				fnm_free(g);
			}
			compile_ns[r] = (cpu_ns() - start) / COMPILES;
		}
		fnm_free(f);
		printf("%-24s %-30s %9.1f %11.0f %4zu/%d\n", bc->pattern, bc->what, least(match_ns, runs), least(compile_ns, runs), matched, NNAMES);
	}
	free(match_ns);
	free(compile_ns);
	return 0;
}
