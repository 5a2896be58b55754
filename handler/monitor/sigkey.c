/* Public keys from their SSH blobs, for the monitor's signature checks
 * (sigcheck.c, sigblob.c): every key type sshd knows, those the monitor
 * can check built into libcrypto keys, parsed strictly (exact lengths,
 * minimal integers, nothing left over): the blobs come from the network
 * child. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "handler/monitor/sigcheck.h"
#include "handler/monitor/sigcheck-internal.h"
#include "handler/privsep/protocol.h"
#include "policy/util/sshwire.h"

/* OpenSSH's bounds on RSA moduli: RequiredRSASize's default, and the
 * largest key it makes or accepts (SSH_RSA_MAXIMUM_MODULUS_SIZE). */
#define RSA_MIN_BITS 1024
#define RSA_MAX_BITS 16384
#define ED25519_KEY_LEN 32
#define MAX_TYPE_NAME 64

static const char WHY_CERT[] = "certificates of this key type are not supported";
static const char WHY_IS_CERT[] = "a certificate, not a plain key";
static const char WHY_SK[] = "security keys (sk-*) are not supported";

/* Every key type sshd knows, by its name in a blob.  Those with a kind
 * can be checked here; the others are refused with why. */
static const struct keytype keytypes[] = {
	{ "ssh-ed25519", "ED25519", K_ED25519, NULL, NULL, NULL, 0 },
	{ "ecdsa-sha2-nistp256", "ECDSA", K_ECDSA, NULL, "nistp256", "prime256v1", 65 },
	{ "ecdsa-sha2-nistp384", "ECDSA", K_ECDSA, NULL, "nistp384", "secp384r1", 97 },
	{ "ecdsa-sha2-nistp521", "ECDSA", K_ECDSA, NULL, "nistp521", "secp521r1", 133 },
	{ "ssh-rsa", "RSA", K_RSA, NULL, NULL, NULL, 0 },
	{ "ssh-dss", "DSA", K_NONE, "DSA keys are not supported", NULL, NULL, 0 },
	/* libssh checks a security key's signature over other data than
	 * the request (a hash of it, with flags and a counter): what the
	 * network child forwards is not what the monitor would check. */
	{ "sk-ssh-ed25519@openssh.com", "ED25519-SK", K_NONE, WHY_SK, NULL, NULL, 0 },
	{ "sk-ecdsa-sha2-nistp256@openssh.com", "ECDSA-SK", K_NONE, WHY_SK, NULL, NULL, 0 },
	/* Certificates are checked apart (cert.c): their signatures are
	 * verified with the certified key, a plain one. */
	{ "ssh-ed25519-cert-v01@openssh.com", "ED25519-CERT", K_NONE, WHY_IS_CERT, NULL, NULL, 0 },
	{ "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ECDSA-CERT", K_NONE, WHY_IS_CERT, NULL, NULL, 0 },
	{ "ecdsa-sha2-nistp384-cert-v01@openssh.com", "ECDSA-CERT", K_NONE, WHY_IS_CERT, NULL, NULL, 0 },
	{ "ecdsa-sha2-nistp521-cert-v01@openssh.com", "ECDSA-CERT", K_NONE, WHY_IS_CERT, NULL, NULL, 0 },
	{ "ssh-rsa-cert-v01@openssh.com", "RSA-CERT", K_NONE, WHY_IS_CERT, NULL, NULL, 0 },
	{ "ssh-dss-cert-v01@openssh.com", "DSA-CERT", K_NONE, WHY_CERT, NULL, NULL, 0 },
	{ "sk-ssh-ed25519-cert-v01@openssh.com", "ED25519-SK-CERT", K_NONE, WHY_CERT, NULL, NULL, 0 },
	{ "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com", "ECDSA-SK-CERT", K_NONE, WHY_CERT, NULL, NULL, 0 },
};

static bool
str_eq(const uint8_t *s, size_t len, const char *lit)
{
	return s != NULL && strlen(lit) == len && memcmp(s, lit, len) == 0;
}

