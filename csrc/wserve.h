// SPDX-License-Identifier: 0BSD
/** wserve: how a queue's worker serves a walk it is lent to. */

#ifndef IOQ_WSERVE_H
#define IOQ_WSERVE_H

#include <stdbool.h>

struct io_uring;
struct ioq_worker;

/**
 * Work for the walk the worker's queue is lent to, until the walk is over
 * or cancelled.  Called by a worker for an IOQ_WALK request.
 * @param ring
 *         The worker's ring, for batches of opens and stats, or NULL.
 * @return Whether the ring failed and was given up.
 */
bool walk_serve(struct ioq_worker *worker, struct io_uring *ring);

#endif // IOQ_WSERVE_H
