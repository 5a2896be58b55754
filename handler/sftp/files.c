/* The requests on files: open, close, read, write, the stat family,
 * remove and rename.  Paths are the client's, taken as they come: the
 * process is the user's, confined, and (with ChrootDirectory) chrooted,
 * so the kernel's permission checks are the policy. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/time.h>

#include "handler/sftp/sftp-internal.h"

#define CHECK(s, id, in) do {						\
	if ((in)->bad) {						\
		sftp_status((s), (id), FX_BAD_MESSAGE);			\
		return;							\
	}								\
} while (0)

static void
reply_errno_or_ok(struct sftp *s, uint32_t id, int r)
{
	if (r < 0)
		sftp_status_errno(s, id, -r);
	else
		sftp_status(s, id, FX_OK);
}

void
sftp_open(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	char path[SFTP_PATH_MAX];
	struct sftp_attrs a;
	uint32_t pf;
	int flags = O_CLOEXEC | O_NOCTTY, fd, idx;
	mode_t mode;

	sftp_get_cstring(in, path, sizeof(path));
	pf = sftp_get_u32(in);
	sftp_get_attrs(in, &a);
	CHECK(s, id, in);
	if ((pf & FXF_READ) && (pf & FXF_WRITE))
		flags |= O_RDWR;
	else if (pf & FXF_WRITE)
		flags |= O_WRONLY;
	else
		flags |= O_RDONLY;
	if (pf & FXF_APPEND)
		flags |= O_APPEND;
	if (pf & FXF_CREAT)
		flags |= O_CREAT;
	if (pf & FXF_TRUNC)
		flags |= O_TRUNC;
	if (pf & FXF_EXCL)
		flags |= O_EXCL;
	if (s->o.read_only && (pf & (FXF_WRITE | FXF_APPEND | FXF_CREAT |
	    FXF_TRUNC))) {
		sftp_status(s, id, FX_PERMISSION_DENIED);
		return;
	}
	mode = (a.flags & FXA_PERMISSIONS) ? (mode_t)(a.perm & 07777) : 0666;
	if ((fd = open(path, flags, mode)) < 0) {
		sftp_status_errno(s, id, errno);
		return;
	}
	if ((idx = sftp_handle_new(s, H_FILE, fd, NULL, path)) < 0) {
		close(fd);
		sftp_status(s, id, FX_FAILURE);
		return;
	}
	s->h[idx].append = (pf & FXF_APPEND) != 0;
	sftp_put_handle(s, id, idx);
}

void
sftp_close(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	struct sftp_handle *h = sftp_handle_get(s, in, H_FREE);

	if (h == NULL) {
		sftp_status(s, id, in->bad ? FX_BAD_MESSAGE : FX_FAILURE);
		return;
	}
	reply_errno_or_ok(s, id, sftp_handle_close(s, h));
}

void
sftp_read(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	struct sftp_handle *h = sftp_handle_get(s, in, H_FILE);
	uint64_t off = sftp_get_u64(in);
	uint32_t len = sftp_get_u32(in);
	uint8_t *data;
	ssize_t n;

	CHECK(s, id, in);
	if (h == NULL || off > INT64_MAX) {
		sftp_status(s, id, FX_FAILURE);
		return;
	}
	if (len > SFTP_MAX_RW)
		len = SFTP_MAX_RW;
	/* Read straight into the reply: header (4 + 1 + 4) and length. */
	sftp_begin(&s->out, FXP_DATA);
	sftp_put_u32(&s->out, id);
	data = s->out.buf + s->out.len + 4;
	do
		n = pread(h->fd, data, len, (off_t)off);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		sftp_status_errno(s, id, errno);
		return;
	}
	if (n == 0 && len > 0) {
		sftp_status(s, id, FX_EOF);
		return;
	}
	sftp_put_u32(&s->out, (uint32_t)n);
	s->out.len += (size_t)n;
	sftp_end(&s->out);
}

void
sftp_write(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	struct sftp_handle *h = sftp_handle_get(s, in, H_FILE);
	uint64_t off = sftp_get_u64(in);
	uint32_t len;
	const uint8_t *data = sftp_get_string(in, &len);
	size_t done = 0;

	CHECK(s, id, in);
	if (h == NULL || off > INT64_MAX || len > INT64_MAX - off) {
		sftp_status(s, id, FX_FAILURE);
		return;
	}
	while (done < len) {
		ssize_t n = h->append ? write(h->fd, data + done, len - done) :
		    pwrite(h->fd, data + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			sftp_status_errno(s, id, n < 0 ? errno : ENOSPC);
			return;
		}
		done += (size_t)n;
	}
	sftp_status(s, id, FX_OK);
}

static void
reply_stat(struct sftp *s, uint32_t id, int r, const struct stat *st)
{
	struct sftp_attrs a;

	if (r < 0) {
		sftp_status_errno(s, id, errno);
		return;
	}
	sftp_attrs_from_stat(st, &a);
	sftp_begin(&s->out, FXP_ATTRS);
	sftp_put_u32(&s->out, id);
	sftp_put_attrs(&s->out, &a);
	sftp_end(&s->out);
}

