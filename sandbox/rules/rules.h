/* The seccomp filters as libseccomp rules.
 *
 * Compiling rules to BPF costs libseccomp about 0.75 ms for a session
 * profile, on every connection, for a result that never changes: the
 * filters depend only on the profile and two switches.  So they are
 * compiled once, when sshand is built: bpfgen runs these functions and
 * writes each filter's BPF into a C file (filters.h has the table), and
 * sshand loads that with seccomp(2).  The unit tests compile the rules
 * again and check that they still give the same programs.
 */
#ifndef SSHAND_SANDBOX_RULES_H
#define SSHAND_SANDBOX_RULES_H

#include <seccomp.h>

#include "sandbox/filters.h"
#include "sandbox/sandbox.h"

/* Add a session profile's rules to ctx (made with seccomp_init(
 * SCMP_ACT_ALLOW)); SANDBOX_LOGIN or SANDBOX_STRICT.  0 or negative. */
int sandbox_rules_profile(scmp_filter_ctx ctx, enum sandbox_profile p,
    const struct sandbox_opts *o);
/* Add the network child's allow-list to ctx (made with seccomp_init(
 * SCMP_ACT_KILL_PROCESS), or SCMP_ACT_LOG to debug).  0 or negative. */
int sandbox_rules_netchild(scmp_filter_ctx ctx);
/* Add the key holder's allow-list to ctx (made with seccomp_init(
 * SCMP_ACT_KILL_PROCESS)).  0 or negative. */
int sandbox_rules_keyholder(scmp_filter_ctx ctx);

/* A context with every rule of filter id (release it with
 * seccomp_release); 0 or a negative errno. */
int sandbox_rules_build(enum sandbox_filter id, scmp_filter_ctx *ret);
/* Filter id as BPF (malloc'ed, *len instructions).  0 or negative. */
int sandbox_rules_bpf(enum sandbox_filter id, struct sock_filter **ret, size_t *len);

#endif
