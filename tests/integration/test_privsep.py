"""Issue 7 end to end: privilege separation seen from outside, with the real
OpenSSH client against sshand under systemd-socket-activate.

While a client waits at the password prompt, the network child (the child
of the per-connection sshand whose uid is PrivsepUser, harness.PRIVSEP_UID here) is
inspected through /proc: ids, capability sets, no_new_privs, seccomp mode,
dumpability, root directory and open descriptors.  After login every
process of the connection is inspected again.  The monitor's side of the
protocol is attacked by taking a duplicate of the network child's end of
the socketpair (pidfd_open + pidfd_getfd, as root) and sending requests
that are out of state or malformed.  Finally either side is killed.

Which descriptors the network child may hold (handler/front/main.c,
isolate_socket): 0 and 1 are /dev/null; 2 is the server's log because the
harness runs `sshand -e` (under systemd it is the journal stream); then the
TCP connection and the SOCK_SEQPACKET socketpair to the monitor.  Nothing
else: not the ban file, not the audit trail, not the config.
"""

import ctypes
import os
import re
import signal
import socket
import struct
import subprocess
import time

import pytest

import harness
from harness import HOST, PRIVSEP_UID, WORK, PtyClient, wait_for

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAPS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")
ALICE_UID = harness.USERS["alice"][0]

SYS_PIDFD_OPEN = 434
SYS_PIDFD_GETFD = 438
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def ps_types():
    """enum ps_type of handler/privsep/protocol.h as {name: value}, so the
    test follows the header rather than a copy of it."""
    with open(os.path.join(REPO, "handler", "privsep", "protocol.h")) as f:
        text = f.read()
    body = re.search(r"enum ps_type\s*\{(.*?)\};", text, re.S).group(1)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    out, v = {}, 0
    for item in body.split(","):
        item = item.strip()
        if not item:
            continue
        name, _, val = item.partition("=")
        name = name.strip()
        if val.strip():
            v = int(val.strip(), 0)
        out[name] = v
        v += 1
    return out


PS = ps_types()


def u32(v):
    return struct.pack(">I", v)


def sstr(b):
    if isinstance(b, str):
        b = b.encode()
    return u32(len(b)) + b


# ---- processes --------------------------------------------------------------

children = harness.children


def uid_of(pid):
    st = harness.proc_status(pid)
    return int(st["Uid"].split()[0]) if st else None


# monitor pid -> its guardian's: the connection's process, whose exit
# code (the monitor's, passed on) the listener logs.
GUARDIAN_OF = {}


def find_procs(s, timeout=15):
    """(guardian, monitor, network child) pids of the server's only
    connection: the guardian is the listener's child, the monitor the
    guardian's, the network child (PrivsepUser) the monitor's."""
    def look():
        conns = s.connections()
        if len(conns) != 1:
            return None
        mons = children(conns[0])
        if len(mons) != 1:
            return None
        kids = [k for k in children(mons[0]) if uid_of(k) == PRIVSEP_UID]
        return (conns[0], mons[0], kids[0]) if len(kids) == 1 else None
    procs = wait_for(look, timeout)
    assert procs, "no guardian/monitor/network child; tree %r\n%s" % (
        [(p, harness.proc_status(p) and harness.proc_status(p).get("Name"))
         for p in s.tree()], s.log()[-3000:])
    GUARDIAN_OF[procs[1]] = procs[0]
    return procs


def find_pair(s, timeout=15):
    """(monitor pid, network child pid) of the server's only connection."""
    return find_procs(s, timeout)[1:]


def alive(pid):
    st = harness.proc_status(pid)
    return st is not None and not st.get("State", "").startswith(("Z", "X"))


def gone(pids, timeout):
    return wait_for(lambda: not any(alive(p) for p in pids), timeout)


