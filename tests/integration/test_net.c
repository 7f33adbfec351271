/*
 * test_net.c: virtio-net over a tap with the test guest, each test in a
 * network namespace of its own: every bad --net refused before the VM
 * starts; net-echo of numbered frames through the tap; net-arp-ping
 * against the host side; frames a hostile driver sends dropped and
 * counted while the device goes on.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "guest-drivers/abi/net_test.h"
#include "tests/integration/harness.h"
#include "tests/integration/net_peer.h"
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

/* ---- the test guest on a tap ---- */

TestSuite(net, .fini = net_fini);

/* Boots the test guest with one --net on tap0 (mac GUEST_MAC). */
static void net_boot(struct vmrun *r, const char *cmdline, const char *extra)
{
	char net[96];
	char *argv[] = {(char *)HARNESS_ISOVM,
			"run",
			"--kernel",
			(char *)HARNESS_TESTGUEST,
			"--cmdline",
			(char *)cmdline,
			"--net",
			net,
			"--log-level",
			"debug",
			extra ? (char *)extra : NULL,
			NULL};

	snprintf(net, sizeof(net), "tap=tap0,mac=%s", GUEST_MAC);
	cr_assert_eq(vmrun(r, NET_TIMEOUT_MS, argv), 0);
}

/* The host's side, on its own thread while the guest runs. */
struct net_job {
	struct net_peer_echo_opts o;
	struct net_peer_echo_result r;
	bool evil; /* wait for net-evil's last frame instead */
	struct net_peer p;
	pthread_t th;
	int ret;
};

static void *net_job_run(void *arg)
{
	struct net_job *j = arg;
	uint8_t mac[6];

	net_peer_parse_mac(GUEST_MAC, mac);
	if (!netns_wait_carrier("tap0", NET_TIMEOUT_MS))
		j->ret = -ENODEV;
	else if (j->evil)
		j->ret = net_peer_wait(&j->p, NET_TEST_ETHERTYPE_ECHO,
				       NET_TEST_EVIL_DONE,
				       NET_TEST_EVIL_DONE_LEN, NET_TIMEOUT_MS);
	else
		j->ret = net_peer_echo(&j->p, mac, &j->o, &j->r);
	net_peer_close(&j->p);
	return NULL;
}

/*
 * The host side of tap0, opened here before the guest boots (net-evil
 * sends at once, maybe before the carrier is seen), then run on a thread.
 */
static void net_job_start(struct net_job *j)
{
	cr_assert_eq(net_peer_open(&j->p, "tap0"), 0);
	cr_assert_eq(pthread_create(&j->th, NULL, net_job_run, j), 0);
}

/* A "KEY=N" of a line in the output, or -1. */
static long long net_stat(const struct vmrun *r, const char *prefix,
			  const char *key)
{
	char line[1024];

	if (!vmrun_line(r, prefix, line, sizeof(line)))
		return -1;
	return vmrun_key(line, key);
}

Test(net, echo_of_ten_thousand_numbered_frames_comes_back_in_order)
{
	struct net_job j = {.o = {.count = 10000, .window = 64,
				  .min_size = 60, .max_size = 1514}};
	struct vmrun r;
	char line[512];

	harness_need_kvm();
	netns_enter("echo");
	netns_tap("tap0", NULL);
	net_job_start(&j);
	net_boot(&r, "test=net-echo", NULL);
	pthread_join(j.th, NULL);
	if (r.status != 0 || j.ret)
		vmrun_dump(&r, "net-echo");
	cr_assert_eq(j.ret, 0, "peer: %d %s (sent %llu received %llu)", j.ret,
		     j.r.msg, (unsigned long long)j.r.sent,
		     (unsigned long long)j.r.received);
	cr_assert_eq(j.r.received, 10000);
	cr_assert_eq(r.status, 0);
	cr_assert_not_null(vmrun_line(&r, "ISOVM-TEST name=net-echo status=pass",
				      line, sizeof(line)));
	/* Every frame each way went through the device, none dropped. */
	cr_assert_geq(net_stat(&r, "net0 stats:", "tx"), 0);
	cr_assert_eq(net_stat(&r, "net0 stats:", "rx_oversize"), 0);
	cr_assert_eq(net_stat(&r, "net0 stats:", "tx_oversize"), 0);
	vmrun_free(&r);
}

