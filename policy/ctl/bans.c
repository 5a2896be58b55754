/* sshandctl bans: look at and change the shared ban file.  Every sshand
 * process reads the file at each connection, so a change here applies to
 * the next connection. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/ban.h"
#include "policy/config.h"
#include "policy/ctl/ctl.h"
#include "policy/util/json.h"

struct bans_ctx {
	int json;
	int64_t now;
	struct ban_params p;
	const char *path;
};

static void
bans_usage(FILE *f)
{
	fprintf(f,
	    "usage: sshandctl [-f CONFIG] [--json] bans [--ban-file PATH] COMMAND\n"
	    "  list                   every entry\n"
	    "  show ADDR              one address (IPv6: its network)\n"
	    "  ban ADDR [DURATION]    ban now (\"1h\", \"30m\"; default: BanTime,\n"
	    "                         doubled for repeat offenders)\n"
	    "  unban ADDR             forget the address\n"
	    "  purge [--all]          drop expired entries (or all)\n"
	    "  nft-sync [OPTIONS]     put the banned sources into an nftables set\n"
	    "                         (see sshandctl(8); --help)\n"
	    "  list --fleet           the fleet store's entries (BanStore redis://)\n"
	    "  fleet-sync [--once]    mirror the ban file to and from the fleet store\n"
	    "                         (see sshandctl(8); --help)\n");
}

/* Failures are stored in 1/BAN_FAIL_UNIT: show them as attempts. */
static void
print_units(uint32_t u)
{
	_Static_assert(BAN_FAIL_UNIT == 1000, "three decimals");
	printf("%" PRIu32, u / BAN_FAIL_UNIT);
	if (u % BAN_FAIL_UNIT)
		printf(".%03" PRIu32, u % BAN_FAIL_UNIT);
}

static void
iso_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%" PRId64, t);
}

static void
span(int64_t s, char *buf, size_t len)
{
	if (s >= 86400)
		snprintf(buf, len, "%" PRId64 "d%" PRId64 "h", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, len, "%" PRId64 "h%" PRId64 "m", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, len, "%" PRId64 "m%" PRId64 "s", s / 60, s % 60);
	else
		snprintf(buf, len, "%" PRId64 "s", s);
}

/* Failures that still count: the stored ones are stale once the window
 * has passed (the next failure restarts it). */
static uint32_t
window_failures(const struct bans_ctx *c, const struct ban_entry *e)
{
	if (e->failures == 0 || c->now < e->window_start ||
	    c->now - e->window_start >= (int64_t)c->p.find_time)
		return 0;
	return e->failures;
}

static void
print_entry_json(const struct bans_ctx *c, const struct ban_entry *e)
{
	char addr[BAN_ADDR_STRLEN], t[64];
	bool banned = e->banned_until > c->now;

	if (ban_entry_format_addr(e, addr, sizeof(addr)) < 0)
		snprintf(addr, sizeof(addr), "?");
	printf("{\"address\":");
	json_print_string(stdout, addr);
	printf(",\"prefix\":%u,\"failures\":", e->prefix);
	print_units(window_failures(c, e));
	printf(",\"failure_units\":%" PRIu32 ",\"total_failures\":", window_failures(c, e));
	print_units(e->total_failures);
	printf(",\"total_units\":%" PRIu32 ",\"bans\":%" PRIu32 ",\"banned\":%s",
	    e->total_failures, e->bans, banned ? "true" : "false");
	if (banned) {
		iso_time(e->banned_until, t, sizeof(t));
		printf(",\"banned_until\":\"%s\",\"banned_until_epoch\":%" PRId64
		    ",\"remaining\":%" PRId64, t, e->banned_until, e->banned_until - c->now);
	} else
		printf(",\"banned_until\":null,\"banned_until_epoch\":0,\"remaining\":0");
	if (e->last_failure) {
		iso_time(e->last_failure, t, sizeof(t));
		printf(",\"last_failure\":\"%s\"", t);
	} else
		printf(",\"last_failure\":null");
	putchar('}');
}

