// SPDX-License-Identifier: 0BSD
/**
 * ioq_stress: drive the whole queue through ioq.h and check every answer.
 *
 * For both backends (io_uring, skipped with a message if the kernel refuses
 * it, a failure instead under IOQ_STRICT_TESTS=1 unless the kernel has no
 * io_uring at all; and threads), 1, 2 and 4 threads, and depths 1, 2, 3, 64
 * and 4096:
 *
 *  - a random workload on a temporary tree (a few hundred directories and
 *    files, symlinks, missing names, a directory larger than one getdents
 *    buffer, a path longer than the inline buffer, a name that is not UTF-8):
 *    NOP, STAT (following or not), OPENDIR (absolute, relative to the cwd,
 *    relative to an open handle), CLOSEDIR, CLOSE, synchronous closes,
 *    directory reads compared with readdir(3), stale handles; -EAGAIN when
 *    full is answered by popping; pops mix ioq_trypop() and ioq_pop(); every
 *    completion is checked against what the test knows of the tree, and
 *    ioq_inflight() / ioq_capacity() against its own count, while another
 *    thread sits in ioq_wait() until ioq_stop_waits() ends it; a pop that
 *    waits must return within PROMPT_NS, since nothing stalls the workers
 *    (a lost wake-up would leave it asleep until its timeout);
 *  - the same workload cancelled at a random point, by the owner or by
 *    another thread: later non-close requests give -EINTR, completions are
 *    right or -EINTR, closes still run, and ioq_destroy() with completions
 *    never popped and directories left open gives every descriptor back;
 *  - misuse gives errors, never crashes; fault injection: ring setup failure
 *    (AUTO falls back to threads, URING fails), a persistent submit
 *    failure (requests still complete, correctly, in bounded time), and
 *    ops the ring answers with EINVAL, EOPNOTSUPP or ENOSYS (retried
 *    synchronously, correct, and latched off for the queue).
 *
 * Descriptors are counted in /proc/self/fd before a queue is created and
 * after it is destroyed: the counts must match.
 */

#define _GNU_SOURCE
#include "ioq.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"
#include "queuecheck.h"
#include "rng.h"

/** Operations per workload, on top of a few times the depth. */
#define OPS_BASE (HARNESS_TSAN ? 1000 : 1500)
/** Top-level directories in the tree. */
#define TREE_TOP 12
/** Subdirectories of each top-level directory. */
#define TREE_SUB 16
/** Files in the big directory (more than one 32 KiB getdents buffer). */
#define TREE_BIG 1500
/** The most directory handles the test holds or is opening at once. */
#define MAX_DIRS 64
/** The most descriptors handed to IOQ_CLOSE and not yet completed. */
#define MAX_CLOSE_FDS 256
/** Stale handles remembered for checks (few: generations wrap). */
#define MAX_STALE 8
/** How long a completion may take before the queue counts as hung. */
#define HANG_NS (10LL * 1000000000)
/**
 * How long a waiting pop may take when nothing stalls the workers: every
 * request is done in far less, so a pop that waits longer slept through a
 * completion that was ready (a lost wake-up sleeps until the pop's timeout).
 */
#define PROMPT_NS (2LL * 1000000000)
/** The whole program's time limit, in seconds. */
#define WATCHDOG_S 55

/** The temporary tree's root, removed on failure too. */
static char tree_root[64];

/** nftw() callback: remove one file or (emptied) directory. */
static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
	remove(path);
	return 0;
}

/** Remove the temporary tree, if there is one. */
static void tree_remove(void) {
	if (tree_root[0]) {
		nftw(tree_root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
		tree_root[0] = 0;
	}
}

/** @return The number of open descriptors of this process. */
static int count_fds(void) {
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
	return n - 1;
}

/** Expect a call's result. */
static void expect_eq(const char *what, long got, long want) {
	if (got != want) {
		fail("%s returned %ld, expected %ld", what, got, want);
	}
}

/** @return A backend's name. */
static const char *backend_name(int32_t backend) {
	switch (backend) {
	case IOQ_BACKEND_AUTO:
		return "auto";
	case IOQ_BACKEND_URING:
		return "io_uring";
	case IOQ_BACKEND_THREADS:
		return "threads";
	default:
		return "?";
	}
}

/** Kinds of tree nodes. */
enum kind {
	/** A directory. */
	K_DIR,
	/** A regular file. */
	K_FILE,
	/** A symlink to a file. */
	K_LINK_FILE,
	/** A symlink to a directory. */
	K_LINK_DIR,
	/** A symlink to nothing. */
	K_DANGLING,
	/** A name that does not exist. */
	K_MISSING,
	/** A path that goes through a regular file. */
	K_UNDER_FILE,
};

/** What stat of a path should give. */
struct expect_stat {
	/** 0 or a negative errno value. */
	int err;
	/** The inode number, if err is 0. */
	uint64_t ino;
	/** The S_IFMT bits, if err is 0. */
	uint32_t type;
};

/** A directory entry as readdir(3) saw it. */
struct entry {
	/** The name. */
	char *name;
	/** The DT_* type. */
	uint8_t type;
};

/** A path in the tree and what each request on it should give. */
struct node {
	/** The absolute path. */
	char *path;
	/** The last component (inside `path`). */
	const char *name;
	/** The node whose directory holds it, or -1 for the root. */
	int parent;
	/** What it is. */
	enum kind kind;
	/** stat() following symlinks. */
	struct expect_stat follow;
	/** stat() not following a final symlink. */
	struct expect_stat nofollow;
	/** What opening it as a directory gives: 0 or a negative errno. */
	int opendir_err;
	/** The directory node it opens as (itself, or a symlink's target). */
	int opens_as;
	/** Its entries, sorted by name (directories only). */
	struct entry *entries;
	/** How many. */
	size_t nentries;
	/** Child nodes (directories only). */
	int *kids;
	/** How many. */
	size_t nkids;
};

/** The temporary tree. */
struct tree {
	/** Every node; 0 is the root. */
	struct node *nodes;
	/** How many. */
	size_t n;
	/** Allocated length of `nodes`. */
	size_t cap;
	/** Nodes that open as directories. */
	int *dirs;
	/** How many. */
	size_t ndirs;
};

/** Allocate or fail. */
static void *xmalloc(size_t size) {
	void *p = malloc(size ? size : 1);
	if (!p) {
		fail("out of memory");
	}
	return p;
}

/** Duplicate a string or fail. */
static char *xstrdup(const char *s) {
	char *p = strdup(s);
	if (!p) {
		fail("out of memory");
	}
	return p;
}

/** Create a file with some bytes in it. */
static void make_file(const char *path, size_t size) {
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		fail("cannot create %s: %s", path, strerror(errno));
	}
	char buf[64];
	memset(buf, 'x', sizeof(buf));
	size = size % sizeof(buf);
	if (write(fd, buf, size) != (ssize_t)size) {
		fail("cannot write %s", path);
	}
	close(fd);
}

/**
 * Add a node and create it on disk.
 * @param target
 *         The symlink target, for the K_LINK_* and K_DANGLING kinds.
 * @return The node's index.
 */
static int tree_add(struct tree *t, int parent, const char *name, enum kind kind, const char *target) {
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 1024;
		t->nodes = realloc(t->nodes, t->cap * sizeof(*t->nodes));
		if (!t->nodes) {
			fail("out of memory");
		}
	}
	struct node *n = &t->nodes[t->n];
	memset(n, 0, sizeof(*n));
	n->parent = parent;
	n->kind = kind;
	n->opens_as = -1;

	char path[PATH_MAX];
	if (parent < 0) {
		snprintf(path, sizeof(path), "%s", name);
	} else {
		snprintf(path, sizeof(path), "%s/%s", t->nodes[parent].path, name);
	}
	n->path = xstrdup(path);
	n->name = strrchr(n->path, '/') + 1;

	int ret = 0;
	switch (kind) {
	case K_DIR:
		ret = parent < 0 ? 0 : mkdir(path, 0755);
		break;
	case K_FILE:
		make_file(path, t->n);
		break;
	case K_LINK_FILE:
	case K_LINK_DIR:
	case K_DANGLING:
		ret = symlink(target, path);
		break;
	case K_MISSING:
	case K_UNDER_FILE:
		break;
	}
	if (ret != 0) {
		fail("cannot create %s: %s", path, strerror(errno));
	}
	return (int)t->n++;
}

/** Order entries by name. */
static int entry_cmp(const void *a, const void *b) {
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/** Read a directory's entries with readdir(3), sorted. */
static void list_dir(const char *path, struct entry **out, size_t *count) {
	DIR *dir = opendir(path);
	if (!dir) {
		fail("opendir(%s): %s", path, strerror(errno));
	}
	size_t n = 0, cap = 16;
	struct entry *list = xmalloc(cap * sizeof(*list));
	struct dirent *de;
	while ((de = readdir(dir))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
			continue;
		}
		if (n == cap) {
			cap *= 2;
			list = realloc(list, cap * sizeof(*list));
			if (!list) {
				fail("out of memory");
			}
		}
		list[n].name = xstrdup(de->d_name);
		list[n].type = de->d_type;
		++n;
	}
	closedir(dir);
	qsort(list, n, sizeof(*list), entry_cmp);
	*out = list;
	*count = n;
}

/** Record what stat()/lstat() give for a path. */
static void expect_stat_of(const char *path, bool follow, struct expect_stat *out) {
	struct stat sb;
	int ret = follow ? stat(path, &sb) : lstat(path, &sb);
	out->err = ret == 0 ? 0 : -errno;
	out->ino = ret == 0 ? sb.st_ino : 0;
	out->type = ret == 0 ? (sb.st_mode & S_IFMT) : 0;
}

/** @return The directory node whose inode is `ino`, or -1. */
static int dir_with_ino(const struct tree *t, uint64_t ino) {
	for (size_t i = 0; i < t->n; ++i) {
		if (t->nodes[i].kind == K_DIR && t->nodes[i].follow.ino == ino) {
			return (int)i;
		}
	}
	return -1;
}

