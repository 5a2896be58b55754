/* The resolver child's message (fwd-addrs.h): written by a fork of the
 * forwarder, read back by the forwarder.  The reader trusts nothing of it
 * beyond what it checks here: the child may have been killed half way,
 * and a bug on either side must end as a failed lookup. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "handler/monitor/fwd-addrs.h"

/* The sockaddr size of a family the forwarder connects to, or 0. */
static socklen_t
family_len(int family)
{
	if (family == AF_INET)
		return sizeof(struct sockaddr_in);
	if (family == AF_INET6)
		return sizeof(struct sockaddr_in6);
	return 0;
}

void
fwd_addrs_from_ai(struct fwd_addrs *ret, int gai, int err,
    const struct addrinfo *res)
{
	memset(ret, 0, sizeof(*ret));
	if (gai != 0) {
		ret->gai = gai;
		ret->err = gai == EAI_SYSTEM ? err : 0;
		return;
	}
	for (const struct addrinfo *ai = res; ai != NULL &&
	    ret->n < FWD_MAX_ADDRS; ai = ai->ai_next) {
		struct fwd_addr *a = &ret->a[ret->n];

		if (ai->ai_socktype != SOCK_STREAM ||
		    family_len(ai->ai_family) == 0 ||
		    ai->ai_addrlen != family_len(ai->ai_family) ||
		    ai->ai_addr == NULL)
			continue;
		a->family = ai->ai_family;
		a->socktype = ai->ai_socktype;
		a->protocol = ai->ai_protocol;
		a->len = ai->ai_addrlen;
		memcpy(&a->u, ai->ai_addr, a->len);
		ret->n++;
	}
	if (ret->n == 0)
		ret->gai = EAI_ADDRFAMILY;
}

static uint8_t *
put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
	return p + sizeof(v);
}

size_t
fwd_addrs_encode(const struct fwd_addrs *a,
    uint8_t buf[static FWD_ADDRS_MSG_MAX])
{
	size_t n = a->n < FWD_MAX_ADDRS ? a->n : FWD_MAX_ADDRS;
	uint8_t *p = buf;

	p = put32(p, (uint32_t)a->gai);
	p = put32(p, (uint32_t)a->err);
	p = put32(p, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		const struct fwd_addr *e = &a->a[i];
		size_t len = e->len <= sizeof(e->u) ? e->len : sizeof(e->u);

		p = put32(p, (uint32_t)e->family);
		p = put32(p, (uint32_t)e->socktype);
		p = put32(p, (uint32_t)e->protocol);
		p = put32(p, (uint32_t)len);
		memcpy(p, &e->u, len);
		p += len;
	}
	return (size_t)(p - buf);
}

/* The next 32 bits of [*p, end), or false when fewer are left. */
static bool
get32(const uint8_t **p, const uint8_t *end, uint32_t *ret)
{
	if ((size_t)(end - *p) < sizeof(*ret))
		return false;
	memcpy(ret, *p, sizeof(*ret));
	*p += sizeof(*ret);
	return true;
}

int
fwd_addrs_decode(const uint8_t *buf, size_t len, struct fwd_addrs *ret)
{
	struct fwd_addrs a = { 0 };
	const uint8_t *p = buf, *end = buf + len;
	uint32_t gai, err, n;

	if (len > FWD_ADDRS_MSG_MAX || !get32(&p, end, &gai) ||
	    !get32(&p, end, &err) || !get32(&p, end, &n) ||
	    n > FWD_MAX_ADDRS)
		return -EBADMSG;
	a.gai = (int)gai;
	a.err = (int)err;
	/* An answer is addresses or an error, never both, never neither. */
	if (a.gai == 0 ? n == 0 || a.err != 0 : n != 0)
		return -EBADMSG;
	for (a.n = 0; a.n < n; a.n++) {
		struct fwd_addr *e = &a.a[a.n];
		uint32_t family, socktype, protocol, alen;

		if (!get32(&p, end, &family) || !get32(&p, end, &socktype) ||
		    !get32(&p, end, &protocol) || !get32(&p, end, &alen))
			return -EBADMSG;
		e->family = (int)family;
		e->socktype = (int)socktype;
		e->protocol = (int)protocol;
		if (family_len(e->family) == 0 ||
		    alen != family_len(e->family) ||
		    e->socktype != SOCK_STREAM ||
		    (e->protocol != 0 && e->protocol != IPPROTO_TCP) ||
		    (size_t)(end - p) < alen)
			return -EBADMSG;
		e->len = (socklen_t)alen;
		memcpy(&e->u, p, alen);
		p += alen;
		if (e->u.sa.sa_family != e->family)
			return -EBADMSG;
	}
	if (p != end)
		return -EBADMSG;
	*ret = a;
	return 0;
}
