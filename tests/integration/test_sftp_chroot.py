"""Issue 18: internal-sftp and ChrootDirectory.  An sftp-only chrooted
account (Match Group sftponly, ChrootDirectory %h, ForceCommand
internal-sftp) with OpenSSH's sftp and scp and PuTTY's psftp; what the
user sees (the chroot only); shell and exec refused as sshd refuses
them; chroot paths a user could change refused, logged and audited;
Subsystem sftp internal-sftp (and -R) for an ordinary user; malformed
SFTP packets on a raw subsystem channel."""

import os
import socket
import struct

import pytest

import harness
from harness import HOST, client_env, run, sha256_file

BOB_HOME = "/home/bob"
ALICE_HOME = "/home/alice"
SFTP_ONLY = """\
Match Group sftponly
\tChrootDirectory %h
\tForceCommand internal-sftp
"""
REFUSAL = "This service allows sftp connections only."


def ok(r):
    assert r.returncode == 0, "exit %d\nstdout: %s\nstderr: %s" % (
        r.returncode, str(r.stdout)[-2000:], str(r.stderr)[-2000:])
    return r


@pytest.fixture
def sftponly():
    """bob in the sftponly group (tests/integration/run makes it empty:
    other tests count bob's groups), for this test only."""
    with open("/etc/group") as f:
        orig = f.read()
    line = "\nsftponly:x:%d:\n" % harness.SFTPONLY_GID
    assert line in orig
    # In place: /etc/group is a file bind-mounted over the real one.
    with open("/etc/group", "w") as f:
        f.write(orig.replace(line, line[:-1] + "bob\n"))
    yield
    with open("/etc/group", "w") as f:
        f.write(orig)


@pytest.fixture
def chroot_home(sftponly):
    """bob's home as a chroot: root's and 0755, with a directory of his
    (upload) and a file of root's; his keys stay where sshand reads them
    (outside the session: authorized_keys is read before the chroot)."""
    os.chown(BOB_HOME, 0, 0)
    os.chmod(BOB_HOME, 0o755)
    os.chmod("/home", 0o755)
    assert os.stat("/home").st_uid == 0
    up = os.path.join(BOB_HOME, "upload")
    os.mkdir(up, 0o755)
    os.chown(up, harness.BOB, harness.BOB)
    with open(os.path.join(BOB_HOME, "readme.txt"), "w") as f:
        f.write("inside the chroot\n")
    return BOB_HOME


@pytest.fixture
def local(tmp_path):
    d = tmp_path / "local"
    d.mkdir()
    harness.make_random_file(str(d / "a.bin"), 3 << 20)
    return d


def sftp_batch(s, batch, tmp_path, user="bob", key="bob_ed25519"):
    bf = tmp_path / "batch"
    bf.write_text(batch)
    return run(["sftp", "-b", str(bf)] + s.file_client_opts(key) +
               ["%s@%s" % (user, HOST)], env=client_env(), timeout=60)


@pytest.mark.parametrize("profile", ["login", "strict"])
def test_sftp_only_openssh(server, sshand_build, chroot_home, local, tmp_path, profile):
    """Everything OpenSSH's sftp does, under either seccomp profile (the
    server needs nothing either denies)."""
    s = server(SFTP_ONLY + "\tSandboxProfile %s\n" % profile, build=sshand_build)
    r = ok(sftp_batch(s, f"""\
pwd
ls -a /
cd upload
put {local}/a.bin a.bin
get a.bin {local}/back.bin
rename a.bin renamed.bin
chmod 640 renamed.bin
mkdir d
mkdir gone
rmdir gone
put {local}/a.bin d/rm-me.bin
rm d/rm-me.bin
symlink renamed.bin link.bin
ls -l
df .
-get /etc/passwd {local}/passwd
cd /..
pwd
ls
""", tmp_path))
    out = r.stdout
    # The root is the chroot: its own content, nothing of the host's.
    assert "Remote working directory: /\n" in out
    assert "/readme.txt" in out and "/upload" in out
    assert "/etc" not in out.replace("get /etc/passwd", "")
    assert not (local / "passwd").exists()
    # df through statvfs@openssh.com: a header and one line of sizes.
    assert "Avail" in out
    up = os.path.join(chroot_home, "upload")
    assert sha256_file(os.path.join(up, "renamed.bin")) == sha256_file(local / "a.bin")
    assert sha256_file(local / "back.bin") == sha256_file(local / "a.bin")
    st = os.stat(os.path.join(up, "renamed.bin"))
    assert (st.st_uid, st.st_mode & 0o7777) == (harness.BOB, 0o640)
    assert os.readlink(os.path.join(up, "link.bin")) == "renamed.bin"
    assert os.path.isdir(os.path.join(up, "d"))
    assert not os.path.exists(os.path.join(up, "gone"))
    assert not os.path.exists(os.path.join(up, "d", "rm-me.bin"))
    # The audit trail names the server, not a program.
    starts = s.audit_records("session-start")
    assert starts and starts[-1].get("SSHAND_COMMAND") == "internal-sftp"


