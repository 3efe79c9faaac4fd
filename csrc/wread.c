// SPDX-License-Identifier: 0BSD
/**
 * wread: reading one directory.
 *
 * Parts, in order: opening (a name relative to its anchor, or a longer
 * path, never through a symlink unless the walk follows them); the root;
 * one entry (classify, follow, check for loops, filter, record, descend);
 * listing (getdents64, optionally sorted); a node.
 */

#define _GNU_SOURCE
#include "wread.h"
#include "canon.h"
#include "dir.h"
#include "inject.h"
#include "stat.h"
#include "utf8.h"
#include "wfd.h"
#include "wign.h"
#include "wmatch.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if __has_include(<linux/openat2.h>)
#  include <linux/openat2.h>
#endif

/** The kernel's dirent layout for getdents64. */
struct wread_dirent {
	uint64_t d_ino;
	int64_t d_off;
	uint16_t d_reclen;
	uint8_t d_type;
	char d_name[];
};

/** Flags every directory open uses. */
#define WREAD_OPEN (O_RDONLY | O_DIRECTORY | O_CLOEXEC)

/** The DT_* type of a stat's mode. */
static uint8_t wread_dtype(uint16_t mode) {
	return (uint8_t)((mode & S_IFMT) >> 12);
}

int wreader_init(struct wreader *r, struct ioq_walk *w, char *dents, struct io_uring *ring) {
	memset(r, 0, sizeof(*r));
	r->w = w;
	r->dents = dents;
	r->dfd = -1;
	r->ring.ring = ring;
	r->ring.q = w->q;
	bool stats = w->cfg.flags & IOQ_WALK_STAT;
	wbuild_init(&r->out, stats, (uint8_t)w->cfg.terminator);
	wbuild_init(&r->self, stats, (uint8_t)w->cfg.terminator);
	r->pre = malloc(WRING_MAX * sizeof(*r->pre));
	return r->pre ? 0 : -ENOMEM;
}

void wreader_free(struct wreader *r) {
	wbytes_free(&r->prefix);
	wbytes_free(&r->path);
	wbytes_free(&r->canon);
	wbytes_free(&r->names);
	wbytes_free(&r->mpath);
	wbuild_free(&r->out);
	wbuild_free(&r->self);
	free(r->kids);
	free(r->gated);
	free(r->ends);
	free(r->runs);
	free(r->listed);
	free(r->pre);
}

/*
 * Opening.
 */

/** Whether openat2() is worth trying (cleared on ENOSYS and the like). */
static atomic_bool wread_has_openat2 = true;

/**
 * Open a relative path of several components without following any
 * symlink on the way: openat2(RESOLVE_NO_SYMLINKS) in one call where the
 * kernel has it, else one component at a time with O_NOFOLLOW.
 * @return The descriptor, or a negative errno value.
 */
static int wread_open_nofollow(int atfd, char *path) {
#if defined(SYS_openat2) && defined(RESOLVE_NO_SYMLINKS)
	if (atomic_load_explicit(&wread_has_openat2, memory_order_relaxed)) {
		struct open_how how = {
			.flags = WREAD_OPEN | O_NOFOLLOW,
			.resolve = RESOLVE_NO_SYMLINKS,
		};
		long fd = syscall(SYS_openat2, atfd, path, &how, sizeof(how));
		if (fd >= 0) {
			return (int)fd;
		}
		if (errno != ENOSYS && errno != EPERM && errno != E2BIG) {
			return -errno;
		}
		atomic_store_explicit(&wread_has_openat2, false, memory_order_relaxed);
	}
#endif
	int dfd = atfd;
	char *part = path;
	while (true) {
		char *slash = strchr(part, '/');
		if (slash) {
			*slash = 0;
		}
		int fd = *part ? openat(dfd, part, WREAD_OPEN | O_NOFOLLOW) : dup(dfd);
		int err = errno;
		if (slash) {
			*slash = '/';
		}
		if (dfd != atfd) {
			close(dfd);
		}
		if (fd < 0) {
			return -err;
		}
		if (!slash) {
			return fd;
		}
		dfd = fd;
		part = slash + 1;
	}
}

/**
 * Open a path of any length relative to `atfd`, PATH_MAX - 1 bytes at a
 * time, cut at slashes.
 * @param nofollow
 *         Follow no symlink, not even the last component.
 * @return The descriptor, or a negative errno value.
 */
static int wread_open_path(int atfd, char *path, size_t len, bool nofollow) {
	int dfd = atfd;
	char *part = path;
	size_t left = len;
	while (true) {
		char *cut = NULL;
		if (left >= PATH_MAX) {
			// The last slash within reach
			cut = part + PATH_MAX - 1;
			while (cut > part && *cut != '/') {
				--cut;
			}
			if (cut == part) {
				if (dfd != atfd) {
					close(dfd);
				}
				return -ENAMETOOLONG;
			}
			*cut = 0;
		}
		int fd;
		if (nofollow) {
			fd = wread_open_nofollow(dfd, part);
		} else {
			fd = openat(dfd, part, WREAD_OPEN);
			fd = fd < 0 ? -errno : fd;
		}
		if (cut) {
			*cut = '/';
		}
		if (dfd != atfd) {
			close(dfd);
		}
		if (fd < 0 || !cut) {
			return fd;
		}
		dfd = fd;
		left -= (size_t)(cut + 1 - part);
		part = cut + 1;
	}
}

/**
 * Where the root's last component is opened from: past PATH_MAX its
 * directory, opened a piece at a time (following symlinks on the way, as
 * a short path would), so the last component is opened and stat'ed the
 * way the walk says whatever the length.
 * @param last
 *         Set to the last component (or the whole root).
 * @return AT_FDCWD, a descriptor to close, or a negative errno value.
 */
static int wread_root_at(struct ioq_walk *w, const char **last) {
	*last = w->root;
	if (w->root_len < PATH_MAX) {
		return AT_FDCWD;
	}
	uint32_t cut = w->root_len;
	while (cut > 1 && w->root[cut - 1] == '/') {
		--cut;
	}
	uint32_t base = cut;
	while (base > 0 && w->root[base - 1] != '/') {
		--base;
	}
	if (base == 0) {
		return AT_FDCWD;
	}
	char saved = w->root[base];
	w->root[base] = 0;
	int dfd = wread_open_path(AT_FDCWD, w->root, base, false);
	w->root[base] = saved;
	*last = w->root + base;
	return dfd;
}

