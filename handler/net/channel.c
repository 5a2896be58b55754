/* Session channels in the network child: opening them, the requests that
 * shape a session before it starts (pty-req, env, window-change), the one
 * that starts it (shell, exec, subsystem: asked of the monitor, which
 * passes back the session's fds), and those that reach a running session
 * (window-change, signal, close). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handler/front/log.h"
#include "handler/net/libssh-private.h"
#include "handler/net/net.h"

struct nchan *
chan_by_id(struct net *n, uint32_t id)
{
	for (struct nchan *c = n->chans; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

void
chan_free(struct nchan *c)
{
	struct net *n = c->n;

	for (struct nchan **p = &n->chans; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	if (c->fwd)
		n->nfwd--;
	else if (!c->abandoned)
		n->nchans--;		/* an abandoned one left the count (idle.c) */
	relay_close_fds(c);
	for (size_t i = 0; i < c->nenv; i++)
		free(c->env[i]);
	free(c->pend);
	free(c->obuf);
	free(c->fwd_host);
	free(c->fwd_orig);
	if (c->ch != NULL) {
		ssh_remove_channel_callbacks(c->ch, &c->cb);
		ssh_channel_free(c->ch);
	}
	free(c);
}

/* The client closed the channel (RFC 4254 5.3: it sends and takes no
 * more data on it).  A terminal session is hung up (the monitor signals
 * it).  A command without a terminal goes on as under sshd (channels.c,
 * chan_rcvd_oclose): what the client sent before its close still goes to
 * the command's stdin, which is closed after it (the close implies the
 * EOF); its stdout and stderr are closed now, so that a command that
 * writes more ends by SIGPIPE instead of waiting on a pipe nobody reads. */
static void
on_close(ssh_session s, ssh_channel ch, void *ud)
{
	struct nchan *c = ud;

	(void)s, (void)ch;
	if (c->abandoned)
		return;		/* we closed it first (idle.c): all is done */
	c->client_closed = true;
	if (c->pty || !c->started || c->exited) {
		c->lib_pending = false;
	} else {
		c->client_eof = true;
		relay_close_output(c);
		maybe_close_input(c);
	}
	if (c->started && !c->exited)
		ask_session_close(c->n, &(struct ps_session_close){ c->id, 0 });
}

static void
on_signal(ssh_session s, ssh_channel ch, const char *signal, void *ud)
{
	struct nchan *c = ud;

	(void)s, (void)ch;
	if (c->started && !c->exited)
		ask_signal(c->n, &(struct ps_signal){ c->id, signal });
}

/* A pty-req reaches us through the message callback (libssh's channel
 * callback for it drops the terminal modes): it is remembered until the
 * shell or exec. */
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

int
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
	ask_window_change(c->n, &(struct ps_window_change){ c->id, (uint32_t)cols,
	    (uint32_t)rows, (uint32_t)px, (uint32_t)py });
	return 0;
}

