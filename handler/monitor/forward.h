/* Forwarding on the monitor's side (internal to handler/monitor/):
 * forward.c decides each request by policy, audits it, and has the
 * forwarder (forwarder.c), the user's process, open the sockets. */
#ifndef SSHAND_HANDLER_MONITOR_FORWARD_H
#define SSHAND_HANDLER_MONITOR_FORWARD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "handler/monitor/auth.h"
#include "sandbox/sandbox.h"

struct monitor;

struct forwarder_spec {
	const struct user_info *user;
	enum sandbox_profile profile;
	struct sandbox_opts sandbox;
	struct sandbox_limits limits;
};

/* Forks the forwarder: it drops to the user, loads the profile and serves
 * the socketpair *ret_fd.  0 or -errno. */
int forwarder_start(const struct forwarder_spec *sp, pid_t *ret_pid, int *ret_fd);

/* The forwarder's descriptor for the monitor's poll, or -1. */
int monitor_forwarder_fd(const struct monitor *m);
/* It is readable: connections its listeners accepted. */
void monitor_forwarder_input(struct monitor *m);
/* SSH_AUTH_SOCK for the sessions, or NULL. */
const char *monitor_agent_socket(const struct monitor *m);
/* DISPLAY for the session of channel chan (its x11-req), or NULL. */
const char *monitor_x11_display(const struct monitor *m, uint32_t chan);
/* For that session's start: the client's X11 protocol and cookie, and
 * the display as xauth names it (spawn.h); false without x11-req. */
bool monitor_x11_auth(const struct monitor *m, uint32_t chan,
    const char **ret_proto, const char **ret_cookie, const char **ret_display);
/* The session ended: its display's listener closes (sshd closes it with
 * the session; X11 connections already open go on). */
void monitor_x11_session_end(struct monitor *m, uint32_t chan);
/* At the connection's end: the forwarder removes its sockets and ends;
 * open channels get their close records. */
void monitor_forward_end(struct monitor *m);

#endif
