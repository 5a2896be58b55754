#!/usr/bin/python3
"""sshand side by side with OpenSSH, Dropbear and tinysshd.

Run by bench/run inside a private mount and network namespace (unshare -m -n),
as root.  Every server is started per connection by systemd-socket-activate
--accept on loopback, under bench-wrap (bench/wrap.c), which records the
user+sys CPU and the stderr of each connection's whole process tree.  The
fixture users, PAM stack and host keys live on a tmpfs that disappears with
the namespace; the real /etc, /etc/ssh and sshd are never touched.
"""

import argparse
import atexit
import datetime
import glob
import hashlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

import chart

CACHE = "/var/cache/sshand-bench"
WORK = CACHE + "/work"
CHACHA = "chacha20-poly1305@openssh.com"
AESGCM = "aes128-gcm@openssh.com"
KEX = "curve25519-sha256"
MIB = 1024 * 1024
GIB = 1024 * MIB
USER = "benchu"
LINK_DELAY_MS = 25     # each way: the 50 ms round-trip link
LINK100_DELAY_MS = 50  # the 100 ms one
# Over the 100 ms link (issue 19): scp (SFTP mode, OpenSSH 9's default),
# sftp, rsync over ssh.
TOOLS = ("scp", "sftp", "rsync")
# The memory step's client at the password prompt connects to a second
# instance of the server, the same but for PasswordAuthentication yes, at
# its port + PROMPT_OFFSET (the measured instances never offer passwords).
PROMPT_OFFSET = 50
ASKPASS = WORK + "/client/askpass"
ORDER = ["openssh", "dropbear", "tinysshd", "sshand-base", "sshand"]


T0 = time.monotonic()


def log(msg):
    print("bench: [%4.0fs] %s" % (time.monotonic() - T0, msg),
          file=sys.stderr, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def summary(values):
    v = sorted(x for x in values if x is not None)
    if not v:
        return None
    if len(v) == 1:
        q1 = q3 = v[0]
    else:
        q1, _, q3 = statistics.quantiles(v, n=4, method="inclusive")
    return {"median": statistics.median(v), "p25": q1, "p75": q3,
            "min": v[0], "max": v[-1], "n": len(v)}


# ---------------------------------------------------------------- fixture

def free_id(used, start):
    i = start
    while i in used:
        i += 1
    used.add(i)
    return i


def make_fixture(sshand_needed):
    """Users, PAM and homes on a tmpfs, bind-mounted over /etc inside the
    private mount namespace (never visible outside it)."""
    os.makedirs(WORK, exist_ok=True)
    sh(["mount", "-t", "tmpfs", "-o", "mode=0755,size=2g", "bench", WORK])
    # sshd wants /run/sshd; a private /run keeps the host's untouched.
    sh(["mount", "-t", "tmpfs", "-o", "mode=0755", "benchrun", "/run"])
    os.makedirs("/run/sshd", mode=0o755)
    etc = WORK + "/etc"
    os.makedirs(etc)
    for f in ("passwd", "group", "shadow"):
        shutil.copy2("/etc/" + f, etc + "/" + f)
    shutil.copytree("/etc/pam.d", etc + "/pam.d", symlinks=True)
    with open(etc + "/passwd") as f:
        pw = [l.split(":") for l in f.read().splitlines() if l]
    with open(etc + "/group") as f:
        gr = [l.split(":") for l in f.read().splitlines() if l]
    names = {p[0] for p in pw}
    uids = {int(p[2]) for p in pw}
    gids = {int(g[2]) for g in gr}
    hashed = subprocess.run(["openssl", "passwd", "-6", "bench-unused-pw"],
                            check=True, capture_output=True,
                            text=True).stdout.strip()
    home = WORK + "/home/" + USER
    add = [(USER, home, "/bin/sh", hashed)]
    if sshand_needed and "sshand" not in names:
        add.append(("sshand", "/nonexistent", "/usr/sbin/nologin", "!"))
    if "sshd" not in names:
        add.append(("sshd", "/run/sshd", "/usr/sbin/nologin", "!"))
    ids = {}
    with open(etc + "/passwd", "a") as fp, open(etc + "/group", "a") as fg, \
            open(etc + "/shadow", "a") as fs:
        for name, h, shell, pwhash in add:
            if name in names:
                continue
            uid = free_id(uids, 61000)
            gid = free_id(gids, uid)
            fp.write(f"{name}:x:{uid}:{gid}:bench:{h}:{shell}\n")
            fg.write(f"{name}:x:{gid}:\n")
            fs.write(f"{name}:{pwhash}:19000:0:99999:7:::\n")
            ids[name] = (uid, gid)
    # The same minimal PAM stack for every server that uses PAM, so the
    # comparison is about the servers, not about the host's session modules
    # (libpam still loads those of "other", for both: bench/README.md).
    stack = ("auth required pam_unix.so\naccount required pam_unix.so\n"
             "session required pam_unix.so\n")
    for svc in ("sshd", "sshand"):
        path = etc + "/pam.d/" + svc
        if os.path.lexists(path):
            os.unlink(path)
        with open(path, "w") as f:
            f.write(stack)
    for f in ("passwd", "group", "shadow"):
        sh(["mount", "--bind", etc + "/" + f, "/etc/" + f])
    sh(["mount", "--bind", etc + "/pam.d", "/etc/pam.d"])

    uid, gid = ids[USER]
    os.makedirs(home + "/.ssh", mode=0o700)
    cdir = WORK + "/client"
    os.makedirs(cdir)
    sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bench",
        "-f", cdir + "/id_ed25519"])
    shutil.copy(cdir + "/id_ed25519.pub", home + "/.ssh/authorized_keys")
    os.chmod(home + "/.ssh/authorized_keys", 0o600)
    for root, dirs, files in os.walk(home):
        for n in dirs + files:
            os.chown(os.path.join(root, n), uid, gid)
    os.chown(home, uid, gid)
    os.chmod(home, 0o755)
    # The password prompt's "askpass": says where the client is (its pid,
    # which the bench ends once it has measured the server), answers
    # nothing.
    with open(ASKPASS, "w") as f:
        f.write('#!/bin/sh\necho $$ > "$BENCH_ASKPASS_MARK"\nexec sleep 20\n')
    os.chmod(ASKPASS, 0o755)
    with open(cdir + "/config", "w") as f:
        f.write(f"""Host *
  User {USER}
  IdentityFile {cdir}/id_ed25519
  IdentitiesOnly yes
  IdentityAgent none
  UserKnownHostsFile /dev/null
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking no
  CheckHostIP no
  UpdateHostKeys no
  BatchMode yes
  LogLevel ERROR
  KexAlgorithms {KEX}
  HostKeyAlgorithms ssh-ed25519
  PubkeyAcceptedAlgorithms ssh-ed25519
  Compression no
  ControlMaster no
  ControlPath none
  ConnectTimeout 10
  AddressFamily inet
""")
    return home


# ---------------------------------------------------------------- servers

class Server:
    ciphers = (CHACHA, AESGCM)
    inetd = True
    forwards = True  # serves ssh -L (direct-tcpip)
    prompt_instance = None  # the same server with passwords (memory step)

    def __init__(self, name, port, args):
        self.name = name
        self.port = port
        self.args = args
        self.dir = f"{WORK}/srv-{name}"
        self.logdir = self.dir + "/conn"
        os.makedirs(self.logdir, exist_ok=True)
        self.procs = []
        self.seen = set()
        self.exe = None
        self.version = ""
        self.error = None
        self.stamp = False

    def start(self, addr="127.0.0.1", port=None, netns=None):
        argv = ["systemd-socket-activate", "-l",
                f"{addr}:{port or self.port}", "--accept"]
        if self.inetd:
            argv.append("--inetd")
        argv += [ARGS.wrap] + (["-t"] if self.stamp else []) + \
            [self.logdir] + self.args
        if netns:
            argv = ["nsenter", "--net=/run/netns/" + netns] + argv
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=open(self.dir + "/activate.log", "a"))
        self.procs.append(p)
        return p

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        self.procs = []

    def collect(self, n, timeout=10.0):
        """The .rus records of the next n finished connections."""
        end = time.monotonic() + timeout
        while True:
            new = [f for f in os.listdir(self.logdir)
                   if f.endswith(".rus") and f not in self.seen]
            if len(new) >= n or time.monotonic() > end:
                break
            time.sleep(0.005)
        recs = []
        for f in new:
            self.seen.add(f)
            with open(os.path.join(self.logdir, f)) as fh:
                r = json.load(fh)
            r["cpu_us"] = r["utime_us"] + r["stime_us"]
            recs.append(r)
        recs.sort(key=lambda r: r["start_us"])
        return recs

    def drain(self):
        time.sleep(0.05)
        self.collect(0, 0)

    def stderr_tail(self, lines=15):
        out = []
        for f in sorted(glob.glob(self.logdir + "/*.err"),
                        key=os.path.getmtime)[-3:]:
            with open(f, errors="replace") as fh:
                out += fh.read().splitlines()
        try:
            with open(self.dir + "/activate.log", errors="replace") as fh:
                out += fh.read().splitlines()[-5:]
        except OSError:
            pass
        return "\n".join(out[-lines:])


def setup_openssh(port):
    d = f"{WORK}/srv-openssh"
    os.makedirs(d, exist_ok=True)
    sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
        d + "/ssh_host_ed25519_key"])
    for conf, pw in (("sshd_config", "no"), ("sshd_config_pw", "yes")):
        with open(d + "/" + conf, "w") as f:
            f.write(f"""HostKey {d}/ssh_host_ed25519_key
PidFile none
UsePAM yes
PubkeyAuthentication yes
PasswordAuthentication {pw}
KbdInteractiveAuthentication no
AuthorizedKeysFile .ssh/authorized_keys
PermitRootLogin no
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AcceptEnv none
LogLevel ERROR
KexAlgorithms {KEX}
Ciphers {CHACHA},{AESGCM}
HostKeyAlgorithms ssh-ed25519
Subsystem sftp /usr/lib/openssh/sftp-server
""")
    sshd = ARGS.sshd
    s = Server("openssh", port, [sshd, "-i", "-f", d + "/sshd_config"])
    s.exe = os.path.realpath(sshd)
    p = Server("openssh-prompt", port + PROMPT_OFFSET,
               [sshd, "-i", "-f", d + "/sshd_config_pw"])
    p.exe = s.exe
    s.prompt_instance = p
    s.version = subprocess.run([sshd, "-V"], capture_output=True,
                               text=True).stderr.strip().splitlines()[0]
    return s


