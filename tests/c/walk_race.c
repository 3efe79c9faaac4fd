// SPDX-License-Identifier: 0BSD
/**
 * walk_race: the traversal engine (walk.h) while things happen around it.
 *
 * On both backends (io_uring, skipped with a message where the kernel
 * refuses it, and threads) and 1 to 4 worker threads:
 *
 *  - cancellation at random points: at once, after k batches, from another
 *    thread after a random delay (while the owner works, or while it waits
 *    in ioq_walk_wait() holding every batch), with another thread waiting
 *    (ended by ioq_walk_stop_waits()), and destruction mid-walk without a
 *    cancellation or with gates unanswered.  Whatever came before the stop
 *    is what a whole walk gives; no descriptor is left open, no memory
 *    leaks (ASan's leak check), nothing hangs (the watchdog); the queue
 *    walks again afterwards, correctly;
 *  - a tree renamed and removed under the walks: a thread moves, swaps,
 *    removes and remakes directories while walks of every kind run: every
 *    batch is well-formed, every record an entry or an error, every path
 *    made of names the tree can hold; no leak, no hang;
 *  - the symlink-swap race: a directory `sw` (holding `mine`) and a symlink
 *    `swl` to a directory outside the root (holding a marker) swapped back
 *    and forth with renameat2(RENAME_EXCHANGE) while walks that follow no
 *    link run: no path under the root ever names the marker.  Once with
 *    the two at depth 1 and max_depth 2, once deeper with descriptor limits
 *    1 and 2 (the directories then open by paths of several components).
 *    Checked to fail when directories are opened without O_NOFOLLOW;
 *  - a batch given back twice (see test_double_release() in
 *    walkcheck.h, its smallest case).
 *
 * The seed comes from $IOQ_TEST_SEED, else the clock; it is printed.
 */

#define _GNU_SOURCE
#include "walkcheck.h"
#include "walkdrive.h"
#include "walkref.h"
#include <linux/fs.h>
#include <sys/syscall.h>

/** Cancellation rounds per queue. */
#define CANCEL_ROUNDS (HARNESS_TSAN ? 5 : 9)
/** Walks per queue while the tree changes, and while the link swaps. */
#define MUTATE_WALKS (HARNESS_TSAN ? 4 : 10)
#define SWAP_WALKS (HARNESS_TSAN ? 25 : 60)
/** Top-level directories the mutator plays with. */
#define MUT_DIRS 10
/** The whole program's time limit, in seconds. */
#define WATCHDOG_S 300

/** The tree the cancellations walk. */
static char big[256];
/** Counts for the report. */
static uint64_t stats_cancelled, stats_ended, stats_stalled, stats_mut_errors, stats_mut_records;

/*
 * Cancellation.
 */

