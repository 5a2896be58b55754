/* Privilege separation's wire format (handler/privsep/): the framing, every
 * message's encode/decode pair, and the request table's invariants.  The
 * monitor parses what a compromised network child may send, so every
 * bound and every malformed form must be refused: each message is also
 * decoded cut short at every length, and with a byte too many. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "handler/privsep/messages.h"

static struct ps_msg a, b;
static int sp[2];

static int
setup(void **state)
{
	(void)state;
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp);
}

static int
teardown(void **state)
{
	(void)state;
	close(sp[0]);
	close(sp[1]);
	return 0;
}

/* Sends a, receives it as b. */
static void
transfer(void)
{
	assert_int_equal(ps_send(sp[0], &a), 0);
	assert_int_equal(ps_recv(sp[1], &b, 0), 0);
}

/* Sends raw bytes, receives them as b. */
static void
transfer_raw(const void *p, size_t n)
{
	assert_int_equal(send(sp[0], p, n, 0), (ssize_t)n);
	assert_int_equal(ps_recv(sp[1], &b, 0), 0);
}

/* ---- every message, both ways ---- */

static const uint8_t blob[] = { 0, 0, 0, 11, 's', 's', 'h', '-', 'e', 'd', '2',
    '5', '5', '1', '9', 0, 0, 0, 1, 0x42 };
static const uint8_t signed_data[] = { 0, 0, 0, 2, 0xaa, 0xbb, 50 };
static const uint8_t signature[] = { 1, 2, 3, 4, 5 };
static const uint8_t modes[] = { 3, 0, 0, 0, 127, 0 };

/* One sample of each message, encoded into a; returns its decoder. */
typedef int (*decode_fn)(struct ps_msg *m);

#define DECODER(name)							\
static int								\
decode_##name(struct ps_msg *m)						\
{									\
	struct ps_##name r;						\
									\
	return ps_get_##name(m, &r);					\
}
DECODER(client_info)
DECODER(auth_password)
DECODER(auth_pubkey)
DECODER(kbdint_start)
DECODER(kbdint_answers)
DECODER(session_open)
DECODER(window_change)
DECODER(signal)
DECODER(session_close)
DECODER(stats)
DECODER(auth_result)
DECODER(kbdint_prompts)
DECODER(passwd_changereq)
DECODER(exit)
DECODER(terminate)
DECODER(fwd_open)
DECODER(session_arg)
DECODER(fwd_listen)
DECODER(fwd_unlisten)
DECODER(fwd_close)
DECODER(fwd_confirmed)
DECODER(fwd_listening)
DECODER(fwdr_connect)
DECODER(fwdr_listen)
DECODER(fwdr_listening)
DECODER(fwdr_unlisten)
DECODER(x11_req)

static const struct ps_session_open sample_open = {
	.id = 7, .kind = PS_KIND_EXEC, .arg = "echo hi", .pty = true,
	.term = "xterm", .cols = 80, .rows = 24, .xpix = 640, .ypix = 480,
	.modes = modes, .modes_len = sizeof(modes), .n_env = 2,
	.env = { "LANG=C", "LC_ALL=C.UTF-8" },
};

