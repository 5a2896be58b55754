/* sshand-net.so: the network child's code (net.c) and sshand -t.
 *
 * Loaded by the child the front forks, and only there: the monitor never
 * maps libssh, OpenSSL or Kerberos (libssh's dependencies).  See
 * front/main.c.
 */
#define _GNU_SOURCE
#include <libssh/libssh.h>
#include <stdio.h>

#include "handler/front/handover.h"
#include "handler/front/log.h"
#include "handler/net/net.h"

static int
test_config(const char *path)
{
	struct config *cfg;
	struct settings *s;
	char err[512];
	int rc = EXIT_OK;

	if (config_load(path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "sshand: %s\n", err);
		return EXIT_CONFIG;
	}
	if (config_resolve(cfg, NULL, &s) < 0) {
		config_free(cfg);
		return EXIT_CONFIG;
	}
	for (size_t i = 0; i < s->host_keys.n; i++) {
		ssh_key k = NULL;

		if (ssh_pki_import_privkey_file(s->host_keys.v[i], NULL, NULL, NULL,
		    &k) != SSH_OK) {
			fprintf(stderr, "sshand: %s: HostKey %s cannot be loaded\n",
			    path, s->host_keys.v[i]);
			rc = EXIT_CONFIG;
		}
		ssh_key_free(k);
	}
	settings_free(s);
	config_free(cfg);
	return rc;
}

__attribute__((visibility("default"))) const struct sshand_net sshand_net = {
	.abi = SSHAND_CORE_ABI,
	.main = net_main,
	.test = test_config,
};
