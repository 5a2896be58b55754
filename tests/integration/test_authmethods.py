"""Issue 18: AuthenticationMethods with partial success, with the real
OpenSSH client.

publickey,password: the key alone is not enough (the server answers
partial success and the client goes on to the password; in BatchMode it
has none and fails), the password alone is not allowed, key then password
logs in.  publickey,keyboard-interactive with a real second factor: a
one-time password from pam_oath (libpam-oath), computed with oathtool;
a wrong code fails; Match User requires it of one user only.  The audit
trail holds each method's attempt, the partial one marked."""

import os
import re
import subprocess

import pytest

import harness
from harness import HOST, WORK, client_env, password

DENIED = re.compile(r"Permission denied \(([^)]*)\)")
# RFC 4226's test secret, as pam_oath's users file wants it (hex).
SECRET = "3132333435363738393031323334353637383930"


def attempts(s, user):
    return [(r["SSHAND_AUTH_METHOD"], r["SSHAND_AUTH_RESULT"])
            for r in s.audit_records("auth-attempt")
            if r.get("SSHAND_USER") == user]


def denied_list(r):
    assert r.returncode == 255, "exit %d\nstdout: %s\nstderr: %s" % (
        r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    m = DENIED.search(r.stderr)
    assert m, "no 'Permission denied' in: %r" % r.stderr
    return m.group(1)


def two_factor_argv(s, user, key, secret, second, cmd="echo in-$USER"):
    """ssh with a key and then a second method whose one prompt sshpass
    answers with secret (it matches "assword", which both pam_unix's and
    pam_oath's prompts contain)."""
    argv = ["sshpass", "-p", secret] + s.ssh_common() + [
        "-o", "IdentitiesOnly=yes", "-i", s.keys.client(key),
        "-o", "PreferredAuthentications=publickey," + second,
        "-o", "BatchMode=no", "-o", "NumberOfPasswordPrompts=1"]
    if second == "keyboard-interactive":
        argv += ["-o", "KbdInteractiveAuthentication=yes",
                 "-o", "PasswordAuthentication=no"]
    return argv + ["%s@%s" % (user, HOST), "--", cmd]


def run(argv):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60,
                          env=client_env())


