/*
 * bench_net.c: virtio-net frame rates of isovm beside QEMU microvm's
 * userspace virtio-net (tap, no vhost), the same test guest running the
 * same net-blast load on both, and the host's own limit: a veth pair with
 * the same frame peer (net_peer) on its two ends. Each case runs in a
 * network namespace of its own, one run of each side per round.
 *
 *   tx  the guest sends blast frames for SECS; the host counts those that
 *       reach the tap. The figure is the host's count.
 *   rx  once the guest is ready the host floods the tap with blast frames
 *       at the guest's MAC; the figure is what the guest counted in the
 *       SECS after its first frame. The tap drops what the VMM does not
 *       take in time: those are reported, not failed.
 *
 * Frames are 64 bytes (Ethernet header included, no FCS; the guest sends
 * 60 at least) or 1514 (the tap's MTU of 1500 plus the header).
 * Prints one JSON line per case: the medians of each side's passing runs
 * out of N, its failed runs, and the ratios isovm/QEMU and isovm/veth of
 * the case's figure.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/net/bench_netns.h"
#include "tests/integration/harness.h"
#include "tests/integration/net_peer.h"

#define BENCH_MAX_RUNS	16
#define BENCH_GUEST_MAC "52:54:00:12:34:56"
#define BENCH_TAP	"bnEtap0"
#define BENCH_TAP_MAC	"52:54:00:00:00:01"
#define BENCH_VETH_TX	"bnEv0"
#define BENCH_VETH_RX	"bnEv1"
/* Time for a boot before the first frame, and the quiet that ends a count. */
#define BENCH_FIRST_MS 20000
#define BENCH_IDLE_MS  1000

struct bench_case {
	const char *name;
	bool tx;
	unsigned size;
	bool per_frame;	   /* the figure is frames/s, else Mbit/s */
	const char *guest; /* more of the guest's command line */
};

/*
 * The guest's receive buffers are 1024 bytes by default, so a 1514-byte
 * frame takes two of them (MRG_RXBUF); rx_1514_rxbuf1536 gives it one,
 * as Linux's virtio_net sizes them for a 1500-byte MTU.
 */
static const struct bench_case bench_cases[] = {
	{"tx_64", true, 64, true, ""},
	{"tx_1514", true, 1514, false, ""},
	{"rx_64", false, 64, true, ""},
	{"rx_1514", false, 1514, false, ""},
	{"rx_1514_rxbuf1536", false, 1514, false, "virtio-net.rxbuf=1536"},
};

/*
 * One run's figures, -1 when not measured. "sent" and "received" follow
 * the frames: in tx the guest sends and the host receives, in rx the
 * reverse; a host flood (rx, veth) sends a second longer than the
 * receiver counts. "lost": tx, sent minus received; rx and veth, the
 * frames within the receiver's window of sequence numbers it never saw.
 * "count_drops": frames that reached the host's counting socket when its
 * buffer was full (tx, veth), part of "lost", not of "received".
 */
enum {
	BENCH_FPS,
	BENCH_MBPS,
	BENCH_SENT,
	BENCH_RECEIVED,
	BENCH_LOST,
	BENCH_COUNT_DROPS,
	BENCH_SENDER_FPS,
	BENCH_NFIGS
};

static const char *const bench_fig_names[BENCH_NFIGS] = {
	"fps", "mbps", "sent", "received", "lost", "count_drops", "sender_fps",
};

struct bench_res {
	double v[BENCH_NFIGS];
};

struct bench_cfg {
	unsigned runs, secs;
	const char *qemu;
};

/*
 * The host's end of a run on a thread of its own: counting (tx) or
 * flooding (rx). The main thread opens p and closes it after the join.
 */
struct bench_job {
	struct net_peer p;
	bool count;
	uint8_t dst[6]; /* blast: where to */
	unsigned size, secs, first_ms, idle_ms;
	struct net_peer_count_result cr;
	struct net_peer_blast_result br;
	int ret;
	bool running; /* started and not joined yet */
	pthread_t th;
};

