/* The value of each type of keyword: how its arguments are validated and
 * stored, and the table of per-type operations (config-table.h) that the
 * parser, resolution and the -T dump dispatch through.
 *
 * Every message names the value as written (shortened, see config_shown)
 * and the keyword, so that an operator can find the line. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/access.h"
#include "policy/algorithms.h"
#include "policy/authmethods.h"
#include "policy/ban-url.h"
#include "policy/sftp-opts.h"
#include "policy/config-internal.h"
#include "policy/forward.h"
#include "policy/keyscmd.h"
#include "policy/match.h"
#include "policy/util/decimal.h"
#include "sandbox/sandbox.h"

/* struct settings's enumerations are stored and copied as ints. */
_Static_assert(sizeof(enum permit_root) == sizeof(int) &&
    sizeof(enum log_level) == sizeof(int) &&
    sizeof(enum gateway_ports) == sizeof(int) &&
    sizeof(enum sandbox_profile) == sizeof(int), "enums are int-sized");
/* So are the forwarding masks, which the named values' code handles. */
_Static_assert(sizeof(unsigned) == sizeof(int), "masks are int-sized");

/* -T prints the first spelling of a value: sshd -T's "without-password",
 * whatever the file says. */
static const struct kw_name permit_root_names[] = {
	{ "no", PERMIT_ROOT_NO },
	{ "yes", PERMIT_ROOT_YES },
	{ "without-password", PERMIT_ROOT_PROHIBIT_PASSWORD },
	{ "prohibit-password", PERMIT_ROOT_PROHIBIT_PASSWORD },
	{ "forced-commands-only", PERMIT_ROOT_FORCED_COMMANDS_ONLY },
	{ NULL, 0 },
};

static const struct kw_name log_level_names[] = {
	{ "QUIET", LOGLEVEL_QUIET },
	{ "FATAL", LOGLEVEL_FATAL },
	{ "ERROR", LOGLEVEL_ERROR },
	{ "INFO", LOGLEVEL_INFO },
	{ "VERBOSE", LOGLEVEL_VERBOSE },
	{ "DEBUG1", LOGLEVEL_DEBUG1 },
	{ "DEBUG", LOGLEVEL_DEBUG1 },
	{ "DEBUG2", LOGLEVEL_DEBUG2 },
	{ "DEBUG3", LOGLEVEL_DEBUG3 },
	{ NULL, 0 },
};

/* AllowTcpForwarding and AllowStreamLocalForwarding, sshd's spellings. */
static const struct kw_name fwd_mask_names[] = {
	{ "yes", FWD_LOCAL | FWD_REMOTE },
	{ "all", FWD_LOCAL | FWD_REMOTE },
	{ "no", 0 },
	{ "local", FWD_LOCAL },
	{ "remote", FWD_REMOTE },
	{ NULL, 0 },
};

static const struct kw_name gateway_ports_names[] = {
	{ "no", GATEWAY_NO },
	{ "yes", GATEWAY_YES },
	{ "clientspecified", GATEWAY_CLIENTSPECIFIED },
	{ NULL, 0 },
};

/* RekeyLimit's bounds: far past any sensible value, and what libssh
 * takes (seconds, kept in milliseconds in a uint32_t). */
#define REKEY_BYTES_MAX (1ull << 50)
#define REKEY_SECONDS_MAX (UINT32_MAX / 1000)

static int
name_value(const struct kw_name *names, const char *s, int *ret)
{
	for (; names->name != NULL; names++) {
		if (strcasecmp(s, names->name) == 0) {
			*ret = names->value;
			return 0;
		}
	}
	return -EINVAL;
}

/* ---------------------------------------------------------------- */
/* Storing */

/* A scalar is stored by the block's first occurrence only. */
static int
store(struct settings *s, const struct keyword *kw, bool first, const void *v)
{
	if (first)
		memcpy(kw_field(s, kw), v, kw_ops_of(kw->type)->size);
	return 0;
}

/* NULL stores "unset" (none, default). */
static int
store_str(struct settings *s, const struct keyword *kw, bool first,
    const char *v)
{
	char **field = kw_field(s, kw), *c = NULL;

	if (!first)
		return 0;
	if (v != NULL && (c = strdup(v)) == NULL)
		return -ENOMEM;
	free(*field);
	*field = c;
	return 0;
}

