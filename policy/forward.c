/* Forwarding policy: see forward.h.  The syntax is OpenSSH's hpdelim() and
 * permitopen_port() (misc.c), the matching its open_match() and
 * remote_open_match() (channels.c), the bind address its
 * channel_fwd_bind_addr(). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "policy/forward.h"
#include "policy/match.h"
#include "policy/util/decimal.h"

#define PORT_ANY 0u		/* an entry's '*' (its numbers are 1..65535) */
#define PORT_MAX 65535u

/* A host as an entry or a request may write it: printable ASCII with no
 * blank, and none of the characters that delimit it. */
static bool
host_char_ok(char c)
{
	return c > ' ' && c < 0x7f && strchr("[]:/", c) == NULL;
}

/* Cuts spec into its host (brackets removed, into host[FWD_HOST_MAX + 1])
 * and its port.  0 or -EINVAL. */
static int
parse_entry(const char *spec, unsigned flags, char *host, unsigned *ret_port)
{
	const char *h = spec, *end, *port;
	uint64_t v;
	size_t n;

	if ((flags & FWD_SPEC_LISTEN) && strpbrk(spec, ":/[]") == NULL) {
		/* A bare port: every host (OpenSSH writes it "*:port"). */
		h = "*";
		end = h + 1;
		port = spec;
	} else if (*spec == '[') {
		h = spec + 1;
		if ((end = strchr(h, ']')) == NULL)
			return -EINVAL;
		port = end + 1;
		if (*port != ':' && !(*port == '/' && (flags & FWD_SPEC_SLASH)))
			return -EINVAL;
		port++;
	} else {
		end = h + strcspn(h, ":/");
		port = end;
		if (*port != ':' && !(*port == '/' && (flags & FWD_SPEC_SLASH)))
			return -EINVAL;
		port++;
	}
	n = (size_t)(end - h);
	if (n > FWD_HOST_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!host_char_ok(h[i]) && !(spec[0] == '[' && h[i] == ':'))
			return -EINVAL;
	if (strcmp(port, "*") == 0)
		*ret_port = PORT_ANY;
	else if (decimal_parse(port, PORT_MAX, &v) == 0 && v > 0)
		*ret_port = (unsigned)v;
	else
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	return 0;
}

int
fwd_permit_canon(const char *spec, unsigned flags, char *buf, size_t len)
{
	char host[FWD_HOST_MAX + 1];
	bool bracket;
	unsigned port;
	int n;

	if (spec == NULL || buf == NULL ||
	    parse_entry(spec, flags, host, &port) < 0)
		return -EINVAL;
	bracket = spec[0] == '[';
	if (port == PORT_ANY)
		n = snprintf(buf, len, "%s%s%s:*", bracket ? "[" : "", host,
		    bracket ? "]" : "");
	else
		n = snprintf(buf, len, "%s%s%s:%u", bracket ? "[" : "", host,
		    bracket ? "]" : "", port);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* Lower-cased s into buf[FWD_HOST_MAX + 1]; false if s is too long. */
static bool
lower(const char *s, char *buf)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i == FWD_HOST_MAX)
			return false;
		buf[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] | 0x20) : s[i];
	}
	buf[i] = '\0';
	return true;
}

/* Empty, or "any" in it: everything is allowed without matching. */
static bool
allows_all(const struct strlist *perms)
{
	if (perms == NULL || perms->n == 0)
		return true;
	for (size_t i = 0; i < perms->n; i++)
		if (perms->v[i] != NULL && strcmp(perms->v[i], "any") == 0)
			return true;
	return false;
}

bool
fwd_open_permitted(const struct strlist *perms, const char *host,
    unsigned port)
{
	char h[FWD_HOST_MAX + 1];
	unsigned p;

	if (host == NULL || port > PORT_MAX)
		return false;
	if (allows_all(perms))
		return true;
	for (size_t i = 0; i < perms->n; i++) {
		/* "none" and anything unparsable match nothing. */
		if (perms->v[i] == NULL ||
		    parse_entry(perms->v[i], FWD_SPEC_SLASH, h, &p) < 0)
			continue;
		if (p != PORT_ANY && p != port)
			continue;
		if (strcmp(h, "*") == 0 || strcasecmp(h, host) == 0)
			return true;
	}
	return false;
}

bool
fwd_listen_permitted(const struct strlist *perms, const char *host,
    unsigned port)
{
	char want[FWD_HOST_MAX + 1], h[FWD_HOST_MAX + 1], pat[FWD_HOST_MAX + 1];
	unsigned p;

	if (host == NULL || port > PORT_MAX)
		return false;
	if (allows_all(perms))
		return true;
	if (!lower(host, want))
		return false;
	for (size_t i = 0; i < perms->n; i++) {
		if (perms->v[i] == NULL ||
		    parse_entry(perms->v[i], FWD_SPEC_LISTEN, h, &p) < 0)
			continue;
		/* Port 0 asks the server to pick one: only '*' covers it. */
		if (p != PORT_ANY && p != port)
			continue;
		if (lower(h, pat) && match_pattern(want, pat))
			return true;
	}
	return false;
}

void
fwd_bind_addr(enum gateway_ports gp, const char *host, const char **ret)
{
	const char *addr = "localhost";

	if (ret == NULL)
		return;
	if (host == NULL) {
		/* No address named: GatewayPorts alone decides. */
		if (gp != GATEWAY_NO)
			addr = NULL;
	} else if (gp == GATEWAY_YES) {
		addr = NULL;
	} else if (gp == GATEWAY_CLIENTSPECIFIED) {
		if (*host == '\0' || strcmp(host, "*") == 0)
			addr = NULL;
		else if (strcmp(host, "localhost") != 0)
			addr = host;
	} else if (strcmp(host, "127.0.0.1") == 0 || strcmp(host, "::1") == 0) {
		/* Lets a client pick the family even with GatewayPorts no. */
		addr = host;
	}
	*ret = addr;
}
