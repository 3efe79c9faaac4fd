// SPDX-License-Identifier: 0BSD
/**
 * ign: compiling ignore files and matching paths against their rules.
 *
 * A rule is what git makes of a line: flags (negated, directories only,
 * last component only), a literal part compared with memcmp(), and a
 * program for the rest: literal runs, `?`, sets, and three kinds of star:
 *
 *  - STAR, `*`: bytes but `/`;
 *  - DSTAR, a `**` bounded by slashes, the pattern's start or its end: any
 *    bytes;
 *  - DSTAR_DIR, the same `**` followed by `/` (which it takes in): nothing,
 *    or any bytes ending with `/`.
 *
 * git (wildmatch.c) runs such a pattern by recursion, backtracking; the
 * language it accepts is regular, and its structure lets a greedy matcher
 * run it without going back more than one level:
 *
 *  - The DSTARs cut the program into chunks.  Nothing but a literal `/`
 *    matches a `/`, so a chunk with d slashes in it spans exactly d + 1
 *    components of the path, and a chunk followed by a DSTAR ends with `/`
 *    (git's rule for `**`): where it ends is fixed by where it starts.
 *  - Each chunk is placed at the first start that works (any position for
 *    DSTAR, the position or just after a `/` for DSTAR_DIR), and never
 *    moved again: ending earlier leaves the rest of the program at least
 *    the starts a later end would.  The last chunk must end the path; when
 *    it has no STAR its length fixes its one possible start.
 *  - Within a chunk, the pieces between STARs are placed leftmost, each
 *    within the component the previous one ended in, which is exact for one
 *    kind of star over a string without `/` (the classic glob argument); a
 *    piece holding a `/` has a single possible place.
 *
 * Work: each start of a chunk is a component boundary (a chunk after a
 * DSTAR starts with `/`), and from one start the pieces are searched
 * within the components the chunk spans, so each component is searched
 * once per segment of the pattern that can land on it (the `/` before the
 * last chunk's fixed tail is looked for once): O(path x pattern) per rule,
 * without allocating.
 *
 * Departures from git 2.39: none known.  tests/c/ign_test.c holds the
 * syntax cases, each answered by git's check-ignore as its table says, and
 * tests/ign_test.ts compares with git itself on generated repositories.
 * git's core.ignoreCase (literal comparisons folding ASCII case) is not
 * supported.
 */

#define _GNU_SOURCE
#include "ign.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/** The operations of a pattern's program. */
enum ign_op {
	/** Literal bytes: `len` of them at `arg` in the list's byte pool. */
	OP_LIT,
	/** `?`: one byte but `/`. */
	OP_ANY,
	/** `[...]`: one byte of set number `arg` (no set holds `/`). */
	OP_SET,
	/** `*`: bytes but `/`. */
	OP_STAR,
	/** A bounded `**`: any bytes. */
	OP_DSTAR,
	/** A bounded `**` and the `/` after it: nothing, or bytes ending with `/`. */
	OP_DSTAR_DIR,
};

/** One operation. */
struct ign_tok {
	/** An enum ign_op. */
	uint32_t op;
	/** OP_LIT: offset in the byte pool; OP_SET: the set's number. */
	uint32_t arg;
	/** OP_LIT: how many bytes. */
	uint32_t len;
};

/** Rule flags. */
enum {
	/** `!`: a match re-includes. */
	RULE_NEGATE = 1 << 0,
	/** A trailing `/`: directories only. */
	RULE_DIR = 1 << 1,
	/** No `/` in the pattern: matched against the path's last component. */
	RULE_BASENAME = 1 << 2,
	/** `*` and a literal, on the last component: the literal ends the name. */
	RULE_SUFFIX = 1 << 3,
};

/** One rule. */
struct ign_rule {
	/** Its line in the file (1 for the first). */
	uint32_t line;
	/** RULE_* flags. */
	uint32_t flags;
	/** The literal part: offset in the byte pool. */
	uint32_t lit;
	/** The literal part: length (with RULE_SUFFIX, the suffix). */
	uint32_t lit_len;
	/** The program for the rest: first operation. */
	uint32_t tok;
	/** The program for the rest: how many operations (0: the literal part is all). */
	uint32_t ntok;
};

/** A 256-bit set of bytes. */
struct ign_set {
	/** Bit b of word b / 64 is byte b. */
	uint64_t bits[4];
};

struct ign_list {
	/** The rules, in file order. */
	struct ign_rule *rules;
	/** How many rules. */
	size_t count;
	/** Every rule's program. */
	struct ign_tok *toks;
	/** Every set. */
	struct ign_set *sets;
	/** Every literal byte. */
	uint8_t *bytes;
};

