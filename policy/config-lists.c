/* The values of the repeatable and list keywords (HostKey, AcceptEnv,
 * BanExempt, AuthorizedKeysFile, PermitOpen and PermitListen,
 * AuthenticationMethods, Subsystem): each checked entry by entry and
 * stored in its list; the table that dispatches to them is
 * config-values.c's. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/authmethods.h"
#include "policy/config-internal.h"
#include "policy/forward.h"
#include "policy/match.h"
#include "policy/sftp-opts.h"

/* %h (home), %u (user) and %% only: anything else is a typo that would
 * otherwise make the handler read an unintended file. */
static bool
keys_path_ok(const char *s)
{
	const char *p;

	if (*s == '\0' || config_has_ctrl(s) || strlen(s) >= 4096)
		return false;
	for (p = s; *p != '\0'; p++) {
		if (*p != '%')
			continue;
		p++;
		if (*p != 'h' && *p != 'u' && *p != '%')
			return false;
	}
	return true;
}

/* The end of a line of a keyword whose first line wins: its entries,
 * parsed into tmp (r: how that went), replace the field's on the first
 * line only; tmp is cleared either way. */
static int
keep_first_line(struct strlist *field, struct strlist *tmp, bool first, int r)
{
	if (r == 0 && first) {
		struct strlist old = *field;

		*field = *tmp;
		*tmp = old;
	}
	config_strlist_clear(tmp);
	return r;
}

/* A word that means the whole list ("any", "none") came with others. */
static int
not_alone(struct parser *p, struct strlist *tmp, const char *word,
    const struct keyword *kw)
{
	config_strlist_clear(tmp);
	return config_fail(p, "\"%s\" must be alone on a \"%s\" line", word,
	    kw->name);
}

/* Repeatable: every occurrence adds. */
int
parse_host_key(struct parser *p, const struct keyword *kw, struct settings *s,
    bool first, char **argv, size_t argc)
{
	struct strlist *l = kw_field(s, kw);
	int r = config_check(p, kw, argv[0]);

	(void)first, (void)argc;
	if (r == 0)
		r = config_strlist_add(l, argv[0]);
	/* HostKey is global only: s is the defaults' or the global
	 * section's; the latter's keys are told where they are named. */
	if (r == 0 && p->cfg != NULL && s == &p->cfg->blocks[0].s) {
		char where[PATH_MAX + 16];

		snprintf(where, sizeof(where), "%s:%u", p->path, p->line);
		r = config_strlist_add(&p->cfg->host_key_where, where);
	}
	return r;
}

int
parse_accept_env(struct parser *p, const struct keyword *kw,
    struct settings *s, bool first, char **argv, size_t argc)
{
	char vbuf[72];
	size_t i;
	int r = 0;

	(void)first;
	for (i = 0; i < argc && r == 0; i++) {
		if (strlen(argv[i]) > 256 || !config_only_chars(argv[i], "_*?"))
			return config_fail(p, "bad environment pattern \"%s\"",
			    config_shown(argv[i], vbuf));
		r = config_strlist_add(kw_field(s, kw), argv[i]);
	}
	return r;
}

/* Commas too: "10.0.0.0/8,192.168.0.0/16" is how a CIDR list is written
 * elsewhere in this file. */
int
parse_ban_exempt(struct parser *p, const struct keyword *kw,
    struct settings *s, bool first, char **argv, size_t argc)
{
	char vbuf[72], *item, *next;
	size_t i;
	int r = 0;

	(void)first;
	for (i = 0; i < argc && r == 0; i++) {
		for (item = argv[i]; item != NULL && r == 0; item = next) {
			next = strchr(item, ',');
			if (next != NULL)
				*next++ = '\0';
			if (cidr_parse(item, NULL, NULL) < 0)
				return config_fail(p, "bad CIDR \"%s\" in %s",
				    config_shown(item, vbuf), kw->name);
			r = config_strlist_add(kw_field(s, kw), item);
		}
	}
	return r;
}

