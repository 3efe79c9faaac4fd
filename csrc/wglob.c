// SPDX-License-Identifier: 0BSD
/** wglob: glob patterns as an automaton over path segments. */

#include "wglob.h"
#include "fnm.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/** What a position stands for. */
enum wglob_kind {
	/** A name, byte for byte. */
	WGLOB_LITERAL,
	/** A glob of one name. */
	WGLOB_NAME,
	/** `**`. */
	WGLOB_STARS,
	/** A segment that matches nothing a listing gives ("." and ".."). */
	WGLOB_NOTHING,
	/** The end of a pattern: a match. */
	WGLOB_END,
};

/** One position. */
struct wglob_pos {
	/** An enum wglob_kind. */
	uint8_t kind;
	/** WGLOB_* flags of its pattern. */
	uint8_t flags;
	/** The next position (not for WGLOB_END). */
	uint8_t next;
	/**
	 * WGLOB_STARS: where it goes for no directory at all (the entry it is
	 * applied to stands for it), or itself where it cannot (see
	 * wglob_skip()).
	 */
	uint8_t skip;
	/** WGLOB_NAME: the compiled glob. */
	struct fnm *fnm;
	/** WGLOB_LITERAL: the name, NUL-terminated, and its length. */
	char *lit;
	size_t litlen;
};

struct wglob {
	/** The positions. */
	struct wglob_pos pos[WGLOB_MAX];
	/** How many. */
	uint32_t n;
	/** Where the include and exclude patterns start. */
	wglob_set inc_start, exc_start;
	/** The end positions of include and exclude patterns. */
	wglob_set inc_end, exc_end;
	/** The end positions that take directories only. */
	wglob_set dirs_only;
	/** The positions that can go further (neither end nor nothing). */
	wglob_set going;
};

/** The bit of a position. */
static wglob_set wglob_bit(uint32_t p) {
	return (wglob_set)1 << p;
}

struct wglob *wglob_new(void) {
	return calloc(1, sizeof(struct wglob));
}

void wglob_free(struct wglob *g) {
	if (!g) {
		return;
	}
	for (uint32_t i = 0; i < g->n; ++i) {
		fnm_free(g->pos[i].fnm);
		free(g->pos[i].lit);
	}
	free(g);
}

/** Whether a segment has nothing a glob would read specially. */
static bool wglob_plain(const uint8_t *seg, size_t len) {
	for (size_t i = 0; i < len; ++i) {
		switch (seg[i]) {
		case '*':
		case '?':
		case '[':
		case ']':
		case '{':
		case '}':
		case '(':
		case ')':
		case '!':
		case '@':
		case '+':
		case '\\':
			return false;
		default:
			break;
		}
	}
	return true;
}

/** Fill a position for one segment.  @return 0 or a negative errno value. */
static int wglob_segment(struct wglob_pos *p, const uint8_t *seg, size_t len, uint8_t flags) {
	p->flags = flags;
	if (len == 2 && seg[0] == '*' && seg[1] == '*') {
		p->kind = WGLOB_STARS;
		return 0;
	}
	if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.')) {
		p->kind = WGLOB_NOTHING;
		return 0;
	}
	if (!(flags & WGLOB_CASEFOLD) && wglob_plain(seg, len)) {
		p->kind = WGLOB_LITERAL;
		p->lit = malloc(len + 1);
		if (!p->lit) {
			return -ENOMEM;
		}
		memcpy(p->lit, seg, len);
		p->lit[len] = 0;
		p->litlen = len;
		return 0;
	}
	p->kind = WGLOB_NAME;
	uint32_t fflags = FNM_GLOB;
	if (flags & WGLOB_EXTGLOB) {
		fflags |= FNM_EXTGLOB;
	}
	if (flags & WGLOB_CASEFOLD) {
		fflags |= FNM_ICASE;
	}
	return fnm_compile(seg, len, fflags, &p->fnm, NULL);
}

/**
 * Where a `**` at position p goes for no directory, in a pattern whose end
 * is at `last` (an include pattern ending in `**` has an end for
 * directories only at last + 1).
 *
 * An include pattern is applied segment by segment as expandGlob does: a
 * `**` stands for the directory it is applied to (and what lies below), so
 * it ends at that entry only if it is a directory.  An exclude pattern is
 * one regular expression on the whole path, as globToRegExp builds it:
 * there `**` can stand for no directory only when a segment follows it (a
 * final one needs a name after its slash), and without globstar it is a
 * `*`.
 */
static uint8_t wglob_skip(uint32_t p, uint32_t last, uint8_t flags, bool exclude) {
	if (!exclude) {
		return (uint8_t)(p + 1 == last ? last + 1 : p + 1);
	}
	bool skips = (flags & WGLOB_GLOBSTAR) && p + 1 < last;
	return (uint8_t)(skips ? p + 1 : p);
}

