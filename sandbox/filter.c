/* Loading the seccomp filters compiled at build time (see rules/rules.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/filters.h"
#include "sandbox/sandbox.h"

static int
load_filter(enum sandbox_filter id, bool no_new_privs)
{
	struct sock_fprog prog;
	long r;

	if ((unsigned)id >= SANDBOX_FILTER_COUNT || sandbox_bpf[id].len == 0)
		return -EINVAL;
	prog.len = (unsigned short)sandbox_bpf[id].len;
	prog.filter = (struct sock_filter *)sandbox_bpf[id].insns;
	/* Loading a filter unprivileged requires it.  Without it (setuid
	 * programs allowed) the kernel wants CAP_SYS_ADMIN instead: a
	 * setuid program then runs under a filter it did not expect, which
	 * is why only a deny-list of calls no login needs is loaded so, by
	 * root, for a session that asked for setuid programs. */
	if (no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	/* Every thread, not only the caller: a forgotten helper thread
	 * would otherwise stay unconfined.  A positive answer is the id of
	 * a thread that could not be synchronised. */
	r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
	    SECCOMP_FILTER_FLAG_TSYNC, &prog);
	if (r < 0)
		return -errno;
	return r > 0 ? -EBUSY : 0;
}

int
sandbox_load_filter(enum sandbox_filter id)
{
	return load_filter(id, true);
}

int
sandbox_apply_profile(enum sandbox_profile p, const struct sandbox_opts *o)
{
	bool keyrings = o != NULL && o->allow_keyrings;
	bool nnp = o == NULL || !o->setuid_ok;

	switch (p) {
	case SANDBOX_NONE:
		return 0;
	case SANDBOX_LOGIN:
		return load_filter(keyrings ? SANDBOX_FILTER_LOGIN_KEYRINGS :
		    SANDBOX_FILTER_LOGIN, nnp);
	case SANDBOX_STRICT:
		return load_filter(keyrings ? SANDBOX_FILTER_STRICT_KEYRINGS :
		    SANDBOX_FILTER_STRICT, nnp);
	default:
		return -EINVAL;
	}
}

int
sandbox_enter_keyholder(void)
{
	int r = sandbox_drop_capabilities();

	return r < 0 ? r : sandbox_load_filter(SANDBOX_FILTER_KEYHOLDER);
}

int
sandbox_apply_netchild_filter(bool debug)
{
	/* debug: SCMP_ACT_LOG lets the call through and has the kernel log
	 * it (audit type=1326 "syscall=N", in dmesg or journalctl -k), so
	 * one run lists every missing call instead of dying at the first. */
	return sandbox_load_filter(debug ? SANDBOX_FILTER_NETCHILD_DEBUG :
	    SANDBOX_FILTER_NETCHILD);
}
