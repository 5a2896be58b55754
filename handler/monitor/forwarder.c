/* The forwarder: the one process of a connection that opens its
 * forwarding sockets.  It runs as the user, under the user's sandbox
 * profile, so that what forwarding reaches is what the user's own
 * programs reach: a connect() the profile forbids fails here, not in a
 * privileged process; the network child never gets connect, bind or
 * listen.  The monitor forks it (no exec: it runs a loop of its own; the
 * drop makes it not dumpable, so the user cannot read the monitor's
 * memory through it) at the first forwarding request, and asks:
 *
 *	CONNECT	  -> CONNECTED, with the connected socket, when the
 *		     connect is done (several run at once, none waited for)
 *	LISTEN	  -> LISTENING (the port bound; the agent socket's path;
 *		     an X11 display's port)
 *	UNLISTEN
 *
 * and the forwarder tells INCOMING, with the accepted socket, whenever a
 * listener takes a connection.  At the monitor's end of file it removes
 * the sockets it made in the file system and ends.
 *
 * No CONNECT waits: a host name is looked up by a child of the
 * forwarder's own (a fork, in which getaddrinfo() may take as long as
 * the DNS servers like), which sends the addresses over a pipe polled
 * with the connects.  A process rather than a thread because a lookup
 * past its time must be stopped: a process is killed and reaped, while a
 * thread inside getaddrinfo() cannot safely be cancelled (it may hold the
 * resolver's locks and memory) and would have to be left running; and
 * the forwarder stays single-threaded.  The child is the forwarder's
 * copy: the same user, seccomp profile and limits (fork, pipe2 and prctl
 * are in every profile forwarding runs under; under RLIMIT_NPROC the
 * fork may fail, and the open with it), not dumpable. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "handler/monitor/forward.h"
#include "handler/monitor/forwarder-internal.h"
#include "handler/monitor/fwd-addrs.h"
#include "handler/privsep/messages.h"

#define CONNECT_TIMEOUT_MS 10000
/* A name's lookup, as long as an address's connect: glibc's own default
 * (5 s, 2 attempts) gives a silent DNS server 10 s, and sshd, which
 * resolves in its one process, sets no bound at all.  The channel is
 * refused "name lookup timed out". */
#define LOOKUP_TIMEOUT_MS 10000

static struct ps_msg in;
struct ps_msg fwdr_out;

int
fwdr_send(int fd)
{
	int r = ps_send(fd, &fwdr_out);

	ps_wipe(&fwdr_out);
	return r;
}

/* A connect under way: its name being looked up (resolver > 0), or one
 * of its addresses connecting (fd >= 0).  Each is answered CONNECTED
 * when it is done, so a destination or a DNS server that never answers
 * holds up nothing else: the other connects, the listeners, LISTEN. */
struct connecting {
	bool live;
	uint32_t id;
	int fd;				/* the socket connecting, or -1 */
	pid_t resolver;			/* the lookup's child, or 0 */
	int rfd;			/* its pipe, or -1 */
	size_t rlen;			/* of its answer, read so far */
	/* One byte more than an answer may have: a full buffer is one
	 * too long. */
	uint8_t rbuf[FWD_ADDRS_MSG_MAX + 1];
	struct fwd_addrs addrs;		/* the destination's (TCP) */
	size_t next;			/* the first not tried yet */
	uint64_t deadline;		/* ms, CLOCK_MONOTONIC */
	int err;			/* the last address's errno */
};

static struct connecting connects[PS_MAX_FWD_PENDING];

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* CONNECTED: the socket (fd >= 0, ours: closed here), or err and the
 * words for it. */
static void
connected(int ctl, uint32_t id, int fd, int err, const char *error)
{
	struct ps_fwdr_connected r = { .id = id, .error = "" };

	if (fd >= 0) {
		r.n_fds = 1;
		r.fds[0] = fd;
	} else {
		r.err = (uint32_t)err;
		r.error = error != NULL ? error : strerror(err);
	}
	ps_put_fwdr_connected(&fwdr_out, &r);
	fwdr_send(ctl);
	if (fd >= 0)
		close(fd);
}

/* Ends c's lookup: the child killed (it may still be waiting on a silent
 * server; until reaped below its pid cannot be another process's, so the
 * kill reaches no one else) and reaped, its pipe closed. */
static void
lookup_end(struct connecting *c)
{
	if (c->rfd >= 0)
		close(c->rfd);
	c->rfd = -1;
	if (c->resolver > 0) {
		kill(c->resolver, SIGKILL);
		while (waitpid(c->resolver, NULL, 0) < 0 && errno == EINTR)
			;
	}
	c->resolver = 0;
}

