"""Expired passwords (issue 17): the change is made in the same
connection, through PAM, and the user is logged in.

`chage -d 0 alice`, then the real OpenSSH client on a terminal goes
through the dialogue: with its defaults, keyboard-interactive (PAM's own
prompts: the password, then "You are required to change your password
immediately", the current password and the new one twice); with
PreferredAuthentications=password, through the password change request of
RFC 4252 section 8 (ssh asks for the old password and the new one twice).
Then the new password logs in and the old one no longer does.  A refused
change leaves the user out and the password as it was.  Each step is in
the audit trail (auth-attempt records: password-expired,
password-change-refused, success with password-changed).

pam_unix rewrites /etc/shadow through a temporary file renamed over it,
which neither the real /etc nor the suite's single bind-mounted files
allow: each server here runs in a mount namespace of its own, over which
a private copy of the whole /etc is bound, and chage runs there too.
The copy is what the test reads to see the password change.
"""

import grp
import json
import os
import re
import shutil
import subprocess

import pytest

import harness
from harness import HOST, PtyClient, WORK

NEW = "alice-Changed-7q"
OTHER = "alice-Other-9z"


def shadow_entry(etc, user="alice"):
    with open(os.path.join(etc, "shadow")) as f:
        for line in f:
            if line.startswith(user + ":"):
                return line.rstrip("\n").split(":")
    raise KeyError(user)