/** Work out what every request on every node should give. */
static void tree_expect(struct tree *t) {
	for (size_t i = 0; i < t->n; ++i) {
		struct node *n = &t->nodes[i];
		expect_stat_of(n->path, true, &n->follow);
		expect_stat_of(n->path, false, &n->nofollow);
		int fd = open(n->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		n->opendir_err = fd >= 0 ? 0 : -errno;
		if (fd >= 0) {
			close(fd);
		}
		if (n->kind == K_DIR) {
			list_dir(n->path, &n->entries, &n->nentries);
		}
		if (n->parent >= 0 && n->kind != K_UNDER_FILE) {
			struct node *p = &t->nodes[n->parent];
			p->kids = realloc(p->kids, (p->nkids + 1) * sizeof(*p->kids));
			if (!p->kids) {
				fail("out of memory");
			}
			p->kids[p->nkids++] = (int)i;
		}
	}

	t->dirs = xmalloc(t->n * sizeof(*t->dirs));
	for (size_t i = 0; i < t->n; ++i) {
		struct node *n = &t->nodes[i];
		if (n->opendir_err == 0) {
			n->opens_as = dir_with_ino(t, n->follow.ino);
			if (n->opens_as < 0) {
				fail("%s opens as a directory outside the tree", n->path);
			}
			t->dirs[t->ndirs++] = (int)i;
		}
	}
}

/** Populate one top-level directory. */
static void tree_fill_top(struct tree *t, int top) {
	char name[32];
	int f0 = -1;
	for (int j = 0; j < TREE_SUB; ++j) {
		snprintf(name, sizeof(name), "s%02d", j);
		int sub = tree_add(t, top, name, K_DIR, NULL);
		int file = tree_add(t, sub, "f0", K_FILE, NULL);
		if (f0 < 0) {
			f0 = file;
		}
		tree_add(t, sub, "f1", K_FILE, NULL);
	}
	tree_add(t, top, "file", K_FILE, NULL);
	tree_add(t, top, "lf", K_LINK_FILE, "s00/f0");
	tree_add(t, top, "ld", K_LINK_DIR, "s01");
	tree_add(t, top, "dl", K_DANGLING, "nowhere");
	tree_add(t, top, "missing", K_MISSING, NULL);
	tree_add(t, f0, "x", K_UNDER_FILE, NULL);
}

/** Build the temporary tree and learn what to expect of it. */
static void tree_build(struct tree *t) {
	memset(t, 0, sizeof(*t));
	snprintf(tree_root, sizeof(tree_root), "/tmp/ioq-stress.XXXXXX");
	if (!mkdtemp(tree_root)) {
		fail("mkdtemp: %s", strerror(errno));
	}
	int root = tree_add(t, -1, tree_root, K_DIR, NULL);

	char name[256];
	for (int i = 0; i < TREE_TOP; ++i) {
		snprintf(name, sizeof(name), "d%02d", i);
		tree_fill_top(t, tree_add(t, root, name, K_DIR, NULL));
	}

	int big = tree_add(t, root, "big", K_DIR, NULL);
	for (int i = 0; i < TREE_BIG; ++i) {
		snprintf(name, sizeof(name), "entry-%05d-abcdefghij", i);
		tree_add(t, big, name, K_FILE, NULL);
	}

	// A directory whose absolute paths do not fit IOQ_INLINE_PATH
	memset(name, 'L', 200);
	name[200] = 0;
	int lng = tree_add(t, root, name, K_DIR, NULL);
	tree_add(t, lng, "file", K_FILE, NULL);

	tree_add(t, root, "bad-\xff\xfe", K_FILE, NULL);
	tree_add(t, root, "\xc3\xbc" "n" "\xc3\xaf" "c" "\xc3\xb8" "d" "\xc3\xa9", K_FILE, NULL);
	tree_add(t, root, "missing", K_MISSING, NULL);
	tree_expect(t);

	// Relative paths with `at` == 0 resolve against the root
	if (chdir(tree_root) != 0) {
		fail("chdir(%s): %s", tree_root, strerror(errno));
	}
}

/** Free the tree's memory. */
static void tree_free(struct tree *t) {
	for (size_t i = 0; i < t->n; ++i) {
		struct node *n = &t->nodes[i];
		for (size_t j = 0; j < n->nentries; ++j) {
			free(n->entries[j].name);
		}
		free(n->entries);
		free(n->kids);
		free(n->path);
	}
	free(t->nodes);
	free(t->dirs);
}

/** The path of a node relative to the root (the cwd). */
static const char *rel_to_root(const struct tree *t, int node) {
	return t->nodes[node].path + strlen(t->nodes[0].path) + 1;
}

/** What the threads around a queue share. */
struct shared {
	/** The queue. */
	struct ioq *q;
	/** Set just before ioq_cancel() is called. */
	atomic_bool cancel_started;
	/** Set once ioq_cancel() returned. */
	atomic_bool cancel_done;
	/** Set just before ioq_stop_waits() is called. */
	atomic_bool stop_started;
	/** ioq_wait() results seen by the waiter: 1, 0, -EINTR. */
	atomic_ulong waits_ready, waits_timeout, waits_eintr;
	/** The waiter's seed. */
	uint64_t seed;
	/** Requests the owner has made in the current workload. */
	atomic_uint issued;
	/** Set when the owner's workload loop is over. */
	atomic_bool workload_done;
	/** The canceller waits for this many requests... */
	uint32_t cancel_after;
	/** ...and then this many microseconds. */
	long cancel_delay_us;
	/** ioq_epoch() just before ioq_cancel() (set before cancel_started). */
	uint32_t epoch_before_cancel;
	/** Whether the waiter thread runs. */
	bool has_waiter;
	/** The waiter and canceller threads. */
	pthread_t waiter, canceller;
};

/**
 * A thread that sits in ioq_wait() until ioq_stop_waits().  The epoch is
 * usually read just before the wait, sometimes a while before it (as when
 * the owner reads it and a pool thread gets to run later).
 */
static void *waiter_main(void *arg) {
	struct shared *sh = arg;
	struct rng rng;
	rng_seed(&rng, sh->seed);
	while (true) {
		uint32_t epoch = ioq_epoch(sh->q);
		if (rng_below(&rng, 4) == 0) {
			sleep_us(rng_below(&rng, 500));
		}
		int32_t ret = ioq_wait(sh->q, (int32_t)rng_below(&rng, 20000), epoch);
		if (ret == 1) {
			atomic_fetch_add(&sh->waits_ready, 1);
			// The owner has yet to pop it: do not spin on it
			sleep_us(20 + rng_below(&rng, 200));
		} else if (ret == 0) {
			atomic_fetch_add(&sh->waits_timeout, 1);
		} else if (ret == -EINTR) {
			if (!atomic_load(&sh->cancel_started)) {
				fail("ioq_wait() returned -EINTR before any ioq_cancel()");
			}
			atomic_fetch_add(&sh->waits_eintr, 1);
		} else if (ret == -ECANCELED) {
			if (!atomic_load(&sh->stop_started)) {
				fail("ioq_wait() returned -ECANCELED before ioq_stop_waits()");
			}
			return NULL;
		} else {
			fail("ioq_wait() returned %d", ret);
		}
	}
}

/** Cancel the queue once the owner has made some requests, after a delay. */
static void *canceller_main(void *arg) {
	struct shared *sh = arg;
	while (atomic_load(&sh->issued) < sh->cancel_after && !atomic_load(&sh->workload_done)) {
		sleep_us(20);
	}
	sleep_us(sh->cancel_delay_us);
	sh->epoch_before_cancel = ioq_epoch(sh->q);
	atomic_store(&sh->cancel_started, true);
	ioq_cancel(sh->q);
	atomic_store(&sh->cancel_done, true);
	return NULL;
}

/** Cancel the queue from this thread. */
static void cancel_now(struct shared *sh) {
	sh->epoch_before_cancel = ioq_epoch(sh->q);
	atomic_store(&sh->cancel_started, true);
	ioq_cancel(sh->q);
	atomic_store(&sh->cancel_done, true);
}

/** Fail unless a call that should end at once ended within a second. */
static void check_prompt(const char *what, int64_t start, int32_t ret, int32_t want, int32_t also) {
	int64_t ms = (now_ns() - start) / 1000000;
	if ((ret != want && ret != also) || ms > 1000) {
		fail("%s returned %d after %" PRId64 " ms, expected %d at once", what, ret, ms, want);
	}
}

/**
 * End the waiter thread, if any: ioq_stop_waits() and join.  Later waits,
 * even with an epoch from before the stop, end at once with -ECANCELED.
 */
static void stop_waiter(struct shared *sh) {
	uint32_t epoch = ioq_epoch(sh->q);
	atomic_store(&sh->stop_started, true);
	ioq_stop_waits(sh->q);
	if (sh->has_waiter) {
		pthread_join(sh->waiter, NULL);
		sh->has_waiter = false;
	}
	int64_t start = now_ns();
	check_prompt("ioq_wait() after ioq_stop_waits()", start, ioq_wait(sh->q, 5000000, epoch), -ECANCELED, -ECANCELED);
	start = now_ns();
	check_prompt("ioq_wait() after ioq_stop_waits()", start, ioq_wait(sh->q, 5000000, ioq_epoch(sh->q)), -ECANCELED, -ECANCELED);
}

/** A request the test made and has not yet seen complete. */
struct req {
	/** Its tag (unique among requests). */
	double tag;
	/** The operation. */
	int op;
	/** The target node, or -1. */
	int node;
	/** Its expected result, if it runs. */
	int want;
	/** STAT: the expected stat. */
	struct expect_stat stat;
	/** The request's flags. */
	uint32_t flags;
	/** The handle its path is relative to, or 0. */
	uint32_t at;
	/** CLOSEDIR: the handle. */
	uint32_t dir;
	/** The entry index the request function returned. */
	uint32_t index;
	/** Whether it is in flight. */
	bool live;
};

/** Where the test believes an entry is. */
enum ent_state {
	/** Free. */
	ENT_FREE,
	/** Requested, not yet popped. */
	ENT_INFLIGHT,
	/** Popped, not yet released. */
	ENT_POPPED,
};

/** A directory handle the test holds. */
struct hdir {
	/** The handle. */
	uint32_t handle;
	/** The directory node it is open on. */
	int node;
	/** Requests in flight relative to it. */
	uint32_t pins;
	/** Whether its entries were read already. */
	bool read;
};

/** Counters for the report line. */
struct stats {
	/** Requests accepted, by op. */
	unsigned long ops[5];
	/** -EAGAIN answers. */
	unsigned long eagain;
	/** -EINTR answers and completions. */
	unsigned long eintr;
	/** Completions. */
	unsigned long completions;
	/** Directories read and compared. */
	unsigned long dir_reads;
	/** ioq_pop() calls and ioq_trypop() calls. */
	unsigned long pops, trypops;
	/** The longest a waiting pop took to return a completion, in nanoseconds. */
	int64_t longest_wait_ns;
};

/** One queue under test and the test's model of it. */
struct run {
	/** The queue. */
	struct ioq *q;
	/** Its entries. */
	struct ioq_ent *ents;
	/** Its depth. */
	uint32_t depth;
	/** The tree. */
	const struct tree *t;
	/** This run's random numbers. */
	struct rng rng;
	/** State shared with the waiter and canceller. */
	struct shared *sh;
	/**
	 * Whether nothing stalls the workers (no injected stall or failure):
	 * then a waiting pop must return within PROMPT_NS.
	 */
	bool prompt;

	/** Request records, depth + 1 of them (tags index them). */
	struct req *reqs;
	/** Free record indices. */
	uint32_t *free_reqs;
	/** How many are free. */
	uint32_t nfree_reqs;
	/** Tag serial numbers. */
	uint32_t serial;

	/** Requests accepted and not yet popped. */
	uint32_t inflight;
	/** Each entry's enum ent_state. */
	uint8_t *ent_state;
	/** Popped entries not yet released. */
	uint32_t *held;
	/** How many. */
	uint32_t nheld;

	/** Directory handles held. */
	struct hdir dirs[MAX_DIRS];
	/** How many. */
	uint32_t ndirs;
	/** OPENDIR requests in flight. */
	uint32_t opening;
	/** CLOSE requests in flight. */
	uint32_t closing_fds;
	/** Recently closed handles. */
	uint32_t stale[MAX_STALE];
	/** How many (a ring once full). */
	uint32_t nstale;

	/** Counters. */
	struct stats st;
};

/** Set up the model for a new queue. */
static void run_init(struct run *r, struct ioq *q, const struct tree *t, struct shared *sh, uint64_t seed) {
	memset(r, 0, sizeof(*r));
	r->q = q;
	r->ents = ioq_entries(q);
	r->depth = ioq_depth(q);
	r->t = t;
	r->sh = sh;
	rng_seed(&r->rng, seed);
	r->reqs = xmalloc((r->depth + 1) * sizeof(*r->reqs));
	r->free_reqs = xmalloc((r->depth + 1) * sizeof(*r->free_reqs));
	r->held = xmalloc(r->depth * sizeof(*r->held));
	r->ent_state = xmalloc(r->depth);
	memset(r->ent_state, ENT_FREE, r->depth);
	for (uint32_t i = 0; i <= r->depth; ++i) {
		r->reqs[i].live = false;
		r->free_reqs[r->nfree_reqs++] = r->depth - i;
	}
}

/** Free the model. */
static void run_free(struct run *r) {
	free(r->reqs);
	free(r->free_reqs);
	free(r->held);
	free(r->ent_state);
}

/** @return Whether the test counts the queue as full. */
static bool run_full(const struct run *r) {
	return r->inflight + r->nheld >= r->depth;
}

/** @return What a request function should return now, if its arguments are valid. */
static int run_want(const struct run *r, bool closing) {
	if (!closing && atomic_load(&r->sh->cancel_done)) {
		return -EINTR;
	}
	return run_full(r) ? -EAGAIN : 0;
}

/**
 * Check a request function's return value: `want` 0 means an entry index
 * (any value >= 0).
 */
static void run_check_ret(struct run *r, const char *what, int got, int want, bool closing) {
	if ((got >= 0 && want == 0) || got == want) {
		return;
	}
	if (!closing && got == -EINTR && atomic_load(&r->sh->cancel_started)) {
		// ioq_cancel() runs on another thread right now
		return;
	}
	fail("%s returned %d (%s), expected %d (%s); %u in flight, %u held, depth %u", what, got, strerror(-got), want, strerror(-want), r->inflight, r->nheld, r->depth);
}

/** Take a request record for a new request. */
static struct req *req_new(struct run *r, int op) {
	if (r->nfree_reqs == 0) {
		fail("test bug: out of request records");
	}
	uint32_t slot = r->free_reqs[--r->nfree_reqs];
	struct req *rec = &r->reqs[slot];
	memset(rec, 0, sizeof(*rec));
	rec->op = op;
	rec->node = -1;
	// Exact in a double; the fraction checks the tag comes back bit for bit
	rec->tag = (double)(slot + ((uint64_t)++r->serial << 16)) + 0.25;
	return rec;
}

/** Settle a request function's answer: keep the record if it was accepted. */
static void req_settle(struct run *r, struct req *rec, int got) {
	if (got >= 0) {
		if ((uint32_t)got >= r->depth || r->ent_state[got] != ENT_FREE) {
			fail("a request took entry %d, which is %s", got, (uint32_t)got >= r->depth ? "out of range" : "in use");
		}
		r->ent_state[got] = ENT_INFLIGHT;
		rec->index = (uint32_t)got;
		rec->live = true;
		++r->inflight;
		++r->st.ops[rec->op];
		return;
	}
	if (got == -EAGAIN) {
		++r->st.eagain;
	} else if (got == -EINTR) {
		++r->st.eintr;
	}
	r->free_reqs[r->nfree_reqs++] = (uint32_t)(rec - r->reqs);
}

/** @return The record a completion's tag names; fail if it names none. */
static struct req *req_of(struct run *r, const struct ioq_ent *ent) {
	double tag = ent->tag;
	if (!(tag >= 0 && tag < 9007199254740992.0)) {
		fail("entry %u came back with tag %g, which the test never gave", ent->index, tag);
	}
	uint32_t slot = (uint32_t)((uint64_t)tag & 0xFFFF);
	if (slot > r->depth || !r->reqs[slot].live || r->reqs[slot].tag != tag) {
		fail("entry %u came back with tag %.2f: never given, or popped twice", ent->index, tag);
	}
	return &r->reqs[slot];
}

/** @return The held handle record for a handle, or NULL. */
static struct hdir *hdir_find(struct run *r, uint32_t handle) {
	for (uint32_t i = 0; i < r->ndirs; ++i) {
		if (r->dirs[i].handle == handle) {
			return &r->dirs[i];
		}
	}
	return NULL;
}

/** Forget a held handle, remembering it as stale. */
static void hdir_forget(struct run *r, struct hdir *d) {
	r->stale[r->nstale++ % MAX_STALE] = d->handle;
	*d = r->dirs[--r->ndirs];
}

/** @return A random held handle, or NULL if none. */
static struct hdir *hdir_pick(struct run *r) {
	return r->ndirs ? &r->dirs[rng_below(&r->rng, r->ndirs)] : NULL;
}

/** Where a request's path points. */
struct target {
	/** The node it names. */
	int node;
	/** The handle it is relative to, or 0. */
	uint32_t at;
	/** The held handle record, or NULL. */
	struct hdir *atd;
	/** The path. */
	char path[PATH_MAX];
	/** Whether the path is "." (the `at` directory itself). */
	bool dot;
};

/** Name a node relative to a held directory: a child, a grandchild or ".". */
static void target_in_dir(struct run *r, struct hdir *d, struct target *tg) {
	const struct node *dn = &r->t->nodes[d->node];
	tg->at = d->handle;
	tg->atd = d;
	uint32_t roll = rng_below(&r->rng, 8);
	if (dn->nkids == 0 || roll == 0) {
		tg->node = d->node;
		tg->dot = true;
		snprintf(tg->path, sizeof(tg->path), ".");
		return;
	}

	int kid = dn->kids[rng_below(&r->rng, (uint32_t)dn->nkids)];
	const struct node *kn = &r->t->nodes[kid];
	if (roll == 1 && kn->kind == K_DIR && kn->nkids > 0) {
		int grandkid = kn->kids[rng_below(&r->rng, (uint32_t)kn->nkids)];
		tg->node = grandkid;
		snprintf(tg->path, sizeof(tg->path), "%s/%s", kn->name, r->t->nodes[grandkid].name);
	} else {
		tg->node = kid;
		snprintf(tg->path, sizeof(tg->path), "%s", kn->name);
	}
}

/** Pick a request target: absolute, relative to the cwd, or to a handle. */
static void pick_target(struct run *r, bool dirs, struct target *tg) {
	memset(tg, 0, sizeof(*tg));
	const struct tree *t = r->t;
	uint32_t how = rng_below(&r->rng, 3);
	struct hdir *d = hdir_pick(r);
	if (how == 0 && d) {
		target_in_dir(r, d, tg);
		return;
	}

	if (dirs && rng_below(&r->rng, 4) != 0) {
		tg->node = t->dirs[rng_below(&r->rng, (uint32_t)t->ndirs)];
	} else {
		tg->node = (int)rng_below(&r->rng, (uint32_t)t->n);
	}
	if (how == 1 && tg->node != 0) {
		snprintf(tg->path, sizeof(tg->path), "%s", rel_to_root(t, tg->node));
	} else {
		snprintf(tg->path, sizeof(tg->path), "%s", t->nodes[tg->node].path);
	}
}

/** Request a NOP.  @return The request function's answer. */
static int issue_nop(struct run *r) {
	struct req *rec = req_new(r, IOQ_NOP);
	int want = run_want(r, false);
	int got = ioq_nop(r->q, rec->tag);
	run_check_ret(r, "ioq_nop", got, want, false);
	req_settle(r, rec, got);
	return got;
}

/** Request a STAT.  @return The request function's answer. */
static int issue_stat(struct run *r) {
	struct target tg;
	pick_target(r, false, &tg);
	const struct node *n = &r->t->nodes[tg.node];

	struct req *rec = req_new(r, IOQ_STAT);
	rec->node = tg.node;
	rec->flags = rng_below(&r->rng, 2) ? IOQ_STAT_NOFOLLOW : 0;
	rec->stat = (rec->flags && !tg.dot) ? n->nofollow : n->follow;
	rec->want = rec->stat.err;
	rec->at = tg.at;

	int want = run_want(r, false);
	int got = ioq_stat(r->q, tg.at, (const uint8_t *)tg.path, (uint32_t)strlen(tg.path), rec->flags, rec->tag);
	run_check_ret(r, "ioq_stat", got, want, false);
	if (got >= 0 && tg.atd) {
		++tg.atd->pins;
	}
	req_settle(r, rec, got);
	return got;
}

/** Request an OPENDIR (a STAT instead when enough are open).  @return Its answer. */
static int issue_opendir(struct run *r) {
	if (r->ndirs + r->opening >= MAX_DIRS) {
		return issue_stat(r);
	}
	struct target tg;
	pick_target(r, true, &tg);
	const struct node *n = &r->t->nodes[tg.node];

	struct req *rec = req_new(r, IOQ_OPENDIR);
	rec->node = n->opens_as;
	rec->want = n->opendir_err;
	rec->flags = rng_below(&r->rng, 2) ? IOQ_OPENDIR_STAT : 0;
	rec->at = tg.at;

	int want = run_want(r, false);
	int got = ioq_opendir(r->q, tg.at, (const uint8_t *)tg.path, (uint32_t)strlen(tg.path), rec->flags, rec->tag);
	run_check_ret(r, "ioq_opendir", got, want, false);
	if (got >= 0) {
		++r->opening;
		if (tg.atd) {
			++tg.atd->pins;
		}
	}
	req_settle(r, rec, got);
	return got;
}

/** Request a CLOSE of a descriptor opened here.  @return Its answer. */
static int issue_close(struct run *r) {
	if (r->closing_fds >= MAX_CLOSE_FDS) {
		return issue_nop(r);
	}
	const char *path = rng_below(&r->rng, 2) ? "/dev/null" : r->t->nodes[0].path;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fail("open(%s): %s", path, strerror(errno));
	}

	struct req *rec = req_new(r, IOQ_CLOSE);
	int want = run_want(r, true);
	int got = ioq_close(r->q, fd, rec->tag);
	run_check_ret(r, "ioq_close", got, want, true);
	if (got >= 0) {
		++r->closing_fds;
	} else {
		close(fd);
	}
	req_settle(r, rec, got);
	return got;
}

