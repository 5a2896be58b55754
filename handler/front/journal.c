/* The journal's native protocol (see journal.h): what systemd-journald
 * reads on /run/systemd/journal/socket, spoken without libsystemd. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/sockios.h>

#include "handler/front/journal.h"

#define JOURNAL_SOCKET	"/run/systemd/journal/socket"

static const char *journal_path = JOURNAL_SOCKET;

void
journal_set_path(const char *path)
{
	journal_path = path != NULL ? path : JOURNAL_SOCKET;
}

int
journal_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(journal_path);
	int fd;

	if (len >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, journal_path, len + 1);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int
journal_field(char *buf, size_t cap, size_t *off, const char *name,
    const char *value, size_t vlen)
{
	size_t nlen = strlen(name), o = *off;
	bool binary = memchr(value, '\n', vlen) != NULL;
	size_t need = nlen + 1 + vlen + 1 + (binary ? 8 : 0);

	if (o > cap || need > cap - o)
		return -ENOBUFS;
	memcpy(buf + o, name, nlen);
	o += nlen;
	if (binary) {
		/* NAME\n, 64-bit little-endian length, value, \n. */
		uint64_t l = vlen;
		int i;

		buf[o++] = '\n';
		for (i = 0; i < 8; i++)
			buf[o++] = (char)((l >> (8 * i)) & 0xff);
	} else
		buf[o++] = '=';
	memcpy(buf + o, value, vlen);
	o += vlen;
	buf[o++] = '\n';
	*off = o;
	return 0;
}

void
journal_drain(int fd, int max_ms)
{
	/* Mostly taken by the first look or after the first nap: the
	 * naps grow from 0.1 ms, so an idle journald costs microseconds and a
	 * stalled one at most max_ms. */
	long nap_ns = 100000, left_ns = (long)max_ms * 1000000;
	int queued;

	while (fd >= 0 && ioctl(fd, SIOCOUTQ, &queued) == 0 && queued > 0 &&
	    left_ns > 0) {
		struct timespec ts = { 0, nap_ns < left_ns ? nap_ns : left_ns };

		nanosleep(&ts, NULL);
		left_ns -= ts.tv_nsec;
		if (nap_ns < 8000000)
			nap_ns *= 2;
	}
}
