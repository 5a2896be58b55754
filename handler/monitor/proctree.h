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

/* The same, and kill(), as another user: with the effective (and so file
 * system) ids uid and gid, the real and saved uid still root's, and back
 * to root's on return.  For a root process that keeps no CAP_KILL or
 * CAP_SYS_PTRACE (the monitor after login, anything under the shipped
 * unit): kill() lets a sender whose effective uid is the target's real or
 * saved uid signal it, and the real uid 0 still reaches root's own
 * processes; where /proc hides other users' processes (hidepid,
 * ProtectProc=invisible) it shows them to their own uid.  The caller
 * needs CAP_SETUID and CAP_SETGID, or signals as it is.  Meanwhile the
 * user can still neither signal nor ptrace the caller: both look at its
 * real and saved uid as well. */
size_t proctree_signal_as(pid_t root, pid_t skip, int sig, uid_t uid, gid_t gid);
int proctree_kill_as(pid_t pid, int sig, uid_t uid, gid_t gid);

/* Appends the pids listed in a children file (space-separated) to q, up to
 * max entries in all.  Read in pieces: a pid cut between two reads is
 * completed, never taken for a shorter one. */
void proctree_read_pids(const char *path, pid_t *q, size_t *n, size_t max);

#endif
