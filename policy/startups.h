/* MaxStartups, PerSourceMaxStartups and PerSourceNetBlockSize: sshd's
 * bounds on connections that have not authenticated yet, and the
 * decision for one more, as pure functions (the front holds the slots:
 * handler/front/startups.c). */
#ifndef SSHAND_POLICY_STARTUPS_H
#define SSHAND_POLICY_STARTUPS_H

#include <stdbool.h>
#include <stdint.h>

struct startups_params {
	unsigned start;		/* from this many on, refuse rate percent */
	unsigned rate;		/* ... rising linearly to 100 at full */
	unsigned full;		/* never more than this many */
	unsigned per_source;	/* per source net block; 0: no limit */
	unsigned v4_bits;	/* a source is its address's first bits */
	unsigned v6_bits;
};

/* The three keywords' values as written (sshd's syntax: "n" or
 * "start:rate:full"; "none" or a number; "bits[:bits]").  0, or -EINVAL. */
int startups_parse(const char *max, const char *per_source, const char *netblock,
    struct startups_params *ret);

/* Whether a new connection, with others already unauthenticated, is
 * refused by MaxStartups' random early drop: roll is uniform in
 * [0, 100) (the caller's randomness).  Always at full or beyond. */
bool startups_drop(const struct startups_params *p, unsigned others, unsigned roll);

/* The bucket of a source address (16 bytes of IPv6, or IPv4 in the
 * first 4 with v4 set) once cut to its net block: buckets of equal
 * blocks are equal; nbuckets > 0. */
unsigned startups_bucket(const struct startups_params *p, const uint8_t addr[16],
    bool v4, unsigned nbuckets);

#endif