/** @return Whether a byte is in a set. */
static inline bool set_has(const struct ign_set *set, uint8_t c) {
	return (set->bits[c >> 6] >> (c & 63)) & 1;
}

/** Add a byte to a set. */
static inline void set_add(struct ign_set *set, uint8_t c) {
	set->bits[c >> 6] |= (uint64_t)1 << (c & 63);
}

/* ----------------------------------------------------------------------
 * Compiling
 */

/** A list being built, with the room of its arrays. */
struct builder {
	/** The list. */
	struct ign_list *l;
	/** Room for rules. */
	size_t rules_cap;
	/** Operations used, and room. */
	size_t ntoks, toks_cap;
	/** Sets used, and room. */
	size_t nsets, sets_cap;
	/** Bytes used, and room. */
	size_t nbytes, bytes_cap;
};

/** Make room for `need` elements of `size` bytes in *arr.  @return 0 or -ENOMEM. */
static int grow(void **arr, size_t *cap, size_t need, size_t size) {
	if (need <= *cap) {
		return 0;
	}
	size_t cap2 = *cap ? *cap : 8;
	while (cap2 < need) {
		cap2 *= 2;
	}
	void *arr2 = realloc(*arr, cap2 * size);
	if (!arr2) {
		return -ENOMEM;
	}
	*arr = arr2;
	*cap = cap2;
	return 0;
}

/** Append bytes to the pool.  @return 0 or -ENOMEM. */
static int add_bytes(struct builder *b, const uint8_t *bytes, size_t len) {
	if (grow((void **)&b->l->bytes, &b->bytes_cap, b->nbytes + len, 1) != 0) {
		return -ENOMEM;
	}
	memcpy(b->l->bytes + b->nbytes, bytes, len);
	b->nbytes += len;
	return 0;
}

/** Append an operation.  @return 0 or -ENOMEM. */
static int add_tok(struct builder *b, uint32_t op, uint32_t arg, uint32_t len) {
	if (grow((void **)&b->l->toks, &b->toks_cap, b->ntoks + 1, sizeof(struct ign_tok)) != 0) {
		return -ENOMEM;
	}
	b->l->toks[b->ntoks++] = (struct ign_tok){.op = op, .arg = arg, .len = len};
	return 0;
}

/**
 * Append a literal byte to the program from operation `first` on: it joins
 * the literal run before it when there is one.  @return 0 or -ENOMEM.
 */
static int add_lit(struct builder *b, size_t first, uint8_t c) {
	struct ign_tok *last = b->ntoks > first ? &b->l->toks[b->ntoks - 1] : NULL;
	if (last && last->op == OP_LIT && last->arg + last->len == b->nbytes) {
		++last->len;
		return add_bytes(b, &c, 1);
	}
	if (add_tok(b, OP_LIT, (uint32_t)b->nbytes, 1) != 0) {
		return -ENOMEM;
	}
	return add_bytes(b, &c, 1);
}

/** The classes a set may name, over ASCII only (git's sane ctype). */
static bool in_class(int class, uint8_t c) {
	bool upper = c >= 'A' && c <= 'Z';
	bool lower = c >= 'a' && c <= 'z';
	bool digit = c >= '0' && c <= '9';
	bool graph = c > 0x20 && c < 0x7f;
	switch (class) {
	case 0: // alnum
		return upper || lower || digit;
	case 1: // alpha
		return upper || lower;
	case 2: // blank
		return c == ' ' || c == '\t';
	case 3: // cntrl
		return c < 0x20 || c == 0x7f;
	case 4: // digit
		return digit;
	case 5: // graph
		return graph;
	case 6: // lower
		return lower;
	case 7: // print
		return graph || c == ' ';
	case 8: // punct
		return graph && !upper && !lower && !digit;
	case 9: // space (git's: not \v nor \f)
		return c == ' ' || c == '\t' || c == '\n' || c == '\r';
	case 10: // upper
		return upper;
	case 11: // xdigit
		return digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
	}
	return false;
}

/** The class names, in in_class()'s order. */
static const char *const class_names[] = {
	"alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space", "upper", "xdigit",
};

/** What compiling a pattern gave. */
enum compiled {
	/** A program. */
	COMPILED_OK = 0,
	/** A pattern that matches nothing (an unclosed `[`, an unknown class, a trailing `\`). */
	COMPILED_NEVER = 1,
};

/**
 * Read a bracket expression as wildmatch does, from r[*at] == '[', into
 * `set`, and move *at past its `]`.
 * @return COMPILED_OK or COMPILED_NEVER.
 */
