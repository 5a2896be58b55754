/* The network child's state and the functions its files share (internal
 * to handler/net/).
 *
 * net.c runs the connection (sandbox, key exchange, event loop); auth.c
 * answers libssh's authentication callbacks by asking the monitor;
 * channel.c handles channel requests and starts sessions; relay.c moves
 * bytes between channels and session fds; ask.c is the one wrapper per
 * privilege separation request; verify.c hands user signatures to the
 * monitor. */
#ifndef SSHAND_HANDLER_NET_NET_H
#define SSHAND_HANDLER_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libssh/libssh.h>
#include <libssh/callbacks.h>
#include <libssh/server.h>

#include "handler/front/handover.h"
#include "handler/privsep/messages.h"

#define MAX_CHANNELS 10
/* Forwarded channels, apart from the session channels' limit. */
#define MAX_FWD_CHANNELS 256
/* Channel ids the monitor chooses (FWD_ACCEPTED) have the high bit set;
 * ours count up from 0. */
#define FWD_ID_MONITOR 0x80000000u
#define RELAY_CHUNK (64 * 1024)
/* A session's output is read up to this much at once, from a pipe made
 * as large (spawn.c): a quarter of the system calls of 64 KiB reads in
 * a download.  Forwarded channels, up to MAX_FWD_CHANNELS of them, keep
 * RELAY_CHUNK. */
#define RELAY_SESSION_CHUNK PS_SESSION_OUTPUT_SIZE

struct net;

/* One ChannelTimeout entry (idle.c). */
struct chan_timeout {
	char pattern[PS_MAX_CHAN_TIMEOUT + 1];
	unsigned secs;
};

struct nchan {
	struct net *n;
	struct nchan *next;
	ssh_channel ch;
	uint32_t id;
	struct ssh_channel_callbacks_struct cb;

	/* Requests that precede the shell/exec/subsystem request. */
	bool want_pty;
	char term[PS_MAX_TERM];
	uint32_t cols, rows, xpix, ypix;
	uint8_t modes[PS_MAX_MODES];	/* encoded terminal modes (RFC 4254 8) */
	size_t nmodes;
	char *env[PS_MAX_ENV];
	size_t nenv;
	bool x11_asked;			/* x11-req: one per session */

	bool started, failed;
	bool pty;
	int in_fd, out_fd, err_fd;	/* pty: in_fd == out_fd, err_fd -1 */
	unsigned reg_in, reg_out, reg_err;	/* poll events registered */

	/* Client → child: what write() did not take yet. */
	uint8_t *pend;
	size_t pend_off, pend_len;
	bool lib_pending;		/* libssh holds data we left unconsumed */
	bool client_eof;
	/* The receive window grown past libssh's (window.c), and fwd_in
	 * at the last top-up. */
	bool window_grown;
	uint64_t window_mark;

	/* Child → client: what libssh did not take yet (it takes nothing
	 * while a key re-exchange runs). */
	uint8_t *obuf;
	size_t obuf_size;
	size_t o_off, o_len;
	bool o_err;
	bool out_eof, err_eof;
	bool draining;			/* child exited: read what is left, then close */

	bool exited, core;
	int status, sig;
	bool client_closed;
	bool finished;			/* exit-status sent, channel closed */

	/* A forwarded channel (forward.c): in_fd == out_fd, a socket. */
	bool fwd;
	unsigned fwd_kind;		/* enum ps_fwd_kind */
	bool opening;			/* we opened it; the client has not
					 * confirmed yet */
	char *fwd_host, *fwd_orig;	/* for opening: the listener's, the peer's */
	uint32_t fwd_port, fwd_orig_port;
	bool wr_shut;			/* the client's EOF passed on (SHUT_WR) */
	bool wr_broken;			/* the socket took no more */
	bool eof_sent;
	bool fwd_reported;		/* FWD_CLOSE sent */
	uint64_t fwd_in, fwd_out;	/* bytes from and to the client */

