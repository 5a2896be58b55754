/* Unit tests for handler/monitor/sigcheck.c: the monitor's check of a
 * user's publickey signature.
 *
 * Keys of every type the monitor takes are made with OpenSSL, their blobs
 * and the signed data built as a client builds them, signed with
 * EVP_DigestSign and put in the form libssh hands to EVP_DigestVerify.
 * Each must be accepted; then every way a request can be another one is
 * signed validly over that other data and must be refused for what it is,
 * so that the refusal comes from the check of the content, not from a
 * broken signature. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "handler/monitor/sigcheck.h"
#include "policy/algorithms.h"
#include "handler/privsep/protocol.h"
#include "policy/util/sshwire.h"

#define MAX_DATA (PS_MAX_SIGNED + 64)

static const uint8_t SID[32] = { 0x5e, 0x55, 0x10, 0x4e, 1, 2, 3, 4, 5, 6, 7, 8,
    9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28 };
static const uint8_t OTHER_SID[32] = { 0xee };

/* A key and a signature algorithm for it. */
struct fixture {
	const char *name;		/* for failure messages */
	const char *alg;		/* signature algorithm */
	EVP_PKEY *pkey;
	uint8_t blob[PS_MAX_BLOB];
	size_t blob_len;
};

enum { F_ED25519, F_P256, F_P384, F_P521, F_RSA256, F_RSA512, F_RSA_SHA1,
    F_RSA_SMALL, F_OTHER_ED25519, F_COUNT };
static struct fixture fx[F_COUNT];

/* The signed data, field by field, as a test wants it. */
struct sd {
	const uint8_t *sid;
	size_t sid_len;
	uint8_t type;
	const char *user, *service, *method;
	uint8_t flag;
	const char *alg;
	const uint8_t *blob;
	size_t blob_len;
	size_t extra;			/* trailing zero bytes */
};

/* A request and its buffers. */
struct req {
	struct sigcheck_request q;
	uint8_t data[MAX_DATA];
	uint8_t sig[PS_MAX_SIG];
};

static const EVP_MD *
md_for(const char *alg)
{
	if (strcmp(alg, "ssh-ed25519") == 0)
		return NULL;
	if (strcmp(alg, "ecdsa-sha2-nistp384") == 0)
		return EVP_sha384();
	if (strcmp(alg, "ecdsa-sha2-nistp521") == 0 || strcmp(alg, "rsa-sha2-512") == 0)
		return EVP_sha512();
	if (strcmp(alg, "ssh-rsa") == 0)
		return EVP_sha1();
	return EVP_sha256();
}

static EVP_PKEY *
keygen(const char *type, const char *group, unsigned bits)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pkey = NULL;

	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
	if (group != NULL) {
		OSSL_PARAM p[] = {
			OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
			    (char *)group, 0),
			OSSL_PARAM_construct_end(),
		};
		assert_int_equal(EVP_PKEY_CTX_set_params(ctx, p), 1);
	}
	if (bits > 0)
		assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits), 1);
	assert_int_equal(EVP_PKEY_generate(ctx, &pkey), 1);
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

/* An mpint (RFC 4251 section 5) of a positive number. */
static void
put_mpint(struct wire_writer *w, EVP_PKEY *pkey, const char *param)
{
	BIGNUM *bn = NULL;
	uint8_t buf[PS_MAX_SIG + 1];
	int n;

	assert_int_equal(EVP_PKEY_get_bn_param(pkey, param, &bn), 1);
	n = BN_num_bytes(bn);
	buf[0] = 0;
	BN_bn2bin(bn, buf + 1);
	/* A sign byte only when the top bit is set. */
	if (buf[1] & 0x80)
		wire_put_string(w, buf, (size_t)n + 1);
	else
		wire_put_string(w, buf + 1, (size_t)n);
	BN_free(bn);
}

