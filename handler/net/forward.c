/* Forwarding in the network child.  It opens no socket itself (its
 * seccomp list has no socket, connect, bind or listen): each forwarded
 * connection arrives from the monitor as a connected descriptor, opened by
 * the forwarder as the user (monitor/forward.c), and is relayed like a
 * session's pty (relay.c), one descriptor both ways.
 *
 *  - direct-tcpip (ssh -L, -D, -W) and direct-streamlocal: asked of the
 *    monitor while the client waits for the channel's confirmation, and
 *    only it: the connect may take seconds (a destination that drops
 *    SYNs takes the forwarder's whole timeout), and every other channel
 *    goes on meanwhile.  The message callback keeps the open's packet
 *    (libssh-private.h) and answers nothing; when FWD_OPENED comes, the
 *    event loop hands the packet to libssh again, and the callback
 *    answers it at once with the socket in hand;
 *  - tcpip-forward and its cancel (ssh -R): the monitor has the forwarder
 *    listen; each connection it accepts comes back as FWD_ACCEPTED, for
 *    which we open a forwarded-tcpip channel to the client;
 *  - auth-agent-req: a listener for the session's SSH_AUTH_SOCK, whose
 *    connections become auth-agent channels;
 *  - x11-req: a listener on the display's port (6000 + N, for the
 *    session's DISPLAY), whose connections become x11 channels.
 * libssh 0.10 knows neither the streamlocal extensions nor
 * auth-agent-req; libssh-private.h's request hook rewrites them into
 * requests it knows, marked. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <libssh/ssh2.h>

#include "handler/front/log.h"
#include "handler/net/libssh-private.h"
#include "handler/net/net.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

static void
on_fwd_close(ssh_session s, ssh_channel ch, void *ud)
{
	struct nchan *c = ud;

	(void)s, (void)ch;
	/* What the client sent before its close still goes to the socket
	 * (sshd drains it too): libssh keeps the channel open for reading
	 * while its buffer holds data (delayed_close), and
	 * fwd_maybe_finish() waits for it. */
	c->client_closed = true;
}

static const struct ssh_channel_callbacks_struct fwd_callbacks = {
	.size = sizeof(struct ssh_channel_callbacks_struct),
	.channel_data_function = on_data,
	.channel_eof_function = on_eof,
	.channel_close_function = on_fwd_close,
};

/* A forwarded channel on the connected socket fd (ours from here on). */
static struct nchan *
fwd_new(struct net *n, uint32_t id, enum ps_fwd_kind kind, int fd)
{
	struct nchan *c = calloc(1, sizeof(*c));
	int fl = fcntl(fd, F_GETFL);

	if (c == NULL || fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    (c->pend = malloc(RELAY_CHUNK)) == NULL ||
	    (c->obuf = malloc(RELAY_CHUNK)) == NULL) {
		if (c != NULL) {
			free(c->pend);
			free(c);
		}
		close(fd);
		return NULL;
	}
	c->n = n;
	c->obuf_size = RELAY_CHUNK;
	c->id = id;
	c->fwd = true;
	c->fwd_kind = kind;
	c->started = true;
	c->in_fd = c->out_fd = fd;
	c->err_fd = -1;
	c->err_eof = true;
	c->next = n->chans;
	n->chans = c;
	n->nfwd++;
	return c;
}

static void
fwd_callbacks_set(struct nchan *c)
{
	c->cb = fwd_callbacks;
	c->cb.userdata = c;
	ssh_set_channel_callbacks(c->ch, &c->cb);
}

/* Tells the monitor a forwarded channel ended (or never opened), for its
 * audit record; only once. */
void
fwd_report_close(struct nchan *c, bool opened, const char *reason)
{
	if (c->fwd_reported)
		return;
	c->fwd_reported = true;
	ask_fwd_close(c->n, &(struct ps_fwd_close){ c->id, opened, c->fwd_in,
	    c->fwd_out, reason });
}

static void
pending_free(struct net *n, struct fwd_pending *p)
{
	struct fwd_pending **pp;

	for (pp = &n->pending; *pp != NULL && *pp != p; pp = &(*pp)->next)
		;
	if (*pp == p)
		*pp = p->next;
	if (p->fd >= 0)
		close(p->fd);
	n->npending--;
	free(p);
}

/* The connection is ending: the forwarded channels still open are
 * reported with what they carried, or their records would only say the
 * monitor saw the connection end.  An open connected but not yet
 * answered was never open; one still connecting the monitor records
 * itself. */
void
fwd_report_all(struct net *n, const char *reason)
{
	for (struct nchan *c = n->chans; c != NULL; c = c->next)
		if (c->fwd && !c->opening)
			fwd_report_close(c, true, reason);
	while (n->pending != NULL) {
		struct fwd_pending *p = n->pending;

		if (p->ready && p->ok)
			ask_fwd_close(n, &(struct ps_fwd_close){ p->id, false, 0, 0,
			    reason });
		pending_free(n, p);
	}
}