Test(net, arp_ping_of_the_host_side_loses_nothing)
{
	struct vmrun r;
	char line[512];

	harness_need_kvm();
	netns_enter("ping");
	netns_tap("tap0", "10.0.0.1/24");
	net_boot(&r,
		 "test=net-arp-ping net-arp-ping.ip=10.0.0.2 "
		 "net-arp-ping.peer=10.0.0.1 net-arp-ping.count=100",
		 NULL);
	if (r.status != 0 ||
	    !vmrun_line(&r, "name=net-arp-ping status=pass", line,
			sizeof(line)))
		vmrun_dump(&r, "net-arp-ping");
	cr_assert_eq(r.status, 0);
	cr_assert_not_null(vmrun_line(&r, "name=net-arp-ping status=pass",
				      line, sizeof(line)));
	cr_assert_eq(vmrun_key(line, "received"), 100, "%s", line);
	cr_assert_eq(vmrun_key(line, "loss"), 0, "%s", line);
	vmrun_free(&r);
}

Test(net, frames_a_hostile_driver_sends_are_dropped_and_counted)
{
	struct net_job j = {.evil = true};
	struct vmrun r;
	char line[512];

	harness_need_kvm();
	netns_enter("evil");
	netns_tap("tap0", NULL);
	net_job_start(&j);
	net_boot(&r, "test=net-evil", NULL);
	pthread_join(j.th, NULL);
	if (r.status != 0 || j.ret)
		vmrun_dump(&r, "net-evil");
	cr_assert_eq(j.ret, 0, "the good frame after the bad ones: %d", j.ret);
	cr_assert_eq(r.status, 0, "the VMM went on");
	cr_assert_not_null(vmrun_line(&r, "name=net-evil status=pass", line,
				      sizeof(line)));
	/* Shorter than a header and an empty frame; one over the MTU; a
	 * GSO type never offered and NEEDS_CSUM without CSUM. */
	cr_assert_eq(net_stat(&r, "net0 stats:", "tx_short"), 2);
	cr_assert_eq(net_stat(&r, "net0 stats:", "tx_oversize"), 1);
	cr_assert_eq(net_stat(&r, "net0 stats:", "tx_bad_hdr"), 2);
	cr_assert_eq(net_stat(&r, "net0 stats:", "tx"), 1,
		     "only the good frame reached the tap");
	cr_assert_eq(vmrun_count(&r, "NEEDS_RESET"), 0);
	vmrun_free(&r);
}

/* The net server killed again and again while net-echo runs. */
struct net_kill {
	struct harness_killer k;
	bool enough; /* the peer stops sending once it is set */
};

static void net_kill_hook(struct vmrun *r, void *arg)
{
	struct net_kill *nk = arg;

	harness_kill_tick(r, &nk->k);
	if (nk->k.kills >= nk->k.want)
		__atomic_store_n(&nk->enough, true, __ATOMIC_RELEASE);
}