/**
 * The path of an open directory with no symlink in it, from
 * /proc/self/fd.  @return It (to free), or NULL where it cannot be read.
 */
static char *wread_real_path(int fd) {
	char link[32], buf[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, buf, sizeof(buf));
	if (n <= 0 || n >= (ssize_t)sizeof(buf) || buf[0] != '/') {
		return NULL;
	}
	char *real = malloc((size_t)n + 1);
	if (real) {
		memcpy(real, buf, (size_t)n);
		real[n] = 0;
	}
	return real;
}

/**
 * Open a directory below the root, by its path from the root's real path,
 * following no symlink anywhere: one descriptor, none held meanwhile.
 * @return The descriptor, a negative errno value, or -ENOSYS where this
 *         cannot be done (no real path, no openat2(), a path too long).
 */
static int wread_open_real(struct wreader *r, const struct wnode *n, const struct wnode *root) {
	struct ioq_walk *w = r->w;
#if defined(SYS_openat2) && defined(RESOLVE_NO_SYMLINKS)
	if (!w->root_real || !atomic_load_explicit(&wread_has_openat2, memory_order_relaxed)) {
		return -ENOSYS;
	}
	if (wnode_relpath(w, n, root, &r->path) != 0) {
		return -ENOMEM;
	}
	size_t real_len = strlen(w->root_real);
	size_t len = real_len + 1 + r->path.len;
	if (len >= PATH_MAX) {
		return -ENOSYS;
	}
	char full[PATH_MAX];
	memcpy(full, w->root_real, real_len);
	full[real_len] = '/';
	memcpy(full + real_len + 1, r->path.data, r->path.len);
	full[len] = 0;
	struct open_how how = {
		.flags = WREAD_OPEN | O_NOFOLLOW,
		.resolve = RESOLVE_NO_SYMLINKS,
	};
	long fd = syscall(SYS_openat2, AT_FDCWD, full, &how, sizeof(how));
	if (fd >= 0) {
		return (int)fd;
	}
	if (errno == ENOSYS || errno == EPERM || errno == E2BIG) {
		atomic_store_explicit(&wread_has_openat2, false, memory_order_relaxed);
		return -ENOSYS;
	}
	return -errno;
#else
	(void)r;
	(void)n;
	(void)root;
	(void)w;
	return -ENOSYS;
#endif
}

/**
 * Open the root again, as the walk first opened it (its descriptor was
 * closed to stay within the limit).
 * @return The descriptor, or a negative errno value.
 */
static int wread_reopen_root(struct ioq_walk *w) {
	bool follow = (w->cfg.flags & IOQ_WALK_STD) || w->cfg.follow != IOQ_WALK_FOLLOW_NEVER;
	const char *last;
	int at = wread_root_at(w, &last);
	if (at < 0 && at != AT_FDCWD) {
		return at;
	}
	int fd = openat(at, last, WREAD_OPEN | (follow ? 0 : O_NOFOLLOW));
	fd = fd < 0 ? -errno : fd;
	if (at != AT_FDCWD) {
		close(at);
	}
	return fd;
}

/** Open a directory below the root.  @return The descriptor, or a negative errno value. */
static int wread_open(struct wreader *r, struct wnode *n, struct wnode *anchor) {
	struct ioq_walk *w = r->w;
	bool follow = w->cfg.follow == IOQ_WALK_FOLLOW_ALWAYS;
	int atfd = anchor ? anchor->fd : AT_FDCWD;
	if (anchor == n->parent) {
		// The common case: a name in an open directory
		char name[NAME_MAX + 1];
		memcpy(name, n->name, n->namelen);
		name[n->namelen] = 0;
		int fd = openat(atfd, name, WREAD_OPEN | (follow ? 0 : O_NOFOLLOW));
		return fd < 0 ? -errno : fd;
	}
	walk_count(w, IOQ_WALK_COUNT_REOPENS, 1);
	if (!anchor && !follow) {
		// Nothing below the root is open: the root again, then the rest
		// following no link (a directory swapped for one meanwhile is refused)
		struct wnode *root = n;
		while (root->parent) {
			root = root->parent;
		}
		// From the root's real path in one call where the kernel can
		int fd = wread_open_real(r, n, root);
		if (fd != -ENOSYS) {
			return fd;
		}
		if (wnode_relpath(w, n, root, &r->path) != 0) {
			return -ENOMEM;
		}
		int rfd = wread_reopen_root(w);
		if (rfd < 0) {
			return rfd;
		}
		fd = wread_open_path(rfd, (char *)r->path.data, r->path.len, true);
		close(rfd);
		return fd;
	}
	if (wnode_relpath(w, n, anchor, &r->path) != 0) {
		return -ENOMEM;
	}
	return wread_open_path(atfd, (char *)r->path.data, r->path.len, !follow);
}

/*
 * Records.
 */

/** Note running out of memory: the directory ends with an ENOMEM error. */
static void wread_nomem(struct wreader *r) {
	r->nomem = true;
}

/**
 * Add an error record for a path made of the directory's prefix and a name
 * (or, with name NULL, for the directory itself).
 * @return The record, or NULL (out of memory, noted).
 */
static struct ioq_walk_rec *wread_error(struct wreader *r, const char *name, uint32_t nlen, uint32_t depth, uint8_t type, enum ioq_walk_op op, int err) {
	struct ioq_walk_rec *rec;
	if (name) {
		rec = wbuild_add(&r->out, true, r->prefix.data, (uint32_t)r->prefix.len, r->prefix16, r->prefix_utf8, name, nlen);
	} else {
		// The directory's own path: its prefix less the final slash
		uint32_t len = (uint32_t)r->prefix.len;
		if (len > 1 && r->prefix.data[len - 1] == '/') {
			--len;
		}
		uint32_t name_off = len;
		while (name_off > 0 && r->prefix.data[name_off - 1] != '/') {
			--name_off;
		}
		rec = wbuild_add_path(&r->out, true, r->prefix.data, len, name_off);
	}
	if (!rec) {
		wread_nomem(r);
		return NULL;
	}
	rec->flags |= IOQ_WALK_REC_ERROR;
	rec->err = err < 0 ? -err : err;
	rec->op = (uint8_t)op;
	rec->depth = depth;
	rec->type = type;
	return rec;
}

