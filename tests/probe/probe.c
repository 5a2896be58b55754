/* sshand's syscall probe, run inside a session as the logged-in user (as
 * bubblewrap's tests/try-syscall.c is run inside its sandbox).
 *
 * Prints the confinement state from /proc/self/status, then one line per
 * probed call:
 *	status NAME VALUE	(Uid Gid Groups CapInh CapPrm CapEff CapBnd
 *				 CapAmb NoNewPrivs Seccomp; "-" if empty)
 *	call NAME RESULT	(ok | errno name | killed:SIGNAME)
 * tests/integration/probe_tables.py holds the expected lines per profile.
 *
 * Every call uses harmless arguments (bad pointers, fd -1, invalid flags or
 * magic numbers): where seccomp lets it through the kernel refuses it with
 * EFAULT, EBADF or EINVAL, even for root, so that an allowed call shows a
 * different errno than a denied one and nothing on the host changes.  Calls
 * that change the caller (namespaces, personality, ptrace, int 0x80) run in
 * a forked child.
 *
 * With PROBE_NO_MAIN defined this file is #included by the unit tests,
 * which run the same probes as root under each profile. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

/* Never mapped (below mmap_min_addr): every copy from it is EFAULT. */
#define BAD ((void *)1)
#define HIGH (1UL << 32)

/* Each probe returns the syscall's return value with errno set. */
typedef long (*probe_fn)(void);

struct probe {
	const char *name;
	probe_fn fn;
	int in_child;	/* the call changes the caller: fork first */
};

static long p_mount(void) { return mount(BAD, BAD, BAD, 0, NULL); }
static long p_umount2(void) { return umount2(BAD, ~0); }
static long p_fsopen(void) { return syscall(SYS_fsopen, BAD, ~0U); }
static long p_fsconfig(void)
{
	return syscall(SYS_fsconfig, -1, ~0U, NULL, NULL, 0);
}
static long p_fsmount(void) { return syscall(SYS_fsmount, -1, ~0U, 0); }
static long p_fspick(void) { return syscall(SYS_fspick, -1, BAD, ~0U); }
static long p_move_mount(void)
{
	return syscall(SYS_move_mount, -1, BAD, -1, BAD, ~0U);
}
static long p_open_tree(void) { return syscall(SYS_open_tree, -1, BAD, ~0U); }
static long p_mount_setattr(void)
{
	return syscall(SYS_mount_setattr, -1, BAD, ~0U, BAD, 0);
}
static long p_pivot_root(void) { return syscall(SYS_pivot_root, BAD, BAD); }
static long p_chroot(void) { return chroot(BAD); }
static long p_setns(void) { return setns(-1, 0); }
static long p_unshare_newuser(void) { return unshare(CLONE_NEWUSER); }
static long p_unshare_newns(void) { return unshare(CLONE_NEWNS); }
static long p_unshare_newnet(void) { return unshare(CLONE_NEWNET); }
static long p_unshare_files(void) { return unshare(CLONE_FILES); }

/* Raw clone without a new stack behaves like fork. */
static long
clone_flags(unsigned long flags)
{
	long pid = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
	int st, e;

	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return pid;
	e = errno;
	waitpid((pid_t)pid, &st, 0);
	errno = e;
	return 0;
}
static long p_clone_newuser(void) { return clone_flags(CLONE_NEWUSER); }
static long p_clone_newnet(void) { return clone_flags(CLONE_NEWNET); }
static long p_clone_newuser_high(void)
{
	return clone_flags(HIGH | CLONE_NEWUSER);
}
static long p_clone_fork(void) { return clone_flags(0); }
static long p_clone3(void) { return syscall(SYS_clone3, NULL, 0); }

