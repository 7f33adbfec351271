#!/usr/bin/env bash
# test-run-label.sh: scripts/lab/run-label.sh counts a label's tests right
# when its lab freezes: the tests that ended before a freeze keep their
# result (a pass or a failure), only the others run again, at most twice
# more; a third freeze fails the label. A stub stands in for kvm-lab.sh:
# it prints ctest's lines for the tests it is not told to skip and
# "freezes" (status 125 and kvm-lab.sh's line) where the case says.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/scripts"
cat >"$work/scripts/kvm-lab.sh" <<'STUB'
#!/usr/bin/env bash
# STUB_PLAN: one word per attempt, for the tests in order: P passes,
# F fails, Z freezes the lab there (nothing after it runs), S stalls.
n=$(cat attempts 2>/dev/null || echo 0)
echo $((n + 1)) >attempts
plan=$(cut -d' ' -f$((n + 1)) <<<"$STUB_PLAN")
skip=$(sed -nE 's/.* -E \^\((.*)\)\$.*/\1/p' <<<"$*")
echo "$*" >>calls
i=0 ran=0 failed=0
for t in lab_a lab_b lab_c; do
	if [ -n "$skip" ] && [[ "|$skip|" == *"|$t|"* ]]; then continue; fi
	step=${plan:$i:1}
	i=$((i + 1))
	case "$step" in
	Z) echo "kvm-lab: error: the lab froze (no heartbeat for 120 s) while running: ctest"
	   exit 125 ;;
	S) echo "kvm-lab: the lab stalled (no heartbeat for about 25 s); NMIs sent: 1; it went on"
	   step=P ;;
	esac
	ran=$((ran + 1))
	if [ "$step" = F ]; then
		failed=$((failed + 1))
		echo "$ran/3 Test #$((80 + ran)): $t ....................***Failed    1.00 sec"
	else
		echo "$ran/3 Test #$((80 + ran)): $t ....................   Passed    1.00 sec"
	fi
done
echo "$(( (ran - failed) * 100 / (ran ? ran : 1) ))% tests passed, $failed tests failed out of $ran"
[ "$failed" -eq 0 ]
STUB
chmod +x "$work/scripts/kvm-lab.sh"

fails=0
# check PLAN WANT_LINE_PART WANT_STATUS WANT_ATTEMPTS (the time reads "N s")
check() {
	local plan=$1 want=$2 want_status=$3 want_attempts=$4 out
	rm -f "$work/attempts" "$work/calls"
	out=$(cd "$work" && STUB_PLAN=$plan bash -c '
		set -euo pipefail
		lab_timeout=60 report=() total_pass=0 total_fail=0 status=0
		. "$0"
		run_label linux kvm-lab build -L linux >/dev/null 2>&1
		echo "${report[0]}|$status|$total_pass|$total_fail"' \
		"$top/scripts/lab/run-label.sh" | sed -E 's/ +[0-9]+ s/ N s/')
	local attempts
	attempts=$(cat "$work/attempts" 2>/dev/null || echo 0)
	if [[ "$out" == *"$want"* ]] && [[ "$out" == *"|$want_status|"* ]] &&
	   [ "$attempts" -eq "$want_attempts" ]; then
		echo "ok: $plan: $out"
	else
		echo "FAIL: $plan: got '$out' after $attempts attempts;" \
			"want '$want', status $want_status, $want_attempts attempts"
		sed 's/^/  call: /' "$work/calls" 2>/dev/null
		fails=$((fails + 1))
	fi
}

check "PPP" "3 passed   0 failed N s|" 0 1
check "PFP" "2 passed   1 failed N s|" 1 1
# Frozen in lab_b, then in lab_c: each retry skips what ended.
check "PZ PZ P" "3 passed   0 failed N s (lab froze: 2)" 0 3
if grep -qF -- '-E ^(lab_a)$' "$work/calls" &&
   grep -qF -- '-E ^(lab_a|lab_b)$' "$work/calls"; then
	echo "ok: the retries skip the tests that ended"
else
	echo "FAIL: the retries' calls:"; cat "$work/calls"
	fails=$((fails + 1))
fi
check "ZZZ" "0 passed   1 failed N s (lab froze: 3)" 1 3
# A failure before the freeze stays one, though the retry never runs it.
check "FZ PP" "2 passed   1 failed N s (lab froze: 1)" 1 2
check "SPP" "3 passed   0 failed N s (lab stalls woken: 1)" 0 1

[ "$fails" -eq 0 ] || { echo "$fails failed"; exit 1; }
echo "all passed"
