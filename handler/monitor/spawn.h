/* Starting a session's process: the monitor (root) opens its pty or
 * pipes; the process drops to the user, loads the user's profile and
 * execs. */
#ifndef SSHAND_HANDLER_SESSION_H
#define SSHAND_HANDLER_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "handler/monitor/auth.h"
#include "handler/sftp/sftp.h"
#include "sandbox/sandbox.h"

/* sshd's XAuthLocation, as Debian builds it. */
#define XAUTH_PATH "/usr/bin/xauth"

/* What the session's process runs once it is the user's. */
enum session_run {
	RUN_SHELL,			/* the user's shell: login, or -c command */
	RUN_SFTP,			/* internal-sftp, in the process itself */
	/* ForceCommand internal-sftp met a shell or exec request: sshd's
	 * message on stdout, and exit status 1. */
	RUN_SFTP_ONLY,
};

struct session_spec {
	const struct user_info *user;
	const char *command;		/* NULL: login shell */
	enum session_run run;
	const struct sftp_opts *sftp;	/* RUN_SFTP */
	/* ChrootDirectory, checked and open (chroot.h), or -1: entered as
	 * root before the drop, as sshd does. */
	int chroot_fd;
	enum sandbox_profile profile;	/* the session's */
	enum sandbox_profile subsystem_profile;	/* stacked on it if it differs */
	struct sandbox_opts sandbox;
	struct sandbox_limits limits;
	bool pty;
	const char *term;
	unsigned cols, rows, xpix, ypix;
	const uint8_t *modes;		/* the client's terminal modes (ptymodes.h) */
	size_t nmodes;
	char **env;			/* "NAME=value", complete, NULL-terminated */
	/* Run before the session's program, as sshd's do_rc_files: the
	 * user's ~/.ssh/rc when allowed and present, else the system's. */
	bool user_rc;
	const char *system_rc;		/* /etc/sshand/sshrc */
	/* Shown before the session's process starts (greeting.h), or NULL. */
	const char *greeting;
	size_t greeting_len;
	/* X11 forwarding (the channel's x11-req), or NULL: the rc that runs
	 * reads "PROTO COOKIE" on its stdin; where none runs, xauth is told
	 * to replace x11_display's entry with the cookie. */
	const char *x11_proto, *x11_cookie;
	const char *x11_display;	/* as xauth names it: "unix:10.0" */
	pid_t monitor;			/* the parent */
};

struct session_proc {
	pid_t pid;			/* session leader; its process group too */
	int master;			/* pty master kept for resizes, or -1 */
	int fds[3];			/* for the network child: pty master, or stdin, stdout, stderr */
	int nfds;
	char tty[64];			/* slave name when pty */
	char why[160];			/* "": started; else why it could not
					 * (it has ended, or ends, with 126/127) */
};

/* Opens the pty or pipes and forks the child.  Returns 0 or -errno. */
int session_start(const struct session_spec *sp, struct session_proc *ret);

#endif
