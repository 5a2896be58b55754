/* Unit tests for handler/monitor/cert.c (and the key lists and
 * principals lines that go with certificates): certificates built here
 * field by field as PROTOCOL.certkeys lays them out, signed by an Ed25519
 * CA made with OpenSSL, then broken in every way the network can break
 * them: truncated anywhere, lengths past their bounds, trailing bytes,
 * wrong types, a tampered signed part. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "handler/monitor/cert.h"
#include "handler/monitor/keylist.h"
#include "handler/monitor/principals.h"
#include "policy/util/base64.h"
#include "policy/util/sshwire.h"

#define MAX 8192
#define NOW 1700000000

static EVP_PKEY *ca, *user;
static uint8_t ca_blob[64], user_blob[64];
static size_t ca_len, user_len;

/* What a test wants in its certificate. */
struct spec {
	const char *type;
	uint32_t cert_type;
	const char *principals[4];
	uint64_t after, before;
	const char *force, *source, *critical_extra;
	bool no_ext;
	bool ca_is_cert;
	const char *sigalg;
};

static size_t
ed25519_blob(EVP_PKEY *k, uint8_t *out)
{
	struct wire_writer w = { out, 0, 64, false };
	uint8_t raw[32];
	size_t n = sizeof(raw);

	assert_int_equal(EVP_PKEY_get_raw_public_key(k, raw, &n), 1);
	wire_put_string(&w, "ssh-ed25519", 11);
	wire_put_string(&w, raw, n);
	assert_false(w.bad);
	return w.len;
}

static int
setup(void **state)
{
	(void)state;
	ca = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	user = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(ca);
	assert_non_null(user);
	ca_len = ed25519_blob(ca, ca_blob);
	user_len = ed25519_blob(user, user_blob);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(ca);
	EVP_PKEY_free(user);
	return 0;
}

static void
put_str(struct wire_writer *w, const char *s)
{
	wire_put_string(w, s, strlen(s));
}

/* A (name, string value) option pair, the value wrapped in a string. */
static void
put_option(struct wire_writer *w, const char *name, const char *value)
{
	uint8_t buf[512];
	struct wire_writer v = { buf, 0, sizeof(buf), false };

	put_str(w, name);
	if (value == NULL) {
		wire_put_string(w, "", 0);
		return;
	}
	put_str(&v, value);
	wire_put_string(w, buf, v.len);
}

static size_t
build(const struct spec *sp, uint8_t *out)
{
	struct wire_writer w = { out, 0, MAX, false };
	uint8_t sub[1024], sig[64];
	struct wire_writer s = { sub, 0, sizeof(sub), false };
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *ctx;

	put_str(&w, sp->type ? sp->type : "ssh-ed25519-cert-v01@openssh.com");
	put_str(&w, "nonce-nonce-nonce-nonce-nonce-no");
	wire_put_string(&w, user_blob + 19, 32);	/* the key's own field */
	wire_put_u64(&w, 42);
	wire_put_u32(&w, sp->cert_type ? sp->cert_type : CERT_TYPE_USER);
	put_str(&w, "alice@example");
	for (int i = 0; i < 4 && sp->principals[i] != NULL; i++)
		put_str(&s, sp->principals[i]);
	wire_put_string(&w, sub, s.len);
	wire_put_u64(&w, sp->after);
	wire_put_u64(&w, sp->before ? sp->before : UINT64_MAX);
	s.len = 0;
	if (sp->force)
		put_option(&s, "force-command", sp->force);
	if (sp->critical_extra)
		put_option(&s, sp->critical_extra, "x");
	if (sp->source)
		put_option(&s, "source-address", sp->source);
	wire_put_string(&w, sub, s.len);
	s.len = 0;
	if (!sp->no_ext) {
		put_option(&s, "permit-X11-forwarding", NULL);
		put_option(&s, "permit-agent-forwarding", NULL);
		put_option(&s, "permit-port-forwarding", NULL);
		put_option(&s, "permit-pty", NULL);
		put_option(&s, "permit-user-rc", NULL);
	}
	wire_put_string(&w, sub, s.len);
	wire_put_string(&w, "", 0);			/* reserved */
	if (sp->ca_is_cert) {
		s.len = 0;
		put_str(&s, "ssh-ed25519-cert-v01@openssh.com");
		wire_put_string(&w, sub, s.len);
	} else
		wire_put_string(&w, ca_blob, ca_len);
	ctx = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, NULL, NULL, ca), 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, &siglen, out, w.len), 1);
	EVP_MD_CTX_free(ctx);
	s.len = 0;
	put_str(&s, sp->sigalg ? sp->sigalg : "ssh-ed25519");
	wire_put_string(&s, sig, siglen);
	wire_put_string(&w, sub, s.len);
	assert_false(w.bad);
	return w.len;
}

