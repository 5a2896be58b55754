/* libFuzzer target: sshand.conf's parser, on whatever bytes the file holds.
 *
 * config_load() opens a path, as sshand does, so the input is written to
 * a memfd and loaded through /proc/self/fd/N: the same open, fstat and
 * stdio reads as a real file, and no change to the parser.  A file that
 * loads is then resolved for a few connections (global section, a user,
 * Match blocks) and dumped as sshand -T would, so that every value that
 * passed the parser also goes through copying, resolution and printing. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "policy/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;
static char path[64];
static FILE *sink;

static void
setup(void)
{
	memfd = memfd_create("sshand.conf", MFD_CLOEXEC);
	if (memfd < 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	sink = fopen("/dev/null", "we");
	if (sink == NULL)
		abort();
}

static void
resolve(const struct config *cfg, const struct match_ctx *ctx)
{
	struct settings *s = NULL;

	if (config_resolve(cfg, ctx, &s) < 0)
		return;
	settings_dump(s, sink);
	(void)settings_subsystem(s, "sftp");
	(void)settings_accept_env(s, "LANG");
	settings_free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const groups[] = { "users", "wheel" };
	static const struct match_ctx ctxs[] = {
		{ .user = "alice", .groups = groups, .n_groups = 2,
		    .addr = "192.0.2.7" },
		{ .user = "root", .addr = "2001:db8::1" },
	};
	struct config *cfg = NULL;
	char err[512], buf[4096];

	if (memfd < 0)
		setup();
	if (ftruncate(memfd, 0) < 0 ||
	    (size > 0 && pwrite(memfd, data, size, 0) != (ssize_t)size))
		abort();
	if (config_load(path, &cfg, err, sizeof(err)) < 0) {
		/* Every refusal says where and why. */
		if (err[0] == '\0' || strnlen(err, sizeof(err)) == sizeof(err))
			abort();
		return 0;
	}
	resolve(cfg, NULL);
	for (size_t i = 0; i < sizeof(ctxs) / sizeof(ctxs[0]); i++)
		resolve(cfg, &ctxs[i]);
	(void)config_host_key_line(cfg, "/etc/sshand/ssh_host_ed25519_key");
	(void)config_pubkey_algorithms_any(cfg, buf, sizeof(buf));
	for (size_t i = 0; config_notice(cfg, i) != NULL; i++)
		;
	config_free(cfg);
	return 0;
}
