"""Issue 14, hole 3: whatever records a connection's end, closes its PAM
session and ends its sessions is out of the user's reach, and a killed
monitor or network child still yields the session-end and disconnect
records, with the reason, the PAM session closed and the session's
processes ended.

The processes of a connection (handler/front/main.c): the guardian (the
listener's child: root, the front's own process), the monitor (its child:
root, a few capabilities), the network child (the monitor's child:
PrivsepUser), and the sessions (the monitor's children: the user's).

PAM's side is seen through pam_exec in the session stack (the pam_hook
fixture): each open_session and close_session of the service writes a
line "TYPE USER PID", PID being the process that called PAM.
"""

import os
import re
import signal
import subprocess
import textwrap

import pytest

import harness
from harness import PRIVSEP_UID, WORK, PtyClient, client_env, wait_for

ALICE_UID = harness.USERS["alice"][0]


# ---- fixtures and helpers ---------------------------------------------------

@pytest.fixture
def pam_hook(request):
    """pam_exec on the session stack of the run's /etc/pam.d/sshand (a copy
    in this run's mount namespace), restored afterwards.  Returns a
    function giving the lines written so far as (type, user, pid)."""
    log = os.path.join(WORK, "pam-hook-%s.log" % re.sub(r"\W+", "_", request.node.name))
    hook = os.path.join(WORK, "pam-hook.sh")
    with open(hook, "w") as f:
        f.write('#!/bin/sh\necho "$PAM_TYPE $PAM_USER $PPID" >> "$1"\n')
    os.chmod(hook, 0o755)
    conf = "/etc/pam.d/sshand"
    with open(conf) as f:
        saved = f.read()
    with open(conf, "a") as f:
        f.write("session optional pam_exec.so quiet %s %s\n" % (hook, log))

    def lines():
        try:
            with open(log) as f:
                return [tuple(ln.split()) for ln in f if ln.strip()]
        except FileNotFoundError:
            return []
    yield lines
    with open(conf, "w") as f:
        f.write(saved)


children = harness.children


def uid_of(pid):
    st = harness.proc_status(pid)
    return int(st["Uid"].split()[0]) if st else None


def alive(pid):
    st = harness.proc_status(pid)
    return st is not None and not st.get("State", "").startswith(("Z", "X"))


def connection(s, timeout=15):
    """(guardian, monitor, network child) of the server's only
    connection."""
    def look():
        conns = s.connections()
        if len(conns) != 1:
            return None
        mons = children(conns[0])
        if len(mons) != 1:
            return None
        nets = [k for k in children(mons[0]) if uid_of(k) == PRIVSEP_UID]
        return (conns[0], mons[0], nets[0]) if len(nets) == 1 else None
    procs = wait_for(look, timeout)
    assert procs, "no guardian/monitor/network child: %r\n%s" % (
        [(p, harness.proc_status(p) and harness.proc_status(p).get("Name"))
         for p in s.tree()], s.log()[-3000:])
    return procs


def ended(s, timeout=15):
    """The records of the server's only connection, once its disconnect
    record is written."""
    def done():
        recs = s.audit_records()
        return recs if any(r["SSHAND_EVENT"] == "disconnect" for r in recs) else None
    recs = wait_for(done, timeout)
    assert recs, "no disconnect record; %r\n%s" % (s.audit_records(), s.log()[-3000:])
    return recs


def exit_code(s, pid, timeout=15):
    def code():
        m = re.search(r"Child %d died with code (\d+)" % pid, s.log())
        return int(m.group(1)) if m else None
    wait_for(lambda: code() is not None, timeout)
    return code()


def alice_sleeps():
    return [p for p in harness.user_procs_left({ALICE_UID}) if p[2] == "sleep"]


def exec_client(s, cmd):
    # stdin stays open: at the client's EOF the session's stdin closes.
    return subprocess.Popen(s.ssh_argv("alice", cmd), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=client_env())


def client_cut(p, timeout=15):
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        pytest.fail("the client's connection outlived the connection's end")
    return p.returncode


# These tests check that nothing of the connection survives its end,
# which is KillUserProcesses yes; the default (no) is test_sessions.py's
# test_background_jobs_survive_logout.
KILL_ALL = "KillUserProcesses yes"


