/* Reading resolved settings: the sshd -T style dump and the lookups the
 * handler needs. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy/config-internal.h"
#include "policy/match.h"
#include "sandbox/sandbox.h"

/* Values are printed as stored: the dump is for operators and tests, and
 * every stored value was validated at load time (no newlines).  What is
 * printed reads back as the same settings. */

static int
dump_word(FILE *f, const char *name, const char *word)
{
	if (word == NULL)
		return -EINVAL;
	fprintf(f, "%s %s\n", name, word);
	return 0;
}

int
config_dump_flag(FILE *f, const char *name, const struct settings *s,
    const struct keyword *kw)
{
	return dump_word(f, name, *(const bool *)kw_cfield(s, kw) ? "yes" : "no");
}

int
config_dump_uint(FILE *f, const char *name, const struct settings *s,
    const struct keyword *kw)
{
	fprintf(f, "%s %u\n", name, *(const unsigned *)kw_cfield(s, kw));
	return 0;
}

/* 0 is none, as sshd -T prints UnusedConnectionTimeout. */
int
config_dump_timeout(FILE *f, const char *name, const struct settings *s,
    const struct keyword *kw)
{
	unsigned v = *(const unsigned *)kw_cfield(s, kw);

	if (v == 0)
		fprintf(f, "%s none\n", name);
	else
		fprintf(f, "%s %u\n", name, v);
	return 0;
}

/* As sshd -T prints a mask: 0177. */
int
config_dump_mode(FILE *f, const char *name, const struct settings *s,
    const struct keyword *kw)
{
	fprintf(f, "%s %04o\n", name, *(const unsigned *)kw_cfield(s, kw));
	return 0;
}

int
config_dump_named(FILE *f, const char *name, const struct settings *s,
    const struct keyword *kw)
{
	const struct kw_name *n = kw_ops_of(kw->type)->names;
	int v;

	memcpy(&v, kw_cfield(s, kw), sizeof(v));
	while (n->name != NULL && n->value != v)
		n++;
	return dump_word(f, name, n->name);
}

int
config_dump_profile(FILE *f, const char *name, const struct settings *s,
    const struct keyword *kw)
{
	return dump_word(f, name, sandbox_profile_name(
	    *(const enum sandbox_profile *)kw_cfield(s, kw)));
}

/* NULL is the type's word for unset: none, or libssh's default. */
static const char *
unset_word(const struct keyword *kw)
{
	const char *w = kw_ops_of(kw->type)->unset;

	return w != NULL ? w : "none";
}

int
config_dump_str(FILE *f, const char *name, const struct settings *s,
    const struct keyword *kw)
{
	const char *v = *(char *const *)kw_cfield(s, kw);

	return dump_word(f, name, v != NULL ? v : unset_word(kw));
}

/* Algorithm lists as they take effect: the default is spelt out, as
 * sshd -T spells out its own, so that what is offered can be read off. */
int
config_dump_algos(FILE *f, const char *name, const struct settings *s,
    const struct keyword *kw)
{
	return dump_word(f, name, algo_effective(config_algo_kind(kw),
	    *(char *const *)kw_cfield(s, kw)));
}

/* sshd -T's "rekeylimit BYTES SECONDS", 0 for default and none. */
int
config_dump_rekey(FILE *f, const char *name, const struct settings *s,
    const struct keyword *kw)
{
	const struct rekey_limit *r = kw_cfield(s, kw);

	fprintf(f, "%s %llu %u\n", name, (unsigned long long)r->bytes, r->seconds);
	return 0;
}

/* Repeatable keywords: a line each, none for an empty list. */
int
config_dump_each(FILE *f, const char *name, const struct settings *s,
    const struct keyword *kw)
{
	const struct strlist *l = kw_cfield(s, kw);
	size_t i;

	for (i = 0; i < l->n; i++)
		fprintf(f, "%s %s\n", name, l->v[i]);
	return 0;
}

/* A list on one line, the type's word for unset when empty. */
int
config_dump_joined(FILE *f, const char *name, const struct settings *s,
    const struct keyword *kw)
{
	const struct strlist *l = kw_cfield(s, kw);
	size_t i;

	if (l->n == 0)
		return dump_word(f, name, unset_word(kw));
	fputs(name, f);
	for (i = 0; i < l->n; i++)
		fprintf(f, " %s", l->v[i]);
	fputc('\n', f);
	return 0;
}

int
config_dump_subsystems(FILE *f, const char *name, const struct settings *s,
    const struct keyword *kw)
{
	size_t i;

	(void)kw;
	for (i = 0; i < s->n_subsystems; i++)
		fprintf(f, "%s %s %s\n", name, s->subsystems[i].name,
		    s->subsystems[i].command);
	return 0;
}

int
settings_dump(const struct settings *s, FILE *f)
{
	char name[KEYWORD_MAX + 1];
	size_t k, i;
	int r;

	if (s == NULL || f == NULL)
		return -EINVAL;
	for (k = 0; k < KW__COUNT; k++) {
		const struct keyword *kw = keyword_by_id((enum kw_id)k);

		for (i = 0; kw->name[i] != '\0' && i < KEYWORD_MAX; i++)
			name[i] = (char)tolower((unsigned char)kw->name[i]);
		name[i] = '\0';
		r = kw_ops_of(kw->type)->dump(f, name, s, kw);
		if (r < 0)
			return r;
	}
	/* sshd's keywords whose value sshand fixes, as sshd -T prints them
	 * (usepam yes...), for whoever reads the dump for them. */
	sshd_keywords_dump(f);
	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	return 0;
}

const char *
settings_subsystem(const struct settings *s, const char *name)
{
	size_t i;

	if (s == NULL || name == NULL)
		return NULL;
	for (i = 0; i < s->n_subsystems; i++)
		if (strcmp(s->subsystems[i].name, name) == 0)
			return s->subsystems[i].command;
	return NULL;
}

bool
settings_accept_env(const struct settings *s, const char *name)
{
	size_t i;

	if (s == NULL || name == NULL || *name == '\0')
		return false;
	for (i = 0; i < s->accept_env.n; i++)
		if (match_pattern(name, s->accept_env.v[i]))
			return true;
	return false;
}

void
settings_ban_params(const struct settings *s, struct ban_params *ret)
{
	*ret = (struct ban_params){
		.max_failures = s->ban_max_failures,
		.find_time = s->ban_find_time,
		.ban_time = s->ban_time,
		.ban_time_max = s->ban_time_max,
		.ipv6_prefix = s->ban_ipv6_prefix,
		.max_entries = s->ban_max_entries,
		.exempt = (const char *const *)s->ban_exempt.v,
		.n_exempt = s->ban_exempt.n,
	};
}
