/* sshandctl audit: records from the journal, through libsystemd's
 * sd_journal (no journalctl, no JSON to parse).  Each entry becomes a
 * struct audit_rec with the fields journalctl -o json would show:
 * __CURSOR, __REALTIME_TIMESTAMP, __MONOTONIC_TIMESTAMP, _BOOT_ID, then
 * the entry's own, in order. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-journal.h>

#include "policy/ctl/audit.h"

struct arena {
	char *mem;
	size_t used;
};

/* Appends name and value (vlen bytes, maybe with NULs) as one field,
 * both NUL-terminated; -E2BIG past the record's bounds. */
static int
add_field(struct audit_rec *r, struct arena *a, const char *name,
    size_t nlen, const char *value, size_t vlen)
{
	struct audit_field *f;

	if (r->n >= AUDIT_MAX_FIELDS || nlen > AUDIT_MAX_RECORD ||
	    vlen > AUDIT_MAX_RECORD || nlen + vlen + 2 > AUDIT_MAX_RECORD -
	    a->used)
		return -E2BIG;
	f = &r->f[r->n++];
	f->name = a->mem + a->used;
	memcpy(a->mem + a->used, name, nlen);
	a->used += nlen;
	a->mem[a->used++] = '\0';
	f->value = a->mem + a->used;
	f->len = vlen;
	memcpy(a->mem + a->used, value, vlen);
	a->used += vlen;
	a->mem[a->used++] = '\0';
	return 0;
}

static int
add_string(struct audit_rec *r, struct arena *a, const char *name,
    const char *value)
{
	return add_field(r, a, name, strlen(name), value, strlen(value));
}

/* The current entry as a record.  -EBADMSG and -EADDRNOTAVAIL (a damaged
 * or rotated-away entry) and -E2BIG (too big to show) are the entry's
 * fault: the caller skips it. */
static int
read_entry(sd_journal *j, struct audit_rec *r, struct arena *a)
{
	char num[24], boot[SD_ID128_STRING_MAX], *cursor = NULL;
	uint64_t realtime, monotonic;
	sd_id128_t boot_id;
	const void *data;
	size_t len;
	int ret;

	r->n = 0;
	a->used = 0;
	if ((ret = sd_journal_get_cursor(j, &cursor)) < 0)
		return ret;
	ret = add_string(r, a, "__CURSOR", cursor);
	free(cursor);
	if (ret < 0)
		return ret;
	if ((ret = sd_journal_get_realtime_usec(j, &realtime)) < 0)
		return ret;
	snprintf(num, sizeof(num), "%" PRIu64, realtime);
	if ((ret = add_string(r, a, "__REALTIME_TIMESTAMP", num)) < 0)
		return ret;
	if ((ret = sd_journal_get_monotonic_usec(j, &monotonic,
	    &boot_id)) < 0)
		return ret;
	snprintf(num, sizeof(num), "%" PRIu64, monotonic);
	if ((ret = add_string(r, a, "__MONOTONIC_TIMESTAMP", num)) < 0 ||
	    (ret = add_string(r, a, "_BOOT_ID", sd_id128_to_string(boot_id,
	    boot))) < 0)
		return ret;

	sd_journal_restart_data(j);
	while ((ret = sd_journal_enumerate_data(j, &data, &len)) > 0) {
		const char *d = data, *eq = memchr(d, '=', len);

		if (eq == NULL || eq == d)
			return -EBADMSG;
		if ((size_t)(eq - d) == 8 && memcmp(d, "_BOOT_ID", 8) == 0)
			continue;	/* given above, as journalctl does */
		if ((ret = add_field(r, a, d, (size_t)(eq - d), eq + 1,
		    len - (size_t)(eq - d) - 1)) < 0)
			return ret;
	}
	return ret;
}

/* Only sshand's entries, and as few as the filter allows: the journal's
 * index does the matching (fields ANDed) and the seek. */
static int
set_matches(sd_journal *j, const struct audit_filter *flt)
{
	char m[1100];
	int r;

	if ((r = sd_journal_add_match(j, "SYSLOG_IDENTIFIER=sshand", 0)) < 0)
		return r;
	if (flt->connection != NULL && strlen(flt->connection) == 32) {
		snprintf(m, sizeof(m), "SSHAND_CONNECTION=%s", flt->connection);
		if ((r = sd_journal_add_match(j, m, 0)) < 0)
			return r;
	}
	if (flt->user != NULL) {
		if ((size_t)snprintf(m, sizeof(m), "SSHAND_USER=%s", flt->user) >=
		    sizeof(m))
			return -E2BIG;
		if ((r = sd_journal_add_match(j, m, 0)) < 0)
			return r;
	}
	return flt->since_usec >= 0 ?
	    sd_journal_seek_realtime_usec(j, (uint64_t)flt->since_usec) :
	    sd_journal_seek_head(j);
}

int
audit_from_journal(struct audit_out *out, const struct audit_filter *flt)
{
	struct arena a = { .used = 0 };
	struct audit_rec *rec = NULL;
	sd_journal *j = NULL;
	unsigned bad = 0;
	int r, rc = 1;

	r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
	if (r < 0) {
		fprintf(stderr, "sshandctl audit: cannot open the journal: %s\n",
		    strerror(-r));
		return 1;
	}
	if (sd_journal_has_runtime_files(j) <= 0 &&
	    sd_journal_has_persistent_files(j) <= 0) {
		fprintf(stderr, "sshandctl audit: cannot open the journal: no "
		    "journal files readable here (is systemd-journald "
		    "running? may this user read the journal?); an AuditLog "
		    "file is read with --file\n");
		goto out;
	}
	if ((rec = malloc(sizeof(*rec))) == NULL ||
	    (a.mem = malloc(AUDIT_MAX_RECORD)) == NULL) {
		fprintf(stderr, "sshandctl audit: out of memory\n");
		goto out;
	}
	/* Whole fields, as journalctl --all: nothing cut at 64 KiB. */
	if ((r = sd_journal_set_data_threshold(j, 0)) < 0 ||
	    (r = set_matches(j, flt)) < 0) {
		fprintf(stderr, "sshandctl audit: journal: %s\n", strerror(-r));
		goto out;
	}
	while ((r = sd_journal_next(j)) > 0) {
		r = read_entry(j, rec, &a);
		if (r == -EBADMSG || r == -EADDRNOTAVAIL || r == -E2BIG) {
			bad++;
			continue;
		}
		if (r < 0)
			break;
		audit_show(out, flt, rec, NULL);
	}
	if (r < 0) {
		fprintf(stderr, "sshandctl audit: reading the journal: %s\n",
		    strerror(-r));
		goto out;
	}
	rc = 0;
out:
	if (bad > 0)
		fprintf(stderr, "sshandctl audit: skipped %u unreadable "
		    "record(s)\n", bad);
	free(a.mem);
	free(rec);
	sd_journal_close(j);
	return rc;
}
