/* sshand.conf: reading the file into blocks (the global section and each
 * Match block) of validated values.  The value parsers are in
 * config-values.c, resolution for a connection in config-resolve.c.
 *
 * Every value is validated when the file is loaded, including values that
 * a first-wins rule will ignore and values in Match blocks that may never
 * apply: a typo anywhere fails the load rather than surprising an operator
 * at the first connection that happens to reach it. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/authmethods.h"
#include "policy/config-internal.h"
#include "policy/match.h"

int
config_fail(struct parser *p, const char *fmt, ...)
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

int
config_notice_add(struct parser *p, const char *fmt, ...)
{
	char msg[ALGO_LIST_MAX + 512], note[sizeof(msg) + PATH_MAX + 16];
	va_list ap;
	int r;

	if (p->cfg == NULL)
		return 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(note, sizeof(note), "%s:%u: %s", p->path, p->line, msg);
	r = config_strlist_add(&p->cfg->notices, note);
	/* Past LIST_MAX of them, the first ones have said enough. */
	return r == -E2BIG ? 0 : r;
}

const char *
config_shown(const char *s, char buf[static 72])
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
/* One keyword line */

/* Cuts the arguments of a keyword line into argv. */
static int
split_args(struct parser *p, const struct keyword *kw, char *rest,
    char **argv, size_t *ret_argc)
{
	const char *why = NULL;
	char vbuf[72], *a;
	size_t argc = 0;
	int r;

	while ((r = config_next_arg(&rest, &a, &why)) > 0) {
		if (argc == ARGS_MAX)
			return config_fail(p, "too many arguments for \"%s\"",
			    kw->name);
		argv[argc++] = a;
	}
	if (r < 0)
		return config_fail(p, "%s", why);
	if (argc == 0)
		return config_fail(p, "missing argument for \"%s\"", kw->name);
	if (argc > 1 && !kw_ops_of(kw->type)->multi)
		return config_fail(p, "unexpected extra argument \"%s\" for "
		    "\"%s\"", config_shown(argv[1], vbuf), kw->name);
	*ret_argc = argc;
	return 0;
}

/* Validates the value(s) of kw and stores them in b: the type does the
 * work (config-values.c); the first occurrence in a block is recorded. */
