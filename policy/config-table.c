/* The keywords of sshand.conf, their types, bounds and where they live.
 * Order follows enum kw_id, which is also the order resolution applies. */
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
	{ "HostKey", KW_HOSTKEY, T_HOSTKEY, GLOBAL, false, F(host_keys), 0, 0 },
	{ "KexAlgorithms", KW_KEXALGORITHMS, T_ALGOS, GLOBAL, false, F(kex_algorithms), 0, 0 },
	{ "Ciphers", KW_CIPHERS, T_ALGOS, GLOBAL, false, F(ciphers), 0, 0 },
	{ "MACs", KW_MACS, T_ALGOS, GLOBAL, false, F(macs), 0, 0 },
	{ "HostKeyAlgorithms", KW_HOSTKEYALGORITHMS, T_ALGOS, GLOBAL, false, F(hostkey_algorithms), 0, 0 },
	/* Bytes only (sshd also takes suffixes and a time); 0: libssh's default. */
	{ "RekeyLimit", KW_REKEYLIMIT, T_UINT, GLOBAL, false, F(rekey_limit), 0, 1u << 31 },
	{ "LoginGraceTime", KW_LOGINGRACETIME, T_TIME, GLOBAL, false, F(login_grace_time), 0, TIME_MAX_S },
	{ "LogLevel", KW_LOGLEVEL, T_LOGLEVEL, GLOBAL, false, F(log_level), 0, 0 },
	{ "PrivsepUser", KW_PRIVSEPUSER, T_USERNAME, GLOBAL, false, F(privsep_user), 0, 0 },
	{ "PrivsepDirectory", KW_PRIVSEPDIRECTORY, T_ABSPATH, GLOBAL, false, F(privsep_directory), 0, 0 },
	{ "AuditLog", KW_AUDITLOG, T_AUDITLOG, GLOBAL, false, F(audit_log), 0, 0 },
	{ "BanFile", KW_BANFILE, T_ABSPATH, GLOBAL, false, F(ban_file), 0, 0 },
	{ "BanMaxFailures", KW_BANMAXFAILURES, T_UINT, GLOBAL, false, F(ban_max_failures), 0, 1000000 },
	{ "BanFindTime", KW_BANFINDTIME, T_TIME, GLOBAL, false, F(ban_find_time), 1, TIME_MAX_S },
	{ "BanTime", KW_BANTIME, T_TIME, GLOBAL, false, F(ban_time), 1, TIME_MAX_S },
	{ "BanTimeMax", KW_BANTIMEMAX, T_TIME, GLOBAL, false, F(ban_time_max), 1, TIME_MAX_S },
	{ "BanIPv6Prefix", KW_BANIPV6PREFIX, T_UINT, GLOBAL, false, F(ban_ipv6_prefix), 1, 128 },
	{ "BanMaxEntries", KW_BANMAXENTRIES, T_UINT, GLOBAL, false, F(ban_max_entries), 16, 1u << 24 },
	{ "BanExempt", KW_BANEXEMPT, T_BANEXEMPT, GLOBAL, true, F(ban_exempt), 0, 0 },

	{ "PermitRootLogin", KW_PERMITROOTLOGIN, T_PERMITROOT, MATCH, false, F(permit_root_login), 0, 0 },
	{ "PubkeyAuthentication", KW_PUBKEYAUTHENTICATION, T_FLAG, MATCH, false, F(pubkey_authentication), 0, 0 },
	{ "PasswordAuthentication", KW_PASSWORDAUTHENTICATION, T_FLAG, MATCH, false, F(password_authentication), 0, 0 },
	{ "KbdInteractiveAuthentication", KW_KBDINTERACTIVEAUTHENTICATION, T_FLAG, MATCH, false, F(kbd_interactive_authentication), 0, 0 },
	{ "PermitEmptyPasswords", KW_PERMITEMPTYPASSWORDS, T_FLAG, MATCH, false, F(permit_empty_passwords), 0, 0 },
	{ "StrictModes", KW_STRICTMODES, T_FLAG, MATCH, false, F(strict_modes), 0, 0 },
	{ "PermitTTY", KW_PERMITTTY, T_FLAG, MATCH, false, F(permit_tty), 0, 0 },
	{ "PermitUserEnvironment", KW_PERMITUSERENVIRONMENT, T_FLAG, MATCH, false, F(permit_user_environment), 0, 0 },
	{ "AllowTcpForwarding", KW_ALLOWTCPFORWARDING, T_FLAG, MATCH, false, F(allow_tcp_forwarding), 0, 0 },
	{ "MaxAuthTries", KW_MAXAUTHTRIES, T_UINT, MATCH, false, F(max_auth_tries), 1, 1000 },
	{ "Banner", KW_BANNER, T_BANNER, MATCH, false, F(banner), 0, 0 },
	{ "AuthorizedKeysFile", KW_AUTHORIZEDKEYSFILE, T_AKFILES, MATCH, true, F(authorized_keys_files), 0, 0 },
	{ "Subsystem", KW_SUBSYSTEM, T_SUBSYSTEM, MATCH, true, F(subsystems), 0, 0 },
	{ "AcceptEnv", KW_ACCEPTENV, T_ACCEPTENV, MATCH, true, F(accept_env), 0, 0 },
	{ "ForceCommand", KW_FORCECOMMAND, T_FORCECMD, MATCH, true, F(force_command), 0, 0 },
	{ "SandboxProfile", KW_SANDBOXPROFILE, T_PROFILE, MATCH, false, F(sandbox_profile), 0, 0 },
	{ "SubsystemSandboxProfile", KW_SUBSYSTEMSANDBOXPROFILE, T_PROFILE, MATCH, false, F(subsystem_sandbox_profile), 0, 0 },
	{ "SandboxAllowKeyrings", KW_SANDBOXALLOWKEYRINGS, T_FLAG, MATCH, false, F(sandbox_allow_keyrings), 0, 0 },
	{ "MaxSessionProcs", KW_MAXSESSIONPROCS, T_UINT, MATCH, false, F(max_session_procs), 0, PROCS_MAX },
	{ "MaxOpenFiles", KW_MAXOPENFILES, T_UINT, MATCH, false, F(max_open_files), 0, FILES_MAX },
	{ "AllowCoreDumps", KW_ALLOWCOREDUMPS, T_FLAG, MATCH, false, F(allow_core_dumps), 0, 0 },
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
