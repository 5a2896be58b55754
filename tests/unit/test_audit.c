/* Unit tests for handler/audit.c and handler/log.c: escaping, the JSON-lines
 * sink parsed back, the native journal datagrams, connection ids. */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "handler/front/audit.h"
#include "handler/front/journal.h"
#include "handler/front/log.h"

#define MAXF 64

struct kv {
	size_t n;
	char *name[MAXF];
	char *value[MAXF];
	size_t vlen[MAXF];
};

static void
kv_free(struct kv *kv)
{
	size_t i;

	for (i = 0; i < kv->n; i++) {
		free(kv->name[i]);
		free(kv->value[i]);
	}
	kv->n = 0;
}

static const char *
kv_get(const struct kv *kv, const char *name)
{
	size_t i;
	const char *v = NULL;
	int count = 0;

	for (i = 0; i < kv->n; i++)
		if (strcmp(kv->name[i], name) == 0) {
			v = kv->value[i];
			count++;
		}
	/* A forged duplicate would show up here. */
	assert_true(count <= 1);
	return v;
}

static void
kv_add(struct kv *kv, const char *n, size_t nl, const char *v, size_t vl)
{
	assert_true(kv->n < MAXF);
	kv->name[kv->n] = strndup(n, nl);
	kv->value[kv->n] = malloc(vl + 1);
	assert_non_null(kv->value[kv->n]);
	memcpy(kv->value[kv->n], v, vl);
	kv->value[kv->n][vl] = '\0';
	kv->vlen[kv->n] = vl;
	kv->n++;
}

/* The journal's native datagram format, parsed strictly. */
static void
parse_native(const char *buf, size_t len, struct kv *kv)
{
	size_t o = 0;

	while (o < len) {
		const char *nl = memchr(buf + o, '\n', len - o);
		const char *eq;

		assert_non_null(nl);
		eq = memchr(buf + o, '=', (size_t)(nl - (buf + o)));
		if (eq != NULL) {
			kv_add(kv, buf + o, (size_t)(eq - (buf + o)), eq + 1,
			    (size_t)(nl - eq - 1));
			o = (size_t)(nl - buf) + 1;
		} else {
			size_t nlen = (size_t)(nl - (buf + o));
			uint64_t vl = 0;
			int i;

			o += nlen + 1;
			assert_true(len - o >= 8);
			for (i = 0; i < 8; i++)
				vl |= (uint64_t)(unsigned char)buf[o + i] << (8 * i);
			o += 8;
			assert_true(len - o >= vl + 1);
			kv_add(kv, nl - nlen, nlen, buf + o, vl);
			o += vl;
			assert_int_equal(buf[o], '\n');
			o++;
		}
	}
}

/* Flat JSON object of string values (what the file sink writes). */
static void
parse_json_line(const char *p, struct kv *kv)
{
	char name[256], *val = malloc(256 * 1024);
	size_t nl, vl;

	assert_non_null(val);
	assert_int_equal(*p++, '{');
	for (;;) {
		int which;

		for (which = 0; which < 2; which++) {
			char *out = which ? val : name;
			size_t cap = which ? 256 * 1024 : sizeof(name), o = 0;

			assert_int_equal(*p++, '"');
			while (*p != '"') {
				assert_true(*p != '\0' && *p != '\n');
				assert_true((unsigned char)*p >= 0x20);
				assert_true(o + 1 < cap);
				if (*p == '\\') {
					p++;
					if (*p == 'u') {
						unsigned c;

						assert_int_equal(sscanf(p + 1, "%4x", &c), 1);
						out[o++] = (char)c;
						p += 5;
					} else {
						assert_true(*p == '"' || *p == '\\');
						out[o++] = *p++;
					}
				} else
					out[o++] = *p++;
			}
			p++;
			out[o] = '\0';
			if (which == 0) {
				nl = o;
				assert_int_equal(*p++, ':');
			} else
				vl = o;
		}
		kv_add(kv, name, nl, val, vl);
		if (*p == ',') {
			p++;
			continue;
		}
		assert_int_equal(*p++, '}');
		break;
	}
	assert_true(*p == '\n' || *p == '\0');
	free(val);
}