static long p_init_module(void)
{
	return syscall(SYS_init_module, NULL, 0, "");
}
static long p_finit_module(void)
{
	return syscall(SYS_finit_module, -1, "", 0);
}
static long p_delete_module(void)
{
	return syscall(SYS_delete_module, BAD, 0);
}
static long p_kexec_load(void)
{
	return syscall(SYS_kexec_load, 0, 0, NULL, ~0UL);
}
static long p_kexec_file_load(void)
{
	return syscall(SYS_kexec_file_load, -1, -1, 0, NULL, ~0UL);
}
/* Wrong magic numbers: EINVAL even for root. */
static long p_reboot(void) { return syscall(SYS_reboot, 0, 0, 0, NULL); }
static long p_swapon(void) { return swapon(BAD, 0); }
static long p_swapoff(void) { return swapoff(BAD); }
static long p_settimeofday(void)
{
	return syscall(SYS_settimeofday, BAD, NULL);
}
static long p_clock_settime(void)
{
	return syscall(SYS_clock_settime, CLOCK_REALTIME, BAD);
}
static long p_clock_adjtime(void)
{
	return syscall(SYS_clock_adjtime, CLOCK_REALTIME, BAD);
}
static long p_adjtimex(void) { return syscall(SYS_adjtimex, BAD); }
#ifdef SYS_iopl
static long p_iopl(void) { return syscall(SYS_iopl, 4); }
static long p_ioperm(void) { return syscall(SYS_ioperm, ~0UL, 1, 1); }
#endif
static long p_bpf(void) { return syscall(SYS_bpf, 0x7fff, NULL, 0); }
static long p_perf_event_open(void)
{
	return syscall(SYS_perf_event_open, BAD, 0, -1, -1, 0);
}
static long p_userfaultfd(void) { return syscall(SYS_userfaultfd, ~0U); }
static long p_io_uring_setup(void)
{
	return syscall(SYS_io_uring_setup, 0, BAD);
}
static long p_io_uring_enter(void)
{
	return syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0);
}
static long p_io_uring_register(void)
{
	return syscall(SYS_io_uring_register, -1, 0, NULL, 0);
}
static long p_add_key(void)
{
	return syscall(SYS_add_key, BAD, BAD, NULL, 0, 0);
}
static long p_request_key(void)
{
	return syscall(SYS_request_key, BAD, BAD, NULL, 0);
}
static long p_keyctl(void) { return syscall(SYS_keyctl, 0x7fff, 0, 0, 0, 0); }
static long p_acct(void) { return acct(BAD); }
static long p_quotactl(void) { return syscall(SYS_quotactl, 0, NULL, 0, NULL); }
static long p_quotactl_fd(void)
{
	return syscall(SYS_quotactl_fd, -1, 0, 0, NULL);
}
static long p_syslog(void) { return syscall(SYS_syslog, 0x7fff, NULL, 0); }
static long p_open_by_handle_at(void)
{
	return syscall(SYS_open_by_handle_at, -1, BAD, 0);
}
static long p_name_to_handle_at(void)
{
	return syscall(SYS_name_to_handle_at, -1, BAD, BAD, BAD, 0);
}
#ifdef SYS_lookup_dcookie
static long p_lookup_dcookie(void)
{
	return syscall(SYS_lookup_dcookie, 0, NULL, 0);
}
#endif
#ifdef SYS_nfsservctl
static long p_nfsservctl(void)
{
	return syscall(SYS_nfsservctl, 0, NULL, NULL);
}
#endif
/* Without a controlling terminal (setsid) vhangup has nothing to hang up,
 * even where it is allowed and the caller is root. */
static long
p_vhangup(void)
{
	if (setsid() < 0)
		return -1;
	return syscall(SYS_vhangup);
}
#ifdef SYS_uselib
static long p_uselib(void) { return syscall(SYS_uselib, BAD); }
#endif
#ifdef SYS_sysfs
static long p_sysfs(void) { return syscall(SYS_sysfs, 99); }
#endif
#ifdef SYS__sysctl
static long p__sysctl(void) { return syscall(SYS__sysctl, NULL); }
#endif
#ifdef SYS_ustat
static long p_ustat(void) { return syscall(SYS_ustat, 0, BAD); }
#endif
static long p_personality_query(void) { return personality(0xffffffff); }
static long p_personality_linux(void) { return personality(PER_LINUX); }
static long p_personality_linux32(void) { return personality(PER_LINUX32); }
static long p_personality_linux32_high(void)
{
	return syscall(SYS_personality, HIGH | PER_LINUX32);
}
static long p_personality_norandom(void)
{
	return personality(PER_LINUX | ADDR_NO_RANDOMIZE);
}
static long p_ioctl_tiocsti(void)
{
	return syscall(SYS_ioctl, -1, TIOCSTI, BAD);
}
static long p_ioctl_tiocsti_high(void)
{
	return syscall(SYS_ioctl, -1, HIGH | TIOCSTI, BAD);
}
static long p_ioctl_tioclinux(void)
{
	return syscall(SYS_ioctl, -1, TIOCLINUX, BAD);
}
static long p_ioctl_tioclinux_high(void)
{
	return syscall(SYS_ioctl, -1, HIGH | TIOCLINUX, BAD);
}
static long p_ioctl_fionread(void)
{
	return syscall(SYS_ioctl, -1, FIONREAD, BAD);
}

