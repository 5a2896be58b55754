/* The server: INIT and the version with our extensions, the request
 * table (with sftp-server's -R, -P and -p), the replies every handler
 * shares, and the loop that frames messages on fds 0 and 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handler/sftp/sftp-internal.h"

/* The requests by type, and OpenSSH's extensions by name; name is what
 * -P and -p say (sftp-server's names, listed in policy/sftp-opts.c; a
 * name missing there is never permitted), writes what -R refuses. */
static const struct request {
	uint8_t type;
	const char *ext;		/* for FXP_EXTENDED */
	const char *name;
	bool writes;
	sftp_req_fn *fn;
} requests[] = {
	{ FXP_OPEN, NULL, "open", false, sftp_open },	/* checks -R itself */
	{ FXP_CLOSE, NULL, "close", false, sftp_close },
	{ FXP_READ, NULL, "read", false, sftp_read },
	{ FXP_WRITE, NULL, "write", true, sftp_write },
	{ FXP_LSTAT, NULL, "lstat", false, sftp_lstat },
	{ FXP_FSTAT, NULL, "fstat", false, sftp_fstat },
	{ FXP_SETSTAT, NULL, "setstat", true, sftp_setstat },
	{ FXP_FSETSTAT, NULL, "fsetstat", true, sftp_fsetstat },
	{ FXP_OPENDIR, NULL, "opendir", false, sftp_opendir },
	{ FXP_READDIR, NULL, "readdir", false, sftp_readdir },
	{ FXP_REMOVE, NULL, "remove", true, sftp_remove },
	{ FXP_MKDIR, NULL, "mkdir", true, sftp_mkdir },
	{ FXP_RMDIR, NULL, "rmdir", true, sftp_rmdir },
	{ FXP_REALPATH, NULL, "realpath", false, sftp_realpath },
	{ FXP_STAT, NULL, "stat", false, sftp_stat },
	{ FXP_RENAME, NULL, "rename", true, sftp_rename },
	{ FXP_READLINK, NULL, "readlink", false, sftp_readlink },
	{ FXP_SYMLINK, NULL, "symlink", true, sftp_symlink },
	{ FXP_EXTENDED, "posix-rename@openssh.com", "posix-rename", true,
	    sftp_posix_rename },
	{ FXP_EXTENDED, "statvfs@openssh.com", "statvfs", false, sftp_statvfs },
	{ FXP_EXTENDED, "fstatvfs@openssh.com", "fstatvfs", false,
	    sftp_fstatvfs },
	{ FXP_EXTENDED, "hardlink@openssh.com", "hardlink", true,
	    sftp_hardlink },
	{ FXP_EXTENDED, "fsync@openssh.com", "fsync", true, sftp_fsync },
	{ FXP_EXTENDED, "lsetstat@openssh.com", "lsetstat", true,
	    sftp_lsetstat },
	{ FXP_EXTENDED, "limits@openssh.com", "limits", false, sftp_limits },
	{ FXP_EXTENDED, "expand-path@openssh.com", "expand-path", false,
	    sftp_expand_path },
	{ FXP_EXTENDED, "copy-data", "copy-data", true, sftp_copy_data },
	{ FXP_EXTENDED, "home-directory", "home-directory", false,
	    sftp_home_directory },
};
#define NREQUESTS (sizeof(requests) / sizeof(requests[0]))

/* The extensions announced in VERSION, with their versions. */
static const char *const announced[][2] = {
	{ "posix-rename@openssh.com", "1" }, { "statvfs@openssh.com", "2" },
	{ "fstatvfs@openssh.com", "2" }, { "hardlink@openssh.com", "1" },
	{ "fsync@openssh.com", "1" }, { "lsetstat@openssh.com", "1" },
	{ "limits@openssh.com", "1" }, { "expand-path@openssh.com", "1" },
	{ "copy-data", "1" }, { "home-directory", "1" },
};

static const char *const status_text[] = {
	[FX_OK] = "Success", [FX_EOF] = "End of file",
	[FX_NO_SUCH_FILE] = "No such file", [FX_PERMISSION_DENIED] =
	"Permission denied", [FX_FAILURE] = "Failure", [FX_BAD_MESSAGE] =
	"Bad message", [FX_NO_CONNECTION] = "No connection",
	[FX_CONNECTION_LOST] = "Connection lost", [FX_OP_UNSUPPORTED] =
	"Operation unsupported",
};

void
sftp_status(struct sftp *s, uint32_t id, uint32_t code)
{
	sftp_begin(&s->out, FXP_STATUS);
	sftp_put_u32(&s->out, id);
	sftp_put_u32(&s->out, code);
	sftp_put_cstring(&s->out, code <= FX_OP_UNSUPPORTED ?
	    status_text[code] : "Unknown error");
	sftp_put_cstring(&s->out, "");
	sftp_end(&s->out);
}

/* OpenSSH's errno_to_portable(). */
void
sftp_status_errno(struct sftp *s, uint32_t id, int err)
{
	uint32_t code;

	switch (err) {
	case 0: code = FX_OK; break;
	case ENOENT: case ENOTDIR: case EBADF: case ELOOP:
		code = FX_NO_SUCH_FILE; break;
	case EPERM: case EACCES: case EFAULT: case EROFS:
		code = FX_PERMISSION_DENIED; break;
	case ENAMETOOLONG: case EINVAL: code = FX_BAD_MESSAGE; break;
	case ENOSYS: case EOPNOTSUPP: code = FX_OP_UNSUPPORTED; break;
	default: code = FX_FAILURE; break;
	}
	sftp_status(s, id, code);
}

/* A NAME reply of one entry: realpath, readlink and the like give the
 * name as its own long name, and empty attributes. */
