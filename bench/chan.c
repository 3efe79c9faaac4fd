// SPDX-License-Identifier: 0BSD
/**
 * bench/chan: throughput of the MPMC ring alone, in the shape ioq uses it.
 *
 * One owner thread (main) pushes batches of 8 item pointers into ring A and
 * drains ring B with non-blocking takes, as ioq's owner submits requests and
 * pops completions.  N worker threads take from A (non-blocking, then
 * blocking once they have flushed) and push to B in local batches of up to 8,
 * flushing when the next take would block, as ioq's workers do.  Items come
 * from a pool of BENCH_CAPACITY, so no more than that are ever in the rings,
 * as with ioq's entry arena.
 *
 *     chan-bench-lineN [-t threads] [-n items] [-r runs]
 *
 * Prints one line per run and a summary with the median.  `zig build bench-c`
 * builds it with CHAN_LINE=0 (stride claims) and CHAN_LINE=1 (line claims).
 */

#define _GNU_SOURCE
#include "chan.h"
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "tool.h"

/** Ring A's capacity, and the number of items in circulation. */
#define BENCH_CAPACITY 4096
/** The most worker threads. */
#define BENCH_MAX_THREADS 64
/** The most runs. */
#define BENCH_MAX_RUNS 1000

/** An item: one cache line, like an ioq entry's head. */
struct bench_item {
	/** Something to carry. */
	_Alignas(64) uint64_t seq;
};

/** The stop mark, passed from worker to worker at the end of a run. */
static struct bench_item bench_stop;

/** One run's rings and threads. */
struct bench {
	/** Ring A: owner -> workers. */
	struct chan *requests;
	/** Ring B: workers -> owner. */
	struct chan *done;
	/** Worker threads. */
	pthread_t threads[BENCH_MAX_THREADS];
	/** How many. */
	unsigned nthreads;
};

/** Command line settings. */
struct bench_args {
	/** Worker threads. */
	unsigned threads;
	/** Items per run. */
	size_t items;
	/** Runs. */
	unsigned runs;
};

/** A worker's batch of finished items. */
struct bench_batch {
	/** The items. */
	void *items[CHAN_BATCH];
	/** How many. */
	size_t n;
};

/** Push a worker's batch to ring B, if it holds anything. */
static void bench_flush(struct bench *b, struct bench_batch *batch) {
	if (batch->n) {
		chan_push(b->done, batch->items, batch->n);
		batch->n = 0;
	}
}

/** A worker: move items from ring A to ring B until the stop mark. */
static void *bench_worker(void *arg) {
	struct bench *b = arg;
	struct chan_cursor cur = {0};
	struct bench_batch batch = {.n = 0};

	while (true) {
		void *item = chan_take(b->requests, &cur, false);
		if (!item) {
			// The next take would block: hand over what we have first
			bench_flush(b, &batch);
			item = chan_take(b->requests, &cur, true);
		}
		if (item == &bench_stop) {
			break;
		}
		batch.items[batch.n++] = item;
		if (batch.n == CHAN_BATCH) {
			bench_flush(b, &batch);
		}
	}

	bench_flush(b, &batch);
	void *stop = &bench_stop;
	chan_push(b->requests, &stop, 1);
	return NULL;
}

/** Create the rings and start the workers.  @return 0 or -1 (reported). */
static int bench_start(struct bench *b, unsigned nthreads) {
	memset(b, 0, sizeof(*b));
	// Room for the items and the stop mark
	b->requests = chan_create(BENCH_CAPACITY + 1, nthreads);
	b->done = chan_create(BENCH_CAPACITY, 1);
	if (!b->requests || !b->done) {
		perror("chan_create");
		goto fail;
	}
	for (unsigned i = 0; i < nthreads; ++i) {
		int err = pthread_create(&b->threads[i], NULL, bench_worker, b);
		if (err) {
			fprintf(stderr, "pthread_create: %s\n", strerror(err));
			goto fail;
		}
		++b->nthreads;
	}
	return 0;

fail:
	if (b->nthreads > 0) {
		void *stop = &bench_stop;
		chan_push(b->requests, &stop, 1);
		for (unsigned i = 0; i < b->nthreads; ++i) {
			pthread_join(b->threads[i], NULL);
		}
	}
	chan_destroy(b->done);
	chan_destroy(b->requests);
	return -1;
}

/** Stop the workers and free the rings. */
static void bench_stop_all(struct bench *b) {
	void *stop = &bench_stop;
	chan_push(b->requests, &stop, 1);
	for (unsigned i = 0; i < b->nthreads; ++i) {
		pthread_join(b->threads[i], NULL);
	}
	chan_destroy(b->done);
	chan_destroy(b->requests);
}