/** Cancel walks of `big` at random points; then walk it whole on the same queue. */
static void test_cancel(int32_t backend, uint32_t threads, struct rng *rng) {
	char label[80];
	uint32_t depth = rng_below(rng, 2) ? threads : 64;
	snprintf(label, sizeof(label), "%s, %u threads, depth %u", backend_name(backend), threads, depth);
	int fds = count_fds();
	struct ioq *q = queue_make(depth, threads, backend);
	static const uint32_t limits[] = {0, 1, 2, 3, 8};
	for (int round = 0; round < CANCEL_ROUNDS; ++round) {
		struct wspec s = spec_default(big);
		s.cfg.order = (uint32_t)rng_below(rng, 3);
		s.cfg.follow = (uint32_t)rng_below(rng, 3);
		s.cfg.flags = (rng_below(rng, 2) ? IOQ_WALK_STAT : 0) | (rng_below(rng, 2) ? IOQ_WALK_SORT : 0);
		s.cfg.fd_limit = PICK(rng, limits);
		s.cfg.terminator = rng_below(rng, 2) ? 0 : '\n';
		struct drive d = drive_plain(rng_next(rng));
		d.keep_at_end = rng_below(rng, 2);
		// The first round of each queue is the owner waiting, holding every batch
		uint32_t mode = round == 0 ? 3 : (uint32_t)rng_below(rng, 7);
		const char *what = "";
		switch (mode) {
		case 0:
			d.cancel_after = 0;
			what = "cancelled at once";
			break;
		case 1:
			d.cancel_after = 1 + (int32_t)rng_below(rng, 6);
			what = "cancelled after some batches";
			break;
		case 2:
			d.cancel_delay_us = (int32_t)rng_below(rng, 5000);
			what = "cancelled by another thread";
			break;
		case 3:
			// Stats make small batches: the owner soon holds them all
			s.cfg.flags |= IOQ_WALK_STAT;
			d.cancel_delay_us = 2000;
			d.cancel_when_stalled = true;
			d.hold_all = true;
			what = "cancelled while the owner waits, holding every batch";
			break;
		case 4:
			d.destroy_after = (int32_t)rng_below(rng, 4);
			what = "destroyed mid-walk";
			break;
		case 5:
			if (s.cfg.order == IOQ_WALK_POST) {
				s.cfg.order = IOQ_WALK_DFS;
			}
			s.cfg.flags |= IOQ_WALK_GATE;
			s.gate_skip_pct = 30;
			d.no_answers = true;
			what = "destroyed with gates unanswered";
			break;
		default:
			d.waiter_thread = true;
			d.cancel_delay_us = (int32_t)rng_below(rng, 5000);
			what = "cancelled, another thread waiting";
			break;
		}
		set_context("%s: %s: %s (drive seed %" PRIu64 ")", label, what, spec_text(&s), d.seed);
		struct recs want, asked;
		ref_walk(&s, &want, &asked);
		struct got g;
		walk_drive(q, &s, &d, &g);
		recs_subset(what, &g.recs, &want);
		if (g.ended) {
			recs_same_set(what, &g.recs, &want);
			++stats_ended;
		} else if (mode == 3 && !g.stalled) {
			fail("the walk stopped before the owner held every batch");
		}
		stats_cancelled += g.cancelled;
		stats_stalled += g.stalled;
		recs_free(&want);
		recs_free(&asked);
		got_free(&g);
	}

	// The queue walks again, whole and right
	struct wspec s = spec_default(big);
	s.cfg.order = (uint32_t)rng_below(rng, 3);
	s.cfg.flags = IOQ_WALK_SORT;
	set_context("%s: a whole walk after the cancellations: %s", label, spec_text(&s));
	struct recs want, asked;
	ref_walk(&s, &want, &asked);
	struct got g;
	struct drive d = drive_plain(rng_next(rng));
	walk_drive(q, &s, &d, &g);
	if (!g.ended) {
		fail("the walk did not end");
	}
	recs_same_set("after the cancellations", &g.recs, &want);
	recs_free(&want);
	recs_free(&asked);
	got_free(&g);
	ioq_destroy(q);
	if (count_fds() != fds) {
		fail("%s: %d descriptors before the queue, %d after", label, fds, count_fds());
	}
}

/*
 * Giving a batch back twice.
 */

/** Wait for ioq_walk_next() to say something other than IOQ_WALK_NONE, for up to `us`.  @return What it said. */
static int32_t next_within(struct ioq_walk *w, int64_t us) {
	int64_t end = now_ns() + us * 1000;
	int32_t r;
	while ((r = ioq_walk_next(w)) == IOQ_WALK_NONE && now_ns() < end) {
		ioq_walk_wait(w, 20000);
	}
	return r;
}

/**
 * A batch given back twice.  The owner
 * holds every batch; gives one, A, back; waits until a batch is ready (A:
 * the only one free), gives A back a second time, and takes A.  The second
 * release must be ignored, so the walk stalls (the owner holds them all).
 * The engine instead puts A on its free list while it waits for the owner:
 * a worker fills A again, and A comes out once more while the owner holds
 * it.  The owner only looks at batch numbers, never at their contents.
 */
