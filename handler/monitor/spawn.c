/* One session's process: a login shell, a command or a subsystem, run with
 * the user's shell, in its own session and process group, on a fresh pty
 * or on three pipes. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "handler/front/log.h"

/* The children below run on static stacks in our memory (clone with
 * CLONE_VM) and end by exec or _exit, never unwinding: under ASan their
 * frames' scope poisoning stays in the shadow of the stack, and the next
 * child on the same stack would be reported for using it.  Each child
 * gets its stack clean. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define STACK_CLEAN(s) ASAN_UNPOISON_MEMORY_REGION((s), sizeof(s))
#else
#define STACK_CLEAN(s) ((void)0)
#endif
#include "handler/monitor/greeting.h"
#include "handler/monitor/ptymodes.h"
#include "handler/monitor/spawn.h"
#include "handler/privsep/messages.h"

/* The environment plus SSH_TTY, known only once the pty exists: a new
 * array borrowing env's strings, SSH_TTY's at *ret_n. */
static char **
with_tty(char **env, const char *tty, size_t *ret_n)
{
	size_t n = 0;
	char **e;

	while (env[n] != NULL)
		n++;
	e = calloc(n + 2, sizeof(*e));
	if (e == NULL)
		return NULL;
	if (asprintf(&e[n], "SSH_TTY=%s", tty) < 0) {
		free(e);
		return NULL;
	}
	memcpy(e, env, n * sizeof(*e));
	*ret_n = n;
	return e;
}

/* Everything the child needs, prepared by the parent: the child shares
 * the parent's memory until it execs (CLONE_VM | CLONE_VFORK, as
 * posix_spawn does), so it makes system calls on what is here, and never
 * formats or logs.  The one allocation it makes is the drop's
 * (sandbox_drop_to_user() reads the groups back into two calloc()ed
 * arrays and frees them): safe, because CLONE_VFORK suspends the parent
 * until the exec, so the heap and malloc's per-thread cache, which the
 * child shares, have no other user meanwhile, and the child leaves them
 * as balanced as it found them. */
struct spawn {
	const struct session_spec *sp;
	char **env;
	size_t env_own;			/* index of the entry spawn() allocated */
	const char *shell;
	const char *argv[4];
	char argv0[256];
	char fail_msg[320];		/* "sshand: cannot run SHELL: " */
	int fds[3];			/* become 0, 1, 2 */
	int ctty;			/* the pty slave to make ours, or -1 */
	char user_rc[4096];		/* HOME/.ssh/rc, or "" */
	/* Set by the child when it cannot start (it shares our memory):
	 * why, and the exec's errno. */
	const char *why;
	int exec_errno;
	/* X11: what the rc, or else xauth, reads on its stdin; "" without */
	char rc_input[2048];
	char xauth_input[4096];
};

static void
put_fd(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) < 0)
		return;
}

static void
put(const char *s)
{
	put_fd(2, s);
}

static void
put1(const char *s)
{
	put_fd(1, s);
}

/* The session cannot start: say so on its stderr (the client sees it)
 * and to the monitor (for the session's record), and end. */
static void __attribute__((noreturn))
fail(struct spawn *x, const char *what)
{
	x->why = what;
	put("sshand: ");
	put(what);
	put("\r\n");
	_exit(126);
}

/* Its stdin: a pipe already holding input (it fits: a few KiB against
 * the pipe's 64), so that writing it needs no second process and cannot
 * meet a reader that is gone (SIGPIPE would end the session here). */
static int
input_pipe(const char *input)
{
	size_t n = strlen(input), off = 0;
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	while (off < n) {
		ssize_t w = write(p[1], input + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(p[0]);
			p[0] = -1;
			break;
		}
		off += (size_t)w;
	}
	close(p[1]);
	return p[0];
}

struct rc_exec {
	const char *prog;
	const char *const *argv;
	char *const *env;
	int in;
};

static int
rc_exec_main(void *arg)
{
	const struct rc_exec *r = arg;

	if (r->in >= 0)
		dup2(r->in, 0);
	execve(r->prog, (char *const *)r->argv, r->env);
	_exit(127);
}

/* Runs prog on stdin in (closed after; -1: ours) and waits for it.  This
 * process shares the monitor's memory already; its child only swaps
 * stdin and execs, on a stack of its own, as spawn() starts us: clone(),
 * not vfork(), whose sanitizer interceptor keeps its state in the thread
 * this process borrowed from the monitor (an ASan build lost the
 * session). */