/* FWD_OPENED: the outcome of an open asked earlier, kept for the event
 * loop (fwd_replay_ready); a notice may come inside a libssh callback,
 * where libssh must not be entered again. */
int
fwd_opened(struct net *n, const struct ps_fwd_opened *r)
{
	struct fwd_pending *p;

	for (p = n->pending; p != NULL && p->id != r->id; p = p->next)
		;
	if (p == NULL || p->ready || r->n_fds != (r->ok ? 1u : 0u)) {
		for (size_t i = 0; i < r->n_fds; i++)
			close(r->fds[i]);
		return -EPROTO;
	}
	p->ready = true;
	p->ok = r->ok;
	p->fd = r->ok ? r->fds[0] : -1;
	snprintf(p->error, sizeof(p->error), "%s", r->error);
	return 0;
}

/* Answers the opens whose outcome came: each packet is parsed by libssh
 * again, and direct_open() answers it from the outcome. */
void
fwd_replay_ready(struct net *n)
{
	struct fwd_pending *p;

	while (!n->done) {
		for (p = n->pending; p != NULL && !p->ready; p = p->next)
			;
		if (p == NULL)
			return;
		n->replaying = p;
		if (libssh_replay_channel_open(n->s, p->payload, p->len) < 0 ||
		    n->replaying == p) {
			/* libssh did not hand it back (out of memory): the
			 * socket is not used. */
			log_info("forwarded channel %u: not answered", p->id);
			if (p->ok)
				ask_fwd_close(n, &(struct ps_fwd_close){ p->id,
				    false, 0, 0, "server-error" });
		}
		n->replaying = NULL;
		pending_free(n, p);
	}
}

/* Refuses an open as sshd does: a connect that failed (the monitor's
 * PS_FWD_CONNECT_FAILED) is "connect failed" with the error, anything
 * else "administratively prohibited: open failed". */
static void
refuse_open(ssh_message msg, const char *why)
{
	const size_t n = sizeof(PS_FWD_CONNECT_FAILED) - 1;
	int r;

	if (strncmp(why, PS_FWD_CONNECT_FAILED, n) == 0)
		r = libssh_refuse_channel_open(msg, SSH2_OPEN_CONNECT_FAILED,
		    why + n);
	else
		r = libssh_refuse_channel_open(msg,
		    SSH2_OPEN_ADMINISTRATIVELY_PROHIBITED, "open failed");
	if (r == -ENOTSUP)
		log_debug("%s", "this libssh refused the open without its reason");
}

/* The replayed open of p: accepted with its socket, or refused. */
static int
direct_answer(struct net *n, ssh_message msg, struct fwd_pending *p,
    const struct ps_fwd_open *q)
{
	struct nchan *c;
	int fd = p->fd;

	n->replaying = NULL;
	p->fd = -1;
	if (!p->ok) {
		log_info("forwarding to %s port %u refused: %s", q->host, q->port,
		    p->error);
		refuse_open(msg, p->error);
		return 0;
	}
	c = fwd_new(n, p->id, (enum ps_fwd_kind)q->kind, fd);
	if (c == NULL) {
		ask_fwd_close(n, &(struct ps_fwd_close){ p->id, false, 0, 0,
		    "server-error" });
		return 1;
	}
	c->ch = ssh_message_channel_request_open_reply_accept(msg);
	if (c->ch == NULL) {
		fwd_report_close(c, false, "server-error");
		chan_free(c);
		return 0;
	}
	fwd_callbacks_set(c);
	idle_start(c, idle_fwd_type(c->fwd_kind, true));
	return 0;
}

/* direct-tcpip, or a direct-streamlocal the hook marked: 0 when handled
 * (accepted, or kept to be answered later), 1 for libssh's refusal. */
