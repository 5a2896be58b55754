/* libssh 0.10 reads a pty-req's terminal modes into its message but has no
 * accessor for them (the channel callback drops them too).  We read them
 * through a copy of the start of libssh 0.10's private struct
 * ssh_message_struct (include/libssh/messages.h), and trust that copy only
 * when every field the public accessors do expose sits where the copy
 * says: the channel, TERM and the four sizes around the modes.  Any other
 * libssh, or another layout, leaves the modes unknown and the pty with
 * default modes, never a wrong read.
 *
 * The second half, the request hook, adds a packet callback to libssh
 * 0.10's private list of them; how it finds that list, and when it
 * refuses, is told at find_packet_callbacks(). */
#include <errno.h>
#include <malloc.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <libssh/libssh.h>
#include <libssh/callbacks.h>
#include <libssh/server.h>
#include <libssh/ssh2.h>

#include "handler/net/libssh-private.h"
#include "policy/util/sshwire.h"

struct mirror_auth_request {
	char *username;
	int method;
	char *password;
	void *pubkey;
	char *sigtype;
	int signature_state;
	char kbdint_response;
};

struct mirror_channel_request_open {
	int type;
	uint32_t sender;
	uint32_t window;
	uint32_t packet_size;
	char *originator;
	uint16_t originator_port;
	char *destination;
	uint16_t destination_port;
};

struct mirror_channel_request {
	int type;
	ssh_channel channel;
	uint8_t want_reply;
	char *TERM;
	uint32_t width;
	uint32_t height;
	uint32_t pxwidth;
	uint32_t pxheight;
	ssh_string modes;
	/* more follows; never read */
};

struct mirror_message {
	ssh_session session;
	int type;
	struct mirror_auth_request auth_request;
	struct mirror_channel_request_open channel_request_open;
	struct mirror_channel_request channel_request;
};

static int
layout_known(void)
{
	static int known = -1;
	const char *v;

	if (known < 0) {
		/* ssh_version returns NULL when older than asked. */
		v = ssh_version(SSH_VERSION_INT(0, 10, 0));
		known = v != NULL && strncmp(v, "0.10.", 5) == 0;
	}
	return known;
}

/* The accessors are deprecated for the callback API, whose pty callback
 * lacks the modes; they give what they can and check the copy above. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
int
libssh_pty_request(ssh_message msg, struct pty_req *ret)
{
	const struct mirror_message *m = (const struct mirror_message *)msg;
	const struct mirror_channel_request *cr = &m->channel_request;
	struct pty_req r = { 0 };

	if (ssh_message_type(msg) != SSH_REQUEST_CHANNEL ||
	    ssh_message_subtype(msg) != SSH_CHANNEL_REQUEST_PTY)
		return -EINVAL;
	r.channel = ssh_message_channel_request_channel(msg);
	r.term = ssh_message_channel_request_pty_term(msg);
	r.cols = ssh_message_channel_request_pty_width(msg);
	r.rows = ssh_message_channel_request_pty_height(msg);
	r.xpix = ssh_message_channel_request_pty_pxwidth(msg);
	r.ypix = ssh_message_channel_request_pty_pxheight(msg);
	r.modes_known = layout_known() && cr->type == SSH_CHANNEL_REQUEST_PTY &&
	    cr->channel == r.channel && cr->TERM == r.term &&
	    (int)cr->width == r.cols && (int)cr->height == r.rows &&
	    (int)cr->pxwidth == r.xpix && (int)cr->pxheight == r.ypix;
	if (r.modes_known && cr->modes != NULL) {
		r.modes = ssh_string_data(cr->modes);
		r.nmodes = ssh_string_len(cr->modes);
	}
	*ret = r;
	return 0;
}
#pragma GCC diagnostic pop

/*
 * The request hook (see libssh-private.h).
 *
 * Each rewrite reads the payload libssh is about to parse (the bytes after
 * the message type; ssh_packet_socket_callback has read the type before
 * ssh_packet_process calls the callbacks) and, for an extension, writes
 * the request libssh knows over it.  The new request is never longer than
 * the old, and libssh's parsers stop at the fields they want, so what is
 * left of the old request behind it is never read.
 */

