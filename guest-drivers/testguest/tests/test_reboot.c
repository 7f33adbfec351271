/*
 * test_reboot.c: resets the machine at boot 0 and passes at boot >= 1:
 * `reboot` through the i8042 reset line, `reboot-triple` by a triple fault.
 */
#include "rt/clock.h"
#include "rt/cmdline.h"
#include "rt/console.h"
#include "rt/io.h"
#include "rt/power.h"
#include "rt/report.h"
#include "rt/sys.h"
#include "tests/tests.h"

#define REBOOT_WAIT_US 1000000u

/* Returns true when this boot should reset (and reports otherwise). */
static bool reboot_first_boot(const char *name)
{
	if (cmdline.boot < 0) {
		report_result(name, false, "reason=no-boot-counter");
		return false;
	}
	if (cmdline.boot >= 1) {
		report_result(name, true, "boot=%ld", (long)cmdline.boot);
		return false;
	}
	return true;
}

void test_reboot(const char *name)
{
	uint64_t deadline;

	if (!reboot_first_boot(name))
		return;
	con_printf("isovm-testguest: resetting through the i8042 at boot 0\n");
	power_reset_i8042();
	/* A VMM acts on the port write at once; give it a second anyway. */
	deadline = clock_deadline_us(REBOOT_WAIT_US);
	while (!clock_expired(deadline))
		cpu_relax();
	report_result(name, false, "boot=0 reason=reset-ignored");
}

void test_reboot_triple(const char *name)
{
	if (!reboot_first_boot(name))
		return;
	con_printf("isovm-testguest: resetting by triple fault at boot 0\n");
	sys_triple_fault();
}
