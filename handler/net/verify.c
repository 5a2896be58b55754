/*
 * User signatures are checked by the monitor, not here.
 *
 * libssh checks the signature of a publickey request itself, in
 * ssh_packet_userauth_request (messages.c), calls our auth_pubkey callback
 * with SSH_PUBLICKEY_STATE_VALID only if it holds, and frees the signature
 * before the callback runs: the application never sees it, so the monitor
 * could only take the network child's word for it.  The check ends in one
 * call into OpenSSL (pki_verify_data_signature, pki_crypto.c):
 * EVP_DigestVerify(ctx, sig, siglen, tbs, tbslen), where tbs is the whole
 * signed data of RFC 4252 section 7 (session id, 50, user, service,
 * "publickey", TRUE, algorithm, key blob) and sig the signature as OpenSSL
 * takes it: raw for Ed25519, padded to the modulus for RSA, DER for ECDSA.
 *
 * So sshand-net.so defines EVP_DigestVerify, with default visibility.
 * The front links libc only and dlopens sshand-net.so RTLD_LOCAL: nothing
 * in the global scope defines the name, and the first definition in
 * sshand-net.so's own scope is this one, before libcrypto's, so libssh's
 * import binds here.  It verifies nothing: it keeps a copy of both and
 * says "valid"; the callback (auth.c) sends the copy with the request, and
 * the monitor checks the signed data against the session id and the
 * request and verifies the signature with its own libcrypto.  A network
 * child that lies gains nothing.  Data over the bounds of the protocol is
 * refused here (0, "invalid"), which libssh treats as a bad signature.
 *
 * On the server path libssh calls EVP_DigestVerify nowhere else: its only
 * other caller, the host key check of ssh_packet_newkeys (packet_cb.c),
 * runs on clients.  Security keys (sk-*), whose signatures libssh checks
 * over other data, are refused by the monitor at the probe.  Any other
 * call would get "valid" too, but could only replace the copy, which the
 * monitor then refuses: the failure is closed either way.
 */
#include <stdbool.h>
#include <string.h>

#include <openssl/evp.h>

#include "handler/net/net.h"

/* One connection per process, one request in flight: the last signature
 * libssh asked about, until the callback takes it. */
static struct {
	bool have;
	uint8_t data[PS_MAX_SIGNED];
	size_t data_len;
	uint8_t sig[PS_MAX_SIG];
	size_t sig_len;
} captured;

__attribute__((visibility("default"))) int
EVP_DigestVerify(EVP_MD_CTX *ctx, const unsigned char *sig, size_t siglen,
    const unsigned char *tbs, size_t tbslen)
{
	(void)ctx;
	net_verify_clear();
	if (sig == NULL || tbs == NULL || siglen > sizeof(captured.sig) ||
	    tbslen > sizeof(captured.data))
		return 0;
	memcpy(captured.data, tbs, tbslen);
	captured.data_len = tbslen;
	memcpy(captured.sig, sig, siglen);
	captured.sig_len = siglen;
	captured.have = true;
	return 1;
}

void
net_verify_take(struct ps_auth_pubkey *q)
{
	if (!captured.have) {
		q->signed_data = NULL;
		q->signed_data_len = 0;
		q->signature = NULL;
		q->signature_len = 0;
		return;
	}
	q->signed_data = captured.data;
	q->signed_data_len = captured.data_len;
	q->signature = captured.sig;
	q->signature_len = captured.sig_len;
}

void
net_verify_clear(void)
{
	captured.have = false;
	captured.data_len = 0;
	captured.sig_len = 0;
}
