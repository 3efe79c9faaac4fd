// SPDX-License-Identifier: 0BSD
/**
 * walk: the traversal engine, on top of an ioq's worker threads.
 *
 * A walk is made from a root, a configuration and a few lists (name globs,
 * names to prune, extensions).  It borrows every worker thread of its queue:
 * the workers open directories, read them, classify and filter their
 * entries, and queue the subdirectories they find, without a round trip
 * through the caller.  The caller receives the result as a stream of batches
 * in C memory: runs of fixed-size records (struct ioq_walk_rec), each naming
 * a path already joined in the batch's text, and, when asked, a struct statx
 * per record.
 *
 * Order: the records come in a defined order, whatever the number of
 * workers: breadth-first (every directory's entries, directories in the
 * order they were found, so shallow before deep), depth-first (a directory's
 * entries, then the subtree of each subdirectory in turn), or post-order
 * (depth-first, with each directory's own record after its subtree, as
 * find -depth).  With IOQ_WALK_SORT, each directory's entries come in byte
 * order of their names, so the stream is the same on every run.  Workers
 * read ahead of the order within a bounded window.
 *
 * Gates: where the caller must decide whether a directory is entered (a
 * predicate only it can evaluate), the engine asks: gated directories are
 * listed by ioq_walk_asked() and held, without holding a worker, until
 * ioq_walk_decide() answers.
 *
 * Threading: every function must be called from the walk's owner thread
 * (the owner of its queue), except ioq_walk_wait(), which may run on another
 * thread, and ioq_walk_stop_waits() and ioq_walk_cancel(), which may be
 * called while it runs.
 *
 * Errors: functions return negative errno values.  Errors met during the
 * walk are records in the stream (IOQ_WALK_REC_ERROR), never dropped.
 */

#ifndef IOQ_WALK_H
#define IOQ_WALK_H

#include "ioq.h"
#include <errno.h>
#include <stdint.h>

/** Orders, for ioq_walk_config::order. */
enum ioq_walk_order {
	/** Breadth-first. */
	IOQ_WALK_BFS = 0,
	/** Depth-first, a directory's record before its contents. */
	IOQ_WALK_DFS = 1,
	/** Depth-first, a directory's record after its contents. */
	IOQ_WALK_POST = 2,
};

/** Which symlinks are followed, for ioq_walk_config::follow. */
enum ioq_walk_follow {
	/** None (find -P). */
	IOQ_WALK_FOLLOW_NEVER = 0,
	/** The root only (find -H). */
	IOQ_WALK_FOLLOW_ROOT = 1,
	/** Every one (find -L). */
	IOQ_WALK_FOLLOW_ALWAYS = 2,
};

/** ioq_walk_config::flags: stat every reported entry (statx). */
#define IOQ_WALK_STAT 0x1
/** ioq_walk_config::flags: do not enter directories on another device than the root. */
#define IOQ_WALK_XDEV 0x2
/** ioq_walk_config::flags: each directory's entries in byte order of their names. */
#define IOQ_WALK_SORT 0x4
/** ioq_walk_config::flags: every directory about to be entered is a gate (see ioq_walk_asked()). */
#define IOQ_WALK_GATE 0x8
/**
 * ioq_walk_config::flags: @std/fs walk's rules instead of find's: the root is
 * always followed and must be a directory when entries are wanted below it
 * (ENOTDIR otherwise); a followed symlink to a file is reported as the link;
 * a broken link when following is reported as a symlink; a loop is only an
 * error when the walk would enter it.
 */
#define IOQ_WALK_STD 0x10
/** ioq_walk_config::flags: show paths through followed symlinks as their canonical path. */
#define IOQ_WALK_CANON 0x20
/**
 * ioq_walk_config::flags: honour ignore files (`.gitignore` inside a
 * repository, `.git/info/exclude`, `.ignore`) with git's rules: ignored
 * entries are neither reported nor entered, and `.git` is left out (wign.h).
 */
#define IOQ_WALK_GITIGNORE 0x40
/** Every ioq_walk_config::flags bit. */
#define IOQ_WALK_ALL_FLAGS 0x7f

/** ioq_walk_config::max_depth without a limit. */
#define IOQ_WALK_NO_MAX 0xffffffffu

