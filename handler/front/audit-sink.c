/* Where audit records go (see audit.h): the journal, through its native
 * protocol on a socket connected when the trail is opened, so that records
 * still reach it whatever the writing process's ids are by then; a
 * JSON-lines file, one O_APPEND write per record; or syslog. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "handler/front/audit.h"
#include "handler/front/audit-record.h"
#include "handler/front/journal.h"
#include "policy/util/json.h"

enum sink { SINK_NONE, SINK_JOURNAL, SINK_SYSLOG, SINK_FILE };

static enum sink sink = SINK_NONE;
static int sink_fd = -1;
/* One record at a time, by a single-threaded process: static, not a
 * 64 KiB stack frame. */
static char out[AUDIT_RECORD_SIZE];

bool
audit_sink_open(void)
{
	return sink != SINK_NONE;
}

/* A regular file (or one to be created) is read as well as appended
 * to, when it allows it: see torn_before().  Only root processes (the
 * guardian and the monitor) keep the trail open, and the file is
 * theirs.  Anything else (a FIFO, a device) is opened for writing only,
 * as before: opened for reading too, a FIFO would never block its
 * writer nor tell it that no one reads. */
static int
open_file(const char *path)
{
	const int flags = O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY;
	struct stat st;
	int fd = -1;

	if (stat(path, &st) < 0 || S_ISREG(st.st_mode))
		fd = open(path, O_RDWR | flags, 0600);
	if (fd < 0)
		fd = open(path, O_WRONLY | flags, 0600);
	return fd < 0 ? -errno : fd;
}

void
audit_trail_close(void)
{
	if (sink_fd >= 0)
		close(sink_fd);
	if (sink == SINK_SYSLOG)
		closelog();
	sink_fd = -1;
	sink = SINK_NONE;
}

int
audit_trail_open(const char *target, const char *fallback_path)
{
	int fd;

	audit_trail_close();
	if (target == NULL || strcmp(target, "journal") == 0) {
		fd = journal_connect();
		if (fd >= 0) {
			sink = SINK_JOURNAL;
			sink_fd = fd;
			return 0;
		}
		if (fallback_path != NULL)
			return audit_trail_open(fallback_path, NULL);
		target = "syslog";
	}
	if (strcmp(target, "syslog") == 0) {
		/* LOG_NDELAY: connect /dev/log now, before any chroot. */
		openlog("sshand", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
		sink = SINK_SYSLOG;
		return 0;
	}
	if (target[0] != '/')
		return -EINVAL;
	fd = open_file(target);
	if (fd < 0)
		return fd;
	sink = SINK_FILE;
	sink_fd = fd;
	return 0;
}

static int
write_journal(const struct audit_record *r)
{
	size_t off = 0, i;
	int err, tries;

	for (i = 0; i < r->n; i++) {
		err = journal_field(out, sizeof(out), &off,
		    r->f[i].name, r->f[i].value, strlen(r->f[i].value));
		if (err < 0)
			return err;
	}
	for (tries = 0; tries < 2; tries++) {
		int fd;

		if (send(sink_fd, out, off, MSG_NOSIGNAL) >= 0)
			return 0;
		err = -errno;
		if (err != -ECONNREFUSED && err != -ENOTCONN)
			return err;
		/* journald restarted: reconnect (works until we chroot). */
		fd = journal_connect();
		if (fd < 0)
			return err;
		close(sink_fd);
		sink_fd = fd;
	}
	return err;
}

static int
append(char *buf, size_t cap, size_t *off, const char *lit)
{
	size_t n = strlen(lit);

	if (cap - *off < n)
		return -ENOBUFS;
	memcpy(buf + *off, lit, n);
	*off += n;
	return 0;
}

/* Does the file end in the middle of a line?  A write cut short (the
 * file system full, a file size limit) leaves part of a record without
 * its newline, whichever process wrote it; the next record appended
 * would join it, and a reader would lose both.  A record that starts
 * with a newline then ends the torn one instead, which readers skip as
 * one bad line.  (Two writers that both see it leave an empty line
 * too, which readers skip.)  Not known, without read access: false. */
static bool
torn_before(void)
{
	struct stat st;
	char last;

	if (fstat(sink_fd, &st) < 0 || st.st_size <= 0)
		return false;
	return pread(sink_fd, &last, 1, st.st_size - 1) == 1 && last != '\n';
}

static int
write_file(const struct audit_record *r)
{
	struct timespec ts;
	char usec[24];
	size_t off = 0, i;
	ssize_t w;

	if (torn_before())
		out[off++] = '\n';
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(usec, sizeof(usec), "%" PRId64,
	    (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	if (append(out, sizeof(out), &off, "{\"__REALTIME_TIMESTAMP\":\"") < 0 ||
	    append(out, sizeof(out), &off, usec) < 0 ||
	    append(out, sizeof(out), &off, "\"") < 0)
		return -ENOBUFS;
	for (i = 0; i < r->n; i++) {
		if (append(out, sizeof(out), &off, ",") < 0 ||
		    json_append_string(out, sizeof(out), &off, r->f[i].name) < 0 ||
		    append(out, sizeof(out), &off, ":") < 0 ||
		    json_append_string(out, sizeof(out), &off, r->f[i].value) < 0)
			return -ENOBUFS;
	}
	if (append(out, sizeof(out), &off, "}\n") < 0)
		return -ENOBUFS;
	/* One write per record: O_APPEND keeps concurrent lines whole. */
	do
		w = write(sink_fd, out, off);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -errno;
	return (size_t)w == off ? 0 : -EIO;
}

static int
write_syslog(const struct audit_record *r, int pri)
{
	size_t off = 0, i;

	for (i = 0; i < r->n; i++) {
		const char *v;

		if (strcmp(r->f[i].name, "PRIORITY") == 0 ||
		    strcmp(r->f[i].name, "SYSLOG_IDENTIFIER") == 0 ||
		    strcmp(r->f[i].name, "SYSLOG_FACILITY") == 0)
			continue;
		if ((off > 0 && append(out, sizeof(out), &off, " ") < 0) ||
		    append(out, sizeof(out), &off, r->f[i].name) < 0 ||
		    append(out, sizeof(out), &off, "=\"") < 0)
			return -ENOBUFS;
		/* Values are escaped already; a quote must not end one early. */
		for (v = r->f[i].value; *v; v++) {
			if (sizeof(out) - off < 8)
				return -ENOBUFS;
			if (*v == '"') {
				memcpy(out + off, "\\x22", 4);
				off += 4;
			} else
				out[off++] = *v;
		}
		if (append(out, sizeof(out), &off, "\"") < 0)
			return -ENOBUFS;
	}
	out[off < sizeof(out) ? off : sizeof(out) - 1] = '\0';
	syslog(LOG_AUTHPRIV | pri, "%s", out);
	return 0;
}

/* A journald that has not taken a datagram in 100 ms is stalled: the
 * record is queued and will be stored, perhaps without its unit. */
#define DRAIN_MS	100

void
audit_sink_drain(void)
{
	if (sink == SINK_JOURNAL)
		journal_drain(sink_fd, DRAIN_MS);
}

int
audit_sink_write(const struct audit_record *r, int priority)
{
	switch (sink) {
	case SINK_JOURNAL:
		return write_journal(r);
	case SINK_FILE:
		return write_file(r);
	case SINK_SYSLOG:
		return write_syslog(r, priority);
	default:
		return -ENOTCONN;
	}
}
