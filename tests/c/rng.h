// SPDX-License-Identifier: 0BSD
/** rng: the seeded xorshift64* generator both C stress tests use. */

#ifndef IOQ_TEST_RNG_H
#define IOQ_TEST_RNG_H

#include <stdint.h>

/** A xorshift64* random number generator. */
struct rng {
	/** The state (never 0). */
	uint64_t state;
};

/** Seed a generator. */
static inline void rng_seed(struct rng *r, uint64_t seed) {
	r->state = seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;
	if (r->state == 0) {
		r->state = 1;
	}
}

/** @return The next random number. */
static inline uint64_t rng_next(struct rng *r) {
	r->state ^= r->state >> 12;
	r->state ^= r->state << 25;
	r->state ^= r->state >> 27;
	return r->state * 0x2545F4914F6CDD1DULL;
}

/** @return A random number below n (0 if n is 0). */
static inline uint64_t rng_below(struct rng *r, uint64_t n) {
	return n ? rng_next(r) % n : 0;
}

#endif // IOQ_TEST_RNG_H
