"""pytest fixtures for the integration suite (see harness.py and run)."""

import os
import re
import shutil

import pytest

import harness
from harness import Keys, Server, WORK, BUILD, ASAN_BUILD


def pytest_configure(config):
    if not (WORK and BUILD):
        raise pytest.UsageError(
            "run the integration suite through tests/integration/run BUILD")
    if os.readlink("/proc/self/ns/mnt") == os.environ.get("SSHAND_OUTER_MNT"):
        raise pytest.UsageError(
            "not in a private mount namespace: use tests/integration/run")


@pytest.fixture(scope="session")
def keys():
    k = Keys(WORK)
    empty = os.path.join(WORK, "empty")
    os.makedirs(empty, exist_ok=True)
    os.chown(empty, 0, 0)
    os.chmod(empty, 0o755)
    return k


@pytest.fixture(autouse=True)
def homes(keys):
    """Every test starts with fresh homes; each user authorizes their own
    default key (alice: ed25519)."""
    defaults = {
        "alice": "alice_ed25519",
        "bob": "bob_ed25519",
        "carol": "carol_ed25519",
        "expired": "expired_ed25519",
        "locked": None,
        "noshell": None,
        "keyonly": "keyonly_ed25519",
        "keystar": "keyonly_ed25519",
    }
    for user, key in defaults.items():
        harness.reset_home(user, authorized=[keys.pub(key)] if key else None)
    yield


def _builds():
    wanted = os.environ.get("SSHAND_ITEST_BUILDS", "normal").split(",")
    out = []
    for b in wanted:
        b = b.strip()
        if b == "normal":
            out.append("normal")
        elif b == "asan" and ASAN_BUILD and os.path.exists(
                os.path.join(ASAN_BUILD, "sshand")):
            out.append("asan")
    return out or ["normal"]


@pytest.fixture(params=_builds())
def sshand_build(request):
    """Which sshand binary a test runs: "normal" always; "asan" as well
    when SSHAND_ITEST_BUILDS=normal,asan and an ASan build was given to
    run.  Tests that take this fixture are run once per build."""
    return request.param


_ASAN_ENV = {
    # Leak checking needs ptrace, which the sandbox denies, and would
    # report the deliberate exits of privilege-separated children.
    "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0:exitcode=99",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
}
# GCC 12's ASan intercepts crypt(); when libcrypt only arrives later with
# pam_unix.so (dlopen), the interceptor calls a NULL "real" function and
# pam_unix crashes.  Loading libcrypt at start-up avoids that; ASan then
# no longer comes first in the library list, hence verify_asan_link_order=0.
_LIBCRYPT = "/lib/x86_64-linux-gnu/libcrypt.so.1"
if os.path.exists(_LIBCRYPT):
    _ASAN_ENV["LD_PRELOAD"] = _LIBCRYPT
    _ASAN_ENV["ASAN_OPTIONS"] += ":verify_asan_link_order=0"


@pytest.fixture
def server(request, keys):
    """Factory: server(extra_config="", mode="accept"|"inetd",
    build="normal"|"asan", wrap=argv prefix) -> a started Server.  Every server of a test is
    stopped at teardown, which fails the test if a connection or a process
    of a test user outlives it, or the log holds a sanitizer report."""
    started = []
    counter = [0]

    def factory(extra_config="", mode="accept", build="normal", env=None, args=(),
                wrap=()):
        counter[0] += 1
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[:80]
        name = "%s-%d" % (name, counter[0])
        env = dict(env or {})
        path = BUILD
        if build == "asan":
            path = ASAN_BUILD
            env.update(_ASAN_ENV)
        srv = Server(keys, name, extra_config=extra_config, mode=mode, build=path,
                     env=env, args=args, wrap=wrap)
        started.append(srv)
        return srv.start()

    yield factory
    problems = []
    for srv in started:
        for p in srv.stop():
            problems.append("%s: %s\n--- server log (tail) ---\n%s" %
                            (srv.dir, p, srv.log()[-4000:]))
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def srv(server):
    """The common case: one server with the default test config."""
    return server()


# ---- OpenSSH's sshd, for tests side by side with it ------------------

SSHD_CANDIDATES = ("/usr/sbin/sshd", "/var/cache/sshand-bench/root/usr/sbin/sshd")


def find_sshd():
    for p in SSHD_CANDIDATES:
        if os.access(p, os.X_OK):
            return p
    pytest.fail("no OpenSSH sshd: tests/deps.sh unpacks Debian's into "
                "/var/cache/sshand-bench (bench/peers.sh)")


@pytest.fixture
def openssh(request, keys):
    """Debian's sshd (not installed: /usr/sbin/sshd or the benchmark's
    unpacked copy) in inetd mode on a port of its own, with the PAM stack
    of this run's /etc/pam.d/sshand (when it starts) as its service
    "sshd", and the
    privilege separation user and directory it needs, in this run's
    namespace only.  Factory: openssh(config) -> a started Server."""
    sshd = find_sshd()
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    passwd = open("/etc/passwd").read()
    with open("/etc/passwd", "a") as f:
        f.write("sshd:x:%d:65534::/run/sshd:/usr/sbin/nologin\n" % (harness.UID_BASE + 910))
    pam = "/etc/pam.d/sshd"
    assert not os.path.exists(pam)
    started = []

    def factory(config):
        shutil.copy("/etc/pam.d/sshand", pam)
        s = harness.Server(keys, "openssh-%s-%d" % (re.sub(r"\W+", "_", request.node.name)[:60], len(started)),
                           mode="inetd", args=["-i"])
        s.binary = sshd
        with open(s.conf, "w") as f:
            f.write("".join("HostKey %s\n" % p for p in keys.host_paths()) +
                    "PidFile none\nUsePAM yes\nKbdInteractiveAuthentication no\n"
                    "LogLevel VERBOSE\n" + config + "\n")
        started.append(s)
        return s.start()

    yield factory
    problems = []
    for s in started:
        problems += s.stop()
    if os.path.exists(pam):
        os.unlink(pam)
    with open("/etc/passwd", "w") as f:
        f.write(passwd)
    assert not problems, (problems, [s.log()[-3000:] for s in started])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, attach the server logs of the test to the report."""
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed:
        base = os.path.join(WORK, "servers")
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.name)[:80]
        if os.path.isdir(base):
            for d in sorted(os.listdir(base)):
                if d.rsplit("-", 1)[0] == name:
                    try:
                        with open(os.path.join(base, d, "server.log"), "rb") as f:
                            txt = f.read().decode("utf-8", "replace")
                    except OSError:
                        continue
                    rep.sections.append(("server log %s" % d, txt[-6000:]))
