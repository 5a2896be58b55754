"""Issue 16, the rest of what it shows with clients other than OpenSSH's
and under load: PuTTY's plink -L; paramiko's direct-tcpip channel and
remote forward; flow control of a forwarded channel whose far end stops
reading, both ways; and 100 forwarded channels at once in one connection,
each audited.

(Node's ssh2 is not here: Debian has no package of it.)"""

import hashlib
import os
import socket
import subprocess
import threading
import time

import paramiko
import pytest

import harness
from harness import HOST, PRIVSEP_UID, children, client_env, free_port, wait_for
# The forwarding tests' local services and clients, shared rather than
# copied.
from test_forwarding import (InfoTunnel, Tunnel, _allocated_port, _Echo, _Threaded,
                             echo, fwd_records, transfer)
from test_transfer import putty_opts

assert echo  # a fixture, used by name

ALICE_UID = harness.USERS["alice"][0]


def _listening(port):
    """Is something listening on 127.0.0.1:port?  Looked up in
    /proc/net/tcp, so that asking opens no forwarded channel."""
    want = "%08X:%04X" % (0x0100007F, port)
    with open("/proc/net/tcp") as f:
        return any(line.split()[1] == want and line.split()[3] == "0A"
                   for line in f.readlines()[1:])


def _uid(pid):
    st = harness.proc_status(pid)
    return int(st["Uid"].split()[0]) if st else None


def connection_procs(s, timeout=15):
    """The monitor, network child and forwarder of the server's only
    connection (the forwarder is the monitor's child running as the user;
    with ssh -N there is no session to mistake for it)."""
    def look():
        conns = s.connections()
        if len(conns) != 1:
            return None
        mons = children(conns[0])
        if len(mons) != 1:
            return None
        kids = children(mons[0])
        net = [k for k in kids if _uid(k) == PRIVSEP_UID]
        fwd = [k for k in kids if _uid(k) == ALICE_UID]
        if len(net) != 1 or len(fwd) != 1:
            return None
        return {"monitor": mons[0], "network child": net[0], "forwarder": fwd[0]}
    procs = wait_for(look, timeout)
    assert procs, "no monitor/network child/forwarder: %r" % [
        (p, _uid(p), (harness.proc_status(p) or {}).get("Name")) for p in s.tree()]
    return procs


# ---- PuTTY ----------------------------------------------------------------------

def test_plink_local_forward(server, keys, echo, tmp_path, sshand_build):
    s = server(build=sshand_build)
    lport = free_port()
    p = subprocess.Popen(["plink", "-ssh"] + putty_opts(s, "key", tmp_path, keys) +
                         ["-N", "-L", "%d:%s:%d" % (lport, HOST, echo), "alice@" + HOST],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=client_env())
    try:
        assert wait_for(lambda: _listening(lport) or p.poll() is not None, 30)
        assert p.poll() is None, p.communicate()
        n, sent, got = transfer(lport, 16 << 20)
        assert n == 16 << 20
        assert sent == got
    finally:
        p.terminate()
        p.communicate(timeout=10)
    closes = wait_for(lambda: fwd_records(s, "forward-close"), 10)
    assert [r for r in closes if r["SSHAND_FORWARD_KIND"] == "direct-tcpip" and
            r["SSHAND_FORWARD_DESTINATION"] == "%s:%d" % (HOST, echo) and
            int(r["SSHAND_BYTES_IN"]) == 16 << 20 and
            int(r["SSHAND_BYTES_OUT"]) == 16 << 20], closes


# ---- paramiko -------------------------------------------------------------------

def _paramiko(s, keys):
    """A paramiko transport logged in as alice, the server's host key
    checked against the test's host keys."""
    sock = socket.create_connection((HOST, s.port), 15)
    t = paramiko.Transport(sock)
    try:
        t.start_client(timeout=15)
        known = set()
        for p in keys.host_paths():
            with open(p + ".pub") as f:
                known.add(f.read().split()[1])
        assert t.get_remote_server_key().get_base64() in known
        t.auth_publickey("alice", paramiko.Ed25519Key.from_private_key_file(
            keys.client("alice_ed25519")))
        assert t.is_authenticated()
    except BaseException:
        t.close()
        raise
    return t


def _channel_transfer(ch, size):
    """Sends size random bytes on a channel whose far end echoes them;
    reads them back.  (count, digest sent, digest read)."""
    data = os.urandom(1 << 20)
    sent, got = hashlib.sha256(), hashlib.sha256()
    ch.settimeout(60)

    def writer():
        left = size
        while left > 0:
            chunk = data[:min(left, len(data))]
            ch.sendall(chunk)
            sent.update(chunk)
            left -= len(chunk)
        ch.shutdown_write()

    t = threading.Thread(target=writer)
    t.start()
    n = 0
    while True:
        b = ch.recv(1 << 16)
        if not b:
            break
        got.update(b)
        n += len(b)
    t.join()
    return n, sent.hexdigest(), got.hexdigest()


