/* Unit tests for handler/monitor/fwd-addrs.c: the resolver child's
 * message to the forwarder.  What getaddrinfo() gave is kept within the
 * bounds, goes through the message unchanged, and anything but a whole,
 * well-formed message (every truncation, a byte too many, a count, length
 * or family out of bounds) is refused, leaving the caller's result as
 * it was. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "handler/monitor/fwd-addrs.h"

/* An addrinfo list of n entries, alternately IPv4 and IPv6, TCP. */
struct ai_list {
	struct addrinfo ai[FWD_MAX_ADDRS + 4];
	struct sockaddr_in in[FWD_MAX_ADDRS + 4];
	struct sockaddr_in6 in6[FWD_MAX_ADDRS + 4];
};

static struct addrinfo *
make_list(struct ai_list *l, size_t n)
{
	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < n; i++) {
		struct addrinfo *ai = &l->ai[i];

		ai->ai_socktype = SOCK_STREAM;
		ai->ai_protocol = IPPROTO_TCP;
		if (i % 2 == 0) {
			l->in[i].sin_family = AF_INET;
			l->in[i].sin_port = htons(5432);
			l->in[i].sin_addr.s_addr = htonl(0xc0000200u + (uint32_t)i);
			ai->ai_family = AF_INET;
			ai->ai_addr = (struct sockaddr *)&l->in[i];
			ai->ai_addrlen = sizeof(l->in[i]);
		} else {
			l->in6[i].sin6_family = AF_INET6;
			l->in6[i].sin6_port = htons(5432);
			l->in6[i].sin6_addr.s6_addr[0] = 0x20;
			l->in6[i].sin6_addr.s6_addr[15] = (uint8_t)i;
			l->in6[i].sin6_scope_id = 3;
			ai->ai_family = AF_INET6;
			ai->ai_addr = (struct sockaddr *)&l->in6[i];
			ai->ai_addrlen = sizeof(l->in6[i]);
		}
		ai->ai_next = i + 1 < n ? &l->ai[i + 1] : NULL;
	}
	return n > 0 ? &l->ai[0] : NULL;
}

static void
assert_same(const struct fwd_addrs *a, const struct fwd_addrs *b)
{
	assert_int_equal(a->gai, b->gai);
	assert_int_equal(a->err, b->err);
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_int_equal(a->a[i].family, b->a[i].family);
		assert_int_equal(a->a[i].socktype, b->a[i].socktype);
		assert_int_equal(a->a[i].protocol, b->a[i].protocol);
		assert_int_equal(a->a[i].len, b->a[i].len);
		assert_memory_equal(&a->a[i].u, &b->a[i].u, a->a[i].len);
	}
}

/* Encodes a, decodes it back: the same. */
static size_t
round_trip(const struct fwd_addrs *a, uint8_t *msg)
{
	struct fwd_addrs *got = calloc(1, sizeof(*got));
	size_t len = fwd_addrs_encode(a, msg);

	assert_non_null(got);
	assert_true(len <= FWD_ADDRS_MSG_MAX);
	assert_int_equal(fwd_addrs_decode(msg, len, got), 0);
	assert_same(a, got);
	free(got);
	return len;
}

static void
test_addresses(void **state)
{
	struct ai_list l;
	struct fwd_addrs a;
	uint8_t msg[FWD_ADDRS_MSG_MAX];

	(void)state;
	fwd_addrs_from_ai(&a, 0, 0, make_list(&l, 2));
	assert_int_equal(a.gai, 0);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.a[0].family, AF_INET);
	assert_int_equal(a.a[0].u.in.sin_addr.s_addr, htonl(0xc0000200u));
	assert_int_equal(a.a[1].family, AF_INET6);
	assert_int_equal(a.a[1].u.in6.sin6_scope_id, 3);
	assert_int_equal(round_trip(&a, msg), FWD_ADDRS_HEAD +
	    2 * FWD_ADDRS_ENTRY_HEAD + sizeof(struct sockaddr_in) +
	    sizeof(struct sockaddr_in6));
}

/* More addresses than the bound: the first FWD_MAX_ADDRS, in order, and
 * the largest message fits the buffer and one atomic pipe write. */
static void
test_too_many_addresses(void **state)
{
	struct ai_list l;
	struct fwd_addrs a;
	uint8_t msg[FWD_ADDRS_MSG_MAX];

	(void)state;
	assert_true(FWD_ADDRS_MSG_MAX <= PIPE_BUF);
	fwd_addrs_from_ai(&a, 0, 0, make_list(&l, FWD_MAX_ADDRS + 3));
	assert_int_equal(a.n, FWD_MAX_ADDRS);
	for (size_t i = 0; i < a.n; i++)
		assert_int_equal(a.a[i].family, i % 2 == 0 ? AF_INET : AF_INET6);
	round_trip(&a, msg);
	/* Every entry IPv6, the largest: exactly the bound. */
	for (size_t i = 0; i < a.n; i++)
		a.a[i] = a.a[1];
	assert_int_equal(round_trip(&a, msg), FWD_ADDRS_MSG_MAX);
}

/* What the forwarder cannot connect to is left out; a success that
 * leaves nothing is an error. */
