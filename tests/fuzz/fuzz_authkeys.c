/* libFuzzer target: authorized_keys, a file every user writes and the
 * root monitor parses.  The input is the whole file, read as the monitor
 * reads it (authkeys_match_fd: line splitting, CRs, NULs, overlong
 * lines), matched against one fixed Ed25519 key from a fixed address at a
 * fixed time; when it is one line, authkeys_match_line also sees it
 * directly, embedded newlines and all.  The seeds hold lines with this
 * key, so options, from= and expiry-time are reached with a matching
 * key as well as with others. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "handler/monitor/authkeys.h"
#include "policy/util/base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The ED25519 key of tests/unit/test_authkeys.c. */
#define KEY_B64 "AAAAC3NzaC1lZDI1NTE5AAAAIBbe9fXuOULyCSSdZCpH7EIssySRounzB+LbFe2XDMGS"

static int memfd = -1;
static uint8_t blob[64];
static struct authkey_query q = { .addr = "192.0.2.7", .now = 1767225600 };

static void
setup(void)
{
	size_t n;

	memfd = memfd_create("authorized_keys", MFD_CLOEXEC);
	if (memfd < 0 || base64_decode(KEY_B64, strlen(KEY_B64), blob,
	    sizeof(blob), &n) < 0)
		abort();
	q.blob = blob;
	q.blob_len = n;
}

/* What a match hands the monitor is whole and within its bounds. */
static void
check(const struct authkey_opts *o)
{
	if (o->n_environment > AUTHKEYS_MAX_ENV ||
	    o->n_permitopen > AUTHKEYS_MAX_PERMITS ||
	    o->n_permitlisten > AUTHKEYS_MAX_PERMITS)
		abort();
	for (size_t i = 0; i < o->n_environment; i++)
		if (o->environment[i] == NULL ||
		    strchr(o->environment[i], '=') == NULL)
			abort();
	for (size_t i = 0; i < o->n_permitopen; i++)
		if (o->permitopen[i] == NULL)
			abort();
	for (size_t i = 0; i < o->n_permitlisten; i++)
		if (o->permitlisten[i] == NULL)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct authkey_opts o;
	char why[256], *line;
	unsigned bad;

	if (memfd < 0)
		setup();
	if (ftruncate(memfd, 0) < 0 || lseek(memfd, 0, SEEK_SET) != 0 ||
	    (size > 0 && pwrite(memfd, data, size, 0) != (ssize_t)size))
		abort();
	memset(&o, 0, sizeof(o));
	if (authkeys_match_fd(memfd, &q, &o, &bad, why, sizeof(why)) == 1) {
		if (o.line == 0)
			abort();
		check(&o);
	}
	authkey_opts_clear(&o);

	/* One line, as the reader above would hand it on (at most
	 * AUTHKEYS_MAX_LINE bytes, no NUL). */
	if (size > AUTHKEYS_MAX_LINE || memchr(data, '\0', size) != NULL)
		return 0;
	line = malloc(size + 1);
	if (line == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	memset(&o, 0, sizeof(o));
	if (authkeys_match_line(line, &q, &o, why, sizeof(why)) == 1)
		check(&o);
	authkey_opts_clear(&o);
	free(line);
	return 0;
}
