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

#endif // IOQ_INJECT_H