static void
print_entry_line(const struct bans_ctx *c, const struct ban_entry *e)
{
	char addr[BAN_ADDR_STRLEN], t[64], left[32];

	if (ban_entry_format_addr(e, addr, sizeof(addr)) < 0)
		snprintf(addr, sizeof(addr), "?");
	printf("%-43s ", addr);
	print_units(window_failures(c, e));
	printf("\t");
	print_units(e->total_failures);
	printf("\t%" PRIu32 "\t", e->bans);
	if (e->banned_until > c->now) {
		iso_time(e->banned_until, t, sizeof(t));
		span(e->banned_until - c->now, left, sizeof(left));
		printf("%s (%s left)\n", t, left);
	} else
		printf("-\n");
}

static void
print_header(void)
{
	printf("%-43s FAILURES\tTOTAL\tBANS\tBANNED UNTIL\n", "ADDRESS");
}

struct collected {
	struct ban_entry *v;
	size_t n, cap;
};

/* Copies entries out: printing under the file's lock would let a paused
 * pager hold up every sshand process recording a failure. */
static int
collect_one(const struct ban_entry *e, void *userdata)
{
	struct collected *c = userdata;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct ban_entry *v = reallocarray(c->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = *e;
	return 0;
}

/* Banned first (longest ban first), then by failures ever. */
static int
entry_cmp(const void *pa, const void *pb)
{
	const struct ban_entry *a = pa, *b = pb;

	if (a->banned_until != b->banned_until)
		return a->banned_until > b->banned_until ? -1 : 1;
	if (a->total_failures != b->total_failures)
		return a->total_failures > b->total_failures ? -1 : 1;
	return memcmp(a->key.a, b->key.a, sizeof(a->key.a));
}

/* Sorts and prints entries: the local view (what is the ban file's
 * key in JSON) or the fleet's. */
int
bans_print_entries(int json, int64_t now, unsigned find_time, const char *what,
    const char *where, struct ban_entry *v, size_t n)
{
	struct bans_ctx c;

	memset(&c, 0, sizeof(c));
	c.json = json;
	c.now = now;
	c.p.find_time = find_time;
	if (n)
		qsort(v, n, sizeof(*v), entry_cmp);
	if (json) {
		printf("{\"%s\":", what);
		json_print_string(stdout, where);
		printf(",\"now\":%" PRId64 ",\"entries\":[", now);
	} else
		print_header();
	for (size_t i = 0; i < n; i++) {
		if (json) {
			if (i)
				putchar(',');
			print_entry_json(&c, &v[i]);
		} else
			print_entry_line(&c, &v[i]);
	}
	if (json)
		printf("]}\n");
	return 0;
}

static int
cmd_list(struct bans_ctx *c, struct ban_store *b)
{
	struct collected all = { NULL, 0, 0 };
	int r;

	r = ban_foreach(b, collect_one, &all);
	if (r < 0) {
		fprintf(stderr, "sshandctl: %s: %s\n", c->path, strerror(-r));
		free(all.v);
		return 1;
	}
	bans_print_entries(c->json, c->now, c->p.find_time, "ban_file", c->path, all.v,
	    all.n);
	free(all.v);
	return 0;
}

static int
parse_addr(const char *s, struct netaddr *a)
{
	if (ban_addr_parse(s, a) < 0) {
		fprintf(stderr, "sshandctl: not an address: %s\n", s);
		return -1;
	}
	return 0;
}

/* Prints one entry, or says there is none (exit 1). */
static int
show(struct bans_ctx *c, struct ban_store *b, const char *arg, const struct netaddr *a)
{
	struct ban_entry e;
	int r;

	r = ban_lookup(b, a, &e);
	if (r == -ENOENT) {
		if (c->json) {
			printf("{\"address\":");
			json_print_string(stdout, arg);
			printf(",\"found\":false}\n");
		} else
			printf("%s: no entry\n", arg);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "sshandctl: %s: %s\n", c->path, strerror(-r));
		return 1;
	}
	if (c->json) {
		print_entry_json(c, &e);
		putchar('\n');
	} else {
		print_header();
		print_entry_line(c, &e);
	}
	return 0;
}

