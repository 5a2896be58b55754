/* The monitor's answers after login: start a session (its environment,
 * forced commands, the pty policy), resize it, signal it, hang it up; and
 * what happens when sessions end, or the connection does. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include "handler/front/log.h"
#include "handler/guardian/guardian.h"
#include "handler/monitor/answers.h"
#include "handler/monitor/chroot.h"
#include "handler/monitor/forward.h"
#include "handler/monitor/monitor.h"
#include "handler/monitor/proctree.h"
#include "handler/monitor/session-env.h"
#include "handler/monitor/spawn.h"

#define KILL_GRACE_USEC 2000000

/* Signals the user's processes (pid as kill() takes it) as the user: the
 * monitor keeps no CAP_KILL (login.c, proctree.h). */
static void
sess_kill(struct monitor *m, pid_t pid, int sig)
{
	proctree_kill_as(pid, sig, m->user.uid, m->user.gid);
}

/* The live session of a channel id, or (by_pid) whose leader is key. */
static struct psession *
sess_find(struct monitor *m, bool by_pid, uint32_t key)
{
	for (int i = 0; i < MAX_SESSIONS; i++) {
		struct psession *s = &m->sess[i];

		if (s->live && (by_pid ? (uint32_t)s->pid : s->id) == key)
			return s;
	}
	return NULL;
}

/* ---- the answers ---- */

static void
session_refused(struct monitor *m, uint32_t id, const char *why)
{
	ps_put_session_started(m->out, &(struct ps_session_started){
	    .id = id, .error = why });
	monitor_send(m);
}

static const char *const kind_names[] = {
	[PS_KIND_SHELL] = "shell",
	[PS_KIND_EXEC] = "exec",
	[PS_KIND_SUBSYSTEM] = "subsystem",
};

void
answer_session_arg(struct monitor *m, const struct ps_session_arg *r)
{
	size_t n = strlen(r->part);
	char *nb;

	if (m->arg_buf != NULL && m->arg_id != r->id) {
		free(m->arg_buf);
		m->arg_buf = NULL;
		m->arg_len = 0;
	}
	if (m->arg_len + n > PS_MAX_COMMAND - PS_MAX_ARG_PART)
		monitor_violation(m, "exec command beyond %d bytes", PS_MAX_COMMAND);
	nb = realloc(m->arg_buf, m->arg_len + n + 1);
	if (nb == NULL)
		monitor_finish(m, EXIT_INTERNAL, "server-error");
	memcpy(nb + m->arg_len, r->part, n + 1);
	m->arg_buf = nb;
	m->arg_len += n;
	m->arg_id = r->id;
}

/* The whole argument of a session request: its SESSION_ARG parts, if it
 * came in parts, and its own (a fresh string, or NULL). */
static char *
whole_arg(struct monitor *m, const struct ps_session_open *r)
{
	char *a = NULL;

	if (!r->arg_parts)
		return strdup(r->arg);
	if (r->kind != PS_KIND_EXEC || m->arg_buf == NULL || m->arg_id != r->id)
		monitor_violation(m, "session_open without its parts");
	if (asprintf(&a, "%s%s", m->arg_buf, r->arg) < 0)
		a = NULL;
	free(m->arg_buf);
	m->arg_buf = NULL;
	m->arg_len = 0;
	return a;
}

static void start_session(struct monitor *m, const struct ps_session_open *r,
    const char *arg);

void
answer_session_open(struct monitor *m, const struct ps_session_open *r)
{
	char *arg = whole_arg(m, r);

	if (arg == NULL)
		monitor_finish(m, EXIT_INTERNAL, "server-error");
	start_session(m, r, arg);
	free(arg);
}

/* MaxSessions is capped at what the tables hold. */
_Static_assert(MAX_SESSIONS >= SSHAND_MAX_SESSIONS &&
    PS_MAX_SESSIONS == SSHAND_MAX_SESSIONS, "MaxSessions fits the tables");

static unsigned
sessions_live(const struct monitor *m)
{
	unsigned n = 0;

	/* A session whose channel ChannelTimeout closed counts no more:
	 * sshd frees its slot then, while its command may run on. */
	for (int i = 0; i < MAX_SESSIONS; i++)
		n += m->sess[i].live && !m->sess[i].detached;
	return n;
}

/* sshd's internal-sftp: as a subsystem (Subsystem sftp internal-sftp,
 * or ForceCommand internal-sftp met by the sftp subsystem), the server
 * runs in the session's process; a shell or exec request under
 * ForceCommand internal-sftp is answered with sshd's refusal.  A
 * client's own "exec internal-sftp" is an ordinary command, as in sshd.
 * -1 when the session was refused (its options are bad). */
