// SPDX-License-Identifier: 0BSD
/**
 * walk_stress: the traversal engine (walk.h) against a reference walk.
 *
 * On both backends (io_uring, skipped with a message where the kernel
 * refuses it, and threads) and 1 to 4 worker threads:
 *
 *  - random trees (nested and empty directories, files, FIFOs, symlinks to
 *    directories, files, nothing, ancestors, themselves and other links;
 *    names with newlines, bytes that are not UTF-8, glob characters, up to
 *    NAME_MAX bytes) walked with random specs: every order, links never
 *    followed, the root only or always, stats, sorting, gates answered at
 *    random, min and max depth, type masks, name globs, prunes, suffixes,
 *    the root shown under another name, roots that are links, files or
 *    missing.  The records equal the reference walk's (walkref.h: find's
 *    rules, on descriptors), as a set, or, sorted, as a sequence; the order
 *    keeps its promises; every batch is well-formed (offsets, terminators,
 *    UTF-16 offsets, flags, stats: walkdrive.h);
 *  - descriptor limits 1, 2, 3, 8 and 0 (a share of the headroom): every
 *    entry still comes, and no walk leaves a descriptor open;
 *  - sorted walks give byte-identical streams on every backend and thread
 *    count;
 *  - links followed into loops (to the root, to parents, chains, two
 *    directories linking to each other): the walk ends, each loop an error
 *    record naming the depth it leads back to;
 *  - paths past PATH_MAX (a chain of directories with 200-byte names), with
 *    the root short, and the root itself longer than PATH_MAX;
 *  - misuse: bad configurations and spec blobs, a busy queue.
 *
 * The seed comes from $IOQ_TEST_SEED, else the clock; it is printed.
 */

#define _GNU_SOURCE
#include "walkcheck.h"
#include "walkdrive.h"
#include "walkref.h"

/** Random trees to walk. */
#define TREES 3
/** Random walks per queue. */
#define WALKS (HARNESS_TSAN ? 5 : 14)
/** Levels of the deep chain, and the bytes of each level's name. */
#define DEEP_LEVELS 26
#define DEEP_NAME 200
/** The whole program's time limit, in seconds. */
#define WATCHDOG_S 300

/** The trees' roots, and other roots: a link to a tree, a file, a dangling link, nothing. */
static char trees[TREES][256];
static char root_link[256], root_file[256], root_dangling[256], root_missing[256], root_slash[260];

/** Sorted specs, and the stream the first queue gave for each: every queue must give the same. */
#define SORTED 3
static struct wspec sorted_specs[SORTED];
static struct bytes sorted_streams[SORTED];

/** Counts for the report. */
static uint64_t walks, records, peak_fds_max[9];

/** Walk a spec as `d` says and check it against the reference walk, into `g`. */
static void check_drive(struct ioq *q, const struct wspec *s, const struct drive *d, const char *label, struct got *g) {
	set_context("%s: %s (drive seed %" PRIu64 ")", label, spec_text(s), d->seed);
	struct recs want, asked;
	ref_walk(s, &want, &asked);
	walk_drive(q, s, d, g);
	if (!g->ended) {
		fail("the walk did not end");
	}
	if (s->cfg.flags & IOQ_WALK_SORT) {
		recs_same_seq("sorted walk vs reference", &g->recs, &want);
	} else {
		recs_same_set("walk vs reference", &g->recs, &want);
	}
	check_order("order", s, &g->recs);
	recs_same_set("gates asked", &g->asked, &asked);
	recs_free(&want);
	recs_free(&asked);
	++walks;
	records += g->recs.n;
}

/** Walk a spec and check it against the reference walk, into `g`. */
static void check_walk(struct ioq *q, const struct wspec *s, uint64_t seed, const char *label, struct got *g) {
	struct drive d = drive_plain(seed);
	check_drive(q, s, &d, label, g);
}

/** As check_walk(), dropping what the walk gave. */
static void check_walk_only(struct ioq *q, const struct wspec *s, uint64_t seed, const char *label) {
	struct got g;
	check_walk(q, s, seed, label, &g);
	got_free(&g);
}

