"""The shared ban file under real processes: concurrency, SIGKILL at random
instants, damage, and the sshandctl round trip.

Needs no SSH server: only build/tests/banstress-tool and build/sshandctl.
Standalone: SSHAND_BUILD=$PWD/build /usr/bin/python3 -m pytest --noconftest \
    tests/integration/test_banfile.py
"""

import json
import os
import random
import signal
import subprocess
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("SSHAND_BUILD") or os.path.join(REPO, "build")
TOOL = os.path.join(BUILD, "tests", "banstress-tool")
CTL = os.path.join(BUILD, "sshandctl")
# A config path that does not exist: built-in defaults, never the host's.
NOCONF = "/nonexistent/sshand.conf"



@pytest.fixture(autouse=True)
def _built():
    """make test builds both: one missing is a failure, never a skip that
    would hide every test of this file (a skip at collection once did,
    in a run beside another suite on the same machine)."""
    for path in (TOOL, CTL):
        if not os.access(path, os.X_OK):
            pytest.fail("%s missing: build it first (make test-bins)" % path)


def tool(*args, check=True):
    r = subprocess.run([TOOL, *args], capture_output=True, text=True, timeout=60)
    if check and r.returncode != 0:
        raise AssertionError(f"banstress {args}: rc {r.returncode}: {r.stderr}")
    return r


