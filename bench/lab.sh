# bench/lab.sh: sourced by bench/*/run.sh (from the top of the tree):
# where a benchmark's KVM parts run.
#
# bench_kind prints hw, pvm or none (scripts/lab/kvm-kind.sh, which
# ISOVM_KVM_KIND overrides):
#   hw    vmx/svm and a /dev/kvm: everything on this host;
#   pvm   a /dev/kvm without vmx/svm: guest ring 0 is emulated, so the
#         test guest runs here but a stock Linux kernel cannot boot: the
#         Linux guest goes to the lab;
#   none  no usable /dev/kvm: every KVM part goes to the lab.
# Inside the lab (ISOVM_IN_LAB=1) it is always hw: the lab's CPU has svm.
#
# bench_in_lab SECONDS CMD [ARGS...] runs CMD inside scripts/kvm-lab.sh
# (QEMU TCG emulating AMD-V) with debugfs mounted there, so that a
# benchmark can read KVM's counters. The lab's KVM runs under TCG: its
# absolute times mean nothing, only ratios taken within one run do. The
# lab merges CMD's stderr into its stdout: JSON lines go back to stdout,
# every other line (progress, errors) to stderr.

bench_kind() {
	scripts/lab/kvm-kind.sh
}

bench_in_lab() {
	local secs=$1 lab status=0

	shift
	bench_lab_out=$(mktemp)
	trap 'rm -f "$bench_lab_out"' EXIT
	# Through a file, not a pipe: the lab's watchdog (a sleep) outlives
	# the lab holding its stdout, and a pipe would stay open until the
	# time limit. The lab does not mount debugfs; bench-boot --kvm-stats
	# reads it.
	scripts/kvm-lab.sh --timeout "$secs" -- bash -c \
		'mountpoint -q /sys/kernel/debug ||
			mount -t debugfs debugfs /sys/kernel/debug
		exec "$@"' bench-lab "$@" </dev/null >"$bench_lab_out" &
	lab=$!
	tail -n +1 -f --pid="$lab" "$bench_lab_out" | bench_split_json
	wait "$lab" || status=$?
	rm -f "$bench_lab_out"
	return "$status"
}

bench_split_json() {
	local line

	while IFS= read -r line; do
		case "$line" in
		'{'*) printf '%s\n' "$line" ;;
		*) printf '%s\n' "$line" >&2 ;;
		esac
	done
}
