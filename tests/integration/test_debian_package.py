"""The Debian package under a real systemd as PID 1 (issue 20).

Builds sshand_*.deb with dpkg-buildpackage (cached by a hash of the
source in /var/cache/sshand-test/deb/), checks it with lintian (no error,
no warning that debian/sshand.lintian-overrides does not explain), builds a
minimal Debian 12 tree with mmdebstrap (cached as a tarball keyed by its
package list: only the first run pays for the download), boots it with
`systemd-nspawn -b --private-network` (systemd is not PID 1 on the test
machines, so this is how journalctl -u and the socket unit's limits meet a
real system manager), installs the package there with dpkg and talks to it
over the container's loopback: the host's ssh, sshpass and python run in
the container's network namespace only (nsenter -n), commands inside the
container through nsenter -a.

When the container cannot be built (no mmdebstrap or systemd-nspawn, no
access to the Debian archive, a kernel that will not boot it), every test
here FAILS saying why, unless SSHAND_SKIP_CONTAINER=1 is set: then they
are skipped, with the reason.  The package build itself never skips.
"""

import glob
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from harness import WORK

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.environ.get("SSHAND_TEST_CACHE", "/var/cache/sshand-test")
SUITE = "bookworm"
MIRROR = os.environ.get("SSHAND_TEST_MIRROR", "http://deb.debian.org/debian")
# The container's packages besides the .deb's own dependencies (added from
# its Depends field): a system manager with a journal and logind, and the
# PAM modules of the shipped /etc/pam.d/sshand.
BASE_PACKAGES = ["systemd", "systemd-sysv", "dbus", "libpam-systemd", "openssh-client",
                 "libpam-modules", "libpam-runtime", "passwd", "procps"]
SKIP_CONTAINER = os.environ.get("SSHAND_SKIP_CONTAINER") == "1"
MACHINE = "sshand-deb-test"
ALICE_PW = "Alice-deb-Secret-7"
SSH_OPTS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10"]
# Written to the container's sshand.conf: sshand's own pre-login limits
# (PerSourceMaxStartups 8, MaxStartups 32:128) would turn the probes of the
# socket unit's MaxConnectionsPerSource away first.
TEST_CONF = "\n# test_debian_package.py\nPerSourceMaxStartups none\nMaxStartups 1000\n"


# Why the container could not be had, once known: the module's other tests
# fail (or skip) at once instead of trying again (a missing network can
# take minutes to say so).
_unavailable = []


def unavailable(why):
    if not _unavailable:
        _unavailable.append(why)
    if SKIP_CONTAINER:
        pytest.skip("SSHAND_SKIP_CONTAINER=1: the Debian container is not tested: " + why)
    pytest.fail("the Debian container cannot be built or booted here: %s "
                "(set SSHAND_SKIP_CONTAINER=1 to skip these tests explicitly)" % why,
                pytrace=False)