def test_paramiko_direct_tcpip(server, keys, echo, sshand_build):
    s = server(build=sshand_build)
    t = _paramiko(s, keys)
    try:
        ch = t.open_channel("direct-tcpip", (HOST, echo), ("192.0.2.7", 4242),
                            timeout=15)
        n, sent, got = _channel_transfer(ch, 8 << 20)
        ch.close()
        assert n == 8 << 20 and sent == got
        # A destination nobody listens on: the open fails, the connection
        # goes on.
        with pytest.raises(paramiko.ChannelException):
            t.open_channel("direct-tcpip", (HOST, free_port()), (HOST, 0), timeout=15)
        ch = t.open_channel("direct-tcpip", (HOST, echo), (HOST, 0), timeout=15)
        n, sent, got = _channel_transfer(ch, 1000)
        assert n == 1000 and sent == got
        ch.close()
    finally:
        t.close()
    dest = "%s:%d" % (HOST, echo)

    def both_closed():
        c = [r for r in fwd_records(s, "forward-close")
             if r["SSHAND_FORWARD_DESTINATION"] == dest]
        return c if len(c) >= 2 else None
    closes = wait_for(both_closed, 10)
    assert closes, fwd_records(s)
    assert sorted(int(r["SSHAND_BYTES_IN"]) for r in closes) == [1000, 8 << 20], closes
    # The originator the client named is recorded.
    assert [r for r in fwd_records(s, "forward-open")
            if r["SSHAND_FORWARD_ORIGIN"] == "192.0.2.7:4242"], fwd_records(s)
    assert [r for r in fwd_records(s, "forward-refused")
            if r["SSHAND_REASON"].startswith("connect-failed")], fwd_records(s)


def _echo_channel(ch):
    ch.settimeout(60)
    while True:
        b = ch.recv(1 << 16)
        if not b:
            break
        ch.sendall(b)
    ch.shutdown_write()
    ch.close()


def test_paramiko_remote_forward(server, keys, sshand_build):
    s = server(build=sshand_build)
    t = _paramiko(s, keys)
    try:
        port = t.request_port_forward(HOST, 0)
        assert port >= 1024
        assert _listening(port)
        result = {}

        def server_side():
            result["r"] = transfer(port, 4 << 20)

        th = threading.Thread(target=server_side)
        th.start()
        # The connection made on the server side reaches the client as a
        # forwarded-tcpip channel; the client echoes.
        ch = t.accept(timeout=15)
        assert ch is not None, "no forwarded-tcpip channel"
        _echo_channel(ch)
        th.join(60)
        n, sent, got = result["r"]
        assert n == 4 << 20 and sent == got
        t.cancel_port_forward(HOST, port)
        assert wait_for(lambda: not _listening(port), 10)
    finally:
        t.close()
    recs = wait_for(lambda: [r for r in fwd_records(s, "forward-close")
                             if r["SSHAND_FORWARD_KIND"] == "forwarded-tcpip"], 10)
    assert int(recs[0]["SSHAND_BYTES_IN"]) == 4 << 20, recs
    assert int(recs[0]["SSHAND_BYTES_OUT"]) == 4 << 20, recs
    assert [r for r in fwd_records(s, "forward-open")
            if r["SSHAND_FORWARD_KIND"] == "tcpip-forward" and
            r["SSHAND_FORWARD_DESTINATION"] == "%s:%d" % (HOST, port)], fwd_records(s)


# ---- flow control ---------------------------------------------------------------

FLOW_TOTAL = 200 << 20
# What the network child may grow by while a channel's far end reads
# nothing: its relay buffers and libssh's, not the stream.
NET_GROWTH_KIB = 16 << 10
# The monitor and the forwarder never see the stream at all.
OTHERS_GROWTH_KIB = 4 << 10


class _Pusher:
    """Writes FLOW_TOTAL random bytes into a socket from a thread,
    counting (and hashing) what the kernel took."""

    def __init__(self, sock):
        self.sock = sock
        self.sent = 0
        self.h = hashlib.sha256()
        self.error = None
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        data = os.urandom(256 << 10)
        try:
            while self.sent < FLOW_TOTAL:
                n = self.sock.send(data[:min(len(data), FLOW_TOTAL - self.sent)])
                self.h.update(data[:n])
                self.sent += n
            self.sock.shutdown(socket.SHUT_WR)
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e


