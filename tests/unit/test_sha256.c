/* Unit tests for handler/sha256.c: the FIPS 180-4 / NIST example vectors,
 * every length around the padding boundaries, and random inputs, each
 * compared with OpenSSL's SHA-256. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "handler/monitor/sha256.h"

static void
hex(const uint8_t *d, char *out)
{
	for (int i = 0; i < SHA256_LEN; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void
expect(const void *msg, size_t len, const char *want)
{
	uint8_t d[SHA256_LEN];
	char got[2 * SHA256_LEN + 1];

	sha256(msg, len, d);
	hex(d, got);
	assert_string_equal(got, want);
}

static void
test_vectors(void **state)
{
	(void)state;
	expect("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	expect("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	expect("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	expect("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	    "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", 112,
	    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");

	char *a = malloc(1000000);

	assert_non_null(a);
	memset(a, 'a', 1000000);
	expect(a, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
}

static void
against_openssl(const uint8_t *msg, size_t len)
{
	uint8_t mine[SHA256_LEN], theirs[SHA256_LEN];
	unsigned n = 0;

	sha256(msg, len, mine);
	assert_int_equal(EVP_Digest(msg, len, theirs, &n, EVP_sha256(), NULL), 1);
	assert_int_equal(n, SHA256_LEN);
	if (memcmp(mine, theirs, SHA256_LEN) != 0)
		fail_msg("differs from OpenSSL at length %zu", len);
}

static void
test_every_length_and_random(void **state)
{
	uint8_t buf[4096];

	(void)state;
	srand(12345);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	/* Every length through three blocks (the padding cases 55, 56,
	 * 63, 64, ... among them), then a few long ones. */
	for (size_t len = 0; len <= 200; len++)
		against_openssl(buf, len);
	for (size_t len = 1000; len <= sizeof(buf); len += 517)
		against_openssl(buf, len);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_every_length_and_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