/* The blob of a key, as ssh-keygen writes it. */
static void
make_blob(struct fixture *f, const char *keytype, const char *curve)
{
	struct wire_writer w = { .p = f->blob, .cap = sizeof(f->blob) };
	uint8_t pt[256];
	size_t n = sizeof(pt);		/* raw keys: in, the room */

	wire_put_string(&w, keytype, strlen(keytype));
	if (strcmp(keytype, "ssh-ed25519") == 0) {
		assert_int_equal(EVP_PKEY_get_raw_public_key(f->pkey, pt, &n), 1);
		wire_put_string(&w, pt, n);
	} else if (curve != NULL) {
		assert_int_equal(EVP_PKEY_get_octet_string_param(f->pkey,
		    OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &n), 1);
		assert_int_equal(pt[0], 0x04);	/* uncompressed */
		wire_put_string(&w, curve, strlen(curve));
		wire_put_string(&w, pt, n);
	} else {
		put_mpint(&w, f->pkey, OSSL_PKEY_PARAM_RSA_E);
		put_mpint(&w, f->pkey, OSSL_PKEY_PARAM_RSA_N);
	}
	assert_false(w.bad);
	f->blob_len = w.len;
}

static int
setup(void **state)
{
	static const struct {
		const char *name, *alg, *type, *group, *keytype, *curve;
		unsigned bits;
		int share;		/* index of a fixture whose key to use, or -1 */
	} spec[F_COUNT] = {
		[F_ED25519] = { "ed25519", "ssh-ed25519", "ED25519", NULL, "ssh-ed25519", NULL, 0, -1 },
		[F_P256] = { "p256", "ecdsa-sha2-nistp256", "EC", "P-256", "ecdsa-sha2-nistp256", "nistp256", 0, -1 },
		[F_P384] = { "p384", "ecdsa-sha2-nistp384", "EC", "P-384", "ecdsa-sha2-nistp384", "nistp384", 0, -1 },
		[F_P521] = { "p521", "ecdsa-sha2-nistp521", "EC", "P-521", "ecdsa-sha2-nistp521", "nistp521", 0, -1 },
		[F_RSA256] = { "rsa-sha2-256", "rsa-sha2-256", "RSA", NULL, "ssh-rsa", NULL, 2048, -1 },
		[F_RSA512] = { "rsa-sha2-512", "rsa-sha2-512", "RSA", NULL, "ssh-rsa", NULL, 0, F_RSA256 },
		[F_RSA_SHA1] = { "ssh-rsa", "ssh-rsa", "RSA", NULL, "ssh-rsa", NULL, 0, F_RSA256 },
		[F_RSA_SMALL] = { "rsa-768", "rsa-sha2-256", "RSA", NULL, "ssh-rsa", NULL, 768, -1 },
		[F_OTHER_ED25519] = { "other ed25519", "ssh-ed25519", "ED25519", NULL, "ssh-ed25519", NULL, 0, -1 },
	};

	(void)state;
	for (int i = 0; i < F_COUNT; i++) {
		fx[i].name = spec[i].name;
		fx[i].alg = spec[i].alg;
		if (spec[i].share >= 0) {
			fx[i].pkey = fx[spec[i].share].pkey;
			assert_int_equal(EVP_PKEY_up_ref(fx[i].pkey), 1);
		} else
			fx[i].pkey = keygen(spec[i].type, spec[i].group, spec[i].bits);
		make_blob(&fx[i], spec[i].keytype, spec[i].curve);
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	for (int i = 0; i < F_COUNT; i++)
		EVP_PKEY_free(fx[i].pkey);
	return 0;
}

/* The signed data of a correct request for f. */
static struct sd
good(const struct fixture *f)
{
	return (struct sd){ SID, sizeof(SID), 50, "alice", "ssh-connection",
	    "publickey", 1, f->alg, f->blob, f->blob_len, 0 };
}

static size_t
build(const struct sd *d, uint8_t *out, size_t cap)
{
	struct wire_writer w = { .p = out, .cap = cap };

	wire_put_string(&w, d->sid, d->sid_len);
	wire_put_u8(&w, d->type);
	wire_put_string(&w, d->user, strlen(d->user));
	wire_put_string(&w, d->service, strlen(d->service));
	wire_put_string(&w, d->method, strlen(d->method));
	wire_put_u8(&w, d->flag);
	wire_put_string(&w, d->alg, strlen(d->alg));
	wire_put_string(&w, d->blob, d->blob_len);
	for (size_t i = 0; i < d->extra; i++)
		wire_put_u8(&w, 0);
	assert_false(w.bad);
	return w.len;
}

/* libssh hands OpenSSL an ECDSA signature as the DER it re-encodes from
 * the SSH form's (r, s); do the same round trip. */
static size_t
as_libssh_hands_it(EVP_PKEY *signer, uint8_t *sig, size_t len)
{
	const unsigned char *p = sig;
	unsigned char *out = sig;
	ECDSA_SIG *es;
	int n;

	if (EVP_PKEY_get_base_id(signer) != EVP_PKEY_EC)
		return len;	/* Ed25519 raw, RSA as long as the modulus */
	es = d2i_ECDSA_SIG(NULL, &p, (long)len);
	assert_non_null(es);
	n = i2d_ECDSA_SIG(es, &out);
	ECDSA_SIG_free(es);
	assert_true(n > 0);
	return (size_t)n;
}

/* Every algorithm the monitor verifies: what the other tests test is not
 * PubkeyAcceptedAlgorithms (test_accepted_algorithms is). */
#define ALL_ALGS "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384," \
	"ecdsa-sha2-nistp521,rsa-sha2-256,rsa-sha2-512,ssh-rsa"

/* A request by f (its blob, "alice", SID) whose signed data is d, signed
 * with signer's key under alg's digest. */
static void
make_req(struct req *r, const struct fixture *f, const struct sd *d,
    EVP_PKEY *signer, const char *alg)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t siglen = sizeof(r->sig);

	memset(r, 0, sizeof(*r));
	r->q = (struct sigcheck_request){ .session_id = SID,
	    .session_id_len = sizeof(SID), .user = "alice", .blob = f->blob,
	    .blob_len = f->blob_len, .signed_data = r->data,
	    .signed_data_len = build(d, r->data, sizeof(r->data)),
	    .signature = r->sig, .accepted = ALL_ALGS };
	assert_non_null(ctx);
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, md_for(alg), NULL, signer), 1);
	assert_int_equal(EVP_DigestSign(ctx, r->sig, &siglen, r->data,
	    r->q.signed_data_len), 1);
	EVP_MD_CTX_free(ctx);
	r->q.signature_len = as_libssh_hands_it(signer, r->sig, siglen);
}

