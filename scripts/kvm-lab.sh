#!/usr/bin/env bash
# kvm-lab.sh [--timeout S] [--] CMD [ARGS...]: runs CMD, as root, in the
# current directory, inside the KVM lab, and exits with CMD's status.
#
# The lab is QEMU's TCG emulating an AMD-V CPU with nested paging (-cpu
# max): Debian's kernel (the one the Linux guest uses) loads kvm_amd under
# it and offers a real /dev/kvm whatever the host has. CMD runs chrooted
# into the host's root, shared over virtio-9p, so every path is the same
# inside; /tmp is a fresh ext4 scratch disk (it holds O_DIRECT files,
# sockets and fifos), /dev/shm and /run are tmpfs. CMD's stdout and stderr
# stream to stdout; when stdin is a terminal it is CMD's terminal too.
# Timings inside mean something only as ratios within one run.
#
# Environment: ISOVM_LAB_MEMORY (default 6G), ISOVM_LAB_CPU (QEMU -cpu,
# default max; without svm there is no KVM), ISOVM_LAB_SCRATCH (size of
# the scratch disk, default 32G, sparse), ISOVM_LAB_FROZEN (seconds
# without the lab's heartbeat before it counts as frozen and is stopped,
# default 120), ISOVM_LAB_KICK (seconds of silence before each NMI sent
# to wake a stalled lab, default 20; 0: none), ISOVM_LAB_SCRATCH_DIR
# (where the scratch disk's file lives on the host, default /dev/shm:
# RAM), ISOVM_LAB_MIN_FREE_MB (room it needs there, default 2048). CMD
# sees the caller's environment with TMPDIR=/tmp and ISOVM_IN_LAB=1. The lab's monitor is the socket monitor.sock in its run
# folder (build/lab/runs/), for looking into a lab that stopped answering.
set -euo pipefail

usage() {
	echo "usage: scripts/kvm-lab.sh [--timeout SECONDS] [--] CMD [ARGS...]" >&2
	exit 2
}
lab_error() {
	echo "kvm-lab: error: $*" >&2
	exit 125
}

timeout_s=0
while [ $# -gt 0 ]; do
	case "$1" in
	--timeout)
		[ $# -ge 2 ] || usage
		[[ "$2" =~ ^[0-9]+$ ]] || lab_error "--timeout takes whole seconds, not '$2'"
		timeout_s=$2
		shift 2
		;;
	--timeout=*)
		timeout_s=${1#--timeout=}
		[[ "$timeout_s" =~ ^[0-9]+$ ]] || lab_error "--timeout takes whole seconds, not '$timeout_s'"
		shift
		;;
	--) shift; break ;;
	-*) usage ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || usage
[ "$(id -u)" -eq 0 ] || lab_error "the lab runs as root (it shares the host's root with the emulated machine)"

top=$(cd "$(dirname "$0")/.." && pwd)
qemu=${QEMU:-qemu-system-x86_64}
command -v "$qemu" >/dev/null ||
	lab_error "QEMU ($qemu) is not installed: run scripts/install-deps.sh"
command -v mkfs.ext4 >/dev/null || lab_error "mkfs.ext4 is missing (e2fsprogs)"

# The lab's kernel is the Linux guest's (its ELF, booted through the PVH
# entry: decompressing the bzImage under TCG takes 5 s): build that (cached), then the
# lab's initramfs (cached too).
"$top/guest-drivers/linux/build-guest.sh" "$top/build/guest" >/dev/null ||
	lab_error "building the Linux guest (the lab's kernel) failed"
"$top/scripts/lab/build-lab.sh" "$top/build/lab" "$top/build/guest" >/dev/null ||
	lab_error "building the lab's initramfs failed"