/** Request a CLOSEDIR of a held handle (a NOP if none).  @return Its answer. */
static int issue_closedir(struct run *r) {
	struct hdir *d = hdir_pick(r);
	if (!d) {
		return issue_nop(r);
	}

	struct req *rec = req_new(r, IOQ_CLOSEDIR);
	rec->dir = d->handle;
	rec->node = d->node;
	int want = d->pins ? -EBUSY : run_want(r, true);
	int got = ioq_closedir(r->q, d->handle, rec->tag);
	run_check_ret(r, "ioq_closedir", got, want, true);
	if (got >= 0) {
		hdir_forget(r, d);
	}
	req_settle(r, rec, got);
	return got;
}

/** Close a held handle synchronously with ioq_dir_close(). */
static void sync_closedir(struct run *r) {
	struct hdir *d = hdir_pick(r);
	if (!d) {
		return;
	}
	int want = d->pins ? -EBUSY : 0;
	int got = ioq_dir_close(r->q, d->handle);
	run_check_ret(r, "ioq_dir_close", got, want, true);
	if (got == 0) {
		hdir_forget(r, d);
	}
}

/** Copy a name for printing, bytes outside printable ASCII as \\xNN. */
static void escape_name(const char *name, char *out) {
	for (const unsigned char *p = (const unsigned char *)name; *p; ++p) {
		if (*p >= 0x20 && *p < 0x7F) {
			*out++ = (char)*p;
		} else {
			out += sprintf(out, "\\x%02x", *p);
		}
	}
	*out = 0;
}

