"""Issue 17: privilege inside sessions is a policy, not a constant.

SandboxProfile none is what OpenSSH gives (no seccomp, no no_new_privs, a
whole bounding set: sudo works for a sudoers user); login keeps its
seccomp deny-list and lets setuid programs work (passwd, sudo, ping);
strict keeps no_new_privs; NoNewPrivileges yes|no in Match overrides.
With real programs: Debian's sudo (tests/integration/run gives bob a
sudoers line for the run), passwd, and ping with its file capability
cap_net_raw.  And the processes that serve a connection stay confined
before login: the monitor holds only what it uses, the guardian less."""

import os

import pytest

import harness
from test_privsep import find_procs, password_client

SUDO = "/usr/bin/sudo"
PING = "/usr/bin/ping"
# What the monitor keeps before login (handler/monitor/privileges.c).
PREAUTH_CAPS = {"setgid": 6, "setuid": 7, "setpcap": 8, "sys_chroot": 18,
                "sys_admin": 21, "sys_resource": 24, "audit_write": 29,
                "audit_control": 30}
STRICT_CAROL = "Match Group sshstrict\n\tSandboxProfile strict\n"


@pytest.fixture(autouse=True, scope="module")
def programs():
    """The real programs, as Debian installs them (tests/deps.sh)."""
    st = os.stat(SUDO)
    assert st.st_uid == 0 and st.st_mode & 0o4000, "sudo is not setuid root"
    r = harness.run(["getcap", PING])
    assert "cap_net_raw" in r.stdout, "ping has no file capability: " + r.stdout + r.stderr


def sudo_cmd(user, what):
    """sudo reading the user's password on stdin, no prompt, no cached
    credentials."""
    return "sudo -k; echo %s | sudo -S -p '' %s" % (harness.password(user), what)


def passwd_status(out, user):
    """The fields of `passwd -S`'s line for user.  With its privilege
    passwd reads the shadow entry: name, state, date of the last change,
    minimum, maximum, warning and inactivity; without it, only what
    /etc/passwd tells (name and state)."""
    for line in out.splitlines():
        if line.split()[:1] == [user]:
            return line.split()
    return []


def status_of(text):
    return dict((k, v.strip()) for k, _, v in
                (line.partition(":") for line in text.splitlines()) if v)


def test_sudo_under_none(server):
    s = server("Match User bob\n\tSandboxProfile none\n")
    r = s.ssh("bob", sudo_cmd("bob", "sh -c 'id -u; cat /proc/self/status'"),
              key="bob_ed25519")
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "0", r.stdout
    st = status_of(r.stdout)
    # A root as OpenSSH's sudo gives it: every capability there is.
    assert int(st["CapEff"], 16) == harness.own_bounding_set(), st
    assert (st["NoNewPrivs"], st["Seccomp"]) == ("0", "0"), st


def test_login_lets_setuid_programs_work(server):
    s = server()
    # passwd -S for oneself reads /etc/shadow through passwd's setuid.
    r = s.ssh("alice", "passwd -S")
    assert r.returncode == 0 and len(passwd_status(r.stdout, "alice")) == 7, r.stdout + r.stderr
    # ping through its file capability cap_net_raw.
    r = s.ssh("alice", "ping -c 1 -W 5 127.0.0.1")
    assert r.returncode == 0 and "1 received" in r.stdout, r.stdout + r.stderr
    # sudo for a sudoers user, still under the login filter.
    r = s.ssh("bob", sudo_cmd("bob", "sh -c 'id -u; grep -E \"^(Seccomp|NoNewPrivs):\" "
                              "/proc/self/status; unshare -m true'"),
              key="bob_ed25519")
    st = status_of(r.stdout)
    assert r.stdout.splitlines()[0] == "0", r.stdout + r.stderr
    assert (st["Seccomp"], st["NoNewPrivs"]) == ("2", "0"), r.stdout
    # Root or not, the deny-list holds: no new namespaces.
    assert "Operation not permitted" in r.stderr and r.returncode != 0, r.stderr
    # Not a sudoers user: sudo refuses, as on any host.
    r = s.ssh("alice", sudo_cmd("alice", "id -u"))
    assert r.returncode != 0 and "not in the sudoers file" in r.stderr, r.stdout + r.stderr


