/* OpenSSH certificates (PROTOCOL.certkeys), as the monitor takes them
 * apart and checks them: a user's key signed by a certificate authority,
 * with the principals it is valid for, a validity window, critical
 * options and extensions.  What sshd checks (auth2-pubkey.c,
 * auth2-pubkeyfile.c, sshkey.c), checked here with the monitor's own
 * parser and libcrypto: the blob comes from the network child and is
 * believed in no part.
 *
 * No logging: refusals come back as a negative errno and a static string
 * saying why. */
#ifndef SSHAND_HANDLER_MONITOR_CERT_H
#define SSHAND_HANDLER_MONITOR_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handler/monitor/authkeys.h"
#include "handler/privsep/protocol.h"

#define CERT_TYPE_USER 1
#define CERT_TYPE_HOST 2
#define CERT_MAX_PRINCIPALS 256		/* OpenSSH's SSHKEY_CERT_MAX_PRINCIPALS */
#define CERT_MAX_PRINCIPAL 255		/* a user name, and then some */
#define CERT_MAX_KEYID 1024
#define CERT_MAX_OPTION 4096		/* a critical option's value */

struct cert {
	const char *type;		/* "ssh-ed25519-cert-v01@openssh.com"... */
	const char *label;		/* as sshd logs it: "ED25519-CERT" */
	/* The certified key as a plain public key blob: what signs the
	 * user's requests, and what RevokedKeys and the log name. */
	uint8_t key[PS_MAX_BLOB];
	size_t key_len;
	uint64_t serial;
	uint32_t cert_type;		/* CERT_TYPE_USER, CERT_TYPE_HOST */
	char *key_id;			/* NUL-free, as signed */
	char *principals[CERT_MAX_PRINCIPALS];
	size_t n_principals;
	uint64_t valid_after, valid_before;
	char *force_command;		/* critical option force-command, or NULL */
	char *source_address;		/* critical option source-address, or NULL */
	bool unknown_critical;		/* a critical option not known */
	bool permit_pty, permit_port_forwarding, permit_agent_forwarding,
	    permit_x11_forwarding, permit_user_rc;
	const uint8_t *ca;		/* the signature key's blob, in the blob */
	size_t ca_len;
	const uint8_t *signed_part;	/* all but the signature, in the blob */
	size_t signed_len;
	const uint8_t *signature;	/* the CA's, in SSH's form, in the blob */
	size_t signature_len;
};

/* Is the blob's type a certificate's (any *-cert-v01@openssh.com)? */
bool cert_is_cert(const uint8_t *blob, size_t len);

/* Takes the blob apart (pointers into it: it must outlive *ret).  0, or
 * with *ret_why: -EOPNOTSUPP a certificate type not taken (DSA, security
 * keys), -EBADMSG malformed (truncated, lengths past their bounds,
 * trailing bytes, a CA key that is itself a certificate, a NUL in a
 * string, an option twice), -ENOMEM.  *ret is cleared with cert_free
 * either way. */
int cert_parse(const uint8_t *blob, size_t len, struct cert *ret,
    const char **ret_why);
void cert_free(struct cert *c);

/* The CA's signature over the certificate, with an algorithm of
 * allowed (CASignatureAlgorithms): as sigcheck_verify_blob. */
int cert_verify_ca(const struct cert *c, const char *allowed, const char **ret_why);

/* sshd's checks of a user certificate at time now: a user certificate,
 * within its validity, at least one principal, and with user (NULL: no
 * name to look for) among them; no unknown critical option; the client's
 * address (addr) within source-address.  0 or -EACCES with *ret_why. */
int cert_check(const struct cert *c, const char *user, int64_t now,
    const char *addr, const char **ret_why);

/* Is name one of the certificate's principals (exactly)? */
bool cert_has_principal(const struct cert *c, const char *name);

/* The certificate's restrictions added to a key's options (as sshd
 * merges them, auth-options.c): an extension not granted refuses what it
 * names, and force-command becomes the command, unless the key line has
 * another (then -EACCES, as sshd refuses it).  0, -EACCES or -ENOMEM. */
int cert_restrict(const struct cert *c, struct authkey_opts *o,
    const char **ret_why);

/* "ID <key id> (serial <n>) CA <label> <SHA256:fingerprint>", the key id
 * with anything unprintable written as '?', as sshd's log line ends. */
void cert_describe(const struct cert *c, char *buf, size_t len);

#endif
