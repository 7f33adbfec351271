# run-label.sh: sourced by scripts/test.sh (and its test), from the
# project's top folder.
#
# run_label NAME WHERE BUILD CTEST_ARGS...: runs ctest in build dir BUILD
# on the host or (WHERE = kvm-lab) in the lab, adds its counts to
# total_pass and total_fail, sets status=1 when a test failed, and appends
# its line (where, counts, time) to report[]. It reads lab_timeout.
#
# A lab that froze whole (kvm-lab.sh stops it when its heartbeat ends:
# QEMU's emulated CPU has been seen to stop taking interrupts while a
# nested guest spins) says nothing of the tests it had not finished: they
# run again in a new lab, up to twice more. A test that ended before the
# freeze keeps its result, a failure as much as a pass.
run_label() {
	local name=$1 where=$2 dir=$3 start=$SECONDS log rc line pass fail
	local attempt froze=0 note='' stalls=0 ended_re='' ended_ok=0
	local ended_bad=0 t result
	local -a skip=()
	shift 3
	log=$(mktemp)
	echo "== $name: $where"
	set +e
	if [ "$where" = kvm-lab ]; then
		for attempt in 1 2 3; do
			[ -z "$ended_re" ] || skip=(-E "^($ended_re)\$")
			scripts/kvm-lab.sh --timeout "$lab_timeout" -- \
				ctest --test-dir "$dir" --output-on-failure "$@" \
				"${skip[@]}" 2>&1 | tee "$log"
			rc=${PIPESTATUS[0]}
			# Stalls an NMI woke (kvm-lab.sh's ISOVM_LAB_KICK).
			stalls=$((stalls + $(grep -c '^kvm-lab: the lab stalled' "$log" || true)))
			[ "$rc" -eq 125 ] &&
				grep -q '^kvm-lab: error: the lab froze' "$log" || break
			froze=$((froze + 1))
			[ "$attempt" -lt 3 ] || break
			# "1/3 Test #81: kvm_linux ....   Passed  138.12 sec",
			# "2/3 Test #82: kvm_linux_blk ...***Failed  9.10 sec"
			while read -r t result; do
				ended_re+="${ended_re:+|}$t"
				if [ "$result" = Passed ]; then
					ended_ok=$((ended_ok + 1))
				else
					ended_bad=$((ended_bad + 1))
				fi
			done < <(sed -nE 's/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: ([A-Za-z0-9_.-]+) [. *]+([A-Za-z]+).*/\1 \2/p' "$log")
			echo "test: $name: the lab froze; running the tests it had not finished again" >&2
		done
		[ "$froze" -eq 0 ] || note+=" (lab froze: $froze)"
		[ "$stalls" -eq 0 ] || note+=" (lab stalls woken: $stalls)"
		(exit "$rc")
	else
		ctest --test-dir "$dir" --output-on-failure "$@" 2>&1 |
			tee "$log"
	fi
	rc=${PIPESTATUS[0]}
	set -e
	# "100% tests passed, 0 tests failed out of 50"; ctest may colour it
	# (a terminal in the lab once did): the escapes go first.
	line=$(sed 's/\x1b\[[0-9;]*m//g' "$log" |
		grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' |
		tail -n1 || true)
	rm -f "$log"
	if [ -z "$line" ]; then
		echo "test: $name: ctest gave no summary (status $rc)" >&2
		pass=0
		fail=1
	else
		fail=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
		pass=$(( $(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line") - fail ))
		[ "$rc" -eq 0 ] || [ "$fail" -gt 0 ] || fail=1
	fi
	pass=$((pass + ended_ok))
	fail=$((fail + ended_bad))
	[ "$fail" -eq 0 ] || status=1
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	report+=("$(printf '%-12s %-8s %4d passed %3d failed %5d s%s' \
		"$name" "$where" "$pass" "$fail" $((SECONDS - start)) "$note")")
}
