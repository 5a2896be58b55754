/* Looking up the user a client names, and whether AllowUsers, DenyUsers,
 * AllowGroups and DenyGroups let them in. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "handler/front/log.h"
#include "handler/monitor/auth.h"
#include "handler/privsep/protocol.h"
#include "policy/access.h"

bool
user_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > PS_MAX_USER_LEN)
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x21 || *p == 0x7f || *p == '/' || *p == ':')
			return false;
	return true;
}

const char *
user_denied(const struct settings *s, const struct user_info *u,
    const char *addr)
{
	enum access_verdict v = access_check(s, u->name,
	    (const char *const *)u->group_names, u->n_group_names, addr);

	if (v == ACCESS_OK)
		return NULL;
	log_info("User %s from %s not allowed because %s", u->name, addr,
	    access_why(v));
	return access_reason(v);
}

static int
fill_groups(struct user_info *u)
{
	int n = MAX_GROUPS;

	if (getgrouplist(u->name, u->gid, u->groups, &n) < 0)
		return -E2BIG;
	u->ngroups = (size_t)n;
	for (size_t i = 0; i < u->ngroups; i++) {
		struct group *g = getgrgid(u->groups[i]);

		if (g != NULL && u->n_group_names < MAX_GROUPS) {
			char *s = strdup(g->gr_name);

			if (s == NULL)
				return -ENOMEM;
			u->group_names[u->n_group_names++] = s;
		}
	}
	return 0;
}

int
user_lookup(const char *name, struct user_info *ret)
{
	struct user_info u = { 0 };
	struct passwd *pw;
	int r;

	if (!user_name_valid(name))
		return -ENOENT;
	errno = 0;
	pw = getpwnam(name);
	/* NSS modules may fold case; user names are case-sensitive here. */
	if (pw == NULL || strcmp(pw->pw_name, name) != 0)
		return -ENOENT;
	u.name = strdup(pw->pw_name);
	u.dir = strdup(pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/");
	u.shell = strdup(pw->pw_shell && *pw->pw_shell ? pw->pw_shell : "/bin/sh");
	u.uid = pw->pw_uid;
	u.gid = pw->pw_gid;
	if (u.name == NULL || u.dir == NULL || u.shell == NULL) {
		user_info_free(&u);
		return -ENOMEM;
	}
	r = fill_groups(&u);
	if (r < 0) {
		user_info_free(&u);
		return r;
	}
	*ret = u;
	return 0;
}

void
user_info_free(struct user_info *u)
{
	free(u->name);
	free(u->dir);
	free(u->shell);
	for (size_t i = 0; i < u->n_group_names; i++)
		free(u->group_names[i]);
	memset(u, 0, sizeof(*u));
}

int
user_info_copy(const struct user_info *src, struct user_info *dst)
{
	*dst = *src;
	dst->name = strdup(src->name);
	dst->dir = strdup(src->dir);
	dst->shell = strdup(src->shell);
	for (size_t i = 0; i < src->n_group_names; i++)
		dst->group_names[i] = strdup(src->group_names[i]);
	bool ok = dst->name && dst->dir && dst->shell;
	for (size_t i = 0; i < dst->n_group_names; i++)
		ok = ok && dst->group_names[i];
	if (!ok) {
		/* user_info_free() frees only up to n_group_names. */
		user_info_free(dst);
		return -ENOMEM;
	}
	return 0;
}

size_t
user_group_names(const char *user, char **out, size_t max)
{
	struct user_info u;
	size_t n = 0;

	if (user_lookup(user, &u) < 0)
		return 0;
	for (size_t i = 0; i < u.n_group_names && n < max; i++) {
		out[n] = u.group_names[i];
		u.group_names[i] = NULL;
		n++;
	}
	user_info_free(&u);
	return n;
}