static void
run_waited(const char *prog, const char *const argv[], char *const env[], int in)
{
	static _Alignas(16) char stack[64 * 1024];
	struct rc_exec r = { prog, argv, env, in };
	int st;
	pid_t pid;

	STACK_CLEAN(stack);
	pid = clone(rc_exec_main, stack + sizeof(stack),
	    CLONE_VM | CLONE_VFORK | SIGCHLD, &r);

	if (in >= 0)
		close(in);
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
}

/* ~/.ssh/rc or the system's sshrc, as sshd runs them: with /bin/sh, on
 * the session's stdout and stderr, before the session's program, as the
 * user and under the session's profile; waited for, whatever it does.
 * With X11 forwarding, as sshd's do_rc_files: the rc that runs reads
 * "PROTO COOKIE" on its stdin; where none runs, "xauth -q -" gets the
 * cookie for the display. */
static void
run_rc(const struct spawn *x)
{
	const char *path = NULL, *prog = "/bin/sh", *input = x->rc_input;
	const char *argv[4] = { "sh", NULL, NULL, NULL };
	int in;

	if (x->user_rc[0] && access(x->user_rc, F_OK) == 0)
		path = x->user_rc;
	else if (x->sp->system_rc && access(x->sp->system_rc, F_OK) == 0)
		path = x->sp->system_rc;
	if (path != NULL)
		argv[1] = path;
	else if (x->xauth_input[0] != '\0') {
		prog = XAUTH_PATH;
		argv[0] = "xauth", argv[1] = "-q", argv[2] = "-";
		input = x->xauth_input;
	} else
		return;
	in = input[0] != '\0' ? input_pipe(input) : open("/dev/null", O_RDONLY | O_CLOEXEC);
	run_waited(prog, argv, x->env, in);
}

/* The session's profile, and the subsystem's stacked on it if it
 * differs. */
static void
apply_profiles(struct spawn *x)
{
	const struct session_spec *sp = x->sp;

	if (sandbox_apply_profile(sp->profile, &sp->sandbox) < 0)
		fail(x, "cannot load the sandbox profile");
	if (sp->subsystem_profile != sp->profile &&
	    sandbox_apply_profile(sp->subsystem_profile, &sp->sandbox) < 0)
		fail(x, "cannot load the subsystem's sandbox profile");
}

/* Runs as root with the monitor's capabilities until the drop, then as
 * the user: everything that needs root comes first. */
static int
child_main(void *arg)
{
	struct spawn *x = arg;
	const struct session_spec *sp = x->sp;
	const struct user_info *u = sp->user;
	sigset_t none;
	struct sigaction dfl = { .sa_handler = SIG_DFL };

	/* Dispositions first, still blocked: a signal must never run one of
	 * the monitor's handlers on its memory from here. */
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (setsid() < 0)
		fail(x, "cannot start a new session (setsid)");
	if (x->ctty >= 0 && ioctl(x->ctty, TIOCSCTTY, 0) < 0)
		fail(x, "cannot take the terminal");
	for (int i = 0; i < 3; i++)
		if (x->fds[i] == i ? fcntl(i, F_SETFD, 0) < 0 : dup2(x->fds[i], i) < 0)
			fail(x, "cannot set up the session's descriptors");
	umask(022);
	/* ChrootDirectory: as root, through the directory the monitor
	 * checked (chroot.c); the home below is then the chroot's. */
	if (sp->chroot_fd >= 0 && (fchdir(sp->chroot_fd) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0))
		fail(x, "cannot enter the chroot directory");
	/* As root: policy may raise a hard limit (MaxOpenFiles). */
	if (sandbox_set_limits(&sp->limits) < 0)
		fail(x, "cannot set the session's limits");
	/* Setuid programs allowed (NoNewPrivileges no): without no_new_privs
	 * only CAP_SYS_ADMIN may load a filter, so the profile comes first,
	 * as root; the drop's calls are all ones it lets through. */
	if (sp->sandbox.setuid_ok) {
		apply_profiles(x);
		if (sandbox_drop_to_user_setuid_ok(u->uid, u->gid, u->groups,
		    u->ngroups) < 0)
			fail(x, "cannot drop privileges");
	} else if (sandbox_drop_to_user(u->uid, u->gid, u->groups, u->ngroups) < 0)
		fail(x, "cannot drop privileges");
	/* No PR_SET_PDEATHSIG: the kernel would send it with the monitor's
	 * rights, which reach no other uid (no CAP_KILL).  If the monitor
	 * dies, the guardian ends the session (guardian/guardian.h); a
	 * monitor that died before this point left us the guardian's. */
	if (getppid() != sp->monitor)
		fail(x, "the monitor is gone");
	/* As the user: a home the user cannot enter (mode 0700 of another
	 * owner, root-squashed NFS) is not entered by root on its behalf. */
	if (chdir(u->dir) < 0 && chdir("/") < 0)
		fail(x, "cannot enter the home directory or /");
	if (!sp->sandbox.setuid_ok)
		apply_profiles(x);
	closefrom(3);
	if (sp->run == RUN_SFTP_ONLY) {
		put1("This service allows sftp connections only.\n");
		_exit(1);
	}
	/* No exec: the server is in this process (a chroot may hold no
	 * binary), which is its own copy of the monitor's (spawn()). */
	if (sp->run == RUN_SFTP)
		_exit(sftp_serve(0, 1, sp->sftp));
	run_rc(x);
	execve(x->shell, (char *const *)x->argv, x->env);
	x->exec_errno = errno;
	x->why = "cannot run the shell";
	const char *why = strerrordesc_np(errno);

	put(x->fail_msg);
	put(why ? why : "unknown error");
	put("\r\n");
	_exit(127);
}

