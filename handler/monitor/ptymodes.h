/* Terminal modes of a pty-req (RFC 4254 section 8, RFC 8160 for IUTF8):
 * the client's terminal settings, applied to the session's new pty so that
 * its erase and interrupt characters, UTF-8 handling and speed are the
 * client's, as sshd does. */
#ifndef SSHAND_HANDLER_PTYMODES_H
#define SSHAND_HANDLER_PTYMODES_H

#include <stddef.h>
#include <stdint.h>
#include <termios.h>

/* Encoded modes longer than this are not applied (OpenSSH's client sends
 * about 300 bytes: five per mode it knows). */
#define PTYMODES_MAX 1024

/* Applies the encoded modes to *t.  Unknown opcodes below 160 are skipped
 * (each carries a uint32); an opcode of 160 or above, or TTY_OP_END, ends
 * the list, as the RFC says.  0, or -EINVAL (t untouched) for a truncated
 * list or one longer than PTYMODES_MAX. */
int ptymodes_decode(const uint8_t *modes, size_t len, struct termios *t);

/* tcgetattr, ptymodes_decode, tcsetattr on a terminal fd.  0 or -errno. */
int ptymodes_apply(int fd, const uint8_t *modes, size_t len);

#endif
