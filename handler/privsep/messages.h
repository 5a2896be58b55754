/* Every privilege separation message: its fields, in their order on the
 * wire, declared once below; its struct and its encode/decode pair are
 * made from that one list, so the two sides cannot disagree.
 *
 *	ps_put_NAME(m, r)	starts a message of its type and writes r
 *	ps_get_NAME(m, ret)	reads the fields of a received message of
 *				that type (the caller has checked the type):
 *				0, or -EBADMSG if a field is missing, out of
 *				its bound, or anything (bytes, descriptors) is
 *				left over
 *
 * Decoded strings and bytes point into the message: valid until it is
 * received into, wiped or moved.  Field kinds, F(kind, name, bound, count):
 *
 *	U32, U64	uint32_t / uint64_t name
 *	BOOL		bool name; 0 or 1 on the wire, anything else malformed
 *	MAX		uint32_t name, at most bound
 *	STR		const char *name: at most bound bytes, no NUL
 *	CUT		as STR; the encoder cuts the value at bound (a value
 *			from the client: see protocol.h)
 *	BYTES		const uint8_t *name, size_t name_len: at most bound
 *	STRS		uint32_t n_name, const char *name[count]: each cut at
 *			bound
 *	FDS		size_t n_name, int name[count]: descriptors
 *			(SCM_RIGHTS), which the decoder hands to the caller
 */
#ifndef SSHAND_HANDLER_PRIVSEP_MESSAGES_H
#define SSHAND_HANDLER_PRIVSEP_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handler/privsep/protocol.h"
#include "handler/privsep/wire.h"

/* ---- requests of the network child ---- */
#define PS_FIELDS_client_info(F)					\
	F(CUT, version, PS_MAX_STR, 1)		/* the client's SSH version */
/* change: the client's request changes the password (RFC 4252 section
 * 8): password is the old one, new_password the new; can_change: the
 * child can send PASSWD_CHANGEREQ and read the change it brings (its
 * libssh request hook is in place). */
#define PS_FIELDS_auth_password(F)					\
	F(CUT, user, PS_MAX_USER, 1)					\
	F(CUT, password, PS_MAX_PASSWORD, 1)				\
	F(BOOL, change, 1, 1)						\
	F(CUT, new_password, PS_MAX_PASSWORD, 1)			\
	F(BOOL, can_change, 1, 1)
/* A signed request carries what libssh asked OpenSSL to verify (see
 * net/verify.c), which the monitor checks itself; the probe, nothing. */
#define PS_FIELDS_auth_pubkey(F)					\
	F(CUT, user, PS_MAX_USER, 1)					\
	F(BYTES, blob, PS_MAX_BLOB, 1)		/* SSH wire format */	\
	F(BOOL, is_signed, 1, 1)		/* false: the probe */	\
	F(BYTES, signed_data, PS_MAX_SIGNED, 1)				\
	F(BYTES, signature, PS_MAX_SIG, 1)
#define PS_FIELDS_kbdint_start(F)					\
	F(CUT, user, PS_MAX_USER, 1)
#define PS_FIELDS_kbdint_answers(F)					\
	F(STRS, answers, PS_MAX_PASSWORD, PS_MAX_PROMPTS)
#define PS_FIELDS_session_open(F)					\
	F(U32, id, 0, 1)			/* the child's channel */ \
	F(MAX, kind, PS_KIND_SUBSYSTEM, 1)	/* enum ps_session_kind */ \
	F(STR, arg, PS_MAX_ARG_PART, 1)		/* command, subsystem, "" */ \
	F(BOOL, arg_parts, 1, 1)		/* arg follows SESSION_ARGs */ \
	F(BOOL, pty, 1, 1)						\
	F(STR, term, PS_MAX_TERM, 1)					\
	F(U32, cols, 0, 1)						\
	F(U32, rows, 0, 1)						\
	F(U32, xpix, 0, 1)						\
	F(U32, ypix, 0, 1)						\
	F(BYTES, modes, PS_MAX_MODES, 1)	/* terminal modes, encoded */ \
	F(STRS, env, PS_MAX_ENV_LEN, PS_MAX_ENV) /* "NAME=value" asked for */
