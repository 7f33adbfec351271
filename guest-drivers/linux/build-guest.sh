#!/usr/bin/env bash
# build-guest.sh OUTDIR: builds the Linux guest from Debian packages into
# OUTDIR: vmlinuz, vmlinux (its ELF, with the PVH entry note) and
# initramfs.cpio.gz (busybox, virtio modules, the isovm module, /init,
# the guest tests with their static helper, and Debian's fio and iperf3).
#
# Nothing is installed on the host: packages are fetched with
# `apt-get download` into OUTDIR/cache and unpacked with dpkg-deb. The
# result is keyed on the package versions and a hash of the sources; when
# neither changed the script only says so.
set -euo pipefail
exec </dev/null
export LC_ALL=C

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
abi_dir=$(cd "$here/../abi" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
cache=$out/cache
work=$out/work
stamp=$out/.build-stamp
step="start"

die() {
	echo "build-guest: error: $*" >&2
	exit 1
}
trap 'echo "build-guest: FAILED during: $step" >&2' ERR
. "$here/kmod.sh"

# One build per OUTDIR at a time.
exec 9>"$out/.lock"
flock 9

# --- versions --------------------------------------------------------------

# Prints the candidate version of package $1, or nothing.
candidate() {
	apt-cache policy "$1" 2>/dev/null |
		awk '/^  Candidate:/ { if ($2 != "(none)") print $2; exit }'
}

# Prints the first dependency of package $1 whose name matches regex $2.
dep_matching() {
	apt-cache depends "$1" 2>/dev/null |
		awk -v re="$2" '/^ *\|?Depends: / && $2 ~ re { print $2; exit }'
}

# fio and the packages of the libraries it really uses (see fio_stubs);
# iperf3 and those of all its libraries.
fio_pkgs="fio libc6 libaio1 libnuma1 zlib1g"
iperf_pkgs="iperf3 libiperf0 libsctp1 libssl3"
npkgs=14

resolve_versions() {
	local img hdr common kbuild

	img=$(dep_matching linux-image-amd64 '^linux-image-[0-9].*-amd64$')
	[ -n "$img" ] || return 1
	abi=${img#linux-image-}
	hdr=linux-headers-$abi
	common=$(dep_matching "$hdr" '^linux-headers-.*-common$')
	kbuild=$(dep_matching "$hdr" '^linux-kbuild-')
	[ -n "$common" ] && [ -n "$kbuild" ] || return 1
	pkgs=()
	for p in "$img" "$hdr" "$common" "$kbuild" busybox-static \
		 $fio_pkgs $iperf_pkgs; do
		v=$(candidate "$p")
		[ -n "$v" ] || return 1
		pkgs+=("$p=$v")
	done
}

# What apt's answers depend on: its package lists and the dpkg status.
apt_fingerprint() {
	find /var/lib/apt/lists /var/lib/dpkg/status -maxdepth 1 -type f \
	     \( -name '*_Packages*' -o -name status \) -printf '%p %s %T@\n' |
		sort | sha256sum | cut -d' ' -f1
}

# apt-cache costs a second or so; reuse the last answer while apt's
# inputs are unchanged, so that an up-to-date check stays instant.
resolved=$out/.apt-resolved
fingerprint=$(apt_fingerprint)
step="resolving package versions"
# (An answer for another package list, from an older script, is redone.)
if [ -f "$resolved" ] && [ "$(head -n1 "$resolved")" = "$fingerprint" ] &&
   [ "$(wc -l <"$resolved")" -eq $((npkgs + 2)) ]; then
	mapfile -t pkgs < <(tail -n +3 "$resolved")
	abi=$(sed -n 2p "$resolved")
elif ! resolve_versions; then
	if [ "$(id -u)" -eq 0 ]; then
		echo "build-guest: apt knows no kernel; running apt-get update"
		apt-get update -qq || die "apt-get update failed"
		fingerprint=$(apt_fingerprint)
	fi
	if ! resolve_versions; then
		# Offline, with a finished build: keep what was built.
		if [ -f "$stamp" ] && [ -f "$out/initramfs.cpio.gz" ]; then
			echo "build-guest: warning: cannot resolve package" \
			     "versions; keeping the existing guest" >&2
			exit 0
		fi
		die "cannot resolve the kernel linux-image-amd64 depends on" \
		    "or a version of busybox-static $fio_pkgs $iperf_pkgs" \
		    "(apt-cache depends/policy failed)"
	fi
fi

[ "${#pkgs[@]}" -eq "$npkgs" ] && [ -n "$abi" ] || die "bad $resolved: remove it"
printf '%s\n' "$fingerprint" "$abi" "${pkgs[@]}" >"$resolved"

step="hashing sources"
src_hash=$(cd "$here" &&
	   { find module initramfs -type f -print0 | sort -z |
		     xargs -0 sha256sum
	     sha256sum build-guest.sh kmod.sh "$abi_dir/isovm_abi.h" |
		     sed "s|$abi_dir/||"; } | sha256sum | cut -d' ' -f1)
key=$(printf '%s\n' "${pkgs[@]}" "sources=$src_hash")

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ] &&
   [ -f "$out/vmlinuz" ] && [ -f "$out/vmlinux" ] &&
   [ -f "$out/initramfs.cpio.gz" ]; then
	echo "build-guest: up to date (linux-image-$abi)"
	exit 0
fi
echo "build-guest: building the guest for:" "${pkgs[@]}"

# --- download and unpack ---------------------------------------------------

# Prints the cached .deb of "pkg=version" $1, downloading it when missing.
fetch() {
	local p=${1%%=*} v=${1#*=} deb tmp

	deb=$cache/${p}_${v//:/%3a}.deb
	if [ ! -f "$deb" ]; then
		tmp=$(mktemp -d "$cache/dl.XXXXXX")
		# apt downloads as the unprivileged _apt user when that user
		# may write the target directory; let it.
		if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
			chown _apt "$tmp"
		fi
		if ! (cd "$tmp" && apt-get download -q "$p=$v" >&2); then
			rm -rf "$tmp"
			die "apt-get download $p=$v failed"
		fi
		mv "$tmp"/*.deb "$deb"
		rm -rf "$tmp"
	fi
	[ "$(dpkg-deb -f "$deb" Version)" = "$v" ] ||
		die "$deb does not hold version $v"
	echo "$deb"
}

step="downloading packages"
mkdir -p "$cache"
debs=()
for pv in "${pkgs[@]}"; do
	debs+=("$(fetch "$pv")")
done

step="unpacking packages"
rm -rf "$work"
mkdir -p "$work/root" "$work/user"
# The kernel's packages come first; fio's and iperf3's go to a root of
# their own.
for i in "${!debs[@]}"; do
	if [ "$i" -lt 5 ]; then
		dpkg-deb -x "${debs[$i]}" "$work/root"
	else
		dpkg-deb -x "${debs[$i]}" "$work/user"
	fi
done
root=$work/root
userroot=$work/user

# --- guest test helper -----------------------------------------------------

step="building isovm-blkpattern"
gcc -static -O2 -s -Wall -Wextra -Werror \
    -o "$work/isovm-blkpattern" "$here/initramfs/src/isovm-blkpattern.c"

# --- isovm module ----------------------------------------------------------

step="building the isovm module"
hdrs=$root/usr/src/linux-headers-$abi
[ -f "$hdrs/Makefile" ] || die "no headers for $abi in the packages"
# The flavour Makefile includes the common one by absolute path: point it
# at the unpacked copy. The kbuild symlinks are relative and already fit.
sed -i "s|^include /usr/src/|include $root/usr/src/|" "$hdrs/Makefile"
command -v gcc-12 >/dev/null || die "gcc-12 (the kernel's compiler) missing"
cp -r "$here/module" "$work/module"
# The kernel's config keeps debug info: map the build's own paths out of
# it, so that the module does not depend on where OUTDIR or the tree is.
kcflags="-ffile-prefix-map=$work=/isovm-guest"
kcflags="$kcflags -ffile-prefix-map=$abi_dir=/isovm-abi"
make -s -C "$hdrs" M="$work/module" ISOVM_ABI_DIR="$abi_dir" \
     KCFLAGS="$kcflags" modules
[ -f "$work/module/isovm.ko" ] || die "kbuild made no isovm.ko"

# --- kernel ----------------------------------------------------------------

# Writes the ELF kernel inside bzImage $1 to $2. The compressed payload
# starts payload_offset bytes (boot header 0x248) after the setup code,
# whose size is (setup_sects + 1) * 512; its magic names the compressor.
vmlinux_extract() {
	local img=$1 dst=$2 sects off len magic

	sects=$(od -An -tu1 -j 0x1f1 -N1 "$img" | tr -d ' ')
	[ "$sects" -ne 0 ] || sects=4
	off=$(( (sects + 1) * 512 + $(od -An -tu4 -j 0x248 -N4 "$img") ))
	len=$(od -An -tu4 -j 0x24c -N4 "$img" | tr -d ' ')
	magic=$(od -An -tx1 -j "$off" -N6 "$img" | tr -d ' \n')
	payload() {
		dd if="$img" iflag=skip_bytes,count_bytes skip="$off" \
		   count="$len" bs=1M status=none
	}
	case "$magic" in
	fd377a585a00) payload | xz -dc --single-stream >"$dst" ;;
	1f8b*) payload | gzip -dc >"$dst" 2>/dev/null || [ -s "$dst" ] ;;
	28b52ffd*) payload | zstd -dcq >"$dst" ;;
	5d0000*) payload | xz -dc --format=lzma >"$dst" 2>/dev/null ||
			 [ -s "$dst" ] ;;
	*) die "unknown kernel payload magic $magic at offset $off" ;;
	esac
	[ "$(od -An -tx1 -N4 "$dst" | tr -d ' ')" = 7f454c46 ] ||
		die "decompressed kernel is not an ELF"
}

step="extracting vmlinux"
vmlinux_extract "$root/boot/vmlinuz-$abi" "$work/vmlinux"
# XEN_ELFNOTE_PHYS32_ENTRY is note type 18 of owner "Xen".
# Older binutils do not name it. (Read first: grep -q would cut the pipe.)
notes=$(readelf -n "$work/vmlinux")
grep -Eq 'Xen[[:space:]]+0x[0-9a-f]+[[:space:]]+(XEN_ELFNOTE_PHYS32_ENTRY|Unknown note type: \(0x00000012\))' <<<"$notes" ||
	die "vmlinux has no Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)"
cp "$root/boot/vmlinuz-$abi" "$work/vmlinuz"

# --- fio ------------------------------------------------------------------

# Debian links fio against the libraries of every engine it builds (ceph,
# gluster, nbd, rdma, pmem: some 80 MB with their own dependencies) and
# binds them at start-up (BIND_NOW). The guest uses libaio only, so those
# get stand-ins: a library with the same soname and symbol versions whose
# every function that fio imports from it is a ud2 (a loud SIGILL, should
# an engine nobody asked for ever run).
fio_stubs="libgfapi.so.0 libnbd.so.0 libibverbs.so.1 librdmacm.so.1"
fio_stubs="$fio_stubs librados.so.2 librbd.so.1 libpmemblk.so.1 libpmem.so.1"

# Builds the stand-in for soname $2 of binary $1 into directory $3.
# Versioned imports name their library through the version; unversioned
# ones (librados, librbd) go by their prefix (rados_, rbd_).
fio_stub() {
	local bin=$1 so=$2 dir=$3 vers syms s n v pre

	vers=$(readelf -V -W "$bin" |
	       awk -v so="$so" '/File:/ { f = $5 }
				 /Name:/ && f == so { print $3 }')
	syms=$(readelf --dyn-syms -W "$bin" |
	       awk '$7 == "UND" && $5 != "WEAK" && $8 != "" { print $8 }')
	pre=${so#lib}
	pre=${pre%%.so*}_
	{
		printf '\t.text\n'
		for s in $syms; do
			n=${s%%@*} v=${s#*@}
			if [ "$n" = "$s" ]; then
				case "$n" in "$pre"*) ;; *) continue ;; esac
			else
				grep -qx -- "$v" <<<"$vers" || continue
			fi
			printf '\t.globl %s\n\t.type %s, @function\n' "$n" "$n"
			printf '%s:\n\tud2\n' "$n"
		done
	} >"$dir/$so.S"
	for v in $vers; do
		printf '%s {\n\tglobal:\n' "$v"
		for s in $syms; do
			[ "${s#*@}" = "$v" ] && printf '\t\t%s;\n' "${s%%@*}"
		done
		printf '};\n'
	done >"$dir/$so.map"
	set -- -Wl,-soname,"$so"
	[ -z "$vers" ] || set -- "$@" -Wl,--version-script="$dir/$so.map"
	gcc -shared -nostdlib "$@" -o "$dir/$so" "$dir/$so.S"
}

# --- programs from packages ------------------------------------------------

# Prints the library file of soname $1 in the unpacked user packages.
user_lib() {
	local d

	for d in lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu; do
		if [ -e "$userroot/$d/$1" ]; then
			echo "$userroot/$d/$1"
			return 0
		fi
	done
	return 1
}

# Copies the program /usr/bin/$2 of the user packages, the libraries it
# needs (transitively) and the dynamic loader into the initramfs at $1.
# Sonames listed in $3 get a stand-in (fio_stub) instead of the library.
user_install() {
	local dst=$1 name=$2 stubs=${3:-} libdir=$1/lib/x86_64-linux-gnu
	local bin=$userroot/usr/bin/$2 todo so f ld
	declare -A seen=()

	[ -x "$bin" ] || die "no package holds /usr/bin/$name"
	mkdir -p "$libdir" "$dst/lib64" "$work/stubs"
	install -m 0755 "$bin" "$dst/usr/bin/$name"
	ld=$(readelf -l -W "$bin" |
	     sed -n 's|.*Requesting program interpreter: /lib64/\(.*\)]|\1|p')
	[ -n "$ld" ] || die "$name has no /lib64 program interpreter"
	f=$(user_lib "$ld") || die "libc6 holds no $ld"
	cp -L "$f" "$libdir/$ld"
	ln -sfn "../lib/x86_64-linux-gnu/$ld" "$dst/lib64/$ld"
	todo=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
	while [ -n "$todo" ]; do
		set -- $todo
		so=$1
		shift
		todo="$*"
		[ -z "${seen[$so]:-}" ] || continue
		seen[$so]=1
		if grep -qw -- "$so" <<<"$stubs"; then
			fio_stub "$bin" "$so" "$work/stubs"
			cp "$work/stubs/$so" "$libdir/$so"
			continue
		fi
		f=$(user_lib "$so") || die "$name needs $so: not in" \
			"$fio_pkgs $iperf_pkgs, no stand-in"
		cp -L "$f" "$libdir/$so"
		todo="$todo $(readelf -d "$f" |
			      sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')"
	done
}

# --- initramfs -------------------------------------------------------------

wanted="virtio virtio_ring virtio_mmio virtio_blk virtio_net virtio_console"

step="collecting modules"
kmod_index "$root/lib/modules/$abi"
kmod_want $wanted

step="assembling the initramfs"
ird=$work/initramfs
mkdir -p "$ird"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root}
mkdir -p "$ird/lib/modules" "$ird/lib/isovm/tests"
busybox_tree "$root/bin/busybox" "$ird"
kmod_copy "$ird/lib/modules"
cp "$work/module/isovm.ko" "$ird/lib/modules/isovm.ko"
# isovm goes right after virtio_mmio, so its devices bind at once and
# the device drivers loaded next find them.
for m in "${kmod_order[@]}"; do
	echo "$m"
	[ "$m" = virtio_mmio ] && echo isovm
done >"$ird/lib/modules/load.list"
grep -qx isovm "$ird/lib/modules/load.list" || die "virtio_mmio not loaded"
install -m 0755 "$here/initramfs/init" "$ird/init"
install -m 0755 "$here"/initramfs/tests/* "$ird/lib/isovm/tests/"
install -m 0644 "$here/initramfs/lib/net.sh" "$ird/lib/isovm/net.sh"
install -m 0755 "$here/initramfs/sbin/isovm-poweroff" "$ird/sbin/isovm-poweroff"
install -m 0755 "$work/isovm-blkpattern" "$ird/usr/bin/isovm-blkpattern"
step="adding fio to the initramfs"
user_install "$ird" fio "$fio_stubs"
step="adding iperf3 to the initramfs"
user_install "$ird" iperf3
step="packing the initramfs"
cpio_pack "$ird" "$work/initramfs.cpio.gz"

# --- publish ---------------------------------------------------------------

step="publishing"
for f in vmlinuz vmlinux initramfs.cpio.gz; do
	mv -f "$work/$f" "$out/$f"
done
printf '%s\n' "$key" >"$stamp"
echo "build-guest: done: $out (kernel $abi, modules:" \
     "$(tr '\n' ' ' <"$ird/lib/modules/load.list"))"
rm -rf "$work"
