// SPDX-License-Identifier: 0BSD
/**
 * chan_stress: hammer the MPMC ring (struct chan) and check what it promises.
 *
 * Properties checked, for capacities 1, 2, 3, 64, 4096 and 1..4 producers and
 * consumers:
 *
 *  - every pushed item is taken exactly once (no loss, no duplicate, no
 *    pointer that was never pushed), and every cursor ends on its stop mark;
 *  - chan_await() from a thread that is not the consumer returns true once
 *    the consumer's claimed slot is filled, never before, and returns false
 *    at its deadline or when its generation counter moves (chan_wake_all()),
 *    without losing the wake-up.
 *
 * Cancellation at the ring level: a claim belongs to its cursor, and a slot a
 * cursor claimed is read by nobody else.  A consumer that simply vanished
 * would strand the items later pushed into its claimed slots, and a producer
 * coming round a lap later would wait on them forever; that is the ring's
 * contract, not a bug.  So here a consumer quits at a random point (between
 * items, or right after a non-blocking take came back empty and kept its
 * claim) by handing its cursor, claim included, to consumer 0, which polls
 * every cursor it holds.  No replacement thread is started, and the remaining
 * consumers must still see every item exactly once.  Random-point
 * cancellation of whole requests is tested in ioq_stress.c.
 *
 * The capacity contract is kept with a budget: a producer takes n units
 * before pushing n items, a consumer gives one back per item taken, so no more
 * than `items` items are ever in the ring or in claims.
 *
 * Order is not checked, only counted.  Even through one cursor, a producer's
 * items may arrive out of order: a slot is tied to a ticket only by position,
 * so when a claim lags a whole lap behind (its consumer is slow, or away
 * between non-blocking takes), the claim one lap ahead on the same slot can
 * take the lagging claim's item, and the lagging claim later gets a newer
 * one.  Each item still goes to exactly one claim, which is what is checked.
 */

#define _GNU_SOURCE
#include "chan.h"
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"
#include "rng.h"

/** Items each producer pushes in one stress run. */
#define STRESS_ITEMS (HARNESS_TSAN ? 6000 : 12000)
/** Rounds of the chan_await() fill and generation tests, per capacity. */
#define AWAIT_ROUNDS (HARNESS_TSAN ? 120 : 200)
/** Rounds of the chan_await() deadline test, per capacity. */
#define DEADLINE_ROUNDS 4
/** The most producers, and the most consumers, in a run. */
#define MAX_THREADS 4
/** How long a wake-up may take before we call it lost, in milliseconds. */
#define LOST_MS 10000
/** The whole program's time limit, in seconds. */
#define WATCHDOG_S 55

/** @return The smaller of two sizes. */
static size_t min_size(size_t a, size_t b) {
	return a < b ? a : b;
}

/** @return The CLOCK_MONOTONIC time `ns` nanoseconds from now. */
static struct timespec deadline_in(int64_t ns) {
	int64_t t = now_ns() + ns;
	struct timespec ts = {(time_t)(t / 1000000000), (long)(t % 1000000000)};
	return ts;
}

/** One item: who pushed it and its place in that producer's sequence. */
struct item {
	/** The producer's number. */
	_Alignas(64) uint32_t producer;
	/** Its sequence number among that producer's items. */
	uint32_t seq;
	/** How many times a consumer took it (must end at exactly 1). */
	atomic_uint taken;
};

/** The stop mark: a cursor that takes it is finished. */
static struct item stop_mark;

/** Allocate `n` items, numbered for `per` items per producer. */
static struct item *items_create(size_t n, size_t per) {
	struct item *items = aligned_alloc(64, n * sizeof(*items));
	if (!items) {
		fail("out of memory for %zu items", n);
	}
	for (size_t i = 0; i < n; ++i) {
		items[i].producer = (uint32_t)(i / per);
		items[i].seq = (uint32_t)(i % per);
		atomic_init(&items[i].taken, 0);
	}
	return items;
}

/** A counting budget that keeps producers within the ring's capacity. */
struct budget {
	/** Guards `avail`. */
	pthread_mutex_t mutex;
	/** Signalled when units come back. */
	pthread_cond_t cond;
	/** Units free now. */
	size_t avail;
	/** Units in all. */
	size_t cap;
};

