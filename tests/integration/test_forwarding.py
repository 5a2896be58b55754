"""Issue 16: forwarding with real clients (ssh -L, -D, -W, -J, -R, -A),
under policy (OpenSSH's keywords and authorized_keys options), each
forwarded channel audited, and the session going on when a request is
refused."""

import hashlib
import re
import os
import socket
import shutil
import socketserver
import stat
import subprocess
import tempfile
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


def _ends_unanswered(sock):
    """The client closes sock's forwarded connection, with nothing sent
    back: its open was refused."""
    try:
        assert sock.recv(100) == b""
    except ConnectionResetError:
        pass


def _expect_closed(port):
    """A connection to a local forward whose open the server refused: the
    client closes it at once, without an answer."""
    c = socket.create_connection((HOST, port), 10)
    c.settimeout(15)
    try:
        c.sendall(b"ping")
    except ConnectionResetError:
        pass
    _ends_unanswered(c)
    c.close()


def _can_connect(port, host=HOST):
    try:
        socket.create_connection((host, port), 1).close()
        return True
    except OSError:
        return False


def fwd_records(s, event=None):
    return [r for r in s.audit_records() if r.get("SSHAND_EVENT", "").startswith("forward-")
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


def _session(s, flags, cmd, key="alice_ed25519"):
    """ssh with forwarding flags running cmd, in the background: its
    Popen, stdout and stderr as text."""
    return subprocess.Popen(s.ssh_argv(key=key, flags=flags, cmd=cmd),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=client_env())


def transfer(port, size, host=HOST, sock=None):
    """Sends size random bytes to an echo service at port (or through
    sock, already connected) and reads them back; both digests."""
    data = os.urandom(1 << 20)
    sent = hashlib.sha256()
    got = hashlib.sha256()
    s = sock if sock is not None else socket.create_connection((host, port), 10)
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
            m = re.search(rb"Allocated port (\d+) for remote forward", out)
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
        assert ino == harness.ALICE, ino
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


class _UnixThreaded(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def test_local_forward_to_unix_socket(srv):
    # Where alice may reach it: the socket is connected to as the user.
    d = tempfile.mkdtemp(prefix="sshand-fwd.", dir="/tmp")
    os.chmod(d, 0o755)
    path = os.path.join(d, "echo.sock")
    us = _UnixThreaded(path, _Echo)
    os.chmod(path, 0o777)
    threading.Thread(target=us.serve_forever, daemon=True).start()
    lport = free_port()
    t = Tunnel(srv, ["-L", "%d:%s" % (lport, path)])
    try:
        assert wait_for(lambda: _can_connect(lport), 15), t.close()
        n, sent, got = transfer(lport, 1 << 20)
        assert n == 1 << 20 and sent == got
    finally:
        t.close()
        us.shutdown()
        us.server_close()
        shutil.rmtree(d)
    assert [r for r in fwd_records(srv, "forward-open")
            if r["SSHAND_FORWARD_KIND"] == "direct-streamlocal" and
            r["SSHAND_FORWARD_DESTINATION"] == path]


def _user_dir(user_uid):
    d = tempfile.mkdtemp(prefix="sshand-fwd.", dir="/tmp")
    os.chown(d, user_uid, user_uid)
    os.chmod(d, 0o755)
    return d


def _unix_connect(path):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(10)
    c.connect(path)
    return c


def test_remote_forward_from_unix_socket(srv, echo):
    """ssh -R PATH:host:port: the listener is the user's socket at PATH,
    made as sshd makes it (StreamLocalBindMask 0177: only the user may
    connect); each connection to it reaches the client as a
    forwarded-streamlocal@openssh.com channel, which libssh 0.10 cannot
    open by itself (handler/net/libssh-rewrite.c).  The echo comes back
    whole: a Unix socket's small buffers leave data in the network child
    when the client closes the channel, which it used to drop."""
    d = _user_dir(harness.ALICE)
    path = os.path.join(d, "remote.sock")
    t = Tunnel(srv, ["-R", "%s:%s:%d" % (path, HOST, echo)])
    try:
        assert wait_for(lambda: os.path.exists(path), 15), t.close()
        st = os.stat(path)
        assert stat.S_ISSOCK(st.st_mode)
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (harness.ALICE, 0o600), st
        for size in (1 << 20, 3):
            n, sent, got = transfer(None, size, sock=_unix_connect(path))
            assert n == size and sent == got
    finally:
        out = t.close()
    # Gone with the connection: the forwarder removes its socket.
    assert wait_for(lambda: not os.path.exists(path), 10), out
    shutil.rmtree(d)
    recs = fwd_records(srv)
    assert [r for r in recs if r["SSHAND_EVENT"] == "forward-open" and
            r["SSHAND_FORWARD_KIND"] == "streamlocal-forward" and
            r["SSHAND_FORWARD_DESTINATION"] == path], recs
    closes = [r for r in recs if r["SSHAND_EVENT"] == "forward-close" and
              r["SSHAND_FORWARD_KIND"] == "forwarded-streamlocal"]
    assert sorted(int(r["SSHAND_BYTES_IN"]) for r in closes) == [3, 1 << 20], closes


def test_remote_forward_from_unix_socket_refused_by_policy(server, echo):
    """AllowStreamLocalForwarding local refuses ssh -R from a path with
    the keyword named in the record; an existing file at the path is
    not replaced (StreamLocalBindUnlink no, sshd's default); the session
    goes on."""
    d = _user_dir(harness.ALICE)
    try:
        s = server("AllowStreamLocalForwarding local")
        path = os.path.join(d, "remote.sock")
        r = s.ssh(flags=["-o", "ExitOnForwardFailure=no", "-R",
                         "%s:%s:%d" % (path, HOST, echo)], cmd="echo alive")
        assert r.returncode == 0 and r.stdout == "alive\n", r.stderr
        assert not os.path.exists(path)
        refused = fwd_records(s, "forward-refused")
        assert [x for x in refused if x["SSHAND_REASON"] == "AllowStreamLocalForwarding"], refused
        s = server()
        taken = os.path.join(d, "taken.sock")
        with open(taken, "w") as f:
            f.write("not a socket")
        r = s.ssh(flags=["-o", "ExitOnForwardFailure=no", "-R",
                         "%s:%s:%d" % (taken, HOST, echo)], cmd="echo alive")
        assert r.returncode == 0 and r.stdout == "alive\n", r.stderr
        with open(taken) as f:
            assert f.read() == "not a socket"
        assert fwd_records(s, "forward-refused"), s.audit_records()
    finally:
        shutil.rmtree(d)


def _stale_socket(path, uid):
    """A socket file at path that nothing listens on, as a program that
    died leaves it (a GnuPG agent's, say)."""
    if os.path.lexists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()
    os.chown(path, uid, uid)


def _listening(path):
    try:
        _unix_connect(path).close()
        return True
    except OSError:
        return False


def _remote_forward_refused(s, path, echo):
    """ssh -R from path, with ExitOnForwardFailure yes: the server
    refuses it and the client gives up."""
    t = Tunnel(s, ["-R", "%s:%s:%d" % (path, HOST, echo)])
    try:
        err = t.p.communicate(timeout=20)[1].decode()
    finally:
        t.close()
    assert t.p.returncode == 255, err
    assert "remote port forwarding failed" in err, err


@pytest.mark.parametrize("peer", ["openssh", "sshand"])
def test_streamlocal_bind_options_as_openssh(peer, server, openssh, echo):
    """StreamLocalBindMask and StreamLocalBindUnlink, side by side with
    sshd.  GnuPG's agent forwarding (ssh -R to the remote agent's socket
    path) asks for StreamLocalBindUnlink yes: a socket left at the path
    is replaced, the new one made under the mask, with the user's
    rights: one the user may not remove stays.  With no, sshd's default,
    the file stays and the forward is refused."""
    d = _user_dir(harness.ALICE)
    path = os.path.join(d, "S.gpg-agent")
    rootdir = tempfile.mkdtemp(prefix="sshand-fwd-root.", dir="/tmp")
    try:
        for unlink in ("no", "yes"):
            _stale_socket(path, harness.ALICE)
            conf = "StreamLocalBindMask 0117\nStreamLocalBindUnlink " + unlink
            s = openssh(conf) if peer == "openssh" else server(conf)
            if unlink == "no":
                _remote_forward_refused(s, path, echo)
                assert not _listening(path)
                assert stat.S_ISSOCK(os.lstat(path).st_mode)
                continue
            t = Tunnel(s, ["-R", "%s:%s:%d" % (path, HOST, echo)])
            try:
                assert wait_for(lambda: _listening(path), 15), t.close()
                st = os.stat(path)
                assert stat.S_ISSOCK(st.st_mode)
                assert (st.st_uid, stat.S_IMODE(st.st_mode)) == \
                    (harness.ALICE, 0o660), st
                n, sent, got = transfer(None, 1 << 16, sock=_unix_connect(path))
                assert n == 1 << 16 and sent == got
            finally:
                t.close()
            # The removal is the user's: a socket in a directory only
            # root may write stays, and the forward is refused.
            os.chmod(rootdir, 0o755)
            theirs = os.path.join(rootdir, "S.gpg-agent")
            _stale_socket(theirs, 0)
            _remote_forward_refused(s, theirs, echo)
            st = os.lstat(theirs)
            assert stat.S_ISSOCK(st.st_mode) and st.st_uid == 0, st
    finally:
        shutil.rmtree(rootdir)
        shutil.rmtree(d)


@pytest.fixture
def agent(keys, tmp_path):
    """A client-side ssh-agent holding alice's key: (env, fingerprint)."""
    env = client_env()
    sock = str(tmp_path / "agent.sock")
    out = subprocess.run(["ssh-agent", "-s", "-a", sock], capture_output=True,
                         text=True, env=env, check=True).stdout
    pid = int(re.search(r"SSH_AGENT_PID=(\d+)", out).group(1))
    env["SSH_AUTH_SOCK"] = sock
    try:
        subprocess.run(["ssh-add", keys.client("alice_ed25519")], env=env,
                       check=True, capture_output=True)
        fp = subprocess.run(["ssh-keygen", "-lf", keys.client("alice_ed25519") + ".pub"],
                            capture_output=True, text=True,
                            check=True).stdout.split()[1]
        yield env, fp
    finally:
        os.kill(pid, 15)


def test_agent_forwarding_lists_the_clients_key(srv, agent):
    env, fp = agent
    r = subprocess.run(srv.ssh_argv(flags=["-A"], cmd=(
        'ssh-add -l; echo "sock=$SSH_AUTH_SOCK"; '
        'stat -c "%U %a" "$(dirname "$SSH_AUTH_SOCK")"')),
        capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    assert fp in r.stdout, r.stdout
    sock = re.search(r"sock=(\S+)", r.stdout).group(1)
    assert sock.startswith("/tmp/ssh-"), sock
    assert "alice 700" in r.stdout, r.stdout
    # Removed with the connection.
    assert wait_for(lambda: not os.path.exists(os.path.dirname(sock)), 10), sock
    kinds = [x["SSHAND_FORWARD_KIND"] for x in fwd_records(srv, "forward-close")]
    assert "auth-agent" in kinds, kinds


@pytest.mark.parametrize("how", ["config", "key-option"])
def test_agent_forwarding_refused_by_policy(server, keys, agent, how):
    env, _ = agent
    if how == "config":
        srv = server("AllowAgentForwarding no")
        reason = "AllowAgentForwarding"
    else:
        harness.write_authorized_keys("alice", ["no-agent-forwarding " +
                                                keys.pub("alice_ed25519")])
        srv = server()
        reason = "no-agent-forwarding"
    r = subprocess.run(srv.ssh_argv(flags=["-A"], cmd='echo "sock=${SSH_AUTH_SOCK:-unset}"'),
                       capture_output=True, text=True, timeout=60, env=env)
    # Refused, and the session goes on.
    assert r.returncode == 0, r.stderr
    assert r.stdout == "sock=unset\n"
    refused = fwd_records(srv, "forward-refused")
    assert [x for x in refused if x["SSHAND_REASON"] == reason], refused


# ---- a slow connect holds up nothing else ----------------------------------------

@pytest.fixture
def blackhole():
    """A loopback port whose connects hang: a listener with backlog 0
    whose accept queue is filled and never accepted, so that Linux drops
    every further SYN (as a firewall that drops them does).  Its port."""
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind((HOST, 0))
    lsock.listen(0)
    port = lsock.getsockname()[1]
    fillers = []
    try:
        for _ in range(16):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.setblocking(False)
            fillers.append(c)
            c.connect_ex((HOST, port))
            try:
                c.settimeout(0.3)
                c.send(b"")
                # Established: the queue took it; one more.
                c.getpeername()
            except OSError:
                break
        # The proof: a connect now gets no answer at all.
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.settimeout(0.5)
        with pytest.raises(socket.timeout):
            probe.connect((HOST, port))
        probe.close()
        yield port
    finally:
        for c in fillers:
            c.close()
        lsock.close()


def _round_trip(sock, data):
    t = time.monotonic()
    sock.sendall(data)
    got = b""
    while len(got) < len(data):
        b = sock.recv(65536)
        assert b, "echo channel closed"
        got += b
    assert got == data
    return time.monotonic() - t


def _live_and_hanging(lecho, lslow, slow_timeout):
    """Once the -L at lecho (to the echo server) listens: a channel through
    it that has answered once, then a connection to the -L at lslow, whose
    open hangs in the forwarder, and when that was made."""
    assert wait_for(lambda: _can_connect(lecho), 15)
    live = socket.create_connection((HOST, lecho), 5)
    live.settimeout(5)
    _round_trip(live, b"before")
    slow = socket.create_connection((HOST, lslow), 5)
    slow.settimeout(slow_timeout)
    return live, slow, time.monotonic()


def _refused_to(s, dest, reason=None):
    """The forward-refused records of opens to dest ("host:port"), of
    that reason if one is given."""
    return [r for r in fwd_records(s, "forward-refused")
            if r.get("SSHAND_FORWARD_DESTINATION") == dest and
            (reason is None or r["SSHAND_REASON"] == reason)]


def _answers_meanwhile(live, port, since, seconds=3):
    """Round trips, until seconds after since, on the open echo channel
    live and on fresh ones to the forward at port: their times."""
    times = []
    while time.monotonic() - since < seconds:
        times.append(_round_trip(live, os.urandom(1000)))
        fresh = socket.create_connection((HOST, port), 5)
        fresh.settimeout(5)
        times.append(_round_trip(fresh, b"fresh"))
        fresh.close()
        time.sleep(0.1)
    return times


def test_slow_connect_stalls_no_other_channel(server, sshand_build, echo, blackhole):
    """ssh -L to a destination that never answers SYN: the connect hangs
    in the forwarder, and meanwhile another channel of the same connection
    (one already open, and new ones opened during the hang) answers at
    once; the hanging open then fails as the client sees it, with a
    forward-refused record that says connect-failed.  An open still
    connecting when the connection ends is recorded refused too."""
    s = server(build=sshand_build)
    lslow, lecho = free_port(), free_port()
    dest = "%s:%d" % (HOST, blackhole)
    t = Tunnel(s, ["-L", "%d:%s" % (lslow, dest),
                   "-L", "%d:%s:%d" % (lecho, HOST, echo)])
    try:
        live, slow, hang_start = _live_and_hanging(lecho, lslow, 15)
        # 3 s into the forwarder's 10 s connect: an open channel and
        # fresh opens both answer well under a second.
        times = _answers_meanwhile(live, lecho, hang_start)
        assert max(times) < 1.0, times
        # The slow open is still pending: nothing came back on it.
        assert not _refused_to(s, dest), fwd_records(s)
        # Then it fails (the forwarder gives up after 10 s): the client
        # closes its end of the forwarded connection.
        _ends_unanswered(slow)
        waited = time.monotonic() - hang_start
        assert 8 < waited < 13, waited
        slow.close()
        assert wait_for(lambda: _refused_to(s, dest), 5), fwd_records(s)
        rec = _refused_to(s, dest)[0]
        assert rec["SSHAND_REASON"].startswith("connect-failed:"), rec
        assert rec["SSHAND_FORWARD_KIND"] == "direct-tcpip", rec
        assert not [r for r in fwd_records(s, "forward-open")
                    if r["SSHAND_FORWARD_ID"] == rec["SSHAND_FORWARD_ID"]]
        _round_trip(live, b"after")
        live.close()
        # One more hanging open, and the connection ends under it.
        pending = socket.create_connection((HOST, lslow), 5)
        time.sleep(0.5)
    finally:
        t.close()
    pending.close()
    assert wait_for(lambda: _refused_to(s, dest, "connection-closed"), 10), \
        fwd_records(s)


# ---- a slow name lookup holds up nothing else -------------------------------------

class _SilentDNS:
    """A DNS server on 127.a.b.c:53 that never answers, but for names
    under nx. (NXDOMAIN at once); the names it was asked, in order."""

    def __init__(self):
        self.queries = []
        self.sock = None
        for _ in range(20):
            a, b, c = os.urandom(3)
            addr = "127.%d.%d.%d" % (a, b, 1 + c % 254)
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.bind((addr, 53))
            except OSError:
                s.close()
                continue
            self.sock, self.addr = s, addr
            break
        assert self.sock is not None, "no free 127.x.y.z:53"
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            labels, i = [], 12
            try:
                while data[i]:
                    labels.append(data[i + 1:i + 1 + data[i]].decode("ascii", "replace"))
                    i += 1 + data[i]
            except IndexError:
                continue
            name = ".".join(labels)
            self.queries.append(name)
            if name.startswith("nx."):
                # The question back, QR RD RA and NXDOMAIN, no records.
                question = data[12:i + 5]
                self.sock.sendto(data[:2] + b"\x81\x83" + data[4:6] + bytes(6) +
                                 question, peer)

    def close(self):
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


# A name /etc/hosts answers, and one that only DNS could.
HOSTS_NAME = "echo-by-name.sshand.test"
SILENT_NAME = "db.sshand.test"


@pytest.fixture
def silent_dns(tmp_path):
    """A server that resolves through _SilentDNS: its resolv.conf, hosts
    (localhost and HOSTS_NAME on 127.0.0.1) and nsswitch.conf ("hosts:
    files dns"; the rest as the host's) bind-mounted over /etc's in a
    mount namespace of the server's own, never in the suite's.  glibc is
    told to wait 30 s, three times the forwarder's own bound: the time
    out the client sees is the forwarder's.  (dns, wrap argv)."""
    dns = _SilentDNS()
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver %s\noptions timeout:30 attempts:1\n" % dns.addr)
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n127.0.0.1 %s\n" % HOSTS_NAME)
    with open("/etc/nsswitch.conf") as f:
        lines = [l for l in f if not l.startswith("hosts:")]
    nss = tmp_path / "nsswitch.conf"
    nss.write_text("".join(lines) + "hosts: files dns\n")
    for f in (resolv, hosts, nss):
        os.chmod(str(f), 0o644)
    os.chmod(str(tmp_path), 0o755)
    script = ('r=$0 h=$1 n=$2; shift 2; mount --bind "$r" /etc/resolv.conf; '
              'mount --bind "$h" /etc/hosts; mount --bind "$n" /etc/nsswitch.conf; '
              'exec "$@"')
    wrap = ["unshare", "-m", "--propagation", "private", "sh", "-ec", script,
            str(resolv), str(hosts), str(nss)]
    try:
        yield dns, wrap
    finally:
        dns.close()


def _users_sshand(s):
    """alice's sshand processes below the server: the forwarder, and its
    resolver children while they live."""
    return [p for p in s.tree()
            if (harness.proc_status(p) or {}).get("Name") == "sshand" and
            harness.proc_status(p)["Uid"].split()[0] == str(harness.ALICE)]


def test_slow_lookup_stalls_no_other_channel(server, sshand_build, echo, silent_dns):
    """ssh -L to a host name whose DNS server never answers: the lookup
    hangs in a child of the forwarder, and meanwhile another channel of
    the same connection (one already open, and new ones opened during the
    hang) answers at once.  After the forwarder's 10 s (well before the
    resolver's own 30 s) the open is refused, "name lookup timed out" in
    its record; the child is gone, reaped.  A lookup still pending when
    the connection ends leaves no process behind."""
    dns, wrap = silent_dns
    s = server(build=sshand_build, wrap=wrap)
    lslow, lecho = free_port(), free_port()
    dest = "%s:5432" % SILENT_NAME
    t = Tunnel(s, ["-L", "%d:%s" % (lslow, dest),
                   "-L", "%d:%s:%d" % (lecho, HOST, echo)])
    try:
        live, slow, hang_start = _live_and_hanging(lecho, lslow, 25)
        assert wait_for(lambda: SILENT_NAME in dns.queries, 5), dns.queries
        # The forwarder and its one resolver child.
        assert wait_for(lambda: len(_users_sshand(s)) == 2, 5), _users_sshand(s)
        times = _answers_meanwhile(live, lecho, hang_start)
        # Every one answered while the lookup was still pending: no
        # answer on it, no record of it yet.
        assert times and max(times) < 3.0, times
        assert not _refused_to(s, dest), fwd_records(s)
        _ends_unanswered(slow)
        waited = time.monotonic() - hang_start
        assert waited < 20, waited
        slow.close()
        assert wait_for(lambda: _refused_to(s, dest), 5), fwd_records(s)
        rec = _refused_to(s, dest)[0]
        assert rec["SSHAND_REASON"] == "connect-failed: name lookup timed out", rec
        assert rec["SSHAND_FORWARD_KIND"] == "direct-tcpip", rec
        # The child killed and reaped: the forwarder has no child left,
        # not even a zombie.
        fwd = _users_sshand(s)
        assert len(fwd) == 1, fwd
        kids = harness.children(fwd[0], zombies=True)
        assert kids == [], kids
        _round_trip(live, b"after")
        live.close()
        # One more hanging lookup, and the connection ends under it.
        pending = socket.create_connection((HOST, lslow), 5)
        assert wait_for(lambda: len(_users_sshand(s)) == 2, 5), _users_sshand(s)
    finally:
        t.close()
    pending.close()
    assert wait_for(lambda: _refused_to(s, dest, "connection-closed"), 10), \
        fwd_records(s)
    assert wait_for(lambda: not _users_sshand(s), 10), _users_sshand(s)


def test_forward_to_names(server, echo, silent_dns):
    """Names still connect: "localhost" and a name of /etc/hosts, both
    looked up by a resolver child.  A name DNS says does not exist is
    refused with the resolver's words, and the session goes on."""
    dns, wrap = silent_dns
    s = server(wrap=wrap)
    lloc, lhosts, lnx = free_port(), free_port(), free_port()
    nx = "nx.sshand.test"
    p = _session(s, ["-L", "%d:localhost:%d" % (lloc, echo),
                     "-L", "%d:%s:%d" % (lhosts, HOSTS_NAME, echo),
                     "-L", "%d:%s:%d" % (lnx, nx, echo)],
                 "sleep 4; echo alive")
    try:
        assert wait_for(lambda: _can_connect(lloc), 15)
        for port in (lloc, lhosts):
            n, sent, got = transfer(port, 100000)
            assert n == 100000 and sent == got
        _expect_closed(lnx)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert p.returncode == 0, err
    assert out == "alive\n"
    # /etc/hosts answered those two: DNS was asked only the other.
    assert nx in dns.queries and HOSTS_NAME not in dns.queries and \
        "localhost" not in dns.queries, dns.queries
    opened = [r["SSHAND_FORWARD_DESTINATION"] for r in fwd_records(s, "forward-open")]
    assert "localhost:%d" % echo in opened and "%s:%d" % (HOSTS_NAME, echo) in opened, opened
    rec = [r for r in fwd_records(s, "forward-refused")
           if r["SSHAND_FORWARD_DESTINATION"] == "%s:%d" % (nx, echo)]
    assert rec and rec[0]["SSHAND_REASON"] == \
        "connect-failed: Name or service not known", fwd_records(s)


# ---- policy: each keyword refuses what it should, the session goes on ----------

def _refused_local(s, echo, key="alice_ed25519"):
    """ssh -L with a command: the forwarded connection is closed at once,
    and the command's session still runs to its end."""
    lport = free_port()
    p = _session(s, ["-L", "%d:%s:%d" % (lport, HOST, echo)],
                 "sleep 2; echo alive", key=key)
    assert wait_for(lambda: _can_connect(lport), 15)
    _expect_closed(lport)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert out == "alive\n"


def _refused_remote(s, port, key="alice_ed25519"):
    r = s.ssh(key=key, flags=["-o", "ExitOnForwardFailure=no", "-R",
                              "%d:%s:9" % (port, HOST)], cmd="echo alive")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "alive\n"


POLICY_CASES = [
    # (config, authorized_keys options, direction, reason in the record)
    ("AllowTcpForwarding no", None, "L", "AllowTcpForwarding"),
    ("AllowTcpForwarding remote", None, "L", "AllowTcpForwarding"),
    ("AllowTcpForwarding local", None, "R", "AllowTcpForwarding"),
    ("DisableForwarding yes", None, "L", "DisableForwarding"),
    ("DisableForwarding yes", None, "R", "DisableForwarding"),
    ("PermitOpen 127.0.0.1:1 localhost:*", None, "L", "PermitOpen"),
    ("PermitOpen none", None, "L", "PermitOpen"),
    ("PermitListen 127.0.0.1:1", None, "R", "PermitListen"),
    ("SandboxProfile strict", None, "L", "SandboxProfile strict"),
    ("Match User alice\n  AllowTcpForwarding no", None, "L", "AllowTcpForwarding"),
    ("", "no-port-forwarding", "L", "no-port-forwarding"),
    ("", "restrict", "R", "no-port-forwarding"),
    ("", 'permitopen="127.0.0.1:1"', "L", "permitopen"),
    ("", 'permitlisten="localhost:1"', "R", "permitlisten"),
    ("", None, "R80", "privileged-port"),
]


@pytest.mark.parametrize("config,keyopts,direction,reason", POLICY_CASES,
                         ids=["%s|%s|%s" % (c.replace("\n", ";"), k, d)
                              for c, k, d, _ in POLICY_CASES])
def test_policy_refuses(server, keys, echo, config, keyopts, direction, reason):
    if keyopts:
        harness.write_authorized_keys("alice", [keyopts + " " + keys.pub("alice_ed25519")])
    s = server(config)
    if direction == "L":
        _refused_local(s, echo)
    else:
        _refused_remote(s, 80 if direction == "R80" else free_port())
    refused = fwd_records(s, "forward-refused")
    assert [r for r in refused if r["SSHAND_REASON"] == reason and
            r["SSHAND_USER"] == "alice"], refused
    assert not fwd_records(s, "forward-open")


def _refused_then_echo(s, closed, echo):
    """ssh -L to closed and to echo in one connection: the first open is
    refused, the second still carries data, the session runs to its end.
    The client's stderr."""
    lport, lport2 = free_port(), free_port()
    # -v: the harness's LogLevel=ERROR hides the client's INFO line.
    p = _session(s, ["-v", "-L", "%d:%s:%d" % (lport, HOST, closed),
                     "-L", "%d:%s:%d" % (lport2, HOST, echo)],
                 "sleep 3; echo alive")
    try:
        assert wait_for(lambda: _can_connect(lport2), 15)
        _expect_closed(lport)
        n, sent, got = transfer(lport2, 10000)
        assert n == 10000 and sent == got
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    assert out == "alive\n"
    return err


def test_refusal_reasons_as_sshd(server, echo):
    """A refused open carries sshd's reason and description, which the
    client prints (OpenSSH channels.c: a failed connect is "connect
    failed" with the error; a refusal by policy "administratively
    prohibited" with "open failed"), where libssh alone says
    "administratively prohibited" with nothing for every refusal."""
    closed = free_port()
    err = _refused_then_echo(server(), closed, echo)
    assert re.search(r"channel \d+: open failed: connect failed: "
                     r"Connection refused\r?$", err, re.M), err
    err = _refused_then_echo(server("PermitOpen %s:%d" % (HOST, echo)), closed, echo)
    assert re.search(r"channel \d+: open failed: administratively prohibited: "
                     r"open failed\r?$", err, re.M), err


def test_policy_allows_what_it_names(server, keys, echo):
    harness.write_authorized_keys(
        "alice", ['permitopen="%s:%d" %s' % (HOST, echo, keys.pub("alice_ed25519"))])
    s = server("PermitOpen %s:%d\nAllowTcpForwarding local" % (HOST, echo))
    lport = free_port()
    t = Tunnel(s, ["-L", "%d:%s:%d" % (lport, HOST, echo)])
    try:
        assert wait_for(lambda: _can_connect(lport), 15), t.close()
        n, sent, got = transfer(lport, 100000)
        assert n == 100000 and sent == got
    finally:
        t.close()


def test_forwarder_killed_by_the_user(server, echo):
    """The forwarder is the user's process: the user may kill it.  Then
    forwarding is refused for the rest of the connection (it is not
    restarted behind the user's back), the session goes on, and nothing
    privileged is affected."""
    s = server()
    lport = free_port()
    p = _session(s, ["-L", "%d:%s:%d" % (lport, HOST, echo)],
                 "sleep 1; pkill -KILL -u alice -x sshand; sleep 3; echo alive")
    # Forwarding works before the kill...
    assert wait_for(lambda: _can_connect(lport), 15)
    n, sent, got = transfer(lport, 10000)
    assert n == 10000 and sent == got
    # ... and is refused after it (the forwarder is gone after 1 s).
    time.sleep(2)
    _expect_closed(lport)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert out == "alive\n"
    refused = fwd_records(s, "forward-refused")
    assert [r for r in refused if r["SSHAND_REASON"] == "server-error"], refused
    assert "forwarder: gone" in s.log()


def test_forwarder_is_the_users_and_confined(srv, echo):
    """The forwarder holds nothing of root's: the user's ids, no
    capability in any set, no_new_privs, the user's seccomp profile, and
    not dumpable (it is a fork of the monitor, whose memory the user must
    not read through it: the user's own processes may not look into it)."""
    from test_privsep import confinement_problems

    def forwarder():
        return [p for p in srv.tree()
                if (harness.proc_status(p) or {}).get("Name") == "sshand" and
                harness.proc_status(p)["Uid"].split()[0] == str(harness.ALICE)]

    lport = free_port()
    t = Tunnel(srv, ["-L", "%d:%s:%d" % (lport, HOST, echo)])
    try:
        assert wait_for(lambda: _can_connect(lport), 15), t.close()
        assert wait_for(forwarder, 10), [harness.proc_status(p) for p in srv.tree()]
        fwd = forwarder()
        assert len(fwd) == 1, fwd
        assert not confinement_problems(fwd[0], harness.ALICE), \
            confinement_problems(fwd[0], harness.ALICE)
        # As the user, with no capability: a dumpable process of one's
        # own would show its cwd; this one must not.
        as_user = ["setpriv", "--reuid", str(harness.ALICE), "--regid", str(harness.ALICE),
                   "--clear-groups",
                   "--inh-caps=-all", "--bounding-set=-all"]
        r = harness.run(as_user + ["readlink", "-v", "/proc/%d/cwd" % fwd[0]])
        assert r.returncode != 0 and "Permission denied" in r.stderr, (r.stdout, r.stderr)
        # The control: the same look into an ordinary process of the
        # user's works.
        own = subprocess.Popen(as_user + ["sleep", "10"], cwd="/")
        try:
            assert wait_for(lambda: (harness.proc_status(own.pid) or {}).get("Name") == "sleep", 5)
            r = harness.run(as_user + ["readlink", "-v", "/proc/%d/cwd" % own.pid])
            assert (r.returncode, r.stdout) == (0, "/\n"), (r.stdout, r.stderr)
        finally:
            own.kill()
            own.wait()
    finally:
        t.close()