/** A random root: mostly a tree, sometimes a link to one, a file, nothing. */
static const char *random_root(struct rng *rng) {
	uint64_t roll = rng_below(rng, 100);
	if (roll < 8) {
		return root_link;
	} else if (roll < 12) {
		return root_file;
	} else if (roll < 15) {
		return root_dangling;
	} else if (roll < 18) {
		return root_missing;
	} else if (roll < 22) {
		return root_slash;
	} else if (roll < 24) {
		return "";
	}
	return trees[rng_below(rng, TREES)];
}

/** Everything a queue is put through. */
static void test_queue(int32_t backend, uint32_t threads, struct rng *rng) {
	char label[96];
	uint32_t depth = rng_below(rng, 3) == 0 ? threads : 64;
	snprintf(label, sizeof(label), "%s, %u threads, depth %u", backend_name(backend), threads, depth);
	set_context("%s: making the queue", label);
	int fds = count_fds();
	struct ioq *q = queue_make(depth, threads, backend);

	// Random specs on random trees
	for (int i = 0; i < WALKS; ++i) {
		struct wspec s = spec_random(rng, random_root(rng));
		check_walk_only(q, &s, rng_next(rng), label);
	}

	// Descriptor limits from 1 up: every entry still comes
	static const uint32_t limits[] = {1, 2, 3, 8, 0};
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); ++i) {
		struct wspec s = spec_default(trees[i % TREES]);
		s.cfg.order = (uint32_t)rng_below(rng, 3);
		s.cfg.follow = (uint32_t)rng_below(rng, 3);
		s.cfg.fd_limit = limits[i];
		if (rng_below(rng, 2)) {
			s.cfg.flags |= IOQ_WALK_SORT;
		}
		struct got g;
		check_walk(q, &s, rng_next(rng), label, &g);
		uint32_t peak = (uint32_t)g.counters[IOQ_WALK_COUNT_PEAK_FDS];
		if (limits[i] && peak > limits[i]) {
			fail("fd_limit %u: the walk held %u descriptors at once", limits[i], peak);
		}
		if (limits[i] < 9 && peak > peak_fds_max[limits[i]]) {
			peak_fds_max[limits[i]] = peak;
		}
		got_free(&g);
	}

	// Gates answered at random, half skipped; then in both orders answered
	// only once the directory's record has come, as the CLI answers -prune
	for (int i = 0; i < 6; ++i) {
		struct wspec s = spec_default(trees[rng_below(rng, TREES)]);
		s.cfg.order = i < 2 ? (uint32_t)rng_below(rng, 2) : (uint32_t)(i & 1);
		s.cfg.flags = IOQ_WALK_GATE | (i & 2 ? IOQ_WALK_SORT : 0);
		s.cfg.fd_limit = (uint32_t)rng_below(rng, 4);
		s.gate_salt = rng_next(rng);
		s.gate_skip_pct = 50;
		struct drive d = drive_plain(rng_next(rng));
		d.answer_at_record = i >= 2;
		struct got g;
		check_drive(q, &s, &d, label, &g);
		got_free(&g);
	}

	// Sorted walks: the same bytes on every queue
	for (int i = 0; i < SORTED; ++i) {
		struct got g;
		check_walk(q, &sorted_specs[i], rng_next(rng), label, &g);
		if (!sorted_streams[i].data) {
			sorted_streams[i] = g.stream;
			g.stream.data = NULL;
		} else if ((g.stream.len != sorted_streams[i].len || memcmp(g.stream.data, sorted_streams[i].data, g.stream.len) != 0)) {
			fail("sorted walk %d: the stream differs from the first queue's (%zu bytes, %zu before)", i, g.stream.len, sorted_streams[i].len);
		}
		got_free(&g);
	}

	set_context("%s: destroying the queue", label);
	ioq_destroy(q);
	if (count_fds() != fds) {
		fail("%s: %d descriptors before the queue, %d after", label, fds, count_fds());
	}
}

/*
 * Loops.
 */

/** Find a record by the end of its path and its op.  @return It, or NULL. */
static const struct rec *find_rec(const struct recs *l, const char *tail, uint8_t op) {
	size_t n = strlen(tail);
	for (size_t i = 0; i < l->n; ++i) {
		const struct rec *r = &l->v[i];
		if (r->len >= n && memcmp(r->path + r->len - n, tail, n) == 0 && r->op == op) {
			return r;
		}
	}
	return NULL;
}

/**
 * Links followed into loops: to the root, to parents, through a chain of
 * links, two directories linking to each other, a link to itself.
 */
