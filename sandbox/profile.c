/* Profile names as they appear in sshand.conf (SandboxProfile,
 * SubsystemSandboxProfile).  The one list of them: the config parser
 * validates through sandbox_profile_parse() and -T prints
 * sandbox_profile_name(). */
#include <errno.h>
#include <stddef.h>
#include <strings.h>

#include "sandbox/sandbox.h"

static const char *const profile_names[] = {
	[SANDBOX_NONE] = "none",
	[SANDBOX_LOGIN] = "login",
	[SANDBOX_STRICT] = "strict",
};

#define N_PROFILES (sizeof(profile_names) / sizeof(profile_names[0]))

int
sandbox_profile_parse(const char *name, enum sandbox_profile *ret)
{
	size_t i;

	if (name == NULL || ret == NULL)
		return -EINVAL;
	/* Case-insensitive, as sshand.conf has always read profile names. */
	for (i = 0; i < N_PROFILES; i++) {
		if (strcasecmp(name, profile_names[i]) == 0) {
			*ret = (enum sandbox_profile)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *
sandbox_profile_name(enum sandbox_profile p)
{
	if ((size_t)p >= N_PROFILES)
		return NULL;
	return profile_names[p];
}
