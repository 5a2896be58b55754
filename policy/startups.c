/* MaxStartups and its per-source share: parsing and the decisions (see
 * startups.h). */
#include <errno.h>
#include <string.h>

#include "policy/startups.h"
#include "policy/util/decimal.h"

/* A decimal of at most max, ending at one of ends (or the string's end);
 * *pp moves past it. */
static int
number(const char **pp, unsigned max, char end, unsigned *ret)
{
	char buf[16];
	const char *s = *pp, *e = strchr(s, end);
	size_t n = e ? (size_t)(e - s) : strlen(s);
	uint64_t v;

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (decimal_parse(buf, max, &v) < 0)
		return -EINVAL;
	*ret = (unsigned)v;
	*pp = s + n + (e ? 1 : 0);
	return e ? 1 : 0;
}

int
startups_parse(const char *max, const char *per_source, const char *netblock,
    struct startups_params *ret)
{
	struct startups_params p = { 0 };
	const char *s = max;
	int r;

	/* "n" alone: refuse beyond n, no random early drop. */
	r = number(&s, 100000, ':', &p.start);
	if (r < 0)
		return -EINVAL;
	if (r == 0) {
		p.full = p.start;
		p.rate = 100;
	} else if (number(&s, 100, ':', &p.rate) != 1 ||
	    number(&s, 100000, ':', &p.full) != 0 || p.start > p.full)
		return -EINVAL;
	if (p.full == 0)
		return -EINVAL;
	if (strcmp(per_source, "none") != 0) {
		s = per_source;
		if (number(&s, 100000, ':', &p.per_source) != 0 || p.per_source == 0)
			return -EINVAL;
	}
	s = netblock;
	r = number(&s, 32, ':', &p.v4_bits);
	if (r < 0)
		return -EINVAL;
	p.v6_bits = 128;
	if (r == 1 && number(&s, 128, ':', &p.v6_bits) != 0)
		return -EINVAL;
	*ret = p;
	return 0;
}

bool
startups_drop(const struct startups_params *p, unsigned others, unsigned roll)
{
	unsigned chance;

	if (others >= p->full)
		return true;
	if (others < p->start)
		return false;
	/* sshd's drop_connection(): rate percent at start, rising
	 * linearly to 100 at full. */
	chance = p->rate + (100 - p->rate) * (others - p->start) /
	    (p->full - p->start);
	return roll < chance;
}

unsigned
startups_bucket(const struct startups_params *p, const uint8_t addr[16], bool v4,
    unsigned nbuckets)
{
	unsigned bits = v4 ? p->v4_bits : p->v6_bits, n = v4 ? 4 : 16;
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (unsigned i = 0; i < n; i++) {
		unsigned keep = bits >= 8 * (i + 1) ? 8 : bits > 8 * i ? bits - 8 * i : 0;
		uint8_t b = keep == 0 ? 0 : (uint8_t)(addr[i] & (0xff << (8 - keep)));

		h = (h ^ b) * 16777619u;
	}
	h = (h ^ (v4 ? 4u : 6u)) * 16777619u;
	return h % nbuckets;
}
