/* sshandctl hostkeys: create missing host keys, as `ssh-keygen -A` does;
 * sshandctl fingerprints: print them as `ssh-keygen -l -E md5|sha256`.
 *
 * libssh 0.10 writes ed25519 private keys in OpenSSH's format but ecdsa
 * and rsa ones as PKCS#8 PEM.  Host keys should look exactly like the ones
 * ssh-keygen makes (admins copy them between sshd and sshand), so for
 * those two types the PKCS#8 export is re-wrapped here into an
 * "openssh-key-v1" container. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "policy/config.h"
#include "policy/ctl/ctl.h"

#define MAX_KEYS	32
#define MAX_PUBFILE	(16 * 1024)
#define MAX_BLOB	(16 * 1024)
#define RSA_BITS	3072

static const char *const default_names[] = {
	"ssh_host_ed25519_key",
	"ssh_host_ecdsa_key",
	"ssh_host_rsa_key",
};
#define DEFAULT_DIR "/etc/sshand"
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- byte buffers and base64 ---------------------------------------- */

struct buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static void
buf_put(struct buf *b, const void *d, size_t n)
{
	if (b->oom || n > b->cap - b->len) {
		b->oom = true;
		return;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void
buf_u32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { v >> 24, v >> 16, v >> 8, v };

	buf_put(b, x, 4);
}

static void
buf_string(struct buf *b, const void *d, size_t n)
{
	buf_u32(b, (uint32_t)n);
	buf_put(b, d, n);
}

/* An unsigned big-endian integer as an SSH mpint: no leading zeros, one
 * zero byte if the top bit is set. */
static void
buf_mpint(struct buf *b, const uint8_t *d, size_t n)
{
	static const uint8_t zero = 0;

	while (n > 0 && d[0] == 0)
		d++, n--;
	if (n > 0 && (d[0] & 0x80)) {
		buf_u32(b, (uint32_t)n + 1);
		buf_put(b, &zero, 1);
		buf_put(b, d, n);
	} else {
		buf_string(b, d, n);
	}
}

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Encodes into out (size >= 4 * ceil(n / 3) + 1); pad = false drops the
 * '=' padding, as OpenSSH's SHA256 fingerprints do. */
static void
b64_encode(const uint8_t *d, size_t n, char *out, bool pad)
{
	size_t i, o = 0;

	for (i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16;
		size_t k = n - i;

		if (k > 1)
			v |= (uint32_t)d[i + 1] << 8;
		if (k > 2)
			v |= d[i + 2];
		out[o++] = b64chars[v >> 18 & 63];
		out[o++] = b64chars[v >> 12 & 63];
		if (k > 1)
			out[o++] = b64chars[v >> 6 & 63];
		else if (pad)
			out[o++] = '=';
		if (k > 2)
			out[o++] = b64chars[v & 63];
		else if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
}

/* Decodes base64, skipping line breaks (for PEM bodies). */
static int
b64_decode(const char *s, size_t slen, uint8_t *out, size_t max,
    size_t *ret_len)
{
	uint32_t acc = 0;
	size_t i, o = 0;
	int bits = 0;
	bool end = false;

	for (i = 0; i < slen; i++) {
		const char *c;

		if (s[i] == '\n' || s[i] == '\r')
			continue;
		if (s[i] == '=') {
			end = true;
			continue;
		}
		if (end || s[i] == '\0' || (c = strchr(b64chars, s[i])) == NULL)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)(c - b64chars);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= max)
				return -E2BIG;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	*ret_len = o;
	return 0;
}

/* ---- readers: SSH wire format and DER -------------------------------- */

struct rd {
	const uint8_t *p;
	size_t left;
};

static int
rd_string(struct rd *r, const uint8_t **ret, size_t *ret_len)
{
	uint32_t n;

	if (r->left < 4)
		return -EINVAL;
	n = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	    (uint32_t)r->p[2] << 8 | r->p[3];
	if (n > r->left - 4)
		return -EINVAL;
	*ret = r->p + 4;
	*ret_len = n;
	r->p += 4 + n;
	r->left -= 4 + n;
	return 0;
}

static int
der_get(struct rd *r, uint8_t tag, struct rd *ret)
{
	size_t len, nb, i;

	if (r->left < 2 || r->p[0] != tag)
		return -EINVAL;
	len = r->p[1];
	r->p += 2;
	r->left -= 2;
	if (len & 0x80) {
		nb = len & 0x7f;
		if (nb == 0 || nb > 3 || nb > r->left)
			return -EINVAL;
		for (len = 0, i = 0; i < nb; i++)
			len = len << 8 | r->p[i];
		r->p += nb;
		r->left -= nb;
	}
	if (len > r->left)
		return -EINVAL;
	ret->p = r->p;
	ret->left = len;
	r->p += len;
	r->left -= len;
	return 0;
}

/* ---- OpenSSH private key container ----------------------------------- */

static const char pem_begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
static const char pem_end[] = "-----END OPENSSH PRIVATE KEY-----";
static const char magic[] = "openssh-key-v1";	/* written with its NUL */

static int
pubkey_blob(ssh_key key, uint8_t *blob, size_t max, size_t *ret_len)
{
	char *b64 = NULL;
	int r;

	if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		return -EINVAL;
	r = b64_decode(b64, strlen(b64), blob, max, ret_len);
	ssh_string_free_char(b64);
	return r;
}

/* How many strings follow the type name in the private section. */
static int
private_field_count(const uint8_t *type, size_t len)
{
	if (len == 11 && memcmp(type, "ssh-ed25519", 11) == 0)
		return 2;	/* pub, seed || pub */
	if (len == 19 && memcmp(type, "ecdsa-sha2-nistp", 16) == 0)
		return 3;	/* curve, Q, d */
	if (len == 7 && memcmp(type, "ssh-rsa", 7) == 0)
		return 6;	/* n, e, d, iqmp, p, q */
	return -1;
}

/* An unencrypted openssh-key-v1 text: its public blob, the private key
 * fields (from the type name on) and the comment, pointing into bin. */
struct opriv {
	struct rd pub, fields, comment;
};

static int
openssh_parse(const char *text, size_t tlen, uint8_t *bin, size_t max,
    struct opriv *ret)
{
	const char *s, *e;
	const uint8_t *v, *start;
	size_t len, n, i;
	struct rd r, sec;
	int nf;

	if (tlen < sizeof(pem_begin) - 1 ||
	    memcmp(text, pem_begin, sizeof(pem_begin) - 1) != 0)
		return -EINVAL;
	s = text + sizeof(pem_begin) - 1;
	if ((e = memmem(s, tlen - (size_t)(s - text), pem_end,
	    sizeof(pem_end) - 1)) == NULL)
		return -EINVAL;
	if (b64_decode(s, (size_t)(e - s), bin, max, &len) < 0)
		return -EINVAL;
	if (len < sizeof(magic) || memcmp(bin, magic, sizeof(magic)) != 0)
		return -EINVAL;
	r = (struct rd){ bin + sizeof(magic), len - sizeof(magic) };
	if (rd_string(&r, &v, &n) < 0 || n != 4 || memcmp(v, "none", 4) != 0)
		return -EINVAL;	/* encrypted: not a host key of ours */
	if (rd_string(&r, &v, &n) < 0 || rd_string(&r, &v, &n) < 0)
		return -EINVAL;
	if (r.left < 4 || memcmp(r.p, "\0\0\0\1", 4) != 0)
		return -EINVAL;
	r.p += 4;
	r.left -= 4;
	if (rd_string(&r, &ret->pub.p, &ret->pub.left) < 0 ||
	    rd_string(&r, &sec.p, &sec.left) < 0)
		return -EINVAL;
	if (sec.left < 8 || memcmp(sec.p, sec.p + 4, 4) != 0)
		return -EINVAL;
	sec.p += 8;
	sec.left -= 8;
	start = sec.p;
	if (rd_string(&sec, &v, &n) < 0 ||
	    (nf = private_field_count(v, n)) < 0)
		return -EINVAL;
	for (i = 0; i < (size_t)nf; i++)
		if (rd_string(&sec, &v, &n) < 0)
			return -EINVAL;
	ret->fields = (struct rd){ start, (size_t)(sec.p - start) };
	if (rd_string(&sec, &ret->comment.p, &ret->comment.left) < 0)
		return -EINVAL;
	return 0;
}

/* Wraps public blob and private fields into the armoured text that
 * ssh-keygen writes (no cipher, 70 columns). */
static int
openssh_build(const uint8_t *pub, size_t publen, const uint8_t *fields,
    size_t flen, const char *comment, char **ret)
{
	uint8_t *sec = NULL, *all = NULL, pad;
	char *b64 = NULL, *out = NULL;
	struct buf bs, ba;
	uint32_t check;
	size_t i, o;
	int r = -ENOMEM;

	sec = malloc(MAX_BLOB);
	all = malloc(2 * MAX_BLOB);
	b64 = malloc(4 * MAX_BLOB);
	out = malloc(5 * MAX_BLOB);
	if (sec == NULL || all == NULL || b64 == NULL || out == NULL)
		goto out;
	r = -EIO;
	if (getrandom(&check, sizeof(check), 0) != sizeof(check))
		goto out;
	r = -E2BIG;
	bs = (struct buf){ sec, 0, MAX_BLOB, false };
	buf_u32(&bs, check);
	buf_u32(&bs, check);
	buf_put(&bs, fields, flen);
	buf_string(&bs, comment, strlen(comment));
	for (pad = 1; bs.len % 8 != 0; pad++)
		buf_put(&bs, &pad, 1);

	ba = (struct buf){ all, 0, 2 * MAX_BLOB, false };
	buf_put(&ba, magic, sizeof(magic));
	buf_string(&ba, "none", 4);		/* cipher */
	buf_string(&ba, "none", 4);		/* kdf */
	buf_string(&ba, "", 0);			/* kdf options */
	buf_u32(&ba, 1);			/* one key */
	buf_string(&ba, pub, publen);
	buf_string(&ba, sec, bs.len);
	if (bs.oom || ba.oom)
		goto out;
	b64_encode(all, ba.len, b64, true);

	o = sizeof(pem_begin) - 1;
	memcpy(out, pem_begin, o);
	for (i = 0; b64[i] != '\0'; i++) {
		out[o++] = b64[i];
		if (i % 70 == 69 || b64[i + 1] == '\0')
			out[o++] = '\n';
	}
	memcpy(out + o, pem_end, sizeof(pem_end) - 1);
	o += sizeof(pem_end) - 1;
	out[o++] = '\n';
	out[o] = '\0';
	*ret = out;
	out = NULL;
	r = 0;
out:
	if (sec != NULL)
		explicit_bzero(sec, MAX_BLOB);
	if (all != NULL)
		explicit_bzero(all, 2 * MAX_BLOB);
	if (b64 != NULL)
		explicit_bzero(b64, 4 * MAX_BLOB);
	if (out != NULL)
		explicit_bzero(out, 5 * MAX_BLOB);
	free(sec);
	free(all);
	free(b64);
	free(out);
	return r;
}

/* ecdsa and rsa: the private fields out of libssh's PKCS#8 export (for
 * ecdsa the scalar d after the public "type, curve, Q"; for rsa OpenSSH's
 * order n, e, d, iqmp, p, q). */
static int
fields_from_pkcs8(enum ssh_keytypes_e type, const uint8_t *der, size_t derlen,
    const uint8_t *pub, size_t publen, struct buf *b)
{
	struct rd r = { der, derlen }, seq, pk, inner, f[9];
	size_t i;

	/* PrivateKeyInfo: version, algorithm, OCTET STRING key */
	if (der_get(&r, 0x30, &seq) < 0 || der_get(&seq, 0x02, &f[0]) < 0 ||
	    der_get(&seq, 0x30, &f[1]) < 0 || der_get(&seq, 0x04, &pk) < 0)
		return -EINVAL;
	if (der_get(&pk, 0x30, &inner) < 0)
		return -EINVAL;
	if (type == SSH_KEYTYPE_RSA) {
		/* RSAPrivateKey: version n e d p q dp dq qinv */
		for (i = 0; i < 9; i++)
			if (der_get(&inner, 0x02, &f[i]) < 0)
				return -EINVAL;
		buf_string(b, "ssh-rsa", 7);
		buf_mpint(b, f[1].p, f[1].left);	/* n */
		buf_mpint(b, f[2].p, f[2].left);	/* e */
		buf_mpint(b, f[3].p, f[3].left);	/* d */
		buf_mpint(b, f[8].p, f[8].left);	/* iqmp */
		buf_mpint(b, f[4].p, f[4].left);	/* p */
		buf_mpint(b, f[5].p, f[5].left);	/* q */
		return b->oom ? -E2BIG : 0;
	}
	/* ECPrivateKey: version, OCTET STRING d, ... */
	if (der_get(&inner, 0x02, &f[0]) < 0 || der_get(&inner, 0x04, &f[1]) < 0)
		return -EINVAL;
	buf_put(b, pub, publen);
	buf_mpint(b, f[1].p, f[1].left);
	return b->oom ? -E2BIG : 0;
}

static int
openssh_privkey(ssh_key key, const char *comment, char **ret)
{
	static const char p8_begin[] = "-----BEGIN PRIVATE KEY-----\n";
	enum ssh_keytypes_e type = ssh_key_type(key);
	uint8_t *pub = NULL, *der = NULL, *fields = NULL, *bin = NULL;
	char *pem = NULL, *s, *e;
	size_t publen, derlen;
	struct opriv op;
	struct buf bf;
	int r = -ENOMEM;

	pub = malloc(MAX_BLOB);
	der = malloc(MAX_BLOB);
	fields = malloc(MAX_BLOB);
	bin = malloc(MAX_BLOB);
	if (pub == NULL || der == NULL || fields == NULL || bin == NULL)
		goto out;
	r = -EINVAL;
	if (pubkey_blob(key, pub, MAX_BLOB, &publen) < 0)
		goto out;
	if (ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &pem) !=
	    SSH_OK) {
		pem = NULL;
		goto out;
	}
	if (type == SSH_KEYTYPE_ED25519) {
		/* already OpenSSH's format, but without a comment */
		if (openssh_parse(pem, strlen(pem), bin, MAX_BLOB, &op) < 0)
			goto out;
		r = openssh_build(op.pub.p, op.pub.left, op.fields.p,
		    op.fields.left, comment, ret);
		goto out;
	}
	if (strncmp(pem, p8_begin, sizeof(p8_begin) - 1) != 0 ||
	    (e = strstr(pem, "-----END PRIVATE KEY-----")) == NULL)
		goto out;
	s = pem + sizeof(p8_begin) - 1;
	if (b64_decode(s, (size_t)(e - s), der, MAX_BLOB, &derlen) < 0)
		goto out;
	bf = (struct buf){ fields, 0, MAX_BLOB, false };
	if (fields_from_pkcs8(type, der, derlen, pub, publen, &bf) < 0)
		goto out;
	r = openssh_build(pub, publen, fields, bf.len, comment, ret);
out:
	/* everything but pub held private key material */
	if (pem != NULL) {
		explicit_bzero(pem, strlen(pem));
		ssh_string_free_char(pem);
	}
	if (der != NULL)
		explicit_bzero(der, MAX_BLOB);
	if (fields != NULL)
		explicit_bzero(fields, MAX_BLOB);
	if (bin != NULL)
		explicit_bzero(bin, MAX_BLOB);
	free(pub);
	free(der);
	free(fields);
	free(bin);
	return r;
}

