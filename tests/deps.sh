#!/usr/bin/env bash
# Installs the Debian packages a make target needs, only when missing.
# Usage: tests/deps.sh build|test|fuzz|run|bench
set -euo pipefail

# libhiredis-dev: sshandctl's fleet store (bans fleet-sync), nothing else.
build=(gcc make pkg-config libssh-dev libcap-ng-dev
       libseccomp-dev libpam0g-dev libcmocka-dev libssl-dev libsystemd-dev
       libhiredis-dev)
runtime=(openssh-client util-linux systemd openssl procps)
# The Debian package's test (test_debian_package.py) builds the package
# (dpkg-dev, debhelper, lintian), a Debian tree (mmdebstrap) and boots it
# (systemd-nspawn, from systemd-container).  redis-server: the fleet
# store's test (test_bans_fleet.py), which starts its own on a private
# address (the package's own server is not started on these machines:
# systemd is not PID 1 and policy-rc.d denies it).
test=(openssh-sftp-server sshpass python3 python3-pytest python3-paramiko
      putty-tools rsync expect tmux iproute2 psmisc keyutils curl mosh nodejs
      xauth xvfb x11-utils libpam-oath oathtool sudo iputils-ping passwd
      filezilla nftables git dpkg-dev debhelper lintian mmdebstrap
      systemd-container redis-server strace)
bench=(hyperfine iproute2)
# libFuzzer (make fuzz, and its smoke in make test): clang, and the
# compiler-rt archives with libclang_rt.fuzzer (not a dependency of clang,
# only recommended).
fuzz=(clang libclang-rt-dev)

want=("${build[@]}")
case "${1:-build}" in
build) ;;
run) want+=("${runtime[@]}" openssh-sftp-server) ;;
test) want+=("${runtime[@]}" "${test[@]}" "${fuzz[@]}") ;;
fuzz) want+=("${fuzz[@]}") ;;
bench) want+=("${runtime[@]}" "${test[@]}" "${fuzz[@]}" "${bench[@]}") ;;
*) echo "usage: $0 build|test|fuzz|run|bench" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done
node_deps() {
	# Node ssh2, a client the integration tests drive: Debian has no
	# package of it; npm installs the version tests/node/package.json
	# names, into tests/node/node_modules (ignored by git).
	[ "$1" = test ] || [ "$1" = bench ] || return 0
	local dir
	dir="$(cd "$(dirname "$0")" && pwd)/node"
	[ -f "$dir/node_modules/ssh2/package.json" ] && return 0
	if ! command -v npm >/dev/null; then
		# Debian's nodejs comes without npm; other builds of it bundle it.
		echo "deps: installing npm" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		    --no-install-recommends npm >/dev/null
	fi
	echo "deps: installing Node ssh2 (npm)" >&2
	(cd "$dir" && npm install --no-audit --no-fund --silent >/dev/null)
}

peers() {
	# OpenSSH's sshd beside sshand (test_login_records.py compares their
	# records), unpacked from Debian's package without installing it: no
	# service is started (bench/peers.sh; make bench uses the same cache).
	[ "$1" = test ] || return 0
	[ -x /usr/sbin/sshd ] || [ -x /var/cache/sshand-bench/root/usr/sbin/sshd ] && return 0
	[ "$(id -u)" -eq 0 ] || return 0
	"$(dirname "$0")/../bench/peers.sh" /var/cache/sshand-bench
}

if [ ${#missing[@]} -eq 0 ]; then
	node_deps "${1:-build}"
	peers "${1:-build}"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages: ${missing[*]}" >&2
	echo "deps: run as root, or: apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
node_deps "${1:-build}"
peers "${1:-build}"
