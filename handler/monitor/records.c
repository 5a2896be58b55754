/* utmp, wtmp, lastlog and btmp records (records.h says which and when).
 * The entries are built as OpenSSH's loginrec.c builds them, so that
 * sshand's and sshd's sessions look alike to who, w, last and lastb. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <paths.h>
#include <string.h>
#include <unistd.h>
#include <utmp.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "handler/monitor/records.h"

/* Not in glibc's paths.h; sshd's configure says this for Linux. */
#define PATH_BTMP "/var/log/btmp"

static struct records_files files = {
	.utmp = _PATH_UTMP, .wtmp = _PATH_WTMP, .btmp = PATH_BTMP,
	.lastlog = _PATH_LASTLOG,
};

void
records_use_files(const struct records_files *f)
{
	files = *f;
}

/* Fixed-size fields, NUL-padded, not NUL-terminated when full (as
 * strncpy() fills them). */
static void
put_field(char *dst, size_t size, const char *src)
{
	memset(dst, 0, size);
	if (src != NULL)
		memcpy(dst, src, strnlen(src, size));
}

/* "pts/3" for "/dev/pts/3". */
static const char *
line_of(const char *tty)
{
	return strncmp(tty, "/dev/", 5) == 0 ? tty + 5 : tty;
}

/* The line's last four characters ("ts/3"), as sshd's ut_id: the entry
 * pututline() replaces is the one of the same id, so sshd's and ours of a
 * line are one slot. */
static void
put_id(char *dst, size_t size, const char *line)
{
	size_t n = strlen(line);

	memset(dst, 0, size);
	if (strcmp(line, "ssh:notty") == 0)
		return;
	memcpy(dst, line + (n > size ? n - size : 0), n > size ? size : n);
}

/* An IPv4 address (also v4-mapped) in the first word, an IPv6 address in
 * all four, as sshd fills ut_addr_v6. */
static void
put_addr(struct utmp *ut, const struct sockaddr *sa)
{
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		memcpy(&ut->ut_addr_v6[0], &in->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			memcpy(&ut->ut_addr_v6[0], &in6->sin6_addr.s6_addr[12], 4);
		else
			memcpy(ut->ut_addr_v6, &in6->sin6_addr, 16);
	}
}

/* A login, logout or failure entry; a logout has no user or host. */
static void
build(struct utmp *ut, short type, const char *line, pid_t pid, const char *user,
    const char *host, const struct sockaddr *addr)
{
	struct timeval tv;

	memset(ut, 0, sizeof(*ut));
	ut->ut_type = type;
	ut->ut_pid = pid;
	put_field(ut->ut_line, sizeof(ut->ut_line), line);
	put_id(ut->ut_id, sizeof(ut->ut_id), line);
	gettimeofday(&tv, NULL);
	ut->ut_tv.tv_sec = (int32_t)tv.tv_sec;
	ut->ut_tv.tv_usec = (int32_t)tv.tv_usec;
	if (type == DEAD_PROCESS)
		return;
	put_field(ut->ut_user, sizeof(ut->ut_user), user);
	put_field(ut->ut_host, sizeof(ut->ut_host), host);
	put_addr(ut, addr);
}

/* glibc's own: it locks the file and finds the entry of the same id. */
static int
write_utmp(const struct utmp *ut)
{
	int r = 0;

	if (access(files.utmp, F_OK) < 0)
		return -errno;
	if (utmpname(files.utmp) < 0)
		return -ENOMEM;
	setutent();
	errno = 0;
	if (pututline(ut) == NULL)
		r = errno ? -errno : -EIO;
	endutent();
	return r;
}

/* updwtmp() appends under the file's lock, and creates nothing. */
static int
write_wtmp(const struct utmp *ut)
{
	if (access(files.wtmp, F_OK) < 0)
		return -errno;
	updwtmp(files.wtmp, ut);
	return 0;
}

/* A regular file, or nothing. */
static int
open_record(const char *path, int flags, struct stat *st)
{
	int fd = open(path, flags | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

static int
write_lastlog(uid_t uid, const char *line, const char *host)
{
	struct lastlog ll;
	struct stat st;
	ssize_t n;
	int fd = open_record(files.lastlog, O_RDWR, &st);

	if (fd < 0)
		return fd;
	memset(&ll, 0, sizeof(ll));
	ll.ll_time = (int32_t)time(NULL);
	put_field(ll.ll_line, sizeof(ll.ll_line), line);
	put_field(ll.ll_host, sizeof(ll.ll_host), host);
	n = pwrite(fd, &ll, sizeof(ll), (off_t)uid * (off_t)sizeof(ll));
	close(fd);
	if (n < 0)
		return -errno;
	return n == sizeof(ll) ? 0 : -EIO;
}

static int
first_error(int a, int b)
{
	return a < 0 ? a : b;
}

int
records_login(const struct records_login *r)
{
	const char *line = line_of(r->tty);
	struct utmp ut;
	int e;

	build(&ut, USER_PROCESS, line, r->pid, r->user, r->host, r->addr);
	e = write_utmp(&ut);
	e = first_error(e, write_wtmp(&ut));
	return first_error(e, write_lastlog(r->uid, line, r->host));
}

int
records_logout(const char *tty, pid_t pid)
{
	struct utmp ut;
	int e;

	build(&ut, DEAD_PROCESS, line_of(tty), pid, NULL, NULL, NULL);
	e = write_utmp(&ut);
	return first_error(e, write_wtmp(&ut));
}

int
records_failed(const char *user, const char *host, const struct sockaddr *addr,
    pid_t pid)
{
	struct utmp ut;
	struct stat st;
	ssize_t n;
	int fd = open_record(files.btmp, O_WRONLY | O_APPEND, &st);

	if (fd < 0)
		return fd;
	if ((st.st_mode & (S_IXGRP | S_IRWXO)) != 0 || st.st_uid != 0) {
		close(fd);
		return -EPERM;
	}
	build(&ut, LOGIN_PROCESS, "ssh:notty", pid, user, host, addr);
	n = write(fd, &ut, sizeof(ut));
	close(fd);
	if (n < 0)
		return -errno;
	return n == sizeof(ut) ? 0 : -EIO;
}

int
records_last_login(uid_t uid, time_t *ret_time, char *host, size_t len)
{
	struct lastlog ll;
	struct stat st;
	ssize_t n;
	int fd = open_record(files.lastlog, O_RDONLY, &st);

	*ret_time = 0;
	if (len > 0)
		host[0] = '\0';
	if (fd < 0)
		return fd;
	n = pread(fd, &ll, sizeof(ll), (off_t)uid * (off_t)sizeof(ll));
	close(fd);
	if (n < 0)
		return -errno;
	/* Past the end: never logged in. */
	if (n != sizeof(ll))
		return 0;
	*ret_time = (time_t)ll.ll_time;
	if (len > 0) {
		size_t hl = strnlen(ll.ll_host, sizeof(ll.ll_host));

		if (hl >= len)
			hl = len - 1;
		memcpy(host, ll.ll_host, hl);
		host[hl] = '\0';
	}
	return 0;
}
