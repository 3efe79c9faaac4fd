// SPDX-License-Identifier: 0BSD
/**
 * bench/floor: the kernel floor of a walk, plain syscalls and nothing else.
 *
 * Walks a tree breadth-first with openat(parent fd, name) / getdents64 /
 * close, on 1 or more threads sharing one FIFO of open directory
 * descriptors under a mutex: a thread takes a descriptor, reads the
 * directory to the end (getdents64 until it returns 0, 32 KiB at a time as
 * ioq does), opens each subdirectory as it meets it (openat relative to the
 * directory being read, O_RDONLY | O_DIRECTORY | O_CLOEXEC as ioq opens
 * them), closes the directory, and appends the subdirectories to the FIFO.
 * Symlinks are counted, never followed; entries of type DT_UNKNOWN are
 * classified with fstatat(AT_SYMLINK_NOFOLLOW).  It counts what `find ROOT`
 * prints: the root and every entry below it.
 *
 * When the FIFO holds more descriptors than half the RLIMIT_NOFILE soft
 * limit (raised to the hard limit first), a thread walks a subdirectory
 * depth-first in place instead of queueing it, so any tree fits.
 *
 *     floor [-t threads] [-r runs] ROOT
 *
 * Prints one JSON object per run on stdout: entries, directories, syscall
 * counts, wall time (CLOCK_MONOTONIC around the walk, threads started and
 * joined inside it) and CPU time (getrusage(RUSAGE_SELF), user and system,
 * before and after).  Built by `zig build bench-walk`; bench/run.ts runs it.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "tool.h"

/** Bytes one getdents64 call reads (ioq's DIR_BUF_SIZE). */
#define FLOOR_BUF_SIZE (32 * 1024)
/** The most threads. */
#define FLOOR_MAX_THREADS 64
/** The most runs. */
#define FLOOR_MAX_RUNS 1000

/** The kernel's dirent layout for getdents64. */
struct floor_dirent {
	/** Inode number. */
	uint64_t d_ino;
	/** Offset of the next record. */
	int64_t d_off;
	/** This record's length. */
	uint16_t d_reclen;
	/** DT_* type. */
	uint8_t d_type;
	/** The NUL-terminated name. */
	char d_name[];
};

/** What one thread counted. */
struct floor_count {
	/** Entries below the root. */
	uint64_t entries;
	/** Directories read. */
	uint64_t dirs;
	/** openat() calls. */
	uint64_t opens;
	/** getdents64() calls. */
	uint64_t getdents;
	/** close() calls. */
	uint64_t closes;
	/** fstatat() calls (DT_UNKNOWN entries). */
	uint64_t stats;
	/** Failed calls (reported on stderr). */
	uint64_t errors;
};

/** The shared FIFO of open directories, and the walk's state. */
struct floor {
	/** Guards everything below. */
	pthread_mutex_t lock;
	/** Signalled when descriptors are queued or the walk ends. */
	pthread_cond_t ready;
	/** The queued descriptors: a ring of `cap` slots. */
	int *fds;
	/** Ring capacity (a power of two). */
	size_t cap;
	/** Index of the oldest queued descriptor. */
	size_t head;
	/** Queued descriptors. */
	size_t len;
	/** Threads reading a directory now. */
	unsigned busy;
	/** Queue at most this many descriptors; walk deeper ones in place. */
	size_t budget;
};

/** One thread's state. */
struct floor_thread {
	/** The walk. */
	struct floor *f;
	/** The thread. */
	pthread_t id;
	/** What it counted. */
	struct floor_count count;
	/** getdents64 buffers, one per depth of in-place walking. */
	char **bufs;
	/** How many of `bufs` exist. */
	size_t nbufs;
	/** The FIFO's length when this thread took its directory. */
	size_t queued;
};

/** @return The getdents64 buffer for in-place depth `depth`, or NULL (reported). */
static char *floor_buf(struct floor_thread *t, size_t depth) {
	if (depth >= t->nbufs) {
		char **bufs = realloc(t->bufs, (depth + 1) * sizeof(*bufs));
		if (!bufs) {
			perror("floor");
			return NULL;
		}
		t->bufs = bufs;
		while (t->nbufs <= depth) {
			t->bufs[t->nbufs] = malloc(FLOOR_BUF_SIZE);
			if (!t->bufs[t->nbufs]) {
				perror("floor");
				return NULL;
			}
			++t->nbufs;
		}
	}
	return t->bufs[depth];
}

