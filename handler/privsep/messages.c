/* Every privilege separation message, encoded and decoded: see messages.h.
 * Each pair writes and reads the same fields in the same order; the unit
 * test (tests/unit/test_privsep.c) round-trips every one of them. */
#include <errno.h>
#include <string.h>

#include "handler/privsep/messages.h"

/* A string, and NULL as "". */
static void
put_str(struct ps_msg *m, const char *s)
{
	wire_put_string(&m->wr, s ? s : "", s ? strlen(s) : 0);
}

/* A string from the client, cut one byte past max (see protocol.h). */
static void
put_cut(struct ps_msg *m, const char *s, size_t max)
{
	wire_put_string(&m->wr, s ? s : "", s ? strnlen(s, max) : 0);
}

static void
put_u32(struct ps_msg *m, uint32_t v)
{
	wire_put_u32(&m->wr, v);
}

static uint32_t
get_u32(struct ps_msg *m)
{
	return wire_get_u32(&m->rd);
}

/* A bool: 0 or 1, anything else is malformed. */
static bool
get_bool(struct ps_msg *m)
{
	uint32_t v = get_u32(m);

	if (v > 1)
		m->rd.bad = true;
	return v == 1;
}

static int
done(const struct ps_msg *m)
{
	return ps_done(m) ? 0 : -EBADMSG;
}

/* ---- requests ---- */

void
ps_put_client_info(struct ps_msg *m, const struct ps_client_info *r)
{
	ps_start(m, PS_CLIENT_INFO);
	put_cut(m, r->version, PS_MAX_STR);
}

int
ps_get_client_info(struct ps_msg *m, struct ps_client_info *ret)
{
	ret->version = ps_get_str(m, PS_MAX_STR);
	return done(m);
}

void
ps_put_auth_password(struct ps_msg *m, const struct ps_auth_password *r)
{
	ps_start(m, PS_AUTH_PASSWORD);
	put_cut(m, r->user, PS_MAX_USER);
	put_cut(m, r->password, PS_MAX_PASSWORD);
}

int
ps_get_auth_password(struct ps_msg *m, struct ps_auth_password *ret)
{
	ret->user = ps_get_str(m, PS_MAX_USER);
	ret->password = ps_get_str(m, PS_MAX_PASSWORD);
	return done(m);
}

void
ps_put_auth_pubkey(struct ps_msg *m, const struct ps_auth_pubkey *r)
{
	ps_start(m, PS_AUTH_PUBKEY);
	put_cut(m, r->user, PS_MAX_USER);
	wire_put_string(&m->wr, r->blob, r->blob_len);
	put_u32(m, r->is_signed);
}

int
ps_get_auth_pubkey(struct ps_msg *m, struct ps_auth_pubkey *ret)
{
	ret->user = ps_get_str(m, PS_MAX_USER);
	ret->blob = ps_get_bytes(m, PS_MAX_BLOB, &ret->blob_len);
	ret->is_signed = get_bool(m);
	return done(m);
}

void
ps_put_kbdint_start(struct ps_msg *m, const struct ps_kbdint_start *r)
{
	ps_start(m, PS_KBDINT_START);
	put_cut(m, r->user, PS_MAX_USER);
}

int
ps_get_kbdint_start(struct ps_msg *m, struct ps_kbdint_start *ret)
{
	ret->user = ps_get_str(m, PS_MAX_USER);
	return done(m);
}

void
ps_put_kbdint_answers(struct ps_msg *m, const struct ps_kbdint_answers *r)
{
	ps_start(m, PS_KBDINT_ANSWERS);
	put_u32(m, r->n);
	for (uint32_t i = 0; i < r->n && i < PS_MAX_PROMPTS; i++)
		put_cut(m, r->answers[i], PS_MAX_PASSWORD);
}

int
ps_get_kbdint_answers(struct ps_msg *m, struct ps_kbdint_answers *ret)
{
	ret->n = get_u32(m);
	if (ret->n > PS_MAX_PROMPTS)
		return -EBADMSG;
	for (uint32_t i = 0; i < ret->n; i++)
		ret->answers[i] = ps_get_str(m, PS_MAX_PASSWORD);
	return done(m);
}

void
ps_put_session_open(struct ps_msg *m, const struct ps_session_open *r)
{
	ps_start(m, PS_SESSION_OPEN);
	put_u32(m, r->id);
	put_u32(m, r->kind);
	put_str(m, r->arg);
	put_u32(m, r->pty);
	put_str(m, r->term);
	put_u32(m, r->cols);
	put_u32(m, r->rows);
	put_u32(m, r->xpix);
	put_u32(m, r->ypix);
	wire_put_string(&m->wr, r->modes, r->nmodes);
	put_u32(m, r->nenv);
	for (uint32_t i = 0; i < r->nenv && i < PS_MAX_ENV; i++)
		put_str(m, r->env[i]);
}

int
ps_get_session_open(struct ps_msg *m, struct ps_session_open *ret)
{
	ret->id = get_u32(m);
	ret->kind = get_u32(m);
	ret->arg = ps_get_str(m, PS_MAX_COMMAND);
	ret->pty = get_bool(m);
	ret->term = ps_get_str(m, PS_MAX_TERM);
	ret->cols = get_u32(m);
	ret->rows = get_u32(m);
	ret->xpix = get_u32(m);
	ret->ypix = get_u32(m);
	ret->modes = ps_get_bytes(m, PS_MAX_MODES, &ret->nmodes);
	ret->nenv = get_u32(m);
	if (ret->kind > PS_KIND_SUBSYSTEM || ret->nenv > PS_MAX_ENV)
		return -EBADMSG;
	for (uint32_t i = 0; i < ret->nenv; i++)
		ret->env[i] = ps_get_str(m, PS_MAX_ENV_LEN);
	return done(m);
}

