/* banstress: drives the ban file for the integration tests and benchmarks.
 *
 *   banstress fail FILE ADDR N [WEIGHT]   record N failures (weight in 1/1000)
 *   banstress hammer FILE ADDR            update forever (to be SIGKILLed)
 *   banstress verify FILE                 exit 0 iff ban_verify is happy
 *   banstress check FILE ADDR             exit 0 not banned, 3 banned
 *   banstress bench FILE N                JSON lookup/update cost at N entries
 *
 * Params: max_failures 1000000 (no bans unless BANSTRESS_MAX_FAILURES is
 * set), max_entries from BANSTRESS_MAX_ENTRIES (default 65536), /64.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "policy/ban.h"

static void
usage(void)
{
	fprintf(stderr, "usage: banstress fail FILE ADDR N [WEIGHT] | hammer FILE ADDR |"
	    " verify FILE | check FILE ADDR | bench FILE N\n");
	exit(2);
}

static unsigned
env_uint(const char *name, unsigned def)
{
	const char *v = getenv(name);

	return v && *v ? (unsigned)strtoul(v, NULL, 10) : def;
}

static void
params(struct ban_params *p, unsigned max_entries)
{
	memset(p, 0, sizeof(*p));
	p->max_failures = env_uint("BANSTRESS_MAX_FAILURES", 1000000);
	p->find_time = 600;
	p->ban_time = 3600;
	p->ban_time_max = 7 * 86400;
	p->ipv6_prefix = 64;
	p->max_entries = max_entries;
}

static struct ban_store *
open_store(const char *path, unsigned max_entries)
{
	struct ban_params p;
	struct ban_store *b;
	int r;

	params(&p, max_entries);
	r = ban_open(path, &p, &b);
	if (r < 0) {
		fprintf(stderr, "banstress: %s: %s\n", path, strerror(-r));
		exit(1);
	}
	if (ban_take_damaged(b))
		fprintf(stderr, "banstress: %s: damaged, rebuilt\n", path);
	return b;
}

static void
sockaddr_of(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, s, &s6->sin6_addr) == 1)
		s6->sin6_family = AF_INET6;
	else {
		fprintf(stderr, "banstress: bad address %s\n", s);
		exit(2);
	}
}

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmd_fail(int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct ban_store *b;
	unsigned long n, weight = BAN_FAIL_UNIT;

	if (argc < 5 || argc > 6)
		usage();
	sockaddr_of(argv[3], &ss);
	n = strtoul(argv[4], NULL, 10);
	if (argc == 6)
		weight = strtoul(argv[5], NULL, 10);
	b = open_store(argv[2], env_uint("BANSTRESS_MAX_ENTRIES", 65536));
	for (unsigned long i = 0; i < n; i++) {
		int r = ban_record_failure(b, (struct sockaddr *)&ss, (unsigned)weight,
		    now_s(), NULL);

		if (r < 0) {
			fprintf(stderr, "banstress: record: %s\n", strerror(-r));
			return 1;
		}
	}
	ban_close(b);
	return 0;
}

static int
cmd_hammer(int argc, char **argv)
{
	struct sockaddr_storage ss, other;
	struct ban_store *b;
	struct netaddr a;
	uint32_t i = 0;

	if (argc != 4)
		usage();
	sockaddr_of(argv[3], &ss);
	b = open_store(argv[2], env_uint("BANSTRESS_MAX_ENTRIES", 65536));
	/* Mostly the one address, sometimes others, bans and unbans: every
	 * kind of slot write is in flight when the kill lands. */
	for (;;) {
		i++;
		if (ban_record_failure(b, (struct sockaddr *)&ss, BAN_FAIL_UNIT, now_s(), NULL) < 0)
			return 1;
		if (i % 4 == 0) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&other;

			memset(&other, 0, sizeof(other));
			s4->sin_family = AF_INET;
			s4->sin_addr.s_addr = htonl(0xc6336400u | (i / 4 % 200));	/* 198.51.100.x */
			(void)ban_record_failure(b, (struct sockaddr *)&other, 1, now_s(), NULL);
			if (i % 16 == 0) {
				memset(&a, 0, sizeof(a));
				a.family = AF_INET;
				memcpy(a.a, &s4->sin_addr, 4);
				(void)ban_add(b, &a, 60, now_s());
				if (i % 32 == 0)
					(void)ban_remove(b, &a);
			}
		}
	}
}

