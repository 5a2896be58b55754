/* sshandctl bans fleet-sync: one ban list for a fleet of hosts, through
 * Redis (BanStore redis://...), while every sshand process keeps using
 * only its host's ban file: no network round trip before the banner,
 * and nothing of Redis in the per-connection programs (only sshandctl
 * links hiredis).  Run by sshand-fleet.service.
 *
 * Each round (every 250 ms, and at once when the file is written):
 *
 *  1. Local failures up: the ban file's entries keep a total of failures
 *     ever (total_failures).  The service remembers each key's total at
 *     its last scan (fleet-track.c); what a total grew by is new local
 *     failures, added to the key's "pending" units.  Pending units are
 *     published with one Lua script per key, which counts them in the
 *     fleet's entry exactly as ban.c counts a failure in the file (the
 *     same window, threshold, doubling for repeat offenders and maximum,
 *     from this host's configuration: every host must have the same Ban*
 *     settings) and bans when the threshold is reached.  A script is
 *     atomic in Redis: hosts publishing at once lose nothing.
 *  2. Local bans up: a local ban the fleet does not have (the file banned
 *     on its own while Redis was away, or `sshandctl bans ban`) is
 *     published by the same script, raising the fleet's ban to it.
 *  3. Fleet bans down: the banned sources (a sorted set, scored by the
 *     end of the ban) are written into the file by ban_mirror (locking
 *     and crash safety as for any writer); a ban already as long is not
 *     written again, and a network BanExempt overlaps is never entered.
 *     Mirroring writes no failures, so nothing that came from Redis is
 *     ever counted again as a local failure.
 *
 * Both directions only ever lengthen a ban, so the file and the fleet
 * converge to the longest of each; after each reconnection every local
 * ban is published again, in case Redis came back without its data.
 *
 * Redis keys: PREFIX "e:" ADDRESS, a hash (f, ws, bans, until, total,
 * last: ban_entry's fields, failures in 1/1000), which expires when the
 * file would reclaim the entry (window over, ban over, and for a repeat
 * offender BanTimeMax after its ban); PREFIX "banned", the sorted set,
 * which expires with its last ban; PREFIX "gen", raised by the script at
 * every change of a ban: each round reads it, and the set only when it
 * moved (or every 10 s).  Failures published late (after an outage) are
 * counted at the time they are published, not when they were made.
 * Redis's content is trusted as the file's is: whoever can write to it
 * can ban any source that is not exempt, on every host.
 *
 * Redis unreachable or slow: every command has a 200 ms timeout, the
 * service says so once at error level, keeps scanning (failures pile up
 * as pending units, in memory), tries again every second, and when it is
 * back publishes what piled up and says how much.  sshand never waits
 * for any of it.  Failures whose entry's last failure is BanFindTime or
 * more in the past when they could be published are dropped: outside
 * every window, they could only ban by being counted as new.
 *
 * What the service knows of the file (each key's total and unpublished
 * failures) is saved beside it, BANFILE.fleet-state, at most every 2 s
 * and at exit: a restarted service counts from those totals, and so
 * publishes what was recorded while it was stopped.  Without that file
 * (the first start, or an unreadable one) the first scan is the
 * baseline: nothing before it is published as failures (bans are, in
 * step 2). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "policy/ban-url.h"
#include "policy/ban.h"
#include "policy/config.h"
#include "policy/ctl/ctl.h"
#include "policy/ctl/fleet-track.h"

#define IO_TIMEOUT_MS	200	/* connect and each command */
#define ROUND_MS	250
#define RECONNECT_S	1
#define FULL_SCAN_S	10	/* even when no change was seen */
#define STATE_SAVE_S	2	/* at most this often, and at exit */
#define FULL_FETCH_S	10	/* the banned set, even when its generation is the same */
#define FETCH_MAX	1000000
#define KEY_PREFIX	"sshand:"
#define PREFIX_MAX	64
#define MEMBER_MAX	(BAN_ADDR_STRLEN + PREFIX_MAX + 8)