void
ps_put_window_change(struct ps_msg *m, const struct ps_window_change *r)
{
	ps_start(m, PS_WINDOW_CHANGE);
	put_u32(m, r->id);
	put_u32(m, r->cols);
	put_u32(m, r->rows);
	put_u32(m, r->xpix);
	put_u32(m, r->ypix);
}

int
ps_get_window_change(struct ps_msg *m, struct ps_window_change *ret)
{
	ret->id = get_u32(m);
	ret->cols = get_u32(m);
	ret->rows = get_u32(m);
	ret->xpix = get_u32(m);
	ret->ypix = get_u32(m);
	return done(m);
}

void
ps_put_signal(struct ps_msg *m, const struct ps_signal *r)
{
	ps_start(m, PS_SIGNAL);
	put_u32(m, r->id);
	put_cut(m, r->name, PS_MAX_SIGNAL);
}

int
ps_get_signal(struct ps_msg *m, struct ps_signal *ret)
{
	ret->id = get_u32(m);
	ret->name = ps_get_str(m, PS_MAX_SIGNAL);
	return done(m);
}

void
ps_put_session_close(struct ps_msg *m, const struct ps_session_close *r)
{
	ps_start(m, PS_SESSION_CLOSE);
	put_u32(m, r->id);
}

int
ps_get_session_close(struct ps_msg *m, struct ps_session_close *ret)
{
	ret->id = get_u32(m);
	return done(m);
}

void
ps_put_stats(struct ps_msg *m, const struct ps_stats *r)
{
	ps_start(m, PS_STATS);
	wire_put_u64(&m->wr, r->bytes_in);
	wire_put_u64(&m->wr, r->bytes_out);
	put_cut(m, r->reason, PS_MAX_REASON);
}

int
ps_get_stats(struct ps_msg *m, struct ps_stats *ret)
{
	ret->bytes_in = wire_get_u64(&m->rd);
	ret->bytes_out = wire_get_u64(&m->rd);
	ret->reason = ps_get_str(m, PS_MAX_REASON);
	return done(m);
}

/* ---- answers and notices ---- */

void
ps_put_auth_result(struct ps_msg *m, const struct ps_auth_result *r)
{
	ps_start(m, PS_AUTH_RESULT);
	put_u32(m, r->result);
	put_u32(m, r->flags);
}

int
ps_get_auth_result(struct ps_msg *m, struct ps_auth_result *ret)
{
	ret->result = get_u32(m);
	ret->flags = get_u32(m);
	if (ret->result > PS_AUTH_DISCONNECT)
		return -EBADMSG;
	return done(m);
}

void
ps_put_kbdint_prompts(struct ps_msg *m, const struct ps_kbdint_prompts *r)
{
	ps_start(m, PS_KBDINT_PROMPTS);
	put_str(m, r->name);
	put_str(m, r->instruction);
	put_u32(m, r->n);
	for (uint32_t i = 0; i < r->n && i < PS_MAX_PROMPTS; i++) {
		put_str(m, r->prompts[i]);
		put_u32(m, r->echo[i]);
	}
}

int
ps_get_kbdint_prompts(struct ps_msg *m, struct ps_kbdint_prompts *ret)
{
	ret->name = ps_get_str(m, PS_MAX_STR);
	ret->instruction = ps_get_str(m, PS_MAX_STR);
	ret->n = get_u32(m);
	if (ret->n > PS_MAX_PROMPTS)
		return -EBADMSG;
	for (uint32_t i = 0; i < ret->n; i++) {
		ret->prompts[i] = ps_get_str(m, PS_MAX_STR);
		ret->echo[i] = get_bool(m);
	}
	return done(m);
}

void
ps_put_session_started(struct ps_msg *m, const struct ps_session_started *r)
{
	ps_start(m, PS_SESSION_STARTED);
	put_u32(m, r->id);
	put_u32(m, r->ok);
	put_u32(m, r->pty);
	put_cut(m, r->error, PS_MAX_STR);
	for (size_t i = 0; r->ok && i < r->nfds; i++)
		ps_put_fd(m, r->fds[i]);
}

/* The fds are taken from the message: the caller owns them on success. */
int
ps_get_session_started(struct ps_msg *m, struct ps_session_started *ret)
{
	size_t want;

	ret->id = get_u32(m);
	ret->ok = get_bool(m);
	ret->pty = get_bool(m);
	ret->error = ps_get_str(m, PS_MAX_STR);
	want = !ret->ok ? 0 : ret->pty ? 1 : 3;
	ret->nfds = 0;
	if (m->nfds != want || done(m) < 0) {
		ps_clear_fds(m);
		return -EBADMSG;
	}
	while (ret->nfds < want)
		ret->fds[ret->nfds++] = ps_take_fd(m);
	return 0;
}

void
ps_put_exit(struct ps_msg *m, const struct ps_exit *r)
{
	ps_start(m, PS_EXIT);
	put_u32(m, r->id);
	put_u32(m, r->exited);
	put_u32(m, r->status);
	put_u32(m, r->signal);
	put_u32(m, r->core);
}

int
ps_get_exit(struct ps_msg *m, struct ps_exit *ret)
{
	ret->id = get_u32(m);
	ret->exited = get_bool(m);
	ret->status = get_u32(m);
	ret->signal = get_u32(m);
	ret->core = get_bool(m);
	return done(m);
}

void
ps_put_terminate(struct ps_msg *m, const struct ps_terminate *r)
{
	ps_start(m, PS_TERMINATE);
	put_cut(m, r->reason, PS_MAX_REASON);
}

int
ps_get_terminate(struct ps_msg *m, struct ps_terminate *ret)
{
	ret->reason = ps_get_str(m, PS_MAX_REASON);
	return done(m);
}
