"""Host private keys stay with the key holder (issue 14).

No process that parses network input holds a host private key: the
network child serves the public keys and asks the monitor, which asks the
key holder, to sign each exchange hash.  Read as root through
/proc/PID/mem, the network child's memory (and the monitor's) holds no
byte sequence of any private key, while the key holder's does (the scan
finds keys where they are) and the network child holds the public keys.
Every key type still works with the OpenSSH client, and so do rekeys.
"""
import os
import subprocess

import pytest

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

import harness
from harness import HOST, PRIVSEP_UID, PtyClient, wait_for


def _le(n):
    """n as OpenSSL's BIGNUMs hold it on x86-64: little-endian words."""
    return n.to_bytes((n.bit_length() + 7) // 8, "little")


def _be(n):
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def key_material(path):
    """({name: private byte strings}, {name: public byte strings}) of the
    host key in path, in every encoding a process might hold them in."""
    with open(path, "rb") as f:
        k = serialization.load_ssh_private_key(f.read(), None)
    secret, public = {}, {}
    if isinstance(k, ed25519.Ed25519PrivateKey):
        secret["ed25519 seed"] = [k.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
            serialization.NoEncryption())]
        public["ed25519 public key"] = [k.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)]
    elif isinstance(k, ec.EllipticCurvePrivateKey):
        d = k.private_numbers().private_value
        secret["ecdsa scalar"] = [_be(d), _le(d)]
        public["ecdsa public key blob"] = [k.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)]
    elif isinstance(k, rsa.RSAPrivateKey):
        n = k.private_numbers()
        for name, v in (("rsa d", n.d), ("rsa p", n.p), ("rsa q", n.q)):
            secret[name] = [_be(v), _le(v)]
        public["rsa modulus"] = [_be(n.public_numbers.n), _le(n.public_numbers.n)]
    # The ECDSA control is the base64 text libssh holds; the others raw.
    if "ecdsa public key blob" in public:
        import base64
        text = public["ecdsa public key blob"][0].split()[1]
        public["ecdsa public key blob"] = [base64.b64decode(text)]
    return secret, public


def memory(pid):
    """Every readable mapping of pid, as root reads it (/proc/PID/mem)."""
    chunks = []
    with open("/proc/%d/maps" % pid) as maps:
        regions = [l.split() for l in maps]
    fd = os.open("/proc/%d/mem" % pid, os.O_RDONLY)
    try:
        for r in regions:
            lo, hi = (int(x, 16) for x in r[0].split("-"))
            name = r[5] if len(r) > 5 else ""
            if r[1][0] != "r" or name in ("[vvar]", "[vsyscall]"):
                continue
            try:
                chunks.append(os.pread(fd, hi - lo, lo))
            except OSError:
                continue
    finally:
        os.close(fd)
    return b"\0".join(chunks)


def found(mem, material):
    return sorted(name for name, forms in material.items()
                  if any(f in mem for f in forms))


children = harness.children


def connection_processes(s):
    """(monitor, network child, key holder) of the only connection: the
    monitor is the guardian's child."""
    def look():
        conns = s.connections()
        if len(conns) != 1 or len(children(conns[0])) != 1:
            return None
        mon = children(conns[0])[0]
        kids = children(mon)
        net = [k for k in kids if harness.proc_status(k) and
               harness.proc_status(k)["Uid"].split()[0] == str(PRIVSEP_UID)]
        keys = [k for k in kids if harness.is_keyholder(harness.proc_status(k))]
        return (mon, net[0], keys[0]) if len(net) == 1 and len(keys) == 1 else None
    found_ = wait_for(look, 15)
    assert found_, "no monitor/network child/key holder; log:\n" + s.log()[-3000:]
    return found_


def at_password_prompt(s):
    argv = s.ssh_common() + ["-o", "PreferredAuthentications=password",
                             "-o", "PubkeyAuthentication=no",
                             "-o", "NumberOfPasswordPrompts=1",
                             "alice@%s" % HOST, "--", "echo logged-in"]
    c = PtyClient(argv)
    c.expect(r"password: ", 20)
    return c


