"""ProxyCommand for ssh -o ProxyUseFdpass=yes (used by test_audit_e2e.py).

    test_audit_e2e_connect.py HOST PORT SOURCE_ADDR PORTFILE

Connects to HOST:PORT from SOURCE_ADDR, writes "ADDR PORT" of our end to
PORTFILE, and hands the connected socket to ssh over stdout.  ssh then
talks to the server on that very socket, so the test knows the client's
source address and port independently of what the server says.
"""

import socket
import sys


def main():
    host, port, src, portfile = sys.argv[1:5]
    s = socket.create_connection((host, int(port)), timeout=15,
                                 source_address=(src, 0))
    addr, lport = s.getsockname()[:2]
    with open(portfile, "w") as f:
        f.write("%s %d\n" % (addr, lport))
    # With ProxyUseFdpass, stdout is a unix socket: the fd goes over it.
    out = socket.socket(fileno=1)
    socket.send_fds(out, [b"\0"], [s.fileno()])
    out.detach()


if __name__ == "__main__":
    main()
