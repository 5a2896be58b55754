/* delayline: a TCP relay that holds every byte for a fixed time each way.
 *
 * Usage: delayline LISTEN_IP LISTEN_PORT TARGET_IP TARGET_PORT DELAY_MS
 *
 * The fallback for the benchmark's delayed link where the kernel has no
 * netem qdisc.  Each chunk read from one side is stamped and written to the
 * other side DELAY_MS later, so SSH sees a round trip of twice DELAY_MS and
 * its channel windows, not the CPU, bound the throughput.  The relay's own
 * buffering is generous (64 MiB each way) so it never becomes the limiting
 * window itself.  One child process per connection; loopback only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)
#define QUEUE_CAP (64L * 1024 * 1024)

struct chunk {
	struct chunk *next;
	long long due;		/* monotonic ms when it may leave */
	size_t len, off;
	char data[];
};

struct dir {
	int from, to;
	struct chunk *head, *tail;
	long queued;
	int eof;		/* read side saw EOF */
	long long eof_due;
	int done;		/* write side shut down */
};

static long long delay_ms;

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
pump_in(struct dir *d)
{
	struct chunk *c;
	ssize_t n;

	c = malloc(sizeof(*c) + CHUNK);
	if (c == NULL)
		return -1;
	n = read(d->from, c->data, CHUNK);
	if (n <= 0) {
		free(c);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		d->eof = 1;
		d->eof_due = now_ms() + delay_ms;
		return 0;
	}
	c->next = NULL;
	c->due = now_ms() + delay_ms;
	c->len = (size_t)n;
	c->off = 0;
	if (d->tail != NULL)
		d->tail->next = c;
	else
		d->head = c;
	d->tail = c;
	d->queued += n;
	return 0;
}

static int
pump_out(struct dir *d, long long now)
{
	struct chunk *c;
	ssize_t n;

	while ((c = d->head) != NULL && c->due <= now) {
		n = write(d->to, c->data + c->off, c->len - c->off);
		if (n < 0)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		c->off += (size_t)n;
		d->queued -= n;
		if (c->off < c->len)
			return 0;
		d->head = c->next;
		if (d->head == NULL)
			d->tail = NULL;
		free(c);
	}
	if (d->head == NULL && d->eof && !d->done && d->eof_due <= now) {
		shutdown(d->to, SHUT_WR);
		d->done = 1;
	}
	return 0;
}

static long long
next_due(const struct dir *d)
{
	if (d->head != NULL)
		return d->head->due;
	if (d->eof && !d->done)
		return d->eof_due;
	return -1;
}

static void
relay(int a, int b)
{
	struct dir dirs[2] = {
		{ .from = a, .to = b }, { .from = b, .to = a },
	};
	struct pollfd p[2];
	long long now, due, wait_ms;
	int i, k;

	fcntl(a, F_SETFL, O_NONBLOCK);
	fcntl(b, F_SETFL, O_NONBLOCK);
	while (!(dirs[0].done && dirs[1].done)) {
		now = now_ms();
		wait_ms = -1;
		for (i = 0; i < 2; i++) {
			p[i].fd = -1;
			p[i].events = 0;
		}
		/* p[0] watches a, p[1] watches b. */
		for (i = 0; i < 2; i++) {
			struct dir *d = &dirs[i];
			k = d->from == a ? 0 : 1;
			if (!d->eof && d->queued < QUEUE_CAP) {
				p[k].fd = d->from;
				p[k].events |= POLLIN;
			}
			due = next_due(d);
			if (due >= 0) {
				if (due <= now) {
					k = d->to == a ? 0 : 1;
					p[k].fd = d->to;
					p[k].events |= POLLOUT;
				} else if (wait_ms < 0 || due - now < wait_ms)
					wait_ms = due - now;
			}
		}
		if (poll(p, 2, (int)wait_ms) < 0 && errno != EINTR)
			return;
		for (i = 0; i < 2; i++) {
			k = dirs[i].from == a ? 0 : 1;
			if (p[k].fd >= 0 && (p[k].revents & (POLLIN | POLLHUP |
			    POLLERR)) && (p[k].events & POLLIN))
				if (pump_in(&dirs[i]) < 0)
					return;
		}
		now = now_ms();
		for (i = 0; i < 2; i++)
			if (pump_out(&dirs[i], now) < 0)
				return;
	}
}

static int
tcp_socket(void)
{
	int one = 1, fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in la = { .sin_family = AF_INET };
	struct sockaddr_in ta = { .sin_family = AF_INET };
	int one = 1, ls, c, t;

	if (argc != 6 || inet_pton(AF_INET, argv[1], &la.sin_addr) != 1 ||
	    inet_pton(AF_INET, argv[3], &ta.sin_addr) != 1) {
		fprintf(stderr, "usage: delayline LISTEN_IP LISTEN_PORT "
		    "TARGET_IP TARGET_PORT DELAY_MS\n");
		return 2;
	}
	la.sin_port = htons((unsigned short)atoi(argv[2]));
	ta.sin_port = htons((unsigned short)atoi(argv[4]));
	delay_ms = atoll(argv[5]);
	signal(SIGCHLD, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);

	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0)
		return 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&la, sizeof(la)) != 0 ||
	    listen(ls, 64) != 0) {
		perror("delayline: bind/listen");
		return 1;
	}
	for (;;) {
		c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		switch (fork()) {
		case -1:
			close(c);
			break;
		case 0:
			close(ls);
			t = tcp_socket();
			if (t >= 0 && connect(t, (struct sockaddr *)&ta,
			    sizeof(ta)) == 0)
				relay(c, t);
			_exit(0);
		default:
			close(c);
		}
	}
}
