"""Issue 18: FileZilla.  Its SFTP engine is fzsftp (Debian's filezilla
package), a PuTTY psftp derivative the GUI drives over stdin and stdout;
these tests drive it the way FileZilla's engine does (src/engine/sftp/ in
FileZilla's source, protocol version 11): commands as lines, replies as
lines prefixed by an event type, host key and password questions answered
on stdin, and file data exchanged through a shared memory file the
engine hands to fzsftp (io_open, io_nextbuf, io_finalize) instead of
fzsftp opening local files itself.  An ordinary account (key and
password) and the sftp-only chrooted account of test_sftp_chroot.py."""

import mmap
import os
import select
import subprocess
import time

import pytest

import harness
from harness import HOST, client_env, run, sha256_file
# The sftp-only account (bob in sftponly, his home a chroot) and the
# local file to transfer, shared with the other clients' tests.
from test_sftp_chroot import SFTP_ONLY, chroot_home, local, ok, sftponly

assert chroot_home and local and sftponly  # fixtures, used by name

FZSFTP = "/usr/bin/fzsftp"
PROTOCOL = "fzSftp started, protocol_version=11"
ALICE_HOME = "/home/alice"

# fzsftp's event types (src/putty/fzprintf.h), sent as chr(ord('0') + n).
(REPLY, DONE, ERROR, VERBOSE, INFO, STATUS, RECV, SEND, LISTENTRY,
 ASK_HOSTKEY, ASK_HOSTKEY_CHANGED, ASK_HOSTKEY_BETTERALG, ASK_PASSWORD,
 TRANSFER, REQUEST_PREAMBLE, REQUEST_INSTRUCTION, QUOTA_RECV, QUOTA_SEND,
 KEX_ALGORITHM, KEX_HASH, KEX_CURVE, CIPHER_C2S, CIPHER_S2C, MAC_C2S,
 MAC_S2C, HOSTKEY, IO_SIZE, IO_OPEN, IO_NEXTBUF, IO_FINALIZE) = range(30)
# How many lines follow the type character (the engine's input thread).
LINES = {QUOTA_RECV: 0, QUOTA_SEND: 0, IO_SIZE: 0, ASK_HOSTKEY: 2,
         ASK_HOSTKEY_CHANGED: 2, ASK_HOSTKEY_BETTERALG: 2, LISTENTRY: 3}
SHM_SIZE = 256 << 10

class FzError(Exception):
    pass


def quote(name):
    # CSftpControlSocket::QuoteFilename
    return '"' + name.replace('"', '""') + '"'


