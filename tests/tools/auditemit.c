/*
 * Test driver for handler/audit.c: emits audit records from the command line.
 *
 *	auditemit [-t TARGET] [-F FALLBACK] [-s JOURNAL_SOCKET] ITEM...
 *
 * ITEM is either name=value, setting a field, or a bare event name
 * (connect, auth-attempt, ...), which writes a record with the fields set so
 * far.  Per-event fields are cleared after each record; the connection's
 * (connection, remote_addr, remote_port, local_addr, local_port, user,
 * client_version) persist.  Values are taken byte for byte, so tests can pass
 * hostile ones.  Prints the connection id on stdout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handler/front/audit.h"
#include "handler/front/journal.h"

static int
num(const char *v, int64_t *ret)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0')
		return -EINVAL;
	*ret = n;
	return 0;
}

static int
set_field(struct audit_conn *c, struct audit_fields *f, const char *name,
    const char *v)
{
	int64_t n = 0;

	if (strcmp(name, "connection") == 0) {
		snprintf(c->id, sizeof(c->id), "%s", v);
		return 0;
	}
	if (strcmp(name, "remote_addr") == 0) {
		snprintf(c->remote_addr, sizeof(c->remote_addr), "%s", v);
		return 0;
	}
	if (strcmp(name, "local_addr") == 0) {
		snprintf(c->local_addr, sizeof(c->local_addr), "%s", v);
		return 0;
	}
	if (strcmp(name, "user") == 0) {
		audit_conn_set_user(c, v, strlen(v));
		return 0;
	}
	if (strcmp(name, "client_version") == 0) {
		audit_conn_set_version(c, v, strlen(v));
		return 0;
	}
	if (strcmp(name, "auth_method") == 0)
		f->auth_method = v;
	else if (strcmp(name, "auth_result") == 0)
		f->auth_result = v;
	else if (strcmp(name, "reason") == 0)
		f->reason = v;
	else if (strcmp(name, "key_fingerprint") == 0)
		f->key_fingerprint = v;
	else if (strcmp(name, "session_type") == 0)
		f->session_type = v;
	else if (strcmp(name, "command") == 0)
		f->command = v;
	else {
		if (num(v, &n) < 0)
			return -EINVAL;
		if (strcmp(name, "remote_port") == 0)
			c->remote_port = (unsigned)n;
		else if (strcmp(name, "local_port") == 0)
			c->local_port = (unsigned)n;
		else if (strcmp(name, "exit_status") == 0)
			f->exit_status = (int)n;
		else if (strcmp(name, "exit_signal") == 0)
			f->exit_signal = (int)n;
		else if (strcmp(name, "bytes_in") == 0)
			f->bytes_in = n;
		else if (strcmp(name, "bytes_out") == 0)
			f->bytes_out = n;
		else if (strcmp(name, "duration_usec") == 0)
			f->duration_usec = n;
		else if (strcmp(name, "ban_until") == 0)
			f->ban_until = n;
		else
			return -EINVAL;
	}
	return 0;
}

static int
event_by_name(const char *name)
{
	int i;

	for (i = 0; i < _AUDIT_EVENT_MAX; i++)
		if (strcmp(audit_event_name(i), name) == 0)
			return i;
	return -1;
}

int
main(int argc, char **argv)
{
	const char *target = "journal", *fallback = NULL;
	struct audit_fields f = AUDIT_FIELDS_INIT;
	struct audit_conn c = { 0 };
	int opt, i, r;

	while ((opt = getopt(argc, argv, "t:F:s:")) != -1) {
		switch (opt) {
		case 't':
			target = optarg;
			break;
		case 'F':
			fallback = optarg;
			break;
		case 's':
			journal_set_path(optarg);
			break;
		default:
			fprintf(stderr, "usage: auditemit [-t target] [-F fallback] "
			    "[-s journal-socket] item...\n");
			return 2;
		}
	}
	if ((r = audit_conn_init(&c)) < 0) {
		fprintf(stderr, "auditemit: connection id: %s\n", strerror(-r));
		return 1;
	}
	if ((r = audit_trail_open(target, fallback)) < 0) {
		fprintf(stderr, "auditemit: open %s: %s\n", target, strerror(-r));
		return 1;
	}
	for (i = optind; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		int ev;

		if (eq != NULL) {
			*eq = '\0';
			if (set_field(&c, &f, argv[i], eq + 1) < 0) {
				fprintf(stderr, "auditemit: bad field %s\n", argv[i]);
				return 2;
			}
			continue;
		}
		if ((ev = event_by_name(argv[i])) < 0) {
			fprintf(stderr, "auditemit: unknown event %s\n", argv[i]);
			return 2;
		}
		if ((r = audit_emit(ev, &c, &f)) < 0) {
			fprintf(stderr, "auditemit: emit %s: %s\n", argv[i],
			    strerror(-r));
			return 1;
		}
		f = (struct audit_fields)AUDIT_FIELDS_INIT;
	}
	audit_trail_close();
	printf("%s\n", c.id);
	return 0;
}