def setup_dropbear(port):
    d = f"{WORK}/srv-dropbear"
    os.makedirs(d, exist_ok=True)
    root = ARGS.peers
    sh([root + "/usr/bin/dropbearkey", "-t", "ed25519", "-f",
        d + "/hostkey"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    exe = root + "/usr/sbin/dropbear"
    # -W: Dropbear's default receive window is 24 KiB, which would make the
    # delayed-link upload take minutes; give it OpenSSH's 2 MiB.  No -j:
    # its local forwarding (the client's -L) is measured beside the others.
    s = Server("dropbear", port, [exe, "-i", "-r", d + "/hostkey", "-s",
                                  "-k", "-m", "-W", "2097152"] +
               (["-E"] if ARGS.debug else []))
    s.exe = os.path.realpath(exe)
    s.version = subprocess.run([exe, "-V"], capture_output=True,
                               text=True).stderr.strip().splitlines()[0]
    return s


def setup_tinysshd(port):
    d = f"{WORK}/srv-tinysshd"
    os.makedirs(d, exist_ok=True)
    root = ARGS.peers
    sh([root + "/usr/sbin/tinysshd-makekey", "-q", d + "/keydir"])
    exe = root + "/usr/sbin/tinysshd"
    s = Server("tinysshd", port, [exe, "-v" if ARGS.debug else "-q",
                                  "-x", "sftp=/usr/lib/openssh/sftp-server",
                                  d + "/keydir"])
    s.ciphers = (CHACHA,)
    s.forwards = False  # tinysshd has no port forwarding at all
    s.exe = os.path.realpath(exe)
    s.version = "tinysshd " + ARGS.tinysshd_version
    return s


def sshand_config(d, loglevel, passwords=False):
    # One ed25519 host key, as every server here has (README: "How every
    # server is run"): sshandctl hostkeys also makes an ECDSA and an RSA
    # key, which sshd's config here does not have either; a server that
    # loads three keys per connection against one would be measured for
    # a different setup, not for its own cost.
    keydir = d + "/hostkeys"
    keys = sorted(k for k in glob.glob(keydir + "/*ed25519_key"))
    os.makedirs(d + "/empty", mode=0o755, exist_ok=True)
    path = f"{d}/sshand-{loglevel.lower()}{'-pw' if passwords else ''}.conf"
    with open(path, "w") as f:
        for k in keys:
            f.write(f"HostKey {k}\n")
        f.write(f"""PrivsepUser sshand
PrivsepDirectory {d}/empty
BanFile {d}/bans
AuditLog {d}/audit.jsonl
LogLevel {loglevel}
KexAlgorithms {KEX}
Ciphers {CHACHA},{AESGCM}
PasswordAuthentication {"yes" if passwords else "no"}
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
Subsystem sftp /usr/lib/openssh/sftp-server
# As sshd's default: the peers are compared with the same admission rules
# (10 parallel logins from one address would meet sshand's default share).
PerSourceMaxStartups none
""")
    return path


def setup_sshand(port, name="sshand", binary=None):
    binary = binary or ARGS.sshand
    d = f"{WORK}/srv-{name}"
    os.makedirs(d + "/hostkeys", mode=0o700, exist_ok=True)
    r = subprocess.run([ARGS.sshandctl, "hostkeys", "-d", d + "/hostkeys"],
                       capture_output=True, text=True)
    if not glob.glob(d + "/hostkeys/*"):
        # sshandctl hostkeys not done yet: an OpenSSH-format key is what
        # libssh reads anyway.
        log("sshandctl hostkeys made no key (exit %d); using ssh-keygen"
            % r.returncode)
        sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
            d + "/hostkeys/ssh_host_ed25519_key"])
    conf = sshand_config(d, "INFO")
    dconf = sshand_config(d, "DEBUG")
    s = Server(name, port, [binary, "-f", conf])
    s.inetd = False
    s.exe = os.path.realpath(binary)
    s.version = "sshand " + (ARGS.sshand_version if name == "sshand"
                             else ARGS.base_version)
    # A second instance at LogLevel DEBUG, used only for the phase breakdown
    # so that debug logging never weighs on the measured instance.
    dbg = Server(name + "-debug", port + 1, [binary, "-e", "-f", dconf])
    dbg.inetd = False
    dbg.exe = s.exe
    dbg.stamp = True
    s.debug_instance = dbg
    p = Server(name + "-prompt", port + PROMPT_OFFSET,
               [binary, "-f", sshand_config(d, "INFO", passwords=True)])
    p.inetd = False
    p.exe = s.exe
    s.prompt_instance = p
    s.ban_file = d + "/bans"
    return s


# ---------------------------------------------------------------- client

def ssh_argv(s, cmd, cipher=CHACHA, addr=None, bind=None, extra=()):
    """addr: (host, port) to connect to, a delayed link's end; by default
    the server's own loopback port."""
    host, port = addr or ("127.0.0.1", s.port)
    argv = ["/usr/bin/ssh", "-F", WORK + "/client/config", "-c", cipher,
            "-p", str(port)]
    if bind:
        argv += ["-b", bind]
    return argv + list(extra) + [host, cmd]


def client_env(nodelay):
    env = dict(os.environ)
    if nodelay:
        env["LD_PRELOAD"] = ARGS.nodelay
    return env


def timed(argv, env=None, timeout=60, **kw):
    t = time.perf_counter()
    r = subprocess.run(argv, env=env, timeout=timeout,
                       stdin=kw.pop("stdin", subprocess.DEVNULL), **kw)
    return time.perf_counter() - t, r


def ssh_true(s, nodelay=False, bind=None, cipher=CHACHA):
    dt, r = timed(ssh_argv(s, "true", cipher, bind=bind),
                  env=client_env(nodelay),
                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                  timeout=20)
    return dt, r.returncode, r.stderr


def probe(s):
    try:
        dt, rc, err = ssh_true(s)
    except subprocess.TimeoutExpired:
        rc, err = -1, b"timeout"
    s.collect(1, 5)
    if rc != 0:
        return "ssh true exited %d: %s\n%s" % (
            rc, err.decode(errors="replace").strip(), s.stderr_tail())
    # A cipher the server lacks is reported as n/a, not as a failure.
    keep = []
    for c in s.ciphers:
        try:
            ok = ssh_true(s, cipher=c)[1] == 0
        except subprocess.TimeoutExpired:
            ok = False
        s.collect(1, 5)
        if ok:
            keep.append(c)
        else:
            log(f"{s.name} does not offer {c}")
    s.ciphers = tuple(keep)
    return None


# ---------------------------------------------------------------- measures

