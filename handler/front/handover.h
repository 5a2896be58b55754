/* State shared by the parts of one connection's handler (internal). */
#ifndef SSHAND_HANDLER_HANDLER_H
#define SSHAND_HANDLER_HANDLER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <libssh/libssh.h>

#include "handler/front/audit.h"
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

#define MAX_HOST_KEYS 8
#define MAX_USER_LEN 255
#define MAX_PASSWORD_LEN 1024
#define MAX_COMMAND_LEN 32768	/* exec commands; sshd allows about 256 KiB */

struct conn {
	int sock;
	struct sockaddr_storage peer;
	struct audit_conn audit;
	const char *config_path;
	struct config *cfg;
	struct settings *global;	/* before the user is known */
	ssh_key host_keys[MAX_HOST_KEYS];
	size_t n_host_keys;
	char *banner_text;		/* Banner file contents, or NULL */
	struct ban_store *bans;
	struct ban_params ban_params;
	uid_t privsep_uid;		/* PrivsepUser, resolved before the fork */
	gid_t privsep_gid;
	pid_t monitor_pid;		/* the network child's parent */
	uint64_t start_usec;		/* CLOCK_MONOTONIC at process start */
	bool log_stderr;
	int log_prio;			/* syslog priority threshold in force */
	int debug;
};

uint64_t now_usec(void);		/* CLOCK_MONOTONIC */
void phase(const char *name, uint64_t since_usec);	/* debug timing line */

/* What the two halves of privilege separation, sshand-net.so and
 * sshand-monitor.so (core-net.c, core-monitor.c), offer the front.  abi is
 * SSHAND_CORE_ABI of the build, which the Makefile derives from the headers
 * they share: parts from different builds refuse each other. */
#ifndef SSHAND_CORE_ABI
#define SSHAND_CORE_ABI 0
#endif
struct sshand_net {
	unsigned long abi;
	int (*main)(struct conn *c, int mon_fd);	/* net_main */
	int (*test)(const char *config_path);		/* sshand -t */
};
struct sshand_monitor {
	unsigned long abi;
	int (*main)(struct conn *c, int mon_fd, pid_t net_pid);	/* monitor_main */
	int (*dump)(const char *config_path, const char *spec);	/* sshand -T */
};

/* The two sides of privilege separation; each returns an exit code. */
int net_main(struct conn *c, int mon_fd);
int monitor_main(struct conn *c, int mon_fd, pid_t net_pid);

#endif