def run(cmd, timeout=120, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


def tail(text, n=25):
    return "\n".join(text.strip().splitlines()[-n:])


# ---- the package ---------------------------------------------------------

def source_files():
    r = run(["git", "-C", REPO, "ls-files", "-z", "-c", "-o", "--exclude-standard"])
    assert r.returncode == 0, "the package's source is listed by git: " + r.stderr
    return sorted(f for f in r.stdout.split("\0") if f and os.path.isfile(os.path.join(REPO, f)))


def source_hash(files):
    h = hashlib.sha256()
    for f in files:
        h.update(f.encode() + b"\0")
        with open(os.path.join(REPO, f), "rb") as fh:
            h.update(hashlib.sha256(fh.read()).digest())
        h.update(b"%o" % (os.stat(os.path.join(REPO, f)).st_mode & 0o111))
    return h.hexdigest()[:20]


@pytest.fixture(scope="module")
def package():
    """The .deb of this source tree: built once per source hash."""
    files = source_files()
    dest = os.path.join(CACHE, "deb", source_hash(files))
    debs = glob.glob(os.path.join(dest, "sshand_*.deb"))
    if debs:
        return debs[0]
    tmp = dest + ".tmp.%d" % os.getpid()
    src = os.path.join(tmp, "src")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(src)
    try:
        subprocess.run("tar -C %s -cf - --null -T - | tar -C %s -xf -" % (REPO, src),
                       shell=True, input="\0".join(files).encode(), check=True)
        env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck parallel=2")
        # The unit tests ran already in make test (nocheck).
        r = run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src, env=env, timeout=900)
        assert r.returncode == 0, "dpkg-buildpackage failed:\n" + tail(r.stdout + r.stderr, 40)
        changes = glob.glob(os.path.join(tmp, "sshand_*.changes"))
        assert changes, "dpkg-buildpackage made no .changes"
        # Warnings too: each one is fixed or explained in
        # debian/sshand.lintian-overrides.
        r = run(["lintian", "--fail-on", "error,warning", changes[0]], timeout=300)
        assert r.returncode == 0, "lintian complains:\n" + r.stdout + r.stderr
        shutil.rmtree(src)
        os.rename(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    prune(glob.glob(os.path.join(CACHE, "deb", "*")), keep=5)
    return glob.glob(os.path.join(dest, "sshand_*.deb"))[0]


def prune(paths, keep):
    """The cache keeps the keep newest entries of a kind (each source
    change makes a .deb, each package list change a tree)."""
    paths = sorted((p for p in paths if ".tmp." not in p), key=os.path.getmtime)
    for p in paths[:-keep] if keep else paths:
        if os.path.isdir(p):
            shutil.rmtree(p, ignore_errors=True)
        else:
            os.unlink(p)


def test_package_contents(package):
    r = run(["dpkg-deb", "-c", package])
    assert r.returncode == 0, r.stderr
    paths = {line.split()[-1].lstrip(".") for line in r.stdout.splitlines()}
    for p in ["/usr/sbin/sshand", "/usr/sbin/sshandctl", "/usr/lib/sshand/sshand-net.so",
              "/usr/lib/sshand/sshand-monitor.so", "/usr/lib/sshand/sshand-nogssapi.so",
              "/lib/systemd/system/sshand.socket", "/lib/systemd/system/sshand@.service",
              "/lib/systemd/system/sshand-fleet.service",
              "/etc/pam.d/sshand", "/etc/sshand/sshand.conf",
              "/usr/share/man/man8/sshand.8.gz", "/usr/share/man/man5/sshand.conf.5.gz"]:
        assert p in paths, p + " is not in the package"
    # Made by the postinst: nothing at build time creates users, keys or /var.
    assert not [p for p in paths if p.startswith("/var/") or "ssh_host_" in p], paths
    r = run(["sh", "-c", "dpkg-deb --ctrl-tarfile '%s' | tar -xOf - ./conffiles" % package])
    assert sorted(r.stdout.split()) == ["/etc/pam.d/sshand", "/etc/sshand/sshand.conf"]


# ---- the container -------------------------------------------------------

def deb_depends(deb):
    r = run(["dpkg-deb", "-f", deb, "Depends"])
    assert r.returncode == 0, r.stderr
    names = []
    for dep in r.stdout.split(","):
        name = dep.split("|")[0].split("(")[0].strip()
        if name and not name.startswith("$"):
            names.append(name)
    return names


def debian_tree(packages):
    """A tarball of a minimal Debian 12 tree, cached by its package list."""
    key = hashlib.sha256(("%s %s %s" % (SUITE, MIRROR, ",".join(packages))).encode())
    tarball = os.path.join(CACHE, "debian-%s-%s.tar" % (SUITE, key.hexdigest()[:16]))
    if os.path.exists(tarball):
        return tarball
    if not shutil.which("mmdebstrap"):
        unavailable("mmdebstrap is not installed (tests/deps.sh test installs it)")
    os.makedirs(CACHE, exist_ok=True)
    tmp = tarball + ".tmp.%d" % os.getpid()
    t0 = time.monotonic()
    try:
        r = run(["mmdebstrap", "--quiet", "--mode=root", "--variant=minbase", "--format=tar",
                 "--include=" + ",".join(packages), SUITE, tmp, MIRROR], timeout=900)
    except subprocess.TimeoutExpired:
        unavailable("mmdebstrap took more than 15 minutes (%s)" % MIRROR)
    if r.returncode != 0:
        if os.path.exists(tmp):
            os.unlink(tmp)
        unavailable("mmdebstrap could not build the tree from %s:\n%s"
                    % (MIRROR, tail(r.stdout + r.stderr)))
    os.rename(tmp, tarball)
    prune(glob.glob(os.path.join(CACHE, "debian-%s-*.tar" % SUITE)), keep=2)
    print("debian tree built in %.0f s: %s" % (time.monotonic() - t0, tarball))
    return tarball


class Container:
    def __init__(self, root, proc, pid):
        self.root = root
        self.proc = proc
        self.pid = str(pid)

    def sh(self, script, check=True, timeout=120):
        """Runs script inside the container (all its namespaces and root)."""
        r = run(["nsenter", "-t", self.pid, "-a", "--", "/usr/bin/env", "-i",
                 "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "/bin/sh", "-c",
                 script], timeout=timeout)
        if check:
            assert r.returncode == 0, "in the container: %s\n%s%s" % (script, r.stdout,
                                                                       r.stderr)
        return r

    def net(self, argv):
        """argv, a host program, in the container's network namespace."""
        return ["nsenter", "-t", self.pid, "-n", "--"] + argv

    def ssh(self, argv, key=None, password=None, src=None, timeout=60, **kw):
        cmd = ["ssh"] + SSH_OPTS
        if src:
            cmd += ["-b", src]
        if key:
            cmd += ["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-i", key]
        else:
            cmd = ["sshpass", "-p", password] + cmd + ["-o", "PubkeyAuthentication=no"]
        return run(self.net(cmd + ["alice@127.0.0.1"] + argv), timeout=timeout, **kw)

    def popen_ssh(self, command, key):
        return subprocess.Popen(self.net(["ssh"] + SSH_OPTS + [
            "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-i", key,
            "alice@127.0.0.1", command]), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)

    def probe(self, script, timeout=120):
        """A python script on the host, in the container's network."""
        r = run(self.net(["/usr/bin/python3", "-c", PROBE + script]), timeout=timeout)
        assert r.returncode == 0, r.stdout + r.stderr
        return json.loads(r.stdout.strip().splitlines()[-1])

    def journal(self, *match, timeout=10):
        """journalctl -o json records for the match, waiting for them to
        arrive (journald is asynchronous)."""
        deadline = time.monotonic() + timeout
        while True:
            r = self.sh("journalctl --no-pager -o json " + " ".join(match), check=False)
            recs = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
            if recs or time.monotonic() > deadline:
                return recs
            time.sleep(0.3)


# Connections from a chosen source, reading the server's banner.
PROBE = r'''
import json, socket, sys
def connect(src, timeout=15):
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((src, 0))
    try:
        s.connect(("127.0.0.1", 22))
    except OSError as e:
        return s, "connect: " + type(e).__name__
    data = b""
    try:
        while b"\n" not in data:
            chunk = s.recv(256)
            if not chunk:
                break
            data += chunk
    except OSError as e:
        return s, "recv: " + type(e).__name__ + (" after %r" % data if data else "")
    return s, data.decode("latin-1") or "closed"
'''


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.3)


