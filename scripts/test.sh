#!/usr/bin/env bash
# Builds isovm and runs every test, each where a KVM can run it:
#   unit   unit and fuzz tests: under ASan + UBSan, then in the normal
#          build; always on the host;
#   fuzz   the API decoder under libFuzzer for 60 s (scripts/fuzz.sh);
#   guest  the Linux guest's build checks and its runs under QEMU's TCG
#          (no KVM needed): always on the host;
#   lab    the KVM lab itself (scripts/kvm-lab.sh): on the host;
#   kvm    guests under KVM (isovm, and QEMU with -accel kvm): on the host
#          when it has a /dev/kvm, otherwise inside scripts/kvm-lab.sh;
#   linux  the Linux guest under isovm: on the host with hardware
#          virtualization (vmx/svm), otherwise inside scripts/kvm-lab.sh
#          (on a /dev/kvm without vmx/svm, guest ring 0 is emulated and
#          Linux cannot boot).
# scripts/lab/kvm-kind.sh tells the kinds apart (ISOVM_KVM_KIND=none sends
# every KVM test to the lab, on any host). A test that finds no usable KVM
# where it was sent fails. Every label runs even when one fails; the output
# ends with a line per label (where, count, time) and the total.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

jobs=$(nproc)
kind=$(scripts/lab/kvm-kind.sh)
# Whole-lab limit: the labels' own test timeouts come first.
lab_timeout=3600
report=()
total_pass=0
total_fail=0
status=0

# run_label NAME WHERE BUILD CTEST_ARGS... (scripts/lab/run-label.sh)
. scripts/lab/run-label.sh

# run_fuzz TARGET SECONDS: one fuzz target under libFuzzer (clang, ASan +
# UBSan; scripts/fuzz.sh on a copy of its corpus, the tree stays as it is):
# it passes when no input crashed it.
run_fuzz() {
	local t=$1 secs=$2 start=$SECONDS log line crashes pass=0 fail=1
	log=$(mktemp)
	echo "== fuzz $t: $secs s"
	FUZZ_CORPUS=build/fuzz/ci-corpus scripts/fuzz.sh "$secs" "$t" >"$log" 2>&1 || true
	cat "$log"
	line=$(grep '^{"fuzz"' "$log" | tail -n1 || true)
	rm -f "$log"
	crashes=$(sed -nE 's/.*"crashes":([0-9]+).*/\1/p' <<<"$line")
	if [ "$crashes" = 0 ]; then
		pass=1 fail=0
	else
		echo "test: fuzz $t: ${line:-no result}" >&2
		status=1
	fi
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	report+=("$(printf '%-12s %-8s %4d passed %3d failed %5d s' \
		"fuzz" host "$pass" "$fail" $((SECONDS - start)))")
}

echo "== sanitizer build (ASan + UBSan)"
cmake -S . -B build/asan -DISOVM_SANITIZE=ON -DISOVM_UNIT_ONLY=ON \
	-DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build/asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0 \
	run_label unit-asan host build/asan -L unit -j "$jobs"

echo "== normal build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"

case "$kind" in
hw) kvm_where=host linux_where=host ;;
pvm) kvm_where=host linux_where=kvm-lab ;;
none) kvm_where=kvm-lab linux_where=kvm-lab ;;
esac
echo "== KVM here: $kind (kvm label: $kvm_where, linux label: $linux_where)"
run_label unit host build -L unit -j "$jobs"
# The management socket's decoder takes any bytes a local client sends.
run_fuzz api_msg 60
run_label guest host build -L guest
run_label lab host build -L lab
if [ "$kvm_where" = "$linux_where" ] && [ "$kvm_where" = kvm-lab ]; then
	# One lab for both: it costs its start-up once.
	run_label kvm+linux kvm-lab build -L 'kvm|linux'
else
	run_label kvm "$kvm_where" build -L kvm -LE linux
	run_label linux "$linux_where" build -L linux
fi

echo "== summary (KVM here: $kind)"
printf '%s\n' "${report[@]}"
echo "tests: $total_pass passed, $total_fail failed"
exit "$status"
