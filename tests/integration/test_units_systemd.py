"""Issue 2, start mode (c): the shipped units/sshand.socket and
units/sshand@.service run by a real systemd manager (`systemd --user` in a
nested private mount namespace, as /work/shared/TEST-ENVIRONMENT.md
describes), with a real OpenSSH client connecting through it.

Issues 5 and 17 under the same manager: the syscall probe run by alice
(login profile) and carol (strict, by a Match Group block) through the
shipped units, which add no confinement of their own."""

import contextlib
import os
import re
import select
import shutil
import signal
import subprocess
import time

import pytest

import harness
import probe_tables
import test_password_change
from harness import BUILD, HOST, WORK, Server

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNITS = os.path.join(REPO, "units")


class UserManager:
    def __init__(self, base, etc=None):
        self.base = base
        # A private copy of the whole /etc bound over it in the manager's
        # namespace (pam_unix can change a password there), or the
        # suite's.
        self.etc = etc
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
        if self.etc:
            script = 'mount --bind "%s" /etc; %s' % (self.etc, script)
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
    # The shipped default, KillUserProcesses no, as a host gets it.
    srv = Server(keys, "units-systemd", extra_config="KillUserProcesses no")
    srv.port = harness.free_port()
    etc = os.path.join(WORK, "usermgr-etc")
    subprocess.run(["cp", "-a", "/etc", etc], check=True)
    mgr = UserManager(os.path.join(WORK, "usermgr"), etc)
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


def test_expired_password_changed_through_unit(unit):
    """The shipped unit lets the monitor change an expired password
    (ReadWritePaths=/etc, and no CAP_CHOWN needed: pam.c), and the user
    is logged in.  bob: the other tests here use alice's password."""
    mgr, srv = unit
    shadow = os.path.join(mgr.etc, "shadow")
    r = harness.run(["nsenter", "-t", str(mgr.proc.pid), "-m", "--",
                     "chage", "-d", "0", "bob"])
    assert r.returncode == 0, r.stderr
    before = os.stat(shadow)
    old, new = harness.password("bob"), "bob-Changed-3k"
    c = test_password_change.client(srv, "PreferredAuthentications=keyboard-interactive",
                                    user="bob")
    try:
        c.expect(r"\) Password: ")
        c.send(old + "\r")
        c.expect(r"\) Current password: ")
        c.send(old + "\r")
        c.expect(r"\) New password: ")
        c.send(new + "\r")
        c.expect(r"\) Retype new password: ")
        c.send(new + "\r")
        test_password_change.in_shell(c)
    finally:
        c.close()
    after = os.stat(shadow)
    assert (after.st_uid, after.st_gid, after.st_mode) == \
        (before.st_uid, before.st_gid, before.st_mode)
    assert test_password_change.shadow_entry(mgr.etc, "bob")[2] != "0"
    r = srv.ssh_password("bob", pw=new, cmd="echo pw-$USER")
    assert (r.returncode, r.stdout) == (0, "pw-bob\n"), (r.stderr, where(mgr, srv))


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


def test_background_job_outlives_its_instance(unit):
    """Issue 17, under a real manager: with KillUserProcesses no (the
    default), a nohup job outlives the connection, and its instance unit
    does not stay active for it (KillMode=process): it is inactive while
    the job runs on in its cgroup, and collected once the job is done."""
    mgr, srv = unit
    mark = "/home/alice/outlived-unit"
    r = srv.ssh("alice", "nohup sh -c 'sleep 6; echo done > %s' "
                ">/dev/null 2>&1 </dev/null & echo started" % mark)
    assert (r.returncode, r.stdout) == (0, "started\n"), (r.stderr, where(mgr, srv))

    def instances():
        return mgr.ctl("list-units", "--all", "--no-legend", "--plain",
                       "sshand@*").stdout

    assert harness.wait_for(lambda: " active " not in instances(), 10), instances()
    assert os.path.basename("sleep") in [n for _, n in _user_procs_anywhere()], \
        "the job did not outlive the connection: %r" % _user_procs_anywhere()
    assert not os.path.exists(mark)
    assert harness.wait_for(lambda: os.path.exists(mark), 15), where(mgr, srv)
    assert harness.wait_for(lambda: not _user_procs_anywhere(), 10), _user_procs_anywhere()
    assert harness.wait_for(lambda: "sshand@" not in instances(), 10), instances()


