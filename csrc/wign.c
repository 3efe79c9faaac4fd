// SPDX-License-Identifier: 0BSD
/** wign: reading ignore files for a walk and matching its entries against them. */

#define _GNU_SOURCE
#include "wign.h"
#include "canon.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/** Which list is which in wign::lists. */
enum { WIGN_IGNORE, WIGN_GITIGNORE, WIGN_EXCLUDE };

/**
 * Read a whole file relative to a directory, without following a symlink
 * at its end.
 * @return 0 (with *out malloc'ed, or NULL for an empty file), -ENOENT when
 *         it is not there, or another negative errno value.
 */
static int wign_slurp(int dfd, const char *name, uint8_t **out, size_t *len) {
	*out = NULL;
	*len = 0;
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0) {
		return -errno;
	}
	int ret = 0;
	size_t cap = 0;
	uint8_t *buf = NULL;
	while (true) {
		if (*len == cap) {
			if (cap >= IGN_MAX_FILE + 1) {
				ret = -EFBIG;
				break;
			}
			cap = cap ? cap * 2 : 4096;
			uint8_t *grown = realloc(buf, cap);
			if (!grown) {
				ret = -ENOMEM;
				break;
			}
			buf = grown;
		}
		ssize_t n = read(fd, buf + *len, cap - *len);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			ret = -errno;
			break;
		}
		if (n == 0) {
			break;
		}
		*len += (size_t)n;
	}
	close(fd);
	if (ret != 0) {
		free(buf);
		*len = 0;
		return ret;
	}
	*out = buf;
	return 0;
}

/** Read and compile one ignore file.  @return 0 (absent counts as empty) or a negative errno. */
static int wign_load(int dfd, const char *name, struct ign_list **list) {
	*list = NULL;
	uint8_t *text;
	size_t len;
	int ret = wign_slurp(dfd, name, &text, &len);
	if (ret == -ENOENT) {
		return 0;
	}
	if (ret == 0) {
		ret = ign_parse(text, len, list);
		free(text);
	}
	return ret;
}

/**
 * The path of a repository's info/exclude, relative to its root: through
 * `.git` itself, or through the `gitdir:` line of a `.git` file (worktrees
 * and submodules).
 * @return A malloc'ed path, or NULL.
 */
static char *wign_exclude_path(int dfd) {
	struct stat st;
	if (fstatat(dfd, ".git", &st, AT_SYMLINK_NOFOLLOW) != 0) {
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		return strdup(".git/info/exclude");
	}
	uint8_t *text;
	size_t len;
	if (!S_ISREG(st.st_mode) || wign_slurp(dfd, ".git", &text, &len) != 0 || !text) {
		return NULL;
	}
	char *path = NULL;
	const char *prefix = "gitdir: ";
	size_t plen = strlen(prefix);
	if (len > plen && memcmp(text, prefix, plen) == 0) {
		size_t end = plen;
		while (end < len && text[end] != '\n' && text[end] != '\r') {
			++end;
		}
		size_t n = end - plen;
		path = malloc(n + sizeof("/info/exclude"));
		if (path) {
			memcpy(path, text + plen, n);
			memcpy(path + n, "/info/exclude", sizeof("/info/exclude"));
		}
	}
	free(text);
	return path;
}

struct wign *wign_dir(const struct wign_top *top, const struct wign *parent, int dfd, bool has_ignore, bool has_gitignore, bool has_git, size_t base, struct wign_error *errors, uint32_t *nerrors) {
	*nerrors = 0;
	struct wign *ign = calloc(1, sizeof(*ign));
	if (!ign) {
		return NULL;
	}
	const struct wign *up = parent ? parent : (top->nabove ? &top->above[top->nabove - 1] : NULL);
	ign->frame.parent = up ? &up->frame : NULL;
	ign->frame.base = base;
	ign->frame.repo = has_git;
	ign->in_repo = has_git || (up && up->in_repo);

	int ret;
	if (has_ignore && (ret = wign_load(dfd, ".ignore", &ign->lists[WIGN_IGNORE])) != 0) {
		errors[(*nerrors)++] = (struct wign_error){".ignore", ret};
	}
	// fd's rule: .gitignore files count inside a repository only
	if (has_gitignore && ign->in_repo && (ret = wign_load(dfd, ".gitignore", &ign->lists[WIGN_GITIGNORE])) != 0) {
		errors[(*nerrors)++] = (struct wign_error){".gitignore", ret};
	}
	if (has_git) {
		char *path = wign_exclude_path(dfd);
		if (path && (ret = wign_load(dfd, path, &ign->lists[WIGN_EXCLUDE])) != 0 && ret != -ENOTDIR) {
			errors[(*nerrors)++] = (struct wign_error){".git/info/exclude", ret};
		}
		free(path);
	}
	ign->frame.ignore = ign->lists[WIGN_IGNORE];
	ign->frame.gitignore = ign->lists[WIGN_GITIGNORE];
	ign->frame.exclude = ign->lists[WIGN_EXCLUDE];
	return ign;
}

