// SPDX-License-Identifier: 0BSD
/**
 * walkcheck: what the walk engine's test programs share (walk_stress.c,
 * walk_race.c), with walkref.h (the reference walk, random trees) and
 * walkdrive.h (running a walk and judging it):
 *
 *  - a scratch directory, removed on failure too, descriptors counted in
 *    /proc/self/fd (the seed is harness.h's, whether io_uring works
 *    queuecheck.h's);
 *  - a reference decoder of UTF-8 into UTF-16 (WHATWG's: each invalid
 *    sequence is one U+FFFD), to check the records' UTF-16 offsets;
 *  - records, and walk specs (a configuration and the items of the spec
 *    blob) with find's rules for what is reported.
 *
 * Header-only, like harness.h: each test is one program built from one file.
 */

#ifndef IOQ_TEST_WALKCHECK_H
#define IOQ_TEST_WALKCHECK_H

#include "ioq.h"
#include "walk.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "harness.h"
#include "queuecheck.h"
#include "rng.h"

/** How long the driver waits in one ioq_walk_wait(), in microseconds. */
#define WC_WAIT_US 2000000

/*
 * Basics.
 */

/** malloc() or fail. */
static inline void *wc_alloc(size_t n) {
	void *p = malloc(n ? n : 1);
	if (!p) {
		fail("out of memory");
	}
	return p;
}

/** realloc() or fail. */
static inline void *wc_realloc(void *p, size_t n) {
	p = realloc(p, n ? n : 1);
	if (!p) {
		fail("out of memory");
	}
	return p;
}

/** A copy of n bytes, NUL-terminated. */
static inline char *wc_dup(const void *s, size_t n) {
	char *p = wc_alloc(n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

/** A growable byte string. */
struct bytes {
	char *data;
	size_t len, cap;
};

/** Append bytes. */
static inline void bytes_add(struct bytes *b, const void *p, size_t n) {
	size_t need = b->len + n + 1;
	if (need > b->cap || !b->data) {
		size_t cap = b->cap > 64 ? b->cap : 64;
		while (cap < need) {
			cap *= 2;
		}
		b->data = wc_realloc(b->data, cap);
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
}

/** Append a C string. */
static inline void bytes_str(struct bytes *b, const char *s) {
	bytes_add(b, s, strlen(s));
}

/** Free a byte string. */
static inline void bytes_free(struct bytes *b) {
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/** @return The number of open descriptors of this process. */
static inline int count_fds(void) {
	DIR *dir = opendir("/proc/self/fd");
	if (!dir) {
		fail("cannot open /proc/self/fd: %s", strerror(errno));
	}
	int n = 0;
	struct dirent *de;
	while ((de = readdir(dir))) {
		if (de->d_name[0] != '.') {
			++n;
		}
	}
	closedir(dir);
	// Less the one opendir() held
	return n - 1;
}

/** A backend's name. */
static inline const char *backend_name(int32_t backend) {
	return backend == IOQ_BACKEND_URING ? "io_uring" : "threads";
}

/** Make a queue or fail. */
static inline struct ioq *queue_make(uint32_t depth, uint32_t threads, int32_t backend) {
	int32_t err = 1;
	struct ioq *q = ioq_create(depth, threads, backend, &err);
	if (!q || err != 0) {
		fail("ioq_create(%u, %u, %s): %s", depth, threads, backend_name(backend), strerror(-err));
	}
	return q;
}

/*
 * The scratch directory.
 */

/** The scratch directory (absolute), removed at the end and on failure. */
static char scratch[128];

/** Remove `name` in `dfd`, whatever it is, descending by descriptors (any depth). */
static inline void rm_tree_at(int dfd, const char *name) {
	for (int tries = 0; tries < 4; ++tries) {
		if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT) {
			return;
		}
		int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			return;
		}
		DIR *d = fdopendir(fd);
		if (!d) {
			close(fd);
			return;
		}
		struct dirent *de;
		while ((de = readdir(d))) {
			if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
				rm_tree_at(fd, de->d_name);
			}
		}
		closedir(d);
		if (unlinkat(dfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT) {
			return;
		}
	}
}

/** Remove the scratch directory, if there is one (harness_cleanup). */
static inline void scratch_remove(void) {
	if (scratch[0]) {
		rm_tree_at(AT_FDCWD, scratch);
		scratch[0] = 0;
	}
}

/**
 * Make the scratch directory: in $IOQ_TEST_TMPDIR, else /dev/shm (the
 * trees are made thousands of entries at a time: a memory file system
 * makes them fast), else /tmp.
 */
static inline void scratch_make(const char *prog) {
	const char *base = getenv("IOQ_TEST_TMPDIR");
	if (!base || !*base) {
		base = access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
	}
	if (strlen(base) > 80) {
		fail("IOQ_TEST_TMPDIR is too long (80 bytes at most)");
	}
	snprintf(scratch, sizeof(scratch), "%s/ioq-%s-XXXXXX", base, prog);
	if (!mkdtemp(scratch)) {
		fail("mkdtemp %s: %s", scratch, strerror(errno));
	}
	printf("%s: scratch directory %s\n", prog, scratch);
}

/** Make a directory, or fail. */
static inline void mk_dir(const char *path) {
	if (mkdir(path, 0755) != 0) {
		fail("mkdir %s: %s", show_bytes(path, strlen(path)), strerror(errno));
	}
}

/** Make a file with a few bytes, or fail. */
static inline void mk_file(const char *path) {
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "x\n", 2) != 2) {
		fail("create %s: %s", show_bytes(path, strlen(path)), strerror(errno));
	}
	close(fd);
}

