/*
 * Program logging for the handler.  The journal socket is connected in
 * log_setup(), before the handler chroots or drops privileges, and kept for
 * the life of the process.  Nothing is ever written to fd 0 or 1: in inetd
 * mode they are the connection.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "handler/front/journal.h"
#include "handler/front/log.h"

#define LOG_LINE_MAX	4096

static enum log_target target = LOG_TARGET_NONE;
static int max_prio = LOG_INFO;
static int journal_fd = -1;
static char prefix[64];
static char connection[33];

/*
 * In inetd mode fd 2 is often the connection too; writing there would
 * corrupt the SSH stream, so stderr counts only if it is something else.
 */
static bool
stderr_is_connection(void)
{
	struct stat e, st;
	int fd;

	if (fstat(STDERR_FILENO, &e) < 0)
		return true;
	if (!S_ISSOCK(e.st_mode))
		return false;
	for (fd = STDIN_FILENO; fd <= STDOUT_FILENO; fd++)
		if (fstat(fd, &st) == 0 && st.st_dev == e.st_dev &&
		    st.st_ino == e.st_ino)
			return true;
	return false;
}

void
log_setup(enum log_target t, int max_priority)
{
	if (journal_fd >= 0) {
		close(journal_fd);
		journal_fd = -1;
	}
	max_prio = max_priority;
	target = LOG_TARGET_NONE;
	switch (t) {
	case LOG_TARGET_JOURNAL:
		journal_fd = journal_connect();
		if (journal_fd >= 0)
			target = LOG_TARGET_JOURNAL;
		break;
	case LOG_TARGET_STDERR:
		if (!stderr_is_connection())
			target = LOG_TARGET_STDERR;
		break;
	default:
		break;
	}
}

enum log_target
log_current_target(void)
{
	return target;
}

void
log_set_max_priority(int max_priority)
{
	max_prio = max_priority;
}

bool
log_enabled(int priority)
{
	return priority <= max_prio && target != LOG_TARGET_NONE;
}

void
log_set_prefix(const char *p)
{
	snprintf(prefix, sizeof(prefix), "%s", p ? p : "");
}

void
log_set_connection(const char *id)
{
	snprintf(connection, sizeof(connection), "%s", id ? id : "");
}

/* Control characters would split a line on stderr; show them instead. */
static void
sanitize(char *line)
{
	for (; *line; line++)
		if ((unsigned char)*line < 0x20 || (unsigned char)*line >= 0x7f)
			*line = '?';
}

static void
emit(int priority, int err, const char *msg)
{
	char buf[LOG_LINE_MAX + 512];
	char pri[4], errstr[16];
	size_t off = 0;

	if (target == LOG_TARGET_STDERR) {
		int n = snprintf(buf, sizeof(buf), "sshand[%ld]: %s%s%s\n",
		    (long)getpid(), prefix, prefix[0] ? " " : "", msg);
		ssize_t w;

		if (n < 0)
			return;
		if ((size_t)n >= sizeof(buf)) {
			n = sizeof(buf) - 1;
			buf[n - 1] = '\n';
		}
		do
			w = write(STDERR_FILENO, buf, (size_t)n);
		while (w < 0 && errno == EINTR);
		return;
	}
	if (target != LOG_TARGET_JOURNAL)
		return;
	snprintf(pri, sizeof(pri), "%d", priority & 7);
	if (journal_field(buf, sizeof(buf), &off, "PRIORITY", pri, strlen(pri)) < 0 ||
	    journal_field(buf, sizeof(buf), &off, "SYSLOG_IDENTIFIER", "sshand", 6) < 0)
		return;
	if (connection[0] && journal_field(buf, sizeof(buf), &off,
	    "SSHAND_CONNECTION", connection, strlen(connection)) < 0)
		return;
	if (err > 0) {
		snprintf(errstr, sizeof(errstr), "%d", err);
		if (journal_field(buf, sizeof(buf), &off, "ERRNO", errstr,
		    strlen(errstr)) < 0)
			return;
	}
	if (prefix[0]) {
		char line[LOG_LINE_MAX];
		int n = snprintf(line, sizeof(line), "%s %s", prefix, msg);

		if (n < 0)
			return;
		if (journal_field(buf, sizeof(buf), &off, "MESSAGE", line,
		    strnlen(line, sizeof(line))) < 0)
			return;
	} else if (journal_field(buf, sizeof(buf), &off, "MESSAGE", msg,
	    strlen(msg)) < 0)
		return;
	/* Best effort: a lost log line must never stop the connection. */
	(void)send(journal_fd, buf, off, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void vlog(int priority, int err, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void
vlog(int priority, int err, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX];
	int saved = errno;

	if (target == LOG_TARGET_NONE || (priority & 7) > max_prio)
		return;
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	if (err > 0) {
		size_t n = strlen(msg);

		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(err));
	}
	sanitize(msg);
	emit(priority, err, msg);
	errno = saved;
}

void
log_msg(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(priority, 0, fmt, ap);
	va_end(ap);
}

int
log_errno(int priority, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(priority, err < 0 ? -err : err, fmt, ap);
	va_end(ap);
	return err < 0 ? err : -err;
}

uint64_t
now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t cpu_carried;

uint64_t
process_cpu_usec(void)
{
	struct timespec cpu;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
	return cpu_carried + (uint64_t)cpu.tv_sec * 1000000 + (uint64_t)cpu.tv_nsec / 1000;
}

void
phase_cpu_carry(uint64_t usec)
{
	cpu_carried = usec;
}

/* "usec": wall time since since_usec; "cpu": user+sys time this process
 * has used so far (a forked child starts from 0, or from what it
 * carries). */
void
phase(const char *name, uint64_t since_usec)
{
	if (!log_enabled(LOG_DEBUG))
		return;
	log_debug("phase %s usec %llu cpu %llu", name,
	    (unsigned long long)(now_usec() - since_usec),
	    (unsigned long long)process_cpu_usec());
}
