/*
 * Test driver for the privilege separation table: plays the network child
 * against the real monitor (handler/monitor/, linked in, run in a forked
 * process exactly as sshand's front starts it) and sends every message
 * type in every connection state.  What must happen is read from the
 * table itself (privsep/protocol.h): a request the table allows in that
 * state is answered (with one of the table's answer types, or, for a
 * notice, by the monitor still answering the next request), and anything
 * else ends the connection: the monitor exits with EXIT_PROTOCOL after
 * auditing a privsep-violation.  A request marked PS_ONCE is also sent
 * twice, and one marked PS_ONCE_PREAUTH twice in each state allowing it.
 * Forwarded opens whose connect hangs must not hold up the monitor, and
 * their bound is kept (check_fwd_opens).
 *
 * Usage: privsep-tool CONFIG AUDIT.jsonl USER PASSWORD
 *   CONFIG: an sshand.conf (AuditLog must be AUDIT.jsonl, bans off, a
 *   usable Ed25519 HostKey);
 *   USER/PASSWORD: a real account PAM accepts (the suite's alice).
 * Prints one line per case, "case STATE TYPE once|twice|fd want OUTCOME
 * got OUTCOME ok|MISMATCH [why]", then a count; exits 0 when every case
 * matched the table.
 * Needs root, real PAM and NSS: tests/integration/test_privsep_table.py.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "handler/front/audit.h"
#include "handler/front/handover.h"
#include "handler/front/log.h"
#include "handler/monitor/monitor.h"
#include "handler/privsep/messages.h"

#define UNKNOWN_TYPE 200
#define WAIT_MS 5000

static const char *config_path, *audit_path, *user, *password;
static struct config *cfg;
static struct settings *global;
static struct ps_msg out, in;
static const uint8_t blob[] = { 0, 0, 0, 11, 's', 's', 'h', '-', 'e', 'd', '2',
    '5', '5', '1', '9', 0, 0, 0, 32, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
    31, 32 };

struct peer {
	int fd;			/* the network child's end */
	pid_t monitor;
};

static int receive(struct peer *p);
static int monitor_exit(struct peer *p);
static size_t violations_audited(void);

