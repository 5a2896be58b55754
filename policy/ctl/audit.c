/*
 * sshandctl audit [--connection ID] [--user U] [--since TIME] [--file PATH]
 *                 [--json]
 *
 * Reads audit records from the journal (through `journalctl -o json`, run
 * without a shell) or from a JSON-lines file written by the fallback sink,
 * and prints a table or the matching records as JSON lines.  --connection
 * takes a whole id or a prefix of the short form the table shows.
 *
 * The JSON reader is deliberately minimal: one flat object per line, string
 * and number values (arrays, which journalctl uses for repeated or binary
 * fields, are skipped), every length and count bounded.  A line it cannot
 * read is counted and skipped, never half-used.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "policy/ctl/ctl.h"

extern char **environ;

#define LINE_MAX_BYTES	(1024 * 1024)
#define MAX_FIELDS	256
#define MAX_DEPTH	4

struct jfield {
	const char *name;
	const char *value;	/* NULL for skipped (array, null, object) values */
};

struct jrec {
	size_t n;
	struct jfield f[MAX_FIELDS];
};

struct filter {
	const char *connection;
	const char *user;
	const char *since;
	int64_t since_usec;	/* -1: no client-side time filter */
	bool json;
};

static const char *
jget(const struct jrec *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->f[i].value != NULL && strcmp(r->f[i].name, name) == 0)
			return r->f[i].value;
	return NULL;
}

