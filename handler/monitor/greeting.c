/* The greeting of a login (greeting.h), built as sshd's session.c and
 * sshlogin.c build it: loginmsg (PAM's messages, the last login), then
 * the motd. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <utmp.h>
#include <sys/fsuid.h>
#include <sys/stat.h>

#include "handler/front/log.h"
#include "handler/monitor/greeting.h"
#include "handler/monitor/records.h"

int
greeting_pam_conv(int n, const struct pam_message **msg,
    struct pam_response **resp, void *ud)
{
	struct pam_messages *pm = ud;
	struct pam_response *r;

	*resp = NULL;
	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	for (int i = 0; i < n; i++)
		if (msg[i]->msg_style != PAM_ERROR_MSG && msg[i]->msg_style != PAM_TEXT_INFO)
			return PAM_CONV_ERR;
	r = calloc((size_t)n, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		const char *s = msg[i]->msg ? msg[i]->msg : "";
		size_t len = strlen(s);

		/* Whole lines or nothing. */
		if (pm->len + len + 1 > sizeof(pm->buf)) {
			log_warning("PAM message of %zu bytes dropped: the login's "
			    "messages are limited to %zu", len, sizeof(pm->buf));
			continue;
		}
		memcpy(pm->buf + pm->len, s, len);
		pm->buf[pm->len + len] = '\n';
		pm->len += len + 1;
	}
	*resp = r;
	return PAM_SUCCESS;
}

struct text {
	char *buf;
	size_t len, cap;
	int err;
};

static void
add(struct text *t, const char *s, size_t len)
{
	if (t->err < 0 || len == 0)
		return;
	if (t->len + len + 1 > t->cap) {
		size_t cap = (t->len + len + 1) * 2;
		char *nb = realloc(t->buf, cap);

		if (nb == NULL) {
			t->err = -ENOMEM;
			return;
		}
		t->buf = nb;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, s, len);
	t->len += len;
	t->buf[t->len] = '\0';
}

/* ~/.hushlogin, looked for with the user's file system ids, as the user
 * would: the monitor has no right to search homes on its own
 * (sshand@.service), and a home the user cannot search hides it from
 * both. */
static bool
hushed(const struct user_info *u)
{
	char path[PATH_MAX];
	struct stat st;
	uid_t old_uid;
	gid_t old_gid;
	bool found;

	if ((size_t)snprintf(path, sizeof(path), "%s/.hushlogin", u->dir) >= sizeof(path))
		return false;
	old_uid = (uid_t)setfsuid(u->uid);
	old_gid = (gid_t)setfsgid(u->gid);
	found = stat(path, &st) == 0;
	setfsgid(old_gid);
	setfsuid(old_uid);
	return found;
}

/* sshd's words: "Last login: Tue Dec  2 14:52:00 2025 from 192.0.2.7",
 * local time, no "from" without a host; nothing before the first login. */
static void
add_last_login(struct text *t, uid_t uid)
{
	char host[UT_HOSTSIZE + 1], when[32], line[sizeof(host) + 64];
	time_t last;
	int r = records_last_login(uid, &last, host, sizeof(host));

	if (r < 0 && r != -ENOENT)
		log_errno(LOG_WARNING, r, "cannot read the last login");
	if (r < 0 || last == 0 || ctime_r(&last, when) == NULL)
		return;
	when[strcspn(when, "\n")] = '\0';
	if (host[0] == '\0')
		snprintf(line, sizeof(line), "Last login: %s\r\n", when);
	else
		snprintf(line, sizeof(line), "Last login: %s from %s\r\n", when, host);
	add(t, line, strlen(line));
}

/* The file as it is, up to GREETING_MOTD_MAX bytes; a special file (a
 * FIFO would block the monitor) or a missing one shows nothing. */
static void
add_motd(struct text *t, const char *path)
{
	char buf[GREETING_MOTD_MAX];
	struct stat st;
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		while (n < sizeof(buf)) {
			ssize_t k = read(fd, buf + n, sizeof(buf) - n);

			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break;
			n += (size_t)k;
		}
	close(fd);
	add(t, buf, n);
}

int
greeting_build(const struct greeting_request *r, char **ret, size_t *ret_len)
{
	struct text t = { 0 };
	bool first = r->pam != NULL && !r->pam->taken;

	*ret = NULL;
	*ret_len = 0;
	/* The first session takes PAM's messages, shown or not, as sshd
	 * clears its loginmsg after each session it starts. */
	if (r->pam != NULL)
		r->pam->taken = true;
	if (r->command != NULL || hushed(r->user))
		return 0;
	if (first)
		add(&t, r->pam->buf, r->pam->len);
	if (r->pty && r->print_lastlog)
		add_last_login(&t, r->user->uid);
	if (r->pty && r->print_motd)
		add_motd(&t, r->motd);
	if (t.err < 0) {
		free(t.buf);
		return t.err;
	}
	*ret = t.buf;
	*ret_len = t.len;
	return 0;
}

void
greeting_write(int fd, const char *buf, size_t len)
{
	int flags = fcntl(fd, F_GETFL);
	size_t done = 0;

	if (len == 0 || flags < 0)
		return;
	/* Only we have this file open yet: the flag is ours to set and
	 * restore. */
	if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return;
	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warning("login message cut after %zu of %zu bytes", done, len);
			break;
		}
		done += (size_t)n;
	}
	fcntl(fd, F_SETFL, flags);
}