static int
internal_sftp(struct monitor *m, const struct ps_session_open *r,
    const char *command, bool forced, struct session_spec *sp,
    struct sftp_opts *opts)
{
	char why[160];

	if (!sftp_is_internal(command) || (!forced && r->kind != PS_KIND_SUBSYSTEM))
		return 0;
	if (r->kind != PS_KIND_SUBSYSTEM) {
		log_info("Connection from %s: refusing non-sftp session for %s",
		    m->h->audit->remote_addr, m->user.name);
		sp->run = RUN_SFTP_ONLY;
		return 0;
	}
	if (sftp_opts_parse(command, m->user.name, m->user.dir, opts, why,
	    sizeof(why)) < 0) {
		log_error("internal-sftp for %s: %s", m->user.name, why);
		session_refused(m, r->id, "bad internal-sftp options");
		return -1;
	}
	sp->run = RUN_SFTP;
	sp->sftp = opts;
	return 0;
}

/* ChrootDirectory, checked now (chroot.c): a path the user could
 * change refuses the session, logged as sshd logs it and audited with
 * the reason; the descriptor, or -1. */
static int
safe_chroot(struct monitor *m, const struct ps_session_open *r,
    const char *type, const char *command)
{
	char path[PATH_MAX], why[PATH_MAX + 96];
	int fd = chroot_open(m->us->chroot_directory, &m->user, path,
	    sizeof(path), why, sizeof(why));
	struct audit_fields f = AUDIT_FIELDS_INIT;

	if (fd >= 0)
		return fd;
	log_error("session of %s refused: %s", m->user.name,
	    why[0] ? why : strerror(-fd));
	f.session_type = type;
	f.command = command;
	f.reason = "unsafe-chroot-directory";
	audit_emit(AUDIT_SESSION_REFUSED, m->h->audit, &f);
	session_refused(m, r->id, "unsafe chroot directory");
	return -1;
}

