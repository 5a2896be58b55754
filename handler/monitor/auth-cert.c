/* A user certificate in the publickey method: is it signed by a CA this
 * user may log in with, unrevoked, valid now and for this user?  sshd's
 * order (auth2-pubkey.c user_key_allowed): TrustedUserCAKeys with its
 * principals (the user's name, or AuthorizedPrincipalsFile/Command), then
 * cert-authority lines of authorized_keys and AuthorizedKeysCommand. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "handler/front/log.h"
#include "handler/monitor/auth-internal.h"
#include "handler/monitor/keylist.h"
#include "handler/monitor/principals.h"
#include "policy/algorithms.h"

/* RevokedKeys lists the certified key or the CA (as sshd's
 * auth_key_is_revoked checks both); an unreadable list revokes all. */
int
cert_revoked(const struct settings *s, const uint8_t *blob, size_t len,
    char *why, size_t whylen)
{
	int r;

	if (s->revoked_keys == NULL)
		return 0;
	r = keylist_check(s->revoked_keys, blob, len, true, why, whylen);
	if (r < 0)
		log_error("RevokedKeys: %s: refusing every key", why);
	return r != 0;
}

/* Is one of the certificate's principals in the comma list (exactly)? */
static bool
principal_in(const struct cert *c, const char *list)
{
	for (const char *p = list; *p != '\0';) {
		size_t n = strcspn(p, ",");

		for (size_t i = 0; i < c->n_principals; i++)
			if (strlen(c->principals[i]) == n &&
			    memcmp(c->principals[i], p, n) == 0)
				return true;
		p += n + (p[n] == ',');
	}
	return false;
}

/* The CA in TrustedUserCAKeys: 1 authorised (*ret), 0 not. */
static int
via_trusted_ca(const struct user_info *u, const struct settings *s,
    const struct cert *c, const uint8_t *blob, size_t len,
    const struct audit_conn *conn, struct authkey_opts *ret, char *why,
    size_t whylen)
{
	const char *w = NULL;
	bool listed = s->authorized_principals_file != NULL ||
	    s->authorized_principals_command != NULL;
	int r;

	r = keylist_check(s->trusted_user_ca_keys, c->ca, c->ca_len, false, why,
	    whylen);
	if (r < 0)
		log_error("TrustedUserCAKeys: %s", why);
	if (r != 1) {
		if (r == 0)
			snprintf(why, whylen, "CA not in TrustedUserCAKeys");
		return 0;
	}
	if (listed && (r = principals_authorized(u, s, c, blob, len, conn, ret,
	    why, whylen)) != 1)
		return r < 0 ? r : 0;
	if (cert_check(c, listed ? NULL : u->name, time(NULL),
	    conn->remote_addr, &w) < 0 || cert_restrict(c, ret, &w) < 0) {
		snprintf(why, whylen, "%s", w);
		authkey_opts_clear(ret);
		return 0;
	}
	return 1;
}

/* The CA in a cert-authority line: 1 authorised (*ret), 0 not. */
static int
via_authorized_keys(const struct user_info *u, const struct settings *s,
    const struct cert *c, const uint8_t *blob, size_t len,
    const struct audit_conn *conn, struct authkey_opts *ret, char *why,
    size_t whylen)
{
	const char *w = NULL;
	int r;

	r = pubkey_authorized(u, s, &(struct authkey_query){ .blob = c->ca,
	    .blob_len = c->ca_len, .cert_authority = true, .sent = blob,
	    .sent_len = len, .sent_key = c->key, .sent_key_len = c->key_len },
	    conn, ret, why, whylen);
	if (r != 1)
		return r < 0 ? r : 0;
	/* principals=: one of the certificate's must be listed; without
	 * it, the user's name must be one of the certificate's. */
	if (ret->principals != NULL && !principal_in(c, ret->principals))
		w = "no principal of the certificate is in principals=";
	else if (cert_check(c, ret->principals != NULL ? NULL : u->name,
	    time(NULL), conn->remote_addr, &w) == 0 && cert_restrict(c, ret, &w) == 0)
		return 1;
	snprintf(why, whylen, "cert-authority line %u: %s", ret->line, w);
	authkey_opts_clear(ret);
	return 0;
}

int
cert_authorized(const struct user_info *u, const struct settings *s,
    const struct cert *c, const uint8_t *blob, size_t len,
    const struct audit_conn *conn, struct authkey_opts *ret, char *why,
    size_t whylen)
{
	const char *w = NULL;
	char first[256] = "";
	int r;

	if (cert_verify_ca(c, algo_effective(ALGO_CASIG, s->ca_signature_algorithms),
	    &w) < 0) {
		snprintf(why, whylen, "certificate signature invalid: %s", w);
		return 0;
	}
	if (cert_revoked(s, c->key, c->key_len, why, whylen) ||
	    cert_revoked(s, c->ca, c->ca_len, why, whylen))
		return 0;
	if (s->trusted_user_ca_keys != NULL) {
		r = via_trusted_ca(u, s, c, blob, len, conn, ret, first,
		    sizeof(first));
		if (r != 0)
			return r;
	}
	r = via_authorized_keys(u, s, c, blob, len, conn, ret, why, whylen);
	/* A trusted CA's refusal says more than "not in authorized_keys". */
	if (r == 0 && first[0]) {
		char second[256];

		snprintf(second, sizeof(second), "%s", why);
		if (strstr(first, "not in TrustedUserCAKeys") != NULL)
			snprintf(why, whylen, "%s; authorized_keys: %s", first,
			    second);
		else
			snprintf(why, whylen, "%s", first);
	}
	return r;
}
