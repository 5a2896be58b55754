/* sshd's allowed_user(), its user@host patterns and its order of checks
 * (see access.h). */
#include <ctype.h>
#include <string.h>

#include "policy/access.h"
#include "policy/match.h"

/* Longer than any pattern the parser accepts. */
#define USER_PATTERN_MAX 1024

/* An address glob: what a numeric address is written with, and the
 * wildcards.  Anything else is a host name. */
static bool
address_glob_ok(const char *item, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)item[i]) && strchr(".:*?", item[i]) == NULL)
			return false;
	return true;
}

bool
access_user_pattern_ok(const char *pattern, const char **why)
{
	const char *at = strrchr(pattern, '@'), *p;

	*why = NULL;
	if (*pattern == '\0' || strlen(pattern) > USER_PATTERN_MAX) {
		*why = "an empty or overlong pattern";
		return false;
	}
	for (p = pattern; *p != '\0'; p++)
		if ((unsigned char)*p < 0x21 || *p == 0x7f) {
			*why = "a blank or control character";
			return false;
		}
	if (at == NULL)
		return true;
	if (at == pattern) {
		*why = "no user before '@' (write *@ADDRESS for every user)";
		return false;
	}
	if (match_addr_list(NULL, at + 1) < 0) {
		*why = "a bad address list after '@' (addresses, CIDRs or "
		    "address patterns, comma-separated)";
		return false;
	}
	for (p = at + 1; *p != '\0';) {
		size_t n = strcspn(p, ",");
		const char *item = p + (*p == '!');
		size_t len = n - (size_t)(item - p);

		/* Other items are addresses or CIDRs: match_addr_list
		 * checked them. */
		if ((memchr(item, '*', len) != NULL ||
		    memchr(item, '?', len) != NULL) && !address_glob_ok(item, len)) {
			*why = "a host name pattern after '@': sshand never looks "
			    "client addresses up (as sshd with UseDNS no), so it "
			    "could never match; write addresses or CIDRs";
			return false;
		}
		p += n + (p[n] == ',');
	}
	return true;
}

bool
access_user_match(const char *user, const char *addr, const char *pattern)
{
	char buf[USER_PATTERN_MAX + 1];
	const char *at = strrchr(pattern, '@');
	size_t n;

	if (user == NULL || strlen(pattern) > USER_PATTERN_MAX)
		return false;
	if (at == NULL)
		return match_pattern(user, pattern);
	n = (size_t)(at - pattern);
	memcpy(buf, pattern, n);
	buf[n] = '\0';
	if (!match_pattern(user, buf))
		return false;
	/* sshd matches the host part without regard to case (an IPv6
	 * address's hex digits). */
	for (n = 0; at[1 + n] != '\0'; n++)
		buf[n] = (char)tolower((unsigned char)at[1 + n]);
	buf[n] = '\0';
	return addr != NULL && match_addr_list(addr, buf) == 1;
}

/* Does any of the groups match any of the patterns?  sshd's ga_match():
 * each pattern is one glob, no list, no negation. */
static bool
groups_match(const struct strlist *patterns, const char *const *groups,
    size_t ngroups)
{
	for (size_t i = 0; i < ngroups; i++)
		for (size_t j = 0; j < patterns->n; j++)
			if (groups[i] != NULL && match_pattern(groups[i], patterns->v[j]))
				return true;
	return false;
}

enum access_verdict
access_check(const struct settings *s, const char *user,
    const char *const *groups, size_t ngroups, const char *addr)
{
	size_t i;

	for (i = 0; i < s->deny_users.n; i++)
		if (access_user_match(user, addr, s->deny_users.v[i]))
			return ACCESS_DENY_USERS;
	if (s->allow_users.n > 0) {
		for (i = 0; i < s->allow_users.n; i++)
			if (access_user_match(user, addr, s->allow_users.v[i]))
				break;
		if (i == s->allow_users.n)
			return ACCESS_ALLOW_USERS;
	}
	if (s->deny_groups.n == 0 && s->allow_groups.n == 0)
		return ACCESS_OK;
	if (ngroups == 0)
		return ACCESS_NO_GROUP;
	if (groups_match(&s->deny_groups, groups, ngroups))
		return ACCESS_DENY_GROUPS;
	if (s->allow_groups.n > 0 && !groups_match(&s->allow_groups, groups, ngroups))
		return ACCESS_ALLOW_GROUPS;
	return ACCESS_OK;
}

const char *
access_reason(enum access_verdict v)
{
	switch (v) {
	case ACCESS_OK: return NULL;
	case ACCESS_DENY_USERS: return "DenyUsers";
	case ACCESS_ALLOW_USERS: return "AllowUsers";
	case ACCESS_NO_GROUP: return "no-group";
	case ACCESS_DENY_GROUPS: return "DenyGroups";
	case ACCESS_ALLOW_GROUPS: return "AllowGroups";
	}
	return "access";
}

const char *
access_why(enum access_verdict v)
{
	switch (v) {
	case ACCESS_OK: return "allowed";
	case ACCESS_DENY_USERS: return "listed in DenyUsers";
	case ACCESS_ALLOW_USERS: return "not listed in AllowUsers";
	case ACCESS_NO_GROUP: return "not in any group";
	case ACCESS_DENY_GROUPS: return "a group is listed in DenyGroups";
	case ACCESS_ALLOW_GROUPS: return "none of user's groups are listed in "
	    "AllowGroups";
	}
	return "refused";
}
