/* Forwarding's policy in the monitor: whether a request of a kind, in a
 * direction, to or on host:port, is refused, and by what (OpenSSH's
 * keywords, the key's options, the sandbox profile). */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>

#include "handler/monitor/forward-internal.h"
#include "handler/monitor/monitor.h"
#include "policy/forward.h"

static struct strlist
key_list(char *const *v, size_t n)
{
	return (struct strlist){ (char **)v, n };
}

/* Why a forward of this kind, in this direction, to or on host:port is
 * refused, or NULL when it is allowed. */
const char *
fwd_refusal(struct monitor *m, enum ps_fwd_kind kind, unsigned dir, const char *host,
    uint32_t port)
{
	const struct settings *s = m->us;
	const struct authkey_opts *k = m->have_keyopts ? &m->keyopts : NULL;

	if (s->disable_forwarding)
		return "DisableForwarding";
	if (kind == PS_FWD_X11) {
		if (!s->x11_forwarding)
			return "X11Forwarding";
		if (k != NULL && k->no_x11_forwarding)
			return "no-x11-forwarding";
		/* The display's listener is an inet socket of the user's. */
		if (s->sandbox_profile == SANDBOX_STRICT)
			return "SandboxProfile strict";
		return NULL;
	}
	if (kind == PS_FWD_AGENT) {
		if (!s->allow_agent_forwarding)
			return "AllowAgentForwarding";
		if (k != NULL && k->no_agent_forwarding)
			return "no-agent-forwarding";
		return NULL;
	}
	if (k != NULL && k->no_port_forwarding)
		return "no-port-forwarding";
	if (kind == PS_FWD_UNIX) {
		if (!(s->allow_streamlocal_forwarding & dir))
			return "AllowStreamLocalForwarding";
		return NULL;
	}
	if (!(s->allow_tcp_forwarding & dir))
		return "AllowTcpForwarding";
	/* The forwarder runs under the user's profile: strict has no inet
	 * sockets (sshand.conf(5), SandboxProfile). */
	if (s->sandbox_profile == SANDBOX_STRICT)
		return "SandboxProfile strict";
	if (dir == FWD_LOCAL) {
		struct strlist kl = k ? key_list(k->permitopen, k->n_permitopen) :
		    (struct strlist){ 0 };

		if (!fwd_open_permitted(&s->permit_open, host, port))
			return "PermitOpen";
		if (kl.n > 0 && !fwd_open_permitted(&kl, host, port))
			return "permitopen";
	} else {
		struct strlist kl = k ? key_list(k->permitlisten, k->n_permitlisten) :
		    (struct strlist){ 0 };

		if (port != 0 && port < 1024 && m->user.uid != 0)
			return "privileged-port";
		if (port > 65535)
			return "bad-port";
		if (!fwd_listen_permitted(&s->permit_listen, host, port))
			return "PermitListen";
		if (kl.n > 0 && !fwd_listen_permitted(&kl, host, port))
			return "permitlisten";
	}
	return NULL;
}