class Bench:
    def __init__(self, servers, smoke):
        self.servers = servers
        self.smoke = smoke
        self.res = {}
        self.failures = []

    def live(self, cipher=None):
        return [s for s in self.servers if s.error is None and
                (cipher is None or cipher in s.ciphers)]

    def fail(self, s, what, detail=""):
        msg = f"{s.name}: {what}"
        log("FAILED " + msg + ((": " + detail) if detail else ""))
        self.failures.append(msg)

    def put(self, section, key, server, values, extra=None, failed=0):
        """failed: attempts that produced no value (a short transfer, an
        error); the cell then says FAILED, whatever the others measured."""
        d = self.res.setdefault(section, {}).setdefault(key, {})
        sm = summary(values)
        if sm is None and failed:
            sm = {"median": None, "n": 0}
        if sm is not None:
            if extra:
                sm.update(extra)
            if failed:
                sm["failed"] = failed
                sm["attempts"] = failed + sm["n"]
            d[server] = sm

    # 1, 2: latency and CPU per connection
    def latency(self, n):
        for variant in ("stock", "nodelay"):
            lat = {s.name: [] for s in self.live()}
            cpu = {s.name: [] for s in self.live()}
            for _ in range(n):
                for s in self.live():
                    dt, rc, err = ssh_true(s, nodelay=variant == "nodelay")
                    recs = s.collect(1, 5)
                    if rc != 0:
                        self.fail(s, f"ssh true ({variant}) exit {rc}",
                                  err.decode(errors="replace").strip())
                        continue
                    lat[s.name].append(dt * 1000)
                    cpu[s.name] += [r["cpu_us"] / 1000 for r in recs]
                    if ARGS.debug:
                        log(f"{s.name} {variant} {dt*1000:.1f}ms {recs}")
            for name in lat:
                self.put("latency_ms", variant, name, lat[name])
                self.put("cpu_ms_per_conn", variant, name, cpu[name])

    def phases(self, s, n):
        """sshand's 'phase NAME usec N' lines are cumulative: microseconds
        since main() (monitor lines) or since the network child started
        (lines tagged 'net').  bench-wrap -t stamps every line with the
        time it was read on the wrapper's clock, which places main() and
        the child's start on the same clock as the wrapper's fork, so each
        step becomes a duration and they add up to the whole."""
        dbg = getattr(s, "debug_instance", None)
        if dbg is None or s.error:
            return
        dbg.start()
        time.sleep(0.2)
        per = {k: [] for k, _ in PHASES}
        raw = {}
        cpu = {k: [] for k, _ in CPU_PARTS}
        line = re.compile(r"^(?:@(\d+) )?sshand\[\d+\]: (net |keys )?phase (\S+) "
                          r"usec (\d+)(?: cpu (\d+))?", re.M)
        steps_cpu = {}
        cpu_line = re.compile(r"sshand\[\d+\]: cpu monitor usec (\d+) net usec "
                              r"(\d+) sessions usec (\d+)(?: keys usec (\d+))?")
        for _ in range(n):
            ssh_true(dbg)
            for r in dbg.collect(1, 5):
                err = f"{dbg.logdir}/{r['pid']}.err"
                try:
                    text = open(err, errors="replace").read()
                except OSError:
                    continue
                # Table 2b's wall-clock steps are the monitor's and the
                # network child's; the key holder's lines count in 2d.
                mon, net, base = {}, {}, {"mon": [], "net": [], "keys": []}
                for m in line.finditer(text):
                    side = m.group(2).strip() if m.group(2) else "mon"
                    us = int(m.group(4))
                    if side != "keys":
                        (net if side == "net" else mon)[m.group(3)] = us
                    raw.setdefault(("" if side == "mon" else side + " ") +
                                   m.group(3), []).append(us / 1000)
                    if m.group(1):
                        # Reading adds delay, never removes it: the
                        # earliest estimate of the origin is the best.
                        base[side].append(int(m.group(1)) - us)
                for k, v in phase_steps(mon, net, r["start_us"],
                                        min(base["mon"], default=None),
                                        min(base["net"], default=None)):
                    per[k].append(v / 1000)
                m = cpu_line.search(text)
                for k, v in cpu_steps(line.finditer(text),
                                      m and int(m.group(1)),
                                      m and int(m.group(2)),
                                      m and m.group(4) and int(m.group(4))):
                    steps_cpu.setdefault(k, []).append(v / 1000)
                if m:
                    parts = [int(x or 0) / 1000 for x in m.groups()]
                    for (k, _), v in zip(CPU_PARTS, parts + [sum(parts)]):
                        cpu[k].append(v)
        dbg.stop()
        self.res["sshand_phases_ms"] = {
            k: summary(v) for k, v in per.items() if v} or None
        self.res["sshand_phases_cumulative_ms"] = {
            k: summary(v) for k, v in raw.items()} or None
        self.res["sshand_cpu_by_process_ms"] = {
            k: summary(v) for k, v in cpu.items() if v} or None
        self.res["sshand_cpu_by_step_ms"] = {
            k: summary(v) for k, v in steps_cpu.items()} or None
        if not raw:
            log("sshand printed no 'phase NAME usec N' lines at LogLevel "
                "DEBUG; no phase breakdown")

    # 6b: the ban file itself
    def banfile(self, sizes, n):
        """banstress-tool bench FILE N: fills a fresh ban file with N
        entries, then times random lookups and updates.  The file lives on
        the bench's tmpfs and is removed after each run (1M entries are
        about 200 MB)."""
        if not ARGS.banstress:
            self.failures.append("ban file: banstress-tool is not built" +
                                 (f" ({ARGS.banstress_missing})"
                                  if ARGS.banstress_missing else ""))
            return
        path = WORK + "/bench-bans"
        out = self.res.setdefault("ban_file_ns", {})
        for size in sizes:
            look, upd, bad = [], [], 0
            for _ in range(n):
                try:
                    r = subprocess.run([ARGS.banstress, "bench", path,
                                        str(size)], capture_output=True,
                                       text=True, timeout=300)
                finally:
                    for f in glob.glob(path + "*"):
                        os.unlink(f)
                try:
                    j = json.loads(r.stdout)
                    assert r.returncode == 0 and j["entries"] == size
                except (ValueError, KeyError, AssertionError):
                    bad += 1
                    msg = (f"ban file bench {size}: exit {r.returncode} "
                           f"{(r.stderr or r.stdout).strip()[:200]}")
                    log("FAILED " + msg)
                    self.failures.append(msg)
                    continue
                look.append(j["lookup_ns"])
                upd.append(j["update_ns"])
            row = {}
            for k, v in (("lookup", look), ("update", upd)):
                sm = summary(v)
                if sm is None and bad:
                    sm = {"median": None, "n": 0}
                if sm is not None and bad:
                    sm["failed"] = bad
                    sm["attempts"] = n
                if sm is not None:
                    row[k] = sm
            out[str(size)] = row

    # 3: throughput
    def throughput(self, size, n, cipher, direction, port_of=None,
                   section="throughput_MBps", size_of=None):
        key = f"{direction} {cipher.split('@')[0]}"
        rate = {s.name: [] for s in self.live(cipher)}
        cpug = {s.name: [] for s in self.live(cipher)}
        bad = {s.name: 0 for s in self.live(cipher)}
        used = {}
        for _ in range(n):
            for s in self.live(cipher):
                addr = port_of(s) if port_of else None
                sz = size_of(s) if size_of else size
                used[s.name] = sz
                dt, moved, err = transfer(s, sz, cipher, direction, addr)
                recs = s.collect(1, 10)
                if err:
                    self.fail(s, f"{section} {key}: {err}")
                    bad[s.name] += 1
                    continue
                rate[s.name].append(moved / MIB / dt)
                for rec in recs:
                    cpug[s.name].append(rec["cpu_us"] / 1e6 / (sz / GIB))
        for name in rate:
            self.put(section, key, name, rate[name],
                     {"bytes": used.get(name)}, failed=bad[name])
            self.put(section.replace("MBps", "server_cpu_s_per_GiB"), key,
                     name, cpug[name], failed=bad[name])
        return rate

    # 9: forwarding
    def sink_alone(self, size, n):
        """The sink and source with no ssh between: what the forwarding
        rates below must stay far under for the sink not to be what they
        measure."""
        port = start_sink()
        for d in ("up", "down"):
            vals, bad = [], 0
            for _ in range(n):
                dt, moved, err = sink_transfer(port, size, d)
                if err:
                    log(f"FAILED sink alone {d}: {err}")
                    self.failures.append(f"sink alone {d}: {err}")
                    bad += 1
                    continue
                vals.append(moved / MIB / dt)
            self.put("forward_sink_MBps", d, "sink", vals, failed=bad)

    def forward(self, size, n, cipher, direction):
        """size bytes through ssh -N -L to the sink (up) or from the
        source (down), one connection per transfer, like section 3."""
        key = f"{direction} {cipher.split('@')[0]}"
        live = [s for s in self.live(cipher) if s.forwards]
        port = start_sink()
        rate = {s.name: [] for s in live}
        cpug = {s.name: [] for s in live}
        bad = {s.name: 0 for s in live}
        for _ in range(n):
            for s in live:
                dt, moved, err = tunnel_transfer(s, size, cipher, direction,
                                                 port)
                recs = s.collect(1, 10)
                if err:
                    self.fail(s, f"ssh -L {key}: {err}")
                    bad[s.name] += 1
                    continue
                rate[s.name].append(moved / MIB / dt)
                for rec in recs:
                    cpug[s.name].append(rec["cpu_us"] / 1e6 / (size / GIB))
        for name in rate:
            self.put("forward_MBps", key, name, rate[name],
                     {"bytes": size}, failed=bad[name])
            self.put("forward_server_cpu_s_per_GiB", key, name, cpug[name],
                     failed=bad[name])

    # 4: memory
    def memory(self, n):
        vals = {s.name: ([], [], []) for s in self.live()}
        prompt = {s.name: ([], [], []) for s in self.live()
                  if s.prompt_instance is not None}
        for s in self.live():
            if s.prompt_instance is not None:
                s.prompt_instance.start()
        time.sleep(0.2)
        for _ in range(n):
            for s in self.live():
                p = subprocess.Popen(ssh_argv(s, "sleep 1"),
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
                got = None
                end = time.monotonic() + 10
                while got is None and time.monotonic() < end:
                    tree = descendants([x.pid for x in s.procs])
                    if any(comm(pid) == "sleep" for pid in tree):
                        time.sleep(0.05)
                        tree = descendants([x.pid for x in s.procs])
                        got = mem_of([pid for pid in tree
                                      if exe(pid) == s.exe])
                    else:
                        time.sleep(0.01)
                p.wait(20)
                s.collect(1, 5)
                if got is None:
                    self.fail(s, "memory: session never started")
                    continue
                for i in range(3):
                    vals[s.name][i].append(got[i] / 1024)
            for s in self.live():
                if s.name not in prompt:
                    continue
                got, why = at_password_prompt(s.prompt_instance)
                if got is None:
                    self.fail(s, "memory: the password prompt never came",
                              why)
                    continue
                for i in range(3):
                    prompt[s.name][i].append(got[i] / 1024)
        for s in self.live():
            if s.prompt_instance is not None:
                s.prompt_instance.stop()
        for name, (hwm, pss, anon) in vals.items():
            self.put("memory_MiB", "peak RSS sum", name, hwm)
            self.put("memory_MiB", "PSS sum", name, pss)
            self.put("memory_MiB", "PSS anon sum", name, anon)
        for name, (hwm, pss, anon) in prompt.items():
            self.put("memory_MiB", "peak RSS at the prompt", name, hwm)
            self.put("memory_MiB", "PSS at the prompt", name, pss)
            self.put("memory_MiB", "PSS anon at the prompt", name, anon)

    # 5: connections per second
    def rate(self, par, total, rounds):
        for _ in range(rounds):
            for s in self.live():
                errors = []
                lock = threading.Lock()
                left = [total]

                def worker():
                    while True:
                        with lock:
                            if left[0] == 0:
                                return
                            left[0] -= 1
                        dt, rc, err = ssh_true(s)
                        if rc != 0:
                            with lock:
                                errors.append(err)
                t = time.perf_counter()
                th = [threading.Thread(target=worker) for _ in range(par)]
                for x in th:
                    x.start()
                for x in th:
                    x.join()
                dt = time.perf_counter() - t
                s.collect(total, 10)
                if errors:
                    self.fail(s, f"conn/s x{par}: {len(errors)} failed",
                              errors[0].decode(errors="replace").strip())
                    continue
                self.res.setdefault("conn_per_s_raw", {}).setdefault(
                    f"{par} parallel", {}).setdefault(s.name, []).append(
                    total / dt)
        for key, per in self.res.pop("conn_per_s_raw", {}).items():
            for name, v in per.items():
                self.put("conn_per_s", key, name, v)

    # 6: banned address
    def banned(self, s, n):
        if s.error:
            return
        r = subprocess.run([ARGS.sshandctl, "--ban-file", s.ban_file, "bans",
                            "ban", "127.0.0.9"], capture_output=True,
                           text=True)
        if r.returncode != 0:
            self.fail(s, "sshandctl bans ban 127.0.0.9",
                      (r.stderr or r.stdout).strip())
            return
        lat, cpu = [], []
        for _ in range(n):
            dt, rc, err = ssh_true(s, bind="127.0.0.9")
            recs = s.collect(1, 5)
            if rc == 0:
                self.fail(s, "banned address was let in")
                return
            lat.append(dt * 1000)
            cpu += [x["cpu_us"] / 1000 for x in recs]
        self.put("banned", "client wall ms", s.name, lat)
        self.put("banned", "server cpu ms", s.name, cpu)

    # 6c: the fleet store (issue 21)
    def fleet(self, s, n):
        """ssh true against sshand with and without the fleet store beside
        it: a redis-server on loopback and `sshandctl bans fleet-sync` on
        the same ban file (BanStore redis://...).  sshand's connection path
        is the same either way (it never talks to Redis); this shows
        whether the sync's locking and polling cost it anything.  Rounds
        alternate without/with so that drift does not pass for a cost;
        full runs also report the sync's own CPU per second."""
        if s.error:
            return
        redis = shutil.which("redis-server")
        if not redis:
            self.failures.append("fleet store: redis-server missing "
                                 "(tests/deps.sh bench installs it)")
            return
        d = WORK + "/fleet"
        os.makedirs(d, exist_ok=True)
        port = free_tcp_port()
        rproc = subprocess.Popen(
            [redis, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
             "--appendonly", "no", "--dir", d, "--daemonize", "no"],
            stdin=subprocess.DEVNULL, stdout=open(d + "/redis.log", "ab"),
            stderr=subprocess.STDOUT)
        sync = None
        try:
            if not wait_listening(port, 10, rproc):
                self.fail(s, "fleet store: redis-server did not start")
                return
            conf = d + "/sshand-fleet.conf"
            with open(s.args[-1]) as f:
                text = f.read()
            with open(conf, "w") as f:
                f.write(text + f"BanStore redis://127.0.0.1:{port}/0\n")
            slog = open(d + "/fleet-sync.log", "ab")
            lat = {"without": [], "with": []}
            cpu = {"without": [], "with": []}
            rounds = 2 if self.smoke else 5
            per = max(1, n // rounds)
            for _ in range(rounds):
                for variant in ("without", "with"):
                    if variant == "with":
                        sync = subprocess.Popen(
                            [ARGS.sshandctl, "-f", conf, "bans", "fleet-sync"],
                            stdin=subprocess.DEVNULL, stdout=slog,
                            stderr=slog)
                        time.sleep(0.3)
                    for _ in range(per):
                        dt, rc, err = ssh_true(s)
                        recs = s.collect(1, 5)
                        if rc != 0:
                            self.fail(s, f"fleet store ({variant}): ssh true "
                                      f"exit {rc}",
                                      err.decode(errors="replace").strip())
                            continue
                        lat[variant].append(dt * 1000)
                        cpu[variant] += [r["cpu_us"] / 1000 for r in recs]
                    if sync is not None:
                        if sync.poll() is not None:
                            self.fail(s, "fleet store: fleet-sync exited %d"
                                      % sync.returncode)
                            return
                        sync.terminate()
                        sync.wait(5)
                        sync = None
            for v in ("without", "with"):
                self.put("fleet_store", f"ssh true ms, {v}", s.name, lat[v])
                self.put("fleet_store", f"server cpu ms, {v}", s.name, cpu[v])
            if not self.smoke:
                # Its steady cost: the CPU of a 3 s run less a 0.5 s one's
                # (both with its start), per second of the difference.
                spent = []
                for secs in (0.5, 3.0):
                    p = subprocess.Popen(
                        [ARGS.sshandctl, "-f", conf, "bans", "fleet-sync"],
                        stdin=subprocess.DEVNULL, stdout=slog, stderr=slog)
                    time.sleep(secs)
                    p.terminate()
                    _, _, ru = os.wait4(p.pid, 0)
                    p.returncode = 0
                    spent.append(ru.ru_utime + ru.ru_stime)
                self.res["fleet_sync_cpu_ms_per_s"] = round(
                    max(0.0, spent[1] - spent[0]) * 1000 / 2.5, 3)
            with open(d + "/fleet-sync.log", errors="replace") as f:
                if "ERROR" in f.read():
                    self.fail(s, "fleet store: fleet-sync logged errors",
                              open(d + "/fleet-sync.log").read()[-300:])
        finally:
            if sync is not None:
                sync.kill()
                sync.wait(5)
            rproc.kill()
            rproc.wait(5)

    # 7: sftp
    def sftp(self, src, size, n):
        out = WORK + "/client/got.bin"
        for op in ("put", "get"):
            vals = {s.name: [] for s in self.live()}
            bad = {s.name: 0 for s in self.live()}
            for _ in range(n):
                for s in self.live():
                    batch = (f"put {src} up.bin\n" if op == "put"
                             else f"get sftp-src.bin {out}\n")
                    argv = ["/usr/bin/sftp", "-q", "-F",
                            WORK + "/client/config", "-c", CHACHA, "-P",
                            str(s.port), "-b", "-", "127.0.0.1"]
                    try:
                        dt, r = timed(argv, input=batch.encode(),
                                      stdin=None, capture_output=True,
                                      timeout=max(60, size / (2 * MIB)))
                    except subprocess.TimeoutExpired:
                        s.collect(1, 5)
                        self.fail(s, f"sftp {op}: timeout")
                        bad[s.name] += 1
                        continue
                    s.collect(1, 5)
                    if r.returncode != 0:
                        self.fail(s, f"sftp {op}: exit {r.returncode}",
                                  r.stderr.decode(errors="replace").strip())
                        bad[s.name] += 1
                        continue
                    vals[s.name].append(size / MIB / dt)
            for name in vals:
                self.put("sftp_MBps", op, name, vals[name], failed=bad[name])
            if os.path.exists(out):
                os.unlink(out)


    # 8c: scp, sftp, rsync over the 100 ms link
    def tools(self, tool, direction, port_of, home, file_of, size_of, n,
              servers):
        """One transfer per attempt, up (a file of random bytes to the
        user's home) or down (the home's copy of it to the client), timed
        over the whole command, connection included, as a user sees it.
        file_of(size): (client path, name in the home, SHA-256) of a file
        of that size; size_of(server): the size it moves.  The file that
        arrived must have the size and SHA-256, or the attempt is a
        failure, never a rate."""
        key = tool_key(tool, direction)
        vals = {s.name: [] for s in servers}
        bad = {s.name: 0 for s in servers}
        got = (home + "/tool-up.bin" if direction == "up"
               else WORK + "/client/tool-got.bin")
        by_name = {s.name: s for s in servers}
        for _ in range(n):
            for s in servers:
                size = size_of(s)
                src, name, sha = file_of(size)
                if os.path.exists(got):
                    os.unlink(got)
                argv, batch = tool_argv(tool, direction, port_of(s), src,
                                        name, got)
                io = ({"input": batch, "stdin": None} if batch
                      else {"stdin": subprocess.DEVNULL})
                try:
                    dt, r = timed(argv, capture_output=True, **io,
                                  timeout=max(60, size / (MIB / 2)))
                except subprocess.TimeoutExpired:
                    s.collect(1, 5)
                    self.fail(s, f"{key} over 100 ms: timeout")
                    bad[s.name] += 1
                    continue
                s.collect(1, 5)
                err = None
                if r.returncode != 0:
                    err = "exit %d %s" % (r.returncode, r.stderr.decode(
                        errors="replace").strip()[-300:])
                elif not os.path.exists(got):
                    err = "no file arrived"
                elif os.path.getsize(got) != size:
                    err = "%d of %d bytes arrived" % (os.path.getsize(got),
                                                      size)
                elif sha256_of(got) != sha:
                    err = "the file arrived with other contents"
                if err:
                    self.fail(s, f"{key} over 100 ms: {err}")
                    bad[s.name] += 1
                    continue
                vals[s.name].append(size / MIB / dt)
        if os.path.exists(got):
            os.unlink(got)
        for name in vals:
            self.put("link100_tools_MBps", key, name, vals[name],
                     {"bytes": size_of(by_name[name])}, failed=bad[name])


def at_password_prompt(s):
    """((VmHWM, Pss, Pss_Anon) sums in kB, None) of server s's processes
    while its client sits at the password prompt: key exchange done, the server
    waiting for the password; s is a measured server's prompt_instance.
    The client's askpass program records its pid and sleeps, which is when
    the server is measured.  (None, why) when the prompt never came."""
    mark = WORK + "/client/askpass.pid"
    if os.path.exists(mark):
        os.unlink(mark)
    env = dict(os.environ, SSH_ASKPASS=ASKPASS, SSH_ASKPASS_REQUIRE="force",
               BENCH_ASKPASS_MARK=mark)
    argv = ssh_argv(s, "true", extra=(
        "-o", "BatchMode=no", "-o", "PubkeyAuthentication=no",
        "-o", "PreferredAuthentications=password",
        "-o", "NumberOfPasswordPrompts=1"))
    errf = open(WORK + "/client/prompt.err", "w+b")
    p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=errf)
    got = None
    pid = 0
    end = time.monotonic() + 10
    while time.monotonic() < end and p.poll() is None:
        try:
            with open(mark) as f:
                pid = int(f.read().strip() or 0)
        except (OSError, ValueError):
            pid = 0
        if pid:
            time.sleep(0.05)
            tree = descendants([x.pid for x in s.procs])
            got = mem_of([x for x in tree if exe(x) == s.exe])
            break
        time.sleep(0.01)
    # The client first: no password (not even an empty one) is ever sent.
    if p.poll() is None:
        p.terminate()
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    if pid:
        try:
            os.kill(pid, 15)
        except OSError:
            pass
    s.collect(1, 5)
    errf.seek(0)
    why = errf.read().decode(errors="replace").strip()[-300:]
    errf.close()
    if got is None:
        return None, "ssh: %s; server: %s" % (why or "-", s.stderr_tail(5))
    return got, None


def tool_key(tool, direction):
    """sftp's own words for its directions (put, get), as in section 7."""
    if tool == "sftp":
        return "sftp " + ("put" if direction == "up" else "get")
    return f"{tool} {direction}"


def tool_argv(tool, direction, addr, src, remote_src, got):
    """(argv, stdin bytes or None) for one transfer.  Up writes the user's
    ~/tool-up.bin (got is its full path), down reads ~/remote_src (a copy
    of src) into got."""
    host, port = addr
    cfg = WORK + "/client/config"
    remote_up = "tool-up.bin"
    if tool == "scp":
        # OpenSSH 9's scp speaks SFTP to the server unless given -O.
        argv = ["/usr/bin/scp", "-q", "-F", cfg, "-c", CHACHA, "-P",
                str(port)]
        if direction == "up":
            return argv + [src, f"{host}:{remote_up}"], None
        return argv + [f"{host}:{remote_src}", got], None
    if tool == "sftp":
        batch = (f"put {src} {remote_up}\n" if direction == "up"
                 else f"get {remote_src} {got}\n")
        return ["/usr/bin/sftp", "-q", "-F", cfg, "-c", CHACHA, "-P",
                str(port), "-b", "-", host], batch.encode()
    if tool == "rsync":
        # The session runs the server side (rsync --server) through the
        # user's shell.  The destination never exists beforehand, so the
        # whole file moves (no delta against an old copy).
        argv = ["rsync", "-e", f"/usr/bin/ssh -F {cfg} -c {CHACHA} "
                f"-p {port}"]
        if direction == "up":
            return argv + [src, f"{host}:{remote_up}"], None
        return argv + [f"{host}:{remote_src}", got], None
    raise ValueError(tool)


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(MIB)
            if not b:
                return h.hexdigest()
            h.update(b)

# The steps of sshand's start, in order.  Every value is a duration in
# microseconds; together they run from the wrapper's fork to the session.
PHASES = [
    ("process start", "fork, exec, dynamic linking, up to main()"),
    ("config", "main() to config loaded, socket set up, audit opened"),
    ("ban check", "ban file lookup for the source address"),
    ("before fork", "privsep account lookup, banner read"),
    ("fork net child", "monitor forks the network child"),
    ("net: host keys", "child (still root): host keys loaded"),
    ("net: sandbox", "child: seed, chroot, privilege drop, seccomp"),
    ("net: key exchange", "child: version exchange and curve25519 kex"),
    ("net: auth", "child: userauth, until the monitor granted it"),
    ("session ready", "monitor: after auth, until the session can start"),
    ("total", "fork to session ready (sum of the above)"),
]

# sshand's own account of its CPU (user+sys), from its LogLevel DEBUG
# "cpu monitor usec N net usec N sessions usec N" line at disconnect.
CPU_PARTS = [
    ("monitor", "exec, linking, config, ban check, PAM, privilege drop, sessions' start"),
    ("network child", "host keys, sandbox, key exchange, auth, relay"),
    ("sessions", "the user's processes (sh -c true)"),
    ("key holder", "host keys loaded, exchange hash signed"),
    ("total", "all of the connection"),
]


def cpu_steps(matches, mon_total, net_total, keys_total=None):
    """CPU (us) each process spent between its consecutive phase lines
    (the lines' "cpu N" is the process's user+sys so far), in the order the
    lines came; then what each spent after its last line, from the totals
    of the "cpu monitor usec" line.  The monitor's first step includes
    exec and dynamic linking; its steps after "session-ready" are per
    session, summed under one name."""
    last = {"mon": 0, "net": 0, "keys": 0}
    out = []
    for m in matches:
        if m.group(5) is None:
            continue
        side = m.group(2).strip() if m.group(2) else "mon"
        v = int(m.group(5))
        out.append((f"{side}: {m.group(3)}", v - last[side]))
        last[side] = v
    if not out:
        return []
    for side, total in (("mon", mon_total), ("net", net_total),
                        ("keys", keys_total)):
        if total is not None and total >= last[side]:
            out.append((f"{side}: (to the end)", total - last[side]))
    # A name seen twice (one per session): summed, in first-seen order.
    merged = {}
    for k, v in out:
        merged[k] = merged.get(k, 0) + v
    return list(merged.items())


def phase_steps(mon, net, fork_us, main_us, net_us):
    """Durations (us) from cumulative phase values.  mon: since main();
    net: since the network child started.  fork_us: the wrapper's fork;
    main_us, net_us: main() and the child's start on the same clock, or
    None when the lines carry no stamp (then the child is taken to start
    when the host keys are loaded, and process start is unknown)."""
    out = []

    def step(name, a, b):
        if a is not None and b is not None:
            out.append((name, a - b))

    g = mon.get
    if main_us is not None:
        step("process start", main_us, fork_us)
    step("config", g("config"), 0)
    step("ban check", g("bancheck"), g("config"))
    step("before fork", g("prefork"), g("bancheck"))
    if main_us is not None and net_us is not None:
        net_rel = net_us - main_us	# child start, on the monitor's scale
        step("fork net child", net_rel, g("prefork"))
    elif g("prefork") is not None:
        net_rel = g("prefork")
    else:
        net_rel = None
    step("net: host keys", net.get("hostkeys"), 0)
    step("net: sandbox", net.get("netsandbox"), net.get("hostkeys"))
    step("net: key exchange", net.get("kex"), net.get("netsandbox"))
    step("net: auth", net.get("auth"), net.get("kex"))
    if net_rel is not None and net.get("auth") is not None:
        step("session ready", g("session-ready"), net_rel + net["auth"])
    if main_us is not None and g("session-ready") is not None:
        out.append(("total", main_us - fork_us + g("session-ready")))
    return out


def transfer(s, size, cipher, direction, addr=None):
    """Move size bytes through one connection; the clock starts when the
    first byte of payload moves (so connection setup, measured on its own
    above, does not dilute the rate).  Returns (seconds, bytes moved in
    those seconds, error or None)."""
    chunk = 1024 * 1024
    buf = bytearray(chunk)
    timeout = max(60.0, size / (4 * MIB))
    if direction == "up":
        # wc -c does what cat >/dev/null would, and proves every byte
        # reached the user's command.
        argv = ssh_argv(s, "wc -c", cipher, addr)
        p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    else:
        argv = ssh_argv(s, "head -c %d /dev/zero" % size, cipher,
                        addr)
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    killer = threading.Timer(timeout, p.kill)
    killer.start()
    t0 = None
    err = None
    moved = base = 0
    try:
        if direction == "up":
            fd = p.stdin.fileno()
            view = memoryview(buf)
            # The pipe takes the first 64 KiB at once; the first write
            # after that returns only once ssh reads, i.e. the session is up.
            while moved < size:
                step = chunk if t0 is not None else 64 * 1024
                n = os.write(fd, view[:min(step, size - moved)])
                moved += n
                if t0 is None and moved > 64 * 1024:
                    t0 = time.perf_counter()
                    base = moved
            p.stdin.close()
            got = p.stdout.read().decode(errors="replace").strip()
            if got != str(size):
                err = f"the server's command read {got or 'nothing'}"
        else:
            fd = p.stdout.fileno()
            while True:
                n = os.readv(fd, [buf])
                if n == 0:
                    break
                moved += n
                if t0 is None:
                    t0 = time.perf_counter()
                    base = moved
    except OSError as e:
        err = str(e)
    rc = p.wait()
    t1 = time.perf_counter()
    killer.cancel()
    stderr = p.stderr.read().decode(errors="replace").strip()
    if rc != 0:
        return 0, 0, f"exit {rc} {stderr}" + (" (timeout)" if rc == -9
                                              else "")
    if err or moved != size or t0 is None:
        return 0, 0, f"moved {moved} of {size} bytes" + (
            f"; {err}" if err else "")
    return t1 - t0, size - base, None


SINK_PORT = 22300


def start_sink():
    """bench-sink on 127.0.0.1:SINK_PORT, once; it lives in the bench's
    network namespace, where every server's forwarding reaches it."""
    if not any(p.args[0] == ARGS.sink for p in AUX_PROCS):
        AUX_PROCS.append(subprocess.Popen([ARGS.sink, str(SINK_PORT)]))
        if not wait_listening(SINK_PORT, 5):
            raise RuntimeError("bench-sink is not listening")
    return SINK_PORT


def free_tcp_port():
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return so.getsockname()[1]


def wait_listening(port, timeout, proc=None):
    """True once something listens on 127.0.0.1:port (read from
    /proc/net/tcp: connecting to ask would itself open a forwarded
    channel); False on timeout or when proc exits first."""
    want = "0100007F:%04X" % port
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open("/proc/net/tcp") as f:
            for line in f:
                x = line.split()
                if x[1] == want and x[3] == "0A":
                    return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.005)
    return False


