/* Dropping to a user for good, in the order OpenSSH's
 * privsep_child_demote() uses: groups, gid, uid, prove the old ids are
 * gone, then no capabilities anywhere, no_new_privs, not dumpable; and
 * finally read the whole state back, because a drop that silently did
 * less than asked is worse than one that failed. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "sandbox/sandbox.h"

/* The kernel's NGROUPS_MAX; the bound on what we accept and read back. */
#define SANDBOX_MAX_GROUPS 65536

/* The bounding set can only shrink with CAP_SETPCAP, which setresuid()
 * away from root takes with it: so it goes first, while we still are
 * root.  Ambient goes here too (it needs no privilege, but an ambient
 * capability would survive the exec of a non-setuid program).
 *
 * Dropped directly rather than with capng_apply(CAPNG_SELECT_BOUNDS):
 * that one reads the whole state back twice on the way (some 170
 * prctl calls and an attempt at /proc) and cost 0.2 ms per drop, paid
 * twice per connection; one PR_CAPBSET_DROP per capability is all the
 * kernel needs, and verify_no_capabilities() reads the result back. */
static int
drop_bounding_and_ambient(uint64_t keep)
{
	unsigned long cap;

	/* EINVAL past the last capability the kernel knows; 64 is where
	 * capability sets end today. */
	for (cap = 0; cap < 64; cap++) {
		if (keep & (UINT64_C(1) << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL && cap > 0)
				break;
			return -errno;
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

/* After setresuid() the kernel has emptied permitted and effective, but
 * not inheritable (nor anything at all if the target uid is 0): clear
 * them all.  The bounding set is already empty (its CAP_SETPCAP is gone
 * now) and verified below.
 *
 * With the raw call, not libcap-ng: a session's process runs this in a
 * clone() that shares the monitor's memory (spawn.c), and libcap-ng keeps
 * its state, the pid it works on included, in a static that fork()
 * handlers reset but clone() does not, so a second session's process
 * would act on the first's pid. */
static int
clear_capabilities(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

/* An old id that can be set again means the drop did not happen (e.g. a
 * saved set-user-ID left behind, or SECBIT_NO_SETUID_FIXUP games). */
static int
check_cannot_regain(const uid_t old_uid[3], const gid_t old_gid[3], uid_t uid,
    gid_t gid, bool was_root)
{
	int i;

	for (i = 0; i < 3; i++) {
		if (old_uid[i] != uid && setuid(old_uid[i]) == 0)
			return -ENOTRECOVERABLE;
		if (old_gid[i] != gid && setgid(old_gid[i]) == 0)
			return -ENOTRECOVERABLE;
	}
	if (was_root && uid != 0) {
		if (setuid(0) == 0 || seteuid(0) == 0)
			return -ENOTRECOVERABLE;
		if (setgroups(0, NULL) == 0)
			return -ENOTRECOVERABLE;
	}
	return 0;
}

static int
cmp_gid(const void *a, const void *b)
{
	gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;

	return x < y ? -1 : x > y;
}

static int
verify_groups(const gid_t *groups, size_t ngroups)
{
	gid_t *want = NULL, *have = NULL;
	int n, r = -ENOTRECOVERABLE;

	n = getgroups(0, NULL);
	if (n < 0)
		return -errno;
	if ((size_t)n != ngroups)
		return -ENOTRECOVERABLE;
	if (ngroups == 0)
		return 0;
	want = calloc(ngroups, sizeof(*want));
	have = calloc(ngroups, sizeof(*have));
	if (want == NULL || have == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if (getgroups(n, have) != n) {
		r = -ENOTRECOVERABLE;
		goto out;
	}
	/* The kernel keeps the list sorted: compare as multisets. */
	memcpy(want, groups, ngroups * sizeof(*want));
	qsort(want, ngroups, sizeof(*want), cmp_gid);
	qsort(have, ngroups, sizeof(*have), cmp_gid);
	if (memcmp(want, have, ngroups * sizeof(*want)) == 0)
		r = 0;
out:
	free(want);
	free(have);
	return r;
}

/* Read every capability set back with the raw interfaces, which work
 * without /proc (the network child is chrooted).  any_bounding: the
 * bounding set is left as it is (what a setuid program may gain), every
 * other set must still be empty. */
static int
verify_no_capabilities(bool any_bounding)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	unsigned long cap;
	int i, r;

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective || data[i].permitted ||
		    data[i].inheritable)
			return -ENOTRECOVERABLE;
	/* PR_CAPBSET_READ fails with EINVAL past the last capability the
	 * kernel knows; 64 is where capability sets end today. */
	for (cap = 0; cap < 64; cap++) {
		r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (r < 0)
			break;
		if (r != 0 && !any_bounding)
			return -ENOTRECOVERABLE;
		r = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0);
		if (r != 0)
			return -ENOTRECOVERABLE;
	}
	/* Every set libcap-ng knows (effective, permitted, inheritable,
	 * bounding, ambient) has now been read from the kernel itself;
	 * capng_get_caps_process() would read the same ones again. */
	return cap == 0 ? -ENOTRECOVERABLE : 0;
}

static int
verify_state(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups,
    bool setuid_ok)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	int r;

	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return -errno;
	if (ru != uid || eu != uid || su != uid)
		return -ENOTRECOVERABLE;
	if (rg != gid || eg != gid || sg != gid)
		return -ENOTRECOVERABLE;
	r = verify_groups(groups, ngroups);
	if (r < 0)
		return r;
	r = verify_no_capabilities(setuid_ok);
	if (r < 0)
		return r;
	if (!setuid_ok && prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return -ENOTRECOVERABLE;
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return -ENOTRECOVERABLE;
	return 0;
}

static int
drop_to_user(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups,
    bool setuid_ok)
{
	uid_t old_uid[3];
	gid_t old_gid[3];
	bool was_root;
	int r;

	if (uid == (uid_t)-1 || gid == (gid_t)-1)
		return -EINVAL;
	if (ngroups > SANDBOX_MAX_GROUPS)
		return -E2BIG;
	if (ngroups > 0 && groups == NULL)
		return -EINVAL;
	if (getresuid(&old_uid[0], &old_uid[1], &old_uid[2]) < 0 ||
	    getresgid(&old_gid[0], &old_gid[1], &old_gid[2]) < 0)
		return -errno;
	was_root = old_uid[0] == 0 || old_uid[1] == 0 || old_uid[2] == 0;

	if (setgroups(ngroups, groups) < 0)
		return -errno;
	/* With setuid programs allowed the bounding set is what they may
	 * gain (sudo's root needs it whole), so it stays; ambient goes in
	 * both cases. */
	r = setuid_ok ? (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 ?
	    -errno : 0) : drop_bounding_and_ambient(0);
	if (r < 0)
		return r;
	if (setresgid(gid, gid, gid) < 0)
		return -errno;
	if (setresuid(uid, uid, uid) < 0)
		return -errno;
	r = clear_capabilities();
	if (r < 0)
		return r;
	r = check_cannot_regain(old_uid, old_gid, uid, gid, was_root);
	if (r < 0)
		return r;
	if (!setuid_ok && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	/* Not dumpable: no core file, and no ptrace attach or /proc/pid
	 * access by other processes of the same uid (the user's other
	 * sessions) to whatever this process still holds in memory.  The
	 * exec of the user's program makes it dumpable again. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -errno;
	return verify_state(uid, gid, groups, ngroups, setuid_ok);
}

int
sandbox_drop_to_user(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups)
{
	return drop_to_user(uid, gid, groups, ngroups, false);
}

int
sandbox_drop_to_user_setuid_ok(uid_t uid, gid_t gid, const gid_t *groups,
    size_t ngroups)
{
	return drop_to_user(uid, gid, groups, ngroups, true);
}

int
sandbox_drop_capabilities(void)
{
	int r = drop_bounding_and_ambient(0);

	if (r < 0)
		return r;
	r = clear_capabilities();
	if (r < 0)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -errno;
	r = verify_no_capabilities(false);
	if (r < 0)
		return r;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1 ||
	    prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return -ENOTRECOVERABLE;
	return 0;
}

static int
keep_capabilities(const unsigned *caps, size_t n, bool cut_bounding)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	uint64_t want = 0, eff, prm, inh;
	unsigned long cap;
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		if (caps[i] >= 64)
			return -EINVAL;
		want |= UINT64_C(1) << caps[i];
	}
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	/* What is not permitted any more (a unit's CapabilityBoundingSet=)
	 * cannot be kept: the caller finds out when it needs it. */
	want &= (uint64_t)data[1].permitted << 32 | data[0].permitted;
	/* The bounding set first: shrinking it takes CAP_SETPCAP, which
	 * may be among those dropped next. */
	r = cut_bounding ? drop_bounding_and_ambient(want) :
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 ? -errno : 0;
	if (r < 0)
		return r;
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		data[i].effective = data[i].permitted = (uint32_t)(want >> (32 * i));
		data[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;

	/* Read back, as for the drop. */
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	eff = (uint64_t)data[1].effective << 32 | data[0].effective;
	prm = (uint64_t)data[1].permitted << 32 | data[0].permitted;
	inh = (uint64_t)data[1].inheritable << 32 | data[0].inheritable;
	if (eff != want || prm != want || inh != 0)
		return -ENOTRECOVERABLE;
	for (cap = 0; cap < 64; cap++) {
		r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (r < 0)
			break;
		if (r != 0 && cut_bounding && !(want & (UINT64_C(1) << cap)))
			return -ENOTRECOVERABLE;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) != 0)
			return -ENOTRECOVERABLE;
	}
	return cap == 0 ? -ENOTRECOVERABLE : 0;
}

int
sandbox_keep_capabilities(const unsigned *caps, size_t n)
{
	return keep_capabilities(caps, n, true);
}

int
sandbox_limit_capabilities(const unsigned *caps, size_t n)
{
	return keep_capabilities(caps, n, false);
}
