/* Internal to handler/front/audit*.c: a built record, and the sinks that
 * write it (audit-sink.c). */
#ifndef SSHAND_HANDLER_FRONT_AUDIT_RECORD_H
#define SSHAND_HANDLER_FRONT_AUDIT_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#define AUDIT_MAX_FIELDS 40
/* Largest record: escaped command 4 * 4096 + a few KiB of other fields. */
#define AUDIT_RECORD_SIZE (64 * 1024)

struct audit_record {
	size_t n;
	struct {
		const char *name;
		const char *value;	/* escaped already */
	} f[AUDIT_MAX_FIELDS];
};

/* Whether a trail is open. */
bool audit_sink_open(void);
/* Writes r to the open trail at priority.  0 or a negative errno. */
int audit_sink_write(const struct audit_record *r, int priority);
/* After a process's last record: waits (briefly) until the journal has
 * taken it, so that it is attributed to the process's unit (see
 * journal_drain()).  Nothing to do for the other trails. */
void audit_sink_drain(void);

#endif
