"""Issue 21, the fleet store: two sshand hosts share one ban list through
Redis (BanStore redis://...), each still checking only its own ban file,
with `sshandctl bans fleet-sync` beside each.

Four network namespaces made here: host A (10.78.0.1) and host B
(10.78.0.2), each with sshand under systemd-socket-activate on port 22,
its own ban file and its sync; Debian's redis-server in a third
(10.78.0.10, no persistence); the clients in a fourth, whose bridge joins
them all, with the sources 10.78.0.4..8.  Real failed password logins
(sshpass) make the failures.  Redis is killed and started again (empty)
mid-test.
"""

import json
import os
import shutil
import signal
import subprocess
import time

import pytest

import harness
from harness import BUILD, wait_for

CTL = os.path.join(BUILD, "sshandctl")
NET = "10.78.0."
A_ADDR, B_ADDR, R_ADDR = NET + "1", NET + "2", NET + "10"
BAD1, BAD2, BAD3, GOOD = NET + "5", NET + "6", NET + "7", NET + "8"
BAD4 = NET + "4"
WRONG = "not-the-password-1"
MAX_FAILURES = 3
BAN_TIME = 600

if not shutil.which("redis-server") or not shutil.which("redis-cli"):
    pytest.skip("redis-server missing (tests/deps.sh installs it)", allow_module_level=True)


def sh(*argv, check=True):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=check)


def nsenter(ns):
    return ["nsenter", "--net=/run/netns/" + ns]


class Host:
    """One sshand host: a server, its ban file, its fleet-sync."""

    def __init__(self, lab, keys, name, ns, addr):
        self.lab, self.ns, self.addr = lab, ns, addr
        self.s = harness.Server(keys, "fleet-%s-%s" % (name, lab.tag), extra_config=(
            "BanMaxFailures %d\nBanTime %ds\nBanExempt %s\n"
            "BanStore redis://%s:6379/3\n" % (MAX_FAILURES, BAN_TIME, NET + "9", R_ADDR)))
        self.sync_log = os.path.join(self.s.dir, "fleet-sync.log")
        self.sync = None
        s = self.s
        s.port = 22
        s.logf = open(s.log_path, "ab")
        s.proc = subprocess.Popen(
            nsenter(ns) + ["systemd-socket-activate", "-l", "%s:22" % addr, "--accept",
                           s.binary, "-e", "-f", s.conf],
            stdin=subprocess.DEVNULL, stdout=s.logf, stderr=s.logf,
            start_new_session=True, cwd="/")
        assert wait_for(lambda: "Listening on" in s.log(), 10), s.log()

    def start_sync(self):
        self.sync = subprocess.Popen(
            nsenter(self.ns) + [CTL, "-f", self.s.conf, "bans", "fleet-sync"],
            stdin=subprocess.DEVNULL, stdout=open(self.sync_log, "ab"),
            stderr=subprocess.STDOUT, start_new_session=True, cwd="/")

    def stop_sync(self):
        if self.sync and self.sync.poll() is None:
            self.sync.send_signal(signal.SIGTERM)
            try:
                self.sync.wait(5)
            except subprocess.TimeoutExpired:
                self.sync.kill()
                self.sync.wait(5)
        rc, self.sync = (self.sync.returncode if self.sync else None), None
        return rc

    def sync_text(self):
        """The sync's output so far: "" until the file exists (under the
        units' test, systemd makes it when the service starts, which may
        be after the first look)."""
        try:
            with open(self.sync_log) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def ctl(self, *args):
        return sh(*(nsenter(self.ns) + [CTL, "-f", self.s.conf, "--json", "bans"] +
                    list(args)), check=False)

    def banned(self):
        """The banned sources of the local file."""
        r = self.ctl("list")
        assert r.returncode == 0, r.stderr
        return {e["address"] for e in json.loads(r.stdout)["entries"] if e["banned"]}

    def fleet(self):
        r = self.ctl("list", "--fleet")
        assert r.returncode == 0, r.stderr
        return {e["address"]: e for e in json.loads(r.stdout)["entries"]}

    def login(self, src, pw=None):
        pw = harness.password("alice") if pw is None else pw
        argv = self.s.password_argv("alice", pw, "echo in-$((6*7))", flags=["-b", src])
        argv = [("alice@" + self.addr) if a.endswith("@" + harness.HOST) else a
                for a in argv]
        r = subprocess.run(nsenter(self.lab.cli) + argv, capture_output=True, text=True,
                           timeout=60, env=harness.client_env())
        return r

    def audit(self, event, addr):
        return [r for r in self.s.audit_records(event)
                if r.get("SSHAND_REMOTE_ADDR") == addr]


