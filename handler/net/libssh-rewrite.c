/* Two packets libssh 0.10 builds, rewritten as they are packed:
 * libssh_refuse_channel_open() and libssh_open_forwarded_streamlocal() in
 * libssh-private.h.
 *
 * - Refusals.  libssh refuses a channel open in one way only:
 *   ssh_message_reply_default() packs SSH2_MSG_CHANNEL_OPEN_FAILURE with
 *   ssh_buffer_pack(out, "bdddd", 92, sender, 1, 0, 0), reason 1
 *   (administratively prohibited) and empty strings (server.c,
 *   ssh_message_channel_request_open_reply_default).  sshd says why: a
 *   connect that failed is reason 2, "connect failed", described by the
 *   error ("Connection refused"), and a refusal by policy carries "open
 *   failed"; the client prints them.
 * - ssh -R from a socket path.  Its connections reach the client as
 *   forwarded-streamlocal@openssh.com channels (string path, string
 *   reserved), which libssh cannot open: channel_open() is static, and
 *   what reaches it is fixed by each public caller.  The nearest is
 *   ssh_channel_open_forward_unix(), the client's ssh -L to a socket:
 *   type "direct-streamlocal@openssh.com", then string path, string
 *   source host, uint32 port.  Rewritten, its packet is the one wanted:
 *   the other type name, and the payload without the port (OpenSSH's
 *   client refuses a payload with bytes left over).
 *
 * Each field packed reaches its buffer through one call of
 * ssh_buffer_add_data(), an exported function that libssh calls by name
 * (through its PLT): the 's' of ssh_buffer_pack() as a length and then
 * the bytes, a payload buffer as one call (ssh_buffer_add_buffer).
 * sshand-net.so defines it, with default visibility, as it defines
 * EVP_DigestSign (hostkeys.c): loaded RTLD_LOCAL beside a libc-only
 * front, its definition is the one libssh's calls bind to.  It passes
 * every call on to libssh's own, except while one of the two functions
 * has it armed: then it follows the packet field by field, from its
 * message number on, and writes what differs.  A field that is not the
 * one expected next stops it, and the packet goes out as libssh built
 * it: another libssh, one that packs differently, refuses with its own
 * reason, or sends a direct-streamlocal open that the client refuses.
 * Neither can send something the caller did not ask for.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <libssh/libssh.h>
#include <libssh/server.h>
#include <libssh/ssh2.h>

#include "handler/net/libssh-private.h"

typedef int add_data_fn(ssh_buffer, const void *, uint32_t);

static add_data_fn *libssh_add_data;

static const char direct_streamlocal[] = "direct-streamlocal@openssh.com";
static const char forwarded_streamlocal[] = "forwarded-streamlocal@openssh.com";

/* Where the packet being packed is, while armed. */
enum step {
	S_OFF = 0,
	/* OPEN_FAILURE: "bdddd" */
	F_TYPE,		/* byte 92 */
	F_SENDER,	/* the client's channel number */
	F_REASON,	/* 1: ours instead */
	F_DESCRIPTION,	/* an empty string: ours instead */
	F_LANGUAGE,	/* an empty string, kept */
	/* CHANNEL_OPEN: "bsddd", then the payload */
	O_TYPE,		/* byte 90; until it comes, other buffers pass */
	O_NAME_LEN,	/* the length of direct_streamlocal: ours */
	O_NAME,		/* direct_streamlocal: forwarded_streamlocal */
	O_CHANNEL,	/* our channel number */
	O_WINDOW,
	O_MAXPACKET,
	O_PAYLOAD,	/* path, source "", port 0: path, reserved "" */
};

static struct {
	enum step step;
	ssh_buffer buffer;	/* the packet's, once its number came */
	uint32_t reason;
	const char *description;
	uint32_t description_len;
	bool done;
} rw;

/* Before the network child's seccomp filter, while sshand-net.so loads:
 * the definition after ours, libssh's. */
__attribute__((constructor)) static void
find_libssh_add_data(void)
{
	libssh_add_data = (add_data_fn *)dlsym(RTLD_NEXT, "ssh_buffer_add_data");
}

static bool
is_u32(const void *data, uint32_t len, uint32_t host_value)
{
	uint32_t v;

	if (len != sizeof(v))
		return false;
	memcpy(&v, data, sizeof(v));
	return v == htonl(host_value);
}

static int
add_u32(ssh_buffer b, uint32_t host_value)
{
	uint32_t v = htonl(host_value);

	return libssh_add_data(b, &v, sizeof(v));
}

/* The length of the payload path, "", 0 without its port, or 0 if data
 * is not that. */
static uint32_t
payload_without_port(const uint8_t *p, uint32_t len)
{
	uint32_t n;

	if (len < 12)
		return 0;
	memcpy(&n, p, 4);
	n = ntohl(n);
	if (n == 0 || n > len - 12)
		return 0;
	if (!is_u32(p + 4 + n, 4, 0) || !is_u32(p + 8 + n, 4, 0) ||
	    len != 12 + n)
		return 0;
	return 8 + n;
}