static void
test_other_families(void **state)
{
	struct ai_list l;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct fwd_addrs a;
	struct addrinfo *res = make_list(&l, 3);

	(void)state;
	l.ai[0].ai_family = AF_UNIX;
	l.ai[0].ai_addr = (struct sockaddr *)&sun;
	l.ai[0].ai_addrlen = sizeof(sun);
	l.ai[1].ai_socktype = SOCK_DGRAM;
	l.ai[2].ai_addrlen = sizeof(struct sockaddr_in6) - 1;
	fwd_addrs_from_ai(&a, 0, 0, res);
	assert_int_equal(a.n, 0);
	assert_int_equal(a.gai, EAI_ADDRFAMILY);

	res = make_list(&l, 3);
	l.ai[1].ai_family = AF_UNIX;
	fwd_addrs_from_ai(&a, 0, 0, res);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.a[1].u.in.sin_addr.s_addr, htonl(0xc0000202u));
}

static void
test_errors(void **state)
{
	struct fwd_addrs a;
	uint8_t msg[FWD_ADDRS_MSG_MAX];

	(void)state;
	fwd_addrs_from_ai(&a, EAI_NONAME, 0, NULL);
	assert_int_equal(a.gai, EAI_NONAME);
	assert_int_equal(a.n, 0);
	assert_int_equal(round_trip(&a, msg), FWD_ADDRS_HEAD);
	/* errno is kept for EAI_SYSTEM only. */
	fwd_addrs_from_ai(&a, EAI_SYSTEM, EMFILE, NULL);
	assert_int_equal(a.err, EMFILE);
	round_trip(&a, msg);
	fwd_addrs_from_ai(&a, EAI_AGAIN, EMFILE, NULL);
	assert_int_equal(a.err, 0);
	round_trip(&a, msg);
}

/* decode(msg, len) refuses and leaves *ret alone. */
static void
refused(const uint8_t *msg, size_t len)
{
	struct fwd_addrs *got = malloc(sizeof(*got));

	assert_non_null(got);
	memset(got, 0xa5, sizeof(*got));
	if (fwd_addrs_decode(msg, len, got) != -EBADMSG)
		fail_msg("a message of %zu bytes was accepted", len);
	for (size_t i = 0; i < sizeof(*got); i++)
		assert_int_equal(((uint8_t *)got)[i], 0xa5);
	free(got);
}

static void
put32(uint8_t *msg, size_t off, uint32_t v)
{
	memcpy(msg + off, &v, sizeof(v));
}

static void
test_truncated_and_long(void **state)
{
	struct ai_list l;
	struct fwd_addrs a;
	uint8_t msg[FWD_ADDRS_MSG_MAX + 8];
	size_t len;

	(void)state;
	fwd_addrs_from_ai(&a, 0, 0, make_list(&l, 5));
	len = round_trip(&a, msg);
	for (size_t i = 0; i < len; i++)
		refused(msg, i);
	msg[len] = 0;
	refused(msg, len + 1);
	/* The largest message and a byte more. */
	for (size_t i = 0; i < FWD_MAX_ADDRS; i++)
		a.a[i] = a.a[1];
	a.n = FWD_MAX_ADDRS;
	len = round_trip(&a, msg);
	refused(msg, len + 1);
	fwd_addrs_from_ai(&a, EAI_NONAME, 0, NULL);
	len = round_trip(&a, msg);
	refused(msg, len - 1);
	refused(msg, len + 1);
}

static void
test_malformed(void **state)
{
	struct ai_list l;
	struct fwd_addrs a;
	uint8_t good[FWD_ADDRS_MSG_MAX], msg[FWD_ADDRS_MSG_MAX];
	size_t len, e0 = FWD_ADDRS_HEAD, e1;

	(void)state;
	fwd_addrs_from_ai(&a, 0, 0, make_list(&l, 2));
	len = round_trip(&a, good);
	e1 = e0 + FWD_ADDRS_ENTRY_HEAD + sizeof(struct sockaddr_in);
#define BAD(off, v) do {						\
		memcpy(msg, good, len);					\
		put32(msg, (off), (v));					\
		refused(msg, len);					\
	} while (0)
	/* Counts: over the bound, fewer or more than there are, none. */
	BAD(8, FWD_MAX_ADDRS + 1);
	BAD(8, UINT32_MAX);
	BAD(8, 1);
	BAD(8, 3);
	BAD(8, 0);
	/* An error with addresses; a success carrying an errno. */
	BAD(0, (uint32_t)EAI_NONAME);
	BAD(4, EIO);
	/* Families, types, protocols it does not connect to. */
	BAD(e0, AF_UNIX);
	BAD(e0, AF_INET6);	/* the length is IPv4's */
	BAD(e1, AF_INET);	/* the length is IPv6's */
	BAD(e0 + 4, SOCK_DGRAM);
	BAD(e0 + 8, IPPROTO_UDP);
	/* Lengths other than the family's, one of them past the end. */
	BAD(e0 + 12, sizeof(struct sockaddr_in) - 1);
	BAD(e0 + 12, sizeof(struct sockaddr_in) + 1);
	BAD(e1 + 12, UINT32_MAX);
	/* The sockaddr's own family disagrees. */
	memcpy(msg, good, len);
	msg[e0 + FWD_ADDRS_ENTRY_HEAD] ^= 0xff;
	refused(msg, len);
#undef BAD
	/* An error alone with no addresses is fine; with one it is not. */
	fwd_addrs_from_ai(&a, EAI_NONAME, 0, NULL);
	len = round_trip(&a, good);
	memcpy(msg, good, len);
	put32(msg, 8, 1);
	refused(msg, len);
	/* Nothing at all. */
	refused(good, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_too_many_addresses),
		cmocka_unit_test(test_other_families),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_truncated_and_long),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