def test_no_private_key_in_network_child_memory(server, keys):
    """The issue's first proof: at the password prompt (key exchange done,
    the client's bytes parsed), no private key in the network child or the
    monitor; all of them in the key holder; public keys in the child."""
    s = server()
    secret, public = {}, {}
    for t in keys.HOST:
        sec, pub = key_material(keys.host(t))
        secret.update(sec)
        public.update(pub)
    assert set(secret) == {"ed25519 seed", "ecdsa scalar", "rsa d", "rsa p", "rsa q"}
    c = at_password_prompt(s)
    try:
        mon, net, holder = connection_processes(s)
        net_mem, mon_mem, holder_mem = memory(net), memory(mon), memory(holder)
        assert found(net_mem, secret) == [], "private key bytes in the network child"
        assert found(mon_mem, secret) == [], "private key bytes in the monitor"
        # Controls: the scan finds keys where they are.
        assert found(holder_mem, secret) == sorted(secret)
        assert {"ed25519 public key", "rsa modulus"} <= set(found(net_mem, public)), \
            found(net_mem, public)
        c.send(harness.password("alice") + "\n")
        c.expect(r"logged-in", 20)
        assert c.wait(15) == 0
    finally:
        c.close()


def test_keyholder_confined_and_ends_with_the_connection(server):
    s = server()
    c = at_password_prompt(s)
    try:
        mon, net, holder = connection_processes(s)
        st = harness.proc_status(holder)
        assert harness.keyholder_problems(st) == [], st
        # Not dumpable: its /proc files are root's even for ptrace checks,
        # and it holds no network socket: one unix socketpair end at most
        # beside /dev/null and the log.
        tcp_inodes = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(table) as f:
                tcp_inodes |= {l.split()[9] for l in list(f)[1:]}
        fds = {fd: os.readlink("/proc/%d/fd/%s" % (holder, fd))
               for fd in os.listdir("/proc/%d/fd" % holder)}
        sockets = [t for t in fds.values() if t.startswith("socket:")]
        assert not [t for t in sockets if t[8:-1] in tcp_inodes], fds
        assert len(sockets) == 1, fds
        c.send(harness.password("alice") + "\n")
        c.expect(r"logged-in", 20)
        assert c.wait(15) == 0
        def holder_gone():
            st = harness.proc_status(holder)      # read once: it may go between
            return st is None or st.get("State", "").startswith("Z")
        assert wait_for(holder_gone, 10), (holder, harness.proc_status(holder),
                                           s.log()[-2000:])
    finally:
        c.close()


def known_hosts_with(s, keys, path):
    with open(path, "w") as out:
        for t in keys.HOST:
            with open(keys.host(t) + ".pub") as f:
                typ, b64 = f.read().split()[:2]
            out.write("[%s]:%d %s %s\n" % (HOST, s.port, typ, b64))


def test_every_host_key_algorithm(server, keys, tmp_path):
    """Each algorithm, with the client checking the host key against the
    published public keys (StrictHostKeyChecking yes): signatures the key
    holder made verify under the keys the client knows."""
    s = server()
    kh = str(tmp_path / "known_hosts")
    known_hosts_with(s, keys, kh)
    for alg in ("ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-256", "rsa-sha2-512"):
        argv = ["ssh", "-F", "/dev/null", "-p", str(s.port),
                "-o", "UserKnownHostsFile=" + kh, "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", "StrictHostKeyChecking=yes", "-o", "HostKeyAlgorithms=" + alg,
                "-o", "LogLevel=DEBUG1"] + s.key_opts("alice_ed25519") + \
               ["alice@%s" % HOST, "--", "echo via-" + alg]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                           env=harness.client_env())
        assert r.returncode == 0 and r.stdout == "via-%s\n" % alg, (alg, r.stderr[-2000:])
        assert "Server host key: %s " % alg.replace("rsa-sha2-256", "ssh-rsa").replace(
            "rsa-sha2-512", "ssh-rsa") in r.stderr, r.stderr[-2000:]


def newkeys(stderr):
    return stderr.count("SSH2_MSG_NEWKEYS received")


