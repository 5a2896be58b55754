/* The privileged monitor: answers the network child's requests.
 *
 * Before authentication it holds root, the config, the ban file and PAM,
 * and answers what privsep/protocol.h's table allows before login.  After
 * a successful login it opens the PAM session and keeps only the
 * capabilities it still needs (login.c); it stays root, out of the user's
 * reach, and from then on only starts the user's sessions, each of which
 * drops to the user itself (spawn.c), reports their ends (session.c), and
 * at the end closes the PAM session and writes the last records.  A
 * request the table does not allow is a privilege separation violation:
 * audited, and the connection ends.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include "handler/front/log.h"
#include "handler/guardian/guardian.h"
#include "handler/monitor/answers.h"
#include "handler/monitor/forward.h"
#include "handler/monitor/keyscmd.h"
#include "handler/monitor/monitor.h"
#include "handler/monitor/proctree.h"
#include "handler/privsep/messages.h"

static struct ps_msg in, out, pushback;

void
monitor_send(struct monitor *m)
{
	int r = ps_send(m->fd, m->out);

	ps_wipe(m->out);
	if (r == -EPIPE) {
		m->net_gone = true;
		return;
	}
	if (r < 0) {
		log_errno(LOG_ERR, r, "sending to the network child");
		monitor_finish(m, EXIT_INTERNAL, "server-error");
	}
}

/* Asks the child to end and waits a moment for its last word (byte
 * counts); it may be stuck, so the wait is bounded.  What else it says
 * meanwhile no longer matters. */
static void
drain_child(struct monitor *m, const char *reason)
{
	uint64_t deadline = now_usec() + 1000000;
	struct ps_stats st;

	ps_put_terminate(m->out, &(struct ps_terminate){ reason });
	/* The child may have ended already, its last word still queued. */
	ps_send(m->fd, m->out);
	while (now_usec() < deadline) {
		struct pollfd pfd = { .fd = m->fd, .events = POLLIN };
		int r = poll(&pfd, 1, (int)((deadline - now_usec()) / 1000) + 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || ps_recv(m->fd, m->in, MSG_DONTWAIT) < 0)
			return;
		ps_clear_fds(m->in);
		if (ps_type(m->in) == PS_STATS && ps_get_stats(m->in, &st) == 0)
			answer_stats(m, &st);
		ps_wipe(m->in);
	}
}

static uint64_t
rusage_usec(const struct rusage *ru)
{
	return (uint64_t)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000000 +
	    (uint64_t)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec);
}

pid_t
monitor_wait(struct monitor *m, pid_t who, int *status, int flags)
{
	struct rusage ru;
	pid_t pid = wait4(who, status, flags, &ru);

	if (pid > 0 && pid == m->net_pid) {
		m->net_cpu_usec = rusage_usec(&ru);
		m->net_reaped = true;
		m->net_status = *status;
	} else if (pid > 0 && pid == m->keys.pid)
		m->keys_cpu_usec = rusage_usec(&ru);
	else if (pid > 0)
		m->session_cpu_usec += rusage_usec(&ru);
	return pid;
}

/* Waits up to ms milliseconds for the network child to end, if it has not
 * been reaped yet: it closed its side, or was told to end; it may be
 * stuck, so the wait is bounded (monitor_finish kills it after). */
static void
reap_net(struct monitor *m, int ms)
{
	for (int i = 0; i < ms && m->net_pid > 0 && !m->net_reaped; i++) {
		struct timespec ts = { 0, 1000 * 1000 };
		int st;

		if (monitor_wait(m, m->net_pid, &st, WNOHANG) != 0)
			break;
		nanosleep(&ts, NULL);
	}
}

/* "cpu monitor usec N net usec N sessions usec N": what each part of the
 * connection used, for the benchmark's breakdown (LogLevel DEBUG). */
static void
log_cpu(struct monitor *m)
{
	reap_net(m, 50);
	/* Its own with the front's before the guardian's fork (log.h). */
	log_debug("cpu monitor usec %llu net usec %llu sessions usec %llu "
	    "keys usec %llu", (unsigned long long)process_cpu_usec(),
	    (unsigned long long)m->net_cpu_usec,
	    (unsigned long long)m->session_cpu_usec,
	    (unsigned long long)m->keys_cpu_usec);
}