def test_key_then_password(server, sshand_build):
    s = server("AuthenticationMethods publickey,password\n", build=sshand_build)
    # The key alone: partial success, then the client has no password
    # to give in BatchMode.
    r = s.ssh("alice", "true")
    assert denied_list(r) == "password"
    # The password alone: not a method that may come first.
    r = s.ssh_password("alice", cmd="true")
    assert denied_list(r) == "publickey"
    # Both, in order.
    r = run(two_factor_argv(s, "alice", "alice_ed25519", password("alice"),
                            "password"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "in-alice"
    # The key, then a wrong password.
    r = run(two_factor_argv(s, "alice", "alice_ed25519", "not-the-password",
                            "password"))
    assert r.returncode != 0 and "in-alice" not in r.stdout
    # Another user's key does not start alice's login.
    r = run(two_factor_argv(s, "alice", "bob_ed25519", password("alice"),
                            "password"))
    assert r.returncode != 0 and "in-alice" not in r.stdout
    s.wait_idle()
    got = attempts(s, "alice")
    # Each method's record: the key's marked partial, the login's
    # success the password's, as today.
    assert ("publickey", "partial") in got
    assert ("password", "success") in got
    assert ("password", "failure") in got
    assert got.count(("password", "success")) == 1
    assert not any(m == "publickey" and res == "success" for m, res in got)
    assert "Partial publickey for alice" in s.log()


def test_sshd_config_refusals(server, tmp_path):
    """At load: a list no login could complete, and unknown methods, are
    refused with file:line, as sshd refuses to start."""
    conf = tmp_path / "c.conf"
    for text, want in [
        ("PasswordAuthentication no\nAuthenticationMethods publickey,password\n",
         ":2: AuthenticationMethods cannot be satisfied"),
        ("AuthenticationMethods publickey,otp\n",
         ":1: bad list \"publickey,otp\""),
        ("AuthenticationMethods publickey,keyboard-interactive:bsdauth\n",
         ":1: bad list"),
    ]:
        conf.write_text(text)
        r = subprocess.run([os.path.join(harness.BUILD, "sshand"), "-t", "-f",
                            str(conf)], capture_output=True, text=True)
        assert r.returncode != 0 and want in r.stderr, (text, r.stderr)
    conf.write_text("AuthenticationMethods publickey,password "
                    "publickey,keyboard-interactive\n"
                    "Match User bob\n\tAuthenticationMethods any\n")
    r = subprocess.run([os.path.join(harness.BUILD, "sshand"), "-T", "-f",
                        str(conf)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert ("authenticationmethods publickey,password "
            "publickey,keyboard-interactive\n") in r.stdout


# ---- a one-time password as the second factor --------------------------------

@pytest.fixture
def oath(server, request, sshand_build):
    """A server whose PAM stack asks pam_oath for a time-based code
    (TOTP, RFC 6238) instead of the password: the stack is bind-mounted
    over /etc/pam.d/sshand in the server's own mount namespace."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[:60]
    d = os.path.join(WORK, "oath-" + name)
    os.makedirs(d, mode=0o700)
    users = os.path.join(d, "users.oath")
    with open(users, "w") as f:
        for u in ("alice", "bob"):
            f.write("HOTP/T30/6 %s - %s\n" % (u, SECRET))
    os.chmod(users, 0o600)
    stack = os.path.join(d, "pam.sshand")
    with open(stack, "w") as f:
        f.write("auth     required pam_oath.so usersfile=%s window=2 digits=6\n"
                "account  required pam_unix.so\n"
                "session  optional pam_keyinit.so force revoke\n"
                "session  required pam_unix.so\n"
                "password required pam_unix.so\n" % users)
    os.chmod(stack, 0o644)
    script = 'mount --bind "$0" /etc/pam.d/sshand && exec "$@"'
    s = server("Match User bob\n"
               "\tAuthenticationMethods publickey,keyboard-interactive\n",
               build=sshand_build, wrap=["unshare", "-m", "--propagation", "private",
                     "sh", "-ec", script, stack])
    return s


def code(offset=0):
    r = subprocess.run(["oathtool", "--totp", "-d", "6", "-N",
                        "now %+d seconds" % (30 * offset), SECRET],
                       capture_output=True, text=True, check=True)
    return r.stdout.strip()


def test_key_then_otp(oath):
    s = oath
    # alice has no AuthenticationMethods: her key alone logs her in.
    r = s.ssh("alice", "echo in-$USER")
    assert r.returncode == 0 and r.stdout.strip() == "in-alice", r.stderr
    # bob's key alone: partial success, the code still wanted.
    r = s.ssh("bob", "true", key="bob_ed25519")
    assert denied_list(r) == "keyboard-interactive"
    # A wrong code (not one of the window around now).
    wrong = "%06d" % ((int(code()) + 500000) % 1000000)
    r = run(two_factor_argv(s, "bob", "bob_ed25519", wrong,
                            "keyboard-interactive"))
    assert r.returncode != 0 and "in-bob" not in r.stdout, r.stderr
    # The code without the key: keyboard-interactive may not come first.
    r = run(["sshpass", "-p", code()] + s.ssh_common() + [
        "-o", "PreferredAuthentications=keyboard-interactive",
        "-o", "PubkeyAuthentication=no", "-o", "BatchMode=no",
        "-o", "NumberOfPasswordPrompts=1", "bob@" + HOST, "--", "true"])
    assert r.returncode != 0
    # The key and the right code.
    r = run(two_factor_argv(s, "bob", "bob_ed25519", code(),
                            "keyboard-interactive"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "in-bob"
    s.wait_idle()
    got = attempts(s, "bob")
    assert ("publickey", "partial") in got
    assert ("keyboard-interactive", "failure") in got
    assert got.count(("keyboard-interactive", "success")) == 1
    assert ("publickey", "success") in attempts(s, "alice")


# ---- what the OpenSSH client never does: paramiko -----------------------------

def paramiko_transport(s):
    import paramiko
    import socket
    sock = socket.create_connection((HOST, s.port), timeout=15)
    t = paramiko.Transport(sock)
    t.start_client(timeout=15)
    return t


def refused(fn, *args):
    import paramiko
    try:
        fn(*args)
    except paramiko.AuthenticationException:
        return True
    return False


def test_user_change_and_key_reuse(server, keys):
    """A partial success counts for its user only: a change of name
    starts again (for both names).  A key counts once: publickey,publickey
    needs a second key."""
    import paramiko
    harness.write_authorized_keys("alice", [keys.pub("alice_ed25519"),
                                            keys.pub("alice_rsa")])
    s = server("AuthenticationMethods publickey,password publickey,publickey\n")
    ed = paramiko.Ed25519Key(filename=keys.client("alice_ed25519"))
    rsa = paramiko.RSAKey(filename=keys.client("alice_rsa"))

    t = paramiko_transport(s)
    try:
        rest = t.auth_publickey("alice", ed)
        assert sorted(rest) == ["password", "publickey"], rest
        assert not t.is_authenticated()
        # bob's password, as if the key had been his: not a method that
        # may come first.
        assert refused(t.auth_password, "bob", password("bob"))
        # Back to alice: her key's success was forgotten at the change.
        assert refused(t.auth_password, "alice", password("alice"))
        assert not t.is_authenticated()
    finally:
        t.close()

    t = paramiko_transport(s)
    try:
        assert sorted(t.auth_publickey("alice", ed)) == ["password", "publickey"]
        # The same key again does not complete publickey,publickey.
        assert refused(t.auth_publickey, "alice", ed)
        assert not t.is_authenticated()
        # A second key does.
        assert t.auth_publickey("alice", rsa) == []
        assert t.is_authenticated()
    finally:
        t.close()
    s.wait_idle()
    reasons = [r.get("SSHAND_REASON") for r in s.audit_records("auth-attempt")
               if r.get("SSHAND_AUTH_RESULT") == "failure"]
    assert "key-reused" in reasons
    assert "method-not-allowed" in reasons
    assert "user name changed from alice to bob" in s.log()