def test_rekeys_after_login(server):
    """After login each rekey is one more signature (the key holder signs
    again; only before login is a second one refused).  Both sides start
    them: the client's RekeyLimit and the server's."""
    for who, extra, opts in (("client", "", ["RekeyLimit=256K"]),
                             ("server", "RekeyLimit 262144\n", [])):
        s = server(extra)
        r = subprocess.run(s.ssh_argv("alice", "head -c 3000000 /dev/zero",
                                      opts=opts, flags=["-v"]),
                           capture_output=True, timeout=120, env=harness.client_env())
        err = r.stderr.decode(errors="replace")
        assert r.returncode == 0 and len(r.stdout) == 3000000, (who, err[-2000:])
        assert newkeys(err) >= 3, (who, newkeys(err), err[-3000:])


def test_pem_host_keys_served(server, keys, tmp_path):
    """Host keys older ssh-keygen wrote (PEM: PKCS#1, SEC1, PKCS#8) load in
    the key holder and verify against their public halves."""
    made = {}
    for t, fmt, alg in (("rsa", "PEM", "rsa-sha2-512"), ("ecdsa", "PKCS8", "ecdsa-sha2-nistp256")):
        p = str(tmp_path / ("pem_%s_key" % t))
        subprocess.run(["ssh-keygen", "-q", "-t", t, "-m", fmt, "-N", "", "-f", p], check=True)
        made[alg] = p
    # ssh-keygen writes Ed25519 only in its own format: PKCS#8 from OpenSSL.
    k = ed25519.Ed25519PrivateKey.generate()
    p = str(tmp_path / "pem_ed25519_key")
    with open(p, "wb") as f:
        f.write(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()))
    with open(p + ".pub", "wb") as f:
        f.write(k.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                            serialization.PublicFormat.OpenSSH) + b"\n")
    os.chmod(p, 0o600)
    made["ssh-ed25519"] = p
    for p in made.values():
        with open(p) as f:
            assert "OPENSSH" not in f.read()
    s = server()
    # Only these: the first key of each type is the one served.  The
    # configuration is read per connection, so rewriting it is enough.
    with open(s.conf) as f:
        lines = [l for l in f if not l.startswith("HostKey ")]
    with open(s.conf, "w") as f:
        f.write("".join("HostKey %s\n" % p for p in made.values()) + "".join(lines))
    r = subprocess.run([os.path.join(harness.BUILD, "sshand"), "-t", "-f", s.conf],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    kh = str(tmp_path / "known_hosts")
    with open(kh, "w") as out:
        for p in made.values():
            with open(p + ".pub") as f:
                typ, b64 = f.read().split()[:2]
            out.write("[%s]:%d %s %s\n" % (HOST, s.port, typ, b64))
    for alg in made:
        argv = ["ssh", "-F", "/dev/null", "-p", str(s.port), "-o", "UserKnownHostsFile=" + kh,
                "-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes",
                "-o", "HostKeyAlgorithms=" + alg] + s.key_opts("alice_ed25519") + \
               ["alice@%s" % HOST, "--", "echo pem-ok"]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                           env=harness.client_env())
        assert r.returncode == 0 and r.stdout == "pem-ok\n", (alg, r.stderr)


def _swap_public_half(src, other, dst):
    """An OpenSSH key file whose stated public key is another key's."""
    import base64
    import struct

    def body(path):
        lines = open(path).read().strip().splitlines()
        return base64.b64decode("".join(lines[1:-1]))

    def public_blob(raw):
        off = 15                        # "openssh-key-v1\0"
        for _ in range(3):              # cipher, kdf, kdf options
            n, = struct.unpack(">I", raw[off:off + 4])
            off += 4 + n
        off += 4                        # number of keys
        n, = struct.unpack(">I", raw[off:off + 4])
        return off, 4 + n

    a, b = body(src), body(other)
    oa, la = public_blob(a)
    ob, lb = public_blob(b)
    assert la == lb
    mixed = a[:oa] + b[ob:ob + lb] + a[oa + la:]
    text = base64.b64encode(mixed).decode()
    with open(dst, "w") as f:
        f.write("-----BEGIN OPENSSH PRIVATE KEY-----\n")
        f.write("\n".join(text[i:i + 70] for i in range(0, len(text), 70)))
        f.write("\n-----END OPENSSH PRIVATE KEY-----\n")
    os.chmod(dst, 0o600)


