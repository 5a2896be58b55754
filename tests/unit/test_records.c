/* Login records (handler/monitor/records.c) in files of a temporary
 * directory: the entries who, last, lastb and the "Last login" line read,
 * built as sshd builds them, and files that must be left alone. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utmp.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "handler/monitor/records.h"

static char dir[] = "/tmp/test_records.XXXXXX";
static char utmp_path[64], wtmp_path[64], btmp_path[64], lastlog_path[64];

static void
make_file(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(utmp_path, sizeof(utmp_path), "%s/utmp", dir);
	snprintf(wtmp_path, sizeof(wtmp_path), "%s/wtmp", dir);
	snprintf(btmp_path, sizeof(btmp_path), "%s/btmp", dir);
	snprintf(lastlog_path, sizeof(lastlog_path), "%s/lastlog", dir);
	records_use_files(&(struct records_files){ .utmp = utmp_path,
	    .wtmp = wtmp_path, .btmp = btmp_path, .lastlog = lastlog_path });
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(utmp_path);
	unlink(wtmp_path);
	unlink(btmp_path);
	unlink(lastlog_path);
	rmdir(dir);
	return 0;
}

static void
fresh_files(void)
{
	make_file(utmp_path, 0664);
	make_file(wtmp_path, 0664);
	make_file(btmp_path, 0660);
	make_file(lastlog_path, 0664);
}

/* The n-th entry of a utmp-format file; the count in *ret_n. */
static struct utmp *
read_entries(const char *path, size_t *ret_n)
{
	struct stat st;
	struct utmp *v;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size % (off_t)sizeof(struct utmp), 0);
	v = calloc(1, (size_t)st.st_size + 1);
	assert_non_null(v);
	assert_int_equal(read(fd, v, (size_t)st.st_size), st.st_size);
	close(fd);
	*ret_n = (size_t)st.st_size / sizeof(struct utmp);
	return v;
}

static struct sockaddr_in
v4(const char *a)
{
	struct sockaddr_in in = { .sin_family = AF_INET };

	assert_int_equal(inet_pton(AF_INET, a, &in.sin_addr), 1);
	return in;
}

static void
test_login_logout(void **state)
{
	struct sockaddr_in in = v4("192.0.2.7");
	struct utmp *u, *w;
	size_t nu, nw;
	time_t t, before = time(NULL);
	char host[64];

	(void)state;
	fresh_files();
	assert_int_equal(records_login(&(struct records_login){ .user = "alice",
	    .uid = 5001, .tty = "/dev/pts/3", .pid = 4242, .host = "192.0.2.7",
	    .addr = (struct sockaddr *)&in }), 0);

	u = read_entries(utmp_path, &nu);
	assert_int_equal(nu, 1);
	assert_int_equal(u[0].ut_type, USER_PROCESS);
	assert_int_equal(u[0].ut_pid, 4242);
	assert_string_equal(u[0].ut_line, "pts/3");
	/* sshd's id: the line's last four characters. */
	assert_memory_equal(u[0].ut_id, "ts/3", 4);
	assert_string_equal(u[0].ut_user, "alice");
	assert_string_equal(u[0].ut_host, "192.0.2.7");
	assert_memory_equal(&u[0].ut_addr_v6[0], &in.sin_addr, 4);
	assert_int_equal(u[0].ut_addr_v6[1], 0);
	assert_true(u[0].ut_tv.tv_sec >= before);
	free(u);

	/* The next login's "Last login" comes from lastlog, at uid's slot. */
	assert_int_equal(records_last_login(5001, &t, host, sizeof(host)), 0);
	assert_true(t >= before && t <= time(NULL));
	assert_string_equal(host, "192.0.2.7");
	/* Another uid has none; nor one past the end of the file. */
	assert_int_equal(records_last_login(5000, &t, host, sizeof(host)), 0);
	assert_int_equal(t, 0);
	assert_int_equal(records_last_login(9999, &t, host, sizeof(host)), 0);
	assert_int_equal(t, 0);
	assert_string_equal(host, "");

	assert_int_equal(records_logout("/dev/pts/3", 4242), 0);
	/* The same utmp slot, now dead: who shows nothing. */
	u = read_entries(utmp_path, &nu);
	assert_int_equal(nu, 1);
	assert_int_equal(u[0].ut_type, DEAD_PROCESS);
	assert_string_equal(u[0].ut_line, "pts/3");
	assert_string_equal(u[0].ut_user, "");
	free(u);
	/* wtmp: the login and its logout, which last pairs by line. */
	w = read_entries(wtmp_path, &nw);
	assert_int_equal(nw, 2);
	assert_int_equal(w[0].ut_type, USER_PROCESS);
	assert_string_equal(w[0].ut_user, "alice");
	assert_int_equal(w[1].ut_type, DEAD_PROCESS);
	assert_string_equal(w[1].ut_line, "pts/3");
	assert_string_equal(w[1].ut_user, "");
	free(w);
}

/* A second line gets a second slot; a login on a line of a dead entry
 * takes that slot back. */
