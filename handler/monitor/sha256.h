/* SHA-256 (FIPS 180-4), for key fingerprints in the monitor.
 *
 * The monitor names the key a client logged in with ("SHA256:..." in the
 * log and the audit trail) and computes that itself, from the bytes the
 * network child forwards, for any blob, one that no key parser would take
 * included.  The input is a public key, nothing secret, so nothing here
 * needs to be constant-time.  The unit tests check it against the FIPS
 * vectors and against OpenSSL. */
#ifndef SSHAND_HANDLER_SHA256_H
#define SSHAND_HANDLER_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

void sha256(const void *data, size_t len, uint8_t out[SHA256_LEN]);

#endif