static void test_loops(int32_t backend, struct rng *rng) {
	char root[256], path[600];
	snprintf(root, sizeof(root), "%s/loops", scratch);
	set_context("loops: making the tree");
	mk_dir(root);
	const char *dirs[] = {"a", "a/b", "x", "y"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); ++i) {
		snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
		mk_dir(path);
	}
	const char *links[][2] = {
		{"a/b/up", "../.."},        // the root
		{"a/self", "."},            // its own directory
		{"a/b/parent", ".."},       // a
		{"l1", "l2"},               // a chain: l1 -> l2 -> a
		{"l2", "a"},
		{"x/toy", "../y"},          // x and y lead to each other
		{"y/tox", "../x"},
		{"selfish", "selfish"},     // itself: ELOOP when followed
		{"a/b/file", "../../f"},
	};
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); ++i) {
		snprintf(path, sizeof(path), "%s/%s", root, links[i][0]);
		mk_link(links[i][1], path);
	}
	snprintf(path, sizeof(path), "%s/f", root);
	mk_file(path);
	snprintf(path, sizeof(path), "%s/a/b/abs", root);
	mk_link(root, path);

	struct ioq *q = queue_make(64, 1 + (uint32_t)rng_below(rng, 4), backend);
	for (uint32_t order = 0; order < 3; ++order) {
		struct wspec s = spec_default(root);
		s.cfg.follow = IOQ_WALK_FOLLOW_ALWAYS;
		s.cfg.order = order;
		s.cfg.flags = rng_below(rng, 2) ? IOQ_WALK_SORT : 0;
		s.cfg.fd_limit = (uint32_t)rng_below(rng, 4);
		struct got g;
		check_walk(q, &s, rng_next(rng), backend_name(backend), &g);
		// The loops, each at the depth it leads back to (independently of the reference)
		static const struct {
			const char *tail;
			uint32_t aux;
		} loops[] = {{"/a/b/up", 0}, {"/a/self", 1}, {"/a/b/parent", 1}, {"/a/b/abs", 0}, {"/l1/self", 1}, {"/l2/b/parent", 1}, {"/x/toy/tox", 1}, {"/y/tox/toy", 1}};
		for (size_t i = 0; i < sizeof(loops) / sizeof(loops[0]); ++i) {
			const struct rec *r = find_rec(&g.recs, loops[i].tail, IOQ_WALK_OP_LOOP);
			if (!r || r->err != ELOOP || r->aux != loops[i].aux || !(r->flags & IOQ_WALK_REC_ERROR)) {
				fail("loops: no loop record for %s leading back to depth %u (%s)", loops[i].tail, loops[i].aux, r ? rec_text(r) : "none");
			}
		}
		const struct rec *r = find_rec(&g.recs, "/selfish", IOQ_WALK_OP_STAT);
		if (!r || r->err != ELOOP) {
			fail("loops: a link to itself is a stat error with ELOOP (%s)", r ? rec_text(r) : "none");
		}
		got_free(&g);
	}
	ioq_destroy(q);
	rm_tree_at(AT_FDCWD, root);
}

/**
 * Breadth-first with gates: root/{a,b}/c/f, sorted, every gate answered
 * "enter" in one call, one worker.  Expected: the root, a, b, a/c, b/c,
 * a/c/f, b/c/f, though the answered directories go back to the to-do queue
 * one after the other (b may be read before a): a directory's
 * subdirectories join the emission list only when it is emitted.
 */
