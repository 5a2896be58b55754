/* Reading resolved settings: the sshd -T style dump and the lookups the
 * handler needs. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy/config.h"
#include "policy/match.h"

static const char *
yesno(bool b)
{
	return b ? "yes" : "no";
}

static const char *
permit_root_name(enum permit_root v)
{
	switch (v) {
	case PERMIT_ROOT_NO: return "no";
	case PERMIT_ROOT_YES: return "yes";
	case PERMIT_ROOT_PROHIBIT_PASSWORD: return "prohibit-password";
	case PERMIT_ROOT_FORCED_COMMANDS_ONLY: return "forced-commands-only";
	}
	return "no";
}

static const char *
log_level_name(enum log_level l)
{
	switch (l) {
	case LOGLEVEL_QUIET: return "QUIET";
	case LOGLEVEL_FATAL: return "FATAL";
	case LOGLEVEL_ERROR: return "ERROR";
	case LOGLEVEL_INFO: return "INFO";
	case LOGLEVEL_VERBOSE: return "VERBOSE";
	case LOGLEVEL_DEBUG1: return "DEBUG1";
	case LOGLEVEL_DEBUG2: return "DEBUG2";
	case LOGLEVEL_DEBUG3: return "DEBUG3";
	}
	return "INFO";
}

static const char *
or_default(const char *s, const char *dflt)
{
	return s != NULL ? s : dflt;
}

static const char *
profile_name(enum sandbox_profile p)
{
	return or_default(sandbox_profile_name(p), "login");
}

static void
dump_list(FILE *f, const char *kw, const struct strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		fprintf(f, "%s %s\n", kw, l->v[i]);
}

/* Values are printed as stored: the dump is for operators and tests, and
 * every stored value was validated at load time (no newlines). */
int
settings_dump(const struct settings *s, FILE *f)
{
	size_t i;

	if (s == NULL || f == NULL)
		return -EINVAL;
	dump_list(f, "hostkey", &s->host_keys);
	/* NULL means libssh's own defaults. */
	fprintf(f, "kexalgorithms %s\n", or_default(s->kex_algorithms, "default"));
	fprintf(f, "ciphers %s\n", or_default(s->ciphers, "default"));
	fprintf(f, "macs %s\n", or_default(s->macs, "default"));
	fprintf(f, "hostkeyalgorithms %s\n", or_default(s->hostkey_algorithms, "default"));
	fprintf(f, "rekeylimit %u\n", s->rekey_limit);
	fprintf(f, "logingracetime %u\n", s->login_grace_time);
	fprintf(f, "loglevel %s\n", log_level_name(s->log_level));
	fprintf(f, "privsepuser %s\n", or_default(s->privsep_user, "none"));
	fprintf(f, "privsepdirectory %s\n", or_default(s->privsep_directory, "none"));
	fprintf(f, "auditlog %s\n", or_default(s->audit_log, "journal"));
	fprintf(f, "banfile %s\n", or_default(s->ban_file, "none"));
	fprintf(f, "banmaxfailures %u\n", s->ban_max_failures);
	fprintf(f, "banfindtime %u\n", s->ban_find_time);
	fprintf(f, "bantime %u\n", s->ban_time);
	fprintf(f, "bantimemax %u\n", s->ban_time_max);
	fprintf(f, "banipv6prefix %u\n", s->ban_ipv6_prefix);
	fprintf(f, "banmaxentries %u\n", s->ban_max_entries);
	dump_list(f, "banexempt", &s->ban_exempt);

	fprintf(f, "permitrootlogin %s\n", permit_root_name(s->permit_root_login));
	fprintf(f, "pubkeyauthentication %s\n", yesno(s->pubkey_authentication));
	fprintf(f, "passwordauthentication %s\n", yesno(s->password_authentication));
	fprintf(f, "kbdinteractiveauthentication %s\n",
	    yesno(s->kbd_interactive_authentication));
	fprintf(f, "permitemptypasswords %s\n", yesno(s->permit_empty_passwords));
	fprintf(f, "strictmodes %s\n", yesno(s->strict_modes));
	fprintf(f, "permittty %s\n", yesno(s->permit_tty));
	fprintf(f, "permituserenvironment %s\n", yesno(s->permit_user_environment));
	fprintf(f, "allowtcpforwarding %s\n", yesno(s->allow_tcp_forwarding));
	fprintf(f, "maxauthtries %u\n", s->max_auth_tries);
	fprintf(f, "banner %s\n", or_default(s->banner, "none"));
	if (s->authorized_keys_files.n == 0)
		fprintf(f, "authorizedkeysfile none\n");
	else {
		fprintf(f, "authorizedkeysfile");
		for (i = 0; i < s->authorized_keys_files.n; i++)
			fprintf(f, " %s", s->authorized_keys_files.v[i]);
		fprintf(f, "\n");
	}
	for (i = 0; i < s->n_subsystems; i++)
		fprintf(f, "subsystem %s %s\n", s->subsystems[i].name,
		    s->subsystems[i].command);
	dump_list(f, "acceptenv", &s->accept_env);
	fprintf(f, "forcecommand %s\n", or_default(s->force_command, "none"));
	fprintf(f, "sandboxprofile %s\n", profile_name(s->sandbox_profile));
	fprintf(f, "subsystemsandboxprofile %s\n",
	    profile_name(s->subsystem_sandbox_profile));
	fprintf(f, "sandboxallowkeyrings %s\n", yesno(s->sandbox_allow_keyrings));
	fprintf(f, "maxsessionprocs %u\n", s->max_session_procs);
	fprintf(f, "maxopenfiles %u\n", s->max_open_files);
	fprintf(f, "allowcoredumps %s\n", yesno(s->allow_core_dumps));
	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	return 0;
}

const char *
settings_subsystem(const struct settings *s, const char *name)
{
	size_t i;

	if (s == NULL || name == NULL)
		return NULL;
	for (i = 0; i < s->n_subsystems; i++)
		if (strcmp(s->subsystems[i].name, name) == 0)
			return s->subsystems[i].command;
	return NULL;
}

bool
settings_accept_env(const struct settings *s, const char *name)
{
	size_t i;

	if (s == NULL || name == NULL || *name == '\0')
		return false;
	for (i = 0; i < s->accept_env.n; i++)
		if (match_pattern(name, s->accept_env.v[i]))
			return true;
	return false;
}