#define PS_FIELDS_window_change(F)					\
	F(U32, id, 0, 1) F(U32, cols, 0, 1) F(U32, rows, 0, 1)		\
	F(U32, xpix, 0, 1) F(U32, ypix, 0, 1)
#define PS_FIELDS_signal(F)						\
	F(U32, id, 0, 1)						\
	F(CUT, name, PS_MAX_SIGNAL, 1)		/* "INT", "TERM"... */
#define PS_FIELDS_session_close(F)					\
	F(U32, id, 0, 1)						\
	F(U32, idle, 0, 1)	/* 0: the client's close; else ours, idle s */
#define PS_FIELDS_stats(F)						\
	F(U64, bytes_in, 0, 1)			/* on the wire */	\
	F(U64, bytes_out, 0, 1)						\
	F(CUT, reason, PS_MAX_REASON, 1)	/* why it ends */
#define PS_FIELDS_sign(F)						\
	F(STR, alg, PS_MAX_ALG, 1)		/* "rsa-sha2-512"... */	\
	F(BYTES, hash, PS_MAX_HASH, 1)		/* the exchange hash */
/* Forwarding.  host/port: where to connect, or the address to listen
 * on, as the client named it; a socket path for PS_FWD_UNIX, port 0. */
#define PS_FIELDS_fwd_open(F)						\
	F(U32, id, 0, 1)			/* the child's channel */ \
	F(MAX, kind, PS_FWD_UNIX, 1)		/* enum ps_fwd_kind */	\
	F(CUT, host, PS_MAX_HOST, 1)					\
	F(U32, port, 0, 1)						\
	F(CUT, orig_host, PS_MAX_HOST, 1)	/* what the client says */ \
	F(U32, orig_port, 0, 1)
#define PS_FIELDS_fwd_listen(F)						\
	F(MAX, kind, PS_FWD_AGENT, 1)					\
	F(CUT, host, PS_MAX_HOST, 1)					\
	F(U32, port, 0, 1)			/* 0: any free port */
#define PS_FIELDS_fwd_unlisten(F)					\
	F(MAX, kind, PS_FWD_UNIX, 1)					\
	F(CUT, host, PS_MAX_HOST, 1)					\
	F(U32, port, 0, 1)
#define PS_FIELDS_fwd_close(F)						\
	F(U32, id, 0, 1)						\
	F(BOOL, opened, 1, 1)		/* false: the client refused it */ \
	F(U64, bytes_in, 0, 1)		/* from the client */		\
	F(U64, bytes_out, 0, 1)						\
	F(CUT, reason, PS_MAX_REASON, 1)
/* A part of a long exec command, before its SESSION_OPEN (in order). */
#define PS_FIELDS_session_arg(F)					\
	F(U32, id, 0, 1)						\
	F(STR, part, PS_MAX_ARG_PART, 1)

/* The client accepted a channel we opened for FWD_ACCEPTED. */
#define PS_FIELDS_fwd_confirmed(F)					\
	F(U32, id, 0, 1)
/* x11-req on a session channel, before its shell or command: answered
 * with FWD_LISTENING (port: the display number).  The protocol and cookie
 * are cut one byte past what the monitor accepts (see protocol.h). */
#define PS_FIELDS_x11_req(F)						\
	F(U32, id, 0, 1)			/* the session channel */ \
	F(BOOL, single, 1, 1)			/* single-connection */	\
	F(CUT, proto, PS_MAX_X11_PROTO + 1, 1)				\
	F(CUT, cookie, PS_MAX_X11_COOKIE + 1, 1)	/* hex */	\
	F(U32, screen, 0, 1)

/* ---- answers and notices of the monitor ---- */
/* After login, the user's limits the network child keeps: MaxSessions,
 * ClientAliveInterval (s) and ClientAliveCountMax.  Before it, methods:
 * those the client may try next (policy/authmethods.h's AM_* bits; 0:
 * leave the offer as it is), which a refusal and a partial success list
 * (AuthenticationMethods). */
