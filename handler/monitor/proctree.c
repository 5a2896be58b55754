/* Walking a process tree through /proc/PID/task/TID/children
 * (CONFIG_PROC_CHILDREN, on in Debian's kernels). */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handler/monitor/proctree.h"

#define PROCTREE_MAX 4096

void
proctree_read_pids(const char *path, pid_t *q, size_t *n, size_t max)
{
	char buf[1024];
	size_t have = 0;
	ssize_t len;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;		/* the process is gone */
	while (*n < max && (len = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0) {
		char *cur = buf, *end;

		have += (size_t)len;
		buf[have] = '\0';
		for (;;) {
			long v = strtol(cur, &end, 10);

			/* No digits, or digits up to the end: maybe cut. */
			if (end == cur || *end == '\0' || *n >= max)
				break;
			if (v > 0)
				q[(*n)++] = (pid_t)v;
			cur = end;
		}
		have = strlen(cur);
		memmove(buf, cur, have);
	}
	/* At end of file the rest is whole. */
	if (have > 0 && *n < max) {
		long v;

		buf[have] = '\0';
		v = strtol(buf, NULL, 10);
		if (v > 0)
			q[(*n)++] = (pid_t)v;
	}
	close(fd);
}

/* Appends the children of every thread of pid. */
static void
queue_children(pid_t pid, pid_t *q, size_t *n, size_t max)
{
	char path[320];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL && *n < max) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/children", (int)pid,
		    de->d_name);
		proctree_read_pids(path, q, n, max);
	}
	closedir(d);
}

size_t
proctree_signal(pid_t root, pid_t skip, int sig)
{
	static pid_t q[PROCTREE_MAX];
	size_t head = 0, n = 0, found = 0;

	queue_children(root, q, &n, PROCTREE_MAX);
	while (head < n) {
		pid_t pid = q[head++];

		if (pid == skip)
			continue;
		kill(pid, sig);
		found++;
		queue_children(pid, q, &n, PROCTREE_MAX);
	}
	return found;
}
