/* A signature in SSH's own form (string algorithm, string signature), as
 * a certificate authority signs a certificate: taken apart strictly and
 * put in the form libcrypto verifies (what libssh does for the user's
 * signature before the monitor sees it, see handler/net/verify.c).
 *
 * The certificate comes from the network: every length is bounded, and a
 * signature that is not exactly one well-formed encoding is refused. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>

#include "handler/monitor/sigcheck.h"
#include "handler/monitor/sigcheck-internal.h"
#include "handler/privsep/protocol.h"
#include "policy/algorithms.h"

#define MAX_ALG 64
#define ED25519_SIG_LEN 64

/* An ECDSA signature's (mpint r, mpint s) as DER, which OpenSSL takes. */
static int
ecdsa_der(const uint8_t *raw, size_t len, uint8_t *out, size_t outlen,
    size_t *ret_len, const char **ret_why)
{
	struct wire_reader r = wire_reader(raw, len);
	const uint8_t *rp, *sp;
	size_t rlen = 0, slen = 0;
	ECDSA_SIG *sig = NULL;
	BIGNUM *br = NULL, *bs = NULL;
	unsigned char *p = out;
	int n, rc = -EBADMSG;

	rp = sigcheck_positive(&r, &rlen);
	sp = sigcheck_positive(&r, &slen);
	if (rp == NULL || sp == NULL || !wire_done(&r) || rlen > 66 || slen > 66) {
		*ret_why = "ECDSA signature malformed";
		return -EBADMSG;
	}
	*ret_why = "out of memory";
	br = BN_bin2bn(rp, (int)rlen, NULL);
	bs = BN_bin2bn(sp, (int)slen, NULL);
	if (br == NULL || bs == NULL || (sig = ECDSA_SIG_new()) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (ECDSA_SIG_set0(sig, br, bs) != 1) {
		rc = -ENOMEM;
		goto out;
	}
	br = bs = NULL;
	n = i2d_ECDSA_SIG(sig, NULL);
	if (n <= 0 || (size_t)n > outlen) {
		*ret_why = "ECDSA signature malformed";
		goto out;
	}
	*ret_len = (size_t)i2d_ECDSA_SIG(sig, &p);
	rc = 0;
out:
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(sig);
	return rc;
}

int
sigcheck_verify_blob(const uint8_t *key, size_t keylen, const uint8_t *sig,
    size_t siglen, const uint8_t *data, size_t datalen, const char *allowed,
    const char **ret_why)
{
	struct wire_reader r = wire_reader(sig, siglen);
	struct sigcheck_key k = { NULL, NULL };
	const struct sigalg *alg;
	const uint8_t *name, *raw;
	size_t nlen = 0, rawlen = 0, len = 0, size;
	uint8_t buf[PS_MAX_SIG];
	char cname[MAX_ALG + 1];
	int rc;

	name = wire_get_string(&r, MAX_ALG, &nlen);
	raw = wire_get_string(&r, PS_MAX_SIG, &rawlen);
	if (name == NULL || raw == NULL || !wire_done(&r) ||
	    memchr(name, '\0', nlen) != NULL) {
		*ret_why = "signature malformed";
		return -EBADMSG;
	}
	memcpy(cname, name, nlen);
	cname[nlen] = '\0';
	/* CASignatureAlgorithms: SHA-1 RSA is not in its default, as in
	 * OpenSSH 8.2 and later. */
	if (allowed == NULL || !algo_list_has(allowed, cname)) {
		*ret_why = "signature algorithm not in CASignatureAlgorithms";
		return -EOPNOTSUPP;
	}
	if ((rc = sigcheck_load(key, keylen, &k, ret_why)) < 0)
		return rc;
	if ((alg = sigcheck_alg(name, nlen, &k, false, ret_why)) == NULL) {
		rc = -EOPNOTSUPP;
		goto out;
	}
	switch (sigcheck_kind(&k)) {
	case SK_ED25519:
		if (rawlen != ED25519_SIG_LEN)
			goto bad;
		memcpy(buf, raw, rawlen);
		len = rawlen;
		break;
	case SK_RSA:
		/* OpenSSH takes a signature shorter than the modulus (its
		 * leading zeros dropped) and pads it back, as here. */
		size = (size_t)EVP_PKEY_get_size(k.pkey);
		if (rawlen == 0 || rawlen > size || size > sizeof(buf))
			goto bad;
		memset(buf, 0, size - rawlen);
		memcpy(buf + size - rawlen, raw, rawlen);
		len = size;
		break;
	case SK_ECDSA:
		rc = ecdsa_der(raw, rawlen, buf, sizeof(buf), &len, ret_why);
		if (rc < 0)
			goto out;
		break;
	}
	rc = sigcheck_final(&k, alg, buf, len, data, datalen, ret_why);
	goto out;
bad:
	*ret_why = "signature malformed";
	rc = -EBADMSG;
out:
	EVP_PKEY_free(k.pkey);
	ERR_clear_error();
	return rc;
}