static int compile_set(const uint8_t *r, size_t n, size_t *at, struct ign_set *set) {
	memset(set, 0, sizeof(*set));
	size_t k = *at + 1;
	bool negated = k < n && (r[k] == '!' || r[k] == '^');
	if (negated) {
		++k;
	}
	// The previous member, a range's start; 0 after a range or a class
	uint8_t prev = 0;
	// The first `]` at or after the last `[:` (so that each is looked for once)
	size_t close = 0;
	for (;;) {
		// Each member: the first one even if it is `]`
		if (k >= n) {
			return COMPILED_NEVER;
		}
		uint8_t c = r[k];
		if (c == '\\') {
			if (++k >= n) {
				return COMPILED_NEVER;
			}
			set_add(set, r[k]);
			prev = r[k];
		} else if (c == '-' && prev && k + 1 < n && r[k + 1] != ']') {
			uint8_t hi = r[++k];
			if (hi == '\\') {
				if (++k >= n) {
					return COMPILED_NEVER;
				}
				hi = r[k];
			}
			for (unsigned x = prev; x <= hi; ++x) {
				set_add(set, (uint8_t)x);
			}
			prev = 0;
		} else if (c == '[' && k + 1 < n && r[k + 1] == ':') {
			size_t s = k + 2, q = s > close ? s : close;
			while (q < n && r[q] != ']') {
				++q;
			}
			close = q;
			if (q >= n) {
				return COMPILED_NEVER;
			}
			if (q == s || r[q - 1] != ':') {
				// No `:]`: the `[` is a member, and the `:` is read next
				set_add(set, '[');
				prev = '[';
			} else {
				size_t len = q - 1 - s;
				int class = -1;
				for (int i = 0; i < (int)(sizeof(class_names) / sizeof(class_names[0])); ++i) {
					if (strlen(class_names[i]) == len && memcmp(class_names[i], r + s, len) == 0) {
						class = i;
					}
				}
				if (class < 0) {
					return COMPILED_NEVER;
				}
				for (unsigned x = 1; x < 256; ++x) {
					if (in_class(class, (uint8_t)x)) {
						set_add(set, (uint8_t)x);
					}
				}
				prev = 0;
				k = q;
			}
		} else {
			set_add(set, c);
			prev = c;
		}
		if (++k < n && r[k] == ']') {
			break;
		}
	}
	*at = k + 1;
	if (negated) {
		for (int w = 0; w < 4; ++w) {
			set->bits[w] = ~set->bits[w];
		}
	}
	// With WM_PATHNAME no set matches `/`; no path holds NUL
	set->bits['/' >> 6] &= ~((uint64_t)1 << ('/' & 63));
	set->bits[0] &= ~(uint64_t)1;
	return COMPILED_OK;
}

/**
 * Compile r[0..n) as wildmatch reads a pattern with WM_PATHNAME, r being the
 * start of the pattern it is given, into operations appended to the list.
 * @return COMPILED_OK, COMPILED_NEVER, or -ENOMEM.
 */
static int compile_program(struct builder *b, const uint8_t *r, size_t n) {
	size_t first = b->ntoks;
	size_t i = 0;
	while (i < n) {
		uint8_t c = r[i];
		int ret = 0;
		if (c == '\\') {
			if (i + 1 >= n) {
				return COMPILED_NEVER;
			}
			ret = add_lit(b, first, r[i + 1]);
			i += 2;
		} else if (c == '?') {
			ret = add_tok(b, OP_ANY, 0, 0);
			++i;
		} else if (c == '[') {
			struct ign_set set;
			if (compile_set(r, n, &i, &set) != COMPILED_OK) {
				return COMPILED_NEVER;
			}
			if (grow((void **)&b->l->sets, &b->sets_cap, b->nsets + 1, sizeof(set)) != 0) {
				return -ENOMEM;
			}
			b->l->sets[b->nsets] = set;
			ret = add_tok(b, OP_SET, (uint32_t)b->nsets++, 0);
		} else if (c == '*') {
			size_t j = i;
			while (j < n && r[j] == '*') {
				++j;
			}
			// `**` after the start or a `/`, before the end, a `/` or `\/`
			bool after = i == 0 || r[i - 1] == '/';
			bool before = j == n || r[j] == '/' || (r[j] == '\\' && j + 1 < n && r[j + 1] == '/');
			uint32_t op = OP_STAR;
			if (j - i >= 2 && after && before) {
				op = j < n && r[j] == '/' ? OP_DSTAR_DIR : OP_DSTAR;
			}
			ret = add_tok(b, op, 0, 0);
			i = op == OP_DSTAR_DIR ? j + 1 : j;
		} else {
			ret = add_lit(b, first, c);
			++i;
		}
		if (ret < 0) {
			return ret;
		}
	}
	return COMPILED_OK;
}

