/* The privileged side's authentication helpers (internal to handler/). */
#ifndef SSHAND_HANDLER_AUTH_H
#define SSHAND_HANDLER_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "handler/monitor/authkeys.h"
#include "policy/config.h"

#define MAX_GROUPS 256

struct user_info {
	char *name;
	uid_t uid;
	gid_t gid;
	char *dir;
	char *shell;
	gid_t groups[MAX_GROUPS];	/* supplementary groups, primary included */
	size_t ngroups;
	char *group_names[MAX_GROUPS];
	size_t n_group_names;
	/* Why AllowUsers, DenyUsers, AllowGroups or DenyGroups refuse the
	 * user (the audit reason), NULL if they do not: set once the
	 * user's settings are known (user_denied).  A '!' or '*' in the
	 * shadow password is not a refusal: as sshd with UsePAM yes, a
	 * key may log in, and PAM's account stage (expiry) decides. */
	const char *denied;
};

/* Looks up name exactly (case-sensitive, even if NSS is not).  -ENOENT for
 * an unknown or unacceptable name. */
int user_lookup(const char *name, struct user_info *ret);
void user_info_free(struct user_info *u);
/* A deep copy; 0 or -ENOMEM (then *dst is empty). */
int user_info_copy(const struct user_info *src, struct user_info *dst);
/* Up to max names of the groups user belongs to (fresh strings). */
size_t user_group_names(const char *user, char **out, size_t max);
/* Names the client may send: bounded, printable, no '/' or ':'. */
bool user_name_valid(const char *name);
/* sshd's allowed_user() for u under s from addr: NULL, or the reason
 * (policy/access.h) after logging the refusal as sshd logs it. */
const char *user_denied(const struct settings *s, const struct user_info *u,
    const char *addr);

/* PAM (service "sshand").  A conversation round for keyboard-interactive:
 * show prompts, return answers (fresh strings) or -1 to abort.  n may be
 * 0: the instruction alone, for the client to show. */
typedef int (*kbdint_round_fn)(void *ud, const char *instruction, size_t n,
    const char *const *prompts, const bool *echo, char **answers);

struct pam_ctx;
struct pam_conv;

/* What PAM made of an attempt. */
struct pam_outcome {
	const char *reason;	/* a refusal's, for the audit trail */
	/* The password was right, but the account's had expired and was
	 * not changed: a change is needed (password logins that sent no new
	 * one) or was refused (reason "password-change-refused"). */
	bool proved;
	bool change_needed;
	bool changed;		/* logged in with a new password */
	char message[2048];	/* what PAM said, for the client */
};

/* 1 authenticated and account valid (*ret set, keep for the session),
 * 0 denied (out says why), negative errno if PAM could not run.  user may
 * be a placeholder for an unknown user: the same path is taken either
 * way.  rhost is the client's address (PAM_RHOST).  An expired password
 * is changed on the way (pam.c): through the conversation, or for a
 * password login to new_password (NULL: none sent, out->change_needed). */
int pam_auth_password(const char *rhost, const char *user, const char *password,
    const char *new_password, bool allow_empty, struct pam_ctx **ret,
    struct pam_outcome *out);
int pam_auth_kbdint(const char *rhost, const char *user, bool allow_empty,
    kbdint_round_fn fn, void *ud, struct pam_ctx **ret, struct pam_outcome *out);
/* Account checks only (public key logins). */
int pam_account(const char *rhost, const char *user, struct pam_ctx **ret,
    const char **reason);
int pam_session_open(struct pam_ctx *p);
/* From now on the modules' messages go to conv (copied; its data must
 * outlive p), not to the client: the session modules' (pam_motd,
 * pam_mail) are shown by the first session (greeting.h).  0 or -EIO. */
int pam_set_session_conv(struct pam_ctx *p, const struct pam_conv *conv);
/* PAM's environment for the session (NULL-terminated, owned by p). */
char **pam_session_env(struct pam_ctx *p);
void pam_finish(struct pam_ctx *p);
/* Closes the PAM session of user from rhost with a handle of its own, for
 * a process that never had the one that opened it (the guardian, when the
 * monitor is gone): the same service and items, so the modules close what
 * they opened as far as they keep it outside the handle.  0 or -EIO
 * (logged). */
int pam_close_detached(const char *rhost, const char *user);

#define PAM_NOUSER "NOUSER"

/* Is this key in one of u's authorized_keys files, or else among the
 * keys AuthorizedKeysCommand prints (keyscmd.h)?  key: the blob (with
 * cert_authority a certificate's CA, looked for in cert-authority lines
 * only); its address and time are filled in here.  1 yes
 * (*ret filled), 0 no (why filled), negative errno on failure.  conn: the
 * client's address (from=) and the connection's ends (%C). */
struct audit_conn;
int pubkey_authorized(const struct user_info *u, const struct settings *s,
    const struct authkey_query *key, const struct audit_conn *conn,
    struct authkey_opts *ret, char *why, size_t whylen);
/* Opens path as u would (StrictModes checked as u): 0 with *ret_fd, or a
 * negative errno (-EPERM with why for StrictModes). */
int pubkey_open_as_user(const struct user_info *u, const struct settings *s,
    const char *path, int *ret_fd, char *why, size_t whylen);
/* "SHA256:..." of a key blob, as ssh-keygen -l prints it. */
void pubkey_fingerprint(const uint8_t *blob, size_t len, char *buf, size_t buflen);


#endif