void
sftp_name1(struct sftp *s, uint32_t id, const char *name,
    const struct stat *st)
{
	struct sftp_attrs a = { 0 };

	if (st != NULL)
		sftp_attrs_from_stat(st, &a);
	sftp_begin(&s->out, FXP_NAME);
	sftp_put_u32(&s->out, id);
	sftp_put_u32(&s->out, 1);
	sftp_put_cstring(&s->out, name);
	sftp_put_cstring(&s->out, name);
	sftp_put_attrs(&s->out, &a);
	sftp_end(&s->out);
}

void
sftp_init(struct sftp *s, const struct sftp_opts *o, uint8_t *outbuf,
    size_t outcap)
{
	memset(s, 0, sizeof(*s));
	s->o = *o;
	s->out.buf = outbuf;
	s->out.cap = outcap;
	for (int i = 0; i < SFTP_MAX_HANDLES; i++)
		s->h[i].fd = -1;
	snprintf(s->home, sizeof(s->home), "/");
}

static void
version(struct sftp *s, struct sftp_in *in)
{
	uint32_t v = sftp_get_u32(in);

	/* Whatever the client's (its extensions are ignored), we speak 3. */
	s->version = v < 3 ? v : 3;
	s->inited = true;
	sftp_begin(&s->out, FXP_VERSION);
	sftp_put_u32(&s->out, 3);
	for (size_t i = 0; i < sizeof(announced) / sizeof(announced[0]); i++) {
		sftp_put_cstring(&s->out, announced[i][0]);
		sftp_put_cstring(&s->out, announced[i][1]);
	}
	sftp_end(&s->out);
}

static bool
permitted(const struct sftp *s, size_t i)
{
	int b = sftp_request_bit(requests[i].name);
	uint64_t bit = b < 0 ? 0 : UINT64_C(1) << b;

	if (b < 0 || (s->o.read_only && requests[i].writes))
		return false;
	return !(s->o.denied & bit) && (s->o.allowed & bit);
}

void
sftp_process(struct sftp *s, const uint8_t *msg, size_t len)
{
	struct sftp_in in = { .p = msg, .len = len };
	uint8_t type = sftp_get_u8(&in);
	uint32_t id, n;
	const uint8_t *ext = NULL;

	s->out.len = 0;
	if (type == FXP_INIT) {
		if (s->inited || in.bad)
			s->quit = true;
		else
			version(s, &in);
		return;
	}
	id = sftp_get_u32(&in);
	if (!s->inited || in.bad) {
		s->quit = true;
		return;
	}
	if (type == FXP_EXTENDED && (ext = sftp_get_string(&in, &n)) == NULL) {
		sftp_status(s, id, FX_BAD_MESSAGE);
		return;
	}
	for (size_t i = 0; i < NREQUESTS; i++) {
		const struct request *r = &requests[i];

		if (r->type != type || (ext != NULL && (strlen(r->ext) != n ||
		    memcmp(r->ext, ext, n) != 0)))
			continue;
		if (!permitted(s, i))
			sftp_status(s, id, FX_PERMISSION_DENIED);
		else
			r->fn(s, id, &in);
		if (s->out.over)
			sftp_status(s, id, FX_FAILURE);
		return;
	}
	sftp_status(s, id, FX_OP_UNSUPPORTED);
}

/* ---- the loop ---- */

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads until buf holds at least want bytes from *start; 0, or -1 at
 * the end of input or an error. */
static int
fill(int fd, uint8_t *buf, size_t cap, size_t *start, size_t *end,
    size_t want)
{
	if (*end - *start >= want)
		return 0;
	if (cap - *start < want) {
		memmove(buf, buf + *start, *end - *start);
		*end -= *start;
		*start = 0;
	}
	while (*end - *start < want) {
		ssize_t n = read(fd, buf + *end, cap - *end);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		*end += (size_t)n;
	}
	return 0;
}

int
sftp_serve(int in, int out, const struct sftp_opts *o)
{
	/* Room for a whole message and its length, and for what follows
	 * it when the client sends ahead. */
	const size_t incap = SFTP_MAX_MSG + 4 + 64 * 1024;
	uint8_t *ibuf = malloc(incap), *obuf = malloc(SFTP_MAX_MSG + 4);
	struct sftp *s = malloc(sizeof(*s));
	size_t start = 0, end = 0;
	int status = 1;

	if (ibuf == NULL || obuf == NULL || s == NULL)
		goto out;
	/* A client gone mid-reply is the end, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	sftp_init(s, o, obuf, SFTP_MAX_MSG + 4);
	if (o->umask_set)
		umask(o->umask);
	/* A start directory that cannot be entered leaves the session
	 * where it started, as with sftp-server (which only logs it). */
	if (o->start_dir[0] != '\0' && chdir(o->start_dir) < 0)
		errno = 0;
	if (getcwd(s->home, sizeof(s->home)) == NULL)
		snprintf(s->home, sizeof(s->home), "/");
	for (;;) {
		const uint8_t *h;
		uint32_t len;

		if (fill(in, ibuf, incap, &start, &end, 4) < 0) {
			status = 0;	/* the client closed */
			break;
		}
		h = ibuf + start;
		len = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
		    (uint32_t)h[2] << 8 | h[3];
		/* Longer than OpenSSH allows, or empty: nothing to answer. */
		if (len == 0 || len > SFTP_MAX_MSG)
			break;
		if (fill(in, ibuf, incap, &start, &end, 4 + (size_t)len) < 0)
			break;
		sftp_process(s, ibuf + start + 4, len);
		start += 4 + (size_t)len;
		if (s->quit)
			break;
		if (s->out.len > 0 && write_all(out, s->out.buf, s->out.len) < 0)
			break;
	}
	sftp_handles_close_all(s);
out:
	free(ibuf);
	free(obuf);
	free(s);
	return status;
}
