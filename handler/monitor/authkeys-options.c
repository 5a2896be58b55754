/* authorized_keys options (sshd(8), "AUTHORIZED_KEYS FILE FORMAT"): the
 * comma-separated list before a key, with OpenSSH's names, quoting and
 * rules.  An option we do not know makes the line invalid, as in OpenSSH.
 * Everything here comes from a user-writable file: every length and count
 * is bounded. */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handler/monitor/authkeys-options.h"
#include "policy/forward.h"

#define AUTHKEYS_MAX_OPTVAL	8192
#define AUTHKEYS_MAX_NAME	64
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* "YYYYMMDD[HHMM[SS]]" in local time, as OpenSSH reads expiry-time. */
static int
parse_expiry(const char *s, int64_t *ret)
{
	size_t len = strlen(s), i;
	int f[6] = { 0, 0, 0, 0, 0, 0 };
	struct tm tm;
	time_t t;

	if (len != 8 && len != 12 && len != 14)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
	f[0] = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	for (i = 1; i < len / 2 - 1; i++)
		f[i] = (s[2 + 2 * i] - '0') * 10 + (s[3 + 2 * i] - '0');
	if (f[0] < 1970 || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 ||
	    f[3] > 23 || f[4] > 59 || f[5] > 60)
		return -EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = f[0] - 1900;
	tm.tm_mon = f[1] - 1;
	tm.tm_mday = f[2];
	tm.tm_hour = f[3];
	tm.tm_min = f[4];
	tm.tm_sec = f[5];
	tm.tm_isdst = -1;
	if ((t = mktime(&tm)) == (time_t)-1)
		return -EINVAL;
	*ret = (int64_t)t;
	return 0;
}

