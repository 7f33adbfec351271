/*
 * test_linux_net.c: Debian's virtio_net driver on isovm's net device, each
 * test in a network namespace of its own: eth0 comes up with the MAC isovm
 * gave it and pings the host side of the tap; iperf3 both ways against an
 * iperf3 server on the host side; and two VMs at once, the Linux guest and
 * the test guest, on one bridge, reaching each other. Like test_linux.c,
 * every test needs hardware virtualization (the KVM lab elsewhere).
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "tests/integration/harness.h"
#include "tests/integration/netns.h"

#define LN_TIMEOUT_MS 300000
#define LN_MAC	      "52:54:00:ab:cd:02"
#define LN_TG_MAC     "52:54:00:ab:cd:03"

static pid_t ln_iperf = -1;

static void ln_fini(void)
{
	if (ln_iperf > 0) {
		kill(ln_iperf, SIGKILL);
		waitpid(ln_iperf, NULL, 0);
		ln_iperf = -1;
	}
	netns_remove();
}

TestSuite(linux_net, .fini = ln_fini);

static void ln_need_guest(void)
{
	harness_need_hw_virt();
	cr_assert_eq(access(HARNESS_GUEST_DIR "/vmlinux", R_OK), 0,
		     "the Linux guest was not built");
}

/* Boots the Linux guest on tap 'tap' with mac LN_MAC and the command line. */
static void ln_boot(struct vmrun *r, const char *tap, const char *cmdline,
		    const struct vmrun_opts *o)
{
	char net[64];
	char *argv[] = {(char *)HARNESS_ISOVM,
			"run",
			"--kernel",
			HARNESS_GUEST_DIR "/vmlinux",
			"--initrd",
			HARNESS_GUEST_DIR "/initramfs.cpio.gz",
			"--memory",
			"512M",
			"--log-level",
			"debug",
			"--net",
			net,
			"--cmdline",
			(char *)cmdline,
			NULL};

	snprintf(net, sizeof(net), "tap=%s,mac=%s", tap, LN_MAC);
	cr_assert_eq(vmrun_opts(r, LN_TIMEOUT_MS, o, argv), 0);
	if (r->status != 0 || r->timed_out)
		vmrun_dump(r, cmdline);
	cr_assert(!r->timed_out, "the guest did not finish in time");
	cr_assert_eq(r->status, ISOVM_EXIT_POWEROFF, "exit status %d",
		     r->status);
}

static void ln_report(const struct vmrun *r, const char *name, char *line,
		      size_t cap)
{
	char needle[64];

	snprintf(needle, sizeof(needle), "ISOVM-TEST name=%s status=pass",
		 name);
	if (!vmrun_line(r, needle, line, cap))
		vmrun_dump(r, name);
	cr_assert_not_null(vmrun_line(r, needle, line, cap),
			   "no passing %s report", name);
}

Test(linux_net, eth0_has_our_mac_and_pings_the_host_side)
{
	struct vmrun r;
	char line[512];

	ln_need_guest();
	netns_enter("lping");
	netns_tap("tap0", "10.0.0.1/24");
	ln_boot(&r, "tap0",
		"console=ttyS0 isovm.test=net-ping isovm.net.ip=10.0.0.2/24 "
		"isovm.net.peer=10.0.0.1 isovm.net.count=20 "
		"isovm.net.mac=" LN_MAC,
		NULL);
	ln_report(&r, "net-ping", line, sizeof(line));
	cr_assert_not_null(strstr(line, "mac=" LN_MAC), "%s", line);
	cr_assert_eq(vmrun_key(line, "received"), 20, "%s", line);
	cr_assert_eq(vmrun_key(line, "loss_pct"), 0, "%s", line);
	vmrun_free(&r);
}

