/* The privilege separation protocol: every message between the network
 * child and the monitor, the bounds on their fields, and the one table
 * that says which request the monitor answers in which state.
 *
 * The framing is in wire.h, one encode/decode pair per message in
 * messages.h.  The monitor enforces the table (monitor/dispatch.c); the
 * network child asks through one wrapper per request (net/ask.c). */
#ifndef SSHAND_HANDLER_PRIVSEP_PROTOCOL_H
#define SSHAND_HANDLER_PRIVSEP_PROTOCOL_H

#include <stdbool.h>
#include <stdint.h>

/* Message types: the first byte of every message.  Numbers are the wire
 * format between two halves of one build; append, never renumber. */
enum ps_type {
	PS_NONE = 0,
	/* Requests of the network child. */
	PS_CLIENT_INFO = 1,
	PS_AUTH_PASSWORD = 2,
	PS_AUTH_PUBKEY = 3,
	PS_KBDINT_START = 4,
	PS_KBDINT_ANSWERS = 5,
	PS_SESSION_OPEN = 6,
	PS_WINDOW_CHANGE = 7,
	PS_SIGNAL = 8,
	PS_SESSION_CLOSE = 9,
	PS_STATS = 10,
	/* Answers and notices of the monitor. */
	PS_AUTH_RESULT = 11,
	PS_KBDINT_PROMPTS = 12,
	PS_SESSION_STARTED = 13,
	PS_EXIT = 14,
	PS_TERMINATE = 15,
	/* Host key signatures (the key holder's, relayed by the monitor). */
	PS_SIGN = 16,
	PS_SIGNATURE = 17,
	PS_HOSTKEYS = 18,
	PS_SIGNED = 19,
	/* Forwarding: requests of the network child, */
	PS_FWD_OPEN = 20,
	PS_FWD_LISTEN = 21,
	PS_FWD_UNLISTEN = 22,
	PS_FWD_CLOSE = 23,
	/* the monitor's answers and notices, */
	PS_FWD_OPENED = 24,
	PS_FWD_LISTENING = 25,
	PS_FWD_ACCEPTED = 26,
	/* and between the monitor and the forwarder (monitor/forwarder.c). */
	PS_FWDR_CONNECT = 27,
	PS_FWDR_CONNECTED = 28,
	PS_FWDR_LISTEN = 29,
	PS_FWDR_LISTENING = 30,
	PS_FWDR_UNLISTEN = 31,
	PS_FWDR_INCOMING = 32,
	PS_FWD_CONFIRMED = 33,	/* a request of the network child */
	PS_SESSION_ARG = 34,	/* likewise */
	/* An expired password: the monitor's other answer to AUTH_PASSWORD. */
	PS_PASSWD_CHANGEREQ = 35,
	PS_X11_REQ = 36,	/* a request of the network child */
	PS_TYPE_MAX
};

/* The connection's state, as the monitor sees it. */
enum ps_state {
	PS_PREAUTH = 1u << 0,	/* before authentication */
	PS_KBDINT = 1u << 1,	/* a keyboard-interactive conversation is open */
	PS_POSTAUTH = 1u << 2,	/* the user is logged in */
};
#define PS_ANY (PS_PREAUTH | PS_KBDINT | PS_POSTAUTH)

#define PS_ONCE 1u		/* at most once per connection */
#define PS_ONCE_PREAUTH 2u	/* at most once before authentication */

#define PS_ANSWER(type) (1ull << PS_##type)

