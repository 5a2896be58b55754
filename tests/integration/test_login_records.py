"""Issue 17: login records and what a login shows, as OpenSSH's sshd on
Debian 12.

- pty sessions are in utmp while they run (who, w) and leave it when they
  end, also when the monitor is killed (the guardian writes the logout);
  wtmp has their login and logout (last); lastlog gives the next pty
  login its "Last login: <date> from <address>" line;
- failed passwords and unknown users are in btmp (lastb);
- a pty login shows the last login and /etc/motd (PrintLastLog,
  PrintMotd), PAM's session messages (pam_motd) with the first session;
  a command, a subsystem or ~/.hushlogin shows none of it;
- sessions without a pty are no logins: no utmp or wtmp entry.

Side by side with Debian's sshd (when one is at hand: the benchmark
unpacks it), the greeting is the same bytes and the records the same
entries, each server reading the last login the other wrote.

The records are this run's own (tests/integration/run: a tmpfs over
/var/log, a fresh /run/utmp); each test starts them empty.
"""

import datetime
import os
import re
import shutil
import struct
import subprocess
import time

import pytest

import harness
from harness import WORK, PtyClient, client_env, run, wait_for

ALICE_UID = harness.USERS["alice"][0]
UTMP, WTMP, BTMP, LASTLOG = "/run/utmp", "/var/log/wtmp", "/var/log/btmp", "/var/log/lastlog"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# struct utmp on x86_64 (bits/utmp.h): type, pid, line, id, user, host,
# exit status, session, tv_sec, tv_usec, addr_v6, reserved.
UTMP_FMT = "<hxxi32s4s32s256shhi2i16s20s"
assert struct.calcsize(UTMP_FMT) == 384
USER_PROCESS, DEAD_PROCESS, LOGIN_PROCESS = 7, 8, 6
CTIME = r"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}"


def entries(path):
    with open(path, "rb") as f:
        data = f.read()
    out = []
    for off in range(0, len(data) - len(data) % 384, 384):
        (typ, pid, line, uid_, user, host, _, _, _, sec, _, addr,
         _) = struct.unpack_from(UTMP_FMT, data, off)
        out.append({"type": typ, "pid": pid,
                    "line": line.rstrip(b"\0").decode(),
                    "id": uid_, "user": user.rstrip(b"\0").decode(),
                    "host": host.rstrip(b"\0").decode(), "sec": sec,
                    "addr": addr})
    return out


def lines_of(path, line):
    return [e for e in entries(path) if e["line"] == line]


@pytest.fixture(autouse=True)
def records():
    """Empty records.  Only ever this run's: /var/log must be the run's
    tmpfs, never the host's."""
    mounts = open("/proc/self/mountinfo").read().splitlines()
    fs = {m.split(" - ")[0].split()[4]: m.split(" - ")[1].split()[0] for m in mounts}
    assert fs.get("/var/log") == "tmpfs" and fs.get("/run") == "tmpfs", \
        "not the run's /var/log and /run: use tests/integration/run"
    for p in (UTMP, WTMP, BTMP, LASTLOG):
        with open(p, "r+b") as f:
            f.truncate(0)
    yield


@pytest.fixture
def motd(request):
    """A test /etc/motd (bound over the host's in this run's namespace
    for the test's duration); returns its marker text."""
    # Debian's base-files ships it; the test binds its own over it.
    assert os.path.isfile("/etc/motd"), "no /etc/motd to bind over"
    marker = "sshand-test-motd-%d" % os.getpid()
    path = os.path.join(WORK, "motd")
    with open(path, "w") as f:
        f.write("Welcome to the test host.\n%s\n" % marker)
    os.chmod(path, 0o644)
    run(["mount", "--bind", path, "/etc/motd"], check=True)
    yield marker
    run(["umount", "/etc/motd"], check=True)


def pty_ssh(s, cmd=None, user="alice", key="alice_ed25519"):
    return PtyClient(s.ssh_argv(user, cmd, key, flags=["-tt"]),
                     env=client_env({"TERM": "vt220"}))


def clean(raw):
    out = raw.decode("utf-8", "replace").replace("\r", "")
    # bash's readline switches bracketed paste on and off.
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out)