/**
 * The owner's loop: push a batch of up to 8 free items to ring A, drain ring
 * B without blocking, and block on B only when there is nothing to push.
 * @return The number of items that came back (== `items`).
 */
static size_t bench_owner(struct bench *b, struct bench_item *pool, size_t items) {
	void *free_items[BENCH_CAPACITY];
	size_t nfree = 0;
	for (size_t i = 0; i < BENCH_CAPACITY; ++i) {
		free_items[nfree++] = &pool[i];
	}

	struct chan_cursor cur = {0};
	size_t sent = 0, received = 0;
	while (received < items) {
		size_t n = nfree < CHAN_BATCH ? nfree : CHAN_BATCH;
		if (n > items - sent) {
			n = items - sent;
		}
		if (n > 0) {
			nfree -= n;
			chan_push(b->requests, &free_items[nfree], n);
			sent += n;
		}

		bool block = n == 0;
		void *item;
		while ((item = chan_take(b->done, &cur, block))) {
			free_items[nfree++] = item;
			++received;
			block = false;
		}
	}
	return received;
}

/** One timed run.  @return Items per second, or a negative value on error. */
static double bench_run(const struct bench_args *args, struct bench_item *pool) {
	struct bench b;
	if (bench_start(&b, args->threads) != 0) {
		return -1;
	}
	double start = tool_now();
	size_t received = bench_owner(&b, pool, args->items);
	double elapsed = tool_now() - start;
	bench_stop_all(&b);

	if (received != args->items) {
		fprintf(stderr, "chan bench: %zu items came back, %zu were sent\n", received, args->items);
		return -1;
	}
	return (double)args->items / elapsed;
}

/** Order doubles, for the median. */
static int bench_cmp(const void *a, const void *b) {
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/** Print the usage line and return the exit status for a bad command line. */
static int bench_usage(const char *argv0) {
	fprintf(stderr, "usage: %s [-t threads (1-%d)] [-n items] [-r runs (1-%d)]\n", argv0, BENCH_MAX_THREADS, BENCH_MAX_RUNS);
	return 2;
}

/** Parse the command line.  @return 0, or the exit status for an error. */
static int bench_args_parse(int argc, char *argv[], struct bench_args *args) {
	*args = (struct bench_args){.threads = 1, .items = 2000000, .runs = 5};
	int opt;
	unsigned long long value;
	while ((opt = getopt(argc, argv, "t:n:r:")) != -1) {
		switch (opt) {
		case 't':
			if (tool_parse(optarg, BENCH_MAX_THREADS, &value) != 0) {
				return bench_usage(argv[0]);
			}
			args->threads = (unsigned)value;
			break;
		case 'n':
			if (tool_parse(optarg, SIZE_MAX / 2, &value) != 0) {
				return bench_usage(argv[0]);
			}
			args->items = (size_t)value;
			break;
		case 'r':
			if (tool_parse(optarg, BENCH_MAX_RUNS, &value) != 0) {
				return bench_usage(argv[0]);
			}
			args->runs = (unsigned)value;
			break;
		default:
			return bench_usage(argv[0]);
		}
	}
	return optind == argc ? 0 : bench_usage(argv[0]);
}

int main(int argc, char *argv[]) {
	struct bench_args args;
	int ret = bench_args_parse(argc, argv, &args);
	if (ret != 0) {
		return ret;
	}

	const char *mode = CHAN_LINE ? "CHAN_LINE=1 (line claims)  " : "CHAN_LINE=0 (stride claims)";
	struct bench_item *pool = aligned_alloc(64, BENCH_CAPACITY * sizeof(*pool));
	double *rates = malloc(args.runs * sizeof(*rates));
	if (!pool || !rates) {
		perror("chan bench");
		return 1;
	}
	memset(pool, 0, BENCH_CAPACITY * sizeof(*pool));

	for (unsigned i = 0; i < args.runs; ++i) {
		rates[i] = bench_run(&args, pool);
		if (rates[i] < 0) {
			return 1;
		}
		printf("chan bench %s threads %u: run %u/%u: %zu items, %6.2f M items/s\n", mode, args.threads, i + 1, args.runs, args.items, rates[i] / 1e6);
		fflush(stdout);
	}

	qsort(rates, args.runs, sizeof(*rates), bench_cmp);
	double median = args.runs % 2 ? rates[args.runs / 2] : (rates[args.runs / 2 - 1] + rates[args.runs / 2]) / 2;
	printf("chan bench %s threads %u: median %6.2f M items/s (min %.2f, max %.2f, %u runs of %zu items)\n", mode, args.threads, median / 1e6, rates[0] / 1e6, rates[args.runs - 1] / 1e6, args.runs, args.items);

	free(rates);
	free(pool);
	return 0;
}