static int
cmd_ban(struct bans_ctx *c, struct ban_store *b, int argc, char **argv)
{
	struct netaddr a;
	unsigned d = 0;
	int r;

	if (argc < 2 || argc > 3)
		return 2;
	if (parse_addr(argv[1], &a) < 0)
		return 2;
	if (argc == 3 && (parse_time(argv[2], &d) < 0 || d == 0)) {
		fprintf(stderr, "sshandctl: bad duration: %s (e.g. 1h, 30m, 1d)\n", argv[2]);
		return 2;
	}
	r = ban_add(b, &a, d, c->now);
	if (r == -EPERM) {
		fprintf(stderr, "sshandctl: %s is in BanExempt: never banned\n", argv[1]);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "sshandctl: %s: %s\n", c->path, strerror(-r));
		return 1;
	}
	return show(c, b, argv[1], &a);
}

/* With a fleet store, the fleet's entry goes too: else fleet-sync would
 * bring the ban back.  Other hosts' files keep theirs (an unban there
 * too lifts it there); a fleet store out of reach fails the unban, and
 * the file is left as it was. */
static int
cmd_unban(struct bans_ctx *c, const struct settings *s, struct ban_store *b,
    int argc, char **argv)
{
	struct netaddr a;
	bool fleet = false;
	int r, fr;

	if (argc != 2)
		return 2;
	if (parse_addr(argv[1], &a) < 0)
		return 2;
	/* The fleet first: the file's sync, woken by the file's change,
	 * would otherwise find the fleet's ban and bring it back. */
	fr = bans_fleet_unban(s, &c->p, &a, &fleet);
	if (fleet && fr < 0)
		return 1;
	r = ban_remove(b, &a);
	if (r < 0 && r != -ENOENT) {
		fprintf(stderr, "sshandctl: %s: %s\n", c->path, strerror(-r));
		return 1;
	}
	if (fleet && fr > 0 && r == -ENOENT)
		r = 0;
	if (c->json) {
		printf("{\"address\":");
		json_print_string(stdout, argv[1]);
		printf(",\"removed\":%s}\n", r == 0 ? "true" : "false");
	} else
		printf("%s: %s\n", argv[1], r == 0 ? "unbanned" : "no entry");
	return r == 0 ? 0 : 1;
}

static int
cmd_purge(struct bans_ctx *c, struct ban_store *b, int argc, char **argv)
{
	bool all = false;
	int r;

	if (argc == 2 && strcmp(argv[1], "--all") == 0)
		all = true;
	else if (argc != 1)
		return 2;
	r = ban_purge(b, c->now, all);
	if (r < 0) {
		fprintf(stderr, "sshandctl: %s: %s\n", c->path, strerror(-r));
		return 1;
	}
	if (c->json)
		printf("{\"purged\":%d,\"all\":%s}\n", r, all ? "true" : "false");
	else
		printf("purged %d entr%s\n", r, r == 1 ? "y" : "ies");
	return 0;
}

/* The ban params from the config file (a missing file means the
 * built-in defaults, as it does for sshand). */
static int
load_settings(const struct ctl_opts *o, struct bans_ctx *c, struct settings **ret_s)
{
	char err[512];
	int r = config_settings(o->config_path, ret_s, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "sshandctl: %s\n", err);
		return -1;
	}
	c->path = (*ret_s)->ban_file;
	settings_ban_params(*ret_s, &c->p);
	return 0;
}

