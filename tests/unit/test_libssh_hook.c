/* The request hook of handler/net/libssh-private.c.
 *
 * First the rewrites alone, on payloads built here byte by byte: each
 * extension becomes the marked request, every truncation of it and every
 * bad path leaves the bytes as they were, and a client's own leading mark
 * is replaced.  Then how the hook finds libssh's list of packet callbacks,
 * on fake sessions that fail each check in turn.  Last, a real libssh
 * server with the hook against a real libssh client in another process:
 * what the server's callbacks see of ssh -A, ssh -L to a socket path,
 * and of the same requests a client could forge. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "handler/net/libssh-private.h"
#include "policy/util/sshwire.h"

/* ---- payloads ---- */

struct payload {
	uint8_t b[1024];
	size_t len;
};

static void
put_str(struct payload *p, const char *s)
{
	struct wire_writer w = { .p = p->b, .len = p->len, .cap = sizeof(p->b) };

	wire_put_string(&w, s, strlen(s));
	assert_false(w.bad);
	p->len = w.len;
}

/* A string with bytes a C string cannot hold. */
static void
put_bytes(struct payload *p, const void *s, size_t n)
{
	struct wire_writer w = { .p = p->b, .len = p->len, .cap = sizeof(p->b) };

	wire_put_string(&w, s, n);
	assert_false(w.bad);
	p->len = w.len;
}

static void
put_u32(struct payload *p, uint32_t v)
{
	struct wire_writer w = { .p = p->b, .len = p->len, .cap = sizeof(p->b) };

	wire_put_u32(&w, v);
	p->len = w.len;
}

static void
put_u8(struct payload *p, uint8_t v)
{
	p->b[p->len++] = v;
}

/* Reads a string as libssh does ("s": a copy, then a C string). */
static void
expect_str(struct wire_reader *r, const char *want)
{
	size_t n = 0;
	const uint8_t *s = wire_get_string(r, SIZE_MAX, &n);

	assert_non_null(s);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(s, want, n);
}

static void
expect_u32(struct wire_reader *r, uint32_t want)
{
	assert_int_equal(wire_get_u32(r), want);
	assert_false(r->bad);
}

static void
expect_u8(struct wire_reader *r, uint8_t want)
{
	assert_int_equal(wire_get_u8(r), want);
	assert_false(r->bad);
}

typedef int rewrite_fn(uint8_t *, size_t);

/* Every truncation of p: never rewritten, never changed. */
static void
expect_prefixes_untouched(rewrite_fn *fn, const struct payload *p)
{
	uint8_t copy[sizeof(p->b)];

	for (size_t n = 0; n < p->len; n++) {
		memcpy(copy, p->b, p->len);
		assert_true(fn(copy, n) <= LIBSSH_REWRITE_NONE);
		assert_memory_equal(copy, p->b, p->len);
	}
}

/* p, rewritten by fn with the result want, must otherwise be unchanged. */
static void
expect_untouched(rewrite_fn *fn, const struct payload *p, int want)
{
	struct payload q = *p;

	assert_int_equal(fn(q.b, q.len), want);
	assert_memory_equal(q.b, p->b, p->len);
}

static const char GPG[] = "/run/user/1000/gnupg/S.gpg-agent";

/* ---- the rewrites ---- */

static struct payload
agent_req(uint32_t channel, uint8_t want)
{
	struct payload p = { .len = 0 };

	put_u32(&p, channel);
	put_str(&p, "auth-agent-req@openssh.com");
	put_u8(&p, want);
	return p;
}

static void
test_agent_request(void **state)
{
	(void)state;
	for (uint8_t want = 0; want <= 1; want++) {
		struct payload p = agent_req(0x01020304, want), q = p;
		struct wire_reader r;

		assert_int_equal(libssh_rewrite_channel_request(q.b, q.len),
		    LIBSSH_REWRITE_DONE);
		r = wire_reader(q.b, q.len);
		expect_u32(&r, 0x01020304);
		expect_str(&r, "env");
		expect_u8(&r, want);
		expect_str(&r, LIBSSH_AGENT_MARK);
		expect_str(&r, "");
		/* The mark fits the request it replaces exactly. */
		assert_true(wire_done(&r));
		expect_prefixes_untouched(libssh_rewrite_channel_request, &p);
	}
	assert_true(libssh_is_agent_mark(LIBSSH_AGENT_MARK));
	assert_false(libssh_is_agent_mark("auth-agent-req"));
	assert_false(libssh_is_agent_mark("?auth-agent-req"));
	assert_false(libssh_is_agent_mark(NULL));
}

