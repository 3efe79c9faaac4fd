// SPDX-License-Identifier: 0BSD
/**
 * ioq: an asynchronous I/O queue for directory traversal.
 *
 * This is the only header the TypeScript binding uses.  A queue owns a fixed
 * arena of `depth` entries; a request takes one, a worker thread (running
 * plain syscalls or io_uring) fills in its result, and the caller pops it back
 * and releases it.  Directories opened through the queue are named by
 * numeric handles that stay safe to pass after they are closed (a stale handle
 * gives -EBADF, never a crash).
 *
 * Threading: every function here must be called from one owner thread,
 * except ioq_wait(), which may run on another thread while the owner goes on
 * (that is how a Deno `nonblocking` call uses it), and ioq_stop_waits(),
 * ioq_cancel(), which may be called while ioq_wait() runs.
 *
 * Errors: functions return a negative errno value, never set `errno` for the
 * caller, and never abort on an I/O error.
 */

#ifndef IOQ_H
#define IOQ_H

#include <linux/stat.h>
#include <stdint.h>

/** Operation codes, stored in ioq_ent::op. */
enum ioq_op {
	/** Does nothing; measures the queue itself. */
	IOQ_NOP = 0,
	/** close(fd). */
	IOQ_CLOSE = 1,
	/** Open a directory and read its first batch of entries. */
	IOQ_OPENDIR = 2,
	/** Close a directory opened by IOQ_OPENDIR. */
	IOQ_CLOSEDIR = 3,
	/** statx() a path. */
	IOQ_STAT = 4,
	/** Private: a worker lent to a walk (walk.h) until it is over. */
	IOQ_WALK = 5,
};

/** Backends, for ioq_create() and ioq_backend(). */
enum ioq_backend {
	/** io_uring when the kernel allows it, else threads. */
	IOQ_BACKEND_AUTO = 0,
	/** io_uring, or fail. */
	IOQ_BACKEND_URING = 1,
	/** Plain syscalls on worker threads. */
	IOQ_BACKEND_THREADS = 2,
};

/** IOQ_STAT flag: do not follow a final symlink (lstat). */
#define IOQ_STAT_NOFOLLOW 0x1
/** IOQ_OPENDIR flag: also fstat the opened directory into ioq_ent::stx. */
#define IOQ_OPENDIR_STAT 0x2

/** ioq_dir_read() meta[0] flag: the directory has no entries left. */
#define IOQ_DIR_END 0x80000000u

/** Bytes of a path stored inside the entry; longer paths go to the heap. */
#define IOQ_INLINE_PATH 192

/** Bits of ioq_ent::dir and other handles that hold the table index. */
#define IOQ_HANDLE_INDEX_BITS 20

/**
 * One request and, once popped, its completion.
 *
 * The layout is read directly by the TypeScript binding (lib/layout.ts); the
 * layout test compares it with ioq_layout().  Fields after `path` are private.
 */
struct ioq_ent {
	/** The operation (enum ioq_op). */
	int32_t op;
	/** >= 0 on success, else a negative errno value. */
	int32_t result;
	/** The caller's tag, returned unchanged. */
	double tag;
	/** OPENDIR: the new directory's handle; CLOSEDIR: the handle closed. */
	uint32_t dir;
	/** Handle of the directory `path` is relative to, or 0 for the cwd. */
	uint32_t at;
	/** CLOSE: the descriptor; OPENDIR/STAT: the descriptor of `at`. */
	int32_t fd;
	/** IOQ_STAT_* / IOQ_OPENDIR_* flags. */
	uint32_t flags;
	/** Length of `path` in bytes, without the terminating NUL. */
	uint32_t path_len;
	/** This entry's index in the arena. */
	uint32_t index;
	/** The NUL-terminated path (OPENDIR, STAT), or NULL. */
	char *path;

