/* File attributes as version 3 carries them, and the "ls -l" line that
 * READDIR gives with each name. */
#define _GNU_SOURCE
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "handler/sftp/sftp-internal.h"

void
sftp_get_attrs(struct sftp_in *in, struct sftp_attrs *a)
{
	memset(a, 0, sizeof(*a));
	a->flags = sftp_get_u32(in);
	if (a->flags & FXA_SIZE)
		a->size = sftp_get_u64(in);
	if (a->flags & FXA_UIDGID) {
		a->uid = sftp_get_u32(in);
		a->gid = sftp_get_u32(in);
	}
	if (a->flags & FXA_PERMISSIONS)
		a->perm = sftp_get_u32(in);
	if (a->flags & FXA_ACMODTIME) {
		a->atime = sftp_get_u32(in);
		a->mtime = sftp_get_u32(in);
	}
	/* Extended pairs mean nothing to us: skipped, but bounded, so that
	 * a count of four billion costs no more than the message holds. */
	if (a->flags & FXA_EXTENDED) {
		uint32_t n = sftp_get_u32(in), len;

		if (n > SFTP_MAX_EXTENDED)
			in->bad = true;
		for (uint32_t i = 0; i < n && !in->bad; i++) {
			(void)sftp_get_string(in, &len);
			(void)sftp_get_string(in, &len);
		}
	}
}

void
sftp_put_attrs(struct sftp_out *o, const struct sftp_attrs *a)
{
	uint32_t flags = a->flags & ~FXA_EXTENDED;

	sftp_put_u32(o, flags);
	if (flags & FXA_SIZE)
		sftp_put_u64(o, a->size);
	if (flags & FXA_UIDGID) {
		sftp_put_u32(o, a->uid);
		sftp_put_u32(o, a->gid);
	}
	if (flags & FXA_PERMISSIONS)
		sftp_put_u32(o, a->perm);
	if (flags & FXA_ACMODTIME) {
		sftp_put_u32(o, a->atime);
		sftp_put_u32(o, a->mtime);
	}
}

void
sftp_attrs_from_stat(const struct stat *st, struct sftp_attrs *a)
{
	memset(a, 0, sizeof(*a));
	a->flags = FXA_SIZE | FXA_UIDGID | FXA_PERMISSIONS | FXA_ACMODTIME;
	a->size = (uint64_t)st->st_size;
	a->uid = st->st_uid;
	a->gid = st->st_gid;
	a->perm = st->st_mode;
	a->atime = (uint32_t)st->st_atime;
	a->mtime = (uint32_t)st->st_mtime;
}

static void
mode_string(mode_t m, char p[11])
{
	const char *rwx = "rwxrwxrwx";

	p[0] = S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISCHR(m) ? 'c' :
	    S_ISBLK(m) ? 'b' : S_ISFIFO(m) ? 'p' : S_ISSOCK(m) ? 's' : '-';
	for (int i = 0; i < 9; i++)
		p[1 + i] = (m & (0400u >> i)) ? rwx[i] : '-';
	if (m & S_ISUID)
		p[3] = (m & S_IXUSR) ? 's' : 'S';
	if (m & S_ISGID)
		p[6] = (m & S_IXGRP) ? 's' : 'S';
	if (m & S_ISVTX)
		p[9] = (m & S_IXOTH) ? 't' : 'T';
	p[10] = '\0';
}

/* Names of the last ids seen: a directory's entries mostly share one
 * owner.  In a chroot without /etc/passwd the lookups fail and the
 * numbers are shown, as ls does. */
static void
id_name(bool group, unsigned id, char *buf, size_t len)
{
	static struct { bool valid; unsigned id; char name[33]; } cache[2];
	const char *n = NULL;

	if (cache[group].valid && cache[group].id == id) {
		snprintf(buf, len, "%s", cache[group].name);
		return;
	}
	if (group) {
		struct group *g = getgrgid(id);

		n = g ? g->gr_name : NULL;
	} else {
		struct passwd *pw = getpwuid(id);

		n = pw ? pw->pw_name : NULL;
	}
	if (n != NULL && strlen(n) < sizeof(cache[0].name))
		snprintf(cache[group].name, sizeof(cache[0].name), "%s", n);
	else
		snprintf(cache[group].name, sizeof(cache[0].name), "%u", id);
	cache[group].id = id;
	cache[group].valid = true;
	snprintf(buf, len, "%s", cache[group].name);
}

void
sftp_longname(const char *name, const struct stat *st, char *buf, size_t len)
{
	char mode[11], user[33], group[33], when[32];
	time_t now = time(NULL), t = st->st_mtime;
	struct tm tm;
	bool recent;

	mode_string(st->st_mode, mode);
	id_name(false, st->st_uid, user, sizeof(user));
	id_name(true, st->st_gid, group, sizeof(group));
	/* ls's rule: the year for what is six months old or in the future. */
	recent = t + 365 * 86400 / 2 > now && t <= now;
	if (localtime_r(&t, &tm) == NULL || (recent ?
	    strftime(when, sizeof(when), "%b %e %H:%M", &tm) :
	    strftime(when, sizeof(when), "%b %e  %Y", &tm)) == 0)
		snprintf(when, sizeof(when), "?");
	snprintf(buf, len, "%s %3u %-8s %-8s %8llu %s %s", mode,
	    (unsigned)st->st_nlink, user, group,
	    (unsigned long long)st->st_size, when, name);
}
