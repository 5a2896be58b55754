"""Issue 18: an existing sshd_config as sshand's configuration.

Debian 12's stock sshd_config and a hardened one pass sshand -t with the
expected notices, in a private copy of /etc where they sit as an
administrator would put them; Include of a conf.d glob; AllowUsers,
DenyUsers, AllowGroups and DenyGroups admitting and refusing the right
users, a refusal indistinguishable from a wrong password; key logins of
accounts whose shadow password is '!' or '*'; ClientAliveInterval ending
a frozen client; MaxSessions refusing a third multiplexed session; and
the smaller keywords that an sshd_config carries (RequiredRSASize,
Compression, TCPKeepAlive)."""

import hashlib
import os
import re
import select
import signal
import subprocess
import time

import pytest

import harness
from harness import BUILD, HOST, client_env, run, wait_for

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
DEBIAN = os.path.join(FIXTURES, "sshd_config.debian12")
HARDENED = os.path.join(FIXTURES, "sshd_config.hardened")
DEBIAN_MD5 = "e6fd6e8e29210c5678181f33177d5433"
DENIED = re.compile(r"Permission denied \(([^)]*)\)")


def ok(r):
    assert r.returncode == 0, "exit %d\nstdout: %s\nstderr: %s" % (
        r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    return r


def denied(r):
    assert r.returncode == 255, "exit %d\nstdout: %s\nstderr: %s" % (
        r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    m = DENIED.search(r.stderr)
    assert m, "no 'Permission denied' in: %r" % r.stderr
    return m.group(1)


# ---- a private /etc ---------------------------------------------------------

def private_etc(tmp_path, script):
    """Runs script (bash) in a mount namespace of its own where a copy of
    this run's /etc is mounted over /etc, so that files go where an
    administrator puts them (/etc/sshand, /etc/ssh/sshd_config.d) and
    the real /etc is never touched.  $T is tmp_path, $B the build."""
    full = ('set -euo pipefail\ncp -a /etc "$T/etc"\n'
            'mount --bind "$T/etc" /etc\n' + script)
    env = dict(os.environ, T=str(tmp_path), B=BUILD, FIXTURES=FIXTURES)
    r = run(["unshare", "-m", "--propagation", "private", "bash", "-c", full],
            env=env, timeout=180)
    assert r.returncode == 0, (r.stdout, r.stderr)
    return r


def notices(stderr):
    """(line, keyword) of each notice -t printed for sshand.conf."""
    out = []
    for line in stderr.splitlines():
        m = re.match(r"sshand: \S*sshand\.conf:(\d+): (\w+)[: ]", line)
        assert m, "unexpected -t output: %r" % line
        out.append((int(m.group(1)), m.group(2)))
    return out


def lines_of(path, keyword):
    with open(path) as f:
        return [i + 1 for i, line in enumerate(f)
                if line.split()[:1] == [keyword]]


def test_debian_fixture_is_the_stock_file():
    with open(DEBIAN, "rb") as f:
        assert hashlib.md5(f.read()).hexdigest() == DEBIAN_MD5


def test_debian_stock_config(tmp_path):
    """Debian 12's /etc/ssh/sshd_config, copied to /etc/sshand/sshand.conf,
    with a drop-in in /etc/ssh/sshd_config.d (its Include): -t passes,
    saying only that UsePAM is always on; -T shows the drop-in's values
    and sshd -T's spellings; host keys made and printed by sshandctl,
    its -f after the subcommand."""
    private_etc(tmp_path, """
        mkdir -p /etc/sshand /etc/ssh/sshd_config.d
        cp "$FIXTURES/sshd_config.debian12" /etc/sshand/sshand.conf
        printf 'PasswordAuthentication no\\nAllowUsers alice bob@10.0.0.0/8\\n' \\
            > /etc/ssh/sshd_config.d/50-local.conf
        "$B/sshandctl" hostkeys > "$T/hostkeys.out"
        "$B/sshand" -t > "$T/t.out" 2> "$T/t.err"
        "$B/sshand" -T > "$T/T.out"
        "$B/sshandctl" fingerprints -f /etc/sshand/sshand.conf > "$T/fp.out"
        """)
    t_err = (tmp_path / "t.err").read_text()
    assert notices(t_err) == [(85, "UsePAM")], t_err
    assert "sshand always uses PAM" in t_err
    dump = (tmp_path / "T.out").read_text().splitlines()
    for line in ("passwordauthentication no", "allowusers alice",
                 "allowusers bob@10.0.0.0/8", "kbdinteractiveauthentication no",
                 "x11forwarding yes", "usepam yes", "acceptenv LANG",
                 "acceptenv LC_*", "subsystem sftp /usr/lib/openssh/sftp-server",
                 "permitrootlogin no", "hostkey /etc/sshand/ssh_host_ed25519_key",
                 "maxsessions 10", "clientaliveinterval 0", "permittunnel no",
                 "printmotd no"):
        assert line in dump, line
    assert len((tmp_path / "hostkeys.out").read_text().splitlines()) == 3
    fp = (tmp_path / "fp.out").read_text()
    assert fp.count("SHA256:") == 3, fp


def test_hardened_config(tmp_path):
    """A hardened sshd_config in the style of the public guides: -t
    passes, with a notice for each keyword that does not apply and for
    the algorithms libssh lacks, at its line, and nothing else."""
    private_etc(tmp_path, """
        mkdir -p /etc/sshand /etc/ssh/sshd_config.d
        cp "$FIXTURES/sshd_config.hardened" /etc/sshand/sshand.conf
        ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
        ssh-keygen -q -t rsa -b 3072 -N '' -f /etc/ssh/ssh_host_rsa_key
        "$B/sshand" -t > "$T/t.out" 2> "$T/t.err"
        "$B/sshand" -T > "$T/T.out"
        "$B/sshand" -T -C user=backup,addr=192.0.2.1 > "$T/backup.out"
        """)
    want = []
    for kw in ("Port", "AddressFamily", "ListenAddress", "KexAlgorithms",
               "MACs", "HostbasedAcceptedAlgorithms",
               "GSSAPIKexAlgorithms", "SyslogFacility", "UsePAM",
               "HostbasedAuthentication", "IgnoreRhosts", "IgnoreUserKnownHosts",
               "KerberosAuthentication", "GSSAPIAuthentication", "UseDNS",
               "DebianBanner", "VersionAddendum", "PermitTunnel"):
        lines = lines_of(HARDENED, kw)
        assert lines, kw
        want += [(n, kw) for n in lines]
    t_err = (tmp_path / "t.err").read_text()
    assert sorted(notices(t_err)) == sorted(want), t_err
    assert "left out: sntrup761x25519-sha512@openssh.com," in t_err
    dump = (tmp_path / "T.out").read_text().splitlines()
    for line in ("allowgroups sshusers", "denyusers root", "denyusers nobody",
                 "maxsessions 4", "requiredrsasize 3072", "compression no",
                 "tcpkeepalive no", "clientaliveinterval 300",
                 "clientalivecountmax 2", "rekeylimit 536870912 3600",
                 "disableforwarding yes", "passwordauthentication no",
                 "usedns no", "maxstartups 10:30:60", "permituserrc no",
                 "printlastlog yes", "authenticationmethods publickey",
                 "channeltimeout session:*=15m direct-tcpip=5m",
                 "unusedconnectiontimeout 600"):
        assert line in dump, line
    backup = (tmp_path / "backup.out").read_text().splitlines()
    assert "forcecommand /usr/local/bin/backup-receive" in backup
    assert "clientaliveinterval 60" in backup
    assert "permittty no" in backup


def test_include_relative_to_etc_sshand(tmp_path):
    """A relative Include is read in /etc/sshand; a loop is refused at the
    line that closes it."""
    private_etc(tmp_path, """
        mkdir -p /etc/sshand/sshand.d
        ssh-keygen -q -t ed25519 -N '' -f /etc/sshand/ssh_host_ed25519_key
        printf 'HostKey /etc/sshand/ssh_host_ed25519_key\\nInclude sshand.d/*.conf\\n' \\
            > /etc/sshand/sshand.conf
        printf 'MaxAuthTries 2\\n' > /etc/sshand/sshand.d/10-a.conf
        printf 'MaxAuthTries 3\\nMaxSessions 1\\n' > /etc/sshand/sshand.d/20-b.conf
        "$B/sshand" -T > "$T/T.out"
        printf '\\nInclude sshand.conf\\n' > /etc/sshand/sshand.d/30-loop.conf
        ! "$B/sshand" -t 2> "$T/loop.err"
        """)
    dump = (tmp_path / "T.out").read_text().splitlines()
    assert "maxauthtries 2" in dump and "maxsessions 1" in dump
    assert (tmp_path / "loop.err").read_text().strip() == (
        "sshand: /etc/sshand/sshand.d/30-loop.conf:2: Include loop: "
        "/etc/sshand/sshand.conf is already being read")


# ---- who may log in ---------------------------------------------------------

def test_include_conf_d_glob(server, tmp_path):
    """Include of a conf.d glob, files in order, the first value winning:
    its AllowUsers is what a real login meets."""
    d = tmp_path / "conf.d"
    d.mkdir()
    (d / "10-users.conf").write_text("AllowUsers bob carol\n")
    (d / "20-more.conf").write_text("AllowUsers alice\nMaxAuthTries 3\n")
    (d / "README").write_text("not a .conf: never read\nFrobnicate yes\n")
    s = server("Include %s/*.conf\n" % d)
    ok(s.ssh("bob", "true", key="bob_ed25519"))
    # Every line of every file adds to AllowUsers, as in sshd.
    ok(s.ssh("alice", "true"))
    s2 = server("Include %s/10-*.conf\n" % d)
    denied(s2.ssh("alice", "true"))
    ok(s2.ssh("carol", "true", key="carol_ed25519"))


# (config, user, admitted, flags) -- alice: groups alice; bob: bob;
# carol: carol and sshstrict.
ACCESS = {
    "allowusers": ("AllowUsers bob carol", [("alice", False), ("bob", True)]),
    "denyusers": ("DenyUsers alice", [("alice", False), ("bob", True)]),
    "denyusers-glob": ("DenyUsers b* c?rol", [("alice", True), ("bob", False),
                                              ("carol", False)]),
    "allowgroups": ("AllowGroups sshstrict", [("alice", False), ("carol", True)]),
    "denygroups": ("DenyGroups sshstrict bob", [("alice", True), ("bob", False),
                                                ("carol", False)]),
    # DenyUsers before AllowUsers, users before groups.
    "deny-wins": ("AllowUsers alice bob\nDenyUsers alice",
                  [("alice", False), ("bob", True)]),
    "users-then-groups": ("AllowUsers alice carol\nAllowGroups sshstrict",
                          [("alice", False), ("carol", True), ("bob", False)]),
    # A Match block's list replaces the global one for whom it applies.
    "match": ("AllowUsers alice\nMatch User bob\n\tAllowUsers bob",
              [("alice", True), ("bob", True), ("carol", False)]),
}


@pytest.mark.parametrize("case", list(ACCESS))
def test_access_lists(server, case):
    conf, users = ACCESS[case]
    s = server(conf)
    for user, admitted in users:
        r = s.ssh(user, "id -un", key=user + "_ed25519")
        if admitted:
            assert ok(r).stdout == user + "\n"
        else:
            denied(r)
    refused = [u for u, a in users if not a]
    recs = [r for r in s.audit_records("auth-attempt") if r["SSHAND_USER"] in refused]
    assert recs and all(r["SSHAND_AUTH_RESULT"] == "failure" for r in recs)
    reasons = {r["SSHAND_REASON"] for r in recs}
    assert reasons <= {"AllowUsers", "DenyUsers", "AllowGroups", "DenyGroups"}, reasons
    assert "not allowed because" in s.log()


def test_access_by_address(server):
    """user@CIDR: the same user admitted from one source address and
    refused from another (all of 127/8 is local)."""
    s = server("AllowUsers alice@127.0.0.2 bob\nDenyUsers bob@127.0.0.3/32")
    denied(s.ssh("alice", "true"))
    ok(s.ssh("alice", "true", flags=["-b", "127.0.0.2"]))
    ok(s.ssh("bob", "true", key="bob_ed25519", flags=["-b", "127.0.0.2"]))
    denied(s.ssh("bob", "true", key="bob_ed25519", flags=["-b", "127.0.0.3"]))
    reasons = [r["SSHAND_REASON"] for r in s.audit_records("auth-attempt")
               if r["SSHAND_AUTH_RESULT"] == "failure"]
    assert set(reasons) == {"AllowUsers", "DenyUsers"}, reasons


def test_match_address_offers_its_methods(server):
    """A Match Address block that allows passwords under a global "no":
    the very first list of methods (the answer to the client's "none")
    offers them from that address, as sshd does, and not from others."""
    s = server("PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
               "Match Address 127.0.0.2\n\tPasswordAuthentication yes\n")
    r = s.ssh_password("alice", cmd="echo pw-ok", flags=["-b", "127.0.0.2"])
    assert (r.returncode, r.stdout) == (0, "pw-ok\n"), r.stderr
    r = s.ssh_password("alice", cmd="echo pw-ok", flags=["-b", "127.0.0.3"])
    assert r.returncode == 255 and "Permission denied (publickey)" in r.stderr, r.stderr


@pytest.mark.parametrize("method", ["password", "keyboard-interactive"])
def test_refused_user_looks_like_a_wrong_password(server, method):
    """No user enumeration: a user AllowUsers leaves out, with the right
    password, gets what a wrong password gets, as late."""
    s = server("AllowUsers bob")
    login = s.ssh_password if method == "password" else s.ssh_kbdint
    results = {}
    for who, user, pw in (("refused", "alice", None),
                          ("wrong", "bob", "not-his-password"),
                          ("unknown", "nosuchuser", "whatever-1")):
        t0 = time.monotonic()
        r = login(user, pw, cmd="true")
        results[who] = (r.returncode, r.stdout, r.stderr.replace(user, "USER"),
                        time.monotonic() - t0)
    assert len({v[:3] for v in results.values()}) == 1, results
    assert results["wrong"][0] == 255
    for who, v in results.items():
        assert v[3] >= 0.25, (who, results)
    ok(s.ssh_password("bob", cmd="true"))
    rec = [r for r in s.audit_records("auth-attempt") if r["SSHAND_USER"] == "alice"]
    assert [r["SSHAND_REASON"] for r in rec] == ["AllowUsers"]
    assert re.search(r"User alice from 127\.0\.0\.1 not allowed because not "
                     r"listed in AllowUsers", s.log())


# ---- key-only accounts ------------------------------------------------------

@pytest.mark.parametrize("user", ["keyonly", "keystar", "locked"])
def test_key_login_with_disabled_password(server, keys, user):
    """'!' (useradd, adduser --disabled-password, passwd -l) or '*' in the
    shadow password disables the password, not the account: the key logs
    in, as with OpenSSH and UsePAM yes; no password does."""
    harness.write_authorized_keys(user, [keys.pub("keyonly_ed25519")])
    s = server()
    r = ok(s.ssh(user, "id -un", key="keyonly_ed25519"))
    assert r.stdout == user + "\n"
    denied(s.ssh_password(user, pw="", cmd="true"))
    denied(s.ssh_password(user, pw="!", cmd="true"))


# ---- ClientAliveInterval ----------------------------------------------------

def session_started(s, n=1, timeout=15):
    return wait_for(lambda: len(s.audit_records("session-start")) >= n, timeout)


def test_client_alive_ends_a_frozen_client(server):
    """A client stopped with SIGSTOP answers nothing (its kernel still
    acknowledges the bytes): after ClientAliveInterval of silence and
    ClientAliveCountMax unanswered keepalives the connection ends,
    audited as such, and the session with it."""
    interval, count = 1, 2
    s = server("ClientAliveInterval %d\nClientAliveCountMax %d" % (interval, count))
    p = subprocess.Popen(s.ssh_argv("alice", "sleep 60"), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=client_env())
    try:
        assert session_started(s), s.log()[-2000:]
        os.kill(p.pid, signal.SIGSTOP)
        t0 = time.monotonic()
        assert wait_for(lambda: s.audit_records("disconnect"), interval * count + 10), \
            s.log()[-3000:]
        elapsed = time.monotonic() - t0
    finally:
        os.kill(p.pid, signal.SIGCONT)
        p.kill()
        p.wait(10)
    # Interval * (CountMax + 1) after the last byte, as sshd: CountMax
    # keepalives sent, and the next check finds the last unanswered.
    assert interval * count <= elapsed <= interval * (count + 1) + 3, elapsed
    disc = s.audit_records("disconnect")[-1]
    assert disc["SSHAND_REASON"] == "client-alive-timeout", disc
    assert "Timeout, client not responding from user alice %s port" % HOST in s.log()
    assert [r["SSHAND_EVENT"] for r in s.audit_records()][-2:] == ["session-end", "disconnect"]


def test_client_alive_answered_keeps_the_connection(server):
    """A client that answers the keepalives stays, however long it is
    silent: with interval 1 and CountMax 1, a 5 s silent session ends
    on its own, with its output."""
    s = server("ClientAliveInterval 1\nClientAliveCountMax 1")
    r = ok(s.ssh("alice", "sleep 5; echo still-here", timeout=30))
    assert r.stdout == "still-here\n"
    assert wait_for(lambda: s.audit_records("disconnect"), 10)
    assert s.audit_records("disconnect")[-1]["SSHAND_REASON"] == "client-closed"


# ---- UnusedConnectionTimeout ----------------------------------------------

@pytest.mark.parametrize("peer", ["openssh", "sshand"])
def test_unused_connection_timeout_as_openssh(peer, server, openssh):
    """Side by side with sshd: a logged-in connection with no channel
    open ends after UnusedConnectionTimeout, an ssh -R listener being no
    channel; a session longer than the timeout keeps its connection."""
    conf = "UnusedConnectionTimeout 2"
    s = openssh(conf) if peer == "openssh" else server(conf)
    for flags in (["-N"], ["-N", "-R", "0:%s:9" % HOST]):
        t0 = time.monotonic()
        r = s.ssh("alice", flags=flags, timeout=30)
        elapsed = time.monotonic() - t0
        assert r.returncode == 255, (flags, r.returncode, r.stderr)
        assert "closed by remote host" in r.stderr, (flags, r.stderr)
        assert 2 <= elapsed <= 10, (flags, elapsed)
    r = ok(s.ssh("alice", "sleep 4; echo still-here", timeout=30))
    assert r.stdout == "still-here\n"
    # sshd's line, with the user: in sshand the monitor writes it, to the
    # journal in production (the network child writes none).
    assert "terminating inactive connection from user alice %s port" % HOST in s.log()
    if peer == "sshand":
        reasons = [d["SSHAND_REASON"] for d in s.audit_records("disconnect")]
        assert reasons[:2] == ["unused-connection-timeout"] * 2, reasons


# ---- MaxSessions ------------------------------------------------------------

class Master:
    """ssh -M -N: a multiplexing master, and clients through it."""

    def __init__(self, s, tmp_path):
        self.s = s
        self.sock = str(tmp_path / "mux")
        self.p = subprocess.Popen(
            s.ssh_argv("alice", flags=["-M", "-S", self.sock, "-N",
                                       "-o", "ControlPersist=no"]),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=client_env())
        assert wait_for(lambda: os.path.exists(self.sock), 15)

    def argv(self, cmd):
        return ["ssh", "-F", "/dev/null", "-S", self.sock, "-o", "ControlMaster=no",
                "-o", "LogLevel=ERROR", "alice@" + HOST, "--", cmd]

    def start(self, cmd):
        return subprocess.Popen(self.argv(cmd), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=client_env())

    def run(self, cmd):
        return subprocess.run(self.argv(cmd), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=30,
                              env=client_env())

    def close(self):
        run(["ssh", "-F", "/dev/null", "-S", self.sock, "-O", "exit", HOST],
            env=client_env())
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(5)


def test_max_sessions_refuses_a_third_multiplexed_session(server, tmp_path):
    s = server("MaxSessions 2")
    m = Master(s, tmp_path)
    held = []
    try:
        # Commands that write now and then: when their channel closes
        # (the mux client killed below), they end by SIGPIPE at their
        # next write, as under sshd, which does not signal a command
        # without a terminal when its channel closes.
        tick = "while sleep 0.2; do echo tick; done"
        held = [m.start(tick), m.start(tick)]
        assert session_started(s, 2), s.log()[-2000:]
        r = m.run("echo third")
        assert r.returncode == 255 and r.stdout == "", (r.returncode, r.stdout, r.stderr)
        assert "refused" in r.stderr or "failed" in r.stderr, r.stderr
        assert "MaxSessions 2 reached" in s.log()
        for p in held:
            p.kill()
            p.wait(10)
        held = []
        # Once they have ended, a new one may start.
        assert wait_for(lambda: len(s.audit_records("session-end")) >= 2, 15)
        assert wait_for(lambda: m.run("echo again").stdout == "again\n", 10)
    finally:
        for p in held:
            p.kill()
            p.wait(10)
        m.close()
    assert len(s.audit_records("session-start")) == 3


def test_max_sessions_zero_leaves_forwarding(server):
    """MaxSessions 0: no session, but forwarding (here ssh -W to this very
    server, whose banner comes back) still works, as in sshd."""
    s = server("MaxSessions 0")
    r = s.ssh("alice", "true")
    assert r.returncode == 255, (r.stdout, r.stderr)
    p = subprocess.Popen(s.ssh_argv("alice", None, flags=["-W", "%s:%d" % (
        HOST, s.port)]), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=client_env())
    try:
        r, _, _ = select.select([p.stdout], [], [], 20)
        banner = p.stdout.readline() if r else b""
    finally:
        p.kill()
        p.wait(10)
    assert banner.startswith(b"SSH-2.0-"), (banner, p.stderr.read())
    assert s.audit_records("session-start") == []


# ---- smaller keywords -------------------------------------------------------

def test_required_rsa_size(server, keys):
    harness.write_authorized_keys("alice", [keys.pub("alice_rsa")])
    s = server("RequiredRSASize 3072")
    denied(s.ssh("alice", "true", key="alice_rsa"))
    assert "RSA key of 2048 bits: RequiredRSASize is 3072" in s.log()
    ok(server("Match User alice\n\tRequiredRSASize 2048").ssh(
        "alice", "true", key="alice_rsa"))


def kex_line(s, opts):
    argv = [a if a != "LogLevel=ERROR" else "LogLevel=DEBUG1"
            for a in s.ssh_argv("alice", "true", opts=opts)]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                       env=client_env())
    assert r.returncode == 0, r.stderr[-2000:]
    m = re.search(r"kex: server->client cipher: .* compression: (\S+)", r.stderr)
    assert m, r.stderr[-3000:]
    return m.group(1)


def test_compression(server):
    assert kex_line(server(), ["Compression=yes"]) == "zlib@openssh.com"
    assert kex_line(server("Compression no"), ["Compression=yes"]) == "none"


def keepalive_timer(port):
    """Whether the server's end of the connection on port has TCP
    keepalives (ss shows its timer)."""
    r = run(["ss", "-tnoH", "state", "established", "( sport = :%d )" % port])
    assert r.returncode == 0 and r.stdout.strip(), (r.stdout, r.stderr)
    return "keepalive" in r.stdout


@pytest.mark.parametrize("conf,want", [("", True), ("TCPKeepAlive no", False)])
def test_tcp_keepalive(server, conf, want):
    s = server(conf)
    p = subprocess.Popen(s.ssh_argv("alice", "sleep 30"), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=client_env())
    try:
        assert session_started(s)
        # ss shows the retransmission timer instead while data is in
        # flight: the keepalive timer shows once the connection is idle.
        seen = wait_for(lambda: keepalive_timer(s.port), 3 if want else 1.5)
        assert bool(seen) is want
    finally:
        p.kill()
        p.wait(10)
