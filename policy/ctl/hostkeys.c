/* sshandctl hostkeys: create the missing host keys, as `ssh-keygen -A`
 * does, by running ssh-keygen itself.  Host keys must be exactly what
 * ssh-keygen makes (administrators copy them between sshd and sshand);
 * libssh 0.10 writes ecdsa and rsa private keys as PKCS#8 instead, and
 * converting them here meant re-implementing OpenSSH's container.
 *
 * Also the list of keys both this and `sshandctl fingerprints` act on. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "policy/config.h"
#include "policy/ctl/ctl.h"

#ifndef SSH_KEYGEN
#define SSH_KEYGEN	"/usr/bin/ssh-keygen"
#endif
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))


/* What the file name says, and what ssh-keygen -A makes of each type. */
static const struct keytype {
	const char *word;	/* in the file name */
	const char *bits;	/* -b, or NULL */
} keytypes[] = {
	{ "ed25519", NULL },
	{ "ecdsa", "256" },
	{ "rsa", "3072" },
};

static const struct keytype *
type_from_name(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t i;

	base = base != NULL ? base + 1 : path;
	for (i = 0; i < NELEM(keytypes); i++)
		if (strstr(base, keytypes[i].word) != NULL)
			return &keytypes[i];
	return NULL;
}

/* Runs ssh-keygen for one key into file (and file.pub), without a shell,
 * nothing to read on stdin (it would ask before overwriting) and its
 * stdout on our stderr (ours carries the "created" lines). */
static int
run_keygen(const struct keytype *t, const char *comment, const char *file,
    char *err, size_t errlen)
{
	char *const env[] = { (char *)"PATH=/usr/bin:/bin", (char *)"LC_ALL=C",
	    NULL };
	char *argv[16];
	posix_spawn_file_actions_t fa;
	int argc = 0, r, status;
	pid_t pid;

	argv[argc++] = (char *)"ssh-keygen";
	argv[argc++] = (char *)"-q";
	argv[argc++] = (char *)"-t";
	argv[argc++] = (char *)t->word;
	if (t->bits != NULL) {
		argv[argc++] = (char *)"-b";
		argv[argc++] = (char *)t->bits;
	}
	argv[argc++] = (char *)"-N";
	argv[argc++] = (char *)"";
	argv[argc++] = (char *)"-C";
	argv[argc++] = (char *)comment;
	argv[argc++] = (char *)"-f";
	argv[argc++] = (char *)file;
	argv[argc] = NULL;

	if ((r = posix_spawn_file_actions_init(&fa)) != 0) {
		snprintf(err, errlen, "%s", strerror(r));
		return -r;
	}
	r = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0);
	if (r == 0)
		r = posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO,
		    STDOUT_FILENO);
	if (r == 0)
		r = posix_spawn(&pid, SSH_KEYGEN, &fa, NULL, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0) {
		snprintf(err, errlen, "cannot run " SSH_KEYGEN ": %s",
		    strerror(r));
		return -r;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			r = errno;
			snprintf(err, errlen, "waiting for ssh-keygen: %s",
			    strerror(r));
			return -r;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		snprintf(err, errlen, "ssh-keygen failed (exit status %d)",
		    WEXITSTATUS(status));
	else
		snprintf(err, errlen, "ssh-keygen killed by signal %d",
		    WTERMSIG(status));
	return -EIO;
}

/* The mode we promise, whatever the umask made of it, on disk before
 * the file gets its real name. */
static int
settle(const char *path, mode_t mode)
{
	int fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return -errno;
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

static void
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* ssh-keygen writes into a fresh directory of ours next to path (same
 * file system, nobody else can write there); the private key then
 * gets its name through link(), which fails rather than overwrite a key
 * someone made meanwhile, the public key through rename().
 * 1 if created, 0 if path existed, else -errno and err says why. */
static int
create_key(const char *path, const char *comment, char *err, size_t errlen)
{
	char dir[PATH_MAX], tmpdir[PATH_MAX], tmpkey[PATH_MAX] = "",
	    tmppub[PATH_MAX] = "", pubpath[PATH_MAX];
	const struct keytype *t;
	const char *slash;
	struct stat st;
	int r;

	if (lstat(path, &st) == 0)
		return 0;
	if (errno != ENOENT) {
		r = -errno;
		snprintf(err, errlen, "%s", strerror(-r));
		return r;
	}
	if ((t = type_from_name(path)) == NULL) {
		snprintf(err, errlen, "cannot tell the key type from the file "
		    "name (expected ed25519, ecdsa or rsa in it)");
		return -EINVAL;
	}
	slash = strrchr(path, '/');
	if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if (slash != NULL)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		snprintf(dir, sizeof(dir), ".");
	if ((size_t)snprintf(pubpath, sizeof(pubpath), "%s.pub", path) >=
	    sizeof(pubpath) ||
	    (size_t)snprintf(tmpdir, sizeof(tmpdir), "%s/.sshandctl-XXXXXX",
	    dir) >= sizeof(tmpdir)) {
		snprintf(err, errlen, "path too long");
		return -ENAMETOOLONG;
	}
	if (mkdtemp(tmpdir) == NULL) {
		r = -errno;
		snprintf(err, errlen, "%s", strerror(-r));
		return r;
	}
	r = -ENAMETOOLONG;
	snprintf(err, errlen, "path too long");
	if ((size_t)snprintf(tmpkey, sizeof(tmpkey), "%s/key", tmpdir) <
	    sizeof(tmpkey) && (size_t)snprintf(tmppub, sizeof(tmppub),
	    "%s/key.pub", tmpdir) < sizeof(tmppub))
		r = run_keygen(t, comment, tmpkey, err, errlen);
	if (r == 0 && ((r = settle(tmpkey, 0600)) < 0 ||
	    (r = settle(tmppub, 0644)) < 0))
		snprintf(err, errlen, "%s", strerror(-r));
	if (r == 0 && link(tmpkey, path) < 0) {
		r = -errno;
		if (r == -EEXIST)
			r = 0;	/* lost a race: someone else made it */
		else
			snprintf(err, errlen, "%s", strerror(-r));
		goto out;
	}
	/* A leftover .pub without its private key is stale: replace it. */
	if (r == 0 && rename(tmppub, pubpath) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", pubpath, strerror(-r));
	}
	if (r == 0)
		r = 1;
out:
	(void)unlink(tmpkey);
	(void)unlink(tmppub);
	(void)rmdir(tmpdir);
	sync_dir(dir);
	return r;
}

/* ---- the keys to act on ---------------------------------------------- */

void
keylist_free(struct keylist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->path[i]);
	l->n = 0;
}