static struct payload
streamlocal_open(const void *path, size_t npath)
{
	struct payload p = { .len = 0 };

	put_str(&p, "direct-streamlocal@openssh.com");
	put_u32(&p, 3);
	put_u32(&p, 2097152);
	put_u32(&p, 32768);
	put_bytes(&p, path, npath);
	put_str(&p, "");
	put_u32(&p, 0);
	return p;
}

static void
expect_marked(struct wire_reader *r, const char *path)
{
	char want[256];

	snprintf(want, sizeof(want), "%c%s", LIBSSH_UNIX_MARK_CHAR, path);
	expect_str(r, want);
}

static void
test_streamlocal_open(void **state)
{
	struct payload p = streamlocal_open(GPG, strlen(GPG)), q = p;
	struct wire_reader r;

	(void)state;
	assert_int_equal(libssh_rewrite_channel_open(q.b, q.len),
	    LIBSSH_REWRITE_DONE);
	r = wire_reader(q.b, q.len);
	expect_str(&r, "direct-tcpip");
	expect_u32(&r, 3);
	expect_u32(&r, 2097152);
	expect_u32(&r, 32768);
	expect_marked(&r, GPG);
	expect_u32(&r, 0);
	expect_str(&r, "");
	expect_u32(&r, 0);
	expect_prefixes_untouched(libssh_rewrite_channel_open, &p);

	assert_string_equal(libssh_unix_path("\x01/a/b"), "/a/b");
	assert_null(libssh_unix_path("/a/b"));
	assert_null(libssh_unix_path("?/a/b"));
	assert_null(libssh_unix_path("\x01"));
	assert_null(libssh_unix_path(""));
	assert_null(libssh_unix_path(NULL));
}

static struct payload
streamlocal_forward(const char *name, uint8_t want, const void *path,
    size_t npath)
{
	struct payload p = { .len = 0 };

	put_str(&p, name);
	put_u8(&p, want);
	put_bytes(&p, path, npath);
	return p;
}

static void
test_streamlocal_forward(void **state)
{
	static const char *const names[][2] = {
		{ "streamlocal-forward@openssh.com", "tcpip-forward" },
		{ "cancel-streamlocal-forward@openssh.com", "cancel-tcpip-forward" },
	};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		for (uint8_t want = 0; want <= 1; want++) {
			struct payload p = streamlocal_forward(names[i][0], want,
			    GPG, strlen(GPG)), q = p;
			struct wire_reader r;

			assert_int_equal(libssh_rewrite_global_request(q.b, q.len),
			    LIBSSH_REWRITE_DONE);
			r = wire_reader(q.b, q.len);
			expect_str(&r, names[i][1]);
			expect_u8(&r, want);
			expect_marked(&r, GPG);
			/* Not 0: libssh would add a port to the reply. */
			expect_u32(&r, 1);
			expect_prefixes_untouched(libssh_rewrite_global_request, &p);
		}
	}
}

/* Paths: sun_path's 107 bytes pass, one more, none, or a NUL do not. */
static void
test_paths(void **state)
{
	char path[LIBSSH_UNIX_PATH_MAX + 2];
	struct payload p, q;
	struct wire_reader r;

	(void)state;
	memset(path, 'p', sizeof(path));
	path[0] = '/';
	path[LIBSSH_UNIX_PATH_MAX] = '\0';

	p = streamlocal_open(path, LIBSSH_UNIX_PATH_MAX);
	q = p;
	assert_int_equal(libssh_rewrite_channel_open(q.b, q.len),
	    LIBSSH_REWRITE_DONE);
	r = wire_reader(q.b, q.len);
	expect_str(&r, "direct-tcpip");
	(void)wire_get_u32(&r), (void)wire_get_u32(&r), (void)wire_get_u32(&r);
	expect_marked(&r, path);

	p = streamlocal_forward("streamlocal-forward@openssh.com", 1, path,
	    LIBSSH_UNIX_PATH_MAX);
	q = p;
	assert_int_equal(libssh_rewrite_global_request(q.b, q.len),
	    LIBSSH_REWRITE_DONE);

	expect_untouched(libssh_rewrite_channel_open,
	    &(struct payload){ 0 }, LIBSSH_REWRITE_NONE);
	p = streamlocal_open(path, LIBSSH_UNIX_PATH_MAX + 1);
	expect_untouched(libssh_rewrite_channel_open, &p, -EINVAL);
	p = streamlocal_open("", 0);
	expect_untouched(libssh_rewrite_channel_open, &p, -EINVAL);
	p = streamlocal_open("/tmp/a\0/etc/x", 13);
	expect_untouched(libssh_rewrite_channel_open, &p, -EINVAL);

	p = streamlocal_forward("streamlocal-forward@openssh.com", 1, path,
	    LIBSSH_UNIX_PATH_MAX + 1);
	expect_untouched(libssh_rewrite_global_request, &p, -EINVAL);
	p = streamlocal_forward("cancel-streamlocal-forward@openssh.com", 1, "", 0);
	expect_untouched(libssh_rewrite_global_request, &p, -EINVAL);
	p = streamlocal_forward("streamlocal-forward@openssh.com", 1,
	    "/tmp/a\0b", 8);
	expect_untouched(libssh_rewrite_global_request, &p, -EINVAL);

	/* A path length that runs past the packet. */
	p = streamlocal_open(GPG, strlen(GPG));
	p.b[4 + 30 + 12] = 0x7f;
	expect_untouched(libssh_rewrite_channel_open, &p, -EINVAL);
	p = streamlocal_forward("streamlocal-forward@openssh.com", 1, GPG,
	    strlen(GPG));
	p.b[4 + 31 + 1] = 0x7f;
	expect_untouched(libssh_rewrite_global_request, &p, -EINVAL);
}

