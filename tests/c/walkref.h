// SPDX-License-Identifier: 0BSD
/**
 * walkref: the reference the walk engine's tests compare it with.
 *
 *  - the reference walk: find's rules (walk.h describes them), written
 *    here apart from the engine, on descriptors so that paths past PATH_MAX
 *    work, in the engine's three orders with each directory's names sorted
 *    (what IOQ_WALK_SORT gives), with loop detection by the dev/ino of the
 *    ancestors when following links, and the gated directories it would
 *    ask about;
 *  - random trees with odd names, and random specs to walk them with.
 *
 * Header-only, like harness.h.
 */

#ifndef IOQ_TEST_WALKREF_H
#define IOQ_TEST_WALKREF_H

#include "walkcheck.h"

/*
 * The reference walk.
 */

/** A directory the reference walk entered: its records and its entered subdirectories. */
struct rdir {
	struct recs chunk;
	/** Post-order: its own record, after its subtree. */
	struct rec self;
	bool has_self;
	/** Depth-first: how many of its parent's records come before its subtree. */
	size_t at;
	struct rdir **kids;
	size_t nkids, cap;
};

/** An ancestor, for loop detection. */
struct ranc {
	uint64_t dev, ino;
	uint32_t depth;
	const struct ranc *up;
};

/** The reference walk's state. */
struct rwalk {
	const struct wspec *s;
	/** Gated directories, as asked (path and depth). */
	struct recs asked;
	/** Records made, to stop a runaway tree. */
	size_t made;
};

/** Make a record of `prefix` and `name`. */
static inline struct rec ref_rec(const char *prefix, size_t plen, const char *name, size_t nlen) {
	struct rec r;
	memset(&r, 0, sizeof(r));
	r.path = wc_alloc(plen + nlen + 1);
	memcpy(r.path, prefix, plen);
	memcpy(r.path + plen, name, nlen);
	r.path[plen + nlen] = 0;
	r.len = (uint32_t)(plen + nlen);
	r.name = (uint32_t)plen;
	bool valid;
	utf16_len((const uint8_t *)r.path, r.len, &valid);
	if (!valid) {
		r.flags |= IOQ_WALK_REC_NOT_UTF8;
	}
	return r;
}

/** Make an error record. */
static inline struct rec ref_error(const char *prefix, size_t plen, const char *name, size_t nlen, uint32_t depth, uint8_t type, uint8_t op, int err) {
	struct rec r = ref_rec(prefix, plen, name, nlen);
	r.flags |= IOQ_WALK_REC_ERROR | IOQ_WALK_REC_APART;
	r.depth = depth;
	r.type = type;
	r.op = op;
	r.err = err;
	return r;
}

/** Note a stat in a record. */
static inline void ref_stat(const struct wspec *s, struct rec *r, const struct stat *st) {
	if (s->cfg.flags & IOQ_WALK_STAT) {
		r->flags |= IOQ_WALK_REC_STAT;
		r->ino = st->st_ino;
		r->mode = st->st_mode;
	}
}

/** The names in a directory, sorted by bytes. */
static inline char **ref_list(int fd, size_t *n_out) {
	int dup_fd = dup(fd);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d) {
		fail("reference walk: cannot list a directory: %s", strerror(errno));
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = wc_realloc(names, cap * sizeof(*names));
		}
		names[n++] = wc_dup(de->d_name, strlen(de->d_name));
	}
	closedir(d);
	for (size_t i = 1; i < n; ++i) {
		for (size_t j = i; j > 0 && path_cmp(names[j - 1], strlen(names[j - 1]), names[j], strlen(names[j])) > 0; --j) {
			char *t = names[j];
			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	}
	*n_out = n;
	return names;
}

static inline void ref_read(struct rwalk *rw, struct rdir *d, int fd, const char *prefix, size_t plen, uint32_t depth, const struct ranc *anc);