static void
test_slots(void **state)
{
	struct utmp *u;
	size_t n;

	(void)state;
	fresh_files();
	assert_int_equal(records_login(&(struct records_login){ .user = "alice",
	    .uid = 5001, .tty = "pts/1", .pid = 10, .host = "::1" }), 0);
	assert_int_equal(records_login(&(struct records_login){ .user = "bob",
	    .uid = 5002, .tty = "pts/12", .pid = 11, .host = "::1" }), 0);
	assert_int_equal(records_logout("pts/1", 10), 0);
	assert_int_equal(records_login(&(struct records_login){ .user = "carol",
	    .uid = 5003, .tty = "/dev/pts/1", .pid = 12, .host = "::1" }), 0);
	u = read_entries(utmp_path, &n);
	assert_int_equal(n, 2);
	assert_string_equal(u[0].ut_user, "carol");
	assert_int_equal(u[0].ut_type, USER_PROCESS);
	assert_memory_equal(u[1].ut_id, "s/12", 4);
	assert_string_equal(u[1].ut_user, "bob");
	free(u);
}

static void
test_ipv6_addresses(void **state)
{
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
	struct utmp *u;
	size_t n;

	(void)state;
	fresh_files();
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::5", &in6.sin6_addr), 1);
	assert_int_equal(records_login(&(struct records_login){ .user = "alice",
	    .uid = 1, .tty = "pts/0", .pid = 1, .host = "2001:db8::5",
	    .addr = (struct sockaddr *)&in6 }), 0);
	/* A v4-mapped address is written as IPv4, as sshd does. */
	assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.2.9", &in6.sin6_addr), 1);
	assert_int_equal(records_login(&(struct records_login){ .user = "bob",
	    .uid = 2, .tty = "pts/1", .pid = 2, .host = "192.0.2.9",
	    .addr = (struct sockaddr *)&in6 }), 0);
	u = read_entries(utmp_path, &n);
	assert_int_equal(n, 2);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::5", &in6.sin6_addr), 1);
	assert_memory_equal(u[0].ut_addr_v6, &in6.sin6_addr, 16);
	assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.2.9", &in6.sin6_addr), 1);
	assert_memory_equal(&u[1].ut_addr_v6[0], &in6.sin6_addr.s6_addr[12], 4);
	assert_int_equal(u[1].ut_addr_v6[1], 0);
	assert_int_equal(u[1].ut_addr_v6[3], 0);
	free(u);
}

static void
test_failed(void **state)
{
	struct sockaddr_in in = v4("198.51.100.4");
	struct utmp *b;
	size_t n;

	(void)state;
	fresh_files();
	assert_int_equal(records_failed("nosuchuser", "198.51.100.4",
	    (struct sockaddr *)&in, 77), 0);
	assert_int_equal(records_failed("alice", "198.51.100.4",
	    (struct sockaddr *)&in, 77), 0);
	b = read_entries(btmp_path, &n);
	assert_int_equal(n, 2);
	assert_int_equal(b[0].ut_type, LOGIN_PROCESS);
	assert_string_equal(b[0].ut_line, "ssh:notty");
	assert_memory_equal(b[0].ut_id, "\0\0\0\0", 4);
	assert_string_equal(b[0].ut_user, "nosuchuser");
	assert_string_equal(b[0].ut_host, "198.51.100.4");
	assert_int_equal(b[0].ut_pid, 77);
	assert_string_equal(b[1].ut_user, "alice");
	free(b);

	/* A btmp others may read (it holds passwords typed as names) is
	 * left alone, as sshd leaves it. */
	assert_int_equal(chmod(btmp_path, 0664), 0);
	assert_int_equal(records_failed("bob", "198.51.100.4", NULL, 1), -EPERM);
	if (geteuid() == 0) {
		assert_int_equal(chmod(btmp_path, 0600), 0);
		assert_int_equal(chown(btmp_path, 1, 1), 0);
		assert_int_equal(records_failed("bob", "198.51.100.4", NULL, 1), -EPERM);
	}
	b = read_entries(btmp_path, &n);
	assert_int_equal(n, 2);
	free(b);
}

/* Missing files are not created; a user name as long as the field fills
 * it whole. */
static void
test_missing_and_long(void **state)
{
	char name[UT_NAMESIZE + 10];
	struct utmp *u;
	time_t t;
	char host[8];
	size_t n;

	(void)state;
	teardown(NULL);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(records_login(&(struct records_login){ .user = "alice",
	    .uid = 1, .tty = "pts/0", .pid = 1, .host = "::1" }), -ENOENT);
	assert_int_equal(records_logout("pts/0", 1), -ENOENT);
	assert_int_equal(records_failed("x", "::1", NULL, 1), -ENOENT);
	assert_int_equal(records_last_login(1, &t, host, sizeof(host)), -ENOENT);
	assert_int_equal(t, 0);
	assert_int_equal(access(utmp_path, F_OK), -1);
	assert_int_equal(access(wtmp_path, F_OK), -1);
	assert_int_equal(access(btmp_path, F_OK), -1);
	assert_int_equal(access(lastlog_path, F_OK), -1);

	fresh_files();
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(records_login(&(struct records_login){ .user = name,
	    .uid = 1, .tty = "pts/0", .pid = 1, .host = "2001:db8:1:2:3:4:5:6" }), 0);
	u = read_entries(utmp_path, &n);
	assert_int_equal(n, 1);
	assert_memory_equal(u[0].ut_user, name, UT_NAMESIZE);
	free(u);
	/* A host longer than the caller's buffer is cut, terminated. */
	assert_int_equal(records_last_login(1, &t, host, sizeof(host)), 0);
	assert_string_equal(host, "2001:db");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login_logout),
		cmocka_unit_test(test_slots),
		cmocka_unit_test(test_ipv6_addresses),
		cmocka_unit_test(test_failed),
		cmocka_unit_test(test_missing_and_long),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
