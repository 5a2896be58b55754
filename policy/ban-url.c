/* BanStore's value (ban-url.h): file, file:PATH, redis://... */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/ban-url.h"

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

/* Percent-decodes s[0..n) into out (max bytes and a NUL): no NUL or
 * control character may come out of it, nor a raw ':' '@' '/'. */
static int
decode(const char *s, size_t n, char *out, size_t max)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int h, l;

			if (i + 2 >= n)
				return -EINVAL;
			h = hexval(s[i + 1]);
			l = hexval(s[i + 2]);
			if (h < 0 || l < 0)
				return -EINVAL;
			c = (unsigned char)(h * 16 + l);
			i += 2;
		} else if (c == ':' || c == '@' || c == '/')
			return -EINVAL;
		if (c < 0x20 || c == 0x7f || o >= max)
			return -EINVAL;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* A decimal in [min, max] spelt by s[0..n). */
static int
number(const char *s, size_t n, unsigned min, unsigned max, unsigned *ret)
{
	unsigned long v = 0;

	if (n == 0 || n > 10)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < min || v > max)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

static bool
host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

static int
fail(struct ban_url *u, const char **ret_why, const char *why)
{
	ban_url_wipe(u);
	*ret_why = why;
	return -EINVAL;
}

static int
parse_redis(const char *s, struct ban_url *u, const char **why)
{
	const char *auth_end, *hp, *slash, *port = NULL, *hend;
	size_t n;

	if (strpbrk(s, "?#"))
		return fail(u, why, "a redis:// URL takes no query or fragment");
	slash = strchr(s, '/');
	/* The last '@' before the path: a raw '@' in the password must be
	 * written %40, but be lenient where the meaning is clear. */
	auth_end = NULL;
	for (const char *p = s; *p && (!slash || p < slash); p++)
		if (*p == '@')
			auth_end = p;
	hp = s;
	if (auth_end) {
		const char *colon = memchr(s, ':', (size_t)(auth_end - s));

		if (!colon)
			return fail(u, why, "redis://USER@... needs USER:PASSWORD@ "
			    "(or :PASSWORD@)");
		if (decode(s, (size_t)(colon - s), u->user, BAN_URL_CRED_MAX) < 0 ||
		    decode(colon + 1, (size_t)(auth_end - colon - 1), u->password,
		    BAN_URL_CRED_MAX) < 0)
			return fail(u, why, "bad user or password in redis:// URL "
			    "(percent-encode ':', '@', '/' and '%'; at most 256 bytes)");
		if (u->password[0] == '\0')
			return fail(u, why, "empty password in redis:// URL");
		u->has_password = true;
		hp = auth_end + 1;
	}
	hend = slash ? slash : hp + strlen(hp);
	if (*hp == '[') {
		const char *rb = memchr(hp, ']', (size_t)(hend - hp));

		if (!rb || rb == hp + 1)
			return fail(u, why, "bad [IPv6] host in redis:// URL");
		n = (size_t)(rb - hp - 1);
		for (size_t i = 0; i < n; i++)
			if (!(hexval(hp[1 + i]) >= 0 || hp[1 + i] == ':' || hp[1 + i] == '.'))
				return fail(u, why, "bad [IPv6] host in redis:// URL");
		if (n > BAN_URL_HOST_MAX)
			return fail(u, why, "host name too long in redis:// URL");
		memcpy(u->host, hp + 1, n);
		u->host[n] = '\0';
		if (rb + 1 < hend) {
			if (rb[1] != ':')
				return fail(u, why, "bad [IPv6] host in redis:// URL");
			port = rb + 2;
		}
	} else {
		const char *colon = memchr(hp, ':', (size_t)(hend - hp));
		const char *e = colon ? colon : hend;

		n = (size_t)(e - hp);
		if (n == 0)
			return fail(u, why, "redis:// URL without a host");
		if (n > BAN_URL_HOST_MAX)
			return fail(u, why, "host name too long in redis:// URL");
		for (size_t i = 0; i < n; i++)
			if (!host_char(hp[i]))
				return fail(u, why, "bad host in redis:// URL");
		memcpy(u->host, hp, n);
		u->host[n] = '\0';
		if (colon)
			port = colon + 1;
	}
	if (port && number(port, (size_t)(hend - port), 1, 65535, &u->port) < 0)
		return fail(u, why, "bad port in redis:// URL (1..65535)");
	if (slash && slash[1] != '\0' &&
	    number(slash + 1, strlen(slash + 1), 0, BAN_URL_DB_MAX, &u->db) < 0)
		return fail(u, why, "bad database number in redis:// URL "
		    "(redis://HOST:PORT/DB, DB a number)");
	return 0;
}

int
ban_url_parse(const char *s, struct ban_url *u, const char **why)
{
	if (!s || !u || !why)
		return -EINVAL;
	memset(u, 0, sizeof(*u));
	u->port = BAN_URL_PORT_DEFAULT;
	if (strlen(s) >= BAN_URL_MAX)
		return fail(u, why, "value too long");
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == ' ')
			return fail(u, why, "control character or blank in value");
	if (strcmp(s, "file") == 0) {
		u->kind = BAN_URL_FILE;
		return 0;
	}
	if (strncmp(s, "file:", 5) == 0) {
		u->kind = BAN_URL_FILE;
		if (s[5] != '/')
			return fail(u, why, "file:PATH needs an absolute PATH");
		snprintf(u->path, sizeof(u->path), "%s", s + 5);
		return 0;
	}
	if (strncmp(s, "rediss://", 9) == 0)
		return fail(u, why, "rediss:// (TLS) is not supported: Debian 12's "
		    "hiredis (0.14) has no TLS; reach Redis over a TLS tunnel "
		    "(stunnel, spiped) to a local port and use redis://");
	if (strncmp(s, "redis://", 8) == 0) {
		u->kind = BAN_URL_REDIS;
		return parse_redis(s + 8, u, why);
	}
	return fail(u, why, "file, file:PATH or redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]");
}

int
ban_url_redact(const char *s, char *buf, size_t len)
{
	const char *at, *colon, *slash, *body;
	int n;

	if (!s || !buf)
		return -EINVAL;
	body = strncmp(s, "redis://", 8) == 0 ? s + 8 : NULL;
	at = NULL;
	if (body) {
		slash = strchr(body, '/');
		for (const char *p = body; *p && (!slash || p < slash); p++)
			if (*p == '@')
				at = p;
	}
	colon = at ? memchr(body, ':', (size_t)(at - body)) : NULL;
	if (!colon)
		n = snprintf(buf, len, "%s", s);
	else
		n = snprintf(buf, len, "%.*s********%s", (int)(colon + 1 - s), s, at);
	return n < 0 || (size_t)n >= len ? -ENOBUFS : 0;
}

void
ban_url_wipe(struct ban_url *u)
{
	if (u)
		explicit_bzero(u, sizeof(*u));
}
