#!/usr/bin/env bash
# Builds bench-ipc if needed and runs it; prints JSON lines (one-way ring
# throughput, ring round trip with pipe wake-ups, plain eventfd ping-pong,
# and their ratio). Extra arguments go to bench-ipc (--runs N --entries N
# --round-trips N --ring N). BUILD_DIR selects the build directory (default
# build). The machine should be quiet: the one-way test spins two threads.
# Where: always here (no KVM involved), whatever KVM the host has; each line
# says "where":"host".
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD_DIR:-build}
if [ ! -f "$build/CMakeCache.txt" ]; then
	cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" --target bench-ipc -j "$(nproc)" >/dev/null
exec "$build/bin/bench-ipc" "$@"