/* KEYS[1] the source's hash, KEYS[2] the banned set, KEYS[3] the
 * banned set's generation (raised at every change of a ban, so that the
 * hosts read the set only when it changed).  ARGV: mode
 * ("fail" or "ban"), member, now, then for fail the weight (1/1000) and
 * the limit, for ban the end of the local ban and its count; then
 * BanFindTime, BanTime, BanTimeMax.  Returns {until, bans}.  The
 * counting is ban.c's fail_update and ban_duration, line for line. */
static const char fleet_lua[] =
    "local now = tonumber(ARGV[3])\n"
    "local find, bt, btm = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])\n"
    "local v = redis.call('HMGET', KEYS[1], 'f', 'ws', 'bans', 'until', 'total', 'last')\n"
    "local f, ws, bans = tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or 0\n"
    "local untl, total, last = tonumber(v[4]) or 0, tonumber(v[5]) or 0, tonumber(v[6]) or 0\n"
    "local before = untl\n"
    "if ARGV[1] == 'fail' then\n"
    "  local w, limit = tonumber(ARGV[4]), tonumber(ARGV[5])\n"
    "  total = total + w\n"
    "  last = now\n"
    "  if untl <= now then\n"
    "    if f == 0 or now < ws or now - ws >= find then f = 0; ws = now end\n"
    "    f = f + w\n"
    "    if limit > 0 and f >= limit then\n"
    "      bans = bans + 1\n"
    "      local d, max = bt, math.max(bt, btm)\n"
    "      local i = 1\n"
    "      while i < bans and d < max do d = d * 2; i = i + 1 end\n"
    "      if d > max then d = max end\n"
    "      f = 0; ws = 0\n"
    "      if d > 0 then untl = now + d end\n"
    "    end\n"
    "  end\n"
    "else\n"
    "  local u, b = tonumber(ARGV[4]), tonumber(ARGV[5])\n"
    "  if u > untl then\n"
    "    untl = u; f = 0; ws = 0\n"
    "    bans = math.max(bans, b, 1)\n"
    "  end\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'f', f, 'ws', ws, 'bans', bans, 'until', untl,\n"
    "  'total', total, 'last', last)\n"
    "local keep = 1\n"
    "if f > 0 then keep = math.max(keep, ws + find - now) end\n"
    "if untl > now then keep = math.max(keep, untl - now) end\n"
    "if bans > 0 then keep = math.max(keep, untl + btm - now) end\n"
    "redis.call('EXPIRE', KEYS[1], keep)\n"
    "if untl > now then\n"
    "  redis.call('ZADD', KEYS[2], untl, ARGV[2])\n"
    "  if redis.call('TTL', KEYS[2]) < untl - now then\n"
    "    redis.call('EXPIRE', KEYS[2], untl - now)\n"
    "  end\n"
    "end\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)\n"
    "if untl ~= before then redis.call('INCR', KEYS[3]) end\n"
    "return {untl, bans}\n";

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

static volatile sig_atomic_t stop_requested;
static bool journal_prefix;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* stderr, with the journal's priority prefix when it is the journal
 * (StandardError=journal sets JOURNAL_STREAM). */