static void
connect_free(struct connecting *c)
{
	lookup_end(c);
	if (c->fd >= 0)
		close(c->fd);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->rfd = -1;
}

/* c fails with err and the words for it (NULL: err's). */
static void
connect_refused(int ctl, struct connecting *c, int err, const char *error)
{
	connected(ctl, c->id, -1, err, error);
	connect_free(c);
}

/* Starts a connect to the next address of c, or answers: connected at
 * once, or no address left (the last one's error). */
static void
connect_next(int ctl, struct connecting *c)
{
	while (c->next < c->addrs.n) {
		const struct fwd_addr *a = &c->addrs.a[c->next++];
		int s;

		s = socket(a->family, a->socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, a->protocol);
		if (s < 0) {
			c->err = errno;
			continue;
		}
		if (connect(s, &a->u.sa, a->len) == 0) {
			connected(ctl, c->id, s, 0, NULL);
			connect_free(c);
			return;
		}
		if (errno == EINPROGRESS) {
			c->fd = s;
			c->deadline = now_ms() + CONNECT_TIMEOUT_MS;
			return;
		}
		c->err = errno;
		close(s);
	}
	connect_refused(ctl, c, c->err, NULL);
}

/* c's addresses are known (c->addrs): the first connect, or the lookup's
 * error. */
static void
connect_start(int ctl, struct connecting *c)
{
	const struct fwd_addrs *a = &c->addrs;

	if (a->gai != 0) {
		connect_refused(ctl, c, EHOSTUNREACH, a->gai == EAI_SYSTEM ?
		    strerror(a->err) : gai_strerror(a->gai));
		return;
	}
	c->next = 0;
	connect_next(ctl, c);
}

/* Its pipe is readable (or closed): more of the child's answer, or all
 * of it, decoded.  A child that ended without a whole answer (killed,
 * out of memory) or with a malformed one failed its lookup. */
