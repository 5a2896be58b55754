/* AuthorizedKeysCommand (keyscmd.h): the run, bounded in time and size,
 * as an unprivileged user; and per connection, the answers given. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "handler/front/log.h"
#include "handler/monitor/keyscmd.h"
#include "handler/monitor/proctree.h"
#include "policy/keyscmd.h"
#include "policy/util/base64.h"
#include "policy/util/sshwire.h"
#include "sandbox/sandbox.h"

#define STDPATH "/usr/bin:/bin:/usr/sbin:/sbin"	/* sshd's _PATH_STDPATH */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
left_ms(uint64_t deadline)
{
	uint64_t now = now_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

/* The child: never returns.  Nothing here logs: the log's descriptor is
 * closed, and the exit status is all the parent learns. */
static void __attribute__((noreturn))
child(const char *path, char *const *argv, const struct user_info *runas,
    int out)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	char *env[6], *lang = getenv("LANG");
	size_t n = 0;
	sigset_t none;
	int null;

	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* A session and process group of its own: killed whole at the end. */
	if (setsid() < 0)
		_exit(126);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(null, 2) < 0)
		_exit(126);
	closefrom(3);
	if (chdir("/") < 0)
		_exit(126);
	if (asprintf(&env[n++], "PATH=%s", STDPATH) < 0 ||
	    asprintf(&env[n++], "USER=%s", runas->name) < 0 ||
	    asprintf(&env[n++], "LOGNAME=%s", runas->name) < 0 ||
	    asprintf(&env[n++], "HOME=%s", runas->dir) < 0 ||
	    (lang != NULL && asprintf(&env[n++], "LANG=%s", lang) < 0))
		_exit(126);
	env[n] = NULL;
	umask(022);
	if (sandbox_drop_to_user(runas->uid, runas->gid, runas->groups,
	    runas->ngroups) < 0)
		_exit(126);
	execve(path, argv, env);
	_exit(127);
}

/* Reads the child's output until its end, max bytes or the deadline. */
static int
read_output(int fd, uint64_t deadline, size_t max, char **buf, size_t *len,
    char *why, size_t whylen, int timeout_ms)
{
	size_t cap = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, left_ms(deadline));
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0) {
			snprintf(why, whylen, "no answer within %g s, killed",
			    timeout_ms / 1000.0);
			return -ETIMEDOUT;
		}
		if (cap - *len < 4096) {
			size_t ncap = cap == 0 ? 8192 : cap * 2;
			char *nb;

			if (ncap > max + 1)
				ncap = max + 1;
			if (ncap <= *len) {
				snprintf(why, whylen, "more than %zu bytes of "
				    "output, killed", max);
				return -EFBIG;
			}
			if ((nb = realloc(*buf, ncap + 1)) == NULL)
				return -ENOMEM;
			*buf = nb;
			cap = ncap;
		}
		n = read(fd, *buf + *len, cap - *len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		*len += (size_t)n;
		if (*len > max) {
			snprintf(why, whylen, "more than %zu bytes of output, "
			    "killed", max);
			return -EFBIG;
		}
	}
}

/* Waits for pid to end, until the deadline (0 if it did). */
static int
wait_exit(pid_t pid, uint64_t deadline)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (pfd < 0)
		return -errno;
	for (;;) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		int r = poll(&p, 1, left_ms(deadline));

		if (r < 0 && errno == EINTR)
			continue;
		close(pfd);
		return r > 0 ? 0 : r == 0 ? -ETIMEDOUT : -errno;
	}
}

int
keyscmd_run(char *const *argv, const struct user_info *runas, int timeout_ms,
    size_t max, char **ret_out, size_t *ret_len, char *why, size_t whylen)
{
	char path[PATH_MAX], *out = NULL;
	uint64_t deadline;
	size_t len = 0;
	int p[2], r, status;
	pid_t pid;

	why[0] = '\0';
	if (argv == NULL || argv[0] == NULL || argv[0][0] != '/') {
		snprintf(why, whylen, "not an absolute path");
		return -EINVAL;
	}
	/* sshd's rule: root's program, in root's directories, changed by
	 * nobody else; the one checked is the one run. */
	if ((r = authkeys_check_modes(argv[0], 0, NULL, why, whylen)) < 0)
		return r;
	if (realpath(argv[0], path) == NULL) {
		r = -errno;
		snprintf(why, whylen, "realpath: %s", strerror(-r));
		return r;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		r = -errno;
		snprintf(why, whylen, "pipe: %s", strerror(-r));
		return r;
	}
	deadline = now_ms() + (uint64_t)timeout_ms;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(p[0]);
		close(p[1]);
		snprintf(why, whylen, "fork: %s", strerror(-r));
		return r;
	}
	if (pid == 0)
		child(path, argv, runas, p[1]);
	close(p[1]);
	r = read_output(p[0], deadline, max, &out, &len, why, whylen, timeout_ms);
	close(p[0]);
	if (r == 0 && wait_exit(pid, deadline) == -ETIMEDOUT) {
		snprintf(why, whylen, "did not exit within %g s, killed",
		    timeout_ms / 1000.0);
		r = -ETIMEDOUT;
	}
	/* Nothing it started outlives it: the group is signalled before
	 * its leader is reaped, while its id cannot be another's.  As the
	 * user it runs as: the monitor holds no CAP_KILL.  The leader by
	 * its pid too, in case it never got as far as its own group (its
	 * real uid is then still root's, as ours is). */
	(void)proctree_kill_as(-pid, SIGKILL, runas->uid, runas->gid);
	(void)proctree_kill_as(pid, SIGKILL, runas->uid, runas->gid);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == 0 && WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		snprintf(why, whylen, "exited with status %d%s",
		    WEXITSTATUS(status), WEXITSTATUS(status) == 127 ?
		    " (could not be executed)" : WEXITSTATUS(status) == 126 ?
		    " (could not be started as its user)" : "");
		r = -ECHILD;
	} else if (r == 0 && WIFSIGNALED(status)) {
		snprintf(why, whylen, "killed by signal %d", WTERMSIG(status));
		r = -ECHILD;
	}
	if (r < 0) {
		if (why[0] == '\0')
			snprintf(why, whylen, "%s", strerror(-r));
		free(out);
		return r;
	}
	if (out == NULL && (out = malloc(1)) == NULL)
		return -ENOMEM;
	out[len] = '\0';
	*ret_out = out;
	*ret_len = len;
	return 0;
}

