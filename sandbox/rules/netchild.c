/* The network child's seccomp allow-list, as libseccomp rules: default
 * action kill (or log, for debugging), every call it may make listed with
 * the reason.  Used at build time only (see rules.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "sandbox/rules/rules.h"

#define LOW32 0xffffffffULL

/* One entry per allowed call; an argument restriction is expressed in
 * netchild_args below. */
struct allow_rule {
	const char *name;
	const char *why;
};

static const struct allow_rule allow_table[] = {
	/* The SSH socket, the socketpair to the parent and the pty/pipe fds
	 * it hands over: libssh uses read/write/recv/send, the relay and the
	 * fd passing use readv/writev/recvmsg/sendmsg. */
	{ "read", "socket and relayed fds" },
	{ "write", "socket and relayed fds" },
	{ "readv", "relay" },
	{ "writev", "relay; glibc's abort message" },
	{ "recvfrom", "libssh's socket reads (recv)" },
	{ "sendto", "libssh's socket writes (send)" },
	{ "recvmsg", "fds from the parent (SCM_RIGHTS)" },
	{ "sendmsg", "requests to the parent" },
	{ "poll", "libssh's event loop" },
	{ "ppoll", "glibc may implement poll with it" },
	{ "close", "closing relayed fds at EOF" },
	{ "shutdown", "half-close for EOF on the SSH socket" },
	{ "getsockopt", "SO_ERROR and friends on the SSH socket" },
	{ "setsockopt", "TCP_NODELAY, buffer sizes" },
	{ "getpeername", "libssh asks for the peer of its socket" },
	{ "getsockname", "likewise" },
	/* Memory.  mmap and mprotect only without PROT_EXEC (below). */
	{ "brk", "malloc" },
	{ "munmap", "malloc" },
	{ "mremap", "realloc of large blocks" },
	{ "madvise", "malloc trimming" },
	{ "futex", "glibc and OpenSSL locks" },
	/* Time: normally the vDSO, the syscalls are its fallback. */
	{ "clock_gettime", "timeouts, rekey intervals" },
	{ "gettimeofday", "libssh timestamps" },
	{ "clock_nanosleep", "short sleeps" },
	{ "nanosleep", "short sleeps" },
	/* OpenSSL's DRBG reseeds from getrandom (and never from
	 * /dev/urandom once getrandom worked). */
	{ "getrandom", "key exchange randomness" },
	/* Identity queries, which OpenSSL uses for fork detection. */
	{ "getpid", "OpenSSL fork detection" },
	{ "gettid", "glibc" },
	{ "getppid", "noticing the parent's death" },
	{ "getuid", "harmless identity queries" },
	{ "geteuid", "harmless identity queries" },
	{ "getgid", "harmless identity queries" },
	{ "getegid", "harmless identity queries" },
	/* fstat: glibc 2.36 implements it as newfstatat(fd, "",
	 * AT_EMPTY_PATH), restricted below. */
	{ "fstat", "stdio buffers" },
	/* Signals and ending. */
	{ "rt_sigreturn", "returning from a handler" },
	{ "rt_sigprocmask", "glibc blocks signals around some calls" },
	{ "rt_sigaction", "SIGPIPE handling" },
	/* Harmless (an alternate stack for our own handlers); the
	 * sanitizer runtime queries it at exit. */
	{ "sigaltstack", "sanitizer build's exit path" },
	{ "restart_syscall", "an interrupted sleep resumes" },
	{ "sched_yield", "lock backoff" },
	{ "exit", "thread end" },
	{ "exit_group", "process end" },
};

static int
netchild_args(scmp_filter_ctx ctx)
{
	/* fcntl: only what non-blocking setup needs; F_DUPFD, locks,
	 * leases, F_SETOWN and seals stay out. */
	static const uint64_t fcntl_cmds[] = {
		F_GETFL, F_SETFL, F_GETFD, F_SETFD,
	};
	/* ioctl: non-blocking mode and bytes-available; the parent, not
	 * this process, sets window sizes on the pty. */
	static const uint64_t ioctl_cmds[] = { FIONBIO, FIONREAD };
	size_t i;
	int r;

	for (i = 0; i < sizeof(fcntl_cmds) / sizeof(fcntl_cmds[0]); i++) {
		r = seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl),
		    1, SCMP_A1(SCMP_CMP_MASKED_EQ, LOW32, fcntl_cmds[i]));
		if (r < 0)
			return r;
	}
	for (i = 0; i < sizeof(ioctl_cmds) / sizeof(ioctl_cmds[0]); i++) {
		r = seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl),
		    1, SCMP_A1(SCMP_CMP_MASKED_EQ, LOW32, ioctl_cmds[i]));
		if (r < 0)
			return r;
	}
	/* No new executable memory: an exploit cannot map its shellcode. */
	r = seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (r < 0)
		return r;
	r = seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (r < 0)
		return r;
	/* fstat through newfstatat: only on an fd (AT_EMPTY_PATH); a path
	 * would resolve inside the empty chroot anyway. */
	return seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat),
	    1, SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH));
}

int
sandbox_rules_netchild(scmp_filter_ctx ctx)
{
	size_t i;
	int nr, r;

	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS);
	if (r < 0)
		return r;
	for (i = 0; i < sizeof(allow_table) / sizeof(allow_table[0]); i++) {
		nr = seccomp_syscall_resolve_name(allow_table[i].name);
		if (nr == __NR_SCMP_ERROR)
			return -ENOSYS;
		if (nr < 0)
			continue;
		r = seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (r < 0)
			return r;
	}
	return netchild_args(ctx);
}
