/* Unit tests for policy/config*.c: every keyword, every error class with
 * its exact message, Match resolution and precedence, the lexer (quotes,
 * Keyword=value, comments), parse_time, the lookups and the -T dump, and
 * the parser's bounds (long lines, big files). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "policy/algorithms.h"
#include "policy/config.h"
#include "policy/forward.h"

static char dir[] = "/tmp/test_config.XXXXXX";
static char path[PATH_MAX];
static unsigned n_files;

/* ---------------------------------------------------------------- */
/* Helpers */

/* Each config gets its own file so a failure names a distinct path. */
static const char *
write_conf_len(const char *text, size_t len)
{
	FILE *f;

	snprintf(path, sizeof(path), "%s/c%u.conf", dir, n_files++);
	f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

static const char *
write_conf(const char *text)
{
	return write_conf_len(text, strlen(text));
}

static struct config *
load_ok(const char *text)
{
	struct config *cfg = NULL;
	char err[512] = "";
	int r;

	r = config_load(write_conf(text), &cfg, err, sizeof(err));
	if (r != 0)
		fail_msg("config_load: %d: %s\n--- config:\n%.1000s", r, err, text);
	assert_non_null(cfg);
	return cfg;
}

/* want is "LINE: message"; the path prefix is checked too. */
static void
load_err(const char *text, const char *want)
{
	struct config *cfg = (struct config *)0x1;
	char err[512] = "", full[PATH_MAX + 512];
	int r;

	r = config_load(write_conf(text), &cfg, err, sizeof(err));
	snprintf(full, sizeof(full), "%s:%s", path, want);
	if (r != -EINVAL || strcmp(err, full) != 0)
		fail_msg("config:\n%.1000s\nwant %d \"%s\"\ngot  %d \"%s\"", text,
		    -EINVAL, full, r, err);
	/* Outputs untouched on failure. */
	assert_ptr_equal(cfg, (struct config *)0x1);
}

static struct settings *
resolve(const struct config *cfg, const char *user,
    const char *const *groups, size_t n_groups, const char *addr)
{
	struct match_ctx ctx = {
		.user = user, .groups = groups, .n_groups = n_groups,
		.addr = addr,
	};
	struct settings *s = NULL;

	assert_int_equal(config_resolve(cfg, &ctx, &s), 0);
	assert_non_null(s);
	return s;
}

static struct settings *
resolve_global(const char *text, struct config **ret_cfg)
{
	struct config *cfg = load_ok(text);
	struct settings *s = NULL;

	assert_int_equal(config_resolve(cfg, NULL, &s), 0);
	*ret_cfg = cfg;
	return s;
}

static char *
dump(const struct settings *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(settings_dump(s, f), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void
assert_dump_has(const char *d, const char *line)
{
	char want[1024];

	snprintf(want, sizeof(want), "%s\n", line);
	if (strncmp(d, want, strlen(want)) != 0) {
		snprintf(want, sizeof(want), "\n%s\n", line);
		if (strstr(d, want) == NULL)
			fail_msg("dump lacks \"%s\":\n%s", line, d);
	}
}

static void
assert_list(const struct strlist *l, size_t n, ...)
{
	va_list ap;
	size_t i;

	assert_int_equal(l->n, n);
	va_start(ap, n);
	for (i = 0; i < n; i++)
		assert_string_equal(l->v[i], va_arg(ap, const char *));
	va_end(ap);
}

static int documented_defaults_make(void);

static int
setup(void **state)
{
	(void)state;
	if (documented_defaults_make() < 0)
		return -1;
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	struct dirent *e;
	DIR *d;

	(void)state;
	d = opendir(dir);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) < 0)
			unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
	}
	closedir(d);
	return rmdir(dir);
}

/* ---------------------------------------------------------------- */
/* Keywords */

static void
test_defaults(void **state)
{
	struct config *cfg;
	struct settings *s;

	(void)state;
	s = resolve_global("# nothing but a comment\n\n   \t\n", &cfg);
	assert_list(&s->host_keys, 3, "/etc/sshand/ssh_host_ed25519_key",
	    "/etc/sshand/ssh_host_ecdsa_key", "/etc/sshand/ssh_host_rsa_key");
	assert_null(s->kex_algorithms);
	assert_null(s->ciphers);
	assert_null(s->macs);
	assert_null(s->hostkey_algorithms);
	assert_int_equal(s->login_grace_time, 60);
	assert_int_equal(s->log_level, LOGLEVEL_INFO);
	assert_string_equal(s->privsep_user, "sshand");
	assert_string_equal(s->privsep_directory, "/var/empty");
	assert_string_equal(s->audit_log, "journal");
	assert_string_equal(s->ban_file, "/var/lib/sshand/bans");
	assert_int_equal(s->ban_max_failures, 5);
	assert_int_equal(s->ban_find_time, 600);
	assert_int_equal(s->ban_time, 3600);
	assert_int_equal(s->ban_time_max, 7 * 86400);
	assert_int_equal(s->ban_ipv6_prefix, 64);
	assert_int_equal(s->ban_max_entries, 65536);
	assert_int_equal(s->ban_exempt.n, 0);
	assert_true(s->print_motd);
	assert_true(s->print_lastlog);
	assert_int_equal(s->permit_root_login, PERMIT_ROOT_NO);
	assert_true(s->pubkey_authentication);
	assert_true(s->password_authentication);
	assert_true(s->kbd_interactive_authentication);
	assert_false(s->permit_empty_passwords);
	assert_true(s->strict_modes);
	assert_true(s->permit_tty);
	assert_false(s->permit_user_environment);
	/* Forwarding: sshd's defaults. */
	assert_int_equal(s->allow_tcp_forwarding, FWD_LOCAL | FWD_REMOTE);
	assert_int_equal(s->allow_streamlocal_forwarding, FWD_LOCAL | FWD_REMOTE);
	assert_true(s->allow_agent_forwarding);
	assert_false(s->x11_forwarding);
	assert_int_equal(s->x11_display_offset, 10);
	assert_true(s->x11_use_localhost);
	assert_false(s->disable_forwarding);
	assert_int_equal(s->gateway_ports, GATEWAY_NO);
	assert_int_equal(s->permit_open.n, 0);
	assert_int_equal(s->permit_listen.n, 0);
	assert_int_equal(s->max_auth_tries, 6);
	assert_null(s->banner);
	assert_list(&s->authorized_keys_files, 1, ".ssh/authorized_keys");
	assert_int_equal(s->n_subsystems, 0);
	assert_int_equal(s->accept_env.n, 0);
	assert_null(s->force_command);
	assert_int_equal(s->sandbox_profile, SANDBOX_LOGIN);
	/* Not set: as SandboxProfile, resolved. */
	assert_int_equal(s->subsystem_sandbox_profile, SANDBOX_LOGIN);
	assert_false(s->sandbox_allow_keyrings);
	assert_int_equal(s->max_session_procs, 0);
	assert_int_equal(s->max_open_files, 0);
	assert_false(s->allow_core_dumps);
	settings_free(s);
	config_free(cfg);
}

static const char every_keyword[] =
    "HostKey /k/ed25519\n"
    "HostKey /k/rsa\n"
    "KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org\n"
    "Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com\n"
    "MACs hmac-sha2-256-etm@openssh.com\n"
    "HostKeyAlgorithms ssh-ed25519,rsa-sha2-512\n"
    "LoginGraceTime 2m\n"
    "LogLevel VERBOSE\n"
    "PrivsepUser _sshand-priv\n"
    "PrivsepDirectory /run/sshand/empty\n"
    "AuditLog /var/log/sshand/audit.jsonl\n"
    "BanFile /srv/bans\n"
    "BanMaxFailures 0\n"
    "BanFindTime 1h\n"
    "BanTime 2h\n"
    "BanTimeMax 4w\n"
    "BanIPv6Prefix 48\n"
    "BanMaxEntries 1024\n"
    "BanExempt 10.0.0.0/8 192.168.0.0/16,::1\n"
    "BanExempt 2001:db8::/32\n"
    "PrintMotd no\n"
    "PrintLastLog no\n"
    "PermitRootLogin prohibit-password\n"
    "PubkeyAuthentication no\n"
    "PasswordAuthentication no\n"
    "KbdInteractiveAuthentication no\n"
    "PermitEmptyPasswords yes\n"
    "StrictModes no\n"
    "PermitTTY no\n"
    "PermitUserEnvironment yes\n"
    "AllowTcpForwarding local\n"
    "AllowStreamLocalForwarding remote\n"
    "StreamLocalBindMask 117\n"
    "StreamLocalBindUnlink yes\n"
    "AllowAgentForwarding no\n"
    "X11Forwarding yes\n"
    "X11DisplayOffset 20\n"
    "X11UseLocalhost no\n"
    "DisableForwarding yes\n"
    "GatewayPorts clientspecified\n"
    "PermitOpen localhost:80 [::1]:* *:443 db.example.com:5432\n"
    "PermitListen 8080 localhost:* [::1]:2222 *.example.com:9000\n"
    "MaxAuthTries 3\n"
    "Banner /etc/issue.net\n"
    "AuthorizedKeysFile .ssh/authorized_keys /etc/keys/%u %h/.ssh/ak2 /k/100%%\n"
    "AuthorizedKeysCommand /usr/lib/keys \"%u x\" %f  %%\n"
    "AuthorizedKeysCommandUser keys_lookup\n"
    "Subsystem sftp /usr/lib/openssh/sftp-server -f AUTHPRIV -l INFO\n"
    "Subsystem hello echo hello world\n"
    "AcceptEnv LANG LC_*\n"
    "AcceptEnv TZ\n"
    "ForceCommand /usr/bin/logger -t forced \"$SSH_ORIGINAL_COMMAND\"\n"
    "SandboxProfile strict\n"
    "SubsystemSandboxProfile none\n"
    "SandboxAllowKeyrings yes\n"
    "MaxSessionProcs 200\n"
    "MaxOpenFiles 4096\n"
    "AllowCoreDumps yes\n";

