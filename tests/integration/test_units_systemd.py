"""Issue 2, start mode (c): the shipped units/sshand.socket and
units/sshand@.service run by a real systemd manager (`systemd --user` in a
nested private mount namespace, as /work/shared/TEST-ENVIRONMENT.md
describes), with a real OpenSSH client connecting through it."""

import os
import re
import shutil
import signal
import subprocess
import time

import pytest

import harness
from harness import BUILD, HOST, WORK, Server

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNITS = os.path.join(REPO, "units")


class UserManager:
    def __init__(self, base):
        self.base = base
        self.env = dict(os.environ)
        for k, sub in (("XDG_RUNTIME_DIR", "runtime"), ("XDG_CONFIG_HOME", "config"),
                       ("XDG_STATE_HOME", "state"), ("XDG_CACHE_HOME", "cache"),
                       ("XDG_DATA_HOME", "data"), ("HOME", "home")):
            p = os.path.join(base, sub)
            os.makedirs(p, mode=0o700, exist_ok=True)
            self.env[k] = p
        self.env.pop("DBUS_SESSION_BUS_ADDRESS", None)

        self.unitdir = os.path.join(self.env["XDG_CONFIG_HOME"], "systemd", "user")
        os.makedirs(self.unitdir)
        self.proc = None

    def start(self):
        # Only this manager's namespace sees the tmpfs on /run/systemd.
        script = ("set -e; mount -t tmpfs -o mode=0755 tmpfs /run/systemd; "
                  "mkdir /run/systemd/system; exec systemd --user")
        self.log_path = os.path.join(self.base, "manager.log")
        self.proc = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
            env=self.env, stdin=subprocess.DEVNULL, stdout=open(self.log_path, "ab"),
            stderr=subprocess.STDOUT, start_new_session=True, cwd="/")
        private = os.path.join(self.env["XDG_RUNTIME_DIR"], "systemd", "private")
        up = harness.wait_for(lambda: self.proc.poll() is not None or (
            os.path.exists(private) and self.ctl("is-system-running").stdout.strip()
            in ("running", "degraded")), 30, 0.2)
        if not up or self.proc.poll() is not None:
            raise AssertionError("systemd --user did not start:\n" + self.log())

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def ctl(self, *args, timeout=30):
        return harness.run(["nsenter", "-t", str(self.proc.pid), "-m", "--",
                            "systemctl", "--user", "--no-pager", *args],
                           env=self.env, timeout=timeout)

    def stop(self):
        if not self.proc or self.proc.poll() is not None:
            return
        try:
            self.ctl("stop", "sshand.socket", timeout=20)
            self.ctl("exit", timeout=20)
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            pass
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


def install_units(mgr, srv):
    for name in ("sshand.socket", "sshand@.service"):
        with open(os.path.join(UNITS, name)) as f:
            text = f.read()
        # As `make install` does.
        text = text.replace("@SBINDIR@", BUILD)
        with open(os.path.join(mgr.unitdir, name), "w") as f:
            f.write(text)
    sdir = os.path.join(mgr.unitdir, "sshand.socket.d")
    os.makedirs(sdir)
    with open(os.path.join(sdir, "test.conf"), "w") as f:
        f.write("[Socket]\n# A test port instead of 22.\nListenStream=\n"
                "ListenStream=%s:%d\n" % (HOST, srv.port))
    ddir = os.path.join(mgr.unitdir, "sshand@.service.d")
    os.makedirs(ddir)
    with open(os.path.join(ddir, "test.conf"), "w") as f:
        f.write(f"""[Service]
# The build's binary with the test's config; -e with StandardError= puts the
# server's log in the test's folder (there is no journald here).  Neither
# changes what the process may do.
ExecStart=
ExecStart={srv.binary} -e -f {srv.conf}
StandardError=append:{srv.log_path}
# These two fail with 226/NAMESPACE under a systemd --user manager that is
# not PID 1 on the test machines (TEST-ENVIRONMENT.md); they work on a real
# host.  Every other directive of the shipped unit stays in force.
ProtectKernelTunables=no
ProtectKernelLogs=no
[Unit]
# Failed instances stay listed so that the test can see one (the shipped
# inactive-or-failed collects them at once, and this manager has no journal
# to tell).  This changes no confinement.
CollectMode=inactive
""")


