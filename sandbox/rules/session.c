/* The session profiles: seccomp deny-lists loaded on the process that
 * then starts the user's shell, command or subsystem.  As libseccomp
 * rules, used at build time only (see rules.h).
 *
 * A deny-list (default: allow) because a login runs arbitrary programs we
 * cannot enumerate; what is denied is what a login never needs and what
 * widens the kernel's attack surface.  Denied calls fail with an errno
 * rather than killing, so a program prints a clear error.  Other ABIs
 * (i386 via int 0x80, x32) are not added to the filter: libseccomp then
 * answers them with the bad-architecture action, killing the process,
 * since every rule below would otherwise have to be repeated per ABI.
 *
 * Arguments the kernel reads as 32-bit (int cmd, int family, unsigned
 * persona) are compared through a 0xffffffff mask: a plain comparison sees
 * all 64 bits of the register and lets (1UL << 32) | TIOCSTI through.
 *
 * internal-sftp (handler/sftp/) runs in the session's process under these
 * same profiles, without exec: it needs only file calls (open, pread,
 * pwrite, the stat family, statvfs, renameat2, link, symlink, utimensat,
 * fchownat...), none of which either profile denies, so it adds nothing
 * here.  chroot stays denied: ChrootDirectory is entered as root before
 * the profile is loaded (handler/monitor/spawn.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <linux/sched.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "sandbox/rules/rules.h"

#define LOW32 0xffffffffULL

/* Which profiles an entry belongs to. */
enum {
	IN_LOGIN = 1 << 0,	/* login, and therefore strict */
	IN_STRICT = 1 << 1,	/* strict only */
	KEYRING = 1 << 2,	/* skipped when opts->allow_keyrings */
};

struct deny_rule {
	const char *name;
	int err;		/* the errno the caller sees */
	unsigned flags;
	const char *why;
};

