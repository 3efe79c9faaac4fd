// SPDX-License-Identifier: 0BSD
/**
 * uring: the io_uring backend: one ring per worker, the workers' loop on
 * them, and the helpers the walk engine's batches share (wring.c).
 */

#ifndef IOQ_URING_H
#define IOQ_URING_H

#include "queue.h"
#include <stdbool.h>

#if IOQ_WITH_URING

/** SQ entries per ring (one page of SQEs); the CQ gets twice as many. */
#define URING_ENTRIES 64

/** Consecutive fruitless submit failures before a ring is given up. */
#define URING_SUBMIT_TRIES 32

/** Bit of ioq::uring_ops for an op. */
#define URING_OP(op) (1u << (op))

/**
 * Set up one ring per worker, sharing one io-wq pool.
 * @return 0, or the negative errno value of the first failure (then no ring
 *         is left set up).
 */
int uring_setup(struct ioq *q);

/** Tear down every ring that was set up. */
void uring_teardown(struct ioq *q);

/** A worker's loop when it has a ring. */
void uring_work(struct ioq_worker *w);

/** @return Whether a ring's answer means "the ring cannot do this op here" (then do it synchronously). */
bool uring_unsupported(int res);

/** Sleep a little before retry number `tries` of a failed submit. */
void uring_backoff(unsigned tries);

#endif // IOQ_WITH_URING

#endif // IOQ_URING_H