class FileZilla:
    """One fzsftp, as one FileZilla connection runs it."""

    def __init__(self, home, stderr_path, hostkey_answer="y", password=None,
                 timeout=30):
        self.hostkey_answer = hostkey_answer
        self.password = password
        self.timeout = timeout
        self.events = []            # everything fzsftp said, for failures
        self.errors = []
        self.hostkey = None
        self.questions = []         # host key and password questions
        self.transfer = None
        self._buf = b""
        self._last_challenge = None
        self._preamble = self._instruction = ""
        # The shared memory of transfers: FileZilla creates it with
        # memfd_create and passes it to fzsftp as an inherited descriptor,
        # whose number it names in its io_open answers.
        self.shm = os.memfd_create("fzsftp", 0)
        os.ftruncate(self.shm, SHM_SIZE)
        self.mem = mmap.mmap(self.shm, SHM_SIZE)
        os.makedirs(home, exist_ok=True)
        self.stderr = open(stderr_path, "wb")
        self.proc = subprocess.Popen(
            [FZSFTP, "-v"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.stderr, pass_fds=(self.shm,),
            # PuTTY's store (trusted host keys, random seed) in this
            # test's HOME, not the invoking user's ~/.putty, which it
            # prefers when it exists.
            env=client_env({"HOME": home, "PUTTYDIR": os.path.join(home, ".putty")}))
        try:
            kind, text = self._event()
            if (kind, text) != (REPLY, [PROTOCOL]):
                raise FzError("fzsftp greeting: %r %r" % (kind, text))
        except FzError:
            self.close()
            raise

    # ---- the line protocol ------------------------------------------------

    def _read(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise FzError("fzsftp timed out; it said:\n" + self.transcript())
        r, _, _ = select.select([self.proc.stdout], [], [], left)
        if not r:
            raise FzError("fzsftp timed out; it said:\n" + self.transcript())
        data = os.read(self.proc.stdout.fileno(), 65536)
        if not data:
            raise FzError("fzsftp ended (%s); it said:\n%s" % (
                self.proc.poll(), self.transcript()))
        self._buf += data

    def _line(self, deadline):
        while b"\n" not in self._buf:
            self._read(deadline)
        line, self._buf = self._buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def _event(self):
        deadline = time.monotonic() + self.timeout
        while not self._buf:
            self._read(deadline)
        kind = self._buf[0] - ord("0")
        self._buf = self._buf[1:]
        if not 0 <= kind <= IO_FINALIZE:
            raise FzError("unknown event type %r; it said:\n%s" % (
                kind, self.transcript()))
        text = [self._line(deadline) for _ in range(LINES.get(kind, 1))]
        self.events.append((kind, text))
        return kind, text

    def _send(self, line):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def transcript(self):
        return "\n".join("%d %s" % (k, " | ".join(t)) for k, t in self.events[-60:])

    # ---- commands -------------------------------------------------------

    def command(self, cmd, end="\n"):
        """Sends one command; answers fzsftp's questions until its reply.
        Returns (succeeded, reply text, listing entries)."""
        self.errors = []
        self.since = len(self.events)
        entries = []
        self.proc.stdin.write(cmd.encode() + end.encode())
        self.proc.stdin.flush()
        while True:
            kind, text = self._event()
            if kind == REPLY:
                return True, text[0], entries
            if kind == DONE:
                return text[0] == "1", "", entries
            if kind == ERROR:
                self.errors.append(text[0])
            elif kind == LISTENTRY:
                entries.append((text[0], int(text[1]), text[2]))
            elif kind == HOSTKEY:
                self.hostkey = text[0]
            elif kind in (ASK_HOSTKEY, ASK_HOSTKEY_CHANGED):
                self.questions.append(("hostkey", kind, text))
                # "y": trust and remember, "n": once, "": refuse.
                self._send(self.hostkey_answer)
            elif kind == ASK_HOSTKEY_BETTERALG:
                raise FzError("unexpected question: %r" % (text,))
            elif kind == REQUEST_PREAMBLE:
                self._preamble = text[0]
            elif kind == REQUEST_INSTRUCTION:
                self._instruction = text[0]
            elif kind == ASK_PASSWORD:
                if not self._answer_password(text[0]):
                    return False, "", entries
            elif kind in (QUOTA_RECV, QUOTA_SEND):
                # No speed limit: "-<direction>-".
                self._send("-%d-" % (kind - QUOTA_RECV))
            elif kind == IO_OPEN:
                self._io_open(int(text[0]))
            elif kind == IO_NEXTBUF:
                self._io_nextbuf(int(text[0]))
            elif kind == IO_FINALIZE:
                self._io_finalize(int(text[0]))

    def _answer_password(self, prompt):
        # As the engine does for a "normal" logon: the password for a
        # challenge; the same challenge twice means it was refused, and
        # the engine ends fzsftp ("Authentication failed.").
        challenge = (self._preamble, self._instruction, prompt)
        self.questions.append(("password", challenge))
        if self.password is None or challenge == self._last_challenge:
            self.proc.kill()
            self.proc.wait()
            return False
        self._last_challenge = challenge
        self._send(self.password)
        return True

    def _io_open(self, offset):
        # No resumed transfers here (reget/reput): uploads read from the
        # start, downloads write a new file.  The answer is "-<fd> <size>
        # <offset>" (CSftpFileTransferOpData::OnOpenRequested); the data
        # then goes through the start of the shared memory, one buffer at
        # a time (fzsftp copies each out before it asks for the next).
        assert self.transfer and offset == 0, (self.transfer, offset)
        self._send("-%d %d 0" % (self.shm, SHM_SIZE))

    def _io_nextbuf(self, processed):
        direction, f = self.transfer
        if direction == "put":
            data = f.read(SHM_SIZE)
            self.mem[0:len(data)] = data
            self._send("-0 %d" % len(data))
        else:
            f.write(self.mem[0:processed])
            self._send("-0 %d" % SHM_SIZE)

    def _io_finalize(self, last):
        direction, f = self.transfer
        f.write(self.mem[0:last])
        f.flush()
        self._send("-1")

    def must(self, cmd, end="\n"):
        good, reply, entries = self.command(cmd, end)
        if not good:
            raise FzError("%s failed: %s\n%s" % (cmd, self.errors, self.transcript()))
        return reply, entries

    def chmod(self, mode, name):
        """fzsftp's chmod always ends in failure, also when it changed the
        mode (sftp_cmd_chmod returns 0 whatever sftp_action_chmod did; the
        GUI then reports an error over a done change): what tells is
        no error and its status line "<path>: <old> -> <new>"."""
        self.command("chmod %s %s" % (mode, quote(name)))
        status = [t[0] for k, t in self.events[self.since:] if k == STATUS]
        if self.errors or not any(x.endswith(" -> %04o" % int(mode, 8)) for x in status):
            raise FzError("chmod %s %s failed: %s\n%s" % (mode, name, self.errors,
                                                          self.transcript()))

    def connect(self, user, port, keyfile=None):
        if keyfile:
            self.must("keyfile " + quote(str(keyfile)))
        return self.command('open "%s@%s" %d' % (user, HOST, port))

    def cd(self, path):
        reply, _ = self.must("cd " + quote(path))
        return reply

    def pwd(self):
        reply, _ = self.must("pwd")
        return reply

    def ls(self):
        """The listing FileZilla's parser gets: {name: (longname, mtime)}."""
        _, entries = self.must("ls")
        return {name: (longname, mtime) for longname, mtime, name in entries}

    def put(self, local_path, remote):
        with open(local_path, "rb") as f:
            self.transfer = ("put", f)
            try:
                # File transfers end in CRLF (CSftpFileTransferOpData).
                return self.command("put %s %s" % (quote(str(local_path)), quote(remote)),
                                    end="\r\n")
            finally:
                self.transfer = None

    def get(self, remote, local_path):
        with open(local_path, "wb") as f:
            self.transfer = ("get", f)
            try:
                return self.command("get %s %s" % (quote(remote), quote(str(local_path))),
                                    end="\r\n")
            finally:
                self.transfer = None

    def close(self):
        if self.shm is None:
            return
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.stderr.close()
        self.mem.close()
        os.close(self.shm)
        self.shm = None


@pytest.fixture
def filezilla(tmp_path):
    """Factory of fzsftp sessions, all closed at the end of the test; one
    HOME (FileZilla's stored host keys) for the whole test."""
    made = []

    def make(**kw):
        fz = FileZilla(str(tmp_path / "fzhome"),
                       str(tmp_path / ("fzsftp-%d.stderr" % len(made))), **kw)
        made.append(fz)
        return fz
    yield make
    for fz in made:
        fz.close()


def ppk(keys, name, tmp_path):
    """FileZilla converts OpenSSH keys to PuTTY's format before it names
    them to fzsftp (its key file settings do it with fzputtygen)."""
    out = tmp_path / (name + ".ppk")
    ok(run(["puttygen", keys.client(name), "-O", "private", "-o", str(out)]))
    return out


def fingerprint_ok(fz, s):
    # The Hostkey event: "<algorithm> <bits> SHA256:..."; its last word
    # is what FileZilla shows the user to compare.
    assert fz.hostkey, fz.transcript()
    assert fz.hostkey.split()[-1] in s.host_fingerprints("sha256"), fz.hostkey


def mode_of(longname):
    return longname.split()[0]


@pytest.mark.parametrize("auth", ["key", "password"])
def test_filezilla_alice(server, keys, filezilla, local, tmp_path, auth):
    s = server()
    fz = filezilla(password=harness.password("alice") if auth == "password" else None)
    good, _, _ = fz.connect("alice", s.port,
                            ppk(keys, "alice_ed25519", tmp_path) if auth == "key" else None)
    assert good, fz.transcript()
    fingerprint_ok(fz, s)
    asked = [q for q in fz.questions if q[0] == "hostkey"]
    assert len(asked) == 1 and asked[0][2] == [HOST, str(s.port)], fz.questions
    if auth == "password":
        assert any(q[0] == "password" for q in fz.questions), fz.questions
    method = "publickey" if auth == "key" else "keyboard-interactive"
    assert "Accepted %s for alice " % method in s.log()
    assert fz.pwd() == 'Current directory is: "%s"' % ALICE_HOME

    # What FileZilla does for a session: cd, ls, transfers (with mtime
    # kept), mkdir, rename, chmod, delete.
    assert fz.cd(ALICE_HOME) == 'New directory is: "%s"' % ALICE_HOME
    fz.must("mkdir " + quote("fz dir"))
    assert fz.cd(ALICE_HOME + "/fz dir") == 'New directory is: "%s/fz dir"' % ALICE_HOME
    good, _, _ = fz.put(local / "a.bin", "a.bin")
    assert good, fz.transcript()
    fz.must("chmtime 1700000000 " + quote("a.bin"))
    listing = fz.ls()
    assert set(listing) >= {".", "..", "a.bin"}, listing
    longname, mtime = listing["a.bin"]
    assert mtime == 1700000000 and str(3 << 20) in longname.split(), listing
    assert fz.must("mtime " + quote("a.bin"))[0] == "1700000000"
    good, _, _ = fz.get("a.bin", tmp_path / "back.bin")
    assert good, fz.transcript()
    assert sha256_file(tmp_path / "back.bin") == sha256_file(local / "a.bin")
    fz.must("mv %s %s" % (quote("a.bin"), quote("renamed.bin")))
    fz.chmod("640", "renamed.bin")
    fz.must("mkdir " + quote("sub"))
    good, _, _ = fz.put(local / "a.bin", "sub/gone.bin")
    assert good, fz.transcript()
    listing = fz.ls()
    assert mode_of(listing["renamed.bin"][0]) == "-rw-r-----", listing
    assert mode_of(listing["sub"][0]).startswith("d"), listing
    assert "a.bin" not in listing
    fz.must("rm " + quote("sub/gone.bin"))
    fz.must("rmdir " + quote("sub"))

    d = ALICE_HOME + "/fz dir"
    st = os.stat(d + "/renamed.bin")
    assert (st.st_uid, st.st_mode & 0o7777, int(st.st_mtime)) == (harness.ALICE, 0o640, 1700000000)
    assert sha256_file(d + "/renamed.bin") == sha256_file(local / "a.bin")
    assert sorted(os.listdir(d)) == ["renamed.bin"]
    # Failures are failures, not hangs: a missing file, a foreign one.
    good, _, _ = fz.get("/nonexistent", tmp_path / "none")
    assert not good
    good, _, _ = fz.command("rm " + quote("/etc/hostname"))
    assert not good and os.path.exists("/etc/hostname")
    fz.close()

    # The key trusted with "y" is remembered: no question the next time.
    assert os.path.exists(tmp_path / "fzhome" / ".putty" / "sshhostkeys")
    again = filezilla(password=fz.password)
    good, _, _ = again.connect("alice", s.port,
                               ppk(keys, "alice_ed25519", tmp_path) if auth == "key" else None)
    assert good, again.transcript()
    assert not [q for q in again.questions if q[0] == "hostkey"], again.questions
    again.close()


def test_filezilla_refused_hostkey_and_password(server, filezilla):
    s = server()
    # Refusing the host key ends the connection before any login.
    fz = filezilla(hostkey_answer="", password=harness.password("alice"))
    good, _, _ = fz.connect("alice", s.port)
    assert not good and not [q for q in fz.questions if q[0] == "password"]
    # A wrong password: FileZilla gives up when asked the same again.
    fz = filezilla(hostkey_answer="n", password="wrong")
    good, _, _ = fz.connect("alice", s.port)
    assert not good
    prompts = [q for q in fz.questions if q[0] == "password"]
    assert len(prompts) == 2 and prompts[0] == prompts[1], fz.questions
    assert harness.wait_for(lambda: "Failed keyboard-interactive for alice" in s.log(), 5)


@pytest.mark.parametrize("profile", ["login", "strict"])
def test_filezilla_sftp_only(server, keys, filezilla, chroot_home, local, tmp_path, profile):
    s = server(SFTP_ONLY + "\tSandboxProfile %s\n" % profile)
    fz = filezilla(hostkey_answer="n")
    good, _, _ = fz.connect("bob", s.port, ppk(keys, "bob_ed25519", tmp_path))
    assert good, fz.transcript()
    fingerprint_ok(fz, s)
    # The chroot is the whole world: home is /, and / holds its content.
    assert fz.pwd() == 'Current directory is: "/"'
    assert fz.cd("/") == 'New directory is: "/"'
    root = fz.ls()
    assert set(root) == {".", ".."} | set(os.listdir(chroot_home)), root
    assert {"readme.txt", "upload"} <= set(root)
    assert fz.cd("/..") == 'New directory is: "/"'
    assert set(fz.ls()) == set(root)
    assert not fz.command("cd " + quote("/etc"))[0]
    good, _, _ = fz.get("/etc/passwd", tmp_path / "passwd")
    assert not good
    good, _, _ = fz.get("/readme.txt", tmp_path / "readme.txt")
    assert good and (tmp_path / "readme.txt").read_text() == "inside the chroot\n"
    # The chroot itself is root's: nothing is written there.
    assert not fz.command("mkdir " + quote("/evil"))[0]
    good, _, _ = fz.put(local / "a.bin", "/evil.bin")
    assert not good

    assert fz.cd("/upload") == 'New directory is: "/upload"'
    good, _, _ = fz.put(local / "a.bin", "a.bin")
    assert good, fz.transcript()
    fz.must("chmtime 1700000000 " + quote("a.bin"))
    assert fz.must("mtime " + quote("/upload/a.bin"))[0] == "1700000000"
    good, _, _ = fz.get("a.bin", tmp_path / "back.bin")
    assert good, fz.transcript()
    assert sha256_file(tmp_path / "back.bin") == sha256_file(local / "a.bin")
    fz.must("mv %s %s" % (quote("a.bin"), quote("/upload/renamed.bin")))
    fz.chmod("600", "renamed.bin")
    fz.must("mkdir " + quote("d"))
    fz.must("mkdir " + quote("gone"))
    fz.must("rmdir " + quote("gone"))
    good, _, _ = fz.put(local / "a.bin", "d/rm-me.bin")
    assert good, fz.transcript()
    fz.must("rm " + quote("d/rm-me.bin"))
    listing = fz.ls()
    assert set(listing) == {".", "..", "renamed.bin", "d"}, listing
    assert mode_of(listing["renamed.bin"][0]) == "-rw-------", listing

    up = os.path.join(chroot_home, "upload")
    st = os.stat(os.path.join(up, "renamed.bin"))
    assert (st.st_uid, st.st_mode & 0o7777, int(st.st_mtime)) == (harness.BOB, 0o600, 1700000000)
    assert sha256_file(os.path.join(up, "renamed.bin")) == sha256_file(local / "a.bin")
    assert sorted(os.listdir(up)) == ["d", "renamed.bin"]
    assert os.listdir(os.path.join(up, "d")) == []
    assert not os.path.exists(os.path.join(chroot_home, "evil"))
    assert not os.path.exists(os.path.join(chroot_home, "evil.bin"))
    fz.close()
    starts = s.audit_records("session-start")
    assert [e.get("SSHAND_COMMAND") for e in starts] == ["internal-sftp"], starts