/* The type's word for "unset", if it has one, stores NULL. */
const char *
config_unless_unset(const struct keyword *kw, const char *a)
{
	const char *unset = kw_ops_of(kw->type)->unset;

	return unset != NULL && strcmp(a, unset) == 0 ? NULL : a;
}

/* A value the type's check accepts, or the type's message. */
int
config_check(struct parser *p, const struct keyword *kw, const char *a)
{
	const struct kw_ops *t = kw_ops_of(kw->type);
	char vbuf[72];

	if (t->valid(a))
		return 0;
	config_shown(a, vbuf);
	if (t->needs != NULL)
		return config_fail(p, "\"%s\" needs %s, not \"%s\"", kw->name,
		    t->needs, vbuf);
	return config_fail(p, "bad %s \"%s\" for \"%s\"", t->bad, vbuf,
	    kw->name);
}

/* ---------------------------------------------------------------- */
/* One parser per type */

static int
parse_flag(struct parser *p, const struct keyword *kw, struct settings *s,
    bool first, char **argv, size_t argc)
{
	bool v = strcasecmp(argv[0], "yes") == 0;
	int r = config_check(p, kw, argv[0]);

	(void)argc;
	return r < 0 ? r : store(s, kw, first, &v);
}

/* The most RLIMIT_NOFILE may be (fs.nr_open); the kernel's default when
 * /proc cannot say. */
static unsigned
nr_open(void)
{
	char buf[32] = "";
	unsigned v = 1048576;
	FILE *f = fopen("/proc/sys/fs/nr_open", "re");

	if (f != NULL) {
		if (fgets(buf, sizeof(buf), f) != NULL)
			v = (unsigned)strtoul(buf, NULL, 10);
		fclose(f);
	}
	return v > 0 ? v : 1048576;
}

/* T_MODE: octal digits only, as sshd reads StreamLocalBindMask (strtol
 * base 8, up to 0777); a leading 0 is optional. */
static int
parse_mode(struct parser *p, const struct keyword *kw, struct settings *s,
    bool first, char **argv, size_t argc)
{
	const char *a = argv[0];
	char vbuf[72];
	uint64_t big = 0;
	unsigned v;

	(void)argc;
	if (a[0] == '\0' || strspn(a, "01234567") != strlen(a))
		return config_fail(p, "bad octal mode \"%s\" for \"%s\"",
		    config_shown(a, vbuf), kw->name);
	/* Stops once past the bound: however many digits, no wrap-around
	 * brings a value back into range. */
	for (const char *c = a; *c && big <= kw->max; c++)
		big = big * 8 + (uint64_t)(*c - '0');
	v = (unsigned)big;
	if (big < kw->min || big > kw->max)
		return config_fail(p, "value \"%s\" for \"%s\" out of range "
		    "(%04o..%04o)", config_shown(a, vbuf), kw->name, kw->min,
		    kw->max);
	return store(s, kw, first, &v);
}

/* T_UINT, T_TIME and T_TIMEOUT. */
static int
parse_number(struct parser *p, const struct keyword *kw, struct settings *s,
    bool first, char **argv, size_t argc)
{
	const char *a = argv[0];
	char vbuf[72];
	uint64_t v = 0;
	unsigned u = 0;
	int r;

	(void)argc;
	if (kw->type == T_TIMEOUT && strcasecmp(a, "none") == 0)
		return store(s, kw, first, &u);
	if (kw->type == T_TIME || kw->type == T_TIMEOUT) {
		if (parse_time(a, &u) < 0)
			return config_fail(p, "bad time \"%s\" for \"%s\"",
			    config_shown(a, vbuf), kw->name);
		r = 0;
	} else if ((r = decimal_parse(a, UINT32_MAX, &v)) == -EINVAL)
		return config_fail(p, "bad number \"%s\" for \"%s\"",
		    config_shown(a, vbuf), kw->name);
	else
		u = (unsigned)v;
	if (r < 0 || u < kw->min || u > kw->max)
		return config_fail(p, "value \"%s\" for \"%s\" out of range "
		    "(%u..%u)", config_shown(a, vbuf), kw->name, kw->min,
		    kw->max);
	/* More sessions than a connection can have: a limit that cannot be
	 * reached, so the most there can be, and said. */
	if (kw->id == KW_MaxSessions && u > SSHAND_MAX_SESSIONS) {
		if ((r = config_notice_add(p, "MaxSessions %u: sshand serves at "
		    "most %d sessions per connection; %d apply", u,
		    SSHAND_MAX_SESSIONS, SSHAND_MAX_SESSIONS)) < 0)
			return r;
		u = SSHAND_MAX_SESSIONS;
	}
	/* A hard limit the kernel cannot give: every session would fail to
	 * start; refused here, where -t and the start-up see it. */
	if (kw->id == KW_MaxOpenFiles && u > nr_open())
		return config_fail(p, "value \"%s\" for \"%s\" is above the "
		    "kernel's limit (fs.nr_open %u): no session could start",
		    config_shown(a, vbuf), kw->name, nr_open());
	return store(s, kw, first, &u);
}

