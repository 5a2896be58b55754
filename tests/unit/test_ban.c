/* Unit tests of the ban file: keys, windowing, growth, eviction, crash and
 * damage recovery, and a fuzz of random file contents. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy/ban-format.h"
#include "policy/ban.h"

#define T0 1000000000	/* "now" at the start of each test */

static char dir[64];
static char path[128];

static void
params(struct ban_params *p)
{
	memset(p, 0, sizeof(*p));
	p->max_failures = 5;
	p->find_time = 600;
	p->ban_time = 3600;
	p->ban_time_max = 4 * 3600;
	p->ipv6_prefix = 64;
	p->max_entries = 1000;
}

static struct ban_store *
open_p(const struct ban_params *p)
{
	struct ban_store *b = NULL;

	assert_int_equal(ban_open(path, p, &b), 0);
	assert_non_null(b);
	return b;
}

static struct ban_store *
open_default(void)
{
	struct ban_params p;

	params(&p);
	return open_p(&p);
}

static struct sockaddr_storage
sa(const char *s)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, s, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else {
		assert_int_equal(inet_pton(AF_INET6, s, &s6->sin6_addr), 1);
		s6->sin6_family = AF_INET6;
	}
	return ss;
}

static int
record(struct ban_store *b, const char *addr, unsigned weight, int64_t now, int64_t *until)
{
	struct sockaddr_storage ss = sa(addr);

	return ban_record_failure(b, (struct sockaddr *)&ss, weight, now, until);
}

static int
check(struct ban_store *b, const char *addr, int64_t now)
{
	struct sockaddr_storage ss = sa(addr);
	int64_t until = 0;

	return ban_check(b, (struct sockaddr *)&ss, now, &until, NULL);
}