static void test_double_release(int32_t backend) {
	char dir[300], path[600];
	snprintf(dir, sizeof(dir), "%s/many", scratch);
	set_context("double release: making the tree");
	mk_dir(dir);
	// Stats hold batches to 1024 records: enough for more than every batch
	for (int i = 0; i < 7000; ++i) {
		snprintf(path, sizeof(path), "%s/f%d", dir, i);
		mk_file(path);
	}
	struct ioq *q = queue_make(8, 1, backend);
	struct wspec s = spec_default(dir);
	s.cfg.flags = IOQ_WALK_STAT;
	struct bytes blob = {0};
	spec_blob(&s, &blob);
	set_context("double release: %s", backend_name(backend));
	int32_t err;
	struct ioq_walk *w = ioq_walk_create(q, &s.cfg, (const uint8_t *)blob.data, (uint32_t)blob.len, &err);
	if (!w) {
		fail("ioq_walk_create: %s", strerror(-err));
	}
	uint32_t nb = ioq_walk_batch_count(w);
	uint32_t held = 0, a = 0;
	while (held < nb) {
		int32_t r = next_within(w, 20 * 1000000);
		if (r < 0 || r >= (int32_t)nb) {
			fail("ioq_walk_next() = %d while taking every batch", r);
		}
		a = (uint32_t)r;
		++held;
	}
	// A is the only batch free: the next one out is A, filled again
	ioq_walk_release(w, a);
	int32_t ready = 0;
	for (int i = 0; i < 1000 && ready == 0; ++i) {
		ready = ioq_walk_wait(w, 20000);
	}
	if (ready != 1) {
		fail("ioq_walk_wait() = %d after a batch was given back", ready);
	}
	// Given back a second time while it waits for the owner: to be ignored
	ioq_walk_release(w, a);
	int32_t r = ioq_walk_next(w);
	if (r != (int32_t)a) {
		fail("ioq_walk_next() = %d, expected the only batch given back (%u)", r, a);
	}
	// The owner holds every batch again: nothing more may come
	r = next_within(w, 500000);
	if (r == (int32_t)a) {
		fail("batch %u, given back twice, came out again while the owner held it", a);
	}
	if (r != IOQ_WALK_NONE) {
		fail("ioq_walk_next() = %d with every batch held", r);
	}
	printf("ok   %s: a batch given back twice is given out once\n", backend_name(backend));
	ioq_walk_destroy(w);
	ioq_destroy(q);
	bytes_free(&blob);
	rm_tree_at(AT_FDCWD, dir);
}

/*
 * A tree changing under the walk.
 */

/** The mutator's state. */
struct mutator {
	pthread_t thread;
	const char *root;
	uint64_t seed;
	atomic_bool stop;
	uint64_t ops, done;
};

/** Make a small directory `name` in `dfd`: files, subdirectories, a link to its parent. */
static void mut_fill(int dfd, const char *name, struct rng *rng, int depth) {
	if (mkdirat(dfd, name, 0755) != 0) {
		return;
	}
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		return;
	}
	uint32_t n = 2 + (uint32_t)rng_below(rng, 5);
	for (uint32_t i = 0; i < n; ++i) {
		char entry[16];
		uint64_t roll = rng_below(rng, 10);
		if (roll < 3 && depth < 2) {
			snprintf(entry, sizeof(entry), "s%u", i);
			mut_fill(fd, entry, rng, depth + 1);
		} else if (roll < 4) {
			snprintf(entry, sizeof(entry), "l%u", i);
			symlinkat("..", fd, entry);
		} else {
			snprintf(entry, sizeof(entry), "f%u", i);
			int f = openat(fd, entry, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
			if (f >= 0) {
				close(f);
			}
		}
	}
	close(fd);
}

