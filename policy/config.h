/* sshand.conf: parsing and per-connection resolution of settings.
 *
 * A library: no logging, no exit.  Functions return 0 or a negative errno;
 * parse errors are described in the caller's buffer as "file:line: what".
 */
#ifndef SSHAND_POLICY_CONFIG_H
#define SSHAND_POLICY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "policy/ban.h"

#include "sandbox/sandbox.h"

#define SSHAND_CONFIG_PATH "/etc/sshand/sshand.conf"
/* Where Include looks for a relative path (sshd: /etc/ssh). */
#define SSHAND_CONFIG_DIR "/etc/sshand"
/* Sessions one connection may have open at once: MaxSessions is capped
 * here (the monitor's and the network child's tables are this size). */
#define SSHAND_MAX_SESSIONS 10

enum permit_root {
	PERMIT_ROOT_NO,
	PERMIT_ROOT_YES,
	PERMIT_ROOT_PROHIBIT_PASSWORD,	/* also spelled without-password */
	PERMIT_ROOT_FORCED_COMMANDS_ONLY,
};

/* GatewayPorts: where a remote forward listens (policy/forward.h,
 * fwd_bind_addr). */
enum gateway_ports {
	GATEWAY_NO,		/* the loopback addresses only */
	GATEWAY_YES,		/* every address, whatever the client asks */
	GATEWAY_CLIENTSPECIFIED,	/* the address the client names */
};

/* OpenSSH's LogLevel names, in increasing verbosity. */
enum log_level {
	LOGLEVEL_QUIET,
	LOGLEVEL_FATAL,
	LOGLEVEL_ERROR,
	LOGLEVEL_INFO,
	LOGLEVEL_VERBOSE,
	LOGLEVEL_DEBUG1,	/* "DEBUG" is DEBUG1 */
	LOGLEVEL_DEBUG2,
	LOGLEVEL_DEBUG3,
};

struct strlist {
	char **v;
	size_t n;
};

/* RekeyLimit: bytes (0: libssh's default, by cipher block size) and
 * seconds (0: none). */
struct rekey_limit {
	uint64_t bytes;
	unsigned seconds;
};

struct subsystem {
	char *name;
	char *command;		/* rest of the line, run with the user's shell -c */
};

/* The effective settings for one connection (or the global ones). */
struct settings {
	/* Global only: a keyword of this group inside Match is an error. */
	struct strlist host_keys;		/* HostKey, repeatable */
	/* Expanded lists of supported names (policy/algorithms.h); NULL:
	 * the default. */
	char *kex_algorithms;
	char *ciphers;
	char *macs;
	char *hostkey_algorithms;
	struct rekey_limit rekey_limit;		/* RekeyLimit default none */
	bool compression;			/* Compression yes (delayed): zlib@openssh.com offered */
	bool tcp_keepalive;			/* TCPKeepAlive yes: SO_KEEPALIVE on the connection */
	unsigned login_grace_time;		/* LoginGraceTime, s, 0 = none; 60 */
	enum log_level log_level;		/* LogLevel INFO */
	char *privsep_user;			/* PrivsepUser sshand */
	char *privsep_directory;		/* PrivsepDirectory /var/empty */
	char *audit_log;			/* AuditLog journal|syslog|/abs/path.jsonl; journal */
	bool audit_required;			/* AuditRequired no: logins go on unrecorded */

	char *ban_file;				/* BanFile /var/lib/sshand/bans */
	unsigned ban_max_failures;		/* BanMaxFailures 5 (0 = bans off) */
	unsigned ban_find_time;			/* BanFindTime 10m (s) */
	unsigned ban_time;			/* BanTime 1h (s) */
	unsigned ban_time_max;			/* BanTimeMax 1w (s) */
	unsigned ban_ipv6_prefix;		/* BanIPv6Prefix 64 (1..128) */
	unsigned ban_max_entries;		/* BanMaxEntries 65536 */
	struct strlist ban_exempt;		/* BanExempt CIDR list; empty */
	/* BanStore file: the ban file alone; or redis://... (ban-url.h),
	 * which only sshandctl bans fleet-sync connects to. */
	char *ban_store;			/* BanStore file */
	char *ban_store_password_file;		/* BanStorePasswordFile none */
	/* Unauthenticated connections (policy/startups.h), verbatim. */
	char *max_startups;			/* MaxStartups 10:30:100 */
	char *per_source_max_startups;		/* PerSourceMaxStartups 8 */
	char *per_source_net_block_size;	/* PerSourceNetBlockSize 32:128 */
	bool print_motd;			/* PrintMotd yes: /etc/motd at a pty login */
	bool print_lastlog;			/* PrintLastLog yes: "Last login: ..." */