/** Set the prefix of the directory being read (and its UTF-16 facts). */
static int wread_set_prefix(struct wreader *r, struct wnode *dir) {
	int ret = wnode_prefix(r->w, dir, &r->prefix);
	if (ret != 0) {
		return ret;
	}
	bool valid = true;
	r->prefix16 = utf8_len16(r->prefix.data, r->prefix.len, &valid);
	r->prefix_utf8 = valid;
	return 0;
}

/** Make room for one more subdirectory.  @return 0 or -ENOMEM. */
static int wread_kid_room(struct wreader *r) {
	if (r->nkids < r->kids_cap) {
		return 0;
	}
	uint32_t cap = r->kids_cap ? r->kids_cap * 2 : 32;
	struct wnode **kids = realloc(r->kids, cap * sizeof(*kids));
	if (kids) {
		r->kids = kids;
	}
	bool *gated = realloc(r->gated, cap * sizeof(*gated));
	if (gated) {
		r->gated = gated;
	}
	struct wnode **ends = realloc(r->ends, cap * sizeof(*ends));
	if (ends) {
		r->ends = ends;
	}
	struct wchunk **runs = realloc(r->runs, cap * sizeof(*runs));
	if (runs) {
		r->runs = runs;
	}
	if (!kids || !gated || !ends || !runs) {
		return -ENOMEM;
	}
	r->kids_cap = cap;
	return 0;
}

/** Whether a (dev, ino) is the directory being read or one of its ancestors. @return Its depth, or -1. */
static long wread_loop(struct wreader *r, uint64_t dev, uint64_t ino) {
	if (r->dev == dev && r->ino == ino) {
		return r->dir->depth;
	}
	for (struct wnode *a = r->dir->parent; a; a = a->parent) {
		if ((a->flags & WNODE_HAS_ID) && a->dev == dev && a->ino == ino) {
			return a->depth;
		}
	}
	return -1;
}

/** The device number of a statx. */
static uint64_t wread_dev(const struct statx *stx) {
	return ((uint64_t)stx->stx_dev_major << 32) | stx->stx_dev_minor;
}

/** Whether a record of this type, depth, name and path is reported. */
static bool wread_reported(struct ioq_walk *w, uint8_t type, uint32_t depth, const char *name, uint32_t nlen, const uint8_t *path, uint32_t plen) {
	if (depth < w->cfg.min_depth || !(w->cfg.types & (1u << type))) {
		return false;
	}
	return wmatch_globs(&w->names, name, nlen) && wmatch_suffixes(&w->exts, path, plen);
}

/*
 * One entry.
 */

/** What is known of an entry while it is classified. */
struct wentry {
	/** What was listed (and fetched ahead). */
	struct wlisted *l;
	const char *name;
	uint32_t len;
	uint32_t depth;
	/** Its type (a followed link's target's). */
	uint8_t type;
	/** Followed through a symlink to a working target. */
	bool followed;
	/** `stx` holds its stat (its target's when followed). */
	bool have_stat;
	struct statx stx;
};

/**
 * Stat an entry of the directory being read into e->stx: the stat fetched
 * ahead, when it is the one wanted, else one now.
 * @return 0 or a negative errno.
 */
static int wread_stat(struct wreader *r, struct wentry *e, bool follow) {
	int ret;
	if (e->l->pre == (int8_t)follow) {
		e->l->pre = -1;
		ret = e->l->pre_res;
		if (ret == 0) {
			e->stx = *e->l->pre_stx;
		}
	} else {
		walk_count(r->w, IOQ_WALK_COUNT_STATS, 1);
		ret = stat_path(r->dfd, e->name, follow ? 0 : AT_SYMLINK_NOFOLLOW, &e->stx);
	}
	e->have_stat = ret == 0;
	return ret;
}

/** Canonicalize a followed entry into r->canon.  @return 0 or a negative errno. */
static int wread_canon(struct wreader *r, const char *name) {
	size_t cap = PATH_MAX;
	while (true) {
		r->canon.len = 0;
		if (wbytes_reserve(&r->canon, cap) != 0) {
			return -ENOMEM;
		}
		long n = canon_path(r->dfd, name, (char *)r->canon.data, cap);
		if (n == -ERANGE && cap < ((size_t)1 << 30)) {
			cap *= 2;
			continue;
		}
		if (n < 0) {
			return (int)n;
		}
		r->canon.len = (size_t)n;
		return 0;
	}
}

/**
 * Record a reported entry: in the directory's records, or (post-order, for
 * a subdirectory to enter) in its own chunk.
 * @return The record, or NULL (out of memory).
 */
static struct ioq_walk_rec *wread_record(struct wreader *r, struct wentry *e, bool own, const uint8_t *shown, uint32_t shown_len, uint32_t name_off) {
	struct wbuild *b = own ? &r->self : &r->out;
	struct ioq_walk_rec *rec = shown
		? wbuild_add_path(b, false, shown, shown_len, name_off)
		: wbuild_add(b, false, r->prefix.data, (uint32_t)r->prefix.len, r->prefix16, r->prefix_utf8, e->name, e->len);
	if (rec) {
		rec->depth = e->depth;
		rec->type = e->type;
	}
	return rec;
}

