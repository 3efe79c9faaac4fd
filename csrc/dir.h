// SPDX-License-Identifier: 0BSD
/**
 * dir: an open directory read with getdents64 into its own buffer.
 *
 * A worker opens the directory and fills the buffer once, so a small
 * directory is read by its owner with no syscall at all; larger ones refill
 * on the owner's thread as they are read.
 */

#ifndef IOQ_DIR_H
#define IOQ_DIR_H

#include <stdbool.h>
#include <stdint.h>

/** Bytes one getdents64 call reads: the size of a worker's scratch buffer. */
#define DIR_BUF_SIZE (32 * 1024)

/** Where a directory is in its life, as its owner sees it. */
enum dir_state {
	/** An OPENDIR request is in flight: a worker owns it. */
	DIR_OPENING,
	/** Open and readable by the owner. */
	DIR_OPEN,
	/** A CLOSEDIR request is in flight: a worker owns it. */
	DIR_CLOSING,
};

/** An open directory and its entry buffer. */
struct ioq_dir {
	/** The descriptor, or -1 once closed. */
	int fd;
	/** An enum dir_state. */
	uint8_t state;
	/** Whether getdents64 has reported the end. */
	bool eof;
	/** A getdents64 error to report on the next read (negative errno), or 0. */
	int32_t err;
	/** Requests in flight whose path is relative to this directory. */
	uint32_t pins;
	/** Read position in `buf`. */
	uint32_t pos;
	/** Bytes of dirents in `buf`. */
	uint32_t len;
	/** Size of `buf`. */
	uint32_t cap;
	/** The getdents64 buffer, or NULL. */
	char *buf;
};

/** Initialize a closed directory. */
void dir_init(struct ioq_dir *d);

/**
 * Open a directory with openat(O_DIRECTORY | O_CLOEXEC) and fill its buffer.
 * @param scratch
 *         DIR_BUF_SIZE bytes of the calling worker's own.
 * @return 0 or a negative errno value (then nothing is left open).
 */
int dir_open(struct ioq_dir *d, int atfd, const char *path, char *scratch);

/**
 * Take ownership of an already opened directory descriptor and fill the
 * buffer, as dir_open().  @return 0, or a negative errno value (then fd is
 * closed).
 */
int dir_adopt(struct ioq_dir *d, int fd, char *scratch);

/**
 * Copy entries into caller buffers, each as `prefix`, its name, and the byte
 * `end`; see ioq_dir_read_paths() for the format.
 * @return The number of entries, 0 at the end, or a negative errno value.
 */
int dir_read(struct ioq_dir *d, const uint8_t *prefix, uint32_t plen, uint8_t end, uint8_t *out, uint32_t cap, uint32_t *meta, uint32_t max);

/**
 * Close the descriptor and free the buffer.  @return 0 or the negative
 * close() error (the descriptor is gone either way).
 */
int dir_close(struct ioq_dir *d);

/**
 * Detach the descriptor and free the buffer, leaving the directory closed.
 * @return The descriptor, which the caller now owns.
 */
int dir_detach(struct ioq_dir *d);

#endif // IOQ_DIR_H
