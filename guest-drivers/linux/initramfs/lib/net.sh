# net.sh: the network guest tests' shared steps, sourced by them (which set
# net_test to their name first): reads the isovm.net.* keys, brings eth0 up
# with the guest's address, and pings.

net_sys=/sys/class/net/eth0
net_ip=10.0.0.2/24 net_peer= net_mac= net_mtu= net_count=10 net_secs=

# Prints the test's failure line, reason and any words after it, and ends
# the test.
net_fail() {
	echo "ISOVM-TEST name=$net_test status=fail reason=$*"
	exit 0
}

# True when $1 is a dotted-quad IPv4 address.
net_ipv4_ok() {
	case "$1" in
	'' | *[!0-9.]* | .* | *. | *..*) return 1 ;;
	esac
	set -- $(echo "$1" | tr . ' ')
	[ $# -eq 4 ] || return 1
	for o; do
		[ "${#o}" -le 3 ] && [ "$o" -le 255 ] || return 1
	done
}

# True when $1 is a whole number from 1 to $2 (five digits at most).
net_num_ok() {
	case "$1" in
	'' | *[!0-9]* | ??????*) return 1 ;;
	esac
	[ "$1" -ge 1 ] && [ "$1" -le "$2" ]
}

# Reads the isovm.net.* keys of the command line. It comes from the VMM's
# user: a malformed value fails the test before it reaches a command.
net_keys() {
	set -f
	for w in $(cat /proc/cmdline); do
		case "$w" in
		isovm.net.ip=*) net_ip=${w#isovm.net.ip=} ;;
		isovm.net.peer=*) net_peer=${w#isovm.net.peer=} ;;
		isovm.net.mac=*) net_mac=${w#isovm.net.mac=} ;;
		isovm.net.mtu=*) net_mtu=${w#isovm.net.mtu=} ;;
		isovm.net.count=*) net_count=${w#isovm.net.count=} ;;
		isovm.net.secs=*) net_secs=${w#isovm.net.secs=} ;;
		esac
	done
	# sysfs prints the MAC in lower case.
	net_mac=$(echo "$net_mac" | tr A-F a-f)
	h='[0-9a-f][0-9a-f]'
	case "$net_mac" in
	'' | $h:$h:$h:$h:$h:$h) ;;
	*) net_fail bad-keys ;;
	esac
	net_ipv4_ok "${net_ip%/*}" && net_num_ok "${net_ip#*/}" 32 ||
		net_fail bad-keys
	[ -z "$net_peer" ] || net_ipv4_ok "$net_peer" || net_fail bad-keys
	[ -z "$net_mtu" ] || net_num_ok "$net_mtu" 65535 || net_fail bad-keys
	net_num_ok "$net_count" 10000 || net_fail bad-keys
	[ -z "$net_secs" ] || net_num_ok "$net_secs" 86400 || net_fail bad-keys
}

# Brings lo and eth0 up, eth0 with net_ip, and waits for its carrier. Sets
# mac and mtu to eth0's; fails the test when they differ from the
# expected ones (isovm.net.mac=, isovm.net.mtu=).
net_up() {
	# virtio_net registers eth0 while /init loads it; a moment's grace.
	i=0
	while [ ! -e $net_sys ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -e $net_sys ] || net_fail no-eth0
	mac=$(cat $net_sys/address)
	mtu=$(cat $net_sys/mtu)
	[ -z "$net_mac" ] || [ "$mac" = "$net_mac" ] ||
		net_fail mac-mismatch mac="$mac" expected="$net_mac"
	[ -z "$net_mtu" ] || [ "$mtu" = "$net_mtu" ] ||
		net_fail mtu-mismatch mtu="$mtu" expected="$net_mtu"
	ip link set lo up
	ip addr add "$net_ip" dev eth0 || net_fail addr-failed mac="$mac"
	ip link set eth0 up || net_fail link-up-failed mac="$mac"
	# The carrier is the device's link-up status bit (VIRTIO_NET_F_STATUS).
	i=0
	while [ "$(cat $net_sys/carrier 2>/dev/null)" != 1 ] &&
	      [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(cat $net_sys/carrier 2>/dev/null)" = 1 ] ||
		net_fail no-carrier mac="$mac" mtu="$mtu"
}

# Pings $1 $2 times, 0.2 s apart. Sets sent, received, loss (per cent)
# and rtt (mean round trip in ms, "none" when nothing came back).
net_ping() {
	out=$(ping -q -c "$2" -i 0.2 -W 2 -w $(($2 / 5 + 10)) "$1" 2>&1)
	sent=$(echo "$out" |
	       sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p')
	received=$(echo "$out" |
		   sed -n 's/.* \([0-9]*\) packets received.*/\1/p')
	loss=$(echo "$out" | sed -n 's/.* \([0-9]*\)% packet loss.*/\1/p')
	rtt=$(echo "$out" |
	      sed -n 's|^round-trip min/avg/max = [^/]*/\([^/]*\)/.*|\1|p')
	sent=${sent:-0} received=${received:-0} loss=${loss:-100}
	rtt=${rtt:-none}
}
