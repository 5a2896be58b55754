/* Internal to policy/config*.c: the keyword table.  Not part of the
 * module's interface (see config.h). */
#ifndef SSHAND_POLICY_CONFIG_TABLE_H
#define SSHAND_POLICY_CONFIG_TABLE_H

#include <stdbool.h>
#include <stddef.h>

enum kw_type {
	T_FLAG,		/* yes|no -> bool */
	T_UINT,		/* decimal in [min, max] -> unsigned */
	T_TIME,		/* sshd time in [min, max] -> unsigned seconds */
	T_PERMITROOT,
	T_LOGLEVEL,
	T_ALGOS,	/* comma list, stored verbatim */
	T_ABSPATH,
	T_BANNER,	/* absolute path or none (NULL) */
	T_AUDITLOG,	/* journal|syslog|absolute path */
	T_USERNAME,
	T_PROFILE,	/* login|strict|none */
	T_FORCECMD,	/* rest of the line, none (NULL) */
	T_HOSTKEY,	/* repeatable, absolute path */
	T_ACCEPTENV,	/* repeatable, several patterns */
	T_BANEXEMPT,	/* repeatable, several CIDRs */
	T_AKFILES,	/* several paths on one line, none = empty */
	T_SUBSYSTEM,	/* repeatable: name command... */
};

enum kw_id {
	KW_HOSTKEY,
	KW_KEXALGORITHMS,
	KW_CIPHERS,
	KW_MACS,
	KW_HOSTKEYALGORITHMS,
	KW_REKEYLIMIT,
	KW_LOGINGRACETIME,
	KW_LOGLEVEL,
	KW_PRIVSEPUSER,
	KW_PRIVSEPDIRECTORY,
	KW_AUDITLOG,
	KW_BANFILE,
	KW_BANMAXFAILURES,
	KW_BANFINDTIME,
	KW_BANTIME,
	KW_BANTIMEMAX,
	KW_BANIPV6PREFIX,
	KW_BANMAXENTRIES,
	KW_BANEXEMPT,
	KW_PERMITROOTLOGIN,
	KW_PUBKEYAUTHENTICATION,
	KW_PASSWORDAUTHENTICATION,
	KW_KBDINTERACTIVEAUTHENTICATION,
	KW_PERMITEMPTYPASSWORDS,
	KW_STRICTMODES,
	KW_PERMITTTY,
	KW_PERMITUSERENVIRONMENT,
	KW_ALLOWTCPFORWARDING,
	KW_MAXAUTHTRIES,
	KW_BANNER,
	KW_AUTHORIZEDKEYSFILE,
	KW_SUBSYSTEM,
	KW_ACCEPTENV,
	KW_FORCECOMMAND,
	KW_SANDBOXPROFILE,
	KW_SUBSYSTEMSANDBOXPROFILE,
	KW_SANDBOXALLOWKEYRINGS,
	KW_MAXSESSIONPROCS,
	KW_MAXOPENFILES,
	KW_ALLOWCOREDUMPS,
	KW__COUNT
};

struct keyword {
	const char *name;	/* canonical spelling, for messages */
	enum kw_id id;
	enum kw_type type;
	bool in_match;		/* allowed inside a Match block */
	bool multi;		/* takes several arguments */
	size_t off;		/* of the field in struct settings */
	unsigned min, max;	/* T_UINT, T_TIME */
};

/* Case-insensitive; also knows aliases (ChallengeResponseAuthentication).
 * NULL if unknown. */
const struct keyword *keyword_lookup(const char *name);
const struct keyword *keyword_by_id(enum kw_id id);

#endif