def test_login_records_through_unit(unit):
    """Issue 17, under the shipped unit (ProtectSystem=strict, its
    ReadWritePaths, its capabilities): a pty login is in utmp while it
    runs and in wtmp after, the next one shows the last, and a wrong
    password reaches btmp.  The records are the run's own
    (tests/integration/run)."""
    mgr, srv = unit
    for p in ("/run/utmp", "/var/log/wtmp", "/var/log/btmp", "/var/log/lastlog"):
        with open(p, "r+b") as f:
            f.truncate(0)
    for n in (1, 2):
        c = harness.PtyClient(srv.ssh_argv("alice", None, flags=["-tt"]),
                              env=harness.client_env({"TERM": "vt220"}))
        try:
            m = c.expect(rb"(?s)(.*?)PROMPT> ", 20)
            shown = m.group(1).decode("utf-8", "replace")
            assert ("Last login: " in shown) == (n == 2), (shown, where(mgr, srv))
            c.send("echo __$((6*7))__ $(who | grep -c '^alice ')\r")
            assert c.expect(rb"__42__ (\d+)").group(1) == b"1", where(mgr, srv)
            c.send("exit\r")
            assert c.wait(15) == 0
        finally:
            c.close()
        assert harness.wait_for(lambda: "alice" not in harness.run(["who"]).stdout, 10)
    # last says "still running" for a logout of the second it runs in.
    time.sleep(1.1)
    last = harness.run(["last", "-w", "alice"]).stdout
    assert len(re.findall(r"^alice\s+pts/\d+\s+127\.0\.0\.1\s.* - ", last, re.M)) == 2, last
    assert srv.ssh_password("alice", pw="wrong-password").returncode == 255
    lastb = harness.run(["lastb", "-w"]).stdout
    assert re.search(r"^alice\s+ssh:notty\s+127\.0\.0\.1\s", lastb, re.M), lastb


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


# ---- issue 5: the syscall probe under the manager -----------------------------------

# As in test_sandbox_e2e.py: carol (in group sshstrict) gets the strict
# profile, alice keeps the default login profile.
STRICT_CONF = "Match Group sshstrict\n\tSandboxProfile strict\n"
PROBE_USERS = {
    # user: (key, profile, uid, gid, groups)
    "alice": ("alice_ed25519", "login", harness.ALICE, harness.ALICE, [harness.ALICE]),
    "carol": ("carol_ed25519", "strict", harness.CAROL, harness.CAROL,
              [harness.CAROL, harness.SSHSTRICT_GID]),
}
CAPS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")


@pytest.fixture(scope="module")
def probe_bin():
    """The probe in a root-owned 0755 directory of the work dir, which the
    test users can run (the build tree may not be reachable for them)."""
    d = os.path.join(WORK, "units-systemd-bin")
    os.makedirs(d, exist_ok=True)
    os.chown(d, 0, 0)
    os.chmod(d, 0o755)
    src = os.path.join(BUILD, "tests", "probe")
    if not os.path.exists(src):
        pytest.fail("%s missing: make %s" % (src, src))
    dst = os.path.join(d, "probe")
    shutil.copy(src, dst)
    os.chown(dst, 0, 0)
    os.chmod(dst, 0o755)
    return dst


@contextlib.contextmanager
def _appended(srv, text):
    """text appended to the module's server config for a while.  Every
    connection starts a new sshand that reads it afresh."""
    good = open(srv.conf).read()
    with open(srv.conf, "a") as f:
        f.write(text)
    try:
        yield
    finally:
        with open(srv.conf, "w") as f:
            f.write(good)