/** Read one entry of the directory being read. */
static void wread_entry(struct wreader *r, struct wlisted *l) {
	struct ioq_walk *w = r->w;
	const struct ioq_walk_config *cfg = &w->cfg;
	bool std = cfg->flags & IOQ_WALK_STD;
	const char *name = l->name;
	uint32_t len = l->len;
	// (Not zeroed as a whole: the stat is only read once have_stat says so)
	struct wentry e;
	e.l = l;
	e.name = name;
	e.len = len;
	e.depth = r->dir->depth + 1;
	e.type = l->type;
	e.followed = false;
	e.have_stat = false;

	// The type, where the listing does not say, or from the stat fetched
	// ahead (newer than the listing: the name may have been replaced)
	if (e.type == DT_UNKNOWN || l->pre == 0) {
		int ret = wread_stat(r, &e, false);
		if (ret == 0) {
			e.type = wread_dtype(e.stx.stx_mode);
		} else if (l->probe && (ret == -ENOENT || ret == -ENOTDIR)) {
			// A name a glob looked up, not there: nothing to report
			return;
		} else if (e.type == DT_UNKNOWN) {
			wread_error(r, name, len, e.depth, DT_UNKNOWN, IOQ_WALK_OP_STAT, ret);
			return;
		}
		// Else the listing's type stands: the entry's own stat, once it is
		// known to be reported, tries again and reports the error
	}

	// Ignore files: on the entry's own type (a link is not a directory);
	// a repository's .git is left out, as git lists nothing in it
	if (cfg->flags & IOQ_WALK_GITIGNORE) {
		if (len == 4 && memcmp(name, ".git", 4) == 0) {
			return;
		}
		size_t keep = r->mpath.len;
		bool ignored = wbytes_append(&r->mpath, name, len) == 0 &&
			wign_ignored(r->dir->ign, r->mpath.data, r->mpath.len, e.type == DT_DIR);
		r->mpath.len = keep;
		if (ignored) {
			return;
		}
	}

	// Symlinks, when following them (a broken link is reported as itself)
	if (e.type == DT_LNK && cfg->follow == IOQ_WALK_FOLLOW_ALWAYS) {
		int ret = wread_stat(r, &e, true);
		if (ret == 0) {
			e.type = wread_dtype(e.stx.stx_mode);
			e.followed = true;
		} else if (ret != -ENOENT && ret != -ENOTDIR && (ret != -ELOOP || !std)) {
			wread_error(r, name, len, e.depth, DT_LNK, IOQ_WALK_OP_STAT, ret);
			return;
		}
	}

	bool dir = e.type == DT_DIR;

	// @std/fs shows followed links at their canonical path
	const uint8_t *shown = NULL;
	uint32_t shown_len = 0, name_off = 0;
	if (e.followed && (cfg->flags & IOQ_WALK_CANON)) {
		int ret = wread_canon(r, name);
		if (ret != 0) {
			wread_error(r, name, len, e.depth, e.type, IOQ_WALK_OP_REALPATH, ret);
			return;
		}
		shown = r->canon.data;
		shown_len = (uint32_t)r->canon.len;
		name_off = shown_len;
		while (name_off > 0 && shown[name_off - 1] != '/') {
			--name_off;
		}
	}

	// Glob patterns: expandGlob names a followed directory after its canonical path
	bool glob = wglob_active(w->glob);
	wglob_set ginc = 0, gexc = 0;
	if (glob) {
		bool canon = shown && dir;
		const uint8_t *gname = canon ? shown + name_off : (const uint8_t *)name;
		size_t glen = canon ? shown_len - name_off : len;
		wglob_step(w->glob, r->dir->ginc, r->dir->gexc, gname, glen, &ginc, &gexc);
		if (shown) {
			// and tests its excludes on the canonical path, wherever it leads
			wglob_set unused;
			wglob_root(w->glob, shown, shown_len, &unused, &gexc);
		}
	}

	bool descend = dir && e.depth < cfg->max_depth && !wmatch_globs_any(&w->prunes, name, len)
		&& (!glob || wglob_enters(w->glob, ginc, gexc));

	// A followed link back to a directory being walked
	if (e.followed && dir) {
		long at = wread_loop(r, wread_dev(&e.stx), e.stx.stx_ino);
		if (at >= 0 && (descend || !std)) {
			// aux: the depth of the directory it leads back to
			struct ioq_walk_rec *rec = wread_error(r, name, len, e.depth, DT_DIR, IOQ_WALK_OP_LOOP, ELOOP);
			if (rec) {
				rec->aux = (uint32_t)at;
			}
			return;
		}
		if (at >= 0) {
			descend = false;
		}
	}

	// What is reported.  @std/fs reports a followed link to a file as the
	// link (counted as a file), at its target's path, by the link's name
	uint8_t shown_type = e.type;
	if (std && e.followed && !dir) {
		shown_type = DT_LNK;
	}
	bool reported;
	if (shown) {
		reported = wread_reported(w, e.type, e.depth, (const char *)shown + name_off, shown_len - name_off, shown, shown_len);
	} else {
		// The path is the prefix and the name: check its suffix in pieces
		reported = e.depth >= cfg->min_depth && (cfg->types & (1u << e.type)) && wmatch_globs(&w->names, name, len)
			&& wmatch_suffixes2(&w->exts, r->prefix.data, (uint32_t)r->prefix.len, (const uint8_t *)name, len);
	}
	if (glob) {
		reported = reported && wglob_matches(w->glob, ginc, gexc, dir);
	}

	// Mount points, known from a stat already made
	bool mount = false;
	if (descend && (cfg->flags & IOQ_WALK_XDEV) && e.have_stat && wread_dev(&e.stx) != w->root_dev) {
		descend = false;
		mount = true;
	}

	// Depth-first, a directory entered carries its own record (emitted
	// before its contents, or after them in post-order), and the entries
	// listed after it come after its subtree
	bool post = cfg->order != IOQ_WALK_BFS && descend;
	if (reported) {
		if ((cfg->flags & IOQ_WALK_STAT) && !e.have_stat) {
			int ret = wread_stat(r, &e, false);
			if (ret != 0) {
				// Listed, but it cannot be stat'ed (gone, or a directory
				// without search permission): an error of the listing's
				// type, not entered (the caller may still show the entry)
				wread_error(r, name, len, e.depth, e.type, IOQ_WALK_OP_STAT, ret);
				return;
			}
		}
		if (post && wread_kid_room(r) != 0) {
			wread_nomem(r);
			return;
		}
		struct ioq_walk_rec *rec = wread_record(r, &e, post, shown, shown_len, name_off);
		if (!rec) {
			wread_nomem(r);
			return;
		}
		rec->type = shown_type;
		if (e.followed) {
			rec->flags |= IOQ_WALK_REC_FOLLOWED;
		}
		if (mount) {
			rec->flags |= IOQ_WALK_REC_MOUNT;
		}
		if (cfg->flags & IOQ_WALK_STAT) {
			*wbuild_stat(post ? &r->self : &r->out) = e.stx;
		}
		if (shown && std && !dir && wbuild_name_apart(&r->out, name, len) != 0) {
			wread_nomem(r);
			return;
		}
	}

	if (!descend) {
		return;
	}
	if (wread_kid_room(r) != 0) {
		wread_nomem(r);
		return;
	}
	struct wnode *kid = wnode_new(r->dir, name, len, WNODE_DIR);
	if (!kid) {
		if (post && reported) {
			wbuild_drop_last(&r->self);
		}
		wread_nomem(r);
		return;
	}
	if (e.followed) {
		kid->flags |= WNODE_FOLLOWED;
	}
	kid->ginc = ginc;
	kid->gexc = gexc;
	if (e.have_stat && e.type == DT_DIR) {
		kid->dev = wread_dev(&e.stx);
		kid->ino = e.stx.stx_ino;
		kid->flags |= WNODE_HAS_ID;
	}
	if (shown) {
		// Its entries' paths start from its canonical path
		bool root = shown_len == 1 && shown[0] == '/';
		kid->prefix = malloc(shown_len + 1);
		if (!kid->prefix) {
			if (post && reported) {
				wbuild_drop_last(&r->self);
			}
			wnode_unref(w, kid);
			wread_nomem(r);
			return;
		}
		memcpy(kid->prefix, shown, shown_len);
		kid->prefix_len = shown_len;
		if (!root) {
			kid->prefix[kid->prefix_len++] = '/';
		}
	}
	struct wnode *end = NULL;
	if (cfg->order != IOQ_WALK_BFS) {
		int err;
		kid->self = wbuild_finish(&r->self, &err);
		if (cfg->order == IOQ_WALK_POST) {
			end = wnode_new(kid, NULL, 0, WNODE_END);
		}
		// What was listed before it: the directory's own chunk, or the run after the previous subdirectory
		struct wchunk *before = wbuild_finish(&r->out, &err);
		if (r->nkids == 0) {
			r->first = before;
		} else {
			r->runs[r->nkids - 1] = before;
		}
		if ((cfg->order == IOQ_WALK_POST && !end) || err) {
			wnode_unref(w, end);
			wnode_unref(w, kid);
			wread_nomem(r);
			return;
		}
		if (end) {
			end->state = WNODE_READ;
		}
	}
	r->kids[r->nkids] = kid;
	r->runs[r->nkids] = NULL;
	r->gated[r->nkids] = (cfg->flags & IOQ_WALK_GATE) != 0;
	r->ends[r->nkids] = end;
	++r->nkids;
}

