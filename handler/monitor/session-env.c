/* A session's environment, as sshd builds it. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handler/monitor/forward.h"
#include "handler/monitor/session-env.h"

/* Sets NAME=value, replacing an earlier NAME. */
static void
env_set(struct env *e, const char *name, const char *value)
{
	size_t nl = strlen(name);
	char *kv, **nv;

	if (e->err < 0)
		return;
	if (asprintf(&kv, "%s=%s", name, value) < 0) {
		e->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < e->n; i++)
		if (strncmp(e->v[i], name, nl) == 0 && e->v[i][nl] == '=') {
			free(e->v[i]);
			e->v[i] = kv;
			return;
		}
	nv = realloc(e->v, (e->n + 2) * sizeof(char *));
	if (nv == NULL) {
		free(kv);
		e->err = -ENOMEM;
		return;
	}
	nv[e->n++] = kv;
	nv[e->n] = NULL;
	e->v = nv;
}

/* Sets "NAME=value" (a copy is split, the original stays whole). */
static void
env_put(struct env *e, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char name[PS_MAX_ENV_LEN + 1];

	if (eq == NULL || (size_t)(eq - kv) >= sizeof(name))
		return;
	memcpy(name, kv, (size_t)(eq - kv));
	name[eq - kv] = '\0';
	env_set(e, name, eq + 1);
}

void
env_free(struct env *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
}

/* The session's environment, as sshd builds it: a PATH, PAM's variables,
 * the user's identity, what the client asked for as far as AcceptEnv
 * allows, the key's environment= options where PermitUserEnvironment
 * allows, TERM for a pty, and the SSH_* variables. */
int
build_env(struct monitor *m, const struct ps_session_open *r, const char *orig,
    struct env *ret)
{
	const struct audit_conn *a = m->h->audit;
	struct env e = { .v = calloc(1, sizeof(char *)) };
	char **pe, buf[512];

	if (e.v == NULL)
		return -ENOMEM;
	env_set(&e, "PATH", "/usr/local/bin:/usr/bin:/bin:/usr/games");
	pe = pam_session_env(m->pam);
	for (char **p = pe; p && *p; p++) {
		env_put(&e, *p);
		free(*p);
	}
	free(pe);
	env_set(&e, "USER", m->user.name);
	env_set(&e, "LOGNAME", m->user.name);
	env_set(&e, "HOME", m->user.dir);
	env_set(&e, "SHELL", m->user.shell);
	snprintf(buf, sizeof(buf), "/var/mail/%s", m->user.name);
	env_set(&e, "MAIL", buf);
	for (uint32_t i = 0; i < r->n_env; i++) {
		size_t nl = strcspn(r->env[i], "=");
		char name[PS_MAX_ENV_LEN + 1];

		memcpy(name, r->env[i], nl);
		name[nl] = '\0';
		if (r->env[i][nl] == '=' && settings_accept_env(m->us, name))
			env_put(&e, r->env[i]);
	}
	if (m->have_keyopts && m->us->permit_user_environment)
		for (size_t i = 0; i < m->keyopts.n_environment; i++)
			env_put(&e, m->keyopts.environment[i]);
	if (r->pty && r->term[0] != '\0')
		env_set(&e, "TERM", r->term);
	snprintf(buf, sizeof(buf), "%s %u %s %u", a->remote_addr, a->remote_port,
	    a->local_addr, a->local_port);
	env_set(&e, "SSH_CONNECTION", buf);
	snprintf(buf, sizeof(buf), "%s %u %u", a->remote_addr, a->remote_port,
	    a->local_port);
	env_set(&e, "SSH_CLIENT", buf);
	if (monitor_agent_socket(m) != NULL)
		env_set(&e, "SSH_AUTH_SOCK", monitor_agent_socket(m));
	if (monitor_x11_display(m, r->id) != NULL)
		env_set(&e, "DISPLAY", monitor_x11_display(m, r->id));
	if (orig != NULL)
		env_set(&e, "SSH_ORIGINAL_COMMAND", orig);
	if (e.err < 0) {
		env_free(&e);
		return e.err;
	}
	*ret = e;
	return 0;
}

