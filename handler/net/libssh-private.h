/* What libssh 0.10 parses but does not hand out.  Kept in one place, each
 * read checked against the public accessors, so a libssh whose layout
 * differs is detected and the data is simply not used. */
#ifndef SSHAND_HANDLER_LIBSSH_PRIVATE_H
#define SSHAND_HANDLER_LIBSSH_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libssh/libssh.h>

struct pty_req {
	ssh_channel channel;
	const char *term;
	int cols, rows, xpix, ypix;
	bool modes_known;	/* false: this libssh hides them */
	const uint8_t *modes;	/* encoded (RFC 4254 section 8), into msg */
	size_t nmodes;
};

/* The fields of a pty-req message, valid while msg lives.  0, or -EINVAL
 * if msg is no pty-req. */
int libssh_pty_request(ssh_message msg, struct pty_req *ret);

#endif
