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

/**
 * One position.  Patterns that begin with the same segments (with the same
 * flags, both include or both exclude) share those segments' positions: a
 * position leads to the next segment of every pattern through it.
 */
struct wglob_pos {
	/** An enum wglob_kind. */
	uint8_t kind;
	/** WGLOB_* flags of its patterns (but WGLOB_DIRS, which only ends take). */
	uint8_t flags;
	/** Whether it belongs to exclude patterns. */
	bool exclude;
	/** The positions after it (not for WGLOB_END). */
	wglob_set next;
	/**
	 * WGLOB_STARS: the positions it stands for with no directory at all
	 * (the entry it is applied to standing for it; see wglob_skip()).
	 */
	wglob_set skip;
	/** WGLOB_NAME: the compiled glob. */
	struct fnm *fnm;
	/** The segment, NUL-terminated, and its length (not for WGLOB_END). */
	char *text;
	size_t len;
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

/** The lowest position in a non-empty set. */
static uint32_t wglob_first(wglob_set set) {
	return (uint32_t)__builtin_ctzll(set);
}

struct wglob *wglob_new(void) {
	return calloc(1, sizeof(struct wglob));
}

/** Free what a position holds and clear it. */
static void wglob_clear(struct wglob_pos *p) {
	fnm_free(p->fnm);
	free(p->text);
	memset(p, 0, sizeof(*p));
}

void wglob_free(struct wglob *g) {
	if (!g) {
		return;
	}
	for (uint32_t i = 0; i < g->n; ++i) {
		wglob_clear(&g->pos[i]);
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

/** Whether a segment is `**`. */
static bool wglob_is_stars(const uint8_t *seg, size_t len) {
	return len == 2 && seg[0] == '*' && seg[1] == '*';
}

/**
 * Fill a position for one segment.
 * @param[out] err
 *         Where fnm refused it, for -EINVAL (may be NULL).
 * @return 0, -EINVAL for a glob fnm refuses, or -ENOMEM.  On error the
 *         position holds nothing.
 */
static int wglob_segment(struct wglob_pos *p, const uint8_t *seg, size_t len, uint8_t flags, struct fnm_error *err) {
	p->flags = flags & ~WGLOB_DIRS;
	p->text = malloc(len + 1);
	if (!p->text) {
		return -ENOMEM;
	}
	memcpy(p->text, seg, len);
	p->text[len] = 0;
	p->len = len;
	if (wglob_is_stars(seg, len)) {
		p->kind = WGLOB_STARS;
		return 0;
	}
	if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.')) {
		p->kind = WGLOB_NOTHING;
		return 0;
	}
	if (!(flags & WGLOB_CASEFOLD) && wglob_plain(seg, len)) {
		p->kind = WGLOB_LITERAL;
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
	int ret = fnm_compile(seg, len, fflags, &p->fnm, err);
	if (ret != 0) {
		wglob_clear(p);
	}
	return ret;
}

/**
 * The positions a `**` stands for with no directory, in one pattern: the
 * segment after it, or for a final one `end` (an include pattern's end for
 * directories only).
 *
 * An include pattern is applied segment by segment as expandGlob does: a
 * `**` stands for the directory it is applied to (and what lies below), so
 * a final one ends at that entry only if it is a directory.  An exclude
 * pattern is one regular expression on the whole path, as globToRegExp
 * builds it: there `**` can stand for no directory only when a segment
 * follows it (a final one needs a name after its slash), and without
 * globstar it is a `*`.
 */
static wglob_set wglob_skip(uint32_t after, bool last, uint32_t end, uint8_t flags, bool exclude) {
	if (!exclude) {
		return wglob_bit(last ? end : after);
	}
	return (flags & WGLOB_GLOBSTAR) && !last ? wglob_bit(after) : 0;
}

/**
 * The position among `set` a segment can share: same segment, same flags,
 * same kind of pattern.  @return It, or -1.
 */
static int wglob_find(const struct wglob *g, wglob_set set, const uint8_t *seg, size_t len, uint8_t flags, bool exclude) {
	while (set) {
		uint32_t p = wglob_first(set);
		set &= set - 1;
		const struct wglob_pos *pos = &g->pos[p];
		if (pos->kind != WGLOB_END && pos->exclude == exclude && pos->flags == (flags & ~WGLOB_DIRS)
			&& pos->len == len && memcmp(pos->text, seg, len) == 0) {
			return (int)p;
		}
	}
	return -1;
}

int wglob_add(struct wglob *g, const uint8_t *pat, uint32_t len, uint8_t flags, bool exclude) {
	// The segments
	uint32_t at[WGLOB_MAX], seglen[WGLOB_MAX];
	uint32_t segs = 0;
	for (uint32_t i = 0; i < len;) {
		while (i < len && pat[i] == '/') {
			++i;
		}
		if (i == len) {
			break;
		}
		if (segs == WGLOB_MAX) {
			return -ENOSPC;
		}
		at[segs] = i;
		while (i < len && pat[i] != '/') {
			++i;
		}
		seglen[segs] = i - at[segs];
		++segs;
	}

	// The positions of its segments: those of a pattern it begins like, then new ones
	uint32_t pos[WGLOB_MAX];
	uint32_t shared = 0;
	wglob_set from = exclude ? g->exc_start : g->inc_start;
	while (shared < segs) {
		int q = wglob_find(g, from, pat + at[shared], seglen[shared], flags, exclude);
		if (q < 0) {
			break;
		}
		pos[shared++] = (uint32_t)q;
		from = g->pos[q].next;
	}
	bool dir_end = !exclude && segs > 0 && wglob_is_stars(pat + at[segs - 1], seglen[segs - 1]);
	if (g->n + (segs - shared) + 1 + dir_end > WGLOB_MAX) {
		return -ENOSPC;
	}
	uint32_t first = g->n;
	for (uint32_t k = shared; k < segs; ++k) {
		struct wglob_pos *p = &g->pos[g->n];
		int ret = wglob_segment(p, pat + at[k], seglen[k], flags, NULL);
		if (ret != 0) {
			while (g->n > first) {
				wglob_clear(&g->pos[--g->n]);
			}
			return ret;
		}
		p->exclude = exclude;
		pos[k] = g->n++;
	}
	uint32_t end = g->n++;
	g->pos[end].kind = WGLOB_END;
	g->pos[end].flags = flags;
	g->pos[end].exclude = exclude;
	uint32_t dirs = end;
	if (dir_end) {
		dirs = g->n++;
		g->pos[dirs].kind = WGLOB_END;
		g->pos[dirs].flags = flags | WGLOB_DIRS;
		g->pos[dirs].exclude = exclude;
		g->inc_end |= wglob_bit(dirs);
		g->dirs_only |= wglob_bit(dirs);
	}

	// Link it in
	wglob_set head = wglob_bit(segs ? pos[0] : end);
	if (exclude) {
		g->exc_start |= head;
		g->exc_end |= wglob_bit(end);
	} else {
		g->inc_start |= head;
		g->inc_end |= wglob_bit(end);
		if (flags & WGLOB_DIRS) {
			g->dirs_only |= wglob_bit(end);
		}
	}
	for (uint32_t k = 0; k < segs; ++k) {
		struct wglob_pos *p = &g->pos[pos[k]];
		bool last = k + 1 == segs;
		uint32_t after = last ? end : pos[k + 1];
		p->next |= wglob_bit(after);
		if (p->kind == WGLOB_STARS) {
			p->skip |= wglob_skip(after, last, dirs, flags, exclude);
		}
		if (k >= shared && p->kind != WGLOB_NOTHING) {
			g->going |= wglob_bit(pos[k]);
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
		uint32_t p = wglob_first(todo);
		todo &= todo - 1;
		if (g->pos[p].kind == WGLOB_STARS) {
			wglob_set more = g->pos[p].skip & ~set;
			set |= more;
			todo |= more;
		}
	}
	return set;
}

/** Advance one set by a name. */
static wglob_set wglob_advance(const struct wglob *g, wglob_set set, const uint8_t *name, size_t len) {
	wglob_set out = 0;
	while (set) {
		uint32_t p = wglob_first(set);
		set &= set - 1;
		const struct wglob_pos *pos = &g->pos[p];
		switch (pos->kind) {
		case WGLOB_LITERAL:
			if (pos->len == len && memcmp(pos->text, name, len) == 0) {
				out |= pos->next;
			}
			break;
		case WGLOB_NAME:
			if (fnm_match(pos->fnm, name, len)) {
				out |= pos->next;
			}
			break;
		case WGLOB_STARS:
			// Below a `**`: past it, and (globstar) still in it
			out |= pos->next;
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
		uint32_t p = wglob_first(set);
		set &= set - 1;
		const struct wglob_pos *pos = &g->pos[p];
		if (pos->kind != WGLOB_LITERAL || n == max) {
			return -1;
		}
		bool seen = false;
		for (int i = 0; i < n; ++i) {
			seen |= strcmp(names[i], pos->text) == 0;
		}
		if (!seen) {
			names[n++] = pos->text;
		}
	}
	return n;
}

int32_t ioq_glob_check(const uint8_t *seg, uint32_t len, uint32_t flags, uint32_t *pos, char *msg, uint32_t cap) {
	struct wglob_pos p = {0};
	struct fnm_error err = {0, NULL};
	int ret = wglob_segment(&p, seg, len, (uint8_t)flags, &err);
	wglob_clear(&p);
	if (ret == -EINVAL) {
		*pos = (uint32_t)err.pos;
		if (cap > 0) {
			const char *what = err.msg ? err.msg : "invalid pattern";
			size_t n = strlen(what);
			n = n < cap - 1 ? n : cap - 1;
			memcpy(msg, what, n);
			msg[n] = 0;
		}
	}
	return ret;
}
