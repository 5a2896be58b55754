/* OpenSSH certificates: see cert.h.  The layout is PROTOCOL.certkeys':
 *
 *	string	type ("ssh-ed25519-cert-v01@openssh.com"...)
 *	string	nonce
 *	...	the key's own fields, as in its plain blob
 *	uint64	serial
 *	uint32	type (1 user, 2 host)
 *	string	key id
 *	string	valid principals (strings)
 *	uint64	valid after, uint64 valid before
 *	string	critical options, string extensions (pairs of strings)
 *	string	reserved
 *	string	signature key
 *	string	signature (over everything before it)
 *
 * Parsed strictly: every string within its bound, nothing left over. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handler/monitor/auth.h"
#include "handler/monitor/cert.h"
#include "handler/monitor/sigcheck.h"
#include "policy/match.h"
#include "policy/util/sshwire.h"

#define CERT_SUFFIX "-cert-v01@openssh.com"
#define MAX_TYPE 64
#define MAX_NONCE 256
#define MAX_OPTIONS 64
#define MAX_OPTION_NAME 256	/* a CA may add extensions of its own */

static const struct certtype {
	const char *type;
	const char *plain;
	const char *label;
	unsigned fields;	/* strings of the key's own */
} certtypes[] = {
	{ "ssh-ed25519-cert-v01@openssh.com", "ssh-ed25519", "ED25519-CERT", 1 },
	{ "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp256", "ECDSA-CERT", 2 },
	{ "ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp384", "ECDSA-CERT", 2 },
	{ "ecdsa-sha2-nistp521-cert-v01@openssh.com", "ecdsa-sha2-nistp521", "ECDSA-CERT", 2 },
	{ "ssh-rsa-cert-v01@openssh.com", "ssh-rsa", "RSA-CERT", 2 },
};

static bool
str_eq(const uint8_t *s, size_t len, const char *lit)
{
	return s != NULL && strlen(lit) == len && memcmp(s, lit, len) == 0;
}

bool
cert_is_cert(const uint8_t *blob, size_t len)
{
	struct wire_reader r = wire_reader(blob, len);
	const uint8_t *name;
	size_t n = 0, sl = strlen(CERT_SUFFIX);

	name = wire_get_string(&r, MAX_TYPE, &n);
	return name != NULL && n > sl && memcmp(name + n - sl, CERT_SUFFIX, sl) == 0;
}

void
cert_free(struct cert *c)
{
	if (c == NULL)
		return;
	free(c->key_id);
	for (size_t i = 0; i < c->n_principals; i++)
		free(c->principals[i]);
	free(c->force_command);
	free(c->source_address);
	memset(c, 0, sizeof(*c));
}

/* A string that must hold no NUL, copied with one. */
static int
dup_string(const uint8_t *s, size_t n, char **ret)
{
	if (s == NULL || memchr(s, '\0', n) != NULL)
		return -EBADMSG;
	if ((*ret = strndup((const char *)s, n)) == NULL)
		return -ENOMEM;
	return 0;
}

static int
parse_principals(struct cert *c, const uint8_t *p, size_t len, const char **why)
{
	struct wire_reader r = wire_reader(p, len);
	int rc;

	while (r.left > 0) {
		const uint8_t *s;
		size_t n = 0;

		if (c->n_principals == CERT_MAX_PRINCIPALS) {
			*why = "too many principals";
			return -EBADMSG;
		}
		s = wire_get_string(&r, CERT_MAX_PRINCIPAL, &n);
		rc = dup_string(s, n, &c->principals[c->n_principals]);
		if (rc < 0) {
			*why = "principals malformed";
			return rc;
		}
		c->n_principals++;
	}
	return 0;
}

/* A critical option's value: one string, nothing else. */
static int
option_value(const uint8_t *d, size_t dlen, char **ret)
{
	struct wire_reader r = wire_reader(d, dlen);
	const uint8_t *v;
	size_t n = 0;

	if (*ret != NULL)
		return -EBADMSG;	/* given twice */
	v = wire_get_string(&r, CERT_MAX_OPTION, &n);
	if (v == NULL || !wire_done(&r))
		return -EBADMSG;
	return dup_string(v, n, ret);
}

/* Critical options (critical) or extensions: pairs of (name, data).  An
 * unknown critical option is noted, and refuses the certificate at
 * cert_check, as sshd does; an unknown extension is ignored. */
