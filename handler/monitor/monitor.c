/* The privileged monitor: answers the network child's requests.
 *
 * Before authentication it holds root, the config, the ban file and PAM,
 * and answers a fixed set of requests, each only in its state.  After a
 * successful login it opens the PAM session, drops to the user for good,
 * loads the user's seccomp profile on itself, and from then on only starts
 * the user's sessions and reports their ends.  A request out of state is a
 * privilege separation violation: audited, and the connection ends.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include "handler/monitor/auth.h"
#include "handler/front/handover.h"
#include "handler/front/log.h"
#include "handler/privsep/wire.h"
#include "handler/monitor/proctree.h"
#include "handler/monitor/ptymodes.h"
#include "handler/monitor/spawn.h"
#include "policy/match.h"
#include "policy/util/base64.h"
#include "sandbox/sandbox.h"

#define MAX_SESSIONS 10
/* Every failed password or keyboard-interactive answer takes at least this
 * long, whatever the reason, so timing tells an unknown user from a wrong
 * password no better than the reply does. */
#define FAIL_FLOOR_USEC 250000
#define KILL_GRACE_USEC 2000000

struct psession {
	bool live;
	uint32_t id;
	pid_t pid;
	int master;
	const char *type;
	char *command;
	uint64_t start;
};

struct priv {
	struct conn *c;
	int mon;
	pid_t net_pid;
	bool net_gone;
	uint64_t deadline;		/* LoginGraceTime, CLOCK_MONOTONIC usec */

	/* pre-auth */
	bool got_client_info;
	unsigned failures;
	bool tried;
	bool ban_counted;
	struct mon_msg pushback;
	bool have_pushback;
	/* The last name looked up and what NSS said: a client's probe and
	 * its signed request (or its retries) name the same user, and sshd
	 * too looks a user up once per connection. */
	char *looked_up;
	bool looked_up_known;
	struct user_info looked_up_u;

	/* post-auth */
	bool authed;
	struct user_info user;
	struct settings *us;
	const char *method;
	struct authkey_opts keyopts;
	bool have_keyopts;
	char fingerprint[128];
	struct pam_ctx *pam;
	struct psession sess[MAX_SESSIONS];

	uint64_t bytes_in, bytes_out;
	/* user+sys of the reaped processes, for the debug log's "cpu" line */
	uint64_t session_cpu_usec, net_cpu_usec;
	bool net_reaped;
	int net_status;			/* its wait status, once reaped */
	char reason[64];
};

static struct mon_msg in, out;

/* ---- helpers ---- */

static void
send_or_die(struct priv *p)
{
	int r = mon_send(p->mon, &out);

	if (r < 0 && r != -EPIPE)
		log_errno(LOG_ERR, r, "sending to the network child");
}

static void
reply_auth_flags(struct priv *p, enum mon_auth res, uint32_t flags)
{
	mon_init(&out, MON_AUTH_RESULT);
	mon_put_u32(&out, res);
	mon_put_u32(&out, flags);
	send_or_die(p);
}

static void
reply_auth(struct priv *p, enum mon_auth res)
{
	reply_auth_flags(p, res, 0);
}

static void
ensure_elapsed(uint64_t start, uint64_t usec)
{
	uint64_t now = now_usec();

	if (now - start < usec) {
		uint64_t left = usec - (now - start);
		struct timespec ts = { .tv_sec = left / 1000000,
		    .tv_nsec = (long)(left % 1000000) * 1000 };

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
}

static void
audit_user(struct priv *p, const char *user)
{
	audit_conn_set_user(&p->c->audit, user, strlen(user));
}

static void
record_ban_failure(struct priv *p, unsigned weight)
{
	int64_t until = 0;

	if (p->c->bans == NULL)
		return;
	if (ban_record_failure(p->c->bans, (struct sockaddr *)&p->c->peer, weight,
	    time(NULL), &until) < 0) {
		log_warning("could not record the failure in the ban file");
		return;
	}
	if (until > 0) {
		struct audit_fields f = AUDIT_FIELDS_INIT;

		f.ban_until = until;
		audit_emit(AUDIT_BAN_ADDED, &p->c->audit, &f);
	}
}

/* Ends the connection from the monitor's side: the child is killed, the
 * reason audited, and the process exits with code. */
static void handle_stats(struct priv *p, struct mon_msg *m);
static void end_sessions(struct priv *p);

/* Asks the child to end and waits a moment for its last word (byte
 * counts); it may be stuck, so the wait is bounded. */
static void
drain_child(struct priv *p, const char *reason)
{
	uint64_t deadline = now_usec() + 1000000;

	mon_init(&out, MON_TERMINATE);
	mon_put_str(&out, reason);
	/* The child may have ended already, its last word still queued. */
	mon_send(p->mon, &out);
	while (now_usec() < deadline) {
		struct pollfd pfd = { .fd = p->mon, .events = POLLIN };
		int r = poll(&pfd, 1, (int)((deadline - now_usec()) / 1000) + 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || mon_recv(p->mon, &in, MSG_DONTWAIT) < 0)
			return;
		mon_clear_fds(&in);
		if (mon_type(&in) == MON_STATS)
			handle_stats(p, &in);
		mon_wipe(&in);
	}
}

static uint64_t
rusage_usec(const struct rusage *ru)
{
	return (uint64_t)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000000 +
	    (uint64_t)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec);
}

/* waitpid(who), keeping what the reaped process used: the debug log
 * reports it, so that the benchmark can say where the time goes. */