def boot(tarball, deb, keyfile):
    for tool in ["systemd-nspawn", "nsenter"]:
        if not shutil.which(tool):
            unavailable(tool + " is not installed (tests/deps.sh test installs "
                        "systemd-container)")
    root = os.path.join(WORK, "debian-root")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    subprocess.run(["tar", "-C", root, "-xf", tarball], check=True)
    # /root, not /tmp: the container mounts a tmpfs on /tmp.
    shutil.copy(deb, os.path.join(root, "root", "sshand.deb"))
    shutil.copy(keyfile + ".pub", os.path.join(root, "root", "alice.pub"))
    log = open(os.path.join(WORK, "nspawn.log"), "w")
    # No machined to register with and no host systemd to make a scope:
    # --register=no --keep-unit.  --private-network: the container's port
    # 22 is its own (loopback only).
    proc = subprocess.Popen(["systemd-nspawn", "--quiet", "--register=no", "--keep-unit",
                             "--private-network", "--console=passive",
                             "--machine=" + MACHINE, "-b", "-D", root],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)

    def leader():
        if proc.poll() is not None:
            return None
        for f in glob.glob("/proc/%d/task/*/children" % proc.pid):
            for pid in open(f).read().split():
                try:
                    if open("/proc/%s/comm" % pid).read().strip() == "systemd":
                        return pid
                except OSError:
                    pass
        return None

    deadline = time.monotonic() + 60
    pid = None
    while pid is None and time.monotonic() < deadline and proc.poll() is None:
        pid = leader()
        time.sleep(0.2)
    if pid is None:
        proc.kill()
        proc.wait()
        log.close()
        unavailable("systemd-nspawn did not boot the tree:\n"
                    + tail(open(os.path.join(WORK, "nspawn.log")).read()))
    c = Container(root, proc, pid)
    r = c.sh("systemctl is-system-running --wait", check=False, timeout=120)
    state = r.stdout.strip()
    if state not in ("running", "degraded"):
        shutdown(c)
        unavailable("the container's systemd did not come up (%s):\n%s"
                    % (state, tail(open(os.path.join(WORK, "nspawn.log")).read())))
    return c