void wign_free(struct wign *ign) {
	if (!ign) {
		return;
	}
	for (int i = 0; i < 3; ++i) {
		ign_free(ign->lists[i]);
	}
	free(ign);
}

bool wign_ignored(const struct wign *dir, const uint8_t *path, size_t len, bool is_dir) {
	return dir && ign_match(&dir->frame, path, len, is_dir, NULL) == IGN_IGNORED;
}

/** Whether a directory (an absolute path, NUL-terminated) holds a `.git`. */
static bool wign_is_repo(const char *dir) {
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		return false;
	}
	struct stat st;
	bool repo = fstatat(fd, ".git", &st, AT_SYMLINK_NOFOLLOW) == 0;
	close(fd);
	return repo;
}

int wign_top_init(struct wign_top *top, int root_fd) {
	memset(top, 0, sizeof(*top));
	size_t cap = PATH_MAX;
	long n;
	while (true) {
		top->abs = realloc(top->abs, cap);
		if (!top->abs) {
			return -ENOMEM;
		}
		n = canon_path(root_fd, ".", (char *)top->abs, cap);
		if (n != -ERANGE) {
			break;
		}
		cap *= 2;
	}
	if (n < 0) {
		free(top->abs);
		top->abs = NULL;
		return (int)n;
	}
	top->abs_len = (size_t)n;

	// The repository above the root, if any: its root is the nearest
	// ancestor that holds a .git (the root's own is read with its listing)
	char *path = malloc(top->abs_len + 1);
	if (!path) {
		return -ENOMEM;
	}
	memcpy(path, top->abs, top->abs_len);
	path[top->abs_len] = 0;
	size_t repo_len = 0;
	bool found = false;
	for (size_t end = top->abs_len; end > 0 && !found;) {
		while (end > 0 && path[end - 1] != '/') {
			--end;
		}
		if (end == 0) {
			break;
		}
		size_t dir_len = end > 1 ? end - 1 : 1;
		char saved = path[dir_len];
		path[dir_len] = 0;
		found = wign_is_repo(path);
		path[dir_len] = saved;
		repo_len = dir_len;
		end = end > 1 ? end - 1 : 0;
	}
	if (!found) {
		free(path);
		return 0;
	}

	// Frames from the repository's root down to the root's parent
	uint32_t count = 0;
	for (size_t i = repo_len; i < top->abs_len; ++i) {
		count += path[i] == '/';
	}
	top->above = calloc(count ? count : 1, sizeof(*top->above));
	if (!top->above) {
		free(path);
		return -ENOMEM;
	}
	size_t end = repo_len;
	for (uint32_t k = 0; k < count; ++k) {
		char saved = path[end];
		path[end] = 0;
		int dfd = open(end ? path : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		path[end] = saved;
		struct wign *ign = &top->above[k];
		ign->frame.parent = k ? &top->above[k - 1].frame : NULL;
		// Paths below this directory start after its '/' (the top's: the root's)
		ign->frame.base = end == 1 ? 1 : end + 1;
		ign->frame.repo = k == 0;
		ign->in_repo = true;
		if (dfd >= 0) {
			wign_load(dfd, ".ignore", &ign->lists[WIGN_IGNORE]);
			wign_load(dfd, ".gitignore", &ign->lists[WIGN_GITIGNORE]);
			if (k == 0) {
				char *exclude = wign_exclude_path(dfd);
				if (exclude) {
					wign_load(dfd, exclude, &ign->lists[WIGN_EXCLUDE]);
				}
				free(exclude);
			}
			close(dfd);
		}
		ign->frame.ignore = ign->lists[WIGN_IGNORE];
		ign->frame.gitignore = ign->lists[WIGN_GITIGNORE];
		ign->frame.exclude = ign->lists[WIGN_EXCLUDE];
		++top->nabove;
		// The next directory down
		end = end == 1 ? 1 : end + 1;
		while (end < top->abs_len && path[end] != '/') {
			++end;
		}
	}
	free(path);
	return 0;
}

void wign_top_free(struct wign_top *top) {
	for (uint32_t i = 0; i < top->nabove; ++i) {
		for (int j = 0; j < 3; ++j) {
			ign_free(top->above[i].lists[j]);
		}
	}
	free(top->above);
	free(top->abs);
	memset(top, 0, sizeof(*top));
}