class Lab:
    def __init__(self, keys, tag=None, syncs=("a", "b")):
        self.tag = tag or str(os.getpid())
        self.a_ns, self.b_ns, self.r_ns, self.cli = (
            "fl-%s-%s" % (x, self.tag) for x in "abrc")
        self.redis = None
        self.hosts = []
        self.redis_dir = os.path.join(harness.WORK, "redis-" + self.tag)
        os.makedirs(self.redis_dir)
        os.makedirs("/run/netns", exist_ok=True)
        for ns in (self.a_ns, self.b_ns, self.r_ns, self.cli):
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", self.cli, "link", "add", "br0", "type", "bridge")
        for a in (BAD1, BAD2, BAD3, BAD4, GOOD):
            sh("ip", "-n", self.cli, "addr", "add", a + "/24", "dev", "br0")
        sh("ip", "-n", self.cli, "link", "set", "br0", "up")
        for i, (ns, addr) in enumerate(((self.a_ns, A_ADDR), (self.b_ns, B_ADDR),
                                        (self.r_ns, R_ADDR))):
            port = "flp%d" % i
            sh("ip", "-n", ns, "link", "add", "fl0", "type", "veth", "peer", "name", port,
               "netns", self.cli)
            sh("ip", "-n", ns, "addr", "add", addr + "/24", "dev", "fl0")
            sh("ip", "-n", ns, "link", "set", "fl0", "up")
            sh("ip", "-n", self.cli, "link", "set", port, "master", "br0", "up")
        self.start_redis()
        self.a = Host(self, keys, "a", self.a_ns, A_ADDR)
        self.hosts.append(self.a)
        self.b = Host(self, keys, "b", self.b_ns, B_ADDR)
        self.hosts.append(self.b)
        for h in self.hosts:
            if h is self.a and "a" in syncs or h is self.b and "b" in syncs:
                h.start_sync()

    def redis_cli(self, *args):
        return sh(*(nsenter(self.r_ns) + ["redis-cli", "-h", R_ADDR, "-n", "3"] +
                    list(args)), check=False)

    def start_redis(self):
        self.redis = subprocess.Popen(
            nsenter(self.r_ns) + ["redis-server", "--bind", R_ADDR, "--port", "6379",
                                  "--save", "", "--appendonly", "no", "--protected-mode",
                                  "no", "--dir", self.redis_dir, "--daemonize", "no"],
            stdin=subprocess.DEVNULL, stdout=open(os.path.join(self.redis_dir, "log"), "ab"),
            stderr=subprocess.STDOUT, start_new_session=True, cwd="/")
        assert wait_for(lambda: self.redis_cli("ping").stdout.strip() == "PONG", 10, 0.05)

    def kill_redis(self):
        if self.redis and self.redis.poll() is None:
            self.redis.kill()
            self.redis.wait(5)
        self.redis = None

    def fleet_banned(self):
        r = self.redis_cli("zrangebyscore", "sshand:banned", "(%d" % int(time.time()),
                           "+inf")
        return set(r.stdout.split())

    def close(self):
        problems = []
        for h in self.hosts:
            rc = h.stop_sync()
            if rc not in (0, None):
                problems.append("fleet-sync of %s exited %s" % (h.ns, rc))
            problems += h.s.stop()
        self.kill_redis()
        for ns in (self.a_ns, self.b_ns, self.r_ns, self.cli):
            sh("ip", "netns", "del", ns, check=False)
        return problems


@pytest.fixture(scope="module")
def lab(keys):
    lab = Lab(keys)
    try:
        yield lab
    finally:
        problems = lab.close()
    assert not problems, problems


def logged_in(r):
    assert r.returncode == 0 and r.stdout == "in-42\n", (r.returncode, r.stdout, r.stderr)


def fail_logins(host, src, n):
    for _ in range(n):
        r = host.login(src, WRONG)
        assert r.returncode == 255, (r.returncode, r.stdout, r.stderr)


