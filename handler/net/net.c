/* The network child: the only process that parses what the client sends.
 *
 * Before it reads the first byte it is chrooted to an empty directory, runs
 * as the unprivileged PrivsepUser with no capabilities and no_new_privs, and
 * is confined by a seccomp allow-list.  Every decision (is this password
 * right, may this key log in, start this shell) is asked of the monitor over
 * the socketpair (ask.c); after login it relays bytes between the SSH
 * channels and the session fds the monitor passes it (relay.c).
 *
 * Whatever ends it, its last word to the monitor is STATS: the bytes both
 * ways and why the connection ended, which the monitor audits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "handler/front/log.h"
#include "handler/front/interpose.h"
#include "handler/net/libssh-private.h"
#include "handler/net/net.h"
#include "policy/algorithms.h"
#include "policy/config.h"
#include "sandbox/sandbox.h"

/* A round that read less than this from the client was a small exchange
 * (see the event loop).  libssh 0.10 reads at most 4 KiB per round
 * (MAX_BUF_SIZE), so a round that filled that is bulk: at 16 KiB every
 * round of an upload renewed the mode, one setsockopt per 4 KiB and an
 * ACK sent at once for each (about 20% of the network child's CPU in
 * a forwarded aes-gcm upload, bench step 9).  A round that sent this
 * much needs no quick ACK either: our data carries the ACK (in a
 * download, the client's window adjustments renewed the mode at every
 * round, a quarter of the child's system calls). */
#define QUICKACK_BELOW 4096

static struct ps_msg req, rep;

void
net_fail(struct net *n, int code, const char *reason)
{
	if (!n->done) {
		n->done = true;
		n->exit_code = code;
		n->reason = reason;
	}
}

/* libssh's own logger formats times with localtime(), which reads
 * /etc/localtime: not possible in the sandbox.  Ours needs no file. */
static void
libssh_log(int priority, const char *function, const char *buffer, void *ud)
{
	(void)priority, (void)ud;
	log_debug("libssh %s: %s", function, buffer);
}

static int
setup_bind(struct net *n, ssh_bind *ret)
{
	const struct settings *s = n->h->global;
	ssh_bind b = ssh_bind_new();
	char pubkey_algos[ALGO_LIST_MAX * 4];
	bool no = false;
	int r;

	if (b == NULL)
		return -ENOMEM;
	ssh_bind_options_set(b, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no);
	r = net_hostkeys(n, b);
	if (r < 0) {
		ssh_bind_free(b);
		return r;
	}
	/* Only names libssh implements reach it: the configuration stores
	 * its lists expanded and filtered (policy/algorithms.c), and the
	 * defaults are ours (no group exchange, which needs /etc/ssh/moduli,
	 * hidden by the chroot).  PubkeyAcceptedAlgorithms: every name some
	 * user may be given, so that server-sig-algs tells clients what may
	 * be accepted and libssh refuses no user's own choice; the monitor
	 * checks each user's list (sigcheck). */
	if (config_pubkey_algorithms_any(n->h->cfg, pubkey_algos,
	    sizeof(pubkey_algos)) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_KEY_EXCHANGE,
	    algo_effective(ALGO_KEX, s->kex_algorithms)) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_CIPHERS_C_S,
	    algo_effective(ALGO_CIPHER, s->ciphers)) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_CIPHERS_S_C,
	    algo_effective(ALGO_CIPHER, s->ciphers)) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HMAC_C_S,
	    algo_effective(ALGO_MAC, s->macs)) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HMAC_S_C,
	    algo_effective(ALGO_MAC, s->macs)) < 0 ||
	    (s->hostkey_algorithms && ssh_bind_options_set(b,
	    SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS, s->hostkey_algorithms) < 0) ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_PUBKEY_ACCEPTED_KEY_TYPES,
	    pubkey_algos) < 0) {
		log_error("%s: algorithm list refused by libssh: %s", n->h->config_path,
		    ssh_get_error(b));
		ssh_bind_free(b);
		return -EINVAL;
	}
	for (size_t i = 0; config_notice(n->h->cfg, i) != NULL; i++)
		log_debug("%s", config_notice(n->h->cfg, i));
	if (n->h->debug > 1) {
		int v = n->h->debug > 2 ? SSH_LOG_FUNCTIONS : SSH_LOG_PROTOCOL;

		ssh_set_log_callback(libssh_log);
		ssh_bind_options_set(b, SSH_BIND_OPTIONS_LOG_VERBOSITY, &v);
	}
	*ret = b;
	return 0;
}