static void *bench_job_run(void *arg)
{
	struct bench_job *j = arg;

	if (j->count)
		j->ret = net_peer_count(&j->p, j->secs, j->first_ms, j->idle_ms,
					&j->cr);
	else
		j->ret =
			net_peer_blast(&j->p, j->dst, j->size, j->secs, &j->br);
	return NULL;
}

static void bench_job_start(struct bench_job *j)
{
	int e = pthread_create(&j->th, NULL, bench_job_run, j);

	if (e)
		j->ret = -e;
	j->running = !e;
}

static void bench_job_join(struct bench_job *j)
{
	if (j->running)
		pthread_join(j->th, NULL);
	j->running = false;
}

static int bench_peer_open(struct net_peer *p, const char *ifname)
{
	int ret = net_peer_open(p, ifname);

	if (ret)
		fprintf(stderr, "bench-net: %s: %s\n", ifname, strerror(-ret));
	return ret;
}

static double bench_rate(uint64_t n, uint64_t ns)
{
	return ns ? (double)n * 1e9 / (double)ns : -1;
}

/* "key=12.5" in a line of the guest; -1 when absent. */
static double bench_key(const char *line, const char *key)
{
	const char *p = strstr(line, key);

	return p ? strtod(p + strlen(key), NULL) : -1;
}

/* The figures of a count: what reached the receiving socket. */
static void bench_count_res(const struct net_peer_count_result *cr,
			    struct bench_res *res)
{
	res->v[BENCH_RECEIVED] = (double)cr->frames;
	res->v[BENCH_FPS] = bench_rate(cr->frames, cr->ns);
	res->v[BENCH_MBPS] = bench_rate(cr->bytes * 8, cr->ns) / 1e6;
	res->v[BENCH_COUNT_DROPS] = (double)cr->sock_drops;
}

/* The guest's ISOVM-TEST line and the host's job: 0, or -1 (printed). */
static int bench_guest_res(const struct vmrun *r, const struct bench_case *c,
			   const struct bench_job *j, struct bench_res *res)
{
	char line[1024];
	double frames;

	if (!vmrun_line(r, "ISOVM-TEST name=net-blast status=pass", line,
			sizeof(line)))
		return -1;
	if (j->ret) {
		fprintf(stderr, "bench-net: host side: %s\n",
			strerror(-j->ret));
		return -1;
	}
	frames = bench_key(line, " frames=");
	if (c->tx) {
		bench_count_res(&j->cr, res);
		res->v[BENCH_SENT] = frames;
		res->v[BENCH_LOST] = frames - res->v[BENCH_RECEIVED];
		res->v[BENCH_SENDER_FPS] = bench_key(line, " fps=");
	} else {
		res->v[BENCH_COUNT_DROPS] = -1;
		res->v[BENCH_FPS] = bench_key(line, " fps=");
		res->v[BENCH_MBPS] = bench_key(line, " mbps=");
		res->v[BENCH_RECEIVED] = frames;
		res->v[BENCH_SENT] = (double)j->br.frames;
		res->v[BENCH_LOST] = bench_key(line, " seq_max=") -
				     bench_key(line, " seq_first=") + 1 -
				     frames;
		res->v[BENCH_SENDER_FPS] = bench_rate(j->br.frames, j->br.ns);
	}
	return 0;
}

/* rx: the flood starts once the guest's receive queue is set up. */
static void bench_rx_hook(struct vmrun *r, void *arg)
{
	struct bench_job *j = arg;

	if (!j->running && !j->ret && strstr(r->out, "net-blast ready"))
		bench_job_start(j);
}

/*
 * One run of a VMM (argv) on the tap, the host's end beside it. ok_status
 * is its exit status after the guest's power-off.
 */
static int bench_vm(const struct bench_cfg *cfg, const struct bench_case *c,
		    char *const argv[], int ok_status, const char *what,
		    struct bench_res *res)
{
	struct bench_job j = {.size = c->size};
	struct vmrun_opts o = {.hook = bench_rx_hook, .arg = &j};
	struct vmrun r;
	int ret;

