// SPDX-License-Identifier: 0BSD
/**
 * bench/pipe: a breadth-first walk through the ioq queue, in C, to measure
 * the queue's own cost (hand-offs to and from the workers, batching) apart
 * from JavaScript's.
 *
 * The owner thread (main) does what the JavaScript walker does through FFI,
 * with the public API of csrc/ioq.h only: it opens the root with
 * ioq_opendir(), and for every OPENDIR completion it pops, reads the whole
 * directory with ioq_dir_read() (the first batch was read by the worker),
 * counts the entries, and requests an OPENDIR of each subdirectory relative
 * to the directory's handle (`at`), oldest first.  A directory is closed
 * through the queue (ioq_closedir()) once it is read and every OPENDIR
 * relative to it has completed.  Requests wait in a local FIFO while the
 * queue is full.  Symlinks are counted, never followed; DT_UNKNOWN entries
 * are classified with fstatat(AT_SYMLINK_NOFOLLOW) on ioq_dir_fd().  It
 * counts what `find ROOT` prints.
 *
 *     pipe [-t workers] [-b threads|io_uring] [-d depth] [-r runs] ROOT
 *
 * Prints one JSON object per run on stdout: entries, directories, requests,
 * pops, wall time (CLOCK_MONOTONIC from ioq_create() to ioq_destroy(), as a
 * JavaScript walk() creates its queue) and CPU time (getrusage(RUSAGE_SELF)
 * before and after: the owner and the workers).  Exits 3 when the backend
 * is refused (io_uring on a kernel that forbids it).  Built by `zig build
 * bench-walk`; bench/run.ts runs it.
 */

#define _GNU_SOURCE
#include "ioq.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "tool.h"

/** The most runs. */
#define PIPE_MAX_RUNS 1000
/** Completions one pop takes (as lib/queue.ts). */
#define PIPE_POP_MAX 1024
/** Bytes of names one ioq_dir_read() may return. */
#define PIPE_NAMES (64 * 1024)
/** Meta words for one ioq_dir_read(). */
#define PIPE_META 4097
/** Handles index a table of this many slots (IOQ_HANDLE_INDEX_BITS). */
#define PIPE_SLOTS (1u << IOQ_HANDLE_INDEX_BITS)

/** A subdirectory waiting to be requested. */
struct pipe_req {
	/** Handle of its parent. */
	uint32_t at;
	/** Offset of its name in the FIFO's name arena. */
	uint32_t name;
	/** Length of its name. */
	uint32_t len;
};

/** What one walk counts and keeps. */
struct pipe {
	/** The queue. */
	struct ioq *q;
	/** Its entry arena. */
	struct ioq_ent *ents;
	/** Requests not yet made, oldest at `head`. */
	struct pipe_req *fifo;
	/** FIFO length, head and capacity. */
	size_t len, head, cap;
	/** Names of FIFO entries, back to back. */
	char *names;
	/** Bytes used and allocated in `names`. */
	size_t names_len, names_cap;
	/** Per handle index: OPENDIRs relative to it not yet completed. */
	uint32_t *children;
	/** Handles to close when the queue has room. */
	uint32_t *closing;
	/** How many, and room for. */
	size_t nclosing, closing_cap;
	/** Entries below the root. */
	uint64_t entries;
	/** Directories opened. */
	uint64_t dirs;
	/** ioq_opendir() + ioq_closedir() requests made. */
	uint64_t requests;
	/** ioq_pop() calls that returned completions, and that returned none. */
	uint64_t pops, empty_pops;
	/** ioq_dir_read() calls. */
	uint64_t reads;
	/** Failures (reported on stderr). */
	uint64_t errors;
};

/** Report a failure (a negative errno value) and count it. */
static void pipe_error(struct pipe *p, const char *what, int32_t err) {
	fprintf(stderr, "pipe: %s: %s\n", what, strerror(-err));
	++p->errors;
}

