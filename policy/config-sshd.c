/* The keywords of OpenSSH 9's sshd_config (servconf.c's table, and those
 * Debian's patches add) that sshand has no setting of its own for.  An
 * administrator starts from the sshd_config they have: each of these is
 * either accepted with a notice that says why it does not apply to a
 * socket-activated sshand and what to do instead, or refused at its line
 * where ignoring it would weaken security (a second factor, revoked keys)
 * or where it asks for what is not implemented.
 *
 * Where sshand's behaviour amounts to one of sshd's values (UsePAM yes,
 * PermitTunnel no...), that value is what -T prints, so that whoever
 * checks "sshd -T" output (a compliance scanner, say) finds it.
 *
 * sshd's keywords that sshand does have are in keywords.def; a unit test
 * holds the two tables to OpenSSH's whole list. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "policy/config-internal.h"

struct sshd_keyword {
	const char *name;	/* sshd's spelling */
	bool in_match;		/* sshd allows it in a Match block */
	/* The first argument's legal values, '|'-separated, any case;
	 * NULL: any arguments (at least one). */
	const char *values;
	/* The values accepted, likewise; NULL: every legal one; "":
	 * none.  Another legal value is refused with refusal. */
	const char *accept;
	/* What -T prints: sshand's behaviour as sshd's value; NULL: no
	 * line (it depends on the socket unit, say). */
	const char *effective;
	const char *notice;	/* for an accepted line */
	const char *refusal;	/* for a refused value */
};

/* Words shared by several rows. */
#define SOCKET_UNIT "the listening socket is sshand.socket's: set " \
	"ListenStream= there (systemctl edit sshand.socket)"
#define DEPRECATED "deprecated, and ignored (by sshd too)"
#define HOSTBASED "hostbased authentication is not implemented: no " \
	"login uses it"
#define KERBEROS "Kerberos authentication is not implemented: no login " \
	"uses it"
#define GSSAPI "GSSAPI is not implemented: no login or key exchange uses it"
#define PENALTIES "sshand's ban file penalises failed logins: " \
	"BanMaxFailures, BanTime, BanTimeMax, BanExempt"
#define NOT_YET "not implemented yet"
#define VERSION "sshand's version string is fixed"

#define G false
#define M true

