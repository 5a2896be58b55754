/* libFuzzer target: the network child's pre-authentication byte stream.
 * A real libssh server session, set up as handler/net/net.c sets up its
 * own (no libssh configuration files, sshand's algorithm lists), accepts
 * one end of a socketpair; the input is everything the client sends,
 * written to the other end before the client's side is shut.  The key
 * exchange is then driven non-blocking, as net.c drives it, for a
 * bounded number of rounds: the version exchange, packet framing,
 * KEXINIT parsing and negotiation, and the key exchange's first message
 * all read the input.  The seeds are a real OpenSSH client's bytes, so
 * the exchange runs through to NEWKEYS, where the recorded client's
 * encrypted packets fail (they were made for another server's keys).
 *
 * Host keys are generated once per process (Ed25519, ECDSA P-256): the
 * network child's stand-in keys and its signing through the monitor are
 * not what is fuzzed here.
 *
 * Coverage: libssh is Debian's shared library, not instrumented, so
 * libFuzzer sees only this file's edges and mutates nearly blind; ASan
 * still catches bad frees and overflows of the heap blocks libssh gets
 * from malloc.  See README, "Fuzzing". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>

#include <libssh/libssh.h>
#include <libssh/server.h>

#include "policy/algorithms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Rounds of the key exchange: each call reads what has arrived, so a
 * few are enough for everything the input holds; the bound keeps a
 * libssh that waits for more from spinning. */
#define ROUNDS 32
#define MAX_INPUT (64 * 1024)

static ssh_bind bind_;

static void
add_key(enum ssh_keytypes_e type, int bits)
{
	ssh_key k = NULL;

	if (ssh_pki_generate(type, bits, &k) != SSH_OK ||
	    ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_IMPORT_KEY, k) < 0)
		abort();
	/* The bind owns it now. */
}

static void
setup(void)
{
	bool no = false;
	/* FUZZ_LIBSSH_LOG=4 shows how far an input goes (libssh's log on
	 * stderr). */
	const char *log = getenv("FUZZ_LIBSSH_LOG");
	int verbosity = log != NULL ? atoi(log) : SSH_LOG_NOLOG;

	/* The client end is closed while libssh may still write to it. */
	signal(SIGPIPE, SIG_IGN);
	bind_ = ssh_bind_new();
	if (bind_ == NULL)
		abort();
	ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no);
	ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_LOG_VERBOSITY, &verbosity);
	add_key(SSH_KEYTYPE_ED25519, 0);
	add_key(SSH_KEYTYPE_ECDSA_P256, 0);
	if (ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_KEY_EXCHANGE,
	    algo_default(ALGO_KEX)) < 0 ||
	    ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_CIPHERS_C_S,
	    algo_default(ALGO_CIPHER)) < 0 ||
	    ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_CIPHERS_S_C,
	    algo_default(ALGO_CIPHER)) < 0 ||
	    ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_HMAC_C_S,
	    algo_default(ALGO_MAC)) < 0 ||
	    ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_HMAC_S_C,
	    algo_default(ALGO_MAC)) < 0 ||
	    ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_PUBKEY_ACCEPTED_KEY_TYPES,
	    algo_default(ALGO_PUBKEY)) < 0)
		abort();
}

/* What the server wrote: read and dropped, so it never blocks on a full
 * socket buffer. */
static void
drain(int fd)
{
	char buf[16384];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2], big = 2 * MAX_INPUT, rc = SSH_AGAIN;
	ssh_session s;

	if (bind_ == NULL)
		setup();
	if (size > MAX_INPUT)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	/* All of the input fits in the socket at once. */
	if (setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big)) < 0 ||
	    setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)) < 0 ||
	    fcntl(sv[1], F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0)
		abort();
	/* (A short write only cuts the input short.) */
	if (size > 0 && write(sv[1], data, size) < 0)
		abort();
	shutdown(sv[1], SHUT_WR);

	s = ssh_new();
	if (s == NULL)
		abort();
	if (ssh_bind_accept_fd(bind_, s, sv[0]) != SSH_OK) {
		ssh_free(s);
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	ssh_set_blocking(s, 0);
	for (int i = 0; i < ROUNDS && rc == SSH_AGAIN; i++) {
		rc = ssh_handle_key_exchange(s);
		drain(sv[1]);
	}
	ssh_disconnect(s);
	ssh_free(s);
	close(sv[1]);
	return 0;
}