	/* Allowed inside Match User/Group/Address. */
	enum permit_root permit_root_login;	/* no */
	bool pubkey_authentication;		/* yes */
	/* PubkeyAcceptedAlgorithms: the signature algorithms a publickey
	 * login may use; NULL: algo_default(ALGO_PUBKEY), without ssh-rsa. */
	char *pubkey_accepted_algorithms;
	bool password_authentication;		/* yes */
	bool kbd_interactive_authentication;	/* yes */
	bool permit_empty_passwords;		/* no */
	bool strict_modes;			/* yes */
	bool permit_tty;			/* PermitTTY yes */
	bool permit_user_environment;		/* yes: environment= honoured; no */
	/* Forwarding, with sshd's meanings and defaults; policy/forward.h has
	 * the checks.  DisableForwarding yes overrides every other one.  The
	 * two Allow*Forwarding are masks of FWD_LOCAL and FWD_REMOTE. */
	unsigned allow_tcp_forwarding;		/* AllowTcpForwarding yes (both) */
	unsigned allow_streamlocal_forwarding;	/* AllowStreamLocalForwarding yes */
	bool allow_agent_forwarding;		/* AllowAgentForwarding yes */
	bool x11_forwarding;			/* X11Forwarding no */
	unsigned x11_display_offset;		/* X11DisplayOffset 10 (0..1000) */
	bool x11_use_localhost;			/* X11UseLocalhost yes */
	bool disable_forwarding;		/* DisableForwarding no */
	enum gateway_ports gateway_ports;	/* GatewayPorts no */
	/* PermitOpen, PermitListen: entries as fwd_permit_canon() writes
	 * them, or the single word "none"; empty: any. */
	struct strlist permit_open;
	struct strlist permit_listen;
	unsigned streamlocal_bind_mask;		/* StreamLocalBindMask 0177 */
	bool streamlocal_bind_unlink;		/* StreamLocalBindUnlink no */
	unsigned max_auth_tries;		/* 6 */
	/* AuthenticationMethods: each entry one list, methods comma-separated
	 * (policy/authmethods.h); empty: any. */
	struct strlist authentication_methods;
	/* sshd's allowed_user(), in its order (policy/access.h): user
	 * patterns, with @host for an address pattern list; group
	 * patterns.  Lines accumulate, and the matching Match blocks'
	 * lines, if any, replace the global ones, as in sshd. */
	struct strlist deny_users;		/* DenyUsers */
	struct strlist allow_users;		/* AllowUsers */
	struct strlist deny_groups;		/* DenyGroups */
	struct strlist allow_groups;		/* AllowGroups */
	unsigned max_sessions;			/* MaxSessions 10 (0..SSHAND_MAX_SESSIONS) */
	unsigned client_alive_interval;		/* ClientAliveInterval 0 (s; 0 = off) */
	unsigned client_alive_count_max;	/* ClientAliveCountMax 3 (0 = never end) */
	unsigned unused_connection_timeout;	/* UnusedConnectionTimeout none (0), s */
	/* ChannelTimeout: "type=interval" entries as written (sshd -T prints
	 * them so); the first whose type pattern matches a channel's type
	 * is its timeout (chantimeout_parse()).  Empty: none. */
	struct strlist channel_timeouts;
	unsigned required_rsa_size;		/* RequiredRSASize 1024 (bits) */
	char *banner;				/* path or NULL ("none") */
	struct strlist authorized_keys_files;	/* ".ssh/authorized_keys"; %h %u %% */
	/* AuthorizedKeysCommand (policy/keyscmd.h) or NULL, and the user
	 * it runs as, or NULL ("none"; the load refuses a command without
	 * one). */
	char *authorized_keys_command;
	char *authorized_keys_command_user;
	char *trusted_user_ca_keys;		/* path or NULL ("none") */
	char *authorized_principals_file;	/* %h %u %%, relative to home; NULL */
	char *authorized_principals_command;	/* as authorized_keys_command */
	char *authorized_principals_command_user;
	char *ca_signature_algorithms;		/* NULL: algo_default(ALGO_CASIG) */
	char *revoked_keys;			/* path or NULL ("none") */
	struct subsystem *subsystems;		/* Subsystem name command, repeatable */
	size_t n_subsystems;
	struct strlist accept_env;		/* AcceptEnv patterns, repeatable */
	char *force_command;			/* ForceCommand or NULL */
	char *chroot_directory;			/* ChrootDirectory (%h %u %%) or NULL */
	enum sandbox_profile sandbox_profile;	/* SandboxProfile login|strict|none; login */
	/* SubsystemSandboxProfile; when not set, config_resolve() makes it
	 * the resolved SandboxProfile, so it is always the one that applies. */
	enum sandbox_profile subsystem_sandbox_profile;
	bool sandbox_allow_keyrings;		/* SandboxAllowKeyrings no */
	/* NoNewPrivileges (systemd's name): no setuid or file-capability
	 * program gains anything in the session.  When not set,
	 * config_resolve() makes it yes under SandboxProfile strict, no
	 * under login and none. */
	bool no_new_privileges;
	unsigned max_session_procs;		/* MaxSessionProcs 0 = unlimited (RLIMIT_NPROC) */
	unsigned max_open_files;		/* MaxOpenFiles 0 = leave as is (RLIMIT_NOFILE) */
	bool allow_core_dumps;			/* AllowCoreDumps no (RLIMIT_CORE 0) */
	/* KillUserProcesses no (logind's name and default): what the user
	 * left running in the background outlives the connection. */
	bool kill_user_processes;
	bool permit_user_rc;			/* PermitUserRC yes: ~/.ssh/rc runs */
};

