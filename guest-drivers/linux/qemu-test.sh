#!/usr/bin/env bash
# qemu-test.sh OUTDIR CASE: boots the Linux guest under QEMU (microvm, TCG:
# pure emulation finishes a full boot in seconds where this KVM takes
# minutes) and checks /init, the modules and a guest test end to end.
#
# CASEs:
#   info     no isovm port: isovm.ko must refuse (-ENODEV), the boot goes
#            on, "info" passes and the guest leaves QEMU by itself.
#   devices  blk, net and console devices, isovm.ko loaded with
#            port_optional=1: it must register every virtio_mmio.device=
#            entry, the drivers must bind, and /init must move to hvc0.
#   unknown  an unknown isovm.test= reports status=fail.
#   blk      the "blk" test reads a disk whose first MiB is known.
#   modparams  the "modparams" test reloads isovm.ko with bad device=
#            entries, then restores it (blk must still work after).
#   panic    the "panic" test crashes the kernel (panic=-1 makes it reboot,
#            which ends QEMU).
#   blk-pattern  the guest writes the seeded pattern over an 8 MiB disk
#            through /dev/vda; the host checks the image byte for byte and
#            the hash the guest reported.
#   fio      Debian's fio runs randread for 2 s on /dev/vda (libaio,
#            O_DIRECT) and reports its figures.
#   fio-randwrite  the same with random writes, bs=64k.
#
# The network CASEs need root: a network namespace of their own (named by
# $QEMU_TEST_NETNS, default isovm-qemu-PID) holds a tap with 10.0.0.1/24,
# which backs the guest's virtio-net device (MAC 52:54:00:4c:67:01); the
# guest is 10.0.0.2/24.
#   net-ping       the guest checks its MAC and pings the host 20 times.
#   net-iperf      iperf3 for 2 s each way against the host's iperf3
#                  server (scripts/install-deps.sh installs it).
#   net-responder  the guest pings the host, then stays up 20 s while the
#                  host pings it.
set -euo pipefail
exec </dev/null
export LC_ALL=C

out=$(cd "${1:?usage: qemu-test.sh OUTDIR CASE}" && pwd)
case_name=${2:?usage: qemu-test.sh OUTDIR CASE}
qemu=${QEMU:-qemu-system-x86_64}
tmp=$(mktemp -d)
ns= bg_pid=
cleanup() {
	[ -z "$bg_pid" ] || kill "$bg_pid" 2>/dev/null || true
	if [ -n "$ns" ]; then
		ip -n "$ns" link del tap0 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

fails=0
expect() {
	local file=$1 pattern=$2

	if grep -Eq -- "$pattern" "$file"; then
		echo "ok:   $(basename "$file") has: $pattern"
	else
		echo "FAIL: $(basename "$file") lacks: $pattern"
		fails=$((fails + 1))
	fi
}

args=(-M microvm,acpi=off -accel tcg -cpu max -m 512M -smp 2
      -nodefaults -no-user-config -display none -no-reboot
      -serial "file:$tmp/serial.log"
      -global virtio-mmio.force-legacy=false
      -kernel "$out/vmlinux" -initrd "$out/initramfs.cpio.gz")
append="console=ttyS0"
# What runs QEMU: a network case puts it in its namespace.
run=()
mac=52:54:00:4c:67:01

# Makes the namespace with the tap the guest's virtio-net device uses.
net_setup() {
	local name=${QEMU_TEST_NETNS:-isovm-qemu-$$}

	# Only a namespace made here is ours to delete.
	ip netns add "$name"
	ns=$name
	ip -n "$ns" link set lo up
	ip -n "$ns" tuntap add dev tap0 mode tap
	ip -n "$ns" addr add 10.0.0.1/24 dev tap0
	ip -n "$ns" link set tap0 up
	run=(ip netns exec "$ns")
	args+=(-netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=off
	       -device "virtio-net-device,netdev=n0,mac=$mac")
	append="$append isovm.port_optional=1 isovm.net.ip=10.0.0.2/24"
	append="$append isovm.net.peer=10.0.0.1 isovm.net.mac=$mac"
}

case "$case_name" in
info)
	append="$append isovm.test=info"
	;;
