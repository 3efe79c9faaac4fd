// SPDX-License-Identifier: 0BSD
/**
 * wstate: the private state of a walk, shared by the modules of the
 * traversal engine (walk.c: the API and the workers' loop; wsched.c: the
 * order and the hand-out of work; wfd.c: descriptors; wread.c: reading one
 * directory; wout.c: batches and emission; wnode.c: directory nodes).
 */

#ifndef IOQ_WSTATE_H
#define IOQ_WSTATE_H

#include "walk.h"
#include "wglob.h"
#include "wign.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/** The kinds of node in the emission list. */
enum wnode_kind {
	/** A directory below the root. */
	WNODE_DIR,
	/** The root (a directory or not). */
	WNODE_ROOT,
	/** Post-order only: emits its directory's own record after its subtree. */
	WNODE_END,
	/** Depth-first: the entries a directory listed after one of its subdirectories. */
	WNODE_RUN,
};

/** Where a node is in its life. */
enum wnode_state {
	/** Waiting to be read. */
	WNODE_UNREAD,
	/** Waiting for the caller to say whether it is entered. */
	WNODE_GATED,
	/** A worker is reading it. */
	WNODE_READING,
	/** Its records are ready to be emitted. */
	WNODE_READ,
};

/** wnode::flags: reached through a followed symlink (opened following it). */
#define WNODE_FOLLOWED 0x01
/** wnode::flags: dev and ino are known. */
#define WNODE_HAS_ID 0x02
/** wnode::marks: its descriptor is in the cache's list (evictable). */
#define WNODE_CACHED 0x04

/** Records of one directory (or one record), ready to be emitted. */
struct wchunk {
	/** How many records. */
	uint32_t count;
	/** Bytes of front text (reported paths and their terminators). */
	uint32_t front;
	/** UTF-16 code units of the front text. */
	uint32_t front16;
	/** Bytes of text kept apart (error paths). */
	uint32_t apart;
	/** The records; `off` counts in `text` or, for IOQ_WALK_REC_APART, in `apart_text`. */
	struct ioq_walk_rec *recs;
	/** One per record when the walk stats, else NULL. */
	struct statx *stats;
	/** The front text. */
	uint8_t *text;
	/** The text kept apart. */
	uint8_t *apart_text;
};

/** A directory of the walk, or a post-order end marker. */
struct wnode {
	/** Next in emission order. */
	struct wnode *next;
	/** The directory it was found in (a reference); an end marker's own directory. */
	struct wnode *parent;
	/** Neighbours in the descriptor cache (WNODE_CACHED). */
	struct wnode *lru_prev, *lru_next;
	/** What to emit for it: its entries (for the root, its own record first). */
	struct wchunk *chunk;
	/** Depth-first: its own record, emitted before its contents (post-order: by its end marker). */
	struct wchunk *self;
	/**
	 * Breadth-first: its subdirectories (chained by `next`), which join the
	 * list when it is emitted, so every directory's come after those of the
	 * directories emitted before it, however the workers finish.
	 */
	struct wnode *kids, *kids_tail;
	/** Its entries' paths start with this, when that is not its parent's prefix and its name (canonical paths), else NULL. */
	uint8_t *prefix;
	/** Length of `prefix`. */
	uint32_t prefix_len;
	/** References: the list, read-queue slots, children, end markers. */
	uint32_t refs;
	/** Depth below the root. */
	uint32_t depth;
	/** Opens in flight relative to its descriptor. */
	uint32_t pins;
	/** Subdirectories found in it and not yet opened (or settled). */
	uint32_t unopened;
	/** Its descriptor, or -1. */
	int fd;
	/** Device and inode (WNODE_HAS_ID). */
	uint64_t dev, ino;
	/** Where glob patterns stand at this directory (wglob.h). */
	wglob_set ginc, gexc;
	/** Its ignore files, once read (IOQ_WALK_GITIGNORE), or NULL. */
	struct wign *ign;
	/** An enum wnode_kind. */
	uint8_t kind;
	/** An enum wnode_state. */
	uint8_t state;
	/**
	 * WNODE_FOLLOWED and WNODE_HAS_ID: set before its subdirectories are
	 * handed out, and read by their readers without the walk's lock.
	 */
	uint8_t flags;
	/**
	 * Marks of the scheduler and the descriptor cache (WNODE_CACHED and
	 * wsched.c's): changed and read only under the walk's lock, so apart
	 * from `flags`, which other threads read without it.
	 */
	uint8_t marks;
	/** Length of `name`. */
	uint16_t namelen;
	/** Its name in its parent (not NUL-terminated). */
	char name[];
};

/** A glob list, compiled (see wmatch.h). */
struct wglobs {
	/** The globs. */
	struct fnm **pats;
	/** How many. */
	uint32_t count;
};

/** A list of suffixes. */
struct wsuffixes {
	/** Each suffix's bytes. */
	uint8_t **bytes;
	/** Each suffix's length. */
	uint32_t *lens;
	/** How many. */
	uint32_t count;
};

/** The read queue: nodes to hand out, a ring of pointers (each holding a reference). */
struct wdeque {
	/** The ring. */
	struct wnode **slots;
	/** Its size (a power of two). */
	uint32_t cap;
	/** Index of the first. */
	uint32_t head;
	/** How many. */
	uint32_t len;
};

