/* The key holder's seccomp allow-list (see keyholder.c in handler/keys/):
 * the process that holds the host private keys only reads requests from
 * the monitor, signs with OpenSSL and writes the answer.  Default action:
 * kill the process.  Used at build time only (see rules.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

#include "sandbox/rules/rules.h"

static const char *const allow_table[] = {
	/* The socketpair to the monitor (privsep/wire.c). */
	"recvmsg", "sendmsg", "read", "write", "close",
	/* OpenSSL's and glibc's memory, never executable (below). */
	"brk", "munmap", "mremap", "madvise", "futex",
	/* Signing: ECDSA's nonces and OpenSSL's DRBG reseeding. */
	"getrandom", "clock_gettime", "gettimeofday", "getpid", "gettid",
	/* Ending, and glibc's paths to it. */
	"rt_sigreturn", "rt_sigprocmask", "restart_syscall", "sigaltstack",
	"exit", "exit_group",
};

int
sandbox_rules_keyholder(scmp_filter_ctx ctx)
{
	int nr, r;

	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(allow_table) / sizeof(allow_table[0]); i++) {
		nr = seccomp_syscall_resolve_name(allow_table[i]);
		if (nr == __NR_SCMP_ERROR)
			return -ENOSYS;
		r = seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (r < 0)
			return r;
	}
	r = seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (r < 0)
		return r;
	return seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
}
