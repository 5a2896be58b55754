/* sshandctl audit, inside: two sources (the journal, a JSON-lines file)
 * turn each record into a struct audit_rec and hand it to one printer,
 * which applies the filter and prints a table row or JSON. */
#ifndef SSHAND_POLICY_CTL_AUDIT_H
#define SSHAND_POLICY_CTL_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUDIT_MAX_FIELDS	256
/* A record's names and values together (the sink writes at most 64 KiB
 * a record; journald's own fields come on top). */
#define AUDIT_MAX_RECORD	(1024 * 1024)

struct audit_field {
	const char *name;
	const char *value;	/* NUL-terminated; len excludes the NUL */
	size_t len;
};

struct audit_rec {
	size_t n;
	struct audit_field f[AUDIT_MAX_FIELDS];
};

struct audit_filter {
	const char *connection;	/* the id, or a prefix of it: hex digits */
	const char *user;
	int64_t since_usec;	/* -1: any time */
};

struct audit_out {
	bool json;
	bool header;		/* the table's header is out */
};

/* The first value of the field name (which may contain NUL bytes: then
 * only what precedes the first is seen), or NULL. */
const char *audit_get(const struct audit_rec *r, const char *name);

/* Prints r if it is one of sshand's audit records (SYSLOG_IDENTIFIER
 * sshand with an SSHAND_EVENT) and passes the filter.  With --json, raw
 * (the line a JSON-lines file holds) is printed as it is; without raw,
 * the fields are, as journalctl's JSON output shows them. */
void audit_show(struct audit_out *out, const struct audit_filter *flt,
    const struct audit_rec *r, const char *raw);

/* Each returns an exit status, having said what went wrong. */
int audit_from_journal(struct audit_out *out, const struct audit_filter *flt);
int audit_from_file(struct audit_out *out, const struct audit_filter *flt,
    const char *path);

#endif