static void test_bfs_gates(int32_t backend, struct rng *rng) {
	char root[256], path[600];
	snprintf(root, sizeof(root), "%s/bfs-gates", scratch);
	mk_dir(root);
	static const char *const made[] = {"a", "b", "a/c", "b/c"};
	for (size_t i = 0; i < 4; ++i) {
		snprintf(path, sizeof(path), "%s/%s", root, made[i]);
		mk_dir(path);
	}
	snprintf(path, sizeof(path), "%s/a/c/f", root);
	mk_file(path);
	snprintf(path, sizeof(path), "%s/b/c/f", root);
	mk_file(path);

	struct ioq *q = queue_make(8, 1, backend);
	struct wspec s = spec_default(root);
	s.cfg.flags = IOQ_WALK_GATE | IOQ_WALK_SORT;
	s.gate_skip_pct = 0;
	struct got g;
	struct drive d = drive_plain(rng_next(rng));
	d.one_answer = true;
	check_drive(q, &s, &d, "bfs with gates", &g);
	static const char *const want[] = {"", "/a", "/b", "/a/c", "/b/c", "/a/c/f", "/b/c/f"};
	bool ok = g.recs.n == 7;
	for (size_t i = 0; ok && i < 7; ++i) {
		ok = strlen(g.recs.v[i].path) == strlen(root) + strlen(want[i]) && strcmp(g.recs.v[i].path + strlen(root), want[i]) == 0;
	}
	if (!ok) {
		fail("breadth-first with gates: %zu records, record 5 is %s, expected %s/a/c/f", g.recs.n, g.recs.n > 5 ? show_bytes(g.recs.v[5].path, g.recs.v[5].len) : "missing", root);
	}
	printf("ok   %s: breadth-first with gates answered together: in order\n", backend_name(backend));
	got_free(&g);
	ioq_destroy(q);
	rm_tree_at(AT_FDCWD, root);
}

/*
 * Paths past PATH_MAX.
 */

/** A deep level's name: its number, then 'x' up to DEEP_NAME bytes. */
static void deep_name(uint32_t level, char *out) {
	int n = snprintf(out, DEEP_NAME + 1, "%03u-", level);
	memset(out + n, 'x', DEEP_NAME - (size_t)n);
	out[DEEP_NAME] = 0;
}

/**
 * A chain of DEEP_LEVELS directories with 200-byte names below `root`,
 * every third level with a file and a side directory holding a file, the
 * bottom with two files and a directory with one.  The path of level
 * `at` goes into `long_root`.
 * @return How many entries there are below the root.
 */