/* Payloads the rewrites build: the longest is a marked path with the
 * fixed fields of a direct-tcpip open around it. */
#define REWRITE_MAX	(LIBSSH_UNIX_PATH_MAX + 128)

/* Whether a name field is lit as libssh sees it: libssh copies the
 * string and compares it with strcmp, so it stops at a NUL. */
static bool
name_is(const uint8_t *p, size_t n, const char *lit)
{
	const uint8_t *nul = memchr(p, '\0', n);

	if (nul != NULL)
		n = (size_t)(nul - p);
	return n == strlen(lit) && memcmp(p, lit, n) == 0;
}

/* A field read from data, to be written through: the readers give
 * const pointers into the same bytes. */
static uint8_t *
writable(uint8_t *data, const uint8_t *field)
{
	return data + (field - data);
}

/* A client's field that starts with the mark loses it. */
static int
neutralise(uint8_t *data, const uint8_t *field, size_t n)
{
	if (field == NULL || n == 0 || field[0] != LIBSSH_MARK_CHAR)
		return LIBSSH_REWRITE_NONE;
	writable(data, field)[0] = '?';
	return LIBSSH_REWRITE_NEUTRALISED;
}

/* A socket path the hook will carry: what fits sun_path, and no NUL,
 * which would let the C string libssh makes of it name another path. */
static bool
path_ok(const uint8_t *p, size_t n)
{
	return p != NULL && n > 0 && n <= LIBSSH_UNIX_PATH_MAX &&
	    memchr(p, '\0', n) == NULL;
}

static void
put_marked(struct wire_writer *w, const uint8_t *path, size_t n)
{
	uint8_t host[1 + LIBSSH_UNIX_PATH_MAX];

	host[0] = LIBSSH_MARK_CHAR;
	memcpy(host + 1, path, n);
	wire_put_string(w, host, 1 + n);
}

static int
put_over(uint8_t *data, size_t len, const struct wire_writer *w)
{
	if (w->bad || w->len > len)
		return -EINVAL;
	memcpy(data, w->p, w->len);
	return LIBSSH_REWRITE_DONE;
}

/* Names are read with no bound but the packet's: a bound would let a
 * long "env\0..." pass unread and reach libssh as env. */
#define ANY	SIZE_MAX

int
libssh_rewrite_global_request(uint8_t *data, size_t len)
{
	struct wire_reader r = wire_reader(data, len);
	uint8_t out[REWRITE_MAX];
	struct wire_writer w = { .p = out, .cap = sizeof(out) };
	const uint8_t *name, *path;
	size_t nname, npath = 0;
	const char *to;
	uint8_t want;

	name = wire_get_string(&r, ANY, &nname);
	if (name == NULL)
		return LIBSSH_REWRITE_NONE;
	if (name_is(name, nname, "tcpip-forward") ||
	    name_is(name, nname, "cancel-tcpip-forward")) {
		(void)wire_get_u8(&r);
		path = wire_get_string(&r, ANY, &npath);
		return neutralise(data, path, npath);
	}
	if (name_is(name, nname, "streamlocal-forward@openssh.com"))
		to = "tcpip-forward";
	else if (name_is(name, nname, "cancel-streamlocal-forward@openssh.com"))
		to = "cancel-tcpip-forward";
	else
		return LIBSSH_REWRITE_NONE;
	want = wire_get_u8(&r);
	path = wire_get_string(&r, ANY, &npath);
	if (r.bad || !path_ok(path, npath))
		return -EINVAL;
	wire_put_string(&w, to, strlen(to));
	wire_put_u8(&w, want);
	put_marked(&w, path, npath);
	wire_put_u32(&w, 1);
	return put_over(data, len, &w);
}

