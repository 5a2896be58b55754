/* Decoding the terminal modes of a pty-req.  The opcodes are those of RFC
 * 4254 section 8 (and 42, IUTF8, of RFC 8160); each is followed by a
 * uint32.  Opcodes Linux has no equivalent for (VDSUSP, VSTATUS, VFLUSH,
 * PARMRK's cousins on other systems...) are skipped like unknown ones. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "handler/monitor/ptymodes.h"

#define TTY_OP_END	0
#define TTY_OP_ISPEED	128
#define TTY_OP_OSPEED	129
#define TTY_OP_UNDEFINED 160	/* 160..255: undefined, parsing stops */

enum field { CC, IFLAG, LFLAG, OFLAG, CFLAG };

static const struct mode {
	uint8_t op;
	uint8_t field;
	tcflag_t bit;			/* flag modes: the bit(s); cc: the index */
} modes_table[] = {
	{ 1, CC, VINTR }, { 2, CC, VQUIT }, { 3, CC, VERASE },
	{ 4, CC, VKILL }, { 5, CC, VEOF }, { 6, CC, VEOL },
	{ 7, CC, VEOL2 }, { 8, CC, VSTART }, { 9, CC, VSTOP },
	{ 10, CC, VSUSP }, { 12, CC, VREPRINT }, { 13, CC, VWERASE },
	{ 14, CC, VLNEXT }, { 16, CC, VSWTC }, { 18, CC, VDISCARD },

	{ 30, IFLAG, IGNPAR }, { 31, IFLAG, PARMRK }, { 32, IFLAG, INPCK },
	{ 33, IFLAG, ISTRIP }, { 34, IFLAG, INLCR }, { 35, IFLAG, IGNCR },
	{ 36, IFLAG, ICRNL }, { 37, IFLAG, IUCLC }, { 38, IFLAG, IXON },
	{ 39, IFLAG, IXANY }, { 40, IFLAG, IXOFF }, { 41, IFLAG, IMAXBEL },
	{ 42, IFLAG, IUTF8 },

	{ 50, LFLAG, ISIG }, { 51, LFLAG, ICANON }, { 52, LFLAG, XCASE },
	{ 53, LFLAG, ECHO }, { 54, LFLAG, ECHOE }, { 55, LFLAG, ECHOK },
	{ 56, LFLAG, ECHONL }, { 57, LFLAG, NOFLSH }, { 58, LFLAG, TOSTOP },
	{ 59, LFLAG, IEXTEN }, { 60, LFLAG, ECHOCTL }, { 61, LFLAG, ECHOKE },
	{ 62, LFLAG, PENDIN },

	{ 70, OFLAG, OPOST }, { 71, OFLAG, OLCUC }, { 72, OFLAG, ONLCR },
	{ 73, OFLAG, OCRNL }, { 74, OFLAG, ONOCR }, { 75, OFLAG, ONLRET },

	/* As in OpenSSH: CS7 and CS8 set or clear their bits of CSIZE; a
	 * client sends both, CS7 first, so CS8 wins when both are set. */
	{ 90, CFLAG, CS7 }, { 91, CFLAG, CS8 }, { 92, CFLAG, PARENB },
	{ 93, CFLAG, PARODD },
};

static const struct mode *
mode_by_op(uint8_t op)
{
	for (size_t i = 0; i < sizeof(modes_table) / sizeof(modes_table[0]); i++)
		if (modes_table[i].op == op)
			return &modes_table[i];
	return NULL;
}

/* The baud rates termios can express; others are ignored, and so is 0,
 * which on a terminal line means "hang up". */
static int
speed_of(uint32_t baud, speed_t *ret)
{
	static const struct {
		uint32_t baud;
		speed_t speed;
	} speeds[] = {
		{ 50, B50 }, { 75, B75 }, { 110, B110 },
		{ 134, B134 }, { 150, B150 }, { 200, B200 }, { 300, B300 },
		{ 600, B600 }, { 1200, B1200 }, { 1800, B1800 },
		{ 2400, B2400 }, { 4800, B4800 }, { 9600, B9600 },
		{ 19200, B19200 }, { 38400, B38400 }, { 57600, B57600 },
		{ 115200, B115200 }, { 230400, B230400 }, { 460800, B460800 },
		{ 500000, B500000 }, { 576000, B576000 }, { 921600, B921600 },
		{ 1000000, B1000000 }, { 1152000, B1152000 },
		{ 1500000, B1500000 }, { 2000000, B2000000 },
		{ 2500000, B2500000 }, { 3000000, B3000000 },
		{ 3500000, B3500000 }, { 4000000, B4000000 },
	};

	for (size_t i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++)
		if (speeds[i].baud == baud) {
			*ret = speeds[i].speed;
			return 0;
		}
	return -EINVAL;
}

static tcflag_t *
flag_field(struct termios *t, uint8_t field)
{
	switch (field) {
	case IFLAG: return &t->c_iflag;
	case LFLAG: return &t->c_lflag;
	case OFLAG: return &t->c_oflag;
	default: return &t->c_cflag;
	}
}

int
ptymodes_decode(const uint8_t *modes, size_t len, struct termios *t)
{
	struct termios nt = *t;
	size_t off = 0;

	if (len > PTYMODES_MAX)
		return -EINVAL;
	while (off < len) {
		uint8_t op = modes[off++];
		const struct mode *m;
		speed_t sp;
		uint32_t v;

		if (op == TTY_OP_END || op >= TTY_OP_UNDEFINED)
			break;
		if (len - off < 4)
			return -EINVAL;
		v = (uint32_t)modes[off] << 24 | (uint32_t)modes[off + 1] << 16 |
		    (uint32_t)modes[off + 2] << 8 | modes[off + 3];
		off += 4;
		if (op == TTY_OP_ISPEED || op == TTY_OP_OSPEED) {
			if (speed_of(v, &sp) == 0)
				(op == TTY_OP_ISPEED ? cfsetispeed : cfsetospeed)(&nt, sp);
			continue;
		}
		m = mode_by_op(op);
		if (m == NULL)
			continue;
		if (m->field == CC) {
			/* Clients send 255 for "disabled" (OpenSSH does). */
			nt.c_cc[m->bit] = v == 255 ? _POSIX_VDISABLE : (cc_t)v;
			continue;
		}
		if (v != 0)
			*flag_field(&nt, m->field) |= m->bit;
		else
			*flag_field(&nt, m->field) &= ~m->bit;
	}
	*t = nt;
	return 0;
}

int
ptymodes_apply(int fd, const uint8_t *modes, size_t len)
{
	struct termios t;
	int r;

	if (len == 0)
		return 0;
	if (tcgetattr(fd, &t) < 0)
		return -errno;
	r = ptymodes_decode(modes, len, &t);
	if (r < 0)
		return r;
	if (tcsetattr(fd, TCSANOW, &t) < 0)
		return -errno;
	return 0;
}
