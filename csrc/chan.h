// SPDX-License-Identifier: 0BSD
/**
 * chan: a bounded multi-producer, multi-consumer ring of pointers.
 *
 * Producers push batches of up to CHAN_BATCH pointers; consumers take one at a
 * time through a cursor that remembers the tickets they have claimed.  Either
 * end may block; waiting is spin-then-sleep on a small pool of monitors, and
 * a waker only touches a monitor when a waiter marked the slot.  The design
 * argument lives at the top of chan.c.
 */

#ifndef IOQ_CHAN_H
#define IOQ_CHAN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/**
 * Slot claiming strategy.  1: one fetch-add claims a whole cache line of
 * slots (a producer pads a short batch with skip markers).  0: one fetch-add
 * per pointer, tickets spread over the ring with an odd stride so neighbours
 * do not share a line.  See the measurements in chan.c.
 */
#ifndef CHAN_LINE
#  define CHAN_LINE 1
#endif

/** The most pointers one chan_push() takes: one cache line of slots. */
#define CHAN_BATCH 8

/** A ring (opaque). */
struct chan;

/** A consumer's position: the tickets it has claimed and not yet read. */
struct chan_cursor {
	/** The next ticket to read. */
	size_t ticket;
	/** How many claimed tickets remain, from `ticket` on. */
	size_t left;
};

/** What may end a wait early, besides the slot filling. */
struct chan_wake {
	/** Absolute CLOCK_MONOTONIC deadline, or NULL for none. */
	const struct timespec *deadline;
	/** A generation counter that ends the wait when it moves, or NULL. */
	const atomic_uint *gen;
	/** The value of *gen when the wait began. */
	unsigned gen0;
};

/**
 * Create a ring.
 *
 * @param items
 *         The most pointers that will ever be in the ring or held by
 *         consumers' claims at once; pushes beyond that may block.
 * @param consumers
 *         The most consumers that will hold claims at once.
 * @return The ring, or NULL with errno set.
 */
struct chan *chan_create(size_t items, size_t consumers);

/** Destroy a ring.  Accepts NULL. */
void chan_destroy(struct chan *c);

/**
 * Push 1 to CHAN_BATCH pointers (each non-NULL and 64-byte aligned).  Blocks
 * only while the ring is over capacity.
 */
void chan_push(struct chan *c, void *const items[], size_t n);

/**
 * Take the next pointer for a cursor.
 *
 * @param block
 *         Whether to wait for one.  Without a claim, a take claims only
 *         tickets a producer already holds (a blocking one sleeps, holding
 *         no claim, until there are some); if it then finds the slot not yet
 *         written (a push under way), a non-blocking take keeps the claim, so
 *         the cursor must be used again later.
 * @return The pointer, or NULL if !block and none is ready.
 */
void *chan_take(struct chan *c, struct chan_cursor *cur, bool block);

/**
 * Give a cursor its next claim now, if it has none left, whether or not a
 * producer has reached it: only for a ring's sole consumer, which nobody can
 * lap (see "Laps" in chan.c).
 */
void chan_claim(struct chan *c, struct chan_cursor *cur);

/**
 * Wait until the slot of `ticket` is filled, without taking it.  Any thread
 * may call this for a ticket some consumer has claimed.
 *
 * @return true if it is filled, false if `wake` ended the wait.
 */
bool chan_await(struct chan *c, size_t ticket, const struct chan_wake *wake);

/** Wake every thread sleeping in this ring (after changing a chan_wake::gen). */
void chan_wake_all(struct chan *c);

#endif // IOQ_CHAN_H
