"""Issue 18: user certificates (TrustedUserCAKeys, AuthorizedPrincipalsFile,
AuthorizedPrincipalsCommand, cert-authority in authorized_keys), checked by
the monitor (issue 14), with real ssh-keygen CAs and the OpenSSH client.

The users' certified keys are fresh keys that no authorized_keys lists, so
that a refused certificate cannot log in through its plain key."""

import os
import re
import shutil
import subprocess

import pytest

import harness
from harness import BUILD, WORK, run

DIR = os.path.join(WORK, "certs")
BASE = "/srv"				# root's tmpfs: the principals command
PCMD = os.path.join(BASE, "apc")
CALLS = os.path.join(BASE, "apc-log", "calls")
# Refusals are many here: the ban file is not what is tested.
NOBAN = "BanMaxFailures 1000\n"


def keygen(path, t, *extra):
    if not os.path.exists(path):
        run(["ssh-keygen", "-q", "-t", t, *extra, "-N", "", "-C", "test",
             "-f", path], check=True)
    return path


@pytest.fixture(scope="module")
def pki():
    os.makedirs(DIR, mode=0o700, exist_ok=True)
    p = {
        "ca_ed25519": keygen(os.path.join(DIR, "ca_ed25519"), "ed25519"),
        "ca_rsa": keygen(os.path.join(DIR, "ca_rsa"), "rsa", "-b", "2048"),
        "ca_ecdsa": keygen(os.path.join(DIR, "ca_ecdsa"), "ecdsa", "-b", "256"),
        "ca_other": keygen(os.path.join(DIR, "ca_other"), "ed25519"),
        "u_ed25519": keygen(os.path.join(DIR, "u_ed25519"), "ed25519"),
        "u_rsa": keygen(os.path.join(DIR, "u_rsa"), "rsa", "-b", "2048"),
        "u_ecdsa": keygen(os.path.join(DIR, "u_ecdsa"), "ecdsa", "-b", "256"),
    }
    cas = os.path.join(DIR, "trusted_cas")
    with open(cas, "w") as f:
        for k in ("ca_ed25519", "ca_rsa", "ca_ecdsa"):
            f.write(pub(p[k]) + "\n")
    p["trusted"] = cas
    p["n"] = [0]
    return p


def pub(path):
    with open(path + ".pub") as f:
        return f.read().strip()


def sign(pki, ca="ca_ed25519", key="u_ed25519", ident="alice@example",
         principals="alice", serial=42, validity=None, opts=(), host=False,
         sigalg=None):
    """A fresh certificate of key (a copy of its .pub signed by ca)."""
    pki["n"][0] += 1
    base = os.path.join(DIR, "c%d" % pki["n"][0])
    shutil.copy(pki[key] + ".pub", base + ".pub")
    argv = ["ssh-keygen", "-q", "-s", pki[ca], "-I", ident, "-z", str(serial)]
    if principals:
        argv += ["-n", principals]
    if validity:
        argv += ["-V", validity]
    if host:
        argv.append("-h")
    if sigalg:
        argv += ["-t", sigalg]
    for o in opts:
        argv += ["-O", o]
    run(argv + [base + ".pub"], check=True)
    return base + "-cert.pub"


def login(s, pki, cert, key="u_ed25519", user="alice", cmd="id -un", flags=()):
    return s.ssh(user, cmd, key=pki[key], opts=["CertificateFile=" + cert],
                 flags=flags)


def ok(r):
    assert r.returncode == 0, "exit %d\nstdout: %s\nstderr: %s" % (
        r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    return r


def refused(s, r, why):
    assert r.returncode == 255 and "Permission denied" in r.stderr, r.stderr
    assert why in s.log(), s.log()[-3000:]


def refused_paramiko(s, pki, cert, why):
    import paramiko
    k = paramiko.Ed25519Key.from_private_key_file(pki["u_ed25519"])
    k.load_certificate(cert)
    t = paramiko.Transport(("127.0.0.1", s.port))
    try:
        t.connect()
        with pytest.raises(paramiko.AuthenticationException):
            t.auth_publickey("alice", k)
    finally:
        t.close()
    assert why in s.log(), s.log()[-3000:]


def fp(path):
    return run(["ssh-keygen", "-lf", path], check=True).stdout.split()[1]


@pytest.fixture
def srv_tmpfs():
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", BASE],
                   check=True)
    yield
    subprocess.run(["umount", "-l", BASE], check=True)


