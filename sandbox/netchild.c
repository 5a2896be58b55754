/* The pre-authentication network child: the process that runs libssh
 * against bytes from strangers.  It is chrooted into an empty directory,
 * runs as a uid that owns nothing, and may make only the system calls
 * below; anything else kills it (the parent then ends the connection).
 *
 * What must happen before sandbox_apply_netchild_filter() is listed in
 * sandbox.h: everything that opens files (host keys, OpenSSL's config and
 * providers, /etc/ssh/moduli, time zone data) and everything that seeds
 * or initialises once (OpenSSL's DRBG).  Its allow-list is in
 * rules/netchild.c. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/sandbox.h"

/* Checks the directory through fd (no window between check and use):
 * root-owned, not writable by group or others, and empty, so that
 * nothing inside the chroot can be planted, linked or read. */
static int
check_chroot_dir(int fd)
{
	char buf[1024];
	struct stat st;
	ssize_t n;
	int rounds;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return -EPERM;
	/* Bounded: a directory holding only "." and ".." fits in one
	 * buffer; a second round means there is more. */
	for (rounds = 0; rounds < 2; rounds++) {
		ssize_t off = 0;

		n = getdents64(fd, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		while (off < n) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);

			if (strcmp(d->d_name, ".") != 0 &&
			    strcmp(d->d_name, "..") != 0)
				return -ENOTEMPTY;
			off += d->d_reclen;
		}
	}
	return -ENOTEMPTY;
}

int
sandbox_enter_netchild(uid_t uid, gid_t gid, const char *dir)
{
	int fd, r;

	if (dir == NULL || dir[0] != '/')
		return -EINVAL;
	/* The network child must be nobody: not root, not a login user's
	 * gid 0 either. */
	if (uid == 0 || gid == 0 || uid == (uid_t)-1 || gid == (gid_t)-1)
		return -EINVAL;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = check_chroot_dir(fd);
	if (r == 0 && fchdir(fd) < 0)
		r = -errno;
	if (r == 0 && chroot(".") < 0)
		r = -errno;
	if (r == 0 && chdir("/") < 0)
		r = -errno;
	close(fd);
	if (r < 0)
		return r;
	return sandbox_drop_to_user(uid, gid, NULL, 0);
}
