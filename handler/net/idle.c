/* ChannelTimeout, as sshd 9.2 applies it (channels.c, session.c).
 *
 * A channel has a type: a session, once its program starts, is
 * "session:shell", "session:command" or "session:subsystem:NAME"; a
 * forwarded channel is "direct-tcpip", "direct-streamlocal@openssh.com",
 * "forwarded-tcpip", "forwarded-streamlocal@openssh.com",
 * "agent-connection" or "x11-connection".  The first of the user's
 * ChannelTimeout patterns that matches the type gives its timeout (0 or
 * none: never).  The clock starts when the channel opens (a session: when
 * its program starts) and restarts whenever bytes move between the
 * channel and its program or socket, either way; keepalives and window
 * adjustments do not count, as in sshd.
 *
 * A channel idle for its timeout is closed as sshd's
 * channel_force_close() closes it: what was pending either way is
 * dropped, the program's descriptors (or the socket) are closed, the
 * client gets EOF and CLOSE, and a session sends no exit status: it is
 * detached.  Its program is not killed (a terminal's is hung up, as the
 * closed terminal hangs it up under sshd), and the connection stays. */
#define _GNU_SOURCE
#include <errno.h>

#include "handler/front/log.h"
#include "handler/net/net.h"
#include "policy/config.h"
#include "policy/match.h"

_Static_assert(PS_MAX_CHAN_TIMEOUTS == CHANTIMEOUT_MAX, "ChannelTimeout's entries fit AUTH_RESULT");
_Static_assert(PS_MAX_CHAN_TIMEOUT == CHANTIMEOUT_MAX_LEN, "ChannelTimeout's entries fit AUTH_RESULT");

int
idle_setup(struct net *n, const struct ps_auth_result *r)
{
	n->n_timeouts = 0;
	for (uint32_t i = 0; i < r->n_channel_timeouts; i++) {
		struct chan_timeout *t = &n->timeouts[n->n_timeouts];

		if (chantimeout_parse(r->channel_timeouts[i], t->pattern,
		    sizeof(t->pattern), &t->secs) < 0)
			return -EPROTO;
		n->n_timeouts++;
	}
	return 0;
}

void
idle_start(struct nchan *c, const char *type)
{
	const struct net *n = c->n;

	c->idle_secs = 0;
	for (unsigned i = 0; i < n->n_timeouts; i++)
		if (match_pattern(type, n->timeouts[i].pattern)) {
			c->idle_secs = n->timeouts[i].secs;
			break;
		}
	c->idle_mark = c->fwd_in + c->fwd_out;
	c->lastused = now_usec();
}

void
idle_start_session(struct nchan *c, enum ps_session_kind kind, const char *arg)
{
	char type[PS_CHAN_TYPE_MAX];

	ps_session_chan_type(kind, arg, type, sizeof(type));
	idle_start(c, type);
}

const char *
idle_fwd_type(unsigned kind, bool direct)
{
	switch (kind) {
	case PS_FWD_TCP:
		return direct ? "direct-tcpip" : "forwarded-tcpip";
	case PS_FWD_UNIX:
		return direct ? "direct-streamlocal@openssh.com" :
		    "forwarded-streamlocal@openssh.com";
	case PS_FWD_AGENT:
		return "agent-connection";
	default:
		return "x11-connection";
	}
}

/* sshd's channel_force_close() with its session_close_by_channel(). */
static void
force_close(struct nchan *c)
{
	unsigned secs = c->idle_secs;

	log_debug("channel %u: closing after %u seconds of inactivity", c->id,
	    secs);
	relay_close_fds(c);
	c->pend_off = c->pend_len = 0;
	c->lib_pending = false;
	c->o_off = c->o_len = 0;
	c->out_eof = c->err_eof = true;
	if (!c->eof_sent) {
		ssh_channel_send_eof(c->ch);
		c->eof_sent = true;
	}
	ssh_channel_close(c->ch);
	c->abandoned = true;
	c->idle_secs = 0;
	if (c->fwd) {
		c->wr_broken = true;
		c->finished = true;
		fwd_report_close(c, true, "channel-timeout");
		return;
	}
	/* No exit status will follow: the channel is closed as if by the
	 * client, and the monitor hangs up a terminal's programs.  Like
	 * sshd, which frees the session then, MaxSessions counts it no
	 * more. */
	c->client_closed = true;
	c->n->nchans--;
	if (!c->exited)
		ask_session_close(c->n, &(struct ps_session_close){ c->id, secs });
}

/* Whether c's inactivity is counted now. */
static bool
counted(const struct nchan *c)
{
	return c->idle_secs != 0 && c->started && !c->opening && !c->finished &&
	    !c->abandoned && !c->client_closed && !c->exited;
}

void
idle_check(struct net *n)
{
	uint64_t now;

	if (n->n_timeouts == 0)
		return;
	now = now_usec();
	for (struct nchan *c = n->chans; c != NULL; c = c->next) {
		/* Bytes moved either way since the last look: in use now. */
		uint64_t moved = c->fwd_in + c->fwd_out;

		if (!counted(c))
			continue;
		if (moved != c->idle_mark) {
			c->idle_mark = moved;
			c->lastused = now;
		} else if (now >= c->lastused + (uint64_t)c->idle_secs * 1000000)
			force_close(c);
	}
}

uint64_t
idle_next_due(const struct net *n)
{
	uint64_t next = 0;

	for (const struct nchan *c = n->chans; c != NULL; c = c->next) {
		uint64_t due = c->lastused + (uint64_t)c->idle_secs * 1000000;

		if (counted(c) && (next == 0 || due < next))
			next = due;
	}
	return next;
}
