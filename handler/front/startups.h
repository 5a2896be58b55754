/* MaxStartups in the front: a connection holds one slot while it is not
 * authenticated (see startups.c). */
#ifndef SSHAND_HANDLER_FRONT_STARTUPS_H
#define SSHAND_HANDLER_FRONT_STARTUPS_H

#include <sys/socket.h>

#include "policy/startups.h"

/* Takes a slot for peer in the slot file at path (made if missing):
 * 0 with *ret_fd holding it (close it to give the slot back; the lock
 * goes with the last copy of the descriptor, in whichever process, so a
 * process that dies gives its slot back), 1 with *why ("MaxStartups",
 * "PerSourceMaxStartups") when the connection is refused, or -errno
 * when the slots cannot be used (the caller fails open). */
int startups_take(const char *path, const struct startups_params *p,
    const struct sockaddr_storage *peer, int *ret_fd, const char **why);

#endif