static int
lookup(struct ban_store *b, const char *addr, struct ban_entry *e)
{
	struct netaddr a;

	assert_int_equal(ban_addr_parse(addr, &a), 0);
	return ban_lookup(b, &a, e);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_ban.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bans", dir);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
read_file(void **buf, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	*len = (size_t)st.st_size;
	*buf = malloc(*len ? *len : 1);
	assert_non_null(*buf);
	assert_int_equal(pread(fd, *buf, *len, 0), (ssize_t)*len);
	close(fd);
}

static void
write_at(const void *buf, size_t len, off_t off)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

/* ------------------------------------------------------------------ */

/* The first open makes the file and says so, once; a later one finds
 * it; a file that vanished is made again and said so again. */
static void
test_created(void **state)
{
	struct ban_store *b, *c;

	(void)state;
	b = open_default();
	assert_true(ban_take_created(b));
	assert_false(ban_take_created(b));
	c = open_default();
	assert_false(ban_take_created(c));
	ban_close(c);
	ban_close(b);
	assert_int_equal(unlink(path), 0);
	b = open_default();
	assert_true(ban_take_created(b));
	ban_close(b);
}

static void
test_normalise(void **state)
{
	struct ban_store *b = open_default();
	struct ban_entry e;
	char buf[BAN_ADDR_STRLEN];

	(void)state;
	/* Two hosts of one /64 are one source; the next /64 is another. */
	assert_int_equal(record(b, "2001:db8:1:2::1", BAN_FAIL_UNIT, T0, NULL), 0);
	assert_int_equal(record(b, "2001:db8:1:2:ffff::9", BAN_FAIL_UNIT, T0, NULL), 0);
	assert_int_equal(record(b, "2001:db8:1:3::1", BAN_FAIL_UNIT, T0, NULL), 0);
	assert_int_equal(lookup(b, "2001:db8:1:2::77", &e), 0);
	assert_int_equal(e.failures, 2 * BAN_FAIL_UNIT);
	assert_int_equal(e.prefix, 64);
	assert_int_equal(ban_entry_format_addr(&e, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2001:db8:1:2::/64");
	assert_int_equal(lookup(b, "2001:db8:1:3::", &e), 0);
	assert_int_equal(e.failures, BAN_FAIL_UNIT);

	/* v4-mapped is the IPv4 address, both ways. */
	assert_int_equal(record(b, "::ffff:192.0.2.7", BAN_FAIL_UNIT, T0, NULL), 0);
	assert_int_equal(record(b, "192.0.2.7", BAN_FAIL_UNIT, T0, NULL), 0);
	assert_int_equal(lookup(b, "192.0.2.7", &e), 0);
	assert_int_equal(e.failures, 2 * BAN_FAIL_UNIT);
	assert_int_equal(e.key.family, AF_INET);
	assert_int_equal(e.prefix, 32);
	assert_int_equal(ban_entry_format_addr(&e, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "192.0.2.7");
	assert_int_equal(lookup(b, "::ffff:192.0.2.7", &e), 0);
	assert_int_equal(lookup(b, "192.0.2.8", &e), -ENOENT);
	/* Neighbouring IPv4 addresses are separate sources. */
	assert_int_equal(record(b, "192.0.2.8", BAN_FAIL_UNIT, T0, NULL), 0);
	assert_int_equal(lookup(b, "192.0.2.8", &e), 0);
	assert_int_equal(e.failures, BAN_FAIL_UNIT);
	assert_int_equal(ban_verify(b), 0);
	ban_close(b);
}

static void
test_prefix_param(void **state)
{
	struct ban_params p;
	struct ban_store *b;
	struct ban_entry e;

	(void)state;
	params(&p);
	p.ipv6_prefix = 48;
	b = open_p(&p);
	assert_int_equal(record(b, "2001:db8:1:2::1", BAN_FAIL_UNIT, T0, NULL), 0);
	assert_int_equal(record(b, "2001:db8:1:3::1", BAN_FAIL_UNIT, T0, NULL), 0);
	assert_int_equal(lookup(b, "2001:db8:1::", &e), 0);
	assert_int_equal(e.failures, 2 * BAN_FAIL_UNIT);
	assert_int_equal(e.prefix, 48);
	ban_close(b);
}

static void
test_window(void **state)
{
	struct ban_store *b = open_default();
	int64_t until = -1;

	(void)state;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(record(b, "198.51.100.1", BAN_FAIL_UNIT, T0 + i, &until), 0);
		assert_int_equal(until, 0);
	}
	assert_int_equal(check(b, "198.51.100.1", T0 + 10), 0);
	/* The window (600 s from the first failure) has passed: restart. */
	assert_int_equal(record(b, "198.51.100.1", BAN_FAIL_UNIT, T0 + 600, &until), 0);
	assert_int_equal(until, 0);
	for (int i = 1; i < 4; i++) {
		assert_int_equal(record(b, "198.51.100.1", BAN_FAIL_UNIT, T0 + 600 + i, &until), 0);
		assert_int_equal(until, 0);
	}
	assert_int_equal(check(b, "198.51.100.1", T0 + 604), 0);
	/* Fifth within the window: banned for ban_time. */
	assert_int_equal(record(b, "198.51.100.1", BAN_FAIL_UNIT, T0 + 605, &until), 1);
	assert_int_equal(until, T0 + 605 + 3600);
	assert_int_equal(check(b, "198.51.100.1", T0 + 606), 1);
	assert_int_equal(check(b, "198.51.100.2", T0 + 606), 0);
	ban_close(b);
}

static void
test_expiry_and_growth(void **state)
{
	struct ban_store *b = open_default();
	struct sockaddr_storage ss = sa("203.0.113.9");
	int64_t now = T0, until = 0, got = 0;
	const int64_t want[] = { 3600, 7200, 14400, 14400, 14400 };
	struct ban_entry e;

	(void)state;
	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < 5; i++)
			assert_int_equal(record(b, "203.0.113.9", BAN_FAIL_UNIT, now, &until), i == 4);
		assert_int_equal(until, now + want[round]);
		assert_int_equal(ban_check(b, (struct sockaddr *)&ss, now + want[round] - 1,
		    &got, NULL), 1);
		assert_int_equal(got, until);
		assert_int_equal(check(b, "203.0.113.9", now + want[round]), 0);
		now += want[round] + 1;
	}
	assert_int_equal(lookup(b, "203.0.113.9", &e), 0);
	assert_int_equal(e.bans, 5);
	assert_int_equal(e.total_failures, 25 * BAN_FAIL_UNIT);

	/* A repeat offender is remembered for ban_time_max after its ban,
	 * then reclaimed. */
	assert_int_equal(ban_purge(b, now, false), 0);
	assert_int_equal(lookup(b, "203.0.113.9", &e), 0);
	assert_int_equal(ban_purge(b, now + 14400, false), 1);
	assert_int_equal(lookup(b, "203.0.113.9", &e), -ENOENT);
	ban_close(b);
}

static void
test_weights(void **state)
{
	struct ban_store *b = open_default();
	struct ban_entry e;
	struct netaddr a;
	int64_t until = 0;

	(void)state;
	/* A connection that never tried weighs a thousandth of a failed
	 * login: 300 probes in a minute are 0.3 of one. */
	for (int i = 0; i < 300; i++)
		assert_int_equal(record(b, "192.0.2.50", BAN_WEIGHT_PROBE, T0 + i / 5, &until), 0);
	assert_int_equal(until, 0);
	assert_int_equal(check(b, "192.0.2.50", T0 + 60), 0);
	assert_int_equal(ban_addr_parse("192.0.2.50", &a), 0);
	assert_int_equal(ban_lookup(b, &a, &e), 0);
	assert_int_equal(e.failures, 300);
	assert_int_equal(e.total_failures, 300);
	/* BanMaxFailures stays a number of failed logins: 4 more are 4.3 of
	 * 5, the fifth bans. */
	for (int i = 0; i < 4; i++)
		assert_int_equal(record(b, "192.0.2.50", BAN_WEIGHT_LOGIN, T0 + 60, &until), 0);
	assert_int_equal(until, 0);
	assert_int_equal(record(b, "192.0.2.50", BAN_WEIGHT_LOGIN, T0 + 61, &until), 1);
	assert_int_equal(until, T0 + 61 + 3600);

	/* Probes alone ban in the end: a flood of 5000 within the window. */
	for (int i = 0; i < 5 * (int)BAN_FAIL_UNIT - 1; i++) {
		assert_int_equal(record(b, "192.0.2.51", BAN_WEIGHT_PROBE, T0 + i / 10, &until), 0);
		assert_int_equal(until, 0);
	}
	assert_int_equal(record(b, "192.0.2.51", BAN_WEIGHT_PROBE, T0 + 500, &until), 1);
	assert_int_not_equal(until, 0);

	assert_int_equal(record(b, "192.0.2.52", 0, T0, NULL), -EINVAL);
	assert_int_equal(record(b, "192.0.2.52", 64 * BAN_FAIL_UNIT + 1, T0, NULL), -EINVAL);
	ban_close(b);
}

/* Recording says whether the source is banned after it, under the lock:
 * the failure that starts the ban and every later one (a straggler of
 * another connection) see 1; exempt sources and banning disabled never. */
static void
test_record_says_banned(void **state)
{
	struct ban_store *b = open_default();
	int64_t until = -1;

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(record(b, "198.51.100.40", BAN_WEIGHT_LOGIN, T0, &until), 0);
	assert_int_equal(record(b, "198.51.100.40", BAN_WEIGHT_LOGIN, T0, &until), 1);
	assert_int_equal(until, T0 + 3600);
	/* Stragglers: banned, but they start nothing (audited once). */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(record(b, "198.51.100.40", BAN_WEIGHT_LOGIN, T0 + 1, &until), 1);
		assert_int_equal(until, 0);
		assert_int_equal(record(b, "198.51.100.40", BAN_WEIGHT_PROBE, T0 + 1, &until), 1);
	}
	/* After the ban the count starts again. */
	assert_int_equal(record(b, "198.51.100.40", BAN_WEIGHT_LOGIN, T0 + 3601, &until), 0);
	ban_close(b);
}

