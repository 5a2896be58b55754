"""What each program is linked with, as ldd and the dynamic section show it.

sshandctl reads the journal through libsystemd; the per-connection
programs never load it: sshand's front links libc and nothing else (that
keeps turning a banned address away cheap), and its two halves load only
what they need (libssh and OpenSSL, PAM and libcap-ng), never libsystemd.

Needs nothing but the build and binutils, so it also runs alone:
    SSHAND_BUILD=$PWD/build /usr/bin/python3 -m pytest --noconftest \
        tests/integration/test_linkage.py
"""

import os
import re
import subprocess

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