Test(net, echo_loses_no_frame_while_the_server_is_killed_20_times)
{
	/* At random instants, 100..400 ms apart, once the guest said its
	 * receive buffers are posted. */
	struct net_kill nk = {.k = {.comm = "isovm-net",
				    .after = "net-echo ready",
				    .want = 20,
				    .gap_ms = 100,
				    .jitter_ms = 300,
				    .seed = 4321}};
	struct net_job j = {.o = {.count = 100000000,
				  .window = 64,
				  .min_size = 60,
				  .max_size = 1514,
				  .timeout_ms = 10000,
				  .allow_dups = true,
				  .until = &nk.enough}};
	struct vmrun_opts o = {.hook = net_kill_hook, .arg = &nk};
	char net[96], line[512];
	char *argv[] = {(char *)HARNESS_ISOVM,
			"run",
			"--kernel",
			(char *)HARNESS_TESTGUEST,
			"--cmdline",
			"test=net-echo net-echo.timeout_ms=60000",
			"--net",
			net,
			"--log-level",
			"info",
			"--restart-limit",
			"1000/10",
			NULL};
	struct vmrun r;

	harness_need_kvm();
	netns_enter("kill");
	netns_tap("tap0", NULL);
	snprintf(net, sizeof(net), "tap=tap0,mac=%s", GUEST_MAC);
	net_job_start(&j);
	cr_assert_eq(vmrun_opts(&r, 120000, &o, argv), 0);
	__atomic_store_n(&nk.enough, true, __ATOMIC_RELEASE);
	pthread_join(j.th, NULL);
	if (r.status != 0 || j.ret)
		vmrun_dump(&r, "net-echo under kills");
	cr_assert_eq(j.ret, 0, "peer: %d %s (sent %llu received %llu)", j.ret,
		     j.r.msg, (unsigned long long)j.r.sent,
		     (unsigned long long)j.r.received);
	cr_assert_eq(j.r.received, j.r.sent, "every frame came back");
	cr_assert_geq(nk.k.kills, 20u, "only %u kills", nk.k.kills);
	cr_assert_eq(r.status, 0);
	cr_assert_not_null(vmrun_line(&r, "ISOVM-TEST name=net-echo status=pass",
				      line, sizeof(line)));
	cr_assert_not_null(vmrun_line(&r, "net0 server: deaths=", line,
				      sizeof(line)));
	cr_assert_geq(vmrun_key(line, "restarts"), 20, "%s", line);
	printf("net-echo under 20 kills: %llu frames back, %llu duplicates, "
	       "%u deaths left received frames to salvage\n",
	       (unsigned long long)j.r.received, (unsigned long long)j.r.dups,
	       vmrun_count(&r, "received frames taken from the dead"));
	vmrun_free(&r);
}

/* The host pings the guest around a net0 drop fault set over the API. */
struct net_drop {
	bool done;
	int before, during, after; /* ping's exit statuses */
	struct harness_ctl set, clear;
};