static void
test_escape_basic(void **state)
{
	char out[256];
	const char in[] = "a\nb\0c\\d\xff\xc3(\x7f";

	(void)state;
	audit_escape(in, sizeof(in) - 1, 256, out, sizeof(out));
	assert_string_equal(out, "a\\x0ab\\x00c\\\\d\\xff\\xc3(\\x7f");
	audit_escape("x\nSSHAND_USER=root", 18, 256, out, sizeof(out));
	assert_string_equal(out, "x\\x0aSSHAND_USER=root");
	audit_escape(NULL, 5, 256, out, sizeof(out));
	assert_string_equal(out, "");
}

static void
test_escape_bounds(void **state)
{
	size_t big = 64 * 1024;
	char *in = malloc(big), *out = malloc(big * 4 + 4);
	char small[10];

	(void)state;
	assert_non_null(in);
	assert_non_null(out);
	memset(in, 'A', big);
	audit_escape(in, big, 4096, out, big * 4 + 4);
	assert_int_equal(strlen(out), 4096 + 3);
	assert_string_equal(out + 4096, "...");

	memset(in, '\n', big);
	audit_escape(in, big, 4096, out, 4096 * 4 + 4);
	assert_int_equal(strlen(out), 4096 * 4 + 3);
	assert_null(strchr(out, '\n'));

	/* Output too small: cut cleanly at an escape boundary, marked. */
	audit_escape("\n\n\n", 3, 256, small, sizeof(small));
	assert_string_equal(small, "\\x0a...");
	audit_escape("abc", 3, 256, small, 1);
	assert_string_equal(small, "");
	audit_escape("abcdef", 6, 256, small, 4);
	assert_string_equal(small, "...");
	free(in);
	free(out);
}

static void
test_conn_init(void **state)
{
	struct audit_conn a = { 0 }, b = { 0 };
	size_t i;

	(void)state;
	setenv("INVOCATION_ID", "0123456789ABCDEF0123456789abcdef", 1);
	assert_int_equal(audit_conn_init(&a), 0);
	assert_string_equal(a.id, "0123456789abcdef0123456789abcdef");

	const char *bad[] = { "0123456789abcdef0123456789abcde",
	    "0123456789abcdef0123456789abcdef0", "0123456789abcdef0123456789abcdeg",
	    "", "0123456789abcdef\n123456789abcdef" };
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("INVOCATION_ID", bad[i], 1);
		assert_int_equal(audit_conn_init(&a), 0);
		assert_int_equal(strlen(a.id), 32);
		assert_int_equal(strspn(a.id, "0123456789abcdef"), 32);
		assert_string_not_equal(a.id, "0123456789abcdef0123456789abcdef");
	}
	unsetenv("INVOCATION_ID");
	assert_int_equal(audit_conn_init(&a), 0);
	assert_int_equal(audit_conn_init(&b), 0);
	assert_int_equal(strspn(b.id, "0123456789abcdef"), 32);
	assert_string_not_equal(a.id, b.id);
}

static void
test_conn_setters(void **state)
{
	struct audit_conn c = { 0 };
	char big[1000];

	(void)state;
	memset(big, 'u', sizeof(big));
	audit_conn_set_user(&c, big, sizeof(big));
	assert_int_equal(strlen(c.user), sizeof(c.user) - 1);
	assert_string_equal(c.user + sizeof(c.user) - 4, "...");
	audit_conn_set_version(&c, "SSH-2.0-OpenSSH_9.2\r\n", 21);
	assert_string_equal(c.client_version, "SSH-2.0-OpenSSH_9.2\r\n");
	audit_conn_set_user(&c, "alice\0root", 10);
	assert_string_equal(c.user, "alice");
}

