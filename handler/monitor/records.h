/* Login records, as sshd writes them on Linux (OpenSSH's loginrec.c):
 * utmp (who, w) and wtmp (last) for each pty session, lastlog for the
 * "Last login" line of the next one, btmp (lastb) for failed logins.
 *
 * Written by root: the monitor, or the guardian for a dead monitor's
 * sessions (guardian/guardian.h), never the user's processes.  A file
 * that does not exist is not created (an administrator who removed one
 * wants none; the unit could not create it anyway), and a failure to
 * write one never stops a login: the caller logs it.
 *
 * The host field is the client's numeric address, as sshd writes it
 * with UseDNS no (its default). */
#ifndef SSHAND_HANDLER_MONITOR_RECORDS_H
#define SSHAND_HANDLER_MONITOR_RECORDS_H

#include <stddef.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/types.h>

struct records_login {
	const char *user;
	uid_t uid;			/* lastlog's slot */
	const char *tty;		/* "/dev/pts/3" or "pts/3" */
	pid_t pid;			/* the session's leader */
	const char *host;		/* the client's address, as text */
	const struct sockaddr *addr;	/* the client's address, or NULL */
};

/* Where the records are; the system's unless a test says otherwise. */
struct records_files {
	const char *utmp, *wtmp, *btmp, *lastlog;
};
void records_use_files(const struct records_files *f);

/* utmp (USER_PROCESS), wtmp, lastlog.  0, or the first -errno; every
 * file is tried. */
int records_login(const struct records_login *r);
/* utmp (DEAD_PROCESS for the line: the entry leaves who and w) and
 * wtmp (the logout last pairs with the login). */
int records_logout(const char *tty, pid_t pid);
/* btmp, for a failed login of user (as the client named it), tty
 * "ssh:notty" as sshd writes it.  A btmp that others may read, or not
 * root's, is left alone, as sshd does: it holds mistyped passwords typed
 * as user names. */
int records_failed(const char *user, const char *host, const struct sockaddr *addr,
    pid_t pid);

/* uid's lastlog entry: *ret_time 0 when there is none; host into buf. */
int records_last_login(uid_t uid, time_t *ret_time, char *host, size_t len);

#endif
