/*
 * bench_console.c: virtio-console throughput of isovm with the test guest's
 * console-bulk test (guest -> VMM -> isovm-console -> stdout). Prints JSON
 * lines: median, min and max over N runs of the rate the guest measured
 * (its own clock, "mbps=") and of the rate the host saw on isovm's stdout
 * between the BEGIN and END lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/integration/harness.h"

#define BENCH_TIMEOUT_MS 300000
#define BENCH_MAX_RUNS	 32

struct bench_series {
	const char *name;
	double v[BENCH_MAX_RUNS];
	unsigned n;
};

/* What the hook saw: when BEGIN and END reached stdout. */
struct bench_watch {
	size_t scanned;
	double t_begin, t_end;
};

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Looks only at output not seen before (the output grows to 100s of MiB). */
static void bench_hook(struct vmrun *r, void *arg)
{
	struct bench_watch *w = arg;
	size_t from = w->scanned > 32 ? w->scanned - 32 : 0;
	const char *p;

	if (!r->out || r->out_len <= from)
		return;
	if (w->t_begin == 0 && (p = strstr(r->out + from, "ISOVM-BULK-BEGIN")))
		w->t_begin = bench_now();
	if (w->t_begin != 0 && w->t_end == 0 &&
	    strstr(r->out + from, "ISOVM-BULK-END"))
		w->t_end = bench_now();
	w->scanned = r->out_len;
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

static void bench_print(struct bench_series *s, unsigned mib)
{
	double med;

	if (!s->n)
		return;
	qsort(s->v, s->n, sizeof(double), bench_cmp);
	med = s->n % 2 ? s->v[s->n / 2]
		       : (s->v[s->n / 2 - 1] + s->v[s->n / 2]) / 2;
	printf("{\"bench\":\"console\",\"where\":\"%s\",\"vmm\":\"isovm\","
	       "\"metric\":\"%s\",\"unit\":\"MB/s\",\"mib\":%u,"
	       "\"median\":%.1f,\"min\":%.1f,\"max\":%.1f,\"runs\":%u}\n",
	       bench_where(), s->name, mib, med, s->v[0], s->v[s->n - 1], s->n);
}

static int bench_run(unsigned mib, const char *mode, struct bench_series *g,
		     struct bench_series *h)
{
	char cmdline[128], line[512];
	char *argv[] = {(char *)HARNESS_ISOVM,
			"run",
			"--kernel",
			(char *)HARNESS_TESTGUEST,
			"--cmdline",
			cmdline,
			NULL};
	struct bench_watch w = {0};
	struct vmrun_opts o = {.hook = bench_hook, .arg = &w};
	struct vmrun r;
	const char *p;

	snprintf(cmdline, sizeof(cmdline),
		 "test=console-bulk console-bulk.mib=%u virtio-mode=%s", mib,
		 mode);
	if (vmrun_opts(&r, BENCH_TIMEOUT_MS, &o, argv) || r.status != 0 ||
	    !vmrun_line(&r, "name=console-bulk status=pass", line,
			sizeof(line))) {
		vmrun_dump(&r, "isovm console-bulk");
		vmrun_free(&r);
		return -1;
	}
	p = strstr(line, "mbps=");
	if (p)
		g->v[g->n++] = strtod(p + 5, NULL);
	if (w.t_end > w.t_begin && w.t_begin > 0)
		h->v[h->n++] =
			(double)mib * 1048576.0 / (w.t_end - w.t_begin) / 1e6;
	vmrun_free(&r);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned runs = argc > 1 ? (unsigned)atoi(argv[1]) : 5;
	unsigned mib = argc > 2 ? (unsigned)atoi(argv[2]) : 64;
	static const char *const modes[] = {"poll", "irq"};

	if (runs < 1 || runs > BENCH_MAX_RUNS || mib < 1 || mib > 4096) {
		fprintf(stderr, "usage: bench-console [RUNS (1-%d)] [MiB]\n",
			BENCH_MAX_RUNS);
		return 2;
	}
	for (unsigned m = 0; m < 2; m++) {
		char gname[64], hname[64];
		struct bench_series g = {gname, {0}, 0}, h = {hname, {0}, 0};

		snprintf(gname, sizeof(gname), "bulk_guest_measured_%s",
			 modes[m]);
		snprintf(hname, sizeof(hname), "bulk_host_measured_%s",
			 modes[m]);
		for (unsigned i = 0; i < runs; i++)
			if (bench_run(mib, modes[m], &g, &h))
				return 1;
		bench_print(&g, mib);
		bench_print(&h, mib);
	}
	return 0;
}
