/* BanStore's value: where the fleet's bans live, beside the ban file.
 *
 *   file            the ban file (BanFile) alone: no fleet store (default)
 *   file:PATH       the same, the ban file being PATH
 *   redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]
 *                   a Redis server that `sshandctl bans fleet-sync`
 *                   mirrors the ban file to and from; PORT 6379, DB 0 by
 *                   default; USER and PASSWORD percent-decoded
 *   rediss://...    TLS: refused, Debian 12's hiredis (0.14) has none
 *
 * sshand itself only ever uses the ban file: the fleet store is the sync
 * service's (policy/ctl/bans-fleet.c).  A pure parser: no I/O. */
#ifndef SSHAND_POLICY_BAN_URL_H
#define SSHAND_POLICY_BAN_URL_H

#include <stdbool.h>
#include <stddef.h>

#define BAN_URL_MAX		1024	/* the whole value */
#define BAN_URL_HOST_MAX	255
#define BAN_URL_CRED_MAX	256	/* user or password, decoded */
#define BAN_URL_DB_MAX		1000000
#define BAN_URL_PORT_DEFAULT	6379

enum ban_url_kind { BAN_URL_FILE, BAN_URL_REDIS };

struct ban_url {
	enum ban_url_kind kind;
	char path[BAN_URL_MAX];			/* file:PATH; "" for file */
	char host[BAN_URL_HOST_MAX + 1];	/* no brackets around IPv6 */
	unsigned port;
	unsigned db;
	char user[BAN_URL_CRED_MAX + 1];	/* "" : the default user */
	char password[BAN_URL_CRED_MAX + 1];
	bool has_password;
};

/* Parses s into *ret: 0, or -EINVAL with *ret_why a static reason
 * (rediss:// included), *ret then wiped. */
int ban_url_parse(const char *s, struct ban_url *ret, const char **ret_why);

/* s with its password (if any) replaced by "********", for -T and logs;
 * s itself if it has none.  -ENOBUFS if buf is too small. */
int ban_url_redact(const char *s, char *buf, size_t len);

/* Wipes the secrets (explicit_bzero). */
void ban_url_wipe(struct ban_url *u);

#endif
