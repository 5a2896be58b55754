/* Internal to handler/monitor/forward*.c and x11.c: forwarding's state
 * in the monitor, and what its files share. */
#ifndef SSHAND_HANDLER_MONITOR_FORWARD_INTERNAL_H
#define SSHAND_HANDLER_MONITOR_FORWARD_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "handler/front/audit.h"
#include "handler/monitor/monitor.h"
#include "handler/privsep/messages.h"

#define MAX_FWD_LISTENERS 64
#define MAX_FWD_OPEN 512
/* Bounds the monitor's wait for the forwarder's answer to LISTEN (it
 * answers at once; CONNECT is answered when done, and never waited for):
 * a forwarder the user stopped does not hang the connection. */
#define FORWARDER_WAIT_MS 15000
#define FWD_ID_MONITOR 0x80000000u
/* sshd's MAX_DISPLAYS: displays are numbered below it. */
#define X11_MAX_DISPLAYS 1000
#define X11_PORT_BASE 6000

struct fwd_listener {
	bool live;
	uint32_t id;
	enum ps_fwd_kind kind;
	char *host;			/* as the client asked */
	uint32_t port;			/* as asked (0: any) */
	uint32_t bound;			/* the port bound */
	bool single;			/* X11 single-connection */
};

/* An x11-req granted: the session channel's display. */
struct fwd_x11 {
	bool live;
	uint32_t chan;			/* the session channel */
	uint32_t listener;		/* its listener's id */
	char *proto, *cookie;		/* the client's, for xauth */
	char *display;			/* DISPLAY */
	char *auth_display;		/* the name xauth is given */
};

struct fwd_chan {
	uint32_t id;
	const char *kind;
	char *origin, *dest;
	uint64_t start;
	bool confirmed;			/* the client accepted it (ours) */
	bool pending;			/* the child's: the forwarder still
					 * connecting, FWD_OPENED not sent */
};

struct forwarding {
	pid_t pid;
	int fd;				/* -1: not started, or gone */
	bool failed;
	uint32_t next_listener, next_id;
	struct fwd_listener l[MAX_FWD_LISTENERS];
	struct fwd_chan *open[MAX_FWD_OPEN];
	unsigned npending;		/* of them pending */
	char *agent_sock;
	struct fwd_x11 x11[MAX_SESSIONS];
};

/* The message to and from the forwarder (forwarder_call). */
extern struct ps_msg fwd_in, fwd_out;

/* m->fwd, made at first use; NULL when out of memory. */
struct forwarding *fwd_state(struct monitor *m);
/* "host:port" ("[v6]:port"), or a socket path: a fresh string or NULL. */
char *fwd_endpoint(const char *host, uint32_t port, bool unix_path);
/* One forward-* record; id -1: none (a listener). */
void audit_fwd(struct monitor *m, enum audit_event ev, int64_t id, const char *kind,
    const char *origin, const char *dest, const char *reason);
/* forward-policy.c: why this forward is refused, or NULL. */
const char *fwd_refusal(struct monitor *m, enum ps_fwd_kind kind, unsigned dir,
    const char *host, uint32_t port);
/* The forwarder, started if need be: false when it cannot be had. */
bool forwarder_ready(struct monitor *m);
/* Sends fwd_out, waits for the answer of type want into fwd_in (passing
 * on connections accepted meanwhile); -1 if the forwarder is gone. */
int forwarder_call(struct monitor *m, unsigned want);
struct fwd_listener *listener_by_id(struct forwarding *fw, uint32_t id);
/* Tells the forwarder to close it, and forgets it. */
void listener_close(struct monitor *m, struct fwd_listener *l);
/* The answer to FWD_LISTEN and FWD_UNLISTEN (and X11_REQ). */
void fwd_listening(struct monitor *m, bool ok, uint32_t port, const char *error);
/* x11.c */
struct fwd_x11 *x11_by_chan(const struct forwarding *fw, uint32_t chan);
void x11_free(struct fwd_x11 *x);

#endif
