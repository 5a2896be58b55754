/* Host private keys with OpenSSL: the file formats ssh-keygen writes, the
 * public blob the client sees, and the signature over an exchange hash.
 *
 * The network child used to load these files itself (libssh's import);
 * now only the key holder does, so the parser is ours: OpenSSH's own
 * format read with the SSH wire reader, PEM through OpenSSL.  Both end in
 * an EVP_PKEY, from which the public blob is built once, in one way; for
 * OpenSSH's format it must equal the public key the file itself states,
 * and an Ed25519 seed must give the public key stored beside it, so a
 * damaged or mismatched file is refused here rather than served with
 * signatures no client accepts. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "handler/keys/hostkey.h"
#include "policy/util/base64.h"
#include "policy/util/sshwire.h"

#define MAX_KEY_FILE (64 * 1024)	/* an RSA-16384 PEM is about 12 KiB */
#define OPENSSH_MAGIC "openssh-key-v1"	/* and its NUL */
#define OPENSSH_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----"
#define OPENSSH_END "-----END OPENSSH PRIVATE KEY-----"
#define MAX_MPINT 2049			/* RSA-16384 and a sign byte */

/* The curves OpenSSH names, as OpenSSL names them, and their digest. */
static const struct curve {
	const char *ssh, *type, *ossl, *md;
} curves[] = {
	{ "nistp256", "ecdsa-sha2-nistp256", "prime256v1", "SHA256" },
	{ "nistp384", "ecdsa-sha2-nistp384", "secp384r1", "SHA384" },
	{ "nistp521", "ecdsa-sha2-nistp521", "secp521r1", "SHA512" },
};

static const struct curve *
curve_by(const char *name, bool ssh_name)
{
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (strcmp(name, ssh_name ? curves[i].ssh : curves[i].ossl) == 0)
			return &curves[i];
	return NULL;
}

static int
fail(char *err, size_t errlen, int r, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return r;
}

/* The whole file, NUL-terminated; refuses what is not a regular file,
 * and, as sshd does (sshkey_perm_ok), a file of ours that the group or
 * others may read or write: a host key others could read is no longer
 * the host's alone, and serving it would hide that.  -EPERM then, with
 * sshd's wording in err. */
static int
read_file(const char *path, char **ret, size_t *ret_len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	char *buf;
	size_t n = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_KEY_FILE) {
		close(fd);
		return -EINVAL;
	}
	if (st.st_uid == getuid() && (st.st_mode & 077) != 0) {
		close(fd);
		snprintf(err, errlen, "Permissions 0%3.3o for '%s' are too open. It is "
		    "required that your private key files are NOT accessible by others.",
		    (unsigned)(st.st_mode & 0777), path);
		return -EPERM;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);

		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*ret = buf;
	*ret_len = n;
	return 0;
}

/* An SSH mpint as a BIGNUM: positive only, no needless leading zero
 * beyond the sign byte. */
static BIGNUM *
get_mpint(struct wire_reader *r)
{
	size_t n;
	const uint8_t *p = wire_get_string(r, MAX_MPINT, &n);

	if (p == NULL || n == 0 || (p[0] & 0x80))
		return NULL;
	return BN_bin2bn(p, (int)n, NULL);
}

static void
put_mpint(struct wire_writer *w, const BIGNUM *bn)
{
	uint8_t buf[MAX_MPINT];
	int n = BN_num_bytes(bn);

	if (n <= 0 || n >= MAX_MPINT) {
		w->bad = true;
		return;
	}
	buf[0] = 0;
	BN_bn2bin(bn, buf + 1);
	/* A leading zero byte only where the top bit would read as a sign. */
	if (buf[1] & 0x80)
		wire_put_string(w, buf, (size_t)n + 1);
	else
		wire_put_string(w, buf + 1, (size_t)n);
}