/** Append descriptors to the FIFO, growing it.  Call with the lock held.  @return 0 or -1. */
static int floor_push(struct floor *f, const int *fds, size_t n) {
	if (f->len + n > f->cap) {
		size_t cap = f->cap;
		while (f->len + n > cap) {
			cap *= 2;
		}
		int *ring = malloc(cap * sizeof(*ring));
		if (!ring) {
			perror("floor");
			return -1;
		}
		for (size_t i = 0; i < f->len; ++i) {
			ring[i] = f->fds[(f->head + i) & (f->cap - 1)];
		}
		free(f->fds);
		f->fds = ring;
		f->cap = cap;
		f->head = 0;
	}
	for (size_t i = 0; i < n; ++i) {
		f->fds[(f->head + f->len + i) & (f->cap - 1)] = fds[i];
	}
	f->len += n;
	return 0;
}

/** Report a failed call on stderr and count it. */
static void floor_error(struct floor_thread *t, const char *call, const char *name) {
	fprintf(stderr, "floor: %s %s: %s\n", call, name, strerror(errno));
	++t->count.errors;
}

/** A growable list of descriptors a directory read found. */
struct floor_list {
	/** The descriptors. */
	int *fds;
	/** How many. */
	size_t len;
	/** Room for. */
	size_t cap;
};

/** Append a descriptor to a list.  @return 0 or -1. */
static int floor_list_add(struct floor_list *list, int fd) {
	if (list->len == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 64;
		int *fds = realloc(list->fds, cap * sizeof(*fds));
		if (!fds) {
			perror("floor");
			return -1;
		}
		list->fds = fds;
		list->cap = cap;
	}
	list->fds[list->len++] = fd;
	return 0;
}

/**
 * Read directory `fd` to the end and close it.  Subdirectories are opened
 * and added to `out` to be queued, or, when `out` is NULL or the FIFO is
 * over budget, read in place (depth first).
 */
static void floor_read(struct floor_thread *t, int fd, size_t depth, struct floor_list *out) {
	char *buf = floor_buf(t, depth);
	++t->count.dirs;
	while (buf) {
		long n = syscall(SYS_getdents64, fd, buf, FLOOR_BUF_SIZE);
		++t->count.getdents;
		if (n <= 0) {
			if (n < 0) {
				floor_error(t, "getdents64", "");
			}
			break;
		}
		for (long pos = 0; pos < n;) {
			struct floor_dirent *d = (struct floor_dirent *)(buf + pos);
			pos += d->d_reclen;
			const char *name = d->d_name;
			if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) {
				continue;
			}
			++t->count.entries;
			bool dir = d->d_type == DT_DIR;
			if (d->d_type == DT_UNKNOWN) {
				struct stat st;
				++t->count.stats;
				if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
					floor_error(t, "fstatat", name);
					continue;
				}
				dir = S_ISDIR(st.st_mode);
			}
			if (!dir) {
				continue;
			}
			int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			++t->count.opens;
			if (sub < 0) {
				floor_error(t, "openat", name);
				continue;
			}
			// The FIFO's length when this directory was taken is close enough
			bool queue = out && t->queued + out->len < t->f->budget;
			if (!queue || floor_list_add(out, sub) != 0) {
				floor_read(t, sub, depth + 1, NULL);
			}
		}
	}
	close(fd);
	++t->count.closes;
}

/** A thread: take directories from the FIFO until it is empty and nobody is reading. */
static void *floor_main(void *arg) {
	struct floor_thread *t = arg;
	struct floor *f = t->f;
	struct floor_list found = {0};

	pthread_mutex_lock(&f->lock);
	while (true) {
		while (f->len == 0 && f->busy > 0) {
			pthread_cond_wait(&f->ready, &f->lock);
		}
		if (f->len == 0) {
			break;
		}
		int fd = f->fds[f->head];
		f->head = (f->head + 1) & (f->cap - 1);
		--f->len;
		++f->busy;
		t->queued = f->len;
		pthread_mutex_unlock(&f->lock);

		found.len = 0;
		floor_read(t, fd, 0, &found);

		pthread_mutex_lock(&f->lock);
		--f->busy;
		if (found.len && floor_push(f, found.fds, found.len) != 0) {
			// Out of memory: walk them here instead
			pthread_mutex_unlock(&f->lock);
			for (size_t i = 0; i < found.len; ++i) {
				floor_read(t, found.fds[i], 1, NULL);
			}
			pthread_mutex_lock(&f->lock);
		}
		// Wake the others for new work, or for the end
		if (found.len > 1 || (f->len == 0 && f->busy == 0)) {
			pthread_cond_broadcast(&f->ready);
		} else if (found.len == 1) {
			pthread_cond_signal(&f->ready);
		}
	}
	pthread_mutex_unlock(&f->lock);
	free(found.fds);
	return NULL;
}