/** Check one batch of ioq_dir_read() output and append it to a list. */
static void collect_entries(const uint8_t *names, const uint32_t *meta, int count, struct entry **list, size_t *n, size_t *cap) {
	uint32_t off = 0;
	for (int i = 1; i <= count; ++i) {
		uint32_t len = meta[i] >> 16;
		const char *name = (const char *)names + off;
		if (name[len] != 0 || strlen(name) != len) {
			fail("ioq_dir_read(): entry %d's length %u does not match its name", i, len);
		}
		bool bad = (meta[i] >> 8) & 1;
		if (bad != (strchr(name, '\xff') != NULL)) {
			char shown[4 * 256 + 1];
			escape_name(name, shown);
			fail("ioq_dir_read(): %s is marked as %s UTF-8", shown, bad ? "invalid" : "valid");
		}
		if (*n == *cap) {
			*cap = *cap ? 2 * *cap : 64;
			*list = realloc(*list, *cap * sizeof(**list));
			if (!*list) {
				fail("out of memory");
			}
		}
		(*list)[*n].name = xstrdup(name);
		(*list)[*n].type = (uint8_t)(meta[i] & 0xFF);
		++*n;
		off += len + 1;
	}
	if (off != (meta[0] & ~IOQ_DIR_END)) {
		fail("ioq_dir_read(): meta[0] says %u bytes, the names take %u", meta[0] & ~IOQ_DIR_END, off);
	}
}

/** Compare what ioq_dir_read() gave with readdir(3)'s sorted list. */
static void compare_entries(const struct node *dn, struct entry *got, size_t n) {
	qsort(got, n, sizeof(*got), entry_cmp);
	if (n != dn->nentries) {
		fail("ioq_dir_read() of %s gave %zu entries, readdir(3) %zu", dn->path, n, dn->nentries);
	}
	for (size_t i = 0; i < n; ++i) {
		if (strcmp(got[i].name, dn->entries[i].name) != 0) {
			fail("ioq_dir_read() of %s gave entry %s where readdir(3) has %s", dn->path, got[i].name, dn->entries[i].name);
		}
		if (got[i].type != dn->entries[i].type) {
			fail("ioq_dir_read() of %s gave type %u for %s, readdir(3) %u", dn->path, got[i].type, got[i].name, dn->entries[i].type);
		}
	}
}

/** Read a held directory to its end with small buffers and compare. */
static void read_dir(struct run *r, struct hdir *d) {
	uint32_t cap = 256 + rng_below(&r->rng, 4096);
	uint32_t max = 2 + rng_below(&r->rng, 64);
	uint8_t *names = xmalloc(cap);
	uint32_t *meta = xmalloc(max * sizeof(*meta));
	struct entry *list = NULL;
	size_t n = 0, lcap = 0;

	bool said_end = false;
	while (true) {
		int count = ioq_dir_read(r->q, d->handle, names, cap, meta, max);
		if (count < 0) {
			fail("ioq_dir_read() of %s returned %d", r->t->nodes[d->node].path, count);
		} else if (count == 0) {
			break;
		} else if (said_end) {
			fail("ioq_dir_read() of %s gave %d more entries after IOQ_DIR_END", r->t->nodes[d->node].path, count);
		} else if ((uint32_t)count + 1 > max) {
			fail("ioq_dir_read() returned %d entries for %u meta words", count, max);
		}
		collect_entries(names, meta, count, &list, &n, &lcap);
		said_end = meta[0] & IOQ_DIR_END;
	}
	if (ioq_dir_read(r->q, d->handle, names, cap, meta, max) != 0) {
		fail("ioq_dir_read() after the end did not return 0");
	}

	compare_entries(&r->t->nodes[d->node], list, n);
	for (size_t i = 0; i < n; ++i) {
		free(list[i].name);
	}
	free(list);
	free(meta);
	free(names);
	d->read = true;
	++r->st.dir_reads;
}

/** Read a random held directory that was not read yet. */
static void read_some_dir(struct run *r) {
	struct hdir *d = hdir_pick(r);
	if (d && !d->read) {
		read_dir(r, d);
	}
}

/** Every use of a recently closed handle gives -EBADF. */
static void check_stale(struct run *r) {
	uint32_t n = r->nstale < MAX_STALE ? r->nstale : MAX_STALE;
	if (n == 0) {
		return;
	}
	uint32_t h = r->stale[rng_below(&r->rng, n)];
	uint8_t names[256];
	uint32_t meta[4];
	int got[] = {
		ioq_dir_read(r->q, h, names, sizeof(names), meta, 4),
		ioq_dir_fd(r->q, h),
		ioq_dir_close(r->q, h),
		ioq_closedir(r->q, h, 0),
		ioq_stat(r->q, h, (const uint8_t *)"x", 1, 0, 0),
		ioq_opendir(r->q, h, (const uint8_t *)"x", 1, 0, 0),
	};
	for (size_t i = 0; i < sizeof(got) / sizeof(got[0]); ++i) {
		if (got[i] != -EBADF) {
			fail("use %zu of stale handle %#x returned %d, expected -EBADF", i, h, got[i]);
		}
	}
}

/** Check a STAT completion. */
static void complete_stat(struct run *r, const struct req *rec, const struct ioq_ent *ent) {
	if (ent->result != 0) {
		return;
	}
	const char *path = r->t->nodes[rec->node].path;
	if (ent->stx.stx_ino != rec->stat.ino) {
		fail("STAT of %s gave inode %llu, expected %" PRIu64, path, (unsigned long long)ent->stx.stx_ino, rec->stat.ino);
	}
	if ((ent->stx.stx_mode & S_IFMT) != rec->stat.type) {
		fail("STAT%s of %s gave type %o, expected %o", rec->flags ? " (nofollow)" : "", path, ent->stx.stx_mode & S_IFMT, rec->stat.type);
	}
}