static void
start_session(struct monitor *m, const struct ps_session_open *r, const char *arg)
{
	const char *type = kind_names[r->kind], *command = NULL, *orig = NULL;
	const char *forced = m->us->force_command ? m->us->force_command :
	    m->have_keyopts ? m->keyopts.command : NULL;
	struct session_spec sp = { .profile = m->us->sandbox_profile,
	    .subsystem_profile = m->us->sandbox_profile, .chroot_fd = -1 };
	struct sftp_opts sftp;
	struct session_proc proc;
	struct psession *slot = NULL;
	struct env env;
	char *greeting;
	size_t greeting_len;
	int err;

	if (sess_find(m, false, r->id) != NULL || r->cols > 10000 || r->rows > 10000)
		monitor_violation(m, "malformed session_open request");
	for (int i = 0; i < MAX_SESSIONS && slot == NULL; i++)
		if (!m->sess[i].live)
			slot = &m->sess[i];
	/* MaxSessions, whatever the network child let through. */
	if (sessions_live(m) >= m->us->max_sessions)
		slot = NULL;
	if (r->kind == PS_KIND_EXEC)
		command = arg;
	else if (r->kind == PS_KIND_SUBSYSTEM) {
		command = settings_subsystem(m->us, arg);
		if (command == NULL) {
			log_info("unknown subsystem \"%s\" refused", arg);
			session_refused(m, r->id, "unknown subsystem");
			return;
		}
		sp.subsystem_profile = m->us->subsystem_sandbox_profile;
	}
	/* A forced command replaces whatever the client asked to run, which
	 * it then finds in SSH_ORIGINAL_COMMAND. */
	if (forced != NULL) {
		orig = r->kind == PS_KIND_SHELL ? NULL : arg;
		command = forced;
	}
	if (r->pty && !monitor_pty_permitted(m)) {
		log_info("pty refused for %s", m->user.name);
		session_refused(m, r->id, "pty not permitted");
		return;
	}
	if (slot == NULL) {
		session_refused(m, r->id, "too many sessions");
		return;
	}
	if (internal_sftp(m, r, command, forced != NULL, &sp, &sftp) < 0)
		return;
	if (m->us->chroot_directory != NULL &&
	    (sp.chroot_fd = safe_chroot(m, r, type, command)) < 0)
		return;
	err = build_env(m, r, orig, &env);
	if (err < 0) {
		log_errno(LOG_ERR, err, "session environment");
		session_refused(m, r->id, "out of memory");
		return;
	}
	/* Before this session's login record: it shows the last one. */
	err = greeting_build(&(struct greeting_request){ .user = &m->user,
	    .pty = r->pty, .command = command, .pam = &m->pam_msgs,
	    .print_lastlog = m->us->print_lastlog, .print_motd = m->us->print_motd,
	    .motd = "/etc/motd" }, &greeting, &greeting_len);
	if (err < 0) {
		env_free(&env);
		log_errno(LOG_ERR, err, "login message");
		session_refused(m, r->id, "out of memory");
		return;
	}
	sp.user = &m->user;
	sp.command = command;
	sp.sandbox.allow_keyrings = m->us->sandbox_allow_keyrings;
	sp.sandbox.setuid_ok = monitor_session_setuid_ok(m);
	sp.limits.max_procs = m->us->max_session_procs;
	sp.limits.max_files = m->us->max_open_files;
	sp.limits.core_dumps = m->us->allow_core_dumps;
	sp.pty = r->pty;
	sp.term = r->term;
	sp.cols = r->cols, sp.rows = r->rows, sp.xpix = r->xpix, sp.ypix = r->ypix;
	sp.modes = r->modes;
	sp.nmodes = r->modes_len;
	sp.env = env.v;
	/* As sshd: no user rc for subsystems, nor under the administrator's
	 * ForceCommand. */
	sp.user_rc = m->us->permit_user_rc && r->kind != PS_KIND_SUBSYSTEM &&
	    m->us->force_command == NULL &&
	    !(m->have_keyopts && m->keyopts.no_user_rc);
	sp.system_rc = "/etc/sshand/sshrc";
	sp.greeting = greeting;
	sp.greeting_len = greeting_len;
	(void)monitor_x11_auth(m, r->id, &sp.x11_proto, &sp.x11_cookie,
	    &sp.x11_display);
	sp.monitor = getpid();
	phase("session-fork", m->h->start_usec);
	err = session_start(&sp, &proc);
	if (sp.chroot_fd >= 0)
		close(sp.chroot_fd);
	env_free(&env);
	free(greeting);
	phase("session-started", m->h->start_usec);
	if (err < 0) {
		log_errno(LOG_ERR, err, "cannot start a session");
		session_refused(m, r->id, "cannot start the session");
		return;
	}
	*slot = (struct psession){ .live = true, .id = r->id, .pid = proc.pid,
	    .master = proc.master, .type = type, .start = now_usec() };
	ps_session_chan_type(r->kind, arg, slot->chan_type, sizeof(slot->chan_type));
	/* A subsystem's record names the subsystem, except internal-sftp,
	 * which is no program the name would lead to. */
	if (r->kind != PS_KIND_SHELL || forced != NULL)
		slot->command = strdup(r->kind == PS_KIND_SUBSYSTEM &&
		    forced == NULL && sp.run != RUN_SFTP ? arg : command);
	if (proc.why[0] != '\0') {
		/* Its stderr told the client; its record will say it too. */
		log_error("session of %s could not start: %s", m->user.name, proc.why);
		slot->why = strdup(proc.why);
	}
	if (r->pty)
		snprintf(slot->tty, sizeof(slot->tty), "%s", proc.tty);
	/* Before anything else: the guardian records its end if we cannot,
	 * the logout of its login record included. */
	guardian_tell_session_start(slot->id, slot->pid, slot->type, slot->command,
	    slot->tty, slot->start);
	/* Only pty sessions are logins for who, w and last, as in sshd. */
	if (r->pty)
		monitor_record_login(m, slot->tty, slot->pid);

	struct ps_session_started ok = { .id = r->id, .ok = true, .pty = r->pty,
	    .n_fds = (size_t)proc.nfds };
	memcpy(ok.fds, proc.fds, sizeof(int) * (size_t)proc.nfds);
	ps_put_session_started(m->out, &ok);
	monitor_send(m);
	/* Our copies would keep the child's pipes open: only the pty master
	 * stays, for window changes. */
	for (int i = 0; i < proc.nfds; i++)
		if (proc.fds[i] != proc.master)
			close(proc.fds[i]);

	struct audit_fields f = AUDIT_FIELDS_INIT;
	f.session_type = type;
	f.command = slot->command;
	audit_emit(AUDIT_SESSION_START, m->h->audit, &f);
}

void
answer_window_change(struct monitor *m, const struct ps_window_change *r)
{
	struct winsize ws = { .ws_col = (unsigned short)r->cols,
	    .ws_row = (unsigned short)r->rows, .ws_xpixel = (unsigned short)r->xpix,
	    .ws_ypixel = (unsigned short)r->ypix };
	struct psession *s = sess_find(m, false, r->id);

	/* The kernel tells the foreground process group (SIGWINCH). */
	if (s != NULL && s->master >= 0)
		ioctl(s->master, TIOCSWINSZ, &ws);
}