/** Move, swap, remove and remake directories until told to stop. */
static void *mutator_main(void *arg) {
	struct mutator *m = arg;
	struct rng rng;
	rng_seed(&rng, m->seed);
	int root = open(m->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		fail("mutator: open %s: %s", m->root, strerror(errno));
	}
	while (!atomic_load(&m->stop)) {
		char a[16], b[16];
		snprintf(a, sizeof(a), "m%u", (unsigned)rng_below(&rng, MUT_DIRS));
		snprintf(b, sizeof(b), "m%u", (unsigned)rng_below(&rng, MUT_DIRS));
		int ret = -1;
		switch (rng_below(&rng, 6)) {
		case 0:
			ret = renameat(root, a, root, b);
			break;
		case 1:
			ret = (int)syscall(SYS_renameat2, root, a, root, b, RENAME_EXCHANGE);
			break;
		case 2:
			rm_tree_at(root, a);
			ret = 0;
			break;
		case 3:
			mut_fill(root, a, &rng, 0);
			ret = 0;
			break;
		case 4: {
			// Into another directory, and back out of it
			int fd = openat(root, b, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0) {
				ret = renameat(root, a, fd, "in0");
				if (ret == 0) {
					renameat(fd, "in0", root, a);
				}
				close(fd);
			}
			break;
		}
		default: {
			int fd = openat(root, a, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0) {
				ret = (int)syscall(SYS_renameat2, fd, "s0", fd, "s1", RENAME_EXCHANGE);
				close(fd);
			}
			break;
		}
		}
		++m->ops;
		m->done += ret == 0;
	}
	close(root);
	return NULL;
}

/** Whether every name of a path below the root is one the mutator makes: letters, then digits. */
static bool mut_names_ok(const struct rec *r, size_t prefix) {
	size_t i = prefix;
	while (i < r->len) {
		size_t j = i;
		while (j < r->len && r->path[j] >= 'a' && r->path[j] <= 'z') {
			++j;
		}
		size_t k = j;
		while (k < r->len && r->path[k] >= '0' && r->path[k] <= '9') {
			++k;
		}
		if (j == i || k == j || (k < r->len && r->path[k] != '/')) {
			return false;
		}
		i = k + 1;
	}
	return true;
}

/** Walks of every kind while a thread renames and removes directories under them. */
static void test_mutate(int32_t backend, struct rng *rng) {
	char root[256];
	snprintf(root, sizeof(root), "%s/mut-%s", scratch, backend_name(backend));
	set_context("mutate: making the tree");
	mk_dir(root);
	int rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (uint32_t i = 0; i < MUT_DIRS; ++i) {
		char name[16];
		snprintf(name, sizeof(name), "m%u", i);
		mut_fill(rfd, name, rng, 0);
	}
	close(rfd);

	int fds = count_fds();
	struct mutator m = {.root = root, .seed = rng_next(rng)};
	start_thread(&m.thread, mutator_main, &m);
	static const uint32_t limits[] = {0, 1, 2, 3, 8};
	for (uint32_t threads = 1; threads <= 4; ++threads) {
		struct ioq *q = queue_make(64, threads, backend);
		for (int i = 0; i < MUTATE_WALKS; ++i) {
			struct wspec s = spec_default(root);
			s.cfg.order = (uint32_t)rng_below(rng, 3);
			s.cfg.follow = (uint32_t)rng_below(rng, 3);
			s.cfg.flags = (rng_below(rng, 2) ? IOQ_WALK_STAT : 0) | (rng_below(rng, 2) ? IOQ_WALK_SORT : 0);
			if (s.cfg.order != IOQ_WALK_POST && rng_below(rng, 4) == 0) {
				s.cfg.flags |= IOQ_WALK_GATE;
				s.gate_salt = rng_next(rng);
				s.gate_skip_pct = 20;
			}
			s.cfg.fd_limit = PICK(rng, limits);
			struct drive d = drive_plain(rng_next(rng));
			// The mutator opens and closes descriptors too: counted once it stops
			d.no_fd_check = true;
			if (rng_below(rng, 4) == 0) {
				d.cancel_delay_us = (int32_t)rng_below(rng, 3000);
			}
			set_context("mutate: %s, %u threads: %s (drive seed %" PRIu64 ")", backend_name(backend), threads, spec_text(&s), d.seed);
			struct got g;
			walk_drive(q, &s, &d, &g);
			if (!g.ended && !g.cancelled) {
				fail("the walk neither ended nor was cancelled");
			}
			struct bytes sroot = {0}, prefix = {0};
			spec_shown(&s, &sroot, &prefix);
			for (size_t k = 0; k < g.recs.n; ++k) {
				const struct rec *r = &g.recs.v[k];
				if (!(r->flags & IOQ_WALK_REC_ROOT) && !mut_names_ok(r, prefix.len)) {
					fail("a path no tree here could hold: %s", rec_text(r));
				}
				stats_mut_errors += (r->flags & IOQ_WALK_REC_ERROR) != 0;
			}
			stats_mut_records += g.recs.n;
			bytes_free(&sroot);
			bytes_free(&prefix);
			got_free(&g);
		}
		ioq_destroy(q);
	}
	atomic_store(&m.stop, true);
	pthread_join(m.thread, NULL);
	if (m.done == 0) {
		fail("mutate: the mutator changed nothing in %" PRIu64 " tries", m.ops);
	}
	if (count_fds() != fds) {
		fail("mutate: %d descriptors before the walks, %d after", fds, count_fds());
	}
	printf("ok   %s: %d walks under a changing tree (%" PRIu64 " changes made)\n", backend_name(backend), 4 * MUTATE_WALKS, m.done);
	rm_tree_at(AT_FDCWD, root);
}

