/* An LD_PRELOAD shim that plays a network child taken over before login
 * (tests/integration/test_pubkey_forgery.py): its EVP_DigestVerify says
 * "valid" to every signature in the process that holds the client's TCP
 * socket (the network child), and is libcrypto's real one everywhere
 * else (the monitor, which has closed the socket).  sshand must still not
 * let a forged signature log in: the monitor checks signatures itself.
 *
 * Preloaded objects come first in every lookup, so libssh in the network
 * child binds to this one (before sshand-net.so's own, see
 * handler/net/verify.c).  The real function is found through dlopen of
 * libcrypto: RTLD_NEXT from a preload does not see libraries that were
 * dlopen'ed later, as sshand's halves are.
 *
 * The network child is chrooted and under seccomp when it verifies: the
 * socket is found with getsockopt on each descriptor, which its
 * allow-list permits, and the one line saying the shim acted goes to
 * stderr, which is the server's log in the tests. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

typedef struct evp_md_ctx_st EVP_MD_CTX;
typedef int (*verify_fn)(EVP_MD_CTX *, const unsigned char *, size_t,
    const unsigned char *, size_t);

int EVP_DigestVerify(EVP_MD_CTX *ctx, const unsigned char *sig, size_t siglen,
    const unsigned char *tbs, size_t tbslen);

static bool
holds_tcp_socket(void)
{
	for (int fd = 0; fd < 1024; fd++) {
		int domain = 0, type = 0;
		socklen_t len = sizeof(domain);

		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0)
			continue;
		len = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
			continue;
		if ((domain == AF_INET || domain == AF_INET6) && type == SOCK_STREAM)
			return true;
	}
	return false;
}

int
EVP_DigestVerify(EVP_MD_CTX *ctx, const unsigned char *sig, size_t siglen,
    const unsigned char *tbs, size_t tbslen)
{
	static verify_fn real;

	if (holds_tcp_socket()) {
		char msg[128];
		int n = snprintf(msg, sizeof(msg),
		    "fakeverify: EVP_DigestVerify faked valid in pid %d\n", (int)getpid());

		if (n > 0 && write(2, msg, (size_t)n) < 0)
			return 1;
		return 1;
	}
	if (real == NULL) {
		void *h = dlopen("libcrypto.so.3", RTLD_LAZY | RTLD_NOLOAD);

		if (h == NULL)
			h = dlopen("libcrypto.so.3", RTLD_LAZY);
		if (h != NULL)
			real = (verify_fn)dlsym(h, "EVP_DigestVerify");
		if (real == NULL || real == EVP_DigestVerify) {
			static const char m[] = "fakeverify: no real EVP_DigestVerify\n";

			if (write(2, m, sizeof(m) - 1) < 0)
				return -1;
			return -1;
		}
	}
	return real(ctx, sig, siglen, tbs, tbslen);
}
