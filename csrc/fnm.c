// SPDX-License-Identifier: 0BSD
/**
 * fnm: compiling globs and matching names against them.
 *
 * A pattern compiles to one of three matchers, the cheapest that can run it:
 *
 *  - pieces: literal pieces between stars (`*.c`, `lib*`, `*test*`, a plain
 *    name): compared at the start and the end of the name, the others
 *    found leftmost first, which is exact for literals and stars;
 *  - steps: a program of one-character steps (a literal run, `?`, a set) and
 *    stars, run with the classic backtracking to the last star only: once
 *    the part after a star has reached the next star, no earlier choice is
 *    tried again.  That is what glibc's fnmatch() does, and it bounds the
 *    work to O(name x pattern);
 *  - nfa: glob()'s groups (braces and extended globs) compile to a Thompson
 *    NFA, with a state for each `!(...)` lookahead.  It is run backwards,
 *    from the end of the name to its start, computing at each position the
 *    set of states from which the rest of the name is accepted: a lookahead
 *    at a position is then known from its body's states at that same
 *    position, so `!(...)` costs no more than the rest, O(name x states).
 *
 * Characters: a valid UTF-8 sequence decodes to its code point; any other
 * byte to RAW + the byte, above every code point, so that it equals only the
 * same stray byte and sorts after every character in a range.
 *
 * Case folding (FNM_ICASE) maps a character to its class's representative
 * (fnm_unicode.h): Unicode simple case folding, the lowercase letter as
 * representative, with no link between ASCII and non-ASCII characters.
 *
 * Where find's dialect departs from GNU find 4.9 on glibc 2.36 (C.UTF-8):
 *
 *  - A name that does not match character by character, glibc tries again
 *    byte by byte, so there `??` matches `é` as well as `?` does; here `?`
 *    is one character.
 *  - glibc matches a name (or pattern) that is not valid UTF-8 byte by byte
 *    as a whole, so `?` matches one byte of `é` in "é\xff" there; here `é`
 *    stays one character and the stray byte one more.
 *  - Ranges compare code points.  glibc's C.UTF-8 has collation values only
 *    for U+0000..U+00FF, so there `[α-ω]` matches nothing, and a range with
 *    an end above U+00FF matches only its first character.
 *  - FNM_ICASE: glibc folds with towlower(), so there ς and σ, µ and μ, ϑ
 *    and θ do not match, and KELVIN SIGN matches k; here the opposite.
 *  - Classes beyond ASCII: alpha and alnum are glibc's; graph, print and
 *    punct count code points glibc leaves unassigned as assigned; upper and
 *    lower hold the letters that have a case mapping (glibc also counts
 *    letters without one, such as ℂ or ª).
 *  - With POSIXLY_CORRECT in its environment, glibc reads `[^a]` as a set
 *    of `^` and `a`; here `^` negates, as find does without it.
 *  - FNM_EXPLICIT_DOT (find does not use FNM_PERIOD): after a leading `*?`,
 *    glibc also refuses a `.` to the element after the `?`, as if it led
 *    the name; here only the name's first character is leading.
 *
 * Where glob()'s dialect departs from the regular expression globToRegExp
 * builds (JavaScript, no u flag):
 *
 *  - Characters are code points, not UTF-16 units: `?` matches an emoji
 *    (two units, which the regular expression needs `??` for), and so does
 *    `[😀]`.
 *  - A stray byte is itself; Deno hands the regular expression U+FFFD in its
 *    place.
 *  - FNM_ICASE folds as above, where JavaScript's /i compares uppercase
 *    forms: here ẞ matches ß, ϴ θ, OHM SIGN ω, ANGSTROM SIGN å, and the
 *    Greek capitals with prosgegrammeni (ᾼ) their small letters (ᾳ); not
 *    there, where one of the two has no uppercase of its own.
 */

#include "fnm.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "fnm_unicode.h"

/** No index. */
#define NONE UINT32_MAX
/** Stray bytes decode to RAW + the byte. */
#define RAW 0x110000u
/** The end of the pattern, for find's parser (NUL is a character). */
#define END UINT32_MAX
/** The longest pattern, in bytes (positions are 32-bit). */
#define MAX_PATTERN (16u << 20)
/** The most NFA states: fnm_match() keeps two bits and two bytes per state on its stack. */
#define MAX_STATES 8192u
/** Set items find's dialect may compile a pattern to, per character (see compile_find()). */
#define MAX_ITEMS_PER_CHAR 64u
/** The longest class name glibc reads in `[[:name:]]` (CHARCLASS_NAME_MAX). */
#define CLASS_NAME_MAX 2048u
/** Every flag. */
#define ALL_FLAGS (FNM_ICASE | FNM_EXPLICIT_DOT | FNM_GLOB | FNM_EXTGLOB)

/** The number of elements of an array. */
#define COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Characters ---- */

/**
 * Decode one character.
 * @param n
 *         The bytes available, at least 1.
 * @param[out] len
 *         Receives the character's length in bytes.
 * @return The code point, or RAW + the byte.
 */
static inline uint32_t decode(const uint8_t *s, size_t n, size_t *len) {
	uint8_t b = s[0];
	if (b < 0x80) {
		*len = 1;
		return b;
	}

	// The allowed range of the second byte excludes overlong forms,
	// surrogates and code points past U+10FFFF
	size_t more;
	uint32_t c;
	uint8_t lo = 0x80, hi = 0xBF;
	if (b >= 0xC2 && b <= 0xDF) {
		more = 1;
		c = b & 0x1F;
	} else if (b >= 0xE0 && b <= 0xEF) {
		more = 2;
		c = b & 0x0F;
		lo = b == 0xE0 ? 0xA0 : 0x80;
		hi = b == 0xED ? 0x9F : 0xBF;
	} else if (b >= 0xF0 && b <= 0xF4) {
		more = 3;
		c = b & 0x07;
		lo = b == 0xF0 ? 0x90 : 0x80;
		hi = b == 0xF4 ? 0x8F : 0xBF;
	} else {
		goto raw;
	}
	if (n <= more || s[1] < lo || s[1] > hi) {
		goto raw;
	}
	for (size_t k = 1; k <= more; ++k) {
		if ((s[k] & 0xC0) != 0x80) {
			goto raw;
		}
		c = (c << 6) | (s[k] & 0x3F);
	}
	*len = more + 1;
	return c;

raw:
	*len = 1;
	return RAW + b;
}

/**
 * Decode the character that ends at `end`, as decode() splits the bytes
 * before it.  A lead byte cannot be inside another sequence, so the first
 * byte back that is not a continuation byte starts the last character if
 * it decodes to exactly the bytes up to `end`; else the last byte is stray.
 */
static uint32_t decode_back(const uint8_t *s, size_t end, size_t *len) {
	for (size_t k = 1; k <= 4 && k <= end; ++k) {
		uint8_t b = s[end - k];
		if ((b & 0xC0) != 0x80) {
			size_t got;
			uint32_t c = decode(s + end - k, k, &got);
			if (got == k) {
				*len = k;
				return c;
			}
			break;
		}
	}
	*len = 1;
	return RAW + s[end - 1];
}

/** @return The length of the character at s[i]. */
static size_t char_len(const uint8_t *s, size_t n, size_t i) {
	if (s[i] < 0x80) {
		return 1;
	}
	size_t len;
	decode(s + i, n - i, &len);
	return len;
}

/** @return The case-fold representative of a character. */
static uint32_t fold(uint32_t c) {
	if (c < 0x80) {
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	}
	size_t lo = 0, hi = COUNTOF(fold_runs);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (fold_runs[mid].last < c) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	if (lo < COUNTOF(fold_runs)) {
		const struct fold_run *r = &fold_runs[lo];
		if (c >= r->first && (c - r->first) % r->stride == 0) {
			return c + r->delta;
		}
	}
	return c;
}

/** @return Whether some other character folds to c. */
static bool fold_target(uint32_t c) {
	if (c < 0x80) {
		return c >= 'a' && c <= 'z';
	}
	for (size_t i = 0; i < COUNTOF(fold_runs); ++i) {
		const struct fold_run *r = &fold_runs[i];
		uint32_t from = c - r->delta;
		if (from >= r->first && from <= r->last && (from - r->first) % r->stride == 0) {
			return true;
		}
	}
	return false;
}

/** POSIX character classes, in `[[:name:]]`. */
enum char_class {
	CLASS_ALNUM,
	CLASS_ALPHA,
	CLASS_BLANK,
	CLASS_CNTRL,
	CLASS_DIGIT,
	CLASS_GRAPH,
	CLASS_LOWER,
	CLASS_PRINT,
	CLASS_PUNCT,
	CLASS_SPACE,
	CLASS_UPPER,
	CLASS_XDIGIT,
};

/** The class names, in enum char_class order. */
static const char *const class_names[] = {
	"alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space", "upper", "xdigit",
};

/** @return The class named by name[0..len), or -1. */
static int class_lookup(const uint32_t *name, size_t len) {
	for (size_t i = 0; i < COUNTOF(class_names); ++i) {
		const char *s = class_names[i];
		size_t j = 0;
		while (j < len && s[j] && name[j] == (unsigned char)s[j]) {
			++j;
		}
		if (j == len && !s[j]) {
			return (int)i;
		}
	}
	return -1;
}

/** @return Whether a non-ASCII character is alphabetic, as glibc's C.UTF-8 has it. */
static bool unicode_alpha(uint32_t c) {
	size_t lo = 0, hi = COUNTOF(alpha_ranges);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (alpha_ranges[mid].last < c) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo < COUNTOF(alpha_ranges) && c >= alpha_ranges[lo].first;
}