def confinement_problems(pid, uid, root_dir=None, nnp=True):
    """What is wrong with a process that should be fully unprivileged.
    nnp false: a session whose policy allows setuid programs (issue 17),
    with no_new_privs unset and the bounding set they gain from."""
    st = harness.proc_status(pid)
    assert st, "process %d vanished" % pid
    out = []
    # Every test account's primary gid equals its uid.
    for k in ("Uid", "Gid"):
        got, want = st[k].split(), [str(uid)] * 4
        if got != want:
            out.append("%s %s, expected %s" % (k, got, want))
    for k in CAPS:
        want = 0 if nnp or k != "CapBnd" else harness.own_bounding_set()
        if int(st[k], 16) != want:
            out.append("%s %s" % (k, st[k]))
    if st.get("NoNewPrivs") != ("1" if nnp else "0"):
        out.append("NoNewPrivs %s" % st.get("NoNewPrivs"))
    if st.get("Seccomp") != "2":
        out.append("Seccomp %s" % st.get("Seccomp"))
    if root_dir is not None:
        r = os.readlink("/proc/%d/root" % pid)
        if os.path.realpath(r) != os.path.realpath(root_dir):
            out.append("root %s, expected %s" % (r, root_dir))
    return ["pid %d (%s): %s" % (pid, st.get("Name"), p) for p in out]


def socket_inodes(table):
    """Inodes of the sockets in /proc/net/<table> (tcp, tcp6, unix)."""
    inodes = set()
    with open("/proc/net/" + table) as f:
        f.readline()  # the header
        for line in f:
            cols = line.split()
            if table == "unix":
                inodes.add(cols[6])
            else:
                inodes.add(cols[9])
    return inodes


def fd_map(pid):
    d = "/proc/%d/fd" % pid
    out = {}
    for n in os.listdir(d):
        try:
            out[int(n)] = os.readlink(os.path.join(d, n))
        except OSError:
            pass
    return out


def classify_fds(pid):
    """{fd: description}: '/dev/null', a path, 'tcp', 'unix' or the raw
    link for anything else."""
    tcp = socket_inodes("tcp") | socket_inodes("tcp6")
    unix = socket_inodes("unix")
    out = {}
    for fd, link in fd_map(pid).items():
        m = re.fullmatch(r"socket:\[(\d+)\]", link)
        if m:
            out[fd] = "tcp" if m.group(1) in tcp else "unix" if m.group(1) in unix else link
        else:
            out[fd] = link
    return out


def monitor_fd_of(netchild):
    """The network child's end of the socketpair (its only unix socket)."""
    fds = [fd for fd, kind in classify_fds(netchild).items() if kind == "unix"]
    assert len(fds) == 1, classify_fds(netchild)
    return fds[0]


def grab_fd(pid, fd):
    """A duplicate of another process's descriptor (root may: ptrace
    access mode ATTACH_REALCREDS with CAP_SYS_PTRACE)."""
    pidfd = _libc.syscall(SYS_PIDFD_OPEN, pid, 0)
    if pidfd < 0:
        raise OSError(ctypes.get_errno(), "pidfd_open(%d)" % pid)
    try:
        nfd = _libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
        if nfd < 0:
            raise OSError(ctypes.get_errno(), "pidfd_getfd(%d, %d)" % (pid, fd))
    finally:
        os.close(pidfd)
    return socket.socket(fileno=nfd)


def exit_code_of(s, pid, timeout=15):
    """The exit code of the connection process pid (or of the guardian of
    the monitor pid), as the listener logged it."""
    pid = GUARDIAN_OF.get(pid, pid)

    def code():
        m = re.search(r"Child %d died with code (\d+)" % pid, s.log())
        return int(m.group(1)) if m else None
    wait_for(lambda: code() is not None, timeout)
    return code()


# ---- clients ----------------------------------------------------------------

def password_client(s, cmd="echo logged-in"):
    """ssh at the password prompt (a pty, so no sshpass): returns the
    PtyClient once "password:" has been shown."""
    argv = s.ssh_common() + [
        "-o", "PreferredAuthentications=password",
        "-o", "PubkeyAuthentication=no",
        "-o", "NumberOfPasswordPrompts=1",
        "alice@%s" % HOST, "--", cmd]
    c = PtyClient(argv)
    c.expect(r"password: ", 20)
    return c


def password_refused(s, c):
    """The client at the prompt reads its terminal, not the network: it
    notices a dead connection only when it sends the (right) password.
    True if the server side is gone and the password then gets nowhere."""
    if not wait_for(lambda: not s.connections(), 10):
        return False
    c.send(harness.password("alice") + "\n")
    try:
        rc = c.wait(15)
    except AssertionError:
        return False
    return rc == 255 and b"logged-in" not in c.buf


