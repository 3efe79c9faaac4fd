// SPDX-License-Identifier: 0BSD
/** dir: getdents64-based directory reading. */

#define _GNU_SOURCE
#include "dir.h"
#include "ioq.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>


/** The kernel's dirent layout for getdents64. */
struct dir_dirent64 {
	/** Inode number. */
	uint64_t d_ino;
	/** Opaque offset of the next entry. */
	int64_t d_off;
	/** Size of this record. */
	uint16_t d_reclen;
	/** DT_* type. */
	uint8_t d_type;
	/** NUL-terminated name. */
	char d_name[];
};

/** The largest record getdents64 can return (a 255-byte name), aligned. */
#define DIR_MAX_RECORD ((offsetof(struct dir_dirent64, d_name) + 256 + 7) & ~(size_t)7)

void dir_init(struct ioq_dir *d) {
	memset(d, 0, sizeof(*d));
	d->fd = -1;
}

/** Call getdents64.  @return Bytes read, or a negative errno value. */
static long dir_getdents(int fd, char *buf, size_t size) {
	long n = syscall(SYS_getdents64, fd, buf, size);
	return n < 0 ? -errno : n;
}

/**
 * Refill the buffer once its contents are consumed.  When there is room for
 * another record after the first call, call again: a small directory then
 * learns its end without another syscall later.
 */
static int dir_fill(struct ioq_dir *d) {
	if (!d->buf) {
		d->buf = malloc(DIR_BUF_SIZE);
		if (!d->buf) {
			return -ENOMEM;
		}
		d->cap = DIR_BUF_SIZE;
	}

	d->pos = 0;
	d->len = 0;
	long n = dir_getdents(d->fd, d->buf, d->cap);
	if (n < 0) {
		return (int)n;
	} else if (n == 0) {
		d->eof = true;
		return 0;
	}
	d->len = (uint32_t)n;

	if (d->cap - d->len >= DIR_MAX_RECORD) {
		long m = dir_getdents(d->fd, d->buf + d->len, d->cap - d->len);
		if (m == 0) {
			d->eof = true;
		} else if (m > 0) {
			d->len += (uint32_t)m;
		} else {
			d->err = (int32_t)m;
		}
	}
	return 0;
}

/**
 * Fill a freshly opened directory: read into the worker's scratch buffer,
 * then keep a copy just big enough for a directory read to its end (most
 * are small), or a full-size buffer for one that will need refills.  A
 * fresh 32 KiB allocation per directory would cost page faults.
 */
static int dir_first_fill(struct ioq_dir *d, char *scratch) {
	long n = dir_getdents(d->fd, scratch, DIR_BUF_SIZE);
	if (n < 0) {
		return (int)n;
	}
	size_t len = (size_t)n;
	if (n == 0) {
		d->eof = true;
	} else if (DIR_BUF_SIZE - len >= DIR_MAX_RECORD) {
		long m = dir_getdents(d->fd, scratch + len, DIR_BUF_SIZE - len);
		if (m == 0) {
			d->eof = true;
		} else if (m > 0) {
			len += (size_t)m;
		} else {
			d->err = (int32_t)m;
		}
	}

	size_t cap = d->eof ? (len ? len : 1) : DIR_BUF_SIZE;
	d->buf = malloc(cap);
	if (!d->buf) {
		return -ENOMEM;
	}
	memcpy(d->buf, scratch, len);
	d->cap = (uint32_t)cap;
	d->len = (uint32_t)len;
	d->pos = 0;
	return 0;
}

int dir_adopt(struct ioq_dir *d, int fd, char *scratch) {
	d->fd = fd;
	d->eof = false;
	d->err = 0;
	int ret = dir_first_fill(d, scratch);
	if (ret != 0) {
		dir_close(d);
	}
	return ret;
}

int dir_open(struct ioq_dir *d, int atfd, const char *path, char *scratch) {
	int fd = openat(atfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	return dir_adopt(d, fd, scratch);
}

/** Whether a byte string is valid UTF-8 (no overlongs, surrogates or > U+10FFFF). */
static bool dir_utf8_valid(const unsigned char *s, size_t n) {
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		if (c < 0x80) {
			++i;
			continue;
		}

		size_t len;
		uint32_t cp;
		if (c >= 0xC2 && c <= 0xDF) {
			len = 2;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			len = 3;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i < len) {
			return false;
		}
		for (size_t j = 1; j < len; ++j) {
			if ((s[i + j] & 0xC0) != 0x80) {
				return false;
			}
			cp = (cp << 6) | (s[i + j] & 0x3F);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
			return false;
		}
		i += len;
	}
	return true;
}

/** Whether a name is "." or "..". */
static bool dir_is_dots(const char *name) {
	return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

int dir_read(struct ioq_dir *d, const uint8_t *prefix, uint32_t plen, uint8_t end, uint8_t *out, uint32_t cap, uint32_t *meta, uint32_t max) {
	if (max < 2 || cap < plen + 256) {
		return -EINVAL;
	}
	if (d->err && d->pos == d->len) {
		int err = d->err;
		d->err = 0;
		return err;
	}

	uint32_t count = 0, used = 0;
	while (count + 1 < max) {
		if (d->pos >= d->len) {
			if (d->eof || d->err) {
				break;
			}
			int ret = dir_fill(d);
			if (ret != 0) {
				if (count == 0) {
					return ret;
				}
				d->err = ret;
				break;
			}
			continue;
		}

		const struct dir_dirent64 *de = (const void *)(d->buf + d->pos);
		const char *name = de->d_name;
		size_t room = de->d_reclen - offsetof(struct dir_dirent64, d_name);
		size_t len = strnlen(name, room);
		if (dir_is_dots(name)) {
			d->pos += de->d_reclen;
			continue;
		}
		if (cap - used < plen + len + 1) {
			break;
		}

		if (plen) {
			// (memcpy from NULL is undefined even for 0 bytes)
			memcpy(out + used, prefix, plen);
		}
		memcpy(out + used + plen, name, len);
		out[used + plen + len] = end;
		used += (uint32_t)(plen + len + 1);

		uint32_t word = de->d_type | ((uint32_t)len << 16);
		if (!dir_utf8_valid((const unsigned char *)name, len)) {
			word |= 1u << 8;
		}
		meta[++count] = word;
		d->pos += de->d_reclen;
	}

	// Tell the caller when nothing is left, which saves it a call; and let
	// the buffer go (a directory kept open as an openat anchor needs none)
	bool done = d->pos >= d->len && d->eof && !d->err;
	meta[0] = used | (done ? IOQ_DIR_END : 0);
	if (done) {
		free(d->buf);
		d->buf = NULL;
		d->cap = d->len = d->pos = 0;
	}
	return (int)count;
}

int dir_detach(struct ioq_dir *d) {
	int fd = d->fd;
	free(d->buf);
	d->buf = NULL;
	d->cap = d->len = d->pos = 0;
	d->fd = -1;
	return fd;
}

int dir_close(struct ioq_dir *d) {
	int fd = dir_detach(d);
	if (fd < 0) {
		return 0;
	}
	// Linux always releases the descriptor, even when close() fails
	return close(fd) == 0 ? 0 : -errno;
}