/** @return Whether a character is in a class, find's way (see the top of this file). */
static bool in_class(enum char_class cls, uint32_t c) {
	if (c < 0x80) {
		bool upper = c >= 'A' && c <= 'Z';
		bool lower = c >= 'a' && c <= 'z';
		bool digit = c >= '0' && c <= '9';
		bool graph = c >= 0x21 && c <= 0x7E;
		switch (cls) {
		case CLASS_ALNUM:
			return upper || lower || digit;
		case CLASS_ALPHA:
			return upper || lower;
		case CLASS_BLANK:
			return c == ' ' || c == '\t';
		case CLASS_CNTRL:
			return c < 0x20 || c == 0x7F;
		case CLASS_DIGIT:
			return digit;
		case CLASS_GRAPH:
			return graph;
		case CLASS_LOWER:
			return lower;
		case CLASS_PRINT:
			return graph || c == ' ';
		case CLASS_PUNCT:
			return graph && !upper && !lower && !digit;
		case CLASS_SPACE:
			return c == ' ' || (c >= '\t' && c <= '\r');
		case CLASS_UPPER:
			return upper;
		case CLASS_XDIGIT:
			return digit || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
		}
		return false;
	}
	if (c >= RAW) {
		return false;
	}

	bool cntrl = c <= 0x9F || c == 0x2028 || c == 0x2029;
	bool blank = c == 0x1680 || (c >= 0x2000 && c <= 0x200A && c != 0x2007) || c == 0x205F || c == 0x3000;
	bool space = blank || c == 0x2028 || c == 0x2029;
	switch (cls) {
	case CLASS_ALNUM:
	case CLASS_ALPHA:
		return unicode_alpha(c);
	case CLASS_BLANK:
		return blank;
	case CLASS_CNTRL:
		return cntrl;
	case CLASS_DIGIT:
	case CLASS_XDIGIT:
		return false;
	case CLASS_GRAPH:
		return !cntrl && !space;
	case CLASS_LOWER:
		return fold(c) == c && fold_target(c);
	case CLASS_PRINT:
		return !cntrl;
	case CLASS_PUNCT:
		return !cntrl && !space && !unicode_alpha(c);
	case CLASS_SPACE:
		return space;
	case CLASS_UPPER:
		return fold(c) != c;
	}
	return false;
}

/** @return Whether `.` in a JavaScript regular expression skips c (a line terminator). */
static bool js_line_end(uint32_t c) {
	return c == '\n' || c == '\r' || c == 0x2028 || c == 0x2029;
}

/** JavaScript's \s: WhiteSpace and LineTerminator. */
static const struct cp_range js_space[] = {
	{0x09, 0x0D}, {0x20, 0x20}, {0xA0, 0xA0}, {0x1680, 0x1680}, {0x2000, 0x200A},
	{0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}, {0xFEFF, 0xFEFF},
};

/** JavaScript's \w. */
static const struct cp_range js_word[] = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};

/** JavaScript's \d. */
static const struct cp_range js_digit[] = {{'0', '9'}};

/* ---- The compiled form ---- */

/** Which matcher runs a pattern (see the top of this file). */
enum engine {
	ENGINE_PIECES,
	ENGINE_STEPS,
	ENGINE_NFA,
};

/** Where matching goes after a set: a step index, or one of these. */
enum {
	/** The set fails. */
	OUT_FAIL = NONE,
	/** The set's `[` was not a bracket after all: it matches a literal `[`, then goes on at set::literal. */
	OUT_LITERAL = NONE - 1,
	/** The set matches and goes on at its step's next. */
	OUT_NEXT = NONE - 2,
};

/** How a set item tests a character. */
enum item_kind {
	/** Equal to `lo`, both folded under FNM_ICASE. */
	ITEM_CHAR,
	/** Equal to `lo`, never folded (find's `[=c=]` and `[.c.]`). */
	ITEM_EXACT,
	/** Folded under FNM_ICASE, within lo..hi, every `stride`-th. */
	ITEM_RANGE,
	/** In class `lo` (enum char_class), never folded. */
	ITEM_CLASS,
};

/** One test of a set. */
struct item {
	/** An enum item_kind. */
	uint8_t kind;
	/** ITEM_RANGE: 1, or 2 for every other character. */
	uint8_t stride;
	/** The character, range start or class. */
	uint32_t lo;
	/** The range end. */
	uint32_t hi;
	/** Where matching goes if this is the first item to match. */
	uint32_t then;
};

/** A bracket expression: items tried in order. */
struct set {
	/** The first item's index. */
	uint32_t first;
	/** The number of items. */
	uint32_t count;
	/** Where matching goes when no item matches. */
	uint32_t otherwise;
	/** The step after the `[`, for OUT_LITERAL. */
	uint32_t literal;
	/** Whether `ascii` answers for ASCII characters (see set_tables()). */
	bool ascii_ready;
	/** The ASCII characters whose outcome is ascii_hit; the others' is ascii_miss. */
	uint64_t ascii[2];
	uint32_t ascii_hit;
	uint32_t ascii_miss;
};

/** What a step does. */
enum step_kind {
	/** The end of the pattern: matches the end of the name. */
	STEP_END,
	/** Matches nothing (find's trailing backslash, a bracket glibc gives up on). */
	STEP_FAIL,
	/** A literal run of `len` bytes at text + arg. */
	STEP_LIT,
	/** Any character (find's `?`). */
	STEP_ANY,
	/** Any character but a line terminator (glob()'s `?`, JavaScript's `.`). */
	STEP_DOT,
	/** A set (sets[arg]). */
	STEP_SET,
	/** Any run of characters. */
	STEP_STAR,
};

/** How STEP_LIT compares. */
enum lit_mode {
	/** Byte for byte: valid UTF-8, no folding. */
	LIT_BYTES,
	/** Byte for byte, ASCII letters folded: ASCII, under FNM_ICASE. */
	LIT_ASCII_ICASE,
	/** Character by character: stray bytes, or non-ASCII under FNM_ICASE. */
	LIT_CHARS,
};

/** One element of a program. */
struct step {
	/** An enum step_kind. */
	uint8_t kind;
	/** STEP_LIT: an enum lit_mode. */
	uint8_t mode;
	/** The next step. */
	uint32_t next;
	/** STEP_LIT: the byte offset in fnm::text; STEP_SET: the set. */
	uint32_t arg;
	/** STEP_LIT: the length in bytes. */
	uint32_t len;
};

/** What an NFA state does. */
enum state_kind {
	/** Consumes the character `arg` (folded under FNM_ICASE). */
	ST_CHAR,
	/** Consumes a character that is not a line terminator. */
	ST_DOT,
	/** Consumes a character of sets[arg]. */
	ST_SET,
	/** Consumes any character and stays, or goes to `out` consuming nothing. */
	ST_STAR,
	/** Goes to `out` or `alt`, consuming nothing. */
	ST_SPLIT,
	/** Goes to `out` if the lookahead body at `alt` matches no prefix of the rest. */
	ST_NOT,
	/** The end of a lookahead body: accepts whatever follows. */
	ST_TAIL,
	/** The end of the pattern: accepts the end of the name. */
	ST_MATCH,
};

/** One NFA state. */
struct state {
	/** An enum state_kind. */
	uint8_t kind;
	/** How many `!(...)` bodies it is inside. */
	uint16_t depth;
	/** The next state. */
	uint32_t out;
	/** ST_SPLIT: the other next state; ST_NOT: the lookahead body. */
	uint32_t alt;
	/** ST_CHAR: the character; ST_SET: the set. */
	uint32_t arg;
};

/** A literal piece, for ENGINE_PIECES. */
struct piece {
	/** The byte offset in fnm::pieces_text. */
	uint32_t off;
	/** The length in bytes. */
	uint32_t len;
};

struct fnm {
	/** The enum fnm_flags it was compiled with. */
	uint32_t flags;
	/** An enum engine. */
	uint8_t engine;
	/** A copy of the pattern, that literal steps point into. */
	uint8_t *text;

	/** ENGINE_PIECES: the pieces, one more than stars. */
	struct piece *pieces;
	/** ENGINE_PIECES: the number of pieces. */
	uint32_t npieces;
	/** ENGINE_PIECES: their total length. */
	size_t pieces_len;
	/** ENGINE_PIECES: their bytes. */
	uint8_t *pieces_text;

	/** ENGINE_STEPS: the program. */
	struct step *steps;
	/** ENGINE_STEPS: the first step. */
	uint32_t start;
	/** The sets of steps and states. */
	struct set *sets;
	/** The items of the sets. */
	struct item *items;

	/** ENGINE_NFA: the states. */
	struct state *states;
	/** ENGINE_NFA: their number. */
	uint32_t nstates;
	/** ENGINE_NFA: the start state. */
	uint32_t nstart;
	/** ENGINE_NFA: the deepest lookahead nesting. */
	uint32_t max_depth;
	/** ENGINE_NFA: the states with a step into state i, consuming nothing, are preds[pred_first[i]..pred_first[i+1]). */
	uint32_t *pred_first;
	/** ENGINE_NFA: see pred_first. */
	uint32_t *preds;
	/** ENGINE_NFA: the consuming and ST_TAIL states, deepest first; those of depth d are seeds[seed_first[d]..seed_first[d+1]). */
	uint32_t *seeds;
	/** ENGINE_NFA: see seeds. */
	uint32_t *seed_first;
};

/* ---- Building ---- */

/** Grow an array of `size`-byte elements at *(void **)arrp, holding *cap, to hold `want`.  @return 0 or -ENOMEM. */
static int grow(void *arrp, uint32_t *cap, uint32_t want, size_t size) {
	if (want <= *cap) {
		return 0;
	}
	uint32_t ncap = *cap < 16 ? 16 : *cap;
	while (ncap < want) {
		ncap = ncap > UINT32_MAX / 2 ? UINT32_MAX : ncap * 2;
	}
	void *old;
	memcpy(&old, arrp, sizeof(old));
	void *arr = realloc(old, (size_t)ncap * size);
	if (!arr) {
		return -ENOMEM;
	}
	memcpy(arrp, &arr, sizeof(arr));
	*cap = ncap;
	return 0;
}

