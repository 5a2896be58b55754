/* Host keys without their private halves.
 *
 * libssh serves only keys it believes private, and signs the exchange
 * hash itself (pki_sign_data) through OpenSSL's EVP_DigestSign.  So this
 * process imports each public host key the monitor sends (HOSTKEYS) with
 * a stand-in private part, and defines EVP_DigestSign itself: sshand-net.so
 * is loaded RTLD_LOCAL and is the first object of its own lookup scope, so
 * libssh's call binds to the definition below, which asks the monitor to
 * have the key holder sign the hash.  libssh checks neither that a private
 * half matches its public half nor its own signatures.
 *
 * If a libssh ever signed without calling EVP_DigestSign, it would sign
 * with the stand-in, which no client accepts: the connection fails, and
 * no private key is ever needed here.  tests/integration/test_hostkeys_privsep.py
 * proves both the absence of the keys in this process's memory and that
 * every key type still works. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "handler/front/log.h"
#include "handler/net/net.h"
#include "policy/util/base64.h"
#include "policy/util/sshwire.h"

#define OPENSSH_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----\n"
#define OPENSSH_END "\n-----END OPENSSH PRIVATE KEY-----\n"

/* The connection EVP_DigestSign asks through (one per process). */
static struct net *signer;

/* OpenSSH's private key format (PROTOCOL.key), unencrypted, for the public
 * key blob with a stand-in private part: an Ed25519 seed of zeros, an
 * ECDSA scalar of 1, RSA's d, iqmp, p and q all 1. */
static int
standin_key(const uint8_t *blob, size_t blob_len, ssh_key *ret)
{
	static const uint8_t zeros[32], one[1] = { 1 };
	uint8_t sec[2 * PS_MAX_HOSTKEY_BLOB], raw[4 * PS_MAX_HOSTKEY_BLOB];
	char text[sizeof(OPENSSH_BEGIN) + BASE64_ENCODED_SIZE(sizeof(raw)) +
	    sizeof(OPENSSH_END)];
	struct wire_writer s = { .p = sec, .cap = sizeof(sec) };
	struct wire_writer w = { .p = raw, .cap = sizeof(raw) };
	struct wire_reader r = wire_reader(blob, blob_len);
	size_t ntype, na, nb;
	const uint8_t *type = wire_get_string(&r, 64, &ntype);
	const uint8_t *a = wire_get_string(&r, PS_MAX_HOSTKEY_BLOB, &na);
	/* Ed25519 has one field, ECDSA and RSA two. */
	const uint8_t *b = r.left > 0 ? wire_get_string(&r, PS_MAX_HOSTKEY_BLOB, &nb) : NULL;
	int rc;

	if (type == NULL || a == NULL)
		return -EBADMSG;
	wire_put_u32(&s, 0x5ca1ab1e);	/* the two check words */
	wire_put_u32(&s, 0x5ca1ab1e);
	wire_put_string(&s, type, ntype);
	if (ntype == 11 && memcmp(type, "ssh-ed25519", 11) == 0 && na == 32 &&
	    wire_done(&r)) {
		uint8_t priv[64];

		memcpy(priv, zeros, 32);
		memcpy(priv + 32, a, 32);
		wire_put_string(&s, a, 32);
		wire_put_string(&s, priv, 64);
	} else if (ntype > 11 && memcmp(type, "ecdsa-sha2-", 11) == 0 && b != NULL &&
	    wire_done(&r)) {
		wire_put_string(&s, a, na);	/* curve */
		wire_put_string(&s, b, nb);	/* public point */
		wire_put_string(&s, one, 1);	/* d */
	} else if (ntype == 7 && memcmp(type, "ssh-rsa", 7) == 0 && b != NULL &&
	    wire_done(&r)) {
		wire_put_string(&s, b, nb);	/* n */
		wire_put_string(&s, a, na);	/* e */
		for (int i = 0; i < 4; i++)	/* d, iqmp, p, q */
			wire_put_string(&s, one, 1);
	} else
		return -EPROTONOSUPPORT;
	wire_put_string(&s, "", 0);		/* comment */
	for (uint8_t pad = 1; s.len % 8 != 0; pad++)
		wire_put_u8(&s, pad);
	if (s.bad)
		return -E2BIG;
	memcpy(raw, "openssh-key-v1", 15);
	w.len = 15;
	wire_put_string(&w, "none", 4);
	wire_put_string(&w, "none", 4);
	wire_put_string(&w, "", 0);
	wire_put_u32(&w, 1);
	wire_put_string(&w, blob, blob_len);
	wire_put_string(&w, sec, s.len);
	if (w.bad)
		return -E2BIG;
	memcpy(text, OPENSSH_BEGIN, strlen(OPENSSH_BEGIN));
	base64_encode(raw, w.len, text + strlen(OPENSSH_BEGIN), true);
	strcat(text, OPENSSH_END);
	rc = ssh_pki_import_privkey_base64(text, NULL, NULL, NULL, ret);
	return rc == SSH_OK ? 0 : -EINVAL;
}