def sink_transfer(port, size, direction, timeout=60):
    """size bytes to bench-sink (up) or from it (down) through
    127.0.0.1:port, the sink itself or a tunnel's entrance.  Up: the clock
    starts when the sink's "R" has come back (the tunnel is open end to
    end) and stops at the sink's byte count, which must be size.  Down: from
    the first byte to EOF.  Returns (seconds, bytes moved in them, error or
    None), as transfer() does."""
    chunk = MIB
    try:
        with socket.create_connection(("127.0.0.1", port),
                                      timeout=timeout) as so:
            if direction == "up":
                so.sendall(b"up\n")
                if so.recv(1) != b"R":
                    return 0, 0, "the sink never answered"
                view = memoryview(bytearray(chunk))
                t0 = time.perf_counter()
                left = size
                while left:
                    left -= so.send(view[:min(chunk, left)])
                so.shutdown(socket.SHUT_WR)
                got = b""
                while True:
                    r = so.recv(64)
                    if not r:
                        break
                    got += r
                t1 = time.perf_counter()
                if got.strip() != str(size).encode():
                    return 0, 0, "the sink read %s of %d bytes" % (
                        got.strip().decode(errors="replace") or "nothing",
                        size)
                return t1 - t0, size, None
            so.sendall(b"down %d\n" % size)
            buf = bytearray(chunk)
            moved = base = 0
            t0 = None
            while True:
                n = so.recv_into(buf)
                if n == 0:
                    break
                moved += n
                if t0 is None:
                    t0 = time.perf_counter()
                    base = n
            t1 = time.perf_counter()
            if moved != size or t0 is None:
                return 0, 0, f"moved {moved} of {size} bytes"
            return t1 - t0, size - base, None
    except OSError as e:
        return 0, 0, f"{type(e).__name__}: {e}"