def shutdown(c):
    if c.proc.poll() is None:
        # nspawn asks the container's systemd to power off on SIGTERM.
        c.proc.send_signal(signal.SIGTERM)
        try:
            c.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            c.proc.kill()
            c.proc.wait()
    shutil.rmtree(c.root, ignore_errors=True)


@pytest.fixture(scope="module")
def container(package):
    if _unavailable:
        unavailable(_unavailable[0])
    t0 = time.monotonic()
    keyfile = os.path.join(WORK, "deb_alice_ed25519")
    if not os.path.exists(keyfile):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", keyfile],
                       check=True)
    tarball = debian_tree(sorted(set(BASE_PACKAGES + deb_depends(package))))
    c = boot(tarball, package, keyfile)
    c.key = keyfile
    c.install_output = c.sh("dpkg -i /root/sshand.deb 2>&1")
    c.sh("useradd -m -s /bin/bash alice && echo 'alice:%s' | chpasswd && "
         "install -d -o alice -g alice -m 0700 /home/alice/.ssh && "
         "install -o alice -g alice -m 0600 /root/alice.pub "
         "/home/alice/.ssh/authorized_keys" % ALICE_PW)
    print("container ready in %.1f s" % (time.monotonic() - t0))
    try:
        yield c
    finally:
        shutdown(c)


def instances(c):
    r = c.sh("systemctl list-units --no-legend --plain --state=active 'sshand@*'",
             check=False)
    return [line.split()[0] for line in r.stdout.splitlines() if line.strip()]


# ---- installation --------------------------------------------------------

def test_install_makes_user_dirs_keys_and_listens(container):
    c = container
    out = c.install_output.stdout
    assert "not enabling" not in out, out
    r = c.sh("getent passwd sshand; stat -c '%a %U %G %n' /var/empty /var/lib/sshand; "
             "ls /etc/sshand; systemctl is-enabled sshand.socket; "
             "systemctl is-active sshand.socket")
    lines = r.stdout.split("\n")
    user = lines[0].split(":")
    assert user[0] == "sshand" and int(user[2]) < 1000 and user[6] == "/usr/sbin/nologin", r.stdout
    assert "555 root root /var/empty" in r.stdout and "700 root root /var/lib/sshand" in r.stdout
    for t in ["ed25519", "ecdsa", "rsa"]:
        assert "ssh_host_%s_key\n" % t in r.stdout and "ssh_host_%s_key.pub" % t in r.stdout
    assert r.stdout.strip().endswith("enabled\nactive"), r.stdout
    # The installed configuration is sound as shipped.
    c.sh("sshand -t")


# ---- logins, the journal, sshandctl audit ------------------------------------

def test_password_and_key_login(container):
    c = container
    r = c.ssh(["echo pw-login; id -un"], password=ALICE_PW)
    assert r.returncode == 0 and r.stdout == "pw-login\nalice\n", r.stdout + r.stderr
    r = c.ssh(["echo key-login"], key=c.key)
    assert r.returncode == 0 and r.stdout == "key-login\n", r.stdout + r.stderr
    r = c.ssh(["true"], password="wrong-password")
    # sshpass's "invalid password"
    assert r.returncode == 5, (r.returncode, r.stdout + r.stderr)