/** Check an OPENDIR completion and hold the new handle. */
static void complete_opendir(struct run *r, const struct req *rec, const struct ioq_ent *ent) {
	--r->opening;
	if (ent->result != 0) {
		// A failed open leaves no handle behind
		uint8_t names[256];
		uint32_t meta[4];
		if (ent->dir && ioq_dir_read(r->q, ent->dir, names, sizeof(names), meta, 4) != -EBADF) {
			fail("the handle of a failed OPENDIR is still usable");
		}
		return;
	}

	const struct node *n = &r->t->nodes[rec->node];
	if (ent->dir == 0 || ioq_dir_fd(r->q, ent->dir) < 0) {
		fail("OPENDIR of %s succeeded with an unusable handle %#x", n->path, ent->dir);
	}
	if ((rec->flags & IOQ_OPENDIR_STAT) && ent->stx.stx_ino != n->follow.ino) {
		fail("OPENDIR_STAT of %s gave inode %llu, expected %" PRIu64, n->path, (unsigned long long)ent->stx.stx_ino, n->follow.ino);
	}
	if (r->ndirs >= MAX_DIRS) {
		fail("test bug: too many handles");
	}
	struct hdir *d = &r->dirs[r->ndirs++];
	*d = (struct hdir){.handle = ent->dir, .node = rec->node};
	if (rng_below(&r->rng, 2)) {
		read_dir(r, d);
	}
}

/** Check a CLOSEDIR completion. */
static void complete_closedir(struct run *r, const struct req *rec, const struct ioq_ent *ent) {
	if (ent->dir != rec->dir) {
		fail("CLOSEDIR of %#x came back naming %#x", rec->dir, ent->dir);
	}
	if (ioq_dir_fd(r->q, rec->dir) != -EBADF) {
		fail("handle %#x is still usable after its CLOSEDIR completed", rec->dir);
	}
}

/** Release a popped entry now, or hold it for a while. */
static void release_or_hold(struct run *r, uint32_t idx) {
	if (r->nheld < r->depth / 2 && rng_below(&r->rng, 8) == 0) {
		r->held[r->nheld++] = idx;
	} else {
		ioq_release(r->q, &idx, 1);
		r->ent_state[idx] = ENT_FREE;
	}
}

/** Release some (or all) held entries, in one ioq_release() call. */
static void release_held(struct run *r, bool all) {
	uint32_t n = all ? r->nheld : rng_below(&r->rng, r->nheld + 1);
	ioq_release(r->q, r->held + r->nheld - n, n);
	for (uint32_t i = r->nheld - n; i < r->nheld; ++i) {
		r->ent_state[r->held[i]] = ENT_FREE;
	}
	r->nheld -= n;
}

/** Check one popped completion against its request. */
static void complete(struct run *r, uint32_t idx) {
	if (idx >= r->depth) {
		fail("popped index %u, depth is %u", idx, r->depth);
	}
	const struct ioq_ent *ent = &r->ents[idx];
	struct req *rec = req_of(r, ent);
	if (ent->op != rec->op || ent->index != idx || rec->index != idx || r->ent_state[idx] != ENT_INFLIGHT) {
		fail("entry %u came back as op %d index %u; requested op %d in entry %u", idx, ent->op, ent->index, rec->op, rec->index);
	}
	r->ent_state[idx] = ENT_POPPED;
	rec->live = false;
	r->free_reqs[r->nfree_reqs++] = (uint32_t)(rec - r->reqs);
	--r->inflight;
	++r->st.completions;

	if (rec->at) {
		struct hdir *d = hdir_find(r, rec->at);
		if (!d || d->pins == 0) {
			fail("test bug: pin of %#x lost", rec->at);
		}
		--d->pins;
	}
	if (rec->op == IOQ_CLOSE) {
		--r->closing_fds;
	}

	bool closing = rec->op == IOQ_CLOSE || rec->op == IOQ_CLOSEDIR;
	if (ent->result == -EINTR && !closing && atomic_load(&r->sh->cancel_started)) {
		++r->st.eintr;
		if (rec->op == IOQ_OPENDIR) {
			complete_opendir(r, rec, ent);
		}
	} else if (ent->result != rec->want) {
		const char *path = rec->node >= 0 ? r->t->nodes[rec->node].path : "-";
		fail("op %d on %s completed with %d (%s), expected %d", rec->op, path, ent->result, strerror(-ent->result), rec->want);
	} else if (rec->op == IOQ_STAT) {
		complete_stat(r, rec, ent);
	} else if (rec->op == IOQ_OPENDIR) {
		complete_opendir(r, rec, ent);
	} else if (rec->op == IOQ_CLOSEDIR) {
		complete_closedir(r, rec, ent);
	}
	release_or_hold(r, idx);
}

/** Check the queue's counters against the model. */
static void check_counts(const struct run *r) {
	uint32_t inflight = ioq_inflight(r->q), capacity = ioq_capacity(r->q);
	if (inflight != r->inflight) {
		fail("ioq_inflight() is %u, the test made %u requests not yet popped", inflight, r->inflight);
	}
	if (capacity != r->depth - r->inflight - r->nheld) {
		fail("ioq_capacity() is %u, expected %u - %u in flight - %u held", capacity, r->depth, r->inflight, r->nheld);
	}
}

/**
 * Pop once: ioq_trypop(), or ioq_pop() with a random short timeout (long
 * when `wait`).  @return How many entries came back.
 */
static int run_pop(struct run *r, bool wait) {
	uint32_t out[64];
	uint32_t max = 1 + rng_below(&r->rng, 64);
	int n;
	if (!wait && rng_below(&r->rng, 2)) {
		n = ioq_trypop(r->q, out, max);
		++r->st.trypops;
	} else if (wait && r->prompt) {
		// Nothing stalls the workers: wait as long as a hang would, and
		// fail if the completion took longer than any request does
		int64_t start = now_ns();
		n = ioq_pop(r->q, out, max, (int32_t)(HANG_NS / 1000));
		int64_t waited = now_ns() - start;
		++r->st.pops;
		if (n >= 0 && waited > PROMPT_NS) {
			fail("ioq_pop() took %" PRId64 " ms to return %d of %u requests in flight, none of them stalled: a lost wake-up", waited / 1000000, n, r->inflight);
		}
		if (n > 0 && waited > r->st.longest_wait_ns) {
			r->st.longest_wait_ns = waited;
		}
	} else {
		n = ioq_pop(r->q, out, max, wait ? 100000 : (int32_t)rng_below(&r->rng, 2000));
		++r->st.pops;
	}

	if (n == -EINTR && atomic_load(&r->sh->cancel_started)) {
		return 0;
	} else if (n < 0 || (uint32_t)n > max) {
		fail("popping up to %u returned %d", max, n);
	}
	for (int i = 0; i < n; ++i) {
		complete(r, out[i]);
	}
	check_counts(r);
	return n;
}

/** Pop until something comes back or nothing is in flight; fail on a hang. */
static void run_pop_some(struct run *r) {
	int64_t end = now_ns() + HANG_NS;
	while (r->inflight > 0) {
		if (run_pop(r, true) > 0) {
			return;
		}
		if (now_ns() > end) {
			fail("no completion for %lld s with %u requests in flight", HANG_NS / 1000000000, r->inflight);
		}
	}
}

/** Make room after -EAGAIN: pop, or release held entries if nothing is in flight. */
static void make_room(struct run *r) {
	if (r->inflight > 0) {
		run_pop_some(r);
	} else {
		release_held(r, true);
	}
}

/** Do one random action.  @return Whether it was a request. */
static bool run_step(struct run *r, uint32_t pop_pct) {
	uint32_t roll = rng_below(&r->rng, 100);
	if (roll < pop_pct) {
		run_pop(r, false);
		return false;
	}

	int got;
	roll = rng_below(&r->rng, 100);
	if (roll < 12) {
		got = issue_nop(r);
	} else if (roll < 45) {
		got = issue_stat(r);
	} else if (roll < 67) {
		got = issue_opendir(r);
	} else if (roll < 75) {
		got = issue_close(r);
	} else if (roll < 86) {
		got = issue_closedir(r);
	} else if (roll < 89) {
		sync_closedir(r);
		return false;
	} else if (roll < 95) {
		read_some_dir(r);
		return false;
	} else if (roll < 97) {
		check_stale(r);
		return false;
	} else {
		release_held(r, false);
		return false;
	}

	if (got == -EAGAIN) {
		make_room(r);
	}
	return true;
}

/**
 * Run `ops` random requests in phases with different pop rates (some phases
 * never pop, so even a deep queue fills).  With cancel_at < ops, the owner
 * calls ioq_cancel() before request number cancel_at.  Once the queue is
 * cancelled (by anyone), at most `after_cancel` more requests are made.
 */
static void run_workload(struct run *r, uint32_t ops, uint32_t cancel_at, uint32_t after_cancel) {
	static const uint32_t pop_rates[] = {0, 3, 15, 40};
	uint32_t done = 0, phase_left = 0, pop_pct = 0, end = ops;
	while (done < end) {
		if (end == ops && atomic_load(&r->sh->cancel_done) && ops - done > after_cancel) {
			end = done + after_cancel;
		}
		if (phase_left == 0) {
			pop_pct = pop_rates[rng_below(&r->rng, 4)];
			phase_left = 1 + rng_below(&r->rng, 2 * r->depth + 64);
		}
		--phase_left;
		if (done == cancel_at && !atomic_load(&r->sh->cancel_started)) {
			cancel_now(r->sh);
		}
		if (run_step(r, pop_pct)) {
			++done;
			atomic_fetch_add(&r->sh->issued, 1);
		}
	}
	atomic_store(&r->sh->workload_done, true);
}

