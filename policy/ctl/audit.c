/*
 * sshandctl audit [--connection ID] [--user U] [--since TIME] [--file PATH]
 *                 [--json]
 *
 * Shows sshand's audit records from the journal (audit-journal.c) or
 * from a JSON-lines file written by the fallback sink (audit-file.c): a
 * table, or the records as JSON lines with the fields journalctl's JSON
 * output gives them.  --connection takes a whole id or a prefix of it
 * (the table shows the first 8 digits).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/ctl/audit.h"
#include "policy/ctl/ctl.h"
#include "policy/util/json.h"

#define MAX_USER	1024
#define MAX_SINCE	256
#define MAX_SPAN	(100LL * 366 * 86400)

const char *
audit_get(const struct audit_rec *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->f[i].name, name) == 0)
			return r->f[i].value;
	return NULL;
}

/* ---- --since ---------------------------------------------------------- */

/* Longest first: a name must not be taken for the start of a longer one. */
static const struct {
	const char *name;
	int64_t sec;
} units[] = {
	{ "seconds", 1 }, { "second", 1 }, { "minutes", 60 }, { "minute", 60 },
	{ "hours", 3600 }, { "weeks", 604800 }, { "hour", 3600 },
	{ "days", 86400 }, { "week", 604800 }, { "sec", 1 }, { "min", 60 },
	{ "day", 86400 }, { "hr", 3600 }, { "s", 1 }, { "m", 60 },
	{ "h", 3600 }, { "d", 86400 }, { "w", 604800 },
};

/* A time span as systemd writes them ("90", "2h", "1h 30min", "3days"),
 * in seconds; a number without a unit is seconds. */
static int
parse_span(const char *s, int64_t *ret_sec)
{
	int64_t total = 0;
	bool any = false;

	for (;;) {
		long long n;
		size_t i, len = 0;
		int64_t unit = 1;
		char *end;

		s += strspn(s, " ");
		if (*s == '\0')
			break;
		if (*s < '0' || *s > '9')
			return -EINVAL;
		errno = 0;
		n = strtoll(s, &end, 10);
		if (errno != 0 || n > MAX_SPAN)
			return -EINVAL;
		s = end + strspn(end, " ");
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			len = strlen(units[i].name);
			if (strncmp(s, units[i].name, len) == 0 &&
			    (s[len] < 'a' || s[len] > 'z')) {
				unit = units[i].sec;
				break;
			}
		}
		if (i == sizeof(units) / sizeof(units[0])) {
			if (*s != '\0' && (*s < '0' || *s > '9'))
				return -EINVAL;
			len = 0;
		}
		s += len;
		total += n * unit;
		if (total > MAX_SPAN)
			return -EINVAL;
		any = true;
	}
	if (!any)
		return -EINVAL;
	*ret_sec = total;
	return 0;
}

/* "HH:MM[:SS]" at s, to the end of the string. */
static int
parse_clock(const char *s, int *h, int *mi, int *sec)
{
	int n = 0;

	*sec = 0;
	if (sscanf(s, "%2d:%2d%n", h, mi, &n) != 2)
		return -EINVAL;
	if (s[n] == ':') {
		int n2 = 0;

		if (sscanf(s + n, ":%2d%n", sec, &n2) != 1)
			return -EINVAL;
		n += n2;
	}
	if (s[n] != '\0' || *h < 0 || *h > 23 || *mi < 0 || *mi > 59 ||
	    *sec < 0 || *sec > 60)
		return -EINVAL;
	return 0;
}

/* The forms of journalctl --since sshand's administrators use: "now",
 * "today", "yesterday", "tomorrow", "@EPOCH", "-SPAN", "+SPAN",
 * "SPAN ago", "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]" (or with a T),
 * "HH:MM[:SS]" (today); local time. */
static int
parse_since(const char *s, int64_t *ret_usec)
{
	char span[MAX_SINCE + 1];
	time_t now = time(NULL), t;
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
	int64_t secs;
	size_t len = strlen(s);
	struct tm tm;

	if (len > MAX_SINCE)
		return -EINVAL;
	localtime_r(&now, &tm);
	if (strcmp(s, "now") == 0) {
		*ret_usec = (int64_t)now * 1000000;
		return 0;
	}
	if (s[0] == '@') {
		if (len < 2 || len > 13 || strspn(s + 1, "0123456789") != len - 1)
			return -EINVAL;
		*ret_usec = strtoll(s + 1, NULL, 10) * 1000000;
		return 0;
	}
	if (s[0] == '-' || s[0] == '+' || (len > 4 &&
	    strcmp(s + len - 4, " ago") == 0)) {
		bool ago = s[0] != '+';

		if (s[0] == '-' || s[0] == '+')
			snprintf(span, sizeof(span), "%s", s + 1);
		else
			snprintf(span, sizeof(span), "%.*s", (int)(len - 4), s);
		if (parse_span(span, &secs) < 0)
			return -EINVAL;
		*ret_usec = ((int64_t)now + (ago ? -secs : secs)) * 1000000;
		return 0;
	}
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	if (strcmp(s, "today") == 0)
		;
	else if (strcmp(s, "yesterday") == 0)
		tm.tm_mday--;
	else if (strcmp(s, "tomorrow") == 0)
		tm.tm_mday++;
	else if (strchr(s, '-') == NULL) {
		if (parse_clock(s, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) < 0)
			return -EINVAL;
	} else {
		if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 ||
		    mo < 1 || mo > 12 || d < 1 || d > 31)
			return -EINVAL;
		if (s[n] != '\0' && ((s[n] != ' ' && s[n] != 'T') ||
		    parse_clock(s + n + 1, &h, &mi, &sec) < 0))
			return -EINVAL;
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		tm.tm_hour = h;
		tm.tm_min = mi;
		tm.tm_sec = sec;
	}
	tm.tm_isdst = -1;
	if ((t = mktime(&tm)) == (time_t)-1)
		return -EINVAL;
	*ret_usec = (int64_t)t * 1000000;
	return 0;
}