static const char *const ED = "ssh-ed25519,rsa-sha2-256";

static void
test_good(void **state)
{
	struct spec sp = { .principals = { "alice", "ops" }, .after = 1 };
	uint8_t blob[MAX];
	size_t n = build(&sp, blob);
	struct cert c;
	struct authkey_opts o = { 0 };
	const char *why = NULL;
	char desc[256];

	(void)state;
	assert_true(cert_is_cert(blob, n));
	assert_false(cert_is_cert(user_blob, user_len));
	assert_int_equal(cert_parse(blob, n, &c, &why), 0);
	assert_memory_equal(c.key, user_blob, user_len);
	assert_int_equal(c.key_len, user_len);
	assert_int_equal(c.serial, 42);
	assert_string_equal(c.key_id, "alice@example");
	assert_int_equal(c.n_principals, 2);
	assert_true(cert_has_principal(&c, "ops"));
	assert_false(cert_has_principal(&c, "op"));
	assert_true(c.permit_pty && c.permit_user_rc);
	assert_int_equal(cert_verify_ca(&c, ED, &why), 0);
	/* SHA-1 RSA or no Ed25519 in CASignatureAlgorithms: refused. */
	assert_int_equal(cert_verify_ca(&c, "rsa-sha2-256", &why), -EOPNOTSUPP);
	assert_int_equal(cert_check(&c, "alice", NOW, "10.0.0.1", &why), 0);
	assert_int_equal(cert_check(&c, NULL, NOW, NULL, &why), 0);
	assert_int_equal(cert_check(&c, "bob", NOW, NULL, &why), -EACCES);
	assert_int_equal(cert_restrict(&c, &o, &why), 0);
	assert_false(o.no_pty || o.no_port_forwarding || o.no_user_rc);
	assert_null(o.command);
	cert_describe(&c, desc, sizeof(desc));
	assert_true(strncmp(desc, "ID alice@example (serial 42) CA ED25519 SHA256:",
	    47) == 0);
	cert_free(&c);
}

