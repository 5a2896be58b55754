/* Dropping privilege and confining code: libcap-ng, libseccomp, rlimits.
 *
 * A library: no logging, no exit; 0 or a negative errno.  Any failure means
 * the caller must not run user code (fail closed).
 */
#ifndef SSHAND_SANDBOX_H
#define SSHAND_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum sandbox_profile {
	SANDBOX_NONE,
	SANDBOX_LOGIN,
	SANDBOX_STRICT,
};

struct sandbox_opts {
	bool allow_keyrings;	/* re-allow add_key/request_key/keyctl */
	/* No no_new_privs: setuid and file-capability programs (sudo,
	 * passwd, ping) gain what they carry.  The filter is then loaded
	 * with CAP_SYS_ADMIN, as root, before the drop. */
	bool setuid_ok;
};

/* "none", "login", "strict", in any case; -EINVAL for anything else. */
int sandbox_profile_parse(const char *name, enum sandbox_profile *ret);
/* The lower-case name, or NULL for a value that is no profile. */
const char *sandbox_profile_name(enum sandbox_profile p);

/* Become uid/gid with exactly these supplementary groups, for good:
 * setgroups, setresgid, setresuid, check that the old ids cannot be
 * regained, clear every capability set (effective, permitted, inheritable,
 * bounding, ambient), PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE 0.  The caller
 * is root with CAP_SETUID/SETGID/SETPCAP.  The state is read back at the
 * end (ids, groups, every capability set, no_new_privs, dumpable); a state
 * that differs from the one asked for, or an old id that can be set again,
 * is -ENOTRECOVERABLE.  On any error the process is half-dropped: the
 * caller must exit, never continue.  Works without /proc (chrooted). */
int sandbox_drop_to_user(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups);

/* The same for a session whose policy allows setuid programs
 * (NoNewPrivileges no): no no_new_privs, and the bounding set left as it
 * is, since it is what a setuid-root program (sudo) gets; every other set
 * is emptied and read back as above. */
int sandbox_drop_to_user_setuid_ok(uid_t uid, gid_t gid, const gid_t *groups,
    size_t ngroups);

/* A root process that stays root keeps only the capabilities listed
 * (numbers from linux/capability.h) of those it still has: effective and
 * permitted are exactly those, inheritable and ambient empty, and the
 * bounding set is cut to them, so that nothing it executes as root (a PAM
 * module's helper) gets more back.  Ids, no_new_privs and dumpability are
 * left as they are.  Needs CAP_SETPCAP (for the bounding set).  Read back
 * at the end; -ENOTRECOVERABLE if the state differs.  On error the caller
 * must not go on. */
int sandbox_keep_capabilities(const unsigned *caps, size_t n);

/* The same with the bounding set left as it is: for a root process that
 * will start sessions whose setuid programs need it whole. */
int sandbox_limit_capabilities(const unsigned *caps, size_t n);

/* Load a session profile's seccomp filter on the calling thread (and so on
 * everything it starts).  Sets no_new_privs first, unless o->setuid_ok
 * (then the caller needs CAP_SYS_ADMIN).  SANDBOX_NONE loads
 * nothing.  Denied calls fail with EPERM (EAFNOSUPPORT for socket families,
 * ENOSYS for clone3); other ABIs are killed. */
int sandbox_apply_profile(enum sandbox_profile p, const struct sandbox_opts *o);

/* Every capability set emptied (bounding and ambient too), no_new_privs,
 * not dumpable, read back; the ids stay as they are.  For a process that
 * keeps uid 0 only so that no other uid may signal or trace it. */
int sandbox_drop_capabilities(void);

/* The pre-authentication network child: chroot(dir) + chdir("/"), then
 * sandbox_drop_to_user(uid, gid, NULL, 0).  dir must be an absolute path to
 * a directory that is root-owned, not writable by group or others (-EPERM
 * otherwise) and empty (-ENOTEMPTY); uid and gid must not be 0 (-EINVAL).
 * Checked through an O_NOFOLLOW fd which is then fchdir()ed into. */
int sandbox_enter_netchild(uid_t uid, gid_t gid, const char *dir);

/* The network child's seccomp allow-list (default: kill the process, also
 * for the i386/x32 ABIs); what libssh, OpenSSL and the relay need after
 * the key material is loaded.  Allowed: read write readv writev recvfrom
 * sendto recvmsg sendmsg poll ppoll close shutdown getsockopt setsockopt
 * getpeername getsockname brk munmap mremap madvise futex clock_gettime
 * gettimeofday clock_nanosleep nanosleep getrandom getpid gettid getppid
 * getuid geteuid getgid getegid fstat rt_sigreturn rt_sigprocmask
 * rt_sigaction sigaltstack restart_syscall sched_yield exit exit_group;
 * mmap/mprotect without PROT_EXEC; fcntl F_GETFL/F_SETFL/F_GETFD/F_SETFD;
 * ioctl FIONBIO/FIONREAD; newfstatat with AT_EMPTY_PATH.  No open, no
 * socket/connect/accept, no exec, no kill, no fork.
 *
 * Before it, the caller must have done everything that opens a file or
 * initialises once: ssh_init(), loaded the host keys, OpenSSL's config and
 * providers (OPENSSL_init_crypto with LOAD_CONFIG) and one RAND_bytes() to
 * seed the DRBG; excluded diffie-hellman-group-exchange (it reads
 * /etc/ssh/moduli at every rekey) or pre-read it; set libssh's log level to
 * 0 or a log callback that does not call localtime() (which re-reads
 * /etc/localtime); closed every fd but the SSH socket and the parent's
 * socketpair.  In the sanitizer build, run with ASAN_OPTIONS=detect_leaks=0
 * (LeakSanitizer's exit check needs ptrace and clone).
 *
 * debug=true logs (SCMP_ACT_LOG) instead of killing: the call goes through
 * and the kernel logs "type=1326 ... syscall=N" (dmesg, journalctl -k), so
 * one run lists every missing call rather than dying at the first. */
int sandbox_apply_netchild_filter(bool debug);

/* The key holder (handler/keys/): stays uid 0, so that neither the
 * network child nor the user may signal or trace it, but with no
 * capability in any set, no_new_privs, not dumpable (all read back), and
 * its seccomp allow-list (rules/keyholder.c: the socketpair, memory,
 * randomness; no open, no socket, no exec, no kill).  Before it the
 * caller must have loaded the keys, warmed OpenSSL up (config, DRBG, one
 * signature per key) and closed every fd but its socketpair. */
int sandbox_enter_keyholder(void);

struct sandbox_limits {
	unsigned max_procs;	/* RLIMIT_NPROC, 0 = leave */
	unsigned max_files;	/* RLIMIT_NOFILE, 0 = leave */
	bool core_dumps;	/* false: RLIMIT_CORE 0 */
};
int sandbox_set_limits(const struct sandbox_limits *l);

#endif