static long
sock(unsigned long family, int type, int proto)
{
	long fd = syscall(SYS_socket, family, type | SOCK_CLOEXEC, proto);

	if (fd >= 0)
		close((int)fd);
	return fd >= 0 ? 0 : fd;
}
static long p_socket_unix(void) { return sock(AF_UNIX, SOCK_STREAM, 0); }
static long p_socket_inet(void) { return sock(AF_INET, SOCK_STREAM, 0); }
static long p_socket_inet6(void) { return sock(AF_INET6, SOCK_DGRAM, 0); }
static long p_socket_netlink(void) { return sock(AF_NETLINK, SOCK_RAW, 0); }
static long p_socket_packet(void) { return sock(AF_PACKET, SOCK_RAW, 0); }
static long p_socket_vsock(void) { return sock(AF_VSOCK, SOCK_STREAM, 0); }
static long p_socket_vsock_high(void)
{
	return sock(HIGH | AF_VSOCK, SOCK_STREAM, 0);
}
static long p_socket_inet_high(void)
{
	return sock(HIGH | AF_INET, SOCK_STREAM, 0);
}
static long p_socket_family_99(void) { return sock(99, SOCK_STREAM, 0); }

static long
spair(int family)
{
	int sv[2];
	int r = socketpair(family, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);

	if (r == 0) {
		close(sv[0]);
		close(sv[1]);
	}
	return r;
}
static long p_socketpair_unix(void) { return spair(AF_UNIX); }
static long p_socketpair_inet(void) { return spair(AF_INET); }

static long p_ptrace_traceme(void)
{
	return ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}
static long
p_process_vm_readv(void)
{
	return syscall(SYS_process_vm_readv, getpid(), NULL, 0, NULL, 0, 0);
}
static long
p_process_vm_writev(void)
{
	return syscall(SYS_process_vm_writev, getpid(), NULL, 0, NULL, 0, 0);
}
static long p_pidfd_getfd(void) { return syscall(SYS_pidfd_getfd, -1, 0, 0); }
/* Invalid flags: EINVAL where supported, ENOSYS where not. */
static long p_memfd_secret(void) { return syscall(SYS_memfd_secret, ~0U); }

#ifdef __x86_64__
/* The i386 ABI from a 64-bit process: getpid is 20 there. */
static long
p_int80_getpid(void)
{
	long ret;

	__asm__ volatile ("int $0x80"
	    : "=a"(ret)
	    : "a"(20L)
	    : "rcx", "r8", "r9", "r10", "r11", "memory", "cc");
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return 0;
}
/* The x32 ABI: the syscall number with bit 30 set (getpid is 39). */
static long p_x32_getpid(void) { return syscall(0x40000000L | 39); }
#endif

static long p_setuid0(void) { return setuid(0); }