devices)
	truncate -s 8M "$tmp/disk.img"
	args+=(-drive "id=d0,file=$tmp/disk.img,if=none,format=raw"
	       -device virtio-blk-device,drive=d0
	       -netdev user,id=n0 -device virtio-net-device,netdev=n0
	       -device virtio-serial-device
	       -chardev "file,id=c0,path=$tmp/hvc.log"
	       -device virtconsole,chardev=c0)
	append="$append isovm.port_optional=1 isovm.test=devices"
	;;
unknown)
	append="$append isovm.test=nosuchtest"
	;;
panic)
	append="$append isovm.test=panic panic=-1"
	;;
blk)
	# 4 MiB: a random first MiB, zeros after it.
	head -c 1048576 /dev/urandom >"$tmp/disk.img"
	truncate -s 4M "$tmp/disk.img"
	want=$(head -c 1048576 "$tmp/disk.img" | sha256sum | cut -d' ' -f1)
	args+=(-drive "id=d0,file=$tmp/disk.img,if=none,format=raw"
	       -device virtio-blk-device,drive=d0)
	append="$append isovm.port_optional=1 isovm.test=blk"
	;;
modparams)
	truncate -s 8M "$tmp/disk.img"
	args+=(-drive "id=d0,file=$tmp/disk.img,if=none,format=raw"
	       -device virtio-blk-device,drive=d0)
	append="$append isovm.port_optional=1 isovm.test=modparams"
	;;
blk-pattern)
	# Non-zero junk first, so that a write that never happened shows.
	head -c 8388608 /dev/urandom >"$tmp/disk.img"
	args+=(-drive "id=d0,file=$tmp/disk.img,if=none,format=raw,cache=none"
	       -device virtio-blk-device,drive=d0)
	append="$append isovm.port_optional=1 isovm.test=blk-pattern"
	append="$append isovm.blk.seed=42"
	;;
fio | fio-randwrite)
	truncate -s 8M "$tmp/disk.img"
	args+=(-drive "id=d0,file=$tmp/disk.img,if=none,format=raw"
	       -device virtio-blk-device,drive=d0)
	append="$append isovm.port_optional=1 isovm.test=fio isovm.fio.runtime=2"
	if [ "$case_name" = fio ]; then
		append="$append isovm.fio.rw=randread isovm.fio.bs=4k"
		append="$append isovm.fio.iodepth=8"
	else
		append="$append isovm.fio.rw=randwrite isovm.fio.bs=64k"
		append="$append isovm.fio.iodepth=4"
	fi
	;;
net-ping)
	net_setup
	append="$append isovm.test=net-ping isovm.net.count=20"
	;;
net-iperf)
	net_setup
	ip netns exec "$ns" iperf3 -s -B 10.0.0.1 >"$tmp/iperf3.log" 2>&1 &
	bg_pid=$!
	append="$append isovm.test=net-iperf isovm.net.secs=2"
	;;
net-responder)
	net_setup
	# The host's pings, one at a time: the guest is not up at first.
	ip netns exec "$ns" sh -c 'while :; do
		busybox ping -c 1 -W 1 10.0.0.2 >/dev/null 2>&1 && echo reply
		sleep 0.5
	done' >"$tmp/ping.log" 2>&1 &
	bg_pid=$!
	append="$append isovm.test=net-responder isovm.net.count=5"
	append="$append isovm.net.secs=20"
	;;
*)
	echo "qemu-test: unknown case $case_name" >&2
	exit 2
	;;
esac

start=$(date +%s%N)
rc=0
timeout 120 "${run[@]}" "$qemu" "${args[@]}" -append "$append" || rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "qemu-test: $case_name: QEMU exited with $rc after ${ms} ms"
[ "$rc" -eq 0 ] || { echo "FAIL: QEMU did not leave cleanly"; fails=1; }

log=$tmp/serial.log
case "$case_name" in
info)
	expect "$log" 'isovm: no isovm port'
	expect "$log" "can't insert '/lib/modules/isovm.ko': No such device"
	expect "$log" 'ISOVM-GUEST-READY uptime_ms=[0-9]+'
	expect "$log" 'ISOVM-TEST name=info status=pass cpus=2 mem_kb=[1-9][0-9]*'
	;;
