// SPDX-License-Identifier: 0BSD
/**
 * queuecheck: what the programs that run queues share (ioq_stress.c, and
 * the walk engine's through walkcheck.h):
 *
 *  - ThreadSanitizer's suppressions for descriptor numbers io_uring reuses,
 *    and its symbolizer started before any descriptor is counted;
 *  - whether the io_uring lane runs, with IOQ_STRICT_TESTS=1's rule.
 *
 * Header-only, like harness.h: each test is one program built from one file.
 */

#ifndef IOQ_TEST_QUEUECHECK_H
#define IOQ_TEST_QUEUECHECK_H

#include "ioq.h"
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "harness.h"

#if HARNESS_TSAN
/** TSan's runtime: symbolize a code address into a buffer. */
void __sanitizer_symbolize_pc(void *pc, const char *format, char *out, size_t size);

/**
 * TSan suppressions.  io_uring opens and closes descriptors inside the
 * kernel, out of TSan's sight: a number the test open()ed and a ring closed
 * (IORING_OP_CLOSE), or a ring's openat returned and a worker close()d, can
 * come back from another open, and TSan, having seen only some of these
 * opens and closes, reports a race on "file descriptor N".  Only races whose
 * access is itself a descriptor's open or close (the top frame) are
 * suppressed; races on memory are reported as usual.
 */
const char *__tsan_default_suppressions(void);
const char *__tsan_default_suppressions(void) {
	// Interceptor symbols are [_]__interceptor_NAME; reports print NAME
	return "race_top:interceptor_close$\n"
	       "race_top:interceptor_open$\n"
	       "race_top:interceptor_open64$\n"
	       "race_top:interceptor_openat$\n"
	       "race_top:interceptor_openat64$\n";
}

/**
 * Start TSan's symbolizer now.  It keeps two pipes open from its first use,
 * which would otherwise look like descriptors leaked by whichever queue or
 * walk was under test when a (suppressed) report first needed symbols.
 */
static inline void warm_symbolizer(void) {
	char buf[128];
	__sanitizer_symbolize_pc(__builtin_return_address(0), "%F", buf, sizeof(buf));
}
#else
/** Nothing to do without TSan. */
static inline void warm_symbolizer(void) {
}
#endif

/**
 * @return Whether io_uring works here; if not, say why (prefixed with
 * `prog`).  With IOQ_STRICT_TESTS=1 only a kernel without io_uring (ENOSYS)
 * may skip it: a build without liburing or a ring refused for another reason
 * fails.
 */
static inline bool uring_works(const char *prog) {
	if (!(ioq_features() & IOQ_FEATURE_URING)) {
		if (harness_strict()) {
			fail("this build has no liburing, and IOQ_STRICT_TESTS=1 needs the io_uring lane");
		}
		printf("%s: SKIP io_uring: this build has no liburing\n", prog);
		return false;
	}
	int32_t err = 0;
	struct ioq *q = ioq_create(1, 1, IOQ_BACKEND_URING, &err);
	if (!q) {
		if (harness_strict() && err != -ENOSYS) {
			fail("io_uring is refused (ioq_create: %s), and IOQ_STRICT_TESTS=1 needs it", strerror(-err));
		}
		printf("%s: SKIP io_uring: unavailable here (ioq_create: %s)\n", prog, strerror(-err));
		return false;
	}
	ioq_destroy(q);
	return true;
}

#endif // IOQ_TEST_QUEUECHECK_H
