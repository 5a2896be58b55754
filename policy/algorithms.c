/* The SSH algorithm names sshand knows, and sshd_config's list syntax.
 *
 * Every name of each kind, with who knows it:
 *   SSHAND   libssh 0.10.6 implements it as a server (src/kex.c,
 *            supported_methods[] as Debian builds it: OpenSSL, no DSA,
 *            no "none") and sshand can use it;
 *   OPENSSH  OpenSSH 9.2 knows it (`ssh -Q cipher`, `mac`, `kex`,
 *            `key-sig`).
 * A name OpenSSH knows and sshand cannot use is dropped from a list with
 * a notice, so that an sshd_config hardened for OpenSSH still loads; a
 * name nobody knows is a typo and refused.  libssh's list is what the
 * network child may pass to it: nothing else reaches libssh. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/algorithms.h"
#include "policy/match.h"

#define OPENSSH 1u
#define SSHAND 2u
#define BOTH (OPENSSH | SSHAND)

struct algo {
	const char *name;
	unsigned who;
};

/* `ssh -Q kex`; libssh's KEY_EXCHANGE_SUPPORTED.  Group exchange is in
 * libssh, but it reads /etc/ssh/moduli at each exchange, which the
 * network child's chroot hides: not usable here. */
static const struct algo kex[] = {
	{ "diffie-hellman-group1-sha1", BOTH },
	{ "diffie-hellman-group14-sha1", BOTH },
	{ "diffie-hellman-group14-sha256", BOTH },
	{ "diffie-hellman-group16-sha512", BOTH },
	{ "diffie-hellman-group18-sha512", BOTH },
	{ "diffie-hellman-group-exchange-sha1", OPENSSH },
	{ "diffie-hellman-group-exchange-sha256", OPENSSH },
	{ "ecdh-sha2-nistp256", BOTH },
	{ "ecdh-sha2-nistp384", BOTH },
	{ "ecdh-sha2-nistp521", BOTH },
	{ "curve25519-sha256", BOTH },
	{ "curve25519-sha256@libssh.org", BOTH },
	{ "sntrup761x25519-sha512", OPENSSH },
	{ "sntrup761x25519-sha512@openssh.com", OPENSSH },
	{ NULL, 0 },
};

/* `ssh -Q cipher`; libssh's CHACHA20 AES AES_CBC DES_SUPPORTED. */
static const struct algo ciphers[] = {
	{ "3des-cbc", BOTH },
	{ "aes128-cbc", BOTH },
	{ "aes192-cbc", BOTH },
	{ "aes256-cbc", BOTH },
	{ "aes128-ctr", BOTH },
	{ "aes192-ctr", BOTH },
	{ "aes256-ctr", BOTH },
	{ "aes128-gcm@openssh.com", BOTH },
	{ "aes256-gcm@openssh.com", BOTH },
	{ "chacha20-poly1305@openssh.com", BOTH },
	{ NULL, 0 },
};

/* `ssh -Q mac`; libssh's MAC list (SHA-1 and SHA-2 HMACs, no UMAC, no
 * MD5, no truncated -96 variants). */
static const struct algo macs[] = {
	{ "hmac-sha1", BOTH },
	{ "hmac-sha1-96", OPENSSH },
	{ "hmac-sha2-256", BOTH },
	{ "hmac-sha2-512", BOTH },
	{ "hmac-md5", OPENSSH },
	{ "hmac-md5-96", OPENSSH },
	{ "umac-64@openssh.com", OPENSSH },
	{ "umac-128@openssh.com", OPENSSH },
	{ "hmac-sha1-etm@openssh.com", BOTH },
	{ "hmac-sha1-96-etm@openssh.com", OPENSSH },
	{ "hmac-sha2-256-etm@openssh.com", BOTH },
	{ "hmac-sha2-512-etm@openssh.com", BOTH },
	{ "hmac-md5-etm@openssh.com", OPENSSH },
	{ "hmac-md5-96-etm@openssh.com", OPENSSH },
	{ "umac-64-etm@openssh.com", OPENSSH },
	{ "umac-128-etm@openssh.com", OPENSSH },
	{ NULL, 0 },
};

/* Signature algorithms, for HostKeyAlgorithms and PubkeyAcceptedAlgorithms:
 * `ssh -Q key-sig`; libssh's PUBLIC_KEY_ALGORITHMS (no DSA).  libssh knows
 * certificates and security keys; the monitor still refuses those keys
 * (handler/monitor/sigcheck.c). */
