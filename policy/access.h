/* Who may log in at all: sshd's allowed_user() checks of DenyUsers,
 * AllowUsers, DenyGroups and AllowGroups, in sshd's order, with its
 * patterns.  Pure functions: no I/O, no logging (the monitor logs and
 * audits the refusal; see handler/monitor/user.c). */
#ifndef SSHAND_POLICY_ACCESS_H
#define SSHAND_POLICY_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/config.h"

enum access_verdict {
	ACCESS_OK = 0,
	ACCESS_DENY_USERS,	/* a DenyUsers pattern matches */
	ACCESS_ALLOW_USERS,	/* AllowUsers is set and none matches */
	ACCESS_NO_GROUP,	/* group lists are set, the user has no group */
	ACCESS_DENY_GROUPS,	/* one of the user's groups is in DenyGroups */
	ACCESS_ALLOW_GROUPS,	/* AllowGroups is set and none of them is in it */
};

/* The verdict for user, member of groups (names, the primary one too),
 * connecting from addr (numeric, v4-mapped folded; sshand never resolves
 * names, as sshd with UseDNS no).  s is the user's resolved settings. */
enum access_verdict access_check(const struct settings *s, const char *user,
    const char *const *groups, size_t ngroups, const char *addr);

/* The audit record's reason: the keyword that refused ("DenyUsers"...),
 * or "no-group"; NULL for ACCESS_OK. */
const char *access_reason(enum access_verdict v);
/* sshd's words for its log line ("listed in DenyUsers"...). */
const char *access_why(enum access_verdict v);

/* One AllowUsers/DenyUsers pattern: USER or USER@HOSTS, where USER is a
 * glob and HOSTS (after the last '@') an address list of
 * match_addr_list(): addresses, CIDRs, globs over numeric addresses,
 * '!' to negate.  Host names are refused: sshand never resolves a
 * client's address, so they could never match (with DenyUsers, silently
 * admitting whom the line was meant to keep out).  *why says what is
 * wrong. */
bool access_user_pattern_ok(const char *pattern, const char **why);
/* Does user from addr match pattern (one that access_user_pattern_ok
 * accepted)?  sshd's match_user(). */
bool access_user_match(const char *user, const char *addr, const char *pattern);

#endif
