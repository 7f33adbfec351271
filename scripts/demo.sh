#!/usr/bin/env bash
# The main job: builds isovm and boots the default guest, the Linux guest
# (Debian's kernel with the project's initramfs), with its devices: the
# console (served by isovm-console), a scratch disk as /dev/vda (served by
# isovm-blk) and eth0 on a tap whose host side is 10.0.2.1 in a network
# namespace of the demo's own (served by isovm-net; scripts/demo-net.sh). With hardware virtualization it runs here; without it
# (no /dev/kvm, or one whose guest ring 0 is emulated) it runs inside the
# KVM lab (scripts/kvm-lab.sh), which is slower: its first line says which.
#
# On a terminal the guest gives a shell on its console (`poweroff -f`
# leaves; Ctrl-C stops isovm; `ip addr add 10.0.2.15/24 dev eth0; ip link
# set eth0 up` puts it on the network). Otherwise the guest runs a short
# self-check (its devices, a pattern written over /dev/vda and read back,
# pings of the host side over eth0) and powers off, so the demo ends by
# itself. Arguments, if any, are passed to
# `isovm run` instead of the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."

kind=$(scripts/lab/kvm-kind.sh)
if [ "$kind" = hw ]; then
	echo "demo: booting the Linux guest on this host (hardware virtualization)"
	where=()
else
	echo "demo: this host has no hardware virtualization (KVM: $kind): running" \
	     "the demo inside the KVM lab (scripts/kvm-lab.sh, an emulated AMD-V" \
	     "machine; the guest takes about 20 s to boot there)"
	where=(scripts/kvm-lab.sh --)
fi

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# Only what the demo runs: the VMM, its servers and the guests.
cmake --build build -j "$(nproc)" --target isovm isovm-console isovm-blk \
	isovm-net isovm-testguest guest-linux >/dev/null

if [ $# -gt 0 ]; then
	exec "${where[@]}" build/bin/isovm run "$@"
fi

mkdir -p build/demo
disk=build/demo/disk.img
[ -f "$disk" ] || truncate -s 64M "$disk"
args=(--cpus 2 --memory 512M --disk "path=$PWD/$disk,id=demo-disk")
if [ -t 0 ]; then
	echo "demo: a shell on the guest's console; 'poweroff -f' ends the demo"
else
	echo "demo: stdin is not a terminal: the guest checks its devices and disk, then powers off"
	args+=(--cmdline "isovm.test=demo isovm.net.ip=10.0.2.15/24 isovm.net.peer=10.0.2.1 isovm.net.count=3")
fi
set -x
exec "${where[@]}" scripts/demo-net.sh "${args[@]}"
