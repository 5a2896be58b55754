/* Audit records: one journal entry per event, or a JSON-lines file / syslog
 * where no journal runs.  Values that come from the client are bounded and
 * escaped here, so no caller can forge a field or a line. */
#ifndef SSHAND_HANDLER_AUDIT_H
#define SSHAND_HANDLER_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

/* Every event: its SSHAND_EVENT name, its MESSAGE_ID (fixed, generated
 * once with `systemd-id128 new`: they must never change) and its priority
 * (auth-attempt: notice on success, warning on failure). */
#define AUDIT_EVENTS(X)							\
X(CONNECT, "connect", "9fe43347e64a475686932eda68aed279", LOG_INFO)	\
X(REJECTED_BANNED, "rejected-banned", "36e8ab700527402593d0ef6605895346", LOG_NOTICE) \
X(REJECTED_STARTUPS, "rejected-startups", "d16c7d7b3cea48fbb1887f4653f0d008", LOG_NOTICE) \
X(AUTH_ATTEMPT, "auth-attempt", "d5abd3b59e364283b2552cab1a21faed", LOG_NOTICE) \
X(SESSION_START, "session-start", "e7ad91316ec84000878bd27377602324", LOG_INFO) \
X(SESSION_END, "session-end", "b81b5753bc3341a2a2610b71a846d302", LOG_INFO) \
X(SESSION_REFUSED, "session-refused", "6328c7583db8476796c34e02e2473de7", LOG_WARNING) \
X(BAN_ADDED, "ban-added", "c8c7a80bb0a249939481226918043ad1", LOG_WARNING) \
X(DISCONNECT, "disconnect", "e3909f9bdf3e48e3b31f56255b21e054", LOG_INFO) \
X(PRIVSEP_VIOLATION, "privsep-violation", "a62cce5b62b64afd85737fdbac88b992", LOG_CRIT) \
X(FORWARD_OPEN, "forward-open", "ffb1e9b42a254681b1da1fc38cf488ac", LOG_INFO) \
X(FORWARD_REFUSED, "forward-refused", "2f4135b2a94f456ba3607d1b3b7eb634", LOG_NOTICE) \
X(FORWARD_CLOSE, "forward-close", "b6581f3a987c421d9ba220a9952a2100", LOG_INFO)

enum audit_event {
#define AUDIT_EVENT_ID(id, ...) AUDIT_##id,
	AUDIT_EVENTS(AUDIT_EVENT_ID)
#undef AUDIT_EVENT_ID
	_AUDIT_EVENT_MAX,
};

/* Per-connection context: set once, shared by every record. */
struct audit_conn {
	char id[33];			/* SSHAND_CONNECTION: 32 hex digits */
	char remote_addr[64];
	unsigned remote_port;
	char local_addr[64];
	unsigned local_port;
	char user[256];			/* raw, from the client; escaped on output */
	char client_version[256];	/* raw */
};

/* Optional per-event fields; unset pointers/negative numbers are omitted. */
struct audit_fields {
	const char *auth_method;	/* password, keyboard-interactive, publickey */
	const char *auth_result;	/* success, failure */
	const char *reason;		/* unknown-user, bad-password, ... ; disconnect
					 * reason; on a successful login,
					 * password-changed, or
					 * authorized-keys-command (the key
					 * came from its output) */
	const char *key_fingerprint;	/* SHA256:... */
	const char *session_type;	/* shell, exec, subsystem */
	/* session-refused's reason: unsafe-chroot-directory */
	const char *command;		/* raw */
	/* Forwarding: direct-tcpip, forwarded-tcpip, direct-streamlocal,
	 * forwarded-streamlocal, auth-agent, tcpip-forward (a listener
	 * asked for), streamlocal-forward; "host:port" or a socket path
	 * (raw: the client names them). */
	const char *forward_kind;
	const char *forward_origin;
	const char *forward_destination;
	int64_t forward_id;		/* -1 = none; pairs open and close */
	int exit_status;		/* -1 = none */
	int exit_signal;		/* -1 = none */
	int64_t bytes_in, bytes_out;	/* -1 = none */
	int64_t duration_usec;		/* -1 = none */
	int64_t ban_until;		/* -1 = none; seconds since the epoch */
};
#define AUDIT_FIELDS_INIT { .exit_status = -1, .exit_signal = -1, .bytes_in = -1, \
	.bytes_out = -1, .duration_usec = -1, .ban_until = -1, .forward_id = -1 }

/* target: "journal" (falls back to the JSON-lines file fallback_path if no
 * journal socket exists), "syslog", or an absolute path of a JSON-lines
 * file.  Opens what it needs now, so later records work after chroot and
 * privilege drop. */
int audit_trail_open(const char *target, const char *fallback_path);
void audit_trail_close(void);

/* Fills c->id from $INVOCATION_ID (if a 32-hex-digit id) or 128 random bits. */
int audit_conn_init(struct audit_conn *c);

/* Copy client-supplied strings into c, truncating (marked "...") to fit.
 * The bytes stay raw; they are escaped when a record is written. */
void audit_conn_set_user(struct audit_conn *c, const char *user, size_t len);
void audit_conn_set_version(struct audit_conn *c, const char *version, size_t len);

/* Writes one record.  Returns 0, or a negative errno if the record could not
 * be written (nothing else is reported: the caller may log it once). */
int audit_emit(enum audit_event ev, const struct audit_conn *c,
    const struct audit_fields *f);

/* Called once per process, at the first record that could not be
 * written (err: a negative errno), so that the loss is said where it can
 * be: the front points it at the log. */
void audit_on_failure(void (*fn)(int err));

/* The MESSAGE_ID of an event, as 32 hex digits. */
const char *audit_message_id(enum audit_event ev);
const char *audit_event_name(enum audit_event ev);

/* Escape untrusted bytes for logging: printable ASCII kept, everything else
 * as \xNN, '\\' doubled, truncated to at most max input bytes with "..."
 * appended.  Always NUL-terminates out (outlen > 0). */
void audit_escape(const char *in, size_t inlen, size_t max, char *out, size_t outlen);

/* Bounds on client-supplied values, in input bytes. */
#define AUDIT_MAX_USER		256
#define AUDIT_MAX_VERSION	256
#define AUDIT_MAX_COMMAND	4096

#endif
