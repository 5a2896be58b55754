/* X11 forwarding as sshd does it: an x11-req on a session channel has
 * the forwarder listen on the first free display (port 6000 + N from
 * X11DisplayOffset on), and the session gets DISPLAY and, for its rc file
 * or else xauth, the client's cookie (spawn.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "handler/front/log.h"
#include "handler/monitor/answers.h"
#include "handler/monitor/forward-internal.h"
#include "handler/monitor/forward.h"
#include "handler/monitor/monitor.h"
#include "handler/monitor/spawn.h"
#include "policy/forward.h"

struct fwd_x11 *
x11_by_chan(const struct forwarding *fw, uint32_t chan)
{
	for (int i = 0; i < MAX_SESSIONS; i++)
		if (fw->x11[i].live && fw->x11[i].chan == chan)
			return (struct fwd_x11 *)&fw->x11[i];
	return NULL;
}

void
x11_free(struct fwd_x11 *x)
{
	if (x->cookie != NULL)
		explicit_bzero(x->cookie, strlen(x->cookie));
	free(x->cookie);
	free(x->proto);
	free(x->display);
	free(x->auth_display);
	*x = (struct fwd_x11){ 0 };
}

/* sshd's xauth_valid_string: what may reach xauth's command lines. */
static bool
x11_data_ok(const char *v, size_t max)
{
	size_t n = strlen(v);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(v[i] >= 'a' && v[i] <= 'z') && !(v[i] >= 'A' && v[i] <= 'Z') &&
		    !(v[i] >= '0' && v[i] <= '9') && strchr(".:/-_", v[i]) == NULL)
			return false;
	return true;
}

/* DISPLAY, and the name xauth gets, for display n (sshd's
 * session_setup_x11fwd): with X11UseLocalhost, "localhost:N.S" and
 * "unix:N.S" (Xlib looks a loopback display's cookie up under the local
 * host); otherwise the host name for both. */
static int
x11_names(struct monitor *m, struct fwd_x11 *x, unsigned n, uint32_t screen)
{
	char host[PS_MAX_HOST];

	if (m->us->x11_use_localhost) {
		if (asprintf(&x->display, "localhost:%u.%u", n, screen) < 0) {
			x->display = NULL;
			return -ENOMEM;
		}
		if (asprintf(&x->auth_display, "unix:%u.%u", n, screen) < 0) {
			x->auth_display = NULL;
			return -ENOMEM;
		}
		return 0;
	}
	if (gethostname(host, sizeof(host)) < 0)
		return -errno;
	host[sizeof(host) - 1] = '\0';
	if (!x11_data_ok(host, sizeof(host)))
		return -EINVAL;
	if (asprintf(&x->display, "%s:%u.%u", host, n, screen) < 0) {
		x->display = NULL;
		return -ENOMEM;
	}
	x->auth_display = strdup(x->display);
	return x->auth_display != NULL ? 0 : -ENOMEM;
}