/* ---- files ----------------------------------------------------------- */

/* Writes data to a temporary file next to path, then moves it into place:
 * with replace = false through link(), which fails rather than overwrite
 * a key someone created meanwhile. */
static int
write_atomic(const char *path, const char *data, size_t len, mode_t mode,
    bool replace)
{
	char tmp[PATH_MAX], dirbuf[PATH_MAX], *dir;
	size_t off = 0;
	int fd, dfd, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return -errno;
	if (fchmod(fd, mode) < 0)
		r = -errno;
	while (r == 0 && off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			r = n < 0 ? -errno : -EIO;
		else
			off += (size_t)n;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0) {
		if (replace) {
			if (rename(tmp, path) < 0)
				r = -errno;
		} else if (link(tmp, path) < 0) {
			r = -errno;
		}
	}
	unlink(tmp);
	if (r == 0) {
		snprintf(dirbuf, sizeof(dirbuf), "%s", path);
		dir = dirname(dirbuf);
		if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
			(void)fsync(dfd);
			close(dfd);
		}
	}
	return r;
}

static enum ssh_keytypes_e
type_from_name(const char *path, int *ret_bits)
{
	const char *base = strrchr(path, '/');

	base = base != NULL ? base + 1 : path;
	if (strstr(base, "ed25519") != NULL) {
		*ret_bits = 0;
		return SSH_KEYTYPE_ED25519;
	}
	if (strstr(base, "ecdsa") != NULL) {
		*ret_bits = 256;
		return SSH_KEYTYPE_ECDSA_P256;
	}
	if (strstr(base, "rsa") != NULL) {
		*ret_bits = RSA_BITS;
		return SSH_KEYTYPE_RSA;
	}
	return SSH_KEYTYPE_UNKNOWN;
}

