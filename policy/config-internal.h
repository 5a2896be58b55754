/* Internal to policy/config*.c: what the file parser (config.c), the value
 * parsers (config-values.c) and resolution (config-resolve.c) share.  Not
 * part of the module's interface (see config.h). */
#ifndef SSHAND_POLICY_CONFIG_INTERNAL_H
#define SSHAND_POLICY_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "policy/config.h"
#include "policy/config-table.h"

/* Bounds on everything the parser accepts. */
#define LINE_MAX_BYTES	4096		/* one line, without its newline */
#define FILE_MAX_LINES	1000000		/* physical lines in the file */
#define ARGS_MAX	256		/* arguments on one line */
#define LIST_MAX	1024		/* entries in one list setting */
#define BLOCKS_MAX	4096		/* Match blocks */
#define CRIT_MAX	16		/* criteria on one Match line */
#define PATTERN_MAX	1024		/* one Match pattern list */
#define KEYWORD_MAX	64
#define INCLUDE_DEPTH_MAX 16		/* nested Include (sshd's limit) */
#define INCLUDE_FILES_MAX 1024		/* files read by one load, in all */

enum crit_type { CRIT_ALL, CRIT_USER, CRIT_GROUP, CRIT_ADDRESS };

struct criterion {
	enum crit_type type;
	char *list;
};

struct block {
	unsigned line;			/* of the Match line; 0 for global */
	struct criterion *crit;
	size_t n_crit;
	struct settings s;		/* only the fields named in set[] */
	unsigned set[KW__COUNT];	/* line that set each keyword, 0 = unset */
	unsigned set_in[KW__COUNT];	/* and its file, an index of files[] */
};

struct config {
	struct block defaults;		/* the table's defaults, parsed */
	struct block *blocks;		/* [0] is the global section */
	size_t n_blocks, cap_blocks;
	/* "file:line" of each HostKey of the global section, in its
	 * order, so that a key that cannot be loaded is reported where it
	 * is named. */
	struct strlist host_key_where;
	struct strlist notices;		/* config_notice() */
	/* Every file read, the main one first: a check made once all are
	 * read names the line it refuses in the file it is in. */
	char **files;
	size_t n_files;
};

/* What the files of one load share: the Include chain (its files'
 * device and inode, outermost first) and the bounds on all of them. */
struct include_state {
	const char *dir;		/* where a relative Include looks */
	unsigned depth;
	struct {
		dev_t dev;
		ino_t ino;
	} chain[INCLUDE_DEPTH_MAX + 1];
	unsigned files;
	unsigned long lines;
};

/* One file being read.  An Include reads its files with a parser of
 * their own that shares cfg and inc. */
struct parser {
	const char *path;
	unsigned line;
	char *err;
	size_t errlen;
	struct config *cfg;
	struct include_state *inc;
	/* The block this file's lines go to (0: the global section), and
	 * the Match block the file was included from (0: none), whose
	 * criteria every Match of the file adds to its own: sshd applies an
	 * included file's Match blocks only where its Include applies. */
	size_t cur;
	size_t outer;
	unsigned file;			/* path's index in cfg->files */
};

/* "path:line: message" into the parser's buffer; returns -EINVAL. */
__attribute__((format(printf, 2, 3)))
int config_fail(struct parser *p, const char *fmt, ...);

/* A value quoted into an error message: bounded and printable, since the
 * message ends up in the journal and on operators' terminals. */
const char *config_shown(const char *s, char buf[static 72]);

/* config.c: the file, for config-include.c. */
int config_open_file(const char *path, FILE **ret);
int config_parse_file(struct parser *p, FILE *f);
/* Records the file p reads (p->path), its index in p->file. */
int config_file_add(struct parser *p);
/* config-include.c: an Include line. */
int config_parse_include(struct parser *p, char *rest);

/* The lexer (config-lex.c).  config_next_arg cuts the next argument out of
 * *pp in place: 1 and the argument, 0 at the end of the line, or -EINVAL
 * with the reason in *why. */
int config_next_arg(char **pp, char **ret, const char **why);
/* The raw rest of a line, trailing blanks trimmed. */
char *config_rest_of_line(char *p);
bool config_has_ctrl(const char *s);
/* A blank between arguments: space or tab. */
bool config_is_blank(char c);

/* A config without a file: the defaults block read, an empty global
 * section (config.c). */
int config_new(struct config **ret, char *err, size_t errlen);
/* config_load with the directory a relative Include names a file in
 * (config_load: SSHAND_CONFIG_DIR). */
int config_load_dir(const char *path, const char *include_dir,
    struct config **ret, char *err, size_t errlen);

/* Lists (config-resolve.c); -E2BIG past LIST_MAX entries. */
int config_strlist_add(struct strlist *l, const char *v);
void config_strlist_clear(struct strlist *l);
int config_subsystem_add(struct settings *s, const char *name,
    const char *command);
/* Releases every value and zeroes s. */
void config_settings_clear(struct settings *s);

/* config-checks.c: what a string value may look like (true: it may). */
/* Only letters, digits and the characters of extra (not empty). */
bool config_only_chars(const char *s, const char *extra);
bool config_abs_path_ok(const char *s);
bool config_chroot_ok(const char *s);		/* ChrootDirectory */
bool config_princ_file_ok(const char *s);	/* AuthorizedPrincipalsFile */
bool config_algos_ok(const char *s);		/* sshd's algorithm lists */
bool config_user_name_ok(const char *s);
bool config_command_user_ok(const char *s);	/* never root */
bool config_audit_log_ok(const char *s);
bool config_startups_ok(const char *s);		/* MaxStartups */
bool config_per_source_ok(const char *s);	/* PerSourceMaxStartups */
bool config_netblock_ok(const char *s);		/* PerSourceNetBlockSize */
bool config_yes_no_ok(const char *s);

/* config-values.c: shared by the parsers of every type. */
/* A value the type's check accepts, or the type's message at the line. */
int config_check(struct parser *p, const struct keyword *kw, const char *a);
/* The type's word for "unset", if it has one, stores NULL. */
const char *config_unless_unset(const struct keyword *kw, const char *a);

/* config-lists.c: the repeatable and list keywords' parsers. */
#define CONFIG_LIST_PARSER(name) int name(struct parser *p, \
    const struct keyword *kw, struct settings *s, bool first, char **argv, \
    size_t argc);
CONFIG_LIST_PARSER(parse_host_key)
CONFIG_LIST_PARSER(parse_accept_env)
CONFIG_LIST_PARSER(parse_ban_exempt)
CONFIG_LIST_PARSER(parse_keys_files)
CONFIG_LIST_PARSER(parse_permits)
CONFIG_LIST_PARSER(parse_auth_methods)
CONFIG_LIST_PARSER(parse_channel_timeouts)
CONFIG_LIST_PARSER(parse_subsystem)
/* 0 unless cmd is internal-sftp with options it would refuse at the
 * session: then the line fails (config-values.c). */
int config_check_internal_sftp(struct parser *p, const char *cmd);
#undef CONFIG_LIST_PARSER

#endif