/** Read one entry of a directory (find's rules; see walk.h). */
static inline void ref_entry(struct rwalk *rw, struct rdir *d, int fd, const char *prefix, size_t plen, uint32_t depth, const struct ranc *anc, const char *name) {
	const struct wspec *s = rw->s;
	size_t nlen = strlen(name);
	uint32_t kd = depth + 1;
	bool always = s->cfg.follow == IOQ_WALK_FOLLOW_ALWAYS;
	++rw->made;

	struct stat st;
	if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		recs_push(&d->chunk, ref_error(prefix, plen, name, nlen, kd, DT_UNKNOWN, IOQ_WALK_OP_STAT, errno));
		return;
	}
	uint8_t type = IFTODT(st.st_mode);
	bool followed = false;
	if (type == DT_LNK && always) {
		struct stat target;
		if (fstatat(fd, name, &target, 0) == 0) {
			st = target;
			type = IFTODT(st.st_mode);
			followed = true;
		} else if (errno != ENOENT && errno != ENOTDIR) {
			recs_push(&d->chunk, ref_error(prefix, plen, name, nlen, kd, DT_LNK, IOQ_WALK_OP_STAT, errno));
			return;
		}
	}

	bool dir = type == DT_DIR;
	bool descend = dir && kd < s->cfg.max_depth && !globs_match(s->prunes, NULL, s->nprunes, name);
	if (followed && dir) {
		for (const struct ranc *a = anc; a; a = a->up) {
			if (a->dev == (uint64_t)st.st_dev && a->ino == (uint64_t)st.st_ino) {
				struct rec r = ref_error(prefix, plen, name, nlen, kd, DT_DIR, IOQ_WALK_OP_LOOP, ELOOP);
				r.aux = a->depth;
				recs_push(&d->chunk, r);
				return;
			}
		}
	}

	struct rec r = ref_rec(prefix, plen, name, nlen);
	bool reported = spec_reports(s, type, kd, name, r.path, r.len);
	bool post = s->cfg.order == IOQ_WALK_POST && descend;
	if (reported) {
		r.depth = kd;
		r.type = type;
		if (followed) {
			r.flags |= IOQ_WALK_REC_FOLLOWED;
		}
		ref_stat(s, &r, &st);
	}
	if (!descend) {
		if (reported) {
			recs_push(&d->chunk, r);
		} else {
			free(r.path);
		}
		return;
	}

	// A directory to enter: asked at its gate first
	if (s->cfg.flags & IOQ_WALK_GATE) {
		struct rec q = ref_rec(r.path, r.len, "", 0);
		q.name = 0;
		q.flags = 0;
		q.depth = kd;
		recs_push(&rw->asked, q);
	}
	struct rdir *kid = NULL;
	if (!(s->cfg.flags & IOQ_WALK_GATE) || gate_enters(s, r.path, r.len)) {
		kid = wc_alloc(sizeof(*kid));
		memset(kid, 0, sizeof(*kid));
		if (d->nkids == d->cap) {
			d->cap = d->cap ? d->cap * 2 : 8;
			d->kids = wc_realloc(d->kids, d->cap * sizeof(*d->kids));
		}
		d->kids[d->nkids++] = kid;
	}
	if (reported && post && kid) {
		kid->self = r;
		kid->has_self = true;
	} else if (reported) {
		recs_push(&d->chunk, r);
		r.path = NULL;
	} else {
		free(r.path);
	}
	if (!kid) {
		return;
	}
	kid->at = d->chunk.n;

	struct bytes kp = {0};
	bytes_add(&kp, prefix, plen);
	bytes_add(&kp, name, nlen);
	int kfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (always ? 0 : O_NOFOLLOW));
	if (kfd < 0) {
		recs_push(&kid->chunk, ref_error(prefix, plen, name, nlen, kd, DT_DIR, IOQ_WALK_OP_OPENDIR, errno));
	} else {
		struct stat kst;
		if (fstat(kfd, &kst) != 0) {
			fail("reference walk: fstat: %s", strerror(errno));
		}
		struct ranc me = {kst.st_dev, kst.st_ino, kd, anc};
		bytes_add(&kp, "/", 1);
		ref_read(rw, kid, kfd, kp.data, kp.len, kd, &me);
		close(kfd);
	}
	bytes_free(&kp);
}

