// SPDX-License-Identifier: 0BSD
/**
 * bench/rusage: run a command, then report its wall time and CPU time, and
 * optionally the CPU time of each of its threads.
 *
 *     rusage [-p interval_us] [-g] [--] COMMAND [ARG]...
 *
 * Forks, execs COMMAND (stdin, stdout and stderr inherited) and waits for it
 * with wait4(), whose rusage gives the user and system CPU time of the
 * whole process, every thread included, to the microsecond (GNU time's %U
 * and %S print the same numbers to the centisecond).  Then writes one line
 * to stderr: `IOQ_RUSAGE {json}` with pid, wallMs (CLOCK_MONOTONIC from fork
 * to wait4), userMs, sysMs, maxRssKiB, status, and `threads`.
 *
 * With -p, it also polls /proc/PID/task/ every interval_us while the
 * command runs (descriptors kept open and re-read with pread) and reports
 * each thread it saw: tid, name (comm), the CPU time it had run at the last
 * poll (schedstat's sum_exec_runtime) and how many times it had been
 * scheduled onto a CPU (schedstat's pcount: each wake-up, and each
 * preemption).  A thread's last interval before it exits is lost, at most
 * interval_us of CPU; a thread born and gone between two polls is missed
 * (the whole-process numbers still count it).
 *
 * With -g, the command starts with its descriptor table already grown to
 * the RLIMIT_NOFILE soft limit (at most 65536 slots): the forked child
 * dup2()s stderr to the highest descriptor it may have, without
 * FD_CLOEXEC, before exec, so the table the command inherits holds that
 * many slots and never grows while it runs (the command sees one extra
 * open descriptor).  Growing the table of a multi-threaded process waits
 * for an RCU grace period each time, so this measures what that costs.
 *
 * Exits with the command's status (128 + the signal if it was killed).
 * Built by `zig build bench-walk`; bench/run.ts and bench/compare.ts run it.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "tool.h"

/** One thread seen by the poller. */
struct rusage_thread {
	/** Its id. */
	pid_t tid;
	/** Its schedstat and comm files, kept open, or -1 once it is gone. */
	int stat_fd, comm_fd;
	/** Its name at the last poll. */
	char comm[32];
	/** sum_exec_runtime at the last poll, ns. */
	uint64_t runtime_ns;
	/** pcount at the last poll. */
	uint64_t slices;
};

/** The threads seen so far. */
struct rusage_poll {
	/** /proc/PID/task, open. */
	DIR *task;
	/** The path of /proc/PID/task. */
	char path[64];
	/** The threads. */
	struct rusage_thread *threads;
	/** How many, and room for. */
	size_t len, cap;
};

/** Re-read a thread's schedstat and name; mark it gone when they cannot be read. */
static void rusage_read(struct rusage_thread *t) {
	if (t->stat_fd < 0) {
		return;
	}
	char buf[128];
	ssize_t n = pread(t->stat_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0) {
		close(t->stat_fd);
		close(t->comm_fd);
		t->stat_fd = t->comm_fd = -1;
		return;
	}
	buf[n] = 0;
	unsigned long long runtime, delay, slices;
	if (sscanf(buf, "%llu %llu %llu", &runtime, &delay, &slices) == 3) {
		t->runtime_ns = runtime;
		t->slices = slices;
	}
	n = pread(t->comm_fd, buf, sizeof(t->comm) - 1, 0);
	if (n > 0) {
		buf[n] = 0;
		buf[strcspn(buf, "\n")] = 0;
		memcpy(t->comm, buf, (size_t)n + 1);
	}
}

/** Start following a thread newly seen in /proc/PID/task. */
static void rusage_add(struct rusage_poll *p, pid_t tid) {
	if (p->len == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 32;
		struct rusage_thread *threads = realloc(p->threads, cap * sizeof(*threads));
		if (!threads) {
			return;
		}
		p->threads = threads;
		p->cap = cap;
	}
	char path[128];
	snprintf(path, sizeof(path), "%s/%d/schedstat", p->path, (int)tid);
	int stat_fd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/%d/comm", p->path, (int)tid);
	int comm_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (stat_fd < 0 || comm_fd < 0) {
		if (stat_fd >= 0) {
			close(stat_fd);
		}
		if (comm_fd >= 0) {
			close(comm_fd);
		}
		return;
	}
	struct rusage_thread *t = &p->threads[p->len++];
	*t = (struct rusage_thread){.tid = tid, .stat_fd = stat_fd, .comm_fd = comm_fd};
	rusage_read(t);
}