/** @return The length of the part of p[0..n) before its first `*`, `?`, `[` or `\`. */
static size_t literal_len(const uint8_t *p, size_t n) {
	size_t i = 0;
	while (i < n && p[i] != '*' && p[i] != '?' && p[i] != '[' && p[i] != '\\') {
		++i;
	}
	return i;
}

/**
 * Add the rule of one line (CR, NUL and trailing spaces already cut), as
 * git's parse_path_pattern() reads it.
 * @return 0 (also for a rule that can never match, which is dropped), or -ENOMEM.
 */
static int add_rule(struct builder *b, const uint8_t *p, size_t len, uint32_t line) {
	uint32_t flags = 0;
	if (len > 0 && p[0] == '!') {
		flags |= RULE_NEGATE;
		++p;
		--len;
	}
	if (len > 0 && p[len - 1] == '/') {
		flags |= RULE_DIR;
		--len;
	}
	if (!memchr(p, '/', len)) {
		flags |= RULE_BASENAME;
	}
	// git's nowildcardlen, taken before an anchoring `/` is dropped
	size_t lit = literal_len(p, len);
	if (!(flags & RULE_BASENAME) && p[0] == '/') {
		++p;
		--len;
		--lit;
	}
	if (len == 0) {
		// No path is empty
		return 0;
	}
	if ((flags & RULE_BASENAME) && p[0] == '*' && literal_len(p + 1, len - 1) == len - 1) {
		flags |= RULE_SUFFIX;
		++p;
		--len;
		lit = len;
	}

	size_t tok = b->ntoks, nsets = b->nsets, nbytes = b->nbytes;
	if (add_bytes(b, p, lit) != 0) {
		return -ENOMEM;
	}
	int ret = compile_program(b, p + lit, len - lit);
	if (ret == COMPILED_NEVER) {
		// Drop what the rule added
		b->ntoks = tok;
		b->nsets = nsets;
		b->nbytes = nbytes;
		return 0;
	}
	if (ret < 0) {
		return ret;
	}
	if (grow((void **)&b->l->rules, &b->rules_cap, b->l->count + 1, sizeof(struct ign_rule)) != 0) {
		return -ENOMEM;
	}
	b->l->rules[b->l->count++] = (struct ign_rule){
		.line = line,
		.flags = flags,
		.lit = (uint32_t)nbytes,
		.lit_len = (uint32_t)lit,
		.tok = (uint32_t)tok,
		.ntok = (uint32_t)(b->ntoks - tok),
	};
	return 0;
}

int ign_parse(const uint8_t *text, size_t len, struct ign_list **out) {
	*out = NULL;
	if (len > IGN_MAX_FILE) {
		return -EFBIG;
	}
	struct builder b = {.l = calloc(1, sizeof(struct ign_list))};
	// The pool is never NULL, even for rules without a literal byte
	if (!b.l || grow((void **)&b.l->bytes, &b.bytes_cap, 1, 1) != 0) {
		ign_free(b.l);
		return -ENOMEM;
	}
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		len -= 3;
	}

	uint32_t line = 0;
	size_t start = 0;
	while (start < len) {
		const uint8_t *nl = memchr(text + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - text) : len;
		const uint8_t *p = text + start;
		size_t n = end - start;
		++line;
		start = end + 1;
		if (n == 0 || p[0] == '#') {
			continue;
		}
		if (p[n - 1] == '\r') {
			--n;
		}
		// git reads the line as a C string
		const uint8_t *nul = memchr(p, '\0', n);
		if (nul) {
			n = (size_t)(nul - p);
		}
		// Drop trailing spaces, unless escaped (and nothing after a lone trailing `\`)
		size_t keep = n;
		bool in_spaces = false;
		for (size_t i = 0; i < n; ++i) {
			if (p[i] == ' ') {
				if (!in_spaces) {
					keep = i;
					in_spaces = true;
				}
				continue;
			}
			in_spaces = false;
			if (p[i] == '\\') {
				// The escaped byte stays, even a space
				++i;
			}
		}
		if (in_spaces) {
			n = keep;
		}
		if (add_rule(&b, p, n, line) != 0) {
			ign_free(b.l);
			return -ENOMEM;
		}
	}

	if (b.l->count == 0) {
		ign_free(b.l);
		return 0;
	}
	*out = b.l;
	return 0;
}

void ign_free(struct ign_list *list) {
	if (!list) {
		return;
	}
	free(list->rules);
	free(list->toks);
	free(list->sets);
	free(list->bytes);
	free(list);
}

/* ----------------------------------------------------------------------
 * Matching
 */