/** The configuration of a walk, read once by ioq_walk_create(). */
struct ioq_walk_config {
	/** IOQ_WALK_* flags. */
	uint32_t flags;
	/** An enum ioq_walk_order. */
	uint32_t order;
	/** An enum ioq_walk_follow. */
	uint32_t follow;
	/** Report nothing shallower than this (the root is 0). */
	uint32_t min_depth;
	/** Report and enter nothing deeper than this, or IOQ_WALK_NO_MAX. */
	uint32_t max_depth;
	/** The DT_* types to report, as a bit mask (1 << DT_REG | ...). */
	uint32_t types;
	/** The byte that ends each path in a batch's text ('\n' or 0). */
	uint32_t terminator;
	/**
	 * The most directory descriptors the walk may keep open at once, or 0
	 * for a share of the headroom.  Opening a directory whose ancestors'
	 * descriptors were all closed takes one or two more for a moment (the
	 * path is opened a component at a time from the root, and closed).
	 */
	uint32_t fd_limit;
};

/** Kinds of items in the spec blob given to ioq_walk_create(). */
enum ioq_walk_item {
	/** The root, as opened (bytes; any length). */
	IOQ_WALK_ITEM_ROOT = 1,
	/** The root's path as reported (default: as opened). */
	IOQ_WALK_ITEM_ROOT_SHOWN = 2,
	/** What the root's entries' paths start with (default: the shown root and "/"). */
	IOQ_WALK_ITEM_ROOT_PREFIX = 3,
	/** A glob a reported entry's name must match (one of them, when any is given). */
	IOQ_WALK_ITEM_NAME = 4,
	/** A glob naming directories not to enter (they are still reported). */
	IOQ_WALK_ITEM_PRUNE = 5,
	/** A suffix a reported entry's path must end with (one of them, when any is given). */
	IOQ_WALK_ITEM_EXT = 6,
	/**
	 * A glob pattern (@std/fs expandGlob's dialect) of paths below the
	 * root, segments separated by slashes: when any is given, the walk
	 * reports what one matches, and enters only directories one can match
	 * below (wglob.h).
	 */
	IOQ_WALK_ITEM_GLOB = 7,
	/** A glob pattern of absolute paths to leave out (neither reported nor entered). */
	IOQ_WALK_ITEM_EXCLUDE = 8,
	/** The root's absolute path, for exclude patterns (default: the root as opened). */
	IOQ_WALK_ITEM_BASE = 9,
};

/** Item flag: the glob ignores case (find -iname, glob's caseInsensitive). */
#define IOQ_WALK_ITEM_CASEFOLD 0x1
/** Item flag (GLOB, EXCLUDE): extended globs. */
#define IOQ_WALK_ITEM_EXTGLOB 0x2
/** Item flag (GLOB, EXCLUDE): `**` crosses directories. */
#define IOQ_WALK_ITEM_GLOBSTAR 0x4
/** Item flag (GLOB): only directories match (the pattern ended with a slash). */
#define IOQ_WALK_ITEM_DIRS 0x8

/**
 * Record flags (ioq_walk_rec::flags).
 */
/** An error: `err` and `op` say which; the path names where. */
#define IOQ_WALK_REC_ERROR 0x01
/** Not a reported entry (an error): its path is kept apart from the text that is printed. */
#define IOQ_WALK_REC_APART 0x02
/** Some part of the path is not valid UTF-8. */
#define IOQ_WALK_REC_NOT_UTF8 0x04
/** The root's record. */
#define IOQ_WALK_REC_ROOT 0x08
/** A directory not entered because it is on another device (IOQ_WALK_XDEV). */
#define IOQ_WALK_REC_MOUNT 0x10
/** Reached through a followed symlink: the type is its target's. */
#define IOQ_WALK_REC_FOLLOWED 0x20
/** A stat is attached (the batch's stats[] at the record's index). */
#define IOQ_WALK_REC_STAT 0x40
/**
 * The name is not the end of the path (a followed link shown at its
 * target's canonical path, named as the link): `name` is the byte offset of
 * the name in the batch's text, kept apart, and `aux` its length.
 */
#define IOQ_WALK_REC_NAME_APART 0x80

/** What failed, for an error record (ioq_walk_rec::op). */
enum ioq_walk_op {
	IOQ_WALK_OP_NONE = 0,
	/** Opening a directory. */
	IOQ_WALK_OP_OPENDIR = 1,
	/** Reading a directory (getdents64). */
	IOQ_WALK_OP_READDIR = 2,
	/** stat/lstat of an entry. */
	IOQ_WALK_OP_STAT = 3,
	/** Resolving a canonical path. */
	IOQ_WALK_OP_REALPATH = 4,
	/** A symlink that leads back to a directory being walked (ELOOP). */
	IOQ_WALK_OP_LOOP = 5,
	/** Reading an ignore file (the path names the file; it counts as empty). */
	IOQ_WALK_OP_IGNORE = 6,
};

