/*
 * Audit records: one entry per event, with its fields built here and
 * written by audit-sink.c to the journal (its native protocol, journal.h),
 * a JSON-lines file, or syslog.
 *
 * Every value is escaped (audit_escape) before it reaches any sink, so a
 * client-chosen user name, version string or command cannot contain a
 * newline, a quote or a NUL and cannot forge a field, a line or a record.
 *
 * The events, their MESSAGE_IDs and priorities: AUDIT_EVENTS in audit.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <syslog.h>
#include <time.h>

#include "handler/front/audit.h"
#include "handler/front/audit-record.h"

/* Bounds on the values our own code supplies (methods, reasons, ...). */
#define MAX_TRUSTED	256
/* The human MESSAGE quotes at most this much of a command. */
#define MAX_MSG_COMMAND	256
#define MSG_SIZE	8192
/* A forwarded channel's ends: host names and socket paths the client
 * chose. */
#define MAX_FWD		1100

static const struct {
	const char *name;
	const char *message_id;
	int priority;
} events[_AUDIT_EVENT_MAX] = {
#define EVENT(id, name, message_id, priority) \
	[AUDIT_##id] = { name, message_id, priority },
	AUDIT_EVENTS(EVENT)
#undef EVENT
};

/*
 * Scratch space for one record.  Static: records are written one at a time
 * by a single-threaded process, and a 64 KiB stack frame would be rude to
 * the sandboxed child.
 */
static struct {
	char user[AUDIT_MAX_USER * 4 + 4];
	char version[AUDIT_MAX_VERSION * 4 + 4];
	char command[AUDIT_MAX_COMMAND * 4 + 4];
	char msg_command[MAX_MSG_COMMAND * 4 + 4];
	char remote[MAX_TRUSTED * 4 + 4];
	char local[MAX_TRUSTED * 4 + 4];
	char method[MAX_TRUSTED * 4 + 4];
	char result[MAX_TRUSTED * 4 + 4];
	char reason[MAX_TRUSTED * 4 + 4];
	char fingerprint[MAX_TRUSTED * 4 + 4];
	char session_type[MAX_TRUSTED * 4 + 4];
	char fwd_kind[MAX_TRUSTED * 4 + 4];
	char fwd_origin[MAX_FWD * 4 + 4];
	char fwd_dest[MAX_FWD * 4 + 4];
	char num[12][24];
	char message[MSG_SIZE];
} s;

const char *
audit_event_name(enum audit_event ev)
{
	if ((unsigned)ev >= _AUDIT_EVENT_MAX)
		return "unknown";
	return events[ev].name;
}

const char *
audit_message_id(enum audit_event ev)
{
	if ((unsigned)ev >= _AUDIT_EVENT_MAX)
		return NULL;
	return events[ev].message_id;
}

void
audit_escape(const char *in, size_t inlen, size_t max, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;
	bool truncated = false;

	if (outlen == 0)
		return;
	if (in == NULL)
		inlen = 0;
	if (inlen > max) {
		inlen = max;
		truncated = true;
	}
	for (i = 0; i < inlen; i++) {
		unsigned char c = (unsigned char)in[i];
		char piece[4];
		size_t n;

		if (c == '\\') {
			piece[0] = piece[1] = '\\';
			n = 2;
		} else if (c >= 0x20 && c < 0x7f) {
			piece[0] = (char)c;
			n = 1;
		} else {
			piece[0] = '\\';
			piece[1] = 'x';
			piece[2] = hex[c >> 4];
			piece[3] = hex[c & 15];
			n = 4;
		}
		/* Keep room for "..." and the NUL in case we stop here. */
		if (outlen < 4 || o + n > outlen - 4) {
			truncated = true;
			break;
		}
		memcpy(out + o, piece, n);
		o += n;
	}
	if (truncated && outlen >= 4 && o + 3 <= outlen - 1) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* Raw copy with a visible truncation mark; NUL ends a C string anyway. */
static void
conn_set(char *dst, size_t dstsz, const char *src, size_t len)
{
	size_t n = src == NULL ? 0 : strnlen(src, len);

	if (n < dstsz) {
		memcpy(dst, src, n);
		dst[n] = '\0';
		return;
	}
	memcpy(dst, src, dstsz - 4);
	memcpy(dst + dstsz - 4, "...", 4);
}

void
audit_conn_set_user(struct audit_conn *c, const char *user, size_t len)
{
	conn_set(c->user, sizeof(c->user), user, len);
}

void
audit_conn_set_version(struct audit_conn *c, const char *version, size_t len)
{
	conn_set(c->client_version, sizeof(c->client_version), version, len);
}

static bool
is_hex_id(const char *v)
{
	size_t i;

	for (i = 0; i < 32; i++) {
		char ch = v[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
		    (ch >= 'A' && ch <= 'F')))
			return false;
	}
	return v[32] == '\0';
}

int
audit_conn_init(struct audit_conn *c)
{
	static const char hex[] = "0123456789abcdef";
	const char *inv = getenv("INVOCATION_ID");
	char id[33];
	size_t i;

	if (inv != NULL && is_hex_id(inv)) {
		/* journald prints ids in lower case; match it for queries. */
		for (i = 0; i < 32; i++)
			id[i] = (inv[i] >= 'A' && inv[i] <= 'F') ?
			    (char)(inv[i] - 'A' + 'a') : inv[i];
	} else {
		unsigned char rnd[16];
		size_t got = 0;

		while (got < sizeof(rnd)) {
			ssize_t r = getrandom(rnd + got, sizeof(rnd) - got, 0);

			if (r < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			got += (size_t)r;
		}
		for (i = 0; i < 16; i++) {
			id[2 * i] = hex[rnd[i] >> 4];
			id[2 * i + 1] = hex[rnd[i] & 15];
		}
	}
	id[32] = '\0';
	memcpy(c->id, id, sizeof(id));
	return 0;
}

static void
add(struct audit_record *r, const char *name, const char *value)
{
	if (value == NULL || value[0] == '\0' || r->n >= AUDIT_MAX_FIELDS)
		return;
	r->f[r->n].name = name;
	r->f[r->n].value = value;
	r->n++;
}

static void
add_num(struct audit_record *r, size_t *slot, const char *name, int64_t v)
{
	if (v < 0 || *slot >= sizeof(s.num) / sizeof(s.num[0]))
		return;
	snprintf(s.num[*slot], sizeof(s.num[0]), "%" PRId64, v);
	add(r, name, s.num[*slot]);
	(*slot)++;
}

static const char *
esc(char *out, size_t outlen, const char *in, size_t max)
{
	if (in == NULL)
		return NULL;
	audit_escape(in, strlen(in), max, out, outlen);
	return out;
}

/* The human-readable line, modelled on OpenSSH's familiar wording. */
static void
format_message(enum audit_event ev, const struct audit_conn *c,
    const struct audit_fields *f, const char *user)
{
	char from[MAX_TRUSTED * 4 + 64], tail[MAX_TRUSTED * 8 + 64] = "";
	const char *method = f->auth_method ? s.method : "?";
	const char *reason = f->reason ? s.reason : NULL;
	const char *who = user[0] ? user : "(unknown)";
	char *m = s.message;
	size_t ml = sizeof(s.message);

	if (c->remote_addr[0])
		snprintf(from, sizeof(from), "%s port %u", s.remote,
		    c->remote_port);
	else
		snprintf(from, sizeof(from), "unknown address");

	switch (ev) {
	case AUDIT_CONNECT:
		if (c->local_addr[0])
			snprintf(tail, sizeof(tail), " on %s port %u", s.local,
			    c->local_port);
		snprintf(m, ml, "Connection from %s%s", from, tail);
		break;
	case AUDIT_REJECTED_BANNED:
		snprintf(m, ml, "Refused connection from banned address %s",
		    from);
		break;
	case AUDIT_REJECTED_STARTUPS:
		snprintf(m, ml, "Drop connection from %s past %s", from,
		    reason ? reason : "MaxStartups");
		break;
	case AUDIT_AUTH_ATTEMPT:
		if (f->auth_result && strcmp(f->auth_result, "success") == 0) {
			/* A note on a success: password-changed, or
			 * authorized-keys-command (where the key was). */
			if (f->key_fingerprint && reason)
				snprintf(tail, sizeof(tail), ": %s (%s)",
				    s.fingerprint, reason);
			else if (f->key_fingerprint)
				snprintf(tail, sizeof(tail), ": %s",
				    s.fingerprint);
			else if (reason)
				snprintf(tail, sizeof(tail), " (%s)", reason);
			snprintf(m, ml, "Accepted %s for %s from %s%s", method,
			    who, from, tail);
		} else if (f->auth_result &&
		    strcmp(f->auth_result, "partial") == 0) {
			/* AuthenticationMethods: right, and more to come
			 * (sshd's word). */
			if (f->key_fingerprint)
				snprintf(tail, sizeof(tail), ": %s",
				    s.fingerprint);
			snprintf(m, ml, "Partial %s for %s from %s%s", method,
			    who, from, tail);
		} else if (reason && strcmp(reason, "unknown-user") == 0) {
			snprintf(m, ml, "Failed %s for invalid user %s from %s",
			    method, who, from);
		} else {
			if (reason)
				snprintf(tail, sizeof(tail), " (%s)", reason);
			snprintf(m, ml, "%s %s for %s from %s%s",
			    f->auth_result ? "Failed" : "Attempted", method,
			    who, from, tail);
		}
		break;
	case AUDIT_SESSION_START:
		if (f->command)
			snprintf(tail, sizeof(tail), " '%s'", s.msg_command);
		snprintf(m, ml, "Session started for %s from %s: %s%s", who,
		    from, f->session_type ? s.session_type : "session", tail);
		break;
	case AUDIT_SESSION_REFUSED:
		snprintf(m, ml, "Session refused for %s from %s: %s", who, from,
		    reason ? reason : "refused");
		break;
	case AUDIT_SESSION_END:
		if (f->exit_signal >= 0)
			snprintf(tail, sizeof(tail), "killed by signal %d",
			    f->exit_signal);
		else if (f->exit_status >= 0)
			snprintf(tail, sizeof(tail), "exit status %d",
			    f->exit_status);
		else
			snprintf(tail, sizeof(tail), "closed");
		snprintf(m, ml, "Session ended for %s from %s: %s", who, from,
		    tail);
		break;
	case AUDIT_BAN_ADDED: {
		struct tm tm;
		time_t t = (time_t)f->ban_until;

		if (f->ban_until >= 0 && gmtime_r(&t, &tm) != NULL)
			strftime(tail, sizeof(tail), " until %Y-%m-%d %H:%M:%S UTC",
			    &tm);
		snprintf(m, ml, "Banned %s%s", c->remote_addr[0] ? s.remote :
		    "unknown address", tail);
		break;
	}
	case AUDIT_DISCONNECT:
		if (f->bytes_in >= 0 && f->bytes_out >= 0)
			snprintf(tail, sizeof(tail), ", %" PRId64 " bytes in, %"
			    PRId64 " bytes out", f->bytes_in, f->bytes_out);
		if (f->duration_usec >= 0) {
			size_t tl = strlen(tail);

			snprintf(tail + tl, sizeof(tail) - tl, ", %" PRId64
			    ".%03" PRId64 " s", f->duration_usec / 1000000,
			    (f->duration_usec / 1000) % 1000);
		}
		snprintf(m, ml, "Disconnected from %s: %s%s", from,
		    reason ? reason : "closed", tail);
		break;
	case AUDIT_FORWARD_OPEN:
	case AUDIT_FORWARD_REFUSED:
	case AUDIT_FORWARD_CLOSE:
		if (ev == AUDIT_FORWARD_REFUSED)
			snprintf(tail, sizeof(tail), ": %s", reason ? reason : "refused");
		else if (ev == AUDIT_FORWARD_CLOSE && f->bytes_in >= 0 &&
		    f->bytes_out >= 0)
			snprintf(tail, sizeof(tail), ", %" PRId64 " bytes in, %"
			    PRId64 " bytes out", f->bytes_in, f->bytes_out);
		snprintf(m, ml, "Forwarding %s for %s from %s: %.64s %.300s -> %.300s%.300s",
		    ev == AUDIT_FORWARD_OPEN ? "opened" :
		    ev == AUDIT_FORWARD_CLOSE ? "closed" : "refused", who, from,
		    f->forward_kind ? s.fwd_kind : "?",
		    f->forward_origin ? s.fwd_origin : "?",
		    f->forward_destination ? s.fwd_dest : "?", tail);
		break;
	case AUDIT_PRIVSEP_VIOLATION:
	default:
		snprintf(m, ml, "Privilege separation violation from %s: %s",
		    from, reason ? reason : "unknown");
		break;
	}
}

static void
build(struct audit_record *r, enum audit_event ev, const struct audit_conn *c,
    const struct audit_fields *f, char *prio)
{
	const char *user, *command, *method, *result, *reason, *fingerprint;
	const char *session_type, *fwd_kind, *fwd_origin, *fwd_dest;
	size_t slot = 0;
	int pri = events[ev].priority;

	if (ev == AUDIT_AUTH_ATTEMPT && !(f->auth_result &&
	    (strcmp(f->auth_result, "success") == 0 ||
	    strcmp(f->auth_result, "partial") == 0)))
		pri = LOG_WARNING;
	snprintf(prio, 4, "%d", pri);

	user = esc(s.user, sizeof(s.user), c->user, AUDIT_MAX_USER);
	esc(s.version, sizeof(s.version), c->client_version, AUDIT_MAX_VERSION);
	esc(s.remote, sizeof(s.remote), c->remote_addr, MAX_TRUSTED);
	esc(s.local, sizeof(s.local), c->local_addr, MAX_TRUSTED);
	esc(s.msg_command, sizeof(s.msg_command), f->command, MAX_MSG_COMMAND);
	/* NULL where the event has no such field: add() skips it. */
	command = esc(s.command, sizeof(s.command), f->command, AUDIT_MAX_COMMAND);
	method = esc(s.method, sizeof(s.method), f->auth_method, MAX_TRUSTED);
	result = esc(s.result, sizeof(s.result), f->auth_result, MAX_TRUSTED);
	reason = esc(s.reason, sizeof(s.reason), f->reason, MAX_TRUSTED);
	fingerprint = esc(s.fingerprint, sizeof(s.fingerprint), f->key_fingerprint,
	    MAX_TRUSTED);
	session_type = esc(s.session_type, sizeof(s.session_type), f->session_type,
	    MAX_TRUSTED);
	fwd_kind = esc(s.fwd_kind, sizeof(s.fwd_kind), f->forward_kind, MAX_TRUSTED);
	fwd_origin = esc(s.fwd_origin, sizeof(s.fwd_origin), f->forward_origin,
	    MAX_FWD);
	fwd_dest = esc(s.fwd_dest, sizeof(s.fwd_dest), f->forward_destination,
	    MAX_FWD);
	format_message(ev, c, f, user);

	r->n = 0;
	add(r, "MESSAGE_ID", events[ev].message_id);
	add(r, "MESSAGE", s.message);
	add(r, "PRIORITY", prio);
	add(r, "SYSLOG_IDENTIFIER", "sshand");
	add(r, "SYSLOG_FACILITY", "10");	/* authpriv */
	add(r, "SSHAND_EVENT", events[ev].name);
	add(r, "SSHAND_CONNECTION", c->id);
	add(r, "SSHAND_REMOTE_ADDR", s.remote);
	add(r, "SSHAND_LOCAL_ADDR", s.local);
	add(r, "SSHAND_USER", user);
	add(r, "SSHAND_CLIENT_VERSION", s.version);
	add(r, "SSHAND_AUTH_METHOD", method);
	add(r, "SSHAND_AUTH_RESULT", result);
	add(r, "SSHAND_REASON", reason);
	add(r, "SSHAND_KEY_FINGERPRINT", fingerprint);
	add(r, "SSHAND_SESSION_TYPE", session_type);
	add(r, "SSHAND_COMMAND", command);
	add(r, "SSHAND_FORWARD_KIND", fwd_kind);
	add(r, "SSHAND_FORWARD_ORIGIN", fwd_origin);
	add(r, "SSHAND_FORWARD_DESTINATION", fwd_dest);
	/* Negative: none. */
	add_num(r, &slot, "SSHAND_REMOTE_PORT", c->remote_addr[0] ? (int64_t)c->remote_port : -1);
	add_num(r, &slot, "SSHAND_LOCAL_PORT", c->local_addr[0] ? (int64_t)c->local_port : -1);
	add_num(r, &slot, "SSHAND_EXIT_STATUS", f->exit_status);
	add_num(r, &slot, "SSHAND_EXIT_SIGNAL", f->exit_signal);
	add_num(r, &slot, "SSHAND_BYTES_IN", f->bytes_in);
	add_num(r, &slot, "SSHAND_BYTES_OUT", f->bytes_out);
	add_num(r, &slot, "SSHAND_DURATION_USEC", f->duration_usec);
	add_num(r, &slot, "SSHAND_BAN_UNTIL", f->ban_until);
	add_num(r, &slot, "SSHAND_FORWARD_ID", f->forward_id);
}

static void (*failure_hook)(int err);
static bool failure_told;

void
audit_on_failure(void (*fn)(int err))
{
	failure_hook = fn;
}

static int
failed(int err)
{
	if (!failure_told && failure_hook != NULL) {
		failure_told = true;
		failure_hook(err);
	}
	return err;
}

int
audit_emit(enum audit_event ev, const struct audit_conn *c,
    const struct audit_fields *f)
{
	static const struct audit_fields none = AUDIT_FIELDS_INIT;
	struct audit_record r;
	char prio[4];
	int err;

	if ((unsigned)ev >= _AUDIT_EVENT_MAX || c == NULL)
		return -EINVAL;
	if (f == NULL)
		f = &none;
	if (!audit_sink_open())
		return failed(-ENOTCONN);
	build(&r, ev, c, f, prio);
	err = audit_sink_write(&r, atoi(prio));
	/* A connection's last record: its process exits next. */
	if (err == 0 && (ev == AUDIT_DISCONNECT || ev == AUDIT_REJECTED_BANNED ||
	    ev == AUDIT_REJECTED_STARTUPS))
		audit_sink_drain();
	return err < 0 ? failed(err) : 0;
}
