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
#include "wsched.h"

/** A name kept for sorting. */
struct wsorted {
	/** Offset of the name in the reader's name arena. */
	uint32_t off;
	/** Its length. */
	uint16_t len;
	/** Its DT_* type. */
	uint8_t type;
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
	uint32_t nkids, kids_cap;
	/** Sorting: names and entries. */
	struct wbytes names;
	struct wsorted *sorted;
	uint32_t nsorted, sorted_cap;
	/** The directory being read: its node, descriptor, and device/inode. */
	struct wnode *dir;
	int dfd;
	uint64_t dev, ino;
	/** Out of memory somewhere: the directory gets an ENOMEM error record. */
	bool nomem;
};

/** Set up a reader for a worker.  @param dents DIR_BUF_SIZE bytes. */
void wreader_init(struct wreader *r, struct ioq_walk *w, char *dents);

/** Free a reader's memory (not `dents`). */
void wreader_free(struct wreader *r);

/**
 * Read a node handed out by wsched_take() and describe the outcome in
 * `res` (which owns what it points to until wsched_done()).  Errors become
 * records.  Without the walk's lock.
 */
void wread_node(struct wreader *r, struct wjob *job, struct wresult *res);

#endif // IOQ_WREAD_H
