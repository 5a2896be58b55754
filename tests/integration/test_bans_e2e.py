"""Issue 4 end to end: the shared ban file through the real server, with
the real OpenSSH client (sshpass for passwords) binding different loopback
sources (ssh -b 127.0.0.x, and ::1 on a dual-stack listener).

Each test uses its own server (and so its own ban file and audit trail);
sources are chosen so that one test's failures never touch another's
addresses.  What counts (handler/monitor/auth.c): each rejected password is one
failure (BAN_FAIL_UNIT = 1000 units); a connection that ends unauthenticated
after trying counts one unless a password failure was already counted; one
that never tried (a banner probe, a kex abandoned, garbage) counts 1 unit
(1/1000).  sshandctl reports both "failures" and "failure_units".  The
failure that bans a source gets no answer: the connection is closed then
and there (disconnect reason "banned").
"""

import json
import os
import re
import socket
import subprocess
import threading
import time

import pytest

import harness
from harness import BUILD, HOST, wait_for

CTL = os.path.join(BUILD, "sshandctl")
WRONG = "not-the-password-1"
UNIT = 1000
EXIT_BANNED = 3


# ---- helpers ----------------------------------------------------------------

def ctl(s, *args, expect=0, as_json=True):
    argv = [CTL, "-f", s.conf] + (["--json"] if as_json else []) + ["bans"] + list(args)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if expect is not None:
        assert r.returncode == expect, "%s: rc %d\n%s%s" % (argv, r.returncode,
                                                           r.stdout, r.stderr)
    return r


def show(s, addr):
    """The ban file's entry for addr as sshandctl --json shows it (None
    when there is none: then sshandctl exits 1)."""
    r = ctl(s, "show", addr, expect=None)
    doc = json.loads(r.stdout)
    if doc.get("found") is False:
        assert r.returncode == 1, r
        return None
    assert r.returncode == 0, r
    return doc


def banned(s, addr):
    e = show(s, addr)
    return bool(e and e["banned"])


def units(s, addr):
    e = show(s, addr)
    return e["failure_units"] if e else 0


def events(s, event, addr=None):
    return [r for r in s.audit_records(event)
            if addr is None or r.get("SSHAND_REMOTE_ADDR") == addr]


def idle(s):
    # Failures are recorded by the server as the connection ends: wait
    # for every handler to have exited before reading the ban file.
    assert s.wait_idle(15), "connections still served"


def with_dest(argv, dest):
    """An argv from harness with its user@127.0.0.1 swapped for dest."""
    return [dest if a.endswith("@" + HOST) else a for a in argv]


def password_login(s, src, pw=None, user="alice", dest_host=None):
    pw = harness.password(user) if pw is None else pw
    argv = s.password_argv(user, pw, "echo in-$((6*7))", flags=["-b", src])
    if dest_host:
        argv = with_dest(argv, "%s@%s" % (user, dest_host))
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                       env=harness.client_env())
    idle(s)
    return r


def logged_in(r):
    assert r.returncode == 0 and r.stdout == "in-42\n", \
        "exit %d\nstdout: %r\nstderr: %r" % (r.returncode, r.stdout, r.stderr)


def denied(r):
    """Refused by authentication (the server spoke SSH)."""
    assert r.returncode == 255 and "Permission denied" in r.stderr, \
        "exit %d\nstdout: %r\nstderr: %r" % (r.returncode, r.stdout, r.stderr)


def closed_before_banner(r):
    """Turned away before the version exchange: OpenSSH says so in
    kex_exchange_identification, and never got as far as authentication."""
    assert r.returncode == 255, (r.returncode, r.stdout, r.stderr)
    assert "kex_exchange_identification" in r.stderr, r.stderr
    assert re.search(r"Connection (closed|reset)", r.stderr), r.stderr
    assert "Permission denied" not in r.stderr and "in-42" not in r.stdout


def ended_unanswered(r):
    """Closed by the server in the middle of authentication, the attempt
    unanswered (the source is banned now)."""
    assert r.returncode == 255, (r.returncode, r.stdout, r.stderr)
    assert "Permission denied" not in r.stderr and "in-42" not in r.stdout, r.stderr
    # ssh says "Connection closed" at level INFO; the tests run it at ERROR.
    assert r.stderr == "" or re.search(r"Connection (closed|reset)|Broken pipe",
                                       r.stderr), r.stderr


