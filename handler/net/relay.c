/* The relay in the network child: bytes from each session channel to its
 * session's stdin (or pty), and from its stdout and stderr back, within
 * the client's window; and each channel's end: the session's last output,
 * then its exit status or signal, then the close. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "handler/net/net.h"

/* Writes what the child's stdin takes now; keeps the rest in pend. */
void
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
			c->wr_broken = true;
			return;
		}
		c->pend_off += (size_t)w;
		c->fwd_in += (uint64_t)w;
	}
	c->pend_off = c->pend_len = 0;
	/* Take what libssh kept when the pipe was full; it only offers it
	 * again when the next packet arrives.  Also after the client closed
	 * the channel: libssh keeps a closed channel's unread data readable
	 * (its delayed close), and on_close dropped it where it has no
	 * reader (a terminal's hang-up, a session that ended). */
	while (c->lib_pending) {
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
				c->wr_broken = true;
				return;
			}
			c->pend_off += (size_t)w;
			c->fwd_in += (uint64_t)w;
		}
		c->pend_off = c->pend_len = 0;
	}
}

void
maybe_close_input(struct nchan *c)
{
	if (c->fwd) {
		/* One socket both ways: pass the EOF on, keep reading. */
		if (c->client_eof && !c->wr_shut && c->pend_len == 0 &&
		    !c->lib_pending) {
			shutdown(c->in_fd, SHUT_WR);
			c->wr_shut = true;
		}
		return;
	}
	if (c->client_eof && !c->pty && c->in_fd >= 0 && c->pend_len == 0 &&
	    !c->lib_pending) {
		if (c->reg_in)
			ssh_event_remove_fd(c->n->ev, c->in_fd);
		c->reg_in = 0;
		close(c->in_fd);
		c->in_fd = -1;
	}
}

int
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
		c->wr_broken = true;
		return (int)len;	/* stdin closed by the child */
	}
	c->fwd_in += (uint64_t)w;
	if ((uint32_t)w < len)
		c->lib_pending = true;
	return (int)w;
}

/* The client's EOF: the session's stdin closes once what is pending has
 * been written to it. */
void
on_eof(ssh_session s, ssh_channel ch, void *ud)
{
	struct nchan *c = ud;

	(void)s, (void)ch;
	c->client_eof = true;
	maybe_close_input(c);
}

/* Hands pending output to libssh; true when nothing is left pending. */
static bool flush_output(struct nchan *c);

bool
flush_output_pending(struct nchan *c)
{
	return flush_output(c);
}

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
	size_t want = win < c->obuf_size ? win : c->obuf_size;
	ssize_t r;

	if (!flush_output(c))
		return;
	if (want == 0)
		return;		/* wait for the client's window to open */
	do
		r = read(fd, c->obuf, want);
	while (r < 0 && errno == EINTR);
	if (r > 0) {
		c->fwd_out += (uint64_t)r;
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

	if (!c->started || c->finished || c->opening)
		return;
	if (c->pty || c->fwd) {
		/* One fd: one registration for both directions. */
		unsigned both = (c->out_eof ? 0 : want_out) | want_in;

		reg(n, c, c->in_fd, &c->reg_in, both);
		return;
	}
	reg(n, c, c->in_fd, &c->reg_in, want_in);
	reg(n, c, c->out_fd, &c->reg_out, want_out);
	reg(n, c, c->err_fd, &c->reg_err, want_err);
}

void
relay_unregister(struct nchan *c)
{
	reg(c->n, c, c->in_fd, &c->reg_in, 0);
	if (!c->pty && !c->fwd) {
		reg(c->n, c, c->out_fd, &c->reg_out, 0);
		reg(c->n, c, c->err_fd, &c->reg_err, 0);
	}
}

void
relay_close_fds(struct nchan *c)
{
	bool one_fd = c->pty || c->fwd;

	relay_unregister(c);
	if (c->in_fd >= 0)
		close(c->in_fd);
	if (!one_fd && c->out_fd >= 0)
		close(c->out_fd);
	if (c->err_fd >= 0)
		close(c->err_fd);
	c->in_fd = c->out_fd = c->err_fd = -1;
}

void
relay_close_output(struct nchan *c)
{
	reg(c->n, c, c->out_fd, &c->reg_out, 0);
	reg(c->n, c, c->err_fd, &c->reg_err, 0);
	if (c->out_fd >= 0)
		close(c->out_fd);
	if (c->err_fd >= 0)
		close(c->err_fd);
	c->out_fd = c->err_fd = -1;
	c->out_eof = c->err_eof = true;
	c->o_off = c->o_len = 0;
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
	relay_unregister(c);
}

void
relay_round(struct net *n)
{
	struct nchan *c, *next;

	for (c = n->chans; c; c = next) {
		next = c->next;
		if (c->opening) {
			/* Freed if the client refused it; once open, its
			 * descriptor is polled from this round on. */
			if (!fwd_try_open(c) || c->opening)
				continue;
		}
		if (c->o_len > 0 && !c->client_closed)
			flush_output(c);
		if (c->started && c->lib_pending && c->pend_len == 0) {
			flush_input(c);
			maybe_close_input(c);
		}
		if (c->fwd)
			fwd_maybe_finish(c);
		else
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
	relay_grow_windows(n);
}
