"""handler/front/audit.c against a real systemd-journald.

Each test runs a private journald inside its own mount namespace (a tmpfs on
/run/systemd and /run/log, a temp folder over /var/log/journal), has the
auditemit test driver ($SSHAND_BUILD/tests/auditemit-tool) write records
through the journal's native protocol, and reads them back with
`journalctl -o json SSHAND_CONNECTION=...`.  Hostile values (newlines,
injected "SSHAND_USER=root", 64 KiB strings, invalid UTF-8) must come back
as one escaped field each.  The JSON-lines fallback must carry the same
records.  End-to-end tests with real SSH clients live elsewhere; these prove
the module.

Runs under tests/integration/run, or alone:
    /usr/bin/python3 -m pytest --noconftest tests/integration/test_audit_journal.py
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("SSHAND_BUILD") or os.path.join(REPO, "build")
TOOL = os.path.join(BUILD, "tests", "auditemit-tool")
CTL = os.path.join(BUILD, "sshandctl")
JOURNALD = "/lib/systemd/systemd-journald"

# The documented MESSAGE_IDs (AUDIT_EVENTS, handler/front/audit.h): they must never change.
MESSAGE_IDS = {
    "connect": "9fe43347e64a475686932eda68aed279",
    "rejected-banned": "36e8ab700527402593d0ef6605895346",
    "auth-attempt": "d5abd3b59e364283b2552cab1a21faed",
    "session-start": "e7ad91316ec84000878bd27377602324",
    "session-end": "b81b5753bc3341a2a2610b71a846d302",
    "ban-added": "c8c7a80bb0a249939481226918043ad1",
    "disconnect": "e3909f9bdf3e48e3b31f56255b21e054",
    "privsep-violation": "a62cce5b62b64afd85737fdbac88b992",
}

CONN_A = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"

# Sets up journald in the (already private) namespace, then runs "$@".
SETUP = r"""
set -eu
tmp=$1; shift
mount -t tmpfs -o mode=0755 tmpfs /run/systemd
mkdir -p /run/log
mount -t tmpfs -o mode=0755 tmpfs /run/log
mkdir -p /run/systemd/journal /run/systemd/journald.conf.d "$tmp/varlog"
if [ -d /var/log/journal ]; then mount --bind "$tmp/varlog" /var/log/journal; fi
# Volatile (our tmpfs), no kernel log, no forwarding, no rate limit: the
# journal holds exactly what the test sends.
cat > /run/systemd/journald.conf.d/test.conf <<'EOF'
[Journal]
Storage=volatile
ReadKMsg=no
ForwardToSyslog=no
ForwardToKMsg=no
ForwardToConsole=no
ForwardToWall=no
RateLimitBurst=0
EOF
/lib/systemd/systemd-journald </dev/null >"$tmp/journald.log" 2>&1 &
jpid=$!
for i in $(seq 100); do
	[ -S /run/systemd/journal/socket ] && break
	sleep 0.1