def test_trusted_ca_logins(server, pki, sshand_build):
    """Certificates of ed25519, rsa and ecdsa keys signed by CAs of each
    type log in; the log line and the audit record name the key id, the
    serial and the CA, as sshd's do."""
    s = server(NOBAN + "TrustedUserCAKeys %s\n" % pki["trusted"], build=sshand_build)
    for ca, key, label, calabel in (("ca_ed25519", "u_ed25519", "ED25519", "ED25519"),
                                    ("ca_rsa", "u_rsa", "RSA", "RSA"),
                                    ("ca_ecdsa", "u_ecdsa", "ECDSA", "ECDSA")):
        cert = sign(pki, ca=ca, key=key, ident="id-" + key, serial=7)
        r = ok(login(s, pki, cert, key=key))
        assert r.stdout == "alice\n"
        line = ("Accepted publickey for alice from 127.0.0.1 port \\d+ ssh2: "
                "%s-CERT %s ID id-%s \\(serial 7\\) CA %s %s" % (
                    label, re.escape(fp(pki[key] + ".pub")), key, calabel,
                    re.escape(fp(pki[ca] + ".pub"))))
        assert re.search(line, s.log()), s.log()[-2000:]
    rec = [a for a in s.audit_records("auth-attempt")
           if a.get("SSHAND_AUTH_RESULT") == "success"]
    assert len(rec) == 3
    assert rec[0]["SSHAND_REASON"].startswith("ID id-u_ed25519 (serial 7) CA ED25519 SHA256:")
    assert rec[0]["SSHAND_KEY_FINGERPRINT"] == fp(pki["u_ed25519"] + ".pub")


def test_refusals(server, pki, sshand_build):
    """What sshd refuses, sshand refuses, for the reason sshd gives."""
    s = server(NOBAN + "TrustedUserCAKeys %s\n" % pki["trusted"], build=sshand_build)
    cases = [
        (dict(principals="bob"), "user name is not a principal"),
        (dict(validity="20200101:20200102"), "certificate expired"),
        (dict(validity="+1d:+2d"), "certificate not yet valid"),
        (dict(ca="ca_other"), "CA not in TrustedUserCAKeys"),
        (dict(opts=["source-address=127.0.0.9/32"]), "source-address"),
        # SHA-1 CA signatures: not in CASignatureAlgorithms' default.
        (dict(ca="ca_rsa", sigalg="ssh-rsa"), "not in CASignatureAlgorithms"),
    ]
    for kw, why in cases:
        refused(s, login(s, pki, sign(pki, **kw)), why)
    # A host certificate: the OpenSSH client does not offer it as a
    # user's, paramiko does.
    refused_paramiko(s, pki, sign(pki, host=True), "not a user certificate")
    # A byte of the signed part changed: the CA's signature fails.
    cert = sign(pki, ident="tamper-me")
    t, b64, c = open(cert).read().split(None, 2)
    import base64
    blob = bytearray(base64.b64decode(b64))
    i = blob.find(b"tamper-me")
    blob[i] ^= 0x01
    with open(cert, "w") as f:
        f.write("%s %s %s" % (t, base64.b64encode(bytes(blob)).decode(), c))
    refused(s, login(s, pki, cert), "certificate signature invalid")
    # A certificate alone does not make a plain key of its CA's trusted.
    refused(s, s.ssh("alice", "true", key=pki["ca_ed25519"]), "refused")


def test_sha1_ca_with_casignaturealgorithms(server, pki):
    """CASignatureAlgorithms +ssh-rsa takes SHA-1 CA signatures back."""
    s = server(NOBAN + "TrustedUserCAKeys %s\nCASignatureAlgorithms +ssh-rsa\n" % pki["trusted"])
    ok(login(s, pki, sign(pki, ca="ca_rsa", sigalg="ssh-rsa")))


