/* Every privilege separation message, as a struct and one encode/decode
 * pair: ps_put_NAME() starts a message of its type and writes the fields;
 * ps_get_NAME() reads the fields of a received message of that type
 * (the caller has checked the type) and returns 0, or -EBADMSG if a field
 * is missing, out of its bound (protocol.h), or anything is left over.
 *
 * Decoded strings and bytes point into the message: valid until it is
 * received into, wiped or moved. */
#ifndef SSHAND_HANDLER_PRIVSEP_MESSAGES_H
#define SSHAND_HANDLER_PRIVSEP_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handler/privsep/protocol.h"
#include "handler/privsep/wire.h"

/* ---- requests of the network child ---- */

struct ps_client_info {
	const char *version;		/* the client's SSH version string */
};

struct ps_auth_password {
	const char *user;		/* cut at PS_MAX_USER by the encoder */
	const char *password;		/* cut at PS_MAX_PASSWORD */
};

struct ps_auth_pubkey {
	const char *user;
	const uint8_t *blob;		/* the public key, SSH wire format */
	size_t blob_len;
	bool is_signed;			/* false: the probe (may this key log in?) */
};

struct ps_kbdint_start {
	const char *user;
};

struct ps_kbdint_answers {
	uint32_t n;
	const char *answers[PS_MAX_PROMPTS];	/* each cut at PS_MAX_PASSWORD */
};

struct ps_session_open {
	uint32_t id;			/* the channel, the child's numbering */
	uint32_t kind;			/* enum ps_session_kind */
	const char *arg;		/* command, subsystem name, or "" */
	bool pty;
	const char *term;
	uint32_t cols, rows, xpix, ypix;
	const uint8_t *modes;		/* encoded terminal modes */
	size_t nmodes;
	uint32_t nenv;
	const char *env[PS_MAX_ENV];	/* "NAME=value", as the client asked */
};

struct ps_window_change {
	uint32_t id, cols, rows, xpix, ypix;
};

struct ps_signal {
	uint32_t id;
	const char *name;		/* "INT", "TERM"... */
};

struct ps_session_close {
	uint32_t id;
};

struct ps_stats {
	uint64_t bytes_in, bytes_out;	/* on the wire */
	const char *reason;		/* why the connection ends */
};

/* ---- answers and notices of the monitor ---- */

struct ps_auth_result {
	uint32_t result;		/* enum ps_auth */
	uint32_t flags;			/* PS_FLAG_* */
};

struct ps_kbdint_prompts {
	const char *name, *instruction;
	uint32_t n;
	const char *prompts[PS_MAX_PROMPTS];
	bool echo[PS_MAX_PROMPTS];
};

struct ps_session_started {
	uint32_t id;
	bool ok;
	bool pty;
	const char *error;		/* why not, when !ok */
	/* ok: the fds follow as descriptors: the pty master, or stdin,
	 * stdout and stderr */
	int fds[PS_MAX_FDS];
	size_t nfds;
};

struct ps_exit {
	uint32_t id;
	bool exited;			/* exited: status; else killed: signal */
	uint32_t status, signal;
	bool core;
};

struct ps_terminate {
	const char *reason;
};

#define PS_MESSAGE(name)						\
	void ps_put_##name(struct ps_msg *m, const struct ps_##name *r);	\
	int ps_get_##name(struct ps_msg *m, struct ps_##name *ret);

PS_MESSAGE(client_info)
PS_MESSAGE(auth_password)
PS_MESSAGE(auth_pubkey)
PS_MESSAGE(kbdint_start)
PS_MESSAGE(kbdint_answers)
PS_MESSAGE(session_open)
PS_MESSAGE(window_change)
PS_MESSAGE(signal)
PS_MESSAGE(session_close)
PS_MESSAGE(stats)
PS_MESSAGE(auth_result)
PS_MESSAGE(kbdint_prompts)
PS_MESSAGE(session_started)
PS_MESSAGE(exit)
PS_MESSAGE(terminate)

#undef PS_MESSAGE

#endif
