/* Authentication in the network child: libssh's callbacks, each answered
 * by asking the monitor.  Nothing is decided here. */
#define _GNU_SOURCE
#include <string.h>
#include <sys/socket.h>

#include "handler/front/log.h"
#include "handler/net/libssh-private.h"
#include "handler/net/net.h"
#include "policy/authmethods.h"
#include "policy/util/base64.h"

/* AM_* bits as libssh's methods. */
static int
libssh_methods(unsigned am)
{
	return (am & AM_PUBLICKEY ? SSH_AUTH_METHOD_PUBLICKEY : 0) |
	    (am & AM_PASSWORD ? SSH_AUTH_METHOD_PASSWORD : 0) |
	    (am & AM_KBDINT ? SSH_AUTH_METHOD_INTERACTIVE : 0);
}

/* What a result means to libssh; a refusal that ends the connection
 * also ends it here.  The methods the monitor says may continue become
 * the list libssh sends with a refusal or a partial success
 * (ssh_auth_reply_default reads it). */
static int
auth_result(struct net *n, const struct ps_auth_result *r)
{
	if (r->result == PS_AUTH_DISCONNECT) {
		ssh_session_set_disconnect_message(n->s, "Too many authentication failures");
		net_fail(n, EXIT_NOAUTH, "max-auth-tries");
		return SSH_AUTH_DENIED;
	}
	if (r->methods != 0)
		ssh_set_auth_methods(n->s, libssh_methods(r->methods));
	if (r->result == PS_AUTH_PARTIAL)
		return SSH_AUTH_PARTIAL;
	n->pty_ok = (r->flags & PS_FLAG_PTY) != 0;
	n->max_sessions = r->max_sessions;
	n->alive_interval = r->alive_interval;
	n->alive_count_max = r->alive_count_max;
	n->unused_timeout = r->unused_timeout;
	if (r->result == PS_AUTH_OK && idle_setup(n, r) < 0) {
		log_error("malformed ChannelTimeout from the monitor");
		net_fail(n, EXIT_PROTOCOL, "protocol-error");
		return SSH_AUTH_DENIED;
	}
	return r->result == PS_AUTH_OK ? SSH_AUTH_SUCCESS : SSH_AUTH_DENIED;
}

/* The monitor ended the connection while a request waited for its answer
 * (TERMINATE: the source got banned, the grace time ran out): that
 * request gets no answer.  libssh replies "failure" to whatever a callback
 * refuses, so the socket is shut first and the reply goes nowhere; the
 * client sees the connection close, whatever its password was. */
static int
unanswered(struct net *n)
{
	if (n->done && n->terminate_reason[0])
		(void)shutdown(n->h->sock, SHUT_RDWR);
	return SSH_AUTH_DENIED;
}

/* A new password longer than the monitor takes reaches it cut, and so
 * is refused, never shortened to one the client did not choose. */
_Static_assert(LIBSSH_MAX_NEW_PASSWORD > PS_MAX_PASSWORD_LEN,
    "the hook keeps more of a new password than the monitor takes");

/* A password request, through the message callback: the monitor may
 * answer it with a change request (an expired password), which libssh's
 * password callback cannot send. */
static int
on_password_message(struct net *n, ssh_message msg)
{
	struct password_req pw;
	struct ps_password_reply reply;
	int r;

	n->kbd_active = false;
	if (libssh_password_request(msg, &pw) < 0)
		return 1;
	r = ask_auth_password(n, &(struct ps_auth_password){ .user = pw.user,
	    .password = pw.password, .change = pw.change,
	    .new_password = pw.new_password, .can_change = n->hook });
	if (r < 0 || read_password_reply(n, &reply) < 0) {
		(void)unanswered(n);
		return 1;
	}
	if (reply.type == PS_PASSWD_CHANGEREQ) {
		if (libssh_send_passwd_changereq(msg, reply.changereq.prompt) < 0)
			net_fail(n, EXIT_PROTOCOL, "protocol-error");
		return 0;
	}
	r = auth_result(n, &reply.result);
	if (r == SSH_AUTH_PARTIAL) {
		ssh_message_auth_reply_success(msg, 1);
		return 0;
	}
	if (r != SSH_AUTH_SUCCESS)
		return 1;
	n->authenticated = true;
	ssh_message_auth_reply_success(msg, 0);
	return 0;
}

static int
on_auth_pubkey(ssh_session s, const char *user, struct ssh_key_struct *pubkey,
    char signature_state, void *ud)
{
	struct net *n = ud;
	struct ps_auth_pubkey q = { .user = user,
	    .is_signed = signature_state == SSH_PUBLICKEY_STATE_VALID };
	struct ps_auth_result res;
	uint8_t blob[PS_MAX_BLOB];
	char *b64 = NULL;
	int r;

	(void)s;
	if (n->done)
		goto denied;
	/* Only the probe (no signature) and a signed request reach the
	 * monitor; libssh itself drops a signed request it cannot take apart
	 * or whose EVP_DigestVerify said no (ours, see verify.c, says no
	 * only to data over the protocol's bounds). */
	if (signature_state != SSH_PUBLICKEY_STATE_NONE &&
	    signature_state != SSH_PUBLICKEY_STATE_VALID)
		goto denied;
	/* 0.10's only public export of the blob is base64. */
	if (ssh_pki_export_pubkey_base64(pubkey, &b64) != SSH_OK)
		goto denied;
	r = base64_decode(b64, strlen(b64), blob, sizeof(blob), &q.blob_len);
	ssh_string_free_char(b64);
	if (r < 0)
		goto denied;
	q.blob = blob;
	/* The signed request carries what libssh asked to verify, for the
	 * monitor to check; with nothing captured, nothing goes, and the
	 * monitor refuses it. */
	if (q.is_signed)
		net_verify_take(&q);
	n->kbd_active = false;
	r = ask_auth_pubkey(n, &q);
	net_verify_clear();
	if (r < 0 || read_auth_result(n, &res) < 0)
		return unanswered(n);
	r = auth_result(n, &res);
	if (r == SSH_AUTH_SUCCESS && q.is_signed)
		n->authenticated = true;
	return r;
denied:
	net_verify_clear();
	return SSH_AUTH_DENIED;
}

