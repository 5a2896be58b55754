/* AuthenticationMethods lists and a login's progress through them
 * (authmethods.h). */
#include <errno.h>
#include <string.h>

#include "policy/authmethods.h"

static const struct {
	const char *name;
	unsigned bit;
} methods[] = {
	{ "publickey", AM_PUBLICKEY },
	{ "password", AM_PASSWORD },
	{ "keyboard-interactive", AM_KBDINT },
};

unsigned
am_enabled(const struct settings *s)
{
	return (s->pubkey_authentication ? AM_PUBLICKEY : 0) |
	    (s->password_authentication ? AM_PASSWORD : 0) |
	    (s->kbd_interactive_authentication ? AM_KBDINT : 0);
}

unsigned
am_method_bit(const char *name)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(name, methods[i].name) == 0)
			return methods[i].bit;
	return 0;
}

const char *
am_method_name(unsigned bit)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (bit == methods[i].bit)
			return methods[i].name;
	return "?";
}

/* The next comma-separated element of *pp into buf (NUL-terminated);
 * -EINVAL if it does not fit. */
static int
next_element(const char **pp, char *buf, size_t len)
{
	size_t n = strcspn(*pp, ",");

	if (n >= len)
		return -EINVAL;
	memcpy(buf, *pp, n);
	buf[n] = '\0';
	*pp += n;
	return 0;
}

int
am_list_canon(const char *list, char *buf, size_t len, const char **why)
{
	const char *p = list;
	size_t used = 0, steps = 0;
	char name[32];

	*why = NULL;
	if (len == 0)
		return -EINVAL;
	buf[0] = '\0';
	for (;;) {
		size_t n;

		if (next_element(&p, name, sizeof(name)) < 0) {
			*why = "unknown authentication method";
			return -EINVAL;
		}
		if (name[0] == '\0') {
			*why = "empty method in a list";
			return -EINVAL;
		}
		if (strcmp(name, "any") == 0) {
			*why = "\"any\" must be alone on the line";
			return -EINVAL;
		}
		/* sshd's keyboard-interactive:bsdauth and the like name a
		 * device; sshand's only one is PAM. */
		if (strchr(name, ':') != NULL) {
			*why = "submethods are not supported (sshand's "
			    "keyboard-interactive is always PAM)";
			return -EINVAL;
		}
		if (strcmp(name, "hostbased") == 0 ||
		    strcmp(name, "gssapi-with-mic") == 0) {
			*why = "this method is not implemented in sshand";
			return -EINVAL;
		}
		if (am_method_bit(name) == 0) {
			*why = "unknown authentication method";
			return -EINVAL;
		}
		if (++steps > AM_MAX_STEPS) {
			*why = "too many methods in a list";
			return -EINVAL;
		}
		n = strlen(name);
		if (used + n + 2 > len) {
			*why = "list too long";
			return -EINVAL;
		}
		if (used > 0)
			buf[used++] = ',';
		memcpy(buf + used, name, n + 1);
		used += n;
		if (*p == '\0')
			return 0;
		p++;	/* the comma; a trailing one gives an empty element */
	}
}

unsigned
am_list_methods(const char *canon)
{
	const char *p = canon;
	unsigned bits = 0;
	char name[32];

	while (*p != '\0' && next_element(&p, name, sizeof(name)) == 0) {
		bits |= am_method_bit(name);
		if (*p == ',')
			p++;
	}
	return bits;
}

int
am_start(struct am_progress *p, const struct strlist *lists, unsigned enabled)
{
	memset(p, 0, sizeof(*p));
	if (lists == NULL || lists->n == 0) {
		p->any = true;
		return 1;
	}
	for (size_t i = 0; i < lists->n && p->n < AM_MAX_LISTS; i++) {
		const char *s = lists->v[i];
		uint8_t k = 0;
		char name[32];
		bool usable = true;

		while (*s != '\0' && k < AM_MAX_STEPS &&
		    next_element(&s, name, sizeof(name)) == 0) {
			unsigned bit = am_method_bit(name);

			if (bit == 0 || (bit & enabled) == 0)
				usable = false;
			p->step[p->n][k++] = (uint8_t)bit;
			if (*s == ',')
				s++;
		}
		if (usable && k > 0)
			p->len[p->n++] = k;
	}
	return p->n;
}

unsigned
am_next(const struct am_progress *p, unsigned enabled)
{
	unsigned bits = 0;

	if (p->any)
		return enabled & AM_ALL;
	for (uint8_t i = 0; i < p->n; i++)
		if (p->pos[i] < p->len[i])
			bits |= p->step[i][p->pos[i]];
	return bits & enabled;
}

int
am_done(struct am_progress *p, unsigned method)
{
	bool found = false;

	if (p->any)
		return 1;
	/* As sshd: every list that begins with the method moves on; the
	 * others stay as they were, still open to the client. */
	for (uint8_t i = 0; i < p->n; i++) {
		if (p->pos[i] >= p->len[i] || p->step[i][p->pos[i]] != method)
			continue;
		found = true;
		if (++p->pos[i] == p->len[i])
			return 1;
	}
	return found ? 0 : -EPERM;
}
