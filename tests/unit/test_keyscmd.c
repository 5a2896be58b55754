/* Unit tests for AuthorizedKeysCommand: the command line split and
 * expanded as sshd does it (policy/keyscmd.c), and the run
 * (handler/monitor/keyscmd.c): as its user, bounded in time and output,
 * refused when unsafe, nothing of it left behind.  The runs need root
 * (they drop to nobody) and are skipped otherwise. */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "handler/monitor/keyscmd.h"
#include "policy/keyscmd.h"

/* ---------------------------------------------------------------- */
/* The command line */

static const struct keyscmd_tokens tokens = {
	.conn = "192.0.2.1 22 198.51.100.7 50000", .user = "alice",
	.uid = "1001", .home = "/home/alice", .type = "ssh-ed25519",
	.fingerprint = "SHA256:abc", .key = "AAAAC3Nz",
};

/* cmd's words, joined by '|', or "error: why". */
static const char *
words(const char *cmd, const struct keyscmd_tokens *t)
{
	static char out[4096];
	char *argv[KEYSCMD_MAX_ARGS + 2], buf[4096];
	const char *why = NULL;
	int n = keyscmd_argv(cmd, t, argv, buf, sizeof(buf), &why);
	size_t o = 0;

	if (n < 0) {
		snprintf(out, sizeof(out), "error: %s", why ? why : strerror(-n));
		return out;
	}
	out[0] = '\0';
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", i ? "|" : "",
		    argv[i]);
	assert_null(argv[n]);
	return out;
}

static void
test_split_and_expand(void **state)
{
	(void)state;
	assert_string_equal(words("/k %u %U %h %t %f %k", &tokens),
	    "/k|alice|1001|/home/alice|ssh-ed25519|SHA256:abc|AAAAC3Nz");
	/* %C as sshd builds it; %D (no routing domain) empty; %% one. */
	assert_string_equal(words("/k %C x%Dy 100%%", &tokens),
	    "/k|192.0.2.1 22 198.51.100.7 50000|xy|100%");
	/* Quotes and escapes as sshd's argv_split; expansion after the
	 * split, never splitting a value. */
	assert_string_equal(words("/k  \"a b\" 'c \"d' e\\ f \\\\ \\q \t%h", &tokens),
	    "/k|a b|c \"d|e f|\\|\\q|/home/alice");
	assert_string_equal(words("\"/opt/my keys\" '%u x'", &tokens),
	    "/opt/my keys|alice x");
	/* The program's own word is never expanded. */
	assert_string_equal(words("/k%u/bin %u", &tokens), "/k%u/bin|alice");
	/* No argument: the user's name, as sshd. */
	assert_string_equal(words("/usr/lib/keys", &tokens), "/usr/lib/keys|alice");
	assert_string_equal(words("/usr/lib/keys", NULL), "/usr/lib/keys");
	/* Checked alone, the tokens count as empty. */
	assert_string_equal(words("/k %u%f", NULL), "/k|");
}

static void
test_refused(void **state)
{
	char many[1024] = "/k";

	(void)state;
	assert_string_equal(words("keys %u", &tokens),
	    "error: the command must be an absolute path");
	assert_string_equal(words("'/k", NULL), "error: a quote is not closed");
	assert_string_equal(words("/k \"%u", NULL), "error: a quote is not closed");
	assert_string_equal(words("", NULL), "error: no command");
	assert_string_equal(words(" \t ", NULL), "error: no command");
	assert_string_equal(words("/k %x", NULL), "error: unknown token: "
	    "the command expands %%, %C, %D, %f, %h, %i, %k, %s, %t, %U and %u");
	assert_string_equal(words("/k 5%", NULL), "error: unknown token: "
	    "the command expands %%, %C, %D, %f, %h, %i, %k, %s, %t, %U and %u");
	for (int i = 0; i < KEYSCMD_MAX_ARGS; i++)
		strcat(many, " a");
	assert_string_equal(words(many, NULL), "error: too many arguments");
}