def tunnel_transfer(s, size, cipher, direction, sink_port):
    """ssh -N -L to the sink through server s, then sink_transfer() through
    it.  The tunnel's entrance is s.port + 1000 (free: the debug instances
    are at +1, the delay relays at +100)."""
    lport = s.port + 1000
    argv = ["/usr/bin/ssh", "-F", WORK + "/client/config", "-c", cipher,
            "-p", str(s.port), "-N", "-o", "ExitOnForwardFailure=yes",
            "-L", f"127.0.0.1:{lport}:127.0.0.1:{sink_port}", "127.0.0.1"]
    err_path = WORK + "/client/forward.err"
    with open(err_path, "w+b") as errf:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=errf)
        try:
            # The client listens only once it has logged in.
            if not wait_listening(lport, 20, p):
                res = (0, 0, "ssh -L never listened")
            else:
                res = sink_transfer(lport, size, direction,
                                    timeout=max(60.0, size / (4 * MIB)))
        finally:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if res[2]:
            errf.seek(0)
            tail = errf.read().decode(errors="replace").strip()
            if tail:
                res = (0, 0, res[2] + "; ssh: " + tail[-300:])
    return res


def q(a):
    return "'" + a.replace("'", "'\\''") + "'"


def proc_table():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def descendants(roots):
    kids = proc_table()
    out, todo = [], list(roots)
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def exe(pid):
    try:
        return os.path.realpath(f"/proc/{pid}/exe")
    except OSError:
        return ""