static void
test_event_table(void **state)
{
	int i, j;

	(void)state;
	for (i = 0; i < _AUDIT_EVENT_MAX; i++) {
		assert_non_null(audit_message_id(i));
		assert_int_equal(strlen(audit_message_id(i)), 32);
		for (j = 0; j < i; j++)
			assert_string_not_equal(audit_message_id(i),
			    audit_message_id(j));
	}
	assert_string_equal(audit_event_name(AUDIT_REJECTED_BANNED),
	    "rejected-banned");
	assert_string_equal(audit_event_name(AUDIT_PRIVSEP_VIOLATION),
	    "privsep-violation");
	assert_null(audit_message_id(_AUDIT_EVENT_MAX));
	assert_int_equal(audit_emit(_AUDIT_EVENT_MAX, NULL, NULL), -EINVAL);
}

static char *
read_all(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	assert_non_null(f);
	buf = malloc(1024 * 1024);
	assert_non_null(buf);
	n = fread(buf, 1, 1024 * 1024 - 1, f);
	buf[n] = '\0';
	fclose(f);
	*ret_len = n;
	return buf;
}

static void
fill_conn(struct audit_conn *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->id, "00112233445566778899aabbccddeeff");
	strcpy(c->remote_addr, "127.0.0.1");
	c->remote_port = 5555;
	strcpy(c->local_addr, "127.0.0.1");
	c->local_port = 22;
	audit_conn_set_user(c, "evil\n\"SSHAND_USER\":\"root\"\nSSHAND_USER=root\xff", 43);
	audit_conn_set_version(c, "SSH-2.0-x\r\n", 11);
}

