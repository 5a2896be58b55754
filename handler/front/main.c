/* sshand: one SSH connection, start to end.
 *
 * socket → policy → ban check → split into the guardian, the privileged
 * monitor and the sandboxed network child (privilege separation) → the
 * child speaks SSH with the public host keys only (the monitor's key
 * holder signs); the monitor authenticates and starts sessions, each of
 * which drops to the user for good, and whose bytes the child relays; the
 * guardian waits, to finish the connection if the monitor cannot → exit.
 *
 * This file and the policy, audit and log code are the front: linked
 * with libc only, so that a banned address costs an exec, a config parse
 * and a ban file lookup, nothing more.  Once the source is known not to be
 * banned, the front forks, and each side loads only its own half:
 *
 *   the monitor: sshand-monitor.so (handler/monitor/ and the key holder,
 *     handler/keys/; PAM, libcap-ng and OpenSSL's libcrypto),
 *     loaded before the fork, so that no child speaks to the client when
 *     the monitor could not answer it; the guardian (handler/guardian/)
 *     is part of it, and runs in this very process;
 *   the network child: sshand-net.so (handler/net/; libssh, OpenSSL and
 *     zlib), loaded after it, with a stand-in for the Kerberos GSSAPI
 *     library libssh links (handler/net/nogssapi/), which keeps Kerberos
 *     and its five libraries out of the process.
 *
 * So the fork copies a small process, the root monitor has no libssh code
 * in it at all, and each side's exit tears down only its
 * own.  Each half gets a struct handover (handover.h) and nothing else of
 * the front's; they use the front's policy, audit and log code, which the
 * front exports to them.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <pwd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "handler/front/guard.h"
#include "handler/front/startups.h"
#include "handler/front/handover.h"
#include "handler/front/log.h"
#include "handler/guardian/state.h"
#include "policy/match.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: sshand [-deit] [-f config] [-T [-C user=NAME,addr=ADDR]]\n"
	    "  started per connection by systemd (Accept=yes) or inetd; see sshand(8)\n");
}

/* stderr may be the connection itself (classic inetd dups the socket onto
 * 0, 1 and 2): then it must never be written to. */
static bool
stderr_usable(void)
{
	struct stat st;

	return fstat(2, &st) == 0 && !S_ISSOCK(st.st_mode);
}

static void __attribute__((noreturn, format(printf, 2, 3)))
die_early(int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (stderr_usable())
		fprintf(stderr, "sshand: %s\n", msg);
	log_error("%s", msg);
	exit(code);
}

#define LISTEN_FDS_START 3

/* systemd's socket passing protocol (sd_listen_fds(3)): LISTEN_FDS fds
 * from 3, if LISTEN_PID names us.  Written here rather than taken from
 * libsystemd, whose loading cost every connection 0.4 ms of CPU (a
 * quarter of what turning a banned address away costs).  The variables are
 * removed so nothing we start inherits them. */
static int
listen_fds(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	char *end;
	long v;
	int n = 0;

	if (pid != NULL && fds != NULL) {
		errno = 0;
		v = strtol(pid, &end, 10);
		if (errno == 0 && *end == '\0' && end != pid && v == (long)getpid()) {
			v = strtol(fds, &end, 10);
			if (errno != 0 || *end != '\0' || end == fds || v < 0 || v > 64)
				n = -EINVAL;
			else
				n = (int)v;
		}
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	for (int fd = LISTEN_FDS_START; n > 0 && fd < LISTEN_FDS_START + n; fd++)
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
			return -errno;
	return n;
}

/* The connected stream socket we were started for: fd 3 from systemd's
 * Accept=yes, or fd 0 from inetd (and StandardInput=socket), and its peer
 * in *ss.  Refuses anything else. */
static int
acquire_socket(bool inetd_only, struct sockaddr_storage *ss)
{
	int n = inetd_only ? 0 : listen_fds();
	int fd, type = 0, listening = 0;
	socklen_t len = sizeof(int);
	socklen_t sl = sizeof(*ss);

	if (n < 0)
		die_early(EXIT_USAGE, "bad LISTEN_FDS from the service manager: %s",
		    strerror(-n));
	if (n > 1)
		die_early(EXIT_USAGE, "%s", "several sockets passed (LISTEN_FDS > 1): "
		    "run sshand from a socket unit with Accept=yes");
	struct stat st;

	fd = n == 1 ? LISTEN_FDS_START : 0;
	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		die_early(EXIT_USAGE, "%s", "no connection socket: start sshand from "
		    "systemd (Accept=yes) or inetd, see sshand(8)");
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM)
		die_early(EXIT_USAGE, "%s", "the socket is not a stream socket");
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || listening)
		die_early(EXIT_USAGE, "%s", "the socket is a listening socket: use "
		    "Accept=yes in the socket unit");
	if (getpeername(fd, (struct sockaddr *)ss, &sl) < 0)
		die_early(EXIT_USAGE, "the socket is not connected: %s", strerror(errno));
	if (ss->ss_family != AF_INET && ss->ss_family != AF_INET6)
		die_early(EXIT_USAGE, "%s", "the socket is not a TCP/IP connection");
	return fd;
}

