"""Issue 19: bulk transfers without a system call per 4 KiB.  libssh 0.10
reads its socket 4 KiB per poll round; the front's read-ahead
(handler/front/interpose.h) serves those reads from one large read, and a
session's output pipe is as large as the network child's reads of it.
What is checked here is that both are in place, seen from outside with
the real client (counted system calls, the pipe's size), and that the
bytes still arrive whole; what they save is for make bench."""

import hashlib
import os
import re
import subprocess
import threading

import harness
from harness import PRIVSEP_UID, client_env, wait_for

SIZE = 64 << 20
LIBSSH_READ = 4096


def network_child(s):
    """The connection's process that runs as the privsep user."""
    def look():
        for conn in s.connections():
            for pid in harness.descendants(conn):
                st = harness.proc_status(pid)
                if st and st.get("Uid", "").split()[:1] == [str(PRIVSEP_UID)]:
                    return pid
        return None
    pid = wait_for(look, 15)
    assert pid, "no network child; log:\n" + s.log()[-3000:]
    return pid


def syscall_counts(summary):
    """{name: calls} from strace -c's table."""
    counts = {}
    for line in summary.splitlines():
        f = line.split()
        # % time, seconds, usecs/call, calls, [errors,] syscall
        if len(f) >= 5 and re.fullmatch(r"[0-9.]+", f[0]) and f[3].isdigit():
            counts[f[-1]] = int(f[3])
    return counts


def test_upload_reads_the_socket_in_large_reads(server, sshand_build, tmp_path):
    s = server(build=sshand_build)
    data = os.urandom(1 << 20)
    want = hashlib.sha256()
    for _ in range(SIZE // len(data)):
        want.update(data)
    client = subprocess.Popen(s.ssh_argv(cmd="echo ready; sha256sum"),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=client_env())
    strace = None
    try:
        # Logged in and the command started: the read-ahead is on.
        assert client.stdout.readline() == b"ready\n", client.stderr.read()
        net = network_child(s)
        out = tmp_path / "strace"
        strace = subprocess.Popen(["strace", "-qq", "-c", "-o", str(out),
                                   "-e", "trace=recvfrom,recv,read,poll,ppoll",
                                   "-p", str(net)])
        assert wait_for(lambda: harness.proc_status(net).get("TracerPid", "0") != "0",
                        15), "strace did not attach"
        feeder = threading.Thread(target=lambda: (
            [client.stdin.write(data) for _ in range(SIZE // len(data))],
            client.stdin.close()))
        feeder.start()
        got = client.stdout.read()
        feeder.join(120)
        assert client.wait(120) == 0, client.stderr.read()
        # Every byte, in order.
        assert got.split()[0].decode() == want.hexdigest(), got
        strace.wait(60)
        counts = syscall_counts(out.read_text())
    finally:
        if client.poll() is None:
            client.kill()
        if strace is not None and strace.poll() is None:
            strace.kill()
    reads = counts.get("recvfrom", 0) + counts.get("recv", 0)
    # libssh alone reads 4 KiB per call: SIZE / 4096 = 16384 of them.
    # Through the read-ahead, each real read takes what the kernel has
    # queued, up to 256 KiB; a quarter of libssh's count is far above
    # what it makes even on a loaded machine.
    assert 0 < reads < SIZE // LIBSSH_READ // 4, counts
    assert counts.get("poll", 0) < SIZE // LIBSSH_READ // 2, counts


def test_session_output_pipe_is_as_large_as_the_reads(server, sshand_build):
    s = server(build=sshand_build)
    # F_GETPIPE_SZ (1032) on the session's stdout and stderr: the output
    # pipe is grown to the network child's read size, stderr keeps the
    # kernel's default.
    r = s.ssh(cmd="/usr/bin/python3 -c 'import fcntl; "
              "print(fcntl.fcntl(1, 1032), fcntl.fcntl(2, 1032))'")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["262144", "65536"], r.stdout
    # A download through it arrives whole.
    r = s.ssh(cmd="head -c %d /dev/zero | sha256sum" % (8 << 20))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == hashlib.sha256(bytes(8 << 20)).hexdigest()
    r = subprocess.run(s.ssh_argv(cmd="head -c %d /dev/zero" % (32 << 20)),
                       capture_output=True, timeout=120, env=client_env())
    assert r.returncode == 0, r.stderr
    assert r.stdout == bytes(32 << 20)
