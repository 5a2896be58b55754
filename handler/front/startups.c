/* MaxStartups and PerSourceMaxStartups across every sshand process of the
 * host, in inetd mode as under systemd: the processes share no memory and
 * never talk to each other, so the slots are byte-range locks in one
 * file, open file description locks (F_OFD_SETLK).  Such a lock belongs
 * to the open file, not to a process: the connection's processes share
 * it through fork, the monitor gives it back at login by closing its
 * descriptor (login.c), and the kernel gives it back when the last
 * descriptor closes, whatever killed its holders.  No count can leak.
 *
 * Bytes [0, full) are the host's slots; then NBUCKETS blocks of
 * per_source bytes, one block per source net block (hashed; sources that
 * share a bucket share its slots).  The file stays empty: locks need no
 * data. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/random.h>

#include "handler/front/startups.h"

#define NBUCKETS 4096

static int
try_lock(int fd, off_t at)
{
	struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
	    .l_start = at, .l_len = 1 };

	if (fcntl(fd, F_OFD_SETLK, &l) == 0)
		return 1;
	return errno == EAGAIN || errno == EACCES ? 0 : -errno;
}

static bool
locked_by_other(int fd, off_t at)
{
	struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
	    .l_start = at, .l_len = 1 };

	return fcntl(fd, F_OFD_GETLK, &l) == 0 && l.l_type != F_UNLCK;
}

/* One free byte of [from, from + n), locked: 1, 0 if none, or -errno. */
static int
take_one(int fd, off_t from, unsigned n, off_t *ret)
{
	for (unsigned i = 0; i < n; i++) {
		int r = try_lock(fd, from + (off_t)i);

		if (r != 0) {
			*ret = from + (off_t)i;
			return r;
		}
	}
	return 0;
}

static void
source(const struct sockaddr_storage *ss, uint8_t addr[16], bool *v4)
{
	memset(addr, 0, 16);
	*v4 = true;
	if (ss->ss_family == AF_INET) {
		memcpy(addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const uint8_t *a = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;

		if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)a))
			memcpy(addr, a + 12, 4);
		else {
			memcpy(addr, a, 16);
			*v4 = false;
		}
	}
}

int
startups_take(const char *path, const struct startups_params *p,
    const struct sockaddr_storage *peer, int *ret_fd, const char **why)
{
	uint8_t addr[16];
	unsigned others = 0, roll = 0;
	bool v4;
	off_t mine = -1, at;
	int fd, r;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (p->per_source > 0) {
		source(peer, addr, &v4);
		at = (off_t)p->full + (off_t)startups_bucket(p, addr, v4, NBUCKETS) *
		    p->per_source;
		r = take_one(fd, at, p->per_source, &mine);
		if (r <= 0) {
			close(fd);
			if (r < 0)
				return r;
			*why = "PerSourceMaxStartups";
			return 1;
		}
	}
	r = take_one(fd, 0, p->full, &at);
	if (r < 0) {
		close(fd);
		return r;
	}
	if (r > 0 && at >= (off_t)p->start) {
		/* Only beyond start does the count matter: count then. */
		for (unsigned i = 0; i < p->full; i++)
			if ((off_t)i != at && locked_by_other(fd, (off_t)i))
				others++;
		if (getrandom(&roll, sizeof(roll), 0) != sizeof(roll))
			roll = 0;
		roll %= 100;
	}
	if (r == 0 || startups_drop(p, others, roll)) {
		close(fd);	/* and with it every lock taken above */
		*why = "MaxStartups";
		return 1;
	}
	*ret_fd = fd;
	return 0;
}