static int
direct_open(struct net *n, ssh_message msg)
{
	const char *host = ssh_message_channel_request_open_destination(msg);
	const char *orig = ssh_message_channel_request_open_originator(msg);
	const char *path = libssh_unix_path(host);
	struct ps_fwd_open q = { .kind = PS_FWD_TCP,
	    .host = host ? host : "",
	    .port = (uint32_t)ssh_message_channel_request_open_destination_port(msg),
	    .orig_host = orig ? orig : "",
	    .orig_port = (uint32_t)ssh_message_channel_request_open_originator_port(msg) };
	uint8_t payload[LIBSSH_OPEN_MAX];
	struct fwd_pending *p;
	size_t len;

	if (path != NULL) {
		q.kind = PS_FWD_UNIX;
		q.host = path;
		q.port = 0;
	}
	if (n->replaying != NULL)
		return direct_answer(n, msg, n->replaying, &q);
	if (n->nfwd + n->npending >= MAX_FWD_CHANNELS ||
	    n->npending >= PS_MAX_FWD_PENDING) {
		log_info("forwarded channel refused: %u open, %u opening (limits "
		    "%d, %d)", n->nfwd, n->npending, MAX_FWD_CHANNELS,
		    PS_MAX_FWD_PENDING);
		return 1;
	}
	/* Without its packet there is nothing to answer later with (no
	 * hook, or a request longer than any destination we take). */
	if (!libssh_take_channel_open(payload, sizeof(payload), &len)) {
		log_info("forwarding to %s port %u refused: request not kept",
		    q.host, q.port);
		return 1;
	}
	p = malloc(sizeof(*p) + len);
	if (p == NULL)
		return 1;
	*p = (struct fwd_pending){ .id = n->next_id++, .fd = -1, .len = len };
	memcpy(p->payload, payload, len);
	q.id = p->id;
	if (ask_fwd_open(n, &q) < 0) {
		free(p);
		return 1;
	}
	p->next = n->pending;
	n->pending = p;
	n->npending++;
	return 0;	/* no answer yet: libssh frees the message */
}

/* tcpip-forward and cancel-tcpip-forward, or their streamlocal twins the
 * hook marked. */
static int
global_request(struct net *n, ssh_message msg)
{
	int sub = ssh_message_subtype(msg);
	const char *host = ssh_message_global_request_address(msg);
	const char *path = libssh_unix_path(host);
	struct ps_fwd_listening r;
	uint32_t port = (uint32_t)ssh_message_global_request_port(msg);
	enum ps_fwd_kind kind = path ? PS_FWD_UNIX : PS_FWD_TCP;
	int rc;

	if (sub != SSH_GLOBAL_REQUEST_TCPIP_FORWARD &&
	    sub != SSH_GLOBAL_REQUEST_CANCEL_TCPIP_FORWARD)
		return 1;
	if (path != NULL) {
		host = path;
		port = 0;
	}
	if (sub == SSH_GLOBAL_REQUEST_TCPIP_FORWARD)
		rc = ask_fwd_listen(n, &(struct ps_fwd_listen){ kind,
		    host ? host : "", port });
	else
		rc = ask_fwd_unlisten(n, &(struct ps_fwd_unlisten){ kind,
		    host ? host : "", port });
	if (rc < 0 || read_fwd_listening(n, &r) < 0)
		return 1;
	if (!r.ok) {
		log_info("%s %s port %u refused: %s",
		    sub == SSH_GLOBAL_REQUEST_TCPIP_FORWARD ? "listening on" :
		    "cancelling", host ? host : "", port, r.error);
		return 1;
	}
	/* The port is only sent back when the client asked for port 0. */
	ssh_message_global_request_reply_success(msg, (uint16_t)r.port);
	return 0;
}

/* x11-req on a session channel, before its shell or command.  It comes
 * through the message callback: libssh's channel callback for it cannot
 * say no (libssh answers success whenever it is set).  The monitor
 * decides, has the forwarder listen, and puts DISPLAY in the session's
 * environment; sshd too allows one per session. */
static int
x11_request(struct net *n, ssh_message msg)
{
	ssh_channel ch = ssh_message_channel_request_channel(msg);
	const char *proto = ssh_message_channel_request_x11_auth_protocol(msg);
	const char *cookie = ssh_message_channel_request_x11_auth_cookie(msg);
	int screen = ssh_message_channel_request_x11_screen_number(msg);
	struct ps_fwd_listening r;
	struct nchan *c;

	for (c = n->chans; c != NULL && (c->fwd || c->ch != ch); c = c->next)
		;
	if (c == NULL || c->started || c->failed || c->x11_asked || screen < 0)
		return 1;
	c->x11_asked = true;
	if (ask_x11_req(n, &(struct ps_x11_req){ .id = c->id,
	    .single = ssh_message_channel_request_x11_single_connection(msg) != 0,
	    .proto = proto ? proto : "", .cookie = cookie ? cookie : "",
	    .screen = (uint32_t)screen }) < 0 || read_fwd_listening(n, &r) < 0)
		return 1;
	if (!r.ok) {
		log_info("X11 forwarding refused: %s", r.error);
		return 1;
	}
	ssh_message_channel_request_reply_success(msg);
	return 0;
}

int
on_forward_message(struct net *n, ssh_message msg)
{
	if (n->done || !n->authenticated)
		return 1;
	if (ssh_message_type(msg) == SSH_REQUEST_CHANNEL &&
	    ssh_message_subtype(msg) == SSH_CHANNEL_REQUEST_X11)
		return x11_request(n, msg);
	if (ssh_message_type(msg) == SSH_REQUEST_CHANNEL_OPEN &&
	    ssh_message_subtype(msg) == SSH_CHANNEL_DIRECT_TCPIP)
		return direct_open(n, msg);
	if (ssh_message_type(msg) == SSH_REQUEST_GLOBAL)
		return global_request(n, msg);
	return 1;
}