static decode_fn
encode_sample(unsigned type)
{
	switch (type) {
	case PS_CLIENT_INFO:
		ps_put_client_info(&a, &(struct ps_client_info){ "SSH-2.0-x" });
		return decode_client_info;
	case PS_AUTH_PASSWORD:
		ps_put_auth_password(&a, &(struct ps_auth_password){ .user = "alice",
		    .password = "old-pw", .change = true, .new_password = "new-pw",
		    .can_change = true });
		return decode_auth_password;
	case PS_AUTH_PUBKEY:
		ps_put_auth_pubkey(&a, &(struct ps_auth_pubkey){ "bob", blob,
		    sizeof(blob), true, signed_data, sizeof(signed_data),
		    signature, sizeof(signature) });
		return decode_auth_pubkey;
	case PS_KBDINT_START:
		ps_put_kbdint_start(&a, &(struct ps_kbdint_start){ "carol" });
		return decode_kbdint_start;
	case PS_KBDINT_ANSWERS:
		ps_put_kbdint_answers(&a, &(struct ps_kbdint_answers){ 2,
		    { "one", "two" } });
		return decode_kbdint_answers;
	case PS_SESSION_OPEN:
		ps_put_session_open(&a, &sample_open);
		return decode_session_open;
	case PS_WINDOW_CHANGE:
		ps_put_window_change(&a, &(struct ps_window_change){ 1, 2, 3, 4, 5 });
		return decode_window_change;
	case PS_SIGNAL:
		ps_put_signal(&a, &(struct ps_signal){ 3, "INT" });
		return decode_signal;
	case PS_SESSION_CLOSE:
		ps_put_session_close(&a, &(struct ps_session_close){ 9, 300 });
		return decode_session_close;
	case PS_STATS:
		ps_put_stats(&a, &(struct ps_stats){ 1ull << 40, 5, "client-closed" });
		return decode_stats;
	case PS_AUTH_RESULT:
		ps_put_auth_result(&a, &(struct ps_auth_result){ PS_AUTH_PARTIAL,
		    PS_FLAG_PTY, PS_MAX_SESSIONS, 300, 3, 7, 600, 2,
		    { "session:*=5m", "direct-tcpip=90" } });
		return decode_auth_result;
	case PS_KBDINT_PROMPTS:
		ps_put_kbdint_prompts(&a, &(struct ps_kbdint_prompts){ "n", "i", 2,
		    { "Password: ", "Code: " }, 2 });
		return decode_kbdint_prompts;
	case PS_PASSWD_CHANGEREQ:
		ps_put_passwd_changereq(&a, &(struct ps_passwd_changereq){
		    "You are required to change your password immediately." });
		return decode_passwd_changereq;
	case PS_EXIT:
		ps_put_exit(&a, &(struct ps_exit){ 4, false, 0, 15, true });
		return decode_exit;
	case PS_TERMINATE:
		ps_put_terminate(&a, &(struct ps_terminate){ "grace-time" });
		return decode_terminate;
	case PS_SESSION_ARG:
		ps_put_session_arg(&a, &(struct ps_session_arg){ 7, "echo " });
		return decode_session_arg;
	case PS_FWD_OPEN:
		ps_put_fwd_open(&a, &(struct ps_fwd_open){ 3, PS_FWD_UNIX,
		    "/run/x.sock", 0, "127.0.0.1", 4000 });
		return decode_fwd_open;
	case PS_FWD_LISTEN:
		ps_put_fwd_listen(&a, &(struct ps_fwd_listen){ PS_FWD_AGENT, "", 0 });
		return decode_fwd_listen;
	case PS_FWD_UNLISTEN:
		ps_put_fwd_unlisten(&a, &(struct ps_fwd_unlisten){ PS_FWD_TCP,
		    "localhost", 8080 });
		return decode_fwd_unlisten;
	case PS_FWD_CLOSE:
		ps_put_fwd_close(&a, &(struct ps_fwd_close){ 9, true, 1ull << 33, 7,
		    "closed" });
		return decode_fwd_close;
	case PS_FWD_CONFIRMED:
		ps_put_fwd_confirmed(&a, &(struct ps_fwd_confirmed){ 0x80000001u });
		return decode_fwd_confirmed;
	case PS_FWD_LISTENING:
		ps_put_fwd_listening(&a, &(struct ps_fwd_listening){ true, 40000, "" });
		return decode_fwd_listening;
	case PS_FWDR_CONNECT:
		ps_put_fwdr_connect(&a, &(struct ps_fwdr_connect){ 5, PS_FWD_TCP,
		    "db.example", 3306 });
		return decode_fwdr_connect;
	case PS_FWDR_LISTEN:
		ps_put_fwdr_listen(&a, &(struct ps_fwdr_listen){ 2, PS_FWD_UNIX,
		    "/run/user/1000/gnupg/S.gpg-agent", 0, 0117, true });
		return decode_fwdr_listen;
	case PS_FWDR_LISTENING:
		ps_put_fwdr_listening(&a, &(struct ps_fwdr_listening){ 2, 0, 40001, "" });
		return decode_fwdr_listening;
	case PS_FWDR_UNLISTEN:
		ps_put_fwdr_unlisten(&a, &(struct ps_fwdr_unlisten){ 2 });
		return decode_fwdr_unlisten;
	case PS_X11_REQ:
		ps_put_x11_req(&a, &(struct ps_x11_req){ 0, false,
		    "MIT-MAGIC-COOKIE-1", "0123456789abcdef0123456789abcdef", 0 });
		return decode_x11_req;
	default:
		/* SESSION_STARTED and the forwarding messages that carry a
		 * socket: see test_session_started_fds. */
		return NULL;
	}
}