static void
skip_ws(char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\r' || **p == '\n')
		(*p)++;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the string at *p (at its opening quote) in place; decoding only
 * shrinks, so the output never overtakes the input. */
static int
parse_string(char **p, char **ret)
{
	char *in = *p + 1, *out = in, *start = in;

	if (**p != '"')
		return -EINVAL;
	for (;;) {
		unsigned char c = (unsigned char)*in;

		if (c == '\0' || c < 0x20)
			return -EINVAL;
		if (c == '"')
			break;
		if (c != '\\') {
			*out++ = *in++;
			continue;
		}
		in++;
		switch (*in) {
		case '"': case '\\': case '/':
			*out++ = *in++;
			break;
		case 'b': *out++ = '\b'; in++; break;
		case 'f': *out++ = '\f'; in++; break;
		case 'n': *out++ = '\n'; in++; break;
		case 'r': *out++ = '\r'; in++; break;
		case 't': *out++ = '\t'; in++; break;
		case 'u': {
			unsigned v = 0;
			int i, h;

			for (i = 1; i <= 4; i++) {
				if ((h = hexval(in[i])) < 0)
					return -EINVAL;
				v = v << 4 | (unsigned)h;
			}
			in += 5;
			/* Only shown, never trusted: non-ASCII becomes '?'. */
			*out++ = v >= 0x20 && v < 0x7f ? (char)v : '?';
			break;
		}
		default:
			return -EINVAL;
		}
	}
	*out = '\0';
	*p = in + 1;
	*ret = start;
	return 0;
}

/* Numbers (copied into num, at most numlen - 1 chars), literals and
 * bounded-depth arrays (skipped: *ret_value = NULL). */
static int
parse_other(char **p, char **ret_value, char *num, size_t numlen)
{
	char *s = *p;

	*ret_value = NULL;
	if (*s == '[') {
		int depth = 0;

		do {
			char *ignored;

			if (*s == '"') {
				if (parse_string(&s, &ignored) < 0)
					return -EINVAL;
				continue;
			}
			if (*s == '[' && ++depth > MAX_DEPTH)
				return -EINVAL;
			if (*s == ']')
				depth--;
			if (*s == '\0' || *s == '{')
				return -EINVAL;
			s++;
		} while (depth > 0);
		*p = s;
		return 0;
	}
	if (strncmp(s, "null", 4) == 0 || strncmp(s, "true", 4) == 0) {
		*p = s + 4;
		return 0;
	}
	if (strncmp(s, "false", 5) == 0) {
		*p = s + 5;
		return 0;
	}
	if (*s == '-' || (*s >= '0' && *s <= '9')) {
		size_t n = 0;

		while (*s == '-' || *s == '+' || *s == '.' || *s == 'e' ||
		    *s == 'E' || (*s >= '0' && *s <= '9')) {
			if (n + 1 >= numlen)
				return -EINVAL;
			num[n++] = *s++;
		}
		num[n] = '\0';
		*p = s;
		*ret_value = num;
		return 0;
	}
	return -EINVAL;
}

static int
parse_object(char *line, struct jrec *r)
{
	static char nums[MAX_FIELDS][32];
	char *p = line;

	r->n = 0;
	skip_ws(&p);
	if (*p++ != '{')
		return -EINVAL;
	skip_ws(&p);
	if (*p == '}')
		return 0;
	for (;;) {
		char *name, *value;

		if (r->n >= MAX_FIELDS)
			return -E2BIG;
		skip_ws(&p);
		if (parse_string(&p, &name) < 0)
			return -EINVAL;
		skip_ws(&p);
		if (*p++ != ':')
			return -EINVAL;
		skip_ws(&p);
		if (*p == '"') {
			if (parse_string(&p, &value) < 0)
				return -EINVAL;
		} else if (parse_other(&p, &value, nums[r->n],
		    sizeof(nums[0])) < 0)
			return -EINVAL;
		r->f[r->n].name = name;
		r->f[r->n].value = value;
		r->n++;
		skip_ws(&p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p++ != '}')
			return -EINVAL;
		skip_ws(&p);
		return *p == '\0' ? 0 : -EINVAL;
	}
}

/* Relative ("-2h", "-30min"), "@epoch", "now", "today", "yesterday",
 * "YYYY-MM-DD[ HH:MM[:SS]]" in local time, as journalctl reads them. */
static int
parse_since(const char *s, int64_t *ret_usec)
{
	time_t now = time(NULL), t;
	struct tm tm;
	char *end;
	long long n;
	int y, mo, d, h = 0, mi = 0, sec = 0, consumed = 0;

	if (strcmp(s, "now") == 0) {
		*ret_usec = (int64_t)now * 1000000;
		return 0;
	}
	if (strcmp(s, "today") == 0 || strcmp(s, "yesterday") == 0) {
		localtime_r(&now, &tm);
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		if (s[0] == 'y')
			tm.tm_mday--;
		tm.tm_isdst = -1;
		*ret_usec = (int64_t)mktime(&tm) * 1000000;
		return 0;
	}
	if (s[0] == '@' || s[0] == '-') {
		errno = 0;
		n = strtoll(s + 1, &end, 10);
		if (errno != 0 || end == s + 1 || n < 0 || n > INT32_MAX)
			return -EINVAL;
		if (s[0] == '@') {
			if (*end != '\0')
				return -EINVAL;
			*ret_usec = n * 1000000;
			return 0;
		}
		if (strcmp(end, "s") == 0 || strcmp(end, "sec") == 0)
			;
		else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
			n *= 60;
		else if (strcmp(end, "h") == 0)
			n *= 3600;
		else if (strcmp(end, "d") == 0)
			n *= 86400;
		else
			return -EINVAL;
		*ret_usec = ((int64_t)now - n) * 1000000;
		return 0;
	}
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &consumed) != 3)
		return -EINVAL;
	if (s[consumed] != '\0') {
		int c2 = 0;

		if (sscanf(s + consumed, " %2d:%2d%n", &h, &mi, &c2) != 2)
			return -EINVAL;
		consumed += c2;
		if (s[consumed] == ':') {
			c2 = 0;
			if (sscanf(s + consumed, ":%2d%n", &sec, &c2) != 1)
				return -EINVAL;
			consumed += c2;
		}
		if (s[consumed] != '\0')
			return -EINVAL;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	if ((t = mktime(&tm)) == (time_t)-1)
		return -EINVAL;
	*ret_usec = (int64_t)t * 1000000;
	return 0;
}

