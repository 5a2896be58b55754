/* The requests on directories and names: opendir, readdir, mkdir,
 * rmdir, realpath, readlink, symlink. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handler/sftp/sftp-internal.h"

#define CHECK(s, id, in) do {						\
	if ((in)->bad) {						\
		sftp_status((s), (id), FX_BAD_MESSAGE);			\
		return;							\
	}								\
} while (0)

void
sftp_opendir(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	char path[SFTP_PATH_MAX];
	DIR *d;
	int fd, idx;

	sftp_get_cstring(in, path, sizeof(path));
	CHECK(s, id, in);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		sftp_status_errno(s, id, e);
		return;
	}
	if ((idx = sftp_handle_new(s, H_DIR, fd, d, path)) < 0) {
		closedir(d);
		sftp_status(s, id, FX_FAILURE);
		return;
	}
	sftp_put_handle(s, id, idx);
}

/* Up to SFTP_READDIR_BATCH names, each with its "ls -l" line and its
 * attributes (of the entry itself: a link is shown as a link), as long
 * as the reply keeps room for one more of the longest. */
void
sftp_readdir(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	struct sftp_handle *h = sftp_handle_get(s, in, H_DIR);
	struct sftp_out *o = &s->out;
	size_t count_at;
	uint32_t count = 0;

	CHECK(s, id, in);
	if (h == NULL) {
		sftp_status(s, id, FX_FAILURE);
		return;
	}
	sftp_begin(o, FXP_NAME);
	sftp_put_u32(o, id);
	count_at = o->len;
	sftp_put_u32(o, 0);
	while (count < SFTP_READDIR_BATCH &&
	    o->cap - o->len > 2 * SFTP_PATH_MAX + 512) {
		char longname[SFTP_PATH_MAX + 256];
		struct sftp_attrs a;
		struct dirent *de;
		struct stat st;

		errno = 0;
		if ((de = readdir(h->dir)) == NULL)
			break;
		if (fstatat(dirfd(h->dir), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) < 0)
			continue;	/* gone meanwhile */
		sftp_longname(de->d_name, &st, longname, sizeof(longname));
		sftp_attrs_from_stat(&st, &a);
		sftp_put_cstring(o, de->d_name);
		sftp_put_cstring(o, longname);
		sftp_put_attrs(o, &a);
		count++;
	}
	if (count == 0) {
		if (errno != 0)
			sftp_status_errno(s, id, errno);
		else
			sftp_status(s, id, FX_EOF);
		return;
	}
	o->buf[count_at] = (uint8_t)(count >> 24);
	o->buf[count_at + 1] = (uint8_t)(count >> 16);
	o->buf[count_at + 2] = (uint8_t)(count >> 8);
	o->buf[count_at + 3] = (uint8_t)count;
	sftp_end(o);
}

void
sftp_mkdir(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	char path[SFTP_PATH_MAX];
	struct sftp_attrs a;
	mode_t mode;

	sftp_get_cstring(in, path, sizeof(path));
	sftp_get_attrs(in, &a);
	CHECK(s, id, in);
	mode = (a.flags & FXA_PERMISSIONS) ? (mode_t)(a.perm & 07777) : 0777;
	if (mkdir(path, mode) < 0)
		sftp_status_errno(s, id, errno);
	else
		sftp_status(s, id, FX_OK);
}

void
sftp_rmdir(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	char path[SFTP_PATH_MAX];

	sftp_get_cstring(in, path, sizeof(path));
	CHECK(s, id, in);
	if (rmdir(path) < 0)
		sftp_status_errno(s, id, errno);
	else
		sftp_status(s, id, FX_OK);
}

/* realpath(3), except that the last component need not exist (a file
 * about to be uploaded), as OpenSSH's sftp_realpath. */
static int
resolve(const char *path, char *out)
{
	char dir[SFTP_PATH_MAX], *slash;
	const char *base;

	if (realpath(path[0] ? path : ".", out) != NULL)
		return 0;
	if (errno != ENOENT)
		return -errno;
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL) {
		base = path;
		snprintf(dir, sizeof(dir), ".");
	} else {
		base = path + (slash - dir) + 1;
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 ||
	    realpath(dir, out) == NULL)
		return -ENOENT;
	if (strlen(out) + 1 + strlen(base) >= SFTP_PATH_MAX)
		return -ENAMETOOLONG;
	if (strcmp(out, "/") != 0)
		strcat(out, "/");
	strcat(out, base);
	return 0;
}

void
sftp_realpath(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	char path[SFTP_PATH_MAX], out[SFTP_PATH_MAX];
	int r;

	sftp_get_cstring(in, path, sizeof(path));
	CHECK(s, id, in);
	if ((r = resolve(path, out)) < 0)
		sftp_status_errno(s, id, -r);
	else
		sftp_name1(s, id, out, NULL);
}

/* "~" and "~/..." are the directory the session started in (the home,
 * or the chroot's root); then as realpath. */
void
sftp_expand_path(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	char path[SFTP_PATH_MAX], full[SFTP_PATH_MAX], out[SFTP_PATH_MAX];
	int r;

	sftp_get_cstring(in, path, sizeof(path));
	CHECK(s, id, in);
	if (path[0] == '~' && (path[1] == '\0' || path[1] == '/')) {
		if ((size_t)snprintf(full, sizeof(full), "%s%s", s->home,
		    path + 1) >= sizeof(full)) {
			sftp_status(s, id, FX_BAD_MESSAGE);
			return;
		}
	} else if (path[0] == '~') {
		sftp_status(s, id, FX_OP_UNSUPPORTED);	/* ~user */
		return;
	} else
		snprintf(full, sizeof(full), "%s", path);
	if ((r = resolve(full, out)) < 0)
		sftp_status_errno(s, id, -r);
	else
		sftp_name1(s, id, out, NULL);
}

void
sftp_home_directory(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	char user[256];

	sftp_get_cstring(in, user, sizeof(user));
	CHECK(s, id, in);
	if (user[0] != '\0') {
		sftp_status(s, id, FX_OP_UNSUPPORTED);
		return;
	}
	sftp_name1(s, id, s->home, NULL);
}

void
sftp_readlink(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	char path[SFTP_PATH_MAX], target[SFTP_PATH_MAX];
	ssize_t n;

	sftp_get_cstring(in, path, sizeof(path));
	CHECK(s, id, in);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) {
		sftp_status_errno(s, id, errno);
		return;
	}
	target[n] = '\0';
	sftp_name1(s, id, target, NULL);
}

/* The target first, then the link: OpenSSH's order (its client and
 * server both swap the draft's), which every client follows with it. */
void
sftp_symlink(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	char target[SFTP_PATH_MAX], link[SFTP_PATH_MAX];

	sftp_get_cstring(in, target, sizeof(target));
	sftp_get_cstring(in, link, sizeof(link));
	CHECK(s, id, in);
	if (symlink(target, link) < 0)
		sftp_status_errno(s, id, errno);
	else
		sftp_status(s, id, FX_OK);
}
