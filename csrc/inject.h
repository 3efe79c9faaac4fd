// SPDX-License-Identifier: 0BSD
/** inject: fault injection for tests (see ioq_test_inject()). */

#ifndef IOQ_INJECT_H
#define IOQ_INJECT_H

#include "ioq.h"

/**
 * Pass through an injection point.
 * @return 0 to do the real call, or the negative errno value to fail with.
 */
int inject_error(enum ioq_inject_point point);

/** Pass through IOQ_INJECT_STALL: sleep if it is on.  @return 0. */
int inject_stall(void);

/**
 * Pass through the IOQ_INJECT_URING_* point of an op (enum ioq_op) about to
 * go into a ring.  @return 0, or the negative errno value the ring is to
 * answer with instead of running the op.
 */
int inject_uring_op(int op);

#endif // IOQ_INJECT_H
