"""Issue 21's fleet store under a real systemd manager: host B's
fleet-sync is the shipped sshand-fleet.service, run by `systemd --user`
(TEST-ENVIRONMENT.md) in B's network namespace with every sandboxing
directive of the unit in force (no capability, the system read-only, a
private /tmp), while host A's runs plainly (test_bans_fleet.py's lab).
Failures on A ban the source in B's file within a second; with Redis
killed the service stays up and says so; with Redis back it catches up.
"""

import os
import time

import pytest

from harness import BUILD, WORK, wait_for
from test_bans_fleet import BAD1, BAD3, GOOD, MAX_FAILURES, Lab, fail_logins, logged_in
from test_bans_nft_units import NsManager

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNIT = "sshand-fleet.service"


@pytest.fixture(scope="module")
def managed(keys):
    lab = Lab(keys, tag="u%d" % os.getpid(), syncs=("a",))
    mgr = NsManager(os.path.join(WORK, "fleetmgr"), lab.b_ns)
    b = lab.b.s
    with open(os.path.join(REPO, "units", UNIT)) as f:
        text = f.read().replace("@SBINDIR@", BUILD)
    with open(os.path.join(mgr.unitdir, UNIT), "w") as f:
        f.write(text)
    os.makedirs(os.path.join(mgr.unitdir, UNIT + ".d"))
    with open(os.path.join(mgr.unitdir, UNIT + ".d", "test.conf"), "w") as f:
        f.write(f"""[Service]
# The build's sshandctl with host B's configuration (and so its ban file
# and BanStore), its output in the test's folder (no journald here).
ExecStart=
ExecStart={BUILD}/sshandctl -f {b.conf} bans fleet-sync
StandardOutput=append:{lab.b.sync_log}
StandardError=append:{lab.b.sync_log}
# The test's files live under /tmp, which PrivateTmp= replaces: B's folder
# (its ban file) bound into it, writable as /var/lib/sshand is in the
# shipped unit.  So is the build, which PrivateTmp= or ProtectHome= hide
# when the checkout is under /tmp, /home or /root (as CI's may be).
# Every directive of the shipped unit stays in force.
BindPaths={b.dir}
BindReadOnlyPaths={BUILD}
""")
    with mgr.serving(lab, UNIT):
        yield mgr, lab


def where(mgr, lab):
    return "\n--- fleet-sync ---\n%s\n--- status ---\n%s" % (
        lab.b.sync_text()[-2000:], mgr.ctl("status", UNIT).stdout[-2000:])


def test_shipped_unit_syncs_confined(managed):
    mgr, lab = managed
    assert wait_for(lambda: "fleet-sync:" in lab.b.sync_text(), 10), where(mgr, lab)
    show = mgr.ctl("show", UNIT, "-p", "ActiveState", "-p", "CapabilityBoundingSet",
                   "-p", "NoNewPrivileges").stdout
    assert "ActiveState=active" in show and "NoNewPrivileges=yes" in show, show
    assert "CapabilityBoundingSet=\n" in show, show
    fail_logins(lab.a, BAD1, MAX_FAILURES)
    t0 = time.monotonic()
    assert lab.a.s.wait_idle(15)
    assert wait_for(lambda: BAD1 in lab.b.banned(), 5, 0.05), where(mgr, lab)
    assert time.monotonic() - t0 < 1.0, where(mgr, lab)
    r = lab.b.login(BAD1)
    assert r.returncode == 255 and "kex_exchange_identification" in r.stderr, r.stderr

    # Redis away: the service stays up, says so, B bans on its own.
    lab.kill_redis()
    assert wait_for(lambda: "ERROR: fleet store" in lab.b.sync_text(), 5, 0.05), \
        where(mgr, lab)
    logged_in(lab.b.login(GOOD))
    fail_logins(lab.b, BAD3, MAX_FAILURES)
    assert lab.b.s.wait_idle(15)
    assert BAD3 in lab.b.banned()
    assert mgr.ctl("is-active", UNIT).stdout.strip() == "active", where(mgr, lab)

    # Back: B's local ban reaches A through Redis.
    lab.start_redis()
    assert wait_for(lambda: BAD3 in lab.a.banned() and
                    lab.fleet_banned() == {BAD1, BAD3}, 5, 0.1), where(mgr, lab)
    assert "is back after" in lab.b.sync_text(), where(mgr, lab)
    assert mgr.ctl("show", UNIT, "-p", "NRestarts").stdout.strip() == "NRestarts=0", \
        where(mgr, lab)