/*
 * What the network child may ask, when and how often, what it waits for,
 * and which of the monitor's functions answers (answer_<name>, see
 * monitor/answers.h).  Anything else the child sends -- an unknown type,
 * an answer type, a request outside its states or beyond its count, a
 * malformed body, a descriptor -- is a privilege separation violation:
 * audited, and the connection ends.
 *
 * SIGN is OpenSSH's rule for the host key signature: the first exchange
 * hash signed is the session id, so before authentication there is only
 * that one (it precedes every authentication request, so none can come
 * during a keyboard-interactive conversation); after it, one per rekey.
 *
 * During a keyboard-interactive conversation the monitor waits inside
 * PAM for the answers; any other request it accepts there abandons the
 * conversation (a failed attempt) and is then answered as before it.
 *
 * AUTH_PASSWORD is answered PASSWD_CHANGEREQ when the password is right
 * but expired and the child can carry a change (RFC 4252 section 8): the
 * client's next password request then brings the old and the new one.
 *
 * FWD_OPEN waits for nothing: the forwarder's connect may take seconds,
 * during which every other channel of the connection goes on.  Its
 * answer, FWD_OPENED, is a notice that names the open by its id, sent
 * when the connect is done or refused.  At most PS_MAX_FWD_PENDING opens
 * may be awaiting theirs; one more, or an id already in use, is a
 * violation.
 */
#define PS_REQUESTS(X)							\
/*	type		name		states			flags	answers */ \
X(CLIENT_INFO,	client_info,	PS_PREAUTH,		PS_ONCE, 0)	\
X(AUTH_PASSWORD, auth_password,	PS_PREAUTH | PS_KBDINT,	0,	PS_ANSWER(AUTH_RESULT) | \
							PS_ANSWER(PASSWD_CHANGEREQ)) \
X(AUTH_PUBKEY,	auth_pubkey,	PS_PREAUTH | PS_KBDINT,	0,	PS_ANSWER(AUTH_RESULT)) \
X(KBDINT_START,	kbdint_start,	PS_PREAUTH | PS_KBDINT,	0,	PS_ANSWER(KBDINT_PROMPTS) | \
							PS_ANSWER(AUTH_RESULT)) \
X(KBDINT_ANSWERS, kbdint_answers, PS_KBDINT,		0,	PS_ANSWER(KBDINT_PROMPTS) | \
							PS_ANSWER(AUTH_RESULT)) \
X(SESSION_OPEN,	session_open,	PS_POSTAUTH,		0,	PS_ANSWER(SESSION_STARTED)) \
X(WINDOW_CHANGE, window_change,	PS_POSTAUTH,		0,	0)	\
X(SIGNAL,	signal,		PS_POSTAUTH,		0,	0)	\
X(SESSION_CLOSE, session_close,	PS_POSTAUTH,		0,	0)	\
X(STATS,	stats,		PS_ANY,			0,	0)	\
X(SIGN,		sign,		PS_PREAUTH | PS_POSTAUTH, PS_ONCE_PREAUTH, PS_ANSWER(SIGNATURE)) \
X(FWD_OPEN,	fwd_open,	PS_POSTAUTH,		0,	0)	\
X(FWD_LISTEN,	fwd_listen,	PS_POSTAUTH,		0,	PS_ANSWER(FWD_LISTENING)) \
X(FWD_UNLISTEN,	fwd_unlisten,	PS_POSTAUTH,		0,	PS_ANSWER(FWD_LISTENING)) \
X(FWD_CLOSE,	fwd_close,	PS_POSTAUTH,		0,	0)	\
X(FWD_CONFIRMED, fwd_confirmed,	PS_POSTAUTH,		0,	0)	\
X(SESSION_ARG,	session_arg,	PS_POSTAUTH,		0,	0)	\
X(X11_REQ,	x11_req,	PS_POSTAUTH,		0,	PS_ANSWER(FWD_LISTENING))

/* What the monitor sends: answers (named in the table above) and notices
 * (EXIT: a session ended; FWD_OPENED: a FWD_OPEN's outcome, by id;
 * FWD_ACCEPTED: a connection to one of the user's listeners), which may
 * come at any time after login, or at any time (TERMINATE: end the
 * connection); HOSTKEYS, the public host keys, is the first message the
 * child receives. */