@pytest.fixture
def expired(server, request, sshand_build):
    """A server whose /etc is a private copy in which alice's password
    must be changed (chage -d 0); returns (server, that /etc).  On the
    ASan build too with SSHAND_ITEST_BUILDS=normal,asan."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[:60]
    etc = os.path.join(WORK, "etc-" + name)
    # The suite's namespace's /etc: its users, pam.d/sshand, the rest
    # of the host's; owners and modes kept (shadow: root:shadow 0640).
    subprocess.run(["cp", "-a", "/etc", etc], check=True)
    script = 'mount --bind "$0" /etc && chage -d 0 alice && exec "$@"'
    s = server(build=sshand_build,
               wrap=["unshare", "-m", "--propagation", "private",
                     "sh", "-ec", script, etc])
    assert shadow_entry(etc)[2] == "0", "chage -d 0 did not take"
    yield s, etc
    shutil.rmtree(etc, ignore_errors=True)


def client(s, *opts, user="alice", key=None):
    """ssh on a terminal, at its default log level (the server's messages
    before the prompts are shown at INFO); no keys but key: a person with
    a password."""
    argv = ["ssh", "-F", "/dev/null", "-p", str(s.port),
            "-o", "UserKnownHostsFile=" + s.known_hosts,
            "-o", "StrictHostKeyChecking=accept-new",
            "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "ConnectTimeout=15"]
    if key:
        argv += ["-o", "IdentitiesOnly=yes", "-i", s.keys.client(key)]
    else:
        argv += ["-o", "PubkeyAuthentication=no"]
    for o in opts:
        argv += ["-o", o]
    return PtyClient(argv + ["-tt", user + "@" + HOST])


def in_shell(c, s=None):
    """The session runs: a command's output comes back, and exit ends it.
    With the server s: no root process of it kept the group it joined to
    write /etc/shadow (pam.c)."""
    c.expect("PROMPT> ", 20)
    c.send("echo in-$((6*7))\r")
    c.expect(r"in-42")
    if s is not None:
        shadow = grp.getgrnam("shadow").gr_gid
        for pid in s.tree():
            st = harness.proc_status(pid)
            if st and st["Uid"].split()[0] == "0":
                assert str(shadow) not in st["Groups"].split(), (pid, st)
    c.send("exit\r")
    assert c.wait(15) == 0


def attempts(s):
    return [(r.get("SSHAND_AUTH_METHOD"), r.get("SSHAND_AUTH_RESULT"),
             r.get("SSHAND_REASON"))
            for r in s.audit_records("auth-attempt")]


def logs_in(s, pw, method):
    r = subprocess.run(s.password_argv("alice", pw, "echo in-$((6*7))", method),
                       capture_output=True, text=True, timeout=60,
                       env=harness.client_env())
    return r.returncode == 0 and r.stdout == "in-42\n"


def assert_changed(s, etc, before, new=NEW):
    after = shadow_entry(etc)
    assert after[1] != before[1], "the hash did not change"
    assert after[2] != "0", "still marked for change"
    # pam_unix gave the new file the old one's owner, group and mode
    # (root:shadow 0640, as cp -a copied them).
    st, orig = os.stat(os.path.join(etc, "shadow")), os.stat("/etc/shadow")
    assert (st.st_uid, st.st_gid, st.st_mode) == \
        (orig.st_uid, orig.st_gid, orig.st_mode)
    old = harness.password("alice")
    for method in ("password", "keyboard-interactive"):
        assert logs_in(s, new, method), "the new password does not log in"
        assert not logs_in(s, old, method), "the old password still logs in"


def test_kbdint_change_with_client_defaults(expired):
    s, etc = expired
    before = shadow_entry(etc)
    old = harness.password("alice")
    c = client(s)
    try:
        c.expect(r"\) Password: ")
        c.send(old + "\r")
        c.expect(r"You are required to change your password immediately")
        c.expect(r"\) Current password: ")
        c.send(old + "\r")
        c.expect(r"\) New password: ")
        c.send(NEW + "\r")
        c.expect(r"\) Retype new password: ")
        c.send(NEW + "\r")
        in_shell(c, s)
    finally:
        c.close()
    assert ("keyboard-interactive", "success", "password-changed") in attempts(s)
    starts = s.audit_records("session-start")
    assert starts, "no session-start record"
    assert_changed(s, etc, before)


def test_key_login_goes_on_to_the_change(expired):
    """An authorized key of an account whose password must change is
    refused (PAM's account check, as for a key login sshd makes), and
    the client goes on to keyboard-interactive, where the change is
    made.  sshd would let the key in and run passwd in the session."""
    s, etc = expired
    before = shadow_entry(etc)
    old = harness.password("alice")
    c = client(s, key="alice_ed25519")
    try:
        c.expect(r"\) Password: ")
        c.send(old + "\r")
        c.expect(r"\) Current password: ")
        c.send(old + "\r")
        c.expect(r"\) New password: ")
        c.send(NEW + "\r")
        c.expect(r"\) Retype new password: ")
        c.send(NEW + "\r")
        in_shell(c)
    finally:
        c.close()
    a = attempts(s)
    assert a.index(("publickey", "failure", "password-expired")) < \
        a.index(("keyboard-interactive", "success", "password-changed")), a
    assert_changed(s, etc, before)
    # With the password changed, the key logs in again.
    r = s.ssh("alice", "echo in-$((6*7))")
    assert (r.returncode, r.stdout) == (0, "in-42\n"), r.stderr


def test_password_method_change_request(expired):
    """PreferredAuthentications=password: the server answers the right,
    expired password with a change request; a new password PAM refuses
    (the old one again) is asked for again, and the next is taken."""
    s, etc = expired
    before = shadow_entry(etc)
    old = harness.password("alice")
    who = r"alice@%s's" % re.escape(HOST)
    c = client(s, "PreferredAuthentications=password")
    try:
        c.expect(who + r" password: ")
        c.send(old + "\r")
        c.expect(r"You are required to change your password immediately")
        # First try: the old password as the new one, which pam_unix
        # refuses ("Password unchanged"): asked again.
        c.expect(r"Enter " + who + r" old password: ")
        c.send(old + "\r")
        c.expect(r"Enter " + who + r" new password: ")
        c.send(old + "\r")
        c.expect(r"Retype " + who + r" new password: ")
        c.send(old + "\r")
        c.expect(r"password has not been changed")
        c.expect(r"Enter " + who + r" old password: ")
        c.send(old + "\r")
        c.expect(r"Enter " + who + r" new password: ")
        c.send(NEW + "\r")
        c.expect(r"Retype " + who + r" new password: ")
        c.send(NEW + "\r")
        in_shell(c)
    finally:
        c.close()
    a = attempts(s)
    first = a.index(("password", "failure", "password-expired"))
    refused = a.index(("password", "failure", "password-change-refused"))
    changed = a.index(("password", "success", "password-changed"))
    assert first < refused < changed, a
    assert_changed(s, etc, before)


def test_refused_change_leaves_user_out(expired):
    """Mismatched new passwords: PAM refuses the change, the client is
    told why and is not logged in, the password is as it was, and the
    refusal is audited, not counted against the source."""
    s, etc = expired
    before = shadow_entry(etc)
    old = harness.password("alice")
    c = client(s, "NumberOfPasswordPrompts=1",
               "PreferredAuthentications=keyboard-interactive")
    try:
        c.expect(r"\) Password: ")
        c.send(old + "\r")
        c.expect(r"\) Current password: ")
        c.send(old + "\r")
        c.expect(r"\) New password: ")
        c.send(NEW + "\r")
        c.expect(r"\) Retype new password: ")
        c.send(OTHER + "\r")
        c.expect(r"passwords do not match")
        c.expect(r"Permission denied")
        assert c.wait(15) == 255
    finally:
        c.close()
    assert s.wait_idle(15)
    assert shadow_entry(etc) == before, "the shadow entry changed"
    a = attempts(s)
    assert ("keyboard-interactive", "failure", "password-change-refused") in a, a
    assert not s.audit_records("session-start")
    # The password was right: no failure reached the ban file.
    r = subprocess.run([os.path.join(harness.BUILD, "sshandctl"), "-f", s.conf,
                        "--json", "bans", "show", HOST],
                       capture_output=True, text=True, timeout=30)
    doc = json.loads(r.stdout)
    assert doc.get("found") is False or doc.get("failure_units", 0) == 0, doc
    # Still expired: the old password is right, and asks for a change.
    assert not logs_in(s, old, "password")
    assert attempts(s)[-1] == ("password", "failure", "password-expired")


@pytest.mark.parametrize("ki", [True, False], ids=["kbdint", "password"])
def test_plink(expired, tmp_path, ki):
    """PuTTY: keyboard-interactive (its default), or with it turned off
    in a saved session, the password change request ("Server requested
    password change"), whose blank current password means the one just
    typed."""
    s, etc = expired
    before = shadow_entry(etc)
    old = harness.password("alice")
    home = tmp_path / "home"
    (home / ".putty" / "sessions").mkdir(parents=True)
    (home / ".putty" / "sessions" / "t").write_text(
        "AuthKI=%d\nAuthTIS=0\n" % ki)
    argv = ["plink", "-load", "t", "-ssh", "-P", str(s.port), "-noagent", "-t"]
    for fp in s.host_fingerprints("sha256"):
        argv += ["-hostkey", fp]
    c = PtyClient(argv + ["alice@" + HOST],
                  env=harness.client_env({"HOME": str(home)}))
    try:
        if ki:
            c.expect(r"\| Password: ")
            c.send(old + "\r")
            c.expect(r"You are required to change your password immediately")
            c.expect(r"\| Current password: ")
            c.send(old + "\r")
            c.expect(r"\| New password: ")
            c.send(NEW + "\r")
            c.expect(r"\| Retype new password: ")
            c.send(NEW + "\r")
        else:
            c.expect(r"alice@%s's password: " % re.escape(HOST))
            c.send(old + "\r")
            c.expect(r"Server requested password change")
            c.expect(r"You are required to change your password immediately")
            c.expect(r"Current password \(blank for previously entered password\): ")
            c.send("\r")
            c.expect(r"Enter new password: ")
            c.send(NEW + "\r")
            c.expect(r"Confirm new password: ")
            c.send(NEW + "\r")
        # PuTTY's guard against a server faking its own prompts.
        c.expect(r"Press Return to begin session")
        c.send("\r")
        in_shell(c)
    finally:
        c.close()
    method = "keyboard-interactive" if ki else "password"
    assert (method, "success", "password-changed") in attempts(s)
    assert_changed(s, etc, before)