/** glob()'s syntax tree, between translating a segment and building its matcher. */
enum node_kind {
	/** A character (arg: its index in the pattern). */
	NODE_CHAR,
	/** `?`: any character but a line terminator. */
	NODE_DOT,
	/** A bracket expression (arg: the set). */
	NODE_SET,
	/** `*`. */
	NODE_STAR,
	/** Its children in turn. */
	NODE_SEQ,
	/** One of its children (NODE_SEQs): `@(...)`, `{...}`. */
	NODE_ALT,
	/** Its child (a NODE_ALT) or nothing: `?(...)`. */
	NODE_OPT,
	/** Its child any number of times: `*(...)`. */
	NODE_REPEAT,
	/** Its child once or more: `+(...)`. */
	NODE_REPEAT1,
	/** A position where its child matches no prefix of the rest: `!(...)` (a NODE_STAR follows). */
	NODE_NOT,
};

/** A node of glob()'s syntax tree. */
struct node {
	/** An enum node_kind. */
	uint8_t kind;
	/** See enum node_kind. */
	uint32_t arg;
	/** The first child. */
	uint32_t child;
	/** The last child. */
	uint32_t last;
	/** The next sibling. */
	uint32_t next;
};

/** The state of a compilation. */
struct builder {
	/** The enum fnm_flags. */
	uint32_t flags;
	/** The pattern's characters. */
	uint32_t *cp;
	/** The byte offset of each character, and off[n] = the pattern's length. */
	uint32_t *off;
	/** The number of characters. */
	uint32_t n;

	/** The program. */
	struct step *steps;
	uint32_t nsteps, steps_cap;
	/** Sets and their items. */
	struct set *sets;
	uint32_t nsets, sets_cap;
	struct item *items;
	uint32_t nitems, items_cap;

	/** find: the step compiled from each character position, or NONE. */
	uint32_t *pos_step;
	/** find: the positions left to compile. */
	uint32_t *queue;
	uint32_t queued;

	/** glob: the syntax tree. */
	struct node *nodes;
	uint32_t nnodes, nodes_cap;
	/** glob: a class's regular expression text, and where each character of it comes from. */
	uint32_t *ctext, *cpos;
	uint32_t clen, ccap, cpos_cap;
	/** glob: the NFA. */
	struct state *states;
	uint32_t nstates, states_cap;
	/** glob: scratch for the children of a node being built. */
	uint32_t *stack;
	uint32_t stack_top;

	/** The first error in the pattern, if error_set. */
	struct fnm_error error;
	bool error_set;
};

/** Record an error in the pattern at character position k (the first one wins). */
static void pattern_error(struct builder *b, uint32_t k, const char *msg) {
	if (!b->error_set) {
		b->error.pos = k < b->n ? b->off[k] : b->off[b->n];
		b->error.msg = msg;
		b->error_set = true;
	}
}

/** @return Character k of the pattern, or END. */
static uint32_t at(const struct builder *b, uint32_t k) {
	return k < b->n ? b->cp[k] : END;
}

/** @return c folded if FNM_ICASE is set. */
static uint32_t fold_if(const struct builder *b, uint32_t c) {
	return (b->flags & FNM_ICASE) ? fold(c) : c;
}

/** Add a step.  @return Its index, or NONE (out of memory). */
static uint32_t add_step(struct builder *b, uint8_t kind, uint32_t next) {
	if (grow(&b->steps, &b->steps_cap, b->nsteps + 1, sizeof(*b->steps)) != 0) {
		return NONE;
	}
	b->steps[b->nsteps] = (struct step){.kind = kind, .next = next};
	return b->nsteps++;
}

/**
 * Set a step to a literal run: characters k..j of the pattern, contiguous in
 * its bytes.
 */
static void set_literal(struct builder *b, uint32_t step, uint32_t k, uint32_t j, uint32_t next) {
	bool ascii = true, raw = false;
	for (uint32_t i = k; i < j; ++i) {
		ascii = ascii && b->cp[i] < 0x80;
		raw = raw || b->cp[i] >= RAW;
	}
	uint8_t mode = raw ? LIT_CHARS : LIT_BYTES;
	if (b->flags & FNM_ICASE) {
		mode = ascii ? LIT_ASCII_ICASE : LIT_CHARS;
	}
	b->steps[step] = (struct step){
		.kind = STEP_LIT,
		.mode = mode,
		.next = next,
		.arg = b->off[k],
		.len = b->off[j] - b->off[k],
	};
}

/** Add a set with no items yet.  @return Its index, or NONE. */
static uint32_t add_set(struct builder *b) {
	if (grow(&b->sets, &b->sets_cap, b->nsets + 1, sizeof(*b->sets)) != 0) {
		return NONE;
	}
	b->sets[b->nsets] = (struct set){.first = b->nitems, .otherwise = OUT_FAIL, .literal = NONE};
	return b->nsets++;
}

/** Add an item to the last set.  @return 0 or -ENOMEM. */
static int add_item(struct builder *b, uint8_t kind, uint32_t lo, uint32_t hi, uint8_t stride, uint32_t then) {
	if (grow(&b->items, &b->items_cap, b->nitems + 1, sizeof(*b->items)) != 0) {
		return -ENOMEM;
	}
	b->items[b->nitems++] = (struct item){.kind = kind, .stride = stride, .lo = lo, .hi = hi, .then = then};
	b->sets[b->nsets - 1].count++;
	return 0;
}

/**
 * Which item of a set matches a character first.
 * @return The item's `then`, or the set's `otherwise`.
 */
static uint32_t set_eval(const struct item *items, const struct set *set, bool icase, uint32_t c) {
	uint32_t fc = icase ? fold(c) : c;
	for (uint32_t i = set->first; i < set->first + set->count; ++i) {
		const struct item *it = &items[i];
		bool hit;
		switch (it->kind) {
		case ITEM_CHAR:
			hit = fc == it->lo;
			break;
		case ITEM_EXACT:
			hit = c == it->lo;
			break;
		case ITEM_RANGE:
			hit = fc >= it->lo && fc <= it->hi && (it->stride == 1 || (fc - it->lo) % it->stride == 0);
			break;
		default:
			hit = in_class((enum char_class)it->lo, c);
			break;
		}
		if (hit) {
			return it->then;
		}
	}
	return set->otherwise;
}

/**
 * Where a set sends a character: set_eval(), or for ASCII a bit lookup
 * when set_tables() could make one.
 */
static inline uint32_t set_next(const struct item *items, const struct set *set, bool icase, uint32_t c) {
	if (c < 0x80 && set->ascii_ready) {
		return (set->ascii[c >> 6] >> (c & 63)) & 1 ? set->ascii_hit : set->ascii_miss;
	}
	return set_eval(items, set, icase, c);
}

/** Tabulate the ASCII outcomes of each set that has at most two of them. */
static void set_tables(struct set *sets, uint32_t nsets, const struct item *items, bool icase) {
	for (uint32_t i = 0; i < nsets; ++i) {
		struct set *set = &sets[i];
		set->ascii_miss = set->otherwise;
		set->ascii_hit = set->otherwise;
		bool ready = true;
		for (uint32_t c = 0; c < 0x80 && ready; ++c) {
			uint32_t out = set_eval(items, set, icase, c);
			if (out != set->ascii_miss && set->ascii_hit == set->ascii_miss) {
				set->ascii_hit = out;
			}
			if (out == set->ascii_hit && out != set->ascii_miss) {
				set->ascii[c >> 6] |= (uint64_t)1 << (c & 63);
			} else if (out != set->ascii_miss) {
				ready = false;
			}
		}
		set->ascii_ready = ready;
	}
}

/* ---- find's dialect ---- */

/** Results of following a bracket expression to its end, besides a position. */
enum {
	/** glibc gives up: the bracket matches nothing. */
	BRACKET_ABORT = NONE,
	/** The pattern ends first: the `[` is literal. */
	BRACKET_OPEN = NONE - 1,
};

/**
 * @return The step compiled from position k, adding an empty one and queueing
 *         k if there is none yet; or NONE (out of memory).
 */
static uint32_t find_target(struct builder *b, uint32_t k) {
	if (b->pos_step[k] == NONE) {
		uint32_t step = add_step(b, STEP_FAIL, NONE);
		if (step == NONE) {
			return NONE;
		}
		b->pos_step[k] = step;
		b->queue[b->queued++] = k;
	}
	return b->pos_step[k];
}

/**
 * Skip the rest of a bracket expression after an item matched, from p, as
 * glibc does (which differs from how it reads the items: a `[=` that is not
 * `[=c=]` gives up, `[.` is not checked, a range's end is not special).
 * @return The position after the `]`, BRACKET_ABORT or BRACKET_OPEN.
 */
static uint32_t bracket_skip(const struct builder *b, uint32_t p) {
	for (;;) {
		uint32_t c = at(b, p++);
		if (c == ']') {
			return p;
		} else if (c == END) {
			return BRACKET_OPEN;
		} else if (c == '\\') {
			if (at(b, p) == END) {
				return BRACKET_ABORT;
			}
			++p;
		} else if (c == '[' && at(b, p) == ':') {
			uint32_t start = p;
			for (uint32_t len = 1;; ++len) {
				uint32_t d = at(b, ++p);
				if (len == CLASS_NAME_MAX) {
					return BRACKET_ABORT;
				}
				if (d == ':' && at(b, p + 1) == ']') {
					break;
				}
				if (d < 'a' || d >= 'z') {
					p = start - 2;
					break;
				}
			}
			p += 2;
		} else if (c == '[' && at(b, p) == '=') {
			if (at(b, ++p) == END) {
				return BRACKET_ABORT;
			}
			if (at(b, ++p) != '=' || at(b, p + 1) != ']') {
				return BRACKET_ABORT;
			}
			p += 2;
		} else if (c == '[' && at(b, p) == '.') {
			for (;;) {
				uint32_t d = at(b, ++p);
				if (d == END) {
					return BRACKET_ABORT;
				}
				if (d == '.' && at(b, p + 1) == ']') {
					break;
				}
			}
			p += 2;
		}
	}
}

