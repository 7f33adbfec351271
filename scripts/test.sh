#!/usr/bin/env bash
# Builds isovm and runs every test: the unit tests under AddressSanitizer +
# UndefinedBehaviorSanitizer, then all tests (unit, fuzz, and the integration
# tests that boot real guests under KVM) in the normal build. Ends with
# CTest's summary; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

jobs=$(nproc)

echo "== sanitizer build (ASan + UBSan): unit tests"
cmake -S . -B build/asan -DISOVM_SANITIZE=ON -DISOVM_UNIT_ONLY=ON \
	-DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build/asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	ctest --test-dir build/asan -L unit --output-on-failure -j "$jobs"

echo "== normal build: all tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure
