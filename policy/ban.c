/* The ban file's public operations: check and record failures (sshand),
 * add, remove, look up, list, purge and verify (sshandctl).  The file
 * itself, its format and its locking are in ban-store.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/ban-store.h"
#include "policy/ban.h"

#define MAX_EXEMPT	1024

/* Whether BanExempt covers a (v4-mapped folded first): 1, 0, or a
 * negative errno for an address that is neither IPv4 nor IPv6. */
static int
is_exempt(const struct ban_store *b, const struct netaddr *a)
{
	struct netaddr full;
	unsigned prefix;
	int r;

	r = ban_normalise(a, 128, &full, &prefix);
	if (r < 0)
		return r;
	for (size_t i = 0; i < b->n_exempt; i++)
		if (cidr_contains(&b->exempt[i].net, b->exempt[i].len, &full))
			return 1;
	return 0;
}

/* A connection's source address into *ret, and whether it is exempt. */
static int
source_exempt(const struct ban_store *b, const struct sockaddr *sa,
    struct netaddr *ret)
{
	int r = netaddr_from_sockaddr(sa, ret);

	return r < 0 ? r : is_exempt(b, ret);
}

static int64_t
ban_duration(const struct ban_params *p, uint32_t bans)
{
	uint64_t d = p->ban_time, max = p->ban_time_max;

	if (max < d)
		max = d;
	for (uint32_t i = 1; i < bans && d < max; i++)
		d *= 2;
	return (int64_t)(d < max ? d : max);
}

static void
fresh_entry(struct ban_entry *e, const struct netaddr *k, unsigned prefix)
{
	memset(e, 0, sizeof(*e));
	e->key = *k;
	e->prefix = prefix;
}

void
ban_close(struct ban_store *b)
{
	if (!b)
		return;
	if (b->f.fd >= 0)
		close(b->f.fd);
	free(b->exempt);
	free(b->path);
	free(b);
}

static int
store_open(const char *path, const struct ban_params *p, bool readonly,
    struct ban_store **ret)
{
	struct ban_store *b;
	int r;

	if (!path || !*path || strlen(path) >= PATH_MAX - 16 || !p || !ret ||
	    p->n_exempt > MAX_EXEMPT || (p->n_exempt && !p->exempt))
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->f.fd = -1;
	b->p = *p;
	b->p.exempt = NULL;
	b->p.n_exempt = 0;
	r = ban_geom_for(p, &b->want);
	if (r < 0)
		goto fail;
	r = -ENOMEM;
	b->path = strdup(path);
	if (!b->path)
		goto fail;
	if (p->n_exempt) {
		b->exempt = calloc(p->n_exempt, sizeof(*b->exempt));
		if (!b->exempt)
			goto fail;
	}
	for (size_t i = 0; i < p->n_exempt; i++) {
		r = cidr_parse(p->exempt[i], &b->exempt[i].net, &b->exempt[i].len);
		if (r < 0)
			goto fail;
	}
	b->n_exempt = p->n_exempt;

	b->readonly = readonly;
	r = ban_store_attach(b);
	if (r < 0)
		goto fail;
	*ret = b;
	return 0;
fail:
	ban_close(b);
	return r;
}

int
ban_open(const char *path, const struct ban_params *p, struct ban_store **ret)
{
	return store_open(path, p, false, ret);
}

int
ban_open_readonly(const char *path, const struct ban_params *p, struct ban_store **ret)
{
	return store_open(path, p, true, ret);
}

bool
ban_take_created(struct ban_store *b)
{
	bool c = b->created;

	b->created = false;
	return c;
}

bool
ban_take_damaged(struct ban_store *b)
{
	bool d = b && b->damaged;

	if (b)
		b->damaged = false;
	return d;
}

unsigned
ban_take_migrated(struct ban_store *b)
{
	unsigned v = b ? b->migrated_from : 0;

	if (b)
		b->migrated_from = 0;
	return v;
}

/* The entry of a's key (as the file stores it: v4-mapped folded, IPv6
 * masked), read under the shared lock: 1 and *ret, 0 if there is none,
 * or a negative errno. */
