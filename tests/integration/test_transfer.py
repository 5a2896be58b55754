"""Issue 3: file transfer with the clients users have (OpenSSH sftp and
scp, rsync, PuTTY's psftp/pscp, ssh-copy-id), byte-identical, and flow
control (large transfers, a client that stops reading)."""

import hashlib
import os
import re
import shutil
import subprocess
import time

import pytest

import harness
from harness import HOST, WORK, client_env, run, sha256_file

HOME = "/home/alice"


def ok(r):
    assert r.returncode == 0, "exit %d\nstdout: %s\nstderr: %s" % (
        r.returncode, str(r.stdout)[-2000:], str(r.stderr)[-2000:])
    return r


def owned_by_alice(path):
    st = os.stat(path)
    assert (st.st_uid, st.st_gid) == (harness.ALICE, harness.ALICE), (path, st.st_uid, st.st_gid)


@pytest.fixture
def local(tmp_path):
    d = tmp_path / "local"
    d.mkdir()
    harness.make_random_file(str(d / "a.bin"), 3 << 20)
    harness.make_random_file(str(d / "b.bin"), 123457)
    harness.make_random_file(str(d / "big.bin"), 8 << 20)
    return d


def sftp_batch(s, batch, tmp_path, key="alice_ed25519"):
    bf = tmp_path / "batch"
    bf.write_text(batch)
    return run(["sftp", "-b", str(bf)] + s.file_client_opts(key) + ["alice@" + HOST],
               env=client_env(), timeout=120)


def test_sftp_batch(srv, local, tmp_path):
    r = ok(sftp_batch(srv, f"""\
mkdir d
cd d
put {local}/a.bin a.bin
put {local}/b.bin
ls -l
rename a.bin renamed.bin
chmod 640 renamed.bin
get renamed.bin {local}/got.bin
rm b.bin
mkdir gone
rmdir gone
ls
pwd
""", tmp_path))
    assert "Remote working directory: /home/alice/d" in r.stdout
    renamed = HOME + "/d/renamed.bin"
    assert sha256_file(renamed) == sha256_file(local / "a.bin")
    assert sha256_file(local / "got.bin") == sha256_file(local / "a.bin")
    assert os.stat(renamed).st_mode & 0o7777 == 0o640
    owned_by_alice(renamed)
    owned_by_alice(HOME + "/d")
    assert not os.path.exists(HOME + "/d/b.bin")
    assert not os.path.exists(HOME + "/d/a.bin")
    assert not os.path.exists(HOME + "/d/gone")


def test_sftp_resume(srv, local, tmp_path):
    big = local / "big.bin"
    data = big.read_bytes()
    # A remote file cut short, as an interrupted upload leaves it.
    part = HOME + "/part.bin"
    with open(part, "wb") as f:
        f.write(data[: 3 << 20])
    os.chown(part, harness.ALICE, harness.ALICE)
    # And a local file cut short, as an interrupted download leaves it.
    shutil.copy(big, HOME + "/whole.bin")
    os.chown(HOME + "/whole.bin", harness.ALICE, harness.ALICE)
    with open(local / "partial.bin", "wb") as f:
        f.write(data[: 5 << 20])
    ok(sftp_batch(srv, f"""\
reput {big} part.bin
reget whole.bin {local}/partial.bin
""", tmp_path))
    digest = hashlib.sha256(data).hexdigest()
    assert sha256_file(part) == digest
    assert sha256_file(local / "partial.bin") == digest


def test_sftp_error_reported(srv, tmp_path):
    r = sftp_batch(srv, "get /nonexistent/file\n", tmp_path)
    assert r.returncode != 0
    assert "not found" in (r.stdout + r.stderr).lower() or \
        "no such file" in (r.stdout + r.stderr).lower(), r.stderr


@pytest.mark.parametrize("legacy", [True, False], ids=["scp-O", "scp-sftp"])
def test_scp_both_directions(srv, local, legacy):
    opts = (["-O"] if legacy else []) + srv.file_client_opts()
    src = local / "a.bin"
    ok(run(["scp"] + opts + [str(src), "alice@%s:%s/up.bin" % (HOST, HOME)],
           env=client_env(), timeout=120))
    assert sha256_file(HOME + "/up.bin") == sha256_file(src)
    owned_by_alice(HOME + "/up.bin")
    ok(run(["scp"] + opts + ["alice@%s:up.bin" % HOST, str(local / "down.bin")],
           env=client_env(), timeout=120))
    assert sha256_file(local / "down.bin") == sha256_file(src)
    # A directory tree, recursively, there and back.
    tree = local / "tree"
    (tree / "sub").mkdir(parents=True)
    shutil.copy(local / "b.bin", tree / "sub" / "b.bin")
    (tree / "x.txt").write_text("x\n")
    ok(run(["scp", "-r"] + opts + [str(tree), "alice@%s:" % HOST],
           env=client_env(), timeout=120))
    assert sha256_file(HOME + "/tree/sub/b.bin") == sha256_file(local / "b.bin")
    back = local / "back"
    ok(run(["scp", "-r"] + opts + ["alice@%s:tree" % HOST, str(back)],
           env=client_env(), timeout=120))
    assert (back / "x.txt").read_text() == "x\n"
    assert sha256_file(back / "sub" / "b.bin") == sha256_file(local / "b.bin")