static void
lookup_input(int ctl, struct connecting *c)
{
	ssize_t r;

	for (;;) {
		r = read(c->rfd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;	/* the rest is still to come */
		if (r <= 0)
			break;
		c->rlen += (size_t)r;
		if (c->rlen == sizeof(c->rbuf))
			break;	/* too long: decoding refuses it */
	}
	lookup_end(c);
	if (r < 0 || fwd_addrs_decode(c->rbuf, c->rlen, &c->addrs) < 0) {
		connect_refused(ctl, c, EHOSTUNREACH,
		    "name lookup failed: no answer from the resolver");
		return;
	}
	connect_start(ctl, c);
}

_Static_assert(FWD_ADDRS_MSG_MAX <= PIPE_BUF, "an answer is one atomic write");

/* The resolver child: looks host up, writes the answer to wfd and ends.
 * It keeps no other descriptor of the forwarder's (a listener closed
 * there must stop listening, a connect given up must close, whatever the
 * lookup is doing) and ends with the forwarder (the user may kill that:
 * a lookup nobody waits for must not go on). */
static void __attribute__((noreturn))
resolver(int wfd, pid_t parent, const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICSERV }, *res = NULL;
	struct fwd_addrs a;
	uint8_t msg[FWD_ADDRS_MSG_MAX];
	size_t len, off = 0;
	int g;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(1);
	if (dup2(wfd, 3) < 0)
		_exit(1);
	closefrom(4);
	g = getaddrinfo(host, port, &hints, &res);
	fwd_addrs_from_ai(&a, g, g == EAI_SYSTEM ? errno : 0, res);
	/* At most PIPE_BUF bytes: one write, whole, into an empty pipe. */
	len = fwd_addrs_encode(&a, msg);
	while (off < len) {
		ssize_t w = write(3, msg + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	_exit(0);
}

/* Forks c's lookup of host (port: its decimal service).  0 or -errno. */
static int
lookup_start(struct connecting *c, const char *host, const char *port)
{
	pid_t self = getpid();
	int p[2], e;

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	c->resolver = fork();
	if (c->resolver < 0) {
		e = -errno;
		c->resolver = 0;
		close(p[0]);
		close(p[1]);
		return e;
	}
	if (c->resolver == 0)
		resolver(p[1], self, host, port);
	close(p[1]);
	c->rfd = p[0];
	c->rlen = 0;
	c->deadline = now_ms() + LOOKUP_TIMEOUT_MS;
	return 0;
}

/* The address being tried failed with err: the next one, or the answer. */
static void
connect_failed(int ctl, struct connecting *c, int err)
{
	c->err = err;
	close(c->fd);
	c->fd = -1;
	connect_next(ctl, c);
}

/* Its socket is writable (or broke): connected, or the next address. */
static void
connect_done(int ctl, struct connecting *c)
{
	int err = 0;
	socklen_t el = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		err = errno;
	if (err == 0) {
		connected(ctl, c->id, c->fd, 0, NULL);
		c->fd = -1;
		connect_free(c);
		return;
	}
	connect_failed(ctl, c, err);
}

/* Connects past their time give up on that address; lookups past theirs
 * give up on the name. */
static void
connect_timeouts(int ctl)
{
	uint64_t now = now_ms();

	for (int i = 0; i < PS_MAX_FWD_PENDING; i++) {
		struct connecting *c = &connects[i];

		if (!c->live || (c->fd < 0 && c->rfd < 0) || now < c->deadline)
			continue;
		if (c->fd >= 0) {
			connect_failed(ctl, c, ETIMEDOUT);
			continue;
		}
		/* The child gone before the answer: when the monitor
		 * records the refusal, nothing of the lookup is left. */
		lookup_end(c);
		connect_refused(ctl, c, ETIMEDOUT, "name lookup timed out");
	}
}

/* The poll timeout until the first connect's or lookup's deadline, or
 * -1. */
static int
connect_wait_ms(void)
{
	uint64_t now = now_ms(), first = UINT64_MAX;

	for (int i = 0; i < PS_MAX_FWD_PENDING; i++)
		if (connects[i].live && (connects[i].fd >= 0 ||
		    connects[i].rfd >= 0) && connects[i].deadline < first)
			first = connects[i].deadline;
	if (first == UINT64_MAX)
		return -1;
	return first <= now ? 0 : (int)(first - now);
}

/* A Unix socket's connect does not wait: a listener whose queue is full
 * refuses it (EAGAIN), as sshd's non-blocking connect does. */
static void
connect_unix(int ctl, uint32_t id, const char *path)
{
	struct sockaddr_un sun;
	socklen_t len;
	int s, e = fwdr_unix_addr(path, &sun, &len);

	if (e < 0) {
		connected(ctl, id, -1, -e, NULL);
		return;
	}
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0) {
		connected(ctl, id, -1, errno, NULL);
		return;
	}
	if (connect(s, (struct sockaddr *)&sun, len) < 0) {
		e = errno;
		close(s);
		connected(ctl, id, -1, e, NULL);
		return;
	}
	connected(ctl, id, s, 0, NULL);
}

/* A numeric address connects at once; a name is looked up first, by a
 * child (lookup_start), its answer taken in serve()'s poll.  Either way
 * the open holds one of the PS_MAX_FWD_PENDING slots until answered. */
static void
do_connect(int ctl, const struct ps_fwdr_connect *q)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICSERV | AI_NUMERICHOST }, *res = NULL;
	struct connecting *c = NULL;
	char port[16];
	int g, e;

	if (q->kind == PS_FWD_UNIX) {
		connect_unix(ctl, q->id, q->host);
		return;
	}
	/* The monitor keeps no more than this many asked. */
	for (int i = 0; i < PS_MAX_FWD_PENDING && c == NULL; i++)
		if (!connects[i].live)
			c = &connects[i];
	if (c == NULL) {
		connected(ctl, q->id, -1, EAGAIN, NULL);
		return;
	}
	c->live = true;
	c->id = q->id;
	c->err = ECONNREFUSED;
	snprintf(port, sizeof(port), "%u", q->port);
	/* AI_NUMERICHOST: no lookup, no wait. */
	g = getaddrinfo(q->host, port, &hints, &res);
	if (g != EAI_NONAME) {
		fwd_addrs_from_ai(&c->addrs, g, g == EAI_SYSTEM ? errno : 0,
		    res);
		if (g == 0)
			freeaddrinfo(res);
		connect_start(ctl, c);
		return;
	}
	e = lookup_start(c, q->host, port);
	if (e < 0) {
		char why[128];

		snprintf(why, sizeof(why), "name lookup failed: %s",
		    strerror(-e));
		connect_refused(ctl, c, -e, why);
	}
}

#define MAX_POLL (1 + MAX_LISTENERS * MAX_LISTEN_FDS + PS_MAX_FWD_PENDING)

