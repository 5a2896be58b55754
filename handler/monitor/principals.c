/* AuthorizedPrincipalsFile and AuthorizedPrincipalsCommand: see
 * principals.h.  The text comes from a user-writable file or a command's
 * output: bounded, and a line that does not parse is skipped. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "handler/front/log.h"
#include "handler/monitor/authkeys-options.h"
#include "handler/monitor/keyscmd.h"
#include "handler/monitor/principals.h"
#include "policy/keyscmd.h"
#include "policy/match.h"
#include "policy/util/base64.h"

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* One line (NUL-terminated, no newline): 1 a principal of c whose
 * options allow the login, 0 another or a comment, -EINVAL malformed. */
static int
match_line(const char *line, const struct cert *c, const char *addr,
    int64_t now, struct authkey_opts *ret, char *why, size_t whylen)
{
	struct authkey_parsed ps;
	const char *p = line, *err = NULL;
	int r;

	memset(&ps, 0, sizeof(ps));
	while (is_blank(*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	/* With a blank in it, the line starts with options (sshd's rule). */
	if (strpbrk(p, " \t") != NULL) {
		if ((r = authkeys_parse_options(&p, &ps, &err)) < 0)
			goto bad;
		while (is_blank(*p))
			p++;
		if (*p == '\0' || strpbrk(p, " \t") != NULL || ps.cert_authority) {
			r = -EINVAL;
			goto bad;
		}
	}
	if (!cert_has_principal(c, p)) {
		authkey_opts_clear(&ps.o);
		return 0;
	}
	if (ps.o.expiry != 0 && ps.o.expiry < now) {
		snprintf(why, whylen, "principal %s: expired", p);
		authkey_opts_clear(&ps.o);
		return 0;
	}
	if (ps.o.from != NULL && (addr == NULL || match_addr_list(addr, ps.o.from) != 1)) {
		snprintf(why, whylen, "principal %s: from= does not allow %s", p,
		    addr != NULL ? addr : "an unknown address");
		authkey_opts_clear(&ps.o);
		return 0;
	}
	*ret = ps.o;
	return 1;
bad:
	authkey_opts_clear(&ps.o);
	return r == -ENOMEM ? r : -EINVAL;
}

int
principals_match_text(const char *text, size_t len, const struct cert *c,
    const char *addr, int64_t now, struct authkey_opts *ret, unsigned *ret_bad,
    char *why, size_t whylen)
{
	char *line;
	unsigned lineno = 0;
	int r = 0;

	*ret_bad = 0;
	snprintf(why, whylen, "no principal of the certificate is listed");
	if (len > PRINCIPALS_MAX_TEXT)
		return -EFBIG;
	if ((line = malloc(AUTHKEYS_MAX_LINE + 1)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < len && r != 1;) {
		size_t n = 0;
		bool nul = false;

		lineno++;
		for (; i < len && text[i] != '\n'; i++) {
			nul |= text[i] == '\0';
			if (n <= AUTHKEYS_MAX_LINE)
				line[n++] = text[i];
		}
		i++;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (nul || n > AUTHKEYS_MAX_LINE) {
			(*ret_bad)++;
			continue;
		}
		line[n] = '\0';
		memset(ret, 0, sizeof(*ret));
		r = match_line(line, c, addr, now, ret, why, whylen);
		if (r == -ENOMEM)
			break;
		if (r < 0) {
			(*ret_bad)++;
			r = 0;
		}
	}
	if (r == 1)
		ret->line = lineno;
	free(line);
	return r;
}

/* The whole of fd, up to the bound. */
static int
read_all(int fd, char **ret, size_t *ret_len)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);

	if (buf == NULL)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb;

			if (cap >= PRINCIPALS_MAX_TEXT) {
				free(buf);
				return -EFBIG;
			}
			if ((nb = realloc(buf, cap * 2)) == NULL) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

static int
from_file(const struct user_info *u, const struct settings *s,
    const struct cert *c, const char *addr, struct authkey_opts *ret,
    char *why, size_t whylen)
{
	char path[4096], *text = NULL;
	size_t len = 0;
	unsigned bad = 0;
	int fd, r;

	if (authkeys_expand_path(s->authorized_principals_file, u->name, u->dir,
	    path, sizeof(path)) < 0) {
		snprintf(why, whylen, "AuthorizedPrincipalsFile: path too long");
		return 0;
	}
	r = pubkey_open_as_user(u, s, path, &fd, why, whylen);
	if (r == -EPERM && why[0]) {
		log_notice("Authentication refused: %s", why);
		return 0;
	}
	if (r < 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(-r));
		return 0;
	}
	r = read_all(fd, &text, &len);
	close(fd);
	if (r < 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(-r));
		return r == -ENOMEM ? r : 0;
	}
	r = principals_match_text(text, len, c, addr, time(NULL), ret, &bad,
	    why, whylen);
	free(text);
	if (bad > 0)
		log_info("%s: %u malformed line(s) skipped", path, bad);
	if (r == 1)
		log_info("certificate principal of %s found in %s, line %u",
		    u->name, path, ret->line);
	return r;
}

