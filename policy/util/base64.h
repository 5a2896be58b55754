/* Base64 (RFC 4648, standard alphabet), as OpenSSH writes key blobs and
 * SHA256 fingerprints.  Pure functions: no I/O, no allocation. */
#ifndef SSHAND_POLICY_UTIL_BASE64_H
#define SSHAND_POLICY_UTIL_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes base64_encode writes for len input bytes, the NUL included. */
#define BASE64_ENCODED_SIZE(len) (((len) + 2) / 3 * 4 + 1)

/* Encodes len bytes into out (BASE64_ENCODED_SIZE(len) bytes); pad false
 * drops the '=' padding, as OpenSSH's SHA256 fingerprints do. */
void base64_encode(const uint8_t *in, size_t len, char *out, bool pad);

/* Strict decoding: whole quanta of four, '=' only as the final padding,
 * nothing outside the alphabet.  0, -EINVAL if malformed, -E2BIG if the
 * result would exceed outmax. */
int base64_decode(const char *s, size_t len, uint8_t *out, size_t outmax,
    size_t *ret_len);

#endif
