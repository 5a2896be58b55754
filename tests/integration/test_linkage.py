"""What each program is linked with, as ldd and the dynamic section show it.

sshandctl reads the journal through libsystemd and talks to the fleet's
Redis through hiredis (bans fleet-sync); the per-connection programs
never load either: sshand's front links libc and nothing else (that
keeps turning a banned address away cheap), and its two halves load only
what they need (libssh and OpenSSL, PAM and libcap-ng), never libsystemd.

One exception to "what ldd shows is what is loaded", on purpose: libssh
links MIT Kerberos's GSSAPI library, which brings five more, for a method
sshand never offers; loading them was 1.5 ms of the network child's CPU
per connection.  The front loads sshand-nogssapi.so first, a stand-in
with that library's soname and versioned symbols, and the loader binds
libssh's dependency to it (handler/net/nogssapi/nogssapi.c): the tests
below hold the stand-in to every function libssh imports, and show that
the mechanism keeps Kerberos out.

Needs nothing but the build and binutils, so it also runs alone:
    SSHAND_BUILD=$PWD/build /usr/bin/python3 -m pytest --noconftest \
        tests/integration/test_linkage.py
"""

import os
import re
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.environ.get("SSHAND_BUILD") or os.path.join(REPO, "build")


def path(name):
    p = os.path.join(BUILD, name)
    if not os.path.exists(p):
        pytest.fail("%s missing: build it first (make)" % p)
    return p


def needed(name):
    """The DT_NEEDED entries: what the link itself asked for."""
    out = subprocess.run(["readelf", "-d", path(name)], capture_output=True,
                         text=True, check=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def loaded(name):
    """Every shared object ldd resolves, dependencies of dependencies
    included, by name (the loader itself by its file name)."""
    out = subprocess.run(["ldd", path(name)], capture_output=True, text=True,
                         check=True).stdout
    libs = set()
    for line in out.splitlines():
        line = line.strip()
        if not line:
            continue
        assert "not found" not in line, (name, line)
        libs.add(os.path.basename(line.split()[0]))
    return libs


@pytest.fixture(scope="module", autouse=True)
def product_build():
    if any(l.startswith(("libasan", "libubsan")) for l in needed("sshand")):
        pytest.skip("a sanitizer build links its runtime everywhere; "
                    "linkage is checked on the normal build")


def test_sshandctl_links_libsystemd():
    assert "libsystemd.so.0" in needed("sshandctl")
    assert "libsystemd.so.0" in loaded("sshandctl")


def test_sshandctl_links_hiredis():
    assert any(l.startswith("libhiredis.so") for l in needed("sshandctl"))


@pytest.mark.parametrize("name", ["sshand", "sshand-net.so",
                                  "sshand-monitor.so"])
def test_per_connection_programs_free_of_hiredis(name):
    # Issue 21: the ban check never waits on the network.
    libs = loaded(name)
    assert not any(l.startswith("libhiredis") for l in libs), libs


def test_sshandctl_needs_no_pam_nor_libcap_ng():
    libs = loaded("sshandctl")
    assert not any(l.startswith(("libpam", "libcap-ng")) for l in libs), libs


@pytest.mark.parametrize("name", ["sshand", "sshand-net.so",
                                  "sshand-monitor.so"])
def test_per_connection_programs_free_of_libsystemd(name):
    libs = loaded(name)
    assert not any(l.startswith("libsystemd") for l in libs), libs


def test_front_links_libc_only():
    assert needed("sshand") == ["libc.so.6"]
    libs = loaded("sshand")
    rest = {l for l in libs if l not in ("libc.so.6", "linux-vdso.so.1")
            and not l.startswith("ld-linux")}
    assert rest == set(), libs
    assert "libc.so.6" in libs


def libssh_path():
    out = subprocess.run(["ldd", path("sshand-net.so")], capture_output=True,
                         text=True, check=True).stdout
    m = re.search(r"libssh\.so\.4 => (\S+)", out)
    assert m, out
    return m.group(1)


def test_nogssapi_takes_the_place_of_libgssapi_krb5():
    stub = path("sshand-nogssapi.so")
    out = subprocess.run(["readelf", "-d", stub], capture_output=True, text=True,
                         check=True).stdout
    assert re.search(r"\(SONAME\)\s+Library soname: \[libgssapi_krb5\.so\.2\]", out), out
    # Nothing of its own to load, and no libc call to make.
    assert needed("sshand-nogssapi.so") == []
    # Every GSSAPI symbol libssh imports, with its version.
    imports = subprocess.run(["nm", "-D", "--undefined-only", libssh_path()],
                             capture_output=True, text=True, check=True).stdout
    want = {l.split()[-1] for l in imports.splitlines()
            if l.split()[-1].endswith("@gssapi_krb5_2_MIT")}
    assert len(want) > 10, imports
    defined = subprocess.run(["nm", "-D", "--defined-only", stub], capture_output=True,
                             text=True, check=True).stdout
    have = {l.split()[-1].replace("@@", "@") for l in defined.splitlines()}
    assert want <= have, sorted(want - have)


def test_nogssapi_keeps_kerberos_out():
    """As the front loads them (main.c, load_net_part): the stand-in, then
    libssh, in a process of their own; then no Kerberos library is mapped,
    while loading libssh alone maps it."""
    probe = (
        "import ctypes, os, sys\n"
        "if sys.argv[1]: ctypes.CDLL(sys.argv[1], mode=os.RTLD_NOW | os.RTLD_LOCAL)\n"
        "ctypes.CDLL(sys.argv[2], mode=os.RTLD_NOW | os.RTLD_LOCAL)\n"
        "print(open('/proc/self/maps').read())\n")

    def maps(stub):
        return subprocess.run([sys.executable, "-c", probe, stub, libssh_path()],
                              capture_output=True, text=True, check=True).stdout

    krb5 = re.compile(r"/lib(gssapi_krb5|krb5|k5crypto|krb5support)\.so")
    assert krb5.search(maps("")), "the control: libssh alone loads Kerberos"
    m = maps(path("sshand-nogssapi.so"))
    assert "/libssh.so" in m and "/sshand-nogssapi.so" in m, m
    assert not krb5.search(m), m
