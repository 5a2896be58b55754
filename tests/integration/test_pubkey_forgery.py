"""A forged publickey signature never logs in: the monitor checks user
signatures itself (issue 14; handler/monitor/sigcheck.c), so neither a
client that knows only a user's *public* key nor a network child that
says "valid" to everything gets past it.

The client is paramiko (Debian's python3-paramiko): a key object whose
blob is the authorized public key and whose signature is random bytes of
the right shape.  The network child taken over is an LD_PRELOAD shim
(tests/preload/fakeverify.c) whose EVP_DigestVerify says "valid" in the
process holding the TCP socket; it runs on the normal build only (a
preload and the sanitizer runtime do not mix).
"""

import base64
import os
import re
import socket

import paramiko
import pytest

import harness
from harness import BUILD, HOST

KEYS = {
    "ed25519": ("alice_ed25519", paramiko.Ed25519Key, "ED25519"),
    "ecdsa": ("alice_ecdsa", paramiko.ECDSAKey, "ECDSA"),
    "rsa": ("alice_rsa", paramiko.RSAKey, "RSA"),
}


def forged_signature(key, algorithm):
    """Random bytes shaped as a signature of key's type (so that libssh
    takes it apart and hands it on), in the SSH signature format."""
    m = paramiko.Message()
    m.add_string(algorithm)
    name = key.get_name()
    if name == "ssh-ed25519":
        m.add_string(os.urandom(64))
    elif name.startswith("ecdsa-"):
        inner = paramiko.Message()
        inner.add_mpint(int.from_bytes(os.urandom(32), "big") | 1)
        inner.add_mpint(int.from_bytes(os.urandom(32), "big") | 1)
        m.add_string(inner.asbytes())
    else:
        # As long as the modulus, and below it.
        m.add_string(b"\x00" + os.urandom((key.get_bits() + 7) // 8 - 1))
    return m


def forger(keys, name):
    """A paramiko key that has only the public half of the user's key and
    signs with garbage."""
    keyname, cls, _ = KEYS[name]
    blob = base64.b64decode(keys.pub(keyname).split()[1])

    class Forged(cls):
        def can_sign(self):
            return True

        def asbytes(self):
            return blob

        def sign_ssh_data(self, data, algorithm=None):
            return forged_signature(self, algorithm or self.get_name())

    return Forged(data=blob)


def try_login(srv, key, user="alice"):
    """Authenticates with key; returns True if the server let it in (and
    proves it by running a command)."""
    sock = socket.create_connection((HOST, srv.port), timeout=15)
    t = paramiko.Transport(sock)
    try:
        t.start_client(timeout=15)
        try:
            t.auth_publickey(user, key)
        except paramiko.AuthenticationException:
            return False
        if not t.is_authenticated():
            return False
        ch = t.open_session(timeout=15)
        ch.exec_command("echo logged-in-as-$(id -un)")
        out = b""
        while True:
            data = ch.recv(4096)
            if not data:
                break
            out += data
        assert out.strip() == ("logged-in-as-%s" % user).encode(), out
        return True
    finally:
        t.close()
        sock.close()


def publickey_failures(srv):
    return [r for r in srv.audit_records("auth-attempt")
            if r.get("SSHAND_AUTH_METHOD") == "publickey" and
            r.get("SSHAND_AUTH_RESULT") == "failure"]


def assert_monitor_refused(srv, label, why):
    """The log and the audit trail show that the forged request reached
    the monitor as a signed one and that the monitor refused it."""
    log = srv.log()
    assert re.search(r"publickey signature for alice refused by the monitor: %s"
                     % re.escape(why), log), log[-3000:]
    assert re.search(r"Failed publickey for alice from 127\.0\.0\.1 port \d+ ssh2: "
                     r"%s SHA256:[A-Za-z0-9+/]{43}" % label, log), log[-3000:]
    assert "Accepted publickey for alice" not in log
    fails = publickey_failures(srv)
    assert [r for r in fails if r.get("SSHAND_REASON") == "bad-signature" and
            r.get("SSHAND_USER") == "alice" and
            r.get("SSHAND_KEY_FINGERPRINT", "").startswith("SHA256:")], fails


@pytest.mark.parametrize("name", sorted(KEYS))
def test_forged_signature_refused_by_monitor(server, keys, sshand_build, name):
    keyname, _, label = KEYS[name]
    harness.write_authorized_keys("alice", [keys.pub(keyname)])
    srv = server(build=sshand_build)
    assert not try_login(srv, forger(keys, name))
    srv.wait_idle()
    assert_monitor_refused(srv, label, "signature does not verify")
    # The control: the same client with the real private key logs in.
    real = KEYS[name][1].from_private_key_file(keys.client(keyname))
    assert try_login(srv, real)
    srv.wait_idle()
    assert "Accepted publickey for alice" in srv.log()


def test_forged_signature_counts_as_a_failure(server, keys, sshand_build):
    """Each forged signature is a failed attempt: MaxAuthTries ends the
    connection, as wrong passwords do (libssh alone dropped bad signatures
    without a word to the monitor)."""
    srv = server("MaxAuthTries 2\n", build=sshand_build)
    sock = socket.create_connection((HOST, srv.port), timeout=15)
    t = paramiko.Transport(sock)
    try:
        t.start_client(timeout=15)
        key = forger(keys, "ed25519")
        with pytest.raises(paramiko.AuthenticationException):
            t.auth_publickey("alice", key)
        with pytest.raises((paramiko.AuthenticationException, paramiko.SSHException,
                            EOFError)):
            t.auth_publickey("alice", key)
        assert harness.wait_for(lambda: not t.is_active(), 10)
    finally:
        t.close()
        sock.close()
    srv.wait_idle()
    assert len([r for r in publickey_failures(srv)
                if r.get("SSHAND_REASON") == "bad-signature"]) == 2
    assert "maximum authentication attempts exceeded (2)" in srv.log()


def test_network_child_saying_valid_does_not_log_in(server, keys):
    """A network child taken over (the shim's EVP_DigestVerify says "valid"
    to libssh there) still cannot log in with a forged signature: libssh's
    word goes nowhere, and the monitor refuses what it got (here nothing,
    since the shim also bypasses sshand's own capture)."""
    shim = os.path.join(BUILD, "tests", "fakeverify.so")
    assert os.path.exists(shim), "build it: make test-bins"
    srv = server(env={"LD_PRELOAD": shim})
    assert not try_login(srv, forger(keys, "ed25519"))
    srv.wait_idle()
    log = srv.log()
    # The shim did act in the network child...
    assert "fakeverify: EVP_DigestVerify faked valid" in log, log[-3000:]
    # ...and the monitor, which the shim leaves alone, refused.
    assert_monitor_refused(srv, "ED25519", "signed data truncated or over its bounds")
    # The control: the server works with the shim in place (a password
    # still logs in).  A real key would not: the shim keeps sshand's
    # capture from seeing it, and the monitor fails closed.
    r = srv.ssh_password("alice", cmd="echo pw-ok")
    assert r.returncode == 0 and r.stdout.strip() == "pw-ok", r.stderr
