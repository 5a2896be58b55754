/* BanExempt against stored keys, for sshandctl bans nft-sync: whether a
 * banned network and an exempt one overlap (sshand itself checks single
 * addresses, in ban.c). */
#include <errno.h>
#include <stddef.h>

#include "policy/ban-store.h"
#include "policy/ban.h"

int
ban_exempt_overlaps(const struct ban_store *b, const struct netaddr *net, unsigned prefix)
{
	struct netaddr full;
	unsigned fp;
	int r;

	if (!b || !net)
		return -EINVAL;
	r = ban_normalise(net, 128, &full, &fp);
	if (r < 0)
		return r;
	if (prefix > fp)
		prefix = fp;
	for (size_t i = 0; i < b->n_exempt; i++) {
		const struct exempt_net *x = &b->exempt[i];

		/* One contains the other: the shorter prefix's network
		 * holds the other's address. */
		if (x->net.family != full.family)
			continue;
		if (x->len <= prefix ? cidr_contains(&x->net, x->len, &full) :
		    cidr_contains(&full, prefix, &x->net))
			return 1;
	}
	return 0;
}
