/* Unit tests for policy/util/: base64 against RFC 4648's vectors and its
 * strictness, the SSH wire reader's and writer's bounds, JSON strings and
 * which bytes count as text, bounded decimal numbers. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy/util/base64.h"
#include "policy/util/decimal.h"
#include "policy/util/json.h"
#include "policy/util/sshwire.h"

/* RFC 4648 section 10. */
static const struct {
	const char *raw, *b64;
} vectors[] = {
	{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
};

static void
test_base64_vectors(void **state)
{
	char out[32], unpadded[32];
	uint8_t back[32];
	size_t n, i;

	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		size_t len = strlen(vectors[i].raw);

		base64_encode((const uint8_t *)vectors[i].raw, len, out, true);
		assert_string_equal(out, vectors[i].b64);
		assert_true(strlen(out) + 1 <= BASE64_ENCODED_SIZE(len));
		base64_encode((const uint8_t *)vectors[i].raw, len, unpadded, false);
		snprintf(out, sizeof(out), "%.*s", (int)strcspn(vectors[i].b64, "="),
		    vectors[i].b64);
		assert_string_equal(unpadded, out);
		if (len == 0)
			continue;
		assert_int_equal(base64_decode(vectors[i].b64, strlen(vectors[i].b64),
		    back, sizeof(back), &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(back, vectors[i].raw, len);
	}
}

static void
test_base64_strict(void **state)
{
	static const char *const bad[] = {
		"", "Zg=", "Zg", "Z===", "Zm9v!mFy", "Zg==Zg==", "=Zm9", "Zm=v",
		"Zm9v\n", " Zm9v",
	};
	uint8_t out[16];
	size_t n, i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(base64_decode(bad[i], strlen(bad[i]), out,
		    sizeof(out), &n), -EINVAL);
	/* Six bytes do not fit in five. */
	assert_int_equal(base64_decode("Zm9vYmFy", 8, out, 5, &n), -E2BIG);
	assert_int_equal(base64_decode("Zm9vYmFy", 8, out, 6, &n), 0);
}

static void
test_wire_reader(void **state)
{
	static const uint8_t msg[] = {
		0x01, 0xde, 0xad, 0xbe, 0xef,
		0, 0, 0, 3, 'a', 'b', 'c',
		0, 0, 0, 0, 0, 0, 0, 42,
	};
	struct wire_reader r = wire_reader(msg, sizeof(msg));
	const uint8_t *s;
	size_t n = 0;

	(void)state;
	assert_int_equal(wire_get_u8(&r), 1);
	assert_int_equal(wire_get_u32(&r), 0xdeadbeef);
	s = wire_get_string(&r, 3, &n);
	assert_non_null(s);
	assert_int_equal(n, 3);
	assert_memory_equal(s, "abc", 3);
	assert_false(wire_done(&r));
	assert_true(wire_get_u64(&r) == 42);
	assert_true(wire_done(&r));

	/* Past the end: nothing, and it sticks. */
	assert_int_equal(wire_get_u32(&r), 0);
	assert_true(r.bad);
	assert_false(wire_done(&r));

	/* A string over its bound, and one longer than what is left. */
	r = wire_reader(msg + 5, 7);
	assert_null(wire_get_string(&r, 2, &n));
	assert_true(r.bad);
	assert_null(wire_get_string(&r, 100, &n));
	r = wire_reader(msg + 5, 6);
	assert_null(wire_get_string(&r, 100, &n));
	assert_true(r.bad);
}

static void
test_wire_writer(void **state)
{
	uint8_t buf[12];
	struct wire_writer w = { .p = buf, .cap = sizeof(buf) };
	struct wire_reader r;
	size_t n;

	(void)state;
	wire_put_u8(&w, 7);
	wire_put_string(&w, "hello", 5);
	assert_false(w.bad);
	assert_int_equal(w.len, 10);
	/* A string that does not fit is not half-written. */
	wire_put_string(&w, "xy", 2);
	assert_true(w.bad);
	assert_int_equal(w.len, 10);
	wire_put_u8(&w, 1);
	assert_int_equal(w.len, 10);

	r = wire_reader(buf, w.len);
	assert_int_equal(wire_get_u8(&r), 7);
	assert_memory_equal(wire_get_string(&r, 5, &n), "hello", 5);
	assert_true(wire_done(&r));
}

static void
test_json(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", "\"\"" },
		{ "plain", "\"plain\"" },
		{ "q\"b\\s", "\"q\\\"b\\\\s\"" },
		{ "nl\ntab\t\x7f", "\"nl\\u000atab\\u0009\\u007f\"" },
		/* Valid UTF-8 passes: é, €, U+1F600. */
		{ "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"" },
		/* Not UTF-8: a lone continuation, an overlong '/', a
		 * surrogate, a cut sequence. */
		{ "a\x80" "b", "\"a\\ufffdb\"" },
		{ "\xc0\xaf", "\"\\ufffd\\ufffd\"" },
		{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },
		{ "\xe2\x82", "\"\\ufffd\\ufffd\"" },
	};
	char buf[64], *mem;
	size_t off, i, len;
	FILE *f;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		off = 0;
		assert_int_equal(json_append_string(buf, sizeof(buf), &off,
		    cases[i].in), 0);
		assert_int_equal(off, strlen(cases[i].out));
		assert_memory_equal(buf, cases[i].out, off);

		f = open_memstream(&mem, &len);
		assert_non_null(f);
		json_print_string(f, cases[i].in);
		fclose(f);
		assert_string_equal(mem, cases[i].out);
		free(mem);
	}
	/* Too small: an error, and *off untouched. */
	off = 3;
	assert_int_equal(json_append_string(buf, 8, &off, "abcd"), -ENOBUFS);
	assert_int_equal(off, 3);
	off = 0;
	assert_int_equal(json_append_string(buf, 6, &off, "abcd"), 0);
	assert_int_equal(off, 6);
}