int
libssh_rewrite_channel_open(uint8_t *data, size_t len)
{
	struct wire_reader r = wire_reader(data, len);
	uint8_t out[REWRITE_MAX];
	struct wire_writer w = { .p = out, .cap = sizeof(out) };
	const uint8_t *type, *path;
	size_t ntype, npath = 0, nres;
	uint32_t sender, window, maxpacket;

	type = wire_get_string(&r, ANY, &ntype);
	if (type == NULL)
		return LIBSSH_REWRITE_NONE;
	sender = wire_get_u32(&r);
	window = wire_get_u32(&r);
	maxpacket = wire_get_u32(&r);
	if (name_is(type, ntype, "direct-tcpip")) {
		path = wire_get_string(&r, ANY, &npath);
		return neutralise(data, path, npath);
	}
	if (!name_is(type, ntype, "direct-streamlocal@openssh.com"))
		return LIBSSH_REWRITE_NONE;
	/* socket path, then a reserved string and uint32 (OpenSSH's
	 * channels.c sends "" and 0; its server reads both). */
	path = wire_get_string(&r, ANY, &npath);
	(void)wire_get_string(&r, ANY, &nres);
	(void)wire_get_u32(&r);
	if (r.bad || !path_ok(path, npath))
		return -EINVAL;
	wire_put_string(&w, "direct-tcpip", strlen("direct-tcpip"));
	wire_put_u32(&w, sender);
	wire_put_u32(&w, window);
	wire_put_u32(&w, maxpacket);
	put_marked(&w, path, npath);
	wire_put_u32(&w, 0);
	wire_put_string(&w, "", 0);
	wire_put_u32(&w, 0);
	return put_over(data, len, &w);
}

int
libssh_rewrite_channel_request(uint8_t *data, size_t len)
{
	struct wire_reader r = wire_reader(data, len);
	uint8_t out[REWRITE_MAX];
	struct wire_writer w = { .p = out, .cap = sizeof(out) };
	const uint8_t *name, *var;
	size_t nname, nvar = 0;
	uint32_t channel;
	uint8_t want;

	channel = wire_get_u32(&r);
	name = wire_get_string(&r, ANY, &nname);
	if (name == NULL)
		return LIBSSH_REWRITE_NONE;
	if (name_is(name, nname, "env")) {
		(void)wire_get_u8(&r);
		var = wire_get_string(&r, ANY, &nvar);
		return neutralise(data, var, nvar);
	}
	if (!name_is(name, nname, "auth-agent-req@openssh.com"))
		return LIBSSH_REWRITE_NONE;
	want = wire_get_u8(&r);
	if (r.bad)
		return -EINVAL;
	wire_put_u32(&w, channel);
	wire_put_string(&w, "env", strlen("env"));
	wire_put_u8(&w, want);
	wire_put_string(&w, LIBSSH_AGENT_MARK, strlen(LIBSSH_AGENT_MARK));
	wire_put_string(&w, "", 0);
	return put_over(data, len, &w);
}

bool
libssh_is_agent_mark(const char *env_name)
{
	return env_name != NULL && strcmp(env_name, LIBSSH_AGENT_MARK) == 0;
}

const char *
libssh_unix_path(const char *host)
{
	if (host == NULL || host[0] != LIBSSH_MARK_CHAR || host[1] == '\0')
		return NULL;
	return host + 1;
}

/* The new password of the last USERAUTH_REQUEST, if it asked for a
 * change (see libssh-private.h). */
static struct {
	bool change;
	char new_password[LIBSSH_MAX_NEW_PASSWORD + 1];
} pw_change;