	/** Private: the directory being opened or closed. */
	struct ioq_dir *dirp;
	/** Private: where the entry is in its life (free, queued, popped). */
	uint32_t state;
	/** Private: a ring result a test injected for this entry (uring.c), or 0. */
	int32_t injected;

	/** STAT (and OPENDIR with IOQ_OPENDIR_STAT): the result. */
	struct statx stx;

	/** Private: storage for short paths. */
	char inline_path[IOQ_INLINE_PATH];
} __attribute__((aligned(64)));

/** An I/O queue (opaque). */
struct ioq;

/**
 * Create a queue.
 *
 * @param depth
 *         The most requests in flight plus completions popped but not yet
 *         released, 1 to 65536.
 * @param nthreads
 *         The number of worker threads, 1 to 1024.
 * @param backend
 *         An enum ioq_backend value.
 * @param err
 *         Receives 0, or a negative errno value when NULL is returned:
 *         -EINVAL for bad arguments, -ENOTSUP for IOQ_BACKEND_URING in a build
 *         without liburing, the ring setup error for IOQ_BACKEND_URING,
 *         -ENOMEM, -EAGAIN (threads).
 * @return
 *         The new queue, or NULL.
 */
struct ioq *ioq_create(uint32_t depth, uint32_t nthreads, int32_t backend, int32_t *err);

/**
 * Stop every current and future ioq_wait() on this queue: they return
 * -ECANCELED at once.  Call it before ioq_destroy() while a wait may run.
 */
void ioq_stop_waits(struct ioq *q);

/**
 * Cancel the queue.  Queued requests complete with -EINTR without running,
 * except CLOSE and CLOSEDIR, which always run.  Later requests fail with
 * -EINTR, again except CLOSE and CLOSEDIR.  A thread inside ioq_wait() is
 * woken at once (it returns -EINTR).
 */
void ioq_cancel(struct ioq *q);

/**
 * Destroy a queue: cancel, let the workers finish, close every directory the
 * queue opened (popped or not), and free everything.  No thread may be inside
 * ioq_wait() (see ioq_stop_waits()).  Accepts NULL.
 */
void ioq_destroy(struct ioq *q);

/** @return The backend in use: IOQ_BACKEND_URING or IOQ_BACKEND_THREADS. */
int32_t ioq_backend(const struct ioq *q);

/** @return The queue's depth. */
uint32_t ioq_depth(const struct ioq *q);

/** @return The number of worker threads. */
uint32_t ioq_threads(const struct ioq *q);

/** @return depth - requests in flight - completions popped but not released. */
uint32_t ioq_capacity(const struct ioq *q);

/** @return The number of requests made but not yet popped. */
uint32_t ioq_inflight(const struct ioq *q);

/** @return The arena of ioq_depth() entries, indexed by ioq_ent::index. */
struct ioq_ent *ioq_entries(struct ioq *q);

/**
 * Request a NOP.
 *
 * Every request function returns the index of the entry it took (>= 0) on
 * success, or -EAGAIN when the queue is full, -EINTR after ioq_cancel(),
 * -ENOMEM.
 */
int32_t ioq_nop(struct ioq *q, double tag);

/** Request close(fd).  -EBADF if fd < 0. */
int32_t ioq_close(struct ioq *q, int32_t fd, double tag);

/**
 * Request opening a directory.  On success the completion's `dir` is a handle
 * whose first entries are already buffered.
 *
 * @param at
 *         An open directory handle `path` is relative to, or 0 for the cwd.
 *         It is pinned (ioq_closedir() gives -EBUSY) until this completes.
 * @param path, len
 *         The path bytes, not NUL-terminated.  -EINVAL if they contain a NUL,
 *         -ENAMETOOLONG if len >= PATH_MAX, -ENOENT if len == 0.
 * @param flags
 *         0 or IOQ_OPENDIR_STAT.
 * @return An entry index, -EBADF for a bad `at`, or as ioq_nop().
 */
