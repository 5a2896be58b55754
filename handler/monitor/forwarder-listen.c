/* The forwarder's listeners (forwarder.c): ssh -R's TCP ports and socket
 * paths, the agent's socket, X11 displays.  Each is made as the user, in
 * the forwarder, and every connection one accepts goes to the monitor as
 * INCOMING. */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "handler/monitor/forwarder-internal.h"

struct listener fwdr_listeners[MAX_LISTENERS];

int
fwdr_unix_addr(const char *path, struct sockaddr_un *sun, socklen_t *len)
{
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return 0;
}

static struct listener *
listener_new(uint32_t id)
{
	for (int i = 0; i < MAX_LISTENERS; i++)
		if (!fwdr_listeners[i].live) {
			struct listener *l = &fwdr_listeners[i];

			memset(l, 0, sizeof(*l));
			l->live = true;
			l->id = id;
			return l;
		}
	return NULL;
}

void
fwdr_listener_free(struct listener *l)
{
	for (size_t i = 0; i < l->nfds; i++)
		close(l->fds[i]);
	if (l->path[0])
		unlink(l->path);
	if (l->dir[0])
		rmdir(l->dir);
	l->live = false;
}

/* Every address of host (NULL: every address; "localhost": both
 * loopbacks), all on one port: the first one bound picks it when port is
 * 0.  The port bound, or -errno.
 *
 * A host name is looked up here, in the forwarder's loop, unlike a
 * connect's: a bind address is nearly always empty, "localhost" (neither
 * looked up) or numeric, a name only with GatewayPorts clientspecified,
 * and then one of this host's own, which /etc/hosts answers.  The wait
 * is the rare client's own, once per -R; the monitor bounds it
 * (FORWARDER_WAIT_MS). */
static int
listen_tcp(struct listener *l, const char *host, unsigned port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICSERV | (host == NULL ? AI_PASSIVE : 0) }, *res, *ai;
	char ps[16];
	int e = -EADDRNOTAVAIL, one = 1;

	snprintf(ps, sizeof(ps), "%u", port);
	if (getaddrinfo(host != NULL && strcmp(host, "localhost") == 0 ? NULL : host,
	    ps, &hints, &res) != 0)
		return -EADDRNOTAVAIL;
	for (ai = res; ai != NULL && l->nfds < MAX_LISTEN_FDS; ai = ai->ai_next) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);

		if (s < 0) {
			e = -errno;
			continue;
		}
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (port != 0) {
			if (ai->ai_family == AF_INET)
				((struct sockaddr_in *)ai->ai_addr)->sin_port = htons((uint16_t)port);
			else if (ai->ai_family == AF_INET6)
				((struct sockaddr_in6 *)ai->ai_addr)->sin6_port = htons((uint16_t)port);
		}
		if (bind(s, ai->ai_addr, ai->ai_addrlen) < 0 || listen(s, 128) < 0 ||
		    getsockname(s, (struct sockaddr *)&ss, &sl) < 0) {
			e = -errno;
			close(s);
			continue;
		}
		port = ntohs(ss.ss_family == AF_INET ?
		    ((struct sockaddr_in *)&ss)->sin_port :
		    ((struct sockaddr_in6 *)&ss)->sin6_port);
		l->fds[l->nfds++] = s;
	}
	freeaddrinfo(res);
	return l->nfds > 0 ? (int)port : e;
}

/* A listening socket at path, made under umask mask; with unlink_first,
 * whatever is at path is removed first, as sshd's unix_listener() does
 * (any file the user may remove: the forwarder runs as the user). */
static int
listen_unix(struct listener *l, const char *path, mode_t mask,
    bool unlink_first)
{
	struct sockaddr_un sun;
	socklen_t len;
	mode_t old_mask;
	int s, e = fwdr_unix_addr(path, &sun, &len);

	if (e < 0)
		return e;
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return -errno;
	/* A removal that fails leaves the file, and the bind below fails
	 * on it: the refusal says why. */
	if (unlink_first)
		(void)unlink(path);
	old_mask = umask(mask);
	if (bind(s, (struct sockaddr *)&sun, len) < 0) {
		e = -errno;
		umask(old_mask);
		close(s);
		return e;
	}
	umask(old_mask);
	if (listen(s, 128) < 0) {
		e = -errno;
		close(s);
		unlink(path);
		return e;
	}
	snprintf(l->path, sizeof(l->path), "%s", path);
	l->fds[l->nfds++] = s;
	return 0;
}

/* The agent's socket, as OpenSSH makes it: a fresh directory only the
 * user can enter, /tmp/ssh-XXXXXXXXXX/agent.PID. */