int
libssh_read_password_change(const uint8_t *data, size_t len,
    const uint8_t **ret_new, size_t *ret_len)
{
	struct wire_reader r = wire_reader(data, len);
	const uint8_t *method, *p;
	size_t n;

	*ret_new = NULL;
	*ret_len = 0;
	(void)wire_get_string(&r, ANY, &n);	/* user */
	(void)wire_get_string(&r, ANY, &n);	/* service */
	method = wire_get_string(&r, ANY, &n);
	if (method == NULL || !name_is(method, n, "password"))
		return 0;
	/* A boolean: anything but 0 is true (RFC 4251 section 5). */
	if (wire_get_u8(&r) == 0 || r.bad)
		return 0;
	(void)wire_get_string(&r, ANY, &n);	/* the old password */
	p = wire_get_string(&r, ANY, &n);
	if (p != NULL) {
		*ret_new = p;
		*ret_len = n;
	}
	return 1;
}

void
libssh_password_clear(void)
{
	explicit_bzero(&pw_change, sizeof(pw_change));
}

static void
hook_userauth(const uint8_t *data, size_t len)
{
	const uint8_t *p;
	size_t n;

	libssh_password_clear();
	if (libssh_read_password_change(data, len, &p, &n) != 1)
		return;
	pw_change.change = true;
	/* Missing, or with a NUL: "", which the monitor refuses. */
	if (p != NULL && memchr(p, '\0', n) == NULL)
		memcpy(pw_change.new_password, p, n < LIBSSH_MAX_NEW_PASSWORD ?
		    n : LIBSSH_MAX_NEW_PASSWORD);
}

/* The accessor is deprecated for the callback API, whose password
 * callback cannot answer with a change request. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
int
libssh_password_request(ssh_message msg, struct password_req *ret)
{
	if (ssh_message_type(msg) != SSH_REQUEST_AUTH ||
	    ssh_message_subtype(msg) != SSH_AUTH_METHOD_PASSWORD)
		return -EINVAL;
	*ret = (struct password_req){
		.user = ssh_message_auth_user(msg),
		.password = ssh_message_auth_password(msg),
		.change = pw_change.change,
		.new_password = pw_change.new_password,
	};
	if (ret->user == NULL || ret->password == NULL)
		return -EINVAL;
	return 0;
}
#pragma GCC diagnostic pop

int
libssh_send_passwd_changereq(ssh_message msg, const char *prompt)
{
	ssh_string text = ssh_string_from_char(prompt);
	ssh_string lang = ssh_string_from_char("");
	int rc = SSH_ERROR;

	/* SSH_MSG_USERAUTH_PK_OK, string algorithm, string key blob: on the
	 * wire the change request's byte 60, string prompt, string language
	 * tag. */
	if (text != NULL && lang != NULL)
		rc = ssh_message_auth_reply_pk_ok(msg, text, lang);
	ssh_string_free(text);
	ssh_string_free(lang);
	return rc == SSH_OK ? 0 : -EIO;
}

/* Replies to our global requests, for ClientAliveInterval: one process
 * serves one session, so a count of its own does. */
static uint64_t global_replies;

uint64_t
libssh_global_replies(void)
{
	return global_replies;
}

/* The last CHANNEL_OPEN's payload, as libssh parses it (after the
 * rewrite), for libssh_take_channel_open(). */
static struct {
	uint8_t data[LIBSSH_OPEN_MAX];
	size_t len;			/* 0: none kept */
} last_open;

/* libssh's own callbacks, which the hook passes packets on to; set when
 * the hook is installed. */
static const struct ssh_packet_callbacks_struct *libssh_defaults;

static void
hook_channel_open(uint8_t *data, size_t len)
{
	(void)libssh_rewrite_channel_open(data, len);
	last_open.len = 0;
	if (len > 0 && len <= sizeof(last_open.data)) {
		memcpy(last_open.data, data, len);
		last_open.len = len;
	}
}

bool
libssh_take_channel_open(uint8_t *buf, size_t size, size_t *ret_len)
{
	size_t n = last_open.len;

	last_open.len = 0;
	if (n == 0 || n > size)
		return false;
	memcpy(buf, last_open.data, n);
	*ret_len = n;
	return true;
}