int
net_hostkeys(struct net *n, ssh_bind b)
{
	struct ps_hostkeys k;
	int r = ps_recv(n->mon, n->rep, 0);

	if (r < 0 || ps_type(n->rep) != PS_HOSTKEYS || ps_get_hostkeys(n->rep, &k) < 0) {
		ps_clear_fds(n->rep);
		log_error("no host keys from the monitor");
		return r < 0 ? r : -EPROTO;
	}
	const struct { const uint8_t *p; size_t len; } blobs[] = {
		{ k.blob0, k.blob0_len }, { k.blob1, k.blob1_len }, { k.blob2, k.blob2_len },
	};
	for (size_t i = 0; i < sizeof(blobs) / sizeof(blobs[0]); i++) {
		ssh_key key = NULL;

		if (blobs[i].len == 0)
			continue;
		r = standin_key(blobs[i].p, blobs[i].len, &key);
		/* The bind takes ownership of the key. */
		if (r < 0 || ssh_bind_options_set(b, SSH_BIND_OPTIONS_IMPORT_KEY, key) < 0) {
			log_error("host key refused by libssh: %s",
			    r < 0 ? strerror(-r) : ssh_get_error(b));
			ssh_key_free(key);
			return -EINVAL;
		}
	}
	signer = n;
	return 0;
}

/* The SSH algorithm libssh signs with: the key's type and, for RSA, the
 * digest it set up. */
static const char *
sign_alg(EVP_MD_CTX *ctx)
{
	EVP_PKEY_CTX *pctx = EVP_MD_CTX_get_pkey_ctx(ctx);
	EVP_PKEY *pkey = pctx ? EVP_PKEY_CTX_get0_pkey(pctx) : NULL;
	const EVP_MD *md = EVP_MD_CTX_get0_md(ctx);
	char group[32];

	if (pkey == NULL)
		return NULL;
	if (EVP_PKEY_is_a(pkey, "ED25519"))
		return "ssh-ed25519";
	if (EVP_PKEY_is_a(pkey, "EC")) {
		if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
		    group, sizeof(group), NULL) != 1)
			return NULL;
		return strcmp(group, "prime256v1") == 0 ? "ecdsa-sha2-nistp256" :
		    strcmp(group, "secp384r1") == 0 ? "ecdsa-sha2-nistp384" :
		    strcmp(group, "secp521r1") == 0 ? "ecdsa-sha2-nistp521" : NULL;
	}
	if (EVP_PKEY_is_a(pkey, "RSA") && md != NULL)
		return EVP_MD_is_a(md, "SHA256") ? "rsa-sha2-256" :
		    EVP_MD_is_a(md, "SHA512") ? "rsa-sha2-512" :
		    EVP_MD_is_a(md, "SHA1") ? "ssh-rsa" : NULL;
	return NULL;
}

/* Replaces libcrypto's for libssh (see the top of this file): the hash is
 * signed by the key holder, through the monitor.  1 on success, 0 on any
 * failure, as OpenSSL's. */
__attribute__((visibility("default"))) int
EVP_DigestSign(EVP_MD_CTX *ctx, unsigned char *sigret, size_t *siglen,
    const unsigned char *tbs, size_t tbslen)
{
	struct net *n = signer;
	const char *alg = sign_alg(ctx);
	struct ps_signature sig;

	if (n == NULL || alg == NULL || tbslen > PS_MAX_HASH) {
		log_error("a signature libssh asked for cannot be made here");
		return 0;
	}
	if (sigret == NULL) {
		/* A size query: the largest signature of the key. */
		EVP_PKEY_CTX *pctx = EVP_MD_CTX_get_pkey_ctx(ctx);

		*siglen = (size_t)EVP_PKEY_get_size(EVP_PKEY_CTX_get0_pkey(pctx));
		return 1;
	}
	if (ask_sign(n, &(struct ps_sign){ alg, tbs, tbslen }) < 0 ||
	    read_signature(n, &sig) < 0)
		return 0;
	if (sig.sig_len == 0 || sig.sig_len > *siglen) {
		log_error("signature from the monitor does not fit (%zu bytes)", sig.sig_len);
		return 0;
	}
	memcpy(sigret, sig.sig, sig.sig_len);
	*siglen = sig.sig_len;
	return 1;
}