/** Pop everything, close every held handle, and check the queue is empty. */
static void run_drain(struct run *r) {
	while (r->inflight > 0) {
		run_pop_some(r);
	}
	release_held(r, true);

	while (r->ndirs > 0) {
		struct hdir *d = &r->dirs[r->ndirs - 1];
		if (!d->read && rng_below(&r->rng, 2)) {
			read_dir(r, d);
		}
		if (rng_below(&r->rng, 4) == 0) {
			sync_closedir(r);
		} else if (issue_closedir(r) == -EAGAIN) {
			make_room(r);
		}
	}
	while (r->inflight > 0) {
		run_pop_some(r);
	}
	release_held(r, true);

	check_counts(r);
	if (ioq_capacity(r->q) != r->depth) {
		fail("ioq_capacity() is %u after releasing everything, depth %u", ioq_capacity(r->q), r->depth);
	}
}

/** Create a queue that must work, and check what it reports. */
static struct ioq *create_ok(uint32_t depth, uint32_t threads, int32_t backend) {
	int32_t err = 1;
	struct ioq *q = ioq_create(depth, threads, backend, &err);
	if (!q || err != 0) {
		fail("ioq_create(%u, %u, %s) failed: %d", depth, threads, backend_name(backend), err);
	}
	if (ioq_backend(q) != backend || ioq_depth(q) != depth || ioq_threads(q) != threads || ioq_capacity(q) != depth || ioq_inflight(q) != 0) {
		fail("a new queue reports backend %d, depth %u, threads %u, capacity %u, inflight %u", ioq_backend(q), ioq_depth(q), ioq_threads(q), ioq_capacity(q), ioq_inflight(q));
	}
	return q;
}

/** Start the waiter thread for a queue. */
static void start_waiter(struct shared *sh, struct ioq *q, uint64_t seed) {
	memset(sh, 0, sizeof(*sh));
	sh->q = q;
	sh->seed = seed;
	atomic_init(&sh->cancel_started, false);
	atomic_init(&sh->cancel_done, false);
	atomic_init(&sh->stop_started, false);
	atomic_init(&sh->waits_ready, 0);
	atomic_init(&sh->waits_timeout, 0);
	atomic_init(&sh->waits_eintr, 0);
	atomic_init(&sh->issued, 0);
	atomic_init(&sh->workload_done, false);
	start_thread(&sh->waiter, waiter_main, sh);
	sh->has_waiter = true;
}

/** Fail if the descriptor count moved from `base`. */
static void check_fds(int base, const char *when) {
	int now = count_fds();
	if (now != base) {
		fail("%d descriptors open %s, %d before", now, when, base);
	}
}

/** @return Requests per workload for a depth. */
static uint32_t workload_ops(uint32_t depth) {
	return OPS_BASE + (HARNESS_TSAN ? depth : 2 * depth);
}

/** A full workload on a new queue, drained and destroyed cleanly. */
static void test_workload(const struct tree *t, int32_t backend, uint32_t threads, uint32_t depth, uint64_t seed) {
	set_context("workload: %s, %u threads, depth %u", backend_name(backend), threads, depth);
	int base = count_fds();
	struct ioq *q = create_ok(depth, threads, backend);

	struct shared sh;
	start_waiter(&sh, q, seed ^ 1);
	struct run r;
	run_init(&r, q, t, &sh, seed);
	r.prompt = true;
	run_workload(&r, workload_ops(depth), UINT32_MAX, UINT32_MAX);
	run_drain(&r);
	stop_waiter(&sh);
	ioq_destroy(q);
	check_fds(base, "after destroying a drained queue");

	printf("ok   workload %-8s threads %u depth %4u: %lu completions (%lu nop %lu stat %lu opendir %lu close %lu closedir), %lu EAGAIN, %lu dirs read, %lu pop %lu trypop (longest wait %.1f ms), waiter %lu ready %lu timeout\n",
	    backend_name(backend), threads, depth, r.st.completions, r.st.ops[IOQ_NOP], r.st.ops[IOQ_STAT], r.st.ops[IOQ_OPENDIR], r.st.ops[IOQ_CLOSE], r.st.ops[IOQ_CLOSEDIR],
	    r.st.eagain, r.st.dir_reads, r.st.pops, r.st.trypops, (double)r.st.longest_wait_ns / 1e6, atomic_load(&sh.waits_ready), atomic_load(&sh.waits_timeout));
	run_free(&r);
}

/**
 * After cancellation: a wait given the epoch from before the cancel ends at
 * once, non-close requests give -EINTR, closes are still accepted.
 */
static void check_after_cancel(struct run *r) {
	int64_t start = now_ns();
	int32_t ret = ioq_wait(r->q, 5000000, r->sh->epoch_before_cancel);
	check_prompt("ioq_wait() with an epoch from before ioq_cancel()", start, ret, -EINTR, 1);

	const char *p = r->t->nodes[0].path;
	uint32_t len = (uint32_t)strlen(p);
	int got[] = {
		ioq_nop(r->q, 0),
		ioq_stat(r->q, 0, (const uint8_t *)p, len, 0, 0),
		ioq_opendir(r->q, 0, (const uint8_t *)p, len, 0, 0),
	};
	for (size_t i = 0; i < sizeof(got) / sizeof(got[0]); ++i) {
		if (got[i] != -EINTR) {
			fail("request %zu after ioq_cancel() returned %d, expected -EINTR", i, got[i]);
		}
	}
	// Closes still run: issue some (their descriptors are counted at the end)
	for (int i = 0; i < 4; ++i) {
		if (issue_close(r) == -EAGAIN) {
			make_room(r);
		}
		if (issue_closedir(r) == -EAGAIN) {
			make_room(r);
		}
	}
}

/**
 * Cancel at a random point (the owner, or another thread after a random
 * delay), go on issuing and popping for a while, then destroy the queue with
 * completions never popped, entries never released and handles left open.
 */
static void test_cancel(const struct tree *t, int32_t backend, uint32_t threads, uint32_t depth, uint64_t seed) {
	struct rng rng;
	rng_seed(&rng, seed);
	uint32_t ops = workload_ops(depth) / 2;
	bool by_thread = rng_below(&rng, 2);
	uint32_t cancel_at = rng_below(&rng, ops);
	set_context("cancel: %s, %u threads, depth %u, cancel %s", backend_name(backend), threads, depth, by_thread ? "from another thread" : "by the owner");

	// Hold a few NOPs on the workers, so that requests are surely in flight
	uint32_t stalls = 1 + rng_below(&rng, 8);
	expect_eq("ioq_test_inject(stall)", ioq_test_inject(IOQ_INJECT_STALL, -(int32_t)(1 + rng_below(&rng, 3)), (int32_t)stalls), 0);

	int base = count_fds();
	struct ioq *q = create_ok(depth, threads, backend);
	struct shared sh;
	start_waiter(&sh, q, seed ^ 2);
	if (by_thread) {
		sh.cancel_after = cancel_at;
		sh.cancel_delay_us = rng_below(&rng, 4) * rng_below(&rng, 100);
		start_thread(&sh.canceller, canceller_main, &sh);
		cancel_at = UINT32_MAX;
	}

	struct run r;
	run_init(&r, q, t, &sh, seed ^ 3);
	run_workload(&r, ops, cancel_at, rng_below(&rng, 64));
	if (by_thread) {
		pthread_join(sh.canceller, NULL);
	} else if (!atomic_load(&sh.cancel_done)) {
		cancel_now(&sh);
	}
	check_after_cancel(&r);

	// Pop a little of what is left, rarely all of it
	for (uint32_t n = rng_below(&rng, 3); n > 0 && r.inflight > 0; --n) {
		run_pop(&r, false);
	}
	uint32_t left = r.inflight, open_dirs = r.ndirs, held = r.nheld;
	stop_waiter(&sh);
	ioq_destroy(q);
	expect_eq("ioq_test_inject(stall off)", ioq_test_inject(IOQ_INJECT_STALL, 0, 0), 0);
	check_fds(base, "after destroying a cancelled queue");

	printf("ok   cancel   %-8s threads %u depth %4u: %s, %lu completions, %lu EINTR, destroyed with %u unpopped, %u held, %u dirs open; waiter %lu EINTR\n",
	    backend_name(backend), threads, depth, by_thread ? "thread" : "owner ", r.st.completions, r.st.eintr, left, held, open_dirs, atomic_load(&sh.waits_eintr));
	run_free(&r);
}

/** Pop exactly one completion (waiting), check it and release it. */
static struct ioq_ent *pop_one(struct ioq *q) {
	uint32_t idx;
	int64_t end = now_ns() + HANG_NS;
	int n;
	while ((n = ioq_pop(q, &idx, 1, 100000)) == 0) {
		if (now_ns() > end) {
			fail("no completion within %lld s", HANG_NS / 1000000000);
		}
	}
	if (n != 1) {
		fail("ioq_pop() returned %d", n);
	}
	return &ioq_entries(q)[idx];
}

/** Bad ioq_create() arguments give NULL and -EINVAL. */
static void test_create_args(void) {
	static const struct {
		uint32_t depth, threads;
		int32_t backend;
	} bad[] = {
		{0, 1, IOQ_BACKEND_THREADS},
		{65537, 1, IOQ_BACKEND_THREADS},
		{8, 0, IOQ_BACKEND_THREADS},
		{8, 1025, IOQ_BACKEND_THREADS},
		{8, 1, -1},
		{8, 1, 3},
		{8, 1, 1000},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
		int32_t err = 0;
		struct ioq *q = ioq_create(bad[i].depth, bad[i].threads, bad[i].backend, &err);
		if (q || err != -EINVAL) {
			fail("ioq_create(%u, %u, %d) gave %p, %d; expected NULL, -EINVAL", bad[i].depth, bad[i].threads, bad[i].backend, (void *)q, err);
		}
	}
	ioq_destroy(NULL);
}