/** One match of a program against a text. */
struct matcher {
	/** The list the program is in. */
	const struct ign_list *l;
	/** The text. */
	const uint8_t *s;
	/** Its length. */
	size_t n;
	/** Steps taken so far. */
	uint64_t steps;
	/**
	 * Where the last piece of an anchored chunk starts (its length fixes
	 * it), and 1 + the position of the last `/` before it (0: none), found
	 * once for every start tried.
	 */
	size_t tail, tail_slash;
};

/** @return Whether an operation is a DSTAR or DSTAR_DIR. */
static inline bool is_dstar(uint32_t op) {
	return op == OP_DSTAR || op == OP_DSTAR_DIR;
}

/**
 * Find the piece (literals, `?` and sets) that starts at operation i and
 * ends before the next STAR or j.
 * @param[out] end
 *         Receives the operation after it.
 * @return Its length in bytes.
 */
static size_t piece(const struct matcher *m, size_t i, size_t j, size_t *end) {
	size_t len = 0;
	while (i < j && m->l->toks[i].op != OP_STAR) {
		const struct ign_tok *t = &m->l->toks[i++];
		len += t->op == OP_LIT ? t->len : 1;
	}
	*end = i;
	return len;
}

/** @return Whether the piece of operations [i, j) matches at s[at..] (which has room for it). */
static bool piece_at(struct matcher *m, size_t i, size_t j, size_t at) {
	for (; i < j; ++i) {
		const struct ign_tok *t = &m->l->toks[i];
		if (t->op == OP_LIT) {
			m->steps += t->len;
			if (memcmp(m->l->bytes + t->arg, m->s + at, t->len) != 0) {
				return false;
			}
			at += t->len;
			continue;
		}
		++m->steps;
		uint8_t c = m->s[at++];
		if (t->op == OP_ANY ? c == '/' : !set_has(&m->l->sets[t->arg], c)) {
			return false;
		}
	}
	return true;
}

/**
 * Match a chunk, operations [i, j) (pieces between STARs, no DSTAR), from
 * s[start].
 * @param anchored
 *         Whether it must end the text.
 * @param[out] end
 *         Receives where it ends: the earliest end it can have.
 * @return Whether it matches there.
 */
static bool chunk_at(struct matcher *m, size_t i, size_t j, size_t start, bool anchored, size_t *end) {
	const uint8_t *s = m->s;
	size_t n = m->n;
	size_t k;
	size_t len = piece(m, i, j, &k);
	if (len > n - start || !piece_at(m, i, k, start)) {
		return false;
	}
	size_t pos = start + len;
	while (k < j) {
		// At a STAR: the next piece goes leftmost, before the next `/`
		size_t first = k + 1;
		len = piece(m, first, j, &k);
		if (anchored && k == j) {
			if (len > n - pos) {
				return false;
			}
			size_t at = n - len;
			if (m->tail != at) {
				const uint8_t *slash = memrchr(s, '/', at);
				m->steps += at;
				m->tail = at;
				m->tail_slash = slash ? (size_t)(slash - s) + 1 : 0;
			}
			if (m->tail_slash > pos) {
				// The star before it would cross a `/`
				return false;
			}
			*end = n;
			return piece_at(m, first, k, at);
		}
		size_t at = pos;
		for (;;) {
			++m->steps;
			if (len > n - at) {
				return false;
			}
			if (piece_at(m, first, k, at)) {
				break;
			}
			if (s[at] == '/') {
				return false;
			}
			++at;
		}
		pos = at + len;
	}
	if (anchored && pos != n) {
		return false;
	}
	*end = pos;
	return true;
}

/** @return Whether operations [i, j) match the whole text. */
static bool program_match(struct matcher *m, size_t i, size_t j) {
	const struct ign_tok *toks = m->l->toks;
	const uint8_t *s = m->s;
	size_t n = m->n;

	size_t k = i;
	while (k < j && !is_dstar(toks[k].op)) {
		++k;
	}
	size_t pos;
	if (!chunk_at(m, i, k, 0, k == j, &pos)) {
		return false;
	}
	while (k < j) {
		uint32_t op = toks[k].op;
		size_t first = k + 1;
		k = first;
		bool fixed = true;
		while (k < j && !is_dstar(toks[k].op)) {
			fixed = fixed && toks[k].op != OP_STAR;
			++k;
		}
		bool anchored = k == j;
		size_t at = pos;
		if (anchored && fixed) {
			// Its length fixes the one start that can end the text
			size_t end;
			size_t len = piece(m, first, k, &end);
			if (len > n - pos) {
				return false;
			}
			at = n - len;
			if (op == OP_DSTAR_DIR && at != pos && s[at - 1] != '/') {
				return false;
			}
			return piece_at(m, first, k, at);
		}
		for (;;) {
			++m->steps;
			if (chunk_at(m, first, k, at, anchored, &pos)) {
				break;
			}
			if (op == OP_DSTAR_DIR) {
				const uint8_t *slash = at < n ? memchr(s + at, '/', n - at) : NULL;
				if (!slash) {
					return false;
				}
				m->steps += (size_t)(slash - (s + at));
				at = (size_t)(slash - s) + 1;
			} else {
				if (at == n) {
					return false;
				}
				++at;
			}
		}
	}
	return true;
}

