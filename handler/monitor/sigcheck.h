/* A user's publickey signature, checked by the monitor (issue 14).
 *
 * The network child forwards what libssh asked OpenSSL to verify (see
 * handler/net/verify.c): the signed data and the signature.  The monitor
 * believes none of it: the signed data must be exactly the request the
 * child named (user, key) within this connection's session id, as
 * OpenSSH's monitor checks it (monitor_valid_userblob), and the signature
 * must verify, with libcrypto, under the key of the request with the
 * digest its algorithm names.
 *
 * Nothing here logs: a refusal comes back as a negative errno and a
 * static string saying why, which the caller logs and audits. */
#ifndef SSHAND_HANDLER_MONITOR_SIGCHECK_H
#define SSHAND_HANDLER_MONITOR_SIGCHECK_H

#include <stddef.h>
#include <stdint.h>

struct sigcheck_request {
	const uint8_t *session_id;	/* the key holder's; none (0) yet: refused */
	size_t session_id_len;
	const char *user;		/* the user the request names */
	const uint8_t *blob;		/* the request's key (SSH wire format) */
	size_t blob_len;
	/* With a certificate as blob: the certified key as a plain blob
	 * (cert.h), which signs; NULL for a plain key. */
	const uint8_t *key_blob;
	size_t key_blob_len;
	const uint8_t *signed_data;	/* what libssh verified */
	size_t signed_data_len;
	const uint8_t *signature;	/* as libssh hands it to OpenSSL */
	size_t signature_len;
	/* The user's PubkeyAcceptedAlgorithms (comma list of exact names):
	 * the signature algorithm must be one of them.  NULL: none is. */
	const char *accepted;
};

/* May some algorithm of accepted sign with this key?  0, or -EOPNOTSUPP
 * (an RSA key when only Ed25519 is accepted, a key type not supported);
 * for the probe, which names no signature algorithm the monitor sees. */
int sigcheck_key_accepted(const uint8_t *blob, size_t len, const char *accepted);

/* The same for the plain key of a certificate, with the certificate
 * algorithms (ssh-ed25519-cert-v01@openssh.com...). */
int sigcheck_cert_accepted(const uint8_t *key, size_t len, const char *accepted);

/* A signature in SSH's form (string algorithm, string signature), as a CA
 * signs a certificate (PROTOCOL.certkeys), over data by the plain key
 * blob: 0, or with *ret_why -EBADMSG (malformed), -EOPNOTSUPP (the
 * algorithm is not in allowed, a comma list, or does not suit the key),
 * -EINVAL (a bad key), -EKEYREJECTED (does not verify). */
int sigcheck_verify_blob(const uint8_t *key, size_t keylen, const uint8_t *sig,
    size_t siglen, const uint8_t *data, size_t datalen, const char *allowed,
    const char **ret_why);

/* The modulus' bits of an RSA key (for RequiredRSASize), 0 for another
 * type, -EINVAL for a malformed RSA blob. */
int sigcheck_rsa_bits(const uint8_t *blob, size_t len);

/* Can the monitor check signatures of this key's type?  0, or
 * -EOPNOTSUPP for certificates, security keys (sk-*) and other types, or
 * -EBADMSG for a blob without a type; *ret_why says which. */
int sigcheck_key_supported(const uint8_t *blob, size_t len, const char **ret_why);

/* The key's type as sshd names it in its log: "ED25519", "ECDSA", "RSA",
 * "ED25519-SK", "ECDSA-SK", "DSA", a "-CERT" suffix for certificates, or
 * "unknown".  A static string: safe to log. */
const char *sigcheck_key_label(const uint8_t *blob, size_t len);

/* 0 if the request is signed as it must be; otherwise, with *ret_why:
 *	-EACCES		no session id yet
 *	-EBADMSG	the signed data is malformed or another request's
 *	-EOPNOTSUPP	a key type or an algorithm the monitor does not take,
 *			an algorithm not in q->accepted, or an algorithm that
 *			does not suit the key
 *	-EINVAL		the key is malformed, or an RSA key too small or big
 *	-EKEYREJECTED	the signature does not verify
 *	-ENOMEM */
int sigcheck_verify(const struct sigcheck_request *q, const char **ret_why);

#endif