/** Make a symlink, or fail. */
static inline void mk_link(const char *target, const char *path) {
	if (symlink(target, path) != 0) {
		fail("symlink %s: %s", show_bytes(path, strlen(path)), strerror(errno));
	}
}

/*
 * UTF-8 as a TextDecoder reads it (WHATWG, "replacement" error mode).
 */

/**
 * Decode bytes as WHATWG's UTF-8 decoder does and record, for every byte
 * offset where a code point starts, the UTF-16 units decoded before it
 * (`at16`, n + 1 entries; other offsets get UINT32_MAX).
 * @return Whether the bytes are valid UTF-8.
 */
static inline bool utf16_map(const uint8_t *s, size_t n, uint32_t *at16) {
	bool valid = true;
	uint32_t units = 0;
	// The decoder's state, named as in the Encoding Standard
	uint32_t needed = 0, seen = 0;
	uint8_t lower = 0x80, upper = 0xBF;
	for (size_t i = 0; i <= n; ++i) {
		at16[i] = UINT32_MAX;
	}
	size_t i = 0;
	while (i < n) {
		uint8_t byte = s[i];
		if (needed == 0) {
			at16[i] = units;
			if (byte <= 0x7F) {
				++units;
			} else if (byte >= 0xC2 && byte <= 0xDF) {
				needed = 1;
			} else if (byte >= 0xE0 && byte <= 0xEF) {
				lower = byte == 0xE0 ? 0xA0 : 0x80;
				upper = byte == 0xED ? 0x9F : 0xBF;
				needed = 2;
			} else if (byte >= 0xF0 && byte <= 0xF4) {
				lower = byte == 0xF0 ? 0x90 : 0x80;
				upper = byte == 0xF4 ? 0x8F : 0xBF;
				needed = 3;
			} else {
				++units;
				valid = false;
			}
			++i;
			continue;
		}
		if (byte < lower || byte > upper) {
			// The sequence so far is one U+FFFD; this byte is read again
			needed = seen = 0;
			lower = 0x80;
			upper = 0xBF;
			++units;
			valid = false;
			continue;
		}
		lower = 0x80;
		upper = 0xBF;
		++seen;
		++i;
		if (seen == needed) {
			// Past U+FFFF (four bytes): a surrogate pair
			units += needed == 3 ? 2 : 1;
			needed = seen = 0;
		}
	}
	if (needed) {
		// A sequence cut by the end
		++units;
		valid = false;
	}
	at16[n] = units;
	return valid;
}

