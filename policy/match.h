/* Patterns and address lists shared by Match blocks, from= options and ban
 * exemptions.  Pure functions: no I/O, no logging. */
#ifndef SSHAND_POLICY_MATCH_H
#define SSHAND_POLICY_MATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* Shell-style glob with '*' and '?', case-sensitive. */
bool match_pattern(const char *s, const char *pattern);

/* sshd's pattern list: comma-separated globs, "!pat" negates; a negated
 * match wins.  Returns 1 match, 0 no match, -1 negated match. */
int match_pattern_list(const char *s, const char *list);

/* An address in a list of globs and CIDRs ("10.0.0.0/8,!10.1.*,::1").
 * Returns 1 match, 0 no match, -1 negated match, -EINVAL malformed list. */
int match_addr_list(const char *addr, const char *list);

struct netaddr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t a[16];		/* network byte order; v4 in a[0..3] */
};

/* Parse a numeric address; v4-mapped IPv6 (::ffff:a.b.c.d) becomes AF_INET. */
int netaddr_parse(const char *s, struct netaddr *ret);
int netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *ret);
/* Numeric form; buf of at least 46 bytes. */
int netaddr_format(const struct netaddr *a, char *buf, size_t len);

/* "a.b.c.d/len" or "x::/len" (a bare address is a full-length prefix). */
int cidr_parse(const char *s, struct netaddr *ret_net, unsigned *ret_len);
bool cidr_contains(const struct netaddr *net, unsigned len, const struct netaddr *a);

#endif
