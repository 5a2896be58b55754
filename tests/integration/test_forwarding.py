"""Issue 16: forwarding with real clients (ssh -L, -D, -W, -J, -R, -A),
under policy (OpenSSH's keywords and authorized_keys options), each
forwarded channel audited, and the session going on when a request is
refused."""

import hashlib
import json
import os
import socket
import socketserver
import subprocess
import threading
import time

import pytest

import harness
from harness import HOST, client_env, free_port, wait_for


# ---- local services the forwarding reaches --------------------------------

class _Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            b = self.request.recv(65536)
            if not b:
                break
            self.request.sendall(b)
        self.request.shutdown(socket.SHUT_WR)


class _Threaded(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def echo():
    """A TCP echo server on the loopback: its port."""
    srv = _Threaded((HOST, 0), _Echo)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def http(tmp_path):
    """A small HTTP server on the loopback serving one file: its port."""
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "hello.txt").write_text("hello through the tunnel\n")
    port = free_port()
    p = subprocess.Popen(["/usr/bin/python3", "-m", "http.server", "--bind", HOST,
                          str(port)], cwd=str(tmp_path / "www"),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert wait_for(lambda: _can_connect(port), 10)
    yield port
    p.terminate()
    p.wait(5)


def _can_connect(port, host=HOST):
    try:
        socket.create_connection((host, port), 1).close()
        return True
    except OSError:
        return False


def audit(s):
    recs = []
    try:
        with open(s.audit_log) as f:
            for line in f:
                if line.strip():
                    recs.append(json.loads(line))
    except FileNotFoundError:
        pass
    return recs


def fwd_records(s, event=None):
    return [r for r in audit(s) if r.get("SSHAND_EVENT", "").startswith("forward-")
            and (event is None or r["SSHAND_EVENT"] == event)]


class Tunnel:
    """ssh -N with forwarding options, in the background, until closed."""

    def __init__(self, s, flags, opts=(), key="alice_ed25519"):
        argv = s.ssh_argv(key=key, flags=["-N", "-o", "ExitOnForwardFailure=yes"] +
                          list(flags), opts=opts)
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  env=client_env())

    def close(self):
        self.p.terminate()
        try:
            return self.p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return self.p.communicate()


def transfer(port, size, host=HOST):
    """Sends size random bytes to an echo service at port and reads them
    back; both digests."""
    data = os.urandom(1 << 20)
    sent = hashlib.sha256()
    got = hashlib.sha256()
    s = socket.create_connection((host, port), 10)
    s.settimeout(60)

    def writer():
        left = size
        while left > 0:
            chunk = data[:min(left, len(data))]
            s.sendall(chunk)
            sent.update(chunk)
            left -= len(chunk)
        s.shutdown(socket.SHUT_WR)

    t = threading.Thread(target=writer)
    t.start()
    n = 0
    while True:
        b = s.recv(1 << 16)
        if not b:
            break
        got.update(b)
        n += len(b)
    t.join()
    s.close()
    return n, sent.hexdigest(), got.hexdigest()


# ---- local forwarding ---------------------------------------------------------

def test_local_forward_64mib_checksummed(srv, echo):
    lport = free_port()
    t = Tunnel(srv, ["-L", "%d:%s:%d" % (lport, HOST, echo)])
    try:
        assert wait_for(lambda: _can_connect(lport), 15), t.close()
        n, sent, got = transfer(lport, 64 << 20)
        assert n == 64 << 20
        assert sent == got
    finally:
        t.close()
    def big_closed():
        return [r for r in fwd_records(srv, "forward-close")
                if int(r.get("SSHAND_BYTES_IN", 0)) == 64 << 20]
    assert wait_for(big_closed, 10), fwd_records(srv)
    closes = fwd_records(srv, "forward-close")
    opens = fwd_records(srv, "forward-open")
    assert any(r["SSHAND_FORWARD_KIND"] == "direct-tcpip" and
               r["SSHAND_FORWARD_DESTINATION"] == "%s:%d" % (HOST, echo) and
               r["SSHAND_USER"] == "alice" for r in opens), opens
    big = [r for r in closes if int(r.get("SSHAND_BYTES_IN", 0)) == 64 << 20]
    assert big, closes
    assert int(big[0]["SSHAND_BYTES_OUT"]) == 64 << 20
    assert int(big[0]["SSHAND_DURATION_USEC"]) > 0
    # The close pairs with its open (the probe for the listener opened
    # one channel before).
    assert [r for r in opens if r["SSHAND_FORWARD_ID"] == big[0]["SSHAND_FORWARD_ID"]
            and r["SSHAND_CONNECTION"] == big[0]["SSHAND_CONNECTION"]]