/*
 * Listing.
 */

/** Whether a name is "." or "..". */
static bool wread_dots(const char *name) {
	return name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0));
}

/** Make room for one more listed entry.  @return The slot, or NULL. */
static struct wlisted *wread_listed_slot(struct wreader *r) {
	if (r->nlisted == r->listed_cap) {
		uint32_t cap = r->listed_cap ? r->listed_cap * 2 : 256;
		struct wlisted *listed = realloc(r->listed, cap * sizeof(*listed));
		if (!listed) {
			return NULL;
		}
		r->listed = listed;
		r->listed_cap = cap;
	}
	return &r->listed[r->nlisted++];
}

/** Byte order of two listed names. */
static int wread_cmp(const void *a, const void *b) {
	const struct wlisted *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->name, y->name, n);
	return c ? c : (int)x->len - (int)y->len;
}

/**
 * Which stat an entry will surely need, to fetch it ahead: -1 none, 0 an
 * lstat, 1 a stat following links.
 */
static int8_t wread_wants_stat(struct wreader *r, const struct wlisted *l) {
	const struct ioq_walk *w = r->w;
	if (l->type == DT_UNKNOWN) {
		return 0;
	}
	if (l->type == DT_LNK && w->cfg.follow == IOQ_WALK_FOLLOW_ALWAYS) {
		return 1;
	}
	if (!(w->cfg.flags & IOQ_WALK_STAT)) {
		return -1;
	}
	// Stats are wanted for what is reported
	uint32_t depth = r->dir->depth + 1;
	bool reported = depth >= w->cfg.min_depth && (w->cfg.types & (1u << l->type)) && wmatch_globs(&w->names, l->name, l->len)
		&& wmatch_suffixes2(&w->exts, r->prefix.data, (uint32_t)r->prefix.len, (const uint8_t *)l->name, l->len);
	return reported ? 0 : -1;
}

/** Read the listed entries: their stats fetched ahead a batch at a time, then each in turn. */
static void wread_listed(struct wreader *r) {
	struct wring_op ops[WRING_MAX];
	for (uint32_t base = 0; base < r->nlisted && !walk_cancelled(r->w); base += WRING_MAX) {
		uint32_t m = r->nlisted - base < WRING_MAX ? r->nlisted - base : WRING_MAX;
		uint32_t k = 0;
		for (uint32_t j = 0; j < m; ++j) {
			struct wlisted *l = &r->listed[base + j];
			l->pre = wread_wants_stat(r, l);
			if (l->pre < 0) {
				continue;
			}
			l->pre_stx = &r->pre[j];
			ops[k] = (struct wring_op){
				.kind = WRING_STAT,
				.dfd = r->dfd,
				.path = l->name,
				.flags = l->pre ? 0 : AT_SYMLINK_NOFOLLOW,
				.stx = l->pre_stx,
			};
			++k;
		}
		if (k) {
			walk_count(r->w, IOQ_WALK_COUNT_STATS, k);
			wring_run(&r->ring, ops, k);
			k = 0;
			for (uint32_t j = 0; j < m; ++j) {
				struct wlisted *l = &r->listed[base + j];
				if (l->pre >= 0) {
					l->pre_res = ops[k++].res;
				}
			}
		}
		for (uint32_t j = 0; j < m; ++j) {
			wread_entry(r, &r->listed[base + j]);
		}
	}
	r->nlisted = 0;
}

/**
 * Look up the names glob patterns can only be, instead of listing.
 * @return Whether the directory was handled so (else it must be listed).
 */
