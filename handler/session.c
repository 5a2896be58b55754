/* One session's process: a login shell, a command or a subsystem, run with
 * the user's shell, in its own session and process group, on a fresh pty
 * or on three pipes. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "handler/log.h"
#include "handler/ptymodes.h"
#include "handler/session.h"

/* The environment plus SSH_TTY, known only once the pty exists. */
static char **
with_tty(char **env, const char *tty)
{
	size_t n = 0;
	char **e;

	while (env[n] != NULL)
		n++;
	e = calloc(n + 2, sizeof(*e));
	if (e == NULL || asprintf(&e[n], "SSH_TTY=%s", tty) < 0)
		_exit(126);
	memcpy(e, env, n * sizeof(*e));
	return e;
}

static void
child_exec(const struct session_spec *sp, const char *tty)
{
	char **env = tty ? with_tty(sp->env, tty) : sp->env;
	const char *shell = sp->user->shell;
	const char *base = strrchr(shell, '/');
	char argv0[256];
	sigset_t none;
	enum sandbox_profile prof;

	base = base ? base + 1 : shell;
	/* If the monitor dies (killed, crashed), the session hangs up too;
	 * under systemd the unit's cgroup catches the rest. */
	if (prctl(PR_SET_PDEATHSIG, SIGHUP) < 0 || getppid() != sp->monitor)
		_exit(126);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	umask(022);
	if (chdir(sp->user->dir) < 0 && chdir("/") < 0)
		_exit(126);
	if (sandbox_set_limits(&sp->limits) < 0)
		_exit(126);
	if (sp->subsystem_profile != NULL &&
	    (sandbox_profile_parse(sp->subsystem_profile, &prof) < 0 ||
	    sandbox_apply_profile(prof, &sp->sandbox) < 0))
		_exit(126);
	closefrom(3);
	if (sp->command == NULL) {
		/* A login shell: argv[0] is "-" + the shell's name. */
		snprintf(argv0, sizeof(argv0), "-%s", base);
		execle(shell, argv0, (char *)NULL, env);
	} else
		execle(shell, base, "-c", sp->command, (char *)NULL, env);
	dprintf(2, "sshand: cannot run %s: %s\r\n", shell, strerror(errno));
	_exit(127);
}

static int
start_pty(const struct session_spec *sp, struct session_proc *ret)
{
	struct winsize ws = { .ws_row = sp->rows, .ws_col = sp->cols,
	    .ws_xpixel = sp->xpix, .ws_ypixel = sp->ypix };
	int master, slave;
	pid_t pid;

	/* Opened as the user, so the slave belongs to the user; devpts gives
	 * it the tty group and mode 0620. */
	if (openpty(&master, &slave, ret->tty, NULL, &ws) < 0)
		return -errno;
	/* The client's modes; a list we cannot read leaves the defaults,
	 * which suit common terminals, rather than refusing the session. */
	int r = ptymodes_apply(slave, sp->modes, sp->nmodes);
	if (r < 0)
		log_errno(LOG_INFO, r, "terminal modes of the pty request not applied");
	fcntl(master, F_SETFD, FD_CLOEXEC);
	pid = fork();
	if (pid < 0) {
		int e = -errno;

		close(master);
		close(slave);
		return e;
	}
	if (pid == 0) {
		close(master);
		if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
			_exit(126);
		if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
			_exit(126);
		if (slave > 2)
			close(slave);
		child_exec(sp, ret->tty);
	}
	close(slave);
	ret->pid = pid;
	ret->master = master;
	ret->fds[0] = master;
	ret->nfds = 1;
	return 0;
}

static int
start_pipes(const struct session_spec *sp, struct session_proc *ret)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	pid_t pid;
	int e;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
	    pipe2(err, O_CLOEXEC) < 0) {
		e = -errno;
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		e = -errno;
		goto fail;
	}
	if (pid == 0) {
		if (setsid() < 0 || dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 ||
		    dup2(err[1], 2) < 0)
			_exit(126);
		child_exec(sp, NULL);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	ret->pid = pid;
	ret->master = -1;
	ret->fds[0] = in[1];
	ret->fds[1] = out[0];
	ret->fds[2] = err[0];
	ret->nfds = 3;
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0) close(in[i]);
		if (out[i] >= 0) close(out[i]);
		if (err[i] >= 0) close(err[i]);
	}
	return e;
}

int
session_start(const struct session_spec *sp, struct session_proc *ret)
{
	struct session_proc p = { .pid = -1, .master = -1 };
	int r = sp->pty ? start_pty(sp, &p) : start_pipes(sp, &p);

	if (r < 0)
		return r;
	*ret = p;
	return 0;
}
