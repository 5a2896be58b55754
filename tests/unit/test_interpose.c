/* Unit tests for handler/front/interpose.c: the read-ahead keeps the
 * socket's bytes and their order, poll() tells the truth about them, the
 * other descriptors are untouched, and a cached pid does not outlive a
 * fork.  Linked into this program, the definitions are the ones its own
 * calls of recv(), poll() and getpid() reach, as libssh's do in sshand. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "handler/front/interpose.h"

/* A stream of n bytes that says where each byte sits. */
static uint8_t
byte_at(size_t i)
{
	return (uint8_t)(i * 7 + i / 251);
}

static void
send_all(int fd, size_t from, size_t n)
{
	uint8_t chunk[8192];

	while (n > 0) {
		size_t k = n < sizeof chunk ? n : sizeof chunk;

		for (size_t i = 0; i < k; i++)
			chunk[i] = byte_at(from + i);
		assert_int_equal(send(fd, chunk, k, 0), (ssize_t)k);
		from += k;
		n -= k;
	}
}

static void
socket_pair(int sv[2])
{
	int size = 1 << 20;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

/* What the kernel still holds for fd, read around the read-ahead. */
static ssize_t
kernel_queued(int fd)
{
	uint8_t b[1];

	return syscall(SYS_recvfrom, fd, b, sizeof b, MSG_PEEK | MSG_DONTWAIT,
	    NULL, NULL);
}

static void
test_bytes_and_order(void **state)
{
	int sv[2];
	size_t total = 600 * 1024, got = 0;
	uint8_t b[4096];

	(void)state;
	socket_pair(sv);
	assert_int_equal(interpose_readahead(sv[0]), 0);
	send_all(sv[1], 0, total);
	while (got < total) {
		/* libssh's shape: poll, then one read of at most 4 KiB. */
		struct pollfd p = { .fd = sv[0], .events = POLLIN };
		ssize_t r;

		assert_int_equal(poll(&p, 1, 1000), 1);
		assert_true(p.revents & POLLIN);
		r = recv(sv[0], b, sizeof b, 0);
		assert_true(r > 0);
		for (ssize_t i = 0; i < r; i++)
			assert_int_equal(b[i], byte_at(got + (size_t)i));
		got += (size_t)r;
	}
	assert_int_equal(interpose_buffered(), 0);
	/* The end of the stream comes through as it is. */
	close(sv[1]);
	assert_int_equal(recv(sv[0], b, sizeof b, 0), 0);
	assert_int_equal(interpose_readahead(-1), 0);
	close(sv[0]);
}

static void
test_one_read_fills_buffer(void **state)
{
	int sv[2];
	uint8_t b[4096];

	(void)state;
	socket_pair(sv);
	assert_int_equal(interpose_readahead(sv[0]), 0);
	send_all(sv[1], 0, 100 * 1024);
	assert_int_equal(recv(sv[0], b, sizeof b, 0), (ssize_t)sizeof b);
	/* The rest was taken from the kernel in the same call. */
	assert_int_equal(interpose_buffered(), 96 * 1024);
	assert_int_equal(kernel_queued(sv[0]), -1);
	assert_int_equal(errno, EAGAIN);
	/* A peek sees the buffered bytes, next in the stream, and leaves
	 * them. */
	assert_int_equal(recv(sv[0], b, 8, MSG_PEEK), 8);
	assert_int_equal(b[0], byte_at(4096));
	assert_int_equal(interpose_buffered(), 96 * 1024);
	/* Registering anew would lose it. */
	assert_int_equal(interpose_readahead(-1), -EBUSY);
	/* poll says readable though the kernel holds nothing, and waits for
	 * nothing. */
	for (int i = 0; i < 24; i++) {
		struct pollfd p = { .fd = sv[0], .events = POLLIN };

		assert_int_equal(poll(&p, 1, -1), 1);
		assert_int_equal(p.revents, POLLIN);
		assert_int_equal(recv(sv[0], b, sizeof b, 0), (ssize_t)sizeof b);
	}
	assert_int_equal(interpose_buffered(), 0);
	/* Empty again: poll is the kernel's, and waits. */
	struct pollfd p = { .fd = sv[0], .events = POLLIN };
	assert_int_equal(poll(&p, 1, 0), 0);
	assert_int_equal(interpose_readahead(-1), 0);
	close(sv[0]);
	close(sv[1]);
}

static void
test_others_still_heard(void **state)
{
	int sv[2], other[2];
	uint8_t b[1024];
	unsigned rounds = 0;
	bool heard = false;

	(void)state;
	socket_pair(sv);
	assert_int_equal(pipe(other), 0);
	assert_int_equal(interpose_readahead(sv[0]), 0);
	send_all(sv[1], 0, 200 * 1024);
	assert_int_equal(recv(sv[0], b, sizeof b, 0), (ssize_t)sizeof b);
	assert_int_equal(write(other[1], "x", 1), 1);
	/* While the socket's data is served from memory, the pipe's event
	 * still comes, within READAHEAD_POLL_EVERY rounds, beside the
	 * socket's. */
	while (!heard) {
		struct pollfd p[2] = { { .fd = other[0], .events = POLLIN },
		    { .fd = sv[0], .events = POLLIN } };
		int r = poll(p, 2, -1);

		assert_true(p[1].revents & POLLIN);
		heard = p[0].revents & POLLIN;
		assert_int_equal(r, heard ? 2 : 1);
		assert_int_equal(recv(sv[0], b, sizeof b, 0), (ssize_t)sizeof b);
		rounds++;
		assert_true(rounds <= READAHEAD_POLL_EVERY);
	}
	/* A descriptor that does not ask for input is not told of it. */
	struct pollfd q = { .fd = sv[0], .events = POLLOUT };
	assert_int_equal(poll(&q, 1, 0), 1);
	assert_int_equal(q.revents, POLLOUT);
	/* Other descriptors' reads are the kernel's own. */
	assert_int_equal(read(other[0], b, 1), 1);
	while (interpose_buffered() > 0)
		assert_true(recv(sv[0], b, sizeof b, 0) > 0);
	assert_int_equal(interpose_readahead(-1), 0);
	close(sv[0]);
	close(sv[1]);
	close(other[0]);
	close(other[1]);
}

static void
test_unregistered_untouched(void **state)
{
	int sv[2];
	uint8_t b[16];

	(void)state;
	socket_pair(sv);
	assert_int_equal(interpose_readahead(-1), 0);
	send_all(sv[1], 0, 64 * 1024);
	assert_int_equal(recv(sv[0], b, sizeof b, 0), (ssize_t)sizeof b);
	assert_int_equal(interpose_buffered(), 0);
	assert_int_equal(kernel_queued(sv[0]), 1);
	/* A peek or a large read on the registered socket is not ours to
	 * buffer either. */
	assert_int_equal(interpose_readahead(sv[0]), 0);
	assert_int_equal(recv(sv[0], b, sizeof b, MSG_PEEK), (ssize_t)sizeof b);
	assert_int_equal(b[0], byte_at(16));
	assert_int_equal(interpose_buffered(), 0);
	assert_int_equal(interpose_readahead(-1), 0);
	close(sv[0]);
	close(sv[1]);
}

static void
test_pid_cache_and_fork(void **state)
{
	pid_t me = (pid_t)syscall(SYS_getpid), child;
	int st;

	(void)state;
	assert_int_equal(getpid(), me);
	interpose_cache_pid();
	assert_int_equal(getpid(), me);
	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(getpid() == (pid_t)syscall(SYS_getpid) && getpid() != me ? 0 : 1);
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(getpid(), me);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes_and_order),
		cmocka_unit_test(test_one_read_fills_buffer),
		cmocka_unit_test(test_others_still_heard),
		cmocka_unit_test(test_unregistered_untouched),
		cmocka_unit_test(test_pid_cache_and_fork),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