static void
test_roundtrip(void **state)
{
	struct ps_auth_pubkey pk;
	struct ps_auth_password pw;
	struct ps_passwd_changereq cr;
	struct ps_session_open so;
	struct ps_kbdint_prompts kp;
	struct ps_stats st;
	struct ps_exit ex;

	(void)state;
	encode_sample(PS_AUTH_PUBKEY);
	transfer();
	assert_int_equal(ps_type(&b), PS_AUTH_PUBKEY);
	assert_int_equal(ps_get_auth_pubkey(&b, &pk), 0);
	assert_string_equal(pk.user, "bob");
	assert_int_equal(pk.blob_len, sizeof(blob));
	assert_memory_equal(pk.blob, blob, sizeof(blob));
	assert_true(pk.is_signed);
	assert_int_equal(pk.signed_data_len, sizeof(signed_data));
	assert_memory_equal(pk.signed_data, signed_data, sizeof(signed_data));
	assert_int_equal(pk.signature_len, sizeof(signature));
	assert_memory_equal(pk.signature, signature, sizeof(signature));

	encode_sample(PS_AUTH_PASSWORD);
	transfer();
	assert_int_equal(ps_get_auth_password(&b, &pw), 0);
	assert_string_equal(pw.user, "alice");
	assert_string_equal(pw.password, "old-pw");
	assert_true(pw.change);
	assert_string_equal(pw.new_password, "new-pw");
	assert_true(pw.can_change);

	encode_sample(PS_PASSWD_CHANGEREQ);
	transfer();
	assert_int_equal(ps_get_passwd_changereq(&b, &cr), 0);
	assert_string_equal(cr.prompt,
	    "You are required to change your password immediately.");

	encode_sample(PS_SESSION_OPEN);
	transfer();
	assert_int_equal(ps_get_session_open(&b, &so), 0);
	assert_int_equal(so.id, 7);
	assert_int_equal(so.kind, PS_KIND_EXEC);
	assert_string_equal(so.arg, "echo hi");
	assert_true(so.pty);
	assert_string_equal(so.term, "xterm");
	assert_int_equal(so.cols, 80);
	assert_int_equal(so.rows, 24);
	assert_int_equal(so.xpix, 640);
	assert_int_equal(so.ypix, 480);
	assert_int_equal(so.modes_len, sizeof(modes));
	assert_memory_equal(so.modes, modes, sizeof(modes));
	assert_int_equal(so.n_env, 2);
	assert_string_equal(so.env[0], "LANG=C");
	assert_string_equal(so.env[1], "LC_ALL=C.UTF-8");

	{
		struct ps_fwd_open fo;
		struct ps_fwd_close fc;

		encode_sample(PS_FWD_OPEN);
		transfer();
		assert_int_equal(ps_get_fwd_open(&b, &fo), 0);
		assert_int_equal(fo.kind, PS_FWD_UNIX);
		assert_string_equal(fo.host, "/run/x.sock");
		assert_int_equal(fo.orig_port, 4000);
		encode_sample(PS_FWD_CLOSE);
		transfer();
		assert_int_equal(ps_get_fwd_close(&b, &fc), 0);
		assert_true(fc.opened);
		assert_true(fc.bytes_in == 1ull << 33);
		assert_string_equal(fc.reason, "closed");
	}

	{
		/* x11-req's protocol and cookie are cut one byte past what
		 * the monitor accepts, so that it refuses them as too long
		 * rather than taking a cut cookie for the client's. */
		char big[PS_MAX_X11_COOKIE + 100];
		struct ps_x11_req xr;

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		ps_put_x11_req(&a, &(struct ps_x11_req){ 3, true, big, big, 1 });
		transfer();
		assert_int_equal(ps_get_x11_req(&b, &xr), 0);
		assert_int_equal(xr.id, 3);
		assert_true(xr.single);
		assert_int_equal(strlen(xr.proto), PS_MAX_X11_PROTO + 1);
		assert_int_equal(strlen(xr.cookie), PS_MAX_X11_COOKIE + 1);
		assert_int_equal(xr.screen, 1);
	}

	encode_sample(PS_KBDINT_PROMPTS);
	transfer();
	assert_int_equal(ps_get_kbdint_prompts(&b, &kp), 0);
	assert_int_equal(kp.n_prompts, 2);
	assert_string_equal(kp.prompts[1], "Code: ");
	assert_int_equal(kp.echo, 2);

	encode_sample(PS_STATS);
	transfer();
	assert_int_equal(ps_get_stats(&b, &st), 0);
	assert_true(st.bytes_in == 1ull << 40);
	assert_true(st.bytes_out == 5);
	assert_string_equal(st.reason, "client-closed");

	encode_sample(PS_EXIT);
	transfer();
	assert_int_equal(ps_get_exit(&b, &ex), 0);
	assert_false(ex.exited);
	assert_int_equal(ex.signal, 15);
	assert_true(ex.core);
}

