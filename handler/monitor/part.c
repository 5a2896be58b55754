/* sshand-monitor.so: the monitor's code (authentication through PAM and
 * authorized_keys, sessions and their drop to the user), the guardian's
 * (handler/guardian/), and sshand -T, which resolves a user's Match policy
 * as the monitor does after login.
 *
 * Loaded by the front's own process before it forks the network child;
 * it links PAM and libcap-ng, not libssh or OpenSSL.  See front/main.c.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handler/front/handover.h"
#include "handler/guardian/guardian.h"
#include "handler/monitor/auth.h"
#include "handler/monitor/monitor.h"
#include "policy/config.h"

/* sshand -T [-C user=NAME,addr=ADDR]: the settings a login would get. */
static int
dump_settings(const char *path, const char *spec)
{
	struct config *cfg;
	struct settings *s;
	char *copy = spec ? strdup(spec) : NULL, *tok, *save = NULL;
	const char *user = NULL, *addr = NULL;
	struct match_ctx ctx = { 0 };
	char err[512];
	int r;

	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strncmp(tok, "user=", 5) == 0)
			user = tok + 5;
		else if (strncmp(tok, "addr=", 5) == 0)
			addr = tok + 5;
		else {
			fprintf(stderr, "sshand: -C: unknown criterion \"%s\" "
			    "(use user=NAME,addr=ADDR)\n", tok);
			free(copy);
			return EXIT_USAGE;
		}
	}
	r = config_load(path, &cfg, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "sshand: %s\n", err);
		free(copy);
		return EXIT_CONFIG;
	}
	ctx.user = user;
	ctx.addr = addr;
	/* Group membership as the handler will see it after login. */
	const char *groups[64];
	char *gstore[64];
	size_t ng = 0;
	if (user != NULL)
		ng = user_group_names(user, gstore, 64);
	for (size_t i = 0; i < ng; i++)
		groups[i] = gstore[i];
	ctx.groups = groups;
	ctx.n_groups = ng;
	r = config_resolve(cfg, &ctx, &s);
	for (size_t i = 0; i < ng; i++)
		free(gstore[i]);
	if (r < 0) {
		fprintf(stderr, "sshand: %s: %s\n", path, strerror(-r));
		config_free(cfg);
		free(copy);
		return EXIT_CONFIG;
	}
	settings_dump(s, stdout);
	settings_free(s);
	config_free(cfg);
	free(copy);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_INTERNAL;
}


__attribute__((visibility("default"))) const struct sshand_monitor sshand_monitor = {
	.abi = SSHAND_CORE_ABI,
	.main = monitor_main,
	.dump = dump_settings,
	.guard = guardian_main,
};
