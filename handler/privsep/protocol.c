/* The request table of protocol.h, as data both halves can read. */
#include <stddef.h>

#include "handler/privsep/protocol.h"

#define RULE(type, name, states, flags, answers) \
	[PS_##type] = { #name, states, flags, answers },

const struct ps_rule ps_rules[PS_TYPE_MAX] = {
	PS_REQUESTS(RULE)
	/* Not requests: no state allows them from the network child. */
	[PS_AUTH_RESULT] = { "auth_result", 0, 0, 0 },
	[PS_KBDINT_PROMPTS] = { "kbdint_prompts", 0, 0, 0 },
	[PS_SESSION_STARTED] = { "session_started", 0, 0, 0 },
	[PS_EXIT] = { "exit", 0, 0, 0 },
	[PS_TERMINATE] = { "terminate", 0, 0, 0 },
};

const char *
ps_type_name(unsigned type)
{
	if (type >= PS_TYPE_MAX || ps_rules[type].name == NULL)
		return "unknown";
	return ps_rules[type].name;
}

const char *
ps_state_name(enum ps_state state)
{
	switch (state) {
	case PS_PREAUTH: return "before authentication";
	case PS_KBDINT: return "during keyboard-interactive authentication";
	case PS_POSTAUTH: return "after authentication";
	}
	return "in this state";
}