static const struct sshd_keyword table[] = {
	/* name, in Match, values, accepted, -T, notice, refusal */
	{ "UsePAM", G, "yes|no", "yes", "yes",
	    "sshand always uses PAM (service sshand, /etc/pam.d/sshand): its "
	    "account and session stages run for every login",
	    "sshand always uses PAM: write UsePAM yes, or remove the line" },
	{ "PAMServiceName", M, NULL, "sshand", "sshand",
	    "sshand's PAM service is always sshand (/etc/pam.d/sshand)",
	    "sshand's PAM service is always sshand: put the PAM stack you "
	    "want in /etc/pam.d/sshand" },
	{ "PAMAuthenticationViaKbdInt", G, NULL, NULL, NULL, DEPRECATED, NULL },
	{ "Port", G, NULL, NULL, NULL, SOCKET_UNIT, NULL },
	{ "ListenAddress", G, NULL, NULL, NULL, SOCKET_UNIT, NULL },
	{ "AddressFamily", G, "any|inet|inet6", NULL, NULL,
	    "the listening socket is sshand.socket's: its ListenStream= "
	    "addresses (and BindIPv6Only=) decide the address family", NULL },
	{ "HostKeyAgent", G, NULL, "none", "none",
	    "host keys are read from the HostKey files by sshand's key holder",
	    "host keys held by an agent are not supported: give HostKey the "
	    "private key files" },
	{ "PidFile", G, NULL, NULL, NULL,
	    "there is no daemon: each connection is an sshand@ instance of "
	    "sshand.socket (systemctl status sshand.socket)", NULL },
	{ "ModuliFile", G, NULL, NULL, NULL,
	    "sshand offers no Diffie-Hellman group exchange, so it reads no "
	    "moduli file", NULL },
	{ "ServerKeyBits", G, NULL, NULL, NULL, DEPRECATED, NULL },
	{ "KeyRegenerationInterval", G, NULL, NULL, NULL, DEPRECATED, NULL },
	{ "SyslogFacility", G, "DAEMON|USER|AUTH|AUTHPRIV|LOCAL0|LOCAL1|"
	    "LOCAL2|LOCAL3|LOCAL4|LOCAL5|LOCAL6|LOCAL7", NULL, NULL,
	    "sshand logs to the journal (journalctl -u 'sshand@*'); audit "
	    "records go where AuditLog says", NULL },
	{ "LogVerbose", M, NULL, NULL, NULL,
	    "sshand has no per-function logging: run sshand -d (sshand(8))",
	    NULL },
	{ "RhostsAuthentication", G, NULL, NULL, NULL, DEPRECATED, NULL },
	{ "RhostsRSAAuthentication", M, NULL, NULL, NULL, DEPRECATED, NULL },
	{ "RSAAuthentication", M, NULL, NULL, NULL, DEPRECATED, NULL },
	{ "HostbasedAuthentication", M, "yes|no", NULL, "no", HOSTBASED, NULL },
	{ "HostbasedUsesNameFromPacketOnly", M, "yes|no", NULL, "no",
	    HOSTBASED, NULL },
	{ "HostbasedAcceptedAlgorithms", M, NULL, NULL, NULL, HOSTBASED, NULL },
	{ "HostbasedAcceptedKeyTypes", M, NULL, NULL, NULL, HOSTBASED, NULL },
	{ "PubkeyAuthOptions", M, "none|touch-required|verify-required", NULL,
	    "none", "sshand accepts no security key (sk-*), so there is no "
	    "touch or verification to require", NULL },
	{ "KerberosAuthentication", M, "yes|no", NULL, "no", KERBEROS, NULL },
	{ "KerberosOrLocalPasswd", G, "yes|no", NULL, NULL, KERBEROS, NULL },
	{ "KerberosTicketCleanup", G, "yes|no", NULL, NULL, KERBEROS, NULL },
	{ "KerberosGetAFSToken", G, "yes|no", NULL, NULL, KERBEROS, NULL },
	{ "KerberosTGTPassing", G, NULL, NULL, NULL,
	    "unsupported, and ignored (by sshd too)", NULL },
	{ "AFSTokenPassing", G, NULL, NULL, NULL,
	    "unsupported, and ignored (by sshd too)", NULL },
	{ "GSSAPIAuthentication", M, "yes|no", NULL, "no", GSSAPI, NULL },
	{ "GSSAPICleanupCredentials", G, "yes|no", NULL, NULL, GSSAPI, NULL },
	{ "GSSAPIStrictAcceptorCheck", G, "yes|no", NULL, NULL, GSSAPI, NULL },
	/* Debian's GSSAPI key exchange patch. */
	{ "GSSAPICleanupCreds", G, "yes|no", NULL, NULL, GSSAPI, NULL },
	{ "GSSAPIKeyExchange", G, "yes|no", NULL, "no", GSSAPI, NULL },
	{ "GSSUseSessionCCache", G, NULL, NULL, NULL, GSSAPI, NULL },
	{ "GSSAPIUseSessionCredCache", G, NULL, NULL, NULL, GSSAPI, NULL },
	{ "GSSAPIStoreCredentialsOnRekey", G, "yes|no", NULL, NULL, GSSAPI,
	    NULL },
	{ "GSSAPIKexAlgorithms", G, NULL, NULL, NULL, GSSAPI, NULL },
	{ "CheckMail", G, NULL, NULL, NULL, DEPRECATED, NULL },
	{ "IgnoreRhosts", M, "yes|no|shosts-only", NULL, "yes",
	    "sshand never reads .rhosts or .shosts (no hostbased "
	    "authentication)", NULL },
	{ "IgnoreUserKnownHosts", G, "yes|no", NULL, NULL, HOSTBASED, NULL },
	{ "XAuthLocation", G, NULL, NULL, NULL,
	    "sshand runs xauth from /usr/bin/xauth", NULL },
	{ "UseLogin", G, NULL, NULL, NULL, DEPRECATED, NULL },
	{ "PerSourcePenalties", G, NULL, NULL, NULL, PENALTIES, NULL },
	{ "PerSourcePenaltyExemptList", G, NULL, NULL, NULL, PENALTIES, NULL },
	{ "UseDNS", G, "yes|no", "no", "no",
	    "sshand never looks client addresses up in the DNS: address "
	    "patterns (Match Address, AllowUsers user@host, from=) match "
	    "addresses",
	    "not implemented: sshand never resolves client addresses, so "
	    "patterns naming hosts would not match; use addresses and "
	    "UseDNS no" },
	{ "VerifyReverseMapping", G, NULL, NULL, NULL, DEPRECATED, NULL },
	{ "ReverseMappingCheck", G, NULL, NULL, NULL, DEPRECATED, NULL },
	{ "AuthorizedKeysFile2", M, NULL, NULL, NULL, DEPRECATED, NULL },
	{ "UsePrivilegeSeparation", G, NULL, NULL, NULL,
	    "deprecated, and ignored (by sshd too): sshand always separates "
	    "privileges", NULL },
	{ "SetEnv", M, NULL, NULL, NULL,
	    "not implemented: set session variables with pam_env "
	    "(/etc/security/pam_env.conf, read by /etc/pam.d/sshand)", NULL },
	{ "PermitTunnel", M, "yes|point-to-point|ethernet|no", "no", "no",
	    "tun device forwarding is not implemented: no tunnel is ever "
	    "opened",
	    "tun device forwarding (ssh -w) is not implemented: write "
	    "PermitTunnel no" },
	/* libssh 0.10.6 as a server cannot present one: server_set_kex
	 * (src/server.c) offers only the plain names of the bind's keys'
	 * types, never a *-cert-v01@openssh.com algorithm;
	 * ssh_get_key_params (src/server.c) sends the key through
	 * pki_key_dup (src/pki_crypto.c), which drops any certificate; and
	 * SSH_BIND_OPTIONS_IMPORT_KEY (ssh_bind_options_set, src/options.c)
	 * takes plain key types only. */
	{ "HostCertificate", G, NULL, "", NULL, NULL,
	    "host certificates cannot be offered: libssh 0.10 as a server "
	    "announces only plain host key algorithms (server_set_kex, "
	    "src/server.c) and sends the plain key (ssh_get_key_params, "
	    "src/server.c); remove the line (clients then check the host "
	    "key itself, through known_hosts)" },
	{ "IPQoS", M, NULL, NULL, NULL,
	    "sshand leaves the IP type of service as sshand.socket sets it "
	    "(IPTOS=)", NULL },
	{ "VersionAddendum", G, NULL, NULL, "none", VERSION, NULL },
	/* Debian's. */
	{ "DebianBanner", G, "yes|no", NULL, NULL, VERSION, NULL },
	{ "PermitBlacklistedKeys", G, NULL, NULL, NULL, DEPRECATED, NULL },
	{ "FingerprintHash", G, "md5|sha256", NULL, "SHA256",
	    "sshand logs and audits SHA256 fingerprints", NULL },
	{ "ExposeAuthInfo", M, "yes|no", NULL, "no",
	    "sshand gives sessions no SSH_USER_AUTH file", NULL },
	{ "RDomain", M, NULL, NULL, NULL,
	    "the network is sshand.socket's: BindToDevice= there", NULL },
	{ "SecurityKeyProvider", G, NULL, NULL, NULL,
	    "sshand uses no security keys", NULL },
	{ "SshdSessionPath", G, NULL, NULL, NULL,
	    "sshand has no sshd-session program", NULL },
	{ "RefuseConnection", M, "yes|no", "no", "no",
	    "no connection is refused by this keyword",
	    NOT_YET ": refuse users with DenyUsers or DenyGroups, addresses "
	    "with sshandctl bans ban" },
	{ "Protocol", G, NULL, NULL, NULL,
	    "SSH protocol 2 is the only one: ignored (by sshd too)", NULL },
};

