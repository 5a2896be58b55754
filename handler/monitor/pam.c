/* Passwords and keyboard-interactive through PAM (service "sshand"), run by
 * the privileged monitor.  The conversation for keyboard-interactive makes a
 * round trip to the client through the network child for each batch of
 * prompts; for password logins it answers the hidden prompts with what the
 * client sent and nothing else.
 *
 * An expired password (pam_acct_mgmt: PAM_NEW_AUTHTOK_REQD) is changed
 * in the same attempt, as sshd does in keyboard-interactive: the
 * conversation goes on through pam_chauthtok(PAM_CHANGE_EXPIRED_AUTHTOK),
 * whose prompts (current password, new password, again) the client
 * answers.  A password login has no conversation: the client's change
 * request (RFC 4252 section 8) brings the old and the new password, which
 * answer those three prompts in order. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <security/pam_appl.h>

#include "handler/front/handover.h"
#include "handler/monitor/auth.h"
#include "handler/front/log.h"

#define MAX_PAM_MSGS 16
/* Password logins: the login's password, or the old one and the new one
 * twice during a change. */
#define MAX_SCRIPT 3

struct pam_ctx {
	pam_handle_t *h;
	bool session_open;
	bool cred_set;
	/* conversation state */
	const char *script[MAX_SCRIPT];	/* password logins: the answers */
	size_t n_script, used;
	kbdint_round_fn round;		/* keyboard-interactive */
	void *round_ud;
	bool abandoned;			/* a round failed: no more rounds */
	/* What PAM said (errors, notices) since the last round: shown with
	 * the next prompts, or as the reason of a refused change. */
	char info[2048];
};

static void
free_responses(struct pam_response *r, int n)
{
	if (r == NULL)
		return;
	for (int i = 0; i < n; i++)
		if (r[i].resp != NULL) {
			explicit_bzero(r[i].resp, strlen(r[i].resp));
			free(r[i].resp);
		}
	free(r);
}

static void
add_info(struct pam_ctx *p, const char *msg)
{
	size_t have = strlen(p->info), n = msg ? strlen(msg) : 0;

	if (n == 0 || have + n + 2 > sizeof(p->info))
		return;
	memcpy(p->info + have, msg, n);
	p->info[have + n] = '\n';
	p->info[have + n + 1] = '\0';
}

static int
conv(int n, const struct pam_message **msg, struct pam_response **ret, void *ud)
{
	struct pam_ctx *p = ud;
	struct pam_response *r;
	const char *prompts[MAX_PAM_MSGS];
	bool echo[MAX_PAM_MSGS];
	int map[MAX_PAM_MSGS];
	size_t np = 0;

	if (n <= 0 || n > MAX_PAM_MSGS)
		return PAM_CONV_ERR;
	r = calloc((size_t)n, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			if (p->round == NULL) {
				/* Password login: hidden prompts only, each
				 * answered once, in order; one more (a module
				 * asking again after refusing an answer) ends
				 * the conversation. */
				if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF ||
				    p->used >= p->n_script)
					goto fail;
				r[i].resp = strdup(p->script[p->used++]);
				if (r[i].resp == NULL)
					goto fail;
				break;
			}
			map[np] = i;
			echo[np] = msg[i]->msg_style == PAM_PROMPT_ECHO_ON;
			prompts[np++] = msg[i]->msg ? msg[i]->msg : "";
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			add_info(p, msg[i]->msg);
			break;
		default:
			goto fail;
		}
	}
	if (np > 0) {
		char *answers[MAX_PAM_MSGS] = { 0 };

		if (p->abandoned || p->round(p->round_ud, p->info, np, prompts,
		    echo, answers) < 0) {
			p->abandoned = true;
			goto fail;
		}
		p->info[0] = '\0';
		for (size_t k = 0; k < np; k++)
			r[map[k]].resp = answers[k];
	}
	*ret = r;
	return PAM_SUCCESS;
fail:
	free_responses(r, n);
	return PAM_CONV_ERR;
}

static const char *
reason_of(int rc, bool known)
{
	if (!known)
		return "unknown-user";
	switch (rc) {
	case PAM_AUTH_ERR: return "bad-password";
	case PAM_USER_UNKNOWN: return "unknown-user";
	case PAM_MAXTRIES: return "max-tries";
	case PAM_ACCT_EXPIRED: return "account-expired";
	case PAM_NEW_AUTHTOK_REQD: return "password-expired";
	case PAM_PERM_DENIED: return "permission-denied";
	case PAM_CONV_ERR: return "conversation-aborted";
	default: return "pam-error";
	}
}

