/* sshd's time format: a sequence of decimal numbers, each optionally
 * followed by a unit (s, m, h, d, w; either case).  A bare number is
 * seconds.  "90", "1h30m", "1w2d" and "1h30" are all valid. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>

#include "policy/config.h"
#include "policy/util/decimal.h"

static uint64_t
unit_seconds(char c)
{
	switch (c) {
	case 's': case 'S': return 1;
	case 'm': case 'M': return 60;
	case 'h': case 'H': return 60 * 60;
	case 'd': case 'D': return 24 * 60 * 60;
	case 'w': case 'W': return 7 * 24 * 60 * 60;
	default: return 0;
	}
}

int
parse_time(const char *s, unsigned *ret_seconds)
{
	/* INT_MAX, as sshd: callers add these to time_t and int freely. */
	const uint64_t limit = INT_MAX;
	uint64_t total = 0;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	while (*s != '\0') {
		uint64_t v, mult = 1;

		if (decimal_prefix(&s, limit, &v) < 0)
			return -EINVAL;
		if (*s != '\0') {
			mult = unit_seconds(*s);
			if (mult == 0)
				return -EINVAL;
			s++;
		}
		if (v > (limit - total) / mult)
			return -EINVAL;
		total += v * mult;
	}
	*ret_seconds = (unsigned)total;
	return 0;
}
