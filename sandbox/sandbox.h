/* Dropping privilege and confining code: libcap-ng, libseccomp, rlimits.
 *
 * A library: no logging, no exit; 0 or a negative errno.  Any failure means
 * the caller must not run user code (fail closed).
 */
#ifndef SSHAND_SANDBOX_H
#define SSHAND_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

enum sandbox_profile {
	SANDBOX_NONE,
	SANDBOX_LOGIN,
	SANDBOX_STRICT,
};

struct sandbox_opts {
	bool allow_keyrings;	/* re-allow add_key/request_key/keyctl */
};

int sandbox_profile_parse(const char *name, enum sandbox_profile *ret);
const char *sandbox_profile_name(enum sandbox_profile p);

/* Become uid/gid with exactly these supplementary groups, for good:
 * setgroups, setresgid, setresuid, check that the old ids cannot be
 * regained, clear every capability set (effective, permitted, inheritable,
 * bounding, ambient), PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE 0.  The caller
 * is root with CAP_SETUID/SETGID/SETPCAP. */
int sandbox_drop_to_user(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups);

/* Load a session profile's seccomp filter on the calling thread (and so on
 * everything it starts).  Sets no_new_privs first.  SANDBOX_NONE loads
 * nothing.  Denied calls fail with EPERM (EAFNOSUPPORT for socket families,
 * ENOSYS for clone3); other ABIs are killed. */
int sandbox_apply_profile(enum sandbox_profile p, const struct sandbox_opts *o);

/* The pre-authentication network child: chroot(dir) + chdir("/"), then
 * sandbox_drop_to_user(uid, gid, NULL, 0).  dir must be root-owned and not
 * writable by others (checked: -EPERM otherwise). */
int sandbox_enter_netchild(uid_t uid, gid_t gid, const char *dir);

/* The network child's seccomp allow-list (default: kill the process); what
 * libssh, OpenSSL and the relay need after the key material is loaded.
 * debug=true logs (SCMP_ACT_LOG) instead of killing, to find missing calls. */
int sandbox_apply_netchild_filter(bool debug);

struct sandbox_limits {
	unsigned max_procs;	/* RLIMIT_NPROC, 0 = leave */
	unsigned max_files;	/* RLIMIT_NOFILE, 0 = leave */
	bool core_dumps;	/* false: RLIMIT_CORE 0 */
};
int sandbox_set_limits(const struct sandbox_limits *l);

#endif
