/* The pre-authentication network child: the process that runs libssh
 * against bytes from strangers.  It is chrooted into an empty directory,
 * runs as a uid that owns nothing, and may make only the system calls
 * below; anything else kills it (the parent then ends the connection).
 *
 * What must happen before sandbox_apply_netchild_filter() is listed in
 * sandbox.h: everything that opens files (host keys, OpenSSL's config and
 * providers, /etc/ssh/moduli, time zone data) and everything that seeds
 * or initialises once (OpenSSL's DRBG). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <seccomp.h>

#include "sandbox/sandbox.h"

#define LOW32 0xffffffffULL

/* Checks the directory through fd (no window between check and use):
 * root-owned, not writable by group or others, and empty, so that
 * nothing inside the chroot can be planted, linked or read. */
static int
check_chroot_dir(int fd)
{
	char buf[1024];
	struct stat st;
	ssize_t n;
	int rounds;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return -EPERM;
	/* Bounded: a directory holding only "." and ".." fits in one
	 * buffer; a second round means there is more. */
	for (rounds = 0; rounds < 2; rounds++) {
		ssize_t off = 0;

		n = getdents64(fd, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		while (off < n) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);

			if (strcmp(d->d_name, ".") != 0 &&
			    strcmp(d->d_name, "..") != 0)
				return -ENOTEMPTY;
			off += d->d_reclen;
		}
	}
	return -ENOTEMPTY;
}

int
sandbox_enter_netchild(uid_t uid, gid_t gid, const char *dir)
{
	int fd, r;

	if (dir == NULL || dir[0] != '/')
		return -EINVAL;
	/* The network child must be nobody: not root, not a login user's
	 * gid 0 either. */
	if (uid == 0 || gid == 0 || uid == (uid_t)-1 || gid == (gid_t)-1)
		return -EINVAL;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = check_chroot_dir(fd);
	if (r == 0 && fchdir(fd) < 0)
		r = -errno;
	if (r == 0 && chroot(".") < 0)
		r = -errno;
	if (r == 0 && chdir("/") < 0)
		r = -errno;
	close(fd);
	if (r < 0)
		return r;
	return sandbox_drop_to_user(uid, gid, NULL, 0);
}

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

static int
build_netchild(scmp_filter_ctx ctx)
{
	size_t i;
	int nr, r;

	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS);
	if (r < 0)
		return r;
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
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

int
sandbox_apply_netchild_filter(bool debug)
{
	scmp_filter_ctx ctx;
	int r;

	/* debug: SCMP_ACT_LOG lets the call through and has the kernel log
	 * it (audit type=1326 "syscall=N", in dmesg or journalctl -k), so
	 * one run lists every missing call instead of dying at the first. */
	ctx = seccomp_init(debug ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL)
		return -ENOMEM;
	r = build_netchild(ctx);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r > 0)
		r = -EBUSY;
	return r;
}
