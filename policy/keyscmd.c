/* AuthorizedKeysCommand's command line (keyscmd.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/keyscmd.h"

#define TOKENS_WHY "unknown token: the command expands %%, %C, %D, %f, " \
	"%h, %i, %k, %s, %t, %U and %u"

/* The next word of *pp, quotes and escapes removed, into out (at least
 * strlen(*pp) + 1 bytes): 1, 0 at the end of the line, -EINVAL for a
 * quote left open. */
static int
next_word(const char **pp, char *out)
{
	const char *s = *pp;
	char quote = 0;
	size_t j = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (*s == '\\' && (s[1] == '\'' || s[1] == '"' || s[1] == '\\' ||
		    (quote == 0 && s[1] == ' ')))
			out[j++] = *++s;
		else if (quote == 0 && (*s == ' ' || *s == '\t'))
			break;
		else if (quote == 0 && (*s == '"' || *s == '\''))
			quote = *s;
		else if (quote != 0 && *s == quote)
			quote = 0;
		else
			out[j++] = *s;
	}
	if (quote != 0)
		return -EINVAL;
	out[j] = '\0';
	*pp = s;
	return 1;
}

/* A token's value; NULL for a letter that is no token.  Without t, ""
 * (the line is only checked). */
static const char *
token(char c, const struct keyscmd_tokens *t)
{
	const char *v;

	switch (c) {
	case '%': return "%";
	case 'D': return "";
	case 'C': v = t ? t->conn : ""; break;
	case 'u': v = t ? t->user : ""; break;
	case 'U': v = t ? t->uid : ""; break;
	case 'h': v = t ? t->home : ""; break;
	case 't': v = t ? t->type : ""; break;
	case 'f': v = t ? t->fingerprint : ""; break;
	case 'k': v = t ? t->key : ""; break;
	case 'i': v = t ? t->key_id : ""; break;
	case 's': v = t ? t->serial : ""; break;
	default: return NULL;
	}
	return v != NULL ? v : "";
}

/* Appends s to buf at *o; -E2BIG if it does not fit with its NUL. */
static int
append(char *buf, size_t buflen, size_t *o, const char *s, size_t n)
{
	if (n >= buflen - *o)
		return -E2BIG;
	memcpy(buf + *o, s, n);
	*o += n;
	return 0;
}

/* Word w, its tokens expanded, at *o in buf (NUL-terminated). */
static int
expand(const char *w, const struct keyscmd_tokens *t, char *buf, size_t buflen,
    size_t *o, const char **why)
{
	int r = 0;

	for (const char *p = w; *p != '\0' && r == 0; p++) {
		const char *v;

		if (*p != '%') {
			r = append(buf, buflen, o, p, 1);
			continue;
		}
		if ((v = token(*++p, t)) == NULL) {
			*why = TOKENS_WHY;
			return -EINVAL;
		}
		r = append(buf, buflen, o, v, strlen(v));
	}
	if (r == 0 && *o >= buflen)
		r = -E2BIG;
	if (r == 0)
		buf[(*o)++] = '\0';
	return r;
}

int
keyscmd_argv(const char *cmd, const struct keyscmd_tokens *t, char **argv,
    char *buf, size_t buflen, const char **why)
{
	const char *p = cmd;
	char *word;
	size_t o = 0;
	int argc = 0, r;

	*why = NULL;
	if (cmd == NULL || buf == NULL || buflen == 0)
		return -EINVAL;
	word = malloc(strlen(cmd) + 1);
	if (word == NULL)
		return -ENOMEM;
	while ((r = next_word(&p, word)) > 0) {
		char *at = buf + o;

		if (argc == KEYSCMD_MAX_ARGS) {
			*why = "too many arguments";
			r = -EINVAL;
			break;
		}
		if (argc == 0) {
			/* The program: as written, no token expanded. */
			if (word[0] != '/') {
				*why = "the command must be an absolute path";
				r = -EINVAL;
				break;
			}
			r = append(buf, buflen, &o, word, strlen(word) + 1);
		} else
			r = expand(word, t, buf, buflen, &o, why);
		if (r < 0)
			break;
		argv[argc++] = at;
	}
	free(word);
	if (r == -EINVAL && *why == NULL)
		*why = "a quote is not closed";
	if (r < 0)
		return r;
	if (argc == 0) {
		*why = "no command";
		return -EINVAL;
	}
	/* sshd's older convention: a program given no arguments is told
	 * the user's name. */
	if (argc == 1 && t != NULL) {
		char *at = buf + o;
		const char *u = t->user != NULL ? t->user : "";

		if ((r = append(buf, buflen, &o, u, strlen(u) + 1)) < 0)
			return r;
		argv[argc++] = at;
	}
	argv[argc] = NULL;
	return argc;
}
