/* The fleet store's Redis side (BanStore redis://...), shared by
 * sshandctl bans fleet-sync (bans-fleet.c) and the fleet's side of bans
 * list --fleet and unban (fleet-redis.c): the connection, the counting
 * script, the key names.  Only sshandctl links hiredis. */
#ifndef SSHAND_POLICY_CTL_FLEET_REDIS_H
#define SSHAND_POLICY_CTL_FLEET_REDIS_H

#include <stdbool.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "policy/ban-url.h"
#include "policy/ban.h"
#include "policy/config.h"
#include "policy/ctl/fleet-track.h"

#define IO_TIMEOUT_MS	200	/* connect and each command */
#define KEY_PREFIX	"sshand:"
#define PREFIX_MAX	64
#define MEMBER_MAX	(BAN_ADDR_STRLEN + PREFIX_MAX + 8)

struct fleet {
	struct ban_url url;
	char label[BAN_URL_MAX + 16];	/* the URL, password redacted */
	char prefix[PREFIX_MAX];
	const struct ban_params *p;
	const char *path;
	struct ban_store *b;
	struct fleet_tracker t;
	redisContext *rc;
	char sha[48];
	char why[256];			/* the last Redis error */
	char gen[32];			/* the banned set's generation last read */
	bool gen_known;
	int64_t next_fetch;
	bool down;			/* an outage was reported */
	int64_t down_since;
	/* Since the last reconnection, for its report. */
	uint64_t up_units;
	uint64_t expired_units;		/* dropped: older than BanFindTime */
	size_t up_bans, down_bans;
};

/* stderr, with the journal's priority prefix when it is the journal
 * (StandardError=journal sets JOURNAL_STREAM). */
__attribute__((format(printf, 2, 3)))
void fleet_say(int prio, const char *fmt, ...);

/* f from the configuration: -ENOENT when BanStore is not redis://,
 * -EINVAL (said) when its password file cannot be read. */
int fleet_setup(struct fleet *f, const struct settings *s, const struct ban_params *p,
    const char *path);
/* Connects (200 ms timeouts), authenticates, selects the database and
 * loads the script; f->why says why not. */
int fleet_connect(struct fleet *f);
void fleet_disconnect(struct fleet *f);
/* A reply of the wanted type, or NULL with f->why set; a lost
 * connection is dropped. */
redisReply *fleet_checked(struct fleet *f, void *reply, int type);
/* The Redis keys of member (its hash), of the banned set and of its
 * generation, each MEMBER_MAX long. */
void fleet_key_names(const struct fleet *f, const char *member, char *entry, char *set,
    char *gen);
/* Runs the script: mode "fail" (a4 the weight, a5 the limit) or "ban"
 * (a4 the end of the ban, a5 its count); ret {until, bans}. */
int fleet_eval(struct fleet *f, const char *mode, const char *member, int64_t now,
    uint64_t a4, uint64_t a5, int64_t ret[2]);

#endif
