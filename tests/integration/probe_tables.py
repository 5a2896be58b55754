"""Expected output of tests/probe/probe.c inside a session, per profile.

The probe prints ``status NAME VALUE`` and ``call NAME RESULT`` lines (see
the comment at the top of tests/probe/probe.c).  ``EXPECT[profile]`` maps
each name to the expected value, or to a tuple of acceptable values where
the answer depends on the kernel's configuration or sysctls rather than on
sshand (e.g. a kernel without module support answers ENOSYS where Debian's
answers EPERM).  Values for calls a profile denies are exact: they are what
tests/unit/test_sandbox.c proves for the filter itself.

Only the session profile is described: the shipped unit adds no seccomp
filter (units/sshand@.service); its hardening.conf drop-in does, and a
test under it says what it stacks.

Usage:
    from probe_tables import compare
    assert compare("login", output, uid=1001, gid=1001, groups=[1001]) == []
"""

import os
import subprocess

ZERO_CAPS = "0000000000000000"
CAPS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")

# What an unprivileged user gets from the kernel with no session filter.
# Tuples: answers that depend on the kernel build or its sysctls.
_USERNS = ("ok", "EPERM", "ENOSPC", "EACCES")
_UNPRIV = {
    "mount": "EFAULT",
    "umount2": "EINVAL",
    "fsopen": "EPERM",
    "fsconfig": "EINVAL",
    "fsmount": "EPERM",
    "fspick": "EPERM",
    "move_mount": "EPERM",
    "open_tree": "EINVAL",
    "mount_setattr": "EINVAL",
    "pivot_root": "EPERM",
    "chroot": "EFAULT",
    "setns": "EBADF",
    "unshare_newuser": _USERNS,
    "unshare_newns": "EPERM",
    "unshare_newnet": "EPERM",
    "unshare_files": "ok",
    "clone_newuser": _USERNS,
    "clone_newuser_high": _USERNS,
    "clone_newnet": "EPERM",
    "clone_fork": "ok",
    "clone3": "EINVAL",
    "init_module": ("EPERM", "ENOSYS"),
    "finit_module": ("EPERM", "ENOSYS"),
    "delete_module": ("EPERM", "ENOSYS"),
    "kexec_load": ("EPERM", "ENOSYS"),
    "kexec_file_load": ("EPERM", "ENOSYS"),
    "reboot": "EPERM",
    "swapon": "EPERM",
    "swapoff": "EPERM",
    "settimeofday": "EFAULT",
    "clock_settime": "EFAULT",
    "clock_adjtime": "EFAULT",
    "adjtimex": "EFAULT",
    "iopl": ("EINVAL", "EPERM", "ENOSYS"),
    "ioperm": ("EINVAL", "EPERM", "ENOSYS"),
    "bpf": ("EINVAL", "EPERM"),
    "perf_event_open": ("EFAULT", "ENOSYS"),
    "userfaultfd": ("EINVAL", "EPERM", "ENOSYS"),
    "io_uring_setup": ("EFAULT", "EPERM", "ENOSYS"),
    "io_uring_enter": ("EBADF", "ENOSYS"),
    "io_uring_register": ("EINVAL", "EBADF", "ENOSYS"),
    "add_key": ("EFAULT", "ENOSYS"),
    "request_key": ("EFAULT", "ENOSYS"),
    "keyctl": ("EOPNOTSUPP", "ENOSYS"),
    "acct": ("EPERM", "ENOSYS"),
    "quotactl": ("ENODEV", "ENOSYS"),
    "quotactl_fd": ("EBADF", "ENOSYS"),
    "syslog": "EPERM",
    "open_by_handle_at": ("EFAULT", "EPERM"),
    "name_to_handle_at": ("EFAULT", "EOPNOTSUPP"),
    "lookup_dcookie": ("ENOSYS", "EPERM"),
    "nfsservctl": "ENOSYS",
    "vhangup": "EPERM",
    "uselib": ("ENOSYS", "EFAULT"),
    "sysfs": ("EINVAL", "ENOSYS"),
    "_sysctl": "ENOSYS",
    "ustat": ("EINVAL", "ENOSYS"),
    "personality_query": "ok",
    "personality_linux": "ok",
    "personality_linux32": "ok",
    "personality_linux32_high": "ok",
    "personality_norandom": "ok",
    "ioctl_tiocsti": "EBADF",
    "ioctl_tiocsti_high": "EBADF",
    "ioctl_tioclinux": "EBADF",
    "ioctl_tioclinux_high": "EBADF",
    "ioctl_fionread": "EBADF",
    "socket_unix": "ok",
    "socket_inet": "ok",
    "socket_inet_high": "ok",
    "socket_inet6": ("ok", "EAFNOSUPPORT"),
    "socket_netlink": "ok",
    "socket_packet": "EPERM",
    "socket_vsock": ("ok", "EAFNOSUPPORT"),
    "socket_vsock_high": ("ok", "EAFNOSUPPORT"),
    "socket_family_99": "EAFNOSUPPORT",
    "socketpair_unix": "ok",
    "socketpair_inet": "EOPNOTSUPP",
    "ptrace_traceme": ("ok", "EPERM"),
    "process_vm_readv": "ok",
    "process_vm_writev": "ok",
    "pidfd_getfd": "EBADF",
    "memfd_secret": ("EINVAL", "ENOSYS"),
    # SIGSEGV: a kernel booted with ia32_emulation=0.
    "int80_getpid": ("ok", "killed:SIGSEGV"),
    "x32_getpid": ("ENOSYS", "ok"),
    "setuid0": "EPERM",
}



