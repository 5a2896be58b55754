/* A user's publickey signature, checked by the monitor: see sigcheck.h.
 *
 * Two halves: the signed data must be this request and no other (the
 * session id, the user, the service, the method, the key), parsed
 * strictly; then the key is built from its blob and the signature
 * verified with libcrypto.  The blob comes from the network child, so it
 * is parsed as strictly as the signed data: exact lengths, minimal
 * integers, nothing left over. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "handler/monitor/sigcheck.h"
#include "handler/monitor/sigcheck-internal.h"
#include "handler/privsep/protocol.h"
#include "policy/util/sshwire.h"

#define SSH2_MSG_USERAUTH_REQUEST 50

/* OpenSSH's bounds on RSA moduli: RequiredRSASize's default, and the
 * largest key it makes or accepts (SSH_RSA_MAXIMUM_MODULUS_SIZE). */
#define RSA_MIN_BITS 1024
#define RSA_MAX_BITS 16384
#define ED25519_KEY_LEN 32
#define ED25519_SIG_LEN 64
#define MAX_TYPE_NAME 64

enum kind { K_NONE, K_ED25519, K_ECDSA, K_RSA };

static const char WHY_CERT[] = "certificates of this key type are not supported";
static const char WHY_IS_CERT[] = "a certificate, not a plain key";
static const char WHY_SK[] = "security keys (sk-*) are not supported";

/* Every key type sshd knows, by its name in a blob.  Those with a kind
 * can be checked here; the others are refused with why. */
static const struct keytype {
	const char *name;
	const char *label;		/* as sshd logs it */
	enum kind kind;
	const char *why;		/* refused: why */
	const char *curve;		/* ECDSA: the curve as the blob names it */
	const char *group;		/* ... and as OpenSSL does */
	size_t point_len;		/* ... an uncompressed point's length */
} keytypes[] = {
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

/* Signature algorithms: the key type each suits and its digest. */
static const struct sigalg {
	const char *name;
	const char *keytype;
	const EVP_MD *(*md)(void);	/* NULL: Ed25519 hashes by itself */
	bool cert;			/* a certificate's: keytype is the certified key's */
} sigalgs[] = {
	{ "ssh-ed25519", "ssh-ed25519", NULL, false },
	{ "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256", EVP_sha256, false },
	{ "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384", EVP_sha384, false },
	{ "ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521", EVP_sha512, false },
	{ "rsa-sha2-256", "ssh-rsa", EVP_sha256, false },
	{ "rsa-sha2-512", "ssh-rsa", EVP_sha512, false },
	/* RSA with SHA-1: only if PubkeyAcceptedAlgorithms names it, which
	 * by default it does not (OpenSSH 8.8 and later). */
	{ "ssh-rsa", "ssh-rsa", EVP_sha1, false },
	/* The same, signed by the key of a certificate (PROTOCOL.certkeys). */
	{ "ssh-ed25519-cert-v01@openssh.com", "ssh-ed25519", NULL, true },
	{ "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp256", EVP_sha256, true },
	{ "ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp384", EVP_sha384, true },
	{ "ecdsa-sha2-nistp521-cert-v01@openssh.com", "ecdsa-sha2-nistp521", EVP_sha512, true },
	{ "rsa-sha2-256-cert-v01@openssh.com", "ssh-rsa", EVP_sha256, true },
	{ "rsa-sha2-512-cert-v01@openssh.com", "ssh-rsa", EVP_sha512, true },
	{ "ssh-rsa-cert-v01@openssh.com", "ssh-rsa", EVP_sha1, true },
};

static bool
str_eq(const uint8_t *s, size_t len, const char *lit)
{
	return s != NULL && strlen(lit) == len && memcmp(s, lit, len) == 0;
}

static bool
bytes_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return a != NULL && b != NULL && alen == blen && memcmp(a, b, alen) == 0;
}