	/* ChannelTimeout (idle.c): the timeout of the channel's type (s, 0:
	 * none), when bytes last moved (fwd_in + fwd_out was last seen to
	 * be idle_mark); abandoned: closed by us for inactivity. */
	unsigned idle_secs;
	uint64_t lastused;
	uint64_t idle_mark;
	bool abandoned;			/* and out of the MaxSessions count */
};

/* A direct-tcpip or direct-streamlocal open the monitor is connecting
 * (forward.c): the client waits for its answer meanwhile, and nothing
 * else does. */
struct fwd_pending {
	struct fwd_pending *next;
	uint32_t id;
	bool ready;			/* FWD_OPENED came */
	bool ok;
	int fd;				/* ok: the connected socket; else -1 */
	char error[128];		/* !ok: why, for the log */
	size_t len;
	uint8_t payload[];		/* the CHANNEL_OPEN, to replay */
};

struct net {
	struct handover *h;
	int mon;			/* the socketpair to the monitor */
	struct ps_msg *req, *rep;	/* the request sent, the answer read */
	ssh_session s;
	ssh_event ev;
	struct ssh_server_callbacks_struct scb;
	/* bytes on the wire both ways; payload bytes after decryption */
	struct ssh_counter_struct sock_counter, raw_counter;
	bool authenticated;
	bool pty_ok;
	/* The user's MaxSessions, ClientAliveInterval (s) and
	 * ClientAliveCountMax, from the monitor's AUTH_RESULT. */
	unsigned max_sessions;
	unsigned alive_interval, alive_count_max;
	unsigned alive_missed;		/* keepalives unanswered in a row */
	uint64_t alive_heard;		/* when the client last sent, usec */
	uint64_t alive_replies;		/* libssh_global_replies() then */
	/* UnusedConnectionTimeout (s, 0: none), and when it ends the
	 * connection if no channel is open by then (usec, 0: not yet set). */
	unsigned unused_timeout;
	uint64_t unused_expiry;
	/* The user's ChannelTimeout, in order (idle.c). */
	struct chan_timeout timeouts[PS_MAX_CHAN_TIMEOUTS];
	unsigned n_timeouts;
	bool kbd_active;
	bool hook;			/* libssh's request hook is in place */
	bool done;
	bool no_disconnect;		/* end without SSH_MSG_DISCONNECT */
	int exit_code;
	const char *reason;
	char terminate_reason[PS_MAX_REASON + 1];
	struct nchan *chans;
	unsigned nchans;		/* session channels */
	unsigned nfwd;			/* forwarded channels */
	struct fwd_pending *pending;	/* opens awaiting FWD_OPENED */
	unsigned npending;
	struct fwd_pending *replaying;	/* the open being parsed again */
	bool agent_asked;
	uint32_t next_id;
	bool in_write;			/* inside ssh_channel_write */
	uint64_t start_usec;		/* the child's start, for its phases */
};

/* The network child's life; returns its exit code. */
int net_main(struct handover *h, int mon_fd);

/* net.c: the connection is ending, with this exit code and reason (the
 * first call wins). */
void net_fail(struct net *n, int code, const char *reason);

/* hostkeys.c: the monitor's HOSTKEYS, as keys libssh can serve, each with
 * a stand-in for its private half (signatures come from the monitor). */
int net_hostkeys(struct net *n, ssh_bind b);

/* ask.c: one wrapper per request of privsep/protocol.h's table,
 * ask_<name>(n, request).  Those the table answers wait for the answer,
 * handling the monitor's notices that come first (ended sessions,
 * TERMINATE), and leave it for a read_* below; 0, or a negative errno when
 * the monitor is gone or broke the protocol (the connection then fails).
 * The others only send: a notice that cannot be sent is dropped, and the
 * event loop sees the monitor's end. */
#define ASK(type, name, ...) \
	int ask_##name(struct net *n, const struct ps_##name *q);
