/* Resolution: the settings of one connection, from the built-in defaults,
 * the global section and the Match blocks that apply to it; and the
 * copying and releasing of values that it needs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/algorithms.h"
#include "policy/config-internal.h"
#include "policy/match.h"

/* ---------------------------------------------------------------- */
/* Lists */

void
config_strlist_clear(struct strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
config_strlist_add(struct strlist *l, const char *v)
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

int
config_subsystem_add(struct settings *s, const char *name, const char *command)
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

/* ---------------------------------------------------------------- */
/* Copying and releasing, by storage (the kw_ops of config-values.c) */

int
config_copy_scalar(struct settings *dst, const struct settings *src,
    const struct keyword *kw)
{
	memcpy(kw_field(dst, kw), kw_cfield(src, kw), kw_ops_of(kw->type)->size);
	return 0;
}

int
config_copy_str(struct settings *dst, const struct settings *src,
    const struct keyword *kw)
{
	const char *v = *(char *const *)kw_cfield(src, kw);
	char **field = kw_field(dst, kw), *c = NULL;

	if (v != NULL && (c = strdup(v)) == NULL)
		return -ENOMEM;
	free(*field);
	*field = c;
	return 0;
}

int
config_copy_list(struct settings *dst, const struct settings *src,
    const struct keyword *kw)
{
	const struct strlist *from = kw_cfield(src, kw);
	struct strlist n = { NULL, 0 }, *to = kw_field(dst, kw);
	size_t i;
	int r;

	for (i = 0; i < from->n; i++) {
		r = config_strlist_add(&n, from->v[i]);
		if (r < 0) {
			config_strlist_clear(&n);
			return r;
		}
	}
	config_strlist_clear(to);
	*to = n;
	return 0;
}

void
config_clear_subsystems(struct settings *s, const struct keyword *kw)
{
	size_t i;

	(void)kw;
	for (i = 0; i < s->n_subsystems; i++) {
		free(s->subsystems[i].name);
		free(s->subsystems[i].command);
	}
	free(s->subsystems);
	s->subsystems = NULL;
	s->n_subsystems = 0;
}

int
config_copy_subsystems(struct settings *dst, const struct settings *src,
    const struct keyword *kw)
{
	struct settings tmp;
	size_t i;
	int r;

	memset(&tmp, 0, sizeof(tmp));
	for (i = 0; i < src->n_subsystems; i++) {
		r = config_subsystem_add(&tmp, src->subsystems[i].name,
		    src->subsystems[i].command);
		if (r < 0) {
			config_clear_subsystems(&tmp, kw);
			return r;
		}
	}
	config_clear_subsystems(dst, kw);
	dst->subsystems = tmp.subsystems;
	dst->n_subsystems = tmp.n_subsystems;
	return 0;
}

void
config_clear_str(struct settings *s, const struct keyword *kw)
{
	char **field = kw_field(s, kw);

	free(*field);
	*field = NULL;
}

void
config_clear_list(struct settings *s, const struct keyword *kw)
{
	config_strlist_clear(kw_field(s, kw));
}

void
config_settings_clear(struct settings *s)
{
	size_t k;

	for (k = 0; k < KW__COUNT; k++) {
		const struct keyword *kw = keyword_by_id((enum kw_id)k);
		const struct kw_ops *t = kw_ops_of(kw->type);

		if (t->clear != NULL)
			t->clear(s, kw);
	}
	memset(s, 0, sizeof(*s));
}

void
settings_free(struct settings *s)
{
	if (s == NULL)
		return;
	config_settings_clear(s);
	free(s);
}

static void
block_clear(struct block *b)
{
	size_t j;

	for (j = 0; j < b->n_crit; j++)
		free(b->crit[j].list);
	free(b->crit);
	config_settings_clear(&b->s);
}

void
config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	block_clear(&cfg->defaults);
	for (i = 0; i < cfg->n_blocks; i++)
		block_clear(&cfg->blocks[i]);
	free(cfg->blocks);
	config_strlist_clear(&cfg->notices);
	config_strlist_clear(&cfg->host_key_where);
	for (i = 0; i < cfg->n_files; i++)
		free(cfg->files[i]);
	free(cfg->files);
	free(cfg);
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
criterion_matches(const struct criterion *c, const struct match_ctx *ctx)
{
	switch (c->type) {
	case CRIT_ALL:
		return true;
	case CRIT_USER:
		return ctx != NULL && ctx->user != NULL &&
		    match_pattern_list(ctx->user, c->list) == 1;
	case CRIT_GROUP:
		return ctx != NULL && ctx->user != NULL &&
		    groups_match(ctx, c->list);
	case CRIT_ADDRESS:
		return ctx != NULL && ctx->addr != NULL &&
		    match_addr_list(ctx->addr, c->list) == 1;
	}
	return false;
}

static bool
block_matches(const struct block *b, const struct match_ctx *ctx)
{
	size_t i;

	for (i = 0; i < b->n_crit; i++)
		if (!criterion_matches(&b->crit[i], ctx))
			return false;
	return true;
}

/* Makes b the source of every keyword it sets that has none yet. */
static void
take(const struct block **from, const struct block *b)
{
	size_t k;

	for (k = 0; k < KW__COUNT; k++)
		if (b->set[k] != 0 && from[k] == NULL)
			from[k] = b;
}

/* sshd's AllowUsers, DenyUsers, AllowGroups and DenyGroups take the
 * lines of every matching Match block, in order, and those replace the
 * global ones (sshd appends each line it reads to the list, and copies
 * a Match's list over the global one when it has one). */
static int
accumulate(const struct config *cfg, const struct match_ctx *ctx,
    struct settings *s)
{
	for (size_t k = 0; k < KW__COUNT; k++) {
		const struct keyword *kw = keyword_by_id((enum kw_id)k);
		struct strlist l = { NULL, 0 };
		int r = 0;

		if (!kw_ops_of(kw->type)->accumulate)
			continue;
		for (size_t i = 1; i < cfg->n_blocks && r == 0; i++) {
			const struct strlist *from = kw_cfield(&cfg->blocks[i].s, kw);

			if (cfg->blocks[i].set[k] == 0 ||
			    !block_matches(&cfg->blocks[i], ctx))
				continue;
			for (size_t j = 0; j < from->n && r == 0; j++)
				r = config_strlist_add(&l, from->v[j]);
		}
		if (r < 0) {
			config_strlist_clear(&l);
			return r;
		}
		if (l.n > 0) {
			config_strlist_clear(kw_field(s, kw));
			*(struct strlist *)kw_field(s, kw) = l;
		}
	}
	return 0;
}

int
config_resolve(const struct config *cfg, const struct match_ctx *ctx,
    struct settings **ret)
{
	const struct block *from[KW__COUNT] = { NULL };
	struct settings *s;
	size_t i, k;
	int r;

	if (cfg == NULL || ret == NULL || cfg->n_blocks == 0)
		return -EINVAL;
	/* As in sshd, the first matching Match block to set a keyword
	 * wins; then the global section; then the built-in default. */
	for (i = 1; i < cfg->n_blocks; i++)
		if (block_matches(&cfg->blocks[i], ctx))
			take(from, &cfg->blocks[i]);
	take(from, &cfg->blocks[0]);
	take(from, &cfg->defaults);

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	for (k = 0; k < KW__COUNT; k++) {
		const struct keyword *kw = keyword_by_id((enum kw_id)k);

		if (from[k] == NULL)
			continue;
		r = kw_ops_of(kw->type)->copy(s, &from[k]->s, kw);
		if (r < 0) {
			settings_free(s);
			return r;
		}
	}
	r = accumulate(cfg, ctx, s);
	if (r < 0) {
		settings_free(s);
		return r;
	}
	/* SubsystemSandboxProfile has no default of its own: not set, it is
	 * the SandboxProfile that applies to this connection. */
	if (from[KW_SubsystemSandboxProfile] == NULL)
		s->subsystem_sandbox_profile = s->sandbox_profile;
	/* BanStore file:PATH names the ban file, unless BanFile does (a
	 * BanFile naming another is refused at load, config.c). */
	if (s->ban_store != NULL && strncmp(s->ban_store, "file:", 5) == 0 &&
	    from[KW_BanFile] == &cfg->defaults) {
		char *path = strdup(s->ban_store + 5);

		if (path == NULL) {
			settings_free(s);
			return -ENOMEM;
		}
		free(s->ban_file);
		s->ban_file = path;
	}
	/* Neither has NoNewPrivileges: strict implies it. */
	if (from[KW_NoNewPrivileges] == NULL)
		s->no_new_privileges = s->sandbox_profile == SANDBOX_STRICT;
	*ret = s;
	return 0;
}

bool
config_may_grant_privileges(const struct config *cfg)
{
	const struct block *g;
	bool global_yes;
	size_t i;

	if (cfg == NULL || cfg->n_blocks == 0)
		return true;
	g = &cfg->blocks[0];
	global_yes = g->set[KW_NoNewPrivileges] && g->s.no_new_privileges;
	if (g->set[KW_NoNewPrivileges] && !global_yes)
		return true;
	/* Not set globally: the profile decides, the global one for a
	 * connection that no Match block changes. */
	if (!global_yes && (!g->set[KW_SandboxProfile] ||
	    g->s.sandbox_profile != SANDBOX_STRICT))
		return true;
	for (i = 1; i < cfg->n_blocks; i++) {
		const struct block *b = &cfg->blocks[i];

		if (b->set[KW_NoNewPrivileges] && !b->s.no_new_privileges)
			return true;
		if (!global_yes && !b->set[KW_NoNewPrivileges] &&
		    b->set[KW_SandboxProfile] && b->s.sandbox_profile != SANDBOX_STRICT)
			return true;
	}
	return false;
}

int
config_defaults(struct settings **ret)
{
	struct config *cfg = NULL;
	int r;

	if (ret == NULL)
		return -EINVAL;
	r = config_new(&cfg, NULL, 0);
	if (r < 0)
		return r;
	r = config_resolve(cfg, NULL, ret);
	config_free(cfg);
	return r;
}

int
config_settings(const char *path, struct settings **ret, char *err, size_t errlen)
{
	struct config *cfg = NULL;
	int r = config_load(path, &cfg, err, errlen);

	if (r == -ENOENT)
		return config_defaults(ret);
	if (r < 0)
		return r;
	r = config_resolve(cfg, NULL, ret);
	config_free(cfg);
	if (r < 0 && err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
	return r;
}

const char *
config_notice(const struct config *cfg, size_t i)
{
	return cfg != NULL && i < cfg->notices.n ? cfg->notices.v[i] : NULL;
}

/* Adds list's names that buf lacks to buf. */
static int
union_add(char *buf, size_t len, size_t *used, const char *list)
{
	for (const char *p = list; *p != '\0';) {
		size_t n = strcspn(p, ",");
		char name[128];

		if (n < sizeof(name)) {
			memcpy(name, p, n);
			name[n] = '\0';
			if (!algo_list_has(buf, name)) {
				if (*used + n + 2 > len)
					return -E2BIG;
				*used += (size_t)snprintf(buf + *used, len - *used,
				    "%s%s", *used > 0 ? "," : "", name);
			}
		}
		p += n + (p[n] == ',');
	}
	return 0;
}

/* libssh checks the algorithm of the signature inside a certificate's
 * request (ssh_packet_userauth_request: "ssh-ed25519" for an
 * ssh-ed25519-cert-v01@openssh.com key) against the same list, so each
 * certificate algorithm brings the plain one it signs with.  The monitor
 * still checks the request's own algorithm against the user's list. */
static int
add_cert_signers(char *buf, size_t len, size_t *used)
{
	static const char suffix[] = "-cert-v01@openssh.com";
	char *copy = strdup(buf), name[128];
	int r = 0;

	if (copy == NULL)
		return -ENOMEM;
	for (const char *p = copy; *p != '\0' && r == 0;) {
		size_t n = strcspn(p, ","), sl = sizeof(suffix) - 1;

		if (n > sl && n < sizeof(name) && memcmp(p + n - sl, suffix, sl) == 0 &&
		    strncmp(p, "sk-", 3) != 0) {
			memcpy(name, p, n - sl);
			name[n - sl] = '\0';
			r = union_add(buf, len, used, name);
		}
		p += n + (p[n] == ',');
	}
	free(copy);
	return r;
}

int
config_pubkey_algorithms_any(const struct config *cfg, char *buf, size_t len)
{
	const struct block *g;
	size_t used = 0;
	int r;

	if (cfg == NULL || cfg->n_blocks == 0 || len == 0)
		return -EINVAL;
	buf[0] = '\0';
	g = &cfg->blocks[0];
	r = union_add(buf, len, &used, algo_effective(ALGO_PUBKEY,
	    g->set[KW_PubkeyAcceptedAlgorithms] ? g->s.pubkey_accepted_algorithms :
	    NULL));
	for (size_t i = 1; i < cfg->n_blocks && r == 0; i++)
		if (cfg->blocks[i].set[KW_PubkeyAcceptedAlgorithms] != 0)
			r = union_add(buf, len, &used, algo_effective(ALGO_PUBKEY,
			    cfg->blocks[i].s.pubkey_accepted_algorithms));
	return r < 0 ? r : add_cert_signers(buf, len, &used);
}