/** Read a directory's entries into `d`. */
static inline void ref_read(struct rwalk *rw, struct rdir *d, int fd, const char *prefix, size_t plen, uint32_t depth, const struct ranc *anc) {
	size_t n;
	char **names = ref_list(fd, &n);
	for (size_t i = 0; i < n; ++i) {
		ref_entry(rw, d, fd, prefix, plen, depth, anc, names[i]);
		free(names[i]);
	}
	free(names);
	if (rw->made > 2000000) {
		fail("reference walk: more than 2,000,000 records: the test's tree is too big");
	}
}

/**
 * Open a path of any length as a directory, a component at a time past
 * PATH_MAX (symlinks on the way followed, the last one only if `follow`).
 * @return The descriptor, or -1 with errno set.
 */
static inline int ref_open_root(const char *path, size_t len, bool follow) {
	int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW);
	if (len < PATH_MAX) {
		return open(path, flags);
	}
	int dfd = path[0] == '/' ? open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : AT_FDCWD;
	size_t i = 0;
	while (true) {
		while (i < len && path[i] == '/') {
			++i;
		}
		size_t j = i;
		while (j < len && path[j] != '/') {
			++j;
		}
		size_t k = j;
		while (k < len && path[k] == '/') {
			++k;
		}
		bool last = k == len;
		char *part = wc_dup(path + i, j - i);
		int fd = openat(dfd, part, last ? flags : O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		int err = errno;
		free(part);
		if (dfd != AT_FDCWD) {
			close(dfd);
		}
		if (fd < 0 || last) {
			errno = err;
			return fd;
		}
		dfd = fd;
		i = k;
	}
}

/** stat (or lstat) a path of any length.  @return 0 or -1 with errno set. */
static inline int ref_stat_root(const char *path, size_t len, bool follow, struct stat *st) {
	if (len < PATH_MAX) {
		return follow ? stat(path, st) : lstat(path, st);
	}
	size_t cut = len;
	while (cut > 0 && path[cut - 1] == '/') {
		--cut;
	}
	size_t base = cut;
	while (base > 0 && path[base - 1] != '/') {
		--base;
	}
	int dfd = ref_open_root(path, base, true);
	if (dfd < 0) {
		return -1;
	}
	char *last = wc_dup(path + base, len - base);
	int ret = fstatat(dfd, last, st, follow ? 0 : AT_SYMLINK_NOFOLLOW);
	int err = errno;
	free(last);
	close(dfd);
	errno = err;
	return ret;
}

/** Emit a reference tree's records in the walk's order into `out`. */
static inline void ref_emit(const struct wspec *s, struct rdir *d, struct recs *out) {
	if (s->cfg.order == IOQ_WALK_BFS) {
		struct rdir **fifo = wc_alloc(sizeof(*fifo));
		size_t head = 0, tail = 0, cap = 1;
		fifo[tail++] = d;
		while (head < tail) {
			struct rdir *x = fifo[head++];
			for (size_t i = 0; i < x->chunk.n; ++i) {
				recs_push(out, x->chunk.v[i]);
			}
			for (size_t i = 0; i < x->nkids; ++i) {
				if (tail == cap) {
					cap *= 2;
					fifo = wc_realloc(fifo, cap * sizeof(*fifo));
				}
				fifo[tail++] = x->kids[i];
			}
		}
		free(fifo);
		return;
	}
	// Depth-first, as find: each subtree right after the record before it
	size_t k = 0;
	for (size_t i = 0; i <= d->chunk.n; ++i) {
		for (; k < d->nkids && d->kids[k]->at == i; ++k) {
			ref_emit(s, d->kids[k], out);
			if (d->kids[k]->has_self) {
				recs_push(out, d->kids[k]->self);
			}
		}
		if (i < d->chunk.n) {
			recs_push(out, d->chunk.v[i]);
		}
	}
}

