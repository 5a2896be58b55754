"""How sshand gets its connection (issue 2): fd 3 from systemd's Accept=yes
protocol, fd 0 from inetd, and nothing else; and nothing but the SSH stream
ever reaches the connection, even when sshand fails before speaking."""

import os
import socket
import subprocess

import pytest

from harness import BUILD, WORK


def sshand():
    return os.path.join(BUILD, "sshand")


@pytest.fixture
def conf(keys, tmp_path):
    path = tmp_path / "sshand.conf"
    lines = ["HostKey " + p for p in keys.host_paths()]
    lines += ["PrivsepDirectory " + os.path.join(WORK, "empty"),
              "BanFile " + str(tmp_path / "bans"),
              "AuditLog " + str(tmp_path / "audit.jsonl")]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def tcp_pair():
    """A connected loopback TCP pair (server side, client side)."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    cli = socket.create_connection(lst.getsockname())
    srv, _ = lst.accept()
    lst.close()
    return srv, cli


def run(argv, **kw):
    if "stdout" not in kw:
        kw.setdefault("capture_output", True)
    return subprocess.run(argv, timeout=30, **kw)


def test_no_socket_refused(conf):
    r = run([sshand(), "-f", conf], stdin=subprocess.DEVNULL,
            env={"PATH": os.environ["PATH"]})
    assert r.returncode == 2
    assert b"no connection socket" in r.stderr, r.stderr


def test_listening_socket_refused(conf):
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    try:
        r = run([sshand(), "-f", conf], stdin=lst.fileno())
    finally:
        lst.close()
    assert r.returncode == 2
    assert b"listening socket" in r.stderr and b"Accept=yes" in r.stderr, r.stderr


def test_several_fds_refused(conf):
    a, ca = tcp_pair()
    b, cb = tcp_pair()
    try:
        # exec keeps the shell's pid, so $$ is the LISTEN_PID sshand sees.
        script = 'exec 3<&%d 4<&%d; LISTEN_PID=$$ LISTEN_FDS=2 exec "$0" -f "$1"' % (
            a.fileno(), b.fileno())
        r = run(["bash", "-c", script, sshand(), conf], stdin=subprocess.DEVNULL,
                pass_fds=(a.fileno(), b.fileno()))
    finally:
        for s in (a, ca, b, cb):
            s.close()
    assert r.returncode == 2
    assert b"several sockets" in r.stderr, r.stderr


def test_bad_listen_fds_refused(conf):
    r = run(["bash", "-c", 'LISTEN_PID=$$ LISTEN_FDS=abc exec "$0" -f "$1"', sshand(), conf],
            stdin=subprocess.DEVNULL)
    assert r.returncode == 2
    assert b"LISTEN_FDS" in r.stderr, r.stderr


def test_listen_pid_of_another_process_is_ignored(conf):
    # The fds were meant for someone else: sshand falls back to fd 0,
    # which here is no socket, and says so.
    a, ca = tcp_pair()
    try:
        script = 'exec 3<&%d; LISTEN_PID=1 LISTEN_FDS=1 exec "$0" -f "$1"' % a.fileno()
        r = run(["bash", "-c", script, sshand(), conf], stdin=subprocess.DEVNULL,
                pass_fds=(a.fileno(),))
    finally:
        a.close()
        ca.close()
    assert r.returncode == 2
    assert b"no connection socket" in r.stderr, r.stderr


def test_inetd_error_never_reaches_the_client(conf, tmp_path):
    """Classic inetd puts the socket on fds 0, 1 and 2: a config error must
    be logged elsewhere, never written to the client."""
    bad = tmp_path / "bad.conf"
    bad.write_text(open(conf).read() + "NoSuchKeyword yes\n")
    srv, cli = tcp_pair()
    try:
        fd = srv.fileno()
        r = run([sshand(), "-f", str(bad)], stdin=fd, stdout=fd, stderr=fd)
        srv.close()
        cli.settimeout(5)
        got = cli.recv(4096)
    finally:
        cli.close()
    assert r.returncode == 1
    assert got == b"", got


def test_inetd_speaks_ssh_first(conf):
    srv, cli = tcp_pair()
    try:
        fd = srv.fileno()
        p = subprocess.Popen([sshand(), "-f", conf], stdin=fd, stdout=fd, stderr=fd)
        srv.close()
        cli.settimeout(10)
        got = cli.recv(8)
        cli.close()
        p.wait(15)
    finally:
        cli.close()
    assert got.startswith(b"SSH-2.0-"), got