/**
 * Where matching goes for an end of a bracket expression.
 * @param end
 *         A position after the `]`, BRACKET_ABORT or BRACKET_OPEN.
 * @param matched
 *         Whether an item matched.
 * @param[out] out
 *         Receives a step index, OUT_FAIL or OUT_LITERAL.
 * @return 0 or -ENOMEM.
 */
static int bracket_outcome(struct builder *b, uint32_t end, bool negated, bool matched, uint32_t *out) {
	if (end == BRACKET_ABORT || (end != BRACKET_OPEN && negated == matched)) {
		*out = OUT_FAIL;
	} else if (end == BRACKET_OPEN) {
		*out = OUT_LITERAL;
	} else {
		*out = find_target(b, end);
		if (*out == NONE) {
			return -ENOMEM;
		}
	}
	return 0;
}

/** Add an item whose match skips the rest of the bracket from p.  @return 0 or -ENOMEM. */
static int bracket_item(struct builder *b, uint8_t kind, uint32_t lo, uint32_t hi, bool negated, uint32_t p) {
	uint32_t then;
	if (bracket_outcome(b, bracket_skip(b, p), negated, true, &then) != 0) {
		return -ENOMEM;
	}
	return add_item(b, kind, lo, hi, 1, then);
}

/**
 * Scan a collating symbol `[.x.]` from p (at the `.`), as glibc does.
 * @param[out] end
 *         Receives the position after `.]`.
 * @return The symbol's character, or END if glibc gives up (no `.]`, or a
 *         name that is not one character: the locale defines no others).
 */
static uint32_t collating_symbol(const struct builder *b, uint32_t p, uint32_t *end) {
	uint32_t start = p, len = 0;
	for (;;) {
		uint32_t d = at(b, ++p);
		if (d == '.' && at(b, p + 1) == ']') {
			break;
		}
		if (d == END) {
			return END;
		}
		++len;
	}
	*end = p + 2;
	return len == 1 ? at(b, start + 1) : END;
}

/**
 * Compile the bracket expression at position k into `step`, reading it as
 * glibc 2.36 does, quirks included: which items there are, which one
 * matches first, and how the rest is skipped after it.
 */
static int compile_bracket(struct builder *b, uint32_t k, uint32_t step) {
	uint32_t p = k + 1;
	bool negated = at(b, p) == '!' || at(b, p) == '^';
	if (negated) {
		++p;
	}
	uint32_t set = add_set(b);
	if (set == NONE) {
		return -ENOMEM;
	}
	b->steps[step] = (struct step){.kind = STEP_SET, .next = NONE, .arg = set};

	uint32_t end;
	uint32_t c = at(b, p++);
	for (;;) {
		// A character that may start a range, and whether there is one
		uint32_t lo = 0;
		bool range_start = false;
		bool plain = false;
		if (c == '\\') {
			if (at(b, p) == END) {
				end = BRACKET_ABORT;
				break;
			}
			c = fold_if(b, at(b, p++));
			plain = true;
		} else if (c == '[' && at(b, p) == ':') {
			// A name of letters a..y (so says glibc) up to `:]`; longer
			// than any class, it is not one
			uint32_t name[8];
			uint32_t q = p, len = 0;
			bool is_class = true;
			for (;;) {
				if (len == CLASS_NAME_MAX) {
					end = BRACKET_ABORT;
					goto done;
				}
				uint32_t d = at(b, ++q);
				if (d == ':' && at(b, q + 1) == ']') {
					q += 2;
					break;
				}
				if (d < 'a' || d >= 'z') {
					is_class = false;
					break;
				}
				if (len < COUNTOF(name)) {
					name[len] = d;
				}
				++len;
			}
			if (is_class) {
				int cls = len <= COUNTOF(name) ? class_lookup(name, len) : -1;
				if (cls < 0) {
					end = BRACKET_ABORT;
					break;
				}
				if (bracket_item(b, ITEM_CLASS, (uint32_t)cls, 0, negated, q) != 0) {
					return -ENOMEM;
				}
				p = q;
				c = at(b, p++);
			} else {
				// Not a class: the `[` is a member
				plain = true;
			}
		} else if (c == '[' && at(b, p) == '=') {
			uint32_t sym = at(b, p + 1);
			if (sym != END && at(b, p + 2) == '=' && at(b, p + 3) == ']') {
				if (bracket_item(b, ITEM_EXACT, sym, 0, negated, p + 4) != 0) {
					return -ENOMEM;
				}
				p += 4;
				c = at(b, p++);
			} else {
				plain = true;
			}
		} else if (c == END) {
			end = BRACKET_OPEN;
			break;
		} else if (c == '[' && at(b, p) == '.') {
			uint32_t q;
			uint32_t sym = collating_symbol(b, p, &q);
			if (sym == END) {
				end = BRACKET_ABORT;
				break;
			}
			// A symbol followed by `-` is a range start, even before `]`
			bool is_range = at(b, q) == '-' && at(b, q + 1) != END;
			if (!is_range && bracket_item(b, ITEM_EXACT, sym, 0, negated, q) != 0) {
				return -ENOMEM;
			}
			lo = sym;
			range_start = true;
			p = q;
			c = at(b, p++);
		} else {
			c = fold_if(b, c);
			plain = true;
		}

		if (plain) {
			bool is_range = at(b, p) == '-' && at(b, p + 1) != END && at(b, p + 1) != ']';
			if (!is_range && bracket_item(b, ITEM_CHAR, c, 0, negated, p) != 0) {
				return -ENOMEM;
			}
			lo = c;
			range_start = true;
			c = at(b, p++);
		}

		if (range_start && c == '-' && at(b, p) != ']') {
			uint32_t hi = at(b, p++);
			if (hi == '[' && at(b, p) == '.') {
				hi = collating_symbol(b, p, &p);
				if (hi == END) {
					end = BRACKET_ABORT;
					break;
				}
			} else {
				if (hi == '\\') {
					hi = at(b, p++);
				}
				if (hi == END) {
					end = BRACKET_ABORT;
					break;
				}
				hi = fold_if(b, hi);
			}
			if (lo <= hi && bracket_item(b, ITEM_RANGE, lo, hi, negated, p) != 0) {
				return -ENOMEM;
			}
			c = at(b, p++);
		}

		if (c == ']') {
			end = p;
			break;
		}
	}
done:;
	uint32_t otherwise;
	if (bracket_outcome(b, end, negated, false, &otherwise) != 0) {
		return -ENOMEM;
	}
	b->sets[set].otherwise = otherwise;

	// Does any outcome take the `[` literally, or go on past a `]`?
	const struct set *s = &b->sets[set];
	bool literal = otherwise == OUT_LITERAL, passes = false;
	for (uint32_t i = s->first; i < s->first + s->count; ++i) {
		literal = literal || b->items[i].then == OUT_LITERAL;
		passes = passes || b->items[i].then < OUT_NEXT;
	}
	if (end == BRACKET_OPEN && !passes) {
		// No `]`: only a `[` can match, taken literally unless an item
		// matching it first makes glibc give up, so a step that is not a
		// set will do
		bool open = set_eval(b->items, s, b->flags & FNM_ICASE, '[') == OUT_LITERAL;
		b->nitems = s->first;
		b->nsets = set;
		if (!open) {
			b->steps[step] = (struct step){.kind = STEP_FAIL, .next = NONE};
			return 0;
		}
		uint32_t next = find_target(b, k + 1);
		if (next == NONE) {
			return -ENOMEM;
		}
		set_literal(b, step, k, k + 1, next);
		return 0;
	}
	if (literal) {
		uint32_t next = find_target(b, k + 1);
		if (next == NONE) {
			return -ENOMEM;
		}
		b->sets[set].literal = next;
	}
	return 0;
}

/** Compile the element at position k into its step. */
static int compile_find_at(struct builder *b, uint32_t k) {
	uint32_t step = b->pos_step[k];
	uint32_t c = at(b, k);
	uint32_t next;
	switch (c) {
	case END:
		b->steps[step].kind = STEP_END;
		return 0;
	case '*': {
		uint32_t j = k;
		while (at(b, j) == '*') {
			++j;
		}
		next = find_target(b, j);
		if (next == NONE) {
			return -ENOMEM;
		}
		b->steps[step] = (struct step){.kind = STEP_STAR, .next = next};
		return 0;
	}
	case '?':
		next = find_target(b, k + 1);
		if (next == NONE) {
			return -ENOMEM;
		}
		b->steps[step] = (struct step){.kind = STEP_ANY, .next = next};
		return 0;
	case '\\':
		// A trailing backslash matches nothing
		if (at(b, k + 1) == END) {
			b->steps[step] = (struct step){.kind = STEP_FAIL, .next = NONE};
			return 0;
		}
		next = find_target(b, k + 2);
		if (next == NONE) {
			return -ENOMEM;
		}
		set_literal(b, step, k + 1, k + 2, next);
		return 0;
	case '[':
		return compile_bracket(b, k, step);
	default: {
		uint32_t j = k;
		while (j < b->n && (c = b->cp[j]) != '*' && c != '?' && c != '\\' && c != '[') {
			++j;
		}
		next = find_target(b, j);
		if (next == NONE) {
			return -ENOMEM;
		}
		set_literal(b, step, k, j, next);
		return 0;
	}
	}
}

/**
 * Compile find's dialect: one step per position a match can reach, each
 * compiled from the position on (a bracket that glibc reads one way and
 * skips another can go on at more than one place).
 */