@pytest.fixture
def strict_conf(unit):
    """STRICT_CONF appended to the module's server config for one test."""
    with _appended(unit[1], STRICT_CONF):
        yield


def _status(text):
    st = {}
    for line in text.splitlines():
        k, sep, v = line.partition(":")
        if sep and k and " " not in k:
            st[k] = v.strip()
    return st


def _cgroup2(pid_or_text):
    """The unified-hierarchy ("0::") path of a /proc/PID/cgroup."""
    if isinstance(pid_or_text, int):
        try:
            with open("/proc/%d/cgroup" % pid_or_text) as f:
                pid_or_text = f.read()
        except OSError:
            return None
    for line in pid_or_text.splitlines():
        if line.startswith("0::"):
            return line[3:]
    return None


def _cgroup2_root():
    with open("/proc/self/mounts") as f:
        for line in f:
            dev, mnt, fstype = line.split()[:3]
            if fstype == "cgroup2":
                return mnt
    pytest.fail("no cgroup2 (unified) hierarchy mounted")


class HeldSession:
    """`ssh user CMD` kept open after CMD has printed "==end": the session
    shell then waits on stdin, so its processes can be looked at from
    outside while the connection's instance runs."""

    def __init__(self, srv, user, key, cmd):
        self.p = subprocess.Popen(srv.ssh_argv(user, cmd + "; echo ==end; read x", key),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=harness.client_env())
        self.out = b""

    def wait_end(self, timeout=20):
        end = time.monotonic() + timeout
        while b"==end\n" not in self.out:
            left = end - time.monotonic()
            if left <= 0 or self.p.poll() is not None:
                break
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if r:
                data = os.read(self.p.stdout.fileno(), 65536)
                if not data:
                    break
                self.out += data
        return self.out.decode("utf-8", "replace")

    def finish(self, timeout=20):
        try:
            rest, err = self.p.communicate(b"\n", timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rest, err = self.p.communicate()
        self.out += rest
        return self.p.returncode, err.decode("utf-8", "replace")


def _sections(text):
    out, cur = {}, None
    for line in text.splitlines():
        if line.startswith("=="):
            cur = line[2:].split()[0]
            out[cur] = []
        elif cur:
            out[cur].append(line)
    return {k: "\n".join(v) + "\n" for k, v in out.items()}


def _instance_of(mgr, srv, client_port):
    """The active sshand@ instance serving the client port, from the
    manager's own list."""
    r = mgr.ctl("list-units", "--no-legend", "--plain", "--state=active", "sshand@*")
    want = re.compile(r"^sshand@\d+-%s:%d-%s:%d\.service$" % (
        re.escape(HOST), srv.port, re.escape(HOST), client_port))
    return [line.split()[0] for line in r.stdout.splitlines()
            if line.split() and want.match(line.split()[0])], r.stdout


def test_probe_under_manager(unit, probe_bin, strict_conf):
    """Issues 5 and 17 under the shipped units run by a real manager: the
    probe matches each profile's table exactly (the unit adds no filter of
    its own: test_units_hardening.py runs its hardening.conf), the session
    is unprivileged but for what its policy lets setuid programs gain
    (login: no no_new_privs, the bounding set; strict: neither), and it
    lives in its connection's instance."""
    mgr, srv = unit
    cmd = ("echo ==client $SSH_CLIENT; echo ==self; cat /proc/self/status; "
           "echo ==shell $$; cat /proc/$$/status; echo ==cgroup; cat /proc/self/cgroup; "
           "echo ==probe; %s" % probe_bin)
    for user, (key, profile, uid, gid, groups) in PROBE_USERS.items():
        s = HeldSession(srv, user, key, cmd)
        try:
            out = s.wait_end()
            sec = _sections(out)
            assert "==end\n" in out and "probe" in sec, (user, out, where(mgr, srv))
            diffs = probe_tables.compare(profile, sec["probe"], uid=uid, gid=gid,
                                         groups=groups)
            assert diffs == [], (user, diffs, out)
            # The session's own status, as the issue words it (the probe's
            # status lines are checked by compare() above as well).
            want = probe_tables.status_expect(profile)
            for name in ("self", "shell"):
                st = _status(sec[name])
                for cap in CAPS:
                    assert st[cap] == want[cap], (user, name, cap, st[cap])
                assert (st["NoNewPrivs"], st["Seccomp"]) == (
                    want["NoNewPrivs"], "2"), (user, name, st)
                assert st["Uid"].split() == [str(uid)] * 4, (user, name, st["Uid"])
                # The session's filter alone: the unit has none.
                assert st["Seccomp_filters"] == "1", (user, name, st)
            # The instance of this connection, by its name.
            client = out.split("==client ", 1)[1].split("\n", 1)[0].split()
            assert client[0] == HOST and int(client[2]) == srv.port, client
            names, listing = _instance_of(mgr, srv, int(client[1]))
            assert len(names) == 1, (client, listing)
            inst = names[0]
            r = mgr.ctl("show", "-p", "ControlGroup", "-p", "MainPID", inst)
            props = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
            cg, main = props.get("ControlGroup", ""), props.get("MainPID", "0")
            assert cg.endswith("/" + inst) and int(main) > 0, (inst, r.stdout)
            # The session, seen from inside and from outside, and every
            # other process serving the connection, are in that cgroup.
            assert _cgroup2(sec["cgroup"]) == cg, (sec["cgroup"], cg)
            shell = int(out.split("==shell ", 1)[1].split("\n", 1)[0])
            served = [int(main)] + harness.descendants(int(main))
            assert shell in served, (shell, served)
            for pid in served:
                assert _cgroup2(pid) in (cg, None), (pid, _cgroup2(pid), cg)
            with open(os.path.join(_cgroup2_root(), cg.lstrip("/"), "cgroup.procs")) as f:
                procs = {int(x) for x in f.read().split()}
            # Nothing else runs in the instance, and nothing of the
            # connection outside it.
            assert procs == set(served), (procs, served)
        finally:
            rc, err = s.finish()
        assert rc == 0, (user, rc, err, where(mgr, srv))


# ---- issue 17: setuid programs and sudo through the shipped unit ----------------------

def test_sudo_and_setuid_programs_through_unit(unit):
    """The unit forbids nothing a session's policy allows: under
    SandboxProfile none a sudoers user's sudo gives a full root (as under
    OpenSSH's ssh.service), under login passwd and ping work."""
    mgr, srv = unit
    # bob's password is whatever the expired-password test left: set one
    # (in the manager's private /etc).
    pw = "bob-Sudo-7q"
    r = harness.run(["nsenter", "-t", str(mgr.proc.pid), "-m", "--", "chpasswd"],
                    input="bob:%s\n" % pw)
    assert r.returncode == 0, r.stderr
    with _appended(srv, "Match User bob\n\tSandboxProfile none\n"):
        cmd = "sudo -k; echo %s | sudo -S -p '' sh -c 'id -u; cat /proc/self/status'" % pw
        r = harness.run(srv.ssh_argv("bob", cmd, "bob_ed25519"), timeout=60,
                        env=harness.client_env())
        assert r.returncode == 0, (r.stdout, r.stderr, where(mgr, srv))
        assert r.stdout.splitlines()[0] == "0", r.stdout
        st = _status(r.stdout)
        assert int(st["CapEff"], 16) == harness.own_bounding_set(), st
        assert (st["NoNewPrivs"], st["Seccomp"]) == ("0", "0"), st
    r = harness.run(srv.ssh_argv("alice", "passwd -S; ping -c 1 -W 5 127.0.0.1",
                                 "alice_ed25519"), timeout=60, env=harness.client_env())
    assert r.returncode == 0, (r.stdout, r.stderr, where(mgr, srv))
    first = r.stdout.splitlines()[0].split()
    # The shadow entry's fields: passwd ran with its privilege.
    assert first[:2] == ["alice", "P"] and len(first) == 7, r.stdout
    assert "1 received" in r.stdout, r.stdout
