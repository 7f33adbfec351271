#!/usr/bin/env bash
# Console benchmark: virtio-console bulk throughput of isovm (JSON lines).
# Usage: bench/console/run.sh [RUNS] [MiB]   (default 5 runs of 64 MiB)
# Where (bench/lab.sh): the test guest needs only a usable /dev/kvm, with
# or without vmx/svm: then it runs here; without one, inside
# scripts/kvm-lab.sh, whose figures mean nothing in absolute terms (KVM
# under TCG). Each line says "where". ISOVM_KVM_KIND=hw|pvm|none forces it.
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lab.sh
runs=${1:-5}
mib=${2:-64}
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" \
	--target isovm isovm-console isovm-testguest bench-console >/dev/null
if [ "$(bench_kind)" = none ]; then
	# Two modes of RUNS runs; a run in the lab may take minutes.
	bench_in_lab $((300 + 2 * runs * 300)) build/bin/bench-console \
		"$runs" "$mib"
	exit
fi
exec build/bin/bench-console "$runs" "$mib"