static void
test_json_file(void **state)
{
	char dir[] = "/tmp/test_audit.XXXXXX", path[256], *buf, *line, *save;
	struct audit_fields f = AUDIT_FIELDS_INIT;
	struct audit_conn c;
	struct kv kv = { 0 };
	char *cmd = malloc(64 * 1024 + 1), expect_user[1100];
	size_t len;
	struct stat st;
	int lines = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	assert_int_equal(audit_trail_open(path, NULL), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	fill_conn(&c);
	assert_int_equal(audit_emit(AUDIT_CONNECT, &c, NULL), 0);
	f.auth_method = "password";
	f.auth_result = "failure";
	f.reason = "unknown-user";
	assert_int_equal(audit_emit(AUDIT_AUTH_ATTEMPT, &c, &f), 0);
	memset(cmd, '\n', 64 * 1024);
	cmd[64 * 1024] = '\0';
	memcpy(cmd, "ls\"}\n", 5);
	f = (struct audit_fields)AUDIT_FIELDS_INIT;
	f.session_type = "exec";
	f.command = cmd;
	assert_int_equal(audit_emit(AUDIT_SESSION_START, &c, &f), 0);
	f = (struct audit_fields)AUDIT_FIELDS_INIT;
	f.exit_status = 7;
	f.bytes_in = 10;
	f.bytes_out = 20;
	f.duration_usec = 1500000;
	f.reason = "client-closed";
	assert_int_equal(audit_emit(AUDIT_DISCONNECT, &c, &f), 0);
	audit_trail_close();

	audit_escape(c.user, strlen(c.user), AUDIT_MAX_USER, expect_user,
	    sizeof(expect_user));
	buf = read_all(path, &len);
	for (line = strtok_r(buf, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		const char *ev;

		parse_json_line(line, &kv);
		ev = kv_get(&kv, "SSHAND_EVENT");
		assert_non_null(ev);
		assert_string_equal(kv_get(&kv, "SSHAND_CONNECTION"), c.id);
		assert_string_equal(kv_get(&kv, "SSHAND_USER"), expect_user);
		assert_string_equal(kv_get(&kv, "SYSLOG_IDENTIFIER"), "sshand");
		assert_string_equal(kv_get(&kv, "SSHAND_REMOTE_PORT"), "5555");
		assert_string_equal(kv_get(&kv, "SSHAND_CLIENT_VERSION"),
		    "SSH-2.0-x\\x0d\\x0a");
		assert_non_null(kv_get(&kv, "__REALTIME_TIMESTAMP"));
		assert_true(strtoll(kv_get(&kv, "__REALTIME_TIMESTAMP"), NULL,
		    10) > 1600000000000000LL);
		assert_null(strchr(kv_get(&kv, "MESSAGE"), '\n'));
		if (lines == 0) {
			assert_string_equal(ev, "connect");
			assert_string_equal(kv_get(&kv, "MESSAGE_ID"),
			    audit_message_id(AUDIT_CONNECT));
			assert_string_equal(kv_get(&kv, "MESSAGE"),
			    "Connection from 127.0.0.1 port 5555 on 127.0.0.1 port 22");
			assert_string_equal(kv_get(&kv, "PRIORITY"), "6");
		} else if (lines == 1) {
			assert_string_equal(ev, "auth-attempt");
			assert_string_equal(kv_get(&kv, "SSHAND_REASON"), "unknown-user");
			assert_string_equal(kv_get(&kv, "SSHAND_AUTH_RESULT"), "failure");
			assert_string_equal(kv_get(&kv, "PRIORITY"), "4");
			assert_non_null(strstr(kv_get(&kv, "MESSAGE"),
			    "Failed password for invalid user evil\\x0a"));
		} else if (lines == 2) {
			const char *v = kv_get(&kv, "SSHAND_COMMAND");

			assert_string_equal(ev, "session-start");
			assert_int_equal(strlen(v), 4 + 4 * 4092 + 3);
			assert_memory_equal(v, "ls\"}\\x0a\\x0a", 12);
			assert_string_equal(v + strlen(v) - 3, "...");
			assert_string_equal(kv_get(&kv, "SSHAND_SESSION_TYPE"), "exec");
		} else {
			assert_string_equal(ev, "disconnect");
			assert_string_equal(kv_get(&kv, "SSHAND_BYTES_IN"), "10");
			assert_string_equal(kv_get(&kv, "SSHAND_BYTES_OUT"), "20");
			assert_string_equal(kv_get(&kv, "SSHAND_DURATION_USEC"), "1500000");
			assert_string_equal(kv_get(&kv, "SSHAND_EXIT_STATUS"), "7");
			assert_null(kv_get(&kv, "SSHAND_EXIT_SIGNAL"));
			assert_string_equal(kv_get(&kv, "MESSAGE"),
			    "Disconnected from 127.0.0.1 port 5555: client-closed, "
			    "10 bytes in, 20 bytes out, 1.500 s");
		}
		kv_free(&kv);
		lines++;
	}
	assert_int_equal(lines, 4);
	free(buf);
	free(cmd);
	unlink(path);
	rmdir(dir);
}

struct jsock {
	char dir[64];
	char path[128];
	int fd;
};

static void
jsock_open(struct jsock *j)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int sz = 1024 * 1024;

	strcpy(j->dir, "/tmp/test_audit.XXXXXX");
	assert_non_null(mkdtemp(j->dir));
	snprintf(j->path, sizeof(j->path), "%s/socket", j->dir);
	strcpy(sa.sun_path, j->path);
	j->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(j->fd >= 0);
	setsockopt(j->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	assert_int_equal(bind(j->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	journal_set_path(j->path);
}

static void
jsock_close(struct jsock *j)
{
	close(j->fd);
	unlink(j->path);
	rmdir(j->dir);
	journal_set_path(NULL);
}

static void
jsock_recv(struct jsock *j, struct kv *kv)
{
	static char buf[128 * 1024];
	ssize_t n = recv(j->fd, buf, sizeof(buf), MSG_DONTWAIT);

	assert_true(n > 0);
	assert_true(n < 64 * 1024);
	parse_native(buf, (size_t)n, kv);
}

static void
test_journal_native(void **state)
{
	struct audit_fields f = AUDIT_FIELDS_INIT;
	struct audit_conn c;
	struct jsock j;
	struct kv kv = { 0 };
	char *cmd = malloc(64 * 1024 + 1), expect_user[1100];

	(void)state;
	jsock_open(&j);
	assert_int_equal(audit_trail_open("journal", "/nonexistent/fallback"), 0);
	/* The fd must outlive the path, as it does across a chroot. */
	unlink(j.path);

	fill_conn(&c);
	f.auth_method = "publickey";
	f.auth_result = "success";
	f.key_fingerprint = "SHA256:abc";
	assert_int_equal(audit_emit(AUDIT_AUTH_ATTEMPT, &c, &f), 0);
	jsock_recv(&j, &kv);
	audit_escape(c.user, strlen(c.user), AUDIT_MAX_USER, expect_user,
	    sizeof(expect_user));
	assert_string_equal(kv_get(&kv, "SSHAND_USER"), expect_user);
	assert_string_equal(kv_get(&kv, "SSHAND_EVENT"), "auth-attempt");
	assert_string_equal(kv_get(&kv, "MESSAGE_ID"),
	    audit_message_id(AUDIT_AUTH_ATTEMPT));
	assert_string_equal(kv_get(&kv, "SSHAND_AUTH_METHOD"), "publickey");
	assert_string_equal(kv_get(&kv, "SSHAND_KEY_FINGERPRINT"), "SHA256:abc");
	assert_string_equal(kv_get(&kv, "PRIORITY"), "5");
	assert_string_equal(kv_get(&kv, "SYSLOG_FACILITY"), "10");
	assert_string_equal(kv_get(&kv, "SSHAND_LOCAL_PORT"), "22");
	assert_string_equal(kv_get(&kv, "MESSAGE"), "Accepted publickey for "
	    "evil\\x0a\"SSHAND_USER\":\"root\"\\x0aSSHAND_USER=root\\xff from "
	    "127.0.0.1 port 5555: SHA256:abc");
	kv_free(&kv);

	memset(cmd, 0xff, 64 * 1024);
	cmd[64 * 1024] = '\0';
	f = (struct audit_fields)AUDIT_FIELDS_INIT;
	f.session_type = "exec";
	f.command = cmd;
	assert_int_equal(audit_emit(AUDIT_SESSION_START, &c, &f), 0);
	jsock_recv(&j, &kv);
	assert_int_equal(strlen(kv_get(&kv, "SSHAND_COMMAND")), 4096 * 4 + 3);
	kv_free(&kv);

	f = (struct audit_fields)AUDIT_FIELDS_INIT;
	f.exit_signal = 9;
	assert_int_equal(audit_emit(AUDIT_SESSION_END, &c, &f), 0);
	jsock_recv(&j, &kv);
	assert_string_equal(kv_get(&kv, "SSHAND_EXIT_SIGNAL"), "9");
	assert_non_null(strstr(kv_get(&kv, "MESSAGE"), "killed by signal 9"));
	kv_free(&kv);

	f = (struct audit_fields)AUDIT_FIELDS_INIT;
	f.ban_until = 0;
	assert_int_equal(audit_emit(AUDIT_BAN_ADDED, &c, &f), 0);
	jsock_recv(&j, &kv);
	assert_string_equal(kv_get(&kv, "MESSAGE"),
	    "Banned 127.0.0.1 until 1970-01-01 00:00:00 UTC");
	assert_string_equal(kv_get(&kv, "SSHAND_BAN_UNTIL"), "0");
	kv_free(&kv);
	audit_trail_close();
	free(cmd);
	jsock_close(&j);
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct late_reader {
	struct jsock *j;
	int delay_ms;
};

static void *
read_late(void *arg)
{
	struct late_reader *lr = arg;
	struct timespec ts = { 0, (long)lr->delay_ms * 1000000 };
	char buf[256];

	nanosleep(&ts, NULL);
	(void)!recv(lr->j->fd, buf, sizeof(buf), 0);
	return NULL;
}

/* journal_drain(): at once with nothing queued; when nobody reads, no
 * longer than it was told (and not shorter); as soon as the reader has
 * taken the record otherwise. */
static void
test_journal_drain(void **state)
{
	struct late_reader lr;
	struct jsock j;
	pthread_t t;
	int64_t t0;
	int fd;

	(void)state;
	jsock_open(&j);
	fd = journal_connect();
	assert_true(fd >= 0);
	t0 = mono_ms();
	journal_drain(fd, 5000);
	assert_true(mono_ms() - t0 < 2500);

	assert_int_equal(send(fd, "MESSAGE=x\n", 10, 0), 10);
	t0 = mono_ms();
	journal_drain(fd, 60);
	assert_true(mono_ms() - t0 >= 60);

	/* Read now: the one queued; then one read 50 ms after sending. */
	(void)!recv(j.fd, (char[64]){ 0 }, 64, 0);
	assert_int_equal(send(fd, "MESSAGE=y\n", 10, 0), 10);
	lr = (struct late_reader){ &j, 50 };
	assert_int_equal(pthread_create(&t, NULL, read_late, &lr), 0);
	t0 = mono_ms();
	journal_drain(fd, 10000);
	assert_true(mono_ms() - t0 < 5000);
	assert_int_equal(pthread_join(t, NULL), 0);

	journal_drain(-1, 1000);	/* no journal: nothing to wait for */
	close(fd);
	jsock_close(&j);
}

static void
test_journal_field_binary(void **state)
{
	char buf[64];
	size_t off = 0;
	struct kv kv = { 0 };

	(void)state;
	assert_int_equal(journal_field(buf, sizeof(buf), &off, "A", "x\ny",
	    3), 0);
	assert_int_equal(off, 2 + 8 + 3 + 1);
	assert_memory_equal(buf, "A\n\x03\0\0\0\0\0\0\0x\ny\n", off);
	assert_int_equal(journal_field(buf, sizeof(buf), &off, "B", "z", 1), 0);
	parse_native(buf, off, &kv);
	assert_int_equal(kv.n, 2);
	assert_string_equal(kv_get(&kv, "A"), "x\ny");
	assert_string_equal(kv_get(&kv, "B"), "z");
	kv_free(&kv);
	off = 60;
	assert_int_equal(journal_field(buf, sizeof(buf), &off, "C", "abcd",
	    4), -ENOBUFS);
	assert_int_equal(off, 60);
}

static void
test_journal_fallback(void **state)
{
	char dir[] = "/tmp/test_audit.XXXXXX", path[256], *buf;
	struct audit_conn c;
	struct kv kv = { 0 };
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fallback.jsonl", dir);
	journal_set_path("/nonexistent/journal/socket");
	assert_int_equal(audit_trail_open("journal", path), 0);
	fill_conn(&c);
	assert_int_equal(audit_emit(AUDIT_REJECTED_BANNED, &c, NULL), 0);
	audit_trail_close();
	buf = read_all(path, &len);
	parse_json_line(buf, &kv);
	assert_string_equal(kv_get(&kv, "SSHAND_EVENT"), "rejected-banned");
	kv_free(&kv);
	free(buf);
	unlink(path);
	rmdir(dir);

	/* No journal and no file: syslog, which must not fail. */
	assert_int_equal(audit_trail_open("journal", NULL), 0);
	assert_int_equal(audit_emit(AUDIT_PRIVSEP_VIOLATION, &c, NULL), 0);
	audit_trail_close();
	assert_int_equal(audit_trail_open("relative/path", NULL), -EINVAL);
	assert_int_equal(audit_emit(AUDIT_CONNECT, &c, NULL), -ENOTCONN);
	journal_set_path(NULL);
}

static void
test_log_journal(void **state)
{
	struct jsock j;
	struct kv kv = { 0 };
	char buf[16];

	(void)state;
	jsock_open(&j);
	log_setup(LOG_TARGET_JOURNAL, LOG_INFO);
	assert_int_equal(log_current_target(), LOG_TARGET_JOURNAL);
	unlink(j.path);
	log_set_connection("00112233445566778899aabbccddeeff");
	log_set_prefix("[net]");
	assert_int_equal(log_errno(LOG_ERR, -ENOENT, "open %s", "x\ny"), -ENOENT);
	jsock_recv(&j, &kv);
	assert_string_equal(kv_get(&kv, "PRIORITY"), "3");
	assert_string_equal(kv_get(&kv, "SYSLOG_IDENTIFIER"), "sshand");
	assert_string_equal(kv_get(&kv, "SSHAND_CONNECTION"),
	    "00112233445566778899aabbccddeeff");
	assert_string_equal(kv_get(&kv, "ERRNO"), "2");
	assert_string_equal(kv_get(&kv, "MESSAGE"),
	    "[net] open x?y: No such file or directory");
	kv_free(&kv);

	log_debug("dropped");
	assert_true(recv(j.fd, buf, sizeof(buf), MSG_DONTWAIT) < 0);
	log_set_connection(NULL);
	log_set_prefix(NULL);
	log_info("hello");
	jsock_recv(&j, &kv);
	assert_null(kv_get(&kv, "SSHAND_CONNECTION"));
	assert_string_equal(kv_get(&kv, "MESSAGE"), "hello");
	kv_free(&kv);
	log_setup(LOG_TARGET_NONE, LOG_DEBUG);
	jsock_close(&j);

	/* No journal: logging is off, not redirected anywhere. */
	journal_set_path("/nonexistent/socket");
	log_setup(LOG_TARGET_JOURNAL, LOG_INFO);
	assert_int_equal(log_current_target(), LOG_TARGET_NONE);
	journal_set_path(NULL);
}

static void
test_log_stderr(void **state)
{
	int p[2], saved_err = dup(2), saved_in = dup(0), sp[2];
	char buf[256], expect[64];
	ssize_t n;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(dup2(p[1], 2), 2);
	log_setup(LOG_TARGET_STDERR, LOG_INFO);
	assert_int_equal(log_current_target(), LOG_TARGET_STDERR);
	log_set_prefix("[net]");
	log_warning("a\nb");
	log_set_prefix(NULL);
	n = read(p[0], buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	snprintf(expect, sizeof(expect), "sshand[%ld]: [net] a?b\n", (long)getpid());
	assert_string_equal(buf, expect);

	/* inetd: fd 0 and fd 2 are the same socket -> refuse stderr. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	dup2(sp[0], 0);
	dup2(sp[0], 2);
	log_setup(LOG_TARGET_STDERR, LOG_INFO);
	assert_int_equal(log_current_target(), LOG_TARGET_NONE);
	log_error("must not reach the peer");
	dup2(saved_err, 2);
	dup2(saved_in, 0);
	assert_true(recv(sp[1], buf, sizeof(buf), MSG_DONTWAIT) < 0);
	close(sp[0]);
	close(sp[1]);
	close(p[0]);
	close(p[1]);
	close(saved_err);
	close(saved_in);
	log_setup(LOG_TARGET_NONE, LOG_INFO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_basic),
		cmocka_unit_test(test_escape_bounds),
		cmocka_unit_test(test_conn_init),
		cmocka_unit_test(test_conn_setters),
		cmocka_unit_test(test_event_table),
		cmocka_unit_test(test_json_file),
		cmocka_unit_test(test_journal_native),
		cmocka_unit_test(test_journal_field_binary),
		cmocka_unit_test(test_journal_drain),
		cmocka_unit_test(test_journal_fallback),
		cmocka_unit_test(test_log_journal),
		cmocka_unit_test(test_log_stderr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
