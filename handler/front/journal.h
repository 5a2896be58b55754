/* The journal's native protocol, shared by audit records and the program's
 * log: a SOCK_DGRAM AF_UNIX socket connected once, and fields encoded as
 * journald reads them (systemd's JOURNAL_NATIVE_PROTOCOL).
 *
 * Why not libsystemd's sd_journal_send(): the front and both halves stay
 * free of libsystemd.  Loading it costs every connection an exec's worth
 * of relocation, and libsystemd0 brings liblzma, libzstd, liblz4 and
 * libgcrypt into a root process that faces the network; writing a
 * datagram of NAME=value lines needs none of that.  (sshandctl, which
 * reads the journal, does link libsystemd.)  Records stay far below the
 * datagram limit, so the protocol's memfd fallback is never needed. */
#ifndef SSHAND_HANDLER_FRONT_JOURNAL_H
#define SSHAND_HANDLER_FRONT_JOURNAL_H

#include <stddef.h>

/* A new O_CLOEXEC socket connected to journald, or a negative errno. */
int journal_connect(void);
/* For tests only: use path instead of /run/systemd/journal/socket (NULL
 * restores the default).  The string must outlive its use. */
void journal_set_path(const char *path);
/* Appends NAME=value in the native format at buf+*off (the length-prefixed
 * binary form if value contains a newline).  Returns 0, or -ENOBUFS without
 * touching *off if it does not fit. */
int journal_field(char *buf, size_t cap, size_t *off, const char *name,
    const char *value, size_t vlen);
/* Waits, at most max_ms, until journald has taken every datagram sent on
 * fd.  journald learns a record's unit (_SYSTEMD_UNIT, what journalctl -u
 * matches) by reading the sender's /proc/PID/cgroup when it takes the
 * datagram: a process that exits right after its last record is often
 * gone by then on a busy host, and that record would be nobody's.  The
 * kernel charges an AF_UNIX datagram to its sender until the receiver has
 * read it, which SIOCOUTQ tells.  For a process's last record, before it
 * exits; returns at once where the ioctl is not allowed. */
void journal_drain(int fd, int max_ms);

#endif