int32_t ioq_opendir(struct ioq *q, uint32_t at, const uint8_t *path, uint32_t len, uint32_t flags, double tag);

/**
 * Request closing a directory.  The handle is invalid from now on.
 * @return An entry index, -EBADF for a stale or unopened handle, -EBUSY
 *         while requests relative to it are in flight, or as ioq_nop() (never
 *         -EINTR).
 */
int32_t ioq_closedir(struct ioq *q, uint32_t dir, double tag);

/**
 * Request statx() of a path (relative to `at` as in ioq_opendir()).
 * @param flags
 *         0 or IOQ_STAT_NOFOLLOW.
 */
int32_t ioq_stat(struct ioq *q, uint32_t at, const uint8_t *path, uint32_t len, uint32_t flags, double tag);

/** Hand requests batched on this thread to the workers.  @return 0. */
int32_t ioq_submit(struct ioq *q);

/**
 * Pop what is ready now, without waiting.  Submits first.
 *
 * @param out
 *         Receives the indices of up to `max` completed entries.
 * @return The number of entries popped (0 if none).  Each must be released.
 */
int32_t ioq_trypop(struct ioq *q, uint32_t *out, uint32_t max);

/**
 * @return The queue's wake epoch: it moves whenever waiters must wake up
 *         early (ioq_cancel(), ioq_stop_waits(), a pop that moved the read
 *         position under a waiter).  Pass it to ioq_wait().
 */
uint32_t ioq_epoch(const struct ioq *q);

/**
 * Wait until a completion is ready, without popping it.  Safe to call from a
 * thread other than the owner; the owner must call ioq_submit() first.
 *
 * @param timeout_us
 *         How long to wait, in microseconds; 0 only checks.
 * @param epoch
 *         ioq_epoch() as the owner read it when it decided to wait: if the
 *         epoch has moved since (say the owner cancelled before this thread
 *         got to run), the wait ends at once.
 * @return 1 if a completion is ready, 0 on timeout or when the owner popped
 *         meanwhile, -EINTR if woken by ioq_cancel(), -ECANCELED after
 *         ioq_stop_waits().
 */
int32_t ioq_wait(struct ioq *q, int32_t timeout_us, uint32_t epoch);

/**
 * ioq_trypop(), then if nothing was ready and requests are in flight, wait up
 * to `timeout_us` and pop again.
 * @return As ioq_trypop(), or -EINTR/-ECANCELED as ioq_wait() when woken.
 */
int32_t ioq_pop(struct ioq *q, uint32_t *out, uint32_t max, int32_t timeout_us);

/** Release popped entries so their capacity can be reused. */
void ioq_release(struct ioq *q, const uint32_t *idx, uint32_t n);

/**
 * Copy directory entries into caller buffers, refilling from the kernel when
 * the buffered ones run out.  "." and ".." are skipped.
 *
 * @param names, cap
 *         Receives each name followed by a NUL byte.
 * @param meta, max
 *         meta[0] receives the number of bytes written to `names`, with
 *         IOQ_DIR_END set when the directory has no entries left (the next
 *         call would return 0); meta[1 + i] describes entry i: bits 0-7 its
 *         DT_* type (DT_UNKNOWN when the file system does not say), bit 8 set
 *         when the name is not valid UTF-8, bits 16-31 the name's length in
 *         bytes.  `max` counts meta words.
 * @return The number of entries (0 at the end), or -EBADF for a stale handle,
 *         -EBUSY while the directory is still being opened, -EINVAL if the
 *         buffers cannot hold one entry, or a getdents64() error.
 */
int32_t ioq_dir_read(struct ioq *q, uint32_t dir, uint8_t *names, uint32_t cap, uint32_t *meta, uint32_t max);

/**
 * ioq_dir_read(), with each entry written as a ready-made path: `prefix`
 * (plen bytes), the name, then the byte `end` (say '\n' or 0).  meta is as
 * for ioq_dir_read(); an entry's record is plen + its name length + 1 bytes.
 * @return As ioq_dir_read(); -EINVAL also if cap < plen + 256 or end > 255.
 */
