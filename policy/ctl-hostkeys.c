#include <stdio.h>

#include "policy/ctl.h"

int
ctl_hostkeys(const struct ctl_opts *o, int argc, char **argv)
{
	(void)o, (void)argc, (void)argv;
	fprintf(stderr, "sshandctl hostkeys: not implemented yet\n");
	return 1;
}

int
ctl_fingerprints(const struct ctl_opts *o, int argc, char **argv)
{
	(void)o, (void)argc, (void)argv;
	fprintf(stderr, "sshandctl fingerprints: not implemented yet\n");
	return 1;
}