/* sshd's "RekeyLimit size [time]": size in bytes with an optional K, M or
 * G (powers of 1024), at least 16, or "default"; time in sshd's format,
 * or "none". */
static int
parse_rekey(struct parser *p, const struct keyword *kw, struct settings *s,
    bool first, char **argv, size_t argc)
{
	struct rekey_limit v = { 0, 0 };
	const char *a = argv[0], *end;
	char vbuf[72];
	uint64_t n = 0, mult = 1;

	if (argc > 2)
		return config_fail(p, "unexpected extra argument \"%s\" for \"%s\"",
		    config_shown(argv[2], vbuf), kw->name);
	if (strcmp(a, "default") != 0) {
		end = a;
		if (decimal_prefix(&end, REKEY_BYTES_MAX, &n) < 0)
			return config_fail(p, "bad size \"%s\" for \"%s\"",
			    config_shown(a, vbuf), kw->name);
		switch (*end) {
		case '\0': break;
		case 'K': case 'k': mult = 1ull << 10; end++; break;
		case 'M': case 'm': mult = 1ull << 20; end++; break;
		case 'G': case 'g': mult = 1ull << 30; end++; break;
		default: end = "?"; break;
		}
		if (*end != '\0' || n > REKEY_BYTES_MAX / mult)
			return config_fail(p, "bad size \"%s\" for \"%s\"",
			    config_shown(a, vbuf), kw->name);
		v.bytes = n * mult;
		/* sshd's floor: a few blocks would rekey without end. */
		if (v.bytes != 0 && v.bytes < 16)
			return config_fail(p, "\"%s\" size %s too small (16 bytes "
			    "at least)", kw->name, config_shown(a, vbuf));
	}
	if (argc == 2 && strcmp(argv[1], "none") != 0 &&
	    (parse_time(argv[1], &v.seconds) < 0 || v.seconds > REKEY_SECONDS_MAX))
		return config_fail(p, "bad time \"%s\" for \"%s\" (up to %u s, "
		    "or none)", config_shown(argv[1], vbuf), kw->name,
		    REKEY_SECONDS_MAX);
	return store(s, kw, first, &v);
}

/* sshd's Compression: yes and delayed are the same (after login). */
static int
parse_compression(struct parser *p, const struct keyword *kw,
    struct settings *s, bool first, char **argv, size_t argc)
{
	bool v = strcasecmp(argv[0], "no") != 0;
	char vbuf[72];

	(void)argc;
	if (strcasecmp(argv[0], "yes") != 0 && strcasecmp(argv[0], "delayed") != 0 &&
	    strcasecmp(argv[0], "no") != 0)
		return config_fail(p, "bad value \"%s\" for \"%s\" (yes, delayed "
		    "or no)", config_shown(argv[0], vbuf), kw->name);
	return store(s, kw, first, &v);
}

/* AllowUsers, DenyUsers: each argument a pattern (policy/access.h);
 * every line adds, as in sshd. */
static int
parse_user_patterns(struct parser *p, const struct keyword *kw,
    struct settings *s, bool first, char **argv, size_t argc)
{
	const char *why;
	char vbuf[72];
	int r = 0;

	(void)first;
	for (size_t i = 0; i < argc && r == 0; i++) {
		if (!access_user_pattern_ok(argv[i], &why))
			return config_fail(p, "bad pattern \"%s\" for \"%s\": %s",
			    config_shown(argv[i], vbuf), kw->name, why);
		r = config_strlist_add(kw_field(s, kw), argv[i]);
	}
	return r;
}

/* AllowGroups, DenyGroups: each argument one group glob. */
static int
parse_group_patterns(struct parser *p, const struct keyword *kw,
    struct settings *s, bool first, char **argv, size_t argc)
{
	char vbuf[72];
	int r = 0;

