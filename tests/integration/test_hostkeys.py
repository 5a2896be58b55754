"""sshandctl hostkeys / fingerprints against ssh-keygen.

Needs nothing but the sshandctl binary and ssh-keygen, so it also runs
alone:  SSHAND_BUILD=$PWD/build /usr/bin/python3 -m pytest --noconftest \
            tests/integration/test_hostkeys.py
Every key lives in a temporary directory; /etc is never touched (-d or -f
always point elsewhere)."""

import json
import os
import stat
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.environ.get("SSHAND_BUILD") or os.path.join(REPO, "build")
CTL = os.environ.get("SSHANDCTL") or os.path.join(BUILD, "sshandctl")

NAMES = ["ssh_host_ed25519_key", "ssh_host_ecdsa_key", "ssh_host_rsa_key"]


def ctl(*args):
    if not os.access(CTL, os.X_OK):
        pytest.fail("%s missing: build it first (make)" % CTL)
    r = subprocess.run([CTL] + list(args), capture_output=True, text=True,
                       timeout=120)
    # a signal (crash, sanitizer abort) is never acceptable
    assert r.returncode >= 0, "killed by signal %d: %s" % (-r.returncode,
                                                            r.stderr)
    assert "Sanitizer" not in r.stderr and "runtime error" not in r.stderr, \
        r.stderr
    return r


def keygen_l(path):
    out = []
    for alg in ("md5", "sha256"):
        r = subprocess.run(["ssh-keygen", "-l", "-E", alg, "-f", path],
                           capture_output=True, text=True, check=True)
        out.append(r.stdout.rstrip("\n"))
    return out


@pytest.fixture(scope="module")
def keydir(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostkeys") / "keys"
    r = ctl("hostkeys", "-d", str(d))
    assert r.returncode == 0, r.stderr
    return str(d), r


def test_creates_three_keys_with_modes(keydir):
    d, r = keydir
    created = [l for l in r.stdout.splitlines() if l]
    assert created == ["created %s" % os.path.join(d, n) for n in NAMES]
    for n in NAMES:
        priv = os.path.join(d, n)
        st = os.lstat(priv)
        assert stat.S_ISREG(st.st_mode)
        assert stat.S_IMODE(st.st_mode) == 0o600, n
        assert stat.S_IMODE(os.lstat(priv + ".pub").st_mode) == 0o644, n
        with open(priv) as f:
            text = f.read()
        # OpenSSH's own container, as ssh-keygen writes it
        assert text.startswith("-----BEGIN OPENSSH PRIVATE KEY-----\n")
        assert text.endswith("-----END OPENSSH PRIVATE KEY-----\n")
        assert all(len(l) <= 70 for l in text.splitlines())
        # no temporary files left behind
    assert sorted(os.listdir(d)) == sorted(NAMES + [n + ".pub" for n in NAMES])


def test_key_types_and_sizes(keydir):
    d, _ = keydir
    want = {"ssh_host_ed25519_key": ("ssh-ed25519", "256", "(ED25519)"),
            "ssh_host_ecdsa_key": ("ecdsa-sha2-nistp256", "256", "(ECDSA)"),
            "ssh_host_rsa_key": ("ssh-rsa", "3072", "(RSA)")}
    for n, (typ, bits, label) in want.items():
        with open(os.path.join(d, n + ".pub")) as f:
            assert f.read().split()[0] == typ
        line = keygen_l(os.path.join(d, n + ".pub"))[1].split()
        assert line[0] == bits and line[-1] == label


def test_private_keys_usable_by_openssh(keydir, tmp_path):
    """ssh-keygen derives the same public key from our private key and can
    sign with it: the container is really OpenSSH's."""
    d, _ = keydir
    msg = tmp_path / "msg"
    msg.write_text("hello\n")
    for n in NAMES:
        priv = os.path.join(d, n)
        r = subprocess.run(["ssh-keygen", "-y", "-f", priv],
                           capture_output=True, text=True, check=True)
        with open(priv + ".pub") as f:
            assert r.stdout.split()[:2] == f.read().split()[:2]
        sig = tmp_path / (n + ".sig")
        if sig.exists():
            sig.unlink()
        subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-f", priv, "-n",
                        "test", str(msg)], check=True,
                       stdin=subprocess.DEVNULL, capture_output=True)
        os.rename(str(msg) + ".sig", sig)
        with open(msg) as m:
            subprocess.run(["ssh-keygen", "-Y", "check-novalidate", "-n",
                            "test", "-f", priv + ".pub", "-s", str(sig)],
                           stdin=m, check=True, capture_output=True)


def test_rerun_creates_nothing(keydir):
    d, _ = keydir
    before = {n: (os.stat(os.path.join(d, n)).st_ino,
                  open(os.path.join(d, n), "rb").read()) for n in NAMES}
    r = ctl("hostkeys", "-d", d)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    for n in NAMES:
        p = os.path.join(d, n)
        assert (os.stat(p).st_ino, open(p, "rb").read()) == before[n]


def test_only_missing_key_created(tmp_path):
    d = str(tmp_path / "k")
    assert ctl("hostkeys", "-d", d).returncode == 0
    os.unlink(os.path.join(d, "ssh_host_ecdsa_key"))
    os.unlink(os.path.join(d, "ssh_host_ecdsa_key.pub"))
    # an existing file is never replaced, even one that is not a key
    with open(os.path.join(d, "ssh_host_rsa_key"), "w") as f:
        f.write("not a key\n")
    r = ctl("hostkeys", "-d", d)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "created " + os.path.join(d, "ssh_host_ecdsa_key")]
    with open(os.path.join(d, "ssh_host_rsa_key")) as f:
        assert f.read() == "not a key\n"