def ctl(banfile, *args, expect=0, as_json=False):
    cmd = [CTL, "-f", NOCONF, *(["--json"] if as_json else []),
           "bans", "--ban-file", banfile, *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert r.returncode == expect, f"{cmd}: rc {r.returncode}: {r.stdout}{r.stderr}"
    return r


def ctl_json(banfile, *args, expect=0):
    return json.loads(ctl(banfile, *args, expect=expect, as_json=True).stdout)


def verify(banfile):
    r = tool("verify", banfile, check=False)
    doc = json.loads(r.stdout)
    assert r.returncode == 0 and doc["consistent"], r.stdout + r.stderr
    return doc


def test_64_concurrent_failures_all_counted(tmp_path):
    f = str(tmp_path / "bans")
    tool("fail", f, "198.51.100.1", "1")      # the file exists before the race
    procs = [subprocess.Popen([TOOL, "fail", f, "203.0.113.7", "1"],
                              stderr=subprocess.PIPE) for _ in range(64)]
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    e = ctl_json(f, "show", "203.0.113.7")
    assert e["failure_units"] == 64 * 1000
    assert e["failures"] == 64
    assert e["total_failures"] == 64
    verify(f)


def test_64_concurrent_creators(tmp_path):
    """The race to create the file: one wins, nobody sees it half-made."""
    f = str(tmp_path / "bans")
    procs = [subprocess.Popen([TOOL, "fail", f, "2001:db8::7", "1"],
                              stderr=subprocess.PIPE) for _ in range(64)]
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        assert b"damaged" not in err
    assert ctl_json(f, "show", "2001:db8::1")["total_failures"] == 64
    assert not [n for n in os.listdir(tmp_path) if n != "bans"]
    verify(f)


def test_sigkill_at_random_instants(tmp_path):
    f = str(tmp_path / "bans")
    tool("fail", f, "203.0.113.8", "1")
    rng = random.Random(4)
    kills = 0
    last_total = 0
    deadline = time.monotonic() + 25
    while kills < 400 and time.monotonic() < deadline:
        procs = [subprocess.Popen([TOOL, "hammer", f, "203.0.113.8"],
                                  stderr=subprocess.DEVNULL) for _ in range(4)]
        for p in procs:
            time.sleep(rng.uniform(0, 0.02))
            p.send_signal(signal.SIGKILL)
        for p in procs:
            p.wait(timeout=10)
            # It was running (killed), not dead of an error of its own.
            assert p.returncode == -signal.SIGKILL
            kills += 1
        if kills % 40 == 0:
            verify(f)
            total = ctl_json(f, "show", "203.0.113.8")["total_units"]
            assert total >= last_total     # a kill never rolls back the past
            last_total = total
    assert kills >= 200, f"only {kills} kills in the time box"
    doc = verify(f)
    assert not doc["damaged"]
    e = ctl_json(f, "show", "203.0.113.8")
    assert e["total_units"] >= last_total and e["total_units"] > 1000
    # Bounded by what the hammers touch: one source, 200 others.
    assert doc["entries"] <= 1 + 200
    # And it still works as a ban file.
    tool("fail", f, "203.0.113.8", "1")
    assert ctl_json(f, "show", "203.0.113.8")["total_units"] == e["total_units"] + 1000


def _corrupt(path, kind):
    size = os.path.getsize(path)
    with open(path, "r+b") as fh:
        if kind == "truncated":
            fh.truncate(1000)
        elif kind == "truncated-to-zero":
            fh.truncate(0)
        elif kind == "random-bytes":
            rng = random.Random(7)
            fh.write(bytes(rng.getrandbits(8) for _ in range(size)))
        elif kind == "random-header":
            fh.write(os.urandom(64))
        elif kind == "wrong-version":
            # Not sealed by the header's check: damage, not a newer
            # version (those are left alone: tests/unit/test_ban.c).
            fh.seek(8)
            fh.write((9).to_bytes(4, "little"))
        elif kind == "wrong-magic":
            fh.write(b"NOTABANF")
        elif kind == "appended":
            fh.seek(size)
            fh.write(b"\0" * 4096)


@pytest.mark.parametrize("kind", ["truncated", "truncated-to-zero", "random-bytes",
                                  "random-header", "wrong-version", "wrong-magic",
                                  "appended"])
def test_damaged_file_detected_rebuilt_fails_open(tmp_path, kind):
    f = str(tmp_path / "bans")
    ctl(f, "ban", "203.0.113.9", "1h")
    assert tool("check", f, "203.0.113.9", check=False).returncode == 3
    _corrupt(f, kind)
    r = tool("verify", f, check=False)
    # banstress verify opens the file (which rebuilds it) before verifying:
    # what it must show is that the damage was seen.
    assert json.loads(r.stdout)["damaged"] is True
    _corrupt(f, kind)
    r = tool("check", f, "203.0.113.9", check=False)
    assert r.returncode == 0, r.stdout + r.stderr          # fails open
    assert "damaged" in r.stderr                            # and says so
    verify(f)
    # Usable again by every tool.
    ctl(f, "ban", "203.0.113.9", "1h")
    assert tool("check", f, "203.0.113.9", check=False).returncode == 3
    _corrupt(f, kind)
    r = ctl(f, "list")
    assert "damaged" in r.stderr and "203.0.113.9" not in r.stdout


def test_ctl_round_trip(tmp_path):
    f = str(tmp_path / "bans")
    # ban with a duration, sshd time format
    e = ctl_json(f, "ban", "192.0.2.10", "1h")
    assert e["address"] == "192.0.2.10" and e["banned"] is True
    assert 3590 <= e["remaining"] <= 3600 and e["bans"] == 1
    assert e["banned_until"].endswith("Z")
    e = ctl_json(f, "ban", "2001:db8:5::1234", "30m")
    assert e["address"] == "2001:db8:5::/64" and e["prefix"] == 64
    assert 1790 <= e["remaining"] <= 1800
    # v4-mapped is the IPv4 source; the /64 covers its neighbours
    assert tool("check", f, "::ffff:192.0.2.10", check=False).returncode == 3
    assert tool("check", f, "2001:db8:5::99", check=False).returncode == 3
    assert tool("check", f, "2001:db8:6::99", check=False).returncode == 0
    # default duration: BanTime (1h), doubled on the second ban
    e = ctl_json(f, "ban", "198.51.100.20")
    assert 3590 <= e["remaining"] <= 3600
    e = ctl_json(f, "ban", "198.51.100.20")
    assert 7190 <= e["remaining"] <= 7200 and e["bans"] == 2

    doc = ctl_json(f, "list")
    assert doc["ban_file"] == f
    assert sorted(x["address"] for x in doc["entries"]) == \
        ["192.0.2.10", "198.51.100.20", "2001:db8:5::/64"]
    human = ctl(f, "list").stdout
    assert "ADDRESS" in human and "192.0.2.10" in human and "left)" in human

    r = ctl_json(f, "unban", "192.0.2.10")
    assert r == {"address": "192.0.2.10", "removed": True}
    assert tool("check", f, "192.0.2.10", check=False).returncode == 0
    assert ctl_json(f, "show", "192.0.2.10", expect=1)["found"] is False
    assert ctl_json(f, "unban", "192.0.2.10", expect=1)["removed"] is False

    assert ctl_json(f, "purge") == {"purged": 0, "all": False}
    assert ctl_json(f, "purge", "--all") == {"purged": 2, "all": True}
    assert ctl_json(f, "list")["entries"] == []
    verify(f)

    # usage errors
    ctl(f, "ban", "not-an-address", expect=2)
    ctl(f, "ban", "192.0.2.1", "soon", expect=2)
    ctl(f, "frobnicate", expect=2)
    ctl(f, "show", expect=2)


def test_ctl_config_and_json_escaping(tmp_path):
    odd = str(tmp_path / 'b"a\\n\tbans')
    conf = tmp_path / "sshand.conf"
    conf.write_text(f"BanFile {tmp_path}/fromconf\nBanExempt 10.0.0.0/8\n"
                    "BanIPv6Prefix 48\n")
    r = subprocess.run([CTL, "-f", str(conf), "--json", "bans", "ban", "2001:db8:1:2::1"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["address"] == "2001:db8:1::/48"
    assert os.path.exists(tmp_path / "fromconf")
    r = subprocess.run([CTL, "-f", str(conf), "bans", "ban", "10.2.3.4"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "BanExempt" in r.stderr
    # The global spelling of --ban-file, and a path JSON must escape.
    r = subprocess.run([CTL, "-f", NOCONF, "--json", "--ban-file", odd, "bans", "list"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["ban_file"] == odd


def test_bench_reports_json(tmp_path):
    r = tool("bench", str(tmp_path / "bench"), "1000")
    doc = json.loads(r.stdout)
    assert doc["entries"] == 1000 and doc["lookup_ns"] > 0 and doc["update_ns"] > 0
