/* The monitor's answers to forwarding requests: policy (OpenSSH's
 * keywords, the key's options, the sandbox profile), one audit record per
 * forwarded channel opened or refused and one when it closes, and the
 * forwarder (forwarder.c), which opens the sockets as the user.  The
 * monitor itself never connects, binds or listens for the user: it only
 * passes the forwarder's descriptors on to the network child.  The policy
 * is forward-policy.c's, X11 is x11.c's. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "handler/front/log.h"
#include "handler/monitor/answers.h"
#include "handler/monitor/forward.h"
#include "handler/monitor/monitor.h"
#include "handler/monitor/proctree.h"
#include "handler/monitor/spawn.h"
#include "policy/forward.h"
#include "handler/monitor/forward-internal.h"

struct ps_msg fwd_in, fwd_out;


struct forwarding *
fwd_state(struct monitor *m)
{
	if (m->fwd == NULL) {
		m->fwd = calloc(1, sizeof(*m->fwd));
		if (m->fwd != NULL)
			m->fwd->fd = -1;
	}
	return m->fwd;
}

char *
fwd_endpoint(const char *host, uint32_t port, bool unix_path)
{
	char *s;

	if (unix_path)
		return strdup(host);
	if (asprintf(&s, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port) < 0)
		return NULL;
	return s;
}

void
audit_fwd(struct monitor *m, enum audit_event ev, int64_t id, const char *kind,
    const char *origin, const char *dest, const char *reason)
{
	struct audit_fields f = AUDIT_FIELDS_INIT;

	f.forward_kind = kind;
	f.forward_origin = origin;
	f.forward_destination = dest;
	f.forward_id = id;
	f.reason = reason;
	audit_emit(ev, m->h->audit, &f);
}

static struct fwd_chan **
chan_slot(struct forwarding *fw, uint32_t id)
{
	for (int i = 0; i < MAX_FWD_OPEN; i++)
		if (fw->open[i] != NULL && fw->open[i]->id == id)
			return &fw->open[i];
	return NULL;
}

static struct fwd_chan *
chan_add(struct forwarding *fw, uint32_t id, const char *kind, char *origin,
    char *dest)
{
	for (int i = 0; i < MAX_FWD_OPEN; i++)
		if (fw->open[i] == NULL) {
			struct fwd_chan *c = calloc(1, sizeof(*c));

			if (c == NULL)
				break;
			*c = (struct fwd_chan){ .id = id, .kind = kind, .origin = origin,
			    .dest = dest, .start = now_usec() };
			fw->open[i] = c;
			return c;
		}
	free(origin);
	free(dest);
	return NULL;
}

static void
chan_del(struct fwd_chan **slot)
{
	free((*slot)->origin);
	free((*slot)->dest);
	free(*slot);
	*slot = NULL;
}
/* ---- the forwarder ---- */

static void opened(struct monitor *m, uint32_t id, const char *error, int fd);

/* The forwarder is gone or broke: forwarding ends for this connection,
 * and the opens it was connecting are refused. */
static void
forwarder_lost(struct monitor *m, const char *why)
{
	struct forwarding *fw = m->fwd;

	log_info("forwarder: %s", why);
	close(fw->fd);
	fw->fd = -1;
	fw->failed = true;
	proctree_kill_as(fw->pid, SIGKILL, m->user.uid, m->user.gid);
	for (int i = 0; i < MAX_FWD_OPEN && fw->npending > 0; i++) {
		struct fwd_chan *c = fw->open[i];

		if (c == NULL || !c->pending)
			continue;
		fw->npending--;
		audit_fwd(m, AUDIT_FORWARD_REFUSED, c->id, c->kind, c->origin,
		    c->dest, "server-error");
		opened(m, c->id, "server-error", -1);
		chan_del(&fw->open[i]);
	}
}

