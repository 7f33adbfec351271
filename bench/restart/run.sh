#!/usr/bin/env bash
# Restart benchmark: the guest's disk stall when its block server is
# SIGKILLed, kill to the first completion of the new server (JSON lines).
# Usage: bench/restart/run.sh [KILLS]   (default 50)
# Env: BUILD (build dir), ISOVM_KVM_KIND=hw|pvm|none (forces the routing).
# Where (bench/lab.sh): the test guest needs only a usable /dev/kvm; without
# one the benchmark runs inside scripts/kvm-lab.sh, where times are those
# of an emulated machine (each line says "where").
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lab.sh
build="${BUILD:-build}"
kills=${1:-50}
if [ "${ISOVM_IN_LAB:-}" != 1 ]; then
	scripts/install-deps.sh
	cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$build" -j "$(nproc)" --target isovm isovm-blk \
		isovm-console isovm-testguest bench-restart >/dev/null
	if [ "$(bench_kind)" = none ]; then
		bench_in_lab $((600 + kills)) bench/restart/run.sh "$kills"
		exit
	fi
fi
bin=$(cd "$build/bin" && pwd)
# The guest's disk image lives in a scratch folder of its own.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
"$bin/bench-restart" "$kills"