static bool
has_suffix(const uint8_t *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* The blob's key type; NULL if it has none or one not in the table. */
const struct keytype *
sigcheck_blob_type(const uint8_t *blob, size_t len, struct wire_reader *ret_r,
    const uint8_t **ret_name, size_t *ret_name_len)
{
	struct wire_reader r = wire_reader(blob, len);
	const uint8_t *name;
	size_t n = 0;

	name = wire_get_string(&r, MAX_TYPE_NAME, &n);
	if (ret_r != NULL)
		*ret_r = r;
	*ret_name = name;
	*ret_name_len = n;
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(keytypes) / sizeof(keytypes[0]); i++)
		if (str_eq(name, n, keytypes[i].name))
			return &keytypes[i];
	return NULL;
}

int
sigcheck_key_supported(const uint8_t *blob, size_t len, const char **ret_why)
{
	const struct keytype *kt;
	const uint8_t *name;
	size_t n;

	kt = sigcheck_blob_type(blob, len, NULL, &name, &n);
	if (name == NULL) {
		*ret_why = "key blob has no type";
		return -EBADMSG;
	}
	if (kt != NULL && kt->kind != K_NONE)
		return 0;
	if (kt != NULL)
		*ret_why = kt->why;
	else if (has_suffix(name, n, "-cert-v01@openssh.com"))
		*ret_why = WHY_CERT;
	else if (n >= 3 && memcmp(name, "sk-", 3) == 0)
		*ret_why = WHY_SK;
	else
		*ret_why = "key type not supported";
	return -EOPNOTSUPP;
}

const char *
sigcheck_key_label(const uint8_t *blob, size_t len)
{
	const struct keytype *kt;
	const uint8_t *name;
	size_t n;

	kt = sigcheck_blob_type(blob, len, NULL, &name, &n);
	return kt != NULL ? kt->label : "unknown";
}

/* An SSH mpint that must be positive and minimally encoded (RFC 4251
 * section 5), without its sign byte; NULL if it is not. */
const uint8_t *
sigcheck_positive(struct wire_reader *r, size_t *ret_len)
{
	size_t n = 0;
	const uint8_t *p = wire_get_string(r, PS_MAX_BLOB, &n);

	if (p == NULL || n == 0 || (p[0] & 0x80) != 0)
		return NULL;
	if (p[0] == 0) {
		if (n < 2 || (p[1] & 0x80) == 0)
			return NULL;
		p++;
		n--;
	}
	*ret_len = n;
	return p;
}

static int
fromdata(const char *alg, OSSL_PARAM *params, EVP_PKEY **ret)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
	int r = -EINVAL;

	if (ctx == NULL)
		return -ENOMEM;
	if (EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, ret, EVP_PKEY_PUBLIC_KEY, params) == 1)
		r = 0;
	EVP_PKEY_CTX_free(ctx);
	return r;
}

static int
ecdsa_key(const struct keytype *kt, struct wire_reader *r, EVP_PKEY **ret,
    const char **ret_why)
{
	const uint8_t *curve, *point;
	size_t clen = 0, plen = 0;
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx;
	int rc;

	curve = wire_get_string(r, MAX_TYPE_NAME, &clen);
	point = wire_get_string(r, PS_MAX_BLOB, &plen);
	if (!wire_done(r) || !str_eq(curve, clen, kt->curve) ||
	    plen != kt->point_len || point[0] != 0x04) {
		*ret_why = "key blob malformed";
		return -EINVAL;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
	    (char *)kt->group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
	    (void *)point, plen);
	params[2] = OSSL_PARAM_construct_end();
	rc = fromdata("EC", params, ret);
	if (rc < 0) {
		*ret_why = rc == -ENOMEM ? "out of memory" : "ECDSA key invalid";
		return rc;
	}
	/* The point is on the curve (fromdata checks that) and not the
	 * point at infinity, as OpenSSH's sshkey_ec_validate_public wants. */
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, *ret, NULL);
	rc = ctx != NULL && EVP_PKEY_public_check(ctx) == 1 ? 0 : -EINVAL;
	EVP_PKEY_CTX_free(ctx);
	if (rc < 0) {
		EVP_PKEY_free(*ret);
		*ret = NULL;
		*ret_why = "ECDSA key invalid";
	}
	return rc;
}

