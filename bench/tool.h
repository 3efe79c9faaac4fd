// SPDX-License-Identifier: 0BSD
/**
 * tool: what the benchmark programs in bench/ share: the clock they time
 * with, CPU times from getrusage(), and their command-line numbers.
 *
 * Header-only: each benchmark is one program built from one file.
 */

#ifndef IOQ_BENCH_TOOL_H
#define IOQ_BENCH_TOOL_H

#include <errno.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

/** @return The CLOCK_MONOTONIC time in seconds. */
static inline double tool_now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/** @return A timeval (a getrusage() CPU time) in milliseconds. */
static inline double tool_ms(struct timeval tv) {
	return (double)tv.tv_sec * 1e3 + (double)tv.tv_usec / 1e3;
}

/**
 * Parse a positive decimal integer up to `max` (no sign, no trailing text).
 * @return 0, or -1 if `text` is not one.
 */
static inline int tool_parse(const char *text, unsigned long long max, unsigned long long *out) {
	char *end;
	errno = 0;
	unsigned long long value = strtoull(text, &end, 10);
	if (errno || end == text || *end || value < 1 || value > max || text[0] == '-') {
		return -1;
	}
	*out = value;
	return 0;
}

#endif // IOQ_BENCH_TOOL_H
