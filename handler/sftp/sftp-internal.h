/* Internal to handler/sftp/: the wire codec, attributes, handles and the
 * request handlers (draft-ietf-secsh-filexfer-02, version 3, and
 * OpenSSH's PROTOCOL.sftp extensions).  The unit tests use it too. */
#ifndef SSHAND_HANDLER_SFTP_INTERNAL_H
#define SSHAND_HANDLER_SFTP_INTERNAL_H

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "handler/sftp/sftp.h"

/* OpenSSH's bounds: a message (after its length) of at most 256 KiB;
 * reads and writes leave room for the header around their data. */
#define SFTP_MAX_MSG		(256 * 1024)
#define SFTP_MAX_RW		(SFTP_MAX_MSG - 1024)
#define SFTP_MAX_HANDLES	256
#define SFTP_MAX_EXTENDED	64	/* name/value pairs in attributes */
#define SFTP_PATH_MAX		PATH_MAX
#define SFTP_READDIR_BATCH	100

enum {
	FXP_INIT = 1, FXP_VERSION = 2, FXP_OPEN = 3, FXP_CLOSE = 4,
	FXP_READ = 5, FXP_WRITE = 6, FXP_LSTAT = 7, FXP_FSTAT = 8,
	FXP_SETSTAT = 9, FXP_FSETSTAT = 10, FXP_OPENDIR = 11,
	FXP_READDIR = 12, FXP_REMOVE = 13, FXP_MKDIR = 14, FXP_RMDIR = 15,
	FXP_REALPATH = 16, FXP_STAT = 17, FXP_RENAME = 18,
	FXP_READLINK = 19, FXP_SYMLINK = 20,
	FXP_STATUS = 101, FXP_HANDLE = 102, FXP_DATA = 103, FXP_NAME = 104,
	FXP_ATTRS = 105, FXP_EXTENDED = 200, FXP_EXTENDED_REPLY = 201,
};

enum {
	FX_OK = 0, FX_EOF = 1, FX_NO_SUCH_FILE = 2, FX_PERMISSION_DENIED = 3,
	FX_FAILURE = 4, FX_BAD_MESSAGE = 5, FX_NO_CONNECTION = 6,
	FX_CONNECTION_LOST = 7, FX_OP_UNSUPPORTED = 8,
};

#define FXF_READ	0x01
#define FXF_WRITE	0x02
#define FXF_APPEND	0x04
#define FXF_CREAT	0x08
#define FXF_TRUNC	0x10
#define FXF_EXCL	0x20

#define FXA_SIZE	0x00000001
#define FXA_UIDGID	0x00000002
#define FXA_PERMISSIONS	0x00000004
#define FXA_ACMODTIME	0x00000008
#define FXA_EXTENDED	0x80000000

/* ---- the codec (wire.c) ---- */

/* A message being read: every getter checks the bounds, and a failure
 * is sticky (bad), so a handler reads all its fields and checks once. */
struct sftp_in {
	const uint8_t *p;
	size_t len, off;
	bool bad;
};

uint8_t sftp_get_u8(struct sftp_in *in);
uint32_t sftp_get_u32(struct sftp_in *in);
uint64_t sftp_get_u64(struct sftp_in *in);
/* A string in place (*ret points into the message); NULL when bad. */
const uint8_t *sftp_get_string(struct sftp_in *in, uint32_t *ret_len);
/* A string copied into buf as a C string: bad if it holds a NUL or does
 * not fit (len includes the NUL). */
void sftp_get_cstring(struct sftp_in *in, char *buf, size_t len);

/* The reply being built, in a buffer of SFTP_MAX_MSG + 4 bytes; a reply
 * that would not fit is marked (over) and replaced by a failure. */
struct sftp_out {
	uint8_t *buf;
	size_t len, cap;
	bool over;
};

