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

/* The request hook (libssh_install_request_hook) marks what it rewrote:
 * an auth-agent-req@openssh.com becomes an env request with this name, a
 * streamlocal request a TCP one whose host is the socket path after a
 * 0x01 byte. */
bool libssh_is_agent_mark(const char *env_name);
/* The socket path of a marked host, or NULL for a real host name. */
const char *libssh_unix_path(const char *host);
int libssh_install_request_hook(ssh_session s);

#endif