/* A value too long for the buffer: -E2BIG, never a cut word. */
static void
test_too_long(void **state)
{
	struct keyscmd_tokens t = tokens;
	char *argv[KEYSCMD_MAX_ARGS + 2], buf[64], big[200];
	const char *why = NULL;

	(void)state;
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	t.key = big;
	assert_int_equal(keyscmd_argv("/k %k", &t, argv, buf, sizeof(buf), &why),
	    -E2BIG);
	/* Exactly full still fits. */
	assert_int_equal(keyscmd_argv("/k abc", &t, argv, buf, 7, &why), 2);
	assert_int_equal(keyscmd_argv("/k abcd", &t, argv, buf, 7, &why), -E2BIG);
}

/* ---------------------------------------------------------------- */
/* The run */

/* Root's own directory for the scripts: sshd's rule refuses anything in
 * a directory others may write, such as /tmp. */
static char dir[] = "/run/test_keyscmd.XXXXXX";
static struct user_info nobody;

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	(void)state;
	if (geteuid() != 0)
		return 0;
	if (mkdtemp(dir) == NULL || chmod(dir, 0755) < 0)
		return -1;
	return user_lookup("nobody", &nobody) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	if (geteuid() != 0)
		return 0;
	user_info_free(&nobody);
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* dir/name, a script with body, mode mode. */
static const char *
script(const char *name, const char *body, mode_t mode)
{
	static char path[4][256];
	static unsigned slot;
	char *p = path[slot++ % 4];
	FILE *f;

	snprintf(p, 256, "%s/%s", dir, name);
	f = fopen(p, "we");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(p, mode), 0);
	return p;
}

static int
run(const char *path, const char *arg, int timeout_ms, size_t max, char **out,
    char *why)
{
	char *argv[] = { (char *)path, (char *)arg, NULL };
	size_t len = 0;

	*out = NULL;
	return keyscmd_run(argv, &nobody, timeout_ms, max, out, &len, why, 256);
}

static uint64_t
ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Its output, as nobody, with no descriptor of ours and the minimal
 * environment; its arguments as given. */
static void
test_run_output(void **state)
{
	char *out, why[256], want[512];
	const char *p;

	(void)state;
	if (geteuid() != 0)
		skip();
	p = script("ok", "echo \"uid=$(id -u) arg=$1 fds=$(ls /proc/self/fd | "
	    "wc -l)\"; env | sort | tr '\\n' ' '", 0755);
	assert_int_equal(run(p, "alice", 5000, 4096, &out, why), 0);
	/* ls's own fds: 0, 1, 2 and the one it reads the directory with. */
	snprintf(want, sizeof(want), "uid=%u arg=alice fds=4\nHOME=%s "
	    "LOGNAME=nobody PATH=/usr/bin:/bin:/usr/sbin:/sbin PWD=/ "
	    "USER=nobody ", (unsigned)nobody.uid, nobody.dir);
	if (getenv("LANG") == NULL)
		assert_string_equal(out, want);
	else
		assert_non_null(strstr(out, "LOGNAME=nobody"));
	free(out);
	/* Empty output is fine: no key. */
	p = script("quiet", "exit 0", 0755);
	assert_int_equal(run(p, "x", 5000, 4096, &out, why), 0);
	assert_string_equal(out, "");
	free(out);
}

