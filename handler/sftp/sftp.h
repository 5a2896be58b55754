/* internal-sftp: an SFTP server (protocol version 3, as OpenSSH's
 * sftp-server speaks it, with OpenSSH's common extensions) that runs in
 * a session's own process, after the drop to the user and under the
 * user's seccomp profile, on fds 0 and 1, without exec: so it works in
 * a ChrootDirectory holding no binaries, as sshd's internal-sftp does.
 *
 * The monitor parses the command line (sftp_opts_parse, which sshand -t
 * runs too), so that a bad one is refused and logged where logging is
 * possible; the session's
 * process then calls sftp_serve() and exits with what it returns. */
#ifndef SSHAND_HANDLER_SFTP_H
#define SSHAND_HANDLER_SFTP_H

#include "policy/sftp-opts.h"

/* Serves SFTP on in and out until the client closes; the exit status. */
int sftp_serve(int in, int out, const struct sftp_opts *o);

#endif