static bool wread_probe(struct wreader *r) {
	const char *names[32];
	int n = wglob_literals(r->w->glob, r->dir->ginc, names, 32);
	if (n < 0) {
		return false;
	}
	r->nlisted = 0;
	for (int i = 0; i < n; ++i) {
		struct wlisted *l = wread_listed_slot(r);
		if (!l) {
			wread_nomem(r);
			break;
		}
		l->name = names[i];
		l->len = (uint16_t)strlen(names[i]);
		l->type = DT_UNKNOWN;
		l->probe = true;
	}
	wread_listed(r);
	return true;
}

/** Whether a listed entry has a name. */
static bool wread_named(const struct wlisted *l, const char *name) {
	size_t n = strlen(name);
	return l->len == n && memcmp(l->name, name, n) == 0;
}

/**
 * Read the directory's ignore files (the listing says which it has), make
 * its frame, and set the match path of its entries.
 */
static void wread_ignores(struct wreader *r) {
	struct ioq_walk *w = r->w;
	struct wnode *dir = r->dir;
	bool has_ignore = false, has_gitignore = false, has_git = false;
	for (uint32_t i = 0; i < r->nlisted; ++i) {
		const struct wlisted *l = &r->listed[i];
		has_ignore |= wread_named(l, ".ignore");
		has_gitignore |= wread_named(l, ".gitignore");
		has_git |= wread_named(l, ".git");
	}

	// The match path: the root's absolute path, then the names below it
	struct wbytes *m = &r->mpath;
	m->len = 0;
	const struct wign_top *top = &w->ign_top;
	if (wbytes_append(m, top->abs, top->abs_len) != 0) {
		wread_nomem(r);
		return;
	}
	if (dir->kind != WNODE_ROOT) {
		if (wnode_relpath(w, dir, w->root_node, &r->path) != 0 ||
		    (m->len > 1 && wbytes_append(m, "/", 1) != 0) || wbytes_append(m, r->path.data, r->path.len) != 0) {
			wread_nomem(r);
			return;
		}
	}
	if (m->len != 1 && wbytes_append(m, "/", 1) != 0) {
		wread_nomem(r);
		return;
	}

	struct wign_error errors[3];
	uint32_t nerrors;
	const struct wign *parent = dir->kind == WNODE_ROOT ? NULL : dir->parent->ign;
	dir->ign = wign_dir(top, parent, r->dfd, has_ignore, has_gitignore, has_git, m->len, errors, &nerrors);
	if (!dir->ign) {
		wread_nomem(r);
		return;
	}
	for (uint32_t i = 0; i < nerrors; ++i) {
		// The file counts as empty; the walk goes on
		const char *name = errors[i].name;
		wread_error(r, name, (uint32_t)strlen(name), dir->depth + 1, DT_REG, IOQ_WALK_OP_IGNORE, errors[i].err);
	}
}

/** List the directory being read (or, when globs allow, look its names up). */
static void wread_list(struct wreader *r) {
	if (wglob_active(r->w->glob) && wread_probe(r)) {
		return;
	}
	struct ioq_walk *w = r->w;
	// Ignore files must be read before any entry: the whole listing first
	bool ignores = w->cfg.flags & IOQ_WALK_GITIGNORE;
	bool sort = (w->cfg.flags & IOQ_WALK_SORT) || ignores;
	r->nlisted = 0;
	r->names.len = 0;
	while (!walk_cancelled(w)) {
		long n = syscall(SYS_getdents64, r->dfd, r->dents, DIR_BUF_SIZE);
		walk_count(w, IOQ_WALK_COUNT_READS, 1);
		if (n < 0) {
			wread_error(r, NULL, 0, r->dir->depth, DT_DIR, IOQ_WALK_OP_READDIR, -errno);
			break;
		}
		if (n == 0) {
			break;
		}
		for (long pos = 0; pos < n;) {
			const struct wread_dirent *de = (const void *)(r->dents + pos);
			pos += de->d_reclen;
			const char *name = de->d_name;
			if (wread_dots(name)) {
				continue;
			}
			size_t len = strlen(name);
			struct wlisted *l = wread_listed_slot(r);
			if (!l) {
				wread_nomem(r);
				continue;
			}
			l->name = name;
			l->len = (uint16_t)len;
			// (test hook: a file system without d_type)
			l->type = inject_error(IOQ_INJECT_DT_UNKNOWN) ? DT_UNKNOWN : de->d_type;
			l->probe = false;
			if (sort) {
				// Names outlive the buffer: keep them (with their NUL)
				l->off = (uint32_t)r->names.len;
				if (wbytes_append(&r->names, name, len + 1) != 0) {
					--r->nlisted;
					wread_nomem(r);
				}
			}
		}
		if (!sort) {
			wread_listed(r);
		}
	}
	if (sort) {
		for (uint32_t i = 0; i < r->nlisted; ++i) {
			r->listed[i].name = (const char *)r->names.data + r->listed[i].off;
		}
		if (ignores) {
			wread_ignores(r);
		}
		// (not for fewer than two: the list may not even be allocated yet,
		// and qsort() of NULL is undefined, even of nothing)
		if ((w->cfg.flags & IOQ_WALK_SORT) && r->nlisted > 1) {
			qsort(r->listed, r->nlisted, sizeof(*r->listed), wread_cmp);
		}
		wread_listed(r);
	}
	r->nlisted = 0;
}

/*
 * A node.
 */

/** Finish a node's result from what the reader gathered. */
static void wread_result(struct wreader *r, struct wresult *res) {
	if (r->nomem) {
		wread_error(r, NULL, 0, r->dir->depth, DT_DIR, IOQ_WALK_OP_READDIR, ENOMEM);
		r->nomem = false;
	}
	int err;
	struct wchunk *rest = wbuild_finish(&r->out, &err);
	if (r->w->cfg.order == IOQ_WALK_BFS || r->nkids == 0) {
		res->chunk = rest;
	} else {
		// Depth-first: the listing was cut at each subdirectory
		res->chunk = r->first;
		r->runs[r->nkids - 1] = rest;
		res->runs = r->runs;
	}
	r->first = NULL;
	res->kids = r->kids;
	res->nkids = r->nkids;
	res->gated = r->gated;
	res->ends = r->w->cfg.order == IOQ_WALK_POST ? r->ends : NULL;
}

