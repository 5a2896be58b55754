"""Helpers for the integration suite: keys, users, a socket-activated
sshand per test, and the real clients (ssh, sshpass, sftp, scp, ...).

Runs inside the private mount namespace that tests/integration/run sets
up: /etc/passwd, /etc/group, /etc/shadow, /etc/pam.d and /home are copies
belonging to this run only.
"""

import fcntl
import hashlib
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import termios
import time

BUILD = os.environ.get("SSHAND_BUILD", "")
ASAN_BUILD = os.environ.get("SSHAND_ASAN_BUILD", "")
WORK = os.environ.get("SSHAND_WORK", "")
SFTP_SERVER = "/usr/lib/openssh/sftp-server"
HOST = "127.0.0.1"

# name -> (uid, gid, home); must agree with tests/integration/run, which
# numbers them from SSHAND_ITEST_UID_BASE too (two runs at once use two
# bases: see tests/suite).
UID_BASE = int(os.environ.get("SSHAND_ITEST_UID_BASE", "5000"))
USERS = {name: (UID_BASE + n, UID_BASE + n, "/home/" + name) for n, name in enumerate(
    ("alice", "bob", "carol", "locked", "expired", "noshell", "keyonly", "keystar"), 1)}
PRIVSEP_UID = UID_BASE + 900
SSHSTRICT_GID = UID_BASE + 950   # carol is a member
SFTPONLY_GID = UID_BASE + 960
ALICE, BOB, CAROL = (USERS[u][0] for u in ("alice", "bob", "carol"))
TEST_UIDS = {u[0] for u in USERS.values()} | {PRIVSEP_UID}


def password(user):
    with open(os.path.join(WORK, "passwords")) as f:
        for line in f:
            name, pw = line.split(None, 1)
            if name == user:
                return pw.strip()
    raise KeyError(user)


