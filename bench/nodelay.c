/* nodelay.so: LD_PRELOAD shim that sets TCP_NODELAY on every TCP socket a
 * program connects, so the benchmark can show what Nagle's algorithm costs
 * the stock OpenSSH client (which sets TCP_NODELAY only for interactive
 * sessions).  Build: gcc -shared -fPIC -O2 -o nodelay.so nodelay.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <sys/socket.h>

typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);

int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	static connect_fn real;
	int one = 1, type = 0, saved;
	socklen_t tl = sizeof(type);

	if (real == NULL)
		real = (connect_fn)dlsym(RTLD_NEXT, "connect");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	/* Before connect, so the very first segments already go out unbatched. */
	if (sa != NULL && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) &&
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 &&
	    type == SOCK_STREAM) {
		saved = errno;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		errno = saved;
	}
	return real(fd, sa, len);
}
