/* Decimal numbers: see decimal.h. */
#include <errno.h>

#include "policy/util/decimal.h"

int
decimal_prefix(const char **s, uint64_t max, uint64_t *ret)
{
	const char *p = *s;
	uint64_t v = 0;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		uint64_t d = (uint64_t)(*p - '0');

		/* Checked before it can wrap: max may be UINT64_MAX. */
		if (d > max || v > (max - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*s = p;
	*ret = v;
	return 0;
}

int
decimal_parse(const char *s, uint64_t max, uint64_t *ret)
{
	uint64_t v;
	int r;

	r = decimal_prefix(&s, max, &v);
	if (r < 0)
		return r;
	if (*s != '\0')
		return -EINVAL;
	*ret = v;
	return 0;
}
