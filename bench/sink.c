/* bench-sink: the TCP service at the far end of the forwarding step's
 * ssh -L tunnel.
 *
 * Usage: bench-sink PORT      (listens on 127.0.0.1:PORT, forks per
 *                              connection, runs until killed)
 *
 * Per connection the client sends one request line:
 *   "up\n"     the sink answers "R" (so the client starts its clock only
 *              once the tunnel is open end to end), then reads and discards
 *              everything until EOF, and answers the byte count, "N\n"
 *              (proving every byte arrived, as wc -c does for a session);
 *   "down N\n" the source writes N zero bytes and closes.
 * It must never be what limits the rate: 1 MiB reads and writes, no
 * per-byte work; the bench measures it alone (direct loopback) first.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF (1024 * 1024)

static char buf[BUF];

static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* The request line, read a byte at a time so nothing after it is taken. */
static int
read_line(int fd, char *line, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap) {
		ssize_t r = read(fd, line + n, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (line[n] == '\n') {
			line[n] = '\0';
			return 0;
		}
		n++;
	}
	return -1;
}

static int
sink(int fd)
{
	uint64_t total = 0;
	char out[32];
	int len;

	if (write_all(fd, "R", 1) < 0)
		return 1;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return 1;
		if (r == 0)
			break;
		total += (uint64_t)r;
	}
	len = snprintf(out, sizeof(out), "%" PRIu64 "\n", total);
	return write_all(fd, out, (size_t)len) < 0;
}

static int
source(int fd, uint64_t size)
{
	while (size > 0) {
		size_t n = size < sizeof(buf) ? (size_t)size : sizeof(buf);
		ssize_t w = write(fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return 1;
		size -= (uint64_t)w;
	}
	return 0;
}

static int
serve(int fd)
{
	char line[64], *end;
	unsigned long long size;

	if (read_line(fd, line, sizeof(line)) < 0)
		return 1;
	if (strcmp(line, "up") == 0)
		return sink(fd);
	if (strncmp(line, "down ", 5) == 0) {
		errno = 0;
		size = strtoull(line + 5, &end, 10);
		if (errno == 0 && *end == '\0' && end != line + 5)
			return source(fd, size);
	}
	return 1;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int one = 1, ls;

	if (argc != 2) {
		fprintf(stderr, "usage: bench-sink PORT\n");
		return 2;
	}
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* Children are not waited for: nobody needs their status. */
	signal(SIGCHLD, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) < 0 || bind(ls, (struct sockaddr *)&sa,
	    sizeof(sa)) < 0 || listen(ls, 64) < 0) {
		perror("bench-sink: listen");
		return 1;
	}
	for (;;) {
		int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		pid_t pid;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("bench-sink: accept");
			return 1;
		}
		pid = fork();
		if (pid == 0) {
			close(ls);
			_exit(serve(fd));
		}
		if (pid < 0)
			perror("bench-sink: fork");
		close(fd);
	}
}