/** Free a reference tree (the records' paths moved out by ref_emit()). */
static inline void ref_free(struct rdir *d) {
	for (size_t i = 0; i < d->nkids; ++i) {
		ref_free(d->kids[i]);
		free(d->kids[i]);
	}
	free(d->kids);
	free(d->chunk.v);
}

/**
 * Walk as the engine should: every record, in the order of the spec (each
 * directory's entries in byte order, as IOQ_WALK_SORT does), into `out`;
 * the gated directories into `asked`.
 */
static inline void ref_walk(const struct wspec *s, struct recs *out, struct recs *asked) {
	struct rwalk rw = {.s = s};
	memset(out, 0, sizeof(*out));
	struct bytes sroot = {0}, prefix = {0};
	spec_shown(s, &sroot, &prefix);
	uint32_t end;
	uint32_t name_off = root_name_off(sroot.data, (uint32_t)sroot.len, &end);
	struct rdir top;
	memset(&top, 0, sizeof(top));

	bool follow = s->cfg.follow != IOQ_WALK_FOLLOW_NEVER;
	int fd = s->root_len ? ref_open_root(s->root, s->root_len, follow) : -1;
	int open_err = s->root_len ? errno : ENOENT;
	struct stat st;
	int stat_err = 0;
	if (fd >= 0) {
		if (fstat(fd, &st) != 0) {
			fail("reference walk: fstat: %s", strerror(errno));
		}
	} else if (s->root_len) {
		if (ref_stat_root(s->root, s->root_len, follow, &st) != 0) {
			stat_err = errno;
			if (follow && (stat_err == ENOENT || stat_err == ENOTDIR || stat_err == ELOOP)) {
				// A broken link as the root is reported as itself
				stat_err = ref_stat_root(s->root, s->root_len, false, &st) == 0 ? 0 : errno;
			}
		}
	} else {
		stat_err = ENOENT;
	}

	if (stat_err) {
		struct rec r = ref_error(sroot.data, name_off, sroot.data + name_off, sroot.len - name_off, 0, DT_UNKNOWN, IOQ_WALK_OP_STAT, stat_err);
		r.flags |= IOQ_WALK_REC_ROOT;
		recs_push(&top.chunk, r);
	} else {
		uint8_t type = IFTODT(st.st_mode);
		char *name = wc_dup(sroot.data + name_off, end - name_off);
		struct rec r = ref_rec(sroot.data, name_off, sroot.data + name_off, sroot.len - name_off);
		if (spec_reports(s, type, 0, name, sroot.data, sroot.len)) {
			r.type = type;
			r.flags |= IOQ_WALK_REC_ROOT;
			// A root that is a link, followed (find -H and -L), says so
			struct stat own;
			if (follow && ref_stat_root(s->root, s->root_len, false, &own) == 0 && S_ISLNK(own.st_mode) && !S_ISLNK(st.st_mode)) {
				r.flags |= IOQ_WALK_REC_FOLLOWED;
			}
			ref_stat(s, &r, &st);
			if (s->cfg.order == IOQ_WALK_POST) {
				top.self = r;
				top.has_self = true;
			} else {
				recs_push(&top.chunk, r);
			}
		} else {
			free(r.path);
		}
		free(name);
		if (fd < 0) {
			if (type == DT_DIR && s->cfg.max_depth > 0) {
				struct rec e = ref_error(sroot.data, name_off, sroot.data + name_off, sroot.len - name_off, 0, DT_DIR, IOQ_WALK_OP_OPENDIR, open_err);
				e.flags |= IOQ_WALK_REC_ROOT;
				recs_push(&top.chunk, e);
			}
		} else if (s->cfg.max_depth > 0) {
			struct ranc me = {st.st_dev, st.st_ino, 0, NULL};
			ref_read(&rw, &top, fd, prefix.data, prefix.len, 0, &me);
		}
	}
	if (fd >= 0) {
		close(fd);
	}
	ref_emit(s, &top, out);
	if (top.has_self) {
		recs_push(out, top.self);
	}
	ref_free(&top);
	*asked = rw.asked;
	bytes_free(&sroot);
	bytes_free(&prefix);
}

