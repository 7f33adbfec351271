#!/usr/bin/env bash
# kvm-kind.sh: prints what KVM this host offers, one word:
#   hw    /dev/kvm opens and the CPU has vmx or svm: every guest runs here;
#   pvm   /dev/kvm opens but the CPU shows no vmx/svm (guest ring 0 is
#         emulated, so the Linux guest cannot boot here; the test guest can);
#   none  no /dev/kvm that this user can open.
# ISOVM_KVM_KIND=hw|pvm|none overrides it (to try another kind's routing).
set -euo pipefail
if [ -n "${ISOVM_KVM_KIND:-}" ]; then
	case "$ISOVM_KVM_KIND" in
	hw | pvm | none) echo "$ISOVM_KVM_KIND"; exit 0 ;;
	*) echo "kvm-kind: ISOVM_KVM_KIND must be hw, pvm or none" >&2; exit 2 ;;
	esac
fi
if ! [ -c /dev/kvm ] || ! (: <>/dev/kvm) 2>/dev/null; then
	echo none
elif grep -qw -e vmx -e svm /proc/cpuinfo; then
	echo hw
else
	echo pvm
fi
