/* main.c: ring-3 boot sequence of the test guest: read, discover, test, power off. */
#include "boot/kernel.h"
#include "rt/bootinfo.h"
#include "rt/clock.h"
#include "rt/cmdline.h"
#include "rt/console.h"
#include "rt/fwcfg.h"
#include "rt/io.h"
#include "rt/mptable.h"
#include "rt/power.h"
#include "rt/report.h"
#include "rt/runtime.h"
#include "rt/smp.h"
#include "tests/tests.h"

struct runtime runtime;

void rt_main(unsigned cpu) __attribute__((noreturn));

static void rt_discover_cpus(void)
{
	if (mptable_scan(&mptable) == 0 && mptable.ncpus) {
		runtime.cpus = mptable.ncpus;
		runtime.cpus_src = "mptable";
		return;
	}
	/* No usable MP table: QEMU's fw_cfg still knows the CPU count. */
	runtime.cpus = fwcfg_cpus();
	if (runtime.cpus) {
		runtime.cpus_src = "fw_cfg";
		return;
	}
	runtime.cpus = 1;
	runtime.cpus_src = "default";
}

static void rt_run_tests(void)
{
	unsigned i;

	if (!cmdline.ntests) {
		test_info("info");
		return;
	}
	for (i = 0; i < cmdline.ntests; i++) {
		const struct tg_test *t = tests_find(cmdline.tests[i]);

		if (t)
			t->run(t->name);
		else
			report_result(cmdline.tests[i], false,
				      "reason=unknown-test");
	}
}

void rt_main(unsigned cpu)
{
	if (cpu)
		smp_ap_main(cpu);
	uart_init();
	runtime.boot_tsc = rdtsc();
	if (bootinfo_read(boot_start_info_pa))
		con_printf("isovm-testguest: warning: no valid hvm_start_info "
			   "at 0x%lx\n", boot_start_info_pa);
	cmdline_parse(&cmdline, bootinfo.cmdline);
	rt_discover_cpus();
	clock_calibrate();
	runtime.vmm = power_is_isovm() ? "isovm" : "other";
	if (cmdline.boot >= 0)
		con_printf("isovm-testguest: boot=%ld cpus=%u vmm=%s\n",
			   (long)cmdline.boot, runtime.cpus, runtime.vmm);
	else
		con_printf("isovm-testguest: boot=none cpus=%u vmm=%s\n",
			   runtime.cpus, runtime.vmm);
	rt_run_tests();
	power_off();
}