class Login:
    """A pty login: .greeting is everything shown up to the shell's first
    prompt, which ends it."""

    def __init__(self, s, **kw):
        self.c = pty_ssh(s, **kw)
        m = self.c.expect(rb"(?s)(.*?)PROMPT> ", 20)
        self.greeting = clean(m.group(1)) + "PROMPT> "
        self.n = 0
        m = re.search(r"^(/dev/pts/\d+)$", self.run("tty"), re.M)
        assert m, self.greeting
        self.tty = m.group(1)
        self.line = self.tty[len("/dev/"):]
        self.pid = int(self.run("echo $$").split()[-1])

    def run(self, cmd, timeout=20):
        """The command's output, after its echo (which the marker's
        pattern cannot match)."""
        self.n += 1
        self.c.send("%s; echo __E$((%d+1))__\r" % (cmd, self.n))
        m = self.c.expect(rb"(?s)(.*?)__E%d__" % (self.n + 1), timeout)
        return clean(m.group(1))

    def exit(self):
        """Ends the session, and waits for its logout, which the monitor
        writes after the client has the exit status."""
        before = logouts(self.line)
        self.c.send("exit\r")
        assert self.c.wait(15) == 0
        self.c.close()
        assert wait_for(lambda: logouts(self.line) > before, 10), entries(WTMP)


def logouts(line):
    return sum(e["type"] == DEAD_PROCESS for e in lines_of(WTMP, line))


def logged_out(line, timeout=10):
    """The line's utmp entry is dead and wtmp has its logout (written in
    this order)."""
    return wait_for(lambda: logouts(line) > 0 and
                    all(e["type"] == DEAD_PROCESS for e in lines_of(UTMP, line)), timeout)


def who():
    return run(["who"], check=True).stdout


# ---- utmp, wtmp, lastlog -------------------------------------------------

@pytest.fixture
def loginuid():
    """pam_loginuid first in the session stack of this run's
    /etc/pam.d/sshand, as in Debian's sshd stack (and units/pam.sshand):
    last tells a session that still runs from one gone without a logout
    by its leader's loginuid."""
    conf = "/etc/pam.d/sshand"
    saved = open(conf).read()
    with open(conf, "w") as f:
        f.write("session required pam_loginuid.so\n" + saved)
    yield
    with open(conf, "w") as f:
        f.write(saved)


def test_who_w_and_last_follow_a_pty_session(server, sshand_build, loginuid):
    srv = server(build=sshand_build)
    lg = Login(srv)
    pts = re.escape(lg.line)
    # who and w (the host's tools, reading this run's /run/utmp) show the
    # session, from the client's address, as they show sshd's.
    assert re.search(r"^alice\s+%s\s+.*\(127\.0\.0\.1\)$" % pts, who(), re.M), who()
    w = run(["w", "-h"], check=True).stdout
    assert re.search(r"^alice\s+%s\s+127\.0\.0\.1\s" % pts, w, re.M), w
    # The user sees it too.
    out = lg.run("who -m; who | wc -l")
    assert re.search(r"^alice\s+%s\s.*\(127\.0\.0\.1\)$" % pts, out, re.M), out
    assert re.search(r"^1$", out, re.M), out
    # The entry as sshd writes it: the session's leader, sshd's id.
    [u] = lines_of(UTMP, lg.line)
    assert (u["type"], u["user"], u["host"], u["pid"]) == \
        (USER_PROCESS, "alice", "127.0.0.1", lg.pid), u
    assert u["id"] == lg.line[-4:].encode(), u
    assert u["addr"][:4] == bytes([127, 0, 0, 1]) and u["addr"][4:] == bytes(12), u
    # last: logged in now.
    last = run(["last", "-w", "alice"], check=True).stdout
    assert re.search(r"^alice\s+%s\s+127\.0\.0\.1\s.*still logged in" % pts, last, re.M), last

    lg.exit()
    assert logged_out(lg.line), entries(UTMP)
    assert "alice" not in who()
    [u] = lines_of(UTMP, lg.line)
    assert (u["type"], u["user"], u["host"]) == (DEAD_PROCESS, "", ""), u
    # wtmp: the login and its logout, which last pairs.
    assert [e["type"] for e in lines_of(WTMP, lg.line)] == [USER_PROCESS, DEAD_PROCESS]
    # last says "still running" for a logout of the second it runs in.
    time.sleep(1.1)
    last = run(["last", "-w", "alice"], check=True).stdout
    assert re.search(r"^alice\s+%s\s+127\.0\.0\.1\s.* - \d\d:\d\d\s+\(00:0\d\)" % pts,
                     last, re.M), last
    assert "still logged in" not in last


