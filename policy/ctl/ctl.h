/* sshandctl subcommands.  Each takes the arguments after its name (argv[0]
 * is the subcommand) and returns the process exit status: 0 ok, 1 failure,
 * 2 usage error.  Unlike the libraries, these print (they are the tool). */
#ifndef SSHAND_POLICY_CTL_H
#define SSHAND_POLICY_CTL_H

#include <stdbool.h>
#include <stddef.h>

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