def mem_of(pids):
    """Sums (kB) over pids of VmHWM, of Pss and of Pss_Anon.  Pss_Anon is
    the part of Pss in anonymous pages: heap, stacks, and the private
    copies that writing makes of a file's pages (relocated data) or of a
    parent's pages after a fork: the connection's own, whatever else
    runs.  The rest, pages of files (libraries' code), is shared with
    every other process mapping them on the host, so it moves with what
    else runs there.  Not Pss_Dirty: a file's page is dirty from a write
    until the kernel writes it back, so a server rebuilt in the last half
    minute would count its own code as dirty."""
    hwm = pss = anon = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        hwm += int(line.split()[1])
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Pss_Anon:"):
                        anon += int(line.split()[1])
        except OSError:
            pass
    return hwm, pss, anon


def openssl_speed(seconds):
    out = {}
    for name, alg in (("chacha20-poly1305", "ChaCha20-Poly1305"),
                      ("aes128-gcm", "AES-128-GCM")):
        r = subprocess.run(["openssl", "speed", "-mr", "-seconds",
                            str(seconds), "-bytes", "16384", "-evp", alg],
                           capture_output=True, text=True)
        m = re.search(r"^\+F:\d+:[^:]+:([\d.]+)", r.stdout, re.M)
        if m:
            out[name] = float(m.group(1)) / MIB
    return out


# ---------------------------------------------------------------- link

def setup_link(servers, delay_ms, base, index):
    """A link with a round trip of 2 x delay_ms: netem between the bench's
    namespace and a server namespace of its own when the kernel has netem,
    else a user-space delay relay on loopback at each server's port + base.
    index tells links apart (namespace, veth names, /30 subnet).  Returns
    (method, port_of), port_of(server) giving the (host, port) to dial."""
    ok = subprocess.run(["tc", "qdisc", "add", "dev", "lo", "root", "netem",
                         "delay", "0ms"], capture_output=True).returncode == 0
    if ok:
        subprocess.run(["tc", "qdisc", "del", "dev", "lo", "root"],
                       capture_output=True)
        ns_name = "sshb-srv%d" % index
        here, there = "sshb%da" % index, "sshb%db" % index
        net = "169.254.77.%d" % (4 * index)
        mine, theirs = "169.254.77.%d" % (4 * index + 1), \
            "169.254.77.%d" % (4 * index + 2)
        try:
            os.makedirs("/run/netns", exist_ok=True)
            sh(["ip", "netns", "add", ns_name])
            sh(["ip", "link", "add", here, "type", "veth", "peer", "name",
                there, "netns", ns_name])
            sh(["ip", "addr", "add", mine + "/30", "dev", here])
            sh(["ip", "link", "set", here, "up"])
            ns = ["ip", "-n", ns_name]
            sh(ns + ["addr", "add", theirs + "/30", "dev", there])
            sh(ns + ["link", "set", there, "up"])
            sh(ns + ["link", "set", "lo", "up"])
            for n, dev in ((["tc"], here),
                           (["tc", "-n", ns_name], there)):
                sh(n + ["qdisc", "add", "dev", dev, "root", "netem", "delay",
                        f"{delay_ms}ms", "limit", "100000"])
            for s in servers:
                s.start(theirs, s.port, netns=ns_name)
            time.sleep(0.3)
            log(f"link {2 * delay_ms} ms: netem, servers at {theirs} "
                f"({net}/30)")
            return "netem", lambda s: (theirs, s.port)
        except subprocess.CalledProcessError as e:
            log(f"netem link setup failed ({e}); using the delay relay")
    procs = []
    for s in servers:
        procs.append(subprocess.Popen(
            [ARGS.delayline, "127.0.0.1", str(s.port + base), "127.0.0.1",
             str(s.port), str(delay_ms)]))
    time.sleep(0.2)
    AUX_PROCS.extend(procs)
    return "relay", lambda s: ("127.0.0.1", s.port + base)


# The bench's own helpers (delay relays, the sink): ended with the servers.
AUX_PROCS = []


def cleanup(servers):
    for s in servers:
        s.stop()
        for other in (getattr(s, "debug_instance", None),
                      s.prompt_instance):
            if other is not None:
                other.stop()
    for p in AUX_PROCS:
        p.terminate()
        p.wait()
    AUX_PROCS.clear()


# ---------------------------------------------------------------- report

def fmt(sm, unit_fmt="%.1f"):
    if sm is None:
        return "n/a"
    if sm.get("median") is None:
        return "FAILED %d/%d" % (sm.get("failed", 0), sm.get("attempts", 0))
    return (unit_fmt % sm["median"]) + " [" + (unit_fmt % sm["p25"]) + \
        "–" + (unit_fmt % sm["p75"]) + "]"


def add_ratios(res):
    for section, keys in res.items():
        if not isinstance(keys, dict) or section in NO_RATIOS:
            continue
        for key, per in keys.items():
            if not isinstance(per, dict):
                continue
            base = per.get("openssh")
            for name, sm in per.items():
                if isinstance(sm, dict) and sm.get("median") is not None \
                        and base and base.get("median"):
                    sm["ratio_to_openssh"] = sm["median"] / base["median"]


NO_RATIOS = ("meta", "sshand_phases_ms", "sshand_phases_cumulative_ms",
             "sshand_cpu_by_step_ms",
             "sshand_cpu_by_process_ms",
             "ban_file_ns", "openssl_speed_MBps", "forward_sink_MBps",
             "fleet_store", "fleet_sync_cpu_ms_per_s")

TITLES = [
    ("latency_ms", "1. ssh true latency, ms (median [p25–p75])", "%.1f"),
    ("cpu_ms_per_conn", "2. server CPU per connection (user+sys), ms",
     "%.1f"),
    ("throughput_MBps", "3. throughput (up: wc -c, down: head -c), MiB/s",
     "%.0f"),
    ("throughput_server_cpu_s_per_GiB",
     "3. server CPU per GiB transferred, s", "%.2f"),
    ("memory_MiB", "4. memory per connection (server processes), MiB",
     "%.1f"),
    ("conn_per_s", "5. connections per second", "%.1f"),
    ("banned", "6. banned address turned away", "%.2f"),
    ("fleet_store", "6c. sshand with the fleet store (redis-server and "
     "bans fleet-sync running) or without, ms", "%.2f"),
    ("sftp_MBps", "7. sftp, MiB/s", "%.0f"),
    ("link_MBps", "8. delayed link (50 ms RTT), MiB/s", "%.1f"),
    ("link_server_cpu_s_per_GiB", "8. delayed link server CPU per GiB, s",
     "%.2f"),
    ("link100_MBps", "8b. delayed link (100 ms RTT), MiB/s", "%.1f"),
    ("link100_server_cpu_s_per_GiB",
     "8b. 100 ms link server CPU per GiB, s", "%.2f"),
    ("link100_tools_MBps", "8c. scp, sftp and rsync over the 100 ms link, "
     "MiB/s over the whole command", "%.1f"),
    ("forward_MBps", "9. through ssh -L to a local TCP sink (up) or source "
     "(down), MiB/s", "%.0f"),
    ("forward_server_cpu_s_per_GiB", "9. ssh -L server CPU per GiB, s",
     "%.2f"),
]


def phases_table(res):
    ph = res.get("sshand_phases_ms")
    if not ph:
        return []
    out = ["", "2b. sshand's start step by step: durations (not the "
           "cumulative log values), ms,", "    median [p25–p75] of a "
           "LogLevel DEBUG instance (not the measured one)"]
    for k, what in PHASES:
        if k in ph:
            out.append("  %-20s%-22s%s" % (k, fmt(ph[k], "%.2f"), what))
    st = res.get("sshand_cpu_by_step_ms")
    if st:
        out += ["", "2d. sshand's CPU (user+sys) step by step, ms: what each "
                "process used up to each",
                "    of its phase lines (mon = monitor, net = network child, "
                "keys = key holder;", "    the first mon step includes "
                "exec and linking)"]
        for k, v in st.items():
            out.append("  %-26s%s" % (k, fmt(v, "%.2f")))
    cpu = res.get("sshand_cpu_by_process_ms")
    if cpu:
        out += ["", "2c. sshand's CPU (user+sys) by process, ms, as it reports "
                "it at LogLevel DEBUG"]
        for k, what in CPU_PARTS:
            if k in cpu:
                out.append("  %-20s%-22s%s" % (k, fmt(cpu[k], "%.2f"), what))
    return out


def banfile_table(res):
    bf = res.get("ban_file_ns")
    if not bf:
        return []
    out = ["", "6b. ban file (banstress-tool bench FILE N), ns per "
           "operation, random sources, median [p25–p75]",
           "  %-12s%-24s%s" % ("entries", "lookup", "update")]
    for size, row in bf.items():
        out.append("  %-12s%-24s%s" % (size, fmt(row.get("lookup"), "%.0f"),
                                     fmt(row.get("update"), "%.0f")))
    return out


def sink_table(res):
    sk = res.get("forward_sink_MBps")
    if not sk:
        return []
    return ["", "9b. the sink and source alone (direct loopback, no ssh), "
            "MiB/s: " + ", ".join("%s %s" % (d, fmt(per.get("sink"), "%.0f"))
                                  for d, per in sk.items())]


def speed_table(res):
    sp = res.get("openssl_speed_MBps")
    if not sp:
        return []
    return ["", "3b. openssl speed -evp, one core, 16 KiB blocks, MiB/s: " +
            ", ".join("%s %.0f" % kv for kv in sp.items())]


def fleet_table(res):
    c = res.get("fleet_sync_cpu_ms_per_s")
    if c is None:
        return []
    return ["", "6d. fleet-sync's own CPU when idle (Redis read every 250 ms, "
            "the file scanned on change): %.2f ms per second" % c]