static bool
valid_env_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > AUTHKEYS_MAX_NAME)
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* A double-quoted value: \" stands for ", any other backslash is kept
 * (OpenSSH's rule).  *pp points at the opening quote. */
static int
parse_quoted(const char **pp, char **ret)
{
	const char *p = *pp;
	char *v;
	size_t n = 0;

	if (*p++ != '"')
		return -EINVAL;
	if ((v = malloc(AUTHKEYS_MAX_OPTVAL + 1)) == NULL)
		return -ENOMEM;
	for (;;) {
		if (*p == '\0') {
			free(v);
			return -EINVAL;
		}
		if (*p == '"')
			break;
		if (p[0] == '\\' && p[1] == '"')
			p++;
		if (n == AUTHKEYS_MAX_OPTVAL) {
			free(v);
			return -EINVAL;
		}
		v[n++] = *p++;
	}
	v[n] = '\0';
	*pp = p + 1;
	*ret = v;
	return 0;
}

enum opt_kind { OPT_FLAG, OPT_VALUE };

struct optdef {
	const char *name;
	enum opt_kind kind;
};

static const struct optdef optdefs[] = {
	{ "restrict", OPT_FLAG },
	{ "no-pty", OPT_FLAG },
	{ "pty", OPT_FLAG },
	{ "no-port-forwarding", OPT_FLAG },
	{ "port-forwarding", OPT_FLAG },
	{ "no-agent-forwarding", OPT_FLAG },
	{ "agent-forwarding", OPT_FLAG },
	{ "no-x11-forwarding", OPT_FLAG },
	{ "x11-forwarding", OPT_FLAG },
	{ "no-user-rc", OPT_FLAG },
	{ "user-rc", OPT_FLAG },
	{ "cert-authority", OPT_FLAG },
	{ "no-touch-required", OPT_FLAG },
	{ "verify-required", OPT_FLAG },
	{ "command", OPT_VALUE },
	{ "from", OPT_VALUE },
	{ "expiry-time", OPT_VALUE },
	{ "environment", OPT_VALUE },
	{ "permitopen", OPT_VALUE },
	{ "permitlisten", OPT_VALUE },
	{ "principals", OPT_VALUE },
	{ "tunnel", OPT_VALUE },
};

/* The flags that come in pairs: "no-NAME" sets the field, "NAME" clears
 * it again (after a "restrict", say). */
static const struct {
	const char *name;
	size_t field;		/* a bool of struct authkey_opts */
} pairs[] = {
	{ "pty", offsetof(struct authkey_opts, no_pty) },
	{ "port-forwarding", offsetof(struct authkey_opts, no_port_forwarding) },
	{ "agent-forwarding", offsetof(struct authkey_opts, no_agent_forwarding) },
	{ "x11-forwarding", offsetof(struct authkey_opts, no_x11_forwarding) },
	{ "user-rc", offsetof(struct authkey_opts, no_user_rc) },
};

static void
apply_flag(struct authkey_parsed *ps, const char *name)
{
	bool no = strncmp(name, "no-", 3) == 0;

	if (strcmp(name, "restrict") == 0) {
		for (size_t i = 0; i < NELEM(pairs); i++)
			*(bool *)((char *)&ps->o + pairs[i].field) = true;
		return;
	}
	if (strcmp(name, "cert-authority") == 0) {
		ps->cert_authority = true;
		return;
	}
	for (size_t i = 0; i < NELEM(pairs); i++)
		if (strcmp(name + (no ? 3 : 0), pairs[i].name) == 0)
			*(bool *)((char *)&ps->o + pairs[i].field) = no;
	/* no-touch-required / verify-required only concern security keys,
	 * which never match here. */
}

/* permitopen= and permitlisten=: OpenSSH's syntax (auth-options.c,
 * handle_permit), stored in the form the server's PermitOpen and
 * PermitListen are, every occurrence adding to the list.  A value that is
 * not one makes the line malformed, as in OpenSSH.  Frees val. */
static int
apply_permit(struct authkey_opts *o, bool listen, char *val, const char **err)
{
	char **list = listen ? o->permitlisten : o->permitopen;
	size_t *n = listen ? &o->n_permitlisten : &o->n_permitopen;
	char entry[FWD_HOST_MAX + 16];
	int r;

	r = fwd_permit_canon(val, listen ? FWD_SPEC_LISTEN : FWD_SPEC_SLASH,
	    entry, sizeof(entry));
	free(val);
	if (r < 0) {
		*err = listen ? "bad permitlisten= ([host:]port)" :
		    "bad permitopen= (host:port)";
		return -EINVAL;
	}
	if (*n >= AUTHKEYS_MAX_PERMITS) {
		*err = listen ? "too many permitlisten= options" :
		    "too many permitopen= options";
		return -EINVAL;
	}
	if ((list[*n] = strdup(entry)) == NULL)
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* Takes ownership of val. */
static int
apply_value(struct authkey_parsed *ps, const char *name, char *val, const char **err)
{
	struct authkey_opts *o = &ps->o;
	const char *eq;
	size_t i;
	int64_t t;

	if (strcmp(name, "command") == 0) {
		if (o->command != NULL) {
			*err = "multiple command= options";
			goto bad;
		}
		o->command = val;
		return 0;
	}
	if (strcmp(name, "from") == 0) {
		if (o->from != NULL) {
			*err = "multiple from= options";
			goto bad;
		}
		if (val[0] == '\0') {
			*err = "empty from= list";
			goto bad;
		}
		o->from = val;
		return 0;
	}
	if (strcmp(name, "expiry-time") == 0) {
		if (parse_expiry(val, &t) < 0) {
			*err = "bad expiry-time";
			goto bad;
		}
		/* Several: the earliest wins, as in OpenSSH. */
		if (o->expiry == 0 || t < o->expiry)
			o->expiry = t;
		free(val);
		return 0;
	}
	if (strcmp(name, "environment") == 0) {
		if ((eq = strchr(val, '=')) == NULL ||
		    !valid_env_name(val, (size_t)(eq - val))) {
			*err = "bad environment= (NAME=value)";
			goto bad;
		}
		/* The first setting of a name wins, as in OpenSSH. */
		for (i = 0; i < o->n_environment; i++) {
			const char *e = o->environment[i];

			if (strncmp(e, val, (size_t)(eq - val) + 1) == 0) {
				free(val);
				return 0;
			}
		}
		if (o->n_environment >= AUTHKEYS_MAX_ENV) {
			*err = "too many environment= options";
			goto bad;
		}
		o->environment[o->n_environment++] = val;
		return 0;
	}
	if (strcmp(name, "permitopen") == 0)
		return apply_permit(o, false, val, err);
	if (strcmp(name, "permitlisten") == 0)
		return apply_permit(o, true, val, err);
	if (strcmp(name, "principals") == 0) {
		if (o->principals != NULL || val[0] == '\0') {
			*err = o->principals != NULL ? "multiple principals= "
			    "options" : "empty principals= list";
			goto bad;
		}
		o->principals = val;
		return 0;
	}
	/* tunnel: parsed for validity only; tunnels are not offered by
	 * sshand. */
	if (strcmp(name, "tunnel") == 0) {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(val, &end, 10);
		if (val[0] == '\0' || *end != '\0' || errno != 0 ||
		    n > INT_MAX) {
			*err = "bad tunnel= value";
			goto bad;
		}
	} else if (val[0] == '\0') {
		*err = "empty option value";
		goto bad;
	}
	free(val);
	return 0;
bad:
	free(val);
	return -EINVAL;
}

int
authkeys_parse_options(const char **pp, struct authkey_parsed *ps, const char **err)
{
	const char *p = *pp;
	char name[32];
	size_t n, i;
	int r;

	for (;;) {
		const struct optdef *d = NULL;
		char *val = NULL;

		for (n = 0; isalnum((unsigned char)p[n]) || p[n] == '-'; n++)
			if (n + 1 >= sizeof(name)) {
				*err = "option name too long";
				return -EINVAL;
			}
		if (n == 0) {
			*err = "empty option";
			return -EINVAL;
		}
		for (i = 0; i < n; i++)
			name[i] = (char)tolower((unsigned char)p[i]);
		name[n] = '\0';
		p += n;
		for (i = 0; i < NELEM(optdefs); i++)
			if (strcmp(optdefs[i].name, name) == 0)
				d = &optdefs[i];
		if (d == NULL) {
			*err = "unknown option";
			return -EINVAL;
		}
		if (d->kind == OPT_VALUE) {
			if (*p != '=') {
				*err = "option needs a value";
				return -EINVAL;
			}
			p++;
			if ((r = parse_quoted(&p, &val)) < 0) {
				*err = "bad quoted option value";
				return r;
			}
			if ((r = apply_value(ps, name, val, err)) < 0)
				return r;
		} else {
			if (*p == '=') {
				*err = "option takes no value";
				return -EINVAL;
			}
			apply_flag(ps, name);
		}
		if (*p == ',') {
			p++;
			continue;
		}
		if (is_space(*p))
			break;
		*err = *p == '\0' ? "options without a key" :
		    "garbage after option";
		return -EINVAL;
	}
	*pp = p;
	return 0;
}
