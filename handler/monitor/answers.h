/* The monitor's answer to each request of privsep/protocol.h's table:
 * answer_<name>(monitor, the decoded request).  dispatch.c calls them
 * once the request has passed the table's rules; each answers with one of
 * the table's answer types, or with none where the table says none. */
#ifndef SSHAND_HANDLER_MONITOR_ANSWERS_H
#define SSHAND_HANDLER_MONITOR_ANSWERS_H

#include "handler/monitor/monitor.h"
#include "handler/privsep/messages.h"

#define ANSWER_FN(type, name, states, flags, answers) \
	void answer_##name(struct monitor *m, const struct ps_##name *r);
PS_REQUESTS(ANSWER_FN)
#undef ANSWER_FN

#endif