def fail(s, src, n=1, dest_host=None, bans=False):
    """n wrong passwords from src, each answered; with bans, the last one
    bans src and is not answered."""
    for i in range(n):
        r = password_login(s, src, pw=WRONG, dest_host=dest_host)
        if bans and i == n - 1:
            ended_unanswered(r)
        else:
            denied(r)


def raw_connect(s, src, send=None, port_host=HOST, timeout=10, wait_banner=False):
    """Everything the server sends to a raw TCP connection from src (after
    sending `send`, if any, at once or after the server's first bytes),
    until it closes; a reset ends it too."""
    fam = socket.AF_INET6 if ":" in port_host else socket.AF_INET
    got = b""
    with socket.socket(fam, socket.SOCK_STREAM) as c:
        c.settimeout(timeout)
        c.bind((src, 0))
        c.connect((port_host, s.port))
        try:
            if wait_banner:
                got = c.recv(256)
            if send:
                # The server may already have closed: that is an answer too.
                c.sendall(send)
            while True:
                d = c.recv(65536)
                if not d:
                    break
                got += d
        except (ConnectionResetError, BrokenPipeError):
            pass
    idle(s)
    return got


def first_bytes(s, src, port_host=HOST):
    """The first bytes the server sends to src (the version banner when
    not banned: the connection is then dropped and counts 1/1000 against src),
    or b"" when it closes without sending anything."""
    fam = socket.AF_INET6 if ":" in port_host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as c:
        c.settimeout(10)
        c.bind((src, 0))
        c.connect((port_host, s.port))
        try:
            got = c.recv(256)
        except ConnectionResetError:
            got = b""
    idle(s)
    return got


# ---- banning ----------------------------------------------------------------

def test_wrong_passwords_ban_the_source_only(server):
    s = server("BanMaxFailures 3")
    fail(s, "127.0.0.2", 2)
    assert not banned(s, "127.0.0.2")
    assert units(s, "127.0.0.2") == 2 * UNIT
    fail(s, "127.0.0.2", bans=True)
    e = show(s, "127.0.0.2")
    assert e["banned"] and e["bans"] == 1, e
    # Default BanTime 1h.
    assert 3500 <= e["banned_until_epoch"] - time.time() <= 3601, e

    # Closed before the banner, even with the right password: a successful
    # login cannot erase a ban, because there is none.
    closed_before_banner(password_login(s, "127.0.0.2"))
    assert first_bytes(s, "127.0.0.2") == b""

    # The neighbour is untouched.
    logged_in(password_login(s, "127.0.0.3"))
    assert first_bytes(s, "127.0.0.3").startswith(b"SSH-2.0-")
    assert not banned(s, "127.0.0.3")

    idle(s)
    # The connection whose failure banned it, and the two turned away.
    assert s.exit_codes().count(EXIT_BANNED) == 3, s.exit_codes()
    added = events(s, "ban-added")
    assert [r["SSHAND_REMOTE_ADDR"] for r in added] == ["127.0.0.2"], added
    assert int(added[0]["SSHAND_BAN_UNTIL"]) == e["banned_until_epoch"], added
    rej = events(s, "rejected-banned")
    assert [r["SSHAND_REMOTE_ADDR"] for r in rej] == ["127.0.0.2"] * 2, rej
    assert all(int(r["SSHAND_BAN_UNTIL"]) == e["banned_until_epoch"] for r in rej)
    # A banned connection gets no further than its connect record.
    conns = {r["SSHAND_CONNECTION"] for r in rej}
    later = [r["SSHAND_EVENT"] for r in s.audit_records() if r.get("SSHAND_CONNECTION") in conns]
    assert sorted(set(later)) == ["connect", "rejected-banned"], later


def test_exempt_source_never_banned(server):
    s = server("BanMaxFailures 2\nBanExempt 127.0.0.4/32 192.0.2.0/24")
    fail(s, "127.0.0.4", 4)
    assert not banned(s, "127.0.0.4")
    logged_in(password_login(s, "127.0.0.4"))
    # Not even by hand.
    r = ctl(s, "ban", "127.0.0.4", "1h", expect=None, as_json=False)
    assert r.returncode != 0, (r.stdout, r.stderr)
    logged_in(password_login(s, "127.0.0.4"))
    assert events(s, "ban-added") == [] and events(s, "rejected-banned") == []
    # The exemption is exact: the address next door is banned as usual.
    fail(s, "127.0.0.5", 2, bans=True)
    closed_before_banner(password_login(s, "127.0.0.5"))


