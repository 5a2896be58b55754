/* The fleet sync's memory of the local ban file (fleet-track.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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
	x->last_failure = e->last_failure;
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
			x.last_failure = s->last_failure;
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

uint64_t
fleet_expire_pending(struct fleet_tracker *t, int64_t now, unsigned find_time)
{
	uint64_t dropped = 0;

	for (size_t i = 0; i < t->n; i++) {
		struct fleet_track *x = &t->v[i];

		if (x->pending && now - x->last_failure >= (int64_t)find_time) {
			dropped += x->pending;
			x->pending = 0;
		}
	}
	return dropped;
}

#define STATE_HEADER	"sshand fleet-sync state 1\n"
#define STATE_LINE_MAX	128
#define STATE_MAX	(1u << 25)	/* lines: twice BanMaxEntries's bound */

int
fleet_state_write(const struct fleet_tracker *t, FILE *f)
{
	fputs(STATE_HEADER, f);
	for (size_t i = 0; i < t->n; i++) {
		const struct fleet_track *x = &t->v[i];

		fprintf(f, "%d %u ", x->key.family == AF_INET6 ? 6 : 4, x->prefix);
		for (int b = 0; b < 16; b++)
			fprintf(f, "%02x", x->key.a[b]);
		fprintf(f, " %" PRIu32 " %" PRIu64 " %" PRId64 "\n", x->total, x->pending,
		    x->last_failure);
	}
	return ferror(f) ? -EIO : 0;
}

static int
state_line(const char *line, struct fleet_track *x)
{
	unsigned fam, prefix;
	char hex[33];
	unsigned long long pending;
	long long last;
	unsigned long total;
	int n = -1;

	memset(x, 0, sizeof(*x));
	if (sscanf(line, "%u %u %32[0-9a-f] %lu %llu %lld%n", &fam, &prefix, hex,
	    &total, &pending, &last, &n) != 6 || n < 0 || line[n] != '\n' ||
	    strlen(hex) != 32 || total > UINT32_MAX ||
	    !((fam == 4 && prefix == 32) || (fam == 6 && prefix >= 1 && prefix <= 128)))
		return -EBADMSG;
	x->key.family = fam == 6 ? AF_INET6 : AF_INET;
	for (int b = 0; b < 16; b++) {
		unsigned v;

		if (sscanf(hex + 2 * b, "%2x", &v) != 1)
			return -EBADMSG;
		x->key.a[b] = (uint8_t)v;
	}
	x->prefix = prefix;
	x->total = (uint32_t)total;
	x->pending = pending;
	x->last_failure = last;
	return 0;
}

int
fleet_state_read(struct fleet_tracker *t, FILE *f)
{
	char line[STATE_LINE_MAX];
	size_t lines = 0;
	int r = 0;

	if (t->n || t->baselined)
		return -EINVAL;
	if (!fgets(line, sizeof(line), f) || strcmp(line, STATE_HEADER) != 0)
		return -EBADMSG;
	fleet_scan_begin(t);
	while (fgets(line, sizeof(line), f)) {
		struct fleet_track x;

		if (++lines > STATE_MAX || (r = state_line(line, &x)) < 0)
			break;
		if ((r = grow(&t->scan, t->scan_n, &t->scan_cap)) < 0)
			break;
		t->scan[t->scan_n++] = x;
	}
	if (r == 0 && (ferror(f) || lines > STATE_MAX))
		r = -EBADMSG;
	if (r < 0) {
		t->scan_n = 0;
		return r;
	}
	/* As a scan that found these: sorted, and the baseline. */
	if (t->scan_n)
		qsort(t->scan, t->scan_n, sizeof(*t->scan), track_cmp);
	for (size_t i = 0; i < t->scan_n; i++) {
		if (i && track_cmp(&t->scan[i - 1], &t->scan[i]) == 0) {
			t->scan_n = 0;
			return -EBADMSG;
		}
	}
	free(t->v);
	t->v = t->scan;
	t->n = t->scan_n;
	t->cap = t->scan_cap;
	t->scan = NULL;
	t->scan_n = t->scan_cap = 0;
	t->baselined = true;
	return 0;
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