static void
test_every_keyword(void **state)
{
	struct config *cfg;
	struct settings *s;

	(void)state;
	s = resolve_global(every_keyword, &cfg);
	assert_list(&s->host_keys, 2, "/k/ed25519", "/k/rsa");
	assert_string_equal(s->kex_algorithms,
	    "curve25519-sha256,curve25519-sha256@libssh.org");
	assert_string_equal(s->ciphers,
	    "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com");
	assert_string_equal(s->macs, "hmac-sha2-256-etm@openssh.com");
	assert_string_equal(s->hostkey_algorithms, "ssh-ed25519,rsa-sha2-512");
	assert_int_equal(s->login_grace_time, 120);
	assert_int_equal(s->log_level, LOGLEVEL_VERBOSE);
	assert_string_equal(s->privsep_user, "_sshand-priv");
	assert_string_equal(s->privsep_directory, "/run/sshand/empty");
	assert_string_equal(s->audit_log, "/var/log/sshand/audit.jsonl");
	assert_string_equal(s->ban_file, "/srv/bans");
	assert_int_equal(s->ban_max_failures, 0);
	assert_int_equal(s->ban_find_time, 3600);
	assert_int_equal(s->ban_time, 7200);
	assert_int_equal(s->ban_time_max, 4 * 7 * 86400);
	assert_int_equal(s->ban_ipv6_prefix, 48);
	assert_int_equal(s->ban_max_entries, 1024);
	assert_list(&s->ban_exempt, 4, "10.0.0.0/8", "192.168.0.0/16", "::1",
	    "2001:db8::/32");
	assert_false(s->print_motd);
	assert_false(s->print_lastlog);
	assert_int_equal(s->permit_root_login, PERMIT_ROOT_PROHIBIT_PASSWORD);
	assert_false(s->pubkey_authentication);
	assert_false(s->password_authentication);
	assert_false(s->kbd_interactive_authentication);
	assert_true(s->permit_empty_passwords);
	assert_false(s->strict_modes);
	assert_false(s->permit_tty);
	assert_true(s->permit_user_environment);
	assert_int_equal(s->allow_tcp_forwarding, FWD_LOCAL);
	assert_int_equal(s->allow_streamlocal_forwarding, FWD_REMOTE);
	assert_false(s->allow_agent_forwarding);
	assert_true(s->x11_forwarding);
	assert_int_equal(s->x11_display_offset, 20);
	assert_false(s->x11_use_localhost);
	assert_true(s->disable_forwarding);
	assert_int_equal(s->gateway_ports, GATEWAY_CLIENTSPECIFIED);
	assert_list(&s->permit_open, 4, "localhost:80", "[::1]:*", "*:443",
	    "db.example.com:5432");
	/* A bare port is any host, written as sshd -T writes it. */
	assert_list(&s->permit_listen, 4, "*:8080", "localhost:*", "[::1]:2222",
	    "*.example.com:9000");
	assert_int_equal(s->max_auth_tries, 3);
	assert_string_equal(s->banner, "/etc/issue.net");
	assert_list(&s->authorized_keys_files, 4, ".ssh/authorized_keys",
	    "/etc/keys/%u", "%h/.ssh/ak2", "/k/100%%");
	/* The command line as written: split when it runs. */
	assert_string_equal(s->authorized_keys_command,
	    "/usr/lib/keys \"%u x\" %f  %%");
	assert_string_equal(s->authorized_keys_command_user, "keys_lookup");
	assert_int_equal(s->n_subsystems, 2);
	assert_string_equal(s->subsystems[0].name, "sftp");
	assert_string_equal(s->subsystems[0].command,
	    "/usr/lib/openssh/sftp-server -f AUTHPRIV -l INFO");
	assert_string_equal(s->subsystems[1].name, "hello");
	assert_string_equal(s->subsystems[1].command, "echo hello world");
	assert_list(&s->accept_env, 3, "LANG", "LC_*", "TZ");
	assert_string_equal(s->force_command,
	    "/usr/bin/logger -t forced \"$SSH_ORIGINAL_COMMAND\"");
	assert_int_equal(s->sandbox_profile, SANDBOX_STRICT);
	assert_int_equal(s->subsystem_sandbox_profile, SANDBOX_NONE);
	assert_true(s->sandbox_allow_keyrings);
	assert_int_equal(s->max_session_procs, 200);
	assert_int_equal(s->max_open_files, 4096);
	assert_true(s->allow_core_dumps);
	settings_free(s);
	config_free(cfg);
}

/* The other spellings each enumerated keyword accepts. */
static void
test_value_spellings(void **state)
{
	static const struct {
		const char *text;
		enum permit_root v;
	} roots[] = {
		{ "PermitRootLogin yes\n", PERMIT_ROOT_YES },
		{ "PermitRootLogin NO\n", PERMIT_ROOT_NO },
		{ "PermitRootLogin without-password\n", PERMIT_ROOT_PROHIBIT_PASSWORD },
		{ "PermitRootLogin forced-commands-only\n", PERMIT_ROOT_FORCED_COMMANDS_ONLY },
	};
	static const struct {
		const char *text;
		enum log_level v;
	} levels[] = {
		{ "LogLevel QUIET\n", LOGLEVEL_QUIET },
		{ "LogLevel fatal\n", LOGLEVEL_FATAL },
		{ "LogLevel Error\n", LOGLEVEL_ERROR },
		{ "LogLevel DEBUG\n", LOGLEVEL_DEBUG1 },
		{ "LogLevel DEBUG1\n", LOGLEVEL_DEBUG1 },
		{ "LogLevel DEBUG2\n", LOGLEVEL_DEBUG2 },
		{ "LogLevel debug3\n", LOGLEVEL_DEBUG3 },
	};
	struct config *cfg;
	struct settings *s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		s = resolve_global(roots[i].text, &cfg);
		assert_int_equal(s->permit_root_login, roots[i].v);
		settings_free(s);
		config_free(cfg);
	}
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		s = resolve_global(levels[i].text, &cfg);
		assert_int_equal(s->log_level, levels[i].v);
		settings_free(s);
		config_free(cfg);
	}
	/* Keywords and yes/no are case-insensitive; the old name for
	 * keyboard-interactive still works; profiles are folded. */
	s = resolve_global("pErMiTtTy NO\nCHALLENGERESPONSEAUTHENTICATION no\n"
	    "AuditLog syslog\nBanner none\nSandboxProfile NONE\n"
	    "SubsystemSandboxProfile Login\nAuthorizedKeysFile none\n"
	    "ForceCommand none\n", &cfg);
	assert_false(s->permit_tty);
	assert_false(s->kbd_interactive_authentication);
	assert_string_equal(s->audit_log, "syslog");
	assert_null(s->banner);
	assert_int_equal(s->sandbox_profile, SANDBOX_NONE);
	assert_int_equal(s->subsystem_sandbox_profile, SANDBOX_LOGIN);
	assert_int_equal(s->authorized_keys_files.n, 0);
	assert_null(s->force_command);
	settings_free(s);
	config_free(cfg);
	/* Profile names in any case; -T prints sandbox/profile.c's name. */
	s = resolve_global("SandboxProfile StRiCt\n", &cfg);
	assert_int_equal(s->sandbox_profile, SANDBOX_STRICT);
	assert_int_equal(s->subsystem_sandbox_profile, SANDBOX_STRICT);
	{
		char *d = dump(s);

		assert_dump_has(d, "sandboxprofile strict");
		assert_dump_has(d, "subsystemsandboxprofile strict");
		free(d);
	}
	settings_free(s);
	config_free(cfg);
	/* "default" (as -T prints an unset list) means sshand's own list,
	 * and still counts as the first occurrence. */
	s = resolve_global("Ciphers default\nCiphers aes128-ctr\n"
	    "KexAlgorithms default\nMACs default\nHostKeyAlgorithms default\n",
	    &cfg);
	assert_null(s->ciphers);
	assert_null(s->kex_algorithms);
	assert_null(s->macs);
	assert_null(s->hostkey_algorithms);
	settings_free(s);
	config_free(cfg);
	/* Forwarding's words, in any case, as sshd reads them. */
	{
		static const struct {
			const char *word;
			unsigned v;
		} masks[] = {
			{ "yes", FWD_LOCAL | FWD_REMOTE },
			{ "ALL", FWD_LOCAL | FWD_REMOTE },
			{ "no", 0 },
			{ "Local", FWD_LOCAL },
			{ "remote", FWD_REMOTE },
		};
		static const struct {
			const char *word;
			enum gateway_ports v;
		} gws[] = {
			{ "no", GATEWAY_NO },
			{ "Yes", GATEWAY_YES },
			{ "ClientSpecified", GATEWAY_CLIENTSPECIFIED },
		};
		char text[256];

		for (i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
			snprintf(text, sizeof(text), "AllowTcpForwarding %s\n"
			    "AllowStreamLocalForwarding %s\n", masks[i].word,
			    masks[i].word);
			s = resolve_global(text, &cfg);
			assert_int_equal(s->allow_tcp_forwarding, masks[i].v);
			assert_int_equal(s->allow_streamlocal_forwarding,
			    masks[i].v);
			settings_free(s);
			config_free(cfg);
		}
		for (i = 0; i < sizeof(gws) / sizeof(gws[0]); i++) {
			snprintf(text, sizeof(text), "GatewayPorts %s\n",
			    gws[i].word);
			s = resolve_global(text, &cfg);
			assert_int_equal(s->gateway_ports, gws[i].v);
			settings_free(s);
			config_free(cfg);
		}
	}
	/* PermitOpen and PermitListen: "any" is the empty list, "none" a
	 * list of that word; ports are written back in decimal. */
	s = resolve_global("PermitOpen any\nPermitListen none\n", &cfg);
	assert_int_equal(s->permit_open.n, 0);
	assert_list(&s->permit_listen, 1, "none");
	settings_free(s);
	config_free(cfg);
	s = resolve_global("PermitOpen none\nPermitListen any\n", &cfg);
	assert_list(&s->permit_open, 1, "none");
	assert_int_equal(s->permit_listen.n, 0);
	settings_free(s);
	config_free(cfg);
	s = resolve_global("PermitOpen host:0022 [2001:db8::1]:65535 :1 *:*\n"
	    "PermitListen * 0.0.0.0:1 [fe80::1%eth0]:80 :9\n", &cfg);
	assert_list(&s->permit_open, 4, "host:22", "[2001:db8::1]:65535", ":1",
	    "*:*");
	assert_list(&s->permit_listen, 4, "*:*", "0.0.0.0:1",
	    "[fe80::1%eth0]:80", ":9");
	settings_free(s);
	config_free(cfg);
	/* Bounds are inclusive. */
	s = resolve_global("MaxAuthTries 1000\nBanIPv6Prefix 128\n"
	    "BanMaxEntries 16\nLoginGraceTime 0\nMaxSessionProcs 4194304\n"
	    "BanMaxFailures 1000000\nBanTime 1\nBanTimeMax 1\nBanFindTime 1s\n",
	    &cfg);
	assert_int_equal(s->max_auth_tries, 1000);
	assert_int_equal(s->ban_ipv6_prefix, 128);
	assert_int_equal(s->ban_max_entries, 16);
	assert_int_equal(s->login_grace_time, 0);
	assert_int_equal(s->max_session_procs, 4194304);
	assert_int_equal(s->ban_max_failures, 1000000);
	assert_int_equal(s->ban_time, 1);
	assert_int_equal(s->ban_time_max, 1);
	assert_int_equal(s->ban_find_time, 1);
	settings_free(s);
	config_free(cfg);
}

/* ---------------------------------------------------------------- */
/* Errors */

