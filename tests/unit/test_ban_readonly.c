/* Unit tests of the ban file's read-only use (sshandctl bans nft-sync):
 * nothing created, rebuilt or migrated, damage reported; and of the
 * BanExempt overlap test that keeps exempt networks out of the set. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy/ban.h"

#define T0 1000000000

static char dir[64];
static char path[128];

static void
params(struct ban_params *p)
{
	memset(p, 0, sizeof(*p));
	p->max_failures = 5;
	p->find_time = 600;
	p->ban_time = 3600;
	p->ban_time_max = 4 * 3600;
	p->ipv6_prefix = 64;
	p->max_entries = 1000;
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_ban_ro.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bans", dir);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The whole file, to compare before and after. */
static char *
slurp(size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	*len = (size_t)st.st_size;
	buf = malloc(*len + 1);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, *len, 0), (ssize_t)*len);
	close(fd);
	return buf;
}

static int
count_one(const struct ban_entry *e, void *userdata)
{
	(void)e;
	(*(int *)userdata)++;
	return 0;
}

static void
ban(struct ban_store *b, const char *addr)
{
	struct netaddr a;

	assert_int_equal(ban_addr_parse(addr, &a), 0);
	assert_int_equal(ban_add(b, &a, 0, T0), 0);
}

static void
test_readonly_reads_only(void **state)
{
	struct ban_params p;
	struct ban_store *b = NULL;
	char *before, *after;
	size_t lb, la;
	int n = 0;

	(void)state;
	params(&p);
	assert_int_equal(ban_open_readonly(path, &p, &b), -ENOENT);
	assert_int_equal(access(path, F_OK), -1);

	assert_int_equal(ban_open(path, &p, &b), 0);
	ban(b, "192.0.2.7");
	ban(b, "2001:db8::1");
	ban_close(b);
	before = slurp(&lb);

	/* Other geometry asked: read as it is, not migrated. */
	p.max_entries = 5000;
	p.ipv6_prefix = 48;
	assert_int_equal(ban_open_readonly(path, &p, &b), 0);
	assert_int_equal(ban_foreach(b, count_one, &n), 0);
	assert_int_equal(n, 2);
	ban_close(b);
	after = slurp(&la);
	assert_int_equal(la, lb);
	assert_memory_equal(before, after, lb);
	free(after);

	/* A damaged header: reported, not rebuilt. */
	before[0] ^= 0xff;
	{
		int fd = open(path, O_WRONLY | O_CLOEXEC);

		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, before, 1, 0), 1);
		close(fd);
	}
	assert_int_equal(ban_open_readonly(path, &p, &b), 0);
	n = 0;
	assert_int_equal(ban_foreach(b, count_one, &n), -EBADMSG);
	ban_close(b);
	after = slurp(&la);
	assert_int_equal(la, lb);
	assert_memory_equal(before, after, lb);
	free(after);
	free(before);

	/* A file it may not write is still read. */
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(ban_open_readonly(path, &p, &b), 0);
	ban_close(b);
}

static int
overlaps(struct ban_store *b, const char *net)
{
	struct netaddr a;
	unsigned len;

	assert_int_equal(cidr_parse(net, &a, &len), 0);
	return ban_exempt_overlaps(b, &a, len);
}

static void
test_exempt_overlaps(void **state)
{
	static const char *const exempt[] = { "10.9.0.0/16", "2001:db8:1::5", "2001:db8:100::/40" };
	struct ban_params p;
	struct ban_store *b = NULL;

	(void)state;
	params(&p);
	p.exempt = exempt;
	p.n_exempt = 3;
	assert_int_equal(ban_open(path, &p, &b), 0);
	assert_int_equal(overlaps(b, "10.9.1.1"), 1);		/* inside */
	assert_int_equal(overlaps(b, "10.10.1.1"), 0);
	assert_int_equal(overlaps(b, "::ffff:10.9.1.1"), 1);	/* mapped: IPv4 */
	assert_int_equal(overlaps(b, "2001:db8:1::/64"), 1);	/* holds an exempt host */
	assert_int_equal(overlaps(b, "2001:db8:2::/64"), 0);
	assert_int_equal(overlaps(b, "2001:db8:100:7::/64"), 1);	/* inside a /40 */
	assert_int_equal(overlaps(b, "2001:db8:200::/64"), 0);
	ban_close(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_readonly_reads_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exempt_overlaps, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
