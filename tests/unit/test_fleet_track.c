/* Unit tests of the fleet sync's memory (policy/ctl/fleet-track.c): which
 * local failures are new, across scans, evictions and restarts; and of
 * ban_mirror, by which the fleet's bans enter the file. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy/ban.h"
#include "policy/ctl/fleet-track.h"

#define T0 1000000000

static struct ban_entry
entry(const char *addr, uint32_t total, int64_t until)
{
	struct ban_entry e;

	memset(&e, 0, sizeof(e));
	assert_int_equal(ban_addr_parse(addr, &e.key), 0);
	e.prefix = e.key.family == AF_INET ? 32 : 64;
	e.total_failures = total;
	e.banned_until = until;
	e.bans = until ? 1 : 0;
	return e;
}

static void
scan(struct fleet_tracker *t, const struct ban_entry *v, size_t n)
{
	fleet_scan_begin(t);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(fleet_scan_entry(t, &v[i]), 0);
	assert_int_equal(fleet_scan_end(t), 0);
}

static uint64_t
pending(struct fleet_tracker *t, const char *addr)
{
	struct ban_entry e = entry(addr, 0, 0);
	struct fleet_track *x = fleet_track_find(t, &e.key, e.prefix);

	return x ? x->pending : UINT64_MAX;
}

static void
test_deltas(void **state)
{
	struct fleet_tracker t;
	struct ban_entry v[3];

	(void)state;
	memset(&t, 0, sizeof(t));
	/* The baseline publishes nothing: it may have been already. */
	v[0] = entry("192.0.2.1", 3000, 0);
	v[1] = entry("2001:db8::/64", 1000, 0);
	scan(&t, v, 2);
	assert_int_equal(pending(&t, "192.0.2.1"), 0);
	assert_int_equal(pending(&t, "2001:db8::/64"), 0);
	/* Growth is new failures, a new key all of its total. */
	v[0] = entry("192.0.2.1", 5000, 0);
	v[2] = entry("192.0.2.3", 1001, 0);
	scan(&t, v, 3);
	assert_int_equal(pending(&t, "192.0.2.1"), 2000);
	assert_int_equal(pending(&t, "2001:db8::/64"), 0);
	assert_int_equal(pending(&t, "192.0.2.3"), 1001);
	assert_int_equal(fleet_pending_total(&t), 3001);
	/* Unpublished failures pile up (Redis away)... */
	v[0] = entry("192.0.2.1", 6000, 0);
	scan(&t, v, 3);
	assert_int_equal(pending(&t, "192.0.2.1"), 3000);
	/* ...and survive the key leaving the file (evicted, purged); once
	 * published, a gone key is forgotten. */
	scan(&t, v + 1, 1);
	assert_int_equal(pending(&t, "192.0.2.1"), 3000);
	assert_int_equal(pending(&t, "192.0.2.3"), 1001);
	fleet_track_find(&t, &v[0].key, 32)->pending = 0;
	scan(&t, v + 1, 1);
	assert_int_equal(pending(&t, "192.0.2.1"), UINT64_MAX);
	/* A total lower than before: the entry was made again. */
	v[1] = entry("2001:db8::/64", 500, 0);
	scan(&t, v + 1, 1);
	assert_int_equal(pending(&t, "2001:db8::/64"), 500);
	fleet_tracker_free(&t);
}

static void
test_bans(void **state)
{
	struct fleet_tracker t;
	struct ban_entry v[1];
	struct fleet_track *x;

	(void)state;
	memset(&t, 0, sizeof(t));
	v[0] = entry("192.0.2.7", 5000, T0 + 3600);
	scan(&t, v, 1);
	x = fleet_track_find(&t, &v[0].key, 32);
	assert_non_null(x);
	/* A local ban the fleet lacks; and no more once it has it. */
	assert_true(fleet_track_ban_unpublished(x, T0));
	x->fleet_until = T0 + 3600;
	assert_false(fleet_track_ban_unpublished(x, T0));
	/* Kept across scans. */
	scan(&t, v, 1);
	x = fleet_track_find(&t, &v[0].key, 32);
	assert_false(fleet_track_ban_unpublished(x, T0));
	/* An expired one is nobody's business. */
	x->fleet_until = 0;
	assert_false(fleet_track_ban_unpublished(x, T0 + 3600));
	/* A fleet ban for a key the file does not have. */
	v[0] = entry("203.0.113.5", 0, 0);
	x = fleet_track_get(&t, &v[0].key, 32);
	assert_non_null(x);
	assert_int_equal(x->pending, 0);
	assert_ptr_equal(fleet_track_find(&t, &v[0].key, 32), x);
	assert_int_equal(t.n, 2);
	fleet_tracker_free(&t);
}

