/* sshandctl fingerprints: each host key's MD5 and SHA256 fingerprints,
 * exactly as `ssh-keygen -l -E md5|sha256` prints them, for publishing
 * to users.  libssh reads the keys and hashes them. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "policy/ctl/ctl.h"
#include "policy/util/base64.h"
#include "policy/util/json.h"
#include "policy/util/sshwire.h"

#define MAX_PUBFILE	(16 * 1024)
#define MAX_PRIVFILE	(64 * 1024)
#define MAX_BLOB	(16 * 1024)

struct keyinfo {
	const char *label;		/* "ED25519" */
	const char *type;		/* "ssh-ed25519" */
	unsigned bits;
	char comment[1024];
	char md5[64];
	char sha256[64];
};

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

/* Reads at most max bytes of path into a new NUL-terminated buffer. */
static int
read_small(const char *path, size_t max, char **ret, size_t *ret_len)
{
	char *data;
	size_t len = 0;
	ssize_t n;
	int fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return -errno;
	if ((data = malloc(max + 1)) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while (len < max && (n = read(fd, data + len, max - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	if (r < 0) {
		explicit_bzero(data, max + 1);
		free(data);
		return r;
	}
	data[len] = '\0';
	*ret = data;
	*ret_len = len;
	return 0;
}

/* Bits of an RSA modulus, from the key's public blob. */
static unsigned
rsa_bits(ssh_key key)
{
	struct wire_reader r;
	const uint8_t *n;
	uint8_t *blob = NULL;
	char *b64 = NULL;
	size_t len, nlen;
	unsigned bits = 0;

	if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK ||
	    (blob = malloc(MAX_BLOB)) == NULL ||
	    base64_decode(b64, strlen(b64), blob, MAX_BLOB, &len) < 0)
		goto out;
	r = wire_reader(blob, len);
	(void)wire_get_string(&r, MAX_BLOB, &nlen);	/* "ssh-rsa" */
	(void)wire_get_string(&r, MAX_BLOB, &nlen);	/* e */
	n = wire_get_string(&r, MAX_BLOB, &nlen);
	if (n == NULL)
		goto out;
	while (nlen > 0 && n[0] == 0)
		n++, nlen--;
	if (nlen > 0) {
		uint8_t top = n[0];

		for (bits = (unsigned)(nlen - 1) * 8; top != 0; top >>= 1)
			bits++;
	}
out:
	ssh_string_free_char(b64);
	free(blob);
	return bits;
}

/* Reads "type base64 [comment]" from a .pub file. */
static int
load_pubfile(const char *path, ssh_key *ret, char *comment, size_t clen,
    const char **ret_err)
{
	char *data = NULL, *p, *type, *b64;
	enum ssh_keytypes_e t;
	size_t len;
	int r;

	if ((r = read_small(path, MAX_PUBFILE, &data, &len)) < 0) {
		*ret_err = strerror(-r);
		return r;
	}
	r = -EINVAL;
	*ret_err = "not a public key file";
	if (strlen(data) != len)
		goto out;		/* NUL bytes */
	data[strcspn(data, "\r\n")] = '\0';
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
	return r;
}

/* The comment inside an unencrypted openssh-key-v1 private key: after
 * the armour and base64, the header (magic, cipher "none", kdf, kdf
 * options, one key, its public blob), then the private section: two
 * check words, the type name, the type's private fields, the comment. */
static int
openssh_comment(char *text, uint8_t *bin, size_t max, char *comment,
    size_t clen)
{
	static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
	static const char magic[] = "openssh-key-v1";	/* with its NUL */
	struct wire_reader r, sec;
	const uint8_t *v;
	size_t len, n, i, o = 0, fields;
	uint32_t check;
	char *s, *e;

	if (strncmp(text, begin, sizeof(begin) - 1) != 0 ||
	    (e = strstr(text, "-----END OPENSSH PRIVATE KEY-----")) == NULL)
		return -EINVAL;
	for (s = text + sizeof(begin) - 1; s < e; s++)	/* drop line breaks */
		if (*s != '\n' && *s != '\r')
			text[o++] = *s;
	if (base64_decode(text, o, bin, max, &len) < 0 ||
	    len < sizeof(magic) || memcmp(bin, magic, sizeof(magic)) != 0)
		return -EINVAL;
	r = wire_reader(bin + sizeof(magic), len - sizeof(magic));
	v = wire_get_string(&r, max, &n);
	if (v == NULL || n != 4 || memcmp(v, "none", 4) != 0)
		return -EINVAL;
	(void)wire_get_string(&r, max, &n);		/* kdf */
	(void)wire_get_string(&r, max, &n);		/* kdf options */
	if (wire_get_u32(&r) != 1)
		return -EINVAL;
	(void)wire_get_string(&r, max, &n);		/* public blob */
	v = wire_get_string(&r, max, &n);
	if (v == NULL)
		return -EINVAL;
	sec = wire_reader(v, n);
	check = wire_get_u32(&sec);
	if (wire_get_u32(&sec) != check ||
	    (v = wire_get_string(&sec, max, &n)) == NULL)
		return -EINVAL;
	if (n == 11 && memcmp(v, "ssh-ed25519", 11) == 0)
		fields = 2;		/* public key, seed || public key */
	else if (n == 19 && memcmp(v, "ecdsa-sha2-nistp", 16) == 0)
		fields = 3;		/* curve, Q, d */
	else if (n == 7 && memcmp(v, "ssh-rsa", 7) == 0)
		fields = 6;		/* n, e, d, iqmp, p, q */
	else
		return -EINVAL;
	for (i = 0; i < fields; i++)
		(void)wire_get_string(&sec, max, &n);
	v = wire_get_string(&sec, max, &n);
	if (v == NULL)
		return -EINVAL;
	snprintf(comment, clen, "%.*s", (int)n, (const char *)v);
	return 0;
}

/* The comment ssh-keygen -l shows for a private key file without .pub:
 * the container's own (possibly empty), "no comment" for other formats. */
static void
privkey_comment(const char *path, char *comment, size_t clen)
{
	uint8_t *bin = NULL;
	char *text = NULL;
	size_t len;

	snprintf(comment, clen, "no comment");
	if (read_small(path, MAX_PRIVFILE, &text, &len) < 0)
		return;
	if ((bin = malloc(MAX_PRIVFILE)) != NULL &&
	    openssh_comment(text, bin, MAX_PRIVFILE, comment, clen) < 0)
		snprintf(comment, clen, "no comment");
	explicit_bzero(text, len);
	free(text);
	if (bin != NULL)
		explicit_bzero(bin, MAX_PRIVFILE);
	free(bin);
}

/* "MD5:..." or "SHA256:..." of key into out. */
static int
fingerprint(ssh_key key, enum ssh_publickey_hash_type type, char *out,
    size_t outlen)
{
	unsigned char *h = NULL;
	char *fp = NULL;
	size_t hlen;
	int r = -EINVAL;

	if (ssh_get_publickey_hash(key, type, &h, &hlen) == 0 &&
	    (fp = ssh_get_fingerprint_hash(type, h, hlen)) != NULL &&
	    (size_t)snprintf(out, outlen, "%s", fp) < outlen)
		r = 0;
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&h);
	return r;
}

static int
key_info(const char *path, struct keyinfo *ki, const char **ret_err)
{
	char pubpath[PATH_MAX];
	ssh_key key = NULL, priv = NULL;
	enum ssh_keytypes_e t;
	int r;

	if ((size_t)snprintf(pubpath, sizeof(pubpath), "%s.pub", path) >=
	    sizeof(pubpath)) {
		*ret_err = "path too long";
		return -ENAMETOOLONG;
	}
	r = load_pubfile(pubpath, &key, ki->comment, sizeof(ki->comment),
	    ret_err);
	if (r == -ENOENT) {
		/* no .pub: the private key holds the public one */
		if (access(path, F_OK) < 0) {
			r = -errno;
			*ret_err = strerror(-r);
			return r;
		}
		r = ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &priv);
		if (r == SSH_OK)
			r = ssh_pki_export_privkey_to_pubkey(priv, &key);
		ssh_key_free(priv);
		if (r != SSH_OK) {
			*ret_err = "not a readable private key (and no .pub)";
			return -EINVAL;
		}
		privkey_comment(path, ki->comment, sizeof(ki->comment));
	} else if (r < 0) {
		return r;
	}
	t = ssh_key_type(key);
	r = -EINVAL;
	if ((ki->label = type_label(t)) == NULL) {
		*ret_err = "unsupported key type";
		goto out;
	}
	ki->type = ssh_key_type_to_char(t);
	ki->bits = t == SSH_KEYTYPE_ECDSA_P384 ? 384 :
	    t == SSH_KEYTYPE_ECDSA_P521 ? 521 :
	    t == SSH_KEYTYPE_RSA ? rsa_bits(key) : 256;
	*ret_err = "cannot hash the key";
	if (fingerprint(key, SSH_PUBLICKEY_HASH_MD5, ki->md5,
	    sizeof(ki->md5)) == 0 && fingerprint(key,
	    SSH_PUBLICKEY_HASH_SHA256, ki->sha256, sizeof(ki->sha256)) == 0)
		r = 0;
out:
	ssh_key_free(key);
	return r;
}

static void
print_json(bool first, const char *path, const struct keyinfo *ki)
{
	printf("%s\n  {\"path\": ", first ? "" : ",");
	json_print_string(stdout, path);
	printf(", \"type\": ");
	json_print_string(stdout, ki->type);
	printf(", \"bits\": %u, \"md5\": ", ki->bits);
	json_print_string(stdout, ki->md5);
	printf(", \"sha256\": ");
	json_print_string(stdout, ki->sha256);
	putchar('}');
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

	if ((rc = keylist_gather(o, "fingerprints", argc, argv, &l,
	    &json)) != 0)
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
			print_json(first, l.path[i], &ki);
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