/* A module that maps names must not authenticate one account and leave
 * us logging in another (OpenSSH checks this too). */
static bool
user_changed(struct pam_ctx *p, const char *user)
{
	const void *item = NULL;

	return pam_get_item(p->h, PAM_USER, &item) != PAM_SUCCESS || item == NULL ||
	    strcmp(item, user) != 0;
}

static int
start(const char *rhost, const char *user, struct pam_ctx *p)
{
	struct pam_conv pc = { .conv = conv, .appdata_ptr = p };
	int rc = pam_start("sshand", user, &pc, &p->h);

	if (rc != PAM_SUCCESS) {
		log_error("pam_start: %s", pam_strerror(NULL, rc));
		return -EIO;
	}
	pam_set_item(p->h, PAM_RHOST, rhost);
	pam_set_item(p->h, PAM_RUSER, user);
	pam_set_item(p->h, PAM_TTY, "ssh");
	return 0;
}

/* The monitor's groups while it changes a password. */
struct saved_groups {
	gid_t g[MAX_GROUPS];
	int n;
	bool joined;
};

/* pam_unix writes /etc/shadow anew and gives the new file the old one's
 * group (shadow) with fchown, which root may do without CAP_CHOWN (kept
 * out of sshand@.service's bounding set) only for a group it is in: the
 * monitor joins that group for the change alone. */
static void
join_shadow_group(struct saved_groups *sv)
{
	struct stat st;

	sv->joined = false;
	if (stat("/etc/shadow", &st) < 0 || st.st_gid == 0)
		return;
	sv->n = getgroups(MAX_GROUPS - 1, sv->g);
	if (sv->n < 0)
		return;
	for (int i = 0; i < sv->n; i++)
		if (sv->g[i] == st.st_gid)
			return;
	sv->g[sv->n] = st.st_gid;
	sv->joined = setgroups((size_t)sv->n + 1, sv->g) == 0;
}

static void
leave_shadow_group(struct saved_groups *sv)
{
	if (!sv->joined || setgroups((size_t)sv->n, sv->g) == 0)
		return;
	/* A root monitor in a group it should not be in: end it (the
	 * guardian finishes the connection's records). */
	log_errno(LOG_ERR, -errno, "cannot leave the shadow group");
	_exit(EXIT_INTERNAL);
}

/* The account's password expired: change it, through the conversation
 * (keyboard-interactive) or with the new password the client sent
 * (password logins; without one, the client is to be asked for it). */
static int
change_expired(struct pam_ctx *p, const char *user, const char *old,
    const char *new_password, struct pam_outcome *out)
{
	struct saved_groups sv;
	int rc;

	out->proved = true;
	if (p->round == NULL) {
		if (new_password == NULL) {
			out->change_needed = true;
			return PAM_NEW_AUTHTOK_REQD;
		}
		p->n_script = p->used = 0;
		/* pam_unix asks for no current password when there is none. */
		if (old[0] != '\0')
			p->script[p->n_script++] = old;
		p->script[p->n_script++] = new_password;
		p->script[p->n_script++] = new_password;
	}
	join_shadow_group(&sv);
	rc = pam_chauthtok(p->h, PAM_CHANGE_EXPIRED_AUTHTOK);
	leave_shadow_group(&sv);
	if (rc == PAM_SUCCESS) {
		out->changed = true;
		log_info("expired password of %s changed", user);
		return rc;
	}
	log_info("change of the expired password of %s refused: %s", user,
	    pam_strerror(p->h, rc));
	/* A module that failed without a word (a lock it could not take). */
	if (p->info[0] == '\0')
		add_info(p, pam_strerror(p->h, rc));
	/* What the modules said (passwords do not match, too short) reaches
	 * the client before the failure, in a round without prompts, as
	 * sshd sends it. */
	if (p->round != NULL && !p->abandoned && p->info[0] != '\0' &&
	    p->round(p->round_ud, p->info, 0, NULL, NULL, NULL) < 0)
		p->abandoned = true;
	return rc;
}

/* Authenticate, check the account and change an expired password; one
 * path for every user name. */
static int
run(const char *rhost, const char *user, const char *new_password,
    bool allow_empty, struct pam_ctx *p, struct pam_ctx **ret,
    struct pam_outcome *out)
{
	bool known = strcmp(user, PAM_NOUSER) != 0;
	const char *old = p->n_script > 0 ? p->script[0] : "";
	size_t n;
	int rc;

