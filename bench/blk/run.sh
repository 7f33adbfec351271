#!/usr/bin/env bash
# Block benchmark: virtio-blk of isovm vs QEMU microvm vs fio on the host,
# on one 1 GiB image on the host's disk, all O_DIRECT (JSON lines).
# Usage: bench/blk/run.sh [RUNS] [SECS]   (default 3 runs of 5 s per case)
# Env: BENCH_BLK_IMG (default /var/tmp/isovm-bench-blk.img, kept),
#      BENCH_BLK_CASES (substring filter of case names), BUILD (build dir).
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${BUILD:-build}"
img="${BENCH_BLK_IMG:-/var/tmp/isovm-bench-blk.img}"
scripts/install-deps.sh
for tool in qemu-system-x86_64:qemu-system-x86 fio:fio; do
	if ! command -v "${tool%%:*}" >/dev/null; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends "${tool#*:}" </dev/null >/dev/null
	fi
done
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" \
	--target isovm isovm-blk isovm-console isovm-testguest bench-blk >/dev/null
# Real blocks, not a sparse file: reads of holes would never reach the disk.
if [ ! -f "$img" ] || [ "$(stat -c %s "$img")" != 1073741824 ] ||
	[ "$(stat -c %b "$img")" -lt 2097152 ]; then
	dd if=/dev/zero of="$img" bs=1M count=1024 oflag=direct status=none
fi
exec "$build/bin/bench-blk" "$img" "${1:-3}" "${2:-5}" \
	"$(command -v qemu-system-x86_64)" "$(command -v fio)"