def test_only_certificate_algorithms(server, pki):
    """PubkeyAcceptedAlgorithms naming only a certificate algorithm: the
    certificate logs in (libssh checks the plain algorithm of its
    signature, which the network child is given too), its plain key does
    not."""
    s = server(NOBAN + "TrustedUserCAKeys %s\nPubkeyAcceptedAlgorithms "
               "ssh-ed25519-cert-v01@openssh.com\n" % pki["trusted"])
    ok(login(s, pki, sign(pki)))
    refused(s, s.ssh("alice", "true"), "no algorithm of PubkeyAcceptedAlgorithms")


def test_revoked(server, pki):
    """RevokedKeys (a plain key list) revokes the certified key and the
    CA; a KRL refuses every key."""
    revoked = os.path.join(DIR, "revoked")
    open(revoked, "w").close()
    s = server(NOBAN + "TrustedUserCAKeys %s\nRevokedKeys %s\n" % (pki["trusted"], revoked))
    cert = sign(pki)
    ok(login(s, pki, cert))
    with open(revoked, "w") as f:
        f.write("# revoked\n" + pub(pki["u_ed25519"]) + "\n")
    refused(s, login(s, pki, cert), "key listed in " + revoked)
    with open(revoked, "w") as f:
        f.write(pub(pki["ca_ed25519"]) + "\n")
    refused(s, login(s, pki, cert), "key listed in " + revoked)
    # The plain keys of authorized_keys too.
    with open(revoked, "w") as f:
        f.write(open(harness_key("alice_ed25519") + ".pub").read())
    refused(s, s.ssh("alice", "true"), "key listed in " + revoked)
    run(["ssh-keygen", "-q", "-k", "-f", revoked, pki["u_rsa"] + ".pub"], check=True)
    refused(s, login(s, pki, cert), "is a KRL, which sshand does not read")


def harness_key(name):
    return os.path.join(WORK, "clientkeys", name)


def test_force_command_and_no_pty(server, pki):
    """force-command runs instead of the command asked for; a certificate
    without permit-pty gets no pty."""
    s = server(NOBAN + "TrustedUserCAKeys %s\n" % pki["trusted"])
    r = ok(login(s, pki, sign(pki, opts=["force-command=echo forced"])))
    assert r.stdout == "forced\n"
    r = login(s, pki, sign(pki, opts=["no-pty"]), cmd="tty", flags=["-tt"])
    # As sshd: the pty request fails, and ssh -tt gives up.
    assert "PTY allocation request failed" in r.stderr, r.stderr
    assert r.returncode == 255 and "/dev/pts" not in r.stdout
    r = login(s, pki, sign(pki), cmd="tty", flags=["-tt"])
    assert r.stdout.startswith("/dev/pts/"), r.stdout


def test_principals_file(server, pki, srv_tmpfs):
    """AuthorizedPrincipalsFile (%u): one of the file's principals must
    be the certificate's; the user's name alone is not enough then."""
    pdir = os.path.join(BASE, "principals")
    os.makedirs(pdir, mode=0o755)
    with open(os.path.join(pdir, "alice"), "w") as f:
        f.write("# alice's\nops-team\n")
    s = server(NOBAN + "TrustedUserCAKeys %s\nAuthorizedPrincipalsFile %s/%%u\n" % (
        pki["trusted"], pdir))
    ok(login(s, pki, sign(pki, principals="ops-team,web")))
    refused(s, login(s, pki, sign(pki, principals="alice")),
            "no principal of the certificate is listed")
    harness.write_authorized_keys("bob", [])
    refused(s, login(s, pki, sign(pki, principals="ops-team"), user="bob"),
            "publickey for bob refused")