int32_t ioq_dir_read_paths(struct ioq *q, uint32_t dir, const uint8_t *prefix, uint32_t plen, uint32_t end, uint8_t *out, uint32_t cap, uint32_t *meta, uint32_t max);

/**
 * Resolve a path (relative to `at` as in ioq_opendir()) to its canonical
 * absolute path, following every symlink, as bytes, so names that are not
 * UTF-8 survive.  The kernel's own name for the file (through /proc/self/fd)
 * when it has one; past PATH_MAX, or without /proc, the path is found by
 * climbing through ".." (see canon.h).  Synchronous.
 * @return The length written to `out` (no NUL), -ERANGE when the path needs
 *         more than `cap` bytes, or the lookup's negative errno value.
 */
int32_t ioq_realpath(struct ioq *q, uint32_t at, const uint8_t *path, uint32_t len, uint8_t *out, uint32_t cap);

/** @return The descriptor of an open directory, or -EBADF / -EBUSY. */
int32_t ioq_dir_fd(struct ioq *q, uint32_t dir);

/**
 * Close a directory synchronously.
 * @return 0, or -EBADF / -EBUSY as ioq_closedir(), or the close() error.
 */
int32_t ioq_dir_close(struct ioq *q, uint32_t dir);

/**
 * Describe the ABI: sizes, field offsets and constants, for the layout test.
 * @param out, max
 *         Receives up to `max` words in the order of enum ioq_layout_word.
 * @return The number of words that exist (which may exceed max).
 */
int32_t ioq_layout(uint32_t *out, uint32_t max);

/** The words ioq_layout() writes, in order. */
enum ioq_layout_word {
	IOQ_LAYOUT_ENT_SIZE,
	IOQ_LAYOUT_OP,
	IOQ_LAYOUT_RESULT,
	IOQ_LAYOUT_TAG,
	IOQ_LAYOUT_DIR,
	IOQ_LAYOUT_AT,
	IOQ_LAYOUT_FD,
	IOQ_LAYOUT_FLAGS,
	IOQ_LAYOUT_PATH_LEN,
	IOQ_LAYOUT_INDEX,
	IOQ_LAYOUT_PATH,
	IOQ_LAYOUT_STX,
	IOQ_LAYOUT_STX_MASK,
	IOQ_LAYOUT_STX_BLKSIZE,
	IOQ_LAYOUT_STX_NLINK,
	IOQ_LAYOUT_STX_UID,
	IOQ_LAYOUT_STX_GID,
	IOQ_LAYOUT_STX_MODE,
	IOQ_LAYOUT_STX_INO,
	IOQ_LAYOUT_STX_SIZE,
	IOQ_LAYOUT_STX_BLOCKS,
	IOQ_LAYOUT_STX_ATIME,
	IOQ_LAYOUT_STX_BTIME,
	IOQ_LAYOUT_STX_CTIME,
	IOQ_LAYOUT_STX_MTIME,
	IOQ_LAYOUT_STX_RDEV_MAJOR,
	IOQ_LAYOUT_STX_RDEV_MINOR,
	IOQ_LAYOUT_STX_DEV_MAJOR,
	IOQ_LAYOUT_STX_DEV_MINOR,
	IOQ_LAYOUT_TS_NSEC,
	IOQ_LAYOUT_STATX_BTIME,
	IOQ_LAYOUT_OP_NOP,
	IOQ_LAYOUT_OP_CLOSE,
	IOQ_LAYOUT_OP_OPENDIR,
	IOQ_LAYOUT_OP_CLOSEDIR,
	IOQ_LAYOUT_OP_STAT,
	IOQ_LAYOUT_STAT_NOFOLLOW,
	IOQ_LAYOUT_OPENDIR_STAT,
	IOQ_LAYOUT_HANDLE_INDEX_BITS,
	IOQ_LAYOUT_INLINE_PATH,
	IOQ_LAYOUT_DIR_END,
	IOQ_LAYOUT_EINTR,
	IOQ_LAYOUT_EAGAIN,
	IOQ_LAYOUT_EBUSY,
	IOQ_LAYOUT_EINVAL,
	IOQ_LAYOUT_ERANGE,
	IOQ_LAYOUT_ELOOP,
	IOQ_LAYOUT_ENOENT,
	/** The number of words. */
	IOQ_LAYOUT_COUNT,
};