/* The public blob and type of k->pkey. */
static int
make_blob(struct hostkey *k)
{
	struct wire_writer w = { .p = k->blob, .cap = sizeof(k->blob) };
	uint8_t pub[1024];
	size_t n = 0;
	char group[64];

	if (EVP_PKEY_is_a(k->pkey, "ED25519")) {
		n = sizeof(pub);
		if (EVP_PKEY_get_raw_public_key(k->pkey, pub, &n) != 1 || n != 32)
			return -EINVAL;
		k->kind = HOSTKEY_ED25519;
		k->type = "ssh-ed25519";
		wire_put_string(&w, k->type, strlen(k->type));
		wire_put_string(&w, pub, n);
	} else if (EVP_PKEY_is_a(k->pkey, "EC")) {
		const struct curve *c;

		if (EVP_PKEY_get_utf8_string_param(k->pkey, OSSL_PKEY_PARAM_GROUP_NAME,
		    group, sizeof(group), NULL) != 1 || (c = curve_by(group, false)) == NULL)
			return -EPROTONOSUPPORT;
		if (EVP_PKEY_get_octet_string_param(k->pkey,
		    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub, sizeof(pub), &n) != 1)
			return -EINVAL;
		k->kind = HOSTKEY_ECDSA;
		k->type = c->type;
		wire_put_string(&w, c->type, strlen(c->type));
		wire_put_string(&w, c->ssh, strlen(c->ssh));
		wire_put_string(&w, pub, n);
	} else if (EVP_PKEY_is_a(k->pkey, "RSA")) {
		BIGNUM *bn_n = NULL, *bn_e = NULL;

		if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N, &bn_n) != 1 ||
		    EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_E, &bn_e) != 1) {
			BN_free(bn_n);
			return -EINVAL;
		}
		k->kind = HOSTKEY_RSA;
		k->type = "ssh-rsa";
		wire_put_string(&w, k->type, strlen(k->type));
		put_mpint(&w, bn_e);
		put_mpint(&w, bn_n);
		BN_free(bn_n);
		BN_free(bn_e);
		/* OpenSSH's RequiredRSASize. */
		if (EVP_PKEY_get_bits(k->pkey) < 1024)
			return -EKEYREJECTED;
	} else
		return -EPROTONOSUPPORT;
	if (w.bad)
		return -E2BIG;
	k->blob_len = w.len;
	return 0;
}

static EVP_PKEY *
from_params(const char *alg, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
	EVP_PKEY *pkey = NULL;

	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

static EVP_PKEY *
openssh_ed25519(struct wire_reader *r)
{
	size_t npub, npriv, n = 32;
	const uint8_t *pub = wire_get_string(r, 32, &npub);
	const uint8_t *priv = wire_get_string(r, 64, &npriv);
	uint8_t derived[32];
	EVP_PKEY *pkey;

	/* priv is the seed followed by the public key again. */
	if (pub == NULL || priv == NULL || npub != 32 || npriv != 64 ||
	    memcmp(priv + 32, pub, 32) != 0)
		return NULL;
	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv, 32);
	if (pkey == NULL)
		return NULL;
	if (EVP_PKEY_get_raw_public_key(pkey, derived, &n) != 1 || n != 32 ||
	    memcmp(derived, pub, 32) != 0) {
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return pkey;
}

static EVP_PKEY *
openssh_ecdsa(struct wire_reader *r)
{
	size_t ncurve, nq;
	const uint8_t *curve = wire_get_string(r, 16, &ncurve);
	const uint8_t *q = wire_get_string(r, 256, &nq);
	BIGNUM *d = get_mpint(r);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	const struct curve *c = NULL;
	EVP_PKEY *pkey = NULL;
	char name[17];

	if (curve != NULL) {
		memcpy(name, curve, ncurve);
		name[ncurve] = '\0';
		c = curve_by(name, true);
	}
	if (c != NULL && q != NULL && d != NULL && bld != NULL &&
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, c->ossl, 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, q, nq) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d))
		pkey = from_params("EC", bld);
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(d);
	return pkey;
}

static EVP_PKEY *
openssh_rsa(struct wire_reader *r)
{
	/* The order of OpenSSH's format: n, e, d, iqmp, p, q. */
	BIGNUM *n = get_mpint(r), *e = get_mpint(r), *d = get_mpint(r);
	BIGNUM *iqmp = get_mpint(r), *p = get_mpint(r), *q = get_mpint(r);
	BIGNUM *dmp1 = BN_secure_new(), *dmq1 = BN_secure_new(), *t = BN_secure_new();
	BN_CTX *bctx = BN_CTX_secure_new();
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY *pkey = NULL;

	/* OpenSSL's CRT form also wants d mod (p-1) and d mod (q-1). */
	if (n && e && d && iqmp && p && q && dmp1 && dmq1 && t && bctx && bld &&
	    BN_sub(t, p, BN_value_one()) && BN_mod(dmp1, d, t, bctx) &&
	    BN_sub(t, q, BN_value_one()) && BN_mod(dmq1, d, t, bctx) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, p) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, q) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dmp1) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, dmq1) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, iqmp))
		pkey = from_params("RSA", bld);
	OSSL_PARAM_BLD_free(bld);
	BN_CTX_free(bctx);
	BN_free(n);
	BN_free(e);
	BN_clear_free(d);
	BN_clear_free(iqmp);
	BN_clear_free(p);
	BN_clear_free(q);
	BN_clear_free(dmp1);
	BN_clear_free(dmq1);
	BN_clear_free(t);
	return pkey;
}