static const struct algo sigs[] = {
	{ "ssh-ed25519", BOTH },
	{ "ssh-ed25519-cert-v01@openssh.com", BOTH },
	{ "sk-ssh-ed25519@openssh.com", BOTH },
	{ "sk-ssh-ed25519-cert-v01@openssh.com", BOTH },
	{ "ecdsa-sha2-nistp256", BOTH },
	{ "ecdsa-sha2-nistp256-cert-v01@openssh.com", BOTH },
	{ "ecdsa-sha2-nistp384", BOTH },
	{ "ecdsa-sha2-nistp384-cert-v01@openssh.com", BOTH },
	{ "ecdsa-sha2-nistp521", BOTH },
	{ "ecdsa-sha2-nistp521-cert-v01@openssh.com", BOTH },
	{ "sk-ecdsa-sha2-nistp256@openssh.com", BOTH },
	{ "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com", BOTH },
	{ "webauthn-sk-ecdsa-sha2-nistp256@openssh.com", OPENSSH },
	{ "ssh-dss", OPENSSH },
	{ "ssh-dss-cert-v01@openssh.com", OPENSSH },
	{ "ssh-rsa", BOTH },
	{ "ssh-rsa-cert-v01@openssh.com", BOTH },
	{ "rsa-sha2-256", BOTH },
	{ "rsa-sha2-256-cert-v01@openssh.com", BOTH },
	{ "rsa-sha2-512", BOTH },
	{ "rsa-sha2-512-cert-v01@openssh.com", BOTH },
	{ NULL, 0 },
};

static const struct kind {
	const char *keyword;
	const struct algo *names;
	bool patterns;		/* '*' and '?' anywhere, not only in a '-' list */
	const char *dflt;
} kinds[ALGO_KINDS] = {
	/* libssh's default without group exchange (see kex[]). */
	[ALGO_KEX] = { "KexAlgorithms", kex, false,
	    "curve25519-sha256,curve25519-sha256@libssh.org,"
	    "ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,"
	    "diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,"
	    "diffie-hellman-group14-sha256" },
	/* libssh's defaults (src/kex.c default_methods[]). */
	[ALGO_CIPHER] = { "Ciphers", ciphers, false,
	    "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,"
	    "aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr" },
	[ALGO_MAC] = { "MACs", macs, false,
	    "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"
	    "hmac-sha2-256,hmac-sha2-512" },
	/* The kinds of key the key holder serves, SHA-1 RSA left out as
	 * OpenSSH 9 leaves it out. */
	[ALGO_HOSTKEY] = { "HostKeyAlgorithms", sigs, true,
	    "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"
	    "ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256" },
	/* OpenSSH 9.2's default (KEX_DEFAULT_PK_ALG): no ssh-rsa, i.e. no
	 * RSA signature over SHA-1. */
	[ALGO_PUBKEY] = { "PubkeyAcceptedAlgorithms", sigs, true,
	    "ssh-ed25519-cert-v01@openssh.com,"
	    "ecdsa-sha2-nistp256-cert-v01@openssh.com,"
	    "ecdsa-sha2-nistp384-cert-v01@openssh.com,"
	    "ecdsa-sha2-nistp521-cert-v01@openssh.com,"
	    "sk-ssh-ed25519-cert-v01@openssh.com,"
	    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,"
	    "rsa-sha2-512-cert-v01@openssh.com,"
	    "rsa-sha2-256-cert-v01@openssh.com,"
	    "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"
	    "ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,"
	    "sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256" },
	/* OpenSSH 8.2's SSH_ALLOWED_CA_SIGALGS: no ssh-rsa (SHA-1). */
	[ALGO_CASIG] = { "CASignatureAlgorithms", sigs, true,
	    "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"
	    "ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,"
	    "sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256" },
};

const char *
algo_default(enum algo_kind kind)
{
	return (unsigned)kind < ALGO_KINDS ? kinds[kind].dflt : NULL;
}

bool
algo_list_has(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p != NULL && *p != '\0';) {
		size_t len = strcspn(p, ",");

		if (len == n && memcmp(p, name, n) == 0)
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}

/* The names chosen so far, as indexes into the kind's table, each once. */
#define NAMES_MAX 64
_Static_assert(sizeof(sigs) / sizeof(sigs[0]) <= NAMES_MAX, "table fits");
struct picked {
	bool in[NAMES_MAX];
	unsigned order[NAMES_MAX];
	size_t n;
};

