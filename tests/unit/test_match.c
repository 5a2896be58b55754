/* Unit tests for policy/match.c: globs, pattern lists, addresses, CIDRs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/match.h"

static void
test_glob_basic(void **state)
{
	(void)state;
	assert_true(match_pattern("", ""));
	assert_true(match_pattern("", "*"));
	assert_true(match_pattern("", "***"));
	assert_false(match_pattern("", "?"));
	assert_false(match_pattern("a", ""));
	assert_true(match_pattern("alice", "alice"));
	assert_false(match_pattern("alice", "Alice"));	/* case-sensitive */
	assert_true(match_pattern("alice", "a*"));
	assert_true(match_pattern("alice", "*e"));
	assert_true(match_pattern("alice", "a?i?e"));
	assert_false(match_pattern("alice", "a?i?"));
	assert_true(match_pattern("alice", "*l*c*"));
	assert_false(match_pattern("alice", "*x*"));
	assert_true(match_pattern("a*b", "a*b"));
	assert_true(match_pattern("abcbcd", "a*bcd"));	/* needs backtracking */
	assert_true(match_pattern("mississippi", "m*iss*ppi"));
	assert_false(match_pattern("mississippi", "m*iss*ppix"));
	assert_true(match_pattern("abc", "abc*"));
	assert_true(match_pattern("abc", "?*?"));
	assert_false(match_pattern("a", "?*?"));
	assert_false(match_pattern(NULL, "*"));
	assert_false(match_pattern("a", NULL));
}

/* A pattern that makes naive recursive globbers exponential. */
static void
test_glob_pathological(void **state)
{
	char s[4097], p[2049];
	clock_t t0;
	size_t i;

	(void)state;
	memset(s, 'a', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	for (i = 0; i + 2 < sizeof(p) - 1; i += 2) {
		p[i] = '*';
		p[i + 1] = 'a';
	}
	p[i++] = 'b';
	p[i] = '\0';
	t0 = clock();
	assert_false(match_pattern(s, p));
	assert_true(match_pattern(s, "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a"));
	/* Quadratic worst case is ~8M steps: well under a few seconds even
	 * in the sanitizer build. */
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 5.0);
}

static void
test_pattern_list(void **state)
{
	(void)state;
	assert_int_equal(match_pattern_list("alice", "alice"), 1);
	assert_int_equal(match_pattern_list("alice", "bob,alice"), 1);
	assert_int_equal(match_pattern_list("alice", "bob,carol"), 0);
	assert_int_equal(match_pattern_list("alice", "a*,!alice"), -1);
	assert_int_equal(match_pattern_list("alice", "!alice,a*"), -1);
	assert_int_equal(match_pattern_list("alex", "a*,!alice"), 1);
	/* Only negations: nothing positive, so no match (as sshd). */
	assert_int_equal(match_pattern_list("bob", "!root"), 0);
	assert_int_equal(match_pattern_list("root", "!root"), -1);
	assert_int_equal(match_pattern_list("bob", "*,!root"), 1);
	assert_int_equal(match_pattern_list("alice", ""), 0);
	assert_int_equal(match_pattern_list("alice", ",,alice,"), 1);
	assert_int_equal(match_pattern_list("alice", "!"), 0);
	assert_int_equal(match_pattern_list(NULL, "*"), 0);
}

static void
test_pattern_list_long_item(void **state)
{
	char list[3000];

	(void)state;
	/* An overlong item is skipped, not truncated into a shorter glob. */
	memset(list, 'a', 2000);
	list[2000] = '*';
	strcpy(list + 2001, ",bob");
	assert_int_equal(match_pattern_list("aaaa", list), 0);
	assert_int_equal(match_pattern_list("bob", list), 1);
}