/* What a client sends with the mark in front is no longer marked. */
static void
test_client_marks(void **state)
{
	static const char env_nul[] = "env\0and more, past any bound on names";
	struct payload p = { .len = 0 }, q;
	struct wire_reader r;

	(void)state;
	put_u32(&p, 0);
	put_str(&p, "env");
	put_u8(&p, 1);
	put_str(&p, LIBSSH_AGENT_MARK);
	put_str(&p, "");
	q = p;
	assert_int_equal(libssh_rewrite_channel_request(q.b, q.len),
	    LIBSSH_REWRITE_NEUTRALISED);
	r = wire_reader(q.b, q.len);
	expect_u32(&r, 0);
	expect_str(&r, "env");
	expect_u8(&r, 1);
	expect_str(&r, "?auth-agent-req");

	/* "env\0..." is env to libssh, which compares C strings. */
	p.len = 0;
	put_u32(&p, 0);
	put_bytes(&p, env_nul, sizeof(env_nul) - 1);
	put_u8(&p, 0);
	put_str(&p, LIBSSH_AGENT_MARK);
	put_str(&p, "");
	q = p;
	assert_int_equal(libssh_rewrite_channel_request(q.b, q.len),
	    LIBSSH_REWRITE_NEUTRALISED);
	assert_int_equal(q.b[4 + 4 + sizeof(env_nul) - 1 + 1 + 4], '?');

	p.len = 0;
	put_str(&p, "direct-tcpip");
	put_u32(&p, 1), put_u32(&p, 2), put_u32(&p, 3);
	put_str(&p, "\x01/run/evil");
	put_u32(&p, 0);
	put_str(&p, "");
	put_u32(&p, 0);
	q = p;
	assert_int_equal(libssh_rewrite_channel_open(q.b, q.len),
	    LIBSSH_REWRITE_NEUTRALISED);
	r = wire_reader(q.b, q.len);
	expect_str(&r, "direct-tcpip");
	(void)wire_get_u32(&r), (void)wire_get_u32(&r), (void)wire_get_u32(&r);
	expect_str(&r, "?/run/evil");

	static const char *const fwd[] = { "tcpip-forward", "cancel-tcpip-forward" };
	for (size_t i = 0; i < 2; i++) {
		p.len = 0;
		put_str(&p, fwd[i]);
		put_u8(&p, 1);
		put_str(&p, "\x01/run/evil");
		put_u32(&p, 1);
		q = p;
		assert_int_equal(libssh_rewrite_global_request(q.b, q.len),
		    LIBSSH_REWRITE_NEUTRALISED);
		r = wire_reader(q.b, q.len);
		expect_str(&r, fwd[i]);
		expect_u8(&r, 1);
		expect_str(&r, "?/run/evil");
		expect_u32(&r, 1);
	}
}

