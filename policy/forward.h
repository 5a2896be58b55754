/* Forwarding policy: which forwards PermitOpen, PermitListen and the
 * permitopen=/permitlisten= options of authorized_keys allow, and the
 * address GatewayPorts makes a remote forward listen on.  OpenSSH's rules
 * (channels.c), as pure functions: no name lookup, no I/O, no logging.
 *
 * A request must pass the server's list and, when the key that logged in
 * has one, the key's list too (an empty list allows everything), as sshd
 * checks both.  Whether a kind of forwarding is allowed at all is the
 * settings' (DisableForwarding first, then AllowTcpForwarding, ...) and
 * the key's no-port-forwarding; these functions do not look at them. */
#ifndef SSHAND_POLICY_FORWARD_H
#define SSHAND_POLICY_FORWARD_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/config.h"

/* AllowTcpForwarding and AllowStreamLocalForwarding: a mask of the
 * directions allowed (yes and all: both; no: 0). */
#define FWD_LOCAL 1u	/* opened from the client's side: ssh -L, -D, -W */
#define FWD_REMOTE 2u	/* listened for on the server: ssh -R */

/* The longest host of an entry or a request: NI_MAXHOST less its NUL, the
 * bound OpenSSH puts on permitopen=. */
#define FWD_HOST_MAX 1024

/* fwd_permit_canon()'s flags: a bare port is "*:port" (PermitListen,
 * permitlisten=); "host/port" is host:port (authorized_keys' permitopen=,
 * as OpenSSH's hpdelim2). */
#define FWD_SPEC_LISTEN 1u
#define FWD_SPEC_SLASH 2u

/* One entry of PermitOpen or PermitListen, or one permitopen= or
 * permitlisten= value: host:port or [address]:port, where host is
 * printable ASCII without blanks (it may be empty, '*', or for
 * PermitListen a pattern) and port is a number (1..65535) or '*'.
 * Checked, and written into buf as it is stored and compared: "host:port",
 * brackets kept, the port in decimal or '*', a bare port (FWD_SPEC_LISTEN)
 * as "*:port".  Port names (ssh for 22), which sshd looks up in
 * /etc/services, are refused: a check that needs a lookup could not run in
 * the chrooted network child.  "any" and "none" are not entries but words
 * of the keyword.  0, -EINVAL when malformed, -ENAMETOOLONG when buf is
 * too small. */
int fwd_permit_canon(const char *spec, unsigned flags, char *buf, size_t len);

/* PermitOpen (the server's list, or a key's permitopen= list): may a
 * direct-tcpip channel to host:port, as the client named it, be opened?
 * An empty list allows everything, "none" nothing, "any" everything.  An
 * entry's host '*' is any host, otherwise the names are compared as
 * written (no lookup, so 127.0.0.1 is not localhost), ignoring case; an
 * entry's port '*' is any port.  A port above 65535 is never allowed. */
bool fwd_open_permitted(const struct strlist *perms, const char *host,
    unsigned port);

/* PermitListen (or a key's permitlisten=): may a remote forward listen on
 * host:port, host being the address the client asked for ("" and "*" for
 * every address, "localhost", an address or a name)?  As OpenSSH's
 * check_rfwd_permission: the entry's host is a pattern ('*', '?') matched
 * against the requested host, ignoring case, a bare port being "*:port"
 * (any host); its port is that port or '*'.  A request for port 0 (the
 * server picks one) is allowed only by an entry with port '*'.  Checked
 * before GatewayPorts changes the address: "localhost" does not match an
 * entry for 127.0.0.1.  Empty list, "any", "none": as fwd_open_permitted. */
bool fwd_listen_permitted(const struct strlist *perms, const char *host,
    unsigned port);

/* The address a remote forward binds, as OpenSSH's channel_fwd_bind_addr:
 * with GatewayPorts no, the loopback whatever the client asked, except
 * that an explicit 127.0.0.1 or ::1 is kept (one family); yes, every
 * address; clientspecified, the client's: "" or "*" every address,
 * "localhost" the loopback, anything else itself.  *ret is NULL for every
 * address (INADDR_ANY and in6addr_any), the static string "localhost" for
 * the loopback addresses of both families (127.0.0.1 and ::1: what
 * getaddrinfo(NULL, port) without AI_PASSIVE gives, no lookup needed), or
 * host itself (a numeric address, or a name for clientspecified). */
void fwd_bind_addr(enum gateway_ports gp, const char *host, const char **ret);

#endif
