/* Glob patterns, sshd-style pattern lists, and numeric address / CIDR
 * matching.  Pure functions: no I/O, no allocation, no logging. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/match.h"
#include "policy/util/decimal.h"

/* Longest single item of a pattern list.  Items are user names, group
 * names, addresses or environment names: anything longer is malformed. */
#define MATCH_ITEM_MAX 1024
/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128" is 49 bytes. */
#define CIDR_TEXT_MAX 64

/*
 * Iterative glob: on a mismatch after a '*', retry with the star absorbing
 * one more character.  Only the most recent star needs remembering, so the
 * cost is O(len(s) * len(pattern)) with no recursion: hostile patterns such
 * as "*a*a*a*a*b" cannot blow up the stack or the time exponentially.
 */
bool
match_pattern(const char *s, const char *pattern)
{
	const char *star_p = NULL, *star_s = NULL;

	if (s == NULL || pattern == NULL)
		return false;
	for (;;) {
		if (*pattern == '*') {
			while (*pattern == '*')
				pattern++;
			if (*pattern == '\0')
				return true;
			star_p = pattern;
			star_s = s;
			continue;
		}
		if (*s == '\0')
			return *pattern == '\0';
		if (*pattern != '\0' && (*pattern == '?' || *pattern == *s)) {
			s++;
			pattern++;
			continue;
		}
		if (star_p == NULL)
			return false;
		/* Let the last star swallow one more character and retry. */
		pattern = star_p;
		s = ++star_s;
	}
}

/* Copies the next comma-separated item of *list into buf.  Returns the
 * item length, or -1 if it does not fit (malformed list). */
static int
next_item(const char **list, char *buf, size_t buflen)
{
	const char *p = *list;
	size_t n = strcspn(p, ",");

	if (n >= buflen)
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	*list = p[n] == ',' ? p + n + 1 : p + n;
	return (int)n;
}

int
match_pattern_list(const char *s, const char *list)
{
	char item[MATCH_ITEM_MAX + 1];
	const char *p = list;
	int found = 0;

	if (s == NULL || list == NULL)
		return 0;
	while (*p != '\0') {
		const char *pat;
		bool neg;

		/* An overlong item can match nothing we accept: skip it rather
		 * than truncating it into a different pattern. */
		if (next_item(&p, item, sizeof(item)) < 0) {
			p += strcspn(p, ",");
			if (*p == ',')
				p++;
			continue;
		}
		neg = item[0] == '!';
		pat = neg ? item + 1 : item;
		if (*pat == '\0')
			continue;
		if (match_pattern(s, pat)) {
			if (neg)
				return -1;	/* a negated match always wins */
			found = 1;
		}
	}
	return found;
}

/* ------------------------------------------------------------------ */

static bool
is_v4_mapped(const uint8_t a[16])
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(a, prefix, sizeof(prefix)) == 0;
}

/* Parse without folding; used by cidr_parse, which folds itself so that
 * the prefix length can be adjusted with the address. */
static int
netaddr_parse_raw(const char *s, struct netaddr *ret)
{
	struct netaddr n;

	if (s == NULL || strnlen(s, INET6_ADDRSTRLEN + 1) > INET6_ADDRSTRLEN)
		return -EINVAL;
	memset(&n, 0, sizeof(n));
	if (inet_pton(AF_INET, s, n.a) == 1)
		n.family = AF_INET;
	else if (inet_pton(AF_INET6, s, n.a) == 1)
		n.family = AF_INET6;
	else
		return -EINVAL;
	*ret = n;
	return 0;
}

int
netaddr_parse(const char *s, struct netaddr *ret)
{
	struct netaddr n;
	int r;

	r = netaddr_parse_raw(s, &n);
	if (r < 0)
		return r;
	if (n.family == AF_INET6 && is_v4_mapped(n.a)) {
		/* An IPv4 peer on a dual-stack socket is still IPv4: bans,
		 * Match Address and from= must see one key for it. */
		memmove(n.a, n.a + 12, 4);
		memset(n.a + 4, 0, 12);
		n.family = AF_INET;
	}
	*ret = n;
	return 0;
}

int
netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *ret)
{
	struct netaddr n;

	if (sa == NULL)
		return -EINVAL;
	memset(&n, 0, sizeof(n));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;

		n.family = AF_INET;
		memcpy(n.a, &sin->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;

		memcpy(n.a, &sin6->sin6_addr, 16);
		if (is_v4_mapped(n.a)) {
			memmove(n.a, n.a + 12, 4);
			memset(n.a + 4, 0, 12);
			n.family = AF_INET;
		} else
			n.family = AF_INET6;
	} else
		return -EAFNOSUPPORT;
	*ret = n;
	return 0;
}