def test_dynamic_forward_socks_with_curl(srv, http):
    dport = free_port()
    t = Tunnel(srv, ["-D", "%s:%d" % (HOST, dport)])
    try:
        assert wait_for(lambda: _can_connect(dport), 15), t.close()
        r = subprocess.run(["curl", "-sS", "--max-time", "20", "--socks5-hostname",
                            "%s:%d" % (HOST, dport),
                            "http://localhost:%d/hello.txt" % http],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert r.stdout == "hello through the tunnel\n"
    finally:
        t.close()
    # The client named the host; that is what is checked and recorded.
    assert wait_for(lambda: [r for r in fwd_records(srv, "forward-open")
                             if r["SSHAND_FORWARD_DESTINATION"] == "localhost:%d" % http], 10)


def _jump_config(s, tmp_path, target_port):
    cfg = tmp_path / "ssh_config"
    common = """  User alice
  IdentityFile {key}
  IdentitiesOnly yes
  BatchMode yes
  UserKnownHostsFile {kh}
  StrictHostKeyChecking accept-new
  GlobalKnownHostsFile /dev/null
  LogLevel ERROR
""".format(key=s.keys.client("alice_ed25519"), kh=s.known_hosts)
    cfg.write_text("Host jump\n  HostName {h}\n  Port {p}\n{c}\n"
                   "Host target\n  HostName {h}\n  Port {tp}\n  ProxyJump jump\n{c}"
                   .format(h=HOST, p=s.port, tp=target_port, c=common))
    return str(cfg)


def test_stdio_forward_and_proxyjump(server, tmp_path):
    jump = server()
    target = server()
    # -W: the client's stdin and stdout are the connection to the target.
    pc = "ProxyCommand=" + " ".join(jump.ssh_argv(flags=["-W", "%h:%p"]))
    r = target.ssh(cmd="echo via-W", opts=[pc])
    assert r.returncode == 0, r.stderr
    assert r.stdout == "via-W\n"
    # -J through sshand to sshand.
    r = subprocess.run(["ssh", "-F", _jump_config(jump, tmp_path, target.port),
                        "target", "echo via-J $USER"], capture_output=True,
                       text=True, timeout=60, env=client_env())
    assert r.returncode == 0, r.stderr
    assert r.stdout == "via-J alice\n"
    dests = [r["SSHAND_FORWARD_DESTINATION"] for r in fwd_records(jump, "forward-open")]
    assert dests.count("%s:%d" % (HOST, target.port)) == 2, dests


def _allocated_port(t, timeout=15):
    """The port sshd (here sshand) allocated for -R 0:..., as ssh prints it."""
    out = b""
    deadline = time.time() + timeout
    os.set_blocking(t.p.stderr.fileno(), False)
    while time.time() < deadline:
        try:
            b = t.p.stderr.read()
        except BlockingIOError:
            b = None
        if b:
            out += b
            m = __import__("re").search(rb"Allocated port (\d+) for remote forward", out)
            if m:
                return int(m.group(1))
        if t.p.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError("no allocated port: %r" % out)


def _info(argv):
    return ["LogLevel=INFO" if a == "LogLevel=ERROR" else a for a in argv]


class InfoTunnel(Tunnel):
    """A tunnel whose ssh logs at INFO (it prints the allocated port)."""

    def __init__(self, s, flags, opts=(), key="alice_ed25519"):
        argv = _info(s.ssh_argv(key=key, flags=["-N", "-o", "ExitOnForwardFailure=yes"] +
                                list(flags), opts=opts))
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  env=client_env())


def test_remote_forward_port_zero(srv, echo):
    t = InfoTunnel(srv, ["-R", "0:%s:%d" % (HOST, echo)])
    try:
        port = _allocated_port(t)
        assert port >= 1024
        # A connection made on the server side reaches the client's side.
        n, sent, got = transfer(port, 4 << 20)
        assert n == 4 << 20 and sent == got
        # The listener is the user's: the forwarder, running as alice.
        ino = _listener_owner(port)
        assert ino == 5001, ino
    finally:
        t.close()
    # Gone with the connection.
    assert wait_for(lambda: not _can_connect(port), 10)
    recs = fwd_records(srv)
    assert [r for r in recs if r["SSHAND_EVENT"] == "forward-open" and
            r["SSHAND_FORWARD_KIND"] == "tcpip-forward" and
            r["SSHAND_FORWARD_DESTINATION"].endswith(":%d" % port)], recs
    assert [r for r in recs if r["SSHAND_EVENT"] == "forward-close" and
            r["SSHAND_FORWARD_KIND"] == "forwarded-tcpip" and
            int(r["SSHAND_BYTES_IN"]) == 4 << 20], recs


def _listener_owner(port):
    """uid owning the TCP listener on 127.0.0.1:port (from /proc/net/tcp)."""
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            parts = line.split()
            local, state, uid = parts[1], parts[3], int(parts[7])
            if state == "0A" and int(local.split(":")[1], 16) == port:
                return uid
    return None
