/* Unit tests for what an existing sshd_config needs from the parser:
 * every OpenSSH 9 keyword known (honoured, noticed or refused, each with
 * its message), Include (globs, relative paths, loops, Match), the
 * access lists (AllowUsers, DenyUsers, AllowGroups, DenyGroups: patterns,
 * accumulation, sshd's order of checks), and the keywords added with
 * them (MaxSessions, ClientAlive*, RekeyLimit's sshd syntax,
 * Compression, TCPKeepAlive, RequiredRSASize) and what -T prints. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/access.h"
#include "policy/config-internal.h"
#include "policy/config.h"

static char dir[] = "/tmp/test_sshd_config.XXXXXX";

/* ---------------------------------------------------------------- */
/* Helpers */

/* dir/name holding text; subdirectories made as needed.  The path in a
 * static buffer of its own per call slot (four in turn). */
static const char *
put(const char *name, const char *text)
{
	static char paths[4][PATH_MAX];
	static unsigned slot;
	char *p = paths[slot++ % 4];
	FILE *f;

	snprintf(p, PATH_MAX, "%s/%s", dir, name);
	for (char *s = strchr(p + strlen(dir) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	f = fopen(p, "we");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return p;
}

static struct config *
load_path(const char *path)
{
	struct config *cfg = NULL;
	char err[1024] = "";
	int r = config_load_dir(path, dir, &cfg, err, sizeof(err));

	if (r != 0)
		fail_msg("config_load %s: %d: %s", path, r, err);
	return cfg;
}

static struct config *
load(const char *text)
{
	return load_path(put("sshand.conf", text));
}

/* want: the message after "sshand.conf:" (or, starting with '/', the
 * whole message). */
static void
load_err(const char *text, const char *want)
{
	struct config *cfg = (struct config *)0x1;
	char err[1024] = "", full[PATH_MAX + 1024];
	const char *path = put("sshand.conf", text);
	int r = config_load_dir(path, dir, &cfg, err, sizeof(err));

	if (want[0] == '/')
		snprintf(full, sizeof(full), "%s", want);
	else
		snprintf(full, sizeof(full), "%s:%s", path, want);
	if (r != -EINVAL || strcmp(err, full) != 0)
		fail_msg("config:\n%s\nwant \"%s\"\ngot  %d \"%s\"", text, full, r,
		    err);
	assert_ptr_equal(cfg, (struct config *)0x1);
}

static struct settings *
resolve(const struct config *cfg, const char *user, const char *group,
    const char *addr)
{
	const char *groups[1] = { group };
	struct match_ctx ctx = { .user = user, .groups = groups,
	    .n_groups = group != NULL, .addr = addr };
	struct settings *s = NULL;

	assert_int_equal(config_resolve(cfg, user || addr ? &ctx : NULL, &s), 0);
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

static bool
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

/* The notices of cfg, one per line, "sshand.conf:" prefixes cut. */
static char *
notices(const struct config *cfg)
{
	char *buf = NULL, prefix[PATH_MAX + 2];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	snprintf(prefix, sizeof(prefix), "%s/", dir);
	for (size_t i = 0; config_notice(cfg, i) != NULL; i++) {
		const char *n = config_notice(cfg, i);

		if (strncmp(n, prefix, strlen(prefix)) == 0)
			n += strlen(prefix);
		fprintf(f, "%s\n", n);
	}
	fclose(f);
	return buf;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---------------------------------------------------------------- */
/* Every sshd_config keyword */

/* OpenSSH 9.0 to 9.9's servconf.c keyword table, with the aliases and
 * the deprecated ones, and what Debian 12's patches add. */
static const char *const openssh9_keywords[] = {
	"acceptenv", "addressfamily", "afstokenpassing",
	"allowagentforwarding", "allowgroups", "allowstreamlocalforwarding",
	"allowtcpforwarding", "allowusers", "authenticationmethods",
	"authorizedkeyscommand", "authorizedkeyscommanduser",
	"authorizedkeysfile", "authorizedkeysfile2",
	"authorizedprincipalscommand", "authorizedprincipalscommanduser",
	"authorizedprincipalsfile", "banner", "casignaturealgorithms",
	"challengeresponseauthentication", "channeltimeout", "checkmail",
	"chrootdirectory", "ciphers", "clientalivecountmax",
	"clientaliveinterval", "compression", "denygroups", "denyusers",
	"disableforwarding", "dsaauthentication", "exposeauthinfo",
	"fingerprinthash", "forcecommand", "gatewayports",
	"gssapiauthentication", "gssapicleanupcredentials",
	"gssapistrictacceptorcheck", "hostbasedacceptedalgorithms",
	"hostbasedacceptedkeytypes", "hostbasedauthentication",
	"hostbasedusesnamefrompacketonly", "hostcertificate", "hostdsakey",
	"hostkey", "hostkeyagent", "hostkeyalgorithms", "ignorerhosts",
	"ignoreuserknownhosts", "include", "ipqos",
	"kbdinteractiveauthentication", "keepalive", "kerberosauthentication",
	"kerberosgetafstoken", "kerberosorlocalpasswd", "kerberostgtpassing",
	"kerberosticketcleanup", "kexalgorithms", "keyregenerationinterval",
	"listenaddress", "logingracetime", "loglevel", "logverbose", "macs",
	"match", "maxauthtries", "maxsessions", "maxstartups", "modulifile",
	"pamauthenticationviakbdint", "pamservicename",
	"passwordauthentication", "permitemptypasswords", "permitlisten",
	"permitopen", "permitrootlogin", "permittty", "permittunnel",
	"permituserenvironment", "permituserrc", "persourcemaxstartups",
	"persourcenetblocksize", "persourcepenalties",
	"persourcepenaltyexemptlist", "pidfile", "port", "printlastlog",
	"printmotd", "protocol", "pubkeyacceptedalgorithms",
	"pubkeyacceptedkeytypes", "pubkeyauthentication", "pubkeyauthoptions",
	"rdomain", "refuseconnection", "rekeylimit", "requiredrsasize",
	"reversemappingcheck", "revokedkeys", "rhostsauthentication",
	"rhostsrsaauthentication", "rsaauthentication", "securitykeyprovider",
	"serverkeybits", "setenv", "skeyauthentication", "sshdsessionpath",
	"streamlocalbindmask", "streamlocalbindunlink", "strictmodes",
	"subsystem", "syslogfacility", "tcpkeepalive", "trustedusercakeys",
	"unusedconnectiontimeout", "usedns", "uselogin", "usepam",
	"useprivilegeseparation", "verifyreversemapping", "versionaddendum",
	"x11displayoffset", "x11forwarding", "x11uselocalhost",
	"xauthlocation",
	/* Debian 12 */
	"debianbanner", "gssapicleanupcreds", "gssapikeyexchange",
	"gssapistorecredentialsonrekey", "gssapikexalgorithms",
	"gssusesessionccache", "gssapiusesessioncredcache",
	"permitblacklistedkeys",
};

static void
test_every_openssh_keyword_known(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(openssh9_keywords) /
	    sizeof(openssh9_keywords[0]); i++) {
		const char *k = openssh9_keywords[i];

		if (strcmp(k, "match") == 0 || strcmp(k, "include") == 0)
			continue;	/* the parser's own */
		if (keyword_lookup(k) == NULL && sshd_keyword_lookup(k) == NULL)
			fail_msg("sshd_config keyword \"%s\" unknown", k);
		/* Not both: one table says what it does. */
		if (keyword_lookup(k) != NULL && sshd_keyword_lookup(k) != NULL)
			fail_msg("\"%s\" in both tables", k);
	}
}

/* Accepted, with a notice at the line that says why it does not apply. */
static void
test_notices(void **state)
{
	static const struct {
		const char *line, *notice;
	} cases[] = {
		{ "UsePAM yes", "UsePAM: sshand always uses PAM" },
		{ "usepam YES", "UsePAM: sshand always uses PAM" },
		{ "Port 22", "Port: the listening socket is sshand.socket's: set "
		    "ListenStream= there (systemctl edit sshand.socket)" },
		{ "ListenAddress 0.0.0.0", "ListenAddress: the listening socket "
		    "is sshand.socket's" },
		{ "ListenAddress [::]:2222 rdomain 3", "ListenAddress: " },
		{ "AddressFamily inet", "AddressFamily: the listening socket" },
		{ "UseDNS no", "UseDNS: sshand never looks client addresses up" },
		{ "PidFile /run/sshd.pid", "PidFile: there is no daemon" },
		{ "PerSourcePenalties authfail:1m", "PerSourcePenalties: sshand's "
		    "ban file penalises failed logins" },
		{ "MaxStartups 10:30:100", NULL },	/* sshand's own */
		{ "PermitTunnel no", "PermitTunnel: tun device forwarding is not "
		    "implemented" },
		{ "ChrootDirectory none", NULL },	/* sshand's own */
		{ "ChrootDirectory %h", NULL },
		{ "Subsystem sftp internal-sftp -R -u 027 -l INFO", NULL },
		{ "AuthenticationMethods any", NULL },	/* sshand's own */
		{ "AuthenticationMethods publickey,password "
		    "publickey,keyboard-interactive", NULL },
		/* sshand's own: none. */
		{ "AuthorizedKeysCommand none", NULL },
		{ "AuthorizedKeysCommandUser nobody", NULL },
		/* sshand's own now. */
		{ "TrustedUserCAKeys none", NULL },
		{ "RevokedKeys none", NULL },
		{ "AuthorizedPrincipalsFile %h/.ssh/principals", NULL },
		{ "CASignatureAlgorithms -ssh-ed25519", NULL },
		{ "HostbasedAuthentication yes", "HostbasedAuthentication: "
		    "hostbased authentication is not implemented" },
		{ "IgnoreRhosts no", "IgnoreRhosts: sshand never reads .rhosts" },
		{ "SyslogFacility AUTHPRIV", "SyslogFacility: sshand logs to the "
		    "journal" },
		{ "PermitUserRC yes", NULL },
		{ "SetEnv FOO=bar", "SetEnv: not implemented: set session "
		    "variables with pam_env" },
		{ "Protocol 2", "Protocol: SSH protocol 2 is the only one" },
		{ "UsePrivilegeSeparation sandbox", "UsePrivilegeSeparation: "
		    "deprecated" },
		{ "GSSAPIAuthentication no", "GSSAPIAuthentication: GSSAPI is not "
		    "implemented" },
		{ "KerberosAuthentication no", "KerberosAuthentication: Kerberos" },
		{ "PubkeyAuthOptions touch-required verify-required",
		    "PubkeyAuthOptions: sshand accepts no security key" },
		{ "X11UseLocalhost yes", NULL },	/* sshand's own: none */
	};
	char text[512], want[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *cfg;
		char *n;

		snprintf(text, sizeof(text), "PermitTTY yes\n%s\n", cases[i].line);
		cfg = load(text);
		n = notices(cfg);
		if (cases[i].notice == NULL) {
			if (*n != '\0')
				fail_msg("%s: unexpected notice %s", cases[i].line, n);
		} else {
			snprintf(want, sizeof(want), "sshand.conf:2: %s", cases[i].notice);
			if (strncmp(n, want, strlen(want)) != 0 ||
			    strchr(n, '\n') != n + strlen(n) - 1)
				fail_msg("%s: want one notice \"%s...\", got \"%s\"",
				    cases[i].line, want, n);
		}
		free(n);
		config_free(cfg);
	}
}

/* Refused at the line: what ignoring would weaken, or asks for what is
 * not implemented; and bad values, and the Match scope, as sshd. */
static void
test_refusals(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "UsePAM no\n", "1: UsePAM no: sshand always uses PAM: write "
		    "UsePAM yes, or remove the line" },
		{ "UsePAM maybe\n", "1: bad value \"maybe\" for \"UsePAM\"" },
		{ "UseDNS yes\n", "1: UseDNS yes: not implemented: sshand never "
		    "resolves client addresses, so patterns naming hosts would not "
		    "match; use addresses and UseDNS no" },
		{ "PermitTunnel yes\n", "1: PermitTunnel yes: tun device forwarding "
		    "(ssh -w) is not implemented: write PermitTunnel no" },
		{ "PermitTunnel ethernet\n", "1: PermitTunnel ethernet: tun device "
		    "forwarding (ssh -w) is not implemented: write PermitTunnel no" },
		{ "PermitTunnel sometimes\n", "1: bad value \"sometimes\" for "
		    "\"PermitTunnel\"" },
		{ "Match Group sftponly\n\tChrootDirectory srv/%u\n",
		    "2: \"ChrootDirectory\" needs an absolute path (%h, %u and %% "
		    "expand) or none, not \"srv/%u\"" },
		{ "ChrootDirectory /srv/%d\n", "1: \"ChrootDirectory\" needs an "
		    "absolute path (%h, %u and %% expand) or none, not \"/srv/%d\"" },
		/* What would refuse the session refuses the line. */
		{ "Subsystem sftp internal-sftp -x\n",
		    "1: internal-sftp: unknown option -x" },
		{ "Match Group sftponly\n\tForceCommand internal-sftp -u 999\n",
		    "2: internal-sftp: bad umask \"999\"" },
		{ "Subsystem sftp internal-sftp -P remove,nosuch\n",
		    "1: internal-sftp: unknown request \"nosuch\"" },
		{ "AuthenticationMethods any publickey\n",
		    "1: \"any\" must be alone on a \"AuthenticationMethods\" "
		    "line" },
		{ "AuthenticationMethods publickey,passwd\n",
		    "1: bad list \"publickey,passwd\" for \"AuthenticationMethods\": "
		    "unknown authentication method" },
		{ "AuthenticationMethods publickey,,password\n",
		    "1: bad list \"publickey,,password\" for "
		    "\"AuthenticationMethods\": empty method in a list" },
		{ "AuthenticationMethods publickey,keyboard-interactive:bsdauth\n",
		    "1: bad list \"publickey,keyboard-interactive:bsdauth\" for "
		    "\"AuthenticationMethods\": submethods are not supported "
		    "(sshand's keyboard-interactive is always PAM)" },
		{ "AuthenticationMethods hostbased,publickey\n",
		    "1: bad list \"hostbased,publickey\" for "
		    "\"AuthenticationMethods\": this method is not implemented in "
		    "sshand" },
		/* sshd: "cannot be satisfied by enabled authentication
		 * methods"; one list that can be is enough. */
		{ "PasswordAuthentication no\nAuthenticationMethods "
		    "publickey,password password\n",
		    "2: AuthenticationMethods cannot be satisfied by enabled "
		    "authentication methods (each list names a method that is "
		    "disabled)" },
		{ "AuthorizedKeysCommand /usr/bin/keys %u\n",
		    "1: AuthorizedKeysCommand needs AuthorizedKeysCommandUser (the "
		    "user it runs as)" },
		/* libssh 0.10 cannot present one (config-sshd.c says where). */
		{ "HostCertificate /etc/ssh/host-cert.pub\n", "1: HostCertificate "
		    "/etc/ssh/host-cert.pub: host certificates cannot be offered: "
		    "libssh 0.10 as a server announces only plain host key "
		    "algorithms (server_set_kex, src/server.c) and sends the plain "
		    "key (ssh_get_key_params, src/server.c); remove the line "
		    "(clients then check the host key itself, through known_hosts)" },
		{ "AuthorizedPrincipalsCommand /usr/bin/p %u\n",
		    "1: AuthorizedPrincipalsCommand needs "
		    "AuthorizedPrincipalsCommandUser (the user it runs as)" },
		{ "AuthorizedPrincipalsFile %x/p\n", "1: \"AuthorizedPrincipalsFile\" "
		    "needs a path (%h, %u and %% expanded) or none, not \"%x/p\"" },
		{ "HostKeyAgent /run/agent\n", "1: HostKeyAgent /run/agent: host "
		    "keys held by an agent are not supported: give HostKey the "
		    "private key files" },
		{ "RefuseConnection yes\n", "1: RefuseConnection yes: not "
		    "implemented yet: refuse users with DenyUsers or DenyGroups, "
		    "addresses with sshandctl bans ban" },
		{ "PAMServiceName sshd\n", "1: PAMServiceName sshd: sshand's PAM "
		    "service is always sshand: put the PAM stack you want in "
		    "/etc/pam.d/sshand" },
		{ "Match User alice\n\tPort 2222\n",
		    "2: \"Port\" is not allowed inside Match" },
		{ "Match User alice\n\tUsePAM yes\n",
		    "2: \"UsePAM\" is not allowed inside Match" },
		{ "Port\n", "1: missing argument for \"Port\"" },
		{ "SyslogFacility KERN\n", "1: bad value \"KERN\" for "
		    "\"SyslogFacility\"" },
		{ "Port \"22\n", "1: unterminated quoted argument" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		load_err(cases[i].text, cases[i].want);
}

/* Harmless values in Match blocks, where sshd allows them. */
static void
test_match_scope(void **state)
{
	struct config *cfg;
	char *n;

	(void)state;
	cfg = load("Match User alice\n\tPermitTunnel no\n\tChrootDirectory none\n"
	    "\tAuthenticationMethods any\n\tX11Forwarding no\n");
	n = notices(cfg);
	assert_non_null(strstr(n, "sshand.conf:2: PermitTunnel:"));
	/* sshand's own keywords now: no notice. */
	assert_null(strstr(n, "ChrootDirectory"));
	assert_null(strstr(n, "AuthenticationMethods"));
	free(n);
	config_free(cfg);
}

/* AuthorizedKeysCommand and its user: sshd's keywords, global and in
 * Match, as -T prints them; a command left without a user is refused at
 * its line, in the file it is in. */
static void
test_keys_command(void **state)
{
	struct config *cfg;
	struct settings *s;
	char want[PATH_MAX + 256], *d;
	const char *inc;

	(void)state;
	cfg = load("AuthorizedKeysCommandUser nobody\n"
	    "Match User alice\n\tAuthorizedKeysCommand /usr/lib/keys %u %f\n"
	    "Match User bob\n\tAuthorizedKeysCommand /k\n"
	    "\tAuthorizedKeysCommandUser keys\n"
	    "Match User carol\n\tAuthorizedKeysCommandUser none\n");
	s = resolve(cfg, "alice", NULL, NULL);
	assert_string_equal(s->authorized_keys_command, "/usr/lib/keys %u %f");
	assert_string_equal(s->authorized_keys_command_user, "nobody");
	d = dump(s);
	assert_true(has_line(d, "authorizedkeyscommand /usr/lib/keys %u %f"));
	assert_true(has_line(d, "authorizedkeyscommanduser nobody"));
	free(d);
	settings_free(s);
	s = resolve(cfg, "bob", NULL, NULL);
	assert_string_equal(s->authorized_keys_command, "/k");
	assert_string_equal(s->authorized_keys_command_user, "keys");
	settings_free(s);
	/* No command: a user alone is harmless, and none unsets it. */
	s = resolve(cfg, "carol", NULL, NULL);
	assert_null(s->authorized_keys_command);
	assert_null(s->authorized_keys_command_user);
	d = dump(s);
	assert_true(has_line(d, "authorizedkeyscommand none"));
	assert_true(has_line(d, "authorizedkeyscommanduser none"));
	free(d);
	settings_free(s);
	config_free(cfg);

	/* The command in an included file, the user nowhere: that file's
	 * line. */
	inc = put("akc/keys.conf", "# keys\nAuthorizedKeysCommand /k %u\n");
	snprintf(want, sizeof(want), "%s:2: AuthorizedKeysCommand needs "
	    "AuthorizedKeysCommandUser (the user it runs as)", inc);
	load_err("PermitTTY yes\nInclude akc/keys.conf\n", want);
	/* The user given after the Include: fine. */
	cfg = load("Include akc/keys.conf\nAuthorizedKeysCommandUser nobody\n");
	config_free(cfg);
	/* A Match block naming none, under a global command. */
	load_err("AuthorizedKeysCommand /k\nAuthorizedKeysCommandUser n\n"
	    "Match Address 10.0.0.0/8\n\tAuthorizedKeysCommandUser none\n",
	    "4: AuthorizedKeysCommandUser none leaves AuthorizedKeysCommand "
	    "without a user to run as");
	/* Nothing of sshd's table says "not implemented" any more. */
	cfg = load("AuthorizedKeysCommand none\nAuthorizedKeysCommandUser nobody\n");
	d = notices(cfg);
	assert_string_equal(d, "");
	free(d);
	config_free(cfg);
}

/* The aliases sshd still reads. */
static void
test_aliases(void **state)
{
	struct config *cfg;
	struct settings *s;

	(void)state;
	cfg = load("HostDSAKey /k/one\nDSAAuthentication no\n"
	    "SKeyAuthentication no\nKeepAlive no\n");
	s = resolve(cfg, NULL, NULL, NULL);
	assert_int_equal(s->host_keys.n, 1);
	assert_string_equal(s->host_keys.v[0], "/k/one");
	assert_false(s->pubkey_authentication);
	assert_false(s->kbd_interactive_authentication);
	assert_false(s->tcp_keepalive);
	settings_free(s);
	config_free(cfg);
}

/* ---------------------------------------------------------------- */
/* Include */

static void
test_include_glob_in_order(void **state)
{
	struct config *cfg;
	struct settings *s;
	char text[PATH_MAX + 64];
	char *n;

	(void)state;
	put("conf.d/20-second.conf", "MaxAuthTries 2\nUsePAM yes\n");
	put("conf.d/10-first.conf", "# first\nMaxAuthTries 1\nBanner /etc/issue\n");
	put("conf.d/ignored.txt", "Frobnicate yes\n");
	/* sshd's rule: the first value wins, across files in glob order. */
	snprintf(text, sizeof(text), "Include %s/conf.d/*.conf\nMaxAuthTries 3\n"
	    "PermitTTY no\n", dir);
	cfg = load(text);
	s = resolve(cfg, NULL, NULL, NULL);
	assert_int_equal(s->max_auth_tries, 1);
	assert_string_equal(s->banner, "/etc/issue");
	assert_false(s->permit_tty);
	settings_free(s);
	/* Notices name the included file and its line. */
	n = notices(cfg);
	assert_string_equal(n, "conf.d/20-second.conf:2: UsePAM: sshand always "
	    "uses PAM (service sshand, /etc/pam.d/sshand): its account and "
	    "session stages run for every login\n");
	free(n);
	config_free(cfg);

	/* Relative: in the include directory (SSHAND_CONFIG_DIR for real). */
	cfg = load("Include conf.d/*.conf\n");
	s = resolve(cfg, NULL, NULL, NULL);
	assert_int_equal(s->max_auth_tries, 1);
	settings_free(s);
	config_free(cfg);

	/* Nothing matching is no error, as with sshd (an empty conf.d);
	 * several patterns on a line, each in turn. */
	snprintf(text, sizeof(text), "Include nothing/*.conf conf.d/20-second.conf "
	    "%s/conf.d/10-first.conf\n", dir);
	cfg = load(text);
	s = resolve(cfg, NULL, NULL, NULL);
	assert_int_equal(s->max_auth_tries, 2);
	settings_free(s);
	config_free(cfg);
}

static void
test_include_errors(void **state)
{
	char text[PATH_MAX * 2], want[PATH_MAX * 3];
	const char *a;

	(void)state;
	/* An error inside an included file is reported there. */
	a = put("bad/one.conf", "PermitTTY yes\nPermitTTY maybe\n");
	snprintf(want, sizeof(want), "%s:2: bad yes/no value \"maybe\" for "
	    "\"PermitTTY\"", a);
	load_err("Include bad/one.conf\n", want);
	load_err("Include\n", "1: missing argument for \"Include\"");
	load_err("Include ~/x.conf\n", "1: \"~\" is not expanded by Include: "
	    "write the full path");
	/* A loop: refused at the Include that closes it. */
	a = put("loop/a.conf", "Include loop/b.conf\n");
	put("loop/b.conf", "PermitTTY yes\n\nInclude loop/a.conf\n");
	snprintf(want, sizeof(want), "%s/loop/b.conf:3: Include loop: %s is "
	    "already being read", dir, a);
	load_err("Include loop/a.conf\n", want);
	/* Including itself. */
	snprintf(text, sizeof(text), "Include %s/sshand.conf\n", dir);
	snprintf(want, sizeof(want), "1: Include loop: %s/sshand.conf is already "
	    "being read", dir);
	load_err(text, want);
	/* A directory. */
	snprintf(want, sizeof(want), "1: Include: %s/loop: Is a directory", dir);
	load_err("Include loop\n", want);
}

static void
test_include_depth(void **state)
{
	char name[64], body[128], want[PATH_MAX + 128];

	(void)state;
	/* d0 includes d1 ... d16 includes d17: 17 levels below the file. */
	for (int i = 0; i <= INCLUDE_DEPTH_MAX; i++) {
		snprintf(name, sizeof(name), "deep/d%d.conf", i);
		snprintf(body, sizeof(body), "Include deep/d%d.conf\n", i + 1);
		put(name, body);
	}
	put("deep/d17.conf", "PermitTTY yes\n");
	snprintf(want, sizeof(want), "%s/deep/d15.conf:1: Include nested too "
	    "deeply (more than %d levels)", dir, INCLUDE_DEPTH_MAX);
	load_err("Include deep/d0.conf\n", want);
	/* Sixteen levels are fine. */
	put("deep/d15.conf", "PermitTTY no\n");
	{
		struct config *cfg = load("Include deep/d0.conf\n");
		struct settings *s = resolve(cfg, NULL, NULL, NULL);

		assert_false(s->permit_tty);
		settings_free(s);
		config_free(cfg);
	}
}

/* sshd's Match rules across Include: lines of a file included inside a
 * Match block belong to it; that file's own Match blocks apply only
 * where the outer one does; after the Include the outer block goes on,
 * in file order. */
static void
test_include_in_match(void **state)
{
	struct config *cfg;
	struct settings *s;

	(void)state;
	put("m/inner.conf", "MaxAuthTries 2\nMatch Address 10.0.0.0/8\n"
	    "\tMaxAuthTries 3\n\tPermitTTY no\n");
	cfg = load("Match User alice\n\tInclude m/inner.conf\n\tPermitTTY yes\n"
	    "\tBanner /b\nMatch All\n\tBanner /c\n\tPermitTTY no\n");
	/* alice from elsewhere: the outer block, continued after the
	 * Include (its Banner /b); the inner Match does not apply. */
	s = resolve(cfg, "alice", NULL, "192.0.2.1");
	assert_int_equal(s->max_auth_tries, 2);
	assert_true(s->permit_tty);
	assert_string_equal(s->banner, "/b");
	settings_free(s);
	/* alice from 10/8: MaxAuthTries 2 came first; the inner block's
	 * PermitTTY no precedes the outer block's later PermitTTY yes. */
	s = resolve(cfg, "alice", NULL, "10.1.2.3");
	assert_int_equal(s->max_auth_tries, 2);
	assert_false(s->permit_tty);
	assert_string_equal(s->banner, "/b");
	settings_free(s);
	/* bob from 10/8: the inner block is alice's only. */
	s = resolve(cfg, "bob", NULL, "10.1.2.3");
	assert_int_equal(s->max_auth_tries, 6);
	assert_false(s->permit_tty);
	assert_string_equal(s->banner, "/c");
	settings_free(s);
	config_free(cfg);

	/* A file included at the top: its Match ends with it. */
	put("m/top.conf", "Match User bob\n\tPermitTTY no\n");
	cfg = load("Include m/top.conf\nBanner /g\n");
	s = resolve(cfg, "alice", NULL, "192.0.2.1");
	assert_string_equal(s->banner, "/g");
	assert_true(s->permit_tty);
	settings_free(s);
	s = resolve(cfg, "bob", NULL, "192.0.2.1");
	assert_string_equal(s->banner, "/g");
	assert_false(s->permit_tty);
	settings_free(s);
	config_free(cfg);
	/* Global-only keywords stay so in an included Match. */
	{
		char want[PATH_MAX + 128];

		put("m/g.conf", "Match User bob\n\tLoginGraceTime 5\n");
		snprintf(want, sizeof(want), "%s/m/g.conf:2: \"LoginGraceTime\" is "
		    "not allowed inside Match", dir);
		load_err("Include m/g.conf\n", want);
		put("m/h.conf", "LoginGraceTime 5\n");
		snprintf(want, sizeof(want), "%s/m/h.conf:1: \"LoginGraceTime\" is "
		    "not allowed inside Match", dir);
		load_err("Match User bob\nInclude m/h.conf\n", want);
	}
}

/* A HostKey is reported where it is named. */
static void
test_include_host_key_where(void **state)
{
	struct config *cfg;
	char want[PATH_MAX + 32];

	(void)state;
	put("hk/keys.conf", "\nHostKey /k/two\n");
	cfg = load("HostKey /k/one\nInclude hk/keys.conf\n");
	snprintf(want, sizeof(want), "%s/sshand.conf:1", dir);
	assert_string_equal(config_host_key_where(cfg, "/k/one"), want);
	snprintf(want, sizeof(want), "%s/hk/keys.conf:2", dir);
	assert_string_equal(config_host_key_where(cfg, "/k/two"), want);
	assert_null(config_host_key_where(cfg, "/k/three"));
	config_free(cfg);
}

/* ---------------------------------------------------------------- */
/* AllowUsers, DenyUsers, AllowGroups, DenyGroups */

static void
test_user_patterns(void **state)
{
	static const struct {
		const char *pattern, *user, *addr;
		bool match;
	} cases[] = {
		{ "alice", "alice", "192.0.2.1", true },
		{ "alice", "bob", "192.0.2.1", false },
		{ "al*", "alice", "192.0.2.1", true },
		{ "?lice", "alice", "192.0.2.1", true },
		{ "alice@192.0.2.1", "alice", "192.0.2.1", true },
		{ "alice@192.0.2.1", "alice", "192.0.2.2", false },
		{ "alice@192.0.2.0/24", "alice", "192.0.2.77", true },
		{ "alice@192.0.2.0/24", "alice", "198.51.100.1", false },
		{ "alice@192.0.2.*", "alice", "192.0.2.9", true },
		{ "*@10.0.0.0/8,!10.9.0.0/16", "bob", "10.1.1.1", true },
		{ "*@10.0.0.0/8,!10.9.0.0/16", "bob", "10.9.1.1", false },
		{ "*@!10.9.0.0/16", "bob", "10.9.1.1", false },
		{ "alice@2001:DB8::/32", "alice", "2001:db8::5", true },
		{ "alice@2001:db8::*", "alice", "2001:db8::5", true },
		{ "alice@::1", "alice", "::1", true },
		/* user part: one glob, as sshd (no list, no negation) */
		{ "alice,bob", "bob", "192.0.2.1", false },
		{ "a@b@192.0.2.1", "a@b", "192.0.2.1", true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why;

		if (!access_user_pattern_ok(cases[i].pattern, &why))
			fail_msg("%s refused: %s", cases[i].pattern, why);
		if (access_user_match(cases[i].user, cases[i].addr,
		    cases[i].pattern) != cases[i].match)
			fail_msg("%s %s@%s: want %d", cases[i].pattern, cases[i].user,
			    cases[i].addr, cases[i].match);
	}
}

static void
test_user_pattern_errors(void **state)
{
	(void)state;
	load_err("DenyUsers bob@evil.example.com\n", "1: bad pattern "
	    "\"bob@evil.example.com\" for \"DenyUsers\": a bad address list "
	    "after '@' (addresses, CIDRs or address patterns, comma-separated)");
	load_err("AllowUsers alice@*.example.com\n", "1: bad pattern "
	    "\"alice@*.example.com\" for \"AllowUsers\": a host name pattern "
	    "after '@': sshand never looks client addresses up (as sshd with "
	    "UseDNS no), so it could never match; write addresses or CIDRs");
	load_err("AllowUsers @10.0.0.1\n", "1: bad pattern \"@10.0.0.1\" for "
	    "\"AllowUsers\": no user before '@' (write *@ADDRESS for every "
	    "user)");
	load_err("AllowUsers alice@10.0.0.0/33\n", "1: bad pattern "
	    "\"alice@10.0.0.0/33\" for \"AllowUsers\": a bad address list after "
	    "'@' (addresses, CIDRs or address patterns, comma-separated)");
	load_err("AllowUsers\n", "1: missing argument for \"AllowUsers\"");
	load_err("AllowGroups\n", "1: missing argument for \"AllowGroups\"");
}

/* sshd appends every line; the Match blocks that apply, all of them,
 * replace the global list. */
static void
test_access_lists_accumulate(void **state)
{
	struct config *cfg;
	struct settings *s;
	char *d;

	(void)state;
	cfg = load("AllowUsers alice bob\nAllowUsers carol\nDenyUsers mallory\n"
	    "Match Address 10.0.0.0/8\n\tAllowUsers dave\n"
	    "Match Group admins\n\tAllowUsers erin\n\tDenyGroups guests\n");
	s = resolve(cfg, NULL, NULL, NULL);
	assert_int_equal(s->allow_users.n, 3);
	assert_string_equal(s->allow_users.v[2], "carol");
	d = dump(s);
	assert_true(has_line(d, "allowusers alice"));
	assert_true(has_line(d, "allowusers carol"));
	assert_true(has_line(d, "denyusers mallory"));
	free(d);
	settings_free(s);
	s = resolve(cfg, "erin", "admins", "10.1.1.1");
	assert_int_equal(s->allow_users.n, 2);
	assert_string_equal(s->allow_users.v[0], "dave");
	assert_string_equal(s->allow_users.v[1], "erin");
	/* DenyUsers was set in no matching block: the global one stays. */
	assert_int_equal(s->deny_users.n, 1);
	assert_int_equal(s->deny_groups.n, 1);
	settings_free(s);
	s = resolve(cfg, "erin", "users", "192.0.2.1");
	assert_int_equal(s->allow_users.n, 3);
	assert_int_equal(s->deny_groups.n, 0);
	settings_free(s);
	config_free(cfg);
}

static void
test_access_check_order(void **state)
{
	static const struct {
		const char *conf, *user, *group, *addr;
		enum access_verdict want;
	} cases[] = {
		{ "", "alice", "alice", "192.0.2.1", ACCESS_OK },
		{ "DenyUsers bob", "alice", "alice", "192.0.2.1", ACCESS_OK },
		{ "DenyUsers alice", "alice", "alice", "192.0.2.1",
		    ACCESS_DENY_USERS },
		{ "DenyUsers alice@10.0.0.0/8", "alice", "alice", "192.0.2.1",
		    ACCESS_OK },
		{ "DenyUsers alice@10.0.0.0/8", "alice", "alice", "10.0.0.1",
		    ACCESS_DENY_USERS },
		{ "AllowUsers bob", "alice", "alice", "192.0.2.1",
		    ACCESS_ALLOW_USERS },
		{ "AllowUsers bob alice@192.0.2.0/24", "alice", "alice",
		    "192.0.2.1", ACCESS_OK },
		{ "AllowUsers alice@192.0.2.0/24", "alice", "alice",
		    "198.51.100.1", ACCESS_ALLOW_USERS },
		/* DenyUsers comes first, whatever AllowUsers says. */
		{ "AllowUsers alice\nDenyUsers al*", "alice", "alice",
		    "192.0.2.1", ACCESS_DENY_USERS },
		/* The user checks come before the group checks. */
		{ "AllowUsers bob\nDenyGroups alice", "alice", "alice",
		    "192.0.2.1", ACCESS_ALLOW_USERS },
		{ "DenyGroups wheel alice", "alice", "alice", "192.0.2.1",
		    ACCESS_DENY_GROUPS },
		{ "AllowGroups wheel", "alice", "alice", "192.0.2.1",
		    ACCESS_ALLOW_GROUPS },
		{ "AllowGroups wheel ali*", "alice", "alice", "192.0.2.1",
		    ACCESS_OK },
		{ "AllowGroups alice\nDenyGroups alice", "alice", "alice",
		    "192.0.2.1", ACCESS_DENY_GROUPS },
		{ "AllowGroups alice", "alice", NULL, "192.0.2.1",
		    ACCESS_NO_GROUP },
		{ "AllowUsers alice\nAllowGroups alice", "alice", "alice",
		    "192.0.2.1", ACCESS_OK },
	};
	char text[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *cfg;
		struct settings *s;
		const char *groups[1] = { cases[i].group };
		enum access_verdict v;

		snprintf(text, sizeof(text), "%s\n", cases[i].conf);
		cfg = load(text);
		s = resolve(cfg, cases[i].user, cases[i].group, cases[i].addr);
		v = access_check(s, cases[i].user, groups, cases[i].group != NULL,
		    cases[i].addr);
		if (v != cases[i].want)
			fail_msg("%s / %s: want %d, got %d", cases[i].conf,
			    cases[i].user, cases[i].want, v);
		settings_free(s);
		config_free(cfg);
	}
	assert_null(access_reason(ACCESS_OK));
	assert_string_equal(access_reason(ACCESS_DENY_USERS), "DenyUsers");
	assert_string_equal(access_reason(ACCESS_ALLOW_GROUPS), "AllowGroups");
	assert_string_equal(access_why(ACCESS_ALLOW_USERS), "not listed in "
	    "AllowUsers");
}

/* ---------------------------------------------------------------- */
/* The other keywords an sshd_config has */

static void
test_sessions_and_alive(void **state)
{
	struct config *cfg;
	struct settings *s;
	char *n;

	(void)state;
	cfg = load("MaxSessions 2\nClientAliveInterval 1m\nClientAliveCountMax 0\n"
	    "Match User bob\n\tMaxSessions 0\n\tClientAliveInterval 15\n");
	s = resolve(cfg, NULL, NULL, NULL);
	assert_int_equal(s->max_sessions, 2);
	assert_int_equal(s->client_alive_interval, 60);
	assert_int_equal(s->client_alive_count_max, 0);
	settings_free(s);
	s = resolve(cfg, "bob", NULL, "192.0.2.1");
	assert_int_equal(s->max_sessions, 0);
	assert_int_equal(s->client_alive_interval, 15);
	settings_free(s);
	config_free(cfg);
	/* More than a connection can have: the most, said. */
	cfg = load("MaxSessions 50\n");
	s = resolve(cfg, NULL, NULL, NULL);
	assert_int_equal(s->max_sessions, SSHAND_MAX_SESSIONS);
	settings_free(s);
	n = notices(cfg);
	assert_string_equal(n, "sshand.conf:1: MaxSessions 50: sshand serves at "
	    "most 10 sessions per connection; 10 apply\n");
	free(n);
	config_free(cfg);
	load_err("ClientAliveInterval 4w\n", "1: value \"4w\" for "
	    "\"ClientAliveInterval\" out of range (0..2147483)");
	load_err("ClientAliveCountMax -1\n", "1: bad number \"-1\" for "
	    "\"ClientAliveCountMax\"");
	/* UnusedConnectionTimeout: none, or sshd's time; in Match. */
	cfg = load("UnusedConnectionTimeout 1m30s\n"
	    "Match User bob\n\tUnusedConnectionTimeout none\n"
	    "Match User carol\n\tUnusedConnectionTimeout 0\n");
	s = resolve(cfg, NULL, NULL, NULL);
	assert_int_equal(s->unused_connection_timeout, 90);
	settings_free(s);
	s = resolve(cfg, "bob", NULL, "192.0.2.1");
	assert_int_equal(s->unused_connection_timeout, 0);
	settings_free(s);
	s = resolve(cfg, "carol", NULL, "192.0.2.1");
	assert_int_equal(s->unused_connection_timeout, 0);
	settings_free(s);
	config_free(cfg);
	cfg = load("");
	s = resolve(cfg, NULL, NULL, NULL);
	assert_int_equal(s->unused_connection_timeout, 0);
	settings_free(s);
	config_free(cfg);
	load_err("UnusedConnectionTimeout never\n", "1: bad time \"never\" for "
	    "\"UnusedConnectionTimeout\"");
	load_err("UnusedConnectionTimeout 4w\n", "1: value \"4w\" for "
	    "\"UnusedConnectionTimeout\" out of range (0..2147483)");
	load_err("MaxSessions many\n", "1: bad number \"many\" for "
	    "\"MaxSessions\"");
	/* ChannelTimeout: none alone, or type=interval entries kept as
	 * written; the first line wins, Match included, as in sshd. */
	cfg = load("ChannelTimeout session:*=5m direct-tcpip=90\n"
	    "ChannelTimeout x11-connection=1\n"
	    "Match User bob\n\tChannelTimeout none\n"
	    "Match User carol\n\tChannelTimeout session:shell=1h30m\n");
	s = resolve(cfg, NULL, NULL, NULL);
	assert_int_equal(s->channel_timeouts.n, 2);
	assert_string_equal(s->channel_timeouts.v[0], "session:*=5m");
	assert_string_equal(s->channel_timeouts.v[1], "direct-tcpip=90");
	settings_free(s);
	s = resolve(cfg, "bob", NULL, "192.0.2.1");
	assert_int_equal(s->channel_timeouts.n, 0);
	settings_free(s);
	s = resolve(cfg, "carol", NULL, "192.0.2.1");
	assert_int_equal(s->channel_timeouts.n, 1);
	assert_string_equal(s->channel_timeouts.v[0], "session:shell=1h30m");
	assert_int_equal(chantimeout_for(&s->channel_timeouts, "session:shell"), 5400);
	assert_int_equal(chantimeout_for(&s->channel_timeouts, "session:command"), 0);
	settings_free(s);
	/* The interval of a channel type: the first entry that matches. */
	s = resolve(cfg, NULL, NULL, NULL);
	assert_int_equal(chantimeout_for(&s->channel_timeouts, "session:subsystem:sftp"), 300);
	assert_int_equal(chantimeout_for(&s->channel_timeouts, "direct-tcpip"), 90);
	assert_int_equal(chantimeout_for(&s->channel_timeouts, "x11-connection"), 0);
	settings_free(s);
	s = resolve(cfg, "bob", NULL, "192.0.2.1");
	assert_int_equal(chantimeout_for(&s->channel_timeouts, "session:shell"), 0);
	settings_free(s);
	config_free(cfg);
	cfg = load("ChannelTimeout session:shell=3 session:*=9 none=4\n");
	s = resolve(cfg, NULL, NULL, NULL);
	assert_int_equal(chantimeout_for(&s->channel_timeouts, "session:shell"), 3);
	assert_int_equal(chantimeout_for(&s->channel_timeouts, "session:command"), 9);
	settings_free(s);
	config_free(cfg);
	cfg = load("");
	s = resolve(cfg, NULL, NULL, NULL);
	assert_int_equal(s->channel_timeouts.n, 0);
	settings_free(s);
	config_free(cfg);
	{
		char pat[CHANTIMEOUT_MAX_LEN + 1];
		unsigned secs;

		assert_int_equal(chantimeout_parse("session:*=5m", pat,
		    sizeof(pat), &secs), 0);
		assert_string_equal(pat, "session:*");
		assert_int_equal(secs, 300);
		assert_int_equal(chantimeout_parse("a=b=1", pat, sizeof(pat),
		    &secs), -EINVAL);
		assert_int_equal(chantimeout_parse("direct-tcpip=0", pat,
		    sizeof(pat), &secs), 0);
		assert_int_equal(secs, 0);
	}
	load_err("ChannelTimeout session\n", "1: bad timeout \"session\" for "
	    "\"ChannelTimeout\" (type=interval, the interval in seconds or "
	    "sshd's time format)");
	load_err("ChannelTimeout x=1 =5m\n", "1: bad timeout \"=5m\" for "
	    "\"ChannelTimeout\" (type=interval, the interval in seconds or "
	    "sshd's time format)");
	load_err("ChannelTimeout session=soon\n", "1: bad timeout "
	    "\"session=soon\" for \"ChannelTimeout\" (type=interval, the "
	    "interval in seconds or sshd's time format)");
	load_err("ChannelTimeout none session=5\n", "1: \"none\" must be "
	    "alone on a \"ChannelTimeout\" line");
	/* The bounds AUTH_RESULT carries: 16 entries of 128 characters. */
	{
		char line[4096], want[256], entry[CHANTIMEOUT_MAX_LEN + 2];
		size_t off;

		memset(entry, 'x', sizeof(entry));
		entry[CHANTIMEOUT_MAX_LEN - 2] = '=';
		entry[CHANTIMEOUT_MAX_LEN - 1] = '1';
		entry[CHANTIMEOUT_MAX_LEN] = '\0';	/* 128: the longest */
		snprintf(line, sizeof(line), "ChannelTimeout %s\n", entry);
		cfg = load(line);
		s = resolve(cfg, NULL, NULL, NULL);
		assert_int_equal(s->channel_timeouts.n, 1);
		assert_int_equal(strlen(s->channel_timeouts.v[0]), CHANTIMEOUT_MAX_LEN);
		settings_free(s);
		config_free(cfg);
		entry[CHANTIMEOUT_MAX_LEN - 2] = 'x';	/* 129: one too many */
		entry[CHANTIMEOUT_MAX_LEN - 1] = '=';
		entry[CHANTIMEOUT_MAX_LEN] = '1';
		entry[CHANTIMEOUT_MAX_LEN + 1] = '\0';
		snprintf(line, sizeof(line), "ChannelTimeout %s\n", entry);
		snprintf(want, sizeof(want), "1: timeout \"%.64s...\" for "
		    "\"ChannelTimeout\" longer than 128 characters", entry);
		load_err(line, want);
		off = (size_t)snprintf(line, sizeof(line), "ChannelTimeout");
		for (int i = 0; i < CHANTIMEOUT_MAX; i++)
			off += (size_t)snprintf(line + off, sizeof(line) - off,
			    " t%d=1", i);
		snprintf(line + off, sizeof(line) - off, "\n");
		cfg = load(line);
		s = resolve(cfg, NULL, NULL, NULL);
		assert_int_equal(s->channel_timeouts.n, CHANTIMEOUT_MAX);
		settings_free(s);
		config_free(cfg);
		snprintf(line + off, sizeof(line) - off, " t16=1\n");
		load_err(line, "1: too many timeouts for \"ChannelTimeout\" "
		    "(at most 16)");
	}
}

static void
test_rekey_limit(void **state)
{
	static const struct {
		const char *line;
		uint64_t bytes;
		unsigned seconds;
	} ok[] = {
		{ "RekeyLimit default none", 0, 0 },
		{ "RekeyLimit 0", 0, 0 },
		{ "RekeyLimit 1048576", 1048576, 0 },
		{ "RekeyLimit 512M 1h", 512ull << 20, 3600 },
		{ "RekeyLimit 4G", 4ull << 30, 0 },
		{ "RekeyLimit 64k 30m", 64 << 10, 1800 },
		{ "RekeyLimit default 600", 0, 600 },
	};
	char text[128];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct config *cfg;
		struct settings *s;

		snprintf(text, sizeof(text), "%s\n", ok[i].line);
		cfg = load(text);
		s = resolve(cfg, NULL, NULL, NULL);
		if (s->rekey_limit.bytes != ok[i].bytes ||
		    s->rekey_limit.seconds != ok[i].seconds)
			fail_msg("%s: got %llu %u", ok[i].line,
			    (unsigned long long)s->rekey_limit.bytes,
			    s->rekey_limit.seconds);
		settings_free(s);
		config_free(cfg);
	}
	load_err("RekeyLimit 8\n", "1: \"RekeyLimit\" size 8 too small (16 bytes "
	    "at least)");
	load_err("RekeyLimit 1T\n", "1: bad size \"1T\" for \"RekeyLimit\"");
	load_err("RekeyLimit 1G forever\n", "1: bad time \"forever\" for "
	    "\"RekeyLimit\" (up to 4294967 s, or none)");
	load_err("RekeyLimit 1G 1h 1\n", "1: unexpected extra argument \"1\" for "
	    "\"RekeyLimit\"");
}

static void
test_other_keywords(void **state)
{
	struct config *cfg;
	struct settings *s;
	char *d;

	(void)state;
	cfg = load("Compression delayed\nTCPKeepAlive no\nRequiredRSASize 3072\n");
	s = resolve(cfg, NULL, NULL, NULL);
	assert_true(s->compression);
	assert_false(s->tcp_keepalive);
	assert_int_equal(s->required_rsa_size, 3072);
	d = dump(s);
	assert_true(has_line(d, "compression yes"));
	assert_true(has_line(d, "tcpkeepalive no"));
	assert_true(has_line(d, "requiredrsasize 3072"));
	free(d);
	settings_free(s);
	config_free(cfg);
	cfg = load("Compression no\n");
	s = resolve(cfg, NULL, NULL, NULL);
	assert_false(s->compression);
	settings_free(s);
	config_free(cfg);
	load_err("Compression zlib\n", "1: bad value \"zlib\" for \"Compression\" "
	    "(yes, delayed or no)");
	load_err("RequiredRSASize 768\n", "1: value \"768\" for "
	    "\"RequiredRSASize\" out of range (1024..16384)");
	load_err("Match User x\n\tCompression no\n",
	    "2: \"Compression\" is not allowed inside Match");
}

/* What -T prints is sshd -T's format, and reads back. */
static void
test_dump_reads_back(void **state)
{
	static const char text[] =
	    "RekeyLimit 1G 1h\nCompression no\nTCPKeepAlive no\n"
	    "PermitRootLogin prohibit-password\n"
	    "AllowUsers alice bob@10.0.0.0/8\nDenyUsers mallory\n"
	    "AllowGroups staff\nDenyGroups guests nobody\n"
	    "MaxSessions 3\nClientAliveInterval 5m\nClientAliveCountMax 2\n"
	    "UnusedConnectionTimeout 2m\nRequiredRSASize 2048\n"
	    "ChannelTimeout session:command=1m agent-connection=1h\n";
	struct config *cfg, *cfg2;
	struct settings *s, *s2;
	char *d, *d2, *dumped;

	(void)state;
	cfg = load(text);
	s = resolve(cfg, NULL, NULL, NULL);
	d = dump(s);
	assert_true(has_line(d, "rekeylimit 1073741824 3600"));
	assert_true(has_line(d, "permitrootlogin without-password"));
	assert_true(has_line(d, "allowusers bob@10.0.0.0/8"));
	assert_true(has_line(d, "denygroups nobody"));
	assert_true(has_line(d, "maxsessions 3"));
	assert_true(has_line(d, "clientaliveinterval 300"));
	assert_true(has_line(d, "unusedconnectiontimeout 120"));
	assert_true(has_line(d, "channeltimeout session:command=1m agent-connection=1h"));
	assert_true(has_line(d, "usepam yes"));
	assert_true(has_line(d, "permittunnel no"));
	assert_true(has_line(d, "authenticationmethods any"));
	assert_true(has_line(d, "chrootdirectory none"));
	dumped = strdup(d);
	cfg2 = load(dumped);
	s2 = resolve(cfg2, NULL, NULL, NULL);
	d2 = dump(s2);
	assert_string_equal(d, d2);
	free(d);
	free(d2);
	free(dumped);
	settings_free(s);
	settings_free(s2);
	config_free(cfg);
	config_free(cfg2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_openssh_keyword_known),
		cmocka_unit_test(test_notices),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_match_scope),
		cmocka_unit_test(test_keys_command),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_include_glob_in_order),
		cmocka_unit_test(test_include_errors),
		cmocka_unit_test(test_include_depth),
		cmocka_unit_test(test_include_in_match),
		cmocka_unit_test(test_include_host_key_where),
		cmocka_unit_test(test_user_patterns),
		cmocka_unit_test(test_user_pattern_errors),
		cmocka_unit_test(test_access_lists_accumulate),
		cmocka_unit_test(test_access_check_order),
		cmocka_unit_test(test_sessions_and_alive),
		cmocka_unit_test(test_rekey_limit),
		cmocka_unit_test(test_other_keywords),
		cmocka_unit_test(test_dump_reads_back),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