int
ctl_bans(const struct ctl_opts *o, int argc, char **argv)
{
	struct bans_ctx c;
	struct settings *s = NULL;
	struct ban_store *b = NULL;
	const char *ban_file = NULL;
	char *args[20];
	unsigned v;
	int n = 0, r;

	memset(&c, 0, sizeof(c));
	c.json = o->json;
	/* Options may come anywhere after "bans": scripts append them. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--ban-file") == 0 && i + 1 < argc)
			ban_file = argv[++i];
		else if (strncmp(argv[i], "--ban-file=", 11) == 0)
			ban_file = argv[i] + 11;
		else if (strcmp(argv[i], "--json") == 0)
			c.json = 1;
		else if ((strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) &&
		    !(n > 0 && (strcmp(args[0], "nft-sync") == 0 ||
		    strcmp(args[0], "fleet-sync") == 0))) {
			bans_usage(stdout);
			return 0;
		} else if (n < (int)(sizeof(args) / sizeof(args[0])))
			args[n++] = argv[i];
		else {
			bans_usage(stderr);
			return 2;
		}
	}
	if (n == 0) {
		bans_usage(stderr);
		return 2;
	}
	if (strcmp(args[0], "list") && strcmp(args[0], "show") && strcmp(args[0], "ban") &&
	    strcmp(args[0], "unban") && strcmp(args[0], "purge") &&
	    strcmp(args[0], "nft-sync") && strcmp(args[0], "fleet-sync")) {
		fprintf(stderr, "sshandctl bans: unknown command %s\n", args[0]);
		bans_usage(stderr);
		return 2;
	}
	if (load_settings(o, &c, &s) < 0)
		return 1;
	if (ban_file)
		c.path = ban_file;
	if (strcmp(args[0], "nft-sync") == 0) {
		/* Reads the file only: its own open. */
		struct ctl_opts no = *o;

		no.json = c.json;
		r = bans_nft_sync(&no, c.path, &c.p, n, args);
		goto out;
	}
	if (strcmp(args[0], "fleet-sync") == 0) {
		r = bans_fleet_sync(o, s, c.path, &c.p, n, args);
		goto out;
	}
	if (strcmp(args[0], "list") == 0 && n == 2 && strcmp(args[1], "--fleet") == 0) {
		struct ctl_opts fo = *o;

		fo.json = c.json;
		r = bans_fleet_list(&fo, s, &c.p);
		goto out;
	}
	c.now = (int64_t)time(NULL);
	r = ban_open(c.path, &c.p, &b);
	if (r < 0) {
		fprintf(stderr, "sshandctl: %s: %s\n", c.path, strerror(-r));
		r = 1;
		goto out;
	}
	if (ban_take_damaged(b))
		fprintf(stderr, "sshandctl: WARNING: %s was damaged and has been rebuilt "
		    "(entries lost)\n", c.path);
	if ((v = ban_take_migrated(b)) != 0)
		fprintf(stderr, "sshandctl: WARNING: %s was in ban file format %u and "
		    "has been migrated to format %u (failures now in 1/%u)\n", c.path, v,
		    BAN_FILE_VERSION, BAN_FAIL_UNIT);

	if (strcmp(args[0], "list") == 0)
		r = n == 1 ? cmd_list(&c, b) : 2;
	else if (strcmp(args[0], "show") == 0) {
		struct netaddr a;

		r = 2;
		if (n == 2 && parse_addr(args[1], &a) == 0)
			r = show(&c, b, args[1], &a);
	} else if (strcmp(args[0], "ban") == 0)
		r = cmd_ban(&c, b, n, args);
	else if (strcmp(args[0], "unban") == 0)
		r = cmd_unban(&c, s, b, n, args);
	else
		r = cmd_purge(&c, b, n, args);
	if (r == 2)
		bans_usage(stderr);
	if (ban_take_damaged(b))
		fprintf(stderr, "sshandctl: WARNING: %s: damaged slots found and dropped\n",
		    c.path);
out:
	ban_close(b);
	settings_free(s);
	if (fflush(stdout) != 0 && r == 0)
		r = 1;
	return r;
}