def test_failures_on_a_ban_the_source_on_b_within_a_second(lab):
    logged_in(lab.a.login(BAD1))
    logged_in(lab.b.login(BAD1))
    fail_logins(lab.a, BAD1, MAX_FAILURES)
    t0 = time.monotonic()
    assert lab.a.s.wait_idle(15)
    # B's own file bans the source: its sshand never asks Redis.
    assert wait_for(lambda: BAD1 in lab.b.banned(), 5, 0.05), lab.b.sync_text()
    elapsed = time.monotonic() - t0
    print("fleet: banned on B %.3f s after the last failure on A" % elapsed)
    assert elapsed < 1.0, "banned on B %.2f s after the last failure on A" % elapsed
    assert BAD1 in lab.a.banned()
    # The fleet's entry: counted as the file counts, expiring with it.
    e = lab.a.fleet()[BAD1]
    assert e["banned"] and e["bans"] == 1 and BAN_TIME - 5 < e["remaining"] <= BAN_TIME, e
    ttl = int(lab.redis_cli("ttl", "sshand:e:" + BAD1).stdout)
    assert BAN_TIME < ttl, ttl
    # B turns the source away before its banner, and says why.
    r = lab.b.login(BAD1)
    assert r.returncode == 255 and "kex_exchange_identification" in r.stderr, r.stderr
    assert lab.b.s.wait_idle(15)
    assert lab.b.audit("rejected-banned", BAD1), "no rejected-banned record on B"
    # Another source still logs in on B.
    logged_in(lab.b.login(GOOD))


def test_failures_add_up_across_hosts(lab):
    # Two failures on A and one on B: neither file reaches the limit on
    # its own; the fleet, which counts them all, bans, and both follow.
    fail_logins(lab.a, BAD2, MAX_FAILURES - 1)
    assert lab.a.s.wait_idle(15)
    assert wait_for(lambda: (lab.a.fleet().get(BAD2) or {}).get("failure_units") ==
                    (MAX_FAILURES - 1) * 1000, 5, 0.05), lab.a.fleet()
    fail_logins(lab.b, BAD2, 1)
    assert lab.b.s.wait_idle(15)
    assert wait_for(lambda: BAD2 in lab.a.banned() and BAD2 in lab.b.banned(), 5, 0.05)
    e = json.loads(lab.a.ctl("show", BAD2).stdout)
    assert e["failure_units"] == 0 and e["total_units"] == (MAX_FAILURES - 1) * 1000, e
    # An exempt source banned by the fleet (another host's settings) is
    # never entered into the files; nor published again after an outage
    # (test_redis_back_the_lists_converge).
    lab.redis_cli("zadd", "sshand:banned", str(int(time.time()) + 300), NET + "9")
    time.sleep(0.6)
    assert NET + "9" not in lab.a.banned() | lab.b.banned()


def test_redis_down_hosts_keep_serving_and_banning(lab):
    lab.kill_redis()
    # Each sync says so, once, loudly.
    for h in lab.hosts:
        assert wait_for(lambda: "ERROR: fleet store" in h.sync_text(), 5, 0.05), \
            h.sync_text()
    t0 = time.monotonic()
    logged_in(lab.a.login(GOOD))
    logged_in(lab.b.login(GOOD))
    # Serving as fast as ever: no connection waited for Redis.
    assert time.monotonic() - t0 < 5
    # B bans on its own; A does not know yet.
    fail_logins(lab.b, BAD3, MAX_FAILURES)
    assert lab.b.s.wait_idle(15)
    assert BAD3 in lab.b.banned()
    time.sleep(0.5)
    assert BAD3 not in lab.a.banned()
    # A failure on A, kept to publish later.
    fail_logins(lab.a, GOOD, 1)
    for h in lab.hosts:
        assert h.sync_text().count("ERROR: fleet store") == 1, h.sync_text()
        assert h.sync.poll() is None


def test_redis_back_the_lists_converge(lab):
    # Started again empty (no persistence): the hosts publish what they
    # kept, and mirror each other's bans.
    lab.start_redis()
    want = {BAD1, BAD2, BAD3}

    def converged():
        return (lab.a.banned() == want and lab.b.banned() == want and
                lab.fleet_banned() == want)
    assert wait_for(converged, 5, 0.1), (lab.a.banned(), lab.b.banned(),
                                         lab.fleet_banned())
    for h in lab.hosts:
        assert wait_for(lambda: "is back after" in h.sync_text(), 5, 0.05), h.sync_text()
    assert "published 1.000 failures" in lab.a.sync_text(), lab.a.sync_text()
    assert lab.a.fleet()[GOOD]["failure_units"] == 1000
    # The same end on both hosts (the longest of the two).
    ea = json.loads(lab.a.ctl("show", BAD3).stdout)
    eb = json.loads(lab.b.ctl("show", BAD3).stdout)
    assert ea["banned_until_epoch"] == eb["banned_until_epoch"], (ea, eb)


def test_unban_leaves_the_fleet_too(lab):
    r = lab.a.ctl("unban", BAD2)
    assert r.returncode == 0, r.stderr
    assert BAD2 not in lab.fleet_banned()
    # The sync does not bring it back to A.
    time.sleep(0.6)
    assert BAD2 not in lab.a.banned()


