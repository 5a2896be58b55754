/* Unit tests of BanStore's value parser (policy/ban-url.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "policy/ban-url.h"

static void
test_file(void **state)
{
	struct ban_url u;
	const char *why = NULL;

	(void)state;
	assert_int_equal(ban_url_parse("file", &u, &why), 0);
	assert_int_equal(u.kind, BAN_URL_FILE);
	assert_string_equal(u.path, "");
	assert_int_equal(ban_url_parse("file:/var/lib/sshand/bans", &u, &why), 0);
	assert_int_equal(u.kind, BAN_URL_FILE);
	assert_string_equal(u.path, "/var/lib/sshand/bans");
	assert_int_equal(ban_url_parse("file:bans", &u, &why), -EINVAL);
	assert_non_null(strstr(why, "absolute"));
	assert_int_equal(ban_url_parse("file:", &u, &why), -EINVAL);
}

static void
test_redis(void **state)
{
	struct ban_url u;
	const char *why = NULL;

	(void)state;
	assert_int_equal(ban_url_parse("redis://127.0.0.1", &u, &why), 0);
	assert_int_equal(u.kind, BAN_URL_REDIS);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 6379);
	assert_int_equal(u.db, 0);
	assert_false(u.has_password);

	assert_int_equal(ban_url_parse("redis://redis.example.net:6380/2", &u, &why), 0);
	assert_string_equal(u.host, "redis.example.net");
	assert_int_equal(u.port, 6380);
	assert_int_equal(u.db, 2);

	assert_int_equal(ban_url_parse("redis://h/", &u, &why), 0);
	assert_int_equal(u.db, 0);

	/* Redis 6 ACL user, and the password alone (requirepass). */
	assert_int_equal(ban_url_parse("redis://sync:s%3Ac%40r%2Fet@h:1/15", &u, &why), 0);
	assert_string_equal(u.user, "sync");
	assert_string_equal(u.password, "s:c@r/et");
	assert_true(u.has_password);
	assert_int_equal(u.db, 15);
	assert_int_equal(ban_url_parse("redis://:pw@h", &u, &why), 0);
	assert_string_equal(u.user, "");
	assert_string_equal(u.password, "pw");
	ban_url_wipe(&u);
	assert_string_equal(u.password, "");

	assert_int_equal(ban_url_parse("redis://[2001:db8::7]:7000/1", &u, &why), 0);
	assert_string_equal(u.host, "2001:db8::7");
	assert_int_equal(u.port, 7000);
	assert_int_equal(u.db, 1);
	assert_int_equal(ban_url_parse("redis://[::1]", &u, &why), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 6379);
}

static void
test_refused(void **state)
{
	static const char *const bad[] = {
		"", "redis", "redis://", "redis://:6379", "redis://h:0", "redis://h:65536",
		"redis://h:x", "redis://h:6379/x", "redis://h:6379/1/2", "redis://h/-1",
		"redis://h/1000001", "redis://h?db=1", "redis://h#x", "redis://user@h",
		"redis://u:@h", "redis://h o", "redis://h\t", "redis://[::1", "redis://[]",
		"redis://[::1]x", "redis://[zz]", "redis://u:p%4@h", "redis://u:p%zz@h",
		"redis://u:p%00@h", "redis://ho$t", "http://h", "file:", "FILE",
		"redis://u:p:q@h",
	};
	struct ban_url u;
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (ban_url_parse(bad[i], &u, &why) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_non_null(why);
		assert_string_equal(u.password, "");
	}
	/* TLS: said plainly, not "bad URL". */
	assert_int_equal(ban_url_parse("rediss://h:6380/0", &u, &why), -EINVAL);
	assert_non_null(strstr(why, "TLS"));
}

static void
test_redact(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(ban_url_redact("redis://u:secret@h:1/2", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "redis://u:********@h:1/2");
	assert_int_equal(ban_url_redact("redis://:secret@h", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "redis://:********@h");
	assert_int_equal(ban_url_redact("redis://h:1/2", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "redis://h:1/2");
	assert_int_equal(ban_url_redact("file:/x", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "file:/x");
	assert_int_equal(ban_url_redact("redis://u:secret@h", buf, 8), -ENOBUFS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_redis),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_redact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
