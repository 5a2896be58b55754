/* Channel open failures with a reason: libssh_refuse_channel_open() in
 * libssh-private.h.
 *
 * libssh 0.10 refuses a channel open in one way only:
 * ssh_message_reply_default() packs SSH2_MSG_CHANNEL_OPEN_FAILURE with
 * ssh_buffer_pack(out, "bdddd", 92, sender, 1, 0, 0), reason 1
 * (administratively prohibited) and empty strings (server.c,
 * ssh_message_channel_request_open_reply_default).  sshd says why: a
 * connect that failed is reason 2, "connect failed", described by the
 * error ("Connection refused"), and a refusal by policy carries "open
 * failed", which the client prints ("channel 2: open failed: connect
 * failed: Connection refused").
 *
 * Each field packed reaches the buffer through one call of
 * ssh_buffer_add_data(), an exported function that libssh calls by name
 * (through its PLT).  sshand-net.so defines it, with default visibility,
 * as it defines EVP_DigestSign (hostkeys.c): loaded RTLD_LOCAL beside a
 * libc-only front, its definition is the one libssh's calls bind to.  It
 * passes every call on to libssh's own, except while
 * libssh_refuse_channel_open() has it armed: then, for the five fields of
 * exactly that packet, it writes the reason for the 1 and the
 * description for the first empty string.  A call that is not the field
 * expected next disarms it, and libssh's packet goes out as libssh built
 * it: another libssh, one that packs differently, still refuses, with
 * its own reason.
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

/* Where the packet being packed is, while armed. */
enum step {
	S_OFF = 0,
	S_TYPE,		/* byte 92 */
	S_SENDER,	/* the client's channel number */
	S_REASON,	/* 1: ours instead */
	S_DESCRIPTION,	/* an empty string: ours instead */
	S_LANGUAGE,	/* an empty string, kept */
};

static struct {
	enum step step;
	uint32_t reason;
	const char *description;
	uint32_t description_len;
	bool done;
} refusal;

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

__attribute__((visibility("default"))) int
ssh_buffer_add_data(ssh_buffer buffer, const void *data, uint32_t len)
{
	if (libssh_add_data == NULL)
		return -1;
	switch (refusal.step) {
	case S_OFF:
		break;
	case S_TYPE:
		refusal.step = len == 1 &&
		    *(const uint8_t *)data == SSH2_MSG_CHANNEL_OPEN_FAILURE ?
		    S_SENDER : S_OFF;
		break;
	case S_SENDER:
		refusal.step = len == 4 ? S_REASON : S_OFF;
		break;
	case S_REASON: {
		uint32_t reason = htonl(refusal.reason);

		if (!is_u32(data, len, SSH2_OPEN_ADMINISTRATIVELY_PROHIBITED)) {
			refusal.step = S_OFF;
			break;
		}
		refusal.step = S_DESCRIPTION;
		return libssh_add_data(buffer, &reason, sizeof(reason));
	}
	case S_DESCRIPTION: {
		uint32_t n = htonl(refusal.description_len);

		if (!is_u32(data, len, 0)) {
			refusal.step = S_OFF;
			break;
		}
		refusal.step = S_LANGUAGE;
		if (libssh_add_data(buffer, &n, sizeof(n)) < 0)
			return -1;
		return refusal.description_len == 0 ? 0 :
		    libssh_add_data(buffer, refusal.description,
		    refusal.description_len);
	}
	case S_LANGUAGE:
		refusal.done = is_u32(data, len, 0);
		refusal.step = S_OFF;
		break;
	}
	return libssh_add_data(buffer, data, len);
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
	refusal = (typeof(refusal)){ .step = S_TYPE, .reason = reason,
	    .description = description, .description_len = (uint32_t)n };
	rc = ssh_message_reply_default(msg);
	refusal.step = S_OFF;
	if (rc != SSH_OK)
		return -EIO;
	return refusal.done ? 0 : -ENOTSUP;
}
