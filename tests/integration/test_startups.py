"""Issue 15: MaxStartups and PerSourceMaxStartups bound the connections
that have not authenticated, host-wide (every sshand process of the
host shares the slots), in inetd mode too; a flood of silent
connections from one address stays bounded and a user from another
address still logs in."""

import socket
import subprocess
import time

import pytest

import harness
from harness import HOST


def sshand_procs(s):
    return [p for p in s.tree() if (harness.proc_status(p) or {}).get("Name") == "sshand"]


def silent(n, src, port, hold):
    """n connections from src that never send a byte; those the server
    closes are noticed.  Returns the sockets."""
    socks = []
    for _ in range(n):
        c = socket.socket()
        c.bind((src, 0))
        c.settimeout(5)
        try:
            c.connect((HOST, port))
        except OSError:
            c.close()
            continue
        socks.append(c)
    return socks


def still_open(socks):
    """Sockets the server has not closed (no EOF within a moment)."""
    left = []
    for c in socks:
        c.setblocking(False)
        try:
            b = c.recv(4096)
            if b:	# the version banner: served, so open
                left.append(c)
        except BlockingIOError:
            left.append(c)
        except OSError:
            pass
    return left


@pytest.mark.parametrize("mode", ["accept", "inetd"])
def test_flood_from_one_address_is_bounded(server, mode):
    s = server("LoginGraceTime 30\nBanMaxFailures 0", mode=mode)
    socks = silent(500, "127.0.0.2", s.port, hold=True)
    try:
        time.sleep(3)
        # The address's share (PerSourceMaxStartups 8 by default) is
        # served; the rest were closed before any banner.
        held = still_open(socks)
        assert len(held) <= 8, len(held)
        assert len(held) >= 1
        procs = sshand_procs(s)
        # At most four processes per held connection (guardian, monitor,
        # network child, key holder), and a few refusals in flight.
        assert len(procs) <= 4 * 8 + 10, len(procs)
        assert harness.rss_kib(procs) < 200 * 1024, harness.rss_kib(procs)
        # Another address logs in meanwhile.
        r = s.ssh(cmd="echo in")
        assert (r.returncode, r.stdout) == (0, "in\n"), r.stderr
    finally:
        for c in socks:
            c.close()
    drops = s.audit_records("rejected-startups")
    assert len(drops) >= 400, len(drops)
    assert all(r["SSHAND_REASON"] == "PerSourceMaxStartups" and
               r["SSHAND_REMOTE_ADDR"] == "127.0.0.2" for r in drops), drops[:3]


def test_max_startups_across_addresses(server):
    """MaxStartups 3 (no per-source share): three silent connections
    from three addresses take every slot; a fourth is dropped; once one
    logs in or leaves, its slot is free again."""
    s = server("MaxStartups 3\nPerSourceMaxStartups none\nLoginGraceTime 30")
    socks = []
    try:
        for i in range(3):
            socks += silent(1, "127.0.0.%d" % (10 + i), s.port, hold=True)
        time.sleep(1.5)
        assert len(still_open(socks)) == 3
        r = s.ssh(cmd="echo in")
        assert r.returncode == 255, (r.stdout, r.stderr)
        socks.pop().close()
        assert harness.wait_for(lambda: s.ssh(cmd="echo in").returncode == 0, 10)
        # A login gives its slot back: logged-in connections do not count.
        sessions = [subprocess.Popen(s.ssh_argv(cmd="sleep 5"),
                                             env=harness.client_env())
                    for _ in range(3)]
        time.sleep(2)
        r = s.ssh(cmd="echo still")
        for p in sessions:
            p.wait(20)
    finally:
        for c in socks:
            c.close()
    assert (r.returncode, r.stdout) == (0, "still\n"), r.stderr
    drops = s.audit_records("rejected-startups")
    assert drops and all(r["SSHAND_REASON"] == "MaxStartups" for r in drops)


def test_bad_values_are_refused(tmp_path):
    for line in ("MaxStartups 10:30", "MaxStartups 20:30:10", "MaxStartups 1:101:9",
                 "PerSourceMaxStartups 0", "PerSourceNetBlockSize 33"):
        conf = tmp_path / "c.conf"
        conf.write_text(line + "\n")
        r = harness.run([harness.BUILD + "/sshand", "-t", "-f", str(conf)])
        assert r.returncode == 1, (line, r.stdout, r.stderr)
        assert "%s:1:" % conf in r.stderr, r.stderr