static const struct deny_rule deny_table[] = {
	/* Mounting: a user has no business changing the mount table; the
	 * new mount API reaches the same code through file descriptors. */
	{ "mount", EPERM, IN_LOGIN, "mount table" },
	{ "umount2", EPERM, IN_LOGIN, "mount table" },
	{ "fsopen", EPERM, IN_LOGIN, "new mount API" },
	{ "fsconfig", EPERM, IN_LOGIN, "new mount API" },
	{ "fsmount", EPERM, IN_LOGIN, "new mount API" },
	{ "fspick", EPERM, IN_LOGIN, "new mount API" },
	{ "move_mount", EPERM, IN_LOGIN, "new mount API" },
	{ "open_tree", EPERM, IN_LOGIN, "new mount API" },
	{ "mount_setattr", EPERM, IN_LOGIN, "new mount API" },
	{ "pivot_root", EPERM, IN_LOGIN, "root changes" },
	{ "chroot", EPERM, IN_LOGIN, "root changes" },
	/* Namespaces: setns outright; unshare and clone only with CLONE_NEW*
	 * (below), since plain fork goes through clone. */
	{ "setns", EPERM, IN_LOGIN, "joining namespaces" },
	/* clone3 passes its flags in memory, out of seccomp's sight: answer
	 * ENOSYS so that glibc falls back to clone, whose flags we see. */
	{ "clone3", ENOSYS, IN_LOGIN, "flags not inspectable" },
	/* The kernel itself. */
	{ "init_module", EPERM, IN_LOGIN, "module loading" },
	{ "finit_module", EPERM, IN_LOGIN, "module loading" },
	{ "delete_module", EPERM, IN_LOGIN, "module unloading" },
	{ "kexec_load", EPERM, IN_LOGIN, "replacing the kernel" },
	{ "kexec_file_load", EPERM, IN_LOGIN, "replacing the kernel" },
	{ "reboot", EPERM, IN_LOGIN, "rebooting" },
	{ "swapon", EPERM, IN_LOGIN, "swap" },
	{ "swapoff", EPERM, IN_LOGIN, "swap" },
	/* The clock is shared by every user. */
	{ "settimeofday", EPERM, IN_LOGIN, "clock setting" },
	{ "clock_settime", EPERM, IN_LOGIN, "clock setting" },
	{ "clock_adjtime", EPERM, IN_LOGIN, "clock setting" },
	{ "adjtimex", EPERM, IN_LOGIN, "clock setting" },
	/* Raw hardware access. */
	{ "iopl", EPERM, IN_LOGIN, "I/O port access" },
	{ "ioperm", EPERM, IN_LOGIN, "I/O port access" },
	/* Large, often-exploited kernel interfaces no login needs. */
	{ "bpf", EPERM, IN_LOGIN, "eBPF verifier and maps" },
	{ "perf_event_open", EPERM, IN_LOGIN, "perf events, side channels" },
	{ "userfaultfd", EPERM, IN_LOGIN, "race-widening for exploits" },
	{ "io_uring_setup", EPERM, IN_LOGIN, "io_uring bypasses seccomp" },
	{ "io_uring_enter", EPERM, IN_LOGIN, "io_uring bypasses seccomp" },
	{ "io_uring_register", EPERM, IN_LOGIN, "io_uring bypasses seccomp" },
	/* Keyrings are not namespaced; Kerberos keyring users get them
	 * back by policy (SandboxAllowKeyrings). */
	{ "add_key", EPERM, IN_LOGIN | KEYRING, "kernel keyrings" },
	{ "request_key", EPERM, IN_LOGIN | KEYRING, "kernel keyrings" },
	{ "keyctl", EPERM, IN_LOGIN | KEYRING, "kernel keyrings" },
	/* Administrative and obsolete calls. */
	{ "acct", EPERM, IN_LOGIN, "process accounting" },
	{ "quotactl", EPERM, IN_LOGIN, "quota administration" },
	{ "quotactl_fd", EPERM, IN_LOGIN, "quota administration" },
	{ "syslog", EPERM, IN_LOGIN, "kernel log" },
	{ "open_by_handle_at", EPERM, IN_LOGIN, "bypasses path permissions" },
	{ "name_to_handle_at", EPERM, IN_LOGIN, "file handles, see above" },
	{ "lookup_dcookie", EPERM, IN_LOGIN, "obsolete (oprofile)" },
	{ "nfsservctl", EPERM, IN_LOGIN, "obsolete" },
	{ "vhangup", EPERM, IN_LOGIN, "terminal hangup" },
	{ "uselib", EPERM, IN_LOGIN, "obsolete (a.out)" },
	{ "sysfs", EPERM, IN_LOGIN, "obsolete" },
	{ "_sysctl", EPERM, IN_LOGIN, "obsolete" },
	{ "ustat", EPERM, IN_LOGIN, "obsolete" },
	/* strict: no looking into or out of other processes, even one's
	 * own, and no secret memory hidden from the kernel's view. */
	{ "ptrace", EPERM, IN_STRICT, "debugging other processes" },
	{ "process_vm_readv", EPERM, IN_STRICT, "reading other processes" },
	{ "process_vm_writev", EPERM, IN_STRICT, "writing other processes" },
	{ "pidfd_getfd", EPERM, IN_STRICT, "stealing other processes' fds" },
	{ "memfd_secret", EPERM, IN_STRICT, "memory hidden from the kernel" },
};

/* Namespace flags.  For clone() CLONE_NEWTIME (0x80) is part of the exit
 * signal byte, so it is checked for unshare() only (clone3 is gone). */
static const uint64_t clone_ns_flags[] = {
	CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
	CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
};

/* TIOCSTI pushes input into a terminal (and so into whoever reads it,
 * possibly a root shell the user's tty was passed to); TIOCLINUX can do
 * the same on virtual consoles. */
static const uint64_t denied_ioctls[] = { TIOCSTI, TIOCLINUX };

/* Families the kernel may know, beyond which only bits 6..31 matter. */
#define FAMILY_LIMIT 64