/** Initialize a budget of `cap` units. */
static void budget_init(struct budget *b, size_t cap) {
	pthread_mutex_init(&b->mutex, NULL);
	pthread_cond_init(&b->cond, NULL);
	b->avail = cap;
	b->cap = cap;
}

/** Destroy a budget. */
static void budget_destroy(struct budget *b) {
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->mutex);
}

/** Take `n` units at once, waiting until they are free. */
static void budget_take(struct budget *b, size_t n) {
	pthread_mutex_lock(&b->mutex);
	while (b->avail < n) {
		pthread_cond_wait(&b->cond, &b->mutex);
	}
	b->avail -= n;
	pthread_mutex_unlock(&b->mutex);
}

/** Give back one unit. */
static void budget_give(struct budget *b) {
	pthread_mutex_lock(&b->mutex);
	if (b->avail >= b->cap) {
		fail("more items taken than pushed (budget over-released)");
	}
	++b->avail;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->mutex);
}

/** @return The free units now. */
static size_t budget_avail(struct budget *b) {
	pthread_mutex_lock(&b->mutex);
	size_t avail = b->avail;
	pthread_mutex_unlock(&b->mutex);
	return avail;
}

/** A consumer cursor and what came through it; handed between threads whole. */
struct ccursor {
	/** The ring cursor, with its claim. */
	struct chan_cursor cur;
	/** 1 + the last sequence number taken from each producer, or 0. */
	uint32_t next_seq[MAX_THREADS];
	/** Items that arrived before an item their producer pushed earlier. */
	size_t inversions;
	/** Items (not stop marks) taken through it. */
	size_t count;
	/** Whether it took a stop mark (it is never used again). */
	bool dead;
};

/** One stress run: a ring, its items, producers and consumers. */
struct stress {
	/** The ring. */
	struct chan *chan;
	/** Its capacity (chan_create()'s `items`). */
	size_t capacity;
	/** Producer and consumer thread counts. */
	unsigned nprod, ncons;
	/** Items per producer. */
	size_t per;
	/** nprod * per items, producer by producer. */
	struct item *items;
	/** Keeps the ring within capacity. */
	struct budget budget;
	/** One cursor per consumer thread to begin with. */
	struct ccursor cursors[MAX_THREADS];

	/** Guards `inbox`, `ninbox` and `others`. */
	pthread_mutex_t lock;
	/** Cursors handed to consumer 0 by consumers that quit. */
	struct ccursor *inbox[MAX_THREADS];
	/** How many are in `inbox`. */
	size_t ninbox;
	/** Consumer threads other than 0 still running. */
	unsigned others;

	/** Consumers that quit at a random point. */
	atomic_uint quits;
	/** Out-of-order arrivals through one cursor, summed after the run. */
	size_t inversions;
	/** The run's random seed. */
	uint64_t seed;
};

/** A stress thread's arguments. */
struct stress_thread {
	/** The run. */
	struct stress *s;
	/** Producer or consumer number. */
	unsigned id;
	/** The thread. */
	pthread_t thread;
};

/** Check and record an item (or stop mark) a cursor took. */
static void stress_consume(struct stress *s, struct ccursor *cc, struct item *it) {
	if (!it) {
		fail("a blocking chan_take() returned NULL");
	}
	if (it == &stop_mark) {
		cc->dead = true;
		budget_give(&s->budget);
		return;
	}

	size_t total = s->nprod * s->per;
	uintptr_t addr = (uintptr_t)it, base = (uintptr_t)s->items;
	if (addr < base || addr >= base + total * sizeof(*it) || (addr - base) % sizeof(*it) != 0) {
		fail("took %p, which was never pushed", (void *)it);
	}
	size_t index = (size_t)(it - s->items);
	if (it->producer != index / s->per || it->seq != index % s->per) {
		fail("item %zu came back corrupted", index);
	}
	if (atomic_fetch_add(&it->taken, 1) != 0) {
		fail("item %u of producer %u was taken twice", it->seq, it->producer);
	}
	if (it->seq < cc->next_seq[it->producer]) {
		// Allowed (see the top of this file), only counted
		++cc->inversions;
	}
	cc->next_seq[it->producer] = it->seq + 1;
	++cc->count;
	budget_give(&s->budget);
}

