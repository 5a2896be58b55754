/* Key lists: RevokedKeys and TrustedUserCAKeys (sshd_config(5)): public
 * keys, as plain key lines (one "type base64 [comment]" a line, as
 * ssh-keygen writes .pub files).  For RevokedKeys a certificate in the list
 * revokes its key.  OpenSSH's binary KRL format is not read: a KRL given
 * as RevokedKeys refuses every key (fail closed), with a log line. */
#ifndef SSHAND_HANDLER_MONITOR_KEYLIST_H
#define SSHAND_HANDLER_MONITOR_KEYLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Is the plain key blob in the key list at path (RevokedKeys, and
 * TrustedUserCAKeys, which has the same format)?  0 no, 1 yes; -errno
 * when the file cannot be read or is a KRL (for RevokedKeys the caller
 * refuses the key, as sshd does), with why.  With certs, a certificate
 * listed counts as its key. */
int keylist_check(const char *path, const uint8_t *blob, size_t len, bool certs,
    char *why, size_t whylen);

/* The same on text already read (for unit tests and the fuzz target). */
int keylist_in_text(const char *text, size_t len, const uint8_t *blob,
    size_t bloblen, bool certs);

#endif