/** Whether the directory's device and inode are wanted. */
static bool wread_wants_id(const struct ioq_walk *w) {
	return (w->cfg.flags & IOQ_WALK_XDEV) || w->cfg.follow == IOQ_WALK_FOLLOW_ALWAYS;
}

/** Read the root: its own record, then (a directory) its entries. */
static void wread_root(struct wreader *r, struct wnode *root, struct wresult *res) {
	struct ioq_walk *w = r->w;
	const struct ioq_walk_config *cfg = &w->cfg;
	bool std = cfg->flags & IOQ_WALK_STD;
	bool follow = std || cfg->follow != IOQ_WALK_FOLLOW_NEVER;

	// The root's own name: its last component, trailing slashes aside
	uint32_t end = w->root_shown_len;
	while (end > 1 && w->root_shown[end - 1] == '/') {
		--end;
	}
	uint32_t name_off = end;
	while (name_off > 0 && w->root_shown[name_off - 1] != '/') {
		--name_off;
	}
	if (name_off == end && end > 0) {
		name_off = end - 1;
	}

	const char *last;
	int at = wread_root_at(w, &last);
	int at_err = at < 0 && at != AT_FDCWD ? at : 0;
	if (at_err) {
		at = AT_FDCWD;
	}
	int fd = -ENOENT;
	if (at_err) {
		fd = at_err;
	} else if (w->root_len > 0) {
		fd = openat(at, last, WREAD_OPEN | (follow ? 0 : O_NOFOLLOW));
		fd = fd < 0 ? -errno : fd;
		walk_count(w, IOQ_WALK_COUNT_OPENS, 1);
	}
	if (fd >= 0) {
		w->root_real = wread_real_path(fd);
	}

	struct wentry e = {.depth = 0, .type = DT_DIR, .followed = false};
	int open_err = fd < 0 ? fd : 0;
	int stat_err = 0;
	struct statx own;
	if (fd >= 0) {
		walk_count(w, IOQ_WALK_COUNT_STATS, 1);
		stat_err = stat_path(fd, "", AT_EMPTY_PATH, &e.stx);
		e.have_stat = stat_err == 0;
		// Reached through a link (find -H/-L): the record says so
		e.followed = follow && !std && stat_path(at, last, AT_SYMLINK_NOFOLLOW, &own) == 0 && S_ISLNK(own.stx_mode);
	} else if (w->root_len > 0 && !at_err) {
		walk_count(w, IOQ_WALK_COUNT_STATS, 1);
		stat_err = stat_path(at, last, follow ? 0 : AT_SYMLINK_NOFOLLOW, &e.stx);
		if (stat_err != 0 && follow && !std && (stat_err == -ENOENT || stat_err == -ENOTDIR)) {
			// find -H/-L: a broken link as the root is reported as itself
			// (one that loops on itself is an error)
			stat_err = stat_path(at, last, AT_SYMLINK_NOFOLLOW, &e.stx);
		} else if (stat_err == 0 && follow && !std) {
			e.followed = stat_path(at, last, AT_SYMLINK_NOFOLLOW, &own) == 0 && S_ISLNK(own.stx_mode);
		}
		e.have_stat = stat_err == 0;
		if (e.have_stat) {
			e.type = wread_dtype(e.stx.stx_mode);
		}
	} else {
		stat_err = open_err;
	}
	if (at != AT_FDCWD) {
		close(at);
	}

	r->prefix.len = 0;
	r->prefix16 = 0;
	r->prefix_utf8 = true;
	bool glob = wglob_active(w->glob);
	if (stat_err != 0 && glob && (stat_err == -ENOENT || stat_err == -ENOTDIR)) {
		// A glob's fixed root that does not exist matches nothing: no error
		if (fd >= 0) {
			close(fd);
		}
		res->fd = -1;
		wread_result(r, res);
		return;
	}
	if (stat_err != 0) {
		// Nothing to show: only the error
		struct ioq_walk_rec *rec = wbuild_add_path(&r->out, true, w->root_shown, w->root_shown_len, name_off);
		if (rec) {
			rec->flags |= IOQ_WALK_REC_ERROR | IOQ_WALK_REC_ROOT;
			rec->err = stat_err < 0 ? -stat_err : stat_err;
			rec->op = IOQ_WALK_OP_STAT;
			rec->type = DT_UNKNOWN;
		}
		if (fd >= 0) {
			close(fd);
		}
		res->fd = -1;
		wread_result(r, res);
		return;
	}

	if (e.have_stat) {
		w->root_dev = wread_dev(&e.stx);
		res->has_id = true;
		res->dev = w->root_dev;
		res->ino = e.stx.stx_ino;
	}

	// Where glob patterns stand at the root (exclude patterns: through its absolute path)
	if (glob) {
		const uint8_t *abs = w->base ? w->base : (const uint8_t *)w->root;
		wglob_root(w->glob, abs, w->base ? w->base_len : w->root_len, &root->ginc, &root->gexc);
	}

	// Its record.  @std/fs's walk filters the root as given (the caller
	// does); a glob reports it when a pattern matches it (say `**`)
	bool post = cfg->order == IOQ_WALK_POST;
	const char *name = (const char *)w->root_shown + name_off;
	bool reported;
	if (glob) {
		reported = cfg->min_depth == 0 && (cfg->types & (1u << e.type)) && wglob_matches(w->glob, root->ginc, root->gexc, e.type == DT_DIR);
	} else if (std) {
		reported = cfg->min_depth == 0;
	} else {
		reported = wread_reported(w, e.type, 0, name, end - name_off, w->root_shown, w->root_shown_len);
	}
	if (reported) {
		struct wbuild *b = post ? &r->self : &r->out;
		struct ioq_walk_rec *rec = wbuild_add_path(b, false, w->root_shown, w->root_shown_len, name_off);
		if (rec) {
			rec->type = e.type;
			rec->flags |= IOQ_WALK_REC_ROOT | (e.followed ? IOQ_WALK_REC_FOLLOWED : 0);
			if (cfg->flags & IOQ_WALK_STAT) {
				*wbuild_stat(b) = e.stx;
			}
		} else {
			wread_nomem(r);
		}
		if (post) {
			int err;
			root->self = wbuild_finish(&r->self, &err);
		}
	}

	if (fd < 0) {
		// A directory that cannot be opened, or not a directory at all
		bool notdir = e.type != DT_DIR;
		if ((!notdir || (std && !glob)) && cfg->max_depth > 0) {
			struct ioq_walk_rec *rec = wbuild_add_path(&r->out, true, w->root_shown, w->root_shown_len, name_off);
			if (rec) {
				rec->flags |= IOQ_WALK_REC_ERROR | IOQ_WALK_REC_ROOT;
				rec->err = notdir ? ENOTDIR : -open_err;
				rec->op = IOQ_WALK_OP_OPENDIR;
				rec->type = e.type;
			}
		}
		res->fd = -1;
		wread_result(r, res);
		return;
	}

	res->fd = fd;
	if ((cfg->flags & IOQ_WALK_GITIGNORE) && cfg->max_depth > 0) {
		int ret = wign_top_init(&w->ign_top, fd);
		if (ret != 0) {
			// Where the root is cannot be told: ignore files cannot be matched
			struct ioq_walk_rec *rec = wbuild_add_path(&r->out, true, w->root_shown, w->root_shown_len, name_off);
			if (rec) {
				rec->flags |= IOQ_WALK_REC_ERROR | IOQ_WALK_REC_ROOT;
				rec->err = -ret;
				rec->op = IOQ_WALK_OP_REALPATH;
				rec->type = DT_DIR;
			}
			wread_result(r, res);
			return;
		}
	}
	if (cfg->max_depth > 0 && (!glob || wglob_enters(w->glob, root->ginc, root->gexc))) {
		r->dir = root;
		r->dfd = fd;
		r->dev = res->dev;
		r->ino = res->ino;
		r->prefix.len = 0;
		if (wbytes_append(&r->prefix, w->root_prefix, w->root_prefix_len) != 0) {
			wread_nomem(r);
		}
		bool valid = true;
		r->prefix16 = utf8_len16(r->prefix.data, r->prefix.len, &valid);
		r->prefix_utf8 = valid;
		wread_list(r);
	}
	wread_result(r, res);
}

