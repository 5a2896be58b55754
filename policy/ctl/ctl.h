/* sshandctl subcommands.  Each takes the arguments after its name (argv[0]
 * is the subcommand) and returns the process exit status: 0 ok, 1 failure,
 * 2 usage error.  Unlike the libraries, these print (they are the tool). */
#ifndef SSHAND_POLICY_CTL_H
#define SSHAND_POLICY_CTL_H

/* Global options parsed by sshandctl.c before the subcommand. */
struct ctl_opts {
	const char *config_path;	/* -f, default SSHAND_CONFIG_PATH */
	int json;			/* --json */
};

int ctl_bans(const struct ctl_opts *o, int argc, char **argv);
int ctl_hostkeys(const struct ctl_opts *o, int argc, char **argv);
int ctl_fingerprints(const struct ctl_opts *o, int argc, char **argv);
int ctl_audit(const struct ctl_opts *o, int argc, char **argv);

#endif