__attribute__((format(printf, 2, 3)))
static void
say(int prio, const char *fmt, ...)
{
	va_list ap;

	if (journal_prefix)
		fprintf(stderr, "<%d>", prio);
	fputs("sshandctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---------------------------------------------------------------- */
/* Redis */

static void
fleet_disconnect(struct fleet *f)
{
	if (f->rc)
		redisFree(f->rc);
	f->rc = NULL;
}

/* A reply of the wanted type, or NULL with f->why set; a lost
 * connection is dropped. */
static redisReply *
checked(struct fleet *f, void *reply, int type)
{
	redisReply *r = reply;

	if (!r) {
		snprintf(f->why, sizeof(f->why), "%s",
		    f->rc && f->rc->errstr[0] ? f->rc->errstr : "no reply");
		fleet_disconnect(f);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR || r->type != type) {
		snprintf(f->why, sizeof(f->why), "%s",
		    r->type == REDIS_REPLY_ERROR && r->str ? r->str : "unexpected reply");
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

static int
load_script(struct fleet *f)
{
	redisReply *r = checked(f, redisCommand(f->rc, "SCRIPT LOAD %s", fleet_lua),
	    REDIS_REPLY_STRING);

	if (!r)
		return -EIO;
	snprintf(f->sha, sizeof(f->sha), "%s", r->str);
	freeReplyObject(r);
	return 0;
}

/* Reads BanStorePasswordFile: its first line. */
static int
read_password(const char *path, char *buf, size_t len)
{
	FILE *fp = fopen(path, "re");
	size_t n;
	int r = 0;

	if (!fp)
		return -errno;
	if (!fgets(buf, (int)len, fp))
		r = ferror(fp) ? -EIO : -ENODATA;
	fclose(fp);
	if (r < 0) {
		explicit_bzero(buf, len);
		return r;
	}
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return n ? 0 : -ENODATA;
}

static int
fleet_setup(struct fleet *f, const struct settings *s, const struct ban_params *p,
    const char *path)
{
	const char *why = NULL;
	int r;

	memset(f, 0, sizeof(*f));
	f->p = p;
	f->path = path;
	snprintf(f->prefix, sizeof(f->prefix), "%s", KEY_PREFIX);
	if (!s->ban_store || ban_url_parse(s->ban_store, &f->url, &why) < 0 ||
	    f->url.kind != BAN_URL_REDIS)
		return -ENOENT;
	ban_url_redact(s->ban_store, f->label, sizeof(f->label));
	if (s->ban_store_password_file) {
		r = read_password(s->ban_store_password_file, f->url.password,
		    sizeof(f->url.password));
		if (r < 0) {
			say(3, "ERROR: BanStorePasswordFile %s: %s", s->ban_store_password_file,
			    r == -ENODATA ? "empty" : strerror(-r));
			ban_url_wipe(&f->url);
			return -EINVAL;
		}
		f->url.has_password = true;
	}
	return 0;
}

static int
fleet_connect(struct fleet *f)
{
	struct timeval tv = { 0, IO_TIMEOUT_MS * 1000 };
	redisReply *r;

	fleet_disconnect(f);
	f->rc = redisConnectWithTimeout(f->url.host, (int)f->url.port, tv);
	if (!f->rc || f->rc->err) {
		snprintf(f->why, sizeof(f->why), "%s", f->rc ? f->rc->errstr : "out of memory");
		fleet_disconnect(f);
		return -EHOSTUNREACH;
	}
	if (redisSetTimeout(f->rc, tv) != REDIS_OK) {
		snprintf(f->why, sizeof(f->why), "cannot set a timeout");
		fleet_disconnect(f);
		return -EIO;
	}
	if (f->url.has_password) {
		r = f->url.user[0] ?
		    redisCommand(f->rc, "AUTH %s %s", f->url.user, f->url.password) :
		    redisCommand(f->rc, "AUTH %s", f->url.password);
		if (!(r = checked(f, r, REDIS_REPLY_STATUS)))
			goto fail;
		freeReplyObject(r);
	}
	if (f->url.db) {
		r = checked(f, redisCommand(f->rc, "SELECT %u", f->url.db), REDIS_REPLY_STATUS);
		if (!r)
			goto fail;
		freeReplyObject(r);
	}
	if (load_script(f) < 0)
		goto fail;
	return 0;
fail:
	fleet_disconnect(f);
	return -EIO;
}

static void
key_names(const struct fleet *f, const char *member, char *entry, char *set, char *gen)
{
	snprintf(entry, MEMBER_MAX, "%se:%s", f->prefix, member);
	snprintf(set, MEMBER_MAX, "%sbanned", f->prefix);
	snprintf(gen, MEMBER_MAX, "%sgen", f->prefix);
}

/* Runs the script: mode "fail" (a4 the weight, a5 the limit) or "ban"
 * (a4 the end of the ban, a5 its count); ret {until, bans}. */
static int
fleet_eval(struct fleet *f, const char *mode, const char *member, int64_t now,
    uint64_t a4, uint64_t a5, int64_t ret[2])
{
	char entry[MEMBER_MAX], set[MEMBER_MAX], gen[MEMBER_MAX], n[6][24];
	const char *argv[14];
	redisReply *r;

	key_names(f, member, entry, set, gen);
	snprintf(n[0], sizeof(n[0]), "%" PRId64, now);
	snprintf(n[1], sizeof(n[1]), "%" PRIu64, a4);
	snprintf(n[2], sizeof(n[2]), "%" PRIu64, a5);
	snprintf(n[3], sizeof(n[3]), "%u", f->p->find_time);
	snprintf(n[4], sizeof(n[4]), "%u", f->p->ban_time);
	snprintf(n[5], sizeof(n[5]), "%u", f->p->ban_time_max);
	argv[0] = "EVALSHA";
	argv[1] = f->sha;
	argv[2] = "3";
	argv[3] = entry;
	argv[4] = set;
	argv[5] = gen;
	argv[6] = mode;
	argv[7] = member;
	for (int i = 0; i < 6; i++)
		argv[8 + i] = n[i];
	for (int tries = 0; tries < 2; tries++) {
		r = checked(f, redisCommandArgv(f->rc, 14, argv, NULL), REDIS_REPLY_ARRAY);
		if (r)
			break;
		/* Redis restarted under a live connection: no script. */
		if (!f->rc || strncmp(f->why, "NOSCRIPT", 8) != 0 || load_script(f) < 0)
			return -EIO;
		argv[1] = f->sha;
	}
	if (!r)
		return -EIO;
	if (r->elements != 2 || r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->type != REDIS_REPLY_INTEGER) {
		freeReplyObject(r);
		snprintf(f->why, sizeof(f->why), "unexpected reply from the script");
		return -EIO;
	}
	ret[0] = r->element[0]->integer;
	ret[1] = r->element[1]->integer;
	freeReplyObject(r);
	return 0;
}

/* ---------------------------------------------------------------- */
/* The local file */

static int
scan_one(const struct ban_entry *e, void *userdata)
{
	return fleet_scan_entry(userdata, e);
}

static int
scan_file(struct fleet *f)
{
	int r;

	fleet_scan_begin(&f->t);
	r = ban_foreach(f->b, scan_one, &f->t);
	if (r == 0)
		r = fleet_scan_end(&f->t);
	if (ban_take_damaged(f->b))
		say(4, "WARNING: %s was damaged and has been rebuilt (entries lost)", f->path);
	return r;
}

static int
member_of(const struct fleet_track *x, char *buf, size_t len)
{
	struct ban_entry e;

	memset(&e, 0, sizeof(e));
	e.key = x->key;
	e.prefix = x->prefix;
	return ban_entry_format_addr(&e, buf, len);
}

/* Steps 1 and 2. */
static int
publish(struct fleet *f, int64_t now)
{
	uint64_t limit = (uint64_t)f->p->max_failures * BAN_FAIL_UNIT;

	for (size_t i = 0; i < f->t.n && f->rc; i++) {
		struct fleet_track *x = &f->t.v[i];
		char member[BAN_ADDR_STRLEN];
		int64_t res[2];

		if ((x->pending == 0 && !fleet_track_ban_unpublished(x, now)) ||
		    member_of(x, member, sizeof(member)) < 0)
			continue;
		if (x->pending) {
			if (fleet_eval(f, "fail", member, now, x->pending, limit, res) < 0)
				return -EIO;
			f->up_units += x->pending;
			x->pending = 0;
			if (res[0] > x->fleet_until)
				x->fleet_until = res[0];
		}
		if (fleet_track_ban_unpublished(x, now)) {
			if (fleet_eval(f, "ban", member, now, (uint64_t)x->local_until,
			    x->local_bans, res) < 0)
				return -EIO;
			f->up_bans++;
			x->fleet_until = res[0] > x->local_until ? res[0] : x->local_until;
		}
	}
	return f->rc ? 0 : -EIO;
}

/* Step 3. */
static int
fetch(struct fleet *f, int64_t now)
{
	char set[MEMBER_MAX], entry[MEMBER_MAX], gen[MEMBER_MAX], from[24], max[24];
	redisReply *r;

	key_names(f, "", entry, set, gen);
	/* The set only when a ban changed (its generation), or every
	 * FULL_FETCH_S: a big set is not read four times a second. */
	r = checked(f, redisCommand(f->rc, "GET %s", gen), REDIS_REPLY_STRING);
	if (!r && (!f->rc || strcmp(f->why, "unexpected reply") != 0))
		return -EIO;	/* nil (no ban yet) is not an error */
	if (r && r->len < sizeof(f->gen) && f->gen_known && strcmp(r->str, f->gen) == 0 &&
	    now < f->next_fetch) {
		freeReplyObject(r);
		return 0;
	}
	snprintf(f->gen, sizeof(f->gen), "%s", r && r->len < sizeof(f->gen) ? r->str : "");
	f->gen_known = true;
	f->next_fetch = now + FULL_FETCH_S;
	if (r)
		freeReplyObject(r);
	snprintf(from, sizeof(from), "(%" PRId64, now);
	snprintf(max, sizeof(max), "%d", FETCH_MAX);
	r = checked(f, redisCommand(f->rc, "ZRANGEBYSCORE %s %s +inf WITHSCORES LIMIT 0 %s",
	    set, from, max), REDIS_REPLY_ARRAY);
	if (!r)
		return -EIO;
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *m = r->element[i], *sc = r->element[i + 1];
		struct fleet_track *x;
		struct netaddr a, k;
		unsigned prefix;
		int64_t until;
		char *end;
		int w;

		if (m->type != REDIS_REPLY_STRING || sc->type != REDIS_REPLY_STRING ||
		    m->len >= BAN_ADDR_STRLEN || ban_addr_parse(m->str, &a) < 0 ||
		    ban_key(&a, f->p->ipv6_prefix, &k, &prefix) < 0)
			continue;
		errno = 0;
		until = (int64_t)strtoll(sc->str, &end, 10);
		if (errno || end == sc->str || until <= now)
			continue;
		x = fleet_track_get(&f->t, &k, prefix);
		if (!x) {
			freeReplyObject(r);
			return -ENOMEM;
		}
		if (until > x->fleet_until)
			x->fleet_until = until;
		if (until <= x->local_until || until <= x->refused_until)
			continue;
		w = ban_mirror(f->b, &k, until, 1, now);
		if (w == -EPERM) {
			/* BanExempt: never entered, and not tried again.  Not
			 * a local ban either: nothing to publish. */
			x->refused_until = until;
			continue;
		}
		if (w < 0) {
			say(3, "ERROR: %s: %s", f->path, strerror(-w));
			continue;
		}
		f->down_bans += (size_t)w;
		x->local_until = until;
	}
	freeReplyObject(r);
	return 0;
}

/* ---------------------------------------------------------------- */
/* The service */

struct watch {
	int fd, wd;
};

static void
watch_file(struct watch *w, const char *path)
{
	if (w->fd < 0)
		return;
	if (w->wd >= 0)
		inotify_rm_watch(w->fd, w->wd);
	w->wd = inotify_add_watch(w->fd, path, IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF |
	    IN_DELETE_SELF);
}

/* Waits up to ms for a write to the file: true if there was one. */
static bool
wait_change(struct watch *w, const char *path, int ms)
{
	struct pollfd pfd = { .fd = w->fd, .events = POLLIN };
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed = false, rewatch = false;
	ssize_t n;

	if (w->fd < 0) {
		poll(NULL, 0, ms);
		return true;
	}
	if (poll(&pfd, 1, ms) <= 0)
		return false;
	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			changed = true;
			if (ev->mask & (IN_MOVE_SELF | IN_DELETE_SELF | IN_IGNORED))
				rewatch = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	if (rewatch || w->wd < 0)
		watch_file(w, path);
	return changed;
}

static void
report_back(struct fleet *f, int64_t now)
{
	say(5, "fleet store %s is back after %" PRId64 " s: published %" PRIu64
	    ".%03" PRIu64 " failures and %zu bans kept meanwhile, mirrored %zu bans"
	    "; %" PRIu64 ".%03" PRIu64 " failures older than BanFindTime were dropped",
	    f->label, now - f->down_since, f->up_units / BAN_FAIL_UNIT,
	    f->up_units % BAN_FAIL_UNIT, f->up_bans, f->down_bans,
	    f->expired_units / BAN_FAIL_UNIT, f->expired_units % BAN_FAIL_UNIT);
	f->down = false;
}

static void
report_down(struct fleet *f, int64_t now)
{
	if (f->down)
		return;
	say(3, "ERROR: fleet store %s unreachable: %s; bans stay local (sshand is "
	    "not affected) and failures are kept to publish when it is back", f->label,
	    f->why);
	f->down = true;
	f->down_since = now;
}

/* The state file: what the tracker knows, so that a restarted service
 * publishes the failures made while it was stopped (or not yet
 * published), instead of taking them as its baseline. */
static void
state_load(struct fleet *f, const char *state)
{
	FILE *fp = fopen(state, "re");
	int r;

	if (!fp) {
		if (errno != ENOENT)
			say(4, "WARNING: %s: %s: failures made while the service was "
			    "stopped are not published", state, strerror(errno));
		return;
	}
	r = fleet_state_read(&f->t, fp);
	fclose(fp);
	if (r < 0)
		say(4, "WARNING: %s: %s: ignored; failures made while the service was "
		    "stopped are not published", state,
		    r == -EBADMSG ? "not a state file" : strerror(-r));
}

static int
state_save(const struct fleet *f, const char *state)
{
	char *tmp = NULL;
	FILE *fp = NULL;
	int fd, r;

	if (asprintf(&tmp, "%s.tmp.XXXXXX", state) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		free(tmp);
		return r;
	}
	fp = fdopen(fd, "w");
	if (!fp) {
		r = -errno;
		close(fd);
		goto fail;
	}
	r = fleet_state_write(&f->t, fp);
	if (fflush(fp) != 0 || fsync(fd) < 0)
		r = r < 0 ? r : -errno;
	if (fclose(fp) != 0 && r == 0)
		r = -EIO;
	if (r == 0 && rename(tmp, state) < 0)
		r = -errno;
fail:
	if (r < 0)
		unlink(tmp);
	free(tmp);
	return r;
}

static void
fleet_usage(FILE *fp)
{
	fprintf(fp, "usage: sshandctl bans fleet-sync [--once] [--prefix PREFIX]\n"
	    "  mirrors the ban file to and from BanStore redis://... (sshandctl(8))\n"
	    "  --once    one round (local bans up, the fleet's bans down), then exit\n"
	    "  --prefix  of the Redis keys (default " KEY_PREFIX ")\n");
}

static bool
prefix_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= PREFIX_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return false;
	return true;
}

/* --prefix for the other fleet commands too (argv after the command). */
static int
take_prefix(struct fleet *f, int argc, char **argv, bool *ret_once)
{
	for (int i = 1; i < argc; i++) {
		if (ret_once && strcmp(argv[i], "--once") == 0)
			*ret_once = true;
		else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc &&
		    prefix_ok(argv[i + 1]))
			snprintf(f->prefix, sizeof(f->prefix), "%s", argv[++i]);
		else if (strcmp(argv[i], "--fleet") == 0)
			continue;
		else
			return -EINVAL;
	}
	return 0;
}

int
bans_fleet_sync(const struct ctl_opts *o, const struct settings *s, const char *path,
    const struct ban_params *p, int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct watch w = { .fd = -1, .wd = -1 };
	struct fleet f;
	char *state = NULL;
	bool once = false, dirty = false, save_failed = false;
	int64_t next_connect = 0, next_scan = 0, next_save = 0;
	int r, ret = 1;

	(void)o;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fleet_usage(stdout);
			return 0;
		}
	journal_prefix = getenv("JOURNAL_STREAM") != NULL;
	r = fleet_setup(&f, s, p, path);
	if (r == -ENOENT) {
		fprintf(stderr, "sshandctl: bans fleet-sync: BanStore is %s, not "
		    "redis://...: nothing to sync\n", s->ban_store ? s->ban_store : "file");
		return 1;
	}
	if (r < 0)
		return 1;
	if (take_prefix(&f, argc, argv, &once) < 0) {
		fleet_usage(stderr);
		ret = 2;
		goto out;
	}
	r = ban_open(path, p, &f.b);
	if (r < 0) {
		say(3, "ERROR: %s: %s", path, strerror(-r));
		goto out;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!once) {
		if (asprintf(&state, "%s.fleet-state", path) < 0) {
			state = NULL;
			say(3, "ERROR: out of memory");
			goto out;
		}
		state_load(&f, state);
		w.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		watch_file(&w, path);
		say(6, "fleet-sync: %s with %s (every %d ms, on each change)", path,
		    f.label, ROUND_MS);
	}
	for (;;) {
		int64_t now = (int64_t)time(NULL);
		bool changed;

		if (!f.rc && now >= next_connect) {
			if (fleet_connect(&f) < 0) {
				next_connect = now + RECONNECT_S;
				report_down(&f, now);
				if (once)
					goto out;
			} else {
				/* What the fleet had may be gone (a Redis
				 * restarted without its data): every local
				 * ban is published again, which changes
				 * nothing where it is not. */
				for (size_t i = 0; i < f.t.n; i++)
					f.t.v[i].fleet_until = 0;
				f.gen_known = false;
			}
		}
		if (now >= next_scan) {
			r = scan_file(&f);
			if (r < 0)
				say(3, "ERROR: %s: %s", path, strerror(-r));
			next_scan = now + FULL_SCAN_S;
			dirty = true;
		}
		f.expired_units += fleet_expire_pending(&f.t, now, p->find_time);
		if (f.rc) {
			uint64_t before = fleet_pending_total(&f.t);

			if (publish(&f, now) == 0 && fetch(&f, now) == 0) {
				if (fleet_pending_total(&f.t) != before)
					dirty = true;
				if (f.down)
					report_back(&f, now);
				f.up_units = f.expired_units = 0;
				f.up_bans = f.down_bans = 0;
			} else {
				/* Lost, or an error reply: either way, start
				 * again from a fresh connection. */
				fleet_disconnect(&f);
				next_connect = now + RECONNECT_S;
				report_down(&f, now);
			}
		}
		if (once) {
			ret = f.rc ? 0 : 1;
			break;
		}
		if (dirty && now >= next_save) {
			r = state_save(&f, state);
			if (r < 0 && !save_failed)
				say(4, "WARNING: %s: %s", state, strerror(-r));
			save_failed = r < 0;
			dirty = false;
			next_save = now + STATE_SAVE_S;
		}
		if (stop_requested)
			break;
		changed = wait_change(&w, path, ROUND_MS);
		if (stop_requested)
			break;
		if (changed)
			next_scan = 0;
	}
	if (!once) {
		ret = 0;
		r = state_save(&f, state);
		if (r < 0)
			say(4, "WARNING: %s: %s", state, strerror(-r));
	}
out:
	free(state);
	if (w.fd >= 0)
		close(w.fd);
	fleet_disconnect(&f);
	ban_close(f.b);
	fleet_tracker_free(&f.t);
	ban_url_wipe(&f.url);
	return ret;
}

