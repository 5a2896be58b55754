/* Privilege separation: the messages between the privileged parent (the
 * monitor) and the network child, over a SOCK_SEQPACKET socketpair.
 *
 * Each message is one datagram: u8 type, then fields (u32 big-endian, or
 * u32 length + bytes for strings), at most MON_MAX_MSG bytes, with up to
 * MON_MAX_FDS descriptors attached (SCM_RIGHTS).  Every field read is
 * bounds-checked; a short or overlong message is a protocol violation.
 */
#ifndef SSHAND_HANDLER_MONITOR_H
#define SSHAND_HANDLER_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MON_MAX_MSG (64 * 1024)
#define MON_MAX_FDS 3
#define MON_MAX_STR 8192	/* any one string field */
#define MON_MAX_PROMPTS 8	/* keyboard-interactive prompts per round */
#define MON_MAX_ENV 64		/* env requests per channel */

/* Requests from the network child; the comment says when each is allowed
 * and what the monitor answers. */
enum mon_type {
	MON_NONE = 0,
	/* pre-auth, once: client version string.  No answer. */
	MON_CLIENT_INFO,
	/* pre-auth: user, password → MON_AUTH_RESULT */
	MON_AUTH_PASSWORD,
	/* pre-auth: user, key (base64 wire blob), u32 signed → MON_AUTH_RESULT */
	MON_AUTH_PUBKEY,
	/* pre-auth: user → MON_KBDINT_PROMPTS or MON_AUTH_RESULT */
	MON_KBDINT_START,
	/* pre-auth, only during a conversation: n, answers → as above */
	MON_KBDINT_ANSWERS,
	/* post-auth: channel id, u32 kind, command, u32 pty, term, cols, rows,
	 * xpix, ypix, terminal modes (bytes), u32 nenv, "NAME=value"...
	 * → MON_SESSION_STARTED (+ fds) */
	MON_SESSION_OPEN,
	/* post-auth: id, cols, rows, xpix, ypix.  No answer. */
	MON_WINDOW_CHANGE,
	/* post-auth: id, signal name.  No answer. */
	MON_SIGNAL,
	/* post-auth: id: the client closed the channel.  No answer. */
	MON_SESSION_CLOSE,
	/* any time, last: bytes in, bytes out (u32 hi, u32 lo each), reason. */
	MON_STATS,

	/* From the monitor. */
	MON_AUTH_RESULT,	/* u32 result (enum mon_auth), u32 flags (MON_FLAG_*) */
	MON_KBDINT_PROMPTS,	/* name, instruction, n, (prompt, u32 echo)... */
	MON_SESSION_STARTED,	/* id, u32 ok, u32 pty, error text; fds */
	MON_EXIT,		/* id, u32 exited, u32 status, u32 signal, u32 core */
	MON_TERMINATE,		/* reason: end the connection now (send MON_STATS first) */
	_MON_TYPE_MAX,
};

enum mon_auth {
	MON_AUTH_DENIED = 0,
	MON_AUTH_OK = 1,		/* authenticated (or, for a key probe, acceptable) */
	MON_AUTH_DISCONNECT = 2,	/* denied, and the connection must end */
};

#define MON_FLAG_PTY 1u	/* after login: pty requests are permitted */

enum mon_session_kind { MON_KIND_SHELL, MON_KIND_EXEC, MON_KIND_SUBSYSTEM };

struct mon_msg {
	uint8_t buf[MON_MAX_MSG];
	size_t len;		/* bytes in buf */
	size_t pos;		/* read position */
	bool bad;		/* a read or write went out of bounds */
	int fds[MON_MAX_FDS];
	size_t nfds;
};

void mon_init(struct mon_msg *m, enum mon_type type);
void mon_put_u32(struct mon_msg *m, uint32_t v);
void mon_put_u64(struct mon_msg *m, uint64_t v);
void mon_put_str(struct mon_msg *m, const char *s);
void mon_put_bytes(struct mon_msg *m, const void *p, size_t n);
/* Attach an fd (not owned: the caller closes its copy after sending). */
void mon_put_fd(struct mon_msg *m, int fd);

/* Readers set m->bad on failure and return 0 / NULL. */
enum mon_type mon_type(const struct mon_msg *m);
uint32_t mon_get_u32(struct mon_msg *m);
uint64_t mon_get_u64(struct mon_msg *m);
/* A NUL-free string of at most max bytes, copied into a fresh allocation. */
char *mon_get_str(struct mon_msg *m, size_t max);
/* Bytes, pointing into m (valid until the next receive). */
const uint8_t *mon_get_bytes(struct mon_msg *m, size_t max, size_t *ret_len);
/* Take ownership of the next received fd, or -1. */
int mon_take_fd(struct mon_msg *m);
/* True if every field was consumed and none was out of bounds. */
bool mon_done(const struct mon_msg *m);

/* Send, retrying on EINTR.  0 or -errno (-EMSGSIZE if a put overflowed). */
int mon_send(int fd, const struct mon_msg *m);
/* Receive one message (blocking, or with MSG_DONTWAIT in flags: -EAGAIN).
 * 0, -EPIPE at EOF, -EBADMSG for a truncated message or unknown type, other
 * -errno.  Fds received beyond MON_MAX_FDS are closed. */
int mon_recv(int fd, struct mon_msg *m, int flags);
/* Closes fds still owned by m. */
void mon_clear_fds(struct mon_msg *m);

/* Wipe the buffer (it may have carried a password). */
void mon_wipe(struct mon_msg *m);

#endif