void
answer_x11_req(struct monitor *m, const struct ps_x11_req *r)
{
	const char *why = fwd_refusal(m, PS_FWD_X11, FWD_REMOTE, "", 0);
	struct forwarding *fw = fwd_state(m);
	struct fwd_listener *l = NULL;
	struct fwd_x11 *x = NULL;
	struct ps_fwdr_listening a;
	char reason[PS_MAX_STR];
	struct stat st;
	unsigned first = m->us->x11_display_offset, n;

	if (r->id & FWD_ID_MONITOR)
		monitor_violation(m, "x11-req on channel %#x", r->id);
	if (fw == NULL) {
		why = "server-error";
		goto refuse;
	}
	if (why != NULL)
		goto refuse;
	if (!x11_data_ok(r->proto, PS_MAX_X11_PROTO) ||
	    !x11_data_ok(r->cookie, PS_MAX_X11_COOKIE)) {
		why = "bad-x11-data";
		goto refuse;
	}
	/* sshd: no xauth, no X11 forwarding. */
	if (stat(XAUTH_PATH, &st) < 0) {
		why = "no-xauth";
		goto refuse;
	}
	if (x11_by_chan(fw, r->id) != NULL) {
		why = "repeated";
		goto refuse;
	}
	if (first >= X11_MAX_DISPLAYS) {
		why = "X11DisplayOffset";
		goto refuse;
	}
	for (int i = 0; i < MAX_SESSIONS && x == NULL; i++)
		if (!fw->x11[i].live)
			x = &fw->x11[i];
	for (int i = 0; i < MAX_FWD_LISTENERS && l == NULL; i++)
		if (!fw->l[i].live)
			l = &fw->l[i];
	if (x == NULL || l == NULL) {
		why = "too-many-listeners";
		goto refuse;
	}
	if (!forwarder_ready(m)) {
		why = "server-error";
		goto refuse;
	}
	*l = (struct fwd_listener){ .id = fw->next_listener++, .kind = PS_FWD_X11,
	    .single = r->single };
	ps_put_fwdr_listen(&fwd_out, &(struct ps_fwdr_listen){ .listener = l->id,
	    .kind = PS_FWD_X11, .host = m->us->x11_use_localhost ? "localhost" : "",
	    .port = first });
	if (forwarder_call(m, PS_FWDR_LISTENING) < 0 ||
	    ps_get_fwdr_listening(&fwd_in, &a) < 0 || a.listener != l->id) {
		ps_wipe(&fwd_in);
		why = "server-error";
		goto refuse;
	}
	if (a.err != 0 || a.port < X11_PORT_BASE + first ||
	    a.port >= X11_PORT_BASE + X11_MAX_DISPLAYS) {
		snprintf(reason, sizeof(reason), "listen-failed: %s",
		    a.err ? strerror((int)a.err) : "bad answer");
		ps_wipe(&fwd_in);
		if (a.err == 0)
			listener_close(m, l);
		why = reason;
		goto refuse;
	}
	ps_wipe(&fwd_in);
	n = a.port - X11_PORT_BASE;
	*x = (struct fwd_x11){ .live = true, .chan = r->id, .listener = l->id,
	    .proto = strdup(r->proto), .cookie = strdup(r->cookie) };
	if (x11_names(m, x, n, r->screen) < 0 || x->proto == NULL ||
	    x->cookie == NULL || (l->host = strdup(x->display)) == NULL) {
		x11_free(x);
		listener_close(m, l);
		why = "server-error";
		goto refuse;
	}
	l->bound = a.port;
	l->live = true;
	audit_fwd(m, AUDIT_FORWARD_OPEN, -1, "x11-req", "", x->display, NULL);
	fwd_listening(m, true, n, NULL);
	return;
refuse:
	audit_fwd(m, AUDIT_FORWARD_REFUSED, -1, "x11-req", "", "", why);
	fwd_listening(m, false, 0, why);
}

const char *
monitor_x11_display(const struct monitor *m, uint32_t chan)
{
	return m->fwd != NULL && x11_by_chan(m->fwd, chan) != NULL ?
	    x11_by_chan(m->fwd, chan)->display : NULL;
}

bool
monitor_x11_auth(const struct monitor *m, uint32_t chan, const char **ret_proto,
    const char **ret_cookie, const char **ret_display)
{
	const struct fwd_x11 *x = m->fwd != NULL ? x11_by_chan(m->fwd, chan) : NULL;

	if (x == NULL)
		return false;
	*ret_proto = x->proto;
	*ret_cookie = x->cookie;
	*ret_display = x->auth_display;
	return true;
}

void
monitor_x11_session_end(struct monitor *m, uint32_t chan)
{
	struct fwd_x11 *x = m->fwd != NULL ? x11_by_chan(m->fwd, chan) : NULL;
	struct fwd_listener *l;

	if (x == NULL)
		return;
	l = listener_by_id(m->fwd, x->listener);
	if (l != NULL)
		listener_close(m, l);
	x11_free(x);
}