static void
pick(struct picked *pk, unsigned i)
{
	if (!pk->in[i]) {
		pk->in[i] = true;
		pk->order[pk->n++] = i;
	}
}

/* "<what> \"name\" for \"Keyword\"<tail>", the name as written,
 * bounded and printable. */
static int
failed(char *why, size_t whylen, const char *what, const char *name,
    const char *kw, const char *tail)
{
	char shown[72];
	size_t i;

	for (i = 0; name[i] != '\0' && i < 64; i++)
		shown[i] = (name[i] >= 0x20 && name[i] < 0x7f) ? name[i] : '?';
	shown[i] = '\0';
	snprintf(why, whylen, "%s \"%s%s\" for \"%s\"%s", what, shown,
	    name[i] != '\0' ? "..." : "", kw, tail);
	return -EINVAL;
}

/* Adds each name (or pattern's matches) of the comma list to pk: with
 * remove, takes them out instead. */
static int
apply(const struct kind *k, const char *list, bool remove, struct picked *pk,
    char *why, size_t whylen)
{
	char item[128];

	for (const char *p = list; *p != '\0';) {
		size_t len = strcspn(p, ",");
		bool pattern;
		int i, hits = 0;

		if (len == 0 || len >= sizeof(item))
			return failed(why, whylen, "bad algorithm list", list,
			    k->keyword, "");
		memcpy(item, p, len);
		item[len] = '\0';
		p += len + (p[len] == ',');
		pattern = strpbrk(item, "*?") != NULL;
		if (pattern && !remove && !k->patterns)
			return failed(why, whylen, "bad algorithm", item, k->keyword,
			    " (patterns only in a '-' list)");
		for (i = 0; k->names[i].name != NULL; i++) {
			if (pattern ? !match_pattern(k->names[i].name, item) :
			    strcmp(k->names[i].name, item) != 0)
				continue;
			hits++;
			if (!remove)
				pick(pk, (unsigned)i);
			else if (pk->in[i]) {
				size_t j, o = 0;

				pk->in[i] = false;
				for (j = 0; j < pk->n; j++)
					if (pk->order[j] != (unsigned)i)
						pk->order[o++] = pk->order[j];
				pk->n = o;
			}
		}
		if (hits == 0)
			return failed(why, whylen, pattern ? "algorithm pattern" :
			    "unknown algorithm", item, k->keyword, pattern ?
			    " matches no algorithm" : "");
	}
	return 0;
}

static int
append(char *buf, size_t cap, size_t *len, const char *name)
{
	size_t n = strlen(name) + (*len > 0);

	if (*len + n >= cap)
		return -E2BIG;
	snprintf(buf + *len, cap - *len, "%s%s", *len > 0 ? "," : "", name);
	*len += n;
	return 0;
}

int
algo_list_expand(enum algo_kind kind, const char *spec, char *out,
    size_t outlen, char *dropped, size_t droplen, char *why, size_t whylen)
{
	const struct kind *k;
	struct picked pk = { 0 };
	size_t olen = 0, dlen = 0;
	int r;

	if ((unsigned)kind >= ALGO_KINDS || spec == NULL || outlen == 0 ||
	    droplen == 0)
		return -EINVAL;
	k = &kinds[kind];
	out[0] = dropped[0] = '\0';
	switch (spec[0]) {
	case '+':	/* the default, then these */
		r = apply(k, k->dflt, false, &pk, why, whylen);
		if (r == 0)
			r = apply(k, spec + 1, false, &pk, why, whylen);
		break;
	case '-':	/* the default without these */
		r = apply(k, k->dflt, false, &pk, why, whylen);
		if (r == 0)
			r = apply(k, spec + 1, true, &pk, why, whylen);
		break;
	case '^':	/* these, then the rest of the default */
		r = apply(k, spec + 1, false, &pk, why, whylen);
		if (r == 0)
			r = apply(k, k->dflt, false, &pk, why, whylen);
		break;
	default:
		r = apply(k, spec, false, &pk, why, whylen);
		break;
	}
	if (r < 0)
		return r;
	for (size_t j = 0; j < pk.n && r == 0; j++) {
		const struct algo *a = &k->names[pk.order[j]];

		if (a->who & SSHAND)
			r = append(out, outlen, &olen, a->name);
		else
			r = append(dropped, droplen, &dlen, a->name);
	}
	if (r < 0)
		return r;
	if (olen == 0) {
		snprintf(why, whylen, "no algorithm left for \"%s\" that this "
		    "server supports", k->keyword);
		return -EINVAL;
	}
	return 0;
}
