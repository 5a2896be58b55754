/* Unit tests for sandbox/: each profile is applied in a forked child which
 * runs the syscall probe (tests/probe/probe.c, the program the integration
 * tests run inside sessions) and sends the results back; the parent asserts
 * the exact errno of every call, as systemd's test-seccomp does.  The
 * privilege drop and the network child are checked in forked children by
 * reading their state back from /proc.  Must run as root. */
#define _GNU_SOURCE
#define PROBE_NO_MAIN
#include "tests/probe/probe.c"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cap-ng.h>
#include <grp.h>
#include <poll.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "sandbox/rules/rules.h"
#include "sandbox/sandbox.h"

/* Ids no real account uses on a test host. */
#define TEST_UID 61234
#define TEST_GID 61235

#define RESULT_LEN 32

/* What each profile must answer, for root; "=" means "what the kernel
 * answers without a filter", since allowed calls are still refused by the
 * kernel for their bad arguments (and that answer depends on its config). */
struct expect {
	const char *name;
	const char *login;
	const char *strict;
};

static const struct expect expects[] = {
	{ "mount", "EPERM", "EPERM" },
	{ "umount2", "EPERM", "EPERM" },
	{ "fsopen", "EPERM", "EPERM" },
	{ "fsconfig", "EPERM", "EPERM" },
	{ "fsmount", "EPERM", "EPERM" },
	{ "fspick", "EPERM", "EPERM" },
	{ "move_mount", "EPERM", "EPERM" },
	{ "open_tree", "EPERM", "EPERM" },
	{ "mount_setattr", "EPERM", "EPERM" },
	{ "pivot_root", "EPERM", "EPERM" },
	{ "chroot", "EPERM", "EPERM" },
	{ "setns", "EPERM", "EPERM" },
	{ "unshare_newuser", "EPERM", "EPERM" },
	{ "unshare_newns", "EPERM", "EPERM" },
	{ "unshare_newnet", "EPERM", "EPERM" },
	{ "unshare_files", "=", "=" },
	{ "clone_newuser", "EPERM", "EPERM" },
	{ "clone_newuser_high", "EPERM", "EPERM" },
	{ "clone_newnet", "EPERM", "EPERM" },
	{ "clone_fork", "ok", "ok" },
	{ "clone3", "ENOSYS", "ENOSYS" },
	{ "init_module", "EPERM", "EPERM" },
	{ "finit_module", "EPERM", "EPERM" },
	{ "delete_module", "EPERM", "EPERM" },
	{ "kexec_load", "EPERM", "EPERM" },
	{ "kexec_file_load", "EPERM", "EPERM" },
	{ "reboot", "EPERM", "EPERM" },
	{ "swapon", "EPERM", "EPERM" },
	{ "swapoff", "EPERM", "EPERM" },
	{ "settimeofday", "EPERM", "EPERM" },
	{ "clock_settime", "EPERM", "EPERM" },
	{ "clock_adjtime", "EPERM", "EPERM" },
	{ "adjtimex", "EPERM", "EPERM" },
	{ "iopl", "EPERM", "EPERM" },
	{ "ioperm", "EPERM", "EPERM" },
	{ "bpf", "EPERM", "EPERM" },
	{ "perf_event_open", "EPERM", "EPERM" },
	{ "userfaultfd", "EPERM", "EPERM" },
	{ "io_uring_setup", "EPERM", "EPERM" },
	{ "io_uring_enter", "EPERM", "EPERM" },
	{ "io_uring_register", "EPERM", "EPERM" },
	{ "add_key", "EPERM", "EPERM" },
	{ "request_key", "EPERM", "EPERM" },
	{ "keyctl", "EPERM", "EPERM" },
	{ "acct", "EPERM", "EPERM" },
	{ "quotactl", "EPERM", "EPERM" },
	{ "quotactl_fd", "EPERM", "EPERM" },
	{ "syslog", "EPERM", "EPERM" },
	{ "open_by_handle_at", "EPERM", "EPERM" },
	{ "name_to_handle_at", "EPERM", "EPERM" },
	{ "lookup_dcookie", "EPERM", "EPERM" },
	{ "nfsservctl", "EPERM", "EPERM" },
	{ "vhangup", "EPERM", "EPERM" },
	{ "uselib", "EPERM", "EPERM" },
	{ "sysfs", "EPERM", "EPERM" },
	{ "_sysctl", "EPERM", "EPERM" },
	{ "ustat", "EPERM", "EPERM" },
	{ "personality_query", "ok", "ok" },
	{ "personality_linux", "ok", "ok" },
	{ "personality_linux32", "EPERM", "EPERM" },
	{ "personality_linux32_high", "EPERM", "EPERM" },
	{ "personality_norandom", "EPERM", "EPERM" },
	{ "ioctl_tiocsti", "EPERM", "EPERM" },
	{ "ioctl_tiocsti_high", "EPERM", "EPERM" },
	{ "ioctl_tioclinux", "EPERM", "EPERM" },
	{ "ioctl_tioclinux_high", "EPERM", "EPERM" },
	{ "ioctl_fionread", "EBADF", "EBADF" },
	{ "socket_unix", "ok", "ok" },
	{ "socket_inet", "ok", "EAFNOSUPPORT" },
	{ "socket_inet_high", "ok", "EAFNOSUPPORT" },
	{ "socket_inet6", "=", "EAFNOSUPPORT" },
	{ "socket_netlink", "ok", "EAFNOSUPPORT" },
	{ "socket_packet", "EAFNOSUPPORT", "EAFNOSUPPORT" },
	{ "socket_vsock", "EAFNOSUPPORT", "EAFNOSUPPORT" },
	{ "socket_vsock_high", "EAFNOSUPPORT", "EAFNOSUPPORT" },
	{ "socket_family_99", "EAFNOSUPPORT", "EAFNOSUPPORT" },
	{ "socketpair_unix", "ok", "ok" },
	{ "socketpair_inet", "EOPNOTSUPP", "EAFNOSUPPORT" },
	{ "ptrace_traceme", "ok", "EPERM" },
	{ "process_vm_readv", "ok", "EPERM" },
	{ "process_vm_writev", "ok", "EPERM" },
	{ "pidfd_getfd", "EBADF", "EPERM" },
	{ "memfd_secret", "=", "EPERM" },
	{ "int80_getpid", "killed:SIGSYS", "killed:SIGSYS" },
	{ "x32_getpid", "killed:SIGSYS", "killed:SIGSYS" },
	{ "setuid0", "ok", "ok" },
};