static int
parse_keyword(struct parser *p, struct block *b, const struct keyword *kw,
    char *rest)
{
	const struct kw_ops *t = kw_ops_of(kw->type);
	bool first = b->set[kw->id] == 0;
	char *argv[ARGS_MAX];
	size_t argc = 1;
	int r;

	if (b->line != 0 && !kw->in_match)
		return config_fail(p, "\"%s\" is not allowed inside Match",
		    kw->name);
	argv[0] = rest;
	if (!t->raw && (r = split_args(p, kw, rest, argv, &argc)) < 0)
		return r;
	r = t->parse(p, kw, &b->s, first, argv, argc);
	if (r == -E2BIG)
		return config_fail(p, "too many values for \"%s\" (more than %d)",
		    kw->name, LIST_MAX);
	if (r < 0)
		return r;
	if (first) {
		b->set[kw->id] = p->line;
		b->set_in[kw->id] = p->file;
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* Match lines */

/* A new Match block at the end, of line, with the criteria of block like (0:
 * none yet); its index in *ret. */
static int
block_new(struct parser *p, unsigned line, size_t like, size_t *ret)
{
	struct config *cfg = p->cfg;
	struct block *nb, *b;
	size_t n;

	if (cfg->n_blocks > BLOCKS_MAX)
		return config_fail(p, "too many Match blocks (more than %d)", BLOCKS_MAX);
	/* Doubling: growing by one copies the whole array each time with an
	 * allocator that cannot grow in place (ASan's), O(n^2) for n blocks. */
	if (cfg->n_blocks == cfg->cap_blocks) {
		nb = reallocarray(cfg->blocks, cfg->cap_blocks * 2, sizeof(*nb));
		if (nb == NULL)
			return -ENOMEM;
		cfg->blocks = nb;
		cfg->cap_blocks *= 2;
	}
	b = &cfg->blocks[cfg->n_blocks++];
	memset(b, 0, sizeof(*b));
	b->line = line;
	n = like != 0 ? cfg->blocks[like].n_crit : 0;
	if (n > 0) {
		b->crit = calloc(n, sizeof(*b->crit));
		if (b->crit == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			const struct criterion *c = &cfg->blocks[like].crit[i];

			b->crit[i].type = c->type;
			if (c->list != NULL && (b->crit[i].list = strdup(c->list)) == NULL)
				return -ENOMEM;
			b->n_crit++;
		}
	}
	*ret = cfg->n_blocks - 1;
	return 0;
}

/* The block a keyword line goes to.  After an Include whose file opened
 * Match blocks of its own, the lines that follow still belong to the
 * block the Include sat in: they go to a continuation of it, placed after
 * the included blocks, so that the blocks keep the order of the lines
 * (first match wins) as sshd reads them. */
static int
current_block(struct parser *p, struct block **ret)
{
	size_t idx;
	int r;

	if (p->cur != 0 && p->cur != p->cfg->n_blocks - 1) {
		r = block_new(p, p->cfg->blocks[p->cur].line, p->cur, &idx);
		if (r < 0)
			return r;
		p->cur = idx;
	}
	*ret = &p->cfg->blocks[p->cur];
	return 0;
}

static int
parse_match(struct parser *p, char *rest)
{
	struct config *cfg = p->cfg;
	struct block *b;
	char *cursor = rest, *name, *val;
	char vbuf[72];
	const char *why = NULL;
	bool all = false;
	size_t idx, n_outer;
	int r;

	/* In a file included from a Match block, a Match applies only
	 * where that block does: it starts with the block's criteria. */
	r = block_new(p, p->line, p->outer, &idx);
	if (r < 0)
		return r;
	p->cur = idx;
	b = &cfg->blocks[idx];
	n_outer = b->n_crit;

	for (;;) {
		struct criterion *nc;
		enum crit_type t;

		r = config_next_arg(&cursor, &name, &why);
		if (r < 0)
			return config_fail(p, "%s", why);
		if (r == 0)
			break;
		if (all)
			return config_fail(p, "\"All\" must be the only Match criterion");
		if (strcasecmp(name, "All") == 0) {
			if (b->n_crit > n_outer)
				return config_fail(p, "\"All\" must be the only Match "
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
				return config_fail(p, "unsupported Match criterion "
				    "\"%s\"", config_shown(name, vbuf));
			r = config_next_arg(&cursor, &val, &why);
			if (r < 0)
				return config_fail(p, "%s", why);
			if (r == 0 || *val == '\0')
				return config_fail(p, "missing pattern for Match %s",
				    name);
			if (strlen(val) > PATTERN_MAX)
				return config_fail(p, "pattern list too long for "
				    "Match %s", name);
			if (t == CRIT_ADDRESS && match_addr_list(NULL, val) < 0)
				return config_fail(p, "bad address list \"%s\" in "
				    "Match Address", config_shown(val, vbuf));
			if (t != CRIT_ADDRESS && (config_has_ctrl(val) ||
			    val[0] == ',' || val[strlen(val) - 1] == ','))
				return config_fail(p, "bad pattern list \"%s\" in "
				    "Match %s", config_shown(val, vbuf), name);
		}
		if (b->n_crit == CRIT_MAX)
			return config_fail(p, "too many Match criteria");
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
	if (b->n_crit == n_outer)
		return config_fail(p, "Match needs a criterion (User, Group, Address "
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
	struct block *b;
	char *s = line, *start;
	size_t n;
	int r;

	while (config_is_blank(*s))
		s++;
	if (*s == '\0' || *s == '#')
		return 0;
	start = s;
	while (*s != '\0' && !config_is_blank(*s) && *s != '=')
		s++;
	n = (size_t)(s - start);
	if (n == 0)
		return config_fail(p, "missing keyword");
	if (n > KEYWORD_MAX) {
		start[KEYWORD_MAX] = '\0';
		return config_fail(p, "unknown keyword \"%s\"", config_shown(start, vbuf));
	}
	memcpy(kwbuf, start, n);
	kwbuf[n] = '\0';
	/* sshd allows "Keyword=value" and "Keyword = value". */
	while (config_is_blank(*s))
		s++;
	if (*s == '=')
		s++;

	if (strcasecmp(kwbuf, "Match") == 0)
		return parse_match(p, s);
	if (strcasecmp(kwbuf, "Include") == 0)
		return config_parse_include(p, s);
	kw = keyword_lookup(kwbuf);
	if (kw == NULL) {
		const struct sshd_keyword *k = sshd_keyword_lookup(kwbuf);

		if (k != NULL)
			return sshd_keyword_parse(p, k, p->cur != 0, s);
		return config_fail(p, "unknown keyword \"%s\"", config_shown(kwbuf, vbuf));
	}
	if ((r = current_block(p, &b)) < 0)
		return r;
	return parse_keyword(p, b, kw, s);
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

/* Each keyword's default from the table, read by the same parser as the
 * file into a block of their own; a repeatable keyword's default has a
 * line per occurrence. */
static int
parse_defaults(struct parser *p, struct block *b)
{
	char buf[LINE_MAX_BYTES + 1];
	size_t k, n;
	int r;

	for (k = 0; k < KW__COUNT; k++) {
		const struct keyword *kw = keyword_by_id((enum kw_id)k);
		const char *d = kw->dflt;

		while (d != NULL) {
			n = strcspn(d, "\n");
			if (n > LINE_MAX_BYTES)
				return -EINVAL;
			memcpy(buf, d, n);
			buf[n] = '\0';
			r = parse_keyword(p, b, kw, buf);
			if (r < 0)
				return r;
			d = d[n] == '\n' ? d + n + 1 : NULL;
		}
	}
	return 0;
}

int
config_new(struct config **ret, char *err, size_t errlen)
{
	struct parser p = { .path = "built-in defaults", .line = 1, .err = err,
	    .errlen = errlen };
	int r;

	p.cfg = calloc(1, sizeof(*p.cfg));
	if (p.cfg == NULL)
		return -ENOMEM;
	p.cfg->blocks = calloc(1, sizeof(struct block));
	if (p.cfg->blocks == NULL) {
		config_free(p.cfg);
		return -ENOMEM;
	}
	p.cfg->n_blocks = p.cfg->cap_blocks = 1;
	r = parse_defaults(&p, &p.cfg->defaults);
	if (r < 0) {
		config_free(p.cfg);
		return r;
	}
	*ret = p.cfg;
	return 0;
}

/* Cross-keyword checks on the values that apply, reported at the line of
 * the later keyword. */
static int
check_global(struct parser *p)
{
	const struct block *g = &p->cfg->blocks[0];
	unsigned bt = g->set[KW_BanTime], btm = g->set[KW_BanTimeMax];
	struct settings *s = NULL;
	int r;

	r = config_resolve(p->cfg, NULL, &s);
	if (r < 0)
		return r;
	if (s->ban_time_max < s->ban_time) {
		p->line = bt > btm ? bt : btm;
		r = config_fail(p, "BanTimeMax (%u s) is shorter than BanTime "
		    "(%u s)", s->ban_time_max, s->ban_time);
	}
	if (r == 0 && s->ban_store != NULL && strncmp(s->ban_store, "file:", 5) == 0 &&
	    strcmp(s->ban_store + 5, s->ban_file) != 0) {
		unsigned bs = g->set[KW_BanStore], bf = g->set[KW_BanFile];

		p->line = bs > bf ? bs : bf;
		r = config_fail(p, "BanStore file:%s and BanFile %s name two ban "
		    "files", s->ban_store + 5, s->ban_file);
	}
	/* As sshd refuses to start: no list of the global lines can be
	 * completed with the methods enabled globally.  A list that a Match
	 * block's settings disable is skipped at login, as sshd skips it. */
	if (r == 0 && am_start(&(struct am_progress){ 0 },
	    &s->authentication_methods, am_enabled(s)) == 0) {
		p->line = g->set[KW_AuthenticationMethods];
		r = config_fail(p, "AuthenticationMethods cannot be satisfied "
		    "by enabled authentication methods (each list names a "
		    "method that is disabled)");
	}
	settings_free(s);
	return r;
}

/* Fails at the line of block b that set keyword id, in its file. */
__attribute__((format(printf, 4, 5)))
static int
fail_at(struct parser *p, const struct block *b, enum kw_id id,
    const char *fmt, ...)
{
	struct parser at = *p;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (b->set_in[id] < p->cfg->n_files)
		at.path = p->cfg->files[b->set_in[id]];
	at.line = b->set[id];
	return config_fail(&at, "%s", msg);
}

static const char *
str_setting(const struct block *b, enum kw_id id)
{
	return *(char *const *)kw_cfield(&b->s, keyword_by_id(id));
}

/* AuthorizedKeysCommand needs AuthorizedKeysCommandUser, as in sshd,
 * which would otherwise not know whom to run it as (and so does
 * AuthorizedPrincipalsCommand its user).  Checked for the global section
 * and for each Match block with the global values under it; a refusal
 * names the line that leaves the command without a user. */
static int
check_command_user(struct parser *p, enum kw_id cmd, enum kw_id user)
{
	const struct block *g = &p->cfg->blocks[0];
	const char *cn = keyword_by_id(cmd)->name, *un = keyword_by_id(user)->name;

	for (size_t i = 0; i < p->cfg->n_blocks; i++) {
		const struct block *b = &p->cfg->blocks[i];
		const struct block *bc = b->set[cmd] ? b : g;
		const struct block *bu = b->set[user] ? b : g;

		if (bc->set[cmd] == 0 || str_setting(bc, cmd) == NULL ||
		    (bu->set[user] != 0 && str_setting(bu, user) != NULL))
			continue;
		if (bc == b)
			return fail_at(p, b, cmd, "%s needs %s (the user it runs "
			    "as)%s", cn, un, i > 0 ? " in this Match block or the "
			    "global section" : "");
		return fail_at(p, b, user, "%s none leaves %s without a user to "
		    "run as", un, cn);
	}
	return 0;
}

static int
check_keys_command(struct parser *p)
{
	int r = check_command_user(p, KW_AuthorizedKeysCommand,
	    KW_AuthorizedKeysCommandUser);

	return r < 0 ? r : check_command_user(p, KW_AuthorizedPrincipalsCommand,
	    KW_AuthorizedPrincipalsCommandUser);
}

/* Opens path for reading; a FIFO or socket could block the handler
 * forever, so only regular files and character devices. */
int
config_open_file(const char *path, FILE **ret)
{
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	else if ((*ret = fdopen(fd, "re")) == NULL)
		r = -errno;
	else
		return 0;
	close(fd);
	return r;
}

/* Every line of f into p->cfg. */
int
config_parse_file(struct parser *p, FILE *f)
{
	char *buf;
	int r;

	buf = malloc(LINE_MAX_BYTES + 1);
	if (buf == NULL)
		return -ENOMEM;
	for (;;) {
		p->line++;
		r = read_line(f, buf);
		if (r == 0)
			break;
		/* Counted after the read: a file of exactly the maximum
		 * is fine, only a line past it is refused.  Included files
		 * count with the file that includes them. */
		if (++p->inc->lines > FILE_MAX_LINES)
			r = config_fail(p, "too many lines (more than %d)",
			    FILE_MAX_LINES);
		else if (r == -E2BIG)
			r = config_fail(p, "line too long (more than %d bytes)",
			    LINE_MAX_BYTES);
		else if (r == -EBADMSG)
			r = config_fail(p, "NUL byte in line");
		else if (r < 0)
			break;		/* a read error: config_load words it */
		else if ((r = parse_line(p, buf)) == -ENOMEM && p->err != NULL &&
		    p->errlen > 0)
			snprintf(p->err, p->errlen, "%s:%u: %s", p->path,
			    p->line, strerror(ENOMEM));
		if (r < 0)
			break;
	}
	free(buf);
	return r;
}

const char *
config_host_key_where(const struct config *cfg, const char *path)
{
	const struct strlist *l;

	if (cfg == NULL || cfg->n_blocks == 0 || path == NULL)
		return NULL;
	l = &cfg->blocks[0].s.host_keys;
	for (size_t i = 0; i < l->n && i < cfg->host_key_where.n; i++)
		if (strcmp(l->v[i], path) == 0)
			return cfg->host_key_where.v[i];
	return NULL;
}

int
config_load_dir(const char *path, const char *include_dir,
    struct config **ret, char *err, size_t errlen)
{
	struct include_state inc = { .dir = include_dir };
	struct parser p = { .path = path, .err = err, .errlen = errlen,
	    .inc = &inc };
	struct stat st;
	FILE *f = NULL;
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path == NULL || include_dir == NULL || ret == NULL)
		return -EINVAL;
	r = config_open_file(path, &f);
	if (r == 0 && fstat(fileno(f), &st) < 0)
		r = -errno;
	if (r == 0) {
		inc.chain[0].dev = st.st_dev;
		inc.chain[0].ino = st.st_ino;
		r = config_new(&p.cfg, err, errlen);
	}
	if (r == 0)
		r = config_file_add(&p);
	if (r == 0)
		r = config_parse_file(&p, f);
	if (r == 0)
		r = check_global(&p);
	if (r == 0)
		r = check_keys_command(&p);
	if (f != NULL)
		fclose(f);
	if (r < 0) {
		/* Errors of the system rather than of a line. */
		if (err != NULL && errlen > 0 && err[0] == '\0')
			snprintf(err, errlen, "%s: %s", path, strerror(-r));
		config_free(p.cfg);
		return r;
	}
	*ret = p.cfg;
	return 0;
}

int
config_load(const char *path, struct config **ret, char *err, size_t errlen)
{
	return config_load_dir(path, SSHAND_CONFIG_DIR, ret, err, errlen);
}
