/* The monitor's answers before authentication: the client's version, a
 * password, and the child's statistics, and what every method shares:
 * the attempt's accounting, success and failure (the public key is
 * auth-pubkey.c's, keyboard-interactive auth-kbdint.c's).  Every failure is audited and counted (MaxAuthTries, the ban
 * file), and takes the same time whatever its reason, so that neither the
 * reply nor its timing tells an unknown user from a wrong password. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handler/front/log.h"
#include "handler/monitor/answers.h"
#include "handler/monitor/auth-internal.h"
#include "handler/monitor/monitor.h"
#include "handler/monitor/sigcheck.h"
#include "policy/algorithms.h"
#include "policy/match.h"

_Static_assert(AM_ALL == 7, "AUTH_RESULT's methods field holds AM_* bits");

/* methods: those the client may go on with (0: the offer stays). */
static void
reply_auth_methods(struct monitor *m, enum ps_auth result, uint32_t flags,
    unsigned methods)
{
	ps_put_auth_result(m->out, &(struct ps_auth_result){ .result = result,
	    .flags = flags, .methods = methods });
	monitor_send(m);
}

void
reply_auth(struct monitor *m, enum ps_auth result, uint32_t flags)
{
	reply_auth_methods(m, result, flags, 0);
}

/* The login's progress under AuthenticationMethods, started again for a
 * new name: one user's partial success never counts for another (sshd
 * ends the connection at a change of name; starting again is as safe). */
static void
am_track(struct monitor *m, const char *name, const struct settings *s)
{
	if (m->am_user != NULL && strcmp(m->am_user, name) == 0)
		return;
	if (m->am_partial) {
		log_info("user name changed from %s to %s: the methods that "
		    "succeeded for the first count no more", m->am_user, name);
		/* The options of a key that succeeded belong to its user. */
		authkey_opts_clear(&m->keyopts);
		m->have_keyopts = false;
	}
	free(m->am_user);
	m->am_user = strdup(name);
	if (m->am_user == NULL)
		monitor_finish(m, EXIT_INTERNAL, "server-error");
	m->am_partial = false;
	m->am_n_keys = 0;
	if (am_start(&m->am, &s->authentication_methods, am_enabled(s)) == 0)
		log_info("AuthenticationMethods: no list left for %s after "
		    "eliminating disabled methods: no login can succeed", name);
}

/* May the method be tried now (AuthenticationMethods)? */
bool
am_allows(const struct monitor *m, const struct settings *s, unsigned method)
{
	return (am_next(&m->am, am_enabled(s)) & method) != 0;
}

/* What a refusal tells the client it may go on with: under
 * AuthenticationMethods, the methods that begin its lists now. */
