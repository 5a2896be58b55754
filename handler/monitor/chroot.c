/* ChrootDirectory, checked by the monitor (root) before a session's
 * process exists, with sshd's rules (safely_chroot): every component of
 * the path, from "/" down, is a directory owned by root and writable by
 * nobody else.  Otherwise a user who can write to one of them could
 * plant a /etc or /lib the session would then trust, or move the
 * directory away.
 *
 * The path is resolved first (a symbolic link in it, /home -> /srv/home
 * say, is followed once, and the real components are the ones checked),
 * then walked from "/" with O_NOFOLLOW, each step relative to the last,
 * so that what is checked is what the session's process enters: it gets
 * the last directory open and chroots to it through fchdir(), no path
 * being looked up again between the check and the chroot. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "handler/monitor/authkeys.h"
#include "handler/monitor/chroot.h"

static int
check_dir(int fd, const char *shown, char *why, size_t whylen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		snprintf(why, whylen, "cannot stat chroot directory component "
		    "\"%s\"", shown);
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "chroot path \"%s\" is not a directory",
		    shown);
		return -ENOTDIR;
	}
	if (st.st_uid != 0 || (st.st_mode & 022) != 0) {
		snprintf(why, whylen, "bad ownership or modes for chroot "
		    "directory component \"%s\"", shown);
		return -EPERM;
	}
	return 0;
}

int
chroot_open(const char *pattern, const struct user_info *u, char *path,
    size_t pathlen, char *why, size_t whylen)
{
	char expanded[PATH_MAX], real[PATH_MAX], *save = NULL, *c;
	size_t at = 0;
	int fd, r;

	why[0] = '\0';
	if (pathlen > 0)
		path[0] = '\0';
	r = authkeys_expand_path(pattern, u->name, u->dir, expanded,
	    sizeof(expanded));
	if (r < 0 || expanded[0] != '/') {
		snprintf(why, whylen, "chroot path \"%s\" does not begin at root",
		    pattern);
		return r < 0 ? r : -EINVAL;
	}
	snprintf(path, pathlen, "%s", expanded);
	if (realpath(expanded, real) == NULL) {
		r = -errno;
		snprintf(why, whylen, "chroot path \"%s\": %s", expanded,
		    strerror(-r));
		return r;
	}
	snprintf(path, pathlen, "%s", real);
	if ((fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	if ((r = check_dir(fd, "/", why, whylen)) < 0) {
		close(fd);
		return r;
	}
	/* real is canonical: no "." or "..", no empty component, no link. */
	for (c = strtok_r(real + 1, "/", &save); c != NULL;
	    c = strtok_r(NULL, "/", &save)) {
		int next = openat(fd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);

		at += strlen(c) + 1;
		if (next < 0) {
			r = -errno;
			snprintf(why, whylen, "chroot path \"%.*s\": %s",
			    (int)at, path, strerror(-r));
			close(fd);
			return r;
		}
		close(fd);
		fd = next;
		if ((r = check_dir(fd, path, why, whylen)) < 0) {
			/* The component, not the whole path. */
			snprintf(why, whylen, "bad ownership or modes for chroot "
			    "directory component \"%.*s\"", (int)at, path);
			if (r == -ENOTDIR)
				snprintf(why, whylen, "chroot path \"%.*s\" is "
				    "not a directory", (int)at, path);
			close(fd);
			return r;
		}
	}
	return fd;
}