/* Starts the child on fds (its 0, 1, 2) with ctty as its terminal. */
static int
spawn(const struct session_spec *sp, const char *tty, const int fds[3], int ctty,
    pid_t *ret, char *why, size_t whylen)
{
	/* The child's own stack: it must not run on (and return into) the
	 * parent's frames.  64 KiB is ample for the calls above. */
	static _Alignas(16) char stack[64 * 1024];
	struct spawn x = { .sp = sp, .shell = sp->user->shell, .ctty = ctty };
	size_t n = 0;
	const char *base = strrchr(x.shell, '/');
	pid_t pid;

	base = base ? base + 1 : x.shell;
	x.env = tty ? with_tty(sp->env, tty, &n) : sp->env;
	if (x.env == NULL)
		return -ENOMEM;
	x.env_own = n;
	if (sp->command == NULL) {
		/* A login shell: argv[0] is "-" + the shell's name. */
		snprintf(x.argv0, sizeof(x.argv0), "-%s", base);
		x.argv[0] = x.argv0;
	} else {
		x.argv[0] = base;
		x.argv[1] = "-c";
		x.argv[2] = sp->command;
	}
	snprintf(x.fail_msg, sizeof(x.fail_msg), "sshand: cannot run %s: ", x.shell);
	if (sp->user_rc && (size_t)snprintf(x.user_rc, sizeof(x.user_rc), "%s/.ssh/rc",
	    sp->user->dir) >= sizeof(x.user_rc))
		x.user_rc[0] = '\0';
	/* sshd's do_rc_files lines; the monitor checked each string
	 * (xauth_valid_string), and their bounds fit these buffers. */
	if (sp->x11_proto != NULL &&
	    ((size_t)snprintf(x.rc_input, sizeof(x.rc_input), "%s %s\n",
	    sp->x11_proto, sp->x11_cookie) >= sizeof(x.rc_input) ||
	    (size_t)snprintf(x.xauth_input, sizeof(x.xauth_input),
	    "remove %s\nadd %s %s %s\n", sp->x11_display, sp->x11_display,
	    sp->x11_proto, sp->x11_cookie) >= sizeof(x.xauth_input))) {
		log_info("%s", "X11 cookie too long for xauth: not passed on");
		x.rc_input[0] = x.xauth_input[0] = '\0';
	}
	memcpy(x.fds, fds, sizeof(x.fds));
	/* No copy of the monitor's page tables, and no copy-on-write faults
	 * in the monitor afterwards: the parent waits until the child has
	 * exec'ed (or exited). */
	STACK_CLEAN(stack);
	if (sp->run == RUN_SFTP) {
		/* internal-sftp never execs: it must not run in the
		 * monitor's memory, nor keep the monitor waiting.  A copy
		 * of our memory, then, as OpenSSH's session child is of
		 * sshd's; whatever makes it fail, it says on its stderr, and
		 * its exit status (126) ends up in the session's record. */
		pid = fork();
		if (pid == 0) {
			child_main(&x);
			_exit(127);
		}
	} else
		pid = clone(child_main, stack + sizeof(stack),
		    CLONE_VM | CLONE_VFORK | SIGCHLD, &x);
	int e = errno;

	if (x.env != sp->env) {
		/* Only the SSH_TTY entry and the array are ours. */
		free(x.env[x.env_own]);
		free(x.env);
	}
	explicit_bzero(x.rc_input, sizeof(x.rc_input));
	explicit_bzero(x.xauth_input, sizeof(x.xauth_input));
	if (pid < 0)
		return -e;
	/* The child has exec'ed or ended (CLONE_VFORK): if it could not
	 * start, it said why in x. */
	if (x.why != NULL)
		snprintf(why, whylen, "%s%s%s", x.why, x.exec_errno ? ": " : "",
		    x.exec_errno ? strerror(x.exec_errno) : "");
	*ret = pid;
	return 0;
}

