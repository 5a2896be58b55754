/* When the monitor writes the connection's login records (records.h):
 * a pty session's login once its leader exists, its logout when it ends,
 * a failed login as sshd counts one.  A record that cannot be written is
 * logged and the login goes on, as with sshd. */
#define _GNU_SOURCE
#include <errno.h>
#include <unistd.h>

#include "handler/front/log.h"
#include "handler/monitor/monitor.h"
#include "handler/monitor/records.h"

/* A missing file is the administrator's choice: not worth a warning at
 * every login. */
static void
report(int err, const char *what)
{
	if (err < 0)
		log_errno(err == -ENOENT ? LOG_DEBUG : LOG_WARNING, err,
		    "cannot write the %s record", what);
}

void
monitor_record_login(struct monitor *m, const char *tty, pid_t pid)
{
	report(records_login(&(struct records_login){ .user = m->user.name,
	    .uid = m->user.uid, .tty = tty, .pid = pid,
	    .host = m->h->audit->remote_addr,
	    .addr = (const struct sockaddr *)&m->h->peer }), "login");
}

void
monitor_record_logout(const char *tty, pid_t pid)
{
	report(records_logout(tty, pid), "logout");
}

void
monitor_record_failed(struct monitor *m, const char *user)
{
	report(records_failed(user, m->h->audit->remote_addr,
	    (const struct sockaddr *)&m->h->peer, getpid()), "failed login");
}
