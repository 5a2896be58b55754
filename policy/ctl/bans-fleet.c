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
 * step 2). */#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "policy/ctl/ctl.h"
#include "policy/ctl/fleet-redis.h"

#define ROUND_MS	250
#define RECONNECT_S	1
#define FULL_SCAN_S	10	/* even when no change was seen */
#define STATE_SAVE_S	2	/* at most this often, and at exit */
#define FULL_FETCH_S	10	/* the banned set, even when its generation is the same */
#define FETCH_MAX	1000000

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
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
		fleet_say(4, "WARNING: %s was damaged and has been rebuilt (entries lost)", f->path);
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

	fleet_key_names(f, "", entry, set, gen);
	/* The set only when a ban changed (its generation), or every
	 * FULL_FETCH_S: a big set is not read four times a second. */
	r = fleet_checked(f, redisCommand(f->rc, "GET %s", gen), REDIS_REPLY_STRING);
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
	r = fleet_checked(f, redisCommand(f->rc, "ZRANGEBYSCORE %s %s +inf WITHSCORES LIMIT 0 %s",
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
			fleet_say(3, "ERROR: %s: %s", f->path, strerror(-w));
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
	fleet_say(5, "fleet store %s is back after %" PRId64 " s: published %" PRIu64
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
	fleet_say(3, "ERROR: fleet store %s unreachable: %s; bans stay local (sshand is "
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
			fleet_say(4, "WARNING: %s: %s: failures made while the service was "
			    "stopped are not published", state, strerror(errno));
		return;
	}
	r = fleet_state_read(&f->t, fp);
	fclose(fp);
	if (r < 0)
		fleet_say(4, "WARNING: %s: %s: ignored; failures made while the service was "
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
		fleet_say(3, "ERROR: %s: %s", path, strerror(-r));
		goto out;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!once) {
		if (asprintf(&state, "%s.fleet-state", path) < 0) {
			state = NULL;
			fleet_say(3, "ERROR: out of memory");
			goto out;
		}
		state_load(&f, state);
		w.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		watch_file(&w, path);
		fleet_say(6, "fleet-sync: %s with %s (every %d ms, on each change)", path,
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
				fleet_say(3, "ERROR: %s: %s", path, strerror(-r));
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
				fleet_say(4, "WARNING: %s: %s", state, strerror(-r));
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
			fleet_say(4, "WARNING: %s: %s", state, strerror(-r));
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
