/*
 * bench_boot.c: boot time of isovm beside QEMU microvm on the same KVM, for
 * two guests, each series alternating isovm, QEMU, isovm, QEMU... so that
 * drift on a shared machine hits both:
 *
 *   test   the test guest with test=info: exec to first output, to first
 *          KVM_RUN and to exit, and isovm's RSS (target: exit <= 0.5 x QEMU);
 *   linux  the Linux guest (build/guest: Debian's kernel through its PVH
 *          entry, the busybox initramfs, guest test info): exec to
 *          ISOVM-GUEST-READY and exec to exit (target: <= 0.8 x QEMU).
 *
 *   sandbox  the test guest with a console and two disks (three jailed
 *          servers), alternating --sandbox on and --sandbox off: exec to
 *          first KVM_RUN for each and the cost of the jails, their
 *          difference (target: under 20 ms).
 *
 * Prints JSON lines: median, min and max of N runs per metric, then the
 * ratios isovm/QEMU. Every line says where it ran ("host", or "kvm-lab"
 * when ISOVM_IN_LAB=1: there the lab's KVM runs under TCG, so only ratios
 * within one run mean anything, never the absolute times).
 *
 * isovm reports facts at --log-level debug that only it can know: the
 * CLOCK_MONOTONIC time of its first KVM_RUN ("first_kvm_run_mono="), its
 * resident memory apart from guest RAM at exit ("rss_excl_guest_kb=") and
 * the vCPU's exits to user space ("exits: N port I/O, M MMIO").
 *
 * With --kvm-stats (root, debugfs mounted, no other VM running: the lab),
 * KVM's own counters are read when the guest's result line arrives, while
 * the VM still exists (debugfs sums live VMs only), minus their values
 * before the spawn: exits of every kind and nested page faults, for both
 * VMMs alike.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/harness.h"

#define BENCH_TIMEOUT_MS 60000
/* A Linux boot in the lab (KVM under TCG) takes one to two minutes. */
#define BENCH_LINUX_TIMEOUT_MS 600000
#define BENCH_MAX_RUNS 64

/*
 * The Linux guest's machine, the same on both sides: 1 vCPU (the lab has
 * one CPU), 512 MiB. Console: kernel messages on the 16550 UART (ttyS0)
 * on both, and a virtio console on both, so /init moves its output (READY
 * and the test's line) to hvc0 on both. reboot=t: without an isovm port
 * or ACPI, /init leaves by reboot, and the kernel's default reboot first
 * polls a keyboard controller microvm does not have for seconds; a triple
 * fault ends QEMU (-no-reboot) at once. isovm's guest powers off through
 * the isovm port and never reboots, so the word changes nothing there.
 */
#define BENCH_LINUX_CMDLINE "console=ttyS0 reboot=t isovm.test=info"
#define BENCH_LINUX_MEM "512M"
#define BENCH_READY "ISOVM-GUEST-READY"
#define BENCH_LINUX_PASS "ISOVM-TEST name=info status=pass"

static const char *bench_where = "host";

struct bench_series {
	const char *name, *unit;
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

static void bench_add(struct bench_series *s, double v)
{
	if (s->n < BENCH_MAX_RUNS)
		s->v[s->n++] = v;
}

static void bench_print(const char *guest, const char *vmm,
			struct bench_series *s)
{
	double med = bench_median(s);

