/* Internal to handler/monitor/auth*.c: what the authentication methods
 * share (auth.c holds the attempt's accounting, success and failure;
 * auth-pubkey.c and auth-kbdint.c their methods). */
#ifndef SSHAND_HANDLER_MONITOR_AUTH_INTERNAL_H
#define SSHAND_HANDLER_MONITOR_AUTH_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "handler/monitor/auth.h"
#include "handler/monitor/monitor.h"

/* Every failed password or keyboard-interactive answer takes at least this
 * long, whatever the reason. */
#define FAIL_FLOOR_USEC 250000

/* A password or keyboard-interactive attempt. */
struct attempt {
	const char *method;
	const char *user;		/* as the client named it */
	bool known;
	struct user_info u;
	struct settings *s;
	uint64_t start;
	/* The password was right, and only its expiry kept the user out (a
	 * change needed or refused): no guess, so the source is not counted
	 * for it (sshand.conf(5), BanMaxFailures). */
	bool proved;
	bool changed;			/* logged in with a new password */
	const char *changereq;		/* ask for a new password, saying this */
};

void reply_auth(struct monitor *m, enum ps_auth result, uint32_t flags);
/* Before answering a request: a banned source is answered no more. */
void ban_gate(struct monitor *m);
/* May the method be tried now (AuthenticationMethods)? */
bool am_allows(const struct monitor *m, const struct settings *s, unsigned method);
/* PermitRootLogin for u with this kind of login. */
bool root_allowed(const struct settings *s, const struct user_info *u, bool key,
    bool forced_command);
/* The user a request names: *ret_u filled when it exists, *ret_s its
 * settings either way.  Returns whether it exists. */
bool user_for(struct monitor *m, const char *name, struct user_info *ret_u,
    struct settings **ret_s);
/* Why the policy refuses a known user this method, PAM aside; NULL if it
 * does not. */
const char *auth_refusal(const struct monitor *m, const struct settings *s,
    const struct user_info *u, bool method_enabled, unsigned method);
/* A failed attempt, audited and counted; reply: the child waits for its
 * answer (a refusal, or with changereq a request for a new password). */
void auth_failed(struct monitor *m, const char *method, const char *reason,
    const struct settings *s, bool counts_for_ban, uint64_t start, bool reply,
    const char *changereq);
/* The user is who they claim: u, s and pam pass to the monitor (or, with
 * AuthenticationMethods not yet complete, the success is partial). */
void auth_succeeded(struct monitor *m, struct user_info *u, struct settings *s,
    const char *method, struct pam_ctx *pam, const char *note);
/* A password or keyboard-interactive attempt, once PAM has judged it. */
void judged(struct monitor *m, struct attempt *a, int rc, struct pam_ctx *pam,
    const char *refused, const char *reason, bool reply);

/* A user certificate (cert.h) for u: 1 authorised with *ret (the
 * options of the line that let it in, restricted by the certificate), 0
 * with why, or a negative errno.  The user's own signature is checked
 * apart.  blob: the certificate as sent. */
struct cert;
int cert_authorized(const struct user_info *u, const struct settings *s,
    const struct cert *c, const uint8_t *blob, size_t len,
    const struct audit_conn *conn, struct authkey_opts *ret, char *why,
    size_t whylen);
/* Does RevokedKeys list the plain key blob?  Also true when the list
 * cannot be read (logged): refused rather than let a revoked key in. */
int cert_revoked(const struct settings *s, const uint8_t *blob, size_t len,
    char *why, size_t whylen);

#endif
