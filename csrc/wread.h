// SPDX-License-Identifier: 0BSD
/**
 * wread: reading one directory of a walk, on a worker: open it relative to
 * its anchor (never through a symlink unless the walk follows them), list
 * it with getdents64, classify every entry (a stat only where the listing
 * cannot tell, or the walk asks for it), filter, write the records, and
 * make nodes for the subdirectories to enter.
 */

#ifndef IOQ_WREAD_H
#define IOQ_WREAD_H

#include "wnode.h"
#include "wout.h"
#include "wring.h"
#include "wsched.h"

/** A listed entry, waiting to be read. */
struct wlisted {
	/** Its name (NUL-terminated): in the listing buffer, or (sorting) the name arena. */
	const char *name;
	/** Offset of the name in the arena, while sorting. */
	uint32_t off;
	/** Its length. */
	uint16_t len;
	/** Its DT_* type from the listing. */
	uint8_t type;
	/** Not listed but looked up (a glob's literal name): missing is no error. */
	bool probe;
	/** Its stat, fetched ahead: -1 none, 0 an lstat, 1 a stat following links. */
	int8_t pre;
	/** The result of that stat (0 or a negative errno), and where it is. */
	int pre_res;
	struct statx *pre_stx;
};

/** A worker's state for reading directories. */
struct wreader {
	/** The walk. */
	struct ioq_walk *w;
	/** The getdents64 buffer (the worker's scratch, DIR_BUF_SIZE bytes). */
	char *dents;
	/** What the current directory's entries' paths start with. */
	struct wbytes prefix;
	/** Its UTF-16 length and validity. */
	uint32_t prefix16;
	bool prefix_utf8;
	/** Scratch for relative and canonical paths. */
	struct wbytes path, canon;
	/** The current directory's records. */
	struct wbuild out;
	/** Post-order: the next subdirectory's own record. */
	struct wbuild self;
	/** Subdirectories found, their gates and end markers. */
	struct wnode **kids;
	bool *gated;
	struct wnode **ends;
	/** Depth-first: the records listed before the first subdirectory, and after each. */
	struct wchunk *first;
	struct wchunk **runs;
	uint32_t nkids, kids_cap;
	/** Entries listed and not yet read; names kept when sorting. */
	struct wlisted *listed;
	uint32_t nlisted, listed_cap;
	struct wbytes names;
	/** Ignore files: the match path of the directory's entries (wign.h). */
	struct wbytes mpath;
	/** Stats fetched ahead, one per entry of a WRING_MAX chunk. */
	struct statx *pre;
	/** The worker's ring, for batches of opens and stats. */
	struct wring ring;
	/** The directory being read: its node, descriptor, and device/inode. */
	struct wnode *dir;
	int dfd;
	uint64_t dev, ino;
	/** Out of memory somewhere: the directory gets an ENOMEM error record. */
	bool nomem;
};

/**
 * Set up a reader for a worker.
 * @param dents
 *         DIR_BUF_SIZE bytes.
 * @param ring
 *         The worker's ring, or NULL.
 * @return 0 or -ENOMEM.
 */
int wreader_init(struct wreader *r, struct ioq_walk *w, char *dents, struct io_uring *ring);

/** Free a reader's memory (not `dents`). */
void wreader_free(struct wreader *r);

/**
 * Open the nodes handed out by wsched_take(), all at once where the ring
 * can (the root is opened by wread_node()).
 * @param fds
 *         Receives a descriptor or a negative errno value per job.
 */
void wread_open_all(struct wreader *r, struct wjob *jobs, uint32_t n, int *fds);

/**
 * Read a node opened by wread_open_all() and describe the outcome in `res`
 * (which owns what it points to until wsched_done()).  Errors become
 * records.  Without the walk's lock.
 */
void wread_node(struct wreader *r, struct wjob *job, int fd, struct wresult *res);

#endif // IOQ_WREAD_H