/* The client sets no TCP_NODELAY for non-interactive sessions: when it
 * writes two small packets in a row (NEWKEYS then the service request,
 * say), the second waits for our ACK of the first, which Linux delays by
 * up to 40 ms because we have nothing to send yet.  Quick ACKs remove
 * those stalls; the mode is not sticky, so it is renewed around reads. */
static void
quickack(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

/* The key exchange, driven step by step so quick ACKs can be renewed and
 * the monitor can end a client that stalls in it. */
static int
key_exchange(struct net *n)
{
	int fd = ssh_get_fd(n->s), rc;

	ssh_set_blocking(n->s, 0);
	for (;;) {
		struct pollfd pfd[2] = { { .fd = fd, .events = POLLIN },
		    { .fd = n->mon, .events = POLLIN } };

		quickack(fd);
		rc = ssh_handle_key_exchange(n->s);
		if (rc != SSH_AGAIN)
			break;
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents) {
			on_monitor(n->mon, pfd[1].revents, n);
			if (n->done) {
				rc = SSH_ERROR;
				break;
			}
		}
	}
	ssh_set_blocking(n->s, 1);
	return rc;
}

/* Everything that reads a file or initialises once, then the sandbox:
 * nothing from the client has been read yet. */
static int
lock_down(struct net *n)
{
	unsigned char seed[16];
	int r;

	/* Only the monitor writes audit records and the ban file: the child
	 * must not hold them, nor a journal socket on which it could write
	 * entries with any fields.  It logs to stderr when that is a log
	 * (-e), and is otherwise silent: its failures reach the audit trail
	 * through the monitor (the STATS reason). */
	audit_trail_close();
	log_setup(n->h->log_stderr ? LOG_TARGET_STDERR : LOG_TARGET_NONE, n->h->log_prio);
	if (n->h->bans != NULL) {
		ban_close(n->h->bans);
		n->h->bans = NULL;
	}
	if (n->h->startups_fd >= 0) {
		close(n->h->startups_fd);
		n->h->startups_fd = -1;
	}
	/* OpenSSL reads its configuration and seeds its generator lazily;
	 * neither is possible once chrooted and filtered. */
	OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
	if (RAND_bytes(seed, sizeof(seed)) != 1)
		return -EIO;
	explicit_bzero(seed, sizeof(seed));

	r = sandbox_enter_netchild(n->h->privsep_uid, n->h->privsep_gid,
	    n->h->global->privsep_directory);
	if (r < 0)
		return log_errno(LOG_ERR, r, "cannot enter the network sandbox "
		    "(PrivsepDirectory %s)", n->h->global->privsep_directory);
	/* If the monitor dies, its end of the socketpair closes and the event
	 * loop ends us.  The death signal is a second line where the kernel
	 * delivers it: only while the dying monitor may signal us (before
	 * login, root with CAP_KILL; after it the monitor keeps no CAP_KILL,
	 * and the guardian ends us instead).  Set after the id change, which
	 * clears it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != n->h->monitor_pid)
		return -ESRCH;
	r = sandbox_apply_netchild_filter(n->h->debug > 2);
	if (r < 0)
		return log_errno(LOG_ERR, r, "cannot load the network child's seccomp filter");
	return 0;
}

/* For poll: the milliseconds until due, at most INT_MAX (a ChannelTimeout
 * may be INT_MAX seconds away). */
static int
ms_until(uint64_t due)
{
	uint64_t now = now_usec(), ms;

	if (now >= due)
		return 0;
	ms = (due - now + 999) / 1000;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* t, or the wait until due if that is sooner (t -1: none yet). */
static int
sooner(int t, uint64_t due)
{
	int u = ms_until(due);

	return t < 0 || u < t ? u : t;
}

/* The milliseconds until the next check of ClientAliveInterval,
 * UnusedConnectionTimeout or ChannelTimeout, or -1. */
static int
check_timeout(const struct net *n)
{
	uint64_t idle_due;
	int t = -1;

	if (!n->authenticated)
		return -1;
	if (n->alive_interval != 0 && n->alive_heard != 0)
		t = sooner(t, n->alive_heard + (uint64_t)n->alive_interval * 1000000);
	if (n->unused_timeout != 0 && n->unused_expiry != 0)
		t = sooner(t, n->unused_expiry);
	idle_due = n->n_timeouts != 0 ? idle_next_due(n) : 0;
	if (idle_due != 0)
		t = sooner(t, idle_due);
	return t;
}

/* Channels that keep a connection in use, as sshd's channel_still_open()
 * counts them: sessions started and not yet ended, forwarded channels
 * (open, or being opened towards the client).  Not the listeners of
 * ssh -R, -A or -X, which are the forwarder's sockets, not channels;
 * nor a session ChannelTimeout closed, whose channel sshd frees while
 * its program may run on. */
static bool
channels_in_use(const struct net *n)
{
	for (const struct nchan *c = n->chans; c != NULL; c = c->next)
		if (c->fwd ? !c->finished : c->started && !c->finished &&
		    !c->abandoned)
			return true;
	return false;
}

/* sshd's UnusedConnectionTimeout, after each round of the event loop: the
 * deadline moves on while a channel is in use; once none has been for
 * the timeout, the connection ends. */
static void
unused_check(struct net *n)
{
	uint64_t now;

	if (!n->authenticated || n->unused_timeout == 0 || n->done)
		return;
	now = now_usec();
	if (n->unused_expiry == 0 || channels_in_use(n)) {
		n->unused_expiry = now + (uint64_t)n->unused_timeout * 1000000;
		return;
	}
	if (now < n->unused_expiry)
		return;
	/* As sshd, which exits: the connection is closed, no disconnect
	 * message sent ("closed by remote host", the client says).  The
	 * monitor logs it, as sshd (answer_stats). */
	n->no_disconnect = true;
	net_fail(n, EXIT_OK, "unused-connection-timeout");
}

/* sshd's client_alive_check(), after each round of the event loop
 * (in_before: the bytes read from the client before it).  Anything from
 * the client restarts the interval; a reply to a keepalive, and only
 * that, clears the count of those unanswered; past ClientAliveCountMax
 * of them (0: never) the connection ends.  Where the request hook is
 * missing (another libssh), any byte from the client counts as the
 * reply. */
static void
alive_check(struct net *n, uint64_t in_before)
{
	uint64_t now, replies;

	if (!n->authenticated || n->alive_interval == 0 || n->done)
		return;
	now = now_usec();
	replies = n->hook ? libssh_global_replies() : n->sock_counter.in_bytes;
	if (n->alive_heard == 0) {
		n->alive_heard = now;
		n->alive_replies = replies;
		return;
	}
	if (replies != n->alive_replies) {
		n->alive_replies = replies;
		n->alive_missed = 0;
	}
	if (n->sock_counter.in_bytes != in_before) {
		n->alive_heard = now;
		return;
	}
	if (now < n->alive_heard + (uint64_t)n->alive_interval * 1000000)
		return;
	n->alive_heard = now;
	if (n->alive_count_max > 0 && ++n->alive_missed > n->alive_count_max) {
		/* The monitor logs it, as sshd (answer_stats). */
		net_fail(n, EXIT_OK, "client-alive-timeout");
		return;
	}
	/* keepalive@openssh.com with want-reply.  libssh sends a global
	 * request only when none is pending, and learns a reply only when
	 * asked again: the first call takes an answered request's state
	 * (and returns), the second sends; while one is unanswered, neither
	 * sends, and the count above goes on. */
	ssh_send_keepalive(n->s);
	ssh_send_keepalive(n->s);
}

/* Until the connection ends: libssh's callbacks, the monitor's notices,
 * the relay. */
static void
serve(struct net *n)
{
	bool nonblocking = false;
	uint64_t read_before = 0, sent_before = 0;
	int r, r2;

	if (n->h->banner != NULL) {
		ssh_string bs = ssh_string_from_char(n->h->banner);

		if (bs) {
			ssh_send_issue_banner(n->s, bs);
			ssh_string_free(bs);
		}
	}
	ask_client_info(n, &(struct ps_client_info){ ssh_get_clientbanner(n->s) });

	n->ev = ssh_event_new();
	if (n->ev == NULL || ssh_event_add_session(n->ev, n->s) != SSH_OK ||
	    ssh_event_add_fd(n->ev, n->mon, POLLIN, on_monitor, n) != SSH_OK) {
		net_fail(n, EXIT_INTERNAL, "server-error");
		return;
	}
	while (!n->done) {
		/* Quick ACKs help a client that holds its next small packet
		 * until we ACK the last one.  A client sending in bulk sends
		 * full segments, which it does not hold: while it does, the
		 * mode is not renewed (at every round it cost 8% of the
		 * child's CPU in an upload). */
		uint64_t read_now = n->sock_counter.in_bytes;
		uint64_t sent_now = n->sock_counter.out_bytes;

		if (read_now - read_before < QUICKACK_BELOW &&
		    sent_now - sent_before < QUICKACK_BELOW)
			quickack(n->h->sock);
		read_before = read_now;
		sent_before = sent_now;
		r = ssh_event_dopoll(n->ev, check_timeout(n));
		if (n->authenticated && !nonblocking) {
			/* From here on the event loop flushes; a client that
			 * stops reading only fills its own window. */
			ssh_set_blocking(n->s, 0);
			nonblocking = true;
			/* Bulk data comes from here on (interpose.h). */
			interpose_cache_pid();
			if ((r2 = interpose_readahead(n->h->sock)) < 0)
				log_info("reading ahead on the socket: %s",
				    strerror(-r2));
			phase("auth", n->start_usec);
		}
		relay_round(n);
		fwd_replay_ready(n);
		alive_check(n, read_now);
		idle_check(n);
		unused_check(n);
		if (r == SSH_ERROR || !ssh_is_connected(n->s) ||
		    (ssh_get_status(n->s) & (SSH_CLOSED | SSH_CLOSED_ERROR)))
			net_fail(n, n->authenticated ? EXIT_OK : EXIT_NOAUTH,
			    "client-closed");
	}
}

int
net_main(struct handover *h, int mon_fd)
{
	struct net n = { .h = h, .mon = mon_fd, .req = &req, .rep = &rep,
	    .start_usec = now_usec() };
	uint64_t t0 = n.start_usec;
	ssh_bind b = NULL;

	if (setup_bind(&n, &b) < 0) {
		net_fail(&n, EXIT_CONFIG, "server-error");
		goto report;
	}
	phase("hostkeys", t0);
	n.s = ssh_new();
	if (n.s == NULL) {
		net_fail(&n, EXIT_INTERNAL, "server-error");
		goto report;
	}
	if (ssh_bind_accept_fd(b, n.s, h->sock) != SSH_OK) {
		log_error("accepting the connection: %s", ssh_get_error(b));
		net_fail(&n, EXIT_INTERNAL, "server-error");
		goto report;
	}
	ssh_set_counters(n.s, &n.sock_counter, &n.raw_counter);
	if (h->global->rekey_limit.bytes > 0) {
		uint64_t limit = h->global->rekey_limit.bytes;

		ssh_options_set(n.s, SSH_OPTIONS_REKEY_DATA, &limit);
	}
	if (h->global->rekey_limit.seconds > 0) {
		uint32_t secs = h->global->rekey_limit.seconds;

		ssh_options_set(n.s, SSH_OPTIONS_REKEY_TIME, &secs);
	}
	/* The key exchange offers what the session says (server_set_kex
	 * runs later): libssh offers zlib@openssh.com unless told "none". */
	if (!h->global->compression &&
	    ssh_options_set(n.s, SSH_OPTIONS_COMPRESSION, "none") < 0) {
		log_error("Compression no: refused by libssh: %s", ssh_get_error(n.s));
		net_fail(&n, EXIT_INTERNAL, "server-error");
		goto report;
	}
	net_auth_setup(&n);
	if (lock_down(&n) < 0) {
		net_fail(&n, EXIT_INTERNAL, "server-error");
		goto report;
	}
	phase("netsandbox", t0);

	if (key_exchange(&n) != SSH_OK) {
		if (!n.done)
			log_info("key exchange failed: %s", ssh_get_error(n.s));
		net_fail(&n, EXIT_PROTOCOL, "protocol-error");
		goto report;
	}
	phase("kex", t0);
	/* ssh -A, the streamlocal forwards and password changes, which
	 * libssh 0.10 does not know, and direct-tcpip opens answered once
	 * connected (libssh-private.h); without the hook they are
	 * refused. */
	n.hook = libssh_install_request_hook(n.s) == 0;
	if (!n.hook)
		log_info("%s", "this libssh's layout is not the one known: agent, "
		    "local and Unix socket forwarding and password changes are "
		    "unavailable");
	serve(&n);
report:
	/* The monitor may be waiting for our last word to end the connection:
	 * it comes first, the disconnect after. */
	fwd_report_all(&n, "connection-closed");
	ask_stats(&n, &(struct ps_stats){ n.sock_counter.in_bytes,
	    n.sock_counter.out_bytes, n.reason ? n.reason : "client-closed" });
	if (n.s != NULL && ssh_is_connected(n.s) && !n.no_disconnect) {
		/* Push out what is still queued (exit-status, last output). */
		ssh_set_blocking(n.s, 1);
		ssh_blocking_flush(n.s, 2000);
		ssh_disconnect(n.s);
	}
	return n.exit_code;
}