/* One field of an OPEN_FAILURE; 1 when passed on unchanged. */
static int
refusal_field(ssh_buffer b, const void *data, uint32_t len)
{
	switch (rw.step) {
	case F_TYPE:
		rw.step = len == 1 &&
		    *(const uint8_t *)data == SSH2_MSG_CHANNEL_OPEN_FAILURE ?
		    F_SENDER : S_OFF;
		return 1;
	case F_SENDER:
		rw.step = len == 4 ? F_REASON : S_OFF;
		return 1;
	case F_REASON:
		if (!is_u32(data, len, SSH2_OPEN_ADMINISTRATIVELY_PROHIBITED))
			break;
		rw.step = F_DESCRIPTION;
		return add_u32(b, rw.reason);
	case F_DESCRIPTION:
		if (!is_u32(data, len, 0))
			break;
		rw.step = F_LANGUAGE;
		if (add_u32(b, rw.description_len) < 0)
			return -1;
		return rw.description_len == 0 ? 0 :
		    libssh_add_data(b, rw.description, rw.description_len);
	case F_LANGUAGE:
		rw.done = is_u32(data, len, 0);
		break;
	default:
		break;
	}
	rw.step = S_OFF;
	return 1;
}

/* One field of a CHANNEL_OPEN; 1 when passed on unchanged. */
static int
open_field(ssh_buffer b, const void *data, uint32_t len)
{
	uint32_t keep;

	if (rw.step == O_TYPE) {
		if (len == 1 && *(const uint8_t *)data == SSH2_MSG_CHANNEL_OPEN) {
			rw.buffer = b;
			rw.step = O_NAME_LEN;
		}
		return 1;	/* the payload's own fields come first */
	}
	if (b != rw.buffer)
		return 1;
	switch (rw.step) {
	case O_NAME_LEN:
		if (!is_u32(data, len, sizeof(direct_streamlocal) - 1)) {
			/* A one-byte field of the payload that looked like
			 * the number: wait for the packet itself. */
			rw.step = O_TYPE;
			rw.buffer = NULL;
			return 1;
		}
		rw.step = O_NAME;
		return add_u32(b, sizeof(forwarded_streamlocal) - 1);
	case O_NAME:
		if (len != sizeof(direct_streamlocal) - 1 ||
		    memcmp(data, direct_streamlocal, len) != 0)
			break;
		rw.step = O_CHANNEL;
		return libssh_add_data(b, forwarded_streamlocal,
		    sizeof(forwarded_streamlocal) - 1);
	case O_CHANNEL:
	case O_WINDOW:
	case O_MAXPACKET:
		if (len != 4)
			break;
		rw.step++;
		return 1;
	case O_PAYLOAD:
		keep = payload_without_port(data, len);
		if (keep == 0)
			break;
		rw.step = S_OFF;
		rw.done = true;
		return libssh_add_data(b, data, keep);
	default:
		break;
	}
	/* Not the packet expected: it goes on as libssh built it, and the
	 * rest of it unchanged. */
	rw.step = S_OFF;
	return 1;
}

__attribute__((visibility("default"))) int
ssh_buffer_add_data(ssh_buffer buffer, const void *data, uint32_t len)
{
	int r = 1;

	if (libssh_add_data == NULL)
		return -1;
	if (rw.step >= F_TYPE && rw.step <= F_LANGUAGE)
		r = refusal_field(buffer, data, len);
	else if (rw.step >= O_TYPE)
		r = open_field(buffer, data, len);
	return r == 1 ? libssh_add_data(buffer, data, len) : r;
}

int
libssh_refuse_channel_open(ssh_message msg, uint32_t reason,
    const char *description)
{
	size_t n = description != NULL ? strnlen(description,
	    LIBSSH_REFUSAL_MAX + 1) : 0;
	int rc;

	if (n > LIBSSH_REFUSAL_MAX)
		n = LIBSSH_REFUSAL_MAX;
	rw = (typeof(rw)){ .step = F_TYPE, .reason = reason,
	    .description = description, .description_len = (uint32_t)n };
	rc = ssh_message_reply_default(msg);
	rw.step = S_OFF;
	if (rc != SSH_OK)
		return -EIO;
	return rw.done ? 0 : -ENOTSUP;
}

int
libssh_open_forwarded_streamlocal(ssh_channel ch, const char *path)
{
	int rc;

	if (path == NULL || path[0] == '\0')
		return SSH_ERROR;
	rw = (typeof(rw)){ .step = O_TYPE };
	rc = ssh_channel_open_forward_unix(ch, path, "", 0);
	rw.step = S_OFF;
	return rc;
}