void sftp_put_u8(struct sftp_out *o, uint8_t v);
void sftp_put_u32(struct sftp_out *o, uint32_t v);
void sftp_put_u64(struct sftp_out *o, uint64_t v);
void sftp_put_string(struct sftp_out *o, const void *s, size_t n);
void sftp_put_cstring(struct sftp_out *o, const char *s);
/* Starts a reply (its length is filled in by sftp_end). */
void sftp_begin(struct sftp_out *o, uint8_t type);
void sftp_end(struct sftp_out *o);

/* ---- attributes (attrs.c) ---- */

struct sftp_attrs {
	uint32_t flags;
	uint64_t size;
	uint32_t uid, gid, perm, atime, mtime;
};

void sftp_get_attrs(struct sftp_in *in, struct sftp_attrs *a);
void sftp_put_attrs(struct sftp_out *o, const struct sftp_attrs *a);
void sftp_attrs_from_stat(const struct stat *st, struct sftp_attrs *a);
/* "ls -l" style, as OpenSSH's ls_file(): clients (FileZilla among them)
 * read the owner from it. */
void sftp_longname(const char *name, const struct stat *st, char *buf,
    size_t len);

/* ---- the server's state ---- */

enum handle_kind { H_FREE, H_FILE, H_DIR };

struct sftp_handle {
	enum handle_kind kind;
	int fd;
	DIR *dir;
	bool append;
	char *path;			/* as the client named it */
};

struct sftp {
	struct sftp_opts o;
	bool inited;
	bool quit;			/* a fatal protocol error */
	uint32_t version;
	struct sftp_handle h[SFTP_MAX_HANDLES];
	struct sftp_out out;
	char home[SFTP_PATH_MAX];	/* where the session started */
};

/* Handles (handles.c): the wire form is a 4-byte index. */
int sftp_handle_new(struct sftp *s, enum handle_kind kind, int fd, DIR *dir,
    const char *path);
struct sftp_handle *sftp_handle_get(struct sftp *s, struct sftp_in *in,
    enum handle_kind kind);
int sftp_handle_close(struct sftp *s, struct sftp_handle *h);
void sftp_handles_close_all(struct sftp *s);
void sftp_put_handle(struct sftp *s, uint32_t id, int idx);

/* Replies (server.c). */
void sftp_status(struct sftp *s, uint32_t id, uint32_t code);
void sftp_status_errno(struct sftp *s, uint32_t id, int err);
void sftp_name1(struct sftp *s, uint32_t id, const char *name,
    const struct stat *st);

/* Sets up the state (the options copied, no handle open). */
void sftp_init(struct sftp *s, const struct sftp_opts *o, uint8_t *outbuf,
    size_t outcap);
/* One message (type onwards, without its length): its reply, if any, in
 * s->out (out.len 0: none).  A message that cannot be answered (one
 * before INIT, a second INIT, one too short for its id) sets s->quit. */
void sftp_process(struct sftp *s, const uint8_t *msg, size_t len);

/* The request handlers, by file (files.c, dirs.c, ext.c). */
typedef void sftp_req_fn(struct sftp *s, uint32_t id, struct sftp_in *in);
sftp_req_fn sftp_open, sftp_close, sftp_read, sftp_write, sftp_lstat,
    sftp_fstat, sftp_setstat, sftp_fsetstat, sftp_stat, sftp_remove,
    sftp_rename, sftp_opendir, sftp_readdir, sftp_mkdir, sftp_rmdir,
    sftp_realpath, sftp_readlink, sftp_symlink, sftp_posix_rename,
    sftp_statvfs, sftp_fstatvfs, sftp_hardlink, sftp_fsync, sftp_lsetstat,
    sftp_limits, sftp_expand_path, sftp_copy_data, sftp_home_directory;

/* Applies attributes to a path or an fd (files.c); lsetstat does not
 * follow a final symbolic link.  0 or -errno. */
int sftp_apply_attrs(const char *path, int fd, bool nofollow,
    const struct sftp_attrs *a);

#endif