devices)
	expect "$log" 'isovm: loaded \(port absent, 3 device entries\)'
	expect "$tmp/hvc.log" 'ISOVM-GUEST-READY uptime_ms=[0-9]+'
	expect "$tmp/hvc.log" 'ISOVM-TEST name=devices status=pass expected=3 found=3 bound=3 blk=1 net=1 console=1'
	;;
unknown)
	expect "$log" 'ISOVM-TEST name=nosuchtest status=fail reason=unknown-test'
	;;
blk)
	expect "$log" "ISOVM-TEST name=blk status=pass dev=vda sectors=8192 read_kb=1024 sha256=$want"
	;;
modparams)
	expect "$log" 'ISOVM-TEST name=modparams status=pass registered=2 rejected=8 left_after_rmmod=0'
	expect "$log" 'isovm: loaded \(port absent, 1 device entries\)'
	;;
blk-pattern)
	# The host's own reading of the image: the pattern of seed 42 at
	# every 8-byte word, and the FNV-1a 64 hash of all its bytes.
	want=$(python3 - "$tmp/disk.img" 42 <<'PY'
import struct, sys
M = (1 << 64) - 1
def splitmix64(x):
    z = (x + 0x9e3779b97f4a7c15) & M
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
    return z ^ (z >> 31)
data = open(sys.argv[1], 'rb').read()
seed = int(sys.argv[2])
words = struct.unpack('<%dQ' % (len(data) // 8), data)
for k, w in enumerate(words):
    if w != splitmix64(seed + k):
        print('mismatch-at-%d' % (8 * k))
        sys.exit(0)
h = 0xcbf29ce484222325
for b in data:
    h = ((h ^ b) * 0x100000001b3) & M
print('bytes=%d hash=0x%016x' % (len(data), h))
PY
)
	echo "qemu-test: host reads the image as: $want"
	expect "$log" "ISOVM-TEST name=blk-pattern status=pass disk=vda $want([[:space:]]|$)"
	;;
fio)
	expect "$log" 'ISOVM-TEST name=fio status=pass rw=randread bs=4k iodepth=8 iops=[1-9][0-9]* mbps=[0-9.]+ lat_us_mean=[0-9.]+ lat_us_p99=[1-9][0-9]*'
	;;
fio-randwrite)
	expect "$log" 'ISOVM-TEST name=fio status=pass rw=randwrite bs=64k iodepth=4 iops=[1-9][0-9]* mbps=[0-9.]+ lat_us_mean=[0-9.]+ lat_us_p99=[1-9][0-9]*'
	;;
net-ping)
	expect "$log" "ISOVM-TEST name=net-ping status=pass mac=$mac mtu=1500 peer=10.0.0.1 sent=20 received=20 loss_pct=0 rtt_ms_mean=[0-9.]+"
	;;
net-iperf)
	expect "$log" "ISOVM-TEST name=net-iperf status=pass mac=$mac mtu=1500 peer=10.0.0.1 secs=2 tx_mbps=[0-9.]+ rx_mbps=[0-9.]+ tx_bytes=[1-9][0-9]* rx_bytes=[1-9][0-9]*"
	;;
net-responder)
	expect "$log" "ISOVM-TEST name=net-responder status=running mac=$mac mtu=1500 ip=10.0.0.2/24"
	expect "$log" "ISOVM-TEST name=net-responder status=pass mac=$mac mtu=1500 secs=20 echos_in=[1-9][0-9]* replies_out=[1-9][0-9]* carrier=1 peer=10.0.0.1 sent=5 received=5 loss_pct=0"
	expect "$tmp/ping.log" '^reply$'
	;;
panic)
	expect "$log" 'ISOVM-TEST name=panic status=running'
	expect "$log" 'Kernel panic - not syncing: sysrq triggered crash'
	;;
esac

if [ "$fails" -ne 0 ]; then
	echo "--- serial ---"
	cat "$log"
	[ -f "$tmp/hvc.log" ] && { echo "--- hvc0 ---"; cat "$tmp/hvc.log"; }
	exit 1
fi
# The guest's report, for the figures.
grep -a 'ISOVM-TEST' "$log" | tr -d '\r' || true
echo "qemu-test: $case_name passed"