def test_restarted_sync_publishes_failures_made_meanwhile(lab):
    # The sync keeps what it knows beside the ban file: restarted, it
    # counts from there, and what was recorded while it was stopped is
    # published.
    assert lab.b.stop_sync() == 0
    assert os.path.exists(lab.b.s.ban_file + ".fleet-state")
    fail_logins(lab.b, BAD4, 1)
    assert lab.b.s.wait_idle(15)
    assert BAD4 not in lab.a.fleet()
    lab.b.start_sync()
    assert wait_for(lambda: (lab.a.fleet().get(BAD4) or {}).get("failure_units") == 1000,
                    5, 0.1), lab.b.sync_text()


def test_sshand_prints_and_checks_banstore(lab, tmp_path):
    # sshand itself only parses the keyword: -T prints it (a password
    # masked), and a value it refuses stops it at its line.
    sshand = os.path.join(BUILD, "sshand")
    with open(lab.a.s.conf) as f:
        base = [l for l in f.read().splitlines() if not l.startswith("BanStore ")]
    conf = tmp_path / "c.conf"
    conf.write_text("\n".join(base + ["BanStore redis://sync:s3cret@%s:6379/3" % R_ADDR]) +
                    "\n")
    r = sh(sshand, "-f", str(conf), "-T", check=False)
    assert r.returncode == 0, r.stderr
    assert "banstore redis://sync:********@%s:6379/3\n" % R_ADDR in r.stdout, r.stdout
    assert "s3cret" not in r.stdout
    conf.write_text("\n".join(base + ["BanStore rediss://%s:6380/0" % R_ADDR]) + "\n")
    r = sh(sshand, "-f", str(conf), "-t", check=False)
    assert r.returncode != 0
    assert "%s:%d: \"BanStore\"" % (conf, len(base) + 1) in r.stderr, r.stderr
    assert "rediss:// (TLS) is not supported" in r.stderr, r.stderr


def test_redis_password_from_file(lab, tmp_path):
    """BanStorePasswordFile: a Redis that requires a password is reached
    with the file's first line; a wrong, empty or missing one is refused
    with a message naming the store or the file, and no password is ever
    printed."""
    secret = "fleet-pw-%d" % os.getpid()
    rdir = tmp_path / "redis-auth"
    rdir.mkdir()
    redis = subprocess.Popen(
        nsenter(lab.r_ns) + ["redis-server", "--bind", R_ADDR, "--port", "6380",
                             "--save", "", "--appendonly", "no", "--requirepass", secret,
                             "--dir", str(rdir), "--daemonize", "no"],
        stdin=subprocess.DEVNULL, stdout=open(str(rdir / "log"), "ab"),
        stderr=subprocess.STDOUT, start_new_session=True, cwd="/")
    try:
        assert wait_for(lambda: "NOAUTH" in sh(*(nsenter(lab.r_ns) + [
            "redis-cli", "-h", R_ADDR, "-p", "6380", "get", "x"]), check=False).stdout,
            10, 0.05), "the password-protected redis-server did not start"
        with open(lab.a.s.conf) as f:
            base = [l for l in f.read().splitlines() if not l.startswith("BanStore ")]
        pwfile = tmp_path / "redis.pw"
        conf = tmp_path / "auth.conf"
        conf.write_text("\n".join(base + ["BanStore redis://%s:6380/3" % R_ADDR,
                                          "BanStorePasswordFile %s" % pwfile]) + "\n")

        def fleet_list():
            r = sh(*(nsenter(lab.a_ns) + [CTL, "-f", str(conf), "--json", "bans", "list",
                                          "--fleet"]), check=False)
            assert secret not in r.stdout + r.stderr and WRONG not in r.stdout + r.stderr
            return r

        pwfile.write_text(secret + "\n")
        r = fleet_list()
        assert r.returncode == 0, r.stderr
        pwfile.write_text(WRONG + "\n")
        r = fleet_list()
        assert r.returncode != 0 and "fleet store redis://%s:6380/3" % R_ADDR in r.stderr, \
            r.stderr
        assert "WRONGPASS" in r.stderr or "invalid" in r.stderr, r.stderr
        pwfile.write_text("\n")
        r = fleet_list()
        assert r.returncode != 0 and "BanStorePasswordFile %s: empty" % pwfile in r.stderr, \
            r.stderr
        pwfile.unlink()
        r = fleet_list()
        assert r.returncode != 0 and "BanStorePasswordFile %s" % pwfile in r.stderr, r.stderr
        # Without the file's line the store refuses every command.
        conf.write_text("\n".join(base + ["BanStore redis://%s:6380/3" % R_ADDR]) + "\n")
        r = fleet_list()
        assert r.returncode != 0 and "NOAUTH" in r.stderr, r.stderr
    finally:
        redis.kill()
        redis.wait(5)