/* The front's part: a hand-over as main.c fills it, and the monitor. */
static void __attribute__((noreturn))
run_monitor(int fd)
{
	static struct audit_conn audit;
	struct handover h = { .config_path = config_path, .cfg = cfg,
	    .global = global, .audit = &audit, .monitor_pid = getpid(),
	    .start_usec = now_usec(), .log_stderr = true, .log_prio = LOG_INFO };
	struct sockaddr_in *peer = (struct sockaddr_in *)&h.peer;
	int life[2];
	pid_t net;

	/* The network child it supervises: a process that holds nothing and
	 * waits for the monitor's end (a pipe, not PR_SET_PDEATHSIG: once the
	 * monitor is the user, it may not signal a root child at all). */
	if (pipe(life) < 0)
		_exit(99);
	net = fork();
	if (net == 0) {
		char c;

		close(life[1]);
		close_range(3, (unsigned)life[0] - 1, 0);
		close_range((unsigned)life[0] + 1, ~0u, 0);
		while (read(life[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(life[0]);
	h.sock = open("/dev/null", O_RDWR | O_CLOEXEC);
	peer->sin_family = AF_INET;
	peer->sin_port = htons(40000);
	peer->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	audit_conn_init(&audit);
	snprintf(audit.remote_addr, sizeof(audit.remote_addr), "127.0.0.1");
	audit.remote_port = 40000;
	if (net < 0 || h.sock < 0 || audit_trail_open(global->audit_log, NULL) < 0)
		_exit(99);
	_exit(monitor_main(&h, fd, net));
}

static int
start(struct peer *p)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	p->monitor = fork();
	if (p->monitor < 0)
		return -errno;
	if (p->monitor == 0) {
		close(sv[0]);
		run_monitor(sv[1]);
	}
	close(sv[1]);
	p->fd = sv[0];
	/* The public host keys come first, as to the network child. */
	if (receive(p) < 0 || ps_type(&in) != PS_HOSTKEYS)
		return -EPROTO;
	return 0;
}

/* The monitor's next message that is not a notice (EXIT, TERMINATE,
 * FWD_OPENED, FWD_ACCEPTED); -EPIPE at its end, -ETIMEDOUT if it says
 * nothing. */
static int
receive(struct peer *p)
{
	for (;;) {
		struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
		int r = poll(&pfd, 1, WAIT_MS);

		if (r == 0)
			return -ETIMEDOUT;
		r = ps_recv(p->fd, &in, 0);
		ps_clear_fds(&in);
		if (r < 0 || (ps_type(&in) != PS_EXIT && ps_type(&in) != PS_TERMINATE &&
		    ps_type(&in) != PS_FWD_OPENED && ps_type(&in) != PS_FWD_ACCEPTED))
			return r;
	}
}

static int
send_msg(struct peer *p)
{
	return ps_send(p->fd, &out);
}

/* A well-formed message of each type, as a network child (or one posing
 * as the monitor) would send it.  Authentication requests fail (a wrong
 * password, an unknown user): they leave the state as it was. */
static void
encode_sample(unsigned type)
{
	switch (type) {
	case PS_CLIENT_INFO:
		ps_put_client_info(&out, &(struct ps_client_info){ "SSH-2.0-privsep-tool" });
		break;
	case PS_AUTH_PASSWORD:
		ps_put_auth_password(&out, &(struct ps_auth_password){ .user = user,
		    .password = "wrong" });
		break;
	case PS_AUTH_PUBKEY:
		ps_put_auth_pubkey(&out, &(struct ps_auth_pubkey){
		    .user = "nosuchuser", .blob = blob, .blob_len = sizeof(blob) });
		break;
	case PS_KBDINT_START:
		ps_put_kbdint_start(&out, &(struct ps_kbdint_start){ user });
		break;
	case PS_KBDINT_ANSWERS:
		ps_put_kbdint_answers(&out, &(struct ps_kbdint_answers){ 1, { "wrong" } });
		break;
	case PS_SESSION_OPEN:
		ps_put_session_open(&out, &(struct ps_session_open){ .id = 1,
		    .kind = PS_KIND_SUBSYSTEM, .arg = "no-such-subsystem", .term = "" });
		break;
	case PS_WINDOW_CHANGE:
		ps_put_window_change(&out, &(struct ps_window_change){ 1, 80, 24, 0, 0 });
		break;
	case PS_SIGNAL:
		ps_put_signal(&out, &(struct ps_signal){ 1, "INT" });
		break;
	case PS_SESSION_CLOSE:
		ps_put_session_close(&out, &(struct ps_session_close){ 1, 0 });
		break;
	case PS_STATS:
		ps_put_stats(&out, &(struct ps_stats){ 1, 2, "client-closed" });
		break;
	/* Forwarding requests the monitor refuses without starting the
	 * forwarder: a port beyond 65535, a forward that does not exist. */
	case PS_FWD_OPEN:
		ps_put_fwd_open(&out, &(struct ps_fwd_open){ 1, PS_FWD_TCP,
		    "127.0.0.1", 70000, "127.0.0.1", 1 });
		break;
	case PS_FWD_LISTEN:
		ps_put_fwd_listen(&out, &(struct ps_fwd_listen){ PS_FWD_TCP,
		    "localhost", 70000 });
		break;
	case PS_FWD_UNLISTEN:
		ps_put_fwd_unlisten(&out, &(struct ps_fwd_unlisten){ PS_FWD_TCP,
		    "localhost", 4242 });
		break;
	case PS_FWD_CLOSE:
		ps_put_fwd_close(&out, &(struct ps_fwd_close){ 7, true, 1, 2, "closed" });
		break;
	case PS_SESSION_ARG:
		ps_put_session_arg(&out, &(struct ps_session_arg){ 1, "echo " });
		break;
	case PS_FWD_CONFIRMED:
		ps_put_fwd_confirmed(&out, &(struct ps_fwd_confirmed){ 0x80000007u });
		break;
	/* Refused by the default X11Forwarding no, before any forwarder. */
	case PS_X11_REQ:
		ps_put_x11_req(&out, &(struct ps_x11_req){ 1, false,
		    "MIT-MAGIC-COOKIE-1", "00112233445566778899aabbccddeeff", 0 });
		break;
	case PS_FWD_OPENED:
		ps_put_fwd_opened(&out, &(struct ps_fwd_opened){ .id = 1, .ok = false,
		    .error = "x" });
		break;
	case PS_FWD_LISTENING:
		ps_put_fwd_listening(&out, &(struct ps_fwd_listening){ false, 0, "x" });
		break;
	case PS_FWD_ACCEPTED:
		ps_put_fwd_accepted(&out, &(struct ps_fwd_accepted){ .id = 0x80000001u,
		    .kind = PS_FWD_TCP, .host = "localhost", .port = 1,
		    .orig_host = "127.0.0.1", .orig_port = 2 });
		break;
	case PS_SIGN:
		ps_put_sign(&out, &(struct ps_sign){ "ssh-ed25519", blob + 19, 32 });
		break;
	case PS_SIGNATURE:
		ps_put_signature(&out, &(struct ps_signature){ blob, sizeof(blob) });
		break;
	case PS_HOSTKEYS:
		ps_put_hostkeys(&out, &(struct ps_hostkeys){ blob, sizeof(blob),
		    blob, 0, blob, 0 });
		break;
	case PS_SIGNED:
		ps_put_signed(&out, &(struct ps_signed){ blob, sizeof(blob), blob, 32 });
		break;
	case PS_AUTH_RESULT:
		ps_put_auth_result(&out, &(struct ps_auth_result){ .result = PS_AUTH_OK });
		break;
	case PS_KBDINT_PROMPTS:
		ps_put_kbdint_prompts(&out, &(struct ps_kbdint_prompts){ "", "", 1,
		    { "Password: " }, 0 });
		break;
	case PS_PASSWD_CHANGEREQ:
		ps_put_passwd_changereq(&out, &(struct ps_passwd_changereq){ "x" });
		break;
	case PS_SESSION_STARTED:
		ps_put_session_started(&out, &(struct ps_session_started){ .id = 1,
		    .error = "" });
		break;
	case PS_EXIT:
		ps_put_exit(&out, &(struct ps_exit){ 1, true, 0, 0, false });
		break;
	case PS_TERMINATE:
		ps_put_terminate(&out, &(struct ps_terminate){ "x" });
		break;
	default:
		/* PS_NONE, or a type the protocol does not have. */
		ps_start(&out, type);
		wire_put_u32(&out.wr, 0);
		break;
	}
}

/* Brings a fresh connection to state. */
static int
reach(struct peer *p, enum ps_state state)
{
	if (state == PS_KBDINT) {
		ps_put_kbdint_start(&out, &(struct ps_kbdint_start){ user });
		if (send_msg(p) < 0 || receive(p) < 0 || ps_type(&in) != PS_KBDINT_PROMPTS)
			return -EPROTO;
	} else if (state == PS_POSTAUTH) {
		struct ps_auth_result r;

		ps_put_auth_password(&out, &(struct ps_auth_password){ .user = user,
		    .password = password });
		if (send_msg(p) < 0 || receive(p) < 0 || ps_type(&in) != PS_AUTH_RESULT ||
		    ps_get_auth_result(&in, &r) < 0 || r.result != PS_AUTH_OK)
			return -EPROTO;
	}
	return 0;
}

/* A request the monitor answers in any state the connection can be in
 * after the one under test: a public key probe for an unknown user before
 * login (it also ends an open conversation), a session of an unknown
 * subsystem after it. */
static int
still_answering(struct peer *p, enum ps_state state)
{
	unsigned want = state == PS_POSTAUTH ? PS_SESSION_STARTED : PS_AUTH_RESULT;

	encode_sample(state == PS_POSTAUTH ? PS_SESSION_OPEN : PS_AUTH_PUBKEY);
	if (send_msg(p) < 0 || receive(p) < 0)
		return 0;
	return ps_type(&in) == want;
}

/* Reaps the monitor: its exit code, or -signal, or -1000 if it hangs. */
static int
monitor_exit(struct peer *p)
{
	for (int i = 0; i < WAIT_MS / 10; i++) {
		int st;
		pid_t r = waitpid(p->monitor, &st, WNOHANG);

		if (r == p->monitor)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
		usleep(10000);
	}
	kill(p->monitor, SIGKILL);
	waitpid(p->monitor, NULL, 0);
	return -1000;
}

static size_t
violations_audited(void)
{
	char line[8192];
	size_t n = 0;
	FILE *f = fopen(audit_path, "re");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "\"SSHAND_EVENT\":\"privsep-violation\"") != NULL)
			n++;
	if (f != NULL)
		fclose(f);
	return n;
}

enum outcome { ANSWERED, ENDED, BROKEN };

/* Malformed host key signature requests, each the first SIGN of a fresh
 * connection: a hash no key exchange makes, an algorithm no host key has.
 * Both must end the connection as a violation.  Prints "sign-case ..."
 * lines; returns the number of mismatches. */
static unsigned
check_sign_requests(void)
{
	static const uint8_t hash[65];
	static const struct { const char *alg; size_t len; } bad[] = {
		{ "ssh-ed25519", 0 }, { "ssh-ed25519", 16 }, { "ssh-ed25519", 33 },
		{ "ssh-dss", 32 }, { "ssh-ed25519-cert-v01@openssh.com", 32 },
	};
	unsigned mismatches = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct peer p = { .fd = -1, .monitor = -1 };
		size_t before = violations_audited();
		bool ended = false;
		int code;

		if (start(&p) == 0) {
			ps_put_sign(&out, &(struct ps_sign){ bad[i].alg, hash, bad[i].len });
			ended = send_msg(&p) == 0 && receive(&p) == -EPIPE;
			close(p.fd);
		}
		code = monitor_exit(&p);
		ended = ended && code == EXIT_PROTOCOL && violations_audited() == before + 1;
		printf("sign-case %s %zu-byte hash: %s\n", bad[i].alg, bad[i].len,
		    ended ? "ended ok" : "MISMATCH");
		/* Before the next fork: a child's exit() flushes a copy. */
		fflush(stdout);
		mismatches += !ended;
	}
	/* A real one: answered, with a signature the key holder made. */
	struct peer p = { .fd = -1, .monitor = -1 };
	struct ps_signature sig;
	bool ok = false;

	if (start(&p) == 0) {
		ps_put_sign(&out, &(struct ps_sign){ "ssh-ed25519", hash, 32 });
		ok = send_msg(&p) == 0 && receive(&p) == 0 &&
		    ps_type(&in) == PS_SIGNATURE && ps_get_signature(&in, &sig) == 0 &&
		    sig.sig_len == 64;
		close(p.fd);
	}
	monitor_exit(&p);
	printf("sign-case ssh-ed25519 32-byte hash: %s\n", ok ? "signed ok" : "MISMATCH");
	fflush(stdout);
	return mismatches + !ok;
}
static const char *const outcome_names[] = { "answered", "ended", "broken" };

