"""Issue 5 end to end: every session sshand starts is confined, shown with
the real OpenSSH clients (ssh, ssh -tt, sftp) against sshand started by
systemd-socket-activate.

The syscall probe (tests/probe/probe.c) runs as the logged-in user and its
output is compared with probe_tables.EXPECT; /proc/<pid>/status is checked
in exec, pty shell and sftp sessions; a setuid-root helper built here shows
that no session can regain root; limits and profile switches are checked
through the server's configuration, including Match blocks.
"""

import os
import re
import resource
import select
import shutil
import subprocess
import time

import pytest

import harness
import probe_tables
from harness import BUILD, WORK, PtyClient, client_env, run

CAPS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")
ALICE_UID = harness.ALICE
ALICE = (harness.ALICE, harness.ALICE, [harness.ALICE])
CAROL = (harness.CAROL, harness.CAROL, [harness.CAROL, harness.SSHSTRICT_GID])
IDS = {"alice": ALICE, "bob": (harness.BOB, harness.BOB, [harness.BOB]), "carol": CAROL,
       # the privilege-separation user of the network child
       "sshand": (harness.PRIVSEP_UID, harness.PRIVSEP_UID, [])}
KEY = {"alice": "alice_ed25519", "bob": "bob_ed25519", "carol": "carol_ed25519"}


def ok(r):
    assert r.returncode == 0, "exit %d\nstdout: %s\nstderr: %s" % (
        r.returncode, r.stdout[-3000:], r.stderr[-3000:])
    return r


def ssh(s, user, cmd, **kw):
    return s.ssh(user, cmd, key=KEY[user], **kw)


def parse_status(text):
    """A /proc/PID/status text (possibly with \\r\\n line ends) as a dict."""
    st = {}
    for line in text.replace("\r", "").splitlines():
        k, sep, v = line.partition(":")
        if sep and k and " " not in k:
            st[k] = v.strip()
    return st


def status_problems(st, user, seccomp="2", nnp=None):
    """Differences between a status dict and the confinement issues 5 and
    17 ask for: every capability set empty, but for the bounding set of a
    session whose policy allows setuid programs (nnp false: login's and
    none's default), which keeps what sudo needs.  nnp by default: yes for
    the network child ("sshand"), no for a user under the default profile.
    Returns a list of strings, empty when all is well."""
    uid, gid, groups = IDS[user]
    if nnp is None:
        nnp = user == "sshand"
    out = []
    for k in ("Uid", "Gid", "Groups", "NoNewPrivs", "Seccomp") + CAPS:
        if k not in st:
            out.append("%s missing" % k)
    if out:
        return out + ["status: %r" % st]
    for cap in CAPS:
        want = 0 if nnp or cap != "CapBnd" else harness.own_bounding_set()
        if int(st[cap], 16) != want:
            out.append("%s: %s, want %x" % (cap, st[cap], want))
    if st["NoNewPrivs"] != ("1" if nnp else "0"):
        out.append("NoNewPrivs: %s, want %s" % (st["NoNewPrivs"], "1" if nnp else "0"))
    if st["Seccomp"] != seccomp:
        out.append("Seccomp: %s, want %s" % (st["Seccomp"], seccomp))
    if st["Uid"].split() != [str(uid)] * 4:
        out.append("Uid: %s, want %d everywhere" % (st["Uid"], uid))
    if st["Gid"].split() != [str(gid)] * 4:
        out.append("Gid: %s, want %d everywhere" % (st["Gid"], gid))
    if sorted(int(g) for g in st["Groups"].split()) != sorted(groups):
        out.append("Groups: %r, want exactly %r" % (st["Groups"], groups))
    return out


# ---- binaries the users run -------------------------------------------------

@pytest.fixture(scope="module")
def bindir():
    """A root-owned 0755 directory in the work dir (itself 0755, under the
    1777 /tmp, on a file system mounted without nosuid) holding the probe
    and a setuid-root helper."""
    d = os.path.join(WORK, "sandbox-e2e-bin")
    os.makedirs(d, exist_ok=True)
    os.chown(d, 0, 0)
    os.chmod(d, 0o755)
    probe = os.path.join(BUILD, "tests", "probe")
    if not os.path.exists(probe):
        pytest.fail("%s missing: make %s" % (probe, probe))
    shutil.copy(probe, os.path.join(d, "probe"))
    os.chmod(os.path.join(d, "probe"), 0o755)
    return d


