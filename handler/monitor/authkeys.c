/* authorized_keys: OpenSSH's line format with options, matched against one
 * public key blob, and the StrictModes ownership checks.
 *
 * Everything read here comes from a user-writable file, so every length
 * and count is bounded and anything we do not understand rejects the line
 * (OpenSSH does the same: an unknown option makes the line invalid). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "handler/monitor/authkeys.h"
#include "policy/match.h"
#include "policy/util/base64.h"
#include "policy/util/sshwire.h"

#define AUTHKEYS_MAX_BLOB	(16 * 1024)
#define AUTHKEYS_MAX_FILE	(1024 * 1024)
#define AUTHKEYS_MAX_OPTVAL	8192
#define AUTHKEYS_MAX_NAME	64

/* Options as parsed from one line, before the key is known to match. */
struct parsed {
	struct authkey_opts o;
	bool cert_authority;
};

static void
set_why(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

void
authkey_opts_clear(struct authkey_opts *o)
{
	size_t i;

	if (o == NULL)
		return;
	free(o->command);
	free(o->from);
	for (i = 0; i < o->n_environment && i < AUTHKEYS_MAX_ENV; i++)
		free(o->environment[i]);
	memset(o, 0, sizeof(*o));
}

/* Key types we can verify.  Lines of other well-known types (ssh-dss,
 * security keys, certificates) are valid lines that simply never match. */
static const char *const supported_types[] = {
	"ssh-ed25519",
	"ecdsa-sha2-nistp256",
	"ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521",
	"ssh-rsa",
};

static const char *const unsupported_types[] = {
	"ssh-dss",
	"sk-ssh-ed25519@openssh.com",
	"sk-ecdsa-sha2-nistp256@openssh.com",
	"ssh-ed25519-cert-v01@openssh.com",
	"ecdsa-sha2-nistp256-cert-v01@openssh.com",
	"ecdsa-sha2-nistp384-cert-v01@openssh.com",
	"ecdsa-sha2-nistp521-cert-v01@openssh.com",
	"ssh-rsa-cert-v01@openssh.com",
	"ssh-dss-cert-v01@openssh.com",
	"sk-ssh-ed25519-cert-v01@openssh.com",
	"sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
};

static bool
in_list(const char *s, size_t len, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(list[i]) == len && memcmp(list[i], s, len) == 0)
			return true;
	return false;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool
str_eq(const uint8_t *s, size_t len, const char *lit)
{
	return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

/* The blob must be a well-formed public key of exactly the type the line
 * names, with nothing after it: a truncated or padded blob is malformed. */
static int
check_blob(const char *type, const uint8_t *blob, size_t len,
    const char **ret_err)
{
	struct wire_reader r = wire_reader(blob, len);
	const uint8_t *s;
	size_t n = 0;

	s = wire_get_string(&r, len, &n);
	if (s == NULL) {
		*ret_err = "key blob truncated";
		return -EINVAL;
	}
	if (!str_eq(s, n, type)) {
		*ret_err = "key type does not match its blob";
		return -EINVAL;
	}
	if (strcmp(type, "ssh-ed25519") == 0) {
		if (wire_get_string(&r, len, &n) == NULL || n != 32)
			goto bad;
	} else if (strncmp(type, "ecdsa-sha2-", 11) == 0) {
		if ((s = wire_get_string(&r, len, &n)) == NULL ||
		    !str_eq(s, n, type + 11))
			goto bad;
		if ((s = wire_get_string(&r, len, &n)) == NULL || n < 1 ||
		    s[0] != 0x04)
			goto bad;
	} else {		/* ssh-rsa: e, n */
		if (wire_get_string(&r, len, &n) == NULL || n == 0)
			goto bad;
		if (wire_get_string(&r, len, &n) == NULL || n == 0)
			goto bad;
	}
	if (!wire_done(&r))
		goto bad;
	return 0;
bad:
	*ret_err = "key blob malformed";
	return -EINVAL;
}

static bool
blob_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	volatile uint8_t d = 0;
	size_t i;

	if (alen != blen)
		return false;
	for (i = 0; i < alen; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

/* "YYYYMMDD[HHMM[SS]]" in local time, as OpenSSH reads expiry-time. */
static int
parse_expiry(const char *s, int64_t *ret)
{
	size_t len = strlen(s), i;
	int f[6] = { 0, 0, 0, 0, 0, 0 };
	struct tm tm;
	time_t t;

	if (len != 8 && len != 12 && len != 14)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
	f[0] = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	for (i = 1; i < len / 2 - 1; i++)
		f[i] = (s[2 + 2 * i] - '0') * 10 + (s[3 + 2 * i] - '0');
	if (f[0] < 1970 || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 ||
	    f[3] > 23 || f[4] > 59 || f[5] > 60)
		return -EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = f[0] - 1900;
	tm.tm_mon = f[1] - 1;
	tm.tm_mday = f[2];
	tm.tm_hour = f[3];
	tm.tm_min = f[4];
	tm.tm_sec = f[5];
	tm.tm_isdst = -1;
	if ((t = mktime(&tm)) == (time_t)-1)
		return -EINVAL;
	*ret = (int64_t)t;
	return 0;
}

static bool
valid_env_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > AUTHKEYS_MAX_NAME)
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* A double-quoted value: \" stands for ", any other backslash is kept
 * (OpenSSH's rule).  *pp points at the opening quote. */
static int
parse_quoted(const char **pp, char **ret)
{
	const char *p = *pp;
	char *v;
	size_t n = 0;

	if (*p++ != '"')
		return -EINVAL;
	if ((v = malloc(AUTHKEYS_MAX_OPTVAL + 1)) == NULL)
		return -ENOMEM;
	for (;;) {
		if (*p == '\0') {
			free(v);
			return -EINVAL;
		}
		if (*p == '"')
			break;
		if (p[0] == '\\' && p[1] == '"')
			p++;
		if (n == AUTHKEYS_MAX_OPTVAL) {
			free(v);
			return -EINVAL;
		}
		v[n++] = *p++;
	}
	v[n] = '\0';
	*pp = p + 1;
	*ret = v;
	return 0;
}

enum opt_kind { OPT_FLAG, OPT_VALUE };

struct optdef {
	const char *name;
	enum opt_kind kind;
};

static const struct optdef optdefs[] = {
	{ "restrict", OPT_FLAG },
	{ "no-pty", OPT_FLAG },
	{ "pty", OPT_FLAG },
	{ "no-port-forwarding", OPT_FLAG },
	{ "port-forwarding", OPT_FLAG },
	{ "no-agent-forwarding", OPT_FLAG },
	{ "agent-forwarding", OPT_FLAG },
	{ "no-x11-forwarding", OPT_FLAG },
	{ "x11-forwarding", OPT_FLAG },
	{ "no-user-rc", OPT_FLAG },
	{ "user-rc", OPT_FLAG },
	{ "cert-authority", OPT_FLAG },
	{ "no-touch-required", OPT_FLAG },
	{ "verify-required", OPT_FLAG },
	{ "command", OPT_VALUE },
	{ "from", OPT_VALUE },
	{ "expiry-time", OPT_VALUE },
	{ "environment", OPT_VALUE },
	{ "permitopen", OPT_VALUE },
	{ "permitlisten", OPT_VALUE },
	{ "principals", OPT_VALUE },
	{ "tunnel", OPT_VALUE },
};

static int
apply_flag(struct parsed *ps, const char *name)
{
	struct authkey_opts *o = &ps->o;

	if (strcmp(name, "restrict") == 0) {
		o->no_pty = o->no_port_forwarding = o->no_agent_forwarding =
		    o->no_x11_forwarding = o->no_user_rc = true;
	} else if (strcmp(name, "no-pty") == 0) {
		o->no_pty = true;
	} else if (strcmp(name, "pty") == 0) {
		o->no_pty = false;
	} else if (strcmp(name, "no-port-forwarding") == 0) {
		o->no_port_forwarding = true;
	} else if (strcmp(name, "port-forwarding") == 0) {
		o->no_port_forwarding = false;
	} else if (strcmp(name, "no-agent-forwarding") == 0) {
		o->no_agent_forwarding = true;
	} else if (strcmp(name, "agent-forwarding") == 0) {
		o->no_agent_forwarding = false;
	} else if (strcmp(name, "no-x11-forwarding") == 0) {
		o->no_x11_forwarding = true;
	} else if (strcmp(name, "x11-forwarding") == 0) {
		o->no_x11_forwarding = false;
	} else if (strcmp(name, "no-user-rc") == 0) {
		o->no_user_rc = true;
	} else if (strcmp(name, "user-rc") == 0) {
		o->no_user_rc = false;
	} else if (strcmp(name, "cert-authority") == 0) {
		ps->cert_authority = true;
	}
	/* no-touch-required / verify-required only concern security keys,
	 * which never match here. */
	return 0;
}

/* Takes ownership of val. */
static int
apply_value(struct parsed *ps, const char *name, char *val, const char **err)
{
	struct authkey_opts *o = &ps->o;
	const char *eq;
	size_t i;
	int64_t t;

	if (strcmp(name, "command") == 0) {
		if (o->command != NULL) {
			*err = "multiple command= options";
			goto bad;
		}
		o->command = val;
		return 0;
	}
	if (strcmp(name, "from") == 0) {
		if (o->from != NULL) {
			*err = "multiple from= options";
			goto bad;
		}
		if (val[0] == '\0') {
			*err = "empty from= list";
			goto bad;
		}
		o->from = val;
		return 0;
	}
	if (strcmp(name, "expiry-time") == 0) {
		if (parse_expiry(val, &t) < 0) {
			*err = "bad expiry-time";
			goto bad;
		}
		/* Several: the earliest wins, as in OpenSSH. */
		if (o->expiry == 0 || t < o->expiry)
			o->expiry = t;
		free(val);
		return 0;
	}
	if (strcmp(name, "environment") == 0) {
		if ((eq = strchr(val, '=')) == NULL ||
		    !valid_env_name(val, (size_t)(eq - val))) {
			*err = "bad environment= (NAME=value)";
			goto bad;
		}
		/* The first setting of a name wins, as in OpenSSH. */
		for (i = 0; i < o->n_environment; i++) {
			const char *e = o->environment[i];

			if (strncmp(e, val, (size_t)(eq - val) + 1) == 0) {
				free(val);
				return 0;
			}
		}
		if (o->n_environment >= AUTHKEYS_MAX_ENV) {
			*err = "too many environment= options";
			goto bad;
		}
		o->environment[o->n_environment++] = val;
		return 0;
	}
	/* permitopen, permitlisten, principals, tunnel: parsed for validity
	 * only; forwarding and tunnels are not offered by sshand, and
	 * principals only make sense with certificates. */
	if (strcmp(name, "tunnel") == 0) {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(val, &end, 10);
		if (val[0] == '\0' || *end != '\0' || errno != 0 ||
		    n > INT_MAX) {
			*err = "bad tunnel= value";
			goto bad;
		}
	} else if (val[0] == '\0') {
		*err = "empty option value";
		goto bad;
	}
	free(val);
	return 0;
bad:
	free(val);
	return -EINVAL;
}

/* Parses the option list at *pp up to the first unquoted blank. */
static int
parse_options(const char **pp, struct parsed *ps, const char **err)
{
	const char *p = *pp;
	char name[32];
	size_t n, i;
	int r;

	for (;;) {
		const struct optdef *d = NULL;
		char *val = NULL;

		for (n = 0; isalnum((unsigned char)p[n]) || p[n] == '-'; n++)
			if (n + 1 >= sizeof(name)) {
				*err = "option name too long";
				return -EINVAL;
			}
		if (n == 0) {
			*err = "empty option";
			return -EINVAL;
		}
		for (i = 0; i < n; i++)
			name[i] = (char)tolower((unsigned char)p[i]);
		name[n] = '\0';
		p += n;
		for (i = 0; i < NELEM(optdefs); i++)
			if (strcmp(optdefs[i].name, name) == 0)
				d = &optdefs[i];
		if (d == NULL) {
			*err = "unknown option";
			return -EINVAL;
		}
		if (d->kind == OPT_VALUE) {
			if (*p != '=') {
				*err = "option needs a value";
				return -EINVAL;
			}
			p++;
			if ((r = parse_quoted(&p, &val)) < 0) {
				*err = "bad quoted option value";
				return r;
			}
			if ((r = apply_value(ps, name, val, err)) < 0)
				return r;
		} else {
			if (*p == '=') {
				*err = "option takes no value";
				return -EINVAL;
			}
			apply_flag(ps, name);
		}
		if (*p == ',') {
			p++;
			continue;
		}
		if (is_space(*p))
			break;
		*err = *p == '\0' ? "options without a key" :
		    "garbage after option";
		return -EINVAL;
	}
	*pp = p;
	return 0;
}

/* 0 when the key may be used, 1 when an option refuses it (why says
 * which), -EINVAL for a from= list we cannot evaluate. */
static int
check_restrictions(const struct parsed *ps, const struct authkey_query *q,
    char *why, size_t whylen)
{
	int r;

	if (ps->cert_authority) {
		set_why(why, whylen, "cert-authority line: certificates are "
		    "not supported");
		return 1;
	}
	if (ps->o.expiry != 0 && ps->o.expiry < q->now) {
		set_why(why, whylen, "key expired");
		return 1;
	}
	if (ps->o.from == NULL)
		return 0;
	if (q->addr == NULL) {
		set_why(why, whylen, "from= restricted key but the client "
		    "address is unknown");
		return 1;
	}
	r = match_addr_list(q->addr, ps->o.from);
	if (r == 1)
		return 0;
	if (r == 0 || r == -1) {
		set_why(why, whylen, "from= does not allow %s%s", q->addr,
		    r == -1 ? " (negated)" : "");
		return 1;
	}
	set_why(why, whylen, "malformed from= list");
	return -EINVAL;
}

/* authkeys_match_line, also telling whether the line held q's key, so a
 * scan can report why a present key was refused. */
static int
match_line(const char *line, const struct authkey_query *q,
    struct authkey_opts *ret, char *why, size_t whylen, bool *ret_same)
{
	struct parsed ps;
	const char *p = line, *err = NULL, *type, *b64;
	size_t typelen, b64len, bloblen, len;
	uint8_t *blob = NULL;
	char typebuf[64];
	int r;

	memset(&ps, 0, sizeof(ps));
	len = strnlen(line, AUTHKEYS_MAX_LINE + 3);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len > AUTHKEYS_MAX_LINE) {
		set_why(why, whylen, "line too long");
		return -EINVAL;
	}
	while (is_space(*p))
		p++;
	if (*p == '\0' || *p == '#' || *p == '\n' || *p == '\r') {
		set_why(why, whylen, "comment or blank line");
		return 0;
	}
	/* A line starts either with a key type or with options. */
	for (typelen = 0; p[typelen] != '\0' && !is_space(p[typelen]) &&
	    p[typelen] != '\r' && p[typelen] != '\n'; typelen++)
		;
	if (!in_list(p, typelen, supported_types, NELEM(supported_types)) &&
	    !in_list(p, typelen, unsupported_types, NELEM(unsupported_types))) {
		if ((r = parse_options(&p, &ps, &err)) < 0)
			goto malformed;
		while (is_space(*p))
			p++;
		for (typelen = 0; p[typelen] != '\0' && !is_space(p[typelen]) &&
		    p[typelen] != '\r' && p[typelen] != '\n'; typelen++)
			;
	}
	type = p;
	if (in_list(type, typelen, unsupported_types,
	    NELEM(unsupported_types))) {
		set_why(why, whylen, "unsupported key type %.*s",
		    (int)typelen, type);
		r = 0;
		goto out;
	}
	if (!in_list(type, typelen, supported_types, NELEM(supported_types))) {
		err = typelen == 0 ? "no key" : "unknown key type";
		r = -EINVAL;
		goto malformed;
	}
	memcpy(typebuf, type, typelen);
	typebuf[typelen] = '\0';
	p += typelen;
	while (is_space(*p))
		p++;
	b64 = p;
	for (b64len = 0; b64[b64len] != '\0' && !is_space(b64[b64len]) &&
	    b64[b64len] != '\r' && b64[b64len] != '\n'; b64len++)
		;
	if (b64len == 0) {
		err = "no key data";
		r = -EINVAL;
		goto malformed;
	}
	if ((blob = malloc(AUTHKEYS_MAX_BLOB)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if (base64_decode(b64, b64len, blob, AUTHKEYS_MAX_BLOB, &bloblen) < 0) {
		err = "bad base64 key data";
		r = -EINVAL;
		goto malformed;
	}
	if ((r = check_blob(typebuf, blob, bloblen, &err)) < 0)
		goto malformed;
	if (q == NULL || !blob_equal(blob, bloblen, q->blob, q->blob_len)) {
		set_why(why, whylen, "different key");
		r = 0;
		goto out;
	}
	*ret_same = true;
	if ((r = check_restrictions(&ps, q, why, whylen)) != 0) {
		if (r > 0)
			r = 0;
		goto out;
	}
	*ret = ps.o;
	memset(&ps, 0, sizeof(ps));
	r = 1;
	goto out;
malformed:
	set_why(why, whylen, "malformed line: %s", err != NULL ? err : "?");
out:
	free(blob);
	authkey_opts_clear(&ps.o);
	return r;
}

int
authkeys_match_line(const char *line, const struct authkey_query *q,
    struct authkey_opts *ret, char *why, size_t whylen)
{
	bool same = false;

	return match_line(line, q, ret, why, whylen, &same);
}

/* Keeps the most useful reason while scanning: a key that matched but was
 * refused explains more than "no matching key". */
static void
note_refusal(char *why, size_t whylen, bool *have, unsigned lineno,
    const char *reason)
{
	if (*have || why == NULL || whylen == 0)
		return;
	set_why(why, whylen, "line %u: %s", lineno, reason);
	*have = true;
}

int
authkeys_match_fd(int fd, const struct authkey_query *q,
    struct authkey_opts *ret, unsigned *ret_bad, char *why, size_t whylen)
{
	struct stat st;
	char *line = NULL, chunk[4096], reason[256];
	size_t len = 0, total = 0;
	unsigned lineno = 0, bad = 0;
	bool overlong = false, has_nul = false, eof = false, have_why = false;
	ssize_t n;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode) && st.st_size > AUTHKEYS_MAX_FILE) {
		set_why(why, whylen, "file larger than %d bytes",
		    AUTHKEYS_MAX_FILE);
		return -EFBIG;
	}
	/* one extra byte for a CR before the newline, one for the NUL */
	if ((line = malloc(AUTHKEYS_MAX_LINE + 2)) == NULL)
		return -ENOMEM;
	while (!eof) {
		size_t i;

		n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (n == 0) {
			eof = true;
			/* a last line without its newline still counts */
			if (len == 0 && !overlong && !has_nul)
				break;
			chunk[0] = '\n';
			n = 1;
		} else {
			total += (size_t)n;
			if (total > AUTHKEYS_MAX_FILE) {
				set_why(why, whylen, "file larger than %d "
				    "bytes", AUTHKEYS_MAX_FILE);
				r = -EFBIG;
				goto out;
			}
		}
		for (i = 0; i < (size_t)n; i++) {
			char c = chunk[i];
			struct authkey_opts o;
			bool same = false;

			if (c != '\n') {
				if (c == '\0')
					has_nul = true;
				if (len >= AUTHKEYS_MAX_LINE + 1)
					overlong = true;
				else
					line[len++] = c;
				continue;
			}
			lineno++;
			if (overlong || has_nul) {
				bad++;
				goto next;
			}
			if (len > 0 && line[len - 1] == '\r')
				len--;
			line[len] = '\0';
			reason[0] = '\0';
			memset(&o, 0, sizeof(o));
			r = match_line(line, q, &o, reason, sizeof(reason),
			    &same);
			if (r == 1) {
				o.line = lineno;
				*ret = o;
				if (ret_bad != NULL)
					*ret_bad = bad;
				goto out;
			}
			if (r < 0 && r != -EINVAL)
				goto out;
			if (r < 0)
				bad++;
			if (same)
				note_refusal(why, whylen, &have_why, lineno,
				    reason);
next:
			len = 0;
			overlong = has_nul = false;
		}
	}
	if (!have_why)
		set_why(why, whylen, "no matching key (%u lines, %u malformed)",
		    lineno, bad);
	if (ret_bad != NULL)
		*ret_bad = bad;
	r = 0;
out:
	free(line);
	return r;
}

static bool
unsafe(const struct stat *st, uid_t uid)
{
	return (st->st_uid != 0 && st->st_uid != uid) ||
	    (st->st_mode & 022) != 0;
}

int
authkeys_check_modes(const char *path, uid_t uid, const char *home,
    char *why, size_t whylen)
{
	char real[PATH_MAX], realhome[PATH_MAX], *slash;
	struct stat st;
	bool have_home;

	if (realpath(path, real) == NULL) {
		int e = errno;

		set_why(why, whylen, "realpath %s: %s", path, strerror(e));
		return -e;
	}
	have_home = home != NULL && realpath(home, realhome) != NULL;
	if (stat(real, &st) < 0) {
		int e = errno;

		set_why(why, whylen, "stat %s: %s", real, strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		set_why(why, whylen, "%s is not a regular file", real);
		return -EPERM;
	}
	if (unsafe(&st, uid)) {
		set_why(why, whylen, "bad ownership or modes for file %s",
		    real);
		return -EPERM;
	}
	/* Walk up: every directory until home (or / when the file lives
	 * elsewhere) could let someone else replace the file. */
	for (;;) {
		if ((slash = strrchr(real, '/')) == NULL)
			break;
		if (slash == real)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(real, &st) < 0) {
			int e = errno;

			set_why(why, whylen, "stat %s: %s", real, strerror(e));
			return -e;
		}
		if (unsafe(&st, uid)) {
			set_why(why, whylen, "bad ownership or modes for "
			    "directory %s", real);
			return -EPERM;
		}
		if (have_home && strcmp(real, realhome) == 0)
			break;
		if (strcmp(real, "/") == 0)
			break;
	}
	return 0;
}

int
authkeys_expand_path(const char *pattern, const char *user, const char *home,
    char *buf, size_t len)
{
	char tmp[PATH_MAX];
	size_t o = 0, n;
	const char *p, *add;

	if (pattern == NULL || user == NULL || home == NULL || buf == NULL)
		return -EINVAL;
	for (p = pattern; *p != '\0'; p++) {
		char one[2] = { *p, '\0' };

		add = one;
		if (*p == '%') {
			p++;
			if (*p == 'h')
				add = home;
			else if (*p == 'u')
				add = user;
			else if (*p == '%')
				add = "%";
			else
				return -EINVAL;
		}
		n = strlen(add);
		if (n >= sizeof(tmp) - o)
			return -ENAMETOOLONG;
		memcpy(tmp + o, add, n);
		o += n;
	}
	tmp[o] = '\0';
	if (o == 0)
		return -EINVAL;
	if (tmp[0] == '/') {
		if (o + 1 > len)
			return -ENAMETOOLONG;
		memcpy(buf, tmp, o + 1);
		return 0;
	}
	n = strlen(home);
	if (n + 1 + o + 1 > len)
		return -ENAMETOOLONG;
	memcpy(buf, home, n);
	buf[n] = '/';
	memcpy(buf + n + 1, tmp, o + 1);
	return 0;
}
