#!/usr/bin/env bash
# Installs the Debian packages a make target needs, only when missing.
# Usage: tests/deps.sh build|test|fuzz|run|bench
set -euo pipefail

build=(gcc make pkg-config libssh-dev libcap-ng-dev
       libseccomp-dev libpam0g-dev libcmocka-dev libssl-dev libsystemd-dev)
runtime=(openssh-client util-linux systemd openssl procps)
test=(openssh-sftp-server sshpass python3 python3-pytest python3-paramiko
      putty-tools rsync expect tmux iproute2 psmisc keyutils curl mosh)
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
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages: ${missing[*]}" >&2
	echo "deps: run as root, or: apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