def test_short_ban_expires(server):
    s = server("BanMaxFailures 2\nBanTime 3s\nBanTimeMax 1m")
    fail(s, "127.0.0.2", 2, bans=True)
    e = show(s, "127.0.0.2")
    assert e["banned"] and e["banned_until_epoch"] - time.time() <= 3.5, e
    closed_before_banner(password_login(s, "127.0.0.2"))
    time.sleep(max(0, e["banned_until_epoch"] + 1.2 - time.time()))
    logged_in(password_login(s, "127.0.0.2"))
    assert not banned(s, "127.0.0.2")


def test_sshandctl_unban_and_ban(server):
    s = server("BanMaxFailures 2")
    fail(s, "127.0.0.2", 2, bans=True)
    closed_before_banner(password_login(s, "127.0.0.2"))
    ctl(s, "unban", "127.0.0.2", as_json=False)
    logged_in(password_login(s, "127.0.0.2"))

    ctl(s, "ban", "127.0.0.5", "1h", as_json=False)
    e = show(s, "127.0.0.5")
    assert e["banned"] and 3590 <= e["banned_until_epoch"] - time.time() <= 3601, e
    closed_before_banner(password_login(s, "127.0.0.5"))
    assert first_bytes(s, "127.0.0.5") == b""
    rej = events(s, "rejected-banned", "127.0.0.5")
    assert len(rej) == 2, s.audit_records()
    assert int(rej[0]["SSHAND_BAN_UNTIL"]) == e["banned_until_epoch"]
    # The list shows it, in both forms.
    doc = json.loads(ctl(s, "list").stdout)
    assert "127.0.0.5" in [x["address"] for x in doc["entries"] if x["banned"]], doc
    assert "127.0.0.5" in ctl(s, "list", as_json=False).stdout
    ctl(s, "unban", "127.0.0.5", as_json=False)
    logged_in(password_login(s, "127.0.0.5"))


# ---- what counts ------------------------------------------------------------

def test_protocol_garbage_counts_a_probe(server):
    s = server("BanMaxFailures 1")
    src = "127.0.0.6"
    # Garbage sent at once (before the server's version line) and after it:
    # a thousandth of a failed login each, even against a limit of one.
    for i, late in ((1, False), (2, True), (3, False), (4, True)):
        got = raw_connect(s, src, b"GET / HTTP/1.0\r\n\r\n", wait_banner=late)
        if late:
            assert got.startswith(b"SSH-2.0-"), got
        assert b"HTTP" not in got
        assert units(s, src) == i, show(s, src)
        assert not banned(s, src)
    assert first_bytes(s, src).startswith(b"SSH-2.0-")
    assert events(s, "ban-added") == []


def test_preauth_timeout_counts_a_probe(server):
    s = server("BanMaxFailures 1\nLoginGraceTime 1")
    src = "127.0.0.7"
    with socket.socket() as c:
        c.settimeout(10)
        c.bind((src, 0))
        c.connect((HOST, s.port))
        assert c.recv(256).startswith(b"SSH-2.0-")
        c.sendall(b"SSH-2.0-OpenSSH_9.2 silent\r\n")
        try:
            while c.recv(65536):
                pass
        except ConnectionResetError:
            pass
    idle(s)
    assert units(s, src) == 1, show(s, src)


def test_each_wrong_password_counts_once(server):
    # One wrong password, then the client gives up (NumberOfPasswordPrompts
    # 1): the end of the connection adds nothing.
    s = server()
    fail(s, "127.0.0.8")
    assert units(s, "127.0.0.8") == UNIT, show(s, "127.0.0.8")


def test_refused_key_connection_counts_one(server):
    s = server()
    r = s.ssh("alice", "true", key="stranger1", flags=["-b", "127.0.0.9"])
    assert r.returncode == 255, r.stderr
    idle(s)
    assert units(s, "127.0.0.9") == UNIT, show(s, "127.0.0.9")


def test_max_auth_tries_counts(server):
    s = server("MaxAuthTries 2\nBanMaxFailures 2")
    keys = ["stranger1", "stranger2", "stranger3", "alice_ed25519"]
    for i in (1, 2):
        r = s.ssh("alice", "echo in", key=keys, flags=["-b", "127.0.0.10"])
        assert r.returncode == 255 and "in" not in r.stdout, (r.stdout, r.stderr)
        idle(s)
        assert 4 in s.exit_codes()
        if i == 1:
            assert units(s, "127.0.0.10") == UNIT, show(s, "127.0.0.10")
    assert banned(s, "127.0.0.10"), show(s, "127.0.0.10")
    assert first_bytes(s, "127.0.0.10") == b""


