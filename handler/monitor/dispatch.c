/* The monitor's half of privsep/protocol.h's table: every message from the
 * network child is checked against the rules of the state the connection
 * is in, decoded by its type's decoder and answered by answer_<name>.
 * Nothing else decides what the child may ask. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "handler/monitor/answers.h"
#include "handler/monitor/monitor.h"
#include "handler/privsep/messages.h"

int
monitor_next(struct monitor *m, enum ps_state state, int recv_flags)
{
	int r = ps_recv(m->fd, m->in, recv_flags);
	unsigned type = ps_type(m->in);
	const struct ps_rule *rule;

	if (r == -EPIPE || r == -EAGAIN)
		return r;
	if (r < 0)
		monitor_violation(m, "malformed message");
	if (m->in->nfds > 0)
		monitor_violation(m, "descriptors passed to the monitor");
	rule = &ps_rules[type];
	if (!(rule->states & state))
		monitor_violation(m, "%s not allowed %s", ps_type_name(type),
		    ps_state_name(state));
	if ((rule->flags & PS_ONCE) && (m->seen & 1ull << type))
		monitor_violation(m, "repeated %s", ps_type_name(type));
	if ((rule->flags & PS_ONCE_PREAUTH) && state != PS_POSTAUTH &&
	    (m->seen & 1ull << type))
		monitor_violation(m, "repeated %s %s", ps_type_name(type),
		    ps_state_name(state));
	m->seen |= 1ull << type;
	return 0;
}

#define DISPATCH(type, name, states, flags, answers)			\
static void								\
dispatch_##name(struct monitor *m)					\
{									\
	struct ps_##name r;						\
									\
	if (ps_get_##name(m->in, &r) < 0)				\
		monitor_violation(m, "malformed %s request", #name);	\
	answer_##name(m, &r);						\
}
PS_REQUESTS(DISPATCH)
#undef DISPATCH

#define ENTRY(type, name, states, flags, answers) [PS_##type] = dispatch_##name,
static void (*const dispatch[PS_TYPE_MAX])(struct monitor *) = {
	PS_REQUESTS(ENTRY)
};
#undef ENTRY

void
monitor_answer(struct monitor *m)
{
	dispatch[ps_type(m->in)](m);
	ps_wipe(m->in);
}