static int
store_find(struct ban_store *b, const struct netaddr *a, struct ban_entry *ret)
{
	struct ban_pair *p;
	int r;

	r = ban_store_load(b, F_RDLCK, a, &p);
	if (r < 0)
		return r;
	ban_store_unlock(b);
	if (p->damaged)
		b->damaged = true;
	if (p->fb >= 0)
		*ret = p->st[p->fb][p->fi].e;
	r = p->fb >= 0;
	free(p);
	return r;
}

int
ban_check(struct ban_store *b, const struct sockaddr *sa, int64_t now,
    int64_t *ret_until, bool *ret_damaged)
{
	struct ban_entry e;
	struct netaddr a;
	int r, banned = 0;

	if (!b || !sa)
		return -EINVAL;
	r = source_exempt(b, sa, &a);
	if (r < 0)
		return r;
	if (r == 0) {
		r = store_find(b, &a, &e);
		if (r < 0)
			return r;
		if (r > 0 && e.banned_until > now) {
			if (ret_until)
				*ret_until = e.banned_until;
			banned = 1;
		}
	}
	if (ret_damaged)
		*ret_damaged = ban_take_damaged(b);
	return banned;
}

/* Read-modify-write of one key under the exclusive lock.  update returns
 * <0 to abort, 0 to write e, 1 to write nothing. */
static int
store_update(struct ban_store *b, const struct netaddr *a, int64_t now,
    int (*update)(struct ban_store *, struct ban_entry *, bool found, int64_t now, void *),
    void *userdata)
{
	struct ban_entry e;
	struct ban_pair *p;
	int j, i, r;

	r = ban_store_load(b, F_WRLCK, a, &p);
	if (r < 0)
		return r;
	if (p->fb >= 0) {
		j = p->fb;
		i = p->fi;
		e = p->st[j][i].e;
	} else {
		ban_pair_choose(&b->p, p, now, &j, &i);
		fresh_entry(&e, &p->key, p->prefix);
	}
	r = update(b, &e, p->fb >= 0, now, userdata);
	if (r == 0)
		r = ban_slot_publish(&b->f, ban_pair_idx(p, j, i), &p->s[j][i], &p->st[j][i],
		    e.key.family ? &e : NULL);
	else if (r > 0)
		r = 0;
	ban_store_unlock(b);
	free(p);
	return r;
}

struct fail_ctx {
	unsigned weight;
	int64_t banned_until;		/* set if this failure started a ban */
	bool banned;			/* banned after this failure */
};

static int
fail_update(struct ban_store *b, struct ban_entry *e, bool found, int64_t now,
    void *userdata)
{
	struct fail_ctx *c = userdata;
	uint64_t limit = (uint64_t)b->p.max_failures * BAN_FAIL_UNIT;

	(void)found;
	e->total_failures = ban_sat_add(e->total_failures, c->weight);
	e->last_failure = now;
	if (e->banned_until > now) {
		/* A straggler: another connection's failure banned it. */
		c->banned = true;
		return 0;
	}
	if (e->failures == 0 || now < e->window_start ||
	    now - e->window_start >= (int64_t)b->p.find_time) {
		e->failures = 0;
		e->window_start = now;
	}
	e->failures = ban_sat_add(e->failures, c->weight);
	if (e->failures >= limit) {
		int64_t d;

		e->bans = ban_sat_add(e->bans, 1);
		d = ban_duration(&b->p, e->bans);
		e->failures = 0;
		e->window_start = 0;
		if (d > 0) {
			e->banned_until = now + d;
			c->banned_until = e->banned_until;
			c->banned = true;
		}
	}
	return 0;
}

