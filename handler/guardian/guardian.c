/* The guardian's life (guardian.h says what it is for): one wait for the
 * monitor's end, and if the monitor could not record it, the connection's
 * end in its place, from what the monitor kept for it (state.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "handler/front/log.h"
#include "handler/guardian/guardian.h"
#include "handler/guardian/state.h"
#include "handler/monitor/auth.h"
#include "handler/monitor/proctree.h"
#include "handler/monitor/records.h"

/* As the monitor: a hang-up, then SIGKILL for what is left after this. */
#define KILL_GRACE_USEC 2000000
/* A process stuck in the kernel (an NFS server gone) is not waited for
 * beyond this: it goes to init. */
#define REAP_LIMIT_USEC 5000000

struct gsession {
	bool live;
	pid_t pid;			/* session leader, and its process group */
	uint64_t start;
	const char *type;
	const char *command;		/* NULL: none */
	const char *tty;		/* "": no login record */
	bool ours;			/* the leader is our child (unreaped) */
	bool reaped;
	int status;
};

struct guardian {
	struct handover *h;
	pid_t monitor;
	pid_t net;			/* the network child, 0 if unknown */
	bool logged_in;
	const char *pam_user;
	uid_t uid;
	gid_t gid;
	bool pam_closed;
	bool kill_all;			/* KillUserProcesses */
	struct gsession sess[GUARDIAN_SESSIONS];
};

/* What the dead monitor kept, bounded, and only what its flags say is
 * whole (state.h). */
static void
take_state(struct guardian *g, struct guardian_state *st)
{
	g->net = st->net > 0 ? (pid_t)st->net : 0;
	g->logged_in = __atomic_load_n(&st->logged_in, __ATOMIC_ACQUIRE) == 1;
	if (g->logged_in) {
		st->audit_user[GUARDIAN_MAX_NAME] = '\0';
		st->client_version[GUARDIAN_MAX_NAME] = '\0';
		st->pam_user[GUARDIAN_MAX_NAME] = '\0';
		audit_conn_set_user(g->h->audit, st->audit_user, strlen(st->audit_user));
		audit_conn_set_version(g->h->audit, st->client_version,
		    strlen(st->client_version));
		g->pam_user = st->pam_user;
		g->uid = (uid_t)st->uid;
		g->gid = (gid_t)st->gid;
		g->kill_all = st->kill_user_processes != 0;
	}
	g->pam_closed = __atomic_load_n(&st->pam_closed, __ATOMIC_ACQUIRE) == 1;
	for (int i = 0; i < GUARDIAN_SESSIONS; i++) {
		struct guardian_session *r = &st->sess[i];
		struct gsession *s = &g->sess[i];

		if (!g->logged_in || __atomic_load_n(&r->live, __ATOMIC_ACQUIRE) != 1 ||
		    r->pid <= 0)
			continue;
		r->type[GUARDIAN_MAX_TYPE] = '\0';
		r->command[GUARDIAN_MAX_COMMAND] = '\0';
		r->tty[GUARDIAN_MAX_TTY] = '\0';
		*s = (struct gsession){ .live = true, .pid = (pid_t)r->pid,
		    .start = r->start, .type = r->type,
		    .command = r->has_command ? r->command : NULL, .tty = r->tty };
	}
}

/* ---- finishing in the monitor's place ---- */

/* Is pid our child, alive or not yet reaped?  Only then is its pid still
 * its own, and safe to signal. */
static bool
is_child(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return pid > 0 && waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0;
}

static void
reap(struct guardian *g)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		for (int i = 0; i < GUARDIAN_SESSIONS; i++) {
			struct gsession *s = &g->sess[i];

			if (s->live && s->ours && !s->reaped && s->pid == pid) {
				s->reaped = true;
				s->status = st;
			}
		}
}

static bool
sessions_running(struct guardian *g)
{
	for (int i = 0; i < GUARDIAN_SESSIONS; i++)
		if (g->sess[i].live && g->sess[i].ours && !g->sess[i].reaped)
			return true;
	return false;
}

static void
pause_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/* Everything below us but the network child: the sessions' processes
 * (the monitor was a subreaper: they were all below it, and are below us
 * now), signalled as the user (proctree.h). */
static size_t
walk(struct guardian *g, pid_t skip, int sig)
{
	return proctree_signal_as(getpid(), skip, sig, g->uid, g->gid);
}

/* As the monitor ends sessions (monitor_end_sessions): a hang-up to each
 * session and to every process below, SIGKILL after the grace to what is
 * left; then everything is reaped. */
