#!/usr/bin/env bash
# Net benchmark: virtio-net frame rates of isovm (jailed) vs QEMU microvm's
# userspace virtio-net (tap, vhost=off) vs a veth pair on the host, the
# same test guest's net-blast on both VMMs, 64- and 1514-byte frames,
# guest to host (tx) and host to guest (rx); JSON lines, one per case.
# Usage: bench/net/run.sh [RUNS] [SECS]   (default 3 runs of 5 s per case)
# Env: BENCH_NET_CASES (cases to run, e.g. "tx_64 rx_64": tx_64 tx_1514
#      rx_64 rx_1514 rx_1514_rxbuf1536),
#      BUILD (build dir), ISOVM_KVM_KIND=hw|pvm|none (forces the routing).
# Root: each case makes a network namespace of its own (bnE-PID-CASE)
# with a tap and a veth pair, removed after it.
# Where (bench/lab.sh): the test guest needs only a usable /dev/kvm, with
# or without vmx/svm: then everything runs here. Without one, this script
# runs again inside scripts/kvm-lab.sh, the veth pair included, so the
# three sides still share one machine; only the ratios of such a run mean
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
	cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$build" -j "$(nproc)" --target isovm isovm-net \
		isovm-console isovm-testguest bench-net >/dev/null
	if [ "$(bench_kind)" = none ]; then
		# 5 cases of 3 x RUNS runs, each a boot plus SECS and a second.
		bench_in_lab $((600 + 5 * 3 * runs * (secs + 60))) \
			bench/net/run.sh "$runs" "$secs"
		exit
	fi
fi
exec "$build/bin/bench-net" "$runs" "$secs" \
	"$(command -v qemu-system-x86_64)"