def test_fingerprints_equal_ssh_keygen(keydir):
    d, _ = keydir
    r = ctl("fingerprints", "-d", d)
    assert r.returncode == 0, r.stderr
    want = []
    for n in NAMES:
        want += keygen_l(os.path.join(d, n + ".pub"))
    assert r.stdout.splitlines() == want
    assert r.stdout.count("MD5:") == 3 and r.stdout.count("SHA256:") == 3


def test_fingerprints_without_pub(keydir, tmp_path):
    """No .pub: derived from the private key, still as ssh-keygen shows it
    (it then reads the comment from the private key)."""
    d, _ = keydir
    e = tmp_path / "nopub"
    e.mkdir()
    for n in NAMES:
        with open(os.path.join(d, n), "rb") as f:
            (e / n).write_bytes(f.read())
        os.chmod(e / n, 0o600)
    r = ctl("fingerprints", "-d", str(e))
    assert r.returncode == 0, r.stderr
    want = []
    for n in NAMES:
        want += keygen_l(str(e / n))
    assert r.stdout.splitlines() == want


def test_fingerprints_json(keydir):
    d, _ = keydir
    r = ctl("--json", "fingerprints", "-d", d)
    if r.returncode == 2:
        # a main that only takes --json after the subcommand
        r = ctl("fingerprints", "--json", "-d", d)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert [g["path"] for g in got] == [os.path.join(d, n) for n in NAMES]
    for g, n in zip(got, NAMES):
        md5, sha = keygen_l(os.path.join(d, n + ".pub"))
        assert g["md5"] == md5.split()[1]
        assert g["sha256"] == sha.split()[1]
        assert g["bits"] == int(md5.split()[0])
    assert [g["type"] for g in got] == ["ssh-ed25519", "ecdsa-sha2-nistp256",
                                        "ssh-rsa"]


def test_config_hostkeys_and_foreign_keys(tmp_path):
    """HostKey lines from -f CONFIG, including keys ssh-keygen made (all
    ecdsa curves, another rsa size) and a comment-less .pub."""
    d = tmp_path
    made = []
    for name, args in (("k_ecdsa384", ["-t", "ecdsa", "-b", "384"]),
                       ("k_ecdsa521", ["-t", "ecdsa", "-b", "521"]),
                       ("k_rsa2048", ["-t", "rsa", "-b", "2048"]),
                       ("k_ed25519", ["-t", "ed25519", "-C", ""])):
        subprocess.run(["ssh-keygen", "-q", "-N", "", "-f", str(d / name)]
                       + args, check=True)
        made.append(str(d / name))
    new = str(d / "new_ed25519_key")
    conf = d / "sshand.conf"
    conf.write_text("".join("HostKey %s\n" % p for p in made + [new]))
    r = ctl("-f", str(conf), "hostkeys")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["created " + new]
    r = ctl("-f", str(conf), "fingerprints")
    assert r.returncode == 0, r.stderr
    want = []
    for p in made + [new]:
        want += keygen_l(p + ".pub")
    assert r.stdout.splitlines() == want
    assert "no comment" in r.stdout


def test_unknown_type_name_refused(tmp_path):
    conf = tmp_path / "sshand.conf"
    conf.write_text("HostKey %s\n" % (tmp_path / "mystery_key"))
    r = ctl("-f", str(conf), "hostkeys")
    assert r.returncode != 0
    assert "mystery_key" in r.stderr and "type" in r.stderr
    assert not (tmp_path / "mystery_key").exists()


@pytest.mark.parametrize("what,content", [
    ("pub", b"garbage\n"),
    ("pub", b"ssh-ed25519 AAAA\n"),
    ("pub", b"ssh-ed25519 !!!notbase64 c\n"),
    ("pub", b""),
    ("pub", b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5\x00AAAA\n"),
    ("priv", b"garbage\n"),
    ("priv", os.urandom(4096)),
    ("priv", b"-----BEGIN OPENSSH PRIVATE KEY-----\n"
             b"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
             b"-----END OPENSSH PRIVATE KEY-----\n"),
])
def test_garbage_key_clear_error(keydir, tmp_path, what, content):
    d, _ = keydir
    e = tmp_path / "bad"
    e.mkdir()
    for n in NAMES:
        with open(os.path.join(d, n), "rb") as f:
            (e / n).write_bytes(f.read())
        with open(os.path.join(d, n + ".pub"), "rb") as f:
            (e / (n + ".pub")).write_bytes(f.read())
    bad = e / "ssh_host_ecdsa_key"
    if what == "pub":
        (e / "ssh_host_ecdsa_key.pub").write_bytes(content)
    else:
        (e / "ssh_host_ecdsa_key.pub").unlink()
        bad.write_bytes(content)
    r = ctl("fingerprints", "-d", str(e))
    assert r.returncode == 1
    assert str(bad) in r.stderr
    # the good keys are still listed
    assert r.stdout.count("(ED25519)") == 2 and r.stdout.count("(RSA)") == 2
    assert "(ECDSA)" not in r.stdout


def test_missing_key_and_usage(tmp_path):
    r = ctl("fingerprints", "-d", str(tmp_path / "nothing"))
    assert r.returncode == 1
    assert "No such file" in r.stderr
    r = ctl("hostkeys", "--bogus")
    assert r.returncode == 2
