#!/usr/bin/env bash
# demo-net.sh ISOVM-RUN-ARGS...: runs `build/bin/isovm run ARGS --net
# tap=tap0,...` inside a network namespace of its own whose tap0 is the
# host's side, 10.0.2.1/24, so the demo's guest (10.0.2.15) has someone to
# ping; the namespace and its tap are removed afterwards. isovm's exit
# status is this script's.
set -euo pipefail
ns=isovm-demo-$$
cleanup() { ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" tuntap add dev tap0 mode tap
ip -n "$ns" addr add 10.0.2.1/24 dev tap0
ip -n "$ns" link set tap0 up
set +e
ip netns exec "$ns" build/bin/isovm run "$@" \
	--net tap=tap0,mac=52:54:00:12:34:56
status=$?
set -e
exit "$status"
