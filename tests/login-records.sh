# Sourced by tests/integration/run and tests/demo/run, inside their private
# mount namespace: gives it login records of its own (who, w, last, lastb,
# lastlog, "Last login"), so that sshand's sessions never write the host's.
#
# /var/log becomes an empty tmpfs with the record files as Debian makes
# them (and journal/, over which the journald tests bind their own).
# /run/utmp: the host may have none (no systemd-update-utmp) and the real
# /run must not get one, nor what pam_motd writes there
# (/run/motd.dynamic): /run becomes a tmpfs holding the real /run's
# entries, each bound back in place, and a fresh utmp.
#
# private_login_records SCRATCH_DIR   (an empty directory to work in)
private_login_records() {
	local old=$1/oldrun e n
	mount -t tmpfs -o mode=0755,size=256m tmpfs /var/log
	install -d -m 2755 -g systemd-journal /var/log/journal 2>/dev/null ||
		install -d /var/log/journal
	install -m 0664 -g utmp /dev/null /var/log/wtmp
	install -m 0664 -g utmp /dev/null /var/log/lastlog
	install -m 0660 -g utmp /dev/null /var/log/btmp

	mkdir "$old"
	mount --rbind /run "$old"
	mount -t tmpfs -o mode=0755,size=64m tmpfs /run
	for e in "$old"/* "$old"/.[!.]*; do
		[ -e "$e" ] || [ -L "$e" ] || continue
		n=${e##*/}
		# Not the host's utmp and motd.dynamic; nor what mount(8) made
		# in the new /run (mount/utab describes this namespace's mounts).
		case $n in utmp|motd.dynamic|motd.dynamic.new) continue ;; esac
		{ [ -e "/run/$n" ] || [ -L "/run/$n" ]; } && continue
		if [ -L "$e" ]; then
			cp -P "$e" "/run/$n"
		elif [ -d "$e" ]; then
			mkdir "/run/$n"
			mount --rbind "$e" "/run/$n"
		else
			touch "/run/$n"
			mount --bind "$e" "/run/$n"
		fi
	done
	umount -R "$old"
	rmdir "$old"
	install -m 0664 -g utmp /dev/null /run/utmp
}
