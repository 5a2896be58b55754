"""`make install` as an operator runs it: the installed front must find
and load the installed halves (not the build tree's), and they must work
together.  Installed with DESTDIR into the work directory and LIBEXECDIR
/mnt/sshand, then /mnt is bind-mounted from there in the suite's private
mount namespace (hiding whatever /mnt holds, in there only): so the paths
baked into the installed front are real ones, and nothing outside the
namespace changes."""

import os
import subprocess

import pytest

from harness import BUILD, WORK

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def installed(tmp_path):
    dest = tmp_path / "root"
    r = subprocess.run(["make", "-s", "-C", REPO, "BUILD=" + os.path.relpath(BUILD, REPO),
                        "install", "DESTDIR=%s" % dest, "LIBEXECDIR=/mnt/sshand"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    subprocess.run(["mount", "--bind", str(dest / "mnt"), "/mnt"], check=True)
    try:
        yield dest
    finally:
        subprocess.run(["umount", "/mnt"], check=True)


def test_installed_front_loads_installed_halves(installed, keys):
    front = installed / "usr/local/sbin/sshand"
    assert sorted(os.listdir("/mnt/sshand")) == ["sshand-monitor.so", "sshand-net.so",
                                                 "sshand-nogssapi.so"]
    conf = installed / "test.conf"
    conf.write_text("HostKey %s\nPrivsepUser sshand\nPrivsepDirectory %s\n"
                    % (keys.host("ed25519"), os.path.join(WORK, "empty")))
    # -t loads sshand-monitor.so (the host keys are checked with the key
    # holder's loader).
    r = subprocess.run([str(front), "-t", "-f", str(conf)], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    # And the installed halves are what it loads: without them, it fails.
    subprocess.run(["mount", "--bind", "/dev/null", "/mnt/sshand/sshand-monitor.so"],
                   check=True)
    try:
        r = subprocess.run([str(front), "-t", "-f", str(conf)], capture_output=True,
                           text=True, timeout=30)
    finally:
        subprocess.run(["umount", "/mnt/sshand/sshand-monitor.so"], check=True)
    assert r.returncode != 0 and "/mnt/sshand/sshand-monitor.so" in r.stderr, \
        r.stdout + r.stderr