/* Several on one line, replacing the list; "none": no file at all. */
int
parse_keys_files(struct parser *p, const struct keyword *kw,
    struct settings *s, bool first, char **argv, size_t argc)
{
	struct strlist tmp = { NULL, 0 }, *field = kw_field(s, kw);
	char vbuf[72];
	size_t i;
	int r = 0;

	if (argc == 1 && config_unless_unset(kw, argv[0]) == NULL)
		argc = 0;
	for (i = 0; i < argc && r == 0; i++) {
		if (!keys_path_ok(argv[i])) {
			config_strlist_clear(&tmp);
			return config_fail(p, "bad path \"%s\" for \"%s\" (only "
			    "%%h, %%u and %%%% expand)",
			    config_shown(argv[i], vbuf), kw->name);
		}
		r = config_strlist_add(&tmp, argv[i]);
	}
	return keep_first_line(field, &tmp, first, r);
}

/* PermitOpen, PermitListen: entries on one line, the first line wins
 * (sshd's rule), stored as fwd_permit_canon() writes them; "any" (the
 * empty list) or "none", alone. */
int
parse_permits(struct parser *p, const struct keyword *kw, struct settings *s,
    bool first, char **argv, size_t argc)
{
	struct strlist tmp = { NULL, 0 }, *field = kw_field(s, kw);
	unsigned flags = kw->type == T_PERMITLISTEN ? FWD_SPEC_LISTEN : 0;
	char vbuf[72], entry[FWD_HOST_MAX + 16];
	size_t i;
	int r = 0;

	for (i = 0; i < argc && r == 0; i++) {
		if (strcmp(argv[i], "any") == 0 || strcmp(argv[i], "none") == 0) {
			if (argc > 1)
				return not_alone(p, &tmp, argv[i], kw);
			if (strcmp(argv[i], "none") == 0)
				r = config_strlist_add(&tmp, "none");
			continue;
		}
		if (fwd_permit_canon(argv[i], flags, entry, sizeof(entry)) < 0) {
			config_strlist_clear(&tmp);
			return config_fail(p, "bad entry \"%s\" for \"%s\" (%s, "
			    "port a number or *)", config_shown(argv[i], vbuf),
			    kw->name, flags != 0 ? "[host:]port" :
			    "host:port or [address]:port");
		}
		r = config_strlist_add(&tmp, entry);
	}
	return keep_first_line(field, &tmp, first, r);
}

/* AuthenticationMethods: "any" alone, or lists of methods; as sshd,
 * the first line wins. */
int
parse_auth_methods(struct parser *p, const struct keyword *kw,
    struct settings *s, bool first, char **argv, size_t argc)
{
	struct strlist tmp = { NULL, 0 }, *field = kw_field(s, kw);
	char vbuf[72], canon[AM_MAX_CANON];
	const char *why;
	size_t i;
	int r = 0;

	if (argc > AM_MAX_LISTS)
		return config_fail(p, "too many lists for \"%s\" (at most %d)",
		    kw->name, AM_MAX_LISTS);
	for (i = 0; i < argc && r == 0; i++) {
		if (strcmp(argv[i], "any") == 0) {
			if (argc > 1)
				return not_alone(p, &tmp, "any", kw);
			continue;
		}
		if (am_list_canon(argv[i], canon, sizeof(canon), &why) < 0) {
			config_strlist_clear(&tmp);
			return config_fail(p, "bad list \"%s\" for \"%s\": %s",
			    config_shown(argv[i], vbuf), kw->name, why);
		}
		r = config_strlist_add(&tmp, canon);
	}
	return keep_first_line(field, &tmp, first, r);
}

