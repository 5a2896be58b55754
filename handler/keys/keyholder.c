/* The key holder's life: load, announce, confine, sign.  See keyholder.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <openssl/crypto.h>

#include "handler/front/log.h"
#include "handler/keys/hostkey.h"
#include "handler/keys/keyholder.h"
#include "handler/privsep/messages.h"
#include "sandbox/sandbox.h"

static struct ps_msg in, out;

bool
keyholder_hash_len_ok(size_t len)
{
	return len == 20 || len == 32 || len == 48 || len == 64;
}

/* The first key of each kind, as sshd serves the first key of each type;
 * libssh holds one per kind, so a second one could never be used. */
static size_t
load_keys(const struct handover *h, struct hostkey keys[HOSTKEY_KINDS])
{
	const struct strlist *paths = &h->global->host_keys;
	size_t loaded = 0;

	for (size_t i = 0; i < paths->n; i++) {
		struct hostkey k;
		char err[4352];
		int bits;

		if (hostkey_load(paths->v[i], &k, err, sizeof(err)) < 0) {
			const char *where = config_host_key_where(h->cfg, paths->v[i]);

			if (where != NULL)
				log_warning("%s: HostKey %s: %s; skipped",
				    where, paths->v[i], err);
			else
				log_warning("HostKey %s (a built-in default): %s; "
				    "skipped", paths->v[i], err);
			continue;
		}
		/* sshd's RequiredRSASize holds for host keys too. */
		bits = hostkey_rsa_bits(&k);
		if (bits > 0 && bits < (int)h->global->required_rsa_size) {
			log_warning("HostKey %s: RSA key of %d bits, RequiredRSASize "
			    "is %u; skipped", paths->v[i], bits,
			    h->global->required_rsa_size);
			hostkey_free(&k);
			continue;
		}
		if (keys[k.kind].type != NULL) {
			log_info("HostKey %s: a second %s key is not served", paths->v[i],
			    k.type);
			hostkey_free(&k);
			continue;
		}
		keys[k.kind] = k;
		loaded++;
	}
	return loaded;
}

/* OpenSSL reads its configuration lazily, and no file can be opened once
 * confined.  Normally done already, before the fork (see monitor/part.c):
 * then this costs nothing.  What is left to do lazily needs no file: the
 * providers are built in, and the random generator, which only ECDSA and
 * RSA signatures use, seeds itself from getrandom(), which the filter
 * allows. */
static int
warm_up(void)
{
	return OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL) == 1 ? 0 : -EIO;
}

/* One SIGN: the key whose algorithm it names signs the hash.  The first
 * hash signed is the session id.  An empty signature says "cannot". */
static void
answer(int fd, struct hostkey keys[HOSTKEY_KINDS], uint8_t *sid, size_t *sid_len)
{
	static uint8_t sig[PS_MAX_HOSTSIG];
	struct ps_sign q;
	size_t n = 0;
	int r = -EINVAL;

	if (ps_type(&in) != PS_SIGN || ps_get_sign(&in, &q) < 0)
		_exit(EXIT_PROTOCOL);
	if (keyholder_hash_len_ok(q.hash_len))
		for (int i = 0; i < HOSTKEY_KINDS && r < 0; i++)
			if (hostkey_signs(&keys[i], q.alg))
				r = hostkey_sign(&keys[i], q.alg, q.hash, q.hash_len, sig,
				    sizeof(sig), &n);
	if (r == 0 && *sid_len == 0) {
		memcpy(sid, q.hash, q.hash_len);
		*sid_len = q.hash_len;
	}
	ps_put_signed(&out, &(struct ps_signed){ .sig = sig, .sig_len = r == 0 ? n : 0,
	    .session_id = sid, .session_id_len = *sid_len });
	ps_wipe(&in);
	if (ps_send(fd, &out) < 0)
		_exit(EXIT_OK);
	ps_wipe(&out);
}

static void __attribute__((noreturn))
keyholder_main(const struct handover *h, int fd)
{
	struct hostkey keys[HOSTKEY_KINDS] = { 0 };
	uint8_t sid[PS_MAX_HASH];
	size_t sid_len = 0;
	int r;

	log_set_prefix("keys");
	/* Nothing of the connection's but the socketpair: no audit trail,
	 * no ban file. */
	audit_trail_close();
	if (h->bans != NULL)
		ban_close(h->bans);
	if (h->startups_fd >= 0)
		close(h->startups_fd);
	r = warm_up();
	if (r < 0) {
		log_errno(LOG_ERR, r, "OpenSSL initialisation");
		_exit(EXIT_INTERNAL);
	}
	if (load_keys(h, keys) == 0)
		log_error("no usable host key (HostKey in %s); create them with "
		    "'sshandctl hostkeys'", h->config_path);
	phase("loaded", h->start_usec);
	/* Confined before it says a word: the monitor (and through it the
	 * network child) can reach it only from here on. */
	r = sandbox_enter_keyholder();
	if (r < 0) {
		log_errno(LOG_ERR, r, "cannot confine the key holder");
		_exit(EXIT_INTERNAL);
	}
	/* The journal socket is of no use now (failures reach the monitor as
	 * an empty signature); stderr, when it is the log (-e), stays. */
	if (log_current_target() == LOG_TARGET_JOURNAL)
		log_setup(LOG_TARGET_NONE, h->log_prio);
	/* Only now: a journal line could need calls the filter kills. */
	phase("confined", h->start_usec);
	/* Empty blobs if none loaded: the monitor ends the connection. */
	ps_put_hostkeys(&out, &(struct ps_hostkeys){
	    keys[HOSTKEY_ED25519].blob, keys[HOSTKEY_ED25519].blob_len,
	    keys[HOSTKEY_ECDSA].blob, keys[HOSTKEY_ECDSA].blob_len,
	    keys[HOSTKEY_RSA].blob, keys[HOSTKEY_RSA].blob_len });
	if (ps_send(fd, &out) < 0)
		_exit(EXIT_INTERNAL);
	ps_wipe(&out);
	while ((r = ps_recv(fd, &in, 0)) == 0) {
		if (in.nfds > 0)
			_exit(EXIT_PROTOCOL);
		answer(fd, keys, sid, &sid_len);
	}
	_exit(r == -EPIPE ? EXIT_OK : EXIT_PROTOCOL);
}

int
keyholder_start(const struct handover *h, int close_fd, struct keyholder *ret)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int e = -errno;

		close(sv[0]);
		close(sv[1]);
		return e;
	}
	if (pid == 0) {
		/* Its phase lines count its own CPU, not the monitor's. */
		phase_cpu_carry(0);
		close(sv[0]);
		if (close_fd >= 0)
			close(close_fd);
		/* If the monitor dies, so do we (the same uid: it may signal
		 * us even without CAP_KILL); the socketpair's end of file says
		 * the same later. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != h->monitor_pid)
			_exit(EXIT_INTERNAL);
		keyholder_main(h, sv[1]);
	}
	close(sv[1]);
	ret->pid = pid;
	ret->fd = sv[0];
	return 0;
}
