#!/usr/bin/env bash
# test-kvm-lab.sh: scripts/kvm-lab.sh does what it promises: CMD runs as
# root in the caller's directory with the caller's environment, a real
# /dev/kvm, a /tmp that holds O_DIRECT files, sockets and fifos, an empty
# stdin when there is no terminal; its output streams while it runs; its
# exit status comes back; kvm_amd runs without virtual GIF; and each
# failure (no QEMU, no svm, the time limit, a frozen lab, a host disk too
# full for the scratch disk) is one clear line and status 125; a frozen
# lab also shows its log and its CPU's state; a lab whose heartbeat stops
# for a while gets an NMI, takes it, goes on and says it stalled.
set -uo pipefail
cd "$(dirname "$0")/../.."
lab=scripts/kvm-lab.sh
fails=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
expect() { # expect WHAT HAYSTACK NEEDLE
	if grep -qF -- "$3" <<<"$2"; then pass "$1"; else fail "$1: no '$3' in: $2"; fi
}

# 1. One run checks the inside; each line is stamped with the host's
# clock as it arrives, to see the output stream.
inside='
echo "whoami=$(id -u) pwd=$PWD foo=$LAB_TEST_FOO tmpdir=$TMPDIR in_lab=$ISOVM_IN_LAB"
echo "marker=$(cat marker)"
echo written >from-lab
[ -c /dev/kvm ] && exec 3<>/dev/kvm && echo kvm=usable
echo "tmpfs=$(stat -f -c %T /tmp)"
echo "vgif=$(cat /sys/module/kvm_amd/parameters/vgif)"
dd if=/dev/zero of=/tmp/direct bs=4096 count=4 oflag=direct status=none && echo odirect=ok
mkfifo /tmp/fifo && echo fifo=ok
python3 -c "import socket; socket.socket(socket.AF_UNIX).bind(\"/tmp/sock\")" && echo socket=ok
echo "stdin=$(head -c 10 | wc -c)"
[ -t 1 ] && echo stdout=terminal || echo stdout=not-a-terminal
echo first-line
sleep 4
echo last-line
exit 7'
# From a folder below /tmp, which the lab covers with its scratch disk:
# the folder must still be seen, and written, through it.
here=$(mktemp -d /tmp/isovm-labtest-XXXXXX)
echo host-side >"$here/marker"
start=$(date +%s.%N)
out=$(cd "$here" && LAB_TEST_FOO='a b$c' "$OLDPWD/$lab" -- bash -c "$inside" |
	while IFS= read -r l; do echo "$(date +%s.%N) $l"; done; exit "${PIPESTATUS[0]}")
rc=$?
end=$(date +%s.%N)
echo "$out" | sed 's/^/  | /'
[ "$rc" -eq 7 ] && pass "exit status comes back" || fail "exit status $rc, want 7"
expect "runs as root in the caller's directory with its environment" "$out" \
	"whoami=0 pwd=$here foo=a b\$c tmpdir=/tmp in_lab=1"
expect "a host folder below /tmp is seen in the lab" "$out" "marker=host-side"
[ "$(cat "$here/from-lab" 2>/dev/null)" = written ] &&
	pass "... and what the lab writes there reaches the host" ||
	fail "the lab's write below /tmp did not reach the host"
rm -rf "$here"
expect "a usable /dev/kvm" "$out" "kvm=usable"
expect "/tmp is the ext4 scratch disk" "$out" "tmpfs=ext2/ext3"
expect "kvm_amd runs without virtual GIF" "$out" "vgif=0"
expect "O_DIRECT works in /tmp" "$out" "odirect=ok"
expect "fifos work in /tmp" "$out" "fifo=ok"
expect "unix sockets work in /tmp" "$out" "socket=ok"
expect "stdin is empty without a terminal" "$out" "stdin=0"
expect "stdout is not a terminal without one" "$out" "stdout=not-a-terminal"
t_first=$(awk '/ first-line$/ { print $1 }' <<<"$out")
t_last=$(awk '/ last-line$/ { print $1 }' <<<"$out")
if [ -n "$t_first" ] && [ -n "$t_last" ] &&
   awk -v a="$t_first" -v b="$t_last" 'BEGIN { exit !(b - a >= 3) }'; then
	pass "output streams while the command runs"
else
	fail "output did not stream (first at $t_first, last at $t_last)"
fi
# Informational: the lab's start-up (the first line's arrival).
t_cmd=$(head -n1 <<<"$out" | cut -d' ' -f1)
awk -v s="$start" -v c="$t_cmd" -v e="$end" \
	'BEGIN { printf "info: start to first command %.1f s, whole run %.1f s\n", c - s, e - s }'

