/* The ban file's migration (see ban-store.c's top comment): a file of
 * another geometry or of format version 1 is replaced, under the
 * exclusive lock, by one of the wanted geometry and this version, with
 * every entry carried over. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "policy/ban-store.h"

/* Inserts or replaces e at its key.  Called with the exclusive lock. */
static int
file_put(const struct ban_file *f, const struct ban_params *prm,
    const struct ban_entry *e, int64_t now)
{
	struct ban_pair *p;
	int j, i, r;

	p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	r = ban_pair_load(f, &e->key, e->prefix, p);
	if (r == 0) {
		if (p->fb >= 0) {
			j = p->fb;
			i = p->fi;
		} else
			ban_pair_choose(prm, p, now, &j, &i);
		r = ban_slot_publish(f, ban_pair_idx(p, j, i), &p->s[j][i], &p->st[j][i], e);
	}
	free(p);
	return r;
}

struct migrate_ctx {
	struct ban_file *to;
	const struct ban_params *p;
	int64_t now;
	uint32_t scale;		/* old failure unit to BAN_FAIL_UNIT */
};

static uint32_t
sat_mul(uint32_t a, uint32_t b)
{
	return b && a > UINT32_MAX / b ? UINT32_MAX : a * b;
}

static int
migrate_one(uint64_t idx, const struct ban_slot *s, const struct ban_slot_state *st,
    void *userdata)
{
	struct migrate_ctx *m = userdata;
	struct ban_entry e;
	struct ban_pair *p;
	int r;

	(void)idx, (void)s;
	/* Everything is carried over (even what looks expired: ban_open has
	 * no notion of the caller's clock); purge reclaims it later. */
	if (!st->used)
		return 0;
	e = st->e;
	e.failures = sat_mul(e.failures, m->scale);
	e.total_failures = sat_mul(e.total_failures, m->scale);
	r = ban_normalise(&st->e.key, m->to->g.ipv6_prefix, &e.key, &e.prefix);
	if (r < 0)
		return 0;
	p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	r = ban_pair_load(m->to, &e.key, e.prefix, p);
	if (r == 0 && p->fb >= 0) {
		/* Networks merged by a shorter prefix: keep the worst. */
		const struct ban_entry *o = &p->st[p->fb][p->fi].e;

		e.failures = e.failures > o->failures ? e.failures : o->failures;
		e.total_failures = ban_sat_add(e.total_failures, o->total_failures);
		e.bans = e.bans > o->bans ? e.bans : o->bans;
		if (o->banned_until > e.banned_until)
			e.banned_until = o->banned_until;
		if (o->last_failure > e.last_failure)
			e.last_failure = o->last_failure;
	}
	free(p);
	if (r < 0)
		return r;
	r = file_put(m->to, m->p, &e, m->now);
	return r < 0 ? r : 0;
}

/* See ban-store.h. */
int
ban_store_migrate(struct ban_store *b)
{
	struct migrate_ctx m;
	struct ban_file to;
	char *tmp;
	int r;

	r = ban_file_tmp_create(b->path, &tmp, &to.fd);
	if (r < 0)
		return r;
	to.g = b->want;
	r = ban_file_init(to.fd, &to.g);
	if (r == 0) {
		m.to = &to;
		m.p = &b->p;
		m.now = time(NULL);
		m.scale = b->f.g.version == BAN_VERSION_V1 ?
		    BAN_FAIL_UNIT / BAN_V1_FAIL_UNIT : 1;
		r = ban_file_scan(&b->f, migrate_one, &m);
	}
	if (r == 0 && rename(tmp, b->path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		close(to.fd);
	} else {
		close(b->f.fd);		/* releases the old lock */
		b->f = to;
	}
	free(tmp);
	return r;
}
