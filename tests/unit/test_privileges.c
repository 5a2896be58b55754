/* Issue 17: privilege inside sessions as a policy.  The drop for a session
 * whose policy allows setuid programs (NoNewPrivileges no), the filter
 * loaded as root without no_new_privs, and a root process that limits
 * its capabilities but keeps the bounding set for them.  Run as root;
 * each case in a child of its own. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/swap.h>
#include <sys/wait.h>

#include "policy/config.h"
#include "sandbox/sandbox.h"

#define TEST_UID 61244
#define TEST_GID 61245

/* The value of one /proc/self/status line, or "" if absent. */
static const char *
status(const char *key)
{
	static char val[256];
	char line[512];
	size_t kl = strlen(key);
	FILE *f = fopen("/proc/self/status", "re");

	val[0] = '\0';
	if (f == NULL)
		return val;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			const char *v = line + kl + 1;

			while (*v == '\t' || *v == ' ')
				v++;
			snprintf(val, sizeof(val), "%.*s", (int)strcspn(v, "\n"), v);
			break;
		}
	}
	fclose(f);
	return val;
}

#define CHECK(cond, why) do { if (!(cond)) { \
	fprintf(stderr, "%s (%s)\n", why, strerror(errno)); _exit(1); } } while (0)
#define CHECK_STATUS(key, want) do { const char *v_ = status(key); \
	if (strcmp(v_, want) != 0) { \
		fprintf(stderr, "%s is '%s', want '%s'\n", key, v_, want); _exit(1); } \
	} while (0)

static void
run_child(void (*fn)(void))
{
	int st;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		fn();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* The session's process under login with NoNewPrivileges no: the filter
 * as root, then the drop; every set empty but the bounding one. */
static void
child_setuid_ok(void)
{
	struct sandbox_opts o = { .setuid_ok = true };
	char bnd[64];

	snprintf(bnd, sizeof(bnd), "%s", status("CapBnd"));
	CHECK(strcmp(bnd, "0000000000000000") != 0, "the test needs a bounding set");
	CHECK(sandbox_apply_profile(SANDBOX_LOGIN, &o) == 0, "filter as root");
	CHECK_STATUS("Seccomp", "2");
	CHECK_STATUS("NoNewPrivs", "0");
	/* The filter is there: root itself gets EPERM, not ENOENT. */
	CHECK(swapoff("/nonexistent-swap") < 0 && errno == EPERM, "swapoff not denied");
	CHECK(sandbox_drop_to_user_setuid_ok(TEST_UID, TEST_GID, NULL, 0) == 0,
	    "drop under the filter");
	CHECK_STATUS("CapEff", "0000000000000000");
	CHECK_STATUS("CapPrm", "0000000000000000");
	CHECK_STATUS("CapInh", "0000000000000000");
	CHECK_STATUS("CapAmb", "0000000000000000");
	/* What a setuid-root program (sudo) gets: the whole set. */
	CHECK_STATUS("CapBnd", bnd);
	CHECK_STATUS("NoNewPrivs", "0");
	CHECK_STATUS("Uid", "61244\t61244\t61244\t61244");
	CHECK_STATUS("Gid", "61245\t61245\t61245\t61245");
	CHECK(setuid(0) < 0 && errno == EPERM, "setuid(0) worked");
	CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0, "still dumpable");
}

static void
test_drop_setuid_ok(void **state)
{
	(void)state;
	run_child(child_setuid_ok);
}

/* Without CAP_SYS_ADMIN and without no_new_privs the kernel refuses the
 * filter: the session then fails closed (spawn.c), it never runs
 * unfiltered. */
static void
child_setuid_ok_needs_admin(void)
{
	static const unsigned keep[] = { CAP_SETUID, CAP_SETGID };
	struct sandbox_opts o = { .setuid_ok = true };

	CHECK(sandbox_limit_capabilities(keep, 2) == 0, "limit");
	CHECK(sandbox_apply_profile(SANDBOX_LOGIN, &o) == -EACCES, "filter loaded");
	CHECK_STATUS("Seccomp", "0");
	/* Under a unit's NoNewPrivileges=yes it loads (nothing to lose). */
	CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, "nnp");
	CHECK(sandbox_apply_profile(SANDBOX_LOGIN, &o) == 0, "filter under nnp");
	CHECK_STATUS("Seccomp", "2");
}

static void
test_setuid_ok_needs_admin(void **state)
{
	(void)state;
	run_child(child_setuid_ok_needs_admin);
}

/* The monitor before login, or after it for a user whose sessions may
 * run setuid programs: only what it uses, the bounding set whole. */
