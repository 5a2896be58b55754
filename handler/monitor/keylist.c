/* Key lists (RevokedKeys, TrustedUserCAKeys): see keylist.h.  Read by
 * root (the monitor) from a path the administrator set; still bounded,
 * and a line that does not parse lists nothing. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handler/monitor/cert.h"
#include "handler/monitor/keylist.h"
#include "policy/util/base64.h"

#define REVOKED_MAX_FILE (16 * 1024 * 1024)
#define KRL_MAGIC "SSHKRL\n\0"

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Does one line's key (or certificate's key) equal blob? */
static bool
line_revokes(const char *p, size_t n, const uint8_t *blob, size_t len,
    bool certs, uint8_t *buf, struct cert *c)
{
	size_t i = 0, b64, got = 0;
	const char *why;
	bool same;

	while (i < n && is_blank(p[i]))
		i++;
	if (i == n || p[i] == '#')
		return false;
	while (i < n && !is_blank(p[i]))	/* the type */
		i++;
	while (i < n && is_blank(p[i]))
		i++;
	for (b64 = i; i < n && !is_blank(p[i]); i++)
		;
	if (i == b64 || base64_decode(p + b64, i - b64, buf, PS_MAX_BLOB, &got) < 0)
		return false;
	if (got == len && memcmp(buf, blob, len) == 0)
		return true;
	if (!certs || !cert_is_cert(buf, got) || cert_parse(buf, got, c, &why) < 0) {
		cert_free(c);
		return false;
	}
	same = c->key_len == len && memcmp(c->key, blob, len) == 0;
	cert_free(c);
	return same;
}

int
keylist_in_text(const char *text, size_t len, const uint8_t *blob,
    size_t bloblen, bool certs)
{
	uint8_t *buf = malloc(PS_MAX_BLOB);
	struct cert *c = malloc(sizeof(*c));
	int r = 0;

	if (buf == NULL || c == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < len && r == 0;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl != NULL ? (size_t)(nl - text - i) : len - i;

		if (line_revokes(text + i, n, blob, bloblen, certs, buf, c))
			r = 1;
		i += n + 1;
	}
out:
	free(buf);
	free(c);
	return r;
}

int
keylist_check(const char *path, const uint8_t *blob, size_t len, bool certs,
    char *why, size_t whylen)
{
	struct stat st;
	char *text = NULL;
	size_t got = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		snprintf(why, whylen, "%s: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > REVOKED_MAX_FILE) {
		snprintf(why, whylen, "%s: not a regular file, or "
		    "larger than %d bytes", path, REVOKED_MAX_FILE);
		close(fd);
		return -EINVAL;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, text + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got >= sizeof(KRL_MAGIC) - 1 &&
	    memcmp(text, KRL_MAGIC, sizeof(KRL_MAGIC) - 1) == 0) {
		snprintf(why, whylen, "%s is a KRL, which sshand does not "
		    "read: list the keys as public key lines instead", path);
		free(text);
		return -EOPNOTSUPP;
	}
	r = keylist_in_text(text, got, blob, len, certs);
	free(text);
	if (r == 1)
		snprintf(why, whylen, "key listed in %s", path);
	return r;
}