/** Add a subdirectory of `at` to the FIFO.  @return 0 or -1 (out of memory). */
static int pipe_enqueue(struct pipe *p, uint32_t at, const char *name, uint32_t len) {
	if (p->head + p->len == p->cap) {
		// Move the live part down, or grow
		if (p->head > p->cap / 2) {
			memmove(p->fifo, p->fifo + p->head, p->len * sizeof(*p->fifo));
			p->head = 0;
		} else {
			size_t cap = p->cap ? p->cap * 2 : 1024;
			struct pipe_req *fifo = realloc(p->fifo, cap * sizeof(*fifo));
			if (!fifo) {
				return -1;
			}
			p->fifo = fifo;
			p->cap = cap;
		}
	}
	if (p->names_len + len > p->names_cap) {
		size_t cap = p->names_cap ? p->names_cap * 2 : 64 * 1024;
		while (p->names_len + len > cap) {
			cap *= 2;
		}
		char *names = realloc(p->names, cap);
		if (!names) {
			return -1;
		}
		p->names = names;
		p->names_cap = cap;
	}
	memcpy(p->names + p->names_len, name, len);
	p->fifo[p->head + p->len++] = (struct pipe_req){.at = at, .name = (uint32_t)p->names_len, .len = len};
	p->names_len += len;
	++p->children[at & (PIPE_SLOTS - 1)];
	return 0;
}

/** Close a directory through the queue, or note it for later when the queue is full. */
static void pipe_close(struct pipe *p, uint32_t dir) {
	if (p->nclosing == 0) {
		int32_t ret = ioq_closedir(p->q, dir, 0);
		if (ret >= 0) {
			++p->requests;
			return;
		}
		if (ret != -EAGAIN) {
			pipe_error(p, "ioq_closedir", ret);
			return;
		}
	}
	if (p->nclosing == p->closing_cap) {
		size_t cap = p->closing_cap ? p->closing_cap * 2 : 256;
		uint32_t *closing = realloc(p->closing, cap * sizeof(*closing));
		if (!closing) {
			pipe_error(p, "realloc", -ENOMEM);
			return;
		}
		p->closing = closing;
		p->closing_cap = cap;
	}
	p->closing[p->nclosing++] = dir;
}

/** Make the waiting closes, then the waiting opens, while the queue has room. */
static void pipe_submit(struct pipe *p) {
	size_t done = 0;
	while (done < p->nclosing) {
		int32_t ret = ioq_closedir(p->q, p->closing[done], 0);
		if (ret == -EAGAIN) {
			break;
		}
		if (ret < 0) {
			pipe_error(p, "ioq_closedir", ret);
		} else {
			++p->requests;
		}
		++done;
	}
	if (done) {
		memmove(p->closing, p->closing + done, (p->nclosing - done) * sizeof(*p->closing));
		p->nclosing -= done;
	}

	while (p->len > 0) {
		const struct pipe_req *r = &p->fifo[p->head];
		// The tag carries the parent's handle (exact in a double)
		int32_t ret = ioq_opendir(p->q, r->at, (const uint8_t *)p->names + r->name, r->len, 0, (double)r->at);
		if (ret == -EAGAIN) {
			break;
		}
		if (ret < 0) {
			pipe_error(p, "ioq_opendir", ret);
			if (--p->children[r->at & (PIPE_SLOTS - 1)] == 0) {
				pipe_close(p, r->at);
			}
		} else {
			++p->requests;
		}
		++p->head;
		--p->len;
	}
	if (p->len == 0) {
		p->head = 0;
		p->names_len = 0;
	}
}

