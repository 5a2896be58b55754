"""Issue 13: the privilege separation table, every request in every state.

tests/tools/privsep.c plays the network child against the real monitor
code (handler/monitor/, with real PAM and NSS: the suite's alice) and
sends every message type the protocol has, plus a type it does not have,
in each connection state: before authentication, inside a
keyboard-interactive conversation, after login.  The expected outcome of
each case comes from the table in handler/privsep/protocol.h itself: what
the table allows in that state must be answered (with an answer type the
table names), everything else must end the connection with EXIT_PROTOCOL
and a privsep-violation audit record.  Requests allowed once are also
sent twice, and an allowed request carrying a descriptor must end the
connection too.  The same attacks through a live sshand, with the real
network child's socket, are in test_privsep.py.
"""

import os
import re
import subprocess

import harness
from conftest import _ASAN_ENV
from harness import ASAN_BUILD, BUILD

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def table_types():
    """(requests, all types) of handler/privsep/protocol.h."""
    with open(os.path.join(REPO, "handler", "privsep", "protocol.h")) as f:
        text = f.read()
    body = re.search(r"#define PS_REQUESTS\(X\)(.*?)\n\n", text, re.S).group(1)
    requests = re.findall(r"^X\((\w+),", body, re.M)
    enum = re.search(r"enum ps_type\s*\{(.*?)\};", text, re.S).group(1)
    types = [t for t in re.findall(r"\bPS_(\w+)\s*=", enum) if t != "NONE"]
    return requests, types


def test_every_request_in_every_state(tmp_path, sshand_build, keys):
    audit = tmp_path / "audit.jsonl"
    conf = tmp_path / "sshand.conf"
    conf.write_text("AuditLog %s\nBanMaxFailures 0\nMaxAuthTries 50\nHostKey %s\n"
                    % (audit, keys.host("ed25519")))
    build = ASAN_BUILD if sshand_build == "asan" else BUILD
    env = dict(os.environ)
    if sshand_build == "asan":
        env.update(_ASAN_ENV)
    r = subprocess.run([os.path.join(build, "tests", "privsep-tool"), str(conf),
                        str(audit), "alice", harness.password("alice")],
                       capture_output=True, text=True, timeout=600, env=env)
    report = r.stdout + "\n--- stderr (tail) ---\n" + r.stderr[-4000:]
    assert r.returncode == 0, report
    assert "Sanitizer" not in r.stderr and "runtime error" not in r.stderr, report

    # "case STATE TYPE once|twice|fd want OUTCOME got OUTCOME ok [why]"
    rows = [l.split(None, 9) for l in r.stdout.splitlines() if l.startswith("case ")]
    requests, types = table_types()
    # Every type, a type that does not exist and "none", in each of the
    # three states; CLIENT_INFO (the only PS_ONCE request) also twice in
    # the one state that allows it, SIGN (PS_ONCE_PREAUTH) twice in its
    # two; and a descriptor once per state.
    assert len(rows) == 3 * (len(types) + 2) + 1 + 2 + 3, report
    # A second host key signature: the end before login, a rekey after.
    twice = {(row[1], row[2]): row[7] for row in rows if row[3] == "twice"}
    assert twice[("preauth", "sign")] == "ended", report
    assert twice[("postauth", "sign")] == "answered", report
    # A hash of the wrong length or an unknown algorithm: a violation;
    # a well-formed request: an Ed25519 signature.
    signs = [l for l in r.stdout.splitlines() if l.startswith("sign-case ")]
    assert len(signs) == 6 and all(l.endswith(" ok") for l in signs), report
    assert all(row[8] == "ok" for row in rows), report
    # Forwarded opens (issue 16): one whose connect hangs holds up no
    # other request and is recorded refused at the end; closing it while
    # pending, or opening one past PS_MAX_FWD_PENDING, is a violation.
    fwd = [l for l in r.stdout.splitlines() if l.startswith("fwd-case ")]
    assert len(fwd) == 3 and all(": ok " in l for l in fwd), report
    answered = {(row[1], row[2]) for row in rows
                if row[3] == "once" and row[7] == "answered"}
    # The table as the monitor showed it: every request answered in some
    # state, nothing that authenticates after login, nothing that
    # reaches a session before it.
    assert {name for _, name in answered} == {t.lower() for t in requests}, report
    assert not any(s == "postauth" and n.startswith(("auth_", "kbdint_", "client_info"))
                   for s, n in answered), report
    assert not any(s != "postauth" and n.startswith(("session_", "window_", "signal"))
                   for s, n in answered), report
    assert ("preauth", "client_info") in answered, report
    assert r.stdout.rstrip().endswith("0 mismatches"), report