static unsigned
am_offer(const struct monitor *m, const struct settings *s)
{
	/* Without lists the offer stays the global one, unless the global
	 * lists narrowed it and this user has none (Match ... any). */
	if (m->am.any && m->h->global->authentication_methods.n == 0)
		return 0;
	return am_next(&m->am, am_enabled(s));
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

/* The source is banned (until): the connection ends now, and the
 * request in hand gets no answer (the network child, told to end while
 * it waits, closes the socket without replying), so no guess is answered
 * once the source is banned, and a right password cannot be told from a
 * wrong one by the reply. */
static void __attribute__((noreturn))
end_banned(struct monitor *m, int64_t until)
{
	const struct audit_conn *c = m->h->audit;
	char when[32] = "?";
	time_t t = (time_t)until;
	struct tm tm;

	if (until > 0 && gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* As sshd words its ends before authentication. */
	if (m->tried)
		log_info("Disconnecting authenticating user %s %s port %u: source "
		    "banned until %s [preauth]", c->user, c->remote_addr,
		    c->remote_port, when);
	else
		log_info("Disconnecting %s port %u: source banned until %s [preauth]",
		    c->remote_addr, c->remote_port, when);
	m->banned = true;
	monitor_finish(m, EXIT_BANNED, "banned");
}

/* Whether other connections got the source banned meanwhile (until set).
 * Cheap: two buckets read under the shared lock.  A file that cannot be
 * read fails open, as the check at the connection's start does. */
static bool
source_banned(struct monitor *m, int64_t *until)
{
	struct handover *h = m->h;

	*until = 0;
	return h->bans != NULL && ban_check(h->bans,
	    (const struct sockaddr *)&h->peer, time(NULL), until, NULL) == 1;
}

/* Before answering a request: a banned source is answered no more. */
void
ban_gate(struct monitor *m)
{
	int64_t until;

	if (source_banned(m, &until))
		end_banned(m, until);
}

/* Counts a failure; returns whether the source is banned now (decided
 * under the ban file's lock, with the count: of many connections failing
 * at once, exactly one starts the ban and every later one sees it). */
static bool
record_ban_failure(struct monitor *m, unsigned weight, int64_t *ret_until)
{
	struct handover *h = m->h;
	int64_t started = 0;
	int r;

	*ret_until = 0;
	if (h->bans == NULL)
		return false;
	r = ban_record_failure(h->bans, (const struct sockaddr *)&h->peer, weight,
	    time(NULL), &started);
	if (r < 0) {
		log_warning("could not record the failure in the ban file");
		return false;
	}
	if (started > 0) {
		struct audit_fields f = AUDIT_FIELDS_INIT;

		f.ban_until = started;
		audit_emit(AUDIT_BAN_ADDED, h->audit, &f);
		log_info("Banning %s for %lld s: too many failures",
		    h->audit->remote_addr, (long long)(started - time(NULL)));
	}
	if (r == 1) {
		/* Another connection's ban: its end. */
		if (started == 0)
			(void)ban_check(h->bans, (const struct sockaddr *)&h->peer,
			    time(NULL), &started, NULL);
		*ret_until = started;
	}
	return r == 1;
}

/* A connection that ends without logging in counts against its source:
 * as a failed login if it tried and no failure was counted yet, as a
 * probe (a thousandth: sshand.conf(5), BanMaxFailures) if it never tried
 * at all.  One ended because its source is banned adds nothing, nor one
 * that gave the right password of an expired account (it left at the
 * change). */
void
monitor_count_abandoned(struct monitor *m)
{
	int64_t until;

	if (m->banned)
		return;
	if (m->tried && !m->ban_counted && !m->proved)
		(void)record_ban_failure(m, BAN_WEIGHT_LOGIN, &until);
	else if (!m->tried)
		(void)record_ban_failure(m, BAN_WEIGHT_PROBE, &until);
}

/* Settings for a login name.  An unknown name is matched by name (with no
 * groups), as sshd does, so Match blocks do not tell known users from
 * unknown ones. */
static struct settings *
resolve(struct monitor *m, const char *name, const struct user_info *u)
{
	struct match_ctx ctx = { .addr = m->h->audit->remote_addr, .user = name };
	struct settings *s = NULL;

	if (u != NULL) {
		ctx.groups = (const char *const *)u->group_names;
		ctx.n_groups = u->n_group_names;
	}
	if (config_resolve(m->h->cfg, &ctx, &s) < 0) {
		log_error("cannot resolve settings");
		monitor_finish(m, EXIT_INTERNAL, "server-error");
	}
	return s;
}

bool
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

/* banned_until: the attempt ended the connection, unanswered, because
 * the source is banned (-1: it did not). */
static int
audit_attempt(struct monitor *m, const char *method, const char *result,
    const char *reason, int64_t banned_until)
{
	struct audit_fields f = AUDIT_FIELDS_INIT;

	f.ban_until = banned_until;
	f.auth_method = method;
	f.auth_result = result;
	f.reason = reason;
	if (strcmp(method, "publickey") == 0 && m->fingerprint[0])
		f.key_fingerprint = m->fingerprint;
	return audit_emit(AUDIT_AUTH_ATTEMPT, m->h->audit, &f);
}

/* The answer to a password request whose password is right but expired:
 * the client is to send it again with a new one (RFC 4252 section 8),
 * and is told why. */
static void
reply_changereq(struct monitor *m, const char *prompt)
{
	ps_put_passwd_changereq(m->out, &(struct ps_passwd_changereq){ prompt });
	monitor_send(m);
}

/* A failed attempt.  reply: the child waits for this attempt's answer (not
 * when the client abandoned a conversation for another request); it is a
 * refusal, or with changereq a request for a new password. */
void
auth_failed(struct monitor *m, const char *method, const char *reason,
    const struct settings *s, bool counts_for_ban, uint64_t start, bool reply,
    const char *changereq)
{
	int64_t until = 0;
	bool banned = false;

	m->failures++;
	if (counts_for_ban) {
		banned = record_ban_failure(m, BAN_WEIGHT_LOGIN, &until);
		m->ban_counted = true;
	}
	/* The attempt's record says whether it was answered: one that meets
	 * a ban carries SSHAND_BAN_UNTIL and ends the connection. */
	audit_attempt(m, method, "failure", reason, banned ? until : -1);
	if (counts_for_ban)
		ensure_elapsed(start, FAIL_FLOOR_USEC);
	if (banned)
		end_banned(m, until);
	if (m->failures >= s->max_auth_tries) {
		if (reply)
			reply_auth(m, PS_AUTH_DISCONNECT, 0);
		log_info("maximum authentication attempts exceeded (%u)", s->max_auth_tries);
		monitor_finish(m, EXIT_NOAUTH, "max-auth-tries");
	}
	if (reply && changereq != NULL)
		reply_changereq(m, changereq);
	else if (reply)
		reply_auth_methods(m, PS_AUTH_DENIED, 0, am_offer(m, s));
}

/* A method succeeded but AuthenticationMethods asks for more (next: the
 * progress with it): no login yet, and neither PAM's account stage (it
 * runs at the last method, as in sshd) nor a failure.  The client is
 * told partial success and the methods that may follow.  A PAM handle of
 * this method is closed: the next method runs its own. */
static void
auth_partial(struct monitor *m, struct user_info *u, struct settings *s,
    const char *method, struct pam_ctx *pam, const char *note,
    const struct am_progress *next)
{
	const struct audit_conn *c = m->h->audit;
	const bool key = strcmp(method, "publickey") == 0;
	int64_t until;

	pam_finish(pam);
	if (source_banned(m, &until)) {
		audit_attempt(m, method, "failure", "banned", until);
		user_info_free(u);
		settings_free(s);
		end_banned(m, until);
	}
	m->am = *next;
	m->am_partial = true;
	if (key && m->am_n_keys < AM_MAX_STEPS)
		snprintf(m->am_keys[m->am_n_keys++], sizeof(m->am_keys[0]), "%s",
		    m->fingerprint);
	/* As sshd logs it. */
	log_info("Partial %s for %s from %s port %u%s%s", method, u->name,
	    c->remote_addr, c->remote_port, key ? " " : "", key ? m->fingerprint : "");
	if (audit_attempt(m, method, "partial", note, -1) < 0 &&
	    m->h->global->audit_required) {
		log_error("login of %s refused: AuditRequired yes and the audit trail "
		    "cannot be written", u->name);
		user_info_free(u);
		settings_free(s);
		reply_auth(m, PS_AUTH_DISCONNECT, 0);
		monitor_finish(m, EXIT_INTERNAL, "audit-unavailable");
	}
	reply_auth_methods(m, PS_AUTH_PARTIAL, 0, am_next(&m->am, am_enabled(s)));
	user_info_free(u);
	settings_free(s);
}

/* The user is who they claim: u, s and pam pass to the monitor.  For key
 * logins PAM's account checks still run, as sshd runs them.  note: what
 * else happened, for the audit record (password-changed). */
void
auth_succeeded(struct monitor *m, struct user_info *u, struct settings *s,
    const char *method, struct pam_ctx *pam, const char *note)
{
	const char *reason = NULL;
	struct am_progress next = m->am;
	int64_t until;

	/* AuthenticationMethods: every method is checked against the lists
	 * before it runs, so "not allowed" cannot come back here; were it to,
	 * the attempt fails rather than log the user in. */
	switch (am_done(&next, am_method_bit(method))) {
	case 1:
		break;
	case 0:
		auth_partial(m, u, s, method, pam, note, &next);
		return;
	default:
		log_error("%s for %s succeeded but AuthenticationMethods does not "
		    "allow it now", method, u->name);
		pam_finish(pam);
		auth_failed(m, method, "method-not-allowed", s, false, now_usec(),
		    true, NULL);
		authkey_opts_clear(&m->keyopts);
		m->have_keyopts = false;
		user_info_free(u);
		settings_free(s);
		return;
	}
	if (pam == NULL) {
		int r = pam_account(m->h->audit->remote_addr, u->name, &pam, &reason);

		phase("pam-account", m->h->start_usec);
		if (r != 1) {
			auth_failed(m, method, reason ? reason : "account", s, false,
			    now_usec(), true, NULL);
			/* Options of a refused key must not carry over to a
			 * later login on this connection. */
			authkey_opts_clear(&m->keyopts);
			m->have_keyopts = false;
			user_info_free(u);
			settings_free(s);
			return;
		}
	}
	/* Other connections may have got the source banned while this one
	 * was judged: a ban holds against the right password too, and the
	 * attempt is recorded as refused for it. */
	if (source_banned(m, &until)) {
		audit_attempt(m, method, "failure", "banned", until);
		pam_finish(pam);
		user_info_free(u);
		settings_free(s);
		end_banned(m, until);
	}
	/* AuditRequired: no login that the trail does not hold.  The
	 * record of the success is the test; the connection then ends, as
	 * no later record could be written either. */
	if (audit_attempt(m, method, "success", note, -1) < 0 &&
	    m->h->global->audit_required) {
		log_error("login of %s refused: AuditRequired yes and the audit trail "
		    "cannot be written", u->name);
		pam_finish(pam);
		user_info_free(u);
		settings_free(s);
		reply_auth(m, PS_AUTH_DISCONNECT, 0);
		monitor_finish(m, EXIT_INTERNAL, "audit-unavailable");
	}
	m->authed = true;
	m->user = *u;
	m->us = s;
	m->method = method;
	m->pam = pam;
	monitor_login(m);
}

/* The user a request names: *ret_u filled when it exists, *ret_s its
 * settings either way.  Returns whether it exists. */
bool
user_for(struct monitor *m, const char *name, struct user_info *ret_u,
    struct settings **ret_s)
{
	bool fresh = false;

	if (m->looked_up == NULL || strcmp(m->looked_up, name) != 0) {
		fresh = true;
		free(m->looked_up);
		user_info_free(&m->looked_up_u);
		m->looked_up = strdup(name);
		if (m->looked_up == NULL)
			monitor_finish(m, EXIT_INTERNAL, "server-error");
		m->looked_up_known = user_lookup(name, &m->looked_up_u) == 0;
		/* As sshd: an unknown name is a failed login for lastb. */
		if (!m->looked_up_known)
			monitor_record_failed(m, name);
	}
	if (m->looked_up_known && user_info_copy(&m->looked_up_u, ret_u) < 0)
		monitor_finish(m, EXIT_INTERNAL, "server-error");
	m->tried = true;
	audit_conn_set_user(m->h->audit, name, strlen(name));
	*ret_s = resolve(m, name, m->looked_up_known ? ret_u : NULL);
	am_track(m, name, *ret_s);
	/* AllowUsers and the like, judged once per name (user.c) as sshd
	 * judges once per connection; a refused user goes on as one whose
	 * every attempt fails, exactly as with a wrong password. */
	if (m->looked_up_known && fresh)
		m->looked_up_u.denied = ret_u->denied = user_denied(*ret_s, ret_u,
		    m->h->audit->remote_addr);
	return m->looked_up_known;
}

void
answer_client_info(struct monitor *m, const struct ps_client_info *r)
{
	audit_conn_set_version(m->h->audit, r->version, strlen(r->version));
}

void
answer_stats(struct monitor *m, const struct ps_stats *r)
{
	const struct audit_conn *c = m->h->audit;

	m->bytes_in = r->bytes_in;
	m->bytes_out = r->bytes_out;
	snprintf(m->reason, sizeof(m->reason), "%s", r->reason);
	/* sshd's words for the two timeouts that end a logged-in connection
	 * (serverloop.c), here: the network child, which saw them, writes
	 * nothing to the journal. */
	if (m->user.name == NULL)
		return;
	if (strcmp(r->reason, "client-alive-timeout") == 0)
		log_info("Timeout, client not responding from user %s %s port %u",
		    m->user.name, c->remote_addr, c->remote_port);
	else if (strcmp(r->reason, "unused-connection-timeout") == 0)
		log_info("terminating inactive connection from user %s %s port %u",
		    m->user.name, c->remote_addr, c->remote_port);
}

/* Why the policy refuses a known user this method, PAM aside; NULL if it
 * does not. */
const char *
auth_refusal(const struct monitor *m, const struct settings *s,
    const struct user_info *u, bool method_enabled, unsigned method)
{
	if (!method_enabled)
		return "method-disabled";
	/* AuthenticationMethods: not among the methods that may come now
	 * (a second factor before the first, say). */
	if (!am_allows(m, s, method))
		return "method-not-allowed";
	if (!root_allowed(s, u, false, false))
		return "root-login-refused";
	return u->denied;
}

/* The attempt, once PAM has judged it (rc, pam): the login when PAM and
 * the policy agree (refused NULL), else the failure, with reason. */
void
judged(struct monitor *m, struct attempt *a, int rc, struct pam_ctx *pam,
    const char *refused, const char *reason, bool reply)
{
	const struct audit_conn *c = m->h->audit;

	if (rc == 1 && a->known && refused == NULL) {
		auth_succeeded(m, &a->u, a->s, a->method, pam,
		    a->changed ? "password-changed" : NULL);
		return;
	}
	if (rc == 1)
		pam_finish(pam);
	/* sshd's btmp entry for a failed password or keyboard-interactive
	 * (a refused change of an expired one included, as in sshd). */
	monitor_record_failed(m, a->user);
	if (a->proved) {
		m->proved = true;
		log_info("Failed %s for %s from %s port %u: %s%s", a->method,
		    a->user, c->remote_addr, c->remote_port, reason,
		    a->changereq ? ", new password asked for" : "");
	} else
		log_info("Failed %s for %s%s from %s port %u", a->method,
		    a->known ? "" : "invalid user ", a->user, c->remote_addr,
		    c->remote_port);
	user_info_free(&a->u);
	auth_failed(m, a->method, a->known ? reason : "unknown-user", a->s,
	    !a->proved, a->start, reply, a->changereq);
	settings_free(a->s);
}

/* The first request of a change: the password is right, but expired.
 * Not a failure (the client's next request goes on with it): not counted
 * anywhere, and recorded as the refusal it is until the new password
 * comes. */
static void
ask_new_password(struct monitor *m, struct attempt *a, struct pam_outcome *out)
{
	const struct audit_conn *c = m->h->audit;

	m->proved = true;
	log_info("Expired password for %s from %s port %u: new password asked for",
	    a->user, c->remote_addr, c->remote_port);
	audit_attempt(m, a->method, "failure", "password-expired", -1);
	reply_changereq(m, out->message[0] ? out->message :
	    "Password change required.");
	user_info_free(&a->u);
	settings_free(a->s);
}

void
answer_auth_password(struct monitor *m, const struct ps_auth_password *r)
{
	struct attempt a = { .method = "password", .user = r->user,
	    .start = now_usec() };
	struct pam_ctx *pam = NULL;
	struct pam_outcome out = { 0 };
	const char *refused = NULL, *new_password = NULL;
	size_t pwlen = strlen(r->password), newlen = strlen(r->new_password);
	bool decides, expired;
	int rc;

	ban_gate(m);
	a.known = user_for(m, r->user, &a.u, &a.s);
	if (a.known)
		refused = auth_refusal(m, a.s, &a.u, a.s->password_authentication &&
		    (a.s->permit_empty_passwords || pwlen > 0) &&
		    pwlen <= PS_MAX_PASSWORD_LEN,	/* a cut one is never right */
		    AM_PASSWORD);
	/* PAM's word decides for this user (it may still be refused). */
	decides = a.known && refused == NULL;
	/* A new password reaches PAM only then, and never an empty one or
	 * one cut short: such a change is refused below. */
	if (r->change && decides && newlen > 0 && newlen <= PS_MAX_PASSWORD_LEN)
		new_password = r->new_password;
	/* PAM runs for every name, so the work done does not tell whether
	 * the user exists. */
	rc = pam_auth_password(m->h->audit->remote_addr, a.known ? r->user :
	    PAM_NOUSER, r->password, new_password, a.s->permit_empty_passwords,
	    &pam, &out);
	expired = decides && out.proved;
	if (r->change && decides && rc == 1 && !out.changed) {
		/* sshd refuses every change request; sshand makes only the
		 * change an expired password needs. */
		pam_finish(pam);
		pam = NULL;
		rc = 0;
		out.proved = true;
		out.reason = "password-change-refused";
	} else if (r->change && expired && out.change_needed) {
		out.reason = "password-change-refused";
		snprintf(out.message, sizeof(out.message), "%s",
		    "The new password is empty or too long.");
	} else if (!r->change && expired && out.change_needed && r->can_change) {
		ask_new_password(m, &a, &out);
		return;
	}
	a.proved = decides && out.proved;
	a.changed = out.changed;
	/* Still expired: the client may try another new password. */
	if (expired && r->can_change)
		a.changereq = out.message[0] ? out.message :
		    "Password change required.";
	judged(m, &a, rc, pam, refused, refused != NULL && (rc == 1 || out.proved) ?
	    refused : out.reason ? out.reason : "bad-password", true);
}


void
monitor_wait_preauth(struct monitor *m)
{
	for (;;) {
		struct pollfd pfd = { .fd = m->fd, .events = POLLIN };
		uint64_t now = now_usec();
		int timeout = m->deadline ? (now >= m->deadline ? 0 :
		    (int)((m->deadline - now) / 1000) + 1) : -1;
		int r = poll(&pfd, 1, timeout);

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			log_info("login grace time exceeded for %s port %u",
			    m->h->audit->remote_addr, m->h->audit->remote_port);
			monitor_finish(m, EXIT_NOAUTH, "grace-time");
		}
		return;
	}
}
