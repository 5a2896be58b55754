/* The fleet store's Redis side: the connection, the script that counts
 * a failure or raises a ban atomically (see bans-fleet.c's top comment
 * for the keys and the rounds), and the fleet's side of bans list --fleet
 * and bans unban. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/ctl/ctl.h"
#include "policy/ctl/fleet-redis.h"

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


static int journal_prefix = -1;

void
fleet_say(int prio, const char *fmt, ...)
{
	va_list ap;

	if (journal_prefix < 0)
		journal_prefix = getenv("JOURNAL_STREAM") != NULL;
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

void
fleet_disconnect(struct fleet *f)
{
	if (f->rc)
		redisFree(f->rc);
	f->rc = NULL;
}

redisReply *
fleet_checked(struct fleet *f, void *reply, int type)
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
	redisReply *r = fleet_checked(f, redisCommand(f->rc, "SCRIPT LOAD %s", fleet_lua),
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

int
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
			fleet_say(3, "ERROR: BanStorePasswordFile %s: %s", s->ban_store_password_file,
			    r == -ENODATA ? "empty" : strerror(-r));
			ban_url_wipe(&f->url);
			return -EINVAL;
		}
		f->url.has_password = true;
	}
	return 0;
}

int
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
		if (!(r = fleet_checked(f, r, REDIS_REPLY_STATUS)))
			goto fail;
		freeReplyObject(r);
	}
	if (f->url.db) {
		r = fleet_checked(f, redisCommand(f->rc, "SELECT %u", f->url.db), REDIS_REPLY_STATUS);
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

void
fleet_key_names(const struct fleet *f, const char *member, char *entry, char *set, char *gen)
{
	snprintf(entry, MEMBER_MAX, "%se:%s", f->prefix, member);
	snprintf(set, MEMBER_MAX, "%sbanned", f->prefix);
	snprintf(gen, MEMBER_MAX, "%sgen", f->prefix);
}

/* Runs the script: mode "fail" (a4 the weight, a5 the limit) or "ban"
 * (a4 the end of the ban, a5 its count); ret {until, bans}. */
int
fleet_eval(struct fleet *f, const char *mode, const char *member, int64_t now,
    uint64_t a4, uint64_t a5, int64_t ret[2])
{
	char entry[MEMBER_MAX], set[MEMBER_MAX], gen[MEMBER_MAX], n[6][24];
	const char *argv[14];
	redisReply *r;

	fleet_key_names(f, member, entry, set, gen);
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
		r = fleet_checked(f, redisCommandArgv(f->rc, 14, argv, NULL), REDIS_REPLY_ARRAY);
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
	r = fleet_checked(f, redisCommand(f->rc, "HMGET %s f ws bans until total last", key),
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
		redisReply *r = fleet_checked(&f, redisCommand(f.rc, "SCAN %s MATCH %s COUNT 1000",
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
	fleet_key_names(&f, member, entry, set, gen);
	ret = -EIO;
	if (fleet_connect(&f) < 0)
		goto fail;
	r = fleet_checked(&f, redisCommand(f.rc, "DEL %s", entry), REDIS_REPLY_INTEGER);
	if (!r)
		goto fail;
	ret = r->integer > 0;
	freeReplyObject(r);
	r = fleet_checked(&f, redisCommand(f.rc, "ZREM %s %s", set, member), REDIS_REPLY_INTEGER);
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