def _drain(sock):
    h = hashlib.sha256()
    n = 0
    while True:
        b = sock.recv(1 << 20)
        if not b:
            return n, h.hexdigest()
        h.update(b)
        n += len(b)


def _forwarded_pair(s, forward, dest):
    """A connection through ssh -L or -R to the listening socket dest:
    (tunnel, client-side socket, server-side socket)."""
    dport = dest.getsockname()[1]
    if forward == "L":
        lport = free_port()
        t = Tunnel(s, ["-L", "%d:%s:%d" % (lport, HOST, dport)])
        assert wait_for(lambda: _listening(lport) or t.p.poll() is not None, 15)
        assert t.p.poll() is None, t.close()
        near = socket.create_connection((HOST, lport), 15)
        far, _ = dest.accept()
        return t, near, far
    t = InfoTunnel(s, ["-R", "0:%s:%d" % (HOST, dport)])
    port = _allocated_port(t)
    far = socket.create_connection((HOST, port), 15)
    near, _ = dest.accept()
    return t, near, far


@pytest.mark.parametrize("forward", ["L", "R"])
@pytest.mark.parametrize("stalled", ["server-side", "client-side"])
def test_forwarded_channel_whose_reader_stops(server, sshand_build, forward, stalled):
    """The far end of a forwarded channel reads nothing while the other
    end pushes 200 MiB: the pusher blocks, and no process of the
    connection grows with the stream; once the reader reads, every byte
    arrives, in order."""
    s = server(build=sshand_build)
    dest = socket.socket()
    dest.bind((HOST, 0))
    dest.listen(4)
    dest.settimeout(15)
    t, near, far = _forwarded_pair(s, forward, dest)
    try:
        for sock in (near, far):
            sock.settimeout(120)
        reader, writer = (far, near) if stalled == "server-side" else (near, far)
        procs = connection_procs(s)
        base = {k: harness.rss_kib([p]) for k, p in procs.items()}
        peak = dict(base)
        pusher = _Pusher(writer)
        # Wait until the pusher has made no progress for 3 s.
        last, since = -1, time.monotonic()
        end = since + 90
        while time.monotonic() < end and pusher.t.is_alive():
            for k, p in procs.items():
                peak[k] = max(peak[k], harness.rss_kib([p]))
            if pusher.sent != last:
                last, since = pusher.sent, time.monotonic()
            elif time.monotonic() - since >= 3:
                break
            time.sleep(0.1)
        assert pusher.error is None, pusher.error
        assert pusher.t.is_alive() and pusher.sent < FLOW_TOTAL, \
            "the pusher was never blocked (%d bytes taken)" % pusher.sent
        print("%s/%s: blocked after %.1f MiB; RSS KiB before %r, peak %r" %
              (forward, stalled, pusher.sent / (1 << 20), base, peak))
        growth = {k: peak[k] - base[k] for k in procs}
        assert growth["monitor"] < OTHERS_GROWTH_KIB, growth
        assert growth["forwarder"] < OTHERS_GROWTH_KIB, growth
        # ASan's quarantine keeps what libssh frees resident (up to
        # 256 MiB; about 20 MiB here): there the network child's RSS says
        # nothing about buffering, and the blocked pusher above is what
        # shows its flow control.
        if sshand_build == "normal":
            assert growth["network child"] < NET_GROWTH_KIB, growth
        # The stream resumes, whole.
        n, got = _drain(reader)
        pusher.t.join(60)
        assert pusher.error is None, pusher.error
        assert n == FLOW_TOTAL
        assert got == pusher.h.hexdigest()
    finally:
        near.close()
        far.close()
        dest.close()
        t.close()


# ---- many channels at once --------------------------------------------------------

class _CountingEcho(_Echo):
    """An echo that counts the connections it serves at once."""

    def handle(self):
        with self.server.lock:
            self.server.active += 1
            self.server.peak = max(self.server.peak, self.server.active)
        try:
            super().handle()
        finally:
            with self.server.lock:
                self.server.active -= 1


N_CHANNELS = 100