static int
rsa_key(struct wire_reader *r, EVP_PKEY **ret, const char **ret_why)
{
	const uint8_t *ep, *np;
	size_t elen = 0, nlen = 0;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	BIGNUM *e = NULL, *n = NULL;
	int bits, rc = -ENOMEM;

	ep = sigcheck_positive(r, &elen);
	np = sigcheck_positive(r, &nlen);
	if (ep == NULL || np == NULL || !wire_done(r)) {
		*ret_why = "key blob malformed";
		return -EINVAL;
	}
	*ret_why = "out of memory";
	e = BN_bin2bn(ep, (int)elen, NULL);
	n = BN_bin2bn(np, (int)nlen, NULL);
	if (e == NULL || n == NULL)
		goto out;
	bits = BN_num_bits(n);
	if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
		*ret_why = bits < RSA_MIN_BITS ? "RSA key too small" : "RSA key too large";
		rc = -EINVAL;
		goto out;
	}
	if (!BN_is_odd(e) || BN_is_one(e) || !BN_is_odd(n) || BN_cmp(e, n) >= 0) {
		*ret_why = "RSA key invalid";
		rc = -EINVAL;
		goto out;
	}
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	rc = fromdata("RSA", params, ret);
	if (rc == -EINVAL)
		*ret_why = "RSA key invalid";
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(e);
	BN_free(n);
	return rc;
}

/* The public key of a blob the monitor can check signatures of. */
int
sigcheck_key_from_blob(const uint8_t *blob, size_t len, const struct keytype **ret_kt,
    EVP_PKEY **ret, const char **ret_why)
{
	struct wire_reader r;
	const struct keytype *kt;
	const uint8_t *name, *pk;
	size_t n = 0;
	int rc;

	rc = sigcheck_key_supported(blob, len, ret_why);
	if (rc < 0)
		return rc;
	kt = sigcheck_blob_type(blob, len, &r, &name, &n);
	*ret_kt = kt;
	switch (kt->kind) {
	case K_ED25519:
		pk = wire_get_string(&r, PS_MAX_BLOB, &n);
		if (!wire_done(&r) || n != ED25519_KEY_LEN) {
			*ret_why = "key blob malformed";
			return -EINVAL;
		}
		*ret = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk, n);
		if (*ret == NULL) {
			*ret_why = "Ed25519 key invalid";
			return -EINVAL;
		}
		return 0;
	case K_ECDSA:
		return ecdsa_key(kt, &r, ret, ret_why);
	case K_RSA:
		return rsa_key(&r, ret, ret_why);
	default:
		*ret_why = "key type not supported";
		return -EOPNOTSUPP;
	}
}

int
sigcheck_rsa_bits(const uint8_t *blob, size_t len)
{
	struct wire_reader r;
	const struct keytype *kt;
	const uint8_t *name, *np;
	size_t n = 0, elen = 0, nlen = 0;
	int bits;

	kt = sigcheck_blob_type(blob, len, &r, &name, &n);
	if (kt == NULL || kt->kind != K_RSA)
		return 0;
	if (sigcheck_positive(&r, &elen) == NULL ||
	    (np = sigcheck_positive(&r, &nlen)) == NULL || nlen > RSA_MAX_BITS / 8)
		return -EINVAL;
	/* Minimal: the first byte is not 0, so it holds the top bit. */
	bits = (int)(nlen - 1) * 8;
	for (unsigned b = np[0]; b != 0; b >>= 1)
		bits++;
	return bits;
}