	(void)first;
	for (size_t i = 0; i < argc && r == 0; i++) {
		if (strlen(argv[i]) > 256 || config_has_ctrl(argv[i]))
			return config_fail(p, "bad pattern \"%s\" for \"%s\"",
			    config_shown(argv[i], vbuf), kw->name);
		r = config_strlist_add(kw_field(s, kw), argv[i]);
	}
	return r;
}

/* The enumerations and the forwarding masks: a name of the type's table. */
static int
parse_named(struct parser *p, const struct keyword *kw, struct settings *s,
    bool first, char **argv, size_t argc)
{
	char vbuf[72];
	int v;

	(void)argc;
	if (name_value(kw_ops_of(kw->type)->names, argv[0], &v) == 0)
		return store(s, kw, first, &v);
	config_shown(argv[0], vbuf);
	if (kw->type == T_LOGLEVEL)
		return config_fail(p, "bad log level \"%s\"", vbuf);
	return config_fail(p, "bad value \"%s\" for \"%s\"", vbuf, kw->name);
}

/* The names are sandbox/profile.c's, the only list of them. */
static int
parse_profile(struct parser *p, const struct keyword *kw, struct settings *s,
    bool first, char **argv, size_t argc)
{
	enum sandbox_profile v;
	char vbuf[72];

	(void)argc;
	if (sandbox_profile_parse(argv[0], &v) < 0)
		return config_fail(p, "unknown sandbox profile \"%s\" for "
		    "\"%s\"", config_shown(argv[0], vbuf), kw->name);
	return store(s, kw, first, &(int){ (int)v });
}

/* The strings: checked, or the type's word for unset (NULL), which is
 * what -T prints for it, so that -T reads back. */
static int
parse_string(struct parser *p, const struct keyword *kw, struct settings *s,
    bool first, char **argv, size_t argc)
{
	const char *a = config_unless_unset(kw, argv[0]);
	int r;

	(void)argc;
	if (a != NULL && (r = config_check(p, kw, a)) < 0)
		return r;
	return store_str(s, kw, first, a);
}

enum algo_kind
config_algo_kind(const struct keyword *kw)
{
	switch (kw->id) {
	case KW_KexAlgorithms: return ALGO_KEX;
	case KW_Ciphers: return ALGO_CIPHER;
	case KW_MACs: return ALGO_MAC;
	case KW_HostKeyAlgorithms: return ALGO_HOSTKEY;
	case KW_CASignatureAlgorithms: return ALGO_CASIG;
	default: return ALGO_PUBKEY;
	}
}

/* An algorithm list, expanded (policy/algorithms.c) and stored as the
 * names this server supports, so that only those ever reach libssh or
 * the monitor's check.  Names only OpenSSH implements are dropped with a
 * notice; a name nobody knows is a typo and fails the load. */
static int
parse_algos(struct parser *p, const struct keyword *kw, struct settings *s,
    bool first, char **argv, size_t argc)
{
	const char *a = config_unless_unset(kw, argv[0]);
	char out[ALGO_LIST_MAX], dropped[ALGO_LIST_MAX], why[256];
	int r;

	(void)argc;
	if (a == NULL)
		return store_str(s, kw, first, NULL);
	if ((r = config_check(p, kw, a)) < 0)
		return r;
	r = algo_list_expand(config_algo_kind(kw), a, out, sizeof(out), dropped,
	    sizeof(dropped), why, sizeof(why));
	if (r == -E2BIG)
		return config_fail(p, "algorithm list for \"%s\" too long", kw->name);
	if (r < 0)
		return config_fail(p, "%s", why);
	if (dropped[0] != '\0' && (r = config_notice_add(p, "%s: not supported "
	    "by this server (libssh 0.10), left out: %s", kw->name, dropped)) < 0)
		return r;
	return store_str(s, kw, first, out);
}

/* internal-sftp's options, read as a session will read them
 * (policy/sftp-opts.h), so that a line that loads also serves; any
 * other command is the shell's to judge. */
int
config_check_internal_sftp(struct parser *p, const char *cmd)
{
	struct sftp_opts o;
	char why[128];
	int r;

	if (!sftp_is_internal(cmd))
		return 0;
	r = sftp_opts_parse(cmd, "user", "/home/user", &o, why, sizeof(why));
	if (r == -EINVAL)
		return config_fail(p, "%s: %s", SFTP_INTERNAL_NAME, why);
	return r;
}

/* Raw: the rest of the line, passed to the shell exactly as written
 * (internal-sftp: see above). */
