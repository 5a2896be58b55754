/* internal-sftp's codec and dispatch: malformed messages (cut short at
 * every length, lengths past the message, NULs in paths, absurd counts)
 * are answered with SSH_FX_BAD_MESSAGE or end the server, never read
 * past the message; the options of its command line; and one real
 * round trip in a scratch directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "handler/sftp/sftp-internal.h"

static uint8_t outbuf[SFTP_MAX_MSG + 4];
static struct sftp srv;

/* A message under construction, without its length. */
struct msg {
	uint8_t b[8192];
	size_t n;
};

static void
m_u8(struct msg *m, uint8_t v)
{
	m->b[m->n++] = v;
}

static void
m_u32(struct msg *m, uint32_t v)
{
	for (int i = 3; i >= 0; i--)
		m_u8(m, (uint8_t)(v >> (8 * i)));
}

static void
m_u64(struct msg *m, uint64_t v)
{
	m_u32(m, (uint32_t)(v >> 32));
	m_u32(m, (uint32_t)v);
}

static void
m_str(struct msg *m, const void *s, size_t n)
{
	m_u32(m, (uint32_t)n);
	memcpy(m->b + m->n, s, n);
	m->n += n;
}

static void
m_cstr(struct msg *m, const char *s)
{
	m_str(m, s, strlen(s));
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* The reply's type (0: none), with its id and status code where it has
 * them; checks the length field against what was written. */
static uint8_t
reply(uint32_t *id, uint32_t *code)
{
	if (srv.out.len == 0)
		return 0;
	assert_int_equal(be32(srv.out.buf), srv.out.len - 4);
	if (id != NULL)
		*id = be32(srv.out.buf + 5);
	if (code != NULL && srv.out.buf[4] == FXP_STATUS)
		*code = be32(srv.out.buf + 9);
	return srv.out.buf[4];
}

static void
start(const struct sftp_opts *o)
{
	struct sftp_opts dflt = { .allowed = ~UINT64_C(0) };
	struct msg m = { .n = 0 };

	sftp_handles_close_all(&srv);
	sftp_init(&srv, o ? o : &dflt, outbuf, sizeof(outbuf));
	m_u8(&m, FXP_INIT);
	m_u32(&m, 3);
	sftp_process(&srv, m.b, m.n);
	assert_false(srv.quit);
	assert_int_equal(reply(NULL, NULL), FXP_VERSION);
}

static void
process(const struct msg *m)
{
	sftp_process(&srv, m->b, m->n);
}

/* A status of code for id. */
static void
expect_status(uint32_t want_id, uint32_t want_code)
{
	uint32_t id = 0, code = 99;

	assert_false(srv.quit);
	assert_int_equal(reply(&id, &code), FXP_STATUS);
	assert_int_equal(id, want_id);
	assert_int_equal(code, want_code);
}

static void
test_reader_bounds(void **state)
{
	const uint8_t b[] = { 0, 0, 0, 9, 'a', 'b', 0, 0, 0, 2, 'x', 0 };
	const uint8_t x[] = { 0, 0, 0, 1, 'x' };
	struct sftp_in in = { .p = b, .len = sizeof(b) };
	uint32_t n;
	char s[8];

	(void)state;
	assert_null(sftp_get_string(&in, &n));	/* 9 bytes claimed, 2 there */
	assert_true(in.bad);
	assert_int_equal(sftp_get_u32(&in), 0);	/* sticky */
	in = (struct sftp_in){ .p = b + 6, .len = 6 };
	sftp_get_cstring(&in, s, sizeof(s));	/* "x\0": a NUL inside */
	assert_true(in.bad);
	in = (struct sftp_in){ .p = b + 6, .len = 5 };
	(void)sftp_get_string(&in, &n);		/* 2 claimed, 1 there */
	assert_true(in.bad);
	in = (struct sftp_in){ .p = x, .len = sizeof(x) };
	sftp_get_cstring(&in, s, 2);		/* "x" needs 2 bytes: fits */
	assert_false(in.bad);
	assert_string_equal(s, "x");
	in = (struct sftp_in){ .p = x, .len = sizeof(x) };
	sftp_get_cstring(&in, s, 1);		/* no room for the NUL */
	assert_true(in.bad);
	in = (struct sftp_in){ .p = b, .len = 3 };
	assert_int_equal(sftp_get_u64(&in), 0);
	assert_true(in.bad);
}

static void
test_writer_bounds(void **state)
{
	uint8_t b[16];
	struct sftp_out o = { .buf = b, .cap = sizeof(b) };

	(void)state;
	sftp_begin(&o, FXP_STATUS);
	sftp_put_string(&o, "0123456789", 10);	/* 5 + 14 > 16 */
	assert_true(o.over);
	sftp_begin(&o, FXP_STATUS);
	assert_false(o.over);
	sftp_put_u32(&o, 7);
	sftp_end(&o);
	assert_int_equal(o.len, 9);
	assert_int_equal(be32(b), 5);
}

static void
test_before_init_and_twice(void **state)
{
	struct sftp_opts o = { .allowed = ~UINT64_C(0) };
	struct msg m = { .n = 0 };

	(void)state;
	sftp_init(&srv, &o, outbuf, sizeof(outbuf));
	m_u8(&m, FXP_REALPATH);
	m_u32(&m, 1);
	m_cstr(&m, ".");
	process(&m);
	assert_true(srv.quit);
	start(NULL);
	m.n = 0;
	m_u8(&m, FXP_INIT);
	m_u32(&m, 3);
	process(&m);
	assert_true(srv.quit);
	/* Empty, and too short for an id. */
	start(NULL);
	sftp_process(&srv, m.b, 0);
	assert_true(srv.quit);
	start(NULL);
	m.n = 0;
	m_u8(&m, FXP_STAT);
	m_u8(&m, 0);
	process(&m);
	assert_true(srv.quit);
}

/* Every request cut short at every length: a bad message for the id
 * once the id is there, never anything read past the cut. */
static void
test_every_truncation(void **state)
{
	struct msg full[6];
	int k = 0;

	(void)state;
	memset(full, 0, sizeof(full));
	m_u8(&full[k], FXP_OPEN);
	m_u32(&full[k], 42);
	m_cstr(&full[k], "nothere");
	m_u32(&full[k], FXF_READ);
	m_u32(&full[k], FXA_SIZE | FXA_UIDGID | FXA_PERMISSIONS |
	    FXA_ACMODTIME | FXA_EXTENDED);
	m_u64(&full[k], 1);
	m_u32(&full[k], 1), m_u32(&full[k], 2), m_u32(&full[k], 0644);
	m_u32(&full[k], 3), m_u32(&full[k], 4);
	m_u32(&full[k], 1), m_cstr(&full[k], "a"), m_cstr(&full[k], "b");
	k++;
	m_u8(&full[k], FXP_RENAME);
	m_u32(&full[k], 42);
	m_cstr(&full[k], "nothere1");
	m_cstr(&full[k], "nothere2");
	k++;
	m_u8(&full[k], FXP_WRITE);
	m_u32(&full[k], 42);
	m_str(&full[k], "\0\0\0\0", 4);
	m_u64(&full[k], 0);
	m_cstr(&full[k], "data");
	k++;
	m_u8(&full[k], FXP_EXTENDED);
	m_u32(&full[k], 42);
	m_cstr(&full[k], "copy-data");
	m_str(&full[k], "\0\0\0\0", 4);
	m_u64(&full[k], 0), m_u64(&full[k], 10);
	m_str(&full[k], "\0\0\0\1", 4);
	m_u64(&full[k], 0);
	k++;
	m_u8(&full[k], FXP_EXTENDED);
	m_u32(&full[k], 42);
	m_cstr(&full[k], "statvfs@openssh.com");
	m_cstr(&full[k], "nothere");
	k++;
	m_u8(&full[k], FXP_SETSTAT);
	m_u32(&full[k], 42);
	m_cstr(&full[k], "nothere");
	m_u32(&full[k], FXA_PERMISSIONS);
	m_u32(&full[k], 0600);
	k++;
	for (int i = 0; i < k; i++)
		for (size_t cut = 5; cut < full[i].n; cut++) {
			/* A copy of exactly cut bytes: ASan sees any read
			 * past it. */
			uint8_t *b = malloc(cut);

			assert_non_null(b);
			memcpy(b, full[i].b, cut);
			start(NULL);
			sftp_process(&srv, b, cut);
			free(b);
			expect_status(42, FX_BAD_MESSAGE);
		}
}

static void
test_malformed_fields(void **state)
{
	struct msg m = { .n = 0 };

	(void)state;
	start(NULL);
	/* A string length far past the message. */
	m_u8(&m, FXP_OPENDIR);
	m_u32(&m, 5);
	m_u32(&m, 0xfffffff0);
	m_u8(&m, 'x');
	process(&m);
	expect_status(5, FX_BAD_MESSAGE);
	/* A path holding a NUL. */
	m.n = 0;
	m_u8(&m, FXP_STAT);
	m_u32(&m, 6);
	m_str(&m, "a\0b", 3);
	process(&m);
	expect_status(6, FX_BAD_MESSAGE);
	/* A path longer than PATH_MAX. */
	{
		static struct msg big;
		char *p = malloc(SFTP_PATH_MAX + 1);

		assert_non_null(p);
		memset(p, 'a', SFTP_PATH_MAX + 1);
		big.n = 0;
		m_u8(&big, FXP_LSTAT);
		m_u32(&big, 7);
		m_str(&big, p, SFTP_PATH_MAX);
		free(p);
		process(&big);
		expect_status(7, FX_BAD_MESSAGE);
	}
	/* Four billion extended attribute pairs. */
	m.n = 0;
	m_u8(&m, FXP_MKDIR);
	m_u32(&m, 8);
	m_cstr(&m, "never");
	m_u32(&m, FXA_EXTENDED);
	m_u32(&m, 0xffffffff);
	process(&m);
	expect_status(8, FX_BAD_MESSAGE);
	assert_int_equal(access("never", F_OK), -1);
	/* Handles: another length, out of range, free, of the wrong kind. */
	static const char *const handles[] = { "", "\0\0\0", "\0\0\1\0",
	    "\0\0\0\0", "\xff\xff\xff\xff" };
	for (size_t i = 0; i < sizeof(handles) / sizeof(handles[0]); i++) {
		m.n = 0;
		m_u8(&m, FXP_READ);
		m_u32(&m, 9);
		m_str(&m, handles[i], i == 0 ? 0 : i == 1 ? 3 : 4);
		m_u64(&m, 0);
		m_u32(&m, 100);
		process(&m);
		expect_status(9, FX_FAILURE);
	}
	/* An unknown type, an unknown extension, an extension without a
	 * name. */
	m.n = 0;
	m_u8(&m, 99);
	m_u32(&m, 10);
	process(&m);
	expect_status(10, FX_OP_UNSUPPORTED);
	m.n = 0;
	m_u8(&m, FXP_EXTENDED);
	m_u32(&m, 11);
	m_cstr(&m, "nosuch@example.com");
	process(&m);
	expect_status(11, FX_OP_UNSUPPORTED);
	m.n = 0;
	m_u8(&m, FXP_EXTENDED);
	m_u32(&m, 12);
	m_u32(&m, 1000);
	process(&m);
	expect_status(12, FX_BAD_MESSAGE);
}

/* Open, write, read past the end, read, close, in a scratch
 * directory; read lengths are clamped; -R and -P refuse. */
static void
test_round_trip_and_policy(void **state)
{
	char dir[] = "/tmp/test_sftp.XXXXXX";
	struct msg m = { .n = 0 };
	uint8_t handle[4];
	struct sftp_opts ro = { .read_only = true, .allowed = ~UINT64_C(0) };
	struct sftp_opts deny = { .allowed = ~UINT64_C(0) };
	uint32_t id;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chdir(dir), 0);
	start(NULL);
	m_u8(&m, FXP_OPEN);
	m_u32(&m, 1);
	m_cstr(&m, "f");
	m_u32(&m, FXF_READ | FXF_WRITE | FXF_CREAT);
	m_u32(&m, 0);
	process(&m);
	assert_int_equal(reply(&id, NULL), FXP_HANDLE);
	assert_int_equal(id, 1);
	memcpy(handle, srv.out.buf + 13, 4);
	m.n = 0;
	m_u8(&m, FXP_WRITE);
	m_u32(&m, 2);
	m_str(&m, handle, 4);
	m_u64(&m, 0);
	m_cstr(&m, "hello");
	process(&m);
	expect_status(2, FX_OK);
	m.n = 0;
	m_u8(&m, FXP_READ);
	m_u32(&m, 3);
	m_str(&m, handle, 4);
	m_u64(&m, 0);
	m_u32(&m, 0xffffffff);		/* clamped, not allocated */
	process(&m);
	assert_int_equal(reply(&id, NULL), FXP_DATA);
	assert_int_equal(be32(srv.out.buf + 9), 5);
	assert_memory_equal(srv.out.buf + 13, "hello", 5);
	m.n = 0;
	m_u8(&m, FXP_READ);
	m_u32(&m, 4);
	m_str(&m, handle, 4);
	m_u64(&m, 5);
	m_u32(&m, 10);
	process(&m);
	expect_status(4, FX_EOF);
	m.n = 0;
	m_u8(&m, FXP_CLOSE);
	m_u32(&m, 5);
	m_str(&m, handle, 4);
	process(&m);
	expect_status(5, FX_OK);
	process(&m);			/* closed twice */
	expect_status(5, FX_FAILURE);

	start(&ro);
	m.n = 0;
	m_u8(&m, FXP_OPEN);
	m_u32(&m, 6);
	m_cstr(&m, "f");
	m_u32(&m, FXF_WRITE);
	m_u32(&m, 0);
	process(&m);
	expect_status(6, FX_PERMISSION_DENIED);
	m.n = 0;
	m_u8(&m, FXP_REMOVE);
	m_u32(&m, 7);
	m_cstr(&m, "f");
	process(&m);
	expect_status(7, FX_PERMISSION_DENIED);
	assert_int_equal(access("f", F_OK), 0);

	deny.denied = UINT64_C(1) << sftp_request_bit("remove");
	start(&deny);
	process(&m);
	expect_status(7, FX_PERMISSION_DENIED);
	start(NULL);
	process(&m);
	expect_status(7, FX_OK);
	sftp_handles_close_all(&srv);
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_options(void **state)
{
	struct sftp_opts o;
	char why[128];

	(void)state;
	assert_true(sftp_is_internal("internal-sftp"));
	assert_true(sftp_is_internal("internal-sftp -R"));
	assert_false(sftp_is_internal("internal-sftpx"));
	assert_false(sftp_is_internal("/usr/lib/openssh/sftp-server"));
	assert_int_equal(sftp_opts_parse("internal-sftp", "u", "/h", &o, why,
	    sizeof(why)), 0);
	assert_false(o.read_only || o.umask_set);
	assert_int_equal(o.allowed, ~UINT64_C(0));
	assert_int_equal(sftp_opts_parse("internal-sftp -R -u 027 -d /%d/x%%%u "
	    "-l VERBOSE -f AUTHPRIV -e -P remove,rename", "bob", "/home/bob", &o,
	    why, sizeof(why)), 0);
	assert_true(o.read_only);
	assert_true(o.umask_set);
	assert_int_equal(o.umask, 027);
	assert_string_equal(o.start_dir, "//home/bob/x%bob");
	assert_int_equal(o.denied, (UINT64_C(1) << sftp_request_bit("remove")) |
	    (UINT64_C(1) << sftp_request_bit("rename")));
	assert_int_equal(sftp_opts_parse("internal-sftp -Ru077 -pread,open,close",
	    "u", "/h", &o, why, sizeof(why)), 0);
	assert_true(o.read_only);
	assert_int_equal(o.umask, 077);
	/* Every request of the server's table has a bit of its own. */
	static const char *const names[] = { "open", "close", "read", "write",
	    "lstat", "fstat", "setstat", "fsetstat", "opendir", "readdir",
	    "remove", "mkdir", "rmdir", "realpath", "stat", "rename",
	    "readlink", "symlink", "posix-rename", "statvfs", "fstatvfs",
	    "hardlink", "fsync", "lsetstat", "limits", "expand-path",
	    "copy-data", "home-directory" };
	uint64_t seen = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int b = sftp_request_bit(names[i]);

		assert_true(b >= 0 && b < 64);
		assert_false(seen & (UINT64_C(1) << b));
		seen |= UINT64_C(1) << b;
	}
	assert_int_equal(sftp_request_bit("nosuch"), -1);
	static const char *const bad[] = { "internal-sftp -u 999",
	    "internal-sftp -u", "internal-sftp -x", "internal-sftp -P nosuch",
	    "internal-sftp -d /%x", "internal-sftp extra", "internal-sftp -h",
	    "sftp-server" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sftp_opts_parse(bad[i], "u", "/h", &o, why,
		    sizeof(why)), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_bounds),
		cmocka_unit_test(test_writer_bounds),
		cmocka_unit_test(test_before_init_and_twice),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_malformed_fields),
		cmocka_unit_test(test_round_trip_and_policy),
		cmocka_unit_test(test_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
