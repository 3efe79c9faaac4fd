// SPDX-License-Identifier: 0BSD
/** utf8: validity and UTF-16 lengths. */

#include "utf8.h"
#include <string.h>

/**
 * The decoder's view of a lead byte: how many continuation bytes follow it
 * (0 for ASCII, -1 for a byte that cannot start a sequence) and the range
 * the first continuation byte must lie in.
 */
struct utf8_lead {
	int need;
	uint8_t lo, hi;
};

/** Classify a byte >= 0x80 as a lead byte. */
static struct utf8_lead utf8_lead(uint8_t c) {
	struct utf8_lead lead = {-1, 0x80, 0xBF};
	if (c >= 0xC2 && c <= 0xDF) {
		lead.need = 1;
	} else if (c >= 0xE0 && c <= 0xEF) {
		lead.need = 2;
		if (c == 0xE0) {
			lead.lo = 0xA0;
		} else if (c == 0xED) {
			lead.hi = 0x9F;
		}
	} else if (c >= 0xF0 && c <= 0xF4) {
		lead.need = 3;
		if (c == 0xF0) {
			lead.lo = 0x90;
		} else if (c == 0xF4) {
			lead.hi = 0x8F;
		}
	}
	return lead;
}

uint32_t utf8_len16(const uint8_t *s, size_t n, bool *valid) {
	uint32_t units = 0;
	size_t i = 0;
	while (i < n) {
		// Most names are ASCII: eight bytes at a time while they are
		if (n - i >= 8) {
			uint64_t word;
			memcpy(&word, s + i, sizeof(word));
			if (!(word & 0x8080808080808080ULL)) {
				units += 8;
				i += 8;
				continue;
			}
		}
		uint8_t c = s[i];
		if (c < 0x80) {
			++units;
			++i;
			continue;
		}

		struct utf8_lead lead = utf8_lead(c);
		++i;
		if (lead.need < 0) {
			// Not a lead byte: one replacement character
			++units;
			*valid = false;
			continue;
		}

		// The first continuation byte has its own range, the rest 80..BF.
		// A byte out of range ends the sequence with one replacement
		// character and is then read again as the start of the next.
		int got = 0;
		while (got < lead.need && i < n) {
			uint8_t lo = got == 0 ? lead.lo : 0x80;
			uint8_t hi = got == 0 ? lead.hi : 0xBF;
			if (s[i] < lo || s[i] > hi) {
				break;
			}
			++got;
			++i;
		}
		if (got < lead.need) {
			++units;
			*valid = false;
		} else {
			// Four-byte sequences are past U+FFFF: a surrogate pair
			units += lead.need == 3 ? 2 : 1;
		}
	}
	return units;
}

bool utf8_valid(const uint8_t *s, size_t n) {
	bool valid = true;
	for (size_t i = 0; i < n; ++i) {
		if (s[i] >= 0x80) {
			utf8_len16(s + i, n - i, &valid);
			break;
		}
	}
	return valid;
}
