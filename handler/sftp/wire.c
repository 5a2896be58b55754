/* The SFTP codec: big-endian integers and length-prefixed strings, read
 * with every bound checked against the message, written into a buffer
 * that never grows past one message. */
#include <string.h>

#include "handler/sftp/sftp-internal.h"

static bool
avail(struct sftp_in *in, size_t n)
{
	if (in->bad || in->len - in->off < n) {
		in->bad = true;
		return false;
	}
	return true;
}

uint8_t
sftp_get_u8(struct sftp_in *in)
{
	if (!avail(in, 1))
		return 0;
	return in->p[in->off++];
}

uint32_t
sftp_get_u32(struct sftp_in *in)
{
	const uint8_t *b;

	if (!avail(in, 4))
		return 0;
	b = in->p + in->off;
	in->off += 4;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

uint64_t
sftp_get_u64(struct sftp_in *in)
{
	uint64_t hi = sftp_get_u32(in);

	return hi << 32 | sftp_get_u32(in);
}

const uint8_t *
sftp_get_string(struct sftp_in *in, uint32_t *ret_len)
{
	uint32_t n = sftp_get_u32(in);
	const uint8_t *s;

	*ret_len = 0;
	if (!avail(in, n))
		return NULL;
	s = in->p + in->off;
	in->off += n;
	*ret_len = n;
	return s;
}

void
sftp_get_cstring(struct sftp_in *in, char *buf, size_t len)
{
	uint32_t n;
	const uint8_t *s = sftp_get_string(in, &n);

	buf[0] = '\0';
	if (s == NULL)
		return;
	if ((size_t)n >= len || memchr(s, '\0', n) != NULL) {
		in->bad = true;
		return;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
}

static bool
room(struct sftp_out *o, size_t n)
{
	if (o->over || o->cap - o->len < n) {
		o->over = true;
		return false;
	}
	return true;
}

void
sftp_put_u8(struct sftp_out *o, uint8_t v)
{
	if (room(o, 1))
		o->buf[o->len++] = v;
}

void
sftp_put_u32(struct sftp_out *o, uint32_t v)
{
	if (!room(o, 4))
		return;
	o->buf[o->len++] = (uint8_t)(v >> 24);
	o->buf[o->len++] = (uint8_t)(v >> 16);
	o->buf[o->len++] = (uint8_t)(v >> 8);
	o->buf[o->len++] = (uint8_t)v;
}

void
sftp_put_u64(struct sftp_out *o, uint64_t v)
{
	sftp_put_u32(o, (uint32_t)(v >> 32));
	sftp_put_u32(o, (uint32_t)v);
}

void
sftp_put_string(struct sftp_out *o, const void *s, size_t n)
{
	if (n > UINT32_MAX || !room(o, 4 + n)) {
		o->over = true;
		return;
	}
	sftp_put_u32(o, (uint32_t)n);
	if (n > 0)
		memcpy(o->buf + o->len, s, n);
	o->len += n;
}

void
sftp_put_cstring(struct sftp_out *o, const char *s)
{
	sftp_put_string(o, s, strlen(s));
}

void
sftp_begin(struct sftp_out *o, uint8_t type)
{
	o->len = 0;
	o->over = false;
	sftp_put_u32(o, 0);
	sftp_put_u8(o, type);
}

void
sftp_end(struct sftp_out *o)
{
	uint32_t n = (uint32_t)(o->len - 4);

	if (o->over)
		return;
	o->buf[0] = (uint8_t)(n >> 24);
	o->buf[1] = (uint8_t)(n >> 16);
	o->buf[2] = (uint8_t)(n >> 8);
	o->buf[3] = (uint8_t)n;
}
