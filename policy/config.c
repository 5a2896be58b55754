/* sshand.conf: reading the file into blocks (the global section and each
 * Match block) of validated values, and resolving them for a connection.
 *
 * Every value is validated when the file is loaded, including values that
 * a first-wins rule will ignore and values in Match blocks that may never
 * apply: a typo anywhere fails the load rather than surprising an operator
 * at the first connection that happens to reach it. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/config.h"
#include "policy/config-table.h"
#include "policy/match.h"

/* Bounds on everything the parser accepts. */
#define LINE_MAX_BYTES	4096		/* one line, without its newline */
#define FILE_MAX_LINES	1000000		/* physical lines in the file */
#define ARGS_MAX	256		/* arguments on one line */
#define LIST_MAX	1024		/* entries in one list setting */
#define BLOCKS_MAX	4096		/* Match blocks */
#define CRIT_MAX	16		/* criteria on one Match line */
#define PATTERN_MAX	1024		/* one Match pattern list */
#define KEYWORD_MAX	64

enum crit_type { CRIT_ALL, CRIT_USER, CRIT_GROUP, CRIT_ADDRESS };

struct criterion {
	enum crit_type type;
	char *list;
};

struct block {
	unsigned line;			/* of the Match line; 0 for global */
	struct criterion *crit;
	size_t n_crit;
	struct settings s;		/* only the fields named in set[] */
	unsigned set[KW__COUNT];	/* line that set each keyword, 0 = unset */
};

struct config {
	struct block *blocks;		/* [0] is the global section */
	size_t n_blocks;
};

struct parser {
	const char *path;
	unsigned line;
	char *err;
	size_t errlen;
	struct config *cfg;
};

__attribute__((format(printf, 2, 3)))
static int
fail(struct parser *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->err != NULL && p->errlen > 0)
		snprintf(p->err, p->errlen, "%s:%u: %s", p->path, p->line, msg);
	return -EINVAL;
}

/* A value quoted into an error message: bounded and printable, since the
 * message ends up in the journal and on operators' terminals. */
static const char *
shown(const char *s, char buf[static 72])
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < 64; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s[i] != '\0') {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/* ---------------------------------------------------------------- */
/* Releasing */

static void
strlist_clear(struct strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void
subsystems_clear(struct settings *s)
{
	size_t i;

	for (i = 0; i < s->n_subsystems; i++) {
		free(s->subsystems[i].name);
		free(s->subsystems[i].command);
	}
	free(s->subsystems);
	s->subsystems = NULL;
	s->n_subsystems = 0;
}

static void
settings_clear(struct settings *s)
{
	strlist_clear(&s->host_keys);
	free(s->kex_algorithms);
	free(s->ciphers);
	free(s->macs);
	free(s->hostkey_algorithms);
	free(s->privsep_user);
	free(s->privsep_directory);
	free(s->audit_log);
	free(s->ban_file);
	strlist_clear(&s->ban_exempt);
	free(s->banner);
	strlist_clear(&s->authorized_keys_files);
	subsystems_clear(s);
	strlist_clear(&s->accept_env);
	free(s->force_command);
	memset(s, 0, sizeof(*s));
}

void
settings_free(struct settings *s)
{
	if (s == NULL)
		return;
	settings_clear(s);
	free(s);
}

void
config_free(struct config *cfg)
{
	size_t i, j;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->n_blocks; i++) {
		struct block *b = &cfg->blocks[i];

		for (j = 0; j < b->n_crit; j++)
			free(b->crit[j].list);
		free(b->crit);
		settings_clear(&b->s);
	}
	free(cfg->blocks);
	free(cfg);
}

/* ---------------------------------------------------------------- */
/* Lists */

static int
strlist_add(struct strlist *l, const char *v)
{
	char **nv, *copy;

	if (l->n >= LIST_MAX)
		return -E2BIG;
	copy = strdup(v);
	if (copy == NULL)
		return -ENOMEM;
	nv = reallocarray(l->v, l->n + 1, sizeof(*nv));
	if (nv == NULL) {
		free(copy);
		return -ENOMEM;
	}
	nv[l->n++] = copy;
	l->v = nv;
	return 0;
}

static int
strlist_copy(struct strlist *dst, const struct strlist *src)
{
	struct strlist n = { NULL, 0 };
	size_t i;
	int r;

	for (i = 0; i < src->n; i++) {
		r = strlist_add(&n, src->v[i]);
		if (r < 0) {
			strlist_clear(&n);
			return r;
		}
	}
	strlist_clear(dst);
	*dst = n;
	return 0;
}

static int
subsystem_add(struct settings *s, const char *name, const char *command)
{
	struct subsystem *nv;
	char *n, *c;

	if (s->n_subsystems >= LIST_MAX)
		return -E2BIG;
	n = strdup(name);
	c = strdup(command);
	if (n == NULL || c == NULL)
		goto nomem;
	nv = reallocarray(s->subsystems, s->n_subsystems + 1, sizeof(*nv));
	if (nv == NULL)
		goto nomem;
	nv[s->n_subsystems].name = n;
	nv[s->n_subsystems].command = c;
	s->subsystems = nv;
	s->n_subsystems++;
	return 0;
nomem:
	free(n);
	free(c);
	return -ENOMEM;
}

static int
subsystems_copy(struct settings *dst, const struct settings *src)
{
	struct settings tmp;
	size_t i;
	int r;

	memset(&tmp, 0, sizeof(tmp));
	for (i = 0; i < src->n_subsystems; i++) {
		r = subsystem_add(&tmp, src->subsystems[i].name,
		    src->subsystems[i].command);
		if (r < 0) {
			subsystems_clear(&tmp);
			return r;
		}
	}
	subsystems_clear(dst);
	dst->subsystems = tmp.subsystems;
	dst->n_subsystems = tmp.n_subsystems;
	return 0;
}

/* Replaces *dst with a copy of src (NULL allowed). */
static int
str_copy(char **dst, const char *src)
{
	char *c = NULL;

	if (src != NULL && (c = strdup(src)) == NULL)
		return -ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

/* ---------------------------------------------------------------- */
/* Value parsers */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static bool
has_ctrl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static bool
only_chars(const char *s, const char *extra)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9'))
			continue;
		if (strchr(extra, *s) == NULL)
			return false;
	}
	return true;
}

