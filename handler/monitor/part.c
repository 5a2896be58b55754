/* sshand-monitor.so: the monitor's code (authentication through PAM and
 * authorized_keys, sessions and their drop to the user), the guardian's
 * (handler/guardian/), the key holder the monitor forks (handler/keys/),
 * sshand -T, which resolves a user's Match policy as the monitor does
 * after login, and sshand -t.
 *
 * Loaded by the front's own process before it forks the network child;
 * it links PAM, libcap-ng and OpenSSL's libcrypto, not libssh.  See
 * front/main.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "handler/front/handover.h"
#include "handler/guardian/guardian.h"
#include "handler/keys/hostkey.h"
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


/* OpenSSL's initialisation once, when the front loads this half, before
 * it forks: the network child, the key holder and the monitor then
 * inherit it instead of each paying it.  That is the configuration file
 * and the providers, and the method store of each kind of operation: the
 * first fetch of a digest (or a cipher, a MAC...) builds the entries of
 * every algorithm of its kind, which costs about as much as the rest of a
 * process's cryptography (0.15 ms each on a fast machine); later fetches
 * of any of them are lookups.  Nothing is seeded here: each process seeds
 * its own random generator after the fork.
 *
 * Without OpenSSL 1.1's table of cipher and digest names
 * (OPENSSL_INIT_NO_ADD_ALL_CIPHERS and _DIGESTS): the first fetch would
 * register every legacy cipher and digest in it, then copy all those
 * names into the provider name map, 0.45 ms of the 0.7 that first fetch
 * cost (measured alone), for aliases that only EVP_get_cipherbyname()
 * and EVP_get_digestbyname() look up.  Nothing here does: libssh, the
 * key holder and sigcheck fetch by the providers' own names or use the
 * EVP_sha256()-style objects, and host keys are unencrypted.  The
 * algorithm tests (every cipher, MAC, key exchange and key type with the
 * OpenSSH client and paramiko) hold that.
 *
 * Without OpenSSL's error strings (OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS):
 * the first error state a thread gets (reading the configuration file
 * makes one) would otherwise load the text of every error of every
 * library into a hash table, 0.2 ms and 54 kB of heap that every process
 * of the connection inherits, for text that sshand never shows.  Only
 * libssh's own diagnostics (-e, -d) print OpenSSL errors, and there they
 * read "error:0308010C:lib(6)::reason(524556)": `openssl errstr 0308010C`
 * gives the text.
 *
 * No cleanup at exit (OPENSSL_INIT_NO_ATEXIT): OPENSSL_cleanup() frees
 * every table built here, one by one, 0.2 to 0.3 ms of the monitor's
 * exit that the kernel does for free; the monitor holds no key (the key
 * holder, which does, never returns through exit()). */
__attribute__((constructor)) static void
init_openssl(void)
{
	OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG | OPENSSL_INIT_NO_ATEXIT |
	    OPENSSL_INIT_NO_ADD_ALL_CIPHERS | OPENSSL_INIT_NO_ADD_ALL_DIGESTS |
	    OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, NULL);
	EVP_MD_free(EVP_MD_fetch(NULL, "SHA256", NULL));
	EVP_CIPHER_free(EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL));
	EVP_MAC_free(EVP_MAC_fetch(NULL, "HMAC", NULL));
	EVP_KEYMGMT_free(EVP_KEYMGMT_fetch(NULL, "ED25519", NULL));
	EVP_SIGNATURE_free(EVP_SIGNATURE_fetch(NULL, "ED25519", NULL));
	EVP_KEYEXCH_free(EVP_KEYEXCH_fetch(NULL, "X25519", NULL));
	EVP_KDF_free(EVP_KDF_fetch(NULL, "HKDF", NULL));
	EVP_RAND_free(EVP_RAND_fetch(NULL, "CTR-DRBG", NULL));
}

/* sshand -t: the file parses, and every HostKey loads as the key holder
 * will load it. */
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
	/* Names left out of algorithm lists: not errors, but said. */
	for (size_t i = 0; config_notice(cfg, i) != NULL; i++)
		fprintf(stderr, "sshand: %s\n", config_notice(cfg, i));
	for (size_t i = 0; i < s->host_keys.n; i++) {
		const char *key = s->host_keys.v[i];
		const char *where = config_host_key_where(cfg, key);
		char why[4352];
		struct hostkey k;
		int bits, r = hostkey_load(key, &k, why, sizeof(why));

		if (r == 0) {
			r = hostkey_check(&k, why, sizeof(why));
			bits = hostkey_rsa_bits(&k);
			if (r == 0 && bits > 0 && bits < (int)s->required_rsa_size) {
				snprintf(why, sizeof(why), "RSA key of %d bits, "
				    "RequiredRSASize is %u", bits, s->required_rsa_size);
				r = -EKEYREJECTED;
			}
			hostkey_free(&k);
		}
		if (r == 0)
			continue;
		/* At the line that names it; a built-in default has none. */
		if (where != NULL)
			fprintf(stderr, "sshand: %s: HostKey %s cannot be loaded: %s\n",
			    where, key, why);
		else
			fprintf(stderr, "sshand: %s: HostKey %s cannot be loaded (a "
			    "built-in default: no HostKey line): %s\n", path, key, why);
		rc = EXIT_CONFIG;
	}
	settings_free(s);
	config_free(cfg);
	return rc;
}

__attribute__((visibility("default"))) const struct sshand_monitor sshand_monitor = {
	.abi = SSHAND_CORE_ABI,
	.main = monitor_main,
	.dump = dump_settings,
	.test = test_config,
	.rescue = guardian_rescue,
};
