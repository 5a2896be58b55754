/* libFuzzer target: internal-sftp's codec and dispatch.  The input is a
 * stream of SFTP messages (length, then the message, as the client
 * sends them), the first an INIT or not, each handed to sftp_process()
 * as the server loop does; then the same bytes as attributes, and as
 * internal-sftp's command line.
 *
 * The fuzzer runs as whoever runs it, often root, and the requests name
 * arbitrary paths: only requests without side effects are allowed (the
 * stat family, realpath, readlink, statvfs, limits, expand-path and
 * home-directory, and the handle requests, which find no open handle);
 * the rest are refused by the same -p and -R checks a real server
 * makes, after their message was read as far as the dispatch reads it. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handler/sftp/sftp-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const harmless[] = { "stat", "lstat", "fstat",
	"realpath", "readlink", "statvfs", "fstatvfs", "limits", "expand-path",
	"home-directory", "read", "readdir", "close" };

static uint8_t outbuf[SFTP_MAX_MSG + 4];
static struct sftp srv;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sftp_opts o = { .read_only = true };
	size_t off = 0;

	for (size_t i = 0; i < sizeof(harmless) / sizeof(harmless[0]); i++)
		o.allowed |= UINT64_C(1) << sftp_request_bit(harmless[i]);
	sftp_init(&srv, &o, outbuf, sizeof(outbuf));
	while (size - off >= 4 && !srv.quit) {
		uint32_t len = (uint32_t)data[off] << 24 |
		    (uint32_t)data[off + 1] << 16 | (uint32_t)data[off + 2] << 8 |
		    data[off + 3];

		off += 4;
		if (len == 0 || len > SFTP_MAX_MSG || len > size - off)
			break;
		/* A copy of exactly the message: reading past it is seen. */
		uint8_t *msg = malloc(len);

		if (msg == NULL)
			abort();
		memcpy(msg, data + off, len);
		sftp_process(&srv, msg, len);
		free(msg);
		off += len;
		if (srv.out.len > sizeof(outbuf) || (srv.out.len > 0 &&
		    srv.out.len - 4 != ((uint32_t)outbuf[0] << 24 |
		    (uint32_t)outbuf[1] << 16 | (uint32_t)outbuf[2] << 8 |
		    outbuf[3])))
			abort();
	}
	sftp_handles_close_all(&srv);

	struct sftp_in in = { .p = data, .len = size };
	struct sftp_attrs a;

	sftp_get_attrs(&in, &a);
	if (in.off > size)
		abort();

	char *line = strndup((const char *)data, size);
	char why[128];

	if (line == NULL)
		abort();
	(void)sftp_opts_parse(line, "user", "/home/user", &o, why, sizeof(why));
	free(line);
	return 0;
}