@pytest.fixture(scope="module")
def unit(keys):
    """The manager with sshand.socket started, shared by this module's
    tests (the homes fixture still resets homes before each test)."""
    if not shutil.which("systemd") and not os.path.exists("/lib/systemd/systemd"):
        pytest.fail("systemd is not installed")
    srv = Server(keys, "units-systemd")
    srv.port = harness.free_port()
    mgr = UserManager(os.path.join(WORK, "usermgr"))
    install_units(mgr, srv)
    mgr.start()
    try:
        r = mgr.ctl("start", "sshand.socket")
        assert r.returncode == 0, r.stderr + mgr.log()
        yield mgr, srv
    finally:
        mgr.stop()
    left = harness.wait_for(lambda: not _user_procs_anywhere(), 10)
    assert left, "processes of test users left: %r" % _user_procs_anywhere()


def where(mgr, srv):
    return "\n--- server log ---\n%s\n--- manager log ---\n%s" % (
        srv.log()[-3000:], mgr.log()[-3000:])


def _user_procs_anywhere():
    """Test users' processes of this run, the manager's nested namespaces
    included.  Other runs on the machine may use the same uids, so a
    process counts as ours when its working directory is on this run's
    /home tmpfs (sessions) or is this run's PrivsepDirectory (network
    children)."""
    out = []
    home_dev = os.stat("/home").st_dev
    empty = os.stat(os.path.join(WORK, "empty"))
    for pid in harness.all_pids():
        st = harness.proc_status(pid)
        if not st or st.get("State", "").startswith("Z"):
            continue
        if int(st["Uid"].split()[0]) not in harness.TEST_UIDS:
            continue
        try:
            cwd = os.stat("/proc/%d/cwd" % pid)
        except OSError:
            continue
        if cwd.st_dev == home_dev or (cwd.st_dev, cwd.st_ino) == (empty.st_dev, empty.st_ino):
            out.append((pid, st.get("Name")))
    return out


def test_socket_active(unit):
    mgr, srv = unit
    assert mgr.ctl("is-active", "sshand.socket").stdout.strip() == "active", where(mgr, srv)


def test_password_login_through_unit(unit):
    mgr, srv = unit
    r = srv.ssh_password("alice", cmd="echo pw-$USER; exit 3")
    assert (r.returncode, r.stdout) == (3, "pw-alice\n"), (r.stderr, where(mgr, srv))


def test_key_login_through_unit(unit):
    mgr, srv = unit
    r = srv.ssh("alice", "id -un; exit 3")
    assert (r.returncode, r.stdout) == (3, "alice\n"), (r.stderr, where(mgr, srv))


def test_one_instance_per_connection(unit):
    mgr, srv = unit
    p = subprocess.Popen(srv.password_argv("alice", harness.password("alice"),
                                           "echo up; sleep 3"),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         env=harness.client_env())
    try:
        assert p.stdout.readline() == b"up\n", where(mgr, srv)
        r = mgr.ctl("list-units", "--no-legend", "--plain", "sshand@*")
        want = "127.0.0.1:%d-127.0.0.1:" % srv.port
        assert any(line.startswith("sshand@") and want in line and " active " in line
                   for line in r.stdout.splitlines()), r.stdout
        assert p.wait(20) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    # Finished instances are collected.
    assert harness.wait_for(lambda: "sshand@" not in mgr.ctl(
        "list-units", "--all", "--no-legend", "--plain", "sshand@*").stdout, 15)


def test_refused_login_is_no_unit_failure(unit):
    mgr, srv = unit
    r = srv.ssh("alice", "true", key="stranger1")
    assert r.returncode == 255
    time.sleep(1)
    r = mgr.ctl("list-units", "--failed", "--all", "--no-legend", "--plain")
    assert "sshand@" not in r.stdout, r.stdout + where(mgr, srv)


def test_bad_config_instance_fails(unit, tmp_path):
    """The control for the test above: an instance that cannot start is
    seen as failed (exit 1 is not in SuccessExitStatus)."""
    mgr, srv = unit
    good = open(srv.conf).read()
    try:
        with open(srv.conf, "a") as f:
            f.write("NoSuchKeyword yes\n")
        r = srv.ssh("alice", "true")
        assert r.returncode == 255
        assert harness.wait_for(lambda: "sshand@" in mgr.ctl(
            "list-units", "--failed", "--all", "--no-legend", "--plain").stdout, 10), \
            where(mgr, srv)
    finally:
        with open(srv.conf, "w") as f:
            f.write(good)
        mgr.ctl("reset-failed")