int
libssh_replay_channel_open(ssh_session s, const uint8_t *data, size_t len)
{
	const struct ssh_packet_callbacks_struct *d = libssh_defaults;
	ssh_buffer b;

	if (d == NULL || d->user != (void *)s)
		return -ENOTSUP;
	if (len == 0 || len > LIBSSH_OPEN_MAX)
		return -EINVAL;
	b = ssh_buffer_new();
	if (b == NULL)
		return -ENOMEM;
	if (ssh_buffer_add_data(b, data, (uint32_t)len) < 0) {
		ssh_buffer_free(b);
		return -ENOMEM;
	}
	last_open.len = 0;
	(void)d->callbacks[SSH2_MSG_CHANNEL_OPEN - d->start](s,
	    SSH2_MSG_CHANNEL_OPEN, b, d->user);
	ssh_buffer_free(b);
	return 0;
}

static int
hook_packet(ssh_session s, uint8_t type, ssh_buffer packet, void *user)
{
	uint8_t *data = ssh_buffer_get(packet);
	size_t len = ssh_buffer_get_len(packet);

	(void)s, (void)user;
	/* Success or failure alike: the client answered (OpenSSH answers
	 * keepalive@openssh.com with a failure). */
	if (type == SSH2_MSG_REQUEST_SUCCESS || type == SSH2_MSG_REQUEST_FAILURE) {
		global_replies++;
		return SSH_PACKET_NOT_USED;
	}
	if (data == NULL)
		return SSH_PACKET_NOT_USED;
	switch (type) {
	case SSH2_MSG_USERAUTH_REQUEST:
		hook_userauth(data, len);
		break;
	case SSH2_MSG_GLOBAL_REQUEST:
		(void)libssh_rewrite_global_request(data, len);
		break;
	case SSH2_MSG_CHANNEL_OPEN:
		hook_channel_open(data, len);
		break;
	case SSH2_MSG_CHANNEL_REQUEST:
		(void)libssh_rewrite_channel_request(data, len);
		break;
	}
	/* libssh's own callback, next in the list, parses it. */
	return SSH_PACKET_NOT_USED;
}

#define HOOK_FIRST	SSH2_MSG_USERAUTH_REQUEST
#define HOOK_COUNT	(SSH2_MSG_CHANNEL_REQUEST - HOOK_FIRST + 1)

/* libssh reads these and never writes them (the const is cast away
 * only because its struct lacks it). */
static ssh_packet_callback const hook_table[HOOK_COUNT] = {
	[SSH2_MSG_USERAUTH_REQUEST - HOOK_FIRST] = hook_packet,
	[SSH2_MSG_GLOBAL_REQUEST - HOOK_FIRST] = hook_packet,
	[SSH2_MSG_REQUEST_SUCCESS - HOOK_FIRST] = hook_packet,
	[SSH2_MSG_REQUEST_FAILURE - HOOK_FIRST] = hook_packet,
	[SSH2_MSG_CHANNEL_OPEN - HOOK_FIRST] = hook_packet,
	[SSH2_MSG_CHANNEL_REQUEST - HOOK_FIRST] = hook_packet,
};
static const struct ssh_packet_callbacks_struct hook_callbacks = {
	.start = HOOK_FIRST,
	.n_callbacks = HOOK_COUNT,
	.callbacks = (ssh_packet_callback *)hook_table,
	.user = NULL,
};

/* libssh 0.10's struct ssh_list and struct ssh_iterator
 * (include/libssh/misc.h), which session->packet_callbacks is. */
struct mirror_iterator {
	struct mirror_iterator *next;
	const void *data;
};

struct mirror_list {
	struct mirror_iterator *root;
	struct mirror_iterator *end;
};

/* Enough for libssh's list (its default callbacks and a key exchange's);
 * a longer one is not what we think it is. */
#define MAX_PACKET_CALLBACKS	16