static int compile_find(struct builder *b) {
	b->pos_step = malloc(((size_t)b->n + 1) * sizeof(*b->pos_step));
	b->queue = malloc(((size_t)b->n + 1) * sizeof(*b->queue));
	if (!b->pos_step || !b->queue) {
		return -ENOMEM;
	}
	for (uint32_t k = 0; k <= b->n; ++k) {
		b->pos_step[k] = NONE;
	}
	if (find_target(b, 0) == NONE) {
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < b->queued; ++i) {
		int ret = compile_find_at(b, b->queue[i]);
		if (ret != 0) {
			return ret;
		}
		// Brackets that glibc skips otherwise than it reads them can make a
		// pattern compile from inside its own brackets, a set per place
		if (b->nitems > MAX_ITEMS_PER_CHAR * ((size_t)b->n + 16)) {
			pattern_error(b, b->queue[i], "pattern too complex");
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- glob()'s dialect ---- */

/** globToRegExp's class names and the regular expression text each becomes. */
static const struct {
	const char *name;
	const char *text;
	uint8_t len;
} glob_classes[] = {
#define GLOB_CLASS(name, text) {name, text, sizeof(text) - 1}
	GLOB_CLASS("alnum", "\\dA-Za-z"),
	GLOB_CLASS("alpha", "A-Za-z"),
	GLOB_CLASS("ascii", "\0-\x7f"),
	GLOB_CLASS("blank", "\t "),
	GLOB_CLASS("cntrl", "\0-\x1f\x7f"),
	GLOB_CLASS("digit", "\\d"),
	GLOB_CLASS("graph", "!-~"),
	GLOB_CLASS("lower", "a-z"),
	GLOB_CLASS("print", " -~"),
	// Its ‘ (U+2018) stands where ` would be
	GLOB_CLASS("punct", "!\"#$%&'()*+,\\-./:;<=>?@[\\\\\\]^_\xe2\x80\x98{|}~"),
	GLOB_CLASS("space", "\\s\\v"),
	GLOB_CLASS("upper", "A-Z"),
	GLOB_CLASS("word", "\\w"),
	GLOB_CLASS("xdigit", "\\dA-Fa-f"),
#undef GLOB_CLASS
};

/** Add a node.  @return Its index, or NONE. */
static uint32_t add_node(struct builder *b, uint8_t kind, uint32_t arg) {
	if (grow(&b->nodes, &b->nodes_cap, b->nnodes + 1, sizeof(*b->nodes)) != 0) {
		return NONE;
	}
	b->nodes[b->nnodes] = (struct node){.kind = kind, .arg = arg, .child = NONE, .last = NONE, .next = NONE};
	return b->nnodes++;
}

/** Make a node the last child of `parent`. */
static void append_child(struct builder *b, uint32_t parent, uint32_t node) {
	struct node *p = &b->nodes[parent];
	if (p->last == NONE) {
		p->child = node;
	} else {
		b->nodes[p->last].next = node;
	}
	p->last = node;
}

/** Add a node as the last child of `parent`.  @return Its index, or NONE. */
static uint32_t add_child(struct builder *b, uint32_t parent, uint8_t kind, uint32_t arg) {
	uint32_t node = add_node(b, kind, arg);
	if (node != NONE) {
		append_child(b, parent, node);
	}
	return node;
}

/** Append a character to a class's regular expression text, from position k.  @return 0 or -ENOMEM. */
static int class_push(struct builder *b, uint32_t c, uint32_t k) {
	if (grow(&b->ctext, &b->ccap, b->clen + 1, sizeof(*b->ctext)) != 0
	    || grow(&b->cpos, &b->cpos_cap, b->clen + 1, sizeof(*b->cpos)) != 0) {
		return -ENOMEM;
	}
	b->ctext[b->clen] = c;
	b->cpos[b->clen++] = k;
	return 0;
}

/** Add a range to the last set, with its case partners under FNM_ICASE.  @return 0 or -ENOMEM. */
static int class_range(struct builder *b, uint32_t lo, uint32_t hi, uint32_t then) {
	if (add_item(b, ITEM_RANGE, lo, hi, 1, then) != 0) {
		return -ENOMEM;
	}
	if (!(b->flags & FNM_ICASE)) {
		return 0;
	}
	// A character matches if its fold equals the fold of a member: the
	// range itself holds the members that are their own fold, and the folds
	// of the others are added as ranges
	static const struct fold_run ascii = {'A', 'Z', 32, 1};
	for (size_t i = 0; i <= COUNTOF(fold_runs); ++i) {
		const struct fold_run *r = i == 0 ? &ascii : &fold_runs[i - 1];
		uint32_t first = lo > r->first ? lo : r->first;
		uint32_t last = hi < r->last ? hi : r->last;
		if (first > last) {
			continue;
		}
		first += (r->stride - (first - r->first) % r->stride) % r->stride;
		if (first > last) {
			continue;
		}
		if (add_item(b, ITEM_RANGE, first + r->delta, last + r->delta, (uint8_t)r->stride, then) != 0) {
			return -ENOMEM;
		}
	}
	return 0;
}

/** Add a JavaScript class escape's ranges to the last set.  @return 0 or -ENOMEM. */
static int class_escape(struct builder *b, const struct cp_range *ranges, size_t count, uint32_t then) {
	for (size_t i = 0; i < count; ++i) {
		if (class_range(b, ranges[i].first, ranges[i].last, then) != 0) {
			return -ENOMEM;
		}
	}
	return 0;
}

/** One atom of a regular expression class: a character, or a class escape. */
struct class_atom {
	/** The character, if `ranges` is NULL. */
	uint32_t c;
	/** The ranges of \d, \s or \w. */
	const struct cp_range *ranges;
	/** Their number. */
	size_t count;
	/** Where in the pattern it comes from. */
	uint32_t pos;
};

/** Read an atom of the class text at *j. */
static struct class_atom class_atom(const struct builder *b, uint32_t *j) {
	struct class_atom atom = {.c = b->ctext[*j], .pos = b->cpos[*j]};
	if (atom.c == '\\' && *j + 1 < b->clen) {
		uint32_t e = b->ctext[*j + 1];
		*j += 2;
		atom.c = e;
		if (e == 'd') {
			atom.ranges = js_digit;
			atom.count = COUNTOF(js_digit);
		} else if (e == 's') {
			atom.ranges = js_space;
			atom.count = COUNTOF(js_space);
		} else if (e == 'w') {
			atom.ranges = js_word;
			atom.count = COUNTOF(js_word);
		} else if (e == 'v') {
			atom.c = '\v';
		}
		return atom;
	}
	*j += 1;
	return atom;
}

/** Add an atom to the last set.  @return 0 or -ENOMEM. */
static int class_add_atom(struct builder *b, struct class_atom atom, uint32_t then) {
	if (atom.ranges) {
		return class_escape(b, atom.ranges, atom.count, then);
	}
	return add_item(b, ITEM_CHAR, fold_if(b, atom.c), 0, 1, then);
}

/**
 * Build a set from the regular expression text of a class that
 * globToRegExp writes (b->ctext), by JavaScript's rules without the u flag:
 * a leading `^` negates, `a-z` is a range (out of order: an error), a range
 * with a class escape at either end is the escape, `-` and the other end.
 * @param negated
 *         Whether the glob's bracket started with `!`.
 * @param[out] set
 *         Receives the set.
 */
static int glob_class(struct builder *b, bool negated, uint32_t *set) {
	uint32_t j = 0;
	if (!negated && b->clen > 0 && b->ctext[0] == '^') {
		negated = true;
		j = 1;
	}
	*set = add_set(b);
	if (*set == NONE) {
		return -ENOMEM;
	}
	uint32_t then = negated ? OUT_FAIL : OUT_NEXT;
	b->sets[*set].otherwise = negated ? OUT_NEXT : OUT_FAIL;

	while (j < b->clen) {
		struct class_atom a = class_atom(b, &j);
		if (j + 1 < b->clen && b->ctext[j] == '-') {
			++j;
			struct class_atom z = class_atom(b, &j);
			if (!a.ranges && !z.ranges) {
				if (a.c > z.c) {
					pattern_error(b, a.pos, "range out of order in character class");
				} else if (class_range(b, a.c, z.c, then) != 0) {
					return -ENOMEM;
				}
				continue;
			}
			struct class_atom dash = {.c = '-'};
			if (class_add_atom(b, a, then) != 0 || class_add_atom(b, dash, then) != 0 || class_add_atom(b, z, then) != 0) {
				return -ENOMEM;
			}
			continue;
		}
		if (class_add_atom(b, a, then) != 0) {
			return -ENOMEM;
		}
	}
	return 0;
}

/** An open group of glob()'s translation. */
struct group {
	/** Its opening character (`?`, `*`, `+`, `@`, `!`), or `{`. */
	uint32_t type;
	/** Its NODE_ALT. */
	uint32_t alt;
	/** The sequence it sits in. */
	uint32_t parent;
};

/**
 * Translate a segment as @std/path globToRegExp does
 * (_common/glob_to_reg_exp.ts), into a syntax tree rooted at *root.
 * @param[out] grouped
 *         Whether it has groups (else it is a plain sequence).
 */
static int glob_translate(struct builder *b, uint32_t *root, bool *grouped) {
	bool extended = b->flags & FNM_EXTGLOB;
	struct group *groups = malloc(((size_t)b->n + 1) * sizeof(*groups));
	if (!groups) {
		return -ENOMEM;
	}
	uint32_t ngroups = 0;
	int ret = -ENOMEM;
	*grouped = false;
	*root = add_node(b, NODE_SEQ, 0);
	if (*root == NONE) {
		goto out;
	}
	uint32_t seq = *root;
	bool in_range = false, in_escape = false, class_negated = false;

	for (uint32_t i = 0; i < b->n; ++i) {
		uint32_t c = b->cp[i];
		uint32_t next = at(b, i + 1);
		uint32_t top = ngroups > 0 ? groups[ngroups - 1].type : 0;
		bool in_group = ngroups > 0 && top != '{';

		if (in_escape) {
			in_escape = false;
			if (in_range) {
				if ((c == '-' || c == '\\' || c == ']') && class_push(b, '\\', i) != 0) {
					goto out;
				}
				if (class_push(b, c, i) != 0) {
					goto out;
				}
			} else if (add_child(b, seq, NODE_CHAR, i) == NONE) {
				goto out;
			}
			continue;
		}
		if (c == '\\') {
			in_escape = true;
			continue;
		}
		if (c == '[') {
			if (!in_range) {
				in_range = true;
				b->clen = 0;
				class_negated = false;
				if (next == '!') {
					++i;
					class_negated = true;
				} else if (next == '^') {
					++i;
					if (class_push(b, '\\', i) != 0 || class_push(b, '^', i) != 0) {
						goto out;
					}
				}
				continue;
			} else if (next == ':') {
				uint32_t k = i + 1;
				while (k + 1 < b->n && b->cp[k + 1] != ':') {
					++k;
				}
				if (at(b, k + 1) == ':' && at(b, k + 2) == ']') {
					// The name is cp[i + 2 .. k]; unknown names add nothing
					for (size_t g = 0; g < COUNTOF(glob_classes); ++g) {
						const char *name = glob_classes[g].name;
						uint32_t len = (uint32_t)strlen(name);
						uint32_t m = 0;
						while (m < len && i + 2 + m <= k && b->cp[i + 2 + m] == (unsigned char)name[m]) {
							++m;
						}
						if (m != len || i + 2 + len != k + 1) {
							continue;
						}
						const uint8_t *text = (const uint8_t *)glob_classes[g].text;
						for (size_t t = 0; t < glob_classes[g].len;) {
							size_t clen;
							if (class_push(b, decode(text + t, glob_classes[g].len - t, &clen), i) != 0) {
								goto out;
							}
							t += clen;
						}
					}
					i = k + 2;
					continue;
				}
			}
		}
		if (c == ']' && in_range) {
			in_range = false;
			uint32_t set;
			if (glob_class(b, class_negated, &set) != 0 || add_child(b, seq, NODE_SET, set) == NONE) {
				goto out;
			}
			continue;
		}
		if (in_range) {
			if (class_push(b, c, i) != 0) {
				goto out;
			}
			continue;
		}
		if (c == ')' && in_group) {
			struct group g = groups[--ngroups];
			seq = g.parent;
			uint32_t node = g.alt;
			if (g.type != '@') {
				uint8_t kind = g.type == '?' ? NODE_OPT : g.type == '*' ? NODE_REPEAT : g.type == '+' ? NODE_REPEAT1 : NODE_NOT;
				node = add_node(b, kind, 0);
				if (node == NONE) {
					goto out;
				}
				append_child(b, node, g.alt);
			}
			append_child(b, seq, node);
			// `!(...)` is a lookahead, then `[^/]*`
			if (g.type == '!' && add_child(b, seq, NODE_STAR, 0) == NONE) {
				goto out;
			}
			continue;
		}
		if ((c == '|' && in_group) || (c == ',' && top == '{')) {
			seq = add_child(b, groups[ngroups - 1].alt, NODE_SEQ, 0);
			if (seq == NONE) {
				goto out;
			}
			continue;
		}
		bool opens = extended && next == '(' && (c == '?' || c == '*' || c == '+' || c == '@' || c == '!');
		if (opens || c == '{') {
			uint32_t alt = add_node(b, NODE_ALT, 0);
			if (alt == NONE) {
				goto out;
			}
			groups[ngroups++] = (struct group){.type = opens ? c : '{', .alt = alt, .parent = seq};
			seq = add_child(b, alt, NODE_SEQ, 0);
			if (seq == NONE) {
				goto out;
			}
			*grouped = true;
			if (opens) {
				++i;
			}
			continue;
		}
		if (c == '}' && top == '{') {
			struct group g = groups[--ngroups];
			seq = g.parent;
			append_child(b, seq, g.alt);
			continue;
		}
		if (c == '?') {
			if (add_child(b, seq, NODE_DOT, 0) == NONE) {
				goto out;
			}
			continue;
		}
		if (c == '*') {
			while (at(b, i + 1) == '*') {
				++i;
			}
			if (add_child(b, seq, NODE_STAR, 0) == NONE) {
				goto out;
			}
			continue;
		}
		if (add_child(b, seq, NODE_CHAR, i) == NONE) {
			goto out;
		}
	}

	if (ngroups > 0 || in_range || in_escape) {
		// An unclosed group, bracket or escape: the whole segment is literal
		b->error_set = false;
		b->nnodes = 0;
		*grouped = false;
		*root = add_node(b, NODE_SEQ, 0);
		if (*root == NONE) {
			goto out;
		}
		for (uint32_t i = 0; i < b->n; ++i) {
			if (add_child(b, *root, NODE_CHAR, i) == NONE) {
				goto out;
			}
		}
	}
	ret = b->error_set ? -EINVAL : 0;
out:
	free(groups);
	return ret;
}

/** Compile a plain sequence (no groups) into steps. */
static int glob_steps(struct builder *b, uint32_t root) {
	for (uint32_t node = b->nodes[root].child; node != NONE;) {
		const struct node *nd = &b->nodes[node];
		uint32_t step = add_step(b, STEP_FAIL, b->nsteps + 1);
		if (step == NONE) {
			return -ENOMEM;
		}
		switch (nd->kind) {
		case NODE_CHAR: {
			// Characters next to each other in the pattern make one run
			uint32_t k = nd->arg, j = k + 1;
			node = nd->next;
			while (node != NONE && b->nodes[node].kind == NODE_CHAR && b->nodes[node].arg == j) {
				++j;
				node = b->nodes[node].next;
			}
			set_literal(b, step, k, j, step + 1);
			continue;
		}
		case NODE_DOT:
			b->steps[step].kind = STEP_DOT;
			break;
		case NODE_SET:
			b->steps[step].kind = STEP_SET;
			b->steps[step].arg = nd->arg;
			break;
		default:
			b->steps[step].kind = STEP_STAR;
			break;
		}
		node = nd->next;
	}
	return add_step(b, STEP_END, NONE) == NONE ? -ENOMEM : 0;
}

/** Add an NFA state.  @return Its index, or NONE (out of memory, or too many). */
static uint32_t add_state(struct builder *b, uint8_t kind, uint32_t depth, uint32_t out, uint32_t alt, uint32_t arg) {
	if (b->nstates >= MAX_STATES) {
		pattern_error(b, 0, "too many groups and alternatives to match");
		return NONE;
	}
	if (grow(&b->states, &b->states_cap, b->nstates + 1, sizeof(*b->states)) != 0) {
		return NONE;
	}
	b->states[b->nstates] = (struct state){.kind = kind, .depth = (uint16_t)depth, .out = out, .alt = alt, .arg = arg};
	return b->nstates++;
}

/**
 * Build the states for a node, to go on at `next`.
 * @return The node's entry state, or NONE.
 */
static uint32_t nfa_build(struct builder *b, uint32_t node, uint32_t next, uint32_t depth) {
	const struct node nd = b->nodes[node];
	switch (nd.kind) {
	case NODE_CHAR:
		return add_state(b, ST_CHAR, depth, next, NONE, fold_if(b, b->cp[nd.arg]));
	case NODE_DOT:
		return add_state(b, ST_DOT, depth, next, NONE, 0);
	case NODE_SET:
		return add_state(b, ST_SET, depth, next, NONE, nd.arg);
	case NODE_STAR:
		return add_state(b, ST_STAR, depth, next, NONE, 0);
	case NODE_SEQ:
	case NODE_ALT: {
		// Children are built last to first, each going on at the one after
		uint32_t base = b->stack_top;
		for (uint32_t child = nd.child; child != NONE; child = b->nodes[child].next) {
			b->stack[b->stack_top++] = child;
		}
		uint32_t entry = next;
		for (uint32_t i = b->stack_top; i-- > base;) {
			uint32_t e = nfa_build(b, b->stack[i], next, depth);
			if (e == NONE) {
				return NONE;
			}
			if (nd.kind == NODE_SEQ) {
				next = e;
				entry = e;
			} else {
				entry = i == b->stack_top - 1 ? e : add_state(b, ST_SPLIT, depth, e, entry, 0);
			}
			if (entry == NONE) {
				return NONE;
			}
		}
		b->stack_top = base;
		return entry;
	}
	case NODE_OPT: {
		uint32_t body = nfa_build(b, nd.child, next, depth);
		return body == NONE ? NONE : add_state(b, ST_SPLIT, depth, body, next, 0);
	}
	case NODE_REPEAT:
	case NODE_REPEAT1: {
		uint32_t loop = add_state(b, ST_SPLIT, depth, NONE, next, 0);
		if (loop == NONE) {
			return NONE;
		}
		uint32_t body = nfa_build(b, nd.child, loop, depth);
		if (body == NONE) {
			return NONE;
		}
		b->states[loop].out = body;
		return nd.kind == NODE_REPEAT ? loop : body;
	}
	default: {
		uint32_t tail = add_state(b, ST_TAIL, depth + 1, NONE, NONE, 0);
		if (tail == NONE) {
			return NONE;
		}
		uint32_t body = nfa_build(b, nd.child, tail, depth + 1);
		return body == NONE ? NONE : add_state(b, ST_NOT, depth, next, body, 0);
	}
	}
}

/** Build the NFA of a syntax tree, and the tables fnm_match() walks it with. */
static int glob_nfa(struct builder *b, struct fnm *f, uint32_t root) {
	b->stack = malloc(((size_t)b->nnodes + 1) * sizeof(*b->stack));
	if (!b->stack) {
		return -ENOMEM;
	}
	uint32_t match = add_state(b, ST_MATCH, 0, NONE, NONE, 0);
	uint32_t start = match == NONE ? NONE : nfa_build(b, root, match, 0);
	if (start == NONE) {
		return -ENOMEM;
	}

	uint32_t m = b->nstates;
	uint32_t max_depth = 0;
	for (uint32_t s = 0; s < m; ++s) {
		max_depth = b->states[s].depth > max_depth ? b->states[s].depth : max_depth;
	}
	f->states = b->states;
	b->states = NULL;
	f->nstates = m;
	f->nstart = start;
	f->max_depth = max_depth;
	f->pred_first = calloc((size_t)m + 1, sizeof(*f->pred_first));
	f->seed_first = calloc((size_t)max_depth + 2, sizeof(*f->seed_first));
	f->preds = malloc((size_t)m * 2 * sizeof(*f->preds) + 1);
	f->seeds = malloc((size_t)m * sizeof(*f->seeds) + 1);
	if (!f->pred_first || !f->seed_first || !f->preds || !f->seeds) {
		return -ENOMEM;
	}

	// Steps that consume nothing, reversed: SPLIT to out and alt, STAR and
	// NOT to out (a NOT's body is not followed, only looked up)
	for (uint32_t s = 0; s < m; ++s) {
		const struct state *st = &f->states[s];
		if (st->kind == ST_SPLIT) {
			f->pred_first[st->alt + 1]++;
		}
		if (st->kind == ST_SPLIT || st->kind == ST_STAR || st->kind == ST_NOT) {
			f->pred_first[st->out + 1]++;
		}
	}
	for (uint32_t s = 0; s < m; ++s) {
		f->pred_first[s + 1] += f->pred_first[s];
	}
	uint32_t *fill = malloc(((size_t)m + 1) * sizeof(*fill));
	if (!fill) {
		return -ENOMEM;
	}
	memcpy(fill, f->pred_first, (size_t)m * sizeof(*fill));
	for (uint32_t s = 0; s < m; ++s) {
		const struct state *st = &f->states[s];
		if (st->kind == ST_SPLIT) {
			f->preds[fill[st->alt]++] = s;
		}
		if (st->kind == ST_SPLIT || st->kind == ST_STAR || st->kind == ST_NOT) {
			f->preds[fill[st->out]++] = s;
		}
	}
	free(fill);

	// Seeds, grouped by depth, deepest first
	uint32_t nseeds = 0;
	for (uint32_t d = max_depth + 1; d-- > 0;) {
		f->seed_first[max_depth - d] = nseeds;
		for (uint32_t s = 0; s < m; ++s) {
			const struct state *st = &f->states[s];
			if (st->depth == d && st->kind != ST_SPLIT && st->kind != ST_NOT && st->kind != ST_MATCH) {
				f->seeds[nseeds++] = s;
			}
		}
	}
	f->seed_first[max_depth + 1] = nseeds;
	return 0;
}

/** Compile glob()'s dialect. */
static int compile_glob(struct builder *b, struct fnm *f) {
	if (b->n == 0) {
		// globToRegExp("") matches nothing
		return add_step(b, STEP_FAIL, NONE) == NONE ? -ENOMEM : 0;
	}
	uint32_t root;
	bool grouped;
	int ret = glob_translate(b, &root, &grouped);
	if (ret != 0) {
		return ret;
	}
	if (grouped) {
		f->engine = ENGINE_NFA;
		return glob_nfa(b, f, root);
	}
	return glob_steps(b, root);
}

/* ---- Pieces ---- */

/**
 * Turn a program of literal runs (compared byte for byte) and stars into
 * pieces, if it is one.  @return 0 (f->engine says which), or -ENOMEM.
 */
static int make_pieces(struct fnm *f) {
	uint32_t npieces = 1;
	size_t total = 0;
	for (uint32_t s = f->start;; s = f->steps[s].next) {
		const struct step *st = &f->steps[s];
		if (st->kind == STEP_END) {
			break;
		} else if (st->kind == STEP_STAR) {
			++npieces;
		} else if (st->kind == STEP_LIT && st->mode != LIT_CHARS) {
			total += st->len;
		} else {
			return 0;
		}
	}

	f->pieces = calloc(npieces, sizeof(*f->pieces));
	f->pieces_text = malloc(total + 1);
	if (!f->pieces || !f->pieces_text) {
		return -ENOMEM;
	}
	uint32_t piece = 0;
	size_t len = 0;
	for (uint32_t s = f->start; f->steps[s].kind != STEP_END; s = f->steps[s].next) {
		const struct step *st = &f->steps[s];
		if (st->kind == STEP_STAR) {
			f->pieces[++piece].off = (uint32_t)len;
			continue;
		}
		memcpy(f->pieces_text + len, f->text + st->arg, st->len);
		len += st->len;
		f->pieces[piece].len += st->len;
	}
	f->npieces = npieces;
	f->pieces_len = total;
	f->engine = ENGINE_PIECES;
	return 0;
}

/* ---- Matching ---- */

/** @return Whether s[0..len) equals t[0..len), ignoring ASCII case if icase. */
static inline bool bytes_eq(const uint8_t *s, const uint8_t *t, size_t len, bool icase) {
	// Names are short: a loop beats a call to memcmp() below 16 bytes
	if (!icase && len >= 16) {
		return memcmp(s, t, len) == 0;
	}
	for (size_t i = 0; i < len; ++i) {
		uint8_t a = s[i], z = t[i];
		if (icase) {
			a = a >= 'A' && a <= 'Z' ? a + 32 : a;
			z = z >= 'A' && z <= 'Z' ? z + 32 : z;
		}
		if (a != z) {
			return false;
		}
	}
	return true;
}

/**
 * @return The first place in s[from..to) holding t[0..len), or SIZE_MAX;
 *         counting the places tried in *work.  (memmem() costs more to set
 *         up than a name takes to scan.)
 */
static size_t piece_find(const uint8_t *s, size_t from, size_t to, const uint8_t *t, size_t len, bool icase, uint64_t *work) {
	if (len == 0) {
		return from;
	}
	for (size_t i = from; i + len <= to; ++i) {
		if (!icase) {
			const uint8_t *hit = memchr(s + i, t[0], to - len + 1 - i);
			if (!hit) {
				break;
			}
			i = (size_t)(hit - s);
		}
		++*work;
		if (bytes_eq(s + i, t, len, icase)) {
			return i;
		}
	}
	return SIZE_MAX;
}

/** Match with ENGINE_PIECES, counting steps in *work. */
static bool match_pieces(const struct fnm *f, const uint8_t *s, size_t n, uint64_t *work) {
	const struct piece *p = f->pieces;
	const uint8_t *t = f->pieces_text;
	bool icase = f->flags & FNM_ICASE;
	uint32_t last = f->npieces - 1;
	++*work;
	if (last == 0) {
		return n == p[0].len && bytes_eq(s, t, n, icase);
	}
	if (n < f->pieces_len) {
		return false;
	}
	// A leading star cannot match a leading dot
	if ((f->flags & FNM_EXPLICIT_DOT) && p[0].len == 0 && n > 0 && s[0] == '.') {
		return false;
	}
	if (!bytes_eq(s, t, p[0].len, icase) || !bytes_eq(s + n - p[last].len, t + p[last].off, p[last].len, icase)) {
		return false;
	}
	size_t from = p[0].len, to = n - p[last].len;
	for (uint32_t i = 1; i < last; ++i) {
		size_t hit = piece_find(s, from, to, t + p[i].off, p[i].len, icase, work);
		if (hit == SIZE_MAX) {
			return false;
		}
		from = hit + p[i].len;
	}
	return true;
}

/** Match a literal step at *i, moving *i past it.  @return Whether it matched. */
static bool match_literal(const struct fnm *f, const struct step *st, const uint8_t *s, size_t n, size_t *i) {
	const uint8_t *t = f->text + st->arg;
	if (st->mode != LIT_CHARS) {
		if (n - *i < st->len || !bytes_eq(s + *i, t, st->len, st->mode == LIT_ASCII_ICASE)) {
			return false;
		}
		*i += st->len;
		return true;
	}

	bool icase = f->flags & FNM_ICASE;
	size_t j = *i;
	for (size_t k = 0; k < st->len;) {
		if (j == n) {
			return false;
		}
		size_t plen, nlen;
		uint32_t pc = decode(t + k, st->len - k, &plen);
		uint32_t nc = decode(s + j, n - j, &nlen);
		if (icase ? fold(pc) != fold(nc) : pc != nc) {
			return false;
		}
		k += plen;
		j += nlen;
	}
	*i = j;
	return true;
}

/** Match with ENGINE_STEPS, counting steps in *work. */
static bool match_steps(const struct fnm *f, const uint8_t *s, size_t n, uint64_t *work) {
	const struct step *steps = f->steps;
	bool icase = f->flags & FNM_ICASE;
	bool dot = (f->flags & FNM_EXPLICIT_DOT) && n > 0 && s[0] == '.';
	uint64_t count = 0;
	uint32_t k = f->start;
	size_t i = 0;
	// The step after the last star, and where the star's run ends
	uint32_t star = NONE;
	size_t star_end = 0;
	bool matched;

	for (;;) {
		++count;
		const struct step *st = &steps[k];
		switch (st->kind) {
		case STEP_END:
			if (i == n) {
				matched = true;
				goto out;
			}
			break;
		case STEP_FAIL:
			break;
		case STEP_STAR:
			if (dot && i == 0) {
				matched = false;
				goto out;
			}
			k = st->next;
			if (steps[k].kind == STEP_END) {
				matched = true;
				goto out;
			}
			if (steps[k].kind == STEP_LIT && steps[k].mode != LIT_CHARS && steps[steps[k].next].kind == STEP_END) {
				// Only the end of the name can match a last literal
				const struct step *lit = &steps[k];
				matched = n - i >= lit->len && bytes_eq(s + n - lit->len, f->text + lit->arg, lit->len, lit->mode == LIT_ASCII_ICASE);
				goto out;
			}
			star = k;
			star_end = i;
			continue;
		case STEP_LIT:
			if (match_literal(f, st, s, n, &i)) {
				k = st->next;
				continue;
			}
			break;
		default: {
			if (i == n || (dot && i == 0)) {
				break;
			}
			size_t len;
			uint32_t c = decode(s + i, n - i, &len);
			uint32_t next = st->next;
			if (st->kind == STEP_DOT && js_line_end(c)) {
				break;
			} else if (st->kind == STEP_SET) {
				const struct set *set = &f->sets[st->arg];
				next = set_next(f->items, set, icase, c);
				if (next == OUT_NEXT) {
					next = st->next;
				} else if (next == OUT_LITERAL) {
					if (c != '[') {
						break;
					}
					next = set->literal;
				} else if (next == OUT_FAIL) {
					break;
				}
			}
			i += len;
			k = next;
			continue;
		}
		}

		// No match from here: let the last star take one more character
		if (star == NONE || star_end == n) {
			matched = false;
			goto out;
		}
		star_end += char_len(s, n, star_end);
		const struct step *after = &steps[star];
		if (after->kind == STEP_LIT && after->mode == LIT_BYTES) {
			// Skip to where the literal's first byte is: it starts a character
			const uint8_t *hit = memchr(s + star_end, f->text[after->arg], n - star_end);
			if (!hit) {
				matched = false;
				goto out;
			}
			star_end = (size_t)(hit - s);
		} else if (after->kind == STEP_SET) {
			// Skip the ASCII characters the set fails on
			const struct set *set = &f->sets[after->arg];
			if (set->ascii_ready && (set->ascii_hit == OUT_FAIL || set->ascii_miss == OUT_FAIL)) {
				uint64_t fails = set->ascii_hit == OUT_FAIL;
				while (star_end < n && s[star_end] < 0x80 && ((set->ascii[s[star_end] >> 6] >> (s[star_end] & 63)) & 1) == fails) {
					++star_end;
				}
			}
		}
		i = star_end;
		k = star;
	}
out:
	*work += count;
	return matched;
}

/** A bit set of NFA states. */
#define BIT_SET(set, i) ((set)[(i) / 64] |= (uint64_t)1 << ((i) % 64))
#define BIT_HAS(set, i) (((set)[(i) / 64] >> ((i) % 64)) & 1)

/**
 * Match with ENGINE_NFA, from the end of the name back: `acc` holds the
 * states from which the rest of the name from position i is accepted,
 * `later` those for the character after.  Within a position, states are
 * settled deepest lookahead first, so that a ST_NOT finds its body settled.
 */
static bool match_nfa(const struct fnm *f, const uint8_t *s, size_t n, uint64_t *work) {
	uint32_t m = f->nstates;
	size_t words = (m + 63) / 64;
	uint64_t bits[2][words];
	uint16_t todo[m];
	uint64_t *acc = bits[0], *later = bits[1];
	for (size_t w = 0; w < words; ++w) {
		later[w] = 0;
	}
	bool icase = f->flags & FNM_ICASE;
	bool dot = (f->flags & FNM_EXPLICIT_DOT) && n > 0 && s[0] == '.';
	uint64_t count = 0;
	bool at_end = true;
	uint32_t c = 0;

	for (size_t i = n;;) {
		for (size_t w = 0; w < words; ++w) {
			acc[w] = 0;
		}
		bool leading_dot = dot && i == 0;
		bool live = false;
		for (uint32_t d = 0; d <= f->max_depth; ++d) {
			uint32_t depth = f->max_depth - d;
			uint32_t ntodo = 0;
			for (uint32_t k = f->seed_first[d]; k < f->seed_first[d + 1]; ++k) {
				++count;
				uint32_t id = f->seeds[k];
				const struct state *st = &f->states[id];
				bool in;
				switch (st->kind) {
				case ST_TAIL:
					in = true;
					break;
				case ST_CHAR:
					in = !at_end && (icase ? fold(c) : c) == st->arg && BIT_HAS(later, st->out);
					break;
				case ST_DOT:
					in = !at_end && !leading_dot && !js_line_end(c) && BIT_HAS(later, st->out);
					break;
				case ST_SET:
					in = !at_end && !leading_dot && set_next(f->items, &f->sets[st->arg], icase, c) != OUT_FAIL
					     && BIT_HAS(later, st->out);
					break;
				default: // ST_STAR
					in = !at_end && !leading_dot && BIT_HAS(later, id);
					break;
				}
				if (in) {
					BIT_SET(acc, id);
					todo[ntodo++] = (uint16_t)id;
				}
			}
			if (depth == 0 && at_end) {
				// The ST_MATCH state is state 0
				BIT_SET(acc, 0);
				todo[ntodo++] = 0;
			}
			while (ntodo > 0) {
				uint32_t id = todo[--ntodo];
				++count;
				live = live || f->states[id].depth == 0;
				for (uint32_t k = f->pred_first[id]; k < f->pred_first[id + 1]; ++k) {
					uint32_t p = f->preds[k];
					const struct state *ps = &f->states[p];
					if (BIT_HAS(acc, p) || (ps->kind == ST_NOT && BIT_HAS(acc, ps->alt))
					    || (ps->kind == ST_STAR && leading_dot)) {
						continue;
					}
					BIT_SET(acc, p);
					todo[ntodo++] = (uint16_t)p;
				}
			}
		}
		if (i == 0 || !live) {
			*work += count;
			return i == 0 && BIT_HAS(acc, f->nstart);
		}
		size_t len;
		c = decode_back(s, i, &len);
		i -= len;
		at_end = false;
		uint64_t *swap = acc;
		acc = later;
		later = swap;
	}
}

/* ---- The API ---- */

/** Free what a builder holds. */
static void builder_free(struct builder *b) {
	free(b->cp);
	free(b->off);
	free(b->steps);
	free(b->sets);
	free(b->items);
	free(b->pos_step);
	free(b->queue);
	free(b->nodes);
	free(b->ctext);
	free(b->cpos);
	free(b->states);
	free(b->stack);
}

int fnm_compile(const uint8_t *pattern, size_t len, uint32_t flags, struct fnm **out, struct fnm_error *err) {
	*out = NULL;
	struct fnm_error ignored;
	if (!err) {
		err = &ignored;
	}
	if (flags & ~(uint32_t)ALL_FLAGS) {
		*err = (struct fnm_error){0, "unknown flags"};
		return -EINVAL;
	}
	if ((flags & FNM_EXTGLOB) && !(flags & FNM_GLOB)) {
		*err = (struct fnm_error){0, "FNM_EXTGLOB needs FNM_GLOB"};
		return -EINVAL;
	}
	if (len > MAX_PATTERN) {
		*err = (struct fnm_error){MAX_PATTERN, "pattern too long"};
		return -EINVAL;
	}

	struct builder b = {.flags = flags};
	int ret = -ENOMEM;
	struct fnm *f = calloc(1, sizeof(*f));
	b.cp = malloc((len + 1) * sizeof(*b.cp));
	b.off = malloc((len + 1) * sizeof(*b.off));
	if (!f || !b.cp || !b.off) {
		goto fail;
	}
	f->flags = flags;
	f->engine = ENGINE_STEPS;
	f->text = malloc(len + 1);
	if (!f->text) {
		goto fail;
	}
	if (len > 0) {
		memcpy(f->text, pattern, len);
	}
	for (size_t i = 0; i < len;) {
		size_t clen;
		b.off[b.n] = (uint32_t)i;
		b.cp[b.n++] = decode(pattern + i, len - i, &clen);
		i += clen;
	}
	b.off[b.n] = (uint32_t)len;

	ret = (flags & FNM_GLOB) ? compile_glob(&b, f) : compile_find(&b);
	if (ret != 0) {
		goto fail;
	}
	set_tables(b.sets, b.nsets, b.items, flags & FNM_ICASE);
	f->sets = b.sets;
	f->items = b.items;
	b.sets = NULL;
	b.items = NULL;
	if (f->engine == ENGINE_STEPS) {
		f->steps = b.steps;
		b.steps = NULL;
		f->start = (flags & FNM_GLOB) ? 0 : b.pos_step[0];
		ret = make_pieces(f);
		if (ret != 0) {
			goto fail;
		}
	}
	builder_free(&b);
	*out = f;
	return 0;

fail:
	if (ret == -EINVAL) {
		*err = b.error;
	}
	builder_free(&b);
	fnm_free(f);
	return ret;
}

bool fnm_match_counted(const struct fnm *f, const uint8_t *name, size_t len, uint64_t *steps) {
	*steps = 0;
	if ((f->flags & FNM_GLOB) && len > 0 && memchr(name, '/', len)) {
		return false;
	}
	switch (f->engine) {
	case ENGINE_PIECES:
		return match_pieces(f, name, len, steps);
	case ENGINE_STEPS:
		return match_steps(f, name, len, steps);
	default:
		return match_nfa(f, name, len, steps);
	}
}

bool fnm_match(const struct fnm *f, const uint8_t *name, size_t len) {
	uint64_t steps = 0;
	if (f->engine == ENGINE_PIECES && !(f->flags & FNM_GLOB)) {
		return match_pieces(f, name, len, &steps);
	}
	return fnm_match_counted(f, name, len, &steps);
}

void fnm_free(struct fnm *f) {
	if (!f) {
		return;
	}
	free(f->text);
	free(f->pieces);
	free(f->pieces_text);
	free(f->steps);
	free(f->sets);
	free(f->items);
	free(f->states);
	free(f->pred_first);
	free(f->preds);
	free(f->seeds);
	free(f->seed_first);
	free(f);
}

int32_t ioq_test_fnm_match(const uint8_t *pattern, uint32_t plen, uint32_t flags, const uint8_t *name, uint32_t nlen) {
	struct fnm *f;
	int ret = fnm_compile(pattern, plen, flags, &f, NULL);
	if (ret != 0) {
		return ret;
	}
	bool matched = fnm_match(f, name, nlen);
	fnm_free(f);
	return matched;
}