static pid_t
wait_counted(struct priv *p, pid_t who, int *status, int flags)
{
	struct rusage ru;
	pid_t pid = wait4(who, status, flags, &ru);

	if (pid > 0 && pid == p->net_pid) {
		p->net_cpu_usec = rusage_usec(&ru);
		p->net_reaped = true;
		p->net_status = *status;
	} else if (pid > 0)
		p->session_cpu_usec += rusage_usec(&ru);
	return pid;
}

/* Waits up to ms milliseconds for the network child to end, if it has not
 * been reaped yet: it closed its side, or was told to end, and after login
 * it cannot be killed (another uid), so the wait is bounded. */
static void
reap_net(struct priv *p, int ms)
{
	for (int i = 0; i < ms && p->net_pid > 0 && !p->net_reaped; i++) {
		struct timespec ts = { 0, 1000 * 1000 };
		int st;

		if (wait_counted(p, p->net_pid, &st, WNOHANG) != 0)
			break;
		nanosleep(&ts, NULL);
	}
}

/* "cpu monitor usec N net usec N sessions usec N": what each part of the
 * connection used, for the benchmark's breakdown (LogLevel DEBUG). */
static void
log_cpu(struct priv *p)
{
	struct rusage self;

	reap_net(p, 50);
	if (getrusage(RUSAGE_SELF, &self) == 0)
		log_debug("cpu monitor usec %llu net usec %llu sessions usec %llu",
		    (unsigned long long)rusage_usec(&self),
		    (unsigned long long)p->net_cpu_usec,
		    (unsigned long long)p->session_cpu_usec);
}

static void __attribute__((noreturn))
finish(struct priv *p, int code, const char *reason)
{
	struct audit_fields f = AUDIT_FIELDS_INIT;

	if (!p->net_gone && p->net_pid > 0 && strcmp(reason, "privsep-violation") != 0)
		drain_child(p, reason);
	if (p->authed) {
		end_sessions(p);
		pam_finish(p->pam);
		p->pam = NULL;
	}
	if (!p->net_gone && p->net_pid > 0) {
		/* Best effort: the child also dies with us (PDEATHSIG).  Not
		 * once reaped: its pid may be another process's by now. */
		if (!p->net_reaped)
			kill(p->net_pid, SIGKILL);
		close(p->mon);
		p->net_gone = true;
	}
	if (!p->authed) {
		/* A connection that ends without logging in counts against its
		 * source: fully if it tried and no failure was counted yet,
		 * lightly if it never tried at all. */
		if (p->tried && !p->ban_counted)
			record_ban_failure(p, BAN_FAIL_UNIT);
		else if (!p->tried)
			record_ban_failure(p, 1);
	}
	f.reason = reason;
	f.bytes_in = (int64_t)p->bytes_in;
	f.bytes_out = (int64_t)p->bytes_out;
	f.duration_usec = (int64_t)(now_usec() - p->c->start_usec);
	audit_emit(AUDIT_DISCONNECT, &p->c->audit, &f);
	if (p->c->log_prio >= LOG_DEBUG)
		log_cpu(p);
	exit(code);
}

static void __attribute__((noreturn))
violation(struct priv *p, const char *what)
{
	struct audit_fields f = AUDIT_FIELDS_INIT;

	log_error("privilege separation violation: %s", what);
	f.reason = what;
	audit_emit(AUDIT_PRIVSEP_VIOLATION, &p->c->audit, &f);
	finish(p, EXIT_PROTOCOL, "privsep-violation");
}

/* Settings for a login name.  An unknown name is matched by name (with no
 * groups), as sshd does, so Match blocks do not tell known users from
 * unknown ones. */
static struct settings *
resolve(struct priv *p, const char *name, const struct user_info *u)
{
	struct match_ctx ctx = { .addr = p->c->audit.remote_addr, .user = name };
	struct settings *s = NULL;

	if (u != NULL) {
		ctx.user = u->name;
		ctx.groups = (const char *const *)u->group_names;
		ctx.n_groups = u->n_group_names;
	}
	if (config_resolve(p->c->cfg, &ctx, &s) < 0) {
		log_error("cannot resolve settings");
		finish(p, EXIT_INTERNAL, "server-error");
	}
	return s;
}

static bool
root_allowed(const struct settings *s, const struct user_info *u, bool key,
    bool forced_command)
{
	if (u->uid != 0)
		return true;
	switch (s->permit_root_login) {
	case PERMIT_ROOT_YES: return true;
	case PERMIT_ROOT_PROHIBIT_PASSWORD: return key;
	case PERMIT_ROOT_FORCED_COMMANDS_ONLY: return key && forced_command;
	default: return false;
	}
}

/* ---- authentication ---- */

static void
audit_attempt(struct priv *p, const char *method, bool ok, const char *reason)
{
	struct audit_fields f = AUDIT_FIELDS_INIT;

	f.auth_method = method;
	f.auth_result = ok ? "success" : "failure";
	f.reason = reason;
	if (strcmp(method, "publickey") == 0 && p->fingerprint[0])
		f.key_fingerprint = p->fingerprint;
	audit_emit(AUDIT_AUTH_ATTEMPT, &p->c->audit, &f);
}