# Printed after the section they belong to (after its last table).
EXTRA_TABLES = {"cpu_ms_per_conn": phases_table,
                "throughput_server_cpu_s_per_GiB": speed_table,
                "banned": banfile_table,
                "fleet_store": fleet_table,
                "forward_server_cpu_s_per_GiB": sink_table}


def table(res, names):
    out = []
    w = 27
    for section, title, f in TITLES:
        keys = res.get(section)
        if keys:
            out.append("")
            out.append(title)
            out.append("  %-24s" % "" + "".join("%-*s" % (w, n)
                                               for n in names))
            for key, per in keys.items():
                row = "  %-24s" % key
                for n in names:
                    sm = per.get(n)
                    cell = fmt(sm, f)
                    if sm and "ratio_to_openssh" in sm and n != "openssh":
                        cell += " %.2fx" % sm["ratio_to_openssh"]
                    if sm and sm.get("failed") and \
                            sm.get("median") is not None:
                        cell += " FAILED %d/%d" % (sm["failed"],
                                                   sm["attempts"])
                    row += "%-*s" % (w, cell)
                out.append(row.rstrip())
        extra = EXTRA_TABLES.get(section)
        if extra and keys:
            out += extra(res)
    for section, extra in EXTRA_TABLES.items():
        if not res.get(section):
            out += extra(res)
    g = res.get("goals")
    if g:
        out.append("")
        out.append("Goals for sshand (issue 8; ssh -L: issue 16; delayed "
                   "links, PSS at the prompt: issue 19);")
        out.append("ratios are to OpenSSH in this run")
        out.append("  %-46s %-28s %-24s %s" % ("", "measured", "goal",
                                               "verdict"))
        for row in g:
            out.append("  %-46s %-28s %-24s %s" % (
                row["goal"], row["measured"], row["target"],
                row["verdict"]))
    return "\n".join(out)


def goals(res):
    """Issue 8's goals, one row each, in its words and order."""
    rows = []

    def get(section, key, name="sshand"):
        try:
            return res[section][key][name]
        except (KeyError, TypeError):
            return None

    def row(goal, measured, target, verdict, value=None, limit=None,
            higher_better=False, versus="OpenSSH"):
        """value, limit: the ratio and its goal as numbers, for the chart
        (value None when nothing was measured)."""
        rows.append({"goal": goal, "measured": measured, "target": target,
                     "verdict": verdict, "value": value, "limit": limit,
                     "higher_better": higher_better, "versus": versus})

    def ratio(goal, section, key, limit, higher_better, unit):
        sm, base = get(section, key), get(section, key, "openssh")
        target = ("≥ " if higher_better else "≤ ") + "%.2f× OpenSSH" % limit
        if sm and sm.get("failed"):
            row(goal, "%d of %d failed" % (sm["failed"], sm["attempts"]),
                target, "NOT met (failed)", None, limit, higher_better)
            return
        r = sm.get("ratio_to_openssh") if sm else None
        if r is None:
            row(goal, "n/a", target, "n/a", None, limit, higher_better)
            return
        good = r >= limit if higher_better else r <= limit
        row(goal, "%.2f× (%s vs %s %s)" % (
            r, num(sm["median"]), num(base["median"]), unit), target,
            "met" if good else "NOT met", r, limit, higher_better)

    ratio("`ssh true` latency", "latency_ms", "stock", 0.25, False, "ms")
    ratio("server CPU per connection", "cpu_ms_per_conn", "stock", 0.5,
          False, "ms")
    sa, db = get("cpu_ms_per_conn", "stock"), get("cpu_ms_per_conn", "stock",
                                                  "dropbear")
    if sa and db and sa.get("median") is not None and \
            db.get("median") is not None:
        row("server CPU per connection below Dropbear's",
            "%s vs %s ms" % (num(sa["median"]), num(db["median"])),
            "< Dropbear", "met" if sa["median"] < db["median"] else
            "NOT met", sa["median"] / db["median"], 1.0, False, "Dropbear")
    else:
        row("server CPU per connection below Dropbear's", "n/a",
            "< Dropbear", "n/a", None, 1.0, False, "Dropbear")
    for key in res.get("throughput_MBps", {}):
        ratio(f"throughput {key}", "throughput_MBps", key, 1.0, True,
              "MiB/s")
        ratio(f"server CPU per GiB {key}", "throughput_server_cpu_s_per_GiB",
              key, 0.8, False, "s")
    ratio("memory per connection (PSS) after login", "memory_MiB",
          "PSS sum", 0.5, False, "MiB")
    ratio("memory per connection (PSS) at password prompt", "memory_MiB",
          "PSS at the prompt", 0.5, False, "MiB")
    ratio("connections per second at 10 parallel", "conn_per_s",
          "10 parallel", 1.5, True, "/s")
    for key in ("put", "get"):
        ratio(f"sftp {key}", "sftp_MBps", key, 1.0, True, "MiB/s")
    b, n = get("banned", "server cpu ms"), get("cpu_ms_per_conn", "stock")
    goal = "banned address turned away: server CPU"
    if b and n and b.get("median") is not None and n.get("median"):
        r = b["median"] / n["median"]
        row(goal, "%.3f (%s vs %s ms)" % (r, num(b["median"]),
                                          num(n["median"])),
            "≤ 1/10 of a normal conn", "met" if r <= 0.1 else "NOT met",
            r, 0.1, False, "a normal connection")
    else:
        row(goal, "n/a", "≤ 1/10 of a normal conn", "n/a", None, 0.1,
            False, "a normal connection")
    # Issue 21: the fleet store costs a connection nothing measurable.
    for what, unit in (("ssh true ms", "ms"), ("server cpu ms", "ms CPU")):
        w, wo = get("fleet_store", what + ", with"), \
            get("fleet_store", what + ", without")
        goal = "fleet store: %s per connection" % (
            "latency" if unit == "ms" else "server CPU")
        if w and wo and w.get("median") is not None and wo.get("median"):
            r = w["median"] / wo["median"]
            # Not measurable: the medians differ by less than the noise,
            # the runs' interquartile spread or 5 %, whichever is larger.
            noise = max(wo["p75"] - wo["p25"], w["p75"] - w["p25"],
                        0.05 * wo["median"])
            ok = w["median"] - wo["median"] <= noise
            row(goal, "%.2f× (%s vs %s %s)" % (r, num(w["median"]),
                                              num(wo["median"]), unit),
                "within the noise", "met" if ok else "NOT met", r,
                (wo["median"] + noise) / wo["median"], False, "without it")
        else:
            row(goal, "n/a", "within the noise", "n/a", None, 1.05, False,
                "without it")
    # Issue 16: 1 GiB through ssh -L at >= 1.0x OpenSSH's rate.
    for key in res.get("forward_MBps", {}):
        ratio(f"through ssh -L {key}", "forward_MBps", key, 1.0, True,
              "MiB/s")
    # Issue 19: delayed links, and the everyday tools over the slower one.
    for key in res.get("link_MBps", {}):
        ratio(f"50 ms link {key}", "link_MBps", key, 1.0, True, "MiB/s")
    for key in res.get("link100_MBps", {}):
        ratio(f"100 ms link {key}", "link100_MBps", key, 1.0, True, "MiB/s")
    for key in res.get("link100_tools_MBps", {}):
        ratio(f"{key} over 100 ms link", "link100_tools_MBps", key, 1.0,
              True, "MiB/s")
    return rows


def num(v):
    """Three significant digits, whatever the magnitude."""
    return "%.3g" % v if abs(v) < 1000 else "%.0f" % v


# ---------------------------------------------------------------- main