/** @return The UTF-16 length of bytes, and whether they are valid UTF-8. */
static inline uint32_t utf16_len(const uint8_t *s, size_t n, bool *valid) {
	uint32_t *at = wc_alloc((n + 1) * sizeof(*at));
	*valid = utf16_map(s, n, at);
	uint32_t len = at[n];
	free(at);
	return len;
}

/** Check the reference decoder on what a TextDecoder is known to give. */
static inline void utf16_selftest(void) {
	static const struct {
		const char *s;
		uint32_t units;
		bool valid;
	} cases[] = {
		{"abc", 3, true},
		{"caf\xc3\xa9", 4, true},
		{"\xf0\x9f\x98\x80", 2, true},
		{"\xe2\x82\xac", 1, true},
		{"\xf0\x9f\x98", 1, false},      // cut four-byte sequence: one U+FFFD
		{"\xf0\x9f\x98" "a", 2, false},  // the same, then 'a'
		{"\xed\xa0\x80", 3, false},      // a surrogate: ED, A0, 80 each one
		{"\xc0\xaf", 2, false},          // an overlong: C0 and AF
		{"\xff", 1, false},
		{"\xe2\x82" "a", 2, false},
		{"\xf4\x90\x80\x80", 4, false},  // past U+10FFFF
		{"\xc3", 1, false},
		{"\x80\x80", 2, false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
		bool valid;
		uint32_t units = utf16_len((const uint8_t *)cases[i].s, strlen(cases[i].s), &valid);
		if (units != cases[i].units || valid != cases[i].valid) {
			fail("reference decoder: %s gives %u units (valid %d), expected %u (%d)", show_bytes(cases[i].s, strlen(cases[i].s)), units, valid, cases[i].units, cases[i].valid);
		}
	}
}

/*
 * Records.
 */

/** A record, copied out of a batch or made by the reference walk. */
struct rec {
	/** The path (NUL-terminated; paths hold no NUL). */
	char *path;
	uint32_t len;
	/** Byte offset of the name. */
	uint32_t name;
	uint32_t depth;
	int32_t err;
	uint8_t type, flags, op;
	uint32_t aux;
	/** With IOQ_WALK_REC_STAT: the inode and mode. */
	uint64_t ino;
	uint32_t mode;
	/** Where it came in the stream. */
	uint32_t seq;
};

/** A list of records. */
struct recs {
	struct rec *v;
	size_t n, cap;
};

/** Add a record (the list takes its path). */
static inline struct rec *recs_push(struct recs *l, struct rec r) {
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = wc_realloc(l->v, l->cap * sizeof(*l->v));
	}
	r.seq = (uint32_t)l->n;
	l->v[l->n] = r;
	return &l->v[l->n++];
}