static void
end_processes(struct guardian *g)
{
	const struct handover *h = g->h;
	uint64_t start = now_usec();
	pid_t skip = 0;
	size_t left;

	/* With no monitor the network child has nothing to relay: it most
	 * likely ended already, at the end of its socketpair. */
	if (is_child(g->net)) {
		proctree_kill_as(g->net, SIGKILL, h->privsep_uid, h->privsep_gid);
		skip = g->net;
	}
	if (!g->logged_in) {
		/* No sessions: whatever else the monitor had is root's own. */
		proctree_signal(getpid(), skip, SIGKILL);
	} else if (!g->kill_all) {
		/* KillUserProcesses no: the hang-up a closed terminal gives,
		 * to each session, and whatever ignores it lives on (it is
		 * init's once we are gone). */
		for (int i = 0; i < GUARDIAN_SESSIONS; i++) {
			struct gsession *s = &g->sess[i];

			s->ours = s->live && is_child(s->pid);
			if (s->ours)
				proctree_kill_as(-s->pid, SIGHUP, g->uid, g->gid);
		}
		while (sessions_running(g) && now_usec() - start < KILL_GRACE_USEC) {
			pause_ms(20);
			reap(g);
		}
		return;
	} else {
		for (int i = 0; i < GUARDIAN_SESSIONS; i++) {
			struct gsession *s = &g->sess[i];

			s->ours = s->live && is_child(s->pid);
			if (s->ours)
				proctree_kill_as(-s->pid, SIGHUP, g->uid, g->gid);
		}
		left = walk(g, skip, SIGHUP);
		while ((sessions_running(g) || left > 0) && now_usec() - start < KILL_GRACE_USEC) {
			pause_ms(20);
			reap(g);
			left = walk(g, skip, 0);
		}
		if (left > 0)
			walk(g, skip, SIGKILL);
		for (int i = 0; i < GUARDIAN_SESSIONS; i++) {
			struct gsession *s = &g->sess[i];

			if (s->ours && !s->reaped) {
				proctree_kill_as(-s->pid, SIGKILL, g->uid, g->gid);
				proctree_kill_as(s->pid, SIGKILL, g->uid, g->gid);
			}
		}
	}
	start = now_usec();
	for (;;) {
		siginfo_t si;

		reap(g);
		/* Looked at, not reaped: reap() keeps the sessions' ends. */
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD)
			break;
		if (now_usec() - start > REAP_LIMIT_USEC) {
			log_error("processes of the connection still running; left to init");
			break;
		}
		pause_ms(20);
	}
}

static void
finish(struct guardian *g, const char *reason)
{
	struct audit_conn *a = g->h->audit;
	struct audit_fields f = AUDIT_FIELDS_INIT;

	end_processes(g);
	for (int i = 0; i < GUARDIAN_SESSIONS; i++) {
		struct gsession *s = &g->sess[i];
		struct audit_fields sf = AUDIT_FIELDS_INIT;

		if (!s->live)
			continue;
		sf.session_type = s->type;
		sf.command = s->command;
		if (s->reaped && WIFEXITED(s->status))
			sf.exit_status = WEXITSTATUS(s->status);
		else if (s->reaped && WIFSIGNALED(s->status))
			sf.exit_signal = WTERMSIG(s->status);
		sf.duration_usec = (int64_t)(now_usec() - s->start);
		sf.reason = reason;
		audit_emit(AUDIT_SESSION_END, a, &sf);
		/* Its line leaves who and w, and last sees the logout. */
		if (s->tty[0] != '\0') {
			int r = records_logout(s->tty, s->pid);

			if (r < 0 && r != -ENOENT)
				log_errno(LOG_WARNING, r, "cannot write the logout record");
		}
	}
	if (g->logged_in && !g->pam_closed)
		pam_close_detached(a->remote_addr, g->pam_user);
	f.reason = reason;
	f.duration_usec = (int64_t)(now_usec() - g->h->start_usec);
	audit_emit(AUDIT_DISCONNECT, a, &f);
}

/* ---- the guardian's life ---- */

int
guardian_rescue(struct handover *h, pid_t monitor, int st)
{
	static struct guardian g;
	char reason[64];

	g = (struct guardian){ .h = h, .monitor = monitor };
	if (h->guardian == NULL)
		return EXIT_INTERNAL;
	if (WIFSIGNALED(st))
		snprintf(reason, sizeof(reason), "monitor killed by signal %d", WTERMSIG(st));
	else
		snprintf(reason, sizeof(reason), "monitor exited with status %d",
		    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	log_error("the monitor ended before the connection's end was recorded (%s): "
	    "ending it in its place", reason);
	take_state(&g, h->guardian);
	finish(&g, reason);
	return EXIT_INTERNAL;
}