#define PS_MONITOR_MESSAGES(X)						\
X(AUTH_RESULT,	auth_result)						\
X(KBDINT_PROMPTS, kbdint_prompts)					\
X(SESSION_STARTED, session_started)					\
X(EXIT,		exit)							\
X(TERMINATE,	terminate)						\
X(SIGNATURE,	signature)						\
X(HOSTKEYS,	hostkeys)						\
X(FWD_OPENED,	fwd_opened)						\
X(FWD_LISTENING, fwd_listening)						\
X(FWD_ACCEPTED,	fwd_accepted)						\
X(PASSWD_CHANGEREQ, passwd_changereq)

/* Between the monitor and the key holder (handler/keys/), on a socketpair
 * of their own: the key holder sends HOSTKEYS first, then answers each
 * SIGN the monitor relays with SIGNED. */
#define PS_KEYHOLDER_MESSAGES(X)					\
X(SIGNED,	signed)

/* Between the monitor and the forwarder, the process that opens the
 * user's forwarding sockets as the user (monitor/forwarder.c): the
 * monitor asks CONNECT, LISTEN, UNLISTEN; the forwarder answers
 * LISTENING at once, CONNECTED (by id) when that connect is done, several
 * connects running at once, and tells INCOMING (a connection accepted on
 * one of its listeners) at any time.  The forwarder is the user's
 * process: the monitor trusts nothing it says beyond the decoders'
 * checks, and a CONNECTED for no connect it asked is a broken forwarder. */
#define PS_FORWARDER_MESSAGES(X)					\
X(FWDR_CONNECT,	fwdr_connect)						\
X(FWDR_CONNECTED, fwdr_connected)					\
X(FWDR_LISTEN,	fwdr_listen)						\
X(FWDR_LISTENING, fwdr_listening)					\
X(FWDR_UNLISTEN, fwdr_unlisten)						\
X(FWDR_INCOMING, fwdr_incoming)

struct ps_rule {
	const char *name;	/* for logs and the audit trail */
	uint32_t states;	/* enum ps_state bits; 0: not a request */
	uint32_t flags;		/* PS_ONCE */
	uint64_t answers;	/* PS_ANSWER() bits the child waits for; 0: none */
};

/* The table above, indexed by type (every type has a name). */
extern const struct ps_rule ps_rules[PS_TYPE_MAX];

/* The name of a type, or "unknown". */
const char *ps_type_name(unsigned type);
/* "before authentication" and so on, for messages. */
const char *ps_state_name(enum ps_state state);

/* AUTH_RESULT's result and flags. */
enum ps_auth {
	PS_AUTH_DENIED = 0,
	PS_AUTH_OK = 1,		/* authenticated (for a key probe: acceptable) */
	PS_AUTH_DISCONNECT = 2,	/* denied, and the connection must end */
	/* The method succeeded, but AuthenticationMethods asks for more:
	 * the client is told partial success, with the methods that may
	 * continue (methods). */
	PS_AUTH_PARTIAL = 3,
};
#define PS_FLAG_PTY 1u		/* after login: pty requests are permitted */

/* SESSION_OPEN's kinds. */
enum ps_session_kind { PS_KIND_SHELL, PS_KIND_EXEC, PS_KIND_SUBSYSTEM };

/* The type ChannelTimeout's patterns match for a session of kind (arg:
 * the subsystem's name), as sshd labels it: "session:shell",
 * "session:command", "session:subsystem:NAME"; cut to cap.  The network
 * child times the channel by it, the monitor checks the child's word. */
#define PS_CHAN_TYPE_MAX 96
void ps_session_chan_type(enum ps_session_kind kind, const char *arg,
    char *buf, size_t cap);

/* What is forwarded: a TCP port (direct-tcpip, tcpip-forward), a Unix
 * socket (OpenSSH's streamlocal extensions), the client's agent, an X11
 * display (x11-req; the forwarder's listener on 6000 + N). */
enum ps_fwd_kind { PS_FWD_TCP, PS_FWD_UNIX, PS_FWD_AGENT, PS_FWD_X11 };