static int
parse_uint(const char *s, unsigned *ret)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -EINVAL;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -ERANGE;
	}
	*ret = (unsigned)v;
	return 0;
}

static int
parse_yesno(const char *s, bool *ret)
{
	if (strcasecmp(s, "yes") == 0)
		*ret = true;
	else if (strcasecmp(s, "no") == 0)
		*ret = false;
	else
		return -EINVAL;
	return 0;
}

static bool
abs_path_ok(const char *s)
{
	return s[0] == '/' && !has_ctrl(s) && strlen(s) < 4096;
}

/* %h (home), %u (user) and %% only: anything else is a typo that would
 * otherwise make the handler read an unintended file. */
static bool
keys_path_ok(const char *s)
{
	const char *p;

	if (*s == '\0' || has_ctrl(s) || strlen(s) >= 4096)
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

static bool
algos_ok(const char *s)
{
	if (!only_chars(s, "@._,+-") || s[0] == ',' ||
	    s[strlen(s) - 1] == ',' || strstr(s, ",,") != NULL)
		return false;
	return true;
}

/* POSIX portable user names, as useradd accepts them by default. */
static bool
user_name_ok(const char *s)
{
	return strlen(s) <= 32 && only_chars(s, "._-") && s[0] != '-';
}

/* ---------------------------------------------------------------- */
/* The lexer */

/*
 * Cuts the next argument out of *pp in place.  Arguments are separated by
 * blanks; "double quotes" keep blanks, with \" and \\ as the only escapes;
 * a '#' where an argument would start begins a comment.  Returns 1 and the
 * argument, 0 at the end of the line, or -EINVAL (message in *why).
 */
static int
next_arg(char **pp, char **ret, const char **why)
{
	char *p = *pp, *start, *out;

	while (is_blank(*p))
		p++;
	if (*p == '\0' || *p == '#') {
		*pp = p;
		return 0;
	}
	if (*p == '"') {
		start = out = ++p;
		for (;;) {
			if (*p == '\0') {
				*why = "unterminated quoted argument";
				return -EINVAL;
			}
			if (*p == '"')
				break;
			if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			*out++ = *p++;
		}
		p++;
		if (*p != '\0' && !is_blank(*p)) {
			*why = "unexpected text after a quoted argument";
			return -EINVAL;
		}
		*out = '\0';
	} else {
		start = p;
		while (*p != '\0' && !is_blank(*p)) {
			if (*p == '"') {
				*why = "quote inside an unquoted argument";
				return -EINVAL;
			}
			p++;
		}
	}
	if (*p != '\0')
		*p++ = '\0';
	*pp = p;
	*ret = start;
	return 1;
}

/* The raw rest of a line (ForceCommand, Subsystem's command): trailing
 * blanks trimmed, otherwise passed to the shell exactly as written. */
static char *
rest_of_line(char *p)
{
	size_t n;

	while (is_blank(*p))
		p++;
	n = strlen(p);
	while (n > 0 && is_blank(p[n - 1]))
		p[--n] = '\0';
	return p;
}

/* ---------------------------------------------------------------- */
/* One keyword line */

static int
too_many(struct parser *p, const struct keyword *kw)
{
	return fail(p, "too many values for \"%s\" (more than %d)", kw->name,
	    LIST_MAX);
}

/* Stores a scalar string unless the block already has one (first wins). */
static int
set_str(struct block *b, const struct keyword *kw, bool first, const char *v)
{
	char **field = (char **)(void *)((char *)&b->s + kw->off);

	if (!first)
		return 0;
	return str_copy(field, v);
}

static int
parse_keyword(struct parser *p, struct block *b, const struct keyword *kw,
    char *rest)
{
	char *argv[ARGS_MAX], *cursor = rest, *a;
	char vbuf[72];
	const char *why = NULL;
	void *field = (char *)&b->s + kw->off;
	bool first = b->set[kw->id] == 0;
	size_t argc = 0, i;
	unsigned u;
	bool yn;
	int r;

	if (b->line != 0 && !kw->in_match)
		return fail(p, "\"%s\" is not allowed inside Match", kw->name);

	if (kw->type == T_FORCECMD) {
		a = rest_of_line(rest);
		if (*a == '\0')
			return fail(p, "missing argument for \"%s\"", kw->name);
		if (strlen(a) >= 4096 || has_ctrl(a))
			return fail(p, "bad command for \"%s\"", kw->name);
		r = set_str(b, kw, first, strcmp(a, "none") == 0 ? NULL : a);
		goto stored;
	}
	if (kw->type == T_SUBSYSTEM) {
		char *name = NULL, *cmd;
		size_t j;

		r = next_arg(&cursor, &name, &why);
		if (r < 0)
			return fail(p, "%s", why);
		if (r == 0)
			return fail(p, "missing argument for \"%s\"", kw->name);
		cmd = rest_of_line(cursor);
		if (*cmd == '\0')
			return fail(p, "missing command for subsystem \"%s\"",
			    shown(name, vbuf));
		if (strlen(name) > 64 || !only_chars(name, "@._-"))
			return fail(p, "bad subsystem name \"%s\"",
			    shown(name, vbuf));
		if (has_ctrl(cmd))
			return fail(p, "bad command for subsystem \"%s\"", name);
		for (j = 0; j < b->s.n_subsystems; j++)
			if (strcmp(b->s.subsystems[j].name, name) == 0)
				return fail(p, "subsystem \"%s\" already defined",
				    name);
		r = subsystem_add(&b->s, name, cmd);
		if (r == -E2BIG)
			return too_many(p, kw);
		goto stored;
	}

	for (;;) {
		r = next_arg(&cursor, &a, &why);
		if (r < 0)
			return fail(p, "%s", why);
		if (r == 0)
			break;
		if (argc == ARGS_MAX)
			return fail(p, "too many arguments for \"%s\"", kw->name);
		argv[argc++] = a;
	}
	if (argc == 0)
		return fail(p, "missing argument for \"%s\"", kw->name);
	if (argc > 1 && !kw->multi)
		return fail(p, "unexpected extra argument \"%s\" for \"%s\"",
		    shown(argv[1], vbuf), kw->name);

	a = argv[0];
	switch (kw->type) {
	case T_FLAG:
		if (parse_yesno(a, &yn) < 0)
			return fail(p, "bad yes/no value \"%s\" for \"%s\"",
			    shown(a, vbuf), kw->name);
		if (first)
			*(bool *)field = yn;
		r = 0;
		break;
	case T_UINT:
	case T_TIME:
		if (kw->type == T_UINT) {
			r = parse_uint(a, &u);
			if (r == -EINVAL)
				return fail(p, "bad number \"%s\" for \"%s\"",
				    shown(a, vbuf), kw->name);
		} else if (parse_time(a, &u) < 0)
			return fail(p, "bad time \"%s\" for \"%s\"",
			    shown(a, vbuf), kw->name);
		else
			r = 0;
		if (r < 0 || u < kw->min || u > kw->max)
			return fail(p, "value \"%s\" for \"%s\" out of range "
			    "(%u..%u)", shown(a, vbuf), kw->name, kw->min,
			    kw->max);
		if (first)
			*(unsigned *)field = u;
		break;
	case T_PERMITROOT: {
		enum permit_root v;

		if (strcasecmp(a, "yes") == 0)
			v = PERMIT_ROOT_YES;
		else if (strcasecmp(a, "no") == 0)
			v = PERMIT_ROOT_NO;
		else if (strcasecmp(a, "prohibit-password") == 0 ||
		    strcasecmp(a, "without-password") == 0)
			v = PERMIT_ROOT_PROHIBIT_PASSWORD;
		else if (strcasecmp(a, "forced-commands-only") == 0)
			v = PERMIT_ROOT_FORCED_COMMANDS_ONLY;
		else
			return fail(p, "bad value \"%s\" for \"%s\"",
			    shown(a, vbuf), kw->name);
		if (first)
			*(enum permit_root *)field = v;
		r = 0;
		break;
	}
	case T_LOGLEVEL: {
		static const struct { const char *n; enum log_level l; } lv[] = {
			{ "QUIET", LOGLEVEL_QUIET }, { "FATAL", LOGLEVEL_FATAL },
			{ "ERROR", LOGLEVEL_ERROR }, { "INFO", LOGLEVEL_INFO },
			{ "VERBOSE", LOGLEVEL_VERBOSE },
			{ "DEBUG", LOGLEVEL_DEBUG1 }, { "DEBUG1", LOGLEVEL_DEBUG1 },
			{ "DEBUG2", LOGLEVEL_DEBUG2 }, { "DEBUG3", LOGLEVEL_DEBUG3 },
		};

		for (i = 0; i < sizeof(lv) / sizeof(lv[0]); i++)
			if (strcasecmp(a, lv[i].n) == 0)
				break;
		if (i == sizeof(lv) / sizeof(lv[0]))
			return fail(p, "bad log level \"%s\"", shown(a, vbuf));
		if (first)
			*(enum log_level *)field = lv[i].l;
		r = 0;
		break;
	}
	case T_ALGOS:
		/* What settings_dump prints for "unset", so that -T output
		 * reads back as the same settings. */
		if (strcmp(a, "default") == 0) {
			r = set_str(b, kw, first, NULL);
			break;
		}
		if (!algos_ok(a) || strlen(a) >= 4096)
			return fail(p, "bad algorithm list \"%s\" for \"%s\"",
			    shown(a, vbuf), kw->name);
		r = set_str(b, kw, first, a);
		break;
	case T_ABSPATH:
		if (!abs_path_ok(a))
			return fail(p, "\"%s\" needs an absolute path, not \"%s\"",
			    kw->name, shown(a, vbuf));
		r = set_str(b, kw, first, a);
		break;
	case T_BANNER:
		if (strcmp(a, "none") == 0)
			a = NULL;
		else if (!abs_path_ok(a))
			return fail(p, "\"%s\" needs an absolute path or none, "
			    "not \"%s\"", kw->name, shown(a, vbuf));
		r = set_str(b, kw, first, a);
		break;
	case T_AUDITLOG:
		if (strcmp(a, "journal") != 0 && strcmp(a, "syslog") != 0 &&
		    !abs_path_ok(a))
			return fail(p, "\"%s\" needs journal, syslog or an "
			    "absolute path, not \"%s\"", kw->name,
			    shown(a, vbuf));
		r = set_str(b, kw, first, a);
		break;
	case T_USERNAME:
		if (!user_name_ok(a))
			return fail(p, "bad user name \"%s\" for \"%s\"",
			    shown(a, vbuf), kw->name);
		r = set_str(b, kw, first, a);
		break;
	case T_PROFILE: {
		enum sandbox_profile v;

		if (sandbox_profile_parse(a, &v) < 0)
			return fail(p, "unknown sandbox profile \"%s\" for "
			    "\"%s\"", shown(a, vbuf), kw->name);
		if (first)
			*(enum sandbox_profile *)field = v;
		r = 0;
		break;
	}
	case T_HOSTKEY:
		if (!abs_path_ok(a))
			return fail(p, "\"%s\" needs an absolute path, not \"%s\"",
			    kw->name, shown(a, vbuf));
		r = strlist_add(field, a);
		break;
	case T_ACCEPTENV:
		r = 0;
		for (i = 0; i < argc && r == 0; i++) {
			if (strlen(argv[i]) > 256 || !only_chars(argv[i], "_*?"))
				return fail(p, "bad environment pattern \"%s\"",
				    shown(argv[i], vbuf));
			r = strlist_add(field, argv[i]);
		}
		break;
	case T_BANEXEMPT:
		r = 0;
		for (i = 0; i < argc && r == 0; i++) {
			char *item = argv[i], *comma;

			/* Commas too: "10.0.0.0/8,192.168.0.0/16" is how a
			 * CIDR list is written elsewhere in this file. */
			do {
				comma = strchr(item, ',');
				if (comma != NULL)
					*comma = '\0';
				if (cidr_parse(item, NULL, NULL) < 0)
					return fail(p, "bad CIDR \"%s\" in %s",
					    shown(item, vbuf), kw->name);
				r = strlist_add(field, item);
				item = comma != NULL ? comma + 1 : NULL;
			} while (item != NULL && r == 0);
		}
		break;
	case T_AKFILES: {
		struct strlist tmp = { NULL, 0 };

		if (argc == 1 && strcmp(a, "none") == 0) {
			r = 0;
		} else {
			r = 0;
			for (i = 0; i < argc && r == 0; i++) {
				if (!keys_path_ok(argv[i])) {
					strlist_clear(&tmp);
					return fail(p, "bad path \"%s\" for "
					    "\"%s\" (only %%h, %%u and %%%% "
					    "expand)", shown(argv[i], vbuf),
					    kw->name);
				}
				r = strlist_add(&tmp, argv[i]);
			}
		}
		if (r == 0 && first) {
			strlist_clear(field);
			*(struct strlist *)field = tmp;
		} else
			strlist_clear(&tmp);
		break;
	}
	default:
		return fail(p, "internal error: keyword \"%s\"", kw->name);
	}
stored:
	if (r == -E2BIG)
		return too_many(p, kw);
	if (r < 0)
		return r;
	if (first)
		b->set[kw->id] = p->line;
	return 0;
}

/* ---------------------------------------------------------------- */
/* Match lines */

static int
parse_match(struct parser *p, char *rest)
{
	struct config *cfg = p->cfg;
	struct block *nb, *b;
	char *cursor = rest, *name, *val;
	char vbuf[72];
	const char *why = NULL;
	bool all = false;
	int r;

	if (cfg->n_blocks > BLOCKS_MAX)
		return fail(p, "too many Match blocks (more than %d)", BLOCKS_MAX);
	nb = reallocarray(cfg->blocks, cfg->n_blocks + 1, sizeof(*nb));
	if (nb == NULL)
		return -ENOMEM;
	cfg->blocks = nb;
	b = &cfg->blocks[cfg->n_blocks++];
	memset(b, 0, sizeof(*b));
	b->line = p->line;

	for (;;) {
		struct criterion *nc;
		enum crit_type t;

		r = next_arg(&cursor, &name, &why);
		if (r < 0)
			return fail(p, "%s", why);
		if (r == 0)
			break;
		if (all)
			return fail(p, "\"All\" must be the only Match criterion");
		if (strcasecmp(name, "All") == 0) {
			if (b->n_crit > 0)
				return fail(p, "\"All\" must be the only Match "
				    "criterion");
			t = CRIT_ALL;
			all = true;
			val = NULL;
		} else {
			if (strcasecmp(name, "User") == 0)
				t = CRIT_USER;
			else if (strcasecmp(name, "Group") == 0)
				t = CRIT_GROUP;
			else if (strcasecmp(name, "Address") == 0)
				t = CRIT_ADDRESS;
			else
				return fail(p, "unsupported Match criterion "
				    "\"%s\"", shown(name, vbuf));
			r = next_arg(&cursor, &val, &why);
			if (r < 0)
				return fail(p, "%s", why);
			if (r == 0 || *val == '\0')
				return fail(p, "missing pattern for Match %s",
				    name);
			if (strlen(val) > PATTERN_MAX)
				return fail(p, "pattern list too long for "
				    "Match %s", name);
			if (t == CRIT_ADDRESS && match_addr_list(NULL, val) < 0)
				return fail(p, "bad address list \"%s\" in "
				    "Match Address", shown(val, vbuf));
			if (t != CRIT_ADDRESS && (has_ctrl(val) ||
			    val[0] == ',' || val[strlen(val) - 1] == ','))
				return fail(p, "bad pattern list \"%s\" in "
				    "Match %s", shown(val, vbuf), name);
		}
		if (b->n_crit == CRIT_MAX)
			return fail(p, "too many Match criteria");
		nc = reallocarray(b->crit, b->n_crit + 1, sizeof(*nc));
		if (nc == NULL)
			return -ENOMEM;
		b->crit = nc;
		nc[b->n_crit].type = t;
		nc[b->n_crit].list = NULL;
		if (val != NULL && (nc[b->n_crit].list = strdup(val)) == NULL)
			return -ENOMEM;
		b->n_crit++;
	}
	if (b->n_crit == 0)
		return fail(p, "Match needs a criterion (User, Group, Address "
		    "or All)");
	return 0;
}

/* ---------------------------------------------------------------- */
/* The file */

static int
parse_line(struct parser *p, char *line)
{
	char kwbuf[KEYWORD_MAX + 1], vbuf[72];
	const struct keyword *kw;
	char *s = line, *start;
	size_t n;

	while (is_blank(*s))
		s++;
	if (*s == '\0' || *s == '#')
		return 0;
	start = s;
	while (*s != '\0' && !is_blank(*s) && *s != '=')
		s++;
	n = (size_t)(s - start);
	if (n == 0)
		return fail(p, "missing keyword");
	if (n > KEYWORD_MAX) {
		start[KEYWORD_MAX] = '\0';
		return fail(p, "unknown keyword \"%s\"", shown(start, vbuf));
	}
	memcpy(kwbuf, start, n);
	kwbuf[n] = '\0';
	/* sshd allows "Keyword=value" and "Keyword = value". */
	while (is_blank(*s))
		s++;
	if (*s == '=')
		s++;

	if (strcasecmp(kwbuf, "Match") == 0)
		return parse_match(p, s);
	kw = keyword_lookup(kwbuf);
	if (kw == NULL)
		return fail(p, "unknown keyword \"%s\"", shown(kwbuf, vbuf));
	return parse_keyword(p, &p->cfg->blocks[p->cfg->n_blocks - 1], kw, s);
}

/* Reads one line into buf (LINE_MAX_BYTES + 1).  Returns 1 with a line,
 * 0 at end of file, -E2BIG for an overlong line, -EBADMSG for a NUL byte,
 * or -errno. */
static int
read_line(FILE *f, char *buf)
{
	size_t n = 0;
	int c;

	for (;;) {
		c = getc_unlocked(f);
		if (c == EOF) {
			if (ferror(f))
				return errno != 0 ? -errno : -EIO;
			if (n == 0)
				return 0;
			break;
		}
		if (c == '\n')
			break;
		if (c == '\0')
			return -EBADMSG;
		if (n == LINE_MAX_BYTES)
			return -E2BIG;
		buf[n++] = (char)c;
	}
	buf[n] = '\0';
	return 1;
}

/* Cross-keyword checks, reported at the line of the later keyword. */
static int
check_global(struct parser *p)
{
	const struct block *g = &p->cfg->blocks[0];
	unsigned bt = g->set[KW_BANTIME], btm = g->set[KW_BANTIMEMAX];
	unsigned ban_time = bt ? g->s.ban_time : 3600;
	unsigned ban_time_max = btm ? g->s.ban_time_max : 7 * 24 * 3600;

	if (ban_time_max < ban_time) {
		p->line = bt > btm ? bt : btm;
		return fail(p, "BanTimeMax (%u s) is shorter than BanTime (%u s)",
		    ban_time_max, ban_time);
	}
	return 0;
}

int
config_load(const char *path, struct config **ret, char *err, size_t errlen)
{
	struct parser p = { .path = path, .err = err, .errlen = errlen };
	char *buf = NULL;
	struct stat st;
	FILE *f = NULL;
	int fd, r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path == NULL || ret == NULL)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		goto sys_fail;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		goto sys_fail;
	}
	/* A FIFO or socket could block the handler forever. */
	if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) {
		close(fd);
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto sys_fail;
	}
	f = fdopen(fd, "re");
	if (f == NULL) {
		r = -errno;
		close(fd);
		goto sys_fail;
	}
	buf = malloc(LINE_MAX_BYTES + 1);
	p.cfg = calloc(1, sizeof(*p.cfg));
	if (buf == NULL || p.cfg == NULL ||
	    (p.cfg->blocks = calloc(1, sizeof(struct block))) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	p.cfg->n_blocks = 1;

	for (;;) {
		p.line++;
		r = read_line(f, buf);
		if (r == 0)
			break;
		/* Counted after the read: a file of exactly the maximum
		 * is fine, only a line past it is refused. */
		if (p.line > FILE_MAX_LINES) {
			r = fail(&p, "too many lines (more than %d)",
			    FILE_MAX_LINES);
			goto out;
		}
		if (r == -E2BIG) {
			r = fail(&p, "line too long (more than %d bytes)",
			    LINE_MAX_BYTES);
			goto out;
		}
		if (r == -EBADMSG) {
			r = fail(&p, "NUL byte in line");
			goto out;
		}
		if (r < 0) {
			if (err != NULL && errlen > 0)
				snprintf(err, errlen, "%s: %s", path, strerror(-r));
			goto out;
		}
		r = parse_line(&p, buf);
		if (r < 0) {
			if (r == -ENOMEM && err != NULL && errlen > 0)
				snprintf(err, errlen, "%s:%u: %s", path, p.line,
				    strerror(ENOMEM));
			goto out;
		}
	}
	r = check_global(&p);
	if (r < 0)
		goto out;
	*ret = p.cfg;
	p.cfg = NULL;
	r = 0;
out:
	config_free(p.cfg);
	free(buf);
	if (f != NULL)
		fclose(f);
	return r;
sys_fail:
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
	return r;
}