/* ---------------------------------------------------------------- */
/* Per connection */

/* What a run gave, for a user and key: the output (then matched again
 * for each request, as a file is read again), or its failure. */
struct answer {
	char *user;
	char *command;		/* the line, and */
	char *runas;		/* its user: a Match may change them */
	uint8_t *blob;
	size_t blob_len;
	int result;		/* 0, or keyscmd_run()'s error */
	char why[256];
	char *out;
	size_t out_len;
};

/* A few: the OpenSSH client probes a key and signs with it at once;
 * other clients probe several first.  Failed probes are bounded by
 * MaxAuthTries, and the oldest answer makes room. */
#define ANSWERS_MAX 8
static struct answer answers[ANSWERS_MAX];
static size_t next_answer;
/* A command that timed out is not run again on this connection. */
static char *timed_out;

static void
answer_clear(struct answer *a)
{
	free(a->user);
	free(a->command);
	free(a->runas);
	free(a->blob);
	free(a->out);
	memset(a, 0, sizeof(*a));
}

void
keyscmd_forget(void)
{
	for (size_t i = 0; i < ANSWERS_MAX; i++)
		answer_clear(&answers[i]);
	next_answer = 0;
	free(timed_out);
	timed_out = NULL;
}

/* The key the command is told of (%k, %t) and answers are kept for: a
 * certificate as sent when the query is its CA's, as sshd runs it. */
static const uint8_t *
token_blob(const struct authkey_query *q)
{
	return q->sent != NULL ? q->sent : q->blob;
}

static size_t
token_len(const struct authkey_query *q)
{
	return q->sent != NULL ? q->sent_len : q->blob_len;
}

static struct answer *
answer_find(const char *user, const char *command, const char *runas,
    const struct authkey_query *q)
{
	for (size_t i = 0; i < ANSWERS_MAX; i++) {
		struct answer *a = &answers[i];

		if (a->user != NULL && strcmp(a->user, user) == 0 &&
		    strcmp(a->command, command) == 0 &&
		    strcmp(a->runas, runas) == 0 && a->blob_len == token_len(q) &&
		    memcmp(a->blob, token_blob(q), token_len(q)) == 0)
			return a;
	}
	return NULL;
}

/* The key's type name, the first string of its blob (ssh-ed25519). */
static void
key_type(const uint8_t *blob, size_t len, char *buf, size_t buflen)
{
	struct wire_reader r = wire_reader(blob, len);
	size_t n = 0;
	const uint8_t *t = wire_get_string(&r, 64, &n);

	snprintf(buf, buflen, "%.*s", t != NULL ? (int)n : 0,
	    t != NULL ? (const char *)t : "");
	for (char *c = buf; *c != '\0'; c++)
		if (*c < 0x21 || *c > 0x7e)
			*c = '?';
}

