/* The ban file shared by every sshand process on the host.
 *
 * A library: no logging, no exit; 0 or a negative errno.  What a caller
 * must know: the check fails open (a damaged file is reported through
 * ret_damaged, rebuilt, and the source is treated as not banned), and every
 * update is atomic with respect to other processes and to a writer killed at
 * any instant.
 */
#ifndef SSHAND_POLICY_BAN_H
#define SSHAND_POLICY_BAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/socket.h>

#include "match.h"

struct ban_params {
	unsigned max_failures;		/* within find_time; 0 disables banning */
	unsigned find_time;		/* s */
	unsigned ban_time;		/* s, first ban */
	unsigned ban_time_max;		/* s, doubling stops here */
	unsigned ipv6_prefix;		/* 1..128 */
	unsigned max_entries;		/* table capacity */
	const char *const *exempt;	/* CIDR strings, never banned */
	size_t n_exempt;
};

struct ban_entry {
	struct netaddr key;		/* v4 address or v6 network (prefix applied) */
	unsigned prefix;		/* 32 for v4, ipv6_prefix for v6 */
	uint32_t failures;		/* weighted, within the current window */
	uint32_t total_failures;	/* ever, for operators */
	uint32_t bans;			/* how many times banned: grows the duration */
	int64_t window_start;		/* time of the first failure in the window */
	int64_t last_failure;
	int64_t banned_until;		/* 0 = not banned */
};

struct ban_store;

/* Open (creating if missing, mode 0600) the file at path. */
int ban_open(const char *path, const struct ban_params *p, struct ban_store **ret);
void ban_close(struct ban_store *b);
/* Opens an existing file for reading only (sshandctl bans nft-sync, whose
 * unit may not write it): nothing is created (-ENOENT), rebuilt or
 * migrated.  ban_foreach then fails with -EBADMSG on a damaged file or
 * one of an older format and -EPROTONOSUPPORT on a newer one, and skips
 * damaged slots as ban_check does; ban_foreach and ban_lookup are the
 * only operations for such a store. */
int ban_open_readonly(const char *path, const struct ban_params *p, struct ban_store **ret);

/* Is the source of sa banned at now?  Returns 1 banned (ret_until set),
 * 0 not banned, negative errno if the file could not be used at all (callers
 * fail open).  *ret_damaged (may be NULL) is set when the file was found
 * damaged and rebuilt. */
int ban_check(struct ban_store *b, const struct sockaddr *sa, int64_t now,
    int64_t *ret_until, bool *ret_damaged);

/* Failures are counted in fixed point: BAN_FAIL_UNIT is one failed
 * login, and max_failures is a number of failed logins.  The weights
 * sshand counts (documented in sshand.conf(5), BanMaxFailures):
 * a rejected password, keyboard-interactive answer or key signature, or a
 * connection that tried to log in and left before any failure was counted,
 * is one failed login; a connection that ended before trying at all (read
 * the banner and left, left during key exchange, sent garbage, timed out)
 * costs BAN_WEIGHT_PROBE, a thousandth: monitoring probes and load
 * balancer health checks must not ban a NAT, while a flood of them from
 * one address still does in the end. */
#define BAN_FAIL_UNIT		1000u
/* The format this code writes (ban-store.c describes it). */
#define BAN_FILE_VERSION	2u
#define BAN_WEIGHT_LOGIN	BAN_FAIL_UNIT
#define BAN_WEIGHT_PROBE	1u

/* Count a failure of the given weight (1 .. 64 * BAN_FAIL_UNIT) against
 * the source of sa, and say whether the source is banned now, both under
 * the file's exclusive lock, so that concurrent handlers of one source
 * agree on the failure that banned it: returns 1 if the source is banned
 * after this failure (this one started the ban, or another had), 0 if
 * not (exempt sources and max_failures 0 never are), or a negative
 * errno.  Sets *ret_banned_until when this failure started a ban (else
 * 0): the caller audits the ban once. */
int ban_record_failure(struct ban_store *b, const struct sockaddr *sa,
    unsigned weight, int64_t now, int64_t *ret_banned_until);

/* Administration (sshandctl). duration 0: the params' growth rule. */
int ban_add(struct ban_store *b, const struct netaddr *a, unsigned duration, int64_t now);
int ban_remove(struct ban_store *b, const struct netaddr *a);
int ban_lookup(struct ban_store *b, const struct netaddr *a, struct ban_entry *ret);
/* A ban made elsewhere (the fleet store, sshandctl bans fleet-sync):
 * a's entry is banned until `until` unless it already is for as long,
 * its ban count raised to bans if lower; failures in the window are
 * dropped as by ban_add, the totals kept (the sync counts new local
 * failures by them, and this is none).  Returns 1 if the file changed,
 * 0 if not, -EPERM for a key BanExempt overlaps. */
int ban_mirror(struct ban_store *b, const struct netaddr *a, int64_t until,
    uint32_t bans, int64_t now);
/* Calls fn for every live entry; stops early when fn returns non-zero. */
int ban_foreach(struct ban_store *b, int (*fn)(const struct ban_entry *, void *), void *userdata);
/* Drops expired entries (and all entries with all=true). Returns count. */
int ban_purge(struct ban_store *b, int64_t now, bool all);
/* Verifies the whole file; 0 if consistent, -EBADMSG if not.  Repairs
 * nothing (the other functions rebuild a damaged file). */
int ban_verify(struct ban_store *b);

/* True once if the file was found damaged (and rebuilt, or a damaged slot
 * dropped) since the last call or ban_check: ban_open itself may find it. */
bool ban_take_damaged(struct ban_store *b);
/* Whether this open made the file (it did not exist), once. */
bool ban_take_created(struct ban_store *b);

/* The format version of a file migrated to this one since the last call
 * (ban_open may migrate one), or 0: once, for the caller to say so. */
unsigned ban_take_migrated(struct ban_store *b);

/* Whether net/prefix (a stored key) and a BanExempt network overlap,
 * either holding the other: 1, 0, or a negative errno. */
int ban_exempt_overlaps(const struct ban_store *b, const struct netaddr *net,
    unsigned prefix);

/* "203.0.113.7", "2001:db8::1", "2001:db8::/64", "::ffff:192.0.2.1": the
 * store folds v4-mapped addresses and masks IPv6 to its prefix. */
int ban_addr_parse(const char *s, struct netaddr *ret);
/* The key a stores under with this IPv6 prefix: v4-mapped folded to
 * IPv4 (prefix 32), IPv6 masked to ipv6_prefix. */
int ban_key(const struct netaddr *a, unsigned ipv6_prefix, struct netaddr *ret,
    unsigned *ret_prefix);
/* "203.0.113.7" or "2001:db8::/64". */
#define BAN_ADDR_STRLEN 64
int ban_entry_format_addr(const struct ban_entry *e, char *buf, size_t len);

#endif
