/* What the forwarder's two files share (forwarder.c: the loop, connects
 * and name lookups; forwarder-listen.c: the listeners).  Only the
 * forwarder process uses any of it. */
#ifndef SSHAND_HANDLER_MONITOR_FORWARDER_INTERNAL_H
#define SSHAND_HANDLER_MONITOR_FORWARDER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "handler/privsep/messages.h"

#define MAX_LISTENERS 64
#define MAX_LISTEN_FDS 4		/* a name's addresses */
/* X11 displays, as sshd numbers them: port 6000 + N, N below 1000. */
#define X11_PORT_BASE 6000
#define X11_MAX_DISPLAYS 1000

struct listener {
	bool live;
	uint32_t id;
	int fds[MAX_LISTEN_FDS];
	size_t nfds;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char dir[64];			/* the agent socket's own directory */
};

extern struct listener fwdr_listeners[MAX_LISTENERS];
/* The message being put together for the monitor, and its sending
 * (wiped after). */
extern struct ps_msg fwdr_out;
int fwdr_send(int ctl);

/* path as a sockaddr_un: 0, or -ENAMETOOLONG (also for ""). */
int fwdr_unix_addr(const char *path, struct sockaddr_un *sun, socklen_t *len);

/* LISTEN, answered LISTENING; UNLISTEN; a listener's descriptor lfd is
 * readable: the connection it accepted, as INCOMING. */
void fwdr_listen(int ctl, const struct ps_fwdr_listen *q);
void fwdr_unlisten(const struct ps_fwdr_unlisten *q);
void fwdr_accept(int ctl, struct listener *l, int lfd);
/* Closes l's sockets and removes its path and directory. */
void fwdr_listener_free(struct listener *l);

#endif
