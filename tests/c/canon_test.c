// SPDX-License-Identifier: 0BSD
/**
 * canon_test: canonical paths from canon_path(), short and past PATH_MAX.
 *
 * A temporary tree holds a file, a directory, links to each (relative,
 * through "..", chained), a name that is not UTF-8, a link loop and, under
 * a chain of 30 directories with 200-byte names, a file, a directory and
 * links to both: the kernel cannot name those through /proc/self/fd, so
 * they take the climb through "..".  Every answer is compared byte for byte
 * with the path the test built, and short buffers must give -ERANGE.
 */

#define _GNU_SOURCE
#include "canon.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "harness.h"


/** Levels of the deep chain. */
#define DEEP_LEVELS 30
/** Bytes of each deep level's name. */
#define DEEP_NAME 200
/** Room for the deepest answer. */
#define BIG (DEEP_LEVELS * (DEEP_NAME + 1) + PATH_MAX)

/** The tree's root, as realpath(3) names it. */
static char root[PATH_MAX];
/** Descriptors of the deep chain's directories, to remove it bottom up. */
static int deep_fds[DEEP_LEVELS + 1];
/** The checks that passed. */
static int passed;

/** A deep level's name. */
static void deep_name(int level, char *out) {
	int n = snprintf(out, DEEP_NAME + 1, "%03d-", level);
	memset(out + n, 'x', DEEP_NAME - n);
	out[DEEP_NAME] = '\0';
}


/** Make a directory or a link, or fail. */
static void make(int at, const char *name, const char *link_to) {
	int ret = link_to ? symlinkat(link_to, at, name) : mkdirat(at, name, 0755);
	if (ret != 0) {
		fail("cannot make %s: %s", name, strerror(errno));
	}
}

/** Make an empty file, or fail. */
static void touch(int at, const char *name) {
	int fd = openat(at, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fail("cannot create %s: %s", name, strerror(errno));
	}
	close(fd);
}

/** Open a directory, or fail. */
static int open_dir(int at, const char *name) {
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		fail("cannot open %s: %s", name, strerror(errno));
	}
	return fd;
}

/** Check that `path` (relative to `at`) resolves to `want` (a string of `want_len` bytes). */
static void expect_path(int at, const char *path, const char *want, size_t want_len) {
	static char out[BIG];
	long n = canon_path(at, path, out, sizeof(out));
	if (n < 0) {
		fail("canon_path(%s) gave %s", path, strerror((int)-n));
	}
	if ((size_t)n != want_len || memcmp(out, want, want_len) != 0) {
		fail("canon_path(%s) gave '%.*s' (%ld bytes), expected '%s' (%zu bytes)", path, (int)n, out, n, want, want_len);
	}
	++passed;

	// One byte short of room gives -ERANGE, and no more than the room is written
	char *tight = malloc(want_len);
	if (!tight) {
		fail("out of memory");
	}
	n = canon_path(at, path, tight, want_len - 1);
	if (n != -ERANGE) {
		fail("canon_path(%s) with %zu bytes of room gave %ld, expected -ERANGE", path, want_len - 1, n);
	}
	free(tight);
	++passed;
}

/** Check that `path` (relative to `at`) fails with `err`. */
static void expect_error(int at, const char *path, int err) {
	char out[PATH_MAX];
	long n = canon_path(at, path, out, sizeof(out));
	if (n != -err) {
		fail("canon_path(%s) gave %ld, expected -%s", path, n, strerrorname_np(err));
	}
	++passed;
}

/** Join the root and a suffix, into one of a few static buffers (two may be live in one call). */
static const char *under_root(const char *suffix) {
	static char bufs[4][PATH_MAX];
	static int next;
	char *buf = bufs[next++ % 4];
	snprintf(buf, PATH_MAX, "%s%s", root, suffix);
	return buf;
}