/* What a Match block is tested against.  user may be NULL before
 * authentication: then Match User/Group blocks do not apply. */
struct match_ctx {
	const char *user;
	const char *const *groups;	/* the user's group names */
	size_t n_groups;
	const char *addr;		/* numeric remote address, v4-mapped folded */
};

struct config;

/* Parse a file.  On failure err holds "path:line: message" (or
 * "path: strerror") and a negative errno is returned: -EINVAL for bad
 * content, -errno of open/read otherwise. */
int config_load(const char *path, struct config **ret, char *err, size_t errlen);
void config_free(struct config *cfg);

/* "file:line" of the global section's HostKey that names path (its
 * first), or NULL when no line does (the built-in defaults apply). */
const char *config_host_key_where(const struct config *cfg, const char *path);

/* The notices of loading, "path:line: text", in order; NULL past the
 * last: names dropped from algorithm lists because this server does not
 * implement them, and sshd_config keywords that do not apply to sshand
 * (config-sshd.c says why each, and what to do instead). */
const char *config_notice(const struct config *cfg, size_t i);

/* Every PubkeyAcceptedAlgorithms name that some connection may be given:
 * the global value's and every Match block's, comma-joined, into buf; for
 * what the network child tells clients before the user is known. */
int config_pubkey_algorithms_any(const struct config *cfg, char *buf,
    size_t len);

/* Settings for ctx.  As in sshd, a Match block overrides the global value
 * and the first matching Match block to set a keyword wins.  ctx NULL is a
 * context with no user and no address: the global section plus any
 * "Match All" blocks, which apply to every connection. */
int config_resolve(const struct config *cfg, const struct match_ctx *ctx,
    struct settings **ret);
void settings_free(struct settings *s);

/* False only when no connection can resolve to NoNewPrivileges no: then
 * no session will ever run a setuid program with its privilege, and the
 * processes serving a connection may give up for good what those would
 * need (the bounding set; handler/monitor/monitor.c).  Conservative: a
 * Match block that might not match still counts. */
bool config_may_grant_privileges(const struct config *cfg);

/* Every keyword at its built-in default: the settings an empty file
 * resolves to (for tools that go on without a file). */
int config_defaults(struct settings **ret);
/* The settings of path before any user is known (config_resolve with no
 * context); a missing file gives the defaults.  On failure err says why,
 * as config_load does. */
int config_settings(const char *path, struct settings **ret, char *err,
    size_t errlen);

/* The ban file's parameters as s sets them (exempt points into s). */
void settings_ban_params(const struct settings *s, struct ban_params *ret);

/* "keyword value" lines, lower-case keywords, as sshd -T prints them. */
int settings_dump(const struct settings *s, FILE *f);

/* The subsystem command for name, or NULL. */
const char *settings_subsystem(const struct settings *s, const char *name);

/* True if env var name matches an AcceptEnv pattern. */
bool settings_accept_env(const struct settings *s, const char *name);

/* "1h30m" style times (sshd's format); returns -EINVAL if malformed. */
int parse_time(const char *s, unsigned *ret_seconds);

/* ChannelTimeout's entries: at most this many, each at most this long. */
#define CHANTIMEOUT_MAX 16
#define CHANTIMEOUT_MAX_LEN 128
/* One ChannelTimeout entry, "type=interval" as sshd's parse_timeout()
 * reads it: the type pattern (not empty, cut at the first '=') into
 * pattern, the interval (sshd's time format; 0: no timeout) into
 * ret_seconds.  -EINVAL if malformed, -E2BIG if longer than
 * CHANTIMEOUT_MAX_LEN. */
int chantimeout_parse(const char *entry, char *pattern, size_t cap,
    unsigned *ret_seconds);
/* The interval (s) ChannelTimeout's entries give a channel of type
 * (sshd's labels: "session:shell", "direct-tcpip"...): the first entry
 * whose pattern matches, as sshd picks it; 0 when none does ("none"). */
unsigned chantimeout_for(const struct strlist *entries, const char *type);

#endif
