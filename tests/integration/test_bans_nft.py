"""Issue 21, kernel-level drops: `sshandctl bans nft-sync` puts the ban
file's banned sources into an nftables set, and a banned source's SSH port
then appears closed (no SYN-ACK: its connection times out, it is not
refused) and a flood from it starts no sshand process.

Everything happens in network namespaces made here, never in the host's
firewall: the server's namespace (sshand under systemd-socket-activate on
10.77.0.1:22, and the nftables table) and a client namespace with two
sources, 10.77.0.2 (the attacker) and 10.77.0.3 (a user), over a veth
pair.  Real failed password logins (sshpass) ban the attacker.
"""

import json
import os
import re
import shutil
import subprocess

import pytest

import harness
from harness import BUILD, wait_for

CTL = os.path.join(BUILD, "sshandctl")
SRV_ADDR, BAD, GOOD = "10.77.0.1", "10.77.0.2", "10.77.0.3"
WRONG = "not-the-password-1"
BAN_TIME = 600

if not shutil.which("nft"):
    pytest.skip("nft missing (tests/deps.sh installs nftables)", allow_module_level=True)

# Connects from src to dst:port n times at once, each given `wait`
# seconds; prints how many connected, were refused, or got no answer.
PROBE = r"""
import errno, json, select, socket, sys, time
src, dst, port, n, wait = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
socks, out = [], {"connected": 0, "refused": 0, "timeout": 0}
for _ in range(n):
    s = socket.socket(); s.setblocking(False); s.bind((src, 0))
    s.connect_ex((dst, port)); socks.append(s)
end = time.monotonic() + wait
pending = list(socks)
while pending and time.monotonic() < end:
    _, w, _ = select.select([], pending, [], max(0, end - time.monotonic()))
    for s in w:
        e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        out["connected" if e == 0 else "refused" if e == errno.ECONNREFUSED else "other"] = \
            out.get("connected" if e == 0 else "refused" if e == errno.ECONNREFUSED else "other", 0) + 1
        pending.remove(s)
out["timeout"] = len(pending)
for s in socks: s.close()
print(json.dumps(out))
"""


def sh(*argv, check=True):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=check)


class Lab:
    """Two namespaces and a server in the first."""

    def __init__(self, keys, tag):
        self.srv, self.cli = "sshnft-s-" + tag, "sshnft-c-" + tag
        os.makedirs("/run/netns", exist_ok=True)
        sh("ip", "netns", "add", self.srv)
        sh("ip", "netns", "add", self.cli)
        sh("ip", "-n", self.srv, "link", "add", "nft0", "type", "veth", "peer",
           "name", "nft1", "netns", self.cli)
        sh("ip", "-n", self.srv, "addr", "add", SRV_ADDR + "/24", "dev", "nft0")
        for a in (BAD, GOOD):
            sh("ip", "-n", self.cli, "addr", "add", a + "/24", "dev", "nft1")
        for ns, dev in ((self.srv, "nft0"), (self.cli, "nft1")):
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        self.s = harness.Server(keys, "nft-" + tag, extra_config=(
            "BanMaxFailures 2\nBanTime %ds\nBanExempt 10.77.0.9,2001:db8:8::5\n" % BAN_TIME))
        # The same file without the exemptions: it bans what sshand would
        # not (a ban made before BanExempt was set).
        self.noexempt = os.path.join(self.s.dir, "noexempt.conf")
        with open(self.noexempt, "w") as f:
            f.write("BanFile %s\n" % self.s.ban_file)
        self.start_server()

    def start_server(self):
        s = self.s
        s.port = 22
        s.logf = open(s.log_path, "ab")
        s.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.srv, "systemd-socket-activate", "-l",
             "%s:22" % SRV_ADDR, "--accept", s.binary, "-e", "-f", s.conf],
            stdin=subprocess.DEVNULL, stdout=s.logf, stderr=s.logf,
            start_new_session=True, cwd="/")
        assert wait_for(lambda: "Listening on" in s.log(), 10), s.log()

    def close(self):
        problems = self.s.stop()
        for ns in (self.srv, self.cli):
            sh("ip", "netns", "del", ns, check=False)
        return problems

    def in_srv(self, *argv, check=False):
        return sh("ip", "netns", "exec", self.srv, *argv, check=check)

    def sync(self, *opts, conf=None):
        return self.in_srv(CTL, "-f", conf or self.s.conf, "bans", "nft-sync", *opts)

    def ctl(self, *args, conf=None):
        return sh(CTL, "-f", conf or self.s.conf, "--json", "bans", *args, check=False)

    def elements(self, set_name="banned4"):
        """{element: seconds until it expires} of one set."""
        r = self.in_srv("nft", "-j", "list", "set", "inet", "sshand", set_name, check=True)
        out = {}
        for item in json.loads(r.stdout)["nftables"]:
            for e in item.get("set", {}).get("elem", []):
                e = e["elem"]
                v = e["val"]
                if isinstance(v, dict):
                    v = "%s/%d" % (v["prefix"]["addr"], v["prefix"]["len"])
                out[v] = e.get("expires")
        return out

    def probe(self, src, n=1, wait=2.0):
        r = sh("ip", "netns", "exec", self.cli, "/usr/bin/python3", "-c", PROBE,
               src, SRV_ADDR, "22", str(n), str(wait), check=True)
        res = json.loads(r.stdout)
        self.s.wait_idle(10)
        return res

    def login(self, src, pw=None):
        pw = harness.password("alice") if pw is None else pw
        argv = self.s.password_argv("alice", pw, "echo in-$((6*7))", flags=["-b", src])
        argv = [("alice@" + SRV_ADDR) if a.endswith("@" + harness.HOST) else a for a in argv]
        r = subprocess.run(["ip", "netns", "exec", self.cli] + argv, capture_output=True,
                           text=True, timeout=60, env=harness.client_env())
        self.s.wait_idle(15)
        return r

    def spawned(self):
        return self.s.log().count("Spawned ")