def test_journal_records_by_unit_and_connection(container):
    c = container
    marker = "journal-marker-%d" % os.getpid()
    r = c.ssh(["echo " + marker], key=c.key)
    assert r.returncode == 0, r.stderr
    # journalctl -u 'sshand@*': the instances' records, as the README says.
    starts = [x for x in c.journal("-u", "'sshand@*'", "SSHAND_EVENT=session-start")
              if marker in x.get("SSHAND_COMMAND", "")]
    assert len(starts) == 1, starts
    start = starts[0]
    assert start["_SYSTEMD_UNIT"].startswith("sshand@") and start["SSHAND_USER"] == "alice"
    conn = start["SSHAND_CONNECTION"]
    # journalctl SSHAND_CONNECTION=<id>: the connection's whole story.
    # (Its log lines carry the id too; the audit records are those with an
    # SSHAND_EVENT.)
    def records():
        return [x for x in c.journal("SSHAND_CONNECTION=" + conn) if "SSHAND_EVENT" in x]

    wait_for(lambda: "disconnect" in [x["SSHAND_EVENT"] for x in records()], 10,
             "the disconnect record")
    recs = records()
    events = [x["SSHAND_EVENT"] for x in recs]
    for ev in ["connect", "auth-attempt", "session-start", "session-end", "disconnect"]:
        assert ev in events, events
    for x in recs:
        assert x["SSHAND_REMOTE_ADDR"] == "127.0.0.1" and x["SSHAND_LOCAL_PORT"] == "22", x
        assert x["_SYSTEMD_UNIT"] == start["_SYSTEMD_UNIT"], x
    auth = [x for x in recs if x["SSHAND_EVENT"] == "auth-attempt"]
    assert any("publickey" in x.get("MESSAGE", "") for x in auth), auth
    end = [x for x in recs if x["SSHAND_EVENT"] == "disconnect"][0]
    assert int(end["SSHAND_BYTES_IN"]) > 0 and int(end["SSHAND_BYTES_OUT"]) > 0, end
    # sshandctl audit reads the same records from the journal.
    r = c.sh("sshandctl --json audit")
    mine = [json.loads(line) for line in r.stdout.splitlines() if conn in line]
    assert {"connect", "session-start", "disconnect"} <= {
        m.get("SSHAND_EVENT") for m in mine}, mine
    r = c.sh("sshandctl audit")
    assert any(conn[:8] in line and "session-start" in line and "alice" in line
               for line in r.stdout.splitlines()), r.stdout


# ---- the socket unit's limits, bans -----------------------------------------

def test_65th_connection_from_one_source_refused(container):
    c = container
    unit = c.sh("systemctl show -p MaxConnectionsPerSource --value sshand.socket")
    assert unit.stdout.strip() == "64", unit.stdout
    c.sh("printf '%s' >> /etc/sshand/sshand.conf && sshand -t" % TEST_CONF.replace("\n", "\\n"))
    out = c.probe(r'''
held = [connect("127.0.0.1") for _ in range(64)]
ok = sum(1 for _, b in held if b.startswith("SSH-2.0-"))
s65, b65 = connect("127.0.0.1")
other, bo = connect("127.0.0.2")
print(json.dumps({"held": ok, "65th": b65, "other": bo}))
''')
    assert out["held"] == 64, out
    assert not out["65th"].startswith("SSH-"), out
    # Another source still gets in: the limit is per source.
    assert out["other"].startswith("SSH-2.0-"), out
    msgs = [x["MESSAGE"] for x in c.journal("-u", "sshand.socket")]
    # systemd counts the connection it drops.
    assert any("Too many incoming connections (65) from source 127.0.0.1" in m
               for m in msgs), msgs[-5:]
    # Once they are gone, the source gets in again.
    wait_for(lambda: c.probe('s, b = connect("127.0.0.1")\nprint(json.dumps(b))')
             .startswith("SSH-2.0-"), 30, "a slot for 127.0.0.1")


def test_banned_source_closed_before_banner(container):
    c = container
    c.sh("sshandctl bans ban 127.0.0.3 1h")
    # Ten of them: each process ends right after its only record, the
    # case where journald could miss whose record it is (see below).
    out = c.probe(r'''
banned = [connect("127.0.0.3")[1] for _ in range(10)]
s2, b2 = connect("127.0.0.4")
print(json.dumps({"banned": banned, "other": b2}))
''')
    assert all(b in ("closed", "recv: ConnectionResetError") for b in out["banned"]), out
    assert out["other"].startswith("SSH-2.0-"), out
    match = ("SSHAND_EVENT=rejected-banned", "SSHAND_REMOTE_ADDR=127.0.0.3")
    wait_for(lambda: len(c.journal(*match)) >= 10, 15, "ten rejected-banned records")
    # Every one is the instance's: journald reads the sender's cgroup when
    # it takes the record, and sshand waits for that before it exits
    # (journal_drain), so journalctl -u finds them all.
    recs = c.journal(*match)
    assert all(x.get("_SYSTEMD_UNIT", "").startswith("sshand@") for x in recs), \
        [(x.get("_PID"), x.get("_SYSTEMD_UNIT")) for x in recs]
    msgs = [x.get("MESSAGE", "") for x in c.journal("-u", "'sshand@*'", *match)]
    assert len(msgs) == len(recs), (len(msgs), len(recs))
    assert all("Refused connection from banned address 127.0.0.3" in m for m in msgs), msgs
    c.sh("sshandctl bans unban 127.0.0.3")


