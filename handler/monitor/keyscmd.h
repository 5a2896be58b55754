/* AuthorizedKeysCommand: the program sshd_config(5) describes, run by the
 * monitor as AuthorizedKeysCommandUser for a user and a key, its output
 * read as authorized_keys lines.  A command that fails, hangs, says too
 * much or is unsafe to run gives no key; it never ends the connection. */
#ifndef SSHAND_HANDLER_KEYSCMD_H
#define SSHAND_HANDLER_KEYSCMD_H

#include <stddef.h>

#include "handler/front/audit.h"
#include "handler/monitor/auth.h"

#define KEYSCMD_TIMEOUT_MS 10000		/* then its process group is killed */
#define KEYSCMD_MAX_OUTPUT (1024 * 1024)	/* as an authorized_keys file */

/* Runs argv (argv[0] an absolute path) as runas, no more than timeout_ms:
 * after a check that the program and every directory above it are owned
 * by root and writable by nobody else, in a session of its own, dropped
 * for good to runas (sandbox_drop_to_user), stdin and stderr /dev/null,
 * no descriptor of ours, an environment of PATH, USER, LOGNAME, HOME (and
 * LANG, as sshd).  Its output up to max bytes: 0 with *ret_out (malloc'ed,
 * NUL-terminated) and *ret_len when it exited with status 0; otherwise
 * why says what happened and: -EPERM unsafe, -ETIMEDOUT killed at the
 * time limit, -EFBIG killed for saying more than max, -ECHILD a nonzero
 * status or a signal, another negative errno if it could not be run.
 * Whatever the outcome, what is left of its process group is killed
 * before it is reaped. */
int keyscmd_run(char *const *argv, const struct user_info *runas, int timeout_ms,
    size_t max, char **ret_out, size_t *ret_len, char *why, size_t whylen);

/* Is q's key among those s's AuthorizedKeysCommand prints for u?  1 with
 * *ret (ret->from_command set), 0 with why, or a negative errno.  The
 * command runs once per user and key on a connection: the probe and the
 * signed request get the same answer.  One that timed out is not run
 * again on the connection, so a hung lookup costs one time limit, not
 * one per key offered.  conn gives %C. */
int keyscmd_authorized(const struct user_info *u, const struct settings *s,
    const struct authkey_query *q, const struct audit_conn *conn,
    struct authkey_opts *ret, char *why, size_t whylen);

/* Forgets what keyscmd_authorized() remembered (after login). */
void keyscmd_forget(void);

#endif