/** The batches and their hand-over to the owner. */
struct wout {
	/** Guards everything below. */
	pthread_mutex_t lock;
	/** The owner waits here for a batch; the emitter for a free one. */
	pthread_cond_t cond;
	/** The batch headers (mapped by the caller). */
	struct ioq_walk_batch *batches;
	/** How many. */
	uint32_t nbatches;
	/** Published batches, oldest first (a ring of nbatches). */
	uint32_t *ready;
	/** Index of the oldest in `ready`. */
	uint32_t ready_head;
	/** How many are in `ready`. */
	uint32_t ready_len;
	/** Free batches (a stack). */
	uint32_t *free;
	/** How many are free. */
	uint32_t nfree;
	/** The batch the emitter fills, or -1. */
	int32_t cur;
	/** When `cur` got its first record (CLOCK_MONOTONIC ns). */
	int64_t cur_since;
	/** The last batch is published. */
	bool ended;
	/** ioq_walk_stop_waits() was called. */
	bool waits_stopped;
	/** Threads in ioq_walk_wait(). */
	uint32_t waiters;
	/** An emitter waits for a free batch. */
	bool starved;
};

/** The descriptor cache. */
struct wfds {
	/** The most descriptors the walk may hold. */
	uint32_t limit;
	/** Descriptors held or reserved now. */
	uint32_t held;
	/** The most ever held. */
	uint32_t peak;
	/** Evictable descriptors, oldest first. */
	struct wnode *lru_head, *lru_tail;
	/** How many are evictable. */
	uint32_t cached;
	/**
	 * Descriptors let go under the lock and not yet closed (a struct
	 * wclose's), and descriptors closed that way so far: a reader whose
	 * open failed with EMFILE tries again if one of them may be what it
	 * lacked (read without the lock).
	 */
	atomic_uint closing, closed;
};

struct ioq_walk {
	/** The queue whose workers walk. */
	struct ioq *q;
	/** The configuration. */
	struct ioq_walk_config cfg;

	/** The root as opened (NUL-terminated). */
	char *root;
	/** Its length. */
	uint32_t root_len;
	/**
	 * The root's directory's path with no symlink in it (read from its
	 * descriptor when it was opened), NUL-terminated, or NULL: the way back
	 * to it with one descriptor once its own is closed.
	 */
	char *root_real;
	/** The root's path as reported. */
	uint8_t *root_shown;
	/** Its length. */
	uint32_t root_shown_len;
	/** What the root's entries' paths start with. */
	uint8_t *root_prefix;
	/** Its length. */
	uint32_t root_prefix_len;
	/** Name globs a reported entry must match (one of). */
	struct wglobs names;
	/** Name globs of directories not to enter. */
	struct wglobs prunes;
	/** Suffixes a reported path must end with (one of). */
	struct wsuffixes exts;
	/** Glob patterns steering the walk, or NULL. */
	struct wglob *glob;
	/** Ignore files above the root and the root's absolute path (IOQ_WALK_GITIGNORE). */
	struct wign_top ign_top;
	/** The root's node. */
	struct wnode *root_node;
	/** The root's absolute path, for exclude patterns, or NULL. */
	uint8_t *base;
	/** Its length. */
	uint32_t base_len;

	/** Guards the scheduler's state below and every node's fields. */
	pthread_mutex_t lock;
	/** Workers wait here for work. */
	pthread_cond_t work;
	/** The emission list: first and last node. */
	struct wnode *head, *tail;
	/** The nodes to read. */
	struct wdeque todo;
	/** Nodes handed out for reading and not yet emitted. */
	uint32_t outstanding;
	/** Bytes of chunks read and not yet emitted. */
	uint64_t held_bytes;
	/** Nodes being read. */
	uint32_t reading;
	/** Workers asleep in wsched_take(). */
	uint32_t sleepers;
	/** A worker is emitting. */
	bool emitting;
	/** Everything is emitted. */
	bool finished;
	/** The root's device (for IOQ_WALK_XDEV). */
	uint64_t root_dev;
	/** The descriptor cache. */
	struct wfds fds;

	/** Gated nodes not yet asked about (each holds a reference). */
	struct wnode **gated;
	/** How many, and the room. */
	uint32_t ngated, gated_cap;
	/** Gated nodes asked about and not yet answered, by id (NULL: a free id). */
	struct wnode **asked;
	/** Ids handed out so far, and the room. */
	uint32_t nasked, asked_cap;
	/** Free ids (a stack). */
	uint32_t *free_ids;
	/** How many. */
	uint32_t nfree_ids;
	/** ngated, readable without the lock. */
	atomic_uint gates_pending;

	/** The batches. */
	struct wout out;

	/** Set by ioq_walk_cancel(). */
	atomic_bool cancelled;
	/** Workers lent by the queue (IOQ_WALK requests in flight). */
	uint32_t nlent;

	/** Counters (enum ioq_walk_counter). */
	atomic_ullong counters[IOQ_WALK_COUNTERS];
};

/** Add to a counter. */
static inline void walk_count(struct ioq_walk *w, enum ioq_walk_counter c, unsigned long long n) {
	atomic_fetch_add_explicit(&w->counters[c], n, memory_order_relaxed);
}

/** Whether the walk was cancelled. */
static inline bool walk_cancelled(struct ioq_walk *w) {
	return atomic_load_explicit(&w->cancelled, memory_order_relaxed);
}

#endif // IOQ_WSTATE_H
