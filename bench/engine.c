// SPDX-License-Identifier: 0BSD
/**
 * bench/engine: the traversal engine in C alone, its output discarded.
 *
 * Walks ROOT through csrc/walk.h as the CLI asks it to (breadth-first,
 * symlinks never followed, every type reported, paths ended by '\n', no
 * stat): the main thread only takes finished batches (ioq_walk_next(),
 * sleeping in ioq_walk_wait() when none is ready), counts their records
 * and releases them.  It is what the CLI costs without JavaScript and
 * without writing the paths.
 *
 *     engine [-t workers] [-b auto|threads|io_uring] [-r runs] ROOT
 *
 * Workers default to the CPU count, at most 8 (as `IoQueue`); the backend to
 * auto.  Prints one JSON object per run on stdout: entries (reported
 * records: the root and everything below it), error records, batches,
 * bytes of path text, the engine's counters (directories opened, getdents64
 * and statx calls, the most descriptors held, worker sleeps), wall time
 * (CLOCK_MONOTONIC from ioq_create() to ioq_destroy(), as a process that
 * walks once creates its queue) and CPU time (getrusage(RUSAGE_SELF) before
 * and after: the main thread and the workers).  Error records are counted,
 * not printed; any makes the exit status 1.  Exits 3 when the backend is
 * refused (io_uring on a kernel that forbids it), 2 for a bad command line.
 * Built by `zig build bench-walk`; bench/layers.ts runs it.
 */

#define _GNU_SOURCE
#include "walk.h"
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "tool.h"

/** The most runs. */
#define ENGINE_MAX_RUNS 1000
/** The queue's depth (IoQueue's default). */
#define ENGINE_DEPTH 4096
/** How long one wait for a batch lasts before it looks again, µs. */
#define ENGINE_WAIT_US 500000

/** What one walk counts. */
struct engine_tally {
	/** Reported records, error records, batches. */
	uint64_t entries, errors, batches;
	/** Bytes of printable path text. */
	uint64_t bytes;
	/** ioq_walk_counters(). */
	double counters[IOQ_WALK_COUNTERS];
};

/**
 * Pack the one spec item ioq_walk_create() needs: the root.
 * @return The spec's length, or 0 if the root does not fit.
 */
static uint32_t engine_spec(const char *root, uint8_t *spec, size_t cap) {
	size_t len = strlen(root);
	size_t padded = (len + 3) & ~(size_t)3;
	if (8 + padded > cap) {
		return 0;
	}
	memset(spec, 0, 8 + padded);
	spec[0] = IOQ_WALK_ITEM_ROOT;
	uint32_t len32 = (uint32_t)len;
	memcpy(spec + 4, &len32, sizeof(len32));
	memcpy(spec + 8, root, len);
	return (uint32_t)(8 + padded);
}

/**
 * Take every batch of a walk until it ends.
 * @return 0, or a negative errno value.
 */
static int32_t engine_drain(struct ioq_walk *w, struct engine_tally *t) {
	struct ioq_walk_batch *batches = ioq_walk_batches(w);
	while (true) {
		int32_t ret = ioq_walk_next(w);
		if (ret == IOQ_WALK_NONE) {
			ret = ioq_walk_wait(w, ENGINE_WAIT_US);
			if (ret < 0) {
				return ret;
			}
			continue;
		}
		if (ret == IOQ_WALK_END) {
			return 0;
		}
		if (ret == IOQ_WALK_ASK || ret < 0) {
			// No gates were asked for
			return ret < 0 ? ret : -EPROTO;
		}
		const struct ioq_walk_batch *b = &batches[ret];
		t->entries += b->reported;
		t->errors += b->count - b->reported;
		t->bytes += b->front;
		++t->batches;
		ioq_walk_release(w, (uint32_t)ret);
	}
}

/**
 * Walk once and print the report.
 * @return The exit status: 0, 1 (a failure, or error records), 3 (backend refused).
 */
