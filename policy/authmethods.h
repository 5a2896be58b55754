/* AuthenticationMethods: the lists of methods a login must complete, as
 * sshd_config(5) defines them.  A line holds one or more lists separated
 * by blanks, each a comma-separated sequence of method names; a login is
 * done when every method of any one list has succeeded, in that list's
 * order (sshd's auth2.c removes a list's first method when it succeeds,
 * and offers only the methods that begin a list).  "any", the default,
 * is an empty set of lists: one method of any kind suffices.
 *
 * Pure functions over a small fixed-size state: no allocation, no I/O. */
#ifndef SSHAND_POLICY_AUTHMETHODS_H
#define SSHAND_POLICY_AUTHMETHODS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/config.h"

/* The methods, as bits (the monitor sends masks of them). */
#define AM_PUBLICKEY 1u
#define AM_PASSWORD 2u
#define AM_KBDINT 4u
#define AM_ALL (AM_PUBLICKEY | AM_PASSWORD | AM_KBDINT)

/* Bounds: sshd has none, but no sane policy comes near them. */
#define AM_MAX_LISTS 16		/* lists on one line */
#define AM_MAX_STEPS 8		/* methods in one list */
#define AM_MAX_CANON (AM_MAX_STEPS * 21)	/* "keyboard-interactive," each */

/* The methods settings enable (PubkeyAuthentication and the like). */
unsigned am_enabled(const struct settings *s);

/* The bit of a method's wire name; 0 if sshand has no such method. */
unsigned am_method_bit(const char *name);
/* A bit's wire name ("?" for no single method). */
const char *am_method_name(unsigned bit);

/* One list of a line, checked and written as stored: the method names
 * comma-separated, nothing else.  0, or -EINVAL with *why saying what is
 * wrong (an unknown method, a submethod, an empty element...). */
int am_list_canon(const char *list, char *buf, size_t len, const char **why);
/* The methods a stored list names. */
unsigned am_list_methods(const char *canon);

/* A login's progress through the lists that apply to its user. */
struct am_progress {
	bool any;			/* no lists: one method suffices */
	uint8_t n;			/* usable lists */
	uint8_t len[AM_MAX_LISTS];
	uint8_t pos[AM_MAX_LISTS];	/* methods of the list done */
	uint8_t step[AM_MAX_LISTS][AM_MAX_STEPS];	/* method bits */
};

/* The progress of a new login under lists (stored lists; none: any),
 * enabled the methods the user's settings enable.  A list that names a
 * disabled method is skipped, as sshd skips it.  Returns the number of
 * lists left (with any: 1); 0 means no login can succeed. */
int am_start(struct am_progress *p, const struct strlist *lists,
    unsigned enabled);
/* The methods that may be tried now. */
unsigned am_next(const struct am_progress *p, unsigned enabled);
/* A method succeeded: 1 when a list is complete (the login is done), 0
 * when more methods must follow (partial success), -EPERM when the
 * method began no list (the caller should not have tried it). */
int am_done(struct am_progress *p, unsigned method);

#endif
