#!/bin/sh
# qemu-run.sh: boots the test guest under QEMU microvm (the benchmark peer)
# and checks its result lines.
# Usage: qemu-run.sh GUEST CPUS CMDLINE [EXPECTED_QEMU_STATUS]
# Passes when QEMU ends with the expected status (1: guest power-off through
# isa-debug-exit; 7: guest panic), at least one ISOVM-TEST line was printed
# and every one of them says status=pass.
set -u
guest=$1 cpus=$2 cmdline=$3 want=${4:-1}
qemu=${QEMU:-qemu-system-x86_64}
out=$(mktemp) || exit 2
trap 'rm -f "$out"' EXIT

timeout 60 "$qemu" -M microvm,acpi=off -accel kvm \
	-cpu host,-arch-capabilities \
	-global virtio-mmio.force-legacy=false \
	-device isa-debug-exit,iobase=0xf4,iosize=4 \
	-nodefaults -no-user-config -display none -serial stdio \
	-m 256M -smp "$cpus" -kernel "$guest" -append "$cmdline" \
	>"$out" 2>/dev/null
status=$?
cat "$out"
if [ "$status" -ne "$want" ]; then
	echo "qemu-run: QEMU exit status $status, expected $want" >&2
	exit 1
fi
if ! grep -q '^ISOVM-TEST ' "$out"; then
	echo "qemu-run: no result line" >&2
	exit 1
fi
if grep '^ISOVM-TEST ' "$out" | grep -qv ' status=pass'; then
	echo "qemu-run: a test failed" >&2
	exit 1
fi
exit 0