void wread_open_all(struct wreader *r, struct wjob *jobs, uint32_t n, int *fds) {
	struct ioq_walk *w = r->w;
	bool follow = w->cfg.follow == IOQ_WALK_FOLLOW_ALWAYS;
	struct wring_op ops[WRING_MAX];
	char names[WRING_MAX][NAME_MAX + 1];
	uint32_t at[WRING_MAX];
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; ++i) {
		struct wnode *node = jobs[i].node;
		struct wnode *anchor = jobs[i].anchor;
		if (node->kind == WNODE_ROOT) {
			// wread_root() opens it
			fds[i] = -EBADF;
			continue;
		}
		if (anchor != node->parent || k == WRING_MAX) {
			// A longer path (its parent's descriptor was closed)
			fds[i] = wread_open(r, node, anchor);
			continue;
		}
		// The common case, a name in an open directory: in one batch
		memcpy(names[k], node->name, node->namelen);
		names[k][node->namelen] = 0;
		ops[k] = (struct wring_op){
			.kind = WRING_OPEN,
			.dfd = anchor->fd,
			.path = names[k],
			.flags = WREAD_OPEN | (follow ? 0 : O_NOFOLLOW),
		};
		at[k++] = i;
	}
	if (k) {
		wring_run(&r->ring, ops, k);
		for (uint32_t j = 0; j < k; ++j) {
			fds[at[j]] = ops[j].res;
		}
	}
	walk_count(w, IOQ_WALK_COUNT_OPENS, n - (jobs[0].node->kind == WNODE_ROOT));
}

void wread_node(struct wreader *r, struct wjob *job, int fd, struct wresult *res) {
	struct ioq_walk *w = r->w;
	struct wnode *n = job->node;
	memset(res, 0, sizeof(*res));
	res->fd = -1;
	r->dir = n;
	r->dfd = -1;
	r->nkids = 0;
	r->nomem = false;

	if (n->kind == WNODE_ROOT) {
		wread_root(r, n, res);
		return;
	}

	if (wread_set_prefix(r, n) != 0) {
		if (fd >= 0) {
			close(fd);
		}
		wread_nomem(r);
		wread_result(r, res);
		return;
	}

	if (fd == -EMFILE || fd == -ENFILE) {
		pthread_mutex_lock(&w->lock);
		// Other readers will give descriptors back, anchors (the root
		// last) can be closed, or another worker has just let one go: try
		// again later, with a lower limit.  (This
		// node's anchor is unpinned before it is taken again.)
		bool others = w->reading > 1 || wfd_can_free(w) || (job->anchor && job->anchor->pins == 1)
			// or a descriptor let go elsewhere is closing, or was closed since
			|| atomic_load_explicit(&w->fds.closing, memory_order_acquire) > 0
			|| atomic_load_explicit(&w->fds.closed, memory_order_acquire) != job->closed;
		pthread_mutex_unlock(&w->lock);
		if (others) {
			res->retry = true;
			return;
		}
	}
	if (fd < 0) {
		wread_error(r, NULL, 0, n->depth, DT_DIR, IOQ_WALK_OP_OPENDIR, fd);
		wread_result(r, res);
		return;
	}

	if (wread_wants_id(w)) {
		struct statx stx;
		walk_count(w, IOQ_WALK_COUNT_STATS, 1);
		if (stat_path(fd, "", AT_EMPTY_PATH, &stx) == 0) {
			res->has_id = true;
			res->dev = wread_dev(&stx);
			res->ino = stx.stx_ino;
		}
		if ((w->cfg.flags & IOQ_WALK_XDEV) && res->has_id && res->dev != w->root_dev) {
			// Another file system (checked on what was opened): not entered
			close(fd);
			wread_result(r, res);
			return;
		}
	}

	r->dfd = fd;
	r->dev = res->dev;
	r->ino = res->ino;
	wread_list(r);
	res->fd = fd;
	wread_result(r, res);
}