def session_client(s, cmd="sleep 30"):
    """A key login running cmd (no pty); returns the Popen once the
    session process exists."""
    # stdin stays open: at the client's EOF the child's stdin pipe closes.
    p = subprocess.Popen(s.ssh_argv("alice", cmd), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=harness.client_env())
    mon, net = find_pair(s)
    sess = wait_for(lambda: [k for k in children(mon) if k != net and
                             not harness.is_keyholder(harness.proc_status(k))], 15)
    assert sess, "no session process under the monitor\n" + s.log()[-3000:]
    return p, mon, net, sess


# ---- the network child before authentication --------------------------------

def test_netchild_confined_at_password_prompt(server):
    s = server()
    c = password_client(s)
    try:
        mon, net = find_pair(s)
        problems = confinement_problems(net, PRIVSEP_UID,
                                        root_dir=os.path.join(WORK, "empty"))
        assert not problems, problems
        # Not dumpable: /proc/<pid> files belong to root, not to PRIVSEP_UID.
        assert os.stat("/proc/%d/status" % net).st_uid == 0
        st = harness.proc_status(net)
        assert st["Groups"] == "", st["Groups"]
        # The monitor is still root (it holds PAM, the ban file, the config).
        mst = harness.proc_status(mon)
        assert mst["Uid"].split() == ["0"] * 4, mst["Uid"]

        # Inspection changed nothing: the login goes through.
        c.send(harness.password("alice") + "\n")
        c.expect(r"logged-in", 20)
        assert c.wait(15) == 0
    finally:
        c.close()


def test_netchild_fds_at_password_prompt(server):
    s = server()
    c = password_client(s)
    try:
        mon, net = find_pair(s)
        fds = classify_fds(net)
        kinds = sorted(fds.values())
        expected = sorted(["/dev/null", "/dev/null", s.log_path, "tcp", "unix"])
        assert kinds == expected, "network child fds: %r" % fds
        assert fds[0] == fds[1] == "/dev/null" and fds[2] == s.log_path, fds
    finally:
        c.close()


def mapped_files(pid):
    """The file names mapped into pid (its /proc/<pid>/maps)."""
    out = set()
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) == 6 and parts[5].startswith("/"):
                out.add(os.path.basename(parts[5].strip()))
    return out


# What parses and answers strangers' bytes: the network child's alone.
NET_ONLY_LIBS = ("libssh.so", "libgssapi_krb5.so", "libkrb5.so", "sshand-net.so")


def test_monitor_maps_no_network_code(server):
    """The root monitor never has libssh or the Kerberos libraries libssh
    pulls in mapped (main.c loads them in the network child only; the
    monitor has OpenSSL's libcrypto, for the key holder it forks and
    to verify user signatures):
    neither at the password prompt, while it is root, nor in the session.
    The network child has them, so the check can see them."""
    s = server()
    c = password_client(s, cmd="sleep 5; echo logged-in")
    try:
        mon, net = find_pair(s)
        m, n = mapped_files(mon), mapped_files(net)
        assert not [x for x in m if x.startswith(NET_ONLY_LIBS)], sorted(m)
        assert "sshand-monitor.so" in " ".join(m), sorted(m)
        assert [x for x in n if x.startswith("libssh.so")], sorted(n)
        c.send(harness.password("alice") + "\n")
        assert wait_for(lambda: any(harness.proc_status(q).get("Name") == "sleep"
                                    for q in s.tree()), 15), s.tree()
        m = mapped_files(mon)
        assert not [x for x in m if x.startswith(NET_ONLY_LIBS)], sorted(m)
        # PAM's modules are loaded by now, and still nothing of the above.
        assert [x for x in m if x.startswith("pam_unix.so")], sorted(m)
        c.expect(r"logged-in", 20)
        assert c.wait(15) == 0
    finally:
        c.close()


# MIT Kerberos's libraries, which Debian's libssh links: the network child
# has sshand-nogssapi.so in their place (handler/net/nogssapi/).
KERBEROS_LIBS = ("libgssapi_krb5.so", "libkrb5.so", "libk5crypto.so",
                 "libkrb5support.so", "libcom_err.so", "libkeyutils.so")
KRB5_OID = bytes.fromhex("06092a864886f712010202")