/**
 * One record of a batch.  Read directly by the TypeScript binding
 * (lib/layout.ts); the layout test holds both to ioq_walk_layout().
 */
struct ioq_walk_rec {
	/** Byte offset of the path in the batch's text. */
	uint32_t off;
	/** Length of the path in bytes, without the terminator. */
	uint32_t len;
	/** Byte offset of the name within the path. */
	uint32_t name;
	/** UTF-16 offset of the path in the batch's front text, decoded. */
	uint32_t off16;
	/** Length of the path in UTF-16 code units, decoded. */
	uint32_t len16;
	/** UTF-16 offset of the name within the path, decoded. */
	uint32_t name16;
	/** Depth below the root (the root is 0). */
	uint32_t depth;
	/** The errno value of an error (positive), else 0. */
	int32_t err;
	/** DT_* type (DT_UNKNOWN when not even a stat could tell). */
	uint8_t type;
	/** IOQ_WALK_REC_* flags. */
	uint8_t flags;
	/** An enum ioq_walk_op, for errors. */
	uint8_t op;
	/** Unused, zero. */
	uint8_t pad;
	/** IOQ_WALK_REC_NAME_APART: the name's length in bytes; else zero. */
	uint32_t aux;
};

/** Batch flag: the last batch of the walk. */
#define IOQ_WALK_BATCH_LAST 0x1

/**
 * A batch of records.  The text holds the paths of reported entries from
 * its start, each followed by the terminator (`front` bytes: printable as
 * they are), and the paths of records kept apart (errors) from its end
 * down.  The layout is read directly by the TypeScript binding.
 */
struct ioq_walk_batch {
	/** The records (`count` of them). */
	struct ioq_walk_rec *recs;
	/** The text (`cap` bytes). */
	uint8_t *text;
	/** The stats, one per record, when the walk stats (else NULL). */
	struct statx *stats;
	/** How many records. */
	uint32_t count;
	/** Bytes of reported paths (and terminators) at the start of the text. */
	uint32_t front;
	/** Bytes of paths kept apart at the end of the text. */
	uint32_t back;
	/** UTF-16 code units of the front text, decoded. */
	uint32_t front16;
	/** Records that are reported entries (not errors). */
	uint32_t reported;
	/** IOQ_WALK_BATCH_* flags. */
	uint32_t flags;
	/** Moves whenever `recs`, `text` or `stats` move (a buffer grew). */
	uint32_t gen;
	/** Capacity of `text` in bytes. */
	uint32_t cap;
	/** Capacity of `recs` and `stats` in records. */
	uint32_t rec_cap;
};

/** ioq_walk_next(): nothing is ready yet. */
#define IOQ_WALK_NONE (-EAGAIN)
/** ioq_walk_next(): the walk is over and every batch was taken. */
#define IOQ_WALK_END 0x10000
/** ioq_walk_next(): gated directories wait for ioq_walk_decide(). */
#define IOQ_WALK_ASK 0x10001

/** A walk (opaque). */
struct ioq_walk;

/**
 * Start a walk on a queue.  The queue must be idle (nothing in flight) and
 * stays reserved for the walk until ioq_walk_destroy(): its other request
 * functions give -EBUSY meanwhile.
 *
 * @param q
 *         The queue, whose workers do the walking.
 * @param cfg
 *         The configuration (copied).
 * @param spec, spec_len
 *         Items: each a u8 kind (enum ioq_walk_item), a u8 flags, a u16
 *         zero, a u32 length, then that many bytes, padded to 4 bytes.
 *         Exactly one ROOT item is required.
 * @param err
 *         Receives 0, or a negative errno value when NULL is returned:
 *         -EINVAL for a bad configuration or spec, -EBUSY when the queue is
 *         not idle or already walking, -ENOMEM, or the error of a glob that
 *         does not compile.
 * @return The walk, or NULL.
 */
struct ioq_walk *ioq_walk_create(struct ioq *q, const struct ioq_walk_config *cfg, const uint8_t *spec, uint32_t spec_len, int32_t *err);

/**
 * Take the next finished batch, without waiting.
 * @return A batch index (>= 0, < IOQ_WALK_END) to read through
 *         ioq_walk_batches() and then release; IOQ_WALK_ASK when gated
 *         directories wait for an answer; IOQ_WALK_END when the walk is
 *         over and everything was taken; IOQ_WALK_NONE (-EAGAIN) when
 *         nothing is ready yet; -EINTR after ioq_walk_cancel().
 */
int32_t ioq_walk_next(struct ioq_walk *w);

