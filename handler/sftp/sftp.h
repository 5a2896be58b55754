/* internal-sftp: an SFTP server (protocol version 3, as OpenSSH's
 * sftp-server speaks it, with OpenSSH's common extensions) that runs in
 * a session's own process, after the drop to the user and under the
 * user's seccomp profile, on fds 0 and 1, without exec: so it works in
 * a ChrootDirectory holding no binaries, as sshd's internal-sftp does.
 *
 * The monitor parses the command line (sftp_opts_parse), so that a bad
 * one is refused and logged where logging is possible; the session's
 * process then calls sftp_serve() and exits with what it returns. */
#ifndef SSHAND_HANDLER_SFTP_H
#define SSHAND_HANDLER_SFTP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define SFTP_INTERNAL_NAME "internal-sftp"

/* What sftp-server's options ask for; plain data, copied into the
 * session's process. */
struct sftp_opts {
	bool read_only;			/* -R */
	bool umask_set;			/* -u */
	mode_t umask;
	char start_dir[1024];		/* -d, %d %u %% expanded; "" = none */
	uint64_t denied;		/* -P: bits of the request table */
	uint64_t allowed;		/* -p; all ones when not given */
};

/* Is this command line sshd's internal-sftp ("internal-sftp" alone or
 * followed by a blank and options)? */
bool sftp_is_internal(const char *command);

/* "internal-sftp [-ehR] [-d dir] [-f facility] [-l level] [-P denied]
 * [-p allowed] [-u umask]": 0, or -EINVAL with a message in why.  -l,
 * -f and -e are accepted and have no effect (the session's process has
 * no log of its own; the audit trail records the session). */
int sftp_opts_parse(const char *command, const char *user, const char *home,
    struct sftp_opts *ret, char *why, size_t whylen);

/* Serves SFTP on in and out until the client closes; the exit status. */
int sftp_serve(int in, int out, const struct sftp_opts *o);

#endif
