/* A host private key: loaded from its file, its public blob, signatures.
 *
 * Only the key holder (keyholder.c) and `sshand -t` load private keys;
 * every other process sees the public blob at most. */
#ifndef SSHAND_HANDLER_KEYS_HOSTKEY_H
#define SSHAND_HANDLER_KEYS_HOSTKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "handler/privsep/protocol.h"

/* libssh serves one key of each kind (one ECDSA key, whatever its curve). */
enum hostkey_kind { HOSTKEY_ED25519, HOSTKEY_ECDSA, HOSTKEY_RSA, HOSTKEY_KINDS };

struct hostkey {
	EVP_PKEY *pkey;			/* NULL until first needed (OpenSSH's format) */
	uint8_t *sec;			/* until then: the file's private fields */
	size_t sec_len;
	enum hostkey_kind kind;
	const char *type;		/* "ssh-ed25519", "ecdsa-sha2-nistp256"... */
	uint8_t blob[PS_MAX_HOSTKEY_BLOB];	/* the public key, SSH wire format */
	size_t blob_len;
};

/* Loads the private key in path: OpenSSH's format (unencrypted), or PEM
 * (PKCS#1, SEC1, PKCS#8) as older ssh-keygen wrote it.  The public key
 * the private fields state must be the file's public key; a file of the
 * current user that its group or others may access is refused (-EPERM),
 * as sshd refuses it.  0, or a negative errno with err saying why in a
 * few words.
 *
 * A connection uses one host key of the three it loads: OpenSSH's format
 * is read whole but made an OpenSSL key only when it first signs
 * (hostkey_sign), which also checks that the private half gives the
 * public one (an Ed25519 seed its key). */
int hostkey_load(const char *path, struct hostkey *ret, char *err, size_t errlen);
/* The OpenSSL key now, and every check hostkey_sign would make (for
 * sshand -t).  0, or a negative errno with err saying why. */
int hostkey_check(struct hostkey *k, char *err, size_t errlen);
void hostkey_free(struct hostkey *k);

/* The modulus' bits of an RSA key (RequiredRSASize), 0 for another kind
 * (or an RSA blob that cannot be read, which loading refused). */
int hostkey_rsa_bits(const struct hostkey *k);

/* Is alg an SSH signature algorithm some host key here could sign with? */
bool hostkey_alg_known(const char *alg);

/* Does alg (an SSH signature algorithm) sign with this key? */
bool hostkey_signs(const struct hostkey *k, const char *alg);

/* Signs data with alg, as EVP_DigestSign does (DER for ECDSA, raw for RSA
 * and Ed25519), into sig (cap bytes).  0 or a negative errno. */
int hostkey_sign(struct hostkey *k, const char *alg, const uint8_t *data,
    size_t len, uint8_t *sig, size_t cap, size_t *ret_len);

#endif
