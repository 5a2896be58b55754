/* sshandctl: the administrator's tool.  Parses the global options and hands
 * the rest to one subcommand (one file each in policy/ctl/); see sshandctl(8). */
#include <stdio.h>
#include <string.h>

#include "policy/config.h"
#include "policy/ctl/ctl.h"

static const struct {
	const char *name;
	int (*fn)(const struct ctl_opts *, int, char **);
	const char *what;
} commands[] = {
	{ "bans", ctl_bans, "list, show, ban, unban, purge the shared ban file" },
	{ "hostkeys", ctl_hostkeys, "create missing host keys" },
	{ "fingerprints", ctl_fingerprints, "print the host keys' fingerprints" },
	{ "audit", ctl_audit, "show audit records" },
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: sshandctl [-f CONFIG] [--json] COMMAND [ARGS...]\n"
	    "  -f CONFIG   configuration file (default " SSHAND_CONFIG_PATH "),\n"
	    "              before or after COMMAND\n"
	    "  --json      machine-readable output\n"
	    "  --ban-file PATH  the ban file (bans only; default from CONFIG)\n"
	    "commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-13s %s\n", commands[i].name, commands[i].what);
}

/* -f CONFIG after the subcommand too ("sshandctl fingerprints -f FILE"),
 * as administrators type it: taken out of args[from..argc), which are
 * compacted; the rest is the subcommand's.  After "--" nothing is an
 * option.  Returns the new count, or -1 for a -f without its file. */
static int
take_config_option(struct ctl_opts *o, int argc, char **args, int from)
{
	int n = from;

	for (int j = from; j < argc; j++) {
		if (strcmp(args[j], "--") == 0) {
			while (++j < argc)
				args[n++] = args[j];
			break;
		}
		if (strcmp(args[j], "-f") == 0) {
			if (j + 1 >= argc || args[j + 1][0] == '\0')
				return -1;
			o->config_path = args[++j];
		} else if (strncmp(args[j], "-f", 2) == 0)
			o->config_path = args[j] + 2;
		else
			args[n++] = args[j];
	}
	args[n] = NULL;
	return n;
}

int
main(int argc, char **argv)
{
	struct ctl_opts o = { .config_path = SSHAND_CONFIG_PATH, .json = 0 };
	const char *ban_file = NULL;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-f") == 0) {
			if (i + 1 >= argc || argv[i + 1][0] == '\0') {
				usage(stderr);
				return 2;
			}
			o.config_path = argv[++i];
		} else if (strncmp(a, "-f", 2) == 0)
			o.config_path = a + 2;
		else if (strcmp(a, "--json") == 0)
			o.json = 1;
		else if (strcmp(a, "--ban-file") == 0 && i + 1 < argc)
			ban_file = argv[++i];
		else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (a[0] == '-') {
			fprintf(stderr, "sshandctl: unknown option %s\n", a);
			usage(stderr);
			return 2;
		} else
			break;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	argc = take_config_option(&o, argc, argv, i + 1);
	if (argc < 0) {
		usage(stderr);
		return 2;
	}
	if (ban_file && strcmp(argv[i], "bans") == 0) {
		/* A global spelling of the bans option: pass it on. */
		char *args[argc - i + 3];
		int n = 0;

		for (int j = i; j < argc; j++)
			args[n++] = argv[j];
		args[n++] = (char *)"--ban-file";
		args[n++] = (char *)ban_file;
		args[n] = NULL;
		return ctl_bans(&o, n, args);
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (strcmp(argv[i], commands[c].name) == 0)
			return commands[c].fn(&o, argc - i, argv + i);
	fprintf(stderr, "sshandctl: unknown command %s\n", argv[i]);
	usage(stderr);
	return 2;
}
