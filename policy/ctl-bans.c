#include <stdio.h>

#include "policy/ctl.h"

int
ctl_bans(const struct ctl_opts *o, int argc, char **argv)
{
	(void)o, (void)argc, (void)argv;
	fprintf(stderr, "sshandctl bans: not implemented yet\n");
	return 1;
}