int
netaddr_format(const struct netaddr *a, char *buf, size_t len)
{
	if (a == NULL || buf == NULL || len == 0)
		return -EINVAL;
	if (a->family != AF_INET && a->family != AF_INET6)
		return -EAFNOSUPPORT;
	if (len > INT32_MAX)
		len = INT32_MAX;
	if (inet_ntop(a->family, a->a, buf, (socklen_t)len) == NULL)
		return -errno;
	return 0;
}

/* Strict decimal prefix length: digits only, no sign, no leading zeros
 * beyond "0" itself, at most max. */
static int
parse_prefix(const char *s, unsigned max, unsigned *ret)
{
	uint64_t v;

	if ((s[0] == '0' && s[1] != '\0') || decimal_parse(s, max, &v) < 0)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

int
cidr_parse(const char *s, struct netaddr *ret_net, unsigned *ret_len)
{
	char buf[CIDR_TEXT_MAX];
	struct netaddr n;
	const char *slash;
	size_t alen;
	unsigned len, max;

	if (s == NULL || strnlen(s, sizeof(buf)) >= sizeof(buf))
		return -EINVAL;
	slash = strchr(s, '/');
	alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (netaddr_parse_raw(buf, &n) < 0)
		return -EINVAL;
	max = n.family == AF_INET ? 32 : 128;
	if (slash == NULL)
		len = max;
	else if (parse_prefix(slash + 1, max, &len) < 0)
		return -EINVAL;
	/* ::ffff:a.b.c.d/N with N >= 96 is exactly an IPv4 network; below 96
	 * it stays IPv6 and, like ::/0, matches no IPv4 address. */
	if (n.family == AF_INET6 && is_v4_mapped(n.a) && len >= 96) {
		memmove(n.a, n.a + 12, 4);
		memset(n.a + 4, 0, 12);
		n.family = AF_INET;
		len -= 96;
	}
	if (ret_net != NULL)
		*ret_net = n;
	if (ret_len != NULL)
		*ret_len = len;
	return 0;
}

bool
cidr_contains(const struct netaddr *net, unsigned len, const struct netaddr *a)
{
	unsigned bytes, bits;

	if (net == NULL || a == NULL)
		return false;
	/* As sshd: families must agree, so "::/0" does not cover IPv4.
	 * Mapped networks of /96 and longer were folded to IPv4 already. */
	if (net->family != a->family)
		return false;
	if (len > (net->family == AF_INET ? 32u : 128u))
		return false;
	bytes = len / 8;
	bits = len % 8;
	if (memcmp(net->a, a->a, bytes) != 0)
		return false;
	if (bits != 0) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits));

		if ((net->a[bytes] & mask) != (a->a[bytes] & mask))
			return false;
	}
	return true;
}

static bool
has_glob(const char *s)
{
	return strpbrk(s, "*?") != NULL;
}

/*
 * Unlike sshd, an item that is neither a glob nor a valid address or CIDR
 * makes the whole list malformed: a typo such as "10.0.0.256" or
 * "10.0.0.0/33" must not silently turn into a pattern that never matches.
 * addr may be NULL to only validate the list.
 */
int
match_addr_list(const char *addr, const char *list)
{
	char item[CIDR_TEXT_MAX];
	char folded[INET6_ADDRSTRLEN];
	struct netaddr a, net;
	const char *p = list;
	bool have_addr = false;
	int found = 0, negated = 0;
	unsigned len;

	if (list == NULL || *list == '\0')
		return -EINVAL;
	if (addr != NULL && netaddr_parse(addr, &a) == 0 &&
	    netaddr_format(&a, folded, sizeof(folded)) == 0)
		have_addr = true;
	for (;;) {
		const char *it;
		bool neg, hit;

		if (next_item(&p, item, sizeof(item)) <= 0)
			return -EINVAL;	/* too long or empty */
		neg = item[0] == '!';
		it = neg ? item + 1 : item;
		if (*it == '\0')
			return -EINVAL;
		if (has_glob(it)) {
			if (strchr(it, '/') != NULL)
				return -EINVAL;
			/* Globs see the folded numeric form, so "10.*" also
			 * matches an IPv4 peer on a dual-stack socket. */
			hit = addr != NULL &&
			    match_pattern(have_addr ? folded : addr, it);
		} else {
			if (cidr_parse(it, &net, &len) < 0)
				return -EINVAL;
			hit = have_addr && cidr_contains(&net, len, &a);
		}
		/* Keep scanning after a hit: the whole list must be valid. */
		if (hit) {
			if (neg)
				negated = 1;
			else
				found = 1;
		}
		if (*p == '\0') {
			/* A trailing comma leaves an empty item. */
			if (p > list && p[-1] == ',')
				return -EINVAL;
			break;
		}
	}
	if (negated)
		return -1;
	return found;
}