/* 20 processes (as 20 connections' monitors) each fail 6 times at once
 * against one source with max_failures 5, each stopping at its first
 * "banned": exactly 4 failures in all are answered (recorded unbanned),
 * and exactly one starts the ban.  Nothing is lost or counted twice. */
static void
test_concurrent_burst_agrees(void **state)
{
	enum { PROCS = 20, TRIES = 6 };
	struct ban_store *b = open_default();
	int fds[2], answered = 0, started = 0, banned = 0;
	pid_t pids[PROCS];

	(void)state;
	ban_close(b);	/* the file exists before the race */
	assert_int_equal(pipe(fds), 0);
	for (int p = 0; p < PROCS; p++) {
		pids[p] = fork();
		assert_true(pids[p] >= 0);
		if (pids[p] == 0) {
			struct ban_store *c = NULL;
			char res[3] = { 0, 0, 0 };	/* answered, started, banned */

			close(fds[0]);
			if (ban_open(path, &(struct ban_params){ .max_failures = 5,
			    .find_time = 600, .ban_time = 3600, .ban_time_max = 3600,
			    .ipv6_prefix = 64, .max_entries = 1000 }, &c) < 0)
				_exit(1);
			for (int i = 0; i < TRIES; i++) {
				int64_t u = 0;
				int r = record(c, "203.0.113.77", BAN_WEIGHT_LOGIN, T0, &u);

				if (r < 0)
					_exit(1);
				res[1] += u != 0;
				if (r == 1) {
					res[2] = 1;
					break;
				}
				res[0]++;
			}
			ban_close(c);
			_exit(write(fds[1], res, 3) == 3 ? 0 : 1);
		}
	}
	close(fds[1]);
	for (int p = 0; p < PROCS; p++) {
		char res[3];
		int st;

		assert_int_equal(read(fds[0], res, 3), 3);
		answered += res[0];
		started += res[1];
		banned += res[2];
		assert_int_equal(waitpid(pids[p], &st, 0), pids[p]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	close(fds[0]);
	assert_int_equal(answered, 4);
	assert_int_equal(started, 1);
	assert_int_equal(banned, PROCS);
	b = open_default();
	assert_int_equal(check(b, "203.0.113.77", T0 + 1), 1);
	assert_int_equal(ban_verify(b), 0);
	ban_close(b);
}

/* Rewrites the file's header as version v (sealed: a sound header). */
static void
set_version(uint32_t v)
{
	struct ban_header h;
	int fd = open(path, O_RDWR);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	h.version = v;
	ban_header_seal(&h);
	assert_int_equal(pwrite(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	close(fd);
}

static uint32_t
file_version(void)
{
	struct ban_header h;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	close(fd);
	return h.version;
}

/* Version 1 (failures in quarters, same layout) is migrated with its
 * counts scaled and its bans kept, and said once; a newer version is
 * never rebuilt (its bans are not ours to throw away): the operations
 * fail and the caller fails open. */
static void
test_format_versions(void **state)
{
	struct ban_store *b = open_default(), *other;
	struct ban_entry e;
	struct netaddr a;
	struct stat st0, st1;
	int64_t until = 0;

	(void)state;
	/* What version 1 would hold: 9 quarters, and a ban. */
	assert_int_equal(record(b, "192.0.2.60", 3, T0, NULL), 0);
	assert_int_equal(record(b, "192.0.2.60", 6, T0, NULL), 0);
	assert_int_equal(ban_addr_parse("192.0.2.61", &a), 0);
	assert_int_equal(ban_add(b, &a, 600, T0), 0);
	ban_close(b);
	set_version(BAN_VERSION_V1);

	b = open_default();
	assert_int_equal(ban_take_migrated(b), 1);
	assert_int_equal(ban_take_migrated(b), 0);
	assert_false(ban_take_damaged(b));
	assert_int_equal(file_version(), BAN_FILE_VERSION);
	assert_int_equal(lookup(b, "192.0.2.60", &e), 0);
	assert_int_equal(e.failures, 9 * BAN_FAIL_UNIT / 4);
	assert_int_equal(e.total_failures, 9 * BAN_FAIL_UNIT / 4);
	assert_int_equal(check(b, "192.0.2.61", T0 + 599), 1);
	assert_int_equal(ban_verify(b), 0);

	/* An older sshand still running rebuilds the file as version 1 under
	 * a process that has it open: its next operation migrates again. */
	set_version(BAN_VERSION_V1);
	assert_int_equal(check(b, "192.0.2.61", T0 + 1), 1);
	assert_int_equal(ban_take_migrated(b), 1);
	assert_int_equal(file_version(), BAN_FILE_VERSION);
	/* (This file's counts were this version's: scaled twice.) */
	assert_int_equal(lookup(b, "192.0.2.60", &e), 0);
	assert_int_equal(e.failures, 9 * BAN_FAIL_UNIT / 4 * BAN_FAIL_UNIT / 4);
	assert_int_equal(record(b, "192.0.2.60", BAN_WEIGHT_LOGIN, T0, &until), 1);
	assert_int_equal(until, T0 + 3600);

	/* A newer version: left alone, byte for byte, by openers and by a
	 * process that had it open. */
	set_version(BAN_FILE_VERSION + 1);
	assert_int_equal(stat(path, &st0), 0);
	assert_int_equal(check(b, "192.0.2.61", T0 + 1), -EPROTONOSUPPORT);
	assert_int_equal(record(b, "192.0.2.60", BAN_WEIGHT_LOGIN, T0, NULL), -EPROTONOSUPPORT);
	assert_false(ban_take_damaged(b));
	other = NULL;
	{
		struct ban_params p;

		params(&p);
		assert_int_equal(ban_open(path, &p, &other), -EPROTONOSUPPORT);
	}
	assert_null(other);
	assert_int_equal(stat(path, &st1), 0);
	assert_int_equal(st1.st_ino, st0.st_ino);
	assert_int_equal(st1.st_mtim.tv_nsec, st0.st_mtim.tv_nsec);
	assert_int_equal(file_version(), BAN_FILE_VERSION + 1);
	ban_close(b);
}

static void
test_exempt_and_disabled(void **state)
{
	const char *exempt[] = { "10.0.0.0/8", "2001:db8:ad::/48" };
	struct ban_params p;
	struct ban_store *b;
	struct netaddr a;
	struct ban_entry e;
	int64_t until = -1;

	(void)state;
	params(&p);
	p.exempt = exempt;
	p.n_exempt = 2;
	b = open_p(&p);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(record(b, "10.1.2.3", BAN_FAIL_UNIT, T0, &until), 0);
		assert_int_equal(until, 0);
		assert_int_equal(record(b, "::ffff:10.9.9.9", BAN_FAIL_UNIT, T0, &until), 0);
		assert_int_equal(record(b, "2001:db8:ad:5::1", BAN_FAIL_UNIT, T0, &until), 0);
		assert_int_equal(until, 0);
	}
	assert_int_equal(check(b, "10.1.2.3", T0), 0);
	assert_int_equal(check(b, "2001:db8:ad:5::1", T0), 0);
	assert_int_equal(lookup(b, "10.1.2.3", &e), -ENOENT);
	assert_int_equal(ban_addr_parse("10.4.4.4", &a), 0);
	assert_int_equal(ban_add(b, &a, 60, T0), -EPERM);
	/* Outside the exempt networks, business as usual. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(record(b, "11.1.2.3", BAN_FAIL_UNIT, T0, &until), i == 4);
	assert_int_equal(check(b, "11.1.2.3", T0), 1);
	ban_close(b);

	/* Malformed exemption: the store refuses to open. */
	exempt[1] = "10.0.0.0/99";
	assert_int_equal(ban_open(path, &p, &b), -EINVAL);

	/* max_failures 0: no automatic bans; manual bans still hold. */
	params(&p);
	p.max_failures = 0;
	b = open_p(&p);
	for (int i = 0; i < 50; i++)
		assert_int_equal(record(b, "192.0.2.99", BAN_FAIL_UNIT, T0, &until), 0);
	assert_int_equal(check(b, "192.0.2.99", T0), 0);
	assert_int_equal(ban_addr_parse("192.0.2.99", &a), 0);
	assert_int_equal(ban_add(b, &a, 60, T0), 0);
	assert_int_equal(check(b, "192.0.2.99", T0 + 59), 1);
	assert_int_equal(check(b, "192.0.2.99", T0 + 60), 0);
	ban_close(b);
}

static void
test_admin(void **state)
{
	struct ban_store *b = open_default();
	struct netaddr a;
	struct ban_entry e;

	(void)state;
	assert_int_equal(ban_addr_parse("2001:db8::42", &a), 0);
	assert_int_equal(ban_add(b, &a, 0, T0), 0);	/* growth rule: 1 h */
	assert_int_equal(check(b, "2001:db8::1", T0 + 3599), 1);
	assert_int_equal(ban_add(b, &a, 0, T0), 0);	/* second ban: 2 h */
	assert_int_equal(lookup(b, "2001:db8::", &e), 0);
	assert_int_equal(e.banned_until, T0 + 7200);
	assert_int_equal(e.bans, 2);
	assert_int_equal(ban_add(b, &a, 90, T0), 0);
	assert_int_equal(lookup(b, "2001:db8::", &e), 0);
	assert_int_equal(e.banned_until, T0 + 90);
	assert_int_equal(ban_remove(b, &a), 0);
	assert_int_equal(ban_remove(b, &a), -ENOENT);
	assert_int_equal(check(b, "2001:db8::1", T0 + 1), 0);

	for (int i = 0; i < 20; i++) {
		char s[32];

		snprintf(s, sizeof(s), "192.0.2.%d", i);
		assert_int_equal(record(b, s, BAN_FAIL_UNIT, T0, NULL), 0);
	}
	assert_int_equal(ban_purge(b, T0 + 10, false), 0);
	assert_int_equal(ban_purge(b, T0 + 600, false), 20);
	assert_int_equal(lookup(b, "192.0.2.3", &e), -ENOENT);
	assert_int_equal(ban_add(b, &a, 90, T0), 0);
	assert_int_equal(record(b, "192.0.2.1", BAN_FAIL_UNIT, T0, NULL), 0);
	assert_int_equal(ban_purge(b, T0, true), 2);
	assert_int_equal(check(b, "2001:db8::1", T0 + 1), 0);
	assert_int_equal(ban_verify(b), 0);
	assert_false(ban_take_damaged(b));
	ban_close(b);
}

static int
count_entries(const struct ban_entry *e, void *userdata)
{
	(void)e;
	(*(int *)userdata)++;
	return 0;
}

static void
test_eviction(void **state)
{
	struct ban_params p;
	struct ban_store *b;
	struct ban_entry e;
	int n = 0;

	(void)state;
	params(&p);
	p.max_entries = 4;		/* two buckets: 16 slots */
	b = open_p(&p);
	for (int i = 0; i < 5; i++)
		assert_int_equal(record(b, "203.0.113.66", BAN_FAIL_UNIT, T0, NULL), i == 4);
	assert_int_equal(check(b, "203.0.113.66", T0), 1);
	/* Heavy offenders without a ban, then a flood of one-shot sources. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(record(b, "203.0.113.67", BAN_FAIL_UNIT, T0, NULL), 0);
	for (int i = 0; i < 500; i++) {
		char s[32];

		snprintf(s, sizeof(s), "10.%d.%d.1", i / 256, i % 256);
		assert_int_equal(record(b, s, 1, T0 + 1, NULL), 0);
	}
	/* Bounded, and the least harmful went first. */
	assert_int_equal(ban_foreach(b, count_entries, &n), 0);
	assert_true(n <= 16);
	assert_int_equal(check(b, "203.0.113.66", T0 + 2), 1);
	assert_int_equal(lookup(b, "203.0.113.67", &e), 0);
	assert_int_equal(e.failures, 3 * BAN_FAIL_UNIT);
	/* Once expired, entries make room before live ones are evicted. */
	assert_int_equal(ban_verify(b), 0);
	ban_close(b);
}

static void
test_check_readonly(void **state)
{
	struct ban_store *b = open_default();
	void *before, *after;
	size_t lb, la;

	(void)state;
	for (int i = 0; i < 5; i++)
		assert_int_equal(record(b, "198.51.100.200", BAN_FAIL_UNIT, T0, NULL), i == 4);
	read_file(&before, &lb);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(check(b, "198.51.100.200", T0 + i), 1);
		assert_int_equal(check(b, "198.51.100.201", T0 + i), 0);
	}
	read_file(&after, &la);
	assert_int_equal(la, lb);
	assert_memory_equal(before, after, la);
	free(before);
	free(after);
	ban_close(b);
}

/* Finds the slot of a key by reading the file as a reader would. */
static uint64_t
find_slot(const char *addr, struct ban_geom *g, struct ban_slot *ret)
{
	struct netaddr a, k;
	unsigned prefix;
	void *buf;
	size_t len;
	uint64_t nslots;

	assert_int_equal(ban_addr_parse(addr, &a), 0);
	read_file(&buf, &len);
	assert_int_equal(ban_header_decode(buf, g), 0);
	assert_int_equal(ban_normalise(&a, g->ipv6_prefix, &k, &prefix), 0);
	nslots = (uint64_t)g->nbuckets * BAN_BUCKET_SLOTS;
	for (uint64_t i = 0; i < nslots; i++) {
		const struct ban_slot *s = (const struct ban_slot *)((char *)buf +
		    BAN_HEADER_SIZE + i * BAN_SLOT_SIZE);
		struct ban_slot_state st;

		ban_slot_resolve(g, i, s, &st);
		if (st.used && st.e.key.family == k.family && memcmp(st.e.key.a, k.a, 16) == 0) {
			*ret = *s;
			free(buf);
			return i;
		}
	}
	free(buf);
	fail_msg("no slot for %s", addr);
	return 0;
}

static void
test_torn_write(void **state)
{
	struct ban_store *b = open_default();
	struct ban_geom g;
	struct ban_slot s;
	struct ban_slot_state st;
	struct ban_copy c;
	struct ban_entry e;
	uint64_t idx;
	off_t stale;

	(void)state;
	assert_int_equal(record(b, "192.0.2.33", BAN_FAIL_UNIT, T0, NULL), 0);
	assert_int_equal(record(b, "192.0.2.33", BAN_FAIL_UNIT, T0, NULL), 0);
	idx = find_slot("192.0.2.33", &g, &s);
	ban_slot_resolve(&g, idx, &s, &st);
	assert_true(st.newest >= 0);
	stale = (off_t)(BAN_HEADER_SIZE + idx * BAN_SLOT_SIZE +
	    (uint64_t)(1 - st.newest) * BAN_COPY_SIZE);

	/* Killed between writing the draft and publishing its seq: the
	 * draft is invisible and the file consistent. */
	e = st.e;
	e.failures = 99 * BAN_FAIL_UNIT;
	ban_copy_encode(&g, idx, &e, st.seq + 1, &c);
	c.seq = 0;
	write_at(&c, sizeof(c), stale);
	assert_int_equal(lookup(b, "192.0.2.33", &e), 0);
	assert_int_equal(e.failures, 2 * BAN_FAIL_UNIT);
	assert_int_equal(ban_verify(b), 0);

	/* A torn copy (half of a newer one over the stale copy): detected,
	 * and the previous state stands. */
	e.failures = 77 * BAN_FAIL_UNIT;
	e.total_failures = 77 * BAN_FAIL_UNIT;	/* in the half not written */
	ban_copy_encode(&g, idx, &e, st.seq + 1, &c);
	write_at(&c, sizeof(c) / 2, stale);
	assert_int_equal(lookup(b, "192.0.2.33", &e), 0);
	assert_int_equal(e.failures, 2 * BAN_FAIL_UNIT);
	assert_int_equal(check(b, "192.0.2.33", T0), 0);
	assert_int_equal(ban_verify(b), -EBADMSG);
	/* The next update overwrites the torn copy: clean again. */
	assert_int_equal(record(b, "192.0.2.33", BAN_FAIL_UNIT, T0, NULL), 0);
	assert_int_equal(lookup(b, "192.0.2.33", &e), 0);
	assert_int_equal(e.failures, 3 * BAN_FAIL_UNIT);
	assert_int_equal(ban_verify(b), 0);

	/* Both copies damaged: the slot is dropped, not trusted. */
	idx = find_slot("192.0.2.33", &g, &s);
	memset(&s, 0x5a, sizeof(s));
	write_at(&s, sizeof(s), (off_t)(BAN_HEADER_SIZE + idx * BAN_SLOT_SIZE));
	assert_int_equal(lookup(b, "192.0.2.33", &e), -ENOENT);
	assert_true(ban_take_damaged(b));
	assert_int_equal(ban_verify(b), -EBADMSG);
	assert_int_equal(ban_purge(b, T0, false), 0);
	assert_int_equal(ban_verify(b), 0);
	ban_close(b);
}

/* A sealed copy with a time no writer produces (before 1970, as a
 * damaged writer or a hand-edited file might leave): refused like a torn
 * copy, never used in the time arithmetic, where it overflowed (found by
 * tests/fuzz/fuzz_banfile.c; this test runs under UBSan too). */
static void
test_impossible_times(void **state)
{
	static const int64_t bad[] = { -1, INT64_MIN, INT64_MIN + T0 };
	struct ban_store *b = open_default();

	(void)state;
	for (size_t k = 0; k < 3 * sizeof(bad) / sizeof(bad[0]); k++) {
		struct ban_geom g;
		struct ban_slot s;
		struct ban_slot_state st;
		struct ban_copy c;
		struct ban_entry e;
		uint64_t idx;
		int64_t *field[] = { &e.window_start, &e.last_failure,
		    &e.banned_until };

		assert_true(ban_purge(b, T0, true) >= 0);
		assert_int_equal(record(b, "192.0.2.34", BAN_FAIL_UNIT, T0, NULL), 0);
		idx = find_slot("192.0.2.34", &g, &s);
		ban_slot_resolve(&g, idx, &s, &st);
		assert_true(st.newest >= 0);
		e = st.e;
		e.bans = 1;
		*field[k % 3] = bad[k / 3];
		ban_copy_encode(&g, idx, &e, st.seq + 1, &c);
		write_at(&c, sizeof(c), (off_t)(BAN_HEADER_SIZE +
		    idx * BAN_SLOT_SIZE + (uint64_t)(1 - st.newest) * BAN_COPY_SIZE));
		/* The previous copy stands. */
		assert_int_equal(lookup(b, "192.0.2.34", &e), 0);
		assert_int_equal(e.bans, 0);
		assert_int_equal(e.failures, BAN_FAIL_UNIT);
		assert_int_equal(ban_verify(b), -EBADMSG);
		/* Purging weighs every entry's times. */
		assert_true(ban_purge(b, T0 + 86400, false) >= 0);
	}
	ban_close(b);
}

enum damage { TRUNCATE, TRUNCATE_EMPTY, MAGIC, VERSION, HEADER_BYTE, GROW };

static void
damage(enum damage d)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	struct ban_header h;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	switch (d) {
	case TRUNCATE:
		assert_int_equal(ftruncate(fd, 10000), 0);
		break;
	case TRUNCATE_EMPTY:
		assert_int_equal(ftruncate(fd, 0), 0);
		break;
	case MAGIC:
		h.magic[0] ^= 1;
		break;
	case VERSION:
		/* Unsealed: damage, not a newer version (test_format_versions). */
		h.version = BAN_FILE_VERSION + 7;
		break;
	case HEADER_BYTE:
		h.nbuckets++;
		break;
	case GROW:
		assert_int_equal(pwrite(fd, "x", 1, 1 << 26), 1);
		break;
	}
	if (d == MAGIC || d == VERSION || d == HEADER_BYTE)
		assert_int_equal(pwrite(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	close(fd);
}

static void
test_damage_rebuild(void **state)
{
	const enum damage kinds[] = { TRUNCATE, TRUNCATE_EMPTY, MAGIC, VERSION,
	    HEADER_BYTE, GROW };

	(void)state;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct ban_store *b = open_default(), *b2;
		struct sockaddr_storage ss = sa("203.0.113.5");
		bool damaged = false;
		int64_t until = 0;

		for (int i = 0; i < 5; i++)
			assert_int_equal(record(b, "203.0.113.5", BAN_FAIL_UNIT, T0, NULL), i == 4);
		assert_int_equal(check(b, "203.0.113.5", T0), 1);
		damage(kinds[k]);
		/* Detected by verify (which repairs nothing). */
		assert_int_equal(ban_verify(b), -EBADMSG);
		/* The check fails open, reports, and the file is rebuilt. */
		assert_int_equal(ban_check(b, (struct sockaddr *)&ss, T0, &until, &damaged), 0);
		assert_true(damaged);
		assert_int_equal(ban_verify(b), 0);
		/* Another process sees the rebuilt file, not damage. */
		b2 = open_default();
		assert_false(ban_take_damaged(b2));
		assert_int_equal(record(b2, "203.0.113.6", BAN_FAIL_UNIT, T0, NULL), 0);
		ban_close(b2);
		assert_int_equal(check(b, "203.0.113.6", T0), 0);
		assert_int_equal(ban_verify(b), 0);
		ban_close(b);

		/* Damage found at open is reported once too. */
		damage(kinds[k]);
		b = open_default();
		assert_true(ban_take_damaged(b));
		assert_false(ban_take_damaged(b));
		ban_close(b);
		unlink(path);
	}
}

static void
test_migration(void **state)
{
	struct ban_params p;
	struct ban_store *small, *big;
	struct ban_entry e;
	struct stat st;

	(void)state;
	params(&p);
	p.max_entries = 16;
	small = open_p(&p);
	for (int i = 0; i < 5; i++)
		assert_int_equal(record(small, "192.0.2.200", BAN_FAIL_UNIT, T0, NULL), i == 4);
	assert_int_equal(record(small, "2001:db8:0:1::1", BAN_FAIL_UNIT, T0, NULL), 0);
	p.max_entries = 5000;
	big = open_p(&p);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal((uint64_t)st.st_size, BAN_HEADER_SIZE +
	    (uint64_t)((5000 * 3 / 2 + 1 + 7) / 8) * BAN_BUCKET_SIZE);
	assert_int_equal(check(big, "192.0.2.200", T0 + 1), 1);
	assert_int_equal(lookup(big, "2001:db8:0:1::", &e), 0);
	/* The old handle follows the file to its new inode. */
	assert_int_equal(record(small, "2001:db8:0:1::1", BAN_FAIL_UNIT, T0, NULL), 0);
	assert_int_equal(lookup(big, "2001:db8:0:1::", &e), 0);
	assert_int_equal(e.failures, 2 * BAN_FAIL_UNIT);
	assert_int_equal(ban_verify(small), 0);
	assert_int_equal(ban_verify(big), 0);
	ban_close(small);
	ban_close(big);
}

static void
test_concurrent(void **state)
{
	struct ban_store *b;
	struct ban_entry e;
	const int nproc = 16, each = 10;

	(void)state;
	b = open_default();
	for (int i = 0; i < nproc; i++) {
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			struct ban_params p;
			struct ban_store *c;
			int bad = 0;

			params(&p);
			p.max_failures = 1000;
			if (ban_open(path, &p, &c) < 0)
				_exit(1);
			for (int j = 0; j < each; j++)
				bad |= record(c, "198.51.100.77", BAN_FAIL_UNIT, T0, NULL) < 0;
			ban_close(c);
			_exit(bad);
		}
	}
	for (int i = 0; i < nproc; i++) {
		int status;

		assert_true(wait(&status) > 0);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(lookup(b, "198.51.100.77", &e), 0);
	assert_int_equal(e.total_failures, nproc * each * BAN_FAIL_UNIT);
	ban_close(b);
}

static int
noop(const struct ban_entry *e, void *userdata)
{
	(void)e, (void)userdata;
	return 0;
}

/* Random bytes anywhere, random sizes: every call returns, none crashes,
 * and the store works again afterwards. */
static void
test_fuzz(void **state)
{
	struct ban_params p;
	unsigned seed = 12345;
	uint8_t junk[4096];

	(void)state;
	params(&p);
	p.max_entries = 64;
	srand(seed);
	for (int iter = 0; iter < 2000; iter++) {
		struct ban_store *b = open_p(&p);
		struct ban_geom g;
		struct netaddr a;
		struct ban_entry e;
		struct stat st;
		int64_t until;
		char s[32];
		int r;

		for (int i = 0; i < 8; i++) {
			snprintf(s, sizeof(s), "192.0.2.%d", rand() % 32);
			r = record(b, s, BAN_FAIL_UNIT, T0, NULL);
			assert_true(r == 0 || r == 1);
		}
		assert_int_equal(stat(path, &st), 0);
		for (int n = rand() % 6; n >= 0; n--) {
			size_t len = (size_t)(rand() % (int)sizeof(junk)) + 1;
			off_t off = (off_t)(rand() % (int)st.st_size);

			for (size_t i = 0; i < len; i++)
				junk[i] = (uint8_t)rand();
			if (rand() % 8 == 0)
				off = rand() % 64;		/* the header */
			write_at(junk, len, off);
		}
		if (rand() % 10 == 0) {
			int fd = open(path, O_RDWR | O_CLOEXEC);

			assert_int_equal(ftruncate(fd, rand() % st.st_size), 0);
			close(fd);
		}
		/* A header of valid form but forged geometry must not make
		 * anyone read past the end. */
		if (rand() % 10 == 0) {
			struct ban_header h;

			g.nbuckets = (uint32_t)(rand() % 100000) + 2;
			g.ipv6_prefix = (uint32_t)(rand() % 128) + 1;
			memset(g.key, 7, 16);
			ban_header_encode(&g, &h);
			write_at(&h, sizeof(h), 0);
		}
		for (int i = 0; i < 8; i++) {
			snprintf(s, sizeof(s), "192.0.2.%d", rand() % 32);
			r = check(b, s, T0);
			assert_true(r == 0 || r == 1);
			(void)ban_verify(b);
			r = record(b, s, BAN_FAIL_UNIT, T0, &until);
			assert_true(r == 0 || r == 1);
			assert_int_equal(ban_addr_parse(s, &a), 0);
			r = ban_lookup(b, &a, &e);
			assert_true(r == 0 || r == -ENOENT);
			assert_true(ban_foreach(b, noop, NULL) >= 0);
		}
		assert_true(ban_purge(b, T0, rand() % 2) >= 0);
		/* Damage is repaired or dropped by the writers above. */
		assert_int_equal(record(b, "198.51.100.1", BAN_FAIL_UNIT, T0, NULL), 0);
		r = ban_purge(b, T0, false);
		assert_true(r >= 0);
		assert_int_equal(ban_verify(b), 0);
		ban_close(b);
		if (iter % 50 == 0)
			unlink(path);
	}
}

static void
test_bad_args(void **state)
{
	struct ban_params p;
	struct ban_store *b;
	struct sockaddr_storage ss;

	(void)state;
	params(&p);
	p.max_entries = 0;
	assert_int_equal(ban_open(path, &p, &b), -EINVAL);
	params(&p);
	p.ipv6_prefix = 129;
	assert_int_equal(ban_open(path, &p, &b), -EINVAL);
	params(&p);
	assert_int_equal(ban_open("/nonexistent-dir/bans", &p, &b), -ENOENT);
	assert_int_equal(ban_open(dir, &p, &b), -EISDIR);
	b = open_default();
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	assert_int_equal(ban_check(b, (struct sockaddr *)&ss, T0, NULL, NULL), -EAFNOSUPPORT);
	ban_close(b);
	ban_close(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_created, setup, teardown),
		cmocka_unit_test_setup_teardown(test_normalise, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefix_param, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_and_growth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_weights, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_says_banned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_burst_agrees, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exempt_and_disabled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eviction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_readonly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_impossible_times, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damage_rebuild, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fuzz, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
