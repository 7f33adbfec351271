/*
 * test_net.c: virtio-net over a tap with the test guest, each test in a
 * network namespace of its own: every bad --net refused before the VM
 * starts; net-echo of numbered frames through the tap; net-arp-ping
 * against the host side; frames a hostile driver sends dropped and
 * counted while the device goes on.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "tests/integration/harness.h"
#include "tests/integration/netns.h"

#define NET_TIMEOUT_MS 60000
#define GUEST_MAC      "52:54:00:12:34:56"

static void net_fini(void)
{
	netns_remove();
}

TestSuite(net_args, .fini = net_fini);

/* isovm refuses before any VM exists: status 2 and one line naming it. */
static void expect_refused(const char *spec, const char *needle,
			   const char *as_user)
{
	char *argv[16];
	struct vmrun r;
	char line[512];
	int n = 0;

	if (as_user) {
		argv[n++] = "/usr/bin/setpriv";
		argv[n++] = "--reuid=65534";
		argv[n++] = "--regid=65534";
		argv[n++] = "--clear-groups";
		argv[n++] = "--inh-caps=-all";
	}
	argv[n++] = (char *)HARNESS_ISOVM;
	argv[n++] = "run";
	argv[n++] = "--kernel";
	argv[n++] = (char *)HARNESS_TESTGUEST;
	argv[n++] = "--net";
	argv[n++] = (char *)spec;
	argv[n] = NULL;
	cr_assert_eq(vmrun(&r, NET_TIMEOUT_MS, argv), 0);
	if (r.status != ISOVM_EXIT_USAGE || !vmrun_line(&r, needle, line,
							sizeof(line)))
		vmrun_dump(&r, spec);
	cr_assert_eq(r.status, ISOVM_EXIT_USAGE, "--net %s: status %d", spec,
		     r.status);
	cr_assert_not_null(vmrun_line(&r, needle, line, sizeof(line)),
			   "--net %s: no '%s'", spec, needle);
	cr_assert_eq(vmrun_count(&r, "isovm: "), 1, "one line: %s", r.err);
	cr_assert_null(strstr(r.out, "ISOVM-TEST"), "no guest ran");
	vmrun_free(&r);
}

Test(net_args, every_bad_net_argument_is_one_clear_error)
{
	int fd;
	struct ifreq ifr;

	netns_enter("args");
	expect_refused("tap=abcdefghijklmnopq", "at most 15 characters", NULL);
	expect_refused("tap=t0,mac=01:00:5e:00:00:01", "not a unicast MAC",
		       NULL);
	expect_refused("tap=t0,mac=52:54:zz:00:00:01", "not a unicast MAC",
		       NULL);
	expect_refused("tap=t0,mtu=20", "mtu=20 is not a number in 68..65535",
		       NULL);
	expect_refused("mac=52:54:00:00:00:01", "tap=IFNAME is required",
		       NULL);
	/* Names that exist and are no tap: a veth and a tun device. */
	netns_ip("link add veth0 type veth peer name veth1");
	expect_refused("tap=veth0", "tap=veth0: the interface exists and is not "
				   "a tap",
		       NULL);
	netns_ip("tuntap add dev tun0 mode tun");
	expect_refused("tap=tun0", "tap=tun0: the interface exists and is not "
				   "a tap",
		       NULL);
	/* Creating a tap needs CAP_NET_ADMIN; an existing root-owned one
	 * refuses another user too. */
	expect_refused("tap=newtap0", "permission denied", "nobody");
	netns_tap("tap1", NULL);
	expect_refused("tap=tap1", "permission denied", "nobody");
	/* A tap another process holds. */
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "tap1");
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	cr_assert_eq(ioctl(fd, TUNSETIFF, &ifr), 0);
	expect_refused("tap=tap1", "tap=tap1: in use by another process",
		       NULL);
	close(fd);
}