def run(argv, timeout=60, check=False, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run(argv, timeout=timeout, check=check, **kw)


def client_env(extra=None):
    """Environment for client programs: no agent, nothing from the caller's
    ssh setup, a fixed TERM."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SSH_", "LC_")) and k not in ("LANG", "DISPLAY")}
    env["TERM"] = "xterm"
    env["HOME"] = os.path.join(WORK, "clienthome")
    # ssh-copy-id keeps its temporary files in the client's ~/.ssh.
    os.makedirs(os.path.join(env["HOME"], ".ssh"), mode=0o700, exist_ok=True)
    if extra:
        env.update(extra)
    return env


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def make_random_file(path, size):
    if os.path.exists(path) and os.path.getsize(path) == size:
        return path
    with open(path + ".tmp", "wb") as f:
        left = size
        while left:
            n = min(left, 1 << 20)
            f.write(os.urandom(n))
            left -= n
    os.chmod(path + ".tmp", 0o644)
    os.rename(path + ".tmp", path)
    return path


# ---- keys -----------------------------------------------------------------

class Keys:
    """Host keys and client keys, generated once per run."""

    CLIENT = {
        "alice_ed25519": ("ed25519", []),
        "alice_ecdsa": ("ecdsa", ["-b", "256"]),
        "alice_rsa": ("rsa", ["-b", "2048"]),
        "bob_ed25519": ("ed25519", []),
        "carol_ed25519": ("ed25519", []),
        "expired_ed25519": ("ed25519", []),
        "keyonly_ed25519": ("ed25519", []),
        "stranger1": ("ed25519", []),
        "stranger2": ("ed25519", []),
        "stranger3": ("ed25519", []),
        "copyid": ("ed25519", []),
    }
    HOST = ("ed25519", "ecdsa", "rsa")

    def __init__(self, work):
        self.hostdir = os.path.join(work, "hostkeys")
        self.clientdir = os.path.join(work, "clientkeys")
        os.makedirs(self.hostdir, mode=0o700, exist_ok=True)
        os.makedirs(self.clientdir, mode=0o700, exist_ok=True)
        for t in self.HOST:
            p = self.host(t)
            if not os.path.exists(p):
                run(["ssh-keygen", "-q", "-t", t, "-N", "", "-C", "sshand-test-host",
                     "-f", p], check=True)
        for name, (t, extra) in self.CLIENT.items():
            p = self.client(name)
            if not os.path.exists(p):
                run(["ssh-keygen", "-q", "-t", t, *extra, "-N", "", "-C",
                     name + "@client", "-f", p], check=True)

    def host(self, t):
        return os.path.join(self.hostdir, "ssh_host_%s_key" % t)

    def host_paths(self):
        return [self.host(t) for t in self.HOST]

    def client(self, name):
        return os.path.join(self.clientdir, name)

    def pub(self, name):
        with open(self.client(name) + ".pub") as f:
            return f.read().strip()


# ---- users' homes ---------------------------------------------------------

def reset_home(user, keys=None, authorized=None):
    """A fresh home: 0755 home, 0700 ~/.ssh, 0600 authorized_keys holding
    `authorized` (a list of lines) or nothing."""
    uid, gid, home = USERS[user]
    if os.path.lexists(home):
        shutil.rmtree(home)
    os.mkdir(home, 0o755)
    os.chown(home, uid, gid)
    os.chmod(home, 0o755)
    # A login shell must be recognisable: .bash_profile is only read by one.
    with open(os.path.join(home, ".bash_profile"), "w") as f:
        f.write("PS1='PROMPT> '\nexport SSHAND_TEST_LOGIN_SHELL=1\n")
    os.chown(os.path.join(home, ".bash_profile"), uid, gid)
    if authorized is not None:
        write_authorized_keys(user, authorized)


def write_authorized_keys(user, lines, ssh_mode=0o700, file_mode=0o600):
    uid, gid, home = USERS[user]
    d = os.path.join(home, ".ssh")
    os.makedirs(d, exist_ok=True)
    os.chown(d, uid, gid)
    os.chmod(d, ssh_mode)
    p = os.path.join(d, "authorized_keys")
    with open(p, "w") as f:
        f.write("".join(line + "\n" for line in lines))
    os.chown(p, uid, gid)
    os.chmod(p, file_mode)
    return p


def chown_tree(path, user):
    uid, gid, _ = USERS[user]
    for root, dirs, files in os.walk(path):
        os.chown(root, uid, gid)
        for n in files:
            os.lchown(os.path.join(root, n), uid, gid)


# ---- processes ------------------------------------------------------------

_MY_MNT = None


def _my_mnt():
    global _MY_MNT
    if _MY_MNT is None:
        _MY_MNT = os.readlink("/proc/self/ns/mnt")
    return _MY_MNT


def proc_status(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            st = {}
            for line in f:
                k, _, v = line.partition(":")
                st[k] = v.strip()
            return st
    except OSError:
        return None


CAP_FIELDS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")


def is_keyholder(st):
    """Is this /proc status the key holder's: the one process of a
    connection that stays uid 0, with no capability at all?"""
    return st is not None and st.get("Uid", "").split() == ["0"] * 4 and \
        all(int(st.get(c, "1"), 16) == 0 for c in CAP_FIELDS)


def keyholder_problems(st):
    """What is wrong with the key holder's confinement (keyholder.h):
    uid 0 kept only so that nobody else may signal or trace it, nothing
    else of root."""
    out = []
    for c in CAP_FIELDS:
        if int(st.get(c, "1"), 16) != 0:
            out.append("%s: %s, want 0" % (c, st.get(c)))
    if st.get("NoNewPrivs") != "1":
        out.append("NoNewPrivs: %s, want 1" % st.get("NoNewPrivs"))
    if st.get("Seccomp") != "2":
        out.append("Seccomp: %s, want 2" % st.get("Seccomp"))
    return out


def all_pids():
    for n in os.listdir("/proc"):
        if n.isdigit():
            yield int(n)


def ppid_map(zombies=False):
    """{pid: parent pid} of the live processes (and the zombies, if
    asked)."""
    m = {}
    for pid in all_pids():
        try:
            with open("/proc/%d/stat" % pid) as f:
                s = f.read()
        except OSError:
            continue
        # comm may contain spaces and parens: split after the last ')'.
        rest = s[s.rindex(")") + 2:].split()
        if rest[0] == "Z" and not zombies:
            continue
        m[pid] = int(rest[1])
    return m


def children(pid, zombies=False):
    """The pids whose parent is pid (zombies too, if asked: a child
    killed but not reaped)."""
    return [p for p, pp in ppid_map(zombies).items() if pp == pid]


def descendants(root):
    m = ppid_map()
    kids = {}
    for pid, pp in m.items():
        kids.setdefault(pp, []).append(pid)
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def user_procs_left(uids=TEST_UIDS):
    """Live processes of the test users in this run's mount namespace
    (other runs on the machine may use the same uids)."""
    found = []
    for pid in all_pids():
        try:
            if os.readlink("/proc/%d/ns/mnt" % pid) != _my_mnt():
                continue
        except OSError:
            continue
        st = proc_status(pid)
        if not st or st.get("State", "").startswith("Z"):
            continue
        ruid = int(st["Uid"].split()[0])
        euid = int(st["Uid"].split()[1])
        if ruid in uids or euid in uids:
            found.append((pid, ruid, st.get("Name", "?")))
    return found


# What the monitor keeps after login (handler/monitor/privileges.c), by
# the numbers of linux/capability.h; sys_admin only for a user whose
# sessions may run setuid programs under a seccomp profile, which the
# kernel then loads only with it.
MONITOR_CAPS = {"setgid": 6, "setuid": 7, "setpcap": 8, "sys_chroot": 18,
                "sys_resource": 24, "audit_write": 29}
CAP_SYS_ADMIN = 21
# What the guardian keeps from the start (handler/front/guard.c).
GUARDIAN_CAPS = {"setgid": 6, "setuid": 7, "audit_write": 29}


def own_bounding_set():
    """This process's capability bounding set, which sshand inherits (on
    some hosts root lacks a capability or two, CAP_SYS_RESOURCE say)."""
    return int(proc_status(os.getpid())["CapBnd"], 16)


def dumpable(pid):
    """Whether a root process with fewer capabilities than ours is
    dumpable, seen by root without CAP_SYS_PTRACE: same uid, and ours
    still a superset of its capabilities, so only its dumpable flag can
    refuse to show where its cwd link points."""
    r = run(["setpriv", "--bounding-set=-sys_ptrace", "--inh-caps=-all",
             "readlink", "-v", "/proc/%d/cwd" % pid])
    if r.returncode == 0:
        return True
    assert "Permission denied" in r.stderr, r.stderr
    return False


def root_monitor_problems(pid, setuid_ok=True, filtered=True):
    """What is wrong with a process that should be the monitor after login:
    root, exactly MONITOR_CAPS, no seccomp filter (the sessions would
    inherit it), not dumpable.  setuid_ok: the user's sessions may run
    setuid programs (NoNewPrivileges no, the default but under strict):
    then the bounding set stays whole, for them, and with a profile that
    loads a filter (filtered) CAP_SYS_ADMIN stays too; otherwise the
    bounding set is cut to MONITOR_CAPS and no_new_privs is set."""
    st = proc_status(pid)
    assert st, "process %d vanished" % pid
    out = []
    caps = sum(1 << b for b in MONITOR_CAPS.values())
    if setuid_ok and filtered:
        caps |= 1 << CAP_SYS_ADMIN
    want = caps & own_bounding_set()
    bnd = own_bounding_set() if setuid_ok else want
    if st["Uid"].split() != ["0"] * 4:
        out.append("Uid %s" % st["Uid"])
    for k, w in (("CapEff", want), ("CapPrm", want), ("CapBnd", bnd)):
        if int(st[k], 16) != w:
            out.append("%s %s, want %x" % (k, st[k], w))
    for k in ("CapInh", "CapAmb"):
        if int(st[k], 16) != 0:
            out.append("%s %s" % (k, st[k]))
    if st.get("NoNewPrivs") != ("0" if setuid_ok else "1"):
        out.append("NoNewPrivs %s" % st.get("NoNewPrivs"))
    if st.get("Seccomp") != "0":
        out.append("Seccomp %s" % st.get("Seccomp"))
    if dumpable(pid):
        out.append("dumpable")
    return ["pid %d (%s): %s" % (pid, st.get("Name"), p) for p in out]


def guardian_problems(pid):
    """The guardian: root with GUARDIAN_CAPS only, bounding set included,
    no_new_privs (it never starts a session)."""
    st = proc_status(pid)
    assert st, "process %d vanished" % pid
    want = sum(1 << b for b in GUARDIAN_CAPS.values()) & own_bounding_set()
    out = []
    if st["Uid"].split() != ["0"] * 4:
        out.append("Uid %s" % st["Uid"])
    for k in ("CapEff", "CapPrm", "CapBnd"):
        if int(st[k], 16) != want:
            out.append("%s %s, want %x" % (k, st[k], want))
    for k in ("CapInh", "CapAmb"):
        if int(st[k], 16) != 0:
            out.append("%s %s" % (k, st[k]))
    if st.get("NoNewPrivs") != "1":
        out.append("NoNewPrivs %s" % st.get("NoNewPrivs"))
    return ["guardian %d: %s" % (pid, p) for p in out]


def rss_kib(pids):
    total = 0
    for pid in pids:
        st = proc_status(pid)
        if st and "VmRSS" in st:
            total += int(st["VmRSS"].split()[0])
    return total


def cpu_ticks(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rindex(")") + 2:].split()
        total += int(rest[11]) + int(rest[12])
    return total


def paramiko_login(s, keys, user="alice", key="alice_ed25519"):
    """A paramiko Transport logged in to server s with user's key: for
    tests whose client must do what the OpenSSH client does not."""
    import paramiko

    sock = socket.create_connection((HOST, s.port), 15)
    t = paramiko.Transport(sock)
    t.start_client(timeout=15)
    t.auth_publickey(user, paramiko.Ed25519Key.from_private_key_file(
        keys.client(key)))
    assert t.is_authenticated()
    return t


def read_audit(path, event=None):
    """The records of the JSON-lines audit trail at path, oldest first
    ([] before the first is written); only those of that SSHAND_EVENT if
    event is given.  sshand writes each record as one O_APPEND write of a
    whole line, and a reader can still meet the last one half written:
    the file is read in one pass and only what precedes its last newline
    counts.  (Iterating over the open file instead would not do: after a
    half-written last line it reads on, and the rest of that record,
    written meanwhile, comes as a "line" of its own.)"""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    recs = [json.loads(line) for line in data[:data.rfind(b"\n") + 1].split(b"\n")
            if line.strip()]
    return [r for r in recs if event is None or r.get("SSHAND_EVENT") == event]


def wait_for(pred, timeout, step=0.1):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            return v
        time.sleep(step)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# ---- the server -----------------------------------------------------------

class Server:
    """One systemd-socket-activate listening on a free port, starting one
    sshand per connection (mode "accept": LISTEN_FDS/fd 3; "inetd": fd 0)."""

    def __init__(self, keys, name, extra_config="", mode="accept", build=None,
                 env=None, args=(), wrap=()):
        assert mode in ("accept", "inetd")
        self.keys = keys
        self.mode = mode
        self.build = build or BUILD
        self.binary = os.path.join(self.build, "sshand")
        self.dir = os.path.join(WORK, "servers", name)
        os.makedirs(self.dir, mode=0o700)
        self.conf = os.path.join(self.dir, "sshand.conf")
        self.log_path = os.path.join(self.dir, "server.log")
        self.known_hosts = os.path.join(self.dir, "known_hosts")
        self.audit_log = os.path.join(self.dir, "audit.jsonl")
        self.ban_file = os.path.join(self.dir, "bans")
        self.env = env or {}
        self.args = list(args)
        # A command the listener runs under (it must exec it in the end),
        # e.g. to give it a mount namespace of its own.
        self.wrap = list(wrap)
        self.proc = None
        self.port = None
        self.write_config(extra_config)

    def base_config(self):
        lines = ["# generated by tests/integration/harness.py"]
        lines += ["HostKey " + p for p in self.keys.host_paths()]
        lines += [
            "PrivsepDirectory " + os.path.join(WORK, "empty"),
            "BanFile " + self.ban_file,
            "AuditLog " + self.audit_log,
            "Subsystem sftp " + SFTP_SERVER,
            "LogLevel VERBOSE",
        ]
        return "\n".join(lines) + "\n"

    def write_config(self, extra_config):
        with open(self.conf, "w") as f:
            f.write(self.base_config())
            # Tests leave no process behind, and most end their clients
            # abruptly: unless a test is about KillUserProcesses, what
            # the user started ends with the connection (the shipped
            # default, no, is tested where it matters).
            if "killuserprocesses" not in (extra_config or "").lower():
                f.write("KillUserProcesses yes\n")
            if extra_config:
                f.write(extra_config.strip("\n") + "\n")
        os.chmod(self.conf, 0o600)

    def start(self):
        for _ in range(5):
            self.port = free_port()
            argv = ["systemd-socket-activate", "-l", "%s:%d" % (HOST, self.port),
                    "--accept"]
            if self.mode == "inetd":
                argv.append("--inetd")
            for k, v in self.env.items():
                argv += ["-E", "%s=%s" % (k, v)]
            argv += [self.binary, "-e", "-f", self.conf] + self.args
            argv = self.wrap + argv
            self.logf = open(self.log_path, "ab")
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                         stdout=self.logf, stderr=self.logf,
                                         start_new_session=True, cwd="/")
            ok = wait_for(lambda: "Listening on" in self.log() or
                          self.proc.poll() is not None, 10)
            if ok and self.proc.poll() is None:
                return self
            self.proc.wait(5)
            self.logf.close()
            if "in use" not in self.log():
                break
        raise RuntimeError("systemd-socket-activate did not start:\n" + self.log())

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def exit_codes(self):
        """Exit codes of the finished per-connection sshand processes."""
        return [int(c) for c in re.findall(r"Child \d+ died with code (\d+)", self.log())]

    def audit_records(self, event=None):
        """This server's audit records so far (see read_audit)."""
        return read_audit(self.audit_log, event)

    def connections(self):
        """pids of the sshand processes currently serving a connection."""
        if not self.proc:
            return []
        m = ppid_map()
        return [p for p, pp in m.items() if pp == self.proc.pid]

    def tree(self):
        return descendants(self.proc.pid) if self.proc else []

    def wait_idle(self, timeout=10):
        """Waits until every connection has ended and its exit code has
        been logged (a zombie is no longer served but not yet logged)."""
        def idle():
            log = self.log()
            return not self.connections() and \
                log.count("Spawned ") == len(re.findall(r"Child \d+ died with code", log))
        return wait_for(idle, timeout)

    def stop(self):
        """Stops the listener; returns a list of problems (leftover
        connections or user processes, sanitizer reports)."""
        problems = []
        if self.proc is None:
            return problems
        if not self.wait_idle(10):
            problems.append("connections still served 10 s after the test: %r" %
                            [(p, proc_status(p) and proc_status(p).get("Name"))
                             for p in self.tree()])
        tree = self.tree()
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        for pid in tree:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        wait_for(lambda: not user_procs_left(), 5)
        left = user_procs_left()
        if left:
            problems.append("processes of test users left behind: %r" % left)
            for pid, _, _ in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.logf.close()
        log = self.log()
        for marker in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            if marker in log:
                problems.append("sanitizer report in server log (%s)" % marker)
        self.proc = None
        return problems

    # ---- clients ----

    def ssh_common(self, extra_opts=()):
        argv = ["ssh", "-F", "/dev/null", "-p", str(self.port),
                "-o", "UserKnownHostsFile=" + self.known_hosts,
                "-o", "StrictHostKeyChecking=accept-new",
                "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR",
                "-o", "ConnectTimeout=15"]
        for o in extra_opts:
            argv += ["-o", o]
        return argv

    def key_opts(self, keys):
        if isinstance(keys, str):
            keys = [keys]
        out = ["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
               "-o", "PreferredAuthentications=publickey"]
        for k in keys:
            out += ["-i", self.keys.client(k) if not os.path.isabs(k) else k]
        return out

    def ssh_argv(self, user="alice", cmd=None, key="alice_ed25519", opts=(),
                 flags=()):
        argv = self.ssh_common(opts) + self.key_opts(key) + list(flags)
        argv += ["%s@%s" % (user, HOST)]
        if cmd is not None:
            argv += ["--", cmd]
        return argv

    def ssh(self, user="alice", cmd=None, key="alice_ed25519", opts=(), flags=(),
            input=None, timeout=60, binary=False, env=None):
        """Key login; returns CompletedProcess (text unless binary)."""
        return subprocess.run(self.ssh_argv(user, cmd, key, opts, flags),
                              input=input, capture_output=True, timeout=timeout,
                              text=not binary, env=client_env(env))

    def password_argv(self, user, pw, cmd=None, method="password", opts=(), flags=()):
        argv = ["sshpass", "-p", pw] + self.ssh_common(opts) + [
            "-o", "PreferredAuthentications=" + method,
            "-o", "PubkeyAuthentication=no",
            "-o", "BatchMode=no",
            "-o", "NumberOfPasswordPrompts=1"]
        if method == "keyboard-interactive":
            argv += ["-o", "KbdInteractiveAuthentication=yes"]
        argv += list(flags) + ["%s@%s" % (user, HOST)]
        if cmd is not None:
            argv += ["--", cmd]
        return argv

    def ssh_password(self, user, pw=None, cmd="true", opts=(), flags=(), input=None,
                     timeout=60):
        pw = password(user) if pw is None else pw
        return subprocess.run(self.password_argv(user, pw, cmd, "password", opts, flags),
                              input=input, capture_output=True, text=True,
                              timeout=timeout, env=client_env())

    def ssh_kbdint(self, user, pw=None, cmd="true", opts=(), flags=(), input=None,
                   timeout=60):
        pw = password(user) if pw is None else pw
        return subprocess.run(self.password_argv(user, pw, cmd, "keyboard-interactive",
                                                 opts, flags),
                              input=input, capture_output=True, text=True,
                              timeout=timeout, env=client_env())

    def ssh_e(self, key="alice_ed25519", opts=()):
        """The ssh command line for `rsync -e` / `scp -S`-like uses, as
        one shell-quoted string (without the destination)."""
        import shlex
        argv = self.ssh_common(opts) + self.key_opts(key)
        return " ".join(shlex.quote(a) for a in argv)

    def file_client_opts(self, key="alice_ed25519"):
        """Options for sftp/scp (they take -P and -o, not -p)."""
        return ["-F", "/dev/null", "-P", str(self.port),
                "-o", "UserKnownHostsFile=" + self.known_hosts,
                "-o", "StrictHostKeyChecking=accept-new",
                "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR",
                "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                "-o", "PreferredAuthentications=publickey",
                "-i", self.keys.client(key)]

    def host_fingerprints(self, hashalg="sha256"):
        out = []
        for p in self.keys.host_paths():
            r = run(["ssh-keygen", "-l", "-E", hashalg, "-f", p + ".pub"], check=True)
            out.append(r.stdout.split()[1])
        return out


