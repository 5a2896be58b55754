/* The network child: the only process that parses what the client sends.
 *
 * Before it reads the first byte it is chrooted to an empty directory, runs
 * as the unprivileged PrivsepUser with no capabilities and no_new_privs, and
 * is confined by a seccomp allow-list.  Every decision (is this password
 * right, may this key log in, start this shell) is asked of the monitor over
 * the socketpair; after login it relays bytes between the SSH channels and
 * the session fds the monitor passes it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <libssh/libssh.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <libssh/server.h>
#include <libssh/callbacks.h>

#include "handler/front/handover.h"
#include "handler/net/libssh-private.h"
#include "handler/front/log.h"
#include "handler/privsep/wire.h"
#include "handler/monitor/ptymodes.h"
#include "sandbox/sandbox.h"

#define MAX_CHANNELS 10
#define RELAY_CHUNK (64 * 1024)

/* Key exchange methods that need no file at run time: group-exchange
 * re-reads /etc/ssh/moduli, which the chroot hides. */
#define DEFAULT_KEX "curve25519-sha256,curve25519-sha256@libssh.org," \
	"ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521," \
	"diffie-hellman-group16-sha512,diffie-hellman-group18-sha512," \
	"diffie-hellman-group14-sha256"

struct net;

struct nchan {
	struct net *n;
	struct nchan *next;
	ssh_channel ch;
	uint32_t id;
	struct ssh_channel_callbacks_struct cb;

	/* Requests that precede the shell/exec/subsystem request. */
	bool want_pty;
	char term[64];
	uint32_t cols, rows, xpix, ypix;
	uint8_t modes[PTYMODES_MAX];	/* encoded terminal modes (RFC 4254 8) */
	size_t nmodes;
	char *env[MON_MAX_ENV];
	size_t nenv;

	bool started, failed;
	bool pty;
	int in_fd, out_fd, err_fd;	/* pty: in_fd == out_fd, err_fd -1 */
	unsigned reg_in, reg_out, reg_err;	/* poll events registered */

	/* Client → child: what write() did not take yet. */
	uint8_t *pend;
	size_t pend_off, pend_len;
	bool lib_pending;		/* libssh holds data we left unconsumed */
	bool client_eof;

	/* Child → client: what libssh did not take yet (it takes nothing
	 * while a key re-exchange runs). */
	uint8_t *obuf;
	size_t o_off, o_len;
	bool o_err;
	bool out_eof, err_eof;
	bool draining;			/* child exited: read what is left, then close */

	bool exited, core;
	int status, sig;
	bool client_closed;
	bool finished;			/* exit-status sent, channel closed */
};

struct net {
	struct conn *c;
	int mon;
	ssh_session s;
	ssh_event ev;
	struct ssh_server_callbacks_struct scb;
	/* bytes on the wire both ways; payload bytes after decryption */
	struct ssh_counter_struct sock_counter, raw_counter;
	bool authenticated;
	bool pty_ok;
	bool kbd_active;
	bool done;
	int exit_code;
	const char *reason;
	struct nchan *chans;
	unsigned nchans;
	uint32_t next_id;
	bool mon_registered;
	bool in_write;			/* inside ssh_channel_write */
};

static struct mon_msg req, rep;

static void
net_fail(struct net *n, int code, const char *reason)
{
	if (!n->done) {
		n->done = true;
		n->exit_code = code;
		n->reason = reason;
	}
}

static int handle_async(struct net *n, struct mon_msg *m);

/* One request/answer round trip (the answer is of type want or want2).
 * Exit notifications that arrive first are handled on the way. */
static int
mon_call2(struct net *n, enum mon_type want, enum mon_type want2)
{
	int r = mon_send(n->mon, &req);

	mon_wipe(&req);
	if (r == -EMSGSIZE) {
		/* Too big to ask about (env requests, say): refuse, go on. */
		log_info("request too large for the monitor, refused");
		return r;
	}
	if (r < 0)
		goto broken;
	for (;;) {
		r = mon_recv(n->mon, &rep, 0);
		if (r < 0)
			goto broken;
		if (mon_type(&rep) == want || mon_type(&rep) == want2)
			return 0;
		if (handle_async(n, &rep) < 0)
			goto broken;
	}
broken:
	log_errno(LOG_ERR, r, "monitor gone or protocol error");
	net_fail(n, EXIT_INTERNAL, "monitor");
	return r < 0 ? r : -EPROTO;
}

/* Client strings longer than the monitor accepts are cut one byte past
 * the limit: the monitor then refuses them as what they are (an invalid
 * user name, an overlong password) instead of seeing a malformed request. */
static void
put_bounded(struct mon_msg *m, const char *s, size_t max)
{
	size_t n = s ? strnlen(s, max) : 0;

	mon_put_bytes(m, s ? s : "", n);
}

static int
mon_call(struct net *n, enum mon_type want)
{
	return mon_call2(n, want, want);
}

/* ---- authentication: every decision is the monitor's ---- */