#define PS_FIELDS_auth_result(F)					\
	F(MAX, result, PS_AUTH_PARTIAL, 1)	/* enum ps_auth */	\
	F(U32, flags, 0, 1)			/* PS_FLAG_* */		\
	F(MAX, max_sessions, PS_MAX_SESSIONS, 1)			\
	F(U32, alive_interval, 0, 1)					\
	F(U32, alive_count_max, 0, 1)					\
	F(MAX, methods, 7, 1)						\
	F(U32, unused_timeout, 0, 1)		/* seconds, 0: none */	\
	/* ChannelTimeout's "type=interval" entries, as configured */	\
	F(STRS, channel_timeouts, PS_MAX_CHAN_TIMEOUT, PS_MAX_CHAN_TIMEOUTS)
/* The password is right but must be changed: what PAM said of it, for
 * the client to show before it asks for the new one. */
#define PS_FIELDS_passwd_changereq(F)					\
	F(STR, prompt, PS_MAX_STR, 1)
#define PS_FIELDS_kbdint_prompts(F)					\
	F(STR, name, PS_MAX_STR, 1)					\
	F(STR, instruction, PS_MAX_STR, 1)				\
	F(STRS, prompts, PS_MAX_STR, PS_MAX_PROMPTS)			\
	F(U32, echo, 0, 1)			/* bit i: echo answer i */
#define PS_FIELDS_session_started(F)					\
	F(U32, id, 0, 1)						\
	F(BOOL, ok, 1, 1)						\
	F(BOOL, pty, 1, 1)						\
	F(CUT, error, PS_MAX_STR, 1)		/* why not, when !ok */	\
	F(FDS, fds, 0, PS_MAX_FDS)		/* ok: pty master, or 3 pipes */
#define PS_FIELDS_exit(F)						\
	F(U32, id, 0, 1)						\
	F(BOOL, exited, 1, 1)			/* else killed */	\
	F(U32, status, 0, 1)						\
	F(U32, signal, 0, 1)						\
	F(BOOL, core, 1, 1)
#define PS_FIELDS_terminate(F)						\
	F(CUT, reason, PS_MAX_REASON, 1)
#define PS_FIELDS_signature(F)						\
	F(BYTES, sig, PS_MAX_HOSTSIG, 1)	/* as EVP_DigestSign gives it */
#define PS_FIELDS_hostkeys(F)						\
	F(BYTES, blob0, PS_MAX_HOSTKEY_BLOB, 1)	/* SSH wire format; */	\
	F(BYTES, blob1, PS_MAX_HOSTKEY_BLOB, 1)	/* empty: none */	\
	F(BYTES, blob2, PS_MAX_HOSTKEY_BLOB, 1)

/* A session's stdout pipe, as the monitor sizes it (spawn.c), and the
 * network child's reads of it (RELAY_SESSION_CHUNK): one size, so that
 * one read empties a full pipe. */
#define PS_SESSION_OUTPUT_SIZE (256 * 1024)

/* An open refused because its connect failed: error is this prefix and
 * the connect's own words, which the network child sends the client as
 * sshd does ("connect failed: Connection refused"); any other error is a
 * refusal by policy. */
#define PS_FWD_CONNECT_FAILED "connect-failed: "
#define PS_FIELDS_fwd_opened(F)						\
	F(U32, id, 0, 1)						\
	F(BOOL, ok, 1, 1)						\
	F(CUT, error, PS_MAX_STR, 1)		/* why not, when !ok */	\
	F(FDS, fds, 0, 1)			/* ok: the connected socket */
#define PS_FIELDS_fwd_listening(F)					\
	F(BOOL, ok, 1, 1)						\
	F(U32, port, 0, 1)			/* the port bound */	\
	F(CUT, error, PS_MAX_STR, 1)
/* A connection to one of the user's listeners: open a forwarded-tcpip,
 * forwarded-streamlocal, auth-agent or x11 channel for it.  host/port:
 * the listener's, as the client asked for it (for x11: DISPLAY). */
