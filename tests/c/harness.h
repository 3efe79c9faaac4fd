// SPDX-License-Identifier: 0BSD
/**
 * harness: what every C test program shares: which sanitizer lane it is,
 * what it is doing (for failure messages), failing from any thread, a
 * watchdog that turns a hang into a failure, a few time helpers, the seed
 * (IOQ_TEST_SEED) and whether nothing may be skipped (IOQ_STRICT_TESTS=1,
 * as CI sets it).
 *
 * Header-only, like rng.h: each test is one program built from one file.
 */

#ifndef IOQ_TEST_HARNESS_H
#define IOQ_TEST_HARNESS_H

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_THREAD__)
#  define HARNESS_TSAN 1
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define HARNESS_TSAN 1
#  endif
#endif
#ifndef HARNESS_TSAN
/** Whether this build runs under ThreadSanitizer (tests scale down for it). */
#  define HARNESS_TSAN 0
#endif

/** The sanitizer lane this build is, for the report lines. */
#if HARNESS_TSAN
#  define HARNESS_LANE " [TSan]"
#elif defined(__SANITIZE_ADDRESS__)
#  define HARNESS_LANE " [ASan+UBSan]"
#else
#  define HARNESS_LANE ""
#endif

/** The program's name, for failure messages. */
static const char *harness_name = "test";
/** What the program is doing, for failure messages. */
static char harness_context[200] = "starting";
/** Guards `harness_context`. */
static pthread_mutex_t harness_lock = PTHREAD_MUTEX_INITIALIZER;
/** Called by fail() before exiting (say, to remove a temporary tree), if set. */
static void (*harness_cleanup)(void);
/** The watchdog's time limit, in seconds. */
static int harness_limit_s;

/** Say what the program is doing now. */
__attribute__((format(printf, 1, 2))) static inline void set_context(const char *format, ...) {
	va_list args;
	va_start(args, format);
	pthread_mutex_lock(&harness_lock);
	vsnprintf(harness_context, sizeof(harness_context), format, args);
	pthread_mutex_unlock(&harness_lock);
	va_end(args);
}

/** Report a failed check, run the cleanup hook and exit at once (from any thread). */
__attribute__((format(printf, 1, 2), noreturn)) static inline void fail(const char *format, ...) {
	pthread_mutex_lock(&harness_lock);
	fprintf(stderr, "%s: FAIL [%s]: ", harness_name, harness_context);
	va_list args;
	va_start(args, format);
	vfprintf(stderr, format, args);
	va_end(args);
	fputc('\n', stderr);
	fflush(stdout);
	if (harness_cleanup) {
		harness_cleanup();
	}
	_exit(1);
}

/** The watchdog: fail if the program runs too long (a hang is a failure, not a timeout). */
static inline void *harness_watchdog(void *arg) {
	struct timespec ts = {harness_limit_s, 0};
	while (nanosleep(&ts, &ts) != 0) {
	}
	fail("still running after %d s: something hangs", harness_limit_s);
}

/**
 * Start a test program: name it, set what fail() cleans up (or NULL), and
 * start the watchdog with a time limit in seconds.
 */
static inline void harness_start(const char *name, void (*cleanup)(void), int limit_s) {
	harness_name = name;
	harness_cleanup = cleanup;
	harness_limit_s = limit_s;
	pthread_t thread;
	if (pthread_create(&thread, NULL, harness_watchdog, NULL) != 0) {
		fail("cannot start the watchdog thread");
	}
	pthread_detach(thread);
}

/** Start a thread or fail. */
static inline void start_thread(pthread_t *thread, void *(*fn)(void *), void *arg) {
	if (pthread_create(thread, NULL, fn, arg) != 0) {
		fail("pthread_create() failed");
	}
}

/** @return The CLOCK_MONOTONIC time in nanoseconds. */
static inline int64_t now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/** Sleep for some microseconds (0: just yield). */
static inline void sleep_us(long us) {
	if (us == 0) {
		sched_yield();
		return;
	}
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
	nanosleep(&ts, NULL);
}

/**
 * @return The run's random seed: $IOQ_TEST_SEED when set (a decimal or 0x
 * number), else one from the clock and the process id.  The caller prints it.
 */
static inline uint64_t harness_seed(void) {
	const char *env = getenv("IOQ_TEST_SEED");
	if (env && *env) {
		char *end;
		uint64_t seed = strtoull(env, &end, 0);
		if (*end != '\0') {
			fail("IOQ_TEST_SEED=%s is not a number", env);
		}
		return seed;
	}
	return (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32);
}

/**
 * Bytes made printable for a failure message: what is not printable ASCII
 * escaped (\xNN), cut at 300 bytes (the length said).  @return One of a few
 * buffers of the calling thread, used in turn.
 */
static inline const char *show_bytes(const char *p, size_t n) {
	static __thread char bufs[4][1300];
	static __thread unsigned next;
	char *out = bufs[next++ % 4];
	size_t o = 0;
	for (size_t i = 0; i < n && o < sizeof(bufs[0]) - 16; ++i) {
		unsigned char c = (unsigned char)p[i];
		if (i == 300) {
			o += (size_t)sprintf(out + o, "...(%zu bytes)", n);
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			out[o++] = (char)c;
		} else {
			o += (size_t)sprintf(out + o, "\\x%02x", c);
		}
	}
	out[o] = 0;
	return out;
}

/** @return Whether nothing that could run may be skipped (IOQ_STRICT_TESTS=1). */
static inline bool harness_strict(void) {
	const char *env = getenv("IOQ_STRICT_TESTS");
	return env && strcmp(env, "1") == 0;
}

#endif // IOQ_TEST_HARNESS_H