/* Keyboard-interactive: the monitor runs PAM and sends its prompts; the
 * client's answers go back until PAM is done. */
static void
kbdint_reply(struct net *n, ssh_message msg, const struct kbdint_reply *r)
{
	if (r->type == PS_KBDINT_PROMPTS) {
		char echo[PS_MAX_PROMPTS];

		for (uint32_t i = 0; i < r->prompts.n_prompts; i++)
			echo[i] = (char)(r->prompts.echo >> i & 1);
		n->kbd_active = true;
		ssh_message_auth_interactive_request(msg, r->prompts.name,
		    r->prompts.instruction, r->prompts.n_prompts,
		    (const char **)r->prompts.prompts, echo);
		return;
	}
	n->kbd_active = false;
	switch (auth_result(n, &r->result)) {
	case SSH_AUTH_SUCCESS:
		n->authenticated = true;
		ssh_message_auth_reply_success(msg, 0);
		break;
	case SSH_AUTH_PARTIAL:
		ssh_message_auth_reply_success(msg, 1);
		break;
	default:
		ssh_message_reply_default(msg);
	}
}

/* 0.10 has no keyboard-interactive server callback: its messages (and the
 * pty requests, see channel.c) come through the message callback, as do
 * password requests (on_password_message). */
static int
on_message(ssh_session s, ssh_message msg, void *ud)
{
	struct net *n = ud;
	struct kbdint_reply reply;
	int r;

	if (ssh_message_type(msg) == SSH_REQUEST_CHANNEL &&
	    ssh_message_subtype(msg) == SSH_CHANNEL_REQUEST_PTY)
		return on_pty_message(n, msg);
	if (ssh_message_type(msg) == SSH_REQUEST_CHANNEL_OPEN ||
	    ssh_message_type(msg) == SSH_REQUEST_GLOBAL ||
	    (ssh_message_type(msg) == SSH_REQUEST_CHANNEL &&
	    ssh_message_subtype(msg) == SSH_CHANNEL_REQUEST_X11))
		return on_forward_message(n, msg);
	if (ssh_message_type(msg) == SSH_REQUEST_AUTH &&
	    ssh_message_subtype(msg) == SSH_AUTH_METHOD_PASSWORD) {
		r = n->done || n->authenticated ? 1 : on_password_message(n, msg);
		/* The new password of a change, answered or not, is not kept. */
		libssh_password_clear();
		return r;
	}
	if (n->done || n->authenticated || ssh_message_type(msg) != SSH_REQUEST_AUTH ||
	    ssh_message_subtype(msg) != SSH_AUTH_METHOD_INTERACTIVE)
		return 1;	/* libssh's default: refuse */

	if (ssh_message_auth_kbdint_is_response(msg)) {
		struct ps_kbdint_answers q = { 0 };
		int na = ssh_userauth_kbdint_getnanswers(s);

		if (!n->kbd_active || na < 0 || na > PS_MAX_PROMPTS) {
			ssh_message_reply_default(msg);
			return 0;
		}
		q.n_answers = (uint32_t)na;
		for (int i = 0; i < na; i++)
			q.answers[i] = ssh_userauth_kbdint_getanswer(s, (unsigned)i);
		r = ask_kbdint_answers(n, &q);
	} else
		r = ask_kbdint_start(n, &(struct ps_kbdint_start){
		    ssh_message_auth_user(msg) });
	if (r < 0 || read_kbdint_reply(n, &reply) < 0) {
		(void)unanswered(n);
		ssh_message_reply_default(msg);
		return 0;
	}
	kbdint_reply(n, msg, &reply);
	return 0;
}

void
net_auth_setup(struct net *n)
{
	/* The settings of this client's address: a Match Address block may
	 * give methods the global section does not (sshd offers them too).
	 * Match User and Group blocks apply once the monitor knows the user:
	 * its first answer carries the user's methods. */
	struct match_ctx ctx = { .addr = n->h->audit->remote_addr };
	struct settings *at = NULL;
	const struct settings *g = config_resolve(n->h->cfg, &ctx, &at) == 0 ?
	    at : n->h->global;
	unsigned enabled = am_enabled(g), offer = enabled;
	struct am_progress p;

	n->scb = (struct ssh_server_callbacks_struct){
		.userdata = n,
		.auth_pubkey_function = on_auth_pubkey,
		.channel_open_request_session_function = on_channel_open,
	};
	ssh_callbacks_init(&n->scb);
	ssh_set_server_callbacks(n->s, &n->scb);
	ssh_set_message_callback(n->s, on_message, n);
	/* Global AuthenticationMethods: first the methods that begin a list
	 * (the monitor widens the offer for a user whose Match block has
	 * none).  A user's own lists narrow it at the first refusal. */
	if (am_start(&p, &g->authentication_methods, enabled) > 0)
		offer = am_next(&p, enabled);
	ssh_set_auth_methods(n->s, libssh_methods(offer));
	settings_free(at);
}