int
ban_record_failure(struct ban_store *b, const struct sockaddr *sa,
    unsigned weight, int64_t now, int64_t *ret_banned_until)
{
	struct fail_ctx c = { .weight = weight, .banned_until = 0, .banned = false };
	struct netaddr a;
	int r;

	if (!b || !sa || weight == 0 || weight > 64 * BAN_FAIL_UNIT)
		return -EINVAL;
	r = source_exempt(b, sa, &a);
	if (r < 0)
		return r;
	if (b->p.max_failures > 0 && r == 0) {
		r = store_update(b, &a, now, fail_update, &c);
		if (r < 0)
			return r;
	}
	if (ret_banned_until)
		*ret_banned_until = c.banned_until;
	return c.banned ? 1 : 0;
}

struct add_ctx {
	unsigned duration;
};

static int
add_update(struct ban_store *b, struct ban_entry *e, bool found, int64_t now,
    void *userdata)
{
	struct add_ctx *c = userdata;
	int64_t d;

	(void)found;
	e->bans = ban_sat_add(e->bans, 1);
	d = c->duration ? (int64_t)c->duration : ban_duration(&b->p, e->bans);
	if (d <= 0)
		d = 1;
	e->banned_until = now + d;
	e->failures = 0;
	e->window_start = 0;
	return 0;
}

int
ban_add(struct ban_store *b, const struct netaddr *a, unsigned duration, int64_t now)
{
	struct add_ctx c = { .duration = duration };
	int r;

	if (!b || !a)
		return -EINVAL;
	r = is_exempt(b, a);
	if (r < 0)
		return r;
	if (r > 0)
		return -EPERM;
	return store_update(b, a, now, add_update, &c);
}

struct mirror_ctx {
	int64_t until;
	uint32_t bans;
	bool changed;
};

static int
mirror_update(struct ban_store *b, struct ban_entry *e, bool found, int64_t now,
    void *userdata)
{
	struct mirror_ctx *c = userdata;

	(void)b, (void)found, (void)now;
	if (e->banned_until >= c->until)
		return 1;
	e->banned_until = c->until;
	if (e->bans < c->bans)
		e->bans = c->bans;
	e->failures = 0;
	e->window_start = 0;
	c->changed = true;
	return 0;
}

int
ban_mirror(struct ban_store *b, const struct netaddr *a, int64_t until,
    uint32_t bans, int64_t now)
{
	struct mirror_ctx c = { .until = until, .bans = bans ? bans : 1, .changed = false };
	struct netaddr k;
	unsigned prefix;
	int r;

	if (!b || !a || b->readonly)
		return -EINVAL;
	if (until <= now)
		return 0;
	/* The key as this file stores it: a fleet network that holds an
	 * exempt address is not entered whole. */
	r = ban_normalise(a, b->p.ipv6_prefix, &k, &prefix);
	if (r < 0)
		return r;
	r = ban_exempt_overlaps(b, &k, prefix);
	if (r != 0)
		return r < 0 ? r : -EPERM;
	r = store_update(b, a, now, mirror_update, &c);
	return r < 0 ? r : c.changed;
}

static int
remove_update(struct ban_store *b, struct ban_entry *e, bool found, int64_t now,
    void *userdata)
{
	(void)b, (void)now, (void)userdata;
	if (!found)
		return -ENOENT;
	memset(e, 0, sizeof(*e));	/* family 0: publish a free slot */
	return 0;
}

int
ban_remove(struct ban_store *b, const struct netaddr *a)
{
	if (!b || !a)
		return -EINVAL;
	return store_update(b, a, 0, remove_update, NULL);
}

int
ban_lookup(struct ban_store *b, const struct netaddr *a, struct ban_entry *ret)
{
	int r;

	if (!b || !a || !ret)
		return -EINVAL;
	r = store_find(b, a, ret);
	return r == 0 ? -ENOENT : r < 0 ? r : 0;
}

struct foreach_ctx {
	int (*fn)(const struct ban_entry *, void *);
	void *userdata;
};

static int
foreach_one(uint64_t idx, const struct ban_slot *s, const struct ban_slot_state *st,
    void *userdata)
{
	struct foreach_ctx *c = userdata;

	(void)idx, (void)s;
	return st->used ? c->fn(&st->e, c->userdata) : 0;
}

