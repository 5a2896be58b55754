/* After a successful login: the PAM session, the monitor cut down to what
 * it still needs, and the answer that lets the client in.
 *
 * The monitor stays root (OpenSSH's model: the privileged side stays
 * privileged, the session side drops): each session's process drops to
 * the user and loads the user's seccomp profile itself before it execs
 * (spawn.c).  So the process that writes the session-end and disconnect
 * records, closes the PAM session and reaps the sessions is one the user
 * can neither signal nor ptrace (another uid, not dumpable). */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <security/pam_appl.h>

#include "handler/front/log.h"
#include "handler/guardian/guardian.h"
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
	const bool key = strcmp(m->method, "publickey") == 0;

	phase("authed", m->h->start_usec);
	/* The session modules' messages (pam_motd, pam_mail) wait for the
	 * first session, as sshd's loginmsg does (greeting.h). */
	if (pam_set_session_conv(m->pam, &(struct pam_conv){ greeting_pam_conv,
	    &m->pam_msgs }) < 0 || pam_session_open(m->pam) < 0)
		monitor_finish(m, EXIT_INTERNAL, "server-error");
	/* From here on someone must close it: if we die, the guardian. */
	guardian_tell_login(&(struct guardian_login){ .audit_user = m->h->audit->user,
	    .client_version = m->h->audit->client_version, .pam_user = m->user.name,
	    .uid = m->user.uid, .gid = m->user.gid,
	    .kill_user_processes = m->us->kill_user_processes });
	phase("pam-session", m->h->start_usec);
	/* The ban file is not needed any more. */
	if (m->h->bans != NULL) {
		ban_close(m->h->bans);
		m->h->bans = NULL;
	}
	/* Authenticated: its MaxStartups slot goes to the next one. */
	if (m->h->startups_fd >= 0) {
		close(m->h->startups_fd);
		m->h->startups_fd = -1;
	}
	/* Whatever the sessions leave behind (double-forked daemons, setsid()
	 * escapes) is reparented to us, not to init, so that ending the
	 * sessions finds it below us. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		log_errno(LOG_ERR, -errno, "PR_SET_CHILD_SUBREAPER");
		monitor_finish(m, EXIT_INTERNAL, "server-error");
	}
	monitor_confine_login(m);
	phase("bound", m->h->start_usec);
	if (key && m->cert_desc[0])
		/* sshd's words for a certificate (auth2-pubkey.c). */
		log_info("Accepted %s for %s from %s port %u ssh2: %s %s %s",
		    m->method, m->user.name, m->h->audit->remote_addr,
		    m->h->audit->remote_port, m->cert_label, m->fingerprint,
		    m->cert_desc);
	else
		log_info("Accepted %s for %s from %s port %u%s%s", m->method,
		    m->user.name, m->h->audit->remote_addr,
		    m->h->audit->remote_port, key ? " " : "",
		    key ? m->fingerprint : "");
	/* The child refuses pty requests up front, as sshd does; the monitor
	 * still checks each session. */
	struct ps_auth_result ok = { .result = PS_AUTH_OK,
	    .flags = monitor_pty_permitted(m) ? PS_FLAG_PTY : 0,
	    .max_sessions = m->us->max_sessions,
	    .alive_interval = m->us->client_alive_interval,
	    .alive_count_max = m->us->client_alive_count_max,
	    .unused_timeout = m->us->unused_connection_timeout };

	/* ChannelTimeout as configured (the load bounds it to the
	 * message's); the network child times its channels. */
	for (size_t i = 0; i < m->us->channel_timeouts.n &&
	    i < PS_MAX_CHAN_TIMEOUTS; i++)
		ok.channel_timeouts[ok.n_channel_timeouts++] =
		    m->us->channel_timeouts.v[i];
	ps_put_auth_result(m->out, &ok);
	monitor_send(m);
}