static int
verify(const struct req *r, const char **why)
{
	*why = NULL;
	return sigcheck_verify(&r->q, why);
}

static void
expect(const struct req *r, int want, const char *want_why, const char *name)
{
	const char *why;
	int rc = verify(r, &why);

	if (rc != want || (want_why != NULL && (why == NULL || strcmp(why, want_why) != 0)))
		fail_msg("%s: got %d (%s), want %d (%s)", name, rc, why ? why : "-",
		    want, want_why ? want_why : "-");
}

static const int accepted[] = { F_ED25519, F_P256, F_P384, F_P521, F_RSA256,
    F_RSA512, F_RSA_SHA1 };
#define N_ACCEPTED (sizeof(accepted) / sizeof(accepted[0]))

static void
test_accepted(void **state)
{
	static struct req r;

	(void)state;
	for (size_t i = 0; i < N_ACCEPTED; i++) {
		struct fixture *f = &fx[accepted[i]];
		struct sd d = good(f);

		make_req(&r, f, &d, f->pkey, f->alg);
		expect(&r, 0, NULL, f->name);
	}
}

/* PubkeyAcceptedAlgorithms: the default (OpenSSH 9's) refuses RSA over
 * SHA-1 and takes the rest; a list naming ssh-rsa takes it; a validly
 * signed request in an algorithm outside the list is refused, whatever
 * the key. */