static void
test_netaddr_parse(void **state)
{
	struct netaddr a;
	char buf[64];

	(void)state;
	assert_int_equal(netaddr_parse("192.0.2.1", &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(a.a[0], 192);
	assert_int_equal(a.a[3], 1);
	assert_int_equal(netaddr_format(&a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "192.0.2.1");

	assert_int_equal(netaddr_parse("2001:db8::1", &a), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(netaddr_format(&a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2001:db8::1");

	/* v4-mapped folds to IPv4. */
	assert_int_equal(netaddr_parse("::ffff:198.51.100.7", &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(netaddr_format(&a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "198.51.100.7");
	assert_int_equal(netaddr_parse("::FFFF:c633:6407", &a), 0);
	assert_int_equal(a.family, AF_INET);
	/* ...but v4-compatible ::a.b.c.d is not mapped. */
	assert_int_equal(netaddr_parse("::198.51.100.7", &a), 0);
	assert_int_equal(a.family, AF_INET6);

	assert_int_equal(netaddr_parse("", &a), -EINVAL);
	assert_int_equal(netaddr_parse("256.0.0.1", &a), -EINVAL);
	assert_int_equal(netaddr_parse("1.2.3", &a), -EINVAL);
	assert_int_equal(netaddr_parse("fe80::1%eth0", &a), -EINVAL);
	assert_int_equal(netaddr_parse("10.0.0.1/8", &a), -EINVAL);
	assert_int_equal(netaddr_parse("host.example", &a), -EINVAL);
	assert_int_equal(netaddr_parse(NULL, &a), -EINVAL);
	assert_int_equal(netaddr_parse("1111:2222:3333:4444:5555:6666:7777:8888:9999", &a), -EINVAL);

	/* A too-small buffer is an error, not a truncation. */
	assert_int_equal(netaddr_parse("2001:db8::1", &a), 0);
	assert_true(netaddr_format(&a, buf, 4) < 0);
}

static void
test_netaddr_sockaddr(void **state)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr sa;
	struct netaddr a;
	char buf[64];

	(void)state;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "203.0.113.9", &sin.sin_addr);
	assert_int_equal(netaddr_from_sockaddr((struct sockaddr *)&sin, &a), 0);
	assert_int_equal(a.family, AF_INET);
	netaddr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "203.0.113.9");

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:203.0.113.9", &sin6.sin6_addr);
	assert_int_equal(netaddr_from_sockaddr((struct sockaddr *)&sin6, &a), 0);
	assert_int_equal(a.family, AF_INET);
	netaddr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "203.0.113.9");

	inet_pton(AF_INET6, "2001:db8::5", &sin6.sin6_addr);
	assert_int_equal(netaddr_from_sockaddr((struct sockaddr *)&sin6, &a), 0);
	assert_int_equal(a.family, AF_INET6);

	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNIX;
	assert_int_equal(netaddr_from_sockaddr(&sa, &a), -EAFNOSUPPORT);
}

static void
test_cidr_parse(void **state)
{
	struct netaddr n;
	unsigned len;

	(void)state;
	assert_int_equal(cidr_parse("10.0.0.0/8", &n, &len), 0);
	assert_int_equal(n.family, AF_INET);
	assert_int_equal(len, 8);
	assert_int_equal(cidr_parse("10.1.2.3/8", &n, &len), 0); /* host bits ok */
	assert_int_equal(cidr_parse("10.1.2.3", &n, &len), 0);
	assert_int_equal(len, 32);
	assert_int_equal(cidr_parse("0.0.0.0/0", &n, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(cidr_parse("2001:db8::/32", &n, &len), 0);
	assert_int_equal(n.family, AF_INET6);
	assert_int_equal(len, 32);
	assert_int_equal(cidr_parse("::1", &n, &len), 0);
	assert_int_equal(len, 128);
	assert_int_equal(cidr_parse("::/0", &n, &len), 0);
	/* v4-mapped networks fold with their prefix. */
	assert_int_equal(cidr_parse("::ffff:10.0.0.0/104", &n, &len), 0);
	assert_int_equal(n.family, AF_INET);
	assert_int_equal(len, 8);

	assert_int_equal(cidr_parse("10.0.0.0/33", &n, &len), -EINVAL);
	assert_int_equal(cidr_parse("2001:db8::/129", &n, &len), -EINVAL);
	assert_int_equal(cidr_parse("10.0.0.0/", &n, &len), -EINVAL);
	assert_int_equal(cidr_parse("10.0.0.0/-1", &n, &len), -EINVAL);
	assert_int_equal(cidr_parse("10.0.0.0/+8", &n, &len), -EINVAL);
	assert_int_equal(cidr_parse("10.0.0.0/08", &n, &len), -EINVAL);
	assert_int_equal(cidr_parse("10.0.0.0/8/8", &n, &len), -EINVAL);
	assert_int_equal(cidr_parse("10.0.0.0/8x", &n, &len), -EINVAL);
	assert_int_equal(cidr_parse("10.0.0/8", &n, &len), -EINVAL);
	assert_int_equal(cidr_parse("/8", &n, &len), -EINVAL);
	assert_int_equal(cidr_parse("", &n, &len), -EINVAL);
	assert_int_equal(cidr_parse("10.0.0.0/99999999999999999999", &n, &len), -EINVAL);
	assert_int_equal(cidr_parse(NULL, &n, &len), -EINVAL);
}

static bool
in(const char *cidr, const char *addr)
{
	struct netaddr n, a;
	unsigned len;

	assert_int_equal(cidr_parse(cidr, &n, &len), 0);
	assert_int_equal(netaddr_parse(addr, &a), 0);
	return cidr_contains(&n, len, &a);
}

static void
test_cidr_contains(void **state)
{
	(void)state;
	assert_true(in("10.0.0.0/8", "10.255.1.2"));
	assert_false(in("10.0.0.0/8", "11.0.0.1"));
	assert_true(in("10.1.2.3/8", "10.9.9.9"));
	assert_true(in("192.168.1.128/25", "192.168.1.200"));
	assert_false(in("192.168.1.128/25", "192.168.1.127"));
	assert_true(in("192.168.1.1", "192.168.1.1"));
	assert_false(in("192.168.1.1", "192.168.1.2"));
	assert_true(in("0.0.0.0/0", "1.2.3.4"));
	assert_false(in("0.0.0.0/0", "::1"));
	assert_true(in("2001:db8::/32", "2001:db8:ffff::1"));
	assert_false(in("2001:db8::/32", "2001:db9::1"));
	assert_true(in("2001:db8::/33", "2001:db8:7fff::1"));
	assert_false(in("2001:db8::/33", "2001:db8:8000::1"));
	assert_true(in("::/0", "::1"));
	assert_false(in("::/0", "1.2.3.4"));	/* IPv4 is not in ::/0 */
	assert_true(in("10.0.0.0/8", "::ffff:a00:1"));
	/* ::ffff:0:0/96 is exactly every IPv4 address. */
	assert_true(in("::ffff:0.0.0.0/96", "1.2.3.4"));
	assert_false(in("::ffff:0.0.0.0/95", "1.2.3.4"));	/* stays IPv6 */
	assert_true(in("::ffff:10.0.0.0/104", "10.3.3.3"));
	assert_false(in("::ffff:10.0.0.0/104", "11.3.3.3"));
	assert_false(in("::1", "0.0.0.1"));
}

static void
test_addr_list(void **state)
{
	(void)state;
	assert_int_equal(match_addr_list("10.1.2.3", "10.0.0.0/8"), 1);
	assert_int_equal(match_addr_list("10.1.2.3", "192.168.0.0/16,10.0.0.0/8"), 1);
	assert_int_equal(match_addr_list("172.16.0.1", "192.168.0.0/16,10.0.0.0/8"), 0);
	assert_int_equal(match_addr_list("10.1.2.3", "10.0.0.0/8,!10.1.0.0/16"), -1);
	assert_int_equal(match_addr_list("10.2.2.3", "10.0.0.0/8,!10.1.0.0/16"), 1);
	assert_int_equal(match_addr_list("10.1.2.3", "!10.1.*,10.*"), -1);
	assert_int_equal(match_addr_list("10.2.2.3", "!10.1.*,10.*"), 1);
	assert_int_equal(match_addr_list("10.1.2.3", "10.1.2.3"), 1);
	assert_int_equal(match_addr_list("::1", "::1"), 1);
	assert_int_equal(match_addr_list("0:0::1", "::1"), 1);
	assert_int_equal(match_addr_list("::1", "::2,2001:db8::/32"), 0);
	assert_int_equal(match_addr_list("2001:db8::7", "::2,2001:db8::/32"), 1);
	/* v4-mapped peers match IPv4 entries, CIDR and glob alike. */
	assert_int_equal(match_addr_list("::ffff:10.1.2.3", "10.0.0.0/8"), 1);
	assert_int_equal(match_addr_list("::ffff:10.1.2.3", "10.1.*"), 1);
	assert_int_equal(match_addr_list("::ffff:10.1.2.3", "10.1.2.3"), 1);
	assert_int_equal(match_addr_list("10.1.2.3", "::ffff:10.1.2.3"), 1);
	/* A glob never validates as an address, it just may not match. */
	assert_int_equal(match_addr_list("10.1.2.3", "*.example.com"), 0);
	assert_int_equal(match_addr_list("10.1.2.3", "*"), 1);
	/* No address (or a garbled one): nothing matches but globs on the
	 * raw text; the list is still validated. */
	assert_int_equal(match_addr_list(NULL, "10.0.0.0/8,!::1"), 0);
	assert_int_equal(match_addr_list("garbage", "10.0.0.0/8"), 0);

	/* Malformed lists. */
	assert_int_equal(match_addr_list("10.1.2.3", "10.0.0.0/33"), -EINVAL);
	assert_int_equal(match_addr_list("10.1.2.3", "10.0.0.256"), -EINVAL);
	assert_int_equal(match_addr_list("10.1.2.3", "10.0.0.0/8,"), -EINVAL);
	assert_int_equal(match_addr_list("10.1.2.3", ",10.0.0.0/8"), -EINVAL);
	assert_int_equal(match_addr_list("10.1.2.3", "10.0.0.0/8,,::1"), -EINVAL);
	assert_int_equal(match_addr_list("10.1.2.3", "!"), -EINVAL);
	assert_int_equal(match_addr_list("10.1.2.3", ""), -EINVAL);
	assert_int_equal(match_addr_list("10.1.2.3", "10.*/8"), -EINVAL);
	assert_int_equal(match_addr_list("10.1.2.3", "host.example.com"), -EINVAL);
	/* Malformed even after a match: the whole list is checked. */
	assert_int_equal(match_addr_list("10.1.2.3", "10.0.0.0/8,bad/99"), -EINVAL);
	assert_int_equal(match_addr_list(NULL, NULL), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_glob_basic),
		cmocka_unit_test(test_glob_pathological),
		cmocka_unit_test(test_pattern_list),
		cmocka_unit_test(test_pattern_list_long_item),
		cmocka_unit_test(test_netaddr_parse),
		cmocka_unit_test(test_netaddr_sockaddr),
		cmocka_unit_test(test_cidr_parse),
		cmocka_unit_test(test_cidr_contains),
		cmocka_unit_test(test_addr_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
