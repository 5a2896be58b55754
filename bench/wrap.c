/* bench-wrap: run one per-connection server and record what it cost.
 *
 * Usage: bench-wrap [-t] OUTDIR PROGRAM [ARGS...]
 *
 * systemd-socket-activate starts this in place of the server.  It becomes a
 * child subreaper, so every process of the connection (privsep children,
 * the user's shell, daemonised leftovers) is reaped here and counted by
 * getrusage(RUSAGE_CHILDREN); nothing escapes to PID 1 uncounted.  The
 * server's stderr goes to OUTDIR/PID.err (PID = the server's pid) so phase
 * logs of concurrent connections never interleave; the totals go to
 * OUTDIR/PID.rus, written atomically (rename) once the last process is gone.
 *
 * -t: every stderr line is prefixed "@USEC " (CLOCK_MONOTONIC when it was
 * read, as start_us is), by a helper process reading a pipe.  The phase
 * lines of sshand are relative to its main(); a stamp on one of them places
 * main() on the wrapper's clock, so fork + exec + dynamic linking, which no
 * log line can see, becomes measurable.  The helper's CPU is counted, so
 * -t is only for the instance whose phases are read, never the measured one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long
now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Copy the pipe to out, each line prefixed with the time it was read. */
static void
stamper(int in, int out)
{
	char buf[8192], line[8192 + 32];
	size_t have = 0;
	ssize_t n;
	int bol = 1;

	for (;;) {
		n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		long long t = now_usec();
		for (ssize_t i = 0; i < n; i++) {
			if (bol) {
				have += (size_t)snprintf(line + have,
				    sizeof(line) - have, "@%lld ", t);
				bol = 0;
			}
			line[have++] = buf[i];
			if (buf[i] == '\n' || have >= sizeof(line) - 32) {
				if (write(out, line, have) < 0)
					_exit(1);
				have = 0;
				bol = buf[i] == '\n';
			}
		}
	}
	if (have > 0 && write(out, line, have) < 0)
		_exit(1);
	_exit(0);
}

static long long
tv_usec(const struct timeval *tv)
{
	return (long long)tv->tv_sec * 1000000 + tv->tv_usec;
}

int
main(int argc, char **argv)
{
	char path[4096], tmp[4200], buf[64];
	struct rusage ru;
	long long t0, t1;
	int status = 0, st, fd, nfds = 0, i, stamp = 0, pfd[2] = { -1, -1 };
	pid_t pid, w;
	const char *lfds;
	FILE *f;

	if (argc > 1 && strcmp(argv[1], "-t") == 0) {
		stamp = 1;
		argv++;
		argc--;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: bench-wrap [-t] OUTDIR PROGRAM [ARGS...]\n");
		return 2;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
		return 111;
	if (stamp && pipe2(pfd, O_CLOEXEC) != 0)
		return 111;
	t0 = now_usec();
	pid = fork();
	if (pid < 0)
		return 111;
	if (pid == 0) {
		/* sd_listen_fds() insists the fds were meant for this pid. */
		if (getenv("LISTEN_PID") != NULL) {
			snprintf(buf, sizeof(buf), "%ld", (long)getpid());
			setenv("LISTEN_PID", buf, 1);
		}
		snprintf(path, sizeof(path), "%s/%ld.err", argv[1],
		    (long)getpid());
		fd = stamp ? pfd[1] :
		    open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
		execvp(argv[2], argv + 2);
		_exit(127);
	}

	/* Drop our copies of the connection so the peer sees EOF when the
	 * server closes, not when we exit. */
	if ((lfds = getenv("LISTEN_FDS")) != NULL)
		nfds = atoi(lfds);
	for (i = 0; i < nfds && i < 64; i++)
		close(3 + i);
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		if (fd > 2)
			close(fd);
	}
	if (stamp) {
		/* Forked only now, so it holds none of the connection's fds. */
		snprintf(path, sizeof(path), "%s/%ld.err", argv[1], (long)pid);
		if (fork() == 0) {
			close(pfd[1]);
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
			    O_CLOEXEC, 0600);
			stamper(pfd[0], fd);
		}
		close(pfd[0]);
		close(pfd[1]);
	}

	for (;;) {
		w = wait(&st);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (w == pid)
			status = st;
	}
	t1 = now_usec();
	if (getrusage(RUSAGE_CHILDREN, &ru) != 0)
		return 111;

	snprintf(path, sizeof(path), "%s/%ld.rus", argv[1], (long)pid);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL)
		return 111;
	fprintf(f, "{\"pid\": %ld, \"start_us\": %lld, \"wall_us\": %lld, "
	    "\"utime_us\": %lld, \"stime_us\": %lld, \"maxrss_kb\": %ld, "
	    "\"status\": %d}\n", (long)pid, t0, t1 - t0, tv_usec(&ru.ru_utime),
	    tv_usec(&ru.ru_stime), ru.ru_maxrss,
	    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		return 111;
	return 0;
}