def closed_by(pam, pid):
    return ("close_session", "alice", str(pid)) in pam()


# What each session runs while the connection is cut: a plain command,
# and a daemon that left the session (setsid) and ignores the hang-up
# (nohup), which only its ancestry ties to the connection.
SESSIONS = {
    "sleep": ("sleep 1000", 1),
    "nohup-setsid": ("nohup setsid sleep 1001 >/dev/null 2>&1 & sleep 1000", 2),
}


def start_session(s, how):
    cmd, sleeps = SESSIONS[how]
    p = exec_client(s, cmd)
    assert wait_for(lambda: len(alice_sleeps()) >= sleeps, 15), \
        (alice_sleeps(), s.log()[-3000:])
    return p


# ---- the user cannot reach them ---------------------------------------------

# Run in the session: finds the connection's sshand processes above it in
# /proc (the monitor and the guardian) and below the monitor (the network
# child), and sends each SIGKILL and SIGSEGV.
FIND_AND_SIGNAL = textwrap.dedent("""\
    import os, signal
    def stat(p):
        with open("/proc/%d/stat" % p) as f:
            s = f.read()
        return s[s.index("(") + 1:s.rindex(")")], int(s[s.rindex(")") + 2:].split()[1])
    up, p = [], os.getpid()
    while p > 1:
        name, parent = stat(p)
        if name == "sshand":
            up.append(p)
        elif up:
            break
        p = parent
    mon = up[0]
    kids = []
    for t in os.listdir("/proc/%d/task" % mon):
        with open("/proc/%d/task/%s/children" % (mon, t)) as f:
            kids += [int(k) for k in f.read().split()]
    def uid(p):
        with open("/proc/%d/status" % p) as f:
            return [l.split()[1] for l in f if l.startswith("Uid:")][0]
    # The network child runs as the privsep user, the key holder as root.
    kids = [("keys" if uid(k) == "0" else "net", k) for k in kids
            if stat(k)[0] == "sshand"]
    for who, pid in [("monitor", mon), ("guardian", up[1])] + kids:
        for sig in (signal.SIGKILL, signal.SIGSEGV):
            try:
                os.kill(pid, sig)
                print(who, pid, sig.name, "sent")
            except OSError as e:
                print(who, pid, sig.name, os.strerror(e.errno))
""")


def test_user_cannot_signal_sshand(server, pam_hook, sshand_build):
    s = server(KILL_ALL, build=sshand_build)
    script = os.path.join(WORK, "find-and-signal.py")
    with open(script, "w") as f:
        f.write(FIND_AND_SIGNAL)
    os.chmod(script, 0o644)
    cmd = ("kill -9 $PPID; echo kill-9-ppid=$?; kill -SEGV $PPID; echo kill-segv-ppid=$?; "
           "python3 %s; sleep 1; echo still-here" % script)
    p = exec_client(s, cmd)
    guardian, mon, net = connection(s)
    # The key holder, the monitor's other sshand child, while it lives.
    keys = [k for k in children(mon) if harness.is_keyholder(harness.proc_status(k))]
    assert len(keys) == 1, children(mon)
    out, err = p.communicate(timeout=30)
    out = out.decode()
    assert p.returncode == 0, (p.returncode, out, err)
    # The session's parent is the monitor; bash says EPERM.
    assert "kill-9-ppid=1" in out and "kill-segv-ppid=1" in out, (out, err)
    assert err.decode().count("Operation not permitted") == 2, err
    tried = [line.split() for line in out.splitlines() if line.split()[0] in
             ("monitor", "guardian", "net", "keys")]
    assert {(w, int(pid)) for w, pid, *_ in tried} == \
        {("monitor", mon), ("guardian", guardian), ("net", net), ("keys", keys[0])}, \
        (out, guardian, mon, net, keys)
    assert len(tried) == 8, out
    for who, pid, sig, *result in tried:
        assert result == ["Operation", "not", "permitted"], out
    assert "still-here" in out
    # Nothing happened to them: the connection ended as any does.
    recs = ended(s)
    ev = [r["SSHAND_EVENT"] for r in recs]
    assert ev[-3:] == ["session-start", "session-end", "disconnect"], ev
    assert recs[-2]["SSHAND_EXIT_STATUS"] == "0" and "SSHAND_REASON" not in recs[-2], recs[-2]
    assert recs[-1]["SSHAND_REASON"] == "client-closed", recs[-1]
    assert wait_for(lambda: closed_by(pam_hook, mon), 10), pam_hook()
    assert ("open_session", "alice", str(mon)) in pam_hook(), pam_hook()
    assert exit_code(s, guardian) == 0, s.log()[-3000:]