static bool
has_suffix(const uint8_t *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* The blob's key type; NULL if it has none or one not in the table. */
static const struct keytype *
blob_type(const uint8_t *blob, size_t len, struct wire_reader *ret_r,
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

	kt = blob_type(blob, len, NULL, &name, &n);
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

	kt = blob_type(blob, len, NULL, &name, &n);
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
static int
key_from_blob(const uint8_t *blob, size_t len, const struct keytype **ret_kt,
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
	kt = blob_type(blob, len, &r, &name, &n);
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

/* The signed data, field by field (RFC 4252 section 7). */
struct signed_fields {
	const uint8_t *session_id, *user, *service, *method, *alg, *blob;
	size_t session_id_len, user_len, service_len, method_len, alg_len, blob_len;
	uint8_t type, flag;
};

static int
parse_signed(const uint8_t *p, size_t len, struct signed_fields *f,
    const char **ret_why)
{
	struct wire_reader r = wire_reader(p, len);

	f->session_id = wire_get_string(&r, PS_MAX_SESSION_ID, &f->session_id_len);
	f->type = wire_get_u8(&r);
	f->user = wire_get_string(&r, PS_MAX_USER_LEN, &f->user_len);
	f->service = wire_get_string(&r, MAX_TYPE_NAME, &f->service_len);
	f->method = wire_get_string(&r, MAX_TYPE_NAME, &f->method_len);
	f->flag = wire_get_u8(&r);
	f->alg = wire_get_string(&r, PS_MAX_SIGALG, &f->alg_len);
	f->blob = wire_get_string(&r, PS_MAX_BLOB, &f->blob_len);
	if (r.bad) {
		*ret_why = "signed data truncated or over its bounds";
		return -EBADMSG;
	}
	if (!wire_done(&r)) {
		*ret_why = "signed data has trailing bytes";
		return -EBADMSG;
	}
	return 0;
}

/* Is the signed data this request, within this connection? */
static int
check_signed(const struct sigcheck_request *q, const struct signed_fields *f,
    const char **ret_why)
{
	if (!bytes_eq(f->session_id, f->session_id_len, q->session_id, q->session_id_len))
		*ret_why = "session id does not match";
	else if (f->type != SSH2_MSG_USERAUTH_REQUEST)
		*ret_why = "not a userauth request";
	else if (!str_eq(f->user, f->user_len, q->user))
		*ret_why = "user does not match the request";
	else if (!str_eq(f->service, f->service_len, "ssh-connection"))
		*ret_why = "service is not ssh-connection";
	else if (!str_eq(f->method, f->method_len, "publickey"))
		*ret_why = "method is not publickey";
	else if (f->flag != 1)
		*ret_why = "signature flag not set";
	else if (!bytes_eq(f->blob, f->blob_len, q->blob, q->blob_len))
		*ret_why = "key does not match the request";
	else
		return 0;
	return -EBADMSG;
}

static const struct sigalg *
find_sigalg(const uint8_t *name, size_t len)
{
	for (size_t i = 0; i < sizeof(sigalgs) / sizeof(sigalgs[0]); i++)
		if (str_eq(name, len, sigalgs[i].name))
			return &sigalgs[i];
	return NULL;
}

/* Is the name (not NUL-terminated) one of the comma list's? */
static bool
in_list(const char *list, const uint8_t *name, size_t len)
{
	for (const char *p = list; p != NULL && *p != '\0';) {
		size_t n = strcspn(p, ",");

		if (n == len && memcmp(p, name, len) == 0)
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

int
sigcheck_rsa_bits(const uint8_t *blob, size_t len)
{
	struct wire_reader r;
	const struct keytype *kt;
	const uint8_t *name, *np;
	size_t n = 0, elen = 0, nlen = 0;
	int bits;

	kt = blob_type(blob, len, &r, &name, &n);
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

static int
key_accepted(const uint8_t *blob, size_t len, const char *accepted, bool cert)
{
	const struct keytype *kt;
	const uint8_t *name;
	size_t n;

	kt = blob_type(blob, len, NULL, &name, &n);
	if (kt == NULL || kt->kind == K_NONE)
		return -EOPNOTSUPP;
	for (size_t i = 0; i < sizeof(sigalgs) / sizeof(sigalgs[0]); i++)
		if (sigalgs[i].cert == cert &&
		    strcmp(sigalgs[i].keytype, kt->name) == 0 &&
		    in_list(accepted, (const uint8_t *)sigalgs[i].name,
		    strlen(sigalgs[i].name)))
			return 0;
	return -EOPNOTSUPP;
}

int
sigcheck_key_accepted(const uint8_t *blob, size_t len, const char *accepted)
{
	return key_accepted(blob, len, accepted, false);
}

int
sigcheck_cert_accepted(const uint8_t *key, size_t len, const char *accepted)
{
	return key_accepted(key, len, accepted, true);
}

/* Signature lengths the key can have made, before libcrypto looks. */
static bool
sig_len_plausible(enum kind kind, const EVP_PKEY *pkey, size_t len)
{
	switch (kind) {
	case K_ED25519: return len == ED25519_SIG_LEN;
	/* libssh pads an RSA signature to the modulus' length. */
	case K_RSA: return len == (size_t)EVP_PKEY_get_size(pkey);
	/* DER: OpenSSL refuses anything but the one encoding of (r, s). */
	case K_ECDSA: return len > 0 && len <= (size_t)EVP_PKEY_get_size(pkey);
	default: return false;
	}
}

/* The last step, shared with sigblob.c: sig (in OpenSSL's form) over
 * data, by pkey, with the digest alg names. */
int
sigcheck_final(const struct sigcheck_key *k, const struct sigalg *alg,
    const uint8_t *sig, size_t siglen, const uint8_t *data, size_t datalen,
    const char **ret_why)
{
	EVP_MD_CTX *ctx;
	int rc;

	if (!sig_len_plausible(k->kt->kind, k->pkey, siglen)) {
		*ret_why = "signature does not verify (wrong length)";
		return -EKEYREJECTED;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		*ret_why = "out of memory";
		return -ENOMEM;
	}
	if (EVP_DigestVerifyInit(ctx, NULL, alg->md ? alg->md() : NULL, NULL,
	    k->pkey) != 1) {
		*ret_why = "cannot set up the verification";
		rc = -EINVAL;
	} else if (EVP_DigestVerify(ctx, sig, siglen, data, datalen) != 1) {
		*ret_why = "signature does not verify";
		rc = -EKEYREJECTED;
	} else
		rc = 0;
	EVP_MD_CTX_free(ctx);
	/* What libcrypto complained about must not linger for the next
	 * caller to misread. */
	ERR_clear_error();
	return rc;
}

int
sigcheck_load(const uint8_t *blob, size_t len, struct sigcheck_key *ret,
    const char **ret_why)
{
	int rc;

	ret->pkey = NULL;
	rc = key_from_blob(blob, len, &ret->kt, &ret->pkey, ret_why);
	ERR_clear_error();
	return rc;
}

const struct sigalg *
sigcheck_alg(const uint8_t *name, size_t len, const struct sigcheck_key *k,
    bool cert, const char **ret_why)
{
	const struct sigalg *alg = find_sigalg(name, len);

	if (alg == NULL || alg->cert != cert) {
		*ret_why = "signature algorithm not supported";
		return NULL;
	}
	if (strcmp(alg->keytype, k->kt->name) != 0) {
		*ret_why = "signature algorithm does not suit the key";
		return NULL;
	}
	return alg;
}

enum sigcheck_kind
sigcheck_kind(const struct sigcheck_key *k)
{
	return k->kt->kind == K_ED25519 ? SK_ED25519 :
	    k->kt->kind == K_ECDSA ? SK_ECDSA : SK_RSA;
}

int
sigcheck_verify(const struct sigcheck_request *q, const char **ret_why)
{
	struct signed_fields f;
	struct sigcheck_key k = { NULL, NULL };
	const struct sigalg *alg;
	bool cert = q->key_blob != NULL;
	int rc;

	/* Before the key holder has signed the first exchange hash there is
	 * nothing a signature could be bound to. */
	if (q->session_id_len == 0) {
		*ret_why = "no session id yet";
		return -EACCES;
	}
	rc = parse_signed(q->signed_data, q->signed_data_len, &f, ret_why);
	if (rc < 0)
		return rc;
	rc = check_signed(q, &f, ret_why);
	if (rc < 0)
		return rc;
	/* A certificate's signature is the certified key's. */
	rc = sigcheck_load(cert ? q->key_blob : q->blob,
	    cert ? q->key_blob_len : q->blob_len, &k, ret_why);
	if (rc < 0)
		goto out;
	/* The user's PubkeyAcceptedAlgorithms, as sshd checks it before it
	 * looks at the key: the algorithm is the one the client signed with
	 * (the signed data's, which is also the request's). */
	if (q->accepted == NULL || !in_list(q->accepted, f.alg, f.alg_len)) {
		*ret_why = "signature algorithm not in PubkeyAcceptedAlgorithms";
		rc = -EOPNOTSUPP;
		goto out;
	}
	if ((alg = sigcheck_alg(f.alg, f.alg_len, &k, cert, ret_why)) == NULL) {
		rc = -EOPNOTSUPP;
		goto out;
	}
	rc = sigcheck_final(&k, alg, q->signature, q->signature_len,
	    q->signed_data, q->signed_data_len, ret_why);
out:
	EVP_PKEY_free(k.pkey);
	ERR_clear_error();
	return rc;
}
