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
#include "handler/monitor/monitor.h"
#include "handler/monitor/sigcheck.h"
#include "policy/algorithms.h"
#include "policy/match.h"

/* A signed request's signature, checked here against the session id and
 * the request (sigcheck.c): the network child's word that libssh found it
 * valid is worth nothing.  A refusal is logged as sshd logs it. */
static bool
signature_valid(struct monitor *m, const struct ps_auth_pubkey *r,
    const struct settings *s)
{
	const struct audit_conn *c = m->h->audit;
	const char *why = NULL;
	int rc;

	rc = sigcheck_verify(&(struct sigcheck_request){
	    .session_id = m->session_id, .session_id_len = m->session_id_len,
	    .user = r->user, .blob = r->blob, .blob_len = r->blob_len,
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

void
answer_auth_pubkey(struct monitor *m, const struct ps_auth_pubkey *r)
{
	struct user_info u = { 0 };
	struct authkey_opts opts = { 0 };
	struct settings *s;
	const char *unsupported = NULL, *denied, *am_why = NULL;
	char why[256] = "";
	uint64_t start = now_usec();
	bool known;
	int found = 0, rsa_bits;

	/* The probe has no signature; a child that sends one with it does
	 * not follow the protocol. */
	if (!r->is_signed && (r->signed_data_len > 0 || r->signature_len > 0))
		monitor_violation(m, "auth_pubkey probe carries a signature");
	ban_gate(m);
	phase(r->is_signed ? "pubkey-signed" : "pubkey-probe", m->h->start_usec);
	known = user_for(m, r->user, &u, &s);
	pubkey_fingerprint(r->blob, r->blob_len, m->fingerprint, sizeof(m->fingerprint));
	rsa_bits = sigcheck_rsa_bits(r->blob, r->blob_len);
	/* A key whose signatures the monitor cannot check (a certificate, a
	 * security key) is refused at the probe already. */
	if (sigcheck_key_supported(r->blob, r->blob_len, &unsupported) < 0)
		snprintf(why, sizeof(why), "%s key: %s",
		    sigcheck_key_label(r->blob, r->blob_len), unsupported);
	/* Nor a key that no algorithm of the user's PubkeyAcceptedAlgorithms
	 * signs with (an RSA key when ssh-rsa is all RSA allowed and it is
	 * not): refused at the probe, as sshd refuses it. */
	else if (known && sigcheck_key_accepted(r->blob, r->blob_len,
	    algo_effective(ALGO_PUBKEY, s->pubkey_accepted_algorithms)) < 0)
		snprintf(why, sizeof(why), "%s key: no algorithm of "
		    "PubkeyAcceptedAlgorithms signs with it",
		    sigcheck_key_label(r->blob, r->blob_len));
	/* A key smaller than the user's RequiredRSASize, as sshd refuses it. */
	else if (known && rsa_bits > 0 && rsa_bits < (int)s->required_rsa_size)
		snprintf(why, sizeof(why), "RSA key of %d bits: RequiredRSASize is "
		    "%u", rsa_bits, s->required_rsa_size);
	/* AuthenticationMethods: not a key now, or this key again. */
	else if (known && s->pubkey_authentication &&
	    !am_allows(m, s, AM_PUBLICKEY)) {
		am_why = "method-not-allowed";
		snprintf(why, sizeof(why), "not allowed now by AuthenticationMethods");
	} else if (known && s->pubkey_authentication && am_key_used(m)) {
		am_why = "key-reused";
		snprintf(why, sizeof(why), "this key already succeeded in this login");
	} else if (known && s->pubkey_authentication && u.denied == NULL)
		found = pubkey_authorized(&u, s, r->blob, r->blob_len,
		    m->h->audit, &opts, why, sizeof(why));
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
		return;
	}
	if (found == 1 && !signature_valid(m, r, s)) {
		authkey_opts_clear(&opts);
		user_info_free(&u);
		/* As a wrong password: counted, banned for, and as slow. */
		auth_failed(m, "publickey", "bad-signature", s, true, start, true,
		    NULL);
		settings_free(s);
		return;
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
		return;
	}
	if (found == 1) {
		authkey_opts_clear(&m->keyopts);
		m->keyopts = opts;
		m->have_keyopts = true;
		auth_succeeded(m, &u, s, "publickey", NULL, opts.from_command ?
		    "authorized-keys-command" : NULL);
		return;
	}
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
}