/*
 * Where is the session's list of packet callbacks?  In libssh 0.10
 * (include/libssh/session.h) the session embeds its default callbacks,
 * which ssh_packet_set_default_callbacks() fills with start 1, the table
 * of types 1 to 100 and user = the session, and appends to the list
 * declared right after them:
 *
 *	struct ssh_packet_callbacks_struct default_packet_callbacks;
 *	struct ssh_list *packet_callbacks;
 *
 * Their offset moves between 0.10 releases (0.10.6 added fields before
 * them), so it is not assumed: the session's allocation is searched for
 * the one place that holds such a struct, and only the pointer declared
 * after it is followed, then believed only if the list it points to
 * starts with that very struct and ends where its end pointer says.
 * Following any other word of the session could fault on an integer that
 * looks like an address; that order of the two fields holds in every
 * release from 0.9.0 to 0.11.
 */
static int
find_packet_callbacks(ssh_session s, struct mirror_list **ret_list,
    const struct ssh_packet_callbacks_struct **ret_defaults)
{
	const uint8_t *base = (const uint8_t *)s;
	size_t size = malloc_usable_size(s), off, n;
	const struct ssh_packet_callbacks_struct *c, *found = NULL;
	struct mirror_list *list;
	struct mirror_iterator *it, *last = NULL;

	for (off = 0; size >= sizeof(*c) + sizeof(list) &&
	    off <= size - sizeof(*c) - sizeof(list); off += alignof(*c)) {
		c = (const struct ssh_packet_callbacks_struct *)(base + off);
		if (c->start != 1 || c->user != (void *)s ||
		    c->callbacks == NULL ||
		    c->start + c->n_callbacks <= SSH2_MSG_CHANNEL_REQUEST)
			continue;
		if (found != NULL)
			return -ENOTSUP;	/* two: which one? */
		found = c;
	}
	if (found == NULL)
		return -ENOTSUP;	/* or no key exchange yet */
	memcpy(&list, (const uint8_t *)found + sizeof(*found), sizeof(list));
	if (list == NULL || (uintptr_t)list % alignof(*list) != 0 ||
	    ((const uint8_t *)list >= base && (const uint8_t *)list < base + size))
		return -ENOTSUP;
	for (it = list->root, n = 0; it != NULL && n < MAX_PACKET_CALLBACKS;
	    it = it->next, n++)
		last = it;
	if (it != NULL || last == NULL || last != list->end)
		return -ENOTSUP;
	/* libssh parses the types we pass on. */
	if (found->callbacks[SSH2_MSG_USERAUTH_REQUEST - 1] == NULL ||
	    found->callbacks[SSH2_MSG_GLOBAL_REQUEST - 1] == NULL ||
	    found->callbacks[SSH2_MSG_REQUEST_SUCCESS - 1] == NULL ||
	    found->callbacks[SSH2_MSG_REQUEST_FAILURE - 1] == NULL ||
	    found->callbacks[SSH2_MSG_CHANNEL_OPEN - 1] == NULL ||
	    found->callbacks[SSH2_MSG_CHANNEL_REQUEST - 1] == NULL)
		return -ENOTSUP;
	*ret_list = list;
	*ret_defaults = found;
	return 0;
}

int
libssh_install_request_hook(ssh_session s)
{
	struct mirror_list *list;
	const struct ssh_packet_callbacks_struct *defaults;
	struct mirror_iterator *it;
	int r;

	if (s == NULL)
		return -EINVAL;
	if (!layout_known())
		return -ENOTSUP;
	r = find_packet_callbacks(s, &list, &defaults);
	if (r < 0)
		return r;
	if (list->root->data == &hook_callbacks)
		return list->root->next != NULL &&
		    list->root->next->data == defaults ? 0 : -ENOTSUP;
	if (list->root->data != defaults)
		return -ENOTSUP;
	libssh_defaults = defaults;
	/* ssh_list_prepend(), which libssh does not export; ssh_free()
	 * frees the iterator with the rest of the list. */
	it = malloc(sizeof(*it));
	if (it == NULL)
		return -ENOMEM;
	it->next = list->root;
	it->data = &hook_callbacks;
	list->root = it;
	return 0;
}