def gssapi_request(s, user="alice"):
    """A gssapi-with-mic request (RFC 4462), which sshand never offers but
    libssh answers itself, then a password login on the same connection:
    the methods the server offered, the exception its answer raised (None
    if the request went unanswered), and whether the login went through."""
    import threading

    import paramiko

    sock = socket.create_connection((HOST, s.port), timeout=15)
    t = paramiko.Transport(sock)
    try:
        t.start_client(timeout=15)
        t.auth_timeout = 10
        try:
            t.auth_none(user)
        except paramiko.BadAuthenticationType as e:
            offered = e.allowed_types
        # paramiko has no GSSAPI without python3-gssapi: the request by
        # hand, its answer through paramiko's own handler.
        handler = t.auth_handler
        handler.auth_event = event = threading.Event()
        handler.auth_method = "gssapi-with-mic"
        m = paramiko.Message()
        m.add_byte(paramiko.common.cMSG_USERAUTH_REQUEST)
        m.add_string(user)
        m.add_string("ssh-connection")
        m.add_string("gssapi-with-mic")
        m.add_int(1)
        m.add_string(KRB5_OID)
        t._send_message(m)
        answer = None
        try:
            handler.wait_for_response(event)
        except paramiko.SSHException as e:
            answer = e
        if answer is None:
            return offered, None, False
        t.auth_password(user, harness.password(user))
        return offered, answer, t.is_authenticated()
    finally:
        t.close()
        sock.close()


def test_network_child_maps_no_kerberos(server):
    """libssh's GSSAPI dependency is bound to sshand's stand-in: no
    Kerberos library in the network child, at the password prompt and in
    the session.  A client that asks for gssapi-with-mic all the same gets
    a plain failure (libssh finds no mechanism), and logs in afterwards."""
    import paramiko

    s = server()
    c = password_client(s, cmd="sleep 5; echo logged-in")
    try:
        mon, net = find_pair(s)
        n = mapped_files(net)
        assert [x for x in n if x.startswith("libssh.so")], sorted(n)
        assert "sshand-nogssapi.so" in n, sorted(n)
        assert not [x for x in n if x.startswith(KERBEROS_LIBS)], sorted(n)
        c.send(harness.password("alice") + "\n")
        assert wait_for(lambda: any(harness.proc_status(q).get("Name") == "sleep"
                                    for q in s.tree()), 15), s.tree()
        n = mapped_files(net)
        assert not [x for x in n if x.startswith(KERBEROS_LIBS)], sorted(n)
        c.expect(r"logged-in", 20)
        assert c.wait(15) == 0
    finally:
        c.close()
    offered, answer, authed = gssapi_request(s)
    assert "gssapi-with-mic" not in offered, offered
    assert isinstance(answer, paramiko.BadAuthenticationType), answer
    assert "gssapi-with-mic" not in answer.allowed_types, answer.allowed_types
    assert authed
    assert "Kerberos's GSSAPI library" not in s.log()


# A stand-in that lacks a function libssh imports (as an older sshand's
# would against a newer libssh): the soname and version, one function.
LACKING_STUB = r"""
__attribute__((visibility("default"))) unsigned gss_indicate_mechs(void) { return 13u << 16; }
"""


@pytest.mark.parametrize("stub", ["lacking", "missing"])
def test_kerberos_loaded_when_the_stand_in_cannot_be(server, tmp_path, stub):
    """The stand-in is a cost saving, never a way to break logins: if it
    lacks a function libssh needs, or is not there, the network child's
    half is loaded with the real library, and the log says so."""
    target = os.path.join(harness.BUILD, "sshand-nogssapi.so")
    if stub == "lacking":
        src = tmp_path / "stub.c"
        src.write_text(LACKING_STUB)
        (tmp_path / "stub.map").write_text("gssapi_krb5_2_MIT { global: *; };\n")
        replacement = str(tmp_path / "stub.so")
        subprocess.run(["cc", "-shared", "-fPIC", "-o", replacement,
                        "-Wl,-soname,libgssapi_krb5.so.2",
                        "-Wl,--version-script=" + str(tmp_path / "stub.map"), str(src)],
                       check=True)
    else:
        replacement = "/dev/null"
    subprocess.run(["mount", "--bind", replacement, target], check=True)
    try:
        s = server()
        p, mon, net, sess = session_client(s, cmd="sleep 5")
        try:
            n = mapped_files(net)
            assert [x for x in n if x.startswith("libgssapi_krb5.so")], sorted(n)
            assert "sshand-nogssapi.so" not in n and "stub.so" not in n, sorted(n)
        finally:
            p.kill()
            p.wait()
        log = s.log()
        if stub == "lacking":
            assert "loading sshand-net.so with Kerberos's GSSAPI library " \
                "instead of sshand-nogssapi.so" in log, log[-3000:]
        else:
            assert "Kerberos's GSSAPI library is loaded instead" in log, log[-3000:]
        r = s.ssh("alice", "echo in")
        assert r.returncode == 0 and r.stdout.strip() == "in", r.stderr
    finally:
        subprocess.run(["umount", target], check=True)


