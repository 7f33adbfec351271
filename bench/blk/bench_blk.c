/*
 * bench_blk.c: virtio-blk throughput and latency of isovm beside QEMU
 * microvm (same test guest, same blk-bench load, same image, both O_DIRECT)
 * and fio on the host against the image itself, their runs interleaved.
 * isovm runs twice per round: jailed (the default) and with --sandbox off,
 * so the jail's cost shows within one invocation.
 * Prints JSON lines: the median of N runs per case and VMM, then the
 * ratios isovm/host, isovm/QEMU and jailed/unjailed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/integration/harness.h"

#define BENCH_MAX_RUNS 16
#define BENCH_NCASES   5

struct bench_case {
	const char *name;
	const char *rw; /* blk-bench.rw and fio --rw */
	unsigned bs, qd;
	bool fallback; /* bs may be halved when the guest cannot carry it */
};

static struct bench_case bench_cases[BENCH_NCASES] = {
	{"randread_4k_qd1", "randread", 4096, 1, false},
	{"randread_4k_qd32", "randread", 4096, 32, false},
	{"randwrite_4k_qd32", "randwrite", 4096, 32, false},
	{"read_seq_qd4", "read", 1 << 20, 4, true},
	{"write_seq_qd4", "write", 1 << 20, 4, true},
};

/* One run's figures; -1 when not measured. */
struct bench_res {
	double iops, mbps, lat_mean_us, lat_p99_us;
};

struct bench_cfg {
	unsigned runs, secs;
	const char *img, *qemu, *fio;
};

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double bench_median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), bench_cmp);
	if (!n || v[0] < 0)
		return -1;
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Median of each figure over n runs. */
static struct bench_res bench_median_res(struct bench_res *r, unsigned n)
{
	double v[4][BENCH_MAX_RUNS];
	struct bench_res m;

	for (unsigned i = 0; i < n; i++) {
		v[0][i] = r[i].iops;
		v[1][i] = r[i].mbps;
		v[2][i] = r[i].lat_mean_us;
		v[3][i] = r[i].lat_p99_us;
	}
	m.iops = bench_median(v[0], n);
	m.mbps = bench_median(v[1], n);
	m.lat_mean_us = bench_median(v[2], n);
	m.lat_p99_us = bench_median(v[3], n);
	return m;
}

/* "key=12.5" in a line of the guest; -1 when absent. */
static double bench_key(const char *line, const char *key)
{
	const char *p = strstr(line, key);

	return p ? strtod(p + strlen(key), NULL) : -1;
}

/* The guest's ISOVM-TEST line: 0, or -1 (printed) when it failed. */
static int bench_guest_res(struct vmrun *r, const char *what,
			   struct bench_res *res)
{
	char line[1024];

	if (!vmrun_line(r, "ISOVM-TEST name=blk-bench status=pass", line,
			sizeof(line))) {
		vmrun_dump(r, what);
		return -1;
	}
	res->iops = bench_key(line, " iops=");
	res->mbps = bench_key(line, " mbps=");
	res->lat_mean_us = bench_key(line, " lat_us_mean=");
	res->lat_p99_us = bench_key(line, " lat_us_p99=");
	return 0;
}

static void bench_cmdline(char *out, size_t cap, const struct bench_case *c,
			  unsigned secs)
{
	snprintf(out, cap,
		 "test=blk-bench blk-bench.rw=%s blk-bench.bs=%u "
		 "blk-bench.qd=%u blk-bench.secs=%u",
		 c->rw, c->bs, c->qd, secs);
}

static int bench_isovm_as(const struct bench_cfg *cfg,
			  const struct bench_case *c, struct bench_res *res,
			  const char *sandbox)
{
	char cmdline[256], disk[4096];
	struct vmrun r;
	int ret;

	bench_cmdline(cmdline, sizeof(cmdline), c, cfg->secs);
	snprintf(disk, sizeof(disk), "path=%s,cache=none", cfg->img);
	char *argv[] = {(char *)HARNESS_ISOVM,
			"run",
			"--kernel",
			(char *)HARNESS_TESTGUEST,
			"--disk",
			disk,
			"--cmdline",
			cmdline,
			"--sandbox",
			(char *)sandbox,
			NULL};

	if (vmrun(&r, (int)(cfg->secs + 60) * 1000, argv))
		return -1;
	ret = r.status == 0 ? bench_guest_res(&r, "isovm", res) : -1;
	if (r.status)
		vmrun_dump(&r, "isovm");
	vmrun_free(&r);
	return ret;
}

static int bench_isovm(const struct bench_cfg *cfg, const struct bench_case *c,
		       struct bench_res *res)
{
	return bench_isovm_as(cfg, c, res, "on");
}

