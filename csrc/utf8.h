// SPDX-License-Identifier: 0BSD
/**
 * utf8: UTF-8 checks on names and paths, which are bytes.
 */

#ifndef IOQ_UTF8_H
#define IOQ_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** @return Whether bytes are valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
bool utf8_valid(const uint8_t *s, size_t n);

/**
 * Count the UTF-16 code units that decoding bytes gives, the way a
 * TextDecoder does (WHATWG's decoder: each invalid sequence becomes one
 * U+FFFD), so offsets into a decoded string can be known without decoding.
 *
 * @param valid
 *         Set to false if some byte was not part of a valid sequence (left
 *         alone otherwise).
 * @return The number of UTF-16 code units.
 */
uint32_t utf8_len16(const uint8_t *s, size_t n, bool *valid);

#endif // IOQ_UTF8_H