/* ---------------------------------------------------------------- */
/* Resolution */

static bool
groups_match(const struct match_ctx *ctx, const char *list)
{
	bool found = false;
	size_t i;

	if (ctx->groups == NULL)
		return false;
	for (i = 0; i < ctx->n_groups; i++) {
		int m;

		if (ctx->groups[i] == NULL)
			continue;
		m = match_pattern_list(ctx->groups[i], list);
		if (m < 0)
			return false;	/* a negated group vetoes, as sshd */
		if (m > 0)
			found = true;
	}
	return found;
}

static bool
block_matches(const struct block *b, const struct match_ctx *ctx)
{
	size_t i;

	for (i = 0; i < b->n_crit; i++) {
		const struct criterion *c = &b->crit[i];

		switch (c->type) {
		case CRIT_ALL:
			break;
		case CRIT_USER:
			if (ctx == NULL || ctx->user == NULL ||
			    match_pattern_list(ctx->user, c->list) != 1)
				return false;
			break;
		case CRIT_GROUP:
			if (ctx == NULL || ctx->user == NULL ||
			    !groups_match(ctx, c->list))
				return false;
			break;
		case CRIT_ADDRESS:
			if (ctx == NULL || ctx->addr == NULL ||
			    match_addr_list(ctx->addr, c->list) != 1)
				return false;
			break;
		default:
			return false;
		}
	}
	return true;
}

