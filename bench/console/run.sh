#!/usr/bin/env bash
# Console benchmark: virtio-console bulk throughput of isovm (JSON lines).
# Usage: bench/console/run.sh [RUNS] [MiB]   (default 5 runs of 64 MiB)
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" \
	--target isovm isovm-console isovm-testguest bench-console >/dev/null
exec build/bin/bench-console "${1:-5}" "${2:-64}"