/**
 * Wait until ioq_walk_next() has something to say.  Safe on a thread other
 * than the owner's.
 * @param timeout_us
 *         How long to wait, in microseconds.
 * @return 1 when ioq_walk_next() will not say IOQ_WALK_NONE, 0 on timeout,
 *         -ECANCELED after ioq_walk_stop_waits().
 */
int32_t ioq_walk_wait(struct ioq_walk *w, int32_t timeout_us);

/** Give a batch taken by ioq_walk_next() back to the walk. */
void ioq_walk_release(struct ioq_walk *w, uint32_t batch);

/** @return The batch headers, indexed by what ioq_walk_next() returns. */
struct ioq_walk_batch *ioq_walk_batches(struct ioq_walk *w);

/** @return How many batch headers ioq_walk_batches() holds. */
uint32_t ioq_walk_batch_count(const struct ioq_walk *w);

/**
 * Take the gated directories waiting for an answer.
 *
 * @param text, cap
 *         Receives their paths, each followed by the walk's terminator.
 * @param meta, max
 *         Receives three words per directory: its id (for
 *         ioq_walk_decide()), its path length in bytes, its depth.
 * @return The number of directories taken (0 if none), -EINVAL if the
 *         buffers cannot hold one, -ENOMEM.  Directories asked about stay
 *         held until answered, in any order, by ioq_walk_decide().
 */
int32_t ioq_walk_asked(struct ioq_walk *w, uint8_t *text, uint32_t cap, uint32_t *meta, uint32_t max);

/**
 * Answer gated directories.
 * @param ids, enter
 *         For each id from ioq_walk_asked(), whether to enter it (non-zero).
 * @return 0, or -EINVAL for an id not waiting.
 */
int32_t ioq_walk_decide(struct ioq_walk *w, const uint32_t *ids, const uint8_t *enter, uint32_t n);

/**
 * Stop the walk: workers leave what they are doing, and ioq_walk_next()
 * says -EINTR from now on.  May be called while ioq_walk_wait() runs (it
 * wakes).
 */
void ioq_walk_cancel(struct ioq_walk *w);

/** End every current and future ioq_walk_wait(): they return -ECANCELED. */
void ioq_walk_stop_waits(struct ioq_walk *w);

/**
 * Destroy a walk: cancel it, take its workers back, close everything it
 * opened and free it, leaving the queue idle.  No thread may be inside
 * ioq_walk_wait().  Accepts NULL.
 */
void ioq_walk_destroy(struct ioq_walk *w);

/** Counters of ioq_walk_counters(), in order. */
enum ioq_walk_counter {
	/** Directories opened (successfully or not). */
	IOQ_WALK_COUNT_OPENS,
	/** getdents64 calls. */
	IOQ_WALK_COUNT_READS,
	/** statx calls. */
	IOQ_WALK_COUNT_STATS,
	/** Records produced. */
	IOQ_WALK_COUNT_RECORDS,
	/** Batches published. */
	IOQ_WALK_COUNT_BATCHES,
	/** The most descriptors held at once. */
	IOQ_WALK_COUNT_PEAK_FDS,
	/** Anchors closed to stay within the descriptor limit. */
	IOQ_WALK_COUNT_EVICTIONS,
	/** Directories opened by a path of several components (their parent's descriptor was closed). */
	IOQ_WALK_COUNT_REOPENS,
	/** Times a worker went to sleep for lack of work. */
	IOQ_WALK_COUNT_SLEEPS,
	/** Workers that joined the walk before it ended (at most the queue's threads). */
	IOQ_WALK_COUNT_WORKERS,
	/** The number of counters. */
	IOQ_WALK_COUNTERS,
};

/**
 * Read the walk's counters.
 * @return The number of counters that exist (which may exceed max).
 */
int32_t ioq_walk_counters(const struct ioq_walk *w, double *out, uint32_t max);

/**
 * Describe the walk ABI for the layout test, as ioq_layout() does.
 * @return The number of words that exist.
 */
int32_t ioq_walk_layout(uint32_t *out, uint32_t max);

