/* The SSH wire format: see sshwire.h. */
#include <string.h>

#include "policy/util/sshwire.h"

static const uint8_t *
take(struct wire_reader *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->bad || n > r->left) {
		r->bad = true;
		return NULL;
	}
	r->p += n;
	r->left -= n;
	return p;
}

uint8_t
wire_get_u8(struct wire_reader *r)
{
	const uint8_t *p = take(r, 1);

	return p ? p[0] : 0;
}

uint32_t
wire_get_u32(struct wire_reader *r)
{
	const uint8_t *p = take(r, 4);

	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3] : 0;
}

uint64_t
wire_get_u64(struct wire_reader *r)
{
	uint64_t hi = wire_get_u32(r);

	return hi << 32 | wire_get_u32(r);
}

const uint8_t *
wire_get_string(struct wire_reader *r, size_t max, size_t *ret_len)
{
	uint32_t n = wire_get_u32(r);
	const uint8_t *p;

	if (!r->bad && n > max)
		r->bad = true;
	p = take(r, n);
	if (p != NULL)
		*ret_len = n;
	return p;
}

bool
wire_done(const struct wire_reader *r)
{
	return !r->bad && r->left == 0;
}

static uint8_t *
room(struct wire_writer *w, size_t n)
{
	uint8_t *p = w->p + w->len;

	if (w->bad || n > w->cap - w->len) {
		w->bad = true;
		return NULL;
	}
	w->len += n;
	return p;
}

void
wire_put_u8(struct wire_writer *w, uint8_t v)
{
	uint8_t *p = room(w, 1);

	if (p != NULL)
		p[0] = v;
}

void
wire_put_u32(struct wire_writer *w, uint32_t v)
{
	uint8_t *p = room(w, 4);

	if (p != NULL) {
		p[0] = (uint8_t)(v >> 24);
		p[1] = (uint8_t)(v >> 16);
		p[2] = (uint8_t)(v >> 8);
		p[3] = (uint8_t)v;
	}
}

void
wire_put_u64(struct wire_writer *w, uint64_t v)
{
	wire_put_u32(w, (uint32_t)(v >> 32));
	wire_put_u32(w, (uint32_t)v);
}

void
wire_put_string(struct wire_writer *w, const void *p, size_t n)
{
	uint8_t *dst;

	if (n > UINT32_MAX || n > SIZE_MAX - 4) {
		w->bad = true;
		return;
	}
	/* Both at once: a string never goes out without its length. */
	dst = room(w, 4 + n);
	if (dst == NULL)
		return;
	w->len -= 4 + n;
	wire_put_u32(w, (uint32_t)n);
	if (n > 0)
		memcpy(w->p + w->len, p, n);
	w->len += n;
}