/* ---------------------------------------------------------------- */
/* The fleet's view, and unban */

static int64_t
field_int(const redisReply *r)
{
	return r && r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : 0;
}

static uint32_t
field_u32(const redisReply *r)
{
	int64_t v = field_int(r);

	return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* One fleet entry from its hash; 0 if the key is gone or not ours. */
static int
read_entry(struct fleet *f, const char *key, struct ban_entry *e)
{
	size_t plen = strlen(f->prefix) + 2;
	struct netaddr a;
	redisReply *r;
	int ok = 0;

	if (strlen(key) <= plen || ban_addr_parse(key + plen, &a) < 0)
		return 0;
	r = checked(f, redisCommand(f->rc, "HMGET %s f ws bans until total last", key),
	    REDIS_REPLY_ARRAY);
	if (!r)
		return -EIO;
	if (r->elements == 6 && r->element[3]->type == REDIS_REPLY_STRING) {
		memset(e, 0, sizeof(*e));
		if (ban_key(&a, f->p->ipv6_prefix, &e->key, &e->prefix) == 0) {
			e->failures = field_u32(r->element[0]);
			e->window_start = field_int(r->element[1]);
			e->bans = field_u32(r->element[2]);
			e->banned_until = field_int(r->element[3]);
			e->total_failures = field_u32(r->element[4]);
			e->last_failure = field_int(r->element[5]);
			ok = 1;
		}
	}
	freeReplyObject(r);
	return ok;
}

int
bans_fleet_list(const struct ctl_opts *o, const struct settings *s,
    const struct ban_params *p)
{
	struct ban_entry *v = NULL;
	size_t n = 0, cap = 0;
	char cursor[32] = "0", match[PREFIX_MAX + 8];
	struct fleet f;
	int ret = 1;

	ret = fleet_setup(&f, s, p, NULL);
	if (ret == -ENOENT)
		fprintf(stderr, "sshandctl: no fleet store: BanStore is %s, not redis://...\n",
		    s->ban_store ? s->ban_store : "file");
	if (ret < 0)
		return 1;
	ret = 1;
	if (fleet_connect(&f) < 0) {
		fprintf(stderr, "sshandctl: fleet store %s: %s\n", f.label, f.why);
		goto out;
	}
	snprintf(match, sizeof(match), "%se:*", f.prefix);
	do {
		redisReply *r = checked(&f, redisCommand(f.rc, "SCAN %s MATCH %s COUNT 1000",
		    cursor, match), REDIS_REPLY_ARRAY);

		if (!r)
			goto fail;
		if (r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(r);
			snprintf(f.why, sizeof(f.why), "unexpected reply to SCAN");
			goto fail;
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		for (size_t i = 0; i < r->element[1]->elements; i++) {
			const redisReply *k = r->element[1]->element[i];
			int got;

			if (k->type != REDIS_REPLY_STRING)
				continue;
			if (n == cap) {
				size_t c = cap ? cap * 2 : 256;
				struct ban_entry *nv = reallocarray(v, c, sizeof(*v));

				if (!nv) {
					freeReplyObject(r);
					snprintf(f.why, sizeof(f.why), "out of memory");
					goto fail;
				}
				v = nv;
				cap = c;
			}
			got = read_entry(&f, k->str, &v[n]);
			if (got < 0) {
				freeReplyObject(r);
				goto fail;
			}
			n += (size_t)got;
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	bans_print_entries(o->json, (int64_t)time(NULL), p->find_time, "fleet_store",
	    f.label, v, n);
	ret = 0;
	goto out;
fail:
	fprintf(stderr, "sshandctl: fleet store %s: %s\n", f.label, f.why);
out:
	free(v);
	fleet_disconnect(&f);
	ban_url_wipe(&f.url);
	return ret;
}

int
bans_fleet_unban(const struct settings *s, const struct ban_params *p,
    const struct netaddr *a, bool *ret_configured)
{
	char member[BAN_ADDR_STRLEN], entry[MEMBER_MAX], set[MEMBER_MAX], gen[MEMBER_MAX];
	struct ban_entry e;
	struct fleet f;
	redisReply *r;
	int ret;

	*ret_configured = false;
	ret = fleet_setup(&f, s, p, NULL);
	if (ret == -ENOENT)
		return 0;
	*ret_configured = true;
	if (ret < 0)
		return ret;	/* said by fleet_setup */
	memset(&e, 0, sizeof(e));
	if (ban_key(a, p->ipv6_prefix, &e.key, &e.prefix) < 0 ||
	    ban_entry_format_addr(&e, member, sizeof(member)) < 0) {
		ret = -EINVAL;
		goto out;
	}
	key_names(&f, member, entry, set, gen);
	ret = -EIO;
	if (fleet_connect(&f) < 0)
		goto fail;
	r = checked(&f, redisCommand(f.rc, "DEL %s", entry), REDIS_REPLY_INTEGER);
	if (!r)
		goto fail;
	ret = r->integer > 0;
	freeReplyObject(r);
	r = checked(&f, redisCommand(f.rc, "ZREM %s %s", set, member), REDIS_REPLY_INTEGER);
	if (!r) {
		ret = -EIO;
		goto fail;
	}
	if (r->integer > 0)
		ret = 1;
	freeReplyObject(r);
	goto out;
fail:
	fprintf(stderr, "sshandctl: fleet store %s: %s: the fleet still bans %s, and "
	    "fleet-sync will bring the ban back\n", f.label, f.why, member);
out:
	fleet_disconnect(&f);
	ban_url_wipe(&f.url);
	return ret;
}