def test_rsync_with_partial_resync(srv, local):
    e = srv.ssh_e()
    src = local / "rs"
    src.mkdir()
    shutil.copy(local / "big.bin", src / "big.bin")
    shutil.copy(local / "b.bin", src / "b.bin")
    dest = "alice@%s:%s/rs/" % (HOST, HOME)
    ok(run(["rsync", "-a", "-e", e, str(src) + "/", dest], env=client_env(), timeout=120))
    for n in ("big.bin", "b.bin"):
        assert sha256_file(HOME + "/rs/" + n) == sha256_file(src / n)
    owned_by_alice(HOME + "/rs/big.bin")
    # Change 64 KiB in the middle: the re-sync sends little and matches the rest.
    with open(src / "big.bin", "r+b") as f:
        f.seek(4 << 20)
        f.write(os.urandom(65536))
    # Same size; a later mtime so rsync's quick check sees the change.
    st = os.stat(src / "big.bin")
    os.utime(src / "big.bin", (st.st_atime, st.st_mtime + 60))
    r = ok(run(["rsync", "-a", "--stats", "-e", e, str(src) + "/", dest],
               env=client_env(), timeout=120))
    matched = int(re.search(r"Matched data: ([\d,]+)", r.stdout).group(1).replace(",", ""))
    literal = int(re.search(r"Literal data: ([\d,]+)", r.stdout).group(1).replace(",", ""))
    assert matched > (6 << 20) and literal < (1 << 20), r.stdout
    assert sha256_file(HOME + "/rs/big.bin") == sha256_file(src / "big.bin")
    # And back the other way.
    back = local / "rsback"
    ok(run(["rsync", "-a", "-e", e, "alice@%s:rs/" % HOST, str(back) + "/"],
           env=client_env(), timeout=120))
    assert sha256_file(back / "big.bin") == sha256_file(src / "big.bin")


# ---- PuTTY --------------------------------------------------------------------

def putty_opts(s, auth, tmp_path, keys):
    opts = ["-P", str(s.port), "-batch", "-noagent"]
    for fp in s.host_fingerprints("sha256"):
        opts += ["-hostkey", fp]
    if auth == "password":
        opts += ["-pw", harness.password("alice")]
    else:
        ppk = tmp_path / "alice.ppk"
        ok(run(["puttygen", keys.client("alice_ed25519"), "-O", "private", "-o", str(ppk)]))
        opts += ["-i", str(ppk)]
    return opts


@pytest.mark.parametrize("auth", ["password", "key"])
def test_psftp(server, keys, local, tmp_path, auth):
    s = server()
    batch = tmp_path / "psftp.batch"
    batch.write_text(f"""\
mkdir pd
cd pd
put {local}/a.bin a.bin
mv a.bin moved.bin
get moved.bin {local}/psftp-got.bin
ls
""")
    r = ok(run(["psftp"] + putty_opts(s, auth, tmp_path, keys) +
               ["-b", str(batch), "-bc", "alice@" + HOST], env=client_env(), timeout=120))
    assert "moved.bin" in r.stdout
    assert sha256_file(HOME + "/pd/moved.bin") == sha256_file(local / "a.bin")
    assert sha256_file(local / "psftp-got.bin") == sha256_file(local / "a.bin")
    owned_by_alice(HOME + "/pd/moved.bin")


@pytest.mark.parametrize("auth", ["password", "key"])
@pytest.mark.parametrize("proto", ["-sftp", "-scp"])
def test_pscp(server, keys, local, tmp_path, auth, proto):
    s = server()
    opts = putty_opts(s, auth, tmp_path, keys) + [proto]
    ok(run(["pscp"] + opts + [str(local / "a.bin"), "alice@%s:%s/pscp.bin" % (HOST, HOME)],
           env=client_env(), timeout=120))
    assert sha256_file(HOME + "/pscp.bin") == sha256_file(local / "a.bin")
    ok(run(["pscp"] + opts + ["alice@%s:%s/pscp.bin" % (HOST, HOME), str(local / "pscp-back.bin")],
           env=client_env(), timeout=120))
    assert sha256_file(local / "pscp-back.bin") == sha256_file(local / "a.bin")