# ---- after login ------------------------------------------------------------

@pytest.mark.parametrize("nnp", [False, True], ids=["setuid-ok", "no-new-privileges"])
def test_no_privilege_left_after_login(server, nnp):
    # The default (login: setuid programs work) and NoNewPrivileges yes,
    # which gives every process of the connection no_new_privs and cuts
    # the bounding sets, as the unit's hardening.conf does.
    s = server("NoNewPrivileges yes\n" if nnp else "")
    p, mon, net, sess = session_client(s)
    try:
        guardian = GUARDIAN_OF[mon]
        # The guardian and the monitor stay root; the monitor with the few
        # capabilities it still needs and no seccomp filter (the sessions
        # have their own).
        assert uid_of(guardian) == 0 and children(guardian) == [mon]
        problems = harness.guardian_problems(guardian)
        problems += harness.root_monitor_problems(mon, setuid_ok=not nnp)
        problems += confinement_problems(net, PRIVSEP_UID,
                                         root_dir=os.path.join(WORK, "empty"))
        for pid in sess:
            problems += confinement_problems(pid, ALICE_UID, nnp=nnp)
        # Every process of the connection, whatever its place in the tree:
        # the key holder keeps uid 0 and nothing else of root.
        for pid in s.tree():
            st = harness.proc_status(pid)
            if harness.is_keyholder(st):
                problems += harness.keyholder_problems(st)
            elif pid not in [guardian, mon, net] + sess:
                problems += confinement_problems(pid, ALICE_UID, nnp=nnp)
        assert not problems, problems
    finally:
        p.kill()
        p.wait(10)


def test_netchild_fds_after_login(server):
    """After login the network child holds what it held before plus the
    session's pipes (SCM_RIGHTS from the monitor): still no file."""
    s = server()
    p, mon, net, sess = session_client(s)
    try:
        fds = classify_fds(net)
        files = [v for v in fds.values()
                 if not v.startswith(("pipe:", "tcp", "unix")) and
                 v not in ("/dev/null", s.log_path)]
        assert not files, fds
        assert sorted(fds.values()).count("tcp") == 1, fds
        assert sorted(fds.values()).count("unix") == 1, fds
        # stdin, stdout, stderr of the session
        assert len([v for v in fds.values() if v.startswith("pipe:")]) == 3, fds
    finally:
        p.kill()
        p.wait(10)


# ---- requests the monitor must refuse ---------------------------------------

PS_MAX_MODES = 1024  # handler/privsep/protocol.h


def _session_open(channel=0, modes=b""):
    """A well-formed PS_SESSION_OPEN: a shell, no pty; channel id, then
    kind, command, pty, term, cols, rows, xpix, ypix, terminal modes, and
    no environment."""
    return (bytes([PS["PS_SESSION_OPEN"]]) + u32(channel) + u32(0) + sstr("") +
            u32(0) + sstr("") + u32(80) + u32(24) + u32(0) + u32(0) + sstr(modes) +
            u32(0))


PREAUTH_ATTACKS = {
    # name: (the datagram, what the audit record's reason must say)
    # "start a shell" before anyone logged in
    "session-open-before-auth": (_session_open, r"not allowed before authentication"),
    # a password request whose password field claims 100 bytes and has 2
    "truncated-password": (lambda: (bytes([PS["PS_AUTH_PASSWORD"]]) + sstr("alice") +
                                    u32(100) + b"ab"), r"malformed"),
    # a user name field cut in the middle of its length
    "truncated-length": (lambda: bytes([PS["PS_AUTH_PASSWORD"]]) + b"\x00\x00",
                         r"malformed"),
    # a type that does not exist
    "unknown-type": (lambda: bytes([200]) + u32(0), r"malformed"),
    # an answer only the monitor sends
    "monitor-message": (lambda: bytes([PS["PS_AUTH_RESULT"]]) + u32(1) + u32(0),
                        r"not allowed"),
    # longer than PS_MAX_MSG: the monitor sees a truncated datagram
    "oversized": (lambda: (bytes([PS["PS_AUTH_PASSWORD"]]) + sstr("alice") +
                           sstr("x" * 70000)), r"malformed"),
    # a second client version (the child sent the real one after kex)
    "repeated-client-info": (lambda: bytes([PS["PS_CLIENT_INFO"]]) + sstr("SSH-2.0-x"),
                             r"repeated|malformed"),
}