static int
signal_by_name(const char *name)
{
	static const struct { const char *n; int s; } t[] = {
		{ "ABRT", SIGABRT }, { "ALRM", SIGALRM }, { "FPE", SIGFPE },
		{ "HUP", SIGHUP }, { "ILL", SIGILL }, { "INT", SIGINT },
		{ "KILL", SIGKILL }, { "PIPE", SIGPIPE }, { "QUIT", SIGQUIT },
		{ "SEGV", SIGSEGV }, { "TERM", SIGTERM }, { "USR1", SIGUSR1 },
		{ "USR2", SIGUSR2 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(name, t[i].n) == 0)
			return t[i].s;
	return 0;
}

void
answer_signal(struct monitor *m, const struct ps_signal *r)
{
	struct psession *s = sess_find(m, false, r->id);
	int sig = signal_by_name(r->name);

	if (s != NULL && sig != 0)
		sess_kill(m, -s->pid, sig);
}

/* Can the network child's word be true, that it closed s's channel
 * after idle seconds of inactivity?  Only if this user's ChannelTimeout
 * gives s's channel type that interval (another type's, a forwarding's,
 * is no reason), and s has run that long: a child that said so otherwise
 * would free MaxSessions' count at will. */
static bool
idle_close_plausible(const struct monitor *m, const struct psession *s,
    uint32_t idle)
{
	return chantimeout_for(&m->us->channel_timeouts, s->chan_type) == idle &&
	    now_usec() - s->start >= (uint64_t)idle * 1000000;
}

/* The client closed the session's channel while the session runs.  As
 * sshd (session.c, session_close_by_channel): a terminal session gets the
 * hang-up that closing its terminal gives; a command without one is not
 * signalled, and runs on with what the network child still drains into
 * its stdin (relay.c).  KillUserProcesses acts at the connection's end. */
void
answer_session_close(struct monitor *m, const struct ps_session_close *r)
{
	struct psession *s = sess_find(m, false, r->id);

	/* ChannelTimeout: the network child closed an idle channel, as
	 * sshd does (and says). */
	if (r->idle != 0) {
		if (s != NULL && !idle_close_plausible(m, s, r->idle))
			monitor_violation(m, "session_close after %u idle seconds "
			    "that no ChannelTimeout gives", r->idle);
		log_info("channel %u: closing after %u seconds of inactivity",
		    r->id, r->idle);
		if (s != NULL) {
			s->detached = true;
			if (s->why == NULL)
				s->why = strdup("channel-timeout");
		}
	}
	if (s != NULL && s->master >= 0)
		sess_kill(m, -s->pid, SIGHUP);
}

/* ---- ends ---- */

/* Why the sessions still running end, once the connection does (what its
 * disconnect record will say); NULL while each session ends on its own. */
static const char *ending_reason;

static void
session_ended(struct monitor *m, struct psession *s, int status)
{
	struct audit_fields f = AUDIT_FIELDS_INIT;

	if (!m->net_gone) {
		ps_put_exit(m->out, &(struct ps_exit){
		    .id = s->id,
		    .exited = WIFEXITED(status),
		    .status = WIFEXITED(status) ? (uint32_t)WEXITSTATUS(status) : 0,
		    .signal = WIFSIGNALED(status) ? (uint32_t)WTERMSIG(status) : 0,
		    .core = WIFSIGNALED(status) && WCOREDUMP(status) });
		monitor_send(m);
	}
	f.session_type = s->type;
	f.command = s->command;
	if (WIFEXITED(status))
		f.exit_status = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		f.exit_signal = WTERMSIG(status);
	f.duration_usec = (int64_t)(now_usec() - s->start);
	f.reason = s->why ? s->why : ending_reason;
	audit_emit(AUDIT_SESSION_END, m->h->audit, &f);
	/* Before the guardian forgets it: if we die in between, the logout
	 * is written twice rather than never. */
	if (s->tty[0] != '\0')
		monitor_record_logout(s->tty, s->pid);
	guardian_tell_session_end(s->id);
	/* With KillUserProcesses, the session's other processes
	 * (background jobs) go with it; without, they are the user's to
	 * keep, as under sshd. */
	if (m->us->kill_user_processes)
		sess_kill(m, -s->pid, SIGHUP);
	if (s->master >= 0)
		close(s->master);
	free(s->command);
	free(s->why);
	s->why = NULL;
	s->live = false;
}

/* A session whose leader outlives the connection (KillUserProcesses no):
 * its record has no exit, and the reason the connection ended. */
static void
session_left_running(struct monitor *m, struct psession *s)
{
	struct audit_fields f = AUDIT_FIELDS_INIT;

	f.session_type = s->type;
	f.command = s->command;
	f.duration_usec = (int64_t)(now_usec() - s->start);
	f.reason = ending_reason;
	audit_emit(AUDIT_SESSION_END, m->h->audit, &f);
	/* Its pty is gone with the connection: the login has ended, as
	 * sshd records it at the pty's release, whatever still runs. */
	if (s->tty[0] != '\0')
		monitor_record_logout(s->tty, s->pid);
	guardian_tell_session_end(s->id);
	if (s->master >= 0)
		close(s->master);
	free(s->command);
	free(s->why);
	s->why = NULL;
	s->live = false;
}

void
monitor_reap(struct monitor *m)
{
	int status;
	pid_t pid;

	while ((pid = monitor_wait(m, -1, &status, WNOHANG)) > 0) {
		struct psession *s;

		if (pid == m->net_pid) {
			m->net_gone = true;
			continue;
		}
		s = sess_find(m, true, (uint32_t)pid);
		if (s != NULL)
			session_ended(m, s, status);
	}
}

static bool
any_live(struct monitor *m)
{
	for (int i = 0; i < MAX_SESSIONS; i++)
		if (m->sess[i].live)
			return true;
	return false;
}

/* Signals every process of the connection's sessions: all descendants of
 * the monitor but the network child.  The monitor is a child subreaper
 * (login.c), so background jobs, double-forked daemons and processes that
 * left the session with setsid() stay below it.  As the user, whose
 * processes they are (proctree.h). */
static size_t
signal_sessions(struct monitor *m, int sig)
{
	/* Once reaped, the child's pid may be anyone's: skip nothing then. */
	return proctree_signal_as(getpid(), m->net_reaped ? 0 : m->net_pid, sig,
	    m->user.uid, m->user.gid);
}

/* KillUserProcesses no: a terminal session's process group gets the
 * hang-up its terminal's end gives (the network child's copy of the pty
 * master is gone with it; ours goes here), and nothing else is signalled,
 * as under sshd with logind's default.  Sessions whose leader ends within
 * the grace get their exit in the record; the others are recorded as
 * still running, and everything left is init's once we exit (we are a
 * subreaper only while we live). */
static void session_left_running(struct monitor *m, struct psession *s);

static void
leave_running(struct monitor *m)
{
	uint64_t start = now_usec();
	bool waiting = false;

	for (int i = 0; i < MAX_SESSIONS; i++) {
		struct psession *s = &m->sess[i];

		if (!s->live || s->master < 0)
			continue;
		close(s->master);
		s->master = -1;
		sess_kill(m, -s->pid, SIGHUP);
		waiting = true;
	}
	while (waiting && any_live(m) && now_usec() - start < KILL_GRACE_USEC) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		monitor_reap(m);
	}
	for (int i = 0; i < MAX_SESSIONS; i++) {
		struct psession *s = &m->sess[i];

		if (!s->live)
			continue;
		m->net_gone = true;	/* nobody to tell */
		session_left_running(m, s);
	}
}