int wglob_add(struct wglob *g, const uint8_t *pat, uint32_t len, uint8_t flags, bool exclude) {
	// Count the segments first: all or nothing
	uint32_t segs = 0;
	bool stars_last = false;
	for (uint32_t i = 0; i < len;) {
		while (i < len && pat[i] == '/') {
			++i;
		}
		if (i == len) {
			break;
		}
		++segs;
		uint32_t start = i;
		while (i < len && pat[i] != '/') {
			++i;
		}
		stars_last = i - start == 2 && pat[start] == '*' && pat[start + 1] == '*';
	}
	// An include pattern ending in `**` needs an end for directories only
	bool dir_end = stars_last && !exclude;
	if (g->n + segs + 1 + dir_end > WGLOB_MAX) {
		return -ENOSPC;
	}

	uint32_t first = g->n;
	for (uint32_t i = 0; i < len;) {
		while (i < len && pat[i] == '/') {
			++i;
		}
		if (i == len) {
			break;
		}
		uint32_t start = i;
		while (i < len && pat[i] != '/') {
			++i;
		}
		struct wglob_pos *p = &g->pos[g->n];
		int ret = wglob_segment(p, pat + start, i - start, flags);
		if (ret != 0) {
			// Undo this pattern's positions
			while (g->n > first) {
				struct wglob_pos *q = &g->pos[--g->n];
				fnm_free(q->fnm);
				free(q->lit);
				memset(q, 0, sizeof(*q));
			}
			fnm_free(p->fnm);
			free(p->lit);
			memset(p, 0, sizeof(*p));
			return ret;
		}
		p->next = (uint8_t)(g->n + 1);
		++g->n;
	}
	uint32_t last = g->n;
	struct wglob_pos *end = &g->pos[g->n++];
	end->kind = WGLOB_END;
	end->flags = flags;
	if (dir_end) {
		struct wglob_pos *alt = &g->pos[g->n];
		alt->kind = WGLOB_END;
		alt->flags = flags | WGLOB_DIRS;
		g->inc_end |= wglob_bit(g->n);
		g->dirs_only |= wglob_bit(g->n);
		++g->n;
	}
	for (uint32_t p = first; p < last; ++p) {
		g->pos[p].skip = wglob_skip(p, last, flags, exclude);
	}
	wglob_set bit = wglob_bit(last);
	if (exclude) {
		g->exc_start |= wglob_bit(first);
		g->exc_end |= bit;
	} else {
		g->inc_start |= wglob_bit(first);
		g->inc_end |= bit;
		if (flags & WGLOB_DIRS) {
			g->dirs_only |= bit;
		}
	}
	for (uint32_t p = first; p < last; ++p) {
		if (g->pos[p].kind != WGLOB_NOTHING) {
			g->going |= wglob_bit(p);
		}
	}
	return 0;
}

bool wglob_active(const struct wglob *g) {
	return g && g->inc_start != 0;
}

/** Add what positions stand for without another segment (`**` for no directory: its skip). */
static wglob_set wglob_close(const struct wglob *g, wglob_set set) {
	wglob_set todo = set;
	while (todo) {
		uint32_t p = (uint32_t)__builtin_ctzll(todo);
		todo &= todo - 1;
		if (g->pos[p].kind == WGLOB_STARS) {
			wglob_set next = wglob_bit(g->pos[p].skip);
			if (!(set & next)) {
				set |= next;
				todo |= next;
			}
		}
	}
	return set;
}

/** Advance one set by a name. */
static wglob_set wglob_advance(const struct wglob *g, wglob_set set, const uint8_t *name, size_t len) {
	wglob_set out = 0;
	while (set) {
		uint32_t p = (uint32_t)__builtin_ctzll(set);
		set &= set - 1;
		const struct wglob_pos *pos = &g->pos[p];
		switch (pos->kind) {
		case WGLOB_LITERAL:
			if (pos->litlen == len && memcmp(pos->lit, name, len) == 0) {
				out |= wglob_bit(pos->next);
			}
			break;
		case WGLOB_NAME:
			if (fnm_match(pos->fnm, name, len)) {
				out |= wglob_bit(pos->next);
			}
			break;
		case WGLOB_STARS:
			// Below a `**`: past it, and (globstar) still in it
			out |= wglob_bit(pos->next);
			if (pos->flags & WGLOB_GLOBSTAR) {
				out |= wglob_bit(p);
			}
			break;
		default:
			break;
		}
	}
	return wglob_close(g, out);
}

void wglob_root(const struct wglob *g, const uint8_t *abs, size_t len, wglob_set *inc, wglob_set *exc) {
	*inc = wglob_close(g, g->inc_start);
	wglob_set x = wglob_close(g, g->exc_start);
	for (size_t i = 0; i < len && x;) {
		while (i < len && abs[i] == '/') {
			++i;
		}
		if (i == len) {
			break;
		}
		size_t start = i;
		while (i < len && abs[i] != '/') {
			++i;
		}
		x = wglob_advance(g, x, abs + start, i - start);
	}
	*exc = x;
}

void wglob_step(const struct wglob *g, wglob_set inc, wglob_set exc, const uint8_t *name, size_t len, wglob_set *inc_out, wglob_set *exc_out) {
	*exc_out = exc ? wglob_advance(g, exc, name, len) : 0;
	*inc_out = inc ? wglob_advance(g, inc, name, len) : 0;
}

/** Whether an exclude pattern ends in a set. */
static bool wglob_excluded(const struct wglob *g, wglob_set exc) {
	return (exc & g->exc_end) != 0;
}

bool wglob_matches(const struct wglob *g, wglob_set inc, wglob_set exc, bool dir) {
	wglob_set ends = inc & g->inc_end;
	if (!dir) {
		ends &= ~g->dirs_only;
	}
	return ends != 0 && !wglob_excluded(g, exc);
}

bool wglob_enters(const struct wglob *g, wglob_set inc, wglob_set exc) {
	return (inc & g->going) != 0 && !wglob_excluded(g, exc);
}

int wglob_literals(const struct wglob *g, wglob_set inc, const char **names, int max) {
	int n = 0;
	wglob_set set = inc & g->going;
	while (set) {
		uint32_t p = (uint32_t)__builtin_ctzll(set);
		set &= set - 1;
		const struct wglob_pos *pos = &g->pos[p];
		if (pos->kind != WGLOB_LITERAL || n == max) {
			return -1;
		}
		bool seen = false;
		for (int i = 0; i < n; ++i) {
			seen |= strcmp(names[i], pos->lit) == 0;
		}
		if (!seen) {
			names[n++] = pos->lit;
		}
	}
	return n;
}