bool
forwarder_ready(struct monitor *m)
{
	struct forwarding *fw = fwd_state(m);
	struct forwarder_spec sp;
	int r;

	if (fw == NULL || fw->failed)
		return false;
	if (fw->fd >= 0)
		return true;
	sp = (struct forwarder_spec){ .user = &m->user,
	    .profile = m->us->sandbox_profile };
	sp.sandbox.allow_keyrings = m->us->sandbox_allow_keyrings;
	sp.limits.max_procs = m->us->max_session_procs;
	sp.limits.max_files = m->us->max_open_files;
	sp.limits.core_dumps = m->us->allow_core_dumps;
	r = forwarder_start(&sp, &fw->pid, &fw->fd);
	if (r < 0) {
		log_errno(LOG_ERR, r, "cannot start the forwarder");
		fw->failed = true;
		return false;
	}
	return true;
}

static bool handle_unasked(struct monitor *m);

/* Sends fwd_out without waiting: 0, or -1 (the forwarder is gone). */
static int
forwarder_send(struct monitor *m)
{
	int r = ps_send(m->fwd->fd, &fwd_out);

	ps_wipe(&fwd_out);
	if (r < 0) {
		forwarder_lost(m, "gone");
		return -1;
	}
	return 0;
}

/* Sends fwd_out and waits for the answer of type want; connections accepted
 * and connects completed meanwhile are passed on.  0 with the answer in
 * fwd_in, or -1 (the forwarder is gone: forwarding ends for this
 * connection). */
