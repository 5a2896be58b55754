/* Internal to handler/monitor/sigcheck.c and sigblob.c: a key built from
 * its blob, a signature algorithm that suits it, and the final call into
 * libcrypto, shared by the user's signature (sigcheck.c) and a CA's
 * signature over a certificate (sigblob.c). */
#ifndef SSHAND_HANDLER_MONITOR_SIGCHECK_INTERNAL_H
#define SSHAND_HANDLER_MONITOR_SIGCHECK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "policy/util/sshwire.h"

enum sigcheck_kind { SK_ED25519, SK_ECDSA, SK_RSA };

enum kind { K_NONE, K_ED25519, K_ECDSA, K_RSA };

/* A key type sshd knows, by its name in a blob (sigkey.c's table). */
struct keytype {
	const char *name;
	const char *label;		/* as sshd logs it */
	enum kind kind;
	const char *why;		/* refused: why */
	const char *curve;		/* ECDSA: the curve as the blob names it */
	const char *group;		/* ... and as OpenSSL does */
	size_t point_len;		/* ... an uncompressed point's length */
};

struct sigalg;

/* The blob's key type (and a reader past its name); NULL if it has
 * none or one not in the table. */
const struct keytype *sigcheck_blob_type(const uint8_t *blob, size_t len,
    struct wire_reader *ret_r, const uint8_t **ret_name, size_t *ret_name_len);
/* The public key of a blob the monitor can check signatures of. */
int sigcheck_key_from_blob(const uint8_t *blob, size_t len,
    const struct keytype **ret_kt, EVP_PKEY **ret, const char **ret_why);

struct sigcheck_key {
	const struct keytype *kt;
	EVP_PKEY *pkey;		/* the caller frees it */
};

/* The public key of a plain blob the monitor can check signatures of. */
int sigcheck_load(const uint8_t *blob, size_t len, struct sigcheck_key *ret,
    const char **ret_why);
enum sigcheck_kind sigcheck_kind(const struct sigcheck_key *k);
/* The signature algorithm name (a certificate's with cert) if it suits k;
 * NULL with why. */
const struct sigalg *sigcheck_alg(const uint8_t *name, size_t len,
    const struct sigcheck_key *k, bool cert, const char **ret_why);
/* sig, in the form OpenSSL takes, over data: 0 or -EKEYREJECTED. */
int sigcheck_final(const struct sigcheck_key *k, const struct sigalg *alg,
    const uint8_t *sig, size_t siglen, const uint8_t *data, size_t datalen,
    const char **ret_why);
/* A positive, minimally encoded mpint without its sign byte; NULL if not. */
const uint8_t *sigcheck_positive(struct wire_reader *r, size_t *ret_len);

#endif
