/* The receive window of each channel, grown past libssh's own.
 *
 * libssh 0.10 offers a channel's sender at most about 1.28 MB, and grows
 * it only when it falls below 640 kB (channels.c grow_window, WINDOWBASE
 * and WINDOWLIMIT), so an upload over a long round trip waits on window
 * adjustments: at 50 ms it ran at a third of OpenSSH's speed, whose
 * sessions get 2 MiB.  0.10 has no setting for it; what it has is
 * ssh_channel_read_timeout(), which grows the window to the count it is
 * asked for whenever that exceeds the data buffered plus the window
 * (channels.c, "count > ssh_buffer_get_len(stdbuf) + channel->local_window"),
 * and the window is the channel's, whichever stream is read.  So a read of
 * WINDOW bytes from the stderr stream, which our data callback always
 * leaves empty (a client's stderr on a session means nothing), with a
 * timeout of 0, sends the window adjustment and reads nothing; the one
 * pass of packet handling it does is what the event loop does anyway.
 *
 * Only when the session takes what comes (nothing pending towards it)
 * and has shown that it reads, so that a reader stalled from the start
 * never gets more than libssh's own window buffered; and within a budget
 * for the whole connection, since each window is memory a client may
 * fill (a reader that stalls later): past it, channels keep libssh's
 * window. */
#define _GNU_SOURCE
#include <stdint.h>

#include "handler/net/net.h"

/* Twice OpenSSH's session window: in flight between 3 and 4 MiB, topped
 * up after each quarter is consumed (a window adjustment per MiB).  The
 * first time only once the session has taken half a MiB: one that never
 * reads its input (sleep, a stuck program) keeps libssh's window. */
#define WINDOW		(4u * 1024 * 1024)
#define TOPUP_AFTER	(WINDOW / 4)
#define FIRST_AFTER	(512u * 1024)
/* What all grown windows may hold at once: 16 channels' worth. */
#define WINDOW_BUDGET	(64u * 1024 * 1024)

static bool
takes_input(const struct nchan *c)
{
	return c->started && !c->finished && !c->client_closed && !c->client_eof &&
	    !c->opening && c->in_fd >= 0 && !c->wr_broken && c->pend_len == 0 &&
	    !c->lib_pending;
}

void
relay_grow_windows(struct net *n)
{
	/* Room for what it may copy if the stream ever held data: in .bss
	 * and never touched otherwise, so it costs no memory. */
	static uint8_t none[WINDOW];
	uint64_t budget = WINDOW_BUDGET;
	struct nchan *c;

	for (c = n->chans; c != NULL; c = c->next) {
		if (!c->window_grown || c->client_closed || c->finished)
			continue;
		budget = budget > WINDOW ? budget - WINDOW : 0;
	}
	for (c = n->chans; c != NULL; c = c->next) {
		bool first = !c->window_grown;

		if (!takes_input(c))
			continue;
		if (first ? budget < WINDOW || c->fwd_in < FIRST_AFTER :
		    c->fwd_in - c->window_mark < TOPUP_AFTER)
			continue;
		/* Reads nothing (the stderr stream stays empty); grows the
		 * window to WINDOW if it is below. */
		if (ssh_channel_read_timeout(c->ch, none, WINDOW, 1, 0) < 0)
			continue;	/* the session's state says why, next round */
		c->window_mark = c->fwd_in;
		if (first) {
			c->window_grown = true;
			budget -= WINDOW;
		}
	}
}