static const char *
type_label(enum ssh_keytypes_e t)
{
	switch (t) {
	case SSH_KEYTYPE_ED25519:
		return "ED25519";
	case SSH_KEYTYPE_ECDSA_P256:
	case SSH_KEYTYPE_ECDSA_P384:
	case SSH_KEYTYPE_ECDSA_P521:
		return "ECDSA";
	case SSH_KEYTYPE_RSA:
		return "RSA";
	default:
		return NULL;
	}
}

/* Creates path (and path.pub).  Returns 1 if created, 0 if it existed. */
static int
create_key(const char *path, const char *comment, const char **ret_err)
{
	enum ssh_keytypes_e type;
	ssh_key key = NULL;
	char pubpath[PATH_MAX], *priv = NULL, *b64 = NULL, *publine = NULL;
	struct stat st;
	int bits, r;

	if (lstat(path, &st) == 0)
		return 0;
	if (errno != ENOENT) {
		*ret_err = strerror(errno);
		return -errno;
	}
	if ((type = type_from_name(path, &bits)) == SSH_KEYTYPE_UNKNOWN) {
		*ret_err = "cannot tell the key type from the file name "
		    "(expected ed25519, ecdsa or rsa in it)";
		return -EINVAL;
	}
	if (snprintf(pubpath, sizeof(pubpath), "%s.pub", path) >=
	    (int)sizeof(pubpath)) {
		*ret_err = "path too long";
		return -ENAMETOOLONG;
	}
	*ret_err = "key generation failed";
	r = -EIO;
	if (ssh_pki_generate(type, bits, &key) != SSH_OK)
		goto out;
	if (openssh_privkey(key, comment, &priv) < 0) {
		priv = NULL;
		goto out;
	}
	if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		goto out;
	if (asprintf(&publine, "%s %s %s\n", ssh_key_type_to_char(type), b64,
	    comment) < 0) {
		publine = NULL;
		r = -ENOMEM;
		goto out;
	}
	if ((r = write_atomic(path, priv, strlen(priv), 0600, false)) < 0) {
		*ret_err = strerror(-r);
		if (r == -EEXIST)
			r = 0;	/* lost a race: someone else made it */
		goto out;
	}
	/* a leftover .pub without its private key is stale: replace it */
	if ((r = write_atomic(pubpath, publine, strlen(publine), 0644,
	    true)) < 0) {
		*ret_err = strerror(-r);
		goto out;
	}
	r = 1;
out:
	if (priv != NULL) {
		explicit_bzero(priv, strlen(priv));
		free(priv);
	}
	ssh_string_free_char(b64);
	free(publine);
	ssh_key_free(key);
	return r;
}

