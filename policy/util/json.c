/* JSON strings: see json.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "policy/util/json.h"

/* Length of the valid UTF-8 sequence at s (1 to 4, at most avail), or 0
 * if s does not start one (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF). */
static size_t
utf8_len(const unsigned char *s, size_t avail)
{
	size_t n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > avail)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/* The escaped form of the character at *s into out (at most 7 bytes and a
 * NUL); advances *s past it. */
static size_t
escape_next(const unsigned char **s, char out[8])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c = **s;
	/* NUL-terminated: a NUL is no continuation byte, so utf8_len stops
	 * there whatever avail says. */
	size_t n = utf8_len(*s, 4);

	if (n == 0) {
		(*s)++;
		memcpy(out, "\\ufffd", 6);
		return 6;
	}
	*s += n;
	if (n > 1) {
		memcpy(out, *s - n, n);
		return n;
	}
	if (c == '"' || c == '\\') {
		out[0] = '\\';
		out[1] = (char)c;
		return 2;
	}
	if (c < 0x20 || c == 0x7f) {
		memcpy(out, "\\u00", 4);
		out[4] = hex[c >> 4];
		out[5] = hex[c & 15];
		return 6;
	}
	out[0] = (char)c;
	return 1;
}

int
json_append_string(char *buf, size_t cap, size_t *off, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = *off;
	char piece[8];

	if (o >= cap)
		return -ENOBUFS;
	buf[o++] = '"';
	while (*p != '\0') {
		size_t n = escape_next(&p, piece);

		if (n > cap - o)
			return -ENOBUFS;
		memcpy(buf + o, piece, n);
		o += n;
	}
	if (o >= cap)
		return -ENOBUFS;
	buf[o++] = '"';
	*off = o;
	return 0;
}

void
json_print_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char piece[8];

	fputc('"', f);
	while (*p != '\0')
		fwrite(piece, 1, escape_next(&p, piece), f);
	fputc('"', f);
}

bool
json_is_text(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	while (len > 0) {
		if ((n = utf8_len(p, len)) == 0)
			return false;
		if (n == 1 && ((p[0] < 0x20 && p[0] != '\t' && p[0] != '\n') ||
		    p[0] == 0x7f))
			return false;
		if (n == 2 && p[0] == 0xc2 && p[1] <= 0x9f)
			return false;	/* C1 controls, U+0080 to U+009F */
		p += n;
		len -= n;
	}
	return true;
}
