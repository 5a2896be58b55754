"""Issue 19: a channel's receive window grows past libssh 0.10's 1.28 MB
(handler/net/window.c), so that uploads over long round trips are not
held back by window adjustments; but only for a session that takes what
comes and has shown it reads, so that a reader stalled from the start
never makes the server buffer more than libssh's own window.  Seen from a real client (paramiko), which reports
the window the server grants it; speed is for make bench."""

import hashlib
import os
import time

from harness import paramiko_login

LIBSSH_WINDOW = 1280000
WINDOW = 4 << 20


def test_window_grows_for_a_reading_session(server, keys):
    s = server()
    t = paramiko_login(s, keys)
    try:
        ch = t.open_session()
        ch.exec_command("sha256sum")
        ch.settimeout(60)
        data = os.urandom(1 << 20)
        want = hashlib.sha256()
        widest = 0
        for _ in range(16):
            ch.sendall(data)
            want.update(data)
            widest = max(widest, ch.out_window_size)
        ch.shutdown_write()
        out = b""
        while True:
            got = ch.recv(65536)
            if not got:
                break
            out += got
        assert ch.recv_exit_status() == 0
        # Every byte arrived, in order.
        assert out.split()[0].decode() == want.hexdigest(), out
        # The window the server granted went past libssh's.
        assert widest > LIBSSH_WINDOW + (1 << 20), widest
        assert widest <= WINDOW, widest
    finally:
        t.close()


def test_stalled_reader_gets_libssh_window_only(server, keys):
    s = server()
    t = paramiko_login(s, keys)
    try:
        ch = t.open_session()
        # Never reads its stdin.
        ch.exec_command("sleep 30")
        time.sleep(0.5)
        chunk = b"x" * 32768
        sent, last = 0, time.monotonic()
        # Send while the server's window lets us; stop once it has stayed
        # shut for two seconds.
        while time.monotonic() - last < 2:
            if ch.send_ready():
                n = ch.send(chunk)
                if n:
                    sent += n
                    last = time.monotonic()
                    continue
            time.sleep(0.05)
        # libssh's window, plus what the pipe and the relay took before
        # the session stopped taking: nothing of the grown window.
        assert sent < LIBSSH_WINDOW + (512 << 10), sent
        # The connection still works: another channel runs a command.
        ch2 = t.open_session()
        ch2.exec_command("echo alive")
        assert ch2.recv(100).strip() == b"alive"
    finally:
        t.close()
