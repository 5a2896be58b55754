/* The request table of protocol.h, as data both halves can read. */
#include <stddef.h>
#include <stdio.h>

#include "handler/privsep/protocol.h"

#define REQUEST(type, name, states, flags, answers) \
	[PS_##type] = { #name, states, flags, answers },
/* Not requests: no state allows them from the network child. */
#define MONITOR_MESSAGE(type, name) [PS_##type] = { #name, 0, 0, 0 },

const struct ps_rule ps_rules[PS_TYPE_MAX] = {
	PS_REQUESTS(REQUEST)
	PS_MONITOR_MESSAGES(MONITOR_MESSAGE)
	PS_KEYHOLDER_MESSAGES(MONITOR_MESSAGE)
	PS_FORWARDER_MESSAGES(MONITOR_MESSAGE)
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

void
ps_session_chan_type(enum ps_session_kind kind, const char *arg, char *buf,
    size_t cap)
{
	if (kind == PS_KIND_SHELL)
		snprintf(buf, cap, "session:shell");
	else if (kind == PS_KIND_EXEC)
		snprintf(buf, cap, "session:command");
	else
		snprintf(buf, cap, "session:subsystem:%s", arg);
}
