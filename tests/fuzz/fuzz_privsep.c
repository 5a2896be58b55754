/* libFuzzer target: privilege separation messages as the monitor
 * receives them.  The input is one datagram, sent on a SOCK_SEQPACKET
 * socketpair and read with ps_recv(), the monitor's own receive (type
 * byte, size, truncation), then decoded by its type's decoder, as
 * monitor/dispatch.c does for the network child's requests and
 * monitor/forward.c and the key holder's reader for theirs.  Every type
 * is decoded: the network child's requests, the forwarder's and the key
 * holder's messages that the monitor trusts no further than the decoder,
 * and the monitor's own (which the network child decodes).
 *
 * A message that decodes must hold every field within its bound
 * (messages.h) and encode back to the very bytes received: the two
 * sides cannot read one message two ways. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "handler/privsep/messages.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sp[2] = { -1, -1 };
static struct ps_msg in, out;

#define CHECK(kind, name, bound, count) CHECK_##kind(name, bound, count)
#define CHECK_U32(name, bound, count)
#define CHECK_U64(name, bound, count)
#define CHECK_BOOL(name, bound, count)
#define CHECK_MAX(name, bound, count) ok &= r.name <= (bound);
#define CHECK_STR(name, bound, count) \
	ok &= r.name != NULL && strlen(r.name) <= (bound);
#define CHECK_CUT(name, bound, count) CHECK_STR(name, bound, count)
#define CHECK_BYTES(name, bound, count) \
	ok &= (r.name != NULL || r.name##_len == 0) && r.name##_len <= (bound);
#define CHECK_STRS(name, bound, count)					\
	ok &= r.n_##name <= (count);					\
	for (uint32_t i = 0; ok && i < r.n_##name; i++)			\
		ok &= r.name[i] != NULL && strlen(r.name[i]) <= (bound);
/* The input carries no descriptors. */
#define CHECK_FDS(name, bound, count) ok &= r.n_##name == 0;

#define DECODE(type, name, ...)						\
	case PS_##type: {						\
		struct ps_##name r;					\
		bool ok = true;						\
									\
		if (ps_get_##name(&in, &r) < 0)				\
			break;						\
		PS_FIELDS_##name(CHECK)					\
		ps_put_##name(&out, &r);				\
		if (!ok || out.wr.bad || out.wr.len != in.len ||	\
		    memcmp(out.buf, in.buf, in.len) != 0)		\
			abort();					\
		break;							\
	}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (sp[0] < 0) {
		int big = 4 * PS_MAX_MSG;

		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0 ||
		    setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big)) < 0)
			abort();
	}
	/* One byte over the limit still shows the truncation check. */
	if (size == 0 || size > PS_MAX_MSG + 1)
		return 0;
	if (send(sp[0], data, size, 0) != (ssize_t)size)
		abort();
	if (ps_recv(sp[1], &in, 0) < 0)
		return 0;
	switch (ps_type(&in)) {
	PS_REQUESTS(DECODE)
	PS_MONITOR_MESSAGES(DECODE)
	PS_KEYHOLDER_MESSAGES(DECODE)
	PS_FORWARDER_MESSAGES(DECODE)
	default:
		abort();	/* ps_recv let an unknown type through */
	}
	ps_wipe(&in);
	return 0;
}
