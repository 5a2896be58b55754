/* JSON strings for machine-readable output (audit JSON lines, sshandctl
 * --json).  Quotes, backslashes and control characters are escaped; valid
 * UTF-8 passes through; a byte that is not part of valid UTF-8 becomes
 * U+FFFD, so the output is always valid JSON whatever the input holds. */
#ifndef SSHAND_POLICY_UTIL_JSON_H
#define SSHAND_POLICY_UTIL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Appends s, quoted, at buf + *off.  0, or -ENOBUFS (then *off is left
 * as it was: nothing half-written counts). */
int json_append_string(char *buf, size_t cap, size_t *off, const char *s);

/* Prints s, quoted, to f. */
void json_print_string(FILE *f, const char *s);

/* True if the len bytes at s are valid UTF-8 without control characters
 * other than tab and newline (C0, DEL, C1): text that journalctl's JSON
 * output shows as a string rather than as an array of byte values. */
bool json_is_text(const char *s, size_t len);

#endif
