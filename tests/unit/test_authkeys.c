/* authorized_keys parsing, matching and StrictModes.  The keys are real
 * ssh-keygen output (generated once, embedded so the test needs no
 * ssh-keygen at run time). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "handler/monitor/authkeys.h"
#include "policy/forward.h"

#define ED25519 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBbe9fXuOULyCSSdZCpH7EIssySRounzB+LbFe2XDMGS"
#define OTHER "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDEooU0mFqcoxXn+U2/ivUit7IWr16EetFsmdKvIm2oY"
#define P256 "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBMYleVzLzBh1Db/G8V/8AQhMxZuArt693FCXLO7zLlkfkYuZsTk3OtGm7TqD6lmtK6f4hHBtc1+u5vSyefa5/Ng="
#define P384 "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBLdwbR7q1b+Yvti2avAgfLcz9qpqPiDomog0vQlGSHeNjG+iVwpUHwdxGe/vFWEMMiwNVhISwvSeWFxBGqwLG1qbC5S2wqMCQxjJQszdt23zl1O3Cv/JIaECq0Sr4sIKUA=="
#define P521 "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBACDRlU80RUU0lh71x0z5OMdf9MxcuH0Fuazwh2aQqIJlfHCTdraBwVPP3EPfme+idurQlXyxEz/Pjp3yZkGARCuvgHBkTfwkjIfskGqxYGcoyyUXe3S0+o99sizet6WYmLnIrvxWlQohlorwdBaO+mjggsrWHy5cySEfWTdkUCWrIstLA=="
#define RSA "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCqlST6L0C0xu9TZsR8439BX90rDXpKyjMtxx3uea3s0aWjQBhCBK3y4Wi1TDmmu/c19VoPKOVgOcPYsHVuXsEaPcU9vY7BlT3dZQQ2S2kwfIlVRdgq9CVlFSg2UBbCSFgaQQolysJ2ZO3uC7KOk/jLz4beboyeTxT7JN6tcVCZFKX+d6egPH0koWDIgkDLMiEQdbJOWoYXKplONdGu7rXhKBrYO2JPXlx4EAK4/KA+u2zXxSqkaH8IxQRiVwmhlJrL2L4w1qQm6FMkKpdDcyd5aCDdxjeTPS5LUu8TN7kWEt7zTUfQMBLKp8SsjWR09Gy4M3Dnubv+BqKArODX1JFp"
#define ED25519_B64 "AAAAC3NzaC1lZDI1NTE5AAAAIBbe9fXuOULyCSSdZCpH7EIssySRounzB+LbFe2XDMGS"

#define TEST_UID 4242

/* An independent decoder, so the test does not trust the code under test
 * to produce the query blob. */