/* Audit records of event whose line also holds text. */
static size_t
records(const char *event, const char *text)
{
	char line[8192], ev[128];
	size_t n = 0;
	FILE *f = fopen(audit_path, "re");

	snprintf(ev, sizeof(ev), "\"SSHAND_EVENT\":\"%s\"", event);
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, ev) != NULL && strstr(line, text) != NULL)
			n++;
	if (f != NULL)
		fclose(f);
	return n;
}

/* A loopback port whose connects hang: a listener with backlog 0 whose
 * accept queue is filled and never accepted, so that Linux drops every
 * further SYN.  The listener (its port in *ret_port); fill[] keeps the
 * connections that fill it. */
static int
blackhole(int *ret_port, int fill[4])
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(l, 0) < 0 || getsockname(l, (struct sockaddr *)&sa, &sl) < 0)
		return -1;
	for (int i = 0; i < 4; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fill[i] >= 0)
			(void)connect(fill[i], (struct sockaddr *)&sa, sizeof(sa));
	}
	usleep(200000);
	*ret_port = ntohs(sa.sin_port);
	return l;
}

/*
 * FWD_OPEN waits for nothing (issue 16): with an open whose connect hangs
 * in the forwarder, the monitor answers the next request at once; at the
 * connection's end that open is recorded refused, connection-closed.
 * Closing an open still pending, or one open more than PS_MAX_FWD_PENDING
 * pending, is a violation.  Prints "fwd-case ..." lines; returns the
 * number of mismatches.
 */