void
monitor_finish(struct monitor *m, int code, const char *reason)
{
	struct audit_fields f = AUDIT_FIELDS_INIT;

	/* First: ending the sessions signals every process below us but
	 * the network child. */
	monitor_stop_keyholder(m);
	if (!m->net_gone && strcmp(reason, "privsep-violation") != 0)
		drain_child(m, reason);
	if (m->authed) {
		monitor_forward_end(m);
		monitor_end_sessions(m, reason);
		pam_finish(m->pam);
		m->pam = NULL;
		guardian_tell_pam_closed();
	}
	if (!m->net_gone) {
		/* Its last word is in or it is stuck: it ends now, signalled
		 * as its own uid (after login the monitor keeps no CAP_KILL).
		 * Not once reaped: its pid may be another process's by now. */
		if (!m->net_reaped)
			proctree_kill_as(m->net_pid, SIGKILL, m->h->privsep_uid,
			    m->h->privsep_gid);
		close(m->fd);
		m->net_gone = true;
	}
	if (!m->authed)
		monitor_count_abandoned(m);
	f.reason = reason;
	f.bytes_in = (int64_t)m->bytes_in;
	f.bytes_out = (int64_t)m->bytes_out;
	f.duration_usec = (int64_t)(now_usec() - m->h->start_usec);
	audit_emit(AUDIT_DISCONNECT, m->h->audit, &f);
	guardian_tell_done();
	if (m->h->log_prio >= LOG_DEBUG)
		log_cpu(m);
	exit(code);
}

void
monitor_violation(struct monitor *m, const char *fmt, ...)
{
	struct audit_fields f = AUDIT_FIELDS_INIT;
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	log_error("privilege separation violation: %s", what);
	f.reason = what;
	audit_emit(AUDIT_PRIVSEP_VIOLATION, m->h->audit, &f);
	monitor_finish(m, EXIT_PROTOCOL, "privsep-violation");
}

/* Why the connection ends, now that the child has closed its side: its
 * last word (STATS) if it said one.  If not, it crashed, was killed, or
 * could not even start (its half would not load): the server's failure,
 * not the client's, if its exit says so. */
static const char *
net_end_reason(struct monitor *m)
{
	int st;

	if (m->reason[0])
		return m->reason;
	reap_net(m, 100);
	if (!m->net_reaped)
		return "client-closed";	/* closed the socket, still running */
	st = m->net_status;
	if (WIFSIGNALED(st)) {
		log_error("the network child was killed by signal %d", WTERMSIG(st));
		return "server-error";
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) != EXIT_OK) {
		log_error("the network child ended with status %d", WEXITSTATUS(st));
		return "server-error";
	}
	return "client-closed";
}

/* Before authentication: requests until one method succeeds. */
static void
preauth_loop(struct monitor *m)
{
	while (!m->authed) {
		if (m->have_pushback) {
			/* Checked when it ended the conversation. */
			ps_move(m->in, m->pushback);
			m->have_pushback = false;
		} else {
			monitor_wait_preauth(m);
			/* The child is gone, or closed its end and ends at
			 * ours. */
			if (monitor_next(m, PS_PREAUTH, 0) == -EPIPE)
				monitor_finish(m, EXIT_NOAUTH, net_end_reason(m));
		}
		monitor_answer(m);
	}
}

/* After authentication: requests, and the sessions' ends (SIGCHLD). */
static void __attribute__((noreturn))
postauth_loop(struct monitor *m, int sfd)
{
	for (;;) {
		struct pollfd pfd[3] = {
			{ .fd = m->fd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = monitor_forwarder_fd(m), .events = POLLIN },
		};
		int r = poll(pfd, pfd[2].fd >= 0 ? 3 : 2, -1);

		if (r < 0 && errno == EINTR)
			continue;
		if (pfd[2].fd >= 0 && (pfd[2].revents & (POLLIN | POLLHUP | POLLERR)))
			monitor_forwarder_input(m);
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				;
			monitor_reap(m);
		}
		if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		r = monitor_next(m, PS_POSTAUTH, MSG_DONTWAIT);
		if (r == -EAGAIN)
			continue;
		if (r == -EPIPE)
			break;	/* the network child ended */
		monitor_answer(m);
	}
	m->net_gone = true;
	monitor_finish(m, EXIT_OK, net_end_reason(m));
}

int
monitor_main(struct handover *h, int net_fd, pid_t net_pid)
{
	struct monitor *m = calloc(1, sizeof(*m));
	sigset_t mask;
	int sfd;

	if (m == NULL)
		return EXIT_INTERNAL;
	m->h = h;
	m->fd = net_fd;
	m->in = &in;
	m->out = &out;
	m->pushback = &pushback;
	m->net_pid = net_pid;
	guardian_attach(h->guardian);
	guardian_tell_net(net_pid);
	if (h->global->login_grace_time > 0)
		m->deadline = h->start_usec + (uint64_t)h->global->login_grace_time * 1000000;

	m->keys.fd = -1;
	close(h->sock);
	monitor_start_keyholder(m);
	/* The key holder and the network child are on their own now. */
	monitor_confine_preauth(m);

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		log_errno(LOG_ERR, -errno, "signalfd");
		monitor_finish(m, EXIT_INTERNAL, "server-error");
	}
	preauth_loop(m);
	keyscmd_forget();
	free(m->looked_up);
	m->looked_up = NULL;
	free(m->am_user);
	m->am_user = NULL;
	user_info_free(&m->looked_up_u);
	phase("session-ready", h->start_usec);
	postauth_loop(m, sfd);
}