	if (!s->n)
		return;
	printf("{\"bench\":\"boot\",\"where\":\"%s\",\"guest\":\"%s\","
	       "\"vmm\":\"%s\",\"metric\":\"%s\",\"unit\":\"%s\","
	       "\"median\":%.3f,\"min\":%.3f,\"max\":%.3f,\"runs\":%u}\n",
	       bench_where, guest, vmm, s->name, s->unit, med, s->v[0],
	       s->v[s->n - 1], s->n);
}

static void bench_print_ratio(const char *guest, const char *metric,
			      double isovm, double qemu, double target)
{
	bool pass = isovm > 0 && qemu > 0 && isovm <= target * qemu;

	printf("{\"bench\":\"boot\",\"where\":\"%s\",\"guest\":\"%s\","
	       "\"metric\":\"%s_ratio_isovm_over_qemu\",\"value\":%.3f,"
	       "\"isovm_ms\":%.3f,\"qemu_ms\":%.3f,\"target_max\":%.2f,"
	       "\"pass\":%s}\n",
	       bench_where, guest, metric, qemu > 0 ? isovm / qemu : -1, isovm,
	       qemu, target, pass ? "true" : "false");
}

static double bench_key_double(const struct vmrun *r, const char *key)
{
	char line[512], *p;

	if (!vmrun_line(r, key, line, sizeof(line)))
		return -1;
	p = strstr(line, key);
	return strtod(p + strlen(key), NULL);
}

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- the test guest ---------------------------------------------------- */

struct bench_test_runs {
	struct bench_series first, exit_s, kvm, rss;
};

static int bench_test_isovm(struct bench_test_runs *b)
{
	char *argv[] = { (char *)HARNESS_ISOVM, "run", "--kernel",
			 (char *)HARNESS_TESTGUEST, "--cmdline", "test=info",
			 "--log-level", "debug", NULL };
	struct vmrun r;
	double t;

	if (vmrun(&r, BENCH_TIMEOUT_MS, argv) || r.status != 0 ||
	    !strstr(r.out, "ISOVM-TEST name=info status=pass")) {
		vmrun_dump(&r, "isovm run");
		return -1;
	}
	bench_add(&b->first, r.first_out * 1e3);
	bench_add(&b->exit_s, r.seconds * 1e3);
	t = bench_key_double(&r, "first_kvm_run_mono=");
	if (t > 0)
		bench_add(&b->kvm, (t - r.start_mono) * 1e3);
	t = bench_key_double(&r, "rss_excl_guest_kb=");
	if (t > 0)
		bench_add(&b->rss, t);
	vmrun_free(&r);
	return 0;
}

static int bench_test_qemu(struct bench_test_runs *b, const char *qemu)
{
	char *argv[] = { (char *)qemu, "-M", "microvm,acpi=off", "-accel",
			 "kvm", "-cpu", "host,-arch-capabilities", "-global",
			 "virtio-mmio.force-legacy=false", "-device",
			 "isa-debug-exit,iobase=0xf4,iosize=4", "-nodefaults",
			 "-no-user-config", "-display", "none", "-serial",
			 "stdio", "-m", "256M", "-kernel",
			 (char *)HARNESS_TESTGUEST, "-append", "test=info",
			 NULL };
	struct vmrun r;

	/* isa-debug-exit: status (0 << 1) | 1 for a clean power-off. */
	if (vmrun(&r, BENCH_TIMEOUT_MS, argv) || r.status != 1 ||
	    !strstr(r.out, "ISOVM-TEST name=info status=pass")) {
		vmrun_dump(&r, "qemu");
		return -1;
	}
	bench_add(&b->first, r.first_out * 1e3);
	bench_add(&b->exit_s, r.seconds * 1e3);
	vmrun_free(&r);
	return 0;
}

static int bench_test(unsigned runs, const char *qemu)
{
	static struct bench_test_runs is = {
		.first = { "exec_to_first_output_ms", "ms", { 0 }, 0 },
		.exit_s = { "exec_to_exit_ms", "ms", { 0 }, 0 },
		.kvm = { "exec_to_first_kvm_run_ms", "ms", { 0 }, 0 },
		.rss = { "vmm_rss_excl_guest_kib", "KiB", { 0 }, 0 },
	};
	static struct bench_test_runs qs = {
		.first = { "exec_to_first_output_ms", "ms", { 0 }, 0 },
		.exit_s = { "exec_to_exit_ms", "ms", { 0 }, 0 },
	};

	for (unsigned i = 0; i < runs; i++)
		if (bench_test_isovm(&is) || bench_test_qemu(&qs, qemu))
			return -1;
	bench_print("test", "isovm", &is.first);
	bench_print("test", "isovm", &is.exit_s);
	bench_print("test", "isovm", &is.kvm);
	bench_print("test", "isovm", &is.rss);
	printf("{\"bench\":\"boot\",\"where\":\"%s\",\"guest\":\"test\","
	       "\"vmm\":\"isovm\",\"metric\":\"targets\","
	       "\"exec_to_first_kvm_run_ms\":%.3f,\"target_ms\":10,"
	       "\"rss_excl_guest_kib\":%.0f,\"target_kib\":4096}\n",
	       bench_where, bench_median(&is.kvm), bench_median(&is.rss));
	bench_print("test", "qemu-microvm", &qs.first);
	bench_print("test", "qemu-microvm", &qs.exit_s);
	bench_print_ratio("test", "exec_to_exit", bench_median(&is.exit_s),
			  bench_median(&qs.exit_s), 0.5);
	return 0;
}

/* --- the jails' cost ----------------------------------------------------- */

static int bench_sandbox_once(struct bench_series *s, const char *mode,
			      const char *disk0, const char *disk1)
{
	char d0[300], d1[300];
	char *argv[] = { (char *)HARNESS_ISOVM, "run", "--kernel",
			 (char *)HARNESS_TESTGUEST, "--cmdline", "test=info",
			 "--disk", d0, "--disk", d1, "--sandbox", (char *)mode,
			 "--log-level", "debug", NULL };
	struct vmrun r;
	double t;

	snprintf(d0, sizeof(d0), "path=%s", disk0);
	snprintf(d1, sizeof(d1), "path=%s", disk1);
	if (vmrun(&r, BENCH_TIMEOUT_MS, argv) || r.status != 0 ||
	    !strstr(r.out, "ISOVM-TEST name=info status=pass")) {
		vmrun_dump(&r, "isovm run (sandbox)");
		return -1;
	}
	t = bench_key_double(&r, "first_kvm_run_mono=");
	if (t > 0)
		bench_add(s, (t - r.start_mono) * 1e3);
	vmrun_free(&r);
	return t > 0 ? 0 : -1;
}

static int bench_sandbox(unsigned runs)
{
	static struct bench_series on = { "exec_to_first_kvm_run_ms_sandbox_on",
					  "ms", { 0 }, 0 };
	static struct bench_series off = {
		"exec_to_first_kvm_run_ms_sandbox_off", "ms", { 0 }, 0 };
	char disk0[] = "/tmp/isovm-bench-sb0-XXXXXX";
	char disk1[] = "/tmp/isovm-bench-sb1-XXXXXX";
	int fd0 = mkstemp(disk0), fd1 = mkstemp(disk1), ret = 0;
	double cost;

	if (fd0 < 0 || fd1 < 0 || ftruncate(fd0, 1 << 20) ||
	    ftruncate(fd1, 1 << 20))
		ret = -1;
	for (unsigned i = 0; !ret && i < runs; i++)
		if (bench_sandbox_once(&on, "on", disk0, disk1) ||
		    bench_sandbox_once(&off, "off", disk0, disk1))
			ret = -1;
	if (fd0 >= 0)
		close(fd0);
	if (fd1 >= 0)
		close(fd1);
	unlink(disk0);
	unlink(disk1);
	if (ret)
		return ret;
	bench_print("sandbox", "isovm", &on);
	bench_print("sandbox", "isovm", &off);
	cost = bench_median(&on) - bench_median(&off);
	printf("{\"bench\":\"boot\",\"where\":\"%s\",\"guest\":\"test\","
	       "\"vmm\":\"isovm\",\"metric\":\"jail_three_servers_ms\","
	       "\"value\":%.3f,\"target_max\":20,\"pass\":%s}\n",
	       bench_where, cost, cost < 20 ? "true" : "false");
	return 0;
}

/* --- KVM's debugfs counters --------------------------------------------- */

#define BENCH_KVM_DIR "/sys/kernel/debug/kvm/"

/*
 * exits of every kind; io/mmio: those KVM hands to user space (or serves
 * through ioeventfd/coalescing); halt; pf_fixed: nested page faults that
 * mapped guest RAM (first touches); pages_4k/pages_2m: how guest RAM is
 * mapped at that moment (RAM backed by huge pages needs 512x fewer faults).
 */
static const struct {
	const char *file, *metric;
} bench_kvm_stats[] = {
	{ "exits", "kvm_exits" },
	{ "io_exits", "kvm_io_exits" },
	{ "mmio_exits", "kvm_mmio_exits" },
	{ "halt_exits", "kvm_halt_exits" },
	{ "irq_exits", "kvm_irq_exits" },
	{ "pf_taken", "kvm_pf_taken" },
	{ "pf_fixed", "kvm_pf_fixed" },
	{ "pages_4k", "kvm_pages_4k" },
	{ "pages_2m", "kvm_pages_2m" },
};
#define BENCH_NKVM (sizeof(bench_kvm_stats) / sizeof(*bench_kvm_stats))

/* Reads every counter; false when any is missing (no debugfs, no root). */
static bool bench_kvm_read(double v[BENCH_NKVM])
{
	char path[128];

	for (unsigned i = 0; i < BENCH_NKVM; i++) {
		unsigned long long x;
		FILE *f;
		int ok;

		snprintf(path, sizeof(path), BENCH_KVM_DIR "%s",
			 bench_kvm_stats[i].file);
		f = fopen(path, "r");
		if (!f)
			return false;
		ok = fscanf(f, "%llu", &x) == 1;
		fclose(f);
		if (!ok)
			return false;
		v[i] = (double)x;
	}
	return true;
}

/* --- the Linux guest ---------------------------------------------------- */

/* Per run and VMM; the kvm_* counters follow these. */
enum {
	BL_FIRST,
	BL_READY,
	BL_EXIT,
	BL_UPTIME,
	BL_APIC_OFF,
	BL_KVM, /* isovm's own, from its debug log: */
	BL_RSS,
	BL_PIO,
	BL_MMIO,
	BL_NBASE
};
#define BL_N (BL_NBASE + BENCH_NKVM)

static const struct {
	const char *name, *unit;
} bench_linux_metrics[BL_NBASE] = {
	[BL_FIRST] = { "exec_to_first_output_ms", "ms" },
	[BL_READY] = { "exec_to_ready_ms", "ms" },
	[BL_EXIT] = { "exec_to_exit_ms", "ms" },
	[BL_UPTIME] = { "guest_uptime_at_ready_ms", "ms" },
	[BL_APIC_OFF] = { "guest_apic_timer_rejected", "0/1" },
	[BL_KVM] = { "exec_to_first_kvm_run_ms", "ms" },
	[BL_RSS] = { "vmm_rss_excl_guest_kib", "KiB" },
	[BL_PIO] = { "vcpu_port_io_exits_to_vmm", "count" },
	[BL_MMIO] = { "vcpu_mmio_exits_to_vmm", "count" },
};

struct bench_linux_runs {
	const char *vmm;
	struct bench_series s[BL_N];
};

/*
 * --raw: every value is printed as it is measured, one line each, and no
 * summary; --summarize reads such lines back. A hang of the lab then
 * costs one lab's runs, not the whole series.
 */
static bool bench_raw;

static void bench_linux_init(struct bench_linux_runs *b, const char *vmm)
{
	b->vmm = vmm;
	for (unsigned i = 0; i < BL_N; i++) {
		bool base = i < BL_NBASE;

		b->s[i].name = base ? bench_linux_metrics[i].name :
				      bench_kvm_stats[i - BL_NBASE].metric;
		b->s[i].unit = base ? bench_linux_metrics[i].unit : "count";
		b->s[i].n = 0;
	}
}

static void bench_linux_rec(struct bench_linux_runs *b, unsigned i, double v)
{
	bench_add(&b->s[i], v);
	if (bench_raw)
		printf("{\"bench\":\"boot\",\"where\":\"%s\","
		       "\"guest\":\"linux\",\"vmm\":\"%s\",\"metric\":\"%s\","
		       "\"raw\":%.3f}\n",
		       bench_where, b->vmm, b->s[i].name, v);
}

/* What the hook saw of one run. */
struct bench_linux_watch {
	size_t scanned;
	double ready;
	bool kvm_stats, sampled;
	double base[BENCH_NKVM], end[BENCH_NKVM];
};

/*
 * Runs after every read of output: READY's arrival time is taken here,
 * not from the finished output. Looks only at output not seen before.
 */
static void bench_linux_hook(struct vmrun *r, void *arg)
{
	struct bench_linux_watch *w = arg;
	size_t from = w->scanned > 48 ? w->scanned - 48 : 0;

	if (!r->out || r->out_len <= from)
		return;
	if (w->ready < 0 && strstr(r->out + from, BENCH_READY))
		w->ready = bench_now() - r->start_mono;
	if (w->kvm_stats && !w->sampled &&
	    strstr(r->out + from, "ISOVM-TEST name="))
		w->sampled = bench_kvm_read(w->end);
	w->scanned = r->out_len;
}

static int bench_linux_once(struct bench_linux_runs *b, bool kvm_stats,
			    char *const argv[], int ok_status)
{
	struct bench_linux_watch w = { .ready = -1, .kvm_stats = kvm_stats };
	struct vmrun_opts o = { .hook = bench_linux_hook, .arg = &w };
	char line[512];
	const char *p;
	struct vmrun r;
	double t;

	if (kvm_stats && !bench_kvm_read(w.base)) {
		fprintf(stderr, "bench-boot: --kvm-stats: cannot read %s "
			"(debugfs mounted? root?)\n", BENCH_KVM_DIR);
		return -1;
	}
	if (vmrun_opts(&r, BENCH_LINUX_TIMEOUT_MS, &o, argv) ||
	    r.status != ok_status || !strstr(r.out, BENCH_LINUX_PASS) ||
	    w.ready < 0) {
		vmrun_dump(&r, b->vmm);
		vmrun_free(&r);
		return -1;
	}
	bench_linux_rec(b, BL_FIRST, r.first_out * 1e3);
	bench_linux_rec(b, BL_READY, w.ready * 1e3);
	bench_linux_rec(b, BL_EXIT, r.seconds * 1e3);
	if (vmrun_line(&r, BENCH_READY, line, sizeof(line)) &&
	    vmrun_key(line, "uptime_ms") >= 0)
		bench_linux_rec(b, BL_UPTIME,
				(double)vmrun_key(line, "uptime_ms"));
	/*
	 * Linux checks its local APIC timer against the PIT's ticks; when
	 * ticks went missing it drops that timer and programs the PIT (port
	 * exits) for every timer event: a boot that costs more.
	 */
	p = strstr(r.out, "APIC timer disabled due to verification");
	bench_linux_rec(b, BL_APIC_OFF, p ? 1 : 0);
	t = bench_key_double(&r, "first_kvm_run_mono=");
	if (t > 0)
		bench_linux_rec(b, BL_KVM, (t - r.start_mono) * 1e3);
	t = bench_key_double(&r, "rss_excl_guest_kb=");
	if (t > 0)
		bench_linux_rec(b, BL_RSS, t);
	/* "vcpu0: exits: N port I/O, M MMIO, K other" (one vCPU) */
	if (vmrun_line(&r, "vcpu0: exits:", line, sizeof(line))) {
		unsigned long long pio, mmio;

		p = strstr(line, "exits:");
		if (sscanf(p, "exits: %llu port I/O, %llu MMIO", &pio,
			   &mmio) == 2) {
			bench_linux_rec(b, BL_PIO, (double)pio);
			bench_linux_rec(b, BL_MMIO, (double)mmio);
		}
	}
	if (kvm_stats && w.sampled)
		for (unsigned i = 0; i < BENCH_NKVM; i++)
			bench_linux_rec(b, BL_NBASE + i, w.end[i] - w.base[i]);
	fflush(stdout);
	vmrun_free(&r);
	return 0;
}

static int bench_linux_isovm(struct bench_linux_runs *b, bool kvm_stats)
{
	char *argv[] = { (char *)HARNESS_ISOVM, "run", "--kernel",
			 HARNESS_GUEST_DIR "/vmlinux", "--initrd",
			 HARNESS_GUEST_DIR "/initramfs.cpio.gz", "--cpus", "1",
			 "--memory", BENCH_LINUX_MEM, "--cmdline",
			 BENCH_LINUX_CMDLINE, "--log-level", "debug", NULL };

	/* isovm's console (UART and virtio console) is stdio by default. */
	return bench_linux_once(b, kvm_stats, argv, 0);
}

static int bench_linux_qemu(struct bench_linux_runs *b, bool kvm_stats,
			    const char *qemu)
{
	/*
	 * microvm: acpi=off, as isovm (MP table, no ACPI); rtc=on, as isovm's
	 * CMOS clock (microvm leaves it out under KVM, and the guest's
	 * rtc_cmos probe then spins on it for seconds). One mux chardev on
	 * stdout carries both the UART and the virtconsole, as isovm's
	 * stdout does. No disk, no net on either side.
	 */
	char *argv[] = { (char *)qemu, "-M", "microvm,acpi=off,rtc=on",
			 "-accel", "kvm", "-cpu", "host,-arch-capabilities",
			 "-smp", "1", "-m", BENCH_LINUX_MEM, "-nodefaults",
			 "-no-user-config", "-display", "none", "-no-reboot",
			 "-chardev", "stdio,id=con,mux=on,signal=off",
			 "-serial", "chardev:con", "-global",
			 "virtio-mmio.force-legacy=false", "-device",
			 "virtio-serial-device", "-device",
			 "virtconsole,chardev=con", "-kernel",
			 HARNESS_GUEST_DIR "/vmlinux", "-initrd",
			 HARNESS_GUEST_DIR "/initramfs.cpio.gz", "-append",
			 BENCH_LINUX_CMDLINE, NULL };

	/* The triple fault of reboot=t under -no-reboot: status 0. */
	return bench_linux_once(b, kvm_stats, argv, 0);
}

static void bench_linux_report(struct bench_linux_runs *is,
			       struct bench_linux_runs *qs)
{
	for (unsigned i = 0; i < BL_N; i++)
		bench_print("linux", is->vmm, &is->s[i]);
	for (unsigned i = 0; i < BL_N; i++)
		bench_print("linux", qs->vmm, &qs->s[i]);
	bench_print_ratio("linux", "exec_to_ready",
			  bench_median(&is->s[BL_READY]),
			  bench_median(&qs->s[BL_READY]), 0.8);
	bench_print_ratio("linux", "exec_to_exit",
			  bench_median(&is->s[BL_EXIT]),
			  bench_median(&qs->s[BL_EXIT]), 0.8);
}

static struct bench_linux_runs bench_is, bench_qs;

static int bench_linux(unsigned runs, const char *qemu, bool kvm_stats)
{
	for (unsigned i = 0; i < runs; i++) {
		if (bench_linux_isovm(&bench_is, kvm_stats) ||
		    bench_linux_qemu(&bench_qs, kvm_stats, qemu))
			return -1;
		/* A run takes minutes in the lab: show progress. */
		fprintf(stderr, "bench-boot: linux run %u/%u: isovm %.0f ms, "
			"qemu %.0f ms to exit\n", i + 1, runs,
			bench_is.s[BL_EXIT].v[bench_is.s[BL_EXIT].n - 1],
			bench_qs.s[BL_EXIT].v[bench_qs.s[BL_EXIT].n - 1]);
	}
	if (!bench_raw)
		bench_linux_report(&bench_is, &bench_qs);
	return 0;
}

/* The string value of "key":"..." in a JSON line, or false. */
static bool bench_json_str(const char *line, const char *key, char *out,
			   size_t cap)
{
	char pat[48];
	const char *p, *end;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = strstr(line, pat);
	if (!p)
		return false;
	p += strlen(pat);
	end = strchr(p, '"');
	if (!end || (size_t)(end - p) >= cap)
		return false;
	memcpy(out, p, (size_t)(end - p));
	out[end - p] = '\0';
	return true;
}

/* --summarize: the raw lines of one or more --raw runs, in run order. */
static int bench_linux_summarize(FILE *in)
{
	static char where[32];
	char line[1024], vmm[32], metric[64];

	while (fgets(line, sizeof(line), in)) {
		struct bench_linux_runs *b;
		const char *p = strstr(line, "\"raw\":");

		if (!p || !bench_json_str(line, "vmm", vmm, sizeof(vmm)) ||
		    !bench_json_str(line, "metric", metric, sizeof(metric)))
			continue;
		/* The runs' "where", not this process's. */
		if (bench_json_str(line, "where", where, sizeof(where)))
			bench_where = where;
		b = !strcmp(vmm, bench_is.vmm) ? &bench_is :
		    !strcmp(vmm, bench_qs.vmm) ? &bench_qs : NULL;
		for (unsigned i = 0; b && i < BL_N; i++)
			if (!strcmp(metric, b->s[i].name))
				bench_add(&b->s[i], strtod(p + 6, NULL));
	}
	if (!bench_is.s[BL_EXIT].n || !bench_qs.s[BL_EXIT].n) {
		fprintf(stderr, "bench-boot: --summarize: no complete runs\n");
		return -1;
	}
	bench_linux_report(&bench_is, &bench_qs);
	return 0;
}

static int bench_usage(void)
{
	fprintf(stderr,
		"usage: bench-boot [--guest test|linux|sandbox|all] [--runs N] "
		"[--linux-runs N] [--qemu PATH] [--kvm-stats] [--raw] "
		"[RUNS [QEMU]]\n"
		"       bench-boot --summarize < RAW-LINES\n"
		"  runs 1-%d; defaults: all, 10 test-guest runs, 5 Linux "
		"runs, /usr/bin/qemu-system-x86_64\n"
		"  --raw: the Linux guest's values one per line, no summary\n",
		BENCH_MAX_RUNS);
	return 2;
}

int main(int argc, char **argv)
{
	const char *qemu = "/usr/bin/qemu-system-x86_64", *guest = "all";
	int runs = 10, linux_runs = 5, pos = 0;
	bool kvm_stats = false, summarize = false;
	const char *lab = getenv("ISOVM_IN_LAB");

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--kvm-stats")) {
			kvm_stats = true;
			continue;
		}
		if (!strcmp(a, "--raw")) {
			bench_raw = true;
			continue;
		}
		if (!strcmp(a, "--summarize")) {
			summarize = true;
			continue;
		}
		if (a[0] != '-') {
			/* The old form: [RUNS [QEMU]] */
			if (pos == 0)
				runs = atoi(a);
			else if (pos == 1)
				qemu = a;
			else
				return bench_usage();
			pos++;
			continue;
		}
		if (!v)
			return bench_usage();
		if (!strcmp(a, "--guest"))
			guest = v;
		else if (!strcmp(a, "--runs"))
			runs = atoi(v);
		else if (!strcmp(a, "--linux-runs"))
			linux_runs = atoi(v);
		else if (!strcmp(a, "--qemu"))
			qemu = v;
		else
			return bench_usage();
		i++;
	}
	if (runs < 1 || runs > BENCH_MAX_RUNS || linux_runs < 1 ||
	    linux_runs > BENCH_MAX_RUNS ||
	    (strcmp(guest, "test") && strcmp(guest, "linux") &&
	     strcmp(guest, "sandbox") && strcmp(guest, "all")) ||
	    (bench_raw && strcmp(guest, "linux")))
		return bench_usage();
	if (lab && !strcmp(lab, "1"))
		bench_where = "kvm-lab";
	bench_linux_init(&bench_is, "isovm");
	bench_linux_init(&bench_qs, "qemu-microvm");
	if (summarize)
		return bench_linux_summarize(stdin) ? 1 : 0;
	if (!strcmp(guest, "sandbox"))
		return bench_sandbox((unsigned)runs) ? 1 : 0;
	if (strcmp(guest, "linux") && bench_test((unsigned)runs, qemu))
		return 1;
	if (strcmp(guest, "linux") && bench_sandbox((unsigned)runs))
		return 1;
	fflush(stdout);
	if (strcmp(guest, "test") &&
	    bench_linux((unsigned)linux_runs, qemu, kvm_stats))
		return 1;
	return 0;
}