static const struct {
	const char *text;
	const char *want;
} bad_configs[] = {
	/* unknown keyword */
	{ "PermitTTY yes\nFrobnicate yes\n", "2: unknown keyword \"Frobnicate\"" },
	/* FreeBSD's sshd has it; OpenSSH does not. */
	{ "UseBlacklist yes\n", "1: unknown keyword \"UseBlacklist\"" },
	{ "=yes\n", "1: missing keyword" },
	/* AuthorizedKeysCommand: as sshd runs it, and never without a
	 * user to run it as; the refusal names the line that leaves it
	 * without one. */
	{ "AuthorizedKeysCommand keys %u\nAuthorizedKeysCommandUser nobody\n",
	    "1: AuthorizedKeysCommand \"keys %u\": the command must be an "
	    "absolute path" },
	{ "AuthorizedKeysCommand /k %x\nAuthorizedKeysCommandUser nobody\n",
	    "1: AuthorizedKeysCommand \"/k %x\": unknown token: "
	    "the command expands %%, %C, %D, %f, %h, %i, %k, %s, %t, %U "
	    "and %u" },
	{ "AuthorizedKeysCommand /k 100%\nAuthorizedKeysCommandUser nobody\n",
	    "1: AuthorizedKeysCommand \"/k 100%\": unknown token: "
	    "the command expands %%, %C, %D, %f, %h, %i, %k, %s, %t, %U "
	    "and %u" },
	{ "AuthorizedKeysCommand /k 'x\nAuthorizedKeysCommandUser nobody\n",
	    "1: AuthorizedKeysCommand \"/k 'x\": a quote is not closed" },
	{ "AuthorizedKeysCommand\n",
	    "1: missing argument for \"AuthorizedKeysCommand\"" },
	{ "PermitTTY yes\nAuthorizedKeysCommand /k %u\n",
	    "2: AuthorizedKeysCommand needs AuthorizedKeysCommandUser (the user "
	    "it runs as)" },
	{ "AuthorizedKeysCommand /k %u\nAuthorizedKeysCommandUser nobody\n"
	    "Match User a\n\tAuthorizedKeysCommandUser none\n",
	    "4: AuthorizedKeysCommandUser none leaves AuthorizedKeysCommand "
	    "without a user to run as" },
	{ "Match User a\n\tAuthorizedKeysCommand /k %u\n",
	    "2: AuthorizedKeysCommand needs AuthorizedKeysCommandUser (the user "
	    "it runs as) in this Match block or the global section" },
	{ "AuthorizedKeysCommandUser root\n", "1: \"AuthorizedKeysCommandUser\" "
	    "needs a user name other than root, or none, not \"root\"" },
	{ "AuthorizedKeysCommandUser bad/name\n", "1: \"AuthorizedKeysCommandUser\" "
	    "needs a user name other than root, or none, not \"bad/name\"" },
	/* yes/no */
	{ "PermitTTY maybe\n", "1: bad yes/no value \"maybe\" for \"PermitTTY\"" },
	{ "StrictModes 1\n", "1: bad yes/no value \"1\" for \"StrictModes\"" },
	{ "permittty true\n", "1: bad yes/no value \"true\" for \"PermitTTY\"" },
	/* numbers */
	{ "MaxAuthTries 12x\n", "1: bad number \"12x\" for \"MaxAuthTries\"" },
	/* octal masks, as sshd reads them (base 8, at most 0777) */
	{ "StreamLocalBindMask 0999\n", "1: bad octal mode \"0999\" for "
	    "\"StreamLocalBindMask\"" },
	{ "StreamLocalBindMask 0x1f\n", "1: bad octal mode \"0x1f\" for "
	    "\"StreamLocalBindMask\"" },
	{ "StreamLocalBindMask -1\n", "1: bad octal mode \"-1\" for "
	    "\"StreamLocalBindMask\"" },
	{ "StreamLocalBindMask 01000\n", "1: value \"01000\" for "
	    "\"StreamLocalBindMask\" out of range (0000..0777)" },
	/* 4 << 33 | 0177: 36 bits, which must not wrap into range. */
	{ "StreamLocalBindMask 040000000177\n", "1: value \"040000000177\" for "
	    "\"StreamLocalBindMask\" out of range (0000..0777)" },
	{ "StreamLocalBindUnlink maybe\n", "1: bad yes/no value \"maybe\" for "
	    "\"StreamLocalBindUnlink\"" },
	{ "MaxAuthTries -1\n", "1: bad number \"-1\" for \"MaxAuthTries\"" },
	{ "MaxAuthTries 0x10\n", "1: bad number \"0x10\" for \"MaxAuthTries\"" },
	{ "MaxAuthTries 0\n", "1: value \"0\" for \"MaxAuthTries\" out of range (1..1000)" },
	{ "MaxAuthTries 1001\n", "1: value \"1001\" for \"MaxAuthTries\" out of range (1..1000)" },
	{ "MaxAuthTries 99999999999999999999\n",
	    "1: value \"99999999999999999999\" for \"MaxAuthTries\" out of range (1..1000)" },
	{ "BanIPv6Prefix 0\n", "1: value \"0\" for \"BanIPv6Prefix\" out of range (1..128)" },
	{ "BanIPv6Prefix 129\n", "1: value \"129\" for \"BanIPv6Prefix\" out of range (1..128)" },
	{ "BanMaxEntries 15\n", "1: value \"15\" for \"BanMaxEntries\" out of range (16..16777216)" },
	{ "BanMaxFailures 1000001\n",
	    "1: value \"1000001\" for \"BanMaxFailures\" out of range (0..1000000)" },
	{ "MaxSessionProcs 4194305\n",
	    "1: value \"4194305\" for \"MaxSessionProcs\" out of range (0..4194304)" },
	{ "MaxOpenFiles 1073741825\n",
	    "1: value \"1073741825\" for \"MaxOpenFiles\" out of range (0..1073741824)" },
	/* times */
	{ "LoginGraceTime 5x\n", "1: bad time \"5x\" for \"LoginGraceTime\"" },
	{ "LoginGraceTime 1.5h\n", "1: bad time \"1.5h\" for \"LoginGraceTime\"" },
	{ "BanTime h\n", "1: bad time \"h\" for \"BanTime\"" },
	{ "BanTime 99999999999\n", "1: bad time \"99999999999\" for \"BanTime\"" },
	{ "BanTime 0\n", "1: value \"0\" for \"BanTime\" out of range (1..2147483647)" },
	{ "BanFindTime 0s\n", "1: value \"0s\" for \"BanFindTime\" out of range (1..2147483647)" },
	{ "BanTime 2h\nBanTimeMax 1h\n", "2: BanTimeMax (3600 s) is shorter than BanTime (7200 s)" },
	{ "BanTimeMax 1h\nBanTime 2h\n", "2: BanTimeMax (3600 s) is shorter than BanTime (7200 s)" },
	{ "BanTime 2w\n", "1: BanTimeMax (604800 s) is shorter than BanTime (1209600 s)" },
	/* other enumerations and strings */
	{ "PermitRootLogin sometimes\n", "1: bad value \"sometimes\" for \"PermitRootLogin\"" },
	/* forwarding */
	{ "AllowTcpForwarding both\n", "1: bad value \"both\" for \"AllowTcpForwarding\"" },
	{ "AllowStreamLocalForwarding 1\n",
	    "1: bad value \"1\" for \"AllowStreamLocalForwarding\"" },
	{ "AllowAgentForwarding local\n",
	    "1: bad yes/no value \"local\" for \"AllowAgentForwarding\"" },
	{ "DisableForwarding all\n", "1: bad yes/no value \"all\" for \"DisableForwarding\"" },
	{ "GatewayPorts local\n", "1: bad value \"local\" for \"GatewayPorts\"" },
	{ "X11DisplayOffset 1001\n",
	    "1: value \"1001\" for \"X11DisplayOffset\" out of range (0..1000)" },
	{ "PermitOpen localhost\n", "1: bad entry \"localhost\" for \"PermitOpen\" "
	    "(host:port or [address]:port, port a number or *)" },
	{ "PermitOpen 80\n", "1: bad entry \"80\" for \"PermitOpen\" "
	    "(host:port or [address]:port, port a number or *)" },
	{ "PermitOpen host:0\n", "1: bad entry \"host:0\" for \"PermitOpen\" "
	    "(host:port or [address]:port, port a number or *)" },
	{ "PermitOpen host:65536\n", "1: bad entry \"host:65536\" for \"PermitOpen\" "
	    "(host:port or [address]:port, port a number or *)" },
	{ "PermitOpen host:ssh\n", "1: bad entry \"host:ssh\" for \"PermitOpen\" "
	    "(host:port or [address]:port, port a number or *)" },
	{ "PermitOpen host/22\n", "1: bad entry \"host/22\" for \"PermitOpen\" "
	    "(host:port or [address]:port, port a number or *)" },
	{ "PermitOpen ::1:22\n", "1: bad entry \"::1:22\" for \"PermitOpen\" "
	    "(host:port or [address]:port, port a number or *)" },
	{ "PermitOpen [::1:22\n", "1: bad entry \"[::1:22\" for \"PermitOpen\" "
	    "(host:port or [address]:port, port a number or *)" },
	{ "PermitOpen [::1]22\n", "1: bad entry \"[::1]22\" for \"PermitOpen\" "
	    "(host:port or [address]:port, port a number or *)" },
	{ "PermitOpen a:1 b:+2\n", "1: bad entry \"b:+2\" for \"PermitOpen\" "
	    "(host:port or [address]:port, port a number or *)" },
	{ "PermitOpen \"a b:1\"\n", "1: bad entry \"a b:1\" for \"PermitOpen\" "
	    "(host:port or [address]:port, port a number or *)" },
	{ "PermitOpen any a:1\n", "1: \"any\" must be alone on a \"PermitOpen\" line" },
	{ "PermitOpen a:1 none\n", "1: \"none\" must be alone on a \"PermitOpen\" line" },
	{ "PermitListen 0\n", "1: bad entry \"0\" for \"PermitListen\" "
	    "([host:]port, port a number or *)" },
	{ "PermitListen localhost\n", "1: bad entry \"localhost\" for \"PermitListen\" "
	    "([host:]port, port a number or *)" },
	{ "PermitListen ::1\n", "1: bad entry \"::1\" for \"PermitListen\" "
	    "([host:]port, port a number or *)" },
	{ "PermitListen none 80\n", "1: \"none\" must be alone on a \"PermitListen\" line" },
	{ "Match User a\n PermitListen any any\n",
	    "2: \"any\" must be alone on a \"PermitListen\" line" },
	{ "LogLevel LOUD\n", "1: bad log level \"LOUD\"" },
	{ "SandboxProfile default\n",
	    "1: unknown sandbox profile \"default\" for \"SandboxProfile\"" },
	{ "SubsystemSandboxProfile default\n",
	    "1: unknown sandbox profile \"default\" for \"SubsystemSandboxProfile\"" },
	{ "SandboxProfile login,strict\n",
	    "1: unknown sandbox profile \"login,strict\" for \"SandboxProfile\"" },
	{ "Ciphers aes128-ctr,,aes256-ctr\n",
	    "1: bad algorithm list \"aes128-ctr,,aes256-ctr\" for \"Ciphers\"" },
	{ "MACs ,hmac-sha2-256\n", "1: bad algorithm list \",hmac-sha2-256\" for \"MACs\"" },
	{ "KexAlgorithms a;b\n", "1: bad algorithm list \"a;b\" for \"KexAlgorithms\"" },
	{ "PrivsepUser -sshand\n", "1: bad user name \"-sshand\" for \"PrivsepUser\"" },
	{ "PrivsepUser a/b\n", "1: bad user name \"a/b\" for \"PrivsepUser\"" },
	{ "AcceptEnv LANG=C\n", "1: bad environment pattern \"LANG=C\"" },
	{ "AuthorizedKeysFile .ssh/%d/keys\n",
	    "1: bad path \".ssh/%d/keys\" for \"AuthorizedKeysFile\" (only %h, %u and %% expand)" },
	{ "AuthorizedKeysFile keys%\n",
	    "1: bad path \"keys%\" for \"AuthorizedKeysFile\" (only %h, %u and %% expand)" },
	{ "Subsystem sftp\n", "1: missing command for subsystem \"sftp\"" },
	{ "Subsystem s/ftp /bin/x\n", "1: bad subsystem name \"s/ftp\"" },
	{ "Subsystem sftp /a\nSubsystem sftp /b\n", "2: subsystem \"sftp\" already defined" },
	/* missing and extra arguments */
	{ "PermitTTY\n", "1: missing argument for \"PermitTTY\"" },
	{ "PermitTTY=\n", "1: missing argument for \"PermitTTY\"" },
	{ "PermitTTY # no value, only a comment\n", "1: missing argument for \"PermitTTY\"" },
	{ "HostKey\n", "1: missing argument for \"HostKey\"" },
	{ "AcceptEnv\n", "1: missing argument for \"AcceptEnv\"" },
	{ "PermitOpen\n", "1: missing argument for \"PermitOpen\"" },
	{ "ForceCommand   \n", "1: missing argument for \"ForceCommand\"" },
	{ "Subsystem\n", "1: missing argument for \"Subsystem\"" },
	{ "PermitTTY yes no\n", "1: unexpected extra argument \"no\" for \"PermitTTY\"" },
	{ "MaxAuthTries 3 4\n", "1: unexpected extra argument \"4\" for \"MaxAuthTries\"" },
	{ "Banner /a /b\n", "1: unexpected extra argument \"/b\" for \"Banner\"" },
	{ "HostKey /a /b\n", "1: unexpected extra argument \"/b\" for \"HostKey\"" },
	/* global-only keywords inside Match */
	{ "Match User alice\n\tHostKey /k\n", "2: \"HostKey\" is not allowed inside Match" },
	{ "Match All\nLoginGraceTime 5\n", "2: \"LoginGraceTime\" is not allowed inside Match" },
	{ "Match Address 10.0.0.0/8\n BanExempt 10.0.0.0/8\n",
	    "2: \"BanExempt\" is not allowed inside Match" },
	{ "Match Group g\n BanTime 1h\n", "2: \"BanTime\" is not allowed inside Match" },
	{ "Match User a\n LogLevel DEBUG\n", "2: \"LogLevel\" is not allowed inside Match" },
	{ "Match User a\n PrivsepUser x\n", "2: \"PrivsepUser\" is not allowed inside Match" },
	{ "Match User a\n Ciphers aes128-ctr\n", "2: \"Ciphers\" is not allowed inside Match" },
	/* As in sshd, where both are global only. */
	{ "Match User a\n PrintMotd no\n", "2: \"PrintMotd\" is not allowed inside Match" },
	{ "Match All\n PrintLastLog no\n", "2: \"PrintLastLog\" is not allowed inside Match" },
	/* relative paths */
	{ "HostKey etc/key\n", "1: \"HostKey\" needs an absolute path, not \"etc/key\"" },
	{ "BanFile bans\n", "1: \"BanFile\" needs an absolute path, not \"bans\"" },
	{ "PrivsepDirectory var/empty\n",
	    "1: \"PrivsepDirectory\" needs an absolute path, not \"var/empty\"" },
	{ "Banner issue.net\n", "1: \"Banner\" needs an absolute path or none, not \"issue.net\"" },
	{ "AuditLog audit.jsonl\n",
	    "1: \"AuditLog\" needs journal, syslog or an absolute path, not \"audit.jsonl\"" },
	/* addresses */
	{ "Match Address 10.0.0.0/33\n", "1: bad address list \"10.0.0.0/33\" in Match Address" },
	{ "Match Address 10.0.0.0/8,\n", "1: bad address list \"10.0.0.0/8,\" in Match Address" },
	{ "Match Address 300.1.2.3\n", "1: bad address list \"300.1.2.3\" in Match Address" },
	{ "BanExempt 10.0.0.0/33\n", "1: bad CIDR \"10.0.0.0/33\" in BanExempt" },
	{ "BanStore rediss://h:6380/0\n", "1: \"BanStore\" \"rediss://h:6380/0\": "
	    "rediss:// (TLS) is not supported: Debian 12's hiredis (0.14) has no TLS; "
	    "reach Redis over a TLS tunnel (stunnel, spiped) to a local port and use redis://" },
	/* The password is not repeated in the message. */
	{ "BanStore redis://:s3cret@h:99999/0\n", "1: \"BanStore\" "
	    "\"redis://:********@h:99999/0\": bad port in redis:// URL (1..65535)" },
	{ "BanStore redis://h/x\n", "1: \"BanStore\" \"redis://h/x\": bad database "
	    "number in redis:// URL (redis://HOST:PORT/DB, DB a number)" },
	{ "BanStore mysql://h\n", "1: \"BanStore\" \"mysql://h\": file, file:PATH or "
	    "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]" },
	{ "BanStore file:bans\n", "1: \"BanStore\" \"file:bans\": file:PATH needs an "
	    "absolute PATH" },
	{ "BanFile /a\nBanStore file:/b\n", "2: BanStore file:/b and BanFile /a name two "
	    "ban files" },
	{ "Match User x\n BanStore file\n", "2: \"BanStore\" is not allowed inside Match" },
	{ "BanStorePasswordFile x\n", "1: \"BanStorePasswordFile\" needs an absolute "
	    "path or none, not \"x\"" },
	{ "BanExempt ::1/129\n", "1: bad CIDR \"::1/129\" in BanExempt" },
	{ "BanExempt 10.0.0.0/8,example.com\n", "1: bad CIDR \"example.com\" in BanExempt" },
	{ "BanExempt 10.*\n", "1: bad CIDR \"10.*\" in BanExempt" },
	/* Match lines */
	{ "Match\n", "1: Match needs a criterion (User, Group, Address or All)" },
	{ "Match User\n", "1: missing pattern for Match User" },
	{ "Match Host example.com\n", "1: unsupported Match criterion \"Host\"" },
	{ "Match All User alice\n", "1: \"All\" must be the only Match criterion" },
	{ "Match User alice All\n", "1: \"All\" must be the only Match criterion" },
	{ "Match User ,alice\n", "1: bad pattern list \",alice\" in Match User" },
	{ "Match Group wheel,\n", "1: bad pattern list \"wheel,\" in Match Group" },
	/* the lexer */
	{ "Banner \"/etc/issue\n", "1: unterminated quoted argument" },
	{ "Banner \"/etc/issue\"x\n", "1: unexpected text after a quoted argument" },
	{ "Banner /etc/\"issue\"\n", "1: quote inside an unquoted argument" },
	{ "PermitTTY yes\n\nPermitTTY \"\"\n", "3: bad yes/no value \"\" for \"PermitTTY\"" },
	{ "Banner /etc/\tissue x\n", "1: unexpected extra argument \"issue\" for \"Banner\"" },
	{ "Banner \"/etc/\x01issue\"\n",
	    "1: \"Banner\" needs an absolute path or none, not \"/etc/?issue\"" },
	/* algorithm names nobody knows: typos, at their line */
	{ "LogLevel INFO\nCiphers bogus\n",
	    "2: unknown algorithm \"bogus\" for \"Ciphers\"" },
	{ "MACs hmac-sha2-256,hmac-sha3-256\n",
	    "1: unknown algorithm \"hmac-sha3-256\" for \"MACs\"" },
	{ "KexAlgorithms +curve448-sha512\n",
	    "1: unknown algorithm \"curve448-sha512\" for \"KexAlgorithms\"" },
	{ "HostKeyAlgorithms ^ssh-ed448\n",
	    "1: unknown algorithm \"ssh-ed448\" for \"HostKeyAlgorithms\"" },
	{ "Match User a\n PubkeyAcceptedAlgorithms -rsa-sha2-1024\n",
	    "2: unknown algorithm \"rsa-sha2-1024\" for \"PubkeyAcceptedAlgorithms\"" },
	{ "Ciphers aes*\n", "1: bad algorithm \"aes*\" for \"Ciphers\" (patterns "
	    "only in a '-' list)" },
	{ "Ciphers -blowfish*\n", "1: algorithm pattern \"blowfish*\" for "
	    "\"Ciphers\" matches no algorithm" },
	{ "Ciphers ++aes128-ctr\n", "1: bad algorithm list \"++aes128-ctr\" for "
	    "\"Ciphers\"" },
	/* known to OpenSSH only, and nothing usable left */
	{ "MACs umac-128-etm@openssh.com,hmac-md5\n", "1: no algorithm left for "
	    "\"MACs\" that this server supports" },
	{ "KexAlgorithms -*\n", "1: no algorithm left for \"KexAlgorithms\" that "
	    "this server supports" },
};