# ---- a damaged file ---------------------------------------------------------

@pytest.mark.parametrize("damage", ["random", "truncated", "empty"])
def test_damaged_ban_file_fails_open_and_is_rebuilt(server, damage):
    s = server("BanMaxFailures 3")
    fail(s, "127.0.0.2")
    size = os.path.getsize(s.ban_file)
    assert size > 0
    with open(s.ban_file, "r+b") as f:
        if damage == "random":
            f.write(os.urandom(size))
        elif damage == "truncated":
            f.truncate(min(size - 1, 100))
        else:
            f.truncate(0)
    # The next connection works (fail open) and the log says why loudly.
    logged_in(password_login(s, "127.0.0.2"))
    log = s.log()
    assert re.search(r"ban file .* (damaged|rebuilt)", log), log[-3000:]
    # The rebuilt file works: failures count again, and ban.
    fail(s, "127.0.0.3", 3, bans=True)
    assert banned(s, "127.0.0.3")
    closed_before_banner(password_login(s, "127.0.0.3"))
    r = ctl(s, "list")
    assert "127.0.0.3" in r.stdout


# ---- IPv6 ---------------------------------------------------------------------

class DualStackServer(harness.Server):
    """The harness's server on [::] (v6, and v4 as mapped addresses)."""

    def start(self):
        for _ in range(5):
            with socket.socket(socket.AF_INET6) as t:
                t.bind(("::", 0))
                self.port = t.getsockname()[1]
            argv = ["systemd-socket-activate", "-l", "[::]:%d" % self.port,
                    "--accept", self.binary, "-e", "-f", self.conf]
            self.logf = open(self.log_path, "ab")
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                         stdout=self.logf, stderr=self.logf,
                                         start_new_session=True, cwd="/")
            ok = wait_for(lambda: "Listening on" in self.log() or
                          self.proc.poll() is not None, 10)
            if ok and self.proc.poll() is None:
                return self
            self.proc.wait(5)
            self.logf.close()
            if "in use" not in self.log():
                break
        raise RuntimeError("systemd-socket-activate did not start:\n" + self.log())


@pytest.fixture
def dual_server(request, keys):
    started = []

    def factory(extra=""):
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[:70]
        srv = DualStackServer(keys, "%s-v6-%d" % (name, len(started) + 1), extra)
        started.append(srv)
        return srv.start()

    yield factory
    problems = []
    for srv in started:
        problems += ["%s: %s\n%s" % (srv.dir, p, srv.log()[-3000:]) for p in srv.stop()]
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def test_ipv6_and_mapped_ipv4(dual_server):
    s = dual_server("BanMaxFailures 2")
    # ::1 fails twice and is banned (as its /64).
    fail(s, "::1", 2, dest_host="::1", bans=True)
    e = show(s, "::1")
    assert e and e["banned"], e
    assert e["prefix"] == 64, e
    closed_before_banner(password_login(s, "::1", dest_host="::1"))
    assert first_bytes(s, "::1", port_host="::1") == b""
    # IPv4 through the same v6 socket arrives as ::ffff:127.0.0.x and counts
    # as the IPv4 address: unaffected by the v6 ban, banned on its own.
    logged_in(password_login(s, "127.0.0.3", dest_host="127.0.0.1"))
    fail(s, "127.0.0.2", 2, dest_host="127.0.0.1", bans=True)
    assert banned(s, "127.0.0.2"), ctl(s, "list").stdout
    assert show(s, "127.0.0.2")["prefix"] == 32
    closed_before_banner(password_login(s, "127.0.0.2", dest_host="127.0.0.1"))
    logged_in(password_login(s, "127.0.0.3", dest_host="127.0.0.1"))
    addrs = {r["SSHAND_REMOTE_ADDR"] for r in events(s, "ban-added")}
    assert addrs == {"::1", "127.0.0.2"}, addrs
    rej = {r["SSHAND_REMOTE_ADDR"] for r in events(s, "rejected-banned")}
    assert rej == {"::1", "127.0.0.2"}, rej


# ---- the front turns banned sources away on its own -------------------------

