#!/usr/bin/env bash
# without-kvm.sh CMD [ARGS...]: runs CMD as on a host with no /dev/kvm: in
# a private mount namespace whose /dev is a fresh tmpfs holding the usual
# nodes but not kvm. For checking, on any host, what a machine without KVM
# does (scripts/test.sh then sends the KVM tests to the lab). Needs root.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 CMD [ARGS...]" >&2; exit 2; }
exec unshare --mount --propagation private -- bash -c '
	set -e
	mount -t tmpfs -o mode=755 none /dev
	mknod -m 666 /dev/null c 1 3
	mknod -m 666 /dev/zero c 1 5
	mknod -m 666 /dev/full c 1 7
	mknod -m 666 /dev/random c 1 8
	mknod -m 666 /dev/urandom c 1 9
	mknod -m 666 /dev/tty c 5 0
	mkdir /dev/pts /dev/shm
	mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
	ln -s pts/ptmx /dev/ptmx
	mount -t tmpfs -o mode=1777 none /dev/shm
	ln -s /proc/self/fd /dev/fd
	ln -s /proc/self/fd/0 /dev/stdin
	ln -s /proc/self/fd/1 /dev/stdout
	ln -s /proc/self/fd/2 /dev/stderr
	exec "$@"' without-kvm "$@"
