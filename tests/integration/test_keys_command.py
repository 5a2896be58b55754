"""Issue 18: AuthorizedKeysCommand and AuthorizedKeysCommandUser.

A lookup script (root's, mode 0755, in root's directories, as sshd
requires) prints alice's key for alice and nothing for anyone else; it
runs as nobody.  alice logs in with her key although her authorized_keys
is empty, and the audit trail says where the key came from; a key option
in the script's output is honoured; the tokens reach the script expanded;
the probe and the signed request share one run; a key in the file is
found without running the command.  A script that hangs is killed at the
time limit and the client goes on to its password; one that others may
write is refused and logged; a command without a user to run it as is a
configuration error at its line."""

import os
import re
import shutil
import subprocess
import time

import pytest

import harness
from harness import BUILD, HOST, client_env, run

# A tmpfs of root's on /srv, in this run's mount namespace only: sshd's
# rule refuses a program in a directory others may write (all of /tmp).
BASE = "/srv"
BIN = os.path.join(BASE, "akc")
KEYS = os.path.join(BASE, "akc", "keys")
LOGDIR = os.path.join(BASE, "akc-log")		# nobody's: the script logs here
ARGS = os.path.join(LOGDIR, "args")

SCRIPT = """#!/bin/sh
# An AuthorizedKeysCommand as a hosting platform writes one: it logs how it
# was called, and prints the user's keys, if it knows the user.
echo "$(id -un) $*" >> %(args)s
case "$1" in
alice) cat %(keys)s/alice ;;
esac
exit 0
""" % {"args": ARGS, "keys": KEYS}


@pytest.fixture(scope="module", autouse=True)
def srv_tmpfs():
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", BASE],
                   check=True)
    yield
    subprocess.run(["umount", "-l", BASE], check=True)


@pytest.fixture
def lookup(keys):
    """The script and its data, fresh for each test; returns a helper to
    set what it prints for alice."""
    for d in (BIN, LOGDIR):
        shutil.rmtree(d, ignore_errors=True)
    os.makedirs(KEYS, mode=0o755)
    os.chmod(BIN, 0o755)
    os.chmod(KEYS, 0o755)
    os.makedirs(LOGDIR, mode=0o755)
    nobody = harness_uid("nobody")
    os.chown(LOGDIR, nobody, nobody)
    write(os.path.join(BIN, "lookup"), SCRIPT, 0o755)
    harness.write_authorized_keys("alice", [])

    def prints(*lines):
        write(os.path.join(KEYS, "alice"), "".join(l + "\n" for l in lines), 0o644)
    prints(keys.pub("alice_ed25519"))
    return prints


def harness_uid(name):
    import pwd
    return pwd.getpwnam(name).pw_uid


def write(path, text, mode):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def calls():
    try:
        with open(ARGS) as f:
            return [l.rstrip("\n") for l in f]
    except FileNotFoundError:
        return []


CONF = ("AuthorizedKeysCommand %s/lookup %%u %%U %%h %%t %%f %%k %%%%\n"
        "AuthorizedKeysCommandUser nobody\n" % BIN)


def attempts(s):
    return [(r["SSHAND_USER"], r["SSHAND_AUTH_METHOD"], r["SSHAND_AUTH_RESULT"],
             r.get("SSHAND_REASON")) for r in s.audit_records("auth-attempt")]


