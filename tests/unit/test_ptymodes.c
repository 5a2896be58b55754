/* Terminal modes from a pty-req: what a client's list does to termios, and
 * that a malformed list changes nothing. */
#define _GNU_SOURCE
#include <errno.h>
#include <pty.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <cmocka.h>

#include "handler/monitor/ptymodes.h"

/* Appends one opcode and its uint32 argument. */
static size_t
put(uint8_t *b, size_t off, uint8_t op, uint32_t v)
{
	b[off] = op;
	b[off + 1] = (uint8_t)(v >> 24);
	b[off + 2] = (uint8_t)(v >> 16);
	b[off + 3] = (uint8_t)(v >> 8);
	b[off + 4] = (uint8_t)v;
	return off + 5;
}

static struct termios
base(void)
{
	struct termios t;

	memset(&t, 0, sizeof(t));
	t.c_iflag = ICRNL | IXON;
	t.c_oflag = OPOST | ONLCR;
	t.c_cflag = CS8 | CREAD;
	t.c_lflag = ISIG | ICANON | ECHO;
	t.c_cc[VINTR] = 3;
	t.c_cc[VERASE] = 127;
	cfsetispeed(&t, B38400);
	cfsetospeed(&t, B38400);
	return t;
}

static void
test_chars_flags_speeds(void **state)
{
	uint8_t b[128];
	size_t n = 0;
	struct termios t = base();

	(void)state;
	n = put(b, n, 1, 0x18);		/* VINTR ^X */
	n = put(b, n, 3, 8);		/* VERASE ^H */
	n = put(b, n, 10, 255);		/* VSUSP disabled */
	n = put(b, n, 42, 1);		/* IUTF8 on */
	n = put(b, n, 38, 0);		/* IXON off */
	n = put(b, n, 53, 0);		/* ECHO off */
	n = put(b, n, 72, 0);		/* ONLCR off */
	n = put(b, n, 128, 9600);	/* ISPEED */
	n = put(b, n, 129, 9600);	/* OSPEED */
	b[n++] = 0;			/* TTY_OP_END */
	assert_int_equal(ptymodes_decode(b, n, &t), 0);
	assert_int_equal(t.c_cc[VINTR], 0x18);
	assert_int_equal(t.c_cc[VERASE], 8);
	assert_int_equal(t.c_cc[VSUSP], _POSIX_VDISABLE);
	assert_true(t.c_iflag & IUTF8);
	assert_true(t.c_iflag & ICRNL);
	assert_false(t.c_iflag & IXON);
	assert_false(t.c_lflag & ECHO);
	assert_true(t.c_lflag & ICANON);
	assert_false(t.c_oflag & ONLCR);
	assert_int_equal(cfgetispeed(&t), B9600);
	assert_int_equal(cfgetospeed(&t), B9600);
}

/* As OpenSSH's client sends them for an 8-bit terminal: CS7 then CS8,
 * both set, leave CS8. */
static void
test_character_size(void **state)
{
	uint8_t b[32];
	size_t n = 0;
	struct termios t = base();

	(void)state;
	n = put(b, n, 90, 1);
	n = put(b, n, 91, 1);
	assert_int_equal(ptymodes_decode(b, n, &t), 0);
	assert_int_equal(t.c_cflag & CSIZE, CS8);
	n = 0;
	n = put(b, n, 91, 0);
	n = put(b, n, 90, 1);
	assert_int_equal(ptymodes_decode(b, n, &t), 0);
	assert_int_equal(t.c_cflag & CSIZE, CS7);
}

/* Unknown opcodes below 160 are skipped with their argument; 160 and above
 * end the list (RFC 4254 section 8); so does an unknown speed, harmlessly. */
static void
test_unknown_and_undefined(void **state)
{
	uint8_t b[64];
	size_t n = 0;
	struct termios t = base();

	(void)state;
	n = put(b, n, 11, 0x19);	/* VDSUSP: no Linux equivalent */
	n = put(b, n, 99, 1);		/* unassigned */
	n = put(b, n, 128, 12345);	/* no such baud rate */
	n = put(b, n, 129, 0);		/* "hang up": not on our pty */
	n = put(b, n, 1, 0x1c);		/* VINTR: still applied */
	b[n++] = 160;			/* parsing stops here... */
	b[n++] = 1;			/* ...so this is never read */
	assert_int_equal(ptymodes_decode(b, n, &t), 0);
	assert_int_equal(t.c_cc[VINTR], 0x1c);
	assert_int_equal(cfgetispeed(&t), B38400);
	assert_int_equal(cfgetospeed(&t), B38400);
}

static void
test_malformed_changes_nothing(void **state)
{
	uint8_t b[PTYMODES_MAX + 8];
	struct termios t = base(), want = base();
	size_t n = 0;

	(void)state;
	n = put(b, n, 1, 0x18);
	/* A truncated argument: the whole list is refused. */
	b[n++] = 3;
	b[n++] = 0;
	b[n++] = 0;
	assert_int_equal(ptymodes_decode(b, n, &t), -EINVAL);
	assert_memory_equal(&t, &want, sizeof(t));
	/* Longer than the bound. */
	memset(b, 0, sizeof(b));
	put(b, 0, 1, 0x18);
	assert_int_equal(ptymodes_decode(b, PTYMODES_MAX + 1, &t), -EINVAL);
	assert_memory_equal(&t, &want, sizeof(t));
	/* Empty: nothing to do. */
	assert_int_equal(ptymodes_decode(b, 0, &t), 0);
	assert_memory_equal(&t, &want, sizeof(t));
}

/* On a real pty, as the monitor applies them before the shell starts. */
static void
test_apply_to_pty(void **state)
{
	uint8_t b[32];
	size_t n = 0;
	struct termios t;
	int master, slave;

	(void)state;
	assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
	n = put(b, n, 3, 8);
	n = put(b, n, 42, 1);
	b[n++] = 0;
	assert_int_equal(ptymodes_apply(slave, b, n), 0);
	assert_int_equal(tcgetattr(slave, &t), 0);
	assert_int_equal(t.c_cc[VERASE], 8);
	assert_true(t.c_iflag & IUTF8);
	close(master);
	close(slave);
	/* Not a terminal. */
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(ptymodes_apply(p[0], b, n), -ENOTTY);
	close(p[0]);
	close(p[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chars_flags_speeds),
		cmocka_unit_test(test_character_size),
		cmocka_unit_test(test_unknown_and_undefined),
		cmocka_unit_test(test_malformed_changes_nothing),
		cmocka_unit_test(test_apply_to_pty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