def _assert_violation(s, mon, net, client_done, before):
    assert gone([mon, net], 10), "monitor/network child still alive: %r" % (
        [(p, alive(p)) for p in (mon, net)])
    code = exit_code_of(s, mon)
    assert code not in (None, 0), "monitor exit code %r\n%s" % (code, s.log()[-3000:])
    assert client_done(), "the client's connection survived"
    recs = s.audit_records()[before:]
    ev = [r.get("SSHAND_EVENT") for r in recs]
    assert "privsep-violation" in ev, ev
    v = recs[ev.index("privsep-violation")]
    assert v.get("SSHAND_REMOTE_ADDR") == HOST, v
    assert "privilege separation violation" in s.log()
    return code, v


@pytest.mark.parametrize("attack", list(PREAUTH_ATTACKS))
def test_preauth_violation_kills_connection(server, attack):
    s = server()
    c = password_client(s)
    try:
        mon, net = find_pair(s)
        before = len(s.audit_records())
        sock = grab_fd(net, monitor_fd_of(net))
        try:
            sock.send(PREAUTH_ATTACKS[attack][0]())
        finally:
            sock.close()
        code, rec = _assert_violation(s, mon, net, lambda: password_refused(s, c),
                                      before)
        assert code == 5, code  # EXIT_PROTOCOL
        assert re.search(PREAUTH_ATTACKS[attack][1], rec.get("SSHAND_REASON", "")), rec
    finally:
        c.close()


def test_grabbed_fd_alone_is_harmless(server):
    """The control for the attacks: taking and closing a duplicate of the
    child's end changes nothing, and a request allowed in this state (the
    traffic statistics) is accepted."""
    s = server()
    c = password_client(s)
    try:
        mon, net = find_pair(s)
        sock = grab_fd(net, monitor_fd_of(net))
        try:
            sock.send(bytes([PS["PS_STATS"]]) + u32(0) + u32(1) + u32(0) + u32(2) +
                      sstr("client-closed"))
        finally:
            sock.close()
        time.sleep(0.5)
        assert alive(mon) and alive(net)
        c.send(harness.password("alice") + "\n")
        c.expect(r"logged-in", 20)
        assert c.wait(15) == 0
    finally:
        c.close()
    assert "privsep-violation" not in [r.get("SSHAND_EVENT") for r in s.audit_records()]


def test_fd_passed_to_monitor_is_a_violation(server):
    """The same allowed request with a descriptor attached (SCM_RIGHTS):
    the monitor never accepts descriptors from the child."""
    s = server()
    c = password_client(s)
    try:
        mon, net = find_pair(s)
        before = len(s.audit_records())
        sock = grab_fd(net, monitor_fd_of(net))
        try:
            with open("/dev/null", "rb") as f:
                socket.send_fds(sock, [bytes([PS["PS_STATS"]]) + u32(0) + u32(1) +
                                       u32(0) + u32(2) + sstr("client-closed")],
                                [f.fileno()])
        finally:
            sock.close()
        code, rec = _assert_violation(s, mon, net, lambda: password_refused(s, c),
                                      before)
        assert code == 5, code
        assert "descriptor" in rec.get("SSHAND_REASON", ""), rec
    finally:
        c.close()


POSTAUTH_ATTACKS = {
    # name: (the datagram, what the audit record's reason must say)
    # an authentication request after login is out of state
    "auth-after-login": (lambda: (bytes([PS["PS_AUTH_PASSWORD"]]) + sstr("alice") +
                                  sstr(harness.password("alice"))),
                         r"after authentication"),
    # a session request, on a channel not in use, whose terminal modes
    # are one byte longer than the monitor accepts
    "oversized-pty-modes": (lambda: _session_open(99, b"\x00" * (PS_MAX_MODES + 1)),
                            r"malformed session_open request"),
    # the running session's channel (0) "closed after 300 idle seconds":
    # no ChannelTimeout gives that, and believing it would free a
    # MaxSessions slot
    "idle-close-without-channel-timeout": (
        lambda: bytes([PS["PS_SESSION_CLOSE"]]) + u32(0) + u32(300),
        r"no ChannelTimeout gives"),
    # the same with a ChannelTimeout of that length, but for forwarded
    # connections, and the session older than it: a session's channel
    # (session:command) has no timeout, so the claim is still false
    "idle-close-with-another-types-timeout": (
        lambda: bytes([PS["PS_SESSION_CLOSE"]]) + u32(0) + u32(1),
        r"no ChannelTimeout gives",
        "ChannelTimeout direct-tcpip=1 forwarded-tcpip=1", 1.5),
}