static int
auth_result(struct net *n)
{
	uint32_t res = mon_get_u32(&rep);
	uint32_t flags = mon_get_u32(&rep);

	if (mon_type(&rep) != MON_AUTH_RESULT || !mon_done(&rep)) {
		net_fail(n, EXIT_INTERNAL, "monitor");
		return SSH_AUTH_DENIED;
	}
	if (res == MON_AUTH_DISCONNECT) {
		ssh_session_set_disconnect_message(n->s, "Too many authentication failures");
		net_fail(n, EXIT_NOAUTH, "max-auth-tries");
		return SSH_AUTH_DENIED;
	}
	n->pty_ok = (flags & MON_FLAG_PTY) != 0;
	return res == MON_AUTH_OK ? SSH_AUTH_SUCCESS : SSH_AUTH_DENIED;
}

static int
on_auth_password(ssh_session s, const char *user, const char *password, void *ud)
{
	struct net *n = ud;
	int r;

	(void)s;
	if (n->done)
		return SSH_AUTH_DENIED;
	n->kbd_active = false;
	mon_init(&req, MON_AUTH_PASSWORD);
	put_bounded(&req, user, MAX_USER_LEN + 1);
	put_bounded(&req, password, MAX_PASSWORD_LEN + 1);
	if (mon_call(n, MON_AUTH_RESULT) < 0)
		return SSH_AUTH_DENIED;
	r = auth_result(n);
	if (r == SSH_AUTH_SUCCESS)
		n->authenticated = true;
	return r;
}

static int
on_auth_pubkey(ssh_session s, const char *user, struct ssh_key_struct *pubkey,
    char signature_state, void *ud)
{
	struct net *n = ud;
	char *b64 = NULL;
	int r;

	(void)s;
	if (n->done)
		return SSH_AUTH_DENIED;
	/* Only the probe (no signature) and a verified signature reach the
	 * monitor; libssh drops bad signatures itself. */
	if (signature_state != SSH_PUBLICKEY_STATE_NONE &&
	    signature_state != SSH_PUBLICKEY_STATE_VALID)
		return SSH_AUTH_DENIED;
	if (ssh_pki_export_pubkey_base64(pubkey, &b64) != SSH_OK)
		return SSH_AUTH_DENIED;
	n->kbd_active = false;
	mon_init(&req, MON_AUTH_PUBKEY);
	put_bounded(&req, user, MAX_USER_LEN + 1);
	mon_put_str(&req, b64);
	mon_put_u32(&req, signature_state == SSH_PUBLICKEY_STATE_VALID);
	ssh_string_free_char(b64);
	if (mon_call(n, MON_AUTH_RESULT) < 0)
		return SSH_AUTH_DENIED;
	r = auth_result(n);
	if (r == SSH_AUTH_SUCCESS && signature_state == SSH_PUBLICKEY_STATE_VALID)
		n->authenticated = true;
	return r;
}

/* Keyboard-interactive: the monitor runs PAM and sends us its prompts. */
static void
kbdint_reply(struct net *n, ssh_message msg)
{
	if (mon_type(&rep) == MON_KBDINT_PROMPTS) {
		char *name = mon_get_str(&rep, MON_MAX_STR);
		char *instr = mon_get_str(&rep, MON_MAX_STR);
		uint32_t np = mon_get_u32(&rep);
		char *prompts[MON_MAX_PROMPTS] = { 0 };
		char echo[MON_MAX_PROMPTS] = { 0 };

		if (np > MON_MAX_PROMPTS)
			rep.bad = true;
		for (uint32_t i = 0; !rep.bad && i < np; i++) {
			prompts[i] = mon_get_str(&rep, MON_MAX_STR);
			echo[i] = (char)(mon_get_u32(&rep) != 0);
		}
		if (mon_done(&rep)) {
			n->kbd_active = true;
			ssh_message_auth_interactive_request(msg, name, instr, np,
			    (const char **)prompts, echo);
		} else {
			net_fail(n, EXIT_INTERNAL, "monitor");
			ssh_message_reply_default(msg);
		}
		free(name);
		free(instr);
		for (uint32_t i = 0; i < MON_MAX_PROMPTS; i++)
			free(prompts[i]);
		return;
	}
	n->kbd_active = false;
	if (auth_result(n) == SSH_AUTH_SUCCESS) {
		n->authenticated = true;
		ssh_message_auth_reply_success(msg, 0);
	} else
		ssh_message_reply_default(msg);
}

static int on_pty_message(struct net *n, ssh_message msg);

static int
on_message(ssh_session s, ssh_message msg, void *ud)
{
	struct net *n = ud;

	if (ssh_message_type(msg) == SSH_REQUEST_CHANNEL &&
	    ssh_message_subtype(msg) == SSH_CHANNEL_REQUEST_PTY)
		return on_pty_message(n, msg);
	if (n->done || n->authenticated || ssh_message_type(msg) != SSH_REQUEST_AUTH ||
	    ssh_message_subtype(msg) != SSH_AUTH_METHOD_INTERACTIVE)
		return 1;	/* libssh's default: refuse */

	if (ssh_message_auth_kbdint_is_response(msg)) {
		int na = ssh_userauth_kbdint_getnanswers(s);

		if (!n->kbd_active || na < 0 || na > MON_MAX_PROMPTS) {
			ssh_message_reply_default(msg);
			return 0;
		}
		mon_init(&req, MON_KBDINT_ANSWERS);
		mon_put_u32(&req, (uint32_t)na);
		for (int i = 0; i < na; i++)
			put_bounded(&req, ssh_userauth_kbdint_getanswer(s, (unsigned)i),
			    MAX_PASSWORD_LEN + 1);
	} else {
		mon_init(&req, MON_KBDINT_START);
		put_bounded(&req, ssh_message_auth_user(msg), MAX_USER_LEN + 1);
	}
	if (mon_call2(n, MON_KBDINT_PROMPTS, MON_AUTH_RESULT) < 0) {
		ssh_message_reply_default(msg);
		return 0;
	}
	kbdint_reply(n, msg);
	return 0;
}