def test_100_concurrent_forwarded_channels(server, sshand_build):
    es = _Threaded((HOST, 0), _CountingEcho)
    es.lock, es.active, es.peak = threading.Lock(), 0, 0
    threading.Thread(target=es.serve_forever, daemon=True).start()
    eport = es.server_address[1]
    s = server(build=sshand_build)
    lport = free_port()
    t = Tunnel(s, ["-L", "%d:%s:%d" % (lport, HOST, eport)])
    opened = threading.Barrier(N_CHANNELS, timeout=60)
    echoed = threading.Barrier(N_CHANNELS, timeout=60)
    results = [None] * N_CHANNELS

    def one(i):
        try:
            c = socket.create_connection((HOST, lport), 30)
            c.settimeout(60)
            opened.wait()
            # A size of its own, to find its audit record by.
            data = os.urandom(16384 + i)
            c.sendall(data)
            got = b""
            while len(got) < len(data):
                b = c.recv(65536)
                if not b:
                    break
                got += b
            # Every channel is open, and has carried its bytes, at once.
            echoed.wait()
            c.shutdown(socket.SHUT_WR)
            rest = c.recv(1)
            c.close()
            results[i] = (hashlib.sha256(got).hexdigest() ==
                          hashlib.sha256(data).hexdigest() and rest == b"")
        except Exception as e:  # noqa: BLE001 - reported by the test
            results[i] = e
            opened.abort()
            echoed.abort()

    try:
        # Not by connecting: a probe would be one more channel.
        assert wait_for(lambda: _listening(lport) or t.p.poll() is not None, 15)
        assert t.p.poll() is None, t.close()
        threads = [threading.Thread(target=one, args=(i,)) for i in range(N_CHANNELS)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
        bad = [(i, r) for i, r in enumerate(results) if r is not True]
        assert not bad, bad[:5]
        assert es.peak >= N_CHANNELS, es.peak
    finally:
        t.close()
        es.shutdown()
        es.server_close()
    dest = "%s:%d" % (HOST, eport)

    def both():
        o = [r for r in fwd_records(s, "forward-open")
             if r["SSHAND_FORWARD_DESTINATION"] == dest]
        c = [r for r in fwd_records(s, "forward-close")
             if r["SSHAND_FORWARD_DESTINATION"] == dest]
        return (o, c) if len(c) >= N_CHANNELS else None
    got = wait_for(both, 15)
    assert got, fwd_records(s)[-5:]
    opens, closes = got
    assert len(opens) == N_CHANNELS and len(closes) == N_CHANNELS
    assert not fwd_records(s, "forward-refused")
    assert {r["SSHAND_FORWARD_ID"] for r in opens} == \
        {r["SSHAND_FORWARD_ID"] for r in closes}
    assert sorted(int(r["SSHAND_BYTES_IN"]) for r in closes) == \
        [16384 + i for i in range(N_CHANNELS)]
    assert all(r["SSHAND_BYTES_IN"] == r["SSHAND_BYTES_OUT"] and
               r["SSHAND_REASON"] == "closed" for r in closes), closes[:3]


# ---- a connection cut with channels open ------------------------------------------

def test_channel_open_when_the_connection_ends_keeps_its_counts(server, echo, sshand_build):
    """ssh -L ended (as by ^C) while a forwarded connection is open: that
    channel's close record still says how many bytes it carried."""
    s = server(build=sshand_build)
    lport = free_port()
    t = Tunnel(s, ["-L", "%d:%s:%d" % (lport, HOST, echo)])
    try:
        assert wait_for(lambda: _listening(lport) or t.p.poll() is not None, 15)
        assert t.p.poll() is None, t.close()
        c = socket.create_connection((HOST, lport), 15)
        c.settimeout(15)
        c.sendall(b"x" * 1234)
        got = b""
        while len(got) < 1234:
            got += c.recv(65536)
        assert got == b"x" * 1234
    finally:
        t.close()
    c.close()
    assert s.wait_idle(15)
    closes = fwd_records(s, "forward-close")
    assert len(closes) == 1, closes
    r = closes[0]
    assert r["SSHAND_REASON"] == "connection-closed", r
    assert int(r["SSHAND_BYTES_IN"]) == 1234, r
    assert int(r["SSHAND_BYTES_OUT"]) == 1234, r
    assert int(r["SSHAND_DURATION_USEC"]) > 0, r


NODE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "node")


def test_node_ssh2_direct_tcpip(server, keys, echo):
    """Node's ssh2 (installed by tests/deps.sh from npm: Debian has no
    package of it): forwardOut opens a direct-tcpip channel, as VS Code's
    and other Node tools' tunnels do; 4 MiB checksummed through it."""
    import json
    s = server()
    r = subprocess.run(["node", os.path.join(NODE_DIR, "direct_tcpip.js"), str(s.port),
                        "alice", keys.client("alice_ed25519"), HOST, str(echo),
                        str(4 << 20)],
                       capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, NODE_PATH=os.path.join(NODE_DIR, "node_modules")))
    assert r.returncode == 0, (r.stdout, r.stderr)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert "error" not in out, out
    assert out["n"] == 4 << 20 and out["sent"] == out["got"], out
    opens = [x for x in fwd_records(s, "forward-open")
             if x["SSHAND_FORWARD_DESTINATION"] == "%s:%d" % (HOST, echo)]
    assert opens and opens[0]["SSHAND_CLIENT_VERSION"].startswith("SSH-2.0-ssh2js"), opens