/** The short cases: ordinary paths the kernel names through /proc. */
static void test_short(int rootfd) {
	make(rootfd, "d", NULL);
	make(rootfd, "d/e", NULL);
	touch(rootfd, "f");
	touch(rootfd, "d/g");
	make(rootfd, "\xfe-raw", NULL);
	make(rootfd, "to-f", "f");
	make(rootfd, "d/up-f", "../f");
	make(rootfd, "d/chain", "../to-f");
	make(rootfd, "to-d", "./d/e/..");
	make(rootfd, "abs-g", under_root("/d/g"));
	make(rootfd, "to-raw", "\xfe-raw");
	make(rootfd, "loop", "loop");
	make(rootfd, "broken", "nowhere");

	int dfd = open_dir(rootfd, "d");
	expect_path(rootfd, ".", root, strlen(root));
	expect_path(rootfd, "to-f", under_root("/f"), strlen(root) + 2);
	expect_path(dfd, "up-f", under_root("/f"), strlen(root) + 2);
	expect_path(dfd, "chain", under_root("/f"), strlen(root) + 2);
	expect_path(dfd, "..", root, strlen(root));
	expect_path(dfd, "e/../g", under_root("/d/g"), strlen(root) + 4);
	expect_path(rootfd, "to-d", under_root("/d"), strlen(root) + 2);
	expect_path(rootfd, "abs-g", under_root("/d/g"), strlen(root) + 4);
	expect_path(AT_FDCWD, under_root("/to-raw"), under_root("/\xfe-raw"), strlen(root) + 6);
	expect_path(AT_FDCWD, "/", "/", 1);
	expect_error(rootfd, "loop", ELOOP);
	expect_error(rootfd, "broken", ENOENT);
	expect_error(rootfd, "f/x", ENOTDIR);
	close(dfd);
}

/** The deep cases: past PATH_MAX, found by climbing. */
static void test_deep(int rootfd) {
	static char want[BIG];
	size_t len = strlen(root);
	memcpy(want, root, len);
	char name[DEEP_NAME + 1];
	deep_fds[0] = rootfd;
	for (int i = 0; i < DEEP_LEVELS; ++i) {
		deep_name(i, name);
		make(deep_fds[i], name, NULL);
		deep_fds[i + 1] = open_dir(deep_fds[i], name);
		want[len++] = '/';
		memcpy(want + len, name, DEEP_NAME);
		len += DEEP_NAME;
	}
	if (len < PATH_MAX) {
		fail("the deep chain is only %zu bytes", len);
	}
	int bottom = deep_fds[DEEP_LEVELS];
	touch(bottom, "leaf");
	make(bottom, "target", NULL);
	make(bottom, "flink", "leaf");
	make(bottom, "dlink", "target");
	make(bottom, "via-up", "../" "029-" "xxxxxxxx");  // broken: a short name
	deep_name(DEEP_LEVELS - 1, name);
	char up[DEEP_NAME + 16];
	snprintf(up, sizeof(up), "../%s/flink", name);
	make(bottom, "up-flink", up);

	expect_path(bottom, ".", want, len);
	memcpy(want + len, "/leaf", 6);
	expect_path(bottom, "flink", want, len + 5);
	expect_path(bottom, "up-flink", want, len + 5);
	memcpy(want + len, "/target", 8);
	expect_path(bottom, "dlink", want, len + 7);
	expect_path(bottom, "target/..", want, len);
	expect_error(bottom, "via-up", ENOENT);
}

/** Remove the tree: the deep chain bottom up, then the rest. */
static void remove_tree(int rootfd) {
	int bottom = deep_fds[DEEP_LEVELS];
	const char *names[] = {"leaf", "flink", "dlink", "via-up", "up-flink"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
		unlinkat(bottom, names[i], 0);
	}
	unlinkat(bottom, "target", AT_REMOVEDIR);
	char name[DEEP_NAME + 1];
	for (int i = DEEP_LEVELS - 1; i >= 0; --i) {
		close(deep_fds[i + 1]);
		deep_name(i, name);
		if (unlinkat(deep_fds[i], name, AT_REMOVEDIR) != 0) {
			fail("cannot remove level %d: %s", i, strerror(errno));
		}
	}
	const char *files[] = {"d/g", "f", "to-f", "d/up-f", "d/chain", "to-d", "abs-g", "to-raw", "loop", "broken"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); ++i) {
		if (unlinkat(rootfd, files[i], 0) != 0) {
			fail("cannot remove %s: %s", files[i], strerror(errno));
		}
	}
	const char *dirs[] = {"d/e", "d", "\xfe-raw"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); ++i) {
		if (unlinkat(rootfd, dirs[i], AT_REMOVEDIR) != 0) {
			fail("cannot remove %s: %s", dirs[i], strerror(errno));
		}
	}
	close(rootfd);
	if (rmdir(root) != 0) {
		fail("cannot remove the root: %s", strerror(errno));
	}
}

int main(void) {
	char tmpl[] = "/tmp/canon-test-XXXXXX";
	harness_start("canon_test", NULL, 55);
	if (!mkdtemp(tmpl) || !realpath(tmpl, root)) {
		fail("cannot make a temporary directory: %s", strerror(errno));
	}
	// A failure leaves the tree for inspection
	set_context("tree %s", root);
	int rootfd = open_dir(AT_FDCWD, root);
	test_short(rootfd);
	test_deep(rootfd);
	remove_tree(rootfd);
	printf("canon_test" HARNESS_LANE ": all %d checks passed\n", passed);
	return 0;
}
