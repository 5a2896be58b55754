"""Issue 21 under a real systemd manager: the shipped sshand-nft.path,
.service and .timer, run by `systemd --user` (TEST-ENVIRONMENT.md) inside
the server's network namespace, keep the nftables set in step with the
ban file by themselves: a ban made by real failed logins drops the source
within seconds, an unban lets it back, and steady changes to the file
(every connection's end is one) do not stop the watch."""

import contextlib
import os
import subprocess
import time

import pytest

from harness import BUILD, WORK, wait_for
from test_bans_nft import BAD, GOOD, WRONG, Lab, logged_in
from test_units_systemd import UserManager

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNITS = os.path.join(REPO, "units")
NFT_UNITS = ("sshand-nft.service", "sshand-nft.path", "sshand-nft.timer")


class NsManager(UserManager):
    """The user manager in a network namespace: the units' nft runs
    there, never in the host's firewall.  nsenter, not `ip netns exec`,
    whose fresh /sys has no cgroup file system for the manager."""

    def __init__(self, base, netns):
        super().__init__(base)
        self.netns = netns

    def start(self):
        # The tmpfs hides the host's /run/systemd/inaccessible, which
        # ProtectHome=, ProtectKernelTunables= and the like mount over what
        # they hide: without these nodes such units fail with 226/NAMESPACE.
        script = ("set -e; mount -t tmpfs -o mode=0755 tmpfs /run/systemd; "
                  "mkdir /run/systemd/system; i=/run/systemd/inaccessible; "
                  "mkdir -p $i; mkdir -m 0 $i/dir; touch $i/reg; chmod 0 $i/reg; "
                  "mkfifo -m 0 $i/fifo; mknod -m 0 $i/chr c 0 0; "
                  "mknod -m 0 $i/blk b 0 0; exec systemd --user")
        self.log_path = os.path.join(self.base, "manager.log")
        self.proc = subprocess.Popen(
            ["nsenter", "--net=/run/netns/" + self.netns, "unshare", "-m", "--propagation",
             "private", "sh", "-c", script],
            env=self.env, stdin=subprocess.DEVNULL, stdout=open(self.log_path, "ab"),
            stderr=subprocess.STDOUT, start_new_session=True, cwd="/")
        private = os.path.join(self.env["XDG_RUNTIME_DIR"], "systemd", "private")
        up = wait_for(lambda: self.proc.poll() is not None or (
            os.path.exists(private) and self.ctl("is-system-running").stdout.strip()
            in ("running", "degraded")), 30, 0.2)
        if not up or self.proc.poll() is not None:
            raise AssertionError("systemd --user did not start:\n" + self.log())

    @contextlib.contextmanager
    def serving(self, lab, *units):
        """A module fixture's life: the manager started with units, then
        stopped and lab closed, which must leave no problem behind."""
        try:
            self.start()
            r = self.ctl("start", *units)
            assert r.returncode == 0, r.stderr + self.log()
            yield
        finally:
            self.stop()
            problems = lab.close()
        assert not problems, problems


def install(mgr, lab):
    s = lab.s
    for name in NFT_UNITS:
        with open(os.path.join(UNITS, name)) as f:
            text = f.read().replace("@SBINDIR@", BUILD)
        with open(os.path.join(mgr.unitdir, name), "w") as f:
            f.write(text)
    for name, text in (
        ("sshand-nft.path", "[Path]\nPathChanged=\nPathChanged=%s\n" % s.ban_file),
        ("sshand-nft.service", f"""[Service]
# The build's sshandctl with the test's configuration (and so its ban
# file), its output in the test's folder (no journald here).
ExecStart=
ExecStart={BUILD}/sshandctl -f {s.conf} bans nft-sync
StandardOutput=append:{lab.sync_log}
StandardError=append:{lab.sync_log}
# The test's files live under /tmp, which PrivateTmp= replaces: bound
# into it, read-only.  So is the build, which PrivateTmp= or ProtectHome=
# hide when the checkout is under /tmp, /home or /root (as CI's may be).
# Every directive of the shipped unit stays in force.
BindReadOnlyPaths={s.dir}
BindReadOnlyPaths={BUILD}
""")):
        d = os.path.join(mgr.unitdir, name + ".d")
        os.makedirs(d)
        with open(os.path.join(d, "test.conf"), "w") as f:
            f.write(text)


@pytest.fixture(scope="module")
def managed(keys):
    lab = Lab(keys, "u%d" % os.getpid())
    lab.sync_log = os.path.join(lab.s.dir, "nft-sync.log")
    mgr = NsManager(os.path.join(WORK, "nftmgr"), lab.srv)
    install(mgr, lab)
    with mgr.serving(lab, "sshand-nft.path", "sshand-nft.timer"):
        yield mgr, lab


def where(mgr, lab):
    try:
        with open(lab.sync_log) as f:
            out = f.read()[-2000:]
    except FileNotFoundError:
        out = "(none)"
    st = mgr.ctl("status", *NFT_UNITS).stdout
    return "\n--- nft-sync ---\n%s\n--- status ---\n%s\n--- manager ---\n%s" % (
        out, st[-3000:], mgr.log()[-2000:])


def elements_or_none(lab):
    try:
        return lab.elements()
    except subprocess.CalledProcessError:
        return None		# no table yet


def test_units_keep_the_set_in_step(managed):
    mgr, lab = managed
    # The timer's first run makes the (empty) table.
    assert wait_for(lambda: elements_or_none(lab) == {}, 15), where(mgr, lab)
    for _ in range(2):
        r = lab.login(BAD, WRONG)
        assert r.returncode == 255, r
    # The file's change starts the service: the source is dropped.
    assert wait_for(lambda: BAD in (elements_or_none(lab) or {}), 15), where(mgr, lab)
    assert lab.probe(BAD) == {"connected": 0, "refused": 0, "timeout": 1}
    logged_in(lab.login(GOOD))
    # The service ran confined, and succeeded.
    show = mgr.ctl("show", "sshand-nft.service", "-p", "Result",
                   "-p", "CapabilityBoundingSet").stdout
    assert "Result=success" in show, show + where(mgr, lab)
    assert "CapabilityBoundingSet=cap_net_admin\n" in show, show

    # Steady changes (every connection's end is one) for 12 s: the watch
    # goes on.  Spaced out, as connections are (inotify merges identical
    # events not yet read).  The service starts about once a second, past
    # the default start limit (5 in 10 s) that would fail it and the path.
    end = time.monotonic() + 12
    while time.monotonic() < end:
        open(lab.s.ban_file, "r+b").close()
        time.sleep(0.005)
    for u in ("sshand-nft.path", "sshand-nft.timer"):
        assert mgr.ctl("is-active", u).stdout.strip() == "active", where(mgr, lab)
    assert mgr.ctl("is-failed", "sshand-nft.service").stdout.strip() != "failed", \
        where(mgr, lab)

    r = lab.ctl("unban", BAD)
    assert r.returncode == 0, r.stderr
    assert wait_for(lambda: elements_or_none(lab) == {}, 15), where(mgr, lab)
    assert lab.probe(BAD)["connected"] == 1
    logged_in(lab.login(BAD))
    assert mgr.ctl("is-active", "sshand-nft.path").stdout.strip() == "active"
