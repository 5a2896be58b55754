/* The keywords of sshand.conf (policy/keywords.def) as a table. */
#include <stddef.h>
#include <strings.h>

#include "policy/config.h"
#include "policy/config-table.h"

static const struct keyword keywords[KW__COUNT] = {
#define K(name, type, scope, field, dflt, min, max) \
	{ #name, KW_##name, type, scope, offsetof(struct settings, field), \
	    dflt, min, max },
#include "policy/keywords.def"
#undef K
};

/* Old spellings sshd still accepts, so existing habits keep working. */
static const struct {
	const char *alias;
	enum kw_id id;
} aliases[] = {
	{ "ChallengeResponseAuthentication", KW_KbdInteractiveAuthentication },
	{ "SKeyAuthentication", KW_KbdInteractiveAuthentication },
	{ "PubkeyAcceptedKeyTypes", KW_PubkeyAcceptedAlgorithms },
	{ "DSAAuthentication", KW_PubkeyAuthentication },
	{ "HostDSAKey", KW_HostKey },
	{ "KeepAlive", KW_TCPKeepAlive },
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
