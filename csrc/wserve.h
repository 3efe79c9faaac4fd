// SPDX-License-Identifier: 0BSD
/** wserve: how a queue's worker serves a walk it is lent to. */

#ifndef IOQ_WSERVE_H
#define IOQ_WSERVE_H

struct ioq_worker;

/**
 * Work for the walk the worker's queue is lent to, until the walk is over
 * or cancelled.  Called by a worker for an IOQ_WALK request.
 */
void walk_serve(struct ioq_worker *worker);

#endif // IOQ_WSERVE_H
