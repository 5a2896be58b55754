#!/usr/bin/env bash
# Unpack the peer servers (Dropbear, tinysshd; OpenSSH's sshd too if it is
# not on the machine) from their Debian packages into CACHE/root without
# installing them: no maintainer script runs, no service is enabled.  Only
# shared libraries they lack are installed, with apt-get.
# Usage: bench/peers.sh CACHE
set -euo pipefail
cache=${1:?usage: peers.sh CACHE}
root=$cache/root
debs=$cache/debs
mkdir -p "$debs" "$root"

pkgs=(dropbear-bin tinysshd)
[ -x /usr/sbin/sshd ] || pkgs+=(openssh-server)
[ -x /usr/lib/openssh/sftp-server ] || pkgs+=(openssh-sftp-server)

need=()
for p in "${pkgs[@]}"; do
	ls "$debs/${p}"_*.deb >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "bench: fetching ${need[*]} (download only, not installed)" >&2
	# apt's sandbox user cannot write our cache; download from a temp dir.
	tmp=$(mktemp -d)
	chmod 755 "$tmp"
	if ! (cd "$tmp" && apt-get download -qq "${need[@]}" >/dev/null 2>&1); then
		apt-get update -qq >/dev/null
		(cd "$tmp" && apt-get download -qq "${need[@]}" >/dev/null)
	fi
	mv "$tmp"/*.deb "$debs"/
	rmdir "$tmp"
fi
stamp=$root/.unpacked
for d in "$debs"/*.deb; do
	if [ ! -e "$stamp" ] || [ "$d" -nt "$stamp" ]; then
		dpkg-deb -x "$d" "$root"
	fi
done
touch "$stamp"
v=$(ls "$debs"/tinysshd_*.deb | sed 's/.*tinysshd_\([^_]*\)_.*/\1/')
echo "$v" >"$cache/tinysshd.version"

# Shared libraries the unpacked binaries miss (Dropbear: libtomcrypt1,
# libtommath1), installed as ordinary library packages.
libs=()
for b in "$root"/usr/sbin/* "$root"/usr/bin/*; do
	[ -f "$b" ] || continue
	while read -r lib; do
		case "$lib" in
		libtomcrypt.so.1) libs+=(libtomcrypt1) ;;
		libtommath.so.1) libs+=(libtommath1) ;;
		*) pkg=$(apt-cache search --names-only "^${lib%%.so*}[0-9.-]*$" 2>/dev/null |
			awk 'NR==1{print $1}')
		   [ -n "$pkg" ] && libs+=("$pkg") ;;
		esac
	done < <(ldd "$b" 2>/dev/null | awk '/not found/{print $1}')
done
if [ ${#libs[@]} -gt 0 ]; then
	mapfile -t libs < <(printf '%s\n' "${libs[@]}" | sort -u)
	echo "bench: installing libraries ${libs[*]}" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${libs[@]}" >/dev/null
fi