/** Fault injection points, for ioq_test_inject(). */
enum ioq_inject_point {
	/** io_uring ring setup in ioq_create(). */
	IOQ_INJECT_RING_SETUP = 0,
	/** io_uring_enter() for submission in a worker. */
	IOQ_INJECT_SUBMIT = 1,
	/** A NOP on a worker: it sleeps -err milliseconds before completing. */
	IOQ_INJECT_STALL = 2,
	/**
	 * io_uring answers an op with `err` (say -EINVAL): the op goes into the
	 * ring as a NOP whose completion is read as `err`, so nothing runs twice
	 * when the worker falls back to the synchronous call.  One point per op
	 * the ring runs, in enum ioq_op order: CLOSE, OPENDIR, CLOSEDIR, STAT.
	 * Consumed only by an op that actually goes into a ring.
	 */
	IOQ_INJECT_URING_CLOSE = 3,
	/** As IOQ_INJECT_URING_CLOSE, for the openat of an OPENDIR. */
	IOQ_INJECT_URING_OPENDIR = 4,
	/** As IOQ_INJECT_URING_CLOSE, for the close of a CLOSEDIR. */
	IOQ_INJECT_URING_CLOSEDIR = 5,
	/** As IOQ_INJECT_URING_CLOSE, for a STAT's statx. */
	IOQ_INJECT_URING_STAT = 6,
	/**
	 * A walk's listings give no types: every entry's d_type reads as
	 * DT_UNKNOWN (as on file systems without d_type), so the engine must stat
	 * to classify.  `err` is any negative value; each entry counts one pass.
	 */
	IOQ_INJECT_DT_UNKNOWN = 7,
	/** The number of points. */
	IOQ_INJECT_COUNT,
};

/**
 * Test hook: make the next `count` passes through `point` fail with `err`
 * (a negative errno value) instead of doing the real call.  count < 0 means
 * every pass; count 0 turns the point off.  Process-wide.
 * @return 0, or -EINVAL for a bad point or a non-negative err.
 */
int32_t ioq_test_inject(int32_t point, int32_t err, int32_t count);

/**
 * Test hook: how many times `point` has fired (made a call fail, or a NOP
 * stall) since ioq_test_inject() last set it.  Process-wide.
 * @return The count, or -EINVAL for a bad point.
 */
int32_t ioq_test_injected(int32_t point);

/**
 * @return How many more descriptors this process may open now: the
 *         numbers below the RLIMIT_NOFILE soft limit that no descriptor
 *         takes (0 when not one is free), or a negative errno value.
 */
int32_t ioq_fd_headroom(void);

/**
 * Grow this process's descriptor table now so that `n` more descriptors fit
 * without growing it later (within RLIMIT_NOFILE).  Linux waits for an RCU
 * grace period each time it grows a table that several threads share: a
 * walk that opened thousands of directories paid that repeatedly (about 32
 * ms of a 280 ms walk of 20,000 directories).  The table never shrinks, so
 * this costs once per process.
 * @return 0 or a negative errno value.
 */
int32_t ioq_fd_reserve(uint32_t n);

/** Bits of ioq_features(). */
enum ioq_feature {
	/** Built with liburing. */
	IOQ_FEATURE_URING = 0x1,
};

/** @return enum ioq_feature bits of this build. */
int32_t ioq_features(void);

#endif // IOQ_H