static int net_ping_guest(const char *opts)
{
	char cmd[128];
	int st;

	snprintf(cmd, sizeof(cmd), "ping -n -q %s 10.0.0.2 >/dev/null 2>&1",
		 opts);
	st = system(cmd);
	return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void net_drop_hook(struct vmrun *r, void *arg)
{
	struct net_drop *d = arg;

	if (d->done || !strstr(r->out, "net-arp-ping ready"))
		return;
	d->done = true;
	d->before = net_ping_guest("-c 5 -i 0.2 -W 2");
	harness_isovmctl(&d->set, "api.sock",
			 "fault net0 drop:op=rx:count=0");
	d->during = net_ping_guest("-c 3 -i 0.2 -W 1");
	harness_isovmctl(&d->clear, "api.sock", "fault net0 clear");
	d->after = net_ping_guest("-c 5 -i 0.2 -W 2");
	kill(r->pid, SIGTERM);
}

static char net_dir[] = "/tmp/isovm-net-XXXXXX";

Test(net, an_api_drop_fault_stops_a_ping_and_clear_restores_it)
{
	static struct net_drop d;
	struct vmrun_opts o = {.hook = net_drop_hook, .arg = &d};
	char *argv[] = {(char *)HARNESS_ISOVM,
			"run",
			"--kernel",
			(char *)HARNESS_TESTGUEST,
			"--cmdline",
			"test=net-arp-ping net-arp-ping.ip=10.0.0.2 "
			"net-arp-ping.peer=10.0.0.1 net-arp-ping.count=3000 "
			"net-arp-ping.interval_ms=20",
			"--net",
			"tap=tap0,mac=" GUEST_MAC,
			"--api-socket",
			"api.sock",
			"--log-level",
			"debug",
			NULL};
	struct vmrun r;

	harness_need_kvm();
	harness_enter_tmpdir(net_dir);
	netns_enter("drop");
	netns_tap("tap0", "10.0.0.1/24");
	cr_assert_eq(vmrun_opts(&r, NET_TIMEOUT_MS, &o, argv), 0);
	cr_assert_eq(chdir("/"), 0);
	harness_remove_tmpdir(net_dir);
	if (d.before || d.during != 1 || d.after)
		vmrun_dump(&r, "ping around a drop fault");
	cr_assert(d.done, "the guest never got ready");
	cr_assert_eq(d.set.status, 0, "%s", d.set.text);
	cr_assert_eq(d.clear.status, 0, "%s", d.clear.text);
	cr_assert_eq(d.before, 0, "the guest answered no ping before");
	cr_assert_eq(d.during, 1, "ping got answers through a 100%% drop");
	cr_assert_eq(d.after, 0, "no answer after the fault was cleared");
	cr_assert_eq(r.status, 0);
	cr_assert_geq(net_stat(&r, "net0 stats:", "rx_fault"), 3);
	vmrun_free(&r);
}

/* isovmctl trace net0, started once the guest's device is up. */
struct net_trace {
	FILE *p;
	char dir[64];
};

static void net_trace_hook(struct vmrun *r, void *arg)
{
	struct net_trace *t = arg;
	char cmd[512];

	if (t->p || !strstr(r->out, "net-evil ready"))
		return;
	snprintf(cmd, sizeof(cmd),
		 "%s/isovmctl --socket %s/api.sock --count 6 trace net0 2>&1",
		 ISOVM_BIN_DIR, t->dir);
	t->p = popen(cmd, "r");
	cr_assert_not_null(t->p);
}

/*
 * The trace names each frame the guest sent with its size and what became
 * of it: the five bad ones dropped with the rule they broke, the good one
 * written to the tap.
 */
Test(net, trace_shows_frames_and_drops_with_their_rules)
{
	static struct net_trace t;
	static char dir[] = "/tmp/isovm-nettrace-XXXXXX";
	struct vmrun_opts o = {.hook = net_trace_hook, .arg = &t};
	char *argv[] = {(char *)HARNESS_ISOVM,
			"run",
			"--kernel",
			(char *)HARNESS_TESTGUEST,
			"--cmdline",
			"test=net-evil net-evil.wait_ms=1500",
			"--net",
			"tap=tap0,mac=" GUEST_MAC,
			"--api-socket",
			"api.sock",
			NULL};
	char text[4096] = "", line[256];
	struct vmrun r;
	size_t used = 0;

	harness_need_kvm();
	harness_enter_tmpdir(dir);
	snprintf(t.dir, sizeof(t.dir), "%s", dir);
	netns_enter("trace");
	netns_tap("tap0", NULL);
	/* No IPv6 chatter from the host side into the guest's trace. */
	netns_ip("link set tap0 down");
	cr_assert_eq(system("sysctl -qw net.ipv6.conf.tap0.disable_ipv6=1"),
		     0);
	netns_ip("link set tap0 up");
	cr_assert_eq(vmrun_opts(&r, NET_TIMEOUT_MS, &o, argv), 0);
	cr_assert_not_null(t.p, "the guest never got ready");
	while (fgets(line, sizeof(line), t.p) && used < sizeof(text) - 256)
		used += (size_t)snprintf(text + used, sizeof(text) - used,
					 "%s", line);
	pclose(t.p);
	cr_assert_eq(chdir("/"), 0);
	harness_remove_tmpdir(dir);
	cr_assert_eq(r.status, 0);
	cr_assert_not_null(strstr(text, "net0 #1 q1 head "), "%s", text);
	cr_assert_not_null(
		strstr(text, "tx 1614 B dropped: frame longer than the MTU"),
		"%s", text);
	cr_assert_not_null(strstr(text, "tx 60 B dropped: GSO type not offered"),
			   "%s", text);
	cr_assert_not_null(
		strstr(text, "tx 60 B dropped: NEEDS_CSUM without CSUM"),
		"%s", text);
	cr_assert_not_null(strstr(text, "tx 0 B dropped: shorter than a "
					"header"),
			   "%s", text);
	cr_assert_not_null(strstr(text, "tx 0 B dropped: no Ethernet header"),
			   "%s", text);
	cr_assert_not_null(strstr(text, "tx 60 B -> tap writev"), "%s", text);
	vmrun_free(&r);
}
