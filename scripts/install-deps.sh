#!/usr/bin/env bash
# Installs the Debian 12 packages that building isovm, its tests and its
# guests need. Idempotent; quick when everything is present; never prompts.
# QEMU is here because tests boot the test guest and the Linux guest under
# it as an independent check of the guests; iperf3 and ping are the host's
# end of the guests' network tests; fio, used only by benchmarks, is
# installed by the bench scripts.
set -euo pipefail

pkgs=(
	build-essential cmake pkg-config
	libseccomp-dev libprotobuf-c-dev protobuf-c-compiler
	libevent-dev libcriterion-dev
	busybox-static cpio gzip xz-utils zstd kmod binutils
	libelf-dev bc
	gcc-12 make
	util-linux iproute2
	qemu-system-x86 python3 iperf3 iputils-ping
)

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages (${missing[*]}); run as root" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