/* ---- the printer ------------------------------------------------------ */

static bool
matches(const struct audit_rec *r, const struct audit_filter *flt)
{
	const char *v;

	v = audit_get(r, "SYSLOG_IDENTIFIER");
	if (v == NULL || strcmp(v, "sshand") != 0)
		return false;
	/* Program log lines share the identifier; only records have events. */
	if (audit_get(r, "SSHAND_EVENT") == NULL)
		return false;
	if (flt->connection != NULL) {
		v = audit_get(r, "SSHAND_CONNECTION");
		if (v == NULL || strncmp(v, flt->connection,
		    strlen(flt->connection)) != 0)
			return false;
	}
	if (flt->user != NULL) {
		v = audit_get(r, "SSHAND_USER");
		if (v == NULL || strcmp(v, flt->user) != 0)
			return false;
	}
	if (flt->since_usec >= 0) {
		v = audit_get(r, "__REALTIME_TIMESTAMP");
		if (v == NULL || strtoll(v, NULL, 10) < flt->since_usec)
			return false;
	}
	return true;
}

/* Copies v into out for a terminal: bounded, control bytes never printed. */
static const char *
cell(char *out, size_t outlen, const char *v, size_t width)
{
	size_t i, o = 0;

	if (v == NULL)
		v = "-";
	for (i = 0; v[i] != '\0' && o + 1 < outlen; i++) {
		if (width > 3 && o == width - 3 && strlen(v + i) > 3) {
			snprintf(out + o, outlen - o, "...");
			return out;
		}
		out[o++] = (v[i] >= 0x20 && v[i] < 0x7f) ? v[i] : '?';
	}
	out[o] = '\0';
	return out;
}

static void
print_header(void)
{
	printf("%-19s %-8s %-17s %-16s %-24s %-32s %-40s %s\n", "TIME", "CONN",
	    "EVENT", "USER", "REMOTE", "AUTH/REASON", "COMMAND", "EXIT");
}

static void
print_row(const struct audit_rec *r)
{
	char when[32] = "-", conn[9], ev[24], user[24], remote[96], auth[160],
	    cmd[64], ex[24], tmp[600], tmp2[64];
	const char *v, *method, *result, *reason, *addr, *port, *type;
	struct tm tm;
	time_t t;

	v = audit_get(r, "__REALTIME_TIMESTAMP");
	if (v != NULL) {
		t = (time_t)(strtoll(v, NULL, 10) / 1000000);
		if (localtime_r(&t, &tm) != NULL)
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	}
	cell(conn, sizeof(conn), audit_get(r, "SSHAND_CONNECTION"), 0);
	cell(ev, sizeof(ev), audit_get(r, "SSHAND_EVENT"), 0);
	cell(user, sizeof(user), audit_get(r, "SSHAND_USER"), 16);

	addr = audit_get(r, "SSHAND_REMOTE_ADDR");
	port = audit_get(r, "SSHAND_REMOTE_PORT");
	if (addr == NULL)
		snprintf(tmp, sizeof(tmp), "-");
	else
		snprintf(tmp, sizeof(tmp), strchr(addr, ':') ? "[%.64s]:%.8s" :
		    "%.64s:%.8s", addr, port ? port : "?");
	cell(remote, sizeof(remote), tmp, 24);

	method = audit_get(r, "SSHAND_AUTH_METHOD");
	result = audit_get(r, "SSHAND_AUTH_RESULT");
	reason = audit_get(r, "SSHAND_REASON");
	if (method != NULL || result != NULL)
		snprintf(tmp, sizeof(tmp), "%.64s/%.32s%s%.64s", method ? method :
		    "?", result ? result : "?", reason ? ":" : "",
		    reason ? reason : "");
	else
		snprintf(tmp, sizeof(tmp), "%.64s", reason ? reason : "-");
	cell(auth, sizeof(auth), tmp, 32);

	type = audit_get(r, "SSHAND_SESSION_TYPE");
	v = audit_get(r, "SSHAND_COMMAND");
	if (type != NULL && v != NULL)
		snprintf(tmp, sizeof(tmp), "%.32s: %.500s", type, v);
	else
		snprintf(tmp, sizeof(tmp), "%.500s", type ? type : v ? v : "-");
	cell(cmd, sizeof(cmd), tmp, 40);

	if ((v = audit_get(r, "SSHAND_EXIT_SIGNAL")) != NULL)
		snprintf(tmp2, sizeof(tmp2), "sig %.16s", v);
	else
		snprintf(tmp2, sizeof(tmp2), "%.16s", (v = audit_get(r,
		    "SSHAND_EXIT_STATUS")) ? v : "-");
	cell(ex, sizeof(ex), tmp2, 0);

	printf("%-19s %-8s %-17s %-16s %-24s %-32s %-40s %s\n", when, conn, ev,
	    user, remote, auth, cmd, ex);
}

