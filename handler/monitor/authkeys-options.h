/* Internal to handler/monitor/authkeys*.c: a line's options as parsed,
 * before its key is known to match. */
#ifndef SSHAND_HANDLER_MONITOR_AUTHKEYS_OPTIONS_H
#define SSHAND_HANDLER_MONITOR_AUTHKEYS_OPTIONS_H

#include <stdbool.h>

#include "handler/monitor/authkeys.h"

struct authkey_parsed {
	struct authkey_opts o;
	bool cert_authority;
};

/* Parses the option list at *pp up to the first unquoted blank, into
 * *ps (which the caller clears with authkey_opts_clear either way).
 * 0 with *pp past the list, or -EINVAL with *err saying what is wrong. */
int authkeys_parse_options(const char **pp, struct authkey_parsed *ps,
    const char **err);

#endif
