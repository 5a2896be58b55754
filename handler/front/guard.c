/* The guardian's wait, in the front (see guardian/guardian.h for what the
 * guardian is for).
 *
 * The guardian is the connection's first process, and in nearly every
 * connection it only waits: so it waits here, with libc alone, forked
 * before the monitor's half (PAM, libcap-ng, OpenSSL) is loaded.  Its fork
 * copies a small process and its exit tears one down; the half is loaded
 * into it only when a monitor died without recording the connection's end
 * (guardian_rescue). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <linux/capability.h>

#include "handler/front/guard.h"
#include "handler/front/log.h"
#include "handler/guardian/state.h"
#include "sandbox/sandbox.h"

/* The guardian never starts a session, so it gives up for good what its
 * rescue does not use, bounding set included, and sets no_new_privs: the
 * unit no longer does either (it would forbid sudo in the sessions that
 * policy allows it).  What the rescue (guardian/guardian.c) does as root:
 * end the sessions' processes and the network child as their own uids
 * (setresuid/setresgid, proctree.h), close the PAM session (libpam's audit
 * record), write the last records. */
static void
confine(void)
{
	static const unsigned keep[] = { CAP_SETGID, CAP_SETUID, CAP_AUDIT_WRITE };
	int r;

	r = sandbox_keep_capabilities(keep, sizeof(keep) / sizeof(keep[0]));
	if (r == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		r = -errno;
	/* It only waits, and is there to finish for a dead monitor: it goes
	 * on, and says so. */
	if (r < 0)
		log_errno(LOG_ERR, r, "cannot limit the guardian's capabilities");
}

/* The monitor's end: its wait status.  Signals meant to end the connection
 * (SIGTERM from `systemctl stop`, or anyone's) are passed on to it; it
 * ends the connection, or the guardian does after it. */
static int
wait_monitor(pid_t monitor)
{
	sigset_t set;
	int st = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (;;) {
		siginfo_t si;
		pid_t pid = waitpid(monitor, &st, WNOHANG);

		if (pid == monitor)
			return st;
		if (pid < 0 && errno != EINTR) {
			log_errno(LOG_ERR, -errno, "waiting for the monitor");
			return st;
		}
		/* Blocked, so one that came since the waitpid() is pending. */
		if (sigwaitinfo(&set, &si) > 0 && si.si_signo != SIGCHLD)
			kill(monitor, si.si_signo);
	}
}

bool
guard_wait(struct handover *h, pid_t monitor, int *ret_status)
{
	log_set_prefix("guardian");
	/* What a dead monitor leaves is reparented to us, not to init. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		log_errno(LOG_ERR, -errno, "PR_SET_CHILD_SUBREAPER");
	/* Nothing of the connection's: the network child and the monitor
	 * hold what they need. */
	close(h->sock);
	h->sock = -1;
	if (h->bans != NULL) {
		ban_close(h->bans);
		h->bans = NULL;
	}
	if (h->startups_fd >= 0) {
		close(h->startups_fd);
		h->startups_fd = -1;
	}
	confine();
	*ret_status = wait_monitor(monitor);
	return h->guardian == NULL ||
	    __atomic_load_n(&h->guardian->done, __ATOMIC_ACQUIRE) == 1;
}