/* Copies keyword kw's value from src into dst, replacing dst's. */
static int
apply(struct settings *dst, const struct settings *src, const struct keyword *kw)
{
	const void *sf = (const char *)src + kw->off;
	void *df = (char *)dst + kw->off;

	switch (kw->type) {
	case T_FLAG:
		*(bool *)df = *(const bool *)sf;
		return 0;
	case T_UINT:
	case T_TIME:
		*(unsigned *)df = *(const unsigned *)sf;
		return 0;
	case T_PERMITROOT:
		*(enum permit_root *)df = *(const enum permit_root *)sf;
		return 0;
	case T_LOGLEVEL:
		*(enum log_level *)df = *(const enum log_level *)sf;
		return 0;
	case T_PROFILE:
		*(enum sandbox_profile *)df = *(const enum sandbox_profile *)sf;
		return 0;
	case T_ALGOS: case T_ABSPATH: case T_BANNER: case T_AUDITLOG:
	case T_USERNAME: case T_FORCECMD:
		return str_copy(df, *(char *const *)sf);
	case T_HOSTKEY: case T_ACCEPTENV: case T_BANEXEMPT: case T_AKFILES:
		return strlist_copy(df, sf);
	case T_SUBSYSTEM:
		return subsystems_copy(dst, src);
	}
	return -EINVAL;
}