/** Free a list. */
static inline void recs_free(struct recs *l) {
	for (size_t i = 0; i < l->n; ++i) {
		free(l->v[i].path);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/** Byte order of two paths. */
static inline int path_cmp(const char *a, size_t alen, const char *b, size_t blen) {
	int c = memcmp(a, b, alen < blen ? alen : blen);
	return c ? c : alen < blen ? -1 : alen > blen;
}

/** qsort order: path, then errors after entries, then op. */
static inline int rec_cmp(const void *x, const void *y) {
	const struct rec *a = x, *b = y;
	int c = path_cmp(a->path, a->len, b->path, b->len);
	if (c) {
		return c;
	}
	int ea = a->flags & IOQ_WALK_REC_ERROR, eb = b->flags & IOQ_WALK_REC_ERROR;
	if (ea != eb) {
		return ea - eb;
	}
	return (int)a->op - (int)b->op;
}

/** Describe a record for a failure message. */
static inline const char *rec_text(const struct rec *r) {
	static __thread char buf[2][1600];
	static __thread unsigned next;
	char *out = buf[next++ % 2];
	snprintf(out, sizeof(buf[0]), "{%s len %u name %u depth %u type %u flags 0x%x err %d op %u aux %u ino %" PRIu64 " mode 0%o}", show_bytes(r->path, r->len), r->len, r->name, r->depth, r->type, r->flags, r->err, r->op, r->aux, r->ino, r->mode);
	return out;
}

/** Whether two records say the same (not where they came). */
static inline bool rec_same(const struct rec *a, const struct rec *b) {
	return a->len == b->len && memcmp(a->path, b->path, a->len) == 0 && a->name == b->name && a->depth == b->depth && a->err == b->err && a->type == b->type && a->flags == b->flags && a->op == b->op && a->aux == b->aux && a->ino == b->ino && a->mode == b->mode;
}

/*
 * Specs.
 */

/** The most globs, prunes or suffixes of a spec. */
#define SPEC_MAX 4

/** What a test asks of a walk: the configuration and the spec blob's items. */
struct wspec {
	struct ioq_walk_config cfg;
	/** The root as opened. */
	const char *root;
	size_t root_len;
	/** IOQ_WALK_ITEM_ROOT_SHOWN and _PREFIX, when given (NULL: not given). */
	const char *shown;
	const char *prefix;
	/** Name globs (and their item flags), prune globs, suffixes. */
	const char *names[SPEC_MAX];
	uint8_t name_flags[SPEC_MAX];
	uint32_t nnames;
	const char *prunes[SPEC_MAX];
	uint32_t nprunes;
	const char *exts[SPEC_MAX];
	uint32_t nexts;
	/** Gates: a directory is skipped when a hash of its path and the salt says so (this percentage). */
	uint64_t gate_salt;
	uint32_t gate_skip_pct;
};

/** A spec with the defaults: everything reported, no limits. */
static inline struct wspec spec_default(const char *root) {
	struct wspec s;
	memset(&s, 0, sizeof(s));
	s.cfg.max_depth = IOQ_WALK_NO_MAX;
	s.cfg.types = 0xffffffffu;
	s.cfg.terminator = '\n';
	s.root = root;
	s.root_len = strlen(root);
	return s;
}

/** Add an item to a spec blob. */
static inline void spec_item(struct bytes *b, uint8_t kind, uint8_t flags, const void *p, size_t n) {
	uint8_t head[8] = {kind, flags, 0, 0};
	uint32_t len = (uint32_t)n;
	memcpy(head + 4, &len, 4);
	bytes_add(b, head, 8);
	bytes_add(b, p, n);
	static const uint8_t zeros[4] = {0};
	bytes_add(b, zeros, (4 - n % 4) % 4);
}

/** Write a spec's blob (replacing what `b` holds). */
static inline void spec_blob(const struct wspec *s, struct bytes *b) {
	b->len = 0;
	spec_item(b, IOQ_WALK_ITEM_ROOT, 0, s->root, s->root_len);
	if (s->shown) {
		spec_item(b, IOQ_WALK_ITEM_ROOT_SHOWN, 0, s->shown, strlen(s->shown));
	}
	if (s->prefix) {
		spec_item(b, IOQ_WALK_ITEM_ROOT_PREFIX, 0, s->prefix, strlen(s->prefix));
	}
	for (uint32_t i = 0; i < s->nnames; ++i) {
		spec_item(b, IOQ_WALK_ITEM_NAME, s->name_flags[i], s->names[i], strlen(s->names[i]));
	}
	for (uint32_t i = 0; i < s->nprunes; ++i) {
		spec_item(b, IOQ_WALK_ITEM_PRUNE, 0, s->prunes[i], strlen(s->prunes[i]));
	}
	for (uint32_t i = 0; i < s->nexts; ++i) {
		spec_item(b, IOQ_WALK_ITEM_EXT, 0, s->exts[i], strlen(s->exts[i]));
	}
}

/** Describe a spec (for the failure context). */
static inline const char *spec_text(const struct wspec *s) {
	static __thread char buf[1200];
	static const char *const orders[] = {"bfs", "dfs", "post"};
	static const char *const follows[] = {"never", "root", "always"};
	int n = snprintf(buf, sizeof(buf), "%s follow=%s flags=0x%x min=%u max=%d types=0x%x term=%u fd_limit=%u root=%s", orders[s->cfg.order % 3], follows[s->cfg.follow % 3], s->cfg.flags, s->cfg.min_depth, (int)s->cfg.max_depth, s->cfg.types, s->cfg.terminator, s->cfg.fd_limit, show_bytes(s->root, s->root_len > 200 ? 200 : s->root_len));
	for (uint32_t i = 0; i < s->nnames && n < (int)sizeof(buf); ++i) {
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, " name%s=%s", s->name_flags[i] ? "(i)" : "", show_bytes(s->names[i], strlen(s->names[i])));
	}
	for (uint32_t i = 0; i < s->nprunes && n < (int)sizeof(buf); ++i) {
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, " prune=%s", show_bytes(s->prunes[i], strlen(s->prunes[i])));
	}
	for (uint32_t i = 0; i < s->nexts && n < (int)sizeof(buf); ++i) {
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, " ext=%s", show_bytes(s->exts[i], strlen(s->exts[i])));
	}
	if (s->shown && n < (int)sizeof(buf)) {
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, " shown=%s", show_bytes(s->shown, strlen(s->shown)));
	}
	if ((s->cfg.flags & IOQ_WALK_GATE) && n < (int)sizeof(buf)) {
		snprintf(buf + n, sizeof(buf) - (size_t)n, " gate-skip=%u%%", s->gate_skip_pct);
	}
	return buf;
}

