/* The processes below one process, found through /proc/PID/task/TID/children
 * (a few reads per process of the tree, whatever else runs on the host). */
#ifndef SSHAND_HANDLER_PROCTREE_H
#define SSHAND_HANDLER_PROCTREE_H

#include <stddef.h>
#include <sys/types.h>

/* Sends sig to every descendant of root except skip and skip's own
 * descendants (skip may be 0).  Returns how many were signalled; a tree
 * larger than one walk can hold (4096) takes several calls.  For a caller
 * that is a child subreaper, this is everything it started. */
size_t proctree_signal(pid_t root, pid_t skip, int sig);

/* Appends the pids listed in a children file (space-separated) to q, up to
 * max entries in all.  Read in pieces: a pid cut between two reads is
 * completed, never taken for a shorter one. */
void proctree_read_pids(const char *path, pid_t *q, size_t *n, size_t max);

#endif