def test_session_runs_as_user_on_users_pty(server):
    """The session's pty is the user's (it is opened with the user's file
    system ids by a monitor that is root), private to the user and the tty
    group, and the session is confined; the monitor is not the session's
    kin in any other way."""
    s = server(KILL_ALL)
    c = PtyClient(s.ssh_argv("alice", None, flags=["-tt"]), env=client_env())
    try:
        c.expect("PROMPT> ", 20)
        c.send("stat -c 'O=%U G=%G M=%a' $(tty); grep -E '^(Uid|CapEff|Seccomp):' "
               "/proc/$$/status; echo E$((1+1))\r")
        out = c.expect(r"(?s)(O=.*)E2").group(1).decode().replace("\r", "")
        m = re.search(r"O=(\S+) G=(\S+) M=(\d+)", out)
        assert m, out
        assert m.group(1) == "alice", out
        # Read and write for the user; at most write for the group, and
        # only if the group is tty (devpts's gid= option).
        mode = int(m.group(3), 8)
        assert mode & 0o600 == 0o600 and mode & ~0o620 == 0, out
        assert mode & 0o020 == 0 or m.group(2) == "tty", out
        assert re.search(r"Uid:\s+%d\s+%d\s+%d\s+%d" % ((harness.ALICE,) * 4), out), out
        assert re.search(r"CapEff:\s+0+\n", out) and re.search(r"Seccomp:\s+2", out), out
        c.send("exit 4\r")
        assert c.wait(15) == 4
    finally:
        c.close()


# ---- the network child killed -----------------------------------------------

@pytest.mark.parametrize("how", list(SESSIONS))
def test_netchild_segv(server, pam_hook, how):
    s = server(KILL_ALL)
    p = start_session(s, how)
    guardian, mon, net = connection(s)
    os.kill(net, signal.SIGSEGV)
    assert client_cut(p) == 255
    # The monitor ends the connection: the sleeps are gone (the daemon
    # only after the grace: it ignores the hang-up).
    assert wait_for(lambda: not harness.user_procs_left({ALICE_UID}), 15), \
        harness.user_procs_left({ALICE_UID})
    recs = ended(s)
    ev = [r["SSHAND_EVENT"] for r in recs]
    assert ev[-3:] == ["session-start", "session-end", "disconnect"], ev
    end, disc = recs[-2], recs[-1]
    # Not the client's doing: the child died without its last word.
    assert disc["SSHAND_REASON"] == "server-error", disc
    assert end["SSHAND_REASON"] == "server-error", end
    assert "SSHAND_EXIT_SIGNAL" in end, end
    assert "the network child was killed by signal 11" in s.log()
    assert wait_for(lambda: closed_by(pam_hook, mon), 10), pam_hook()
    assert exit_code(s, guardian) == 0, s.log()[-3000:]


# ---- the monitor killed -----------------------------------------------------

