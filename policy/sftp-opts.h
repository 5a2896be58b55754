/* internal-sftp's command line (sshd's, with sftp-server's options):
 * parsed here, in the policy library, so that sshand -t refuses a bad
 * one at its line, and again by the monitor when a session starts, for
 * the server (handler/sftp/sftp.h) to apply. */
#ifndef SSHAND_POLICY_SFTP_OPTS_H
#define SSHAND_POLICY_SFTP_OPTS_H

#include <stdbool.h>
#include <stddef.h>
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

/* The requests -P and -p name (sftp-server's names), one bit each. */
int sftp_request_bit(const char *name);

/* "internal-sftp [-ehR] [-d dir] [-f facility] [-l level] [-P denied]
 * [-p allowed] [-u umask]": 0, or -EINVAL with a message in why.  -l,
 * -f and -e are accepted and have no effect (the session's process has
 * no log of its own; the audit trail records the session). */
int sftp_opts_parse(const char *command, const char *user, const char *home,
    struct sftp_opts *ret, char *why, size_t whylen);

#endif