static unsigned
check_fwd_opens(void)
{
	static const char *const names[] = { "pending-answered", "close-pending",
	    "too-many-pending" };
	unsigned mismatches = 0;
	int fill[4] = { -1, -1, -1, -1 }, port = 0;
	int l = blackhole(&port, fill);

	for (int c = 0; c < 3; c++) {
		struct peer p = { .fd = -1, .monitor = -1 };
		size_t before = violations_audited();
		size_t closed = records("forward-refused", "connection-closed");
		unsigned opens = c == 2 ? PS_MAX_FWD_PENDING + 1 : 1;
		bool sent = l >= 0 && start(&p) == 0 && reach(&p, PS_POSTAUTH) == 0;
		bool ok, answered;
		int code;

		for (unsigned i = 0; sent && i < opens; i++) {
			ps_put_fwd_open(&out, &(struct ps_fwd_open){ i + 1, PS_FWD_TCP,
			    "127.0.0.1", (uint32_t)port, "127.0.0.1", 1 });
			sent = send_msg(&p) == 0;
		}
		if (sent && c == 1) {
			ps_put_fwd_close(&out, &(struct ps_fwd_close){ 1, false, 0, 0,
			    "closed" });
			sent = send_msg(&p) == 0;
		}
		answered = sent && still_answering(&p, PS_POSTAUTH);
		if (p.fd >= 0)
			close(p.fd);
		code = p.monitor > 0 ? monitor_exit(&p) : -1;
		if (c == 0)
			ok = answered && code >= 0 && code != EXIT_PROTOCOL &&
			    records("forward-refused", "connection-closed") == closed + 1;
		else
			ok = sent && !answered && code == EXIT_PROTOCOL &&
			    violations_audited() == before + 1;
		printf("fwd-case %s: %s (exit %d)\n", names[c], ok ? "ok" : "MISMATCH",
		    code);
		fflush(stdout);
		mismatches += !ok;
	}
	for (int i = 0; i < 4; i++)
		if (fill[i] >= 0)
			close(fill[i]);
	if (l >= 0)
		close(l);
	return mismatches;
}