static int
listen_agent(struct listener *l)
{
	char path[sizeof(l->path)];
	int e;

	snprintf(l->dir, sizeof(l->dir), "/tmp/ssh-XXXXXXXXXX");
	if (mkdtemp(l->dir) == NULL) {
		l->dir[0] = '\0';
		return -errno;
	}
	snprintf(path, sizeof(path), "%s/agent.%d", l->dir, (int)getppid());
	/* Only the user may connect. */
	e = listen_unix(l, path, 0177, false);
	return e;
}

/* Every address of a display's port, bound: 0, -EADDRINUSE when the port
 * is taken (the next display is tried), or another -errno. */
static int
bind_display(struct listener *l, const struct addrinfo *res, bool localhost)
{
	int one = 1;

	for (const struct addrinfo *ai = res; ai != NULL && l->nfds < MAX_LISTEN_FDS;
	    ai = ai->ai_next) {
		int s, e;

		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
		if (s < 0) {
			/* A family this host does not have. */
			if (errno == EAFNOSUPPORT || errno == EINVAL)
				continue;
			return -errno;
		}
		if (ai->ai_family == AF_INET6)
			setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (localhost)
			setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(s, ai->ai_addr, ai->ai_addrlen) < 0) {
			e = errno;
			close(s);
			/* ::1 on a host whose loopback has only 127.0.0.1:
			 * sshd would fail every display there. */
			if (e == EADDRNOTAVAIL)
				continue;
			return -EADDRINUSE;
		}
		l->fds[l->nfds++] = s;
	}
	return l->nfds > 0 ? 0 : -EADDRNOTAVAIL;
}

/* The first free X11 display from first on, as sshd's
 * x11_create_display_inet finds it: port 6000 + N on both loopbacks
 * (localhost) or every address, IPv4 and IPv6; a display one of whose
 * addresses is taken is passed over.  The port, or -errno. */
static int
listen_x11(struct listener *l, bool localhost, unsigned first)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICSERV | (localhost ? 0 : AI_PASSIVE) }, *res;
	int e = -EADDRINUSE;

	for (unsigned n = first; n < X11_MAX_DISPLAYS; n++) {
		char ps[16];

		snprintf(ps, sizeof(ps), "%u", X11_PORT_BASE + n);
		if (getaddrinfo(NULL, ps, &hints, &res) != 0)
			return -EADDRNOTAVAIL;
		e = bind_display(l, res, localhost);
		freeaddrinfo(res);
		for (size_t i = 0; e == 0 && i < l->nfds; i++)
			if (listen(l->fds[i], 128) < 0)
				e = -errno;
		if (e == 0)
			return (int)(X11_PORT_BASE + n);
		for (size_t i = 0; i < l->nfds; i++)
			close(l->fds[i]);
		l->nfds = 0;
		if (e != -EADDRINUSE)
			return e;
	}
	return e;
}

void
fwdr_listen(int ctl, const struct ps_fwdr_listen *q)
{
	struct ps_fwdr_listening r = { .listener = q->listener, .path = "" };
	struct listener *l = listener_new(q->listener);
	int e;

	if (l == NULL)
		e = -EMFILE;
	else if (q->kind == PS_FWD_TCP)
		e = listen_tcp(l, q->host[0] ? q->host : NULL, q->port);
	else if (q->kind == PS_FWD_UNIX)
		e = listen_unix(l, q->host, (mode_t)q->mask, q->unlink_first);
	else if (q->kind == PS_FWD_X11)
		e = listen_x11(l, strcmp(q->host, "localhost") == 0, q->port);
	else
		e = listen_agent(l);
	if (e < 0) {
		r.err = (uint32_t)-e;
		if (l != NULL)
			fwdr_listener_free(l);
	} else {
		r.port = q->kind == PS_FWD_TCP || q->kind == PS_FWD_X11 ?
		    (uint32_t)e : 0;
		r.path = l->path;
	}
	ps_put_fwdr_listening(&fwdr_out, &r);
	fwdr_send(ctl);
}

void
fwdr_unlisten(const struct ps_fwdr_unlisten *q)
{
	for (int i = 0; i < MAX_LISTENERS; i++)
		if (fwdr_listeners[i].live && fwdr_listeners[i].id == q->listener)
			fwdr_listener_free(&fwdr_listeners[i]);
}

void
fwdr_accept(int ctl, struct listener *l, int lfd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[NI_MAXHOST] = "", port[NI_MAXSERV] = "0";
	int s = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);

	if (s < 0)
		return;
	if (ss.ss_family != AF_UNIX)
		getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port,
		    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV);
	ps_put_fwdr_incoming(&fwdr_out, &(struct ps_fwdr_incoming){ .listener = l->id,
	    .orig_host = host, .orig_port = (uint32_t)atoi(port), .n_fds = 1,
	    .fds = { s } });
	fwdr_send(ctl);
	close(s);
}
