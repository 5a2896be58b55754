/* The keywords of sshand.conf: their types, bounds, where they live and
 * their defaults.  Order follows enum kw_id, which is also the order
 * sshand -T prints them in.  The defaults are written as an administrator
 * would write them and read at load time by the same parser as the file,
 * so a default obeys the same rules as any value; man/sshand.conf.5 lists
 * them, and test_config checks what -T prints for an empty file. */
#include <limits.h>
#include <stddef.h>
#include <strings.h>

#include "policy/config.h"
#include "policy/config-table.h"

#define F(field) offsetof(struct settings, field)
#define GLOBAL false
#define MATCH true

/* Upper bounds: a value past these is a typo, not a policy. */
#define TIME_MAX_S	INT_MAX
#define PROCS_MAX	4194304		/* the kernel's pid_max limit */
#define FILES_MAX	(1u << 30)	/* above the largest fs.nr_open */

static const struct keyword keywords[KW__COUNT] = {
	{ "HostKey", KW_HOSTKEY, T_HOSTKEY, GLOBAL, F(host_keys),
	    "/etc/sshand/ssh_host_ed25519_key\n"
	    "/etc/sshand/ssh_host_ecdsa_key\n"
	    "/etc/sshand/ssh_host_rsa_key", 0, 0 },
	/* "default": libssh's own lists. */
	{ "KexAlgorithms", KW_KEXALGORITHMS, T_ALGOS, GLOBAL, F(kex_algorithms), "default", 0, 0 },
	{ "Ciphers", KW_CIPHERS, T_ALGOS, GLOBAL, F(ciphers), "default", 0, 0 },
	{ "MACs", KW_MACS, T_ALGOS, GLOBAL, F(macs), "default", 0, 0 },
	{ "HostKeyAlgorithms", KW_HOSTKEYALGORITHMS, T_ALGOS, GLOBAL, F(hostkey_algorithms), "default", 0, 0 },
	/* Bytes only (sshd also takes suffixes and a time); 0: libssh's default. */
	{ "RekeyLimit", KW_REKEYLIMIT, T_UINT, GLOBAL, F(rekey_limit), "0", 0, 1u << 31 },
	{ "LoginGraceTime", KW_LOGINGRACETIME, T_TIME, GLOBAL, F(login_grace_time), "60", 0, TIME_MAX_S },
	{ "LogLevel", KW_LOGLEVEL, T_LOGLEVEL, GLOBAL, F(log_level), "INFO", 0, 0 },
	{ "PrivsepUser", KW_PRIVSEPUSER, T_USERNAME, GLOBAL, F(privsep_user), "sshand", 0, 0 },
	{ "PrivsepDirectory", KW_PRIVSEPDIRECTORY, T_ABSPATH, GLOBAL, F(privsep_directory), "/var/empty", 0, 0 },
	{ "AuditLog", KW_AUDITLOG, T_AUDITLOG, GLOBAL, F(audit_log), "journal", 0, 0 },
	{ "BanFile", KW_BANFILE, T_ABSPATH, GLOBAL, F(ban_file), "/var/lib/sshand/bans", 0, 0 },
	{ "BanMaxFailures", KW_BANMAXFAILURES, T_UINT, GLOBAL, F(ban_max_failures), "5", 0, 1000000 },
	{ "BanFindTime", KW_BANFINDTIME, T_TIME, GLOBAL, F(ban_find_time), "10m", 1, TIME_MAX_S },
	{ "BanTime", KW_BANTIME, T_TIME, GLOBAL, F(ban_time), "1h", 1, TIME_MAX_S },
	{ "BanTimeMax", KW_BANTIMEMAX, T_TIME, GLOBAL, F(ban_time_max), "1w", 1, TIME_MAX_S },
	{ "BanIPv6Prefix", KW_BANIPV6PREFIX, T_UINT, GLOBAL, F(ban_ipv6_prefix), "64", 1, 128 },
	{ "BanMaxEntries", KW_BANMAXENTRIES, T_UINT, GLOBAL, F(ban_max_entries), "65536", 16, 1u << 24 },
	{ "BanExempt", KW_BANEXEMPT, T_BANEXEMPT, GLOBAL, F(ban_exempt), NULL, 0, 0 },

	{ "PermitRootLogin", KW_PERMITROOTLOGIN, T_PERMITROOT, MATCH, F(permit_root_login), "no", 0, 0 },
	{ "PubkeyAuthentication", KW_PUBKEYAUTHENTICATION, T_FLAG, MATCH, F(pubkey_authentication), "yes", 0, 0 },
	{ "PasswordAuthentication", KW_PASSWORDAUTHENTICATION, T_FLAG, MATCH, F(password_authentication), "yes", 0, 0 },
	{ "KbdInteractiveAuthentication", KW_KBDINTERACTIVEAUTHENTICATION, T_FLAG, MATCH, F(kbd_interactive_authentication), "yes", 0, 0 },
	{ "PermitEmptyPasswords", KW_PERMITEMPTYPASSWORDS, T_FLAG, MATCH, F(permit_empty_passwords), "no", 0, 0 },
	{ "StrictModes", KW_STRICTMODES, T_FLAG, MATCH, F(strict_modes), "yes", 0, 0 },
	{ "PermitTTY", KW_PERMITTTY, T_FLAG, MATCH, F(permit_tty), "yes", 0, 0 },
	{ "PermitUserEnvironment", KW_PERMITUSERENVIRONMENT, T_FLAG, MATCH, F(permit_user_environment), "no", 0, 0 },
	{ "AllowTcpForwarding", KW_ALLOWTCPFORWARDING, T_FLAG, MATCH, F(allow_tcp_forwarding), "no", 0, 0 },
	{ "MaxAuthTries", KW_MAXAUTHTRIES, T_UINT, MATCH, F(max_auth_tries), "6", 1, 1000 },
	{ "Banner", KW_BANNER, T_BANNER, MATCH, F(banner), "none", 0, 0 },
	{ "AuthorizedKeysFile", KW_AUTHORIZEDKEYSFILE, T_AKFILES, MATCH, F(authorized_keys_files), ".ssh/authorized_keys", 0, 0 },
	{ "Subsystem", KW_SUBSYSTEM, T_SUBSYSTEM, MATCH, F(subsystems), NULL, 0, 0 },
	{ "AcceptEnv", KW_ACCEPTENV, T_ACCEPTENV, MATCH, F(accept_env), NULL, 0, 0 },
	{ "ForceCommand", KW_FORCECOMMAND, T_FORCECMD, MATCH, F(force_command), "none", 0, 0 },
	{ "SandboxProfile", KW_SANDBOXPROFILE, T_PROFILE, MATCH, F(sandbox_profile), "login", 0, 0 },
	/* None of its own: the SandboxProfile that applies (config_resolve). */
	{ "SubsystemSandboxProfile", KW_SUBSYSTEMSANDBOXPROFILE, T_PROFILE, MATCH, F(subsystem_sandbox_profile), NULL, 0, 0 },
	{ "SandboxAllowKeyrings", KW_SANDBOXALLOWKEYRINGS, T_FLAG, MATCH, F(sandbox_allow_keyrings), "no", 0, 0 },
	{ "MaxSessionProcs", KW_MAXSESSIONPROCS, T_UINT, MATCH, F(max_session_procs), "0", 0, PROCS_MAX },
	{ "MaxOpenFiles", KW_MAXOPENFILES, T_UINT, MATCH, F(max_open_files), "0", 0, FILES_MAX },
	{ "AllowCoreDumps", KW_ALLOWCOREDUMPS, T_FLAG, MATCH, F(allow_core_dumps), "no", 0, 0 },
};

/* Old spellings sshd still accepts, so existing habits keep working. */
static const struct {
	const char *alias;
	enum kw_id id;
} aliases[] = {
	{ "ChallengeResponseAuthentication", KW_KBDINTERACTIVEAUTHENTICATION },
};

const struct keyword *
keyword_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < KW__COUNT; i++)
		if (strcasecmp(name, keywords[i].name) == 0)
			return &keywords[i];
	for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcasecmp(name, aliases[i].alias) == 0)
			return &keywords[aliases[i].id];
	return NULL;
}

const struct keyword *
keyword_by_id(enum kw_id id)
{
	if ((unsigned)id >= KW__COUNT)
		return NULL;
	return &keywords[id];
}