int
forwarder_call(struct monitor *m, unsigned want)
{
	struct forwarding *fw = m->fwd;
	uint64_t deadline = now_usec() + FORWARDER_WAIT_MS * 1000ull;
	int r = ps_send(fw->fd, &fwd_out);

	ps_wipe(&fwd_out);
	if (r < 0) {
		forwarder_lost(m, "gone");
		return -1;
	}
	for (;;) {
		struct pollfd p = { .fd = fw->fd, .events = POLLIN };
		uint64_t now = now_usec();

		if (now >= deadline) {
			forwarder_lost(m, "no answer; stopped");
			return -1;
		}
		r = poll(&p, 1, (int)((deadline - now) / 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			continue;
		if (ps_recv(fw->fd, &fwd_in, 0) < 0) {
			forwarder_lost(m, "gone");
			return -1;
		}
		if (ps_type(&fwd_in) == want)
			return 0;
		if (!handle_unasked(m) || fw->fd < 0)
			return -1;
	}
}

struct fwd_listener *
listener_by_id(struct forwarding *fw, uint32_t id)
{
	for (int i = 0; i < MAX_FWD_LISTENERS; i++)
		if (fw->l[i].live && fw->l[i].id == id)
			return &fw->l[i];
	return NULL;
}

/* The forwarder closes the listener (UNLISTEN has no answer). */
void
listener_close(struct monitor *m, struct fwd_listener *l)
{
	struct forwarding *fw = m->fwd;

	if (fw->fd >= 0) {
		ps_put_fwdr_unlisten(&fwd_out, &(struct ps_fwdr_unlisten){ l->id });
		if (ps_send(fw->fd, &fwd_out) < 0)
			forwarder_lost(m, "gone");
		ps_wipe(&fwd_out);
	}
	free(l->host);
	l->host = NULL;
	l->live = false;
}

/* A connection one of the user's listeners took: to the network child,
 * which opens its channel to the client.  fwd_in holds INCOMING. */
static void
handle_incoming(struct monitor *m)
{
	struct forwarding *fw = m->fwd;
	struct ps_fwdr_incoming q;
	struct fwd_listener *l;
	const char *kind;
	char *origin, *dest;
	uint32_t id;

	if (ps_get_fwdr_incoming(&fwd_in, &q) < 0 || q.n_fds != 1) {
		for (size_t i = 0; i < q.n_fds; i++)
			close(q.fds[i]);
		return;
	}
	l = listener_by_id(fw, q.listener);
	if (l == NULL || m->net_gone) {
		close(q.fds[0]);
		return;
	}
	kind = l->kind == PS_FWD_AGENT ? "auth-agent" :
	    l->kind == PS_FWD_UNIX ? "forwarded-streamlocal" :
	    l->kind == PS_FWD_X11 ? "x11" : "forwarded-tcpip";
	id = FWD_ID_MONITOR | fw->next_id++;
	origin = l->kind == PS_FWD_TCP || l->kind == PS_FWD_X11 ?
	    fwd_endpoint(q.orig_host, q.orig_port, false) : strdup("");
	/* An X11 listener's host is the display it serves. */
	dest = l->kind == PS_FWD_AGENT ? strdup(fw->agent_sock ? fw->agent_sock : "") :
	    l->kind == PS_FWD_X11 ? strdup(l->host) :
	    fwd_endpoint(l->host, l->bound, l->kind == PS_FWD_UNIX);
	if (origin == NULL || dest == NULL || chan_add(fw, id, kind, origin, dest) == NULL) {
		close(q.fds[0]);
		return;
	}
	ps_put_fwd_accepted(m->out, &(struct ps_fwd_accepted){ .id = id,
	    .kind = l->kind, .host = l->host, .port = l->bound,
	    .orig_host = q.orig_host, .orig_port = q.orig_port, .n_fds = 1,
	    .fds = { q.fds[0] } });
	monitor_send(m);
	close(q.fds[0]);
	/* single-connection: sshd too stops listening after the first. */
	if (l->single)
		listener_close(m, l);
}

/* A FWD_OPEN's connect is done (fwd_in holds CONNECTED): its socket, or
 * why not, to the network child, and the record of either. */
static void
handle_connected(struct monitor *m)
{
	struct forwarding *fw = m->fwd;
	struct ps_fwdr_connected c = { 0 };
	struct fwd_chan **slot = NULL;
	char reason[PS_MAX_STR];

	if (ps_get_fwdr_connected(&fwd_in, &c) < 0 ||
	    c.n_fds != (c.err == 0 ? 1u : 0u) ||
	    (slot = chan_slot(fw, c.id)) == NULL || !(*slot)->pending) {
		for (size_t i = 0; i < c.n_fds; i++)
			close(c.fds[i]);
		ps_clear_fds(&fwd_in);
		ps_wipe(&fwd_in);
		forwarder_lost(m, "broke the protocol");
		return;
	}
	(*slot)->pending = false;
	fw->npending--;
	if (c.err != 0) {
		snprintf(reason, sizeof(reason), "%s%s", PS_FWD_CONNECT_FAILED,
		    c.error);
		ps_wipe(&fwd_in);
		audit_fwd(m, AUDIT_FORWARD_REFUSED, c.id, (*slot)->kind,
		    (*slot)->origin, (*slot)->dest, reason);
		chan_del(slot);
		opened(m, c.id, reason, -1);
		return;
	}
	ps_wipe(&fwd_in);
	(*slot)->start = now_usec();
	audit_fwd(m, AUDIT_FORWARD_OPEN, c.id, (*slot)->kind, (*slot)->origin,
	    (*slot)->dest, NULL);
	opened(m, c.id, NULL, c.fds[0]);
}

/* What the forwarder tells unasked (fwd_in): a connection accepted, a
 * connect done.  false when it broke the protocol (it is then lost). */
static bool
handle_unasked(struct monitor *m)
{
	switch (ps_type(&fwd_in)) {
	case PS_FWDR_INCOMING:
		handle_incoming(m);
		return true;
	case PS_FWDR_CONNECTED:
		handle_connected(m);
		return true;
	default:
		ps_clear_fds(&fwd_in);
		ps_wipe(&fwd_in);
		forwarder_lost(m, "broke the protocol");
		return false;
	}
}

int
monitor_forwarder_fd(const struct monitor *m)
{
	return m->fwd != NULL ? m->fwd->fd : -1;
}

void
monitor_forwarder_input(struct monitor *m)
{
	struct forwarding *fw = m->fwd;

	while (fw->fd >= 0) {
		int r = ps_recv(fw->fd, &fwd_in, MSG_DONTWAIT);

		if (r == -EAGAIN)
			return;
		if (r < 0) {
			forwarder_lost(m, "gone");
			return;
		}
		if (!handle_unasked(m))
			return;
		ps_wipe(&fwd_in);
	}
}

const char *
monitor_agent_socket(const struct monitor *m)
{
	return m->fwd != NULL ? m->fwd->agent_sock : NULL;
}

void
monitor_forward_end(struct monitor *m)
{
	struct forwarding *fw = m->fwd;

	if (fw == NULL)
		return;
	if (fw->fd >= 0) {
		/* Its end of file: it removes its sockets and ends (the
		 * sessions' end reaps it). */
		close(fw->fd);
		fw->fd = -1;
	}
	for (int i = 0; i < MAX_SESSIONS; i++)
		if (fw->x11[i].live)
			x11_free(&fw->x11[i]);
	for (int i = 0; i < MAX_FWD_OPEN; i++)
		if (fw->open[i] != NULL) {
			struct fwd_chan *c = fw->open[i];
			struct audit_fields f = AUDIT_FIELDS_INIT;

			f.forward_kind = c->kind;
			f.forward_origin = c->origin;
			f.forward_destination = c->dest;
			f.forward_id = (int64_t)c->id;
			f.reason = "connection-closed";
			/* One we opened that the client never confirmed was
			 * never open: it is recorded as refused, as a channel
			 * the client turns down is; so is one the forwarder
			 * was still connecting. */
			if (((c->id & FWD_ID_MONITOR) && !c->confirmed) ||
			    c->pending) {
				audit_emit(AUDIT_FORWARD_REFUSED, m->h->audit, &f);
				chan_del(&fw->open[i]);
				continue;
			}
			f.duration_usec = (int64_t)(now_usec() - c->start);
			audit_emit(AUDIT_FORWARD_CLOSE, m->h->audit, &f);
			chan_del(&fw->open[i]);
		}
}

/* ---- the answers ---- */

static void
opened(struct monitor *m, uint32_t id, const char *error, int fd)
{
	ps_put_fwd_opened(m->out, &(struct ps_fwd_opened){ .id = id,
	    .ok = fd >= 0, .error = error ? error : "", .n_fds = fd >= 0,
	    .fds = { fd } });
	monitor_send(m);
	if (fd >= 0)
		close(fd);
}

/* FWD_OPEN: refused at once by policy, or asked of the forwarder, whose
 * CONNECTED (handle_connected) brings the answer later; nothing here
 * waits for a connect. */
void
answer_fwd_open(struct monitor *m, const struct ps_fwd_open *r)
{
	bool is_unix = r->kind == PS_FWD_UNIX;
	const char *kind = is_unix ? "direct-streamlocal" : "direct-tcpip";
	char *origin = fwd_endpoint(r->orig_host, r->orig_port, false);
	char *dest = fwd_endpoint(r->host, r->port, is_unix);
	const char *why = fwd_refusal(m, (enum ps_fwd_kind)r->kind, FWD_LOCAL, r->host,
	    r->port);
	struct fwd_chan *c;

	if (r->id & FWD_ID_MONITOR)
		monitor_violation(m, "forwarded channel id %#x", r->id);
	if (origin == NULL || dest == NULL) {
		why = "server-error";
		goto refuse;
	}
	if (why != NULL)
		goto refuse;
	if (r->port > 65535 || r->host[0] == '\0') {
		why = "bad-destination";
		goto refuse;
	}
	if (fwd_state(m) == NULL) {
		why = "server-error";
		goto refuse;
	}
	if (chan_slot(m->fwd, r->id) != NULL)
		monitor_violation(m, "forwarded channel %u opened twice", r->id);
	if (m->fwd->npending >= PS_MAX_FWD_PENDING)
		monitor_violation(m, "more than %d forwarded channels opening",
		    PS_MAX_FWD_PENDING);
	if (!forwarder_ready(m)) {
		why = "server-error";
		goto refuse;
	}
	c = chan_add(m->fwd, r->id, kind, origin, dest);
	if (c == NULL) {
		opened(m, r->id, "too many forwarded channels", -1);
		return;
	}
	c->pending = true;
	m->fwd->npending++;
	ps_put_fwdr_connect(&fwd_out, &(struct ps_fwdr_connect){ r->id, r->kind,
	    r->host, r->port });
	/* A forwarder gone refuses this open with the others pending. */
	(void)forwarder_send(m);
	return;
refuse:
	audit_fwd(m, AUDIT_FORWARD_REFUSED, r->id, kind, origin ? origin : "",
	    dest ? dest : "", why);
	opened(m, r->id, why, -1);
	free(origin);
	free(dest);
}

void
fwd_listening(struct monitor *m, bool ok, uint32_t port, const char *error)
{
	ps_put_fwd_listening(m->out, &(struct ps_fwd_listening){ ok, port,
	    error ? error : "" });
	monitor_send(m);
}

void
answer_fwd_listen(struct monitor *m, const struct ps_fwd_listen *r)
{
	enum ps_fwd_kind k = (enum ps_fwd_kind)r->kind;
	const char *kind = k == PS_FWD_AGENT ? "auth-agent-req" :
	    k == PS_FWD_UNIX ? "streamlocal-forward" : "tcpip-forward";
	const char *why = fwd_refusal(m, k, FWD_REMOTE, r->host, r->port);
	const char *bind = NULL;
	struct forwarding *fw = fwd_state(m);
	struct fwd_listener *l = NULL;
	struct ps_fwdr_listening a;
	char *dest = fwd_endpoint(r->host, r->port, k != PS_FWD_TCP);
	char reason[PS_MAX_STR];

	if (dest == NULL || fw == NULL) {
		why = "server-error";
		goto refuse;
	}
	if (why != NULL)
		goto refuse;
	if (k == PS_FWD_AGENT && fw->agent_sock != NULL) {
		why = "repeated";
		goto refuse;
	}
	for (int i = 0; i < MAX_FWD_LISTENERS && l == NULL; i++)
		if (!fw->l[i].live)
			l = &fw->l[i];
	if (l == NULL) {
		why = "too-many-listeners";
		goto refuse;
	}
	if (!forwarder_ready(m)) {
		why = "server-error";
		goto refuse;
	}
	if (k == PS_FWD_TCP)
		fwd_bind_addr(m->us->gateway_ports, r->host, &bind);
	else if (k == PS_FWD_UNIX)
		bind = r->host;		/* the socket's path */
	*l = (struct fwd_listener){ .id = fw->next_listener++, .kind = k,
	    .host = strdup(r->host), .port = r->port };
	if (l->host == NULL) {
		why = "server-error";
		goto refuse;
	}
	ps_put_fwdr_listen(&fwd_out, &(struct ps_fwdr_listen){ l->id, k,
	    bind ? bind : "", r->port, m->us->streamlocal_bind_mask,
	    m->us->streamlocal_bind_unlink });
	if (forwarder_call(m, PS_FWDR_LISTENING) < 0 ||
	    ps_get_fwdr_listening(&fwd_in, &a) < 0 || a.listener != l->id) {
		ps_wipe(&fwd_in);
		free(l->host);
		why = "server-error";
		goto refuse;
	}
	if (a.err != 0 || (k == PS_FWD_TCP && (a.port == 0 || a.port > 65535 ||
	    (r->port != 0 && a.port != r->port))) ||
	    (k == PS_FWD_AGENT && a.path[0] != '/')) {
		snprintf(reason, sizeof(reason), "listen-failed: %s",
		    a.err ? strerror((int)a.err) : "bad answer");
		ps_wipe(&fwd_in);
		free(l->host);
		why = reason;
		goto refuse;
	}
	l->bound = a.port;
	l->live = true;
	if (k == PS_FWD_AGENT) {
		fw->agent_sock = strdup(a.path);
		free(dest);
		dest = strdup(a.path);
	} else if (k == PS_FWD_TCP && r->port == 0) {
		/* The port allocated; a socket path has none. */
		free(dest);
		dest = fwd_endpoint(r->host, a.port, false);
	}
	ps_wipe(&fwd_in);
	audit_fwd(m, AUDIT_FORWARD_OPEN, -1, kind, "", dest ? dest : "", NULL);
	free(dest);
	fwd_listening(m, true, l->bound, NULL);
	return;
refuse:
	audit_fwd(m, AUDIT_FORWARD_REFUSED, -1, kind, "", dest ? dest : "", why);
	free(dest);
	fwd_listening(m, false, 0, why);
}

void
answer_fwd_unlisten(struct monitor *m, const struct ps_fwd_unlisten *r)
{
	struct forwarding *fw = m->fwd;

	for (int i = 0; fw != NULL && i < MAX_FWD_LISTENERS; i++) {
		struct fwd_listener *l = &fw->l[i];

		if (!l->live || l->kind != r->kind || l->kind == PS_FWD_AGENT ||
		    l->kind == PS_FWD_X11 || strcmp(l->host, r->host) != 0 ||
		    (r->port != l->port && r->port != l->bound))
			continue;
		listener_close(m, l);
		fwd_listening(m, true, 0, NULL);
		return;
	}
	fwd_listening(m, false, 0, "no such forwarding");
}

void
answer_fwd_close(struct monitor *m, const struct ps_fwd_close *r)
{
	struct fwd_chan **slot = m->fwd ? chan_slot(m->fwd, r->id) : NULL;
	struct audit_fields f = AUDIT_FIELDS_INIT;

	if (slot == NULL) {
		log_info("close of unknown forwarded channel %u", r->id);
		return;
	}
	/* The child has had no FWD_OPENED for it: it cannot have a channel
	 * to close. */
	if ((*slot)->pending)
		monitor_violation(m, "close of forwarded channel %u still opening",
		    r->id);
	f.forward_kind = (*slot)->kind;
	f.forward_origin = (*slot)->origin;
	f.forward_destination = (*slot)->dest;
	f.forward_id = (int64_t)r->id;
	if (!r->opened) {
		f.reason = r->reason;
		audit_emit(AUDIT_FORWARD_REFUSED, m->h->audit, &f);
	} else {
		if ((r->id & FWD_ID_MONITOR) && !(*slot)->confirmed)
			audit_emit(AUDIT_FORWARD_OPEN, m->h->audit, &f);
		f.reason = r->reason;
		f.bytes_in = (int64_t)r->bytes_in;
		f.bytes_out = (int64_t)r->bytes_out;
		f.duration_usec = (int64_t)(now_usec() - (*slot)->start);
		audit_emit(AUDIT_FORWARD_CLOSE, m->h->audit, &f);
	}
	chan_del(slot);
}

void
answer_fwd_confirmed(struct monitor *m, const struct ps_fwd_confirmed *r)
{
	struct fwd_chan **slot = m->fwd ? chan_slot(m->fwd, r->id) : NULL;

	if (slot == NULL || !(r->id & FWD_ID_MONITOR) || (*slot)->confirmed)
		return;
	(*slot)->confirmed = true;
	audit_fwd(m, AUDIT_FORWARD_OPEN, r->id, (*slot)->kind, (*slot)->origin,
	    (*slot)->dest, NULL);
}