int
ban_foreach(struct ban_store *b, int (*fn)(const struct ban_entry *, void *), void *userdata)
{
	struct foreach_ctx c = { .fn = fn, .userdata = userdata };

	if (!b || !fn)
		return -EINVAL;
	return ban_store_walk(b, F_RDLCK, !b->readonly, foreach_one, &c);
}

struct purge_ctx {
	struct ban_store *b;
	int64_t now;
	bool all;
	int count;
};

static int
purge_one(uint64_t idx, const struct ban_slot *s, const struct ban_slot_state *st,
    void *userdata)
{
	struct purge_ctx *c = userdata;

	if (st->used && !c->all && !ban_reclaimable(&c->b->p, &st->e, c->now)) {
		/* Kept: rewriting it replaces a damaged stale copy. */
		return st->damaged ? ban_slot_publish(&c->b->f, idx, s, st, &st->e) : 0;
	}
	if (st->used && c->count < INT_MAX)
		c->count++;
	if (c->all || (!st->used && !st->damaged))
		return 0;
	return ban_slot_publish(&c->b->f, idx, s, st, NULL);
}

int
ban_purge(struct ban_store *b, int64_t now, bool all)
{
	struct purge_ctx c = { .b = b, .now = now, .all = all, .count = 0 };
	int r;

	if (!b)
		return -EINVAL;
	r = ban_store_lock(b, F_WRLCK, true);
	if (r < 0)
		return r;
	r = ban_file_scan(&b->f, purge_one, &c);
	/* Everything: a fresh empty table is quicker than a million slot
	 * writes, and a crash half-way is seen as damage and rebuilt. */
	if (r == 0 && all) {
		b->f.g = b->want;
		r = ban_file_init(b->f.fd, &b->f.g);
	}
	ban_store_unlock(b);
	return r < 0 ? r : c.count;
}

struct verify_ctx {
	const struct ban_store *b;	/* its geometry is valid while locked */
	bool bad;
};

static int
verify_one(uint64_t idx, const struct ban_slot *s, const struct ban_slot_state *st,
    void *userdata)
{
	struct verify_ctx *c = userdata;
	const struct ban_geom *g = &c->b->f.g;
	uint32_t bk[2];

	(void)s;
	if (st->damaged)
		c->bad = true;
	if (!st->used)
		return 0;
	if (st->e.key.family == AF_INET6 && st->e.prefix != g->ipv6_prefix)
		c->bad = true;
	ban_buckets(g, &st->e.key, bk);
	if (idx / BAN_BUCKET_SLOTS != bk[0] && idx / BAN_BUCKET_SLOTS != bk[1])
		c->bad = true;
	return 0;
}

int
ban_verify(struct ban_store *b)
{
	struct verify_ctx c = { .b = b, .bad = false };
	int r;

	if (!b)
		return -EINVAL;
	/* Nothing repaired: a damaged header or size is reported as is. */
	r = ban_store_walk(b, F_RDLCK, false, verify_one, &c);
	if (r < 0)
		return r;
	return c.bad ? -EBADMSG : 0;
}

int
ban_addr_parse(const char *s, struct netaddr *ret)
{
	unsigned len;

	return cidr_parse(s, ret, &len);
}

int
ban_key(const struct netaddr *a, unsigned ipv6_prefix, struct netaddr *ret,
    unsigned *ret_prefix)
{
	if (!a || !ret || !ret_prefix || ipv6_prefix < 1 || ipv6_prefix > 128)
		return -EINVAL;
	return ban_normalise(a, ipv6_prefix, ret, ret_prefix);
}

int
ban_entry_format_addr(const struct ban_entry *e, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int n;

	if (!e || !buf)
		return -EINVAL;
	if (!inet_ntop(e->key.family, e->key.a, a, sizeof(a)))
		return -errno;
	if (e->key.family == AF_INET6)
		n = snprintf(buf, len, "%s/%u", a, e->prefix);
	else
		n = snprintf(buf, len, "%s", a);
	return n < 0 || (size_t)n >= len ? -ENOBUFS : 0;
}