	if (bench_peer_open(&j.p, BENCH_TAP))
		return -1;
	net_peer_parse_mac(BENCH_GUEST_MAC, j.dst);
	if (c->tx) {
		/* Counting from before the boot; the count's clock starts at
		 * the first frame and stops at the last. */
		j.count = true;
		j.secs = cfg->secs + 5;
		j.first_ms = BENCH_FIRST_MS;
		j.idle_ms = BENCH_IDLE_MS;
		bench_job_start(&j);
	} else {
		j.secs = cfg->secs + 1; /* outlasts the guest's count */
	}
	ret = vmrun_opts(&r, (int)(cfg->secs + 60) * 1000, c->tx ? NULL : &o,
			 argv);
	bench_job_join(&j);
	net_peer_close(&j.p);
	if (ret)
		return -1;
	ret = r.status == ok_status ? bench_guest_res(&r, c, &j, res) : -1;
	if (ret)
		vmrun_dump(&r, what);
	vmrun_free(&r);
	return ret;
}

static void bench_cmdline(char *out, size_t cap, const struct bench_case *c,
			  unsigned secs)
{
	snprintf(out, cap,
		 "test=net-blast net-blast.dir=%s net-blast.size=%u "
		 "net-blast.secs=%u%s%s%s",
		 c->tx ? "tx" : "rx", c->size, secs,
		 c->tx ? " net-blast.dst=" BENCH_TAP_MAC : "",
		 c->guest[0] ? " " : "", c->guest);
}

/*
 * --log-level debug adds lines at exit only: the device's counters ("net0
 * stats:", "net0 front:") for a failed run's dump.
 */
static int bench_isovm(const struct bench_cfg *cfg, const struct bench_case *c,
		       struct bench_res *res)
{
	char cmdline[256];
	char *argv[] = {(char *)HARNESS_ISOVM,
			"run",
			"--kernel",
			(char *)HARNESS_TESTGUEST,
			"--net",
			"tap=" BENCH_TAP ",mac=" BENCH_GUEST_MAC,
			"--cmdline",
			cmdline,
			"--log-level",
			"debug",
			NULL};

	bench_cmdline(cmdline, sizeof(cmdline), c, cfg->secs);
	return bench_vm(cfg, c, argv, 0, "isovm", res);
}

static int bench_qemu(const struct bench_cfg *cfg, const struct bench_case *c,
		      struct bench_res *res)
{
	char cmdline[256];
	char *argv[] = {(char *)cfg->qemu,
			"-M",
			"microvm,acpi=off",
			"-accel",
			"kvm",
			"-cpu",
			"host,-arch-capabilities",
			"-global",
			"virtio-mmio.force-legacy=false",
			"-device",
			"isa-debug-exit,iobase=0xf4,iosize=4",
			"-nodefaults",
			"-no-user-config",
			"-display",
			"none",
			"-serial",
			"stdio",
			"-m",
			"256M",
			"-kernel",
			(char *)HARNESS_TESTGUEST,
			"-append",
			cmdline,
			"-netdev",
			"tap,id=n0,ifname=" BENCH_TAP
			",script=no,downscript=no,vhost=off",
			"-device",
			"virtio-net-device,netdev=n0,mac=" BENCH_GUEST_MAC,
			NULL};

	bench_cmdline(cmdline, sizeof(cmdline), c, cfg->secs);
	/* isa-debug-exit: status (0 << 1) | 1 for a clean power-off. */
	return bench_vm(cfg, c, argv, 1, "qemu", res);
}

/*
 * The host's limit: the same flood and count, from one end of a veth
 * pair to the other. There is no guest: both directions are this.
 */
static int bench_veth(const struct bench_cfg *cfg, const struct bench_case *c,
		      struct bench_res *res)
{
	struct bench_job cnt = {.count = true,
				.secs = cfg->secs,
				.first_ms = 5000,
				.idle_ms = BENCH_IDLE_MS};
	struct net_peer tx;
	struct net_peer_blast_result br;
	int ret;

