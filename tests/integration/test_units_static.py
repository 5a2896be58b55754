"""The shipped units, checked by systemd itself without starting anything:
`systemd-analyze verify` accepts them, and `systemd-analyze security`
rates sshand@.service at 3.0 or better (Debian 12's ssh.service: 9.6)."""

import os
import re
import shutil
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNITS = os.path.join(REPO, "units")
BUILD = os.path.abspath(os.environ.get("SSHAND_BUILD") or os.path.join(REPO, "build"))
MAX_EXPOSURE = 3.0


def _read(name):
    with open(os.path.join(UNITS, name), encoding="utf-8") as f:
        return f.read()


def _settings(text, section):
    """Key=value pairs of one [section], comments and blank lines skipped;
    a repeated key keeps every value."""
    out = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            continue
        if current == section and "=" in line:
            k, v = line.split("=", 1)
            out.setdefault(k.strip(), []).append(v.strip())
    return out


@pytest.fixture(scope="module")
def unitdir(tmp_path_factory):
    """Both units as `make install` writes them, @SBINDIR@ pointing at the
    build under test (verify checks that ExecStart= is executable)."""
    sshand = os.path.join(BUILD, "sshand")
    if not os.access(sshand, os.X_OK):
        pytest.fail(f"{sshand} missing: build first (make), or set SSHAND_BUILD")
    d = tmp_path_factory.mktemp("units")
    shutil.copy(os.path.join(UNITS, "sshand.socket"), d / "sshand.socket")
    svc = _read("sshand@.service")
    assert "@SBINDIR@" in svc, "ExecStart= must use @SBINDIR@ (make install substitutes it)"
    (d / "sshand@.service").write_text(svc.replace("@SBINDIR@", BUILD))
    return d


def _analyze(*args, cwd):
    return subprocess.run(["systemd-analyze", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_verify_accepts_both_units(unitdir):
    # --man=no: the man pages are only installed by make install.
    r = _analyze("verify", "--man=no", "./sshand.socket", "./sshand@.service", cwd=unitdir)
    assert r.returncode == 0, r.stdout + r.stderr
    # verify reports some problems as warnings with exit status 0.
    assert r.stderr.strip() == "", r.stderr


def test_security_exposure_at_most_3(unitdir):
    r = _analyze("security", "--offline=true", "./sshand@.service", cwd=unitdir)
    out = r.stdout + r.stderr
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d)", out)
    assert m, "no overall exposure in systemd-analyze output:\n" + out
    score = float(m.group(1))
    failing = "\n".join(l for l in out.splitlines() if l.startswith("✗"))
    assert score <= MAX_EXPOSURE, f"exposure {score} > {MAX_EXPOSURE}; failing items:\n{failing}"


def test_socket_limits():
    s = _settings(_read("sshand.socket"), "Socket")
    assert s.get("Accept") == ["yes"]
    # The default trigger limit would turn a connection flood into a
    # permanent lock-out of the socket.
    assert s.get("TriggerLimitIntervalSec") == ["0"]
    for key in ("MaxConnections", "MaxConnectionsPerSource"):
        assert key in s, f"{key}= missing"
        assert int(s[key][-1]) > 0
    assert int(s["MaxConnectionsPerSource"][-1]) < int(s["MaxConnections"][-1])


def test_service_essentials():
    s = _settings(_read("sshand@.service"), "Service")
    assert s["StandardInput"] == ["socket"]
    assert s["StandardError"] == ["journal"]
    assert s["ExecStart"][-1].split()[0].endswith("@SBINDIR@/sshand")
    assert set(s["SuccessExitStatus"][-1].split()) == {"3", "4", "5"}
    assert s["StateDirectory"] == ["sshand"]
    # KillUserProcesses no: what the user left running outlives the
    # instance; sshand ends the rest itself.
    assert s["KillMode"] == ["process"]
    # What users' sessions legitimately need must survive the hardening.
    rw = " ".join(s["ReadWritePaths"]).split()
    for path in ("/home", "/tmp", "/var/tmp"):
        assert path in rw, f"{path} must stay writable for sessions"
    assert "ProcSubset" not in s, "ProcSubset=pid breaks ps and top in sessions"
    assert s.get("MemoryDenyWriteExecute", ["no"]) == ["no"], "breaks JITs in sessions"
    assert s.get("PrivateTmp", ["no"]) == ["no"], "sessions share /tmp (tmux, screen)"
    assert not any("@debug" in v for v in s["SystemCallFilter"]), \
        "ptrace (gdb, strace) is left to the per-user profiles"