# The run folder must be outside /tmp: the lab mounts its scratch disk there.
mkdir -p "$top/build/lab/runs"
run=$(mktemp -d "$top/build/lab/runs/run.XXXXXX")
qemu_pid=
own=
cleanup() {
	[ -z "$qemu_pid" ] || kill -KILL "$qemu_pid" 2>/dev/null || true
	rm -rf "$run"
	[ -z "$own" ] || rm -rf "$own"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

{
	echo '# written by kvm-lab.sh'
	export -p | grep -Ev '^declare -x (OLDPWD|PWD|SHLVL|_|TMPDIR)(=|$)'
	echo 'export TMPDIR=/tmp ISOVM_IN_LAB=1'
	printf 'cd -- %q || exit 126\n' "$PWD"
	printf 'exec'
	printf ' %q' "$@"
	printf '\n'
} >"$run/cmd.sh"

# The lab mounts its own /tmp and /run: a project or directory below them
# is bound through (its top folder there), anything below /dev cannot be.
for p in "$PWD" "$top"; do
	case "$p/" in
	/tmp/?*/* | /run/?*/*) cut -d/ -f1-3 <<<"$p" ;;
	/dev/*) lab_error "the lab cannot reach $p (below /dev)" ;;
	esac
done | sort -u >"$run/keep"

# The scratch disk is a sparse file in the host's RAM (/dev/shm, where it
# is writable), not on its disk: a host disk that fills up would fail the
# lab's writes. Its folder must have room for what the lab writes; too
# little fails here, not as I/O errors deep in a test. QEMU gets it as an
# open fd and the name goes at once: the RAM comes back when QEMU ends,
# however it ends.
scratch_dir=${ISOVM_LAB_SCRATCH_DIR:-/dev/shm}
[ -d "$scratch_dir" ] && [ -w "$scratch_dir" ] || scratch_dir=$run
avail_mb=$(df --output=avail -B1M "$scratch_dir" | tail -n1 | tr -d ' ')
[ "$avail_mb" -ge "${ISOVM_LAB_MIN_FREE_MB:-2048}" ] ||
	lab_error "only $avail_mb MiB free in $scratch_dir" \
		"(the lab's scratch disk grows there; it needs" \
		"${ISOVM_LAB_MIN_FREE_MB:-2048} MiB)"
# What only the host reads (the lab's log, its heartbeat, the verdicts)
# lives there too: a full host disk must not stop the heartbeat.
own=$(mktemp -d "$scratch_dir/isovm-lab.XXXXXX")
scratch=$own/scratch.img
truncate -s "${ISOVM_LAB_SCRATCH:-32G}" "$scratch"
mkfs.ext4 -q -F -E lazy_itable_init=1,lazy_journal_init=1 "$scratch" ||
	lab_error "mkfs.ext4 on the scratch disk failed"
# QEMU takes from the set the fd whose access mode it asks for: both.
exec {scratch_fd}<>"$scratch" {scratch_ro_fd}<"$scratch"
rm -f "$scratch"

tty=0
[ -t 0 ] && [ -t 1 ] && tty=1
args=(
	-nodefaults -no-user-config -display none -no-reboot
	-machine q35 -accel tcg,thread=single -cpu "${ISOVM_LAB_CPU:-max}" -smp 1
	-m "${ISOVM_LAB_MEMORY:-6G}"
	-kernel "$top/build/guest/vmlinux"
	-initrd "$top/build/lab/initramfs.cpio"
	-append "console=ttyS0 panic=-1 ${ISOVM_LAB_KARGS:-quiet} lab.run=$run lab.tty=$tty"
	-serial "file:$own/lab.log"
	-serial "file:$own/heartbeat"
	# For looking into a lab that stopped answering (info registers).
	-monitor "unix:$run/monitor.sock,server=on,wait=off"
	-device isa-debug-exit,iobase=0xf4,iosize=0x01
	-fsdev local,id=hostroot,path=/,security_model=passthrough,multidevs=remap
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
	# A host write error (its disk full) reaches the lab as an I/O error;
	# QEMU's default would pause the whole lab, which looks frozen.
	-add-fd "fd=$scratch_fd,set=1" -add-fd "fd=$scratch_ro_fd,set=1"
	-drive "file=/dev/fdset/1,if=none,id=scratch,format=raw,cache=unsafe,werror=report,rerror=report"
	-device virtio-blk-pci,drive=scratch
	-device virtio-serial-pci
	-chardev stdio,id=out,signal=off
	-device virtconsole,chardev=out
)
if [ "$tty" = 1 ]; then
	# Said outright: a background job's stdin is otherwise /dev/null.
	"$qemu" "${args[@]}" <&0 &
else
	"$qemu" "${args[@]}" </dev/null &
fi
qemu_pid=$!
# QEMU holds the scratch disk now; nothing else may keep its RAM alive.
exec {scratch_fd}>&- {scratch_ro_fd}<&-

# The watchdog: QEMU gets SIGKILL at the time limit, or when the lab's
# heartbeat (a byte on its second serial port every 5 s, from its init)
# stops for ${ISOVM_LAB_FROZEN:-120} s: a lab that froze whole runs
# nothing, its own timeouts included. It holds none of our output open,
# so a caller reading our stdout through a pipe sees the end at once.
#
# Before that, every ${ISOVM_LAB_KICK:-20} s of silence it sends the lab
# an NMI through the monitor. TCG sometimes leaves the lab's timer
# interrupt pending in its local APIC, never taken, while the CPU runs a
# nested guest that spins on a lock its other vCPU holds: the guest
# never exits, so the lab never schedules that vCPU. The NMI is meant to
# end the nested run (kvm_amd intercepts it) so the lab takes its timer;
# it has not woken every such freeze (scripts/test.sh runs the tests a
# frozen lab left again).
(
	trap 'exit 0' TERM
	frozen_s=${ISOVM_LAB_FROZEN:-120}
	kick_s=${ISOVM_LAB_KICK:-20}
	last_size=-1
	last_beat=$SECONDS
	kicks=0
	last_kick_at=0
	while :; do
		sleep 5 &
		wait $! || exit 0
		size=$(stat -c %s "$own/heartbeat" 2>/dev/null || echo 0)
		if [ "$size" != "$last_size" ]; then
			if [ "$kicks" -gt 0 ]; then
				# The beat came back after the kicks.
				echo "$((SECONDS - last_beat)) $kicks" >>"$own/kicked"
				kicks=0
			fi
			last_size=$size
			last_beat=$SECONDS
		fi
		if [ "$timeout_s" -gt 0 ] && [ "$SECONDS" -ge "$timeout_s" ]; then
			touch "$own/timed-out"
			break
		fi
		silent=$((SECONDS - last_beat))
		if [ "$kick_s" -gt 0 ] && [ "$silent" -ge "$kick_s" ] &&
		   [ "$silent" -lt "$frozen_s" ] &&
		   [ $((SECONDS - last_kick_at)) -ge "$kick_s" ]; then
			timeout 20 python3 "$top/scripts/lab/monitor-query.py" \
				"$run/monitor.sock" "nmi" >/dev/null 2>&1 || true
			kicks=$((kicks + 1))
			last_kick_at=$SECONDS
		fi
		if [ "$silent" -ge "$frozen_s" ]; then
			# What the lab's CPU was doing, for the error below.
			timeout 20 python3 "$top/scripts/lab/monitor-query.py" \
				"$run/monitor.sock" "info status" "info registers" "info lapic" \
				"x/8i \$pc" >"$own/frozen-cpu" 2>&1
			echo "$((SECONDS - last_beat))" >"$own/frozen"
			break
		fi
	done
	kill -KILL "$qemu_pid"
) </dev/null >/dev/null 2>&1 &
watch_pid=$!
set +e
{ wait "$qemu_pid"; } 2>/dev/null
qemu_status=$?
set -e
qemu_pid=
kill "$watch_pid" 2>/dev/null || true
[ "$tty" = 0 ] || stty sane 2>/dev/null || true

if [ -f "$own/kicked" ]; then
	# Said, not hidden: a stall costs the command that much time.
	while read -r silent kicks; do
		echo "kvm-lab: the lab stalled (no heartbeat for about $silent s);" \
			"NMIs sent: $kicks; it went on" >&2
	done <"$own/kicked"
fi
if [ -f "$own/timed-out" ]; then
	lab_error "time limit of ${timeout_s} s reached while running: $*"
fi
if [ -f "$own/frozen" ]; then
	# The evidence first, the one-line verdict last.
	{
		echo "kvm-lab: the frozen lab's log ends:"
		tail -n 15 "$own/lab.log" 2>/dev/null
		echo "kvm-lab: its CPU when it was stopped:"
		grep -Ev '^(GDT|IDT|[CDEFGS]S |LDT|TR |ST[0-7]|FPR|FCW|XMM|YMM|MXCSR|DR[0-7]|$)' \
			"$own/frozen-cpu" 2>/dev/null | head -n 60
	} >&2
	lab_error "the lab froze (no heartbeat for $(cat "$own/frozen") s)" \
		"while running: $*"
fi
if [ -f "$run/status" ]; then
	exit "$(cat "$run/status")"
fi
if grep -q '^kvm-lab: error:' "$own/lab.log" 2>/dev/null; then
	grep '^kvm-lab: error:' "$own/lab.log" | head -n1 >&2
	exit 125
fi
echo "kvm-lab: error: the lab ended without running the command" \
     "(QEMU status $qemu_status); its log ends:" >&2
tail -n 20 "$own/lab.log" >&2 2>/dev/null || true
exit 125