/* auth-agent-req on a session channel (the hook's marked env request):
 * the monitor has a listener made for SSH_AUTH_SOCK. */
int
fwd_agent_request(struct nchan *c)
{
	struct ps_fwd_listening r;

	if (c->started)
		return -1;
	/* One agent socket per connection, as sshd has: every session of
	 * the connection gets SSH_AUTH_SOCK (a second session's request,
	 * through a multiplexed client, finds it there). */
	if (c->n->agent_asked)
		return 0;
	if (ask_fwd_listen(c->n, &(struct ps_fwd_listen){ PS_FWD_AGENT, "", 0 }) < 0 ||
	    read_fwd_listening(c->n, &r) < 0)
		return -1;
	if (!r.ok) {
		log_info("agent forwarding refused: %s", r.error);
		return -1;
	}
	c->n->agent_asked = true;
	return 0;
}

/* FWD_ACCEPTED: a connection to one of the user's listeners; its channel
 * is opened from the relay's round (the client's confirmation comes
 * later, through the event loop). */
int
fwd_accepted(struct net *n, const struct ps_fwd_accepted *a)
{
	struct nchan *c;

	if (a->n_fds != 1 || !(a->id & FWD_ID_MONITOR) || chan_by_id(n, a->id)) {
		for (size_t i = 0; i < a->n_fds; i++)
			close(a->fds[i]);
		return -EPROTO;
	}
	if (n->nfwd >= MAX_FWD_CHANNELS) {
		close(a->fds[0]);
		ask_fwd_close(n, &(struct ps_fwd_close){ a->id, false, 0, 0,
		    "too-many-channels" });
		return 0;
	}
	c = fwd_new(n, a->id, (enum ps_fwd_kind)a->kind, a->fds[0]);
	if (c == NULL)
		goto fail;
	c->opening = true;
	c->fwd_host = strdup(a->host);
	c->fwd_orig = strdup(a->orig_host);
	c->fwd_port = a->port;
	c->fwd_orig_port = a->orig_port;
	c->ch = ssh_channel_new(n->s);
	if (c->fwd_host == NULL || c->fwd_orig == NULL || c->ch == NULL) {
		fwd_report_close(c, false, "server-error");
		chan_free(c);
		return 0;
	}
	return 0;
fail:
	ask_fwd_close(n, &(struct ps_fwd_close){ a->id, false, 0, 0, "server-error" });
	return 0;
}

/* One step of opening a channel to the client; the channel is freed if
 * the client refuses it (false: c is gone). */
bool
fwd_try_open(struct nchan *c)
{
	int rc;

	if (c->fwd_kind == PS_FWD_AGENT)
		rc = ssh_channel_open_auth_agent(c->ch);
	else if (c->fwd_kind == PS_FWD_TCP)
		rc = ssh_channel_open_reverse_forward(c->ch, c->fwd_host,
		    (int)c->fwd_port, c->fwd_orig, (int)c->fwd_orig_port);
	else if (c->fwd_kind == PS_FWD_X11)
		rc = ssh_channel_open_x11(c->ch, c->fwd_orig, (int)c->fwd_orig_port);
	else if (c->fwd_kind == PS_FWD_UNIX)
		rc = libssh_open_forwarded_streamlocal(c->ch, c->fwd_host);
	else
		rc = SSH_ERROR;
	if (rc == SSH_AGAIN)
		return true;
	if (rc != SSH_OK) {
		fwd_report_close(c, false, "refused-by-client");
		chan_free(c);
		return false;
	}
	c->opening = false;
	fwd_callbacks_set(c);
	idle_start(c, idle_fwd_type(c->fwd_kind, false));
	ask_fwd_confirmed(c->n, &(struct ps_fwd_confirmed){ c->id });
	return true;
}

/* A forwarded channel's end: the far end's EOF goes to the client once
 * what it sent is out; the channel closes when both sides have said EOF,
 * or either broke off. */
void
fwd_maybe_finish(struct nchan *c)
{
	if (c->finished || c->opening)
		return;
	if (c->client_closed) {
		if (!c->wr_broken && (c->pend_len > 0 || c->lib_pending))
			return;		/* its last data still to write */
		goto close;
	}
	if (!flush_output_pending(c))
		return;
	if (c->out_eof && !c->eof_sent) {
		ssh_channel_send_eof(c->ch);
		c->eof_sent = true;
	}
	if (!c->out_eof || !(c->wr_shut || c->wr_broken))
		return;
	ssh_channel_close(c->ch);
close:
	c->finished = true;
	fwd_report_close(c, true, c->client_closed && !c->out_eof ?
	    "client-closed" : "closed");
	relay_unregister(c);
}
