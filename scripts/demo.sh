#!/usr/bin/env bash
# The main job: builds isovm and boots the default guest with its devices:
# the console (through the isovm-console server) and a scratch disk
# (through isovm-blk). The default guest is the Linux guest on hosts with
# hardware virtualization (a shell on the console), the test guest elsewhere
# (it runs a few of its tests on those devices and powers off).
# Arguments, if any, are passed to `isovm run` instead of the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)"

if [ $# -gt 0 ]; then
	exec build/bin/isovm run "$@"
fi

mkdir -p build/demo
disk=build/demo/disk.img
[ -f "$disk" ] || truncate -s 64M "$disk"

args=(--cpus 2 --memory 512M --disk "path=$disk,id=demo-disk")
if grep -qw -e vmx -e svm /proc/cpuinfo; then
	echo "demo: booting the Linux guest (hardware virtualization present)"
else
	echo "demo: booting the test guest (no vmx/svm here: guest ring 0 would be emulated)"
	args+=(--cmdline "test=info,smp,blk-info,blk-pattern")
fi
set -x
exec build/bin/isovm run "${args[@]}"