static void __attribute__((noreturn))
serve(int ctl)
{
	for (int i = 0; i < PS_MAX_FWD_PENDING; i++)
		connects[i].fd = connects[i].rfd = -1;
	for (;;) {
		struct pollfd p[MAX_POLL];
		struct listener *who[MAX_POLL];
		struct connecting *conn[MAX_POLL], *look[MAX_POLL];
		nfds_t n = 1;
		int r;

		p[0] = (struct pollfd){ .fd = ctl, .events = POLLIN };
		for (int i = 0; i < MAX_LISTENERS; i++)
			for (size_t j = 0; fwdr_listeners[i].live && j < fwdr_listeners[i].nfds; j++) {
				who[n] = &fwdr_listeners[i];
				conn[n] = look[n] = NULL;
				p[n++] = (struct pollfd){ .fd = fwdr_listeners[i].fds[j],
				    .events = POLLIN };
			}
		/* A slot connects or looks up, never both: one entry. */
		for (int i = 0; i < PS_MAX_FWD_PENDING; i++)
			if (connects[i].live && connects[i].fd >= 0) {
				who[n] = NULL;
				conn[n] = &connects[i];
				look[n] = NULL;
				p[n++] = (struct pollfd){ .fd = connects[i].fd,
				    .events = POLLOUT };
			} else if (connects[i].live && connects[i].rfd >= 0) {
				who[n] = NULL;
				conn[n] = NULL;
				look[n] = &connects[i];
				p[n++] = (struct pollfd){ .fd = connects[i].rfd,
				    .events = POLLIN };
			}
		r = poll(p, n, connect_wait_ms());
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		for (nfds_t i = 1; i < n; i++) {
			if (who[i] != NULL && (p[i].revents & POLLIN))
				fwdr_accept(ctl, who[i], p[i].fd);
			else if (conn[i] != NULL && p[i].revents != 0)
				connect_done(ctl, conn[i]);
			else if (look[i] != NULL && p[i].revents != 0)
				lookup_input(ctl, look[i]);
		}
		connect_timeouts(ctl);
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (ps_recv(ctl, &in, 0) < 0)
			break;	/* the monitor's end: the connection is over */
		ps_clear_fds(&in);
		switch (ps_type(&in)) {
		case PS_FWDR_CONNECT: {
			struct ps_fwdr_connect q;

			if (ps_get_fwdr_connect(&in, &q) == 0)
				do_connect(ctl, &q);
			break;
		}
		case PS_FWDR_LISTEN: {
			struct ps_fwdr_listen q;

			if (ps_get_fwdr_listen(&in, &q) == 0)
				fwdr_listen(ctl, &q);
			break;
		}
		case PS_FWDR_UNLISTEN: {
			struct ps_fwdr_unlisten q;

			if (ps_get_fwdr_unlisten(&in, &q) == 0)
				fwdr_unlisten(&q);
			break;
		}
		default:
			break;
		}
		ps_wipe(&in);
	}
	for (int i = 0; i < MAX_LISTENERS; i++)
		if (fwdr_listeners[i].live)
			fwdr_listener_free(&fwdr_listeners[i]);
	/* No lookup outlives us (PR_SET_PDEATHSIG would end them too, but
	 * as zombies of the monitor's to reap). */
	for (int i = 0; i < PS_MAX_FWD_PENDING; i++)
		if (connects[i].live)
			connect_free(&connects[i]);
	_exit(0);
}

int
forwarder_start(const struct forwarder_spec *sp, pid_t *ret_pid, int *ret_fd)
{
	int sv[2], null;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int e = -errno;

		close(sv[0]);
		close(sv[1]);
		return e;
	}
	if (pid == 0) {
		struct sigaction dfl = { .sa_handler = SIG_DFL };
		struct sigaction ign = { .sa_handler = SIG_IGN };
		sigset_t none;

		for (int s = 1; s < NSIG; s++)
			sigaction(s, &dfl, NULL);
		/* The connection's end reaches us as the monitor's end of
		 * file, after which we remove our sockets; the hang-up the
		 * sessions get must not cut that short. */
		sigaction(SIGHUP, &ign, NULL);
		sigaction(SIGPIPE, &ign, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setsid();
		null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
		    dup2(null, 2) < 0 || dup2(sv[1], 3) < 0)
			_exit(126);
		closefrom(4);
		umask(077);
		if (sandbox_set_limits(&sp->limits) < 0 ||
		    sandbox_drop_to_user(sp->user->uid, sp->user->gid,
		    sp->user->groups, sp->user->ngroups) < 0)
			_exit(126);
		if (chdir(sp->user->dir) < 0 && chdir("/") < 0)
			_exit(126);
		if (sandbox_apply_profile(sp->profile, &sp->sandbox) < 0)
			_exit(126);
		serve(3);
	}
	close(sv[1]);
	*ret_pid = pid;
	*ret_fd = sv[0];
	return 0;
}