static void
child_limit(void)
{
	static const unsigned keep[] = { CAP_SETGID, CAP_SETUID, CAP_SETPCAP, CAP_KILL };
	char bnd[64];

	snprintf(bnd, sizeof(bnd), "%s", status("CapBnd"));
	CHECK(sandbox_limit_capabilities((const unsigned[]){ 64 }, 1) == -EINVAL,
	    "capability 64 accepted");
	CHECK(sandbox_limit_capabilities(keep, 4) == 0, "limit");
	/* 5 kill, 6 setgid, 7 setuid, 8 setpcap */
	CHECK_STATUS("CapEff", "00000000000001e0");
	CHECK_STATUS("CapPrm", "00000000000001e0");
	CHECK_STATUS("CapInh", "0000000000000000");
	CHECK_STATUS("CapAmb", "0000000000000000");
	CHECK_STATUS("CapBnd", bnd);
	CHECK_STATUS("NoNewPrivs", "0");
	/* And then cut, as at a login whose user gets no_new_privs. */
	CHECK(sandbox_keep_capabilities(keep, 4) == 0, "keep");
	CHECK_STATUS("CapBnd", "00000000000001e0");
}

static void
test_limit_capabilities(void **state)
{
	(void)state;
	run_child(child_limit);
}

/* The other drops are unchanged: no_new_privs and an empty bounding set
 * (strict, NoNewPrivileges yes, the forwarder, AuthorizedKeysCommand). */
static void
child_strict(void)
{
	CHECK(sandbox_drop_to_user(TEST_UID, TEST_GID, NULL, 0) == 0, "drop");
	CHECK_STATUS("CapBnd", "0000000000000000");
	CHECK_STATUS("NoNewPrivs", "1");
}

static void
test_drop_strict_unchanged(void **state)
{
	(void)state;
	run_child(child_strict);
}

/* The policy side: NoNewPrivileges resolved per connection, and whether
 * any connection may get "no" (then the monitor keeps the bounding set). */
static struct config *
load(const char *text)
{
	char path[] = "/tmp/test_privileges.XXXXXX", err[512];
	struct config *cfg = NULL;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	if (config_load(path, &cfg, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	unlink(path);
	return cfg;
}

static bool
nnp_for(const struct config *cfg, const char *user)
{
	struct match_ctx ctx = { .user = user, .addr = "127.0.0.1" };
	struct settings *s = NULL;
	bool v;

	assert_int_equal(config_resolve(cfg, &ctx, &s), 0);
	v = s->no_new_privileges;
	settings_free(s);
	return v;
}

static void
test_resolution(void **state)
{
	struct config *cfg;

	(void)state;
	/* Unset: the profile's default. */
	cfg = load("Match User carol\n\tSandboxProfile strict\n"
	    "Match User bob\n\tSandboxProfile none\n");
	assert_false(nnp_for(cfg, "alice"));
	assert_true(nnp_for(cfg, "carol"));
	assert_false(nnp_for(cfg, "bob"));
	assert_true(config_may_grant_privileges(cfg));
	config_free(cfg);
	/* Set: it wins over the profile, in either direction. */
	cfg = load("NoNewPrivileges yes\nMatch User carol\n\tSandboxProfile strict\n"
	    "\tNoNewPrivileges no\nMatch User bob\n\tSandboxProfile none\n");
	assert_true(nnp_for(cfg, "alice"));
	assert_false(nnp_for(cfg, "carol"));
	assert_true(nnp_for(cfg, "bob"));
	assert_true(config_may_grant_privileges(cfg));
	config_free(cfg);
}

static void
test_may_grant(void **state)
{
	static const struct {
		const char *text;
		bool may;
	} cases[] = {
		{ "", true },
		{ "NoNewPrivileges no\n", true },
		{ "NoNewPrivileges yes\n", false },
		{ "NoNewPrivileges yes\nMatch User bob\n\tSandboxProfile none\n", false },
		{ "NoNewPrivileges yes\nMatch User bob\n\tNoNewPrivileges no\n", true },
		{ "SandboxProfile strict\n", false },
		{ "SandboxProfile strict\nMatch Group admins\n\tSandboxProfile none\n", true },
		{ "SandboxProfile strict\nMatch Group admins\n\tSandboxProfile none\n"
		    "\tNoNewPrivileges yes\n", false },
		{ "SandboxProfile strict\nMatch Address 10.0.0.0/8\n\tNoNewPrivileges no\n", true },
		{ "SandboxProfile login\nNoNewPrivileges yes\n", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *cfg = load(cases[i].text);

		if (config_may_grant_privileges(cfg) != cases[i].may)
			fail_msg("case %zu (%s): want %d", i, cases[i].text, cases[i].may);
		config_free(cfg);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop_setuid_ok),
		cmocka_unit_test(test_setuid_ok_needs_admin),
		cmocka_unit_test(test_limit_capabilities),
		cmocka_unit_test(test_drop_strict_unchanged),
		cmocka_unit_test(test_resolution),
		cmocka_unit_test(test_may_grant),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_privileges: must run as root\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