static int engine_run(const char *root, uint32_t workers, int32_t backend, unsigned run) {
	static uint8_t spec[8 + 4096 + 4];
	uint32_t spec_len = engine_spec(root, spec, sizeof(spec));
	if (spec_len == 0) {
		fprintf(stderr, "engine: the root is too long\n");
		return 1;
	}
	struct ioq_walk_config cfg = {
		.flags = 0,
		.order = IOQ_WALK_BFS,
		.follow = IOQ_WALK_FOLLOW_NEVER,
		.min_depth = 0,
		.max_depth = IOQ_WALK_NO_MAX,
		.types = 0xffffffffu,
		.terminator = '\n',
		.fd_limit = 0,
	};
	struct engine_tally t = {0};

	struct rusage before, after;
	getrusage(RUSAGE_SELF, &before);
	double start = tool_now();

	int32_t err = 0;
	struct ioq *q = ioq_create(ENGINE_DEPTH, workers, backend, &err);
	if (!q) {
		fprintf(stderr, "engine: ioq_create: %s\n", strerror(-err));
		return backend == IOQ_BACKEND_URING ? 3 : 1;
	}
	struct ioq_walk *w = ioq_walk_create(q, &cfg, spec, spec_len, &err);
	if (!w) {
		fprintf(stderr, "engine: ioq_walk_create %s: %s\n", root, strerror(-err));
		ioq_destroy(q);
		return 1;
	}
	err = engine_drain(w, &t);
	ioq_walk_counters(w, t.counters, IOQ_WALK_COUNTERS);
	const char *used = ioq_backend(q) == IOQ_BACKEND_URING ? "io_uring" : "threads";
	ioq_walk_destroy(w);
	ioq_destroy(q);

	double wall = tool_now() - start;
	getrusage(RUSAGE_SELF, &after);
	if (err != 0) {
		fprintf(stderr, "engine: walk %s: %s\n", root, strerror(-err));
		return 1;
	}
	double user = tool_ms(after.ru_utime) - tool_ms(before.ru_utime);
	double sys = tool_ms(after.ru_stime) - tool_ms(before.ru_stime);
	const double *c = t.counters;
	printf("{\"program\":\"engine\",\"run\":%u,\"backend\":\"%s\",\"workers\":%u,"
	       "\"entries\":%llu,\"errors\":%llu,\"batches\":%llu,\"bytes\":%llu,"
	       "\"opens\":%.0f,\"reads\":%.0f,\"stats\":%.0f,\"peakFds\":%.0f,\"sleeps\":%.0f,"
	       "\"wallMs\":%.3f,\"userMs\":%.3f,\"sysMs\":%.3f}\n",
	       run, used, workers, (unsigned long long)t.entries, (unsigned long long)t.errors,
	       (unsigned long long)t.batches, (unsigned long long)t.bytes, c[IOQ_WALK_COUNT_OPENS],
	       c[IOQ_WALK_COUNT_READS], c[IOQ_WALK_COUNT_STATS], c[IOQ_WALK_COUNT_PEAK_FDS],
	       c[IOQ_WALK_COUNT_SLEEPS], wall * 1e3, user, sys);
	fflush(stdout);
	if (t.errors) {
		fprintf(stderr, "engine: %llu error records under %s\n", (unsigned long long)t.errors, root);
		return 1;
	}
	return 0;
}

/** Print the usage line and return the exit status for a bad command line. */
static int engine_usage(const char *argv0) {
	fprintf(stderr, "usage: %s [-t workers (1-1024)] [-b auto|threads|io_uring] [-r runs (1-%d)] ROOT\n", argv0, ENGINE_MAX_RUNS);
	return 2;
}

/** Parse the command line, run the walks.  @return The exit status. */
int main(int argc, char *argv[]) {
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned long long workers = cpus < 1 ? 1 : cpus > 8 ? 8 : (unsigned long long)cpus;
	unsigned long long runs = 1;
	int32_t backend = IOQ_BACKEND_AUTO;
	int opt;
	while ((opt = getopt(argc, argv, "t:b:r:")) != -1) {
		if (opt == 't' && tool_parse(optarg, 1024, &workers) == 0) {
			continue;
		}
		if (opt == 'r' && tool_parse(optarg, ENGINE_MAX_RUNS, &runs) == 0) {
			continue;
		}
		if (opt == 'b' && strcmp(optarg, "auto") == 0) {
			backend = IOQ_BACKEND_AUTO;
			continue;
		}
		if (opt == 'b' && (strcmp(optarg, "threads") == 0 || strcmp(optarg, "io_uring") == 0)) {
			backend = optarg[0] == 't' ? IOQ_BACKEND_THREADS : IOQ_BACKEND_URING;
			continue;
		}
		return engine_usage(argv[0]);
	}
	if (optind != argc - 1) {
		return engine_usage(argv[0]);
	}
	for (unsigned i = 0; i < runs; ++i) {
		int ret = engine_run(argv[optind], (uint32_t)workers, backend, i + 1);
		if (ret != 0) {
			return ret;
		}
	}
	return 0;
}
