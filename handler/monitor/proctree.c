/* Walking a process tree through /proc/PID/task/TID/children
 * (CONFIG_PROC_CHILDREN, on in Debian's kernels), and signalling it as
 * another user. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handler/front/handover.h"
#include "handler/front/log.h"
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

struct ids {
	uid_t euid;
	gid_t egid;
};

/* Effective (and so file system) ids uid and gid, the real and saved ones
 * left at root's.  *old gets what to come back to. */
static int
become(uid_t uid, gid_t gid, struct ids *old)
{
	uid_t r, s;
	gid_t rg, sg;

	if (getresuid(&r, &old->euid, &s) < 0 || getresgid(&rg, &old->egid, &sg) < 0)
		return -errno;
	if (setresgid(-1, gid, -1) < 0)
		return -errno;
	if (setresuid(-1, uid, -1) < 0) {
		int e = -errno;

		if (setresgid(-1, old->egid, -1) < 0)
			goto lost;
		return e;
	}
	return 0;
lost:
	log_error("cannot restore the group id after signalling as %u", (unsigned)uid);
	_exit(EXIT_INTERNAL);
}

/* Back to root's effective ids: the real and saved uid are root's, so this
 * needs no capability (and brings the effective ones back). */
static void
come_back(const struct ids *old)
{
	if (setresuid(-1, old->euid, -1) < 0 || setresgid(-1, old->egid, -1) < 0) {
		/* Cannot get back to a known state: stop here. */
		log_error("cannot restore the ids after signalling another user");
		_exit(EXIT_INTERNAL);
	}
}

size_t
proctree_signal_as(pid_t root, pid_t skip, int sig, uid_t uid, gid_t gid)
{
	struct ids old;
	bool as = become(uid, gid, &old) == 0;
	size_t n = proctree_signal(root, skip, sig);

	if (as)
		come_back(&old);
	return n;
}

int
proctree_kill_as(pid_t pid, int sig, uid_t uid, gid_t gid)
{
	struct ids old;
	bool as = become(uid, gid, &old) == 0;
	int r = kill(pid, sig) < 0 ? -errno : 0;

	if (as)
		come_back(&old);
	return r;
}
