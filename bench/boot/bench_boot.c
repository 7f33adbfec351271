/*
 * bench_boot.c: boot time and footprint of isovm beside QEMU microvm, both
 * booting the same test guest with test=info on the same KVM. Prints JSON
 * lines: median, min and max of N runs per metric, then the ratios.
 *
 * isovm reports two facts at --log-level debug that only it can know: the
 * CLOCK_MONOTONIC time of its first KVM_RUN ("first_kvm_run_mono=") and its
 * resident memory apart from guest RAM at exit ("rss_excl_guest_kb=").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/integration/harness.h"

#define BENCH_TIMEOUT_MS 60000
#define BENCH_MAX_RUNS 64

struct bench_series {
	const char *name;
	double v[BENCH_MAX_RUNS];
	unsigned n;
};

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double bench_median(struct bench_series *s)
{
	qsort(s->v, s->n, sizeof(double), bench_cmp);
	if (!s->n)
		return -1;
	return s->n % 2 ? s->v[s->n / 2] :
			  (s->v[s->n / 2 - 1] + s->v[s->n / 2]) / 2;
}

static void bench_print(const char *vmm, struct bench_series *s,
			const char *unit)
{
	double med = bench_median(s);

	if (!s->n)
		return;
	printf("{\"bench\":\"boot\",\"vmm\":\"%s\",\"metric\":\"%s\",\"unit\":\"%s\","
	       "\"median\":%.3f,\"min\":%.3f,\"max\":%.3f,\"runs\":%u}\n",
	       vmm, s->name, unit, med, s->v[0], s->v[s->n - 1], s->n);
}

static double bench_key_double(const struct vmrun *r, const char *key)
{
	char line[512], *p;

	if (!vmrun_line(r, key, line, sizeof(line)))
		return -1;
	p = strstr(line, key);
	return strtod(p + strlen(key), NULL);
}

/* Each VMM's series; runs alternate so drift on a shared host hits both. */
struct bench_isovm_runs {
	struct bench_series first, exit_s, kvm, rss;
};

struct bench_qemu_runs {
	struct bench_series first, exit_s;
};

static int bench_isovm_once(struct bench_isovm_runs *b, const char *guest)
{
	char *argv[] = { (char *)HARNESS_ISOVM, "run", "--kernel", (char *)guest,
			 "--cmdline", "test=info", "--log-level", "debug", NULL };
	struct vmrun r;
	double t;

	if (vmrun(&r, BENCH_TIMEOUT_MS, argv) || r.status != 0 ||
	    !strstr(r.out, "ISOVM-TEST name=info status=pass")) {
		vmrun_dump(&r, "isovm run");
		return -1;
	}
	b->first.v[b->first.n++] = r.first_out * 1e3;
	b->exit_s.v[b->exit_s.n++] = r.seconds * 1e3;
	t = bench_key_double(&r, "first_kvm_run_mono=");
	if (t > 0)
		b->kvm.v[b->kvm.n++] = (t - r.start_mono) * 1e3;
	t = bench_key_double(&r, "rss_excl_guest_kb=");
	if (t > 0)
		b->rss.v[b->rss.n++] = t;
	vmrun_free(&r);
	return 0;
}

static int bench_qemu_once(struct bench_qemu_runs *b, const char *qemu,
			   const char *guest)
{
	char *argv[] = { (char *)qemu, "-M", "microvm,acpi=off", "-accel", "kvm",
			 "-cpu", "host,-arch-capabilities", "-global",
			 "virtio-mmio.force-legacy=false", "-device",
			 "isa-debug-exit,iobase=0xf4,iosize=4", "-nodefaults",
			 "-no-user-config", "-display", "none", "-serial",
			 "stdio", "-m", "256M", "-kernel", (char *)guest,
			 "-append", "test=info", NULL };
	struct vmrun r;

	/* isa-debug-exit: status (0 << 1) | 1 for a clean power-off. */
	if (vmrun(&r, BENCH_TIMEOUT_MS, argv) || r.status != 1 ||
	    !strstr(r.out, "ISOVM-TEST name=info status=pass")) {
		vmrun_dump(&r, "qemu");
		return -1;
	}
	b->first.v[b->first.n++] = r.first_out * 1e3;
	b->exit_s.v[b->exit_s.n++] = r.seconds * 1e3;
	vmrun_free(&r);
	return 0;
}

static void bench_report(struct bench_isovm_runs *is, struct bench_qemu_runs *qs)
{
	double isovm_ms = bench_median(&is->exit_s);
	double qemu_ms = bench_median(&qs->exit_s);

	bench_print("isovm", &is->first, "ms");
	bench_print("isovm", &is->exit_s, "ms");
	bench_print("isovm", &is->kvm, "ms");
	bench_print("isovm", &is->rss, "KiB");
	printf("{\"bench\":\"boot\",\"vmm\":\"isovm\",\"metric\":\"targets\","
	       "\"exec_to_first_kvm_run_ms\":%.3f,\"target_ms\":10,"
	       "\"rss_excl_guest_kib\":%.0f,\"target_kib\":4096}\n",
	       bench_median(&is->kvm), bench_median(&is->rss));
	bench_print("qemu-microvm", &qs->first, "ms");
	bench_print("qemu-microvm", &qs->exit_s, "ms");
	printf("{\"bench\":\"boot\",\"metric\":\"exec_to_exit_ratio_isovm_over_qemu\","
	       "\"value\":%.3f,\"target_max\":0.5,\"pass\":%s}\n",
	       isovm_ms / qemu_ms, isovm_ms * 2 <= qemu_ms ? "true" : "false");
}

int main(int argc, char **argv)
{
	unsigned runs = argc > 1 ? (unsigned)atoi(argv[1]) : 10;
	const char *qemu = argc > 2 ? argv[2] : "/usr/bin/qemu-system-x86_64";
	static struct bench_isovm_runs is = {
		.first = { "exec_to_first_output_ms", { 0 }, 0 },
		.exit_s = { "exec_to_exit_ms", { 0 }, 0 },
		.kvm = { "exec_to_first_kvm_run_ms", { 0 }, 0 },
		.rss = { "vmm_rss_excl_guest_kib", { 0 }, 0 },
	};
	static struct bench_qemu_runs qs = {
		.first = { "exec_to_first_output_ms", { 0 }, 0 },
		.exit_s = { "exec_to_exit_ms", { 0 }, 0 },
	};

	if (runs < 1 || runs > BENCH_MAX_RUNS) {
		fprintf(stderr, "usage: bench-boot [RUNS (1-%d)] [QEMU]\n",
			BENCH_MAX_RUNS);
		return 2;
	}
	for (unsigned i = 0; i < runs; i++)
		if (bench_isovm_once(&is, HARNESS_TESTGUEST) ||
		    bench_qemu_once(&qs, qemu, HARNESS_TESTGUEST))
			return 1;
	bench_report(&is, &qs);
	return 0;
}
