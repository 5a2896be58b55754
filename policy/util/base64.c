/* Base64: see base64.h. */
#include <errno.h>

#include "policy/util/base64.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
base64_encode(const uint8_t *in, size_t len, char *out, bool pad)
{
	size_t i, o = 0;

	for (i = 0; i < len; i += 3) {
		size_t k = len - i;
		uint32_t v = (uint32_t)in[i] << 16 |
		    (k > 1 ? (uint32_t)in[i + 1] << 8 : 0) |
		    (k > 2 ? in[i + 2] : 0);

		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		if (k > 1)
			out[o++] = alphabet[(v >> 6) & 63];
		else if (pad)
			out[o++] = '=';
		if (k > 2)
			out[o++] = alphabet[v & 63];
		else if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
}

static int
value_of(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
base64_decode(const char *s, size_t len, uint8_t *out, size_t outmax,
    size_t *ret_len)
{
	size_t i, o = 0, pad = 0;
	uint32_t acc = 0;

	if (len == 0 || len % 4 != 0)
		return -EINVAL;
	if (s[len - 1] == '=')
		pad = s[len - 2] == '=' ? 2 : 1;
	if (len / 4 * 3 - pad > outmax)
		return -E2BIG;
	for (i = 0; i < len; i++) {
		int v = i >= len - pad ? 0 : value_of((unsigned char)s[i]);

		if (v < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		if (i % 4 == 3) {
			const uint8_t b[3] = { acc >> 16, acc >> 8, acc };
			size_t n = i == len - 1 ? 3 - pad : 3;

			for (size_t k = 0; k < n; k++)
				out[o++] = b[k];
			acc = 0;
		}
	}
	*ret_len = o;
	return 0;
}
