/* The SSH wire format (RFC 4251 section 5): big-endian integers and
 * strings with a uint32 length.  Key blobs in authorized_keys and the
 * privilege separation messages are both written in it.
 *
 * Readers and writers are sticky: the first read past the end, string
 * over its bound or write past the capacity sets bad, and every later
 * call returns nothing, so a caller checks once, at the end. */
#ifndef SSHAND_POLICY_UTIL_SSHWIRE_H
#define SSHAND_POLICY_UTIL_SSHWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wire_reader {
	const uint8_t *p;
	size_t left;
	bool bad;
};

struct wire_writer {
	uint8_t *p;
	size_t len, cap;
	bool bad;
};

static inline struct wire_reader
wire_reader(const void *p, size_t len)
{
	return (struct wire_reader){ .p = p, .left = len };
}

uint8_t wire_get_u8(struct wire_reader *r);
uint32_t wire_get_u32(struct wire_reader *r);
uint64_t wire_get_u64(struct wire_reader *r);
/* A string of at most max bytes, pointing into the input; NULL (bad
 * set) past the end or over max.  *ret_len is its length. */
const uint8_t *wire_get_string(struct wire_reader *r, size_t max, size_t *ret_len);
/* True if nothing was out of bounds and every byte was read. */
bool wire_done(const struct wire_reader *r);

void wire_put_u8(struct wire_writer *w, uint8_t v);
void wire_put_u32(struct wire_writer *w, uint32_t v);
void wire_put_u64(struct wire_writer *w, uint64_t v);
void wire_put_string(struct wire_writer *w, const void *p, size_t n);

#endif