/* ---- channels ---- */

static void
chan_free(struct nchan *c)
{
	struct net *n = c->n;

	for (struct nchan **p = &n->chans; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	n->nchans--;
	if (c->reg_in || c->reg_out)
		ssh_event_remove_fd(n->ev, c->in_fd >= 0 ? c->in_fd : c->out_fd);
	if (!c->pty && c->reg_out && c->out_fd >= 0)
		ssh_event_remove_fd(n->ev, c->out_fd);
	if (c->reg_err && c->err_fd >= 0)
		ssh_event_remove_fd(n->ev, c->err_fd);
	if (c->in_fd >= 0)
		close(c->in_fd);
	if (!c->pty && c->out_fd >= 0)
		close(c->out_fd);
	if (c->err_fd >= 0)
		close(c->err_fd);
	for (size_t i = 0; i < c->nenv; i++)
		free(c->env[i]);
	free(c->pend);
	free(c->obuf);
	if (c->ch != NULL) {
		ssh_remove_channel_callbacks(c->ch, &c->cb);
		ssh_channel_free(c->ch);
	}
	free(c);
}

static struct nchan *
chan_by_id(struct net *n, uint32_t id)
{
	for (struct nchan *c = n->chans; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

/* Writes what the child's stdin takes now; keeps the rest in pend. */
static void
flush_input(struct nchan *c)
{
	while (c->pend_len > c->pend_off) {
		ssize_t w = write(c->in_fd, c->pend + c->pend_off, c->pend_len - c->pend_off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			/* The child closed its stdin: drop what it will never read. */
			c->pend_off = c->pend_len = 0;
			c->lib_pending = false;
			return;
		}
		c->pend_off += (size_t)w;
	}
	c->pend_off = c->pend_len = 0;
	/* Take what libssh kept when the pipe was full; it only offers it
	 * again when the next packet arrives. */
	while (c->lib_pending && !c->client_closed) {
		int got = ssh_channel_read_nonblocking(c->ch, c->pend, RELAY_CHUNK, 0);

		if (got <= 0) {
			c->lib_pending = false;
			break;
		}
		c->pend_len = (size_t)got;
		c->pend_off = 0;
		while (c->pend_off < c->pend_len) {
			ssize_t w = write(c->in_fd, c->pend + c->pend_off,
			    c->pend_len - c->pend_off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && errno == EAGAIN)
				return;
			if (w < 0) {
				c->pend_off = c->pend_len = 0;
				c->lib_pending = false;
				return;
			}
			c->pend_off += (size_t)w;
		}
		c->pend_off = c->pend_len = 0;
	}
}

static void
maybe_close_input(struct nchan *c)
{
	if (c->client_eof && !c->pty && c->in_fd >= 0 && c->pend_len == 0 &&
	    !c->lib_pending) {
		if (c->reg_in)
			ssh_event_remove_fd(c->n->ev, c->in_fd);
		c->reg_in = 0;
		close(c->in_fd);
		c->in_fd = -1;
	}
}

static int
on_data(ssh_session s, ssh_channel ch, void *data, uint32_t len, int is_stderr, void *ud)
{
	struct nchan *c = ud;
	ssize_t w;

	(void)s, (void)ch;
	if (is_stderr)
		return (int)len;	/* no meaning for a session's input */
	if (!c->started)
		return c->failed ? (int)len : 0;	/* keep it until the child exists */
	if (c->in_fd < 0)
		return (int)len;
	if (c->pend_len > 0 || c->lib_pending) {
		c->lib_pending = true;
		return 0;	/* keep order: older bytes go first */
	}
	do
		w = write(c->in_fd, data, len);
	while (w < 0 && errno == EINTR);
	if (w < 0) {
		if (errno == EAGAIN) {
			c->lib_pending = true;
			return 0;
		}
		return (int)len;	/* stdin closed by the child */
	}
	if ((uint32_t)w < len)
		c->lib_pending = true;
	return (int)w;
}

static void
on_eof(ssh_session s, ssh_channel ch, void *ud)
{
	struct nchan *c = ud;

	(void)s, (void)ch;
	c->client_eof = true;
	maybe_close_input(c);
}

static void
on_close(ssh_session s, ssh_channel ch, void *ud)
{
	struct nchan *c = ud;

	(void)s, (void)ch;
	c->client_closed = true;
	c->lib_pending = false;
	if (c->started && !c->exited) {
		mon_init(&req, MON_SESSION_CLOSE);
		mon_put_u32(&req, c->id);
		mon_send(c->n->mon, &req);
	}
}

static void
on_signal(ssh_session s, ssh_channel ch, const char *signal, void *ud)
{
	struct nchan *c = ud;

	(void)s, (void)ch;
	if (!c->started || c->exited)
		return;
	mon_init(&req, MON_SIGNAL);
	mon_put_u32(&req, c->id);
	mon_put_str(&req, signal);
	mon_send(c->n->mon, &req);
}

/* A pty-req reaches us through on_message (libssh's channel callback for it
 * drops the terminal modes): it is remembered until the shell or exec. */
static int
pty_request(struct nchan *c, const struct pty_req *r)
{
	if (!c->n->pty_ok || c->started || c->want_pty || r->cols < 0 ||
	    r->rows < 0 || r->xpix < 0 || r->ypix < 0)
		return -1;
	if (!r->modes_known)
		log_info("%s", "pty-req: this libssh hides the terminal modes; "
		    "the pty gets default modes");
	else if (r->nmodes > sizeof(c->modes))
		log_info("pty-req: %zu bytes of terminal modes (limit %zu) "
		    "not applied", r->nmodes, sizeof(c->modes));
	else if (r->nmodes > 0) {
		memcpy(c->modes, r->modes, r->nmodes);
		c->nmodes = r->nmodes;
	}
	snprintf(c->term, sizeof(c->term), "%s", r->term ? r->term : "");
	c->cols = (uint32_t)r->cols;
	c->rows = (uint32_t)r->rows;
	c->xpix = (uint32_t)r->xpix;
	c->ypix = (uint32_t)r->ypix;
	c->want_pty = true;
	return 0;
}

/* Returns as a message callback does: 0 answered, 1 refuse by default. */
static int
on_pty_message(struct net *n, ssh_message msg)
{
	struct pty_req r;
	struct nchan *c;

	if (n->done || !n->authenticated || libssh_pty_request(msg, &r) < 0)
		return 1;
	for (c = n->chans; c != NULL && c->ch != r.channel; c = c->next)
		;
	if (c == NULL || pty_request(c, &r) < 0)
		return 1;
	ssh_message_channel_request_reply_success(msg);
	return 0;
}

static int
on_window_change(ssh_session s, ssh_channel ch, int cols, int rows, int px, int py,
    void *ud)
{
	struct nchan *c = ud;

	(void)s, (void)ch;
	if (cols < 0 || rows < 0 || px < 0 || py < 0)
		return -1;
	if (!c->started) {
		c->cols = (uint32_t)cols, c->rows = (uint32_t)rows;
		c->xpix = (uint32_t)px, c->ypix = (uint32_t)py;
		return 0;
	}
	if (!c->pty || c->exited)
		return -1;
	mon_init(&req, MON_WINDOW_CHANGE);
	mon_put_u32(&req, c->id);
	mon_put_u32(&req, (uint32_t)cols);
	mon_put_u32(&req, (uint32_t)rows);
	mon_put_u32(&req, (uint32_t)px);
	mon_put_u32(&req, (uint32_t)py);
	mon_send(c->n->mon, &req);
	return 0;
}

static int
on_env(ssh_session s, ssh_channel ch, const char *name, const char *value, void *ud)
{
	struct nchan *c = ud;
	char *kv;

	(void)s, (void)ch;
	/* The monitor applies AcceptEnv; we only bound what we carry. */
	if (c->started || c->nenv >= MON_MAX_ENV || strlen(name) > 256 ||
	    strlen(value) > 4096 || strchr(name, '=') != NULL)
		return -1;
	if (asprintf(&kv, "%s=%s", name, value) < 0)
		return -1;
	c->env[c->nenv++] = kv;
	return 0;
}

static void
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int
start_session(struct nchan *c, enum mon_session_kind kind, const char *arg)
{
	struct net *n = c->n;
	uint32_t id, ok, pty;
	char *err;

	if (c->started || c->failed || n->done)
		return -1;
	if (strlen(arg) > MAX_COMMAND_LEN) {
		log_info("command of %zu bytes refused (limit %d)", strlen(arg),
		    MAX_COMMAND_LEN);
		return -1;
	}
	mon_init(&req, MON_SESSION_OPEN);
	mon_put_u32(&req, c->id);
	mon_put_u32(&req, kind);
	mon_put_str(&req, arg);
	mon_put_u32(&req, c->want_pty);
	mon_put_str(&req, c->term);
	mon_put_u32(&req, c->cols);
	mon_put_u32(&req, c->rows);
	mon_put_u32(&req, c->xpix);
	mon_put_u32(&req, c->ypix);
	mon_put_bytes(&req, c->modes, c->nmodes);
	mon_put_u32(&req, (uint32_t)c->nenv);
	for (size_t i = 0; i < c->nenv; i++)
		mon_put_str(&req, c->env[i]);
	if (mon_call(n, MON_SESSION_STARTED) < 0)
		return -1;
	id = mon_get_u32(&rep);
	ok = mon_get_u32(&rep);
	pty = mon_get_u32(&rep);
	err = mon_get_str(&rep, MON_MAX_STR);
	if (rep.bad || id != c->id) {
		free(err);
		mon_clear_fds(&rep);
		net_fail(n, EXIT_INTERNAL, "monitor");
		return -1;
	}
	if (!ok) {
		if (err && *err)
			log_info("session refused: %s", err);
		free(err);
		mon_clear_fds(&rep);
		c->failed = true;
		return -1;
	}
	free(err);
	c->pty = pty != 0;
	if (c->pty) {
		c->in_fd = c->out_fd = mon_take_fd(&rep);
		c->err_fd = -1;
		c->err_eof = true;
	} else {
		c->in_fd = mon_take_fd(&rep);
		c->out_fd = mon_take_fd(&rep);
		c->err_fd = mon_take_fd(&rep);
	}
	if (rep.bad || c->in_fd < 0 || c->out_fd < 0 || (!c->pty && c->err_fd < 0)) {
		mon_clear_fds(&rep);
		net_fail(n, EXIT_INTERNAL, "monitor");
		return -1;
	}
	mon_clear_fds(&rep);
	set_nonblock(c->in_fd);
	if (!c->pty) {
		set_nonblock(c->out_fd);
		set_nonblock(c->err_fd);
	}
	c->started = true;
	c->lib_pending = true;	/* anything that arrived before the child */
	return 0;
}

static int
on_shell(ssh_session s, ssh_channel ch, void *ud)
{
	(void)s, (void)ch;
	return start_session(ud, MON_KIND_SHELL, "");
}

static int
on_exec(ssh_session s, ssh_channel ch, const char *command, void *ud)
{
	(void)s, (void)ch;
	return start_session(ud, MON_KIND_EXEC, command);
}

static int
on_subsystem(ssh_session s, ssh_channel ch, const char *subsystem, void *ud)
{
	(void)s, (void)ch;
	return start_session(ud, MON_KIND_SUBSYSTEM, subsystem);
}

static ssh_channel
on_channel_open(ssh_session s, void *ud)
{
	struct net *n = ud;
	struct nchan *c;

	if (!n->authenticated || n->done || n->nchans >= MAX_CHANNELS)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->pend = malloc(RELAY_CHUNK);
	c->obuf = malloc(RELAY_CHUNK);
	c->ch = ssh_channel_new(s);
	if (c->pend == NULL || c->obuf == NULL || c->ch == NULL) {
		free(c->pend);
		free(c->obuf);
		if (c->ch)
			ssh_channel_free(c->ch);
		free(c);
		return NULL;
	}
	c->n = n;
	c->id = n->next_id++;
	c->in_fd = c->out_fd = c->err_fd = -1;
	c->cb = (struct ssh_channel_callbacks_struct){
		.userdata = c,
		.channel_data_function = on_data,
		.channel_eof_function = on_eof,
		.channel_close_function = on_close,
		.channel_signal_function = on_signal,
		.channel_shell_request_function = on_shell,
		.channel_pty_window_change_function = on_window_change,
		.channel_exec_request_function = on_exec,
		.channel_env_request_function = on_env,
		.channel_subsystem_request_function = on_subsystem,
	};
	ssh_callbacks_init(&c->cb);
	ssh_set_channel_callbacks(c->ch, &c->cb);
	c->next = n->chans;
	n->chans = c;
	n->nchans++;
	return c->ch;
}

/* ---- relay ---- */

/* Hands pending output to libssh; true when nothing is left pending. */
static bool
flush_output(struct nchan *c)
{
	while (c->o_len > c->o_off) {
		uint32_t n = (uint32_t)(c->o_len - c->o_off);
		int w;

		/* libssh may run our event loop's callbacks from inside the
		 * write (while waiting out a rekey): on_fd must not read and
		 * write this same buffer again meanwhile. */
		c->n->in_write = true;
		w = c->o_err ? ssh_channel_write_stderr(c->ch, c->obuf + c->o_off, n) :
		    ssh_channel_write(c->ch, c->obuf + c->o_off, n);
		c->n->in_write = false;

		if (w < 0) {
			net_fail(c->n, EXIT_OK, "connection-error");
			c->o_off = c->o_len = 0;
			return true;
		}
		if (w == 0)
			return false;	/* rekey or closed window: later */
		c->o_off += (size_t)w;
	}
	c->o_off = c->o_len = 0;
	return true;
}

static void
read_output(struct nchan *c, int fd, bool is_err)
{
	uint32_t win = ssh_channel_window_size(c->ch);
	size_t want = win < RELAY_CHUNK ? win : RELAY_CHUNK;
	ssize_t r;

	if (!flush_output(c))
		return;
	if (want == 0)
		return;		/* wait for the client's window to open */
	do
		r = read(fd, c->obuf, want);
	while (r < 0 && errno == EINTR);
	if (r > 0) {
		c->o_len = (size_t)r;
		c->o_off = 0;
		c->o_err = is_err;
		flush_output(c);
		return;
	}
	if (r < 0 && errno == EAGAIN) {
		if (c->draining)
			goto eof;	/* a pty after its shell exited: all read */
		return;
	}
eof:
	/* 0, or EIO from a pty whose last slave fd closed. */
	if (is_err)
		c->err_eof = true;
	else
		c->out_eof = true;
}

static int
on_fd(socket_t fd, int revents, void *ud)
{
	struct nchan *c = ud;

	if (c->finished || c->n->in_write)
		return 0;	/* level-triggered: it comes back next round */
	if ((revents & (POLLIN | POLLHUP | POLLERR)) && !c->client_closed) {
		if (fd == c->out_fd && !c->out_eof)
			read_output(c, fd, false);
		else if (fd == c->err_fd && !c->err_eof)
			read_output(c, fd, true);
	}
	if ((revents & (POLLOUT | POLLERR)) && fd == c->in_fd) {
		flush_input(c);
		maybe_close_input(c);
	}
	return 0;
}

static void
reg(struct net *n, struct nchan *c, int fd, unsigned *cur, unsigned want)
{
	if (fd < 0 || *cur == want)
		return;
	if (*cur)
		ssh_event_remove_fd(n->ev, fd);
	if (want)
		ssh_event_add_fd(n->ev, fd, (short)want, on_fd, c);
	*cur = want;
}

/* Brings what we poll for in line with each channel's state: read the
 * child only while the client's window is open, write its stdin only while
 * input is pending. */
static void
sync_channel(struct net *n, struct nchan *c)
{
	bool window = !c->client_closed && c->o_len == 0 &&
	    ssh_channel_window_size(c->ch) > 0;
	unsigned want_in = (c->in_fd >= 0 && (c->pend_len > 0 || c->lib_pending)) ? POLLOUT : 0;
	unsigned want_out = (c->out_fd >= 0 && !c->out_eof && window) ? POLLIN : 0;
	unsigned want_err = (c->err_fd >= 0 && !c->err_eof && window) ? POLLIN : 0;

	if (!c->started || c->finished)
		return;
	if (c->pty) {
		/* One fd: one registration for both directions. */
		unsigned both = (c->out_eof ? 0 : want_out) | want_in;

		reg(n, c, c->in_fd, &c->reg_in, both);
		return;
	}
	reg(n, c, c->in_fd, &c->reg_in, want_in);
	reg(n, c, c->out_fd, &c->reg_out, want_out);
	reg(n, c, c->err_fd, &c->reg_err, want_err);
}

/* Output drained and the child gone: report how it ended and close. */
static void
maybe_finish(struct nchan *c)
{
	if (c->finished || !c->exited)
		return;
	if (!c->client_closed && !flush_output(c))
		return;
	if (c->pty && !c->out_eof && !c->client_closed) {
		c->draining = true;
		read_output(c, c->out_fd, false);
		if (!c->out_eof)
			return;
	}
	if (!c->client_closed && (!c->out_eof || !c->err_eof))
		return;
	if (!c->client_closed) {
		ssh_channel_send_eof(c->ch);
		if (c->sig > 0)
			ssh_channel_request_send_exit_signal(c->ch, sigabbrev_np(c->sig) ?
			    sigabbrev_np(c->sig) : "KILL", c->core, "", "");
		else
			ssh_channel_request_send_exit_status(c->ch, c->status);
		ssh_channel_close(c->ch);
	}
	c->finished = true;
	reg(c->n, c, c->in_fd, &c->reg_in, 0);
	if (!c->pty) {
		reg(c->n, c, c->out_fd, &c->reg_out, 0);
		reg(c->n, c, c->err_fd, &c->reg_err, 0);
	}
}

static int
handle_async(struct net *n, struct mon_msg *m)
{
	struct nchan *c;
	uint32_t id;

	if (mon_type(m) == MON_TERMINATE) {
		static char reason[64];
		char *r = mon_get_str(m, sizeof(reason) - 1);

		snprintf(reason, sizeof(reason), "%s", r ? r : "terminated");
		free(r);
		net_fail(n, EXIT_NOAUTH, reason);
		return 0;
	}
	if (mon_type(m) != MON_EXIT) {
		log_error("unexpected message %d from the monitor", mon_type(m));
		return -EPROTO;
	}
	id = mon_get_u32(m);
	c = chan_by_id(n, id);
	uint32_t exited = mon_get_u32(m), status = mon_get_u32(m);
	uint32_t sig = mon_get_u32(m), core = mon_get_u32(m);
	if (!mon_done(m) || c == NULL || !c->started)
		return -EPROTO;
	c->exited = true;
	c->status = exited ? (int)status : 0;
	c->sig = exited ? 0 : (int)sig;
	c->core = core != 0;
	return 0;
}

static int
on_monitor(socket_t fd, int revents, void *ud)
{
	struct net *n = ud;
	int r;

	(void)revents;
	while ((r = mon_recv(fd, &rep, MSG_DONTWAIT)) == 0)
		if (handle_async(n, &rep) < 0) {
			net_fail(n, EXIT_INTERNAL, "monitor-protocol");
			return 0;
		}
	if (r != -EAGAIN) {
		/* The monitor ended (or broke): nothing left to serve. */
		net_fail(n, EXIT_INTERNAL, "monitor-gone");
	}
	return 0;
}

static void
relay_round(struct net *n)
{
	struct nchan *c, *next;

	for (c = n->chans; c; c = next) {
		next = c->next;
		if (c->o_len > 0 && !c->client_closed)
			flush_output(c);
		if (c->started && c->lib_pending && c->pend_len == 0 && !c->client_closed) {
			flush_input(c);
			maybe_close_input(c);
		}
		maybe_finish(c);
		if (c->finished && (c->client_closed || ssh_channel_is_closed(c->ch))) {
			chan_free(c);
			continue;
		}
		if (c->failed && !c->started && c->client_closed) {
			chan_free(c);
			continue;
		}
		sync_channel(n, c);
	}
}

/* ---- setup ---- */

/* Loaded here, by the child while it is still root, so the monitor (which
 * later runs as the user) never holds a private host key. */
static int
load_host_keys(struct conn *c)
{
	for (size_t i = 0; i < c->global->host_keys.n; i++) {
		const char *path = c->global->host_keys.v[i];
		ssh_key k = NULL;

		if (c->n_host_keys >= MAX_HOST_KEYS)
			break;
		if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &k) != SSH_OK) {
			log_warning("host key %s: cannot be loaded, skipped", path);
			continue;
		}
		c->host_keys[c->n_host_keys++] = k;
	}
	if (c->n_host_keys == 0) {
		log_error("no usable host key (HostKey in %s); create them with "
		    "'sshandctl hostkeys'", c->config_path);
		return -ENOENT;
	}
	return 0;
}


/* libssh's own logger formats times with localtime(), which reads
 * /etc/localtime: not possible in the sandbox.  Ours needs no file. */
static void
libssh_log(int priority, const char *function, const char *buffer, void *ud)
{
	(void)priority, (void)ud;
	log_debug("libssh %s: %s", function, buffer);
}


static int
setup_bind(struct net *n, ssh_bind *ret)
{
	struct conn *c = n->c;
	const struct settings *s = c->global;
	ssh_bind b = ssh_bind_new();
	bool no = false;

	if (b == NULL)
		return -ENOMEM;
	ssh_bind_options_set(b, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no);
	for (size_t i = 0; i < c->n_host_keys; i++) {
		/* The bind takes ownership of the key. */
		if (ssh_bind_options_set(b, SSH_BIND_OPTIONS_IMPORT_KEY, c->host_keys[i]) < 0)
			log_warning("host key %zu refused: %s", i, ssh_get_error(b));
		c->host_keys[i] = NULL;
	}
	c->n_host_keys = 0;
	if (ssh_bind_options_set(b, SSH_BIND_OPTIONS_KEY_EXCHANGE,
	    s->kex_algorithms ? s->kex_algorithms : DEFAULT_KEX) < 0 ||
	    (s->ciphers && (ssh_bind_options_set(b, SSH_BIND_OPTIONS_CIPHERS_C_S, s->ciphers) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_CIPHERS_S_C, s->ciphers) < 0)) ||
	    (s->macs && (ssh_bind_options_set(b, SSH_BIND_OPTIONS_HMAC_C_S, s->macs) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HMAC_S_C, s->macs) < 0)) ||
	    (s->hostkey_algorithms && ssh_bind_options_set(b,
	    SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS, s->hostkey_algorithms) < 0)) {
		log_error("%s: algorithm list refused by libssh: %s", c->config_path,
		    ssh_get_error(b));
		ssh_bind_free(b);
		return -EINVAL;
	}
	if (c->debug > 1) {
		int v = c->debug > 2 ? SSH_LOG_FUNCTIONS : SSH_LOG_PROTOCOL;

		ssh_set_log_callback(libssh_log);
		ssh_bind_options_set(b, SSH_BIND_OPTIONS_LOG_VERBOSITY, &v);
	}
	*ret = b;
	return 0;
}