/** One walk of `root` on `nthreads` threads; prints its JSON line.  @return 0 or 1. */
static int floor_run(const char *root, unsigned nthreads, unsigned run) {
	struct floor f = {.cap = 1024, .budget = 512};
	struct floor_thread threads[FLOOR_MAX_THREADS];
	memset(threads, 0, sizeof(threads));
	struct rlimit lim;
	if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
		f.budget = lim.rlim_cur / 2;
	}
	f.fds = malloc(f.cap * sizeof(*f.fds));
	if (!f.fds) {
		perror("floor");
		return 1;
	}
	pthread_mutex_init(&f.lock, NULL);
	pthread_cond_init(&f.ready, NULL);

	struct rusage before, after;
	getrusage(RUSAGE_SELF, &before);
	double start = tool_now();

	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "floor: open %s: %s\n", root, strerror(errno));
		return 1;
	}
	floor_push(&f, &fd, 1);
	unsigned started = 0;
	for (unsigned i = 0; i < nthreads; ++i) {
		threads[i].f = &f;
		if (i > 0) {
			int err = pthread_create(&threads[i].id, NULL, floor_main, &threads[i]);
			if (err) {
				fprintf(stderr, "floor: pthread_create: %s\n", strerror(err));
				return 1;
			}
			++started;
		}
	}
	floor_main(&threads[0]);
	for (unsigned i = 1; i <= started; ++i) {
		pthread_join(threads[i].id, NULL);
	}

	double wall = tool_now() - start;
	getrusage(RUSAGE_SELF, &after);

	struct floor_count sum = {.opens = 1};
	for (unsigned i = 0; i < nthreads; ++i) {
		const struct floor_count *c = &threads[i].count;
		sum.entries += c->entries;
		sum.dirs += c->dirs;
		sum.opens += c->opens;
		sum.getdents += c->getdents;
		sum.closes += c->closes;
		sum.stats += c->stats;
		sum.errors += c->errors;
		for (size_t j = 0; j < threads[i].nbufs; ++j) {
			free(threads[i].bufs[j]);
		}
		free(threads[i].bufs);
	}
	double user = tool_ms(after.ru_utime) - tool_ms(before.ru_utime);
	double sys = tool_ms(after.ru_stime) - tool_ms(before.ru_stime);
	printf("{\"program\":\"floor\",\"run\":%u,\"threads\":%u,\"entries\":%llu,\"dirs\":%llu,"
	       "\"opens\":%llu,\"getdents\":%llu,\"closes\":%llu,\"stats\":%llu,\"errors\":%llu,"
	       "\"wallMs\":%.3f,\"userMs\":%.3f,\"sysMs\":%.3f}\n",
	       run, nthreads, (unsigned long long)sum.entries + 1, (unsigned long long)sum.dirs,
	       (unsigned long long)sum.opens, (unsigned long long)sum.getdents,
	       (unsigned long long)sum.closes, (unsigned long long)sum.stats,
	       (unsigned long long)sum.errors, wall * 1e3, user, sys);
	fflush(stdout);

	pthread_cond_destroy(&f.ready);
	pthread_mutex_destroy(&f.lock);
	free(f.fds);
	return sum.errors ? 1 : 0;
}

/** Print the usage line and return the exit status for a bad command line. */
static int floor_usage(const char *argv0) {
	fprintf(stderr, "usage: %s [-t threads (1-%d)] [-r runs (1-%d)] ROOT\n", argv0, FLOOR_MAX_THREADS, FLOOR_MAX_RUNS);
	return 2;
}

/** Parse a positive integer up to `max`.  @return 0, or -1 if it is not one. */
static int floor_parse(const char *text, unsigned long max, unsigned *out) {
	unsigned long long value;
	if (tool_parse(text, max, &value) != 0) {
		return -1;
	}
	*out = (unsigned)value;
	return 0;
}

/** Parse the command line, raise the descriptor limit, run the walks.  @return The exit status. */
int main(int argc, char *argv[]) {
	unsigned nthreads = 1, runs = 1;
	int opt;
	while ((opt = getopt(argc, argv, "t:r:")) != -1) {
		if (opt == 't' && floor_parse(optarg, FLOOR_MAX_THREADS, &nthreads) == 0) {
			continue;
		}
		if (opt == 'r' && floor_parse(optarg, FLOOR_MAX_RUNS, &runs) == 0) {
			continue;
		}
		return floor_usage(argv[0]);
	}
	if (optind != argc - 1) {
		return floor_usage(argv[0]);
	}

	// Wide trees keep many directories open at once
	struct rlimit lim;
	if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
		lim.rlim_cur = lim.rlim_max;
		setrlimit(RLIMIT_NOFILE, &lim);
	}

	for (unsigned i = 0; i < runs; ++i) {
		if (floor_run(argv[optind], nthreads, i + 1) != 0) {
			return 1;
		}
	}
	return 0;
}