# 2. A signal's status (128 + n) comes back whole; read through a pipe,
# the lab's output ends when the lab does, not at its time limit.
start=$SECONDS
"$lab" --timeout 300 -- sh -c 'kill -TERM $$' 2>&1 | cat >/dev/null
rc=${PIPESTATUS[0]}
[ "$rc" -eq 143 ] && pass "a killed command's status (143) comes back" ||
	fail "status $rc, want 143"
[ $((SECONDS - start)) -lt 120 ] &&
	pass "a pipe from the lab ends with it ($((SECONDS - start)) s)" ||
	fail "a pipe from the lab stayed open $((SECONDS - start)) s"

# 3. Failures: one line each, status 125.
err=$(QEMU=/nonexistent/qemu "$lab" -- true 2>&1)
rc=$?
[ "$rc" -eq 125 ] && expect "no QEMU: one clear line" "$err" \
	"kvm-lab: error: QEMU (/nonexistent/qemu) is not installed" ||
	fail "no QEMU: status $rc"
err=$(ISOVM_LAB_CPU=max,svm=off "$lab" -- true 2>&1)
rc=$?
[ "$rc" -eq 125 ] && expect "no svm: one clear line" "$err" \
	"kvm-lab: error: the lab's kernel offers no /dev/kvm" ||
	fail "no svm: status $rc ($err)"
err=$("$lab" --timeout 15 -- sleep 600 2>&1)
rc=$?
[ "$rc" -eq 125 ] && expect "time limit: names the command" "$err" \
	"kvm-lab: error: time limit of 15 s reached while running: sleep 600" ||
	fail "time limit: status $rc ($err)"
[ "$(grep -c . <<<"$err")" -eq 1 ] && pass "time limit: one line" ||
	fail "time limit: more than one line: $err"
# A lab whose heartbeat stops is stopped as frozen, well before its limit.
start=$SECONDS
err=$(ISOVM_LAB_FROZEN=20 "$lab" --timeout 600 -- sh -c \
	'kill -STOP "$(cat /run/kvm-lab-heartbeat.pid)"; sleep 600' 2>&1)
rc=$?
[ "$rc" -eq 125 ] && expect "frozen lab: one clear line" "$err" \
	"kvm-lab: error: the lab froze (no heartbeat for" ||
	fail "frozen lab: status $rc ($err)"
[ $((SECONDS - start)) -lt 120 ] &&
	pass "frozen lab: stopped after $((SECONDS - start)) s" ||
	fail "frozen lab: took $((SECONDS - start)) s"
# ...and shows what its CPU was doing, read from QEMU's monitor.
expect "frozen lab: its state" "$err" "kvm-lab: its CPU when it was stopped:"
expect "frozen lab: run state" "$err" "VM status: running"
expect "frozen lab: registers" "$err" "RIP="
# A lab that stalls for a while gets an NMI, which its kernel takes as an
# unknown NMI and goes on; the stall is said once the beat comes back.
err=$(ISOVM_LAB_KICK=10 "$lab" --timeout 300 -- sh -c \
	'hb=$(cat /run/kvm-lab-heartbeat.pid); kill -STOP "$hb"; sleep 22
	 kill -CONT "$hb"; sleep 12
	 echo "nmis=$(dmesg | grep -c "NMI received for unknown reason")"' 2>&1)
rc=$?
[ "$rc" -eq 0 ] && pass "stalled lab: the command ends well" ||
	fail "stalled lab: status $rc ($err)"
if grep -Eq '^nmis=[1-9]' <<<"$err"; then
	pass "stalled lab: its kernel took the NMI"
else
	fail "stalled lab: no NMI in its log: $err"
fi
expect "stalled lab: the stall is said" "$err" "kvm-lab: the lab stalled"
# Too little host disk for the scratch disk: refused at once, one line.
err=$(ISOVM_LAB_MIN_FREE_MB=999999999 "$lab" -- true 2>&1)
rc=$?
[ "$rc" -eq 125 ] && expect "disk full: one clear line" "$err" \
	"kvm-lab: error: only " ||
	fail "disk full: status $rc ($err)"
err=$("$lab" --timeout x -- true 2>&1)
[ $? -eq 125 ] && expect "bad --timeout" "$err" "--timeout takes whole seconds" ||
	fail "bad --timeout accepted"

[ "$fails" -eq 0 ] || { echo "$fails failed"; exit 1; }
echo "all passed"