/** @return Whether a rule's pattern matches a text (the path, or its last component). */
static bool rule_match(struct matcher *m, const struct ign_rule *r) {
	const uint8_t *lit = m->l->bytes + r->lit;
	m->steps += r->lit_len;
	if (r->lit_len > m->n) {
		return false;
	}
	if (r->flags & RULE_SUFFIX) {
		return memcmp(m->s + m->n - r->lit_len, lit, r->lit_len) == 0;
	}
	if (memcmp(m->s, lit, r->lit_len) != 0) {
		return false;
	}
	if (r->ntok == 0) {
		return m->n == r->lit_len;
	}
	struct matcher rest = {.l = m->l, .s = m->s + r->lit_len, .n = m->n - r->lit_len, .tail = SIZE_MAX};
	bool matched = program_match(&rest, r->tok, (size_t)r->tok + r->ntok);
	m->steps += rest.steps;
	return matched;
}

/**
 * The verdict of a list on a path relative to its directory, whose last
 * component is name[0..name_len).
 */
static enum ign_verdict list_verdict(const struct ign_list *l, const uint8_t *path, size_t len, const uint8_t *name, size_t name_len, bool is_dir, uint32_t *line, uint64_t *steps) {
	if (!l || len == 0) {
		return IGN_NONE;
	}
	for (size_t i = l->count; i-- > 0;) {
		const struct ign_rule *r = &l->rules[i];
		if ((r->flags & RULE_DIR) && !is_dir) {
			continue;
		}
		bool base = r->flags & RULE_BASENAME;
		struct matcher m = {.l = l, .s = base ? name : path, .n = base ? name_len : len, .tail = SIZE_MAX};
		bool matched = rule_match(&m, r);
		*steps += m.steps + 1;
		if (matched) {
			if (line) {
				*line = r->line;
			}
			return (r->flags & RULE_NEGATE) ? IGN_INCLUDED : IGN_IGNORED;
		}
	}
	return IGN_NONE;
}

/** @return Where the last component of path[0..len) starts. */
static size_t name_start(const uint8_t *path, size_t len) {
	const uint8_t *slash = memrchr(path, '/', len);
	return slash ? (size_t)(slash - path) + 1 : 0;
}

enum ign_verdict ign_list_match_counted(const struct ign_list *list, const uint8_t *path, size_t len, bool is_dir, uint32_t *line, uint64_t *steps) {
	size_t name = name_start(path, len);
	*steps = 0;
	return list_verdict(list, path, len, path + name, len - name, is_dir, line, steps);
}

enum ign_verdict ign_list_match(const struct ign_list *list, const uint8_t *path, size_t len, bool is_dir, uint32_t *line) {
	uint64_t steps;
	return ign_list_match_counted(list, path, len, is_dir, line, &steps);
}

/** Ask one list of a frame; fill *hit on a verdict. */
static enum ign_verdict frame_verdict(const struct ign_frame *f, const struct ign_list *l, const uint8_t *path, size_t len, const uint8_t *name, size_t name_len, bool is_dir, struct ign_hit *hit) {
	if (!l || f->base >= len) {
		return IGN_NONE;
	}
	uint32_t line;
	uint64_t steps = 0;
	enum ign_verdict v = list_verdict(l, path + f->base, len - f->base, name, name_len, is_dir, &line, &steps);
	if (v != IGN_NONE && hit) {
		hit->list = l;
		hit->line = line;
	}
	return v;
}

enum ign_verdict ign_match(const struct ign_frame *frame, const uint8_t *path, size_t len, bool is_dir, struct ign_hit *hit) {
	if (!frame || frame->base >= len) {
		return IGN_NONE;
	}
	size_t name = frame->base + name_start(path + frame->base, len - frame->base);
	const uint8_t *np = path + name;
	size_t nlen = len - name;

	for (const struct ign_frame *f = frame; f; f = f->parent) {
		enum ign_verdict v = frame_verdict(f, f->ignore, path, len, np, nlen, is_dir, hit);
		if (v != IGN_NONE) {
			return v;
		}
	}
	for (const struct ign_frame *f = frame; f; f = f->parent) {
		enum ign_verdict v = frame_verdict(f, f->gitignore, path, len, np, nlen, is_dir, hit);
		if (v != IGN_NONE) {
			return v;
		}
		if (f->repo) {
			return frame_verdict(f, f->exclude, path, len, np, nlen, is_dir, hit);
		}
	}
	return IGN_NONE;
}