def test_strict_keeps_no_new_privs(server):
    s = server(STRICT_CAROL + "Match User bob\n\tSandboxProfile strict\n")
    r = s.ssh("carol", "passwd -S; echo rc=$?; ping -c 1 -W 2 127.0.0.1; echo rc=$?; "
              "grep NoNewPrivs /proc/self/status", key="carol_ed25519")
    out = r.stdout + r.stderr
    # passwd runs, as carol: it cannot read the shadow entry.
    assert passwd_status(r.stdout, "carol") == ["carol", "P"], out
    assert r.stdout.count("rc=0") == 1 and "0% packet loss" not in r.stdout, out
    assert status_of(r.stdout)["NoNewPrivs"] == "1", out
    r = s.ssh("bob", sudo_cmd("bob", "id -u"), key="bob_ed25519")
    assert r.returncode != 0 and r.stdout.strip() != "0", r.stdout + r.stderr
    assert "\"no new privileges\" flag is set" in r.stderr, r.stderr


def test_no_new_privileges_in_match(server):
    # yes for alice under login, no for carol under strict.
    s = server(STRICT_CAROL.replace("strict\n", "strict\n\tNoNewPrivileges no\n") +
               "Match User alice\n\tNoNewPrivileges yes\n")
    r = s.ssh("alice", "passwd -S; grep NoNewPrivs /proc/self/status")
    assert passwd_status(r.stdout, "alice") == ["alice", "P"], r.stdout + r.stderr
    assert status_of(r.stdout)["NoNewPrivs"] == "1", r.stdout
    r = s.ssh("carol", "passwd -S; grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status",
              key="carol_ed25519")
    st = status_of(r.stdout)
    assert len(passwd_status(r.stdout, "carol")) == 7, r.stdout + r.stderr
    assert (st["NoNewPrivs"], st["Seccomp"]) == ("0", "2"), r.stdout
    # bob, whom no block names, keeps login's default.
    r = s.ssh("bob", "passwd -S", key="bob_ed25519")
    assert len(passwd_status(r.stdout, "bob")) == 7, r.stdout + r.stderr


def _dump(s, spec):
    r = harness.run([s.binary, "-T", "-f", s.conf, "-C", spec])
    assert r.returncode == 0, r.stderr
    return dict(line.split(" ", 1) for line in r.stdout.splitlines() if " " in line)


def test_dump_shows_the_resolved_value(server):
    s = server(STRICT_CAROL + "Match User bob\n\tNoNewPrivileges yes\n")
    assert _dump(s, "user=alice,addr=127.0.0.1")["nonewprivileges"] == "no"
    assert _dump(s, "user=carol,addr=127.0.0.1")["nonewprivileges"] == "yes"
    assert _dump(s, "user=bob,addr=127.0.0.1")["nonewprivileges"] == "yes"


def _preauth_problems(pid, cut):
    """The monitor at the password prompt: root with PREAUTH_CAPS only
    (without sys_admin when no session may need it); the bounding set
    whole for the sessions to come, unless no policy allows setuid
    programs (cut): then cut to the same, and no_new_privs, as the former
    unit's CapabilityBoundingSet= and NoNewPrivileges= did."""
    st = harness.proc_status(pid)
    caps = sum(1 << b for n, b in PREAUTH_CAPS.items() if not (cut and n == "sys_admin"))
    want = caps & harness.own_bounding_set()
    bnd = want if cut else harness.own_bounding_set()
    out = []
    if st["Uid"].split() != ["0"] * 4:
        out.append("Uid %s" % st["Uid"])
    for k, w in (("CapEff", want), ("CapPrm", want), ("CapBnd", bnd),
                 ("CapInh", 0), ("CapAmb", 0)):
        if int(st[k], 16) != w:
            out.append("%s %s, want %x" % (k, st[k], w))
    if st["NoNewPrivs"] != ("1" if cut else "0"):
        out.append("NoNewPrivs %s" % st["NoNewPrivs"])
    return out


@pytest.mark.parametrize("conf,cut", [
    ("", False),
    ("NoNewPrivileges yes\n", True),
    ("SandboxProfile strict\n", True),
    # A Match block that may give one user setuid programs keeps the
    # bounding set for everyone until the user is known.
    ("SandboxProfile strict\nMatch User bob\n\tNoNewPrivileges no\n", False),
], ids=["default", "nnp-yes", "strict", "strict-but-one"])
def test_preauth_processes_confined(server, conf, cut):
    s = server(conf)
    c = password_client(s)
    try:
        guardian, mon, net = find_procs(s)
        problems = _preauth_problems(mon, cut) + harness.guardian_problems(guardian)
        assert problems == [], problems
        c.send(harness.password("alice") + "\n")
        c.expect(r"logged-in", 20)
        assert c.wait(15) == 0
    finally:
        c.close()
