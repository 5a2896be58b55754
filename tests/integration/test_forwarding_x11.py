"""Issue 16, X11: ssh -X and -Y as against sshd (X11Forwarding, xauth or
~/.ssh/rc, DISPLAY=localhost:N.S, the display's listener the user's), a real X
client on the server reaching an X server (Xvfb) on the client's side,
and the policy that refuses it, with audit records, while the session
goes on."""

import os
import re
import secrets
import shutil
import socket
import subprocess
import threading
import time

import paramiko
import pytest

import harness
from harness import HOST, client_env, wait_for
from test_forwarding import fwd_records

XVFB = shutil.which("Xvfb")
X11_ON = "X11Forwarding yes"


def _free_display():
    for n in range(90, 200):
        if not os.path.exists("/tmp/.X11-unix/X%d" % n) and \
                not os.path.exists("/tmp/.X%d-lock" % n):
            return n
    raise RuntimeError("no free X display number")


@pytest.fixture
def xserver(tmp_path):
    """An X server on the client's side (Xvfb, Unix socket only, cookie
    authentication): the client environment that reaches it."""
    if XVFB is None:
        pytest.fail("Xvfb missing (tests/deps.sh test installs xvfb)")
    n = _free_display()
    auth = str(tmp_path / "Xauthority")
    cookie = secrets.token_hex(16)
    subprocess.run(["xauth", "-f", auth, "add", ":%d" % n, "MIT-MAGIC-COOKIE-1",
                    cookie], check=True, capture_output=True)
    p = subprocess.Popen([XVFB, ":%d" % n, "-nolisten", "tcp", "-auth", auth,
                          "-screen", "0", "640x480x24"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: os.path.exists("/tmp/.X11-unix/X%d" % n), 15)
        yield client_env({"DISPLAY": ":%d" % n, "XAUTHORITY": auth})
    finally:
        p.terminate()
        p.wait(10)


def _run(s, flags, cmd, env, key="alice_ed25519"):
    return subprocess.run(s.ssh_argv(key=key, flags=flags, cmd=cmd),
                          capture_output=True, text=True, timeout=60, env=env)


def _listeners(port):
    """(address, uid) of the TCP listeners on port, IPv4 and IPv6."""
    out = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as f:
            for line in f.readlines()[1:]:
                parts = line.split()
                addr, lport = parts[1].rsplit(":", 1)
                if parts[3] == "0A" and int(lport, 16) == port:
                    out.append((addr, int(parts[7])))
    return out


LOOPBACK4 = "0100007F"
LOOPBACK6 = "00000000000000000000000001000000"


@pytest.mark.parametrize("flag", ["-Y", "-X"])
def test_display_cookie_and_a_real_x_client(server, xserver, flag):
    s = server(X11_ON)
    r = _run(s, [flag], 'echo "display=$DISPLAY"; xauth list; '
             'xdpyinfo | grep -E "^(name of display|vendor string):"; '
             'cat /proc/net/tcp /proc/net/tcp6 > "$HOME/listeners"',
             xserver)
    assert r.returncode == 0, r.stderr
    m = re.search(r"^display=localhost:(\d+)\.0$", r.stdout, re.M)
    assert m, r.stdout
    n = int(m.group(1))
    assert n >= 10
    # The client's cookie, for the display as sshd names it to xauth.
    host = socket.gethostname()
    assert re.search(r"^%s/unix:%d\s+MIT-MAGIC-COOKIE-1\s+[0-9a-f]{32}$" %
                     (re.escape(host), n), r.stdout, re.M), r.stdout
    # A real X client on the server reached the Xvfb on the client's side.
    assert re.search(r"^name of display:\s+localhost:%d\.0$" % n, r.stdout,
                     re.M), (r.stdout, r.stderr)
    assert "The X.Org Foundation" in r.stdout, r.stdout
    # While the session ran, the display's port was the user's, on the
    # loopback only, both families.
    home = harness.USERS["alice"][2]
    with open(os.path.join(home, "listeners")) as f:
        rows = [line.split() for line in f.read().splitlines()[1:]]
    listening = sorted((row[1].rsplit(":", 1)[0], int(row[7])) for row in rows
                       if len(row) > 7 and row[3] == "0A" and
                       row[1].rsplit(":", 1)[1] == "%04X" % (6000 + n))
    assert listening == sorted([(LOOPBACK4, harness.ALICE), (LOOPBACK6, harness.ALICE)]), \
        listening
    st = os.stat(os.path.join(home, ".Xauthority"))
    assert (st.st_uid, st.st_mode & 0o777) == (harness.ALICE, 0o600)
    # Gone with the connection.
    assert wait_for(lambda: not _listeners(6000 + n), 10)
    recs = fwd_records(s)
    assert [x for x in recs if x["SSHAND_EVENT"] == "forward-open" and
            x["SSHAND_FORWARD_KIND"] == "x11-req" and
            x["SSHAND_FORWARD_DESTINATION"] == "localhost:%d.0" % n], recs
    assert wait_for(lambda: [x for x in fwd_records(s, "forward-close")
                             if x["SSHAND_FORWARD_KIND"] == "x11"], 10), recs
    closes = [x for x in fwd_records(s, "forward-close")
              if x["SSHAND_FORWARD_KIND"] == "x11"]
    assert closes[0]["SSHAND_FORWARD_DESTINATION"] == "localhost:%d.0" % n
    assert closes[0]["SSHAND_FORWARD_ORIGIN"].startswith(("127.0.0.1:", "[::1]:"))
    assert int(closes[0]["SSHAND_BYTES_IN"]) > 0
    assert int(closes[0]["SSHAND_BYTES_OUT"]) > 0
    assert [x for x in fwd_records(s, "forward-open") if x["SSHAND_FORWARD_KIND"] == "x11"]


def test_display_offset_and_the_next_free_display(server, xserver):
    # Display 20 is taken (as sshd does, sshand takes the next one).
    busy = socket.socket()
    busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        busy.bind((HOST, 6020))
    except OSError:
        busy.close()
        pytest.skip("port 6020 in use")
    busy.listen(1)
    try:
        s = server(X11_ON + "\nX11DisplayOffset 20")
        r = _run(s, ["-Y"], 'echo "display=$DISPLAY"', xserver)
    finally:
        busy.close()
    assert r.returncode == 0, r.stderr
    m = re.search(r"^display=localhost:(\d+)\.0$", r.stdout, re.M)
    assert m and int(m.group(1)) > 20, r.stdout


def test_x11_use_localhost_no(server, xserver):
    s = server(X11_ON + "\nX11UseLocalhost no")
    r = _run(s, ["-Y"], 'echo "display=$DISPLAY"; xauth list; '
             'xdpyinfo | grep "^name of display:"', xserver)
    assert r.returncode == 0, r.stderr
    host = socket.gethostname()
    m = re.search(r"^display=%s:(\d+)\.0$" % re.escape(host), r.stdout, re.M)
    assert m, r.stdout
    n = int(m.group(1))
    # xauth files the host's own name as a local display.
    assert re.search(r"^%s(/unix)?:%d\s+MIT-MAGIC-COOKIE-1\s+[0-9a-f]{32}$" %
                     (re.escape(host), n), r.stdout, re.M), r.stdout
    # Reached through the host's name, as sshd's DISPLAY is.
    assert "name of display:    %s:%d.0" % (host, n) in r.stdout, (r.stdout, r.stderr)


def _write_rc(text):
    uid, gid, home = harness.USERS["alice"]
    d = os.path.join(home, ".ssh")
    os.makedirs(d, exist_ok=True)
    os.chown(d, uid, gid)
    rc = os.path.join(d, "rc")
    with open(rc, "w") as f:
        f.write(text)
    os.chown(rc, uid, gid)
    return home


def test_rc_gets_the_cookie_instead_of_xauth(server, xserver):
    """sshd's do_rc_files: ~/.ssh/rc reads "proto cookie" on its stdin
    and xauth is left to it; sshd(8)'s example rc then works."""
    home = _write_rc('read proto cookie; echo "rc: $proto"; '
                     'echo "$cookie" > "$HOME/rc-cookie"\n')
    s = server(X11_ON)
    r = _run(s, ["-Y"], 'echo "display=$DISPLAY"; '
             'test -e .Xauthority && echo xauthority || echo no-xauthority', xserver)
    assert r.returncode == 0, r.stderr
    assert "rc: MIT-MAGIC-COOKIE-1\n" in r.stdout, r.stdout
    assert "no-xauthority\n" in r.stdout, r.stdout
    assert re.search(r"^display=localhost:\d+\.0$", r.stdout, re.M), r.stdout
    with open(os.path.join(home, "rc-cookie")) as f:
        assert re.fullmatch(r"[0-9a-f]{32}\n", f.read())
    # sshd(8)'s SSHRC example: the display's cookie through xauth.
    _write_rc('if read proto cookie && [ -n "$DISPLAY" ]; then\n'
              '  if [ "$(echo "$DISPLAY" | cut -c1-10)" = "localhost:" ]; then\n'
              '    echo add unix:"$(echo "$DISPLAY" | cut -c11-)" "$proto" "$cookie"\n'
              '  else\n'
              '    echo add "$DISPLAY" "$proto" "$cookie"\n'
              '  fi | xauth -q -\n'
              'fi\n')
    r = _run(s, ["-Y"], 'xdpyinfo | grep "^name of display:"', xserver)
    assert r.returncode == 0, r.stderr
    assert "name of display:    localhost:" in r.stdout, (r.stdout, r.stderr)


def test_no_user_rc_falls_back_to_xauth(server, keys, xserver):
    _write_rc("echo rc-ran\n")
    harness.write_authorized_keys("alice", ["no-user-rc " + keys.pub("alice_ed25519")])
    s = server(X11_ON)
    r = _run(s, ["-Y"], 'xauth list | grep -c MIT-MAGIC-COOKIE-1', xserver)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "1\n", r.stdout


X11_POLICY = [
    # (config, authorized_keys options, reason in the record)
    ("", None, "X11Forwarding"),
    ("X11Forwarding no", None, "X11Forwarding"),
    (X11_ON + "\nDisableForwarding yes", None, "DisableForwarding"),
    (X11_ON + "\nSandboxProfile strict", None, "SandboxProfile strict"),
    ("Match User alice\n  X11Forwarding no", None, "X11Forwarding"),
    (X11_ON, "no-x11-forwarding", "no-x11-forwarding"),
    (X11_ON, "restrict", "no-x11-forwarding"),
]


@pytest.mark.parametrize("config,keyopts,reason", X11_POLICY,
                         ids=["%s|%s" % (c.replace("\n", ";"), k) for c, k, _ in X11_POLICY])
def test_x11_refused_by_policy(server, keys, config, keyopts, reason):
    if keyopts:
        harness.write_authorized_keys("alice", [keyopts + " " + keys.pub("alice_ed25519")])
    if config.startswith("Match"):
        config = X11_ON + "\n" + config
    s = server(config)
    # No X server is needed for a refusal: with -Y and no cookie for the
    # display the client sends a made-up one.
    r = _run(s, ["-Y"], 'echo "display=${DISPLAY:-unset}"; test -e .Xauthority || echo no-xauthority',
             client_env({"DISPLAY": ":79"}))
    # Refused, and the session goes on.
    assert r.returncode == 0, r.stderr
    assert r.stdout == "display=unset\nno-xauthority\n"
    refused = fwd_records(s, "forward-refused")
    assert [x for x in refused if x["SSHAND_FORWARD_KIND"] == "x11-req" and
            x["SSHAND_REASON"] == reason and x["SSHAND_USER"] == "alice"], refused
    assert not fwd_records(s, "forward-open")


def test_x11_allowed_by_key_option_after_restrict(server, keys, xserver):
    harness.write_authorized_keys("alice", ["restrict,x11-forwarding " +
                                            keys.pub("alice_ed25519")])
    s = server(X11_ON)
    r = _run(s, ["-Y"], 'echo "display=$DISPLAY"', xserver)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^display=localhost:\d+\.0$", r.stdout, re.M), r.stdout


class _X11Recorder:
    """paramiko's x11 handler: the channels the server opened."""

    def __init__(self):
        self.chans = []
        self.lock = threading.Lock()

    def __call__(self, chan, origin):
        with self.lock:
            self.chans.append((chan, origin))


def _paramiko(s, keys):
    t = paramiko.Transport((HOST, s.port))
    t.connect()
    t.auth_publickey("alice", paramiko.Ed25519Key.from_private_key_file(
        keys.client("alice_ed25519")))
    return t


@pytest.mark.parametrize("single", [True, False])
def test_single_connection(server, keys, single):
    """x11-req's single-connection flag (OpenSSH's client never sets it):
    after the first connection the display's port closes."""
    s = server(X11_ON)
    t = _paramiko(s, keys)
    try:
        rec = _X11Recorder()
        ch = t.open_session()
        cookie = secrets.token_hex(16)
        ch.request_x11(screen_number=0, auth_protocol="MIT-MAGIC-COOKIE-1",
                       auth_cookie=cookie, single_connection=single, handler=rec)
        ch.exec_command(
            'echo "display=$DISPLAY"; n=${DISPLAY#localhost:}; '
            'port=$((6000 + ${n%.*})); '
            'exec 3<>/dev/tcp/127.0.0.1/$port && echo first; sleep 1; '
            '(exec 4<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && echo second; '
            'sleep 1; echo done')
        out = b""
        deadline = time.time() + 30
        while time.time() < deadline:
            b = ch.recv(4096)
            if not b:
                break
            out += b
        status = ch.recv_exit_status()
        out = out.decode()
        assert status == 0, out
        assert "first\n" in out and "done\n" in out, out
        if single:
            assert "second" not in out, out
            assert len(rec.chans) == 1, rec.chans
        else:
            assert "second\n" in out, out
            assert wait_for(lambda: len(rec.chans) == 2, 10), rec.chans
        origin = rec.chans[0][1]
        assert origin[0] == "127.0.0.1" and origin[1] > 0, origin
    finally:
        t.close()
    assert wait_for(lambda: len(fwd_records(s, "forward-close")) == (1 if single else 2), 15), \
        fwd_records(s)


def test_bad_cookie_refused(server, keys):
    """sshd's xauth_valid_string: nothing but what xauth's command line
    can take safely."""
    s = server(X11_ON)
    t = _paramiko(s, keys)
    try:
        ch = t.open_session()
        with pytest.raises(paramiko.SSHException):
            ch.request_x11(auth_protocol="MIT-MAGIC-COOKIE-1",
                           auth_cookie="00\nadd evil:0 . 00", handler=_X11Recorder())
        # The connection goes on (paramiko closes a channel whose
        # request failed).
        ch = t.open_session()
        ch.exec_command('echo "display=${DISPLAY:-unset}"')
        assert ch.makefile().read() == b"display=unset\n"
    finally:
        t.close()
    refused = fwd_records(s, "forward-refused")
    assert [x for x in refused if x["SSHAND_REASON"] == "bad-x11-data"], refused