/* ----------------------------------------------------------------------
 * Test hook: a walk's verdicts on a described tree
 */

/** Kinds of records in ioq_test_ign()'s spec. */
enum {
	SPEC_FILE = 1,
	SPEC_REPO = 2,
	SPEC_QUERY = 3,
};

/** A spec being read. */
struct spec_reader {
	/** The next byte. */
	const uint8_t *p;
	/** Bytes left. */
	size_t left;
};

/** Read `n` bytes.  @return Whether there were that many. */
static bool spec_bytes(struct spec_reader *r, size_t n, const uint8_t **out) {
	if (n > r->left) {
		return false;
	}
	*out = r->p;
	r->p += n;
	r->left -= n;
	return true;
}

/** Read a little-endian u32.  @return Whether there was one. */
static bool spec_u32(struct spec_reader *r, uint32_t *out) {
	const uint8_t *b;
	if (!spec_bytes(r, 4, &b)) {
		return false;
	}
	*out = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	return true;
}

/** Read a u32 length and that many bytes.  @return Whether they were there. */
static bool spec_string(struct spec_reader *r, const uint8_t **out, uint32_t *len) {
	return spec_u32(r, len) && spec_bytes(r, *len, out);
}

/** A path of the spec. */
struct spec_path {
	/** Its bytes. */
	const uint8_t *bytes;
	/** Its length. */
	uint32_t len;
};

/** The spec, read. */
struct spec {
	/** The ignore files' paths, and their lists. */
	struct spec_path *files;
	struct ign_list **lists;
	size_t nfiles;
	/** The repositories' roots. */
	struct spec_path *repos;
	size_t nrepos;
	/** The queries, and which are directories. */
	struct spec_path *queries;
	bool *query_dirs;
	size_t nqueries;
};

/** @return Whether dir[0..dlen) joined with `name` is `p`. */
static bool spec_is(const struct spec_path *p, const uint8_t *dir, size_t dlen, const char *name) {
	size_t nlen = strlen(name);
	size_t sep = dlen ? 1 : 0;
	return p->len == dlen + sep + nlen && memcmp(p->bytes, dir, dlen) == 0 && (!sep || p->bytes[dlen] == '/') && memcmp(p->bytes + dlen + sep, name, nlen) == 0;
}

/** @return The list of the file `name` in directory dir[0..dlen), or NULL. */
static const struct ign_list *spec_list(const struct spec *sp, const uint8_t *dir, size_t dlen, const char *name) {
	for (size_t i = 0; i < sp->nfiles; ++i) {
		if (spec_is(&sp->files[i], dir, dlen, name)) {
			return sp->lists[i];
		}
	}
	return NULL;
}

/** @return Whether dir[0..dlen) is a repository's root. */
static bool spec_repo(const struct spec *sp, const uint8_t *dir, size_t dlen) {
	for (size_t i = 0; i < sp->nrepos; ++i) {
		if (sp->repos[i].len == dlen && memcmp(sp->repos[i].bytes, dir, dlen) == 0) {
			return true;
		}
	}
	return false;
}

/**
 * Make the frame of directory path[0..dlen) (the top when dlen is 0), as a
 * walk does when it opens the directory.
 * @param in_repo
 *         Whether the parent is inside a repository; updated for this one.
 */
static void spec_frame(const struct spec *sp, struct ign_frame *f, const struct ign_frame *parent, const uint8_t *path, size_t dlen, bool *in_repo) {
	f->parent = parent;
	f->base = dlen ? dlen + 1 : 0;
	f->repo = spec_repo(sp, path, dlen);
	*in_repo = *in_repo || f->repo;
	f->ignore = spec_list(sp, path, dlen, ".ignore");
	f->gitignore = *in_repo ? spec_list(sp, path, dlen, ".gitignore") : NULL;
	f->exclude = f->repo ? spec_list(sp, path, dlen, ".git/info/exclude") : NULL;
}