def test_sftp_only_cannot_write_the_root(server, chroot_home, tmp_path):
    s = server(SFTP_ONLY)
    r = sftp_batch(s, "mkdir /evil\n", tmp_path)
    assert r.returncode != 0
    assert not os.path.exists(os.path.join(chroot_home, "evil"))


def test_sftp_only_scp(server, chroot_home, local):
    s = server(SFTP_ONLY)
    opts = s.file_client_opts("bob_ed25519")
    ok(run(["scp"] + opts + [str(local / "a.bin"), "bob@%s:/upload/scp.bin" % HOST],
           env=client_env(), timeout=60))
    assert sha256_file(os.path.join(chroot_home, "upload", "scp.bin")) == \
        sha256_file(local / "a.bin")
    ok(run(["scp"] + opts + ["bob@%s:/upload/scp.bin" % HOST, str(local / "scp-back.bin")],
           env=client_env(), timeout=60))
    assert sha256_file(local / "scp-back.bin") == sha256_file(local / "a.bin")
    # Outside the chroot there is nothing to fetch.
    r = run(["scp"] + opts + ["bob@%s:/etc/passwd" % HOST, str(local / "pw")],
            env=client_env(), timeout=60)
    assert r.returncode != 0 and not (local / "pw").exists()


def test_sftp_only_psftp(server, keys, chroot_home, local, tmp_path):
    s = server(SFTP_ONLY)
    ppk = tmp_path / "bob.ppk"
    ok(run(["puttygen", keys.client("bob_ed25519"), "-O", "private", "-o", str(ppk)]))
    opts = ["-P", str(s.port), "-batch", "-noagent", "-i", str(ppk)]
    for fp in s.host_fingerprints("sha256"):
        opts += ["-hostkey", fp]
    batch = tmp_path / "psftp.batch"
    batch.write_text(f"""\
cd upload
put {local}/a.bin p.bin
mv p.bin moved.bin
get moved.bin {local}/psftp-got.bin
ls /
""")
    r = ok(run(["psftp"] + opts + ["-b", str(batch), "-bc", "bob@" + HOST],
               env=client_env(), timeout=60))
    assert "readme.txt" in r.stdout
    moved = os.path.join(chroot_home, "upload", "moved.bin")
    assert sha256_file(moved) == sha256_file(local / "a.bin")
    assert sha256_file(local / "psftp-got.bin") == sha256_file(local / "a.bin")


@pytest.mark.parametrize("cmd", [None, "id"])
def test_sftp_only_refuses_shell_and_exec(server, chroot_home, cmd):
    s = server(SFTP_ONLY)
    flags = ("-tt",) if cmd is None else ()
    r = s.ssh("bob", cmd, key="bob_ed25519", flags=flags, input="", timeout=30)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert REFUSAL in r.stdout
    assert "uid=" not in r.stdout