/* sshd_config's list syntax, expanded to the names this server supports;
 * names only OpenSSH implements dropped with a notice at their line. */
static void
test_algorithm_lists(void **state)
{
	struct config *cfg;
	struct settings *s;
	const char *const hardened =
	    "KexAlgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256,"
	    "curve25519-sha256@libssh.org,diffie-hellman-group16-sha512\n"
	    "Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com\n"
	    "MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com,"
	    "umac-128-etm@openssh.com\n"
	    "HostKeyAlgorithms ssh-ed25519,rsa-sha2-512,ssh-dss\n";

	(void)state;
	s = resolve_global(hardened, &cfg);
	assert_string_equal(s->kex_algorithms, "curve25519-sha256,"
	    "curve25519-sha256@libssh.org,diffie-hellman-group16-sha512");
	assert_string_equal(s->macs, "hmac-sha2-512-etm@openssh.com,"
	    "hmac-sha2-256-etm@openssh.com");
	assert_string_equal(s->hostkey_algorithms, "ssh-ed25519,rsa-sha2-512");
	assert_non_null(strstr(config_notice(cfg, 0), ":1: KexAlgorithms: not "
	    "supported by this server (libssh 0.10), left out: "
	    "sntrup761x25519-sha512@openssh.com"));
	assert_non_null(strstr(config_notice(cfg, 1), ":3: MACs: "));
	assert_non_null(strstr(config_notice(cfg, 1), "umac-128-etm@openssh.com"));
	assert_non_null(strstr(config_notice(cfg, 2), ":4: HostKeyAlgorithms: "));
	assert_null(config_notice(cfg, 3));
	settings_free(s);
	config_free(cfg);

	/* '+' appends to the default, '-' removes from it (patterns too),
	 * '^' puts first; each name once. */
	s = resolve_global("Ciphers +aes128-cbc,aes128-ctr\n"
	    "MACs -*-etm@openssh.com\n"
	    "KexAlgorithms ^diffie-hellman-group14-sha256,curve25519-sha256\n"
	    "PubkeyAcceptedAlgorithms +ssh-rsa\n", &cfg);
	assert_string_equal(s->ciphers, "chacha20-poly1305@openssh.com,"
	    "aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,"
	    "aes192-ctr,aes128-ctr,aes128-cbc");
	assert_string_equal(s->macs, "hmac-sha2-256,hmac-sha2-512");
	assert_string_equal(s->kex_algorithms, "diffie-hellman-group14-sha256,"
	    "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,"
	    "ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group16-sha512,"
	    "diffie-hellman-group18-sha512");
	assert_true(algo_list_has(s->pubkey_accepted_algorithms, "ssh-rsa"));
	assert_true(algo_list_has(s->pubkey_accepted_algorithms, "rsa-sha2-512"));
	assert_null(config_notice(cfg, 0));
	settings_free(s);
	config_free(cfg);

	/* The default refuses SHA-1 RSA; a Match block may allow it, and
	 * the network child is told every name any block allows. */
	cfg = load_ok("Match User legacy\n PubkeyAcceptedAlgorithms "
	    "ssh-rsa,rsa-sha2-512\n");
	s = resolve(cfg, "alice", NULL, 0, "10.0.0.1");
	assert_null(s->pubkey_accepted_algorithms);
	assert_false(algo_list_has(algo_effective(ALGO_PUBKEY,
	    s->pubkey_accepted_algorithms), "ssh-rsa"));
	settings_free(s);
	s = resolve(cfg, "legacy", NULL, 0, "10.0.0.1");
	assert_string_equal(s->pubkey_accepted_algorithms, "ssh-rsa,rsa-sha2-512");
	settings_free(s);
	{
		char any[4096];

		assert_int_equal(config_pubkey_algorithms_any(cfg, any, sizeof(any)), 0);
		assert_true(algo_list_has(any, "ssh-rsa"));
		assert_true(algo_list_has(any, "ssh-ed25519"));
		assert_true(algo_list_has(any, "rsa-sha2-256"));
	}
	config_free(cfg);
	/* A certificate algorithm brings the plain one its key signs with:
	 * libssh checks that one. */
	cfg = load_ok("PubkeyAcceptedAlgorithms ssh-ed25519-cert-v01@openssh.com,"
	    "rsa-sha2-512-cert-v01@openssh.com\n");
	{
		char any[4096];

		assert_int_equal(config_pubkey_algorithms_any(cfg, any, sizeof(any)), 0);
		assert_string_equal(any, "ssh-ed25519-cert-v01@openssh.com,"
		    "rsa-sha2-512-cert-v01@openssh.com,ssh-ed25519,rsa-sha2-512");
	}
	config_free(cfg);
	/* The old name is still read. */
	s = resolve_global("PubkeyAcceptedKeyTypes ssh-ed25519\n", &cfg);
	assert_string_equal(s->pubkey_accepted_algorithms, "ssh-ed25519");
	settings_free(s);
	config_free(cfg);
}