/** The root as shown, and what its entries' paths start with. */
static inline void spec_shown(const struct wspec *s, struct bytes *shown_root, struct bytes *prefix) {
	shown_root->len = prefix->len = 0;
	if (s->shown) {
		bytes_str(shown_root, s->shown);
	} else {
		bytes_add(shown_root, s->root, s->root_len);
	}
	if (s->prefix) {
		bytes_str(prefix, s->prefix);
	} else {
		bytes_add(prefix, shown_root->data, shown_root->len);
		if (shown_root->len == 0 || shown_root->data[shown_root->len - 1] != '/') {
			bytes_add(prefix, "/", 1);
		}
	}
}

/** The name of a root's record: its last component, trailing slashes aside (the whole of "/"). */
static inline uint32_t root_name_off(const char *p, uint32_t len, uint32_t *end_out) {
	uint32_t end = len;
	while (end > 1 && p[end - 1] == '/') {
		--end;
	}
	uint32_t off = end;
	while (off > 0 && p[off - 1] != '/') {
		--off;
	}
	if (off == end && end > 0) {
		off = end - 1;
	}
	if (end_out) {
		*end_out = end;
	}
	return off;
}

/** Whether the gate of a directory says to enter it. */
static inline bool gate_enters(const struct wspec *s, const char *path, size_t len) {
	uint64_t h = 0xcbf29ce484222325ULL ^ s->gate_salt;
	for (size_t i = 0; i < len; ++i) {
		h = (h ^ (uint8_t)path[i]) * 0x100000001b3ULL;
	}
	h ^= h >> 29;
	return h % 100 >= s->gate_skip_pct;
}

/** Whether a name matches one of the globs (NULL flags: none). */
static inline bool globs_match(const char *const *globs, const uint8_t *flags, uint32_t n, const char *name) {
	for (uint32_t i = 0; i < n; ++i) {
		int f = flags && (flags[i] & IOQ_WALK_ITEM_CASEFOLD) ? FNM_CASEFOLD : 0;
		if (fnmatch(globs[i], name, f) == 0) {
			return true;
		}
	}
	return false;
}

/** Whether a record of this type, depth, name and path is reported (find's tests, in order). */
static inline bool spec_reports(const struct wspec *s, uint8_t type, uint32_t depth, const char *name, const char *path, size_t plen) {
	if (depth < s->cfg.min_depth || !(s->cfg.types & (1u << type))) {
		return false;
	}
	if (s->nnames && !globs_match(s->names, s->name_flags, s->nnames, name)) {
		return false;
	}
	if (s->nexts) {
		for (uint32_t i = 0; i < s->nexts; ++i) {
			size_t n = strlen(s->exts[i]);
			if (n <= plen && memcmp(path + plen - n, s->exts[i], n) == 0) {
				return true;
			}
		}
		return false;
	}
	return true;
}

#endif // IOQ_TEST_WALKCHECK_H
