"""Issue 6 end to end: the audit trail of real SSH connections, read back
from a real systemd-journald and from the JSON-lines fallback.

The module fixture starts a nested private mount namespace (inside the one
tests/integration/run made) with its own journald (a tmpfs on /run/systemd
and /run/log, volatile storage), then runs this file with --inner there.
The inner driver starts sshand servers with harness.Server:

  journal   AuditLog journal, run without -e as a deployed unit runs (its
            diagnostic lines go to the same journal, see
            test_audit_e2e_journal_mode.sh)
  file      AuditLog <dir>/audit.jsonl (the fallback), same scenario
  grace     AuditLog journal, LoginGraceTime 2
  invid     AuditLog journal, INVOCATION_ID set as systemd sets it

and drives them with the OpenSSH client (ssh, sshpass, sftp) and paramiko.
Every OpenSSH connection goes through test_audit_e2e_connect.py
(ProxyUseFdpass), which tells us the client's own address and port, so the
records' SSHAND_REMOTE_ADDR/PORT are checked against the client's view, and
each connection comes from its own 127.0.0.x (the failures would otherwise
ban one another).  The driver writes everything it saw to result.json; the
tests below only judge it.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import harness  # noqa: E402
from harness import BUILD, HOST, WORK  # noqa: E402

CONNECT_HELPER = os.path.join(HERE, "test_audit_e2e_connect.py")
JOURNAL_MODE = os.path.join(HERE, "test_audit_e2e_journal_mode.sh")
JOURNALD = "/lib/systemd/systemd-journald"
PYTHON = "/usr/bin/python3"

MESSAGE_IDS = {
    "connect": "9fe43347e64a475686932eda68aed279",
    "rejected-banned": "36e8ab700527402593d0ef6605895346",
    "auth-attempt": "d5abd3b59e364283b2552cab1a21faed",
    "session-start": "e7ad91316ec84000878bd27377602324",
    "session-end": "b81b5753bc3341a2a2610b71a846d302",
    "ban-added": "c8c7a80bb0a249939481226918043ad1",
    "disconnect": "e3909f9bdf3e48e3b31f56255b21e054",
    "privsep-violation": "a62cce5b62b64afd85737fdbac88b992",
}
# Every SSHAND_ field a record may carry (DESIGN.md, handler/front/audit.c).
KNOWN_FIELDS = {
    "SSHAND_EVENT", "SSHAND_CONNECTION", "SSHAND_REMOTE_ADDR", "SSHAND_REMOTE_PORT",
    "SSHAND_LOCAL_ADDR", "SSHAND_LOCAL_PORT", "SSHAND_USER", "SSHAND_CLIENT_VERSION",
    "SSHAND_AUTH_METHOD", "SSHAND_AUTH_RESULT", "SSHAND_REASON",
    "SSHAND_KEY_FINGERPRINT", "SSHAND_SESSION_TYPE", "SSHAND_COMMAND",
    "SSHAND_EXIT_STATUS", "SSHAND_EXIT_SIGNAL", "SSHAND_BYTES_IN", "SSHAND_BYTES_OUT",
    "SSHAND_DURATION_USEC", "SSHAND_BAN_UNTIL",
}

# Passwords the clients send; none may appear in any record or log line.
WRONG_PW = "Wrong-Pass-e2e-71"
UNKNOWN_PW = "Unknown-Pass-e2e-72"
HOSTILE_PW = "Hostile-Pass-e2e-73"
BAN_PW = "Ban-Pass-e2e-74"
# Output of a command; command output must never be recorded.
OUTPUT_CMD = "printf '%s-%s\\n' zq91 out77"
OUTPUT_MARK = "zq91-out77"
INVOCATION = "0123456789ABCDEF0123456789abcdef"

# Hostile client values (bytes): sent as user names / commands / version.
HOSTILE_USERS = {
    "newline": b"mallory\nSSHAND_USER=root\nMESSAGE=forged",
    "inject": b"SSHAND_USER=root",
    "long": b"L" * 300,     # past MAX_USER_LEN, far below any packet limit
    "big": b"u" * 65536,
    "badutf8": b"bad\xff\xfe\xc3(\xed\xa0\x80\"}{\\x",
}
HOSTILE_CMD_SSH = "echo hi\nSSHAND_USER=root"
HOSTILE_CMD_BIG = (b"echo big\nSSHAND_USER=root\nMESSAGE=forged\n\xff\xfe\xc3( "
                   b"#" + b"A" * 65536)
HOSTILE_VERSION = "SSH-2.0-evil\x01\x1b[2J\tSSHAND_USER=root\"\\ \u00e9"

# Scenario per server: tag -> what the client does.  The file server runs
# the same "plain" tags, so the two sinks can be compared record by record.
PLAIN = ["badpw", "unknown", "exit7", "sftp", "output"]


def esc(raw, limit):
    """What audit_escape does (handler/audit.h): printable ASCII kept,
    backslash doubled, anything else \\xNN, cut at `limit` input bytes
    with "..." appended."""
    out = []
    for c in raw[:limit]:
        if c == 0x5C:
            out.append("\\\\")
        elif 0x20 <= c < 0x7F:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return "".join(out) + ("..." if len(raw) > limit else "")


# ---- the inner driver (runs in the nested namespace, journald up) ----------

class AuditServer(harness.Server):
    """harness.Server with its AuditLog replaced (the config is first-wins,
    so an extra "AuditLog" line would not override the harness's)."""

    def __init__(self, keys, name, audit, journal_mode=False, log_level=None,
                 **kw):
        self.audit_target = audit
        self.log_level = log_level
        env = dict(kw.pop("env", None) or {})
        if journal_mode:
            env["SSHAND_E2E_BINARY"] = os.path.join(BUILD, "sshand")
        super().__init__(keys, name, env=env, **kw)
        if journal_mode:
            self.binary = JOURNAL_MODE

    def base_config(self):
        target = self.audit_target or self.audit_log
        lines = []
        for line in super().base_config().splitlines():
            if line.startswith("AuditLog "):
                line = "AuditLog " + target
            if line.startswith("LogLevel ") and self.log_level:
                line = "LogLevel " + self.log_level
            lines.append(line)
        return "\n".join(lines) + "\n"


class Driver:
    def __init__(self, tmp):
        self.tmp = tmp
        self.conns = []         # one dict per client connection
        self.errors = []
        self.next_addr = 10

    def addr(self):
        self.next_addr += 1
        return "127.0.0.%d" % self.next_addr

    def proxy(self, srv, tag, src):
        portfile = os.path.join(self.tmp, "%s-%s.port" % (srv.tag, tag))
        opts = ["ProxyUseFdpass=yes",
                "ProxyCommand=%s %s %s %d %s %s" % (PYTHON, CONNECT_HELPER, HOST,
                                                    srv.port, src, portfile)]
        return opts, portfile

    def record(self, srv, tag, src, portfile, r, t0, t1, **extra):
        c = {"server": srv.tag, "tag": tag, "src": src, "port": None,
             "elapsed_usec": int((t1 - t0) * 1e6), "start": t0, "end": t1}
        try:
            with open(portfile) as f:
                a, p = f.read().split()
            c["src"], c["port"] = a, int(p)
        except (OSError, ValueError) as e:
            c["port_error"] = repr(e)
        if r is not None:
            c["rc"] = r.returncode
            c["stdout"] = r.stdout if isinstance(r.stdout, str) else \
                r.stdout.decode("utf-8", "replace")
            c["stderr"] = r.stderr if isinstance(r.stderr, str) else \
                r.stderr.decode("utf-8", "replace")
        c.update(extra)
        self.conns.append(c)
        return c

    def openssh(self, srv, tag, how):
        src = self.addr()
        opts, portfile = self.proxy(srv, tag, src)
        t0 = time.time()
        r = how(opts)
        t1 = time.time()
        return self.record(srv, tag, src, portfile, r, t0, t1)

    def plain(self, srv, tags=PLAIN):
        for tag in tags:
            if tag == "badpw":
                self.openssh(srv, tag, lambda o: srv.ssh_password(
                    "alice", pw=WRONG_PW, cmd="true", opts=o))
            elif tag == "unknown":
                self.openssh(srv, tag, lambda o: srv.ssh_password(
                    "nosuchuser", pw=UNKNOWN_PW, cmd="true", opts=o))
            elif tag == "exit7":
                self.openssh(srv, tag, lambda o: srv.ssh("alice", "exit 7", opts=o))
            elif tag == "output":
                self.openssh(srv, tag, lambda o: srv.ssh("alice", OUTPUT_CMD, opts=o))
            elif tag == "hostilecmd":
                self.openssh(srv, tag, lambda o: srv.ssh("alice", HOSTILE_CMD_SSH,
                                                         opts=o))
            elif tag == "sftp":
                batch = os.path.join(self.tmp, "sftp.batch")
                with open(batch, "w") as f:
                    f.write("ls -la\npwd\n")

                def run_sftp(o):
                    argv = ["sftp", "-b", batch] + srv.file_client_opts()
                    for x in o:
                        argv += ["-o", x]
                    return subprocess.run(argv + ["alice@" + HOST],
                                          capture_output=True, text=True,
                                          timeout=30, env=harness.client_env())
                self.openssh(srv, tag, run_sftp)

    # -- paramiko: values the OpenSSH client will not send --

    def paramiko_conn(self, srv, tag, action, version=None):
        import paramiko
        import traceback
        src = self.addr()
        t0 = time.time()
        c = {"server": srv.tag, "tag": tag, "src": src, "port": None}
        try:
            sock = socket.create_connection((HOST, srv.port), timeout=15,
                                            source_address=(src, 0))
            c["port"] = sock.getsockname()[1]
            t = paramiko.Transport(sock)
            if version is not None:
                t.local_version = version
            try:
                t.start_client(timeout=15)
                c.update(action(t) or {})
            finally:
                t.close()
        except Exception as e:  # noqa: BLE001 - reported to the tests
            c["exception"] = "%s: %s" % (type(e).__name__, e)
            c["traceback"] = traceback.format_exc()
        t1 = time.time()
        c["elapsed_usec"] = int((t1 - t0) * 1e6)
        c["start"], c["end"] = t0, t1
        self.conns.append(c)
        return c

    def hostile(self, srv, keys):
        import paramiko

        def pw_attempt(user):
            def act(t):
                try:
                    t.auth_password(user, HOSTILE_PW)
                    return {"auth": "accepted"}
                except paramiko.AuthenticationException as e:
                    return {"auth": "refused: %s" % e}
            return act

        for name, user in HOSTILE_USERS.items():
            self.paramiko_conn(srv, "user-" + name, pw_attempt(user))

        def big_cmd(t):
            key = paramiko.Ed25519Key.from_private_key_file(
                keys.client("alice_ed25519"))
            t.auth_publickey("alice", key)
            got = {}

            def run(cmd):
                ch = t.open_session(timeout=15)
                ch.exec_command(cmd)
                out = b""
                while True:
                    d = ch.recv(65536)
                    if not d:
                        break
                    out += d
                return ch.recv_exit_status(), out.decode("utf-8", "replace")
            try:
                got["rc"], got["stdout"] = run(HOSTILE_CMD_BIG)
            except paramiko.SSHException as e:
                # A server may refuse so long a command; it must do so
                # cleanly, which the next command shows.
                got["big_refused"] = "%s: %s" % (type(e).__name__, e)
            got["after_rc"], got["after_stdout"] = run("echo after")
            return got
        self.paramiko_conn(srv, "bigcmd", big_cmd)
        self.paramiko_conn(srv, "version", pw_attempt("alice"),
                           version=HOSTILE_VERSION)
        self.plain(srv, ["hostilecmd"])

    def ban(self, srv):
        """Wrong passwords on one connection (MaxAuthTries 6) until the
        server gives up: BanMaxFailures 5 bans the address at the fifth,
        which ends the connection unanswered; the next connection from
        there is refused."""
        import paramiko

        def act(t):
            n = 0
            for _ in range(10):
                try:
                    t.auth_password("alice", BAN_PW)
                except paramiko.AuthenticationException:
                    # paramiko says the same when the server just closes.
                    if not t.is_active():
                        break
                    n += 1
                except (paramiko.SSHException, EOFError, OSError):
                    break
            return {"refusals": n}
        # Both from 127.0.0.99 (addr() counts up from next_addr).
        self.next_addr, saved = 98, self.next_addr
        self.paramiko_conn(srv, "ban-tries", act)
        self.next_addr = 98

        def act2(t):
            return {"unexpected": "banned address got a transport"}
        self.paramiko_conn(srv, "ban-refused", act2)
        self.next_addr = saved

    def grace(self, srv):
        src = self.addr()
        t0 = time.time()
        c = {"server": srv.tag, "tag": "grace", "src": src}
        with socket.create_connection((HOST, srv.port), timeout=15,
                                      source_address=(src, 0)) as s:
            c["port"] = s.getsockname()[1]
            s.sendall(b"SSH-2.0-idle_client\r\n")
            got = b""
            s.settimeout(10)
            try:
                while True:
                    d = s.recv(65536)
                    if not d:
                        break
                    got += d
            except OSError as e:
                c["recv_error"] = repr(e)
            c["received"] = len(got)
        t1 = time.time()
        c["elapsed_usec"] = int((t1 - t0) * 1e6)
        c["start"], c["end"] = t0, t1
        self.conns.append(c)


def journal_json(*args):
    p = subprocess.run(["journalctl", "-o", "json", "--all", "--no-pager", "-q"]
                       + list(args), capture_output=True, timeout=30)
    recs = []
    for line in p.stdout.splitlines():
        if line.strip():
            recs.append(json.loads(line))
    return recs, p.stdout.decode("utf-8", "replace")


def inner(tmp):
    os.environ.pop("INVOCATION_ID", None)   # ours would be every connection's
    res = {"errors": [], "servers": {}}
    keys = harness.Keys(WORK)
    for user in ("alice", "bob"):
        harness.reset_home(user, authorized=[keys.pub(user + "_ed25519")])
    d = Driver(tmp)
    servers = []

    def start(tag, audit, **kw):
        srv = AuditServer(keys, "audit_e2e-%s-%d" % (tag, os.getpid()), audit, **kw)
        srv.tag = tag
        servers.append(srv)
        srv.start()
        res["servers"][tag] = {"port": srv.port, "dir": srv.dir,
                               "audit_log": srv.audit_log}
        return srv

    try:
        sj = start("journal", "journal", journal_mode=True)
        sf = start("file", None)
        sg = start("grace", "journal", extra_config="LoginGraceTime 2")
        si = start("invid", "journal", env={"INVOCATION_ID": INVOCATION})
        sd = start("debug", "journal", journal_mode=True, log_level="DEBUG")
        d.grace(sg)             # runs its 2 s while the others work
        d.plain(sj)
        d.plain(sf)
        d.hostile(sj, keys)
        d.hostile(sf, keys)
        d.ban(sj)
        d.openssh(si, "invid", lambda o: si.ssh("alice", "true", opts=o))
        d.openssh(sd, "debug", lambda o: sd.ssh("alice", "true", opts=o))
    except Exception:  # noqa: BLE001 - reported by test_inner_run_clean
        import traceback
        res["errors"].append(traceback.format_exc())
    for srv in servers:
        problems = srv.stop()
        res["servers"][srv.tag]["problems"] = problems
        res["servers"][srv.tag]["log"] = srv.log()[-20000:]
    res["conns"] = d.conns

    # journald stores asynchronously: wait until the count settles.
    last, stable = -1, 0
    for _ in range(100):
        recs, _ = journal_json("SYSLOG_IDENTIFIER=sshand")
        if len(recs) == last:
            stable += 1
            if stable >= 3:
                break
        else:
            stable = 0
        last = len(recs)
        time.sleep(0.1)
    res["journal"] = recs
    _, res["journal_all_text"] = journal_json()
    ex = subprocess.run(["journalctl", "-o", "export", "--no-pager"],
                        capture_output=True, timeout=30)
    res["journal_export_text"] = ex.stdout.decode("utf-8", "replace")
    ids = sorted({r.get("SSHAND_CONNECTION") for r in recs
                  if isinstance(r.get("SSHAND_CONNECTION"), str)})
    res["by_connection"] = {i: journal_json("SSHAND_CONNECTION=" + i)[0] for i in ids}
    res["root_records"] = journal_json("SSHAND_USER=root")[0]
    res["forged_records"] = journal_json("MESSAGE=forged")[0]
    fl = res["servers"].get("file", {}).get("audit_log")
    res["file_lines"] = []
    if fl and os.path.exists(fl):
        with open(fl, "rb") as f:
            res["file_lines"] = [l.decode("utf-8", "replace") for l in f]
        res["file_mode"] = os.stat(fl).st_mode & 0o7777

    ctl = os.path.join(BUILD, "sshandctl")

    def ctl_run(name, *args):
        r = subprocess.run([ctl, "audit"] + list(args), capture_output=True, timeout=30)
        res.setdefault("ctl", {})[name] = [r.returncode,
                                           r.stdout.decode("utf-8", "replace"),
                                           r.stderr.decode("utf-8", "replace")]
    exit7 = [c for c in d.conns if c["server"] == "journal" and c["tag"] == "exit7"]
    jid = None
    for r in recs:
        if exit7 and r.get("SSHAND_REMOTE_PORT") == str(exit7[0].get("port")) and \
                r.get("SSHAND_REMOTE_ADDR") == exit7[0]["src"]:
            jid = r.get("SSHAND_CONNECTION")
    res["exit7_journal_id"] = jid
    if jid:
        ctl_run("journal_conn", "--connection", jid)
        ctl_run("journal_conn_json", "--connection", jid, "--json")
    if fl:
        ctl_run("file_alice", "--file", fl, "--user", "alice")
        ctl_run("file_alice_json", "--file", fl, "--user", "alice", "--json")
    ctl_run("journal_alice_json", "--user", "alice", "--json")
    with open(os.path.join(tmp, "result.json"), "w") as f:
        json.dump(res, f)


# Journald in a nested private namespace, then "$@" (as test_audit_journal.py).
SETUP = r"""
set -eu
tmp=$1; shift
mount -t tmpfs -o mode=0755 tmpfs /run/systemd
mkdir -p /run/log
mount -t tmpfs -o mode=0755 tmpfs /run/log
mkdir -p /run/systemd/journal /run/systemd/journald.conf.d "$tmp/varlog"
if [ -d /var/log/journal ]; then mount --bind "$tmp/varlog" /var/log/journal; fi
cat > /run/systemd/journald.conf.d/test.conf <<'EOF'
[Journal]
Storage=volatile
ReadKMsg=no
ForwardToSyslog=no
ForwardToKMsg=no
ForwardToConsole=no
ForwardToWall=no
RateLimitBurst=0
EOF
/lib/systemd/systemd-journald </dev/null >"$tmp/journald.log" 2>&1 &
jpid=$!
for i in $(seq 100); do
	[ -S /run/systemd/journal/socket ] && break
	sleep 0.1
done
[ -S /run/systemd/journal/socket ] || { echo "journald did not start" >&2; exit 3; }
rc=0
"$@" || rc=$?
kill "$jpid"
wait "$jpid" || true
exit $rc
"""


# ---- the tests (outer) -----------------------------------------------------

@pytest.fixture(scope="module")
def e2e():
    if not os.access(JOURNALD, os.X_OK):
        pytest.skip("no systemd-journald")
    tmp = tempfile.mkdtemp(prefix="audit-e2e.", dir=WORK)
    os.chmod(tmp, 0o755)
    try:
        p = subprocess.run(
            ["unshare", "-m", "--propagation", "private", "bash", "-c", SETUP,
             "setup", tmp, PYTHON, os.path.abspath(__file__), "--inner", tmp],
            capture_output=True, text=True, timeout=150)
        assert p.returncode == 0, "inner run failed:\n%s\n%s" % (
            p.stdout[-5000:], p.stderr[-5000:])
        with open(os.path.join(tmp, "result.json")) as f:
            res = json.load(f)
        # SSHAND_E2E_KEEP=PATH keeps everything the driver saw, for a look.
        if os.environ.get("SSHAND_E2E_KEEP"):
            shutil.copy(os.path.join(tmp, "result.json"), os.environ["SSHAND_E2E_KEEP"])
        yield res
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def conn(res, server, tag):
    cs = [c for c in res["conns"] if c["server"] == server and c["tag"] == tag]
    assert len(cs) == 1, (server, tag, res["conns"])
    return cs[0]


def records_for(res, server, tag):
    """The audit records of one client connection: found in the journal
    (or the file) by the client's own address and port, then the whole
    connection by its id."""
    c = conn(res, server, tag)
    assert c.get("port"), "client port unknown: %r" % c
    pool = file_records(res) if server == "file" else \
        [r for r in res["journal"] if "SSHAND_EVENT" in r]
    ids = {r.get("SSHAND_CONNECTION") for r in pool
           if r.get("SSHAND_REMOTE_ADDR") == c["src"] and
           r.get("SSHAND_REMOTE_PORT") == str(c["port"])}
    assert len(ids) == 1, "connection %s/%s (%s:%s): ids %r\n%s" % (
        server, tag, c["src"], c["port"], ids, server_log(res, server))
    cid = ids.pop()
    recs = [r for r in pool if r.get("SSHAND_CONNECTION") == cid]
    return c, cid, recs


def file_records(res):
    return [json.loads(l) for l in res["file_lines"]]


def server_log(res, server):
    return "--- server log %s ---\n%s" % (server, res["servers"][server]["log"][-4000:])


def events(recs):
    return [r["SSHAND_EVENT"] for r in recs]


def check_common(res, server, c, cid, recs, user=None):
    """The fields every record of a connection carries."""
    assert re.fullmatch(r"[0-9a-f]{32}", cid), cid
    port = res["servers"][server]["port"]
    pids = set()
    front = None
    for i, r in enumerate(recs):
        for k, v in r.items():
            # A repeated field comes back as a JSON array, a binary one
            # as an array of numbers: neither may happen.
            assert isinstance(v, str), (k, v)
        sshand = {k for k in r if k.startswith("SSHAND_")}
        assert sshand <= KNOWN_FIELDS, sshand - KNOWN_FIELDS
        assert r["SSHAND_CONNECTION"] == cid
        assert r["MESSAGE_ID"] == MESSAGE_IDS[r["SSHAND_EVENT"]], r
        assert r["SYSLOG_IDENTIFIER"] == "sshand"
        assert r["MESSAGE"] and "\n" not in r["MESSAGE"] and "\r" not in r["MESSAGE"]
        assert r["SSHAND_REMOTE_ADDR"] == c["src"], r
        assert r["SSHAND_REMOTE_PORT"] == str(c["port"]), r
        assert r["SSHAND_LOCAL_ADDR"] == HOST, r
        assert r["SSHAND_LOCAL_PORT"] == str(port), r
        if user is not None and r["SSHAND_EVENT"] != "connect":
            assert r.get("SSHAND_USER") == user, r
        if r["SSHAND_EVENT"] == "connect":
            assert "SSHAND_USER" not in r
        if server != "file":
            # The connect record is the front's, whose process then becomes
            # the guardian; every later one the monitor's, which it forked,
            # and which stays root after the login too (the sessions drop
            # to the user, not the monitor).
            assert r["_UID"] == "0", r
            assert r["_TRANSPORT"] == "journal", r
            if r["SSHAND_EVENT"] in ("connect", "rejected-banned"):
                front = front or r["_PID"]
                assert r["_PID"] == front, r
            else:
                pids.add(r["_PID"])
    if server != "file":
        # A banned source's connection never gets past the front.
        assert len(pids) <= 1 and front not in pids, (front, pids)
        assert pids or events(recs)[-1] == "rejected-banned", (front, pids)


def client_version():
    out = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr
    return "SSH-2.0-" + out.split(",")[0].strip()


def check_version(recs, want):
    for r in recs:
        if r["SSHAND_EVENT"] != "connect":
            assert r.get("SSHAND_CLIENT_VERSION") == want, r


def check_disconnect(c, d, reason):
    assert d["SSHAND_EVENT"] == "disconnect"
    assert d["SSHAND_REASON"] == reason, d
    assert int(d["SSHAND_BYTES_IN"]) > 0 and int(d["SSHAND_BYTES_OUT"]) > 0, d
    dur = int(d["SSHAND_DURATION_USEC"])
    # The server's connection lies within the client's run.
    assert 0 < dur <= c["elapsed_usec"] + 200000, (dur, c["elapsed_usec"])


SERVERS = ["journal", "file"]


def test_inner_run_clean(e2e):
    assert not e2e["errors"], "\n".join(e2e["errors"])
    for tag, s in e2e["servers"].items():
        assert not s.get("problems"), (tag, s["problems"], s["log"][-3000:])


@pytest.mark.parametrize("server", SERVERS)
def test_failed_passwords_told_apart(e2e, server):
    ver = client_version()
    for tag, user, reason, pw in (("badpw", "alice", "bad-password", WRONG_PW),
                                  ("unknown", "nosuchuser", "unknown-user", UNKNOWN_PW)):
        c, cid, recs = records_for(e2e, server, tag)
        assert c["rc"] == 255 and "Permission denied" in c["stderr"], c
        check_common(e2e, server, c, cid, recs, user=user)
        check_version(recs, ver)
        assert events(recs) == ["connect", "auth-attempt", "disconnect"], \
            [(r["SSHAND_EVENT"], r.get("SSHAND_AUTH_METHOD")) for r in recs]
        a = recs[1]
        assert a["SSHAND_AUTH_METHOD"] == "password"
        assert a["SSHAND_AUTH_RESULT"] == "failure"
        assert a["SSHAND_REASON"] == reason, a
        assert "SSHAND_KEY_FINGERPRINT" not in a
        assert a["PRIORITY"] == "4"
        assert user in a["MESSAGE"] and c["src"] in a["MESSAGE"]
        assert all(pw not in json.dumps(r) for r in recs)
        check_disconnect(c, recs[2], "client-closed")


@pytest.mark.parametrize("server", SERVERS)
def test_key_login_exit_7(e2e, keys, server):
    c, cid, recs = records_for(e2e, server, "exit7")
    assert c["rc"] == 7, c
    check_common(e2e, server, c, cid, recs, user="alice")
    check_version(recs, client_version())
    assert events(recs) == ["connect", "auth-attempt", "session-start",
                            "session-end", "disconnect"], events(recs)
    _, a, start, end, disc = recs
    fp = harness.run(["ssh-keygen", "-lf", keys.client("alice_ed25519") + ".pub"],
                     check=True).stdout.split()[1]
    assert fp.startswith("SHA256:")
    assert a["SSHAND_AUTH_METHOD"] == "publickey"
    assert a["SSHAND_AUTH_RESULT"] == "success"
    assert a["SSHAND_KEY_FINGERPRINT"] == fp
    assert "SSHAND_REASON" not in a
    assert a["PRIORITY"] == "5"
    assert start["SSHAND_SESSION_TYPE"] == "exec"
    assert start["SSHAND_COMMAND"] == "exit 7"
    assert end["SSHAND_EXIT_STATUS"] == "7"
    assert "SSHAND_EXIT_SIGNAL" not in end
    assert end["SSHAND_SESSION_TYPE"] == "exec"
    assert end["SSHAND_COMMAND"] == "exit 7"
    assert 0 <= int(end["SSHAND_DURATION_USEC"]) <= int(disc["SSHAND_DURATION_USEC"])
    check_disconnect(c, disc, "client-closed")
    # Only auth-attempts carry the fingerprint; no key material anywhere.
    pub = keys.pub("alice_ed25519").split()[1]
    assert all(pub not in json.dumps(r) for r in recs)


@pytest.mark.parametrize("server", SERVERS)
def test_sftp_session(e2e, server):
    c, cid, recs = records_for(e2e, server, "sftp")
    assert c["rc"] == 0, c
    assert ".bash_profile" in c["stdout"], c["stdout"]
    check_common(e2e, server, c, cid, recs, user="alice")
    assert events(recs) == ["connect", "auth-attempt", "session-start",
                            "session-end", "disconnect"], events(recs)
    start, end = recs[2], recs[3]
    assert start["SSHAND_SESSION_TYPE"] == "subsystem"
    assert start["SSHAND_COMMAND"] == "sftp"
    assert end["SSHAND_EXIT_STATUS"] == "0"
    check_disconnect(c, recs[4], "client-closed")


@pytest.mark.parametrize("server", SERVERS)
def test_command_output_never_recorded(e2e, server):
    c, cid, recs = records_for(e2e, server, "output")
    assert c["rc"] == 0 and c["stdout"] == OUTPUT_MARK + "\n", c
    start = [r for r in recs if r["SSHAND_EVENT"] == "session-start"]
    assert [r["SSHAND_COMMAND"] for r in start] == [esc(OUTPUT_CMD.encode(), 4096)]
    text = e2e["journal_export_text"] if server == "journal" else \
        "".join(e2e["file_lines"])
    assert OUTPUT_MARK not in text


def test_no_password_anywhere(e2e):
    secrets = [WRONG_PW, UNKNOWN_PW, HOSTILE_PW, BAN_PW, harness.password("alice")]
    texts = {"journal json": e2e["journal_all_text"],
             "journal export": e2e["journal_export_text"],
             "jsonl file": "".join(e2e["file_lines"])}
    for tag, s in e2e["servers"].items():
        texts["server log " + tag] = s["log"]
    for name, text in texts.items():
        for pw in secrets:
            assert pw not in text, "password %r in %s" % (pw, name)


def test_connection_ids_distinct_and_whole(e2e):
    audit = [r for r in e2e["journal"] if "SSHAND_EVENT" in r]
    by_client = {}
    for c in e2e["conns"]:
        if c["server"] == "file" or not c.get("port"):
            continue
        ids = {r["SSHAND_CONNECTION"] for r in audit
               if r.get("SSHAND_REMOTE_ADDR") == c["src"] and
               r.get("SSHAND_REMOTE_PORT") == str(c["port"])}
        assert len(ids) == 1, (c["tag"], ids)
        by_client[(c["server"], c["tag"])] = ids.pop()
    # One id per connection, different across connections.
    assert len(set(by_client.values())) == len(by_client), by_client
    # Every record belongs to a connection; the query gives it whole, and
    # only it (the daemon's own diagnostic lines carry the id too).
    assert all("SSHAND_CONNECTION" in r for r in audit)
    for cid, got in e2e["by_connection"].items():
        want = [r for r in e2e["journal"] if r.get("SSHAND_CONNECTION") == cid]
        assert [r["__CURSOR"] for r in got] == [r["__CURSOR"] for r in want]
        assert all(r["SSHAND_CONNECTION"] == cid for r in got)
        evs = [r["SSHAND_EVENT"] for r in got if "SSHAND_EVENT" in r]
        assert evs and evs[0] == "connect", evs
    # Diagnostic lines (no SSHAND_EVENT) carry no other audit field.
    for r in e2e["journal"]:
        if "SSHAND_EVENT" not in r:
            assert {k for k in r if k.startswith("SSHAND_")} <= {"SSHAND_CONNECTION"}, r


def test_invocation_id_is_the_connection_id(e2e):
    c, cid, recs = records_for(e2e, "invid", "invid")
    assert c["rc"] == 0, c
    assert cid == INVOCATION.lower()
    assert events(recs) == ["connect", "auth-attempt", "session-start",
                            "session-end", "disconnect"]


def test_debug_lines_of_every_process(e2e):
    """LogLevel DEBUG into the journal, as a deployed unit logs: a line
    written by a confined process must not be a call its filter kills (a
    journal line is a sendto, which the key holder's filter lacks).  The
    monitor's lines, and those the network child and the key holder write
    before they confine themselves, reach the journal with the
    connection's id; after that both are silent there, by design (no
    journal socket in a process that parses the client's bytes or holds
    the host keys)."""
    c, cid, recs = records_for(e2e, "debug", "debug")
    assert c["rc"] == 0, (c, server_log(e2e, "debug"))
    assert events(recs) == ["connect", "auth-attempt", "session-start",
                            "session-end", "disconnect"]
    msgs = [r.get("MESSAGE") for r in e2e["journal"]
            if r.get("SSHAND_CONNECTION") == cid and
            isinstance(r.get("MESSAGE"), str)]
    for want in ("phase monitor-loaded ", "phase session-ready ",
                 "net phase hostkeys ", "keys phase loaded "):
        assert any(m.startswith(want) for m in msgs), (want, msgs)
    for confined in ("net phase kex ", "keys phase confined "):
        assert not any(m.startswith(confined) for m in msgs), (confined, msgs)


def test_grace_time_disconnect(e2e):
    c, cid, recs = records_for(e2e, "grace", "grace")
    check_common(e2e, "grace", c, cid, recs)
    assert events(recs) == ["connect", "disconnect"], events(recs)
    d = recs[-1]
    assert d["SSHAND_REASON"] == "grace-time", d
    # The version is exchanged before the key exchange the client stalls.
    assert d.get("SSHAND_CLIENT_VERSION", "SSH-2.0-idle_client") == "SSH-2.0-idle_client"
    assert 1500000 <= int(d["SSHAND_DURATION_USEC"]) <= 6000000, d
    # The client sent its version line and read the server's version and
    # KEXINIT: the byte counts must say so.
    assert c["received"] > 0, c
    assert int(d["SSHAND_BYTES_OUT"]) >= c["received"], (d, c)
    assert int(d["SSHAND_BYTES_IN"]) >= len(b"SSH-2.0-idle_client\r\n"), d


def test_ban_events(e2e):
    c, cid, recs = records_for(e2e, "journal", "ban-tries")
    check_common(e2e, "journal", c, cid, recs, user="alice")
    ev = events(recs)
    assert ev[0] == "connect" and ev[-1] == "disconnect", ev
    tries = [r for r in recs if r["SSHAND_EVENT"] == "auth-attempt"]
    assert len(tries) == 5, ev
    assert all(r["SSHAND_REASON"] == "bad-password" for r in tries)
    assert ev.count("ban-added") == 1, ev
    ban = recs[ev.index("ban-added")]
    assert int(ban["SSHAND_BAN_UNTIL"]) > time.time()
    # The fifth banned the address: it was not answered, and its record
    # says so; the client saw four refusals.
    assert ["SSHAND_BAN_UNTIL" in r for r in tries] == [False] * 4 + [True], tries
    assert tries[-1]["SSHAND_BAN_UNTIL"] == ban["SSHAND_BAN_UNTIL"]
    assert c.get("refusals") == 4, c
    assert recs[-1]["SSHAND_REASON"] == "banned", recs[-1]
    c2, cid2, recs2 = records_for(e2e, "journal", "ban-refused")
    assert "exception" in c2, c2
    assert cid2 != cid
    check_common(e2e, "journal", c2, cid2, recs2)
    assert events(recs2)[:2] == ["connect", "rejected-banned"], events(recs2)
    assert int(recs2[1]["SSHAND_BAN_UNTIL"]) == int(ban["SSHAND_BAN_UNTIL"])
    # Password exchanges went both ways before the server gave up.
    check_disconnect(c, recs[-1], "banned")


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("name", list(HOSTILE_USERS))
def test_hostile_user_names(e2e, server, name):
    raw = HOSTILE_USERS[name]
    c, cid, recs = records_for(e2e, server, "user-" + name)
    check_common(e2e, server, c, cid, recs)
    assert "accepted" != c.get("auth"), c
    ev = events(recs)
    assert ev[0] == "connect" and ev[-1] == "disconnect", ev
    assert "privsep-violation" not in ev, \
        "a client's user name is no privilege separation violation: %r" % recs
    attempts = [r for r in recs if r["SSHAND_EVENT"] == "auth-attempt"]
    assert len(attempts) == 1, ev
    a = attempts[0]
    assert a["SSHAND_AUTH_RESULT"] == "failure"
    assert a["SSHAND_REASON"] == "unknown-user", a
    # Bounded and escaped: what audit_conn_set_user + audit_escape make.
    kept = raw if len(raw) < 256 else raw[:252] + b"..."
    assert a["SSHAND_USER"] == esc(kept, 256), a["SSHAND_USER"][:300]
    assert len(a["MESSAGE"]) < 2048


@pytest.mark.parametrize("server", SERVERS)
def test_hostile_commands(e2e, server):
    c, cid, recs = records_for(e2e, server, "hostilecmd")
    assert c["rc"] == 0 and c["stdout"] == "hi\n", c
    start = [r for r in recs if r["SSHAND_EVENT"] == "session-start"]
    assert [r["SSHAND_COMMAND"] for r in start] == \
        ["echo hi\\x0aSSHAND_USER=root"]


@pytest.mark.parametrize("server", SERVERS)
def test_hostile_64k_command(e2e, server):
    """A 64 KiB command with newlines, injections and invalid UTF-8 (sent
    with paramiko), then "echo after" on the same connection.  The server
    may run the long command (as OpenSSH does) or refuse it; either way
    the connection survives, and whatever ran is recorded bounded."""
    c, cid, recs = records_for(e2e, server, "bigcmd")
    ev = events(recs)
    assert "exception" not in c, (c.get("traceback"), ev,
                                  [r["MESSAGE"] for r in recs])
    check_common(e2e, server, c, cid, recs, user="alice")
    assert c["after_rc"] == 0 and c["after_stdout"] == "after\n", c
    starts = [r for r in recs if r["SSHAND_EVENT"] == "session-start"]
    ends = [r for r in recs if r["SSHAND_EVENT"] == "session-end"]
    want = esc(HOSTILE_CMD_BIG, 4096)
    if "big_refused" in c:
        assert [r["SSHAND_COMMAND"] for r in starts] == ["echo after"], ev
    else:
        # It runs up to its fourth line, which is no shell syntax (an
        # unmatched "("): the shell says so and ends with status 2, as
        # under OpenSSH, whose exec requests reach this size too.
        assert c["rc"] == 2 and c["stdout"] == "big\n", c
        assert [r["SSHAND_COMMAND"] for r in starts] == [want, "echo after"], \
            [r["SSHAND_COMMAND"][:100] for r in starts]
        assert [r["SSHAND_COMMAND"] for r in ends] == [want, "echo after"]
        assert int(recs[-1]["SSHAND_BYTES_IN"]) > 65536
    assert len(starts) == len(ends)
    assert ev[0] == "connect" and ev[1] == "auth-attempt" and ev[-1] == "disconnect"
    assert recs[-1]["SSHAND_REASON"] == "client-closed", recs[-1]


@pytest.mark.parametrize("server", SERVERS)
def test_hostile_client_version(e2e, server):
    c, cid, recs = records_for(e2e, server, "version")
    check_common(e2e, server, c, cid, recs, user="alice")
    check_version(recs, esc(HOSTILE_VERSION.encode(), 256))


def test_no_forged_fields_in_journal(e2e):
    assert e2e["root_records"] == []
    assert e2e["forged_records"] == []
    for r in e2e["journal"]:
        if "SSHAND_EVENT" in r:
            for k, v in r.items():
                assert isinstance(v, str), (k, v)
        msg = r.get("MESSAGE", "")
        if isinstance(msg, list):
            msg = bytes(msg).decode("utf-8", "replace")
        assert "\n" not in msg and "\r" not in msg


def test_diagnostic_lines_are_text(e2e):
    """sshand's own log lines (no SSHAND_EVENT) quote client values too;
    they must reach the journal as text, not as a binary blob that
    journalctl shows as "[blob data]"."""
    blobs = [bytes(r["MESSAGE"]) for r in e2e["journal"]
             if "SSHAND_EVENT" not in r and not isinstance(r.get("MESSAGE"), str)]
    assert blobs == [], blobs


def test_jsonlines_file_is_json_one_record_a_line(e2e):
    assert e2e["file_lines"], "no JSON-lines audit file"
    assert e2e["file_mode"] == 0o600
    for line in e2e["file_lines"]:
        assert line.endswith("\n") and line.count("\n") == 1
        r = json.loads(line)
        assert all(isinstance(v, str) for v in r.values()), r
        assert r.get("SSHAND_USER") != "root"
        assert int(r["__REALTIME_TIMESTAMP"]) > 1600000000 * 10**6


# Fields whose values do not depend on the connection's id, port, timing.
STABLE = ["SSHAND_EVENT", "MESSAGE_ID", "PRIORITY", "SYSLOG_IDENTIFIER",
          "SSHAND_USER", "SSHAND_AUTH_METHOD", "SSHAND_AUTH_RESULT", "SSHAND_REASON",
          "SSHAND_KEY_FINGERPRINT", "SSHAND_SESSION_TYPE", "SSHAND_COMMAND",
          "SSHAND_EXIT_STATUS", "SSHAND_EXIT_SIGNAL", "SSHAND_CLIENT_VERSION",
          "SSHAND_LOCAL_ADDR"]


@pytest.mark.parametrize("tag", PLAIN + ["hostilecmd", "bigcmd", "version"] +
                         ["user-" + n for n in HOSTILE_USERS])
def test_jsonlines_same_records_as_journal(e2e, tag):
    _, _, jr = records_for(e2e, "journal", tag)
    _, _, fr = records_for(e2e, "file", tag)
    assert [sorted(k for k in r if k.startswith(("SSHAND_", "MESSAGE")))
            for r in fr] == \
        [sorted(k for k in r if k.startswith(("SSHAND_", "MESSAGE"))) for r in jr]
    for f, j in zip(fr, jr):
        assert {k: f.get(k) for k in STABLE} == {k: j.get(k) for k in STABLE}


def test_sshandctl_audit_file_user(e2e):
    rc, out, err = e2e["ctl"]["file_alice_json"]
    assert rc == 0, err
    recs = [json.loads(l) for l in out.splitlines() if l.strip()]
    assert recs and all(r["SSHAND_USER"] == "alice" for r in recs)
    want = [r for r in file_records(e2e) if r.get("SSHAND_USER") == "alice"]
    assert recs == want
    logins = [r for r in recs if r["SSHAND_EVENT"] == "auth-attempt" and
              r["SSHAND_AUTH_RESULT"] == "success"]
    # exit7, sftp, output, hostilecmd, bigcmd: five logins by key.
    assert len(logins) == 5, [r["MESSAGE"] for r in logins]
    rc, out, err = e2e["ctl"]["file_alice"]
    assert rc == 0, err
    rows = [l for l in out.splitlines() if l.strip()]
    assert rows[0].split()[:3] == ["TIME", "CONN", "EVENT"]
    assert len(rows) == 1 + len(want)
    assert sum("publickey/success" in l for l in rows) == 5
    assert any("exec: exit 7" in l and l.rstrip().endswith(" 7") for l in rows)
    assert any("subsystem: sftp" in l for l in rows)
    assert any("password/failure:bad-password" in l for l in rows)


def test_sshandctl_audit_journal_connection(e2e):
    jid = e2e["exit7_journal_id"]
    assert jid
    rc, out, err = e2e["ctl"]["journal_conn"]
    assert rc == 0, err
    rows = [l for l in out.splitlines() if l.strip()]
    assert len(rows) == 1 + 5, out
    assert all(l.split()[2] == jid[:8] for l in rows[1:]), out
    assert [l.split()[3] for l in rows[1:]] == [
        "connect", "auth-attempt", "session-start", "session-end", "disconnect"]
    rc, out, err = e2e["ctl"]["journal_conn_json"]
    assert rc == 0, err
    recs = [json.loads(l) for l in out.splitlines() if l.strip()]
    want = [r for r in e2e["journal"] if r.get("SSHAND_CONNECTION") == jid and
            "SSHAND_EVENT" in r]
    assert [r["__CURSOR"] for r in recs if "SSHAND_EVENT" in r] == \
        [r["__CURSOR"] for r in want]
    rc, out, err = e2e["ctl"]["journal_alice_json"]
    assert rc == 0, err
    recs = [json.loads(l) for l in out.splitlines() if l.strip()]
    assert recs and all(r["SSHAND_USER"] == "alice" for r in recs)


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "--inner":
    inner(sys.argv[2])
