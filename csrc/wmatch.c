// SPDX-License-Identifier: 0BSD
/** wmatch: glob and suffix lists. */

#define _GNU_SOURCE
#include "wmatch.h"
#include "fnm.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int wmatch_add_glob(struct wglobs *g, const uint8_t *pat, uint32_t len, uint8_t flags) {
	if (memchr(pat, 0, len)) {
		// No name holds a NUL: such a glob is a mistake, not a filter
		return -EINVAL;
	}
	struct fnm **pats = realloc(g->pats, (g->count + 1) * sizeof(*pats));
	if (!pats) {
		return -ENOMEM;
	}
	g->pats = pats;
	uint32_t fnm_flags = (flags & IOQ_WALK_ITEM_CASEFOLD) ? FNM_ICASE : 0;
	int ret = fnm_compile(pat, len, fnm_flags, &g->pats[g->count], NULL);
	if (ret != 0) {
		return ret;
	}
	++g->count;
	return 0;
}

void wmatch_free_globs(struct wglobs *g) {
	for (uint32_t i = 0; i < g->count; ++i) {
		fnm_free(g->pats[i]);
	}
	free(g->pats);
	memset(g, 0, sizeof(*g));
}

bool wmatch_globs_any(const struct wglobs *g, const char *name, uint32_t len) {
	for (uint32_t i = 0; i < g->count; ++i) {
		if (fnm_match(g->pats[i], (const uint8_t *)name, len)) {
			return true;
		}
	}
	return false;
}

bool wmatch_globs(const struct wglobs *g, const char *name, uint32_t len) {
	return g->count == 0 || wmatch_globs_any(g, name, len);
}

int wmatch_add_suffix(struct wsuffixes *s, const uint8_t *bytes, uint32_t len) {
	uint8_t **all = realloc(s->bytes, (s->count + 1) * sizeof(*all));
	if (!all) {
		return -ENOMEM;
	}
	s->bytes = all;
	uint32_t *lens = realloc(s->lens, (s->count + 1) * sizeof(*lens));
	if (!lens) {
		return -ENOMEM;
	}
	s->lens = lens;
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy) {
		return -ENOMEM;
	}
	memcpy(copy, bytes, len);
	s->bytes[s->count] = copy;
	s->lens[s->count] = len;
	++s->count;
	return 0;
}

void wmatch_free_suffixes(struct wsuffixes *s) {
	for (uint32_t i = 0; i < s->count; ++i) {
		free(s->bytes[i]);
	}
	free(s->bytes);
	free(s->lens);
	memset(s, 0, sizeof(*s));
}

bool wmatch_suffixes2(const struct wsuffixes *s, const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen) {
	if (s->count == 0) {
		return true;
	}
	for (uint32_t i = 0; i < s->count; ++i) {
		uint32_t n = s->lens[i];
		if (n > alen + blen) {
			continue;
		}
		// Compare from the end: the part in b, then the part in a
		uint32_t inb = n < blen ? n : blen;
		if (memcmp(b + blen - inb, s->bytes[i] + n - inb, inb) != 0) {
			continue;
		}
		uint32_t ina = n - inb;
		if (ina == 0 || memcmp(a + alen - ina, s->bytes[i], ina) == 0) {
			return true;
		}
	}
	return false;
}

bool wmatch_suffixes(const struct wsuffixes *s, const uint8_t *path, uint32_t len) {
	return wmatch_suffixes2(s, path, 0, path, len);
}
