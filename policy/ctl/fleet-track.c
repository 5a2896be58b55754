/* The fleet sync's memory of the local ban file (fleet-track.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/ctl/fleet-track.h"

static int
key_cmp(const struct netaddr *a, unsigned ap, const struct netaddr *b, unsigned bp)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (ap != bp)
		return ap < bp ? -1 : 1;
	return memcmp(a->a, b->a, sizeof(a->a));
}

static int
track_cmp(const void *pa, const void *pb)
{
	const struct fleet_track *a = pa, *b = pb;

	return key_cmp(&a->key, a->prefix, &b->key, b->prefix);
}

static int
grow(struct fleet_track **v, size_t n, size_t *cap)
{
	struct fleet_track *nv;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 256;
	nv = reallocarray(*v, c, sizeof(**v));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = c;
	return 0;
}

void
fleet_scan_begin(struct fleet_tracker *t)
{
	t->scan_n = 0;
}

int
fleet_scan_entry(struct fleet_tracker *t, const struct ban_entry *e)
{
	struct fleet_track *x;
	int r;

	r = grow(&t->scan, t->scan_n, &t->scan_cap);
	if (r < 0)
		return r;
	x = &t->scan[t->scan_n++];
	memset(x, 0, sizeof(*x));
	x->key = e->key;
	x->prefix = e->prefix;
	x->total = e->total_failures;
	x->local_until = e->banned_until;
	x->local_bans = e->bans;
	return 0;
}

int
fleet_scan_end(struct fleet_tracker *t)
{
	struct fleet_track *out = NULL;
	size_t i = 0, j = 0, n = 0, cap = 0;
	int r;

	if (t->scan_n)
		qsort(t->scan, t->scan_n, sizeof(*t->scan), track_cmp);
	while (i < t->n || j < t->scan_n) {
		int c = i >= t->n ? 1 : j >= t->scan_n ? -1 :
		    track_cmp(&t->v[i], &t->scan[j]);
		struct fleet_track x;

		if (c < 0) {
			/* Gone from the file: kept while it has failures
			 * to publish. */
			x = t->v[i++];
			if (x.pending == 0)
				continue;
			x.total = 0;
			x.local_until = 0;
		} else {
			const struct fleet_track *s = &t->scan[j++];
			uint32_t delta;

			if (c == 0) {
				x = t->v[i++];
				delta = s->total >= x.total ? s->total - x.total : s->total;
			} else {
				memset(&x, 0, sizeof(x));
				x.key = s->key;
				x.prefix = s->prefix;
				delta = t->baselined ? s->total : 0;
			}
			/* The same key twice in one scan cannot happen in a
			 * sound file; merge it into one record anyway. */
			if (n > 0 && track_cmp(&out[n - 1], s) == 0) {
				out[n - 1].pending += delta;
				continue;
			}
			x.pending += delta;
			x.total = s->total;
			x.local_until = s->local_until;
			x.local_bans = s->local_bans;
		}
		r = grow(&out, n, &cap);
		if (r < 0) {
			free(out);
			return r;
		}
		out[n++] = x;
	}
	free(t->v);
	t->v = out;
	t->n = n;
	t->cap = cap;
	t->baselined = true;
	return 0;
}

struct fleet_track *
fleet_track_find(struct fleet_tracker *t, const struct netaddr *key, unsigned prefix)
{
	struct fleet_track k;

	if (!t->n)
		return NULL;
	memset(&k, 0, sizeof(k));
	k.key = *key;
	k.prefix = prefix;
	return bsearch(&k, t->v, t->n, sizeof(*t->v), track_cmp);
}

struct fleet_track *
fleet_track_get(struct fleet_tracker *t, const struct netaddr *key, unsigned prefix)
{
	struct fleet_track *x = fleet_track_find(t, key, prefix);
	size_t at = 0;

	if (x)
		return x;
	if (grow(&t->v, t->n, &t->cap) < 0)
		return NULL;
	while (at < t->n && key_cmp(&t->v[at].key, t->v[at].prefix, key, prefix) < 0)
		at++;
	memmove(&t->v[at + 1], &t->v[at], (t->n - at) * sizeof(*t->v));
	t->n++;
	x = &t->v[at];
	memset(x, 0, sizeof(*x));
	x->key = *key;
	x->prefix = prefix;
	return x;
}

bool
fleet_track_ban_unpublished(const struct fleet_track *x, int64_t now)
{
	return x->local_until > now && x->local_until > x->fleet_until;
}

uint64_t
fleet_pending_total(const struct fleet_tracker *t)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < t->n; i++)
		sum += t->v[i].pending;
	return sum;
}

void
fleet_tracker_free(struct fleet_tracker *t)
{
	if (!t)
		return;
	free(t->v);
	free(t->scan);
	memset(t, 0, sizeof(*t));
}