/** A producer: push its items in random batches, within the budget. */
static void *stress_producer(void *arg) {
	struct stress_thread *t = arg;
	struct stress *s = t->s;
	struct rng rng;
	rng_seed(&rng, s->seed ^ (0x1000 + t->id));

	size_t max_batch = min_size(CHAN_BATCH, s->capacity);
	struct item *mine = s->items + t->id * s->per;
	for (size_t seq = 0; seq < s->per;) {
		size_t n = 1 + rng_below(&rng, min_size(max_batch, s->per - seq));
		void *batch[CHAN_BATCH];
		for (size_t i = 0; i < n; ++i) {
			batch[i] = &mine[seq + i];
		}
		budget_take(&s->budget, n);
		chan_push(s->chan, batch, n);
		seq += n;
		if (rng_below(&rng, 16) == 0) {
			sched_yield();
		}
	}
	return NULL;
}

/** Consumer 0 takes the cursors in its inbox.  @return Consumers still running. */
static unsigned stress_adopt(struct stress *s, struct ccursor **mine, size_t *n) {
	pthread_mutex_lock(&s->lock);
	while (s->ninbox > 0) {
		mine[(*n)++] = s->inbox[--s->ninbox];
	}
	unsigned others = s->others;
	pthread_mutex_unlock(&s->lock);
	return others;
}

/**
 * Consumer 0: never quits, adopts the cursors of those that do, and polls all
 * of its cursors with non-blocking takes.  It blocks only when it holds one
 * live cursor and nobody can hand it another (blocking on one claim while
 * another holds items could starve the producers of budget).
 */
static void *stress_adopter(void *arg) {
	struct stress_thread *t = arg;
	struct stress *s = t->s;
	struct rng rng;
	rng_seed(&rng, s->seed ^ 0x2000);

	struct ccursor *mine[MAX_THREADS];
	size_t n = 0;
	mine[n++] = &s->cursors[0];

	while (true) {
		unsigned others = stress_adopt(s, mine, &n);

		size_t live = 0;
		bool progress = false;
		struct ccursor *last = NULL;
		for (size_t i = 0; i < n; ++i) {
			struct ccursor *cc = mine[i];
			for (int k = 0; k < CHAN_BATCH && !cc->dead; ++k) {
				struct item *it = chan_take(s->chan, &cc->cur, false);
				if (!it) {
					break;
				}
				stress_consume(s, cc, it);
				progress = true;
			}
			if (!cc->dead) {
				++live;
				last = cc;
			}
		}

		if (live == 0 && others == 0) {
			// The inbox was empty as we looked, and nobody is left to fill it
			break;
		} else if (progress) {
			continue;
		} else if (live == 1 && others == 0 && rng_below(&rng, 2)) {
			stress_consume(s, last, chan_take(s->chan, &last->cur, true));
		} else {
			sched_yield();
		}
	}
	return NULL;
}

/** Hand a consumer's cursor to consumer 0 and leave. */
static void stress_quit(struct stress *s, struct ccursor *cc) {
	pthread_mutex_lock(&s->lock);
	s->inbox[s->ninbox++] = cc;
	--s->others;
	pthread_mutex_unlock(&s->lock);
	atomic_fetch_add(&s->quits, 1);
}

/**
 * Consumers 1..n-1: take with random blocking and non-blocking takes (after
 * an empty non-blocking take, the same cursor is used again later, as the
 * claim is kept).  In about half the runs, each quits at a random point.
 */
