/*
 * Audit records: one entry per event, written to the journal through its
 * native datagram protocol, or to a JSON-lines file, or to syslog.
 *
 * We speak the journal's native protocol ourselves instead of calling
 * sd_journal_sendv(): libsystemd sends each datagram to the socket *path*
 * with an unconnected socket, so after the handler chroots to an empty
 * directory every record would be lost.  A socket connected in audit_trail_open()
 * keeps working across chroot and privilege drop.  Records are bounded far
 * below the datagram limit, so the memfd fallback is never needed.
 *
 * Every value is escaped (audit_escape) before it reaches any sink, so a
 * client-chosen user name, version string or command cannot contain a
 * newline, a quote or a NUL and cannot forge a field, a line or a record.
 *
 * MESSAGE_IDs (fixed, generated once with `systemd-id128 new`):
 *
 *	event			MESSAGE_ID				priority
 *	connect			9fe43347e64a475686932eda68aed279	info
 *	rejected-banned		36e8ab700527402593d0ef6605895346	notice
 *	auth-attempt		d5abd3b59e364283b2552cab1a21faed	notice (success)
 *									warning (failure)
 *	session-start		e7ad91316ec84000878bd27377602324	info
 *	session-end		b81b5753bc3341a2a2610b71a846d302	info
 *	ban-added		c8c7a80bb0a249939481226918043ad1	warning
 *	disconnect		e3909f9bdf3e48e3b31f56255b21e054	info
 *	privsep-violation	a62cce5b62b64afd85737fdbac88b992	crit
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "handler/front/audit.h"
#include "policy/util/json.h"

#define JOURNAL_SOCKET	"/run/systemd/journal/socket"

/* Bounds on the values our own code supplies (methods, reasons, ...). */
#define MAX_TRUSTED	256
/* The human MESSAGE quotes at most this much of a command. */
#define MAX_MSG_COMMAND	256
#define MSG_SIZE	8192
/* Largest record: escaped command 4 * 4096 + a few KiB of other fields. */
#define RECORD_SIZE	(64 * 1024)
#define MAX_FIELDS	40

static const struct {
	const char *name;
	const char *message_id;
	int priority;
} events[_AUDIT_EVENT_MAX] = {
	[AUDIT_CONNECT] = { "connect",
	    "9fe43347e64a475686932eda68aed279", LOG_INFO },
	[AUDIT_REJECTED_BANNED] = { "rejected-banned",
	    "36e8ab700527402593d0ef6605895346", LOG_NOTICE },
	[AUDIT_AUTH_ATTEMPT] = { "auth-attempt",
	    "d5abd3b59e364283b2552cab1a21faed", LOG_NOTICE },
	[AUDIT_SESSION_START] = { "session-start",
	    "e7ad91316ec84000878bd27377602324", LOG_INFO },
	[AUDIT_SESSION_END] = { "session-end",
	    "b81b5753bc3341a2a2610b71a846d302", LOG_INFO },
	[AUDIT_BAN_ADDED] = { "ban-added",
	    "c8c7a80bb0a249939481226918043ad1", LOG_WARNING },
	[AUDIT_DISCONNECT] = { "disconnect",
	    "e3909f9bdf3e48e3b31f56255b21e054", LOG_INFO },
	[AUDIT_PRIVSEP_VIOLATION] = { "privsep-violation",
	    "a62cce5b62b64afd85737fdbac88b992", LOG_CRIT },
};

enum sink { SINK_NONE, SINK_JOURNAL, SINK_SYSLOG, SINK_FILE };

static enum sink sink = SINK_NONE;
static int sink_fd = -1;
static const char *journal_path = JOURNAL_SOCKET;

struct field {
	const char *name;
	const char *value;
};

struct record {
	size_t n;
	struct field f[MAX_FIELDS];
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
	char num[12][24];
	char message[MSG_SIZE];
	char out[RECORD_SIZE];
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

void
audit_set_journal_path(const char *path)
{
	journal_path = path != NULL ? path : JOURNAL_SOCKET;
}

int
audit_journal_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(journal_path);
	int fd;

	if (len >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, journal_path, len + 1);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int
audit_journal_field(char *buf, size_t cap, size_t *off, const char *name,
    const char *value, size_t vlen)
{
	size_t nlen = strlen(name), o = *off;
	bool binary = memchr(value, '\n', vlen) != NULL;
	size_t need = nlen + 1 + vlen + 1 + (binary ? 8 : 0);

	if (o > cap || need > cap - o)
		return -ENOBUFS;
	memcpy(buf + o, name, nlen);
	o += nlen;
	if (binary) {
		/* NAME\n, 64-bit little-endian length, value, \n. */
		uint64_t l = vlen;
		int i;

		buf[o++] = '\n';
		for (i = 0; i < 8; i++)
			buf[o++] = (char)((l >> (8 * i)) & 0xff);
	} else
		buf[o++] = '=';
	memcpy(buf + o, value, vlen);
	o += vlen;
	buf[o++] = '\n';
	*off = o;
	return 0;
}

static int
open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
	    0600);

	return fd < 0 ? -errno : fd;
}