static void
test_run_failures(void **state)
{
	char *out, why[256];
	const char *p;
	uint64_t t0;

	(void)state;
	if (geteuid() != 0)
		skip();
	/* A nonzero status gives nothing, whatever it printed. */
	p = script("fail", "echo key; exit 3", 0755);
	assert_int_equal(run(p, "x", 5000, 4096, &out, why), -ECHILD);
	assert_null(out);
	assert_string_equal(why, "exited with status 3");
	/* Too much output: killed at the bound. */
	p = script("loud", "while :; do echo aaaaaaaaaaaaaaaaaaaa; done", 0755);
	assert_int_equal(run(p, "x", 5000, 4096, &out, why), -EFBIG);
	assert_string_equal(why, "more than 4096 bytes of output, killed");
	/* Hanging: killed at the time limit, its children with it. */
	p = script("hang", "sleep 1237 & sleep 1237", 0755);
	t0 = ms();
	assert_int_equal(run(p, "x", 500, 4096, &out, why), -ETIMEDOUT);
	/* Half a second, and what a loaded sanitizer build adds. */
	assert_true(ms() - t0 < 5000);
	assert_string_equal(why, "no answer within 0.5 s, killed");
	/* Output closed but still running: the time limit too, and a
	 * background child holding nothing of ours dies with it. */
	p = script("linger", "exec >/dev/null; sleep 1237", 0755);
	assert_int_equal(run(p, "x", 300, 4096, &out, why), -ETIMEDOUT);
	assert_string_equal(why, "did not exit within 0.3 s, killed");
	{
		/* Nothing of nobody's "sleep 1237" left (a number of
		 * this test's own: the integration suite has its own). */
		FILE *f = popen("pgrep -u nobody -f 'sleep 1237'", "r");
		char line[64];

		assert_non_null(f);
		assert_null(fgets(line, sizeof(line), f));
		pclose(f);
	}
	/* Not executable by its user. */
	p = script("private", "echo x", 0700);
	assert_int_equal(run(p, "x", 5000, 4096, &out, why), -ECHILD);
	assert_string_equal(why, "exited with status 127 (could not be executed)");
}

/* sshd's rule: root's, and writable by nobody else, up to /. */
static void
test_run_unsafe(void **state)
{
	char *out, why[256], want[512], sub[300], tmpdir[] = "/tmp/test_keyscmd.XXXXXX";
	const char *p;

	(void)state;
	if (geteuid() != 0)
		skip();
	p = script("gw", "echo x", 0775);
	assert_int_equal(run(p, "x", 5000, 4096, &out, why), -EPERM);
	snprintf(want, sizeof(want), "bad ownership or modes for file %s", p);
	assert_string_equal(why, want);
	/* Not root's. */
	p = script("theirs", "echo x", 0755);
	assert_int_equal(chown(p, nobody.uid, nobody.gid), 0);
	assert_int_equal(run(p, "x", 5000, 4096, &out, why), -EPERM);
	/* In a directory others may write. */
	snprintf(sub, sizeof(sub), "%s/open", dir);
	assert_int_equal(mkdir(sub, 0777), 0);
	assert_int_equal(chmod(sub, 0777), 0);
	p = script("open/k", "echo x", 0755);
	assert_int_equal(run(p, "x", 5000, 4096, &out, why), -EPERM);
	snprintf(want, sizeof(want), "bad ownership or modes for directory %s", sub);
	assert_string_equal(why, want);
	/* /tmp itself is such a directory. */
	assert_non_null(mkdtemp(tmpdir));
	assert_int_equal(chmod(tmpdir, 0755), 0);
	snprintf(sub, sizeof(sub), "%s/k", tmpdir);
	{
		FILE *f = fopen(sub, "we");

		assert_non_null(f);
		fputs("#!/bin/sh\necho x\n", f);
		fclose(f);
		chmod(sub, 0755);
	}
	assert_int_equal(run(sub, "x", 5000, 4096, &out, why), -EPERM);
	assert_string_equal(why, "bad ownership or modes for directory /tmp");
	unlink(sub);
	rmdir(tmpdir);
	/* Missing. */
	snprintf(sub, sizeof(sub), "%s/absent", dir);
	assert_int_equal(run(sub, "x", 5000, 4096, &out, why), -ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_and_expand),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_run_output),
		cmocka_unit_test(test_run_failures),
		cmocka_unit_test(test_run_unsafe),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