/* Moves the connection above the standard fds and points 0, 1 (and 2 unless
 * it is our log) at /dev/null, so no stray write can reach the client. */
static int
isolate_socket(int fd, bool keep_stderr)
{
	int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3), null;

	if (nfd < 0)
		return -errno;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		return -errno;
	dup2(null, 0);
	dup2(null, 1);
	if (!keep_stderr)
		dup2(null, 2);
	if (null > 2)
		close(null);
	if (fd > 2 && fd != nfd)
		close(fd);
	return nfd;
}

static void
sockaddr_strings(const struct sockaddr_storage *ss, char *addr, size_t alen,
    unsigned *port)
{
	struct netaddr na;

	*port = 0;
	snprintf(addr, alen, "unknown");
	if (netaddr_from_sockaddr((const struct sockaddr *)ss, &na) == 0)
		netaddr_format(&na, addr, alen);
	if (ss->ss_family == AF_INET)
		*port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
	else if (ss->ss_family == AF_INET6)
		*port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static int
load_config(const char *path, struct config **ret_cfg, struct settings **ret_s)
{
	char err[512];
	int r;

	r = config_load(path, ret_cfg, err, sizeof(err));
	if (r < 0) {
		if (stderr_usable())
			fprintf(stderr, "sshand: %s\n", err);
		log_error("%s", err);
		return r;
	}
	r = config_resolve(*ret_cfg, NULL, ret_s);
	if (r < 0) {
		config_free(*ret_cfg);
		return log_errno(LOG_ERR, r, "%s: resolving settings", path);
	}
	return 0;
}


/* Step 2: a banned source is turned away before the version banner.  The
 * ban file stays open for the monitor, which counts failures in it. */
static void
check_ban(struct handover *h)
{
	const struct settings *s = h->global;
	struct ban_params params;
	int64_t until = 0;
	bool damaged = false;
	int r;

	if (s->ban_max_failures == 0)
		return;
	settings_ban_params(s, &params);
	r = ban_open(s->ban_file, &params, &h->bans);
	if (r < 0) {
		/* Fail open: a broken ban file must not lock out every user. */
		log_errno(LOG_CRIT, r, "ban file %s unusable, ban check SKIPPED "
		    "(failing open)", s->ban_file);
		h->bans = NULL;
		return;
	}
	if (ban_take_created(h->bans)) {
		char slots[4096];

		/* Its MaxStartups slots beside it say sshand served this host
		 * before: then the ban file vanished, and its bans with it. */
		snprintf(slots, sizeof(slots), "%s.startups", s->ban_file);
		if (access(slots, F_OK) == 0)
			log_msg(LOG_CRIT, "ban file %s was missing and has been "
			    "recreated; earlier bans are lost", s->ban_file);
		else
			log_msg(LOG_INFO, "ban file %s created", s->ban_file);
	}
	if (ban_take_migrated(h->bans))
		log_msg(LOG_WARNING, "ban file %s was in an older format and has been "
		    "migrated to format %u", s->ban_file, BAN_FILE_VERSION);
	r = ban_check(h->bans, (struct sockaddr *)&h->peer, time(NULL), &until, &damaged);
	if (damaged)
		log_msg(LOG_CRIT, "ban file %s was damaged and has been rebuilt; "
		    "earlier bans are lost", s->ban_file);
	if (r < 0) {
		log_errno(LOG_CRIT, r, "ban check failed, failing open");
		return;
	}
	if (r == 1) {
		struct audit_fields f = AUDIT_FIELDS_INIT;

		f.ban_until = until;
		f.reason = "banned";
		audit_emit(AUDIT_REJECTED_BANNED, h->audit, &f);
		close(h->sock);
		exit(EXIT_BANNED);
	}
}

static const char *audit_target = "the audit trail";

/* A record that could not be written: said once per process (each of the
 * connection's processes writes its own records), at error level, where
 * logs still go when the audit trail does not. */
static void
audit_failed(int err)
{
	log_errno(LOG_ERR, err, "audit records cannot be written to %s: this "
	    "connection's events are being lost", audit_target);
}

/* Step 2b: MaxStartups and PerSourceMaxStartups.  The slots are locks in
 * a file beside the ban file (front/startups.c); one is held until the
 * login, or the connection's end.  A source over its share, or a host
 * over MaxStartups' random early drop, is turned away before the banner,
 * as sshd does.  Slots that cannot be used fail open, as the ban check
 * does. */
static void
check_startups(struct handover *h)
{
	const struct settings *s = h->global;
	struct startups_params p;
	const char *why = NULL;
	char path[4096];
	int r;

	if (startups_parse(s->max_startups, s->per_source_max_startups,
	    s->per_source_net_block_size, &p) < 0)
		return;		/* checked at load */
	if ((size_t)snprintf(path, sizeof(path), "%s.startups", s->ban_file) >=
	    sizeof(path))
		return;
	r = startups_take(path, &p, &h->peer, &h->startups_fd, &why);
	if (r < 0) {
		log_errno(LOG_CRIT, r, "MaxStartups slots %s unusable, not "
		    "applied (failing open)", path);
		return;
	}
	if (r == 1) {
		struct audit_fields f = AUDIT_FIELDS_INIT;

		f.reason = why;
		audit_emit(AUDIT_REJECTED_STARTUPS, h->audit, &f);
		close(h->sock);
		exit(EXIT_BANNED);
	}
}

/* Where sshand-net.so and sshand-monitor.so are (generated by the
 * Makefile: the build tree, or the installed LIBEXECDIR). */
extern const char sshand_part_dir[];

/* Loads one half: file (in sshand_part_dir) and the symbol of its table;
 * NULL, logged, if it cannot be used. */
static const void *
load_part(const char *file, const char *table)
{
	char path[4096];
	const unsigned long *abi;
	void *h;

	snprintf(path, sizeof(path), "%s/%s", sshand_part_dir, file);
	/* RTLD_LAZY: the libraries keep their own binding (ours are linked
	 * -z now); RTLD_NOW would bind every symbol of every library they
	 * pull in, OpenSSL's thousands among them. */
	h = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
	if (h == NULL) {
		log_error("cannot load %s: %s", path, dlerror());
		return NULL;
	}
	/* Both tables start with abi. */
	abi = dlsym(h, table);
	if (abi == NULL || *abi != SSHAND_CORE_ABI) {
		log_error("%s is not part of this sshand (reinstall it)", path);
		return NULL;
	}
	return abi;
}

/* The network child's half, with libssh's GSSAPI dependency bound to
 * sshand-nogssapi.so (see handler/net/nogssapi/nogssapi.c): loaded
 * first, under the soname libgssapi_krb5.so.2, it is what the loader
 * takes for that library.  Should a libssh need a function the stand-in
 * lacks, the half is loaded with Kerberos instead, and the log says so:
 * costlier, never broken. */
static const void *
load_net_part(void)
{
	char path[4096];
	const void *part;
	void *nogss;

	snprintf(path, sizeof(path), "%s/sshand-nogssapi.so", sshand_part_dir);
	nogss = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (nogss == NULL)
		log_warning("cannot load %s: %s; Kerberos's GSSAPI library is "
		    "loaded instead", path, dlerror());
	part = load_part("sshand-net.so", "sshand_net");
	if (part == NULL && nogss != NULL) {
		/* Nothing references the stand-in now but our handle. */
		dlclose(nogss);
		log_warning("loading sshand-net.so with Kerberos's GSSAPI library "
		    "instead of sshand-nogssapi.so");
		part = load_part("sshand-net.so", "sshand_net");
	}
	return part;
}

static char *
read_banner(const char *path)
{
	char *buf;
	ssize_t n;
	int fd;

	if (path == NULL)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		log_warning("Banner %s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(8193);
	if (buf == NULL) {
		close(fd);
		return NULL;
	}
	n = read(fd, buf, 8192);	/* bounded: a banner is a few lines */
	close(fd);
	if (n <= 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* Ends a connection that never got to privilege separation. */
static int
server_error(struct handover *h, int code)
{
	struct audit_fields f = AUDIT_FIELDS_INIT;

	f.reason = "server-error";
	f.duration_usec = (int64_t)(now_usec() - h->start_usec);
	audit_emit(AUDIT_DISCONNECT, h->audit, &f);
	return code;
}

/* After the ban check: the guardian, the monitor and the network child.
 *
 * This process becomes the guardian (guardian/guardian.h): root, not
 * dumpable, it forks the monitor and sleeps until the monitor ends; if the
 * monitor is killed or crashes before the connection's end is recorded,
 * it writes the records, closes the PAM session and ends the sessions in
 * its place, from what the monitor keeps for it in a shared mapping
 * (guardian/state.h).  It is the parent so that it outlives the monitor
 * and, as a child subreaper, inherits whatever the monitor leaves.  It
 * waits with libc alone (guard.c), forked before the monitor's half is
 * loaded, and loads that half only to finish for a dead monitor: it costs
 * the connection the fork of a small process. */
static int
privsep(struct handover *h)
{
	const struct sshand_monitor *mon_part;
	struct guardian_state *guardian;
	struct passwd *pw;
	uint64_t cpu;
	int mon[2];
	pid_t pid;

	/* A banned source costs no NSS lookup. */
	pw = getpwnam(h->global->privsep_user);
	if (pw == NULL || pw->pw_uid == 0) {
		log_error("PrivsepUser %s: %s", h->global->privsep_user, pw ? "must not be root" :
		    "no such user (make install creates it)");
		return server_error(h, EXIT_CONFIG);
	}
	h->privsep_uid = pw->pw_uid;
	h->privsep_gid = pw->pw_gid;
	h->banner = read_banner(h->global->banner);

	guardian = mmap(NULL, sizeof(*guardian), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (guardian == MAP_FAILED) {
		log_errno(LOG_ERR, -errno, "mmap");
		return server_error(h, EXIT_INTERNAL);
	}
	h->guardian = guardian;
	cpu = process_cpu_usec();
	pid = fork();
	if (pid < 0) {
		log_errno(LOG_ERR, -errno, "fork");
		return server_error(h, EXIT_INTERNAL);
	}
	if (pid > 0) {
		/* The guardian: it waits with libc alone (guard.c), and
		 * loads the monitor's half only to finish for a dead one. */
		int st;

		if (guard_wait(h, pid, &st))
			return WIFEXITED(st) ? WEXITSTATUS(st) : EXIT_INTERNAL;
		mon_part = load_part("sshand-monitor.so", "sshand_monitor");
		return mon_part ? mon_part->rescue(h, pid, st) : EXIT_INTERNAL;
	}
	/* The monitor, which carries the front's work on (its CPU too, in
	 * the phase lines).  What it keeps for the guardian is no one else's:
	 * nothing it forks gets the mapping.  From here on a failure is
	 * recorded by the guardian, as the monitor's exit without a recorded
	 * end. */
	phase_cpu_carry(cpu);
	if (madvise(guardian, sizeof(*guardian), MADV_DONTFORK) < 0) {
		log_errno(LOG_ERR, -errno, "madvise");
		return EXIT_INTERNAL;
	}
	/* The monitor's half before the network child's fork: if it cannot
	 * be used, no network child may greet the client first.  A half that
	 * cannot be loaded is recorded here (the guardian has nothing to
	 * finish then). */
	mon_part = load_part("sshand-monitor.so", "sshand_monitor");
	if (mon_part == NULL) {
		int code = server_error(h, EXIT_INTERNAL);

		__atomic_store_n(&guardian->done, 1, __ATOMIC_RELEASE);
		return code;
	}
	/* Its loading (libcrypto's relocations, then OpenSSL's configuration
	 * and method stores, part.c) is most of the step before the fork:
	 * a line of its own in the bench's table 2d. */
	phase("monitor-loaded", h->start_usec);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, mon) < 0) {
		log_errno(LOG_ERR, -errno, "socketpair");
		return EXIT_INTERNAL;
	}
	h->monitor_pid = getpid();
	phase("prefork", h->start_usec);
	pid = fork();
	if (pid < 0) {
		log_errno(LOG_ERR, -errno, "fork");
		return EXIT_INTERNAL;
	}
	if (pid == 0) {
		const struct sshand_net *net_part;

		close(mon[0]);
		h->guardian = NULL;	/* not mapped here (MADV_DONTFORK) */
		phase_cpu_carry(0);
		log_set_prefix("net");
		/* A child that cannot start just ends: the monitor sees it
		 * go and ends the connection (and audits it). */
		net_part = load_net_part();
		_exit(net_part ? net_part->main(h, mon[1]) : EXIT_INTERNAL);
	}
	close(mon[1]);
	return mon_part->main(h, mon[0], pid);
}

static int
test_config(const char *path)
{
	/* The monitor's half: its key holder's loader is the one to judge
	 * the host keys with. */
	const struct sshand_monitor *mon_part = load_part("sshand-monitor.so",
	    "sshand_monitor");

	return mon_part ? mon_part->test(path) : EXIT_INTERNAL;
}

static int
dump_settings(const char *path, const char *spec)
{
	const struct sshand_monitor *mon_part = load_part("sshand-monitor.so",
	    "sshand_monitor");

	return mon_part ? mon_part->dump(path, spec) : EXIT_INTERNAL;
}

int
main(int argc, char **argv)
{
	static struct audit_conn audit;
	struct handover h = { .sock = -1, .config_path = SSHAND_CONFIG_PATH,
	    .audit = &audit, .startups_fd = -1 };
	struct sockaddr_storage local;
	socklen_t sl = sizeof(local);
	bool test = false, dump = false, inetd = false;
	const char *spec = NULL;
	struct config *cfg;
	struct settings *global;
	int opt, r, one = 1, keepalive;

	h.start_usec = now_usec();
	/* Nothing of ours (passwords in flight) in core files, nor open to
	 * ptrace by a process of our uid that lacks our capabilities. */
	prctl(PR_SET_DUMPABLE, 0);
	while ((opt = getopt(argc, argv, "f:edit TC:h")) != -1) {
		switch (opt) {
		case 'f': h.config_path = optarg; break;
		case 'e': h.log_stderr = true; break;
		case 'd': h.debug++; h.log_stderr = true; break;
		case 'i': inetd = true; break;
		case 't': test = true; break;
		case 'T': dump = true; break;
		case 'C': spec = optarg; break;
		default: usage(); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage();
		return EXIT_USAGE;
	}
	if (test || dump) {
		log_setup(LOG_TARGET_STDERR, LOG_INFO);
		return dump ? dump_settings(h.config_path, spec) : test_config(h.config_path);
	}
	if (h.log_stderr && !stderr_usable())
		h.log_stderr = false;
	log_setup(h.log_stderr ? LOG_TARGET_STDERR : LOG_TARGET_JOURNAL,
	    h.debug ? LOG_DEBUG : LOG_INFO);
	signal(SIGPIPE, SIG_IGN);

	/* Step 1: the socket, the connection id, the configuration. */
	h.sock = acquire_socket(inetd, &h.peer);
	r = isolate_socket(h.sock, h.log_stderr);
	if (r < 0)
		die_early(EXIT_INTERNAL, "cannot move the connection socket: %s", strerror(-r));
	h.sock = r;
	/* The client sets no TCP_NODELAY for non-interactive sessions; our
	 * small writes (banner, channel replies, exit-status) must not wait
	 * for its delayed ACKs. */
	setsockopt(h.sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	audit_conn_init(&audit);
	log_set_connection(audit.id);
	sockaddr_strings(&h.peer, audit.remote_addr, sizeof(audit.remote_addr),
	    &audit.remote_port);
	if (getsockname(h.sock, (struct sockaddr *)&local, &sl) == 0)
		sockaddr_strings(&local, audit.local_addr, sizeof(audit.local_addr),
		    &audit.local_port);

	if (load_config(h.config_path, &cfg, &global) < 0)
		return EXIT_CONFIG;
	h.cfg = cfg;
	h.global = global;
	/* TCPKeepAlive, as sshd sets it on each connection: the file has
	 * the last word over the socket unit's KeepAlive=. */
	keepalive = global->tcp_keepalive;
	setsockopt(h.sock, SOL_SOCKET, SO_KEEPALIVE, &keepalive, sizeof(keepalive));
	h.log_prio = h.debug ? LOG_DEBUG :
	    global->log_level >= LOGLEVEL_DEBUG1 ? LOG_DEBUG :
	    global->log_level >= LOGLEVEL_INFO ? LOG_INFO : LOG_ERR;
	log_set_max_priority(h.log_prio);
	audit_target = global->audit_log;
	audit_on_failure(audit_failed);
	r = audit_trail_open(global->audit_log, NULL);
	if (r < 0)
		log_errno(LOG_CRIT, r, "AuditLog %s cannot be opened: this connection "
		    "is not audited", global->audit_log);
	audit_emit(AUDIT_CONNECT, &audit, NULL);
	phase("config", h.start_usec);

	/* Step 2: the ban check, then a MaxStartups slot. */
	check_ban(&h);
	phase("bancheck", h.start_usec);
	check_startups(&h);

	/* Step 3 on: the two halves. */
	return privsep(&h);
}