static int
settings_defaults(struct settings *s)
{
	memset(s, 0, sizeof(*s));
	s->login_grace_time = 60;
	s->log_level = LOGLEVEL_INFO;
	s->ban_max_failures = 5;
	s->ban_find_time = 10 * 60;
	s->ban_time = 60 * 60;
	s->ban_time_max = 7 * 24 * 60 * 60;
	s->ban_ipv6_prefix = 64;
	s->ban_max_entries = 65536;
	s->permit_root_login = PERMIT_ROOT_NO;
	s->pubkey_authentication = true;
	s->password_authentication = true;
	s->kbd_interactive_authentication = true;
	s->permit_empty_passwords = false;
	s->strict_modes = true;
	s->permit_tty = true;
	s->permit_user_environment = false;
	s->allow_tcp_forwarding = false;
	s->max_auth_tries = 6;
	s->sandbox_profile = SANDBOX_LOGIN;
	s->sandbox_allow_keyrings = false;
	s->max_session_procs = 0;
	s->max_open_files = 0;
	s->allow_core_dumps = false;
	if ((s->privsep_user = strdup("sshand")) == NULL ||
	    (s->privsep_directory = strdup("/var/empty")) == NULL ||
	    (s->audit_log = strdup("journal")) == NULL ||
	    (s->ban_file = strdup("/var/lib/sshand/bans")) == NULL ||
	    strlist_add(&s->authorized_keys_files, ".ssh/authorized_keys") < 0)
		return -ENOMEM;
	return 0;
}

