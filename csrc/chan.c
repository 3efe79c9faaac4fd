// SPDX-License-Identifier: 0BSD
/**
 * chan: a bounded MPMC ring of pointers.
 *
 * Design
 * ======
 *
 * The ring is an array of atomic words ("slots") and two ticket counters:
 * `head` for producers and `tail` for consumers.  A thread claims tickets with
 * a fetch-add (no CAS loop on the counters, so claiming never retries under
 * contention); a ticket maps to a slot by position alone.  A slot word is:
 *
 *     0              empty
 *     CHAN_SKIP      a placeholder: the consumer moves past it
 *     pointer        an item (64-byte aligned, so the low bits are free)
 *     ... | BLOCKED  bit 0: some thread sleeps until this word changes
 *
 * Producer: claim a ticket, wait while its slot still holds last lap's item
 * (only when the ring is over capacity), then CAS the item in (release).
 * Consumer: claim a ticket, wait while its slot is empty, then CAS it back to
 * 0 (acquire), which pairs with the producer's release so the item's contents
 * are visible.  Both ends move past a skip.
 *
 * Idle consumers: a consumer with no claim claims only tickets a producer
 * already holds (chan_claim_pushed, a CAS on `tail` that stops at `head`).
 * With nothing pushed, a blocking take sleeps on the ring's `idle` monitor
 * without a claim, and a push wakes one such sleeper.  So a push never lands
 * in a line some sleeping consumer claimed in advance, where it would wait
 * for that consumer's wake-up while busy ones could have taken it (that cost
 * about 50 us a burst with two workers here).  No lost wake-up: a sleeper
 * counts itself in `idlers`, reads the monitor's sequence, then checks
 * `head`; a producer moves `head`, then reads `idlers` and, if someone
 * sleeps, bumps the sequence and wakes (all sequentially consistent).  If the
 * producer saw no idler, the idler's check of `head` comes later and sees
 * the push; if it did, its bump comes after the idler's read of the
 * sequence, so the idler's futex wait returns at once or is woken.
 *
 * Laps: slots carry no lap number, so a claim that fell a whole lap behind
 * could see the next lap's item, and a producer a lap ahead would wait for it.
 * Neither happens within capacity, since nobody sits on an empty claim: a
 * claim is made only for tickets already being pushed.  An owner that claims
 * eagerly (ioq's single reader of `ready`, via chan_claim) is the only
 * consumer of its ring, so nothing can lap it.
 *
 * Sleeping without lost wake-ups
 * ------------------------------
 * Waiting is a short spin, then a sleep on a monitor chosen by the slot's
 * index from a pool of at most 64.  A monitor is an event count: a sequence
 * number that wakers bump, which sleepers wait on with a futex.  (bfs uses a
 * mutex and condvar; glibc's pthread_cond_signal/broadcast can block the
 * waker until earlier woken waiters have run, and here, with more threads
 * than CPUs, that stalled the JS thread inside a push.)  A sleeper reads the
 * monitor's sequence, then re-reads the slot and, if it still holds the value
 * it waits to see change, sets BLOCKED with a CAS, and sleeps on the futex
 * while the sequence is unchanged.  Whoever replaces a word that had BLOCKED
 * set bumps the sequence and wakes every sleeper on the futex.
 *
 * Why this loses no wake-up: the replacing CAS saw BLOCKED, so it came after
 * the sleeper's CAS (acquire-release), and its bump comes after that; the
 * sleeper read the sequence before its CAS, so it read the old value, and
 * the futex wait returns at once if the bump already happened, or is woken
 * by it.  Monitors are shared between slots, hence wake-all; sleepers
 * re-check their own slot.  Waits that other events may end early (a
 * deadline, a generation counter: see chan_await) use the same futex, with a
 * timeout; chan_wake_all bumps every monitor.
 *
 * Claims: line or stride
 * ----------------------
 * Neighbouring tickets used by different threads would share a cache line
 * (false sharing).  Two cures, selected by CHAN_LINE:
 *
 *  - stride (CHAN_LINE 0): one fetch-add per item; ticket t uses slot
 *    (t * 9) mod size, so consecutive tickets land a cache line apart (9 is
 *    odd, hence coprime with the power-of-two size, so every slot is used).
 *  - line (CHAN_LINE 1): one fetch-add claims CHAN_BATCH tickets, a whole
 *    aligned cache line of slots.  A producer fills the line with its batch
 *    and pads the rest with CHAN_SKIP; a consumer reads the line in order.
 *    The ring has CHAN_BATCH slots per item of capacity, so padding can
 *    never make a push wait.
 *
 * Measured on this project's 2-core VM with bench/chan.c (`zig build bench-c
 * -j1`: an owner pushes batches of 8 into ring A and drains ring B, workers
 * move items from A to B; 2,000,000 items a run, 5 runs per invocation, 6
 * invocations per cell, alternating builds; million items/s, median of the
 * 30 runs, and line/stride per invocation):
 *
 *     workers   stride   line    line / stride (median of 6 paired invocations)
 *           1    33.9    37.7    1.23x
 *           2    19.5    30.2    1.91x
 *
 * Line claims won all 24 paired invocations, so they are the default.
 */