static void
test_errors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_configs) / sizeof(bad_configs[0]); i++)
		load_err(bad_configs[i].text, bad_configs[i].want);
}

/* A value shown in a message is cut at 64 bytes. */
static void
test_error_value_shortened(void **state)
{
	char text[256], want[256];

	(void)state;
	snprintf(text, sizeof(text), "PermitTTY %0100d\n", 7);
	snprintf(want, sizeof(want), "1: bad yes/no value \"%064d...\" for "
	    "\"PermitTTY\"", 0);
	load_err(text, want);
	/* An overlong keyword is unknown, not a crash. */
	memset(text, 'K', 200);
	strcpy(text + 200, " yes\n");
	memset(want, 'K', 64);
	want[64] = '\0';
	{
		char w2[300];

		snprintf(w2, sizeof(w2), "1: unknown keyword \"%s\"", want);
		load_err(text, w2);
	}
}

static void
test_nul_byte(void **state)
{
	static const char text[] = "PermitTTY yes\nPermitTTY n\0o\n";

	(void)state;
	{
		struct config *cfg = NULL;
		char err[512], want[PATH_MAX + 64];
		const char *p = write_conf_len(text, sizeof(text) - 1);

		assert_int_equal(config_load(p, &cfg, err, sizeof(err)), -EINVAL);
		snprintf(want, sizeof(want), "%s:2: NUL byte in line", p);
		assert_string_equal(err, want);
		assert_null(cfg);
	}
}

static void
expect_sys_err(const char *p, int want_r)
{
	struct config *cfg = NULL;
	char err[512], want[PATH_MAX + 64];

	assert_int_equal(config_load(p, &cfg, err, sizeof(err)), want_r);
	snprintf(want, sizeof(want), "%s: %s", p, strerror(-want_r));
	assert_string_equal(err, want);
	assert_null(cfg);
}

