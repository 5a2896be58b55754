/* libFuzzer target: a user certificate as the network child hands it to
 * the root monitor (the key blob of a publickey request).  The input is
 * the blob: cert_parse, then everything the monitor does with what it
 * parsed (the CA's signature, the checks, the options, the description),
 * and the blob as a line of a key list.  The seeds are certificates made
 * by ssh-keygen -s (ed25519, ecdsa and rsa CAs, with options). */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handler/monitor/cert.h"
#include "handler/monitor/keylist.h"
#include "policy/util/base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cert c;
	struct authkey_opts o = { 0 };
	const char *why = NULL;
	char desc[256];
	char *line;

	if (size > PS_MAX_BLOB)
		return 0;
	if (cert_parse(data, size, &c, &why) == 0) {
		if (c.key_len > sizeof(c.key) || c.n_principals > CERT_MAX_PRINCIPALS ||
		    c.signed_len > size)
			abort();
		(void)cert_verify_ca(&c, "ssh-ed25519,ecdsa-sha2-nistp256,"
		    "rsa-sha2-256,rsa-sha2-512,ssh-rsa", &why);
		(void)cert_check(&c, "alice", 1767225600, "192.0.2.7", &why);
		(void)cert_restrict(&c, &o, &why);
		cert_describe(&c, desc, sizeof(desc));
		if (strlen(desc) >= sizeof(desc))
			abort();
		authkey_opts_clear(&o);
	} else if (why == NULL)
		abort();
	cert_free(&c);
	/* As a key list line (RevokedKeys). */
	line = malloc(BASE64_ENCODED_SIZE(size) + 40);
	if (line == NULL)
		return 0;
	memcpy(line, "x ", 2);
	base64_encode(data, size, line + 2, true);
	(void)keylist_in_text(line, strlen(line), data, size, true);
	free(line);
	return 0;
}