/* ---- fingerprints ---------------------------------------------------- */

struct keyinfo {
	const char *label;		/* "ED25519" */
	const char *type;		/* "ssh-ed25519" */
	unsigned bits;
	char comment[1024];
	char md5[3 * 16 + 8];
	char sha256[64];
};

static unsigned
rsa_bits(ssh_key key)
{
	uint8_t *blob;
	const uint8_t *s;
	struct rd r;
	size_t len, n;
	unsigned bits = 0;

	if ((blob = malloc(MAX_BLOB)) == NULL)
		return 0;
	if (pubkey_blob(key, blob, MAX_BLOB, &len) == 0) {
		r = (struct rd){ blob, len };
		if (rd_string(&r, &s, &n) == 0 && rd_string(&r, &s, &n) == 0 &&
		    rd_string(&r, &s, &n) == 0) {
			while (n > 0 && s[0] == 0)
				s++, n--;
			if (n > 0) {
				uint8_t top = s[0];

				bits = (unsigned)(n - 1) * 8;
				while (top != 0)
					bits++, top >>= 1;
			}
		}
	}
	free(blob);
	return bits;
}

/* Reads "type base64 [comment]" from a .pub file. */
static int
load_pubfile(const char *path, ssh_key *ret, char *comment, size_t clen,
    const char **ret_err)
{
	char *data, *p, *type, *b64;
	ssize_t n;
	size_t len = 0;
	int fd, r = -EINVAL;
	enum ssh_keytypes_e t;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		*ret_err = strerror(errno);
		return -errno;
	}
	if ((data = malloc(MAX_PUBFILE + 1)) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while (len < MAX_PUBFILE &&
	    (n = read(fd, data + len, MAX_PUBFILE - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			*ret_err = strerror(errno);
			goto out;
		}
		len += (size_t)n;
	}
	data[len] = '\0';
	*ret_err = "not a public key file";
	if (strlen(data) != len)
		goto out;		/* NUL bytes */
	if ((p = strchr(data, '\n')) != NULL)
		*p = '\0';
	if ((p = strchr(data, '\r')) != NULL)
		*p = '\0';
	type = data + strspn(data, " \t");
	if ((p = strpbrk(type, " \t")) == NULL)
		goto out;
	*p++ = '\0';
	b64 = p + strspn(p, " \t");
	if ((p = strpbrk(b64, " \t")) != NULL) {
		*p++ = '\0';
		p += strspn(p, " \t");
	}
	t = ssh_key_type_from_name(type);
	if (type_label(t) == NULL) {
		*ret_err = "unsupported or unknown key type";
		goto out;
	}
	if (ssh_pki_import_pubkey_base64(b64, t, ret) != SSH_OK)
		goto out;
	/* ssh-keygen shows "no comment" when there is none */
	snprintf(comment, clen, "%s", p != NULL && *p != '\0' ? p :
	    "no comment");
	r = 0;
out:
	free(data);
	close(fd);
	return r;
}

/* The comment ssh-keygen -l shows for a private key file without .pub:
 * the container's own (possibly empty), "no comment" for other formats. */
static void
privkey_comment(const char *path, char *comment, size_t clen)
{
	char *text = NULL;
	uint8_t *bin = NULL;
	struct opriv op;
	size_t len = 0;
	ssize_t n;
	int fd;

	snprintf(comment, clen, "no comment");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return;
	text = malloc(4 * MAX_BLOB);
	bin = malloc(MAX_BLOB);
	if (text == NULL || bin == NULL)
		goto out;
	while (len < 4 * MAX_BLOB &&
	    (n = read(fd, text + len, 4 * MAX_BLOB - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		len += (size_t)n;
	}
	if (openssh_parse(text, len, bin, MAX_BLOB, &op) == 0)
		snprintf(comment, clen, "%.*s", (int)op.comment.left,
		    (const char *)op.comment.p);
out:
	if (text != NULL)
		explicit_bzero(text, 4 * MAX_BLOB);
	if (bin != NULL)
		explicit_bzero(bin, MAX_BLOB);
	free(text);
	free(bin);
	close(fd);
}

static int
key_info(const char *path, struct keyinfo *ki, const char **ret_err)
{
	char pubpath[PATH_MAX];
	ssh_key key = NULL, priv = NULL;
	unsigned char *h = NULL;
	size_t hlen, i, o;
	enum ssh_keytypes_e t;
	int r;

	if (snprintf(pubpath, sizeof(pubpath), "%s.pub", path) >=
	    (int)sizeof(pubpath)) {
		*ret_err = "path too long";
		return -ENAMETOOLONG;
	}
	r = load_pubfile(pubpath, &key, ki->comment, sizeof(ki->comment),
	    ret_err);
	if (r == -ENOENT) {
		/* no .pub: the private key holds the public one */
		if (access(path, F_OK) < 0) {
			*ret_err = strerror(errno);
			return -errno;
		}
		if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL,
		    &priv) != SSH_OK ||
		    ssh_pki_export_privkey_to_pubkey(priv, &key) != SSH_OK) {
			ssh_key_free(priv);
			*ret_err = "not a readable private key (and no .pub)";
			return -EINVAL;
		}
		ssh_key_free(priv);
		privkey_comment(path, ki->comment, sizeof(ki->comment));
	} else if (r < 0) {
		return r;
	}
	t = ssh_key_type(key);
	if ((ki->label = type_label(t)) == NULL) {
		ssh_key_free(key);
		*ret_err = "unsupported key type";
		return -EINVAL;
	}
	ki->type = ssh_key_type_to_char(t);
	switch (t) {
	case SSH_KEYTYPE_ECDSA_P384:
		ki->bits = 384;
		break;
	case SSH_KEYTYPE_ECDSA_P521:
		ki->bits = 521;
		break;
	case SSH_KEYTYPE_RSA:
		ki->bits = rsa_bits(key);
		break;
	default:
		ki->bits = 256;
		break;
	}
	*ret_err = "cannot hash the key";
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_MD5, &h, &hlen) < 0 ||
	    hlen != 16)
		goto fail;
	o = (size_t)snprintf(ki->md5, sizeof(ki->md5), "MD5:");
	for (i = 0; i < hlen; i++)
		o += (size_t)snprintf(ki->md5 + o, sizeof(ki->md5) - o,
		    i ? ":%02x" : "%02x", h[i]);
	ssh_clean_pubkey_hash(&h);
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &h,
	    &hlen) < 0 || hlen != 32)
		goto fail;
	memcpy(ki->sha256, "SHA256:", 7);
	b64_encode(h, hlen, ki->sha256 + 7, false);
	ssh_clean_pubkey_hash(&h);
	ssh_key_free(key);
	return 0;