/* A round that read less than this from the client was a small exchange
 * (see net_main). */
#define QUICKACK_BELOW 16384

/* The client sets no TCP_NODELAY for non-interactive sessions: when it
 * writes two small packets in a row (NEWKEYS then the service request,
 * say), the second waits for our ACK of the first, which Linux delays by
 * up to 40 ms because we have nothing to send yet.  Quick ACKs remove
 * those stalls; the mode is not sticky, so it is renewed around reads. */
static void
quickack(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

static int on_monitor(socket_t fd, int revents, void *ud);

/* The key exchange, driven step by step so quick ACKs can be renewed and
 * the monitor can end a client that stalls in it. */
static int
key_exchange(struct net *n)
{
	int fd = ssh_get_fd(n->s), rc;

	ssh_set_blocking(n->s, 0);
	for (;;) {
		struct pollfd pfd[2] = { { .fd = fd, .events = POLLIN },
		    { .fd = n->mon, .events = POLLIN } };

		quickack(fd);
		rc = ssh_handle_key_exchange(n->s);
		if (rc != SSH_AGAIN)
			break;
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents) {
			on_monitor(n->mon, pfd[1].revents, n);
			if (n->done) {
				rc = SSH_ERROR;
				break;
			}
		}
	}
	ssh_set_blocking(n->s, 1);
	return rc;
}