	if (bench_peer_open(&cnt.p, BENCH_VETH_RX))
		return -1;
	if (bench_peer_open(&tx, BENCH_VETH_TX)) {
		net_peer_close(&cnt.p);
		return -1;
	}
	bench_job_start(&cnt);
	ret = net_peer_blast(&tx, cnt.p.mac, c->size, cfg->secs + 1, &br);
	bench_job_join(&cnt);
	net_peer_close(&tx);
	net_peer_close(&cnt.p);
	if (ret || cnt.ret) {
		fprintf(stderr, "bench-net: veth: %s\n",
			strerror(-(ret ? ret : cnt.ret)));
		return -1;
	}
	bench_count_res(&cnt.cr, res);
	res->v[BENCH_SENT] = (double)br.frames;
	res->v[BENCH_LOST] = (double)(cnt.cr.seq_max - cnt.cr.seq_first + 1) -
			     (double)cnt.cr.frames;
	res->v[BENCH_SENDER_FPS] = bench_rate(br.frames, br.ns);
	return 0;
}

typedef int bench_fn(const struct bench_cfg *, const struct bench_case *,
		     struct bench_res *);

/* The sides, in the order each round runs them. */
enum { BENCH_ISOVM, BENCH_VETH, BENCH_QEMU, BENCH_NSIDES };