static void
test_unreadable(void **state)
{
	char p[PATH_MAX], err[64];
	struct config *cfg = NULL;
	pid_t pid;
	int status;

	(void)state;
	snprintf(p, sizeof(p), "%s/does-not-exist.conf", dir);
	expect_sys_err(p, -ENOENT);
	expect_sys_err(dir, -EISDIR);
	snprintf(p, sizeof(p), "%s/fifo", dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	/* O_RDONLY on a FIFO with no writer would block: it must not get
	 * that far.  A writer end held open keeps the test from hanging if
	 * the check ever regresses. */
	{
		int w = open(p, O_RDWR | O_CLOEXEC);

		assert_true(w >= 0);
		expect_sys_err(p, -EINVAL);
		close(w);
	}
	/* A short error buffer is truncated, never overrun; NULL is fine. */
	snprintf(p, sizeof(p), "%s/does-not-exist-with-a-rather-long-name.conf", dir);
	assert_int_equal(config_load(p, &cfg, err, 16), -ENOENT);
	assert_int_equal(strlen(err), 15);
	assert_int_equal(config_load(p, &cfg, NULL, 0), -ENOENT);
	assert_int_equal(config_load(NULL, &cfg, NULL, 0), -EINVAL);
	assert_null(cfg);

	/* Permission denied: root reads anything, so an unprivileged child
	 * tries it. */
	strcpy(p, write_conf("PermitTTY no\n"));
	assert_int_equal(chmod(p, 0600), 0);
	assert_int_equal(chmod(dir, 0711), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char e[PATH_MAX + 64], w[PATH_MAX + 64];
		struct config *c = NULL;
		int r;

		if (setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(65534, 65534, 65534) < 0)
			_exit(10);
		r = config_load(p, &c, e, sizeof(e));
		snprintf(w, sizeof(w), "%s: %s", p, strerror(EACCES));
		_exit(r == -EACCES && c == NULL && strcmp(e, w) == 0 ? 0 : 11);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(chmod(dir, 0700), 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---------------------------------------------------------------- */
/* Match and precedence */

static const char match_conf[] =
    "PermitTTY yes\n"
    "MaxAuthTries 5\n"
    "Match User alice,bob\n"
    "\tMaxAuthTries 2\n"
    "Match User a*,!admin\n"
    "\tMaxAuthTries 3\n"
    "\tPermitTTY no\n"
    "Match Group sftponly\n"
    "\tForceCommand internal-sftp\n"
    "\tAllowTcpForwarding no\n"
    "\tPermitOpen localhost:8080\n"
    "Match Group *,!wheel\n"
    "\tSandboxProfile strict\n"
    "Match Address 192.0.2.0/24,2001:db8::/32,!192.0.2.7\n"
    "\tPasswordAuthentication no\n"
    "Match User carol Address 198.51.100.*\n"
    "\tBanner /etc/carol\n"
    "Match All\n"
    "\tAllowTcpForwarding remote\n"
    "\tPermitOpen none\n";

static void
test_match_user(void **state)
{
	struct config *cfg = load_ok(match_conf);
	struct settings *s;

	(void)state;
	/* First matching block to set a keyword wins: alice gets 2, not 3,
	 * yet the second block still supplies PermitTTY. */
	s = resolve(cfg, "alice", NULL, 0, NULL);
	assert_int_equal(s->max_auth_tries, 2);
	assert_false(s->permit_tty);
	settings_free(s);
	s = resolve(cfg, "andy", NULL, 0, NULL);
	assert_int_equal(s->max_auth_tries, 3);
	assert_false(s->permit_tty);
	settings_free(s);
	/* Negation vetoes the whole list. */
	s = resolve(cfg, "admin", NULL, 0, NULL);
	assert_int_equal(s->max_auth_tries, 5);
	assert_true(s->permit_tty);
	settings_free(s);
	s = resolve(cfg, "zed", NULL, 0, NULL);
	assert_int_equal(s->max_auth_tries, 5);
	settings_free(s);
	/* Names are case-sensitive, as in sshd. */
	s = resolve(cfg, "Alice", NULL, 0, NULL);
	assert_int_equal(s->max_auth_tries, 5);
	settings_free(s);
	config_free(cfg);
}

static void
test_match_group(void **state)
{
	static const char *const sftp[] = { "users", "sftponly" };
	static const char *const wheel[] = { "users", "wheel" };
	static const char *const plain[] = { "users" };
	static const char *const with_null[] = { NULL, "sftponly" };
	struct config *cfg = load_ok(match_conf);
	struct settings *s;

	(void)state;
	s = resolve(cfg, "zed", sftp, 2, NULL);
	assert_string_equal(s->force_command, "internal-sftp");
	/* The sftponly block set it first; Match All comes later. */
	assert_int_equal(s->allow_tcp_forwarding, 0);
	assert_list(&s->permit_open, 1, "localhost:8080");
	assert_int_equal(s->sandbox_profile, SANDBOX_STRICT);
	settings_free(s);
	/* One negated group vetoes the block even though another matches. */
	s = resolve(cfg, "zed", wheel, 2, NULL);
	assert_null(s->force_command);
	assert_int_equal(s->allow_tcp_forwarding, FWD_REMOTE);
	assert_list(&s->permit_open, 1, "none");
	assert_int_equal(s->sandbox_profile, SANDBOX_LOGIN);
	settings_free(s);
	s = resolve(cfg, "zed", plain, 1, NULL);
	assert_int_equal(s->sandbox_profile, SANDBOX_STRICT);
	settings_free(s);
	/* A count without an array matches nothing rather than crashing. */
	s = resolve(cfg, "zed", NULL, 3, NULL);
	assert_null(s->force_command);
	settings_free(s);
	s = resolve(cfg, "zed", with_null, 2, NULL);
	assert_string_equal(s->force_command, "internal-sftp");
	settings_free(s);
	/* No groups: Group blocks never match. */
	s = resolve(cfg, "zed", NULL, 0, NULL);
	assert_null(s->force_command);
	assert_int_equal(s->sandbox_profile, SANDBOX_LOGIN);
	settings_free(s);
	/* Before authentication (no user) Group blocks do not apply even
	 * with groups given. */
	s = resolve(cfg, NULL, sftp, 2, NULL);
	assert_null(s->force_command);
	settings_free(s);
	config_free(cfg);
}

static void
test_match_address(void **state)
{
	struct config *cfg = load_ok(match_conf);
	struct settings *s;

	(void)state;
	s = resolve(cfg, NULL, NULL, 0, "192.0.2.1");
	assert_false(s->password_authentication);
	settings_free(s);
	s = resolve(cfg, NULL, NULL, 0, "2001:db8::5");
	assert_false(s->password_authentication);
	settings_free(s);
	s = resolve(cfg, NULL, NULL, 0, "192.0.2.7");
	assert_true(s->password_authentication);
	settings_free(s);
	s = resolve(cfg, NULL, NULL, 0, "203.0.113.1");
	assert_true(s->password_authentication);
	settings_free(s);
	/* Several criteria on one line must all match. */
	s = resolve(cfg, "carol", NULL, 0, "198.51.100.20");
	assert_string_equal(s->banner, "/etc/carol");
	settings_free(s);
	s = resolve(cfg, "carol", NULL, 0, "203.0.113.1");
	assert_null(s->banner);
	settings_free(s);
	s = resolve(cfg, "dave", NULL, 0, "198.51.100.20");
	assert_null(s->banner);
	settings_free(s);
	s = resolve(cfg, "carol", NULL, 0, NULL);
	assert_null(s->banner);
	settings_free(s);
	config_free(cfg);
}

static void
test_match_all_and_global(void **state)
{
	struct config *cfg = load_ok(match_conf);
	struct settings *s = NULL;
	struct match_ctx empty = { 0 };

	(void)state;
	/* Match All applies to every connection, with or without a user. */
	s = resolve(cfg, NULL, NULL, 0, NULL);
	assert_int_equal(s->allow_tcp_forwarding, FWD_REMOTE);
	assert_int_equal(s->max_auth_tries, 5);
	settings_free(s);
	assert_int_equal(config_resolve(cfg, &empty, &s), 0);
	assert_int_equal(s->allow_tcp_forwarding, FWD_REMOTE);
	settings_free(s);
	/* NULL: no User, Group or Address block applies. */
	assert_int_equal(config_resolve(cfg, NULL, &s), 0);
	assert_int_equal(s->max_auth_tries, 5);
	assert_true(s->password_authentication);
	assert_int_equal(s->allow_tcp_forwarding, FWD_REMOTE);
	settings_free(s);
	s = (struct settings *)0x1;
	assert_int_equal(config_resolve(NULL, NULL, &s), -EINVAL);
	assert_ptr_equal(s, (struct settings *)0x1);
	assert_int_equal(config_resolve(cfg, NULL, NULL), -EINVAL);
	settings_free(NULL);
	config_free(NULL);
	config_free(cfg);
}

static void
test_precedence(void **state)
{
	struct config *cfg;
	struct settings *s;

	(void)state;
	/* Global: the first occurrence wins, for scalars and for the
	 * one-line list AuthorizedKeysFile; repeatable keywords add up. */
	cfg = load_ok("MaxAuthTries 4\nMaxAuthTries 9\n"
	    "Banner /first\nBanner /second\n"
	    "AuthorizedKeysFile /a /b\nAuthorizedKeysFile /c\n"
	    "SandboxProfile strict\nSandboxProfile none\n"
	    "ForceCommand /bin/one\nForceCommand /bin/two\n"
	    "AcceptEnv A\nAcceptEnv B\n"
	    "HostKey /h1\nHostKey /h2\n"
	    "PermitOpen a:1 b:2\nPermitOpen c:3\n"
	    "PermitListen none\n"
	    "Match User u\n"
	    " MaxAuthTries 7\n MaxAuthTries 8\n"
	    " PermitListen 22\n PermitListen 23\n"
	    " AcceptEnv C\n AcceptEnv D\n"
	    " Subsystem x /bin/x\n"
	    " ForceCommand none\n"
	    "Match User u\n"
	    " MaxAuthTries 1\n Banner /third\n ForceCommand /bin/three\n");
	assert_int_equal(config_resolve(cfg, NULL, &s), 0);
	assert_int_equal(s->max_auth_tries, 4);
	assert_string_equal(s->banner, "/first");
	assert_list(&s->authorized_keys_files, 2, "/a", "/b");
	assert_int_equal(s->sandbox_profile, SANDBOX_STRICT);
	assert_string_equal(s->force_command, "/bin/one");
	assert_list(&s->accept_env, 2, "A", "B");
	assert_list(&s->host_keys, 2, "/h1", "/h2");
	/* PermitOpen and PermitListen as sshd: one line, the first wins. */
	assert_list(&s->permit_open, 2, "a:1", "b:2");
	assert_list(&s->permit_listen, 1, "none");
	settings_free(s);
	/* Match: the first matching block to set a keyword wins, whatever
	 * later blocks say; a list set in Match replaces the global list;
	 * "none" in Match clears a global value. */
	s = resolve(cfg, "u", NULL, 0, NULL);
	assert_int_equal(s->max_auth_tries, 7);
	assert_string_equal(s->banner, "/third");
	assert_list(&s->accept_env, 2, "C", "D");
	assert_int_equal(s->n_subsystems, 1);
	assert_string_equal(settings_subsystem(s, "x"), "/bin/x");
	assert_null(s->force_command);
	assert_list(&s->authorized_keys_files, 2, "/a", "/b");
	assert_list(&s->permit_open, 2, "a:1", "b:2");
	assert_list(&s->permit_listen, 1, "*:22");
	settings_free(s);
	config_free(cfg);

	/* Resolving twice gives the same answer (nothing is consumed). */
	cfg = load_ok("Match User *\n PermitTTY no\n");
	s = resolve(cfg, "x", NULL, 0, NULL);
	assert_false(s->permit_tty);
	settings_free(s);
	s = resolve(cfg, "x", NULL, 0, NULL);
	assert_false(s->permit_tty);
	settings_free(s);
	config_free(cfg);
}

/* SubsystemSandboxProfile not set anywhere that applies is the profile
 * SandboxProfile resolves to for the same connection, wherever that one
 * was set; set anywhere that applies, it stands. */
static void
test_subsystem_profile_follows(void **state)
{
	struct config *cfg;
	struct settings *s;

	(void)state;
	cfg = load_ok("SandboxProfile strict\n"
	    "Match User carol\n SandboxProfile none\n"
	    "Match User dave\n SubsystemSandboxProfile login\n"
	    "Match User erin\n SandboxProfile none\n SubsystemSandboxProfile strict\n");
	s = resolve(cfg, "alice", NULL, 0, NULL);
	assert_int_equal(s->sandbox_profile, SANDBOX_STRICT);
	assert_int_equal(s->subsystem_sandbox_profile, SANDBOX_STRICT);
	settings_free(s);
	s = resolve(cfg, "carol", NULL, 0, NULL);
	assert_int_equal(s->sandbox_profile, SANDBOX_NONE);
	assert_int_equal(s->subsystem_sandbox_profile, SANDBOX_NONE);
	settings_free(s);
	s = resolve(cfg, "dave", NULL, 0, NULL);
	assert_int_equal(s->sandbox_profile, SANDBOX_STRICT);
	assert_int_equal(s->subsystem_sandbox_profile, SANDBOX_LOGIN);
	settings_free(s);
	s = resolve(cfg, "erin", NULL, 0, NULL);
	assert_int_equal(s->sandbox_profile, SANDBOX_NONE);
	assert_int_equal(s->subsystem_sandbox_profile, SANDBOX_STRICT);
	settings_free(s);
	config_free(cfg);

	/* Set globally, it is not overridden by a Match SandboxProfile. */
	cfg = load_ok("SubsystemSandboxProfile login\n"
	    "Match User carol\n SandboxProfile strict\n");
	s = resolve(cfg, "carol", NULL, 0, NULL);
	assert_int_equal(s->sandbox_profile, SANDBOX_STRICT);
	assert_int_equal(s->subsystem_sandbox_profile, SANDBOX_LOGIN);
	settings_free(s);
	config_free(cfg);
}

/* Values that first-wins discards, and Match blocks that never apply,
 * are still validated: a typo fails the load wherever it is. */
static void
test_all_values_validated(void **state)
{
	(void)state;
	load_err("MaxAuthTries 4\nMaxAuthTries many\n",
	    "2: bad number \"many\" for \"MaxAuthTries\"");
	load_err("Match User nobody-at-all\n PermitTTY perhaps\n",
	    "2: bad yes/no value \"perhaps\" for \"PermitTTY\"");
}

/* ---------------------------------------------------------------- */
/* Syntax */

static void
test_quoting(void **state)
{
	struct config *cfg;
	struct settings *s;

	(void)state;
	s = resolve_global(
	    "Banner \"/etc/my banner\"\n"
	    "AuthorizedKeysFile \"/etc/keys/%u dir/ak\" .ssh/authorized_keys\n"
	    "AcceptEnv \"LANG\" LC_*   # trailing comment\n"
	    "HostKey \"/k/with \\\"quote\\\" and \\\\ backslash\"\n"
	    "PrivsepDirectory \"/var/empty\"\n"
	    "Match User \"alice\" Address \"10.0.0.0/8\"\n"
	    "  PermitTTY \"no\"\n", &cfg);
	assert_string_equal(s->banner, "/etc/my banner");
	assert_list(&s->authorized_keys_files, 2, "/etc/keys/%u dir/ak",
	    ".ssh/authorized_keys");
	assert_list(&s->accept_env, 2, "LANG", "LC_*");
	assert_list(&s->host_keys, 1, "/k/with \"quote\" and \\ backslash");
	assert_string_equal(s->privsep_directory, "/var/empty");
	settings_free(s);
	s = resolve(cfg, "alice", NULL, 0, "10.1.2.3");
	assert_false(s->permit_tty);
	settings_free(s);
	config_free(cfg);

	/* A '#' inside an argument is part of it; one starting an argument
	 * begins a comment. */
	s = resolve_global("Banner /etc/issue#1\nPermitTTY no #yes\n", &cfg);
	assert_string_equal(s->banner, "/etc/issue#1");
	assert_false(s->permit_tty);
	settings_free(s);
	config_free(cfg);
}

static void
test_equals_syntax(void **state)
{
	struct config *cfg;
	struct settings *s;

	(void)state;
	s = resolve_global(
	    "PermitTTY=no\n"
	    "MaxAuthTries = 2\n"
	    "LoginGraceTime =30\n"
	    "Banner= /etc/issue\n"
	    "\t  StrictModes\t=\tno\t\n"
	    "ForceCommand=/bin/echo a=b\n"
	    "Subsystem=sftp /usr/lib/openssh/sftp-server\n"
	    "AcceptEnv=LANG\n"
	    "Match=User alice\n"
	    "\tPermitTTY=yes\n", &cfg);
	assert_false(s->permit_tty);
	assert_int_equal(s->max_auth_tries, 2);
	assert_int_equal(s->login_grace_time, 30);
	assert_string_equal(s->banner, "/etc/issue");
	assert_false(s->strict_modes);
	assert_string_equal(s->force_command, "/bin/echo a=b");
	assert_string_equal(settings_subsystem(s, "sftp"),
	    "/usr/lib/openssh/sftp-server");
	assert_list(&s->accept_env, 1, "LANG");
	settings_free(s);
	s = resolve(cfg, "alice", NULL, 0, NULL);
	assert_true(s->permit_tty);
	settings_free(s);
	config_free(cfg);
	/* Only one '=' separates. */
	load_err("PermitTTY==no\n", "1: bad yes/no value \"=no\" for \"PermitTTY\"");
}

static void
test_line_endings(void **state)
{
	struct config *cfg;
	struct settings *s;

	(void)state;
	/* CRLF files (edited on Windows) and a last line without newline. */
	s = resolve_global("PermitTTY no\r\nForceCommand /bin/x  \r\n"
	    "Subsystem sftp /bin/sftp\r\nMaxAuthTries 4", &cfg);
	assert_false(s->permit_tty);
	assert_string_equal(s->force_command, "/bin/x");
	assert_string_equal(settings_subsystem(s, "sftp"), "/bin/sftp");
	assert_int_equal(s->max_auth_tries, 4);
	settings_free(s);
	config_free(cfg);
}

/* ---------------------------------------------------------------- */
/* parse_time */

static void
test_parse_time(void **state)
{
	static const struct {
		const char *s;
		unsigned v;
	} ok[] = {
		{ "0", 0 }, { "90", 90 }, { "90s", 90 }, { "90S", 90 },
		{ "5m", 300 }, { "5M", 300 }, { "2h", 7200 }, { "1d", 86400 },
		{ "1w", 604800 }, { "1h30m", 5400 }, { "1h30", 3630 },
		{ "1w2d", 9 * 86400 }, { "10m10m", 1200 }, { "007", 7 },
		{ "2147483647", 2147483647u }, { "2147483647s", 2147483647u },
		{ "3550w", 3550u * 604800 },
		{ "35791394m", 35791394u * 60 },
	};
	static const char *const bad[] = {
		"", "s", "m5", "1x", "1 h", " 1", "1 ", "-1", "+1", "1.5",
		"1hh", "h1", "0x10", "1h-1", "\t",
		/* over INT_MAX */
		"2147483648", "2147483648s", "3551w", "35791395m",
		"2147483647s1", "1w2147483647", "99999999999999999999999",
		"18446744073709551616",
	};
	unsigned v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = 12345;
		if (parse_time(ok[i].s, &v) != 0)
			fail_msg("parse_time(\"%s\") failed", ok[i].s);
		if (v != ok[i].v)
			fail_msg("parse_time(\"%s\") = %u, want %u", ok[i].s,
			    v, ok[i].v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 12345;
		if (parse_time(bad[i], &v) != -EINVAL)
			fail_msg("parse_time(\"%s\") accepted", bad[i]);
		assert_int_equal(v, 12345);	/* untouched */
	}
	assert_int_equal(parse_time(NULL, &v), -EINVAL);
}

/* ---------------------------------------------------------------- */
/* Lookups and the dump */

static void
test_accept_env(void **state)
{
	struct config *cfg;
	struct settings *s;

	(void)state;
	s = resolve_global("AcceptEnv LANG LC_* XMODIFIERS\nAcceptEnv GIT_?\n",
	    &cfg);
	assert_true(settings_accept_env(s, "LANG"));
	assert_true(settings_accept_env(s, "LC_ALL"));
	assert_true(settings_accept_env(s, "LC_"));
	assert_true(settings_accept_env(s, "XMODIFIERS"));
	assert_true(settings_accept_env(s, "GIT_A"));
	assert_false(settings_accept_env(s, "GIT_AB"));
	assert_false(settings_accept_env(s, "lang"));
	assert_false(settings_accept_env(s, "LANGUAGE"));
	assert_false(settings_accept_env(s, "LD_PRELOAD"));
	assert_false(settings_accept_env(s, "PATH"));
	assert_false(settings_accept_env(s, ""));
	assert_false(settings_accept_env(s, NULL));
	assert_false(settings_accept_env(NULL, "LANG"));
	settings_free(s);
	config_free(cfg);
	/* Nothing by default. */
	s = resolve_global("", &cfg);
	assert_false(settings_accept_env(s, "LANG"));
	settings_free(s);
	config_free(cfg);
}

static void
test_subsystem(void **state)
{
	struct config *cfg;
	struct settings *s;

	(void)state;
	s = resolve_global("Subsystem sftp   /usr/lib/openssh/sftp-server -l INFO  \n"
	    "Subsystem netconf \"/usr/bin/netconf\" --quoted 'as is'\n", &cfg);
	assert_string_equal(settings_subsystem(s, "sftp"),
	    "/usr/lib/openssh/sftp-server -l INFO");
	/* The command is passed to the shell exactly as written. */
	assert_string_equal(settings_subsystem(s, "netconf"),
	    "\"/usr/bin/netconf\" --quoted 'as is'");
	assert_null(settings_subsystem(s, "SFTP"));
	assert_null(settings_subsystem(s, "shell"));
	assert_null(settings_subsystem(s, NULL));
	assert_null(settings_subsystem(NULL, "sftp"));
	settings_free(s);
	config_free(cfg);
	s = resolve_global("", &cfg);
	assert_null(settings_subsystem(s, "sftp"));
	settings_free(s);
	config_free(cfg);
}

/* BanStore: the URL kept as written, its password not printed by -T;
 * file:PATH names the ban file. */
static void
test_ban_store(void **state)
{
	struct config *cfg;
	struct settings *s;
	char *d;

	(void)state;
	s = resolve_global("BanStore redis://sync:p%40ss@[2001:db8::1]:6380/3\n"
	    "BanStorePasswordFile /etc/sshand/redis.pw\n", &cfg);
	assert_string_equal(s->ban_store, "redis://sync:p%40ss@[2001:db8::1]:6380/3");
	assert_string_equal(s->ban_store_password_file, "/etc/sshand/redis.pw");
	d = dump(s);
	assert_dump_has(d, "banstore redis://sync:********@[2001:db8::1]:6380/3");
	assert_dump_has(d, "banstorepasswordfile /etc/sshand/redis.pw");
	assert_null(strstr(d, "p%40ss"));
	free(d);
	settings_free(s);
	config_free(cfg);

	s = resolve_global("BanStore file:/srv/bans\n", &cfg);
	assert_string_equal(s->ban_file, "/srv/bans");
	settings_free(s);
	config_free(cfg);
	s = resolve_global("BanFile /srv/bans\nBanStore file:/srv/bans\n", &cfg);
	assert_string_equal(s->ban_file, "/srv/bans");
	settings_free(s);
	config_free(cfg);
	s = resolve_global("BanStore file\nBanFile /srv/b2\n", &cfg);
	assert_string_equal(s->ban_file, "/srv/b2");
	assert_string_equal(s->ban_store, "file");
	settings_free(s);
	config_free(cfg);
}

static void
test_dump(void **state)
{
	struct config *cfg;
	struct settings *s;
	char *d;

	(void)state;
	s = resolve_global("", &cfg);
	d = dump(s);
	assert_dump_has(d, "hostkey /etc/sshand/ssh_host_ed25519_key");
	{
		char line[ALGO_LIST_MAX + 32];

		/* The default spelt out, as sshd -T spells out its own. */
		snprintf(line, sizeof(line), "kexalgorithms %s",
		    algo_default(ALGO_KEX));
		assert_dump_has(d, line);
	}
	assert_dump_has(d, "logingracetime 60");
	assert_dump_has(d, "loglevel INFO");
	assert_dump_has(d, "privsepuser sshand");
	assert_dump_has(d, "auditlog journal");
	assert_dump_has(d, "banfile /var/lib/sshand/bans");
	assert_dump_has(d, "banfindtime 600");
	assert_dump_has(d, "bantimemax 604800");
	assert_dump_has(d, "printmotd yes");
	assert_dump_has(d, "printlastlog yes");
	assert_dump_has(d, "permitrootlogin no");
	assert_dump_has(d, "passwordauthentication yes");
	assert_dump_has(d, "maxauthtries 6");
	assert_dump_has(d, "banner none");
	assert_dump_has(d, "authorizedkeysfile .ssh/authorized_keys");
	assert_dump_has(d, "forcecommand none");
	assert_dump_has(d, "sandboxprofile login");
	assert_dump_has(d, "subsystemsandboxprofile login");
	assert_dump_has(d, "allowcoredumps no");
	assert_dump_has(d, "allowtcpforwarding yes");
	assert_dump_has(d, "gatewayports no");
	assert_dump_has(d, "permitopen any");
	assert_dump_has(d, "permitlisten any");
	assert_null(strstr(d, "subsystem sftp"));
	assert_null(strstr(d, "acceptenv"));
	/* Every line is "lowercase-keyword value". */
	{
		const char *l;

		for (l = d; *l != '\0'; l = strchr(l, '\n') + 1) {
			const char *c;

			for (c = l; *c != ' '; c++)
				assert_true((*c >= 'a' && *c <= 'z') ||
				    (*c >= '0' && *c <= '9'));
			assert_true(c > l);
			assert_non_null(strchr(l, '\n'));
		}
	}
	free(d);
	settings_free(s);
	config_free(cfg);

	s = resolve_global(every_keyword, &cfg);
	d = dump(s);
	assert_dump_has(d, "hostkey /k/ed25519");
	assert_dump_has(d, "hostkey /k/rsa");
	assert_null(strstr(d, "ssh_host_ed25519_key"));
	assert_dump_has(d, "logingracetime 120");
	assert_dump_has(d, "loglevel VERBOSE");
	assert_dump_has(d, "banexempt 192.168.0.0/16");
	/* sshd -T's spelling of prohibit-password. */
	assert_dump_has(d, "permitrootlogin without-password");
	assert_dump_has(d, "pubkeyauthentication no");
	assert_dump_has(d, "authorizedkeysfile .ssh/authorized_keys /etc/keys/%u "
	    "%h/.ssh/ak2 /k/100%%");
	assert_dump_has(d, "subsystem sftp /usr/lib/openssh/sftp-server -f AUTHPRIV -l INFO");
	assert_dump_has(d, "acceptenv LC_*");
	assert_dump_has(d, "sandboxprofile strict");
	assert_dump_has(d, "subsystemsandboxprofile none");
	assert_dump_has(d, "maxopenfiles 4096");
	assert_dump_has(d, "allowtcpforwarding local");
	assert_dump_has(d, "allowstreamlocalforwarding remote");
	/* sshd -T's spelling of a mask: four octal digits. */
	assert_dump_has(d, "streamlocalbindmask 0117");
	assert_dump_has(d, "streamlocalbindunlink yes");
	assert_dump_has(d, "allowagentforwarding no");
	assert_dump_has(d, "x11forwarding yes");
	assert_dump_has(d, "x11displayoffset 20");
	assert_dump_has(d, "x11uselocalhost no");
	assert_dump_has(d, "disableforwarding yes");
	assert_dump_has(d, "gatewayports clientspecified");
	assert_dump_has(d, "permitopen localhost:80 [::1]:* *:443 "
	    "db.example.com:5432");
	assert_dump_has(d, "permitlisten *:8080 localhost:* [::1]:2222 "
	    "*.example.com:9000");
	free(d);
	settings_free(s);
	config_free(cfg);

	s = resolve_global("AuthorizedKeysFile none\nSandboxProfile strict\n"
	    "LogLevel debug\n", &cfg);
	d = dump(s);
	assert_dump_has(d, "authorizedkeysfile none");
	/* Unset SubsystemSandboxProfile shows what takes effect. */
	assert_dump_has(d, "subsystemsandboxprofile strict");
	assert_dump_has(d, "loglevel DEBUG1");
	free(d);
	settings_free(s);
	config_free(cfg);
	/* "all" is printed as sshd prints it; "none" reads back. */
	s = resolve_global("AllowTcpForwarding all\nPermitOpen none\n"
	    "PermitListen none\n", &cfg);
	d = dump(s);
	assert_dump_has(d, "allowtcpforwarding yes");
	assert_dump_has(d, "permitopen none");
	assert_dump_has(d, "permitlisten none");
	free(d);
	assert_int_equal(settings_dump(NULL, stdout), -EINVAL);
	assert_int_equal(settings_dump(s, NULL), -EINVAL);
	settings_free(s);
	config_free(cfg);
}

/* Every keyword's default, as man/sshand.conf.5 and README.md document
 * it, in -T's order: the whole dump of an empty file, which is also what
 * config_defaults() gives.  The algorithm lists are spelt out, as sshd -T
 * spells out its own (policy/algorithms.c is their one source); the
 * sshd_config keywords sshand has no setting for follow, with what sshand
 * does. */
static const char documented_defaults_fmt[] =
    "hostkey /etc/sshand/ssh_host_ed25519_key\n"
    "hostkey /etc/sshand/ssh_host_ecdsa_key\n"
    "hostkey /etc/sshand/ssh_host_rsa_key\n"
    "kexalgorithms %s\n"
    "ciphers %s\n"
    "macs %s\n"
    "hostkeyalgorithms %s\n"
    "rekeylimit 0 0\n"
    "compression yes\n"
    "tcpkeepalive yes\n"
    "logingracetime 60\n"
    "loglevel INFO\n"
    "privsepuser sshand\n"
    "privsepdirectory /var/empty\n"
    "auditlog journal\n"
    "banfile /var/lib/sshand/bans\n"
    "banmaxfailures 5\n"
    "banfindtime 600\n"
    "bantime 3600\n"
    "bantimemax 604800\n"
    "banipv6prefix 64\n"
    "banmaxentries 65536\n"
    "banstore file\n"
    "banstorepasswordfile none\n"
    "auditrequired no\n"
    "maxstartups 10:30:100\n"
    "persourcemaxstartups 8\n"
    "persourcenetblocksize 32:128\n"
    "printmotd yes\n"
    "printlastlog yes\n"
    "permitrootlogin no\n"
    "pubkeyauthentication yes\n"
    "pubkeyacceptedalgorithms %s\n"
    "passwordauthentication yes\n"
    "kbdinteractiveauthentication yes\n"
    "permitemptypasswords no\n"
    "strictmodes yes\n"
    "permittty yes\n"
    "permituserenvironment no\n"
    "allowtcpforwarding yes\n"
    "allowstreamlocalforwarding yes\n"
    "allowagentforwarding yes\n"
    "x11forwarding no\n"
    "x11displayoffset 10\n"
    "x11uselocalhost yes\n"
    "disableforwarding no\n"
    "gatewayports no\n"
    "permitopen any\n"
    "permitlisten any\n"
    "streamlocalbindmask 0177\n"
    "streamlocalbindunlink no\n"
    "maxauthtries 6\n"
    "authenticationmethods any\n"
    "maxsessions 10\n"
    "clientaliveinterval 0\n"
    "clientalivecountmax 3\n"
    "unusedconnectiontimeout none\n"
    "channeltimeout none\n"
    "requiredrsasize 1024\n"
    "banner none\n"
    "authorizedkeysfile .ssh/authorized_keys\n"
    "authorizedkeyscommand none\n"
    "authorizedkeyscommanduser none\n"
    "trustedusercakeys none\n"
    "authorizedprincipalsfile none\n"
    "authorizedprincipalscommand none\n"
    "authorizedprincipalscommanduser none\n"
    "casignaturealgorithms ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"
    "ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,"
    "sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256\n"
    "revokedkeys none\n"
    "forcecommand none\n"
    "chrootdirectory none\n"
    "sandboxprofile login\n"
    "subsystemsandboxprofile login\n"
    "sandboxallowkeyrings no\n"
    "nonewprivileges no\n"
    "maxsessionprocs 0\n"
    "maxopenfiles 0\n"
    "allowcoredumps no\n"
    "killuserprocesses no\n"
    "permituserrc yes\n"
    "usepam yes\n"
    "pamservicename sshand\n"
    "hostkeyagent none\n"
    "hostbasedauthentication no\n"
    "hostbasedusesnamefrompacketonly no\n"
    "pubkeyauthoptions none\n"
    "kerberosauthentication no\n"
    "gssapiauthentication no\n"
    "gssapikeyexchange no\n"
    "ignorerhosts yes\n"
    "usedns no\n"
    "permittunnel no\n"
    "versionaddendum none\n"
    "fingerprinthash SHA256\n"
    "exposeauthinfo no\n"
    "refuseconnection no\n";

static char documented_defaults[16384];

static int
documented_defaults_make(void)
{
	int n = snprintf(documented_defaults, sizeof(documented_defaults),
	    documented_defaults_fmt, algo_default(ALGO_KEX),
	    algo_default(ALGO_CIPHER), algo_default(ALGO_MAC),
	    algo_default(ALGO_HOSTKEY), algo_default(ALGO_PUBKEY));

	return n > 0 && (size_t)n < sizeof(documented_defaults) ? 0 : -1;
}

static void
test_dump_defaults(void **state)
{
	struct config *cfg;
	struct settings *s = NULL;
	char *d;

	(void)state;
	s = resolve_global("", &cfg);
	d = dump(s);
	assert_string_equal(d, documented_defaults);
	free(d);
	settings_free(s);
	config_free(cfg);
	/* A Match block that sets nothing changes nothing. */
	s = resolve_global("Match All\n", &cfg);
	d = dump(s);
	assert_string_equal(d, documented_defaults);
	free(d);
	settings_free(s);
	config_free(cfg);

	s = NULL;
	assert_int_equal(config_defaults(&s), 0);
	assert_non_null(s);
	d = dump(s);
	assert_string_equal(d, documented_defaults);
	free(d);
	settings_free(s);
	assert_int_equal(config_defaults(NULL), -EINVAL);
}

/* What tools read: a file's settings before any user is known, the
 * defaults when there is no file, a clear error for a bad one; and the
 * ban file's parameters as the settings give them. */
static void
test_config_settings_and_ban_params(void **state)
{
	struct settings *s = NULL;
	struct ban_params p;
	char err[512] = "", missing[PATH_MAX];
	char *d;

	(void)state;
	snprintf(missing, sizeof(missing), "%s/absent.conf", dir);
	assert_int_equal(config_settings(missing, &s, err, sizeof(err)), 0);
	d = dump(s);
	assert_string_equal(d, documented_defaults);
	free(d);
	settings_free(s);

	assert_int_equal(config_settings(write_conf("BanMaxFailures 9\n"
	    "BanExempt 10.0.0.0/8 192.168.0.0/16\nMatch User x\n"
	    "MaxAuthTries 2\n"), &s, err, sizeof(err)), 0);
	assert_int_equal(s->ban_max_failures, 9);
	assert_int_equal(s->max_auth_tries, 6);	/* no user: no Match */
	settings_ban_params(s, &p);
	assert_int_equal(p.max_failures, 9);
	assert_int_equal(p.find_time, 600);
	assert_int_equal(p.ban_time, 3600);
	assert_int_equal(p.ban_time_max, 7 * 24 * 3600);
	assert_int_equal(p.ipv6_prefix, 64);
	assert_int_equal(p.max_entries, 65536);
	assert_int_equal(p.n_exempt, 2);
	assert_string_equal(p.exempt[1], "192.168.0.0/16");
	settings_free(s);

	s = NULL;
	assert_int_equal(config_settings(write_conf("BanMaxFailures x\n"), &s,
	    err, sizeof(err)), -EINVAL);
	assert_null(s);
	assert_non_null(strstr(err, ":1: bad number \"x\" for \"BanMaxFailures\""));
}

/* A value given that equals the default changes nothing in the dump, and
 * each default is a value the parser accepts (they are read by it). */
static void
test_defaults_read_back(void **state)
{
	struct config *cfg;
	struct settings *s;
	char *d;

	(void)state;
	s = resolve_global(documented_defaults, &cfg);
	d = dump(s);
	assert_string_equal(d, documented_defaults);
	free(d);
	settings_free(s);
	config_free(cfg);
	/* Written as the manual writes them. */
	s = resolve_global("BanFindTime 10m\nBanTime 1h\nBanTimeMax 1w\n"
	    "LoginGraceTime 60s\n", &cfg);
	d = dump(s);
	assert_string_equal(d, documented_defaults);
	free(d);
	settings_free(s);
	config_free(cfg);
}

/* What -T prints reads back as the same settings: operators paste it. */
static void
test_dump_round_trip(void **state)
{
	const char *const inputs[] = { "", every_keyword };
	struct config *cfg, *cfg2;
	struct settings *s, *s2;
	char *d, *d2;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		s = resolve_global(inputs[i], &cfg);
		d = dump(s);
		s2 = resolve_global(d, &cfg2);
		d2 = dump(s2);
		assert_string_equal(d, d2);
		free(d);
		free(d2);
		settings_free(s);
		settings_free(s2);
		config_free(cfg);
		config_free(cfg2);
	}
}

/* ---------------------------------------------------------------- */
/* Bounds */

static void
test_long_lines(void **state)
{
	struct config *cfg;
	struct settings *s;
	char *text;
	size_t i, n;

	(void)state;
	text = malloc(8192);
	assert_non_null(text);
	/* Exactly 4096 bytes (the limit) is accepted: a comment... */
	text[0] = '#';
	memset(text + 1, 'x', 4095);
	strcpy(text + 4096, "\nPermitTTY no\n");
	s = resolve_global(text, &cfg);
	assert_false(s->permit_tty);
	settings_free(s);
	config_free(cfg);
	/* ...and a real line: AcceptEnv with many patterns up to 4096. */
	n = (size_t)snprintf(text, 8192, "AcceptEnv");
	for (i = 0; n + 19 <= 4096; i++)
		n += (size_t)snprintf(text + n, 8192 - n, " VARIABLE_NAME_%04zu", i);
	while (n < 4096)
		text[n++] = ' ';
	strcpy(text + n, "\n");
	assert_int_equal(strlen(text), 4097);
	s = resolve_global(text, &cfg);
	assert_int_equal(s->accept_env.n, i);
	assert_true(i > 200);
	settings_free(s);
	config_free(cfg);
	/* At most 256 arguments on a line, however short. */
	n = (size_t)snprintf(text, 8192, "AcceptEnv");
	for (i = 0; i < 257; i++)
		n += (size_t)snprintf(text + n, 8192 - n, " V");
	strcpy(text + n, "\n");
	load_err(text, "1: too many arguments for \"AcceptEnv\"");
	text[n - 2] = '\0';
	strcat(text, "\n");
	s = resolve_global(text, &cfg);
	assert_int_equal(s->accept_env.n, 256);
	settings_free(s);
	config_free(cfg);
	free(text);
}

static void
test_long_line_refused(void **state)
{
	char *text;

	(void)state;
	text = malloc(8192);
	assert_non_null(text);
	strcpy(text, "PermitTTY no\n\n");
	memset(text + 14, 'x', 4097);
	strcpy(text + 14 + 4097, "\nPermitTTY yes\n");
	load_err(text, "3: line too long (more than 4096 bytes)");
	/* A long quoted path: each part bounded, the line too. */
	strcpy(text, "Banner \"/");
	memset(text + 9, 'b', 5000);
	strcpy(text + 9 + 5000, "\"\n");
	load_err(text, "1: line too long (more than 4096 bytes)");
	free(text);
}

/* 10,000 lines: global keywords, comments, blank lines and many Match
 * blocks; it loads, resolves right, and an error at the end reports the
 * right line number.  (How fast is make bench's business, not a test's.) */
static void
test_big_file(void **state)
{
	struct config *cfg;
	struct settings *s;
	char *text, *p;
	size_t cap = 10000 * 64, i;
	unsigned lines = 0;

	(void)state;
	text = malloc(cap);
	assert_non_null(text);
	p = text;
	p += sprintf(p, "MaxAuthTries 4\n");
	lines++;
	for (i = 0; lines < 5000; i++) {
		p += sprintf(p, "# comment %zu\n\nPermitTTY %s\n", i,
		    i % 2 ? "yes" : "no");
		lines += 3;
	}
	for (i = 0; lines + 2 < 10000; i++) {
		p += sprintf(p, "Match User user%zu\n\tMaxAuthTries %zu\n",
		    i, 1 + i % 1000);
		lines += 2;
	}
	for (; lines < 10000 - 1; lines++)
		p += sprintf(p, "\n");
	p += sprintf(p, "Match User user*\n");
	lines++;
	assert_int_equal(lines, 10000);
	assert_true((size_t)(p - text) < cap);
	cfg = load_ok(text);
	s = resolve(cfg, "user2000", NULL, 0, NULL);
	assert_int_equal(s->max_auth_tries, 1 + 2000 % 1000);
	assert_false(s->permit_tty);	/* the first of 1667 */
	settings_free(s);
	s = resolve(cfg, "nobody", NULL, 0, NULL);
	assert_int_equal(s->max_auth_tries, 4);
	settings_free(s);
	config_free(cfg);

	/* The same file with a mistake on its last line. */
	sprintf(p - strlen("Match User user*\n"), "Match Usr user*\n");
	load_err(text, "10000: unsupported Match criterion \"Usr\"");
	free(text);
}

/* At most 1,000,000 lines: a file of exactly that many loads. */
static void
test_line_count_limit(void **state)
{
	const size_t max = 1000000;
	char *text;

	(void)state;
	text = malloc(max + 32);
	assert_non_null(text);
	memset(text, '\n', max);
	text[max] = '\0';
	config_free(load_ok(text));
	/* The last line without its newline counts too. */
	strcpy(text + max - 1, "PermitTTY no");
	config_free(load_ok(text));
	strcat(text, "\n#");
	load_err(text, "1000001: too many lines (more than 1000000)");
	free(text);
}

/* The fixed limits: lists, Match blocks and criteria. */
static void
test_count_limits(void **state)
{
	char *text, *p;
	size_t i;

	(void)state;
	text = malloc(4096 * 24 + 64);
	assert_non_null(text);
	/* 1025 AcceptEnv patterns over several lines. */
	p = text;
	for (i = 0; i < 1025; i++)
		p += sprintf(p, "AcceptEnv V%zu\n", i);
	load_err(text, "1025: too many values for \"AcceptEnv\" (more than 1024)");
	/* 4096 Match blocks load; the 4097th does not. */
	p = text;
	for (i = 0; i < 4096; i++)
		p += sprintf(p, "Match User u%zu\n", i);
	{
		struct config *cfg = load_ok(text);

		config_free(cfg);
	}
	sprintf(p, "Match All\n");
	load_err(text, "4097: too many Match blocks (more than 4096)");
	/* 16 criteria on one Match line; 17 is too many. */
	p = text;
	p += sprintf(p, "Match");
	for (i = 0; i < 16; i++)
		p += sprintf(p, " User u%zu", i);
	sprintf(p, "\n");
	config_free(load_ok(text));
	sprintf(p, " User x\n");
	load_err(text, "1: too many Match criteria");
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_keyword),
		cmocka_unit_test(test_value_spellings),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_algorithm_lists),
		cmocka_unit_test(test_error_value_shortened),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_match_user),
		cmocka_unit_test(test_match_group),
		cmocka_unit_test(test_match_address),
		cmocka_unit_test(test_match_all_and_global),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_subsystem_profile_follows),
		cmocka_unit_test(test_all_values_validated),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_equals_syntax),
		cmocka_unit_test(test_line_endings),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_accept_env),
		cmocka_unit_test(test_subsystem),
		cmocka_unit_test(test_ban_store),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_dump_round_trip),
		cmocka_unit_test(test_dump_defaults),
		cmocka_unit_test(test_defaults_read_back),
		cmocka_unit_test(test_config_settings_and_ban_params),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_long_line_refused),
		cmocka_unit_test(test_big_file),
		cmocka_unit_test(test_line_count_limit),
		cmocka_unit_test(test_count_limits),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