static int
parse_force_command(struct parser *p, const struct keyword *kw,
    struct settings *s, bool first, char **argv, size_t argc)
{
	const char *a = config_rest_of_line(argv[0]);
	int r;

	(void)argc;
	if (*a == '\0')
		return config_fail(p, "missing argument for \"%s\"", kw->name);
	if (strlen(a) >= 4096 || config_has_ctrl(a))
		return config_fail(p, "bad command for \"%s\"", kw->name);
	if ((r = config_check_internal_sftp(p, a)) < 0)
		return r;
	return store_str(s, kw, first, config_unless_unset(kw, a));
}

/* Raw: the rest of the line, checked as the monitor will split and
 * expand it (policy/keyscmd.h), so that a line that loads also runs. */
static int
parse_keys_command(struct parser *p, const struct keyword *kw,
    struct settings *s, bool first, char **argv, size_t argc)
{
	const char *a = config_rest_of_line(argv[0]), *why = NULL;
	char *av[KEYSCMD_MAX_ARGS + 2], *buf, vbuf[72];
	int r;

	(void)argc;
	if (*a == '\0')
		return config_fail(p, "missing argument for \"%s\"", kw->name);
	if (strlen(a) >= 4096 || config_has_ctrl(a))
		return config_fail(p, "bad command for \"%s\"", kw->name);
	if ((a = config_unless_unset(kw, a)) == NULL)
		return store_str(s, kw, first, NULL);
	if ((buf = malloc(KEYSCMD_MAX_EXPANDED)) == NULL)
		return -ENOMEM;
	r = keyscmd_argv(a, NULL, av, buf, KEYSCMD_MAX_EXPANDED, &why);
	free(buf);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return config_fail(p, "%s \"%s\": %s", kw->name,
		    config_shown(a, vbuf), why != NULL ? why : "too long");
	return store_str(s, kw, first, a);
}

/* BanStore: its parser's own reason names what is wrong (rediss://
 * among them), at the line. */
static int
parse_ban_store(struct parser *p, const struct keyword *kw, struct settings *s,
    bool first, char **argv, size_t argc)
{
	struct ban_url u;
	const char *why = NULL;
	char vbuf[72], red[BAN_URL_MAX + 16];

	(void)argc;
	if (ban_url_parse(argv[0], &u, &why) < 0) {
		if (ban_url_redact(argv[0], red, sizeof(red)) < 0)
			snprintf(red, sizeof(red), "?");
		return config_fail(p, "\"%s\" \"%s\": %s", kw->name,
		    config_shown(red, vbuf), why);
	}
	ban_url_wipe(&u);
	return store_str(s, kw, first, argv[0]);
}

/* -T prints a password of the URL as ********. */
static int
dump_ban_store(FILE *f, const char *name, const struct settings *s,
    const struct keyword *kw)
{
	const char *v = *(char *const *)kw_cfield(s, kw);
	char red[BAN_URL_MAX + 16];
	int r;

	if (v == NULL)
		v = "file";
	r = ban_url_redact(v, red, sizeof(red));
	if (r < 0)
		return r;
	return fprintf(f, "%s %s\n", name, red) < 0 ? -EIO : 0;
}

/* ---------------------------------------------------------------- */
/* The types */

#define SCALAR(parse_fn, dump_fn, type) .parse = parse_fn, \
	.copy = config_copy_scalar, .dump = dump_fn, .size = sizeof(type)
#define STRING(check_fn) .parse = parse_string, .copy = config_copy_str, \
	.clear = config_clear_str, .dump = config_dump_str, .valid = check_fn
#define LIST(parse_fn, dump_fn) .parse = parse_fn, .copy = config_copy_list, \
	.clear = config_clear_list, .dump = dump_fn

