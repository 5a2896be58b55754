/* What libssh 0.10 parses but does not hand out, and requests it does not
 * parse at all.  Kept in one place, each use of its private layout checked
 * first (against the public accessors, or against what libssh itself put
 * there), so a libssh whose layout differs is detected and the feature is
 * simply not used. */
#ifndef SSHAND_HANDLER_LIBSSH_PRIVATE_H
#define SSHAND_HANDLER_LIBSSH_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libssh/libssh.h>

struct pty_req {
	ssh_channel channel;
	const char *term;
	int cols, rows, xpix, ypix;
	bool modes_known;	/* false: this libssh hides them */
	const uint8_t *modes;	/* encoded (RFC 4254 section 8), into msg */
	size_t nmodes;
};

/* The fields of a pty-req message, valid while msg lives.  0, or -EINVAL
 * if msg is no pty-req. */
int libssh_pty_request(ssh_message msg, struct pty_req *ret);

/*
 * OpenSSH's forwarding extensions, which libssh 0.10 gives no usable
 * callback: direct-streamlocal@openssh.com (ssh -L to a socket path)
 * becomes SSH_CHANNEL_UNKNOWN without its path; streamlocal-forward@
 * openssh.com and cancel-streamlocal-forward@openssh.com (ssh -R from a
 * socket path) are refused inside libssh; auth-agent-req@openssh.com
 * (ssh -A) has a channel callback, channel_auth_agent_req_function, but
 * one that cannot say no: libssh answers success whenever it is set.
 * libssh_install_request_hook() puts a packet callback in front of
 * libssh's own that rewrites each of them, in place, into a request
 * libssh does parse, marked so that our callbacks can tell it apart (and
 * whose answer is their return value):
 *
 *   auth-agent-req@openssh.com      -> "env", name LIBSSH_AGENT_MARK,
 *                                      value "" (want_reply kept)
 *   direct-streamlocal@openssh.com  -> "direct-tcpip", destination
 *                                      LIBSSH_MARK_CHAR + path, port 0,
 *                                      originator "" port 0
 *   streamlocal-forward@openssh.com -> "tcpip-forward", address
 *                                      LIBSSH_MARK_CHAR + path, port 1
 *   cancel-streamlocal-forward@...  -> "cancel-tcpip-forward", likewise
 *
 * Port 1, not 0: libssh appends the bound port to a tcpip-forward's
 * success reply when the requested port is 0, and OpenSSH's reply to
 * streamlocal-forward carries nothing.
 *
 * Only the hook can make a marked request: a client's own env name,
 * direct-tcpip destination or (cancel-)tcpip-forward address that
 * begins with LIBSSH_MARK_CHAR has that byte replaced with '?' before
 * libssh reads it (LIBSSH_REWRITE_NEUTRALISED).  A path that is empty,
 * longer than LIBSSH_UNIX_PATH_MAX or holds a NUL, and any truncated
 * packet, is left as it came (libssh then refuses it, as without the
 * hook).  Names are compared as libssh compares them, as C strings, so
 * "env\0junk" is an env request here as it is to libssh.
 */
#define LIBSSH_MARK_CHAR	'\x01'
#define LIBSSH_UNIX_MARK_CHAR	LIBSSH_MARK_CHAR
#define LIBSSH_AGENT_MARK	"\x01" "auth-agent-req"
/* sun_path less its terminating NUL. */
#define LIBSSH_UNIX_PATH_MAX	107

/* Prepends the hook to s's packet callbacks.  Call it after
 * ssh_handle_key_exchange() succeeded: libssh makes the list when the
 * client's banner arrives.  0 (also when already installed), -ENOMEM,
 * or -ENOTSUP with nothing changed: not libssh 0.10.x, not yet
 * exchanged keys, or a layout that does not pass every check. */
int libssh_install_request_hook(ssh_session s);

/*
 * Channel opens answered later.  libssh 0.10 frees a message when the
 * message callback returns, so the callback cannot keep a channel open
 * to answer once the monitor has connected (which may take seconds).
 * The hook keeps a copy of each CHANNEL_OPEN payload libssh is about to
 * parse; the callback may take it and answer nothing (returning 0), and
 * libssh_replay_channel_open() later hands the copy to libssh's own
 * parser again, which calls the message callback with a new message the
 * application can then answer at once.  The client waits meanwhile, as
 * it does for any open (RFC 4254 section 5.1 sets no time).
 */
/* A direct-tcpip open with two strings of PS_MAX_HOST and its fixed
 * fields fits; a longer one is not kept. */
#define LIBSSH_OPEN_MAX		2304

/* The payload (after the rewrite) of the CHANNEL_OPEN whose message the
 * callback is handling, copied into buf; true once per open, false when
 * none was kept (no hook, or longer than LIBSSH_OPEN_MAX or size). */