@pytest.mark.parametrize("damage", ["group-writable", "not-root"])
def test_unsafe_chroot_refused(server, chroot_home, tmp_path, damage):
    if damage == "group-writable":
        os.chmod(chroot_home, 0o775)
    else:
        os.chown(chroot_home, harness.BOB, harness.BOB)
    # StrictModes would refuse bob's key already (a group-writable home).
    s = server("StrictModes no\n" + SFTP_ONLY)
    r = sftp_batch(s, "ls\n", tmp_path)
    assert r.returncode != 0
    assert harness.wait_for(lambda: "bad ownership or modes for chroot directory "
                            "component \"/home/bob\"" in s.log(), 5), s.log()[-3000:]
    ev = s.audit_records("session-refused")
    assert ev and ev[-1].get("SSHAND_REASON") == "unsafe-chroot-directory", s.audit_records()
    assert not any(e.get("SSHAND_EVENT") == "session-start" for e in s.audit_records())


def test_chroot_shell_runs_inside(server, chroot_home):
    """Without ForceCommand, a chrooted shell is looked for inside the
    chroot, as sshd does: this one holds no /bin/bash."""
    s = server("Match Group sftponly\n\tChrootDirectory %h\n")
    r = s.ssh("bob", "id", key="bob_ed25519", timeout=30)
    assert r.returncode != 0
    assert "uid=" not in r.stdout


INTERNAL = "Subsystem sftp internal-sftp\n"


def internal_config(opts=""):
    # The harness's base configuration names sftp-server: this one
    # replaces it (a second Subsystem sftp would be refused).
    return INTERNAL.replace("internal-sftp", "internal-sftp" + opts)


@pytest.fixture
def internal_server(server):
    def make(opts="", build="normal"):
        s = server(build=build)
        with open(s.conf) as f:
            conf = f.read().replace("Subsystem sftp " + harness.SFTP_SERVER + "\n",
                                    internal_config(opts))
        with open(s.conf, "w") as f:
            f.write(conf)
        return s
    return make


def test_internal_sftp_subsystem(internal_server, local, tmp_path):
    s = internal_server()
    r = ok(sftp_batch(s, f"""\
put {local}/a.bin a.bin
get a.bin {local}/back.bin
ls -l
pwd
""", tmp_path, user="alice", key="alice_ed25519"))
    assert "Remote working directory: /home/alice" in r.stdout
    assert sha256_file(ALICE_HOME + "/a.bin") == sha256_file(local / "a.bin")
    assert sha256_file(local / "back.bin") == sha256_file(local / "a.bin")
    assert os.stat(ALICE_HOME + "/a.bin").st_uid == harness.ALICE
    # Not chrooted: the host's files are there (as the user may read them).
    r = ok(sftp_batch(s, f"get /etc/hostname {local}/hn\n", tmp_path,
                      user="alice", key="alice_ed25519"))
    assert (local / "hn").exists()


def test_internal_sftp_read_only(internal_server, local, tmp_path):
    s = internal_server(" -R")
    with open(ALICE_HOME + "/there.txt", "w") as f:
        f.write("x")
    r = sftp_batch(s, f"put {local}/a.bin a.bin\n", tmp_path, user="alice",
                   key="alice_ed25519")
    assert r.returncode != 0
    assert not os.path.exists(ALICE_HOME + "/a.bin")
    r = sftp_batch(s, "rm there.txt\n", tmp_path, user="alice", key="alice_ed25519")
    assert r.returncode != 0 and os.path.exists(ALICE_HOME + "/there.txt")
    ok(sftp_batch(s, f"get there.txt {local}/t\n", tmp_path, user="alice",
                  key="alice_ed25519"))


# ---- malformed packets --------------------------------------------------------

def paramiko_client(s, keys):
    import paramiko
    sock = socket.create_connection((HOST, s.port), timeout=15)
    t = paramiko.Transport(sock)
    t.start_client(timeout=15)
    t.auth_publickey("alice", paramiko.Ed25519Key(
        filename=keys.client("alice_ed25519")))
    return t


def raw_sftp(t):
    ch = t.open_session(timeout=15)
    ch.settimeout(10)
    ch.invoke_subsystem("sftp")
    return ch


def pkt(body):
    return struct.pack(">I", len(body)) + body


def read_reply(ch):
    head = b""
    while len(head) < 4:
        d = ch.recv(4 - len(head))
        if not d:
            return None
        head += d
    n = struct.unpack(">I", head)[0]
    body = b""
    while len(body) < n:
        d = ch.recv(n - len(body))
        if not d:
            return None
        body += d
    return body


