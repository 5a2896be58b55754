/* Internal to policy/config*.c: the keyword table (each keyword's type,
 * scope, bounds, field and default) and the per-type operations it points
 * at.  Not part of the module's interface (see config.h). */
#ifndef SSHAND_POLICY_CONFIG_TABLE_H
#define SSHAND_POLICY_CONFIG_TABLE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "policy/algorithms.h"
#include "policy/config.h"

enum kw_type {
	T_FLAG,		/* yes|no -> bool */
	T_UINT,		/* decimal in [min, max] -> unsigned */
	T_MODE,		/* octal in [min, max] -> unsigned (a umask) */
	T_TIME,		/* sshd time in [min, max] -> unsigned seconds */
	T_TIMEOUT,	/* none, or as T_TIME -> unsigned seconds (none: 0) */
	T_PERMITROOT,
	T_LOGLEVEL,
	T_ALGOS,	/* comma list, stored verbatim; default (NULL) */
	T_ABSPATH,
	T_BANNER,	/* absolute path or none (NULL) */
	T_AUDITLOG,	/* journal|syslog|absolute path */
	T_USERNAME,
	T_PROFILE,	/* a sandbox/profile.c name -> enum sandbox_profile */
	T_FORCECMD,	/* rest of the line, none (NULL) */
	T_HOSTKEY,	/* repeatable, absolute path */
	T_ACCEPTENV,	/* repeatable, several patterns */
	T_BANEXEMPT,	/* repeatable, several CIDRs */
	T_AKFILES,	/* several paths on one line, none = empty */
	T_KEYSCMD,	/* rest of the line (policy/keyscmd.h), none (NULL) */
	T_CMDUSER,	/* a user name other than root, none (NULL) */
	T_SUBSYSTEM,	/* repeatable: name command... */
	T_FWDMASK,	/* yes|all|no|local|remote -> unsigned FWD_* mask */
	T_GATEWAY,	/* no|yes|clientspecified -> enum gateway_ports */
	T_PERMITOPEN,	/* host:port ..., any (empty) or none; first line wins */
	T_PERMITLISTEN,	/* [host:]port ..., as T_PERMITOPEN */
	T_REKEY,	/* size [time] -> struct rekey_limit */
	T_COMPRESSION,	/* yes|delayed|no -> bool */
	T_USERPATTERNS,	/* repeatable, several user[@hosts] patterns */
	T_GROUPPATTERNS, /* repeatable, several group patterns */
	T_STARTUPS,	/* MaxStartups: n or start:rate:full, stored verbatim */
	T_PERSOURCE,	/* none or a number, stored verbatim */
	T_NETBLOCK,	/* v4bits[:v6bits], stored verbatim */
	T_PRINCFILE,	/* a path with %h %u %% tokens, none (NULL) */
	T_AUTHMETHODS,	/* lists of methods (authmethods.h), any (empty); first line wins */
	T_CHROOT,	/* absolute path with %h %u %%, or none (NULL) */
	T_BANSTORE,	/* file, file:PATH or redis://... (policy/ban-url.h) */
	T_CHANTIMEOUT,	/* type=interval ..., none (empty); first line wins */
	T__COUNT
};

/* Bounds and defaults that need a name. */
#define GLOBAL false
#define MATCH true
#define TIME_MAX_S	INT_MAX
#define PROCS_MAX	4194304		/* the kernel's pid_max limit */
#define FILES_MAX	(1u << 30)	/* above the largest fs.nr_open */
#define DEFAULT_HOST_KEYS "/etc/sshand/ssh_host_ed25519_key\n" \
	"/etc/sshand/ssh_host_ecdsa_key\n/etc/sshand/ssh_host_rsa_key"

enum kw_id {
#define K(name, ...) KW_##name,
#include "policy/keywords.def"
#undef K
	KW__COUNT
};

struct keyword {
	const char *name;	/* canonical spelling, for messages; -T lower-cases it */
	enum kw_id id;
	enum kw_type type;
	bool in_match;		/* allowed inside a Match block */
	size_t off;		/* of the field in struct settings */
	/* The default, written as in the file and read by the same parser
	 * (one line per occurrence of a repeatable keyword).  NULL: none,
	 * an empty list; see config_resolve() for SubsystemSandboxProfile. */
	const char *dflt;
	unsigned min, max;	/* T_UINT, T_TIME, T_TIMEOUT, T_MODE */
};

