/* What each string value may look like: the checks of config-values.c's
 * types (config-internal.h), each a predicate on the value as written.
 * The messages that name the keyword and line are the parser's. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "policy/config-internal.h"
#include "policy/startups.h"

bool
config_only_chars(const char *s, const char *extra)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9'))
			continue;
		if (strchr(extra, *s) == NULL)
			return false;
	}
	return true;
}

bool
config_abs_path_ok(const char *s)
{
	return s[0] == '/' && !config_has_ctrl(s) && strlen(s) < 4096;
}

/* ChrootDirectory: absolute once %h (an absolute home) is expanded;
 * only %h, %u and %% expand, as in sshd, and anything else is a typo
 * that would chroot somewhere unintended. */
bool
config_chroot_ok(const char *s)
{
	if ((s[0] != '/' && strncmp(s, "%h", 2) != 0) || config_has_ctrl(s) ||
	    strlen(s) >= 1024)
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if (*p == '%' && (*++p != 'h' && *p != 'u' && *p != '%'))
			return false;
	return true;
}

/* AuthorizedPrincipalsFile: relative to home or absolute, with sshd's
 * %h %u %% and no other token. */
bool
config_princ_file_ok(const char *s)
{
	for (const char *p = strchr(s, '%'); p != NULL; p = strchr(p + 2, '%'))
		if (p[1] != 'h' && p[1] != 'u' && p[1] != '%')
			return false;
	return s[0] != '\0' && !config_has_ctrl(s) && strlen(s) < 4096;
}

/* sshd's list syntax: one leading '+', '-' or '^', then names or
 * patterns separated by single commas. */
bool
config_algos_ok(const char *s)
{
	if (*s == '+' || *s == '-' || *s == '^')
		s++;
	return config_only_chars(s, "@._,-*?") && s[0] != ',' &&
	    s[strlen(s) - 1] != ',' && strstr(s, ",,") == NULL &&
	    strlen(s) < 4096;
}

/* POSIX portable user names, as useradd accepts them by default. */
bool
config_user_name_ok(const char *s)
{
	return strlen(s) <= 32 && config_only_chars(s, "._-") && s[0] != '-';
}

/* The user AuthorizedKeysCommand runs as: a command that prints keys
 * needs no privilege, and one run as root would hand whoever can make it
 * misbehave (its input is the client's key) the whole host.  A uid 0
 * under another name is refused when the command would run. */
bool
config_command_user_ok(const char *s)
{
	return config_user_name_ok(s) && strcmp(s, "root") != 0;
}

bool
config_audit_log_ok(const char *s)
{
	return strcmp(s, "journal") == 0 || strcmp(s, "syslog") == 0 ||
	    config_abs_path_ok(s);
}

bool
config_startups_ok(const char *s)
{
	struct startups_params sp;

	return startups_parse(s, "none", "32:128", &sp) == 0;
}

bool
config_per_source_ok(const char *s)
{
	struct startups_params sp;

	return startups_parse("10:30:100", s, "32:128", &sp) == 0;
}

bool
config_netblock_ok(const char *s)
{
	struct startups_params sp;

	return startups_parse("10:30:100", "none", s, &sp) == 0;
}

bool
config_yes_no_ok(const char *s)
{
	return strcasecmp(s, "yes") == 0 || strcasecmp(s, "no") == 0;
}