static int
from_command(const struct user_info *u, const struct settings *s,
    const struct cert *c, const uint8_t *blob, size_t blob_len,
    const struct audit_conn *conn, struct authkey_opts *ret, char *why,
    size_t whylen)
{
	struct user_info runas = { 0 };
	struct keyscmd_tokens t;
	char uid[16], serial[24], fp[128], cid[200], w[200] = "";
	char *argv[KEYSCMD_MAX_ARGS + 2], *key = NULL, *buf = NULL, *out = NULL;
	const char *aw = NULL;
	size_t out_len = 0;
	unsigned bad = 0;
	int r;

	if (s->authorized_principals_command_user == NULL ||
	    user_lookup(s->authorized_principals_command_user, &runas) < 0 ||
	    runas.uid == 0) {
		snprintf(why, whylen, "AuthorizedPrincipalsCommandUser missing, "
		    "unknown or root: not run");
		user_info_free(&runas);
		return 0;
	}
	key = malloc(BASE64_ENCODED_SIZE(blob_len));
	buf = malloc(KEYSCMD_MAX_EXPANDED);
	if (key == NULL || buf == NULL) {
		r = -ENOMEM;
		goto out;
	}
	base64_encode(blob, blob_len, key, true);
	snprintf(uid, sizeof(uid), "%u", (unsigned)u->uid);
	snprintf(serial, sizeof(serial), "%llu", (unsigned long long)c->serial);
	pubkey_fingerprint(c->key, c->key_len, fp, sizeof(fp));
	snprintf(cid, sizeof(cid), "%s %u %s %u", conn->local_addr,
	    conn->local_port, conn->remote_addr, conn->remote_port);
	t = (struct keyscmd_tokens){ .conn = cid, .user = u->name, .uid = uid,
	    .home = u->dir, .type = c->type, .fingerprint = fp, .key = key,
	    .key_id = c->key_id, .serial = serial };
	r = keyscmd_argv(s->authorized_principals_command, &t, argv, buf,
	    KEYSCMD_MAX_EXPANDED, &aw);
	if (r < 0) {
		snprintf(why, whylen, "AuthorizedPrincipalsCommand: %s",
		    aw != NULL ? aw : strerror(-r));
		r = 0;
		goto out;
	}
	r = keyscmd_run(argv, &runas, KEYSCMD_TIMEOUT_MS, PRINCIPALS_MAX_TEXT,
	    &out, &out_len, w, sizeof(w));
	if (r < 0) {
		log_error("AuthorizedPrincipalsCommand %s for %s: %s",
		    s->authorized_principals_command, u->name, w);
		snprintf(why, whylen, "AuthorizedPrincipalsCommand: %s", w);
		r = 0;
		goto out;
	}
	r = principals_match_text(out, out_len, c, conn->remote_addr, time(NULL),
	    ret, &bad, why, whylen);
	if (bad > 0)
		log_info("AuthorizedPrincipalsCommand for %s: %u malformed "
		    "line(s) skipped", u->name, bad);
	if (r == 1) {
		ret->from_command = true;
		log_info("certificate principal of %s found by "
		    "AuthorizedPrincipalsCommand, line %u", u->name, ret->line);
	}
out:
	free(out);
	free(key);
	free(buf);
	user_info_free(&runas);
	return r;
}

int
principals_authorized(const struct user_info *u, const struct settings *s,
    const struct cert *c, const uint8_t *blob, size_t blob_len,
    const struct audit_conn *conn, struct authkey_opts *ret, char *why,
    size_t whylen)
{
	int r = 0;

	snprintf(why, whylen, "no principal of the certificate is authorised");
	if (s->authorized_principals_file != NULL)
		r = from_file(u, s, c, conn->remote_addr, ret, why, whylen);
	if (r == 0 && s->authorized_principals_command != NULL)
		r = from_command(u, s, c, blob, blob_len, conn, ret, why, whylen);
	return r;
}
