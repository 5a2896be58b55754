/* The keyboard-interactive method in the monitor: a PAM conversation
 * whose prompts go to the client through the network child, a round at
 * a time, and whose answers come back as KBDINT_ANSWERS. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handler/front/log.h"
#include "handler/monitor/answers.h"
#include "handler/monitor/auth-internal.h"
#include "handler/monitor/monitor.h"
#include "handler/monitor/sigcheck.h"
#include "policy/algorithms.h"
#include "policy/match.h"

static void
free_answers(char **answers, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (answers[i] != NULL) {
			explicit_bzero(answers[i], strlen(answers[i]));
			free(answers[i]);
		}
		answers[i] = NULL;
	}
}

/* One PAM conversation round through the network child: the prompts go
 * out, and the next request is either the answers or another request,
 * which abandons the conversation and is answered after it. */
static int
kbdint_round(void *ud, const char *instruction, size_t n, const char *const *prompts,
    const bool *echo, char **answers)
{
	struct monitor *m = ud;
	struct ps_kbdint_prompts q = { .name = "", .instruction = instruction,
	    .n_prompts = (uint32_t)n };
	struct kbdint_round round = { .n = n, .answers = answers };

	if (n > PS_MAX_PROMPTS)
		return -1;
	for (size_t i = 0; i < n; i++) {
		q.prompts[i] = prompts[i];
		q.echo |= (uint32_t)echo[i] << i;
	}
	ps_put_kbdint_prompts(m->out, &q);
	monitor_send(m);
	monitor_wait_preauth(m);
	if (monitor_next(m, PS_KBDINT, 0) == -EPIPE)
		monitor_finish(m, EXIT_NOAUTH, "client-closed");
	if (ps_type(m->in) != PS_KBDINT_ANSWERS) {
		ps_move(m->pushback, m->in);
		m->have_pushback = true;
		return -1;
	}
	m->round = &round;
	monitor_answer(m);
	m->round = NULL;
	return round.answered ? 0 : -1;
}

void
answer_kbdint_answers(struct monitor *m, const struct ps_kbdint_answers *r)
{
	struct kbdint_round *round = m->round;

	/* The table allows answers only while a conversation is open. */
	if (round == NULL)
		monitor_violation(m, "kbdint_answers outside a conversation");
	/* A count other than the prompts' abandons the conversation. */
	if (r->n_answers != round->n)
		return;
	for (size_t i = 0; i < round->n; i++) {
		round->answers[i] = strdup(r->answers[i]);
		if (round->answers[i] == NULL) {
			free_answers(round->answers, i);
			return;
		}
	}
	round->answered = true;
}

void
answer_kbdint_start(struct monitor *m, const struct ps_kbdint_start *r)
{
	/* The conversation receives into the message r points into. */
	char *user = strdup(r->user);
	struct attempt a = { .method = "keyboard-interactive", .user = user,
	    .start = now_usec() };
	struct pam_ctx *pam = NULL;
	struct pam_outcome out = { 0 };
	const char *refused = NULL;
	int rc;

	if (user == NULL)
		monitor_finish(m, EXIT_INTERNAL, "server-error");
	ban_gate(m);
	a.known = user_for(m, a.user, &a.u, &a.s);
	if (a.known)
		refused = auth_refusal(m, a.s, &a.u, a.s->kbd_interactive_authentication,
		    AM_KBDINT);
	/* Refused users (method disabled by a Match block, root, locked) go
	 * through the same conversation as everyone, as a placeholder user,
	 * so prompts and timing tell nothing.  An expired password is
	 * changed within the conversation (pam.c). */
	rc = pam_auth_kbdint(m->h->audit->remote_addr, a.known && refused == NULL ?
	    a.user : PAM_NOUSER, a.s->permit_empty_passwords, kbdint_round, m, &pam,
	    &out);
	a.proved = a.known && refused == NULL && out.proved;
	a.changed = out.changed;
	/* If the client abandoned the conversation for another request, it
	 * waits for that request's answer, not for this one. */
	judged(m, &a, rc, pam, refused, refused ? refused : out.reason ? out.reason :
	    "bad-password", !m->have_pushback);
	free(user);
}