static int
parse_options(struct cert *c, const uint8_t *p, size_t len, bool critical,
    const char **why)
{
	static const struct {
		const char *name;
		size_t field;
	} flags[] = {
		{ "permit-pty", offsetof(struct cert, permit_pty) },
		{ "permit-port-forwarding", offsetof(struct cert, permit_port_forwarding) },
		{ "permit-agent-forwarding", offsetof(struct cert, permit_agent_forwarding) },
		{ "permit-X11-forwarding", offsetof(struct cert, permit_x11_forwarding) },
		{ "permit-user-rc", offsetof(struct cert, permit_user_rc) },
	};
	struct wire_reader r = wire_reader(p, len);
	const uint8_t *last = NULL;
	size_t last_len = 0;
	int rc = 0;

	for (unsigned i = 0; r.left > 0; i++) {
		const uint8_t *name, *data;
		size_t n = 0, dn = 0;

		name = wire_get_string(&r, MAX_OPTION_NAME, &n);
		data = wire_get_string(&r, CERT_MAX_OPTION + 4, &dn);
		if (name == NULL || data == NULL || i == MAX_OPTIONS)
			goto bad;
		/* Each name once: a second would be read by one parser
		 * and not another. */
		if (last != NULL && last_len == n && memcmp(last, name, n) == 0)
			goto bad;
		last = name;
		last_len = n;
		if (critical && str_eq(name, n, "force-command"))
			rc = option_value(data, dn, &c->force_command);
		else if (critical && str_eq(name, n, "source-address"))
			rc = option_value(data, dn, &c->source_address);
		else if (critical) {
			c->unknown_critical = true;
			continue;
		} else {
			for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]); k++)
				if (str_eq(name, n, flags[k].name)) {
					if (dn != 0)
						goto bad;
					*(bool *)((char *)c + flags[k].field) = true;
				}
			continue;
		}
		if (rc == -ENOMEM)
			return rc;
		if (rc < 0)
			goto bad;
	}
	return 0;
bad:
	*why = critical ? "critical options malformed" : "extensions malformed";
	return -EBADMSG;
}

/* The key's own fields, written after its plain type name: the plain
 * blob that the user's signature is checked with. */
static int
plain_key(struct cert *c, const struct certtype *ct, struct wire_reader *r,
    const char **why)
{
	const uint8_t *start = r->p;
	size_t n, fields, tl = strlen(ct->plain);

	for (unsigned i = 0; i < ct->fields; i++)
		(void)wire_get_string(r, PS_MAX_BLOB, &n);
	fields = (size_t)(r->p - start);
	if (r->bad || 4 + tl + fields > sizeof(c->key)) {
		*why = "certified key malformed";
		return -EBADMSG;
	}
	c->key[0] = (uint8_t)(tl >> 24);
	c->key[1] = (uint8_t)(tl >> 16);
	c->key[2] = (uint8_t)(tl >> 8);
	c->key[3] = (uint8_t)tl;
	memcpy(c->key + 4, ct->plain, tl);
	memcpy(c->key + 4 + tl, start, fields);
	c->key_len = 4 + tl + fields;
	return 0;
}

int
cert_parse(const uint8_t *blob, size_t len, struct cert *c, const char **why)
{
	struct wire_reader r = wire_reader(blob, len);
	const struct certtype *ct = NULL;
	const uint8_t *name, *kid, *prin, *crit, *ext, *sigstart;
	size_t n = 0, kn = 0, pn = 0, cn = 0, en = 0;
	int rc;

	memset(c, 0, sizeof(*c));
	name = wire_get_string(&r, MAX_TYPE, &n);
	for (size_t i = 0; name != NULL && i < sizeof(certtypes) / sizeof(certtypes[0]); i++)
		if (str_eq(name, n, certtypes[i].type))
			ct = &certtypes[i];
	if (ct == NULL) {
		*why = cert_is_cert(blob, len) ? "certificates of this key "
		    "type are not supported" : "not a certificate";
		return -EOPNOTSUPP;
	}
	c->type = ct->type;
	c->label = ct->label;
	(void)wire_get_string(&r, MAX_NONCE, &n);	/* nonce */
	if ((rc = plain_key(c, ct, &r, why)) < 0)
		return rc;
	c->serial = wire_get_u64(&r);
	c->cert_type = wire_get_u32(&r);
	kid = wire_get_string(&r, CERT_MAX_KEYID, &kn);
	prin = wire_get_string(&r, PS_MAX_BLOB, &pn);
	c->valid_after = wire_get_u64(&r);
	c->valid_before = wire_get_u64(&r);
	crit = wire_get_string(&r, PS_MAX_BLOB, &cn);
	ext = wire_get_string(&r, PS_MAX_BLOB, &en);
	(void)wire_get_string(&r, PS_MAX_BLOB, &n);	/* reserved */
	c->ca = wire_get_string(&r, PS_MAX_BLOB, &c->ca_len);
	sigstart = r.p;
	c->signature = wire_get_string(&r, PS_MAX_SIG + 128, &c->signature_len);
	if (r.bad || !wire_done(&r)) {
		*why = r.bad ? "certificate truncated or over its bounds" :
		    "certificate has trailing bytes";
		return -EBADMSG;
	}
	c->signed_part = blob;
	c->signed_len = (size_t)(sigstart - blob);
	if ((rc = dup_string(kid, kn, &c->key_id)) < 0) {
		*why = "key id malformed";
		return rc;
	}
	if ((rc = parse_principals(c, prin, pn, why)) < 0 ||
	    (rc = parse_options(c, crit, cn, true, why)) < 0 ||
	    (rc = parse_options(c, ext, en, false, why)) < 0)
		return rc;
	/* A CA key that is a certificate itself: refused, as OpenSSH does
	 * (no chains). */
	if (cert_is_cert(c->ca, c->ca_len)) {
		*why = "the CA key is a certificate";
		return -EBADMSG;
	}
	return 0;
}