Test(linux_net, iperf3_both_ways_against_the_host_side)
{
	struct vmrun r;
	char line[512];

	ln_need_guest();
	netns_enter("liperf");
	netns_tap("tap0", "10.0.0.1/24");
	ln_iperf = fork();
	cr_assert_geq(ln_iperf, 0);
	if (ln_iperf == 0) {
		freopen("/dev/null", "w", stdout);
		execlp("iperf3", "iperf3", "-s", "-B", "10.0.0.1", NULL);
		_exit(127);
	}
	/* The server serves the guest's two runs, one after the other. */
	ln_boot(&r, "tap0",
		"console=ttyS0 isovm.test=net-iperf isovm.net.ip=10.0.0.2/24 "
		"isovm.net.peer=10.0.0.1 isovm.net.secs=3",
		NULL);
	ln_report(&r, "net-iperf", line, sizeof(line));
	cr_assert_gt(vmrun_key(line, "tx_bytes"), 0, "%s", line);
	cr_assert_gt(vmrun_key(line, "rx_bytes"), 0, "%s", line);
	printf("linux net-iperf over isovm: %s\n", line);
	vmrun_free(&r);
}

/* The second VM, the test guest on tap1, once the Linux guest is up. */
struct ln_second {
	pthread_t th;
	bool started;
	struct vmrun r;
	int ret;
};

static void *ln_second_run(void *arg)
{
	struct ln_second *s = arg;
	char *argv[] = {(char *)HARNESS_ISOVM,
			"run",
			"--kernel",
			(char *)HARNESS_TESTGUEST,
			"--net",
			"tap=tap1,mac=" LN_TG_MAC,
			"--cmdline",
			"test=net-arp-ping net-arp-ping.ip=10.0.0.3 "
			"net-arp-ping.peer=10.0.0.2 net-arp-ping.count=100 "
			"net-arp-ping.interval_ms=50 "
			"net-arp-ping.timeout_ms=20000",
			NULL};

	s->ret = vmrun(&s->r, LN_TIMEOUT_MS, argv);
	return NULL;
}

static void ln_hook(struct vmrun *r, void *arg)
{
	struct ln_second *s = arg;

	if (s->started || !strstr(r->out, "name=net-responder status=running"))
		return;
	s->started = true;
	cr_assert_eq(pthread_create(&s->th, NULL, ln_second_run, s), 0);
}

Test(linux_net, two_vms_on_one_bridge_reach_each_other)
{
	struct ln_second s = {0};
	struct vmrun_opts o = {.hook = ln_hook, .arg = &s};
	struct vmrun r;
	char line[512];

	ln_need_guest();
	netns_enter("lbr");
	netns_ip("link add br0 type bridge");
	netns_ip("link set br0 up");
	netns_tap("tap0", NULL);
	netns_tap("tap1", NULL);
	netns_ip("link set tap0 master br0");
	netns_ip("link set tap1 master br0");
	/* The Linux guest answers pings for 40 s and pings the test guest
	 * once it answers; the test guest starts once eth0 is up, pings
	 * the Linux guest 100 times and answers its pings meanwhile. */
	ln_boot(&r, "tap0",
		"console=ttyS0 isovm.test=net-responder "
		"isovm.net.ip=10.0.0.2/24 isovm.net.peer=10.0.0.3 "
		"isovm.net.count=5 isovm.net.secs=40",
		&o);
	cr_assert(s.started, "the Linux guest never said it was up");
	pthread_join(s.th, NULL);
	cr_assert_eq(s.ret, 0);
	if (s.r.status != 0 ||
	    !vmrun_line(&s.r, "name=net-arp-ping status=pass", line,
			sizeof(line)))
		vmrun_dump(&s.r, "the test guest");
	cr_assert_eq(s.r.status, 0);
	cr_assert_not_null(vmrun_line(&s.r, "name=net-arp-ping status=pass",
				      line, sizeof(line)));
	cr_assert_eq(vmrun_key(line, "loss"), 0, "%s", line);
	ln_report(&r, "net-responder", line, sizeof(line));
	cr_assert_eq(vmrun_key(line, "received"), 5, "%s", line);
	cr_assert_geq(vmrun_key(line, "echos_in"), 100, "%s", line);
	vmrun_free(&s.r);
	vmrun_free(&r);
}
