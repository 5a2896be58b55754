/* Fewer system calls under libssh and OpenSSL: why, and what changes, is
 * in interpose.h. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "handler/front/interpose.h"

typedef ssize_t recv_fn(int, void *, size_t, int);
typedef int poll_fn(struct pollfd *, nfds_t, int);
typedef pid_t getpid_fn(void);

static recv_fn *real_recv;
static poll_fn *real_poll;
static getpid_fn *real_getpid;
/* 0: ask the kernel. */
static pid_t cached_pid;

static struct {
	int fd;			/* -1: off */
	size_t off, len;	/* what is buffered: buf[off .. off+len) */
	unsigned polls_skipped;
} ra = { .fd = -1 };
/* In .bss: a process that never reads ahead never touches it, and it
 * costs no memory there. */
static uint8_t buf[READAHEAD_MAX];

static void
forget_pid(void)
{
	cached_pid = 0;
}

/* Looked up once, before main(): the next definition after ours, libc's
 * (or a sanitizer's, which passes on to libc's). */
__attribute__((constructor)) static void
find_real(void)
{
	real_recv = (recv_fn *)dlsym(RTLD_NEXT, "recv");
	real_poll = (poll_fn *)dlsym(RTLD_NEXT, "poll");
	real_getpid = (getpid_fn *)dlsym(RTLD_NEXT, "getpid");
	pthread_atfork(NULL, NULL, forget_pid);
}

void
interpose_cache_pid(void)
{
	if (real_getpid != NULL)
		cached_pid = real_getpid();
}

pid_t
getpid(void)
{
	if (cached_pid != 0)
		return cached_pid;
	if (real_getpid == NULL)
		return (pid_t)syscall(SYS_getpid);
	return real_getpid();
}

int
interpose_readahead(int fd)
{
	if (real_recv == NULL || real_poll == NULL)
		return -ENOSYS;
	if (ra.len > 0)
		return -EBUSY;
	ra.fd = fd;
	ra.off = 0;
	ra.polls_skipped = 0;
	return 0;
}

size_t
interpose_buffered(void)
{
	return ra.len;
}

ssize_t
recv(int fd, void *dst, size_t n, int flags)
{
	size_t k;

	if (real_recv == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (fd < 0 || fd != ra.fd)
		return real_recv(fd, dst, n, flags);
	if (ra.len == 0) {
		ssize_t r;

		/* A read as large as ours, or one with flags we do not
		 * mimic, goes straight to the socket. */
		if (n >= sizeof buf || (flags & ~MSG_DONTWAIT) != 0 || n == 0)
			return real_recv(fd, dst, n, flags);
		r = real_recv(fd, buf, sizeof buf, flags);
		if (r <= 0)
			return r;
		ra.off = 0;
		ra.len = (size_t)r;
	}
	k = n < ra.len ? n : ra.len;
	memcpy(dst, buf + ra.off, k);
	ra.off += k;
	ra.len -= k;
	return (ssize_t)k;
}

/* glibc declares poll()'s array write-only (access attribute, for its
 * fortified build), though poll reads fd and events from it: the
 * compiler would take our reading of them for a use of unset memory. */
#pragma GCC diagnostic push
#ifndef __clang__
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
int
poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	struct pollfd *mine = NULL;
	int r;

	if (real_poll == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (ra.len > 0) {
		for (nfds_t i = 0; i < nfds; i++)
			if (fds[i].fd == ra.fd && (fds[i].events & POLLIN)) {
				mine = &fds[i];
				break;
			}
	}
	if (mine == NULL)
		return real_poll(fds, nfds, timeout);
	if (ra.polls_skipped + 1 < READAHEAD_POLL_EVERY) {
		ra.polls_skipped++;
		for (nfds_t i = 0; i < nfds; i++)
			fds[i].revents = 0;
		mine->revents = POLLIN;
		return 1;
	}
	ra.polls_skipped = 0;
	r = real_poll(fds, nfds, 0);
	if (r < 0) {
		/* EINTR, or a set the kernel refuses now and will refuse
		 * again once the buffer is empty: the buffered bytes first. */
		for (nfds_t i = 0; i < nfds; i++)
			fds[i].revents = 0;
		r = 0;
	}
	if (mine->revents == 0)
		r++;
	mine->revents |= POLLIN;
	return r;
}
#pragma GCC diagnostic pop
