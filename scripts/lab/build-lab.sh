#!/usr/bin/env bash
# build-lab.sh OUTDIR GUESTDIR: builds the KVM lab's initramfs into OUTDIR
# from the Debian kernel and busybox that the Linux guest build in GUESTDIR
# pinned and cached (GUESTDIR/.apt-resolved, GUESTDIR/cache): the same
# kernel (GUESTDIR/vmlinux, booted through its PVH entry) boots the lab, with kvm_amd, virtio-pci, 9p, ext4, tun, bridge and
# veth. Keyed on those versions and on this folder's sources; when nothing
# moved it only says so.
set -euo pipefail
exec </dev/null
export LC_ALL=C

if [ $# -ne 2 ]; then
	echo "usage: $0 OUTDIR GUESTDIR" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
kmod_sh=$(cd "$here/../../guest-drivers/linux" && pwd)/kmod.sh
mkdir -p "$1"
out=$(cd "$1" && pwd)
guest=$(cd "$2" && pwd)
work=$out/work
stamp=$out/.build-stamp

die() {
	echo "build-lab: error: $*" >&2
	exit 1
}
. "$kmod_sh"

exec 9>"$out/.lock"
flock 9

resolved=$guest/.apt-resolved
[ -f "$resolved" ] || die "no $resolved: build the Linux guest first"
abi=$(sed -n 2p "$resolved")
img=$(grep "^linux-image-$abi=" "$resolved") || die "no kernel in $resolved"
bb=$(grep '^busybox-static=' "$resolved") || die "no busybox in $resolved"
# Prints the cached .deb of "pkg=version" $1.
deb_of() {
	local p=${1%%=*} v=${1#*=} f

	f=$guest/cache/${p}_${v//:/%3a}.deb
	[ -f "$f" ] || die "$f missing: build the Linux guest first"
	echo "$f"
}
src_hash=$(cd "$here" && sha256sum build-lab.sh init "$kmod_sh" |
	   sed "s|$kmod_sh|kmod.sh|" | sha256sum | cut -d' ' -f1)
key=$(printf '%s\n' "$img" "$bb" "sources=$src_hash")
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ] &&
   [ -f "$out/initramfs.cpio" ]; then
	exit 0
fi
echo "build-lab: building the lab for linux-image-$abi"

rm -rf "$work"
mkdir -p "$work/root"
dpkg-deb -x "$(deb_of "$img")" "$work/root"
dpkg-deb -x "$(deb_of "$bb")" "$work/root"

ird=$work/initramfs
mkdir -p "$ird"/{proc,sys,dev,root,lib/modules}
busybox_tree "$work/root/bin/busybox" "$ird"
kmod_index "$work/root/lib/modules/$abi"
# kvm_amd offers /dev/kvm on the emulated AMD-V CPU; virtio-pci, 9p and
# virtio-console reach the host; ext4 on virtio-blk is the scratch disk
# (O_DIRECT, sockets, fifos); tun, bridge and veth are for network tests.
kmod_want kvm_amd virtio_pci virtio_blk virtio_console 9pnet_virtio 9p \
	  crc32c_generic ext4 tun bridge veth
kmod_copy "$ird/lib/modules"
printf '%s\n' "${kmod_order[@]}" >"$ird/lib/modules/load.list"
install -m 0755 "$here/init" "$ird/init"
# Uncompressed: gunzip under TCG costs a second of the lab's start.
cpio_pack "$ird" "$work/initramfs.cpio"

mv -f "$work/initramfs.cpio" "$out/initramfs.cpio"
printf '%s\n' "$key" >"$stamp"
rm -rf "$work"
echo "build-lab: done: $out (modules: ${kmod_order[*]})"