/* Everything else passes as it came. */
static void
test_others_untouched(void **state)
{
	struct payload p = { .len = 0 };

	(void)state;
	put_u32(&p, 0);
	put_str(&p, "env");
	put_u8(&p, 1);
	put_str(&p, "LANG");
	put_str(&p, "C.UTF-8");
	expect_untouched(libssh_rewrite_channel_request, &p, LIBSSH_REWRITE_NONE);

	p.len = 0;
	put_u32(&p, 0);
	put_str(&p, "exec");
	put_u8(&p, 1);
	put_str(&p, "\x01 is fine in a command");
	expect_untouched(libssh_rewrite_channel_request, &p, LIBSSH_REWRITE_NONE);

	p.len = 0;
	put_u32(&p, 0);
	put_str(&p, "auth-agent-req@openssh.comX");
	put_u8(&p, 1);
	expect_untouched(libssh_rewrite_channel_request, &p, LIBSSH_REWRITE_NONE);

	p.len = 0;
	put_str(&p, "direct-tcpip");
	put_u32(&p, 1), put_u32(&p, 2), put_u32(&p, 3);
	put_str(&p, "example.org");
	put_u32(&p, 443);
	put_str(&p, "127.0.0.1");
	put_u32(&p, 5555);
	expect_untouched(libssh_rewrite_channel_open, &p, LIBSSH_REWRITE_NONE);

	p.len = 0;
	put_str(&p, "session");
	put_u32(&p, 1), put_u32(&p, 2), put_u32(&p, 3);
	expect_untouched(libssh_rewrite_channel_open, &p, LIBSSH_REWRITE_NONE);

	p.len = 0;
	put_str(&p, "tcpip-forward");
	put_u8(&p, 1);
	put_str(&p, "localhost");
	put_u32(&p, 0);
	expect_untouched(libssh_rewrite_global_request, &p, LIBSSH_REWRITE_NONE);

	p.len = 0;
	put_str(&p, "keepalive@openssh.com");
	put_u8(&p, 1);
	expect_untouched(libssh_rewrite_global_request, &p, LIBSSH_REWRITE_NONE);

	/* A name that runs past the packet. */
	p.len = 0;
	put_str(&p, "streamlocal-forward@openssh.com");
	p.len -= 1;
	expect_untouched(libssh_rewrite_global_request, &p, LIBSSH_REWRITE_NONE);
}

/* ---- password changes ---- */

/* A USERAUTH_REQUEST's payload up to its method-specific fields. */
static void
userauth(struct payload *p, const char *method)
{
	p->len = 0;
	put_str(p, "alice");
	put_str(p, "ssh-connection");
	put_str(p, method);
}

static void
test_password_change(void **state)
{
	struct payload p;
	const uint8_t *np;
	size_t nlen;

	(void)state;
	/* RFC 4252 section 8: TRUE, the old password, the new one. */
	userauth(&p, "password");
	put_u8(&p, 1);
	put_str(&p, "old-Pass-1");
	put_str(&p, "new-Pass-2");
	assert_int_equal(libssh_read_password_change(p.b, p.len, &np, &nlen), 1);
	assert_int_equal(nlen, 10);
	assert_memory_equal(np, "new-Pass-2", 10);

	/* Any boolean but 0 is TRUE. */
	p.b[4 + 5 + 4 + 14 + 4 + 8] = 0x80;
	assert_int_equal(libssh_read_password_change(p.b, p.len, &np, &nlen), 1);

	/* Cut short anywhere in the new password: a change whose new
	 * password is missing (which the monitor refuses), never a
	 * shorter one. */
	for (size_t cut = p.len - 10 - 4; cut < p.len; cut++) {
		assert_int_equal(libssh_read_password_change(p.b, cut, &np, &nlen), 1);
		assert_null(np);
		assert_int_equal(nlen, 0);
	}

	/* A NUL inside the new password is read whole: the network child
	 * turns it into an empty one, never into what precedes the NUL. */
	userauth(&p, "password");
	put_u8(&p, 1);
	put_str(&p, "old");
	put_bytes(&p, "ab\0cd", 5);
	assert_int_equal(libssh_read_password_change(p.b, p.len, &np, &nlen), 1);
	assert_int_equal(nlen, 5);

	/* An ordinary password request. */
	userauth(&p, "password");
	put_u8(&p, 0);
	put_str(&p, "pw");
	assert_int_equal(libssh_read_password_change(p.b, p.len, &np, &nlen), 0);
	assert_null(np);

	/* The name as libssh compares it: up to a NUL. */
	p.len = 0;
	put_str(&p, "alice");
	put_str(&p, "ssh-connection");
	put_bytes(&p, "password\0x", 10);
	put_u8(&p, 1);
	put_str(&p, "old");
	put_str(&p, "new");
	assert_int_equal(libssh_read_password_change(p.b, p.len, &np, &nlen), 1);

	/* Other methods, and requests cut before the flag. */
	userauth(&p, "keyboard-interactive");
	put_u8(&p, 1);
	put_str(&p, "old");
	put_str(&p, "new");
	assert_int_equal(libssh_read_password_change(p.b, p.len, &np, &nlen), 0);
	userauth(&p, "passwordX");
	put_u8(&p, 1);
	assert_int_equal(libssh_read_password_change(p.b, p.len, &np, &nlen), 0);
	userauth(&p, "password");
	for (size_t cut = 0; cut <= p.len; cut++)
		assert_int_equal(libssh_read_password_change(p.b, cut, &np,
		    &nlen), 0);
}

/* ---- finding the list, on fake sessions ---- */

struct fake_iterator {
	struct fake_iterator *next;
	const void *data;
};

