#!/usr/bin/env bash
# Boot benchmark: isovm vs QEMU microvm on the same KVM (JSON lines), runs
# alternating isovm, QEMU, isovm, QEMU... within each series:
#   test guest   exec to first output, to first KVM_RUN and to exit, and
#                isovm's RSS; target: exit <= 0.5 x QEMU
#   Linux guest  build/guest (Debian's kernel, busybox initramfs, guest test
#                info, 1 vCPU, 512 MiB, no disk): exec to ISOVM-GUEST-READY
#                and to exit; target: <= 0.8 x QEMU
# Usage: bench/boot/run.sh [RUNS [LINUX_RUNS]]   (default 10 and 5)
#
# Where (bench/lab.sh): with vmx/svm everything runs here; on a /dev/kvm
# without them the test guest runs here and the Linux guest inside
# scripts/kvm-lab.sh (a stock kernel cannot boot there); with no usable
# /dev/kvm both run in the lab. Each line says "where". The lab's KVM runs
# under TCG, so its absolute times mean nothing: only ratios of one run
# (isovm and QEMU alternate within it) do. In the lab the Linux guest gets
# one lab per isovm/QEMU pair (a frozen lab is retried and counted in a
# "labs_lost" line), and KVM's exit and page-fault counters per VMM
# (kvm_* metrics, read from debugfs).
# Env: ISOVM_KVM_KIND=hw|pvm|none forces the routing; BENCH_BOOT_RAW=FILE
# keeps the lab's raw per-run values there.
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lab.sh
runs=${1:-10}
linux_runs=${2:-5}
scripts/install-deps.sh
if ! command -v qemu-system-x86_64 >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends qemu-system-x86 </dev/null >/dev/null
fi
qemu=$(command -v qemu-system-x86_64)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target isovm isovm-console \
	isovm-testguest guest-linux bench-boot >/dev/null

# The Linux guest in the lab: one lab per isovm/QEMU pair, each printing
# its raw values, summed up at the end. A lab has been seen to freeze
# whole mid-boot (nothing inside runs, so only the lab's own time limit
# ends it): that then costs one pair, which is tried again, at most twice,
# and the lost labs are counted in a line of their own. A pair takes one
# to five minutes (the lab shares the host's CPUs).
linux_in_lab() {
	local raw part i tries lost_isovm=0 lost_qemu=0 status=0

	raw=$(mktemp)
	part=$(mktemp)
	for ((i = 1; i <= linux_runs; i++)); do
		tries=0
		until bench_in_lab 900 build/bin/bench-boot --guest linux \
			--linux-runs 1 --qemu "$qemu" --kvm-stats --raw \
			>"$part"; do
			# isovm runs first: its lines there, QEMU's was lost.
			if grep -q '"vmm":"isovm"' "$part"; then
				lost_qemu=$((lost_qemu + 1))
			else
				lost_isovm=$((lost_isovm + 1))
			fi
			tries=$((tries + 1))
			if [ "$tries" -ge 3 ]; then
				echo "bench/boot: pair $i lost 3 times" >&2
				status=1
				break 2
			fi
			echo "bench/boot: pair $i lost, once more" >&2
		done
		cat "$part" >>"$raw"
	done
	build/bin/bench-boot --summarize <"$raw" || status=1
	[ -z "${BENCH_BOOT_RAW:-}" ] || cp "$raw" "$BENCH_BOOT_RAW"
	printf '{"bench":"boot","where":"kvm-lab","guest":"linux",'
	printf '"metric":"labs_lost","isovm":%d,"qemu-microvm":%d}\n' \
		"$lost_isovm" "$lost_qemu"
	rm -f "$raw" "$part"
	return "$status"
}

case "$(bench_kind)" in
hw)
	exec build/bin/bench-boot --guest all --runs "$runs" \
		--linux-runs "$linux_runs" --qemu "$qemu"
	;;
pvm)
	build/bin/bench-boot --guest test --runs "$runs" --qemu "$qemu"
	linux_in_lab
	;;
none)
	# A few seconds a run: one lab for the whole test-guest series.
	bench_in_lab $((300 + runs * 60)) build/bin/bench-boot --guest test \
		--runs "$runs" --qemu "$qemu"
	linux_in_lab
	;;
esac