@pytest.mark.parametrize("kind", ["passphrase", "mismatch", "garbage", "directory"])
def test_bad_host_key_named_with_reason(tmp_path, kind):
    """sshand -t loads host keys as the key holder does: a key it cannot
    serve is named, with the reason, and the exit status is 1."""
    p = tmp_path / "bad_key"
    if kind == "passphrase":
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret", "-f", str(p)],
                       check=True)
        want = "passphrase"
    elif kind == "mismatch":
        for n in ("one", "two"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                            str(tmp_path / n)], check=True)
        _swap_public_half(str(tmp_path / "one"), str(tmp_path / "two"), str(p))
        want = "does not match"
    elif kind == "garbage":
        p.write_bytes(os.urandom(2048))
        p.chmod(0o600)
        want = "not a private key"
    else:
        p.mkdir()
        want = "not a key file"
    conf = tmp_path / "sshand.conf"
    conf.write_text("LogLevel INFO\nHostKey %s\n" % p)
    r = subprocess.run([os.path.join(harness.BUILD, "sshand"), "-t", "-f", str(conf)],
                       capture_output=True, text=True)
    assert r.returncode == 1, r.stderr
    # At the line that names it, as every other configuration error.
    assert "%s:2: HostKey %s cannot be loaded" % (conf, p) in r.stderr, r.stderr
    assert want in r.stderr, r.stderr


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_host_key_open_to_others_refused(tmp_path, mode):
    """sshd's rule (sshkey_perm_ok): a private key of ours that the group or
    others may access is refused, with sshd's words; 0600 and 0400 load."""
    p = tmp_path / "open_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(p)], check=True)
    conf = tmp_path / "sshand.conf"
    conf.write_text("HostKey %s\n" % p)
    argv = [os.path.join(harness.BUILD, "sshand"), "-t", "-f", str(conf)]
    for ok in (0o600, 0o400):
        p.chmod(ok)
        r = subprocess.run(argv, capture_output=True, text=True)
        assert r.returncode == 0, (oct(ok), r.stderr)
    p.chmod(mode)
    r = subprocess.run(argv, capture_output=True, text=True)
    assert r.returncode == 1, r.stderr
    assert "%s:1: HostKey %s cannot be loaded" % (conf, p) in r.stderr, r.stderr
    assert "Permissions 0%o for '%s' are too open." % (mode, p) in r.stderr, r.stderr
    assert "It is required that your private key files are NOT accessible by others." \
        in r.stderr, r.stderr


def test_host_key_open_to_others_not_served(server, tmp_path):
    """At start-up the key holder skips a key others may read, saying why at
    its line; the other keys are still served, and with none left no client
    gets in."""
    s = server()
    p = tmp_path / "open_ed25519_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(p)], check=True)
    p.chmod(0o644)
    with open(s.conf) as f:
        lines = f.readlines()
    rsa = [l for l in lines if l.startswith("HostKey ") and "rsa" in l]
    rest = [l for l in lines if not l.startswith("HostKey ")]
    assert rsa, lines
    # First the open key, then a good RSA key: only RSA is offered.
    with open(s.conf, "w") as f:
        f.write("HostKey %s\n" % p + rsa[0] + "".join(rest))
    r = subprocess.run(["ssh-keyscan", "-T", "10", "-p", str(s.port), HOST],
                       capture_output=True, text=True, timeout=60)
    types = {l.split()[1] for l in r.stdout.splitlines() if not l.startswith("#")}
    assert types == {"ssh-rsa"}, (types, r.stderr)
    assert harness.wait_for(lambda: "%s:1: HostKey %s: Permissions 0644" % (s.conf, p)
                            in s.log(), 10), s.log()[-3000:]
    # The open key alone: nothing to serve, nobody gets in.
    with open(s.conf, "w") as f:
        f.write("HostKey %s\n" % p + "".join(rest))
    r = s.ssh("alice", "echo in")
    assert r.returncode == 255 and "in" not in r.stdout, r.stderr