static const struct kw_ops types[T__COUNT] = {
	[T_FLAG] = { SCALAR(parse_flag, config_dump_flag, bool),
	    .valid = config_yes_no_ok, .bad = "yes/no value" },
	[T_UINT] = { SCALAR(parse_number, config_dump_uint, unsigned) },
	[T_MODE] = { SCALAR(parse_mode, config_dump_mode, unsigned) },
	[T_TIME] = { SCALAR(parse_number, config_dump_uint, unsigned) },
	[T_TIMEOUT] = { SCALAR(parse_number, config_dump_timeout, unsigned) },
	[T_PERMITROOT] = { SCALAR(parse_named, config_dump_named, int),
	    .names = permit_root_names },
	[T_LOGLEVEL] = { SCALAR(parse_named, config_dump_named, int),
	    .names = log_level_names },
	[T_PROFILE] = { SCALAR(parse_profile, config_dump_profile, int) },
	[T_ALGOS] = { .parse = parse_algos, .copy = config_copy_str,
	    .clear = config_clear_str, .dump = config_dump_algos,
	    .valid = config_algos_ok, .unset = "default", .bad = "algorithm list" },
	[T_ABSPATH] = { STRING(config_abs_path_ok), .needs = "an absolute path" },
	[T_BANNER] = { STRING(config_abs_path_ok), .unset = "none",
	    .needs = "an absolute path or none" },
	[T_AUDITLOG] = { STRING(config_audit_log_ok),
	    .needs = "journal, syslog or an absolute path" },
	[T_USERNAME] = { STRING(config_user_name_ok), .bad = "user name" },
	[T_FORCECMD] = { .parse = parse_force_command, .copy = config_copy_str,
	    .clear = config_clear_str, .dump = config_dump_str, .raw = true,
	    .unset = "none" },
	[T_HOSTKEY] = { LIST(parse_host_key, config_dump_each),
	    .valid = config_abs_path_ok, .needs = "an absolute path" },
	[T_ACCEPTENV] = { LIST(parse_accept_env, config_dump_each),
	    .multi = true },
	[T_BANEXEMPT] = { LIST(parse_ban_exempt, config_dump_each),
	    .multi = true },
	[T_AKFILES] = { LIST(parse_keys_files, config_dump_joined),
	    .multi = true, .unset = "none" },
	[T_KEYSCMD] = { .parse = parse_keys_command, .copy = config_copy_str,
	    .clear = config_clear_str, .dump = config_dump_str, .raw = true,
	    .unset = "none" },
	[T_CMDUSER] = { STRING(config_command_user_ok), .unset = "none",
	    .needs = "a user name other than root, or none" },
	[T_SUBSYSTEM] = { .parse = parse_subsystem,
	    .copy = config_copy_subsystems, .clear = config_clear_subsystems,
	    .dump = config_dump_subsystems, .raw = true },
	[T_FWDMASK] = { SCALAR(parse_named, config_dump_named, unsigned),
	    .names = fwd_mask_names },
	[T_GATEWAY] = { SCALAR(parse_named, config_dump_named, int),
	    .names = gateway_ports_names },
	[T_PERMITOPEN] = { LIST(parse_permits, config_dump_joined),
	    .multi = true, .unset = "any" },
	[T_PERMITLISTEN] = { LIST(parse_permits, config_dump_joined),
	    .multi = true, .unset = "any" },
	[T_REKEY] = { SCALAR(parse_rekey, config_dump_rekey,
	    struct rekey_limit), .multi = true },
	[T_COMPRESSION] = { SCALAR(parse_compression, config_dump_flag, bool) },
	[T_USERPATTERNS] = { LIST(parse_user_patterns, config_dump_each),
	    .multi = true, .accumulate = true },
	[T_GROUPPATTERNS] = { LIST(parse_group_patterns, config_dump_each),
	    .multi = true, .accumulate = true },
	[T_STARTUPS] = { STRING(config_startups_ok),
	    .needs = "a number or start:rate:full (start <= full, rate <= 100)" },
	[T_PERSOURCE] = { STRING(config_per_source_ok), .needs = "a number or none" },
	[T_NETBLOCK] = { STRING(config_netblock_ok),
	    .needs = "IPv4 bits[:IPv6 bits] (0..32, 0..128)" },
	[T_PRINCFILE] = { STRING(config_princ_file_ok), .unset = "none",
	    .needs = "a path (%h, %u and %% expanded) or none" },
	[T_AUTHMETHODS] = { LIST(parse_auth_methods, config_dump_joined),
	    .multi = true, .unset = "any" },
	[T_CHROOT] = { STRING(config_chroot_ok), .unset = "none",
	    .needs = "an absolute path (%h, %u and %% expand) or none" },
	[T_BANSTORE] = { .parse = parse_ban_store, .copy = config_copy_str,
	    .clear = config_clear_str, .dump = dump_ban_store },
	[T_CHANTIMEOUT] = { LIST(parse_channel_timeouts, config_dump_joined),
	    .multi = true, .unset = "none" },
};

const struct kw_ops *
kw_ops_of(enum kw_type t)
{
	return &types[t];
}