/** Path arguments that are not acceptable give errors and use no capacity. */
static void test_bad_paths(struct ioq *q, uint32_t at) {
	static char longpath[PATH_MAX + 1];
	memset(longpath, 'a', sizeof(longpath));
	uint32_t cap = ioq_capacity(q);
	const uint8_t *nul = (const uint8_t *)"d00\0x";

	expect_eq("ioq_opendir(embedded NUL)", ioq_opendir(q, at, nul, 5, 0, 0), -EINVAL);
	expect_eq("ioq_stat(embedded NUL)", ioq_stat(q, at, nul, 5, 0, 0), -EINVAL);
	expect_eq("ioq_opendir(len 0)", ioq_opendir(q, at, nul, 0, 0, 0), -ENOENT);
	expect_eq("ioq_stat(len 0)", ioq_stat(q, at, nul, 0, 0, 0), -ENOENT);
	expect_eq("ioq_opendir(len PATH_MAX)", ioq_opendir(q, at, (const uint8_t *)longpath, PATH_MAX, 0, 0), -ENAMETOOLONG);
	expect_eq("ioq_stat(len PATH_MAX)", ioq_stat(q, at, (const uint8_t *)longpath, PATH_MAX, 0, 0), -ENAMETOOLONG);
	expect_eq("ioq_stat(bad flags)", ioq_stat(q, at, nul, 3, 0x80, 0), -EINVAL);
	expect_eq("ioq_opendir(bad flags)", ioq_opendir(q, at, nul, 3, IOQ_STAT_NOFOLLOW, 0), -EINVAL);
	expect_eq("ioq_close(-1)", ioq_close(q, -1, 0), -EBADF);
	expect_eq("capacity after rejected requests", ioq_capacity(q), cap);
}

/** Handles that were never valid give -EBADF. */
static void test_bogus_handles(struct ioq *q, uint32_t live) {
	const uint32_t bogus[] = {0, 1, 0xFFFFFFFF, live ^ (1u << IOQ_HANDLE_INDEX_BITS), live + 1000};
	uint8_t names[256];
	uint32_t meta[4];
	for (size_t i = 0; i < sizeof(bogus) / sizeof(bogus[0]); ++i) {
		uint32_t h = bogus[i];
		if (h != 0) {
			expect_eq("ioq_stat(at bogus handle)", ioq_stat(q, h, (const uint8_t *)"x", 1, 0, 0), -EBADF);
			expect_eq("ioq_opendir(at bogus handle)", ioq_opendir(q, h, (const uint8_t *)"x", 1, 0, 0), -EBADF);
		}
		expect_eq("ioq_closedir(bogus handle)", ioq_closedir(q, h, 0), -EBADF);
		expect_eq("ioq_dir_close(bogus handle)", ioq_dir_close(q, h), -EBADF);
		expect_eq("ioq_dir_fd(bogus handle)", ioq_dir_fd(q, h), -EBADF);
		expect_eq("ioq_dir_read(bogus handle)", ioq_dir_read(q, h, names, sizeof(names), meta, 4), -EBADF);
	}
}

/** Bogus, unpopped and repeated releases are ignored. */
static void test_bogus_release(struct ioq *q) {
	uint32_t depth = ioq_depth(q), cap = ioq_capacity(q);
	const uint32_t bogus[] = {depth, depth + 3, 0xFFFFFFFF, 0};
	ioq_release(q, bogus, sizeof(bogus) / sizeof(bogus[0]));
	expect_eq("capacity after releasing bogus indices", ioq_capacity(q), cap);

	expect_eq("ioq_nop (entry 0 of depth 1)", ioq_nop(q, 5), 0);
	struct ioq_ent *ent = pop_one(q);
	expect_eq("NOP result", ent->result, 0);
	if (ent->tag != 5) {
		fail("NOP came back with tag %g, expected 5", ent->tag);
	}
	expect_eq("capacity with one entry popped", ioq_capacity(q), cap - 1);
	uint32_t idx = ent->index;
	ioq_release(q, &idx, 1);
	ioq_release(q, &idx, 1);
	expect_eq("capacity after releasing an entry twice", ioq_capacity(q), cap);
}

/** A handle being opened, pinned, or closed refuses what it must refuse. */
static void test_handle_states(struct ioq *q, const struct tree *t) {
	const char *root = t->nodes[0].path;
	uint8_t names[256];
	uint32_t meta[4];

	// Still opening (depth 1: the request is entry 0): -EBUSY
	expect_eq("ioq_opendir (entry 0 of depth 1)", ioq_opendir(q, 0, (const uint8_t *)root, (uint32_t)strlen(root), 0, 0), 0);
	uint32_t opening = ioq_entries(q)[0].dir;
	expect_eq("ioq_dir_read(opening)", ioq_dir_read(q, opening, names, sizeof(names), meta, 4), -EBUSY);
	expect_eq("ioq_closedir(opening)", ioq_closedir(q, opening, 0), -EBUSY);
	expect_eq("ioq_dir_fd(opening)", ioq_dir_fd(q, opening), -EBUSY);
	expect_eq("ioq_nop(full)", ioq_nop(q, 0), -EAGAIN);
	struct ioq_ent *ent = pop_one(q);
	expect_eq("OPENDIR result", ent->result, 0);
	uint32_t h = ent->dir, idx = ent->index;
	ioq_release(q, &idx, 1);

	// Pinned by an OPENDIR relative to it: -EBUSY, then fine once popped
	expect_eq("ioq_opendir(at) (entry 0)", ioq_opendir(q, h, (const uint8_t *)"d00", 3, 0, 0), 0);
	expect_eq("ioq_closedir(pinned)", ioq_closedir(q, h, 0), -EBUSY);
	expect_eq("ioq_dir_close(pinned)", ioq_dir_close(q, h), -EBUSY);
	ent = pop_one(q);
	expect_eq("OPENDIR(at) result", ent->result, 0);
	uint32_t child = ent->dir;
	idx = ent->index;
	ioq_release(q, &idx, 1);
	test_bogus_handles(q, h);
	test_bad_paths(q, h);

	// Closed twice: -EBADF while closing and after
	expect_eq("ioq_closedir (entry 0)", ioq_closedir(q, child, 0), 0);
	expect_eq("ioq_closedir(closing)", ioq_closedir(q, child, 0), -EBADF);
	expect_eq("ioq_dir_read(closing)", ioq_dir_read(q, child, names, sizeof(names), meta, 4), -EBADF);
	ent = pop_one(q);
	expect_eq("CLOSEDIR result", ent->result, 0);
	idx = ent->index;
	ioq_release(q, &idx, 1);
	expect_eq("ioq_closedir(closed)", ioq_closedir(q, child, 0), -EBADF);
	expect_eq("ioq_dir_close(closed)", ioq_dir_close(q, child), -EBADF);
	expect_eq("ioq_stat(at closed)", ioq_stat(q, child, (const uint8_t *)"x", 1, 0, 0), -EBADF);

	// Too-small read buffers
	expect_eq("ioq_dir_read(cap 255)", ioq_dir_read(q, h, names, 255, meta, 4), -EINVAL);
	expect_eq("ioq_dir_read(max 1)", ioq_dir_read(q, h, names, sizeof(names), meta, 1), -EINVAL);
	expect_eq("ioq_dir_close", ioq_dir_close(q, h), 0);
	expect_eq("ioq_dir_close(twice)", ioq_dir_close(q, h), -EBADF);
}

/** Misuse gives errors and never crashes. */
static void test_misuse(const struct tree *t, int32_t backend) {
	set_context("misuse: %s", backend_name(backend));
	int base = count_fds();
	test_create_args();

	struct ioq *q = create_ok(1, 1, backend);
	expect_eq("ioq_pop(nothing in flight)", ioq_pop(q, (uint32_t[1]){0}, 1, 1000000), 0);
	expect_eq("ioq_wait(0 us, nothing in flight)", ioq_wait(q, 0, ioq_epoch(q)), 0);
	test_bad_paths(q, 0);
	test_bogus_handles(q, 0x400001);
	test_bogus_release(q);
	test_handle_states(q, t);
	expect_eq("ioq_capacity at the end", ioq_capacity(q), 1);
	ioq_destroy(q);
	check_fds(base, "after the misuse checks");
	printf("ok   misuse   %s\n", backend_name(backend));
}

/** A failing ring setup: AUTO falls back to threads, URING fails with the error. */
static void test_inject_setup(void) {
	set_context("inject: ring setup");
	int base = count_fds();
	expect_eq("ioq_test_inject(bad point)", ioq_test_inject(IOQ_INJECT_COUNT, -EPERM, 1), -EINVAL);
	expect_eq("ioq_test_inject(err >= 0)", ioq_test_inject(IOQ_INJECT_RING_SETUP, 0, 1), -EINVAL);

	expect_eq("ioq_test_inject(setup)", ioq_test_inject(IOQ_INJECT_RING_SETUP, -EPERM, 1), 0);
	int32_t err = 1;
	struct ioq *q = ioq_create(8, 2, IOQ_BACKEND_AUTO, &err);
	if (!q || err != 0 || ioq_backend(q) != IOQ_BACKEND_THREADS) {
		fail("AUTO with a failing ring setup gave %p, err %d, backend %d; expected the threads backend", (void *)q, err, q ? ioq_backend(q) : -1);
	}
	if (ioq_nop(q, 1) < 0) {
		fail("ioq_nop() on the fallback queue failed");
	}
	expect_eq("NOP result", pop_one(q)->result, 0);
	ioq_destroy(q);

	// A build without liburing refuses URING before it tries a ring
	int32_t want = (ioq_features() & IOQ_FEATURE_URING) ? -EPERM : -ENOTSUP;
	expect_eq("ioq_test_inject(setup)", ioq_test_inject(IOQ_INJECT_RING_SETUP, -EPERM, 1), 0);
	q = ioq_create(8, 2, IOQ_BACKEND_URING, &err);
	if (q || err != want) {
		fail("URING with a failing ring setup gave %p, err %d; expected NULL, %d", (void *)q, err, want);
	}
	ioq_destroy(q);
	expect_eq("ioq_test_inject(off)", ioq_test_inject(IOQ_INJECT_RING_SETUP, 0, 0), 0);
	check_fds(base, "after the setup injection");
	printf("ok   inject   ring setup -EPERM: AUTO falls back to threads, URING fails with -EPERM\n");
}