done
[ -S /run/systemd/journal/socket ] || { echo "journald did not start" >&2; exit 3; }
rc=0
"$@" || rc=$?
kill "$jpid"
wait "$jpid" || true
exit $rc
"""


def esc(raw, limit):
    """What audit_escape does, for computing expected values."""
    out = []
    for c in raw[:limit]:
        if c == 0x5C:
            out.append("\\\\")
        elif 0x20 <= c < 0x7F:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return "".join(out) + ("..." if len(raw) > limit else "")


def conn_user(raw):
    """audit_conn_set_user keeps 252 bytes and marks the cut with "..."."""
    return raw if len(raw) < 256 else raw[:252] + b"..."


HOSTILE_USER = b"evil\nSSHAND_USER=root\n\"SSHAND_USER\":\"root\"\r\x1b[2J\xff\xfe\xc3(" + \
    b"u" * 65536
HOSTILE_CMD = b"ls\nSSHAND_COMMAND=rm -rf /\nMESSAGE=forged\\\xed\xa0\x80\"}" + \
    b"\n" * 65536
HOSTILE_VERSION = b"SSH-2.0-x\r\nSSHAND_EVENT=connect\x7f"

# Connection A: a complete, well-behaved story.
STORY_A = [
    b"remote_addr=127.0.0.2", b"remote_port=40001",
    b"local_addr=127.0.0.1", b"local_port=2222",
    b"client_version=SSH-2.0-OpenSSH_9.2p1 Debian-2",
    b"connect",
    b"user=nosuchuser", b"auth_method=password", b"auth_result=failure",
    b"reason=unknown-user", b"auth-attempt",
    b"user=alice", b"auth_method=password", b"auth_result=failure",
    b"reason=bad-password", b"auth-attempt",
    b"auth_method=publickey", b"auth_result=success",
    b"key_fingerprint=SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
    b"auth-attempt",
    b"session_type=exec", b"command=exit 7", b"session-start",
    b"session_type=exec", b"exit_status=7", b"session-end",
    b"session_type=subsystem", b"command=sftp", b"session-start",
    b"session_type=subsystem", b"exit_status=0", b"session-end",
    b"reason=client-closed", b"bytes_in=1234", b"bytes_out=5678",
    b"duration_usec=2500000", b"disconnect",
]
EVENTS_A = ["connect", "auth-attempt", "auth-attempt", "auth-attempt",
            "session-start", "session-end", "session-start", "session-end",
            "disconnect"]

# Connection B: hostile client values; its id comes from getrandom.
STORY_B = [
    b"remote_addr=::1", b"remote_port=40002",
    b"client_version=" + HOSTILE_VERSION, b"connect",
    b"user=" + HOSTILE_USER, b"auth_method=password", b"auth_result=failure",
    b"reason=bad-password", b"auth-attempt",
    b"session_type=exec", b"command=" + HOSTILE_CMD, b"session-start",
    b"reason=max-tries", b"disconnect",
]

# Connection C: a banned address.
STORY_C = [
    b"remote_addr=203.0.113.9", b"remote_port=40003",
    b"ban_until=4102444800", b"ban-added", b"rejected-banned",
]


def journal_records(conn, want, timeout=10.0):
    """journald writes asynchronously: poll until `want` records arrived."""
    deadline = time.time() + timeout
    while True:
        out = subprocess.run(
            ["journalctl", "-o", "json", "--all", "--no-pager",
             "SSHAND_CONNECTION=" + conn],
            capture_output=True, check=False).stdout
        recs = [json.loads(l) for l in out.splitlines() if l.strip()]
        if len(recs) >= want or time.time() > deadline:
            return recs
        time.sleep(0.1)


def inner(outdir):
    """Runs inside the namespace with journald up; writes results as JSON."""
    res = {}
    env = dict(os.environ, INVOCATION_ID=CONN_A)
    a = subprocess.run([TOOL] + STORY_A, env=env, capture_output=True)
    res["a_rc"], res["a_err"] = a.returncode, a.stderr.decode("utf-8", "replace")
    res["a_id"] = a.stdout.decode().strip()

    env = {k: v for k, v in os.environ.items() if k != "INVOCATION_ID"}
    b = subprocess.run([TOOL] + STORY_B, env=env, capture_output=True)
    res["b_rc"], res["b_err"] = b.returncode, b.stderr.decode("utf-8", "replace")
    res["b_id"] = b.stdout.decode().strip()
    c = subprocess.run([TOOL] + STORY_C, env=env, capture_output=True)
    res["c_rc"], res["c_id"] = c.returncode, c.stdout.decode().strip()

    # The same story through the JSON-lines fallback (no journal socket).
    jl = os.path.join(outdir, "fallback.jsonl")
    f = subprocess.run([TOOL, "-s", "/nonexistent/socket", "-F", jl] + STORY_A,
                       env=dict(os.environ, INVOCATION_ID=CONN_A),
                       capture_output=True)
    res["f_rc"] = f.returncode

    res["a"] = journal_records(res["a_id"], len(EVENTS_A))
    res["b"] = journal_records(res["b_id"], 4)
    res["c"] = journal_records(res["c_id"], 2)
    inj = subprocess.run(["journalctl", "-o", "json", "--all", "--no-pager",
                          "SSHAND_USER=root"], capture_output=True)
    res["root_records"] = inj.stdout.decode("utf-8", "replace")
    inj = subprocess.run(["journalctl", "-o", "json", "--all", "--no-pager",
                          "MESSAGE=forged"], capture_output=True)
    res["forged_records"] = inj.stdout.decode("utf-8", "replace")

    if os.access(CTL, os.X_OK):
        for name, args in (("ctl_a", ["--connection", res["a_id"]]),
                           ("ctl_alice", ["--user", "alice", "--json"]),
                           ("ctl_short", ["--connection", res["a_id"][:8]]),
                           ("ctl_file", ["--file", jl, "--user", "nosuchuser",
                                         "--json"]),
                           ("ctl_file_table", ["--file", jl, "--since", "-1h"])):
            r = subprocess.run([CTL, "audit"] + args, capture_output=True)
            res[name] = [r.returncode, r.stdout.decode("utf-8", "replace"),
                         r.stderr.decode("utf-8", "replace")]
    with open(os.path.join(outdir, "result.json"), "w") as fh:
        json.dump(res, fh)


@pytest.fixture(scope="module")
def journal():
    if os.geteuid() != 0:
        pytest.skip("needs root (mount namespace, journald)")
    if not os.access(JOURNALD, os.X_OK):
        pytest.skip("no systemd-journald")
    if not os.access(TOOL, os.X_OK):
        pytest.fail("%s missing: make %s" % (TOOL, TOOL))
    tmp = tempfile.mkdtemp(prefix="sshand-audit.")
    try:
        p = subprocess.run(
            ["unshare", "-m", "--propagation", "private", "bash", "-c", SETUP,
             "setup", tmp, sys.executable, os.path.abspath(__file__), "--inner",
             tmp], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, "inner run failed:\n%s\n%s" % (p.stdout, p.stderr)
        with open(os.path.join(tmp, "result.json")) as fh:
            res = json.load(fh)
        fallback = []
        with open(os.path.join(tmp, "fallback.jsonl"), "rb") as fh:
            for line in fh:
                fallback.append(json.loads(line))
        res["fallback"] = fallback
        res["fallback_mode"] = os.stat(os.path.join(tmp, "fallback.jsonl")).st_mode
        yield res
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def sshand_fields(rec):
    return {k: v for k, v in rec.items()
            if k.startswith("SSHAND_") or k in ("MESSAGE_ID", "MESSAGE", "PRIORITY",
                                                  "SYSLOG_IDENTIFIER")}


def test_one_connection_whole(journal):
    assert journal["a_rc"] == 0, journal["a_err"]
    assert journal["a_id"] == CONN_A
    recs = journal["a"]
    assert [r["SSHAND_EVENT"] for r in recs] == EVENTS_A
    for r in recs:
        assert r["SSHAND_CONNECTION"] == CONN_A
        assert r["SYSLOG_IDENTIFIER"] == "sshand"
        assert r["MESSAGE_ID"] == MESSAGE_IDS[r["SSHAND_EVENT"]]
        assert r["SSHAND_REMOTE_ADDR"] == "127.0.0.2"
        assert r["SSHAND_REMOTE_PORT"] == "40001"
        assert r["SSHAND_LOCAL_ADDR"] == "127.0.0.1"
        assert r["SSHAND_LOCAL_PORT"] == "2222"
        assert r["SSHAND_CLIENT_VERSION"] == "SSH-2.0-OpenSSH_9.2p1 Debian-2"
        assert not any("PASSW" in k for k in r)
    connect, unknown, badpw, key, start1, end1, start2, end2, disc = recs
    assert connect["MESSAGE"] == "Connection from 127.0.0.2 port 40001 on 127.0.0.1 port 2222"
    assert connect["PRIORITY"] == "6"
    assert "SSHAND_USER" not in connect
    # Unknown user and bad password are told apart in the log.
    assert unknown["SSHAND_USER"] == "nosuchuser"
    assert unknown["SSHAND_REASON"] == "unknown-user"
    assert unknown["SSHAND_AUTH_RESULT"] == "failure"
    assert unknown["PRIORITY"] == "4"
    assert unknown["MESSAGE"] == "Failed password for invalid user nosuchuser from 127.0.0.2 port 40001"
    assert badpw["SSHAND_REASON"] == "bad-password"
    assert badpw["MESSAGE"] == "Failed password for alice from 127.0.0.2 port 40001 (bad-password)"
    assert key["SSHAND_AUTH_METHOD"] == "publickey"
    assert key["SSHAND_AUTH_RESULT"] == "success"
    assert key["SSHAND_KEY_FINGERPRINT"] == "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
    assert key["MESSAGE"].startswith("Accepted publickey for alice from 127.0.0.2 port 40001")
    assert start1["SSHAND_SESSION_TYPE"] == "exec"
    assert start1["SSHAND_COMMAND"] == "exit 7"
    assert end1["SSHAND_EXIT_STATUS"] == "7"
    assert "SSHAND_EXIT_SIGNAL" not in end1
    assert start2["SSHAND_SESSION_TYPE"] == "subsystem"
    assert start2["SSHAND_COMMAND"] == "sftp"
    assert end2["SSHAND_EXIT_STATUS"] == "0"
    assert disc["SSHAND_REASON"] == "client-closed"
    assert disc["SSHAND_BYTES_IN"] == "1234"
    assert disc["SSHAND_BYTES_OUT"] == "5678"
    assert disc["SSHAND_DURATION_USEC"] == "2500000"
    # journald's own fields show who sent it.
    assert all(r.get("_TRANSPORT") == "journal" for r in recs)


def test_hostile_values_stay_one_field(journal):
    assert journal["b_rc"] == 0, journal["b_err"]
    bid = journal["b_id"]
    assert len(bid) == 32 and all(c in "0123456789abcdef" for c in bid)
    assert bid != CONN_A
    recs = journal["b"]
    assert [r["SSHAND_EVENT"] for r in recs] == \
        ["connect", "auth-attempt", "session-start", "disconnect"]
    want_user = esc(conn_user(HOSTILE_USER), 256)
    want_cmd = esc(HOSTILE_CMD, 4096)
    want_version = esc(HOSTILE_VERSION, 256)
    for r in recs:
        # A repeated field would come back as a JSON array.
        for k, v in r.items():
            assert isinstance(v, str), (k, v)
        assert r["SSHAND_CONNECTION"] == bid
        assert r["SSHAND_EVENT"] in MESSAGE_IDS
        assert r["SSHAND_CLIENT_VERSION"] == want_version
        assert "\n" not in r["MESSAGE"]
        assert r["SSHAND_REMOTE_ADDR"] == "::1"
    for r in recs[1:]:
        assert r["SSHAND_USER"] == want_user
    start = recs[2]
    assert start["SSHAND_COMMAND"] == want_cmd
    assert start["SSHAND_COMMAND"].endswith("...")
    assert len(start["SSHAND_COMMAND"]) < 4 * 4096 + 4
    assert start["SSHAND_SESSION_TYPE"] == "exec"
    assert journal["root_records"].strip() == ""
    assert journal["forged_records"].strip() == ""


def test_ban_records(journal):
    assert journal["c_rc"] == 0
    ban, rejected = journal["c"]
    assert ban["SSHAND_EVENT"] == "ban-added"
    assert ban["SSHAND_BAN_UNTIL"] == "4102444800"
    assert ban["MESSAGE"] == "Banned 203.0.113.9 until 2100-01-01 00:00:00 UTC"
    assert ban["PRIORITY"] == "4"
    assert rejected["SSHAND_EVENT"] == "rejected-banned"
    assert rejected["MESSAGE_ID"] == MESSAGE_IDS["rejected-banned"]
    assert len({journal["a_id"], journal["b_id"], journal["c_id"]}) == 3


def test_jsonlines_fallback_same_records(journal):
    assert journal["f_rc"] == 0
    assert journal["fallback_mode"] & 0o777 == 0o600
    file_recs = journal["fallback"]
    assert len(file_recs) == len(journal["a"])
    for f, j in zip(file_recs, journal["a"]):
        assert sshand_fields(f) == sshand_fields(j)
        assert int(f["__REALTIME_TIMESTAMP"]) > 1600000000 * 10**6


def test_sshandctl_audit(journal):
    if "ctl_a" not in journal:
        pytest.skip("sshandctl not built")
    rc, out, err = journal["ctl_a"]
    assert rc == 0, err
    lines = [l for l in out.splitlines() if l.strip()]
    # A header, then one row per record of connection A.
    assert len(lines) == 1 + len(EVENTS_A), out
    assert "exit 7" in out and "publickey/success" in out
    assert "password/failure" in out and "unknown-user" in out
    rc, out, err = journal["ctl_short"]
    assert rc == 0, err
    assert len([l for l in out.splitlines() if l.strip()]) == 1 + len(EVENTS_A)
    rc, out, err = journal["ctl_alice"]
    assert rc == 0, err
    recs = [json.loads(l) for l in out.splitlines() if l.strip()]
    assert recs and all(r["SSHAND_USER"] == "alice" for r in recs)
    assert len(recs) == 7
    # The JSON-lines file answers the same questions.
    rc, out, err = journal["ctl_file"]
    assert rc == 0, err
    recs = [json.loads(l) for l in out.splitlines() if l.strip()]
    assert [r["SSHAND_REASON"] for r in recs] == ["unknown-user"]
    rc, out, err = journal["ctl_file_table"]
    assert rc == 0, err
    rows = [l for l in out.splitlines() if l.strip()]
    assert len(rows) == 1 + len(EVENTS_A)
    assert rows[0].split()[:3] == ["TIME", "CONN", "EVENT"]
    assert all(r.split()[2] == "0f1e2d3c" for r in rows[1:])


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "--inner":
    inner(sys.argv[2])
