/* What sshandctl bans fleet-sync remembers of the local ban file between
 * rounds (bans-fleet.c explains the sync): per key, the local total of
 * failures last seen, the failures not yet published to the fleet store,
 * and the bans each side is known to have.  Pure: no I/O, no Redis. */
#ifndef SSHAND_POLICY_CTL_FLEET_TRACK_H
#define SSHAND_POLICY_CTL_FLEET_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "policy/ban.h"

struct fleet_track {
	struct netaddr key;		/* as the ban file stores it */
	unsigned prefix;
	uint32_t total;			/* local total_failures at the last scan */
	uint64_t pending;		/* local failure units not yet published */
	int64_t last_failure;		/* the local entry's, at the last scan */
	int64_t local_until;		/* the local ban at the last scan */
	uint32_t local_bans;
	int64_t fleet_until;		/* the fleet store's ban, as last known */
	int64_t refused_until;		/* a fleet ban BanExempt keeps out */
};

struct fleet_tracker {
	struct fleet_track *v;		/* sorted by key */
	size_t n, cap;
	struct fleet_track *scan;	/* the scan in progress, unsorted */
	size_t scan_n, scan_cap;
	bool baselined;			/* a first scan is done */
};

/* A scan of the whole file: begin, one entry per live entry, end.  The
 * first scan is the baseline (what the file held when the service
 * started is not published as new failures: it may have been already);
 * after it, a total that grew grew by new local failures, and a key new
 * to the file brings all of its total.  A total lower than before is an
 * entry forgotten and made again: all of it is new.  A key gone from the
 * file is kept while it has failures to publish.  0 or -ENOMEM (the
 * scan is then dropped, the tracker as before). */
void fleet_scan_begin(struct fleet_tracker *t);
int fleet_scan_entry(struct fleet_tracker *t, const struct ban_entry *e);
int fleet_scan_end(struct fleet_tracker *t);

/* The key's record, or NULL. */
struct fleet_track *fleet_track_find(struct fleet_tracker *t,
    const struct netaddr *key, unsigned prefix);
/* The key's record, made (all zero) if there is none: NULL on ENOMEM. */
struct fleet_track *fleet_track_get(struct fleet_tracker *t,
    const struct netaddr *key, unsigned prefix);

/* A local ban the fleet store does not have yet. */
bool fleet_track_ban_unpublished(const struct fleet_track *x, int64_t now);

/* Failure units waiting to be published, over every key. */
uint64_t fleet_pending_total(const struct fleet_tracker *t);

/* Drops the pending failures of keys whose last local failure is
 * find_time or more before now: outside any window, in the file as in
 * the fleet, they could only ban by being counted as new.  Returns the
 * units dropped. */
uint64_t fleet_expire_pending(struct fleet_tracker *t, int64_t now, unsigned find_time);

/* The state kept across restarts (fleet-sync's state file): each key's
 * total and pending failures and last failure, one line each after a
 * header line.  write: 0 or -EIO.  read: into an empty tracker, which is
 * then baselined (the next scan counts from these totals); -EBADMSG for
 * anything that is not such a file (the tracker is then left empty),
 * -ENOMEM. */
int fleet_state_write(const struct fleet_tracker *t, FILE *f);
int fleet_state_read(struct fleet_tracker *t, FILE *f);

void fleet_tracker_free(struct fleet_tracker *t);

#endif