def ok(r):
    assert r.returncode == 0, "exit %d\nstdout: %s\nstderr: %s" % (
        r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    return r


def fingerprint(keys, name):
    r = run(["ssh-keygen", "-lf", keys.client(name) + ".pub"], check=True)
    return r.stdout.split()[1]


def test_key_from_command(server, keys, lookup, sshand_build):
    """alice's key comes from the command alone (her authorized_keys is
    empty); the run is nobody's, with the tokens expanded; the probe and
    the signed request share one run; the audit record says where the key
    came from."""
    s = server(CONF, build=sshand_build)
    r = ok(s.ssh("alice", "id -un"))
    assert r.stdout == "alice\n"
    blob = keys.pub("alice_ed25519").split()[1]
    want = "nobody alice %d /home/alice ssh-ed25519 %s %s %%" % (
        harness.ALICE, fingerprint(keys, "alice_ed25519"), blob)
    assert calls() == [want]
    assert ("alice", "publickey", "success", "authorized-keys-command") in attempts(s)
    rec = [r for r in s.audit_records() if r.get("SSHAND_REASON") == "authorized-keys-command"]
    assert len(rec) == 1
    assert rec[0]["SSHAND_KEY_FINGERPRINT"] == fingerprint(keys, "alice_ed25519")
    assert re.search(r"Accepted publickey for alice from .*: SHA256:\S+ "
                     r"\(authorized-keys-command\)", rec[0]["MESSAGE"]), rec[0]
    assert "found by AuthorizedKeysCommand, line 1" in s.log()
    # bob: the command knows no key of his, nor does his empty file.
    harness.write_authorized_keys("bob", [])
    r = s.ssh("bob", "true", key="bob_ed25519")
    assert r.returncode == 255 and "Permission denied" in r.stderr
    assert calls()[-1].startswith("nobody bob %d /home/bob ssh-ed25519 " % harness.BOB)
    # A key in the file is found there: the command is not run.
    harness.write_authorized_keys("alice", [keys.pub("alice_ed25519")])
    n = len(calls())
    ok(s.ssh("alice", "true"))
    assert len(calls()) == n
    assert attempts(s)[-1] == ("alice", "publickey", "success", None)


def test_key_options_honoured(server, keys, lookup):
    """An option of the command's line applies as a file's would."""
    lookup('command="echo forced" ' + keys.pub("alice_ed25519"))
    s = server(CONF)
    r = ok(s.ssh("alice", "id -un"))
    assert r.stdout == "forced\n"


def test_no_arguments_gives_the_user_name(server, keys, lookup):
    """sshd's convention: a command with no arguments gets the user's
    name."""
    s = server("AuthorizedKeysCommand %s/lookup\n"
               "AuthorizedKeysCommandUser nobody\n" % BIN)
    ok(s.ssh("alice", "true"))
    assert calls() == ["nobody alice"]


def test_hanging_command_is_cut(server, keys, lookup, sshand_build):
    """A lookup that never answers is killed at the time limit (10 s),
    with what it started, and the client goes on to its password; the
    command is not run again for the rest of the connection."""
    # A duration of this run's own, so that the check below sees only
    # what this lookup started (other suites may run on the machine).
    nap = "1000.%06d" % (os.getpid() % 1000000)
    write(os.path.join(BIN, "lookup"), "#!/bin/sh\necho \"$*\" >> %s\n"
          "sleep %s & sleep %s\n" % (ARGS, nap, nap), 0o755)
    s = server(CONF, build=sshand_build)
    argv = ["sshpass", "-p", harness.password("alice")] + s.ssh_common() + [
        "-o", "PreferredAuthentications=publickey,password",
        "-o", "IdentitiesOnly=yes", "-i", keys.client("alice_ed25519"),
        "-i", keys.client("alice_rsa"),
        "-o", "BatchMode=no", "-o", "NumberOfPasswordPrompts=1",
        "alice@%s" % HOST, "--", "id -un"]
    t0 = time.monotonic()
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                       env=client_env())
    took = time.monotonic() - t0
    ok(r)
    assert r.stdout == "alice\n"
    # One time limit, not one per key offered.
    assert 10 <= took < 17, took
    assert len(calls()) == 1
    assert re.search(r"AuthorizedKeysCommand \S+/lookup .*for alice: no answer "
                     r"within 10 s, killed: no key from it", s.log()), s.log()
    a = attempts(s)
    assert ("alice", "password", "success", None) in a
    assert any(x[1] == "publickey" and x[2] == "failure" for x in a), a
    # Nothing the lookup started is left.
    assert not run(["pgrep", "-u", "nobody", "-f", "sleep " + nap]).stdout


def test_unsafe_command_refused(server, keys, lookup, sshand_build):
    """A program others may change is never run: sshd's rule, logged."""
    os.chmod(os.path.join(BIN, "lookup"), 0o775)
    s = server(CONF, build=sshand_build)
    r = s.ssh("alice", "true")
    assert r.returncode == 255 and "Permission denied" in r.stderr
    assert calls() == []
    assert re.search(r"AuthorizedKeysCommand /srv/akc/lookup .* for alice: bad ownership or "
                     r"modes for file %s/lookup: no key from it" % BIN, s.log()), s.log()
    # Nor in a directory others may write.
    os.chmod(os.path.join(BIN, "lookup"), 0o755)
    os.chmod(BIN, 0o777)
    try:
        r = s.ssh("alice", "true")
        assert r.returncode == 255
        assert "bad ownership or modes for directory %s" % BIN in s.log()
        assert calls() == []
    finally:
        os.chmod(BIN, 0o755)
    ok(s.ssh("alice", "true"))


def test_command_without_user_is_a_config_error(tmp_path):
    """As sshd refuses to start: the line of the command is named."""
    conf = tmp_path / "sshand.conf"
    conf.write_text("PermitTTY yes\nAuthorizedKeysCommand /usr/bin/keys %u\n")
    r = run([os.path.join(BUILD, "sshand"), "-t", "-f", str(conf)])
    assert r.returncode == 1
    assert "%s:2: AuthorizedKeysCommand needs AuthorizedKeysCommandUser (the " \
        "user it runs as)" % conf in r.stderr, r.stderr
    conf.write_text("AuthorizedKeysCommand keys %u\nAuthorizedKeysCommandUser nobody\n")
    r = run([os.path.join(BUILD, "sshand"), "-t", "-f", str(conf)])
    assert r.returncode == 1
    assert "%s:1: AuthorizedKeysCommand \"keys %%u\": the command must be an " \
        "absolute path" % conf in r.stderr, r.stderr


def test_key_from_command_as_a_first_factor(server, keys, lookup):
    """Under AuthenticationMethods publickey,password the command's key
    is the first factor: the partial record says where it came from, and
    the password completes the login."""
    s = server(CONF + "AuthenticationMethods publickey,password\n")
    argv = ["sshpass", "-p", harness.password("alice")] + s.ssh_common() + [
        "-o", "PreferredAuthentications=publickey,password",
        "-o", "IdentitiesOnly=yes", "-i", keys.client("alice_ed25519"),
        "-o", "BatchMode=no", "-o", "NumberOfPasswordPrompts=1",
        "alice@%s" % HOST, "--", "id -un"]
    r = ok(subprocess.run(argv, capture_output=True, text=True, timeout=60,
                          env=client_env()))
    assert r.stdout == "alice\n"
    a = attempts(s)
    assert ("alice", "publickey", "partial", "authorized-keys-command") in a, a
    assert a[-1] == ("alice", "password", "success", None), a
    assert len(calls()) == 1
