/* Every privilege separation message, encoded and decoded from its field
 * list (messages.h).  The unit test (tests/unit/test_privsep.c) round-trips
 * every one and refuses each cut short at any length. */
#include <errno.h>
#include <string.h>

#include "handler/privsep/messages.h"

/* ---- writing ---- */

static void
put_str(struct ps_msg *m, const char *s)
{
	wire_put_string(&m->wr, s ? s : "", s ? strlen(s) : 0);
}

static void
put_cut(struct ps_msg *m, const char *s, size_t max)
{
	wire_put_string(&m->wr, s ? s : "", s ? strnlen(s, max) : 0);
}

static void
put_strs(struct ps_msg *m, const char *const *v, uint32_t n, size_t max,
    uint32_t cap)
{
	if (n > cap)
		m->wr.bad = true;
	wire_put_u32(&m->wr, n);
	for (uint32_t i = 0; i < n && i < cap; i++)
		put_cut(m, v[i], max);
}

static void
put_fds(struct ps_msg *m, const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ps_put_fd(m, fds[i]);
}

/* ---- reading ---- */

static uint32_t
get_max(struct ps_msg *m, uint32_t max)
{
	uint32_t v = wire_get_u32(&m->rd);

	if (v > max)
		m->rd.bad = true;
	return v;
}

static uint32_t
get_strs(struct ps_msg *m, const char **v, size_t max, uint32_t cap)
{
	uint32_t n = get_max(m, cap);

	for (uint32_t i = 0; i < n && !m->rd.bad; i++)
		v[i] = ps_get_str(m, max);
	return m->rd.bad ? 0 : n;
}

/* Descriptors come last: taken only from an otherwise whole message
 * that carries no more than the field holds (cap), so that a malformed
 * one leaves them to done(), which closes them and refuses it. */
static size_t
get_fds(struct ps_msg *m, int *fds, size_t cap)
{
	size_t n = 0;

	if (m->nfds > cap)
		return 0;
	while (ps_done(m) && m->nfds > 0)
		fds[n++] = ps_take_fd(m);
	return n;
}

/* Nothing may be left over; descriptors nobody took are closed. */
static int
done(struct ps_msg *m)
{
	bool ok = ps_done(m) && m->nfds == 0;

	ps_clear_fds(m);
	return ok ? 0 : -EBADMSG;
}

#define PUT(kind, name, bound, count) PUT_##kind(name, bound, count)
#define PUT_U32(name, bound, count) wire_put_u32(&m->wr, r->name);
#define PUT_MAX(name, bound, count) wire_put_u32(&m->wr, r->name);
#define PUT_U64(name, bound, count) wire_put_u64(&m->wr, r->name);
#define PUT_BOOL(name, bound, count) wire_put_u32(&m->wr, r->name);
#define PUT_STR(name, bound, count) put_str(m, r->name);
#define PUT_CUT(name, bound, count) put_cut(m, r->name, bound);
#define PUT_BYTES(name, bound, count) \
	wire_put_string(&m->wr, r->name, r->name##_len);
#define PUT_STRS(name, bound, count) \
	put_strs(m, r->name, r->n_##name, bound, count);
#define PUT_FDS(name, bound, count) put_fds(m, r->name, r->n_##name);

#define GET(kind, name, bound, count) GET_##kind(name, bound, count)
#define GET_U32(name, bound, count) ret->name = wire_get_u32(&m->rd);
#define GET_MAX(name, bound, count) ret->name = get_max(m, bound);
#define GET_U64(name, bound, count) ret->name = wire_get_u64(&m->rd);
#define GET_BOOL(name, bound, count) ret->name = get_max(m, 1) == 1;
#define GET_STR(name, bound, count) ret->name = ps_get_str(m, bound);
#define GET_CUT(name, bound, count) ret->name = ps_get_str(m, bound);
#define GET_BYTES(name, bound, count) \
	ret->name = ps_get_bytes(m, bound, &ret->name##_len);
#define GET_STRS(name, bound, count) \
	ret->n_##name = get_strs(m, ret->name, bound, count);
#define GET_FDS(name, bound, count) \
	ret->n_##name = get_fds(m, ret->name, count);

#define CODEC(type, name, ...)						\
void									\
ps_put_##name(struct ps_msg *m, const struct ps_##name *r)		\
{									\
	ps_start(m, PS_##type);						\
	PS_FIELDS_##name(PUT)						\
}									\
									\
int									\
ps_get_##name(struct ps_msg *m, struct ps_##name *ret)			\
{									\
	memset(ret, 0, sizeof(*ret));					\
	PS_FIELDS_##name(GET)						\
	return done(m);							\
}
PS_REQUESTS(CODEC)
PS_MONITOR_MESSAGES(CODEC)
PS_KEYHOLDER_MESSAGES(CODEC)
PS_FORWARDER_MESSAGES(CODEC)
