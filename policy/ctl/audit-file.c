/* sshandctl audit --file: records from the JSON-lines file sshand writes
 * when no journal runs (AuditLog), one flat object a line.
 *
 * The reader is deliberately minimal: string values are kept (decoded in
 * place; an escape for anything but printable ASCII becomes '?', since
 * values are only shown and compared), null, true, false, numbers and
 * flat arrays of those or of strings are skipped; every length and count
 * is bounded.  A line it cannot read is counted and skipped, never
 * half-used; a whole record joined to a torn one is still shown
 * (show_joined).  With --json a matching line is printed as it was
 * written. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/ctl/audit.h"

static void
skip_ws(char **p)
{
	*p += strspn(*p, " \t\r\n");
}

/* Decodes the string at *p (at its opening quote) in place; decoding only
 * shrinks, so the output never overtakes the input. */
static int
parse_string(char **p, char **ret)
{
	static const char esc[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
	char *in = *p + 1, *out = in, *start = in;
	const char *e;

	if (**p != '"')
		return -EINVAL;
	for (;;) {
		unsigned char c = (unsigned char)*in;

		if (c < 0x20)		/* the NUL at the end of the line too */
			return -EINVAL;
		if (c == '"')
			break;
		if (c != '\\') {
			*out++ = *in++;
			continue;
		}
		if (in[1] == 'u') {
			char hex[5] = "";
			unsigned long v;

			if (strspn(in + 2, "0123456789abcdefABCDEF") < 4)
				return -EINVAL;
			memcpy(hex, in + 2, 4);
			v = strtoul(hex, NULL, 16);
			*out++ = v >= 0x20 && v < 0x7f ? (char)v : '?';
			in += 6;
			continue;
		}
		/* esc pairs an escape letter with what it stands for */
		for (e = esc; *e != '\0' && *e != in[1]; e += 2)
			;
		if (*e == '\0')
			return -EINVAL;
		*out++ = e[1];
		in += 2;
	}
	*out = '\0';
	*p = in + 1;
	*ret = start;
	return 0;
}

/* Skips a value that is not a string: a literal, a number, or an array
 * of those and strings (no nesting). */
static int
skip_other(char **p)
{
	char *s = *p, *ignored;

	if (*s == '[') {
		for (s++;; s++) {
			skip_ws(&s);
			if (*s == ']')
				break;
			if (*s == '"') {
				if (parse_string(&s, &ignored) < 0)
					return -EINVAL;
			} else if (*s == '[' || skip_other(&s) < 0) {
				return -EINVAL;
			}
			skip_ws(&s);
			if (*s == ']')
				break;
			if (*s != ',')
				return -EINVAL;
		}
		*p = s + 1;
		return 0;
	}
	if (strncmp(s, "null", 4) == 0 || strncmp(s, "true", 4) == 0)
		*p = s + 4;
	else if (strncmp(s, "false", 5) == 0)
		*p = s + 5;
	else if (*s == '-' || (*s >= '0' && *s <= '9'))
		*p = s + strspn(s, "0123456789+-.eE");
	else
		return -EINVAL;
	return 0;
}

static int
parse_object(char *line, struct audit_rec *r)
{
	char *p = line, *name, *value;

	r->n = 0;
	skip_ws(&p);
	if (*p++ != '{')
		return -EINVAL;
	skip_ws(&p);
	if (*p == '}')
		return 0;
	for (;;) {
		skip_ws(&p);
		if (parse_string(&p, &name) < 0)
			return -EINVAL;
		skip_ws(&p);
		if (*p++ != ':')
			return -EINVAL;
		skip_ws(&p);
		if (*p == '"') {
			if (parse_string(&p, &value) < 0)
				return -EINVAL;
			if (r->n >= AUDIT_MAX_FIELDS)
				return -E2BIG;
			r->f[r->n].name = name;
			r->f[r->n].value = value;
			r->f[r->n].len = strlen(value);
			r->n++;
		} else if (skip_other(&p) < 0) {
			return -EINVAL;
		}
		skip_ws(&p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p++ != '}')
			return -EINVAL;
		skip_ws(&p);
		return *p == '\0' ? 0 : -EINVAL;
	}
}

/* Every record sshand writes starts so; inside a record the sequence
 * cannot occur, since its quotes would be escaped there. */
#define RECORD_START "{\"__REALTIME_TIMESTAMP\":\""

/* A line that cannot be read may be a record cut short (the file system
 * was full) that the next record joined, as files written before sshand
 * started each record after a torn one on a line of its own, or by two
 * writers at once, may hold.  The first record start after the line's
 * own from which the rest reads whole is that next record: shown, and
 * the torn part alone stays counted as unreadable.  line is scratch
 * space as large as raw. */
static void
show_joined(struct audit_out *out, const struct audit_filter *flt,
    struct audit_rec *rec, char *line, const char *raw)
{
	const char *p = raw;

	while ((p = strstr(p + 1, RECORD_START)) != NULL) {
		size_t n = strlen(p);

		memcpy(line, p, n + 1);
		if (parse_object(line, rec) == 0) {
			audit_show(out, flt, rec, p);
			return;
		}
	}
}

int
audit_from_file(struct audit_out *out, const struct audit_filter *flt,
    const char *path)
{
	char *line = NULL, *raw = NULL;
	struct audit_rec *rec = NULL;
	unsigned bad = 0;
	int rc = 1;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL) {
		fprintf(stderr, "sshandctl audit: %s: %s\n", path,
		    strerror(errno));
		return 1;
	}
	if ((line = malloc(AUDIT_MAX_RECORD)) == NULL ||
	    (raw = malloc(AUDIT_MAX_RECORD)) == NULL ||
	    (rec = malloc(sizeof(*rec))) == NULL) {
		fprintf(stderr, "sshandctl audit: out of memory\n");
		goto out;
	}
	while (fgets(line, AUDIT_MAX_RECORD, f) != NULL) {
		size_t len = strlen(line);
		int c;

		if (len == AUDIT_MAX_RECORD - 1 && line[len - 1] != '\n') {
			/* Overlong: drop the rest of it, count it. */
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			bad++;
			continue;
		}
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;
		memcpy(raw, line, len + 1);
		if (parse_object(line, rec) < 0) {
			bad++;
			show_joined(out, flt, rec, line, raw);
			continue;
		}
		audit_show(out, flt, rec, raw);
	}
	if (ferror(f)) {
		fprintf(stderr, "sshandctl audit: %s: %s\n", path,
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (bad > 0)
		fprintf(stderr, "sshandctl audit: %s: skipped %u unreadable "
		    "line(s)\n", path, bad);
	free(line);
	free(raw);
	free(rec);
	fclose(f);
	return rc;
}
