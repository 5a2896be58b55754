/* libssh 0.10 reads a pty-req's terminal modes into its message but has no
 * accessor for them (the channel callback drops them too).  We read them
 * through a copy of the start of libssh 0.10's private struct
 * ssh_message_struct (include/libssh/messages.h), and trust that copy only
 * when every field the public accessors do expose sits where the copy
 * says: the channel, TERM and the four sizes around the modes.  Any other
 * libssh, or another layout, leaves the modes unknown and the pty with
 * default modes, never a wrong read. */
#include <errno.h>
#include <string.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "handler/net/libssh-private.h"

struct mirror_auth_request {
	char *username;
	int method;
	char *password;
	void *pubkey;
	char *sigtype;
	int signature_state;
	char kbdint_response;
};

struct mirror_channel_request_open {
	int type;
	uint32_t sender;
	uint32_t window;
	uint32_t packet_size;
	char *originator;
	uint16_t originator_port;
	char *destination;
	uint16_t destination_port;
};

struct mirror_channel_request {
	int type;
	ssh_channel channel;
	uint8_t want_reply;
	char *TERM;
	uint32_t width;
	uint32_t height;
	uint32_t pxwidth;
	uint32_t pxheight;
	ssh_string modes;
	/* more follows; never read */
};

struct mirror_message {
	ssh_session session;
	int type;
	struct mirror_auth_request auth_request;
	struct mirror_channel_request_open channel_request_open;
	struct mirror_channel_request channel_request;
};

static int
layout_known(void)
{
	static int known = -1;
	const char *v;

	if (known < 0) {
		/* ssh_version returns NULL when older than asked. */
		v = ssh_version(SSH_VERSION_INT(0, 10, 0));
		known = v != NULL && strncmp(v, "0.10.", 5) == 0;
	}
	return known;
}

/* The accessors are deprecated for the callback API, whose pty callback
 * lacks the modes; they give what they can and check the copy above. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
int
libssh_pty_request(ssh_message msg, struct pty_req *ret)
{
	const struct mirror_message *m = (const struct mirror_message *)msg;
	const struct mirror_channel_request *cr = &m->channel_request;
	struct pty_req r = { 0 };

	if (ssh_message_type(msg) != SSH_REQUEST_CHANNEL ||
	    ssh_message_subtype(msg) != SSH_CHANNEL_REQUEST_PTY)
		return -EINVAL;
	r.channel = ssh_message_channel_request_channel(msg);
	r.term = ssh_message_channel_request_pty_term(msg);
	r.cols = ssh_message_channel_request_pty_width(msg);
	r.rows = ssh_message_channel_request_pty_height(msg);
	r.xpix = ssh_message_channel_request_pty_pxwidth(msg);
	r.ypix = ssh_message_channel_request_pty_pxheight(msg);
	r.modes_known = layout_known() && cr->type == SSH_CHANNEL_REQUEST_PTY &&
	    cr->channel == r.channel && cr->TERM == r.term &&
	    (int)cr->width == r.cols && (int)cr->height == r.rows &&
	    (int)cr->pxwidth == r.xpix && (int)cr->pxheight == r.ypix;
	if (r.modes_known && cr->modes != NULL) {
		r.modes = ssh_string_data(cr->modes);
		r.nmodes = ssh_string_len(cr->modes);
	}
	*ret = r;
	return 0;
}
#pragma GCC diagnostic pop
