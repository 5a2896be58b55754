/* Unit tests for policy/startups.c: MaxStartups' syntax, its random early
 * drop, and per-source buckets. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "policy/startups.h"

static void
test_parse(void **state)
{
	struct startups_params p;

	(void)state;
	assert_int_equal(startups_parse("10:30:100", "8", "32:128", &p), 0);
	assert_int_equal(p.start, 10);
	assert_int_equal(p.rate, 30);
	assert_int_equal(p.full, 100);
	assert_int_equal(p.per_source, 8);
	assert_int_equal(p.v4_bits, 32);
	assert_int_equal(p.v6_bits, 128);
	/* A single number: that many, no random drop before. */
	assert_int_equal(startups_parse("7", "none", "24", &p), 0);
	assert_int_equal(p.start, 7);
	assert_int_equal(p.full, 7);
	assert_int_equal(p.per_source, 0);
	assert_int_equal(p.v4_bits, 24);
	assert_int_equal(p.v6_bits, 128);
	static const char *const bad[] = { "", "10:30", "10:30:", "20:30:10",
	    "1:101:9", "0", "a", "10:30:100:4", "-1", ":30:100", "10::100" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(startups_parse(bad[i], "none", "32", &p), -EINVAL);
	assert_int_equal(startups_parse("10", "0", "32", &p), -EINVAL);
	assert_int_equal(startups_parse("10", "x", "32", &p), -EINVAL);
	assert_int_equal(startups_parse("10", "none", "33", &p), -EINVAL);
	assert_int_equal(startups_parse("10", "none", "32:129", &p), -EINVAL);
	assert_int_equal(startups_parse("10", "none", "32:64:1", &p), -EINVAL);
}

static void
test_drop(void **state)
{
	struct startups_params p;

	(void)state;
	assert_int_equal(startups_parse("10:30:100", "none", "32", &p), 0);
	/* Below start: never; at start: rate percent; at full: always. */
	for (unsigned roll = 0; roll < 100; roll++) {
		assert_false(startups_drop(&p, 9, roll));
		assert_int_equal(startups_drop(&p, 10, roll), roll < 30);
		assert_true(startups_drop(&p, 100, roll));
		assert_true(startups_drop(&p, 1000, roll));
	}
	/* Halfway between start and full: halfway between rate and 100. */
	assert_true(startups_drop(&p, 55, 64));
	assert_false(startups_drop(&p, 55, 66));
	assert_int_equal(startups_parse("5", "none", "32", &p), 0);
	assert_false(startups_drop(&p, 4, 0));
	assert_true(startups_drop(&p, 5, 99));
}

static void
test_buckets(void **state)
{
	struct startups_params p;
	uint8_t a[16] = { 192, 0, 2, 7 }, b[16] = { 192, 0, 2, 200 };
	uint8_t c[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 9, 9, 9, 9, 9, 9, 9, 9 };
	uint8_t d[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8 };

	(void)state;
	assert_int_equal(startups_parse("10", "4", "32:128", &p), 0);
	assert_int_not_equal(startups_bucket(&p, a, true, 1u << 20),
	    startups_bucket(&p, b, true, 1u << 20));
	assert_int_not_equal(startups_bucket(&p, c, false, 1u << 20),
	    startups_bucket(&p, d, false, 1u << 20));
	/* The same net block: the same bucket. */
	assert_int_equal(startups_parse("10", "4", "24:64", &p), 0);
	assert_int_equal(startups_bucket(&p, a, true, 4096),
	    startups_bucket(&p, b, true, 4096));
	assert_int_equal(startups_bucket(&p, c, false, 4096),
	    startups_bucket(&p, d, false, 4096));
	assert_true(startups_bucket(&p, a, true, 4096) < 4096);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_drop),
		cmocka_unit_test(test_buckets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