/* Opens the pty with the user's file system ids, so that devpts makes its
 * slave the user's, in the group and mode its mount options say (Debian:
 * tty, 0620), as if the user had opened it; root's would be root's, and
 * handing it over would take CAP_CHOWN, which neither the monitor after
 * login nor the shipped unit has.  Where devpts has no gid= option the
 * slave gets the user's own group instead of tty: then it is made 0600,
 * as OpenSSH's pty_setowner() does without a tty group.  Both while the
 * user's ids are in force: the owner may chmod. */
static int
open_pty(const struct session_spec *sp, int *master, int *slave, char *name,
    const struct winsize *ws)
{
	const struct user_info *u = sp->user;
	uid_t old_uid = (uid_t)setfsuid(u->uid);
	gid_t old_gid = (gid_t)setfsgid(u->gid);
	struct stat st;
	int r = 0;

	if (openpty(master, slave, name, NULL, ws) < 0) {
		r = -errno;
		goto out;
	}
	if (fstat(*slave, &st) < 0)
		r = -errno;
	else if (st.st_uid != u->uid)
		r = -EPERM;	/* devpts's uid= option, or no setfsuid() */
	else if (st.st_gid == u->gid && (st.st_mode & 077) != 0 && fchmod(*slave, 0600) < 0)
		r = -errno;
	if (r < 0) {
		close(*master);
		close(*slave);
	}
out:
	setfsgid(old_gid);
	setfsuid(old_uid);
	return r;
}

static int
start_pty(const struct session_spec *sp, struct session_proc *ret)
{
	struct winsize ws = { .ws_row = sp->rows, .ws_col = sp->cols,
	    .ws_xpixel = sp->xpix, .ws_ypixel = sp->ypix };
	int master, slave;
	pid_t pid;

	int r = open_pty(sp, &master, &slave, ret->tty, &ws);

	if (r < 0)
		return r;
	/* The client's modes; a list we cannot read leaves the defaults,
	 * which suit common terminals, rather than refusing the session. */
	r = ptymodes_apply(slave, sp->modes, sp->nmodes);
	if (r < 0)
		log_errno(LOG_INFO, r, "terminal modes of the pty request not applied");
	/* Through the line discipline, with the client's modes, as sshd's
	 * child writes it to the pty. */
	if (sp->greeting != NULL)
		greeting_write(slave, sp->greeting, sp->greeting_len);
	/* Neither end may reach the shell through exec: the child has them
	 * as 0, 1, 2 only. */
	fcntl(master, F_SETFD, FD_CLOEXEC);
	fcntl(slave, F_SETFD, FD_CLOEXEC);
	r = spawn(sp, ret->tty, (const int[3]){ slave, slave, slave }, slave, &pid,
	    ret->why, sizeof(ret->why));
	close(slave);
	if (r < 0) {
		close(master);
		return r;
	}
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
	/* The output pipe as large as the network child's reads of it
	 * (RELAY_SESSION_CHUNK): a download then takes a quarter of the
	 * reads and poll rounds.  Its pages come only as data fills it.
	 * Past the creator's pipe allowance (fs.pipe-user-pages-soft) the
	 * kernel refuses, and the pipe keeps its 64 KiB. */
	(void)fcntl(out[0], F_SETPIPE_SZ, PS_SESSION_OUTPUT_SIZE);
	if (sp->greeting != NULL)
		greeting_write(out[1], sp->greeting, sp->greeting_len);
	e = spawn(sp, NULL, (const int[3]){ in[0], out[1], err[1] }, -1, &pid,
	    ret->why, sizeof(ret->why));
	if (e < 0)
		goto fail;
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