static int bench_isovm_unjailed(const struct bench_cfg *cfg,
				const struct bench_case *c,
				struct bench_res *res)
{
	return bench_isovm_as(cfg, c, res, "off");
}

static int bench_qemu(const struct bench_cfg *cfg, const struct bench_case *c,
		      struct bench_res *res)
{
	char cmdline[256], drive[4096];
	struct vmrun r;
	int ret;

	bench_cmdline(cmdline, sizeof(cmdline), c, cfg->secs);
	snprintf(drive, sizeof(drive),
		 "file=%s,if=none,id=d0,format=raw,cache=none,aio=threads",
		 cfg->img);
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
			"-drive",
			drive,
			"-device",
			"virtio-blk-device,drive=d0",
			"-kernel",
			(char *)HARNESS_TESTGUEST,
			"-append",
			cmdline,
			NULL};

	if (vmrun(&r, (int)(cfg->secs + 60) * 1000, argv))
		return -1;
	/* isa-debug-exit: status (0 << 1) | 1 for a clean power-off. */
	ret = r.status == 1 ? bench_guest_res(&r, "qemu", res) : -1;
	if (r.status != 1)
		vmrun_dump(&r, "qemu");
	vmrun_free(&r);
	return ret;
}

/* The number after "key" : inside fio's JSON, from 'from' on. */
static double bench_json_num(const char *from, const char *key)
{
	const char *p = strstr(from, key);

	if (!p)
		return -1;
	p = strchr(p + strlen(key), ':');
	return p ? strtod(p + 1, NULL) : -1;
}

static int bench_fio(const struct bench_cfg *cfg, const struct bench_case *c,
		     struct bench_res *res)
{
	char rw[32], bs[32], qd[32], rt[32], file[4096];
	const char *dir, *clat, *lat;
	struct vmrun r;
	int ret = -1;

	snprintf(rw, sizeof(rw), "--rw=%s", c->rw);
	snprintf(bs, sizeof(bs), "--bs=%u", c->bs);
	snprintf(qd, sizeof(qd), "--iodepth=%u", c->qd);
	snprintf(rt, sizeof(rt), "--runtime=%u", cfg->secs);
	snprintf(file, sizeof(file), "--filename=%s", cfg->img);
	char *argv[] = {(char *)cfg->fio,
			"--name=bench",
			file,
			"--direct=1",
			"--ioengine=libaio",
			rw,
			bs,
			qd,
			rt,
			"--time_based",
			"--randrepeat=0",
			"--output-format=json",
			NULL};

	if (vmrun(&r, (int)(cfg->secs + 60) * 1000, argv))
		return -1;
	dir = strstr(r.out,
		     strstr(c->rw, "write") ? "\"write\" : {" : "\"read\" : {");
	clat = dir ? strstr(dir, "\"clat_ns\"") : NULL;
	lat = clat ? strstr(clat, "\"lat_ns\"") : NULL;
	if (r.status == 0 && lat) {
		res->iops = bench_json_num(dir, "\"iops\"");
		res->mbps = bench_json_num(dir, "\"bw_bytes\"") / 1e6;
		res->lat_mean_us = bench_json_num(lat, "\"mean\"") / 1e3;
		res->lat_p99_us = bench_json_num(clat, "\"99.000000\"") / 1e3;
		ret = 0;
	} else {
		vmrun_dump(&r, "fio");
	}
	vmrun_free(&r);
	return ret;
}

typedef int bench_fn(const struct bench_cfg *, const struct bench_case *,
		     struct bench_res *);

/* The VMMs and the host, in the order each round runs them. */
enum { BENCH_ISOVM, BENCH_HOST, BENCH_QEMU, BENCH_UNJAILED, BENCH_NSIDES };

static const struct {
	const char *name;
	bench_fn *fn;
} bench_sides[BENCH_NSIDES] = {
	{"isovm", bench_isovm},
	{"host-fio", bench_fio},
	{"qemu-microvm", bench_qemu},
	{"isovm-sandbox-off", bench_isovm_unjailed},
};

/*
 * "kvm-lab" inside scripts/kvm-lab.sh: KVM under TCG, whose absolute
 * figures mean nothing; only comparisons within one run do.
 */
static const char *bench_where(void)
{
	const char *lab = getenv("ISOVM_IN_LAB");

	return lab && !strcmp(lab, "1") ? "kvm-lab" : "host";
}