int
chantimeout_parse(const char *entry, char *pattern, size_t cap,
    unsigned *ret_seconds)
{
	const char *eq = strchr(entry, '=');
	size_t n;

	if (strlen(entry) > CHANTIMEOUT_MAX_LEN)
		return -E2BIG;
	if (eq == NULL || eq == entry || config_has_ctrl(entry))
		return -EINVAL;
	n = (size_t)(eq - entry);
	if (n >= cap)
		return -E2BIG;
	if (parse_time(eq + 1, ret_seconds) < 0)
		return -EINVAL;
	memcpy(pattern, entry, n);
	pattern[n] = '\0';
	return 0;
}

unsigned
chantimeout_for(const struct strlist *entries, const char *type)
{
	char pattern[CHANTIMEOUT_MAX_LEN + 1];
	unsigned secs;

	for (size_t i = 0; i < entries->n; i++)
		if (chantimeout_parse(entries->v[i], pattern, sizeof(pattern),
		    &secs) == 0 && match_pattern(type, pattern))
			return secs;
	return 0;
}

/* ChannelTimeout: "none" alone, or type=interval entries, kept as
 * written; as sshd, the first line wins. */
int
parse_channel_timeouts(struct parser *p, const struct keyword *kw,
    struct settings *s, bool first, char **argv, size_t argc)
{
	struct strlist tmp = { NULL, 0 }, *field = kw_field(s, kw);
	char vbuf[72], pattern[CHANTIMEOUT_MAX_LEN + 1];
	unsigned secs;
	size_t i;
	int r = 0;

	if (argc > CHANTIMEOUT_MAX)
		return config_fail(p, "too many timeouts for \"%s\" (at most %d)",
		    kw->name, CHANTIMEOUT_MAX);
	for (i = 0; i < argc && r == 0; i++) {
		if (strcasecmp(argv[i], "none") == 0) {
			if (argc > 1)
				return not_alone(p, &tmp, "none", kw);
			continue;
		}
		r = chantimeout_parse(argv[i], pattern, sizeof(pattern), &secs);
		if (r < 0) {
			config_strlist_clear(&tmp);
			if (r == -E2BIG)
				return config_fail(p, "timeout \"%s\" for \"%s\" "
				    "longer than %d characters", config_shown(argv[i],
				    vbuf), kw->name, CHANTIMEOUT_MAX_LEN);
			return config_fail(p, "bad timeout \"%s\" for \"%s\" "
			    "(type=interval, the interval in seconds or sshd's "
			    "time format)", config_shown(argv[i], vbuf), kw->name);
		}
		r = config_strlist_add(&tmp, argv[i]);
	}
	return keep_first_line(field, &tmp, first, r);
}

/* Raw: a name, then the command as the rest of the line. */
int
parse_subsystem(struct parser *p, const struct keyword *kw,
    struct settings *s, bool first, char **argv, size_t argc)
{
	char vbuf[72], *cursor = argv[0], *name = NULL, *cmd;
	const char *why = NULL;
	size_t i;
	int r;

	(void)first, (void)argc;
	r = config_next_arg(&cursor, &name, &why);
	if (r < 0)
		return config_fail(p, "%s", why);
	if (r == 0)
		return config_fail(p, "missing argument for \"%s\"", kw->name);
	cmd = config_rest_of_line(cursor);
	if (*cmd == '\0')
		return config_fail(p, "missing command for subsystem \"%s\"",
		    config_shown(name, vbuf));
	if (strlen(name) > 64 || !config_only_chars(name, "@._-"))
		return config_fail(p, "bad subsystem name \"%s\"",
		    config_shown(name, vbuf));
	if (config_has_ctrl(cmd))
		return config_fail(p, "bad command for subsystem \"%s\"", name);
	if ((r = config_check_internal_sftp(p, cmd)) < 0)
		return r;
	for (i = 0; i < s->n_subsystems; i++)
		if (strcmp(s->subsystems[i].name, name) == 0)
			return config_fail(p, "subsystem \"%s\" already defined",
			    name);
	return config_subsystem_add(s, name, cmd);
}