bool libssh_take_channel_open(uint8_t *buf, size_t size, size_t *ret_len);
/* Parses payload as a CHANNEL_OPEN again, through libssh's own packet
 * callback, which calls the message callback.  Only from the event loop,
 * never from a libssh callback.  0, -ENOTSUP without the hook, -EINVAL,
 * -ENOMEM. */
int libssh_replay_channel_open(ssh_session s, const uint8_t *data, size_t len);

/* How many replies (success or failure) to global requests the hook has
 * seen pass: libssh 0.10 keeps whether our keepalive@openssh.com was
 * answered to itself (ssh_send_keepalive discards it). */
uint64_t libssh_global_replies(void);

/* True if an env request's name is the hook's agent request. */
bool libssh_is_agent_mark(const char *env_name);
/* The socket path of a hook-made direct-tcpip destination or
 * tcpip-forward address, or NULL for a host name. */
const char *libssh_unix_path(const char *host);

/*
 * Password changes (RFC 4252 section 8), which libssh 0.10 cannot carry:
 * its parser reads a password request's "change" flag and old password
 * and stops, so the new password never reaches the application, and it
 * has no call that sends SSH_MSG_USERAUTH_PASSWD_CHANGEREQ.  The hook
 * reads the flag and the new password of each password request (it
 * changes nothing) just before libssh parses it and queues the message,
 * which libssh hands to the message callback at once; there
 * libssh_password_request() returns them with what libssh parsed.
 * libssh_send_passwd_changereq() sends the change request through
 * ssh_message_auth_reply_pk_ok(), whose packet has the same number (60)
 * and the same shape: two strings.
 */
/* Longer than any password the monitor takes: one cut to it is refused. */
#define LIBSSH_MAX_NEW_PASSWORD	4096

struct password_req {
	const char *user;
	const char *password;	/* the old one, if change */
	bool change;
	/* The new one: "" when the request's is missing or holds a NUL
	 * (which no C string carries whole). */
	const char *new_password;
};

/* The fields of a password request, valid while msg lives and until the
 * next call: 0, or -EINVAL if msg is no password request. */
int libssh_password_request(ssh_message msg, struct password_req *ret);
/* Wipes the new password kept for the last request. */
void libssh_password_clear(void);
/* Answers msg, a password request, with a change request saying
 * prompt.  0, or -EIO if libssh could not send it. */
int libssh_send_passwd_changereq(ssh_message msg, const char *prompt);
/* The hook's reading of a USERAUTH_REQUEST payload: 1 a password change
 * request (*ret_new and *ret_len its new password, pointing into data;
 * NULL when it is missing), 0 anything else.  Names are compared as
 * libssh compares them. */
int libssh_read_password_change(const uint8_t *data, size_t len,
    const uint8_t **ret_new, size_t *ret_len);

/*
 * Channel opens refused with a reason (libssh-rewrite.c): libssh 0.10's
 * only refusal, ssh_message_reply_default(), says "administratively
 * prohibited" with no description, whatever happened.  This one answers
 * msg, a channel open, with reason (SSH2_OPEN_*) and description (cut to
 * LIBSSH_REFUSAL_MAX bytes), as sshd does: 0; -ENOTSUP when the packet
 * went out as libssh built it (another libssh: the open is refused all
 * the same); -EIO if libssh could not send it.
 */
#define LIBSSH_REFUSAL_MAX	200
int libssh_refuse_channel_open(ssh_message msg, uint32_t reason,
    const char *description);
/*
 * A forwarded-streamlocal@openssh.com channel (ssh -R from a socket
 * path) for a connection to the listener the client asked for at path,
 * which libssh 0.10 cannot open (libssh-rewrite.c): its packet is
 * ssh_channel_open_forward_unix()'s, rewritten.  Called again while it
 * returns SSH_AGAIN, as that function is; SSH_OK once the client took
 * it, SSH_ERROR if it refused.  Another libssh sends the open unchanged,
 * and the client refuses it; so does a client that is not OpenSSH
 * (libssh opens it only towards OpenSSH, the extension's author).
 */
int libssh_open_forwarded_streamlocal(ssh_channel ch, const char *path);

/* What a rewrite did to a payload (the bytes after the message type). */
enum {
	LIBSSH_REWRITE_NONE = 0,	/* not one of ours: untouched */
	LIBSSH_REWRITE_DONE = 1,	/* an extension, now a marked request */
	LIBSSH_REWRITE_NEUTRALISED = 2,	/* a client's leading mark replaced */
};
/* The hook's rewrites, exposed for tests.  Each returns one of the above,
 * or -EINVAL for an extension request it leaves untouched (truncated, or
 * a bad path).  Never writes past len, never changes len. */
int libssh_rewrite_global_request(uint8_t *data, size_t len);
int libssh_rewrite_channel_open(uint8_t *data, size_t len);
int libssh_rewrite_channel_request(uint8_t *data, size_t len);

#endif