@pytest.fixture(scope="module")
def lab(keys):
    lab = Lab(keys, str(os.getpid()))
    yield lab
    problems = lab.close()
    assert not problems, problems


def logged_in(r):
    assert r.returncode == 0 and r.stdout == "in-42\n", (r.returncode, r.stdout, r.stderr)


def test_banned_source_gets_no_syn_ack(lab):
    # The table exists before any ban, empty; a source logs in.
    r = lab.sync()
    assert r.returncode == 0, r.stderr
    assert lab.elements() == {}
    logged_in(lab.login(BAD))
    # Two wrong passwords ban it (BanMaxFailures 2).
    for _ in range(2):
        r = lab.login(BAD, WRONG)
        assert r.returncode == 255, r
    e = json.loads(lab.ctl("show", BAD).stdout)
    assert e["banned"], e
    # Banned in the file only: the connection is accepted, and costs a
    # process that turns it away.
    before = lab.spawned()
    assert lab.probe(BAD)["connected"] == 1
    assert lab.spawned() == before + 1
    r = lab.sync()
    assert r.returncode == 0, r.stderr
    assert "1 IPv4" in r.stdout, r.stdout
    # The element expires with the ban.
    els = lab.elements()
    assert set(els) == {BAD}, els
    e = json.loads(lab.ctl("show", BAD).stdout)
    assert abs(els[BAD] - e["remaining"]) <= 3, (els, e)
    assert BAN_TIME - 30 < els[BAD] <= BAN_TIME, els
    # Its connection times out: no SYN-ACK, and no RST either.
    assert lab.probe(BAD) == {"connected": 0, "refused": 0, "timeout": 1}
    # Another source connects and logs in.
    assert lab.probe(GOOD)["connected"] == 1
    logged_in(lab.login(GOOD))


def test_flood_from_banned_source_starts_no_process(lab):
    before = lab.spawned()
    res = lab.probe(BAD, n=50, wait=1.5)
    assert res == {"connected": 0, "refused": 0, "timeout": 50}, res
    assert lab.spawned() == before
    assert not lab.s.connections()
    # The drop is the set's: the same flood from the other source is served.
    res = lab.probe(GOOD, n=3, wait=5)
    assert res["connected"] == 3, res
    assert lab.spawned() == before + 3


def test_sync_is_idempotent_and_exempt_never_entered(lab):
    # Bans BanExempt would have refused, made through a configuration
    # without it; and IPv6 networks (the file's /64).
    for a in ("10.77.0.9", "2001:db8:8::9", "2001:db8:7::1"):
        r = lab.ctl("ban", a, "1h", conf=lab.noexempt)
        assert r.returncode == 0, r.stderr
    for _ in range(2):
        r = lab.sync()
        assert r.returncode == 0, r.stderr
    assert set(lab.elements()) == {BAD}
    # 2001:db8:8::/64 holds the exempt 2001:db8:8::5: left out whole.
    assert set(lab.elements("banned6")) == {"2001:db8:7::/64"}
    ruleset = lab.in_srv("nft", "list", "table", "inet", "sshand", check=True).stdout
    drops = re.findall(r"tcp dport 22 ip6? saddr @banned[46] drop", ruleset)
    assert len(drops) == 2, ruleset
    # Before the host's own filter chains (priority filter, 0).
    assert "type filter hook input priority filter - 10; policy accept;" in ruleset
    r = lab.ctl("unban", "2001:db8:7::1")
    assert r.returncode == 0, r.stderr


def test_damaged_file_leaves_the_set(lab):
    saved = lab.s.ban_file + ".saved"
    shutil.copyfile(lab.s.ban_file, saved)
    try:
        with open(lab.s.ban_file, "r+b") as f:
            f.write(b"XXXXXXXX")
        r = lab.sync()
        assert r.returncode == 1, r
        assert "left as they were" in r.stderr, r.stderr
        assert set(lab.elements()) == {BAD}
        # Read only: the damaged file is not rebuilt by nft-sync.
        with open(lab.s.ban_file, "rb") as f:
            assert f.read(8) == b"XXXXXXXX"
    finally:
        shutil.copyfile(saved, lab.s.ban_file)
    # nft missing or failing: an error, the set untouched.
    r = lab.sync("--nft", "/nonexistent/nft")
    assert r.returncode == 1 and "nftables" in r.stderr, r
    r = lab.sync("--set4", "banned6")
    assert r.returncode == 2, r
    assert set(lab.elements()) == {BAD}


def test_unban_restores_the_source(lab):
    r = lab.ctl("unban", BAD)
    assert r.returncode == 0, r.stderr
    r = lab.sync()
    assert r.returncode == 0, r.stderr
    assert lab.elements() == {}
    assert lab.probe(BAD)["connected"] == 1
    logged_in(lab.login(BAD))