/* The state file: what a restarted service counts from. */
static void
test_state(void **state)
{
	struct fleet_tracker t, u;
	struct ban_entry v[2];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	memset(&t, 0, sizeof(t));
	memset(&u, 0, sizeof(u));
	v[0] = entry("192.0.2.1", 3000, 0);
	v[0].last_failure = T0;
	v[1] = entry("2001:db8:1::/64", 1000, 0);
	scan(&t, v, 2);
	v[0].total_failures = 4000;
	scan(&t, v, 2);
	assert_int_equal(pending(&t, "192.0.2.1"), 1000);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(fleet_state_write(&t, f), 0);
	assert_int_equal(fclose(f), 0);

	f = fmemopen(buf, len, "r");
	assert_non_null(f);
	assert_int_equal(fleet_state_read(&u, f), 0);
	fclose(f);
	assert_int_equal(u.n, 2);
	assert_true(u.baselined);
	assert_int_equal(pending(&u, "192.0.2.1"), 1000);
	assert_int_equal(fleet_track_find(&u, &v[0].key, 32)->last_failure, T0);
	/* Counting goes on from the saved totals: what was recorded while
	 * the service was stopped is new, nothing else. */
	v[0].total_failures = 6000;
	v[1].total_failures = 1000;
	scan(&u, v, 2);
	assert_int_equal(pending(&u, "192.0.2.1"), 3000);
	assert_int_equal(pending(&u, "2001:db8:1::/64"), 0);
	/* Failures whose last one is BanFindTime old are dropped. */
	fleet_track_find(&u, &v[0].key, 32)->last_failure = T0;
	assert_int_equal(fleet_expire_pending(&u, T0 + 599, 600), 0);
	assert_int_equal(fleet_expire_pending(&u, T0 + 600, 600), 3000);
	assert_int_equal(pending(&u, "192.0.2.1"), 0);
	fleet_tracker_free(&u);

	/* Anything else is refused, the tracker left empty. */
	{
		static const char *const bad[] = {
			"",
			"sshand fleet-sync state 2\n",
			"sshand fleet-sync state 1\n4 32 c0000201 1 2 3\n",
			"sshand fleet-sync state 1\n5 32 c0000201000000000000000000000000 1 2 3\n",
			"sshand fleet-sync state 1\n4 24 c0000201000000000000000000000000 1 2 3\n",
			"sshand fleet-sync state 1\n4 32 c0000201000000000000000000000000 1 2\n",
			"sshand fleet-sync state 1\n4 32 c0000201000000000000000000000000 9999999999 2 3\n",
			"sshand fleet-sync state 1\n4 32 c0000201000000000000000000000000 1 2 3",
			/* The same key twice. */
			("sshand fleet-sync state 1\n4 32 c0000201000000000000000000000000 1 2 3\n"
			"4 32 c0000201000000000000000000000000 1 2 3\n"),
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			memset(&u, 0, sizeof(u));
			f = fmemopen((void *)bad[i], strlen(bad[i]) ? strlen(bad[i]) : 1, "r");
			assert_non_null(f);
			if (fleet_state_read(&u, f) != -EBADMSG)
				fail_msg("accepted state %zu", i);
			fclose(f);
			assert_int_equal(u.n, 0);
			assert_false(u.baselined);
			fleet_tracker_free(&u);
		}
	}
	free(buf);
	fleet_tracker_free(&t);
}

static void
test_mirror(void **state)
{
	static const char *const exempt[] = { "198.51.100.0/24", "2001:db8:9::5" };
	struct ban_params p;
	struct ban_store *b;
	struct ban_entry e;
	struct netaddr a;
	char dir[] = "/tmp/test_fleet.XXXXXX", path[64], cmd[96];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bans", dir);
	memset(&p, 0, sizeof(p));
	p.max_failures = 5;
	p.find_time = 600;
	p.ban_time = 3600;
	p.ban_time_max = 4 * 3600;
	p.ipv6_prefix = 64;
	p.max_entries = 1000;
	p.exempt = exempt;
	p.n_exempt = 2;
	assert_int_equal(ban_open(path, &p, &b), 0);
	assert_int_equal(ban_addr_parse("192.0.2.9", &a), 0);
	assert_int_equal(ban_mirror(b, &a, T0 + 100, 2, T0), 1);
	assert_int_equal(ban_lookup(b, &a, &e), 0);
	assert_int_equal(e.banned_until, T0 + 100);
	assert_int_equal(e.bans, 2);
	assert_int_equal(e.total_failures, 0);
	/* Only ever longer: the same or a shorter ban writes nothing. */
	assert_int_equal(ban_mirror(b, &a, T0 + 100, 1, T0), 0);
	assert_int_equal(ban_mirror(b, &a, T0 + 50, 1, T0), 0);
	assert_int_equal(ban_mirror(b, &a, T0 + 200, 1, T0), 1);
	assert_int_equal(ban_lookup(b, &a, &e), 0);
	assert_int_equal(e.banned_until, T0 + 200);
	assert_int_equal(e.bans, 2);
	/* Expired already: nothing. */
	assert_int_equal(ban_mirror(b, &a, T0, 1, T0), 0);
	/* Exempt, and a network that holds an exempt address. */
	assert_int_equal(ban_addr_parse("198.51.100.3", &a), 0);
	assert_int_equal(ban_mirror(b, &a, T0 + 100, 1, T0), -EPERM);
	assert_int_equal(ban_addr_parse("2001:db8:9::/64", &a), 0);
	assert_int_equal(ban_mirror(b, &a, T0 + 100, 1, T0), -EPERM);
	assert_int_equal(ban_lookup(b, &a, &e), -ENOENT);
	ban_close(b);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deltas),
		cmocka_unit_test(test_bans),
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_mirror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
