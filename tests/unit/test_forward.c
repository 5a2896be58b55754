/* Unit tests for policy/forward.c: the entries PermitOpen, PermitListen,
 * permitopen= and permitlisten= accept and how they are stored, which
 * requests each list allows (OpenSSH's open_match and remote_open_match),
 * and the address GatewayPorts makes a remote forward bind. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "policy/forward.h"

#define LIST(...) (&(struct strlist){ \
	.v = (char *[]){ __VA_ARGS__ }, \
	.n = sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *) })

static void
canon_ok(const char *spec, unsigned flags, const char *want)
{
	char buf[FWD_HOST_MAX + 16];
	int r = fwd_permit_canon(spec, flags, buf, sizeof(buf));

	if (r != 0 || strcmp(buf, want) != 0)
		fail_msg("\"%s\" (flags %u): want \"%s\", got %d \"%s\"", spec,
		    flags, want, r, r == 0 ? buf : "");
}

static void
canon_bad(const char *spec, unsigned flags)
{
	char buf[FWD_HOST_MAX + 16];
	int r = fwd_permit_canon(spec, flags, buf, sizeof(buf));

	if (r != -EINVAL)
		fail_msg("\"%s\" (flags %u): want -EINVAL, got %d \"%s\"", spec,
		    flags, r, r == 0 ? buf : "");
}

/* ---------------------------------------------------------------- */
/* Syntax */

