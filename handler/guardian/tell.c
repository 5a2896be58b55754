/* The monitor's side of the guardian: it keeps in the shared state
 * (state.h) what the guardian would need to finish the connection in its
 * place.  Plain stores, each record published by its flag, stored last. */
#define _GNU_SOURCE
#include <stdbool.h>
#include <string.h>

#include "handler/front/log.h"
#include "handler/guardian/guardian.h"
#include "handler/guardian/state.h"

static struct guardian_state *state;
/* The slots this process has published live: the monitor is their only
 * writer, so it need not read the shared flags to find a slot.  A slot
 * is a page or more of the mapping, whose pages the kernel allocates on
 * first touch, a read included: scanning all 16 cost 15 pages (a fault
 * and 60 KiB shared by the guardian and the monitor) per connection. */
static uint32_t live_slots;
_Static_assert(GUARDIAN_SESSIONS <= 32, "live_slots holds a bit per slot");

void
guardian_attach(struct guardian_state *st)
{
	state = st;
	live_slots = 0;
}

static void
publish(uint32_t *flag, uint32_t v)
{
	__atomic_store_n(flag, v, __ATOMIC_RELEASE);
}

/* s, cut to max bytes, NUL-terminated in dst (max + 1 bytes). */
static void
copy(char *dst, const char *s, size_t max)
{
	size_t n = s ? strnlen(s, max) : 0;

	memcpy(dst, s ? s : "", n);
	dst[n] = '\0';
}

void
guardian_tell_net(pid_t pid)
{
	if (state != NULL)
		state->net = (int32_t)pid;
}

void
guardian_tell_login(const struct guardian_login *l)
{
	if (state == NULL)
		return;
	copy(state->audit_user, l->audit_user, GUARDIAN_MAX_NAME);
	copy(state->client_version, l->client_version, GUARDIAN_MAX_NAME);
	copy(state->pam_user, l->pam_user, GUARDIAN_MAX_NAME);
	state->uid = (uint32_t)l->uid;
	state->gid = (uint32_t)l->gid;
	state->kill_user_processes = l->kill_user_processes;
	publish(&state->logged_in, 1);
}

void
guardian_tell_session_start(uint32_t id, pid_t pid, const char *type,
    const char *command, const char *tty, uint64_t start)
{
	struct guardian_session *s = NULL;
	int i;

	if (state == NULL)
		return;
	for (i = 0; i < GUARDIAN_SESSIONS; i++)
		if (!(live_slots & (UINT32_C(1) << i))) {
			s = &state->sess[i];
			break;
		}
	if (s == NULL) {
		/* The monitor allows fewer: our bounds are wrong. */
		log_error("no room for the guardian's record of session %u", id);
		return;
	}
	s->id = id;
	s->pid = (int32_t)pid;
	s->start = start;
	copy(s->type, type, GUARDIAN_MAX_TYPE);
	s->has_command = command != NULL;
	copy(s->command, command, GUARDIAN_MAX_COMMAND);
	/* A cut name would name another line: none rather than that. */
	copy(s->tty, tty != NULL && strlen(tty) <= GUARDIAN_MAX_TTY ? tty : "",
	    GUARDIAN_MAX_TTY);
	publish(&s->live, 1);
	live_slots |= UINT32_C(1) << i;
}

void
guardian_tell_session_end(uint32_t id)
{
	if (state == NULL)
		return;
	for (int i = 0; i < GUARDIAN_SESSIONS; i++)
		if ((live_slots & (UINT32_C(1) << i)) && state->sess[i].id == id) {
			publish(&state->sess[i].live, 0);
			live_slots &= ~(UINT32_C(1) << i);
		}
}

void
guardian_tell_pam_closed(void)
{
	if (state != NULL)
		publish(&state->pam_closed, 1);
}

void
guardian_tell_done(void)
{
	if (state != NULL)
		publish(&state->done, 1);
}