static const struct {
	const char *name;
	bench_fn *fn;
} bench_sides[BENCH_NSIDES] = {
	{"isovm", bench_isovm},
	{"host-veth", bench_veth},
	{"qemu-microvm", bench_qemu},
};

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of v[0..n), or -1 when one of them is -1 (not measured). */
static double bench_median_of(double *v, unsigned n)
{
	qsort(v, n, sizeof(v[0]), bench_cmp);
	if (v[0] < 0)
		return -1;
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Median of each figure over n runs. */
static struct bench_res bench_median(const struct bench_res *r, unsigned n)
{
	double v[BENCH_MAX_RUNS];
	struct bench_res m;

	for (int f = 0; f < BENCH_NFIGS; f++) {
		for (unsigned i = 0; i < n; i++)
			v[i] = r[i].v[f];
		m.v[f] = bench_median_of(v, n);
	}
	return m;
}

/*
 * "kvm-lab" inside scripts/kvm-lab.sh: KVM under TCG, whose absolute
 * figures mean nothing; only comparisons within one run do.
 */
static const char *bench_where(void)
{
	const char *lab = getenv("ISOVM_IN_LAB");

	return lab && !strcmp(lab, "1") ? "kvm-lab" : "host";
}

/* A figure, or null when it was not measured. */
static void bench_put(const char *key, double v, int decimals)
{
	if (v < 0)
		printf("\"%s\":null", key);
	else
		printf("\"%s\":%.*f", key, decimals, v);
}

/* A side's medians over its passing runs, and how many failed. */
static void bench_put_side(const char *name, const struct bench_res *m,
			   unsigned fails)
{
	printf(",\"%s\":{\"fails\":%u", name, fails);
	for (int f = 0; f < BENCH_NFIGS; f++) {
		printf(",");
		bench_put(bench_fig_names[f], m->v[f], f == BENCH_MBPS);
	}
	printf("}");
}

static double bench_ratio(double a, double b)
{
	return a > 0 && b > 0 ? a / b : -1;
}

static void bench_print(const struct bench_cfg *cfg, const struct bench_case *c,
			const unsigned fails[], const struct bench_res med[])
{
	int fig = c->per_frame ? BENCH_FPS : BENCH_MBPS;

	printf("{\"bench\":\"net\",\"where\":\"%s\",\"case\":\"%s\","
	       "\"dir\":\"%s\",\"size\":%u,\"guest\":\"%s\","
	       "\"figure\":\"%s\",\"runs\":%u,\"secs\":%u",
	       bench_where(), c->name, c->tx ? "tx" : "rx", c->size, c->guest,
	       bench_fig_names[fig], cfg->runs, cfg->secs);
	for (int s = 0; s < BENCH_NSIDES; s++)
		bench_put_side(bench_sides[s].name, &med[s], fails[s]);
	printf(",");
	bench_put("isovm_over_qemu",
		  bench_ratio(med[BENCH_ISOVM].v[fig], med[BENCH_QEMU].v[fig]),
		  3);
	printf(",");
	bench_put("isovm_over_veth",
		  bench_ratio(med[BENCH_ISOVM].v[fig], med[BENCH_VETH].v[fig]),
		  3);
	printf("}\n");
	fflush(stdout);
}

/* The case's namespace: the tap both VMMs take in turn, the veth pair. */
static int bench_case_net(const struct bench_case *c)
{
	if (bench_netns_enter(c->name))
		return -1;
	if (bench_netns_ip("tuntap add dev %s mode tap", BENCH_TAP) ||
	    bench_netns_ip("link set dev %s address %s up", BENCH_TAP,
			   BENCH_TAP_MAC) ||
	    bench_netns_ip("link add %s type veth peer name %s", BENCH_VETH_TX,
			   BENCH_VETH_RX) ||
	    bench_netns_ip("link set %s up", BENCH_VETH_TX) ||
	    bench_netns_ip("link set %s up", BENCH_VETH_RX)) {
		bench_netns_leave();
		return -1;
	}
	return 0;
}

/*
 * Rounds of isovm, veth, QEMU, one run each: on a shared machine the load
 * drifts over a case, and interleaving gives every side the same share of
 * it. A failed run is counted and left out of the medians: a guest that
 * fails now and then under one VMM is a finding, not a reason to lose the
 * case (the run's output went to stderr).
 */
static void bench_case_run(const struct bench_cfg *cfg,
			   const struct bench_case *c)
{
	static struct bench_res r[BENCH_NSIDES][BENCH_MAX_RUNS];
	struct bench_res med[BENCH_NSIDES];
	unsigned n[BENCH_NSIDES] = {0}, fails[BENCH_NSIDES] = {0};

	if (bench_case_net(c))
		return;
	for (unsigned i = 0; i < cfg->runs; i++)
		for (int s = 0; s < BENCH_NSIDES; s++)
			if (bench_sides[s].fn(cfg, c, &r[s][n[s]]))
				fails[s]++;
			else
				n[s]++;
	bench_netns_leave();
	for (int s = 0; s < BENCH_NSIDES; s++) {
		for (int f = 0; f < BENCH_NFIGS; f++)
			med[s].v[f] = -1;
		if (n[s])
			med[s] = bench_median(r[s], n[s]);
	}
	bench_print(cfg, c, fails, med);
}

/* Whether name is one of the words of list (NULL: every case). */
static bool bench_wanted(const char *list, const char *name)
{
	size_t len = strlen(name);

	if (!list)
		return true;
	for (const char *p = list; (p = strstr(p, name)); p += len)
		if ((p == list || strchr(" ,", p[-1])) &&
		    (!p[len] || strchr(" ,", p[len])))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	struct bench_cfg cfg = {
		.runs = argc > 1 ? (unsigned)atoi(argv[1]) : 3,
		.secs = argc > 2 ? (unsigned)atoi(argv[2]) : 5,
		.qemu = argc > 3 ? argv[3] : "/usr/bin/qemu-system-x86_64",
	};
	const char *only = getenv("BENCH_NET_CASES");

	if (cfg.runs < 1 || cfg.runs > BENCH_MAX_RUNS || cfg.secs < 1 ||
	    cfg.secs > 600) {
		fprintf(stderr,
			"usage: bench-net [RUNS (1-%d)] [SECS] [QEMU]\n",
			BENCH_MAX_RUNS);
		return 2;
	}
	for (unsigned i = 0; i < sizeof(bench_cases) / sizeof(bench_cases[0]);
	     i++)
		if (bench_wanted(only, bench_cases[i].name))
			bench_case_run(&cfg, &bench_cases[i]);
	return 0;
}
