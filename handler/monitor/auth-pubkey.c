/* The publickey method in the monitor: the probe and the signed request,
 * the signature checked here against the session id, AuthenticationMethods'
 * rules for keys, and the key's options kept for the session. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handler/front/log.h"
#include "handler/monitor/answers.h"
#include "handler/monitor/auth-internal.h"
#include "handler/monitor/cert.h"
#include "handler/monitor/monitor.h"
#include "handler/monitor/sigcheck.h"
#include "policy/algorithms.h"
#include "policy/match.h"

/* A signed request's signature, checked here against the session id and
 * the request (sigcheck.c): the network child's word that libssh found it
 * valid is worth nothing.  A refusal is logged as sshd logs it. */
static bool
signature_valid(struct monitor *m, const struct ps_auth_pubkey *r,
    const struct settings *s, const struct cert *cert)
{
	const struct audit_conn *c = m->h->audit;
	const char *why = NULL;
	int rc;

	rc = sigcheck_verify(&(struct sigcheck_request){
	    .session_id = m->session_id, .session_id_len = m->session_id_len,
	    .user = r->user, .blob = r->blob, .blob_len = r->blob_len,
	    .key_blob = cert != NULL ? cert->key : NULL,
	    .key_blob_len = cert != NULL ? cert->key_len : 0,
	    .signed_data = r->signed_data, .signed_data_len = r->signed_data_len,
	    .signature = r->signature, .signature_len = r->signature_len,
	    .accepted = algo_effective(ALGO_PUBKEY, s->pubkey_accepted_algorithms) },
	    &why);
	phase("pubkey-verified", m->h->start_usec);
	if (rc == 0)
		return true;
	log_info("publickey signature for %s refused by the monitor: %s", r->user, why);
	log_info("Failed publickey for %s from %s port %u ssh2: %s %s", r->user,
	    c->remote_addr, c->remote_port, sigcheck_key_label(r->blob, r->blob_len),
	    m->fingerprint);
	return false;
}

/* Did this key already succeed in this login (publickey,publickey)?
 * As sshd, a key counts once. */
static bool
am_key_used(const struct monitor *m)
{
	for (unsigned i = 0; i < m->am_n_keys; i++)
		if (strcmp(m->am_keys[i], m->fingerprint) == 0)
			return true;
	return false;
}

/* Does the key's line restrict the session (from= and expiry-time= were
 * checked when it matched)? */
static bool
opts_restrict(const struct authkey_opts *o)
{
	return o->no_pty || o->no_port_forwarding || o->no_agent_forwarding ||
	    o->no_x11_forwarding || o->no_user_rc || o->command != NULL ||
	    o->n_environment > 0 || o->n_permitopen > 0 || o->n_permitlisten > 0;
}

/* Why the key cannot be used at all, before any file is read: a type
 * the monitor cannot check, an algorithm the user's settings exclude, an
 * RSA key too small.  NULL if none; *ret_unsupported for a type. */
static bool
key_refused(const struct ps_auth_pubkey *r, const struct cert *c, bool cert_bad,
    const char *cert_why, bool known, const struct settings *s,
    const char **ret_unsupported, char *why, size_t whylen)
{
	const char *label = sigcheck_key_label(r->blob, r->blob_len);
	const char *accepted = algo_effective(ALGO_PUBKEY, s->pubkey_accepted_algorithms);
	const uint8_t *key = c != NULL ? c->key : r->blob;
	size_t key_len = c != NULL ? c->key_len : r->blob_len;
	int rsa_bits = sigcheck_rsa_bits(key, key_len);

	/* A key whose signatures the monitor cannot check (a security key, a
	 * malformed certificate) is refused at the probe already. */
	if (cert_bad)
		*ret_unsupported = cert_why;
	else if (c == NULL)
		(void)sigcheck_key_supported(r->blob, r->blob_len, ret_unsupported);
	if (*ret_unsupported != NULL) {
		snprintf(why, whylen, "%s key: %s", label, *ret_unsupported);
		return true;
	}
	/* Nor a key that no algorithm of the user's PubkeyAcceptedAlgorithms
	 * signs with (an RSA key when ssh-rsa is all RSA allowed and it is
	 * not): refused at the probe, as sshd refuses it. */
	if (known && (c != NULL ? sigcheck_cert_accepted(key, key_len, accepted) :
	    sigcheck_key_accepted(key, key_len, accepted)) < 0) {
		snprintf(why, whylen, "%s key: no algorithm of "
		    "PubkeyAcceptedAlgorithms signs with it", label);
		return true;
	}
	/* A key smaller than the user's RequiredRSASize, as sshd refuses it. */
	if (known && rsa_bits > 0 && rsa_bits < (int)s->required_rsa_size) {
		snprintf(why, whylen, "RSA key of %d bits: RequiredRSASize is "
		    "%u", rsa_bits, s->required_rsa_size);
		return true;
	}
	return false;
}

/* Is the key (a plain one, or a certificate) authorised for u?  As
 * pubkey_authorized; a certificate also fills m->cert_desc. */