# ---- stopping the socket, upgrade, remove, purge -----------------------------

def session_survives(c, action):
    """Runs action while a session is established; returns what the session
    printed after it."""
    p = c.popen_ssh("echo started; sleep 4; echo survived", c.key)
    assert p.stdout.readline() == "started\n", p.stderr.read()
    before = instances(c)
    assert before, "no sshand@ instance is running"
    action()
    after = instances(c)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0 and out == "survived\n", (p.returncode, out, err)
    return before, after


def test_socket_stop_keeps_established_session(container):
    c = container

    def stop():
        c.sh("systemctl stop sshand.socket")
        assert c.sh("systemctl is-active sshand.socket", check=False).stdout.strip() \
            == "inactive"
        out = c.probe('s, b = connect("127.0.0.1")\nprint(json.dumps(b))')
        assert out == "connect: ConnectionRefusedError", out

    before, after = session_survives(c, stop)
    assert set(before) <= set(after), (before, after)
    c.sh("systemctl start sshand.socket")
    assert c.ssh(["true"], key=c.key).returncode == 0


def test_upgrade_keeps_config_keys_and_socket(container):
    c = container
    keys = c.sh("sha256sum /etc/sshand/ssh_host_*_key").stdout
    r = c.sh("dpkg -i /root/sshand.deb 2>&1")
    assert "not enabling" not in r.stdout, r.stdout
    assert c.sh("sha256sum /etc/sshand/ssh_host_*_key").stdout == keys
    assert TEST_CONF in c.sh("cat /etc/sshand/sshand.conf").stdout
    r = c.sh("systemctl is-enabled sshand.socket; systemctl is-active sshand.socket")
    assert r.stdout == "enabled\nactive\n", r.stdout
    assert c.ssh(["true"], key=c.key).returncode == 0


def test_remove_stops_socket_not_sessions_and_purge_cleans(container):
    c = container

    def remove():
        c.sh("dpkg -r sshand")
        assert c.sh("systemctl is-active sshand.socket", check=False).stdout.strip() \
            != "active"

    session_survives(c, remove)
    out = c.probe('s, b = connect("127.0.0.1")\nprint(json.dumps(b))')
    assert out == "connect: ConnectionRefusedError", out
    # Removed, not purged: configuration, keys and the user stay.
    c.sh("test -f /etc/sshand/sshand.conf && test -f /etc/sshand/ssh_host_ed25519_key "
         "&& getent passwd sshand")
    c.sh("dpkg --purge sshand")
    r = c.sh("getent passwd sshand; getent group sshand; ls -d /var/lib/sshand /etc/sshand "
             "/etc/pam.d/sshand /etc/systemd/system/sockets.target.wants/sshand.socket",
             check=False)
    assert r.stdout == "", r.stdout


def test_install_beside_openssh_leaves_port_22(container):
    """A host whose ssh.service is enabled keeps port 22: sshand.socket is
    installed but neither enabled nor started, and the postinst says how
    to switch.  (A stand-in ssh.service: the unit's state is what counts.)"""
    c = container
    c.sh("printf '[Service]\\nExecStart=/bin/sleep infinity\\n[Install]\\n"
         "WantedBy=multi-user.target\\n' > /etc/systemd/system/ssh.service && "
         "systemctl daemon-reload && systemctl enable ssh.service")
    r = c.sh("dpkg -i /root/sshand.deb 2>&1")
    assert "not enabling sshand.socket: ssh.service is enabled" in r.stdout, r.stdout
    assert "systemctl enable --now sshand.socket" in r.stdout, r.stdout
    r = c.sh("systemctl is-enabled sshand.socket; systemctl is-active sshand.socket",
             check=False)
    assert r.stdout == "disabled\ninactive\n", r.stdout
    out = c.probe('s, b = connect("127.0.0.1")\nprint(json.dumps(b))')
    assert out == "connect: ConnectionRefusedError", out
    # Installed all the same: the switch the message describes works.
    c.sh("systemctl disable --now ssh.service && systemctl enable --now sshand.socket")
    assert c.ssh(["echo switched"], password=ALICE_PW).stdout == "switched\n"
