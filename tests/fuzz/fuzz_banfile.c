/* libFuzzer target: the ban file, which every sshand process of the host
 * reads, writes and rebuilds.  The input is the file's image (after one
 * flags byte); it is written to a file that the library then opens,
 * checks sources against, records a failure in, walks and purges, as the
 * front, the monitor and sshandctl do.
 *
 * The header and each slot copy carry a SipHash check, which random
 * bytes never pass: they would only ever reach "damaged, rebuilt".  So
 * the flags byte lets the fuzzer ask the harness to seal the header
 * (bit 0), to make its geometry fit the image's size first (bit 2), and
 * to seal every published slot copy with the header's key (bit 1): the
 * fields behind the checks (versions, geometry, addresses, prefixes,
 * counts, times) are then parsed as a writer's would be.
 *
 * Whatever the file held, a source that has just been banned must read
 * as banned: anything else aborts. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "policy/ban-format.h"
#include "policy/ban.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T0 1767225600		/* the seeds' "now" (tests/fuzz/mkseeds.c) */
#define MAX_IMAGE (BAN_HEADER_SIZE + 16 * BAN_BUCKET_SIZE)

enum { SEAL_HEADER = 1, SEAL_SLOTS = 2, FIT_SIZE = 4 };

static char dir[4096], path[4096];
static const char *const exempt[] = { "198.51.100.0/24" };
/* 16 entries: 4 buckets, an 8 KiB file (the seeds' geometry). */
static const struct ban_params params = {
	.max_failures = 5, .find_time = 600, .ban_time = 3600,
	.ban_time_max = 7 * 86400, .ipv6_prefix = 64, .max_entries = 16,
	.exempt = exempt, .n_exempt = 1,
};

static void
cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

static void
setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/sshand-fuzz-ban.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/bans", dir);
	atexit(cleanup);
}

/* The low 32 bits of SipHash (file key) of (index, copy with check 0):
 * the writer's check, computed here apart from the code under test. */
static void
seal_copy(const uint8_t key[16], uint64_t idx, struct ban_copy *c)
{
	uint8_t buf[8 + sizeof(*c)];

	c->check = 0;
	memcpy(buf, &idx, 8);
	memcpy(buf + 8, c, sizeof(*c));
	c->check = (uint32_t)ban_siphash(key, buf, sizeof(buf));
}

/* Applies the flags to the image in buf; returns its length. */
static size_t
prepare(uint8_t flags, uint8_t *buf, size_t len)
{
	struct ban_header h;

	if (len < sizeof(h))
		return len;
	memcpy(&h, buf, sizeof(h));
	if ((flags & FIT_SIZE) && len >= BAN_HEADER_SIZE + 2 * BAN_BUCKET_SIZE) {
		h.nbuckets = (uint32_t)((len - BAN_HEADER_SIZE) / BAN_BUCKET_SIZE);
		len = BAN_HEADER_SIZE + (size_t)h.nbuckets * BAN_BUCKET_SIZE;
	}
	if (flags & (SEAL_HEADER | FIT_SIZE))
		ban_header_seal(&h);
	memcpy(buf, &h, sizeof(h));
	if (!(flags & SEAL_SLOTS))
		return len;
	for (uint64_t idx = 0; BAN_HEADER_SIZE + (idx + 1) * BAN_SLOT_SIZE <= len;
	    idx++) {
		struct ban_slot s;
		uint8_t *at = buf + BAN_HEADER_SIZE + idx * BAN_SLOT_SIZE;

		memcpy(&s, at, sizeof(s));
		for (int i = 0; i < 2; i++)
			if (s.c[i].seq != 0)
				seal_copy(h.key, idx, &s.c[i]);
		memcpy(at, &s, sizeof(s));
	}
	return len;
}

static void
put_file(const uint8_t *image, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || (len > 0 && write(fd, image, len) != (ssize_t)len))
		abort();
	close(fd);
}

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

static int
visit(const struct ban_entry *e, void *userdata)
{
	char buf[BAN_ADDR_STRLEN];

	(void)userdata;
	if ((e->key.family != AF_INET && e->key.family != AF_INET6) ||
	    e->prefix < 1 || e->prefix > 128 ||
	    ban_entry_format_addr(e, buf, sizeof(buf)) < 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Addresses the seeds hold, one of each kind, and the exempt net. */
	static const char *const addrs[] = { "192.0.2.7", "2001:db8::1",
	    "::ffff:192.0.2.8", "198.51.100.9" };
	static uint8_t image[MAX_IMAGE];
	struct ban_store *b = NULL;
	struct sockaddr_storage ss;
	int64_t until;
	size_t len;
	int r;

	if (path[0] == '\0')
		setup();
	if (size < 1 || size - 1 > sizeof(image))
		return 0;
	memcpy(image, data + 1, size - 1);
	len = prepare(data[0], image, size - 1);
	put_file(image, len);

	if (ban_open(path, &params, &b) == 0) {
		(void)ban_verify(b);
		(void)ban_foreach(b, visit, NULL);
		for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
			ss = source(addrs[i]);
			(void)ban_check(b, (struct sockaddr *)&ss, T0, &until, NULL);
		}
		/* Five failed logins at once ban any source but the exempt. */
		ss = source("2001:db8::2");
		r = ban_record_failure(b, (struct sockaddr *)&ss,
		    params.max_failures * BAN_FAIL_UNIT, T0, &until);
		if (r == 0 || (r == 1 && ban_check(b, (struct sockaddr *)&ss,
		    T0 + 1, &until, NULL) != 1))
			abort();
		(void)ban_purge(b, T0 + 86400, false);
		(void)ban_verify(b);
		(void)ban_take_damaged(b);
		(void)ban_take_migrated(b);
		ban_close(b);
	}
	unlink(path);
	return 0;
}
