/* AuthorizedPrincipalsFile and AuthorizedPrincipalsCommand (sshd_config(5)):
 * the principals a user's certificate may carry when the CA is trusted by
 * TrustedUserCAKeys.  One principal a line, optionally after
 * authorized_keys options (the line's options then apply to the login). */
#ifndef SSHAND_HANDLER_MONITOR_PRINCIPALS_H
#define SSHAND_HANDLER_MONITOR_PRINCIPALS_H

#include <stddef.h>
#include <stdint.h>

#include "handler/front/audit.h"
#include "handler/monitor/auth.h"
#include "handler/monitor/authkeys.h"
#include "handler/monitor/cert.h"

#define PRINCIPALS_MAX_TEXT (1024 * 1024)	/* a file's or command's output */

/* Does a line of text name a principal of c, with its options allowing
 * addr at now (from=, expiry-time=)?  1 with *ret (ret->line set), 0 with
 * why; malformed lines are skipped and counted in *ret_bad. */
int principals_match_text(const char *text, size_t len, const struct cert *c,
    const char *addr, int64_t now, struct authkey_opts *ret, unsigned *ret_bad,
    char *why, size_t whylen);

/* The file (read as u), then the command (run as its user), as sshd
 * consults them; only those s sets.  blob: the certificate (%k).  1 with
 * *ret, 0 with why, or a negative errno. */
int principals_authorized(const struct user_info *u, const struct settings *s,
    const struct cert *c, const uint8_t *blob, size_t blob_len,
    const struct audit_conn *conn, struct authkey_opts *ret, char *why,
    size_t whylen);

#endif
