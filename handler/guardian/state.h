/* What the monitor keeps for the guardian: one shared page set, mapped by
 * the front before it forks (MAP_SHARED | MAP_ANONYMOUS), written by the
 * monitor alone and read by the guardian only once the monitor is gone.
 *
 * Memory rather than messages: the monitor's writes cost nothing, and the
 * guardian sleeps in one wait from the fork to the monitor's end, where a
 * message per event woke it some 100 us of CPU each.  No one else can
 * write it: the monitor marks it MADV_DONTFORK before its first fork, so
 * neither the network child, nor a PAM helper, nor anything else forked
 * from it has it (the sessions, clone()d sharing the monitor's memory,
 * run only the monitor's code until they exec, which drops it).
 *
 * The monitor may be killed between any two of its stores: a record counts
 * only once its flag (logged_in, live) is set, stored last with release
 * order, and a session's flag is cleared before its slot is reused.  The
 * guardian reads after waitpid() has seen the monitor end.  Part of the
 * ABI of the halves (the front maps it, the monitor half fills and reads
 * it): the Makefile checks it with the front's headers. */
#ifndef SSHAND_HANDLER_GUARDIAN_STATE_H
#define SSHAND_HANDLER_GUARDIAN_STATE_H

#include <stdint.h>

#include "handler/front/audit.h"

/* More than the monitor allows (MAX_SESSIONS). */
#define GUARDIAN_SESSIONS	16
#define GUARDIAN_MAX_NAME	256
#define GUARDIAN_MAX_TYPE	16
/* "/dev/pts/N": longer names are not ptys sshand opens. */
#define GUARDIAN_MAX_TTY	31
/* One byte more than a record shows, so that the record marks the cut
 * as the monitor's does. */
#define GUARDIAN_MAX_COMMAND	(AUDIT_MAX_COMMAND + 1)

struct guardian_session {
	uint32_t live;			/* set last, cleared first */
	uint32_t id;
	int32_t pid;			/* session leader, and its process group */
	uint32_t has_command;
	uint64_t start;			/* now_usec() */
	char type[GUARDIAN_MAX_TYPE + 1];
	char command[GUARDIAN_MAX_COMMAND + 1];
	char tty[GUARDIAN_MAX_TTY + 1];	/* a pty session's (login records), or "" */
};

struct guardian_state {
	int32_t net;			/* the network child, 0 until known */
	uint32_t logged_in;		/* set last: the login fields are whole */
	uint32_t uid, gid;		/* whose processes the sessions are */
	char audit_user[GUARDIAN_MAX_NAME + 1];
	char client_version[GUARDIAN_MAX_NAME + 1];
	char pam_user[GUARDIAN_MAX_NAME + 1];
	uint32_t kill_user_processes;	/* KillUserProcesses */
	uint32_t pam_closed;
	uint32_t done;			/* the disconnect record is written */
	struct guardian_session sess[GUARDIAN_SESSIONS];
};

#endif