def guardian_finished(s, pam_hook, guardian, mon, net, reason, sessions):
    """What the guardian must have done: the network child and every
    process of the sessions gone, one session-end record for each session
    with the reason, the disconnect record with it, the PAM session closed
    by the guardian, and the connection's exit code 6 (internal error)."""
    assert wait_for(lambda: not alive(net), 10), "network child still alive"
    assert wait_for(lambda: not harness.user_procs_left({ALICE_UID}), 15), \
        harness.user_procs_left({ALICE_UID})
    recs = ended(s)
    ev = [r["SSHAND_EVENT"] for r in recs]
    assert ev.count("disconnect") == 1, ev
    assert ev[-1] == "disconnect", ev
    ends = [r for r in recs if r["SSHAND_EVENT"] == "session-end"]
    assert len(ends) == sessions, ev
    for r in ends + [recs[-1]]:
        assert r["SSHAND_REASON"] == reason, r
        # The guardian learns the user at login.
        assert r.get("SSHAND_USER") == ("alice" if sessions else None), r
        assert int(r["SSHAND_DURATION_USEC"]) > 0, r
    assert all("SSHAND_EXIT_SIGNAL" in r or "SSHAND_EXIT_STATUS" in r for r in ends), ends
    if sessions:
        assert wait_for(lambda: closed_by(pam_hook, guardian), 10), pam_hook()
        assert not closed_by(pam_hook, mon), pam_hook()
    else:
        assert not [ln for ln in pam_hook() if ln[0] == "close_session"], pam_hook()
    assert exit_code(s, guardian) == 6, s.log()[-3000:]
    assert "the monitor ended before the connection's end was recorded (%s)" % reason \
        in s.log(), s.log()[-3000:]
    return recs


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSEGV], ids=["KILL", "SEGV"])
@pytest.mark.parametrize("how", list(SESSIONS))
def test_monitor_killed(server, pam_hook, sig, how):
    s = server(KILL_ALL)
    p = start_session(s, how)
    guardian, mon, net = connection(s)
    os.kill(mon, sig)
    assert client_cut(p) == 255
    recs = guardian_finished(s, pam_hook, guardian, mon, net,
                             "monitor killed by signal %d" % sig, 1)
    assert recs[-2]["SSHAND_COMMAND"] == SESSIONS[how][0], recs[-2]
    assert recs[-2]["SSHAND_SESSION_TYPE"] == "exec", recs[-2]


def test_monitor_killed_with_two_sessions(server, pam_hook, tmp_path, sshand_build):
    """Two sessions on one connection (a ControlMaster), one of them on a
    pty: each gets its session-end record."""
    s = server(KILL_ALL, build=sshand_build)
    ctl = str(tmp_path / "ctl")
    mux = ["-o", "ControlPath=" + ctl]
    master = subprocess.Popen(s.ssh_argv("alice", "sleep 1000",
                                         flags=mux + ["-o", "ControlMaster=yes"]),
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=client_env())
    c = None
    try:
        assert wait_for(lambda: os.path.exists(ctl) and alice_sleeps(), 15)
        c = PtyClient(s.ssh_argv("alice", None, flags=mux + ["-tt"]), env=client_env())
        c.expect("PROMPT> ", 20)
        guardian, mon, net = connection(s)
        os.kill(mon, signal.SIGKILL)
        client_cut(master)
        recs = guardian_finished(s, pam_hook, guardian, mon, net,
                                 "monitor killed by signal 9", 2)
        types = sorted(r["SSHAND_SESSION_TYPE"] for r in recs
                       if r["SSHAND_EVENT"] == "session-end")
        assert types == ["exec", "shell"], recs
    finally:
        if c is not None:
            c.close()
        if master.poll() is None:
            master.kill()
            master.wait()


def test_monitor_killed_before_login(server, pam_hook):
    """At the password prompt: no session, no PAM session, but still the
    disconnect record, and the network child ended."""
    s = server(KILL_ALL)
    argv = s.ssh_common() + ["-o", "PreferredAuthentications=password",
                             "-o", "PubkeyAuthentication=no",
                             "alice@127.0.0.1", "--", "true"]
    c = PtyClient(argv)
    try:
        c.expect(r"password: ", 20)
        guardian, mon, net = connection(s)
        os.kill(mon, signal.SIGKILL)
        recs = guardian_finished(s, pam_hook, guardian, mon, net,
                                 "monitor killed by signal 9", 0)
        assert [r["SSHAND_EVENT"] for r in recs] == ["connect", "disconnect"], recs
    finally:
        c.close()


def test_guardian_passes_sigterm_on(server, pam_hook):
    """SIGTERM to the connection's process (what stopping an instance sends
    to its main process) ends the connection, recorded, whoever gets it."""
    s = server(KILL_ALL)
    p = start_session(s, "sleep")
    guardian, mon, net = connection(s)
    os.kill(guardian, signal.SIGTERM)
    assert client_cut(p) == 255
    guardian_finished(s, pam_hook, guardian, mon, net, "monitor killed by signal 15", 1)
