/* The network child's side of privilege separation: one wrapper per
 * request of privsep/protocol.h's table.  A request the table answers
 * waits for one of the table's answer types; the monitor's notices
 * (a session ended, a forwarded open's outcome, a connection accepted,
 * TERMINATE) may come first and are handled on the way; anything else
 * from the monitor is a protocol error. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "handler/front/log.h"
#include "handler/net/net.h"

/* A notice from the monitor: a session's end, a forwarded open's
 * outcome, a connection to a listener, or the order to end. */
static int
notice(struct net *n)
{
	struct ps_terminate t;
	struct ps_exit e;
	struct ps_fwd_accepted fa;
	struct ps_fwd_opened fo;
	struct nchan *c;

	switch (ps_type(n->rep)) {
	case PS_TERMINATE:
		if (ps_get_terminate(n->rep, &t) < 0)
			return -EPROTO;
		snprintf(n->terminate_reason, sizeof(n->terminate_reason), "%s",
		    t.reason);
		net_fail(n, EXIT_NOAUTH, n->terminate_reason);
		return 0;
	case PS_EXIT:
		if (ps_get_exit(n->rep, &e) < 0)
			return -EPROTO;
		c = chan_by_id(n, e.id);
		if (c == NULL || !c->started)
			return -EPROTO;
		c->exited = true;
		c->status = e.exited ? (int)e.status : 0;
		c->sig = e.exited ? 0 : (int)e.signal;
		c->core = e.core;
		return 0;
	case PS_FWD_OPENED:
		if (ps_get_fwd_opened(n->rep, &fo) < 0)
			return -EPROTO;
		return fwd_opened(n, &fo);
	case PS_FWD_ACCEPTED:
		if (ps_get_fwd_accepted(n->rep, &fa) < 0)
			return -EPROTO;
		return fwd_accepted(n, &fa);
	default:
		log_error("unexpected %s from the monitor", ps_type_name(ps_type(n->rep)));
		return -EPROTO;
	}
}

int
on_monitor(socket_t fd, int revents, void *ud)
{
	struct net *n = ud;
	int r;

	(void)revents;
	while ((r = ps_recv(fd, n->rep, MSG_DONTWAIT)) == 0)
		if (notice(n) < 0) {
			ps_clear_fds(n->rep);
			net_fail(n, EXIT_INTERNAL, "monitor-protocol");
			return 0;
		}
	/* Anything but "nothing more now": the monitor ended, or broke. */
	if (r != -EAGAIN)
		net_fail(n, EXIT_INTERNAL, "monitor-gone");
	return 0;
}

/* Sends n->req (wiped after: it may carry a password) and, if its type is
 * answered, receives the answer into n->rep.  A notice that cannot be
 * sent is dropped quietly: the monitor is gone, and the event loop ends
 * the connection when it sees its end of file. */
static int
call(struct net *n, unsigned type)
{
	uint64_t answers = ps_rules[type].answers;
	int r = ps_send(n->mon, n->req);

	ps_wipe(n->req);
	if (r == -EMSGSIZE) {
		/* Too big to ask about (env requests, say): refuse, go on. */
		log_info("%s request too large for the monitor, refused",
		    ps_type_name(type));
		return r;
	}
	if (answers == 0)
		return r;
	while (r == 0) {
		r = ps_recv(n->mon, n->rep, 0);
		if (r == 0 && (answers & 1ull << ps_type(n->rep)))
			return 0;
		if (r == 0)
			r = notice(n);
		/* Told to end (TERMINATE): no answer is coming. */
		if (r == 0 && n->done)
			return -ECANCELED;
	}
	ps_clear_fds(n->rep);
	log_errno(LOG_ERR, r, "monitor gone or protocol error");
	net_fail(n, EXIT_INTERNAL, "monitor");
	return -EPROTO;
}

/* One wrapper per request of the table: encode, send, and where the table
 * says it is answered, wait for the answer (in n->rep, for the readers
 * below). */
#define WRAPPER(type, name, ...)					\
int									\
ask_##name(struct net *n, const struct ps_##name *q)			\
{									\
	ps_put_##name(n->req, q);					\
	return call(n, PS_##type);					\
}
PS_REQUESTS(WRAPPER)
#undef WRAPPER

/* The answer's decoder failed: the monitor broke the protocol. */
static int
broken(struct net *n)
{
	ps_clear_fds(n->rep);
	net_fail(n, EXIT_INTERNAL, "monitor");
	return -EPROTO;
}

int
read_auth_result(struct net *n, struct ps_auth_result *ret)
{
	return ps_get_auth_result(n->rep, ret) < 0 ? broken(n) : 0;
}

int
read_signature(struct net *n, struct ps_signature *ret)
{
	return ps_get_signature(n->rep, ret) < 0 ? broken(n) : 0;
}

int
read_kbdint_reply(struct net *n, struct kbdint_reply *ret)
{
	int r;

	ret->type = ps_type(n->rep);
	r = ret->type == PS_KBDINT_PROMPTS ?
	    ps_get_kbdint_prompts(n->rep, &ret->prompts) :
	    ps_get_auth_result(n->rep, &ret->result);
	return r < 0 ? broken(n) : 0;
}

int
read_password_reply(struct net *n, struct ps_password_reply *ret)
{
	int r;

	ret->type = ps_type(n->rep);
	r = ret->type == PS_PASSWD_CHANGEREQ ?
	    ps_get_passwd_changereq(n->rep, &ret->changereq) :
	    ps_get_auth_result(n->rep, &ret->result);
	return r < 0 ? broken(n) : 0;
}

int
read_session_started(struct net *n, uint32_t id, struct ps_session_started *ret)
{
	if (ps_get_session_started(n->rep, ret) < 0)
		return broken(n);
	/* Its session, and the descriptors it has: a pty master, three
	 * pipes, or none for a refusal. */
	if (ret->id != id || ret->n_fds != (!ret->ok ? 0 : ret->pty ? 1 : 3)) {
		for (size_t i = 0; i < ret->n_fds; i++)
			close(ret->fds[i]);
		return broken(n);
	}
	return 0;
}

int
read_fwd_listening(struct net *n, struct ps_fwd_listening *ret)
{
	return ps_get_fwd_listening(n->rep, ret) < 0 ? broken(n) : 0;
}