struct fake_list {
	struct fake_iterator *root, *end;
};

static int
fake_handler(ssh_session s, uint8_t type, ssh_buffer packet, void *user)
{
	(void)s, (void)type, (void)packet, (void)user;
	return SSH_PACKET_USED;
}

static ssh_packet_callback fake_table[100];

/* A session as libssh 0.10 lays one out: at off its default callbacks,
 * then the list, with one more (a key exchange's) in it. */
struct fake {
	uint8_t *s;
	struct ssh_packet_callbacks_struct *defaults;
	struct fake_list *list;
	struct fake_iterator it[2];
	struct ssh_packet_callbacks_struct kex;
};

static void
fake_make(struct fake *f, size_t off)
{
	for (size_t i = 0; i < 100; i++)
		fake_table[i] = fake_handler;
	f->s = calloc(1, 3000);
	assert_non_null(f->s);
	f->defaults = (struct ssh_packet_callbacks_struct *)(f->s + off);
	*f->defaults = (struct ssh_packet_callbacks_struct){ .start = 1,
	    .n_callbacks = 100, .callbacks = fake_table, .user = f->s };
	f->list = malloc(sizeof(*f->list));
	assert_non_null(f->list);
	memcpy(f->s + off + sizeof(*f->defaults), &f->list, sizeof(f->list));
	f->kex = (struct ssh_packet_callbacks_struct){ .start = 30,
	    .n_callbacks = 2, .callbacks = fake_table };
	f->it[0] = (struct fake_iterator){ &f->it[1], f->defaults };
	f->it[1] = (struct fake_iterator){ NULL, &f->kex };
	f->list->root = &f->it[0];
	f->list->end = &f->it[1];
}

static void
fake_free(struct fake *f)
{
	free(f->list);
	free(f->s);
}

/* Refused, with not one byte of the session or the list changed. */
static void
expect_refused(struct fake *f)
{
	uint8_t before[3000];
	struct fake_list l = *f->list;
	struct fake_iterator it[2] = { f->it[0], f->it[1] };

	memcpy(before, f->s, sizeof(before));
	assert_int_equal(libssh_install_request_hook((ssh_session)f->s),
	    -ENOTSUP);
	assert_memory_equal(before, f->s, sizeof(before));
	assert_memory_equal(&l, f->list, sizeof(l));
	assert_memory_equal(it, f->it, sizeof(it));
	fake_free(f);
}

static void
test_find_list(void **state)
{
	struct fake f;
	struct fake_iterator *hook;

	(void)state;
	/* Anywhere in the session, the list is found and prepended to. */
	for (size_t off = 0; off < 2900; off += 296) {
		fake_make(&f, off);
		assert_int_equal(libssh_install_request_hook((ssh_session)f.s), 0);
		hook = f.list->root;
		assert_ptr_not_equal(hook, &f.it[0]);
		assert_ptr_equal(hook->next, &f.it[0]);
		assert_ptr_equal(f.list->end, &f.it[1]);
		/* Twice is once. */
		assert_int_equal(libssh_install_request_hook((ssh_session)f.s), 0);
		assert_ptr_equal(f.list->root, hook);
		free(hook);
		fake_free(&f);
	}
}

static void
test_find_list_refusals(void **state)
{
	struct fake f;

	(void)state;
	fake_make(&f, 800);		/* user is not the session */
	f.defaults->user = f.s + 8;
	expect_refused(&f);

	fake_make(&f, 800);		/* not from 1 */
	f.defaults->start = 2;
	expect_refused(&f);

	fake_make(&f, 800);		/* does not reach CHANNEL_REQUEST */
	f.defaults->n_callbacks = 97;
	expect_refused(&f);

	fake_make(&f, 800);		/* no table */
	f.defaults->callbacks = NULL;
	expect_refused(&f);

	fake_make(&f, 800);		/* libssh would not parse CHANNEL_OPEN */
	fake_table[89] = NULL;
	expect_refused(&f);

	fake_make(&f, 800);		/* nor USERAUTH_REQUEST (a client build) */
	fake_table[49] = NULL;
	expect_refused(&f);

	fake_make(&f, 800);		/* two candidates */
	memcpy(f.s + 1600, f.defaults, sizeof(*f.defaults));
	expect_refused(&f);

	fake_make(&f, 800);		/* no list (no key exchange yet) */
	memset(f.s + 800 + sizeof(*f.defaults), 0, sizeof(void *));
	expect_refused(&f);

	fake_make(&f, 800);		/* the list points into the session */
	{
		uint8_t *inside = f.s + 2000;

		memcpy(f.s + 800 + sizeof(*f.defaults), &inside, sizeof(inside));
	}
	expect_refused(&f);

	fake_make(&f, 800);		/* another struct first */
	f.it[0].data = &f.kex;
	f.it[1].data = f.defaults;
	expect_refused(&f);

	fake_make(&f, 800);		/* end is not the last */
	f.list->end = &f.it[0];
	expect_refused(&f);

	fake_make(&f, 800);		/* a cycle */
	f.it[1].next = &f.it[0];
	expect_refused(&f);

	/* At the very end of the allocation, with no room for the list
	 * pointer: not read, not found. */
	f.s = calloc(1, 3000);
	assert_non_null(f.s);
	{
		size_t end = malloc_usable_size(f.s) -
		    sizeof(struct ssh_packet_callbacks_struct);
		struct ssh_packet_callbacks_struct c = { .start = 1,
		    .n_callbacks = 100, .callbacks = fake_table, .user = f.s };

		end -= end % sizeof(void *);
		memcpy(f.s + end, &c, sizeof(c));
		assert_int_equal(libssh_install_request_hook((ssh_session)f.s),
		    -ENOTSUP);
	}
	free(f.s);
}