/* Bounds on fields.  The child cuts a user name, password or answer one
 * byte past what the monitor accepts as valid, so that the monitor
 * refuses it for what it is (an invalid user, a wrong password), not as a
 * malformed request. */
#define PS_MAX_USER_LEN 255		/* a valid login name */
#define PS_MAX_PASSWORD_LEN 1024	/* a password PAM is asked about */
#define PS_MAX_USER (PS_MAX_USER_LEN + 1)
#define PS_MAX_PASSWORD (PS_MAX_PASSWORD_LEN + 1)
#define PS_MAX_STR 8192			/* versions, prompts, instructions, errors */
#define PS_MAX_BLOB 16384		/* a public key blob */
/* A user's signature as libssh hands it to OpenSSL (see net/verify.c):
 * raw for Ed25519 (64 bytes), DER for ECDSA (under 140), raw and as long
 * as the modulus for RSA: 2048 bytes for a 16384-bit key, the largest
 * OpenSSH makes or accepts. */
#define PS_MAX_SIG 2048
/* What a user signs (RFC 4252 section 7): the session id (a hash, at most
 * SHA-512's 64 bytes), the byte 50, the user, "ssh-connection",
 * "publickey", TRUE, the algorithm's name and the key blob, each string
 * with its 4-byte length.  Anything longer is no request the monitor can
 * accept. */
#define PS_MAX_SESSION_ID 64
#define PS_MAX_SIGALG 64		/* the longest name OpenSSH knows is 43 */
#define PS_MAX_SIGNED (4 + PS_MAX_SESSION_ID + 1 + 4 + PS_MAX_USER_LEN +	\
	4 + 14 + 4 + 9 + 1 + 4 + PS_MAX_SIGALG + 4 + PS_MAX_BLOB)
#define PS_MAX_PROMPTS 8		/* per keyboard-interactive round */
/* Exec commands: as sshd, up to its packet limit.  One message carries
 * at most PS_MAX_ARG_PART of it; a longer one comes first in SESSION_ARG
 * parts. */
#define PS_MAX_COMMAND (256 * 1024)
#define PS_MAX_ARG_PART (32 * 1024)
#define PS_MAX_TERM 64			/* TERM */
#define PS_MAX_MODES 1024		/* encoded terminal modes (RFC 4254 section 8) */
#define PS_MAX_ENV 64			/* env requests per channel */
#define PS_MAX_ENV_LEN 8192		/* one "NAME=value" */
#define PS_MAX_SIGNAL 32		/* a signal name */
#define PS_MAX_REASON 63		/* the disconnect reason of STATS */
#define PS_MAX_ALG 64			/* a signature algorithm's name */
#define PS_MAX_HASH 64			/* an exchange hash: SHA-512 at most */
#define PS_MAX_HOSTSIG 2048		/* a host signature: RSA-16384 */
#define PS_MAX_HOSTKEYS 3		/* libssh serves one Ed25519, ECDSA, RSA key */
#define PS_MAX_HOSTKEY_BLOB 4096	/* a public host key blob: RSA-16384 */
#define PS_MAX_HOST 1025		/* a host name (NI_MAXHOST), or a socket path */
#define PS_MAX_SESSIONS 10		/* MaxSessions: SSHAND_MAX_SESSIONS */
#define PS_MAX_FWD_PENDING 64		/* FWD_OPENs awaiting FWD_OPENED */
#define PS_MAX_X11_PROTO 64		/* "MIT-MAGIC-COOKIE-1" */
#define PS_MAX_X11_COOKIE 1024		/* in hex; OpenSSH's are 32 digits */
#define PS_MAX_CHAN_TIMEOUTS 16		/* ChannelTimeout entries: CHANTIMEOUT_MAX */
#define PS_MAX_CHAN_TIMEOUT 128		/* one "type=interval": CHANTIMEOUT_MAX_LEN */

#endif