#define _GNU_SOURCE
#include "chan.h"
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/** Slot bit: a thread sleeps until this word changes. */
#define CHAN_BLOCKED ((uintptr_t)1)
/** Slot value: nothing here, move on. */
#define CHAN_SKIP ((uintptr_t)2)
/** Spin rounds before sleeping (1 + 2 + ... + 512 pauses). */
#define CHAN_SPINS 10
/** Spin rounds before an owner's wait sleeps (chan_await). */
#define CHAN_OWNER_SPINS 6
/** The most monitors in a ring's pool. */
#define CHAN_MONITORS 64
/** Slots per cache line. */
#define CHAN_LINE_SLOTS (64 / sizeof(uintptr_t))

#if CHAN_LINE
/** Tickets per claim. */
#  define CHAN_CLAIM CHAN_BATCH
#else
#  define CHAN_CLAIM 1
/** Ticket-to-slot multiplier: odd, and at least a cache line of slots. */
#  define CHAN_STRIDE (CHAN_LINE_SLOTS + 1)
#endif

_Static_assert(CHAN_BATCH == CHAN_LINE_SLOTS, "a batch is one cache line of slots");

/** A slot word. */
typedef atomic_uintptr_t chan_slot;

/** An event count that sleepers on some slots share: a futex word. */
struct chan_monitor {
	/** Bumped by every wake. */
	_Alignas(64) atomic_uint seq;
};

struct chan {
	/** Bytes mapped for this struct and its slots. */
	size_t size;
	/** Slot count - 1 (the count is a power of two). */
	size_t mask;
	/** Monitor count - 1 (a power of two). */
	size_t monitor_mask;
	/** The monitor pool. */
	struct chan_monitor *monitors;
	/** The number of monitors. */
	size_t nmonitors;

	/** The next producer ticket. */
	_Alignas(64) atomic_size_t head;
	/** The next consumer ticket. */
	_Alignas(64) atomic_size_t tail;

	/** Consumers asleep until something is pushed (they hold no claim). */
	_Alignas(64) atomic_uint idlers;
	/** Where they sleep. */
	struct chan_monitor idle;

	/** The slots. */
	_Alignas(64) chan_slot slots[];
};

/** Round up to a power of two (n >= 1). */
static size_t chan_pow2(size_t n) {
	size_t p = 1;
	while (p < n) {
		p <<= 1;
	}
	return p;
}

void chan_destroy(struct chan *c) {
	if (!c) {
		return;
	}
	free(c->monitors);
	munmap(c, c->size);
}

struct chan *chan_create(size_t items, size_t consumers) {
	// Room for every item, one partly read claim per consumer, and slack;
	// in line mode every item may sit alone in a padded line.
	size_t lines = chan_pow2(items + consumers + 2);
	size_t nslots = CHAN_LINE ? lines * CHAN_BATCH : lines;

	// Fresh anonymous pages: zero (empty slots, counters at 0) without
	// touching them, so a deep ring costs nothing until it is used
	size_t bytes = sizeof(struct chan) + nslots * sizeof(chan_slot);
	struct chan *c = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED) {
		return NULL;
	}
	c->size = bytes;
	c->mask = nslots - 1;

	size_t nmon = nslots < CHAN_MONITORS ? nslots : CHAN_MONITORS;
	c->monitor_mask = nmon - 1;
	c->monitors = aligned_alloc(64, nmon * sizeof(struct chan_monitor));
	if (!c->monitors) {
		chan_destroy(c);
		errno = ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < nmon; ++i) {
		atomic_init(&c->monitors[i].seq, 0);
	}
	c->nmonitors = nmon;
	return c;
}

/** The slot a ticket maps to. */
static chan_slot *chan_slot_of(struct chan *c, size_t ticket) {
#if CHAN_LINE
	return &c->slots[ticket & c->mask];
#else
	return &c->slots[(ticket * CHAN_STRIDE) & c->mask];
#endif
}

/** The monitor sleepers on a slot use. */
static struct chan_monitor *chan_monitor_of(struct chan *c, const chan_slot *slot) {
	return &c->monitors[(size_t)(slot - c->slots) & c->monitor_mask];
}

