/* A session's environment, as sshd builds it (session-env.c). */
#ifndef SSHAND_HANDLER_MONITOR_SESSION_ENV_H
#define SSHAND_HANDLER_MONITOR_SESSION_ENV_H

#include <stddef.h>

#include "handler/monitor/monitor.h"
#include "handler/privsep/messages.h"

struct env {
	char **v;			/* NULL-terminated */
	size_t n;
	int err;			/* the first failure, sticky */
};

/* A PATH, PAM's variables, the user's identity, what the client asked
 * for as far as AcceptEnv allows, the key's environment= options where
 * PermitUserEnvironment allows, TERM for a pty, and the SSH_* variables;
 * orig, if not NULL, as SSH_ORIGINAL_COMMAND.  0 or a negative errno. */
int build_env(struct monitor *m, const struct ps_session_open *r, const char *orig,
    struct env *ret);
void env_free(struct env *e);

#endif
