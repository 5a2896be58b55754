"""ChannelTimeout (OpenSSH 9.2, Debian 12's sshd), side by side with
sshd.  A channel of a type the administrator names ("session:command",
"session:shell", "session:subsystem:NAME", "direct-tcpip", ...) that
moves no bytes between the client and its program or socket for the
interval is closed by the server (channels.c, channel_force_close): no
exit status follows, so ssh exits with 255; output or input keeps it
open; a session whose type no pattern names is never closed; an idle
ssh -L connection is cut at both ends."""

import contextlib
import os
import socket
import subprocess
import threading
import time

import pytest

import harness
from harness import HOST, client_env, free_port, paramiko_login, wait_for

CONF = "ChannelTimeout session:command=2 direct-tcpip=2 forwarded-tcpip=2"


def ok(r):
    assert r.returncode == 0, "exit %d\nstdout: %s\nstderr: %s" % (
        r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    return r


def _closed_by_server(t, ch):
    """Whether the server closes paramiko channel ch within 10 s (paramiko
    drops a channel from its table when the server's close comes)."""
    return wait_for(lambda: t._channels.get(ch.get_id()) is None, 10)


@pytest.mark.parametrize("peer", ["openssh", "sshand"])
def test_idle_command_channel_is_closed_as_by_openssh(peer, server, openssh, keys):
    s = openssh(CONF) if peer == "openssh" else server(CONF)
    # Silent longer than its timeout: closed after 2 s (sshd counts in
    # whole seconds of its monotonic clock: 1 to 2 s), no exit status.
    t0 = time.monotonic()
    r = s.ssh("alice", "sleep 4", timeout=30)
    elapsed = time.monotonic() - t0
    assert r.returncode == 255 and r.stdout == "", (r.returncode, r.stdout, r.stderr)
    assert 1 <= elapsed < 3.9, elapsed
    # The command itself is not killed: it has no terminal to lose.  (A
    # client that keeps its connection: the harness's sshand.conf says
    # KillUserProcesses yes, which would end it with the connection.)
    late = os.path.join(harness.USERS["alice"][2], "late")
    t = paramiko_login(s, keys)
    try:
        ch = t.open_session()
        ch.exec_command("sleep 4; touch late")
        assert _closed_by_server(t, ch)
        assert ch.recv_exit_status() == -1      # none was sent
        assert not os.path.exists(late)
        assert wait_for(lambda: os.path.exists(late), 10)
    finally:
        t.close()
    # Output every half second for 4 s: never idle for 2.
    r = ok(s.ssh("alice", "for i in 1 2 3 4 5 6 7 8; do echo $i; sleep 0.5; done",
                 timeout=30))
    assert r.stdout.split() == [str(i) for i in range(1, 9)]
    # Input every half second for 4 s, no output before the end: the
    # bytes written to the command count as much.
    p = subprocess.Popen(s.ssh_argv("alice", "cat >/dev/null; echo end"),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=client_env())
    for _ in range(8):
        p.stdin.write("x\n")
        p.stdin.flush()
        time.sleep(0.5)
    out, err = p.communicate("", timeout=30)
    assert p.returncode == 0 and out == "end\n", (p.returncode, out, err)
    if peer == "sshand":
        assert "closing after 2 seconds of inactivity" in s.log(), s.log()[-3000:]
        # The two sessions that went idle say so; the busy two do not.
        assert wait_for(lambda: len(s.audit_records("session-end")) == 4, 10)
        timed_out = [e.get("SSHAND_REASON") == "channel-timeout"
                     for e in s.audit_records("session-end")]
        assert timed_out == [True, True, False, False], s.audit_records("session-end")


@pytest.mark.parametrize("peer", ["openssh", "sshand"])
def test_timeout_applies_to_its_channel_type_only(peer, server, openssh, keys):
    """session:shell names shells, not commands; a terminal session
    idle past its timeout is hung up, as its closed terminal hangs it up
    under sshd; session:subsystem:sftp names sftp sessions."""
    conf = "ChannelTimeout session:shell=2 session:subsystem:sftp=2"
    # The harness's sshand.conf has its sftp subsystem already.
    s = openssh(conf + "\nSubsystem sftp internal-sftp") if peer == "openssh" \
        else server(conf)
    r = ok(s.ssh("alice", "sleep 3; echo done", timeout=30))
    assert r.stdout == "done\n"
    # An sftp session that asks nothing: closed by the server.
    t = paramiko_login(s, keys)
    try:
        ch = t.open_session()
        ch.invoke_subsystem("sftp")
        t0 = time.monotonic()
        assert _closed_by_server(t, ch)
        assert time.monotonic() - t0 < 5
    finally:
        t.close()
    home = harness.USERS["alice"][2]
    hup = os.path.join(home, "hup")
    t0 = time.monotonic()
    # A shell with a terminal (ssh -tt, no command): its input is a
    # trap, then a read that nothing answers for longer than the
    # timeout (a builtin: the trap runs as the hang-up comes).
    p = subprocess.Popen(s.ssh_argv("alice", flags=["-tt"]), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=client_env())
    p.stdin.write(b"trap 'touch hup; exit 0' HUP; read x\n")
    p.stdin.flush()
    try:
        p.wait(30)
    finally:
        p.kill()
        p.communicate()
    elapsed = time.monotonic() - t0
    assert p.returncode == 255, p.returncode
    assert 1 <= elapsed < 10, elapsed
    assert wait_for(lambda: os.path.exists(hup), 10)


class _Hold:
    """A TCP service on the loopback that reads until EOF: when it saw
    each connection's end."""

    def __init__(self):
        self.sock = socket.create_server((HOST, 0))
        self.port = self.sock.getsockname()[1]
        self.ended = []
        self.t = threading.Thread(target=self._serve, daemon=True)
        self.t.start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._hold, args=(c,), daemon=True).start()

    def _hold(self, c):
        with c:
            while c.recv(4096):
                pass
            self.ended.append(time.monotonic())

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@contextlib.contextmanager
def _forward(s, flag, port):
    """ssh -N with one -L or -R to port on the loopback: (the forwarded
    port, the ssh process), once the port takes connections.  The one
    connection that checked it is closed at once."""
    lport = free_port()
    p = subprocess.Popen(s.ssh_argv("alice", flags=[
        "-N", flag, "%d:%s:%d" % (lport, HOST, port)]),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=client_env())

    def can_connect():
        try:
            socket.create_connection((HOST, lport), 2).close()
            return True
        except OSError:
            return False
    try:
        assert wait_for(can_connect, 15)
        yield lport, p
    finally:
        p.terminate()
        p.communicate(timeout=10)