/** A CPU pause hint for spin loops. */
static void chan_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

/** Whether a wake condition has fired. */
static bool chan_woken(const struct chan_wake *wake) {
	return wake && wake->gen && atomic_load_explicit(wake->gen, memory_order_acquire) != wake->gen0;
}

/** Whether a deadline has passed. */
static bool chan_expired(const struct timespec *deadline) {
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec || (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/** Sleep while a monitor's sequence is `seq`, until an absolute CLOCK_MONOTONIC deadline (or NULL). */
static void chan_futex_wait(struct chan_monitor *m, unsigned seq, const struct timespec *deadline) {
	syscall(SYS_futex, &m->seq, FUTEX_WAIT_BITSET_PRIVATE, seq, deadline, NULL, FUTEX_BITSET_MATCH_ANY);
}

/** Bump a monitor's sequence and wake up to `n` of its sleepers. */
static void chan_futex_wake(struct chan_monitor *m, int n) {
	atomic_fetch_add(&m->seq, 1);
	syscall(SYS_futex, &m->seq, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/**
 * Sleep until a slot no longer holds `value` (ignoring BLOCKED), or until
 * `wake` ends the wait.  @return The slot's value when it returned.
 */
static uintptr_t chan_sleep(struct chan *c, chan_slot *slot, uintptr_t value, const struct chan_wake *wake) {
	struct chan_monitor *m = chan_monitor_of(c, slot);
	uintptr_t base = value & ~CHAN_BLOCKED;
	uintptr_t want = base | CHAN_BLOCKED;
	while (true) {
		// The sequence first: see "Sleeping without lost wake-ups"
		unsigned seq = atomic_load(&m->seq);
		uintptr_t cur = atomic_load_explicit(slot, memory_order_relaxed);
		if (cur == base) {
			// Mark the slot so that whoever changes it wakes us
			if (atomic_compare_exchange_strong_explicit(slot, &cur, want, memory_order_seq_cst, memory_order_relaxed)) {
				cur = want;
			}
		}
		if (cur != want || chan_woken(wake)) {
			return cur;
		}
		const struct timespec *deadline = wake ? wake->deadline : NULL;
		if (deadline && chan_expired(deadline)) {
			return cur;
		}
		chan_futex_wait(m, seq, deadline);
	}
}

/** Wake the sleepers of a slot whose BLOCKED word we just replaced. */
static void chan_wake(struct chan *c, chan_slot *slot) {
	chan_futex_wake(chan_monitor_of(c, slot), INT_MAX);
}

void chan_wake_all(struct chan *c) {
	for (size_t i = 0; i < c->nmonitors; ++i) {
		chan_futex_wake(&c->monitors[i], INT_MAX);
	}
}

/** Whether a slot word holds nothing (empty, perhaps with a sleeper). */
static bool chan_empty(uintptr_t v) {
	return (v & ~CHAN_BLOCKED) == 0;
}


/**
 * Wait while a slot holds `value` (ignoring BLOCKED): spin `spins` rounds
 * (of 1, 2, 4, ... pauses), then sleep.
 * @return The new value, or the old one if `wake` ended the wait.
 */
static uintptr_t chan_wait_change(struct chan *c, chan_slot *slot, uintptr_t value, const struct chan_wake *wake, int spins) {
	uintptr_t base = value & ~CHAN_BLOCKED;
	for (int i = 0, pauses = 1; i < spins; ++i, pauses <<= 1) {
		for (int j = 0; j < pauses; ++j) {
			chan_pause();
		}
		uintptr_t cur = atomic_load_explicit(slot, memory_order_relaxed);
		if ((cur & ~CHAN_BLOCKED) != base) {
			return cur;
		}
		// A short wait must not spin past its deadline
		if (wake && wake->deadline && chan_expired(wake->deadline)) {
			return cur;
		}
	}
	return chan_sleep(c, slot, value, wake);
}

/** Store a value into a slot, waiting while it still holds last lap's. */
static void chan_put(struct chan *c, chan_slot *slot, uintptr_t value) {
	uintptr_t prev = atomic_load_explicit(slot, memory_order_relaxed);
	do {
		while (!chan_empty(prev)) {
			prev = chan_wait_change(c, slot, prev, NULL, CHAN_SPINS);
		}
	} while (!atomic_compare_exchange_weak_explicit(slot, &prev, value, memory_order_acq_rel, memory_order_relaxed));

	if (prev & CHAN_BLOCKED) {
		chan_wake(c, slot);
	}
}

void chan_push(struct chan *c, void *const items[], size_t n) {
	// Sequentially consistent, to pair with chan_wait_pushed() (below)
#if CHAN_LINE
	size_t t = atomic_fetch_add(&c->head, CHAN_BATCH);
	for (size_t i = 0; i < CHAN_BATCH; ++i) {
		uintptr_t v = i < n ? (uintptr_t)items[i] : CHAN_SKIP;
		chan_put(c, chan_slot_of(c, t + i), v);
	}
#else
	size_t t = atomic_fetch_add(&c->head, n);
	for (size_t i = 0; i < n; ++i) {
		chan_put(c, chan_slot_of(c, t + i), (uintptr_t)items[i]);
	}
#endif
	if (atomic_load(&c->idlers)) {
		// Someone sleeps with no claim: wake one to take this (see "Idle
		// consumers" above)
		chan_futex_wake(&c->idle, 1);
	}
}

/** Whether a producer holds tickets no consumer has claimed. */
static bool chan_pushed(struct chan *c) {
	return (ptrdiff_t)(atomic_load(&c->head) - atomic_load(&c->tail)) > 0;
}

/**
 * Sleep, holding no claim, until a producer has tickets nobody claimed.
 * Spurious returns are fine: the caller claims only what is pushed.
 */
static void chan_wait_pushed(struct chan *c) {
	for (int i = 0, pauses = 1; i < CHAN_SPINS; ++i, pauses <<= 1) {
		for (int j = 0; j < pauses; ++j) {
			chan_pause();
		}
		if (chan_pushed(c)) {
			return;
		}
	}

	atomic_fetch_add(&c->idlers, 1);
	while (true) {
		unsigned seq = atomic_load(&c->idle.seq);
		if (chan_pushed(c)) {
			break;
		}
		chan_futex_wait(&c->idle, seq, NULL);
	}
	atomic_fetch_sub(&c->idlers, 1);
}

void chan_claim(struct chan *c, struct chan_cursor *cur) {
	if (cur->left == 0) {
		cur->ticket = atomic_fetch_add_explicit(&c->tail, CHAN_CLAIM, memory_order_relaxed);
		cur->left = CHAN_CLAIM;
	}
}

/**
 * Claim the next tickets only if a producer already holds them, so the claim
 * is filled by a push under way rather than by one that may never come.
 * @return Whether the cursor now holds a claim.
 */
static bool chan_claim_pushed(struct chan *c, struct chan_cursor *cur) {
	size_t t = atomic_load_explicit(&c->tail, memory_order_relaxed);
	do {
		size_t h = atomic_load_explicit(&c->head, memory_order_relaxed);
		if ((ptrdiff_t)(h - t) <= 0) {
			return false;
		}
	} while (!atomic_compare_exchange_weak_explicit(&c->tail, &t, t + CHAN_CLAIM, memory_order_relaxed, memory_order_relaxed));
	cur->ticket = t;
	cur->left = CHAN_CLAIM;
	return true;
}

void *chan_take(struct chan *c, struct chan_cursor *cur, bool block) {
	while (true) {
		if (cur->left == 0 && !chan_claim_pushed(c, cur)) {
			if (!block) {
				return NULL;
			}
			chan_wait_pushed(c);
			continue;
		}
		chan_slot *slot = chan_slot_of(c, cur->ticket);

		uintptr_t prev = atomic_load_explicit(slot, memory_order_relaxed);
		do {
			while (chan_empty(prev)) {
				if (!block) {
					return NULL;
				}
				prev = chan_wait_change(c, slot, prev, NULL, CHAN_SPINS);
			}
		} while (!atomic_compare_exchange_weak_explicit(slot, &prev, 0, memory_order_acq_rel, memory_order_relaxed));

		if (prev & CHAN_BLOCKED) {
			chan_wake(c, slot);
		}
		++cur->ticket;
		--cur->left;

		uintptr_t v = prev & ~CHAN_BLOCKED;
		if (v != CHAN_SKIP) {
			return (void *)v;
		}
	}
}

bool chan_await(struct chan *c, size_t ticket, const struct chan_wake *wake) {
	chan_slot *slot = chan_slot_of(c, ticket);
	uintptr_t v = atomic_load_explicit(slot, memory_order_relaxed);
	while (chan_empty(v)) {
		if (chan_woken(wake) || (wake && wake->deadline && chan_expired(wake->deadline))) {
			return false;
		}
		// Only a brief spin (63 pauses): a waiting owner (the JS thread)
		// would otherwise take a CPU the workers need
		v = chan_wait_change(c, slot, v, wake, CHAN_OWNER_SPINS);
	}
	return true;
}