def test_principals_command(server, pki, srv_tmpfs):
    """AuthorizedPrincipalsCommand, run as its user with the tokens."""
    import pwd
    os.makedirs(PCMD, mode=0o755)
    os.makedirs(os.path.dirname(CALLS), mode=0o755)
    nobody = pwd.getpwnam("nobody").pw_uid
    os.chown(os.path.dirname(CALLS), nobody, nobody)
    with open(os.path.join(PCMD, "princ"), "w") as f:
        f.write("#!/bin/sh\necho \"$(id -un) $*\" >> %s\n"
                "[ \"$1\" = alice ] && echo ops-team\nexit 0\n" % CALLS)
    os.chmod(os.path.join(PCMD, "princ"), 0o755)
    s = server(NOBAN + "TrustedUserCAKeys %s\nAuthorizedPrincipalsCommand %s/princ %%u "
               "%%i %%s\nAuthorizedPrincipalsCommandUser nobody\n" % (
                   pki["trusted"], PCMD))
    ok(login(s, pki, sign(pki, principals="ops-team", ident="k1", serial=9)))
    assert "nobody alice k1 9" in open(CALLS).read()
    assert "found by AuthorizedPrincipalsCommand, line 1" in s.log()
    refused(s, login(s, pki, sign(pki, principals="alice")),
            "no principal of the certificate is listed")


def test_cert_authority_from_keys_command(server, pki, srv_tmpfs):
    """AuthorizedKeysCommand may print the cert-authority line; it is told
    of the certificate as sshd tells it (%t its type, %k the certificate,
    %f its key's fingerprint)."""
    import pwd
    os.makedirs(PCMD, mode=0o755)
    os.makedirs(os.path.dirname(CALLS), mode=0o755)
    nobody = pwd.getpwnam("nobody").pw_uid
    os.chown(os.path.dirname(CALLS), nobody, nobody)
    with open(os.path.join(PCMD, "keys"), "w") as f:
        f.write("#!/bin/sh\necho \"$*\" >> %s\necho 'cert-authority %s'\n" % (
            CALLS, pub(pki["ca_ecdsa"])))
    os.chmod(os.path.join(PCMD, "keys"), 0o755)
    harness.write_authorized_keys("alice", [])
    s = server(NOBAN + "AuthorizedKeysCommand %s/keys %%t %%f %%k\n"
               "AuthorizedKeysCommandUser nobody\n" % PCMD)
    cert = sign(pki, ca="ca_ecdsa")
    ok(login(s, pki, cert))
    t, b64 = open(cert).read().split()[:2]
    assert "%s %s %s" % (t, fp(pki["u_ed25519"] + ".pub"), b64) in open(CALLS).read()


def test_cert_authority(server, pki):
    """cert-authority in authorized_keys trusts a CA for this user only,
    with principals= naming which principals it takes."""
    harness.write_authorized_keys("alice", [
        'cert-authority,principals="ops-team" ' + pub(pki["ca_ecdsa"]),
        "cert-authority " + pub(pki["ca_ed25519"])])
    s = server(NOBAN)
    ok(login(s, pki, sign(pki, ca="ca_ecdsa", principals="ops-team")))
    refused(s, login(s, pki, sign(pki, ca="ca_ecdsa", principals="alice")),
            "no principal of the certificate is in principals=")
    ok(login(s, pki, sign(pki, principals="alice")))
    refused(s, login(s, pki, sign(pki, principals="dev")),
            "user name is not a principal")
    # bob has no cert-authority line: alice's CA is not his.
    refused(s, login(s, pki, sign(pki, principals="bob"), user="bob"),
            "publickey for bob refused")


def test_host_certificate_refused(tmp_path):
    """HostCertificate: refused at its line, saying what libssh lacks."""
    conf = tmp_path / "sshand.conf"
    conf.write_text("HostCertificate /etc/ssh/ssh_host_ed25519_key-cert.pub\n")
    r = subprocess.run([os.path.join(BUILD, "sshand"), "-t", "-f", str(conf)],
                       capture_output=True, text=True)
    assert r.returncode != 0
    assert "%s:1: HostCertificate" % conf in r.stderr, r.stderr
    assert "server_set_kex, src/server.c" in r.stderr, r.stderr