@pytest.fixture
def part_replaced():
    """Replaces one of build/sshand-{net,monitor}.so, in this test's mount
    namespace only (a bind mount, undone at teardown), with a file of the
    caller's choosing: replace(part, path)."""
    mounted = []

    def replace(part, path):
        target = os.path.join(BUILD, "sshand-%s.so" % part)
        subprocess.run(["mount", "--bind", path, target], check=True)
        mounted.append(target)

    yield replace
    for m in mounted:
        subprocess.run(["umount", m], check=True)


def _fake_part(tmp_path, table, abi):
    """A shared object that looks like a part from another build."""
    src = tmp_path / "fake.c"
    src.write_text("struct c { unsigned long abi; void *m, *t; };\n"
                   "__attribute__((visibility(\"default\"))) const struct c "
                   "%s = { %dUL, 0, 0 };\n" % (table, abi))
    out = tmp_path / "fake.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(out), str(src)], check=True)
    return str(out)


@pytest.mark.parametrize("part", ["net", "monitor"])
@pytest.mark.parametrize("how", ["unloadable", "other-build"])
def test_front_works_without_the_halves(server, part_replaced, tmp_path, part, how):
    """Turning a banned source away needs neither sshand-net.so nor
    sshand-monitor.so (the front links libc only: that is what keeps a
    refusal cheap).  A half that cannot be used fails closed: the
    connection ends before the banner, with a log line saying why and a
    disconnect record giving a server error."""
    s = server("BanMaxFailures 2")
    ctl(s, "ban", "127.0.0.5", "1h", as_json=False)
    part_replaced(part, "/dev/null" if how == "unloadable" else
                  _fake_part(tmp_path, "sshand_" + part, 7))

    closed_before_banner(password_login(s, "127.0.0.5"))
    assert len(events(s, "rejected-banned", "127.0.0.5")) == 1, s.audit_records()

    assert first_bytes(s, "127.0.0.6") == b""
    gone = events(s, "disconnect", "127.0.0.6")
    assert [e["SSHAND_REASON"] for e in gone] == ["server-error"], s.audit_records()
    why = "cannot load" if how == "unloadable" else "is not part of this sshand"
    assert why in s.log() and "sshand-%s.so" % part in s.log(), s.log()
    assert events(s, "session-start") == [] and events(s, "auth-attempt") == []
    assert s.wait_idle(10), "a process of the connection outlived it"


# ---- bans that hold mid-connection (issue 15) --------------------------------

def test_burst_answers_at_most_twice_max_failures(server, tmp_path):
    """20 parallel connections from one address, each trying 6 wrong
    passwords (the OpenSSH client with an askpass program, MaxAuthTries 6):
    every failure re-checks the ban with its count, and every request
    checks it before it is answered, so the burst gets at most 2 x
    BanMaxFailures answered attempts (in fact BanMaxFailures - 1: the
    failure that bans is not answered either); the source is banned after,
    and every connection was ended for it."""
    max_failures = 5
    # The ban, not the bounds on unauthenticated connections
    # (test_startups.py), is what this burst meets.
    s = server("BanMaxFailures %d\nMaxAuthTries 6\nPerSourceMaxStartups none\n"
               "MaxStartups 100" % max_failures)
    src = "127.0.0.20"
    askpass = tmp_path / "askpass"
    askpass.write_text("#!/bin/sh\necho %s\n" % WRONG)
    askpass.chmod(0o755)
    env = harness.client_env({"SSH_ASKPASS": str(askpass),
                              "SSH_ASKPASS_REQUIRE": "force", "DISPLAY": ":0"})
    argv = s.ssh_common() + [
        "-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no",
        "-o", "BatchMode=no", "-o", "NumberOfPasswordPrompts=6",
        "-b", src, "alice@" + HOST, "echo in-42"]
    t0 = time.monotonic()
    procs = [subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env,
                              start_new_session=True) for _ in range(20)]
    outs = [p.communicate(timeout=60) for p in procs]
    idle(s)
    elapsed = time.monotonic() - t0
    assert all(p.returncode == 255 for p in procs), outs
    assert not any("in-42" in o for o, _ in outs), outs

    # Answered: a failed attempt whose record carries no SSHAND_BAN_UNTIL
    # (the one that met the ban does: it ended the connection unanswered).
    fails = [r for r in events(s, "auth-attempt", src)
             if r["SSHAND_AUTH_RESULT"] == "failure"]
    assert all(r["SSHAND_AUTH_METHOD"] == "password" for r in fails), fails
    answered = [r for r in fails if "SSHAND_BAN_UNTIL" not in r]
    unanswered = [r for r in fails if "SSHAND_BAN_UNTIL" in r]
    # The client's side agrees: one "Permission denied" per answer.
    client_denied = sum(e.count("Permission denied") for _, e in outs)
    print("burst: %d answered, %d evaluated but unanswered, client saw %d "
          "denials, %.1f s" % (len(answered), len(unanswered), client_denied, elapsed))
    assert len(answered) <= 2 * max_failures, fails
    assert len(answered) == max_failures - 1, fails
    assert client_denied == len(answered), [e for _, e in outs]

    e = show(s, src)
    assert e["banned"] and e["bans"] == 1, e
    assert len(events(s, "ban-added", src)) == 1, s.audit_records()
    # Every connection ended for the ban: at the door, or in the middle
    # (disconnect reason "banned") at its next failure or request.
    conns = {r["SSHAND_CONNECTION"] for r in events(s, "connect", src)}
    assert len(conns) == 20, conns
    ends = {}
    for r in s.audit_records():
        if r.get("SSHAND_CONNECTION") in conns and \
                r["SSHAND_EVENT"] in ("rejected-banned", "disconnect"):
            ends[r["SSHAND_CONNECTION"]] = (r["SSHAND_EVENT"], r.get("SSHAND_REASON"))
    assert len(ends) == 20, ends
    assert all(v in (("rejected-banned", "banned"), ("disconnect", "banned"))
               for v in ends.values()), ends
    mid = [c for c, v in ends.items() if v[0] == "disconnect"]
    assert mid, ends
    assert s.exit_codes().count(EXIT_BANNED) == 20, s.exit_codes()
    # Logged as sshd words an end before authentication.
    assert re.search(r"Disconnecting authenticating user alice 127\.0\.0\.20 port \d+: "
                     r"source banned until \S+ \[preauth\]", s.log()), s.log()[-3000:]
    # And later connections are turned away at the door.
    closed_before_banner(password_login(s, src))