static bool
matches(const struct jrec *r, const struct filter *flt)
{
	const char *v;

	v = jget(r, "SYSLOG_IDENTIFIER");
	if (v == NULL || strcmp(v, "sshand") != 0)
		return false;
	/* Program log lines share the identifier; only records have events. */
	if (jget(r, "SSHAND_EVENT") == NULL)
		return false;
	if (flt->connection != NULL) {
		v = jget(r, "SSHAND_CONNECTION");
		if (v == NULL || strncmp(v, flt->connection,
		    strlen(flt->connection)) != 0)
			return false;
	}
	if (flt->user != NULL) {
		v = jget(r, "SSHAND_USER");
		if (v == NULL || strcmp(v, flt->user) != 0)
			return false;
	}
	if (flt->since_usec >= 0) {
		v = jget(r, "__REALTIME_TIMESTAMP");
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
print_row(const struct jrec *r)
{
	char when[32] = "-", conn[9], ev[24], user[24], remote[96], auth[160],
	    cmd[64], ex[24], tmp[600], tmp2[64];
	const char *v, *method, *result, *reason, *addr, *port, *type;
	struct tm tm;
	time_t t;

	v = jget(r, "__REALTIME_TIMESTAMP");
	if (v != NULL) {
		t = (time_t)(strtoll(v, NULL, 10) / 1000000);
		if (localtime_r(&t, &tm) != NULL)
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	}
	cell(conn, sizeof(conn), jget(r, "SSHAND_CONNECTION"), 0);
	cell(ev, sizeof(ev), jget(r, "SSHAND_EVENT"), 0);
	cell(user, sizeof(user), jget(r, "SSHAND_USER"), 16);

	addr = jget(r, "SSHAND_REMOTE_ADDR");
	port = jget(r, "SSHAND_REMOTE_PORT");
	if (addr == NULL)
		snprintf(tmp, sizeof(tmp), "-");
	else
		snprintf(tmp, sizeof(tmp), strchr(addr, ':') ? "[%.64s]:%.8s" :
		    "%.64s:%.8s", addr, port ? port : "?");
	cell(remote, sizeof(remote), tmp, 24);

	method = jget(r, "SSHAND_AUTH_METHOD");
	result = jget(r, "SSHAND_AUTH_RESULT");
	reason = jget(r, "SSHAND_REASON");
	if (method != NULL || result != NULL)
		snprintf(tmp, sizeof(tmp), "%.64s/%.32s%s%.64s", method ? method :
		    "?", result ? result : "?", reason ? ":" : "",
		    reason ? reason : "");
	else
		snprintf(tmp, sizeof(tmp), "%.64s", reason ? reason : "-");
	cell(auth, sizeof(auth), tmp, 32);

	type = jget(r, "SSHAND_SESSION_TYPE");
	v = jget(r, "SSHAND_COMMAND");
	if (type != NULL && v != NULL)
		snprintf(tmp, sizeof(tmp), "%.32s: %.500s", type, v);
	else
		snprintf(tmp, sizeof(tmp), "%.500s", type ? type : v ? v : "-");
	cell(cmd, sizeof(cmd), tmp, 40);

	if ((v = jget(r, "SSHAND_EXIT_SIGNAL")) != NULL)
		snprintf(tmp2, sizeof(tmp2), "sig %.16s", v);
	else
		snprintf(tmp2, sizeof(tmp2), "%.16s", (v = jget(r,
		    "SSHAND_EXIT_STATUS")) ? v : "-");
	cell(ex, sizeof(ex), tmp2, 0);

	printf("%-19s %-8s %-17s %-16s %-24s %-32s %-40s %s\n", when, conn, ev,
	    user, remote, auth, cmd, ex);
}

/* Reads records from f; returns the number of unreadable lines skipped. */
static unsigned
process(FILE *f, const struct filter *flt)
{
	static char line[LINE_MAX_BYTES], raw[LINE_MAX_BYTES];
	static struct jrec rec;
	unsigned bad = 0;
	bool header = false;

	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strlen(line);

		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			int c;

			/* Overlong: drop the rest of it, count it. */
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			bad++;
			continue;
		}
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;
		memcpy(raw, line, len + 1);
		if (parse_object(line, &rec) < 0) {
			bad++;
			continue;
		}
		if (!matches(&rec, flt))
			continue;
		if (flt->json) {
			printf("%s\n", raw);
			continue;
		}
		if (!header) {
			print_header();
			header = true;
		}
		print_row(&rec);
	}
	return bad;
}