PS_REQUESTS(ASK)
#undef ASK
int read_auth_result(struct net *n, struct ps_auth_result *ret);
int read_signature(struct net *n, struct ps_signature *ret);
/* Keyboard-interactive: more prompts, or the result. */
struct kbdint_reply {
	unsigned type;			/* PS_KBDINT_PROMPTS or PS_AUTH_RESULT */
	struct ps_kbdint_prompts prompts;
	struct ps_auth_result result;
};
int read_kbdint_reply(struct net *n, struct kbdint_reply *ret);
/* A password request's: the result, or a change request. */
struct ps_password_reply {
	unsigned type;			/* PS_AUTH_RESULT or PS_PASSWD_CHANGEREQ */
	struct ps_auth_result result;
	struct ps_passwd_changereq changereq;
};
int read_password_reply(struct net *n, struct ps_password_reply *ret);
/* The session id, and the descriptors its answer must carry, checked. */
int read_session_started(struct net *n, uint32_t id, struct ps_session_started *ret);
int read_fwd_listening(struct net *n, struct ps_fwd_listening *ret);
/* The monitor's notices that arrived unasked (poll said readable). */
int on_monitor(socket_t fd, int revents, void *ud);

/* idle.c: ChannelTimeout.  idle_setup takes the user's entries from
 * AUTH_RESULT (-EPROTO if one is malformed); idle_start labels a channel
 * that opens (idle_start_session: a session whose program starts) and
 * starts its clock; idle_check, after each round of the event loop,
 * closes the channels idle for their timeout; idle_next_due: when the
 * next one may be (usec), for poll (0: none). */
int idle_setup(struct net *n, const struct ps_auth_result *r);
void idle_start(struct nchan *c, const char *type);
void idle_start_session(struct nchan *c, enum ps_session_kind kind, const char *arg);
const char *idle_fwd_type(unsigned kind, bool direct);
void idle_check(struct net *n);
uint64_t idle_next_due(const struct net *n);

/* auth.c: the authentication callbacks. */
void net_auth_setup(struct net *n);

/* verify.c: what libssh last asked EVP_DigestVerify about, for a signed
 * publickey request: q's signed_data and signature point to it (empty if
 * there is none) until net_verify_clear(). */
void net_verify_take(struct ps_auth_pubkey *q);
void net_verify_clear(void);

/* channel.c */
ssh_channel on_channel_open(ssh_session s, void *ud);
int on_pty_message(struct net *n, ssh_message msg);
struct nchan *chan_by_id(struct net *n, uint32_t id);
void chan_free(struct nchan *c);

/* forward.c: direct-tcpip opens, global requests and x11-req (from the
 * message callback: 0 handled, 1 refuse); auth-agent-req; the monitor's
 * FWD_OPENED and FWD_ACCEPTED; answering the opens the monitor has
 * connected (fwd_replay_ready, from the event loop only); opening
 * channels to the client, and ending them. */
int on_forward_message(struct net *n, ssh_message msg);
int fwd_agent_request(struct nchan *c);
int fwd_opened(struct net *n, const struct ps_fwd_opened *r);
void fwd_replay_ready(struct net *n);
int fwd_accepted(struct net *n, const struct ps_fwd_accepted *a);
bool fwd_try_open(struct nchan *c);
void fwd_maybe_finish(struct nchan *c);
void fwd_report_close(struct nchan *c, bool opened, const char *reason);
void fwd_report_all(struct net *n, const char *reason);

/* relay.c */
bool flush_output_pending(struct nchan *c);
void relay_unregister(struct nchan *c);
/* Unregisters and closes the channel's descriptors (one for a terminal
 * or a forwarded socket, else three), each -1 after. */
void relay_close_fds(struct nchan *c);
/* A session without a terminal whose client closed the channel: its
 * stdout and stderr are closed, unread. */
void relay_close_output(struct nchan *c);
void relay_round(struct net *n);
/* window.c: each channel's receive window grown past libssh's. */
void relay_grow_windows(struct net *n);
void flush_input(struct nchan *c);
void maybe_close_input(struct nchan *c);
int on_data(ssh_session s, ssh_channel ch, void *data, uint32_t len,
    int is_stderr, void *ud);
void on_eof(ssh_session s, ssh_channel ch, void *ud);

#endif
