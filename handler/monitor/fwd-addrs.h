/* A forwarded connect's destination addresses, and the message that
 * carries them from the forwarder's resolver child over its pipe
 * (forwarder.c; internal to handler/monitor/).
 *
 * The child runs getaddrinfo() so that a slow or silent DNS server holds
 * up only it; it sends what it found and ends.  Every count and length
 * in the message has a fixed bound, so that the forwarder reads it into a
 * buffer of known size, and a short, long or otherwise malformed one is
 * a failed lookup, never a read past what arrived. */
#ifndef SSHAND_HANDLER_MONITOR_FWD_ADDRS_H
#define SSHAND_HANDLER_MONITOR_FWD_ADDRS_H

#include <stddef.h>
#include <stdint.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* A name's TCP addresses tried, at most: the first ones in the
 * resolver's order (RFC 6724, best first). */
#define FWD_MAX_ADDRS 16

struct fwd_addr {
	int family;			/* AF_INET or AF_INET6 */
	int socktype;			/* SOCK_STREAM */
	int protocol;			/* 0 or IPPROTO_TCP */
	socklen_t len;			/* of the family's sockaddr */
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} u;
};

struct fwd_addrs {
	int gai;			/* 0, or getaddrinfo()'s EAI_* */
	int err;			/* the errno of EAI_SYSTEM, or 0 */
	size_t n;			/* gai 0: 1 or more; else 0 */
	struct fwd_addr a[FWD_MAX_ADDRS];
};

/* The message: gai, err, n (32 bits each, this host's byte order: both
 * ends are one program on one host), then per address family, socktype,
 * protocol, len (32 bits each) and len bytes of sockaddr. */
#define FWD_ADDRS_HEAD 12
#define FWD_ADDRS_ENTRY_HEAD 16
#define FWD_ADDRS_MSG_MAX (FWD_ADDRS_HEAD + FWD_MAX_ADDRS * \
	(FWD_ADDRS_ENTRY_HEAD + sizeof(struct sockaddr_in6)))

/* *ret from getaddrinfo()'s answer gai (and errno err for EAI_SYSTEM)
 * and its list res: the TCP addresses of IPv4 and IPv6 only, the first
 * FWD_MAX_ADDRS of them.  A success that leaves none is EAI_ADDRFAMILY. */
void fwd_addrs_from_ai(struct fwd_addrs *ret, int gai, int err,
    const struct addrinfo *res);

/* a as a message in buf (FWD_ADDRS_MSG_MAX bytes): its length. */
size_t fwd_addrs_encode(const struct fwd_addrs *a,
    uint8_t buf[static FWD_ADDRS_MSG_MAX]);

/* The len bytes of buf into *ret: 0, or -EBADMSG (ret untouched) unless
 * they are exactly one message as fwd_addrs_encode writes them, each
 * address a TCP one of a family it knows, its sockaddr of that family's
 * size and family, and an error carrying no address. */
int fwd_addrs_decode(const uint8_t *buf, size_t len, struct fwd_addrs *ret);

#endif