static int
on_env(ssh_session s, ssh_channel ch, const char *name, const char *value, void *ud)
{
	struct nchan *c = ud;
	char *kv;

	(void)s, (void)ch;
	if (libssh_is_agent_mark(name))
		return fwd_agent_request(c);
	/* The monitor applies AcceptEnv; we only bound what we carry. */
	if (c->started || c->nenv >= PS_MAX_ENV || strlen(name) > 256 ||
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

/* A command longer than one message takes: all but its last part ahead
 * of the SESSION_OPEN that carries the rest. */
static int
send_arg_parts(struct nchan *c, const char *arg, struct ps_session_open *q)
{
	size_t len = strlen(arg), off = 0;
	char part[PS_MAX_ARG_PART + 1];

	while (len - off > PS_MAX_ARG_PART) {
		memcpy(part, arg + off, PS_MAX_ARG_PART);
		part[PS_MAX_ARG_PART] = '\0';
		if (ask_session_arg(c->n, &(struct ps_session_arg){ c->id, part }) < 0)
			return -1;
		off += PS_MAX_ARG_PART;
	}
	q->arg = arg + off;
	q->arg_parts = true;
	return 0;
}

/* shell, exec, subsystem: the monitor starts the session, or says no. */
static int
start_session(struct nchan *c, enum ps_session_kind kind, const char *arg)
{
	struct ps_session_open q = { .id = c->id, .kind = kind, .arg = arg,
	    .pty = c->want_pty, .term = c->term, .cols = c->cols, .rows = c->rows,
	    .xpix = c->xpix, .ypix = c->ypix, .modes = c->modes,
	    .modes_len = c->nmodes, .n_env = (uint32_t)c->nenv };
	struct ps_session_started r;

	if (c->started || c->failed || c->n->done)
		return -1;
	if (strlen(arg) > PS_MAX_COMMAND) {
		log_info("command of %zu bytes refused (limit %d)", strlen(arg),
		    PS_MAX_COMMAND);
		return -1;
	}
	if (strlen(arg) > PS_MAX_ARG_PART && send_arg_parts(c, arg, &q) < 0)
		return -1;
	for (size_t i = 0; i < c->nenv; i++)
		q.env[i] = c->env[i];
	if (ask_session_open(c->n, &q) < 0 || read_session_started(c->n, c->id, &r) < 0)
		return -1;
	if (!r.ok) {
		if (r.error[0] != '\0')
			log_info("session refused: %s", r.error);
		c->failed = true;
		return -1;
	}
	/* read_session_started checked: a pty master, or three pipes. */
	c->pty = r.pty;
	if (c->pty) {
		c->in_fd = c->out_fd = r.fds[0];
		c->err_fd = -1;
		c->err_eof = true;
	} else {
		c->in_fd = r.fds[0];
		c->out_fd = r.fds[1];
		c->err_fd = r.fds[2];
		set_nonblock(c->out_fd);
		set_nonblock(c->err_fd);
	}
	set_nonblock(c->in_fd);
	c->started = true;
	c->lib_pending = true;	/* anything that arrived before the child */
	idle_start_session(c, kind, arg);
	return 0;
}

static int
on_shell(ssh_session s, ssh_channel ch, void *ud)
{
	(void)s, (void)ch;
	return start_session(ud, PS_KIND_SHELL, "");
}

static int
on_exec(ssh_session s, ssh_channel ch, const char *command, void *ud)
{
	(void)s, (void)ch;
	return start_session(ud, PS_KIND_EXEC, command);
}

static int
on_subsystem(ssh_session s, ssh_channel ch, const char *subsystem, void *ud)
{
	(void)s, (void)ch;
	return start_session(ud, PS_KIND_SUBSYSTEM, subsystem);
}

/* What every session channel answers; userdata is its struct nchan. */
static const struct ssh_channel_callbacks_struct channel_callbacks = {
	.size = sizeof(struct ssh_channel_callbacks_struct),
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

_Static_assert(MAX_CHANNELS >= PS_MAX_SESSIONS, "MaxSessions fits the table");

ssh_channel
on_channel_open(ssh_session s, void *ud)
{
	struct net *n = ud;
	struct nchan *c;

	/* MaxSessions, as sshd: a session channel beyond it is refused at
	 * its open (0 refuses them all; forwarding has channels of its
	 * own). */
	if (!n->authenticated || n->done || n->nchans >= MAX_CHANNELS ||
	    n->nchans >= n->max_sessions) {
		if (n->authenticated && !n->done)
			log_info("session channel refused: MaxSessions %u reached",
			    n->max_sessions);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->pend = malloc(RELAY_CHUNK);
	c->obuf = malloc(RELAY_SESSION_CHUNK);
	c->obuf_size = RELAY_SESSION_CHUNK;
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
	c->cb = channel_callbacks;
	c->cb.userdata = c;
	ssh_set_channel_callbacks(c->ch, &c->cb);
	c->next = n->chans;
	n->chans = c;
	n->nchans++;
	return c->ch;
}
