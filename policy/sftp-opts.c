/* internal-sftp's command line, as sshd splits it (on blanks, no
 * quoting) and sftp-server reads its options; and the names of the
 * requests, for -P and -p. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/sftp-opts.h"

#define MAX_WORDS 32

/* In the order of the server's request table (handler/sftp/server.c),
 * whose entries find their bit by name. */
static const char *const request_names[] = {
	"open", "close", "read", "write", "lstat", "fstat", "setstat",
	"fsetstat", "opendir", "readdir", "remove", "mkdir", "rmdir",
	"realpath", "stat", "rename", "readlink", "symlink", "posix-rename",
	"statvfs", "fstatvfs", "hardlink", "fsync", "lsetstat", "limits",
	"expand-path", "copy-data", "home-directory",
};
_Static_assert(sizeof(request_names) / sizeof(request_names[0]) <= 64,
    "the requests fit a uint64_t mask");

int
sftp_request_bit(const char *name)
{
	for (size_t i = 0; i < sizeof(request_names) / sizeof(request_names[0]);
	    i++)
		if (strcmp(request_names[i], name) == 0)
			return (int)i;
	return -1;
}

bool
sftp_is_internal(const char *c)
{
	size_t n = strlen(SFTP_INTERNAL_NAME);

	return c != NULL && strncmp(c, SFTP_INTERNAL_NAME, n) == 0 &&
	    (c[n] == '\0' || c[n] == ' ' || c[n] == '\t');
}

__attribute__((format(printf, 3, 4)))
static int
bad(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* -d's tokens, as sftp-server's: %d the home, %u the user, %%. */
static int
expand_dir(const char *in, const char *user, const char *home, char *out,
    size_t len)
{
	size_t o = 0;

	for (const char *p = in; *p != '\0'; p++) {
		char one[2] = { *p, '\0' };
		const char *add = one;
		size_t n;

		if (*p == '%') {
			p++;
			if (*p == 'd')
				add = home;
			else if (*p == 'u')
				add = user;
			else if (*p == '%')
				add = "%";
			else
				return -EINVAL;
		}
		n = strlen(add);
		if (n >= len - o)
			return -ENAMETOOLONG;
		memcpy(out + o, add, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

/* A comma-separated list of request names into a mask. */
static int
request_mask(const char *list, uint64_t *ret, char *why, size_t whylen)
{
	char *copy = strdup(list), *save = NULL, *w;
	uint64_t m = 0;
	int r = 0;

	if (copy == NULL)
		return -ENOMEM;
	for (w = strtok_r(copy, ",", &save); w != NULL && r == 0;
	    w = strtok_r(NULL, ",", &save)) {
		int bit = sftp_request_bit(w);

		if (bit < 0)
			r = bad(why, whylen, "unknown request \"%.64s\"", w);
		else
			m |= UINT64_C(1) << bit;
	}
	free(copy);
	*ret = m;
	return r;
}

static int
option(struct sftp_opts *o, char opt, const char *arg, const char *user,
    const char *home, char *why, size_t whylen)
{
	char *end;
	unsigned long v;

	switch (opt) {
	case 'd':
		if (expand_dir(arg, user, home, o->start_dir,
		    sizeof(o->start_dir)) < 0)
			return bad(why, whylen, "bad start directory \"%.64s\"",
			    arg);
		return 0;
	case 'u':
		errno = 0;
		v = strtoul(arg, &end, 8);
		if (errno != 0 || *end != '\0' || end == arg || v > 0777)
			return bad(why, whylen, "bad umask \"%.16s\"", arg);
		o->umask = (mode_t)v;
		o->umask_set = true;
		return 0;
	case 'P':
		return request_mask(arg, &o->denied, why, whylen);
	case 'p':
		return request_mask(arg, &o->allowed, why, whylen);
	case 'l':	/* log level and facility: the audit trail, not ours */
	case 'f':
		return 0;
	}
	return bad(why, whylen, "unknown option -%c", opt);
}

int
sftp_opts_parse(const char *command, const char *user, const char *home,
    struct sftp_opts *ret, char *why, size_t whylen)
{
	struct sftp_opts o = { .allowed = ~UINT64_C(0) };
	char *copy, *save = NULL, *words[MAX_WORDS];
	size_t n = 0;
	int r = 0;

	if (!sftp_is_internal(command))
		return bad(why, whylen, "not internal-sftp");
	if ((copy = strdup(command)) == NULL)
		return -ENOMEM;
	for (char *w = strtok_r(copy, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save)) {
		if (n == MAX_WORDS) {
			free(copy);
			return bad(why, whylen, "too many arguments");
		}
		words[n++] = w;
	}
	for (size_t i = 1; i < n && r == 0; i++) {
		const char *w = words[i];

		if (w[0] != '-' || w[1] == '\0') {
			r = bad(why, whylen, "unexpected argument \"%.64s\"", w);
			break;
		}
		for (const char *p = w + 1; *p != '\0' && r == 0; p++) {
			if (*p == 'R') {
				o.read_only = true;
				continue;
			}
			if (*p == 'e')
				continue;
			if (strchr("dufPpl", *p) == NULL) {
				r = bad(why, whylen, "unknown option -%c", *p);
				break;
			}
			/* The argument: the rest of the word, or the next. */
			const char *arg = p[1] != '\0' ? p + 1 :
			    i + 1 < n ? words[++i] : NULL;

			if (arg == NULL)
				r = bad(why, whylen, "option -%c needs an argument",
				    *p);
			else
				r = option(&o, *p, arg, user, home, why, whylen);
			break;
		}
	}
	free(copy);
	if (r == 0)
		*ret = o;
	return r;
}
