/* What the front hands each half of privilege separation, and the halves'
 * entry points.  This is the only struct that crosses the dlopen boundary:
 * each half builds its own state from it (net/net.h, monitor/monitor.h).
 *
 * libc only: the front includes it, and must not pull in libssh or PAM. */
#ifndef SSHAND_HANDLER_FRONT_HANDOVER_H
#define SSHAND_HANDLER_FRONT_HANDOVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "handler/front/audit.h"
#include "handler/front/log.h"
#include "policy/ban.h"
#include "policy/config.h"

/* Exit codes, documented in sshand(8) and used by the unit's
 * SuccessExitStatus=. */
enum {
	EXIT_OK = 0,
	EXIT_CONFIG = 1,
	EXIT_USAGE = 2,
	EXIT_BANNED = 3,
	EXIT_NOAUTH = 4,
	EXIT_PROTOCOL = 5,
	EXIT_INTERNAL = 6,
};

struct guardian_state;

struct handover {
	int sock;			/* the connection (the monitor closes it) */
	struct sockaddr_storage peer;	/* the client */
	struct audit_conn *audit;	/* id and addresses; the monitor adds
					 * the user and the client's version */
	const char *config_path;
	const struct config *cfg;	/* the whole file, for Match */
	const struct settings *global;	/* its settings before the user is known */
	struct ban_store *bans;		/* the open ban file, or NULL (bans off
					 * or unusable); the child closes it */
	int startups_fd;		/* the MaxStartups slot (front/startups.h),
					 * or -1: every process but the monitor
					 * closes it, the monitor at login */
	const char *banner;		/* the Banner file's text, or NULL */
	uid_t privsep_uid;		/* PrivsepUser, resolved before the fork */
	gid_t privsep_gid;
	pid_t monitor_pid;		/* the network child's parent */
	struct guardian_state *guardian; /* shared by the monitor and the
					 * guardian (guardian/state.h), or NULL;
					 * no other process may keep it */
	uint64_t start_usec;		/* CLOCK_MONOTONIC at process start */
	bool log_stderr;		/* -e/-d: logging to stderr */
	int log_prio;			/* syslog priority threshold in force */
	int debug;			/* -d count */
};

/* The halves' tables, sshand-net.so's "sshand_net" and
 * sshand-monitor.so's "sshand_monitor".  abi is SSHAND_CORE_ABI of the
 * build, which the Makefile derives from the headers the front shares
 * with them: parts from different builds refuse each other.  Each entry
 * returns an exit code. */
#ifndef SSHAND_CORE_ABI
#define SSHAND_CORE_ABI 0
#endif
struct sshand_net {
	unsigned long abi;
	int (*main)(struct handover *h, int mon_fd);
};
struct sshand_monitor {
	unsigned long abi;
	int (*main)(struct handover *h, int net_fd, pid_t net_pid);
	int (*dump)(const char *config_path, const char *spec);	/* sshand -T */
	int (*test)(const char *config_path);		/* sshand -t */
	/* The guardian (guardian/guardian.h), once its wait (front/guard.c)
	 * saw the monitor die without recording the connection's end. */
	int (*rescue)(struct handover *h, pid_t monitor, int status);
};

#endif
