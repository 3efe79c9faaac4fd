// SPDX-License-Identifier: 0BSD
/**
 * wring: a walk worker's batches of opens and stats, through its ring when
 * it has one: a batch is prepared at once, submitted with one call, and
 * waited for as a whole, so on a cold cache the kernel works on all of them
 * at the same time.  An op the ring refuses (EINVAL, EOPNOTSUPP, ENOSYS) is
 * done synchronously, now and, for every worker of the queue, from then on;
 * a ring whose submissions keep failing is given up, and the worker goes on
 * synchronously.
 */

#ifndef IOQ_WRING_H
#define IOQ_WRING_H

#include <linux/stat.h>
#include <stdbool.h>
#include <stdint.h>

struct ioq;
struct io_uring;

/** The most ops in one batch. */
#define WRING_MAX 64

/** What an op does. */
enum wring_kind {
	/** openat(dfd, path, flags) of a directory. */
	WRING_OPEN,
	/** statx(dfd, path, flags) into `stx`. */
	WRING_STAT,
};

/** One op of a batch. */
struct wring_op {
	/** An enum wring_kind. */
	uint8_t kind;
	/** The directory `path` is relative to. */
	int dfd;
	/** The path (NUL-terminated). */
	const char *path;
	/** Open flags (WRING_OPEN) or AT_* flags (WRING_STAT). */
	int flags;
	/** Where a stat goes. */
	struct statx *stx;
	/** The result: a descriptor, 0, or a negative errno value. */
	int res;
	/** Private: a refusal a test injected for this op. */
	int injected;
};

/** A worker's ring, as the walk uses it. */
struct wring {
	/** The ring, or NULL (a worker without one). */
	struct io_uring *ring;
	/** The queue (for the ops its rings support). */
	struct ioq *q;
	/** The ring was given up: everything runs synchronously. */
	bool broken;
};

/** Run up to WRING_MAX ops and wait for them all. */
void wring_run(struct wring *r, struct wring_op *ops, uint32_t n);

#endif // IOQ_WRING_H