/*
 * The symlink-swap race.
 */

/** The swapper's state. */
struct swapper {
	pthread_t thread;
	int dfd;
	atomic_bool stop;
	uint64_t swaps;
};

/** Swap `sw` and `swl` in dfd until told to stop. */
static void *swapper_main(void *arg) {
	struct swapper *sw = arg;
	while (!atomic_load(&sw->stop)) {
		if (syscall(SYS_renameat2, sw->dfd, "sw", sw->dfd, "swl", RENAME_EXCHANGE) != 0) {
			fail("renameat2(RENAME_EXCHANGE): %s", strerror(errno));
		}
		++sw->swaps;
	}
	return NULL;
}

/**
 * Walks that follow no link while `sw` and `swl` swap, in `root` or in
 * `root`/a (deep): no path may name the marker that only the outside
 * directory holds.  @return How many times `mine` was seen (the directory
 * was entered) and how many opens failed (the swap came between the
 * listing and the open).
 */
static void swap_walks(int32_t backend, struct rng *rng, bool deep, const char *root, const char *outside, uint64_t *mine, uint64_t *refused, uint64_t *swaps) {
	char dir[300], path[600];
	snprintf(dir, sizeof(dir), "%s%s", root, deep ? "/a" : "");
	if (deep) {
		mk_dir(dir);
	}
	snprintf(path, sizeof(path), "%s/sw", dir);
	mk_dir(path);
	snprintf(path, sizeof(path), "%s/sw/%s", dir, deep ? "sub" : "mine");
	if (deep) {
		mk_dir(path);
		snprintf(path, sizeof(path), "%s/sw/sub/mine", dir);
	}
	mk_file(path);
	snprintf(path, sizeof(path), "%s/swl", dir);
	mk_link(outside, path);

	struct swapper sw = {.dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
	if (sw.dfd < 0) {
		fail("open %s: %s", dir, strerror(errno));
	}
	start_thread(&sw.thread, swapper_main, &sw);
	struct ioq *queues[4];
	for (uint32_t t = 0; t < 4; ++t) {
		queues[t] = queue_make(64, t + 1, backend);
	}
	for (int i = 0; i < SWAP_WALKS; ++i) {
		uint32_t threads = 1 + (uint32_t)(i % 4);
		struct wspec s = spec_default(root);
		s.cfg.order = (uint32_t)rng_below(rng, 3);
		s.cfg.max_depth = deep ? 4 : 2;
		s.cfg.flags = (rng_below(rng, 2) ? IOQ_WALK_STAT : 0) | (rng_below(rng, 2) ? IOQ_WALK_SORT : 0);
		s.cfg.fd_limit = deep ? 1 + (uint32_t)rng_below(rng, 2) : (uint32_t)rng_below(rng, 4);
		struct drive d = drive_plain(rng_next(rng));
		set_context("swap%s: %s, %u threads: %s (drive seed %" PRIu64 ")", deep ? " (deep)" : "", backend_name(backend), threads, spec_text(&s), d.seed);
		struct got g;
		walk_drive(queues[threads - 1], &s, &d, &g);
		if (!g.ended) {
			fail("the walk did not end");
		}
		for (size_t r = 0; r < g.recs.n; ++r) {
			const struct rec *x = &g.recs.v[r];
			if (strstr(x->path, "MARKER")) {
				fail("a walk that follows no link went outside its root: %s", rec_text(x));
			}
			*mine += strcmp(x->path + x->name, "mine") == 0;
			*refused += x->op == IOQ_WALK_OP_OPENDIR;
		}
		got_free(&g);
	}
	for (uint32_t t = 0; t < 4; ++t) {
		ioq_destroy(queues[t]);
	}
	atomic_store(&sw.stop, true);
	pthread_join(sw.thread, NULL);
	close(sw.dfd);
	if (sw.swaps == 0) {
		fail("swap: no swap happened");
	}
	*swaps += sw.swaps;
}

/** The symlink-swap race, shallow and deep. */
static void test_swap(int32_t backend, struct rng *rng) {
	char root[256], outside[256], path[600];
	snprintf(root, sizeof(root), "%s/swap-%s", scratch, backend_name(backend));
	snprintf(outside, sizeof(outside), "%s/outside-%s", scratch, backend_name(backend));
	set_context("swap: making the trees");
	mk_dir(root);
	mk_dir(outside);
	snprintf(path, sizeof(path), "%s/MARKER", outside);
	mk_file(path);
	snprintf(path, sizeof(path), "%s/sub", outside);
	mk_dir(path);
	snprintf(path, sizeof(path), "%s/sub/MARKER", outside);
	mk_file(path);

	uint64_t mine = 0, refused = 0, swaps = 0;
	int fds = count_fds();
	swap_walks(backend, rng, false, root, outside, &mine, &refused, &swaps);
	swap_walks(backend, rng, true, root, outside, &mine, &refused, &swaps);
	if (count_fds() != fds) {
		fail("swap: %d descriptors before the walks, %d after", fds, count_fds());
	}
	if (mine == 0) {
		fail("swap: no walk ever entered the swapped directory");
	}
	printf("ok   %s: %d walks during %" PRIu64 " swaps of a directory and a link: never outside the root (`mine` seen %" PRIu64 " times, %" PRIu64 " opens refused mid-swap)\n", backend_name(backend), 2 * SWAP_WALKS, swaps, mine, refused);
	rm_tree_at(AT_FDCWD, root);
	rm_tree_at(AT_FDCWD, outside);
}

int main(void) {
	uint64_t seed = harness_seed();
	int64_t start = now_ns();
	printf("walk_race" HARNESS_LANE ": seed %" PRIu64 " (set IOQ_TEST_SEED to repeat)%s\n", seed, HARNESS_TSAN ? ", scaled down for TSan" : "");
	fflush(stdout);
	harness_start("walk_race", scratch_remove, WATCHDOG_S);
	warm_symbolizer();
	struct rng rng;
	rng_seed(&rng, seed);

	scratch_make("walk_race");
	snprintf(big, sizeof(big), "%s/big", scratch);
	set_context("making the tree");
	size_t n = tree_random(&rng, big, 22, 3);
	printf("walk_race: tree: %zu entries\n", n);
	bool uring = uring_works("walk_race");
	int32_t backends[] = {IOQ_BACKEND_URING, IOQ_BACKEND_THREADS};

	for (size_t b = 0; b < 2; ++b) {
		if (backends[b] == IOQ_BACKEND_URING && !uring) {
			continue;
		}
		stats_cancelled = stats_stalled = stats_ended = 0;
		for (uint32_t threads = 1; threads <= 4; ++threads) {
			test_cancel(backends[b], threads, &rng);
		}
		printf("ok   %s: cancellations (%" PRIu64 " cancelled, %" PRIu64 " of them with the owner waiting; %" PRIu64 " ended first)\n", backend_name(backends[b]), stats_cancelled, stats_stalled, stats_ended);
		test_double_release(backends[b]);
		test_mutate(backends[b], &rng);
		test_swap(backends[b], &rng);
		fflush(stdout);
	}
	printf("walk_race: %" PRIu64 " records under a changing tree, %" PRIu64 " of them errors\n", stats_mut_records, stats_mut_errors);
	scratch_remove();
	printf("walk_race" HARNESS_LANE ": all passed in %.1f s%s\n", (double)(now_ns() - start) / 1e9, uring ? "" : " (io_uring skipped)");
	return 0;
}