/* What journalctl shows as a string; anything else is an array of bytes. */
static void
test_json_is_text(void **state)
{
	static const struct {
		const char *s;
		size_t len;
		bool text;
	} cases[] = {
#define T(s, text) { s, sizeof(s) - 1, text }
		T("", true),
		T("plain text", true),
		T("tab\tand\nnewline", true),
		T("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", true),
		T("cr\r", false),
		T("esc\x1b[2J", false),
		T("del\x7f", false),
		T("nul\0in", false),
		T("c1\xc2\x85", false),	/* U+0085 */
		T("\xc2\xa0", true),		/* U+00A0, the first after C1 */
		T("\xff", false),
		T("\xed\xa0\x80", false),	/* a surrogate */
#undef T
		/* A sequence cut by the length, even if bytes follow. */
		{ "\xe2\x82\xac", 2, false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(json_is_text(cases[i].s, cases[i].len),
		    cases[i].text);
}

static void
test_decimal(void **state)
{
	const char *s, *rest;
	uint64_t v;

	(void)state;
	/* The bound is inclusive, whatever it is: 0, small, the largest. */
	assert_int_equal(decimal_parse("0", 0, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(decimal_parse("1", 0, &v), -ERANGE);
	assert_int_equal(decimal_parse("9", 8, &v), -ERANGE);
	assert_int_equal(decimal_parse("128", 128, &v), 0);
	assert_int_equal(v, 128);
	assert_int_equal(decimal_parse("129", 128, &v), -ERANGE);
	assert_int_equal(decimal_parse("0007", 7, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(decimal_parse("4294967295", UINT32_MAX, &v), 0);
	assert_int_equal(v, UINT32_MAX);
	assert_int_equal(decimal_parse("4294967296", UINT32_MAX, &v), -ERANGE);
	assert_int_equal(decimal_parse("18446744073709551615", UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(decimal_parse("18446744073709551616", UINT64_MAX, &v),
	    -ERANGE);
	assert_int_equal(decimal_parse("99999999999999999999999", UINT64_MAX, &v),
	    -ERANGE);
	/* Digits only, and all of the string; v untouched on failure. */
	v = 42;
	assert_int_equal(decimal_parse("", 10, &v), -EINVAL);
	assert_int_equal(decimal_parse("-1", 10, &v), -EINVAL);
	assert_int_equal(decimal_parse("+1", 10, &v), -EINVAL);
	assert_int_equal(decimal_parse(" 1", 10, &v), -EINVAL);
	assert_int_equal(decimal_parse("1 ", 10, &v), -EINVAL);
	assert_int_equal(decimal_parse("0x1", 10, &v), -EINVAL);
	assert_int_equal(decimal_parse("1x99999999999999999999", 10, &v), -EINVAL);
	assert_int_equal(v, 42);
	/* A prefix stops at the first non-digit and says where. */
	s = "90m30s";
	assert_int_equal(decimal_prefix(&s, 1000, &v), 0);
	assert_int_equal(v, 90);
	assert_string_equal(s, "m30s");
	rest = s;
	assert_int_equal(decimal_prefix(&s, 1000, &v), -EINVAL);
	assert_ptr_equal(s, rest);
	s = "5000s";
	assert_int_equal(decimal_prefix(&s, 1000, &v), -ERANGE);
	assert_string_equal(s, "5000s");
	assert_int_equal(v, 90);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_vectors),
		cmocka_unit_test(test_base64_strict),
		cmocka_unit_test(test_wire_reader),
		cmocka_unit_test(test_wire_writer),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_is_text),
		cmocka_unit_test(test_decimal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