/* Every message decodes whole, and fails cut short at any length or with
 * a byte too many. */
static void
test_every_message_truncated(void **state)
{
	static uint8_t raw[PS_MAX_MSG];

	(void)state;
	for (unsigned t = PS_NONE + 1; t < PS_TYPE_MAX; t++) {
		decode_fn decode = encode_sample(t);
		size_t len = a.wr.len;

		if (decode == NULL)
			continue;
		memcpy(raw, a.buf, len);
		transfer_raw(raw, len);
		assert_int_equal(ps_type(&b), t);
		assert_int_equal(decode(&b), 0);
		for (size_t cut = 1; cut < len; cut++) {
			transfer_raw(raw, cut);
			if (decode(&b) != -EBADMSG)
				fail_msg("%s decoded from %zu of %zu bytes",
				    ps_type_name(t), cut, len);
		}
		raw[len] = 0;
		transfer_raw(raw, len + 1);
		assert_int_equal(decode(&b), -EBADMSG);
	}
}

static void
test_session_started_fds(void **state)
{
	struct ps_session_started r;
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	/* A pty: one fd. */
	ps_put_session_started(&a, &(struct ps_session_started){ .id = 3,
	    .ok = true, .pty = true, .n_fds = 1, .fds = { p[0] } });
	transfer();
	assert_int_equal(ps_get_session_started(&b, &r), 0);
	assert_int_equal(r.id, 3);
	assert_int_equal(r.n_fds, 1);
	assert_true(r.fds[0] >= 0);
	close(r.fds[0]);
	/* Three pipes' ends come as three. */
	ps_put_session_started(&a, &(struct ps_session_started){ .id = 4,
	    .ok = true, .n_fds = 3, .fds = { p[0], p[1], p[0] } });
	transfer();
	assert_int_equal(ps_get_session_started(&b, &r), 0);
	assert_int_equal(r.n_fds, 3);
	for (size_t i = 0; i < r.n_fds; i++)
		close(r.fds[i]);
	/* A malformed one keeps none: they are closed, not leaked to the
	 * caller or left in the message. */
	ps_put_session_started(&a, &(struct ps_session_started){ .id = 3,
	    .ok = true, .pty = true, .n_fds = 1, .fds = { p[0] } });
	wire_put_u32(&a.wr, 0);
	transfer();
	assert_int_equal(b.nfds, 1);
	assert_int_equal(ps_get_session_started(&b, &r), -EBADMSG);
	assert_int_equal(b.nfds, 0);
	assert_int_equal(r.n_fds, 0);
	/* Descriptors on a message that carries none are refused too. */
	encode_sample(PS_AUTH_RESULT);
	ps_put_fd(&a, p[0]);
	transfer();
	assert_int_equal(decode_auth_result(&b), -EBADMSG);
	assert_int_equal(b.nfds, 0);
	/* Refused: an error text, no fds at all. */
	ps_put_session_started(&a, &(struct ps_session_started){ .id = 3,
	    .error = "pty not permitted" });
	transfer();
	assert_int_equal(ps_get_session_started(&b, &r), 0);
	assert_false(r.ok);
	assert_int_equal(r.n_fds, 0);
	assert_string_equal(r.error, "pty not permitted");
	close(p[0]);
	close(p[1]);
}

