// SPDX-License-Identifier: 0BSD
/** dirtab: generation-checked directory handles. */

#include "dirtab.h"
#include "ioq.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/** Index part of a handle. */
#define DIRTAB_INDEX_MASK ((1u << IOQ_HANDLE_INDEX_BITS) - 1)
/** Largest generation. */
#define DIRTAB_GEN_MAX ((1u << (32 - IOQ_HANDLE_INDEX_BITS)) - 1)

void dirtab_init(struct dirtab *t) {
	memset(t, 0, sizeof(*t));
	t->len = 1;
}

void dirtab_destroy(struct dirtab *t) {
	free(t->dirs);
	free(t->gens);
	free(t->free);
	dirtab_init(t);
}

/** Grow the arrays to hold at least one more index.  @return 0 or -ENOMEM. */
static int dirtab_grow(struct dirtab *t) {
	uint32_t cap = t->cap ? t->cap * 2 : 64;
	if (cap > DIRTAB_INDEX_MASK + 1) {
		cap = DIRTAB_INDEX_MASK + 1;
	}

	struct ioq_dir **dirs = realloc(t->dirs, cap * sizeof(*dirs));
	if (!dirs) {
		return -ENOMEM;
	}
	t->dirs = dirs;
	uint16_t *gens = realloc(t->gens, cap * sizeof(*gens));
	if (!gens) {
		return -ENOMEM;
	}
	t->gens = gens;
	// The free queue only grows when it is empty, so it needs no unwrapping
	uint32_t *free_ = realloc(t->free, cap * sizeof(*free_));
	if (!free_) {
		return -ENOMEM;
	}
	t->free = free_;
	t->free_head = 0;

	for (uint32_t i = t->cap; i < cap; ++i) {
		t->dirs[i] = NULL;
		t->gens[i] = 1;
	}
	t->cap = cap;
	return 0;
}

int dirtab_add(struct dirtab *t, struct ioq_dir *d, uint32_t *handle) {
	uint32_t index;
	if (t->nfree) {
		index = t->free[t->free_head];
		t->free_head = (t->free_head + 1) % t->cap;
		--t->nfree;
	} else {
		if (t->len > DIRTAB_INDEX_MASK) {
			return -EMFILE;
		}
		if (t->len >= t->cap) {
			int ret = dirtab_grow(t);
			if (ret != 0) {
				return ret;
			}
		}
		index = t->len++;
	}

	t->dirs[index] = d;
	*handle = ((uint32_t)t->gens[index] << IOQ_HANDLE_INDEX_BITS) | index;
	return 0;
}

struct ioq_dir *dirtab_get(const struct dirtab *t, uint32_t handle) {
	uint32_t index = handle & DIRTAB_INDEX_MASK;
	uint32_t gen = handle >> IOQ_HANDLE_INDEX_BITS;
	if (index == 0 || index >= t->len || t->gens[index] != gen) {
		return NULL;
	}
	return t->dirs[index];
}

void dirtab_remove(struct dirtab *t, uint32_t handle) {
	uint32_t index = handle & DIRTAB_INDEX_MASK;
	t->dirs[index] = NULL;
	t->gens[index] = t->gens[index] == DIRTAB_GEN_MAX ? 1 : t->gens[index] + 1;
	// The free queue has room: it holds at most the indices handed out
	t->free[(t->free_head + t->nfree) % t->cap] = index;
	++t->nfree;
}

struct ioq_dir *dirtab_at(const struct dirtab *t, uint32_t index) {
	return index > 0 && index < t->len ? t->dirs[index] : NULL;
}
