/* SSH algorithm names: the ones this server can use, the ones OpenSSH
 * knows, and sshd_config's list syntax (+append, -remove, ^first).
 *
 * The one place that knows which names exist (algorithms.c has the table
 * and where each list comes from).  A library: no logging. */
#ifndef SSHAND_POLICY_ALGORITHMS_H
#define SSHAND_POLICY_ALGORITHMS_H

#include <stdbool.h>
#include <stddef.h>

enum algo_kind {
	ALGO_KEX,		/* KexAlgorithms */
	ALGO_CIPHER,		/* Ciphers */
	ALGO_MAC,		/* MACs */
	ALGO_HOSTKEY,		/* HostKeyAlgorithms */
	ALGO_PUBKEY,		/* PubkeyAcceptedAlgorithms */
	ALGO_CASIG,		/* CASignatureAlgorithms */
	ALGO_KINDS
};

#define ALGO_LIST_MAX 2048	/* bytes of an expanded list, with its NUL */

/* The list this server uses when the keyword is not set (comma-joined,
 * only names it supports). */
const char *algo_default(enum algo_kind kind);

/* list, or the default when list is NULL ("default"). */
static inline const char *
algo_effective(enum algo_kind kind, const char *list)
{
	return list != NULL ? list : algo_default(kind);
}

/* Expands spec as sshd does (a leading '+' appends to the default, '-'
 * removes from it, '^' puts first; '*' and '?' patterns in a '-' list and
 * in key algorithm lists) into out: names this server supports, in order,
 * each once.  Names OpenSSH knows but this server does not are left out
 * and listed in dropped (comma-joined, "" if none), so that a hardened
 * sshd_config still loads.  -EINVAL with why for a name (or a pattern
 * matching none) that neither knows, or when no usable name is left;
 * -E2BIG when out or dropped is too small. */
int algo_list_expand(enum algo_kind kind, const char *spec, char *out,
    size_t outlen, char *dropped, size_t droplen, char *why, size_t whylen);

/* Is name one of the comma-separated names of list (exact)? */
bool algo_list_has(const char *list, const char *name);

#endif