int
cert_verify_ca(const struct cert *c, const char *allowed, const char **why)
{
	return sigcheck_verify_blob(c->ca, c->ca_len, c->signature,
	    c->signature_len, c->signed_part, c->signed_len, allowed, why);
}

bool
cert_has_principal(const struct cert *c, const char *name)
{
	for (size_t i = 0; i < c->n_principals; i++)
		if (strcmp(c->principals[i], name) == 0)
			return true;
	return false;
}

/* source-address: CIDRs only, no patterns or negation (sshd's
 * addr_match_cidr_list); a malformed list matches nothing. */
static bool
source_allowed(const char *list, const char *addr)
{
	struct netaddr a, net;
	char item[64];
	unsigned bits;

	if (addr == NULL || netaddr_parse(addr, &a) < 0)
		return false;
	for (const char *p = list; *p != '\0';) {
		size_t n = strcspn(p, ",");

		if (n == 0 || n >= sizeof(item))
			return false;
		memcpy(item, p, n);
		item[n] = '\0';
		if (cidr_parse(item, &net, &bits) < 0)
			return false;
		if (cidr_contains(&net, bits, &a))
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

int
cert_check(const struct cert *c, const char *user, int64_t now,
    const char *addr, const char **why)
{
	if (c->cert_type != CERT_TYPE_USER)
		*why = "not a user certificate";
	else if (now < 0 || (uint64_t)now < c->valid_after)
		*why = "certificate not yet valid";
	else if ((uint64_t)now >= c->valid_before)
		*why = "certificate expired";
	else if (c->n_principals == 0)
		*why = "certificate lacks principal list";
	else if (user != NULL && !cert_has_principal(c, user))
		*why = "user name is not a principal of the certificate";
	else if (c->unknown_critical)
		*why = "certificate has an unsupported critical option";
	else if (c->source_address != NULL && !source_allowed(c->source_address, addr))
		*why = "source-address of the certificate does not allow the "
		    "client's address";
	else
		return 0;
	return -EACCES;
}

int
cert_restrict(const struct cert *c, struct authkey_opts *o, const char **why)
{
	o->no_pty |= !c->permit_pty;
	o->no_port_forwarding |= !c->permit_port_forwarding;
	o->no_agent_forwarding |= !c->permit_agent_forwarding;
	o->no_x11_forwarding |= !c->permit_x11_forwarding;
	o->no_user_rc |= !c->permit_user_rc;
	if (c->force_command == NULL)
		return 0;
	if (o->command != NULL && strcmp(o->command, c->force_command) != 0) {
		*why = "certificate and authorized_keys line both force a command";
		return -EACCES;
	}
	if (o->command == NULL && (o->command = strdup(c->force_command)) == NULL)
		return -ENOMEM;
	return 0;
}

void
cert_describe(const struct cert *c, char *buf, size_t len)
{
	char id[128], fp[128];
	size_t i;

	for (i = 0; c->key_id != NULL && c->key_id[i] != '\0' && i + 1 < sizeof(id); i++)
		id[i] = c->key_id[i] >= 0x20 && c->key_id[i] < 0x7f ?
		    c->key_id[i] : '?';
	id[i] = '\0';
	pubkey_fingerprint(c->ca, c->ca_len, fp, sizeof(fp));
	snprintf(buf, len, "ID %s (serial %llu) CA %s %s", id,
	    (unsigned long long)c->serial, sigcheck_key_label(c->ca, c->ca_len), fp);
}