def _int80_unfiltered():
    """What int $0x80 gets from this kernel with no filter at all.

    The filter's answer (SIGSYS) needs the kernel's i386 entry point; a
    kernel without it (ia32_emulation=0, some VM kernels) kills the caller
    with SIGSEGV before any filter runs.  Asked of the probe itself,
    unconfined, so that the expectation follows the kernel, not a guess."""
    build = os.environ.get("SSHAND_BUILD") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")
    out = subprocess.run([os.path.join(build, "tests", "probe"),
                          "int80_getpid"], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    for line in out.splitlines():
        if line.startswith("call int80_getpid "):
            return line.split(" ", 2)[2]
    raise RuntimeError("the probe printed no int80_getpid line:\n" + out)


# Other ABIs under a filter: its bad-architecture action, where the kernel
# lets the call reach the filter at all.
_INT80_DENIED = ("killed:SIGSEGV" if _int80_unfiltered() == "killed:SIGSEGV"
                 else "killed:SIGSYS")

# Denied by "login" (and so by "strict"), with the errno the filter answers.
_LOGIN_DENIED = {
    name: "EPERM" for name in (
        "mount", "umount2", "fsopen", "fsconfig", "fsmount", "fspick",
        "move_mount", "open_tree", "mount_setattr", "pivot_root", "chroot",
        "setns", "unshare_newuser", "unshare_newns", "unshare_newnet",
        "clone_newuser", "clone_newuser_high", "clone_newnet",
        "init_module", "finit_module", "delete_module", "kexec_load",
        "kexec_file_load", "reboot", "swapon", "swapoff", "settimeofday",
        "clock_settime", "clock_adjtime", "adjtimex", "iopl", "ioperm",
        "bpf", "perf_event_open", "userfaultfd", "io_uring_setup",
        "io_uring_enter", "io_uring_register", "add_key", "request_key",
        "keyctl", "acct", "quotactl", "quotactl_fd", "syslog",
        "open_by_handle_at", "name_to_handle_at", "lookup_dcookie",
        "nfsservctl", "vhangup", "uselib", "sysfs", "_sysctl", "ustat",
        "personality_linux32", "personality_linux32_high",
        "personality_norandom", "ioctl_tiocsti", "ioctl_tiocsti_high",
        "ioctl_tioclinux", "ioctl_tioclinux_high",
    )
}
_LOGIN_DENIED.update({
    "clone3": "ENOSYS",
    "socket_packet": "EAFNOSUPPORT",
    "socket_vsock": "EAFNOSUPPORT",
    "socket_vsock_high": "EAFNOSUPPORT",
    "socket_family_99": "EAFNOSUPPORT",
    # Other ABIs: the filter's bad-architecture action.
    "int80_getpid": _INT80_DENIED,
    "x32_getpid": "killed:SIGSYS",
})

_STRICT_DENIED = dict(_LOGIN_DENIED)
_STRICT_DENIED.update({
    "ptrace_traceme": "EPERM",
    "process_vm_readv": "EPERM",
    "process_vm_writev": "EPERM",
    "pidfd_getfd": "EPERM",
    "memfd_secret": "EPERM",
    "socket_inet": "EAFNOSUPPORT",
    "socket_inet_high": "EAFNOSUPPORT",
    "socket_inet6": "EAFNOSUPPORT",
    "socket_netlink": "EAFNOSUPPORT",
    "socketpair_inet": "EAFNOSUPPORT",
})

def _own_bounding_set():
    """The bounding set sshand inherits from whoever runs the tests: what
    a session keeps when its policy allows setuid programs."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapBnd:"):
                return line.split()[1]
    return ZERO_CAPS


def status_expect(profile, nnp=None):
    """The status lines of a session under profile.  nnp: its
    NoNewPrivileges, by default the profile's (yes for strict only).
    With no_new_privs the bounding set is empty; without it, it is what
    setuid programs gain (sudo: the whole set), every other set empty."""
    if nnp is None:
        nnp = profile == "strict"
    st = {cap: ZERO_CAPS for cap in CAPS}
    if not nnp:
        st["CapBnd"] = _own_bounding_set()
    st["NoNewPrivs"] = "1" if nnp else "0"
    st["Seccomp"] = "0" if profile == "none" else "2"
    return st


EXPECT = {
    "login": dict(status_expect("login"), **dict(_UNPRIV, **_LOGIN_DENIED)),
    "strict": dict(status_expect("strict"), **dict(_UNPRIV, **_STRICT_DENIED)),
    "none": dict(status_expect("none"), **_UNPRIV),
}

# Names printed as "status" lines (the rest are "call" lines).
STATUS_NAMES = ("Uid", "Gid", "Groups") + CAPS + ("NoNewPrivs", "Seccomp")


def parse(output_text):
    """Returns ({status name: value}, {call name: result}) of probe output."""
    status, calls = {}, {}
    for line in output_text.splitlines():
        parts = line.split(" ", 2)
        if len(parts) != 3:
            continue
        kind, name, value = parts
        if kind == "status":
            status[name] = value
        elif kind == "call":
            calls[name] = value
    return status, calls


def _ok(value, want):
    return value in want if isinstance(want, tuple) else value == want


def compare(profile, output_text, uid=None, gid=None, groups=None, nnp=None):
    """Lists every difference between the probe's output and EXPECT.

    uid/gid/groups, when given, are checked against the Uid/Gid lines
    (all four ids) and the Groups line (as a set; "-" is no groups).
    nnp: the session's NoNewPrivileges when the policy sets it.
    Returns a list of human-readable mismatches, empty when all is well.
    """
    want = dict(EXPECT[profile], **status_expect(profile, nnp))
    status, calls = parse(output_text)
    out = []
    for name, expected in want.items():
        got = status.get(name) if name in STATUS_NAMES else calls.get(name)
        if got is None:
            out.append("%s: missing from the probe output" % name)
        elif not _ok(got, expected):
            out.append("%s: got %s, want %s" % (name, got, expected))
    for name in calls:
        if name not in want:
            out.append("%s: probed but not in EXPECT[%r]" % (name, profile))
    if uid is not None and status.get("Uid") != " ".join([str(uid)] * 4):
        out.append("Uid: got %s, want %s everywhere" % (status.get("Uid"), uid))
    if gid is not None and status.get("Gid") != " ".join([str(gid)] * 4):
        out.append("Gid: got %s, want %s everywhere" % (status.get("Gid"), gid))
    if groups is not None:
        got = status.get("Groups", "")
        have = set() if got in ("", "-") else set(got.split())
        if have != {str(g) for g in groups}:
            out.append("Groups: got %s, want %s" % (got, sorted(groups)))
    return out


if __name__ == "__main__":
    # tests/integration/probe_tables.py PROFILE < probe-output
    import sys
    problems = compare(sys.argv[1], sys.stdin.read())
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)