/** Answer one query into out[0..3).  @return 0 or -ENOMEM. */
static int spec_answer(const struct spec *sp, const uint8_t *path, size_t len, bool is_dir, int32_t *out) {
	size_t depth = 0;
	for (size_t i = 0; i < len; ++i) {
		depth += path[i] == '/';
	}
	struct ign_frame *frames = calloc(depth + 1, sizeof(*frames));
	if (!frames) {
		return -ENOMEM;
	}
	bool in_repo = false;
	spec_frame(sp, &frames[0], NULL, path, 0, &in_repo);
	struct ign_hit hit;
	enum ign_verdict v = IGN_NONE;
	size_t d = 0;
	for (size_t i = 0; i < len; ++i) {
		if (path[i] != '/') {
			continue;
		}
		// The directory path[0..i), as an entry of its parent
		v = ign_match(&frames[d], path, i, true, &hit);
		if (v == IGN_IGNORED) {
			break;
		}
		spec_frame(sp, &frames[d + 1], &frames[d], path, i, &in_repo);
		++d;
	}
	if (v != IGN_IGNORED) {
		v = ign_match(&frames[d], path, len, is_dir, &hit);
	}
	out[0] = v;
	out[1] = -1;
	out[2] = 0;
	if (v != IGN_NONE) {
		for (size_t i = 0; i < sp->nfiles; ++i) {
			if (sp->lists[i] == hit.list) {
				out[1] = (int32_t)i;
			}
		}
		out[2] = (int32_t)hit.line;
	}
	free(frames);
	return 0;
}

/** @return Whether a query path is well formed: not empty, no empty component. */
static bool spec_query_ok(const uint8_t *p, size_t len) {
	if (len == 0 || p[0] == '/' || p[len - 1] == '/') {
		return false;
	}
	for (size_t i = 1; i < len; ++i) {
		if (p[i] == '/' && p[i - 1] == '/') {
			return false;
		}
	}
	return true;
}

/** Read a spec (twice: counting, then filling in).  @return 0, -EINVAL or -ENOMEM. */
static int spec_read(struct spec *sp, const uint8_t *bytes, size_t len) {
	for (int fill = 0; fill < 2; ++fill) {
		struct spec_reader r = {.p = bytes, .left = len};
		size_t nfiles = 0, nrepos = 0, nqueries = 0;
		while (r.left > 0) {
			const uint8_t *kind, *path, *text, *dir;
			uint32_t plen, tlen;
			if (!spec_bytes(&r, 1, &kind)) {
				return -EINVAL;
			}
			if (*kind == SPEC_FILE) {
				if (!spec_string(&r, &path, &plen) || !spec_string(&r, &text, &tlen)) {
					return -EINVAL;
				}
				if (fill) {
					sp->files[nfiles] = (struct spec_path){path, plen};
					int ret = ign_parse(text, tlen, &sp->lists[nfiles]);
					if (ret < 0) {
						return ret;
					}
				}
				++nfiles;
			} else if (*kind == SPEC_REPO) {
				if (!spec_string(&r, &path, &plen)) {
					return -EINVAL;
				}
				if (fill) {
					sp->repos[nrepos] = (struct spec_path){path, plen};
				}
				++nrepos;
			} else if (*kind == SPEC_QUERY) {
				if (!spec_bytes(&r, 1, &dir) || !spec_string(&r, &path, &plen) || !spec_query_ok(path, plen)) {
					return -EINVAL;
				}
				if (fill) {
					sp->queries[nqueries] = (struct spec_path){path, plen};
					sp->query_dirs[nqueries] = *dir != 0;
				}
				++nqueries;
			} else {
				return -EINVAL;
			}
		}
		if (!fill) {
			sp->files = calloc(nfiles + 1, sizeof(*sp->files));
			sp->lists = calloc(nfiles + 1, sizeof(*sp->lists));
			sp->repos = calloc(nrepos + 1, sizeof(*sp->repos));
			sp->queries = calloc(nqueries + 1, sizeof(*sp->queries));
			sp->query_dirs = calloc(nqueries + 1, sizeof(*sp->query_dirs));
			if (!sp->files || !sp->lists || !sp->repos || !sp->queries || !sp->query_dirs) {
				return -ENOMEM;
			}
		}
		sp->nfiles = nfiles;
		sp->nrepos = nrepos;
		sp->nqueries = nqueries;
	}
	return 0;
}

int32_t ioq_test_ign(const uint8_t *spec, uint32_t len, int32_t *out, uint32_t out_len) {
	struct spec sp = {0};
	int ret = spec_read(&sp, spec, len);
	if (ret < 0) {
		goto done;
	}
	if (sp.nqueries > out_len / 3) {
		ret = -EINVAL;
		goto done;
	}
	for (size_t i = 0; i < sp.nqueries; ++i) {
		ret = spec_answer(&sp, sp.queries[i].bytes, sp.queries[i].len, sp.query_dirs[i], out + 3 * i);
		if (ret < 0) {
			goto done;
		}
	}
	ret = (int32_t)sp.nqueries;
done:
	for (size_t i = 0; sp.lists && i < sp.nfiles; ++i) {
		ign_free(sp.lists[i]);
	}
	free(sp.files);
	free(sp.lists);
	free(sp.repos);
	free(sp.queries);
	free(sp.query_dirs);
	return ret;
}
