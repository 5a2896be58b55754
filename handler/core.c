/* The core of sshand: everything after the ban check, in sshand-core.so.
 *
 * A banned address is turned away by the front (main.c), which links only
 * libc: loading libssh, OpenSSL, PAM and libcap-ng (16 libraries with
 * their dependencies) costs some 1.2 ms of CPU, most of what a refusal
 * would otherwise cost.  The front dlopen()s this file once the ban check
 * has passed and calls sshand_core.main; the core uses the front's
 * policy, audit and log code, which the front exports to it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "handler/auth.h"
#include "handler/handler.h"
#include "handler/log.h"

static char *
read_banner(const char *path)
{
	char *buf;
	ssize_t n;
	int fd;

	if (path == NULL)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		log_warning("Banner %s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(8193);
	if (buf == NULL) {
		close(fd);
		return NULL;
	}
	n = read(fd, buf, 8192);	/* bounded: a banner is a few lines */
	close(fd);
	if (n <= 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

static int
test_config(const char *path)
{
	struct config *cfg;
	struct settings *s;
	char err[512];
	int rc = EXIT_OK;

	if (config_load(path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "sshand: %s\n", err);
		return EXIT_CONFIG;
	}
	if (config_resolve(cfg, NULL, &s) < 0) {
		config_free(cfg);
		return EXIT_CONFIG;
	}
	for (size_t i = 0; i < s->host_keys.n; i++) {
		ssh_key k = NULL;

		if (ssh_pki_import_privkey_file(s->host_keys.v[i], NULL, NULL, NULL,
		    &k) != SSH_OK) {
			fprintf(stderr, "sshand: %s: HostKey %s cannot be loaded\n",
			    path, s->host_keys.v[i]);
			rc = EXIT_CONFIG;
		}
		ssh_key_free(k);
	}
	settings_free(s);
	config_free(cfg);
	return rc;
}

static int
core_main(struct conn *c)
{
	int mon[2];
	pid_t pid;

	/* After the ban check: a banned source costs no NSS lookup. */
	struct passwd *pw = getpwnam(c->global->privsep_user);
	if (pw == NULL || pw->pw_uid == 0) {
		log_error("PrivsepUser %s: %s", c->global->privsep_user, pw ? "must not be root" :
		    "no such user (make install creates it)");
		return EXIT_CONFIG;
	}
	c->privsep_uid = pw->pw_uid;
	c->privsep_gid = pw->pw_gid;

	c->banner_text = read_banner(c->global->banner);
	/* The network child needs OpenSSL's configuration and providers
	 * for everything, the monitor for key fingerprints: loaded once,
	 * here, and inherited.  After the ban check, which needs neither. */
	if (crypto_preload() < 0) {
		log_error("OpenSSL cannot be initialised (its configuration or providers)");
		return EXIT_INTERNAL;
	}

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, mon) < 0) {
		log_errno(LOG_ERR, -errno, "socketpair");
		return EXIT_INTERNAL;
	}
	c->monitor_pid = getpid();
	phase("prefork", c->start_usec);
	pid = fork();
	if (pid < 0) {
		log_errno(LOG_ERR, -errno, "fork");
		return EXIT_INTERNAL;
	}
	if (pid == 0) {
		close(mon[0]);
		log_set_prefix("net");
		_exit(net_main(c, mon[1]));
	}
	close(mon[1]);
	return monitor_main(c, mon[0], pid);
}

__attribute__((visibility("default"))) const struct sshand_core sshand_core = {
	.abi = SSHAND_CORE_ABI,
	.main = core_main,
	.test = test_config,
};