void
audit_trail_close(void)
{
	if (sink_fd >= 0)
		close(sink_fd);
	if (sink == SINK_SYSLOG)
		closelog();
	sink_fd = -1;
	sink = SINK_NONE;
}

int
audit_trail_open(const char *target, const char *fallback_path)
{
	int fd;

	audit_trail_close();
	if (target == NULL || strcmp(target, "journal") == 0) {
		fd = audit_journal_connect();
		if (fd >= 0) {
			sink = SINK_JOURNAL;
			sink_fd = fd;
			return 0;
		}
		if (fallback_path != NULL)
			return audit_trail_open(fallback_path, NULL);
		target = "syslog";
	}
	if (strcmp(target, "syslog") == 0) {
		/* LOG_NDELAY: connect /dev/log now, before any chroot. */
		openlog("sshand", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
		sink = SINK_SYSLOG;
		return 0;
	}
	if (target[0] != '/')
		return -EINVAL;
	fd = open_file(target);
	if (fd < 0)
		return fd;
	sink = SINK_FILE;
	sink_fd = fd;
	return 0;
}

static void
add(struct record *r, const char *name, const char *value)
{
	if (value == NULL || value[0] == '\0' || r->n >= MAX_FIELDS)
		return;
	r->f[r->n].name = name;
	r->f[r->n].value = value;
	r->n++;
}

static void
add_num(struct record *r, size_t *slot, const char *name, int64_t v)
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
	case AUDIT_AUTH_ATTEMPT:
		if (f->auth_result && strcmp(f->auth_result, "success") == 0) {
			if (f->key_fingerprint)
				snprintf(tail, sizeof(tail), ": %s",
				    s.fingerprint);
			snprintf(m, ml, "Accepted %s for %s from %s%s", method,
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
	case AUDIT_PRIVSEP_VIOLATION:
	default:
		snprintf(m, ml, "Privilege separation violation from %s: %s",
		    from, reason ? reason : "unknown");
		break;
	}
}

static void
build(struct record *r, enum audit_event ev, const struct audit_conn *c,
    const struct audit_fields *f, char *prio)
{
	const char *user;
	size_t slot = 0;
	int pri = events[ev].priority;

	if (ev == AUDIT_AUTH_ATTEMPT && !(f->auth_result &&
	    strcmp(f->auth_result, "success") == 0))
		pri = LOG_WARNING;
	snprintf(prio, 4, "%d", pri);

	user = esc(s.user, sizeof(s.user), c->user, AUDIT_MAX_USER);
	esc(s.version, sizeof(s.version), c->client_version, AUDIT_MAX_VERSION);
	esc(s.remote, sizeof(s.remote), c->remote_addr, MAX_TRUSTED);
	esc(s.local, sizeof(s.local), c->local_addr, MAX_TRUSTED);
	esc(s.command, sizeof(s.command), f->command, AUDIT_MAX_COMMAND);
	esc(s.msg_command, sizeof(s.msg_command), f->command, MAX_MSG_COMMAND);
	esc(s.method, sizeof(s.method), f->auth_method, MAX_TRUSTED);
	esc(s.result, sizeof(s.result), f->auth_result, MAX_TRUSTED);
	esc(s.reason, sizeof(s.reason), f->reason, MAX_TRUSTED);
	esc(s.fingerprint, sizeof(s.fingerprint), f->key_fingerprint,
	    MAX_TRUSTED);
	esc(s.session_type, sizeof(s.session_type), f->session_type,
	    MAX_TRUSTED);
	format_message(ev, c, f, user);

	r->n = 0;
	add(r, "MESSAGE_ID", events[ev].message_id);
	add(r, "MESSAGE", s.message);
	add(r, "PRIORITY", prio);
	add(r, "SYSLOG_IDENTIFIER", "sshand");
	add(r, "SYSLOG_FACILITY", "10");	/* authpriv */
	add(r, "SSHAND_EVENT", events[ev].name);
	add(r, "SSHAND_CONNECTION", c->id[0] ? c->id : NULL);
	if (c->remote_addr[0]) {
		add(r, "SSHAND_REMOTE_ADDR", s.remote);
		add_num(r, &slot, "SSHAND_REMOTE_PORT", c->remote_port);
	}
	if (c->local_addr[0]) {
		add(r, "SSHAND_LOCAL_ADDR", s.local);
		add_num(r, &slot, "SSHAND_LOCAL_PORT", c->local_port);
	}
	add(r, "SSHAND_USER", user);
	add(r, "SSHAND_CLIENT_VERSION", s.version);
	if (f->auth_method)
		add(r, "SSHAND_AUTH_METHOD", s.method);
	if (f->auth_result)
		add(r, "SSHAND_AUTH_RESULT", s.result);
	if (f->reason)
		add(r, "SSHAND_REASON", s.reason);
	if (f->key_fingerprint)
		add(r, "SSHAND_KEY_FINGERPRINT", s.fingerprint);
	if (f->session_type)
		add(r, "SSHAND_SESSION_TYPE", s.session_type);
	if (f->command)
		add(r, "SSHAND_COMMAND", s.command);
	add_num(r, &slot, "SSHAND_EXIT_STATUS", f->exit_status);
	add_num(r, &slot, "SSHAND_EXIT_SIGNAL", f->exit_signal);
	add_num(r, &slot, "SSHAND_BYTES_IN", f->bytes_in);
	add_num(r, &slot, "SSHAND_BYTES_OUT", f->bytes_out);
	add_num(r, &slot, "SSHAND_DURATION_USEC", f->duration_usec);
	add_num(r, &slot, "SSHAND_BAN_UNTIL", f->ban_until);
}

static int
write_journal(const struct record *r)
{
	size_t off = 0, i;
	int err, tries;

	for (i = 0; i < r->n; i++) {
		err = audit_journal_field(s.out, sizeof(s.out), &off,
		    r->f[i].name, r->f[i].value, strlen(r->f[i].value));
		if (err < 0)
			return err;
	}
	for (tries = 0; tries < 2; tries++) {
		int fd;

		if (send(sink_fd, s.out, off, MSG_NOSIGNAL) >= 0)
			return 0;
		err = -errno;
		if (err != -ECONNREFUSED && err != -ENOTCONN)
			return err;
		/* journald restarted: reconnect (works until we chroot). */
		fd = audit_journal_connect();
		if (fd < 0)
			return err;
		close(sink_fd);
		sink_fd = fd;
	}
	return err;
}

static int
append(char *buf, size_t cap, size_t *off, const char *lit)
{
	size_t n = strlen(lit);

	if (cap - *off < n)
		return -ENOBUFS;
	memcpy(buf + *off, lit, n);
	*off += n;
	return 0;
}

static int
write_file(const struct record *r)
{
	struct timespec ts;
	char usec[24];
	size_t off = 0, i;
	ssize_t w;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(usec, sizeof(usec), "%" PRId64,
	    (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	if (append(s.out, sizeof(s.out), &off, "{\"__REALTIME_TIMESTAMP\":\"") < 0 ||
	    append(s.out, sizeof(s.out), &off, usec) < 0 ||
	    append(s.out, sizeof(s.out), &off, "\"") < 0)
		return -ENOBUFS;
	for (i = 0; i < r->n; i++) {
		if (append(s.out, sizeof(s.out), &off, ",") < 0 ||
		    json_append_string(s.out, sizeof(s.out), &off, r->f[i].name) < 0 ||
		    append(s.out, sizeof(s.out), &off, ":") < 0 ||
		    json_append_string(s.out, sizeof(s.out), &off, r->f[i].value) < 0)
			return -ENOBUFS;
	}
	if (append(s.out, sizeof(s.out), &off, "}\n") < 0)
		return -ENOBUFS;
	/* One write per record: O_APPEND keeps concurrent lines whole. */
	do
		w = write(sink_fd, s.out, off);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -errno;
	return (size_t)w == off ? 0 : -EIO;
}

static int
write_syslog(const struct record *r, int pri)
{
	size_t off = 0, i;

	for (i = 0; i < r->n; i++) {
		const char *v;

		if (strcmp(r->f[i].name, "PRIORITY") == 0 ||
		    strcmp(r->f[i].name, "SYSLOG_IDENTIFIER") == 0 ||
		    strcmp(r->f[i].name, "SYSLOG_FACILITY") == 0)
			continue;
		if ((off > 0 && append(s.out, sizeof(s.out), &off, " ") < 0) ||
		    append(s.out, sizeof(s.out), &off, r->f[i].name) < 0 ||
		    append(s.out, sizeof(s.out), &off, "=\"") < 0)
			return -ENOBUFS;
		/* Values are escaped already; a quote must not end one early. */
		for (v = r->f[i].value; *v; v++) {
			if (sizeof(s.out) - off < 8)
				return -ENOBUFS;
			if (*v == '"') {
				memcpy(s.out + off, "\\x22", 4);
				off += 4;
			} else
				s.out[off++] = *v;
		}
		if (append(s.out, sizeof(s.out), &off, "\"") < 0)
			return -ENOBUFS;
	}
	s.out[off < sizeof(s.out) ? off : sizeof(s.out) - 1] = '\0';
	syslog(LOG_AUTHPRIV | pri, "%s", s.out);
	return 0;
}

int
audit_emit(enum audit_event ev, const struct audit_conn *c,
    const struct audit_fields *f)
{
	static const struct audit_fields none = AUDIT_FIELDS_INIT;
	struct record r;
	char prio[4];

	if ((unsigned)ev >= _AUDIT_EVENT_MAX || c == NULL)
		return -EINVAL;
	if (f == NULL)
		f = &none;
	if (sink == SINK_NONE)
		return -ENOTCONN;
	build(&r, ev, c, f, prio);
	switch (sink) {
	case SINK_JOURNAL:
		return write_journal(&r);
	case SINK_FILE:
		return write_file(&r);
	case SINK_SYSLOG:
		return write_syslog(&r, atoi(prio));
	default:
		return -ENOTCONN;
	}
}
