"""Issue 15: audit records that cannot be written are not lost silently.
The trail is a JSON-lines file on a small tmpfs that is full: logins go
on (AuditRequired no, the default) with one error in the log per
connection, or are refused (AuditRequired yes).  A record cut short when
the file system fills up costs that record alone: the next one, written
once there is room again, starts on a line of its own."""

import json
import os
import subprocess

import pytest

import harness


@pytest.fixture
def full_trail(tmp_path):
    d = tmp_path / "trail"
    d.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(d)],
                   check=True)
    path = d / "audit.jsonl"
    path.write_text("")
    os.chmod(str(path), 0o600)
    # Fill the file system: nothing more can be appended.
    subprocess.run(["dd", "if=/dev/zero", "of=" + str(d / "filler"), "bs=4k"],
                   capture_output=True)
    yield str(path)
    subprocess.run(["umount", str(d)], check=True)


def on_trail(server, path, extra=""):
    """A server whose AuditLog is path (the harness's comes first in its
    file, and sshd's first value wins: the config is rewritten; each
    connection reads it anew)."""
    s = server(extra)
    s.audit_log = path
    s.write_config(extra)
    return s


def test_full_trail_is_said(full_trail, server):
    s = on_trail(server, full_trail)
    r = s.ssh(cmd="echo in")
    assert (r.returncode, r.stdout) == (0, "in\n"), r.stderr
    assert harness.wait_for(lambda: "audit records cannot be written" in s.log(), 5)
    log = s.log()
    assert "No space left on device" in log, log[-2000:]
    # Once per connection, not once per record.
    assert log.count("audit records cannot be written") == 1, log[-3000:]


def test_audit_required_refuses_logins(full_trail, server):
    s = on_trail(server, full_trail, "AuditRequired yes")
    r = s.ssh(cmd="echo in")
    assert r.returncode == 255 and "in" not in r.stdout, (r.stdout, r.stderr)
    assert "login of alice refused: AuditRequired yes" in s.log(), s.log()[-2000:]
    r = s.ssh_password("alice", cmd="echo in")
    assert r.returncode == 255 and "in" not in r.stdout, (r.stdout, r.stderr)


EVENTS = ["connect", "auth-attempt", "session-start", "session-end", "disconnect"]


def test_record_cut_short_costs_no_other(tmp_path, server):
    """The file system fills up in the middle of a record: a connection's
    first record is written in part (a short write), the rest of its
    records not at all.  Room is made; the next connection's records are
    all readable, by a JSON-lines reader and by sshandctl audit, and the
    torn record is the one line neither can read."""
    d = tmp_path / "trail"
    d.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(d)],
                   check=True)
    try:
        path = str(d / "audit.jsonl")
        # A first page of whole lines, 200 bytes short of its end.
        pad = 4096 - 200 - len('{"NOTE":""}\n')
        with open(path, "w") as f:
            f.write('{"NOTE":"%s"}\n' % ("x" * pad))
        os.chmod(path, 0o600)
        subprocess.run(["dd", "if=/dev/zero", "of=" + str(d / "filler"), "bs=4k"],
                       capture_output=True)
        s = on_trail(server, path)
        r = s.ssh(cmd="echo in")
        assert (r.returncode, r.stdout) == (0, "in\n"), r.stderr
        assert harness.wait_for(lambda: "audit records cannot be written" in s.log(), 5)
        s.wait_idle()
        with open(path, "rb") as f:
            data = f.read()
        # The connect record was cut at the page's end, the file is full.
        assert len(data) == 4096 and not data.endswith(b"\n"), data[-300:]
        assert b'"SSHAND_EVENT":"connect"' not in data[data.rfind(b"\n"):]
        os.unlink(str(d / "filler"))

        r = s.ssh(cmd="echo again")
        assert (r.returncode, r.stdout) == (0, "again\n"), r.stderr
        s.wait_idle()
        with open(path, "rb") as f:
            lines = f.read().split(b"\n")
        assert lines[-1] == b"", lines[-1]
        bad = []
        recs = []
        for line in lines[:-1]:
            try:
                recs.append(json.loads(line))
            except ValueError:
                bad.append(line)
        # The torn record, alone on its line.
        assert len(bad) == 1 and bad[0].startswith(b'{"__REALTIME_TIMESTAMP":"'), bad
        assert len(bad[0]) == 200, bad
        second = [rec["SSHAND_EVENT"] for rec in recs if "SSHAND_EVENT" in rec]
        assert second == EVENTS, second

        ctl = subprocess.run([os.path.join(harness.BUILD, "sshandctl"), "audit",
                              "--file", path, "--json"],
                             capture_output=True, text=True, timeout=30)
        assert ctl.returncode == 0, ctl.stderr
        shown = [json.loads(line)["SSHAND_EVENT"] for line in ctl.stdout.splitlines()
                 if line.strip()]
        assert shown == EVENTS, ctl.stdout
        assert "skipped 1 unreadable line(s)" in ctl.stderr, ctl.stderr
    finally:
        subprocess.run(["umount", str(d)], check=True)


def test_sshandctl_reads_a_record_joined_to_a_torn_one(tmp_path):
    """Files written before sshand ended torn records (or by two writers
    at once) may hold a torn record with the next one joined to it:
    sshandctl audit --file shows the whole one and counts the torn part
    alone as unreadable."""
    def rec(n, msg):
        return ('{"__REALTIME_TIMESTAMP":"%d","MESSAGE":"%s","SYSLOG_IDENTIFIER":"sshand",'
                '"SSHAND_EVENT":"connect","SSHAND_CONNECTION":"c%d"}'
                % (1790000000000000 + n, msg, n))
    whole = rec(2, 'quoted \\"{\\"__REALTIME_TIMESTAMP\\":\\"1\\"}\\" inside')
    path = tmp_path / "audit.jsonl"
    path.write_text("\n".join([
        rec(1, "first"),
        rec(9, "torn")[:70] + whole,
        rec(8, "torn alone")[:50],
        rec(3, "last"),
    ]) + "\n")
    r = subprocess.run([os.path.join(harness.BUILD, "sshandctl"), "audit",
                        "--file", str(path), "--json"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    shown = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    assert [x["SSHAND_CONNECTION"] for x in shown] == ["c1", "c2", "c3"], r.stdout
    assert shown[1] == json.loads(whole)
    assert "skipped 2 unreadable line(s)" in r.stderr, r.stderr