/* Is a second request of type in state a breach of the table? */
static bool
repeat_violates(unsigned type, enum ps_state state)
{
	return (ps_rules[type].flags & PS_ONCE) ||
	    ((ps_rules[type].flags & PS_ONCE_PREAUTH) && state != PS_POSTAUTH);
}

/* Sends type (twice when twice) in state; what the monitor made of it. */
static enum outcome
run_case(enum ps_state state, unsigned type, bool twice, bool with_fd, char *why,
    size_t whylen)
{
	size_t before = violations_audited();
	struct peer p = { .fd = -1, .monitor = -1 };
	enum outcome o;
	int r, code;

	why[0] = '\0';
	if (start(&p) < 0 || reach(&p, state) < 0) {
		snprintf(why, whylen, "could not reach the state");
		return BROKEN;
	}
	for (int round = 0; round < (twice ? 2 : 1); round++) {
		encode_sample(type);
		if (with_fd)
			ps_put_fd(&out, 0);
		r = send_msg(&p);
		if (r < 0) {
			snprintf(why, whylen, "send: %s", strerror(-r));
			return BROKEN;
		}
		if (type < PS_TYPE_MAX && ps_rules[type].answers != 0 &&
		    (ps_rules[type].states & state) && !with_fd &&
		    (round == 0 || !repeat_violates(type, state))) {
			/* Allowed and answered: the answer must be one the
			 * table names. */
			r = receive(&p);
			if (r == 0 && !(ps_rules[type].answers & 1ull << ps_type(&in))) {
				snprintf(why, whylen, "answered with %s",
				    ps_type_name(ps_type(&in)));
				o = BROKEN;
				goto out;
			}
			if (r < 0)
				break;
		}
	}
	o = still_answering(&p, state) ? ANSWERED : ENDED;
out:
	close(p.fd);
	code = monitor_exit(&p);
	if (o == ENDED) {
		if (code != EXIT_PROTOCOL) {
			snprintf(why, whylen, "ended with exit code %d", code);
			return BROKEN;
		}
		if (violations_audited() != before + 1) {
			snprintf(why, whylen, "no privsep-violation record");
			return BROKEN;
		}
	} else if (code < 0 || code == EXIT_PROTOCOL) {
		snprintf(why, whylen, "then exited with %d", code);
		return BROKEN;
	}
	return o;
}