static size_t
decode(const char *line, uint8_t *out, size_t max)
{
	static const char al[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = strchr(line, ' ') + 1;
	uint32_t acc = 0;
	size_t n = 0;
	int bits = 0;

	for (; *p != '\0' && *p != ' ' && *p != '='; p++) {
		acc = acc << 6 | (uint32_t)(strchr(al, *p) - al);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			assert_true(n < max);
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	return n;
}

struct key {
	uint8_t blob[2048];
	struct authkey_query q;
};

static void
key_init(struct key *k, const char *line, const char *addr)
{
	memset(k, 0, sizeof(*k));
	k->q.blob = k->blob;
	k->q.blob_len = decode(line, k->blob, sizeof(k->blob));
	k->q.addr = addr;
	k->q.now = time(NULL);
}

static int
match(const char *line, const struct key *k, struct authkey_opts *o,
    char *why)
{
	memset(o, 0, sizeof(*o));
	why[0] = '\0';
	return authkeys_match_line(line, &k->q, o, why, 256);
}

static void
test_types(void **state)
{
	const char *lines[] = { ED25519, P256, P384, P521, RSA };
	struct authkey_opts o;
	char why[256], buf[2048];
	struct key k;
	size_t i, j;

	(void)state;
	for (i = 0; i < 5; i++) {
		key_init(&k, lines[i], "192.0.2.1");
		for (j = 0; j < 5; j++) {
			snprintf(buf, sizeof(buf), "%s comment here", lines[j]);
			assert_int_equal(match(buf, &k, &o, why), i == j);
			if (i == j) {
				assert_false(o.no_pty);
				assert_null(o.command);
				authkey_opts_clear(&o);
			} else {
				assert_string_equal(why, "different key");
			}
		}
	}
	/* no comment, leading blanks, trailing newline */
	key_init(&k, ED25519, NULL);
	assert_int_equal(match(ED25519, &k, &o, why), 1);
	authkey_opts_clear(&o);
	assert_int_equal(match("  \t" ED25519 "\r\n", &k, &o, why), 1);
	authkey_opts_clear(&o);
	assert_int_equal(match(OTHER " x", &k, &o, why), 0);
}

static void
test_comments_blank(void **state)
{
	struct authkey_opts o;
	char why[256];
	struct key k;

	(void)state;
	key_init(&k, ED25519, NULL);
	assert_int_equal(match("", &k, &o, why), 0);
	assert_int_equal(match("   \t ", &k, &o, why), 0);
	assert_int_equal(match("# " ED25519, &k, &o, why), 0);
	assert_int_equal(match("   #comment", &k, &o, why), 0);
	assert_int_equal(match("\n", &k, &o, why), 0);
	assert_int_equal(match("\r\n", &k, &o, why), 0);
}

static void
test_flags(void **state)
{
	struct authkey_opts o;
	char why[256];
	struct key k;

	(void)state;
	key_init(&k, ED25519, NULL);
	assert_int_equal(match("restrict " ED25519, &k, &o, why), 1);
	assert_true(o.no_pty && o.no_port_forwarding && o.no_agent_forwarding &&
	    o.no_x11_forwarding && o.no_user_rc);
	authkey_opts_clear(&o);

	assert_int_equal(match("restrict,pty " ED25519, &k, &o, why), 1);
	assert_false(o.no_pty);
	assert_true(o.no_port_forwarding && o.no_agent_forwarding &&
	    o.no_x11_forwarding && o.no_user_rc);
	authkey_opts_clear(&o);

	assert_int_equal(match("restrict,port-forwarding,agent-forwarding,"
	    "X11-forwarding,user-rc " ED25519, &k, &o, why), 1);
	assert_true(o.no_pty);
	assert_false(o.no_port_forwarding || o.no_agent_forwarding ||
	    o.no_x11_forwarding || o.no_user_rc);
	authkey_opts_clear(&o);

	assert_int_equal(match("no-pty,no-port-forwarding,no-agent-forwarding,"
	    "no-X11-forwarding,no-user-rc " ED25519, &k, &o, why), 1);
	assert_true(o.no_pty && o.no_port_forwarding && o.no_agent_forwarding &&
	    o.no_x11_forwarding && o.no_user_rc);
	authkey_opts_clear(&o);

	/* option names are case-insensitive */
	assert_int_equal(match("NO-PTY,Restrict " ED25519, &k, &o, why), 1);
	assert_true(o.no_pty && o.no_user_rc);
	authkey_opts_clear(&o);

	/* parsed-only options; permitopen= and permitlisten= are kept
	 * (test_permits) */
	assert_int_equal(match("permitopen=\"localhost:80\",permitlisten="
	    "\"8080\",tunnel=\"0\",principals=\"a,b\" " ED25519, &k, &o, why),
	    1);
	assert_int_equal(o.n_permitopen, 1);
	assert_int_equal(o.n_permitlisten, 1);
	authkey_opts_clear(&o);
	assert_int_equal(match("tunnel=\"x\" " ED25519, &k, &o, why),
	    -EINVAL);
}

static void
test_malformed(void **state)
{
	struct authkey_opts o;
	char why[256];
	struct key k;
	const char *bad[] = {
		"frobnicate " ED25519,		/* unknown option */
		"no-pty," ED25519,		/* key type taken as option */
		"no-pty=\"x\" " ED25519,	/* flag with a value */
		"command " ED25519,		/* value option without value */
		"command=unquoted " ED25519,
		"command=\"unterminated " ED25519,
		"command=\"a\"x " ED25519,	/* garbage after the quote */
		"no-pty,,restrict " ED25519,
		"no-pty",			/* options, no key */
		"no-pty ",
		"ssh-ed25519",			/* type, no key */
		"ssh-ed25519 AAAA%%%%",		/* not base64 */
		"command=\"a\",command=\"b\" " ED25519,
		"from=\"1.2.3.4\",from=\"5.6.7.8\" " ED25519,
		"from=\"\" " ED25519,
	};
	size_t i;

	(void)state;
	key_init(&k, ED25519, NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = match(bad[i], &k, &o, why);

		if (r != -EINVAL)
			fail_msg("line %zu '%s' gave %d", i, bad[i], r);
		assert_non_null(strstr(why, "malformed"));
	}
	match("frobnicate " ED25519, &k, &o, why);
	assert_string_equal(why, "malformed line: unknown option");
}

static void
test_wrong_type_truncated(void **state)
{
	struct authkey_opts o;
	char why[256], buf[1024];
	struct key k;
	size_t n;

	(void)state;
	key_init(&k, ED25519, NULL);
	/* type text disagrees with the blob */
	assert_int_equal(match("ssh-rsa " ED25519_B64, &k, &o, why), -EINVAL);
	assert_non_null(strstr(why, "type"));
	assert_int_equal(match("ecdsa-sha2-nistp256 " ED25519_B64, &k, &o,
	    why), -EINVAL);
	/* P384 blob claimed as P256 */
	snprintf(buf, sizeof(buf), "ecdsa-sha2-nistp256 %s",
	    strchr(P384, ' ') + 1);
	assert_int_equal(match(buf, &k, &o, why), -EINVAL);

	/* chop whole base64 quanta off: well-formed base64, short blob */
	snprintf(buf, sizeof(buf), "%s", ED25519);
	n = strlen(buf);
	buf[n - 4] = '\0';
	assert_int_equal(match(buf, &k, &o, why), -EINVAL);
	/* chop one char: not whole quanta */
	snprintf(buf, sizeof(buf), "%s", ED25519);
	buf[n - 1] = '\0';
	assert_int_equal(match(buf, &k, &o, why), -EINVAL);
	/* extra bytes after the key */
	snprintf(buf, sizeof(buf), "%sAAAA", ED25519);
	assert_int_equal(match(buf, &k, &o, why), -EINVAL);
	/* padding in the middle */
	snprintf(buf, sizeof(buf), "%s", ED25519);
	buf[20] = '=';
	assert_int_equal(match(buf, &k, &o, why), -EINVAL);

	/* unknown-but-real key types are valid lines that never match */
	assert_int_equal(match("ssh-dss AAAAB3NzaC1kc3MAAACBAP", &k, &o, why),
	    0);
	assert_non_null(strstr(why, "unsupported"));
	assert_int_equal(match("restrict sk-ssh-ed25519@openssh.com AAAA",
	    &k, &o, why), 0);
}

static void
test_command_quoting(void **state)
{
	struct authkey_opts o;
	char why[256];
	struct key k;

	(void)state;
	key_init(&k, ED25519, NULL);
	assert_int_equal(match("command=\"echo \\\"hi there\\\" a\\\\b\\n\" "
	    ED25519, &k, &o, why), 1);
	/* \" is a quote, every other backslash stays */
	assert_string_equal(o.command, "echo \"hi there\" a\\\\b\\n");
	authkey_opts_clear(&o);

	/* blanks inside quotes do not end the options */
	assert_int_equal(match("no-pty,command=\"ls -l /, x\",COMMAND2=\"\" "
	    ED25519, &k, &o, why), -EINVAL);
	assert_int_equal(match("no-pty,Command=\"ls -l /, x\" " ED25519, &k,
	    &o, why), 1);
	assert_string_equal(o.command, "ls -l /, x");
	assert_true(o.no_pty);
	authkey_opts_clear(&o);

	assert_int_equal(match("command=\"\" " ED25519, &k, &o, why), 1);
	assert_string_equal(o.command, "");
	authkey_opts_clear(&o);
}

static void
test_from(void **state)
{
	struct authkey_opts o;
	char why[256];
	struct key k;

	(void)state;
	key_init(&k, ED25519, "192.0.2.7");
	assert_int_equal(match("from=\"192.0.2.0/24\" " ED25519, &k, &o, why),
	    1);
	assert_string_equal(o.from, "192.0.2.0/24");
	authkey_opts_clear(&o);
	assert_int_equal(match("from=\"10.*,192.0.2.7\" " ED25519, &k, &o,
	    why), 1);
	authkey_opts_clear(&o);

	assert_int_equal(match("from=\"10.0.0.0/8\" " ED25519, &k, &o, why), 0);
	assert_non_null(strstr(why, "from="));
	assert_int_equal(match("from=\"192.0.2.0/24,!192.0.2.7\" " ED25519,
	    &k, &o, why), 0);
	assert_non_null(strstr(why, "negated"));
	assert_int_equal(match("from=\"!192.0.2.7\" " ED25519, &k, &o, why), 0);
	/* negation of someone else plus a positive hit */
	assert_int_equal(match("from=\"!192.0.2.8,192.0.2.*\" " ED25519, &k,
	    &o, why), 1);
	authkey_opts_clear(&o);

	/* unparsable list: fail closed */
	assert_int_equal(match("from=\"192.0.2.0/99\" " ED25519, &k, &o, why),
	    -EINVAL);

	/* another key's from= is irrelevant */
	assert_int_equal(match("from=\"10.0.0.0/8\" " OTHER, &k, &o, why), 0);
	assert_string_equal(why, "different key");

	/* no address known: from= cannot be satisfied */
	k.q.addr = NULL;
	assert_int_equal(match("from=\"0.0.0.0/0\" " ED25519, &k, &o, why), 0);

	/* v4-mapped client address matches an IPv4 list */
	k.q.addr = "::ffff:192.0.2.7";
	assert_int_equal(match("from=\"192.0.2.0/24\" " ED25519, &k, &o, why),
	    1);
	authkey_opts_clear(&o);
}

static void
test_expiry(void **state)
{
	struct authkey_opts o;
	char why[256];
	struct key k;

	(void)state;
	key_init(&k, ED25519, NULL);
	assert_int_equal(match("expiry-time=\"20000101\" " ED25519, &k, &o,
	    why), 0);
	assert_string_equal(why, "key expired");
	assert_int_equal(match("expiry-time=\"209901011230\" " ED25519, &k, &o,
	    why), 1);
	assert_true(o.expiry > k.q.now);
	authkey_opts_clear(&o);
	assert_int_equal(match("expiry-time=\"20990101123059\" " ED25519, &k,
	    &o, why), 1);
	authkey_opts_clear(&o);

	/* local time, as OpenSSH */
	{
		struct tm tm = { .tm_year = 2099 - 1900, .tm_mon = 0,
		    .tm_mday = 1, .tm_hour = 12, .tm_min = 30, .tm_sec = 59,
		    .tm_isdst = -1 };

		assert_int_equal(match("expiry-time=\"20990101123059\" "
		    ED25519, &k, &o, why), 1);
		assert_int_equal(o.expiry, (int64_t)mktime(&tm));
		authkey_opts_clear(&o);
	}

	/* the earliest of several wins */
	assert_int_equal(match("expiry-time=\"20990101\",expiry-time="
	    "\"20010101\" " ED25519, &k, &o, why), 0);

	assert_int_equal(match("expiry-time=\"2099\" " ED25519, &k, &o, why),
	    -EINVAL);
	assert_int_equal(match("expiry-time=\"20991301\" " ED25519, &k, &o,
	    why), -EINVAL);
	assert_int_equal(match("expiry-time=\"2099010a\" " ED25519, &k, &o,
	    why), -EINVAL);
	assert_int_equal(match("expiry-time=\"209901011\" " ED25519, &k, &o,
	    why), -EINVAL);
}

static void
test_environment(void **state)
{
	struct authkey_opts o;
	char why[256], *line, *p;
	struct key k;
	int i;

	(void)state;
	key_init(&k, ED25519, NULL);
	assert_int_equal(match("environment=\"FOO=bar baz\",environment="
	    "\"X_1=\",environment=\"FOO=second\" " ED25519, &k, &o, why), 1);
	assert_int_equal(o.n_environment, 2);
	assert_string_equal(o.environment[0], "FOO=bar baz");
	assert_string_equal(o.environment[1], "X_1=");
	authkey_opts_clear(&o);

	assert_int_equal(match("environment=\"FOO\" " ED25519, &k, &o, why),
	    -EINVAL);
	assert_int_equal(match("environment=\"=x\" " ED25519, &k, &o, why),
	    -EINVAL);
	assert_int_equal(match("environment=\"A-B=x\" " ED25519, &k, &o, why),
	    -EINVAL);
	assert_int_equal(match("environment=\"A B=x\" " ED25519, &k, &o, why),
	    -EINVAL);

	/* exactly the maximum, then one more */
	line = malloc(AUTHKEYS_MAX_LINE);
	assert_non_null(line);
	p = line;
	for (i = 0; i < AUTHKEYS_MAX_ENV; i++)
		p += sprintf(p, "environment=\"V%d=%d\",", i, i);
	sprintf(p - 1, " %s", ED25519);
	assert_int_equal(match(line, &k, &o, why), 1);
	assert_int_equal(o.n_environment, AUTHKEYS_MAX_ENV);
	authkey_opts_clear(&o);
	p = line;
	for (i = 0; i < AUTHKEYS_MAX_ENV + 1; i++)
		p += sprintf(p, "environment=\"V%d=%d\",", i, i);
	sprintf(p - 1, " %s", ED25519);
	assert_int_equal(match(line, &k, &o, why), -EINVAL);
	assert_non_null(strstr(why, "too many"));
	free(line);
}

/* permitopen= and permitlisten=: kept, every one, in sshd's stored form;
 * restrict leaves them alone (it is no-port-forwarding that refuses
 * forwarding, and port-forwarding after restrict gives it back). */
static void
test_permits(void **state)
{
	struct authkey_opts o;
	struct strlist l;
	char why[256], *line, *p;
	struct key k;
	int i;

	(void)state;
	key_init(&k, ED25519, NULL);
	assert_int_equal(match("permitopen=\"localhost:80\",permitlisten="
	    "\"8080\",permitopen=\"[::1]:*\",permitopen=\"db/5432\","
	    "permitlisten=\"localhost:*\",permitopen=\"*:443\" " ED25519, &k,
	    &o, why), 1);
	assert_int_equal(o.n_permitopen, 4);
	assert_string_equal(o.permitopen[0], "localhost:80");
	assert_string_equal(o.permitopen[1], "[::1]:*");
	assert_string_equal(o.permitopen[2], "db:5432");
	assert_string_equal(o.permitopen[3], "*:443");
	assert_int_equal(o.n_permitlisten, 2);
	assert_string_equal(o.permitlisten[0], "*:8080");
	assert_string_equal(o.permitlisten[1], "localhost:*");
	assert_false(o.no_port_forwarding);
	/* As policy/forward.h's lists. */
	l = authkey_permitopen(&o);
	assert_int_equal(l.n, 4);
	assert_ptr_equal(l.v[0], o.permitopen[0]);
	assert_true(fwd_open_permitted(&l, "localhost", 80));
	assert_true(fwd_open_permitted(&l, "db", 5432));
	assert_false(fwd_open_permitted(&l, "localhost", 81));
	l = authkey_permitlisten(&o);
	assert_int_equal(l.n, 2);
	assert_true(fwd_listen_permitted(&l, "", 8080));
	assert_true(fwd_listen_permitted(&l, "localhost", 0));
	assert_false(fwd_listen_permitted(&l, "", 8081));
	authkey_opts_clear(&o);
	assert_int_equal(o.n_permitopen, 0);
	assert_null(o.permitopen[0]);

	/* None given: an empty list, which restricts nothing. */
	assert_int_equal(match(ED25519, &k, &o, why), 1);
	l = authkey_permitopen(&o);
	assert_int_equal(l.n, 0);
	assert_true(fwd_open_permitted(&l, "anything", 1));
	l = authkey_permitlisten(&o);
	assert_true(fwd_listen_permitted(&l, "", 1));
	authkey_opts_clear(&o);

	/* restrict and the lists */
	assert_int_equal(match("restrict,permitopen=\"h:1\" " ED25519, &k, &o,
	    why), 1);
	assert_true(o.no_port_forwarding && o.no_agent_forwarding &&
	    o.no_x11_forwarding);
	assert_int_equal(o.n_permitopen, 1);
	authkey_opts_clear(&o);
	assert_int_equal(match("restrict,port-forwarding,permitlisten=\"2222\" "
	    ED25519, &k, &o, why), 1);
	assert_false(o.no_port_forwarding);
	assert_true(o.no_agent_forwarding && o.no_x11_forwarding && o.no_pty);
	assert_string_equal(o.permitlisten[0], "*:2222");
	authkey_opts_clear(&o);

	/* Values that are not one make the line malformed, as in OpenSSH;
	 * what was gathered before is released (ASan checks). */
	{
		static const char *const bad[] = {
			"permitopen=\"localhost\"",
			"permitopen=\"8080\"",	/* no bare port for open */
			"permitopen=\"h:0\"",
			"permitopen=\"h:65536\"",
			"permitopen=\"h:http\"",
			"permitopen=\"any\"",
			"permitopen=\"none\"",
			"permitopen=\"\"",
			"permitopen=\"::1:22\"",
			"permitopen=\"[::1]22\"",
			"permitopen=\"a b:1\"",
			"permitopen=\"a:1\",permitopen=\"b:x\"",
			"permitlisten=\"0\"",
			"permitlisten=\"h/22\"",	/* '/' is permitopen='s */
			"permitlisten=\"localhost\"",
			"permitlisten=\"any\"",
			"permitlisten=\"\"",
			"permitlisten=\"8080\",permitlisten=\"-1\"",
		};
		char buf[512];
		size_t j;

		for (j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
			snprintf(buf, sizeof(buf), "%s %s", bad[j], ED25519);
			if (match(buf, &k, &o, why) != -EINVAL)
				fail_msg("accepted: %s", bad[j]);
			assert_non_null(strstr(why, "malformed line: "));
		}
		match("permitopen=\"x\" " ED25519, &k, &o, why);
		assert_string_equal(why, "malformed line: bad permitopen= "
		    "(host:port)");
		match("permitlisten=\"x\" " ED25519, &k, &o, why);
		assert_string_equal(why, "malformed line: bad permitlisten= "
		    "([host:]port)");
	}

	/* Exactly the maximum of each, then one more. */
	line = malloc(AUTHKEYS_MAX_LINE);
	assert_non_null(line);
	p = line;
	for (i = 0; i < AUTHKEYS_MAX_PERMITS; i++)
		p += sprintf(p, "permitopen=\"h%d:%d\",permitlisten=\"%d\",",
		    i, i + 1, i + 1);
	sprintf(p - 1, " %s", ED25519);
	assert_int_equal(match(line, &k, &o, why), 1);
	assert_int_equal(o.n_permitopen, AUTHKEYS_MAX_PERMITS);
	assert_int_equal(o.n_permitlisten, AUTHKEYS_MAX_PERMITS);
	assert_string_equal(o.permitopen[AUTHKEYS_MAX_PERMITS - 1], "h63:64");
	assert_string_equal(o.permitlisten[AUTHKEYS_MAX_PERMITS - 1], "*:64");
	authkey_opts_clear(&o);
	sprintf(p - 1, ",permitopen=\"one:1\" %s", ED25519);
	assert_int_equal(match(line, &k, &o, why), -EINVAL);
	assert_string_equal(why, "malformed line: too many permitopen= options");
	sprintf(p - 1, ",permitlisten=\"1\" %s", ED25519);
	assert_int_equal(match(line, &k, &o, why), -EINVAL);
	assert_string_equal(why, "malformed line: too many permitlisten= options");
	free(line);
}

static void
test_overlong(void **state)
{
	struct authkey_opts o;
	char why[256], *line;
	struct key k;
	size_t n;

	(void)state;
	key_init(&k, ED25519, NULL);
	line = malloc(AUTHKEYS_MAX_LINE + 64);
	assert_non_null(line);
	/* a long comment up to the limit is fine */
	n = (size_t)sprintf(line, "%s ", ED25519);
	memset(line + n, 'x', AUTHKEYS_MAX_LINE - n);
	line[AUTHKEYS_MAX_LINE] = '\0';
	assert_int_equal(match(line, &k, &o, why), 1);
	authkey_opts_clear(&o);
	/* one more byte is not */
	line[AUTHKEYS_MAX_LINE] = 'x';
	line[AUTHKEYS_MAX_LINE + 1] = '\0';
	assert_int_equal(match(line, &k, &o, why), -EINVAL);
	/* an overlong option value */
	n = (size_t)sprintf(line, "command=\"");
	memset(line + n, 'y', 9000);
	sprintf(line + n + 9000, "\" %s", ED25519);
	assert_int_equal(match(line, &k, &o, why), -EINVAL);
	free(line);
}

static void
test_cert_authority(void **state)
{
	struct authkey_opts o;
	char why[256];
	struct key k;

	(void)state;
	key_init(&k, ED25519, NULL);
	assert_int_equal(match("cert-authority " ED25519, &k, &o, why), 0);
	assert_non_null(strstr(why, "a CA, not a user's key"));
	assert_int_equal(match("cert-authority,principals=\"bob\" " ED25519,
	    &k, &o, why), 0);
	/* Asked about a CA: only cert-authority lines match, with their
	 * principals. */
	k.q.cert_authority = true;
	assert_int_equal(match(ED25519, &k, &o, why), 0);
	assert_non_null(strstr(why, "not a cert-authority line"));
	assert_int_equal(match("cert-authority,principals=\"bob,carol\",no-pty "
	    ED25519, &k, &o, why), 1);
	assert_string_equal(o.principals, "bob,carol");
	assert_true(o.no_pty);
	authkey_opts_clear(&o);
	assert_int_equal(match("cert-authority,principals=\"\" " ED25519, &k,
	    &o, why), -EINVAL);
}

static int
write_tmp(const char *data, size_t len)
{
	char path[] = "/tmp/test_authkeysXXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void
test_fd(void **state)
{
	struct authkey_opts o;
	char why[256];
	unsigned bad;
	struct key k;
	int fd;
	static const char crlf[] =
	    "# keys\r\n"
	    "\r\n"
	    "junk line\r\n"
	    OTHER " other\r\n"
	    "command=\"id\" " ED25519 " me\r\n";
	static const char nonl[] = OTHER "\n" "no-pty " ED25519;
	static const char nul[] = "no-pty " ED25519 "\0\n" "command=\"x\" "
	    ED25519 "\n";
	static const char refused[] =
	    "from=\"10.0.0.0/8\" " ED25519 "\n"
	    "expiry-time=\"20000101\" " ED25519 "\n"
	    OTHER "\n";
	static const char second[] =
	    "from=\"10.0.0.0/8\" " ED25519 "\n"
	    "from=\"192.0.2.0/24\",command=\"ok\" " ED25519 "\n";

	(void)state;
	key_init(&k, ED25519, "192.0.2.7");

	fd = write_tmp(crlf, sizeof(crlf) - 1);
	memset(&o, 0, sizeof(o));
	assert_int_equal(authkeys_match_fd(fd, &k.q, &o, &bad, why, 256), 1);
	assert_string_equal(o.command, "id");
	assert_int_equal(o.line, 5);
	assert_int_equal(bad, 1);
	authkey_opts_clear(&o);
	close(fd);

	fd = write_tmp(nonl, sizeof(nonl) - 1);
	assert_int_equal(authkeys_match_fd(fd, &k.q, &o, NULL, why, 256), 1);
	assert_true(o.no_pty);
	assert_int_equal(o.line, 2);
	authkey_opts_clear(&o);
	close(fd);

	/* a NUL byte spoils its line only */
	fd = write_tmp(nul, sizeof(nul) - 1);
	assert_int_equal(authkeys_match_fd(fd, &k.q, &o, &bad, why, 256), 1);
	assert_string_equal(o.command, "x");
	assert_int_equal(o.line, 2);
	assert_int_equal(bad, 1);
	authkey_opts_clear(&o);
	close(fd);

	/* the first refusal is what the caller logs */
	fd = write_tmp(refused, sizeof(refused) - 1);
	assert_int_equal(authkeys_match_fd(fd, &k.q, &o, &bad, why, 256), 0);
	assert_string_equal(why, "line 1: from= does not allow 192.0.2.7");
	assert_int_equal(bad, 0);
	close(fd);

	/* a later line for the same key may still allow it */
	fd = write_tmp(second, sizeof(second) - 1);
	assert_int_equal(authkeys_match_fd(fd, &k.q, &o, &bad, why, 256), 1);
	assert_string_equal(o.command, "ok");
	assert_int_equal(o.line, 2);
	authkey_opts_clear(&o);
	close(fd);

	/* nothing there */
	fd = write_tmp(OTHER "\n", strlen(OTHER) + 1);
	assert_int_equal(authkeys_match_fd(fd, &k.q, &o, &bad, why, 256), 0);
	assert_non_null(strstr(why, "no matching key"));
	close(fd);
	fd = write_tmp("", 0);
	assert_int_equal(authkeys_match_fd(fd, &k.q, &o, &bad, why, 256), 0);
	close(fd);
}

static void
test_fd_limits(void **state)
{
	struct authkey_opts o;
	char why[256], *data;
	size_t n, size = 2 * 1024 * 1024;
	unsigned bad;
	struct key k;
	int fd, p[2];
	pid_t pid;

	(void)state;
	key_init(&k, ED25519, NULL);
	data = malloc(size);
	assert_non_null(data);

	/* an overlong line is skipped, the next one still works */
	memset(data, 'x', AUTHKEYS_MAX_LINE + 100);
	n = AUTHKEYS_MAX_LINE + 100;
	data[n++] = '\n';
	n += (size_t)sprintf(data + n, "%s\n", ED25519);
	fd = write_tmp(data, n);
	memset(&o, 0, sizeof(o));
	assert_int_equal(authkeys_match_fd(fd, &k.q, &o, &bad, why, 256), 1);
	assert_int_equal(bad, 1);
	assert_int_equal(o.line, 2);
	authkey_opts_clear(&o);
	close(fd);

	/* too big a regular file */
	memset(data, '#', size);
	fd = write_tmp(data, size);
	assert_int_equal(authkeys_match_fd(fd, &k.q, &o, &bad, why, 256),
	    -EFBIG);
	close(fd);

	/* too big a stream, with comment lines only */
	for (n = 80; n < size; n += 81)
		data[n] = '\n';
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		(void)!write(p[1], data, size);
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(authkeys_match_fd(p[0], &k.q, &o, &bad, why, 256),
	    -EFBIG);
	close(p[0]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	free(data);
}

/* A scratch tree: home (uid, 0755) / .ssh (uid, 0700) / authorized_keys
 * (uid, 0600). */
struct tree {
	char home[64], ssh[96], file[128];
};

static void
tree_make(struct tree *t)
{
	int fd;

	strcpy(t->home, "/tmp/test_authkeys_homeXXXXXX");
	assert_non_null(mkdtemp(t->home));
	snprintf(t->ssh, sizeof(t->ssh), "%s/.ssh", t->home);
	snprintf(t->file, sizeof(t->file), "%s/authorized_keys", t->ssh);
	assert_int_equal(chmod(t->home, 0755), 0);
	assert_int_equal(chown(t->home, TEST_UID, TEST_UID), 0);
	assert_int_equal(mkdir(t->ssh, 0700), 0);
	assert_int_equal(chown(t->ssh, TEST_UID, TEST_UID), 0);
	fd = open(t->file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fchown(fd, TEST_UID, TEST_UID), 0);
	close(fd);
}

static void
tree_remove(struct tree *t)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->home);
	assert_int_equal(system(cmd), 0);
}

static int
check(struct tree *t, char *why)
{
	why[0] = '\0';
	return authkeys_check_modes(t->file, TEST_UID, t->home, why, 256);
}

static void
test_modes(void **state)
{
	char why[256], expect[256], target[160];
	struct tree t;
	int fd;

	(void)state;
	if (geteuid() != 0)
		skip();
	tree_make(&t);
	assert_int_equal(check(&t, why), 0);

	/* group-writable home */
	assert_int_equal(chmod(t.home, 0775), 0);
	assert_int_equal(check(&t, why), -EPERM);
	snprintf(expect, sizeof(expect), "bad ownership or modes for "
	    "directory %s", t.home);
	assert_string_equal(why, expect);
	assert_int_equal(chmod(t.home, 0755), 0);

	/* world-writable ~/.ssh */
	assert_int_equal(chmod(t.ssh, 0777), 0);
	assert_int_equal(check(&t, why), -EPERM);
	snprintf(expect, sizeof(expect), "bad ownership or modes for "
	    "directory %s", t.ssh);
	assert_string_equal(why, expect);
	assert_int_equal(chmod(t.ssh, 0700), 0);

	/* group-writable file */
	assert_int_equal(chmod(t.file, 0620), 0);
	assert_int_equal(check(&t, why), -EPERM);
	assert_non_null(strstr(why, "for file"));
	assert_int_equal(chmod(t.file, 0644), 0);
	assert_int_equal(check(&t, why), 0);

	/* file owned by another uid */
	assert_int_equal(chown(t.file, TEST_UID + 1, TEST_UID), 0);
	assert_int_equal(check(&t, why), -EPERM);
	snprintf(expect, sizeof(expect), "bad ownership or modes for file %s",
	    t.file);
	assert_string_equal(why, expect);
	/* root may own it */
	assert_int_equal(chown(t.file, 0, 0), 0);
	assert_int_equal(check(&t, why), 0);
	assert_int_equal(chown(t.file, TEST_UID, TEST_UID), 0);

	/* ~/.ssh owned by someone else */
	assert_int_equal(chown(t.ssh, TEST_UID + 1, TEST_UID), 0);
	assert_int_equal(check(&t, why), -EPERM);
	assert_int_equal(chown(t.ssh, TEST_UID, TEST_UID), 0);

	/* the directory above home is not our business (here /tmp, 1777) */
	assert_int_equal(check(&t, why), 0);

	/* symlink to a root-owned file in a root-owned directory in home */
	snprintf(target, sizeof(target), "%s/keys", t.home);
	assert_int_equal(mkdir(target, 0755), 0);
	strcat(target, "/bob");
	fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
	unlink(t.file);
	assert_int_equal(symlink(target, t.file), 0);
	assert_int_equal(check(&t, why), 0);
	/* ... which must still not be writable by others */
	assert_int_equal(chmod(target, 0666), 0);
	assert_int_equal(check(&t, why), -EPERM);
	snprintf(expect, sizeof(expect), "bad ownership or modes for file %s",
	    target);
	assert_string_equal(why, expect);
	assert_int_equal(chmod(target, 0644), 0);

	/* symlink out of home into world-writable /tmp: every directory
	 * up to / is checked, and /tmp fails */
	unlink(t.file);
	snprintf(target, sizeof(target), "%s.outside", t.home);
	fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fchown(fd, TEST_UID, TEST_UID), 0);
	close(fd);
	assert_int_equal(symlink(target, t.file), 0);
	assert_int_equal(check(&t, why), -EPERM);
	assert_string_equal(why, "bad ownership or modes for directory /tmp");
	unlink(target);

	/* dangling symlink, directory instead of file */
	assert_true(check(&t, why) < 0);
	unlink(t.file);
	assert_int_equal(mkdir(t.file, 0700), 0);
	assert_int_equal(check(&t, why), -EPERM);
	assert_non_null(strstr(why, "not a regular file"));
	tree_remove(&t);
}

static void
test_expand(void **state)
{
	char buf[256], small[16];

	(void)state;
	assert_int_equal(authkeys_expand_path(".ssh/authorized_keys", "bob",
	    "/home/bob", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/bob/.ssh/authorized_keys");
	assert_int_equal(authkeys_expand_path("%h/.ssh/keys_%u", "bob",
	    "/home/bob", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/bob/.ssh/keys_bob");
	assert_int_equal(authkeys_expand_path("/etc/keys/%u%%", "bob",
	    "/home/bob", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/etc/keys/bob%");
	assert_int_equal(authkeys_expand_path("keys/%u", "bob", "/home/bob",
	    buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/bob/keys/bob");

	strcpy(small, "untouched");
	assert_int_equal(authkeys_expand_path("%x", "bob", "/home/bob", small,
	    sizeof(small)), -EINVAL);
	assert_int_equal(authkeys_expand_path("abc%", "bob", "/home/bob",
	    small, sizeof(small)), -EINVAL);
	assert_int_equal(authkeys_expand_path("", "bob", "/home/bob", small,
	    sizeof(small)), -EINVAL);
	assert_int_equal(authkeys_expand_path("%h/.ssh/authorized_keys", "bob",
	    "/home/bob", small, sizeof(small)), -ENAMETOOLONG);
	assert_string_equal(small, "untouched");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_comments_blank),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_wrong_type_truncated),
		cmocka_unit_test(test_command_quoting),
		cmocka_unit_test(test_from),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_permits),
		cmocka_unit_test(test_overlong),
		cmocka_unit_test(test_cert_authority),
		cmocka_unit_test(test_fd),
		cmocka_unit_test(test_fd_limits),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_expand),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