void
monitor_end_sessions(struct monitor *m, const char *reason)
{
	uint64_t start = now_usec();
	size_t left;

	ending_reason = reason;

	if (!m->us->kill_user_processes) {
		leave_running(m);
		return;
	}
	for (int i = 0; i < MAX_SESSIONS; i++)
		if (m->sess[i].live)
			sess_kill(m, -m->sess[i].pid, SIGHUP);
	/* In the common case (nothing left) this first walk is the only one. */
	left = signal_sessions(m, SIGHUP);
	while ((any_live(m) || left > 0) && now_usec() - start < KILL_GRACE_USEC) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		monitor_reap(m);
		left = signal_sessions(m, 0);
	}
	if (left > 0)
		signal_sessions(m, SIGKILL);
	for (int i = 0; i < MAX_SESSIONS; i++)
		if (m->sess[i].live) {
			sess_kill(m, -m->sess[i].pid, SIGKILL);
			sess_kill(m, m->sess[i].pid, SIGKILL);
		}
	while (any_live(m)) {
		int status;
		pid_t pid = monitor_wait(m, -1, &status, 0);
		struct psession *s;

		if (pid < 0)
			break;
		s = sess_find(m, true, (uint32_t)pid);
		if (s != NULL) {
			m->net_gone = true;	/* nobody to tell */
			session_ended(m, s, status);
		}
	}
}
