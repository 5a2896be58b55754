/* What a login shows before the shell starts, as sshd shows it:
 *
 *   the messages of PAM's session modules (pam_motd, pam_mail), kept at
 *   login and shown by the connection's first session, then dropped;
 *   "Last login: <date> from <address>" (PrintLastLog) and /etc/motd
 *   (PrintMotd), for pty sessions;
 *
 * none of it for a command, a subsystem or a forced command, nor when the
 * user has a ~/.hushlogin.  Written to the session's pty (or stdout pipe)
 * by the monitor before the session's process exists, so it comes before
 * anything the shell prints, through the pty's output processing as
 * sshd's child writes it. */
#ifndef SSHAND_HANDLER_MONITOR_GREETING_H
#define SSHAND_HANDLER_MONITOR_GREETING_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <security/pam_appl.h>

#include "handler/monitor/auth.h"

/* Bounds: a greeting must fit in a fresh pty's or pipe's buffer, which
 * nobody reads until the session starts (greeting_write). */
#define GREETING_PAM_MAX	8192
#define GREETING_MOTD_MAX	16384

/* PAM's messages of the login, as sshd's loginmsg keeps them. */
struct pam_messages {
	char buf[GREETING_PAM_MAX];
	size_t len;
	bool taken;			/* a session had them (shown or not) */
};

/* A PAM conversation that keeps text and error messages in ud (a struct
 * pam_messages), one per line, and answers no prompt: for the session's
 * modules, which have no one to ask. */
int greeting_pam_conv(int n, const struct pam_message **msg,
    struct pam_response **resp, void *ud);

struct greeting_request {
	const struct user_info *user;
	bool pty;
	const char *command;		/* NULL: the login shell */
	struct pam_messages *pam;	/* taken by this session, if the first */
	bool print_lastlog;		/* PrintLastLog */
	bool print_motd;		/* PrintMotd */
	const char *motd;		/* its path, /etc/motd */
};

/* The greeting for a session (a fresh string in *ret, its length in
 * *ret_len; NULL and 0 when it shows nothing).  Call before the session's
 * login record is written: the last login is read from lastlog.
 * 0 or -ENOMEM. */
int greeting_build(const struct greeting_request *r, char **ret, size_t *ret_len);

/* Writes len bytes to fd, a pty slave or pipe that nobody reads yet,
 * without ever blocking: what does not fit is dropped, and logged. */
void greeting_write(int fd, const char *buf, size_t len);

#endif