# ---- an ssh client on a pty -----------------------------------------------

class PtyClient:
    """Runs a client (ssh -tt ...) with a pty as its terminal, as a user at
    a terminal would."""

    def __init__(self, argv, rows=24, cols=80, env=None, modes=None):
        self.master, slave = os.openpty()
        self.set_size(rows, cols)
        if modes is not None:
            # The user's own terminal settings, which ssh sends with its
            # pty request: modes(attrs) edits tcgetattr's list in place.
            attrs = termios.tcgetattr(slave)
            modes(attrs)
            termios.tcsetattr(slave, termios.TCSANOW, attrs)

        def child_setup():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                                     preexec_fn=child_setup, env=env or client_env(),
                                     close_fds=True)
        os.close(slave)
        self.buf = b""

    def set_size(self, rows, cols):
        fcntl.ioctl(self.master, termios.TIOCSWINSZ,
                    struct.pack("HHHH", rows, cols, 0, 0))

    def resize(self, rows, cols):
        self.set_size(rows, cols)
        # The kernel signals the pty's foreground group; say it explicitly
        # too, as a terminal emulator's window change would.
        try:
            os.kill(self.proc.pid, signal.SIGWINCH)
        except ProcessLookupError:
            pass

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        os.write(self.master, data)

    def _read(self, timeout):
        r, _, _ = select.select([self.master], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:
            data = b""
        if not data:
            return None
        self.buf += data
        return True

    def expect(self, pattern, timeout=10):
        """Waits for a regex (bytes or str) in the output since the last
        match; returns the match or raises AssertionError with the output."""
        if isinstance(pattern, str):
            pattern = pattern.encode()
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            left = end - time.monotonic()
            if left <= 0 or self._read(left) is None:
                # One last look after EOF.
                m = rx.search(self.buf)
                if m:
                    self.buf = self.buf[m.end():]
                    return m
                raise AssertionError("pattern %r not seen; output: %r" %
                                     (pattern, self.buf[-2000:]))

    def wait(self, timeout=15):
        end = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < end:
            self._read(0.2)
        try:
            return self.proc.wait(max(0.1, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise AssertionError("client still running after %s s; output: %r" %
                                 (timeout, self.buf[-2000:])) from None

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        try:
            os.close(self.master)
        except OSError:
            pass
