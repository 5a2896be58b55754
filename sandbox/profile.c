/* Profile names as they appear in sshand.conf (SandboxProfile). */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "sandbox/sandbox.h"

static const char *const profile_names[] = {
	[SANDBOX_NONE] = "none",
	[SANDBOX_LOGIN] = "login",
	[SANDBOX_STRICT] = "strict",
};

int
sandbox_profile_parse(const char *name, enum sandbox_profile *ret)
{
	size_t i;

	if (name == NULL || ret == NULL)
		return -EINVAL;
	for (i = 0; i < sizeof(profile_names) / sizeof(profile_names[0]); i++) {
		if (strcmp(name, profile_names[i]) == 0) {
			*ret = (enum sandbox_profile)i;
			return 0;
		}
	}
	/* DESIGN.md called the default profile "default": accept it as an
	 * alias so that older configs keep working. */
	if (strcmp(name, "default") == 0) {
		*ret = SANDBOX_LOGIN;
		return 0;
	}
	return -EINVAL;
}

const char *
sandbox_profile_name(enum sandbox_profile p)
{
	if ((size_t)p >= sizeof(profile_names) / sizeof(profile_names[0]))
		return NULL;
	return profile_names[p];
}