@pytest.mark.parametrize("attack", list(POSTAUTH_ATTACKS))
def test_postauth_violation_kills_connection(server, attack):
    """After login the monitor's requests are checked as strictly; the
    session started before must not outlive the connection."""
    # (payload, reason[, config, seconds the session runs first])
    extra, wait = (POSTAUTH_ATTACKS[attack][2:] + ("", 0))[:2]
    s = server("KillUserProcesses yes\n" + extra)  # nothing may outlive it
    p, mon, net, sess = session_client(s)
    time.sleep(wait)
    try:
        before = len(s.audit_records())
        sock = grab_fd(net, monitor_fd_of(net))
        try:
            sock.send(POSTAUTH_ATTACKS[attack][0]())
        finally:
            sock.close()

        def client_done():
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                return False
            return p.returncode == 255
        code, rec = _assert_violation(s, mon, net, client_done, before)
        assert code == 5, code
        assert re.search(POSTAUTH_ATTACKS[attack][1], rec.get("SSHAND_REASON", "")), rec
        assert gone(sess, 5), "session processes outlived the connection: %r" % sess
    finally:
        if p.poll() is None:
            p.kill()
        p.wait(10)


# ---- either side killed -----------------------------------------------------

def killed_reason(s, before):
    """The reason of the one disconnect record written since before."""
    gone_recs = [r for r in s.audit_records()[before:] if r.get("SSHAND_EVENT") == "disconnect"]
    assert len(gone_recs) == 1, gone_recs
    return gone_recs[0].get("SSHAND_REASON")


def test_kill_netchild_mid_session(server):
    s = server("KillUserProcesses yes")  # nothing may outlive it
    p, mon, net, sess = session_client(s)
    try:
        before = len(s.audit_records())
        os.kill(net, signal.SIGKILL)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            pytest.fail("the client's connection survived the network child")
        assert p.returncode == 255, p.returncode
        assert gone([mon, net] + sess, 10), \
            "left running: %r" % [q for q in [mon, net] + sess if alive(q)]
        assert wait_for(lambda: not harness.user_procs_left(), 5), \
            harness.user_procs_left()
        exit_code_of(s, mon)
        ev = [r.get("SSHAND_EVENT") for r in s.audit_records()[before:]]
        assert "session-end" in ev and "disconnect" in ev, ev
        # Not the client's doing: the child ended without its last word.
        assert killed_reason(s, before) == "server-error", s.audit_records()[before:]
        assert "killed by signal 9" in s.log(), s.log()
    finally:
        if p.poll() is None:
            p.kill()
        p.wait(10)


def test_kill_monitor_mid_session(server):
    s = server()
    p, mon, net, sess = session_client(s)
    try:
        os.kill(mon, signal.SIGKILL)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            pytest.fail("the client's connection survived the monitor")
        assert p.returncode == 255, p.returncode
        # The guardian ends it (test_session_end.py has the records).
        assert gone([net], 5), "network child outlived the monitor"
        assert wait_for(lambda: not harness.user_procs_left(), 5), \
            "left behind: %r" % harness.user_procs_left()
    finally:
        if p.poll() is None:
            p.kill()
        p.wait(10)


def test_kill_netchild_preauth(server):
    s = server()
    c = password_client(s)
    try:
        mon, net = find_pair(s)
        before = len(s.audit_records())
        os.kill(net, signal.SIGKILL)
        assert gone([mon, net], 10)
        assert password_refused(s, c)
        exit_code_of(s, mon)
        ev = [r.get("SSHAND_EVENT") for r in s.audit_records()[before:]]
        assert "disconnect" in ev, ev
        assert killed_reason(s, before) == "server-error", s.audit_records()[before:]
        assert "killed by signal 9" in s.log(), s.log()
    finally:
        c.close()
