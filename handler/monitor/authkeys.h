/* authorized_keys: parsing lines with their options, matching a key, and
 * StrictModes checks.  No libssh here: keys are compared as the decoded
 * wire blob, so this module is unit-testable alone.  No logging: reasons
 * are written to the caller's buffer. */
#ifndef SSHAND_HANDLER_AUTHKEYS_H
#define SSHAND_HANDLER_AUTHKEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy/config.h"

#define AUTHKEYS_MAX_LINE 16384	/* longer lines are skipped */
#define AUTHKEYS_MAX_ENV 64
#define AUTHKEYS_MAX_PERMITS 64	/* of permitopen=, and of permitlisten= */

struct authkey_opts {
	bool no_pty;
	bool no_port_forwarding;
	bool no_agent_forwarding;
	bool no_x11_forwarding;
	bool no_user_rc;
	char *command;		/* command="..." or NULL */
	char *from;		/* from="..." pattern list (already checked) */
	int64_t expiry;		/* expiry-time, epoch seconds; 0 = none */
	char *environment[AUTHKEYS_MAX_ENV];	/* "NAME=value" */
	size_t n_environment;
	/* permitopen="host:port" and permitlisten="[host:]port", every one
	 * given, in order, as fwd_permit_canon() (policy/forward.h) writes
	 * them: a bare permitlisten port as "*:port", a permitopen
	 * "host/port" as "host:port".  None: the key restricts nothing. */
	char *permitopen[AUTHKEYS_MAX_PERMITS];
	size_t n_permitopen;
	char *permitlisten[AUTHKEYS_MAX_PERMITS];
	size_t n_permitlisten;
	char *principals;	/* principals="..." (cert-authority lines) or NULL */
	unsigned line;		/* line number of the matching entry */
	bool from_command;	/* in AuthorizedKeysCommand's output, not a file */
};

struct authkey_query {
	const uint8_t *blob;	/* the public key in SSH wire format */
	size_t blob_len;
	const char *addr;	/* numeric client address, for from= */
	int64_t now;		/* for expiry-time */
	/* blob is a certificate's CA: only cert-authority lines match it.
	 * Otherwise they never match (they do not authorise the CA's own
	 * key). */
	bool cert_authority;
	/* With cert_authority, for AuthorizedKeysCommand's tokens as sshd
	 * gives them: the certificate as the client sent it (%k, %t) and
	 * its key (%f).  NULL otherwise: the tokens are blob's. */
	const uint8_t *sent, *sent_key;
	size_t sent_len, sent_key_len;
};

/* Parse one line.  Returns 1 and fills *ret (opts) when the line is a key
 * that equals q's key and whose from=/expiry-time allow q; 0 when it is a
 * comment, blank, another key, or a non-matching restriction (why says
 * which, if why != NULL); -EINVAL for a malformed line. */
int authkeys_match_line(const char *line, const struct authkey_query *q,
    struct authkey_opts *ret, char *why, size_t whylen);

/* Scan a whole stream (already opened by the caller). Returns 1 with *ret
 * on the first matching line, 0 if none matched, negative errno on I/O
 * error. Malformed lines are skipped (counted in *ret_bad if non-NULL). */
int authkeys_match_fd(int fd, const struct authkey_query *q,
    struct authkey_opts *ret, unsigned *ret_bad, char *why, size_t whylen);

void authkey_opts_clear(struct authkey_opts *o);

/* The key's permitopen= and permitlisten= values as the list
 * fwd_open_permitted() and fwd_listen_permitted() take, borrowed from o
 * (valid while o is).  Empty when the key names none, which those
 * functions read as "anything": the server's PermitOpen and PermitListen
 * still apply, and no-port-forwarding (or restrict) is checked apart. */
static inline struct strlist
authkey_permitopen(const struct authkey_opts *o)
{
	return (struct strlist){ (char **)o->permitopen, o->n_permitopen };
}

static inline struct strlist
authkey_permitlisten(const struct authkey_opts *o)
{
	return (struct strlist){ (char **)o->permitlisten, o->n_permitlisten };
}

/* StrictModes: the file, and each directory from it up to and including
 * home, must be owned by uid or root and not writable by group or others;
 * the file must be a regular file.  0 if safe, -EPERM with why filled in. */
int authkeys_check_modes(const char *path, uid_t uid, const char *home,
    char *why, size_t whylen);

/* Expand %h %u %% in an AuthorizedKeysFile pattern; a relative result is
 * taken relative to home.  Returns 0 or -ENAMETOOLONG/-EINVAL. */
int authkeys_expand_path(const char *pattern, const char *user, const char *home,
    char *buf, size_t len);

#endif