static void bench_print(const struct bench_cfg *cfg, const struct bench_case *c,
			const char *vmm, const struct bench_res *med)
{
	printf("{\"bench\":\"blk\",\"where\":\"%s\",\"case\":\"%s\","
	       "\"vmm\":\"%s\",\"rw\":\"%s\","
	       "\"bs\":%u,\"qd\":%u,\"iops\":%.0f,\"mbps\":%.1f,"
	       "\"lat_us_mean\":%.1f,\"lat_us_p99\":%.1f,\"runs\":%u}\n",
	       bench_where(), c->name, vmm, c->rw, c->bs, c->qd, med->iops,
	       med->mbps, med->lat_mean_us, med->lat_p99_us, cfg->runs);
	fflush(stdout);
}

static double bench_ratio(double a, double b)
{
	return a > 0 && b > 0 ? a / b : -1;
}

/*
 * Rounds of isovm, fio, QEMU, one run each: on a shared machine the load
 * drifts over a case, and interleaving gives every side the same share of
 * it (back-to-back series of one side skewed the ratios by 30%). A side
 * that fails once is dropped from the case; isovm failing drops the case.
 */
static void bench_case_run(const struct bench_cfg *cfg, struct bench_case *c)
{
	static struct bench_res r[BENCH_NSIDES][BENCH_MAX_RUNS];
	struct bench_res med[BENCH_NSIDES];
	bool ok[BENCH_NSIDES] = {true, true, true, true};
	int ret = bench_isovm(cfg, c, &r[BENCH_ISOVM][0]);

	/* The test guest splits a request by size_max and carries at most
	 * one indirect table of segments: a too large bs fails there. */
	while (ret && c->fallback && c->bs > 65536) {
		c->bs /= 2;
		fprintf(stderr, "bench-blk: %s: retrying with bs=%u\n", c->name,
			c->bs);
		ret = bench_isovm(cfg, c, &r[BENCH_ISOVM][0]);
	}
	if (ret)
		return;
	for (unsigned i = 0; i < cfg->runs; i++)
		for (int s = 0; s < BENCH_NSIDES; s++)
			if (ok[s] && (i || s != BENCH_ISOVM))
				ok[s] = !bench_sides[s].fn(cfg, c, &r[s][i]);
	if (!ok[BENCH_ISOVM])
		return;
	for (int s = 0; s < BENCH_NSIDES; s++) {
		med[s] = (struct bench_res){-1, -1, -1, -1};
		if (!ok[s])
			continue;
		med[s] = bench_median_res(r[s], cfg->runs);
		bench_print(cfg, c, bench_sides[s].name, &med[s]);
	}
	printf("{\"bench\":\"blk\",\"where\":\"%s\",\"case\":\"%s\","
	       "\"metric\":\"ratios\","
	       "\"iops_isovm_over_host\":%.3f,\"iops_isovm_over_qemu\":%.3f,"
	       "\"lat_mean_isovm_over_host\":%.3f,"
	       "\"lat_mean_isovm_over_qemu\":%.3f,"
	       "\"iops_sandbox_on_over_off\":%.3f}\n",
	       bench_where(), c->name,
	       bench_ratio(med[BENCH_ISOVM].iops, med[BENCH_HOST].iops),
	       bench_ratio(med[BENCH_ISOVM].iops, med[BENCH_QEMU].iops),
	       bench_ratio(med[BENCH_ISOVM].lat_mean_us,
			   med[BENCH_HOST].lat_mean_us),
	       bench_ratio(med[BENCH_ISOVM].lat_mean_us,
			   med[BENCH_QEMU].lat_mean_us),
	       bench_ratio(med[BENCH_ISOVM].iops, med[BENCH_UNJAILED].iops));
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct bench_cfg cfg = {
		.runs = argc > 2 ? (unsigned)atoi(argv[2]) : 3,
		.secs = argc > 3 ? (unsigned)atoi(argv[3]) : 5,
		.img = argc > 1 ? argv[1] : NULL,
		.qemu = argc > 4 ? argv[4] : "/usr/bin/qemu-system-x86_64",
		.fio = argc > 5 ? argv[5] : "/usr/bin/fio",
	};
	const char *only = getenv("BENCH_BLK_CASES");

	if (!cfg.img || cfg.runs < 1 || cfg.runs > BENCH_MAX_RUNS ||
	    cfg.secs < 1 || cfg.secs > 600) {
		fprintf(stderr,
			"usage: bench-blk IMAGE [RUNS (1-%d)] [SECS] "
			"[QEMU] [FIO]\n",
			BENCH_MAX_RUNS);
		return 2;
	}
	for (unsigned i = 0; i < BENCH_NCASES; i++)
		if (!only || strstr(only, bench_cases[i].name))
			bench_case_run(&cfg, &bench_cases[i]);
	return 0;
}
