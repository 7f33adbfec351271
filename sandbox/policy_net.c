/*
 * policy_net.c: isovm-net once it is set up: the device-server base, and
 * frames in and out of the one tap fd the VMM gave it. The tap was
 * checked and made non-blocking during set-up; the loop watches it with
 * the base's epoll rows.
 */
#include <linux/if_tun.h>
#include <sys/ioctl.h>

#include "sandbox/seccomp_policy.h"

static const struct sandbox_syscall sandbox_net_rows[] = {
	SANDBOX_ROW_SLOT(read, 0, SANDBOX_SLOT_BACKEND,
			 "RX: one frame per read, into a posted buffer"),
	SANDBOX_ROW_SLOT(writev, 0, SANDBOX_SLOT_BACKEND,
			 "TX: one frame per write, its checked header copy "
			 "then the frame"),
	SANDBOX_ROW_EQ(ioctl, 1, TUNSETOFFLOAD,
		       "the offloads the driver accepted; none after a reset"),
};

const struct sandbox_policy sandbox_policy_net =
	SANDBOX_POLICY_ON("isovm-net", &sandbox_policy_srv, sandbox_net_rows);