/* Runs the command for u and q's key into a (its key fields set). */
static void
run(struct answer *a, const struct user_info *u, const struct settings *s,
    const struct authkey_query *q, const struct audit_conn *conn)
{
	struct user_info runas = { 0 };
	struct keyscmd_tokens t;
	char uid[16], type[72], fp[128], cid[200], *argv[KEYSCMD_MAX_ARGS + 2];
	char *key = NULL, *buf = NULL;
	const char *why = NULL;
	int r;

	if (user_lookup(s->authorized_keys_command_user, &runas) < 0) {
		snprintf(a->why, sizeof(a->why), "AuthorizedKeysCommandUser %s "
		    "not found", s->authorized_keys_command_user);
		a->result = -ENOENT;
		return;
	}
	if (runas.uid == 0) {
		snprintf(a->why, sizeof(a->why), "AuthorizedKeysCommandUser %s "
		    "has uid 0: refused", runas.name);
		a->result = -EPERM;
		goto out;
	}
	key = malloc(BASE64_ENCODED_SIZE(token_len(q)));
	buf = malloc(KEYSCMD_MAX_EXPANDED);
	if (key == NULL || buf == NULL) {
		a->result = -ENOMEM;
		goto out;
	}
	base64_encode(token_blob(q), token_len(q), key, true);
	snprintf(uid, sizeof(uid), "%u", (unsigned)u->uid);
	key_type(token_blob(q), token_len(q), type, sizeof(type));
	if (q->sent_key != NULL)
		pubkey_fingerprint(q->sent_key, q->sent_key_len, fp, sizeof(fp));
	else
		pubkey_fingerprint(q->blob, q->blob_len, fp, sizeof(fp));
	/* As sshd builds it: the server's end first. */
	snprintf(cid, sizeof(cid), "%s %u %s %u", conn->local_addr,
	    conn->local_port, conn->remote_addr, conn->remote_port);
	t = (struct keyscmd_tokens){ .conn = cid, .user = u->name, .uid = uid,
	    .home = u->dir, .type = type, .fingerprint = fp, .key = key };
	r = keyscmd_argv(s->authorized_keys_command, &t, argv, buf,
	    KEYSCMD_MAX_EXPANDED, &why);
	if (r < 0) {
		snprintf(a->why, sizeof(a->why), "%s", why != NULL ? why :
		    strerror(-r));
		a->result = r;
		goto out;
	}
	log_debug("AuthorizedKeysCommand for %s as %s: %s", u->name, runas.name,
	    argv[0]);
	a->result = keyscmd_run(argv, &runas, KEYSCMD_TIMEOUT_MS,
	    KEYSCMD_MAX_OUTPUT, &a->out, &a->out_len, a->why, sizeof(a->why));
out:
	free(key);
	free(buf);
	user_info_free(&runas);
}

/* The lines of a, matched as a file's are. */
static int
match_output(const struct answer *a, const struct authkey_query *q,
    struct authkey_opts *ret, unsigned *bad, char *why, size_t whylen)
{
	int fd = memfd_create("authorized-keys-command", MFD_CLOEXEC), r = 0;
	size_t done = 0;

	if (fd < 0)
		return -errno;
	while (done < a->out_len && r == 0) {
		ssize_t n = write(fd, a->out + done, a->out_len - done);

		if (n < 0 && errno != EINTR)
			r = -errno;
		else if (n > 0)
			done += (size_t)n;
	}
	if (r == 0 && lseek(fd, 0, SEEK_SET) < 0)
		r = -errno;
	if (r == 0)
		r = authkeys_match_fd(fd, q, ret, bad, why, whylen);
	close(fd);
	return r;
}

int
keyscmd_authorized(const struct user_info *u, const struct settings *s,
    const struct authkey_query *q, const struct audit_conn *conn,
    struct authkey_opts *ret, char *why, size_t whylen)
{
	const char *cmd = s->authorized_keys_command;
	const char *runas = s->authorized_keys_command_user;
	struct answer *a;
	char w[200] = "";
	unsigned bad = 0;
	int r;

	if (cmd == NULL)
		return 0;
	if (runas == NULL) {
		/* The load refuses this; a Match combination may still
		 * reach it. */
		log_error("AuthorizedKeysCommand for %s: no "
		    "AuthorizedKeysCommandUser, not run", u->name);
		return 0;
	}
	if (timed_out != NULL && strcmp(timed_out, cmd) == 0) {
		snprintf(why, whylen, "AuthorizedKeysCommand timed out earlier "
		    "on this connection, not run again");
		return 0;
	}
	a = answer_find(u->name, cmd, runas, q);
	if (a == NULL) {
		a = &answers[next_answer];
		next_answer = (next_answer + 1) % ANSWERS_MAX;
		answer_clear(a);
		a->user = strdup(u->name);
		a->command = strdup(cmd);
		a->runas = strdup(runas);
		a->blob = malloc(token_len(q));
		if (a->user == NULL || a->command == NULL || a->runas == NULL ||
		    a->blob == NULL) {
			answer_clear(a);
			return -ENOMEM;
		}
		memcpy(a->blob, token_blob(q), token_len(q));
		a->blob_len = token_len(q);
		run(a, u, s, q, conn);
		if (a->result < 0) {
			log_error("AuthorizedKeysCommand %s for %s: %s: no key "
			    "from it", cmd, u->name, a->why);
			if (a->result == -ETIMEDOUT) {
				free(timed_out);
				timed_out = strdup(cmd);
			}
		}
	}
	if (a->result < 0) {
		snprintf(why, whylen, "AuthorizedKeysCommand: %s", a->why);
		return 0;
	}
	r = match_output(a, q, ret, &bad, w, sizeof(w));
	if (bad > 0)
		log_info("AuthorizedKeysCommand %s for %s: %u malformed line(s) "
		    "skipped", cmd, u->name, bad);
	if (r == 1)
		ret->from_command = true;
	else if (w[0])
		snprintf(why, whylen, "AuthorizedKeysCommand output: %s", w);
	return r;
}