/* OpenSSH's format (PROTOCOL.key): one key, not encrypted. */
static int
load_openssh(const char *text, struct hostkey *k, char *err, size_t errlen)
{
	const char *b = strstr(text, OPENSSH_BEGIN), *e;
	size_t n = 0, len, npub, nsec, ntype;
	uint8_t *raw;
	char *b64;
	int r = -EINVAL;

	e = strstr(b, OPENSSH_END);
	if (e == NULL)
		return fail(err, errlen, -EINVAL, "no end line");
	b += strlen(OPENSSH_BEGIN);
	b64 = malloc((size_t)(e - b) + 1);
	raw = malloc((size_t)(e - b) + 1);
	if (b64 == NULL || raw == NULL) {
		free(b64);
		free(raw);
		return fail(err, errlen, -ENOMEM, "out of memory");
	}
	for (const char *p = b; p < e; p++)
		if (*p != '\n' && *p != '\r' && *p != ' ' && *p != '\t')
			b64[n++] = *p;
	if (base64_decode(b64, n, raw, (size_t)(e - b) + 1, &len) < 0) {
		r = fail(err, errlen, -EINVAL, "bad base64");
		goto out;
	}
	struct wire_reader rd = wire_reader(raw, len);
	if (len < sizeof(OPENSSH_MAGIC) ||
	    memcmp(raw, OPENSSH_MAGIC, sizeof(OPENSSH_MAGIC)) != 0) {
		r = fail(err, errlen, -EINVAL, "not an OpenSSH private key");
		goto out;
	}
	rd.p += sizeof(OPENSSH_MAGIC);
	rd.left -= sizeof(OPENSSH_MAGIC);
	size_t nc, nk, no;
	const uint8_t *cipher = wire_get_string(&rd, 64, &nc);
	const uint8_t *kdf = wire_get_string(&rd, 64, &nk);
	(void)wire_get_string(&rd, 1024, &no);
	uint32_t nkeys = wire_get_u32(&rd);
	const uint8_t *pub = wire_get_string(&rd, PS_MAX_HOSTKEY_BLOB, &npub);
	const uint8_t *sec = wire_get_string(&rd, MAX_KEY_FILE, &nsec);

	if (rd.bad || !wire_done(&rd) || nkeys != 1) {
		r = fail(err, errlen, -EINVAL, "malformed OpenSSH private key");
		goto out;
	}
	if (nc != 4 || memcmp(cipher, "none", 4) != 0 || nk != 4 ||
	    memcmp(kdf, "none", 4) != 0) {
		r = fail(err, errlen, -EKEYREJECTED,
		    "encrypted with a passphrase (host keys cannot be)");
		goto out;
	}
	struct wire_reader s = wire_reader(sec, nsec);
	uint32_t check1 = wire_get_u32(&s), check2 = wire_get_u32(&s);
	const uint8_t *type = wire_get_string(&s, 64, &ntype);

	if (s.bad || check1 != check2) {
		r = fail(err, errlen, -EINVAL, "malformed OpenSSH private key");
		goto out;
	}
	/* The public key the private fields state, built from them as they
	 * are (no arithmetic yet), must be the file's. */
	struct wire_writer w = { .p = k->blob, .cap = sizeof(k->blob) };
	const uint8_t *fields = s.p;
	size_t na, nb2;
	const uint8_t *fa = wire_get_string(&s, MAX_MPINT, &na);
	const uint8_t *fb = wire_get_string(&s, MAX_MPINT, &nb2);

	wire_put_string(&w, type, ntype);
	if (ntype == 11 && memcmp(type, "ssh-ed25519", 11) == 0) {
		/* pub, then seed || pub */
		k->kind = HOSTKEY_ED25519;
		k->type = "ssh-ed25519";
		wire_put_string(&w, fa, na);
	} else if (ntype > 11 && memcmp(type, "ecdsa-sha2-", 11) == 0) {
		/* curve, Q, d */
		const struct curve *c = NULL;
		char name[17];

		if (fa != NULL && na < sizeof(name)) {
			memcpy(name, fa, na);
			name[na] = '\0';
			c = curve_by(name, true);
		}
		if (c == NULL || ntype != strlen(c->type) || memcmp(type, c->type, ntype) != 0) {
			r = fail(err, errlen, -EPROTONOSUPPORT, "curve not supported");
			goto out;
		}
		k->kind = HOSTKEY_ECDSA;
		k->type = c->type;
		wire_put_string(&w, fa, na);
		wire_put_string(&w, fb, nb2);
	} else if (ntype == 7 && memcmp(type, "ssh-rsa", 7) == 0) {
		/* n, e, d, iqmp, p, q; the blob has e, then n */
		BIGNUM *bn = fa != NULL ? BN_bin2bn(fa, (int)na, NULL) : NULL;
		int bits = bn != NULL ? BN_num_bits(bn) : 0;

		BN_free(bn);
		/* OpenSSH's RequiredRSASize. */
		if (bits < 1024) {
			r = fail(err, errlen, -EKEYREJECTED, "RSA key shorter than 1024 bits");
			goto out;
		}
		k->kind = HOSTKEY_RSA;
		k->type = "ssh-rsa";
		wire_put_string(&w, fb, nb2);
		wire_put_string(&w, fa, na);
	} else {
		r = fail(err, errlen, -EPROTONOSUPPORT,
		    "key type not supported (Ed25519, ECDSA and RSA are)");
		goto out;
	}
	if (s.bad || w.bad) {
		r = fail(err, errlen, -EINVAL, "malformed OpenSSH private key");
		goto out;
	}
	k->blob_len = w.len;
	if (k->blob_len != npub || memcmp(k->blob, pub, npub) != 0) {
		r = fail(err, errlen, -EINVAL, "private key does not match its public key");
		goto out;
	}
	/* The key's own fields, the comment and padding follow: kept for
	 * hostkey_check, which reads them all. */
	k->sec_len = nsec - (size_t)(fields - sec);
	k->sec = malloc(k->sec_len);
	if (k->sec == NULL) {
		r = fail(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	memcpy(k->sec, fields, k->sec_len);
	r = 0;
out:
	explicit_bzero(raw, (size_t)(e - b) + 1);
	explicit_bzero(b64, (size_t)(e - b) + 1);
	free(raw);
	free(b64);
	return r;
}

/* A PEM key asks for a passphrase only if it has one: refuse it. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

static int
load_pem(const char *text, size_t len, struct hostkey *k, char *err, size_t errlen)
{
	BIO *bio = BIO_new_mem_buf(text, (int)len);
	int r;

	if (bio == NULL)
		return fail(err, errlen, -ENOMEM, "out of memory");
	k->pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (k->pkey == NULL)
		return fail(err, errlen, -EINVAL, "not a private key this server reads");
	r = make_blob(k);
	if (r < 0)
		return fail(err, errlen, r, r == -EKEYREJECTED ?
		    "RSA key shorter than 1024 bits" : "key type not supported");
	return 0;
}

/* The OpenSSL key from the private fields load_openssh kept. */
static int
openssh_build(struct hostkey *k, char *err, size_t errlen)
{
	struct wire_reader s = wire_reader(k->sec, k->sec_len);
	uint8_t blob[sizeof(k->blob)];
	size_t blob_len = k->blob_len, n;
	int r;

	switch (k->kind) {
	case HOSTKEY_ED25519: k->pkey = openssh_ed25519(&s); break;
	case HOSTKEY_ECDSA: k->pkey = openssh_ecdsa(&s); break;
	case HOSTKEY_RSA: k->pkey = openssh_rsa(&s); break;
	default: break;
	}
	/* The comment, then padding 1, 2, 3... to the cipher's block. */
	(void)wire_get_string(&s, 4096, &n);
	for (uint8_t i = 1; !s.bad && s.left > 0; i++)
		if (wire_get_u8(&s) != i)
			s.bad = true;
	if (k->pkey == NULL || s.bad)
		return fail(err, errlen, -EINVAL, "malformed or inconsistent private key");
	/* What the key gives must be what the file states. */
	memcpy(blob, k->blob, blob_len);
	r = make_blob(k);
	if (r < 0 || k->blob_len != blob_len || memcmp(k->blob, blob, blob_len) != 0) {
		EVP_PKEY_free(k->pkey);
		k->pkey = NULL;
		memcpy(k->blob, blob, blob_len);
		k->blob_len = blob_len;
		return fail(err, errlen, -EINVAL, "private key does not match its public key");
	}
	explicit_bzero(k->sec, k->sec_len);
	free(k->sec);
	k->sec = NULL;
	k->sec_len = 0;
	return 0;
}

int
hostkey_check(struct hostkey *k, char *err, size_t errlen)
{
	return k->pkey != NULL ? 0 : openssh_build(k, err, errlen);
}

int
hostkey_load(const char *path, struct hostkey *ret, char *err, size_t errlen)
{
	struct hostkey k = { 0 };
	char *text = NULL;
	size_t len = 0;
	int r = read_file(path, &text, &len, err, errlen);

	if (r == -EPERM)
		return r;
	if (r < 0)
		return fail(err, errlen, r, r == -EINVAL ? "not a key file" : strerror(-r));
	if (strstr(text, OPENSSH_BEGIN) != NULL)
		r = load_openssh(text, &k, err, errlen);
	else
		r = load_pem(text, len, &k, err, errlen);
	explicit_bzero(text, len);
	free(text);
	if (r < 0) {
		hostkey_free(&k);
		return r;
	}
	*ret = k;
	return 0;
}

void
hostkey_free(struct hostkey *k)
{
	EVP_PKEY_free(k->pkey);
	k->pkey = NULL;
	if (k->sec != NULL) {
		explicit_bzero(k->sec, k->sec_len);
		free(k->sec);
		k->sec = NULL;
	}
}

/* The digest alg signs with, if alg is this key's; *ok false if not. */
static const char *
alg_digest(const struct hostkey *k, const char *alg, bool *ok)
{
	*ok = true;
	switch (k->kind) {
	case HOSTKEY_ED25519:
		*ok = strcmp(alg, "ssh-ed25519") == 0;
		return NULL;
	case HOSTKEY_ECDSA:
		for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
			if (strcmp(alg, curves[i].type) == 0 && strcmp(alg, k->type) == 0)
				return curves[i].md;
		break;
	case HOSTKEY_RSA:
		if (strcmp(alg, "rsa-sha2-256") == 0)
			return "SHA256";
		if (strcmp(alg, "rsa-sha2-512") == 0)
			return "SHA512";
		if (strcmp(alg, "ssh-rsa") == 0)
			return "SHA1";
		break;
	default:
		break;
	}
	*ok = false;
	return NULL;
}

int
hostkey_rsa_bits(const struct hostkey *k)
{
	struct wire_reader r = wire_reader(k->blob, k->blob_len);
	BIGNUM *e, *n;
	int bits = 0;

	if (k->kind != HOSTKEY_RSA)
		return 0;
	(void)wire_get_string(&r, 64, &(size_t){ 0 });	/* "ssh-rsa" */
	e = get_mpint(&r);
	n = get_mpint(&r);
	if (e != NULL && n != NULL)
		bits = BN_num_bits(n);
	BN_free(e);
	BN_free(n);
	return bits;
}

bool
hostkey_alg_known(const char *alg)
{
	for (int kind = 0; kind < HOSTKEY_KINDS; kind++)
		for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
			/* Every type a key of this kind may have. */
			struct hostkey k = { .kind = (enum hostkey_kind)kind,
			    .type = curves[i].type };
			bool ok;

			alg_digest(&k, alg, &ok);
			if (ok)
				return true;
		}
	return false;
}

bool
hostkey_signs(const struct hostkey *k, const char *alg)
{
	bool ok;

	alg_digest(k, alg, &ok);
	return ok && k->type != NULL;
}

int
hostkey_sign(struct hostkey *k, const char *alg, const uint8_t *data,
    size_t len, uint8_t *sig, size_t cap, size_t *ret_len)
{
	bool ok;
	const char *md = alg_digest(k, alg, &ok);
	EVP_MD_CTX *ctx;
	char err[64];
	size_t n = 0;
	int r = -EIO;

	if (!ok || hostkey_check(k, err, sizeof(err)) < 0)
		return -EINVAL;
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return -ENOMEM;
	if (EVP_DigestSignInit_ex(ctx, NULL, md, NULL, NULL, k->pkey, NULL) == 1 &&
	    EVP_DigestSign(ctx, NULL, &n, data, len) == 1) {
		if (n > cap)
			r = -E2BIG;
		else if (EVP_DigestSign(ctx, sig, &n, data, len) == 1) {
			*ret_len = n;
			r = 0;
		}
	}
	EVP_MD_CTX_free(ctx);
	return r;
}