/*
 * Random trees and specs.
 */

/** Names with odd bytes: newlines, invalid and valid UTF-8, glob characters. */
static const char *const odd_names[] = {
	"new\nline", "tab\there", "sp ace", "\xff\xfe", "lone\xc3", "cut\xe2\x82", "sur\xed\xa0\x80", "over\xc0\xaf", "caf\xc3\xa9", "smile\xf0\x9f\x98\x80", "half\xf0\x9f\x98", "st*r", "q?m", "[br]", "back\\slash", "-dash", ".hidden", "UPPER", "x.txt", "y.c", "z.md", "\x01" "ctl", "del\x7f", "\xe2\x82\xac" "uro",
};

/** Make a name for entry `i` of a directory into `out` (NAME_MAX + 1 bytes). */
static inline void random_name(struct rng *rng, uint32_t i, char kind, char *out) {
	uint64_t roll = rng_below(rng, 100);
	if (roll < 45) {
		snprintf(out, NAME_MAX + 1, "%c%u", kind, i);
	} else if (roll < 93) {
		const char *odd = odd_names[rng_below(rng, sizeof(odd_names) / sizeof(odd_names[0]))];
		snprintf(out, NAME_MAX + 1, "%s%c%u", odd, kind, i);
	} else {
		// Long names, up to NAME_MAX: ASCII, or two-byte characters
		int n = snprintf(out, NAME_MAX + 1, "%c%u-", kind, i);
		size_t len = 200 + rng_below(rng, NAME_MAX - 200 + 1);
		bool wide = rng_below(rng, 2);
		for (size_t k = (size_t)n; k < len; ++k) {
			out[k] = !wide ? 'L' : (k - (size_t)n) % 2 ? '\xbb' : '\xce';
		}
		if (wide && (len - (size_t)n) % 2) {
			out[len - 1] = 'x';
		}
		out[len] = 0;
	}
}

/** A random tree being made. */
struct tree_gen {
	struct rng *rng;
	/** Directories and files made (absolute paths), as link targets. */
	char **dirs, **files;
	size_t ndirs, nfiles;
	/** Links to make once the rest exists. */
	char **links;
	size_t nlinks;
	/** Entries made. */
	size_t entries;
	/** Most entries per directory, most depth. */
	uint32_t fanout, depth;
};

