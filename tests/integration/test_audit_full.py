"""Issue 15: audit records that cannot be written are not lost silently.
The trail is a JSON-lines file on a small tmpfs that is full: logins go
on (AuditRequired no, the default) with one error in the log per
connection, or are refused (AuditRequired yes)."""

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
