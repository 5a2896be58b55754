"""The fixture itself: if these fail, every other result is meaningless.
They check the private namespace, the test users, and that pam_unix with
the fixture shadow (service `sshand`) says what the server tests expect."""

import ctypes
import ctypes.util
import grp
import json
import os
import pwd

import harness

PAM_SUCCESS = 0
PAM_PROMPT_ECHO_OFF = 1
PAM_PROMPT_ECHO_ON = 2


class PamMessage(ctypes.Structure):
    _fields_ = [("msg_style", ctypes.c_int), ("msg", ctypes.c_char_p)]


class PamResponse(ctypes.Structure):
    _fields_ = [("resp", ctypes.c_void_p), ("resp_retcode", ctypes.c_int)]


CONV_FUNC = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int,
                             ctypes.POINTER(ctypes.POINTER(PamMessage)),
                             ctypes.POINTER(ctypes.POINTER(PamResponse)),
                             ctypes.c_void_p)


class PamConv(ctypes.Structure):
    _fields_ = [("conv", CONV_FUNC), ("appdata_ptr", ctypes.c_void_p)]


def pam_check(user, pw, service="sshand"):
    """Returns (pam_authenticate result, pam_acct_mgmt result)."""
    libpam = ctypes.CDLL(ctypes.util.find_library("pam"))
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.calloc.restype = ctypes.c_void_p
    libc.strdup.restype = ctypes.c_void_p
    libc.strdup.argtypes = [ctypes.c_char_p]

    def conv(n, msgs, resp, _):
        arr = libc.calloc(n, ctypes.sizeof(PamResponse))
        r = ctypes.cast(arr, ctypes.POINTER(PamResponse))
        for i in range(n):
            if msgs[i].contents.msg_style in (PAM_PROMPT_ECHO_OFF, PAM_PROMPT_ECHO_ON):
                r[i].resp = libc.strdup(pw.encode())
        resp[0] = r
        return PAM_SUCCESS

    cb = CONV_FUNC(conv)
    handle = ctypes.c_void_p()
    c = PamConv(cb, None)
    rc = libpam.pam_start(service.encode(), user.encode(), ctypes.byref(c),
                          ctypes.byref(handle))
    assert rc == PAM_SUCCESS
    try:
        auth = libpam.pam_authenticate(handle, 0)
        acct = libpam.pam_acct_mgmt(handle, 0) if auth == PAM_SUCCESS else None
    finally:
        libpam.pam_end(handle, 0)
    return auth, acct


def test_private_namespace_and_users():
    assert os.readlink("/proc/self/ns/mnt") != os.environ.get("SSHAND_OUTER_MNT")
    for user, (uid, gid, home) in harness.USERS.items():
        pw = pwd.getpwnam(user)
        assert (pw.pw_uid, pw.pw_gid, pw.pw_dir) == (uid, gid, home)
    assert pwd.getpwnam("sshand").pw_uid == harness.PRIVSEP_UID
    assert "carol" in grp.getgrnam("sshstrict").gr_mem
    try:
        pwd.getpwnam("Alice")
        raise AssertionError("user Alice must not exist")
    except KeyError:
        pass
    # /home is this run's tmpfs, and homes belong to their users.
    st = os.stat("/home/alice")
    assert (st.st_uid, st.st_mode & 0o7777) == (harness.ALICE, 0o755)
    with open("/proc/self/mountinfo") as f:
        assert any(line.split()[4] == "/home" for line in f)


def test_su_to_test_user():
    r = harness.run(["su", "-s", "/bin/sh", "alice", "-c", "id -un; id -u; echo $HOME"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["alice", str(harness.ALICE), "/home/alice"]


def test_pam_unix_with_fixture_shadow():
    assert pam_check("alice", harness.password("alice")) == (0, 0)
    assert pam_check("alice", "wrong")[0] != 0
    assert pam_check("Alice", harness.password("alice"))[0] != 0
    assert pam_check("nosuchuser", "x")[0] != 0
    assert pam_check("locked", harness.password("locked"))[0] != 0
    auth, acct = pam_check("expired", harness.password("expired"))
    assert auth == 0 and acct not in (0, None)
    assert pam_check("root", harness.password("root")) == (0, 0)


def test_read_audit_waits_for_a_record_s_newline(tmp_path):
    """A record still being written is not read before its newline is
    there, and its rest never comes as a record of its own (the torn
    "line" test_forwarding once met reading the file line by line)."""
    path = str(tmp_path / "audit.jsonl")
    assert harness.read_audit(path) == []
    whole = '{"SSHAND_EVENT":"connect","MESSAGE":"Connection from 127.0.0.1 port 1"}\n'
    half = '{"SSHAND_EVENT":"disconnect","MESSAGE":"Disconnected from '
    rest = '127.0.0.1 port 1: client-closed"}\n'
    with open(path, "w") as f:
        f.write(whole + half)
    assert harness.read_audit(path) == [json.loads(whole)]
    with open(path, "a") as f:
        f.write(rest)
    assert [r["SSHAND_EVENT"] for r in harness.read_audit(path)] == ["connect", "disconnect"]
    assert harness.read_audit(path, "disconnect") == [json.loads(half + rest)]
