/* AuthorizedKeysCommand's command line, read as sshd reads it: split into
 * words (blanks separate; '...' and "..." quote; a backslash escapes a
 * quote, a backslash, or outside quotes a blank), the first word the
 * program, an absolute path taken as written, and the tokens expanded in
 * every other word.  Without arguments the program gets the user's name.
 *
 * A library, pure: the configuration checks a line with it at load time,
 * and the monitor builds each run's argv with it (handler/monitor/keyscmd.c),
 * so that what loads is exactly what runs. */
#ifndef SSHAND_POLICY_KEYSCMD_H
#define SSHAND_POLICY_KEYSCMD_H

#include <stddef.h>

#define KEYSCMD_MAX_ARGS 64		/* words on the line */
#define KEYSCMD_MAX_EXPANDED 65536	/* the expanded words, NULs included */

/* The tokens' values (sshd_config(5), TOKENS). */
struct keyscmd_tokens {
	const char *conn;	/* %C "local-addr local-port remote-addr remote-port" */
	const char *user;	/* %u */
	const char *uid;	/* %U, decimal */
	const char *home;	/* %h */
	const char *type;	/* %t, the key's type name (ssh-ed25519) */
	const char *fingerprint; /* %f, SHA256:... */
	const char *key;	/* %k, the key in base64 */
	/* A certificate's (AuthorizedPrincipalsCommand), else empty. */
	const char *key_id;	/* %i */
	const char *serial;	/* %s, decimal */
};

/* Splits cmd into argv (KEYSCMD_MAX_ARGS + 2 entries: the user's name may
 * be added, and the NULL that ends it), the words written into buf; with
 * t, the tokens are expanded (%D, the routing domain, to nothing: sshand
 * has none), without t they are only checked.  Returns argc, or -EINVAL
 * (*why says what is wrong with the line), or -E2BIG when the expanded
 * words do not fit buf. */
int keyscmd_argv(const char *cmd, const struct keyscmd_tokens *t, char **argv,
    char *buf, size_t buflen, const char **why);

#endif