/** A persistent submit failure: requests still complete, correctly, in bounded time. */
static void test_inject_submit(const struct tree *t, uint32_t threads, uint64_t seed) {
	set_context("inject: io_uring submit -EBUSY forever, %u threads", threads);
	int base = count_fds();
	struct ioq *q = create_ok(64, threads, IOQ_BACKEND_URING);
	expect_eq("ioq_test_inject(submit)", ioq_test_inject(IOQ_INJECT_SUBMIT, -EBUSY, -1), 0);

	int64_t start = now_ns();
	struct shared sh;
	start_waiter(&sh, q, seed ^ 4);
	struct run r;
	run_init(&r, q, t, &sh, seed);
	run_workload(&r, OPS_BASE, UINT32_MAX, UINT32_MAX);
	run_drain(&r);
	stop_waiter(&sh);
	expect_eq("ioq_test_inject(off)", ioq_test_inject(IOQ_INJECT_SUBMIT, 0, 0), 0);
	ioq_destroy(q);
	check_fds(base, "after the submit injection");
	printf("ok   inject   submit -EBUSY forever, threads %u: %lu completions, all correct, in %.2f s\n", threads, r.st.completions, (double)(now_ns() - start) / 1e9);
	run_free(&r);
}

/** @return The IOQ_INJECT_URING_* point of an op. */
static int32_t uring_point(int op) {
	return IOQ_INJECT_URING_CLOSE + (op - IOQ_CLOSE);
}

/**
 * The ring answers every op with `err` (EINVAL, EOPNOTSUPP, ENOSYS): each
 * is retried synchronously, every completion of a full workload is still
 * right, and each op is latched off: once its first refusal is seen, no more
 * of it go into a ring (the point stops firing), until a new queue probes
 * again.  With a limited count, exactly that many are refused.
 */
static void test_inject_uring_ops(const struct tree *t, uint32_t threads, int err, uint64_t seed) {
	static const int ops[] = {IOQ_CLOSE, IOQ_OPENDIR, IOQ_CLOSEDIR, IOQ_STAT};
	static const char *const names[] = {"close", "opendir", "closedir", "stat"};
	set_context("inject: io_uring answers every op with %s, %u threads", strerror(-err), threads);
	int base = count_fds();
	for (size_t i = 0; i < 4; ++i) {
		expect_eq("ioq_test_inject(uring op)", ioq_test_inject(uring_point(ops[i]), err, -1), 0);
	}
	struct ioq *q = create_ok(64, threads, IOQ_BACKEND_URING);

	struct shared sh;
	start_waiter(&sh, q, seed ^ 5);
	struct run r;
	run_init(&r, q, t, &sh, seed);
	run_workload(&r, OPS_BASE, UINT32_MAX, UINT32_MAX);
	run_drain(&r);
	int32_t hits[4];
	for (size_t i = 0; i < 4; ++i) {
		hits[i] = ioq_test_injected(uring_point(ops[i]));
		// Some went into the ring before the first refusal came back: at
		// most what the rings hold at once
		if ((r.st.ops[ops[i]] > 0 && hits[i] < 1) || hits[i] > (int32_t)(threads * 64) || hits[i] > (int32_t)r.st.ops[ops[i]]) {
			fail("%s: the ring refused %d of %lu", names[i], hits[i], r.st.ops[ops[i]]);
		}
	}
	// Latched: more of the same reach no ring
	unsigned long before = r.st.completions;
	run_workload(&r, OPS_BASE / 2, UINT32_MAX, UINT32_MAX);
	run_drain(&r);
	for (size_t i = 0; i < 4; ++i) {
		if (ioq_test_injected(uring_point(ops[i])) != hits[i]) {
			fail("%s: refused %d times before, %d after it was latched off", names[i], hits[i], ioq_test_injected(uring_point(ops[i])));
		}
	}
	stop_waiter(&sh);
	ioq_destroy(q);
	printf("ok   inject   io_uring answers %-10s threads %u: %lu completions, all correct; refused close %d opendir %d closedir %d stat %d, then none (latched) in %lu more\n",
	    err == -EINVAL ? "EINVAL" : err == -EOPNOTSUPP ? "EOPNOTSUPP" : "ENOSYS", threads, r.st.completions, hits[0], hits[1], hits[2], hits[3], r.st.completions - before);
	run_free(&r);

	// A new queue probes again; a limited count refuses exactly that many
	struct rng rng;
	rng_seed(&rng, seed);
	int32_t counts[4];
	for (size_t i = 0; i < 4; ++i) {
		counts[i] = (int32_t)(1 + rng_below(&rng, 3));
		expect_eq("ioq_test_inject(uring op, count)", ioq_test_inject(uring_point(ops[i]), err, counts[i]), 0);
	}
	q = create_ok(64, threads, IOQ_BACKEND_URING);
	start_waiter(&sh, q, seed ^ 6);
	run_init(&r, q, t, &sh, seed ^ 7);
	run_workload(&r, OPS_BASE, UINT32_MAX, UINT32_MAX);
	run_drain(&r);
	for (size_t i = 0; i < 4; ++i) {
		int32_t got = ioq_test_injected(uring_point(ops[i]));
		int32_t want = r.st.ops[ops[i]] < (unsigned long)counts[i] ? (int32_t)r.st.ops[ops[i]] : counts[i];
		// The first refusal latches the op off: later ones may never reach a ring
		if (got < (r.st.ops[ops[i]] > 0 ? 1 : 0) || got > want) {
			fail("%s: refused %d times with %d armed and %lu made", names[i], got, counts[i], r.st.ops[ops[i]]);
		}
		expect_eq("ioq_test_inject(uring op off)", ioq_test_inject(uring_point(ops[i]), 0, 0), 0);
	}
	stop_waiter(&sh);
	ioq_destroy(q);
	run_free(&r);
	check_fds(base, "after the io_uring op injections");
}

/**
 * ioq_fd_headroom() is how many more descriptors open() hands out: under a
 * lowered limit, 0 once /dev/null was opened until EMFILE, then one more per
 * descriptor closed (however many descriptors sit above the limit).
 */
static void test_fd_headroom(void) {
	set_context("ioq_fd_headroom");
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		fail("getrlimit: %s", strerror(errno));
	}
	int32_t before = ioq_fd_headroom();
	if (before <= 0) {
		fail("ioq_fd_headroom() = %d with descriptors to spare", before);
	}
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fail("open(/dev/null): %s", strerror(errno));
	}
	expect_eq("ioq_fd_headroom() with one more descriptor open", ioq_fd_headroom(), before - 1);
	close(fd);

	struct rlimit low = rl;
	low.rlim_cur = (rlim_t)count_fds() + 8;
	if (setrlimit(RLIMIT_NOFILE, &low) != 0) {
		fail("setrlimit: %s", strerror(errno));
	}
	int hogs[64];
	int n = 0;
	while (n < 64 && (hogs[n] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0) {
		++n;
	}
	if (n == 64 || errno != EMFILE) {
		fail("opened %d descriptors under a limit of %lu, then %s", n, (unsigned long)low.rlim_cur, strerror(errno));
	}
	expect_eq("ioq_fd_headroom() with every number taken", ioq_fd_headroom(), 0);
	for (int freed = 1; freed <= 3; ++freed) {
		close(hogs[--n]);
		expect_eq("ioq_fd_headroom() with descriptors closed", ioq_fd_headroom(), freed);
	}
	while (n > 0) {
		close(hogs[--n]);
	}
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		fail("setrlimit: %s", strerror(errno));
	}
	expect_eq("ioq_fd_headroom() with the limit back", ioq_fd_headroom(), before);
	printf("ok   ioq_fd_headroom: %d\n", before);
}

/** Build the tree, then run every test on every backend and configuration. */
int main(void) {
	static const uint32_t thread_counts[] = {1, 2, 4};
	static const uint32_t depths[] = {1, 2, 3, 64, 4096};

	uint64_t seed = harness_seed();
	int64_t start = now_ns();
	printf("ioq_stress" HARNESS_LANE ": seed %" PRIu64 " (IOQ_TEST_SEED=%" PRIu64 " repeats it)%s\n", seed, seed, HARNESS_TSAN ? ", scaled down for TSan" : "");
	harness_start("ioq_stress", tree_remove, WATCHDOG_S);
	warm_symbolizer();

	struct tree t;
	tree_build(&t);
	printf("ioq_stress: tree %s: %zu paths, %zu open as directories\n", t.nodes[0].path, t.n, t.ndirs);

	bool uring = uring_works("ioq_stress");
	int32_t backends[] = {IOQ_BACKEND_URING, IOQ_BACKEND_THREADS};
	struct rng rng;
	rng_seed(&rng, seed);

	test_fd_headroom();
	test_inject_setup();
	for (size_t b = 0; b < 2; ++b) {
		if (backends[b] == IOQ_BACKEND_URING && !uring) {
			continue;
		}
		test_misuse(&t, backends[b]);
		for (size_t i = 0; i < sizeof(thread_counts) / sizeof(thread_counts[0]); ++i) {
			for (size_t j = 0; j < sizeof(depths) / sizeof(depths[0]); ++j) {
				test_workload(&t, backends[b], thread_counts[i], depths[j], rng_next(&rng));
				test_cancel(&t, backends[b], thread_counts[i], depths[j], rng_next(&rng));
			}
		}
	}
	if (uring) {
		test_inject_submit(&t, 1, rng_next(&rng));
		test_inject_submit(&t, 2, rng_next(&rng));
		test_inject_uring_ops(&t, 1, -EINVAL, rng_next(&rng));
		test_inject_uring_ops(&t, 2, -EOPNOTSUPP, rng_next(&rng));
		test_inject_uring_ops(&t, 2, -ENOSYS, rng_next(&rng));
	}

	if (chdir("/") != 0) {
		fail("chdir(/): %s", strerror(errno));
	}
	tree_remove();
	tree_free(&t);
	printf("ioq_stress" HARNESS_LANE ": all passed in %.1f s%s\n", (double)(now_ns() - start) / 1e9, uring ? "" : " (io_uring skipped)");
	return 0;
}