static void
test_accepted_algorithms(void **state)
{
	static struct req r;
	const char *dflt = algo_default(ALGO_PUBKEY);

	(void)state;
	assert_false(algo_list_has(dflt, "ssh-rsa"));
	for (size_t i = 0; i < N_ACCEPTED; i++) {
		struct fixture *f = &fx[accepted[i]];
		struct sd d = good(f);
		bool sha1 = accepted[i] == F_RSA_SHA1;

		make_req(&r, f, &d, f->pkey, f->alg);
		r.q.accepted = dflt;
		expect(&r, sha1 ? -EOPNOTSUPP : 0, sha1 ? "signature algorithm "
		    "not in PubkeyAcceptedAlgorithms" : NULL, f->name);
		r.q.accepted = "ssh-ed25519";
		expect(&r, accepted[i] == F_ED25519 ? 0 : -EOPNOTSUPP, NULL, f->name);
		r.q.accepted = NULL;
		expect(&r, -EOPNOTSUPP, NULL, f->name);
	}
	{
		struct fixture *f = &fx[F_RSA_SHA1];
		struct sd d = good(f);

		make_req(&r, f, &d, f->pkey, f->alg);
		r.q.accepted = "rsa-sha2-512,ssh-rsa";
		expect(&r, 0, NULL, "ssh-rsa configured");
		/* A prefix or a longer name is not the name. */
		r.q.accepted = "ssh-rs,ssh-rsa-cert-v01@openssh.com";
		expect(&r, -EOPNOTSUPP, NULL, "ssh-rsa prefix");
	}
	/* The probe: a key some accepted algorithm signs with. */
	assert_int_equal(sigcheck_key_accepted(fx[F_RSA256].blob,
	    fx[F_RSA256].blob_len, dflt), 0);
	assert_int_equal(sigcheck_key_accepted(fx[F_RSA256].blob,
	    fx[F_RSA256].blob_len, "ssh-ed25519,ecdsa-sha2-nistp256"), -EOPNOTSUPP);
	assert_int_equal(sigcheck_key_accepted(fx[F_RSA256].blob,
	    fx[F_RSA256].blob_len, "ssh-rsa"), 0);
	assert_int_equal(sigcheck_key_accepted(fx[F_ED25519].blob,
	    fx[F_ED25519].blob_len, "rsa-sha2-512"), -EOPNOTSUPP);
}

/* RequiredRSASize: the modulus' bits, read off the blob. */
static void
test_rsa_bits(void **state)
{
	uint8_t cut[PS_MAX_BLOB];

	(void)state;
	assert_int_equal(sigcheck_rsa_bits(fx[F_RSA256].blob,
	    fx[F_RSA256].blob_len), 2048);
	assert_int_equal(sigcheck_rsa_bits(fx[F_RSA_SMALL].blob,
	    fx[F_RSA_SMALL].blob_len), 768);
	assert_int_equal(sigcheck_rsa_bits(fx[F_ED25519].blob,
	    fx[F_ED25519].blob_len), 0);
	assert_int_equal(sigcheck_rsa_bits(fx[F_P256].blob,
	    fx[F_P256].blob_len), 0);
	/* Cut inside the modulus: malformed, not a smaller key. */
	memcpy(cut, fx[F_RSA256].blob, fx[F_RSA256].blob_len);
	assert_int_equal(sigcheck_rsa_bits(cut, fx[F_RSA256].blob_len - 1),
	    -EINVAL);
	assert_int_equal(sigcheck_rsa_bits(cut, 0), 0);
}

