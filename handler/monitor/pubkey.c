/* Public keys: is this key in the user's authorized_keys? */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "handler/monitor/auth.h"
#include "handler/front/handover.h"
#include "handler/front/log.h"
#include "handler/monitor/keyscmd.h"
#include "handler/monitor/sha256.h"
#include "handler/monitor/sigcheck.h"
#include "policy/util/base64.h"

/* "SHA256:" and the unpadded base64 of the blob's digest, as ssh-keygen
 * prints it.  Computed on the bytes alone: the root monitor does not run a
 * key parser on what the network child sends. */
void
pubkey_fingerprint(const uint8_t *blob, size_t len, char *buf, size_t buflen)
{
	uint8_t md[SHA256_LEN];
	char b64[BASE64_ENCODED_SIZE(SHA256_LEN)];

	sha256(blob, len, md);
	base64_encode(md, sizeof(md), b64, false);
	snprintf(buf, buflen, "SHA256:%s", b64);
}

/* Checks and opens one file as the user: a path the user controls cannot
 * make root open something the user could not, and the monitor needs no
 * CAP_DAC_READ_SEARCH to reach a 0700 ~/.ssh (the unit does not grant it).
 * The descriptor is read afterwards, with the ids restored. */
int
pubkey_open_as_user(const struct user_info *u, const struct settings *s,
    const char *path, int *ret_fd, char *why, size_t whylen)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	struct stat st;
	int fd = -1, r;

	getresuid(&ruid, &euid, &suid);
	getresgid(&rgid, &egid, &sgid);
	if (setgroups(u->ngroups, u->groups) < 0 || setresgid(-1, u->gid, -1) < 0 ||
	    setresuid(-1, u->uid, -1) < 0) {
		r = -errno;
		goto restore;
	}
	if (s->strict_modes && authkeys_check_modes(path, u->uid, u->dir, why, whylen) < 0) {
		r = -EPERM;
		goto restore;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	r = fd < 0 ? -errno : 0;
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -1;
		r = -EINVAL;
	}
restore:
	if (setresuid(-1, euid, -1) < 0 || setresgid(-1, egid, -1) < 0 ||
	    setgroups(0, NULL) < 0) {
		/* Cannot get back to a known state: stop here. */
		log_error("cannot restore ids after opening %s", path);
		_exit(EXIT_INTERNAL);
	}
	*ret_fd = fd;
	return r;
}

static int
scan_as_user(const struct user_info *u, const struct settings *s, const char *path,
    const struct authkey_query *q, struct authkey_opts *ret, char *why, size_t whylen)
{
	unsigned bad = 0;
	int fd, r;

	r = pubkey_open_as_user(u, s, path, &fd, why, whylen);
	if (r < 0)
		return r;
	r = authkeys_match_fd(fd, q, ret, &bad, why, whylen);
	close(fd);
	if (bad > 0)
		log_info("%s: %u malformed line(s) skipped", path, bad);
	return r;
}

/* AuthorizedKeysCommand's word on the key, if there is one. */
static int
from_command(const struct user_info *u, const struct settings *s,
    const struct authkey_query *q, const struct audit_conn *conn,
    struct authkey_opts *ret, char *why, size_t whylen)
{
	char w[256] = "";
	int r;

	if (s->authorized_keys_command == NULL)
		return 0;
	r = keyscmd_authorized(u, s, q, conn, ret, w, sizeof(w));
	if (r == 1)
		log_info("key %s of %s found by AuthorizedKeysCommand, line %u",
		    sigcheck_key_label(q->blob, q->blob_len), u->name, ret->line);
	else if (r == 0 && w[0])
		snprintf(why, whylen, "%s", w);
	else if (r < 0)
		log_errno(LOG_ERR, r, "AuthorizedKeysCommand for %s", u->name);
	return r == 1 ? 1 : 0;
}

int
pubkey_authorized(const struct user_info *u, const struct settings *s,
    const struct authkey_query *key, const struct audit_conn *conn,
    struct authkey_opts *ret, char *why, size_t whylen)
{
	struct authkey_query q = *key;

	q.addr = conn->remote_addr;
	q.now = time(NULL);
	char path[4096];

	snprintf(why, whylen, "key not in any authorized_keys file");
	for (size_t i = 0; i < s->authorized_keys_files.n; i++) {
		char w[256] = "";
		int r;

		if (authkeys_expand_path(s->authorized_keys_files.v[i], u->name, u->dir,
		    path, sizeof(path)) < 0)
			continue;
		r = scan_as_user(u, s, path, &q, ret, w, sizeof(w));
		if (r == 1)
			return 1;
		if (r == -EPERM && w[0]) {
			/* StrictModes: say why in the log, keep looking. */
			log_notice("Authentication refused: %s", w);
			snprintf(why, whylen, "%s", w);
		} else if (r == 0 && w[0])
			snprintf(why, whylen, "%s", w);
		else if (r < 0 && r != -ENOENT)
			log_info("%s: %s", path, strerror(-r));
	}
	/* As sshd: the command only when no file has the key. */
	return from_command(u, s, &q, conn, ret, why, whylen);
}