fail:
	if (h != NULL)
		ssh_clean_pubkey_hash(&h);
	ssh_key_free(key);
	return -EINVAL;
}

/* ---- command line ---------------------------------------------------- */

struct keylist {
	char *path[MAX_KEYS];
	size_t n;
};

static void
keylist_free(struct keylist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->path[i]);
	l->n = 0;
}

static int
keylist_add(struct keylist *l, const char *dir, const char *name)
{
	char *p;

	if (l->n >= MAX_KEYS)
		return -E2BIG;
	if (dir != NULL) {
		if (asprintf(&p, "%s/%s", dir, name) < 0)
			return -ENOMEM;
	} else if ((p = strdup(name)) == NULL) {
		return -ENOMEM;
	}
	l->path[l->n++] = p;
	return 0;
}

/* The keys to act on: DIR's default names with -d, else the config's
 * HostKey lines, else (no config file) the defaults in /etc/sshand. */
static int
gather(const struct ctl_opts *o, const char *cmd, int argc, char **argv,
    struct keylist *l, bool *ret_json)
{
	const char *dir = NULL, *cfgpath;
	struct config *cfg = NULL;
	struct settings *s = NULL;
	char err[512];
	size_t i;
	int r;

	*ret_json = o != NULL && o->json;
	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "-d") == 0 && i + 1 < (size_t)argc) {
			dir = argv[++i];
		} else if (strncmp(argv[i], "-d", 2) == 0 && argv[i][2] != '\0') {
			dir = argv[i] + 2;
		} else if (strcmp(argv[i], "--json") == 0 &&
		    strcmp(cmd, "fingerprints") == 0) {
			*ret_json = true;
		} else {
			fprintf(stderr, "usage: sshandctl [-f CONFIG] %s%s "
			    "[-d DIR]\n", strcmp(cmd, "fingerprints") == 0 ?
			    "[--json] " : "", cmd);
			return 2;
		}
	}
	if (dir != NULL) {
		if (strcmp(cmd, "hostkeys") == 0 && mkdir(dir, 0755) < 0 &&
		    errno != EEXIST) {
			fprintf(stderr, "sshandctl %s: %s: %s\n", cmd, dir,
			    strerror(errno));
			return 1;
		}
		for (i = 0; i < NELEM(default_names); i++)
			if (keylist_add(l, dir, default_names[i]) < 0)
				goto oom;
		return 0;
	}
	cfgpath = o != NULL && o->config_path != NULL ? o->config_path :
	    SSHAND_CONFIG_PATH;
	r = config_load(cfgpath, &cfg, err, sizeof(err));
	if (r == -ENOENT) {
		for (i = 0; i < NELEM(default_names); i++)
			if (keylist_add(l, DEFAULT_DIR, default_names[i]) < 0)
				goto oom;
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "sshandctl %s: %s\n", cmd, err);
		return 1;
	}
	r = config_resolve(cfg, NULL, &s);
	config_free(cfg);
	if (r < 0) {
		fprintf(stderr, "sshandctl %s: %s: %s\n", cmd, cfgpath,
		    strerror(-r));
		return 1;
	}
	for (i = 0; i < s->host_keys.n; i++) {
		if ((r = keylist_add(l, NULL, s->host_keys.v[i])) < 0) {
			settings_free(s);
			fprintf(stderr, "sshandctl %s: %s\n", cmd,
			    r == -E2BIG ? "too many HostKey lines" :
			    strerror(-r));
			return 1;
		}
	}
	settings_free(s);
	if (l->n == 0)
		for (i = 0; i < NELEM(default_names); i++)
			if (keylist_add(l, DEFAULT_DIR, default_names[i]) < 0)
				goto oom;
	return 0;