/* Each field of the signed data changed, validly signed: refused for it. */
static void
test_other_request_refused(void **state)
{
	static struct req r;

	(void)state;
	for (size_t i = 0; i < N_ACCEPTED; i++) {
		struct fixture *f = &fx[accepted[i]];
		struct sd d;

		d = good(f), d.sid = OTHER_SID;
		make_req(&r, f, &d, f->pkey, f->alg);
		expect(&r, -EBADMSG, "session id does not match", f->name);
		d = good(f), d.sid_len = 20;	/* a prefix of the right one */
		make_req(&r, f, &d, f->pkey, f->alg);
		expect(&r, -EBADMSG, "session id does not match", f->name);

		d = good(f);
		make_req(&r, f, &d, f->pkey, f->alg);
		r.q.session_id_len = 0;		/* no key exchange signed yet */
		expect(&r, -EACCES, "no session id yet", f->name);

		d = good(f), d.type = 51;
		make_req(&r, f, &d, f->pkey, f->alg);
		expect(&r, -EBADMSG, "not a userauth request", f->name);
		d = good(f), d.user = "bob";
		make_req(&r, f, &d, f->pkey, f->alg);
		expect(&r, -EBADMSG, "user does not match the request", f->name);
		d = good(f), d.user = "alicex";
		make_req(&r, f, &d, f->pkey, f->alg);
		expect(&r, -EBADMSG, "user does not match the request", f->name);
		d = good(f), d.service = "ssh-userauth";
		make_req(&r, f, &d, f->pkey, f->alg);
		expect(&r, -EBADMSG, "service is not ssh-connection", f->name);
		d = good(f), d.method = "hostbased";
		make_req(&r, f, &d, f->pkey, f->alg);
		expect(&r, -EBADMSG, "method is not publickey", f->name);
		d = good(f), d.method = "publickey-hostbound-v00@openssh.com";
		make_req(&r, f, &d, f->pkey, f->alg);
		expect(&r, -EBADMSG, "method is not publickey", f->name);
		d = good(f), d.flag = 0;
		make_req(&r, f, &d, f->pkey, f->alg);
		expect(&r, -EBADMSG, "signature flag not set", f->name);
		d = good(f), d.flag = 2;
		make_req(&r, f, &d, f->pkey, f->alg);
		expect(&r, -EBADMSG, "signature flag not set", f->name);
		d = good(f), d.extra = 1;
		make_req(&r, f, &d, f->pkey, f->alg);
		expect(&r, -EBADMSG, "signed data has trailing bytes", f->name);
	}
}

/* The signed data names another key than the request, or the request
 * another key than the signer's. */
static void
test_other_blob_refused(void **state)
{
	static struct req r;
	struct fixture *f = &fx[F_ED25519], *o = &fx[F_OTHER_ED25519];
	struct sd d;

	(void)state;
	/* Signed by the other key over its own blob, sent as f's request. */
	d = good(o);
	make_req(&r, f, &d, o->pkey, o->alg);
	expect(&r, -EBADMSG, "key does not match the request", "other blob");
	/* f's own signed data, but the request names the other key (whose
	 * signature this is not). */
	d = good(f);
	make_req(&r, f, &d, f->pkey, f->alg);
	r.q.blob = o->blob;
	r.q.blob_len = o->blob_len;
	expect(&r, -EBADMSG, "key does not match the request", "other request blob");
	/* Everything names f, but the other key signed. */
	d = good(f);
	make_req(&r, f, &d, o->pkey, o->alg);
	expect(&r, -EKEYREJECTED, "signature does not verify", "other signer");
	/* An RSA key's blob in the signed data of an ECDSA request. */
	d = good(&fx[F_P256]), d.blob = fx[F_RSA256].blob, d.blob_len = fx[F_RSA256].blob_len;
	make_req(&r, &fx[F_P256], &d, fx[F_P256].pkey, fx[F_P256].alg);
	expect(&r, -EBADMSG, "key does not match the request", "rsa blob in p256 request");
}