/* libssh makes the list when the client's banner arrives. */
static void
test_too_early(void **state)
{
	ssh_session s = ssh_new();

	(void)state;
	assert_non_null(s);
	assert_int_equal(libssh_install_request_hook(s), -ENOTSUP);
	ssh_free(s);
	assert_int_equal(libssh_install_request_hook(NULL), -EINVAL);
}

/* ---- a real server and a real client ---- */

#define MAX_SEEN 16

/* What the server's callbacks were given. */
struct seen {
	char env[MAX_SEEN][128];
	int nenv;
	struct {
		int type;
		char dest[160], orig[64];
		int dport, oport;
	} open[MAX_SEEN];
	int nopen;
	struct {
		int type;
		char addr[160];
		int port;
	} global[MAX_SEEN];
	int nglobal;
	bool done;
};

static struct seen seen;

/* The first direct-tcpip open, kept unanswered and parsed again later
 * (libssh_replay_channel_open), as the network child does while the
 * monitor connects. */
static struct {
	uint8_t data[LIBSSH_OPEN_MAX];
	size_t len;
	bool kept, replaying, replayed;
} later;

static void
copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src != NULL ? src : "(null)");
}

static int
srv_env(ssh_session s, ssh_channel ch, const char *name, const char *value,
    void *ud)
{
	(void)s, (void)ch, (void)ud;
	if (seen.nenv < MAX_SEEN)
		snprintf(seen.env[seen.nenv++], sizeof(seen.env[0]), "%s=%s",
		    name, value);
	if (strcmp(name, "END") == 0)
		seen.done = true;
	return 0;
}

static struct ssh_channel_callbacks_struct srv_channel_cb = {
	.channel_env_request_function = srv_env,
};

static ssh_channel
srv_open_session(ssh_session s, void *ud)
{
	ssh_channel ch = ssh_channel_new(s);

	(void)ud;
	if (ch != NULL)
		ssh_set_channel_callbacks(ch, &srv_channel_cb);
	return ch;
}

static int
srv_password(ssh_session s, const char *user, const char *password, void *ud)
{
	(void)s, (void)user, (void)password, (void)ud;
	return SSH_AUTH_SUCCESS;
}

/* Direct-tcpip and global requests: recorded, then refused (1: libssh
 * sends its default answer, a failure). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static int
srv_message(ssh_session s, ssh_message msg, void *ud)
{
	(void)s, (void)ud;
	if (ssh_message_type(msg) == SSH_REQUEST_CHANNEL_OPEN &&
	    seen.nopen < MAX_SEEN) {
		int i = seen.nopen++;

		seen.open[i].type = ssh_message_subtype(msg);
		if (seen.open[i].type == SSH_CHANNEL_DIRECT_TCPIP && !later.kept) {
			uint8_t again[LIBSSH_OPEN_MAX];
			size_t n;

			later.kept = libssh_take_channel_open(later.data,
			    sizeof(later.data), &later.len);
			/* Once per open. */
			if (libssh_take_channel_open(again, sizeof(again), &n))
				later.kept = false;
			if (later.kept)
				return 0;	/* no answer yet */
		}
		if (seen.open[i].type == SSH_CHANNEL_DIRECT_TCPIP) {
			copy(seen.open[i].dest, sizeof(seen.open[i].dest),
			    ssh_message_channel_request_open_destination(msg));
			copy(seen.open[i].orig, sizeof(seen.open[i].orig),
			    ssh_message_channel_request_open_originator(msg));
			seen.open[i].dport =
			    ssh_message_channel_request_open_destination_port(msg);
			seen.open[i].oport =
			    ssh_message_channel_request_open_originator_port(msg);
		}
	} else if (ssh_message_type(msg) == SSH_REQUEST_GLOBAL &&
	    seen.nglobal < MAX_SEEN) {
		int i = seen.nglobal++;

		seen.global[i].type = ssh_message_subtype(msg);
		copy(seen.global[i].addr, sizeof(seen.global[i].addr),
		    ssh_message_global_request_address(msg));
		seen.global[i].port = ssh_message_global_request_port(msg);
	}
	return 1;
}
#pragma GCC diagnostic pop

