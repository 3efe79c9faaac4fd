// SPDX-License-Identifier: 0BSD
/** inject: process-wide fault injection points. */

#include "inject.h"
#include <errno.h>
#include <stdatomic.h>
#include <time.h>

/** One injection point. */
struct inject_point {
	/** The negative errno value to fail with. */
	atomic_int err;
	/** Failures left; < 0 means forever. */
	atomic_int count;
	/** Failures so far, since the point was last set. */
	atomic_int hits;
};

_Static_assert(IOQ_INJECT_URING_STAT - IOQ_INJECT_URING_CLOSE == IOQ_STAT - IOQ_CLOSE, "one IOQ_INJECT_URING_* point per op, in enum ioq_op order");
_Static_assert(IOQ_INJECT_URING_CLOSEDIR - IOQ_INJECT_URING_CLOSE == IOQ_CLOSEDIR - IOQ_CLOSE, "one IOQ_INJECT_URING_* point per op, in enum ioq_op order");

/** Every point (off: count 0). */
static struct inject_point inject_points[IOQ_INJECT_COUNT];

int32_t ioq_test_inject(int32_t point, int32_t err, int32_t count) {
	if (point < 0 || point >= IOQ_INJECT_COUNT || (count != 0 && err >= 0)) {
		return -EINVAL;
	}
	// Off first, so a pass never pairs the new count with the old error
	atomic_store(&inject_points[point].count, 0);
	atomic_store(&inject_points[point].err, err);
	atomic_store(&inject_points[point].hits, 0);
	atomic_store(&inject_points[point].count, count);
	return 0;
}

int32_t ioq_test_injected(int32_t point) {
	if (point < 0 || point >= IOQ_INJECT_COUNT) {
		return -EINVAL;
	}
	return atomic_load(&inject_points[point].hits);
}

int inject_error(enum ioq_inject_point point) {
	struct inject_point *p = &inject_points[point];
	int count = atomic_load_explicit(&p->count, memory_order_relaxed);
	while (count != 0) {
		int next = count < 0 ? count : count - 1;
		if (atomic_compare_exchange_weak(&p->count, &count, next)) {
			atomic_fetch_add(&p->hits, 1);
			return atomic_load(&p->err);
		}
	}
	return 0;
}

int inject_stall(void) {
	int err = inject_error(IOQ_INJECT_STALL);
	if (err < 0) {
		struct timespec ts = {-err / 1000, (long)(-err % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
	return 0;
}

int inject_uring_op(int op) {
	if (op < IOQ_CLOSE || op > IOQ_STAT) {
		return 0;
	}
	return inject_error((enum ioq_inject_point)(IOQ_INJECT_URING_CLOSE + (op - IOQ_CLOSE)));
}
