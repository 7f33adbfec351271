#!/usr/bin/env bash
# check-guest.sh OUTDIR: checks the Linux guest build-guest.sh made: a
# bzImage, its ELF with the PVH entry note, and an initramfs holding /init,
# busybox, the guest tests and every module load.list names, with an
# isovm.ko built for the packaged kernel.
set -euo pipefail
exec </dev/null
export LC_ALL=C

out=$(cd "${1:?usage: check-guest.sh OUTDIR}" && pwd)
fails=0

check() {
	local what=$1

	shift
	if "$@" >/dev/null 2>&1; then
		echo "ok:   $what"
	else
		echo "FAIL: $what"
		fails=$((fails + 1))
	fi
}

# Output captured first: grep -q closing the pipe early would fail it.
has_pvh_note() {
	local notes

	notes=$(readelf -n "$out/vmlinux")
	grep -Eq <<<"$notes" \
	    'Xen[[:space:]]+0x[0-9a-f]+[[:space:]]+(XEN_ELFNOTE_PHYS32_ENTRY|Unknown note type: \(0x00000012\))'
}

# "HdrS" at 0x202: the x86 boot protocol header.
is_bzimage() {
	[ "$(dd if="$out/vmlinuz" bs=1 skip=514 count=4 status=none)" = HdrS ]
}

is_elf64() {
	[ "$(od -An -tx1 -N5 "$out/vmlinux" | tr -d ' ')" = 7f454c4602 ]
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && gzip -dc "$out/initramfs.cpio.gz" |
	cpio -id --quiet --no-absolute-filenames)

modules_listed() {
	local m

	[ -s "$tmp/lib/modules/load.list" ] || return 1
	while read -r m; do
		[ -f "$tmp/lib/modules/$m.ko" ] || return 1
	done <"$tmp/lib/modules/load.list"
}

# Each module comes after every module it depends on.
modules_ordered() {
	local m d seen=" "

	while read -r m; do
		for d in $(modinfo -F depends "$tmp/lib/modules/$m.ko" |
			   tr ',' ' '); do
			case "$seen" in *" ${d//-/_} "*) ;; *) return 1 ;; esac
		done
		seen="$seen$m "
	done <"$tmp/lib/modules/load.list"
}

# isovm.ko and the kernel's own virtio.ko carry the same vermagic.
isovm_matches_kernel() {
	local a b

	a=$(modinfo -F vermagic "$tmp/lib/modules/isovm.ko")
	b=$(modinfo -F vermagic "$tmp/lib/modules/virtio.ko")
	[ -n "$a" ] && [ "$a" = "$b" ]
}

isovm_has_device_param() {
	local parms

	parms=$(modinfo -F parm "$tmp/lib/modules/isovm.ko")
	grep -q '^device:' <<<"$parms"
}

# No program interpreter, nothing needed: runs on a bare initramfs.
helper_is_static() {
	local hdrs

	hdrs=$(readelf -l -d "$tmp/usr/bin/isovm-blkpattern")
	! grep -q -e 'program interpreter' -e '(NEEDED)' <<<"$hdrs"
}

# Runs without a disk: a malformed device name must be a clean failure.
helper_refuses_bad_keys() {
	local line

	line=$("$tmp/usr/bin/isovm-blkpattern" ../vda 1) && return 1
	grep -q '^ISOVM-TEST name=blk-pattern status=fail reason=bad-keys' \
		<<<"$line"
}

# The initramfs's loader, told to look in the initramfs only, finds
# every library /usr/bin/$1 needs there (the host's directories are its
# fallback, so each path is checked).
libs_inside() {
	local list

	list=$("$tmp/lib64/ld-linux-x86-64.so.2" --library-path \
	       "$tmp/lib/x86_64-linux-gnu" --list "$tmp/usr/bin/$1") ||
		return 1
	grep -q '=>' <<<"$list" || return 1
	! grep '=>' <<<"$list" | grep -v "=> $tmp/lib"
}

# /usr/bin/$1 --version runs from the initramfs and prints a line
# matching $2: in a chroot of it when root (no host library can stand
# in), else through its loader.
starts() {
	local v

	if [ "$(id -u)" -eq 0 ]; then
		v=$(chroot "$tmp" "/usr/bin/$1" --version)
	else
		v=$("$tmp/lib64/ld-linux-x86-64.so.2" --library-path \
		    "$tmp/lib/x86_64-linux-gnu" "$tmp/usr/bin/$1" --version)
	fi
	grep -q -- "$2" <<<"$v"
}

check "vmlinuz is a bzImage" is_bzimage
check "vmlinux is an ELF64" is_elf64
check "vmlinux has XEN_ELFNOTE_PHYS32_ENTRY" has_pvh_note
check "initramfs /init is executable" test -x "$tmp/init"
check "initramfs has busybox" test -x "$tmp/bin/busybox"
check "initramfs sh links to busybox" test -L "$tmp/bin/sh"
check "initramfs has the info test" test -x "$tmp/lib/isovm/tests/info"
for m in virtio virtio_ring virtio_mmio virtio_blk failover net_failover \
	 virtio_net virtio_console isovm; do
	check "load.list names $m" grep -qx "$m" "$tmp/lib/modules/load.list"
done
check "every listed module is present" modules_listed
check "modules load after their dependencies" modules_ordered
check "isovm.ko vermagic matches the kernel" isovm_matches_kernel
check "isovm.ko takes device=" isovm_has_device_param
check "initramfs has the blk-pattern test" \
	test -x "$tmp/lib/isovm/tests/blk-pattern"
check "initramfs has the fio test" test -x "$tmp/lib/isovm/tests/fio"
for t in fio-verify blk-sync blk-ro reboot panic net-ping net-iperf \
	 net-responder; do
	check "initramfs has the $t test" test -x "$tmp/lib/isovm/tests/$t"
done
check "isovm-blkpattern is a static executable" helper_is_static
check "isovm-blkpattern refuses bad keys" helper_refuses_bad_keys
check "initramfs has fio and the dynamic loader" \
	test -x "$tmp/usr/bin/fio" -a -x "$tmp/lib64/ld-linux-x86-64.so.2"
check "fio's libraries all resolve inside the initramfs" libs_inside fio
check "fio starts with the initramfs's own libraries" starts fio '^fio-[0-9]'
check "initramfs has the network tests' shared steps" \
	test -f "$tmp/lib/isovm/net.sh"
check "initramfs has iperf3" test -x "$tmp/usr/bin/iperf3"
check "iperf3's libraries all resolve inside the initramfs" \
	libs_inside iperf3
check "iperf3 starts with the initramfs's own libraries" \
	starts iperf3 '^iperf 3\.'

if [ "$fails" -ne 0 ]; then
	echo "check-guest: $fails check(s) failed"
	exit 1
fi
echo "check-guest: all checks passed"