/** One poll: find new threads, re-read every live one. */
static void rusage_poll_once(struct rusage_poll *p) {
	if (!p->task) {
		return;
	}
	rewinddir(p->task);
	struct dirent *d;
	while ((d = readdir(p->task))) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9') {
			continue;
		}
		pid_t tid = (pid_t)atoi(d->d_name);
		bool known = false;
		for (size_t i = 0; i < p->len && !known; ++i) {
			known = p->threads[i].tid == tid;
		}
		if (!known) {
			rusage_add(p, tid);
		}
	}
	for (size_t i = 0; i < p->len; ++i) {
		rusage_read(&p->threads[i]);
	}
}

/** Print the usage line and return the exit status for a bad command line. */
static int rusage_usage(const char *argv0) {
	fprintf(stderr, "usage: %s [-p interval_us] [-g] [--] COMMAND [ARG]...\n", argv0);
	return 2;
}

/** Parse the command line, run the command, report.  @return The command's exit status. */
int main(int argc, char *argv[]) {
	long interval_us = 0;
	bool grow = false;
	int opt;
	while ((opt = getopt(argc, argv, "+p:g")) != -1) {
		char *end;
		if (opt == 'p' && (interval_us = strtol(optarg, &end, 10)) >= 100 && !*end) {
			continue;
		}
		if (opt == 'g') {
			grow = true;
			continue;
		}
		return rusage_usage(argv[0]);
	}
	if (optind >= argc) {
		return rusage_usage(argv[0]);
	}

	double start = tool_now();
	pid_t pid = fork();
	if (pid < 0) {
		perror("rusage: fork");
		return 127;
	}
	if (pid == 0) {
		struct rlimit lim;
		if (grow && getrlimit(RLIMIT_NOFILE, &lim) == 0) {
			rlim_t top = lim.rlim_cur < 65536 ? lim.rlim_cur : 65536;
			if (top > 3 && dup2(2, (int)top - 1) < 0) {
				perror("rusage: dup2");
			}
		}
		execvp(argv[optind], &argv[optind]);
		fprintf(stderr, "rusage: %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}

	struct rusage_poll poll = {0};
	int status = 0;
	struct rusage ru;
	pid_t done = 0;
	if (interval_us) {
		snprintf(poll.path, sizeof(poll.path), "/proc/%d/task", (int)pid);
		poll.task = opendir(poll.path);
		struct timespec pause = {.tv_sec = interval_us / 1000000, .tv_nsec = (interval_us % 1000000) * 1000};
		// Poll until the command ends, keeping its zombie until after the last poll
		while (true) {
			siginfo_t info = {0};
			if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) {
				break;
			}
			rusage_poll_once(&poll);
			nanosleep(&pause, NULL);
		}
	}
	do {
		done = wait4(pid, &status, 0, &ru);
	} while (done < 0 && errno == EINTR);
	double wall = tool_now() - start;
	if (done < 0) {
		perror("rusage: wait4");
		return 127;
	}

	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	fprintf(stderr, "\nIOQ_RUSAGE {\"pid\":%d,\"wallMs\":%.3f,\"userMs\":%.3f,\"sysMs\":%.3f,\"maxRssKiB\":%ld,\"status\":%d,\"threads\":[",
	        (int)pid, wall * 1e3, tool_ms(ru.ru_utime), tool_ms(ru.ru_stime), ru.ru_maxrss, code);
	for (size_t i = 0; i < poll.len; ++i) {
		const struct rusage_thread *t = &poll.threads[i];
		fprintf(stderr, "%s{\"tid\":%d,\"comm\":\"", i ? "," : "", (int)t->tid);
		for (const char *c = t->comm; *c; ++c) {
			fputc(*c == '"' || *c == '\\' || (unsigned char)*c < 0x20 ? '_' : *c, stderr);
		}
		fprintf(stderr, "\",\"cpuMs\":%.3f,\"slices\":%llu}", (double)t->runtime_ns / 1e6, (unsigned long long)t->slices);
		if (t->stat_fd >= 0) {
			close(t->stat_fd);
			close(t->comm_fd);
		}
	}
	fprintf(stderr, "]}\n");
	free(poll.threads);
	if (poll.task) {
		closedir(poll.task);
	}
	return code;
}