static void
auth_failed(struct priv *p, const char *method, const char *reason,
    const struct settings *s, bool counts_for_ban, uint64_t start, bool reply)
{
	p->failures++;
	audit_attempt(p, method, false, reason);
	if (counts_for_ban) {
		record_ban_failure(p, BAN_FAIL_UNIT);
		p->ban_counted = true;
		ensure_elapsed(start, FAIL_FLOOR_USEC);
	}
	if (p->failures >= s->max_auth_tries) {
		if (reply)
			reply_auth(p, MON_AUTH_DISCONNECT);
		log_info("maximum authentication attempts exceeded (%u)", s->max_auth_tries);
		finish(p, EXIT_NOAUTH, "max-auth-tries");
	}
	if (reply)
		reply_auth(p, MON_AUTH_DENIED);
}

static void post_auth(struct priv *p);

/* The user is who they claim: open the session and give up root. */
static void
auth_succeeded(struct priv *p, struct user_info *u, struct settings *s,
    const char *method, struct pam_ctx *pam)
{
	const char *reason = NULL;

	if (pam == NULL) {
		int r = pam_account(p->c, u->name, &pam, &reason);

		phase("pam-account", p->c->start_usec);

		if (r != 1) {
			auth_failed(p, method, reason ? reason : "account", s, false,
			    now_usec(), true);
			if (p->have_keyopts) {
				/* Options of a refused key must not carry over
				 * to a later login on this connection. */
				authkey_opts_clear(&p->keyopts);
				p->have_keyopts = false;
			}
			user_info_free(u);
			settings_free(s);
			return;
		}
	}
	p->authed = true;
	p->user = *u;
	p->us = s;
	p->method = method;
	p->pam = pam;
	audit_attempt(p, method, true, NULL);
	post_auth(p);
}

/* Common checks before a method runs; *ret_u set when the user exists. */
static bool
user_for(struct priv *p, const char *name, struct user_info *ret_u,
    struct settings **ret_s)
{
	bool known;

	if (p->looked_up == NULL || strcmp(p->looked_up, name) != 0) {
		free(p->looked_up);
		user_info_free(&p->looked_up_u);
		p->looked_up = strdup(name);
		if (p->looked_up == NULL)
			finish(p, EXIT_INTERNAL, "server-error");
		p->looked_up_known = user_lookup(name, &p->looked_up_u) == 0;
	}
	known = p->looked_up_known;
	if (known && user_info_copy(&p->looked_up_u, ret_u) < 0)
		finish(p, EXIT_INTERNAL, "server-error");

	audit_user(p, name);
	*ret_s = resolve(p, name, known ? ret_u : NULL);
	return known;
}

static void
handle_password(struct priv *p, struct mon_msg *m)
{
	uint64_t start = now_usec();
	char *user = mon_get_str(m, MAX_USER_LEN + 1);
	char *pw = mon_get_str(m, MAX_PASSWORD_LEN + 1);
	struct user_info u = { 0 };
	struct settings *s;
	struct pam_ctx *pam = NULL;
	const char *reason = NULL;
	bool known, allowed;
	int r;

	if (!mon_done(m) || user == NULL || pw == NULL) {
		if (pw)
			explicit_bzero(pw, strlen(pw));
		free(pw);
		free(user);
		violation(p, "malformed password request");
	}
	mon_wipe(m);
	p->tried = true;
	known = user_for(p, user, &u, &s);
	allowed = s->password_authentication &&
	    (!known || (root_allowed(s, &u, false, false) && !u.locked));
	if (!s->permit_empty_passwords && pw[0] == '\0')
		allowed = false;
	if (strlen(pw) > MAX_PASSWORD_LEN) {
		/* Cut by the child; never right, but still a failed attempt. */
		allowed = false;
		explicit_bzero(pw, strlen(pw));
	}
	/* PAM runs for every name, so the work done does not tell whether the
	 * user exists. */
	r = pam_auth_password(p->c, known ? user : PAM_NOUSER, pw,
	    s->permit_empty_passwords, &pam, &reason);
	explicit_bzero(pw, strlen(pw));
	free(pw);
	if (r == 1 && allowed && known) {
		free(user);
		auth_succeeded(p, &u, s, "password", pam);
		return;
	}
	if (r == 1)
		pam_finish(pam);
	if (known && r == 1)
		reason = u.uid == 0 ? "root-login-refused" : u.locked ? "account-locked" :
		    "method-disabled";
	else if (!known)
		reason = "unknown-user";
	else if (pw == NULL || reason == NULL)
		reason = "bad-password";
	log_info("Failed password for %s%s from %s port %u", known ? "" : "invalid user ",
	    user, p->c->audit.remote_addr, p->c->audit.remote_port);
	free(user);
	user_info_free(&u);
	auth_failed(p, "password", reason, s, true, start, true);
	settings_free(s);
}

