"""Issue 2: socket activation, authentication and commands, shown with the
real OpenSSH client (and sshpass for passwords) against sshand started by
systemd-socket-activate in Accept=yes and inetd modes."""

import os
import re
import socket
import time

import pytest

import harness
from harness import BUILD, HOST, WORK, run

MODES = ["accept", "inetd"]
DENIED = re.compile(r"Permission denied \(([^)]*)\)")


def ok(r):
    assert r.returncode == 0, "exit %d\nstdout: %s\nstderr: %s" % (
        r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    return r


def denied(r):
    """The client was refused the way OpenSSH refuses: exit 255 and
    "Permission denied (methods)".  Returns the methods."""
    assert r.returncode == 255, "exit %d\nstdout: %s\nstderr: %s" % (
        r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    m = DENIED.search(r.stderr)
    assert m, "no 'Permission denied' in: %r" % r.stderr
    assert r.stdout == ""
    return m.group(1)


def finished(srv, timeout=15):
    assert srv.wait_idle(timeout), "connection still served"
    return srv.exit_codes()


@pytest.fixture(scope="module")
def file10m():
    return harness.make_random_file(os.path.join(WORK, "random10m"), 10 << 20)


# ---- logins ----------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("key", ["alice_ed25519", "alice_ecdsa", "alice_rsa"])
def test_key_login(server, keys, sshand_build, mode, key):
    harness.write_authorized_keys("alice", ["# a comment", "", keys.pub(key)])
    s = server(mode=mode, build=sshand_build)
    r = ok(s.ssh("alice", "id -un; id -u; id -g", key=key))
    assert r.stdout.split() == ["alice", str(harness.ALICE), str(harness.ALICE)]
    assert finished(s) == [0]


@pytest.mark.parametrize("alg", ["rsa-sha2-256", "rsa-sha2-512"])
def test_rsa_sha2_signatures(server, keys, alg):
    harness.write_authorized_keys("alice", [keys.pub("alice_rsa")])
    s = server()
    r = ok(s.ssh("alice", "echo rsa-ok", key="alice_rsa",
                 opts=["PubkeyAcceptedAlgorithms=" + alg]))
    assert r.stdout == "rsa-ok\n"


def test_key_not_authorized_refused(server):
    s = server()
    denied(s.ssh("alice", "true", key="stranger1"))
    assert finished(s) == [4]


@pytest.mark.parametrize("mode", MODES)
def test_password_login(server, sshand_build, mode):
    s = server("KbdInteractiveAuthentication no", mode=mode, build=sshand_build)
    r = ok(s.ssh_password("alice", cmd="id -un"))
    assert r.stdout == "alice\n"
    assert finished(s) == [0]


def test_keyboard_interactive_login(server):
    # Password authentication off, so only keyboard-interactive can succeed.
    s = server("PasswordAuthentication no")
    r = ok(s.ssh_kbdint("alice", cmd="id -un"))
    assert r.stdout == "alice\n"
    denied(s.ssh_password("alice", cmd="id -un"))


def test_keyboard_interactive_wrong_password(server):
    s = server()
    denied(s.ssh_kbdint("alice", pw="not-the-password"))


REFUSALS = {
    # case: (user, password or None for the user's own)
    "wrong-password": ("alice", "not-the-password"),
    "unknown-user": ("nosuchuser", "whatever-1"),
    "wrong-case": ("Alice", None),
    "root-right-password": ("root", None),
    "locked": ("locked", None),
    "expired": ("expired", None),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_password_refused(server, case):
    user, pw = REFUSALS[case]
    if pw is None:
        pw = harness.password(user.lower())
    s = server()
    methods = denied(s.ssh_password(user, pw=pw, cmd="id"))
    # No user enumeration: the refusal reads exactly like a wrong password
    # for an existing user.
    ref = denied(s.ssh_password("alice", pw="not-the-password", cmd="id"))
    assert methods == ref
    assert finished(s) == [4, 4]
    assert not harness.user_procs_left()


def test_root_refused_even_with_prohibit_password(server):
    s = server("PermitRootLogin prohibit-password")
    denied(s.ssh_password("root", cmd="id -u"))


def test_root_allowed_when_permitted(server):
    # The control for the refusals: the fixture's root password is right.
    s = server("PermitRootLogin yes")
    r = ok(s.ssh_password("root", cmd="id -u"))
    assert r.stdout == "0\n"


@pytest.mark.parametrize("user,key", [("nosuchuser", "alice_ed25519"),
                                      ("Alice", "alice_ed25519")])
def test_key_refused_for_other_names(server, user, key):
    s = server()
    m1 = denied(s.ssh(user, "id", key=key))
    m2 = denied(s.ssh("alice", "id", key="stranger1"))
    assert m1 == m2


def test_expired_account_refused_with_key(server):
    # Account checks apply to every method, not only to passwords.
    s = server()
    denied(s.ssh("expired", "id", key="expired_ed25519"))


def test_max_auth_tries_ends_connection(server):
    # Three keys the server does not know, then the right one.
    keys = ["stranger1", "stranger2", "stranger3", "alice_ed25519"]
    strict = server("MaxAuthTries 2")
    r = strict.ssh("alice", "echo in", key=keys)
    assert r.returncode == 255, (r.stdout, r.stderr)
    assert "in" not in r.stdout
    assert finished(strict) == [4]
    # The same client gets in when the limit is not reached.
    lax = server("MaxAuthTries 6")
    r = ok(lax.ssh("alice", "echo in", key=keys))
    assert r.stdout == "in\n"


def test_login_grace_time(server):
    s = server("LoginGraceTime 2")
    t0 = time.monotonic()
    with socket.create_connection((HOST, s.port), timeout=20) as c:
        banner = c.recv(256)
        assert banner.startswith(b"SSH-2.0-"), banner
        c.sendall(b"SSH-2.0-OpenSSH_9.2 grace-test\r\n")
        while True:
            try:
                data = c.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
    elapsed = time.monotonic() - t0
    assert 1.5 <= elapsed <= 8, elapsed
    assert finished(s) == [4]


# ---- StrictModes --------------------------------------------------------------

def _make_bad(kind):
    uid, gid, home = harness.USERS["alice"]
    if kind == "ssh-dir-group-writable":
        os.chmod(home + "/.ssh", 0o775)
        return home + "/.ssh"
    if kind == "file-world-writable":
        os.chmod(home + "/.ssh/authorized_keys", 0o606)
        return home + "/.ssh/authorized_keys"
    if kind == "home-group-writable":
        os.chmod(home, 0o775)
        return home
    if kind == "file-owned-by-other":
        # Readable by alice, so only StrictModes can object to it.
        os.chown(home + "/.ssh/authorized_keys", harness.BOB, harness.BOB)
        os.chmod(home + "/.ssh/authorized_keys", 0o644)
        return home + "/.ssh/authorized_keys"
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["ssh-dir-group-writable", "file-world-writable",
                                  "home-group-writable", "file-owned-by-other"])
def test_strict_modes_refuses(server, kind):
    path = _make_bad(kind)
    s = server()
    denied(s.ssh("alice", "id"))
    finished(s)
    log = s.log()
    assert path in log, "StrictModes refusal without naming %s:\n%s" % (path, log[-3000:])
    # With StrictModes off the same files are accepted: the refusal was
    # StrictModes and nothing else.
    lax = server("StrictModes no")
    ok(lax.ssh("alice", "id"))


# ---- authorized_keys options ------------------------------------------------

@pytest.mark.parametrize("opt,allowed", [
    ('from="127.0.0.1"', True),
    ('from="127.0.0.0/8"', True),
    ('from="10.*"', False),
    ('from="!127.0.0.1,*"', False),
])
def test_from_option(server, keys, opt, allowed):
    harness.write_authorized_keys("alice", [opt + " " + keys.pub("alice_ed25519")])
    s = server()
    r = s.ssh("alice", "echo in")
    if allowed:
        assert ok(r).stdout == "in\n"
    else:
        denied(r)


def test_command_option_forced(server, keys):
    harness.write_authorized_keys(
        "alice", ['command="echo forced" ' + keys.pub("alice_ed25519")])
    s = server()
    assert ok(s.ssh("alice", "echo asked-for")).stdout == "forced\n"
    assert ok(s.ssh("alice", None, flags=["-T"])).stdout == "forced\n"


def test_command_option_original_command(server, keys):
    harness.write_authorized_keys(
        "alice", ['command="echo orig=$SSH_ORIGINAL_COMMAND" ' + keys.pub("alice_ed25519")])
    s = server()
    assert ok(s.ssh("alice", "ls -l /")).stdout == "orig=ls -l /\n"


@pytest.mark.parametrize("opt", ["no-pty", "restrict"])
def test_no_pty_option(server, keys, opt):
    harness.write_authorized_keys("alice", [opt + " " + keys.pub("alice_ed25519")])
    s = server()
    r = s.ssh("alice", "tty", flags=["-tt"])
    # sshd's behaviour: the pty request fails and ssh -tt gives up.
    assert "PTY allocation request failed" in r.stderr, (r.stdout, r.stderr)
    assert r.returncode == 255 and "/dev/pts" not in r.stdout
    r = s.ssh("alice", "tty")
    assert "not a tty" in r.stdout and r.returncode == 1, (r.stdout, r.stderr)
    # Without the option the same request gets a pty.
    harness.write_authorized_keys("alice", [keys.pub("alice_ed25519")])
    r = ok(s.ssh("alice", "tty", flags=["-tt"]))
    assert re.match(r"/dev/pts/\d+", r.stdout), r.stdout


@pytest.mark.parametrize("when,allowed", [("20200101", False), ("209912312359", True)])
def test_expiry_time_option(server, keys, when, allowed):
    harness.write_authorized_keys(
        "alice", ['expiry-time="%s" %s' % (when, keys.pub("alice_ed25519"))])
    s = server()
    r = s.ssh("alice", "echo in")
    if allowed:
        assert ok(r).stdout == "in\n"
    else:
        denied(r)


def test_environment_option_not_honoured_by_default(server, keys):
    harness.write_authorized_keys(
        "alice", ['environment="SSHAND_INJECTED=1" ' + keys.pub("alice_ed25519")])
    s = server()
    r = s.ssh("alice", "echo v=$SSHAND_INJECTED")
    assert "v=1" not in r.stdout


# ---- commands ---------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("code", [0, 3, 77])
def test_exit_status(server, sshand_build, mode, code):
    s = server(mode=mode, build=sshand_build)
    r = s.ssh("alice", "exit %d" % code)
    assert r.returncode == code, r.stderr


@pytest.mark.parametrize("mode", MODES)
def test_stderr_separate(server, mode):
    s = server(mode=mode)
    r = s.ssh("alice", "echo out; echo err >&2; echo out2")
    assert (r.returncode, r.stdout, r.stderr) == (0, "out\nout2\n", "err\n")


@pytest.mark.parametrize("mode", MODES)
def test_stdin_streaming(server, sshand_build, file10m, mode):
    s = server(mode=mode, build=sshand_build)
    with open(file10m, "rb") as f:
        r = s.ssh("alice", "sha256sum", input=f.read(), binary=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0].decode() == harness.sha256_file(file10m)


def test_eof_propagation(server, file10m):
    s = server()
    with open(file10m, "rb") as f:
        data = f.read()
    r = s.ssh("alice", "cat", input=data, binary=True, timeout=120)
    assert r.returncode == 0 and r.stdout == data
    # EOF reaches the command while the session goes on after it.
    r = s.ssh("alice", "cat; echo after-eof", input=b"abc\n", binary=True)
    assert r.returncode == 0 and r.stdout == b"abc\nafter-eof\n"
    # And the other way: the command's output ends and the client sees
    # EOF with every byte before it.
    r = s.ssh("alice", "head -c 3 /dev/zero | tr '\\0' x", binary=True)
    assert r.returncode == 0 and r.stdout == b"xxx"


def _env(out):
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def test_environment(server):
    s = server()
    r = ok(s.ssh("alice", "env", opts=["SendEnv=LANG LC_SSHANDTEST"],
                 env={"LANG": "en_DK.UTF-8", "LC_SSHANDTEST": "sent"}))
    env = _env(r.stdout)
    assert env["HOME"] == "/home/alice"
    assert env["USER"] == "alice"
    assert env["LOGNAME"] == "alice"
    assert env["SHELL"] == "/bin/bash"
    assert "/usr/bin" in env["PATH"].split(":")
    m = re.fullmatch(r"127\.0\.0\.1 (\d+) 127\.0\.0\.1 %d" % s.port, env["SSH_CONNECTION"])
    assert m, env["SSH_CONNECTION"]
    assert env["SSH_CLIENT"] == "127.0.0.1 %s %d" % (m.group(1), s.port)
    # Not accepted without AcceptEnv.
    assert env.get("LANG") != "en_DK.UTF-8"
    assert "LC_SSHANDTEST" not in env
    # Not a tty session.
    assert "SSH_TTY" not in env


def test_accept_env(server):
    s = server("AcceptEnv LANG")
    r = ok(s.ssh("alice", "env", opts=["SendEnv=LANG LC_SSHANDTEST"],
                 env={"LANG": "en_DK.UTF-8", "LC_SSHANDTEST": "sent"}))
    env = _env(r.stdout)
    assert env.get("LANG") == "en_DK.UTF-8"
    assert "LC_SSHANDTEST" not in env


def test_user_environment_after_drop(server):
    """The session runs as the user for good: ids, groups, no capabilities,
    no_new_privs (with NoNewPrivileges yes), not dumpable (from the
    session's own /proc view)."""
    s = server("NoNewPrivileges yes\n")
    r = ok(s.ssh("carol", "cat /proc/self/status; id -G", key="carol_ed25519"))
    st = dict(line.split(":", 1) for line in r.stdout.splitlines() if ":" in line)
    assert st["Uid"].split() == [str(harness.CAROL)] * 4
    assert st["Gid"].split() == [str(harness.CAROL)] * 4
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(st[cap].strip(), 16) == 0, (cap, st[cap])
    assert st["NoNewPrivs"].strip() == "1"
    groups = r.stdout.strip().splitlines()[-1].split()
    assert sorted(groups) == sorted([str(harness.CAROL), str(harness.SSHSTRICT_GID)])


# ---- configuration ------------------------------------------------------------

BAD_CONFIGS = [
    # (content, line of the error)
    ("LogLevel INFO\n# comment\nNoSuchKeyword yes\n", 3),
    ("\nPasswordAuthentication maybe\n", 2),
    ("LogLevel INFO\nMaxAuthTries banana\n", 2),
    ("LogLevel INFO\nMatch User bob\n\tHostKey /etc/ssh/x\n", 3),
    ("LoginGraceTime 1x\n", 1),
]


@pytest.mark.parametrize("content,line", BAD_CONFIGS)
def test_bad_config_refused_with_line(tmp_path, content, line):
    conf = tmp_path / "bad.conf"
    conf.write_text(content)
    r = run([os.path.join(BUILD, "sshand"), "-t", "-f", str(conf)])
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "%s:%d:" % (conf, line) in r.stderr, r.stderr


def test_good_config_accepted(server):
    s = server("MaxAuthTries 3\nMatch User bob\n\tPasswordAuthentication no\n")
    r = run([os.path.join(BUILD, "sshand"), "-t", "-f", s.conf])
    assert r.returncode == 0, r.stderr


def test_unreadable_config(tmp_path):
    r = run([os.path.join(BUILD, "sshand"), "-t", "-f", str(tmp_path / "missing.conf")])
    assert r.returncode == 1
    assert str(tmp_path / "missing.conf") in r.stderr


def test_server_with_bad_config_serves_nobody(server):
    s = server("NoSuchKeyword yes\n")
    r = s.ssh("alice", "echo in")
    assert r.returncode == 255 and "in" not in r.stdout
    assert finished(s) == [1]
    assert "%s:" % s.conf in s.log()


MATCH_CONF = """\
MaxAuthTries 6
Match Group sshstrict
\tPasswordAuthentication no
\tMaxAuthTries 2
Match Address 10.0.0.0/8
\tPermitTTY no
"""


def _dump(conf, spec):
    r = run([os.path.join(BUILD, "sshand"), "-f", conf, "-T", "-C", spec])
    assert r.returncode == 0, r.stderr
    return dict(line.split(None, 1) for line in r.stdout.splitlines() if " " in line)


def test_effective_settings_with_match(server):
    s = server(MATCH_CONF)
    carol = _dump(s.conf, "user=carol,addr=127.0.0.1")
    assert carol["passwordauthentication"] == "no"
    assert carol["maxauthtries"] == "2"
    assert carol["permittty"] == "yes"
    alice = _dump(s.conf, "user=alice,addr=10.1.2.3")
    assert alice["passwordauthentication"] == "yes"
    assert alice["maxauthtries"] == "6"
    assert alice["permittty"] == "no"
    # Keywords are lower case, sshd -T style.
    assert all(k == k.lower() for k in carol)


def test_match_group_applies_at_login(server):
    s = server(MATCH_CONF)
    denied(s.ssh_password("carol", cmd="id -un"))
    assert ok(s.ssh("carol", "id -un", key="carol_ed25519")).stdout == "carol\n"
    assert ok(s.ssh_password("alice", cmd="id -un")).stdout == "alice\n"


# ---- host keys ------------------------------------------------------------------

def test_fingerprints_match_ssh_keygen(server, keys):
    s = server()
    r = run([os.path.join(BUILD, "sshandctl"), "-f", s.conf, "fingerprints"])
    assert r.returncode == 0, r.stderr
    for alg, prefix in (("md5", "MD5:"), ("sha256", "SHA256:")):
        for fp in s.host_fingerprints(alg):
            assert fp.startswith(prefix)
            assert fp in r.stdout, "%s missing from:\n%s" % (fp, r.stdout)


def test_host_keys_seen_by_client(server, keys):
    s = server()
    r = run(["ssh-keyscan", "-T", "10", "-p", str(s.port), "-t", "ed25519,ecdsa,rsa", HOST])
    seen = set()
    for line in r.stdout.splitlines():
        if line.startswith("#"):
            continue
        _, typ, blob = line.split()[:3]
        seen.add((typ, blob))
    want = set()
    for p in keys.host_paths():
        with open(p + ".pub") as f:
            typ, blob = f.read().split()[:2]
            want.add((typ, blob))
    assert seen == want, r.stderr


def test_method_disabled_by_match_looks_like_a_wrong_password(server):
    """A Match block that turns keyboard-interactive off for some users must
    not tell them apart: they get the same prompt, the same refusal and at
    least the same failure delay as a wrong password or an unknown user."""
    s = server("Match User carol\n\tKbdInteractiveAuthentication no\n")
    results = {}
    for who, user, pw in (("disabled", "carol", harness.password("carol")),
                          ("wrong", "alice", "not-her-password"),
                          ("unknown", "nosuchuser", "whatever")):
        t0 = time.monotonic()
        r = s.ssh_kbdint(user, pw)
        results[who] = (r.returncode, r.stderr.replace(user, "USER"),
                        time.monotonic() - t0)
    codes = {k: v[0] for k, v in results.items()}
    errs = {k: v[1] for k, v in results.items()}
    assert len(set(codes.values())) == 1 and codes["wrong"] != 0, results
    assert len(set(errs.values())) == 1, results
    for who, (_, _, elapsed) in results.items():
        assert elapsed >= 0.25, (who, results)
    audit = open(s.audit_log).read()
    assert '"SSHAND_REASON":"method-disabled"' in audit