static const char *const default_host_keys[] = {
	"/etc/sshand/ssh_host_ed25519_key",
	"/etc/sshand/ssh_host_ecdsa_key",
	"/etc/sshand/ssh_host_rsa_key",
};

int
config_resolve(const struct config *cfg, const struct match_ctx *ctx,
    struct settings **ret)
{
	bool overridden[KW__COUNT] = { false }, subsystem_profile_set = false;
	struct settings *s;
	size_t i, k;
	int r;

	if (cfg == NULL || ret == NULL || cfg->n_blocks == 0)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	r = settings_defaults(s);
	if (r < 0)
		goto fail;
	for (i = 0; i < cfg->n_blocks; i++) {
		const struct block *b = &cfg->blocks[i];

		if (i > 0 && !block_matches(b, ctx))
			continue;
		for (k = 0; k < KW__COUNT; k++) {
			const struct keyword *kw = keyword_by_id((enum kw_id)k);

			if (b->set[k] == 0 || overridden[k])
				continue;
			r = apply(s, &b->s, kw);
			if (r < 0)
				goto fail;
			if (k == KW_SUBSYSTEMSANDBOXPROFILE)
				subsystem_profile_set = true;
			/* The first matching Match block to set it wins. */
			if (i > 0)
				overridden[k] = true;
		}
	}
	/* Not set: as SandboxProfile, as resolved for this connection. */
	if (!subsystem_profile_set)
		s->subsystem_sandbox_profile = s->sandbox_profile;
	if (s->host_keys.n == 0) {
		for (i = 0; i < sizeof(default_host_keys) /
		    sizeof(default_host_keys[0]); i++) {
			r = strlist_add(&s->host_keys, default_host_keys[i]);
			if (r < 0)
				goto fail;
		}
	}
	*ret = s;
	return 0;
fail:
	settings_free(s);
	return r;
}