def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--debug", action="store_true")
    ap.add_argument("--wrap", required=True)
    ap.add_argument("--nodelay", required=True)
    ap.add_argument("--delayline", required=True)
    ap.add_argument("--sink", required=True)
    ap.add_argument("--peers", required=True)
    ap.add_argument("--tinysshd-version", default="?")
    ap.add_argument("--sshd", default="/usr/sbin/sshd")
    ap.add_argument("--sshand", required=True)
    ap.add_argument("--sshandctl", required=True)
    ap.add_argument("--sshand-version", default="?")
    ap.add_argument("--sshand-missing", default="")
    ap.add_argument("--banstress", default="")
    ap.add_argument("--banstress-missing", default="")
    ap.add_argument("--only", default="", help="comma-separated servers")
    ap.add_argument("--base-sshand", default="",
                    help="another build's sshand, reported as sshand-base")
    ap.add_argument("--base-version", default="?")
    ap.add_argument("--steps", default="",
                    help="comma-separated words; run only the steps whose "
                    "title contains one of them (partial results)")
    ap.add_argument("--out", required=True)
    ARGS = ap.parse_args()
    smoke = ARGS.smoke
    t_start = time.monotonic()

    sh(["ip", "link", "set", "lo", "up"])
    want_sshand = not ARGS.sshand_missing
    home = make_fixture(True)
    servers = [setup_openssh(22201), setup_dropbear(22202),
               setup_tinysshd(22203)]
    sshand = None
    if want_sshand:
        try:
            sshand = setup_sshand(22204)
            servers.append(sshand)
        except Exception as e:
            log(f"sshand setup failed: {e}")
    if ARGS.base_sshand:
        # Another build, measured beside this one in the same interleaved
        # run (bench/run --base DIR): the way to see what a change costs.
        servers.append(setup_sshand(22206, "sshand-base", ARGS.base_sshand))
    if ARGS.only:
        keep = ARGS.only.split(",")
        servers = [s for s in servers if s.name in keep]
    # Whatever happens below, no server or relay outlives the bench.
    atexit.register(cleanup, servers)
    for s in servers:
        s.start()
    time.sleep(0.3)
    for s in servers:
        s.error = probe(s)
        if s.error:
            log(f"{s.name} does not work; left out:\n{s.error}")

    status = {s.name: {"version": s.version, "ok": s.error is None,
                       "error": s.error, "ciphers": list(s.ciphers)}
              for s in servers}
    if not want_sshand:
        status["sshand"] = {"ok": False, "error": ARGS.sshand_missing}
        log("sshand left out: " + ARGS.sshand_missing)
    elif sshand is None:
        status["sshand"] = {"ok": False, "error": "setup failed"}

    b = Bench(servers, smoke)
    if smoke:
        it, big, sftp_size, link_size, link_it = 2, 8 * MIB, 8 * MIB, \
            8 * MIB, 1
        rate_total, rate_rounds, mem_it, phase_n, ban_n = 6, 1, 1, 2, 2
        banfile_sizes, banfile_n = (10, 10000), 1
        link100_size, tool_size, tool_it = 2 * MIB, MIB, 1
    else:
        it, big, sftp_size, link_size, link_it = 3, GIB, 256 * MIB, \
            256 * MIB, 2
        rate_total, rate_rounds, mem_it, phase_n, ban_n = 30, 3, 3, 15, 15
        banfile_sizes, banfile_n = (10, 10000, 1000000), 3
        link100_size, tool_size, tool_it = 128 * MIB, 64 * MIB, 2
    lat_it = 3 if smoke else 15

    def sftp_step():
        src = home + "/sftp-src.bin"
        sh(["head", "-c", str(sftp_size), "/dev/urandom"],
           stdout=open(src, "wb"))
        os.chmod(src, 0o644)
        b.sftp(src, sftp_size, it)
        for f in (src, home + "/up.bin"):
            if os.path.exists(f):
                os.unlink(f)

    # The delayed links, by round trip (ms): one-way delay, relay port
    # offset (the debug instances are at +1, the tunnels' entrances at
    # +1000), transfer size, results section.
    links = {50: (LINK_DELAY_MS, 100, link_size, "link_MBps"),
             100: (LINK100_DELAY_MS, 200, link100_size, "link100_MBps")}
    link = {}

    def link_of(rtt):
        if rtt not in link:
            delay, base = links[rtt][:2]
            link[rtt] = setup_link(b.live(), delay, base, len(link))
        return link[rtt][1]

    def link_step(rtt, d):
        port_of = link_of(rtt)
        size, section = links[rtt][2:]
        sizes = {}
        if not smoke:
            # A server with a small window would need minutes for the
            # whole size; its window-bound rate is steady, so a 20 s share
            # shows it.
            est = b.throughput(16 * MIB, 1, CHACHA, d, port_of=port_of,
                               section="linkprobe_MBps")
            b.res.pop("linkprobe_MBps", None)
            b.res.pop("linkprobe_server_cpu_s_per_GiB", None)
            for name, v in est.items():
                if v:
                    sizes[name] = min(size, max(
                        16 * MIB, int(v[0] * 20) * MIB))
        b.throughput(size, link_it, CHACHA, d, port_of=port_of,
                     section=section,
                     size_of=lambda s: sizes.get(s.name, size))

    tool_files = {}

    def tool_file(size):
        """(client path, name in the home, SHA-256) of a file of size
        random bytes, made once."""
        if size not in tool_files:
            name = "tool-src-%d.bin" % size
            path = WORK + "/client/" + name
            with open(path, "wb") as f:
                for off in range(0, size, MIB):
                    f.write(os.urandom(min(MIB, size - off)))
            shutil.copy(path, home + "/" + name)
            os.chmod(home + "/" + name, 0o644)
            tool_files[size] = (path, name, sha256_of(path))
        return tool_files[size]

    tool_rates = {}

    def tool_step(tool, d):
        """scp, sftp or rsync over the 100 ms link.  Full runs: a server
        whose window makes it slow on this link (its 100 ms link rate, or a
        16 MiB probe's) moves what it moves in about 10 s, at least 8 MiB,
        rather than the whole size.  Smoke runs: sshand only (every round
        trip costs the suite's time, whatever the size)."""
        port_of = link_of(100)
        servers = b.live()
        if smoke:
            # sshand alone: the smoke run checks that the step works, and
            # its ratios are not goals there.
            servers = [s for s in servers if s.name.startswith("sshand")]
        elif d not in tool_rates:
            key = "%s %s" % (d, CHACHA.split("@")[0])
            per = b.res.get("link100_MBps", {}).get(key, {})
            rates = {n: v["median"] for n, v in per.items()
                     if v.get("median")}
            if any(s.name not in rates for s in servers):
                est = b.throughput(16 * MIB, 1, CHACHA, d, port_of=port_of,
                                   section="linkprobe_MBps")
                b.res.pop("linkprobe_MBps", None)
                b.res.pop("linkprobe_server_cpu_s_per_GiB", None)
                for n, v in est.items():
                    if v and n not in rates:
                        rates[n] = v[0]
            tool_rates[d] = rates
        rates = tool_rates.get(d, {})

        def size_of(s):
            r = rates.get(s.name)
            if r is None:
                return tool_size
            return min(tool_size, max(8 * MIB, int(r * 10) * MIB))

        b.tools(tool, d, port_of, home, tool_file, size_of, tool_it,
                servers)

    steps = [("latency and CPU per connection", lambda: b.latency(lat_it))]
    if sshand is not None:
        steps.append(("sshand phases", lambda: b.phases(sshand, phase_n)))
    steps.append(("openssl speed", lambda: b.res.__setitem__(
        "openssl_speed_MBps", openssl_speed(1))))
    for cipher in (CHACHA, AESGCM):
        for d in ("up", "down"):
            steps.append((f"throughput {d} {cipher} {big // MIB} MiB",
                          lambda c=cipher, d=d: b.throughput(big, it, c, d)))
    steps.append(("memory per connection", lambda: b.memory(mem_it)))
    for par in (1, 10):
        steps.append((f"connections per second, {par} parallel",
                      lambda p=par: b.rate(p, rate_total * (1 if p == 1
                                                            else 3),
                                           rate_rounds)))
    if sshand is not None:
        steps.append(("banned address", lambda: b.banned(sshand, ban_n)))
    steps.append(("ban file lookup and update cost",
                  lambda: b.banfile(banfile_sizes, banfile_n)))
    if sshand is not None:
        steps.append(("fleet store cost per connection",
                      lambda: b.fleet(sshand, 4 if smoke else 40)))
    steps.append((f"sftp {sftp_size // MIB} MiB", sftp_step))
    steps.append(("forwarding: the sink alone, direct loopback",
                  lambda: b.sink_alone(big, it)))
    for cipher in (CHACHA, AESGCM):
        for d in ("up", "down"):
            steps.append((f"forwarding ssh -L {d} {cipher} {big // MIB} MiB",
                          lambda c=cipher, d=d: b.forward(big, it, c, d)))
    # The smoke run (make test) keeps one delayed link, the 100 ms one:
    # the same code, and each round trip costs the suite's time.
    for d in () if smoke else ("up", "down"):
        steps.append((f"delayed link {d} {link_size // MIB} MiB",
                      lambda d=d: link_step(50, d)))
    for d in ("up", "down"):
        steps.append((f"100 ms link {d} {link100_size // MIB} MiB",
                      lambda d=d: link_step(100, d)))
    for tool in TOOLS:
        for d in ("up", "down"):
            steps.append((f"100 ms link: {tool_key(tool, d)} "
                          f"{tool_size // MIB} MiB",
                          lambda t=tool, d=d: tool_step(t, d)))
    if ARGS.steps:
        words = ARGS.steps.split(",")
        steps = [st for st in steps if any(w in st[0] for w in words)]
    for title, fn in steps:
        log(title)
        try:
            fn()
        except Exception as e:
            # One broken measurement must not cost the others' results.
            log(f"{title}: {type(e).__name__}: {e}")
            b.failures.append(f"{title}: {type(e).__name__}: {e}")
    method = link.get(50, link.get(100, ("none",)))[0]

    cleanup(servers)

    res = b.res
    add_ratios(res)
    res["goals"] = goals(res)
    names = [n for n in ORDER if n in status]
    res["meta"] = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "mode": "smoke" if smoke else "full",
        "kernel": os.uname().release,
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model(),
        "client": subprocess.run(["/usr/bin/ssh", "-V"], capture_output=True,
                                 text=True).stderr.strip(),
        "servers": status,
        "link": method + f" {LINK_DELAY_MS} ms each way (50 ms RTT), "
        f"{LINK100_DELAY_MS} ms each way (100 ms RTT)",
        "sizes": {"throughput": big, "sftp": sftp_size, "link": link_size,
                  "link100": link100_size, "link100_tools": tool_size,
                  "forward": big},
        "failures": b.failures,
        "duration_s": round(time.monotonic() - t_start, 1),
    }
    with open(ARGS.out, "w") as f:
        json.dump(res, f, indent=1, sort_keys=False)
        f.write("\n")
    chart_path = write_chart(res, status)

    print("sshand bench (%s), %s, %d CPUs, client %s" % (
        res["meta"]["mode"], res["meta"]["cpu_model"], os.cpu_count(),
        res["meta"]["client"]))
    for n in names:
        st = status[n]
        print("  %-9s %s" % (n, (st.get("version") or "") if st["ok"] else
                             "NOT MEASURED: " + (st["error"] or "")
                             .splitlines()[0]))
    print("  delayed link: %s; ratios are to OpenSSH in this run" %
          res["meta"]["link"])
    print(table(res, [n for n in names if status[n]["ok"]]))
    if b.failures:
        print("\nfailures:\n  " + "\n  ".join(b.failures))
    print("\n%.0f s; results in %s" % (res["meta"]["duration_s"], ARGS.out))
    print("chart of the goals: %s" % chart_path)

    broken = [n for n in names if not status[n]["ok"]]
    if smoke and (broken or b.failures):
        print("bench-smoke: FAILED (%s)" % ", ".join(broken + b.failures))
        return 1
    return 0


def write_chart(res, status):
    """The goals as an SVG next to the JSON (same name, .svg)."""
    m = res["meta"]
    path = os.path.splitext(ARGS.out)[0] + ".svg"
    ver = {n: (st.get("version") or "?") for n, st in status.items()
           if st.get("ok")}
    title = "sshand against its goals, %s UTC (%s run%s)" % (
        m["date"][:16].replace("T", " "), m["mode"],
        ", steps: " + ARGS.steps if ARGS.steps else "")
    subtitles = [
        "machine: %s, %d CPUs, Linux %s" % (m["cpu_model"], m["cpus"],
                                           m["kernel"]),
        "servers: " + "; ".join("%s" % v for v in ver.values()),
        "client: " + m["client"],
        "ratios to OpenSSH's sshd -i measured in the same run; delayed "
        "links: " + m["link"],
    ]
    with open(path, "w") as f:
        f.write(chart.svg(res.get("goals") or [], title, subtitles))
    return path


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


if __name__ == "__main__":
    sys.exit(main())