static int
count_one(const struct ban_entry *e, void *userdata)
{
	uint64_t *c = userdata;

	c[0]++;
	c[1] += e->total_failures;
	return 0;
}

static int
cmd_verify(int argc, char **argv)
{
	struct ban_params p;
	struct ban_store *b;
	uint64_t c[2] = { 0, 0 };
	int r;

	if (argc != 3)
		usage();
	/* Open with whatever geometry the file has would need its header:
	 * the tests use the default, so open with it and no migration. */
	params(&p, env_uint("BANSTRESS_MAX_ENTRIES", 65536));
	r = ban_open(argv[2], &p, &b);
	if (r < 0) {
		fprintf(stderr, "banstress: %s: %s\n", argv[2], strerror(-r));
		return 1;
	}
	r = ban_verify(b);
	if (ban_foreach(b, count_one, c) < 0)
		r = -EIO;
	printf("{\"consistent\":%s,\"entries\":%" PRIu64 ",\"total_units\":%" PRIu64
	    ",\"damaged\":%s}\n", r == 0 ? "true" : "false", c[0], c[1],
	    ban_take_damaged(b) ? "true" : "false");
	ban_close(b);
	return r == 0 ? 0 : 1;
}

static int
cmd_check(int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct ban_store *b;
	int64_t until = 0;
	bool damaged = false;
	int r;

	if (argc != 4)
		usage();
	sockaddr_of(argv[3], &ss);
	b = open_store(argv[2], env_uint("BANSTRESS_MAX_ENTRIES", 65536));
	r = ban_check(b, (struct sockaddr *)&ss, now_s(), &until, &damaged);
	printf("{\"result\":%d,\"until\":%" PRId64 ",\"damaged\":%s}\n", r, until,
	    damaged ? "true" : "false");
	ban_close(b);
	return r == 1 ? 3 : r == 0 ? 0 : 1;
}

static void
bench_addr(uint32_t i, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	s4->sin_family = AF_INET;
	s4->sin_addr.s_addr = htonl(0x0a000000u + i);	/* 10.0.0.0/8 */
}

static int
cmd_bench(int argc, char **argv)
{
	const uint32_t ops = 100000;
	struct sockaddr_storage ss;
	struct ban_store *b;
	unsigned long n;
	uint64_t t0, t_lookup, t_update, seed = 0x9e3779b97f4a7c15ULL;
	int64_t now = now_s();

	if (argc != 4)
		usage();
	n = strtoul(argv[3], NULL, 10);
	if (n < 1 || n > 8000000)
		usage();
	unlink(argv[2]);
	b = open_store(argv[2], (unsigned)n);
	for (uint32_t i = 0; i < n; i++) {
		bench_addr(i, &ss);
		if (ban_record_failure(b, (struct sockaddr *)&ss, 1, now, NULL) < 0) {
			fprintf(stderr, "banstress: fill failed at %u\n", i);
			return 1;
		}
	}
	t0 = now_ns();
	for (uint32_t i = 0; i < ops; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		bench_addr((uint32_t)((seed >> 33) % n), &ss);
		if (ban_check(b, (struct sockaddr *)&ss, now, NULL, NULL) < 0)
			return 1;
	}
	t_lookup = now_ns() - t0;
	t0 = now_ns();
	for (uint32_t i = 0; i < ops; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		bench_addr((uint32_t)((seed >> 33) % n), &ss);
		if (ban_record_failure(b, (struct sockaddr *)&ss, 1, now, NULL) < 0)
			return 1;
	}
	t_update = now_ns() - t0;
	printf("{\"entries\":%lu,\"lookup_ns\":%" PRIu64 ",\"update_ns\":%" PRIu64 "}\n",
	    n, t_lookup / ops, t_update / ops);
	ban_close(b);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 3)
		usage();
	if (strcmp(argv[1], "fail") == 0)
		return cmd_fail(argc, argv);
	if (strcmp(argv[1], "hammer") == 0)
		return cmd_hammer(argc, argv);
	if (strcmp(argv[1], "verify") == 0)
		return cmd_verify(argc, argv);
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc, argv);
	if (strcmp(argv[1], "bench") == 0)
		return cmd_bench(argc, argv);
	usage();
	return 2;
}