#define PS_FIELDS_fwd_accepted(F)					\
	F(U32, id, 0, 1)			/* the monitor's; high bit set */ \
	F(MAX, kind, PS_FWD_X11, 1)					\
	F(CUT, host, PS_MAX_HOST, 1)					\
	F(U32, port, 0, 1)						\
	F(CUT, orig_host, PS_MAX_HOST, 1)				\
	F(U32, orig_port, 0, 1)						\
	F(FDS, fds, 0, 1)

/* ---- between the monitor and the forwarder ---- */
#define PS_FIELDS_fwdr_connect(F)					\
	F(U32, id, 0, 1)						\
	F(MAX, kind, PS_FWD_UNIX, 1)					\
	F(STR, host, PS_MAX_HOST, 1)					\
	F(U32, port, 0, 1)
#define PS_FIELDS_fwdr_connected(F)					\
	F(U32, id, 0, 1)						\
	F(U32, err, 0, 1)			/* errno, or 0 */	\
	F(CUT, error, PS_MAX_STR, 1)		/* resolver's words */	\
	F(FDS, fds, 0, 1)
/* For PS_FWD_X11, host is "localhost" or "" and port the first display
 * number to try; LISTENING's port is then the TCP port, 6000 + N.  For
 * PS_FWD_UNIX, host is the socket's path, made under umask mask and,
 * with unlink_first, after removing what is at the path: the user's
 * StreamLocalBindMask and StreamLocalBindUnlink. */
#define PS_FIELDS_fwdr_listen(F)					\
	F(U32, listener, 0, 1)						\
	F(MAX, kind, PS_FWD_X11, 1)					\
	F(STR, host, PS_MAX_HOST, 1)		/* "": every address */	\
	F(U32, port, 0, 1)						\
	F(MAX, mask, 0777, 1)						\
	F(BOOL, unlink_first, 1, 1)
#define PS_FIELDS_fwdr_listening(F)					\
	F(U32, listener, 0, 1)						\
	F(U32, err, 0, 1)						\
	F(U32, port, 0, 1)						\
	F(CUT, path, PS_MAX_HOST, 1)		/* the agent's socket */
#define PS_FIELDS_fwdr_unlisten(F)					\
	F(U32, listener, 0, 1)
#define PS_FIELDS_fwdr_incoming(F)					\
	F(U32, listener, 0, 1)						\
	F(CUT, orig_host, PS_MAX_HOST, 1)				\
	F(U32, orig_port, 0, 1)						\
	F(FDS, fds, 0, 1)

/* ---- the key holder's answer ---- */
#define PS_FIELDS_signed(F)						\
	F(BYTES, sig, PS_MAX_HOSTSIG, 1)	/* empty: cannot sign */ \
	F(BYTES, session_id, PS_MAX_HASH, 1)	/* the first hash it signed */

#define PS_DECLARE(kind, name, bound, count) PS_DECLARE_##kind(name, count)
#define PS_DECLARE_U32(name, count) uint32_t name;
#define PS_DECLARE_MAX(name, count) uint32_t name;
#define PS_DECLARE_U64(name, count) uint64_t name;
#define PS_DECLARE_BOOL(name, count) bool name;
#define PS_DECLARE_STR(name, count) const char *name;
#define PS_DECLARE_CUT(name, count) const char *name;
#define PS_DECLARE_BYTES(name, count) const uint8_t *name; size_t name##_len;
#define PS_DECLARE_STRS(name, count) uint32_t n_##name; const char *name[count];
#define PS_DECLARE_FDS(name, count) size_t n_##name; int name[count];

#define PS_MESSAGE(type, name, ...)					\
	struct ps_##name { PS_FIELDS_##name(PS_DECLARE) };		\
	void ps_put_##name(struct ps_msg *m, const struct ps_##name *r);	\
	int ps_get_##name(struct ps_msg *m, struct ps_##name *ret);
PS_REQUESTS(PS_MESSAGE)
PS_MONITOR_MESSAGES(PS_MESSAGE)
PS_KEYHOLDER_MESSAGES(PS_MESSAGE)
PS_FORWARDER_MESSAGES(PS_MESSAGE)
#undef PS_MESSAGE

#endif
