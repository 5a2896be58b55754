/* Fewer system calls under libssh and OpenSSL in the network child.
 *
 * Most of the network child's CPU in a bulk transfer went to system calls
 * that carry no data, made by libraries it cannot configure:
 *
 * - libssh 0.10 reads its socket 4 KiB at a time (MAX_BUF_SIZE, fixed
 *   when it is built), one poll() and one recv() per 4 KiB: half a
 *   million calls per GiB uploaded (sshd reads up to 256 KiB at once).
 * - OpenSSL 3 calls getpid() at every RAND_bytes() to notice a fork, and
 *   libssh draws random padding for every packet it sends: one or two
 *   getpid() per packet, each a real system call since glibc 2.25.
 *
 * Both libraries call libc's poll(), recv() and getpid() by name, and the
 * front, being the executable, comes first when the dynamic linker looks
 * up a name for any library loaded later, the halves' libssh and
 * libcrypto included.  So the front defines these three, and until a
 * process asks for more (only the network child does, after the key
 * exchange) each asks the kernel what libc's would:
 *
 * - interpose_readahead(fd): recv() on fd fills a buffer of
 *   READAHEAD_MAX with one real read and hands it out in the sizes asked
 *   for; poll() reports fd readable while the buffer holds data, making
 *   the real call only every READAHEAD_POLL_EVERY rounds then (with no
 *   wait), so the other descriptors' events still come, at most that many
 *   rounds later.  The bytes the reader sees, and their order, are the
 *   socket's.
 * - interpose_cache_pid(): getpid() answers from memory.  Only for a
 *   process that forks no more (the network child's filter refuses
 *   fork); a child forked anyway asks the kernel again.
 */
#ifndef SSHAND_HANDLER_FRONT_INTERPOSE_H
#define SSHAND_HANDLER_FRONT_INTERPOSE_H

#include <stddef.h>

/* The size of one real read, sshd's. */
#define READAHEAD_MAX		(256u * 1024)
/* A real poll at least once in this many rounds while data is buffered:
 * with libssh's 4 KiB reads, once per 64 KiB of the stream. */
#define READAHEAD_POLL_EVERY	16u

/* From now on, recv() and poll() on fd go through the read-ahead; -1
 * turns it off.  0, or -EBUSY if data is still buffered for the
 * descriptor registered now (it would be lost). */
int interpose_readahead(int fd);
/* Bytes read from the socket that its reader has not taken yet. */
size_t interpose_buffered(void);
/* getpid() answers from memory from now on in this process. */
void interpose_cache_pid(void);

#endif
