/* Message framing for privilege separation: see monitor.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>

#include "handler/privsep/wire.h"

void
mon_init(struct mon_msg *m, enum mon_type type)
{
	m->len = 0;
	m->pos = 0;
	m->bad = false;
	m->nfds = 0;
	m->buf[m->len++] = (uint8_t)type;
}

static bool
room(struct mon_msg *m, size_t n)
{
	if (m->bad || n > sizeof(m->buf) - m->len) {
		m->bad = true;
		return false;
	}
	return true;
}

void
mon_put_u32(struct mon_msg *m, uint32_t v)
{
	if (!room(m, 4))
		return;
	m->buf[m->len++] = v >> 24;
	m->buf[m->len++] = v >> 16;
	m->buf[m->len++] = v >> 8;
	m->buf[m->len++] = v;
}

void
mon_put_u64(struct mon_msg *m, uint64_t v)
{
	mon_put_u32(m, (uint32_t)(v >> 32));
	mon_put_u32(m, (uint32_t)v);
}

void
mon_put_bytes(struct mon_msg *m, const void *p, size_t n)
{
	if (n > UINT32_MAX || !room(m, 4 + n)) {
		m->bad = true;
		return;
	}
	mon_put_u32(m, (uint32_t)n);
	if (n > 0)
		memcpy(m->buf + m->len, p, n);
	m->len += n;
}

void
mon_put_str(struct mon_msg *m, const char *s)
{
	if (s == NULL)
		s = "";
	mon_put_bytes(m, s, strlen(s));
}

void
mon_put_fd(struct mon_msg *m, int fd)
{
	if (m->nfds >= MON_MAX_FDS || fd < 0) {
		m->bad = true;
		return;
	}
	m->fds[m->nfds++] = fd;
}

enum mon_type
mon_type(const struct mon_msg *m)
{
	if (m->len < 1 || m->buf[0] >= _MON_TYPE_MAX)
		return MON_NONE;
	return (enum mon_type)m->buf[0];
}

uint32_t
mon_get_u32(struct mon_msg *m)
{
	uint32_t v;

	if (m->bad || m->len - m->pos < 4) {
		m->bad = true;
		return 0;
	}
	v = (uint32_t)m->buf[m->pos] << 24 | (uint32_t)m->buf[m->pos + 1] << 16 |
	    (uint32_t)m->buf[m->pos + 2] << 8 | m->buf[m->pos + 3];
	m->pos += 4;
	return v;
}

uint64_t
mon_get_u64(struct mon_msg *m)
{
	uint64_t hi = mon_get_u32(m);

	return hi << 32 | mon_get_u32(m);
}

const uint8_t *
mon_get_bytes(struct mon_msg *m, size_t max, size_t *ret_len)
{
	uint32_t n = mon_get_u32(m);
	const uint8_t *p;

	if (m->bad || n > max || n > m->len - m->pos) {
		m->bad = true;
		return NULL;
	}
	p = m->buf + m->pos;
	m->pos += n;
	*ret_len = n;
	return p;
}

char *
mon_get_str(struct mon_msg *m, size_t max)
{
	size_t n;
	const uint8_t *p = mon_get_bytes(m, max, &n);
	char *s;

	if (p == NULL)
		return NULL;
	if (memchr(p, '\0', n) != NULL) {
		m->bad = true;
		return NULL;
	}
	s = malloc(n + 1);
	if (s == NULL) {
		m->bad = true;
		return NULL;
	}
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

int
mon_take_fd(struct mon_msg *m)
{
	int fd;

	if (m->nfds == 0) {
		m->bad = true;
		return -1;
	}
	fd = m->fds[0];
	memmove(m->fds, m->fds + 1, (m->nfds - 1) * sizeof(int));
	m->nfds--;
	return fd;
}

bool
mon_done(const struct mon_msg *m)
{
	return !m->bad && m->pos == m->len;
}

int
mon_send(int fd, const struct mon_msg *m)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MON_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)m->buf, .iov_len = m->len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (m->bad)
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
	return (size_t)n == m->len ? 0 : -EIO;
}

void
mon_clear_fds(struct mon_msg *m)
{
	for (size_t i = 0; i < m->nfds; i++)
		close(m->fds[i]);
	m->nfds = 0;
}

int
mon_recv(int fd, struct mon_msg *m, int flags)
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

	m->len = m->pos = m->nfds = 0;
	m->bad = false;
	/* A peer that closes with our messages unread makes the next receive
	 * fail once with ECONNRESET, though its own last messages are still
	 * queued for us: read on. */
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | flags);
	while (n < 0 && (errno == EINTR || errno == ECONNRESET));
	if (n < 0)
		return -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int fds[16];

		if (k > 16)
			k = 16;
		memcpy(fds, CMSG_DATA(c), k * sizeof(int));
		for (size_t i = 0; i < k; i++) {
			if (m->nfds < MON_MAX_FDS)
				m->fds[m->nfds++] = fds[i];
			else
				close(fds[i]);
		}
	}
	if (n == 0)
		return -EPIPE;
	m->len = (size_t)n;
	m->pos = 1;
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || mon_type(m) == MON_NONE) {
		mon_clear_fds(m);
		return -EBADMSG;
	}
	return 0;
}

void
mon_wipe(struct mon_msg *m)
{
	explicit_bzero(m->buf, m->len);
	m->len = m->pos = 0;
}