static void
test_canon(void **state)
{
	static const char *const bad[] = {
		"", "host", "host:", ":", "host:0", "host:65536", "host:-1",
		"host:+1", "host: 1", "host:1 ", "host:0x10", "host:ssh",
		"host:**", "host:1:2", "::1", "::1:22", "[::1]", "[::1]:",
		"[::1]22", "[::1:22", "::1]:22", "a[b]:1", "a]b:1", "[a[b]:1",
		"a b:1", "a\tb:1", "a\nb:1", "a\x7f" "b:1", "h\xc3\xa9:1",
		"any", "none", "*",
	};
	char big[FWD_HOST_MAX + 16], buf[16];
	size_t i;

	(void)state;
	canon_ok("localhost:80", 0, "localhost:80");
	canon_ok("LocalHost:80", 0, "LocalHost:80");
	canon_ok("192.0.2.1:65535", 0, "192.0.2.1:65535");
	canon_ok("host:1", 0, "host:1");
	canon_ok("host:007", 0, "host:7");
	canon_ok("host:*", 0, "host:*");
	canon_ok("*:22", 0, "*:22");
	canon_ok("*:*", 0, "*:*");
	canon_ok(":22", 0, ":22");
	canon_ok("[::1]:22", 0, "[::1]:22");
	canon_ok("[2001:db8::1]:*", 0, "[2001:db8::1]:*");
	canon_ok("[fe80::1%eth0]:80", 0, "[fe80::1%eth0]:80");
	canon_ok("[]:1", 0, "[]:1");
	canon_ok("*.example.com:443", 0, "*.example.com:443");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		canon_bad(bad[i], 0);
		canon_bad(bad[i], FWD_SPEC_SLASH);
	}
	/* A bare port: PermitListen's, any host, stored as sshd does. */
	canon_bad("8080", 0);
	canon_ok("8080", FWD_SPEC_LISTEN, "*:8080");
	canon_ok("*", FWD_SPEC_LISTEN, "*:*");
	canon_ok("localhost:8080", FWD_SPEC_LISTEN, "localhost:8080");
	canon_bad("0", FWD_SPEC_LISTEN);
	canon_bad("", FWD_SPEC_LISTEN);
	canon_bad("65536", FWD_SPEC_LISTEN);
	canon_bad("::1", FWD_SPEC_LISTEN);
	canon_bad("host", FWD_SPEC_LISTEN);
	/* host/port: authorized_keys' permitopen= only (OpenSSH's
	 * hpdelim2); stored with a colon. */
	canon_bad("host/22", 0);
	canon_bad("host/22", FWD_SPEC_LISTEN);
	canon_ok("host/22", FWD_SPEC_SLASH, "host:22");
	canon_ok("[::1]/22", FWD_SPEC_SLASH, "[::1]:22");
	canon_bad("a/b:22", FWD_SPEC_SLASH);
	/* The host's bound is OpenSSH's NI_MAXHOST. */
	memset(big, 'a', FWD_HOST_MAX);
	strcpy(big + FWD_HOST_MAX, ":1");
	canon_ok(big, 0, big);
	memset(big, 'a', FWD_HOST_MAX + 1);
	strcpy(big + FWD_HOST_MAX + 1, ":1");
	canon_bad(big, 0);
	/* The caller's buffer. */
	assert_int_equal(fwd_permit_canon("localhost:8080", 0, buf, 14),
	    -ENAMETOOLONG);
	assert_int_equal(fwd_permit_canon("localhost:8080", 0, buf, 15), 0);
	assert_string_equal(buf, "localhost:8080");
	assert_int_equal(fwd_permit_canon(NULL, 0, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(fwd_permit_canon("a:1", 0, NULL, 0), -EINVAL);
}

/* ---------------------------------------------------------------- */
/* PermitOpen */

static void
test_open_any_none(void **state)
{
	struct strlist empty = { NULL, 0 };

	(void)state;
	assert_true(fwd_open_permitted(&empty, "example.com", 80));
	assert_true(fwd_open_permitted(NULL, "example.com", 80));
	assert_true(fwd_open_permitted(LIST("any"), "10.0.0.1", 1));
	assert_false(fwd_open_permitted(LIST("none"), "localhost", 80));
	assert_false(fwd_open_permitted(LIST("none"), "", 0));
	/* Not a port, whatever the list. */
	assert_false(fwd_open_permitted(&empty, "localhost", 65536));
	assert_false(fwd_open_permitted(LIST("*:*"), "localhost", 70000));
	assert_false(fwd_open_permitted(&empty, NULL, 80));
}

static void
test_open_match(void **state)
{
	const struct strlist *l = LIST("localhost:80", "[::1]:8080",
	    "db.example.com:*", "*:443", "10.0.0.1:22");

	(void)state;
	assert_true(fwd_open_permitted(l, "localhost", 80));
	assert_false(fwd_open_permitted(l, "localhost", 81));
	assert_false(fwd_open_permitted(l, "localhost", 0));
	/* Names as the client wrote them: no lookup. */
	assert_false(fwd_open_permitted(l, "127.0.0.1", 80));
	assert_false(fwd_open_permitted(l, "localhost.", 80));
	assert_false(fwd_open_permitted(l, "localhos", 80));
	assert_false(fwd_open_permitted(l, "xlocalhost", 80));
	/* Host names ignore case. */
	assert_true(fwd_open_permitted(l, "LOCALHOST", 80));
	assert_true(fwd_open_permitted(l, "DB.Example.COM", 5432));
	/* Brackets are the entry's syntax, not the host's. */
	assert_true(fwd_open_permitted(l, "::1", 8080));
	assert_false(fwd_open_permitted(l, "[::1]", 8080));
	assert_false(fwd_open_permitted(l, "::1", 80));
	/* '*' port, '*' host. */
	assert_true(fwd_open_permitted(l, "db.example.com", 1));
	assert_true(fwd_open_permitted(l, "db.example.com", 65535));
	assert_true(fwd_open_permitted(l, "db.example.com", 0));
	assert_false(fwd_open_permitted(l, "db2.example.com", 1));
	assert_true(fwd_open_permitted(l, "anything.example", 443));
	assert_true(fwd_open_permitted(l, "", 443));
	assert_false(fwd_open_permitted(l, "anything.example", 444));
	assert_true(fwd_open_permitted(l, "10.0.0.1", 22));
	assert_false(fwd_open_permitted(l, "10.0.0.10", 22));
	assert_false(fwd_open_permitted(l, "10.0.0.1", 23));
	/* PermitOpen's host is not a pattern: only a whole '*' is any. */
	assert_false(fwd_open_permitted(LIST("*.example.com:80"),
	    "www.example.com", 80));
	assert_true(fwd_open_permitted(LIST("*.example.com:80"),
	    "*.example.com", 80));
	assert_false(fwd_open_permitted(LIST("10.0.0.?:80"), "10.0.0.1", 80));
	/* A key's permitopen= may say host/port. */
	assert_true(fwd_open_permitted(LIST("localhost/25"), "localhost", 25));
	/* An entry that is not one matches nothing, and denies. */
	assert_false(fwd_open_permitted(LIST("localhost"), "localhost", 80));
	assert_false(fwd_open_permitted(LIST("localhost:http"), "localhost", 80));
	assert_false(fwd_open_permitted(LIST(NULL), "localhost", 80));
	/* "any" anywhere allows everything. */
	assert_true(fwd_open_permitted(LIST("a:1", "any"), "b", 2));
}

/* ---------------------------------------------------------------- */
/* PermitListen */

static void
test_listen_any_none(void **state)
{
	struct strlist empty = { NULL, 0 };

	(void)state;
	assert_true(fwd_listen_permitted(&empty, "localhost", 8080));
	assert_true(fwd_listen_permitted(NULL, "", 0));
	assert_true(fwd_listen_permitted(LIST("any"), "0.0.0.0", 1));
	assert_false(fwd_listen_permitted(LIST("none"), "localhost", 8080));
	assert_false(fwd_listen_permitted(LIST("none"), "", 0));
	assert_false(fwd_listen_permitted(&empty, "localhost", 65536));
	assert_false(fwd_listen_permitted(&empty, NULL, 8080));
}

static void
test_listen_match(void **state)
{
	const struct strlist *l = LIST("localhost:8080", "*:9000",
	    "127.0.0.1:*", "[::1]:2222", "*.example.com:443", "10.0.0.?:25");

	(void)state;
	/* ssh -R 8080:... asks for "localhost": only a localhost entry
	 * (or a pattern) covers it, not one for 127.0.0.1's port. */
	assert_true(fwd_listen_permitted(l, "localhost", 8080));
	assert_true(fwd_listen_permitted(l, "LocalHost", 8080));
	assert_false(fwd_listen_permitted(l, "localhost", 8081));
	assert_true(fwd_listen_permitted(l, "127.0.0.1", 8080));
	assert_false(fwd_listen_permitted(LIST("localhost:8080"), "127.0.0.1",
	    8080));
	assert_false(fwd_listen_permitted(LIST("127.0.0.1:8080"), "localhost",
	    8080));
	/* '*' host: every requested address, "" and "*" included. */
	assert_true(fwd_listen_permitted(l, "", 9000));
	assert_true(fwd_listen_permitted(l, "*", 9000));
	assert_true(fwd_listen_permitted(l, "192.0.2.1", 9000));
	assert_true(fwd_listen_permitted(l, "localhost", 9000));
	assert_false(fwd_listen_permitted(l, "192.0.2.1", 9001));
	/* '*' port. */
	assert_true(fwd_listen_permitted(l, "127.0.0.1", 1));
	assert_true(fwd_listen_permitted(l, "127.0.0.1", 65535));
	assert_false(fwd_listen_permitted(l, "127.0.0.2", 1));
	/* Brackets are syntax. */
	assert_true(fwd_listen_permitted(l, "::1", 2222));
	assert_false(fwd_listen_permitted(l, "::1", 2223));
	/* PermitListen's host is a pattern (sshd's match_pattern). */
	assert_true(fwd_listen_permitted(l, "www.example.com", 443));
	assert_true(fwd_listen_permitted(l, "WWW.EXAMPLE.COM", 443));
	assert_false(fwd_listen_permitted(l, "example.com", 443));
	assert_true(fwd_listen_permitted(l, "10.0.0.7", 25));
	assert_false(fwd_listen_permitted(l, "10.0.0.17", 25));
	/* An entry's case does not matter either. */
	assert_true(fwd_listen_permitted(LIST("LocalHost:80"), "localhost", 80));
	/* A bare port (as an older file or a key might hold it) is any
	 * host, as sshd's "*:port". */
	assert_true(fwd_listen_permitted(LIST("8080"), "localhost", 8080));
	assert_true(fwd_listen_permitted(LIST("8080"), "", 8080));
	assert_true(fwd_listen_permitted(LIST("*:8080"), "192.0.2.1", 8080));
	assert_false(fwd_listen_permitted(LIST("8080"), "localhost", 8081));
	/* Unparsable entries match nothing. */
	assert_false(fwd_listen_permitted(LIST("localhost"), "localhost", 80));
	assert_false(fwd_listen_permitted(LIST(NULL), "localhost", 80));
}

/* Port 0 asks the server to choose a port: only an entry with port '*'
 * allows that (OpenSSH: FWD_PERMIT_ANY_PORT is 0, entries are 1..65535). */
static void
test_listen_port_zero(void **state)
{
	(void)state;
	assert_false(fwd_listen_permitted(LIST("localhost:8080"), "localhost", 0));
	assert_false(fwd_listen_permitted(LIST("8080"), "localhost", 0));
	assert_true(fwd_listen_permitted(LIST("localhost:*"), "localhost", 0));
	assert_true(fwd_listen_permitted(LIST("*:*"), "", 0));
	assert_false(fwd_listen_permitted(LIST("127.0.0.1:*"), "localhost", 0));
}

/* A request's host longer than any host fails closed. */
static void
test_listen_long_host(void **state)
{
	char big[FWD_HOST_MAX + 2];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(fwd_listen_permitted(LIST("*:*"), big, 80));
	assert_false(fwd_open_permitted(LIST("aaaa:80"), big, 80));
	assert_true(fwd_open_permitted(LIST("*:80"), big, 80));
	big[FWD_HOST_MAX] = '\0';
	assert_true(fwd_listen_permitted(LIST("*:*"), big, 80));
}

/* ---------------------------------------------------------------- */
/* GatewayPorts */

static void
bind_is(enum gateway_ports gp, const char *host, const char *want)
{
	const char *got = (const char *)0x1;

	fwd_bind_addr(gp, host, &got);
	if (want == NULL ? got != NULL :
	    got == NULL || got == (const char *)0x1 || strcmp(got, want) != 0)
		fail_msg("GatewayPorts %d, \"%s\": want %s, got %s", gp,
		    host != NULL ? host : "(null)", want != NULL ? want : "all",
		    got == NULL ? "all" : got == (const char *)0x1 ? "untouched" :
		    got);
}

static void
test_bind_addr(void **state)
{
	const char *got = NULL;
	char mine[] = "192.0.2.1";

	(void)state;
	/* no: the loopback, whatever was asked, but an explicit loopback
	 * address keeps its family. */
	bind_is(GATEWAY_NO, "", "localhost");
	bind_is(GATEWAY_NO, "*", "localhost");
	bind_is(GATEWAY_NO, "0.0.0.0", "localhost");
	bind_is(GATEWAY_NO, "::", "localhost");
	bind_is(GATEWAY_NO, "localhost", "localhost");
	bind_is(GATEWAY_NO, "192.0.2.1", "localhost");
	bind_is(GATEWAY_NO, "example.com", "localhost");
	bind_is(GATEWAY_NO, "127.0.0.1", "127.0.0.1");
	bind_is(GATEWAY_NO, "::1", "::1");
	bind_is(GATEWAY_NO, "127.0.0.2", "localhost");
	bind_is(GATEWAY_NO, NULL, "localhost");
	/* yes: every address, whatever was asked. */
	bind_is(GATEWAY_YES, "", NULL);
	bind_is(GATEWAY_YES, "localhost", NULL);
	bind_is(GATEWAY_YES, "127.0.0.1", NULL);
	bind_is(GATEWAY_YES, "192.0.2.1", NULL);
	bind_is(GATEWAY_YES, NULL, NULL);
	/* clientspecified: what was asked. */
	bind_is(GATEWAY_CLIENTSPECIFIED, "", NULL);
	bind_is(GATEWAY_CLIENTSPECIFIED, "*", NULL);
	bind_is(GATEWAY_CLIENTSPECIFIED, "localhost", "localhost");
	bind_is(GATEWAY_CLIENTSPECIFIED, "127.0.0.1", "127.0.0.1");
	bind_is(GATEWAY_CLIENTSPECIFIED, "::1", "::1");
	bind_is(GATEWAY_CLIENTSPECIFIED, "192.0.2.1", "192.0.2.1");
	bind_is(GATEWAY_CLIENTSPECIFIED, "0.0.0.0", "0.0.0.0");
	bind_is(GATEWAY_CLIENTSPECIFIED, "host.example", "host.example");
	bind_is(GATEWAY_CLIENTSPECIFIED, NULL, NULL);
	/* The client's own string is returned, not a copy. */
	fwd_bind_addr(GATEWAY_CLIENTSPECIFIED, mine, &got);
	assert_ptr_equal(got, mine);
	fwd_bind_addr(GATEWAY_NO, NULL, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canon),
		cmocka_unit_test(test_open_any_none),
		cmocka_unit_test(test_open_match),
		cmocka_unit_test(test_listen_any_none),
		cmocka_unit_test(test_listen_match),
		cmocka_unit_test(test_listen_port_zero),
		cmocka_unit_test(test_listen_long_host),
		cmocka_unit_test(test_bind_addr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