SUID_SRC = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *res(int r) { return r == 0 ? "ok" : strerrorname_np(errno); }

int main(void)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;

	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "CapEff:\t", 8) == 0)
			printf("capeff %s", line + 8);
	if (f != NULL)
		fclose(f);
	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	printf("ruid %u euid %u suid %u\n", r, e, s);
	printf("rgid %u egid %u sgid %u\n", gr, ge, gs);
	printf("setuid0 %s\n", res(setuid(0)));
	printf("setresuid0 %s\n", res(setresuid(0, 0, 0)));
	printf("setreuid0 %s\n", res(setreuid(0, 0)));
	printf("seteuid0 %s\n", res(seteuid(0)));
	printf("setgid0 %s\n", res(setgid(0)));
	printf("setgroups0 %s\n", res(setgroups(0, NULL)));
	getresuid(&r, &e, &s);
	printf("after euid %u\n", e);
	return 0;
}
"""


@pytest.fixture(scope="module")
def suid_helper(bindir):
    """A setuid- and setgid-root program (mode 6755, owner root:root)
    printing its ids and trying to get root back."""
    if not shutil.which("gcc"):
        pytest.skip("gcc is not installed")
    src = os.path.join(bindir, "suid.c")
    exe = os.path.join(bindir, "suid-helper")
    with open(src, "w") as f:
        f.write(SUID_SRC)
    r = run(["gcc", "-O1", "-o", exe, src])
    assert r.returncode == 0, r.stderr
    os.chown(exe, 0, 0)
    os.chmod(exe, 0o6755)
    return exe


def ids_of(out):
    return dict((a, b) for a, b in (line.split(None, 1) for line in out.splitlines()
                                    if " " in line))


# ---- 1, 2: the probe under login and strict ----------------------------------

def run_probe(s, user, bindir):
    r = ssh(s, user, os.path.join(bindir, "probe"))
    # The probe exits 0 whatever it finds; a non-zero exit is the probe
    # itself failing (or being killed).
    ok(r)
    assert "status Seccomp" in r.stdout, r.stdout
    return r.stdout


def test_probe_login_default(server, sshand_build, bindir):
    s = server(build=sshand_build)
    out = run_probe(s, "alice", bindir)
    uid, gid, groups = ALICE
    assert probe_tables.compare("login", out, uid=uid, gid=gid, groups=groups) == [], out
    status, _ = probe_tables.parse(out)
    for cap in CAPS:
        if cap != "CapBnd":
            assert status[cap] == probe_tables.ZERO_CAPS, (cap, status[cap])
    # Issue 17: login lets setuid programs work (passwd, sudo, ping), so
    # no no_new_privs and the bounding set they gain from.
    assert int(status["CapBnd"], 16) == harness.own_bounding_set(), status
    assert status["NoNewPrivs"] == "0" and status["Seccomp"] == "2"


STRICT_CONF = """\
Match Group sshstrict
\tSandboxProfile strict
"""


def test_match_group_strict(server, bindir):
    s = server(STRICT_CONF)
    out = run_probe(s, "carol", bindir)
    uid, gid, groups = CAROL
    assert probe_tables.compare("strict", out, uid=uid, gid=gid, groups=groups) == [], out
    # The difference is visible, not only the absence of mismatches.
    _, calls = probe_tables.parse(out)
    assert calls["socket_inet"] == "EAFNOSUPPORT"
    assert calls["ptrace_traceme"] == "EPERM"
    # Alice, on the same server, keeps the login profile.
    out = run_probe(s, "alice", bindir)
    uid, gid, groups = ALICE
    assert probe_tables.compare("login", out, uid=uid, gid=gid, groups=groups) == [], out
    _, calls = probe_tables.parse(out)
    assert calls["socket_inet"] == "ok"


def test_strict_users_get_no_forwarding(server):
    # strict cuts the network off in the session; the server must not hand
    # it back through a direct-tcpip channel.  The target is the test's
    # own listener, which would answer with an SSH banner.
    s = server(STRICT_CONF + "AllowTcpForwarding yes\n")
    r = s.ssh("carol", None, key=KEY["carol"],
              flags=["-W", "%s:%d" % (harness.HOST, s.port)], input="", timeout=30)
    assert "SSH-2.0" not in r.stdout, (r.stdout, r.stderr)
    assert r.returncode != 0, (r.stdout, r.stderr)


def _dump(conf, spec):
    r = run([os.path.join(BUILD, "sshand"), "-T", "-C", spec, "-f", conf])
    assert r.returncode == 0, r.stderr
    return dict(line.split(None, 1) for line in r.stdout.splitlines() if " " in line)


def test_effective_profile_shown(server):
    s = server(STRICT_CONF + "Match Address 10.0.0.0/8\n\tSandboxProfile none\n")
    assert _dump(s.conf, "user=carol,addr=127.0.0.1")["sandboxprofile"] == "strict"
    assert _dump(s.conf, "user=alice,addr=127.0.0.1")["sandboxprofile"] == "login"
    assert _dump(s.conf, "user=alice,addr=10.1.2.3")["sandboxprofile"] == "none"


# ---- 3: /proc/self/status in every session type -------------------------------

def test_status_exec_session(server, sshand_build):
    s = server(build=sshand_build)
    for user in ("alice", "carol"):
        r = ok(ssh(s, user, "cat /proc/self/status; echo SHELL; cat /proc/$$/status"))
        mine, _, shell = r.stdout.partition("SHELL\n")
        for text in (mine, shell):
            st = parse_status(text)
            assert status_problems(st, user) == [], text


def _pty_client(s, user="alice"):
    argv = s.ssh_argv(user, None, KEY[user], flags=["-tt"])
    return PtyClient(argv, env=client_env({"TERM": "vt220"}))


def test_status_pty_shell(server):
    s = server()
    c = _pty_client(s)
    try:
        c.expect("PROMPT> ", 20)
        # The markers are computed by the shell, so the pty's echo of the
        # command line cannot match them.
        c.send("echo B$((1+1)); cat /proc/self/status; echo M$((2+2)); "
               "cat /proc/$$/status; tty; echo E$((3+3))\r")
        c.expect(r"B2\r?\n")
        mine = c.expect(rb"(?s)(.*?)M4\r?\n").group(1).decode()
        shell = c.expect(rb"(?s)(.*?)E6\r?\n").group(1).decode()
        assert status_problems(parse_status(mine), "alice") == [], mine
        assert status_problems(parse_status(shell), "alice") == [], shell
        # It really was a pty session.
        assert re.search(r"^/dev/pts/\d+\r?$", shell, re.M), shell
        c.send("exit\r")
        assert c.wait(15) == 0
    finally:
        c.close()


def test_status_pty_exec(server):
    s = server()
    r = ok(s.ssh("alice", "cat /proc/self/status; tty", flags=["-tt"]))
    assert re.search(r"^/dev/pts/\d+\r?$", r.stdout, re.M), r.stdout
    assert status_problems(parse_status(r.stdout), "alice") == [], r.stdout


def sftp_batch(s, user, commands, timeout=60):
    return subprocess.run(["sftp", *s.file_client_opts(KEY[user]), "-b", "-",
                           "%s@%s" % (user, harness.HOST)],
                          input=commands, capture_output=True, text=True,
                          timeout=timeout, env=client_env())


def sftp_own_status(s, user, tmp_path):
    """/proc/self/status as read by the sftp-server process itself."""
    dest = tmp_path / ("sftp-status-%s" % user)
    r = sftp_batch(s, user, "get /proc/self/status %s\n" % dest)
    ok(r)
    return dest.read_text()


class LiveSftp:
    """An sftp session held open, to look at its sftp-server from outside."""

    def __init__(self, s, user):
        self.s = s
        self.p = subprocess.Popen(
            ["sftp", *s.file_client_opts(KEY[user]), "-b", "-",
             "%s@%s" % (user, harness.HOST)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=client_env())
        self.out = b""

    def command(self, cmd, expect, timeout=20):
        self.p.stdin.write(cmd.encode() + b"\n")
        self.p.stdin.flush()
        end = time.monotonic() + timeout
        while expect.encode() not in self.out:
            left = end - time.monotonic()
            assert left > 0, "sftp: %r not seen in %r" % (expect, self.out)
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if r:
                data = os.read(self.p.stdout.fileno(), 65536)
                assert data, "sftp ended: %r %r" % (self.out, self.p.stderr.read())
                self.out += data

    def server_pids(self):
        tree = self.s.tree()
        return [p for p in tree
                if (harness.proc_status(p) or {}).get("Name") == "sftp-server"]

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(15)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(5)


def test_status_sftp_session(server, tmp_path):
    s = server()
    text = sftp_own_status(s, "alice", tmp_path)
    assert "sftp-server" in parse_status(text).get("Name", ""), text
    assert status_problems(parse_status(text), "alice") == [], text
    # The same seen from outside while the session is open.
    live = LiveSftp(s, "carol")
    try:
        live.command("pwd", "/home/carol")
        pids = live.server_pids()
        assert len(pids) == 1, [(p, harness.proc_status(p)) for p in s.tree()]
        st = harness.proc_status(pids[0])
        assert status_problems(st, "carol") == [], st
    finally:
        live.close()


# ---- 4: setuid-root binaries ----------------------------------------------------

def test_setuid_root_binary_stays_unprivileged(server, suid_helper):
    """With NoNewPrivileges yes (strict's default) a setuid-root program
    gains nothing; test_privileges.py shows the default, where it does."""
    # Control: the same binary run by the same uid without no_new_privs
    # does become root, so the file system honours setuid here and the
    # result below is the session's doing.
    r = run(["setpriv", f"--reuid={harness.ALICE}", f"--regid={harness.ALICE}",
             "--clear-groups", suid_helper])
    assert r.returncode == 0, r.stderr
    ctl = ids_of(r.stdout)
    assert ctl["ruid"].split()[:3] == [str(harness.ALICE), "euid", "0"], r.stdout
    assert ctl["rgid"].split()[:3] == [str(harness.ALICE), "egid", "0"], r.stdout
    assert ctl["setresuid0"] == "ok", r.stdout

    s = server("NoNewPrivileges yes\n")
    r = ok(ssh(s, "alice", suid_helper))
    got = ids_of(r.stdout)
    assert got["ruid"] == f"{ALICE_UID} euid {ALICE_UID} suid {ALICE_UID}", r.stdout
    assert got["rgid"] == f"{ALICE_UID} egid {ALICE_UID} sgid {ALICE_UID}", r.stdout
    for call in ("setuid0", "setresuid0", "setreuid0", "seteuid0", "setgid0",
                 "setgroups0"):
        assert got[call] == "EPERM", (call, r.stdout)
    assert got["after"] == f"euid {ALICE_UID}", r.stdout
    assert got["capeff"] == "0000000000000000", r.stdout
    # The file really is setuid root.
    st = os.stat(suid_helper)
    assert st.st_uid == 0 and st.st_mode & 0o6000 == 0o6000


@pytest.fixture(scope="module")
def fcaps_helper(suid_helper):
    """The same program, not setuid but with file capabilities
    cap_setuid,cap_setgid+ep (the other way a file grants privilege)."""
    if not shutil.which("setcap"):
        pytest.skip("setcap is not installed")
    exe = suid_helper + "-fcaps"
    shutil.copy(suid_helper, exe)
    os.chown(exe, 0, 0)
    os.chmod(exe, 0o755)
    r = run(["setcap", "cap_setuid,cap_setgid+ep", exe])
    assert r.returncode == 0, r.stderr
    return exe


def test_file_capabilities_give_nothing(server, fcaps_helper):
    # Control: without the session's confinement the file capabilities
    # let alice's uid become root.
    r = run(["setpriv", f"--reuid={harness.ALICE}", f"--regid={harness.ALICE}",
             "--clear-groups", fcaps_helper])
    assert r.returncode == 0, r.stderr
    ctl = ids_of(r.stdout)
    assert ctl["capeff"] != "0000000000000000", r.stdout
    assert ctl["setuid0"] == "ok" and ctl["after"] == "euid 0", r.stdout

    s = server("NoNewPrivileges yes\n")
    r = ssh(s, "alice", fcaps_helper)
    if r.returncode == 126:
        # The kernel refuses to exec a capability-dumb binary (effective
        # bit set) whose file capabilities it cannot grant: the bounding
        # set is empty.  Refused outright is as good as unprivileged.
        assert "Operation not permitted" in r.stderr and r.stdout == "", r
        return
    ok(r)
    got = ids_of(r.stdout)
    assert got["capeff"] == "0000000000000000", r.stdout
    assert got["ruid"] == f"{ALICE_UID} euid {ALICE_UID} suid {ALICE_UID}", r.stdout
    assert got["setuid0"] == "EPERM" and got["setresuid0"] == "EPERM", r.stdout
    assert got["after"] == f"euid {ALICE_UID}", r.stdout


# ---- 5: an ordinary session still works -------------------------------------------

HELLO = r'#include <stdio.h>\nint main(void) { puts("hello from gcc"); return 0; }\n'


def test_normal_shell_work_under_login(server):
    s = server()
    script = "\n".join([
        "set -e",
        "cd",
        "echo one > f1 && cat f1",
        "ls -la . | grep -q f1 && echo ls-ok",
        "printf 'c\\nb\\na\\n' | sort | tr '\\n' ' '; echo",
        "ps -o pid=,comm= -p $$ | grep -q bash && echo ps-ok",
        "ps -e >/dev/null && echo ps-e-ok",
        "ip addr show lo",
        "getent hosts localhost",
        "python3 -c 'import socket; print(\"gai\", sorted({a[4][0] for a in "
        "socket.getaddrinfo(\"localhost\", 22)}))'",
        "head -c 100000 /dev/urandom | sha256sum | cut -d' ' -f1 | wc -c",
        "(sleep 0.1 & wait) && echo jobs-ok",
        "mkdir -p d/e && mv f1 d/e/ && rm -r d && echo fs-ok",
        "echo done",
    ]) + "\n"
    r = ok(ssh(s, "alice", "bash -s", input=script))
    out = r.stdout
    for want in ("one\n", "ls-ok\n", "a b c \n", "ps-ok\n", "ps-e-ok\n",
                 "jobs-ok\n", "fs-ok\n", "65\n", "done\n"):
        assert want in out, (want, out, r.stderr)
    assert re.search(r"inet 127\.0\.0\.1/8", out), out
    assert re.search(r"^(127\.0\.0\.1|::1)\s+localhost", out, re.M), out
    assert re.search(r"^gai \[.*'127\.0\.0\.1'", out, re.M), out


def test_compiler_run_under_login(server):
    if not shutil.which("gcc"):
        pytest.skip("gcc is not installed")
    s = server()
    r = ok(ssh(s, "alice", "cd && printf '%s' > hello.c && gcc -O2 -o hello hello.c "
               "&& ./hello" % HELLO))
    assert r.stdout == "hello from gcc\n", (r.stdout, r.stderr)


def test_normal_work_under_strict_unix_only(server):
    # strict still runs ordinary programs; only the network is gone.
    s = server(STRICT_CONF)
    r = ssh(s, "carol", "ls / >/dev/null && echo ls-ok; sort </dev/null && echo sort-ok; "
            "python3 -c 'import socket; socket.socket()' 2>&1 | tail -1")
    assert "ls-ok" in r.stdout and "sort-ok" in r.stdout, (r.stdout, r.stderr)
    assert "Address family not supported" in r.stdout, r.stdout


# ---- 6: resource limits ---------------------------------------------------------------

LIMITS = "ulimit -u; ulimit -Hu; ulimit -n; ulimit -Hn; ulimit -c; ulimit -Hc"


@pytest.fixture
def core_limit():
    """Starts servers with a non-zero core limit, so that "core dumps off"
    is sshand's doing and AllowCoreDumps yes can show the inherited one
    (root's soft limit is often 0)."""
    old = resource.getrlimit(resource.RLIMIT_CORE)
    if old[1] != resource.RLIM_INFINITY and old[1] < 4 << 20:
        pytest.skip("hard core limit below 4 MiB")
    resource.setrlimit(resource.RLIMIT_CORE, (4 << 20, old[1]))
    yield 4096  # ulimit -c counts 1024-byte blocks
    resource.setrlimit(resource.RLIMIT_CORE, old)


def test_limits_applied(server, core_limit):
    s = server("MaxSessionProcs 50\nMaxOpenFiles 128\n")
    r = ok(ssh(s, "alice", LIMITS))
    assert r.stdout.split() == ["50", "50", "128", "128", "0", "0"], r.stdout
    # The open-files limit is enforced, not only reported.
    r = ok(ssh(s, "alice", "python3 -c '\nimport os\nn = 0\ntry:\n    while True:\n"
               "        os.open(\"/dev/null\", os.O_RDONLY); n += 1\nexcept OSError as e:\n"
               "    print(e.errno, n)'"))
    errno_, n = r.stdout.split()
    assert errno_ == "24" and 100 <= int(n) < 128, r.stdout


def test_max_open_files_above_inherited_hard_limit(server):
    """MaxOpenFiles may be higher than the hard limit sshand inherited:
    the session's process sets its limits while still root (the monitor
    keeps CAP_SYS_RESOURCE for it), as sshd's pam_limits would."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    with open("/proc/sys/fs/nr_open") as f:
        nr_open = int(f.read())
    want = hard + 1000
    if hard == resource.RLIM_INFINITY or want > nr_open:
        pytest.skip("inherited hard limit %s leaves no room below fs.nr_open" % hard)
    if not harness.own_bounding_set() & 1 << harness.MONITOR_CAPS["sys_resource"]:
        pytest.skip("root has no CAP_SYS_RESOURCE on this host")
    # systemd-socket-activate and sshand inherit this process's limits.
    s = server("MaxOpenFiles %d\n" % want)
    r = ok(ssh(s, "alice", "ulimit -Sn; ulimit -Hn"))
    assert r.stdout.split() == [str(want)] * 2, (hard, r.stdout)


def test_limits_default_and_core_dumps(server, core_limit):
    s = server()
    r = ok(ssh(s, "alice", "ulimit -c; ulimit -Hc"))
    assert r.stdout.split() == ["0", "0"], r.stdout
    s2 = server("Match User bob\n\tAllowCoreDumps yes\n\tMaxOpenFiles 200\n")
    r = ok(ssh(s2, "bob", "ulimit -c; ulimit -n"))
    assert r.stdout.split() == [str(core_limit), "200"], r.stdout
    # The Match block is bob's only.
    r = ok(ssh(s2, "alice", "ulimit -c; ulimit -n"))
    assert r.stdout.split()[0] == "0" and r.stdout.split()[1] != "200", r.stdout


# ---- 7: SandboxProfile none --------------------------------------------------------------

def test_profile_none_keeps_privilege_drop(server, bindir):
    s = server("SandboxProfile none\n")
    r = ok(ssh(s, "alice", "cat /proc/self/status"))
    assert status_problems(parse_status(r.stdout), "alice", seccomp="0") == [], r.stdout
    out = run_probe(s, "alice", bindir)
    uid, gid, groups = ALICE
    assert probe_tables.compare("none", out, uid=uid, gid=gid, groups=groups) == [], out
    status, _ = probe_tables.parse(out)
    assert status["Seccomp"] == "0", out


# ---- 8: keyrings ---------------------------------------------------------------------------

def test_allow_keyrings(server, bindir):
    s = server("Match User bob\n\tSandboxAllowKeyrings yes\n")
    out = run_probe(s, "bob", bindir)
    _, calls = probe_tables.parse(out)
    for name in ("add_key", "request_key", "keyctl"):
        assert calls[name] != "EPERM", (name, out)
        assert probe_tables._ok(calls[name], probe_tables._UNPRIV[name]), (name, out)
    # Everything else is still the login profile.
    diffs = probe_tables.compare("login", out, uid=harness.BOB, gid=harness.BOB, groups=[harness.BOB])
    assert sorted(d.split(":")[0] for d in diffs) == ["add_key", "keyctl", "request_key"], diffs
    # And alice, without the switch, is still denied.
    _, calls = probe_tables.parse(run_probe(s, "alice", bindir))
    assert calls["keyctl"] == "EPERM"


# What a KEYRING: Kerberos cache (krb5 ccache KEYRING:session:NAME) needs
# from a login: a session keyring of its own, keys created in it and found
# again from another process of the same login.  sshand's sessions are
# started with setsid but get no session keyring (that is pam_keyinit's
# job, and the test PAM stack, like Debian's default sshd stack, does not
# load it): @s then falls back to the user's shared session keyring
# (_uid_ses), which the process does not possess, so a key added there
# cannot be read back ("keyctl add user x v @s && keyctl show @s" shows
# nothing, "keyctl print" says EACCES) -- what failed before.  The script
# therefore runs under "keyctl session -", which joins a fresh anonymous
# session keyring as pam_keyinit would; see the report for giving every
# session its own (KEYCTL_JOIN_SESSION_KEYRING in the session's process).
KEYRING_SCRIPT = r"""
set -e
id=$(keyctl add user sshand-test secret @s)
keyctl print "$id"
# Another process of the same login finds it through @s.
sh -c 'keyctl search @s user sshand-test' >/dev/null
keyctl print "$(keyctl search @s user sshand-test)"
# A keyring of its own, as krb5 makes for KEYRING:session:NAME.
kr=$(keyctl newring krb_ccache_test @s)
keyctl add user princ tkt "$kr" >/dev/null
keyctl print "$(keyctl search "$kr" user princ)"
keyctl unlink "$kr" @s >/dev/null
keyctl unlink "$id" @s >/dev/null
echo keyring-ok
"""


def test_allow_keyrings_real_user(server):
    """With keyutils (tests/deps.sh installs it): a login with
    SandboxAllowKeyrings does what a KEYRING: credential cache does;
    without the switch, keyctl fails with EPERM."""
    if not shutil.which("keyctl"):
        pytest.skip("keyutils not installed (tests/deps.sh test installs it)")
    s = server("Match User bob\n\tSandboxAllowKeyrings yes\n")
    r = ssh(s, "bob", "keyctl session - sh -s", input=KEYRING_SCRIPT)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert r.stdout.splitlines().count("secret") == 2 and "tkt" in r.stdout, r.stdout
    assert r.stdout.endswith("keyring-ok\n"), r.stdout
    r = ssh(s, "alice", "keyctl session - sh -s", input=KEYRING_SCRIPT)
    assert r.returncode != 0 and "not permitted" in r.stderr, (r.stdout, r.stderr)


# ---- 8b: what strict does not cover: /proc/PID/mem ---------------------------------------

# A strict session reads and writes the memory of another of its own
# processes through /proc/PID/mem: opening it is open(2), whose path
# seccomp cannot see, and the kernel grants it (ptrace access mode ATTACH)
# to the same user for any dumpable process, which every process is again
# after execve.  man/sshand.conf.5 (SANDBOX PROFILES, strict) says so; this
# test keeps that page honest: if it fails, the hole closed (a kernel with
# Yama ptrace_scope 2, say) and the page must change with it.
PROC_MEM_SCRIPT = r"""
sleep 60 &
pid=$!
python3 - "$pid" <<'PY'
import sys
pid = int(sys.argv[1])
with open("/proc/%d/maps" % pid) as f:
    for line in f:
        a, perms = line.split()[:2]
        if perms.startswith("rw"):
            start = int(a.split("-")[0], 16)
            break
with open("/proc/%d/mem" % pid, "r+b", buffering=0) as m:
    m.seek(start)
    old = m.read(8)
    m.seek(start)
    m.write(old)
print("proc-mem read-write", len(old))
PY
kill $pid
"""


def test_strict_proc_pid_mem_as_documented(server):
    s = server("SandboxProfile strict\n")
    r = ssh(s, "alice", PROC_MEM_SCRIPT)
    assert r.returncode == 0 and "proc-mem read-write 8" in r.stdout, (r.stdout, r.stderr)
    page = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                             "man", "sshand.conf.5")).read()
    assert "/proc/" in page and "PID" in page and "/mem" in page, "man page silent"


# ---- 9: a stricter profile for the sftp subsystem ----------------------------------------------

def test_subsystem_profile_stacks(server, tmp_path):
    s = server("SandboxProfile login\nSubsystemSandboxProfile strict\n")
    assert _dump(s.conf, "user=alice,addr=127.0.0.1")["subsystemsandboxprofile"] == "strict"
    src = tmp_path / "up.bin"
    src.write_bytes(os.urandom(200000))
    back = tmp_path / "back.bin"
    r = ok(sftp_batch(s, "alice", "put %s up.bin\nls -l\nget up.bin %s\n" % (src, back)))
    assert "up.bin" in r.stdout, r.stdout
    assert back.read_bytes() == src.read_bytes()
    assert open("/home/alice/up.bin", "rb").read() == src.read_bytes()
    # Two filters on the sftp-server (the login one inherited from the
    # monitor, strict stacked on it) and one on an exec session.
    st = parse_status(sftp_own_status(s, "alice", tmp_path))
    assert status_problems(st, "alice") == [], st
    assert st.get("Seccomp_filters") == "2", st
    st = parse_status(ok(ssh(s, "alice", "cat /proc/self/status")).stdout)
    assert status_problems(st, "alice") == [], st
    assert st.get("Seccomp_filters") == "1", st
    # The stacked profile is felt: the sftp-server cannot be used to reach
    # the network (strict is AF_UNIX only) -- not observable through sftp
    # itself, so check from outside that a live sftp-server carries both.
    live = LiveSftp(s, "alice")
    try:
        live.command("pwd", "/home/alice")
        pids = live.server_pids()
        assert len(pids) == 1, s.tree()
        st = harness.proc_status(pids[0])
        assert st.get("Seccomp") == "2" and st.get("Seccomp_filters") == "2", st
    finally:
        live.close()


def test_subsystem_profile_default_is_single_filter(server, tmp_path):
    # Without SubsystemSandboxProfile the sftp-server carries only what it
    # inherited: the control for the stacking above.
    s = server()
    st = parse_status(sftp_own_status(s, "alice", tmp_path))
    assert status_problems(st, "alice") == [], st
    assert st.get("Seccomp_filters") == "1", st


# ---- the server's own processes after login -------------------------------------------

def test_no_privileged_process_left_after_login(server):
    """Once a user is in, every process serving the connection is the
    user's and confined (the session, whatever it starts) or the privsep
    user's (the network child), but the monitor, which stays root out of
    the user's reach with the few capabilities it still needs."""
    s = server()
    live = LiveSftp(s, "alice")
    try:
        live.command("pwd", "/home/alice")
        tree = s.tree()
        assert tree, "no process serves the connection"
        seen = {}
        root = []
        for pid in tree:
            st = harness.proc_status(pid)
            if st is None:
                continue
            seen[pid] = (st.get("Name"), st["Uid"].split()[0])
            # The key holder stays uid 0 with nothing else of root.
            if harness.is_keyholder(st):
                assert harness.keyholder_problems(st) == [], (pid, st)
                continue
            if st["Uid"].split()[0] == "0":
                root.append(pid)
                continue
            # The network-facing child stays the privilege-separation
            # user (no groups); everything else is alice's.
            who = "sshand" if st["Uid"].split()[0] == str(harness.PRIVSEP_UID) \
                else "alice"
            assert status_problems(st, who) == [], (pid, st.get("Name"),
                                                   status_problems(st, who))
        assert ("sftp-server", str(harness.ALICE)) in seen.values(), seen
        net = [p for p, v in seen.items() if v == ("sshand", str(harness.PRIVSEP_UID))]
        assert len(net) == 1, seen
        # The monitor, the network child's parent, is root.
        mon = harness.ppid_map()[net[0]]
        assert mon in root and all(seen[p][0] == "sshand" for p in root), (root, seen)
        assert harness.root_monitor_problems(mon) == [], seen
    finally:
        live.close()


# ---- more policy switches ---------------------------------------------------------------

def test_match_address_and_user_profiles(server, bindir):
    s = server("Match Address 127.0.0.2\n\tSandboxProfile strict\n"
               "Match User bob\n\tSandboxProfile none\n")
    probe = os.path.join(bindir, "probe")
    r = ok(s.ssh("alice", probe, flags=["-b", "127.0.0.2"]))
    assert probe_tables.compare("strict", r.stdout, *ALICE) == [], r.stdout
    r = ok(s.ssh("alice", probe))
    assert probe_tables.compare("login", r.stdout, *ALICE) == [], r.stdout
    r = ok(ssh(s, "bob", probe))
    assert probe_tables.compare("none", r.stdout, *IDS["bob"]) == [], r.stdout
    assert probe_tables.parse(r.stdout)[0]["Seccomp"] == "0", r.stdout


def test_strict_user_sessions_work(server, tmp_path):
    """strict takes the network away, not the login: a pty shell and sftp
    still work for carol."""
    s = server(STRICT_CONF)
    c = _pty_client(s, "carol")
    try:
        c.expect("PROMPT> ", 20)
        c.send("echo B$((1+1)); cat /proc/$$/status; ls -d / && echo E$((3+3))\r")
        c.expect(r"B2\r?\n")
        shell = c.expect(rb"(?s)(.*?)E6\r?\n").group(1).decode()
        assert status_problems(parse_status(shell), "carol", nnp=True) == [], shell
        c.send("exit 3\r")
        assert c.wait(15) == 3
    finally:
        c.close()
    src = tmp_path / "c.bin"
    src.write_bytes(os.urandom(50000))
    back = tmp_path / "c-back.bin"
    ok(sftp_batch(s, "carol", "put %s c.bin\nget c.bin %s\n" % (src, back)))
    assert back.read_bytes() == src.read_bytes()