/** Keep a path in a list. */
static inline void gen_keep(char ***list, size_t *n, const char *path) {
	*list = wc_realloc(*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = wc_dup(path, strlen(path));
}

/** Make a random directory at `path` (depth `depth`). */
static inline void gen_dir(struct tree_gen *g, const char *path, uint32_t depth) {
	mk_dir(path);
	gen_keep(&g->dirs, &g->ndirs, path);
	// The root holds the most, and at least two directories; some are empty
	uint32_t n = depth == 0 ? g->fanout : g->fanout / 3 + (uint32_t)rng_below(g->rng, g->fanout / 2 + 1);
	if (depth > 0 && rng_below(g->rng, 8) == 0) {
		n = 0;
	}
	for (uint32_t i = 0; i < n; ++i) {
		uint64_t roll = depth == 0 && i < 2 ? 0 : rng_below(g->rng, 100);
		char kind = depth < g->depth && roll < 30 ? 'd' : roll < 65 ? 'f' : roll < 72 ? 'p' : 'l';
		char name[NAME_MAX + 1];
		random_name(g->rng, i, kind, name);
		struct bytes p = {0};
		bytes_str(&p, path);
		bytes_str(&p, "/");
		bytes_str(&p, name);
		++g->entries;
		if (kind == 'd') {
			gen_dir(g, p.data, depth + 1);
		} else if (kind == 'f') {
			mk_file(p.data);
			gen_keep(&g->files, &g->nfiles, p.data);
		} else if (kind == 'p') {
			if (mkfifo(p.data, 0644) != 0) {
				fail("mkfifo: %s", strerror(errno));
			}
		} else {
			gen_keep(&g->links, &g->nlinks, p.data);
		}
		bytes_free(&p);
	}
}

/**
 * Make a random tree at `root`: nested directories (some empty), files,
 * FIFOs, names with odd bytes, and symlinks to directories, files, nothing,
 * ancestors (".", "..", the root), themselves, and other links.
 * @return How many entries it holds (the root aside).
 */
static inline size_t tree_random(struct rng *rng, const char *root, uint32_t fanout, uint32_t depth) {
	struct tree_gen g = {.rng = rng, .fanout = fanout, .depth = depth};
	gen_dir(&g, root, 0);
	// Links to directories that are not ancestors make a followed walk see
	// their subtrees once more: two at most, and no chain leads to them
	uint32_t cross = 0;
	bool *to_dir = wc_alloc(g.nlinks * sizeof(*to_dir));
	for (size_t i = 0; i < g.nlinks; ++i) {
		const char *target;
		const char *slash = strrchr(g.links[i], '/');
		bool top = (size_t)(slash - g.links[i]) == strlen(root);
		uint64_t roll = rng_below(rng, 100);
		to_dir[i] = false;
		if (roll < 15 && cross < 2) {
			target = g.dirs[rng_below(rng, g.ndirs)];
			to_dir[i] = true;
			++cross;
		} else if (roll < 45 && g.nfiles) {
			target = g.files[rng_below(rng, g.nfiles)];
		} else if (roll < 55) {
			target = "no-such-target";
		} else if (roll < 62) {
			target = ".";
		} else if (roll < 69) {
			// The parent (from the root's own entries that would leave the tree)
			target = top ? "." : "..";
		} else if (roll < 75) {
			target = root;
		} else if (roll < 82) {
			// Itself: ELOOP when followed
			target = slash + 1;
		} else if (i > 0 && !to_dir[i - 1]) {
			// Another link: a chain
			target = g.links[i - 1];
		} else {
			target = "no-such-target";
		}
		mk_link(target, g.links[i]);
	}
	free(to_dir);
	size_t entries = g.entries;
	for (size_t i = 0; i < g.ndirs; ++i) {
		free(g.dirs[i]);
	}
	for (size_t i = 0; i < g.nfiles; ++i) {
		free(g.files[i]);
	}
	for (size_t i = 0; i < g.nlinks; ++i) {
		free(g.links[i]);
	}
	free(g.dirs);
	free(g.files);
	free(g.links);
	return entries;
}

/**
 * Globs for names and prunes: classes, brackets, a newline, bytes that are
 * not UTF-8.  The reference matches with fnmatch(3), byte by byte (the C
 * locale), as glibc does in a UTF-8 locale for a pattern that is not UTF-8;
 * the engine keeps a name's é one character (fnm.c lists this departure),
 * so the stray \xc3 here is followed by a set that tells the two apart the
 * same way both ways (it matches "lone\xc3f1", never "caf\xc3\xa9").
 */
static const char *const some_globs[] = {
	"*", "f*", "d*", "*.txt", "*.[ch]", "[[:upper:]]*", "*[[:digit:]]", "?", "??*", "*\n*", "\xff*", ".*", "*\xc3[!\xa9]*", "[!d]*", "*e*", "l[0-9]", "*\\**",
};

/** Suffixes. */
static const char *const some_exts[] = {".txt", ".c", "1", "e", "\xa9" "d2", "\x80" "f0", "\xf0\x9f\x98\x80" "d1"};


/** Pick a random element of a string array. */
#define PICK(rng, arr) ((arr)[rng_below((rng), sizeof(arr) / sizeof((arr)[0]))])

/** A random spec for the tree at `root`: any order, links, flags, depths, types, filters, descriptor limit. */
static inline struct wspec spec_random(struct rng *rng, const char *root) {
	struct wspec s = spec_default(root);
	s.cfg.order = (uint32_t)rng_below(rng, 3);
	s.cfg.follow = (uint32_t)rng_below(rng, 3);
	if (rng_below(rng, 3) == 0) {
		s.cfg.flags |= IOQ_WALK_STAT;
	}
	if (rng_below(rng, 2) == 0) {
		s.cfg.flags |= IOQ_WALK_SORT;
	}
	if (rng_below(rng, 6) == 0) {
		s.cfg.flags |= IOQ_WALK_XDEV;
	}
	if (s.cfg.order != IOQ_WALK_POST && rng_below(rng, 4) == 0) {
		s.cfg.flags |= IOQ_WALK_GATE;
		s.gate_salt = rng_next(rng);
		s.gate_skip_pct = (uint32_t)rng_below(rng, 101);
	}
	static const uint32_t maxes[] = {IOQ_WALK_NO_MAX, IOQ_WALK_NO_MAX, IOQ_WALK_NO_MAX, 0, 1, 2, 3};
	s.cfg.max_depth = PICK(rng, maxes);
	if (rng_below(rng, 4) == 0) {
		s.cfg.min_depth = (uint32_t)rng_below(rng, 3);
		if (s.cfg.min_depth > s.cfg.max_depth) {
			s.cfg.min_depth = s.cfg.max_depth;
		}
	}
	if (rng_below(rng, 3) == 0) {
		static const uint32_t types[] = {1u << DT_REG, 1u << DT_DIR, 1u << DT_LNK | 1u << DT_FIFO, 1u << DT_REG | 1u << DT_DIR, 1u << DT_FIFO};
		s.cfg.types = PICK(rng, types);
	}
	s.cfg.terminator = rng_below(rng, 2) ? '\n' : 0;
	static const uint32_t limits[] = {0, 1, 2, 3, 8};
	s.cfg.fd_limit = PICK(rng, limits);
	if (rng_below(rng, 4) == 0) {
		s.nnames = 1 + (uint32_t)rng_below(rng, 2);
		for (uint32_t i = 0; i < s.nnames; ++i) {
			s.names[i] = PICK(rng, some_globs);
		}
		if (rng_below(rng, 3) == 0) {
			s.names[0] = rng_below(rng, 2) ? "F*" : "*.TXT";
			s.name_flags[0] = IOQ_WALK_ITEM_CASEFOLD;
		}
	}
	if (rng_below(rng, 5) == 0) {
		s.nprunes = 1 + (uint32_t)rng_below(rng, 2);
		for (uint32_t i = 0; i < s.nprunes; ++i) {
			s.prunes[i] = PICK(rng, some_globs);
		}
	}
	if (rng_below(rng, 5) == 0) {
		s.nexts = 1 + (uint32_t)rng_below(rng, 3);
		for (uint32_t i = 0; i < s.nexts; ++i) {
			s.exts[i] = PICK(rng, some_exts);
		}
	}
	if (rng_below(rng, 6) == 0) {
		// The root shown under another name, with a byte that is not UTF-8
		s.shown = "R\xe9t";
	} else if (rng_below(rng, 10) == 0) {
		s.shown = ".";
		s.prefix = "./";
	}
	return s;
}

#endif // IOQ_TEST_WALKREF_H
