#!/usr/bin/env bash
# Block benchmark: virtio-blk of isovm (jailed, and with --sandbox off)
# vs QEMU microvm vs fio on the host,
# on one 1 GiB image, all O_DIRECT (JSON lines).
# Usage: bench/blk/run.sh [RUNS] [SECS]   (default 3 runs of 5 s per case)
# Env: BENCH_BLK_IMG (default /var/tmp/isovm-bench-blk.img, kept; in the
#      lab /tmp/isovm-bench-blk.img on its scratch disk, gone after it),
#      BENCH_BLK_CASES (substring filter of case names), BUILD (build dir),
#      ISOVM_KVM_KIND=hw|pvm|none (forces the routing).
# Where (bench/lab.sh): the test guest needs only a usable /dev/kvm, with
# or without vmx/svm: then everything runs here. Without one, this script
# runs again inside scripts/kvm-lab.sh, fio included, so the three sides
# still share one machine and one disk; only the ratios of such a run mean
# anything, not its absolute figures. Each line says "where".
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lab.sh
build="${BUILD:-build}"
runs=${1:-3}
secs=${2:-5}
# Inside the lab the host already built everything (and apt may be out of
# reach): only the run itself happens there.
if [ "${ISOVM_IN_LAB:-}" != 1 ]; then
	scripts/install-deps.sh
	for tool in qemu-system-x86_64:qemu-system-x86 fio:fio; do
		if ! command -v "${tool%%:*}" >/dev/null; then
			DEBIAN_FRONTEND=noninteractive apt-get install -y \
				-qq --no-install-recommends "${tool#*:}" \
				</dev/null >/dev/null
		fi
	done
	cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$build" -j "$(nproc)" --target isovm isovm-blk \
		isovm-console isovm-testguest bench-blk >/dev/null
	if [ "$(bench_kind)" = none ]; then
		# 5 cases of 1 + 3 x RUNS runs, each a boot plus SECS.
		bench_in_lab $((600 + 5 * (1 + 3 * runs) * (secs + 60))) \
			bench/blk/run.sh "$runs" "$secs"
		exit
	fi
	img="${BENCH_BLK_IMG:-/var/tmp/isovm-bench-blk.img}"
else
	# The lab's /tmp is an ext4 disk: O_DIRECT reaches a disk there, not
	# the host's files over 9p.
	img="${BENCH_BLK_IMG:-/tmp/isovm-bench-blk.img}"
fi
# Real blocks, not a sparse file: reads of holes would never reach the disk.
if [ ! -f "$img" ] || [ "$(stat -c %s "$img")" != 1073741824 ] ||
	[ "$(stat -c %b "$img")" -lt 2097152 ]; then
	dd if=/dev/zero of="$img" bs=1M count=1024 oflag=direct status=none
fi
exec "$build/bin/bench-blk" "$img" "$runs" "$secs" \
	"$(command -v qemu-system-x86_64)" "$(command -v fio)"
