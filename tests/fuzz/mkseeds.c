/* Writes the seeds of the fuzzing targets that are binary (make
 * fuzz-seeds, run by hand when a format changes; the output is
 * committed in tests/fuzz/corpus/):
 *
 *	privsep/<name>	one message of every type, as ps_put_<name> encodes
 *			it from a sample of its fields (messages.h)
 *	banfile/<name>	ban files as the library writes them, behind the
 *			flags byte of fuzz_banfile.c
 *
 * Usage: mkseeds CORPUS-DIR */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "handler/privsep/messages.h"
#include "policy/ban-format.h"
#include "policy/ban.h"

#define T0 1767225600		/* fuzz_banfile.c's "now" */

static const char *dir;

static void
put(const char *target, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/%s", dir, target);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", dir, target, name);
	f = fopen(path, "we");
	if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* ---- privsep: a sample of each field kind ---- */

static const uint8_t sample_bytes[] = { 0, 0, 0, 11, 's', 's', 'h', '-', 'e',
    'd', '2', '5', '5', '1', '9', 0, 0, 0, 4, 1, 2, 3, 4 };

#define FILL(kind, name, bound, count) FILL_##kind(name, bound, count)
#define FILL_U32(name, bound, count) r.name = 7;
#define FILL_U64(name, bound, count) r.name = 1ull << 33;
#define FILL_MAX(name, bound, count) r.name = (bound);
#define FILL_BOOL(name, bound, count) r.name = true;
#define FILL_STR(name, bound, count) r.name = #name "-value";
#define FILL_CUT(name, bound, count) FILL_STR(name, bound, count)
#define FILL_BYTES(name, bound, count) \
	r.name = sample_bytes; r.name##_len = sizeof(sample_bytes);
#define FILL_STRS(name, bound, count) \
	r.n_##name = 2; r.name[0] = "LANG=C"; r.name[1] = "second";
#define FILL_FDS(name, bound, count) r.n_##name = 0;

static struct ps_msg m;

#define SAMPLE(type, name, ...) {					\
	struct ps_##name r;						\
									\
	memset(&r, 0, sizeof(r));					\
	PS_FIELDS_##name(FILL)						\
	ps_put_##name(&m, &r);						\
	if (m.wr.bad)							\
		abort();						\
	put("privsep", #name, m.buf, m.wr.len);				\
}

static void
privsep_seeds(void)
{
	PS_REQUESTS(SAMPLE)
	PS_MONITOR_MESSAGES(SAMPLE)
	PS_KEYHOLDER_MESSAGES(SAMPLE)
	PS_FORWARDER_MESSAGES(SAMPLE)
}

/* ---- banfile ---- */

/* fuzz_banfile.c's parameters. */
static const struct ban_params params = {
	.max_failures = 5, .find_time = 600, .ban_time = 3600,
	.ban_time_max = 7 * 86400, .ipv6_prefix = 64, .max_entries = 16,
};

static struct sockaddr_storage
source(const char *addr)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1)
		s6->sin6_family = AF_INET6;
	else
		abort();
	return ss;
}

static void
fail(struct ban_store *b, const char *addr, unsigned weight, int64_t now)
{
	struct sockaddr_storage ss = source(addr);

	if (ban_record_failure(b, (struct sockaddr *)&ss, weight, now, NULL) < 0)
		abort();
}

/* The file at path behind flags, as a seed. */
static void
put_image(const char *path, uint8_t flags, const char *name)
{
	static uint8_t buf[1 + BAN_HEADER_SIZE + 64 * BAN_BUCKET_SIZE];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		abort();
	buf[0] = flags;
	n = read(fd, buf + 1, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		abort();
	put("banfile", name, buf, 1 + (size_t)n);
}

static void
set_version(const char *path, uint32_t v)
{
	struct ban_header h;
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0 || pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		abort();
	h.version = v;
	ban_header_seal(&h);
	if (pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		abort();
	close(fd);
}

static void
banfile_seeds(void)
{
	char tmp[] = "/tmp/sshand-mkseeds.XXXXXX", path[64];
	struct ban_params small = params;
	struct ban_store *b;
	struct netaddr a;

	if (mkdtemp(tmp) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/bans", tmp);

	if (ban_open(path, &params, &b) < 0)
		abort();
	put_image(path, 0, "empty");
	/* The kinds of entry: failures in a window, banned, a repeat
	 * offender, an IPv6 network, a v4-mapped source, a probe. */
	fail(b, "192.0.2.7", 2 * BAN_FAIL_UNIT, T0 - 60);
	fail(b, "192.0.2.9", 5 * BAN_FAIL_UNIT, T0 - 120);
	fail(b, "2001:db8::1", 3 * BAN_FAIL_UNIT, T0 - 30);
	fail(b, "::ffff:192.0.2.8", BAN_WEIGHT_PROBE, T0 - 10);
	if (ban_addr_parse("203.0.113.5", &a) < 0 ||
	    ban_add(b, &a, 0, T0 - 7200) < 0 || ban_add(b, &a, 0, T0 - 100) < 0)
		abort();
	ban_close(b);
	put_image(path, 0, "entries");
	put_image(path, 3, "entries-sealed");
	/* An older sshand's file, to migrate. */
	set_version(path, BAN_VERSION_V1);
	put_image(path, 0, "version1");
	unlink(path);

	/* Another geometry (migrated to the harness's). */
	small.max_entries = 4;
	if (ban_open(path, &small, &b) < 0)
		abort();
	fail(b, "192.0.2.7", BAN_FAIL_UNIT, T0 - 60);
	ban_close(b);
	put_image(path, 0, "small");
	unlink(path);
	rmdir(tmp);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS-DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	privsep_seeds();
	banfile_seeds();
	return 0;
}