static void *stress_consumer(void *arg) {
	struct stress_thread *t = arg;
	struct stress *s = t->s;
	struct ccursor *cc = &s->cursors[t->id];
	struct rng rng;
	rng_seed(&rng, s->seed ^ (0x3000 + t->id));

	bool may_quit = rng_below(&rng, 2);
	size_t share = s->nprod * s->per / s->ncons;
	size_t quit_after = rng_below(&rng, 2 * share + 1);

	while (!cc->dead) {
		if (may_quit && cc->count >= quit_after) {
			stress_quit(s, cc);
			return NULL;
		}
		bool block = rng_below(&rng, 2);
		struct item *it = chan_take(s->chan, &cc->cur, block);
		if (it) {
			stress_consume(s, cc, it);
		} else if (block) {
			fail("a blocking chan_take() returned NULL");
		} else if (may_quit && rng_below(&rng, 32) == 0) {
			// Quit holding a claim that is still empty
			stress_quit(s, cc);
			return NULL;
		} else {
			sched_yield();
		}
	}

	pthread_mutex_lock(&s->lock);
	--s->others;
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/** Check a finished run: every item once, every cursor stopped, ring empty. */
static void stress_check(struct stress *s) {
	size_t total = s->nprod * s->per, seen = 0;
	s->inversions = 0;
	for (size_t i = 0; i < total; ++i) {
		unsigned taken = atomic_load(&s->items[i].taken);
		if (taken != 1) {
			fail("item %u of producer %u was taken %u times", s->items[i].seq, s->items[i].producer, taken);
		}
	}
	for (unsigned i = 0; i < s->ncons; ++i) {
		if (!s->cursors[i].dead) {
			fail("cursor %u never took its stop mark", i);
		}
		seen += s->cursors[i].count;
		s->inversions += s->cursors[i].inversions;
	}
	if (seen != total) {
		fail("cursors counted %zu items, %zu were pushed", seen, total);
	}
	if (budget_avail(&s->budget) != s->capacity) {
		fail("%zu items still unaccounted for", s->capacity - budget_avail(&s->budget));
	}
	struct chan_cursor fresh = {0};
	if (chan_take(s->chan, &fresh, false)) {
		fail("the ring still held an item after every consumer stopped");
	}
}

/** One stress run with the given capacity and thread counts. */
static void stress_run(size_t capacity, unsigned nprod, unsigned ncons, uint64_t seed) {
	set_context("stress: capacity %zu, %u producers, %u consumers", capacity, nprod, ncons);

	struct stress s = {.capacity = capacity, .nprod = nprod, .ncons = ncons, .per = STRESS_ITEMS, .seed = seed};
	s.chan = chan_create(capacity, ncons);
	if (!s.chan) {
		fail("chan_create(%zu, %u) failed", capacity, ncons);
	}
	s.items = items_create(nprod * s.per, s.per);
	budget_init(&s.budget, capacity);
	pthread_mutex_init(&s.lock, NULL);
	s.others = ncons - 1;
	atomic_init(&s.quits, 0);

	struct stress_thread cons[MAX_THREADS], prod[MAX_THREADS];
	for (unsigned i = 0; i < ncons; ++i) {
		cons[i] = (struct stress_thread){.s = &s, .id = i};
		start_thread(&cons[i].thread, i == 0 ? stress_adopter : stress_consumer, &cons[i]);
	}
	for (unsigned i = 0; i < nprod; ++i) {
		prod[i] = (struct stress_thread){.s = &s, .id = i};
		start_thread(&prod[i].thread, stress_producer, &prod[i]);
	}
	for (unsigned i = 0; i < nprod; ++i) {
		pthread_join(prod[i].thread, NULL);
	}

	// One stop mark per cursor, each alone in its push
	for (unsigned i = 0; i < ncons; ++i) {
		void *stop = &stop_mark;
		budget_take(&s.budget, 1);
		chan_push(s.chan, &stop, 1);
	}
	for (unsigned i = 0; i < ncons; ++i) {
		pthread_join(cons[i].thread, NULL);
	}

	stress_check(&s);
	printf("ok   stress: capacity %4zu, %u producers, %u consumers: %6zu items, %u quit early, %zu out of order\n", capacity, nprod, ncons, nprod * s.per, atomic_load(&s.quits), s.inversions);

	pthread_mutex_destroy(&s.lock);
	budget_destroy(&s.budget);
	free(s.items);
	chan_destroy(s.chan);
}

/** A thread that calls chan_await() once. */
struct awaiter {
	/** The ring. */
	struct chan *chan;
	/** The claimed ticket to wait for. */
	size_t ticket;
	/** Whether to pass `deadline`. */
	bool use_deadline;
	/** The deadline, if used. */
	struct timespec deadline;
	/** The generation counter to pass, or NULL. */
	atomic_uint *gen;
	/** Its value when the wait began. */
	unsigned gen0;
	/** Set just before chan_await() is called. */
	atomic_bool started;
	/** Set once it returned (publishes `result`). */
	atomic_bool done;
	/** What chan_await() returned. */
	bool result;
	/** The thread. */
	pthread_t thread;
};

/** The awaiter thread. */
static void *awaiter_main(void *arg) {
	struct awaiter *a = arg;
	struct chan_wake wake = {0};
	if (a->use_deadline) {
		wake.deadline = &a->deadline;
	}
	if (a->gen) {
		wake.gen = a->gen;
		wake.gen0 = a->gen0;
	}
	bool any = a->use_deadline || a->gen;

	atomic_store(&a->started, true);
	a->result = chan_await(a->chan, a->ticket, any ? &wake : NULL);
	atomic_store(&a->done, true);
	return NULL;
}

/** Start an awaiter and wait until it is about to call chan_await(). */
static void awaiter_start(struct awaiter *a) {
	atomic_init(&a->started, false);
	atomic_init(&a->done, false);
	start_thread(&a->thread, awaiter_main, a);
	while (!atomic_load(&a->started)) {
		sched_yield();
	}
}

/** Wait up to `ms` for an awaiter to return.  @return Whether it did (joined). */
static bool awaiter_finish(struct awaiter *a, long ms) {
	int64_t end = now_ns() + (int64_t)ms * 1000000;
	while (!atomic_load(&a->done)) {
		if (now_ns() > end) {
			return false;
		}
		sleep_us(50);
	}
	pthread_join(a->thread, NULL);
	return true;
}

/** Move a lone consumer's cursor to a claimed, empty slot. */
static void cursor_park(struct chan *c, struct chan_cursor *cur) {
	if (chan_take(c, cur, false)) {
		fail("the ring held an item nobody pushed");
	}
}

/**
 * chan_await() on a consumer's claimed ticket, from another thread, returns
 * true once the slot is filled (and not before), with every kind of wake
 * condition that does not fire; the consumer then takes exactly what was
 * pushed.
 */
static void test_await_fill(size_t capacity, struct rng *rng) {
	set_context("chan_await fill: capacity %zu", capacity);
	struct chan *c = chan_create(capacity, 1);
	struct item *items = items_create(CHAN_BATCH, CHAN_BATCH);
	atomic_uint gen;
	atomic_init(&gen, 7);
	if (!c) {
		fail("chan_create(%zu, 1) failed", capacity);
	}

	struct chan_cursor cur = {0};
	cursor_park(c, &cur);
	for (int round = 0; round < AWAIT_ROUNDS; ++round) {
		size_t n = 1 + rng_below(rng, min_size(CHAN_BATCH, capacity));
		void *batch[CHAN_BATCH];
		for (size_t i = 0; i < n; ++i) {
			batch[i] = &items[i];
		}

		int variant = round % 5;
		struct awaiter a = {.chan = c, .ticket = cur.ticket};
		a.use_deadline = variant == 1 || variant == 3;
		a.deadline = deadline_in(60LL * 1000000000);
		a.gen = (variant == 2 || variant == 3) ? &gen : NULL;
		a.gen0 = atomic_load(&gen);

		if (variant == 4) {
			// The slot is already filled when the wait begins
			chan_push(c, batch, n);
			awaiter_start(&a);
		} else {
			awaiter_start(&a);
			sleep_us((long)rng_below(rng, 4) * (long)rng_below(rng, 100));
			if (atomic_load(&a.done)) {
				fail("chan_await() returned before its slot was filled (variant %d)", variant);
			}
			chan_push(c, batch, n);
		}

		if (!awaiter_finish(&a, LOST_MS)) {
			fail("chan_await() did not return within %d ms of its slot being filled (lost wake-up, variant %d)", LOST_MS, variant);
		}
		if (!a.result) {
			fail("chan_await() returned false for a filled slot (variant %d)", variant);
		}
		for (size_t i = 0; i < n; ++i) {
			void *got = chan_take(c, &cur, false);
			if (got != batch[i]) {
				fail("took %p, expected item %zu (%p) of the batch", got, i, batch[i]);
			}
		}
		cursor_park(c, &cur);
	}

	free(items);
	chan_destroy(c);
}

/**
 * chan_await() on an empty claimed slot returns false at its deadline: not
 * before it, and not long after; a past deadline returns at once.
 */
static void test_await_deadline(size_t capacity, struct rng *rng) {
	set_context("chan_await deadline: capacity %zu", capacity);
	struct chan *c = chan_create(capacity, 1);
	if (!c) {
		fail("chan_create(%zu, 1) failed", capacity);
	}
	atomic_uint gen;
	atomic_init(&gen, 0);

	struct chan_cursor cur = {0};
	cursor_park(c, &cur);
	for (int round = 0; round < DEADLINE_ROUNDS; ++round) {
		int64_t wait_ns = (1 + (int64_t)rng_below(rng, 10)) * 1000000;
		struct awaiter a = {.chan = c, .ticket = cur.ticket, .use_deadline = true};
		a.deadline = deadline_in(wait_ns);
		a.gen = (round & 1) ? &gen : NULL;
		a.gen0 = atomic_load(&gen);
		int64_t end = (int64_t)a.deadline.tv_sec * 1000000000 + a.deadline.tv_nsec;

		awaiter_start(&a);
		if (!awaiter_finish(&a, LOST_MS)) {
			fail("chan_await() ignored a %" PRId64 " ms deadline", wait_ns / 1000000);
		}
		if (a.result) {
			fail("chan_await() returned true for an empty slot");
		}
		if (now_ns() < end) {
			fail("chan_await() returned before its deadline");
		}
	}

	struct timespec past = deadline_in(-1000000);
	struct chan_wake wake = {.deadline = &past};
	if (chan_await(c, cur.ticket, &wake)) {
		fail("chan_await() with a past deadline returned true for an empty slot");
	}
	chan_destroy(c);
}

/**
 * chan_await() on an empty claimed slot returns false when its generation
 * counter moves and chan_wake_all() is called, however soon after the wait
 * began (the lost wake-up race), and at once if it had already moved.
 */
static void test_await_gen(size_t capacity, struct rng *rng) {
	set_context("chan_await generation: capacity %zu", capacity);
	struct chan *c = chan_create(capacity, 1);
	if (!c) {
		fail("chan_create(%zu, 1) failed", capacity);
	}
	atomic_uint gen;
	atomic_init(&gen, 0);

	struct chan_cursor cur = {0};
	cursor_park(c, &cur);
	for (int round = 0; round < AWAIT_ROUNDS; ++round) {
		struct awaiter a = {.chan = c, .ticket = cur.ticket, .gen = &gen};
		a.gen0 = atomic_load(&gen);
		a.use_deadline = round & 1;
		a.deadline = deadline_in(60LL * 1000000000);

		awaiter_start(&a);
		sleep_us((long)rng_below(rng, 4) * (long)rng_below(rng, 100));
		if (atomic_load(&a.done)) {
			fail("chan_await() returned before its generation moved");
		}
		atomic_fetch_add(&gen, 1);
		chan_wake_all(c);

		if (!awaiter_finish(&a, LOST_MS)) {
			fail("chan_await() missed a generation change for %d ms (lost wake-up)", LOST_MS);
		}
		if (a.result) {
			fail("chan_await() returned true for an empty slot");
		}
	}

	struct chan_wake wake = {.gen = &gen, .gen0 = atomic_load(&gen) - 1};
	if (chan_await(c, cur.ticket, &wake)) {
		fail("chan_await() with an already moved generation returned true for an empty slot");
	}
	chan_destroy(c);
}

/** Run the chan_await() tests, then every stress configuration. */
int main(void) {
	static const size_t capacities[] = {1, 2, 3, 64, 4096};
	static const unsigned mixes[][2] = {{1, 1}, {1, 3}, {2, 2}, {3, 1}, {4, 4}};
	const size_t ncaps = sizeof(capacities) / sizeof(capacities[0]);
	const size_t nmixes = sizeof(mixes) / sizeof(mixes[0]);

	uint64_t seed = harness_seed();
	int64_t start = now_ns();
	printf("chan_stress" HARNESS_LANE ": CHAN_LINE=%d, seed %" PRIu64 " (IOQ_TEST_SEED=%" PRIu64 " repeats it)%s\n", CHAN_LINE, seed, seed, HARNESS_TSAN ? ", scaled down for TSan" : "");
	harness_start("chan_stress", NULL, WATCHDOG_S);

	struct rng rng;
	rng_seed(&rng, seed);
	for (size_t i = 0; i < ncaps; ++i) {
		test_await_fill(capacities[i], &rng);
		test_await_deadline(capacities[i], &rng);
		test_await_gen(capacities[i], &rng);
		printf("ok   chan_await: capacity %4zu: fill, deadline, generation\n", capacities[i]);
	}

	for (size_t i = 0; i < ncaps; ++i) {
		for (size_t j = 0; j < nmixes; ++j) {
			stress_run(capacities[i], mixes[j][0], mixes[j][1], rng_next(&rng));
		}
	}

	printf("chan_stress" HARNESS_LANE ": all passed in %.1f s\n", (double)(now_ns() - start) / 1e9);
	return 0;
}