static int
keylist_add(struct keylist *l, const char *dir, const char *name)
{
	char *p;

	if (l->n >= KEYLIST_MAX)
		return -E2BIG;
	if (dir != NULL) {
		if (asprintf(&p, "%s/%s", dir, name) < 0)
			return -ENOMEM;
	} else if ((p = strdup(name)) == NULL) {
		return -ENOMEM;
	}
	l->path[l->n++] = p;
	return 0;
}

/* The HostKey lines of the configuration (no file: the defaults); with
 * dir, the default keys' file names in dir instead. */
static int
keylist_from_config(const char *cmd, const char *cfgpath, const char *dir,
    struct keylist *l)
{
	struct settings *s = NULL;
	char err[512];
	size_t i;
	int r;

	err[0] = '\0';
	r = dir != NULL ? config_defaults(&s) :
	    config_settings(cfgpath, &s, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "sshandctl %s: %s\n", cmd, err[0] ? err : strerror(-r));
		return -1;
	}
	for (i = 0; r == 0 && i < s->host_keys.n; i++) {
		const char *name = strrchr(s->host_keys.v[i], '/');

		r = dir != NULL ? keylist_add(l, dir, name + 1) :
		    keylist_add(l, NULL, s->host_keys.v[i]);
	}
	settings_free(s);
	if (r < 0) {
		fprintf(stderr, "sshandctl %s: %s\n", cmd, r == -E2BIG ?
		    "too many HostKey lines" : strerror(-r));
		return -1;
	}
	return 0;
}

int
keylist_gather(const struct ctl_opts *o, const char *cmd, int argc,
    char **argv, struct keylist *l, bool *ret_json)
{
	bool fingerprints = strcmp(cmd, "fingerprints") == 0;
	const char *dir = NULL;
	int i;

	*ret_json = o != NULL && o->json;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else if (strncmp(argv[i], "-d", 2) == 0 && argv[i][2] != '\0') {
			dir = argv[i] + 2;
		} else if (fingerprints && strcmp(argv[i], "--json") == 0) {
			*ret_json = true;
		} else {
			fprintf(stderr, "usage: sshandctl [-f CONFIG] %s%s "
			    "[-d DIR]\n", fingerprints ? "[--json] " : "", cmd);
			return 2;
		}
	}
	if (dir != NULL && !fingerprints && mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "sshandctl %s: %s: %s\n", cmd, dir,
		    strerror(errno));
		return 1;
	}
	return keylist_from_config(cmd, o != NULL && o->config_path != NULL ?
	    o->config_path : SSHAND_CONFIG_PATH, dir, l) < 0 ? 1 : 0;
}

int
ctl_hostkeys(const struct ctl_opts *o, int argc, char **argv)
{
	struct keylist l = { .n = 0 };
	char host[256], comment[300], err[PATH_MAX + 128];
	bool json;
	size_t i;
	int r, rc;

	if ((rc = keylist_gather(o, "hostkeys", argc, argv, &l, &json)) != 0)
		goto out;
	/* ssh-keygen -A, run by root, names its keys root@host. */
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(comment, sizeof(comment), "root@%s", host);
	for (i = 0; i < l.n; i++) {
		r = create_key(l.path[i], comment, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "sshandctl hostkeys: %s: %s\n",
			    l.path[i], err);
			rc = 1;
		} else if (r == 1) {
			printf("created %s\n", l.path[i]);
			/* in order with ssh-keygen's diagnostics on stderr */
			fflush(stdout);
		}
	}
out:
	keylist_free(&l);
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}
