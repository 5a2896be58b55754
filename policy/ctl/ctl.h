/* sshandctl subcommands.  Each takes the arguments after its name (argv[0]
 * is the subcommand) and returns the process exit status: 0 ok, 1 failure,
 * 2 usage error.  Unlike the libraries, these print (they are the tool). */
#ifndef SSHAND_POLICY_CTL_H
#define SSHAND_POLICY_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Global options parsed by main.c before the subcommand. */
struct ctl_opts {
	const char *config_path;	/* -f, default SSHAND_CONFIG_PATH */
	int json;			/* --json */
};

int ctl_bans(const struct ctl_opts *o, int argc, char **argv);
int ctl_hostkeys(const struct ctl_opts *o, int argc, char **argv);
int ctl_fingerprints(const struct ctl_opts *o, int argc, char **argv);
int ctl_audit(const struct ctl_opts *o, int argc, char **argv);

/* sshandctl bans nft-sync (bans-nft.c): argv[0] is "nft-sync"; path the
 * ban file. */
struct ban_params;
int bans_nft_sync(const struct ctl_opts *o, const char *path,
    const struct ban_params *p, int argc, char **argv);

/* sshandctl bans fleet-sync, and the fleet's side of list and unban
 * (bans-fleet.c): s the configuration (BanStore), path the ban file. */
struct settings;
struct netaddr;
int bans_fleet_sync(const struct ctl_opts *o, const struct settings *s,
    const char *path, const struct ban_params *p, int argc, char **argv);
int bans_fleet_list(const struct ctl_opts *o, const struct settings *s,
    const struct ban_params *p);
/* Removes a's key from the fleet store: 1 removed, 0 none there (or no
 * fleet store configured: then *ret_configured is false), or a negative
 * errno, said on stderr. */
int bans_fleet_unban(const struct settings *s, const struct ban_params *p,
    const struct netaddr *a, bool *ret_configured);
/* Prints entries as bans list does (bans.c): what is the JSON key that
 * names where ("ban_file", "fleet_store"). */
struct ban_entry;
int bans_print_entries(int json, int64_t now, unsigned find_time, const char *what,
    const char *where, struct ban_entry *v, size_t n);

/* The host keys hostkeys and fingerprints act on (hostkeys.c). */
#define KEYLIST_MAX	32
struct keylist {
	char *path[KEYLIST_MAX];
	size_t n;
};

/* Parses "[-d DIR]" (and, for fingerprints, "--json") after the
 * subcommand cmd and fills l: DIR's default names, else the
 * configuration's HostKey lines, else the defaults in /etc/sshand.
 * Returns an exit status (0 to go on), having said why. */
int keylist_gather(const struct ctl_opts *o, const char *cmd, int argc,
    char **argv, struct keylist *l, bool *ret_json);
void keylist_free(struct keylist *l);

#endif
