/* The privilege separation framing: every bound and every malformed form
 * must be refused, since the monitor parses what a compromised network
 * child may send. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "handler/privsep/wire.h"

static struct mon_msg a, b;
static int sp[2];

static int
setup(void **state)
{
	(void)state;
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp);
}

static int
teardown(void **state)
{
	(void)state;
	close(sp[0]);
	close(sp[1]);
	return 0;
}

static void
test_roundtrip(void **state)
{
	char *s;
	size_t n;
	const uint8_t *p;

	(void)state;
	mon_init(&a, MON_AUTH_PASSWORD);
	mon_put_u32(&a, 0xdeadbeef);
	mon_put_u64(&a, 0x0102030405060708ull);
	mon_put_str(&a, "alice");
	mon_put_bytes(&a, "\0\1\2", 3);
	assert_int_equal(mon_send(sp[0], &a), 0);
	assert_int_equal(mon_recv(sp[1], &b, 0), 0);
	assert_int_equal(mon_type(&b), MON_AUTH_PASSWORD);
	assert_int_equal(mon_get_u32(&b), 0xdeadbeef);
	assert_true(mon_get_u64(&b) == 0x0102030405060708ull);
	s = mon_get_str(&b, 16);
	assert_string_equal(s, "alice");
	free(s);
	p = mon_get_bytes(&b, 3, &n);
	assert_non_null(p);
	assert_int_equal(n, 3);
	assert_memory_equal(p, "\0\1\2", 3);
	assert_true(mon_done(&b));
}

static void
test_bounds(void **state)
{
	(void)state;
	/* A string longer than the reader allows. */
	mon_init(&a, MON_AUTH_PASSWORD);
	mon_put_str(&a, "0123456789");
	assert_int_equal(mon_send(sp[0], &a), 0);
	assert_int_equal(mon_recv(sp[1], &b, 0), 0);
	assert_null(mon_get_str(&b, 9));
	assert_true(b.bad);
	assert_false(mon_done(&b));

	/* A NUL inside a string. */
	mon_init(&a, MON_AUTH_PASSWORD);
	mon_put_bytes(&a, "ab\0cd", 5);
	assert_int_equal(mon_send(sp[0], &a), 0);
	assert_int_equal(mon_recv(sp[1], &b, 0), 0);
	assert_null(mon_get_str(&b, 64));

	/* Truncated: a length that runs past the end, then a short u32. */
	mon_init(&a, MON_AUTH_PASSWORD);
	mon_put_u32(&a, 100);
	mon_put_u32(&a, 7);
	assert_int_equal(mon_send(sp[0], &a), 0);
	assert_int_equal(mon_recv(sp[1], &b, 0), 0);
	assert_null(mon_get_str(&b, 1000));
	mon_init(&a, MON_SIGNAL);
	mon_put_bytes(&a, "", 0);
	a.len -= 2;
	assert_int_equal(mon_send(sp[0], &a), 0);
	assert_int_equal(mon_recv(sp[1], &b, 0), 0);
	(void)mon_get_u32(&b);
	assert_true(b.bad);

	/* Unconsumed fields are not "done". */
	mon_init(&a, MON_SIGNAL);
	mon_put_u32(&a, 1);
	mon_put_u32(&a, 2);
	assert_int_equal(mon_send(sp[0], &a), 0);
	assert_int_equal(mon_recv(sp[1], &b, 0), 0);
	(void)mon_get_u32(&b);
	assert_false(mon_done(&b));
}

static void
test_writer_overflow(void **state)
{
	static char big[MON_MAX_MSG];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	mon_init(&a, MON_SESSION_OPEN);
	mon_put_str(&a, big);
	assert_true(a.bad);
	assert_int_equal(mon_send(sp[0], &a), -EMSGSIZE);
}

static void
test_unknown_type_and_oversize(void **state)
{
	static uint8_t raw[MON_MAX_MSG + 100];

	(void)state;
	raw[0] = 200;
	assert_int_equal(send(sp[0], raw, 5, 0), 5);
	assert_int_equal(mon_recv(sp[1], &b, 0), -EBADMSG);
	raw[0] = MON_AUTH_PASSWORD;
	assert_int_equal(send(sp[0], raw, sizeof(raw), 0), (ssize_t)sizeof(raw));
	assert_int_equal(mon_recv(sp[1], &b, 0), -EBADMSG);
	/* And the stream goes on after both. */
	mon_init(&a, MON_STATS);
	assert_int_equal(mon_send(sp[0], &a), 0);
	assert_int_equal(mon_recv(sp[1], &b, 0), 0);
	assert_int_equal(mon_type(&b), MON_STATS);
}

static void
test_fds_and_eof(void **state)
{
	int p[2], fd;

	(void)state;
	assert_int_equal(pipe(p), 0);
	mon_init(&a, MON_SESSION_STARTED);
	mon_put_fd(&a, p[0]);
	mon_put_fd(&a, p[1]);
	assert_int_equal(mon_send(sp[0], &a), 0);
	close(p[0]);
	close(p[1]);
	assert_int_equal(mon_recv(sp[1], &b, 0), 0);
	assert_int_equal(b.nfds, 2);
	fd = mon_take_fd(&b);
	assert_true(fd >= 0);
	close(fd);
	mon_clear_fds(&b);
	assert_int_equal(b.nfds, 0);
	assert_int_equal(mon_take_fd(&b), -1);
	assert_true(b.bad);

	/* Nothing queued: non-blocking says so; after close, EOF. */
	assert_int_equal(mon_recv(sp[1], &b, MSG_DONTWAIT), -EAGAIN);
	close(sp[0]);
	assert_int_equal(mon_recv(sp[1], &b, 0), -EPIPE);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
}

static void
test_wipe(void **state)
{
	(void)state;
	mon_init(&a, MON_AUTH_PASSWORD);
	mon_put_str(&a, "hunter2");
	mon_wipe(&a);
	assert_int_equal(a.len, 0);
	assert_null(memmem(a.buf, 64, "hunter2", 7));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_type_and_oversize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fds_and_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wipe, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