static void
path_stat(struct sftp *s, uint32_t id, struct sftp_in *in, bool follow)
{
	char path[SFTP_PATH_MAX];
	struct stat st;

	sftp_get_cstring(in, path, sizeof(path));
	/* Version 3's STAT carries no flags; later drafts add them. */
	CHECK(s, id, in);
	reply_stat(s, id, follow ? stat(path, &st) : lstat(path, &st), &st);
}

void
sftp_lstat(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	path_stat(s, id, in, false);
}

void
sftp_stat(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	path_stat(s, id, in, true);
}

void
sftp_fstat(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	struct sftp_handle *h = sftp_handle_get(s, in, H_FILE);
	struct stat st;

	CHECK(s, id, in);
	if (h == NULL) {
		sftp_status(s, id, FX_FAILURE);
		return;
	}
	reply_stat(s, id, fstat(h->fd, &st), &st);
}

/* In OpenSSH's order: size, permissions, times, owner; the first
 * failure is the answer. */
int
sftp_apply_attrs(const char *path, int fd, bool nofollow,
    const struct sftp_attrs *a)
{
	int at = nofollow ? AT_SYMLINK_NOFOLLOW : 0;

	if (a->flags & FXA_SIZE) {
		if (nofollow || a->size > INT64_MAX)
			return -EINVAL;
		if ((fd >= 0 ? ftruncate(fd, (off_t)a->size) :
		    truncate(path, (off_t)a->size)) < 0)
			return -errno;
	}
	if (a->flags & FXA_PERMISSIONS) {
		mode_t m = (mode_t)(a->perm & 07777);

		if ((fd >= 0 ? fchmod(fd, m) : fchmodat(AT_FDCWD, path, m, at)) < 0)
			return -errno;
	}
	if (a->flags & FXA_ACMODTIME) {
		struct timespec ts[2] = { { .tv_sec = a->atime },
		    { .tv_sec = a->mtime } };

		if ((fd >= 0 ? futimens(fd, ts) :
		    utimensat(AT_FDCWD, path, ts, at)) < 0)
			return -errno;
	}
	if (a->flags & FXA_UIDGID) {
		if ((fd >= 0 ? fchown(fd, a->uid, a->gid) :
		    fchownat(AT_FDCWD, path, a->uid, a->gid, at)) < 0)
			return -errno;
	}
	return 0;
}

void
sftp_setstat(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	char path[SFTP_PATH_MAX];
	struct sftp_attrs a;

	sftp_get_cstring(in, path, sizeof(path));
	sftp_get_attrs(in, &a);
	CHECK(s, id, in);
	reply_errno_or_ok(s, id, sftp_apply_attrs(path, -1, false, &a));
}

void
sftp_lsetstat(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	char path[SFTP_PATH_MAX];
	struct sftp_attrs a;

	sftp_get_cstring(in, path, sizeof(path));
	sftp_get_attrs(in, &a);
	CHECK(s, id, in);
	reply_errno_or_ok(s, id, sftp_apply_attrs(path, -1, true, &a));
}

void
sftp_fsetstat(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	struct sftp_handle *h = sftp_handle_get(s, in, H_FILE);
	struct sftp_attrs a;

	sftp_get_attrs(in, &a);
	CHECK(s, id, in);
	if (h == NULL) {
		sftp_status(s, id, FX_FAILURE);
		return;
	}
	reply_errno_or_ok(s, id, sftp_apply_attrs(NULL, h->fd, false, &a));
}

void
sftp_remove(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	char path[SFTP_PATH_MAX];

	sftp_get_cstring(in, path, sizeof(path));
	CHECK(s, id, in);
	reply_errno_or_ok(s, id, unlink(path) < 0 ? -errno : 0);
}

/* Version 3's rename never replaces an existing target (OpenSSH's
 * server, too); posix-rename@openssh.com does. */
void
sftp_rename(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	char from[SFTP_PATH_MAX], to[SFTP_PATH_MAX];
	struct stat st;
	int r;

	sftp_get_cstring(in, from, sizeof(from));
	sftp_get_cstring(in, to, sizeof(to));
	CHECK(s, id, in);
	r = renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
	if (r < 0 && errno == EINVAL) {
		/* A file system without RENAME_NOREPLACE: check, then
		 * rename, as sftp-server does where link() fails. */
		if (lstat(to, &st) == 0)
			errno = EEXIST;
		else
			r = rename(from, to);
	}
	reply_errno_or_ok(s, id, r < 0 ? -errno : 0);
}

void
sftp_posix_rename(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	char from[SFTP_PATH_MAX], to[SFTP_PATH_MAX];

	sftp_get_cstring(in, from, sizeof(from));
	sftp_get_cstring(in, to, sizeof(to));
	CHECK(s, id, in);
	reply_errno_or_ok(s, id, rename(from, to) < 0 ? -errno : 0);
}
