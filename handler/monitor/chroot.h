/* ChrootDirectory: the path expanded (%h, %u, %%) and checked as sshd
 * checks it (chroot.c). */
#ifndef SSHAND_HANDLER_CHROOT_H
#define SSHAND_HANDLER_CHROOT_H

#include <stddef.h>

#include "handler/monitor/auth.h"

/* Returns an O_PATH descriptor (close-on-exec) of the checked directory,
 * for the session's process to chroot to (fchdir, then chroot(".")), and
 * its resolved path in path; or a negative errno and, in why, the
 * component that failed and how, for the log and the audit record. */
int chroot_open(const char *pattern, const struct user_info *u, char *path,
    size_t pathlen, char *why, size_t whylen);

#endif
