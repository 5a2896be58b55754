/* The monitor's side of the host keys: it starts the key holder, passes
 * its public keys to the network child, and relays the child's SIGN
 * requests under OpenSSH's rules (the table allows one before
 * authentication; the hash must have an exchange hash's length and the
 * algorithm one of the host keys').  The session id it keeps is the one
 * the key holder reports: the first hash the key holder signed. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "handler/front/log.h"
#include "handler/keys/hostkey.h"
#include "handler/monitor/answers.h"
#include "handler/monitor/monitor.h"
#include "handler/privsep/messages.h"

/* The key holder answers at once; a wait this long means it is stuck. */
#define KEYHOLDER_TIMEOUT_MS 10000

static struct ps_msg kin, kout;

/* The key holder's next message, or the connection ends. */
static void
keyholder_read(struct monitor *m, unsigned type)
{
	struct pollfd pfd = { .fd = m->keys.fd, .events = POLLIN };
	int r;

	do
		r = poll(&pfd, 1, KEYHOLDER_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r <= 0 || ps_recv(m->keys.fd, &kin, MSG_DONTWAIT) < 0 ||
	    ps_type(&kin) != type || kin.nfds > 0) {
		ps_clear_fds(&kin);
		log_error("the key holder did not answer");
		monitor_finish(m, EXIT_INTERNAL, "server-error");
	}
}

void
monitor_start_keyholder(struct monitor *m)
{
	struct ps_hostkeys k;
	int r = keyholder_start(m->h, m->fd, &m->keys);

	if (r < 0) {
		log_errno(LOG_ERR, r, "cannot start the key holder");
		m->keys.fd = -1;
		monitor_finish(m, EXIT_INTERNAL, "server-error");
	}
	keyholder_read(m, PS_HOSTKEYS);
	if (ps_get_hostkeys(&kin, &k) < 0 ||
	    k.blob0_len + k.blob1_len + k.blob2_len == 0)
		/* The key holder said why. */
		monitor_finish(m, EXIT_CONFIG, "server-error");
	/* The same message, as it came. */
	ps_put_hostkeys(m->out, &k);
	ps_wipe(&kin);
	monitor_send(m);
}

void
monitor_stop_keyholder(struct monitor *m)
{
	if (m->keys.fd < 0)
		return;
	/* Our end of file ends it at once; reaped here, so that it is gone
	 * before the sessions' processes are looked for below us. */
	close(m->keys.fd);
	m->keys.fd = -1;
	for (int i = 0; i < 200; i++) {
		struct timespec ts = { 0, 500 * 1000 };
		int st;

		if (monitor_wait(m, m->keys.pid, &st, WNOHANG) != 0)
			return;
		nanosleep(&ts, NULL);
	}
	log_warning("the key holder did not end");
}

void
answer_sign(struct monitor *m, const struct ps_sign *r)
{
	struct ps_signed s;

	if (!hostkey_alg_known(r->alg) || !keyholder_hash_len_ok(r->hash_len))
		monitor_violation(m, "sign request for %s with a %zu-byte hash",
		    hostkey_alg_known(r->alg) ? r->alg : "an unknown algorithm", r->hash_len);
	ps_put_sign(&kout, r);
	if (ps_send(m->keys.fd, &kout) < 0) {
		log_error("the key holder is gone");
		monitor_finish(m, EXIT_INTERNAL, "server-error");
	}
	ps_wipe(&kout);
	keyholder_read(m, PS_SIGNED);
	if (ps_get_signed(&kin, &s) < 0 || s.session_id_len == 0 || s.sig_len == 0) {
		log_error("the key holder cannot sign with %s", r->alg);
		monitor_finish(m, EXIT_INTERNAL, "server-error");
	}
	if (m->session_id_len == 0) {
		memcpy(m->session_id, s.session_id, s.session_id_len);
		m->session_id_len = (uint32_t)s.session_id_len;
	} else if (m->session_id_len != s.session_id_len ||
	    memcmp(m->session_id, s.session_id, s.session_id_len) != 0) {
		log_error("the key holder's session id changed");
		monitor_finish(m, EXIT_INTERNAL, "server-error");
	}
	ps_put_signature(m->out, &(struct ps_signature){ s.sig, s.sig_len });
	ps_wipe(&kin);
	monitor_send(m);
}