INIT = pkt(b"\x01" + struct.pack(">I", 3))


def test_malformed_packets(internal_server, sshand_build, keys):
    s = internal_server(build=sshand_build)
    t = paramiko_client(s, keys)
    try:
        ch = raw_sftp(t)
        ch.sendall(INIT)
        v = read_reply(ch)
        assert v[0] == 2 and struct.unpack(">I", v[1:5])[0] == 3
        assert b"posix-rename@openssh.com" in v and b"statvfs@openssh.com" in v
        # A string length far past the packet: bad message, same id.
        ch.sendall(pkt(b"\x03" + struct.pack(">II", 7, 0xfffffff0) + b"abc"))
        r = read_reply(ch)
        assert r[0] == 101 and struct.unpack(">II", r[1:9]) == (7, 5)
        # A handle that is no handle; an unknown type; a path with a NUL.
        ch.sendall(pkt(b"\x05" + struct.pack(">II", 8, 2) + b"xx" + b"\0" * 12))
        r = read_reply(ch)
        assert r[0] == 101 and struct.unpack(">I", r[1:5])[0] == 8
        ch.sendall(pkt(b"\x63" + struct.pack(">I", 9)))
        r = read_reply(ch)
        assert r[0] == 101 and struct.unpack(">II", r[1:9]) == (9, 8)
        ch.sendall(pkt(b"\x11" + struct.pack(">II", 10, 3) + b"a\0b"))
        r = read_reply(ch)
        assert r[0] == 101 and struct.unpack(">II", r[1:9]) == (10, 5)
        # Attributes claiming four billion extended pairs.
        ch.sendall(pkt(b"\x0e" + struct.pack(">II", 11, 1) + b"d" +
                       struct.pack(">II", 0x80000000, 0xffffffff)))
        r = read_reply(ch)
        assert r[0] == 101 and struct.unpack(">II", r[1:9]) == (11, 5)
        assert not os.path.exists(ALICE_HOME + "/d")
        # A length past OpenSSH's 256 KiB: the server ends the channel.
        ch.sendall(struct.pack(">I", 0x7fffffff) + b"\x03" * 64)
        assert read_reply(ch) is None
        ch.close()
        # The connection is unharmed: another channel works.
        ch2 = t.open_session(timeout=15)
        ch2.settimeout(10)
        ch2.exec_command("echo still-here")
        assert b"still-here" in ch2.makefile().read()
        ch3 = raw_sftp(t)
        ch3.sendall(pkt(b"\x03" + struct.pack(">I", 1)))	# before INIT
        assert read_reply(ch3) is None
        ch4 = raw_sftp(t)
        ch4.sendall(INIT + pkt(b"\x10" + struct.pack(">II", 12, 1) + b"."))
        assert read_reply(ch4)[0] == 2
        r = read_reply(ch4)
        assert r[0] == 104 and ALICE_HOME.encode() in r
    finally:
        t.close()


def test_check_and_dump(server, sftponly):
    """-t accepts the keywords; -T prints them as sshd -T does, per user."""
    s = server(SFTP_ONLY)
    sshand = os.path.join(harness.BUILD, "sshand")
    r = ok(run([sshand, "-t", "-f", s.conf]))
    assert "ChrootDirectory" not in r.stderr
    bob = ok(run([sshand, "-T", "-f", s.conf, "-C", "user=bob,addr=127.0.0.1"]))
    lines = bob.stdout.splitlines()
    assert "chrootdirectory %h" in lines and "forcecommand internal-sftp" in lines
    alice = ok(run([sshand, "-T", "-f", s.conf, "-C", "user=alice,addr=127.0.0.1"]))
    assert "chrootdirectory none" in alice.stdout.splitlines()
    with open(s.conf, "a") as f:
        f.write("Match User carol\n\tChrootDirectory /srv/%x\n")
    r = run([sshand, "-t", "-f", s.conf])
    assert r.returncode != 0 and "ChrootDirectory" in r.stderr