def test_last_login_line_on_the_next_login(srv):
    first = Login(srv)
    # Nothing to show before the first login.
    assert "Last login" not in first.greeting, first.greeting
    first.exit()
    lastlog = run(["lastlog", "-u", "alice"], check=True).stdout
    assert re.search(r"^alice\s+%s\s+127\.0\.0\.1\s" % re.escape(first.line), lastlog,
                     re.M), lastlog

    second = Login(srv)
    m = re.search(r"Last login: (%s) from 127\.0\.0\.1\n" % CTIME, second.greeting)
    assert m, second.greeting
    when = datetime.datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y")
    assert abs((datetime.datetime.now() - when).total_seconds()) < 120, m.group(1)
    # Before the shell's first prompt, as sshd writes it.
    assert second.greeting.index("Last login") < second.greeting.index("PROMPT> ")
    second.exit()


def test_motd_shown_once_after_the_last_login(server, sshand_build, motd):
    srv = server(build=sshand_build)
    Login(srv).exit()
    lg = Login(srv)
    g = lg.greeting
    assert g.count(motd) == 1, g
    # sshd's order: loginmsg (the last login), then the motd, then the
    # shell.
    assert g.index("Last login") < g.index("Welcome to the test host.") < g.index(motd) \
        < g.index("PROMPT> "), g
    lg.exit()


def test_hushlogin_quiets_the_login_not_the_records(srv, motd):
    Login(srv).exit()
    hush = "/home/alice/.hushlogin"
    open(hush, "w").close()
    os.chown(hush, ALICE_UID, ALICE_UID)
    # In a home only its owner may search: looked for as the user.
    os.chmod("/home/alice", 0o700)
    lg = Login(srv)
    assert "Last login" not in lg.greeting and motd not in lg.greeting, lg.greeting
    assert re.search(r"^alice\s+%s\s" % re.escape(lg.line), who(), re.M), who()
    lg.exit()
    assert [e["user"] for e in entries(WTMP)] == ["alice", "", "alice", ""]


@pytest.mark.parametrize("conf,lastlog_shown,motd_shown", [
    ("PrintMotd no", True, False),
    ("PrintLastLog no", False, True),
    ("PrintMotd no\nPrintLastLog no", False, False),
])
def test_print_motd_and_lastlog_off(server, motd, conf, lastlog_shown, motd_shown):
    s = server(conf)
    Login(s).exit()
    lg = Login(s)
    assert ("Last login" in lg.greeting) == lastlog_shown, lg.greeting
    assert (motd in lg.greeting) == motd_shown, lg.greeting
    lg.exit()
    # The records are written all the same.
    assert len(entries(WTMP)) == 4
    assert run(["lastlog", "-u", "alice"], check=True).stdout.count("127.0.0.1") == 1


# ---- sessions that are not logins ----------------------------------------

def test_no_pty_no_records_no_greeting(srv, motd):
    Login(srv).exit()
    for p in (UTMP, WTMP):
        with open(p, "r+b") as f:
            f.truncate(0)
    # An exec, and a shell without a pty: no login for who or last, and
    # nothing shown but what the command prints, as with sshd.
    r = srv.ssh("alice", "echo out-1")
    assert (r.returncode, r.stdout) == (0, "out-1\n"), r
    r = subprocess.run(srv.ssh_argv("alice", flags=["-T"]), input="echo out-2\n",
                       capture_output=True, text=True, timeout=60, env=client_env())
    assert (r.returncode, r.stdout) == (0, "out-2\n"), r
    assert entries(UTMP) == [] and entries(WTMP) == []
    # A command on a pty is a login for the records, and still quiet.
    c = pty_ssh(srv, cmd="tty; echo out-3")
    m = c.expect(r"(?s)(.*)out-3")
    assert c.wait(15) == 0
    shown = m.group(1).decode()
    assert "Last login" not in shown and motd not in shown, shown
    line = re.search(r"/dev/(pts/\d+)", shown).group(1)
    # The client has the exit status before the logout is written.
    assert logged_out(line), entries(UTMP)
    assert [e["type"] for e in lines_of(WTMP, line)] == [USER_PROCESS, DEAD_PROCESS]
    c.close()