static int
add_deny_table(scmp_filter_ctx ctx, enum sandbox_profile p,
    const struct sandbox_opts *o)
{
	size_t i;
	int nr, r;

	for (i = 0; i < sizeof(deny_table) / sizeof(deny_table[0]); i++) {
		const struct deny_rule *d = &deny_table[i];

		if ((d->flags & IN_STRICT) && p != SANDBOX_STRICT)
			continue;
		if ((d->flags & KEYRING) && o->allow_keyrings)
			continue;
		nr = seccomp_syscall_resolve_name(d->name);
		/* Every name is known to Debian 12's libseccomp; an unknown
		 * one means a broken library: fail closed. */
		if (nr == __NR_SCMP_ERROR)
			return -ENOSYS;
		if (nr < 0)
			continue;	/* not a syscall on this architecture */
		r = seccomp_rule_add_exact(ctx, SCMP_ACT_ERRNO(d->err), nr, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

/* "syscall nr with (argument arg & mask) == value fails with EPERM". */
static int
deny_masked(scmp_filter_ctx ctx, int nr, unsigned arg, uint64_t mask,
    uint64_t value)
{
	return seccomp_rule_add_exact(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1,
	    SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, mask, value));
}

static int
add_namespace_rules(scmp_filter_ctx ctx)
{
	int r = 0;

	/* clone(flags, ...) and unshare(flags) on x86_64: flags is the
	 * first argument. */
	for (size_t i = 0; r == 0 && i < sizeof(clone_ns_flags) /
	    sizeof(clone_ns_flags[0]); i++) {
		uint64_t f = clone_ns_flags[i];

		r = deny_masked(ctx, SCMP_SYS(clone), 0, f, f);
		if (r == 0)
			r = deny_masked(ctx, SCMP_SYS(unshare), 0, f, f);
	}
	if (r == 0)
		r = deny_masked(ctx, SCMP_SYS(unshare), 0, CLONE_NEWTIME, CLONE_NEWTIME);
	return r;
}

/* personality() must stay PER_LINUX (0) or be a query (0xffffffff): the
 * other personas switch off ASLR (ADDR_NO_RANDOMIZE), map page zero
 * (MMAP_PAGE_ZERO) or make READ imply EXEC.  "The low 32 bits are neither
 * all zero nor all one" is "some bit i is set while bit i+1 (cyclically)
 * is clear", which is 32 single masked comparisons.  libseccomp refuses
 * two comparisons on the same argument in one rule, so this is the way
 * to say it without a range that the upper bits could step around. */
static int
add_personality_rules(scmp_filter_ctx ctx)
{
	int r = 0;

	for (unsigned i = 0; r == 0 && i < 32; i++) {
		uint64_t bit = 1ULL << i, next = 1ULL << ((i + 1) % 32);

		r = deny_masked(ctx, SCMP_SYS(personality), 0, bit | next, bit);
	}
	return r;
}

static int
add_ioctl_rules(scmp_filter_ctx ctx)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < sizeof(denied_ioctls) /
	    sizeof(denied_ioctls[0]); i++)
		r = deny_masked(ctx, SCMP_SYS(ioctl), 1, LOW32, denied_ioctls[i]);
	return r;
}

static bool
family_allowed(enum sandbox_profile p, unsigned family)
{
	if (family == AF_UNIX)
		return true;
	if (p == SANDBOX_STRICT)
		return false;
	return family == AF_INET || family == AF_INET6 || family == AF_NETLINK;
}

/* socket() and socketpair(): every family but the allowed ones answers
 * EAFNOSUPPORT, as for a kernel built without it.  Families below
 * FAMILY_LIMIT one by one; anything with a bit set above them by bit. */
static int
add_family_rules(scmp_filter_ctx ctx, enum sandbox_profile p)
{
	const int calls[] = { SCMP_SYS(socket), SCMP_SYS(socketpair) };
	const uint32_t act = SCMP_ACT_ERRNO(EAFNOSUPPORT);
	unsigned c, f, b;
	int r;

	for (c = 0; c < sizeof(calls) / sizeof(calls[0]); c++) {
		for (f = 0; f < FAMILY_LIMIT; f++) {
			if (family_allowed(p, f))
				continue;
			r = seccomp_rule_add_exact(ctx, act, calls[c], 1,
			    SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, f));
			if (r < 0)
				return r;
		}
		for (b = 6; b < 32; b++) {
			r = seccomp_rule_add_exact(ctx, act, calls[c], 1,
			    SCMP_A0(SCMP_CMP_MASKED_EQ, 1ULL << b, 1ULL << b));
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int
sandbox_rules_profile(scmp_filter_ctx ctx, enum sandbox_profile p,
    const struct sandbox_opts *o)
{
	int r;

	if (p != SANDBOX_LOGIN && p != SANDBOX_STRICT)
		return -EINVAL;
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS);
	if (r < 0)
		return r;
	r = add_deny_table(ctx, p, o);
	if (r < 0)
		return r;
	r = add_namespace_rules(ctx);
	if (r < 0)
		return r;
	r = add_personality_rules(ctx);
	if (r < 0)
		return r;
	r = add_ioctl_rules(ctx);
	if (r < 0)
		return r;
	return add_family_rules(ctx, p);
}