/* The client: each step that must work, a bit of the exit status if it
 * did not.  Refused opens and forwards are the server's doing. */
static int
client(int fd)
{
	ssh_session c = ssh_new();
	ssh_channel ch, fw;
	bool no = false;
	long timeout = 10;
	char longpath[LIBSSH_UNIX_PATH_MAX + 2];
	int fail = 0;

	if (c == NULL)
		return 1;
	ssh_options_set(c, SSH_OPTIONS_FD, &fd);
	ssh_options_set(c, SSH_OPTIONS_HOST, "hooktest");
	ssh_options_set(c, SSH_OPTIONS_USER, "tester");
	ssh_options_set(c, SSH_OPTIONS_PROCESS_CONFIG, &no);
	ssh_options_set(c, SSH_OPTIONS_TIMEOUT, &timeout);
	if (ssh_connect(c) != SSH_OK)
		return 2;
	if (ssh_userauth_password(c, NULL, "secret") != SSH_AUTH_SUCCESS)
		return 4;
	ch = ssh_channel_new(c);
	if (ch == NULL || ssh_channel_open_session(ch) != SSH_OK)
		return 8;
	if (ssh_channel_request_env(ch, "LANG", "C") != SSH_OK)
		fail |= 16;
	if (ssh_channel_request_env(ch, LIBSSH_AGENT_MARK, "forged") != SSH_OK)
		fail |= 32;
	if (ssh_channel_request_auth_agent(ch) != SSH_OK)
		fail |= 64;

	fw = ssh_channel_new(c);
	(void)ssh_channel_open_forward(fw, "example.org", 443, "127.0.0.1", 5555);
	ssh_channel_free(fw);
	fw = ssh_channel_new(c);
	(void)ssh_channel_open_forward(fw, "\x01/run/forged", 0, "", 0);
	ssh_channel_free(fw);
	fw = ssh_channel_new(c);
	(void)ssh_channel_open_forward_unix(fw, GPG, "", 0);
	ssh_channel_free(fw);
	memset(longpath, 'x', sizeof(longpath));
	longpath[0] = '/';
	longpath[LIBSSH_UNIX_PATH_MAX + 1] = '\0';
	fw = ssh_channel_new(c);
	(void)ssh_channel_open_forward_unix(fw, longpath, "", 0);
	ssh_channel_free(fw);

	(void)ssh_channel_listen_forward(c, "localhost", 2222, NULL);
	(void)ssh_channel_listen_forward(c, "\x01/run/forged", 2222, NULL);

	if (ssh_channel_request_env(ch, "END", "1") != SSH_OK)
		fail |= 128;
	ssh_channel_free(ch);
	ssh_disconnect(c);
	ssh_free(c);
	return fail;
}

static void
server(int fd)
{
	ssh_bind b = ssh_bind_new();
	ssh_session s = ssh_new();
	ssh_key key = NULL;
	ssh_event ev;
	bool no = false;
	long timeout = 10;
	struct ssh_server_callbacks_struct cb = {
		.auth_password_function = srv_password,
		.channel_open_request_session_function = srv_open_session,
	};

	assert_non_null(b);
	assert_non_null(s);
	assert_int_equal(ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key), SSH_OK);
	assert_int_equal(ssh_bind_options_set(b, SSH_BIND_OPTIONS_IMPORT_KEY, key), 0);
	assert_int_equal(ssh_bind_options_set(b, SSH_BIND_OPTIONS_PROCESS_CONFIG,
	    &no), 0);
	/* The libssh client sends direct-streamlocal to OpenSSH only. */
	assert_int_equal(ssh_bind_options_set(b, SSH_BIND_OPTIONS_BANNER,
	    "OpenSSH_9.2p1"), 0);
	assert_int_equal(ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout), 0);
	assert_int_equal(ssh_bind_accept_fd(b, s, fd), SSH_OK);
	/* Accepted, but the list is made when the banner arrives. */
	assert_int_equal(libssh_install_request_hook(s), -ENOTSUP);
	ssh_callbacks_init(&cb);
	ssh_callbacks_init(&srv_channel_cb);
	ssh_set_server_callbacks(s, &cb);
	ssh_set_message_callback(s, srv_message, NULL);
	ssh_set_auth_methods(s, SSH_AUTH_METHOD_PASSWORD);
	assert_int_equal(ssh_handle_key_exchange(s), SSH_OK);
	assert_int_equal(libssh_install_request_hook(s), 0);
	assert_int_equal(libssh_install_request_hook(s), 0);

	ev = ssh_event_new();
	assert_non_null(ev);
	assert_int_equal(ssh_event_add_session(ev, s), SSH_OK);
	for (int i = 0; i < 100 && !seen.done; i++) {
		if (ssh_event_dopoll(ev, 200) == SSH_ERROR)
			break;
		/* From the event loop, as the network child does. */
		if (later.kept && !later.replayed) {
			later.replayed = true;
			assert_int_equal(libssh_replay_channel_open(s, later.data,
			    later.len), 0);
		}
	}
	ssh_event_remove_session(ev, s);
	ssh_event_free(ev);
	ssh_disconnect(s);
	ssh_free(s);
	ssh_bind_free(b);
}