static void
handle_pubkey(struct priv *p, struct mon_msg *m)
{
	char *user = mon_get_str(m, MAX_USER_LEN + 1);
	char *b64 = mon_get_str(m, 24000);
	uint32_t is_signed = mon_get_u32(m);
	uint8_t blob[16384];
	size_t blen = 0;
	struct user_info u = { 0 };
	struct authkey_opts opts = { 0 };
	struct settings *s;
	char why[256] = "";
	bool known;
	int r = 0;

	if (!mon_done(m) || user == NULL || b64 == NULL ||
	    base64_decode(b64, strlen(b64), blob, sizeof(blob), &blen) < 0) {
		free(user);
		free(b64);
		violation(p, "malformed publickey request");
	}
	free(b64);
	phase(is_signed ? "pubkey-signed" : "pubkey-probe", p->c->start_usec);
	p->tried = true;
	known = user_for(p, user, &u, &s);
	pubkey_fingerprint(blob, blen, p->fingerprint, sizeof(p->fingerprint));
	if (known && s->pubkey_authentication && !u.locked)
		r = pubkey_authorized(&u, s, blob, blen, p->c->audit.remote_addr, &opts,
		    why, sizeof(why));
	phase("pubkey-checked", p->c->start_usec);
	if (r == 1 && !root_allowed(s, &u, true, opts.command != NULL)) {
		r = 0;
		snprintf(why, sizeof(why), "root login refused");
	}
	if (r == 1 && !is_signed) {
		/* The probe: tell the client this key may be used. */
		authkey_opts_clear(&opts);
		free(user);
		user_info_free(&u);
		settings_free(s);
		reply_auth(p, MON_AUTH_OK);
		return;
	}
	if (r == 1) {
		p->keyopts = opts;
		p->have_keyopts = true;
		free(user);
		auth_succeeded(p, &u, s, "publickey", NULL);
		return;
	}
	if (why[0])
		log_info("publickey for %s%s refused: %s", known ? "" : "invalid user ",
		    user, why);
	free(user);
	user_info_free(&u);
	auth_failed(p, "publickey", known ? (s->pubkey_authentication ? "key-refused" :
	    "method-disabled") : "unknown-user", s, false, now_usec(), true);
	settings_free(s);
}

/* Waits for the child's next request; LoginGraceTime ends the wait and
 * the connection. */
static void
wait_preauth(struct priv *p)
{
	for (;;) {
		struct pollfd pfd = { .fd = p->mon, .events = POLLIN };
		uint64_t now = now_usec();
		int timeout = p->deadline ? (now >= p->deadline ? 0 :
		    (int)((p->deadline - now) / 1000) + 1) : -1;
		int r = poll(&pfd, 1, timeout);

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			log_info("login grace time exceeded for %s port %u",
			    p->c->audit.remote_addr, p->c->audit.remote_port);
			finish(p, EXIT_NOAUTH, "grace-time");
		}
		return;
	}
}

/* One PAM conversation round through the network child. */
static int
kbdint_round(void *ud, const char *instruction, size_t n, const char *const *prompts,
    const bool *echo, char **answers)
{
	struct priv *p = ud;
	uint32_t na;
	int r;

	if (n > MON_MAX_PROMPTS)
		return -1;
	mon_init(&out, MON_KBDINT_PROMPTS);
	mon_put_str(&out, "");
	mon_put_str(&out, instruction);
	mon_put_u32(&out, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		mon_put_str(&out, prompts[i]);
		mon_put_u32(&out, echo[i]);
	}
	send_or_die(p);
	wait_preauth(p);
	r = mon_recv(p->mon, &in, 0);
	if (r < 0) {
		p->net_gone = r == -EPIPE;
		finish(p, EXIT_NOAUTH, "client-closed");
	}
	if (in.nfds > 0)
		violation(p, "descriptors passed to the monitor");
	if (mon_type(&in) != MON_KBDINT_ANSWERS) {
		/* The client moved on to another request: abandon this
		 * conversation and handle that request next. */
		memcpy(&p->pushback, &in, sizeof(in));
		p->have_pushback = true;
		mon_wipe(&in);
		return -1;
	}
	na = mon_get_u32(&in);
	if (na != n) {
		mon_wipe(&in);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		answers[i] = mon_get_str(&in, MAX_PASSWORD_LEN + 1);
		if (answers[i] == NULL) {
			for (size_t k = 0; k < i; k++) {
				explicit_bzero(answers[k], strlen(answers[k]));
				free(answers[k]);
				answers[k] = NULL;
			}
			mon_wipe(&in);
			return -1;
		}
	}
	bool ok = mon_done(&in);
	mon_wipe(&in);
	if (!ok) {
		for (size_t k = 0; k < n; k++) {
			explicit_bzero(answers[k], strlen(answers[k]));
			free(answers[k]);
			answers[k] = NULL;
		}
		return -1;
	}
	return 0;
}

static void
handle_kbdint(struct priv *p, struct mon_msg *m)
{
	uint64_t start = now_usec();
	char *user = mon_get_str(m, MAX_USER_LEN + 1);
	struct user_info u = { 0 };
	struct settings *s;
	struct pam_ctx *pam = NULL;
	const char *reason = NULL;
	bool known, allowed;
	int r;

	if (!mon_done(m) || user == NULL) {
		free(user);
		violation(p, "malformed keyboard-interactive request");
	}
	p->tried = true;
	known = user_for(p, user, &u, &s);
	allowed = s->kbd_interactive_authentication &&
	    (!known || (root_allowed(s, &u, false, false) && !u.locked));
	/* Refused users (method disabled by a Match block, root, locked) go
	 * through the same conversation as everyone, as a placeholder user,
	 * so prompts and timing tell nothing. */
	r = pam_auth_kbdint(p->c, known && allowed ? user : PAM_NOUSER,
	    s->permit_empty_passwords, kbdint_round, p, &pam, &reason);
	if (r == 1 && allowed && known) {
		free(user);
		auth_succeeded(p, &u, s, "keyboard-interactive", pam);
		return;
	}
	if (r == 1)
		pam_finish(pam);
	if (!known)
		reason = "unknown-user";
	else if (!s->kbd_interactive_authentication)
		reason = "method-disabled";
	else if (!allowed)
		reason = u.uid == 0 ? "root-login-refused" : "account-locked";
	log_info("Failed keyboard-interactive for %s%s from %s port %u",
	    known ? "" : "invalid user ", user, p->c->audit.remote_addr,
	    p->c->audit.remote_port);
	free(user);
	user_info_free(&u);
	/* If the client abandoned the conversation for another request, it
	 * waits for that request's answer, not for this one. */
	auth_failed(p, "keyboard-interactive", reason ? reason : "bad-password", s,
	    true, start, !p->have_pushback);
	settings_free(s);
}