	*out = (struct pam_outcome){ 0 };
	if (start(rhost, user, p) < 0) {
		free(p);
		out->reason = "pam-error";
		return -EIO;
	}
	rc = pam_authenticate(p->h, allow_empty ? 0 : PAM_DISALLOW_NULL_AUTHTOK);
	if (rc == PAM_SUCCESS && user_changed(p, user))
		rc = PAM_PERM_DENIED;
	if (rc == PAM_SUCCESS)
		rc = pam_acct_mgmt(p->h, allow_empty ? 0 : PAM_DISALLOW_NULL_AUTHTOK);
	if (rc == PAM_NEW_AUTHTOK_REQD && known)
		rc = change_expired(p, user, old, new_password, out);
	p->n_script = p->used = 0;
	p->round = NULL;
	snprintf(out->message, sizeof(out->message), "%s", p->info);
	for (n = strlen(out->message); n > 0 && out->message[n - 1] == '\n'; n--)
		out->message[n - 1] = '\0';
	if (rc != PAM_SUCCESS || !known) {
		out->reason = out->proved && !out->change_needed ?
		    "password-change-refused" : reason_of(rc, known);
		pam_end(p->h, rc);
		free(p);
		return 0;
	}
	*ret = p;
	return 1;
}

int
pam_auth_password(const char *rhost, const char *user, const char *password,
    const char *new_password, bool allow_empty, struct pam_ctx **ret,
    struct pam_outcome *out)
{
	struct pam_ctx *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return -ENOMEM;
	p->script[p->n_script++] = password;
	return run(rhost, user, new_password, allow_empty, p, ret, out);
}

int
pam_auth_kbdint(const char *rhost, const char *user, bool allow_empty,
    kbdint_round_fn fn, void *ud, struct pam_ctx **ret, struct pam_outcome *out)
{
	struct pam_ctx *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return -ENOMEM;
	p->round = fn;
	p->round_ud = ud;
	return run(rhost, user, NULL, allow_empty, p, ret, out);
}

int
pam_account(const char *rhost, const char *user, struct pam_ctx **ret,
    const char **reason)
{
	struct pam_ctx *p = calloc(1, sizeof(*p));
	int rc;

	if (p == NULL)
		return -ENOMEM;
	if (start(rhost, user, p) < 0) {
		free(p);
		*reason = "pam-error";
		return -EIO;
	}
	rc = pam_acct_mgmt(p->h, 0);
	if (rc != PAM_SUCCESS) {
		*reason = reason_of(rc, true);
		pam_end(p->h, rc);
		free(p);
		return 0;
	}
	*ret = p;
	return 1;
}

int
pam_session_open(struct pam_ctx *p)
{
	int rc = pam_setcred(p->h, PAM_ESTABLISH_CRED);

	if (rc != PAM_SUCCESS) {
		log_error("pam_setcred: %s", pam_strerror(p->h, rc));
		return -EPERM;
	}
	p->cred_set = true;
	rc = pam_open_session(p->h, 0);
	if (rc != PAM_SUCCESS) {
		log_error("pam_open_session: %s", pam_strerror(p->h, rc));
		return -EPERM;
	}
	p->session_open = true;
	return 0;
}

int
pam_set_session_conv(struct pam_ctx *p, const struct pam_conv *c)
{
	int rc = pam_set_item(p->h, PAM_CONV, c);

	if (rc != PAM_SUCCESS) {
		log_error("pam_set_item(PAM_CONV): %s", pam_strerror(p->h, rc));
		return -EIO;
	}
	return 0;
}

char **
pam_session_env(struct pam_ctx *p)
{
	return p ? pam_getenvlist(p->h) : NULL;
}

void
pam_finish(struct pam_ctx *p)
{
	if (p == NULL)
		return;
	/* As root, with the capabilities the monitor kept after login
	 * (login.c): what a module needs beyond them fails, and it says so
	 * in the log. */
	if (p->session_open) {
		int rc = pam_close_session(p->h, PAM_SILENT);

		if (rc != PAM_SUCCESS)
			log_error("pam_close_session: %s", pam_strerror(p->h, rc));
	}
	if (p->cred_set)
		pam_setcred(p->h, PAM_DELETE_CRED | PAM_SILENT);
	pam_end(p->h, PAM_SUCCESS);
	free(p);
}

int
pam_close_detached(const char *rhost, const char *user)
{
	struct pam_ctx p = { 0 };
	int rc;

	if (start(rhost, user, &p) < 0)
		return -EIO;
	rc = pam_close_session(p.h, PAM_SILENT);
	if (rc != PAM_SUCCESS)
		log_error("pam_close_session: %s", pam_strerror(p.h, rc));
	pam_setcred(p.h, PAM_DELETE_CRED | PAM_SILENT);
	pam_end(p.h, rc);
	return rc == PAM_SUCCESS ? 0 : -EIO;
}
