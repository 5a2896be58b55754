/* A user's publickey signature, checked by the monitor: see sigcheck.h.
 *
 * Two halves: the signed data must be this request and no other (the
 * session id, the user, the service, the method, the key), parsed
 * strictly; then the key is built from its blob and the signature
 * verified with libcrypto (keys from their blobs: sigkey.c).  The blob
 * comes from the network child, so it is parsed as strictly as the
 * signed data. */
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

#define ED25519_SIG_LEN 64
#define MAX_TYPE_NAME 64

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


static int
key_accepted(const uint8_t *blob, size_t len, const char *accepted, bool cert)
{
	const struct keytype *kt;
	const uint8_t *name;
	size_t n;

	kt = sigcheck_blob_type(blob, len, NULL, &name, &n);
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
	rc = sigcheck_key_from_blob(blob, len, &ret->kt, &ret->pkey, ret_why);
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