oom:
	fprintf(stderr, "sshandctl %s: out of memory\n", cmd);
	return 1;
}

int
ctl_hostkeys(const struct ctl_opts *o, int argc, char **argv)
{
	struct keylist l = { .n = 0 };
	char host[256], comment[300];
	const char *err = NULL;
	bool json;
	size_t i;
	int r, rc;

	if ((rc = gather(o, "hostkeys", argc, argv, &l, &json)) != 0)
		goto out;
	/* ssh-keygen -A names its keys root@host */
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(comment, sizeof(comment), "root@%s", host);
	for (i = 0; i < l.n; i++) {
		r = create_key(l.path[i], comment, &err);
		if (r < 0) {
			fprintf(stderr, "sshandctl hostkeys: %s: %s\n",
			    l.path[i], err);
			rc = 1;
		} else if (r == 1) {
			printf("created %s\n", l.path[i]);
		}
	}
out:
	keylist_free(&l);
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}

static void
json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

int
ctl_fingerprints(const struct ctl_opts *o, int argc, char **argv)
{
	struct keylist l = { .n = 0 };
	struct keyinfo ki;
	const char *err = NULL;
	bool json, first = true;
	size_t i;
	int rc;

	if ((rc = gather(o, "fingerprints", argc, argv, &l, &json)) != 0)
		goto out;
	if (json)
		printf("[");
	for (i = 0; i < l.n; i++) {
		memset(&ki, 0, sizeof(ki));
		if (key_info(l.path[i], &ki, &err) < 0) {
			fprintf(stderr, "sshandctl fingerprints: %s: %s\n",
			    l.path[i], err);
			rc = 1;
			continue;
		}
		if (json) {
			printf("%s\n  {\"path\": ", first ? "" : ",");
			json_string(stdout, l.path[i]);
			printf(", \"type\": \"%s\", \"bits\": %u, \"md5\": "
			    "\"%s\", \"sha256\": \"%s\"}", ki.type, ki.bits,
			    ki.md5, ki.sha256);
			first = false;
		} else {
			printf("%u %s %s (%s)\n", ki.bits, ki.md5, ki.comment,
			    ki.label);
			printf("%u %s %s (%s)\n", ki.bits, ki.sha256,
			    ki.comment, ki.label);
		}
	}
	if (json)
		printf("%s]\n", first ? "" : "\n");
out:
	keylist_free(&l);
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}