/** The words ioq_walk_layout() writes, in order. */
enum ioq_walk_layout_word {
	IOQ_WALK_LAYOUT_CONFIG_SIZE,
	IOQ_WALK_LAYOUT_REC_SIZE,
	IOQ_WALK_LAYOUT_REC_OFF,
	IOQ_WALK_LAYOUT_REC_LEN,
	IOQ_WALK_LAYOUT_REC_NAME,
	IOQ_WALK_LAYOUT_REC_OFF16,
	IOQ_WALK_LAYOUT_REC_LEN16,
	IOQ_WALK_LAYOUT_REC_NAME16,
	IOQ_WALK_LAYOUT_REC_DEPTH,
	IOQ_WALK_LAYOUT_REC_ERR,
	IOQ_WALK_LAYOUT_REC_TYPE,
	IOQ_WALK_LAYOUT_REC_FLAGS,
	IOQ_WALK_LAYOUT_REC_OP,
	IOQ_WALK_LAYOUT_REC_AUX,
	IOQ_WALK_LAYOUT_BATCH_SIZE,
	IOQ_WALK_LAYOUT_BATCH_RECS,
	IOQ_WALK_LAYOUT_BATCH_TEXT,
	IOQ_WALK_LAYOUT_BATCH_STATS,
	IOQ_WALK_LAYOUT_BATCH_COUNT,
	IOQ_WALK_LAYOUT_BATCH_FRONT,
	IOQ_WALK_LAYOUT_BATCH_BACK,
	IOQ_WALK_LAYOUT_BATCH_FRONT16,
	IOQ_WALK_LAYOUT_BATCH_REPORTED,
	IOQ_WALK_LAYOUT_BATCH_FLAGS,
	IOQ_WALK_LAYOUT_BATCH_GEN,
	IOQ_WALK_LAYOUT_BATCH_CAP,
	IOQ_WALK_LAYOUT_BATCH_REC_CAP,
	IOQ_WALK_LAYOUT_STATX_SIZE,
	IOQ_WALK_LAYOUT_END,
	IOQ_WALK_LAYOUT_ASK,
	IOQ_WALK_LAYOUT_NO_MAX,
	IOQ_WALK_LAYOUT_GLOB_POSITIONS,
	/** Then the constants of this header, in lib/layout.ts's `WALK` order. */
	IOQ_WALK_LAYOUT_STAT,
	IOQ_WALK_LAYOUT_XDEV,
	IOQ_WALK_LAYOUT_SORT,
	IOQ_WALK_LAYOUT_GATE,
	IOQ_WALK_LAYOUT_STD,
	IOQ_WALK_LAYOUT_CANON,
	IOQ_WALK_LAYOUT_GITIGNORE,
	IOQ_WALK_LAYOUT_BFS,
	IOQ_WALK_LAYOUT_DFS,
	IOQ_WALK_LAYOUT_POST,
	IOQ_WALK_LAYOUT_FOLLOW_NEVER,
	IOQ_WALK_LAYOUT_FOLLOW_ROOT,
	IOQ_WALK_LAYOUT_FOLLOW_ALWAYS,
	IOQ_WALK_LAYOUT_ITEM_ROOT,
	IOQ_WALK_LAYOUT_ITEM_ROOT_SHOWN,
	IOQ_WALK_LAYOUT_ITEM_ROOT_PREFIX,
	IOQ_WALK_LAYOUT_ITEM_NAME,
	IOQ_WALK_LAYOUT_ITEM_PRUNE,
	IOQ_WALK_LAYOUT_ITEM_EXT,
	IOQ_WALK_LAYOUT_ITEM_GLOB,
	IOQ_WALK_LAYOUT_ITEM_EXCLUDE,
	IOQ_WALK_LAYOUT_ITEM_BASE,
	IOQ_WALK_LAYOUT_ITEM_CASEFOLD,
	IOQ_WALK_LAYOUT_ITEM_EXTGLOB,
	IOQ_WALK_LAYOUT_ITEM_GLOBSTAR,
	IOQ_WALK_LAYOUT_ITEM_DIRS,
	IOQ_WALK_LAYOUT_REC_ERROR,
	IOQ_WALK_LAYOUT_REC_APART,
	IOQ_WALK_LAYOUT_REC_NOT_UTF8,
	IOQ_WALK_LAYOUT_REC_ROOT,
	IOQ_WALK_LAYOUT_REC_MOUNT,
	IOQ_WALK_LAYOUT_REC_FOLLOWED,
	IOQ_WALK_LAYOUT_REC_STAT,
	IOQ_WALK_LAYOUT_REC_NAME_APART,
	IOQ_WALK_LAYOUT_BATCH_LAST,
	IOQ_WALK_LAYOUT_OP_OPENDIR,
	IOQ_WALK_LAYOUT_OP_READDIR,
	IOQ_WALK_LAYOUT_OP_STAT,
	IOQ_WALK_LAYOUT_OP_REALPATH,
	IOQ_WALK_LAYOUT_OP_LOOP,
	IOQ_WALK_LAYOUT_OP_IGNORE,
	/** The number of words. */
	IOQ_WALK_LAYOUT_COUNT,
};

#endif // IOQ_WALK_H