static void
test_checks(void **state)
{
	struct {
		struct spec sp;
		const char *addr;
		const char *why;
	} cases[] = {
		{ { .principals = { "alice" }, .cert_type = CERT_TYPE_HOST },
		  NULL, "not a user certificate" },
		{ { .principals = { "alice" }, .after = NOW + 1 }, NULL,
		  "certificate not yet valid" },
		{ { .principals = { "alice" }, .before = NOW }, NULL,
		  "certificate expired" },
		{ { .after = 1 }, NULL, "certificate lacks principal list" },
		{ { .principals = { "alice" }, .critical_extra = "verify-required" },
		  NULL, "certificate has an unsupported critical option" },
		{ { .principals = { "alice" }, .source = "127.0.0.9/32" },
		  "127.0.0.1", "source-address of the certificate does not allow "
		  "the client's address" },
		{ { .principals = { "alice" }, .source = "bogus" }, "127.0.0.1",
		  "source-address of the certificate does not allow the client's "
		  "address" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t blob[MAX];
		size_t n = build(&cases[i].sp, blob);
		struct cert c;
		const char *why = NULL;

		assert_int_equal(cert_parse(blob, n, &c, &why), 0);
		assert_int_equal(cert_check(&c, "alice", NOW, cases[i].addr, &why),
		    -EACCES);
		assert_string_equal(why, cases[i].why);
		cert_free(&c);
	}
}

static void
test_options(void **state)
{
	struct spec sp = { .principals = { "alice" }, .force = "echo hi",
	    .source = "10.0.0.0/8,127.0.0.1", .no_ext = true };
	uint8_t blob[MAX];
	size_t n = build(&sp, blob);
	struct authkey_opts o = { 0 };
	struct cert c;
	const char *why = NULL;

	(void)state;
	assert_int_equal(cert_parse(blob, n, &c, &why), 0);
	assert_int_equal(cert_check(&c, "alice", NOW, "127.0.0.1", &why), 0);
	assert_int_equal(cert_check(&c, "alice", NOW, "10.1.2.3", &why), 0);
	assert_int_equal(cert_restrict(&c, &o, &why), 0);
	assert_true(o.no_pty && o.no_port_forwarding && o.no_agent_forwarding &&
	    o.no_x11_forwarding && o.no_user_rc);
	assert_string_equal(o.command, "echo hi");
	authkey_opts_clear(&o);
	/* The key line's own command must be the same one. */
	o.command = strdup("other");
	assert_int_equal(cert_restrict(&c, &o, &why), -EACCES);
	authkey_opts_clear(&o);
	cert_free(&c);
}

static void
test_malformed(void **state)
{
	struct spec sp = { .principals = { "alice" }, .force = "x" };
	uint8_t blob[MAX], bad[MAX + 8];
	size_t n = build(&sp, blob);
	struct cert c;
	const char *why;

	(void)state;
	/* Cut anywhere: refused, never read past. */
	for (size_t i = 0; i < n; i++) {
		uint8_t *cut = malloc(i ? i : 1);

		memcpy(cut, blob, i);
		why = NULL;
		assert_true(cert_parse(cut, i, &c, &why) < 0);
		assert_non_null(why);
		cert_free(&c);
		free(cut);
	}
	/* Trailing bytes. */
	memcpy(bad, blob, n);
	bad[n] = 0;
	assert_int_equal(cert_parse(bad, n + 1, &c, &why), -EBADMSG);
	assert_string_equal(why, "certificate has trailing bytes");
	cert_free(&c);
	/* Every 4 bytes made huge, one place at a time: where they are a
	 * length, refused; elsewhere parsed (the signature then fails).
	 * Never a read past the blob (the ASan build checks). */
	for (size_t i = 0; i + 4 <= n; i++) {
		memcpy(bad, blob, n);
		memset(bad + i, 0xff, 4);
		(void)cert_parse(bad, n, &c, &why);
		cert_free(&c);
	}
	/* The type's length, the nonce's. */
	memcpy(bad, blob, n);
	memset(bad, 0xff, 4);
	assert_true(cert_parse(bad, n, &c, &why) < 0);
	cert_free(&c);
	memcpy(bad, blob, n);
	memset(bad + 4 + 32, 0xff, 4);
	assert_int_equal(cert_parse(bad, n, &c, &why), -EBADMSG);
	cert_free(&c);
}

static void
test_wrong_types(void **state)
{
	struct spec dsa = { .type = "ssh-dss-cert-v01@openssh.com" };
	struct spec cacert = { .principals = { "alice" }, .ca_is_cert = true };
	struct spec sigalg = { .principals = { "alice" }, .sigalg = "rsa-sha2-256" };
	uint8_t blob[MAX];
	size_t n;
	struct cert c;
	const char *why;

	(void)state;
	n = build(&dsa, blob);
	assert_int_equal(cert_parse(blob, n, &c, &why), -EOPNOTSUPP);
	cert_free(&c);
	assert_int_equal(cert_parse(user_blob, user_len, &c, &why), -EOPNOTSUPP);
	assert_string_equal(why, "not a certificate");
	cert_free(&c);
	n = build(&cacert, blob);
	assert_int_equal(cert_parse(blob, n, &c, &why), -EBADMSG);
	assert_string_equal(why, "the CA key is a certificate");
	cert_free(&c);
	/* A signature algorithm that does not suit the CA's key. */
	n = build(&sigalg, blob);
	assert_int_equal(cert_parse(blob, n, &c, &why), 0);
	assert_int_equal(cert_verify_ca(&c, ED, &why), -EOPNOTSUPP);
	cert_free(&c);
}

static void
test_tampered(void **state)
{
	struct spec sp = { .principals = { "alice" } };
	uint8_t blob[MAX];
	size_t n = build(&sp, blob);
	struct cert c;
	const char *why;
	uint8_t *id = memmem(blob, n, "alice@example", 13);

	(void)state;
	assert_non_null(id);
	id[0] ^= 1;
	assert_int_equal(cert_parse(blob, n, &c, &why), 0);
	assert_int_equal(cert_verify_ca(&c, ED, &why), -EKEYREJECTED);
	cert_free(&c);
}

static void
test_keylist(void **state)
{
	char b64[128], text[512];
	struct spec sp = { .principals = { "alice" } };
	uint8_t blob[MAX];
	size_t n = build(&sp, blob);
	char *certb64 = malloc(BASE64_ENCODED_SIZE(n));

	(void)state;
	base64_encode(user_blob, user_len, b64, true);
	snprintf(text, sizeof(text), "# comment\n\nssh-ed25519 %s user\n", b64);
	assert_int_equal(keylist_in_text(text, strlen(text), user_blob, user_len,
	    false), 1);
	assert_int_equal(keylist_in_text(text, strlen(text), ca_blob, ca_len,
	    false), 0);
	assert_int_equal(keylist_in_text("garbage\nssh-ed25519 !!!\n", 24,
	    user_blob, user_len, true), 0);
	/* A certificate listed revokes its key (certs), not otherwise. */
	base64_encode(blob, n, certb64, true);
	assert_int_equal(keylist_in_text(certb64, strlen(certb64), user_blob,
	    user_len, false), 0);
	{
		char *line;

		assert_true(asprintf(&line, "ssh-ed25519-cert-v01@openssh.com %s\n",
		    certb64) > 0);
		assert_int_equal(keylist_in_text(line, strlen(line), user_blob,
		    user_len, true), 1);
		assert_int_equal(keylist_in_text(line, strlen(line), user_blob,
		    user_len, false), 0);
		free(line);
	}
	free(certb64);
}

static void
test_principals_lines(void **state)
{
	struct spec sp = { .principals = { "alice", "ops" } };
	uint8_t blob[MAX];
	size_t n = build(&sp, blob);
	struct authkey_opts o;
	struct cert c;
	const char *why;
	char w[256];
	unsigned bad;
	const char *text = "# ops\nweb\nno-pty,from=\"10.0.0.0/8\" ops\n"
	    "bad option line\n";

	(void)state;
	assert_int_equal(cert_parse(blob, n, &c, &why), 0);
	assert_int_equal(principals_match_text(text, strlen(text), &c, "10.1.1.1",
	    NOW, &o, &bad, w, sizeof(w)), 1);
	assert_true(o.no_pty);
	assert_int_equal(o.line, 3);
	authkey_opts_clear(&o);
	/* from= does not allow this address: not matched. */
	assert_int_equal(principals_match_text(text, strlen(text), &c, "192.0.2.1",
	    NOW, &o, &bad, w, sizeof(w)), 0);
	assert_int_equal(bad, 1);
	assert_int_equal(principals_match_text("web\n", 4, &c, NULL, NOW, &o,
	    &bad, w, sizeof(w)), 0);
	assert_int_equal(principals_match_text("alice", 5, &c, NULL, NOW, &o,
	    &bad, w, sizeof(w)), 1);
	authkey_opts_clear(&o);
	cert_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_keylist),
		cmocka_unit_test(test_principals_lines),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