# ---- btmp ----------------------------------------------------------------

def test_failed_logins_in_lastb(srv):
    r = srv.ssh_password("alice", pw="wrong-password")
    assert r.returncode == 255, r
    r = srv.ssh_password("nosuchuser", pw="whatever")
    assert r.returncode == 255, r
    # A refused key is no failed login for btmp, as with sshd.
    r = srv.ssh("alice", "true", key="bob_ed25519")
    assert r.returncode == 255, r
    assert srv.ssh("alice", "true").returncode == 0
    lastb = run(["lastb", "-w"], check=True).stdout
    assert re.search(r"^alice\s+ssh:notty\s+127\.0\.0\.1\s", lastb, re.M), lastb
    assert re.search(r"^nosuchuser\s+ssh:notty\s+127\.0\.0\.1\s", lastb, re.M), lastb
    b = entries(BTMP)
    assert {e["type"] for e in b} == {LOGIN_PROCESS}, b
    # sshd's count: a wrong password is one entry; an unknown name one
    # when it is first looked up and one for its failed password.
    assert [e["user"] for e in b].count("alice") == 1, b
    assert [e["user"] for e in b].count("nosuchuser") == 2, b


# ---- the monitor killed --------------------------------------------------

def monitor_of(s):
    def look():
        conns = s.connections()
        if len(conns) != 1:
            return None
        mons = harness.children(conns[0])
        return mons[0] if len(mons) == 1 else None
    pid = wait_for(look, 15)
    assert pid, s.log()[-3000:]
    return pid


def test_guardian_writes_the_logout_of_a_killed_monitor(server, sshand_build):
    srv = server(build=sshand_build)
    lg = Login(srv)
    assert re.search(r"^alice\s", who(), re.M)
    os.kill(monitor_of(srv), 9)
    try:
        lg.c.wait(20)
    finally:
        lg.c.close()
    assert logged_out(lg.line, 15), (entries(UTMP), srv.log()[-3000:])
    assert [e["type"] for e in lines_of(WTMP, lg.line)] == [USER_PROCESS, DEAD_PROCESS]
    last = run(["last", "-w", "alice"], check=True).stdout
    assert "still logged in" not in last, last


# ---- the shipped PAM stack -----------------------------------------------

@pytest.fixture
def shipped_pam():
    """units/pam.sshand as this run's /etc/pam.d/sshand (restored after):
    Debian's sshd stack, pam_motd included."""
    conf = "/etc/pam.d/sshand"
    saved = open(conf).read()
    shutil.copy(os.path.join(REPO, "units", "pam.sshand"), conf)
    yield
    with open(conf, "w") as f:
        f.write(saved)


