# kmod.sh: kernel-module helpers for initramfs builds, sourced by
# build-guest.sh (the Linux guest) and scripts/lab/build-lab.sh (the KVM lab).
# The caller defines die().

declare -A kmod_path=() kmod_seen=()
kmod_order=()

# kmod_index DIR: learns every module under DIR/kernel (names with '_').
kmod_index() {
	local f m

	while IFS= read -r f; do
		m=$(basename "$f")
		m=${m%%.ko*}
		kmod_path[${m//-/_}]=$f
	done < <(find "$1/kernel" -name '*.ko*')
}

# kmod_want NAME...: appends each module to kmod_order after what it
# depends on, once.
kmod_want() {
	local m d

	for m in "$@"; do
		[ -z "${kmod_seen[$m]:-}" ] || continue
		kmod_seen[$m]=1
		[ -n "${kmod_path[$m]:-}" ] || die "module $m is not in the kernel package"
		for d in $(modinfo -F depends "${kmod_path[$m]}" | tr ',' ' '); do
			kmod_want "${d//-/_}"
		done
		kmod_order+=("$m")
	done
}

# kmod_copy DIR: copies the modules of kmod_order into DIR as NAME.ko,
# uncompressed (busybox insmod reads plain .ko files only).
kmod_copy() {
	local m src dst

	mkdir -p "$1"
	for m in "${kmod_order[@]}"; do
		src=${kmod_path[$m]} dst=$1/$m.ko
		case "$src" in
		*.ko) cp "$src" "$dst" ;;
		*.ko.xz) xz -dc "$src" >"$dst" ;;
		*.ko.zst) zstd -dcq "$src" >"$dst" ;;
		*.ko.gz) gzip -dc "$src" >"$dst" ;;
		*) die "module $m: unknown compression of $src" ;;
		esac
	done
}

# busybox_tree BUSYBOX DIR: the busybox binary and a link per applet.
busybox_tree() {
	local applet

	mkdir -p "$2/bin"
	cp "$1" "$2/bin/busybox"
	"$2/bin/busybox" --list-full | while IFS= read -r applet; do
		[ "$applet" = bin/busybox ] && continue
		mkdir -p "$2/$(dirname "$applet")"
		ln -sf /bin/busybox "$2/$applet"
	done
	[ -e "$2/bin/sh" ] || die "busybox has no sh applet"
}

# cpio_pack DIR OUT: a reproducible newc archive of DIR, gzip'd when OUT
# ends in .gz (fixed times and owners: the same inputs give the same bytes).
cpio_pack() {
	find "$1" -exec touch -h -d @0 {} +
	(cd "$1" && find . -mindepth 1 | sort |
		cpio -o -H newc -R 0:0 --reproducible --quiet) |
		case "$2" in
		*.gz) gzip -9n >"$2" ;;
		*) cat >"$2" ;;
		esac
}
