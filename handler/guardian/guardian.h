/* The guardian: what makes a connection's end recorded even when its
 * monitor is killed or crashes.
 *
 * Once the source is known not to be banned, the front forks (front/main.c):
 * the parent becomes the guardian, the child goes on to fork the network
 * child and to run the monitor.  The guardian is root, not dumpable, and a
 * child subreaper, so the user can neither signal nor ptrace it, and
 * whatever is left below a dead monitor becomes its child.  It holds
 * neither the connection nor anything else but the audit trail, and
 * sleeps in one wait for the monitor's end.  Meanwhile the monitor keeps in
 * memory shared with it (state.h) what it would need to finish the
 * connection in the monitor's place: the network child, the login (the
 * user, for the records and for PAM), each session's start and end, PAM's
 * session close, and at last that the connection's end is recorded.
 *
 * When the monitor ends having said so, the guardian exits with its code.
 * When it ends without (killed, crashed), the guardian ends the sessions'
 * processes as the monitor would have (hang-up, then SIGKILL after a
 * grace, the whole tree), the network child, writes a session-end record
 * for each session still open and the disconnect record, each with the
 * reason ("monitor killed by signal 9"), the logout records of the pty
 * sessions (utmp, wtmp: monitor/records.h), closes the PAM session with a
 * fresh PAM handle, and exits.
 *
 * The wait is the front's (front/guard.c: libc only, forked before the
 * monitor's half is loaded); the rest is linked into sshand-monitor.so:
 * the monitor tells, and a guardian whose monitor died loads the half and
 * finishes from it (struct sshand_monitor's rescue). */
#ifndef SSHAND_HANDLER_GUARDIAN_GUARDIAN_H
#define SSHAND_HANDLER_GUARDIAN_GUARDIAN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "handler/front/handover.h"

/* ---- the monitor's side ---- */

struct guardian_state;

/* Where the monitor tells the guardian: h->guardian (NULL: no guardian, as
 * in the test tools, and every call below does nothing). */
void guardian_attach(struct guardian_state *st);

struct guardian_login {
	const char *audit_user;		/* the records' SSHAND_USER (raw) */
	const char *client_version;	/* raw */
	const char *pam_user;		/* PAM_USER of the open session */
	uid_t uid;			/* whose processes the sessions are */
	gid_t gid;
	bool kill_user_processes;	/* KillUserProcesses */
};

void guardian_tell_net(pid_t pid);
void guardian_tell_login(const struct guardian_login *l);
/* type: shell, exec, subsystem; command may be NULL; tty: the pty of a
 * session that has a login record, or ""; start: now_usec(). */
void guardian_tell_session_start(uint32_t id, pid_t pid, const char *type,
    const char *command, const char *tty, uint64_t start);
void guardian_tell_session_end(uint32_t id);
void guardian_tell_pam_closed(void);
/* The disconnect record is written: nothing is left to do for the
 * connection but to exit. */
void guardian_tell_done(void);

/* ---- the guardian's side ---- */

/* The connection's end in a dead monitor's place (the front's wait saw it
 * end without recording it): h->guardian is what the monitor wrote,
 * monitor its pid, status its wait status.  Returns the exit code of the
 * connection's process. */
int guardian_rescue(struct handover *h, pid_t monitor, int status);

#endif
