/* Privilege separation's framing: one message is one datagram on a
 * SOCK_SEQPACKET socketpair: a type byte (protocol.h), then fields in the
 * SSH wire format (policy/util/sshwire.h), at most PS_MAX_MSG bytes, with
 * up to PS_MAX_FDS descriptors attached (SCM_RIGHTS).
 *
 * Reading is bounds-checked and sticky: a short field, an overlong one or
 * a NUL inside a string marks the message bad, and ps_done() says so once
 * at the end.  messages.h builds every message from these pieces. */
#ifndef SSHAND_HANDLER_PRIVSEP_WIRE_H
#define SSHAND_HANDLER_PRIVSEP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handler/privsep/protocol.h"
#include "policy/util/sshwire.h"

#define PS_MAX_MSG (64 * 1024)
#define PS_MAX_FDS 3

struct ps_msg {
	uint8_t buf[PS_MAX_MSG];
	size_t len;
	struct wire_reader rd;		/* over the fields of a received message */
	struct wire_writer wr;		/* over buf while one is built */
	/* Strings read from the message, NUL-terminated: a message of n
	 * bytes holds fewer than n / 4 strings of fewer than n bytes. */
	char strings[PS_MAX_MSG + PS_MAX_MSG / 4];
	size_t strings_used;
	int fds[PS_MAX_FDS];
	size_t nfds;
};

/* Starts a message of this type (any previous content is dropped). */
void ps_start(struct ps_msg *m, enum ps_type type);
/* Attaches an fd (not owned: the caller closes its copy after sending). */
void ps_put_fd(struct ps_msg *m, int fd);

/* The type byte of a received message (PS_NONE if there is none). */
unsigned ps_type(const struct ps_msg *m);
/* A string field without NUL, at most max bytes, NUL-terminated in the
 * message's own storage (valid until the message is reused); NULL, and the
 * message bad, if it is missing, too long or holds a NUL. */
const char *ps_get_str(struct ps_msg *m, size_t max);
/* Bytes, pointing into the message; NULL (bad) as for wire_get_string. */
const uint8_t *ps_get_bytes(struct ps_msg *m, size_t max, size_t *ret_len);
/* Takes ownership of the next received fd, or -1 (and the message bad). */
int ps_take_fd(struct ps_msg *m);
/* True if every field was read and none was out of bounds. */
bool ps_done(const struct ps_msg *m);

/* Sends, retrying on EINTR.  0, -EMSGSIZE if the message outgrew
 * PS_MAX_MSG or PS_MAX_FDS, or -errno. */
int ps_send(int fd, const struct ps_msg *m);
/* Receives one message (blocking, or -EAGAIN with MSG_DONTWAIT in flags).
 * 0, -EPIPE at end of file, -EBADMSG for a truncated message or a type
 * byte out of range, or -errno.  Fds beyond PS_MAX_FDS are closed. */
int ps_recv(int fd, struct ps_msg *m, int flags);
/* Copies a received message (its bytes and fds, which move to dst). */
void ps_move(struct ps_msg *dst, struct ps_msg *src);
/* Closes the fds still owned by m. */
void ps_clear_fds(struct ps_msg *m);
/* Wipes what m carried (it may have held a password). */
void ps_wipe(struct ps_msg *m);

#endif