static uid_t privsep_uid;
static gid_t privsep_gid;

int
net_main(struct conn *c, int mon_fd)
{
	struct net n = { .c = c, .mon = mon_fd };
	ssh_bind b = NULL;
	int r;
	uint64_t t0 = now_usec();

	/* The monitor resolved the privsep account before forking. */
	privsep_uid = c->privsep_uid;
	privsep_gid = c->privsep_gid;

	if (load_host_keys(c) < 0) {
		n.reason = "server-error";
		n.exit_code = EXIT_CONFIG;
		goto report;
	}
	phase("hostkeys", t0);
	if (setup_bind(&n, &b) < 0)
		return EXIT_CONFIG;
	n.s = ssh_new();
	if (n.s == NULL)
		return EXIT_INTERNAL;
	if (ssh_bind_accept_fd(b, n.s, c->sock) != SSH_OK) {
		log_error("accepting the connection: %s", ssh_get_error(b));
		return EXIT_INTERNAL;
	}
	ssh_set_counters(n.s, &n.sock_counter, &n.raw_counter);
	if (c->global->rekey_limit > 0) {
		uint64_t limit = c->global->rekey_limit;

		ssh_options_set(n.s, SSH_OPTIONS_REKEY_DATA, &limit);
	}
	n.scb = (struct ssh_server_callbacks_struct){
		.userdata = &n,
		.auth_password_function = on_auth_password,
		.auth_pubkey_function = on_auth_pubkey,
		.channel_open_request_session_function = on_channel_open,
	};
	ssh_callbacks_init(&n.scb);
	ssh_set_server_callbacks(n.s, &n.scb);
	ssh_set_message_callback(n.s, on_message, &n);
	ssh_set_auth_methods(n.s,
	    (c->global->password_authentication ? SSH_AUTH_METHOD_PASSWORD : 0) |
	    (c->global->pubkey_authentication ? SSH_AUTH_METHOD_PUBLICKEY : 0) |
	    (c->global->kbd_interactive_authentication ? SSH_AUTH_METHOD_INTERACTIVE : 0));

	/* Only the monitor writes audit records and the ban file: the child
	 * must not hold them, nor a journal socket on which it could write
	 * entries with any fields.  It logs to stderr when that is a log
	 * (-e), and is otherwise silent: its failures reach the audit trail
	 * through the monitor (MON_STATS reasons). */
	audit_trail_close();
	log_setup(c->log_stderr ? LOG_TARGET_STDERR : LOG_TARGET_NONE, c->log_prio);
	if (c->bans != NULL) {
		ban_close(c->bans);
		c->bans = NULL;
	}

	/* OpenSSL reads its configuration and seeds its generator lazily;
	 * neither is possible once chrooted and filtered. */
	OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
	unsigned char seed[16];
	if (RAND_bytes(seed, sizeof(seed)) != 1)
		return EXIT_INTERNAL;
	explicit_bzero(seed, sizeof(seed));

	/* Nothing from the client has been read yet.  Lock down now. */
	r = sandbox_enter_netchild(privsep_uid, privsep_gid, c->global->privsep_directory);
	if (r < 0) {
		log_errno(LOG_ERR, r, "cannot enter the network sandbox (PrivsepDirectory %s)",
		    c->global->privsep_directory);
		return EXIT_INTERNAL;
	}
	/* The monitor cannot always signal us once we are another user (the
	 * unit leaves it no CAP_KILL): die with it instead.  Set after the id
	 * change, which clears it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != c->monitor_pid)
		return EXIT_INTERNAL;
	r = sandbox_apply_netchild_filter(c->debug > 2);
	if (r < 0) {
		log_errno(LOG_ERR, r, "cannot load the network child's seccomp filter");
		return EXIT_INTERNAL;
	}
	phase("netsandbox", t0);

	if (key_exchange(&n) != SSH_OK) {
		if (!n.done) {
			log_info("key exchange failed: %s", ssh_get_error(n.s));
			net_fail(&n, EXIT_PROTOCOL, "protocol-error");
		}
		goto out;
	}
	phase("kex", t0);
	if (c->banner_text != NULL) {
		ssh_string bs = ssh_string_from_char(c->banner_text);

		if (bs) {
			ssh_send_issue_banner(n.s, bs);
			ssh_string_free(bs);
		}
	}
	mon_init(&req, MON_CLIENT_INFO);
	mon_put_str(&req, ssh_get_clientbanner(n.s));
	if (mon_send(n.mon, &req) < 0) {
		n.exit_code = EXIT_INTERNAL;
		goto out;
	}

	n.ev = ssh_event_new();
	if (n.ev == NULL || ssh_event_add_session(n.ev, n.s) != SSH_OK ||
	    ssh_event_add_fd(n.ev, n.mon, POLLIN, on_monitor, &n) != SSH_OK) {
		n.exit_code = EXIT_INTERNAL;
		goto out;
	}
	bool nonblocking = false;
	uint64_t read_before = 0;
	while (!n.done) {
		/* Quick ACKs help a client that holds its next small packet
		 * until we ACK the last one.  A client sending in bulk sends
		 * full segments, which it does not hold: while it does, the
		 * mode is not renewed (at every round it cost 8% of the
		 * child's CPU in an upload). */
		uint64_t read_now = n.sock_counter.in_bytes;

		if (read_now - read_before < QUICKACK_BELOW)
			quickack(c->sock);
		read_before = read_now;
		r = ssh_event_dopoll(n.ev, -1);
		if (n.authenticated && !nonblocking) {
			/* From here on the event loop flushes; a client that
			 * stops reading only fills its own window. */
			ssh_set_blocking(n.s, 0);
			nonblocking = true;
			phase("auth", t0);
		}
		relay_round(&n);
		if (r == SSH_ERROR || !ssh_is_connected(n.s) ||
		    (ssh_get_status(n.s) & (SSH_CLOSED | SSH_CLOSED_ERROR))) {
			if (!n.done)
				net_fail(&n, n.authenticated ? EXIT_OK : EXIT_NOAUTH,
				    "client-closed");
		}
	}
out:
report:
	/* The monitor may be waiting for our last word to end the connection:
	 * it comes first, the disconnect after. */
	mon_init(&req, MON_STATS);
	mon_put_u64(&req, n.sock_counter.in_bytes);
	mon_put_u64(&req, n.sock_counter.out_bytes);
	mon_put_str(&req, n.reason ? n.reason : "client-closed");
	mon_send(n.mon, &req);
	if (n.s != NULL && ssh_is_connected(n.s)) {
		/* Push out what is still queued (exit-status, last output). */
		ssh_set_blocking(n.s, 1);
		ssh_blocking_flush(n.s, 2000);
		ssh_disconnect(n.s);
	}
	return n.exit_code;
}
