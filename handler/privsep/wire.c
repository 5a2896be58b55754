/* Privilege separation's framing: see wire.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "handler/privsep/wire.h"

void
ps_start(struct ps_msg *m, enum ps_type type)
{
	m->len = 0;
	m->nfds = 0;
	m->strings_used = 0;
	m->wr = (struct wire_writer){ .p = m->buf, .cap = sizeof(m->buf) };
	m->rd = wire_reader(m->buf, 0);
	wire_put_u8(&m->wr, (uint8_t)type);
}

void
ps_put_fd(struct ps_msg *m, int fd)
{
	if (m->nfds >= PS_MAX_FDS || fd < 0) {
		m->wr.bad = true;
		return;
	}
	m->fds[m->nfds++] = fd;
}

unsigned
ps_type(const struct ps_msg *m)
{
	return m->len > 0 ? m->buf[0] : PS_NONE;
}

const uint8_t *
ps_get_bytes(struct ps_msg *m, size_t max, size_t *ret_len)
{
	return wire_get_string(&m->rd, max, ret_len);
}

const char *
ps_get_str(struct ps_msg *m, size_t max)
{
	size_t n = 0;
	const uint8_t *p = ps_get_bytes(m, max, &n);
	char *s;

	if (p == NULL)
		return NULL;
	/* Cannot overflow (see the size of strings), but say so here. */
	if (memchr(p, '\0', n) != NULL ||
	    n >= sizeof(m->strings) - m->strings_used) {
		m->rd.bad = true;
		return NULL;
	}
	s = m->strings + m->strings_used;
	memcpy(s, p, n);
	s[n] = '\0';
	m->strings_used += n + 1;
	return s;
}

int
ps_take_fd(struct ps_msg *m)
{
	int fd;

	if (m->nfds == 0) {
		m->rd.bad = true;
		return -1;
	}
	fd = m->fds[0];
	memmove(m->fds, m->fds + 1, (m->nfds - 1) * sizeof(int));
	m->nfds--;
	return fd;
}

bool
ps_done(const struct ps_msg *m)
{
	return wire_done(&m->rd);
}

int
ps_send(int fd, const struct ps_msg *m)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * PS_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)m->buf, .iov_len = m->wr.len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (m->wr.bad)
		return -EMSGSIZE;
	if (m->nfds > 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * m->nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * m->nfds);
		memcpy(CMSG_DATA(c), m->fds, sizeof(int) * m->nfds);
	}
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == m->wr.len ? 0 : -EIO;
}

void
ps_clear_fds(struct ps_msg *m)
{
	for (size_t i = 0; i < m->nfds; i++)
		close(m->fds[i]);
	m->nfds = 0;
}

/* Keeps the first PS_MAX_FDS descriptors of a control message in m and
 * closes the rest. */
static void
keep_fds(struct ps_msg *m, struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		size_t k;
		int fds[16];

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (k > 16)
			k = 16;
		memcpy(fds, CMSG_DATA(c), k * sizeof(int));
		for (size_t i = 0; i < k; i++) {
			if (m->nfds < PS_MAX_FDS)
				m->fds[m->nfds++] = fds[i];
			else
				close(fds[i]);
		}
	}
}

int
ps_recv(int fd, struct ps_msg *m, int flags)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = m->buf, .iov_len = sizeof(m->buf) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	ssize_t n;

	m->len = m->nfds = m->strings_used = 0;
	m->rd = wire_reader(m->buf, 0);
	/* A peer that closes with our messages unread makes the next receive
	 * fail once with ECONNRESET, though its own last messages are still
	 * queued for us: read on. */
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | flags);
	while (n < 0 && (errno == EINTR || errno == ECONNRESET));
	if (n < 0)
		return -errno;
	keep_fds(m, &mh);
	if (n == 0)
		return -EPIPE;
	m->len = (size_t)n;
	m->rd = wire_reader(m->buf + 1, m->len - 1);
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || ps_type(m) == PS_NONE ||
	    ps_type(m) >= PS_TYPE_MAX) {
		ps_clear_fds(m);
		return -EBADMSG;
	}
	return 0;
}

void
ps_move(struct ps_msg *dst, struct ps_msg *src)
{
	memcpy(dst->buf, src->buf, src->len);
	dst->len = src->len;
	dst->rd = wire_reader(dst->buf + 1, dst->len - 1);
	dst->strings_used = 0;
	memcpy(dst->fds, src->fds, src->nfds * sizeof(int));
	dst->nfds = src->nfds;
	src->nfds = 0;
	ps_wipe(src);
}

void
ps_wipe(struct ps_msg *m)
{
	explicit_bzero(m->buf, m->len > m->wr.len ? m->len : m->wr.len);
	explicit_bzero(m->strings, m->strings_used);
	m->len = m->strings_used = 0;
	m->wr.len = 0;
	m->rd = wire_reader(m->buf, 0);
}