/* int $0x80 reaches seccomp only where the kernel has the i386 entry point;
 * a kernel built or booted without it (ia32_emulation=0) kills the caller
 * with SIGSEGV before any filter runs, and then must do so under every
 * filter too.  Elsewhere the filter's answer (SIGSYS) is required. */
static const char *
abi_want(const char *name, const char *want, const char *unfiltered)
{
	if (strcmp(name, "int80_getpid") == 0 &&
	    strcmp(unfiltered, "killed:SIGSEGV") == 0)
		return unfiltered;
	return want;
}

static const struct expect *
find_expect(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(expects) / sizeof(expects[0]); i++)
		if (strcmp(expects[i].name, name) == 0)
			return &expects[i];
	return NULL;
}

/* Reads exactly len bytes (or fewer at EOF). */
static size_t
read_all(int fd, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/* Applies profile p in a forked child (after dropping to TEST_UID when
 * as_user), runs every probe there and returns the results. */
static void
run_probes(enum sandbox_profile p, const struct sandbox_opts *o, bool as_user,
    char results[PROBE_COUNT][RESULT_LEN])
{
	int fds[2], st;
	pid_t pid;

	memset(results, 0, PROBE_COUNT * RESULT_LEN);
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		static char out[PROBE_COUNT][RESULT_LEN];
		size_t i;

		close(fds[0]);
		probe_default_signals();
		if (as_user && sandbox_drop_to_user(TEST_UID, TEST_GID, NULL,
		    0) < 0)
			_exit(2);
		if (sandbox_apply_profile(p, o) < 0)
			_exit(3);
		for (i = 0; i < PROBE_COUNT; i++)
			probe_run(&probes[i], out[i], RESULT_LEN);
		if (write(fds[1], out, sizeof(out)) != (ssize_t)sizeof(out))
			_exit(4);
		_exit(0);
	}
	close(fds[1]);
	assert_int_equal(read_all(fds[0], results, PROBE_COUNT * RESULT_LEN),
	    PROBE_COUNT * RESULT_LEN);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void
check_profile(enum sandbox_profile p, const struct sandbox_opts *o,
    bool keyrings_allowed)
{
	static char base[PROBE_COUNT][RESULT_LEN], got[PROBE_COUNT][RESULT_LEN];
	size_t i;
	int bad = 0;

	run_probes(SANDBOX_NONE, NULL, false, base);
	run_probes(p, o, false, got);
	for (i = 0; i < PROBE_COUNT; i++) {
		const struct expect *e = find_expect(probes[i].name);
		const char *want;

		if (e == NULL) {
			print_error("probe %s has no expectation\n",
			    probes[i].name);
			bad++;
			continue;
		}
		want = p == SANDBOX_STRICT ? e->strict : e->login;
		if (keyrings_allowed && (strcmp(e->name, "add_key") == 0 ||
		    strcmp(e->name, "request_key") == 0 ||
		    strcmp(e->name, "keyctl") == 0))
			want = "=";
		if (strcmp(want, "=") == 0)
			want = base[i];
		want = abi_want(e->name, want, base[i]);
		if (strcmp(got[i], want) != 0) {
			print_error("%s %s: got %s, want %s (unfiltered: %s)\n",
			    sandbox_profile_name(p), probes[i].name, got[i],
			    want, base[i]);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void
test_profile_login(void **state)
{
	(void)state;
	check_profile(SANDBOX_LOGIN, NULL, false);
}

static void
test_profile_strict(void **state)
{
	(void)state;
	check_profile(SANDBOX_STRICT, NULL, false);
}

static void
test_profile_keyrings(void **state)
{
	const struct sandbox_opts o = { .allow_keyrings = true };

	(void)state;
	check_profile(SANDBOX_LOGIN, &o, true);
	check_profile(SANDBOX_STRICT, &o, true);
}

/* The denied calls must be denied for the unprivileged user too (the
 * filter is loaded after the drop in the real server). */
static void
test_profile_as_user(void **state)
{
	static char base[PROBE_COUNT][RESULT_LEN], got[PROBE_COUNT][RESULT_LEN];
	size_t i;

	(void)state;
	run_probes(SANDBOX_NONE, NULL, true, base);
	run_probes(SANDBOX_STRICT, NULL, true, got);
	for (i = 0; i < PROBE_COUNT; i++) {
		const struct expect *e = find_expect(probes[i].name);

		assert_non_null(e);
		if (strcmp(probes[i].name, "setuid0") == 0)
			assert_string_equal(got[i], "EPERM");
		else if (strcmp(e->strict, "=") != 0 &&
		    strcmp(e->strict, "ok") != 0 &&
		    strcmp(e->strict, "EBADF") != 0)
			assert_string_equal(got[i],
			    abi_want(e->name, e->strict, base[i]));
	}
}

/* Status lines of the calling process, e.g. "CapEff" -> "0000...". */
static int
status_field(const char *key, char *out, size_t len)
{
	char line[512];
	size_t klen = strlen(key);
	FILE *f = fopen("/proc/self/status", "re");
	int r = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *v;

		if (strncmp(line, key, klen) != 0 || line[klen] != ':')
			continue;
		v = line + klen + 1;
		v += strspn(v, " \t");
		v[strcspn(v, "\n")] = '\0';
		/* "Groups:\t1 2 3 " ends in a space. */
		while (*v != '\0' && v[strlen(v) - 1] == ' ')
			v[strlen(v) - 1] = '\0';
		snprintf(out, len, "%s", v);
		r = 0;
		break;
	}
	fclose(f);
	return r;
}

/* Runs fn in a forked child; the child reports failure as a message on
 * a pipe, which the parent prints and fails on. */
typedef const char *(*child_fn)(void *arg);

static int
in_child(child_fn fn, void *arg, int *ret_status)
{
	char msg[256];
	int fds[2], st;
	size_t n;
	pid_t pid;

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const char *m;

		close(fds[0]);
		probe_default_signals();
		m = fn(arg);
		if (m != NULL && write(fds[1], m, strlen(m)) < 0)
			_exit(3);
		_exit(m == NULL ? 0 : 1);
	}
	close(fds[1]);
	n = read_all(fds[0], msg, sizeof(msg) - 1);
	msg[n] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (n > 0)
		print_error("child: %s\n", msg);
	*ret_status = st;
	return n > 0 ? -1 : 0;
}

static const char *
expect_status(const char *key, const char *want)
{
	static char buf[300];
	char v[256];

	if (status_field(key, v, sizeof(v)) < 0)
		return "no /proc/self/status";
	if (strcmp(v, want) != 0) {
		snprintf(buf, sizeof(buf), "%s is '%s', want '%s'", key, v,
		    want);
		return buf;
	}
	return NULL;
}

static const char *
child_drop(void *arg)
{
	static const gid_t groups[] = { 61240, 61236, 61238 };
	static const char *const zero[] = {
		"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
	};
	const char *m;
	size_t i;
	int r;

	(void)arg;
	/* A capability in the ambient and inheritable sets first, so that
	 * their clearing is tested, not assumed. */
	capng_get_caps_process();
	capng_update(CAPNG_ADD, CAPNG_INHERITABLE, CAP_NET_BIND_SERVICE);
	if (capng_apply(CAPNG_SELECT_CAPS) < 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE,
	    0, 0) < 0)
		return "could not raise an ambient capability";
	if (expect_status("CapAmb", "0000000000000000") == NULL)
		return "ambient set still empty";

	r = sandbox_drop_to_user(TEST_UID, TEST_GID, groups, 3);
	if (r < 0)
		return strerror(-r);
	for (i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		if ((m = expect_status(zero[i], "0000000000000000")) != NULL)
			return m;
	if ((m = expect_status("NoNewPrivs", "1")) != NULL ||
	    (m = expect_status("Seccomp", "0")) != NULL ||
	    (m = expect_status("Uid", "61234\t61234\t61234\t61234")) != NULL ||
	    (m = expect_status("Gid", "61235\t61235\t61235\t61235")) != NULL ||
	    (m = expect_status("Groups", "61236 61238 61240")) != NULL)
		return m;
	if (setuid(0) == 0 || errno != EPERM)
		return "setuid(0) did not fail with EPERM";
	if (setgid(0) == 0 || setgroups(0, NULL) == 0)
		return "setgid(0) or setgroups worked";
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return "still dumpable";
	/* A profile still loads unprivileged, thanks to no_new_privs. */
	if (sandbox_apply_profile(SANDBOX_LOGIN, NULL) < 0)
		return "profile did not load after the drop";
	return expect_status("Seccomp", "2");
}

static void
test_drop_to_user(void **state)
{
	int st;

	(void)state;
	assert_int_equal(in_child(child_drop, NULL, &st), 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static const char *
child_drop_no_groups(void *arg)
{
	const char *m;
	int r;

	(void)arg;
	if (setgroups(1, (gid_t[]){ 4 }) < 0)
		return "setgroups";
	r = sandbox_drop_to_user(TEST_UID, TEST_GID, NULL, 0);
	if (r < 0)
		return strerror(-r);
	if ((m = expect_status("Groups", "")) != NULL)
		return m;
	return NULL;
}

static void
test_drop_no_groups(void **state)
{
	int st;

	(void)state;
	assert_int_equal(in_child(child_drop_no_groups, NULL, &st), 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void
test_drop_invalid(void **state)
{
	(void)state;
	/* Rejected before anything changes: safe in the test process. */
	assert_int_equal(sandbox_drop_to_user((uid_t)-1, 1, NULL, 0), -EINVAL);
	assert_int_equal(sandbox_drop_to_user(1, (gid_t)-1, NULL, 0), -EINVAL);
	assert_int_equal(sandbox_drop_to_user(1, 1, NULL, 2), -EINVAL);
	assert_int_equal(sandbox_drop_to_user(1, 1, NULL, 70000), -E2BIG);
	assert_int_equal(geteuid(), 0);
}

/* The monitor after login: root with a few capabilities, from which each
 * session's process still drops to the user. */
static const char *
child_keep(void *arg)
{
	static const unsigned keep[] = { CAP_SETGID, CAP_SETUID, CAP_SETPCAP, CAP_KILL };
	static const unsigned more[] = { CAP_KILL, CAP_SYS_ADMIN };
	const char *m;

	(void)arg;
	capng_get_caps_process();
	capng_update(CAPNG_ADD, CAPNG_INHERITABLE, CAP_NET_BIND_SERVICE);
	if (capng_apply(CAPNG_SELECT_CAPS) < 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE,
	    0, 0) < 0)
		return "could not raise an ambient capability";
	if (sandbox_keep_capabilities((const unsigned[]){ 64 }, 1) != -EINVAL)
		return "capability 64 accepted";
	if (sandbox_keep_capabilities(keep, 4) < 0)
		return "keep failed";
	/* 5 kill, 6 setgid, 7 setuid, 8 setpcap */
	if ((m = expect_status("CapEff", "00000000000001e0")) != NULL ||
	    (m = expect_status("CapPrm", "00000000000001e0")) != NULL ||
	    (m = expect_status("CapBnd", "00000000000001e0")) != NULL ||
	    (m = expect_status("CapInh", "0000000000000000")) != NULL ||
	    (m = expect_status("CapAmb", "0000000000000000")) != NULL ||
	    (m = expect_status("Uid", "0\t0\t0\t0")) != NULL ||
	    (m = expect_status("NoNewPrivs", "0")) != NULL ||
	    (m = expect_status("Seccomp", "0")) != NULL)
		return m;
	/* What is gone stays gone: asking for it again keeps nothing more
	 * (and no SETPCAP is needed to cut a bounding set already cut). */
	if (sandbox_keep_capabilities(more, 2) < 0)
		return "second keep failed";
	if ((m = expect_status("CapEff", "0000000000000020")) != NULL ||
	    (m = expect_status("CapBnd", "0000000000000020")) != NULL)
		return m;
	return NULL;
}

static void
test_keep_capabilities(void **state)
{
	int st;

	(void)state;
	assert_int_equal(in_child(child_keep, NULL, &st), 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* A session's process drops in a clone() sharing the monitor's memory
 * (handler/monitor/spawn.c), one after the other: nothing the drop keeps
 * in static memory may tie the second to the first. */
static int
clone_drop(void *arg)
{
	(void)arg;
	_exit(sandbox_drop_to_user(TEST_UID, TEST_GID, NULL, 0) == 0 ? 0 : 1);
}

static const char *
child_drop_in_clones(void *arg)
{
	static _Alignas(16) char stack[64 * 1024];
	static const unsigned keep[] = { CAP_SETGID, CAP_SETUID, CAP_SETPCAP };

	(void)arg;
	if (sandbox_keep_capabilities(keep, 3) < 0)
		return "keep failed";
	for (int i = 0; i < 3; i++) {
		int st;
		pid_t pid = clone(clone_drop, stack + sizeof(stack),
		    CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);

		if (pid < 0 || waitpid(pid, &st, 0) != pid)
			return "clone failed";
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			return "a drop in a clone failed";
	}
	return expect_status("Uid", "0\t0\t0\t0");
}

static void
test_drop_in_clones(void **state)
{
	int st;

	(void)state;
	assert_int_equal(in_child(child_drop_in_clones, NULL, &st), 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---- the network child ---- */

struct netchild_case {
	const char *dir;
	int (*forbidden)(void);	/* NULL: only allowed calls */
	bool debug;
};

static int f_openat(void) { return open("/", O_RDONLY | O_CLOEXEC); }
static int f_socket(void) { return socket(AF_UNIX, SOCK_STREAM, 0); }
static int
f_execve(void)
{
	char *argv[] = { (char *)"true", NULL };

	return execve("/bin/true", argv, argv + 1);
}
static int
f_mmap_exec(void)
{
	return mmap(NULL, 4096, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0;
}
static int
f_mprotect_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return mprotect(p, 4096, PROT_READ | PROT_EXEC);
}
static int f_fcntl_dupfd(void) { return fcntl(0, F_DUPFD_CLOEXEC, 10); }
static int f_ioctl_tiocsti(void) { return ioctl(0, TIOCSTI, "x"); }
static int f_kill(void) { return kill(getppid(), 0); }
static int f_uname(void) { return (int)syscall(SYS_uname, NULL); }
#ifdef __x86_64__
static int f_int80(void) { return (int)p_int80_getpid(); }

/* The signal int $0x80 brings with no filter loaded (0: none). */
static int
int80_unfiltered_signal(void)
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		probe_default_signals();
		_exit(f_int80() < 0 ? 1 : 0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}
#endif

static const char *
child_netchild(void *arg)
{
	const struct netchild_case *c = arg;
	struct timespec ts;
	char rnd[16], cwd[64];
	int fds[2], r, fl;
	char *big;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
		return "socketpair";
	r = sandbox_enter_netchild(TEST_UID, TEST_GID, c->dir);
	if (r < 0)
		return strerror(-r);
	if (getcwd(cwd, sizeof(cwd)) == NULL || strcmp(cwd, "/") != 0)
		return "cwd is not /";
	if (access("/etc/passwd", F_OK) == 0)
		return "not chrooted";
	r = sandbox_apply_netchild_filter(c->debug);
	if (r < 0)
		return strerror(-r);

	/* What libssh, OpenSSL and the relay do. */
	if (write(fds[0], "ping", 4) != 4 || read(fds[1], rnd, 4) != 4)
		return "socket I/O";
	if (send(fds[0], "x", 1, 0) != 1 || recv(fds[1], rnd, 1, 0) != 1)
		return "send/recv";
	fl = fcntl(fds[0], F_GETFL);
	if (fl < 0 || fcntl(fds[0], F_SETFL, fl | O_NONBLOCK) < 0)
		return "fcntl";
	if (ioctl(fds[1], FIONREAD, &r) < 0 || ioctl(fds[1], FIONBIO,
	    &(int){ 1 }) < 0)
		return "ioctl";
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return "getrandom";
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0 || getpid() <= 0)
		return "clock/getpid";
	big = malloc(4 << 20);	/* mmap, not brk */
	if (big == NULL)
		return "malloc";
	memset(big, 1, 4 << 20);
	free(big);
	big = malloc(1000);
	free(big);
	if (poll(&(struct pollfd){ .fd = fds[0], .events = POLLOUT }, 1,
	    0) != 1)
		return "poll";
	if (c->forbidden != NULL) {
		c->forbidden();
		if (!c->debug)
			return "forbidden call survived";
	}
	close(fds[0]);
	close(fds[1]);
	return NULL;
}

static char *
make_empty_dir(void)
{
	char *d = strdup("/tmp/sshand-test-empty.XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	assert_int_equal(chmod(d, 0755), 0);
	return d;
}

static void
run_netchild(int (*forbidden)(void), bool debug, int want_signal)
{
	struct netchild_case c = { .forbidden = forbidden, .debug = debug };
	char *dir = make_empty_dir();
	int st, r;

	c.dir = dir;
	r = in_child(child_netchild, &c, &st);
	rmdir(dir);
	free(dir);
	if (want_signal) {
		assert_true(WIFSIGNALED(st));
		assert_int_equal(WTERMSIG(st), want_signal);
	} else {
		assert_int_equal(r, 0);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
}

static void
test_netchild_allowed(void **state)
{
	(void)state;
	run_netchild(NULL, false, 0);
}

static void
test_netchild_forbidden(void **state)
{
	int (*const calls[])(void) = {
		f_openat, f_socket, f_execve, f_mmap_exec, f_mprotect_exec,
		f_fcntl_dupfd, f_ioctl_tiocsti, f_kill, f_uname,
#ifdef __x86_64__
		f_int80,
#endif
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		int want = SIGSYS;

#ifdef __x86_64__
		/* See abi_want(): no i386 entry, no filter to reach. */
		if (calls[i] == f_int80 && int80_unfiltered_signal() == SIGSEGV)
			want = SIGSEGV;
#endif
		run_netchild(calls[i], false, want);
	}
}

/* ---- the key holder ---- */

/* Before its filter: uid 0 kept, every capability set empty, no new
 * privileges, not dumpable (sandbox_drop_capabilities, read back here
 * through /proc, which the filter would not allow). */
static const char *
child_keyholder_caps(void *arg)
{
	const char *why;

	(void)arg;
	if (sandbox_drop_capabilities() < 0)
		return "drop failed";
	if ((why = expect_status("Uid", "0\t0\t0\t0")) != NULL ||
	    (why = expect_status("CapEff", "0000000000000000")) != NULL ||
	    (why = expect_status("CapPrm", "0000000000000000")) != NULL ||
	    (why = expect_status("CapInh", "0000000000000000")) != NULL ||
	    (why = expect_status("CapBnd", "0000000000000000")) != NULL ||
	    (why = expect_status("CapAmb", "0000000000000000")) != NULL ||
	    (why = expect_status("NoNewPrivs", "1")) != NULL)
		return why;
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return "dumpable";
	/* Root's uid without CAP_SETUID: no other id can be taken. */
	if (setuid(TEST_UID) == 0 || setgroups(0, NULL) == 0)
		return "an id could still be changed";
	return NULL;
}

static void
test_keyholder_capabilities(void **state)
{
	int st;

	(void)state;
	assert_int_equal(in_child(child_keyholder_caps, NULL, &st), 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* What the key holder does once confined (socketpair messages, OpenSSL's
 * memory and randomness) works; anything else (arg: one forbidden call)
 * kills it. */
static const char *
child_keyholder(void *arg)
{
	int (*forbidden)(void) = (int (*)(void))arg;
	char buf[16];
	int fds[2];
	char *big;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
		return "socketpair";
	if (sandbox_enter_keyholder() < 0)
		return "enter failed";
	/* privsep/wire.c's calls: sendmsg and recvmsg, never send(). */
	if (sendmsg(fds[0], &(struct msghdr){ .msg_iov = &(struct iovec){
	    (void *)"sign", 4 }, .msg_iovlen = 1 }, MSG_NOSIGNAL) != 4 ||
	    recvmsg(fds[1], &(struct msghdr){ .msg_iov = &(struct iovec){ buf, 4 },
	    .msg_iovlen = 1 }, 0) != 4)
		return "socketpair messages";
	if (getrandom(buf, sizeof(buf), 0) != sizeof(buf) || getpid() <= 0)
		return "getrandom/getpid";
	big = malloc(4 << 20);
	if (big == NULL)
		return "malloc";
	memset(big, 1, 4 << 20);
	free(big);
	if (forbidden != NULL) {
		forbidden();
		return "forbidden call survived";
	}
	return NULL;
}

static void
test_keyholder_filter(void **state)
{
	int (*const calls[])(void) = {
		f_openat, f_socket, f_execve, f_mmap_exec, f_mprotect_exec,
		f_kill, f_uname,
	};
	int st;

	(void)state;
	assert_int_equal(in_child(child_keyholder, NULL, &st), 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		in_child(child_keyholder, (void *)calls[i], &st);
		assert_true(WIFSIGNALED(st));
		assert_int_equal(WTERMSIG(st), SIGSYS);
	}
}

/* debug: the forbidden call is logged and goes through. */
static void
test_netchild_debug(void **state)
{
	(void)state;
	run_netchild(f_uname, true, 0);
}

static const char *
child_enter(void *arg)
{
	const char *dir = arg;
	int r = sandbox_enter_netchild(TEST_UID, TEST_GID, dir);
	static char buf[64];

	snprintf(buf, sizeof(buf), "%d", r);
	return buf;
}

static int
enter_result(const char *dir)
{
	char msg[256];
	int fds[2], st;
	size_t n;
	pid_t pid;

	/* The result travels back as text; in_child() treats any message as
	 * failure, so talk directly. */
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const char *m = child_enter((void *)dir);

		if (write(fds[1], m, strlen(m)) < 0)
			_exit(3);
		_exit(0);
	}
	close(fds[1]);
	n = read_all(fds[0], msg, sizeof(msg) - 1);
	msg[n] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return atoi(msg);
}

static void
test_netchild_dir_checks(void **state)
{
	char *d = make_empty_dir();
	char path[256];
	int fd;

	(void)state;
	assert_int_equal(enter_result(d), 0);
	assert_int_equal(chmod(d, 0775), 0);
	assert_int_equal(enter_result(d), -EPERM);
	assert_int_equal(chmod(d, 0757), 0);
	assert_int_equal(enter_result(d), -EPERM);
	assert_int_equal(chmod(d, 0755), 0);
	assert_int_equal(chown(d, 1, 0), 0);
	assert_int_equal(enter_result(d), -EPERM);
	assert_int_equal(chown(d, 0, 0), 0);
	snprintf(path, sizeof(path), "%s/f", d);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(enter_result(d), -ENOTEMPTY);
	unlink(path);
	assert_int_equal(enter_result("relative"), -EINVAL);
	assert_int_equal(enter_result("/nonexistent-sshand"), -ENOENT);
	assert_int_equal(enter_result("/etc/passwd"), -ENOTDIR);
	assert_int_equal(sandbox_enter_netchild(0, TEST_GID, d), -EINVAL);
	assert_int_equal(sandbox_enter_netchild(TEST_UID, 0, d), -EINVAL);
	rmdir(d);
	free(d);
}

/* ---- limits, names ---- */

static const char *
child_limits(void *arg)
{
	const struct sandbox_limits l = {
		.max_procs = 50, .max_files = 64, .core_dumps = false,
	};
	struct rlimit rl;

	(void)arg;
	if (sandbox_set_limits(&l) < 0)
		return "set_limits";
	if (getrlimit(RLIMIT_NPROC, &rl) < 0 || rl.rlim_cur != 50 ||
	    rl.rlim_max != 50)
		return "NPROC";
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur != 64 ||
	    rl.rlim_max != 64)
		return "NOFILE";
	if (getrlimit(RLIMIT_CORE, &rl) < 0 || rl.rlim_cur != 0 ||
	    rl.rlim_max != 0)
		return "CORE";
	return NULL;
}

static void
test_limits(void **state)
{
	const struct sandbox_limits keep = { .core_dumps = true };
	struct rlimit before, after;
	int st;

	(void)state;
	assert_int_equal(in_child(child_limits, NULL, &st), 0);
	assert_int_equal(sandbox_set_limits(NULL), -EINVAL);
	/* All zero / true: nothing changes. */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &before), 0);
	assert_int_equal(sandbox_set_limits(&keep), 0);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &after), 0);
	assert_int_equal(before.rlim_cur, after.rlim_cur);
}

static void
test_profile_names(void **state)
{
	enum sandbox_profile p;

	(void)state;
	assert_int_equal(sandbox_profile_parse("login", &p), 0);
	assert_int_equal(p, SANDBOX_LOGIN);
	assert_int_equal(sandbox_profile_parse("strict", &p), 0);
	assert_int_equal(p, SANDBOX_STRICT);
	assert_int_equal(sandbox_profile_parse("none", &p), 0);
	assert_int_equal(p, SANDBOX_NONE);
	/* Any case, as sshand.conf reads them. */
	p = SANDBOX_NONE;
	assert_int_equal(sandbox_profile_parse("Login", &p), 0);
	assert_int_equal(p, SANDBOX_LOGIN);
	assert_int_equal(sandbox_profile_parse("STRICT", &p), 0);
	assert_int_equal(p, SANDBOX_STRICT);
	assert_int_equal(sandbox_profile_parse("NoNe", &p), 0);
	assert_int_equal(p, SANDBOX_NONE);
	/* No aliases ("default" was one once), no prefixes, nothing else;
	 * the output is untouched on failure. */
	p = SANDBOX_STRICT;
	assert_int_equal(sandbox_profile_parse("default", &p), -EINVAL);
	assert_int_equal(sandbox_profile_parse("Login ", &p), -EINVAL);
	assert_int_equal(sandbox_profile_parse("log", &p), -EINVAL);
	assert_int_equal(sandbox_profile_parse("", &p), -EINVAL);
	assert_int_equal(sandbox_profile_parse(NULL, &p), -EINVAL);
	assert_int_equal(p, SANDBOX_STRICT);
	assert_int_equal(sandbox_profile_parse("login", NULL), -EINVAL);
	assert_string_equal(sandbox_profile_name(SANDBOX_LOGIN), "login");
	assert_string_equal(sandbox_profile_name(SANDBOX_NONE), "none");
	assert_string_equal(sandbox_profile_name(SANDBOX_STRICT), "strict");
	assert_null(sandbox_profile_name((enum sandbox_profile)7));
	assert_int_equal(sandbox_apply_profile((enum sandbox_profile)7, NULL),
	    -EINVAL);
}

static const char *
child_none(void *arg)
{
	(void)arg;
	if (sandbox_apply_profile(SANDBOX_NONE, NULL) < 0)
		return "none failed";
	return expect_status("Seccomp", "0");
}

static void
test_profile_none(void **state)
{
	int st;

	(void)state;
	assert_int_equal(in_child(child_none, NULL, &st), 0);
}

/* sshand loads filters compiled when it was built: the rules, compiled
 * now, must still give exactly those programs. */
static void
test_filters_match_rules(void **state)
{
	(void)state;
	for (int id = 0; id < SANDBOX_FILTER_COUNT; id++) {
		struct sock_filter *f = NULL;
		size_t n = 0;

		assert_int_equal(sandbox_rules_bpf((enum sandbox_filter)id, &f, &n), 0);
		assert_non_null(sandbox_bpf[id].name);
		if (n != sandbox_bpf[id].len ||
		    memcmp(f, sandbox_bpf[id].insns, n * sizeof(*f)) != 0)
			fail_msg("filter %s: the built-in BPF (%zu instructions) is "
			    "not what its rules compile to (%zu)", sandbox_bpf[id].name,
			    sandbox_bpf[id].len, n);
		free(f);
	}
	/* And the programs are different ones: a table pointing twice at
	 * the same filter would pass the comparison above for one id only. */
	assert_true(sandbox_bpf[SANDBOX_FILTER_LOGIN].len !=
	    sandbox_bpf[SANDBOX_FILTER_STRICT].len);
	assert_true(sandbox_bpf[SANDBOX_FILTER_LOGIN].len >
	    sandbox_bpf[SANDBOX_FILTER_LOGIN_KEYRINGS].len);
	assert_int_equal(sandbox_load_filter(SANDBOX_FILTER_COUNT), -EINVAL);
}

/* How many instructions the filter runs to decide on system call nr
 * (x86_64, arguments 0): classic BPF as libseccomp emits it, run here.
 * -1 on an instruction this interpreter does not know, or a jump out. */
static int
bpf_steps(const struct sock_filter *f, size_t len, int nr)
{
	struct seccomp_data d = { .nr = nr, .arch = AUDIT_ARCH_X86_64 };
	uint32_t a = 0;
	size_t pc = 0;

	for (int steps = 1; pc < len && steps <= (int)len; steps++) {
		const struct sock_filter *i = &f[pc];

		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (i->k > sizeof(d) - sizeof(a))
				return -1;
			memcpy(&a, (const char *)&d + i->k, sizeof(a));
			pc++;
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= i->k;
			pc++;
			break;
		case BPF_JMP | BPF_JA:
			pc += 1 + i->k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += 1 + (a == i->k ? i->jt : i->jf);
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			pc += 1 + (a > i->k ? i->jt : i->jf);
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += 1 + (a >= i->k ? i->jt : i->jf);
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += 1 + ((a & i->k) != 0 ? i->jt : i->jf);
			break;
		case BPF_RET | BPF_K:
			return steps;
		default:
			return -1;
		}
	}
	return -1;
}

/* The filters are built as binary trees (SCMP_FLTATR_CTL_OPTIMIZE 2), not
 * as libseccomp's default list of comparisons: every system call of a
 * session, and the kernel's check of every call number when a filter is
 * loaded (its action cache), runs a few comparisons instead of walking
 * the list, which halved the cost of loading each filter.  The mean
 * over the x86_64 calls was 58 instructions for login and 50 for the
 * network child as a list; as trees, 14. */
static void
test_filters_are_trees(void **state)
{
	(void)state;
	for (int id = 0; id < SANDBOX_FILTER_COUNT; id++) {
		const struct sandbox_bpf *b = &sandbox_bpf[id];
		long sum = 0;
		int max = 0;

		for (int nr = 0; nr < 460; nr++) {
			int n = bpf_steps(b->insns, b->len, nr);

			if (n < 0)
				fail_msg("filter %s: call %d: no decision, or an "
				    "instruction this test does not know", b->name, nr);
			sum += n;
			max = n > max ? n : max;
		}
		if (sum / 460 > 20)
			fail_msg("filter %s: %ld instructions per call on average "
			    "(at most %d): not a tree", b->name, sum / 460, max);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filters_match_rules),
		cmocka_unit_test(test_filters_are_trees),
		cmocka_unit_test(test_profile_names),
		cmocka_unit_test(test_profile_none),
		cmocka_unit_test(test_profile_login),
		cmocka_unit_test(test_profile_strict),
		cmocka_unit_test(test_profile_keyrings),
		cmocka_unit_test(test_profile_as_user),
		cmocka_unit_test(test_drop_to_user),
		cmocka_unit_test(test_drop_no_groups),
		cmocka_unit_test(test_drop_invalid),
		cmocka_unit_test(test_keep_capabilities),
		cmocka_unit_test(test_drop_in_clones),
		cmocka_unit_test(test_keyholder_capabilities),
		cmocka_unit_test(test_keyholder_filter),
		cmocka_unit_test(test_netchild_allowed),
		cmocka_unit_test(test_netchild_forbidden),
		cmocka_unit_test(test_netchild_debug),
		cmocka_unit_test(test_netchild_dir_checks),
		cmocka_unit_test(test_limits),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_sandbox: must run as root\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
