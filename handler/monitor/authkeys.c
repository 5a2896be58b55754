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
#include "handler/monitor/authkeys-options.h"
#include "policy/match.h"
#include "policy/util/base64.h"
#include "policy/util/sshwire.h"

#define AUTHKEYS_MAX_BLOB	(16 * 1024)
#define AUTHKEYS_MAX_FILE	(1024 * 1024)


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
	free(o->principals);
	for (i = 0; i < o->n_environment && i < AUTHKEYS_MAX_ENV; i++)
		free(o->environment[i]);
	for (i = 0; i < o->n_permitopen && i < AUTHKEYS_MAX_PERMITS; i++)
		free(o->permitopen[i]);
	for (i = 0; i < o->n_permitlisten && i < AUTHKEYS_MAX_PERMITS; i++)
		free(o->permitlisten[i]);
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

/* 0 when the key may be used, 1 when an option refuses it (why says
 * which), -EINVAL for a from= list we cannot evaluate. */
static int
check_restrictions(const struct authkey_parsed *ps, const struct authkey_query *q,
    char *why, size_t whylen)
{
	int r;

	if (ps->cert_authority != q->cert_authority) {
		set_why(why, whylen, ps->cert_authority ? "cert-authority line: "
		    "a CA, not a user's key" : "not a cert-authority line");
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
	struct authkey_parsed ps;
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
		if ((r = authkeys_parse_options(&p, &ps, &err)) < 0)
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
