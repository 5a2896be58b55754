/* Open files and directories.  A handle on the wire is the 4-byte index
 * of its slot; anything else (another length, a free slot, a file where
 * a directory is wanted) is no handle. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handler/sftp/sftp-internal.h"

int
sftp_handle_new(struct sftp *s, enum handle_kind kind, int fd, DIR *dir,
    const char *path)
{
	for (int i = 0; i < SFTP_MAX_HANDLES; i++) {
		struct sftp_handle *h = &s->h[i];

		if (h->kind != H_FREE)
			continue;
		if ((h->path = strdup(path)) == NULL)
			return -ENOMEM;
		h->kind = kind;
		h->fd = fd;
		h->dir = dir;
		h->append = false;
		return i;
	}
	return -EMFILE;
}

struct sftp_handle *
sftp_handle_get(struct sftp *s, struct sftp_in *in, enum handle_kind kind)
{
	uint32_t n, idx;
	const uint8_t *b = sftp_get_string(in, &n);

	if (b == NULL || n != 4)
		return NULL;
	idx = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
	if (idx >= SFTP_MAX_HANDLES || s->h[idx].kind == H_FREE)
		return NULL;
	if (kind != H_FREE && s->h[idx].kind != kind)
		return NULL;
	return &s->h[idx];
}

int
sftp_handle_close(struct sftp *s, struct sftp_handle *h)
{
	int r = 0;

	(void)s;
	if (h->kind == H_DIR)
		r = closedir(h->dir);
	else if (h->kind == H_FILE)
		r = close(h->fd);
	r = r < 0 ? -errno : 0;
	free(h->path);
	memset(h, 0, sizeof(*h));
	h->kind = H_FREE;
	h->fd = -1;
	return r;
}

void
sftp_handles_close_all(struct sftp *s)
{
	for (int i = 0; i < SFTP_MAX_HANDLES; i++)
		if (s->h[i].kind != H_FREE)
			(void)sftp_handle_close(s, &s->h[i]);
}

void
sftp_put_handle(struct sftp *s, uint32_t id, int idx)
{
	uint8_t b[4] = { (uint8_t)(idx >> 24), (uint8_t)(idx >> 16),
	    (uint8_t)(idx >> 8), (uint8_t)idx };

	sftp_begin(&s->out, FXP_HANDLE);
	sftp_put_u32(&s->out, id);
	sftp_put_string(&s->out, b, sizeof(b));
	sftp_end(&s->out);
}