def test_shipped_pam_and_config_show_the_motd_once(server, motd, shipped_pam):
    # The shipped sshand.conf says PrintMotd no, as Debian's sshd_config,
    # because pam_motd shows it.
    shipped = open(os.path.join(REPO, "units", "sshand.conf")).read()
    assert re.search(r"^PrintMotd no$", shipped, re.M)
    assert re.search(r"^#PrintLastLog yes$", shipped, re.M)
    s = server("PrintMotd no")
    Login(s).exit()
    lg = Login(s)
    g = lg.greeting
    assert g.count(motd) == 1, g
    # Debian's order under sshd: PAM's messages (the motd), then the last
    # login, then the shell.
    assert g.index(motd) < g.index("Last login: ") < g.index("PROMPT> "), g
    lg.exit()
    # PAM's messages go with the connection's first session only: a
    # second pty session on the same connection (ssh's connection
    # sharing) shows its last login, not the motd again.
    ctl = ["ControlPath=%s/cm-%%C" % WORK]
    c = PtyClient(s.ssh_argv("alice", None, "alice_ed25519", flags=["-tt"],
                             opts=ctl + ["ControlMaster=yes"]),
                  env=client_env({"TERM": "vt220"}))
    try:
        m = c.expect(r"(?s)(.*?)PROMPT> ", 20)
        assert motd in clean(m.group(1))
        c2 = PtyClient(s.ssh_argv("alice", None, "alice_ed25519", flags=["-tt"],
                                  opts=ctl), env=client_env({"TERM": "vt220"}))
        try:
            m = c2.expect(r"(?s)(.*?)PROMPT> ", 20)
            second = clean(m.group(1))
            assert "Last login: " in second and motd not in second, second
            c2.send("exit\r")
            assert c2.wait(15) == 0
        finally:
            c2.close()
        c.send("exit\r")
        assert c.wait(15) == 0
    finally:
        c.close()


# ---- side by side with OpenSSH's sshd (conftest.py: openssh) ----------


def raw_greeting(s):
    """The bytes of a pty login up to the shell's first prompt, dates
    made DATE; the session's utmp entry; then the session ends."""
    c = pty_ssh(s)
    try:
        m = c.expect(rb"(?s)(.*?)PROMPT> ", 20)
        c.send("tty\r")
        line = c.expect(rb"/dev/(pts/\d+)").group(1).decode()
        c.expect(rb"PROMPT> ")
        [u] = [e for e in lines_of(UTMP, line) if e["type"] == USER_PROCESS]
        before = logouts(line)
        c.send("exit\r")
        assert c.wait(15) == 0
    finally:
        c.close()
    assert wait_for(lambda: logouts(line) > before, 10), entries(WTMP)
    return re.sub(CTIME.encode(), b"DATE", m.group(1)), u


def shape(e):
    """An entry without what differs between any two sessions."""
    return {k: v for k, v in e.items() if k not in ("pid", "sec", "line", "id")}


@pytest.mark.parametrize("stack", ["shipped", "test"])
def test_same_greeting_and_records_as_openssh(server, openssh, motd, stack, request):
    if stack == "shipped":
        # Both servers' PAM service is units/pam.sshand (pam_motd shows
        # the motd), with PrintMotd no as both ship it.
        request.getfixturevalue("shipped_pam")
        conf = "PrintMotd no"
    else:
        # pam_unix only: the servers show the motd themselves.
        conf = "PrintMotd yes"
    sshd = openssh(conf)
    ours = server(conf)
    # Each reads the last login the other wrote.
    raw_greeting(sshd)
    g_ours, u_ours = raw_greeting(ours)
    g_sshd, u_sshd = raw_greeting(sshd)
    assert b"Last login: DATE from 127.0.0.1" in g_ours, g_ours
    assert motd.encode() in g_ours, g_ours
    # Byte for byte, as the client received them.
    assert g_ours == g_sshd, (g_ours, g_sshd)
    # utmp: the same entry but for the pid (sshd's is its session
    # process, ours the shell) and the line.
    assert shape(u_ours) == shape(u_sshd), (u_ours, u_sshd)
    assert u_sshd["id"] == u_sshd["line"][-4:].encode()
    # wtmp: login and logout entries alike.
    w = [shape(e) for e in entries(WTMP)]
    assert len(w) == 6 and w[0:2] == w[2:4] == w[4:6], w
    # btmp: a wrong password and an unknown user, the same entries.
    for s in (sshd, ours):
        with open(BTMP, "r+b") as f:
            f.truncate(0)
        assert s.ssh_password("alice", pw="wrong-password").returncode == 255
        assert s.ssh_password("nosuchuser", pw="whatever").returncode == 255
        if s is sshd:
            b_sshd = [shape(e) for e in entries(BTMP)]
    b_ours = [shape(e) for e in entries(BTMP)]
    # sshd's count: the wrong password; the unknown name, and its password.
    assert [e["user"] for e in b_sshd] == ["alice", "nosuchuser", "nosuchuser"], b_sshd
    assert b_ours == b_sshd, (b_ours, b_sshd)