static size_t deep_make(const char *root, uint32_t at, struct bytes *long_root) {
	mk_dir(root);
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		fail("open %s: %s", root, strerror(errno));
	}
	bytes_str(long_root, root);
	size_t entries = 0;
	char name[DEEP_NAME + 1];
	for (uint32_t level = 0; level < DEEP_LEVELS; ++level) {
		deep_name(level, name);
		if (mkdirat(fd, name, 0755) != 0) {
			fail("mkdirat (level %u): %s", level, strerror(errno));
		}
		++entries;
		if (level % 3 == 0) {
			char side[32];
			snprintf(side, sizeof(side), "side%03u", level);
			int f = openat(fd, "file", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			if (f < 0 || mkdirat(fd, side, 0755) != 0) {
				fail("level %u: %s", level, strerror(errno));
			}
			close(f);
			int sfd = openat(fd, side, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			f = sfd >= 0 ? openat(sfd, "inside", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644) : -1;
			if (f < 0) {
				fail("level %u: %s", level, strerror(errno));
			}
			close(f);
			close(sfd);
			entries += 3;
		}
		int next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (next < 0) {
			fail("openat (level %u): %s", level, strerror(errno));
		}
		close(fd);
		fd = next;
		if (level < at) {
			bytes_str(long_root, "/");
			bytes_str(long_root, name);
		}
	}
	const char *bottom[] = {"bottom1", "bottom2"};
	for (int i = 0; i < 2; ++i) {
		int f = openat(fd, bottom[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (f < 0) {
			fail("%s: %s", bottom[i], strerror(errno));
		}
		close(f);
	}
	if (mkdirat(fd, "end", 0755) != 0) {
		fail("end: %s", strerror(errno));
	}
	int efd = openat(fd, "end", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int f = efd >= 0 ? openat(efd, "last", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644) : -1;
	if (f < 0) {
		fail("end/last: %s", strerror(errno));
	}
	close(f);
	close(efd);
	close(fd);
	return entries + 4;
}

/** Paths past PATH_MAX: the root short, then the root itself past PATH_MAX. */
static void test_deep(int32_t backend, struct rng *rng) {
	char root[256];
	snprintf(root, sizeof(root), "%s/deep", scratch);
	set_context("deep: making the tree");
	struct bytes long_root = {0};
	size_t entries = deep_make(root, 21, &long_root);
	if (long_root.len <= PATH_MAX) {
		fail("deep: the long root is only %zu bytes", long_root.len);
	}

	struct ioq *q = queue_make(64, 1 + (uint32_t)rng_below(rng, 4), backend);
	static const uint32_t limits[] = {1, 2, 0};
	for (uint32_t i = 0; i < 6; ++i) {
		struct wspec s = spec_default(root);
		s.cfg.order = i % 3;
		s.cfg.follow = (uint32_t)rng_below(rng, 3);
		s.cfg.fd_limit = limits[rng_below(rng, 3)];
		s.cfg.flags = (rng_below(rng, 2) ? IOQ_WALK_SORT : 0) | (rng_below(rng, 3) == 0 ? IOQ_WALK_STAT : 0);
		struct got g;
		check_walk(q, &s, rng_next(rng), backend_name(backend), &g);
		// Every entry, the deepest past PATH_MAX with its whole path (independently of the reference)
		size_t longest = 0;
		for (size_t k = 0; k < g.recs.n; ++k) {
			longest = g.recs.v[k].len > longest ? g.recs.v[k].len : longest;
		}
		if (g.recs.n != entries + 1 || longest < (size_t)DEEP_LEVELS * (DEEP_NAME + 1) || !find_rec(&g.recs, "/end/last", 0)) {
			fail("deep: %zu records (expected %zu), the longest path %zu bytes", g.recs.n, entries + 1, longest);
		}
		got_free(&g);
	}

	// The root given past PATH_MAX
	for (uint32_t i = 0; i < 3; ++i) {
		struct wspec s = spec_default(long_root.data);
		s.cfg.order = i;
		s.cfg.follow = (uint32_t)rng_below(rng, 3);
		s.cfg.fd_limit = limits[rng_below(rng, 3)];
		s.cfg.flags = IOQ_WALK_SORT;
		struct got g;
		check_walk(q, &s, rng_next(rng), backend_name(backend), &g);
		if (g.recs.n < 10 || g.errors[IOQ_WALK_OP_OPENDIR] || g.errors[IOQ_WALK_OP_STAT]) {
			fail("deep: a root of %zu bytes gave %zu records, %u open errors", long_root.len, g.recs.n, g.errors[IOQ_WALK_OP_OPENDIR]);
		}
		got_free(&g);
	}

	// A root past PATH_MAX that is a file, a link (never followed, then
	// followed), or nothing: as a short one would be
	int fd = ref_open_root(long_root.data, long_root.len, true);
	if (fd < 0 || symlinkat("side021", fd, "lnk") != 0) {
		fail("deep: cannot make the link: %s", strerror(errno));
	}
	close(fd);
	static const struct {
		const char *name;
		uint32_t follow;
	} others[] = {{"/file", IOQ_WALK_FOLLOW_NEVER}, {"/lnk", IOQ_WALK_FOLLOW_NEVER}, {"/lnk", IOQ_WALK_FOLLOW_ROOT}, {"/none", IOQ_WALK_FOLLOW_NEVER}, {"/file/", IOQ_WALK_FOLLOW_ROOT}};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); ++i) {
		struct bytes other = {0};
		bytes_add(&other, long_root.data, long_root.len);
		bytes_str(&other, others[i].name);
		struct wspec s = spec_default(other.data);
		s.cfg.follow = others[i].follow;
		s.cfg.flags = IOQ_WALK_SORT | IOQ_WALK_STAT;
		if (i < 2) {
			// One record, the file or the link (not followed)
			uint8_t type = i == 0 ? DT_REG : DT_LNK;
			set_context("deep: a root past PATH_MAX: %s", spec_text(&s));
			struct drive d = drive_plain(rng_next(rng));
			struct got g;
			walk_drive(q, &s, &d, &g);
			const struct rec *r = g.recs.n ? &g.recs.v[0] : NULL;
			bool ok = g.recs.n == 1 && !(r->flags & IOQ_WALK_REC_ERROR) && r->type == type;
			if (!ok) {
				fail("%zu records, the first %s; expected one, of type %u", g.recs.n, r ? rec_text(r) : "none", type);
			}
			got_free(&g);
		}
		check_walk_only(q, &s, rng_next(rng), backend_name(backend));
		bytes_free(&other);
	}
	ioq_destroy(q);
	bytes_free(&long_root);
	rm_tree_at(AT_FDCWD, root);
}

/*
 * Misuse.
 */

/** ioq_walk_create() must refuse, with `want`, and hold no descriptor. */
static void expect_refused(struct ioq *q, const char *what, const struct ioq_walk_config *cfg, const struct bytes *blob, int32_t want) {
	set_context("misuse: %s", what);
	int fds = count_fds();
	int32_t err = 1;
	struct ioq_walk *w = ioq_walk_create(q, cfg, (const uint8_t *)blob->data, (uint32_t)blob->len, &err);
	if (w || err != want) {
		fail("ioq_walk_create() gave %p, err %d, expected %d", (void *)w, err, want);
	}
	if (count_fds() != fds) {
		fail("a refused ioq_walk_create() kept a descriptor");
	}
}

/** Bad configurations and spec blobs, a busy queue, bad answers: errors, never crashes. */
static void test_misuse(struct rng *rng) {
	struct ioq *q = queue_make(8, 2, IOQ_BACKEND_THREADS);
	struct wspec s = spec_default(trees[0]);
	struct bytes blob = {0};
	spec_blob(&s, &blob);

	struct ioq_walk_config bad[6];
	for (int i = 0; i < 6; ++i) {
		bad[i] = s.cfg;
	}
	bad[0].flags = IOQ_WALK_ALL_FLAGS + 1;
	bad[1].order = 3;
	bad[2].follow = 3;
	bad[3].terminator = 256;
	bad[4].min_depth = 3;
	bad[4].max_depth = 2;
	bad[5].order = IOQ_WALK_POST;
	bad[5].flags = IOQ_WALK_GATE;
	static const char *const bad_names[] = {"unknown flag", "order 3", "follow 3", "terminator 256", "min_depth > max_depth", "gates in post-order"};
	for (int i = 0; i < 6; ++i) {
		expect_refused(q, bad_names[i], &bad[i], &blob, -EINVAL);
	}

	struct bytes b = {0};
	expect_refused(q, "no root", &s.cfg, &b, -EINVAL);
	spec_item(&b, IOQ_WALK_ITEM_ROOT, 0, "/", 1);
	spec_item(&b, IOQ_WALK_ITEM_ROOT, 0, "/", 1);
	expect_refused(q, "two roots", &s.cfg, &b, -EINVAL);
	b.len = 0;
	spec_item(&b, IOQ_WALK_ITEM_ROOT, 0, "a\0b", 3);
	expect_refused(q, "a NUL in the root", &s.cfg, &b, -EINVAL);
	b.len = 0;
	spec_item(&b, IOQ_WALK_ITEM_ROOT, 0, "/", 1);
	spec_item(&b, IOQ_WALK_ITEM_NAME, 0, "a\0*", 3);
	expect_refused(q, "a NUL in a glob", &s.cfg, &b, -EINVAL);
	b.len = 0;
	spec_item(&b, IOQ_WALK_ITEM_ROOT, 0, "/", 1);
	spec_item(&b, 99, 0, "x", 1);
	expect_refused(q, "an unknown item", &s.cfg, &b, -EINVAL);
	// An item's bytes cut short (missing padding after the last item is tolerated)
	struct bytes cut = {0};
	bytes_add(&cut, blob.data, 8 + s.root_len - 1);
	expect_refused(q, "a blob cut short", &s.cfg, &cut, -EINVAL);
	cut.len = 5;
	expect_refused(q, "a header cut short", &s.cfg, &cut, -EINVAL);
	bytes_free(&cut);
	bytes_free(&b);

	// The queue still walks; releases of unknown batches are ignored; gates answered badly are refused
	set_context("misuse: bad answers");
	s.cfg.flags = IOQ_WALK_GATE;
	s.gate_skip_pct = 0;
	spec_blob(&s, &blob);
	int32_t err;
	struct ioq_walk *w = ioq_walk_create(q, &s.cfg, (const uint8_t *)blob.data, (uint32_t)blob.len, &err);
	if (!w) {
		fail("ioq_walk_create: %s", strerror(-err));
	}
	ioq_walk_release(w, 12345);
	int32_t r;
	while ((r = ioq_walk_next(w)) != IOQ_WALK_ASK) {
		if (r == IOQ_WALK_END) {
			fail("a gated walk of a tree with directories ended without asking");
		}
		if (r >= 0) {
			ioq_walk_release(w, (uint32_t)r);
		} else {
			ioq_walk_wait(w, WC_WAIT_US);
		}
	}
	uint8_t text[4096];
	uint32_t meta[3];
	if (ioq_walk_asked(w, text, sizeof(text), meta, 2) != -EINVAL) {
		fail("ioq_walk_asked() with room for no directory must give -EINVAL");
	}
	uint32_t id = 777;
	uint8_t yes = 1;
	if (ioq_walk_decide(w, &id, &yes, 1) != -EINVAL) {
		fail("ioq_walk_decide() of an id never asked must give -EINVAL");
	}
	// Destroyed with gates unanswered
	ioq_walk_destroy(w);
	ioq_walk_destroy(NULL);

	s = spec_default(trees[0]);
	check_walk_only(q, &s, rng_next(rng), "misuse: after");
	ioq_cancel(q);
	spec_blob(&s, &blob);
	expect_refused(q, "a cancelled queue", &s.cfg, &blob, -EINTR);
	ioq_destroy(q);
	bytes_free(&blob);
}

/** Make the trees and the other roots. */
static void make_roots(struct rng *rng) {
	for (int i = 0; i < TREES; ++i) {
		snprintf(trees[i], sizeof(trees[i]), "%s/t%d", scratch, i);
		set_context("making tree %d", i);
		size_t n = tree_random(rng, trees[i], 9 + (uint32_t)i * 3, 3);
		printf("walk_stress: tree %d: %zu entries\n", i, n);
	}
	snprintf(root_link, sizeof(root_link), "%s/link-to-t0", scratch);
	mk_link(trees[0], root_link);
	snprintf(root_file, sizeof(root_file), "%s/a-file", scratch);
	mk_file(root_file);
	snprintf(root_dangling, sizeof(root_dangling), "%s/dangling", scratch);
	mk_link("nowhere", root_dangling);
	snprintf(root_missing, sizeof(root_missing), "%s/missing", scratch);
	snprintf(root_slash, sizeof(root_slash), "%s/", trees[1]);

	for (int i = 0; i < SORTED; ++i) {
		sorted_specs[i] = spec_random(rng, trees[i % TREES]);
		sorted_specs[i].cfg.flags |= IOQ_WALK_SORT;
		sorted_specs[i].cfg.order = (uint32_t)i;
		if (i == IOQ_WALK_POST) {
			sorted_specs[i].cfg.flags &= ~(uint32_t)IOQ_WALK_GATE;
		}
	}
}

int main(void) {
	uint64_t seed = harness_seed();
	int64_t start = now_ns();
	printf("walk_stress" HARNESS_LANE ": seed %" PRIu64 " (set IOQ_TEST_SEED to repeat)%s\n", seed, HARNESS_TSAN ? ", scaled down for TSan" : "");
	fflush(stdout);
	harness_start("walk_stress", scratch_remove, WATCHDOG_S);
	warm_symbolizer();
	struct rng rng;
	rng_seed(&rng, seed);

	utf16_selftest();
	scratch_make("walk_stress");
	make_roots(&rng);
	bool uring = uring_works("walk_stress");
	int32_t backends[] = {IOQ_BACKEND_URING, IOQ_BACKEND_THREADS};

	test_misuse(&rng);
	for (size_t b = 0; b < 2; ++b) {
		if (backends[b] == IOQ_BACKEND_URING && !uring) {
			continue;
		}
		for (uint32_t threads = 1; threads <= 4; ++threads) {
			test_queue(backends[b], threads, &rng);
		}
		test_loops(backends[b], &rng);
		test_deep(backends[b], &rng);
		test_bfs_gates(backends[b], &rng);
		printf("ok   %s: %" PRIu64 " walks so far, %" PRIu64 " records\n", backend_name(backends[b]), walks, records);
		fflush(stdout);
	}
	printf("walk_stress: most descriptors held with fd_limit 1, 2, 3, 8: %" PRIu64 ", %" PRIu64 ", %" PRIu64 ", %" PRIu64 "\n", peak_fds_max[1], peak_fds_max[2], peak_fds_max[3], peak_fds_max[8]);

	for (int i = 0; i < SORTED; ++i) {
		bytes_free(&sorted_streams[i]);
	}
	scratch_remove();
	printf("walk_stress" HARNESS_LANE ": all passed in %.1f s%s\n", (double)(now_ns() - start) / 1e9, uring ? "" : " (io_uring skipped)");
	return 0;
}
