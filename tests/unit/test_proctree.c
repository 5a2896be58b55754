/* The process tree walk the monitor ends sessions with: every descendant
 * is found, daemons that left with setsid() included, the skipped subtree
 * is left alone, and a children list read in pieces is never misread. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <linux/capability.h>

#include "handler/monitor/proctree.h"
#include "sandbox/sandbox.h"

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void
test_read_pids_in_pieces(void **state)
{
	char path[] = "/tmp/proctree-XXXXXX", *text;
	pid_t q[1000];
	size_t n = 0, len = 0;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	/* 600 seven-digit pids: 4800 bytes, so reads of 1 KiB cut some. */
	text = malloc(600 * 8 + 1);
	assert_non_null(text);
	for (int i = 0; i < 600; i++)
		len += (size_t)sprintf(text + len, "%d ", 1000000 + i * 7);
	write_file(path, text);
	proctree_read_pids(path, q, &n, 1000);
	assert_int_equal(n, 600);
	for (int i = 0; i < 600; i++)
		assert_int_equal(q[i], 1000000 + i * 7);

	/* The bound holds. */
	n = 0;
	proctree_read_pids(path, q, &n, 10);
	assert_int_equal(n, 10);
	assert_int_equal(q[9], 1000063);

	/* No trailing space; nothing at all; a missing file. */
	write_file(path, "5 6 7");
	n = 0;
	proctree_read_pids(path, q, &n, 1000);
	assert_int_equal(n, 3);
	assert_int_equal(q[2], 7);
	write_file(path, "");
	n = 0;
	proctree_read_pids(path, q, &n, 1000);
	assert_int_equal(n, 0);
	unlink(path);
	proctree_read_pids(path, q, &n, 1000);
	assert_int_equal(n, 0);
	free(text);
}

static void
ready(int fd)
{
	if (write(fd, "x", 1) != 1)
		_exit(1);
}

static void
test_signal_tree(void **state)
{
	int p[2], status;
	pid_t c1, c2, c3, c4 = 0;
	char buf[8];
	size_t got = 0;

	(void)state;
	/* As the monitor: what leaves the tree is reparented to us. */
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	assert_int_equal(pipe(p), 0);
	c1 = fork();
	if (c1 == 0) {
		ready(p[1]);
		pause();
		_exit(0);
	}
	/* A daemon: forks, leaves the session, its parent exits. */
	c2 = fork();
	if (c2 == 0) {
		pid_t g = fork();

		if (g == 0) {
			setsid();
			if (fork() == 0) {
				ready(p[1]);
				pause();
			}
			_exit(0);
		}
		waitpid(g, NULL, 0);
		ready(p[1]);
		pause();
		_exit(0);
	}
	/* The subtree to leave alone (the network child, in the monitor). */
	int q[2];
	assert_int_equal(pipe(q), 0);
	c3 = fork();
	if (c3 == 0) {
		pid_t c = fork();

		if (c == 0) {
			ready(p[1]);
			pause();
			_exit(0);
		}
		if (write(q[1], &c, sizeof(c)) != sizeof(c))
			_exit(1);
		ready(p[1]);
		pause();
		_exit(0);
	}
	assert_int_equal(read(q[0], &c4, sizeof(c4)), sizeof(c4));
	while (got < 5) {
		ssize_t r = read(p[0], buf, sizeof(buf));

		assert_true(r > 0);
		got += (size_t)r;
	}

	/* c1, c2 and the daemon, not c3 nor c4. */
	assert_int_equal(proctree_signal(getpid(), c3, SIGKILL), 3);
	assert_int_equal(waitpid(c1, &status, 0), c1);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_int_equal(waitpid(c2, &status, 0), c2);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	pid_t d = waitpid(-1, &status, 0);	/* the daemon, reparented to us */
	assert_true(d > 0 && d != c3);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_int_equal(kill(c3, 0), 0);
	assert_int_equal(kill(c4, 0), 0);

	/* Nothing left but the skipped subtree; then nothing at all. */
	assert_int_equal(proctree_signal(getpid(), c3, 0), 0);
	assert_int_equal(proctree_signal(getpid(), 0, 0), 2);
	kill(c4, SIGKILL);
	kill(c3, SIGKILL);
	while (waitpid(-1, &status, 0) > 0)
		;
	assert_int_equal(errno, ECHILD);
	assert_int_equal(proctree_signal(getpid(), 0, 0), 0);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

/* The monitor after login, and the guardian under the shipped unit, keep
 * no CAP_KILL: they reach the user's processes (and root's own) with the
 * user's uid as the effective one, and come back to root's.  In a child,
 * since the capabilities go for good. */
#define TEST_UID 61234
#define TEST_GID 61235

static void
test_signal_as_user(void **state)
{
	pid_t helper;
	int status;

	(void)state;
	assert_int_equal(geteuid(), 0);
	helper = fork();
	assert_true(helper >= 0);
	if (helper == 0) {
		static const unsigned keep[] = { CAP_SETUID, CAP_SETGID };
		int p[2];
		pid_t user, own;
		char c;

		if (pipe(p) < 0)
			_exit(2);
		/* A process of the user, one of root's. */
		user = fork();
		if (user == 0) {
			if (setresgid(TEST_GID, TEST_GID, TEST_GID) < 0 ||
			    setresuid(TEST_UID, TEST_UID, TEST_UID) < 0)
				_exit(1);
			(void)!write(p[1], "u", 1);
			pause();
			_exit(0);
		}
		own = fork();
		if (own == 0) {
			pause();
			_exit(0);
		}
		if (read(p[0], &c, 1) != 1 || sandbox_keep_capabilities(keep, 2) < 0)
			_exit(3);
		/* Without CAP_KILL, root cannot; as the user, it can. */
		if (kill(user, 0) == 0 || errno != EPERM)
			_exit(4);
		if (proctree_kill_as(user, 0, TEST_UID, TEST_GID) != 0)
			_exit(5);
		/* The whole tree, the user's and root's own, as the user. */
		if (proctree_signal_as(getpid(), 0, SIGKILL, TEST_UID, TEST_GID) != 2)
			_exit(6);
		if (waitpid(user, &status, 0) != user || !WIFSIGNALED(status) ||
		    waitpid(own, &status, 0) != own || !WIFSIGNALED(status))
			_exit(7);
		/* And back to root's ids (the capabilities kept come back). */
		if (geteuid() != 0 || getegid() != 0 || setresuid(0, 0, 0) < 0)
			_exit(8);
		_exit(0);
	}
	assert_int_equal(waitpid(helper, &status, 0), helper);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_pids_in_pieces),
		cmocka_unit_test(test_signal_tree),
		cmocka_unit_test(test_signal_as_user),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
