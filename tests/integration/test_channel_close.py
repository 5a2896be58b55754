"""A client that closes a session channel while its command still runs,
side by side with OpenSSH's sshd.  sshd drains what the client sent
before the close into the command's stdin, then closes it
(channels.c, chan_rcvd_oclose: CHAN_OUTPUT_WAIT_DRAIN), closes its
stdout and stderr (the command's next write is a SIGPIPE), and signals
a command without a terminal not at all (session.c,
session_close_by_channel): the command runs to its end, nothing it was
sent is lost, and the close is answered then.  Paramiko closes a
channel when asked, without waiting for the command's exit as the
OpenSSH client does."""

import os

import pytest

import harness
from harness import paramiko_login, wait_for

# More than a pipe holds (64 KiB) and less than the first window of
# either server (libssh's 1.28 MB, sshd's 2 MiB): the client has sent it
# all before its close, and most of it is still waiting in the server.
SIZE = 1 << 20


@pytest.mark.parametrize("peer", ["openssh", "sshand"])
def test_closed_channel_input_reaches_the_command(peer, server, openssh, keys):
    s = openssh("") if peer == "openssh" else server()
    home = harness.USERS["alice"][2]
    got, hup, rc, end = (os.path.join(home, n)
                         for n in ("got", "hup", "rc", "end"))
    data = os.urandom(SIZE)
    t = paramiko_login(s, keys)
    try:
        ch = t.open_session()
        # The command reads nothing for a second, so the close comes
        # while the input waits in the server; then it writes to its
        # stdout, which nobody reads any more; then it runs on a while.
        ch.exec_command(
            "trap 'echo >hup' HUP; sleep 1; cat >got.part; mv got.part got; "
            "yes; echo $? >rc; sleep 4; echo >end")
        ch.sendall(data)
        ch.shutdown_write()
        ch.close()
        assert wait_for(lambda: os.path.exists(rc), 20), \
            (os.listdir(home), s.log()[-3000:])
        # The server's close, at the command's end: paramiko drops the
        # channel from its table of open channels when it comes.
        assert not os.path.exists(end)
        assert wait_for(lambda: t._channels.get(ch.get_id()) is None, 15)
        assert os.path.exists(end)
    finally:
        t.close()
    with open(got, "rb") as f:
        received = f.read()
    assert len(received) == SIZE and received == data, len(received)
    # No hang-up for a command without a terminal; its stdout closed
    # behind it: yes ends by SIGPIPE (128 + 13).
    assert not os.path.exists(hup)
    with open(rc) as f:
        assert f.read().strip() == "141"


@pytest.mark.parametrize("peer", ["openssh", "sshand"])
def test_closed_terminal_session_is_hung_up(peer, server, openssh, keys):
    """The other side of the same rule: a session with a terminal gets
    the hang-up that closing its terminal gives (sshd: session.c,
    session_pty_cleanup), and no more of its input."""
    s = openssh("") if peer == "openssh" else server()
    home = harness.USERS["alice"][2]
    ready, hup, late = (os.path.join(home, n) for n in ("ready", "hup", "late"))
    t = paramiko_login(s, keys)
    try:
        ch = t.open_session()
        ch.get_pty()
        ch.exec_command("trap 'echo >hup; exit 0' HUP; echo >ready; "
                        "sleep 30 & wait; echo >late")
        assert wait_for(lambda: os.path.exists(ready), 15), s.log()[-3000:]
        ch.close()
        assert wait_for(lambda: os.path.exists(hup), 15), \
            (os.listdir(home), s.log()[-3000:])
    finally:
        t.close()
    assert not os.path.exists(late)
