#!/usr/bin/env bash
# Boot benchmark: isovm vs QEMU microvm on the same test guest (JSON lines).
# Usage: bench/boot/run.sh [RUNS]   (default 10)
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/install-deps.sh
if ! command -v qemu-system-x86_64 >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		qemu-system-x86 </dev/null >/dev/null
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target isovm isovm-testguest bench-boot >/dev/null
exec build/bin/bench-boot "${1:-10}" "$(command -v qemu-system-x86_64)"
