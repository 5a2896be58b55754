"""Algorithm lists (issue 15): -t refuses names nobody knows at their line,
drops names only OpenSSH implements with a notice, reads sshd's +/-/^
syntax; PubkeyAcceptedAlgorithms is the monitor's to enforce, and refuses
SHA-1 RSA signatures (ssh-rsa) unless configured, as OpenSSH 8.8+ does."""

import os
import subprocess

import pytest

import harness
from harness import BUILD


def check(conf):
    return subprocess.run([os.path.join(BUILD, "sshand"), "-t", "-f", str(conf)],
                          capture_output=True, text=True)


@pytest.mark.parametrize("line,want", [
    ("Ciphers bogus", 'unknown algorithm "bogus" for "Ciphers"'),
    ("MACs hmac-sha2-256,hmac-sha2-25", 'unknown algorithm "hmac-sha2-25" for "MACs"'),
    ("KexAlgorithms +curve25519-sha265", 'unknown algorithm "curve25519-sha265"'),
    ("HostKeyAlgorithms ssh-ed25519,ssh-ed448", 'unknown algorithm "ssh-ed448"'),
    ("PubkeyAcceptedAlgorithms ^rsa-sha2-1024", 'unknown algorithm "rsa-sha2-1024"'),
    ("MACs umac-128-etm@openssh.com", 'no algorithm left for "MACs"'),
])
def test_unknown_algorithm_refused_with_line(tmp_path, line, want):
    conf = tmp_path / "sshand.conf"
    conf.write_text("LogLevel INFO\n# a comment\n%s\n" % line)
    r = check(conf)
    assert r.returncode == 1, r.stderr
    assert "%s:3: %s" % (conf, want) in r.stderr, r.stderr


def test_openssh_only_names_dropped_with_notice(server):
    """A hardened sshd_config's lists load: what libssh 0.10 lacks is left
    out with one line each, and clients still connect with what is left."""
    s = server("KexAlgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256\n"
               "MACs umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,"
               "umac-64@openssh.com,hmac-sha1-96\n"
               "Ciphers ^aes128-ctr\n")
    r = check(s.conf)
    assert r.returncode == 0, r.stderr
    notes = [l for l in r.stderr.splitlines() if "left out" in l]
    assert len(notes) == 2, r.stderr
    assert "KexAlgorithms: not supported by this server (libssh 0.10), left out: " \
        "sntrup761x25519-sha512@openssh.com" in notes[0], notes
    assert "MACs" in notes[1] and "umac-128-etm@openssh.com,umac-64@openssh.com," \
        "hmac-sha1-96" in notes[1], notes
    r = s.ssh("alice", "echo in", flags=["-v"])
    assert r.returncode == 0 and r.stdout == "in\n", r.stderr[-2000:]
    assert "kex: algorithm: curve25519-sha256" in r.stderr, r.stderr[-2000:]
    assert "MAC: hmac-sha2-256-etm@openssh.com" in r.stderr or \
        "cipher: chacha20-poly1305" in r.stderr or "cipher: aes" in r.stderr
    # '^': the client's preference loses to the server's first name only
    # for the client's own order; here the client offers aes128-ctr alone.
    r = s.ssh("alice", "echo in", opts=["Ciphers=aes128-ctr"])
    assert r.returncode == 0, r.stderr
    # -T prints the lists expanded.
    t = subprocess.run([os.path.join(BUILD, "sshand"), "-T", "-f", s.conf],
                       capture_output=True, text=True)
    assert "kexalgorithms curve25519-sha256\n" in t.stdout, t.stdout
    assert "macs hmac-sha2-256-etm@openssh.com\n" in t.stdout, t.stdout
    assert "ciphers aes128-ctr,chacha20-poly1305@openssh.com," in t.stdout, t.stdout


def rsa_login(s, user="alice", alg="ssh-rsa"):
    return s.ssh(user, "echo in", key="alice_rsa", opts=["PubkeyAcceptedAlgorithms=" + alg])


def test_ssh_rsa_refused_by_default(server, keys):
    harness.write_authorized_keys("alice", [keys.pub("alice_rsa")])
    s = server()
    r = rsa_login(s)
    assert r.returncode == 255 and "in" not in r.stdout, r.stderr
    # The same key with SHA-2 signatures is welcome.
    r = rsa_login(s, alg="rsa-sha2-512")
    assert r.returncode == 0 and r.stdout == "in\n", r.stderr


def test_ssh_rsa_accepted_when_configured(server, keys):
    harness.write_authorized_keys("alice", [keys.pub("alice_rsa")])
    s = server("PubkeyAcceptedAlgorithms +ssh-rsa\n")
    r = rsa_login(s)
    assert r.returncode == 0 and r.stdout == "in\n", r.stderr


def test_monitor_enforces_each_users_list(server, keys):
    """Match may allow ssh-rsa for one user: libssh is then told ssh-rsa
    may be accepted (so it hands such a request on), and the monitor, which
    knows the user, refuses it for everyone else."""
    harness.write_authorized_keys("alice", [keys.pub("alice_rsa")])
    harness.write_authorized_keys("bob", [keys.pub("alice_rsa")])
    s = server("Match User bob\n\tPubkeyAcceptedAlgorithms +ssh-rsa\n")
    r = rsa_login(s, user="bob")
    assert r.returncode == 0 and r.stdout == "in\n", r.stderr
    r = rsa_login(s, user="alice")
    assert r.returncode == 255 and "in" not in r.stdout, r.stderr
    assert harness.wait_for(lambda: "signature algorithm not in PubkeyAcceptedAlgorithms"
                            in s.log(), 10), s.log()[-3000:]
    # A list without any RSA algorithm refuses the RSA key (at the probe
    # already: tests/unit/test_sigcheck.c), and still takes Ed25519.
    s2 = server("PubkeyAcceptedAlgorithms ssh-ed25519\n")
    r = rsa_login(s2, alg="rsa-sha2-512")
    assert r.returncode == 255 and "in" not in r.stdout, r.stderr
    harness.write_authorized_keys("alice", [keys.pub("alice_ed25519")])
    r = s2.ssh("alice", "echo in")
    assert r.returncode == 0 and r.stdout == "in\n", r.stderr
