/* Per-session resource limits, set while still root so that the hard
 * limits can be lowered and raised as policy says; they are inherited by
 * everything the session starts. */
#include <errno.h>
#include <stddef.h>
#include <sys/resource.h>

#include "sandbox/sandbox.h"

static int
set_both(int resource, rlim_t value)
{
	struct rlimit rl = { .rlim_cur = value, .rlim_max = value };

	if (setrlimit(resource, &rl) < 0)
		return -errno;
	return 0;
}

int
sandbox_set_limits(const struct sandbox_limits *l)
{
	int r;

	if (l == NULL)
		return -EINVAL;
	/* RLIMIT_NPROC counts every process of the real uid on the host,
	 * and is checked at fork() once the uid is no longer privileged:
	 * it is the cap on one user's processes, not on one session's. */
	if (l->max_procs > 0) {
		r = set_both(RLIMIT_NPROC, l->max_procs);
		if (r < 0)
			return r;
	}
	if (l->max_files > 0) {
		r = set_both(RLIMIT_NOFILE, l->max_files);
		if (r < 0)
			return r;
	}
	/* Both soft and hard: a core file of a process that held a password
	 * or a host key is a leak, and the user must not raise it again. */
	if (!l->core_dumps) {
		r = set_both(RLIMIT_CORE, 0);
		if (r < 0)
			return r;
	}
	return 0;
}