def _probe(s, src, kex):
    """One monitoring probe: read the banner and leave (check_ssh), or
    send a version line and leave during key exchange."""
    with socket.socket() as c:
        c.settimeout(10)
        c.bind((src, 0))
        c.connect((HOST, s.port))
        got = c.recv(256)
        assert got.startswith(b"SSH-2.0-"), got
        if kex:
            c.sendall(b"SSH-2.0-check_ssh_2.3\r\n")
            c.recv(256)     # the server's KEXINIT, at least its start


def test_probes_cost_a_thousandth_passwords_still_ban(server):
    """300 probes in a minute (health checks behind one NAT) do not ban;
    BanMaxFailures keeps meaning failed logins: with 10, 9 wrong passwords
    after the probes do not ban either, the 10th does."""
    s = server("BanMaxFailures 10\nPerSourceMaxStartups none\nMaxStartups 100")
    src = "127.0.0.21"
    errors = []

    def worker(k):
        try:
            for i in range(30):
                _probe(s, src, kex=(i + k) % 2 == 1)
        except Exception as e:     # noqa: BLE001 - reported below
            errors.append(repr(e))

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    idle(s)
    elapsed = time.monotonic() - t0
    print("300 probes in %.1f s" % elapsed)
    assert not errors, errors[:5]
    assert elapsed < 60, elapsed
    e = show(s, src)
    assert not e["banned"] and e["failure_units"] == 300, e
    gone = events(s, "disconnect", src)
    assert len(gone) == 300, len(gone)
    assert events(s, "ban-added") == [] and events(s, "rejected-banned") == []

    fail(s, src, 9)
    e = show(s, src)
    assert not e["banned"] and e["failure_units"] == 9 * UNIT + 300, e
    fail(s, src, bans=True)
    assert banned(s, src)
    closed_before_banner(password_login(s, src))


def test_vanished_ban_file_is_reported(srv):
    """Issue 15: a ban file deleted while sshand serves the host is
    recreated with its bans lost, and that is said as loudly as damage;
    the very first one is only noted."""
    r = srv.ssh(cmd="true")
    assert r.returncode == 0, r.stderr
    assert "ban file %s created" % srv.ban_file in srv.log()
    assert "was missing" not in srv.log()
    os.unlink(srv.ban_file)
    r = srv.ssh(cmd="true")
    assert r.returncode == 0, r.stderr
    assert "ban file %s was missing and has been recreated; earlier bans are lost" \
        % srv.ban_file in srv.log(), srv.log()[-2000:]