/* A message whose field holds one descriptor, sent with three (the
 * forwarder, the user's process, may send anything): refused, and none
 * written past the field. */
static void
test_too_many_fds(void **state)
{
	struct {
		struct ps_fwdr_connected r;
		int guard[4];
	} s = { .guard = { -7, -7, -7, -7 } };
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	ps_put_fwdr_connected(&a, &(struct ps_fwdr_connected){ .id = 1,
	    .error = "", .n_fds = 1, .fds = { p[0] } });
	ps_put_fd(&a, p[1]);
	ps_put_fd(&a, p[0]);
	transfer();
	assert_int_equal(b.nfds, 3);
	assert_int_equal(ps_get_fwdr_connected(&b, &s.r), -EBADMSG);
	assert_int_equal(s.r.n_fds, 0);
	assert_int_equal(b.nfds, 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(s.guard[i], -7);
	/* One is what it holds. */
	ps_put_fwdr_connected(&a, &(struct ps_fwdr_connected){ .id = 2,
	    .error = "", .n_fds = 1, .fds = { p[0] } });
	transfer();
	assert_int_equal(ps_get_fwdr_connected(&b, &s.r), 0);
	assert_int_equal(s.r.n_fds, 1);
	close(s.r.fds[0]);
	close(p[0]);
	close(p[1]);
}

/* ---- the framing ---- */

static void
test_bounds(void **state)
{
	static char longuser[PS_MAX_USER + 10];
	static uint8_t bigsig[PS_MAX_SIGNED + 1];
	struct ps_auth_password pw;
	struct ps_signal sg;
	struct ps_window_change wc;
	uint8_t raw[64];

	(void)state;
	/* The encoder cuts a user name one byte past the valid length;
	 * the decoder takes exactly that. */
	memset(longuser, 'u', sizeof(longuser) - 1);
	ps_put_auth_password(&a, &(struct ps_auth_password){ .user = longuser,
	    .password = "x" });
	transfer();
	assert_int_equal(ps_get_auth_password(&b, &pw), 0);
	assert_int_equal(strlen(pw.user), PS_MAX_USER);

	/* A NUL inside a string. */
	memcpy(raw, "\x08\0\0\0\x01\0\0\0\x05" "ab\0cd", 14);
	transfer_raw(raw, 14);
	assert_int_equal(ps_get_signal(&b, &sg), -EBADMSG);

	/* A string over its bound (a signal name). */
	ps_put_signal(&a, &(struct ps_signal){ 1, "THIS-IS-A-VERY-LONG-SIGNAL-NAME-X" });
	transfer();
	assert_int_equal(ps_get_signal(&b, &sg), 0);	/* cut to the bound */
	raw[0] = PS_SIGNAL;
	memcpy(raw + 1, "\0\0\0\x01\0\0\0\x21", 8);
	memset(raw + 9, 'S', 0x21);
	transfer_raw(raw, 9 + 0x21);
	assert_int_equal(ps_get_signal(&b, &sg), -EBADMSG);

	/* A bool that is neither 0 nor 1 (is_signed, after the type, the
	 * user and the blob). */
	encode_sample(PS_AUTH_PUBKEY);
	a.buf[1 + 4 + strlen("bob") + 4 + sizeof(blob) + 3] = 2;
	transfer();
	assert_int_equal(decode_auth_pubkey(&b), -EBADMSG);

	/* A signature or signed data over its bound. */
	ps_put_auth_pubkey(&a, &(struct ps_auth_pubkey){ "bob", blob, sizeof(blob),
	    true, bigsig, PS_MAX_SIGNED, bigsig, PS_MAX_SIG });
	transfer();
	assert_int_equal(decode_auth_pubkey(&b), 0);
	ps_put_auth_pubkey(&a, &(struct ps_auth_pubkey){ "bob", blob, sizeof(blob),
	    true, bigsig, PS_MAX_SIGNED + 1, bigsig, PS_MAX_SIG });
	transfer();
	assert_int_equal(decode_auth_pubkey(&b), -EBADMSG);
	ps_put_auth_pubkey(&a, &(struct ps_auth_pubkey){ "bob", blob, sizeof(blob),
	    true, bigsig, PS_MAX_SIGNED, bigsig, PS_MAX_SIG + 1 });
	transfer();
	assert_int_equal(decode_auth_pubkey(&b), -EBADMSG);

	/* Counts over their bounds. */
	raw[0] = PS_KBDINT_ANSWERS;
	memcpy(raw + 1, "\0\0\0\x09", 4);
	transfer_raw(raw, 5);
	assert_int_equal(decode_kbdint_answers(&b), -EBADMSG);
	ps_put_session_open(&a, &sample_open);
	a.buf[5 + 3] = PS_KIND_SUBSYSTEM + 1;	/* kind, after the id */
	transfer();
	assert_int_equal(decode_session_open(&b), -EBADMSG);

	/* Unconsumed fields. */
	ps_put_window_change(&a, &(struct ps_window_change){ 1, 2, 3, 4, 5 });
	wire_put_u32(&a.wr, 6);
	transfer();
	assert_int_equal(ps_get_window_change(&b, &wc), -EBADMSG);
}

static void
test_writer_overflow(void **state)
{
	static char big[PS_MAX_MSG];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	ps_put_client_info(&a, &(struct ps_client_info){ big });	/* cut */
	assert_false(a.wr.bad);
	ps_put_session_open(&a, &(struct ps_session_open){ .arg = big });
	assert_true(a.wr.bad);
	assert_int_equal(ps_send(sp[0], &a), -EMSGSIZE);
}

static void
test_unknown_type_and_oversize(void **state)
{
	static uint8_t raw[PS_MAX_MSG + 100];

	(void)state;
	raw[0] = 200;
	assert_int_equal(send(sp[0], raw, 5, 0), 5);
	assert_int_equal(ps_recv(sp[1], &b, 0), -EBADMSG);
	raw[0] = PS_NONE;
	assert_int_equal(send(sp[0], raw, 5, 0), 5);
	assert_int_equal(ps_recv(sp[1], &b, 0), -EBADMSG);
	raw[0] = PS_AUTH_PASSWORD;
	assert_int_equal(send(sp[0], raw, sizeof(raw), 0), (ssize_t)sizeof(raw));
	assert_int_equal(ps_recv(sp[1], &b, 0), -EBADMSG);
	/* And the stream goes on after them. */
	encode_sample(PS_STATS);
	transfer();
	assert_int_equal(ps_type(&b), PS_STATS);
}

static void
test_fds_and_eof(void **state)
{
	int p[2], fd;

	(void)state;
	assert_int_equal(pipe(p), 0);
	ps_start(&a, PS_SESSION_STARTED);
	ps_put_fd(&a, p[0]);
	ps_put_fd(&a, p[1]);
	transfer();
	close(p[0]);
	close(p[1]);
	assert_int_equal(b.nfds, 2);
	fd = ps_take_fd(&b);
	assert_true(fd >= 0);
	close(fd);
	ps_clear_fds(&b);
	assert_int_equal(b.nfds, 0);
	assert_int_equal(ps_take_fd(&b), -1);
	assert_false(ps_done(&b));

	/* More descriptors than a message carries: not sent at all. */
	ps_start(&a, PS_SESSION_STARTED);
	for (int i = 0; i <= PS_MAX_FDS; i++)
		ps_put_fd(&a, 0);
	assert_int_equal(ps_send(sp[0], &a), -EMSGSIZE);

	/* Nothing queued: non-blocking says so; after close, EOF. */
	assert_int_equal(ps_recv(sp[1], &b, MSG_DONTWAIT), -EAGAIN);
	close(sp[0]);
	assert_int_equal(ps_recv(sp[1], &b, 0), -EPIPE);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
}

static void
test_wipe_and_move(void **state)
{
	static struct ps_msg c;
	struct ps_auth_password pw;

	(void)state;
	ps_put_auth_password(&a, &(struct ps_auth_password){ .user = "alice",
	    .password = "hunter2", .change = true, .new_password = "hunter3" });
	transfer();
	ps_wipe(&a);
	assert_null(memmem(a.buf, sizeof(a.buf), "hunter2", 7));
	assert_null(memmem(a.buf, sizeof(a.buf), "hunter3", 7));
	/* A received message moves whole (the monitor's pushback), and the
	 * strings it was read into are wiped with it. */
	assert_int_equal(ps_get_auth_password(&b, &pw), 0);
	ps_move(&c, &b);
	assert_null(memmem(b.buf, sizeof(b.buf), "hunter2", 7));
	assert_null(memmem(b.strings, sizeof(b.strings), "hunter2", 7));
	assert_int_equal(ps_type(&c), PS_AUTH_PASSWORD);
	assert_int_equal(ps_get_auth_password(&c, &pw), 0);
	assert_string_equal(pw.password, "hunter2");
	assert_string_equal(pw.new_password, "hunter3");
	ps_wipe(&c);
	assert_null(memmem(c.strings, sizeof(c.strings), "hunter2", 7));
	assert_null(memmem(c.strings, sizeof(c.strings), "hunter3", 7));
}

/* ---- the table ---- */

static void
test_table(void **state)
{
	const uint64_t answer_types = PS_ANSWER(AUTH_RESULT) |
	    PS_ANSWER(KBDINT_PROMPTS) | PS_ANSWER(PASSWD_CHANGEREQ) |
	    PS_ANSWER(SESSION_STARTED) |
	    PS_ANSWER(SIGNATURE) | PS_ANSWER(FWD_LISTENING);
#define REQUEST_BIT(type, ...) | 1ull << PS_##type
	const uint64_t requests = 0 PS_REQUESTS(REQUEST_BIT);
#undef REQUEST_BIT

	(void)state;
	assert_string_equal(ps_type_name(PS_NONE), "unknown");
	assert_string_equal(ps_type_name(PS_TYPE_MAX), "unknown");
	for (unsigned t = PS_NONE + 1; t < PS_TYPE_MAX; t++) {
		const struct ps_rule *r = &ps_rules[t];
		bool request = (requests & 1ull << t) != 0;

		assert_non_null(r->name);
		for (unsigned u = PS_NONE + 1; u < t; u++)
			assert_string_not_equal(r->name, ps_rules[u].name);
		/* Requests come in some state; the monitor's messages never. */
		assert_int_equal(r->states != 0, request);
		assert_int_equal(r->states & ~(uint32_t)PS_ANY, 0);
		/* Answers are answer types (not notices, not requests). */
		assert_int_equal(r->answers & ~answer_types, 0);
	}
	/* The boundaries that keep a child from skipping authentication. */
	for (unsigned t = PS_SESSION_OPEN; t <= PS_SESSION_CLOSE; t++)
		assert_int_equal(ps_rules[t].states, PS_POSTAUTH);
	for (unsigned t = PS_AUTH_PASSWORD; t <= PS_KBDINT_ANSWERS; t++)
		assert_int_equal(ps_rules[t].states & PS_POSTAUTH, 0);
	assert_int_equal(ps_rules[PS_KBDINT_ANSWERS].states, PS_KBDINT);
	assert_int_equal(ps_rules[PS_CLIENT_INFO].flags, PS_ONCE);
	/* OpenSSH's rule for host key signatures: the session id's, then
	 * only rekeys after login; never during a conversation. */
	assert_int_equal(ps_rules[PS_SIGN].states, PS_PREAUTH | PS_POSTAUTH);
	assert_int_equal(ps_rules[PS_SIGN].flags, PS_ONCE_PREAUTH);
	assert_int_equal(ps_rules[PS_SIGN].answers, PS_ANSWER(SIGNATURE));
	for (unsigned t = PS_SIGNATURE; t < PS_FWD_OPEN; t++)
		assert_int_equal(ps_rules[t].states, 0);
	/* Forwarding only for a logged-in user. */
	for (unsigned t = PS_FWD_OPEN; t <= PS_FWD_CLOSE; t++)
		assert_int_equal(ps_rules[t].states, PS_POSTAUTH);
	for (unsigned t = PS_FWD_OPENED; t < PS_FWD_CONFIRMED; t++)
		assert_int_equal(ps_rules[t].states, 0);
	assert_int_equal(ps_rules[PS_FWD_CONFIRMED].states, PS_POSTAUTH);
	/* A forwarded open waits for nothing: FWD_OPENED is a notice, sent
	 * when the forwarder's connect is done. */
	assert_int_equal(ps_rules[PS_FWD_OPEN].answers, 0);
	assert_true(PS_MAX_FWD_PENDING > 0 && PS_MAX_FWD_PENDING <= 256);
	assert_int_equal(ps_rules[PS_SESSION_ARG].states, PS_POSTAUTH);
	/* An expired password is changed before login, in a password
	 * request's answer. */
	assert_int_equal(ps_rules[PS_PASSWD_CHANGEREQ].states, 0);
	assert_int_equal(ps_rules[PS_AUTH_PASSWORD].answers,
	    PS_ANSWER(AUTH_RESULT) | PS_ANSWER(PASSWD_CHANGEREQ));
	assert_int_equal(ps_rules[PS_X11_REQ].states, PS_POSTAUTH);
	assert_int_equal(ps_rules[PS_X11_REQ].answers, PS_ANSWER(FWD_LISTENING));
}

/* The channel type both halves time a session by, as sshd labels it. */
static void
test_session_chan_type(void **state)
{
	char t[PS_CHAN_TYPE_MAX], tiny[12];
	char name[PS_CHAN_TYPE_MAX * 2];

	(void)state;
	ps_session_chan_type(PS_KIND_SHELL, "", t, sizeof(t));
	assert_string_equal(t, "session:shell");
	ps_session_chan_type(PS_KIND_EXEC, "ls -l", t, sizeof(t));
	assert_string_equal(t, "session:command");
	ps_session_chan_type(PS_KIND_SUBSYSTEM, "sftp", t, sizeof(t));
	assert_string_equal(t, "session:subsystem:sftp");
	/* Cut, never overrun. */
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ps_session_chan_type(PS_KIND_SUBSYSTEM, name, t, sizeof(t));
	assert_int_equal(strlen(t), sizeof(t) - 1);
	ps_session_chan_type(PS_KIND_SHELL, "", tiny, sizeof(tiny));
	assert_string_equal(tiny, "session:she");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_message_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_started_fds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_fds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_type_and_oversize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fds_and_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wipe_and_move, setup, teardown),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_session_chan_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