static void
test_end_to_end(void **state)
{
	char want[256];
	int sv[2], status;
	pid_t pid;

	(void)state;
	memset(&seen, 0, sizeof(seen));
	memset(&later, 0, sizeof(later));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		alarm(30);
		_exit(client(sv[1]));
	}
	close(sv[1]);
	alarm(30);
	server(sv[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	alarm(0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(seen.done);

	/* The env requests, in order: a normal one, the forged mark no
	 * longer a mark, ssh -A as the mark. */
	assert_int_equal(seen.nenv, 4);
	assert_string_equal(seen.env[0], "LANG=C");
	assert_string_equal(seen.env[1], "?auth-agent-req=forged");
	assert_false(libssh_is_agent_mark("?auth-agent-req"));
	snprintf(want, sizeof(want), "%s=", LIBSSH_AGENT_MARK);
	assert_string_equal(seen.env[2], want);
	assert_string_equal(seen.env[3], "END=1");

	/* The first open twice: kept unanswered, then parsed again from
	 * its copy and refused (the client waited for that answer before
	 * its next open). */
	assert_true(later.kept && later.replayed);
	assert_int_equal(seen.nopen, 5);
	assert_int_equal(seen.open[0].type, SSH_CHANNEL_DIRECT_TCPIP);
	for (int i = 0; i < 4; i++)
		seen.open[i] = seen.open[i + 1];
	assert_int_equal(seen.open[0].type, SSH_CHANNEL_DIRECT_TCPIP);
	assert_string_equal(seen.open[0].dest, "example.org");
	assert_int_equal(seen.open[0].dport, 443);
	assert_string_equal(seen.open[0].orig, "127.0.0.1");
	assert_int_equal(seen.open[0].oport, 5555);
	assert_null(libssh_unix_path(seen.open[0].dest));

	assert_int_equal(seen.open[1].type, SSH_CHANNEL_DIRECT_TCPIP);
	assert_string_equal(seen.open[1].dest, "?/run/forged");
	assert_null(libssh_unix_path(seen.open[1].dest));

	assert_int_equal(seen.open[2].type, SSH_CHANNEL_DIRECT_TCPIP);
	assert_non_null(libssh_unix_path(seen.open[2].dest));
	assert_string_equal(libssh_unix_path(seen.open[2].dest), GPG);
	assert_int_equal(seen.open[2].dport, 0);
	assert_string_equal(seen.open[2].orig, "");
	assert_int_equal(seen.open[2].oport, 0);

	/* Too long for sun_path: left alone, so unknown to libssh. */
	assert_int_equal(seen.open[3].type, SSH_CHANNEL_UNKNOWN);

	assert_int_equal(seen.nglobal, 2);
	assert_int_equal(seen.global[0].type, SSH_GLOBAL_REQUEST_TCPIP_FORWARD);
	assert_string_equal(seen.global[0].addr, "localhost");
	assert_int_equal(seen.global[0].port, 2222);
	assert_int_equal(seen.global[1].type, SSH_GLOBAL_REQUEST_TCPIP_FORWARD);
	assert_string_equal(seen.global[1].addr, "?/run/forged");
	assert_null(libssh_unix_path(seen.global[1].addr));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agent_request),
		cmocka_unit_test(test_streamlocal_open),
		cmocka_unit_test(test_streamlocal_forward),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_client_marks),
		cmocka_unit_test(test_others_untouched),
		cmocka_unit_test(test_password_change),
		cmocka_unit_test(test_find_list),
		cmocka_unit_test(test_find_list_refusals),
		cmocka_unit_test(test_too_early),
		cmocka_unit_test(test_end_to_end),
	};

	ssh_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