/* Case-insensitive; also knows aliases (ChallengeResponseAuthentication).
 * NULL if unknown. */
const struct keyword *keyword_lookup(const char *name);
const struct keyword *keyword_by_id(enum kw_id id);

static inline void *
kw_field(struct settings *s, const struct keyword *kw)
{
	return (char *)s + kw->off;
}

static inline const void *
kw_cfield(const struct settings *s, const struct keyword *kw)
{
	return (const char *)s + kw->off;
}

struct parser;

/* A value of an enumerated type and its spellings; the first spelling
 * of a value is the one -T prints. */
struct kw_name {
	const char *name;
	int value;
};

/* The operations of a type, and the functions that have them. */
typedef int kw_parse_fn(struct parser *p, const struct keyword *kw,
    struct settings *s, bool first, char **argv, size_t argc);
typedef int kw_copy_fn(struct settings *dst, const struct settings *src,
    const struct keyword *kw);
typedef void kw_clear_fn(struct settings *s, const struct keyword *kw);
typedef int kw_dump_fn(FILE *f, const char *name, const struct settings *s,
    const struct keyword *kw);

/* What a type does.  One row per enum kw_type, in config-values.c. */
struct kw_ops {
	/* Validates a line's arguments (argv[0] is the unsplit rest of the
	 * line for a raw type) and stores them in s: a scalar only if this
	 * is the block's first occurrence of the keyword (first wins), a
	 * repeatable keyword at every one.  0, -E2BIG when a list is full,
	 * or a negative errno; a bad value has its message in p. */
	kw_parse_fn *parse;
	/* Replaces dst's value with a copy of src's. */
	kw_copy_fn *copy;
	/* Releases what the value owns (NULL: nothing). */
	kw_clear_fn *clear;
	/* "name value" lines, as sshd -T; -EINVAL for a value that has no
	 * spelling (never one config_resolve() gives). */
	kw_dump_fn *dump;
	bool raw;		/* the parser cuts the line itself */
	/* A list that, as sshd's AllowUsers and the like, takes every
	 * matching Match block's lines, not only the first block's, and
	 * replaces the global lines with them (config_resolve). */
	bool accumulate;
	bool multi;		/* takes several arguments */
	size_t size;		/* of a scalar field */
	/* The word that reads as NULL and that -T prints for it ("none",
	 * "default"); NULL: the type has none and never resolves to NULL. */
	const char *unset;
	const struct kw_name *names;	/* enumerations, NULL-terminated */
	/* A single value's check, and its message: "\"Keyword\" needs
	 * <needs>, not \"value\"" or "bad <bad> \"value\" for \"Keyword\"". */
	bool (*valid)(const char *value);
	const char *needs, *bad;
};

const struct kw_ops *kw_ops_of(enum kw_type t);

/* Copying and releasing by storage (config-resolve.c). */
kw_copy_fn config_copy_scalar, config_copy_str, config_copy_list,
    config_copy_subsystems;
kw_clear_fn config_clear_str, config_clear_list, config_clear_subsystems;

/* Printing by type (config-dump.c). */
kw_dump_fn config_dump_flag, config_dump_uint, config_dump_timeout,
    config_dump_mode, config_dump_named, config_dump_profile, config_dump_str,
    config_dump_each, config_dump_joined, config_dump_subsystems,
    config_dump_algos, config_dump_rekey;

/* The kind of list an algorithm keyword holds (config-values.c). */
enum algo_kind config_algo_kind(const struct keyword *kw);

/* sshd_config keywords that sshand has no setting for (config-sshd.c):
 * each is accepted with a notice saying why it does not apply and what
 * to do instead, or refused where ignoring it would weaken security or
 * where it is not implemented; those whose value sshand fixes are
 * printed by -T as what sshand does. */
struct sshd_keyword;
const struct sshd_keyword *sshd_keyword_lookup(const char *name);
/* A line of one: validated, a notice added or the line refused
 * (-EINVAL, message in p).  in_match: inside a Match block. */
int sshd_keyword_parse(struct parser *p, const struct sshd_keyword *k,
    bool in_match, char *rest);
/* "keyword value" lines, as sshd -T prints them, of what sshand does. */
void sshd_keywords_dump(FILE *f);
/* A notice "path:line: text" of the parser's current line. */
__attribute__((format(printf, 2, 3)))
int config_notice_add(struct parser *p, const char *fmt, ...);

#endif