/** Read every entry of a directory just opened, queueing its subdirectories. */
static void pipe_read(struct pipe *p, uint32_t dir, uint8_t *names, uint32_t *meta) {
	while (true) {
		int32_t n = ioq_dir_read(p->q, dir, names, PIPE_NAMES, meta, PIPE_META);
		++p->reads;
		if (n <= 0) {
			if (n < 0) {
				pipe_error(p, "ioq_dir_read", n);
			}
			return;
		}
		uint32_t off = 0;
		for (int32_t i = 0; i < n; ++i) {
			uint32_t m = meta[1 + i];
			uint32_t len = m >> 16;
			const char *name = (const char *)names + off;
			off += len + 1;
			++p->entries;
			bool sub = (m & 0xff) == DT_DIR;
			if ((m & 0xff) == DT_UNKNOWN) {
				struct stat st;
				if (fstatat(ioq_dir_fd(p->q, dir), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
					pipe_error(p, name, -errno);
					continue;
				}
				sub = S_ISDIR(st.st_mode);
			}
			if (sub && pipe_enqueue(p, dir, name, len) != 0) {
				pipe_error(p, "pipe_enqueue", -ENOMEM);
			}
		}
		if (meta[0] & IOQ_DIR_END) {
			return;
		}
	}
}

/** Take one completion. */
static void pipe_complete(struct pipe *p, struct ioq_ent *ent, uint8_t *names, uint32_t *meta) {
	if (ent->op == IOQ_CLOSEDIR) {
		if (ent->result < 0) {
			pipe_error(p, "closedir", ent->result);
		}
		return;
	}
	if (ent->op != IOQ_OPENDIR) {
		pipe_error(p, "unexpected completion", -EPROTO);
		return;
	}
	uint32_t parent = (uint32_t)ent->tag;
	if (ent->result < 0) {
		pipe_error(p, "opendir", ent->result);
	} else {
		uint32_t dir = ent->dir;
		++p->dirs;
		pipe_read(p, dir, names, meta);
		if (p->children[dir & (PIPE_SLOTS - 1)] == 0) {
			pipe_close(p, dir);
		}
	}
	if (parent && --p->children[parent & (PIPE_SLOTS - 1)] == 0) {
		pipe_close(p, parent);
	}
}

/** One walk; prints its JSON line.  @return 0, 1 on failure, 3 if the backend is refused. */
static int pipe_run(const char *root, uint32_t workers, int32_t backend, uint32_t depth, unsigned run) {
	struct pipe p = {0};
	uint8_t *names = malloc(PIPE_NAMES);
	uint32_t *meta = malloc(PIPE_META * sizeof(*meta));
	uint32_t *popped = malloc(PIPE_POP_MAX * sizeof(*popped));
	p.children = calloc(PIPE_SLOTS, sizeof(*p.children));
	if (!names || !meta || !popped || !p.children) {
		perror("pipe");
		return 1;
	}

	struct rusage before, after;
	getrusage(RUSAGE_SELF, &before);
	double start = tool_now();

	int32_t err = 0;
	p.q = ioq_create(depth, workers, backend, &err);
	if (!p.q) {
		fprintf(stderr, "pipe: ioq_create: %s\n", strerror(-err));
		return backend == IOQ_BACKEND_URING ? 3 : 1;
	}
	p.ents = ioq_entries(p.q);
	int32_t ret = ioq_opendir(p.q, 0, (const uint8_t *)root, (uint32_t)strlen(root), 0, 0);
	if (ret < 0) {
		pipe_error(&p, "ioq_opendir root", ret);
		return 1;
	}
	++p.requests;
	while (true) {
		pipe_submit(&p);
		if (ioq_inflight(p.q) == 0) {
			if (p.len == 0 && p.nclosing == 0) {
				break;
			}
			if (ioq_capacity(p.q) == 0) {
				pipe_error(&p, "queue full with nothing in flight", -EDEADLK);
				break;
			}
			continue;
		}
		int32_t n = ioq_pop(p.q, popped, PIPE_POP_MAX, 1000000);
		if (n < 0) {
			pipe_error(&p, "ioq_pop", n);
			break;
		}
		if (n == 0) {
			++p.empty_pops;
			continue;
		}
		++p.pops;
		for (int32_t i = 0; i < n; ++i) {
			pipe_complete(&p, &p.ents[popped[i]], names, meta);
		}
		ioq_release(p.q, popped, (uint32_t)n);
	}
	const char *used = ioq_backend(p.q) == IOQ_BACKEND_URING ? "io_uring" : "threads";
	ioq_destroy(p.q);

	double wall = tool_now() - start;
	getrusage(RUSAGE_SELF, &after);
	double user = tool_ms(after.ru_utime) - tool_ms(before.ru_utime);
	double sys = tool_ms(after.ru_stime) - tool_ms(before.ru_stime);
	printf("{\"program\":\"pipe\",\"run\":%u,\"backend\":\"%s\",\"workers\":%u,\"depth\":%u,"
	       "\"entries\":%llu,\"dirs\":%llu,\"requests\":%llu,\"pops\":%llu,\"emptyPops\":%llu,"
	       "\"reads\":%llu,\"errors\":%llu,\"wallMs\":%.3f,\"userMs\":%.3f,\"sysMs\":%.3f}\n",
	       run, used, workers, depth, (unsigned long long)p.entries + 1, (unsigned long long)p.dirs,
	       (unsigned long long)p.requests, (unsigned long long)p.pops,
	       (unsigned long long)p.empty_pops, (unsigned long long)p.reads,
	       (unsigned long long)p.errors, wall * 1e3, user, sys);
	fflush(stdout);

	free(p.fifo);
	free(p.names);
	free(p.closing);
	free(p.children);
	free(popped);
	free(meta);
	free(names);
	return p.errors ? 1 : 0;
}

/** Print the usage line and return the exit status for a bad command line. */
static int pipe_usage(const char *argv0) {
	fprintf(stderr, "usage: %s [-t workers (1-1024)] [-b threads|io_uring] [-d depth (1-65536)] [-r runs (1-%d)] ROOT\n", argv0, PIPE_MAX_RUNS);
	return 2;
}

/** Parse a positive integer up to `max`.  @return 0, or -1 if it is not one. */
static int pipe_parse(const char *text, unsigned long max, uint32_t *out) {
	unsigned long long value;
	if (tool_parse(text, max, &value) != 0) {
		return -1;
	}
	*out = (uint32_t)value;
	return 0;
}

/** Parse the command line, raise the descriptor limit, run the walks.  @return The exit status. */
int main(int argc, char *argv[]) {
	uint32_t workers = 1, depth = 4096, runs = 1;
	int32_t backend = IOQ_BACKEND_THREADS;
	int opt;
	while ((opt = getopt(argc, argv, "t:b:d:r:")) != -1) {
		if (opt == 't' && pipe_parse(optarg, 1024, &workers) == 0) {
			continue;
		}
		if (opt == 'd' && pipe_parse(optarg, 65536, &depth) == 0) {
			continue;
		}
		if (opt == 'r' && pipe_parse(optarg, PIPE_MAX_RUNS, &runs) == 0) {
			continue;
		}
		if (opt == 'b' && (strcmp(optarg, "threads") == 0 || strcmp(optarg, "io_uring") == 0)) {
			backend = optarg[0] == 't' ? IOQ_BACKEND_THREADS : IOQ_BACKEND_URING;
			continue;
		}
		return pipe_usage(argv[0]);
	}
	if (optind != argc - 1) {
		return pipe_usage(argv[0]);
	}

	// Wide trees keep many directories open at once
	struct rlimit lim;
	if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
		lim.rlim_cur = lim.rlim_max;
		setrlimit(RLIMIT_NOFILE, &lim);
	}

	for (uint32_t i = 0; i < runs; ++i) {
		int ret = pipe_run(argv[optind], workers, backend, depth, i + 1);
		if (ret != 0) {
			return ret;
		}
	}
	return 0;
}