def test_password_login_refused_for_putty_with_wrong_password(server, keys, local, tmp_path):
    s = server()
    opts = ["-P", str(s.port), "-batch", "-noagent", "-pw", "wrong-password"]
    for fp in s.host_fingerprints("sha256"):
        opts += ["-hostkey", fp]
    r = run(["pscp"] + opts + [str(local / "b.bin"), "alice@%s:x.bin" % HOST],
            env=client_env(), timeout=60)
    assert r.returncode != 0
    assert not os.path.exists(HOME + "/x.bin")


# ---- ssh-copy-id ----------------------------------------------------------------

def test_ssh_copy_id(srv, keys):
    s = srv
    shutil.rmtree(HOME + "/.ssh")
    key = keys.client("copyid")
    argv = ["sshpass", "-p", harness.password("alice"), "ssh-copy-id", "-F", "/dev/null",
            "-i", key + ".pub", "-p", str(s.port),
            "-o", "UserKnownHostsFile=" + s.known_hosts,
            "-o", "StrictHostKeyChecking=accept-new",
            "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "IdentitiesOnly=yes",
            "-o", "NumberOfPasswordPrompts=1",
            "alice@" + HOST]
    ok(run(argv, env=client_env(), timeout=120))
    st = os.stat(HOME + "/.ssh")
    assert st.st_mode & 0o7777 == 0o700 and st.st_uid == harness.ALICE
    ak = HOME + "/.ssh/authorized_keys"
    st = os.stat(ak)
    assert st.st_mode & 0o7777 == 0o600 and st.st_uid == harness.ALICE
    with open(ak) as f:
        assert keys.pub("copyid").split()[:2] == f.read().split()[:2]
    # Now the key alone logs in.
    r = ok(s.ssh("alice", "id -un", key="copyid"))
    assert r.stdout == "alice\n"


# ---- large transfers and flow control ---------------------------------------------

@pytest.fixture(scope="module")
def file256m():
    return harness.make_random_file(os.path.join(WORK, "random256m"), 256 << 20)


def test_256m_upload(srv, file256m):
    with open(file256m, "rb") as f:
        t0 = time.monotonic()
        r = subprocess.run(srv.ssh_argv("alice", "sha256sum"), stdin=f,
                           capture_output=True, timeout=240, env=client_env())
    elapsed = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0].decode() == sha256_file(file256m)
    print("upload 256 MiB: %.1f MB/s" % (256 * 1.048576 / elapsed))


def test_256m_download(srv, file256m):
    p = subprocess.Popen(srv.ssh_argv("alice", "cat " + file256m), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=client_env())
    h = hashlib.sha256()
    n = 0
    t0 = time.monotonic()
    for chunk in iter(lambda: p.stdout.read(1 << 20), b""):
        h.update(chunk)
        n += len(chunk)
    assert p.wait(240) == 0, p.stderr.read()
    elapsed = time.monotonic() - t0
    assert n == 256 << 20
    assert h.hexdigest() == sha256_file(file256m)
    print("download 256 MiB: %.1f MB/s" % (256 * 1.048576 / elapsed))


def test_client_that_stops_reading(srv):
    """cat /dev/zero to a client whose stdout nobody reads: sshand must
    stop reading from cat instead of buffering without bound."""
    s = srv
    p = subprocess.Popen(s.ssh_argv("alice", "cat /dev/zero"), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=client_env())
    try:
        assert harness.wait_for(lambda: any(
            n == "cat" for _, _, n in harness.user_procs_left({harness.ALICE})), 15), "no session"
        peak = 0
        for _ in range(20):
            time.sleep(0.5)
            pids = s.tree()
            peak = max(peak, harness.rss_kib(pids))
            assert p.poll() is None, "client died"
        assert peak < 64 * 1024, "sshand RSS reached %d KiB" % peak
        # The stream still flows once the client reads again.
        data = p.stdout.read(4 << 20)
        assert data == b"\0" * (4 << 20)
    finally:
        p.kill()
        p.wait()


@pytest.mark.parametrize("cipher", ["chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com"])
def test_transfer_across_many_rekeys(server, file256m, cipher):
    """Output the relay could not hand over while a key re-exchange ran was
    once dropped (short downloads) and then sent twice (long ones): stream
    64 MiB each way with a rekey every 1 MiB and compare."""
    s = server("RekeyLimit 1048576")
    opts = ["Ciphers=" + cipher, "RekeyLimit=1M"]
    want = 64 << 20
    src = harness.make_random_file(os.path.join(WORK, "random64m"), want)
    r = subprocess.run(s.ssh_argv("alice", "cat " + src, opts=opts),
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=240,
                       env=client_env())
    assert r.returncode == 0, r.stderr
    assert len(r.stdout) == want
    assert hashlib.sha256(r.stdout).hexdigest() == sha256_file(src)
    with open(src, "rb") as f:
        r = subprocess.run(s.ssh_argv("alice", "sha256sum", opts=opts), stdin=f,
                           capture_output=True, timeout=240, env=client_env())
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0].decode() == sha256_file(src)