static int
key_authorized(struct monitor *m, const struct user_info *u,
    const struct settings *s, const struct ps_auth_pubkey *r,
    const struct cert *c, struct authkey_opts *opts, char *why, size_t whylen)
{
	if (c != NULL) {
		int found = cert_authorized(u, s, c, r->blob, r->blob_len,
		    m->h->audit, opts, why, whylen);

		if (found == 1) {
			cert_describe(c, m->cert_desc, sizeof(m->cert_desc));
			m->cert_label = c->label;
		}
		return found;
	}
	if (cert_revoked(s, r->blob, r->blob_len, why, whylen))
		return 0;
	return pubkey_authorized(u, s, &(struct authkey_query){ .blob = r->blob,
	    .blob_len = r->blob_len }, m->h->audit, opts, why, whylen);
}

void
answer_auth_pubkey(struct monitor *m, const struct ps_auth_pubkey *r)
{
	struct user_info u = { 0 };
	struct authkey_opts opts = { 0 };
	struct settings *s;
	struct cert *c = NULL;
	const char *unsupported = NULL, *denied, *am_why = NULL, *cert_why = NULL;
	char why[256] = "";
	uint64_t start = now_usec();
	bool known, cert_bad = false;
	int found = 0;

	/* The probe has no signature; a child that sends one with it does
	 * not follow the protocol. */
	if (!r->is_signed && (r->signed_data_len > 0 || r->signature_len > 0))
		monitor_violation(m, "auth_pubkey probe carries a signature");
	ban_gate(m);
	phase(r->is_signed ? "pubkey-signed" : "pubkey-probe", m->h->start_usec);
	known = user_for(m, r->user, &u, &s);
	m->cert_desc[0] = '\0';
	if (cert_is_cert(r->blob, r->blob_len)) {
		if ((c = malloc(sizeof(*c))) == NULL)
			monitor_finish(m, EXIT_INTERNAL, "server-error");
		if (cert_parse(r->blob, r->blob_len, c, &cert_why) < 0) {
			cert_free(c);
			free(c);
			c = NULL;
			cert_bad = true;
		}
	}
	/* A certificate is known by its key's fingerprint, as sshd logs it. */
	if (c != NULL)
		pubkey_fingerprint(c->key, c->key_len, m->fingerprint,
		    sizeof(m->fingerprint));
	else
		pubkey_fingerprint(r->blob, r->blob_len, m->fingerprint,
		    sizeof(m->fingerprint));
	if (key_refused(r, c, cert_bad, cert_why, known, s, &unsupported, why,
	    sizeof(why)))
		;
	/* AuthenticationMethods: not a key now, or this key again. */
	else if (known && s->pubkey_authentication &&
	    !am_allows(m, s, AM_PUBLICKEY)) {
		am_why = "method-not-allowed";
		snprintf(why, sizeof(why), "not allowed now by AuthenticationMethods");
	} else if (known && s->pubkey_authentication && am_key_used(m)) {
		am_why = "key-reused";
		snprintf(why, sizeof(why), "this key already succeeded in this login");
	} else if (known && s->pubkey_authentication && u.denied == NULL)
		found = key_authorized(m, &u, s, r, c, &opts, why, sizeof(why));
	phase("pubkey-checked", m->h->start_usec);
	if (found == 1 && !root_allowed(s, &u, true, opts.command != NULL)) {
		found = 0;
		authkey_opts_clear(&opts);
		snprintf(why, sizeof(why), "root login refused");
	}
	if (found == 1 && !r->is_signed) {
		/* The probe: tell the client this key may be used. */
		authkey_opts_clear(&opts);
		user_info_free(&u);
		settings_free(s);
		reply_auth(m, PS_AUTH_OK, 0);
		goto out;
	}
	if (found == 1 && !signature_valid(m, r, s, c)) {
		authkey_opts_clear(&opts);
		user_info_free(&u);
		/* As a wrong password: counted, banned for, and as slow. */
		auth_failed(m, "publickey", "bad-signature", s, true, start, true,
		    NULL);
		settings_free(s);
		goto out;
	}
	/* A second key of publickey,publickey: sshd merges the two keys'
	 * options; sshand does not, and refuses rather than drop the first
	 * key's restrictions or the second's. */
	if (found == 1 && m->have_keyopts && (opts_restrict(&m->keyopts) ||
	    opts_restrict(&opts))) {
		log_info("publickey for %s refused: both keys of this login carry "
		    "authorized_keys options, which sshand does not merge", r->user);
		authkey_opts_clear(&opts);
		user_info_free(&u);
		auth_failed(m, "publickey", "key-options-conflict", s, false, start,
		    true, NULL);
		settings_free(s);
		goto out;
	}
	if (found == 1) {
		authkey_opts_clear(&m->keyopts);
		m->keyopts = opts;
		m->have_keyopts = true;
		/* The audit record names the certificate (key id, serial,
		 * CA), as sshd's log line does. */
		auth_succeeded(m, &u, s, "publickey", NULL, m->cert_desc[0] ?
		    m->cert_desc : opts.from_command ?
		    "authorized-keys-command" : NULL);
		goto out;
	}
	m->cert_desc[0] = '\0';
	if (why[0])
		log_info("publickey for %s%s refused: %s", known ? "" : "invalid user ",
		    r->user, why);
	denied = u.denied;
	user_info_free(&u);
	auth_failed(m, "publickey", !known ? "unknown-user" : denied ? denied :
	    unsupported ? "key-type-unsupported" : am_why ? am_why :
	    s->pubkey_authentication ?
	    "key-refused" : "method-disabled", s, false, start, true, NULL);
	settings_free(s);
out:
	cert_free(c);
	free(c);
}