static const struct probe probes[] = {
	{ "mount", p_mount, 0 },
	{ "umount2", p_umount2, 0 },
	{ "fsopen", p_fsopen, 0 },
	{ "fsconfig", p_fsconfig, 0 },
	{ "fsmount", p_fsmount, 0 },
	{ "fspick", p_fspick, 0 },
	{ "move_mount", p_move_mount, 0 },
	{ "open_tree", p_open_tree, 0 },
	{ "mount_setattr", p_mount_setattr, 0 },
	{ "pivot_root", p_pivot_root, 0 },
	{ "chroot", p_chroot, 0 },
	{ "setns", p_setns, 0 },
	{ "unshare_newuser", p_unshare_newuser, 1 },
	{ "unshare_newns", p_unshare_newns, 1 },
	{ "unshare_newnet", p_unshare_newnet, 1 },
	{ "unshare_files", p_unshare_files, 1 },
	{ "clone_newuser", p_clone_newuser, 1 },
	{ "clone_newuser_high", p_clone_newuser_high, 1 },
	{ "clone_newnet", p_clone_newnet, 1 },
	{ "clone_fork", p_clone_fork, 1 },
	{ "clone3", p_clone3, 0 },
	{ "init_module", p_init_module, 0 },
	{ "finit_module", p_finit_module, 0 },
	{ "delete_module", p_delete_module, 0 },
	{ "kexec_load", p_kexec_load, 0 },
	{ "kexec_file_load", p_kexec_file_load, 0 },
	{ "reboot", p_reboot, 0 },
	{ "swapon", p_swapon, 0 },
	{ "swapoff", p_swapoff, 0 },
	{ "settimeofday", p_settimeofday, 0 },
	{ "clock_settime", p_clock_settime, 0 },
	{ "clock_adjtime", p_clock_adjtime, 0 },
	{ "adjtimex", p_adjtimex, 0 },
#ifdef SYS_iopl
	{ "iopl", p_iopl, 1 },
	{ "ioperm", p_ioperm, 1 },
#endif
	{ "bpf", p_bpf, 0 },
	{ "perf_event_open", p_perf_event_open, 0 },
	{ "userfaultfd", p_userfaultfd, 0 },
	{ "io_uring_setup", p_io_uring_setup, 0 },
	{ "io_uring_enter", p_io_uring_enter, 0 },
	{ "io_uring_register", p_io_uring_register, 0 },
	{ "add_key", p_add_key, 0 },
	{ "request_key", p_request_key, 0 },
	{ "keyctl", p_keyctl, 0 },
	{ "acct", p_acct, 0 },
	{ "quotactl", p_quotactl, 0 },
	{ "quotactl_fd", p_quotactl_fd, 0 },
	{ "syslog", p_syslog, 0 },
	{ "open_by_handle_at", p_open_by_handle_at, 0 },
	{ "name_to_handle_at", p_name_to_handle_at, 0 },
#ifdef SYS_lookup_dcookie
	{ "lookup_dcookie", p_lookup_dcookie, 0 },
#endif
#ifdef SYS_nfsservctl
	{ "nfsservctl", p_nfsservctl, 0 },
#endif
	{ "vhangup", p_vhangup, 1 },
#ifdef SYS_uselib
	{ "uselib", p_uselib, 0 },
#endif
#ifdef SYS_sysfs
	{ "sysfs", p_sysfs, 0 },
#endif
#ifdef SYS__sysctl
	{ "_sysctl", p__sysctl, 0 },
#endif
#ifdef SYS_ustat
	{ "ustat", p_ustat, 0 },
#endif
	{ "personality_query", p_personality_query, 0 },
	{ "personality_linux", p_personality_linux, 1 },
	{ "personality_linux32", p_personality_linux32, 1 },
	{ "personality_linux32_high", p_personality_linux32_high, 1 },
	{ "personality_norandom", p_personality_norandom, 1 },
	{ "ioctl_tiocsti", p_ioctl_tiocsti, 0 },
	{ "ioctl_tiocsti_high", p_ioctl_tiocsti_high, 0 },
	{ "ioctl_tioclinux", p_ioctl_tioclinux, 0 },
	{ "ioctl_tioclinux_high", p_ioctl_tioclinux_high, 0 },
	{ "ioctl_fionread", p_ioctl_fionread, 0 },
	{ "socket_unix", p_socket_unix, 0 },
	{ "socket_inet", p_socket_inet, 0 },
	{ "socket_inet_high", p_socket_inet_high, 0 },
	{ "socket_inet6", p_socket_inet6, 0 },
	{ "socket_netlink", p_socket_netlink, 0 },
	{ "socket_packet", p_socket_packet, 0 },
	{ "socket_vsock", p_socket_vsock, 0 },
	{ "socket_vsock_high", p_socket_vsock_high, 0 },
	{ "socket_family_99", p_socket_family_99, 0 },
	{ "socketpair_unix", p_socketpair_unix, 0 },
	{ "socketpair_inet", p_socketpair_inet, 0 },
	{ "ptrace_traceme", p_ptrace_traceme, 1 },
	{ "process_vm_readv", p_process_vm_readv, 0 },
	{ "process_vm_writev", p_process_vm_writev, 0 },
	{ "pidfd_getfd", p_pidfd_getfd, 0 },
	{ "memfd_secret", p_memfd_secret, 0 },
#ifdef __x86_64__
	{ "int80_getpid", p_int80_getpid, 1 },
	{ "x32_getpid", p_x32_getpid, 1 },
#endif
	{ "setuid0", p_setuid0, 1 },
};

