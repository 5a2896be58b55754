/* Encoding and validation of the ban file's header and slots, and the
 * address keys.  See the format description at the top of
 * ban-store.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/ban-format.h"

_Static_assert(sizeof(struct ban_header) == 64, "header layout");
_Static_assert(sizeof(struct ban_copy) == BAN_COPY_SIZE, "copy layout");
_Static_assert(sizeof(struct ban_slot) == BAN_SLOT_SIZE, "slot layout");
_Static_assert(offsetof(struct ban_copy, check) == 4, "check follows seq");
_Static_assert(offsetof(struct ban_header, check) == 56, "header check last");

/* The header cannot be keyed by the file's own key (it holds it), so it is
 * checked with a fixed one: this detects damage, not forgery. */
static const uint8_t header_key[16] = "sshand-ban-hdr-1";

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static uint64_t
load64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

/* SipHash-2-4: keyed, so an attacker choosing IPv6 networks cannot aim
 * them all at one bucket, and well mixed enough to detect torn copies. */
uint64_t
ban_siphash(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *in = data;
	uint64_t k0 = load64(key), k1 = load64(key + 8);
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
	uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
	uint64_t v3 = 0x7465646279746573ULL ^ k1;
	uint64_t m, b = (uint64_t)len << 56;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		m = load64(in + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; i + j < len; j++)
		b |= (uint64_t)in[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

int
ban_geom_for(const struct ban_params *p, struct ban_geom *ret)
{
	uint64_t slots;

	if (p->max_entries == 0 || p->max_entries > BAN_MAX_ENTRIES_LIMIT ||
	    p->ipv6_prefix < 1 || p->ipv6_prefix > 128)
		return -EINVAL;
	/* Load factor at most 2/3 with two 8-slot buckets per key: a bucket
	 * pair overflows (and evicts early) only rarely before max_entries. */
	slots = (uint64_t)p->max_entries * 3 / 2 + 1;
	ret->nbuckets = (uint32_t)((slots + BAN_BUCKET_SLOTS - 1) / BAN_BUCKET_SLOTS);
	if (ret->nbuckets < 2)
		ret->nbuckets = 2;
	ret->ipv6_prefix = p->ipv6_prefix;
	ret->version = BAN_VERSION;
	return 0;
}

uint64_t
ban_file_size(const struct ban_geom *g)
{
	return BAN_HEADER_SIZE + (uint64_t)g->nbuckets * BAN_BUCKET_SIZE;
}

void
ban_header_encode(const struct ban_geom *g, struct ban_header *ret)
{
	struct ban_header h;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, BAN_MAGIC, sizeof(h.magic));
	h.version = BAN_VERSION;
	h.header_size = BAN_HEADER_SIZE;
	h.slot_size = BAN_SLOT_SIZE;
	h.bucket_slots = BAN_BUCKET_SLOTS;
	h.nbuckets = g->nbuckets;
	h.ipv6_prefix = g->ipv6_prefix;
	memcpy(h.key, g->key, sizeof(h.key));
	ban_header_seal(&h);
	*ret = h;
}

void
ban_header_seal(struct ban_header *h)
{
	h->check = ban_siphash(header_key, h, offsetof(struct ban_header, check));
}

int
ban_header_decode(const struct ban_header *h, struct ban_geom *ret)
{
	bool sealed = h->check == ban_siphash(header_key, h,
	    offsetof(struct ban_header, check));

	/* A later sshand's file (an upgrade rolled back, two versions side
	 * by side): rebuilding it would throw its bans away, and its own
	 * handlers would throw ours away in turn.  Left alone; the caller
	 * fails open and says so. */
	if (memcmp(h->magic, BAN_MAGIC, sizeof(h->magic)) == 0 && sealed &&
	    h->version > BAN_VERSION)
		return -EPROTONOSUPPORT;
	/* Version 1 has this version's layout; only the failure unit
	 * differs, so its header is read as ours and the file migrated. */
	if (memcmp(h->magic, BAN_MAGIC, sizeof(h->magic)) != 0 ||
	    (h->version != BAN_VERSION && h->version != BAN_VERSION_V1) ||
	    !sealed ||
	    h->header_size != BAN_HEADER_SIZE || h->slot_size != BAN_SLOT_SIZE ||
	    h->bucket_slots != BAN_BUCKET_SLOTS ||
	    h->nbuckets < 2 ||
	    h->nbuckets > BAN_MAX_ENTRIES_LIMIT / BAN_BUCKET_SLOTS * 2 ||
	    h->ipv6_prefix < 1 || h->ipv6_prefix > 128 || h->reserved != 0)
		return -EBADMSG;
	ret->nbuckets = h->nbuckets;
	ret->ipv6_prefix = h->ipv6_prefix;
	ret->version = h->version;
	memcpy(ret->key, h->key, sizeof(ret->key));
	return 0;
}

void
ban_buckets(const struct ban_geom *g, const struct netaddr *k, uint32_t ret[2])
{
	uint8_t buf[17];
	uint64_t h;

	buf[0] = k->family == AF_INET ? 4 : 6;
	memcpy(buf + 1, k->a, 16);
	h = ban_siphash(g->key, buf, sizeof(buf));
	/* Multiply-shift maps onto any bucket count without a modulo bias
	 * worth caring about. */
	ret[0] = (uint32_t)(((h & 0xffffffffu) * g->nbuckets) >> 32);
	ret[1] = (uint32_t)(((h >> 32) * g->nbuckets) >> 32);
	if (ret[1] == ret[0])
		ret[1] = (ret[0] + 1) % g->nbuckets;
}

static uint32_t
copy_check(const struct ban_geom *g, uint64_t idx, const struct ban_copy *c)
{
	uint8_t buf[8 + BAN_COPY_SIZE];
	struct ban_copy t = *c;

	/* The slot index is covered so a copy that lands in the wrong place
	 * (a shifted write, a file spliced together) does not validate. */
	t.check = 0;
	memcpy(buf, &idx, 8);
	memcpy(buf + 8, &t, sizeof(t));
	return (uint32_t)ban_siphash(g->key, buf, sizeof(buf));
}

static bool
bits_clear_after(const uint8_t *a, unsigned nbits, unsigned from)
{
	for (unsigned i = from; i < nbits; i++)
		if (a[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

static bool
all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

/* A published copy is valid if its check matches and its fields are ones
 * the writer could have produced. */
static bool
copy_valid(const struct ban_geom *g, uint64_t idx, const struct ban_copy *c)
{
	if (c->seq == 0 || c->check != copy_check(g, idx, c))
		return false;
	if (c->pad[0] || c->pad[1])
		return false;
	/* Times are time()'s, or 0: none before 1970.  The arithmetic on
	 * them (now - last_failure...) relies on it not to overflow. */
	if (c->window_start < 0 || c->last_failure < 0 || c->banned_until < 0)
		return false;
	switch (c->family) {
	case 0:
		return c->prefix == 0 && c->failures == 0 && c->total == 0 &&
		    c->bans == 0 && c->window_start == 0 && c->last_failure == 0 &&
		    c->banned_until == 0 && all_zero(c->addr, 16);
	case 4:
		return c->prefix == 32 && all_zero(c->addr + 4, 12);
	case 6:
		return c->prefix >= 1 && c->prefix <= 128 &&
		    bits_clear_after(c->addr, 128, c->prefix);
	default:
		return false;
	}
}

void
ban_slot_resolve(const struct ban_geom *g, uint64_t idx,
    const struct ban_slot *s, struct ban_slot_state *ret)
{
	struct ban_slot_state st;
	bool v[2];
	int n = -1;

	memset(&st, 0, sizeof(st));
	for (int i = 0; i < 2; i++) {
		v[i] = copy_valid(g, idx, &s->c[i]);
		/* seq 0 is a copy not yet published, not damage. */
		if (!v[i] && s->c[i].seq != 0)
			st.damaged = true;
	}
	if (v[0] && v[1])
		n = (int32_t)(s->c[1].seq - s->c[0].seq) > 0 ? 1 : 0;
	else if (v[0])
		n = 0;
	else if (v[1])
		n = 1;
	st.newest = n;
	if (n >= 0) {
		const struct ban_copy *c = &s->c[n];

		st.seq = c->seq;
		if (c->family != 0) {
			st.used = true;
			st.e.key.family = c->family == 4 ? AF_INET : AF_INET6;
			memcpy(st.e.key.a, c->addr, 16);
			st.e.prefix = c->prefix;
			st.e.failures = c->failures;
			st.e.total_failures = c->total;
			st.e.bans = c->bans;
			st.e.window_start = c->window_start;
			st.e.last_failure = c->last_failure;
			st.e.banned_until = c->banned_until;
		}
	}
	*ret = st;
}

void
ban_copy_encode(const struct ban_geom *g, uint64_t idx,
    const struct ban_entry *e, uint32_t seq, struct ban_copy *ret)
{
	struct ban_copy c;

	memset(&c, 0, sizeof(c));
	c.seq = seq;
	if (e) {
		c.family = e->key.family == AF_INET ? 4 : 6;
		c.prefix = (uint8_t)e->prefix;
		memcpy(c.addr, e->key.a, 16);
		c.failures = e->failures;
		c.total = e->total_failures;
		c.bans = e->bans;
		c.window_start = e->window_start;
		c.last_failure = e->last_failure;
		c.banned_until = e->banned_until;
	}
	c.check = copy_check(g, idx, &c);
	*ret = c;
}

static void
mask_bits(uint8_t *a, unsigned nbits, unsigned keep)
{
	for (unsigned i = keep; i < nbits; i++)
		a[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
}

int
ban_normalise(const struct netaddr *in, unsigned v6prefix,
    struct netaddr *ret, unsigned *ret_prefix)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	struct netaddr k;

	memset(&k, 0, sizeof(k));
	if (in->family == AF_INET) {
		k.family = AF_INET;
		memcpy(k.a, in->a, 4);
		*ret = k;
		*ret_prefix = 32;
		return 0;
	}
	if (in->family != AF_INET6 || v6prefix < 1 || v6prefix > 128)
		return -EAFNOSUPPORT;
	if (memcmp(in->a, mapped, sizeof(mapped)) == 0) {
		k.family = AF_INET;
		memcpy(k.a, in->a + 12, 4);
		*ret = k;
		*ret_prefix = 32;
		return 0;
	}
	k.family = AF_INET6;
	memcpy(k.a, in->a, 16);
	mask_bits(k.a, 128, v6prefix);
	*ret = k;
	*ret_prefix = v6prefix;
	return 0;
}
