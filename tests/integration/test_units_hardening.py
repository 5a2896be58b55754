"""Issue 17: units/hardening.conf, the drop-in for hosts where no session
needs setuid programs, run by a real systemd manager over the shipped
units (as test_units_systemd.py runs them) with NoNewPrivileges yes in
sshand.conf.  The unit's confinement then comes back for every process
of the connection: its seccomp filters stack under the session's, every
session has no_new_privs and an empty bounding set, and sudo gains
nothing.  A configuration that still allows setuid programs keeps
working under it (they just gain nothing)."""

import os
import shutil
import subprocess

import pytest

import harness
import probe_tables
from harness import WORK, Server
from test_units_systemd import (CAPS, PROBE_USERS, STRICT_CONF, UNITS, HeldSession,
                                UserManager, _appended, _sections, _status,
                                install_units, where)

# The unit's own seccomp filters (systemd 252) sit under the session's.
# Where both answer with an errno the session's (newer) filter wins, so
# the tables hold with two exceptions, calls the session lets through and
# the unit refuses first.  Each was traced to its directive by running the
# probe in a service with that directive alone; under
# systemd-socket-activate (test_sandbox_e2e.py) both are "ok".
UNIT_STACKED = {
    # LockPersonality=yes refuses every argument but the current
    # persona, the read-only query 0xffffffff included.  The session
    # profile allows the query; a program that only reads its persona
    # (gdb does before it disables ASLR) gets EPERM here.
    "personality_query": "EPERM",
    # RestrictAddressFamilies= compares all 64 bits: AF_INET with garbage
    # in the upper half (which the kernel ignores) is not on its list.
    # Stricter than the session's masked comparison, and harmless.
    "socket_inet_high": "EAFNOSUPPORT",
}


@pytest.fixture(scope="module")
def hardened(keys):
    srv = Server(keys, "units-hardened",
                 extra_config="KillUserProcesses no\nNoNewPrivileges yes")
    srv.port = harness.free_port()
    etc = os.path.join(WORK, "usermgr-hardened-etc")
    subprocess.run(["cp", "-a", "/etc", etc], check=True)
    mgr = UserManager(os.path.join(WORK, "usermgr-hardened"), etc)
    install_units(mgr, srv)
    # Before the test's own drop-in (test.conf), which must still switch
    # off the two directives this manager cannot apply
    # (TEST-ENVIRONMENT.md): drop-ins apply in the order of their names.
    shutil.copy(os.path.join(UNITS, "hardening.conf"),
                os.path.join(mgr.unitdir, "sshand@.service.d", "hardening.conf"))
    mgr.start()
    try:
        r = mgr.ctl("start", "sshand.socket")
        assert r.returncode == 0, r.stderr + mgr.log()
        yield mgr, srv
    finally:
        mgr.stop()


@pytest.fixture(scope="module")
def probe_bin():
    d = os.path.join(WORK, "units-hardened-bin")
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    dst = os.path.join(d, "probe")
    shutil.copy(os.path.join(harness.BUILD, "tests", "probe"), dst)
    os.chmod(dst, 0o755)
    return dst


def test_probe_under_hardening(hardened, probe_bin):
    mgr, srv = hardened
    # The drop-in is in force: the manager says so.
    r = mgr.ctl("show", "-p", "NoNewPrivileges", "-p", "ProtectSystem", "sshand@x.service")
    assert "NoNewPrivileges=yes" in r.stdout and "ProtectSystem=strict" in r.stdout, r.stdout
    with _appended(srv, STRICT_CONF):
        for user, (key, profile, uid, gid, groups) in PROBE_USERS.items():
            s = HeldSession(srv, user, key, "echo ==self; cat /proc/self/status; "
                            "echo ==probe; %s" % probe_bin)
            try:
                out = s.wait_end()
                sec = _sections(out)
                assert "==end\n" in out and "probe" in sec, (user, out, where(mgr, srv))
                # NoNewPrivileges yes: login's sessions get no_new_privs too.
                diffs = probe_tables.compare(profile, sec["probe"], uid=uid, gid=gid,
                                             groups=groups, nnp=True)
                _, calls = probe_tables.parse(sec["probe"])
                stacked = {n for n, v in UNIT_STACKED.items()
                           if not probe_tables._ok(v, probe_tables.EXPECT[profile][n])}
                assert {d.split(":")[0] for d in diffs} == stacked, (user, diffs, out)
                for name in UNIT_STACKED:
                    assert calls[name] == UNIT_STACKED[name], (user, name, calls[name])
                st = _status(sec["self"])
                for cap in CAPS:
                    assert int(st[cap], 16) == 0, (user, cap, st[cap])
                assert (st["NoNewPrivs"], st["Seccomp"]) == ("1", "2"), (user, st)
                # The unit's filters and the session's, stacked.
                assert int(st["Seccomp_filters"]) >= 2, (user, st)
            finally:
                rc, err = s.finish()
            assert rc == 0, (user, rc, err, where(mgr, srv))


def test_setuid_programs_gain_nothing(hardened):
    mgr, srv = hardened
    cmd = "sudo -k; echo %s | sudo -S -p '' id -u" % harness.password("bob")
    r = harness.run(srv.ssh_argv("bob", cmd, "bob_ed25519"), timeout=60,
                    env=harness.client_env())
    assert r.returncode != 0 and '"no new privileges" flag is set' in r.stderr, \
        (r.stdout, r.stderr, where(mgr, srv))


def test_policy_allowing_setuid_still_logs_in(hardened):
    """hardening.conf on a host whose policy says NoNewPrivileges no: the
    session starts (its filter loads under the unit's no_new_privs) and
    setuid programs gain nothing, as the drop-in says."""
    mgr, srv = hardened
    with _appended(srv, "Match User alice\n\tNoNewPrivileges no\n"):
        r = harness.run(srv.ssh_argv("alice", "grep -E '^(NoNewPrivs|Seccomp):' "
                                     "/proc/self/status; passwd -S", "alice_ed25519"),
                        timeout=60, env=harness.client_env())
    assert r.returncode == 0, (r.stdout, r.stderr, where(mgr, srv))
    st = _status(r.stdout)
    assert (st["NoNewPrivs"], st["Seccomp"]) == ("1", "2"), r.stdout
    assert r.stdout.splitlines()[-1].split() == ["alice", "P"], r.stdout
