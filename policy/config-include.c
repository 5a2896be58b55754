/* Include, as sshd_config has it: files and globs, relative paths taken
 * from the configuration's directory, a file included twice on one path
 * refused as a loop, each included file read with the parser of the file
 * that includes it (inside a Match block too). */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "policy/config-internal.h"

int
config_file_add(struct parser *p)
{
	struct config *cfg = p->cfg;
	char **nf, *c;

	nf = reallocarray(cfg->files, cfg->n_files + 1, sizeof(*nf));
	if (nf == NULL)
		return -ENOMEM;
	cfg->files = nf;
	if ((c = strdup(p->path)) == NULL)
		return -ENOMEM;
	cfg->files[cfg->n_files] = c;
	p->file = (unsigned)cfg->n_files++;
	return 0;
}

/* One file an Include names, read by a parser of its own: its lines go
 * where the Include's line would have gone, its Match blocks apply only
 * where the Include does, and after it the including file goes on in
 * the block it was in (sshd's rules).  A file already being read is a
 * loop, refused at the Include that closes it. */
static int
include_file(struct parser *p, const char *file)
{
	struct include_state *inc = p->inc;
	struct parser sub;
	struct stat st;
	char vbuf[72];
	FILE *f = NULL;
	int r;

	if (inc->files >= INCLUDE_FILES_MAX)
		return config_fail(p, "too many included files (more than %d)",
		    INCLUDE_FILES_MAX);
	if (inc->depth >= INCLUDE_DEPTH_MAX)
		return config_fail(p, "Include nested too deeply (more than %d "
		    "levels)", INCLUDE_DEPTH_MAX);
	r = config_open_file(file, &f);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return config_fail(p, "Include: %s: %s", config_shown(file, vbuf),
		    strerror(-r));
	if (fstat(fileno(f), &st) < 0) {
		r = -errno;
		fclose(f);
		return config_fail(p, "Include: %s: %s", config_shown(file, vbuf),
		    strerror(-r));
	}
	for (unsigned i = 0; i <= inc->depth; i++)
		if (inc->chain[i].dev == st.st_dev && inc->chain[i].ino == st.st_ino) {
			fclose(f);
			return config_fail(p, "Include loop: %s is already being "
			    "read", config_shown(file, vbuf));
		}
	inc->depth++;
	inc->chain[inc->depth].dev = st.st_dev;
	inc->chain[inc->depth].ino = st.st_ino;
	inc->files++;
	sub = *p;
	sub.path = file;
	sub.line = 0;
	sub.outer = p->cur;
	r = config_file_add(&sub);
	if (r == 0)
		r = config_parse_file(&sub, f);
	inc->depth--;
	fclose(f);
	return r;
}

/* The files a pattern names, in glob(3)'s order (sorted); none is not an
 * error, as with sshd (an empty conf.d). */
static int
include_pattern(struct parser *p, const char *pattern)
{
	char vbuf[72];
	glob_t g;
	int r;

	r = glob(pattern, 0, NULL, &g);
	if (r == GLOB_NOMATCH)
		return 0;
	if (r == GLOB_NOSPACE)
		return -ENOMEM;
	if (r != 0) {
		globfree(&g);
		return config_fail(p, "Include \"%s\": cannot read the directory",
		    config_shown(pattern, vbuf));
	}
	r = 0;
	if (g.gl_pathc > INCLUDE_FILES_MAX)
		r = config_fail(p, "Include \"%s\" names more than %d files",
		    config_shown(pattern, vbuf), INCLUDE_FILES_MAX);
	for (size_t i = 0; i < g.gl_pathc && r == 0; i++)
		r = include_file(p, g.gl_pathv[i]);
	globfree(&g);
	return r;
}

/* Include PATTERN...: glob patterns, relative ones in the include
 * directory (/etc/sshand, as sshd's are in /etc/ssh). */
int
config_parse_include(struct parser *p, char *rest)
{
	char pattern[PATH_MAX], vbuf[72], *arg;
	const char *why = NULL;
	int r, n = 0;

	while ((r = config_next_arg(&rest, &arg, &why)) > 0) {
		n++;
		if (*arg == '\0' || config_has_ctrl(arg))
			return config_fail(p, "bad path \"%s\" for \"Include\"",
			    config_shown(arg, vbuf));
		/* sshd does not expand it either (a file named "~..."). */
		if (*arg == '~')
			return config_fail(p, "\"~\" is not expanded by Include: "
			    "write the full path");
		if ((size_t)snprintf(pattern, sizeof(pattern), "%s%s%s",
		    *arg == '/' ? "" : p->inc->dir, *arg == '/' ? "" : "/",
		    arg) >= sizeof(pattern))
			return config_fail(p, "path too long for \"Include\"");
		if ((r = include_pattern(p, pattern)) < 0)
			return r;
	}
	if (r < 0)
		return config_fail(p, "%s", why);
	if (n == 0)
		return config_fail(p, "missing argument for \"Include\"");
	return 0;
}