static int
from_journal(const struct filter *flt)
{
	char *argv[16], conn_arg[64], user_arg[1100], since_arg[300];
	posix_spawn_file_actions_t fa;
	int p[2], status, argc = 0, err;
	unsigned bad;
	pid_t pid;
	FILE *f;

	argv[argc++] = (char *)"journalctl";
	argv[argc++] = (char *)"-o";
	argv[argc++] = (char *)"json";
	argv[argc++] = (char *)"--all";		/* no "null" for big fields */
	argv[argc++] = (char *)"--no-pager";
	argv[argc++] = (char *)"-q";
	argv[argc++] = (char *)"SYSLOG_IDENTIFIER=sshand";
	if (flt->connection != NULL && strlen(flt->connection) == 32) {
		snprintf(conn_arg, sizeof(conn_arg), "SSHAND_CONNECTION=%s",
		    flt->connection);
		argv[argc++] = conn_arg;
	}
	if (flt->user != NULL) {
		if (strlen(flt->user) > 1024) {
			fprintf(stderr, "sshandctl audit: --user too long\n");
			return 2;
		}
		snprintf(user_arg, sizeof(user_arg), "SSHAND_USER=%s", flt->user);
		argv[argc++] = user_arg;
	}
	if (flt->since != NULL) {
		if (strlen(flt->since) > 256) {
			fprintf(stderr, "sshandctl audit: --since too long\n");
			return 2;
		}
		snprintf(since_arg, sizeof(since_arg), "--since=%s", flt->since);
		argv[argc++] = since_arg;
	}
	argv[argc] = NULL;

	if (pipe(p) < 0 || fcntl(p[0], F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(p[1], F_SETFD, FD_CLOEXEC) < 0) {
		fprintf(stderr, "sshandctl audit: pipe: %s\n", strerror(errno));
		return 1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
	err = posix_spawnp(&pid, "journalctl", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (err != 0) {
		close(p[0]);
		fprintf(stderr, "sshandctl audit: journalctl: %s\n", strerror(err));
		return 1;
	}
	f = fdopen(p[0], "r");
	if (f == NULL) {
		close(p[0]);
		waitpid(pid, NULL, 0);
		return 1;
	}
	bad = process(f, flt);
	fclose(f);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (bad > 0)
		fprintf(stderr, "sshandctl audit: skipped %u unreadable record(s)\n",
		    bad);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "sshandctl audit: journalctl failed\n");
		return 1;
	}
	return 0;
}

static int
from_file(const char *path, const struct filter *flt)
{
	FILE *f = fopen(path, "re");
	unsigned bad;

	if (f == NULL) {
		fprintf(stderr, "sshandctl audit: %s: %s\n", path, strerror(errno));
		return 1;
	}
	bad = process(f, flt);
	fclose(f);
	if (bad > 0)
		fprintf(stderr, "sshandctl audit: %s: skipped %u unreadable "
		    "line(s)\n", path, bad);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: sshandctl audit [--connection ID] [--user USER] "
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
	struct filter flt = { .since_usec = -1, .json = o != NULL && o->json };
	const char *file = NULL, *v;
	bool missing = false;
	int i;

	for (i = 1; i < argc; i++) {
		if ((v = optval("--connection", argc, argv, &i, &missing)))
			flt.connection = v;
		else if ((v = optval("--user", argc, argv, &i, &missing)))
			flt.user = v;
		else if ((v = optval("--since", argc, argv, &i, &missing)))
			flt.since = v;
		else if ((v = optval("--file", argc, argv, &i, &missing)))
			file = v;
		else if (!missing && strcmp(argv[i], "--json") == 0)
			flt.json = true;
		else if (!missing && (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)) {
			usage();
			return 0;
		} else {
			usage();
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
	if (file != NULL) {
		if (flt.since != NULL && parse_since(flt.since, &flt.since_usec) < 0) {
			fprintf(stderr, "sshandctl audit: cannot read --since %s\n",
			    flt.since);
			return 2;
		}
		return from_file(file, &flt);
	}
	return from_journal(&flt);
}
