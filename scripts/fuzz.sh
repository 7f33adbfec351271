#!/usr/bin/env bash
# fuzz.sh [SECONDS [TARGET...]]: runs the fuzz targets under libFuzzer
# (clang, with ASan + UBSan) for SECONDS each (default 600), one after the
# other, or only the TARGETs named (e.g. blk_request). Each keeps its
# corpus in tests/fuzz/corpus/TARGET (started from the target's own seed,
# minimized at the end); an input that crashes a target is copied to
# tests/fuzz/regress/TARGET/, where CTest's fuzz runs replay it every
# build. Prints one JSON line per target: executions, corpus size, crashes.
# Env: FUZZ_JOBS (targets run side by side, default 1); FUZZ_CORPUS (where
# the corpora live, default tests/fuzz/corpus; another folder starts as a
# copy of those, so that a run, as the tests' one, leaves the tree alone).
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-600}
[[ "$secs" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a whole number, not '$secs'" >&2; exit 2; }
shift || true

scripts/install-deps.sh
if ! command -v clang >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends clang libclang-rt-dev </dev/null >/dev/null
fi

# The plain build's targets write their seeds; the clang build fuzzes.
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
CC=clang cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DISOVM_UNIT_ONLY=ON -DISOVM_SANITIZE=ON -DISOVM_LIBFUZZER=ON >/dev/null

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	mapfile -t targets < <(sed -n 's/^isovm_fuzz_target(\([a-z_0-9]*\).*/\1/p' \
		tests/fuzz/CMakeLists.txt)
fi
cmake --build build -j "$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null
cmake --build build/fuzz -j "$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null

logs=build/fuzz/logs
mkdir -p "$logs"

# fuzz_one NAME: one target's session, then its JSON line.
corpora=${FUZZ_CORPUS:-tests/fuzz/corpus}

fuzz_one() {
	local t=$1 corpus=$corpora/$1 crashes=build/fuzz/crashes/$1
	local log=$logs/$1.log execs cov n found=0 f min

	if [ "$corpora" != tests/fuzz/corpus ] && [ ! -e "$corpus" ] &&
		[ -d "tests/fuzz/corpus/$t" ]; then
		mkdir -p "$corpora"
		cp -r "tests/fuzz/corpus/$t" "$corpus"
	fi
	mkdir -p "$corpus" "$crashes"
	[ -n "$(ls -A "$corpus")" ] ||
		build/tests/fuzz_"$t" --write-seed "$corpus/seed"
	[ -s "$corpus/seed" ] || rm -f "$corpus/seed"
	# -fork keeps going after a crash, so one bug does not end the session.
	ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 \
	UBSAN_OPTIONS=print_stacktrace=1 \
		build/fuzz/tests/fuzz_"$t" -max_total_time="$secs" -fork=1 \
		-ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 -timeout=10 \
		-max_len=8192 -print_final_stats=1 -artifact_prefix="$crashes/" \
		"$corpus" >"$log" 2>&1 || true
	# -fork's status lines ("#N: cov: ...") count every job's executions;
	# the merge below prints lines of its own.
	execs=$(grep -oE '^#[0-9]+:' "$log" | tail -n1 | tr -d '#:')
	cov=$(grep -E '^#[0-9]+:' "$log" | tail -n1 | sed -nE 's/.* cov: ([0-9]+).*/\1/p')
	for f in "$crashes"/crash-* "$crashes"/leak-* "$crashes"/timeout-* "$crashes"/oom-*; do
		[ -e "$f" ] || continue
		mkdir -p "tests/fuzz/regress/$t"
		cp -n "$f" "tests/fuzz/regress/$t/"
		found=$((found + 1))
	done
	# Keep only the inputs that add coverage.
	min=$(mktemp -d)
	build/fuzz/tests/fuzz_"$t" -merge=1 "$min" "$corpus" >>"$log" 2>&1 || true
	if [ -n "$(ls -A "$min")" ]; then
		rm -rf "$corpus"
		mv "$min" "$corpus"
		chmod 755 "$corpus"
	else
		rm -rf "$min"
	fi
	n=$(ls "$corpus" | wc -l)
	printf '{"fuzz":"%s","seconds":%d,"execs":%s,"cov":%s,"corpus":%d,"crashes":%d}\n' \
		"$t" "$secs" "${execs:-0}" "${cov:-0}" "$n" "$found"
}

jobs=${FUZZ_JOBS:-1}
for t in "${targets[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n || true
	done
	fuzz_one "$t" &
done
wait
