/* Unsigned decimal numbers as sshand.conf and address text write them:
 * ASCII digits only, no sign, no blanks, bounded.  Pure functions. */
#ifndef SSHAND_POLICY_UTIL_DECIMAL_H
#define SSHAND_POLICY_UTIL_DECIMAL_H

#include <stdint.h>

/* Reads the digits at *s as a number of at most max and moves *s past
 * them.  0; -EINVAL if *s does not start with a digit, -ERANGE if the
 * number exceeds max.  On failure *s and *ret are untouched. */
int decimal_prefix(const char **s, uint64_t max, uint64_t *ret);

/* All of s: decimal_prefix, then -EINVAL for anything after the digits. */
int decimal_parse(const char *s, uint64_t max, uint64_t *ret);

#endif
