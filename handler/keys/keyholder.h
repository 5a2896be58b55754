/* The key holder: the one process of a connection that holds the host
 * private keys.
 *
 * The monitor forks it first thing.  It loads the HostKey files, sends the
 * public keys (HOSTKEYS), confines itself (uid 0 with no capabilities, so
 * that neither the network child nor the user can signal or trace it; not
 * dumpable; a seccomp allow-list with no open, socket or exec) and then
 * only signs: each SIGN the monitor relays gets SIGNED, the signature and
 * the session id, which is the first hash it ever signed (OpenSSH's rule;
 * the monitor takes the session id from here, never from the network
 * child).  It parses nothing from the network beyond the hash itself.
 * It ends when the monitor's end of the socketpair closes. */
#ifndef SSHAND_HANDLER_KEYS_KEYHOLDER_H
#define SSHAND_HANDLER_KEYS_KEYHOLDER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "handler/front/handover.h"

struct keyholder {
	pid_t pid;
	int fd;				/* the monitor's end */
};

/* Forks the key holder; close_fd is a descriptor of the caller it must
 * not keep (the network child's socketpair).  0 or a negative errno. */
int keyholder_start(const struct handover *h, int close_fd, struct keyholder *ret);

/* Is len the length of an exchange hash (SHA-1, SHA-256, SHA-384 or
 * SHA-512, the kex methods' digests)? */
bool keyholder_hash_len_ok(size_t len);

#endif
