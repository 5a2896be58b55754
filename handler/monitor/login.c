/* After a successful login: the PAM session, then the drop to the user for
 * good, the user's seccomp profile on the monitor itself (every session
 * inherits it), and the answer that lets the client in. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/prctl.h>

#include "handler/front/log.h"
#include "handler/monitor/monitor.h"
#include "handler/privsep/messages.h"
#include "sandbox/sandbox.h"

bool
monitor_pty_permitted(const struct monitor *m)
{
	return m->us->permit_tty && !(m->have_keyopts && m->keyopts.no_pty);
}

void
monitor_login(struct monitor *m)
{
	enum sandbox_profile prof = m->us->sandbox_profile;
	struct sandbox_opts so = { .allow_keyrings = m->us->sandbox_allow_keyrings };
	const bool key = strcmp(m->method, "publickey") == 0;
	int r;

	phase("authed", m->h->start_usec);
	if (pam_session_open(m->pam) < 0)
		monitor_finish(m, EXIT_INTERNAL, "server-error");
	phase("pam-session", m->h->start_usec);
	/* The ban file is not needed any more, and must not stay reachable
	 * from a process the user owns. */
	if (m->h->bans != NULL) {
		ban_close(m->h->bans);
		m->h->bans = NULL;
	}
	/* Whatever the sessions leave behind (double-forked daemons, setsid()
	 * escapes) is reparented to us, not to init, so that ending the
	 * sessions finds it below us. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		log_errno(LOG_ERR, -errno, "PR_SET_CHILD_SUBREAPER");
		monitor_finish(m, EXIT_INTERNAL, "server-error");
	}
	r = sandbox_drop_to_user(m->user.uid, m->user.gid, m->user.groups,
	    m->user.ngroups);
	if (r < 0) {
		log_errno(LOG_ERR, r, "cannot drop privileges to %s", m->user.name);
		monitor_finish(m, EXIT_INTERNAL, "server-error");
	}
	phase("drop", m->h->start_usec);
	r = sandbox_apply_profile(prof, &so);
	if (r < 0) {
		log_errno(LOG_ERR, r, "cannot load sandbox profile %s",
		    sandbox_profile_name(prof));
		monitor_finish(m, EXIT_INTERNAL, "server-error");
	}
	phase("profile", m->h->start_usec);
	log_info("Accepted %s for %s from %s port %u%s%s", m->method, m->user.name,
	    m->h->audit->remote_addr, m->h->audit->remote_port, key ? " " : "",
	    key ? m->fingerprint : "");
	/* The child refuses pty requests up front, as sshd does; the monitor
	 * still checks each session. */
	ps_put_auth_result(m->out, &(struct ps_auth_result){ PS_AUTH_OK,
	    monitor_pty_permitted(m) ? PS_FLAG_PTY : 0 });
	monitor_send(m);
}