#define PROBE_COUNT (sizeof(probes) / sizeof(probes[0]))

static void
errno_result(int e, char *buf, size_t len)
{
	const char *name = strerrorname_np(e);

	if (name != NULL)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "E%d", e);
}

/* A forked probe must die of the signal its call brings, whatever handlers
 * the program that forked it installed (cmocka catches SIGSEGV and would
 * carry on running the test suite inside the child). */
static void
probe_default_signals(void)
{
	static const int fatal[] = { SIGSEGV, SIGSYS, SIGBUS, SIGILL, SIGFPE,
	    SIGABRT };
	struct sigaction dfl = { .sa_handler = SIG_DFL };

	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		sigaction(fatal[i], &dfl, NULL);
}

/* Runs one probe, writing its RESULT into buf.  In a child, the errno
 * travels back as the exit status (errno values are below 256; 0 = ok,
 * 255 = the child could not even report). */
static void
probe_run(const struct probe *p, char *buf, size_t len)
{
	pid_t pid;
	long r;
	int st;

	if (!p->in_child) {
		errno = 0;
		r = p->fn();
		if (r >= 0)
			snprintf(buf, len, "ok");
		else
			errno_result(errno, buf, len);
		return;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(buf, len, "fork-failed");
		return;
	}
	if (pid == 0) {
		probe_default_signals();
		errno = 0;
		r = p->fn();
		_exit(r >= 0 ? 0 : (errno > 0 && errno < 255 ? errno : 255));
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			snprintf(buf, len, "wait-failed");
			return;
		}
	}
	if (WIFSIGNALED(st)) {
		const char *s = sigabbrev_np(WTERMSIG(st));

		if (s != NULL)
			snprintf(buf, len, "killed:SIG%s", s);
		else
			snprintf(buf, len, "killed:%d", WTERMSIG(st));
	} else if (WEXITSTATUS(st) == 0)
		snprintf(buf, len, "ok");
	else if (WEXITSTATUS(st) == 255)
		snprintf(buf, len, "child-failed");
	else
		errno_result(WEXITSTATUS(st), buf, len);
}

#ifndef PROBE_NO_MAIN
static const char *const status_keys[] = {
	"Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd",
	"CapAmb", "NoNewPrivs", "Seccomp",
};

/* "Uid:\t1000\t1000\t1000\t1000" -> "1000 1000 1000 1000"; "" -> "-". */
static void
print_status(void)
{
	char lines[sizeof(status_keys) / sizeof(status_keys[0])][256];
	char line[1024];
	size_t i, klen;
	FILE *f;

	for (i = 0; i < sizeof(status_keys) / sizeof(status_keys[0]); i++)
		snprintf(lines[i], sizeof(lines[i]), "?");
	f = fopen("/proc/self/status", "re");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		for (i = 0; i < sizeof(status_keys) / sizeof(status_keys[0]);
		    i++) {
			char *v, *out = lines[i];
			size_t o = 0;
			int space = 0;

			klen = strlen(status_keys[i]);
			if (strncmp(line, status_keys[i], klen) != 0 ||
			    line[klen] != ':')
				continue;
			for (v = line + klen + 1; *v != '\0' &&
			    o + 2 < sizeof(lines[i]); v++) {
				if (*v == ' ' || *v == '\t' || *v == '\n') {
					space = o > 0;
					continue;
				}
				if (space)
					out[o++] = ' ';
				space = 0;
				out[o++] = *v;
			}
			out[o] = '\0';
			if (o == 0)
				snprintf(lines[i], sizeof(lines[i]), "-");
		}
	}
	if (f != NULL)
		fclose(f);
	for (i = 0; i < sizeof(status_keys) / sizeof(status_keys[0]); i++)
		printf("status %s %s\n", status_keys[i], lines[i]);
}

int
main(int argc, char **argv)
{
	char buf[64];
	size_t i;
	int j;

	setvbuf(stdout, NULL, _IOLBF, 0);
	print_status();
	for (i = 0; i < PROBE_COUNT; i++) {
		/* Optional arguments: probe only the names given. */
		if (argc > 1) {
			for (j = 1; j < argc; j++)
				if (strcmp(argv[j], probes[i].name) == 0)
					break;
			if (j == argc)
				continue;
		}
		probe_run(&probes[i], buf, sizeof(buf));
		printf("call %s %s\n", probes[i].name, buf);
	}
	return 0;
}
#endif