#undef G
#undef M

const struct sshd_keyword *
sshd_keyword_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcasecmp(name, table[i].name) == 0)
			return &table[i];
	return NULL;
}

/* Is word one of the '|'-separated list? */
static bool
one_of(const char *list, const char *word, bool any_case)
{
	size_t n = strlen(word);

	for (const char *p = list; ; p++) {
		size_t len = strcspn(p, "|");

		if (len == n && (any_case ? strncasecmp(p, word, n) :
		    strncmp(p, word, n)) == 0)
			return true;
		p += len;
		if (*p == '\0')
			return false;
	}
}

int
sshd_keyword_parse(struct parser *p, const struct sshd_keyword *k,
    bool in_match, char *rest)
{
	const char *why = NULL;
	char vbuf[72], *a, *first = NULL;
	int r, n = 0;

	if (in_match && !k->in_match)
		return config_fail(p, "\"%s\" is not allowed inside Match", k->name);
	/* Arguments are checked as far as sshand reads them: they must be
	 * well formed, and the first one, where it matters, legal. */
	while ((r = config_next_arg(&rest, &a, &why)) > 0) {
		if (n++ == 0)
			first = a;
		if (config_has_ctrl(a))
			return config_fail(p, "bad argument \"%s\" for \"%s\"",
			    config_shown(a, vbuf), k->name);
	}
	if (r < 0)
		return config_fail(p, "%s", why);
	if (first == NULL)
		return config_fail(p, "missing argument for \"%s\"", k->name);
	if (k->values != NULL && !one_of(k->values, first, true))
		return config_fail(p, "bad value \"%s\" for \"%s\"",
		    config_shown(first, vbuf), k->name);
	if (k->accept != NULL && (n > 1 || !one_of(k->accept, first,
	    k->values != NULL)))
		return config_fail(p, "%s %s: %s", k->name,
		    config_shown(first, vbuf), k->refusal);
	return config_notice_add(p, "%s: %s", k->name, k->notice);
}

void
sshd_keywords_dump(FILE *f)
{
	char name[KEYWORD_MAX + 1];

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		size_t j;

		if (table[i].effective == NULL)
			continue;
		for (j = 0; table[i].name[j] != '\0' && j < KEYWORD_MAX; j++)
			name[j] = (char)tolower((unsigned char)table[i].name[j]);
		name[j] = '\0';
		fprintf(f, "%s %s\n", name, table[i].effective);
	}
}
