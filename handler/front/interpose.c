/* Fewer system calls under libssh and OpenSSL: why, and what changes, is
 * in interpose.h. */
#define _GNU_SOURCE
#include <pthread.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "handler/front/interpose.h"

/* 0: ask the kernel. */
static pid_t cached_pid;
static bool atfork_set;

static struct {
	int fd;			/* -1: off */
	size_t off, len;	/* what is buffered: buf[off .. off+len) */
	unsigned polls_skipped;
} ra = { .fd = -1 };
/* In .bss: a process that never reads ahead never touches it, and it
 * costs no memory there. */
static uint8_t buf[READAHEAD_MAX];

/* What libc's own recv(), poll() and getpid() ask of the kernel, asked
 * directly: the same system calls, so every seccomp filter sees what it
 * saw before, and nothing to look up at each exec (dlsym(RTLD_NEXT) cost
 * the front about 10 us, a banned source's refusal included).  A
 * sanitizer's interceptors of these three no longer run in sshand. */
static ssize_t
sys_recv(int fd, void *dst, size_t n, int flags)
{
	return syscall(SYS_recvfrom, fd, dst, n, flags, NULL, NULL);
}

static int
sys_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
#ifdef SYS_poll
	return (int)syscall(SYS_poll, fds, nfds, timeout);
#else
	struct timespec ts = { timeout / 1000, (timeout % 1000) * 1000000L };

	return (int)syscall(SYS_ppoll, fds, nfds, timeout < 0 ? NULL : &ts,
	    NULL, 0);
#endif
}

static void
forget_pid(void)
{
	cached_pid = 0;
}

void
interpose_cache_pid(void)
{
	/* A child forked after this (none is, in the network child) asks
	 * again. */
	if (!atfork_set && pthread_atfork(NULL, NULL, forget_pid) != 0)
		return;
	atfork_set = true;
	cached_pid = (pid_t)syscall(SYS_getpid);
}

pid_t
getpid(void)
{
	if (cached_pid != 0)
		return cached_pid;
	return (pid_t)syscall(SYS_getpid);
}

int
interpose_readahead(int fd)
{
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

	if (fd < 0 || fd != ra.fd)
		return sys_recv(fd, dst, n, flags);
	if (ra.len == 0) {
		ssize_t r;

		/* A read as large as ours, or one with flags we do not
		 * mimic, goes straight to the socket. */
		if (n >= sizeof buf || (flags & ~MSG_DONTWAIT) != 0 || n == 0)
			return sys_recv(fd, dst, n, flags);
		r = sys_recv(fd, buf, sizeof buf, flags);
		if (r <= 0)
			return r;
		ra.off = 0;
		ra.len = (size_t)r;
	}
	/* What is buffered comes first in the stream: a peek sees it, and
	 * leaves it. */
	k = n < ra.len ? n : ra.len;
	memcpy(dst, buf + ra.off, k);
	if (!(flags & MSG_PEEK)) {
		ra.off += k;
		ra.len -= k;
	}
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

	if (ra.len > 0) {
		for (nfds_t i = 0; i < nfds; i++)
			if (fds[i].fd == ra.fd && (fds[i].events & POLLIN)) {
				mine = &fds[i];
				break;
			}
	}
	if (mine == NULL)
		return sys_poll(fds, nfds, timeout);
	if (ra.polls_skipped + 1 < READAHEAD_POLL_EVERY) {
		ra.polls_skipped++;
		for (nfds_t i = 0; i < nfds; i++)
			fds[i].revents = 0;
		mine->revents = POLLIN;
		return 1;
	}
	ra.polls_skipped = 0;
	r = sys_poll(fds, nfds, 0);
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
