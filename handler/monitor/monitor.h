/* The monitor's state and the functions its files share (internal to
 * handler/monitor/).
 *
 * The monitor is the privileged side of a connection: built from what
 * the front hands over (front/handover.h), it answers the network child's
 * requests as the table in privsep/protocol.h allows (dispatch.c), each
 * by its answer_<name> (answers.h), and ends the connection when the
 * child breaks a rule. */
#ifndef SSHAND_HANDLER_MONITOR_MONITOR_H
#define SSHAND_HANDLER_MONITOR_MONITOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "handler/front/handover.h"
#include "handler/keys/keyholder.h"
#include "handler/monitor/auth.h"
#include "handler/monitor/greeting.h"
#include "handler/privsep/wire.h"
#include "policy/authmethods.h"
#include "policy/config.h"

#define MAX_SESSIONS 10

struct psession {
	bool live;
	uint32_t id;			/* the network child's channel id */
	pid_t pid;			/* session leader, and its process group */
	int master;			/* pty master kept for resizes, or -1 */
	const char *type;		/* shell, exec, subsystem */
	char chan_type[PS_CHAN_TYPE_MAX]; /* for ChannelTimeout: "session:shell"... */
	char *command;
	char *why;			/* it could not start: why, for its record */
	uint64_t start;
	char tty[64];			/* "/dev/pts/N" of a pty session, or "" */
	bool detached;			/* ChannelTimeout closed its channel */
};

/* An open keyboard-interactive round: the prompts PAM asked, and the
 * answers once the client sent them (answer_kbdint_answers). */
struct kbdint_round {
	size_t n;
	char **answers;
	bool answered;
};

struct monitor {
	struct handover *h;
	int fd;				/* the socketpair to the network child */
	struct ps_msg *in, *out;	/* the message received, the one sent */
	uint64_t seen;			/* request types received (PS_ONCE) */

	pid_t net_pid;
	bool net_gone;			/* its end is closed: nothing to send to */
	bool net_reaped;
	int net_status;			/* its wait status, once reaped */
	uint64_t deadline;		/* LoginGraceTime, CLOCK_MONOTONIC usec */

	/* The session id: the first exchange hash the key holder signed, as
	 * the key holder reports it (never as the network child says);
	 * user signatures are checked against it.  0 bytes until then. */
	uint8_t session_id[64];
	uint32_t session_id_len;
	struct keyholder keys;		/* the host keys' process */

	/* before authentication */
	unsigned failures;
	bool tried;			/* asked about a user at all */
	bool ban_counted;		/* a failure already reached the ban file */
	bool banned;			/* ending: its source is banned */
	bool proved;			/* gave an expired account's right password */
	struct ps_msg *pushback;	/* a request that ended a conversation */
	bool have_pushback;
	struct kbdint_round *round;	/* the conversation waiting for answers */
	/* The last name looked up and what NSS said: a client's probe and
	 * its signed request (or its retries) name the same user, and sshd
	 * too looks a user up once per connection. */
	char *looked_up;
	bool looked_up_known;
	struct user_info looked_up_u;
	char fingerprint[128];		/* of the last public key asked about */
	/* Of the certificate that logged in: "ID ... (serial n) CA ...";
	 * empty for a plain key. */
	char cert_desc[256];
	const char *cert_label;		/* "ED25519-CERT"..., static */
	/* AuthenticationMethods: the login's progress through the lists of
	 * am_user's settings (a change of name starts it again), and the
	 * keys that already succeeded in it (as sshd, a key counts once). */
	char *am_user;
	struct am_progress am;
	bool am_partial;		/* a method succeeded, more are needed */
	char am_keys[AM_MAX_STEPS][128];
	unsigned am_n_keys;

	/* after authentication */
	bool authed;
	struct user_info user;
	struct settings *us;		/* the user's resolved settings */
	const char *method;
	struct authkey_opts keyopts;	/* of the key that logged in */
	bool have_keyopts;
	struct pam_ctx *pam;
	struct pam_messages pam_msgs;	/* the session modules' (greeting.h) */
	struct psession sess[MAX_SESSIONS];
	struct forwarding *fwd;		/* forward.c's, once asked */
	/* A long exec command's parts (SESSION_ARG), for channel arg_id. */
	char *arg_buf;
	size_t arg_len;
	uint32_t arg_id;

	uint64_t bytes_in, bytes_out;	/* the child's last word (STATS) */
	char reason[PS_MAX_REASON + 1];
	/* user+sys of reaped processes, for the debug log's "cpu" line */
	uint64_t session_cpu_usec, net_cpu_usec, keys_cpu_usec;
};

/* The monitor's life: returns only on failure to start (an exit code). */
int monitor_main(struct handover *h, int net_fd, pid_t net_pid);

/* Sends m->out.  If the child is gone (EPIPE) that is noted and the
 * connection ends when its end of file is read; any other failure ends
 * the connection now. */
void monitor_send(struct monitor *m);
/* Ends the connection: the child is told or killed, sessions ended, PAM
 * closed, the disconnect audited; exits with code. */
void monitor_finish(struct monitor *m, int code, const char *reason)
    __attribute__((noreturn));
/* A privilege separation violation: audited, and the connection ends. */
void monitor_violation(struct monitor *m, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));

/* dispatch.c: the next request, checked against the table for state
 * (the caller has waited for it to be readable).  0, or -EPIPE when the
 * child has closed its end; any breach of the table is a violation. */
int monitor_next(struct monitor *m, enum ps_state state, int recv_flags);
/* Decodes m->in with its decoder and has answer_<name> answer it. */
void monitor_answer(struct monitor *m);

/* hostkeys.c: starts the key holder and hands its public keys to the
 * network child, or ends the connection. */
void monitor_start_keyholder(struct monitor *m);
/* Stops it (at the connection's end). */
void monitor_stop_keyholder(struct monitor *m);

/* auth.c: waits for the child's next message until LoginGraceTime. */
void monitor_wait_preauth(struct monitor *m);
/* Counts a connection that ends without a login against its source. */
void monitor_count_abandoned(struct monitor *m);
/* login.c: the user is authenticated: open the PAM session and keep only
 * the capabilities the monitor still needs (it stays root). */
void monitor_login(struct monitor *m);
/* privileges.c: the monitor's own capabilities before login (from the
 * start) and after it (the user's policy known); each ends the
 * connection if the kernel does not do as asked. */
void monitor_confine_preauth(struct monitor *m);
void monitor_confine_login(struct monitor *m);
/* The user's sessions may run setuid programs (NoNewPrivileges no). */
bool monitor_session_setuid_ok(const struct monitor *m);
/* May this login have a pty (PermitTTY, no-pty)? */
bool monitor_pty_permitted(const struct monitor *m);

/* logins.c: the login records (records.h) of this connection. */
void monitor_record_login(struct monitor *m, const char *tty, pid_t pid);
void monitor_record_logout(const char *tty, pid_t pid);
/* A failed login of user (as the client named it), for lastb. */
void monitor_record_failed(struct monitor *m, const char *user);

/* session.c: reaps what ended (sessions, the network child). */
void monitor_reap(struct monitor *m);
/* Ends every process of every session: HUP, then KILL after a grace; the
 * session-end records of those still running say reason. */
void monitor_end_sessions(struct monitor *m, const char *reason);
/* waitpid(who) that keeps the CPU the reaped process used. */
pid_t monitor_wait(struct monitor *m, pid_t who, int *status, int flags);

#endif