/* An algorithm that is not the key's: refused before any verification. */
static void
test_algorithm_must_suit_key(void **state)
{
	static struct req r;
	static const struct {
		int f;
		const char *alg;
	} bad[] = {
		{ F_RSA256, "ssh-ed25519" },
		{ F_RSA256, "ecdsa-sha2-nistp256" },
		{ F_P256, "ecdsa-sha2-nistp384" },
		{ F_P384, "ecdsa-sha2-nistp256" },
		{ F_P521, "ecdsa-sha2-nistp384" },
		{ F_P256, "rsa-sha2-256" },
		{ F_ED25519, "ssh-rsa" },
		{ F_ED25519, "ecdsa-sha2-nistp256" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fixture *f = &fx[bad[i].f];
		struct sd d = good(f);

		d.alg = bad[i].alg;
		/* Signed with the key's own digest: only the name is wrong. */
		make_req(&r, f, &d, f->pkey, f->alg);
		expect(&r, -EOPNOTSUPP, "signature algorithm does not suit the key",
		    bad[i].alg);
	}
	/* Names nobody knows, and the right key type with another digest
	 * than the one signed with. */
	{
		struct sd d = good(&fx[F_ED25519]);

		d.alg = "ssh-ed448";
		make_req(&r, &fx[F_ED25519], &d, fx[F_ED25519].pkey, "ssh-ed25519");
		/* Even were it configured (the config refuses it). */
		r.q.accepted = ALL_ALGS ",ssh-ed448";
		expect(&r, -EOPNOTSUPP, "signature algorithm not supported", "ssh-ed448");
		d = good(&fx[F_RSA256]);
		d.alg = "rsa-sha2-512";
		make_req(&r, &fx[F_RSA256], &d, fx[F_RSA256].pkey, "rsa-sha2-256");
		expect(&r, -EKEYREJECTED, "signature does not verify", "sha256 named sha512");
	}
}

static void
test_truncated_refused(void **state)
{
	static struct req r;

	(void)state;
	for (size_t i = 0; i < N_ACCEPTED; i++) {
		struct fixture *f = &fx[accepted[i]];
		struct sd d = good(f);
		size_t full;

		make_req(&r, f, &d, f->pkey, f->alg);
		full = r.q.signed_data_len;
		for (size_t len = 0; len < full; len++) {
			const char *why;

			r.q.signed_data_len = len;
			assert_int_equal(verify(&r, &why), -EBADMSG);
		}
		/* A NULL pointer with no bytes is no data either. */
		r.q.signed_data = NULL;
		r.q.signed_data_len = 0;
		expect(&r, -EBADMSG, "signed data truncated or over its bounds", f->name);
	}
}

static void
test_bad_signature_refused(void **state)
{
	static struct req r;

	(void)state;
	for (size_t i = 0; i < N_ACCEPTED; i++) {
		struct fixture *f = &fx[accepted[i]];
		struct sd d = good(f);
		size_t len;

		make_req(&r, f, &d, f->pkey, f->alg);
		len = r.q.signature_len;
		/* Every bit, one at a time (the DER of ECDSA included). */
		for (size_t bit = 0; bit < len * 8; bit += (len > 128 ? 13 : 1)) {
			const char *why;

			r.sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			assert_int_equal(verify(&r, &why), -EKEYREJECTED);
			r.sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
		expect(&r, 0, NULL, f->name);	/* restored */
		r.q.signature_len = 0;
		expect(&r, -EKEYREJECTED, NULL, f->name);
		r.q.signature = NULL;
		expect(&r, -EKEYREJECTED, NULL, f->name);
		/* One byte short, one too many. */
		r.q.signature = r.sig;
		r.q.signature_len = len - 1;
		expect(&r, -EKEYREJECTED, NULL, f->name);
		r.q.signature_len = len + 1;
		expect(&r, -EKEYREJECTED, NULL, f->name);
	}
	/* The signed data changed after signing. */
	{
		struct sd d = good(&fx[F_ED25519]);

		make_req(&r, &fx[F_ED25519], &d, fx[F_ED25519].pkey, "ssh-ed25519");
		r.data[4 + sizeof(SID) + 1 + 4] ^= 0x20;	/* "alice" -> "Alice" */
		r.q.user = "Alice";
		expect(&r, -EKEYREJECTED, "signature does not verify", "data changed");
	}
}

/* A blob of type name followed by junk: enough for the type checks. */
static size_t
typed_blob(uint8_t *out, size_t cap, const char *name)
{
	struct wire_writer w = { .p = out, .cap = cap };

	wire_put_string(&w, name, strlen(name));
	wire_put_string(&w, "0123456789abcdef0123456789abcdef", 32);
	wire_put_string(&w, "ssh:", 4);
	return w.len;
}

static void
test_sk_and_cert_refused(void **state)
{
	static const struct {
		const char *type, *label, *why;
	} refused[] = {
		{ "sk-ssh-ed25519@openssh.com", "ED25519-SK",
		  "security keys (sk-*) are not supported" },
		{ "sk-ecdsa-sha2-nistp256@openssh.com", "ECDSA-SK",
		  "security keys (sk-*) are not supported" },
		{ "ssh-ed25519-cert-v01@openssh.com", "ED25519-CERT",
		  "a certificate, not a plain key" },
		{ "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ECDSA-CERT",
		  "a certificate, not a plain key" },
		{ "ssh-rsa-cert-v01@openssh.com", "RSA-CERT",
		  "a certificate, not a plain key" },
		{ "sk-ssh-ed25519-cert-v01@openssh.com", "ED25519-SK-CERT",
		  "certificates of this key type are not supported" },
		{ "ssh-dss", "DSA", "DSA keys are not supported" },
		{ "sk-something-new@example.com", "unknown",
		  "security keys (sk-*) are not supported" },
		{ "foo-cert-v01@openssh.com", "unknown",
		  "certificates of this key type are not supported" },
		{ "ssh-ed448", "unknown", "key type not supported" },
	};
	static struct req r;
	uint8_t blob[256];

	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		size_t n = typed_blob(blob, sizeof(blob), refused[i].type);
		struct fixture f = { .name = refused[i].type, .alg = refused[i].type };
		struct sd d;
		const char *why = NULL;

		assert_int_equal(sigcheck_key_supported(blob, n, &why), -EOPNOTSUPP);
		assert_string_equal(why, refused[i].why);
		assert_string_equal(sigcheck_key_label(blob, n), refused[i].label);
		/* And a signed request with it, whatever its signature. */
		memcpy(f.blob, blob, n);
		f.blob_len = n;
		d = good(&f);
		make_req(&r, &f, &d, fx[F_ED25519].pkey, "ssh-ed25519");
		expect(&r, -EOPNOTSUPP, refused[i].why, refused[i].type);
	}
	assert_int_equal(sigcheck_key_supported((const uint8_t *)"\0\0", 2, &(const char *){ NULL }),
	    -EBADMSG);
	for (size_t i = 0; i < N_ACCEPTED; i++) {
		const char *why = NULL;

		assert_int_equal(sigcheck_key_supported(fx[accepted[i]].blob,
		    fx[accepted[i]].blob_len, &why), 0);
	}
	assert_string_equal(sigcheck_key_label(fx[F_ED25519].blob, fx[F_ED25519].blob_len), "ED25519");
	assert_string_equal(sigcheck_key_label(fx[F_P521].blob, fx[F_P521].blob_len), "ECDSA");
	assert_string_equal(sigcheck_key_label(fx[F_RSA256].blob, fx[F_RSA256].blob_len), "RSA");
}

/* Keys that are not what their blob's type promises, or too weak. */
static void
test_bad_keys_refused(void **state)
{
	static struct req r;
	struct fixture f;
	struct sd d;

	(void)state;
	d = good(&fx[F_RSA_SMALL]);
	make_req(&r, &fx[F_RSA_SMALL], &d, fx[F_RSA_SMALL].pkey, "rsa-sha2-256");
	expect(&r, -EINVAL, "RSA key too small", "rsa-768");

	/* A point off the curve. */
	f = fx[F_P256];
	f.blob[f.blob_len - 1] ^= 1;
	d = good(&f);
	make_req(&r, &f, &d, fx[F_P256].pkey, f.alg);
	expect(&r, -EINVAL, "ECDSA key invalid", "point off the curve");

	/* A P-256 point under the name of P-384's curve. */
	{
		struct wire_writer w = { .p = f.blob, .cap = sizeof(f.blob) };
		uint8_t pt[65];
		size_t n = 0;

		assert_int_equal(EVP_PKEY_get_octet_string_param(fx[F_P256].pkey,
		    OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &n), 1);
		wire_put_string(&w, "ecdsa-sha2-nistp384", 19);
		wire_put_string(&w, "nistp384", 8);
		wire_put_string(&w, pt, n);
		f.blob_len = w.len;
		f.alg = "ecdsa-sha2-nistp384";
		d = good(&f);
		make_req(&r, &f, &d, fx[F_P256].pkey, "ecdsa-sha2-nistp384");
		expect(&r, -EINVAL, "key blob malformed", "p256 point as p384");
	}

	/* An Ed25519 key one byte short, and one with a byte after it. */
	f = fx[F_ED25519];
	f.blob[18] = 31;			/* the key's length */
	f.blob_len--;
	d = good(&f);
	make_req(&r, &f, &d, fx[F_ED25519].pkey, f.alg);
	expect(&r, -EINVAL, "key blob malformed", "short ed25519");
	f = fx[F_ED25519];
	f.blob[f.blob_len++] = 0;
	d = good(&f);
	make_req(&r, &f, &d, fx[F_ED25519].pkey, f.alg);
	expect(&r, -EINVAL, "key blob malformed", "ed25519 with a byte after it");

	/* An RSA exponent with a needless zero byte in front. */
	{
		struct wire_writer w = { .p = f.blob, .cap = sizeof(f.blob) };
		const struct fixture *rsa = &fx[F_RSA256];
		struct wire_reader rd = wire_reader(rsa->blob, rsa->blob_len);
		const uint8_t *e, *n;
		size_t elen = 0, nlen = 0;
		uint8_t e0[16] = { 0 };

		(void)wire_get_string(&rd, 64, &elen);
		e = wire_get_string(&rd, 64, &elen);
		n = wire_get_string(&rd, PS_MAX_BLOB, &nlen);
		assert_true(wire_done(&rd));
		memcpy(e0 + 1, e, elen);
		wire_put_string(&w, "ssh-rsa", 7);
		wire_put_string(&w, e0, elen + 1);
		wire_put_string(&w, n, nlen);
		f.blob_len = w.len;
		f.alg = "rsa-sha2-256";
		d = good(&f);
		make_req(&r, &f, &d, rsa->pkey, "rsa-sha2-256");
		expect(&r, -EINVAL, "key blob malformed", "rsa e with a zero byte");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_accepted_algorithms),
		cmocka_unit_test(test_rsa_bits),
		cmocka_unit_test(test_other_request_refused),
		cmocka_unit_test(test_other_blob_refused),
		cmocka_unit_test(test_algorithm_must_suit_key),
		cmocka_unit_test(test_truncated_refused),
		cmocka_unit_test(test_bad_signature_refused),
		cmocka_unit_test(test_sk_and_cert_refused),
		cmocka_unit_test(test_bad_keys_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
