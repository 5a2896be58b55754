/* sshand.conf's lexer, as sshd_config's: arguments split at blanks,
 * double quotes around an argument with blanks, the raw rest of a line
 * for the keywords that take it. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "policy/config-internal.h"

bool
config_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

bool
config_has_ctrl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/*
 * Cuts the next argument out of *pp in place.  Arguments are separated by
 * blanks; "double quotes" keep blanks, with \" and \\ as the only escapes;
 * a '#' where an argument would start begins a comment.  Returns 1 and the
 * argument, 0 at the end of the line, or -EINVAL (message in *why).
 */
int
config_next_arg(char **pp, char **ret, const char **why)
{
	char *p = *pp, *start, *out;

	while (config_is_blank(*p))
		p++;
	if (*p == '\0' || *p == '#') {
		*pp = p;
		return 0;
	}
	if (*p == '"') {
		start = out = ++p;
		for (;;) {
			if (*p == '\0') {
				*why = "unterminated quoted argument";
				return -EINVAL;
			}
			if (*p == '"')
				break;
			if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			*out++ = *p++;
		}
		p++;
		if (*p != '\0' && !config_is_blank(*p)) {
			*why = "unexpected text after a quoted argument";
			return -EINVAL;
		}
		*out = '\0';
	} else {
		start = p;
		while (*p != '\0' && !config_is_blank(*p)) {
			if (*p == '"') {
				*why = "quote inside an unquoted argument";
				return -EINVAL;
			}
			p++;
		}
	}
	if (*p != '\0')
		*p++ = '\0';
	*pp = p;
	*ret = start;
	return 1;
}

/* The raw rest of a line (ForceCommand, Subsystem's command): trailing
 * blanks trimmed, otherwise passed to the shell exactly as written. */
char *
config_rest_of_line(char *p)
{
	size_t n;

	while (config_is_blank(*p))
		p++;
	n = strlen(p);
	while (n > 0 && config_is_blank(p[n - 1]))
		p[--n] = '\0';
	return p;
}