static void
handle_client_info(struct priv *p, struct mon_msg *m)
{
	char *v = mon_get_str(m, MON_MAX_STR);

	if (p->got_client_info || !mon_done(m) || v == NULL) {
		free(v);
		violation(p, "repeated or malformed client info");
	}
	p->got_client_info = true;
	audit_conn_set_version(&p->c->audit, v, strlen(v));
	free(v);
}

static void
handle_stats(struct priv *p, struct mon_msg *m)
{
	char *reason;

	p->bytes_in = mon_get_u64(m);
	p->bytes_out = mon_get_u64(m);
	reason = mon_get_str(m, 63);
	if (reason != NULL)
		snprintf(p->reason, sizeof(p->reason), "%s", reason);
	free(reason);
}

/* Why the connection ends, now that the child has closed its side: its
 * last word (MON_STATS) if it said one.  If not, it crashed, was killed,
 * or could not even start (its half would not load): the server's failure,
 * not the client's, if its exit says so. */
static const char *
net_end_reason(struct priv *p)
{
	int st;

	if (p->reason[0])
		return p->reason;
	reap_net(p, 100);
	if (!p->net_reaped)
		return "client-closed";	/* closed the socket, still running */
	st = p->net_status;
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

/* Pre-authentication: requests until one method succeeds. */
static void
preauth_loop(struct priv *p)
{
	while (!p->authed) {
		struct mon_msg *m = &in;
		int r;

		if (p->have_pushback) {
			memcpy(&in, &p->pushback, sizeof(in));
			mon_wipe(&p->pushback);
			p->have_pushback = false;
		} else {
			wait_preauth(p);
			r = mon_recv(p->mon, m, 0);
			if (r == -EPIPE)
				/* The child is gone, or closed the socket and
				 * dies with us (PDEATHSIG). */
				finish(p, EXIT_NOAUTH, net_end_reason(p));
			if (r < 0)
				violation(p, "malformed message");
		}
		if (m->nfds > 0)
			violation(p, "descriptors passed to the monitor");
		switch (mon_type(m)) {
		case MON_CLIENT_INFO: handle_client_info(p, m); break;
		case MON_AUTH_PASSWORD: handle_password(p, m); break;
		case MON_AUTH_PUBKEY: handle_pubkey(p, m); break;
		case MON_KBDINT_START: handle_kbdint(p, m); break;
		case MON_STATS: handle_stats(p, m); break;
		default:
			violation(p, "request not allowed before authentication");
		}
		mon_wipe(m);
	}
}

/* ---- after authentication ---- */

static bool
pty_permitted(const struct priv *p)
{
	return p->us->permit_tty && !(p->have_keyopts && p->keyopts.no_pty);
}

static void
post_auth(struct priv *p)
{
	enum sandbox_profile prof = p->us->sandbox_profile;
	struct sandbox_opts so = { .allow_keyrings = p->us->sandbox_allow_keyrings };
	int r;

	phase("authed", p->c->start_usec);
	if (pam_session_open(p->pam) < 0)
		finish(p, EXIT_INTERNAL, "server-error");
	phase("pam-session", p->c->start_usec);
	/* The ban file is not needed any more, and must not stay reachable
	 * from a process the user owns. */
	if (p->c->bans) {
		ban_close(p->c->bans);
		p->c->bans = NULL;
	}
	/* Whatever the sessions leave behind (double-forked daemons, setsid()
	 * escapes) is reparented to us, not to init, so that end_sessions()
	 * finds it below us. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		log_errno(LOG_ERR, -errno, "PR_SET_CHILD_SUBREAPER");
		finish(p, EXIT_INTERNAL, "server-error");
	}
	r = sandbox_drop_to_user(p->user.uid, p->user.gid, p->user.groups, p->user.ngroups);
	if (r < 0) {
		log_errno(LOG_ERR, r, "cannot drop privileges to %s", p->user.name);
		finish(p, EXIT_INTERNAL, "server-error");
	}
	phase("drop", p->c->start_usec);
	r = sandbox_apply_profile(prof, &so);
	if (r < 0) {
		log_errno(LOG_ERR, r, "cannot load sandbox profile %s", sandbox_profile_name(prof));
		finish(p, EXIT_INTERNAL, "server-error");
	}
	phase("profile", p->c->start_usec);
	log_info("Accepted %s for %s from %s port %u%s%s", p->method, p->user.name,
	    p->c->audit.remote_addr, p->c->audit.remote_port,
	    p->fingerprint[0] && strcmp(p->method, "publickey") == 0 ? " " : "",
	    strcmp(p->method, "publickey") == 0 ? p->fingerprint : "");
	/* The child refuses pty requests up front, as sshd does; the monitor
	 * still checks each session. */
	reply_auth_flags(p, MON_AUTH_OK, pty_permitted(p) ? MON_FLAG_PTY : 0);
}

static struct psession *
sess_by_id(struct priv *p, uint32_t id)
{
	for (int i = 0; i < MAX_SESSIONS; i++)
		if (p->sess[i].live && p->sess[i].id == id)
			return &p->sess[i];
	return NULL;
}

static struct psession *
sess_by_pid(struct priv *p, pid_t pid)
{
	for (int i = 0; i < MAX_SESSIONS; i++)
		if (p->sess[i].live && p->sess[i].pid == pid)
			return &p->sess[i];
	return NULL;
}

/* Appends "NAME=value" to env, replacing an earlier NAME. */
static int
env_set(char ***env, size_t *n, const char *name, const char *value)
{
	size_t nl = strlen(name);
	char *kv;

	if (asprintf(&kv, "%s=%s", name, value) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < *n; i++)
		if (strncmp((*env)[i], name, nl) == 0 && (*env)[i][nl] == '=') {
			free((*env)[i]);
			(*env)[i] = kv;
			return 0;
		}
	char **ne = realloc(*env, (*n + 2) * sizeof(char *));
	if (ne == NULL) {
		free(kv);
		return -ENOMEM;
	}
	ne[(*n)++] = kv;
	ne[*n] = NULL;
	*env = ne;
	return 0;
}

static void
env_free(char **env, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(env[i]);
	free(env);
}

static char **
build_env(struct priv *p, char **client_env, size_t nclient, const char *term,
    const char *original_command, size_t *ret_n)
{
	const struct user_info *u = &p->user;
	char **env = calloc(1, sizeof(char *)), **pe;
	size_t n = 0;
	char buf[512];

	if (env == NULL)
		return NULL;
	env_set(&env, &n, "PATH", "/usr/local/bin:/usr/bin:/bin:/usr/games");
	pe = pam_session_env(p->pam);
	for (char **e = pe; e && *e; e++) {
		char *eq = strchr(*e, '=');

		if (eq != NULL) {
			*eq = '\0';
			env_set(&env, &n, *e, eq + 1);
		}
		free(*e);
	}
	free(pe);
	env_set(&env, &n, "USER", u->name);
	env_set(&env, &n, "LOGNAME", u->name);
	env_set(&env, &n, "HOME", u->dir);
	env_set(&env, &n, "SHELL", u->shell);
	snprintf(buf, sizeof(buf), "/var/mail/%s", u->name);
	env_set(&env, &n, "MAIL", buf);
	/* What the client asked for, as far as AcceptEnv allows. */
	for (size_t i = 0; i < nclient; i++) {
		char *eq = strchr(client_env[i], '=');

		if (eq == NULL)
			continue;
		*eq = '\0';
		if (settings_accept_env(p->us, client_env[i]))
			env_set(&env, &n, client_env[i], eq + 1);
		*eq = '=';
	}
	if (p->have_keyopts && p->us->permit_user_environment)
		for (size_t i = 0; i < p->keyopts.n_environment; i++) {
			char *kv = p->keyopts.environment[i], *eq = strchr(kv, '=');

			if (eq != NULL) {
				*eq = '\0';
				env_set(&env, &n, kv, eq + 1);
				*eq = '=';
			}
		}
	if (term != NULL && *term)
		env_set(&env, &n, "TERM", term);
	snprintf(buf, sizeof(buf), "%s %u %s %u", p->c->audit.remote_addr,
	    p->c->audit.remote_port, p->c->audit.local_addr, p->c->audit.local_port);
	env_set(&env, &n, "SSH_CONNECTION", buf);
	snprintf(buf, sizeof(buf), "%s %u %u", p->c->audit.remote_addr,
	    p->c->audit.remote_port, p->c->audit.local_port);
	env_set(&env, &n, "SSH_CLIENT", buf);
	if (original_command != NULL)
		env_set(&env, &n, "SSH_ORIGINAL_COMMAND", original_command);
	*ret_n = n;
	return env;
}

static void
session_refused(struct priv *p, uint32_t id, const char *why)
{
	mon_init(&out, MON_SESSION_STARTED);
	mon_put_u32(&out, id);
	mon_put_u32(&out, 0);
	mon_put_u32(&out, 0);
	mon_put_str(&out, why);
	send_or_die(p);
}

static void
handle_session_open(struct priv *p, struct mon_msg *m)
{
	uint32_t id = mon_get_u32(m), kind = mon_get_u32(m);
	char *arg = mon_get_str(m, MAX_COMMAND_LEN);
	uint32_t want_pty = mon_get_u32(m);
	char *term = mon_get_str(m, 64);
	uint32_t cols = mon_get_u32(m), rows = mon_get_u32(m);
	uint32_t xpix = mon_get_u32(m), ypix = mon_get_u32(m);
	size_t nmodes = 0;
	const uint8_t *modes = mon_get_bytes(m, PTYMODES_MAX, &nmodes);
	uint32_t nenv = mon_get_u32(m);
	char *cenv[MON_MAX_ENV] = { 0 };
	struct psession *slot = NULL;
	struct session_spec sp = { .profile = p->us->sandbox_profile,
	    .subsystem_profile = p->us->sandbox_profile };
	struct session_proc proc;
	const char *command = NULL, *type, *orig = NULL;
	char **env = NULL;
	size_t n = 0;
	int r;

	if (nenv > MON_MAX_ENV)
		m->bad = true;
	for (uint32_t i = 0; !m->bad && i < nenv; i++)
		cenv[i] = mon_get_str(m, 8192);
	if (!mon_done(m) || arg == NULL || term == NULL || kind > MON_KIND_SUBSYSTEM ||
	    sess_by_id(p, id) != NULL || cols > 10000 || rows > 10000) {
		free(arg);
		free(term);
		for (uint32_t i = 0; i < MON_MAX_ENV; i++)
			free(cenv[i]);
		violation(p, "malformed session request");
	}
	for (int i = 0; i < MAX_SESSIONS; i++)
		if (!p->sess[i].live) {
			slot = &p->sess[i];
			break;
		}

	type = kind == MON_KIND_SHELL ? "shell" : kind == MON_KIND_EXEC ? "exec" : "subsystem";
	if (kind == MON_KIND_EXEC)
		command = arg;
	else if (kind == MON_KIND_SUBSYSTEM) {
		command = settings_subsystem(p->us, arg);
		if (command == NULL) {
			log_info("unknown subsystem \"%s\" refused", arg);
			session_refused(p, id, "unknown subsystem");
			goto out;
		}
		sp.subsystem_profile = p->us->subsystem_sandbox_profile;
	}
	/* A forced command replaces whatever the client asked to run. */
	const char *forced = p->us->force_command ? p->us->force_command :
	    p->have_keyopts ? p->keyopts.command : NULL;
	if (forced != NULL) {
		orig = kind == MON_KIND_SHELL ? NULL : (kind == MON_KIND_EXEC ? arg : arg);
		command = forced;
	}
	if (want_pty && !pty_permitted(p)) {
		log_info("pty refused for %s", p->user.name);
		session_refused(p, id, "pty not permitted");
		goto out;
	}
	if (slot == NULL) {
		session_refused(p, id, "too many sessions");
		goto out;
	}
	env = build_env(p, cenv, nenv, want_pty ? term : NULL, orig, &n);
	if (env == NULL) {
		session_refused(p, id, "out of memory");
		goto out;
	}
	sp.user = &p->user;
	sp.command = command;
	sp.sandbox.allow_keyrings = p->us->sandbox_allow_keyrings;
	sp.limits.max_procs = p->us->max_session_procs;
	sp.limits.max_files = p->us->max_open_files;
	sp.limits.core_dumps = p->us->allow_core_dumps;
	sp.pty = want_pty;
	sp.term = term;
	sp.cols = cols, sp.rows = rows, sp.xpix = xpix, sp.ypix = ypix;
	sp.modes = modes;
	sp.nmodes = nmodes;
	sp.env = env;
	sp.monitor = getpid();
	phase("session-fork", p->c->start_usec);
	r = session_start(&sp, &proc);
	phase("session-started", p->c->start_usec);
	if (r < 0) {
		log_errno(LOG_ERR, r, "cannot start a session");
		session_refused(p, id, "cannot start the session");
		goto out;
	}
	*slot = (struct psession){ .live = true, .id = id, .pid = proc.pid,
	    .master = proc.master, .type = type, .start = now_usec() };
	slot->command = (kind == MON_KIND_SHELL && forced == NULL) ? NULL :
	    strdup(kind == MON_KIND_SUBSYSTEM && forced == NULL ? arg : command);

	mon_init(&out, MON_SESSION_STARTED);
	mon_put_u32(&out, id);
	mon_put_u32(&out, 1);
	mon_put_u32(&out, want_pty);
	mon_put_str(&out, "");
	for (int i = 0; i < proc.nfds; i++)
		mon_put_fd(&out, proc.fds[i]);
	send_or_die(p);
	/* Our copies would keep the child's pipes open: only the pty master
	 * stays, for window changes. */
	for (int i = 0; i < proc.nfds; i++)
		if (proc.fds[i] != proc.master)
			close(proc.fds[i]);

	struct audit_fields f = AUDIT_FIELDS_INIT;
	f.session_type = type;
	f.command = slot->command;
	audit_emit(AUDIT_SESSION_START, &p->c->audit, &f);
out:
	if (env)
		env_free(env, n);
	free(arg);
	free(term);
	for (uint32_t i = 0; i < MON_MAX_ENV; i++)
		free(cenv[i]);
}

static void
handle_window_change(struct priv *p, struct mon_msg *m)
{
	uint32_t id = mon_get_u32(m);
	struct winsize ws;
	struct psession *s;

	ws.ws_col = (unsigned short)mon_get_u32(m);
	ws.ws_row = (unsigned short)mon_get_u32(m);
	ws.ws_xpixel = (unsigned short)mon_get_u32(m);
	ws.ws_ypixel = (unsigned short)mon_get_u32(m);
	if (!mon_done(m))
		violation(p, "malformed window change");
	s = sess_by_id(p, id);
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

static void
handle_signal(struct priv *p, struct mon_msg *m)
{
	uint32_t id = mon_get_u32(m);
	char *name = mon_get_str(m, 32);
	struct psession *s;
	int sig;

	if (!mon_done(m) || name == NULL) {
		free(name);
		violation(p, "malformed signal request");
	}
	sig = signal_by_name(name);
	s = sess_by_id(p, id);
	if (s != NULL && sig != 0)
		kill(-s->pid, sig);
	free(name);
}

static void
handle_session_close(struct priv *p, struct mon_msg *m)
{
	uint32_t id = mon_get_u32(m);
	struct psession *s;

	if (!mon_done(m))
		violation(p, "malformed close");
	s = sess_by_id(p, id);
	if (s != NULL)
		kill(-s->pid, SIGHUP);
}

static void
session_ended(struct priv *p, struct psession *s, int status)
{
	struct audit_fields f = AUDIT_FIELDS_INIT;

	mon_init(&out, MON_EXIT);
	mon_put_u32(&out, s->id);
	mon_put_u32(&out, WIFEXITED(status));
	mon_put_u32(&out, WIFEXITED(status) ? (uint32_t)WEXITSTATUS(status) : 0);
	mon_put_u32(&out, WIFSIGNALED(status) ? (uint32_t)WTERMSIG(status) : 0);
	mon_put_u32(&out, WIFSIGNALED(status) && WCOREDUMP(status));
	if (!p->net_gone)
		send_or_die(p);
	f.session_type = s->type;
	f.command = s->command;
	if (WIFEXITED(status))
		f.exit_status = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		f.exit_signal = WTERMSIG(status);
	f.duration_usec = (int64_t)(now_usec() - s->start);
	audit_emit(AUDIT_SESSION_END, &p->c->audit, &f);
	/* The session's other processes (background jobs) go with it. */
	kill(-s->pid, SIGHUP);
	if (s->master >= 0)
		close(s->master);
	free(s->command);
	s->live = false;
}

static void
reap(struct priv *p)
{
	int status;
	pid_t pid;

	while ((pid = wait_counted(p, -1, &status, WNOHANG)) > 0) {
		struct psession *s;

		if (pid == p->net_pid) {
			p->net_gone = true;
			continue;
		}
		s = sess_by_pid(p, pid);
		if (s != NULL)
			session_ended(p, s, status);
	}
}

static bool
any_live(struct priv *p)
{
	for (int i = 0; i < MAX_SESSIONS; i++)
		if (p->sess[i].live)
			return true;
	return false;
}

/* Signals every process of the connection's sessions: all descendants of
 * the monitor but the network child.  The monitor is a child subreaper
 * (post_auth), so background jobs, double-forked daemons and processes
 * that left the session with setsid() stay below it. */
static size_t
signal_sessions(struct priv *p, int sig)
{
	/* Once reaped, the child's pid may be anyone's: skip nothing then. */
	return proctree_signal(getpid(), p->net_reaped ? 0 : p->net_pid, sig);
}

/* The client is gone: end every process of every session, HUP first,
 * KILL after a grace period. */
static void
end_sessions(struct priv *p)
{
	uint64_t start = now_usec();
	size_t left;

	for (int i = 0; i < MAX_SESSIONS; i++)
		if (p->sess[i].live)
			kill(-p->sess[i].pid, SIGHUP);
	/* In the common case (nothing left) this first walk is the only one. */
	left = signal_sessions(p, SIGHUP);
	while ((any_live(p) || left > 0) && now_usec() - start < KILL_GRACE_USEC) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		reap(p);
		left = signal_sessions(p, 0);
	}
	if (left > 0)
		signal_sessions(p, SIGKILL);
	for (int i = 0; i < MAX_SESSIONS; i++)
		if (p->sess[i].live) {
			kill(-p->sess[i].pid, SIGKILL);
			kill(p->sess[i].pid, SIGKILL);
		}
	while (any_live(p)) {
		int status;
		pid_t pid = wait_counted(p, -1, &status, 0);
		struct psession *s;

		if (pid < 0)
			break;
		s = sess_by_pid(p, pid);
		if (s != NULL) {
			p->net_gone = true;	/* nobody to tell */
			session_ended(p, s, status);
		}
	}
}

static void __attribute__((noreturn))
postauth_loop(struct priv *p, int sfd)
{
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = p->mon, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};
		int r = poll(pfd, 2, -1);

		if (r < 0 && errno == EINTR)
			continue;
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				;
			reap(p);
		}
		if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		r = mon_recv(p->mon, &in, MSG_DONTWAIT);
		if (r == -EAGAIN)
			continue;
		if (r == -EPIPE)
			break;	/* the network child ended */
		if (r < 0)
			violation(p, "malformed message");
		if (in.nfds > 0)
			violation(p, "descriptors passed to the monitor");
		switch (mon_type(&in)) {
		case MON_SESSION_OPEN: handle_session_open(p, &in); break;
		case MON_WINDOW_CHANGE: handle_window_change(p, &in); break;
		case MON_SIGNAL: handle_signal(p, &in); break;
		case MON_SESSION_CLOSE: handle_session_close(p, &in); break;
		case MON_STATS: handle_stats(p, &in); break;
		default:
			violation(p, "request not allowed after authentication");
		}
	}
	p->net_gone = true;
	finish(p, EXIT_OK, net_end_reason(p));
}

int
monitor_main(struct conn *c, int mon_fd, pid_t net_pid)
{
	struct priv *p = calloc(1, sizeof(*p));
	sigset_t mask;
	int sfd;

	if (p == NULL)
		return EXIT_INTERNAL;
	p->c = c;
	p->mon = mon_fd;
	p->net_pid = net_pid;
	if (c->global->login_grace_time > 0)
		p->deadline = c->start_usec + (uint64_t)c->global->login_grace_time * 1000000;

	close(c->sock);

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		log_errno(LOG_ERR, -errno, "signalfd");
		finish(p, EXIT_INTERNAL, "server-error");
	}
	preauth_loop(p);
	free(p->looked_up);
	p->looked_up = NULL;
	user_info_free(&p->looked_up_u);
	phase("session-ready", c->start_usec);
	postauth_loop(p, sfd);
}