/* Text as a string, anything else as an array of byte values. */
static void
print_value(const struct audit_field *f)
{
	size_t i;

	if (json_is_text(f->value, f->len)) {
		json_print_string(stdout, f->value);
		return;
	}
	putchar('[');
	for (i = 0; i < f->len; i++)
		printf("%s%u", i > 0 ? "," : "", (unsigned char)f->value[i]);
	putchar(']');
}

/* One object, as journalctl -o json prints it: a field that occurs more
 * than once has the array of its values. */
static void
print_json(const struct audit_rec *r)
{
	size_t i, j, count;

	for (i = 0; i < r->n; i++) {
		const char *name = r->f[i].name;

		for (j = 0; j < i; j++)
			if (strcmp(r->f[j].name, name) == 0)
				break;
		if (j < i)
			continue;	/* printed with its first */
		for (count = 0, j = i; j < r->n; j++)
			count += strcmp(r->f[j].name, name) == 0;
		putchar(i == 0 ? '{' : ',');
		json_print_string(stdout, name);
		putchar(':');
		if (count == 1) {
			print_value(&r->f[i]);
			continue;
		}
		putchar('[');
		for (count = 0, j = i; j < r->n; j++) {
			if (strcmp(r->f[j].name, name) != 0)
				continue;
			if (count++ > 0)
				putchar(',');
			print_value(&r->f[j]);
		}
		putchar(']');
	}
	puts(r->n == 0 ? "{}" : "}");
}

void
audit_show(struct audit_out *out, const struct audit_filter *flt,
    const struct audit_rec *r, const char *raw)
{
	if (!matches(r, flt))
		return;
	if (out->json) {
		if (raw != NULL)
			puts(raw);
		else
			print_json(r);
		return;
	}
	if (!out->header) {
		print_header();
		out->header = true;
	}
	print_row(r);
}

/* ---- the command line ------------------------------------------------- */

static void
usage(FILE *f)
{
	fprintf(f, "usage: sshandctl audit [--connection ID] [--user USER] "
	    "[--since TIME] [--file PATH.jsonl] [--json]\n");
}

/* --opt VALUE or --opt=VALUE; returns the value or NULL if not this opt. */
static const char *
optval(const char *opt, int argc, char **argv, int *i, bool *missing)
{
	size_t n = strlen(opt);

	if (strncmp(argv[*i], opt, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

int
ctl_audit(const struct ctl_opts *o, int argc, char **argv)
{
	struct audit_filter flt = { .since_usec = -1 };
	struct audit_out out = { .json = o != NULL && o->json };
	const char *file = NULL, *since = NULL, *v;
	bool missing = false;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if ((v = optval("--connection", argc, argv, &i, &missing)))
			flt.connection = v;
		else if ((v = optval("--user", argc, argv, &i, &missing)))
			flt.user = v;
		else if ((v = optval("--since", argc, argv, &i, &missing)))
			since = v;
		else if ((v = optval("--file", argc, argv, &i, &missing)))
			file = v;
		else if (!missing && strcmp(argv[i], "--json") == 0)
			out.json = true;
		else if (!missing && (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (flt.connection != NULL && (strlen(flt.connection) == 0 ||
	    strlen(flt.connection) > 32 ||
	    strspn(flt.connection, "0123456789abcdef") != strlen(flt.connection))) {
		fprintf(stderr, "sshandctl audit: --connection wants hex digits "
		    "(the id or a prefix of it)\n");
		return 2;
	}
	if (flt.user != NULL && strlen(flt.user) > MAX_USER) {
		fprintf(stderr, "sshandctl audit: --user too long\n");
		return 2;
	}
	if (since != NULL && parse_since(since, &flt.since_usec) < 0) {
		fprintf(stderr, "sshandctl audit: cannot read --since %.*s (try "
		    "-2h, \"1 day ago\", today, \"2026-01-31 18:00\" or "
		    "@EPOCH)\n", MAX_SINCE, since);
		return 2;
	}
	rc = file != NULL ? audit_from_file(&out, &flt, file) :
	    audit_from_journal(&out, &flt);
	if (fflush(stdout) != 0 && rc == 0)
		rc = 1;
	return rc;
}
