/* What the monitor may still do as root, before and after login.
 *
 * The shipped unit no longer cuts the capability bounding set nor sets
 * no_new_privs (units/sshand@.service says why: sudo needs both in a
 * session whose policy allows it, NoNewPrivileges no), so the monitor
 * confines itself: it keeps in its permitted set only the capabilities
 * it uses, and it keeps the bounding set whole only while some session
 * may still need it.  When the configuration gives no connection
 * NoNewPrivileges no (config_may_grant_privileges), the monitor cuts
 * the bounding set and sets no_new_privs from the start, as the unit did
 * before; after a login it does so as soon as the user's policy says
 * no_new_privs.  The network child and the key holder never depended on
 * the unit: they confine themselves (sandbox/netchild.c, keyholder.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <linux/capability.h>

#include "handler/front/log.h"
#include "handler/monitor/monitor.h"
#include "sandbox/sandbox.h"

/* Before login: the monitor's own work, and what it must still be able
 * to hand a session after it.
 *  CAP_SETUID CAP_SETGID  authorized_keys read with the user's file
 *                         system ids; AuthorizedKeysCommand's drop; the
 *                         network child signalled as its own uid
 *  CAP_SETPCAP            a drop to a user empties the bounding set
 *  CAP_AUDIT_WRITE        libpam's audit records (as root, libpam fails
 *                         the PAM call if the kernel refuses them)
 *  CAP_AUDIT_CONTROL      pam_loginuid at the session's opening
 *  CAP_SYS_RESOURCE       MaxOpenFiles may raise a session's hard limit
 *  CAP_SYS_CHROOT         ChrootDirectory
 *  CAP_SYS_ADMIN          only if some session may run setuid programs
 *                         under a seccomp profile: without no_new_privs
 *                         the kernel lets only CAP_SYS_ADMIN load one
 *                         (spawn.c loads it as root, before the drop)
 * The unit's bounding set had all of these but the last two. */
static const unsigned preauth_caps[] = {
	CAP_SETGID, CAP_SETUID, CAP_SETPCAP, CAP_AUDIT_WRITE, CAP_AUDIT_CONTROL,
	CAP_SYS_RESOURCE, CAP_SYS_CHROOT, CAP_SYS_ADMIN,
};
#define N_PREAUTH (sizeof(preauth_caps) / sizeof(preauth_caps[0]))

/* After login, what the monitor still does as root, and what for.  Not
 * CAP_CHOWN: the monitor opens ptys with the user's file system ids
 * (spawn.c).  Not CAP_KILL: it signals the user's processes and the
 * network child as their own uid (proctree.h), and if it dies, the
 * guardian ends them (guardian.h), not a death signal sent with its
 * rights.  No seccomp filter: the sessions are clone()d from the monitor
 * and would inherit it, and a session gets its profile and nothing else
 * (SandboxProfile none: no filter at all).  Found by trying: without any
 * one of the first three, sessions fail in the suite; the test hosts
 * cannot show the next two (their root has no CAP_SYS_RESOURCE to keep,
 * and their kernel lets the audit record pass without CAP_AUDIT_WRITE),
 * kept for the reasons given. */
static const unsigned login_caps[] = {
	/* A session's process drops to the user before it execs (spawn.c):
	 * setgroups, setresgid, setresuid; and the monitor takes the user's
	 * (or the network child's) ids for a moment to signal them, or the
	 * user's file system ids to open a pty. */
	CAP_SETGID, CAP_SETUID,
	/* A session's process empties its bounding set (PR_CAPBSET_DROP). */
	CAP_SETPCAP,
	/* A session's process sets its limits while still root: MaxOpenFiles
	 * may raise the hard limit it inherited.  (Where root lacks it,
	 * there is none to keep, and raising fails as it did when the
	 * monitor was the user.) */
	CAP_SYS_RESOURCE,
	/* libpam's audit record of the session close: as root, libpam fails
	 * the PAM call if the kernel refuses it. */
	CAP_AUDIT_WRITE,
	/* ChrootDirectory: a session's process chroots as root, before it
	 * drops to the user (spawn.c), as sshd's session child does. */
	CAP_SYS_CHROOT,
	/* Last, so that it can be left out: a session that may run setuid
	 * programs loads its seccomp profile as root (see above). */
	CAP_SYS_ADMIN,
};
#define N_LOGIN (sizeof(login_caps) / sizeof(login_caps[0]))

/* The kernel's answer, not ours: a test (and an administrator) reads it
 * in /proc/PID/status as NoNewPrivs. */
static int
set_no_new_privs(void)
{
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -errno : 0;
}

void
monitor_confine_preauth(struct monitor *m)
{
	bool may_grant = config_may_grant_privileges(m->h->cfg);
	int r;

	/* Without CAP_SYS_ADMIN last when no session will ever need it. */
	if (may_grant)
		r = sandbox_limit_capabilities(preauth_caps, N_PREAUTH);
	else {
		r = sandbox_keep_capabilities(preauth_caps, N_PREAUTH - 1);
		if (r == 0)
			r = set_no_new_privs();
	}
	if (r < 0) {
		log_errno(LOG_ERR, r, "cannot limit the monitor's capabilities");
		monitor_finish(m, EXIT_INTERNAL, "server-error");
	}
}

bool
monitor_session_setuid_ok(const struct monitor *m)
{
	return !m->us->no_new_privileges;
}

void
monitor_confine_login(struct monitor *m)
{
	const bool setuid_ok = monitor_session_setuid_ok(m);
	/* CAP_SYS_ADMIN only to load a filter without no_new_privs. */
	const bool filter_as_root = setuid_ok &&
	    (m->us->sandbox_profile != SANDBOX_NONE ||
	    m->us->subsystem_sandbox_profile != SANDBOX_NONE);
	const size_t n = filter_as_root ? N_LOGIN : N_LOGIN - 1;
	int r;

	/* The bounding set is cut to these, so that a PAM module's helper
	 * run at session close (pam_exec) gets no more than this back;
	 * unless the user's sessions may run setuid programs, which gain
	 * from it what they carry (sudo: everything, as under sshd). */
	if (setuid_ok)
		r = sandbox_limit_capabilities(login_caps, n);
	else {
		r = sandbox_keep_capabilities(login_caps, n);
		if (r == 0)
			r = set_no_new_privs();
	}
	if (r < 0) {
		log_errno(LOG_ERR, r, "cannot limit the monitor's capabilities");
		monitor_finish(m, EXIT_INTERNAL, "server-error");
	}
}
