/* OpenSSH's extensions (PROTOCOL.sftp) that have a file of their own
 * here: statvfs, fstatvfs, hardlink, fsync, limits, copy-data.  The
 * others (posix-rename, lsetstat, expand-path, home-directory) share
 * their requests' code in files.c and dirs.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <unistd.h>
#include <sys/statvfs.h>

#include "handler/sftp/sftp-internal.h"

#define CHECK(s, id, in) do {						\
	if ((in)->bad) {						\
		sftp_status((s), (id), FX_BAD_MESSAGE);			\
		return;							\
	}								\
} while (0)

/* OpenSSH's flag bits, not the kernel's. */
#define SSH_FXE_STATVFS_ST_RDONLY	0x1
#define SSH_FXE_STATVFS_ST_NOSUID	0x2

static void
reply_statvfs(struct sftp *s, uint32_t id, int r, const struct statvfs *v)
{
	struct sftp_out *o = &s->out;
	uint64_t flag = 0;

	if (r < 0) {
		sftp_status_errno(s, id, errno);
		return;
	}
	if (v->f_flag & ST_RDONLY)
		flag |= SSH_FXE_STATVFS_ST_RDONLY;
	if (v->f_flag & ST_NOSUID)
		flag |= SSH_FXE_STATVFS_ST_NOSUID;
	sftp_begin(o, FXP_EXTENDED_REPLY);
	sftp_put_u32(o, id);
	sftp_put_u64(o, v->f_bsize);
	sftp_put_u64(o, v->f_frsize);
	sftp_put_u64(o, v->f_blocks);
	sftp_put_u64(o, v->f_bfree);
	sftp_put_u64(o, v->f_bavail);
	sftp_put_u64(o, v->f_files);
	sftp_put_u64(o, v->f_ffree);
	sftp_put_u64(o, v->f_favail);
	sftp_put_u64(o, v->f_fsid);
	sftp_put_u64(o, flag);
	sftp_put_u64(o, v->f_namemax);
	sftp_end(o);
}

void
sftp_statvfs(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	char path[SFTP_PATH_MAX];
	struct statvfs v;

	sftp_get_cstring(in, path, sizeof(path));
	CHECK(s, id, in);
	reply_statvfs(s, id, statvfs(path, &v), &v);
}

void
sftp_fstatvfs(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	struct sftp_handle *h = sftp_handle_get(s, in, H_FREE);
	struct statvfs v;

	CHECK(s, id, in);
	if (h == NULL) {
		sftp_status(s, id, FX_FAILURE);
		return;
	}
	reply_statvfs(s, id, fstatvfs(h->fd, &v), &v);
}

void
sftp_hardlink(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	char from[SFTP_PATH_MAX], to[SFTP_PATH_MAX];

	sftp_get_cstring(in, from, sizeof(from));
	sftp_get_cstring(in, to, sizeof(to));
	CHECK(s, id, in);
	if (link(from, to) < 0)
		sftp_status_errno(s, id, errno);
	else
		sftp_status(s, id, FX_OK);
}

void
sftp_fsync(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	struct sftp_handle *h = sftp_handle_get(s, in, H_FILE);

	CHECK(s, id, in);
	if (h == NULL) {
		sftp_status(s, id, FX_FAILURE);
		return;
	}
	if (fsync(h->fd) < 0)
		sftp_status_errno(s, id, errno);
	else
		sftp_status(s, id, FX_OK);
}

void
sftp_limits(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	struct sftp_out *o = &s->out;

	(void)in;
	sftp_begin(o, FXP_EXTENDED_REPLY);
	sftp_put_u32(o, id);
	sftp_put_u64(o, SFTP_MAX_MSG);
	sftp_put_u64(o, SFTP_MAX_RW);
	sftp_put_u64(o, SFTP_MAX_RW);
	sftp_put_u64(o, SFTP_MAX_HANDLES);
	sftp_end(o);
}

/* copy-data: from one file handle to another (the same one only for
 * ranges that do not overlap), length 0 meaning up to the end, through
 * the reply buffer, which is free until the status is written. */
void
sftp_copy_data(struct sftp *s, uint32_t id, struct sftp_in *in)
{
	struct sftp_handle *from = sftp_handle_get(s, in, H_FILE);
	uint64_t roff = sftp_get_u64(in), len = sftp_get_u64(in);
	struct sftp_handle *to = sftp_handle_get(s, in, H_FILE);
	uint64_t woff = sftp_get_u64(in);
	uint8_t *buf = s->out.buf;
	size_t chunk = s->out.cap;

	CHECK(s, id, in);
	if (from == NULL || to == NULL || roff > INT64_MAX || woff > INT64_MAX ||
	    len > INT64_MAX - roff || len > INT64_MAX - woff) {
		sftp_status(s, id, FX_FAILURE);
		return;
	}
	if (from == to && (len == 0 || (roff < woff + len && woff < roff + len))) {
		sftp_status(s, id, FX_FAILURE);
		return;
	}
	for (uint64_t done = 0; len == 0 || done < len; ) {
		size_t want = len == 0 || len - done > chunk ? chunk :
		    (size_t)(len - done);
		ssize_t n = pread(from->fd, buf, want, (off_t)(roff + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sftp_status_errno(s, id, errno);
			return;
		}
		if (n == 0)
			break;
		for (ssize_t w = 0, k; w < n; w += k) {
			k = to->append ? write(to->fd, buf + w, (size_t)(n - w)) :
			    pwrite(to->fd, buf + w, (size_t)(n - w),
			    (off_t)(woff + done + (uint64_t)w));
			if (k < 0 && errno == EINTR)
				k = 0;
			else if (k <= 0) {
				sftp_status_errno(s, id, k < 0 ? errno : ENOSPC);
				return;
			}
		}
		done += (uint64_t)n;
	}
	sftp_status(s, id, FX_OK);
}