def _timeout_closes(s):
    return [r for r in s.audit_records("forward-close")
            if r.get("SSHAND_REASON") == "channel-timeout"]


@pytest.mark.parametrize("peer", ["openssh", "sshand"])
@pytest.mark.parametrize("flag", ["-L", "-R"])
def test_idle_forward_is_cut(peer, flag, server, openssh):
    """ssh -L's direct-tcpip channels, ssh -R's forwarded-tcpip ones."""
    s = openssh(CONF) if peer == "openssh" else server(CONF)
    with _Hold() as hold, _forward(s, flag, hold.port) as (lport, p):
        # The probe was a connection too: it closed at once.
        assert wait_for(lambda: len(hold.ended) == 1, 10)
        c = socket.create_connection((HOST, lport), 5)
        c.settimeout(15)
        # Data for 3 s: never idle for 2.
        for _ in range(6):
            c.sendall(b"ping\n")
            last = time.monotonic()
            time.sleep(0.5)
        assert len(hold.ended) == 1
        assert c.recv(100) == b""      # then idle: the client's end is cut
        # 2 s after the last byte (sshd: 1 to 2, in whole seconds).
        elapsed = time.monotonic() - last
        assert 1 <= elapsed < 6, elapsed
        assert wait_for(lambda: len(hold.ended) == 2, 10)  # and the far end
        c.close()
        # The connection itself stays (ssh -N goes on).
        assert p.poll() is None
    if peer == "sshand":
        assert wait_for(lambda: _timeout_closes(s), 10), s.audit_records("forward-close")


@pytest.mark.parametrize("peer", ["openssh", "sshand"])
def test_closed_session_leaves_the_connection_unused(peer, server, openssh, keys):
    """Once ChannelTimeout has closed its only channel, the connection has
    none in use, even while the command runs on: UnusedConnectionTimeout
    then ends it, as sshd does."""
    conf = "ChannelTimeout session:command=1\nUnusedConnectionTimeout 2"
    s = openssh(conf) if peer == "openssh" else server(conf)
    t = paramiko_login(s, keys)
    try:
        ch = t.open_session()
        t0 = time.monotonic()
        ch.exec_command("sleep 6")
        assert _closed_by_server(t, ch)
        assert wait_for(lambda: not t.is_active(), 10)
        # 1 s, then 2 without a channel (sshd counts whole seconds: its
        # two may take a second less); the command, 6 s, still runs.
        elapsed = time.monotonic() - t0
        assert 1 <= elapsed < 5.5, elapsed
    finally:
        t.close()
    # sshd leaves the command to its end; sshand does too, but the
    # harness's KillUserProcesses yes ends it with the connection.
    assert wait_for(lambda: not harness.user_procs_left(), 10)


@pytest.mark.parametrize("peer", ["openssh", "sshand"])
def test_closed_session_frees_its_max_sessions_slot(peer, server, openssh, keys):
    """sshd frees the session whose channel it closed for inactivity,
    while its command runs on: with MaxSessions 1 a new session may
    start at once."""
    conf = "ChannelTimeout session:command=1\nMaxSessions 1"
    s = openssh(conf) if peer == "openssh" else server(conf)
    done = os.path.join(harness.USERS["alice"][2], "done")
    t = paramiko_login(s, keys)
    try:
        ch = t.open_session()
        ch.exec_command("sleep 4; touch done")
        assert _closed_by_server(t, ch)
        ch2 = t.open_session()
        ch2.exec_command("echo second")
        assert ch2.makefile().read() == b"second\n"
        assert ch2.recv_exit_status() == 0
        assert not os.path.exists(done)     # the first still runs
        assert wait_for(lambda: os.path.exists(done), 10)
    finally:
        t.close()


def test_force_close_paths_per_build(server, sshand_build):
    """Both ways a channel is closed for inactivity (a session's, a
    forwarded connection's), on each build make test runs: the ASan and
    UBSan one included."""
    s = server("ChannelTimeout session:command=1 direct-tcpip=1", build=sshand_build)
    r = s.ssh("alice", "sleep 3", timeout=30)
    assert r.returncode == 255 and r.stdout == "", (r.returncode, r.stderr)
    with _Hold() as hold, _forward(s, "-L", hold.port) as (lport, p):
        c = socket.create_connection((HOST, lport), 5)
        c.settimeout(15)
        assert c.recv(100) == b""      # idle for 1 s: cut
        c.close()
        assert p.poll() is None
    assert wait_for(lambda: _timeout_closes(s), 10)
    assert [r.get("SSHAND_REASON") for r in s.audit_records("session-end")] == ["channel-timeout"]
