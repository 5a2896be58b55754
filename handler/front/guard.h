/* The guardian's wait (guard.c): libc only, in the front's own process. */
#ifndef SSHAND_HANDLER_FRONT_GUARD_H
#define SSHAND_HANDLER_FRONT_GUARD_H

#include <stdbool.h>
#include <sys/types.h>

#include "handler/front/handover.h"

/* Becomes the guardian of the connection whose monitor is monitor: a child
 * subreaper holding nothing of the connection, waiting for the monitor's
 * end (whose wait status goes to *ret_status).  True if the monitor
 * recorded the connection's end; false if the guardian must finish it
 * (sshand_monitor's rescue). */
bool guard_wait(struct handover *h, pid_t monitor, int *ret_status);

#endif