static const struct {
	enum ps_state state;
	const char *name;
} states[] = {
	{ PS_PREAUTH, "preauth" },
	{ PS_KBDINT, "kbdint" },
	{ PS_POSTAUTH, "postauth" },
};

static unsigned
check(enum ps_state state, const char *sname, unsigned type, bool twice,
    bool with_fd, enum outcome want)
{
	char why[256];
	enum outcome got = run_case(state, type, twice, with_fd, why, sizeof(why));

	printf("case %-8s %-16s %-5s want %-8s got %-8s %s%s%s\n", sname,
	    type < PS_TYPE_MAX && type != PS_NONE ? ps_type_name(type) :
	    type == PS_NONE ? "none" : "unknown",
	    twice ? "twice" : with_fd ? "fd" : "once", outcome_names[want],
	    outcome_names[got], got == want ? "ok" : "MISMATCH",
	    why[0] ? " " : "", why);
	fflush(stdout);
	return got != want;
}

int
main(int argc, char **argv)
{
	char err[512];
	unsigned bad = 0, cases = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: privsep-tool CONFIG AUDIT.jsonl USER PASSWORD\n");
		return 2;
	}
	config_path = argv[1];
	audit_path = argv[2];
	user = argv[3];
	password = argv[4];
	log_setup(LOG_TARGET_STDERR, LOG_INFO);
	signal(SIGPIPE, SIG_IGN);
	if (config_load(config_path, &cfg, err, sizeof(err)) < 0 ||
	    config_resolve(cfg, NULL, &global) < 0) {
		fprintf(stderr, "privsep-tool: %s\n", err);
		return 2;
	}
	for (size_t s = 0; s < sizeof(states) / sizeof(states[0]); s++) {
		enum ps_state st = states[s].state;

		for (unsigned t = PS_NONE; t <= PS_TYPE_MAX; t++) {
			unsigned type = t == PS_TYPE_MAX ? UNKNOWN_TYPE : t;
			bool allowed = type < PS_TYPE_MAX && (ps_rules[type].states & st);

			bad += check(st, states[s].name, type, false, false,
			    allowed ? ANSWERED : ENDED);
			cases++;
			if (allowed && (ps_rules[type].flags & (PS_ONCE | PS_ONCE_PREAUTH))) {
				bad += check(st, states[s].name, type, true, false,
				    repeat_violates(type, st) ? ENDED : ANSWERED);
				cases++;
			}
		}
		/* Descriptors are never accepted, not even with a request
		 * the state allows. */
		bad += check(st, states[s].name, PS_STATS, false, true, ENDED);
		cases++;
	}
	bad += check_sign_requests();
	bad += check_fwd_opens();
	printf("%u cases, %u mismatches\n", cases, bad);
	return bad == 0 ? 0 : 1;
}
